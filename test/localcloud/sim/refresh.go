package sim

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

// Limits of instance refresh preferences, from the API reference.
const (
	maxCheckpointDelay = 172800
	maxBakeTime        = 172800
	maxAlarms          = 10
	// defaultCheckpointDelay applies when checkpoints are given without a
	// delay.
	defaultCheckpointDelay = 3600
)

// StartInstanceRefresh starts a rolling instance refresh. It returns
// InstanceRefreshInProgress when the group already has an active refresh
// and ValidationError for preferences AWS refuses.
func (a *AutoScaling) StartInstanceRefresh(ctx context.Context, in *autoscaling.StartInstanceRefreshInput, _ ...func(*autoscaling.Options)) (*autoscaling.StartInstanceRefreshOutput, error) {
	in, region, done := api.Begin(ctx, &a.w.mu, in)
	defer done()
	w := a.w
	r, g, err := a.group(region, in.AutoScalingGroupName)
	if err != nil {
		return nil, err
	}
	if g.Status != "" {
		return nil, api.Validation("AutoScalingGroup %s is pending delete.", g.Name)
	}
	switch in.Strategy {
	case "", types.RefreshStrategyRolling:
	case types.RefreshStrategyReplaceRootVolume:
		return nil, api.Validation("The ReplaceRootVolume strategy is not supported by the local cloud; use Rolling.")
	default:
		return nil, api.Validation("1 validation error detected: Value '%s' at 'strategy' failed to satisfy constraint: Member must satisfy enum value set: [Rolling, ReplaceRootVolume]", in.Strategy)
	}
	if g.active != nil {
		return nil, asgError(codeInstanceRefreshInProgress, "An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.")
	}
	prefs, err := w.refreshPreferences(r, g, in.Preferences)
	if err != nil {
		return nil, err
	}
	target := g.Launch
	dc := in.DesiredConfiguration
	if dc != nil {
		if g.Launch.AttributeBased {
			return nil, api.Validation("You can't specify a desired configuration for an Auto Scaling group that uses attribute-based instance type selection.")
		}
		switch {
		case dc.LaunchTemplate == nil && dc.MixedInstancesPolicy == nil:
			return nil, api.Validation("The desired configuration must specify a launch template or a mixed instances policy.")
		case dc.LaunchTemplate != nil && dc.MixedInstancesPolicy != nil:
			return nil, api.Validation("The desired configuration can specify a launch template or a mixed instances policy, but not both.")
		}
		if target, err = w.launchSourceFrom(r, dc.LaunchTemplate, dc.MixedInstancesPolicy, nil); err != nil {
			return nil, err
		}
		if target.AttributeBased {
			return nil, api.Validation("You can't specify a desired configuration that uses attribute-based instance type selection.")
		}
	}
	if prefs.AutoRollback {
		switch {
		case dc == nil:
			return nil, api.Validation("The request isn't valid. The AutoRollback parameter cannot be set to true when the DesiredConfiguration parameter is empty. Set AutoRollback to false or specify a desired configuration and try again.")
		case g.Launch.LaunchConfigurationName != "":
			return nil, api.Validation("The request isn't valid. AutoRollback isn't supported for an Auto Scaling group that uses a launch configuration.")
		case g.Launch.usesAlias() || target.usesAlias():
			return nil, api.Validation("The request isn't valid. AutoRollback isn't supported when the Auto Scaling group or the desired configuration uses the $Latest or $Default launch template version. Specify a version number and try again.")
		case w.usesSSMImage(r, g.Launch) || w.usesSSMImage(r, target):
			return nil, api.Validation("The request isn't valid. AutoRollback isn't supported when the launch template uses a Systems Manager parameter instead of an AMI ID.")
		}
	}
	ir := &InstanceRefresh{
		ID:          w.uuid(),
		GroupName:   g.Name,
		Status:      RefreshPending,
		StartTime:   w.now(),
		Strategy:    string(types.RefreshStrategyRolling),
		Preferences: prefs,
		Target:      target,
		Saved:       g.Launch,
		queued:      map[string]bool{},
		waiting:     map[string]bool{},
	}
	if dc != nil {
		cp := *dc
		ir.DesiredConfiguration = &cp
	}
	g.pruneRefreshes(w.now())
	g.Refreshes = append(g.Refreshes, ir)
	g.active = ir
	// AWS answers first and starts the refresh a moment later; the model
	// starts it as soon as the clock next runs, at the same instant.
	ir.timers.start = w.schedule(0, "autoscaling start refresh "+ir.ID, func() {
		ir.timers.start = nil
		w.beginRefresh(r, g, ir)
	})
	return &autoscaling.StartInstanceRefreshOutput{InstanceRefreshId: aws.String(ir.ID)}, nil
}

// refreshPreferences applies AWS's validation and defaults to the
// preferences of a new refresh.
func (w *World) refreshPreferences(r *Region, g *Group, in *types.RefreshPreferences) (RefreshPreferences, error) {
	p := RefreshPreferences{
		MinHealthyPercentage:      90,
		ScaleInProtectedInstances: string(types.ScaleInProtectedInstancesWait),
		StandbyInstances:          string(types.StandbyInstancesWait),
	}
	if g.MaintenanceMinHealthy != nil {
		p.MinHealthyPercentage = *g.MaintenanceMinHealthy
		p.MaxHealthyPercentage = aws.Int32(*g.MaintenanceMaxHealthy)
	}
	if in == nil {
		in = &types.RefreshPreferences{}
	}
	if v := in.MinHealthyPercentage; v != nil {
		if *v < 0 || *v > 100 {
			return p, outOfRange("preferences.minHealthyPercentage", int64(*v), 0, 100)
		}
		p.MinHealthyPercentage = *v
	}
	if v := in.MaxHealthyPercentage; v != nil {
		if *v < 100 || *v > 200 {
			return p, outOfRange("preferences.maxHealthyPercentage", int64(*v), 100, 200)
		}
		if in.MinHealthyPercentage == nil && g.MaintenanceMinHealthy == nil {
			return p, api.Validation("The request isn't valid. If you specify MaxHealthyPercentage, you must also specify MinHealthyPercentage.")
		}
		p.MaxHealthyPercentage = aws.Int32(*v)
	}
	if p.MaxHealthyPercentage != nil && *p.MaxHealthyPercentage-p.MinHealthyPercentage > 100 {
		return p, api.Validation("The request isn't valid. The difference between MaxHealthyPercentage and MinHealthyPercentage can't be greater than 100.")
	}
	if v := in.InstanceWarmup; v != nil {
		if *v < 0 {
			return p, outOfRange("preferences.instanceWarmup", int64(*v), 0, 1<<31-1)
		}
		p.InstanceWarmup, p.InstanceWarmupSet = *v, true
	} else if g.DefaultInstanceWarmup != nil {
		p.InstanceWarmup = *g.DefaultInstanceWarmup
	} else {
		p.InstanceWarmup = g.HealthCheckGracePeriod
	}
	for i, c := range in.CheckpointPercentages {
		if c < 1 || c > 100 {
			return p, outOfRange("preferences.checkpointPercentages.member", int64(c), 1, 100)
		}
		if i > 0 && c <= in.CheckpointPercentages[i-1] {
			return p, api.Validation("The request isn't valid. CheckpointPercentages must be unique and in ascending order.")
		}
	}
	p.CheckpointPercentages = slices.Clone(in.CheckpointPercentages)
	if v := in.CheckpointDelay; v != nil {
		if len(in.CheckpointPercentages) == 0 {
			return p, api.Validation("The request isn't valid. If you specify CheckpointDelay, you must also specify CheckpointPercentages.")
		}
		if *v < 0 || *v > maxCheckpointDelay {
			return p, outOfRange("preferences.checkpointDelay", int64(*v), 0, maxCheckpointDelay)
		}
		p.CheckpointDelay = *v
	} else if len(p.CheckpointPercentages) > 0 {
		p.CheckpointDelay = defaultCheckpointDelay
	}
	if v := in.BakeTime; v != nil {
		if *v < 0 || *v > maxBakeTime {
			return p, outOfRange("preferences.bakeTime", int64(*v), 0, maxBakeTime)
		}
		p.BakeTime = *v
	}
	p.SkipMatching = aws.ToBool(in.SkipMatching)
	p.AutoRollback = aws.ToBool(in.AutoRollback)
	switch in.ScaleInProtectedInstances {
	case "":
	case types.ScaleInProtectedInstancesRefresh, types.ScaleInProtectedInstancesIgnore, types.ScaleInProtectedInstancesWait:
		p.ScaleInProtectedInstances = string(in.ScaleInProtectedInstances)
	default:
		return p, api.Validation("1 validation error detected: Value '%s' at 'preferences.scaleInProtectedInstances' failed to satisfy constraint: Member must satisfy enum value set: [Refresh, Ignore, Wait]", in.ScaleInProtectedInstances)
	}
	switch in.StandbyInstances {
	case "":
	case types.StandbyInstancesTerminate, types.StandbyInstancesIgnore, types.StandbyInstancesWait:
		p.StandbyInstances = string(in.StandbyInstances)
	default:
		return p, api.Validation("1 validation error detected: Value '%s' at 'preferences.standbyInstances' failed to satisfy constraint: Member must satisfy enum value set: [Terminate, Ignore, Wait]", in.StandbyInstances)
	}
	if spec := in.AlarmSpecification; spec != nil {
		if len(spec.Alarms) > maxAlarms {
			return p, api.Validation("1 validation error detected: Value at 'preferences.alarmSpecification.alarms' failed to satisfy constraint: Member must have length less than or equal to %d", maxAlarms)
		}
		for _, name := range spec.Alarms {
			if w.Alarms == nil {
				return p, api.Validation("The request isn't valid. The alarm %s doesn't exist.", name)
			}
			if _, ok := w.Alarms.AlarmState(r.Name, name); !ok {
				return p, api.Validation("The request isn't valid. The alarm %s doesn't exist.", name)
			}
		}
		p.Alarms = slices.Clone(spec.Alarms)
	}
	return p, nil
}

// pruneRefreshes forgets refreshes that ended more than six weeks ago.
func (g *Group) pruneRefreshes(now time.Time) {
	cutoff := now.Add(-sixWeeks)
	g.Refreshes = slices.DeleteFunc(g.Refreshes, func(ir *InstanceRefresh) bool {
		return ir.EndTime != nil && ir.EndTime.Before(cutoff)
	})
}

// DescribeInstanceRefreshes lists a group's instance refreshes, newest
// first, with their live progress. A group that does not exist has none.
func (a *AutoScaling) DescribeInstanceRefreshes(ctx context.Context, in *autoscaling.DescribeInstanceRefreshesInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribeInstanceRefreshesOutput, error) {
	in, region, done := api.Begin(ctx, &a.w.mu, in)
	defer done()
	if in.AutoScalingGroupName == nil || *in.AutoScalingGroupName == "" {
		return nil, missing("autoScalingGroupName")
	}
	r := a.w.region(region)
	var list []*InstanceRefresh
	if g, ok := r.Groups[*in.AutoScalingGroupName]; ok {
		g.pruneRefreshes(a.w.now())
		for i := len(g.Refreshes) - 1; i >= 0; i-- {
			ir := g.Refreshes[i]
			if len(in.InstanceRefreshIds) == 0 || slices.Contains(in.InstanceRefreshIds, ir.ID) {
				list = append(list, ir)
			}
		}
	}
	start, end, next, err := pageBounds(in.NextToken, in.MaxRecords, 50, 100, len(list))
	if err != nil {
		return nil, err
	}
	out := &autoscaling.DescribeInstanceRefreshesOutput{InstanceRefreshes: []types.InstanceRefresh{}, NextToken: tokenPtr(next)}
	for _, ir := range list[start:end] {
		out.InstanceRefreshes = append(out.InstanceRefreshes, ir.describe())
	}
	return out, nil
}

// describe renders a refresh as the SDK's InstanceRefresh.
func (ir *InstanceRefresh) describe() types.InstanceRefresh {
	p := ir.Preferences
	prefs := &types.RefreshPreferences{
		MinHealthyPercentage:      aws.Int32(p.MinHealthyPercentage),
		MaxHealthyPercentage:      p.MaxHealthyPercentage,
		InstanceWarmup:            aws.Int32(p.InstanceWarmup),
		SkipMatching:              aws.Bool(p.SkipMatching),
		AutoRollback:              aws.Bool(p.AutoRollback),
		BakeTime:                  aws.Int32(p.BakeTime),
		ScaleInProtectedInstances: types.ScaleInProtectedInstances(p.ScaleInProtectedInstances),
		StandbyInstances:          types.StandbyInstances(p.StandbyInstances),
	}
	if len(p.CheckpointPercentages) > 0 {
		prefs.CheckpointPercentages = slices.Clone(p.CheckpointPercentages)
		prefs.CheckpointDelay = aws.Int32(p.CheckpointDelay)
	}
	if len(p.Alarms) > 0 {
		prefs.AlarmSpecification = &types.AlarmSpecification{Alarms: slices.Clone(p.Alarms)}
	}
	out := types.InstanceRefresh{
		InstanceRefreshId:    aws.String(ir.ID),
		AutoScalingGroupName: aws.String(ir.GroupName),
		Status:               types.InstanceRefreshStatus(ir.Status),
		StartTime:            aws.Time(ir.StartTime),
		PercentageComplete:   aws.Int32(ir.PercentageComplete),
		InstancesToUpdate:    aws.Int32(ir.InstancesToUpdate),
		Preferences:          prefs,
		DesiredConfiguration: ir.DesiredConfiguration,
		Strategy:             types.RefreshStrategy(ir.Strategy),
		ProgressDetails: &types.InstanceRefreshProgressDetails{
			LivePoolProgress: &types.InstanceRefreshLivePoolProgress{
				PercentageComplete: aws.Int32(ir.PercentageComplete),
				InstancesToUpdate:  aws.Int32(ir.InstancesToUpdate),
			},
		},
	}
	if ir.StatusReason != "" {
		out.StatusReason = aws.String(ir.StatusReason)
	}
	if ir.EndTime != nil {
		out.EndTime = aws.Time(*ir.EndTime)
	}
	if rb := ir.Rollback; rb != nil {
		out.RollbackDetails = &types.RollbackDetails{
			RollbackReason:               aws.String(rb.RollbackReason),
			RollbackStartTime:            aws.Time(rb.RollbackStartTime),
			PercentageCompleteOnRollback: aws.Int32(rb.PercentageCompleteOnRollback),
			InstancesToUpdateOnRollback:  aws.Int32(rb.InstancesToUpdateOnRollback),
			ProgressDetailsOnRollback: &types.InstanceRefreshProgressDetails{
				LivePoolProgress: &types.InstanceRefreshLivePoolProgress{
					PercentageComplete: aws.Int32(rb.PercentageCompleteOnRollback),
					InstancesToUpdate:  aws.Int32(rb.InstancesToUpdateOnRollback),
				},
			},
		}
	}
	return out
}

// activeRefresh returns the group's refresh that Cancel and Rollback may
// act on, or ActiveInstanceRefreshNotFound.
func (a *AutoScaling) activeRefresh(g *Group, allowRollingBack bool) (*InstanceRefresh, error) {
	ir := g.active
	if ir == nil || ir.Status == RefreshCancelling || (!allowRollingBack && ir.Status == RefreshRollbackInProgress) {
		return nil, asgError(codeActiveInstanceRefreshNotFound, "No in progress or pending Instance Refresh found for Auto Scaling group %s", g.Name)
	}
	return ir, nil
}

// CancelInstanceRefresh cancels the active refresh or rollback. Replaced
// instances are not put back. With WaitForTransitioningInstances (the
// default) the refresh stays Cancelling until launches and terminations
// already under way have finished.
func (a *AutoScaling) CancelInstanceRefresh(ctx context.Context, in *autoscaling.CancelInstanceRefreshInput, _ ...func(*autoscaling.Options)) (*autoscaling.CancelInstanceRefreshOutput, error) {
	in, region, done := api.Begin(ctx, &a.w.mu, in)
	defer done()
	w := a.w
	r, g, err := a.group(region, in.AutoScalingGroupName)
	if err != nil {
		return nil, err
	}
	ir, err := a.activeRefresh(g, true)
	if err != nil {
		return nil, err
	}
	if ir.Status == RefreshPending {
		w.endRefresh(r, g, ir, RefreshCancelled, "The instance refresh was cancelled by a user request.", "Cancelled")
		return &autoscaling.CancelInstanceRefreshOutput{InstanceRefreshId: aws.String(ir.ID)}, nil
	}
	ir.timers.stopAll()
	ir.Status, ir.StatusReason = RefreshCancelling, "The instance refresh is being cancelled by a user request."
	ir.extra, ir.paused = 0, false
	if in.WaitForTransitioningInstances != nil && !*in.WaitForTransitioningInstances {
		w.endRefresh(r, g, ir, RefreshCancelled, "The instance refresh was cancelled by a user request.", "Cancelled")
	} else {
		// The status changes once the clock runs, so a caller sees
		// Cancelling first, as with AWS.
		w.schedule(0, "autoscaling cancel refresh "+ir.ID, func() { w.refreshStep(r, g) })
	}
	return &autoscaling.CancelInstanceRefreshOutput{InstanceRefreshId: aws.String(ir.ID)}, nil
}

// RollbackInstanceRefresh rolls back the active refresh: instances already
// replaced are replaced again from the configuration saved when the
// refresh started. It returns IrreversibleInstanceRefresh when AWS cannot
// roll back (no desired configuration, launch configurations, $Latest or
// $Default versions).
func (a *AutoScaling) RollbackInstanceRefresh(ctx context.Context, in *autoscaling.RollbackInstanceRefreshInput, _ ...func(*autoscaling.Options)) (*autoscaling.RollbackInstanceRefreshOutput, error) {
	in, region, done := api.Begin(ctx, &a.w.mu, in)
	defer done()
	w := a.w
	r, g, err := a.group(region, in.AutoScalingGroupName)
	if err != nil {
		return nil, err
	}
	ir, err := a.activeRefresh(g, false)
	if err != nil {
		return nil, err
	}
	if err := w.reversible(r, ir); err != nil {
		return nil, err
	}
	if ir.Status == RefreshPending {
		ir.timers.start.Stop()
		ir.timers.start = nil
		ir.Status, ir.phase = RefreshInProgress, 1
	}
	w.startRollback(r, g, ir, "The rollback was started by a user request.")
	return &autoscaling.RollbackInstanceRefreshOutput{InstanceRefreshId: aws.String(ir.ID)}, nil
}

// reversible tells whether AWS could roll the refresh back.
func (w *World) reversible(r *Region, ir *InstanceRefresh) error {
	switch {
	case ir.DesiredConfiguration == nil:
		return asgError(codeIrreversibleInstanceRefresh, "The instance refresh %s can't be rolled back because it has no desired configuration.", ir.ID)
	case ir.Saved.LaunchConfigurationName != "":
		return asgError(codeIrreversibleInstanceRefresh, "The instance refresh %s can't be rolled back because the Auto Scaling group uses a launch configuration.", ir.ID)
	case ir.Saved.usesAlias() || ir.Target.usesAlias():
		return asgError(codeIrreversibleInstanceRefresh, "The instance refresh %s can't be rolled back because the Auto Scaling group or the desired configuration uses the $Latest or $Default launch template version.", ir.ID)
	case w.usesSSMImage(r, ir.Saved) || w.usesSSMImage(r, ir.Target):
		return asgError(codeIrreversibleInstanceRefresh, "The instance refresh %s can't be rolled back because the launch template uses a Systems Manager parameter instead of an AMI ID.", ir.ID)
	}
	return nil
}

// usesSSMImage reports whether a launch template version takes its AMI
// from a Systems Manager parameter ("resolve:ssm:..."), which rules out
// rollback.
func (w *World) usesSSMImage(r *Region, s LaunchSource) bool {
	if s.LaunchConfigurationName != "" {
		return false
	}
	_, v, err := w.resolveSource(r, s)
	return err == nil && v != nil && strings.HasPrefix(v.ImageID, "resolve:ssm:")
}
