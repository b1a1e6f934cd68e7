package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
)

// runDemo walks through the local cloud with nothing but AWS APIs: a fleet
// behind a load balancer is refreshed to a good image with checkpoints, then
// a bad image is rolled back by instance refresh's own AutoRollback. It runs
// in stepped mode, so an hour of simulated time takes a moment.
func runDemo(args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	seed := fs.Uint64("seed", 1, "seed for ids")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cloud, err := localcloud.New(localcloud.Options{Seed: *seed})
	if err != nil {
		return err
	}
	srv := httptest.NewServer(cloud.Handler())
	defer srv.Close()
	cfg := cloudtest.Config(srv.URL, "us-east-1")
	d := &demo{
		ctx: context.Background(), cloud: cloud, start: cloud.Clock.Now(),
		ec2: ec2.NewFromConfig(cfg), asg: autoscaling.NewFromConfig(cfg), elb: elasticloadbalancingv2.NewFromConfig(cfg),
	}
	fmt.Printf("Phoenix local cloud demo (stepped clock from %s, endpoint %s)\n", d.start.Format(time.RFC3339), srv.URL)
	fmt.Println("This walk-through shows the local cloud and native instance refresh; Phoenix's own story")
	fmt.Println("(rollouts in waves, alarm-triggered revert, nightly recycling, the HTML report) is not built yet.")
	fmt.Println()
	return d.run()
}

type demo struct {
	ctx   context.Context
	cloud *localcloud.Cloud
	start time.Time
	ec2   *ec2.Client
	asg   *autoscaling.Client
	elb   *elasticloadbalancingv2.Client
	seen  int
}

const demoGroup = "demo-web"

func (d *demo) say(format string, args ...any) {
	fmt.Printf("  T+%-8s %s\n", fmtDur(d.cloud.Clock.Now().Sub(d.start)), fmt.Sprintf(format, args...))
}

func fmtDur(x time.Duration) string {
	x = x.Round(time.Second)
	return fmt.Sprintf("%d:%02d:%02d", int(x.Hours()), int(x.Minutes())%60, int(x.Seconds())%60)
}

func (d *demo) run() error {
	fmt.Println("1. A fleet of four behind a load balancer")
	v1, err := d.image("web-v1", "healthy")
	if err != nil {
		return err
	}
	tgARN, err := d.loadBalancer()
	if err != nil {
		return err
	}
	lt, err := d.ec2.CreateLaunchTemplate(d.ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String("demo-web"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(v1), InstanceType: ec2types.InstanceTypeT3Micro},
	})
	if err != nil {
		return fmt.Errorf("create launch template: %w", err)
	}
	ltID := aws.ToString(lt.LaunchTemplate.LaunchTemplateId)
	_, err = d.asg.CreateAutoScalingGroup(d.ctx, &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName:   aws.String(demoGroup),
		LaunchTemplate:         &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(ltID), Version: aws.String("1")},
		MinSize:                aws.Int32(4),
		MaxSize:                aws.Int32(8),
		DesiredCapacity:        aws.Int32(4),
		AvailabilityZones:      []string{"us-east-1a", "us-east-1b"},
		TargetGroupARNs:        []string{tgARN},
		HealthCheckType:        aws.String("ELB"),
		HealthCheckGracePeriod: aws.Int32(120),
		DefaultInstanceWarmup:  aws.Int32(60),
	})
	if err != nil {
		return fmt.Errorf("create group: %w", err)
	}
	d.say("group %s created: 4 instances of launch template %s version 1 (%s)", demoGroup, ltID, v1)
	if err := d.until(30*time.Minute, "4 healthy targets", func() (bool, error) { return d.healthy(tgARN, 4) }); err != nil {
		return err
	}
	d.say("4 targets healthy: %s", d.fleet())

	fmt.Println("\n2. A good image, refreshed with checkpoints at 50% and 100%")
	v2, err := d.image("web-v2", "healthy")
	if err != nil {
		return err
	}
	if _, err := d.version(ltID, v2); err != nil {
		return err
	}
	id, err := d.refresh(ltID, "2", []int32{50, 100}, false)
	if err != nil {
		return err
	}
	if err := d.follow(id, 3*time.Hour); err != nil {
		return err
	}
	d.say("fleet: %s", d.fleet())

	fmt.Println("\n3. A bad image (phoenix-sim:behavior=unhealthy) with AutoRollback")
	v3, err := d.image("web-v3", "unhealthy")
	if err != nil {
		return err
	}
	if _, err := d.version(ltID, v3); err != nil {
		return err
	}
	id, err = d.refresh(ltID, "3", []int32{50, 100}, true)
	if err != nil {
		return err
	}
	if err := d.follow(id, 4*time.Hour); err != nil {
		return err
	}
	d.say("fleet: %s", d.fleet())
	fmt.Println("\nEvery call above went through the AWS SDK to the local cloud; see README \"The local cloud\".")
	return nil
}

func (d *demo) image(name, behavior string) (string, error) {
	out, err := d.ec2.RegisterImage(d.ctx, &ec2.RegisterImageInput{
		Name: aws.String(name), Architecture: ec2types.ArchitectureValuesX8664, RootDeviceName: aws.String("/dev/xvda"),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeImage, Tags: []ec2types.Tag{
			{Key: aws.String("phoenix-sim:behavior"), Value: aws.String(behavior)},
		}}},
	})
	if err != nil {
		return "", fmt.Errorf("register image %s: %w", name, err)
	}
	id := aws.ToString(out.ImageId)
	err = d.until(time.Hour, name+" available", func() (bool, error) {
		imgs, err := d.ec2.DescribeImages(d.ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
		if err != nil {
			return false, err
		}
		return len(imgs.Images) == 1 && imgs.Images[0].State == ec2types.ImageStateAvailable, nil
	})
	if err == nil {
		d.say("image %s (%s) available, behaviour %s", name, id, behavior)
	}
	return id, err
}

func (d *demo) loadBalancer() (string, error) {
	tg, err := d.elb.CreateTargetGroup(d.ctx, &elasticloadbalancingv2.CreateTargetGroupInput{
		Name: aws.String("demo-web"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String("vpc-0demo"),
		HealthCheckIntervalSeconds: aws.Int32(10), HealthyThresholdCount: aws.Int32(2), UnhealthyThresholdCount: aws.Int32(2),
		HealthCheckPath: aws.String("/health"),
	})
	if err != nil {
		return "", fmt.Errorf("create target group: %w", err)
	}
	tgARN := aws.ToString(tg.TargetGroups[0].TargetGroupArn)
	lb, err := d.elb.CreateLoadBalancer(d.ctx, &elasticloadbalancingv2.CreateLoadBalancerInput{
		Name: aws.String("demo-web"), Subnets: []string{"subnet-0demoa", "subnet-0demob"},
	})
	if err != nil {
		return "", fmt.Errorf("create load balancer: %w", err)
	}
	_, err = d.elb.CreateListener(d.ctx, &elasticloadbalancingv2.CreateListenerInput{
		LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tgARN)}},
	})
	if err != nil {
		return "", fmt.Errorf("create listener: %w", err)
	}
	return tgARN, nil
}

func (d *demo) version(ltID, image string) (string, error) {
	out, err := d.ec2.CreateLaunchTemplateVersion(d.ctx, &ec2.CreateLaunchTemplateVersionInput{
		LaunchTemplateId: aws.String(ltID), SourceVersion: aws.String("1"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(image)},
	})
	if err != nil {
		return "", fmt.Errorf("create launch template version: %w", err)
	}
	v := fmt.Sprint(aws.ToInt64(out.LaunchTemplateVersion.VersionNumber))
	d.say("launch template version %s created with %s (the group still uses its numbered version)", v, image)
	return v, nil
}

func (d *demo) refresh(ltID, version string, checkpoints []int32, autoRollback bool) (string, error) {
	out, err := d.asg.StartInstanceRefresh(d.ctx, &autoscaling.StartInstanceRefreshInput{
		AutoScalingGroupName: aws.String(demoGroup),
		DesiredConfiguration: &astypes.DesiredConfiguration{LaunchTemplate: &astypes.LaunchTemplateSpecification{
			LaunchTemplateId: aws.String(ltID), Version: aws.String(version)}},
		Preferences: &astypes.RefreshPreferences{
			MinHealthyPercentage: aws.Int32(50), InstanceWarmup: aws.Int32(60), SkipMatching: aws.Bool(true),
			CheckpointPercentages: checkpoints, CheckpointDelay: aws.Int32(600), AutoRollback: aws.Bool(autoRollback),
		},
	})
	if err != nil {
		return "", fmt.Errorf("start instance refresh: %w", err)
	}
	d.say("StartInstanceRefresh to version %s (checkpoints %v, delay 600s, AutoRollback %v)", version, checkpoints, autoRollback)
	return aws.ToString(out.InstanceRefreshId), nil
}

// follow prints the group's refresh events until the refresh ends.
func (d *demo) follow(id string, limit time.Duration) error {
	var status astypes.InstanceRefreshStatus
	err := d.until(limit, "the refresh to end", func() (bool, error) {
		d.printEvents()
		out, err := d.asg.DescribeInstanceRefreshes(d.ctx, &autoscaling.DescribeInstanceRefreshesInput{
			AutoScalingGroupName: aws.String(demoGroup), InstanceRefreshIds: []string{id}})
		if err != nil || len(out.InstanceRefreshes) == 0 {
			return false, err
		}
		status = out.InstanceRefreshes[0].Status
		switch status {
		case astypes.InstanceRefreshStatusSuccessful, astypes.InstanceRefreshStatusFailed, astypes.InstanceRefreshStatusCancelled,
			astypes.InstanceRefreshStatusRollbackSuccessful, astypes.InstanceRefreshStatusRollbackFailed:
			d.say("refresh %s ended: %s (%s)", id[:8], status, aws.ToString(out.InstanceRefreshes[0].StatusReason))
			return true, nil
		}
		return false, nil
	})
	d.printEvents()
	return err
}

func (d *demo) printEvents() {
	evs := d.cloud.World.Events()
	for _, ev := range evs[d.seen:] {
		if ev.Source != "aws.autoscaling" {
			continue
		}
		var detail map[string]any
		_ = json.Unmarshal(ev.Detail, &detail)
		extra := ""
		if p, ok := detail["CheckpointPercentage"]; ok {
			extra = fmt.Sprintf(" at %v%%", p)
		}
		fmt.Printf("  T+%-8s event: %s%s\n", fmtDur(ev.Time.Sub(d.start)), ev.DetailType, extra)
	}
	d.seen = len(evs)
}

func (d *demo) healthy(tgARN string, n int) (bool, error) {
	out, err := d.elb.DescribeTargetHealth(d.ctx, &elasticloadbalancingv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN)})
	if err != nil {
		return false, err
	}
	h := 0
	for _, t := range out.TargetHealthDescriptions {
		if t.TargetHealth.State == elbtypes.TargetHealthStateEnumHealthy {
			h++
		}
	}
	return h >= n, nil
}

// fleet summarises the group's in-service instances by launch template version.
func (d *demo) fleet() string {
	out, err := d.asg.DescribeAutoScalingGroups(d.ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{demoGroup}})
	if err != nil || len(out.AutoScalingGroups) == 0 {
		return fmt.Sprintf("(describe failed: %v)", err)
	}
	g := out.AutoScalingGroups[0]
	count := map[string]int{}
	for _, in := range g.Instances {
		v := "?"
		if in.LaunchTemplate != nil {
			v = aws.ToString(in.LaunchTemplate.Version)
		}
		count[fmt.Sprintf("v%s %s", v, in.LifecycleState)]++
	}
	keys := make([]string, 0, len(count))
	for k := range count {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d x %s", count[k], k)
	}
	group := "?"
	if g.LaunchTemplate != nil {
		group = aws.ToString(g.LaunchTemplate.Version)
	}
	return fmt.Sprintf("%s; group on version %s", strings.Join(parts, ", "), group)
}

// until steps simulated time in 10-second ticks until cond holds.
func (d *demo) until(limit time.Duration, what string, cond func() (bool, error)) error {
	deadline := d.cloud.Clock.Now().Add(limit)
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if d.cloud.Clock.Now().After(deadline) {
			fmt.Fprintf(os.Stderr, "gave up after %s waiting for %s\n", limit, what)
			return fmt.Errorf("timed out waiting for %s", what)
		}
		d.cloud.Clock.Advance(10 * time.Second)
	}
}
