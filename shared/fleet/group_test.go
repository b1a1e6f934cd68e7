package fleet_test

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

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

func TestGroupsTagged(t *testing.T) {
	t.Parallel()
	w := newWorld(t, groupOptions{})
	// A second group without the tag, and a third with it, on one template.
	for _, g := range []struct {
		name string
		tags []astypes.Tag
	}{
		{"untagged", nil},
		{"batch", []astypes.Tag{{Key: aws.String("phoenix:recycle"), Value: aws.String("false")}}},
	} {
		if _, err := w.env.AutoScaling.CreateAutoScalingGroup(w.ctx, &autoscaling.CreateAutoScalingGroupInput{
			AutoScalingGroupName: aws.String(g.name), MinSize: aws.Int32(1), MaxSize: aws.Int32(1), DesiredCapacity: aws.Int32(1),
			AvailabilityZones: []string{"us-east-1a"},
			LaunchTemplate:    &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(w.ltID), Version: aws.String("1")},
			Tags:              g.tags,
		}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.env.AutoScaling.CreateOrUpdateTags(w.ctx, &autoscaling.CreateOrUpdateTagsInput{Tags: []astypes.Tag{{
		ResourceId: aws.String(groupName), ResourceType: aws.String("auto-scaling-group"), Key: aws.String("phoenix:recycle"), Value: aws.String("true"), PropagateAtLaunch: aws.Bool(false),
	}}}); err != nil {
		t.Fatal(err)
	}
	w.env.Settle()
	got, err := w.fleet.GroupsTagged(w.ctx, w.key.Region, "phoenix:recycle")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range got {
		names = append(names, g.Key.Name)
		if g.Tags["phoenix:recycle"] == "" {
			t.Errorf("%s has no phoenix:recycle tag in %v", g.Key.Name, g.Tags)
		}
		for _, in := range g.Instances {
			if in.ImageID != w.image || in.LaunchTime.IsZero() || in.LaunchTemplateVersion != "1" {
				t.Errorf("%s instance %+v lacks its details", g.Key.Name, in)
			}
		}
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"batch", groupName}) {
		t.Errorf("groups tagged phoenix:recycle = %v, want batch and %s (whatever the value, and not untagged)", names, groupName)
	}
	for _, g := range got {
		if g.Key.Name == groupName && len(g.Instances) != 2 {
			t.Errorf("%s has %d instances, want 2", groupName, len(g.Instances))
		}
	}

	t.Run("the shallow listing is the same groups without asking EC2 about instances", func(t *testing.T) {
		before := w.env.Cloud.Wire.Requests()["ec2.DescribeInstances"]
		shallow, err := w.fleet.GroupsTaggedShallow(w.ctx, w.key.Region, "phoenix:recycle")
		if err != nil {
			t.Fatal(err)
		}
		if n := w.env.Cloud.Wire.Requests()["ec2.DescribeInstances"] - before; n != 0 {
			t.Errorf("the shallow listing made %d DescribeInstances calls", n)
		}
		if len(shallow) != len(got) {
			t.Fatalf("shallow listing has %d groups, the full one %d", len(shallow), len(got))
		}
		for i, g := range shallow {
			full := got[i]
			if g.Key != full.Key || g.LaunchTemplateID != full.LaunchTemplateID || g.Desired != full.Desired || !maps.Equal(g.Tags, full.Tags) || len(g.Instances) != len(full.Instances) {
				t.Errorf("shallow %+v differs from full %+v beyond instance details", g, full)
				continue
			}
			for j, in := range g.Instances {
				want := full.Instances[j]
				want.ImageID, want.LaunchTime = "", time.Time{}
				if in != want {
					t.Errorf("%s instance %+v, want %+v", g.Key.Name, in, want)
				}
			}
		}
	})
}

func TestTemplateUsersNamesEveryGroupLaunchingFromTheTemplate(t *testing.T) {
	t.Parallel()
	w := newWorld(t, groupOptions{})
	other, err := w.env.EC2.CreateLaunchTemplate(w.ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String("other"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(w.image), InstanceType: ec2types.InstanceTypeT3Micro},
	})
	if err != nil {
		t.Fatal(err)
	}
	byName := &astypes.LaunchTemplateSpecification{LaunchTemplateName: aws.String("web"), Version: aws.String("$Default")}
	for _, g := range []struct {
		name  string
		in    autoscaling.CreateAutoScalingGroupInput
		match bool
	}{
		{"standby", autoscaling.CreateAutoScalingGroupInput{LaunchTemplate: byName}, true},
		{"spot", autoscaling.CreateAutoScalingGroupInput{MixedInstancesPolicy: &astypes.MixedInstancesPolicy{
			LaunchTemplate: &astypes.LaunchTemplate{LaunchTemplateSpecification: &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(w.ltID), Version: aws.String("1")}},
		}}, true},
		{"elsewhere", autoscaling.CreateAutoScalingGroupInput{LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateId: other.LaunchTemplate.LaunchTemplateId}}, false},
	} {
		in := g.in
		in.AutoScalingGroupName, in.AvailabilityZones = aws.String(g.name), []string{"us-east-1a"}
		in.MinSize, in.MaxSize, in.DesiredCapacity = aws.Int32(0), aws.Int32(1), aws.Int32(0)
		if _, err := w.env.AutoScaling.CreateAutoScalingGroup(w.ctx, &in); err != nil {
			t.Fatalf("create %s: %v", g.name, err)
		}
	}
	got, err := w.fleet.TemplateUsers(w.ctx, w.key.Region, w.ltID)
	if err != nil {
		t.Fatal(err)
	}
	// By id or by name, directly or in a mixed instances policy, with or
	// without instances; never a group of another template.
	if want := []string{"spot", "standby", groupName}; !slices.Equal(got, want) {
		t.Errorf("groups using %s = %v, want %v", w.ltID, got, want)
	}
}
