package fleet

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/phoenix-rollouts/phoenix/shared/awserr"
	"github.com/phoenix-rollouts/phoenix/shared/lifecycle"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// ImageLifecycleAPI is the part of the EC2 client the image lifecycle
// (lifecycle.Images) uses: EC2API's reads of images and template versions,
// and the operations only the nightly run calls, kept out of EC2API so
// that the rollout path's interface does not grow by them.
type ImageLifecycleAPI interface {
	EC2API
	DescribeImageAttribute(ctx context.Context, in *ec2.DescribeImageAttributeInput, optFns ...func(*ec2.Options)) (*ec2.DescribeImageAttributeOutput, error)
	DescribeImageReferences(ctx context.Context, in *ec2.DescribeImageReferencesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeImageReferencesOutput, error)
	DescribeLaunchTemplates(ctx context.Context, in *ec2.DescribeLaunchTemplatesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplatesOutput, error)
	DeleteLaunchTemplateVersions(ctx context.Context, in *ec2.DeleteLaunchTemplateVersionsInput, optFns ...func(*ec2.Options)) (*ec2.DeleteLaunchTemplateVersionsOutput, error)
	EnableImageDeprecation(ctx context.Context, in *ec2.EnableImageDeprecationInput, optFns ...func(*ec2.Options)) (*ec2.EnableImageDeprecationOutput, error)
	DisableImageDeprecation(ctx context.Context, in *ec2.DisableImageDeprecationInput, optFns ...func(*ec2.Options)) (*ec2.DisableImageDeprecationOutput, error)
	DisableImage(ctx context.Context, in *ec2.DisableImageInput, optFns ...func(*ec2.Options)) (*ec2.DisableImageOutput, error)
	EnableImage(ctx context.Context, in *ec2.EnableImageInput, optFns ...func(*ec2.Options)) (*ec2.EnableImageOutput, error)
	EnableImageDeregistrationProtection(ctx context.Context, in *ec2.EnableImageDeregistrationProtectionInput, optFns ...func(*ec2.Options)) (*ec2.EnableImageDeregistrationProtectionOutput, error)
	DisableImageDeregistrationProtection(ctx context.Context, in *ec2.DisableImageDeregistrationProtectionInput, optFns ...func(*ec2.Options)) (*ec2.DisableImageDeregistrationProtectionOutput, error)
	DeregisterImage(ctx context.Context, in *ec2.DeregisterImageInput, optFns ...func(*ec2.Options)) (*ec2.DeregisterImageOutput, error)
}

var (
	_ lifecycle.Images  = (*Fleet)(nil)
	_ ImageLifecycleAPI = (*ec2.Client)(nil)
)

// Limits of the EC2 operations the image lifecycle calls.
const (
	// referenceBatch is DescribeImageReferences' ImageId.N maximum.
	referenceBatch = 10
	// maxVersionDepth makes DescribeImageReferences check every version of
	// a launch template (its default is the 10 most recent; 10000 is both
	// its maximum and AWS's limit on a template's versions).
	maxVersionDepth = "10000"
	// versionsPage is DescribeLaunchTemplateVersions' MaxResults maximum,
	// imagesPage DescribeImages'.
	versionsPage = 200
	imagesPage   = 1000
	// templateBatch bounds the ids of one DescribeLaunchTemplates request,
	// which documents no limit of its own.
	templateBatch = 200
	templateKind  = "launch template"
	imageKind     = "image"
)

// codeIncorrectState is EC2's common client error "the resource is in an
// incorrect state for the request" (API Reference, "Error codes"). No
// operation of the image stages documents a code of its own for an image
// already in the wanted state; the local cloud answers IncorrectState to
// DisableImage of an image that is not available and EnableImage of one
// that is not disabled. Either way the adapter reads the image back and
// succeeds only if it is in the wanted state, so an IncorrectState for any
// other reason (a pending image) stays an error.
const codeIncorrectState = "IncorrectState"

// codeAuthFailure is EC2's answer to a read of another account's image
// attribute.
const codeAuthFailure = "AuthFailure"

// protectionOn starts every DeregistrationProtection value of a protected
// image: "enabled-with-cooldown", "enabled-without-cooldown". A value
// "disabled after <time>" (the cooldown after a with-cooldown protection
// was lifted) reads as unprotected: its owner lifted it, and DeregisterImage
// is refused only until the cooldown ends.
const protectionOn = "enabled"

// instanceStatesButTerminated are DescribeImageReferences' state-name
// values for an instance that still holds its image.
var instanceStatesButTerminated = []string{
	string(ec2types.InstanceStateNamePending), string(ec2types.InstanceStateNameRunning),
	string(ec2types.InstanceStateNameShuttingDown), string(ec2types.InstanceStateNameStopping),
	string(ec2types.InstanceStateNameStopped),
}

// referenceKinds maps DescribeImageReferences' resource types to
// lifecycle.Reference kinds; a type not listed keeps its own name, which
// the plan keeps the image for.
var referenceKinds = map[ec2types.ImageReferenceResourceType]string{
	ec2types.ImageReferenceResourceTypeEc2Instance:                 "instance",
	ec2types.ImageReferenceResourceTypeEc2LaunchTemplate:           "launch-template",
	ec2types.ImageReferenceResourceTypeSsmParameter:                "ssm-parameter",
	ec2types.ImageReferenceResourceTypeImageBuilderImageRecipe:     "image-recipe",
	ec2types.ImageReferenceResourceTypeImageBuilderContainerRecipe: "image-recipe",
}

// lifecycleEC2 returns the region's EC2 client with the image lifecycle's
// operations. Clients.EC2 is declared as EC2API; New fills it with the
// SDK's *ec2.Client, which has them all (the assertion above checks it).
func (f *Fleet) lifecycleEC2(region string) (ImageLifecycleAPI, error) {
	c := f.clients(region).EC2
	lc, ok := c.(ImageLifecycleAPI)
	if !ok {
		return nil, fmt.Errorf("the EC2 client for %s (%T) lacks the image lifecycle operations", region, c)
	}
	return lc, nil
}

// Templates returns the launch templates with every version, oldest
// version first, ordered by id. A template deleted since the caller named
// it is left out: it has no versions left to keep or delete.
func (f *Fleet) Templates(ctx context.Context, region string, ids []string) ([]lifecycle.Template, error) {
	ec2c, err := f.lifecycleEC2(region)
	if err != nil {
		return nil, err
	}
	var found []ec2types.LaunchTemplate
	err = eachBatch(uniqueSorted(ids), templateBatch, func(batch []string) error {
		var got []ec2types.LaunchTemplate
		p := ec2.NewDescribeLaunchTemplatesPaginator(ec2c, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: batch})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				id := strings.Join(batch, ",")
				return awserr.Classify("describe launch templates "+id, err, templateKind, id, templateNotFound...)
			}
			got = append(got, page.LaunchTemplates...)
		}
		found = append(found, got...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]lifecycle.Template, 0, len(found))
	for _, lt := range found {
		id := aws.ToString(lt.LaunchTemplateId)
		versions, err := allVersions(ctx, ec2c, id)
		if notFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, lifecycle.Template{
			ID: id, Name: aws.ToString(lt.LaunchTemplateName), Region: region,
			Default: aws.ToInt64(lt.DefaultVersionNumber), Versions: versions, Tags: tagMap(lt.Tags),
		})
	}
	slices.SortFunc(out, func(a, b lifecycle.Template) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// allVersions returns every version of a template, oldest first.
func allVersions(ctx context.Context, ec2c ImageLifecycleAPI, templateID string) ([]lifecycle.Version, error) {
	var out []lifecycle.Version
	p := ec2.NewDescribeLaunchTemplateVersionsPaginator(ec2c, &ec2.DescribeLaunchTemplateVersionsInput{
		LaunchTemplateId: aws.String(templateID), MaxResults: aws.Int32(versionsPage),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, awserr.Classify("describe versions of launch template "+templateID, err, templateKind, templateID, templateNotFound...)
		}
		for _, v := range page.LaunchTemplateVersions {
			tv := templateVersionFrom(templateID, v)
			out = append(out, lifecycle.Version{Number: tv.Number, ImageID: tv.ImageID})
		}
	}
	slices.SortFunc(out, func(a, b lifecycle.Version) int { return cmp.Compare(a.Number, b.Number) })
	return out, nil
}

// OwnImages returns this account's AMIs in the region, deprecated and
// disabled ones included (DescribeImages leaves disabled images out unless
// asked). Shared is set when the image is public or its launchPermission
// attribute names any account, organization or OU: DescribeImages shows
// only the public flag, so each image Phoenix could retire (available or
// disabled) is asked about with one DescribeImageAttribute; a pending,
// failed or deregistered image is not (the plan keeps or skips it anyway).
// An image deregistered between the listing and its attribute read is left
// out: there is nothing left to retire. SnapshotGiB sums the sizes of the
// EBS mappings backed by a snapshot, each snapshot once: an empty EBS
// volume has no snapshot to pay for. References and Ledger are left for
// the caller.
func (f *Fleet) OwnImages(ctx context.Context, region string) ([]lifecycle.Image, error) {
	ec2c, err := f.lifecycleEC2(region)
	if err != nil {
		return nil, err
	}
	var out []lifecycle.Image
	p := ec2.NewDescribeImagesPaginator(ec2c, &ec2.DescribeImagesInput{
		Owners: []string{"self"}, IncludeDeprecated: aws.Bool(true), IncludeDisabled: aws.Bool(true),
		MaxResults: aws.Int32(imagesPage),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, awserr.Classify("describe own images in "+region, err, imageKind, "self")
		}
		for _, img := range page.Images {
			li := lifecycleImageFrom(region, img)
			if !li.Shared && retirable(img.State) {
				shared, err := sharedWithOthers(ctx, ec2c, li.ID)
				if notFound(err) {
					continue
				}
				if err != nil {
					return nil, err
				}
				li.Shared = shared
			}
			out = append(out, li)
		}
	}
	return out, nil
}

// OwnImage reads one of the region's images by id, in whatever state, as
// OwnImages describes it. An image EC2 no longer lists is a
// *rollout.NotFoundError.
func (f *Fleet) OwnImage(ctx context.Context, region, imageID string) (lifecycle.Image, error) {
	ec2c, err := f.lifecycleEC2(region)
	if err != nil {
		return lifecycle.Image{}, err
	}
	img, err := ownImage(ctx, ec2c, imageID)
	if err != nil {
		return lifecycle.Image{}, err
	}
	li := lifecycleImageFrom(region, img)
	if !li.Shared && retirable(img.State) {
		li.Shared, err = sharedWithOthers(ctx, ec2c, li.ID)
		if awserr.Code(err) == codeAuthFailure {
			// EC2 shows launch permissions to the owner only: this image is
			// another account's (shared with this one), which its Owner
			// says; whom else it is shared with is not this account's to
			// know.
			return li, nil
		}
		if err != nil {
			return lifecycle.Image{}, err
		}
	}
	return li, nil
}

// retirable reports whether an image in state is one a plan could retire,
// so that whom it is shared with matters: available or disabled.
func retirable(state ec2types.ImageState) bool {
	return state == ec2types.ImageStateAvailable || state == ec2types.ImageStateDisabled
}

// sharedWithOthers reads the image's launchPermission attribute and
// reports whether it grants any launch permission: group "all", an
// account, an organization or an OU. An image EC2 no longer finds is a
// *rollout.NotFoundError.
func sharedWithOthers(ctx context.Context, ec2c ImageLifecycleAPI, imageID string) (bool, error) {
	out, err := ec2c.DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{
		ImageId: aws.String(imageID), Attribute: ec2types.ImageAttributeNameLaunchPermission,
	})
	if err != nil {
		return false, classifyImageCall("describe the launch permissions of", imageID, err)
	}
	for _, lp := range out.LaunchPermissions {
		if lp.Group != "" || aws.ToString(lp.UserId) != "" || aws.ToString(lp.OrganizationArn) != "" || aws.ToString(lp.OrganizationalUnitArn) != "" {
			return true, nil
		}
	}
	return false, nil
}

// lifecycleImageFrom maps the SDK's image; an unparsable DeprecationTime
// reads as not deprecated, as an unparsable CreationDate reads as zero.
func lifecycleImageFrom(region string, img ec2types.Image) lifecycle.Image {
	ri := imageFrom(img)
	out := lifecycle.Image{
		ID: ri.ID, Region: region, Owner: ri.OwnerID, Created: ri.CreatedAt, Tags: ri.Tags, State: ri.State,
		Protected: strings.HasPrefix(aws.ToString(img.DeregistrationProtection), protectionOn),
		Shared:    aws.ToBool(img.Public),
	}
	out.DeprecatedAt = deprecationTime(img)
	for _, gib := range snapshotSizes(img) {
		out.SnapshotGiB += gib
	}
	return out
}

// deprecationTime returns the image's DeprecationTime, zero when it has
// none or EC2's text does not parse.
func deprecationTime(img ec2types.Image) time.Time {
	t, err := time.Parse(time.RFC3339, aws.ToString(img.DeprecationTime))
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// snapshotSizes returns the GiB of each snapshot behind the image's EBS
// mappings, by snapshot id. The mapping's VolumeSize is the size of the
// volume made from the snapshot, never smaller than the snapshot.
func snapshotSizes(img ec2types.Image) map[string]int64 {
	out := map[string]int64{}
	for _, m := range img.BlockDeviceMappings {
		if m.Ebs == nil || aws.ToString(m.Ebs.SnapshotId) == "" {
			continue
		}
		out[aws.ToString(m.Ebs.SnapshotId)] = int64(aws.ToInt32(m.Ebs.VolumeSize))
	}
	return out
}

// References returns, per AMI, what EC2 says references it: every
// resource type DescribeImageReferences checks, instances in every state
// but terminated, and every version of each launch template (not only its
// 10 most recent). EC2 names a launch template, not its version, so a
// launch-template Reference has Version 0. An image deregistered since the
// caller listed it has no entry.
func (f *Fleet) References(ctx context.Context, region string, imageIDs []string) (map[string][]lifecycle.Reference, error) {
	ec2c, err := f.lifecycleEC2(region)
	if err != nil {
		return nil, err
	}
	out := map[string][]lifecycle.Reference{}
	err = eachBatch(uniqueSorted(imageIDs), referenceBatch, func(batch []string) error {
		refs, err := imageReferences(ctx, ec2c, batch)
		if err != nil {
			return err
		}
		for _, r := range refs {
			id := aws.ToString(r.ImageId)
			out[id] = append(out[id], referenceFrom(r))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// imageReferences asks DescribeImageReferences about at most
// referenceBatch images, every page.
func imageReferences(ctx context.Context, ec2c ImageLifecycleAPI, ids []string) ([]ec2types.ImageReference, error) {
	// IncludeAllResourceTypes brings in types added after this code; the
	// two named types override its defaults (every instance state, the 10
	// most recent template versions).
	in := &ec2.DescribeImageReferencesInput{
		ImageIds:                ids,
		IncludeAllResourceTypes: aws.Bool(true),
		ResourceTypes: []ec2types.ResourceTypeRequest{
			{ResourceType: ec2types.ImageReferenceResourceTypeEc2Instance, ResourceTypeOptions: []ec2types.ResourceTypeOption{
				{OptionName: ec2types.ImageReferenceOptionNameStateName, OptionValues: instanceStatesButTerminated},
			}},
			{ResourceType: ec2types.ImageReferenceResourceTypeEc2LaunchTemplate, ResourceTypeOptions: []ec2types.ResourceTypeOption{
				{OptionName: ec2types.ImageReferenceOptionNameVersionDepth, OptionValues: []string{maxVersionDepth}},
			}},
		},
	}
	var out []ec2types.ImageReference
	p := ec2.NewDescribeImageReferencesPaginator(ec2c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			id := strings.Join(ids, ",")
			return nil, awserr.Classify("describe image references of "+id, err, imageKind, id, imageNotFound...)
		}
		out = append(out, page.ImageReferences...)
	}
	return out, nil
}

// referenceFrom maps one of EC2's image references.
func referenceFrom(r ec2types.ImageReference) lifecycle.Reference {
	kind, ok := referenceKinds[r.ResourceType]
	if !ok {
		kind = string(r.ResourceType)
	}
	return lifecycle.Reference{Kind: kind, ARN: aws.ToString(r.Arn)}
}

// DeleteVersions deletes at most lifecycle.MaxVersionsPerDelete versions
// of one template and returns those deleted, in order. EC2 answers each
// version in the response, not with an error: launchTemplateVersionDoesNotExist
// counts as deleted; the default version comes back as unexpectedError and
// stays, as does any other version EC2 refuses (logged with EC2's message).
// A template that does not exist is a *rollout.NotFoundError.
func (f *Fleet) DeleteVersions(ctx context.Context, region, templateID string, versions []int64) ([]int64, error) {
	if len(versions) == 0 {
		return nil, nil
	}
	if len(versions) > lifecycle.MaxVersionsPerDelete {
		return nil, fmt.Errorf("delete versions of launch template %s: %d versions, at most %d a request", templateID, len(versions), lifecycle.MaxVersionsPerDelete)
	}
	ec2c, err := f.lifecycleEC2(region)
	if err != nil {
		return nil, err
	}
	in := &ec2.DeleteLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(templateID)}
	for _, v := range versions {
		in.Versions = append(in.Versions, strconv.FormatInt(v, 10))
	}
	out, err := ec2c.DeleteLaunchTemplateVersions(ctx, in)
	if err != nil {
		return nil, awserr.Classify("delete versions of launch template "+templateID, err, templateKind, templateID, templateNotFound...)
	}
	var deleted []int64
	for _, s := range out.SuccessfullyDeletedLaunchTemplateVersions {
		deleted = append(deleted, aws.ToInt64(s.VersionNumber))
	}
	for _, e := range out.UnsuccessfullyDeletedLaunchTemplateVersions {
		var code ec2types.LaunchTemplateErrorCode
		var msg string
		if e.ResponseError != nil {
			code, msg = e.ResponseError.Code, aws.ToString(e.ResponseError.Message)
		}
		switch code {
		case ec2types.LaunchTemplateErrorCodeLaunchTemplateVersionDoesNotExist:
			deleted = append(deleted, aws.ToInt64(e.VersionNumber))
		case ec2types.LaunchTemplateErrorCodeLaunchTemplateIdDoesNotExist, ec2types.LaunchTemplateErrorCodeLaunchTemplateIdMalformed:
			return nil, &rollout.NotFoundError{Kind: templateKind, ID: templateID}
		default:
			f.log.WarnContext(ctx, "EC2 kept a launch template version Phoenix asked it to delete", "region", region,
				"launchTemplateId", templateID, "version", aws.ToInt64(e.VersionNumber), "code", string(code), "message", msg)
		}
	}
	slices.Sort(deleted)
	f.changed(ctx, "deleted launch template versions", "region", region, "launchTemplateId", templateID, "versions", deleted)
	return deleted, nil
}

// Deprecate sets the image's deprecation time to at, rounded up to the
// minute: EC2 rounds seconds to the nearest minute, which could move at
// into the past, and refuses a time in the past. An image already
// deprecated at or before that time is left as it is, so that a repeat
// succeeds after at has passed and never makes a deprecated image
// available again.
func (f *Fleet) Deprecate(ctx context.Context, region, imageID string, at time.Time) error {
	ec2c, err := f.lifecycleEC2(region)
	if err != nil {
		return err
	}
	at = ceilMinute(at)
	img, err := ownImage(ctx, ec2c, imageID)
	if err != nil {
		return err
	}
	if cur := deprecationTime(img); !cur.IsZero() && !cur.After(at) {
		return nil
	}
	_, err = ec2c.EnableImageDeprecation(ctx, &ec2.EnableImageDeprecationInput{ImageId: aws.String(imageID), DeprecateAt: aws.Time(at)})
	if err != nil {
		return classifyImageCall("deprecate", imageID, err)
	}
	f.changed(ctx, "deprecated image", "region", region, "imageId", imageID, "deprecateAt", at)
	return nil
}

// ceilMinute rounds t up to a whole minute.
func ceilMinute(t time.Time) time.Time {
	m := t.UTC().Truncate(time.Minute)
	if m.Before(t) {
		m = m.Add(time.Minute)
	}
	return m
}

// Disable disables the image (DisableImage). An image already disabled is
// success (IncorrectState, read back).
func (f *Fleet) Disable(ctx context.Context, region, imageID string) error {
	return f.changeImage(ctx, region, imageID, "disabled image", func(ec2c ImageLifecycleAPI) error {
		_, err := ec2c.DisableImage(ctx, &ec2.DisableImageInput{ImageId: aws.String(imageID)})
		return alreadyIn(ctx, ec2c, "disable", imageID, err, ec2types.ImageStateDisabled)
	})
}

// Restore enables the image (EnableImage) and cancels its deprecation
// (DisableImageDeprecation). An image already available is success
// (IncorrectState, read back); cancelling a deprecation the image does not
// have succeeds in EC2 and in the local cloud.
func (f *Fleet) Restore(ctx context.Context, region, imageID string) error {
	return f.changeImage(ctx, region, imageID, "restored image", func(ec2c ImageLifecycleAPI) error {
		_, err := ec2c.EnableImage(ctx, &ec2.EnableImageInput{ImageId: aws.String(imageID)})
		if err := alreadyIn(ctx, ec2c, "enable", imageID, err, ec2types.ImageStateAvailable); err != nil {
			return err
		}
		_, err = ec2c.DisableImageDeprecation(ctx, &ec2.DisableImageDeprecationInput{ImageId: aws.String(imageID)})
		return classifyImageCall("cancel the deprecation of", imageID, err)
	})
}

// Protect turns on the image's deregistration protection without cooldown,
// so that Unprotect makes it deregistrable at once. Turning it on again is
// accepted by EC2 and the local cloud alike.
func (f *Fleet) Protect(ctx context.Context, region, imageID string) error {
	return f.changeImage(ctx, region, imageID, "protected image from deregistration", func(ec2c ImageLifecycleAPI) error {
		_, err := ec2c.EnableImageDeregistrationProtection(ctx, &ec2.EnableImageDeregistrationProtectionInput{
			ImageId: aws.String(imageID), WithCooldown: aws.Bool(false),
		})
		return classifyImageCall("protect", imageID, err)
	})
}

// Unprotect lifts the image's deregistration protection; lifting it from an
// unprotected image is accepted.
func (f *Fleet) Unprotect(ctx context.Context, region, imageID string) error {
	return f.changeImage(ctx, region, imageID, "lifted deregistration protection", func(ec2c ImageLifecycleAPI) error {
		_, err := ec2c.DisableImageDeregistrationProtection(ctx, &ec2.DisableImageDeregistrationProtectionInput{ImageId: aws.String(imageID)})
		return classifyImageCall("unprotect", imageID, err)
	})
}

// changeImage runs one change to an image with the region's client, and
// logs it once it succeeded; change returns its error classified.
func (f *Fleet) changeImage(ctx context.Context, region, imageID, msg string, change func(ImageLifecycleAPI) error) error {
	ec2c, err := f.lifecycleEC2(region)
	if err != nil {
		return err
	}
	if err := change(ec2c); err != nil {
		return err
	}
	f.changed(ctx, msg, "region", region, "imageId", imageID)
	return nil
}

// Deregister deregisters the image with its snapshots and returns the GiB
// of the snapshots EC2 reports deleted. The sizes are read from the image's
// mappings first, since DeregisterImage answers snapshot ids only. A
// snapshot EC2 skips (another image uses it) or fails to delete is not
// counted; a failure is logged, since the image is gone and a repeat would
// not return to it. An image already deregistered is a
// *rollout.NotFoundError, which the caller takes as done.
func (f *Fleet) Deregister(ctx context.Context, region, imageID string) (int64, error) {
	ec2c, err := f.lifecycleEC2(region)
	if err != nil {
		return 0, err
	}
	img, err := ownImage(ctx, ec2c, imageID)
	if err != nil {
		return 0, err
	}
	if img.State == ec2types.ImageStateDeregistered {
		return 0, &rollout.NotFoundError{Kind: imageKind, ID: imageID}
	}
	sizes := snapshotSizes(img)
	out, err := ec2c.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(imageID), DeleteAssociatedSnapshots: aws.Bool(true)})
	if err != nil {
		return 0, classifyImageCall("deregister", imageID, err)
	}
	var gib int64
	for _, r := range out.DeleteSnapshotResults {
		id := aws.ToString(r.SnapshotId)
		switch r.ReturnCode {
		case ec2types.SnapshotReturnCodesSuccess:
			gib += sizes[id]
		case ec2types.SnapshotReturnCodesWarnSkipped:
		default:
			f.log.WarnContext(ctx, "EC2 deregistered an image but did not delete its snapshot", "region", region,
				"imageId", imageID, "snapshotId", id, "code", string(r.ReturnCode))
		}
	}
	f.changed(ctx, "deregistered image", "region", region, "imageId", imageID, "snapshotGiB", gib)
	return gib, nil
}

// ownImage reads one image of the account's by id, whatever its state
// (DescribeImages leaves a disabled image out unless asked). An image EC2
// no longer lists is a *rollout.NotFoundError.
func ownImage(ctx context.Context, ec2c ImageLifecycleAPI, imageID string) (ec2types.Image, error) {
	out, err := ec2c.DescribeImages(ctx, &ec2.DescribeImagesInput{
		ImageIds: []string{imageID}, IncludeDeprecated: aws.Bool(true), IncludeDisabled: aws.Bool(true),
	})
	if err != nil {
		return ec2types.Image{}, classifyImageCall("describe", imageID, err)
	}
	for _, img := range out.Images {
		if aws.ToString(img.ImageId) == imageID {
			return img, nil
		}
	}
	return ec2types.Image{}, &rollout.NotFoundError{Kind: imageKind, ID: imageID}
}

// alreadyIn turns err, the answer to a call that moves an image to state,
// into nil when it is IncorrectState and the image is in that state now;
// otherwise it returns err classified (nil stays nil).
func alreadyIn(ctx context.Context, ec2c ImageLifecycleAPI, op, imageID string, err error, state ec2types.ImageState) error {
	if awserr.Code(err) == codeIncorrectState {
		img, rerr := ownImage(ctx, ec2c, imageID)
		if rerr == nil && img.State == state {
			return nil
		}
	}
	return classifyImageCall(op, imageID, err)
}

// classifyImageCall classifies the error of a call that names an image
// (nil stays nil).
func classifyImageCall(op, imageID string, err error) error {
	return awserr.Classify(op+" image "+imageID, err, imageKind, imageID, imageNotFound...)
}

// eachBatch calls do with ids in batches of at most size. EC2 refuses a
// whole request when one of its ids names nothing, so a batch refused with
// a *rollout.NotFoundError is asked again id by id, and the ids that name
// nothing are left out: a resource gone since the caller listed it has
// nothing to report. do must record nothing from a call that fails.
func eachBatch(ids []string, size int, do func(batch []string) error) error {
	for start := 0; start < len(ids); start += size {
		batch := ids[start:min(start+size, len(ids))]
		err := do(batch)
		if !notFound(err) || len(batch) == 1 {
			if err != nil && !notFound(err) {
				return err
			}
			continue
		}
		for _, id := range batch {
			if err := do([]string{id}); err != nil && !notFound(err) {
				return err
			}
		}
	}
	return nil
}

// notFound reports whether err is a *rollout.NotFoundError.
func notFound(err error) bool {
	var nf *rollout.NotFoundError
	return errors.As(err, &nf)
}

// uniqueSorted returns ids sorted, without repeats or empty ids.
func uniqueSorted(ids []string) []string {
	out := slices.DeleteFunc(slices.Clone(ids), func(s string) bool { return s == "" })
	slices.Sort(out)
	return slices.Compact(out)
}

// tagMap turns EC2 tags into a map.
func tagMap(tags []ec2types.Tag) map[string]string {
	out := make(map[string]string, len(tags))
	for _, t := range tags {
		out[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return out
}
