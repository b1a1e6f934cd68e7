package sim

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

// secondsOf converts an API seconds value.
func secondsOf(s int32) time.Duration { return time.Duration(s) * time.Second }

// SetDesiredCapacity changes a group's desired capacity within its bounds.
func (a *AutoScaling) SetDesiredCapacity(ctx context.Context, in *autoscaling.SetDesiredCapacityInput, _ ...func(*autoscaling.Options)) (*autoscaling.SetDesiredCapacityOutput, error) {
	in, region, done := api.Begin(ctx, &a.w.mu, in)
	defer done()
	w := a.w
	r, g, err := a.group(region, in.AutoScalingGroupName)
	if err != nil {
		return nil, err
	}
	if in.DesiredCapacity == nil {
		return nil, missing("desiredCapacity")
	}
	d := *in.DesiredCapacity
	switch {
	case d > g.MaxSize:
		return nil, api.Validation("New SetDesiredCapacity value %d is above max value %d for the AutoScalingGroup.", d, g.MaxSize)
	case d < g.MinSize:
		return nil, api.Validation("New SetDesiredCapacity value %d is below min value %d for the AutoScalingGroup.", d, g.MinSize)
	}
	if d != g.DesiredCapacity {
		g.lastCause = fmt.Sprintf("At %s a user request explicitly set group desired capacity changing the desired capacity from %d to %d.", stamp(w.now()), g.DesiredCapacity, d)
		g.DesiredCapacity = d
	}
	w.reconcile(r, g)
	w.refreshStep(r, g)
	return &autoscaling.SetDesiredCapacityOutput{}, nil
}

// DescribeAutoScalingInstances lists group instances of the region, by
// group then launch order, 50 per page.
func (a *AutoScaling) DescribeAutoScalingInstances(ctx context.Context, in *autoscaling.DescribeAutoScalingInstancesInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingInstancesOutput, error) {
	in, region, done := api.Begin(ctx, &a.w.mu, in)
	defer done()
	r := a.w.region(region)
	names := make([]string, 0, len(r.Groups))
	for n := range r.Groups {
		names = append(names, n)
	}
	sort.Strings(names)
	var all []types.AutoScalingInstanceDetails
	for _, n := range names {
		g := r.Groups[n]
		for _, gi := range g.sortedInstances() {
			if len(in.InstanceIds) > 0 && !slices.Contains(in.InstanceIds, gi.InstanceID) {
				continue
			}
			d := gi.describe()
			all = append(all, types.AutoScalingInstanceDetails{
				AutoScalingGroupName:    aws.String(g.Name),
				AvailabilityZone:        d.AvailabilityZone,
				HealthStatus:            aws.String(gi.HealthStatus),
				InstanceId:              d.InstanceId,
				LifecycleState:          aws.String(gi.LifecycleState),
				ProtectedFromScaleIn:    d.ProtectedFromScaleIn,
				InstanceType:            d.InstanceType,
				ImageId:                 d.ImageId,
				LaunchTemplate:          d.LaunchTemplate,
				LaunchConfigurationName: d.LaunchConfigurationName,
			})
		}
	}
	start, end, next, err := pageBounds(in.NextToken, in.MaxRecords, 50, 50, len(all))
	if err != nil {
		return nil, err
	}
	out := &autoscaling.DescribeAutoScalingInstancesOutput{AutoScalingInstances: []types.AutoScalingInstanceDetails{}, NextToken: tokenPtr(next)}
	out.AutoScalingInstances = append(out.AutoScalingInstances, all[start:end]...)
	return out, nil
}

// DescribeScalingActivities lists scaling activities newest first, 100 per
// page; activities older than six weeks are forgotten, as in AWS.
func (a *AutoScaling) DescribeScalingActivities(ctx context.Context, in *autoscaling.DescribeScalingActivitiesInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribeScalingActivitiesOutput, error) {
	in, region, done := api.Begin(ctx, &a.w.mu, in)
	defer done()
	w := a.w
	r := w.region(region)
	var groups []*Group
	if in.AutoScalingGroupName != nil {
		if g, ok := r.Groups[*in.AutoScalingGroupName]; ok {
			groups = append(groups, g)
		}
	} else {
		for _, g := range r.Groups {
			groups = append(groups, g)
		}
	}
	cutoff := w.now().Add(-sixWeeks)
	var all []*Activity
	for _, g := range groups {
		g.Activities = slices.DeleteFunc(g.Activities, func(act *Activity) bool { return act.StartTime.Before(cutoff) && act.EndTime != nil })
		for _, act := range g.Activities {
			if len(in.ActivityIds) == 0 || slices.Contains(in.ActivityIds, act.ActivityID) {
				all = append(all, act)
			}
		}
	}
	// Newest first; activities of one instant keep their creation order
	// reversed, which is what a newest-first reader expects.
	order := make(map[*Activity]int, len(all))
	for i, act := range all {
		order[act] = i
	}
	sort.SliceStable(all, func(i, j int) bool {
		if !all[i].StartTime.Equal(all[j].StartTime) {
			return all[i].StartTime.After(all[j].StartTime)
		}
		return order[all[i]] > order[all[j]]
	})
	start, end, next, err := pageBounds(in.NextToken, in.MaxRecords, 100, 100, len(all))
	if err != nil {
		return nil, err
	}
	out := &autoscaling.DescribeScalingActivitiesOutput{Activities: []types.Activity{}, NextToken: tokenPtr(next)}
	for _, act := range all[start:end] {
		out.Activities = append(out.Activities, act.describe())
	}
	return out, nil
}

// describe renders an activity.
func (act *Activity) describe() types.Activity {
	out := types.Activity{
		ActivityId:           aws.String(act.ActivityID),
		AutoScalingGroupName: aws.String(act.GroupName),
		AutoScalingGroupARN:  aws.String(act.GroupARN),
		Description:          aws.String(act.Description),
		Cause:                aws.String(act.Cause),
		Details:              aws.String(act.Details),
		StartTime:            aws.Time(act.StartTime),
		StatusCode:           types.ScalingActivityStatusCode(act.StatusCode),
		Progress:             aws.Int32(act.Progress),
	}
	if act.EndTime != nil {
		out.EndTime = aws.Time(*act.EndTime)
	}
	if act.StatusMessage != "" {
		out.StatusMessage = aws.String(act.StatusMessage)
	}
	return out
}

// processesFrom validates process names; none means all of them.
func processesFrom(names []string) ([]string, error) {
	if len(names) == 0 {
		return ScalingProcesses, nil
	}
	for _, n := range names {
		if !slices.Contains(ScalingProcesses, n) {
			return nil, api.Validation("Invalid process name %s. Valid process names are Launch, Terminate, AddToLoadBalancer, AlarmNotification, AZRebalance, HealthCheck, InstanceRefresh, ReplaceUnhealthy and ScheduledActions.", n)
		}
	}
	return names, nil
}

// SuspendProcesses suspends scaling processes of a group (all of them when
// none are named).
func (a *AutoScaling) SuspendProcesses(ctx context.Context, in *autoscaling.SuspendProcessesInput, _ ...func(*autoscaling.Options)) (*autoscaling.SuspendProcessesOutput, error) {
	in, region, done := api.Begin(ctx, &a.w.mu, in)
	defer done()
	_, g, err := a.group(region, in.AutoScalingGroupName)
	if err != nil {
		return nil, err
	}
	names, err := processesFrom(in.ScalingProcesses)
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		if _, ok := g.SuspendedProcesses[n]; !ok {
			g.SuspendedProcesses[n] = fmt.Sprintf("User suspended at %s", stamp(a.w.now()))
		}
	}
	if ir := g.active; ir != nil && g.suspended(ProcessInstanceRefresh) {
		// A suspended refresh makes no progress by design: its failure
		// window starts again when it is resumed.
		ir.timers.stall.Stop()
		ir.timers.stall = nil
	}
	return &autoscaling.SuspendProcessesOutput{}, nil
}

// ResumeProcesses resumes scaling processes of a group (all of them when
// none are named) and lets the group catch up at once.
func (a *AutoScaling) ResumeProcesses(ctx context.Context, in *autoscaling.ResumeProcessesInput, _ ...func(*autoscaling.Options)) (*autoscaling.ResumeProcessesOutput, error) {
	in, region, done := api.Begin(ctx, &a.w.mu, in)
	defer done()
	w := a.w
	r, g, err := a.group(region, in.AutoScalingGroupName)
	if err != nil {
		return nil, err
	}
	names, err := processesFrom(in.ScalingProcesses)
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		delete(g.SuspendedProcesses, n)
	}
	if !g.suspended(ProcessAddToLoadBalancer) {
		for _, gi := range g.sortedInstances() {
			if gi.LifecycleState == LifecycleInService && len(gi.registered) == 0 && len(g.TargetGroupARNs) > 0 {
				w.registerAll(r, g, gi)
			}
		}
	}
	if !g.suspended(ProcessReplaceUnhealthy) {
		for _, gi := range g.sortedInstances() {
			if gi.HealthStatus == HealthUnhealthy && gi.LifecycleState == LifecycleInService {
				w.asgTerminate(r, g, gi, fmt.Sprintf("At %s an instance was taken out of service in response to a health check failure.", stamp(w.now())))
			}
		}
	}
	w.reconcile(r, g)
	if ir := g.active; ir != nil && !g.suspended(ProcessInstanceRefresh) {
		w.armStall(r, g, ir)
	}
	w.refreshStep(r, g)
	return &autoscaling.ResumeProcessesOutput{}, nil
}

// groupInstances resolves instance ids of one group, refusing ids that are
// not in it.
func (a *AutoScaling) groupInstances(g *Group, ids []string) ([]*GroupInstance, error) {
	if len(ids) == 0 {
		return nil, missing("instanceIds")
	}
	out := make([]*GroupInstance, 0, len(ids))
	for _, id := range ids {
		gi, ok := g.Instances[id]
		if !ok {
			return nil, api.Validation("The instance %s is not part of Auto Scaling group %s.", id, g.Name)
		}
		out = append(out, gi)
	}
	return out, nil
}

// SetInstanceProtection sets or clears scale-in protection of instances.
func (a *AutoScaling) SetInstanceProtection(ctx context.Context, in *autoscaling.SetInstanceProtectionInput, _ ...func(*autoscaling.Options)) (*autoscaling.SetInstanceProtectionOutput, error) {
	in, region, done := api.Begin(ctx, &a.w.mu, in)
	defer done()
	r, g, err := a.group(region, in.AutoScalingGroupName)
	if err != nil {
		return nil, err
	}
	if in.ProtectedFromScaleIn == nil {
		return nil, missing("protectedFromScaleIn")
	}
	gis, err := a.groupInstances(g, in.InstanceIds)
	if err != nil {
		return nil, err
	}
	for _, gi := range gis {
		gi.ProtectedFromScaleIn = *in.ProtectedFromScaleIn
		if !gi.ProtectedFromScaleIn {
			a.w.releaseWaiting(g, gi)
		}
	}
	a.w.reconcile(r, g)
	a.w.refreshStep(r, g)
	return &autoscaling.SetInstanceProtectionOutput{}, nil
}

// EnterStandby moves InService instances to Standby: they are deregistered
// from the group's target groups and stop counting toward its capacity.
// Without ShouldDecrementDesiredCapacity the group launches replacements.
func (a *AutoScaling) EnterStandby(ctx context.Context, in *autoscaling.EnterStandbyInput, _ ...func(*autoscaling.Options)) (*autoscaling.EnterStandbyOutput, error) {
	in, region, done := api.Begin(ctx, &a.w.mu, in)
	defer done()
	w := a.w
	r, g, err := a.group(region, in.AutoScalingGroupName)
	if err != nil {
		return nil, err
	}
	if in.ShouldDecrementDesiredCapacity == nil {
		return nil, missing("shouldDecrementDesiredCapacity")
	}
	gis, err := a.groupInstances(g, in.InstanceIds)
	if err != nil {
		return nil, err
	}
	for _, gi := range gis {
		if gi.LifecycleState != LifecycleInService {
			return nil, api.Validation("The instance %s is not in InService.", gi.InstanceID)
		}
	}
	n := int32(len(gis))
	decrement := *in.ShouldDecrementDesiredCapacity
	if decrement && g.DesiredCapacity-n < g.MinSize {
		return nil, api.Validation("AutoScalingGroup %s has min-size=%d, max-size=%d, and desired-size=%d. To place into standby %d instances, please update the AutoScalingGroup sizes appropriately.", g.Name, g.MinSize, g.MaxSize, g.DesiredCapacity, n)
	}
	from := g.capacity
	out := &autoscaling.EnterStandbyOutput{}
	if decrement {
		g.lastCause = fmt.Sprintf("At %s a user request moved instances to standby changing the desired capacity from %d to %d.", stamp(w.now()), g.DesiredCapacity, g.DesiredCapacity-n)
		g.DesiredCapacity -= n
	}
	for _, gi := range gis {
		gi.LifecycleState = LifecycleEnteringStandby
		gi.Ready = false
		w.tally(g, gi)
		for _, arn := range gi.registered {
			_ = w.deregisterTarget(r, arn, gi.InstanceID)
		}
		gi.registered = nil
		act := g.addActivity(w, "Moving EC2 instance to Standby: "+gi.InstanceID,
			fmt.Sprintf("At %s instance %s was moved to standby in response to a user request, shrinking the capacity from %d to %d.", stamp(w.now()), gi.InstanceID, from, from-1),
			zoneDetails("", gi.AvailabilityZone))
		act.Progress = 50
		from--
		out.Activities = append(out.Activities, act.describe())
		// EnteringStandby is brief; the instance is in Standby once the
		// request has been processed.
		w.schedule(0, "autoscaling standby "+gi.InstanceID, func() {
			if gi.LifecycleState == LifecycleEnteringStandby {
				gi.LifecycleState = LifecycleStandby
				w.finishActivity(act, ActivitySuccessful)
				w.refreshStep(r, g)
			}
		})
	}
	w.reconcile(r, g)
	w.refreshStep(r, g)
	return out, nil
}

// ExitStandby returns Standby instances to service, incrementing the
// group's desired capacity.
func (a *AutoScaling) ExitStandby(ctx context.Context, in *autoscaling.ExitStandbyInput, _ ...func(*autoscaling.Options)) (*autoscaling.ExitStandbyOutput, error) {
	in, region, done := api.Begin(ctx, &a.w.mu, in)
	defer done()
	w := a.w
	r, g, err := a.group(region, in.AutoScalingGroupName)
	if err != nil {
		return nil, err
	}
	gis, err := a.groupInstances(g, in.InstanceIds)
	if err != nil {
		return nil, err
	}
	for _, gi := range gis {
		if gi.LifecycleState != LifecycleStandby {
			return nil, api.Validation("The instance %s is not in Standby.", gi.InstanceID)
		}
	}
	n := int32(len(gis))
	if g.DesiredCapacity+n > g.MaxSize {
		return nil, api.Validation("AutoScalingGroup %s has min-size=%d, max-size=%d, and desired-size=%d. To exit standby %d instances, please update the AutoScalingGroup sizes appropriately.", g.Name, g.MinSize, g.MaxSize, g.DesiredCapacity, n)
	}
	g.lastCause = fmt.Sprintf("At %s a user request moved instances out of standby changing the desired capacity from %d to %d.", stamp(w.now()), g.DesiredCapacity, g.DesiredCapacity+n)
	g.DesiredCapacity += n
	out := &autoscaling.ExitStandbyOutput{}
	for _, gi := range gis {
		from := g.capacity
		gi.LifecycleState = LifecyclePending
		gi.Ready = false
		w.tally(g, gi)
		act := g.addActivity(w, "Moving EC2 instance out of Standby: "+gi.InstanceID,
			fmt.Sprintf("At %s instance %s was moved out of standby in response to a user request, increasing the capacity from %d to %d.", stamp(w.now()), gi.InstanceID, from, from+1),
			zoneDetails("", gi.AvailabilityZone))
		act.StatusCode, act.Progress = ActivityPreInService, 30
		out.Activities = append(out.Activities, act.describe())
		gi.launchAct = act
		w.releaseWaiting(g, gi)
		w.goInService(r, g, gi)
	}
	w.reconcile(r, g)
	w.refreshStep(r, g)
	return out, nil
}

// TerminateInstanceInAutoScalingGroup terminates one instance; without
// ShouldDecrementDesiredCapacity the group launches a replacement.
func (a *AutoScaling) TerminateInstanceInAutoScalingGroup(ctx context.Context, in *autoscaling.TerminateInstanceInAutoScalingGroupInput, _ ...func(*autoscaling.Options)) (*autoscaling.TerminateInstanceInAutoScalingGroupOutput, error) {
	in, region, done := api.Begin(ctx, &a.w.mu, in)
	defer done()
	w := a.w
	id := aws.ToString(in.InstanceId)
	if id == "" {
		return nil, missing("instanceId")
	}
	if in.ShouldDecrementDesiredCapacity == nil {
		return nil, missing("shouldDecrementDesiredCapacity")
	}
	r := w.region(region)
	var g *Group
	var gi *GroupInstance
	if inst, ok := r.Instances[id]; ok {
		g, gi = groupInstanceOf(r, inst)
	}
	if gi == nil {
		return nil, api.Validation("Instance Id not found - No managed instance found for instance ID: %s", id)
	}
	decrement := *in.ShouldDecrementDesiredCapacity
	if decrement && gi.counted && g.DesiredCapacity-1 < g.MinSize {
		return nil, api.Validation("Currently, desiredSize equals minSize (%d). Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.", g.MinSize)
	}
	from := g.capacity
	cause := fmt.Sprintf("At %s instance %s was taken out of service in response to a user request.", stamp(w.now()), id)
	if decrement && gi.counted {
		cause = fmt.Sprintf("At %s instance %s was taken out of service in response to a user request, shrinking the capacity from %d to %d.", stamp(w.now()), id, from, from-1)
		g.lastCause = fmt.Sprintf("At %s a user request terminated an instance changing the desired capacity from %d to %d.", stamp(w.now()), g.DesiredCapacity, g.DesiredCapacity-1)
		g.DesiredCapacity--
	}
	w.asgTerminate(r, g, gi, cause)
	act := gi.terminateAct
	w.reconcile(r, g)
	w.refreshStep(r, g)
	d := act.describe()
	return &autoscaling.TerminateInstanceInAutoScalingGroupOutput{Activity: &d}, nil
}

// SetInstanceHealth sets the health status of an instance; an Unhealthy
// instance is replaced unless ReplaceUnhealthy is suspended.
func (a *AutoScaling) SetInstanceHealth(ctx context.Context, in *autoscaling.SetInstanceHealthInput, _ ...func(*autoscaling.Options)) (*autoscaling.SetInstanceHealthOutput, error) {
	in, region, done := api.Begin(ctx, &a.w.mu, in)
	defer done()
	w := a.w
	id, status := aws.ToString(in.InstanceId), aws.ToString(in.HealthStatus)
	switch {
	case id == "":
		return nil, missing("instanceId")
	case status != HealthHealthy && status != HealthUnhealthy:
		return nil, api.Validation("Valid values for HealthStatus are Healthy and Unhealthy.")
	}
	r := w.region(region)
	var g *Group
	var gi *GroupInstance
	if inst, ok := r.Instances[id]; ok {
		g, gi = groupInstanceOf(r, inst)
	}
	if gi == nil {
		return nil, api.Validation("Instance Id not found - No managed instance found for instance ID: %s", id)
	}
	if status == HealthUnhealthy {
		w.markUnhealthy(r, g, gi, "a user request that set its health status to Unhealthy")
		return &autoscaling.SetInstanceHealthOutput{}, nil
	}
	if !terminating(gi.LifecycleState) {
		gi.HealthStatus = HealthHealthy
		w.tally(g, gi)
		w.evalReady(r, g, gi)
	}
	return &autoscaling.SetInstanceHealthOutput{}, nil
}
