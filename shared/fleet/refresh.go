package fleet

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/phoenix-rollouts/phoenix/shared/awserr"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// IrreversibleError says Auto Scaling refused to roll an instance refresh
// back (IrreversibleInstanceRefresh): no desired configuration, a launch
// configuration, a $Latest or $Default version, or an image taken from a
// Systems Manager parameter. Retrying cannot help; the way back is to cancel
// and refresh to the last-known-good version.
type IrreversibleError struct {
	Group rollout.GroupKey
	Err   error
}

func (e *IrreversibleError) Error() string {
	return fmt.Sprintf("the instance refresh on %s cannot be rolled back (cancel it and refresh back to the last-known-good version instead): %v", e.Group, e.Err)
}

// Unwrap returns the AWS error.
func (e *IrreversibleError) Unwrap() error { return e.Err }

// StartRefresh starts a rolling instance refresh whose desired
// configuration names the numbered version; the group itself is not
// modified (FIELD-NOTES pitfall 2), and Auto Scaling moves it to the
// version only when the refresh succeeds. An active refresh on the group is
// a *rollout.RefreshInProgressError.
//
// Instances protected from scale in and instances in Standby are waited
// for (ScaleInProtectedInstances and StandbyInstances "Wait"), not skipped
// and not replaced: "Ignore" would let the refresh succeed with part of the
// fleet still on the old version, a half-changed fleet reported as done;
// "Refresh" and "Terminate" would override an operator's explicit choice to
// keep those instances. With "Wait" a refresh blocked by them fails after
// about an hour with a reason, and the rollout reverts and says so.
func (f *Fleet) StartRefresh(ctx context.Context, spec rollout.RefreshSpec) (string, error) {
	key := spec.Group
	g, err := f.describeGroup(ctx, key)
	if err != nil {
		return "", err
	}
	version := strconv.FormatInt(spec.Version, 10)
	lt := &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(spec.LaunchTemplateID), Version: aws.String(version)}
	desired := &astypes.DesiredConfiguration{}
	if g.MixedInstancesPolicy != nil {
		// A desired launch template alone would turn a mixed group into a
		// single-template group when the refresh succeeds, dropping its
		// overrides; the group's own policy with the new version keeps them.
		desired.MixedInstancesPolicy = withTemplate(g.MixedInstancesPolicy, lt)
	} else {
		desired.LaunchTemplate = lt
	}
	in := &autoscaling.StartInstanceRefreshInput{
		AutoScalingGroupName: aws.String(key.Name),
		Strategy:             astypes.RefreshStrategyRolling,
		DesiredConfiguration: desired,
		Preferences:          preferences(spec),
	}
	out, err := f.clients(key.Region).AutoScaling.StartInstanceRefresh(ctx, in)
	if err != nil {
		if awserr.Code(err) == "InstanceRefreshInProgress" {
			return "", &rollout.RefreshInProgressError{Group: key}
		}
		return "", classifyGroupCall("start instance refresh on", key, err)
	}
	id := aws.ToString(out.InstanceRefreshId)
	f.changed(ctx, "started instance refresh", "region", key.Region, "group", key.Name, "refreshId", id,
		"launchTemplateId", spec.LaunchTemplateID, "version", spec.Version, "checkpoints", spec.Checkpoints,
		"skipMatching", spec.SkipMatching, "autoRollbackAlarms", spec.AutoRollbackAlarms)
	return id, nil
}

// preferences maps a RefreshSpec to the refresh's preferences.
func preferences(spec rollout.RefreshSpec) *astypes.RefreshPreferences {
	p := &astypes.RefreshPreferences{
		MinHealthyPercentage:      aws.Int32(int32(spec.MinHealthy)),
		SkipMatching:              aws.Bool(spec.SkipMatching),
		ScaleInProtectedInstances: astypes.ScaleInProtectedInstancesWait,
		StandbyInstances:          astypes.StandbyInstancesWait,
	}
	if spec.MaxHealthy > 0 {
		p.MaxHealthyPercentage = aws.Int32(int32(spec.MaxHealthy))
	}
	if len(spec.Checkpoints) > 0 {
		for _, c := range spec.Checkpoints {
			p.CheckpointPercentages = append(p.CheckpointPercentages, int32(c))
		}
		// Auto Scaling refuses a delay without checkpoints.
		p.CheckpointDelay = aws.Int32(int32(spec.CheckpointDelay / time.Second))
	}
	if spec.Warmup > 0 {
		p.InstanceWarmup = aws.Int32(int32(spec.Warmup / time.Second))
	}
	if spec.Bake > 0 {
		p.BakeTime = aws.Int32(int32(spec.Bake / time.Second))
	}
	if len(spec.AutoRollbackAlarms) > 0 {
		p.AutoRollback = aws.Bool(true)
		p.AlarmSpecification = &astypes.AlarmSpecification{Alarms: append([]string(nil), spec.AutoRollbackAlarms...)}
	}
	return p
}

// inProgress lists the statuses in which Auto Scaling still accepts a
// rollback: the refresh has not ended and is not already rolling back.
var inProgress = map[astypes.InstanceRefreshStatus]bool{
	astypes.InstanceRefreshStatusPending:    true,
	astypes.InstanceRefreshStatusInProgress: true,
	astypes.InstanceRefreshStatusBaking:     true,
}

// Refreshes lists the group's instance refreshes (Auto Scaling keeps six
// weeks of them), newest first. RollbackEligible is computed as Auto
// Scaling decides it: the refresh is in progress, has a desired
// configuration naming a numbered launch template version, and the group
// it would restore also names a numbered version.
func (f *Fleet) Refreshes(ctx context.Context, key rollout.GroupKey) ([]rollout.Refresh, error) {
	raw, err := f.describeRefreshes(ctx, key)
	if err != nil {
		return nil, err
	}
	out := make([]rollout.Refresh, 0, len(raw))
	candidate := false
	for _, r := range raw {
		ref := refreshFrom(r)
		if ref.RollbackEligible {
			candidate = true
		}
		out = append(out, ref)
	}
	if candidate {
		// Rollback restores the configuration the group had when the
		// refresh started, which Auto Scaling keeps unchanged while a refresh
		// with a desired configuration runs: the group shows it now.
		g, err := f.describeGroup(ctx, key)
		if err != nil {
			return nil, err
		}
		cur := groupFrom(key, g)
		restorable := cur.LaunchConfigurationName == "" && numbered(cur.LaunchTemplateVersion)
		for i := range out {
			out[i].RollbackEligible = out[i].RollbackEligible && restorable
		}
	}
	return out, nil
}

// describeRefreshes pages through DescribeInstanceRefreshes, which lists
// newest first.
func (f *Fleet) describeRefreshes(ctx context.Context, key rollout.GroupKey) ([]astypes.InstanceRefresh, error) {
	p := autoscaling.NewDescribeInstanceRefreshesPaginator(f.clients(key.Region).AutoScaling, &autoscaling.DescribeInstanceRefreshesInput{
		AutoScalingGroupName: aws.String(key.Name),
	})
	var out []astypes.InstanceRefresh
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, classifyGroupCall("describe instance refreshes of", key, err)
		}
		out = append(out, page.InstanceRefreshes...)
	}
	return out, nil
}

// refreshFrom maps the SDK's refresh; RollbackEligible considers the
// refresh alone.
func refreshFrom(r astypes.InstanceRefresh) rollout.Refresh {
	out := rollout.Refresh{
		ID:                 aws.ToString(r.InstanceRefreshId),
		Status:             string(r.Status),
		StatusReason:       aws.ToString(r.StatusReason),
		PercentageComplete: int(aws.ToInt32(r.PercentageComplete)),
		InstancesToUpdate:  int(aws.ToInt32(r.InstancesToUpdate)),
		StartTime:          aws.ToTime(r.StartTime),
		EndTime:            aws.ToTime(r.EndTime),
	}
	if p := r.Preferences; p != nil && p.CheckpointDelay != nil {
		out.CheckpointDelay = time.Duration(*p.CheckpointDelay) * time.Second
	}
	if dc := r.DesiredConfiguration; dc != nil {
		spec := dc.LaunchTemplate
		if mip := dc.MixedInstancesPolicy; spec == nil && mip != nil && mip.LaunchTemplate != nil {
			spec = mip.LaunchTemplate.LaunchTemplateSpecification
		}
		if spec != nil {
			out.LaunchTemplateID = aws.ToString(spec.LaunchTemplateId)
			out.Version = versionAsWritten(spec.Version)
		}
		out.RollbackEligible = inProgress[r.Status] && spec != nil && numbered(out.Version)
	}
	return out
}

// numbered reports whether a launch template version is a version number
// rather than "$Latest" or "$Default".
func numbered(v string) bool {
	n, err := strconv.ParseInt(v, 10, 64)
	return err == nil && n > 0
}

// RollbackRefresh rolls back the group's active refresh. No active refresh
// is a *rollout.NotFoundError, unless the newest refresh is already rolling
// back or rolled back, which a repeated call finds and accepts. A refresh
// Auto Scaling cannot roll back is an *IrreversibleError.
func (f *Fleet) RollbackRefresh(ctx context.Context, key rollout.GroupKey) error {
	out, err := f.clients(key.Region).AutoScaling.RollbackInstanceRefresh(ctx, &autoscaling.RollbackInstanceRefreshInput{
		AutoScalingGroupName: aws.String(key.Name),
	})
	if err == nil {
		f.changed(ctx, "started instance refresh rollback", "region", key.Region, "group", key.Name, "refreshId", aws.ToString(out.InstanceRefreshId))
		return nil
	}
	switch awserr.Code(err) {
	case "ActiveInstanceRefreshNotFound":
		return f.alreadyIn(ctx, key, astypes.InstanceRefreshStatusRollbackInProgress,
			astypes.InstanceRefreshStatusRollbackSuccessful, astypes.InstanceRefreshStatusRollbackFailed)
	case "IrreversibleInstanceRefresh":
		return &IrreversibleError{Group: key, Err: err}
	}
	return classifyGroupCall("roll back instance refresh on", key, err)
}

// CancelRefresh cancels the group's active refresh (or its rollback). No
// active refresh is a *rollout.NotFoundError, unless the newest refresh is
// already cancelling or cancelled, which a repeated call finds and accepts.
func (f *Fleet) CancelRefresh(ctx context.Context, key rollout.GroupKey) error {
	out, err := f.clients(key.Region).AutoScaling.CancelInstanceRefresh(ctx, &autoscaling.CancelInstanceRefreshInput{
		AutoScalingGroupName: aws.String(key.Name),
	})
	if err == nil {
		f.changed(ctx, "cancelled instance refresh", "region", key.Region, "group", key.Name, "refreshId", aws.ToString(out.InstanceRefreshId))
		return nil
	}
	if awserr.Code(err) == "ActiveInstanceRefreshNotFound" {
		return f.alreadyIn(ctx, key, astypes.InstanceRefreshStatusCancelling, astypes.InstanceRefreshStatusCancelled)
	}
	return classifyGroupCall("cancel instance refresh on", key, err)
}

// alreadyIn decides an ActiveInstanceRefreshNotFound: nil when the newest
// refresh is in one of done (an earlier call got there), else a
// *rollout.NotFoundError.
func (f *Fleet) alreadyIn(ctx context.Context, key rollout.GroupKey, done ...astypes.InstanceRefreshStatus) error {
	p := autoscaling.NewDescribeInstanceRefreshesPaginator(f.clients(key.Region).AutoScaling, &autoscaling.DescribeInstanceRefreshesInput{
		AutoScalingGroupName: aws.String(key.Name),
		MaxRecords:           aws.Int32(1),
	})
	page, err := p.NextPage(ctx)
	if err != nil {
		return classifyGroupCall("describe instance refreshes of", key, err)
	}
	if len(page.InstanceRefreshes) > 0 {
		for _, s := range done {
			if page.InstanceRefreshes[0].Status == s {
				return nil
			}
		}
	}
	return &rollout.NotFoundError{Kind: "active instance refresh", ID: key.String()}
}
