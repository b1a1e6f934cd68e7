package alarms_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/phoenix-rollouts/phoenix/shared/alarms"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/deploy"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/eventbus"
)

// root is the repository root, seen from this package.
var root = filepath.Join("..", "..")

// sampleAccount is the account of the events/ samples.
const sampleAccount = "123456789012"

func TestTheRuleDeliversExactlyTheAlarmSamplesPhoenixActsOn(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(alarms.Rule(sampleAccount))
	if err != nil {
		t.Fatal(err)
	}
	p, err := eventbus.CompilePattern(string(b))
	if err != nil {
		t.Fatalf("EventBridge refuses the pattern: %v", err)
	}
	files, err := filepath.Glob(filepath.Join(root, "events", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var matched, ignored, nearMisses int
	for _, f := range files {
		name := filepath.Base(f)
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var probe map[string]any
		if json.Unmarshal(raw, &probe) != nil || probe["detail-type"] == nil {
			continue // not an EventBridge event
		}
		got, err := p.MatchJSON(raw)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := name == "alarm-state-alarm.json"
		if got != want {
			t.Errorf("the rule matches %s: %v, want %v", name, got, want)
		}
		// Whatever the rule delivers, the handler acts on; whatever it
		// does not, the handler drops or ignores if it is handed it anyway.
		ev, perr := alarms.ParseEvent(raw)
		acts := perr == nil && ev.Actionable() && ev.Account == sampleAccount
		if acts != got {
			t.Errorf("%s: the handler would act on it: %v (%v), but the rule matches it: %v", name, acts, perr, got)
		}
		switch {
		case got:
			matched++
		case strings.HasPrefix(name, "alarm-nearmiss-"):
			nearMisses++
		case perr == nil:
			ignored++
		}
	}
	if matched != 1 || ignored < 2 || nearMisses < 2 {
		t.Errorf("events/ holds %d ALARM, %d OK or INSUFFICIENT_DATA and %d near-miss alarm samples; want 1, 2 and at least 2", matched, ignored, nearMisses)
	}
}

// resolveAccount replaces !Ref AWS::AccountId in a template value with
// account, as the deployed stack would.
func resolveAccount(v any, account string) any {
	switch x := v.(type) {
	case deploy.Intrinsic:
		if x.Fn == "Ref" && x.Arg == "AWS::AccountId" {
			return account
		}
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = resolveAccount(e, account)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = resolveAccount(e, account)
		}
		return out
	}
	return v
}

func TestTheTemplateRuleIsTheRuleTheCodeTests(t *testing.T) {
	t.Parallel()
	tpl, err := deploy.ParseFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fn, ok := tpl.Resources["AlarmEventsFunction"]
	if !ok || fn.Properties["CodeUri"] != "functions/alarm-events/" {
		t.Fatalf("template.yaml has no AlarmEventsFunction built from functions/alarm-events/: %+v", fn)
	}
	env, _ := fn.Properties["Environment"].(map[string]any)
	vars, _ := env["Variables"].(map[string]any)
	if _, ok := vars["PHOENIX_STATE_MACHINE_ARN"]; !ok {
		t.Error("AlarmEventsFunction has no PHOENIX_STATE_MACHINE_ARN: it could not start reverts")
	}
	events, _ := fn.Properties["Events"].(map[string]any)
	if len(events) != 1 {
		t.Fatalf("the function has %d event sources, want the one rule", len(events))
	}
	ev, _ := events[alarms.RuleName].(map[string]any)
	props, _ := ev["Properties"].(map[string]any)
	if ev == nil || ev["Type"] != "EventBridgeRule" || props == nil {
		t.Fatalf("no EventBridgeRule %s in template.yaml", alarms.RuleName)
	}
	var a, b any
	docJSON, _ := json.Marshal(resolveAccount(props["Pattern"], sampleAccount))
	codeJSON, _ := json.Marshal(alarms.Rule(sampleAccount))
	_ = json.Unmarshal(docJSON, &a)
	_ = json.Unmarshal(codeJSON, &b)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("template.yaml says %s, the code %s", docJSON, codeJSON)
	}
}
