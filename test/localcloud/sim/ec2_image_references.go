package sim

// DescribeImageReferences: which of the caller's resources reference an AMI
// (EC2 API Reference, DescribeImageReferences, ImageReference,
// ResourceTypeRequest, ResourceTypeOption; EC2 User Guide, "Identify your
// resources referencing specified AMIs").

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

// ImageParameterSource tells which SSM parameters reference an AMI. The
// local cloud's Parameter Store satisfies it (localcloud.New wires it into
// World.ImageParameters), so that this package need not import it.
type ImageParameterSource interface {
	// ImageParameterARNs returns the ARNs of region's parameters of data
	// type aws:ec2:image whose current value is imageID, in a fixed order.
	// It is called with the World lock held and must not call back into
	// the World.
	ImageParameterARNs(region, imageID string) []string
}

// Limits and defaults the API reference and the SDK document.
const (
	// maxReferenceImageIDs is ImageId.N's "Maximum number of 10 items".
	maxReferenceImageIDs = 10
	// minReferencesPage is MaxResults' minimum; no maximum is documented.
	minReferencesPage = 5
	// defaultVersionDepth and maxVersionDepth are version-depth's default
	// and upper bound ("Integers between 1 and 10000", "Default: 10").
	defaultVersionDepth = 10
	maxVersionDepth     = 10000
)

// imageReferenceTypes are the resource types in the order the API lists
// them, which is also the order of the answer for each image.
var imageReferenceTypes = []ec2types.ImageReferenceResourceType{
	ec2types.ImageReferenceResourceTypeEc2Instance,
	ec2types.ImageReferenceResourceTypeEc2LaunchTemplate,
	ec2types.ImageReferenceResourceTypeSsmParameter,
	ec2types.ImageReferenceResourceTypeImageBuilderImageRecipe,
	ec2types.ImageReferenceResourceTypeImageBuilderContainerRecipe,
}

// referenceStates are the values state-name accepts.
var referenceStates = []string{InstancePending, InstanceRunning, InstanceShuttingDown, InstanceTerminated, InstanceStopping, InstanceStopped}

// referenceScope is what one request checks: the resource types, the
// instance states (nil for every state, the default) and how many of each
// launch template's most recent versions.
type referenceScope struct {
	types  map[ec2types.ImageReferenceResourceType]bool
	states map[string]bool
	depth  int
}

// parseReferenceScope checks IncludeAllResourceTypes, ResourceTypes and
// their options. IncludeAllResourceTypes checks every type with the
// default options; ResourceTypes names types and may override those
// defaults; at least one of the two is required.
func parseReferenceScope(in *ec2.DescribeImageReferencesInput) (referenceScope, error) {
	sc := referenceScope{types: map[ec2types.ImageReferenceResourceType]bool{}, depth: defaultVersionDepth}
	if !aws.ToBool(in.IncludeAllResourceTypes) && len(in.ResourceTypes) == 0 {
		return sc, ec2Err("MissingParameter", "The request must contain the parameter IncludeAllResourceTypes or ResourceTypes")
	}
	if aws.ToBool(in.IncludeAllResourceTypes) {
		for _, t := range imageReferenceTypes {
			sc.types[t] = true
		}
	}
	seen := map[ec2types.ImageReferenceResourceType]bool{}
	for _, rt := range in.ResourceTypes {
		t := rt.ResourceType
		if t == "" {
			return sc, ec2Err("MissingParameter", "The request must contain the parameter ResourceType.ResourceType")
		}
		if !slices.Contains(imageReferenceTypes, t) {
			return sc, api.InvalidParameterValue("The resource type '%s' is not supported. Supported resource types: %s", t, joinTypes(imageReferenceTypes))
		}
		if seen[t] {
			return sc, api.InvalidParameterValue("The resource type '%s' is specified more than once.", t)
		}
		seen[t] = true
		sc.types[t] = true
		if err := sc.applyOptions(t, rt.ResourceTypeOptions); err != nil {
			return sc, err
		}
	}
	return sc, nil
}

// applyOptions applies one resource type's options: state-name for
// ec2:Instance, version-depth for ec2:LaunchTemplate, none for the others.
func (sc *referenceScope) applyOptions(t ec2types.ImageReferenceResourceType, opts []ec2types.ResourceTypeOption) error {
	want := map[ec2types.ImageReferenceResourceType]ec2types.ImageReferenceOptionName{
		ec2types.ImageReferenceResourceTypeEc2Instance:       ec2types.ImageReferenceOptionNameStateName,
		ec2types.ImageReferenceResourceTypeEc2LaunchTemplate: ec2types.ImageReferenceOptionNameVersionDepth,
	}[t]
	named := map[ec2types.ImageReferenceOptionName]bool{}
	for _, o := range opts {
		if want == "" {
			return api.InvalidParameterValue("ResourceTypeOptions are valid only for the resource types ec2:Instance and ec2:LaunchTemplate, not '%s'.", t)
		}
		if o.OptionName != want {
			return api.InvalidParameterValue("The option name '%s' is not valid for the resource type '%s'; use '%s'.", o.OptionName, t, want)
		}
		if named[o.OptionName] {
			return api.InvalidParameterValue("The option '%s' is specified more than once.", o.OptionName)
		}
		named[o.OptionName] = true
		if len(o.OptionValues) == 0 {
			return ec2Err("MissingParameter", "The request must contain the parameter OptionValues for the option '%s'", o.OptionName)
		}
		switch want {
		case ec2types.ImageReferenceOptionNameStateName:
			sc.states = map[string]bool{}
			for _, v := range o.OptionValues {
				if !slices.Contains(referenceStates, v) {
					return api.InvalidParameterValue("The value '%s' is not valid for the option 'state-name'. Valid values: %s", v, strings.Join(referenceStates, " | "))
				}
				sc.states[v] = true
			}
		case ec2types.ImageReferenceOptionNameVersionDepth:
			if len(o.OptionValues) != 1 {
				return api.InvalidParameterValue("The option 'version-depth' takes one value.")
			}
			n, err := strconv.Atoi(o.OptionValues[0])
			if err != nil || n < 1 || n > maxVersionDepth {
				return api.InvalidParameterValue("The value '%s' is not valid for the option 'version-depth'. Valid values: integers between 1 and %d", o.OptionValues[0], maxVersionDepth)
			}
			sc.depth = n
		}
	}
	return nil
}

func joinTypes(ts []ec2types.ImageReferenceResourceType) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	return strings.Join(s, " | ")
}

// launchTemplateARN is a launch template's ARN, as IAM and
// DescribeImageReferences name it.
func (w *World) launchTemplateARN(region, id string) string {
	return fmt.Sprintf("arn:aws:ec2:%s:%s:launch-template/%s", region, w.account, id)
}

// imageReferences lists, for one image, the references of every type in
// scope, in imageReferenceTypes order and by ARN within a type.
func (w *World) imageReferences(r *Region, imageID string, sc referenceScope) []ec2types.ImageReference {
	var out []ec2types.ImageReference
	add := func(t ec2types.ImageReferenceResourceType, arns []string) {
		sort.Strings(arns)
		for _, a := range arns {
			out = append(out, ec2types.ImageReference{ImageId: aws.String(imageID), ResourceType: t, Arn: aws.String(a)})
		}
	}
	for _, t := range imageReferenceTypes {
		if !sc.types[t] {
			continue
		}
		var arns []string
		switch t {
		case ec2types.ImageReferenceResourceTypeEc2Instance:
			// Every state by default; terminated instances while EC2
			// still lists them (EC2Config.TerminatedVisible).
			for _, inst := range r.Instances {
				if inst.ImageID == imageID && (sc.states == nil || sc.states[inst.State]) {
					arns = append(arns, w.instanceARN(r.Name, inst.ID))
				}
			}
		case ec2types.ImageReferenceResourceTypeEc2LaunchTemplate:
			// The depth most recent versions of each template; one
			// reference per template, whose ARN names no version.
			for _, lt := range r.LaunchTemplates {
				nums := make([]int64, 0, len(lt.Versions))
				for n := range lt.Versions {
					nums = append(nums, n)
				}
				slices.Sort(nums)
				slices.Reverse(nums)
				for _, n := range nums[:min(len(nums), sc.depth)] {
					if lt.Versions[n].ImageID == imageID {
						arns = append(arns, w.launchTemplateARN(r.Name, lt.ID))
						break
					}
				}
			}
		case ec2types.ImageReferenceResourceTypeSsmParameter:
			if w.ImageParameters != nil {
				arns = append(arns, w.ImageParameters.ImageParameterARNs(r.Name, imageID)...)
			}
		default:
			// Image Builder recipes are not modelled (imagepipeline has
			// builds only), so no recipe references an image.
		}
		add(t, arns)
	}
	return out
}

// DescribeImageReferences lists the resources that reference the given
// images: instances (every state unless state-name narrows it), launch
// templates (a version among the version-depth most recent, 10 by
// default, names the image), SSM parameters of data type aws:ec2:image
// whose value is the image, and Image Builder recipes (not modelled, so
// none). Images are answered in the order asked, each image's references
// by resource type in the API's order, then by ARN. MaxResults (at least
// 5) pages the answer.
func (e *EC2) DescribeImageReferences(ctx context.Context, in *ec2.DescribeImageReferencesInput, _ ...func(*ec2.Options)) (*ec2.DescribeImageReferencesOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	if len(in.ImageIds) == 0 {
		return nil, ec2Err("MissingParameter", "The request must contain the parameter ImageId")
	}
	if len(in.ImageIds) > maxReferenceImageIDs {
		return nil, api.InvalidParameterValue("The request can include up to %d image IDs; it includes %d.", maxReferenceImageIDs, len(in.ImageIds))
	}
	var ids, missing []string
	for _, id := range in.ImageIds {
		if !amiIDPattern.MatchString(id) {
			return nil, ec2Err("InvalidAMIID.Malformed", "Invalid id: \"%s\" (expecting \"ami-...\")", id)
		}
		if slices.Contains(ids, id) {
			continue
		}
		ids = append(ids, id)
		if _, ok := r.Images[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return nil, ec2Err("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", idList(missing))
	}
	sc, err := parseReferenceScope(in)
	if err != nil {
		return nil, err
	}
	var size int
	if in.MaxResults != nil {
		if *in.MaxResults < minReferencesPage {
			return nil, api.InvalidParameterValue("Value ( %d ) for parameter maxResults is invalid. Expecting a value greater than or equal to %d.", *in.MaxResults, minReferencesPage)
		}
		size = int(*in.MaxResults)
	}
	offset, err := parsePageToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	var all []ec2types.ImageReference
	for _, id := range ids {
		all = append(all, w.imageReferences(r, id, sc)...)
	}
	out := &ec2.DescribeImageReferencesOutput{ImageReferences: []ec2types.ImageReference{}}
	if offset > uint64(len(all)) {
		return nil, ec2Err("InvalidPaginationToken", "The specified pagination token is not valid or is expired.")
	}
	rest := all[offset:]
	if size > 0 && len(rest) > size {
		rest = rest[:size]
		out.NextToken = pageToken(offset + uint64(size))
	}
	out.ImageReferences = append(out.ImageReferences, rest...)
	return out, nil
}
