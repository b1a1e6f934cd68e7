package fleet_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/phoenix-rollouts/phoenix/shared/fleet"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

func TestStartRefresh(t *testing.T) {
	t.Parallel()
	t.Run("a refresh started with a desired configuration leaves the group's launch template alone until it succeeds", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, groupOptions{})
		img := w.newImage(t, "web-v2", ec2types.ArchitectureValuesX8664, "healthy")
		v := w.version(t, img)
		id, err := w.fleet.StartRefresh(w.ctx, w.spec(v))
		if err != nil {
			t.Fatal(err)
		}
		w.env.RunUntil(t, time.Hour, "the first checkpoint", func() bool { return w.refresh(t).PercentageComplete >= 50 })
		if g := w.group(t); g.LaunchTemplateVersion != "1" {
			t.Errorf("group on version %s mid-refresh, want 1 until the refresh succeeds", g.LaunchTemplateVersion)
		}
		w.untilRefresh(t, 3*time.Hour, "Successful")
		r := w.refresh(t)
		if r.ID != id || r.LaunchTemplateID != w.ltID || r.Version != "2" || r.CheckpointDelay != time.Minute || r.RollbackEligible {
			t.Errorf("refresh %+v, want %s to %s 2, delay 1m, no rollback after success", r, id, w.ltID)
		}
		g := w.group(t)
		if g.LaunchTemplateVersion != "2" {
			t.Errorf("group on version %s after success, want 2", g.LaunchTemplateVersion)
		}
		inService := 0
		for _, in := range g.Instances {
			if in.Lifecycle != "InService" {
				continue // the replaced instances may still be terminating
			}
			inService++
			if in.ImageID != img || in.LaunchTemplateVersion != "2" {
				t.Errorf("instance %+v in service after success, want %s from version 2", in, img)
			}
		}
		if inService != 2 {
			t.Errorf("%d instances in service after success, want 2", inService)
		}
	})
	t.Run("the preferences are the spec's, waiting for protected and standby instances", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, groupOptions{})
		for _, name := range []string{"web-5xx", "web-latency"} {
			_, err := w.env.CloudWatch.PutMetricAlarm(w.ctx, &cloudwatch.PutMetricAlarmInput{
				AlarmName: aws.String(name), Namespace: aws.String("AWS/ApplicationELB"), MetricName: aws.String("HTTPCode_Target_5XX_Count"),
				Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(10),
				ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		spec := w.spec(w.version(t, w.newImage(t, "web-v2", ec2types.ArchitectureValuesX8664, "healthy")))
		spec.Bake = 5 * time.Minute
		spec.AutoRollbackAlarms = []string{"web-5xx", "web-latency"}
		if _, err := w.fleet.StartRefresh(w.ctx, spec); err != nil {
			t.Fatal(err)
		}
		out, err := w.env.AutoScaling.DescribeInstanceRefreshes(w.ctx, &autoscaling.DescribeInstanceRefreshesInput{AutoScalingGroupName: aws.String(groupName)})
		if err != nil {
			t.Fatal(err)
		}
		r := out.InstanceRefreshes[0]
		p := r.Preferences
		if !slices.Equal(p.CheckpointPercentages, []int32{50, 100}) || aws.ToInt32(p.CheckpointDelay) != 60 ||
			aws.ToInt32(p.MinHealthyPercentage) != 100 || aws.ToInt32(p.MaxHealthyPercentage) != 150 ||
			aws.ToInt32(p.InstanceWarmup) != 30 || aws.ToInt32(p.BakeTime) != 300 || !aws.ToBool(p.SkipMatching) {
			t.Errorf("preferences %+v", p)
		}
		if p.ScaleInProtectedInstances != astypes.ScaleInProtectedInstancesWait || p.StandbyInstances != astypes.StandbyInstancesWait {
			t.Errorf("protected %s, standby %s, want Wait and Wait", p.ScaleInProtectedInstances, p.StandbyInstances)
		}
		if !aws.ToBool(p.AutoRollback) || p.AlarmSpecification == nil || !slices.Equal(p.AlarmSpecification.Alarms, spec.AutoRollbackAlarms) {
			t.Errorf("auto rollback %v with %+v", aws.ToBool(p.AutoRollback), p.AlarmSpecification)
		}
		dc := r.DesiredConfiguration
		if dc == nil || dc.LaunchTemplate == nil || aws.ToString(dc.LaunchTemplate.LaunchTemplateId) != w.ltID ||
			aws.ToString(dc.LaunchTemplate.Version) != "2" || dc.MixedInstancesPolicy != nil {
			t.Errorf("desired configuration %+v, want launch template %s version 2 only", dc, w.ltID)
		}
	})
	t.Run("a zero warmup leaves the group's default and no alarms leave AutoRollback off", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, groupOptions{})
		spec := w.spec(w.version(t, w.newImage(t, "web-v2", ec2types.ArchitectureValuesX8664, "healthy")))
		spec.Warmup = 0
		if _, err := w.fleet.StartRefresh(w.ctx, spec); err != nil {
			t.Fatal(err)
		}
		out, err := w.env.AutoScaling.DescribeInstanceRefreshes(w.ctx, &autoscaling.DescribeInstanceRefreshesInput{AutoScalingGroupName: aws.String(groupName)})
		if err != nil {
			t.Fatal(err)
		}
		p := out.InstanceRefreshes[0].Preferences
		if aws.ToInt32(p.InstanceWarmup) != 60 || aws.ToBool(p.AutoRollback) {
			t.Errorf("warmup %d (want the group's 60), auto rollback %v", aws.ToInt32(p.InstanceWarmup), aws.ToBool(p.AutoRollback))
		}
	})
	t.Run("a second refresh is reported as RefreshInProgressError", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, groupOptions{})
		spec := w.spec(w.version(t, w.newImage(t, "web-v2", ec2types.ArchitectureValuesX8664, "healthy")))
		if _, err := w.fleet.StartRefresh(w.ctx, spec); err != nil {
			t.Fatal(err)
		}
		_, err := w.fleet.StartRefresh(w.ctx, spec)
		var rip *rollout.RefreshInProgressError
		if !errors.As(err, &rip) || rip.Group != w.key {
			t.Fatalf("second start: %v (%T), want RefreshInProgressError for %s", err, err, w.key)
		}
	})
	t.Run("a mixed group refreshes to the new version and keeps its overrides", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, groupOptions{overrides: []string{"t3.micro", "t3a.micro"}})
		img := w.newImage(t, "web-v2", ec2types.ArchitectureValuesX8664, "healthy")
		if _, err := w.fleet.StartRefresh(w.ctx, w.spec(w.version(t, img))); err != nil {
			t.Fatal(err)
		}
		if r := w.refresh(t); !r.RollbackEligible || r.Version != "2" || r.LaunchTemplateID != w.ltID {
			t.Errorf("refresh %+v, want an eligible refresh to %s 2", r, w.ltID)
		}
		w.untilRefresh(t, 3*time.Hour, "Successful")
		g := w.group(t)
		if !g.MixedInstances || g.LaunchTemplateVersion != "2" || !slices.Equal(g.InstanceTypes, []string{"t3.micro", "t3a.micro"}) {
			t.Errorf("after the refresh: mixed %v, version %s, types %v", g.MixedInstances, g.LaunchTemplateVersion, g.InstanceTypes)
		}
	})
}

// startRaw starts a refresh to version without the fleet, as a user or
// another tool would.
func startRaw(t *testing.T, w *world, version string) {
	t.Helper()
	_, err := w.env.AutoScaling.StartInstanceRefresh(w.ctx, &autoscaling.StartInstanceRefreshInput{
		AutoScalingGroupName: aws.String(groupName),
		DesiredConfiguration: &astypes.DesiredConfiguration{LaunchTemplate: &astypes.LaunchTemplateSpecification{
			LaunchTemplateId: aws.String(w.ltID), Version: aws.String(version)}},
		Preferences: &astypes.RefreshPreferences{MinHealthyPercentage: aws.Int32(100), MaxHealthyPercentage: aws.Int32(150),
			CheckpointPercentages: []int32{50, 100}, CheckpointDelay: aws.Int32(600)},
	})
	if err != nil {
		t.Fatalf("start refresh to %s: %v", version, err)
	}
}

func TestRefreshes(t *testing.T) {
	t.Parallel()
	t.Run("a running refresh to a numbered version is eligible for rollback, and not once it has ended", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, groupOptions{})
		if _, err := w.fleet.StartRefresh(w.ctx, w.spec(w.version(t, w.newImage(t, "web-v2", ec2types.ArchitectureValuesX8664, "healthy")))); err != nil {
			t.Fatal(err)
		}
		if r := w.refresh(t); !r.RollbackEligible || r.Status != "Pending" && r.Status != "InProgress" {
			t.Errorf("new refresh %+v, want an eligible one in progress", r)
		}
		if err := w.fleet.CancelRefresh(w.ctx, w.key); err != nil {
			t.Fatal(err)
		}
		w.untilRefresh(t, time.Hour, "Cancelled")
		if r := w.refresh(t); r.RollbackEligible || r.EndTime.IsZero() {
			t.Errorf("cancelled refresh %+v, want ended and not eligible", r)
		}
	})
	t.Run("rollback is not eligible when the refresh targets $Latest", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, groupOptions{})
		w.version(t, w.newImage(t, "web-v2", ec2types.ArchitectureValuesX8664, "healthy"))
		startRaw(t, w, "$Latest")
		r := w.refresh(t)
		if r.RollbackEligible || r.Version != "$Latest" {
			t.Errorf("refresh %+v, want $Latest and not eligible", r)
		}
		err := w.fleet.RollbackRefresh(w.ctx, w.key)
		var irr *fleet.IrreversibleError
		if !errors.As(err, &irr) || rollout.IsTransient(err) {
			t.Fatalf("rollback: %v (%T), want an IrreversibleError", err, err)
		}
	})
	t.Run("rollback is not eligible when the group it would restore names $Latest", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, groupOptions{version: "$Latest"})
		w.version(t, w.newImage(t, "web-v2", ec2types.ArchitectureValuesX8664, "healthy"))
		startRaw(t, w, "2")
		if r := w.refresh(t); r.RollbackEligible {
			t.Errorf("refresh %+v is eligible, but the group names $Latest", r)
		}
	})
	t.Run("refreshes are listed newest first across pages", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, groupOptions{})
		v := w.version(t, w.newImage(t, "web-v2", ec2types.ArchitectureValuesX8664, "healthy"))
		var ids []string
		for range 55 { // Auto Scaling pages at 50
			id, err := w.fleet.StartRefresh(w.ctx, w.spec(v))
			if err != nil {
				t.Fatal(err)
			}
			if err := w.fleet.CancelRefresh(w.ctx, w.key); err != nil {
				t.Fatal(err)
			}
			w.untilRefresh(t, time.Hour, "Cancelled")
			ids = append([]string{id}, ids...)
		}
		rs, err := w.fleet.Refreshes(w.ctx, w.key)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]string, len(rs))
		for i, r := range rs {
			got[i] = r.ID
		}
		if !slices.Equal(got, ids) {
			t.Errorf("got %d refreshes %v, want %d newest first", len(got), got, len(ids))
		}
	})
}

func TestRollbackAndCancel(t *testing.T) {
	t.Parallel()
	t.Run("a rollback restores the saved version, and asking again is accepted", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, groupOptions{})
		bad := w.newImage(t, "web-bad", ec2types.ArchitectureValuesX8664, "unhealthy")
		if _, err := w.fleet.StartRefresh(w.ctx, w.spec(w.version(t, bad))); err != nil {
			t.Fatal(err)
		}
		w.env.RunUntil(t, time.Hour, "the refresh to replace an instance", func() bool { return w.refresh(t).Status == "InProgress" })
		if err := w.fleet.RollbackRefresh(w.ctx, w.key); err != nil {
			t.Fatal(err)
		}
		if err := w.fleet.RollbackRefresh(w.ctx, w.key); err != nil {
			t.Errorf("a repeated rollback: %v", err)
		}
		w.untilRefresh(t, 3*time.Hour, "RollbackSuccessful")
		if g := w.group(t); g.LaunchTemplateVersion != "1" {
			t.Errorf("group on %s after rollback, want 1", g.LaunchTemplateVersion)
		}
		if err := w.fleet.RollbackRefresh(w.ctx, w.key); err != nil {
			t.Errorf("a rollback repeated after it ended: %v", err)
		}
	})
	t.Run("cancelling twice is accepted the second time", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, groupOptions{})
		if _, err := w.fleet.StartRefresh(w.ctx, w.spec(w.version(t, w.newImage(t, "web-v2", ec2types.ArchitectureValuesX8664, "healthy")))); err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			if err := w.fleet.CancelRefresh(w.ctx, w.key); err != nil {
				t.Fatalf("cancel %d: %v", i+1, err)
			}
		}
	})
	t.Run("with no active refresh, rollback and cancel are NotFoundErrors", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, groupOptions{})
		wantNotFound(t, w.fleet.RollbackRefresh(w.ctx, w.key), "active instance refresh")
		wantNotFound(t, w.fleet.CancelRefresh(w.ctx, w.key), "active instance refresh")
	})
	t.Run("after a success there is no rollback and no cancel", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, groupOptions{})
		if _, err := w.fleet.StartRefresh(w.ctx, w.spec(w.version(t, w.newImage(t, "web-v2", ec2types.ArchitectureValuesX8664, "healthy")))); err != nil {
			t.Fatal(err)
		}
		w.untilRefresh(t, 3*time.Hour, "Successful")
		wantNotFound(t, w.fleet.RollbackRefresh(w.ctx, w.key), "active instance refresh")
		wantNotFound(t, w.fleet.CancelRefresh(w.ctx, w.key), "active instance refresh")
	})
}
