package fleet_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/phoenix-rollouts/phoenix/shared/fleet"
	"github.com/phoenix-rollouts/phoenix/shared/internal/testlog"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
)

// world is a fleet on the local cloud, built only through the SDK as
// test/localcloud/cmd/phoenix-localcloud/demo.go does: an image, a target
// group behind a load balancer, a launch template and a group of two
// healthy instances.
type world struct {
	env   *cloudtest.Env
	fleet *fleet.Fleet
	ctx   context.Context
	key   rollout.GroupKey
	ltID  string
	tgARN string
	// image is the healthy x86_64 image of version 1.
	image string
	// logs holds what the fleet logged, as JSON lines.
	logs *testlog.Buffer
}

// logLines returns the JSON log records written to b so far.
func logLines(t *testing.T, b *testlog.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		out = append(out, rec)
	}
	return out
}

// groupOptions vary the group a world builds.
type groupOptions struct {
	// version is the group's launch template version as written ("1" if
	// empty).
	version string
	// overrides, when set, makes a mixed instances group with these types.
	overrides []string
}

const groupName = "web"

// newWorld builds a world and waits until both instances are healthy
// targets.
func newWorld(t *testing.T, opts groupOptions) *world {
	t.Helper()
	env := cloudtest.New(t)
	logs := &testlog.Buffer{}
	w := &world{
		env: env, fleet: fleet.New(env.Config, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))), ctx: context.Background(),
		key: rollout.GroupKey{Region: env.Config.Region, Name: groupName}, logs: logs,
	}
	w.image = w.newImage(t, "web-v1", ec2types.ArchitectureValuesX8664, "healthy")
	w.tgARN = w.loadBalancer(t, "web")
	lt, err := env.EC2.CreateLaunchTemplate(w.ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String("web"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(w.image), InstanceType: ec2types.InstanceTypeT3Micro},
	})
	if err != nil {
		t.Fatalf("create launch template: %v", err)
	}
	w.ltID = aws.ToString(lt.LaunchTemplate.LaunchTemplateId)
	version := opts.version
	if version == "" {
		version = "1"
	}
	spec := &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(w.ltID), Version: aws.String(version)}
	in := &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName:   aws.String(groupName),
		MinSize:                aws.Int32(2),
		MaxSize:                aws.Int32(4),
		DesiredCapacity:        aws.Int32(2),
		AvailabilityZones:      []string{"us-east-1a", "us-east-1b"},
		TargetGroupARNs:        []string{w.tgARN},
		HealthCheckType:        aws.String("ELB"),
		HealthCheckGracePeriod: aws.Int32(120),
		DefaultInstanceWarmup:  aws.Int32(60),
		Tags: []astypes.Tag{
			{Key: aws.String("phoenix:enabled"), Value: aws.String("true"), PropagateAtLaunch: aws.Bool(false)},
		},
	}
	if len(opts.overrides) > 0 {
		mip := &astypes.MixedInstancesPolicy{LaunchTemplate: &astypes.LaunchTemplate{LaunchTemplateSpecification: spec}}
		for _, it := range opts.overrides {
			mip.LaunchTemplate.Overrides = append(mip.LaunchTemplate.Overrides, astypes.LaunchTemplateOverrides{InstanceType: aws.String(it)})
		}
		in.MixedInstancesPolicy = mip
	} else {
		in.LaunchTemplate = spec
	}
	if _, err := env.AutoScaling.CreateAutoScalingGroup(w.ctx, in); err != nil {
		t.Fatalf("create group: %v", err)
	}
	w.untilHealthy(t, 2)
	return w
}

// newImage registers an image with a simulated behaviour and waits until
// it is available.
func (w *world) newImage(t *testing.T, name string, arch ec2types.ArchitectureValues, behavior string) string {
	t.Helper()
	out, err := w.env.EC2.RegisterImage(w.ctx, &ec2.RegisterImageInput{
		Name: aws.String(name), Architecture: arch, RootDeviceName: aws.String("/dev/xvda"),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeImage, Tags: []ec2types.Tag{
			{Key: aws.String("phoenix-sim:behavior"), Value: aws.String(behavior)},
			{Key: aws.String("release"), Value: aws.String(name)},
		}}},
	})
	if err != nil {
		t.Fatalf("register image %s: %v", name, err)
	}
	id := aws.ToString(out.ImageId)
	w.env.RunUntil(t, time.Hour, name+" to be available", func() bool {
		imgs, err := w.env.EC2.DescribeImages(w.ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
		return err == nil && len(imgs.Images) == 1 && imgs.Images[0].State == ec2types.ImageStateAvailable
	})
	return id
}

// loadBalancer makes a target group behind a load balancer and listener.
func (w *world) loadBalancer(t *testing.T, name string) string {
	t.Helper()
	tg, err := w.env.ELB.CreateTargetGroup(w.ctx, &elasticloadbalancingv2.CreateTargetGroupInput{
		Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String("vpc-0test"),
		HealthCheckIntervalSeconds: aws.Int32(10), HealthyThresholdCount: aws.Int32(2), UnhealthyThresholdCount: aws.Int32(2),
		HealthCheckPath: aws.String("/health"),
	})
	if err != nil {
		t.Fatalf("create target group: %v", err)
	}
	arn := aws.ToString(tg.TargetGroups[0].TargetGroupArn)
	lb, err := w.env.ELB.CreateLoadBalancer(w.ctx, &elasticloadbalancingv2.CreateLoadBalancerInput{
		Name: aws.String(name), Subnets: []string{"subnet-0testa", "subnet-0testb"},
	})
	if err != nil {
		t.Fatalf("create load balancer: %v", err)
	}
	_, err = w.env.ELB.CreateListener(w.ctx, &elasticloadbalancingv2.CreateListenerInput{
		LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(arn)}},
	})
	if err != nil {
		t.Fatalf("create listener: %v", err)
	}
	return arn
}

// untilHealthy advances time until n targets are healthy.
func (w *world) untilHealthy(t *testing.T, n int) {
	t.Helper()
	w.env.RunUntil(t, time.Hour, fmt.Sprintf("%d healthy targets", n), func() bool {
		out, err := w.env.ELB.DescribeTargetHealth(w.ctx, &elasticloadbalancingv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(w.tgARN)})
		if err != nil {
			return false
		}
		healthy := 0
		for _, d := range out.TargetHealthDescriptions {
			if d.TargetHealth.State == elbtypes.TargetHealthStateEnumHealthy {
				healthy++
			}
		}
		return healthy >= n
	})
}

// version creates launch template version from version 1 with image.
func (w *world) version(t *testing.T, image string) int64 {
	t.Helper()
	v, err := w.fleet.CreateVersion(w.ctx, w.key.Region, w.ltID, 1, image, "", "")
	if err != nil {
		t.Fatalf("create version with %s: %v", image, err)
	}
	return v.Number
}

// group reads the group through the fleet.
func (w *world) group(t *testing.T) rollout.Group {
	t.Helper()
	g, err := w.fleet.Group(w.ctx, w.key)
	if err != nil {
		t.Fatalf("group: %v", err)
	}
	return g
}

// refresh returns the group's newest refresh through the fleet.
func (w *world) refresh(t *testing.T) rollout.Refresh {
	t.Helper()
	rs, err := w.fleet.Refreshes(w.ctx, w.key)
	if err != nil {
		t.Fatalf("refreshes: %v", err)
	}
	if len(rs) == 0 {
		t.Fatal("the group has no refresh")
	}
	return rs[0]
}

// untilRefresh advances time until the newest refresh reaches status.
func (w *world) untilRefresh(t *testing.T, limit time.Duration, status string) {
	t.Helper()
	w.env.RunUntil(t, limit, "the refresh to be "+status, func() bool { return w.refresh(t).Status == status })
}

// spec is a refresh of the world's group to version with small, fast
// preferences.
func (w *world) spec(version int64) rollout.RefreshSpec {
	return rollout.RefreshSpec{
		Group: w.key, LaunchTemplateID: w.ltID, Version: version,
		Checkpoints: []int{50, 100}, CheckpointDelay: time.Minute,
		MinHealthy: 100, MaxHealthy: 150, Warmup: 30 * time.Second, SkipMatching: true,
	}
}

// wantNotFound fails unless err is a *rollout.NotFoundError of kind.
func wantNotFound(t *testing.T, err error, kind string) {
	t.Helper()
	var nf *rollout.NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("error %v (%T), want a NotFoundError", err, err)
	}
	if !strings.Contains(nf.Kind, kind) {
		t.Fatalf("not found kind %q, want %q", nf.Kind, kind)
	}
}

// suspend suspends one of the group's processes.
func suspend(t *testing.T, w *world, process string) {
	t.Helper()
	_, err := w.env.AutoScaling.SuspendProcesses(w.ctx, &autoscaling.SuspendProcessesInput{
		AutoScalingGroupName: aws.String(groupName), ScalingProcesses: []string{process},
	})
	if err != nil {
		t.Fatalf("suspend %s: %v", process, err)
	}
}
