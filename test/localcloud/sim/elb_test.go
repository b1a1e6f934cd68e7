package sim

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
)

// readyInstance launches an instance of an image with behaviour b and waits
// until its application answers.
func (e *ec2Env) readyInstance(b string) string {
	e.t.Helper()
	e.images++
	img := e.image(fmt.Sprintf("app-%d", e.images), "x86_64", map[string]string{BehaviorTag: b})
	id := e.run(img, 1)[0]
	cfg := DefaultEC2Config()
	e.advance(cfg.PendingTime + cfg.AppStartTime)
	return id
}

// wantHealth fails unless the target's health is as given.
func (e *ec2Env) wantHealth(when, tgARN, id, state, reason, desc string) {
	e.t.Helper()
	s, r, d := e.health(tgARN, id)
	if s != state || r != reason || d != desc {
		e.t.Fatalf("%s: target %s is %s/%s %q, want %s/%s %q", when, id, s, r, d, state, reason, desc)
	}
}

func testANewlyRegisteredTargetBecomesHealthyAfterPassingOneHealthCheck(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	id := e.readyInstance("healthy")
	tg, _ := e.setupALB("web", true, nil)
	start := e.clk.Now()
	e.register(tg, id)
	e.wantHealth("at registration", tg, id, "initial", "Elb.RegistrationInProgress", "Target registration is in progress")
	e.clk.AdvanceTo(start.Add(29 * time.Second))
	e.wantHealth("before the first check", tg, id, "initial", "Elb.RegistrationInProgress", "Target registration is in progress")
	e.clk.AdvanceTo(start.Add(30 * time.Second))
	e.wantHealth("after one passing check", tg, id, "healthy", "", "")
}

func testATargetInATargetGroupNoListenerUsesIsUnused(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	id := e.readyInstance("healthy")
	tg, lb := e.setupALB("web", false, nil)
	e.register(tg, id)
	e.advance(5 * time.Minute)
	e.wantHealth("without a listener", tg, id, "unused", "Target.NotInUse", "Target group is not configured to receive traffic from the load balancer")
	start := e.clk.Now()
	e.listen(lb, tg, 80)
	e.wantHealth("once a listener forwards to the group", tg, id, "initial", "Elb.RegistrationInProgress", "Target registration is in progress")
	e.clk.AdvanceTo(start.Add(30 * time.Second))
	e.wantHealth("one interval after the listener", tg, id, "healthy", "", "")
}

func testABootingTargetTurnsUnhealthyThenNeedsHealthyThresholdPassesToBeHealthy(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	img := e.image("app", "x86_64", nil)
	tg, _ := e.setupALB("web", true, nil)
	start := e.clk.Now()
	id := e.run(img, 1)[0]
	e.register(tg, id)
	steps := []struct {
		at                  time.Duration
		state, reason, desc string
	}{
		{29 * time.Second, "initial", "Elb.RegistrationInProgress", "Target registration is in progress"},
		{30 * time.Second, "initial", "Elb.InitialHealthChecking", "Initial health checks in progress"},
		{60 * time.Second, "unhealthy", "Target.FailedHealthChecks", "Health checks failed"},
		// The application answers from +90 s: five passes at +90..+210.
		{209 * time.Second, "unhealthy", "Target.FailedHealthChecks", "Health checks failed"},
		{210 * time.Second, "healthy", "", ""},
	}
	for _, s := range steps {
		e.clk.AdvanceTo(start.Add(s.at))
		e.wantHealth("at +"+s.at.String(), tg, id, s.state, s.reason, s.desc)
	}
}

func testFailingHealthChecksReportWhyTheyFailed(t *testing.T, backend Backend) {
	tests := []struct {
		rule     string
		behavior string
		matcher  string
		after    time.Duration // from registration of a ready instance
		reason   string
		desc     string
	}{
		{"an unhealthy image answers 500, a response code mismatch", "unhealthy", "", 60 * time.Second,
			"Target.ResponseCodeMismatch", "Health checks failed with these codes: [500]"},
		{"a matcher without 200 refuses a healthy answer", "healthy", "301-302", 60 * time.Second,
			"Target.ResponseCodeMismatch", "Health checks failed with these codes: [200]"},
		// degrade-after:120 stops answering at launch+150 s; the instance was
		// ready at +90 s, so checks at +60 and +90 after registration fail.
		{"a degraded instance times out", "degrade-after:120", "", 90 * time.Second,
			"Target.Timeout", "Request timed out"},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			e := newEC2Env(t, backend)
			id := e.readyInstance(tt.behavior)
			tg, _ := e.setupALB("web", true, func(in *elb.CreateTargetGroupInput) {
				if tt.matcher != "" {
					in.Matcher = &elbtypes.Matcher{HttpCode: aws.String(tt.matcher)}
				}
			})
			start := e.clk.Now()
			e.register(tg, id)
			e.clk.AdvanceTo(start.Add(tt.after - time.Second))
			if s, _, _ := e.health(tg, id); s == "unhealthy" {
				t.Fatalf("unhealthy a second before the second failed check")
			}
			e.clk.AdvanceTo(start.Add(tt.after))
			e.wantHealth("after two failed checks", tg, id, "unhealthy", tt.reason, tt.desc)
		})
	}
}

func testAHealthFlapFaultFailsChecksUntilItStopsFiring(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	id := e.readyInstance("healthy")
	tg, _ := e.setupALB("web", true, nil)
	e.register(tg, id)
	e.advance(30 * time.Second)
	e.wantHealth("before the fault", tg, id, "healthy", "", "")
	_, err := e.w.Faults.Add(faults.Rule{Kind: faults.HealthFlap, Target: tg, Times: 2})
	noErr(t, err)
	start := e.clk.Now()
	e.clk.AdvanceTo(start.Add(60 * time.Second))
	e.wantHealth("after two flapped checks", tg, id, "unhealthy", "Target.Timeout", "Request timed out")
	e.clk.AdvanceTo(start.Add(60*time.Second + 5*30*time.Second - time.Second))
	if s, _, _ := e.health(tg, id); s != "unhealthy" {
		t.Fatalf("healthy again after fewer than HealthyThresholdCount passes: %s", s)
	}
	e.clk.AdvanceTo(start.Add(60*time.Second + 5*30*time.Second))
	e.wantHealth("after five passes", tg, id, "healthy", "", "")
}

func testADeregisteredTargetDrainsForTheDeregistrationDelay(t *testing.T, backend Backend) {
	tests := []struct {
		rule  string
		delay string // "" keeps the default
		want  time.Duration
	}{
		{"draining lasts the default 300 seconds", "", 300 * time.Second},
		{"draining lasts a modified delay", "10", 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			e := newEC2Env(t, backend)
			id := e.readyInstance("healthy")
			tg, _ := e.setupALB("web", true, nil)
			if tt.delay != "" {
				_, err := e.elb.ModifyTargetGroupAttributes(e.ctx, &elb.ModifyTargetGroupAttributesInput{
					TargetGroupArn: aws.String(tg),
					Attributes:     []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String(tt.delay)}},
				})
				noErr(t, err)
			}
			e.register(tg, id)
			e.advance(30 * time.Second)
			start := e.clk.Now()
			_, err := e.elb.DeregisterTargets(e.ctx, &elb.DeregisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: []elbtypes.TargetDescription{{Id: aws.String(id)}}})
			noErr(t, err)
			e.wantHealth("at deregistration", tg, id, "draining", "Target.DeregistrationInProgress", "Target deregistration is in progress")
			e.clk.AdvanceTo(start.Add(tt.want - time.Second))
			e.wantHealth("just before the delay ends", tg, id, "draining", "Target.DeregistrationInProgress", "Target deregistration is in progress")
			e.clk.AdvanceTo(start.Add(tt.want))
			e.wantHealth("when the delay ends", tg, id, "unused", "Target.NotRegistered", "Target is not registered to the target group")
			out, err := e.elb.DescribeTargetHealth(e.ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
			noErr(t, err)
			if len(out.TargetHealthDescriptions) != 0 {
				t.Fatalf("a drained target is still listed: %v", out.TargetHealthDescriptions)
			}
		})
	}
}

func testATerminatedInstancesTargetIsUnusedWithInvalidState(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	id := e.readyInstance("healthy")
	tg, _ := e.setupALB("web", true, nil)
	e.register(tg, id)
	e.advance(30 * time.Second)
	_, err := e.ec2.TerminateInstances(e.ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	noErr(t, err)
	e.advance(DefaultEC2Config().ShutdownTime)
	e.wantHealth("after termination", tg, id, "unused", "Target.InvalidState", "Target is in the terminated state")
	_, err = e.elb.RegisterTargets(e.ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: []elbtypes.TargetDescription{{Id: aws.String(id)}}})
	wantAWSCode(t, err, "InvalidTarget")
}

func testDescribeTargetHealthReportsAnUnregisteredTargetAsNotRegistered(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	id := e.readyInstance("healthy")
	tg, _ := e.setupALB("web", true, nil)
	e.wantHealth("never registered", tg, id, "unused", "Target.NotRegistered", "Target is not registered to the target group")
}

func testCreateTargetGroupAppliesTheDocumentedDefaultsAndRanges(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	out, err := e.elb.CreateTargetGroup(e.ctx, &elb.CreateTargetGroupInput{
		Name: aws.String("web"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(8080), VpcId: aws.String("vpc-0123456789abcdef0"),
	})
	noErr(t, err)
	tg := out.TargetGroups[0]
	if !aws.ToBool(tg.HealthCheckEnabled) || tg.HealthCheckProtocol != "HTTP" || aws.ToString(tg.HealthCheckPort) != "traffic-port" ||
		aws.ToString(tg.HealthCheckPath) != "/" || aws.ToInt32(tg.HealthCheckIntervalSeconds) != 30 || aws.ToInt32(tg.HealthCheckTimeoutSeconds) != 5 ||
		aws.ToInt32(tg.HealthyThresholdCount) != 5 || aws.ToInt32(tg.UnhealthyThresholdCount) != 2 || aws.ToString(tg.Matcher.HttpCode) != "200" ||
		tg.TargetType != "instance" {
		t.Fatalf("defaults: %+v", tg)
	}
	if !regexp.MustCompile(`^arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/[0-9a-f]{16}$`).MatchString(aws.ToString(tg.TargetGroupArn)) {
		t.Fatalf("ARN %s is not in AWS's format", aws.ToString(tg.TargetGroupArn))
	}
	again, err := e.elb.CreateTargetGroup(e.ctx, &elb.CreateTargetGroupInput{
		Name: aws.String("web"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(8080), VpcId: aws.String("vpc-0123456789abcdef0"),
	})
	noErr(t, err)
	if aws.ToString(again.TargetGroups[0].TargetGroupArn) != aws.ToString(tg.TargetGroupArn) {
		t.Fatal("creating the same target group twice made a second one")
	}
	base := func() *elb.CreateTargetGroupInput {
		return &elb.CreateTargetGroupInput{Name: aws.String("api"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String("vpc-0123456789abcdef0")}
	}
	tests := []struct {
		rule string
		mod  func(*elb.CreateTargetGroupInput)
		code string
	}{
		{"the interval is at least 5 seconds", func(in *elb.CreateTargetGroupInput) { in.HealthCheckIntervalSeconds = aws.Int32(4) }, "ValidationError"},
		{"the interval is at most 300 seconds", func(in *elb.CreateTargetGroupInput) { in.HealthCheckIntervalSeconds = aws.Int32(301) }, "ValidationError"},
		{"the timeout is at least 2 seconds", func(in *elb.CreateTargetGroupInput) { in.HealthCheckTimeoutSeconds = aws.Int32(1) }, "ValidationError"},
		{"the timeout is smaller than the interval", func(in *elb.CreateTargetGroupInput) {
			in.HealthCheckIntervalSeconds, in.HealthCheckTimeoutSeconds = aws.Int32(10), aws.Int32(10)
		}, "ValidationError"},
		{"the healthy threshold is at least 2", func(in *elb.CreateTargetGroupInput) { in.HealthyThresholdCount = aws.Int32(1) }, "ValidationError"},
		{"the unhealthy threshold is at most 10", func(in *elb.CreateTargetGroupInput) { in.UnhealthyThresholdCount = aws.Int32(11) }, "ValidationError"},
		{"matcher codes lie within 200-499", func(in *elb.CreateTargetGroupInput) { in.Matcher = &elbtypes.Matcher{HttpCode: aws.String("500")} }, "ValidationError"},
		{"health checks of instance targets cannot be disabled", func(in *elb.CreateTargetGroupInput) { in.HealthCheckEnabled = aws.Bool(false) }, "ValidationError"},
		{"the path starts with a slash", func(in *elb.CreateTargetGroupInput) { in.HealthCheckPath = aws.String("health") }, "ValidationError"},
		{"a name is at most 32 characters", func(in *elb.CreateTargetGroupInput) { in.Name = aws.String("a-very-long-target-group-name-indeed") }, "ValidationError"},
		{"a name does not end with a hyphen", func(in *elb.CreateTargetGroupInput) { in.Name = aws.String("api-") }, "ValidationError"},
		{"the same name with other settings is a duplicate", func(in *elb.CreateTargetGroupInput) { in.Name = aws.String("web") }, "DuplicateTargetGroupName"},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			in := base()
			tt.mod(in)
			_, err := e.elb.CreateTargetGroup(e.ctx, in)
			wantAWSCode(t, err, tt.code)
		})
	}
}

func testModifyTargetGroupChangesTheHealthCheckInterval(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	id := e.readyInstance("unhealthy")
	tg, _ := e.setupALB("web", true, nil)
	_, err := e.elb.ModifyTargetGroup(e.ctx, &elb.ModifyTargetGroupInput{
		TargetGroupArn: aws.String(tg), HealthCheckIntervalSeconds: aws.Int32(10), UnhealthyThresholdCount: aws.Int32(3),
	})
	noErr(t, err)
	start := e.clk.Now()
	e.register(tg, id)
	e.clk.AdvanceTo(start.Add(29 * time.Second))
	if s, _, _ := e.health(tg, id); s != "initial" {
		t.Fatalf("after two failed checks at a 10 s interval the target is %s, want initial", s)
	}
	e.clk.AdvanceTo(start.Add(30 * time.Second))
	e.wantHealth("after three failed checks at a 10 s interval", tg, id, "unhealthy", "Target.ResponseCodeMismatch", "Health checks failed with these codes: [500]")
	_, err = e.elb.ModifyTargetGroup(e.ctx, &elb.ModifyTargetGroupInput{TargetGroupArn: aws.String(tg), HealthCheckTimeoutSeconds: aws.Int32(10)})
	wantAWSCode(t, err, "ValidationError")
}

func testATargetGroupInUseCannotBeDeleted(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	tg, lb := e.setupALB("web", false, nil)
	listener := e.listen(lb, tg, 80)
	_, err := e.elb.DeleteTargetGroup(e.ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: aws.String(tg)})
	wantAWSCode(t, err, "ResourceInUse")
	_, err = e.elb.DeleteListener(e.ctx, &elb.DeleteListenerInput{ListenerArn: aws.String(listener)})
	noErr(t, err)
	_, err = e.elb.DeleteTargetGroup(e.ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: aws.String(tg)})
	noErr(t, err)
	_, err = e.elb.DescribeTargetGroups(e.ctx, &elb.DescribeTargetGroupsInput{TargetGroupArns: []string{tg}})
	wantAWSCode(t, err, "TargetGroupNotFound")
}

func testLoadBalancersListenersAndTargetGroupsAreDescribedAndLinked(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	tg, lb := e.setupALB("web", true, nil)
	other, _ := e.setupALB("api", false, nil)
	lbs, err := e.elb.DescribeLoadBalancers(e.ctx, &elb.DescribeLoadBalancersInput{Names: []string{"web-lb"}})
	noErr(t, err)
	got := lbs.LoadBalancers[0]
	if !regexp.MustCompile(`^arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web-lb/[0-9a-f]{16}$`).MatchString(aws.ToString(got.LoadBalancerArn)) ||
		got.State.Code != "provisioning" || len(got.AvailabilityZones) != 2 || got.Type != "application" {
		t.Fatalf("load balancer %+v", got)
	}
	e.advance(DefaultEC2Config().LoadBalancerProvisioning)
	lbs, err = e.elb.DescribeLoadBalancers(e.ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{lb}})
	noErr(t, err)
	if lbs.LoadBalancers[0].State.Code != "active" {
		t.Fatalf("after provisioning the load balancer is %s, want active", lbs.LoadBalancers[0].State.Code)
	}
	tgs, err := e.elb.DescribeTargetGroups(e.ctx, &elb.DescribeTargetGroupsInput{LoadBalancerArn: aws.String(lb)})
	noErr(t, err)
	if len(tgs.TargetGroups) != 1 || aws.ToString(tgs.TargetGroups[0].TargetGroupArn) != tg || len(tgs.TargetGroups[0].LoadBalancerArns) != 1 {
		t.Fatalf("target groups of the load balancer: %+v", tgs.TargetGroups)
	}
	ls, err := e.elb.DescribeListeners(e.ctx, &elb.DescribeListenersInput{LoadBalancerArn: aws.String(lb)})
	noErr(t, err)
	if len(ls.Listeners) != 1 || aws.ToInt32(ls.Listeners[0].Port) != 80 {
		t.Fatalf("listeners: %+v", ls.Listeners)
	}
	for _, tt := range []struct {
		rule string
		call func() error
		code string
	}{
		{"a second listener on the same port is a duplicate", func() error {
			_, err := e.elb.CreateListener(e.ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(lb), Port: aws.Int32(80), Protocol: "HTTP",
				DefaultActions: []elbtypes.Action{{Type: "forward", TargetGroupArn: aws.String(other)}}})
			return err
		}, "DuplicateListener"},
		{"a target group serves one load balancer only", func() error {
			lb2, err := e.elb.CreateLoadBalancer(e.ctx, &elb.CreateLoadBalancerInput{Name: aws.String("second"), Subnets: []string{"subnet-a", "subnet-b"}})
			noErr(t, err)
			_, err = e.elb.CreateListener(e.ctx, &elb.CreateListenerInput{LoadBalancerArn: lb2.LoadBalancers[0].LoadBalancerArn, Port: aws.Int32(80), Protocol: "HTTP",
				DefaultActions: []elbtypes.Action{{Type: "forward", TargetGroupArn: aws.String(tg)}}})
			return err
		}, "TargetGroupAssociationLimit"},
		{"a listener forwards to existing target groups only", func() error {
			_, err := e.elb.CreateListener(e.ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(lb), Port: aws.Int32(8080), Protocol: "HTTP",
				DefaultActions: []elbtypes.Action{{Type: "forward", TargetGroupArn: aws.String(tg + "0")}}})
			return err
		}, "TargetGroupNotFound"},
		{"an application load balancer needs two subnets", func() error {
			_, err := e.elb.CreateLoadBalancer(e.ctx, &elb.CreateLoadBalancerInput{Name: aws.String("lonely"), Subnets: []string{"subnet-a"}})
			return err
		}, "ValidationError"},
		{"an unknown load balancer is not found", func() error {
			_, err := e.elb.DescribeLoadBalancers(e.ctx, &elb.DescribeLoadBalancersInput{Names: []string{"nope"}})
			return err
		}, "LoadBalancerNotFound"},
	} {
		t.Run(tt.rule, func(t *testing.T) { wantAWSCode(t, tt.call(), tt.code) })
	}
}

func testTargetGroupAttributesHaveDefaultsAndAreChecked(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	tg, _ := e.setupALB("web", false, nil)
	out, err := e.elb.DescribeTargetGroupAttributes(e.ctx, &elb.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(tg)})
	noErr(t, err)
	attrs := map[string]string{}
	for _, a := range out.Attributes {
		attrs[aws.ToString(a.Key)] = aws.ToString(a.Value)
	}
	if attrs["deregistration_delay.timeout_seconds"] != "300" || attrs["stickiness.enabled"] != "false" || attrs["load_balancing.algorithm.type"] != "round_robin" {
		t.Fatalf("defaults %v", attrs)
	}
	for _, tt := range []struct {
		rule, key, value, code string
	}{
		{"the deregistration delay is at most 3600 seconds", "deregistration_delay.timeout_seconds", "3601", "InvalidConfigurationRequest"},
		{"the deregistration delay is a number", "deregistration_delay.timeout_seconds", "soon", "InvalidConfigurationRequest"},
		{"an unknown attribute is refused", "colour", "blue", "InvalidConfigurationRequest"},
	} {
		t.Run(tt.rule, func(t *testing.T) {
			_, err := e.elb.ModifyTargetGroupAttributes(e.ctx, &elb.ModifyTargetGroupAttributesInput{
				TargetGroupArn: aws.String(tg), Attributes: []elbtypes.TargetGroupAttribute{{Key: aws.String(tt.key), Value: aws.String(tt.value)}},
			})
			wantAWSCode(t, err, tt.code)
		})
	}
}

func testELBTagsAreAddedDescribedAndRemoved(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	tg, lb := e.setupALB("web", false, nil)
	_, err := e.elb.AddTags(e.ctx, &elb.AddTagsInput{ResourceArns: []string{tg, lb}, Tags: []elbtypes.Tag{{Key: aws.String("team"), Value: aws.String("web")}}})
	noErr(t, err)
	_, err = e.elb.RemoveTags(e.ctx, &elb.RemoveTagsInput{ResourceArns: []string{lb}, TagKeys: []string{"team"}})
	noErr(t, err)
	out, err := e.elb.DescribeTags(e.ctx, &elb.DescribeTagsInput{ResourceArns: []string{tg, lb}})
	noErr(t, err)
	if len(out.TagDescriptions) != 2 || len(out.TagDescriptions[0].Tags) != 1 || len(out.TagDescriptions[1].Tags) != 0 {
		t.Fatalf("tags %+v, want team on the target group only", out.TagDescriptions)
	}
	_, err = e.elb.DescribeTags(e.ctx, &elb.DescribeTagsInput{ResourceArns: []string{tg + "0"}})
	wantAWSCode(t, err, "TargetGroupNotFound")
}

func testHealthCountsAndTrafficFollowTargetHealth(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	e.w.SetNoise(Noise{}) // the nominal latencies, exactly
	good1, good2 := e.readyInstance("healthy"), e.readyInstance("healthy")
	bad := e.readyInstance("unhealthy")
	tg, lb := e.setupALB("web", false, nil)
	if req, _, _ := e.w.TargetGroupTraffic(ec2Region, tg); req != 0 {
		t.Fatalf("a target group no listener uses received %v requests", req)
	}
	e.listen(lb, tg, 80)
	if req, errs, _ := e.w.TargetGroupTraffic(ec2Region, tg); req != 600 || errs != 600 {
		t.Fatalf("with no targets: %v requests %v errors, want all 600 failing", req, errs)
	}
	e.register(tg, good1, good2, bad)
	e.advance(60 * time.Second)
	healthy, unhealthy, ok := e.w.TargetGroupHealthCounts(ec2Region, tg)
	if !ok || healthy != 2 || unhealthy != 1 {
		t.Fatalf("counts %d healthy %d unhealthy (ok=%v), want 2 and 1", healthy, unhealthy, ok)
	}
	req, errs, lat := e.w.TargetGroupTraffic(ec2Region, tg)
	if req != 600 || errs != 0 || lat != 20*time.Millisecond {
		t.Fatalf("traffic %v requests %v errors %v latency, want 600, 0, 20ms: only healthy targets serve", req, errs, lat)
	}
	_, err := e.elb.DeregisterTargets(e.ctx, &elb.DeregisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: []elbtypes.TargetDescription{{Id: aws.String(good1)}, {Id: aws.String(good2)}}})
	noErr(t, err)
	req, errs, lat = e.w.TargetGroupTraffic(ec2Region, tg)
	if req != 600 || errs != 600 || lat != 10*time.Millisecond {
		t.Fatalf("fail-open traffic %v requests %v errors %v latency, want 600, 600, 10ms", req, errs, lat)
	}
	if _, _, ok := e.w.TargetGroupHealthCounts(ec2Region, tg+"0"); ok {
		t.Fatal("counts for a target group that does not exist")
	}
}

func testDeletingALoadBalancerLeavesItsTargetGroupsUnused(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	id := e.readyInstance("healthy")
	tg, lb := e.setupALB("web", true, nil)
	e.register(tg, id)
	e.advance(30 * time.Second)
	_, err := e.elb.DeleteLoadBalancer(e.ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(lb)})
	noErr(t, err)
	e.wantHealth("after the load balancer is deleted", tg, id, "unused", "Target.NotInUse", "Target group is not configured to receive traffic from the load balancer")
	_, err = e.elb.DeleteLoadBalancer(e.ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(lb)})
	noErr(t, err)
	_, err = e.elb.DescribeListeners(e.ctx, &elb.DescribeListenersInput{LoadBalancerArn: aws.String(lb)})
	wantAWSCode(t, err, "LoadBalancerNotFound")
}

// BenchmarkHealthCheckingAnHourOf100Targets measures the cost of the health
// check model: 100 targets checked every 30 s for one simulated hour.
func BenchmarkHealthCheckingAnHourOf100Targets(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e := newEC2Env(b, InProcess)
		img := e.image("app", "x86_64", nil)
		tg, _ := e.setupALB("web", true, nil)
		ids := e.run(img, 100)
		e.register(tg, ids...)
		before := e.clk.Executed()
		b.StartTimer()
		e.advance(time.Hour)
		b.StopTimer()
		b.ReportMetric(float64(e.clk.Executed()-before), "events/op")
		if healthy, _, _ := e.w.TargetGroupHealthCounts(ec2Region, tg); healthy != 100 {
			b.Fatalf("%d healthy targets, want 100", healthy)
		}
	}
}
