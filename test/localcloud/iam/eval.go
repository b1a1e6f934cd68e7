package iam

import (
	"strings"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/internal/wildcard"
)

// Request is one authorization IAM makes: a principal asks to perform an
// action on one resource, with the condition keys the request supplies.
// An operation that touches several resources (RunInstances) is several
// Requests, all of which must be allowed.
type Request struct {
	// Action is "service:Operation", e.g. "autoscaling:UpdateAutoScalingGroup".
	Action string
	// Resource is the ARN the action is authorized against, or "*" for an
	// action without resource-level permissions.
	Resource string
	// Context holds the condition keys the request supplies. Keys are
	// matched case-insensitively; a key with several values is
	// multivalued (aws:TagKeys).
	Context map[string][]string
}

// Decision is the outcome of an evaluation.
type Decision int

// The three outcomes: no statement allows (an implicit deny), a statement
// allows and none denies, or a statement denies explicitly.
const (
	ImplicitDeny Decision = iota
	Allowed
	ExplicitDeny
)

func (d Decision) String() string {
	switch d {
	case Allowed:
		return "Allowed"
	case ExplicitDeny:
		return "ExplicitDeny"
	}
	return "ImplicitDeny"
}

// Result is a decision and the statement that made it (none for an
// implicit deny).
type Result struct {
	Decision  Decision
	Policy    string
	Statement string
}

// Evaluate decides r under policies as IAM evaluates identity-based
// policies: an explicit Deny in any matching statement wins, otherwise a
// matching Allow allows, otherwise the request is implicitly denied.
func Evaluate(policies []*Policy, r Request) Result {
	ctx := make(map[string][]string, len(r.Context))
	for k, v := range r.Context {
		ctx[strings.ToLower(k)] = v
	}
	var allow *Result
	for _, p := range policies {
		for _, st := range p.Statements {
			if !st.matches(r.Action, r.Resource, ctx) {
				continue
			}
			if st.Effect == Deny {
				return Result{Decision: ExplicitDeny, Policy: p.Name, Statement: st.Sid}
			}
			if allow == nil {
				allow = &Result{Decision: Allowed, Policy: p.Name, Statement: st.Sid}
			}
		}
	}
	if allow != nil {
		return *allow
	}
	return Result{Decision: ImplicitDeny}
}

func (st *Statement) matches(action, resource string, ctx map[string][]string) bool {
	if st.Action != nil && !anyMatch(st.Action, action, true) {
		return false
	}
	if st.NotAction != nil && anyMatch(st.NotAction, action, true) {
		return false
	}
	if st.Resource != nil && !anyMatch(st.Resource, resource, false) {
		return false
	}
	if st.NotResource != nil && anyMatch(st.NotResource, resource, false) {
		return false
	}
	for i := range st.Conditions {
		if !st.Conditions[i].holds(ctx) {
			return false
		}
	}
	return true
}

// anyMatch reports whether one of the patterns matches s. Actions are
// matched case-insensitively, resources case-sensitively, as IAM does.
func anyMatch(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			if glob(strings.ToLower(p), strings.ToLower(s)) {
				return true
			}
		} else if glob(p, s) {
			return true
		}
	}
	return false
}

// holds evaluates one condition against the request context.
func (c *Condition) holds(ctx map[string][]string) bool {
	vals, present := ctx[strings.ToLower(c.Key)]
	if c.op.name == "Null" {
		// Null: true means the key must be absent.
		want := len(c.Values) > 0 && strings.EqualFold(c.Values[0], "true")
		return want == !present
	}
	switch c.set {
	case "ForAllValues":
		// Every value in the request must match one of the condition's;
		// an absent or empty key holds vacuously, as in IAM.
		for _, v := range vals {
			if !c.matchOne(v) {
				return false
			}
		}
		return true
	case "ForAnyValue":
		for _, v := range vals {
			if c.matchOne(v) {
				return true
			}
		}
		return false
	}
	if !present || len(vals) == 0 {
		// A key the request does not supply fails every operator but
		// its IfExists form and the negated ones, which hold.
		return c.ifExist || c.op.negated
	}
	for _, v := range vals {
		if c.matchOne(v) {
			return true
		}
	}
	return false
}

// matchOne applies the operator to one request value: any condition value
// matching is enough, and a negated operator holds when none matches.
func (c *Condition) matchOne(v string) bool {
	hit := false
	for _, want := range c.Values {
		if c.op.match(want, v) {
			hit = true
			break
		}
	}
	return hit != c.op.negated
}

// operator is one condition operator without its IfExists or set prefix.
type operator struct {
	name    string
	negated bool
	// match reports whether the request value v matches the condition's
	// value want (before negation).
	match func(want, v string) bool
}

var operators = map[string]operator{}

func init() {
	add := func(name string, negated bool, m func(want, v string) bool) {
		operators[name] = operator{name: name, negated: negated, match: m}
	}
	eq := func(want, v string) bool { return want == v }
	fold := strings.EqualFold
	like := glob
	add("StringEquals", false, eq)
	add("StringNotEquals", true, eq)
	add("StringEqualsIgnoreCase", false, fold)
	add("StringNotEqualsIgnoreCase", true, fold)
	add("StringLike", false, like)
	add("StringNotLike", true, like)
	add("ArnEquals", false, arnLike)
	add("ArnNotEquals", true, arnLike)
	add("ArnLike", false, arnLike)
	add("ArnNotLike", true, arnLike)
	add("Bool", false, fold)
	add("Null", false, nil)
}

// glob matches s against an IAM pattern: * is any run of characters and ?
// exactly one; IAM has no escape.
func glob(pattern, s string) bool {
	return wildcard.Match(pattern, s, wildcard.Syntax{One: true})
}

// arnLike compares an ARN with an ARN pattern component by component
// (arn:partition:service:region:account:resource), each component a glob,
// as ArnLike does; ArnEquals behaves the same in IAM.
func arnLike(want, v string) bool {
	wp := strings.SplitN(want, ":", 6)
	vp := strings.SplitN(v, ":", 6)
	if len(wp) != 6 || len(vp) != 6 {
		return false
	}
	for i := range wp {
		if !glob(wp[i], vp[i]) {
			return false
		}
	}
	return true
}
