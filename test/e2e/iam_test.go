package e2e

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/deploy"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/functions"
)

// iamPrefix is the IAM service prefix of each service the local cloud
// serves, where it differs from the service's signing name.
var iamPrefix = map[string]string{"monitoring": "cloudwatch"}

// callsNeedingNoPermission are operations IAM does not authorize.
var callsNeedingNoPermission = []string{"sts:GetCallerIdentity"}

// checkIAM holds every AWS call each deployed function made against the
// actions its template policy allows: a call the policy does not allow
// would be AccessDenied on AWS, where the local cloud does not enforce IAM.
// Each deployed function signs with its own access key, so its calls are
// known exactly. Resources and conditions are the contract tests' business
// (test/contract); this check is about actions, which only running the
// code can list. Every end-to-end scenario runs it when it ends.
func (r *rig) checkIAM(t testing.TB) {
	t.Helper()
	tpl, err := deploy.ParseFile(filepath.Join(repoRoot(t), "template.yaml"))
	if err != nil {
		t.Fatalf("parse template.yaml: %v", err)
	}
	byKey := r.env.Cloud.Wire.RequestsByAccessKey()
	for logical, res := range tpl.Resources {
		if res.Type != "AWS::Serverless::Function" {
			continue
		}
		deployed, ok := r.stack.Resources[logical]
		if !ok {
			continue
		}
		allowed := policyActions(res.Properties["Policies"])
		var denied []string
		for call, n := range byKey[functions.AccessKeyID(deployed.PhysicalID)] {
			service, op, _ := strings.Cut(call, ".")
			if p, ok := iamPrefix[service]; ok {
				service = p
			}
			action := service + ":" + op
			if !slices.Contains(callsNeedingNoPermission, action) && !allows(allowed, action) {
				denied = append(denied, fmt.Sprintf("%s (%d calls)", action, n))
			}
		}
		sort.Strings(denied)
		if len(denied) > 0 {
			t.Errorf("%s called %s, which its policy in template.yaml does not allow: AWS would deny it", logical, strings.Join(denied, ", "))
		}
	}
}

// policyActions lists the actions of a function's inline policy documents.
func policyActions(policies any) []string {
	var out []string
	list, _ := policies.([]any)
	for _, p := range list {
		doc, _ := p.(map[string]any)
		stmts, _ := doc["Statement"].([]any)
		for _, s := range stmts {
			st, _ := s.(map[string]any)
			if st["Effect"] != "Allow" {
				continue
			}
			switch a := st["Action"].(type) {
			case string:
				out = append(out, a)
			case []any:
				for _, v := range a {
					if s, ok := v.(string); ok {
						out = append(out, s)
					}
				}
			}
		}
	}
	return out
}

// allows reports whether one of the actions, which may end in a wildcard,
// grants action (IAM compares actions case-insensitively).
func allows(actions []string, action string) bool {
	for _, a := range actions {
		if prefix, wild := strings.CutSuffix(a, "*"); wild && strings.HasPrefix(strings.ToLower(action), strings.ToLower(prefix)) {
			return true
		}
		if strings.EqualFold(a, action) {
			return true
		}
	}
	return false
}
