package images_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/phoenix-rollouts/phoenix/shared/publish"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/eventbus"
)

// root is the repository root, seen from this package.
var root = filepath.Join("..", "..")

// repoFile returns a file of the repository as text.
func repoFile(t *testing.T, path ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{root}, path...)...))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// rulePatterns compiles publish.Rules with the local cloud's EventBridge
// matcher, which follows EventBridge's matching engine.
func rulePatterns(t *testing.T) map[string]*eventbus.Pattern {
	t.Helper()
	out := map[string]*eventbus.Pattern{}
	for _, r := range publish.Rules() {
		// The samples in events/ come from account 123456789012.
		b, err := json.Marshal(r.Pattern)
		b = []byte(strings.ReplaceAll(string(b), `"`+publish.AccountRef+`"`, `"123456789012"`))
		if err != nil {
			t.Fatal(err)
		}
		p, err := eventbus.CompilePattern(string(b))
		if err != nil {
			t.Fatalf("EventBridge refuses the pattern of %s: %v", r.Name, err)
		}
		out[r.Name] = p
	}
	return out
}

// wantRule maps each sample to the rule that must match it; "" means none
// may.
func wantRule(file string) string {
	switch {
	case strings.HasPrefix(file, "publish-imagebuilder-"):
		return "ImageBuilderAvailable"
	case strings.HasPrefix(file, "publish-ami-"):
		return "AMIAvailable"
	case strings.HasPrefix(file, "publish-parameter-"):
		return "ImageParameterChanged"
	}
	return ""
}

func TestTheRulesMatchExactlyThePublishingSamples(t *testing.T) {
	t.Parallel()
	patterns := rulePatterns(t)
	files, err := filepath.Glob(filepath.Join(root, "events", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	matched := map[string]int{}
	nearMisses := 0
	for _, f := range files {
		name := filepath.Base(f)
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var probe map[string]any
		if json.Unmarshal(raw, &probe) != nil || probe["detail-type"] == nil {
			continue // not an EventBridge event (the gate payload)
		}
		if strings.HasPrefix(name, "publish-nearmiss-") {
			nearMisses++
		}
		want := wantRule(name)
		for rule, p := range patterns {
			got, err := p.MatchJSON(raw)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if got != (rule == want) {
				t.Errorf("rule %s matches %s: %v, want %v", rule, name, got, rule == want)
			}
			if got {
				matched[rule]++
			}
		}
		// Whatever a rule delivers, the parser accepts, and the other way
		// round: the rules and the parsers agree on every sample.
		_, perr := publish.ParseEvent(raw)
		if (perr == nil) != (want != "") {
			t.Errorf("%s: parser error %v, but a rule match is %v", name, perr, want != "")
		}
	}
	for _, r := range publish.Rules() {
		if matched[r.Name] == 0 {
			t.Errorf("no sample in events/ exercises rule %s", r.Name)
		}
	}
	if nearMisses < 4 {
		t.Errorf("events/ holds %d near-miss samples, want at least the four of the issue", nearMisses)
	}
}

// stripTags drops the CloudFormation short-form tags (!Ref, !Sub, !GetAtt)
// so that yaml.v3 decodes the template block as plain data.
func stripTags(n *yaml.Node) {
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		n.Tag = ""
	}
	for _, c := range n.Content {
		stripTags(c)
	}
}

func TestTheTemplateRulesAreTheRulesTheCodeTests(t *testing.T) {
	t.Parallel()
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(repoFile(t, "template.yaml")), &node); err != nil {
		t.Fatalf("template.yaml is not YAML: %v", err)
	}
	stripTags(&node)
	var tmpl struct {
		Resources map[string]struct {
			Type       string `yaml:"Type"`
			Properties struct {
				CodeUri string `yaml:"CodeUri"`
				Events  map[string]struct {
					Type       string `yaml:"Type"`
					Properties struct {
						Pattern any `yaml:"Pattern"`
					} `yaml:"Properties"`
				} `yaml:"Events"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := node.Decode(&tmpl); err != nil {
		t.Fatal(err)
	}
	fn, ok := tmpl.Resources["ImagePublishedFunction"]
	if !ok || fn.Properties.CodeUri != "functions/image-published/" {
		t.Fatalf("template.yaml has no ImagePublishedFunction built from functions/image-published/: %+v", fn)
	}
	rules := publish.Rules()
	if len(fn.Properties.Events) != len(rules) {
		t.Fatalf("the function has %d event sources, the code %d rules", len(fn.Properties.Events), len(rules))
	}
	for _, r := range rules {
		ev, ok := fn.Properties.Events[r.Name]
		if !ok || ev.Type != "EventBridgeRule" {
			t.Fatalf("no EventBridgeRule %s in template.yaml", r.Name)
		}
		docJSON, _ := json.Marshal(ev.Properties.Pattern)
		codeJSON, _ := json.Marshal(r.Pattern)
		var a, b any
		_ = json.Unmarshal(docJSON, &a)
		_ = json.Unmarshal(codeJSON, &b)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("rule %s: template.yaml says %s, the code %s", r.Name, docJSON, codeJSON)
		}
	}
	if _, ok := tmpl.Resources["CampaignStateMachine"]; !ok {
		t.Error("template.yaml does not declare the campaign state machine")
	}
}
