package sim

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// targetGroup creates an HTTP target group on port 80 in vpc.
func (e *ec2Env) targetGroup(name, vpc string) string {
	e.t.Helper()
	out, err := e.elb.CreateTargetGroup(e.ctx, &elb.CreateTargetGroupInput{
		Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String(vpc),
	})
	if err != nil {
		e.t.Fatalf("CreateTargetGroup %s: %v", name, err)
	}
	return aws.ToString(out.TargetGroups[0].TargetGroupArn)
}

// weighted is a forward action to target groups with weights, given as
// ARN, weight, ARN, weight...
func weighted(pairs ...any) elbtypes.Action {
	fc := &elbtypes.ForwardActionConfig{}
	for i := 0; i+1 < len(pairs); i += 2 {
		fc.TargetGroups = append(fc.TargetGroups, elbtypes.TargetGroupTuple{TargetGroupArn: aws.String(pairs[i].(string)), Weight: aws.Int32(int32(pairs[i+1].(int)))})
	}
	return elbtypes.Action{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: fc}
}

// shift replaces a listener's default actions with one action.
func (e *ec2Env) shift(listener string, a elbtypes.Action) {
	e.t.Helper()
	if _, err := e.elb.ModifyListener(e.ctx, &elb.ModifyListenerInput{ListenerArn: aws.String(listener), DefaultActions: []elbtypes.Action{a}}); err != nil {
		e.t.Fatalf("ModifyListener: %v", err)
	}
}

// defaultAction describes a listener's one default action.
func (e *ec2Env) defaultAction(listener string) elbtypes.Action {
	e.t.Helper()
	out, err := e.elb.DescribeListeners(e.ctx, &elb.DescribeListenersInput{ListenerArns: []string{listener}})
	if err != nil || len(out.Listeners) != 1 || len(out.Listeners[0].DefaultActions) != 1 {
		e.t.Fatalf("DescribeListeners %s: %v %+v", listener, err, out)
	}
	return out.Listeners[0].DefaultActions[0]
}

// forwardString renders a forward action as a client reads it:
// "arn=ARN-NAME groups=[NAME:WEIGHT ...] sticky=ENABLED/DURATION".
func forwardString(a elbtypes.Action) string {
	name := func(arn string) string {
		if m := regexp.MustCompile(`targetgroup/([^/]+)/`).FindStringSubmatch(arn); m != nil {
			return m[1]
		}
		return arn
	}
	s := "arn=" + name(aws.ToString(a.TargetGroupArn)) + " groups=["
	if fc := a.ForwardConfig; fc != nil {
		for i, t := range fc.TargetGroups {
			if i > 0 {
				s += " "
			}
			s += fmt.Sprintf("%s:%d", name(aws.ToString(t.TargetGroupArn)), aws.ToInt32(t.Weight))
		}
		s += "]"
		if st := fc.TargetGroupStickinessConfig; st != nil {
			s += fmt.Sprintf(" sticky=%v", aws.ToBool(st.Enabled))
			if st.DurationSeconds != nil {
				s += fmt.Sprintf("/%d", *st.DurationSeconds)
			}
		}
	} else {
		s += "] no-forward-config"
	}
	return s
}

// loadBalancersOf returns the LoadBalancerArns DescribeTargetGroups gives.
func (e *ec2Env) loadBalancersOf(tg string) []string {
	e.t.Helper()
	out, err := e.elb.DescribeTargetGroups(e.ctx, &elb.DescribeTargetGroupsInput{TargetGroupArns: []string{tg}})
	if err != nil {
		e.t.Fatalf("DescribeTargetGroups: %v", err)
	}
	return out.TargetGroups[0].LoadBalancerArns
}

func testForwardActionsAreAnsweredAsELBAnswersThem(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	blue, lb := e.setupALB("web", false, nil)
	green := e.targetGroup("green", "vpc-0123456789abcdef0")
	listener := e.listen(lb, blue, 80)
	steps := []struct {
		rule   string
		action elbtypes.Action
		want   string
	}{
		{"the single target group form is answered with its one-group ForwardConfig too", elbtypes.Action{}, "arn=web-tg groups=[web-tg:1] sticky=false"},
		{"a one-group ForwardConfig is answered with the target group ARN too",
			elbtypes.Action{Type: "forward", ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: []elbtypes.TargetGroupTuple{{TargetGroupArn: aws.String(green)}}}},
			"arn=green groups=[green:1] sticky=false"},
		{"both forms naming the same group are accepted",
			elbtypes.Action{Type: "forward", TargetGroupArn: aws.String(blue), ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: []elbtypes.TargetGroupTuple{{TargetGroupArn: aws.String(blue), Weight: aws.Int32(7)}}}},
			"arn=web-tg groups=[web-tg:7] sticky=false"},
		{"weighted target groups are answered as a ForwardConfig alone, with the stickiness given", func() elbtypes.Action {
			a := weighted(blue, 90, green, 10)
			a.ForwardConfig.TargetGroupStickinessConfig = &elbtypes.TargetGroupStickinessConfig{Enabled: aws.Bool(true), DurationSeconds: aws.Int32(600)}
			return a
		}(), "arn= groups=[web-tg:90 green:10] sticky=true/600"},
		{"weight 0 and weight 999 are within the range", weighted(blue, 0, green, 999), "arn= groups=[web-tg:0 green:999] sticky=false"},
	}
	for i, s := range steps {
		t.Run(s.rule, func(t *testing.T) {
			if i > 0 {
				e.shift(listener, s.action)
			}
			if got := forwardString(e.defaultAction(listener)); got != s.want {
				t.Fatalf("DescribeListeners answers %s, want %s", got, s.want)
			}
		})
	}
	t.Run("both target groups of a weighted action name the load balancer, weight 0 included", func(t *testing.T) {
		for _, tg := range []string{blue, green} {
			if got := e.loadBalancersOf(tg); !slices.Equal(got, []string{lb}) {
				t.Fatalf("LoadBalancerArns of %s: %v, want [%s]", tg, got, lb)
			}
		}
		out, err := e.elb.DescribeTargetGroups(e.ctx, &elb.DescribeTargetGroupsInput{LoadBalancerArn: aws.String(lb)})
		noErr(t, err)
		if len(out.TargetGroups) != 2 {
			t.Fatalf("the load balancer's target groups: %d, want 2", len(out.TargetGroups))
		}
	})
	t.Run("a target group the listener no longer forwards to is released and its targets unused", func(t *testing.T) {
		id := e.readyInstance("healthy")
		e.register(green, id)
		e.advance(30 * time.Second)
		e.wantHealth("while weighted", green, id, "healthy", "", "")
		e.shift(listener, elbtypes.Action{Type: "forward", TargetGroupArn: aws.String(blue)})
		if got := e.loadBalancersOf(green); len(got) != 0 {
			t.Fatalf("LoadBalancerArns of green after the shift: %v, want none", got)
		}
		e.wantHealth("after the shift", green, id, "unused", "Target.NotInUse", "Target group is not configured to receive traffic from the load balancer")
		_, err := e.elb.DeleteTargetGroup(e.ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: aws.String(green)})
		noErr(t, err)
	})
	t.Run("the listener's port and protocol change too", func(t *testing.T) {
		out, err := e.elb.ModifyListener(e.ctx, &elb.ModifyListenerInput{ListenerArn: aws.String(listener), Port: aws.Int32(8080)})
		noErr(t, err)
		if aws.ToInt32(out.Listeners[0].Port) != 8080 || forwardString(out.Listeners[0].DefaultActions[0]) != "arn=web-tg groups=[web-tg:1] sticky=false" {
			t.Fatalf("ModifyListener answered %+v", out.Listeners[0])
		}
	})
}

func testForwardActionsAreCheckedAsELBChecksThem(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	const vpc = "vpc-0123456789abcdef0"
	blue, lb := e.setupALB("web", false, nil)
	listener := e.listen(lb, blue, 80)
	var tgs []string
	for i := 0; i < 5; i++ {
		tgs = append(tgs, e.targetGroup(fmt.Sprintf("g%d", i), vpc))
	}
	elsewhere := e.targetGroup("elsewhere", "vpc-0fedcba9876543210")
	otherTG, _ := e.setupALB("other", true, nil)
	sticky := func(enabled bool, d *int32) elbtypes.Action {
		a := weighted(blue, 1, tgs[0], 1)
		a.ForwardConfig.TargetGroupStickinessConfig = &elbtypes.TargetGroupStickinessConfig{Enabled: aws.Bool(enabled), DurationSeconds: d}
		return a
	}
	six := weighted(blue, 1, tgs[0], 1, tgs[1], 1, tgs[2], 1, tgs[3], 1, tgs[4], 1)
	cases := []struct {
		rule    string
		actions []elbtypes.Action
		code    string
	}{
		{"a weight above 999 is refused", []elbtypes.Action{weighted(blue, 1000, tgs[0], 1)}, "ValidationError"},
		{"a negative weight is refused", []elbtypes.Action{weighted(blue, -1, tgs[0], 1)}, "ValidationError"},
		{"a sixth target group in one action is refused", []elbtypes.Action{six}, "ValidationError"},
		{"a target group named twice in one action is refused", []elbtypes.Action{weighted(blue, 1, blue, 2)}, "ValidationError"},
		{"a target group ARN that disagrees with the ForwardConfig is refused", []elbtypes.Action{{Type: "forward", TargetGroupArn: aws.String(blue),
			ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: []elbtypes.TargetGroupTuple{{TargetGroupArn: aws.String(tgs[0])}}}}}, "ValidationError"},
		{"a target group ARN beside a two-group ForwardConfig is refused", []elbtypes.Action{func() elbtypes.Action {
			a := weighted(blue, 1, tgs[0], 1)
			a.TargetGroupArn = aws.String(blue)
			return a
		}()}, "ValidationError"},
		{"a forward action with no target group is refused", []elbtypes.Action{{Type: "forward"}}, "ValidationError"},
		{"stickiness enabled without a duration is refused", []elbtypes.Action{sticky(true, nil)}, "ValidationError"},
		{"a stickiness duration of 0 is refused", []elbtypes.Action{sticky(true, aws.Int32(0))}, "ValidationError"},
		{"a stickiness duration above 7 days is refused", []elbtypes.Action{sticky(true, aws.Int32(604801))}, "ValidationError"},
		{"a target group that does not exist is not found", []elbtypes.Action{weighted(blue, 1, tgs[0]+"0", 1)}, "TargetGroupNotFound"},
		{"a target group of another VPC is refused", []elbtypes.Action{weighted(blue, 1, elsewhere, 1)}, "InvalidConfigurationRequest"},
		{"a target group of another load balancer is refused", []elbtypes.Action{weighted(blue, 1, otherTG, 1)}, "TargetGroupAssociationLimit"},
		{"two routing actions are refused", []elbtypes.Action{{Type: "forward", TargetGroupArn: aws.String(blue), Order: aws.Int32(1)},
			{Type: "fixed-response", Order: aws.Int32(2), FixedResponseConfig: &elbtypes.FixedResponseActionConfig{StatusCode: aws.String("503")}}}, "InvalidLoadBalancerAction"},
	}
	for _, c := range cases {
		t.Run(c.rule+" by ModifyListener", func(t *testing.T) {
			_, err := e.elb.ModifyListener(e.ctx, &elb.ModifyListenerInput{ListenerArn: aws.String(listener), DefaultActions: c.actions})
			wantAWSCode(t, err, c.code)
			if got := forwardString(e.defaultAction(listener)); got != "arn=web-tg groups=[web-tg:1] sticky=false" {
				t.Fatalf("a refused ModifyListener changed the listener: %s", got)
			}
		})
		t.Run(c.rule+" by CreateRule", func(t *testing.T) {
			_, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: aws.String(listener), Priority: aws.Int32(10), Actions: c.actions,
				Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/api/*"}}}})
			wantAWSCode(t, err, c.code)
		})
	}
	t.Run("five target groups in one action are accepted", func(t *testing.T) {
		e.shift(listener, weighted(blue, 1, tgs[0], 1, tgs[1], 1, tgs[2], 1, tgs[3], 0))
	})
	t.Run("a listener that does not exist is not found", func(t *testing.T) {
		_, err := e.elb.ModifyListener(e.ctx, &elb.ModifyListenerInput{ListenerArn: aws.String(listener + "0"), DefaultActions: []elbtypes.Action{weighted(blue, 1)}})
		wantAWSCode(t, err, "ListenerNotFound")
	})
	t.Run("moving a listener onto another listener's port is a duplicate", func(t *testing.T) {
		e.listen(lb, tgs[4], 81)
		_, err := e.elb.ModifyListener(e.ctx, &elb.ModifyListenerInput{ListenerArn: aws.String(listener), Port: aws.Int32(81)})
		wantAWSCode(t, err, "DuplicateListener")
	})
	t.Run("what the local cloud does not model is refused, not ignored", func(t *testing.T) {
		_, err := e.elb.ModifyListener(e.ctx, &elb.ModifyListenerInput{ListenerArn: aws.String(listener), SslPolicy: aws.String("ELBSecurityPolicy-2016-08")})
		wantAWSCode(t, err, "ValidationError")
	})
}

func testListenerRulesHaveUniquePrioritiesAndADefaultRule(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	blue, lb := e.setupALB("web", false, nil)
	green := e.targetGroup("green", "vpc-0123456789abcdef0")
	listener := e.listen(lb, blue, 80)
	path := func(p string) []elbtypes.RuleCondition {
		return []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{p}}}
	}
	created, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: aws.String(listener), Priority: aws.Int32(10),
		Conditions: path("/api/*"), Actions: []elbtypes.Action{weighted(blue, 80, green, 20)},
		Tags: []elbtypes.Tag{{Key: aws.String("stage"), Value: aws.String("canary")}}})
	noErr(t, err)
	rule := aws.ToString(created.Rules[0].RuleArn)
	if !regexp.MustCompile(`^arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/web-lb/[0-9a-f]{16}/[0-9a-f]{16}/[0-9a-f]{16}$`).MatchString(rule) ||
		aws.ToString(created.Rules[0].Priority) != "10" || aws.ToBool(created.Rules[0].IsDefault) {
		t.Fatalf("CreateRule answered %+v", created.Rules[0])
	}
	t.Run("a target group only a rule forwards to names the load balancer", func(t *testing.T) {
		if got := e.loadBalancersOf(green); !slices.Equal(got, []string{lb}) {
			t.Fatalf("LoadBalancerArns of green: %v", got)
		}
	})
	t.Run("DescribeRules lists the rules by priority, then the default rule", func(t *testing.T) {
		_, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: aws.String(listener), Priority: aws.Int32(5),
			Conditions: []elbtypes.RuleCondition{{Field: aws.String("host-header"), HostHeaderConfig: &elbtypes.HostHeaderConditionConfig{Values: []string{"*.example.com"}}}},
			Actions:    []elbtypes.Action{{Type: "fixed-response", FixedResponseConfig: &elbtypes.FixedResponseActionConfig{StatusCode: aws.String("404")}}}})
		noErr(t, err)
		out, err := e.elb.DescribeRules(e.ctx, &elb.DescribeRulesInput{ListenerArn: aws.String(listener)})
		noErr(t, err)
		var got []string
		for _, r := range out.Rules {
			got = append(got, fmt.Sprintf("%s/%v/%d", aws.ToString(r.Priority), aws.ToBool(r.IsDefault), len(r.Conditions)))
		}
		if want := []string{"5/false/1", "10/false/1", "default/true/0"}; !slices.Equal(got, want) {
			t.Fatalf("rules %v, want %v", got, want)
		}
		if def := out.Rules[2]; forwardString(def.Actions[0]) != "arn=web-tg groups=[web-tg:1] sticky=false" {
			t.Fatalf("the default rule's actions: %s", forwardString(def.Actions[0]))
		}
		byARN, err := e.elb.DescribeRules(e.ctx, &elb.DescribeRulesInput{RuleArns: []string{rule, aws.ToString(out.Rules[2].RuleArn)}})
		noErr(t, err)
		if len(byARN.Rules) != 2 || forwardString(byARN.Rules[0].Actions[0]) != "arn= groups=[web-tg:80 green:20] sticky=false" || !aws.ToBool(byARN.Rules[1].IsDefault) {
			t.Fatalf("by ARN: %+v", byARN.Rules)
		}
		paged, err := e.elb.DescribeRules(e.ctx, &elb.DescribeRulesInput{ListenerArn: aws.String(listener), PageSize: aws.Int32(2)})
		noErr(t, err)
		if len(paged.Rules) != 2 || paged.NextMarker == nil {
			t.Fatalf("page of 2: %d rules, marker %v", len(paged.Rules), paged.NextMarker)
		}
	})
	defaultRule := func() string {
		out, err := e.elb.DescribeRules(e.ctx, &elb.DescribeRulesInput{ListenerArn: aws.String(listener)})
		noErr(t, err)
		return aws.ToString(out.Rules[len(out.Rules)-1].RuleArn)
	}
	t.Run("ModifyRule replaces the conditions and the actions", func(t *testing.T) {
		out, err := e.elb.ModifyRule(e.ctx, &elb.ModifyRuleInput{RuleArn: aws.String(rule), Conditions: path("/v2/*"), Actions: []elbtypes.Action{weighted(blue, 0, green, 100)}})
		noErr(t, err)
		r := out.Rules[0]
		if r.Conditions[0].Values[0] != "/v2/*" || forwardString(r.Actions[0]) != "arn= groups=[web-tg:0 green:100] sticky=false" {
			t.Fatalf("ModifyRule answered %+v", r)
		}
	})
	for _, tt := range []struct {
		rule string
		call func() error
		code string
	}{
		{"a second rule at a priority in use is refused", func() error {
			_, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: aws.String(listener), Priority: aws.Int32(10), Conditions: path("/x"), Actions: []elbtypes.Action{weighted(blue, 1)}})
			return err
		}, "PriorityInUse"},
		{"priority 0 is refused", func() error {
			_, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: aws.String(listener), Priority: aws.Int32(0), Conditions: path("/x"), Actions: []elbtypes.Action{weighted(blue, 1)}})
			return err
		}, "ValidationError"},
		{"priority 50001 is refused", func() error {
			_, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: aws.String(listener), Priority: aws.Int32(50001), Conditions: path("/x"), Actions: []elbtypes.Action{weighted(blue, 1)}})
			return err
		}, "ValidationError"},
		{"an unknown condition field is refused", func() error {
			_, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: aws.String(listener), Priority: aws.Int32(20),
				Conditions: []elbtypes.RuleCondition{{Field: aws.String("cookie"), Values: []string{"x"}}}, Actions: []elbtypes.Action{weighted(blue, 1)}})
			return err
		}, "ValidationError"},
		{"two path-pattern conditions are refused", func() error {
			_, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: aws.String(listener), Priority: aws.Int32(20),
				Conditions: append(path("/a"), path("/b")...), Actions: []elbtypes.Action{weighted(blue, 1)}})
			return err
		}, "ValidationError"},
		{"Values and a PathPatternConfig together are refused", func() error {
			_, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: aws.String(listener), Priority: aws.Int32(20),
				Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/a"}, PathPatternConfig: &elbtypes.PathPatternConditionConfig{Values: []string{"/b"}}}},
				Actions:    []elbtypes.Action{weighted(blue, 1)}})
			return err
		}, "ValidationError"},
		{"a host name longer than 128 characters is refused", func() error {
			_, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: aws.String(listener), Priority: aws.Int32(20),
				Conditions: []elbtypes.RuleCondition{{Field: aws.String("host-header"), Values: []string{strings.Repeat("a", 129) + ".com"}}}, Actions: []elbtypes.Action{weighted(blue, 1)}})
			return err
		}, "ValidationError"},
		{"an http-header condition needs its configuration", func() error {
			_, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: aws.String(listener), Priority: aws.Int32(20),
				Conditions: []elbtypes.RuleCondition{{Field: aws.String("http-header")}}, Actions: []elbtypes.Action{weighted(blue, 1)}})
			return err
		}, "ValidationError"},
		{"a rule on a listener that does not exist is not found", func() error {
			_, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: aws.String(listener + "0"), Priority: aws.Int32(20), Conditions: path("/x"), Actions: []elbtypes.Action{weighted(blue, 1)}})
			return err
		}, "ListenerNotFound"},
		{"DescribeRules needs a listener or rules", func() error {
			_, err := e.elb.DescribeRules(e.ctx, &elb.DescribeRulesInput{})
			return err
		}, "ValidationError"},
		{"DescribeRules takes a listener or rules, not both", func() error {
			_, err := e.elb.DescribeRules(e.ctx, &elb.DescribeRulesInput{ListenerArn: aws.String(listener), RuleArns: []string{rule}})
			return err
		}, "ValidationError"},
		{"an unknown rule is not found", func() error {
			_, err := e.elb.DescribeRules(e.ctx, &elb.DescribeRulesInput{RuleArns: []string{rule + "0"}})
			return err
		}, "RuleNotFound"},
		{"the default rule is not modified by ModifyRule", func() error {
			_, err := e.elb.ModifyRule(e.ctx, &elb.ModifyRuleInput{RuleArn: aws.String(defaultRule()), Actions: []elbtypes.Action{weighted(green, 1)}})
			return err
		}, "OperationNotPermitted"},
		{"the default rule cannot be deleted", func() error {
			_, err := e.elb.DeleteRule(e.ctx, &elb.DeleteRuleInput{RuleArn: aws.String(defaultRule())})
			return err
		}, "OperationNotPermitted"},
	} {
		t.Run(tt.rule, func(t *testing.T) { wantAWSCode(t, tt.call(), tt.code) })
	}
	t.Run("rules carry their own tags", func(t *testing.T) {
		out, err := e.elb.DescribeTags(e.ctx, &elb.DescribeTagsInput{ResourceArns: []string{rule}})
		noErr(t, err)
		if tags := out.TagDescriptions[0].Tags; len(tags) != 1 || aws.ToString(tags[0].Key) != "stage" {
			t.Fatalf("rule tags %+v", tags)
		}
	})
	t.Run("deleting the only rule forwarding to a target group releases it", func(t *testing.T) {
		_, err := e.elb.DeleteRule(e.ctx, &elb.DeleteRuleInput{RuleArn: aws.String(rule)})
		noErr(t, err)
		if got := e.loadBalancersOf(green); len(got) != 0 {
			t.Fatalf("LoadBalancerArns of green after DeleteRule: %v", got)
		}
		_, err = e.elb.DeleteRule(e.ctx, &elb.DeleteRuleInput{RuleArn: aws.String(rule)})
		wantAWSCode(t, err, "RuleNotFound")
		_, err = e.elb.DeleteTargetGroup(e.ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: aws.String(green)})
		noErr(t, err)
	})
}

// blueGreen is a load balancer whose listener forwards to two target groups:
// blue with two healthy instances, green with two of an image whose
// application answers 500 (its targets are unhealthy, so green fails open
// and serves its share with 5XX).
type blueGreen struct {
	e                   *ec2Env
	lb, listener        string
	blue, green         string
	blueIDs, greenIDs   []string
	blueReq, greenReq   float64
	blueErrs, greenErrs float64
	instReq, instErrs   map[string]float64
}

func newBlueGreen(t *testing.T, backend Backend, greenBehavior string) *blueGreen {
	e := newEC2Env(t, backend)
	b := &blueGreen{e: e}
	b.blue, b.lb = e.setupALB("web", false, nil)
	b.green = e.targetGroup("green", "vpc-0123456789abcdef0")
	b.blueIDs = []string{e.readyInstance("healthy"), e.readyInstance("healthy")}
	b.greenIDs = []string{e.readyInstance(greenBehavior), e.readyInstance(greenBehavior)}
	b.listener = e.listen(b.lb, b.blue, 80)
	e.shift(b.listener, weighted(b.blue, 1, b.green, 1))
	e.register(b.blue, b.blueIDs...)
	e.register(b.green, b.greenIDs...)
	e.advance(5 * time.Minute)
	return b
}

// run sets the default action's weights and totals ten minutes of traffic,
// checking every minute that each group got its exact share of the
// default action to within one request unless a rule takes the traffic.
func (b *blueGreen) run(t *testing.T, blueWeight, greenWeight int) {
	b.runWith(t, blueWeight, greenWeight, true)
}

func (b *blueGreen) runWith(t *testing.T, blueWeight, greenWeight int, checkSplit bool) {
	t.Helper()
	b.e.shift(b.listener, weighted(b.blue, blueWeight, b.green, greenWeight))
	b.blueReq, b.greenReq, b.blueErrs, b.greenErrs = 0, 0, 0, 0
	b.instReq, b.instErrs = map[string]float64{}, map[string]float64{}
	for m := 0; m < 10; m++ {
		b.e.advance(time.Minute)
		tr := b.e.w.Traffic(ec2Region)
		bl, gr := tr.TargetGroups[b.blue], tr.TargetGroups[b.green]
		exact := 600 * float64(blueWeight) / float64(blueWeight+greenWeight)
		if checkSplit && (math.Abs(bl.Requests-exact) >= 1 || bl.Requests+gr.Requests != 600) {
			t.Fatalf("minute %d at %d/%d: blue %v green %v requests, want blue within one of %.1f and 600 in all", m, blueWeight, greenWeight, bl.Requests, gr.Requests, exact)
		}
		b.blueReq += bl.Requests
		b.greenReq += gr.Requests
		b.blueErrs += bl.TargetErrors
		b.greenErrs += gr.TargetErrors
		for id, il := range tr.Instances {
			b.instReq[id] += il.Requests
			b.instErrs[id] += il.Errors
		}
	}
}

func testTrafficFollowsTheWeightsOfTheForwardAction(t *testing.T, backend Backend) {
	b := newBlueGreen(t, backend, "unhealthy")
	e := b.e
	for _, id := range b.greenIDs {
		e.wantHealth("green before the split", b.green, id, "unhealthy", "Target.ResponseCodeMismatch", "Health checks failed with these codes: [500]")
	}
	t.Run("90/10 over ten minutes gives each group its share, and green's 5XX with it", func(t *testing.T) {
		b.run(t, 90, 10)
		// 600 requests a minute split 540/60 exactly (largest remainder
		// leaves no fraction here), so the totals are exact.
		if b.blueReq != 5400 || b.greenReq != 600 || b.blueErrs != 0 || b.greenErrs != 600 {
			t.Fatalf("blue %v requests %v 5XX, green %v requests %v 5XX; want 5400/0 and 600/600", b.blueReq, b.blueErrs, b.greenReq, b.greenErrs)
		}
	})
	t.Run("the requests of a group are spread evenly over its instances", func(t *testing.T) {
		for _, id := range b.blueIDs {
			if b.instReq[id] != 2700 || b.instErrs[id] != 0 {
				t.Errorf("blue instance %s served %v requests with %v 5XX, want 2700 and 0", id, b.instReq[id], b.instErrs[id])
			}
		}
		for _, id := range b.greenIDs {
			if b.instReq[id] != 300 || b.instErrs[id] != 300 {
				t.Errorf("green instance %s served %v requests with %v 5XX, want 300 and 300", id, b.instReq[id], b.instErrs[id])
			}
		}
	})
	t.Run("a bad image's 5XX grow with the weight its group gets", func(t *testing.T) {
		b.run(t, 50, 50)
		if b.greenErrs != 3000 {
			t.Fatalf("at 50/50 green answered %v 5XX in ten minutes, want 3000", b.greenErrs)
		}
	})
	t.Run("weight 0 gets no requests, though its targets are still checked", func(t *testing.T) {
		b.run(t, 1, 0)
		if b.greenReq != 0 || b.blueReq != 6000 {
			t.Fatalf("at 1/0 green got %v and blue %v requests, want 0 and 6000", b.greenReq, b.blueReq)
		}
		for _, id := range b.greenIDs {
			e.wantHealth("at weight 0", b.green, id, "unhealthy", "Target.ResponseCodeMismatch", "Health checks failed with these codes: [500]")
		}
	})
	t.Run("an uneven split stays within one request of its share every minute", func(t *testing.T) {
		b.run(t, 999, 1)
		if b.greenReq < 0 || b.greenReq > 10 || math.Abs(b.blueReq-5994) >= 10 {
			t.Fatalf("at 999/1 over ten minutes blue %v green %v, want within 10 of 5994 and 6", b.blueReq, b.greenReq)
		}
	})
	t.Run("a rule that matches GET / takes the traffic before the default action", func(t *testing.T) {
		_, err := e.elb.CreateRule(e.ctx, &elb.CreateRuleInput{ListenerArn: aws.String(b.listener), Priority: aws.Int32(1),
			Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), PathPatternConfig: &elbtypes.PathPatternConditionConfig{Values: []string{"/*"}}}},
			Actions:    []elbtypes.Action{weighted(b.green, 1)}})
		noErr(t, err)
		b.runWith(t, 1, 0, false)
		if b.greenReq != 6000 {
			t.Fatalf("with a rule on /* to green, green got %v of 6000 requests", b.greenReq)
		}
	})
	t.Run("a rule on a header the clients do not send takes nothing", func(t *testing.T) {
		out, err := e.elb.DescribeRules(e.ctx, &elb.DescribeRulesInput{ListenerArn: aws.String(b.listener)})
		noErr(t, err)
		_, err = e.elb.ModifyRule(e.ctx, &elb.ModifyRuleInput{RuleArn: out.Rules[0].RuleArn,
			Conditions: []elbtypes.RuleCondition{{Field: aws.String("http-header"), HttpHeaderConfig: &elbtypes.HttpHeaderConditionConfig{HttpHeaderName: aws.String("X-Canary"), Values: []string{"1"}}}}})
		noErr(t, err)
		b.run(t, 1, 0)
		if b.greenReq != 0 {
			t.Fatalf("with a header rule to green, green got %v requests", b.greenReq)
		}
	})
	t.Run("a second listener receives no client traffic of its own", func(t *testing.T) {
		other := e.targetGroup("test-port", "vpc-0123456789abcdef0")
		e.listen(b.lb, other, 8080)
		b.run(t, 1, 1)
		if got := e.w.Traffic(ec2Region).TargetGroups[other]; got.Requests != 0 || got.LoadBalancerARN != b.lb {
			t.Fatalf("the second listener's target group: %+v", got)
		}
	})
	t.Run("when every weight is 0 no target group gets a request", func(t *testing.T) {
		e.shift(b.listener, weighted(b.blue, 0, b.green, 0))
		e.advance(time.Minute)
		tr := e.w.Traffic(ec2Region)
		if tr.TargetGroups[b.blue].Requests != 0 || tr.TargetGroups[b.green].Requests != 0 {
			t.Fatalf("at 0/0: blue %+v green %+v", tr.TargetGroups[b.blue], tr.TargetGroups[b.green])
		}
	})
}

func testATargetGroupBelowItsHealthyMinimumFailsOpen(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	tg, _ := e.setupALB("web", true, nil)
	good, bad := e.readyInstance("healthy"), e.readyInstance("unhealthy")
	e.register(tg, good, bad)
	e.advance(5 * time.Minute)
	if _, errs, _ := e.w.TargetGroupTraffic(ec2Region, tg); errs != 0 {
		t.Fatalf("with one healthy target of two, %v 5XX: the unhealthy one was sent requests", errs)
	}
	_, err := e.elb.ModifyTargetGroupAttributes(e.ctx, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(tg), Attributes: []elbtypes.TargetGroupAttribute{
		{Key: aws.String("target_group_health.unhealthy_state_routing.minimum_healthy_targets.count"), Value: aws.String("2")}}})
	noErr(t, err)
	req, errs, _ := e.w.TargetGroupTraffic(ec2Region, tg)
	if req != 600 || errs != 300 {
		t.Fatalf("below a minimum of 2 healthy targets: %v requests %v 5XX, want 600 and 300 (fail open to both)", req, errs)
	}
}

func testADegradedInstancesErrorsAreDrawnRepeatably(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	tg, _ := e.setupALB("web", true, nil)
	id := e.readyInstance("degrade-after:60")
	e.register(tg, id)
	e.advance(2 * time.Minute)
	var total float64
	for m := 0; m < 10; m++ {
		e.advance(time.Minute)
		a, b := e.w.Traffic(ec2Region), e.w.Traffic(ec2Region)
		if a.TargetGroups[tg] != b.TargetGroups[tg] {
			t.Fatalf("the same minute answered twice differently: %+v and %+v", a.TargetGroups[tg], b.TargetGroups[tg])
		}
		l := a.TargetGroups[tg]
		// The default noise moves an instance's mean by about 8% (host,
		// zone, minute, and 600 requests' own spread): 1.5 s ± 30% is
		// over three deviations wide.
		if l.Requests != 600 || l.Latency < 1050*time.Millisecond || l.Latency > 1950*time.Millisecond {
			t.Fatalf("minute %d: %+v, want 600 requests at about 1.5 s", m, l)
		}
		total += l.TargetErrors
	}
	// 6000 requests failing with probability 1/2: the standard deviation
	// is sqrt(6000/4) ≈ 39, so 3000 ± 200 is over five deviations wide.
	if total < 2800 || total > 3200 {
		t.Fatalf("a degraded instance answered %v 5XX of 6000, want about 3000", total)
	}
}
