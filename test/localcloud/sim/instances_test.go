package sim

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
)

func testAnInstanceGoesThroughPendingRunningShuttingDownAndTerminatedOnTheClock(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	img := e.image("app", "x86_64", nil)
	cfg := DefaultEC2Config()
	start := e.clk.Now()
	id := e.run(img, 1)[0]
	steps := []struct {
		at   time.Duration
		want string
	}{
		{0, InstancePending},
		{cfg.PendingTime - time.Second, InstancePending},
		{cfg.PendingTime, InstanceRunning},
	}
	for _, s := range steps {
		e.clk.AdvanceTo(start.Add(s.at))
		if got := e.state(id); got != s.want {
			t.Fatalf("at +%v the instance is %s, want %s", s.at, got, s.want)
		}
	}
	out, err := e.ec2.TerminateInstances(e.ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	noErr(t, err)
	ch := out.TerminatingInstances[0]
	if ch.PreviousState.Name != "running" || ch.CurrentState.Name != "shutting-down" || aws.ToInt32(ch.CurrentState.Code) != 32 {
		t.Fatalf("terminate answered %s -> %s (%d), want running -> shutting-down (32)", ch.PreviousState.Name, ch.CurrentState.Name, aws.ToInt32(ch.CurrentState.Code))
	}
	stop := e.clk.Now()
	e.clk.AdvanceTo(stop.Add(cfg.ShutdownTime - time.Second))
	if got := e.state(id); got != InstanceShuttingDown {
		t.Fatalf("before the shutdown time the instance is %s, want shutting-down", got)
	}
	e.clk.AdvanceTo(stop.Add(cfg.ShutdownTime))
	inst := e.instance(id)
	if inst.State.Name != "terminated" || aws.ToString(inst.StateReason.Code) != "Client.UserInitiatedShutdown" {
		t.Fatalf("after the shutdown time: %s (%v), want terminated by the user", inst.State.Name, inst.StateReason)
	}
	e.clk.AdvanceTo(stop.Add(cfg.ShutdownTime + cfg.TerminatedVisible - time.Second))
	e.instance(id)
	e.clk.AdvanceTo(stop.Add(cfg.ShutdownTime + cfg.TerminatedVisible))
	_, err = e.ec2.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	wantAWSCode(t, err, "InvalidInstanceID.NotFound")

	var states []string
	for _, ev := range e.events("EC2 Instance State-change Notification") {
		if ev["instance-id"] == id {
			states = append(states, ev["state"].(string))
		}
	}
	if strings.Join(states, ",") != "pending,running,shutting-down,terminated" {
		t.Fatalf("state-change events %v, want pending,running,shutting-down,terminated", states)
	}
}

func testBehaviourTagsChangeHowInstancesBoot(t *testing.T, backend Backend) {
	cfg := DefaultEC2Config()
	tests := []struct {
		rule     string
		behavior string
		at       time.Duration
		want     string
		reason   string
	}{
		{"a healthy image runs after the pending time", "healthy", cfg.PendingTime, InstanceRunning, ""},
		{"a slow-boot image is still pending after the normal pending time", "slow-boot", cfg.PendingTime, InstancePending, ""},
		{"a slow-boot image runs after five pending times", "slow-boot", 5 * cfg.PendingTime, InstanceRunning, ""},
		{"a fail-launch image terminates during boot with a state reason", "fail-launch", cfg.PendingTime, InstanceTerminated, "Client.InternalError"},
		{"an unknown behaviour boots like a healthy image", "sluggish", cfg.PendingTime, InstanceRunning, ""},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			e := newEC2Env(t, backend)
			img := e.image("app", "x86_64", map[string]string{BehaviorTag: tt.behavior})
			start := e.clk.Now()
			id := e.run(img, 1)[0]
			e.clk.AdvanceTo(start.Add(tt.at))
			inst := e.instance(id)
			if string(inst.State.Name) != tt.want {
				t.Fatalf("at +%v the instance is %s, want %s", tt.at, inst.State.Name, tt.want)
			}
			if tt.reason != "" && (inst.StateReason == nil || aws.ToString(inst.StateReason.Code) != tt.reason) {
				t.Fatalf("state reason %v, want %s", inst.StateReason, tt.reason)
			}
		})
	}
	t.Run("an unknown behaviour is reported once per image", func(t *testing.T) {
		e := newEC2Env(t, backend)
		img := e.image("app", "x86_64", map[string]string{BehaviorTag: "sluggish"})
		e.run(img, 2)
		if w := e.w.BehaviorWarnings(); len(w) != 1 || !strings.Contains(w[0], img) {
			t.Fatalf("warnings %v, want one naming %s", w, img)
		}
	})
}

func testRunInstancesDryRunAnswersDryRunOperationOnlyWhenTheRequestWouldSucceed(t *testing.T, backend Backend) {
	tests := []struct {
		rule string
		in   func(e *ec2Env, imgs map[string]string) *ec2.RunInstancesInput
		code string
	}{
		{"a request that would succeed answers DryRunOperation", func(e *ec2Env, imgs map[string]string) *ec2.RunInstancesInput {
			return &ec2.RunInstancesInput{ImageId: aws.String(imgs["x86"]), InstanceType: "t3.micro"}
		}, "DryRunOperation"},
		{"a launch template version that exists answers DryRunOperation", func(e *ec2Env, imgs map[string]string) *ec2.RunInstancesInput {
			return &ec2.RunInstancesInput{LaunchTemplate: &ec2types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("web"), Version: aws.String("1")}}
		}, "DryRunOperation"},
		{"an unknown image is not found", func(e *ec2Env, imgs map[string]string) *ec2.RunInstancesInput {
			return &ec2.RunInstancesInput{ImageId: aws.String("ami-0123456789abcdef0"), InstanceType: "t3.micro"}
		}, "InvalidAMIID.NotFound"},
		{"a pending image is unavailable", func(e *ec2Env, imgs map[string]string) *ec2.RunInstancesInput {
			return &ec2.RunInstancesInput{ImageId: aws.String(imgs["pending"]), InstanceType: "t3.micro"}
		}, "InvalidAMIID.Unavailable"},
		{"a deregistered image is unavailable", func(e *ec2Env, imgs map[string]string) *ec2.RunInstancesInput {
			return &ec2.RunInstancesInput{ImageId: aws.String(imgs["gone"]), InstanceType: "t3.micro"}
		}, "InvalidAMIID.Unavailable"},
		{"an unknown launch template is not found", func(e *ec2Env, imgs map[string]string) *ec2.RunInstancesInput {
			return &ec2.RunInstancesInput{LaunchTemplate: &ec2types.LaunchTemplateSpecification{LaunchTemplateId: aws.String("lt-0123456789abcdef0")}}
		}, "InvalidLaunchTemplateId.NotFound"},
		{"an unknown launch template version is not found", func(e *ec2Env, imgs map[string]string) *ec2.RunInstancesInput {
			return &ec2.RunInstancesInput{LaunchTemplate: &ec2types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("web"), Version: aws.String("5")}}
		}, "InvalidLaunchTemplateId.VersionNotFound"},
		{"an arm64 instance type cannot run an x86_64 image", func(e *ec2Env, imgs map[string]string) *ec2.RunInstancesInput {
			return &ec2.RunInstancesInput{ImageId: aws.String(imgs["x86"]), InstanceType: "t4g.micro"}
		}, "InvalidParameterValue"},
		{"without an instance type EC2 picks m1.small, which cannot run arm64", func(e *ec2Env, imgs map[string]string) *ec2.RunInstancesInput {
			return &ec2.RunInstancesInput{ImageId: aws.String(imgs["arm"])}
		}, "InvalidParameterValue"},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			e := newEC2Env(t, backend)
			imgs := map[string]string{
				"x86":  e.image("app-x86", "x86_64", nil),
				"arm":  e.image("app-arm", "arm64", nil),
				"gone": e.image("app-old", "x86_64", nil),
			}
			_, err := e.ec2.DeregisterImage(e.ctx, &ec2.DeregisterImageInput{ImageId: aws.String(imgs["gone"])})
			noErr(t, err)
			e.template("web", imgs["x86"])
			pending, err := e.ec2.RegisterImage(e.ctx, &ec2.RegisterImageInput{Name: aws.String("app-new"), Architecture: "x86_64"})
			noErr(t, err)
			imgs["pending"] = aws.ToString(pending.ImageId)
			in := tt.in(e, imgs)
			in.MinCount, in.MaxCount, in.DryRun = aws.Int32(1), aws.Int32(1), aws.Bool(true)
			_, err = e.ec2.RunInstances(e.ctx, in)
			wantAWSCode(t, err, tt.code)
			if tt.code == "DryRunOperation" && errHTTPStatus(err) != http.StatusPreconditionFailed {
				t.Fatalf("DryRunOperation sent with HTTP %d, want 412", errHTTPStatus(err))
			}
			out, err := e.ec2.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{})
			noErr(t, err)
			if len(out.Reservations) != 0 {
				t.Fatalf("a dry run launched %d reservations", len(out.Reservations))
			}
		})
	}
}

func testArchitectureMismatchNamesBothArchitecturesAsEC2Does(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	img := e.image("app", "x86_64", nil)
	_, err := e.ec2.RunInstances(e.ctx, &ec2.RunInstancesInput{ImageId: aws.String(img), InstanceType: "m7g.large", MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	wantAWSCode(t, err, "InvalidParameterValue")
	if !strings.Contains(err.Error(), "The architecture 'arm64' of the specified instance type does not match the architecture 'x86_64' of the specified AMI.") {
		t.Fatalf("message %q", err)
	}
}

func testRunInstancesFromALaunchTemplatePinsTheNumberedVersionAndAppliesTags(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	a := e.image("app-a", "x86_64", nil)
	b := e.image("app-b", "x86_64", nil)
	id := e.template("web", a)
	_, err := e.ec2.CreateLaunchTemplateVersion(e.ctx, &ec2.CreateLaunchTemplateVersionInput{
		LaunchTemplateId: aws.String(id), SourceVersion: aws.String("1"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{
			ImageId: aws.String(b),
			TagSpecifications: []ec2types.LaunchTemplateTagSpecificationRequest{{
				ResourceType: ec2types.ResourceTypeInstance, Tags: []ec2types.Tag{{Key: aws.String("team"), Value: aws.String("web")}, {Key: aws.String("env"), Value: aws.String("dev")}},
			}},
		},
	})
	noErr(t, err)
	out, err := e.ec2.RunInstances(e.ctx, &ec2.RunInstancesInput{
		LaunchTemplate: &ec2types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(id), Version: aws.String("$Latest")},
		MinCount:       aws.Int32(1), MaxCount: aws.Int32(1),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: []ec2types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}},
	})
	noErr(t, err)
	inst := out.Instances[0]
	tags := map[string]string{}
	for _, tag := range inst.Tags {
		tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	if aws.ToString(inst.ImageId) != b || inst.InstanceType != "t3.micro" || tags["team"] != "web" || tags["env"] != "prod" {
		t.Fatalf("instance image %s type %s tags %v; want version 2's image, version 1's type, template tags with the request's winning", aws.ToString(inst.ImageId), inst.InstanceType, tags)
	}
	e.w.Lock()
	got := e.w.region(ec2Region).Instances[aws.ToString(inst.InstanceId)].LaunchTemplateVersion
	e.w.Unlock()
	if got != "2" {
		t.Fatalf("instance records launch template version %q, want the number \"2\" that $Latest resolved to", got)
	}
}

func testLaunchInstanceForAGroupPinsTheVersionAndCopiesTheSpecTags(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	img := e.image("app", "x86_64", nil)
	id := e.template("web", img)
	e.w.Lock()
	r := e.w.region(ec2Region)
	inst, err := e.w.launchInstance(r, LaunchSpec{
		LaunchTemplateID: id, Version: "$Default", AvailabilityZone: ec2Region + "b", SubnetID: "subnet-b",
		Tags: map[string]string{"aws:autoscaling:groupName": "web-asg"}, GroupName: "web-asg",
	})
	e.w.Unlock()
	noErr(t, err)
	if inst.LaunchTemplateVersion != "1" || inst.LaunchTemplateID != id || inst.LaunchTemplateName != "web" {
		t.Fatalf("pinned %s/%s version %q, want %s/web version \"1\"", inst.LaunchTemplateID, inst.LaunchTemplateName, inst.LaunchTemplateVersion, id)
	}
	if inst.Tags["aws:autoscaling:groupName"] != "web-asg" || inst.AZ != ec2Region+"b" || inst.SubnetID != "subnet-b" || inst.State != InstancePending {
		t.Fatalf("instance %+v: want the group tag, zone b, subnet-b, pending", inst)
	}
	e.advance(DefaultEC2Config().PendingTime)
	e.w.Lock()
	ok := e.w.instanceStatusOK(r, inst)
	e.w.Unlock()
	if !ok {
		t.Fatal("EC2 status checks fail for a running instance")
	}
}

func testLaunchFaultsAnswerEC2ErrorsAndLaunchNothingBelowMinCount(t *testing.T, backend Backend) {
	tests := []struct {
		rule   string
		fault  faults.Rule
		code   string
		status int
	}{
		{"insufficient capacity answers InsufficientInstanceCapacity", faults.Rule{Kind: faults.InsufficientCapacity, Target: "t3.micro"}, "InsufficientInstanceCapacity", 500},
		{"a launch failure answers an internal error", faults.Rule{Kind: faults.LaunchFailure, Target: ec2Region + "a"}, "InternalError", 500},
		{"a launch failure can carry its own code", faults.Rule{Kind: faults.LaunchFailure, Code: "Unsupported", Status: 400}, "Unsupported", 400},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			e := newEC2Env(t, backend)
			img := e.image("app", "x86_64", nil)
			_, err := e.w.Faults.Add(tt.fault)
			noErr(t, err)
			_, err = e.ec2.RunInstances(e.ctx, &ec2.RunInstancesInput{
				ImageId: aws.String(img), InstanceType: "t3.micro", MinCount: aws.Int32(2), MaxCount: aws.Int32(2),
				Placement: &ec2types.Placement{AvailabilityZone: aws.String(ec2Region + "a")},
			})
			wantAWSCode(t, err, tt.code)
			if errHTTPStatus(err) != tt.status {
				t.Fatalf("status %d, want %d", errHTTPStatus(err), tt.status)
			}
			out, err := e.ec2.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{})
			noErr(t, err)
			if len(out.Reservations) != 0 {
				t.Fatalf("a failed launch left %d reservations", len(out.Reservations))
			}
			if evs := e.events("EC2 Instance State-change Notification"); len(evs) != 0 {
				t.Fatalf("a failed launch emitted %d instance events", len(evs))
			}
		})
	}
	t.Run("a launch above MinCount keeps the instances it could start", func(t *testing.T) {
		e := newEC2Env(t, backend)
		img := e.image("app", "x86_64", nil)
		_, err := e.w.Faults.Add(faults.Rule{Kind: faults.InsufficientCapacity, Nth: 3})
		noErr(t, err)
		out, err := e.ec2.RunInstances(e.ctx, &ec2.RunInstancesInput{ImageId: aws.String(img), InstanceType: "t3.micro", MinCount: aws.Int32(1), MaxCount: aws.Int32(4)})
		noErr(t, err)
		if len(out.Instances) != 2 {
			t.Fatalf("launched %d, want the 2 before capacity ran out", len(out.Instances))
		}
	})
}

func testDescribeInstancesFiltersGroupsAndPages(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	x86 := e.image("app", "x86_64", nil)
	first := e.run(x86, 3)
	second := e.run(x86, 4)
	_, err := e.ec2.CreateTags(e.ctx, &ec2.CreateTagsInput{Resources: first[:1], Tags: []ec2types.Tag{{Key: aws.String("role"), Value: aws.String("canary")}}})
	noErr(t, err)
	e.advance(DefaultEC2Config().PendingTime)
	_, err = e.ec2.TerminateInstances(e.ctx, &ec2.TerminateInstancesInput{InstanceIds: second[:1]})
	noErr(t, err)
	filter := func(name string, values ...string) []ec2types.Filter {
		return []ec2types.Filter{{Name: aws.String(name), Values: values}}
	}
	all := append(append([]string{}, first...), second...)
	tests := []struct {
		rule string
		in   *ec2.DescribeInstancesInput
		want []string
	}{
		{"without criteria every instance is listed", &ec2.DescribeInstancesInput{}, all},
		{"instance-state-name selects by state", &ec2.DescribeInstancesInput{Filters: filter("instance-state-name", "shutting-down")}, second[:1]},
		{"instance-id selects by id", &ec2.DescribeInstancesInput{Filters: filter("instance-id", first[1])}, first[1:2]},
		{"image-id selects by image", &ec2.DescribeInstancesInput{Filters: filter("image-id", x86)}, all},
		{"instance-type selects by type with wildcards", &ec2.DescribeInstancesInput{Filters: filter("instance-type", "t3.*")}, all},
		{"tag:KEY selects by tag value", &ec2.DescribeInstancesInput{Filters: filter("tag:role", "canary")}, first[:1]},
		{"tag-key selects instances having the key", &ec2.DescribeInstancesInput{Filters: filter("tag-key", "role")}, first[:1]},
		{"launch-time matches the ISO timestamp with wildcards", &ec2.DescribeInstancesInput{Filters: filter("launch-time", "2026-01-05T*")}, all},
		{"availability-zone selects by zone", &ec2.DescribeInstancesInput{Filters: filter("availability-zone", "nowhere-1a")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			out, err := e.ec2.DescribeInstances(e.ctx, tt.in)
			noErr(t, err)
			var got []string
			for _, res := range out.Reservations {
				for _, inst := range res.Instances {
					got = append(got, aws.ToString(inst.InstanceId))
				}
			}
			if !sameIDs(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("instances launched together share a reservation", func(t *testing.T) {
		out, err := e.ec2.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{})
		noErr(t, err)
		if len(out.Reservations) != 2 || len(out.Reservations[0].Instances) != 3 || len(out.Reservations[1].Instances) != 4 {
			t.Fatalf("got %d reservations, want 2 of 3 and 4 instances", len(out.Reservations))
		}
	})
	t.Run("MaxResults pages through instances with NextToken", func(t *testing.T) {
		var got []string
		var tok *string
		pages := 0
		for {
			out, err := e.ec2.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5), NextToken: tok})
			noErr(t, err)
			pages++
			for _, res := range out.Reservations {
				for _, inst := range res.Instances {
					got = append(got, aws.ToString(inst.InstanceId))
				}
			}
			if tok = out.NextToken; tok == nil {
				break
			}
		}
		if pages != 2 || !sameIDs(got, all) {
			t.Fatalf("got %d instances in %d pages, want 7 in 2", len(got), pages)
		}
	})
	for _, tt := range []struct {
		rule string
		in   *ec2.DescribeInstancesInput
		code string
	}{
		{"MaxResults cannot be combined with InstanceIds", &ec2.DescribeInstancesInput{InstanceIds: first, MaxResults: aws.Int32(5)}, "InvalidParameterCombination"},
		{"MaxResults below 5 is refused", &ec2.DescribeInstancesInput{MaxResults: aws.Int32(4)}, "InvalidParameterValue"},
		{"an unknown instance id is not found", &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}}, "InvalidInstanceID.NotFound"},
		{"a malformed instance id is refused", &ec2.DescribeInstancesInput{InstanceIds: []string{"i-xyz"}}, "InvalidInstanceID.Malformed"},
		{"an unknown filter is refused", &ec2.DescribeInstancesInput{Filters: filter("flavour", "x")}, "InvalidParameterValue"},
	} {
		t.Run(tt.rule, func(t *testing.T) {
			_, err := e.ec2.DescribeInstances(e.ctx, tt.in)
			wantAWSCode(t, err, tt.code)
		})
	}
}

func testTerminateInstancesTerminatesNothingWhenAnIdIsUnknown(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	id := e.run(e.image("app", "x86_64", nil), 1)[0]
	_, err := e.ec2.TerminateInstances(e.ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id, "i-0123456789abcdef0"}})
	wantAWSCode(t, err, "InvalidInstanceID.NotFound")
	if got := e.state(id); got != InstancePending {
		t.Fatalf("the known instance is %s, want still pending", got)
	}
}

func testRunInstancesWithTheSameClientTokenReturnsTheSameReservation(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	img := e.image("app", "x86_64", nil)
	in := &ec2.RunInstancesInput{ImageId: aws.String(img), InstanceType: "t3.micro", MinCount: aws.Int32(2), MaxCount: aws.Int32(2), ClientToken: aws.String("launch-1")}
	a, err := e.ec2.RunInstances(e.ctx, in)
	noErr(t, err)
	b, err := e.ec2.RunInstances(e.ctx, in)
	noErr(t, err)
	if aws.ToString(a.ReservationId) != aws.ToString(b.ReservationId) || len(b.Instances) != 2 {
		t.Fatalf("retry made reservation %s, want %s with the same two instances", aws.ToString(b.ReservationId), aws.ToString(a.ReservationId))
	}
}
