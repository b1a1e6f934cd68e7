package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/phoenix-rollouts/phoenix/shared/awserr"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// templateNotFound lists EC2's codes for a launch template or version that
// does not exist (a malformed id names nothing that could exist either).
var templateNotFound = []string{
	"InvalidLaunchTemplateId.NotFound", "InvalidLaunchTemplateId.Malformed",
	"InvalidLaunchTemplateId.VersionNotFound", "InvalidLaunchTemplateName.NotFoundException",
}

// imageNotFound lists EC2's codes for an image that does not exist or can
// no longer be used.
var imageNotFound = []string{"InvalidAMIID.NotFound", "InvalidAMIID.Malformed", "InvalidAMIID.Unavailable"}

// Limits of EC2 request members.
const (
	maxClientToken      = 64
	maxDescription      = 255
	instanceTypeBatch   = 100
	templateVersionKind = "launch template version"
)

// ResolveVersion turns a version as written ("$Latest", "$Default", "" or a
// number) into the numbered version it means now. A missing template or
// version is a *rollout.NotFoundError.
func (f *Fleet) ResolveVersion(ctx context.Context, region, launchTemplateID, version string) (rollout.TemplateVersion, error) {
	if version == "" {
		version = "$Default"
	}
	id := launchTemplateID + ":" + version
	out, err := f.clients(region).EC2.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{
		LaunchTemplateId: aws.String(launchTemplateID),
		Versions:         []string{version},
	})
	if err != nil {
		return rollout.TemplateVersion{}, awserr.Classify("describe launch template version "+id, err, templateVersionKind, id, templateNotFound...)
	}
	if len(out.LaunchTemplateVersions) == 0 {
		return rollout.TemplateVersion{}, &rollout.NotFoundError{Kind: templateVersionKind, ID: id}
	}
	return templateVersionFrom(launchTemplateID, out.LaunchTemplateVersions[0]), nil
}

// templateVersionFrom maps the SDK's launch template version.
func templateVersionFrom(launchTemplateID string, v ec2types.LaunchTemplateVersion) rollout.TemplateVersion {
	out := rollout.TemplateVersion{
		LaunchTemplateID: launchTemplateID,
		Number:           aws.ToInt64(v.VersionNumber),
		IsDefault:        aws.ToBool(v.DefaultVersion),
	}
	if id := aws.ToString(v.LaunchTemplateId); id != "" {
		out.LaunchTemplateID = id
	}
	if d := v.LaunchTemplateData; d != nil {
		out.ImageID = aws.ToString(d.ImageId)
		out.InstanceType = string(d.InstanceType)
	}
	return out
}

// Image reads an AMI, by the one rule Phoenix has for images (the package
// doc): an image EC2 does not show to this account (unknown, malformed, not
// shared, or deregistered long enough ago that EC2 no longer lists it) is a
// *rollout.NotFoundError; an image EC2 still lists comes back whatever its
// state, a deregistered one with State "deregistered", for the caller to
// judge; a creation date that is not RFC 3339 reads as zero.
func (f *Fleet) Image(ctx context.Context, region, imageID string) (rollout.Image, error) {
	// A disabled image (the image lifecycle's third stage) is left out
	// unless asked for: it then reads as disabled, which preflight names,
	// rather than as missing from the region.
	out, err := f.clients(region).EC2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{imageID}, IncludeDisabled: aws.Bool(true)})
	if err != nil {
		return rollout.Image{}, awserr.Classify("describe image "+imageID, err, "image", imageID, imageNotFound...)
	}
	for _, img := range out.Images {
		if aws.ToString(img.ImageId) == imageID {
			return imageFrom(img), nil
		}
	}
	// A deregistered image stops being listed after a while; EC2 then
	// answers with an empty list rather than an error.
	return rollout.Image{}, &rollout.NotFoundError{Kind: "image", ID: imageID}
}

// imageFrom maps the SDK's image. EC2 prints CreationDate as text; an
// unparsable date stays zero, an unknown time, rather than failing the
// read: Phoenix uses the date only to order images, where an unknown time
// never makes an image newer, and a failed read would fail a rollout, or
// have EventBridge redeliver a publishing event for a day, over a field
// that decides nothing there.
func imageFrom(img ec2types.Image) rollout.Image {
	res := rollout.Image{
		ID:           aws.ToString(img.ImageId),
		Name:         aws.ToString(img.Name),
		OwnerID:      aws.ToString(img.OwnerId),
		State:        string(img.State),
		Architecture: string(img.Architecture),
		Tags:         map[string]string{},
	}
	if t, err := time.Parse(time.RFC3339, aws.ToString(img.CreationDate)); err == nil {
		res.CreatedAt = t.UTC()
	}
	for _, t := range img.Tags {
		res.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return res
}

// Architectures returns the architectures each instance type supports. A
// type the region does not offer is absent from the map, not an error:
// the callers (preflight, publish targeting) refuse or skip the group
// naming the type. EC2 refuses a whole DescribeInstanceTypes request when
// one of its types is unknown, so a refused batch is described again type
// by type.
func (f *Fleet) Architectures(ctx context.Context, region string, instanceTypes []string) (map[string][]string, error) {
	types := slices.Clone(instanceTypes)
	slices.Sort(types)
	types = slices.Compact(types)
	out := make(map[string][]string, len(types))
	ec2c := f.clients(region).EC2
	for start := 0; start < len(types); start += instanceTypeBatch {
		batch := types[start:min(start+instanceTypeBatch, len(types))]
		err := describeTypes(ctx, ec2c, batch, out)
		if awserr.Code(err) != codeUnknownType {
			if err != nil {
				return nil, err
			}
			continue
		}
		for _, t := range batch {
			if err := describeTypes(ctx, ec2c, []string{t}, out); err != nil && awserr.Code(err) != codeUnknownType {
				return nil, err
			}
		}
	}
	return out, nil
}

// codeUnknownType is EC2's answer for a request naming an instance type it
// does not offer in the region.
const codeUnknownType = "InvalidInstanceType"

// describeTypes adds the architectures of types to out. EC2's
// InvalidInstanceType is returned unclassified, for Architectures to
// recognise; other errors are classified.
func describeTypes(ctx context.Context, ec2c EC2API, types []string, out map[string][]string) error {
	in := &ec2.DescribeInstanceTypesInput{}
	for _, t := range types {
		in.InstanceTypes = append(in.InstanceTypes, ec2types.InstanceType(t))
	}
	p := ec2.NewDescribeInstanceTypesPaginator(ec2c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if awserr.Code(err) == codeUnknownType {
			return err
		}
		if err != nil {
			return awserr.Classify("describe instance types "+strings.Join(types, ","), err, "instance type", strings.Join(types, ","))
		}
		for _, it := range page.InstanceTypes {
			var archs []string
			if it.ProcessorInfo != nil {
				for _, a := range it.ProcessorInfo.SupportedArchitectures {
					archs = append(archs, string(a))
				}
			}
			out[string(it.InstanceType)] = archs
		}
	}
	return nil
}

// DryRunLaunch asks EC2 whether one instance could be launched from the
// version (RunInstances with DryRun). EC2 answers a request that would
// succeed with the error DryRunOperation, which is success here; any other
// error is returned classified, its AWS message naming what is wrong (an
// image whose architecture the instance type cannot run, a missing
// permission, no default subnet).
func (f *Fleet) DryRunLaunch(ctx context.Context, region, launchTemplateID string, version int64) error {
	v := strconv.FormatInt(version, 10)
	_, err := f.clients(region).EC2.RunInstances(ctx, &ec2.RunInstancesInput{
		DryRun:         aws.Bool(true),
		MinCount:       aws.Int32(1),
		MaxCount:       aws.Int32(1),
		LaunchTemplate: &ec2types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(launchTemplateID), Version: aws.String(v)},
	})
	if err == nil {
		// Without DryRun honoured an instance would now be running; that
		// cannot be taken for a yes.
		return fmt.Errorf("dry run launch from %s version %s: EC2 did not answer DryRunOperation", launchTemplateID, v)
	}
	if awserr.Code(err) == "DryRunOperation" {
		return nil
	}
	id := launchTemplateID + ":" + v
	return awserr.Classify("dry run launch from "+id, err, templateVersionKind, id, templateNotFound...)
}

// CreateVersion makes a new numbered version from source with only ImageId
// changed. clientToken makes a repeat return the version made the first
// time; a token longer than EC2 accepts is hashed to one that fits, so the
// mapping stays stable across retries.
func (f *Fleet) CreateVersion(ctx context.Context, region, launchTemplateID string, source int64, imageID, clientToken, description string) (rollout.TemplateVersion, error) {
	src := strconv.FormatInt(source, 10)
	in := &ec2.CreateLaunchTemplateVersionInput{
		LaunchTemplateId:   aws.String(launchTemplateID),
		SourceVersion:      aws.String(src),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(imageID)},
	}
	if clientToken != "" {
		in.ClientToken = aws.String(fitToken(clientToken))
	}
	if description != "" {
		in.VersionDescription = aws.String(truncate(description, maxDescription))
	}
	out, err := f.clients(region).EC2.CreateLaunchTemplateVersion(ctx, in)
	id := launchTemplateID + ":" + src
	if err != nil {
		return rollout.TemplateVersion{}, awserr.Classify("create launch template version from "+id, err, templateVersionKind, id, templateNotFound...)
	}
	if out.LaunchTemplateVersion == nil {
		return rollout.TemplateVersion{}, fmt.Errorf("create launch template version from %s: EC2 returned no version", id)
	}
	v := templateVersionFrom(launchTemplateID, *out.LaunchTemplateVersion)
	attrs := []any{"region", region, "launchTemplateId", launchTemplateID, "sourceVersion", source, "version", v.Number, "imageId", imageID}
	f.changed(ctx, "created launch template version", attrs...)
	if w := out.Warning; w != nil && len(w.Errors) > 0 {
		// EC2 accepts launch template data it cannot validate and says so
		// only in a warning, which the caller never sees; the dry run launch
		// is what stops a rollout on it.
		for _, e := range w.Errors {
			attrs = append(attrs, "warning", aws.ToString(e.Code)+": "+aws.ToString(e.Message))
		}
		f.log.WarnContext(ctx, "EC2 warned about the new launch template version", attrs...)
	}
	return v, nil
}

// fitToken returns token if EC2 accepts it as a ClientToken, else a hash of
// it that does.
func fitToken(token string) string {
	if len(token) <= maxClientToken {
		return token
	}
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])[:maxClientToken]
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8Start(s[n]) {
		n--
	}
	return s[:n]
}

// utf8Start reports whether b begins a UTF-8 sequence.
func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// PinVersion points the group at a numbered version of its launch template
// (in the mixed instances policy for a mixed group, keeping its overrides
// and distribution). It changes nothing when the group already names that
// version. It must not be used while a refresh runs: Auto Scaling refuses
// template changes during a refresh with a desired configuration.
func (f *Fleet) PinVersion(ctx context.Context, key rollout.GroupKey, launchTemplateID string, version int64) error {
	g, err := f.describeGroup(ctx, key)
	if err != nil {
		return err
	}
	v := strconv.FormatInt(version, 10)
	cur := groupFrom(key, g)
	if cur.LaunchTemplateID == launchTemplateID && cur.LaunchTemplateVersion == v {
		return nil
	}
	spec := &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(launchTemplateID), Version: aws.String(v)}
	in := &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String(key.Name)}
	if g.MixedInstancesPolicy != nil {
		in.MixedInstancesPolicy = withTemplate(g.MixedInstancesPolicy, spec)
	} else {
		in.LaunchTemplate = spec
	}
	if _, err := f.clients(key.Region).AutoScaling.UpdateAutoScalingGroup(ctx, in); err != nil {
		return classifyGroupCall("pin launch template version of", key, err)
	}
	f.changed(ctx, "pinned group to launch template version", "region", key.Region, "group", key.Name,
		"launchTemplateId", launchTemplateID, "fromVersion", cur.LaunchTemplateVersion, "version", version)
	return nil
}

// withTemplate returns a copy of a mixed instances policy whose launch
// template is spec; overrides and the instances distribution are kept,
// because a mixed instances policy given to Auto Scaling replaces the old
// one whole.
func withTemplate(p *astypes.MixedInstancesPolicy, spec *astypes.LaunchTemplateSpecification) *astypes.MixedInstancesPolicy {
	cp := *p
	lt := astypes.LaunchTemplate{}
	if p.LaunchTemplate != nil {
		lt = *p.LaunchTemplate
		lt.Overrides = slices.Clone(p.LaunchTemplate.Overrides)
	}
	lt.LaunchTemplateSpecification = spec
	cp.LaunchTemplate = &lt
	return &cp
}

// SetDefaultVersion makes version the launch template's default.
func (f *Fleet) SetDefaultVersion(ctx context.Context, region, launchTemplateID string, version int64) error {
	v := strconv.FormatInt(version, 10)
	id := launchTemplateID + ":" + v
	_, err := f.clients(region).EC2.ModifyLaunchTemplate(ctx, &ec2.ModifyLaunchTemplateInput{
		LaunchTemplateId: aws.String(launchTemplateID),
		DefaultVersion:   aws.String(v),
	})
	if err != nil {
		return awserr.Classify("set default version of "+launchTemplateID, err, templateVersionKind, id, templateNotFound...)
	}
	f.changed(ctx, "set launch template default version", "region", region, "launchTemplateId", launchTemplateID, "version", version)
	return nil
}
