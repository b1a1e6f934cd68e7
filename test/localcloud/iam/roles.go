package iam

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Roles holds the identity-based policies of each role the local cloud
// knows, by role ARN. It is safe for concurrent use.
type Roles struct {
	mu      sync.RWMutex
	roles   map[string][]*Policy
	denials []AccessDenied
}

// Put sets the policies of a role, replacing any it had, as deploying a
// stack replaces a role's inline policies.
func (r *Roles) Put(roleARN string, policies []*Policy) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.roles == nil {
		r.roles = map[string][]*Policy{}
	}
	r.roles[roleARN] = policies
}

// Policies returns a role's policies and whether the role is known.
func (r *Roles) Policies(roleARN string) ([]*Policy, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	p, ok := r.roles[roleARN]
	return p, ok
}

// Principal is who makes a call: a role's session, as a function or a
// state machine assumes its execution role.
type Principal struct {
	// RoleARN is arn:aws:iam::ACCOUNT:role/NAME.
	RoleARN string
	// Session is the role session name: a Lambda function's name, a
	// state machine execution's id.
	Session string
}

// ARN returns the assumed-role ARN AWS names in its error messages:
// arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION.
func (p Principal) ARN() string {
	parts := strings.SplitN(p.RoleARN, ":", 6)
	if len(parts) != 6 {
		return p.RoleARN
	}
	name := parts[5]
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	return fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", parts[1], parts[4], name, p.Session)
}

// Authorize evaluates every request under the principal's role and
// returns an *AccessDenied error for the first one not allowed. A role the
// store does not know has no policies, so everything it asks is denied.
func (r *Roles) Authorize(p Principal, reqs []Request) error {
	policies, _ := r.Policies(p.RoleARN)
	for _, req := range reqs {
		res := Evaluate(policies, req)
		if res.Decision != Allowed {
			d := &AccessDenied{Principal: p.ARN(), Request: req, Result: res}
			r.mu.Lock()
			r.denials = append(r.denials, *d)
			r.mu.Unlock()
			return d
		}
	}
	return nil
}

// RecordDenial adds a refusal made outside Authorize, such as a KMS key
// policy refusing a role's publish to an encrypted topic, to those
// Denials returns.
func (r *Roles) RecordDenial(d AccessDenied) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.denials = append(r.denials, d)
}

// Denials returns every refusal so far, oldest first: a caller may swallow
// an AccessDenied (log it and carry on), so a test asks here whether any
// call was refused at all.
func (r *Roles) Denials() []AccessDenied {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.denials)
}

// AccessDenied is a request IAM refused. Its Error text is AWS's.
type AccessDenied struct {
	Principal string
	Request   Request
	Result    Result
	// ResourcePolicy is set when a resource-based policy (a KMS key
	// policy) refused the request rather than the identity-based ones.
	ResourcePolicy bool
}

// Error returns AWS's wording: "User: ARN is not authorized to perform:
// ACTION on resource: RESOURCE because no identity-based policy allows the
// ACTION action" (or "with an explicit deny in an identity-based policy";
// "resource-based" for a refusal by a resource-based policy).
func (e *AccessDenied) Error() string {
	kind := "identity-based"
	if e.ResourcePolicy {
		kind = "resource-based"
	}
	why := "because no " + kind + " policy allows the " + e.Request.Action + " action"
	if e.Result.Decision == ExplicitDeny {
		why = "with an explicit deny in " + article(kind) + " " + kind + " policy"
	}
	return fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s %s", e.Principal, e.Request.Action, e.Request.Resource, why)
}

// article is the indefinite article AWS's messages put before kind.
func article(kind string) string {
	if strings.HasPrefix(kind, "identity") {
		return "an"
	}
	return "a"
}

// Encoded returns the authorization failure message EC2 appends to
// UnauthorizedOperation. AWS encrypts it for sts:DecodeAuthorizationMessage;
// the local cloud encodes the same facts (decision, principal, action,
// resource, condition keys) in base64 JSON, so that a test or a person can
// read why a call was refused.
func (e *AccessDenied) Encoded() string {
	keys := make([]string, 0, len(e.Request.Context))
	for k := range e.Request.Context {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	ctx := make([]map[string]any, 0, len(keys))
	for _, k := range keys {
		ctx = append(ctx, map[string]any{"key": k, "values": e.Request.Context[k]})
	}
	b, _ := json.Marshal(map[string]any{
		"allowed":      false,
		"explicitDeny": e.Result.Decision == ExplicitDeny,
		"matchedStatements": func() []string {
			if e.Result.Statement == "" {
				return []string{}
			}
			return []string{e.Result.Policy + " " + e.Result.Statement}
		}(),
		"context": map[string]any{
			"principal":  e.Principal,
			"action":     e.Request.Action,
			"resource":   e.Request.Resource,
			"conditions": ctx,
		},
	})
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeFailure reads back what Encoded wrote.
func DecodeFailure(msg string) (map[string]any, error) {
	b, err := base64.RawURLEncoding.DecodeString(msg)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	return out, json.Unmarshal(b, &out)
}
