package fleet_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
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

	"github.com/phoenix-rollouts/phoenix/shared/bluegreen"
	"github.com/phoenix-rollouts/phoenix/shared/fleet"
	"github.com/phoenix-rollouts/phoenix/shared/internal/testlog"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
)

// pairWorld is a blue/green pair declared as docs/blue-green.md says, made
// through the SDK: web-blue (one instance) and web-green (scaled to zero)
// on one launch template, each attached to its own target group, both
// target groups (and a third, other) in one VPC, and an Application Load
// Balancer without listeners: each test declares the forward actions it
// reads. A group of another pair, api, sits beside them.
type pairWorld struct {
	env    *cloudtest.Env
	fleet  *fleet.Fleet
	ctx    context.Context
	region string
	logs   *testlog.Buffer
	lb     string
	// blue, green and other are target group ARNs.
	blue, green, other string
}

func newPairWorld(t *testing.T) *pairWorld {
	t.Helper()
	env := cloudtest.New(t)
	logs := &testlog.Buffer{}
	w := &pairWorld{
		env: env, ctx: context.Background(), region: env.Config.Region, logs: logs,
		fleet: fleet.New(env.Config, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
	}
	image := (&world{env: env, ctx: w.ctx}).newImage(t, "web-v1", ec2types.ArchitectureValuesX8664, "healthy")
	lt, err := env.EC2.CreateLaunchTemplate(w.ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String("web"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(image), InstanceType: ec2types.InstanceTypeT3Micro},
	})
	if err != nil {
		t.Fatalf("create launch template: %v", err)
	}
	w.blue, w.green, w.other = w.targetGroup(t, "web-blue"), w.targetGroup(t, "web-green"), w.targetGroup(t, "other")
	lb, err := env.ELB.CreateLoadBalancer(w.ctx, &elasticloadbalancingv2.CreateLoadBalancerInput{
		Name: aws.String("web"), Subnets: []string{"subnet-0testa", "subnet-0testb"},
	})
	if err != nil {
		t.Fatalf("create load balancer: %v", err)
	}
	w.lb = aws.ToString(lb.LoadBalancers[0].LoadBalancerArn)
	ltID := aws.ToString(lt.LaunchTemplate.LaunchTemplateId)
	w.group(t, ltID, "web-blue", "web", 1, w.blue)
	w.group(t, ltID, "web-green", "web", 0, w.green)
	w.group(t, ltID, "api-blue", "api", 0)
	w.env.RunUntil(t, time.Hour, "web-blue's instance", func() bool {
		out, err := env.AutoScaling.DescribeAutoScalingGroups(w.ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"web-blue"}})
		return err == nil && len(out.AutoScalingGroups) == 1 && len(out.AutoScalingGroups[0].Instances) == 1
	})
	return w
}

// targetGroup creates an HTTP target group.
func (w *pairWorld) targetGroup(t *testing.T, name string) string {
	t.Helper()
	out, err := w.env.ELB.CreateTargetGroup(w.ctx, &elasticloadbalancingv2.CreateTargetGroupInput{
		Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String("vpc-0test"),
	})
	if err != nil {
		t.Fatalf("create target group %s: %v", name, err)
	}
	return aws.ToString(out.TargetGroups[0].TargetGroupArn)
}

// group creates a group of pair with desired instances, tagged as a
// blue/green pair's groups are.
func (w *pairWorld) group(t *testing.T, ltID, name, pair string, desired int32, targetGroups ...string) {
	t.Helper()
	tag := func(k, v string) astypes.Tag {
		return astypes.Tag{Key: aws.String(k), Value: aws.String(v), PropagateAtLaunch: aws.Bool(false)}
	}
	_, err := w.env.AutoScaling.CreateAutoScalingGroup(w.ctx, &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(name),
		MinSize:              aws.Int32(0), MaxSize: aws.Int32(4), DesiredCapacity: aws.Int32(desired),
		AvailabilityZones: []string{"us-east-1a", "us-east-1b"},
		LaunchTemplate:    &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(ltID), Version: aws.String("1")},
		TargetGroupARNs:   targetGroups,
		Tags: []astypes.Tag{
			tag(rollout.TagEnabled, "true"), tag(bluegreen.TagRole, pair), tag(bluegreen.TagPair, pair),
			tag(bluegreen.TagStrategy, bluegreen.StrategyBlueGreen),
		},
	})
	if err != nil {
		t.Fatalf("create group %s: %v", name, err)
	}
}

// weighted is a forward action to target groups with weights, given as
// ARN, weight, ARN, weight...
func weighted(pairs ...any) elbtypes.Action {
	fc := &elbtypes.ForwardActionConfig{}
	for i := 0; i+1 < len(pairs); i += 2 {
		fc.TargetGroups = append(fc.TargetGroups, elbtypes.TargetGroupTuple{
			TargetGroupArn: aws.String(pairs[i].(string)), Weight: aws.Int32(int32(pairs[i+1].(int))),
		})
	}
	return elbtypes.Action{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: fc}
}

// sticky returns forward action a with target group stickiness for
// seconds, and Order 1.
func sticky(a elbtypes.Action, seconds int32) elbtypes.Action {
	a.Order = aws.Int32(1)
	a.ForwardConfig.TargetGroupStickinessConfig = &elbtypes.TargetGroupStickinessConfig{Enabled: aws.Bool(true), DurationSeconds: aws.Int32(seconds)}
	return a
}

// notFound is a listener's fixed 404.
func notFound() elbtypes.Action {
	return elbtypes.Action{Type: elbtypes.ActionTypeEnumFixedResponse, FixedResponseConfig: &elbtypes.FixedResponseActionConfig{StatusCode: aws.String("404")}}
}

// listen adds an HTTP listener on port with default action a.
func (w *pairWorld) listen(t *testing.T, port int32, a elbtypes.Action) string {
	t.Helper()
	out, err := w.env.ELB.CreateListener(w.ctx, &elasticloadbalancingv2.CreateListenerInput{
		LoadBalancerArn: aws.String(w.lb), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(port), DefaultActions: []elbtypes.Action{a},
	})
	if err != nil {
		t.Fatalf("create listener on %d: %v", port, err)
	}
	return aws.ToString(out.Listeners[0].ListenerArn)
}

// rule adds a rule for path to listener with action a.
func (w *pairWorld) rule(t *testing.T, listener string, priority int32, path string, a elbtypes.Action) string {
	t.Helper()
	out, err := w.env.ELB.CreateRule(w.ctx, &elasticloadbalancingv2.CreateRuleInput{
		ListenerArn: aws.String(listener), Priority: aws.Int32(priority), Actions: []elbtypes.Action{a},
		Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{path}}},
	})
	if err != nil {
		t.Fatalf("create rule %s: %v", path, err)
	}
	return aws.ToString(out.Rules[0].RuleArn)
}

// defaultActions reads a listener's default actions as ELB answers them.
func (w *pairWorld) defaultActions(t *testing.T, listener string) []elbtypes.Action {
	t.Helper()
	out, err := w.env.ELB.DescribeListeners(w.ctx, &elasticloadbalancingv2.DescribeListenersInput{ListenerArns: []string{listener}})
	if err != nil {
		t.Fatalf("describe listener: %v", err)
	}
	return out.Listeners[0].DefaultActions
}

// describeRule reads a rule as ELB answers it.
func (w *pairWorld) describeRule(t *testing.T, arn string) elbtypes.Rule {
	t.Helper()
	out, err := w.env.ELB.DescribeRules(w.ctx, &elasticloadbalancingv2.DescribeRulesInput{RuleArns: []string{arn}})
	if err != nil {
		t.Fatalf("describe rule: %v", err)
	}
	return out.Rules[0]
}

// pair reads the pair web through the fleet.
func (w *pairWorld) pair(t *testing.T) bluegreen.Pair {
	t.Helper()
	p, err := w.fleet.Pair(w.ctx, w.region, "web")
	if err != nil {
		t.Fatalf("pair: %v", err)
	}
	return p
}

// setWeights writes weights through the fleet.
func (w *pairWorld) setWeights(t *testing.T, fwd bluegreen.Forward, weights []bluegreen.WeightedTargetGroup) {
	t.Helper()
	if err := w.fleet.SetWeights(w.ctx, w.region, fwd, weights); err != nil {
		t.Fatalf("set weights %v: %v", weights, err)
	}
}

// forwardString renders actions as ELB answers them, "ORDER:TYPE[NAME:WEIGHT
// ...] sticky=ENABLED/SECONDS arn=NAME" each, target groups by name, so
// that a test compares all of it at once.
func forwardString(actions []elbtypes.Action) string {
	name := func(arn string) string {
		if i := strings.Index(arn, "targetgroup/"); i >= 0 {
			return strings.Split(arn[i+len("targetgroup/"):], "/")[0]
		}
		return arn
	}
	var parts []string
	for _, a := range actions {
		s := fmt.Sprintf("%d:%s", aws.ToInt32(a.Order), a.Type)
		if fc := a.ForwardConfig; fc != nil {
			var groups []string
			for _, g := range fc.TargetGroups {
				groups = append(groups, fmt.Sprintf("%s:%d", name(aws.ToString(g.TargetGroupArn)), aws.ToInt32(g.Weight)))
			}
			s += "[" + strings.Join(groups, " ") + "]"
			if st := fc.TargetGroupStickinessConfig; st != nil {
				s += fmt.Sprintf(" sticky=%v/%d", aws.ToBool(st.Enabled), aws.ToInt32(st.DurationSeconds))
			}
		}
		if a.TargetGroupArn != nil {
			s += " arn=" + name(*a.TargetGroupArn)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// wantForwards fails unless p's forward actions are want.
func wantForwards(t *testing.T, p bluegreen.Pair, want ...bluegreen.Forward) {
	t.Helper()
	same := func(a, b bluegreen.Forward) bool {
		return a.ListenerARN == b.ListenerARN && a.RuleARN == b.RuleARN && slices.Equal(a.Groups, b.Groups)
	}
	if !slices.EqualFunc(p.Forwards, want, same) {
		t.Fatalf("forwards %+v, want %+v", p.Forwards, want)
	}
}

// wantPlainError fails unless err is an error that is neither transient
// nor not-found: one to report, not to retry or to read as gone.
func wantPlainError(t *testing.T, err error, contains string) {
	t.Helper()
	var nf *rollout.NotFoundError
	switch {
	case err == nil:
		t.Fatal("no error")
	case rollout.IsTransient(err), errors.As(err, &nf):
		t.Fatalf("error %v (%T), want one that is neither transient nor not-found", err, err)
	case !strings.Contains(err.Error(), contains):
		t.Fatalf("error %q does not say %q", err, contains)
	}
}

func TestPairReadsTheGroupsAndTheWeightedActionOfADeclaredPair(t *testing.T) {
	t.Parallel()
	w := newPairWorld(t)
	listener := w.listen(t, 80, weighted(w.blue, 100, w.green, 0))
	// An action of the same listener that names none of the pair's target
	// groups is none of the pair's business.
	w.rule(t, listener, 5, "/other/*", weighted(w.other, 1))
	p := w.pair(t)
	t.Run("the pair's groups are read sorted, with their instances' images", func(t *testing.T) {
		var names []string
		for _, g := range p.Groups {
			names = append(names, g.Key.Name)
		}
		if p.Name != "web" || !slices.Equal(names, []string{"web-blue", "web-green"}) {
			t.Fatalf("pair %q of groups %v", p.Name, names)
		}
		if blue := p.Groups[0]; len(blue.Instances) != 1 || blue.Instances[0].ImageID == "" || !slices.Equal(blue.TargetGroupARNs, []string{w.blue}) {
			t.Errorf("web-blue read as %+v", blue)
		}
	})
	t.Run("the listener's weighted default action is read with its weights", func(t *testing.T) {
		wantForwards(t, p, bluegreen.Forward{ListenerARN: listener, Groups: []bluegreen.WeightedTargetGroup{{ARN: w.blue, Weight: 100}, {ARN: w.green, Weight: 0}}})
	})
	t.Run("Prepare finds web-blue live and web-green idle", func(t *testing.T) {
		prep, err := bluegreen.Prepare(p)
		if err != nil {
			t.Fatal(err)
		}
		if prep.Live.Name != "web-blue" || prep.Idle.Name != "web-green" || prep.Live.TargetGroup != w.blue || prep.Idle.TargetGroup != w.green ||
			prep.Forward.Owner() != listener || prep.Role != "web" {
			t.Errorf("prepared %+v", prep)
		}
	})
	t.Run("another pair's groups are not this pair's", func(t *testing.T) {
		api, err := w.fleet.Pair(w.ctx, w.region, "api")
		if err != nil {
			t.Fatal(err)
		}
		if len(api.Groups) != 1 || api.Groups[0].Key.Name != "api-blue" || len(api.Forwards) != 0 {
			t.Errorf("pair api: %+v", api)
		}
		if _, err := bluegreen.Prepare(api); err == nil || !strings.Contains(err.Error(), "exactly two groups") {
			t.Errorf("Prepare of a pair of one group: %v", err)
		}
	})
	t.Run("a pair no group names is a NotFoundError", func(t *testing.T) {
		_, err := w.fleet.Pair(w.ctx, w.region, "checkout")
		wantNotFound(t, err, "blue/green pair")
	})
}

func TestPairReadsTheActionOfARule(t *testing.T) {
	t.Parallel()
	w := newPairWorld(t)
	listener := w.listen(t, 80, notFound())
	w.rule(t, listener, 5, "/other/*", weighted(w.other, 1))
	rule := w.rule(t, listener, 10, "/web/*", sticky(weighted(w.green, 0, w.blue, 100), 300))
	p := w.pair(t)
	// The listener's default rule, which DescribeRules lists too, is not
	// read a second time: Prepare would refuse two actions.
	wantForwards(t, p, bluegreen.Forward{RuleARN: rule, Groups: []bluegreen.WeightedTargetGroup{{ARN: w.green, Weight: 0}, {ARN: w.blue, Weight: 100}}})
	prep, err := bluegreen.Prepare(p)
	if err != nil {
		t.Fatal(err)
	}
	if prep.Live.Name != "web-blue" || prep.Idle.Name != "web-green" || prep.Forward.Owner() != rule {
		t.Errorf("prepared %+v", prep)
	}
}

func TestPairReadsTheSingleTargetGroupFormsAsWeightOne(t *testing.T) {
	t.Parallel()
	w := newPairWorld(t)
	// The single-target-group form, which ELB answers in both forms: the
	// target group ARN and a ForwardConfig listing it at weight 1.
	listener := w.listen(t, 80, elbtypes.Action{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(w.blue)})
	// A one-group ForwardConfig without a weight, answered at weight 1 and
	// with the ARN as well.
	rule := w.rule(t, listener, 10, "/green/*", elbtypes.Action{Type: elbtypes.ActionTypeEnumForward,
		ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: []elbtypes.TargetGroupTuple{{TargetGroupArn: aws.String(w.green)}}}})
	// A one-group ForwardConfig with a weight: the ForwardConfig holds it.
	other := w.listen(t, 8080, weighted(w.green, 7))
	if got := forwardString(w.defaultActions(t, listener)); got != "0:forward[web-blue:1] sticky=false/0 arn=web-blue" {
		t.Fatalf("the local cloud no longer answers both forms: %s", got)
	}
	p := w.pair(t)
	wantForwards(t, p,
		bluegreen.Forward{ListenerARN: listener, Groups: []bluegreen.WeightedTargetGroup{{ARN: w.blue, Weight: 1}}},
		bluegreen.Forward{RuleARN: rule, Groups: []bluegreen.WeightedTargetGroup{{ARN: w.green, Weight: 1}}},
		bluegreen.Forward{ListenerARN: other, Groups: []bluegreen.WeightedTargetGroup{{ARN: w.green, Weight: 7}}},
	)
	if _, err := bluegreen.Prepare(p); err == nil || !strings.Contains(err.Error(), "no listener or rule forwards to both") {
		t.Errorf("Prepare of a pair whose actions name one target group each: %v", err)
	}
}

func TestSetWeightsShiftsAListenersTrafficAndBackInOneCall(t *testing.T) {
	t.Parallel()
	w := newPairWorld(t)
	listener := w.listen(t, 80, sticky(weighted(w.blue, 100, w.green, 0), 300))
	prep, err := bluegreen.Prepare(w.pair(t))
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		rule    string
		weights []bluegreen.WeightedTargetGroup
		want    string
	}{
		{"10% to the idle group, stickiness and order kept", bluegreen.Weights(prep.Forward, w.blue, w.green, 10),
			"1:forward[web-blue:90 web-green:10] sticky=true/300"},
		{"everything back on the live group in one call", bluegreen.Weights(prep.Forward, w.green, w.blue, 100),
			"1:forward[web-blue:100 web-green:0] sticky=true/300"},
		{"writing the weights that are there succeeds and changes nothing", bluegreen.Weights(prep.Forward, w.green, w.blue, 100),
			"1:forward[web-blue:100 web-green:0] sticky=true/300"},
	}
	for _, s := range steps {
		t.Run(s.rule, func(t *testing.T) {
			w.setWeights(t, prep.Forward, s.weights)
			if got := forwardString(w.defaultActions(t, listener)); got != s.want {
				t.Fatalf("DescribeListeners answers %s, want %s", got, s.want)
			}
			wantForwards(t, w.pair(t), bluegreen.Forward{ListenerARN: listener, Groups: s.weights})
		})
	}
	t.Run("a pair read mid-shift is refused by Prepare, and prepared again once back", func(t *testing.T) {
		w.setWeights(t, prep.Forward, bluegreen.Weights(prep.Forward, w.blue, w.green, 50))
		if _, err := bluegreen.Prepare(w.pair(t)); err == nil || !strings.Contains(err.Error(), "weights must be all on one group") {
			t.Fatalf("Prepare mid-shift: %v", err)
		}
		w.setWeights(t, prep.Forward, bluegreen.Weights(prep.Forward, w.green, w.blue, 100))
		again, err := bluegreen.Prepare(w.pair(t))
		if err != nil || again.Live.Name != "web-blue" || again.Idle.Name != "web-green" {
			t.Fatalf("Prepare once back: %+v, %v", again, err)
		}
	})
	t.Run("each write is logged with its listener", func(t *testing.T) {
		n := 0
		for _, rec := range logLines(t, w.logs) {
			if rec["msg"] == "set forward weights" && rec["owner"] == listener {
				n++
			}
		}
		if n != len(steps)+2 {
			t.Errorf("%d writes logged, want %d", n, len(steps)+2)
		}
	})
}

func TestSetWeightsShiftsARulesTraffic(t *testing.T) {
	t.Parallel()
	w := newPairWorld(t)
	listener := w.listen(t, 80, notFound())
	rule := w.rule(t, listener, 10, "/web/*", sticky(weighted(w.blue, 100, w.green, 0), 60))
	prep, err := bluegreen.Prepare(w.pair(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		rule    string
		weights []bluegreen.WeightedTargetGroup
		want    string
	}{
		{"10% to the idle group", bluegreen.Weights(prep.Forward, w.blue, w.green, 10), "1:forward[web-blue:90 web-green:10] sticky=true/60"},
		{"everything back in one call", bluegreen.Weights(prep.Forward, w.green, w.blue, 100), "1:forward[web-blue:100 web-green:0] sticky=true/60"},
		{"the same weights again", bluegreen.Weights(prep.Forward, w.green, w.blue, 100), "1:forward[web-blue:100 web-green:0] sticky=true/60"},
	} {
		t.Run(s.rule, func(t *testing.T) {
			w.setWeights(t, prep.Forward, s.weights)
			got := w.describeRule(t, rule)
			if fs := forwardString(got.Actions); fs != s.want {
				t.Fatalf("DescribeRules answers %s, want %s", fs, s.want)
			}
			// The rule's priority and conditions, and the listener's default
			// action, are not the weights' business.
			if aws.ToString(got.Priority) != "10" || len(got.Conditions) != 1 || !slices.Equal(got.Conditions[0].Values, []string{"/web/*"}) {
				t.Errorf("the rule changed: priority %s, conditions %+v", aws.ToString(got.Priority), got.Conditions)
			}
			if d := forwardString(w.defaultActions(t, listener)); d != "0:fixed-response" {
				t.Errorf("the listener's default action changed: %s", d)
			}
			wantForwards(t, w.pair(t), bluegreen.Forward{RuleARN: rule, Groups: s.weights})
		})
	}
}

func TestSetWeightsRefusesWhatItCannotWriteAndAWSRefusesTheRest(t *testing.T) {
	t.Parallel()
	w := newPairWorld(t)
	listener := w.listen(t, 80, weighted(w.blue, 100, w.green, 0))
	fwd := bluegreen.Forward{ListenerARN: listener, Groups: []bluegreen.WeightedTargetGroup{{ARN: w.blue, Weight: 100}, {ARN: w.green, Weight: 0}}}
	const declared = "0:forward[web-blue:100 web-green:0] sticky=false/0"
	unchanged := func(t *testing.T) {
		t.Helper()
		if got := forwardString(w.defaultActions(t, listener)); got != declared {
			t.Fatalf("the action changed to %s", got)
		}
	}
	var six []bluegreen.WeightedTargetGroup
	for _, name := range []string{"extra-1", "extra-2", "extra-3"} {
		six = append(six, bluegreen.WeightedTargetGroup{ARN: w.targetGroup(t, name)})
	}
	six = append(six, bluegreen.WeightedTargetGroup{ARN: w.blue, Weight: 100}, bluegreen.WeightedTargetGroup{ARN: w.green}, bluegreen.WeightedTargetGroup{ARN: w.other})
	cases := []struct {
		name    string
		fwd     bluegreen.Forward
		weights []bluegreen.WeightedTargetGroup
		says    string
	}{
		{"weights that leave out a target group of the action", fwd, []bluegreen.WeightedTargetGroup{{ARN: w.blue, Weight: 100}},
			"leave out target group " + w.green},
		{"six target groups, one more than AWS allows in an action", fwd, six, "at most 5"},
		{"a weight above AWS's 999", fwd, []bluegreen.WeightedTargetGroup{{ARN: w.blue, Weight: 1000}, {ARN: w.green, Weight: 0}}, "999"},
		{"a negative weight", fwd, []bluegreen.WeightedTargetGroup{{ARN: w.blue, Weight: -1}, {ARN: w.green, Weight: 101}}, "999"},
		{"a weight beyond any int32", fwd, []bluegreen.WeightedTargetGroup{{ARN: w.blue, Weight: 1 << 40}, {ARN: w.green, Weight: 0}}, "out of range"},
		{"a target group named twice", fwd, []bluegreen.WeightedTargetGroup{{ARN: w.blue, Weight: 90}, {ARN: w.green, Weight: 0}, {ARN: w.blue, Weight: 10}},
			"more than once"},
		{"no weights", fwd, nil, "no target groups"},
		{"an action of neither a listener nor a rule", bluegreen.Forward{Groups: fwd.Groups}, fwd.Groups, "neither a listener nor a rule"},
		{"an action of both a listener and a rule", bluegreen.Forward{ListenerARN: listener, RuleARN: listener + "/1"}, fwd.Groups, "one or the other"},
	}
	for _, tc := range cases {
		t.Run(tc.name+" is refused and changes nothing", func(t *testing.T) {
			wantPlainError(t, w.fleet.SetWeights(w.ctx, w.region, tc.fwd, tc.weights), tc.says)
			unchanged(t)
		})
	}
	t.Run("a listener whose default action no longer forwards is refused", func(t *testing.T) {
		moved := w.listen(t, 8080, notFound())
		err := w.fleet.SetWeights(w.ctx, w.region, bluegreen.Forward{ListenerARN: moved}, fwd.Groups)
		wantPlainError(t, err, "0 forward actions")
		if got := forwardString(w.defaultActions(t, moved)); got != "0:fixed-response" {
			t.Fatalf("the action changed to %s", got)
		}
	})
	t.Run("a listener's default rule is refused: ModifyRule cannot change it", func(t *testing.T) {
		out, err := w.env.ELB.DescribeRules(w.ctx, &elasticloadbalancingv2.DescribeRulesInput{ListenerArn: aws.String(listener)})
		if err != nil {
			t.Fatal(err)
		}
		def := out.Rules[len(out.Rules)-1]
		if !aws.ToBool(def.IsDefault) {
			t.Fatalf("the last rule %s is not the default one", aws.ToString(def.RuleArn))
		}
		err = w.fleet.SetWeights(w.ctx, w.region, bluegreen.Forward{RuleARN: aws.ToString(def.RuleArn)}, fwd.Groups)
		wantPlainError(t, err, "name the listener instead")
		unchanged(t)
	})
	t.Run("a listener that is gone is a NotFoundError", func(t *testing.T) {
		gone := w.listen(t, 8081, weighted(w.blue, 100, w.green, 0))
		if _, err := w.env.ELB.DeleteListener(w.ctx, &elasticloadbalancingv2.DeleteListenerInput{ListenerArn: aws.String(gone)}); err != nil {
			t.Fatal(err)
		}
		wantNotFound(t, w.fleet.SetWeights(w.ctx, w.region, bluegreen.Forward{ListenerARN: gone}, fwd.Groups), "listener")
	})
	t.Run("a rule that is gone is a NotFoundError", func(t *testing.T) {
		gone := w.rule(t, listener, 20, "/gone/*", weighted(w.blue, 100, w.green, 0))
		if _, err := w.env.ELB.DeleteRule(w.ctx, &elasticloadbalancingv2.DeleteRuleInput{RuleArn: aws.String(gone)}); err != nil {
			t.Fatal(err)
		}
		wantNotFound(t, w.fleet.SetWeights(w.ctx, w.region, bluegreen.Forward{RuleARN: gone}, fwd.Groups), "listener rule")
	})
	t.Run("a target group of the pair that is gone is a NotFoundError naming it", func(t *testing.T) {
		// Take green out of the action and delete it: web-green still
		// names it, as a stale declaration would.
		if _, err := w.env.ELB.ModifyListener(w.ctx, &elasticloadbalancingv2.ModifyListenerInput{
			ListenerArn: aws.String(listener), DefaultActions: []elbtypes.Action{weighted(w.blue, 100)},
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.env.ELB.DeleteTargetGroup(w.ctx, &elasticloadbalancingv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(w.green)}); err != nil {
			t.Fatal(err)
		}
		_, err := w.fleet.Pair(w.ctx, w.region, "web")
		var nf *rollout.NotFoundError
		if !errors.As(err, &nf) || nf.Kind != "target group" || nf.ID != w.green {
			t.Fatalf("error %v (%T), want a NotFoundError of target group %s", err, err, w.green)
		}
	})
}

func TestPairAndSetWeightsClassifyThrottlingAndServerFaults(t *testing.T) {
	t.Parallel()
	w := newPairWorld(t)
	listener := w.listen(t, 80, notFound())
	rule := w.rule(t, listener, 10, "/web/*", weighted(w.blue, 100, w.green, 0))
	plain := w.listen(t, 8080, weighted(w.other, 1))
	cfg := w.env.Config.Copy()
	cfg.RetryMaxAttempts = 1
	f := fleet.New(cfg, nil)
	weights := []bluegreen.WeightedTargetGroup{{ARN: w.blue, Weight: 100}, {ARN: w.green, Weight: 0}}
	readPair := func() error { _, err := f.Pair(w.ctx, w.region, "web"); return err }
	for _, tc := range []struct {
		name string
		rule faults.Rule
		call func() error
	}{
		{"a throttled DescribeTargetGroups", faults.Rule{Kind: faults.Throttle, Service: "elasticloadbalancing", Operation: "DescribeTargetGroups"}, readPair},
		{"a throttled DescribeListeners", faults.Rule{Kind: faults.Throttle, Service: "elasticloadbalancing", Operation: "DescribeListeners"}, readPair},
		{"a server error from DescribeRules", faults.Rule{Kind: faults.ServerError, Service: "elasticloadbalancing", Operation: "DescribeRules"}, readPair},
		{"a throttled ModifyRule", faults.Rule{Kind: faults.Throttle, Service: "elasticloadbalancing", Operation: "ModifyRule"},
			func() error { return f.SetWeights(w.ctx, w.region, bluegreen.Forward{RuleARN: rule}, weights) }},
		{"a server error from ModifyListener", faults.Rule{Kind: faults.ServerError, Service: "elasticloadbalancing", Operation: "ModifyListener"},
			func() error {
				return f.SetWeights(w.ctx, w.region, bluegreen.Forward{ListenerARN: plain}, []bluegreen.WeightedTargetGroup{{ARN: w.other, Weight: 1}})
			}},
	} {
		t.Run(tc.name+" is a TransientError", func(t *testing.T) {
			tc.rule.Times = 1
			if _, err := w.env.Cloud.Faults.Add(tc.rule); err != nil {
				t.Fatal(err)
			}
			if err := tc.call(); !rollout.IsTransient(err) {
				t.Fatalf("error %v (%T), want a TransientError", err, err)
			}
		})
	}
}
