package publish

import (
	"fmt"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Build is what Image Builder's GetImage says of an image build version.
type Build struct {
	ARN    string
	Name   string
	Status string // AVAILABLE, BUILDING, FAILED, ...
	// AMIs are the outputResources.amis: one per region the
	// distribution wrote to.
	AMIs []BuildAMI
}

// BuildAMI is one AMI of a build's output.
type BuildAMI struct {
	Region    string
	ImageID   string
	AccountID string
}

// Parameter is an SSM parameter's current version as GetParameter returns
// it.
type Parameter struct {
	Name     string
	Value    string
	DataType string
	Version  int64
}

// Normalize builds the Image record of ev from what the adapters read:
// build (KindImageBuilder only), param (KindParameter only) and ami, the
// AMI of ev's region as DescribeImages shows it. It refuses, as a
// *rollout.BadInputError, a build that is not AVAILABLE, a build without
// an AMI in the event's region, and a parameter whose value is not an AMI
// id: each means the event announced nothing Phoenix can roll here.
func Normalize(ev Event, build *Build, param *Parameter, ami rollout.Image) (Image, error) {
	img := Image{
		Kind: ev.Kind, EventID: ev.ID, EventTime: ev.Time, Source: ev.Ref, Region: ev.Region,
		IDs: map[string]string{}, Name: ami.Name, Owner: ami.OwnerID, Architecture: ami.Architecture,
		State: ami.State, CreatedAt: ami.CreatedAt.UTC(), Tags: map[string]string{},
	}
	for k, v := range ami.Tags {
		img.Tags[k] = v
	}
	switch ev.Kind {
	case KindImageBuilder:
		if build == nil {
			return Image{}, fmt.Errorf("normalize %s: no build description", ev.Ref)
		}
		id, err := BuildImageID(*build, ev.Region)
		if err != nil {
			return Image{}, err
		}
		for _, a := range build.AMIs {
			img.IDs[a.Region] = a.ImageID
		}
		if id != ami.ID {
			return Image{}, fmt.Errorf("normalize %s: read AMI %s, but the build's AMI in %s is %s", ev.Ref, ami.ID, ev.Region, id)
		}
		if img.Name == "" {
			img.Name = build.Name
		}
	case KindParameter:
		if param == nil {
			return Image{}, fmt.Errorf("normalize %s: no parameter value", ev.Ref)
		}
		id, err := ParameterImageID(*param)
		if err != nil {
			return Image{}, err
		}
		if id != ami.ID {
			return Image{}, fmt.Errorf("normalize %s: read AMI %s, but the parameter holds %s", ev.Ref, ami.ID, id)
		}
		img.IDs[ev.Region] = id
	case KindAMI:
		if ev.Ref != ami.ID {
			return Image{}, fmt.Errorf("normalize: the event names %s but AMI %s was read", ev.Ref, ami.ID)
		}
		img.IDs[ev.Region] = ami.ID
	default:
		return Image{}, &rollout.BadInputError{Reason: fmt.Sprintf("unknown publishing event kind %q", ev.Kind)}
	}
	return img, nil
}

// BuildImageID returns the AMI a build distributed to region. A build that
// is not AVAILABLE, or that wrote no AMI there, is a *rollout.BadInputError:
// the event announced an image this region does not have.
func BuildImageID(b Build, region string) (string, error) {
	if b.Status != "AVAILABLE" {
		return "", &rollout.BadInputError{Reason: fmt.Sprintf("image build %s is %s, not AVAILABLE", b.ARN, b.Status)}
	}
	var found []string
	for _, a := range b.AMIs {
		if a.Region == region {
			found = append(found, a.ImageID)
		}
	}
	switch {
	case len(found) == 0:
		return "", &rollout.BadInputError{Reason: fmt.Sprintf("image build %s distributed no AMI to %s", b.ARN, region)}
	case len(found) > 1:
		return "", &rollout.BadInputError{Reason: fmt.Sprintf("image build %s distributed %d AMIs to %s; Phoenix cannot tell which to roll", b.ARN, len(found), region)}
	case !ValidImageID(found[0]):
		return "", &rollout.BadInputError{Reason: fmt.Sprintf("image build %s names %q in %s, which is not an AMI id", b.ARN, found[0], region)}
	}
	return found[0], nil
}

// ParameterImageID returns the AMI id an aws:ec2:image parameter holds.
// Another data type or a value that is not an AMI id is a
// *rollout.BadInputError.
func ParameterImageID(p Parameter) (string, error) {
	if p.DataType != DataTypeImage {
		return "", &rollout.BadInputError{Reason: fmt.Sprintf("parameter %s has data type %q, not %s", p.Name, p.DataType, DataTypeImage)}
	}
	if !ValidImageID(p.Value) {
		return "", &rollout.BadInputError{Reason: fmt.Sprintf("parameter %s holds %q, which is not an AMI id", p.Name, p.Value)}
	}
	return p.Value, nil
}
