package localcloud_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/phoenix-rollouts/phoenix/test/localcloud"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/deploy"
)

// notCalledOverTheWire are actions template.yaml grants that no code calls
// as an operation of its own: EC2 checks ec2:CreateTags (with
// ec2:CreateAction) and iam:PassRole inside RunInstances, and Step
// Functions delivers its own logs and traces.
var notCalledOverTheWire = []string{"ec2:CreateTags", "iam:PassRole", "logs:", "xray:"}

// Every action template.yaml's policies grant is one the local cloud's IAM
// table can authorize: a grant for an operation missing from the table
// would mean the operation's calls are refused with "no entry in the local
// cloud's IAM table" instead of judged.
func TestEveryActionTheTemplateGrantsIsInTheIAMTable(t *testing.T) {
	tpl, err := deploy.ParseFile(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	covered := localcloud.AuthorizedActions()
	seen := 0
	for _, name := range tpl.ResourceNames() {
		res := tpl.Resources[name]
		list, _ := res.Properties["Policies"].([]any)
		for _, p := range list {
			doc, _ := p.(map[string]any)
			stmts, _ := doc["Statement"].([]any)
			for _, s := range stmts {
				st, _ := s.(map[string]any)
				var actions []string
				switch a := st["Action"].(type) {
				case string:
					actions = []string{a}
				case []any:
					for _, v := range a {
						s, _ := v.(string)
						actions = append(actions, s)
					}
				}
				for _, a := range actions {
					seen++
					if slices.ContainsFunc(notCalledOverTheWire, func(p string) bool { return a == p || strings.HasSuffix(p, ":") && strings.HasPrefix(a, p) }) {
						continue
					}
					if !slices.ContainsFunc(covered, func(c string) bool { return strings.EqualFold(c, a) }) {
						t.Errorf("%s grants %s, which the local cloud's IAM table (test/localcloud/authz.go) does not cover", name, a)
					}
				}
			}
		}
	}
	if seen < 20 {
		t.Fatalf("read only %d actions from template.yaml; the test is not reading the policies", seen)
	}
}
