package e2e

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/functions"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/iam"
)

// yaml11Booleans are the scalars a YAML 1.1 reader (PyYAML, which the SAM
// CLI uses) turns into booleans when they are not quoted, with the text
// IAM compares the boolean as.
var yaml11Booleans = func() map[string]string {
	m := map[string]string{}
	for text, words := range map[string][]string{
		"true":  {"y", "yes", "on", "true"},
		"false": {"n", "no", "off", "false"},
	} {
		for _, w := range words {
			// YAML 1.1 accepts each word in lower case, capitalised and
			// in upper case, and no other mix.
			for _, form := range []string{w, strings.ToUpper(w[:1]) + w[1:], strings.ToUpper(w)} {
				m[form] = text
			}
		}
	}
	return m
}()

// asIfUnquoted returns policies as the SAM CLI reads them when their
// condition values are unquoted: every value YAML 1.1 reads as a boolean
// becomes one, and IAM compares a boolean as the text "true" or "false".
// It rebuilds, in memory, the template before the quoting fix of the
// tag-gated group statements.
func asIfUnquoted(policies []*iam.Policy) []*iam.Policy {
	out := make([]*iam.Policy, len(policies))
	for i, p := range policies {
		cp := *p
		cp.Statements = slices.Clone(p.Statements)
		for j := range cp.Statements {
			st := &cp.Statements[j]
			st.Conditions = slices.Clone(st.Conditions)
			for k := range st.Conditions {
				c := &st.Conditions[k]
				c.Values = slices.Clone(c.Values)
				for v, val := range c.Values {
					if b, ok := yaml11Booleans[val]; ok {
						c.Values[v] = b
					}
				}
			}
		}
		out[i] = &cp
	}
	return out
}

// A group tagged phoenix:enabled=yes is a Phoenix group (docs/design.md
// reads yes, on, true and 1 alike). With IAM enforced, its whole rollout
// must pass: Prepare pins the $Latest group and StartRefresh starts the
// refresh (UpdateAutoScalingGroup, StartInstanceRefresh, both gated on the
// tag), Finalize puts the group on the new version; an unhealthy image on
// such a group is reverted (RollbackInstanceRefresh). Under the template
// as the SAM CLI read it before the quoting fix (yes and on unquoted,
// hence booleans, hence "true" to IAM), the same rollout is refused by AWS,
// as the second half shows on the same deployed stack.
func TestAGroupTaggedEnabledYesIsRolledWithIAMEnforced(t *testing.T) {
	t.Parallel()
	r := newRig(t, 11)
	if !r.env.Cloud.IAMEnforced() {
		t.Skip("IAM enforcement is off; this test is about enforcement")
	}
	yes := map[string]string{"phoenix:enabled": "yes"}

	t.Run("a rollout of a $Latest group tagged yes is pinned, refreshed and finalized", func(t *testing.T) {
		f := r.newFleet(fleetSpec{name: "edge", size: 2, version: "$Latest", tags: yes})
		img := r.image("edge-v2", "healthy")
		end := r.wait(r.start("r-yes", f.name, img), rolloutLimit)
		if end.Status != sfntypes.ExecutionStatusSucceeded {
			t.Fatalf("execution %s: %s %s\n%s", end.Status, aws.ToString(end.Error), aws.ToString(end.Cause), r.functionLogs())
		}
		if rec := r.rollout("r-yes"); rec.status != "finalized" {
			t.Errorf("ledger rollout = %+v, want finalized", rec)
		}
		if g := r.group(f.name); g.version != "2" || g.images[img] != 2 {
			t.Errorf("group on version %q with images %v, want all on %s at version 2", g.version, g.images, img)
		}
	})
	t.Run("an unhealthy image on a group tagged yes is reverted", func(t *testing.T) {
		f := r.newFleet(fleetSpec{name: "api", size: 2, tags: yes})
		bad := r.image("api-v2", "unhealthy")
		end := r.wait(r.start("r-yes-bad", f.name, bad), rolloutLimit)
		if end.Status != sfntypes.ExecutionStatusSucceeded {
			t.Fatalf("execution %s: %s %s\n%s", end.Status, aws.ToString(end.Error), aws.ToString(end.Cause), r.functionLogs())
		}
		if rec := r.rollout("r-yes-bad"); rec.status != "reverted" {
			t.Errorf("ledger rollout = %+v, want reverted", rec)
		}
		// The revert went through RevertPhoenixGroups, the third
		// statement gated on the tag.
		revert := r.stack.Resources["RevertFunction"].PhysicalID
		if n := r.env.Cloud.Wire.RequestsByAccessKey()[functions.AccessKeyID(revert)]["autoscaling.RollbackInstanceRefresh"]; n == 0 {
			t.Errorf("RevertFunction never called RollbackInstanceRefresh; the test no longer exercises RevertPhoenixGroups")
		}
	})
	if t.Failed() {
		return
	}

	t.Run("under the unquoted template AWS refuses the same rollout", func(t *testing.T) {
		for _, logical := range r.stack.Order {
			res := r.stack.Resources[logical]
			if res.Type != "AWS::Serverless::Function" {
				continue
			}
			p, _ := r.env.Cloud.IAM.Policies(res.Role)
			r.env.Cloud.IAM.Put(res.Role, asIfUnquoted(p))
		}
		r.refusalExpected = func(d iam.AccessDenied) bool {
			return strings.HasSuffix(d.Request.Resource, ":autoScalingGroupName/web")
		}
		f := r.newFleet(fleetSpec{name: "web", size: 2, tags: yes})
		img := r.image("web-v2", "healthy")
		end := r.wait(r.start("r-yes-unquoted", f.name, img), rolloutLimit)
		rec := r.rollout("r-yes-unquoted")
		t.Logf("under the unquoted template: execution %s, rollout %s", end.Status, rec.status)
		if rec.status == "finalized" {
			t.Errorf("the rollout was finalized (%s); under the unquoted template AWS would have refused it", end.Status)
		}
		refused := denialsOf(r, "autoscaling:StartInstanceRefresh")
		if len(refused) == 0 {
			t.Fatalf("no StartInstanceRefresh was refused; denials: %v", r.env.Cloud.IAM.Denials())
		}
		if msg := refused[0].Error(); !strings.Contains(msg, "StartRefreshFunction") || !strings.Contains(msg, "because no identity-based policy allows the autoscaling:StartInstanceRefresh action") {
			t.Errorf("refusal %q", msg)
		}
		if g := r.group(f.name); g.images[f.image] != 2 {
			t.Errorf("group images %v, want both instances still on %s", g.images, f.image)
		}
	})
}
