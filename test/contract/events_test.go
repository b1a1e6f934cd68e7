package contract_test

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/deploy"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/eventbus"
)

// refreshSignals maps the instance refresh events Phoenix consumes to the
// signal kind refresh-events turns each into. Started and Rollback Started
// are not consumed: neither changes what the rollout does next (a rollback
// AWS started ends in Rollback Succeeded or Rollback Failed).
var refreshSignals = map[string]string{
	"EC2 Auto Scaling Instance Refresh Checkpoint Reached": rollout.SignalCheckpoint,
	"EC2 Auto Scaling Instance Refresh Started Baking":     rollout.SignalBaking,
	"EC2 Auto Scaling Instance Refresh Succeeded":          rollout.SignalSucceeded,
	"EC2 Auto Scaling Instance Refresh Failed":             rollout.SignalFailed,
	"EC2 Auto Scaling Instance Refresh Cancelled":          rollout.SignalCancelled,
	"EC2 Auto Scaling Instance Refresh Rollback Succeeded": rollout.SignalRollbackSucceeded,
	"EC2 Auto Scaling Instance Refresh Rollback Failed":    rollout.SignalRollbackFailed,
}

// refreshPattern compiles the EventBridge pattern of refresh-events with
// the local cloud's matcher.
func refreshPattern(t *testing.T, r *repo) *eventbus.Pattern {
	t.Helper()
	fn, ok := r.functions(t)["refresh-events"]
	if !ok {
		t.Fatal("the template has no functions/refresh-events function")
	}
	evs, _ := fn.Properties["Events"].(map[string]any)
	if len(evs) != 1 {
		t.Fatalf("refresh-events has %d event sources, want one EventBridge rule", len(evs))
	}
	var pattern any
	for _, ev := range evs {
		if getPath(ev, "Type") != "EventBridgeRule" {
			t.Fatalf("event source %v is not an EventBridgeRule", ev)
		}
		pattern = getPath(ev, "Properties", "Pattern")
	}
	b, err := json.Marshal(withAccount(pattern, sampleAccount))
	if err != nil {
		t.Fatal(err)
	}
	p, err := eventbus.CompilePattern(string(b))
	if err != nil {
		t.Fatalf("EventBridge rejects the pattern: %v", err)
	}
	return p
}

// sampleAccount is the account of the events/ samples.
const sampleAccount = "123456789012"

// withAccount resolves !Ref AWS::AccountId in a pattern as the deployed
// stack would, to account.
func withAccount(v any, account string) any {
	switch x := v.(type) {
	case deploy.Intrinsic:
		if x.Fn == "Ref" && x.Arg == "AWS::AccountId" {
			return account
		}
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = withAccount(e, account)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = withAccount(e, account)
		}
		return out
	}
	return v
}

// samples reads events/instance-refresh-*.json by detail-type.
func samples(t *testing.T, root string) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "events", "instance-refresh-*.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var ev struct {
			DetailType string `json:"detail-type"`
			Source     string
			Detail     struct{ InstanceRefreshId, AutoScalingGroupName string }
		}
		if err := json.Unmarshal(b, &ev); err != nil || ev.Source != "aws.autoscaling" || ev.Detail.InstanceRefreshId == "" || ev.Detail.AutoScalingGroupName == "" {
			t.Fatalf("%s is not an instance refresh event with its ids: %v", f, err)
		}
		out[ev.DetailType] = b
	}
	return out
}

func TestTheRefreshRuleMatchesTheEventsPhoenixConsumesAndNothingElse(t *testing.T) {
	r := loadRepo(t)
	p := refreshPattern(t, r)
	evs := samples(t, r.root)
	all := []string{"Started", "Checkpoint Reached", "Started Baking", "Succeeded", "Failed", "Cancelled",
		"Rollback Started", "Rollback Succeeded", "Rollback Failed"}
	if len(evs) != len(all) {
		t.Errorf("events/ holds %d instance refresh samples, want one per event AWS emits (%d)", len(evs), len(all))
	}
	for _, what := range all {
		dt := "EC2 Auto Scaling Instance Refresh " + what
		_, consumed := refreshSignals[dt]
		verb := map[bool]string{true: "matches", false: "does not match"}[consumed]
		t.Run("the rule "+verb+" "+what, func(t *testing.T) {
			b, ok := evs[dt]
			if !ok {
				t.Fatalf("no sample for %q in events/", dt)
			}
			got, err := p.MatchJSON(b)
			if err != nil {
				t.Fatal(err)
			}
			if got != consumed {
				t.Errorf("match = %v", got)
			}
			// Every sample passes the parser's envelope and detail checks,
			// and what the rule delivers becomes the signal named above.
			ev, err := rollout.ParseRefreshEvent(b)
			if err != nil {
				t.Fatalf("refresh-events would drop the sample: %v", err)
			}
			s, ok := ev.Signal()
			if consumed && (!ok || s.Kind != refreshSignals[dt]) {
				t.Errorf("signal %+v, %v; want %s", s, ok, refreshSignals[dt])
			}
			// What the rule does not deliver, the parser does not act on
			// either, should a user's wider rule deliver it.
			if !consumed && ok {
				t.Errorf("the rule does not deliver %q, yet it would become the signal %s", dt, s.Kind)
			}
		})
	}
	checkpoint := string(evs["EC2 Auto Scaling Instance Refresh Checkpoint Reached"])
	nearMisses := map[string]string{
		"an event from another source with the same detail-type": strings.Replace(checkpoint, `"aws.autoscaling"`, `"phoenix.rollouts"`, 1),
		"a lower-case detail-type":                               strings.Replace(checkpoint, "Checkpoint Reached", "checkpoint reached", 1),
		"a detail-type with a trailing space":                    strings.Replace(checkpoint, "Checkpoint Reached", "Checkpoint Reached ", 1),
		"another Auto Scaling event":                             strings.Replace(checkpoint, "EC2 Auto Scaling Instance Refresh Checkpoint Reached", "EC2 Instance Launch Successful", 1),
		"an EC2 event": strings.Replace(strings.Replace(checkpoint, `"aws.autoscaling"`, `"aws.ec2"`, 1),
			"EC2 Auto Scaling Instance Refresh Checkpoint Reached", "EC2 AMI State Change", 1),
	}
	for name, ev := range nearMisses {
		t.Run("the rule does not match "+name, func(t *testing.T) {
			if ev == checkpoint {
				t.Fatal("the mutation did not apply")
			}
			got, err := p.MatchJSON([]byte(ev))
			if err != nil {
				t.Fatal(err)
			}
			if got {
				t.Error("matched")
			}
		})
	}
}

func TestEveryRefreshSignalHasAnEventBehindIt(t *testing.T) {
	produced := map[string]bool{}
	for _, kind := range refreshSignals {
		produced[kind] = true
	}
	// alarm comes from the alarm function, halted from the halt flag and
	// in-progress from the poll, never from a refresh event.
	for _, kind := range []string{rollout.SignalCheckpoint, rollout.SignalBaking, rollout.SignalSucceeded, rollout.SignalFailed,
		rollout.SignalCancelled, rollout.SignalRollbackSucceeded, rollout.SignalRollbackFailed} {
		if !produced[kind] {
			t.Errorf("signal %s has no instance refresh event", kind)
		}
	}
	r := loadRepo(t)
	route := r.states(t)["Route"]
	kinds := slices.Collect(maps.Values(refreshSignals))
	for _, kind := range append(kinds, rollout.SignalAlarm, rollout.SignalHalted, rollout.SignalRollbackRequested, rollout.SignalInProgress) {
		if !strings.Contains(toJSON(t, route), `"StringEquals":"`+kind+`"`) {
			t.Errorf("Route does not route signal %s", kind)
		}
	}
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The rules Phoenix acts on match only its own account's events: AWS
// refuses PutEvents with an aws.* source, so the one way in for a forged
// instance refresh, alarm or image event is another account's bus, and
// the account filter closes it.
func TestEveryAWSEventRuleMatchesOnlyThisAccount(t *testing.T) {
	r := loadRepo(t)
	for folder, fn := range r.functions(t) {
		evs, _ := fn.Properties["Events"].(map[string]any)
		for name, ev := range evs {
			if getPath(ev, "Type") != "EventBridgeRule" {
				continue
			}
			pattern := getPath(ev, "Properties", "Pattern")
			sources := strs(getPath(pattern, "source"))
			if len(sources) == 0 || !strings.HasPrefix(sources[0], "aws.") {
				continue
			}
			account, _ := getPath(pattern, "account").([]any)
			if len(account) != 1 || account[0] != (deploy.Intrinsic{Fn: "Ref", Arg: "AWS::AccountId"}) {
				t.Errorf("%s rule %s matches %s events of any account (account %v), want [!Ref AWS::AccountId]", folder, name, sources[0], account)
			}
		}
	}
	p := refreshPattern(t, r)
	for _, b := range samples(t, r.root) {
		var ev map[string]any
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatal(err)
		}
		ev["account"] = "210987654321"
		other, _ := json.Marshal(ev)
		if ok, err := p.MatchJSON(other); err != nil || ok {
			t.Errorf("the refresh rule matches another account's %s (err %v)", ev["detail-type"], err)
		}
	}
}
