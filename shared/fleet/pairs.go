package fleet

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/phoenix-rollouts/phoenix/shared/awserr"
	"github.com/phoenix-rollouts/phoenix/shared/bluegreen"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// elbPageSize is the PageSize maximum of ELBv2's Describe operations. A
// load balancer has at most 50 listeners and 100 rules (AWS's quotas), so
// one page is the usual answer; the paginators follow NextMarker anyway.
const elbPageSize = 400

// ELBv2's error codes for the resources a pair's forward actions name.
const (
	codeTargetGroupNotFound  = "TargetGroupNotFound"
	codeLoadBalancerNotFound = "LoadBalancerNotFound"
	codeListenerNotFound     = "ListenerNotFound"
	codeRuleNotFound         = "RuleNotFound"
)

// Kinds of *rollout.NotFoundError this file returns.
const (
	pairKind        = "blue/green pair"
	targetGroupKind = "target group"
	listenerKind    = "listener"
	ruleKind        = "listener rule"
)

// Pair reads the blue/green pair named name in region, for
// bluegreen.Prepare to judge: every group whose phoenix:pair tag is name
// (surrounding spaces aside, as Prepare reads the tag), sorted by name and
// with instance details as Group gives them, and every forward action that
// names any of those groups' target groups, whichever load balancer holds
// it: the listeners' default actions (Forward.ListenerARN) and their
// rules' actions (Forward.RuleARN), weights as ELB answers them (the
// single-target-group form, a TargetGroupArn without a ForwardConfig,
// reads as weight 1, which is also what ELB answers in a one-group
// ForwardConfig).
//
// Pair judges nothing: a third group, a group without a target group or an
// action that names one target group only is returned as found. A pair no
// group names is a *rollout.NotFoundError, and so is a target group a group
// is attached to that ELB no longer has. A load balancer, listener or rule
// deleted while Pair reads is left out, as if it were gone already.
// Throttling and server faults are *rollout.TransientError.
func (f *Fleet) Pair(ctx context.Context, region, name string) (bluegreen.Pair, error) {
	if strings.TrimSpace(name) == "" {
		return bluegreen.Pair{}, errors.New("read blue/green pair: the pair's name is empty")
	}
	tagged, err := f.GroupsTaggedShallow(ctx, region, bluegreen.TagPair)
	if err != nil {
		return bluegreen.Pair{}, err
	}
	p := bluegreen.Pair{Name: name}
	for _, g := range tagged {
		if strings.TrimSpace(g.Tags[bluegreen.TagPair]) == name {
			p.Groups = append(p.Groups, g)
		}
	}
	if len(p.Groups) == 0 {
		return bluegreen.Pair{}, &rollout.NotFoundError{Kind: pairKind, ID: region + "/" + name}
	}
	slices.SortFunc(p.Groups, func(a, b rollout.Group) int { return strings.Compare(a.Key.Name, b.Key.Name) })
	if err := f.addGroupsInstanceDetails(ctx, region, p.Groups); err != nil {
		return bluegreen.Pair{}, err
	}
	var tgs []string
	for _, g := range p.Groups {
		tgs = appendNew(tgs, g.TargetGroupARNs...)
	}
	if len(tgs) == 0 {
		return p, nil
	}
	elb := f.clients(region).ELB
	lbs, err := loadBalancersOf(ctx, elb, region, tgs)
	if err != nil {
		return bluegreen.Pair{}, err
	}
	names := func(groups []bluegreen.WeightedTargetGroup) bool {
		return slices.ContainsFunc(groups, func(g bluegreen.WeightedTargetGroup) bool { return slices.Contains(tgs, g.ARN) })
	}
	for _, lb := range lbs {
		listeners, err := listenersOf(ctx, elb, region, lb)
		if err != nil {
			return bluegreen.Pair{}, err
		}
		for _, l := range listeners {
			larn := aws.ToString(l.ListenerArn)
			for _, groups := range forwardsIn(l.DefaultActions) {
				if names(groups) {
					p.Forwards = append(p.Forwards, bluegreen.Forward{ListenerARN: larn, Groups: groups})
				}
			}
			// Only Application Load Balancer listeners (HTTP, HTTPS) have
			// rules; DescribeRules of a Gateway Load Balancer's listener
			// has been answered with ListenerNotFound (boto/boto3#3591).
			if l.Protocol != elbtypes.ProtocolEnumHttp && l.Protocol != elbtypes.ProtocolEnumHttps {
				continue
			}
			rules, err := rulesOf(ctx, elb, region, larn)
			if err != nil {
				return bluegreen.Pair{}, err
			}
			for _, r := range rules {
				// The default rule is the listener's default actions,
				// counted above under the listener's ARN; counted twice,
				// Prepare would see two actions forwarding to the pair.
				if aws.ToBool(r.IsDefault) {
					continue
				}
				for _, groups := range forwardsIn(r.Actions) {
					if names(groups) {
						p.Forwards = append(p.Forwards, bluegreen.Forward{RuleARN: aws.ToString(r.RuleArn), Groups: groups})
					}
				}
			}
		}
	}
	return p, nil
}

// loadBalancersOf returns the load balancers whose listeners or rules
// forward to any of the target groups, in the order ELB names them. ELB
// answers a list with a missing target group with TargetGroupNotFound,
// without saying which; the target groups are then asked one at a time so
// that the *rollout.NotFoundError names it.
func loadBalancersOf(ctx context.Context, elb ELBAPI, region string, tgs []string) ([]string, error) {
	p := elasticloadbalancingv2.NewDescribeTargetGroupsPaginator(elb, &elasticloadbalancingv2.DescribeTargetGroupsInput{
		TargetGroupArns: tgs, PageSize: aws.Int32(elbPageSize),
	})
	var out []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			if len(tgs) > 1 && awserr.Code(err) == codeTargetGroupNotFound {
				out = nil
				for _, tg := range tgs {
					lbs, err := loadBalancersOf(ctx, elb, region, []string{tg})
					if err != nil {
						return nil, err
					}
					out = appendNew(out, lbs...)
				}
				return out, nil
			}
			return nil, awserr.Classify(fmt.Sprintf("describe target groups %v in %s", tgs, region), err, targetGroupKind, strings.Join(tgs, ", "), codeTargetGroupNotFound)
		}
		for _, tg := range page.TargetGroups {
			out = appendNew(out, tg.LoadBalancerArns...)
		}
	}
	return out, nil
}

// listenersOf returns a load balancer's listeners; none if the load
// balancer was deleted since its target group named it.
func listenersOf(ctx context.Context, elb ELBAPI, region, lb string) ([]elbtypes.Listener, error) {
	p := elasticloadbalancingv2.NewDescribeListenersPaginator(elb, &elasticloadbalancingv2.DescribeListenersInput{
		LoadBalancerArn: aws.String(lb), PageSize: aws.Int32(elbPageSize),
	})
	var out []elbtypes.Listener
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if awserr.Code(err) == codeLoadBalancerNotFound {
			return nil, nil
		}
		if err != nil {
			return nil, awserr.Classify(fmt.Sprintf("describe listeners of %s in %s", lb, region), err, "load balancer", lb)
		}
		out = append(out, page.Listeners...)
	}
	return out, nil
}

// rulesOf returns a listener's rules, by priority with the default rule
// last; none if the listener was deleted since it was listed.
func rulesOf(ctx context.Context, elb ELBAPI, region, listener string) ([]elbtypes.Rule, error) {
	p := elasticloadbalancingv2.NewDescribeRulesPaginator(elb, &elasticloadbalancingv2.DescribeRulesInput{
		ListenerArn: aws.String(listener), PageSize: aws.Int32(elbPageSize),
	})
	var out []elbtypes.Rule
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if awserr.Code(err) == codeListenerNotFound {
			return nil, nil
		}
		if err != nil {
			return nil, awserr.Classify(fmt.Sprintf("describe rules of %s in %s", listener, region), err, listenerKind, listener)
		}
		out = append(out, page.Rules...)
	}
	return out, nil
}

// forwardsIn returns the target groups of each forward action among
// actions (ELB allows one per list), with their weights.
func forwardsIn(actions []elbtypes.Action) [][]bluegreen.WeightedTargetGroup {
	var out [][]bluegreen.WeightedTargetGroup
	for _, a := range actions {
		if groups, ok := forwardGroups(a); ok {
			out = append(out, groups)
		}
	}
	return out
}

// forwardGroups returns the target groups of a forward action with their
// weights, and whether a is one. ELB answers a one-group forward in both
// forms at once, TargetGroupArn and a ForwardConfig with weight 1, and a
// weighted one as its ForwardConfig alone; the ForwardConfig, when there,
// holds the weights. A tuple without a weight has ELB's default, 1.
func forwardGroups(a elbtypes.Action) ([]bluegreen.WeightedTargetGroup, bool) {
	if a.Type != elbtypes.ActionTypeEnumForward {
		return nil, false
	}
	if fc := a.ForwardConfig; fc != nil && len(fc.TargetGroups) > 0 {
		out := make([]bluegreen.WeightedTargetGroup, 0, len(fc.TargetGroups))
		for _, t := range fc.TargetGroups {
			w := 1
			if t.Weight != nil {
				w = int(*t.Weight)
			}
			out = append(out, bluegreen.WeightedTargetGroup{ARN: aws.ToString(t.TargetGroupArn), Weight: w})
		}
		return out, true
	}
	if arn := aws.ToString(a.TargetGroupArn); arn != "" {
		return []bluegreen.WeightedTargetGroup{{ARN: arn, Weight: 1}}, true
	}
	return nil, false
}

// SetWeights writes weights into the forward action of fwd's listener
// (its default actions, with one ModifyListener) or rule (with one
// ModifyRule), and changes nothing else: the action is read first and
// written back as read, its order, its target group stickiness and every
// other action of the list (an authentication before the forward, say)
// included. fwd names the listener or the rule; its Groups are not
// consulted, since the action is read afresh.
//
// weights must name every target group the action forwards to now: one
// left out would be dropped from the action, so SetWeights refuses, as it
// refuses an action list that no longer holds exactly one forward action.
// It may name others, which the action then gains. ELB judges the rest
// (at most five target groups, weights 0 to 999, each target group once
// and existing) and its refusals come back as errors that are neither
// transient nor not-found. Writing the weights that are already there
// succeeds and changes nothing.
//
// A listener or rule that is gone is a *rollout.NotFoundError; throttling
// and server faults are *rollout.TransientError.
func (f *Fleet) SetWeights(ctx context.Context, region string, fwd bluegreen.Forward, weights []bluegreen.WeightedTargetGroup) error {
	switch {
	case fwd.ListenerARN != "" && fwd.RuleARN != "":
		return fmt.Errorf("set forward weights: the action names both listener %s and rule %s; it is one or the other", fwd.ListenerARN, fwd.RuleARN)
	case fwd.ListenerARN == "" && fwd.RuleARN == "":
		return errors.New("set forward weights: the action names neither a listener nor a rule")
	case len(weights) == 0:
		return fmt.Errorf("set forward weights of %s: no target groups given", fwd.Owner())
	}
	tuples := make([]elbtypes.TargetGroupTuple, 0, len(weights))
	for _, w := range weights {
		// ELB checks the range; this only keeps a weight from wrapping
		// into it on the way to the SDK's int32.
		if w.Weight < math.MinInt32 || w.Weight > math.MaxInt32 {
			return fmt.Errorf("set forward weights of %s: weight %d of %s is out of range", fwd.Owner(), w.Weight, w.ARN)
		}
		tuples = append(tuples, elbtypes.TargetGroupTuple{TargetGroupArn: aws.String(w.ARN), Weight: aws.Int32(int32(w.Weight))})
	}
	elb := f.clients(region).ELB
	if fwd.RuleARN != "" {
		if err := setRuleWeights(ctx, elb, fwd.RuleARN, tuples); err != nil {
			return err
		}
	} else if err := setListenerWeights(ctx, elb, fwd.ListenerARN, tuples); err != nil {
		return err
	}
	f.changed(ctx, "set forward weights", "region", region, "owner", fwd.Owner(), "weights", weights)
	return nil
}

// setListenerWeights is SetWeights of a listener's default actions.
func setListenerWeights(ctx context.Context, elb ELBAPI, arn string, tuples []elbtypes.TargetGroupTuple) error {
	out, err := elb.DescribeListeners(ctx, &elasticloadbalancingv2.DescribeListenersInput{ListenerArns: []string{arn}})
	if err != nil {
		return awserr.Classify("describe listener "+arn, err, listenerKind, arn, codeListenerNotFound)
	}
	if len(out.Listeners) != 1 {
		return &rollout.NotFoundError{Kind: listenerKind, ID: arn}
	}
	actions, err := withWeights(out.Listeners[0].DefaultActions, tuples)
	if err != nil {
		return fmt.Errorf("set forward weights of listener %s: %w", arn, err)
	}
	_, err = elb.ModifyListener(ctx, &elasticloadbalancingv2.ModifyListenerInput{ListenerArn: aws.String(arn), DefaultActions: actions})
	return awserr.Classify("modify listener "+arn, err, listenerKind, arn, codeListenerNotFound)
}

// setRuleWeights is SetWeights of a rule's actions.
func setRuleWeights(ctx context.Context, elb ELBAPI, arn string, tuples []elbtypes.TargetGroupTuple) error {
	out, err := elb.DescribeRules(ctx, &elasticloadbalancingv2.DescribeRulesInput{RuleArns: []string{arn}})
	if err != nil {
		return awserr.Classify("describe rule "+arn, err, ruleKind, arn, codeRuleNotFound)
	}
	if len(out.Rules) != 1 {
		return &rollout.NotFoundError{Kind: ruleKind, ID: arn}
	}
	rule := out.Rules[0]
	if aws.ToBool(rule.IsDefault) {
		// ModifyRule refuses a default rule (OperationNotPermitted).
		return fmt.Errorf("set forward weights of rule %s: it is its listener's default rule; name the listener instead", arn)
	}
	actions, err := withWeights(rule.Actions, tuples)
	if err != nil {
		return fmt.Errorf("set forward weights of rule %s: %w", arn, err)
	}
	_, err = elb.ModifyRule(ctx, &elasticloadbalancingv2.ModifyRuleInput{RuleArn: aws.String(arn), Actions: actions})
	return awserr.Classify("modify rule "+arn, err, ruleKind, arn, codeRuleNotFound)
}

// withWeights returns actions, as DescribeListeners or DescribeRules
// answered them, with the one forward action's target groups replaced by
// tuples, ready to write back. The forward keeps its Order and its
// stickiness and is written as a ForwardConfig alone (ELB refuses a
// TargetGroupArn beside a ForwardConfig of several groups). ELB never
// answers an OIDC action's client secret, and ModifyListener and
// ModifyRule want it unless told to keep the one they have, so an OIDC
// action read without one is written back with UseExistingClientSecret.
// Every other action is written back as read.
func withWeights(actions []elbtypes.Action, tuples []elbtypes.TargetGroupTuple) ([]elbtypes.Action, error) {
	forwards := 0
	for _, a := range actions {
		if a.Type == elbtypes.ActionTypeEnumForward {
			forwards++
		}
	}
	if forwards != 1 {
		var types []string
		for _, a := range actions {
			types = append(types, string(a.Type))
		}
		return nil, fmt.Errorf("its actions %v hold %d forward actions, not one; the traffic split is not where the pair was read", types, forwards)
	}
	out := make([]elbtypes.Action, 0, len(actions))
	for _, a := range actions {
		switch a.Type {
		case elbtypes.ActionTypeEnumForward:
			current, _ := forwardGroups(a)
			for _, g := range current {
				if !slices.ContainsFunc(tuples, func(t elbtypes.TargetGroupTuple) bool { return aws.ToString(t.TargetGroupArn) == g.ARN }) {
					return nil, fmt.Errorf("the weights leave out target group %s, which the action forwards to (weight %d); Phoenix changes weights and will not drop a target group", g.ARN, g.Weight)
				}
			}
			fc := &elbtypes.ForwardActionConfig{TargetGroups: slices.Clone(tuples)}
			if a.ForwardConfig != nil {
				fc.TargetGroupStickinessConfig = a.ForwardConfig.TargetGroupStickinessConfig
			}
			a.TargetGroupArn, a.ForwardConfig = nil, fc
		case elbtypes.ActionTypeEnumAuthenticateOidc:
			if c := a.AuthenticateOidcConfig; c != nil && aws.ToString(c.ClientSecret) == "" {
				cp := *c
				cp.UseExistingClientSecret = aws.Bool(true)
				a.AuthenticateOidcConfig = &cp
			}
		}
		out = append(out, a)
	}
	return out, nil
}

// appendNew appends the values not in out yet, in order.
func appendNew(out []string, values ...string) []string {
	for _, v := range values {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// Resize sets a group's minimum size and desired capacity in one
// UpdateAutoScalingGroup, leaving its maximum and everything else alone: a
// blue/green rollout brings the idle group up to the live group's capacity
// and scales the old group to zero this way. Setting what is already set
// changes nothing. Auto Scaling refuses a desired capacity above the
// group's maximum (a ValidationError, neither transient nor not-found);
// Prepare checks it first.
func (f *Fleet) Resize(ctx context.Context, key rollout.GroupKey, minSize, desired int) error {
	if minSize < 0 || desired < minSize || desired > math.MaxInt32 {
		return fmt.Errorf("resize %s: minimum %d and desired %d make no group", key, minSize, desired)
	}
	_, err := f.clients(key.Region).AutoScaling.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(key.Name),
		MinSize:              aws.Int32(int32(minSize)),
		DesiredCapacity:      aws.Int32(int32(desired)),
	})
	if err != nil {
		return classifyGroupCall("resize", key, err)
	}
	f.changed(ctx, "resized group", "region", key.Region, "group", key.Name, "minSize", minSize, "desiredCapacity", desired)
	return nil
}
