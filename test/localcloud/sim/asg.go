package sim

import (
	"context"
	"errors"
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

// AutoScaling serves the EC2 Auto Scaling API from the World. Every method
// has the aws-sdk-go-v2 client signature, takes the World lock and returns
// *api.Error values carrying AWS's error codes.
type AutoScaling struct {
	w *World
}

// AutoScaling returns the EC2 Auto Scaling API of the World.
func (w *World) AutoScaling() *AutoScaling { return &AutoScaling{w: w} }

// group returns the named group of the named region or AWS's error.
func (a *AutoScaling) group(region string, name *string) (*Region, *Group, error) {
	if name == nil || *name == "" {
		return nil, nil, missing("autoScalingGroupName")
	}
	r := a.w.region(region)
	g, ok := r.Groups[*name]
	if !ok {
		return r, nil, groupNotFound(*name)
	}
	return r, g, nil
}

// CreateAutoScalingGroup creates a group and starts launching its desired
// capacity. It returns ValidationError for bad input and AlreadyExists for a
// taken name.
func (a *AutoScaling) CreateAutoScalingGroup(ctx context.Context, in *autoscaling.CreateAutoScalingGroupInput, _ ...func(*autoscaling.Options)) (*autoscaling.CreateAutoScalingGroupOutput, error) {
	in, region, done := api.Begin(ctx, &a.w.mu, in)
	defer done()
	w := a.w
	r := w.region(region)
	switch {
	case in.AutoScalingGroupName == nil || *in.AutoScalingGroupName == "":
		return nil, missing("autoScalingGroupName")
	case in.MinSize == nil:
		return nil, missing("minSize")
	case in.MaxSize == nil:
		return nil, missing("maxSize")
	}
	name := *in.AutoScalingGroupName
	if len(name) > 255 {
		return nil, api.Validation("1 validation error detected: Value at 'autoScalingGroupName' failed to satisfy constraint: Member must have length less than or equal to 255")
	}
	if _, ok := r.Groups[name]; ok {
		return nil, asgError(codeAlreadyExists, "AutoScalingGroup by this name already exists - A group with the name %s already exists", name)
	}
	sources := 0
	for _, set := range []bool{in.LaunchTemplate != nil, in.LaunchConfigurationName != nil, in.MixedInstancesPolicy != nil, in.InstanceId != nil} {
		if set {
			sources++
		}
	}
	if sources != 1 {
		return nil, api.Validation("Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter.")
	}
	if in.InstanceId != nil {
		return nil, api.Validation("Creating a group from InstanceId is not supported by the local cloud; use a launch template.")
	}
	src, err := w.launchSourceFrom(r, in.LaunchTemplate, in.MixedInstancesPolicy, in.LaunchConfigurationName)
	if err != nil {
		return nil, err
	}
	src.VersionOmitted = in.LaunchTemplate != nil && in.LaunchTemplate.Version == nil
	minSize, maxSize := *in.MinSize, *in.MaxSize
	desired := minSize
	if in.DesiredCapacity != nil {
		desired = *in.DesiredCapacity
	}
	if err := checkSizes(minSize, maxSize, desired); err != nil {
		return nil, err
	}
	hct := "EC2"
	if in.HealthCheckType != nil {
		hct = *in.HealthCheckType
	}
	if err := checkHealthCheckType(hct); err != nil {
		return nil, err
	}
	var grace int32
	if in.HealthCheckGracePeriod != nil {
		if *in.HealthCheckGracePeriod < 0 {
			return nil, outOfRange("healthCheckGracePeriod", int64(*in.HealthCheckGracePeriod), 0, 1<<31-1)
		}
		grace = *in.HealthCheckGracePeriod
	}
	if in.DefaultInstanceWarmup != nil && *in.DefaultInstanceWarmup < -1 {
		return nil, outOfRange("defaultInstanceWarmup", int64(*in.DefaultInstanceWarmup), -1, 1<<31-1)
	}
	subnets := splitSubnets(in.VPCZoneIdentifier)
	if len(in.AvailabilityZones) == 0 && len(subnets) == 0 {
		return nil, api.Validation("At least one Availability Zone or VPC Subnet is required.")
	}
	if err := checkTargetGroups(r, in.TargetGroupARNs); err != nil {
		return nil, err
	}
	minH, maxH, err := checkMaintenancePolicy(in.InstanceMaintenancePolicy)
	if err != nil {
		return nil, err
	}
	tags, err := groupTagsFrom(name, in.Tags)
	if err != nil {
		return nil, err
	}
	// The hooks exist before the first launch, so that the group's first
	// instances wait on them too.
	hooks, err := hookSpecsFrom(in.LifecycleHookSpecificationList)
	if err != nil {
		return nil, err
	}
	now := w.now()
	g := &Group{
		Name:                   name,
		ARN:                    fmt.Sprintf("arn:aws:autoscaling:%s:%s:autoScalingGroup:%s:autoScalingGroupName/%s", r.Name, w.account, w.uuid(), name),
		MinSize:                minSize,
		MaxSize:                maxSize,
		DesiredCapacity:        desired,
		CreatedTime:            now,
		Launch:                 src,
		HealthCheckType:        hct,
		HealthCheckGracePeriod: grace,
		AvailabilityZones:      slices.Clone(in.AvailabilityZones),
		Subnets:                subnets,
		TargetGroupARNs:        slices.Clone(in.TargetGroupARNs),
		Tags:                   tags,
		TerminationPolicies:    []string{"Default"},
		MaintenanceMinHealthy:  minH,
		MaintenanceMaxHealthy:  maxH,
		SuspendedProcesses:     map[string]string{},
		Instances:              map[string]*GroupInstance{},
		Hooks:                  hooks,
		zoneCount:              map[string]int{},
	}
	if in.DefaultInstanceWarmup != nil && *in.DefaultInstanceWarmup >= 0 {
		g.DefaultInstanceWarmup = aws.Int32(*in.DefaultInstanceWarmup)
	}
	if len(in.TerminationPolicies) > 0 {
		g.TerminationPolicies = slices.Clone(in.TerminationPolicies)
	}
	if in.NewInstancesProtectedFromScaleIn != nil {
		g.NewInstancesProtectedFromScaleIn = *in.NewInstancesProtectedFromScaleIn
	}
	r.Groups[name] = g
	g.lastCause = fmt.Sprintf("At %s a user request created an AutoScalingGroup changing the desired capacity from 0 to %d.", stamp(now), desired)
	w.reconcile(r, g)
	return &autoscaling.CreateAutoScalingGroupOutput{}, nil
}

// UpdateAutoScalingGroup changes a group's settings. Changes to the launch
// source are refused while an instance refresh with a desired configuration
// runs, because that refresh owns the group's configuration until it ends.
func (a *AutoScaling) UpdateAutoScalingGroup(ctx context.Context, in *autoscaling.UpdateAutoScalingGroupInput, _ ...func(*autoscaling.Options)) (*autoscaling.UpdateAutoScalingGroupOutput, error) {
	in, region, done := api.Begin(ctx, &a.w.mu, in)
	defer done()
	w := a.w
	r, g, err := a.group(region, in.AutoScalingGroupName)
	if err != nil {
		return nil, err
	}
	if g.Status != "" {
		return nil, asgError(codeScalingActivityInProgress, "AutoScalingGroup %s is pending delete.", g.Name)
	}
	changesSource := in.LaunchTemplate != nil || in.MixedInstancesPolicy != nil || in.LaunchConfigurationName != nil
	if changesSource && g.active != nil && g.active.DesiredConfiguration != nil {
		return nil, api.Validation("An instance refresh with a desired configuration is in progress for Auto Scaling group %s. You can't change its launch template, launch configuration or mixed instances policy until the instance refresh ends.", g.Name)
	}
	src := g.Launch
	if changesSource {
		n := 0
		for _, set := range []bool{in.LaunchTemplate != nil, in.MixedInstancesPolicy != nil, in.LaunchConfigurationName != nil} {
			if set {
				n++
			}
		}
		if n > 1 {
			return nil, api.Validation("Valid requests must contain at most one of LaunchTemplate, LaunchConfigurationName or MixedInstancesPolicy parameter.")
		}
		if src, err = w.launchSourceFrom(r, in.LaunchTemplate, in.MixedInstancesPolicy, in.LaunchConfigurationName); err != nil {
			return nil, err
		}
		src.VersionOmitted = in.LaunchTemplate != nil && in.LaunchTemplate.Version == nil
	}
	minSize, maxSize, desired := g.MinSize, g.MaxSize, g.DesiredCapacity
	if in.MinSize != nil {
		minSize = *in.MinSize
	}
	if in.MaxSize != nil {
		maxSize = *in.MaxSize
	}
	if in.DesiredCapacity != nil {
		desired = *in.DesiredCapacity
	} else {
		// AWS moves the desired capacity into the new bounds when only the
		// bounds change.
		desired = max(min(desired, maxSize), minSize)
	}
	if err := checkSizes(minSize, maxSize, desired); err != nil {
		return nil, err
	}
	hct := g.HealthCheckType
	if in.HealthCheckType != nil {
		hct = *in.HealthCheckType
		if err := checkHealthCheckType(hct); err != nil {
			return nil, err
		}
	}
	if in.HealthCheckGracePeriod != nil && *in.HealthCheckGracePeriod < 0 {
		return nil, outOfRange("healthCheckGracePeriod", int64(*in.HealthCheckGracePeriod), 0, 1<<31-1)
	}
	if in.DefaultInstanceWarmup != nil && *in.DefaultInstanceWarmup < -1 {
		return nil, outOfRange("defaultInstanceWarmup", int64(*in.DefaultInstanceWarmup), -1, 1<<31-1)
	}
	minH, maxH, err := checkMaintenancePolicy(in.InstanceMaintenancePolicy)
	if err != nil {
		return nil, err
	}
	// Everything is valid: apply.
	g.Launch = src
	g.HealthCheckType = hct
	if in.HealthCheckGracePeriod != nil {
		g.HealthCheckGracePeriod = *in.HealthCheckGracePeriod
	}
	if in.DefaultInstanceWarmup != nil {
		if *in.DefaultInstanceWarmup < 0 {
			g.DefaultInstanceWarmup = nil
		} else {
			g.DefaultInstanceWarmup = aws.Int32(*in.DefaultInstanceWarmup)
		}
	}
	if in.InstanceMaintenancePolicy != nil {
		g.MaintenanceMinHealthy, g.MaintenanceMaxHealthy = minH, maxH
	}
	if len(in.AvailabilityZones) > 0 {
		g.AvailabilityZones = slices.Clone(in.AvailabilityZones)
	}
	if s := splitSubnets(in.VPCZoneIdentifier); len(s) > 0 {
		g.Subnets = s
	}
	if len(in.TerminationPolicies) > 0 {
		g.TerminationPolicies = slices.Clone(in.TerminationPolicies)
	}
	if in.NewInstancesProtectedFromScaleIn != nil {
		g.NewInstancesProtectedFromScaleIn = *in.NewInstancesProtectedFromScaleIn
	}
	if desired != g.DesiredCapacity {
		g.lastCause = fmt.Sprintf("At %s a user request update of AutoScalingGroup constraints to min: %d, max: %d, desired: %d changing the desired capacity from %d to %d.",
			stamp(w.now()), minSize, maxSize, desired, g.DesiredCapacity, desired)
	}
	g.MinSize, g.MaxSize, g.DesiredCapacity = minSize, maxSize, desired
	w.reconcile(r, g)
	w.refreshStep(r, g)
	return &autoscaling.UpdateAutoScalingGroupOutput{}, nil
}

// DeleteAutoScalingGroup deletes a group. Without ForceDelete a group with
// instances is refused (ResourceInUse), as is one with scaling activities
// still running (ScalingActivityInProgress); with it, the instances are
// terminated and the group disappears when the last one is gone.
func (a *AutoScaling) DeleteAutoScalingGroup(ctx context.Context, in *autoscaling.DeleteAutoScalingGroupInput, _ ...func(*autoscaling.Options)) (*autoscaling.DeleteAutoScalingGroupOutput, error) {
	in, region, done := api.Begin(ctx, &a.w.mu, in)
	defer done()
	w := a.w
	r, g, err := a.group(region, in.AutoScalingGroupName)
	if err != nil {
		return nil, err
	}
	force := aws.ToBool(in.ForceDelete)
	if !force {
		for _, act := range g.Activities {
			if act.StatusCode == ActivityInProgress || act.StatusCode == ActivityPreInService || act.StatusCode == ActivityMidLifecycleAction {
				return nil, asgError(codeScalingActivityInProgress, "You cannot delete an AutoScalingGroup while there are scaling activities in progress for that group.")
			}
		}
		if len(g.Instances) > 0 {
			return nil, asgError(codeResourceInUse, "You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group.")
		}
	}
	if ir := g.active; ir != nil {
		w.endRefresh(r, g, ir, RefreshCancelled, "The instance refresh was cancelled because the Auto Scaling group is being deleted.", "Cancelled")
	}
	g.Status = "Delete in progress"
	g.MinSize, g.MaxSize, g.DesiredCapacity = 0, 0, 0
	g.retryTimer.Stop()
	g.retryTimer = nil
	g.healthTimer.Stop()
	g.healthTimer = nil
	g.lastCause = fmt.Sprintf("At %s a user request deleted the AutoScalingGroup changing the desired capacity to 0.", stamp(w.now()))
	for _, gi := range g.sortedInstances() {
		switch {
		case gi.LifecycleState == LifecycleTerminatingWait:
			// A forced deletion drops the outstanding lifecycle actions
			// (ForceDelete in the API reference).
			w.dropActions(gi)
			gi.LifecycleState = LifecycleTerminatingProceed
			w.resumeActivity(gi.terminateAct)
			w.shutdown(r, g, gi)
		case !terminating(gi.LifecycleState):
			w.asgTerminate(r, g, gi, fmt.Sprintf("At %s an instance was taken out of service in response to a user request to delete the AutoScalingGroup.", stamp(w.now())))
		}
	}
	w.maybeRemoveGroup(r, g)
	return &autoscaling.DeleteAutoScalingGroupOutput{}, nil
}

// maybeRemoveGroup drops a group being deleted once its last instance is gone.
func (w *World) maybeRemoveGroup(r *Region, g *Group) {
	if g.Status != "" && len(g.Instances) == 0 && r.Groups[g.Name] == g {
		delete(r.Groups, g.Name)
	}
}

// DescribeAutoScalingGroups lists groups by name and filters (tag:KEY,
// tag-key, tag-value), sorted by name, 50 per page by default.
func (a *AutoScaling) DescribeAutoScalingGroups(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
	in, region, done := api.Begin(ctx, &a.w.mu, in)
	defer done()
	r := a.w.region(region)
	for _, f := range in.Filters {
		n := aws.ToString(f.Name)
		if n != "tag-key" && n != "tag-value" && !strings.HasPrefix(n, "tag:") {
			return nil, api.Validation("Filter name %s is not valid. Valid filter names are tag-key, tag-value and tag:<key>.", n)
		}
	}
	var names []string
	for n, g := range r.Groups {
		if len(in.AutoScalingGroupNames) > 0 && !slices.Contains(in.AutoScalingGroupNames, n) {
			continue
		}
		if !groupMatchesFilters(g, in.Filters) {
			continue
		}
		names = append(names, n)
	}
	sort.Strings(names)
	start, end, next, err := pageBounds(in.NextToken, in.MaxRecords, 50, 100, len(names))
	if err != nil {
		return nil, err
	}
	out := &autoscaling.DescribeAutoScalingGroupsOutput{AutoScalingGroups: []types.AutoScalingGroup{}, NextToken: tokenPtr(next)}
	withInstances := in.IncludeInstances == nil || *in.IncludeInstances
	for _, n := range names[start:end] {
		out.AutoScalingGroups = append(out.AutoScalingGroups, r.Groups[n].describe(withInstances))
	}
	return out, nil
}

// groupMatchesFilters applies DescribeAutoScalingGroups filters: values of
// one filter are ORed, filters are ANDed.
func groupMatchesFilters(g *Group, filters []types.Filter) bool {
	for _, f := range filters {
		n := aws.ToString(f.Name)
		hit := false
		for _, t := range g.Tags {
			switch {
			case n == "tag-key":
				hit = hit || slices.Contains(f.Values, t.Key)
			case n == "tag-value":
				hit = hit || slices.Contains(f.Values, t.Value)
			case strings.HasPrefix(n, "tag:"):
				hit = hit || (t.Key == strings.TrimPrefix(n, "tag:") && slices.Contains(f.Values, t.Value))
			}
		}
		if !hit {
			return false
		}
	}
	return true
}

// describe renders a group as the SDK's AutoScalingGroup.
func (g *Group) describe(withInstances bool) types.AutoScalingGroup {
	out := types.AutoScalingGroup{
		AutoScalingGroupName:             aws.String(g.Name),
		AutoScalingGroupARN:              aws.String(g.ARN),
		MinSize:                          aws.Int32(g.MinSize),
		MaxSize:                          aws.Int32(g.MaxSize),
		DesiredCapacity:                  aws.Int32(g.DesiredCapacity),
		DefaultCooldown:                  aws.Int32(300),
		CreatedTime:                      aws.Time(g.CreatedTime),
		HealthCheckType:                  aws.String(g.HealthCheckType),
		HealthCheckGracePeriod:           aws.Int32(g.HealthCheckGracePeriod),
		DefaultInstanceWarmup:            g.DefaultInstanceWarmup,
		AvailabilityZones:                g.zones(),
		TargetGroupARNs:                  slices.Clone(g.TargetGroupARNs),
		TerminationPolicies:              slices.Clone(g.TerminationPolicies),
		NewInstancesProtectedFromScaleIn: aws.Bool(g.NewInstancesProtectedFromScaleIn),
		ServiceLinkedRoleARN:             aws.String(fmt.Sprintf("arn:aws:iam::%s:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling", accountOf(g.ARN))),
		Instances:                        []types.Instance{},
		SuspendedProcesses:               []types.SuspendedProcess{},
		Tags:                             []types.TagDescription{},
		LoadBalancerNames:                []string{},
		EnabledMetrics:                   []types.EnabledMetric{},
	}
	if out.TargetGroupARNs == nil {
		out.TargetGroupARNs = []string{}
	}
	if len(g.Subnets) > 0 {
		out.VPCZoneIdentifier = aws.String(strings.Join(g.Subnets, ","))
	}
	if g.Status != "" {
		out.Status = aws.String(g.Status)
	}
	if g.MaintenanceMinHealthy != nil || g.MaintenanceMaxHealthy != nil {
		out.InstanceMaintenancePolicy = &types.InstanceMaintenancePolicy{MinHealthyPercentage: g.MaintenanceMinHealthy, MaxHealthyPercentage: g.MaintenanceMaxHealthy}
	}
	switch {
	case g.Launch.LaunchConfigurationName != "":
		out.LaunchConfigurationName = aws.String(g.Launch.LaunchConfigurationName)
	case g.Launch.MixedInstancesPolicy != nil:
		out.MixedInstancesPolicy = g.Launch.MixedInstancesPolicy
	default:
		out.LaunchTemplate = g.Launch.spec()
	}
	for _, p := range ScalingProcesses {
		if reason, ok := g.SuspendedProcesses[p]; ok {
			out.SuspendedProcesses = append(out.SuspendedProcesses, types.SuspendedProcess{ProcessName: aws.String(p), SuspensionReason: aws.String(reason)})
		}
	}
	for _, t := range g.Tags {
		out.Tags = append(out.Tags, g.tagDescription(t))
	}
	if withInstances {
		for _, gi := range g.sortedInstances() {
			out.Instances = append(out.Instances, gi.describe())
		}
	}
	return out
}

// zones returns the group's Availability Zones: those given, else the
// zones its subnet-launched instances landed in (the model does not map
// subnets to zones itself).
func (g *Group) zones() []string {
	if len(g.AvailabilityZones) > 0 {
		return slices.Clone(g.AvailabilityZones)
	}
	seen := map[string]bool{}
	out := []string{}
	for _, gi := range g.Instances {
		if gi.AvailabilityZone != "" && !seen[gi.AvailabilityZone] {
			seen[gi.AvailabilityZone] = true
			out = append(out, gi.AvailabilityZone)
		}
	}
	sort.Strings(out)
	return out
}

// accountOf extracts the account id from an ARN.
func accountOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 5 {
		return ""
	}
	return parts[4]
}

// sortedInstances returns the group's instances in launch order.
func (g *Group) sortedInstances() []*GroupInstance {
	out := make([]*GroupInstance, 0, len(g.Instances))
	for _, gi := range g.Instances {
		out = append(out, gi)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// describe renders an instance as the SDK's Instance.
func (gi *GroupInstance) describe() types.Instance {
	out := types.Instance{
		InstanceId:           aws.String(gi.InstanceID),
		AvailabilityZone:     aws.String(gi.AvailabilityZone),
		HealthStatus:         aws.String(gi.HealthStatus),
		LifecycleState:       types.LifecycleState(gi.LifecycleState),
		ProtectedFromScaleIn: aws.Bool(gi.ProtectedFromScaleIn),
		InstanceType:         aws.String(gi.InstanceType),
	}
	// No ImageId: AWS reports it only for instances whose root volume an
	// instance refresh replaced or that were launched with an AMI override,
	// neither of which the model does.
	if gi.LaunchTemplate != nil {
		out.LaunchTemplate = gi.LaunchTemplate.spec()
	}
	if gi.LaunchConfigurationName != "" {
		out.LaunchConfigurationName = aws.String(gi.LaunchConfigurationName)
	}
	return out
}

// spec renders a launch template reference.
func (s LaunchSource) spec() *types.LaunchTemplateSpecification {
	out := &types.LaunchTemplateSpecification{Version: aws.String(s.Version)}
	if s.VersionOmitted {
		out.Version = nil
	}
	if s.LaunchTemplateID != "" {
		out.LaunchTemplateId = aws.String(s.LaunchTemplateID)
	}
	if s.LaunchTemplateName != "" {
		out.LaunchTemplateName = aws.String(s.LaunchTemplateName)
	}
	return out
}

// launchSourceFrom validates a group's launch source: the template must
// exist and its version resolve, the launch configuration must exist.
func (w *World) launchSourceFrom(r *Region, lt *types.LaunchTemplateSpecification, mip *types.MixedInstancesPolicy, lcName *string) (LaunchSource, error) {
	switch {
	case lcName != nil:
		if _, ok := r.LaunchConfigurations[*lcName]; !ok {
			return LaunchSource{}, api.Validation("Launch configuration name not found - Launch configuration %s not found", *lcName)
		}
		return LaunchSource{LaunchConfigurationName: *lcName}, nil
	case lt != nil:
		return w.templateSource(r, lt)
	case mip != nil:
		if mip.LaunchTemplate == nil || mip.LaunchTemplate.LaunchTemplateSpecification == nil {
			return LaunchSource{}, missing("mixedInstancesPolicy.launchTemplate.launchTemplateSpecification")
		}
		src, err := w.templateSource(r, mip.LaunchTemplate.LaunchTemplateSpecification)
		if err != nil {
			return LaunchSource{}, err
		}
		src.MixedInstancesPolicy = mip
		for _, o := range mip.LaunchTemplate.Overrides {
			if o.InstanceRequirements != nil {
				src.AttributeBased = true
			}
			if o.InstanceRequirements != nil && o.InstanceType != nil {
				return LaunchSource{}, api.Validation("You can specify either InstanceType or InstanceRequirements in an override, but not both.")
			}
		}
		return src, nil
	}
	return LaunchSource{}, api.Validation("Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter.")
}

// templateSource validates one launch template reference.
func (w *World) templateSource(r *Region, lt *types.LaunchTemplateSpecification) (LaunchSource, error) {
	id, name := aws.ToString(lt.LaunchTemplateId), aws.ToString(lt.LaunchTemplateName)
	if (id == "") == (name == "") {
		return LaunchSource{}, api.Validation("Valid requests must contain either launchTemplateId or LaunchTemplateName.")
	}
	version := aws.ToString(lt.Version)
	if version == "" {
		version = "$Default"
	}
	tmpl, _, err := w.resolveLaunchTemplate(r, id, name, version)
	if err != nil {
		return LaunchSource{}, api.Validation("You must use a valid fully-formed launch template. %s", errorMessage(err))
	}
	return LaunchSource{LaunchTemplateID: tmpl.ID, LaunchTemplateName: tmpl.Name, Version: version}, nil
}

// errorMessage returns an API error's message, or the error's text.
func errorMessage(err error) string {
	var e *api.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// checkSizes applies AWS's min <= desired <= max rule.
func checkSizes(minSize, maxSize, desired int32) error {
	switch {
	case minSize < 0:
		return outOfRange("minSize", int64(minSize), 0, 1<<31-1)
	case maxSize < 0:
		return outOfRange("maxSize", int64(maxSize), 0, 1<<31-1)
	case minSize > maxSize:
		return api.Validation("Max bound, %d, must be greater than or equal to min bound, %d", maxSize, minSize)
	case desired < minSize || desired > maxSize:
		return api.Validation("Desired capacity:%d must be between the specified min size:%d and max size:%d", desired, minSize, maxSize)
	}
	return nil
}

// checkHealthCheckType accepts the health check types the model knows.
func checkHealthCheckType(t string) error {
	if t != "EC2" && t != "ELB" {
		return api.Validation("Health check type %s is not valid. Valid values are EC2 and ELB.", t)
	}
	return nil
}

// checkMaintenancePolicy validates an instance maintenance policy; -1
// clears a value.
func checkMaintenancePolicy(p *types.InstanceMaintenancePolicy) (minH, maxH *int32, err error) {
	if p == nil {
		return nil, nil, nil
	}
	if p.MinHealthyPercentage != nil && *p.MinHealthyPercentage != -1 {
		if v := *p.MinHealthyPercentage; v < 0 || v > 100 {
			return nil, nil, outOfRange("instanceMaintenancePolicy.minHealthyPercentage", int64(v), 0, 100)
		}
		minH = aws.Int32(*p.MinHealthyPercentage)
	}
	if p.MaxHealthyPercentage != nil && *p.MaxHealthyPercentage != -1 {
		if v := *p.MaxHealthyPercentage; v < 100 || v > 200 {
			return nil, nil, outOfRange("instanceMaintenancePolicy.maxHealthyPercentage", int64(v), 100, 200)
		}
		maxH = aws.Int32(*p.MaxHealthyPercentage)
	}
	if (minH == nil) != (maxH == nil) {
		return nil, nil, api.Validation("Both MinHealthyPercentage and MaxHealthyPercentage must be specified in an instance maintenance policy.")
	}
	if minH != nil && *maxH-*minH > 100 {
		return nil, nil, api.Validation("The difference between MaxHealthyPercentage and MinHealthyPercentage cannot be greater than 100.")
	}
	return minH, maxH, nil
}

// checkTargetGroups refuses target groups the ELB side does not know.
func checkTargetGroups(r *Region, arns []string) error {
	for _, arn := range arns {
		if _, ok := r.TargetGroups[arn]; !ok {
			return api.Validation("Provided Target Groups may not be valid. Please ensure they exist and try again.")
		}
	}
	return nil
}

// splitSubnets splits a VPCZoneIdentifier list.
func splitSubnets(v *string) []string {
	var out []string
	for _, s := range strings.Split(aws.ToString(v), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// stamp formats an instant the way activity causes quote it.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
