package differential

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// The comparisons of weighted forward actions (blue/green): ModifyListener,
// CreateRule, DescribeRules, ModifyRule and DeleteRule.

var elbRuleARN = regexp.MustCompile(`^arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/[a-z0-9-]+/[0-9a-f]{16}/[0-9a-f]{16}/[0-9a-f]+$`)

// elbForward renders a forward action as a client reads it, naming target
// groups by name: "arn=NAME groups=[NAME:WEIGHT ...] sticky=ENABLED/SECONDS".
func elbForward(a elbtypes.Action) string {
	name := func(arn string) string {
		if m := regexp.MustCompile(`targetgroup/([^/]+)/`).FindStringSubmatch(arn); m != nil {
			return m[1]
		}
		return arn
	}
	s := string(a.Type) + " arn=" + name(aws.ToString(a.TargetGroupArn))
	fc := a.ForwardConfig
	if fc == nil {
		return s + " no-forward-config"
	}
	var groups []string
	for _, t := range fc.TargetGroups {
		groups = append(groups, fmt.Sprintf("%s:%d", name(aws.ToString(t.TargetGroupArn)), aws.ToInt32(t.Weight)))
	}
	s += " groups=[" + strings.Join(groups, " ") + "]"
	if st := fc.TargetGroupStickinessConfig; st != nil {
		s += fmt.Sprintf(" sticky=%v", aws.ToBool(st.Enabled))
		if st.DurationSeconds != nil {
			s += fmt.Sprintf("/%d", *st.DurationSeconds)
		}
	}
	return s
}

// elbRules renders DescribeRules: priority, default flag, condition
// values and the first action of each rule.
func elbRules(r *elb.DescribeRulesOutput) string {
	if r == nil {
		return "<nil>"
	}
	var parts []string
	for _, rule := range r.Rules {
		var conds []string
		for _, c := range rule.Conditions {
			v := c.Values
			if c.PathPatternConfig != nil {
				v = c.PathPatternConfig.Values
			}
			conds = append(conds, aws.ToString(c.Field)+"="+strings.Join(v, ","))
		}
		first := ""
		if len(rule.Actions) > 0 {
			first = elbForward(rule.Actions[0])
		}
		parts = append(parts, fmt.Sprintf("%s default=%v [%s] %s", aws.ToString(rule.Priority), aws.ToBool(rule.IsDefault), strings.Join(conds, " "), first))
	}
	return strings.Join(parts, " | ")
}

// Listener weights and rules on both: the forms a forward action is
// answered in, weights and stickiness, which target groups a load balancer
// uses, rule priorities and the default rule.
func TestELBWeightedForwardActionsAndRules(t *testing.T) {
	_, cs, nets := elbSetup(t)
	var blue, green [2]string
	for i, name := range []string{"blue", "green"} {
		tgs, out := elbCreateTG(t, cs, nets, name)
		ec2OK(t, "CreateTargetGroup "+name, out)
		arns := [2]string{aws.ToString(tgs[0].TargetGroups[0].TargetGroupArn), aws.ToString(tgs[1].TargetGroups[0].TargetGroupArn)}
		if i == 0 {
			blue = arns
		} else {
			green = arns
		}
	}
	lbs, out := ec2Each(t, cs, func(c *elb.Client, s int) (*elb.CreateLoadBalancerOutput, error) {
		return c.CreateLoadBalancer(bg, &elb.CreateLoadBalancerInput{Name: aws.String("web"), Subnets: nets[s].subnets})
	})
	ec2OK(t, "CreateLoadBalancer", out)
	lb := [2]string{aws.ToString(lbs[0].LoadBalancers[0].LoadBalancerArn), aws.ToString(lbs[1].LoadBalancers[0].LoadBalancerArn)}
	ls, out := ec2Each(t, cs, func(c *elb.Client, s int) (*elb.CreateListenerOutput, error) {
		return c.CreateListener(bg, &elb.CreateListenerInput{LoadBalancerArn: aws.String(lb[s]), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
			DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(blue[s])}}})
	})
	ec2OK(t, "CreateListener", out)
	listener := [2]string{aws.ToString(ls[0].Listeners[0].ListenerArn), aws.ToString(ls[1].Listeners[0].ListenerArn)}
	describeAction := func() [2]string {
		r, out := ec2Each(t, cs, func(c *elb.Client, s int) (*elb.DescribeListenersOutput, error) {
			return c.DescribeListeners(bg, &elb.DescribeListenersInput{ListenerArns: []string{listener[s]}})
		})
		ec2OK(t, "DescribeListeners", out)
		return [2]string{elbForward(r[0].Listeners[0].DefaultActions[0]), elbForward(r[1].Listeners[0].DefaultActions[0])}
	}
	// ELB answers the single target group form with its one-group
	// ForwardConfig too; moto echoes the request (recorded).
	if got := describeAction(); got != [2]string{"forward arn=blue groups=[blue:1] sticky=false", "forward arn=blue no-forward-config"} {
		t.Errorf("DescribeListeners of the single target group form: local cloud %q, moto %q (recorded: no ForwardConfig)", got[0], got[1])
	}

	weighted := func(s int, b, g int32, sticky *elbtypes.TargetGroupStickinessConfig) []elbtypes.Action {
		return []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{
			TargetGroups:                []elbtypes.TargetGroupTuple{{TargetGroupArn: aws.String(blue[s]), Weight: aws.Int32(b)}, {TargetGroupArn: aws.String(green[s]), Weight: aws.Int32(g)}},
			TargetGroupStickinessConfig: sticky,
		}}}
	}
	mod, out := ec2Each(t, cs, func(c *elb.Client, s int) (*elb.ModifyListenerOutput, error) {
		return c.ModifyListener(bg, &elb.ModifyListenerInput{ListenerArn: aws.String(listener[s]),
			DefaultActions: weighted(s, 90, 10, &elbtypes.TargetGroupStickinessConfig{Enabled: aws.Bool(true), DurationSeconds: aws.Int32(600)})})
	})
	ec2OK(t, "ModifyListener 90/10", out)
	ec2Same(t, "ModifyListener 90/10 answer", [2]string{elbForward(mod[0].Listeners[0].DefaultActions[0]), elbForward(mod[1].Listeners[0].DefaultActions[0])})
	ec2Same(t, "DescribeListeners after 90/10", describeAction())
	mod, out = ec2Each(t, cs, func(c *elb.Client, s int) (*elb.ModifyListenerOutput, error) {
		return c.ModifyListener(bg, &elb.ModifyListenerInput{ListenerArn: aws.String(listener[s]), DefaultActions: weighted(s, 100, 0, nil)})
	})
	ec2OK(t, "ModifyListener 100/0", out)
	ec2Same(t, "ModifyListener 100/0 answer (stickiness defaults to disabled)", [2]string{elbForward(mod[0].Listeners[0].DefaultActions[0]), elbForward(mod[1].Listeners[0].DefaultActions[0])})

	// A target group a listener forwards to names its load balancer, weight
	// 0 included; moto updates LoadBalancerArns on CreateListener and
	// CreateRule only, not on ModifyListener (recorded).
	tgLBs, out := ec2Each(t, cs, func(c *elb.Client, s int) (*elb.DescribeTargetGroupsOutput, error) {
		return c.DescribeTargetGroups(bg, &elb.DescribeTargetGroupsInput{TargetGroupArns: []string{green[s]}})
	})
	ec2OK(t, "DescribeTargetGroups green", out)
	if got := [2]int{len(tgLBs[0].TargetGroups[0].LoadBalancerArns), len(tgLBs[1].TargetGroups[0].LoadBalancerArns)}; got != [2]int{1, 0} {
		t.Errorf("green's LoadBalancerArns after ModifyListener: local cloud %d (want 1), moto %d (recorded: 0)", got[0], got[1])
	}

	// What ELB refuses and moto accepts (recorded).
	for _, bad := range []struct {
		what    string
		actions func(s int) []elbtypes.Action
		local   outcome
		moto    outcome
	}{
		{"weight 1000", func(s int) []elbtypes.Action { return weighted(s, 1000, 1, nil) }, outcome{"ValidationError", 400}, outcome{}},
		{"a target group twice", func(s int) []elbtypes.Action {
			a := weighted(s, 1, 1, nil)
			a[0].ForwardConfig.TargetGroups[1].TargetGroupArn = aws.String(blue[s])
			return a
		}, outcome{"ValidationError", 400}, outcome{}},
		{"stickiness without a duration", func(s int) []elbtypes.Action {
			return weighted(s, 1, 1, &elbtypes.TargetGroupStickinessConfig{Enabled: aws.Bool(true)})
		}, outcome{"ValidationError", 400}, outcome{}},
		{"a target group that does not exist", func(s int) []elbtypes.Action {
			a := weighted(s, 1, 1, nil)
			a[0].ForwardConfig.TargetGroups[1].TargetGroupArn = aws.String(strings.Replace(green[s], "/green/", "/gone/", 1))
			return a
		}, outcome{"TargetGroupNotFound", 400}, outcome{}},
	} {
		_, out = ec2Each(t, cs, func(c *elb.Client, s int) (*elb.ModifyListenerOutput, error) {
			return c.ModifyListener(bg, &elb.ModifyListenerInput{ListenerArn: aws.String(listener[s]), DefaultActions: bad.actions(s)})
		})
		ec2Want(t, "ModifyListener with "+bad.what, out, bad.local, bad.moto)
	}
	_, out = ec2Each(t, cs, func(c *elb.Client, s int) (*elb.ModifyListenerOutput, error) {
		return c.ModifyListener(bg, &elb.ModifyListenerInput{ListenerArn: aws.String(listener[s]), DefaultActions: weighted(s, 100, 0, nil)})
	})
	ec2OK(t, "ModifyListener back to 100/0", out)

	// Rules.
	path := []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/canary/*"}}}
	created, out := ec2Each(t, cs, func(c *elb.Client, s int) (*elb.CreateRuleOutput, error) {
		return c.CreateRule(bg, &elb.CreateRuleInput{ListenerArn: aws.String(listener[s]), Priority: aws.Int32(10), Conditions: path, Actions: weighted(s, 0, 100, nil)})
	})
	ec2OK(t, "CreateRule", out)
	rule := [2]string{aws.ToString(created[0].Rules[0].RuleArn), aws.ToString(created[1].Rules[0].RuleArn)}
	ec2Match(t, "RuleArn", elbRuleARN, rule)
	_, out = ec2Each(t, cs, func(c *elb.Client, s int) (*elb.CreateRuleOutput, error) {
		return c.CreateRule(bg, &elb.CreateRuleInput{ListenerArn: aws.String(listener[s]), Priority: aws.Int32(10), Conditions: path, Actions: weighted(s, 1, 1, nil)})
	})
	ec2Agree(t, "CreateRule at a priority in use", out)
	if out[0].Code != "PriorityInUse" {
		t.Errorf("CreateRule at a priority in use: %+v", out[0])
	}
	_, out = ec2Each(t, cs, func(c *elb.Client, s int) (*elb.CreateRuleOutput, error) {
		return c.CreateRule(bg, &elb.CreateRuleInput{ListenerArn: aws.String(listener[s] + "0"), Priority: aws.Int32(11), Conditions: path, Actions: weighted(s, 1, 1, nil)})
	})
	ec2Agree(t, "CreateRule on an unknown listener", out)
	describeRules := func(in func(s int) *elb.DescribeRulesInput) ([2]*elb.DescribeRulesOutput, [2]outcome) {
		return ec2Each(t, cs, func(c *elb.Client, s int) (*elb.DescribeRulesOutput, error) { return c.DescribeRules(bg, in(s)) })
	}
	rs, out := describeRules(func(s int) *elb.DescribeRulesInput {
		return &elb.DescribeRulesInput{ListenerArn: aws.String(listener[s])}
	})
	ec2OK(t, "DescribeRules", out)
	ec2Same(t, "DescribeRules", [2]string{elbRules(rs[0]), elbRules(rs[1])})
	defaultRule := [2]string{aws.ToString(rs[0].Rules[len(rs[0].Rules)-1].RuleArn), aws.ToString(rs[1].Rules[len(rs[1].Rules)-1].RuleArn)}
	ec2Match(t, "default RuleArn", elbRuleARN, defaultRule)

	mr, out := ec2Each(t, cs, func(c *elb.Client, s int) (*elb.ModifyRuleOutput, error) {
		return c.ModifyRule(bg, &elb.ModifyRuleInput{RuleArn: aws.String(rule[s]), Actions: weighted(s, 50, 50, nil)})
	})
	ec2OK(t, "ModifyRule", out)
	ec2Same(t, "ModifyRule answer", [2]string{elbRules(&elb.DescribeRulesOutput{Rules: mr[0].Rules}), elbRules(&elb.DescribeRulesOutput{Rules: mr[1].Rules})})
	rs, out = describeRules(func(s int) *elb.DescribeRulesInput { return &elb.DescribeRulesInput{RuleArns: []string{rule[s]}} })
	ec2OK(t, "DescribeRules by ARN", out)
	ec2Same(t, "DescribeRules by ARN", [2]string{elbRules(rs[0]), elbRules(rs[1])})
	_, out = describeRules(func(s int) *elb.DescribeRulesInput { return &elb.DescribeRulesInput{} })
	ec2Agree(t, "DescribeRules with neither a listener nor rules", out)

	// The default rule cannot be deleted: ELB answers OperationNotPermitted;
	// moto fails with HTTP 500 (recorded).
	_, out = ec2Each(t, cs, func(c *elb.Client, s int) (*elb.DeleteRuleOutput, error) {
		return c.DeleteRule(bg, &elb.DeleteRuleInput{RuleArn: aws.String(defaultRule[s])})
	})
	ec2WantServerFault(t, "DeleteRule of the default rule", out, outcome{"OperationNotPermitted", 400})

	_, out = ec2Each(t, cs, func(c *elb.Client, s int) (*elb.DeleteRuleOutput, error) {
		return c.DeleteRule(bg, &elb.DeleteRuleInput{RuleArn: aws.String(rule[s])})
	})
	ec2OK(t, "DeleteRule", out)
	_, out = describeRules(func(s int) *elb.DescribeRulesInput { return &elb.DescribeRulesInput{RuleArns: []string{rule[s]}} })
	ec2Agree(t, "DescribeRules of a deleted rule", out)
	if out[0].Code != "RuleNotFound" {
		t.Errorf("DescribeRules of a deleted rule: %+v", out[0])
	}
}
