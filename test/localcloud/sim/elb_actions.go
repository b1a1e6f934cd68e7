package sim

import (
	"fmt"
	"hash/fnv"
	"slices"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

// Limits of listener actions and rules, from the Elastic Load Balancing API
// reference (TargetGroupTuple: weight 0-999; TargetGroupStickinessConfig:
// 1-604800 seconds; RulePriority and ActionOrder: 1-50000) and the quotas
// of Application Load Balancers (5 target groups per action, 100 rules per
// load balancer not counting default rules, 5 condition values per rule).
const (
	maxTargetGroupsPerAction = 5
	maxTargetGroupWeight     = 999
	maxStickinessSeconds     = 604800
	maxRulePriority          = 50000
	maxActionOrder           = 50000
	maxRulesPerLoadBalancer  = 100
	maxConditionValues       = 5
)

// normalizeActions checks a listener's default actions or a rule's actions
// and returns them as Elastic Load Balancing describes them, with the
// target groups they forward to.
//
// A forward action comes back in both of its forms whenever it names one
// target group: TargetGroupArn and a ForwardConfig listing that group with
// weight 1 (or the weight given) and TargetGroupStickinessConfig
// {Enabled: false}, which is what ELB answers whichever form was sent (the
// Terraform AWS provider's listener.go: "AWS returns ARNs in both the
// default action (top-level) and in at least one forward action,
// regardless of whether a forward is actually defined";
// ansible-collections/community.aws#317 shows the same answer). A forward
// to several target groups comes back as its ForwardConfig alone.
//
// member names the list in error messages: "defaultActions" or "actions".
func normalizeActions(in []elbtypes.Action, member string) ([]elbtypes.Action, []string, error) {
	out := make([]elbtypes.Action, 0, len(in))
	var arns []string
	routing := 0
	for i, a := range in {
		at := fmt.Sprintf("%s.%d.member", member, i+1)
		if a.Order != nil && (*a.Order < 1 || *a.Order > maxActionOrder) {
			return nil, nil, api.Validation("1 validation error detected: Value '%d' at '%s.order' failed to satisfy constraint: Member must have value between 1 and %d", *a.Order, at, maxActionOrder)
		}
		if a.AuthenticateCognitoConfig != nil || a.AuthenticateOidcConfig != nil || a.JwtValidationConfig != nil {
			return nil, nil, api.Validation("The local cloud does not model authentication or JWT validation actions (%s)", at)
		}
		n := a
		switch a.Type {
		case elbtypes.ActionTypeEnumForward:
			if a.FixedResponseConfig != nil || a.RedirectConfig != nil {
				return nil, nil, api.Validation("A forward action takes a target group ARN or a ForwardConfig only (%s)", at)
			}
			f, groups, err := normalizeForward(a, at)
			if err != nil {
				return nil, nil, err
			}
			n = f
			for _, g := range groups {
				if !contains(arns, g) {
					arns = append(arns, g)
				}
			}
		case elbtypes.ActionTypeEnumFixedResponse, elbtypes.ActionTypeEnumRedirect:
			if a.TargetGroupArn != nil || a.ForwardConfig != nil {
				return nil, nil, api.Validation("A target group can be specified only for a forward action (%s)", at)
			}
			if a.Type == elbtypes.ActionTypeEnumFixedResponse && a.FixedResponseConfig == nil {
				return nil, nil, api.Validation("A fixed-response action needs a FixedResponseConfig (%s)", at)
			}
			if a.Type == elbtypes.ActionTypeEnumRedirect && a.RedirectConfig == nil {
				return nil, nil, api.Validation("A redirect action needs a RedirectConfig (%s)", at)
			}
			if c := a.FixedResponseConfig; c != nil {
				cp := *c
				n.FixedResponseConfig = &cp
			}
			if c := a.RedirectConfig; c != nil {
				cp := *c
				n.RedirectConfig = &cp
			}
		case "":
			return nil, nil, api.Validation("An action type must be specified (%s)", at)
		default:
			return nil, nil, api.Validation("The local cloud does not model '%s' actions", a.Type)
		}
		if a.Order != nil {
			n.Order = aws.Int32(*a.Order)
		}
		routing++
		out = append(out, n)
	}
	if routing > 1 {
		// The API reference (Action): "Each rule must include exactly
		// one of the following routing actions: forward, fixed-response,
		// or redirect"; the other action types are not modelled.
		return nil, nil, elbErr("InvalidLoadBalancerAction", "A rule must include exactly one forward, redirect or fixed-response action; %d were given", routing)
	}
	return out, arns, nil
}

// normalizeForward checks one forward action (see normalizeActions) and
// returns it in ELB's answer form with its target groups in order.
func normalizeForward(a elbtypes.Action, at string) (elbtypes.Action, []string, error) {
	single := aws.ToString(a.TargetGroupArn)
	var tuples []elbtypes.TargetGroupTuple
	var sticky *elbtypes.TargetGroupStickinessConfig
	if fc := a.ForwardConfig; fc != nil {
		tuples, sticky = fc.TargetGroups, fc.TargetGroupStickinessConfig
	}
	switch {
	case single == "" && len(tuples) == 0:
		return a, nil, api.Validation("A target group ARN must be specified for a forward action")
	case single != "" && len(tuples) > 1:
		// API reference (Action.ForwardConfig): "If you specify both
		// ForwardConfig and TargetGroupArn, you can specify only one target
		// group using ForwardConfig".
		return a, nil, api.Validation("With both a target group ARN and a ForwardConfig, the ForwardConfig can list only that one target group (%s)", at)
	case single != "" && len(tuples) == 1 && aws.ToString(tuples[0].TargetGroupArn) != single:
		// "... and it must be the same target group specified in
		// TargetGroupArn".
		return a, nil, api.Validation("The target group ARN '%s' and the target group '%s' in ForwardConfig must be the same (%s)", single, aws.ToString(tuples[0].TargetGroupArn), at)
	case len(tuples) > maxTargetGroupsPerAction:
		return a, nil, api.Validation("A forward action can distribute requests among at most %d target groups, not %d (%s)", maxTargetGroupsPerAction, len(tuples), at)
	}
	if len(tuples) == 0 {
		tuples = []elbtypes.TargetGroupTuple{{TargetGroupArn: aws.String(single)}}
	}
	groups := make([]elbtypes.TargetGroupTuple, 0, len(tuples))
	var arns []string
	for j, t := range tuples {
		arn := aws.ToString(t.TargetGroupArn)
		if arn == "" {
			return a, nil, api.Validation("A target group ARN must be specified for each target group of a ForwardConfig (%s.forwardConfig.targetGroups.%d)", at, j+1)
		}
		if contains(arns, arn) {
			return a, nil, api.Validation("Target group '%s' is specified more than once in one forward action", arn)
		}
		// The weight defaults to 1, as moto applies and as the forward
		// action of VPC Lattice documents; the ELB reference is silent.
		weight := int32(1)
		if t.Weight != nil {
			weight = *t.Weight
		}
		if weight < 0 || weight > maxTargetGroupWeight {
			return a, nil, api.Validation("1 validation error detected: Value '%d' at '%s.forwardConfig.targetGroups.%d.member.weight' failed to satisfy constraint: Member must have value between 0 and %d", weight, at, j+1, maxTargetGroupWeight)
		}
		arns = append(arns, arn)
		groups = append(groups, elbtypes.TargetGroupTuple{TargetGroupArn: aws.String(arn), Weight: aws.Int32(weight)})
	}
	st := &elbtypes.TargetGroupStickinessConfig{Enabled: aws.Bool(false)}
	if sticky != nil {
		if d := sticky.DurationSeconds; d != nil {
			if *d < 1 || *d > maxStickinessSeconds {
				return a, nil, api.Validation("Target group stickiness duration must be between 1 and %d seconds, not %d (%s)", maxStickinessSeconds, *d, at)
			}
			st.DurationSeconds = aws.Int32(*d)
		}
		if aws.ToBool(sticky.Enabled) {
			// TargetGroupStickinessConfig.DurationSeconds: "You must
			// specify this value when enabling target group stickiness."
			if sticky.DurationSeconds == nil {
				return a, nil, api.Validation("A duration must be specified when target group stickiness is enabled (%s)", at)
			}
			st.Enabled = aws.Bool(true)
		}
	}
	n := elbtypes.Action{
		Type:          elbtypes.ActionTypeEnumForward,
		ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: groups, TargetGroupStickinessConfig: st},
	}
	if len(groups) == 1 {
		n.TargetGroupArn = aws.String(arns[0])
	}
	return n, arns, nil
}

// checkActionTargets checks the target groups an action list of lb forwards
// to: each exists, serves no other load balancer, and lies in the VPC of
// the target groups lb keeps using (others). The local cloud gives load
// balancers a VPC id of its own and does not model VPCs, so the target
// groups a load balancer already uses stand for its VPC.
func (w *World) checkActionTargets(r *Region, lb *LoadBalancer, arns, others []string) error {
	for _, arn := range arns {
		tg, ok := r.TargetGroups[arn]
		if !ok {
			return tgNotFound()
		}
		for _, other := range w.tgLoadBalancers(r, tg) {
			if other != lb.ARN {
				return elbErr("TargetGroupAssociationLimit", "The following target groups cannot be associated with more than one load balancer: %s", arn)
			}
		}
	}
	vpc := ""
	for _, arn := range others {
		if tg, ok := r.TargetGroups[arn]; ok {
			vpc = tg.VpcID
			break
		}
	}
	for _, arn := range arns {
		tg := r.TargetGroups[arn]
		if vpc == "" {
			vpc = tg.VpcID
			continue
		}
		if tg.VpcID != vpc {
			// The answer AWS gives (kubernetes-sigs/aws-load-balancer-
			// controller#1045).
			return elbErr("InvalidConfigurationRequest", "Target group '%s' is in a different VPC than load balancer '%s'", arn, lb.ARN)
		}
	}
	return nil
}

// lbTargetGroupsBut returns the target groups lb's listeners and rules
// forward to, leaving out one part of listener l that is being replaced:
// its default actions (skip is l.DefaultRuleARN) or one of its rules (skip
// is the rule's ARN). With l nil nothing is left out.
func (w *World) lbTargetGroupsBut(r *Region, lbARN string, l *Listener, skip string) []string {
	var out []string
	add := func(actions []elbtypes.Action) {
		for _, arn := range forwardTargets(actions) {
			if !contains(out, arn) {
				out = append(out, arn)
			}
		}
	}
	for _, other := range sortedListeners(w.listenersOf(r)) {
		if other.LoadBalancerARN != lbARN {
			continue
		}
		if l == nil || other != l || skip != l.DefaultRuleARN {
			add(other.actions)
		}
		for _, rule := range other.sortedRules() {
			if l == nil || other != l || skip != rule.ARN {
				add(rule.actions)
			}
		}
	}
	return out
}

// forwardTargets returns the target groups normalized actions forward to.
func forwardTargets(actions []elbtypes.Action) []string {
	var out []string
	for _, a := range actions {
		if a.Type != elbtypes.ActionTypeEnumForward || a.ForwardConfig == nil {
			continue
		}
		for _, t := range a.ForwardConfig.TargetGroups {
			if arn := aws.ToString(t.TargetGroupArn); !contains(out, arn) {
				out = append(out, arn)
			}
		}
	}
	return out
}

// refreshTargetGroups recomputes TargetGroupARNs from the default actions
// and the rules, and returns the target groups that were or are used, for
// tgUseChanged to re-evaluate.
func (l *Listener) refreshTargetGroups() []string {
	old := l.TargetGroupARNs
	now := forwardTargets(l.actions)
	for _, rule := range l.sortedRules() {
		for _, arn := range forwardTargets(rule.actions) {
			if !contains(now, arn) {
				now = append(now, arn)
			}
		}
	}
	l.TargetGroupARNs = now
	touched := slices.Clone(old)
	for _, arn := range now {
		if !contains(touched, arn) {
			touched = append(touched, arn)
		}
	}
	return touched
}

// sortedRules returns the listener's non-default rules by priority.
func (l *Listener) sortedRules() []*ListenerRule {
	out := make([]*ListenerRule, 0, len(l.rules))
	for _, rule := range l.rules {
		out = append(out, rule)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Priority < out[j].Priority })
	return out
}

// sortedListeners returns listeners in creation order.
func sortedListeners(m map[string]*Listener) []*Listener {
	out := make([]*Listener, 0, len(m))
	for _, l := range m {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// cloneActions deep-copies actions, so that a caller in process can neither
// change the model's actions nor see later changes in what it was given.
func cloneActions(in []elbtypes.Action) []elbtypes.Action {
	out := make([]elbtypes.Action, len(in))
	for i, a := range in {
		if a.TargetGroupArn != nil {
			a.TargetGroupArn = aws.String(*a.TargetGroupArn)
		}
		if a.Order != nil {
			a.Order = aws.Int32(*a.Order)
		}
		if fc := a.ForwardConfig; fc != nil {
			cp := elbtypes.ForwardActionConfig{}
			for _, t := range fc.TargetGroups {
				cp.TargetGroups = append(cp.TargetGroups, elbtypes.TargetGroupTuple{TargetGroupArn: aws.String(aws.ToString(t.TargetGroupArn)), Weight: aws.Int32(aws.ToInt32(t.Weight))})
			}
			if s := fc.TargetGroupStickinessConfig; s != nil {
				st := elbtypes.TargetGroupStickinessConfig{Enabled: aws.Bool(aws.ToBool(s.Enabled))}
				if s.DurationSeconds != nil {
					st.DurationSeconds = aws.Int32(*s.DurationSeconds)
				}
				cp.TargetGroupStickinessConfig = &st
			}
			a.ForwardConfig = &cp
		}
		if c := a.FixedResponseConfig; c != nil {
			cp := *c
			a.FixedResponseConfig = &cp
		}
		if c := a.RedirectConfig; c != nil {
			cp := *c
			a.RedirectConfig = &cp
		}
		out[i] = a
	}
	return out
}

// defaultRuleARN returns the ARN of a listener's default rule. It is
// derived from the listener's ARN rather than drawn from the World's
// source, so that adding default rules shifted no id the model hands out.
func defaultRuleARN(listenerARN string) string {
	h := fnv.New64a()
	h.Write([]byte(listenerARN + "/default"))
	return ruleARN(listenerARN, fmt.Sprintf("%016x", h.Sum64()))
}
