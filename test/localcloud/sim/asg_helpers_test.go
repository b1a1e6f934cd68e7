package sim

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
)

// AutoScalingAPI is the part of the Auto Scaling API the rule tests use,
// with the SDK's method signatures, so that the same tests run against a
// real *autoscaling.Client pointed at the local cloud's wire layer.
type AutoScalingAPI interface {
	CreateAutoScalingGroup(context.Context, *autoscaling.CreateAutoScalingGroupInput, ...func(*autoscaling.Options)) (*autoscaling.CreateAutoScalingGroupOutput, error)
	UpdateAutoScalingGroup(context.Context, *autoscaling.UpdateAutoScalingGroupInput, ...func(*autoscaling.Options)) (*autoscaling.UpdateAutoScalingGroupOutput, error)
	DeleteAutoScalingGroup(context.Context, *autoscaling.DeleteAutoScalingGroupInput, ...func(*autoscaling.Options)) (*autoscaling.DeleteAutoScalingGroupOutput, error)
	DescribeAutoScalingGroups(context.Context, *autoscaling.DescribeAutoScalingGroupsInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error)
	DescribeAutoScalingInstances(context.Context, *autoscaling.DescribeAutoScalingInstancesInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingInstancesOutput, error)
	DescribeScalingActivities(context.Context, *autoscaling.DescribeScalingActivitiesInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeScalingActivitiesOutput, error)
	SetDesiredCapacity(context.Context, *autoscaling.SetDesiredCapacityInput, ...func(*autoscaling.Options)) (*autoscaling.SetDesiredCapacityOutput, error)
	SuspendProcesses(context.Context, *autoscaling.SuspendProcessesInput, ...func(*autoscaling.Options)) (*autoscaling.SuspendProcessesOutput, error)
	ResumeProcesses(context.Context, *autoscaling.ResumeProcessesInput, ...func(*autoscaling.Options)) (*autoscaling.ResumeProcessesOutput, error)
	SetInstanceProtection(context.Context, *autoscaling.SetInstanceProtectionInput, ...func(*autoscaling.Options)) (*autoscaling.SetInstanceProtectionOutput, error)
	EnterStandby(context.Context, *autoscaling.EnterStandbyInput, ...func(*autoscaling.Options)) (*autoscaling.EnterStandbyOutput, error)
	ExitStandby(context.Context, *autoscaling.ExitStandbyInput, ...func(*autoscaling.Options)) (*autoscaling.ExitStandbyOutput, error)
	TerminateInstanceInAutoScalingGroup(context.Context, *autoscaling.TerminateInstanceInAutoScalingGroupInput, ...func(*autoscaling.Options)) (*autoscaling.TerminateInstanceInAutoScalingGroupOutput, error)
	CreateOrUpdateTags(context.Context, *autoscaling.CreateOrUpdateTagsInput, ...func(*autoscaling.Options)) (*autoscaling.CreateOrUpdateTagsOutput, error)
	DescribeTags(context.Context, *autoscaling.DescribeTagsInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeTagsOutput, error)
	DeleteTags(context.Context, *autoscaling.DeleteTagsInput, ...func(*autoscaling.Options)) (*autoscaling.DeleteTagsOutput, error)
	CreateLaunchConfiguration(context.Context, *autoscaling.CreateLaunchConfigurationInput, ...func(*autoscaling.Options)) (*autoscaling.CreateLaunchConfigurationOutput, error)
	DescribeLaunchConfigurations(context.Context, *autoscaling.DescribeLaunchConfigurationsInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeLaunchConfigurationsOutput, error)
	DeleteLaunchConfiguration(context.Context, *autoscaling.DeleteLaunchConfigurationInput, ...func(*autoscaling.Options)) (*autoscaling.DeleteLaunchConfigurationOutput, error)
	StartInstanceRefresh(context.Context, *autoscaling.StartInstanceRefreshInput, ...func(*autoscaling.Options)) (*autoscaling.StartInstanceRefreshOutput, error)
	DescribeInstanceRefreshes(context.Context, *autoscaling.DescribeInstanceRefreshesInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeInstanceRefreshesOutput, error)
	CancelInstanceRefresh(context.Context, *autoscaling.CancelInstanceRefreshInput, ...func(*autoscaling.Options)) (*autoscaling.CancelInstanceRefreshOutput, error)
	RollbackInstanceRefresh(context.Context, *autoscaling.RollbackInstanceRefreshInput, ...func(*autoscaling.Options)) (*autoscaling.RollbackInstanceRefreshOutput, error)
	PutLifecycleHook(context.Context, *autoscaling.PutLifecycleHookInput, ...func(*autoscaling.Options)) (*autoscaling.PutLifecycleHookOutput, error)
	DescribeLifecycleHooks(context.Context, *autoscaling.DescribeLifecycleHooksInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeLifecycleHooksOutput, error)
	DeleteLifecycleHook(context.Context, *autoscaling.DeleteLifecycleHookInput, ...func(*autoscaling.Options)) (*autoscaling.DeleteLifecycleHookOutput, error)
	DescribeLifecycleHookTypes(context.Context, *autoscaling.DescribeLifecycleHookTypesInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeLifecycleHookTypesOutput, error)
	CompleteLifecycleAction(context.Context, *autoscaling.CompleteLifecycleActionInput, ...func(*autoscaling.Options)) (*autoscaling.CompleteLifecycleActionOutput, error)
	RecordLifecycleActionHeartbeat(context.Context, *autoscaling.RecordLifecycleActionHeartbeatInput, ...func(*autoscaling.Options)) (*autoscaling.RecordLifecycleActionHeartbeatOutput, error)
}

// launchTemplateAPI is the part of the EC2 API the tests use to make
// launch templates.
type launchTemplateAPI interface {
	CreateLaunchTemplate(context.Context, *ec2.CreateLaunchTemplateInput, ...func(*ec2.Options)) (*ec2.CreateLaunchTemplateOutput, error)
	CreateLaunchTemplateVersion(context.Context, *ec2.CreateLaunchTemplateVersionInput, ...func(*ec2.Options)) (*ec2.CreateLaunchTemplateVersionOutput, error)
}

var (
	_ AutoScalingAPI    = (*AutoScaling)(nil)
	_ AutoScalingAPI    = (*autoscaling.Client)(nil)
	_ launchTemplateAPI = (*EC2)(nil)
)

// testRegion is the region the tests use (the default of api.Region).
const testRegion = "us-east-1"

// fixture is one World on a stepped clock, with the API surfaces a test
// talks to.
type fixture struct {
	t   testing.TB
	w   *World
	clk *clock.Sim
	as  AutoScalingAPI
	ec2 launchTemplateAPI
	elb ELBAPI
	ctx context.Context
	// setAlarm makes a CloudWatch alarm in testRegion hold a state.
	setAlarm func(name, state string)
	// overHTTP is TestCloud.OverHTTP.
	overHTTP bool
}

// newFixture starts an empty TestCloud from backend, with clients for
// testRegion.
func newFixture(t testing.TB, backend Backend) *fixture {
	t.Helper()
	tc := backend(t)
	c := tc.Clients(testRegion)
	f := &fixture{t: t, w: tc.World, clk: tc.Clock, as: c.AutoScaling, ec2: c.EC2, elb: c.ELB, ctx: context.Background(), overHTTP: tc.OverHTTP}
	f.setAlarm = func(name, state string) { tc.SetAlarm(t, testRegion, name, state) }
	return f
}

// image makes an available image whose instances behave as behavior
// ("" is healthy).
func (f *fixture) image(name, behavior string) string {
	f.t.Helper()
	tags := map[string]string{}
	if behavior != "" {
		tags[BehaviorTag] = behavior
	}
	id, err := f.w.AddImage(testRegion, ImageSpec{Name: name, Tags: tags, Available: true})
	if err != nil {
		f.t.Fatalf("add image %s: %v", name, err)
	}
	return id
}

// template makes a launch template whose version 1 launches imageID.
func (f *fixture) template(name, imageID string) string {
	f.t.Helper()
	out, err := f.ec2.CreateLaunchTemplate(f.ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String(name),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(imageID), InstanceType: ec2types.InstanceTypeT3Micro},
	})
	if err != nil {
		f.t.Fatalf("create launch template %s: %v", name, err)
	}
	return aws.ToString(out.LaunchTemplate.LaunchTemplateId)
}

// version adds a launch template version launching imageID and returns its
// number as a string.
func (f *fixture) version(ltID, imageID string) string {
	f.t.Helper()
	out, err := f.ec2.CreateLaunchTemplateVersion(f.ctx, &ec2.CreateLaunchTemplateVersionInput{
		LaunchTemplateId:   aws.String(ltID),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(imageID), InstanceType: ec2types.InstanceTypeT3Micro},
	})
	if err != nil {
		f.t.Fatalf("create launch template version: %v", err)
	}
	return strconv.FormatInt(aws.ToInt64(out.LaunchTemplateVersion.VersionNumber), 10)
}

// groupSpec is what a test needs to vary in a new group.
type groupSpec struct {
	name     string
	ltID     string
	version  string
	desired  int32
	max      int32
	zones    []string
	warmup   *int32
	grace    int32
	tags     []types.Tag
	protect  bool
	maintain *types.InstanceMaintenancePolicy
}

// group creates a group and runs the clock until its desired capacity is
// InService.
func (f *fixture) group(s groupSpec) {
	f.t.Helper()
	if s.zones == nil {
		s.zones = []string{"us-east-1a", "us-east-1b"}
	}
	if s.max == 0 {
		s.max = 2*s.desired + 2
	}
	if s.version == "" {
		s.version = "1"
	}
	_, err := f.as.CreateAutoScalingGroup(f.ctx, &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName:             aws.String(s.name),
		MinSize:                          aws.Int32(0),
		MaxSize:                          aws.Int32(s.max),
		DesiredCapacity:                  aws.Int32(s.desired),
		LaunchTemplate:                   &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(s.ltID), Version: aws.String(s.version)},
		AvailabilityZones:                s.zones,
		DefaultInstanceWarmup:            s.warmup,
		HealthCheckGracePeriod:           aws.Int32(s.grace),
		Tags:                             s.tags,
		NewInstancesProtectedFromScaleIn: aws.Bool(s.protect),
		InstanceMaintenancePolicy:        s.maintain,
	})
	if err != nil {
		f.t.Fatalf("create group %s: %v", s.name, err)
	}
	f.until(10*time.Minute, "group "+s.name+" is in service", func() bool { return f.inService(s.name) == int(s.desired) })
}

// until runs the clock event by event until cond holds, failing the test
// after limit of simulated time.
func (f *fixture) until(limit time.Duration, what string, cond func() bool) {
	f.t.Helper()
	ok := f.clk.RunUntil(limit, func() bool {
		f.w.Lock()
		defer f.w.Unlock()
		return cond()
	})
	if !ok {
		f.t.Fatalf("after %s of simulated time: still waiting until %s", limit, what)
	}
}

// grp returns the model's group; callers hold the World lock or read only
// between clock steps.
func (f *fixture) grp(name string) *Group {
	return f.w.region(testRegion).Groups[name]
}

// inService counts the group's InService instances; the caller holds the lock.
func (f *fixture) inService(name string) int {
	g := f.grp(name)
	if g == nil {
		return 0
	}
	n := 0
	for _, gi := range g.Instances {
		if gi.LifecycleState == LifecycleInService {
			n++
		}
	}
	return n
}

// refresh starts a refresh and returns its id.
func (f *fixture) refresh(in *autoscaling.StartInstanceRefreshInput) string {
	f.t.Helper()
	out, err := f.as.StartInstanceRefresh(f.ctx, in)
	if err != nil {
		f.t.Fatalf("start instance refresh: %v", err)
	}
	return aws.ToString(out.InstanceRefreshId)
}

// describe returns one refresh of a group.
func (f *fixture) describe(group, id string) types.InstanceRefresh {
	f.t.Helper()
	out, err := f.as.DescribeInstanceRefreshes(f.ctx, &autoscaling.DescribeInstanceRefreshesInput{AutoScalingGroupName: aws.String(group), InstanceRefreshIds: []string{id}})
	if err != nil || len(out.InstanceRefreshes) != 1 {
		f.t.Fatalf("describe refresh %s: %v (%d found)", id, err, len(out.InstanceRefreshes))
	}
	return out.InstanceRefreshes[0]
}

// status returns a refresh's status; the caller holds the lock.
func (f *fixture) status(group, id string) string {
	for _, ir := range f.grp(group).Refreshes {
		if ir.ID == id {
			return ir.Status
		}
	}
	return ""
}

// waitStatus runs the clock until the refresh has the status.
func (f *fixture) waitStatus(group, id, status string, limit time.Duration) {
	f.t.Helper()
	f.until(limit, "refresh "+id+" is "+status, func() bool { return f.status(group, id) == status })
}

// refreshEvents returns the instance refresh events emitted so far.
func (f *fixture) refreshEvents() []Event {
	var out []Event
	for _, ev := range f.w.Events() {
		if ev.Source == "aws.autoscaling" && strings.HasPrefix(ev.DetailType, "EC2 Auto Scaling Instance Refresh ") {
			out = append(out, ev)
		}
	}
	return out
}

// versions counts the group's instances by launch template version.
func (f *fixture) versions(group string) map[string]int {
	f.w.Lock()
	defer f.w.Unlock()
	out := map[string]int{}
	for _, gi := range f.grp(group).Instances {
		if gi.LaunchTemplate != nil && gi.LifecycleState == LifecycleInService {
			out[gi.LaunchTemplate.Version]++
		}
	}
	return out
}

// activities returns a group's activities, newest first.
func (f *fixture) activities(group string) []types.Activity {
	f.t.Helper()
	var all []types.Activity
	in := &autoscaling.DescribeScalingActivitiesInput{AutoScalingGroupName: aws.String(group)}
	for {
		out, err := f.as.DescribeScalingActivities(f.ctx, in)
		if err != nil {
			f.t.Fatalf("describe activities: %v", err)
		}
		all = append(all, out.Activities...)
		if out.NextToken == nil {
			return all
		}
		in.NextToken = out.NextToken
	}
}

// wantCode fails the test unless err is an API error with the code and a
// message containing fragment.
func wantCode(t testing.TB, err error, code, fragment string) {
	t.Helper()
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error = %v, want API error %s", err, code)
	}
	if apiErr.ErrorCode() != code || !strings.Contains(apiErr.ErrorMessage(), fragment) {
		t.Fatalf("error = %s: %s, want %s containing %q", apiErr.ErrorCode(), apiErr.ErrorMessage(), code, fragment)
	}
}
