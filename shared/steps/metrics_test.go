package steps

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// emfCounts reads the embedded metric format lines a step wrote and
// returns "Metric Outcome=... Mode=..." per line, with the line's time.
func emfCounts(t *testing.T, out string) (names []string, times []time.Time) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		aws, _ := m["_aws"].(map[string]any)
		ms, _ := aws["Timestamp"].(float64)
		dirs, _ := aws["CloudWatchMetrics"].([]any)
		if len(dirs) != 1 {
			t.Fatalf("line %q: %d directives", line, len(dirs))
		}
		d := dirs[0].(map[string]any)
		if d["Namespace"] != "Phoenix" {
			t.Errorf("namespace %v", d["Namespace"])
		}
		metric := d["Metrics"].([]any)[0].(map[string]any)["Name"].(string)
		s := metric
		if o, ok := m["Outcome"]; ok {
			s += " Outcome=" + o.(string)
		}
		s += " Mode=" + m["Mode"].(string)
		names = append(names, s)
		times = append(times, time.UnixMilli(int64(ms)).UTC())
	}
	return names, times
}

func TestEveryRolloutEndIsCountedOnceWithItsNotification(t *testing.T) {
	ctx := context.Background()
	t.Run("reverted", func(t *testing.T) {
		w := newWorld(t)
		var out bytes.Buffer
		w.deps.Metrics = &out
		st := w.started(t)
		st.Verdict, st.Reasons = rollout.VerdictFail, []string{"new instance i-4-0 is unhealthy."}
		st = must(t)(w.deps.Revert(ctx, at(st, t0.Add(10*time.Minute))))
		w.fleet.SetRefreshStatus(web, "refresh-1", rollout.RefreshRollbackSuccessful)
		st = must(t)(w.deps.Revert(ctx, at(st, t0.Add(20*time.Minute))))
		// Step Functions may deliver the last step again: nothing more is
		// told or counted.
		must(t)(w.deps.Revert(ctx, at(st, t0.Add(21*time.Minute))))
		names, times := emfCounts(t, out.String())
		want := []string{"RolloutsStarted Mode=image", "RolloutOutcomes Outcome=reverted Mode=image"}
		if !slices.Equal(names, want) {
			t.Fatalf("metrics = %q, want %q (notifications %v)", names, want, w.notes.DetailTypes())
		}
		if !times[1].Equal(t0.Add(20 * time.Minute)) {
			t.Errorf("the outcome is dated %v, want the step's time %v", times[1], t0.Add(20*time.Minute))
		}
	})
	t.Run("refused for a refresh Phoenix did not start", func(t *testing.T) {
		w := newWorld(t)
		var out bytes.Buffer
		w.deps.Metrics = &out
		st := must(t)(w.deps.Prepare(ctx, at(imageRequest(), t0)))
		w.fleet.AddRefresh(web, rollout.Refresh{ID: "rf-someone", Status: rollout.RefreshInProgress, LaunchTemplateID: "lt-1", Version: "3"})
		_, err := w.deps.StartRefresh(ctx, at(st, t0.Add(time.Minute)))
		errorAs[*rollout.ForeignRefreshError](t, err, nil)
		names, _ := emfCounts(t, out.String())
		if !slices.Equal(names, []string{"RolloutOutcomes Outcome=refused Mode=image"}) {
			t.Errorf("metrics = %q", names)
		}
	})
	t.Run("no writer, no metric and no failure", func(t *testing.T) {
		w := newWorld(t)
		st := w.started(t)
		if st.Rollout.Status != rollout.StatusRefreshing {
			t.Errorf("status %s", st.Rollout.Status)
		}
	})
}
