package sim

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
)

func testCreateAutoScalingGroupRefusesWhatAWSRefuses(t *testing.T, backend Backend) {
	t.Parallel()
	f := newFixture(t, backend)
	lt := f.template("app-lt", f.image("img", ""))
	f.group(groupSpec{name: "taken", ltID: lt, desired: 0})
	ltSpec := &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(lt)}
	base := func(mod func(in *autoscaling.CreateAutoScalingGroupInput)) *autoscaling.CreateAutoScalingGroupInput {
		in := &autoscaling.CreateAutoScalingGroupInput{
			AutoScalingGroupName: aws.String("g"), MinSize: aws.Int32(1), MaxSize: aws.Int32(3), DesiredCapacity: aws.Int32(2),
			LaunchTemplate: ltSpec, AvailabilityZones: []string{"us-east-1a"},
		}
		mod(in)
		return in
	}
	cases := []struct {
		name     string
		in       *autoscaling.CreateAutoScalingGroupInput
		code     string
		fragment string
	}{
		{"min size above max size is refused", base(func(in *autoscaling.CreateAutoScalingGroupInput) { in.MinSize = aws.Int32(4) }), "ValidationError", "Max bound, 3, must be greater than or equal to min bound, 4"},
		{"desired capacity above max size is refused", base(func(in *autoscaling.CreateAutoScalingGroupInput) { in.DesiredCapacity = aws.Int32(5) }), "ValidationError", "Desired capacity:5 must be between the specified min size:1 and max size:3"},
		{"desired capacity below min size is refused", base(func(in *autoscaling.CreateAutoScalingGroupInput) { in.DesiredCapacity = aws.Int32(0) }), "ValidationError", "must be between"},
		{"a group without a launch source is refused", base(func(in *autoscaling.CreateAutoScalingGroupInput) { in.LaunchTemplate = nil }), "ValidationError", "Valid requests must contain either LaunchTemplate"},
		{"a group with two launch sources is refused", base(func(in *autoscaling.CreateAutoScalingGroupInput) { in.LaunchConfigurationName = aws.String("lc") }), "ValidationError", "Valid requests must contain either LaunchTemplate"},
		{"an unknown launch template is refused", base(func(in *autoscaling.CreateAutoScalingGroupInput) {
			in.LaunchTemplate = &types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("nope")}
		}), "ValidationError", "valid fully-formed launch template"},
		{"a launch template named both by id and name is refused", base(func(in *autoscaling.CreateAutoScalingGroupInput) {
			in.LaunchTemplate = &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(lt), LaunchTemplateName: aws.String("app-lt")}
		}), "ValidationError", "either launchTemplateId or LaunchTemplateName"},
		{"an unknown launch configuration is refused", base(func(in *autoscaling.CreateAutoScalingGroupInput) {
			in.LaunchTemplate, in.LaunchConfigurationName = nil, aws.String("nope")
		}), "ValidationError", "Launch configuration name not found"},
		{"a group needs an Availability Zone or a subnet", base(func(in *autoscaling.CreateAutoScalingGroupInput) { in.AvailabilityZones = nil }), "ValidationError", "At least one Availability Zone or VPC Subnet is required."},
		{"a health check type other than EC2 or ELB is refused", base(func(in *autoscaling.CreateAutoScalingGroupInput) { in.HealthCheckType = aws.String("TCP") }), "ValidationError", "Health check type TCP"},
		{"an unknown target group is refused", base(func(in *autoscaling.CreateAutoScalingGroupInput) {
			in.TargetGroupARNs = []string{"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/nope/0123456789abcdef"}
		}), "ValidationError", "Provided Target Groups may not be valid"},
		{"a reserved tag key is refused", base(func(in *autoscaling.CreateAutoScalingGroupInput) {
			in.Tags = []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("y")}}
		}), "ValidationError", "reserved"},
		{"a taken name is refused", base(func(in *autoscaling.CreateAutoScalingGroupInput) { in.AutoScalingGroupName = aws.String("taken") }), "AlreadyExists", "AutoScalingGroup by this name already exists - A group with the name taken already exists"},
		{"a missing max size is refused", base(func(in *autoscaling.CreateAutoScalingGroupInput) { in.MaxSize = nil }), "ValidationError", "'maxSize' failed to satisfy constraint: Member must not be null"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.as.CreateAutoScalingGroup(f.ctx, tc.in)
			wantCode(t, err, tc.code, tc.fragment)
		})
	}
}

func testTheGroupKeepsItsDesiredCapacity(t *testing.T, backend Backend) {
	t.Parallel()
	f := newFixture(t, backend)
	lt := f.template("app-lt", f.image("img", ""))
	t0 := f.clk.Now()
	_, err := f.as.CreateAutoScalingGroup(f.ctx, &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String("web"), MinSize: aws.Int32(1), MaxSize: aws.Int32(9), DesiredCapacity: aws.Int32(6),
		LaunchTemplate:    &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(lt), Version: aws.String("$Latest")},
		AvailabilityZones: []string{"us-east-1a", "us-east-1b", "us-east-1c"},
		Tags: []types.Tag{
			{Key: aws.String("team"), Value: aws.String("phoenix"), PropagateAtLaunch: aws.Bool(true)},
			{Key: aws.String("cost"), Value: aws.String("no"), PropagateAtLaunch: aws.Bool(false)},
		},
	})
	if err != nil {
		t.Fatalf("create group: %v", err)
	}
	group := func() types.AutoScalingGroup {
		t.Helper()
		out, err := f.as.DescribeAutoScalingGroups(f.ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"web"}})
		if err != nil || len(out.AutoScalingGroups) != 1 {
			t.Fatalf("describe group: %v", err)
		}
		return out.AutoScalingGroups[0]
	}
	t.Run("new instances are Pending until EC2 reports them running", func(t *testing.T) {
		for _, in := range group().Instances {
			if in.LifecycleState != types.LifecycleStatePending {
				t.Fatalf("instance %s is %s right after launch, want Pending", aws.ToString(in.InstanceId), in.LifecycleState)
			}
		}
		f.clk.AdvanceTo(t0.Add(30 * time.Second))
		for _, in := range group().Instances {
			if in.LifecycleState != types.LifecycleStateInService || aws.ToString(in.HealthStatus) != "Healthy" {
				t.Fatalf("instance %s is %s/%s once running, want InService/Healthy", aws.ToString(in.InstanceId), in.LifecycleState, aws.ToString(in.HealthStatus))
			}
		}
	})
	t.Run("instances record the numbered version they were launched from", func(t *testing.T) {
		g := group()
		if v := aws.ToString(g.LaunchTemplate.Version); v != "$Latest" {
			t.Errorf("group version = %s, want $Latest as given", v)
		}
		for _, in := range g.Instances {
			if v := aws.ToString(in.LaunchTemplate.Version); v != "1" {
				t.Errorf("instance version = %s, want 1", v)
			}
		}
	})
	t.Run("instances are balanced across Availability Zones", func(t *testing.T) {
		per := map[string]int{}
		for _, in := range group().Instances {
			per[aws.ToString(in.AvailabilityZone)]++
		}
		if per["us-east-1a"] != 2 || per["us-east-1b"] != 2 || per["us-east-1c"] != 2 {
			t.Errorf("instances per zone = %v, want 2 in each", per)
		}
	})
	t.Run("tags with PropagateAtLaunch reach the instances", func(t *testing.T) {
		f.w.Lock()
		defer f.w.Unlock()
		for id := range f.grp("web").Instances {
			tags := f.w.region(testRegion).Instances[id].Tags
			if tags["aws:autoscaling:groupName"] != "web" || tags["team"] != "phoenix" || tags["cost"] != "" {
				t.Errorf("instance %s tags = %v", id, tags)
			}
		}
	})
	t.Run("each launch is a scaling activity in AWS's words, newest first", func(t *testing.T) {
		acts := f.activities("web")
		if len(acts) != 6 {
			t.Fatalf("%d activities, want 6", len(acts))
		}
		for _, a := range acts {
			if !strings.HasPrefix(aws.ToString(a.Description), "Launching a new EC2 instance: i-") || a.StatusCode != types.ScalingActivityStatusCodeSuccessful ||
				!strings.Contains(aws.ToString(a.Cause), "a user request created an AutoScalingGroup changing the desired capacity from 0 to 6") ||
				!strings.Contains(aws.ToString(a.Cause), "increasing the capacity from 0 to 6") {
				t.Errorf("activity %q (%s): %q", aws.ToString(a.Description), a.StatusCode, aws.ToString(a.Cause))
			}
		}
	})
	t.Run("scale in takes the unprotected instances from the fullest zones", func(t *testing.T) {
		g := group()
		var protected []string
		for _, in := range g.Instances {
			if aws.ToString(in.AvailabilityZone) == "us-east-1a" {
				protected = append(protected, aws.ToString(in.InstanceId))
			}
		}
		if _, err := f.as.SetInstanceProtection(f.ctx, &autoscaling.SetInstanceProtectionInput{AutoScalingGroupName: aws.String("web"), InstanceIds: protected, ProtectedFromScaleIn: aws.Bool(true)}); err != nil {
			t.Fatalf("protect: %v", err)
		}
		if _, err := f.as.SetDesiredCapacity(f.ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("web"), DesiredCapacity: aws.Int32(4)}); err != nil {
			t.Fatalf("set desired capacity: %v", err)
		}
		f.clk.Advance(time.Minute)
		per := map[string]int{}
		for _, in := range group().Instances {
			per[aws.ToString(in.AvailabilityZone)]++
		}
		if per["us-east-1a"] != 2 || per["us-east-1b"] != 1 || per["us-east-1c"] != 1 {
			t.Errorf("instances per zone after scale in = %v, want the protected two in us-east-1a and one in each other zone", per)
		}
		newest := f.activities("web")[0]
		if !strings.HasPrefix(aws.ToString(newest.Description), "Terminating EC2 instance: i-") || !strings.Contains(aws.ToString(newest.Cause), "shrinking the capacity from 6 to 4") || newest.StatusCode != types.ScalingActivityStatusCodeSuccessful {
			t.Errorf("newest activity = %q: %q (%s)", aws.ToString(newest.Description), aws.ToString(newest.Cause), newest.StatusCode)
		}
	})
	t.Run("SetDesiredCapacity outside the bounds is refused", func(t *testing.T) {
		_, err := f.as.SetDesiredCapacity(f.ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("web"), DesiredCapacity: aws.Int32(10)})
		wantCode(t, err, "ValidationError", "New SetDesiredCapacity value 10 is above max value 9 for the AutoScalingGroup.")
	})
}

func testFailedLaunchesAreRetriedWithBackoff(t *testing.T, backend Backend) {
	t.Parallel()
	f := newFixture(t, backend)
	lt := f.template("app-lt", f.image("img", ""))
	if _, err := f.w.Faults.Add(faults.Rule{Kind: faults.InsufficientCapacity, Target: "web", Times: 2}); err != nil {
		t.Fatalf("add fault: %v", err)
	}
	t0 := f.clk.Now()
	f.group(groupSpec{name: "web", ltID: lt, desired: 1})
	acts := f.activities("web")
	if len(acts) != 3 {
		t.Fatalf("%d activities, want 2 failed launches and 1 successful", len(acts))
	}
	wants := []struct {
		status types.ScalingActivityStatusCode
		at     time.Duration
	}{{types.ScalingActivityStatusCodeSuccessful, 30 * time.Second}, {types.ScalingActivityStatusCodeFailed, 10 * time.Second}, {types.ScalingActivityStatusCodeFailed, 0}}
	for i, w := range wants {
		a := acts[i]
		if a.StatusCode != w.status || !aws.ToTime(a.StartTime).Equal(t0.Add(w.at)) {
			t.Errorf("activity %d: %s at +%s, want %s at +%s", i, a.StatusCode, aws.ToTime(a.StartTime).Sub(t0), w.status, w.at)
		}
		if w.status == types.ScalingActivityStatusCodeFailed && !strings.Contains(aws.ToString(a.StatusMessage), "We currently do not have sufficient") {
			t.Errorf("failed activity message = %q", aws.ToString(a.StatusMessage))
		}
	}
}

func testSuspendedProcessesStopTheirWork(t *testing.T, backend Backend) {
	t.Parallel()
	f := newFixture(t, backend)
	lt := f.template("app-lt", f.image("img", ""))
	f.group(groupSpec{name: "web", ltID: lt, desired: 1})
	if _, err := f.as.SuspendProcesses(f.ctx, &autoscaling.SuspendProcessesInput{AutoScalingGroupName: aws.String("web"), ScalingProcesses: []string{"Launch", "InstanceRefresh"}}); err != nil {
		t.Fatalf("suspend: %v", err)
	}
	if _, err := f.as.SetDesiredCapacity(f.ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("web"), DesiredCapacity: aws.Int32(3)}); err != nil {
		t.Fatalf("set desired: %v", err)
	}
	f.clk.Advance(10 * time.Minute)
	out, _ := f.as.DescribeAutoScalingGroups(f.ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"web"}})
	g := out.AutoScalingGroups[0]
	if len(g.Instances) != 1 {
		t.Errorf("%d instances with Launch suspended, want 1", len(g.Instances))
	}
	var names []string
	for _, p := range g.SuspendedProcesses {
		names = append(names, aws.ToString(p.ProcessName))
		if !strings.HasPrefix(aws.ToString(p.SuspensionReason), "User suspended at ") {
			t.Errorf("suspension reason = %q", aws.ToString(p.SuspensionReason))
		}
	}
	if strings.Join(names, ",") != "Launch,InstanceRefresh" {
		t.Errorf("suspended processes = %v, want Launch and InstanceRefresh", names)
	}
	if _, err := f.as.ResumeProcesses(f.ctx, &autoscaling.ResumeProcessesInput{AutoScalingGroupName: aws.String("web")}); err != nil {
		t.Fatalf("resume: %v", err)
	}
	f.until(time.Minute, "three instances in service", func() bool { return f.inService("web") == 3 })
	_, err := f.as.SuspendProcesses(f.ctx, &autoscaling.SuspendProcessesInput{AutoScalingGroupName: aws.String("web"), ScalingProcesses: []string{"Napping"}})
	wantCode(t, err, "ValidationError", "Invalid process name Napping")
}

func testStandbyAndTermination(t *testing.T, backend Backend) {
	t.Parallel()
	f := newFixture(t, backend)
	lt := f.template("app-lt", f.image("img", ""))
	f.group(groupSpec{name: "web", ltID: lt, desired: 3})
	ids := func() []string {
		var out []string
		for _, gi := range f.grp("web").sortedInstances() {
			out = append(out, gi.InstanceID)
		}
		return out
	}
	first := ids()[0]
	t.Run("EnterStandby with ShouldDecrementDesiredCapacity launches no replacement", func(t *testing.T) {
		out, err := f.as.EnterStandby(f.ctx, &autoscaling.EnterStandbyInput{AutoScalingGroupName: aws.String("web"), InstanceIds: []string{first}, ShouldDecrementDesiredCapacity: aws.Bool(true)})
		if err != nil || len(out.Activities) != 1 {
			t.Fatalf("enter standby: %v", err)
		}
		f.clk.Advance(time.Minute)
		f.w.Lock()
		gi, desired, n := f.grp("web").Instances[first], f.grp("web").DesiredCapacity, len(f.grp("web").Instances)
		f.w.Unlock()
		if gi.LifecycleState != LifecycleStandby || desired != 2 || n != 3 {
			t.Errorf("instance %s, desired %d, %d instances; want Standby, 2, 3", gi.LifecycleState, desired, n)
		}
	})
	t.Run("ExitStandby returns the instance to service and raises the desired capacity", func(t *testing.T) {
		if _, err := f.as.ExitStandby(f.ctx, &autoscaling.ExitStandbyInput{AutoScalingGroupName: aws.String("web"), InstanceIds: []string{first}}); err != nil {
			t.Fatalf("exit standby: %v", err)
		}
		f.clk.Settle()
		f.w.Lock()
		gi, desired := f.grp("web").Instances[first], f.grp("web").DesiredCapacity
		f.w.Unlock()
		if gi.LifecycleState != LifecycleInService || desired != 3 {
			t.Errorf("instance %s, desired %d; want InService, 3", gi.LifecycleState, desired)
		}
	})
	t.Run("an instance not in service cannot exit standby", func(t *testing.T) {
		_, err := f.as.ExitStandby(f.ctx, &autoscaling.ExitStandbyInput{AutoScalingGroupName: aws.String("web"), InstanceIds: []string{first}})
		wantCode(t, err, "ValidationError", "is not in Standby")
	})
	t.Run("terminating an instance without decrementing launches a replacement", func(t *testing.T) {
		out, err := f.as.TerminateInstanceInAutoScalingGroup(f.ctx, &autoscaling.TerminateInstanceInAutoScalingGroupInput{InstanceId: aws.String(first), ShouldDecrementDesiredCapacity: aws.Bool(false)})
		if err != nil || !strings.Contains(aws.ToString(out.Activity.Cause), "in response to a user request") {
			t.Fatalf("terminate: %v", err)
		}
		f.until(5*time.Minute, "the replacement is in service and the old instance gone", func() bool {
			_, stillThere := f.grp("web").Instances[first]
			return !stillThere && f.inService("web") == 3
		})
	})
	t.Run("terminating with decrement below the min size is refused", func(t *testing.T) {
		if _, err := f.as.UpdateAutoScalingGroup(f.ctx, &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String("web"), MinSize: aws.Int32(3)}); err != nil {
			t.Fatalf("update: %v", err)
		}
		_, err := f.as.TerminateInstanceInAutoScalingGroup(f.ctx, &autoscaling.TerminateInstanceInAutoScalingGroupInput{InstanceId: aws.String(ids()[0]), ShouldDecrementDesiredCapacity: aws.Bool(true)})
		wantCode(t, err, "ValidationError", "desiredSize equals minSize (3)")
	})
}

func testDeleteAutoScalingGroup(t *testing.T, backend Backend) {
	t.Parallel()
	f := newFixture(t, backend)
	lt := f.template("app-lt", f.image("img", ""))
	f.group(groupSpec{name: "web", ltID: lt, desired: 2})
	_, err := f.as.DeleteAutoScalingGroup(f.ctx, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String("web")})
	wantCode(t, err, "ResourceInUse", "You cannot delete an AutoScalingGroup while there are instances")
	if _, err := f.as.DeleteAutoScalingGroup(f.ctx, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String("web"), ForceDelete: aws.Bool(true)}); err != nil {
		t.Fatalf("force delete: %v", err)
	}
	out, _ := f.as.DescribeAutoScalingGroups(f.ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"web"}})
	if len(out.AutoScalingGroups) != 1 || aws.ToString(out.AutoScalingGroups[0].Status) != "Delete in progress" {
		t.Fatalf("while its instances terminate the group should show Delete in progress")
	}
	f.clk.Advance(time.Minute)
	out, _ = f.as.DescribeAutoScalingGroups(f.ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"web"}})
	if len(out.AutoScalingGroups) != 0 {
		t.Errorf("group still listed after its instances terminated")
	}
}

func testTagsAndFilters(t *testing.T, backend Backend) {
	t.Parallel()
	f := newFixture(t, backend)
	lt := f.template("app-lt", f.image("img", ""))
	for _, n := range []string{"a", "b", "c"} {
		f.group(groupSpec{name: n, ltID: lt, desired: 0})
	}
	tag := func(group, key, value string) types.Tag {
		return types.Tag{ResourceId: aws.String(group), ResourceType: aws.String("auto-scaling-group"), Key: aws.String(key), Value: aws.String(value)}
	}
	if _, err := f.as.CreateOrUpdateTags(f.ctx, &autoscaling.CreateOrUpdateTagsInput{Tags: []types.Tag{tag("a", "env", "prod"), tag("b", "env", "dev"), tag("c", "team", "x")}}); err != nil {
		t.Fatalf("tag: %v", err)
	}
	cases := []struct {
		name    string
		filters []types.Filter
		want    string
	}{
		{"tag:KEY matches key and value", []types.Filter{{Name: aws.String("tag:env"), Values: []string{"prod"}}}, "a"},
		{"tag-key matches any value", []types.Filter{{Name: aws.String("tag-key"), Values: []string{"env"}}}, "a,b"},
		{"tag-value matches any key", []types.Filter{{Name: aws.String("tag-value"), Values: []string{"dev", "x"}}}, "b,c"},
		{"filters are ANDed", []types.Filter{{Name: aws.String("tag-key"), Values: []string{"env"}}, {Name: aws.String("tag-value"), Values: []string{"dev"}}}, "b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := f.as.DescribeAutoScalingGroups(f.ctx, &autoscaling.DescribeAutoScalingGroupsInput{Filters: tc.filters})
			if err != nil {
				t.Fatalf("describe: %v", err)
			}
			var names []string
			for _, g := range out.AutoScalingGroups {
				names = append(names, aws.ToString(g.AutoScalingGroupName))
			}
			if strings.Join(names, ",") != tc.want {
				t.Errorf("groups = %v, want %s", names, tc.want)
			}
		})
	}
	t.Run("DescribeAutoScalingGroups pages with NextToken", func(t *testing.T) {
		var names []string
		in := &autoscaling.DescribeAutoScalingGroupsInput{MaxRecords: aws.Int32(2)}
		for pages := 0; ; pages++ {
			out, err := f.as.DescribeAutoScalingGroups(f.ctx, in)
			if err != nil || pages > 2 {
				t.Fatalf("page %d: %v", pages, err)
			}
			for _, g := range out.AutoScalingGroups {
				names = append(names, aws.ToString(g.AutoScalingGroupName))
			}
			if out.NextToken == nil {
				break
			}
			in.NextToken = out.NextToken
		}
		if strings.Join(names, ",") != "a,b,c" {
			t.Errorf("paged names = %v", names)
		}
		_, err := f.as.DescribeAutoScalingGroups(f.ctx, &autoscaling.DescribeAutoScalingGroupsInput{NextToken: aws.String("garbage")})
		wantCode(t, err, "InvalidNextToken", "garbage")
	})
	t.Run("DescribeTags filters by group and DeleteTags removes", func(t *testing.T) {
		if _, err := f.as.DeleteTags(f.ctx, &autoscaling.DeleteTagsInput{Tags: []types.Tag{tag("a", "env", "prod")}}); err != nil {
			t.Fatalf("delete tags: %v", err)
		}
		out, err := f.as.DescribeTags(f.ctx, &autoscaling.DescribeTagsInput{Filters: []types.Filter{{Name: aws.String("key"), Values: []string{"env"}}}})
		if err != nil || len(out.Tags) != 1 || aws.ToString(out.Tags[0].ResourceId) != "b" {
			t.Errorf("env tags after delete = %+v (%v), want only b's", out.Tags, err)
		}
	})
}

func testLaunchConfigurations(t *testing.T, backend Backend) {
	t.Parallel()
	f := newFixture(t, backend)
	img := f.image("img", "")
	lc := &autoscaling.CreateLaunchConfigurationInput{LaunchConfigurationName: aws.String("legacy"), ImageId: aws.String(img), InstanceType: aws.String("t3.micro")}
	if _, err := f.as.CreateLaunchConfiguration(f.ctx, lc); err != nil {
		t.Fatalf("create: %v", err)
	}
	_, err := f.as.CreateLaunchConfiguration(f.ctx, lc)
	wantCode(t, err, "AlreadyExists", "legacy")
	_, err = f.as.CreateAutoScalingGroup(f.ctx, &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String("old"), MinSize: aws.Int32(1), MaxSize: aws.Int32(1),
		LaunchConfigurationName: aws.String("legacy"), VPCZoneIdentifier: aws.String("subnet-1,subnet-2"),
	})
	if err != nil {
		t.Fatalf("create group on a launch configuration: %v", err)
	}
	f.until(time.Minute, "the instance is in service", func() bool { return f.inService("old") == 1 })
	out, _ := f.as.DescribeAutoScalingInstances(f.ctx, &autoscaling.DescribeAutoScalingInstancesInput{})
	if len(out.AutoScalingInstances) != 1 || aws.ToString(out.AutoScalingInstances[0].LaunchConfigurationName) != "legacy" || out.AutoScalingInstances[0].LaunchTemplate != nil {
		t.Errorf("instances = %+v, want one launched from the launch configuration", out.AutoScalingInstances)
	}
	_, err = f.as.DeleteLaunchConfiguration(f.ctx, &autoscaling.DeleteLaunchConfigurationInput{LaunchConfigurationName: aws.String("legacy")})
	wantCode(t, err, "ResourceInUse", "attached to AutoScalingGroup old")
	d, err := f.as.DescribeLaunchConfigurations(f.ctx, &autoscaling.DescribeLaunchConfigurationsInput{})
	if err != nil || len(d.LaunchConfigurations) != 1 || aws.ToString(d.LaunchConfigurations[0].ImageId) != img {
		t.Errorf("describe launch configurations = %+v (%v)", d.LaunchConfigurations, err)
	}
}

func testAnInstanceTerminatedBehindTheGroupsBackIsReplaced(t *testing.T, backend Backend) {
	t.Parallel()
	f := newFixture(t, backend)
	lt := f.template("app-lt", f.image("img", ""))
	f.group(groupSpec{name: "web", ltID: lt, desired: 2})
	f.w.Lock()
	victim := f.grp("web").sortedInstances()[0]
	f.w.terminateInstance(f.w.region(testRegion), victim.inst)
	f.w.Unlock()
	f.until(5*time.Minute, "a replacement is in service", func() bool {
		_, there := f.grp("web").Instances[victim.InstanceID]
		return !there && f.inService("web") == 2
	})
	found := false
	for _, a := range f.activities("web") {
		if strings.Contains(aws.ToString(a.Cause), "EC2 health check indicating it has been terminated or stopped") {
			found = true
		}
	}
	if !found {
		t.Errorf("no activity names the EC2 health check that caught the termination")
	}
}
