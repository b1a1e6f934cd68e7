package fleet

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/phoenix-rollouts/phoenix/shared/awserr"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// instanceBatch bounds the instance ids per DescribeInstances filter: EC2
// caps the values of one filter, and a filter (unlike InstanceIds) does not
// fail the whole call when one instance has just gone away.
const instanceBatch = 100

// Group reads an Auto Scaling group and its instances, with each
// instance's image and launch time from EC2. A missing group is a
// *rollout.NotFoundError.
func (f *Fleet) Group(ctx context.Context, key rollout.GroupKey) (rollout.Group, error) {
	g, err := f.describeGroup(ctx, key)
	if err != nil {
		return rollout.Group{}, err
	}
	out := groupFrom(key, g)
	if err := f.addInstanceDetails(ctx, key.Region, out.Instances); err != nil {
		return rollout.Group{}, err
	}
	return out, nil
}

// describeGroup returns the SDK's view of one group.
func (f *Fleet) describeGroup(ctx context.Context, key rollout.GroupKey) (astypes.AutoScalingGroup, error) {
	out, err := f.clients(key.Region).AutoScaling.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{
		AutoScalingGroupNames: []string{key.Name},
	})
	if err != nil {
		return astypes.AutoScalingGroup{}, classifyGroupCall("describe auto scaling group", key, err)
	}
	for _, g := range out.AutoScalingGroups {
		if aws.ToString(g.AutoScalingGroupName) == key.Name {
			return g, nil
		}
	}
	// Auto Scaling answers an unknown name with an empty list, not an error.
	return astypes.AutoScalingGroup{}, &rollout.NotFoundError{Kind: "auto scaling group", ID: key.String()}
}

// groupFrom maps the SDK's group to the domain's.
func groupFrom(key rollout.GroupKey, g astypes.AutoScalingGroup) rollout.Group {
	out := rollout.Group{
		Key:                     key,
		ARN:                     aws.ToString(g.AutoScalingGroupARN),
		LaunchConfigurationName: aws.ToString(g.LaunchConfigurationName),
		Min:                     int(aws.ToInt32(g.MinSize)),
		Max:                     int(aws.ToInt32(g.MaxSize)),
		Desired:                 int(aws.ToInt32(g.DesiredCapacity)),
		HealthCheckType:         aws.ToString(g.HealthCheckType),
		GracePeriod:             seconds(g.HealthCheckGracePeriod),
		DefaultWarmup:           seconds(g.DefaultInstanceWarmup),
		TargetGroupARNs:         append([]string(nil), g.TargetGroupARNs...),
		Tags:                    map[string]string{},
	}
	if mip := g.MixedInstancesPolicy; mip != nil {
		out.MixedInstances = true
		if mip.LaunchTemplate != nil {
			for _, o := range mip.LaunchTemplate.Overrides {
				if o.InstanceRequirements != nil {
					out.AttributeBased = true
				}
				if t := aws.ToString(o.InstanceType); t != "" {
					out.InstanceTypes = append(out.InstanceTypes, t)
				}
			}
		}
	}
	if spec := templateSpec(g); spec != nil {
		out.LaunchTemplateID = aws.ToString(spec.LaunchTemplateId)
		out.LaunchTemplateVersion = versionAsWritten(spec.Version)
	}
	for _, p := range g.SuspendedProcesses {
		out.SuspendedProcesses = append(out.SuspendedProcesses, aws.ToString(p.ProcessName))
	}
	for _, t := range g.Tags {
		out.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	for _, in := range g.Instances {
		inst := rollout.Instance{
			ID:                   aws.ToString(in.InstanceId),
			Lifecycle:            string(in.LifecycleState),
			Health:               aws.ToString(in.HealthStatus),
			ProtectedFromScaleIn: aws.ToBool(in.ProtectedFromScaleIn),
		}
		if in.LaunchTemplate != nil {
			inst.LaunchTemplateVersion = aws.ToString(in.LaunchTemplate.Version)
		}
		out.Instances = append(out.Instances, inst)
	}
	return out
}

// templateSpec returns the launch template a group launches from: its own,
// or its mixed instances policy's; nil for a launch-configuration group.
func templateSpec(g astypes.AutoScalingGroup) *astypes.LaunchTemplateSpecification {
	if mip := g.MixedInstancesPolicy; mip != nil && mip.LaunchTemplate != nil {
		return mip.LaunchTemplate.LaunchTemplateSpecification
	}
	return g.LaunchTemplate
}

// versionAsWritten returns a group's launch template version; a group that
// names none launches the template's default version, which Auto Scaling
// spells "$Default".
func versionAsWritten(v *string) string {
	if s := aws.ToString(v); s != "" {
		return s
	}
	return "$Default"
}

// seconds turns an optional count of seconds into a duration; Auto Scaling
// uses -1 for "not set" in DefaultInstanceWarmup.
func seconds(v *int32) time.Duration {
	if v == nil || *v < 0 {
		return 0
	}
	return time.Duration(*v) * time.Second
}

// addInstanceDetails fills in each instance's image and launch time from
// DescribeInstances, in batches. An instance EC2 no longer shows keeps
// empty fields rather than failing the read: groups change while we look.
func (f *Fleet) addInstanceDetails(ctx context.Context, region string, insts []rollout.Instance) error {
	ec2c := f.clients(region).EC2
	byID := make(map[string]*rollout.Instance, len(insts))
	ids := make([]string, 0, len(insts))
	for i := range insts {
		byID[insts[i].ID] = &insts[i]
		ids = append(ids, insts[i].ID)
	}
	for start := 0; start < len(ids); start += instanceBatch {
		batch := ids[start:min(start+instanceBatch, len(ids))]
		p := ec2.NewDescribeInstancesPaginator(ec2c, &ec2.DescribeInstancesInput{
			Filters:    []ec2types.Filter{{Name: aws.String("instance-id"), Values: batch}},
			MaxResults: aws.Int32(1000),
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return awserr.Classify(fmt.Sprintf("describe instances in %s", region), err, "instance", "")
			}
			for _, r := range page.Reservations {
				for _, in := range r.Instances {
					if inst, ok := byID[aws.ToString(in.InstanceId)]; ok {
						inst.ImageID = aws.ToString(in.ImageId)
						inst.LaunchTime = aws.ToTime(in.LaunchTime)
					}
				}
			}
		}
	}
	return nil
}

// GroupsTagged reads every group of the region that carries the tag key,
// whatever its value, with instance details as Group gives them. Phoenix
// finds the groups it manages this way (phoenix:recycle, phoenix:alarms):
// a tag-key filter lets Auto Scaling do the selection, so a region with
// thousands of unrelated groups costs one page per 100 tagged ones.
func (f *Fleet) GroupsTagged(ctx context.Context, region, tagKey string) ([]rollout.Group, error) {
	out, err := f.GroupsTaggedShallow(ctx, region, tagKey)
	if err != nil {
		return nil, err
	}
	if err := f.addGroupsInstanceDetails(ctx, region, out); err != nil {
		return nil, err
	}
	return out, nil
}

// addGroupsInstanceDetails is addInstanceDetails over the instances of
// several groups of one region, in as few calls as their count allows.
func (f *Fleet) addGroupsInstanceDetails(ctx context.Context, region string, groups []rollout.Group) error {
	var insts []rollout.Instance
	for _, g := range groups {
		insts = append(insts, g.Instances...)
	}
	if err := f.addInstanceDetails(ctx, region, insts); err != nil {
		return err
	}
	// addInstanceDetails filled the flat copy; hand the details back.
	byID := make(map[string]rollout.Instance, len(insts))
	for _, in := range insts {
		byID[in.ID] = in
	}
	for gi := range groups {
		for ii, in := range groups[gi].Instances {
			groups[gi].Instances[ii] = byID[in.ID]
		}
	}
	return nil
}

// GroupsTaggedShallow is GroupsTagged without asking EC2 about the
// instances: each instance's ImageID and LaunchTime stay empty, the rest
// (configuration, tags, instance types, instances with their lifecycle,
// health and version) is as GroupsTagged gives it. Publishing targets
// groups by their tags and launch templates, and shell completion needs
// only names; neither should pay a DescribeInstances call per hundred
// instances, nor hold ec2:DescribeInstances.
func (f *Fleet) GroupsTaggedShallow(ctx context.Context, region, tagKey string) ([]rollout.Group, error) {
	return f.describeGroups(ctx, region, fmt.Sprintf("describe auto scaling groups tagged %s in %s", tagKey, region),
		[]astypes.Filter{{Name: aws.String("tag-key"), Values: []string{tagKey}}})
}

// Groups returns every group of the region, shallow (as
// GroupsTaggedShallow): the image lifecycle must see the groups Phoenix does
// not manage too, since one may launch from a version of a template Phoenix
// retires versions of.
func (f *Fleet) Groups(ctx context.Context, region string) ([]rollout.Group, error) {
	return f.describeGroups(ctx, region, fmt.Sprintf("describe auto scaling groups in %s", region), nil)
}

// describeGroups pages through the region's groups, 100 a page, filtered
// by filters (none: every group).
func (f *Fleet) describeGroups(ctx context.Context, region, op string, filters []astypes.Filter) ([]rollout.Group, error) {
	p := autoscaling.NewDescribeAutoScalingGroupsPaginator(f.clients(region).AutoScaling, &autoscaling.DescribeAutoScalingGroupsInput{
		Filters:    filters,
		MaxRecords: aws.Int32(100),
	})
	var out []rollout.Group
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, awserr.Classify(op, err, "auto scaling group", "")
		}
		for _, g := range page.AutoScalingGroups {
			out = append(out, groupFrom(rollout.GroupKey{Region: region, Name: aws.ToString(g.AutoScalingGroupName)}, g))
		}
	}
	return out, nil
}

// TemplateUsers names, sorted, the groups of the region whose launch
// template (the group's own, or its mixed instances policy's) is
// launchTemplateID. Auto Scaling has no filter by launch template, so it
// reads every group of the region, 100 a page: one call for most regions.
func (f *Fleet) TemplateUsers(ctx context.Context, region, launchTemplateID string) ([]string, error) {
	groups, err := f.Groups(ctx, region)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, g := range groups {
		if g.LaunchTemplateID == launchTemplateID {
			out = append(out, g.Key.Name)
		}
	}
	slices.Sort(out)
	return out, nil
}
