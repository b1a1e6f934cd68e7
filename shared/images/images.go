// Package images implements the ports of shared/publish over the AWS SDK:
// publish.Images over EC2 Image Builder (GetImage), Systems Manager
// Parameter Store (GetParameter), EC2 (DescribeImages,
// DescribeLaunchTemplateVersions, DescribeInstanceTypes) and Auto Scaling
// (DescribeAutoScalingGroups); publish.Queue over the ledger's DynamoDB
// table; publish.Starter over Step Functions.
//
// The clients are narrow interfaces with the SDK's method signatures, so a
// real client and a paginator fit as they are. Every SDK error goes through
// shared/awserr: throttling and server faults arrive as
// *rollout.TransientError, missing resources as *rollout.NotFoundError.
package images

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/imagebuilder"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/phoenix-rollouts/phoenix/shared/awserr"
	"github.com/phoenix-rollouts/phoenix/shared/publish"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// ImageBuilderAPI is the part of the Image Builder client the reader uses.
type ImageBuilderAPI interface {
	GetImage(ctx context.Context, in *imagebuilder.GetImageInput, optFns ...func(*imagebuilder.Options)) (*imagebuilder.GetImageOutput, error)
}

// SSMAPI is the part of the Systems Manager client the reader uses.
type SSMAPI interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

// EC2API is the part of the EC2 client the reader uses.
type EC2API interface {
	DescribeImages(ctx context.Context, in *ec2.DescribeImagesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error)
	DescribeLaunchTemplateVersions(ctx context.Context, in *ec2.DescribeLaunchTemplateVersionsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error)
	DescribeInstanceTypes(ctx context.Context, in *ec2.DescribeInstanceTypesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstanceTypesOutput, error)
}

// AutoScalingAPI is the part of the Auto Scaling client the reader uses.
type AutoScalingAPI interface {
	DescribeAutoScalingGroups(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error)
}

var (
	_ ImageBuilderAPI                                = (*imagebuilder.Client)(nil)
	_ SSMAPI                                         = (*ssm.Client)(nil)
	_ EC2API                                         = (*ec2.Client)(nil)
	_ AutoScalingAPI                                 = (*autoscaling.Client)(nil)
	_ autoscaling.DescribeAutoScalingGroupsAPIClient = AutoScalingAPI(nil)
	_ ec2.DescribeInstanceTypesAPIClient             = EC2API(nil)
	_ ec2.DescribeLaunchTemplateVersionsAPIClient    = EC2API(nil)
	_ publish.Images                                 = (*Reader)(nil)
	_ publish.Queue                                  = (*Queue)(nil)
	_ publish.Starter                                = (*Starter)(nil)
)

// Reader is publish.Images over the SDK clients of one AWS configuration;
// each call addresses the region it is given.
type Reader struct {
	ImageBuilder ImageBuilderAPI
	SSM          SSMAPI
	EC2          EC2API
	AutoScaling  AutoScalingAPI
}

// NewReader returns a Reader with clients made from cfg.
func NewReader(cfg aws.Config) *Reader {
	return &Reader{
		ImageBuilder: imagebuilder.NewFromConfig(cfg),
		SSM:          ssm.NewFromConfig(cfg),
		EC2:          ec2.NewFromConfig(cfg),
		AutoScaling:  autoscaling.NewFromConfig(cfg),
	}
}

// The region options: a call names its region, whatever the client's.
func ec2Region(r string) func(*ec2.Options) { return func(o *ec2.Options) { o.Region = r } }
func asRegion(r string) func(*autoscaling.Options) {
	return func(o *autoscaling.Options) { o.Region = r }
}
func ibRegion(r string) func(*imagebuilder.Options) {
	return func(o *imagebuilder.Options) { o.Region = r }
}
func ssmRegion(r string) func(*ssm.Options) { return func(o *ssm.Options) { o.Region = r } }

// Build describes an image build version. An ARN Image Builder does not
// know, or refuses as malformed, is a *rollout.NotFoundError.
func (r *Reader) Build(ctx context.Context, region, arn string) (publish.Build, error) {
	out, err := r.ImageBuilder.GetImage(ctx, &imagebuilder.GetImageInput{ImageBuildVersionArn: aws.String(arn)}, ibRegion(region))
	if err != nil {
		return publish.Build{}, awserr.Classify("get image build "+arn, err, "image build", arn,
			"ResourceNotFoundException", "InvalidParameterValueException")
	}
	if out.Image == nil {
		return publish.Build{}, &rollout.NotFoundError{Kind: "image build", ID: arn}
	}
	b := publish.Build{ARN: arn, Name: aws.ToString(out.Image.Name)}
	if out.Image.State != nil {
		b.Status = string(out.Image.State.Status)
	}
	if out.Image.OutputResources != nil {
		for _, a := range out.Image.OutputResources.Amis {
			b.AMIs = append(b.AMIs, publish.BuildAMI{Region: aws.ToString(a.Region), ImageID: aws.ToString(a.Image), AccountID: aws.ToString(a.AccountId)})
		}
	}
	return b, nil
}

// Parameter reads a parameter's current version. A parameter that does
// not exist is a *rollout.NotFoundError.
func (r *Reader) Parameter(ctx context.Context, region, name string) (publish.Parameter, error) {
	out, err := r.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)}, ssmRegion(region))
	if err != nil {
		return publish.Parameter{}, awserr.Classify("get parameter "+name, err, "parameter", name, "ParameterNotFound", "ParameterVersionNotFound")
	}
	if out.Parameter == nil {
		return publish.Parameter{}, &rollout.NotFoundError{Kind: "parameter", ID: name}
	}
	p := out.Parameter
	return publish.Parameter{Name: aws.ToString(p.Name), Value: aws.ToString(p.Value), DataType: aws.ToString(p.DataType), Version: p.Version}, nil
}

// Image describes an AMI. One EC2 does not show to this account (unknown,
// malformed, not shared, or deregistered and no longer listed) is a
// *rollout.NotFoundError; a deregistered image EC2 still lists comes back
// with its state, so the caller can say so.
func (r *Reader) Image(ctx context.Context, region, imageID string) (rollout.Image, error) {
	out, err := r.EC2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{imageID}}, ec2Region(region))
	if err != nil {
		return rollout.Image{}, awserr.Classify("describe image "+imageID, err, "image", imageID, "InvalidAMIID.NotFound", "InvalidAMIID.Malformed", "InvalidAMIID.Unavailable")
	}
	for _, im := range out.Images {
		if aws.ToString(im.ImageId) == imageID {
			return imageFrom(im)
		}
	}
	return rollout.Image{}, &rollout.NotFoundError{Kind: "image", ID: imageID}
}

// imageFrom converts an EC2 image.
func imageFrom(im ec2types.Image) (rollout.Image, error) {
	out := rollout.Image{
		ID: aws.ToString(im.ImageId), Name: aws.ToString(im.Name), OwnerID: aws.ToString(im.OwnerId),
		State: string(im.State), Architecture: string(im.Architecture), Tags: map[string]string{},
	}
	if s := aws.ToString(im.CreationDate); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return rollout.Image{}, fmt.Errorf("image %s has creation date %q, which is not RFC 3339: %w", out.ID, s, err)
		}
		out.CreatedAt = t.UTC()
	}
	for _, t := range im.Tags {
		out.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return out, nil
}

// Candidates lists the region's groups carrying a phoenix:enabled tag,
// whatever its value (publish.Targets reads the value the way every
// rollout does), with the instance types each launches: a mixed instances
// policy's overrides, else its launch template version's type. A group
// whose types cannot be known (attribute-based overrides, a template
// without a type or that cannot be read) is listed without types, so
// targeting skips it with a reason instead of failing the event.
func (r *Reader) Candidates(ctx context.Context, region string) ([]publish.Candidate, error) {
	p := autoscaling.NewDescribeAutoScalingGroupsPaginator(r.AutoScaling, &autoscaling.DescribeAutoScalingGroupsInput{
		Filters: []astypes.Filter{{Name: aws.String("tag-key"), Values: []string{rollout.TagEnabled}}},
	})
	var out []publish.Candidate
	templates := map[string]string{}
	for p.HasMorePages() {
		page, err := p.NextPage(ctx, asRegion(region))
		if err != nil {
			return nil, awserr.Classify("describe groups tagged "+rollout.TagEnabled, err, "", "")
		}
		for _, g := range page.AutoScalingGroups {
			c := publish.Candidate{Key: rollout.GroupKey{Region: region, Name: aws.ToString(g.AutoScalingGroupName)}, Tags: map[string]string{}}
			for _, t := range g.Tags {
				c.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			c.LaunchConfiguration = aws.ToString(g.LaunchConfigurationName) != ""
			types, err := r.groupTypes(ctx, region, g, templates)
			if err != nil {
				return nil, err
			}
			c.InstanceTypes = types
			out = append(out, c)
		}
	}
	return out, nil
}

// groupTypes returns the instance types a group launches; templates
// caches a launch template version's type within one listing.
func (r *Reader) groupTypes(ctx context.Context, region string, g astypes.AutoScalingGroup, templates map[string]string) ([]string, error) {
	spec := g.LaunchTemplate
	if mip := g.MixedInstancesPolicy; mip != nil && mip.LaunchTemplate != nil {
		var types []string
		for _, o := range mip.LaunchTemplate.Overrides {
			if o.InstanceRequirements != nil {
				return nil, nil
			}
			if t := aws.ToString(o.InstanceType); t != "" {
				types = append(types, t)
			}
		}
		if len(types) > 0 {
			slices.Sort(types)
			return slices.Compact(types), nil
		}
		spec = mip.LaunchTemplate.LaunchTemplateSpecification
	}
	if spec == nil {
		return nil, nil
	}
	t, err := r.templateType(ctx, region, spec, templates)
	if err != nil || t == "" {
		return nil, err
	}
	return []string{t}, nil
}

// templateType reads the instance type of a launch template version
// ($Default when the group names none). A template or version that no
// longer exists yields "", which skips the group; other failures are
// returned.
func (r *Reader) templateType(ctx context.Context, region string, spec *astypes.LaunchTemplateSpecification, cache map[string]string) (string, error) {
	version := aws.ToString(spec.Version)
	if version == "" {
		version = "$Default"
	}
	in := &ec2.DescribeLaunchTemplateVersionsInput{Versions: []string{version}}
	id, name := aws.ToString(spec.LaunchTemplateId), aws.ToString(spec.LaunchTemplateName)
	switch {
	case id != "":
		in.LaunchTemplateId = aws.String(id)
	case name != "":
		in.LaunchTemplateName = aws.String(name)
	default:
		return "", nil
	}
	key := id + "|" + name + "|" + version
	if t, ok := cache[key]; ok {
		return t, nil
	}
	out, err := r.EC2.DescribeLaunchTemplateVersions(ctx, in, ec2Region(region))
	if err != nil {
		cerr := awserr.Classify("describe launch template "+id+name+" version "+version, err, "launch template", id+name,
			"InvalidLaunchTemplateId.NotFound", "InvalidLaunchTemplateName.NotFoundException", "InvalidLaunchTemplateId.VersionNotFound", "InvalidLaunchTemplateId.Malformed")
		var nf *rollout.NotFoundError
		if errors.As(cerr, &nf) {
			cache[key] = ""
			return "", nil
		}
		return "", cerr
	}
	t := ""
	if len(out.LaunchTemplateVersions) > 0 && out.LaunchTemplateVersions[0].LaunchTemplateData != nil {
		t = string(out.LaunchTemplateVersions[0].LaunchTemplateData.InstanceType)
	}
	cache[key] = t
	return t, nil
}

// instanceTypeBatch is how many types one DescribeInstanceTypes names
// (EC2's limit is 100).
const instanceTypeBatch = 100

// Architectures returns the architectures each instance type supports. EC2
// refuses a whole request when one type is unknown, so a refused batch is
// described again type by type, and the types the region does not offer
// are left out of the map.
func (r *Reader) Architectures(ctx context.Context, region string, instanceTypes []string) (map[string][]string, error) {
	types := slices.Clone(instanceTypes)
	slices.Sort(types)
	types = slices.Compact(types)
	out := make(map[string][]string, len(types))
	for start := 0; start < len(types); start += instanceTypeBatch {
		batch := types[start:min(start+instanceTypeBatch, len(types))]
		err := r.describeTypes(ctx, region, batch, out)
		if awserr.Code(err) != "InvalidInstanceType" {
			if err != nil {
				return nil, err
			}
			continue
		}
		for _, t := range batch {
			if err := r.describeTypes(ctx, region, []string{t}, out); err != nil && awserr.Code(err) != "InvalidInstanceType" {
				return nil, err
			}
		}
	}
	return out, nil
}

// describeTypes adds the architectures of types to out. An
// InvalidInstanceType error is returned unclassified, for Architectures to
// recognise.
func (r *Reader) describeTypes(ctx context.Context, region string, types []string, out map[string][]string) error {
	in := &ec2.DescribeInstanceTypesInput{}
	for _, t := range types {
		in.InstanceTypes = append(in.InstanceTypes, ec2types.InstanceType(t))
	}
	p := ec2.NewDescribeInstanceTypesPaginator(r.EC2, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx, ec2Region(region))
		if awserr.Code(err) == "InvalidInstanceType" {
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
