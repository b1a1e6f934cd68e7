package sim

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

// groupTagResourceType is the only resource type Auto Scaling tags accept.
const groupTagResourceType = "auto-scaling-group"

// groupTagsFrom validates tags given to CreateAutoScalingGroup.
func groupTagsFrom(group string, in []types.Tag) ([]GroupTag, error) {
	var out []GroupTag
	for _, t := range in {
		gt, err := checkTag(t, group)
		if err != nil {
			return nil, err
		}
		out = upsertTag(out, gt)
	}
	return out, nil
}

// checkTag validates one tag; group, when not empty, is the group the tag
// must name if it names one.
func checkTag(t types.Tag, group string) (GroupTag, error) {
	key := aws.ToString(t.Key)
	switch {
	case key == "":
		return GroupTag{}, api.Validation("1 validation error detected: Value at 'tags.member.key' failed to satisfy constraint: Member must have length greater than or equal to 1")
	case len(key) > 128:
		return GroupTag{}, api.Validation("1 validation error detected: Value at 'tags.member.key' failed to satisfy constraint: Member must have length less than or equal to 128")
	case len(aws.ToString(t.Value)) > 256:
		return GroupTag{}, api.Validation("1 validation error detected: Value at 'tags.member.value' failed to satisfy constraint: Member must have length less than or equal to 256")
	case strings.HasPrefix(key, "aws:"):
		return GroupTag{}, api.Validation("Tag keys starting with 'aws:' are reserved for internal use")
	case t.ResourceType != nil && *t.ResourceType != groupTagResourceType:
		return GroupTag{}, api.Validation("Invalid resource type %s. The only valid resource type is %s.", *t.ResourceType, groupTagResourceType)
	case group != "" && t.ResourceId != nil && *t.ResourceId != group:
		return GroupTag{}, api.Validation("Tag resource id %s does not match the Auto Scaling group %s.", *t.ResourceId, group)
	}
	return GroupTag{Key: key, Value: aws.ToString(t.Value), PropagateAtLaunch: aws.ToBool(t.PropagateAtLaunch)}, nil
}

// upsertTag replaces the tag with the same key or appends it.
func upsertTag(tags []GroupTag, t GroupTag) []GroupTag {
	for i := range tags {
		if tags[i].Key == t.Key {
			tags[i] = t
			return tags
		}
	}
	return append(tags, t)
}

// tagDescription renders a tag of g.
func (g *Group) tagDescription(t GroupTag) types.TagDescription {
	return types.TagDescription{
		Key: aws.String(t.Key), Value: aws.String(t.Value), PropagateAtLaunch: aws.Bool(t.PropagateAtLaunch),
		ResourceId: aws.String(g.Name), ResourceType: aws.String(groupTagResourceType),
	}
}

// tagsGroup returns the group a tag names, in the named region.
func (a *AutoScaling) tagsGroup(region string, t types.Tag) (*Group, error) {
	if t.ResourceId == nil || *t.ResourceId == "" {
		return nil, missing("tags.member.resourceId")
	}
	r := a.w.region(region)
	g, ok := r.Groups[*t.ResourceId]
	if !ok {
		return nil, groupNotFound(*t.ResourceId)
	}
	return g, nil
}

// CreateOrUpdateTags adds or replaces tags of groups. A tag changed here
// applies to instances launched afterwards, as in AWS.
func (a *AutoScaling) CreateOrUpdateTags(ctx context.Context, in *autoscaling.CreateOrUpdateTagsInput, _ ...func(*autoscaling.Options)) (*autoscaling.CreateOrUpdateTagsOutput, error) {
	in, region, done := api.Begin(ctx, &a.w.mu, in)
	defer done()
	if len(in.Tags) == 0 {
		return nil, missing("tags")
	}
	type change struct {
		g *Group
		t GroupTag
	}
	var changes []change
	for _, t := range in.Tags {
		g, err := a.tagsGroup(region, t)
		if err != nil {
			return nil, err
		}
		gt, err := checkTag(t, "")
		if err != nil {
			return nil, err
		}
		changes = append(changes, change{g, gt})
	}
	for _, c := range changes {
		if len(upsertTag(slices.Clone(c.g.Tags), c.t)) > 50 {
			return nil, asgError(codeLimitExceeded, "The quota of 50 tags for Auto Scaling group %s has been reached.", c.g.Name)
		}
		c.g.Tags = upsertTag(c.g.Tags, c.t)
	}
	return &autoscaling.CreateOrUpdateTagsOutput{}, nil
}

// DeleteTags removes tags of groups; a Value given must match for the tag
// to be removed.
func (a *AutoScaling) DeleteTags(ctx context.Context, in *autoscaling.DeleteTagsInput, _ ...func(*autoscaling.Options)) (*autoscaling.DeleteTagsOutput, error) {
	in, region, done := api.Begin(ctx, &a.w.mu, in)
	defer done()
	if len(in.Tags) == 0 {
		return nil, missing("tags")
	}
	for _, t := range in.Tags {
		if _, err := a.tagsGroup(region, t); err != nil {
			return nil, err
		}
		if aws.ToString(t.Key) == "" {
			return nil, missing("tags.member.key")
		}
	}
	for _, t := range in.Tags {
		g, _ := a.tagsGroup(region, t)
		g.Tags = slices.DeleteFunc(g.Tags, func(gt GroupTag) bool {
			return gt.Key == *t.Key && (t.Value == nil || *t.Value == gt.Value)
		})
	}
	return &autoscaling.DeleteTagsOutput{}, nil
}

// DescribeTags lists group tags matching the filters auto-scaling-group,
// key, value and propagate-at-launch, sorted by group then key.
func (a *AutoScaling) DescribeTags(ctx context.Context, in *autoscaling.DescribeTagsInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribeTagsOutput, error) {
	in, region, done := api.Begin(ctx, &a.w.mu, in)
	defer done()
	r := a.w.region(region)
	for _, f := range in.Filters {
		switch aws.ToString(f.Name) {
		case "auto-scaling-group", "key", "value", "propagate-at-launch":
		default:
			return nil, api.Validation("Filter name %s is not valid. Valid filter names are auto-scaling-group, key, value and propagate-at-launch.", aws.ToString(f.Name))
		}
	}
	names := make([]string, 0, len(r.Groups))
	for n := range r.Groups {
		names = append(names, n)
	}
	sort.Strings(names)
	var all []types.TagDescription
	for _, n := range names {
		g := r.Groups[n]
		tags := slices.Clone(g.Tags)
		sort.Slice(tags, func(i, j int) bool { return tags[i].Key < tags[j].Key })
		for _, t := range tags {
			if tagMatches(g.Name, t, in.Filters) {
				all = append(all, g.tagDescription(t))
			}
		}
	}
	start, end, next, err := pageBounds(in.NextToken, in.MaxRecords, 50, 100, len(all))
	if err != nil {
		return nil, err
	}
	out := &autoscaling.DescribeTagsOutput{Tags: []types.TagDescription{}, NextToken: tokenPtr(next)}
	out.Tags = append(out.Tags, all[start:end]...)
	return out, nil
}

// tagMatches applies DescribeTags filters.
func tagMatches(group string, t GroupTag, filters []types.Filter) bool {
	for _, f := range filters {
		var v string
		switch aws.ToString(f.Name) {
		case "auto-scaling-group":
			v = group
		case "key":
			v = t.Key
		case "value":
			v = t.Value
		case "propagate-at-launch":
			v = fmt.Sprint(t.PropagateAtLaunch)
		}
		if !slices.Contains(f.Values, v) {
			return false
		}
	}
	return true
}

// CreateLaunchConfiguration creates a legacy launch configuration.
func (a *AutoScaling) CreateLaunchConfiguration(ctx context.Context, in *autoscaling.CreateLaunchConfigurationInput, _ ...func(*autoscaling.Options)) (*autoscaling.CreateLaunchConfigurationOutput, error) {
	in, region, done := api.Begin(ctx, &a.w.mu, in)
	defer done()
	w := a.w
	r := w.region(region)
	name := aws.ToString(in.LaunchConfigurationName)
	switch {
	case name == "":
		return nil, missing("launchConfigurationName")
	case in.InstanceId != nil:
		return nil, api.Validation("Creating a launch configuration from InstanceId is not supported by the local cloud.")
	case aws.ToString(in.ImageId) == "":
		return nil, api.Validation("Valid requests must contain either the ImageId or InstanceId parameter.")
	case aws.ToString(in.InstanceType) == "":
		return nil, api.Validation("Valid requests must contain either the InstanceType or InstanceId parameter.")
	}
	if _, ok := r.LaunchConfigurations[name]; ok {
		return nil, asgError(codeAlreadyExists, "Launch Configuration by this name already exists - A launch configuration already exists with the name %s", name)
	}
	r.LaunchConfigurations[name] = &LaunchConfiguration{
		Name:         name,
		ARN:          fmt.Sprintf("arn:aws:autoscaling:%s:%s:launchConfiguration:%s:launchConfigurationName/%s", r.Name, w.account, w.uuid(), name),
		ImageID:      *in.ImageId,
		InstanceType: *in.InstanceType,
		KeyName:      aws.ToString(in.KeyName),
		UserData:     aws.ToString(in.UserData),
		CreatedTime:  w.now(),
	}
	return &autoscaling.CreateLaunchConfigurationOutput{}, nil
}

// DescribeLaunchConfigurations lists launch configurations by name.
func (a *AutoScaling) DescribeLaunchConfigurations(ctx context.Context, in *autoscaling.DescribeLaunchConfigurationsInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribeLaunchConfigurationsOutput, error) {
	in, region, done := api.Begin(ctx, &a.w.mu, in)
	defer done()
	r := a.w.region(region)
	var names []string
	for n := range r.LaunchConfigurations {
		if len(in.LaunchConfigurationNames) == 0 || slices.Contains(in.LaunchConfigurationNames, n) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	start, end, next, err := pageBounds(in.NextToken, in.MaxRecords, 50, 100, len(names))
	if err != nil {
		return nil, err
	}
	out := &autoscaling.DescribeLaunchConfigurationsOutput{LaunchConfigurations: []types.LaunchConfiguration{}, NextToken: tokenPtr(next)}
	for _, n := range names[start:end] {
		lc := r.LaunchConfigurations[n]
		out.LaunchConfigurations = append(out.LaunchConfigurations, types.LaunchConfiguration{
			LaunchConfigurationName: aws.String(lc.Name),
			LaunchConfigurationARN:  aws.String(lc.ARN),
			ImageId:                 aws.String(lc.ImageID),
			InstanceType:            aws.String(lc.InstanceType),
			KeyName:                 aws.String(lc.KeyName),
			UserData:                aws.String(lc.UserData),
			CreatedTime:             aws.Time(lc.CreatedTime),
			SecurityGroups:          []string{},
			BlockDeviceMappings:     []types.BlockDeviceMapping{},
		})
	}
	return out, nil
}

// DeleteLaunchConfiguration deletes a launch configuration no group uses;
// one in use gets ResourceInUse.
func (a *AutoScaling) DeleteLaunchConfiguration(ctx context.Context, in *autoscaling.DeleteLaunchConfigurationInput, _ ...func(*autoscaling.Options)) (*autoscaling.DeleteLaunchConfigurationOutput, error) {
	in, region, done := api.Begin(ctx, &a.w.mu, in)
	defer done()
	r := a.w.region(region)
	name := aws.ToString(in.LaunchConfigurationName)
	if name == "" {
		return nil, missing("launchConfigurationName")
	}
	if _, ok := r.LaunchConfigurations[name]; !ok {
		return nil, api.Validation("Launch configuration name not found - Launch configuration %s not found", name)
	}
	for _, g := range r.Groups {
		if g.Launch.LaunchConfigurationName == name {
			return nil, asgError(codeResourceInUse, "Cannot delete launch configuration %s because it is attached to AutoScalingGroup %s", name, g.Name)
		}
	}
	delete(r.LaunchConfigurations, name)
	return &autoscaling.DeleteLaunchConfigurationOutput{}, nil
}

// sixWeeks is how long AWS keeps scaling activities and refresh history.
const sixWeeks = 6 * 7 * 24 * time.Hour
