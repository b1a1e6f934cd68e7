// Package images implements publish.Images, the reads of the publishing
// path. Of the services behind them it calls only EC2 Image Builder
// (GetImage) itself; it asks shared/params for SSM parameters and
// shared/fleet for images, instance types and groups, so that each AWS
// operation has one caller in Phoenix and every caller gets the same
// answer (shared/fleet's package doc has the rules: a deregistered image
// EC2 still lists comes back with its state, a type the region does not
// offer is absent).
//
// The clients are narrow interfaces with the SDK's method signatures, so a
// real client fits as it is. Every SDK error goes through shared/awserr:
// throttling and server faults arrive as *rollout.TransientError, missing
// resources as *rollout.NotFoundError.
package images

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/imagebuilder"

	"github.com/phoenix-rollouts/phoenix/shared/awserr"
	"github.com/phoenix-rollouts/phoenix/shared/params"
	"github.com/phoenix-rollouts/phoenix/shared/publish"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// ImageBuilderAPI is the part of the Image Builder client the reader uses.
type ImageBuilderAPI interface {
	GetImage(ctx context.Context, in *imagebuilder.GetImageInput, optFns ...func(*imagebuilder.Options)) (*imagebuilder.GetImageOutput, error)
}

// Params is what the reader asks shared/params: an SSM parameter's current
// version; *rollout.NotFoundError when it does not exist.
type Params interface {
	Parameter(ctx context.Context, region, name string) (params.Parameter, error)
}

// Fleet is what the reader asks shared/fleet (*fleet.Fleet), with the
// errors and the rules of its package doc.
type Fleet interface {
	// Image describes an AMI; a deregistered one EC2 still lists comes
	// back with its state, one EC2 no longer shows is a
	// *rollout.NotFoundError.
	Image(ctx context.Context, region, imageID string) (rollout.Image, error)
	// Architectures returns the architectures of instance types; a type
	// the region does not offer is absent.
	Architectures(ctx context.Context, region string, instanceTypes []string) (map[string][]string, error)
	// GroupsTaggedShallow lists the region's groups carrying the tag key,
	// without instance details.
	GroupsTaggedShallow(ctx context.Context, region, tagKey string) ([]rollout.Group, error)
	// ResolveVersion reads a launch template version; a missing template
	// or version is a *rollout.NotFoundError.
	ResolveVersion(ctx context.Context, region, launchTemplateID, version string) (rollout.TemplateVersion, error)
}

var (
	_ ImageBuilderAPI = (*imagebuilder.Client)(nil)
	_ Params          = (*params.Reader)(nil)
	_ publish.Images  = (*Reader)(nil)
)

// Reader is publish.Images: Image Builder read here, the rest asked of
// shared/params and shared/fleet. Each call addresses the region it is
// given.
type Reader struct {
	ImageBuilder ImageBuilderAPI
	Params       Params
	Fleet        Fleet
}

// NewReader returns a Reader with clients made from cfg that asks f for
// images, instance types and groups.
func NewReader(cfg aws.Config, f Fleet) *Reader {
	return &Reader{ImageBuilder: imagebuilder.NewFromConfig(cfg), Params: params.NewFromConfig(cfg), Fleet: f}
}

func ibRegion(r string) func(*imagebuilder.Options) {
	return func(o *imagebuilder.Options) { o.Region = r }
}

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
	p, err := r.Params.Parameter(ctx, region, name)
	if err != nil {
		return publish.Parameter{}, err
	}
	return publish.Parameter{Name: p.Name, Value: p.Value, DataType: p.DataType, Version: p.Version}, nil
}

// Image describes an AMI by shared/fleet's rule: one EC2 does not show to
// this account is a *rollout.NotFoundError; a deregistered image EC2 still
// lists comes back with its state, so that the caller can say so.
func (r *Reader) Image(ctx context.Context, region, imageID string) (rollout.Image, error) {
	return r.Fleet.Image(ctx, region, imageID)
}

// Architectures returns the architectures each instance type supports;
// the types the region does not offer are left out of the map.
func (r *Reader) Architectures(ctx context.Context, region string, instanceTypes []string) (map[string][]string, error) {
	return r.Fleet.Architectures(ctx, region, instanceTypes)
}

// Candidates lists the region's groups carrying a phoenix:enabled tag,
// whatever its value (publish.Targets reads the value the way every
// rollout does), projected by publish.CandidateOf. A group without
// instance type overrides launches its launch template version's type,
// read once per template version; a template or version that no longer
// exists leaves the group without types, so targeting skips it with a
// reason instead of failing the event.
func (r *Reader) Candidates(ctx context.Context, region string) ([]publish.Candidate, error) {
	groups, err := r.Fleet.GroupsTaggedShallow(ctx, region, rollout.TagEnabled)
	if err != nil {
		return nil, err
	}
	types := map[string]string{}
	out := make([]publish.Candidate, 0, len(groups))
	for _, g := range groups {
		t := ""
		if publish.NeedsTemplateType(g) {
			key := g.LaunchTemplateID + "|" + g.LaunchTemplateVersion
			var ok bool
			if t, ok = types[key]; !ok {
				v, err := r.Fleet.ResolveVersion(ctx, region, g.LaunchTemplateID, g.LaunchTemplateVersion)
				var nf *rollout.NotFoundError
				switch {
				case errors.As(err, &nf):
				case err != nil:
					return nil, fmt.Errorf("read the instance type of group %s: %w", g.Key.Name, err)
				}
				t, types[key] = v.InstanceType, v.InstanceType
			}
		}
		out = append(out, publish.CandidateOf(g, t))
	}
	return out, nil
}
