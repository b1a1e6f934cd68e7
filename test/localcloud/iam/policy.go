// Package iam is the local cloud's IAM: identity-based policy documents,
// parsed from the template's resolved Policies, and an evaluator that
// decides a request as IAM does (an explicit Deny wins; otherwise an Allow
// must match the action, the resource and every condition). Resource-based
// policies, such as KMS key policies, are read and decided the same way,
// with each statement's Principal matched against the caller (resource.go).
// It knows nothing about services: package localcloud says, for each
// operation, which action, resources and condition keys a request carries.
package iam

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Policy is one identity-based policy document.
type Policy struct {
	// Name says where the policy came from (for example
	// "PrepareFunction Policies[0]"), for messages.
	Name       string
	Statements []Statement
}

// Statement is one statement of a policy. Exactly one of Action and
// NotAction, and one of Resource and NotResource, is set.
type Statement struct {
	Sid                   string
	Effect                Effect
	Action, NotAction     []string
	Resource, NotResource []string
	// Conditions are ANDed: every one must hold.
	Conditions []Condition
	// Principal is set only in a resource-based policy
	// (ParseResourcePolicy): the principals the statement applies to, by
	// kind ("AWS", "Service"). "Principal": "*" is {"AWS": ["*"]}.
	Principal map[string][]string
}

// Effect is Allow or Deny.
type Effect string

// The two effects.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Condition is one operator applied to one key: Values are ORed (NORed for
// a negated operator).
type Condition struct {
	// Operator is as written, e.g. "StringEqualsIgnoreCase",
	// "ForAnyValue:StringLike", "ArnLikeIfExists".
	Operator string
	// Key is the condition key as written, e.g. "aws:ResourceTag/Team".
	Key    string
	Values []string

	op      operator
	set     string // "", "ForAnyValue" or "ForAllValues"
	ifExist bool
}

// ParsePolicy reads a policy document from its decoded JSON or YAML form
// (maps, lists and scalars, intrinsic functions already resolved). Scalars
// are read as IAM reads them: a boolean true is the string "true", a number
// its decimal text. An element IAM would refuse (an unknown operator, an
// Effect other than Allow or Deny, a statement without an action or a
// resource) is an error, so that a policy the evaluator cannot judge never
// silently allows or denies.
func ParsePolicy(name string, doc any) (*Policy, error) {
	return parsePolicy(name, doc, false)
}

// parsePolicy reads an identity-based policy, or a resource-based one
// whose statements name their principals.
func parsePolicy(name string, doc any, resourceBased bool) (*Policy, error) {
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("policy %s: want a mapping, got %T", name, doc)
	}
	for k := range m {
		if k != "Version" && k != "Statement" && k != "Id" {
			return nil, fmt.Errorf("policy %s: unknown element %s", name, k)
		}
	}
	var raw []any
	switch s := m["Statement"].(type) {
	case []any:
		raw = s
	case map[string]any:
		raw = []any{s}
	default:
		return nil, fmt.Errorf("policy %s: Statement must be a list or a mapping, got %T", name, m["Statement"])
	}
	p := &Policy{Name: name}
	for i, r := range raw {
		st, err := parseStatement(r, resourceBased)
		if err != nil {
			return nil, fmt.Errorf("policy %s: Statement[%d]: %w", name, i, err)
		}
		p.Statements = append(p.Statements, st)
	}
	return p, nil
}

func parseStatement(r any, resourceBased bool) (Statement, error) {
	m, ok := r.(map[string]any)
	if !ok {
		return Statement{}, fmt.Errorf("want a mapping, got %T", r)
	}
	var st Statement
	var err error
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		switch k {
		case "Sid":
			st.Sid, err = scalar(v)
		case "Effect":
			var e string
			e, err = scalar(v)
			st.Effect = Effect(e)
			if err == nil && st.Effect != Allow && st.Effect != Deny {
				err = fmt.Errorf("Effect must be Allow or Deny, got %q", e)
			}
		case "Action":
			st.Action, err = strings1(v)
		case "NotAction":
			st.NotAction, err = strings1(v)
		case "Resource":
			st.Resource, err = strings1(v)
		case "NotResource":
			st.NotResource, err = strings1(v)
		case "Condition":
			st.Conditions, err = parseConditions(v)
		case "Principal":
			if !resourceBased {
				err = fmt.Errorf("%s belongs in a resource-based policy, not an identity-based one", k)
				break
			}
			st.Principal, err = parsePrincipal(v)
		case "NotPrincipal":
			err = fmt.Errorf("%s belongs in a resource-based policy, not an identity-based one", k)
			if resourceBased {
				err = fmt.Errorf("NotPrincipal is not supported by the local cloud's IAM")
			}
		default:
			err = fmt.Errorf("unknown element %s", k)
		}
		if err != nil {
			return Statement{}, fmt.Errorf("%s %w", orSid(st.Sid), err)
		}
	}
	switch {
	case st.Effect == "":
		return Statement{}, fmt.Errorf("%s has no Effect", orSid(st.Sid))
	case (st.Action == nil) == (st.NotAction == nil):
		return Statement{}, fmt.Errorf("%s needs exactly one of Action and NotAction", orSid(st.Sid))
	case (st.Resource == nil) == (st.NotResource == nil):
		return Statement{}, fmt.Errorf("%s needs exactly one of Resource and NotResource", orSid(st.Sid))
	case resourceBased && st.Principal == nil:
		return Statement{}, fmt.Errorf("%s has no Principal", orSid(st.Sid))
	}
	return st, nil
}

func orSid(sid string) string {
	if sid == "" {
		return "statement"
	}
	return "statement " + sid
}

func parseConditions(v any) ([]Condition, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("Condition: want a mapping, got %T", v)
	}
	var out []Condition
	for _, opName := range slices.Sorted(maps.Keys(m)) {
		keys, ok := m[opName].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("Condition %s: want a mapping of keys, got %T", opName, m[opName])
		}
		c := Condition{Operator: opName}
		name := opName
		if set, rest, ok := strings.Cut(name, ":"); ok {
			if set != "ForAnyValue" && set != "ForAllValues" {
				return nil, fmt.Errorf("Condition: unknown set operator %s", set)
			}
			c.set, name = set, rest
		}
		if base, ok := strings.CutSuffix(name, "IfExists"); ok && name != "Null" {
			c.ifExist, name = true, base
		}
		op, ok := operators[name]
		if !ok {
			return nil, fmt.Errorf("Condition: operator %s is not supported by the local cloud's IAM", opName)
		}
		c.op = op
		for _, key := range slices.Sorted(maps.Keys(keys)) {
			vals, err := strings1(keys[key])
			if err != nil {
				return nil, fmt.Errorf("Condition %s %s: %w", opName, key, err)
			}
			cc := c
			cc.Key, cc.Values = key, vals
			out = append(out, cc)
		}
	}
	return out, nil
}

// scalar reads a policy scalar as IAM does: strings as they are, booleans
// and numbers as their JSON text.
func scalar(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case uint64:
		return strconv.FormatUint(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	}
	return "", fmt.Errorf("want a string, got %T", v)
}

// strings1 reads a string or a list of strings.
func strings1(v any) ([]string, error) {
	if list, ok := v.([]any); ok {
		out := make([]string, 0, len(list))
		for _, e := range list {
			s, err := scalar(e)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	s, err := scalar(v)
	if err != nil {
		return nil, err
	}
	return []string{s}, nil
}
