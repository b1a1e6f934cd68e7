package fleet_test

import (
	"slices"
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

func TestGroup(t *testing.T) {
	t.Parallel()
	t.Run("a group reads back as written, with each instance's image and launch time", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, groupOptions{})
		g := w.group(t)
		if g.LaunchTemplateID != w.ltID || g.LaunchTemplateVersion != "1" || g.LaunchConfigurationName != "" {
			t.Errorf("launch source = %q %q %q, want %s version 1", g.LaunchTemplateID, g.LaunchTemplateVersion, g.LaunchConfigurationName, w.ltID)
		}
		if g.MixedInstances || g.AttributeBased || len(g.InstanceTypes) != 0 {
			t.Errorf("a plain template group reads as mixed %v, attribute-based %v, types %v", g.MixedInstances, g.AttributeBased, g.InstanceTypes)
		}
		if g.Min != 2 || g.Max != 4 || g.Desired != 2 {
			t.Errorf("capacity = %d/%d/%d, want 2/4/2", g.Min, g.Max, g.Desired)
		}
		if g.HealthCheckType != "ELB" || g.GracePeriod != 120*time.Second || g.DefaultWarmup != time.Minute {
			t.Errorf("health check = %s grace %s warmup %s", g.HealthCheckType, g.GracePeriod, g.DefaultWarmup)
		}
		if !slices.Equal(g.TargetGroupARNs, []string{w.tgARN}) || g.Tags["phoenix:enabled"] != "true" || g.ARN == "" {
			t.Errorf("target groups %v, tags %v, arn %q", g.TargetGroupARNs, g.Tags, g.ARN)
		}
		if len(g.Instances) != 2 {
			t.Fatalf("%d instances, want 2", len(g.Instances))
		}
		for _, in := range g.Instances {
			if in.Lifecycle != "InService" || in.Health != "Healthy" || in.LaunchTemplateVersion != "1" ||
				in.ImageID != w.image || in.LaunchTime.IsZero() || in.LaunchTime.After(w.env.Now()) {
				t.Errorf("instance %+v, want InService, Healthy, version 1, image %s, launched", in, w.image)
			}
		}
	})
	t.Run("a suspended process shows on the group", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, groupOptions{})
		suspend(t, w, "Launch")
		if g := w.group(t); !slices.Equal(g.SuspendedProcesses, []string{"Launch"}) {
			t.Errorf("suspended = %v, want [Launch]", g.SuspendedProcesses)
		}
	})
	t.Run("a mixed instances group reports its template and override types", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, groupOptions{overrides: []string{"t3.micro", "t3a.micro"}})
		g := w.group(t)
		if !g.MixedInstances || g.AttributeBased || !slices.Equal(g.InstanceTypes, []string{"t3.micro", "t3a.micro"}) {
			t.Errorf("mixed %v, attribute-based %v, types %v", g.MixedInstances, g.AttributeBased, g.InstanceTypes)
		}
		if g.LaunchTemplateID != w.ltID || g.LaunchTemplateVersion != "1" {
			t.Errorf("launch template %s %s, want the policy's %s 1", g.LaunchTemplateID, g.LaunchTemplateVersion, w.ltID)
		}
	})
	t.Run("a missing group is a NotFoundError", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, groupOptions{})
		_, err := w.fleet.Group(w.ctx, rollout.GroupKey{Region: w.key.Region, Name: "nope"})
		wantNotFound(t, err, "auto scaling group")
		err = w.fleet.PinVersion(w.ctx, rollout.GroupKey{Region: w.key.Region, Name: "nope"}, w.ltID, 1)
		wantNotFound(t, err, "auto scaling group")
	})
}
