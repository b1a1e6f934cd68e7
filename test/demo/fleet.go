package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// behaviorTag is the local cloud's image tag that says what instances
// launched from the image do (healthy, unhealthy, degrade-after:SECONDS...).
const behaviorTag = "phoenix-sim:behavior"

// role is the phoenix:role of the demo's groups and of the images
// published for them.
const role = "app"

// groupSpec is one of the demo's groups.
type groupSpec struct {
	name string
	wave string
}

// group is a created group: its launch template, target group and the
// alarm that guards it; pair names the blue/green pair it belongs to, if
// any.
type group struct {
	name           string
	wave           string
	launchTemplate string
	targetGroup    string
	loadBalancer   string
	alarm          string
	pair           string
}

// registerImage registers an AMI of the account with tags and waits until
// it is available. EC2 announces it with an "EC2 AMI State Change" event,
// which is how Phoenix learns of a published image.
func (d *demo) registerImage(ctx context.Context, name string, tags map[string]string) (string, error) {
	var ts []ec2types.Tag
	for _, k := range sortedKeys(tags) {
		ts = append(ts, ec2types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	out, err := d.c.ec2.RegisterImage(ctx, &ec2.RegisterImageInput{
		Name: aws.String(name), Architecture: ec2types.ArchitectureValuesX8664, RootDeviceName: aws.String("/dev/xvda"),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeImage, Tags: ts}},
	})
	if err != nil {
		return "", fmt.Errorf("register image %s: %w", name, err)
	}
	id := str(out.ImageId)
	err = d.until(ctx, time.Hour, "image "+name+" to be available", func() (bool, error) {
		imgs, err := d.c.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
		if err != nil {
			return false, err
		}
		return len(imgs.Images) == 1 && imgs.Images[0].State == ec2types.ImageStateAvailable, nil
	})
	return id, err
}

// createGroup makes a group of size instances of image behind its own
// load balancer, tagged with Phoenix's policy, and an alarm on the 5xx
// count the load balancer reports for its target group, listed in the
// group's phoenix:alarms. The group checks EC2 health, so an application
// that fails is found by Phoenix (validation, alarms) and not by Auto
// Scaling replacing it.
func (d *demo) createGroup(ctx context.Context, spec groupSpec, image string) (*group, error) {
	g := &group{name: spec.name, wave: spec.wave, alarm: spec.name + "-5xx"}
	tg, err := d.c.elb.CreateTargetGroup(ctx, &elasticloadbalancingv2.CreateTargetGroupInput{
		Name: aws.String(spec.name), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String("vpc-0de70"),
		HealthCheckIntervalSeconds: aws.Int32(10), HealthyThresholdCount: aws.Int32(2), UnhealthyThresholdCount: aws.Int32(2),
		HealthCheckPath: aws.String("/health"),
	})
	if err != nil {
		return nil, fmt.Errorf("create target group %s: %w", spec.name, err)
	}
	g.targetGroup = str(tg.TargetGroups[0].TargetGroupArn)
	lb, err := d.c.elb.CreateLoadBalancer(ctx, &elasticloadbalancingv2.CreateLoadBalancerInput{
		Name: aws.String(spec.name), Subnets: []string{"subnet-0de70a", "subnet-0de70b"},
	})
	if err != nil {
		return nil, fmt.Errorf("create load balancer %s: %w", spec.name, err)
	}
	g.loadBalancer = str(lb.LoadBalancers[0].LoadBalancerArn)
	if _, err := d.c.elb.CreateListener(ctx, &elasticloadbalancingv2.CreateListenerInput{
		LoadBalancerArn: aws.String(g.loadBalancer), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(g.targetGroup)}},
	}); err != nil {
		return nil, fmt.Errorf("create listener %s: %w", spec.name, err)
	}
	if err := d.createAlarm(ctx, g, groupAlarm); err != nil {
		return nil, err
	}
	lt, err := d.c.ec2.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String(spec.name),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(image), InstanceType: ec2types.InstanceTypeT3Micro},
	})
	if err != nil {
		return nil, fmt.Errorf("create launch template %s: %w", spec.name, err)
	}
	g.launchTemplate = str(lt.LaunchTemplate.LaunchTemplateId)
	tags := map[string]string{
		"phoenix:enabled": "true",
		"phoenix:role":    role,
		"phoenix:wave":    spec.wave,
		"phoenix:alarms":  g.alarm,
	}
	for k, v := range d.mode.policy {
		tags[k] = v
	}
	var asTags []astypes.Tag
	for _, k := range sortedKeys(tags) {
		asTags = append(asTags, astypes.Tag{Key: aws.String(k), Value: aws.String(tags[k]), PropagateAtLaunch: aws.Bool(false)})
	}
	size := int32(d.mode.size)
	if _, err := d.c.asg.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName:   aws.String(spec.name),
		LaunchTemplate:         &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(g.launchTemplate), Version: aws.String("1")},
		MinSize:                aws.Int32(size),
		MaxSize:                aws.Int32(2 * size),
		DesiredCapacity:        aws.Int32(size),
		AvailabilityZones:      []string{"us-east-1a", "us-east-1b"},
		TargetGroupARNs:        []string{g.targetGroup},
		HealthCheckType:        aws.String("EC2"),
		HealthCheckGracePeriod: aws.Int32(60),
		DefaultInstanceWarmup:  aws.Int32(60),
		Tags:                   asTags,
	}); err != nil {
		return nil, fmt.Errorf("create group %s: %w", spec.name, err)
	}
	return g, nil
}

// alarmSpec is when a group's alarm fires: more than threshold 5xx in each
// of periods minutes in a row.
type alarmSpec struct {
	threshold float64
	periods   int32
}

// groupAlarm is web's and api's: two minutes in a row over 50 errors.
var groupAlarm = alarmSpec{threshold: 50, periods: 2}

// createAlarm puts the group's alarm on the HTTP 5xx count its load
// balancer reports for its target group (AWS/ApplicationELB
// HTTPCode_Target_5XX_Count), as users set one up.
func (d *demo) createAlarm(ctx context.Context, g *group, spec alarmSpec) error {
	_, err := d.c.cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(g.alarm), Namespace: aws.String("AWS/ApplicationELB"), MetricName: aws.String("HTTPCode_Target_5XX_Count"),
		AlarmDescription: aws.String("HTTP 5xx answered by " + g.name + "'s instances"),
		Dimensions:       targetGroupDims(g), Statistic: cwtypes.StatisticSum, Period: aws.Int32(60),
		EvaluationPeriods: aws.Int32(spec.periods), DatapointsToAlarm: aws.Int32(spec.periods),
		Threshold: aws.Float64(spec.threshold), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
		TreatMissingData: aws.String("notBreaching"),
	})
	if err != nil {
		return fmt.Errorf("put alarm %s: %w", g.alarm, err)
	}
	return nil
}

// targetGroupDims are the dimensions of the AWS/ApplicationELB metrics of
// a group's target group behind its load balancer. CloudWatch names them
// by the end of their ARNs: targetgroup/NAME/ID and app/NAME/ID.
func targetGroupDims(g *group) []cwtypes.Dimension {
	_, tg, _ := strings.Cut(g.targetGroup, ":targetgroup/")
	_, lb, _ := strings.Cut(g.loadBalancer, ":loadbalancer/")
	return []cwtypes.Dimension{
		{Name: aws.String("TargetGroup"), Value: aws.String("targetgroup/" + tg)},
		{Name: aws.String("LoadBalancer"), Value: aws.String(lb)},
	}
}

// tagGroup sets tags on a group (Auto Scaling CreateOrUpdateTags).
func (d *demo) tagGroup(ctx context.Context, name string, tags map[string]string) error {
	var ts []astypes.Tag
	for _, k := range sortedKeys(tags) {
		ts = append(ts, astypes.Tag{
			ResourceId: aws.String(name), ResourceType: aws.String("auto-scaling-group"),
			Key: aws.String(k), Value: aws.String(tags[k]), PropagateAtLaunch: aws.Bool(false),
		})
	}
	if _, err := d.c.asg.CreateOrUpdateTags(ctx, &autoscaling.CreateOrUpdateTagsInput{Tags: ts}); err != nil {
		return fmt.Errorf("tag group %s: %w", name, err)
	}
	return nil
}

// member is one instance of a group as a sample sees it.
type member struct {
	ID        string
	Lifecycle string
	Image     string
	Version   string // launch template version it was launched from
	Launched  time.Time
}

// view is one group at one instant, as Auto Scaling and EC2 show it.
type view struct {
	Name    string
	Desired int
	Version string // the group's launch template version as written
	Members []member
}

// inService returns the in-service members.
func (v view) inService() []member {
	var out []member
	for _, m := range v.Members {
		if m.Lifecycle == string(astypes.LifecycleStateInService) {
			out = append(out, m)
		}
	}
	return out
}

// byImage counts the in-service members by image id.
func (v view) byImage() map[string]int {
	out := map[string]int{}
	for _, m := range v.inService() {
		out[m.Image]++
	}
	return out
}

// describe reads the groups through Auto Scaling and the images of their
// instances through EC2 (an instance's image never changes, so each is
// asked once).
func (d *demo) describe(ctx context.Context) (map[string]view, error) {
	var names []string
	for _, g := range d.groups {
		names = append(names, g.name)
	}
	out := map[string]view{}
	if len(names) == 0 {
		return out, nil
	}
	p := autoscaling.NewDescribeAutoScalingGroupsPaginator(d.c.asg, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: names})
	var unknown []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe groups: %w", err)
		}
		for _, g := range page.AutoScalingGroups {
			v := view{Name: str(g.AutoScalingGroupName), Desired: int(aws.ToInt32(g.DesiredCapacity))}
			if g.LaunchTemplate != nil {
				v.Version = str(g.LaunchTemplate.Version)
			}
			for _, in := range g.Instances {
				m := member{ID: str(in.InstanceId), Lifecycle: string(in.LifecycleState)}
				if in.LaunchTemplate != nil {
					m.Version = str(in.LaunchTemplate.Version)
				}
				if _, ok := d.instances[m.ID]; !ok {
					unknown = append(unknown, m.ID)
				}
				v.Members = append(v.Members, m)
			}
			out[v.Name] = v
		}
	}
	if len(unknown) > 0 {
		pi := ec2.NewDescribeInstancesPaginator(d.c.ec2, &ec2.DescribeInstancesInput{InstanceIds: unknown})
		for pi.HasMorePages() {
			page, err := pi.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("describe instances: %w", err)
			}
			for _, res := range page.Reservations {
				for _, in := range res.Instances {
					d.instances[str(in.InstanceId)] = instanceInfo{image: str(in.ImageId), launched: aws.ToTime(in.LaunchTime)}
				}
			}
		}
	}
	for name, v := range out {
		for i := range v.Members {
			info := d.instances[v.Members[i].ID]
			v.Members[i].Image, v.Members[i].Launched = info.image, info.launched
		}
		out[name] = v
	}
	return out, nil
}

// instanceInfo is what EC2 says of an instance that never changes.
type instanceInfo struct {
	image    string
	launched time.Time
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
