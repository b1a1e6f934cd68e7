package sim

import (
	"context"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

// The AMI life stages after creation: deprecation, disabling,
// deregistration protection and the time of the last launch.

// ImageDisabled is the state DisableImage puts an image in.
const ImageDisabled = "disabled"

// Deregistration protection settings, as DescribeImages shows them.
const (
	ProtectionWithCooldown    = "enabled-with-cooldown"
	ProtectionWithoutCooldown = "enabled-without-cooldown"
	protectionDisabled        = "disabled"
	// protectionCooldownPrefix starts the value shown while the cooldown
	// that follows disabling a with-cooldown protection runs.
	protectionCooldownPrefix = "disabled after "
)

// ProtectionCooldown is how long an image whose deregistration protection
// was enabled WithCooldown stays protected after the protection is disabled
// (EnableImageDeregistrationProtection: "enforces deregistration protection
// for 24 hours after deregistration protection is disabled").
const ProtectionCooldown = 24 * time.Hour

// LastLaunchedDelay is how long after a launch EC2 reports it in an image's
// lastLaunchedTime ("there is a 24-hour delay before that usage is
// reported").
const LastLaunchedDelay = 24 * time.Hour

// maxDeprecationAhead is how far ahead EnableImageDeprecation may set the
// deprecation time: 10 years from now; 2 years from the creation date for a
// public image.
const (
	maxDeprecationAhead       = 10 * 365 * 24 * time.Hour
	maxPublicDeprecationAhead = 2 * 365 * 24 * time.Hour
)

// ownImage finds an image the caller owns and may change, with EC2's errors:
// malformed or unknown ids, another account's image (AuthFailure) and a
// deregistered image (InvalidAMIID.Unavailable).
func (w *World) ownImage(r *Region, id string) (*Image, error) {
	if id == "" {
		return nil, ec2Err("MissingParameter", "The request must contain the parameter imageId")
	}
	if !amiIDPattern.MatchString(id) {
		return nil, ec2Err("InvalidAMIID.Malformed", "Invalid id: \"%s\" (expecting \"ami-...\")", id)
	}
	img, ok := r.Images[id]
	if !ok || !w.imageVisible(img) || (img.State == ImageDeregistered && !w.imageListed(img)) {
		return nil, ec2Err("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", id)
	}
	if img.OwnerID != w.account {
		return nil, api.Errorf(http.StatusUnauthorized, "AuthFailure", "Not authorized for image:%s", id)
	}
	if img.State == ImageDeregistered {
		return nil, ec2Err("InvalidAMIID.Unavailable", "The image id '[%s]' is no longer available", id)
	}
	return img, nil
}

// imageDeprecated reports whether img's deprecation time has passed.
func (w *World) imageDeprecated(img *Image) bool {
	return !img.DeprecationTime.IsZero() && !w.now().Before(img.DeprecationTime)
}

// protectionValue is the DeregistrationProtection DescribeImages shows.
func (w *World) protectionValue(img *Image) string {
	if img.Protection != "" {
		return img.Protection
	}
	if w.now().Before(img.ProtectedUntil) {
		return protectionCooldownPrefix + ec2Time(img.ProtectedUntil)
	}
	return protectionDisabled
}

// checkDeregistrable refuses to deregister a protected image.
func (w *World) checkDeregistrable(img *Image) error {
	if img.Protection != "" {
		return ec2Err("OperationNotPermitted", "The image %s has deregistration protection enabled. Disable deregistration protection, then deregister the image.", img.ID)
	}
	if w.now().Before(img.ProtectedUntil) {
		return ec2Err("OperationNotPermitted", "The image %s cannot be deregistered until its deregistration protection cooldown ends at %s.", img.ID, ec2Time(img.ProtectedUntil))
	}
	return nil
}

// recordLaunch notes that an instance was launched from img now.
func (w *World) recordLaunch(img *Image) {
	img.launches = append(img.launches, w.now())
}

// lastLaunchedTime returns the last launch from img that EC2 reports:
// launches show up LastLaunchedDelay after they happen. Zero when none is
// reported yet.
func (w *World) lastLaunchedTime(img *Image) time.Time {
	cutoff := w.now().Add(-LastLaunchedDelay)
	n := 0
	for n < len(img.launches) && !img.launches[n].After(cutoff) {
		img.lastLaunched = img.launches[n]
		n++
	}
	img.launches = img.launches[n:]
	return img.lastLaunched
}

// iso8601 renders t as EC2 renders lastLaunchedTime.
func iso8601(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// EnableImageDeprecation sets the time at which one of the caller's images
// is deprecated. As EC2 documents, the seconds are rounded to the nearest
// minute, the time cannot be in the past, and it can be at most 10 years
// from now (2 years from the creation date for a public image).
func (e *EC2) EnableImageDeprecation(ctx context.Context, in *ec2.EnableImageDeprecationInput, _ ...func(*ec2.Options)) (*ec2.EnableImageDeprecationOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	img, err := w.ownImage(r, aws.ToString(in.ImageId))
	if err != nil {
		return nil, err
	}
	if in.DeprecateAt == nil {
		return nil, ec2Err("MissingParameter", "The request must contain the parameter DeprecateAt")
	}
	at := in.DeprecateAt.UTC().Round(time.Minute)
	now := w.now()
	if in.DeprecateAt.Before(now) {
		return nil, api.InvalidParameterValue("The deprecation time %s is in the past. Specify a time in the future.", ec2Time(*in.DeprecateAt))
	}
	if img.Public && at.After(img.CreationDate.Add(maxPublicDeprecationAhead)) {
		return nil, api.InvalidParameterValue("The deprecation time of a public AMI can be at most 2 years after its creation date (%s).", ec2Time(img.CreationDate))
	}
	if at.After(now.Add(maxDeprecationAhead)) {
		return nil, api.InvalidParameterValue("The deprecation time %s is more than 10 years from now.", ec2Time(at))
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	img.DeprecationTime = at
	return &ec2.EnableImageDeprecationOutput{Return: aws.Bool(true)}, nil
}

// DisableImageDeprecation cancels the deprecation of one of the caller's
// images, whether or not its time has come.
func (e *EC2) DisableImageDeprecation(ctx context.Context, in *ec2.DisableImageDeprecationInput, _ ...func(*ec2.Options)) (*ec2.DisableImageDeprecationOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	img, err := w.ownImage(r, aws.ToString(in.ImageId))
	if err != nil {
		return nil, err
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	img.DeprecationTime = time.Time{}
	return &ec2.DisableImageDeprecationOutput{Return: aws.Bool(true)}, nil
}

// DisableImage puts one of the caller's available images in the disabled
// state (emitting its "EC2 AMI State Change" event): it cannot be launched,
// is made private, and DescribeImages leaves it out unless IncludeDisabled
// is set. Only the owner can disable an image.
func (e *EC2) DisableImage(ctx context.Context, in *ec2.DisableImageInput, _ ...func(*ec2.Options)) (*ec2.DisableImageOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	img, err := w.ownImage(r, aws.ToString(in.ImageId))
	if err != nil {
		return nil, err
	}
	if img.State != ImageAvailable {
		return nil, ec2Err("IncorrectState", "The image '%s' is %s; only an available image can be disabled.", img.ID, img.State)
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	img.Public = false
	w.restampImageRequest(ctx, img)
	w.setImageState(r, img, ImageDisabled, "")
	return &ec2.DisableImageOutput{Return: aws.Bool(true)}, nil
}

// EnableImage makes a disabled image of the caller's available again
// (emitting its state-change event).
func (e *EC2) EnableImage(ctx context.Context, in *ec2.EnableImageInput, _ ...func(*ec2.Options)) (*ec2.EnableImageOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	img, err := w.ownImage(r, aws.ToString(in.ImageId))
	if err != nil {
		return nil, err
	}
	if img.State != ImageDisabled {
		return nil, ec2Err("IncorrectState", "The image '%s' is %s; only a disabled image can be enabled.", img.ID, img.State)
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	w.restampImageRequest(ctx, img)
	w.setImageState(r, img, ImageAvailable, "")
	return &ec2.EnableImageOutput{Return: aws.Bool(true)}, nil
}

// restampImageRequest records the request now changing img's state, whose
// id the state-change event carries.
func (w *World) restampImageRequest(ctx context.Context, img *Image) {
	img.requestID = api.RequestFrom(ctx).RequestID
	if img.requestID == "" {
		img.requestID = w.uuid()
	}
}

// EnableImageDeregistrationProtection protects one of the caller's images
// from DeregisterImage. With WithCooldown, the protection lasts
// ProtectionCooldown after it is disabled.
func (e *EC2) EnableImageDeregistrationProtection(ctx context.Context, in *ec2.EnableImageDeregistrationProtectionInput, _ ...func(*ec2.Options)) (*ec2.EnableImageDeregistrationProtectionOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	img, err := w.ownImage(r, aws.ToString(in.ImageId))
	if err != nil {
		return nil, err
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	img.Protection = ProtectionWithoutCooldown
	if aws.ToBool(in.WithCooldown) {
		img.Protection = ProtectionWithCooldown
	}
	img.ProtectedUntil = time.Time{}
	return &ec2.EnableImageDeregistrationProtectionOutput{Return: aws.String("true")}, nil
}

// DisableImageDeregistrationProtection lifts the protection. If it was
// enabled WithCooldown, the image still cannot be deregistered for
// ProtectionCooldown, and DescribeImages shows "disabled after" the time
// the cooldown ends.
func (e *EC2) DisableImageDeregistrationProtection(ctx context.Context, in *ec2.DisableImageDeregistrationProtectionInput, _ ...func(*ec2.Options)) (*ec2.DisableImageDeregistrationProtectionOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	img, err := w.ownImage(r, aws.ToString(in.ImageId))
	if err != nil {
		return nil, err
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	if img.Protection == ProtectionWithCooldown {
		img.ProtectedUntil = w.now().Add(ProtectionCooldown)
	}
	img.Protection = ""
	return &ec2.DisableImageDeregistrationProtectionOutput{Return: aws.String("true")}, nil
}

// imageAttributes are the attributes DescribeImageAttribute knows; the
// model answers those it models and refuses the others by name.
var imageAttributes = map[ec2types.ImageAttributeName]bool{
	ec2types.ImageAttributeNameDescription:              true,
	ec2types.ImageAttributeNameLastLaunchedTime:         true,
	ec2types.ImageAttributeNameDeregistrationProtection: true,
	ec2types.ImageAttributeNameBlockDeviceMapping:       true,
	ec2types.ImageAttributeNameKernel:                   false,
	ec2types.ImageAttributeNameRamdisk:                  false,
	ec2types.ImageAttributeNameLaunchPermission:         false,
	ec2types.ImageAttributeNameProductCodes:             false,
	ec2types.ImageAttributeNameSriovNetSupport:          false,
	ec2types.ImageAttributeNameBootMode:                 false,
	ec2types.ImageAttributeNameTpmSupport:               false,
	ec2types.ImageAttributeNameUefiData:                 false,
	ec2types.ImageAttributeNameImdsSupport:              false,
}

// DescribeImageAttribute describes one attribute of an image the caller can
// see: description, blockDeviceMapping, deregistrationProtection and
// lastLaunchedTime (the last launch from the image, reported
// LastLaunchedDelay after it happened; no value before any is reported).
// The other attributes EC2 knows are refused with an error naming them.
func (e *EC2) DescribeImageAttribute(ctx context.Context, in *ec2.DescribeImageAttributeInput, _ ...func(*ec2.Options)) (*ec2.DescribeImageAttributeOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	id := aws.ToString(in.ImageId)
	if id == "" {
		return nil, ec2Err("MissingParameter", "The request must contain the parameter imageId")
	}
	if in.Attribute == "" {
		return nil, ec2Err("MissingParameter", "The request must contain the parameter attribute")
	}
	modelled, known := imageAttributes[in.Attribute]
	if !known {
		return nil, api.InvalidParameterValue("Value (%s) for parameter attribute is invalid. Unknown attribute.", in.Attribute)
	}
	if !modelled {
		return nil, api.InvalidParameterValue("The local cloud does not model the image attribute %s", in.Attribute)
	}
	if !amiIDPattern.MatchString(id) {
		return nil, ec2Err("InvalidAMIID.Malformed", "Invalid id: \"%s\" (expecting \"ami-...\")", id)
	}
	img, ok := r.Images[id]
	if !ok || !w.imageVisible(img) || (img.State == ImageDeregistered && !w.imageListed(img)) {
		return nil, ec2Err("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", id)
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	out := &ec2.DescribeImageAttributeOutput{ImageId: aws.String(id)}
	switch in.Attribute {
	case ec2types.ImageAttributeNameDescription:
		out.Description = &ec2types.AttributeValue{}
		if img.Description != "" {
			out.Description.Value = aws.String(img.Description)
		}
	case ec2types.ImageAttributeNameLastLaunchedTime:
		out.LastLaunchedTime = &ec2types.AttributeValue{}
		if t := w.lastLaunchedTime(img); !t.IsZero() {
			out.LastLaunchedTime.Value = aws.String(iso8601(t))
		}
	case ec2types.ImageAttributeNameDeregistrationProtection:
		out.DeregistrationProtection = &ec2types.AttributeValue{Value: aws.String(w.protectionValue(img))}
	case ec2types.ImageAttributeNameBlockDeviceMapping:
		out.BlockDeviceMappings = renderBlockDevices(img.BlockDevices)
	}
	return out, nil
}
