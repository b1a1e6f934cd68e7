package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/phoenix-rollouts/phoenix/test/localcloud"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/iam"
)

// checkIAM ends every scenario. The local cloud enforces IAM: each
// deployed function's calls, and each state machine's integrations, are
// held against the policies template.yaml gives their roles, and a call
// AWS would refuse is refused (docs/iam-local.md). A refusal fails the
// scenario only if Phoenix stumbles on it; one it swallows (logged, retried
// into a fallback) would not, so this check also fails a scenario in which
// any call was refused at all. It also checks that the deployment gave
// every function and state machine a role the cloud knows, since a role it
// does not know would deny everything and hide nothing.
func (r *rig) checkIAM(t testing.TB) {
	t.Helper()
	cloud := r.env.Cloud
	if !cloud.IAMEnforced() {
		t.Logf("IAM enforcement is off (%s=off): this scenario's calls were not held against template.yaml's policies", localcloud.IAMEnvVar)
		return
	}
	for _, logical := range r.stack.Order {
		res := r.stack.Resources[logical]
		if res.Type != "AWS::Serverless::Function" && res.Type != "AWS::Serverless::StateMachine" {
			continue
		}
		if p, ok := cloud.IAM.Policies(res.Role); !ok || len(p) == 0 {
			t.Errorf("%s's role %s has no policies in the local cloud's IAM: the deployment did not record them", logical, res.Role)
		}
	}
	var refused []string
	for _, d := range cloud.IAM.Denials() {
		if r.refusalExpected != nil && r.refusalExpected(d) {
			continue
		}
		refused = append(refused, fmt.Sprintf("%s: %s on %s", d.Principal, d.Request.Action, d.Request.Resource))
	}
	if len(refused) > 0 {
		t.Errorf("AWS would have refused %d call(s) the scenario made (template.yaml's policies do not allow them):\n%s", len(refused), strings.Join(refused, "\n"))
	}
}

// denialsOf returns the refusals of action so far.
func denialsOf(r *rig, action string) []iam.AccessDenied {
	var out []iam.AccessDenied
	for _, d := range r.env.Cloud.IAM.Denials() {
		if d.Request.Action == action {
			out = append(out, d)
		}
	}
	return out
}
