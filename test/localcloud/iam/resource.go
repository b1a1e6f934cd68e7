package iam

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// ParseResourcePolicy reads a resource-based policy, such as a KMS key
// policy, from its decoded JSON or YAML form. It reads statements as
// ParsePolicy does, except that every statement must name its Principal:
// "*", or a mapping of "AWS" (an account id, an account's root ARN, a role
// ARN, an assumed-role session ARN or "*") and "Service" (a service
// principal such as cloudwatch.amazonaws.com) to one value or a list.
// NotPrincipal and the other principal kinds (Federated, CanonicalUser)
// are refused: the local cloud cannot judge them.
func ParseResourcePolicy(name string, doc any) (*Policy, error) {
	return parsePolicy(name, doc, true)
}

// principalKinds are the principal kinds the local cloud can match.
var principalKinds = map[string]bool{"AWS": true, "Service": true}

// parsePrincipal reads a statement's Principal element.
func parsePrincipal(v any) (map[string][]string, error) {
	if s, ok := v.(string); ok {
		if s != "*" {
			return nil, fmt.Errorf("Principal: a string principal must be \"*\", got %q", s)
		}
		return map[string][]string{"AWS": {"*"}}, nil
	}
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		return nil, fmt.Errorf("Principal: want \"*\" or a mapping of principal kinds, got %T", v)
	}
	out := map[string][]string{}
	for _, kind := range slices.Sorted(maps.Keys(m)) {
		if !principalKinds[kind] {
			return nil, fmt.Errorf("Principal: %s principals are not supported by the local cloud's IAM", kind)
		}
		vals, err := strings1(m[kind])
		if err != nil {
			return nil, fmt.Errorf("Principal %s: %w", kind, err)
		}
		if kind == "AWS" {
			for _, p := range vals {
				if !validAWSPrincipal(p) {
					return nil, fmt.Errorf("Principal AWS: %q is not an account id, a root, role or assumed-role ARN, or \"*\"", p)
				}
			}
		}
		out[kind] = vals
	}
	return out, nil
}

var (
	accountID     = regexp.MustCompile(`^[0-9]{12}$`)
	awsPrincipals = regexp.MustCompile(`^arn:[a-z-]+:(iam::[0-9]{12}:(root|role/.+)|sts::[0-9]{12}:assumed-role/[^/]+/.+)$`)
)

// validAWSPrincipal reports whether p is an AWS principal the local cloud
// knows how to match. A user or group ARN would be valid on AWS, but the
// local cloud has no users, so it refuses them rather than never match.
func validAWSPrincipal(p string) bool {
	return p == "*" || accountID.MatchString(p) || awsPrincipals.MatchString(p)
}

// Caller is who a resource-based policy is asked about: a role's session
// (Principal), or a service principal acting on its own behalf (Service),
// such as CloudWatch publishing an alarm notification. Account is the
// caller's account; for a role it defaults to the role's.
type Caller struct {
	Principal
	Service string
	Account string
}

// account returns the caller's account id.
func (c Caller) account() string {
	if c.Account != "" || c.RoleARN == "" {
		return c.Account
	}
	if parts := strings.SplitN(c.RoleARN, ":", 6); len(parts) == 6 {
		return parts[4]
	}
	return ""
}

// ResourceResult is a resource-based policy's answer.
type ResourceResult struct {
	Result
	// ViaAccount is set when the policy allows only through a statement
	// naming the caller's account (an account id or its root ARN) rather
	// than the caller itself. Such a statement delegates to IAM: the
	// caller's identity-based policies must allow the request too.
	ViaAccount bool
}

// EvaluateResource decides r for caller under a resource-based policy: an
// explicit Deny in a statement whose principal covers the caller wins;
// otherwise an Allow that names the caller, a service principal it acts
// as, or "*" allows; otherwise an Allow naming the caller's account allows
// by delegation (ViaAccount); otherwise the request is implicitly denied.
// Conditions are evaluated as Evaluate evaluates them.
func EvaluateResource(p *Policy, caller Caller, r Request) ResourceResult {
	ctx := make(map[string][]string, len(r.Context))
	for k, v := range r.Context {
		ctx[strings.ToLower(k)] = v
	}
	var direct, viaAccount *Result
	for _, st := range p.Statements {
		covered, delegated := st.covers(caller)
		if !covered || !st.matches(r.Action, r.Resource, ctx) {
			continue
		}
		res := Result{Decision: Allowed, Policy: p.Name, Statement: st.Sid}
		switch {
		case st.Effect == Deny:
			res.Decision = ExplicitDeny
			return ResourceResult{Result: res}
		case !delegated && direct == nil:
			direct = &res
		case delegated && viaAccount == nil:
			viaAccount = &res
		}
	}
	switch {
	case direct != nil:
		return ResourceResult{Result: *direct}
	case viaAccount != nil:
		return ResourceResult{Result: *viaAccount, ViaAccount: true}
	}
	return ResourceResult{Result: Result{Decision: ImplicitDeny}}
}

// covers reports whether the statement's principals include the caller,
// and whether only as a member of its account.
func (st *Statement) covers(c Caller) (covered, viaAccount bool) {
	for _, p := range st.Principal["AWS"] {
		switch {
		case p == "*":
			return true, false
		case c.RoleARN != "" && (p == c.RoleARN || p == c.ARN()):
			return true, false
		}
	}
	if c.Service != "" {
		for _, s := range st.Principal["Service"] {
			if strings.EqualFold(s, c.Service) {
				return true, false
			}
		}
		// A service principal belongs to no account of the customer's,
		// so a statement for the account does not cover it.
		return false, false
	}
	acct := c.account()
	for _, p := range st.Principal["AWS"] {
		if acct != "" && (p == acct || strings.HasSuffix(p, ":iam::"+acct+":root")) {
			return true, true
		}
	}
	return false, false
}
