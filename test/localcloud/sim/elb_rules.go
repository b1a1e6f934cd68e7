package sim

import (
	"context"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

func ruleNotFound() error {
	return elbErr("RuleNotFound", "One or more rules not found")
}

// ruleARN is the ARN of a rule of a listener: the listener's ARN with
// listener-rule for listener, and the rule's own 16 hex digits appended.
func ruleARN(listenerARN, hex string) string {
	return strings.Replace(listenerARN, ":listener/", ":listener-rule/", 1) + "/" + hex
}

// findRule returns a rule's listener and the rule; the rule is nil for a
// listener's default rule.
func (w *World) findRule(r *Region, arn string) (*Listener, *ListenerRule, error) {
	if arn == "" {
		return nil, nil, api.Validation("A rule ARN must be specified")
	}
	for _, l := range w.listenersOf(r) {
		if l.DefaultRuleARN == arn {
			return l, nil, nil
		}
		if rule, ok := l.rules[arn]; ok {
			return l, rule, nil
		}
	}
	return nil, nil, ruleNotFound()
}

// renderRule answers a rule as DescribeRules does; a nil rule is l's
// default rule: priority "default", no conditions, the default actions.
func renderRule(l *Listener, rule *ListenerRule) elbtypes.Rule {
	if rule == nil {
		return elbtypes.Rule{
			RuleArn: aws.String(l.DefaultRuleARN), Priority: aws.String("default"), IsDefault: aws.Bool(true),
			Conditions: []elbtypes.RuleCondition{}, Actions: cloneActions(l.actions),
		}
	}
	return elbtypes.Rule{
		RuleArn: aws.String(rule.ARN), Priority: aws.String(strconv.Itoa(int(rule.Priority))), IsDefault: aws.Bool(false),
		Conditions: cloneConditions(rule.Conditions), Actions: cloneActions(rule.actions),
	}
}

// ModifyListener replaces what it is given of a listener: its port, its
// protocol (HTTP or HTTPS; HTTPS needs a certificate when the listener was
// HTTP) and its default actions, which are checked as CreateListener
// checks them (normalizeActions, checkActionTargets). Target groups that
// start or stop being used start or stop health checking their targets.
// Security policies, ALPN policies and mutual authentication are not
// modelled and are refused.
func (e *ELB) ModifyListener(ctx context.Context, in *elb.ModifyListenerInput, _ ...func(*elb.Options)) (*elb.ModifyListenerOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	l, ok := w.listenersOf(r)[aws.ToString(in.ListenerArn)]
	if !ok {
		return nil, listenerNotFound()
	}
	switch {
	case in.SslPolicy != nil:
		return nil, api.Validation("The local cloud does not model security policies (SslPolicy)")
	case len(in.AlpnPolicy) > 0:
		return nil, api.Validation("The local cloud does not model ALPN policies (AlpnPolicy)")
	case in.MutualAuthentication != nil:
		return nil, api.Validation("The local cloud does not model mutual authentication (MutualAuthentication)")
	}
	port, proto := l.Port, l.Protocol
	if in.Port != nil {
		if *in.Port < 1 || *in.Port > 65535 {
			return nil, api.Validation("A listener port must be specified between 1 and 65535")
		}
		port = *in.Port
	}
	if in.Protocol != "" {
		proto = string(in.Protocol)
		if proto != "HTTP" && proto != "HTTPS" {
			return nil, api.Validation("Listener protocol '%s' must be one of 'HTTPS, HTTP'", proto)
		}
	}
	if proto == "HTTPS" && l.Protocol != "HTTPS" && len(in.Certificates) == 0 {
		return nil, api.Validation("A certificate must be specified for HTTPS listeners")
	}
	lb := w.loadBalancers(r)[l.LoadBalancerARN]
	var actions []elbtypes.Action
	if len(in.DefaultActions) > 0 {
		var arns []string
		var err error
		if actions, arns, err = normalizeActions(in.DefaultActions, "defaultActions"); err != nil {
			return nil, err
		}
		if err := w.checkActionTargets(r, lb, arns, w.lbTargetGroupsBut(r, lb.ARN, l, l.DefaultRuleARN)); err != nil {
			return nil, err
		}
	}
	if port != l.Port {
		for _, other := range w.listenersOf(r) {
			if other != l && other.LoadBalancerARN == lb.ARN && other.Port == port {
				return nil, elbErr("DuplicateListener", "A listener already exists on this port for this load balancer '%s'", lb.ARN)
			}
		}
	}
	l.Port, l.Protocol = port, proto
	if actions != nil {
		l.actions = actions
	}
	w.tgUseChanged(r, l.refreshTargetGroups())
	return &elb.ModifyListenerOutput{Listeners: []elbtypes.Listener{renderListener(l)}}, nil
}

// CreateRule adds a rule to a listener: conditions (checkConditions), a
// priority from 1 to 50000 that no other rule of the listener has
// (PriorityInUse), and actions checked as a listener's default actions
// are. A load balancer holds at most 100 rules besides its default rules
// (TooManyRules). Transforms are not modelled and are refused.
func (e *ELB) CreateRule(ctx context.Context, in *elb.CreateRuleInput, _ ...func(*elb.Options)) (*elb.CreateRuleOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	l, ok := w.listenersOf(r)[aws.ToString(in.ListenerArn)]
	if !ok {
		return nil, listenerNotFound()
	}
	if len(in.Transforms) > 0 {
		return nil, api.Validation("The local cloud does not model rule transforms (Transforms)")
	}
	if in.Priority == nil {
		return nil, api.Validation("A rule priority must be specified")
	}
	p := *in.Priority
	if p < 1 || p > maxRulePriority {
		return nil, api.Validation("1 validation error detected: Value '%d' at 'priority' failed to satisfy constraint: Member must have value between 1 and %d", p, maxRulePriority)
	}
	if err := checkConditions(in.Conditions); err != nil {
		return nil, err
	}
	if len(in.Actions) == 0 {
		return nil, api.Validation("At least one action must be specified")
	}
	actions, arns, err := normalizeActions(in.Actions, "actions")
	if err != nil {
		return nil, err
	}
	if err := checkTagList(in.Tags); err != nil {
		return nil, err
	}
	for _, rule := range l.rules {
		if rule.Priority == p {
			return nil, elbErr("PriorityInUse", "Priority '%d' is currently in use", p)
		}
	}
	lb := w.loadBalancers(r)[l.LoadBalancerARN]
	if err := w.checkActionTargets(r, lb, arns, w.lbTargetGroupsBut(r, lb.ARN, nil, "")); err != nil {
		return nil, err
	}
	n := 0
	for _, other := range w.listenersOf(r) {
		if other.LoadBalancerARN == lb.ARN {
			n += len(other.rules)
		}
	}
	if n >= maxRulesPerLoadBalancer {
		return nil, elbErr("TooManyRules", "The load balancer '%s' already has the maximum of %d rules", lb.ARN, maxRulesPerLoadBalancer)
	}
	rule := &ListenerRule{
		ARN: ruleARN(l.ARN, w.elbHex()), ListenerARN: l.ARN, Priority: p,
		Conditions: cloneConditions(in.Conditions), Tags: elbTagMap(in.Tags), actions: actions,
	}
	if l.rules == nil {
		l.rules = map[string]*ListenerRule{}
	}
	l.rules[rule.ARN] = rule
	w.tgUseChanged(r, l.refreshTargetGroups())
	return &elb.CreateRuleOutput{Rules: []elbtypes.Rule{renderRule(l, rule)}}, nil
}

// DescribeRules describes the rules of one listener, by priority with the
// default rule last, or the rules given by ARN, in the order given.
func (e *ELB) DescribeRules(ctx context.Context, in *elb.DescribeRulesInput, _ ...func(*elb.Options)) (*elb.DescribeRulesOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	lARN := aws.ToString(in.ListenerArn)
	switch {
	case lARN != "" && len(in.RuleArns) > 0:
		return nil, api.Validation("Listener rule ARNs and a listener ARN cannot be specified at the same time")
	case lARN == "" && len(in.RuleArns) == 0:
		return nil, api.Validation("You must specify either listener rule ARNs or a listener ARN")
	}
	type entry struct {
		l    *Listener
		rule *ListenerRule
	}
	var list []entry
	if lARN != "" {
		l, ok := w.listenersOf(r)[lARN]
		if !ok {
			return nil, listenerNotFound()
		}
		for _, rule := range l.sortedRules() {
			list = append(list, entry{l, rule})
		}
		list = append(list, entry{l, nil})
	} else {
		for _, arn := range in.RuleArns {
			l, rule, err := w.findRule(r, arn)
			if err != nil {
				return nil, err
			}
			list = append(list, entry{l, rule})
		}
	}
	lo, hi, next, err := elbPage(in.Marker, in.PageSize, len(list))
	if err != nil {
		return nil, err
	}
	out := &elb.DescribeRulesOutput{Rules: []elbtypes.Rule{}, NextMarker: next}
	for _, e := range list[lo:hi] {
		out.Rules = append(out.Rules, renderRule(e.l, e.rule))
	}
	return out, nil
}

// ModifyRule replaces a rule's conditions, its actions, or both, each
// checked as CreateRule checks them. The default rule is changed through
// ModifyListener: ModifyRule refuses it with OperationNotPermitted.
// ResetTransforms is accepted (the rule has no transforms); Transforms are
// refused.
func (e *ELB) ModifyRule(ctx context.Context, in *elb.ModifyRuleInput, _ ...func(*elb.Options)) (*elb.ModifyRuleOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	l, rule, err := w.findRule(r, aws.ToString(in.RuleArn))
	if err != nil {
		return nil, err
	}
	if rule == nil {
		return nil, elbErr("OperationNotPermitted", "The default rule cannot be modified; change a listener's default actions with ModifyListener")
	}
	if len(in.Transforms) > 0 {
		return nil, api.Validation("The local cloud does not model rule transforms (Transforms)")
	}
	if len(in.Conditions) == 0 && len(in.Actions) == 0 && !aws.ToBool(in.ResetTransforms) {
		return nil, api.Validation("Either conditions or actions must be specified")
	}
	if len(in.Conditions) > 0 {
		if err := checkConditions(in.Conditions); err != nil {
			return nil, err
		}
	}
	var actions []elbtypes.Action
	if len(in.Actions) > 0 {
		var arns []string
		if actions, arns, err = normalizeActions(in.Actions, "actions"); err != nil {
			return nil, err
		}
		lb := w.loadBalancers(r)[l.LoadBalancerARN]
		if err := w.checkActionTargets(r, lb, arns, w.lbTargetGroupsBut(r, lb.ARN, l, rule.ARN)); err != nil {
			return nil, err
		}
	}
	if len(in.Conditions) > 0 {
		rule.Conditions = cloneConditions(in.Conditions)
	}
	if actions != nil {
		rule.actions = actions
	}
	w.tgUseChanged(r, l.refreshTargetGroups())
	return &elb.ModifyRuleOutput{Rules: []elbtypes.Rule{renderRule(l, rule)}}, nil
}

// DeleteRule deletes a rule; the default rule cannot be deleted
// (OperationNotPermitted, as the API reference says).
func (e *ELB) DeleteRule(ctx context.Context, in *elb.DeleteRuleInput, _ ...func(*elb.Options)) (*elb.DeleteRuleOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	l, rule, err := w.findRule(r, aws.ToString(in.RuleArn))
	if err != nil {
		return nil, err
	}
	if rule == nil {
		return nil, elbErr("OperationNotPermitted", "The default rule of a listener cannot be deleted")
	}
	delete(l.rules, rule.ARN)
	w.tgUseChanged(r, l.refreshTargetGroups())
	return &elb.DeleteRuleOutput{}, nil
}

// conditionFields are the condition fields of Application Load Balancer
// rules; single says whether a rule may have at most one condition of the
// field (RuleCondition in the API reference).
var conditionFields = map[string]struct{ single bool }{
	"host-header":         {true},
	"path-pattern":        {true},
	"http-request-method": {true},
	"source-ip":           {true},
	"http-header":         {false},
	"query-string":        {false},
}

// checkConditions checks a rule's conditions: at least one; each names a
// known field and carries the configuration of that field and no other;
// host-header and path-pattern take Values (one value) or their Config, not
// both, and RegexValues; http-header a header name of 1-40 characters; all
// values of at most 128 characters and regular expressions that
// compile; at most one condition of each single-use field; at most 5
// condition values in all (the Application Load Balancer quota).
// Conditions are stored as given.
func checkConditions(conds []elbtypes.RuleCondition) error {
	if len(conds) == 0 {
		return api.Validation("At least one condition must be specified")
	}
	seen := map[string]bool{}
	values := 0
	for _, c := range conds {
		f := aws.ToString(c.Field)
		spec, ok := conditionFields[f]
		switch {
		case f == "":
			return api.Validation("A condition field must be specified")
		case !ok:
			return api.Validation("Condition field '%s' must be one of '[http-header, http-request-method, host-header, path-pattern, query-string, source-ip]'", f)
		case spec.single && seen[f]:
			return api.Validation("A rule can have only one '%s' condition", f)
		}
		seen[f] = true
		configs := map[string]bool{
			"host-header": c.HostHeaderConfig != nil, "path-pattern": c.PathPatternConfig != nil,
			"http-header": c.HttpHeaderConfig != nil, "http-request-method": c.HttpRequestMethodConfig != nil,
			"query-string": c.QueryStringConfig != nil, "source-ip": c.SourceIpConfig != nil,
		}
		for _, other := range slices.Sorted(maps.Keys(configs)) {
			if configs[other] && other != f {
				return api.Validation("A '%s' condition cannot carry the configuration of '%s'", f, other)
			}
		}
		var vals, regexes []string
		switch f {
		case "host-header", "path-pattern":
			cfgVals, cfgRegex := conditionPatterns(c)
			if len(c.Values) > 0 && configs[f] {
				return api.Validation("You cannot provide both Values and the '%s' configuration for a condition of type '%s'", f, f)
			}
			if len(c.Values) > 1 {
				return api.Validation("The '%s' field contains too many values; the limit is '1'", f)
			}
			vals, regexes = append(slices.Clone(c.Values), cfgVals...), append(slices.Clone(c.RegexValues), cfgRegex...)
		default:
			if len(c.Values) > 0 {
				return api.Validation("The 'Values' field is not compatible with '%s'", f)
			}
			if len(c.RegexValues) > 0 && f != "http-header" {
				return api.Validation("The 'RegexValues' field is not compatible with '%s'", f)
			}
			if !configs[f] {
				return api.Validation("A '%s' condition needs its configuration", f)
			}
			vals = conditionConfigValues(c)
			if f == "http-header" {
				if name := aws.ToString(c.HttpHeaderConfig.HttpHeaderName); name == "" || len(name) > 40 {
					return api.Validation("An http-header condition needs a header name of 1-40 characters")
				}
				regexes = append(slices.Clone(c.RegexValues), c.HttpHeaderConfig.RegexValues...)
			}
		}
		if len(vals)+len(regexes) == 0 {
			return api.Validation("A condition value must be specified for '%s'", f)
		}
		for _, v := range append(slices.Clone(vals), regexes...) {
			if len(v) > 128 {
				return api.Validation("The '%s' value is too long; the limit is '128'", f)
			}
		}
		for _, re := range regexes {
			if _, err := regexp.Compile(re); err != nil {
				return api.Validation("The regular expression '%s' of a '%s' condition is not valid", re, f)
			}
		}
		values += len(vals) + len(regexes)
	}
	if values > maxConditionValues {
		return api.Validation("A rule can have at most %d condition values, not %d", maxConditionValues, values)
	}
	return nil
}

// conditionPatterns returns the configured patterns and regular expressions
// of a host-header or path-pattern condition.
func conditionPatterns(c elbtypes.RuleCondition) (vals, regexes []string) {
	switch {
	case c.HostHeaderConfig != nil:
		return c.HostHeaderConfig.Values, c.HostHeaderConfig.RegexValues
	case c.PathPatternConfig != nil:
		return c.PathPatternConfig.Values, c.PathPatternConfig.RegexValues
	}
	return nil, nil
}

// conditionConfigValues returns the values of the other condition fields'
// configurations.
func conditionConfigValues(c elbtypes.RuleCondition) []string {
	switch {
	case c.HttpHeaderConfig != nil:
		return c.HttpHeaderConfig.Values
	case c.HttpRequestMethodConfig != nil:
		return c.HttpRequestMethodConfig.Values
	case c.SourceIpConfig != nil:
		return c.SourceIpConfig.Values
	case c.QueryStringConfig != nil:
		var out []string
		for _, kv := range c.QueryStringConfig.Values {
			out = append(out, aws.ToString(kv.Key)+"="+aws.ToString(kv.Value))
		}
		return out
	}
	return nil
}

// cloneConditions deep-copies rule conditions.
func cloneConditions(in []elbtypes.RuleCondition) []elbtypes.RuleCondition {
	out := make([]elbtypes.RuleCondition, len(in))
	for i, c := range in {
		c.Values = slices.Clone(c.Values)
		c.RegexValues = slices.Clone(c.RegexValues)
		if p := c.HostHeaderConfig; p != nil {
			c.HostHeaderConfig = &elbtypes.HostHeaderConditionConfig{Values: slices.Clone(p.Values), RegexValues: slices.Clone(p.RegexValues)}
		}
		if p := c.PathPatternConfig; p != nil {
			c.PathPatternConfig = &elbtypes.PathPatternConditionConfig{Values: slices.Clone(p.Values), RegexValues: slices.Clone(p.RegexValues)}
		}
		if p := c.HttpHeaderConfig; p != nil {
			c.HttpHeaderConfig = &elbtypes.HttpHeaderConditionConfig{HttpHeaderName: p.HttpHeaderName, Values: slices.Clone(p.Values), RegexValues: slices.Clone(p.RegexValues)}
		}
		if p := c.HttpRequestMethodConfig; p != nil {
			c.HttpRequestMethodConfig = &elbtypes.HttpRequestMethodConditionConfig{Values: slices.Clone(p.Values)}
		}
		if p := c.QueryStringConfig; p != nil {
			c.QueryStringConfig = &elbtypes.QueryStringConditionConfig{Values: slices.Clone(p.Values)}
		}
		if p := c.SourceIpConfig; p != nil {
			c.SourceIpConfig = &elbtypes.SourceIpConditionConfig{Values: slices.Clone(p.Values)}
		}
		out[i] = c
	}
	return out
}

// matchesSyntheticRequest reports whether a rule's conditions all match the
// request the traffic model sends: GET / with the load balancer's DNS name
// as Host, no query string, no other header, from an address no source-ip
// condition names. path-pattern and host-header patterns match with * and ?
// wildcards (paths case-sensitively, hosts not) or their regular
// expressions; http-request-method matches GET; http-header, query-string
// and source-ip conditions never match, so a rule on them reaches its
// target groups only for callers that send such requests themselves.
func (rule *ListenerRule) matchesSyntheticRequest(host string) bool {
	for _, c := range rule.Conditions {
		var subject string
		switch aws.ToString(c.Field) {
		case "path-pattern":
			subject = "/"
		case "host-header":
			subject = strings.ToLower(host)
		case "http-request-method":
			if c.HttpRequestMethodConfig == nil || !slices.Contains(c.HttpRequestMethodConfig.Values, "GET") {
				return false
			}
			continue
		default:
			return false
		}
		vals, regexes := conditionPatterns(c)
		vals = append(slices.Clone(c.Values), vals...)
		regexes = append(slices.Clone(c.RegexValues), regexes...)
		matched := false
		for _, v := range vals {
			if aws.ToString(c.Field) == "host-header" {
				v = strings.ToLower(v)
			}
			if globMatch(v, subject) {
				matched = true
			}
		}
		for _, re := range regexes {
			if ok, err := regexp.MatchString(re, subject); err == nil && ok {
				matched = true
			}
		}
		if !matched {
			return false
		}
	}
	return true
}

// globMatch matches s against a pattern where * matches any run of
// characters and ? exactly one.
func globMatch(pattern, s string) bool {
	var b strings.Builder
	b.WriteString("^")
	for _, ch := range pattern {
		switch ch {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(ch)))
		}
	}
	b.WriteString("$")
	ok, err := regexp.MatchString(b.String(), s)
	return err == nil && ok
}
