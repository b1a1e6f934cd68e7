package sim

import (
	"context"
	"net/http"
	"regexp"
	"slices"
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
// loses all its launch permissions (public and shared alike; EnableImage
// does not bring them back), and DescribeImages leaves it out unless
// IncludeDisabled is set. Only the owner can disable an image.
func (e *EC2) DisableImage(ctx context.Context, in *ec2.DisableImageInput, _ ...func(*ec2.Options)) (*ec2.DisableImageOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	if err := w.moveImage(ctx, w.region(region), aws.ToString(in.ImageId), in.DryRun, ImageAvailable, ImageDisabled, "an available image can be disabled"); err != nil {
		return nil, err
	}
	return &ec2.DisableImageOutput{Return: aws.Bool(true)}, nil
}

// EnableImage makes a disabled image of the caller's available again
// (emitting its state-change event).
func (e *EC2) EnableImage(ctx context.Context, in *ec2.EnableImageInput, _ ...func(*ec2.Options)) (*ec2.EnableImageOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	if err := w.moveImage(ctx, w.region(region), aws.ToString(in.ImageId), in.DryRun, ImageDisabled, ImageAvailable, "a disabled image can be enabled"); err != nil {
		return nil, err
	}
	return &ec2.EnableImageOutput{Return: aws.Bool(true)}, nil
}

// moveImage moves one of the caller's images from one state to the other
// (DisableImage, EnableImage), emitting its state-change event; only says
// which image may move, for IncorrectState's message. Disabling removes
// every launch permission, public and shared alike, and enabling does not
// bring them back.
func (w *World) moveImage(ctx context.Context, r *Region, id string, dry *bool, from, to, only string) error {
	img, err := w.ownImage(r, id)
	if err != nil {
		return err
	}
	if img.State != from {
		return ec2Err("IncorrectState", "The image '%s' is %s; only %s.", img.ID, img.State, only)
	}
	if err := dryRun(dry); err != nil {
		return err
	}
	if to == ImageDisabled {
		img.Public = false
		img.SharedWith = nil
	}
	w.restampImageRequest(ctx, img)
	w.setImageState(r, img, to, "")
	return nil
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
	ec2types.ImageAttributeNameLaunchPermission:         true,
	ec2types.ImageAttributeNameProductCodes:             false,
	ec2types.ImageAttributeNameSriovNetSupport:          false,
	ec2types.ImageAttributeNameBootMode:                 false,
	ec2types.ImageAttributeNameTpmSupport:               false,
	ec2types.ImageAttributeNameUefiData:                 false,
	ec2types.ImageAttributeNameImdsSupport:              false,
}

// DescribeImageAttribute describes one attribute of an image the caller can
// see: description, blockDeviceMapping, deregistrationProtection,
// lastLaunchedTime (the last launch from the image, reported
// LastLaunchedDelay after it happened; no value before any is reported)
// and launchPermission (group "all" for a public image, then every account,
// organization and OU it is shared with; only the owner may read it,
// another account's image answers AuthFailure). The other attributes EC2
// knows are refused with an error naming them.
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
	if in.Attribute == ec2types.ImageAttributeNameLaunchPermission && img.OwnerID != w.account {
		return nil, api.Errorf(http.StatusUnauthorized, "AuthFailure", "Not authorized for image:%s", id)
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
	case ec2types.ImageAttributeNameLaunchPermission:
		out.LaunchPermissions = renderLaunchPermissions(img)
	}
	return out, nil
}

// renderLaunchPermissions renders img's launch permissions as
// DescribeImageAttribute does: group "all" first for a public image, then
// the accounts, organizations and OUs in the order they were added.
func renderLaunchPermissions(img *Image) []ec2types.LaunchPermission {
	out := []ec2types.LaunchPermission{}
	if img.Public {
		out = append(out, ec2types.LaunchPermission{Group: ec2types.PermissionGroupAll})
	}
	for _, p := range img.SharedWith {
		var lp ec2types.LaunchPermission
		switch {
		case p.UserID != "":
			lp.UserId = aws.String(p.UserID)
		case p.OrganizationARN != "":
			lp.OrganizationArn = aws.String(p.OrganizationARN)
		default:
			lp.OrganizationalUnitArn = aws.String(p.OrganizationalUnitARN)
		}
		out = append(out, lp)
	}
	return out
}

// The forms of a launch permission's items: a 12-digit account id, an
// organization's ARN and an OU's ARN (the AWS Organizations ARN formats).
var (
	accountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)
	orgARNPattern    = regexp.MustCompile(`^arn:aws[a-z-]*:organizations::[0-9]{12}:organization/o-[a-z0-9]{10,32}$`)
	ouARNPattern     = regexp.MustCompile(`^arn:aws[a-z-]*:organizations::[0-9]{12}:ou/o-[a-z0-9]{10,32}/ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`)
)

// launchItem is one item of a launch permission change: public (group
// "all") or one LaunchPermission.
type launchItem struct {
	public bool
	perm   LaunchPermission
}

// ModifyImageAttribute changes the launchPermission attribute of one of the
// caller's images, in either form EC2 accepts: LaunchPermission with Add
// and Remove lists of items (each one of Group "all", UserId,
// OrganizationArn or OrganizationalUnitArn), or the older OperationType
// (add | remove) with UserIds, UserGroups, OrganizationArns and
// OrganizationalUnitArns, which needs Attribute launchPermission. Group
// "all" makes the image public (DescribeImages' Public follows it). Removals
// apply before additions; adding a permission the image has, or removing
// one it lacks, changes nothing. A malformed item, a group other than
// "all", or the owner's own account answers InvalidAMIAttributeItemValue;
// another account's image AuthFailure. A disabled image cannot be shared
// (IncorrectState; EC2 documents that it cannot, not the code). The
// attributes description and imdsSupport, and ProductCodes ("not
// supported"), are refused as not modelled.
func (e *EC2) ModifyImageAttribute(ctx context.Context, in *ec2.ModifyImageAttributeInput, _ ...func(*ec2.Options)) (*ec2.ModifyImageAttributeOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	if aws.ToString(in.ImageId) == "" {
		return nil, ec2Err("MissingParameter", "The request must contain the parameter imageId")
	}
	add, remove, err := launchPermissionChange(in)
	if err != nil {
		return nil, err
	}
	img, err := w.ownImage(r, aws.ToString(in.ImageId))
	if err != nil {
		return nil, err
	}
	for _, it := range append(slices.Clone(add), remove...) {
		if it.perm.UserID == w.account {
			return nil, ec2Err("InvalidAMIAttributeItemValue", "Invalid attribute item value \"%s\" for userId item type: the owner of image %s already has launch permission.", it.perm.UserID, img.ID)
		}
	}
	if len(add) > 0 && img.State == ImageDisabled {
		return nil, ec2Err("IncorrectState", "The image '%s' is disabled; a disabled image cannot be shared.", img.ID)
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	for _, it := range remove {
		if it.public {
			img.Public = false
			continue
		}
		img.SharedWith = slices.DeleteFunc(img.SharedWith, func(p LaunchPermission) bool { return p == it.perm })
	}
	for _, it := range add {
		switch {
		case it.public:
			img.Public = true
		case !slices.Contains(img.SharedWith, it.perm):
			img.SharedWith = append(img.SharedWith, it.perm)
		}
	}
	return &ec2.ModifyImageAttributeOutput{}, nil
}

// launchPermissionChange reads the launch permission items a
// ModifyImageAttribute request adds and removes, checking each.
func launchPermissionChange(in *ec2.ModifyImageAttributeInput) (add, remove []launchItem, err error) {
	attr := aws.ToString(in.Attribute)
	legacy := in.OperationType != "" || len(in.UserIds) > 0 || len(in.UserGroups) > 0 ||
		len(in.OrganizationArns) > 0 || len(in.OrganizationalUnitArns) > 0
	switch {
	case attr == "description" || in.Description != nil || in.Value != nil:
		return nil, nil, api.InvalidParameterValue("The local cloud does not model the image attribute description in ModifyImageAttribute")
	case attr == "imdsSupport" || in.ImdsSupport != nil:
		return nil, nil, api.InvalidParameterValue("The local cloud does not model the image attribute imdsSupport in ModifyImageAttribute")
	case len(in.ProductCodes) > 0:
		return nil, nil, api.InvalidParameterValue("The local cloud does not model the parameter ProductCodes of ModifyImageAttribute")
	case attr != "" && attr != string(ec2types.ImageAttributeNameLaunchPermission):
		return nil, nil, api.InvalidParameterValue("Value (%s) for parameter attribute is invalid. Valid values are description, imdsSupport and launchPermission.", attr)
	case legacy && in.LaunchPermission != nil:
		return nil, nil, ec2Err("InvalidParameterCombination", "The parameter LaunchPermission cannot be used with the parameters OperationType, UserIds, UserGroups, OrganizationArns and OrganizationalUnitArns")
	}
	var items []ec2types.LaunchPermission
	if legacy {
		if attr == "" {
			return nil, nil, ec2Err("InvalidParameterCombination", "The parameters OperationType, UserIds, UserGroups, OrganizationArns and OrganizationalUnitArns can be used only when the Attribute parameter is launchPermission")
		}
		for _, g := range in.UserGroups {
			items = append(items, ec2types.LaunchPermission{Group: ec2types.PermissionGroup(g)})
		}
		for _, u := range in.UserIds {
			items = append(items, ec2types.LaunchPermission{UserId: aws.String(u)})
		}
		for _, a := range in.OrganizationArns {
			items = append(items, ec2types.LaunchPermission{OrganizationArn: aws.String(a)})
		}
		for _, a := range in.OrganizationalUnitArns {
			items = append(items, ec2types.LaunchPermission{OrganizationalUnitArn: aws.String(a)})
		}
	}
	var addIn, removeIn []ec2types.LaunchPermission
	switch {
	case in.LaunchPermission != nil:
		addIn, removeIn = in.LaunchPermission.Add, in.LaunchPermission.Remove
	case in.OperationType == ec2types.OperationTypeAdd:
		addIn = items
	case in.OperationType == ec2types.OperationTypeRemove:
		removeIn = items
	case in.OperationType == "" && legacy:
		return nil, nil, ec2Err("MissingParameter", "The request must contain the parameter operationType")
	case legacy:
		return nil, nil, api.InvalidParameterValue("Value (%s) for parameter operationType is invalid. Valid values are add and remove.", in.OperationType)
	}
	if len(addIn)+len(removeIn) == 0 {
		return nil, nil, ec2Err("MissingParameter", "The request must contain the parameter launchPermission")
	}
	if add, err = launchItems(addIn); err != nil {
		return nil, nil, err
	}
	if remove, err = launchItems(removeIn); err != nil {
		return nil, nil, err
	}
	return add, remove, nil
}

// launchItems checks and converts launch permission items: each names
// exactly one group, account, organization or OU, in its documented form.
func launchItems(in []ec2types.LaunchPermission) ([]launchItem, error) {
	out := make([]launchItem, 0, len(in))
	for _, lp := range in {
		n := 0
		for _, set := range []bool{lp.Group != "", lp.UserId != nil, lp.OrganizationArn != nil, lp.OrganizationalUnitArn != nil} {
			if set {
				n++
			}
		}
		if n != 1 {
			return nil, api.InvalidParameterValue("Each launch permission must name exactly one of Group, UserId, OrganizationArn and OrganizationalUnitArn")
		}
		bad := func(kind, value string) error {
			return ec2Err("InvalidAMIAttributeItemValue", "Invalid attribute item value \"%s\" for %s item type.", value, kind)
		}
		var it launchItem
		switch {
		case lp.Group != "":
			if lp.Group != ec2types.PermissionGroupAll {
				return nil, bad("group", string(lp.Group))
			}
			it.public = true
		case lp.UserId != nil:
			if !accountIDPattern.MatchString(*lp.UserId) {
				return nil, bad("userId", *lp.UserId)
			}
			it.perm.UserID = *lp.UserId
		case lp.OrganizationArn != nil:
			if !orgARNPattern.MatchString(*lp.OrganizationArn) {
				return nil, bad("organizationArn", *lp.OrganizationArn)
			}
			it.perm.OrganizationARN = *lp.OrganizationArn
		default:
			if !ouARNPattern.MatchString(*lp.OrganizationalUnitArn) {
				return nil, bad("organizationalUnitArn", *lp.OrganizationalUnitArn)
			}
			it.perm.OrganizationalUnitARN = *lp.OrganizationalUnitArn
		}
		out = append(out, it)
	}
	return out, nil
}
