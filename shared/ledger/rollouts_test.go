package ledger

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// stepKeys lists the keys of r's timeline in order.
func stepKeys(r rollout.Rollout) []string {
	var keys []string
	for _, s := range r.Steps {
		keys = append(keys, s.Key)
	}
	return keys
}

// wantSame fails the test unless got and want are the same record.
func wantSame(t *testing.T, got, want rollout.Rollout) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("records differ:\n got %+v\nwant %+v", got, want)
	}
}

func TestRollouts(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	cases := []struct {
		name string
		run  func(t *testing.T, g rollout.GroupKey)
	}{
		{"a new rollout is stored and read back whole", func(t *testing.T, g rollout.GroupKey) {
			r := newRollout(g, t0.Add(1500*time.Millisecond))
			r.RefreshID = "ir-1"
			r.Reason = "because"
			r.EndedAt = t0.Add(time.Hour)
			r.Steps = append(r.Steps, rollout.Step{Key: "start-refresh", At: t0.Add(time.Minute)})
			put := e.put(t, r)
			wantSame(t, put, r)
			got, err := e.l.GetRollout(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			wantSame(t, got, r)
		}},
		{"a blue/green rollout keeps its strategy and pair", func(t *testing.T, g rollout.GroupKey) {
			r := newRollout(g, t0)
			r.Strategy = rollout.StrategyBlueGreen
			r.Pair = &rollout.PairSides{Name: "web", Live: "web-blue", Idle: "web-green"}
			e.put(t, r)
			got, err := e.l.GetRollout(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			wantSame(t, got, r)
			h, err := e.l.History(ctx, g, time.Time{}, 1)
			if err != nil || len(h) != 1 || h[0].Pair == nil || *h[0].Pair != *r.Pair || !h[0].BlueGreen() {
				t.Fatalf("history %+v, %v; want the pair", h, err)
			}
		}},
		{"a retried PutRollout returns the stored record unchanged", func(t *testing.T, g rollout.GroupKey) {
			first := e.put(t, newRollout(g, t0))
			retry := first
			retry.Status = rollout.StatusRefreshing
			retry.StartedAt = t0.Add(time.Minute)
			retry.Steps = nil
			got := e.put(t, retry)
			wantSame(t, got, first)
			if n := e.count("rollout recorded", `"rolloutId":"`+first.ID+`"`); n != 1 {
				t.Fatalf("the record was logged %d times, want once", n)
			}
			if h, err := e.l.History(ctx, g, time.Time{}, 0); err != nil || len(h) != 1 {
				t.Fatalf("history %+v, %v; want one entry", h, err)
			}
		}},
		{"a missing rollout is a NotFoundError", func(t *testing.T, _ rollout.GroupKey) {
			calls := map[string]func() error{
				"GetRollout": func() error { _, err := e.l.GetRollout(ctx, "r-nobody"); return err },
				"UpdateRollout": func() error {
					_, err := e.l.UpdateRollout(ctx, "r-nobody", rollout.RolloutUpdate{Status: rollout.StatusRefreshing})
					return err
				},
				"Park": func() error { _, err := e.l.Park(ctx, "r-nobody", "token", 0); return err },
				"AddSignal": func() error {
					_, _, err := e.l.AddSignal(ctx, "r-nobody", rollout.Signal{Kind: rollout.SignalSucceeded, At: t0})
					return err
				},
			}
			for name, call := range calls {
				var nf *rollout.NotFoundError
				if err := call(); !errors.As(err, &nf) || nf.ID != "r-nobody" {
					t.Errorf("%s: got %v, want a NotFoundError for r-nobody", name, err)
				}
			}
			if _, err := e.l.GetRollout(ctx, "r-nobody"); err == nil {
				t.Fatal("UpdateRollout of a missing rollout created it")
			}
		}},
		{"a record without a start time is bad input", func(t *testing.T, g rollout.GroupKey) {
			r := newRollout(g, time.Time{})
			var bad *rollout.BadInputError
			if _, err := e.l.PutRollout(ctx, r); !errors.As(err, &bad) {
				t.Fatalf("got %v, want a BadInputError", err)
			}
		}},
		{"fields are set and zero fields left alone", func(t *testing.T, g rollout.GroupKey) {
			r := e.put(t, newRollout(g, t0))
			to := rollout.Version{LaunchTemplateID: "lt-0abc", Number: 5, ImageID: "ami-newer"}
			if _, err := e.l.UpdateRollout(ctx, r.ID, rollout.RolloutUpdate{Status: rollout.StatusRefreshing, To: &to, RefreshID: "ir-9"}); err != nil {
				t.Fatal(err)
			}
			got, err := e.l.UpdateRollout(ctx, r.ID, rollout.RolloutUpdate{Reason: "checkpoint 50 passed"})
			if err != nil {
				t.Fatal(err)
			}
			want := r
			want.Status, want.To, want.RefreshID, want.Reason = rollout.StatusRefreshing, to, "ir-9", "checkpoint 50 passed"
			wantSame(t, got, want)
		}},
		{"a retried step is recorded once", func(t *testing.T, g rollout.GroupKey) {
			r := e.put(t, newRollout(g, t0))
			u := rollout.RolloutUpdate{Status: rollout.StatusRefreshing, RefreshID: "ir-1",
				Step: &rollout.Step{Key: "start-refresh", At: t0.Add(time.Minute), Detail: "ir-1"}}
			first, err := e.l.UpdateRollout(ctx, r.ID, u)
			if err != nil {
				t.Fatal(err)
			}
			retry := u
			retry.Step = &rollout.Step{Key: "start-refresh", At: t0.Add(2 * time.Minute), Detail: "retried"}
			got, err := e.l.UpdateRollout(ctx, r.ID, retry)
			if err != nil {
				t.Fatal(err)
			}
			wantSame(t, got, first)
			if keys := stepKeys(got); !slices.Equal(keys, []string{"prepare", "start-refresh"}) {
				t.Fatalf("steps %v, want prepare, start-refresh", keys)
			}
			if n := e.count("rollout updated", `"rolloutId":"`+r.ID+`"`); n != 1 {
				t.Fatalf("the step was logged %d times, want once", n)
			}
		}},
		{"a step recorded at creation is not appended again", func(t *testing.T, g rollout.GroupKey) {
			r := e.put(t, newRollout(g, t0))
			got, err := e.l.UpdateRollout(ctx, r.ID, rollout.RolloutUpdate{Step: &rollout.Step{Key: "prepare", At: t0}})
			if err != nil {
				t.Fatal(err)
			}
			wantSame(t, got, r)
		}},
		{"a terminal status never goes back to non-terminal", func(t *testing.T, g rollout.GroupKey) {
			r := e.put(t, newRollout(g, t0))
			if _, err := e.l.UpdateRollout(ctx, r.ID, rollout.RolloutUpdate{Status: rollout.StatusReverted, EndedAt: t0.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			late := rollout.RolloutUpdate{Status: rollout.StatusRefreshing, RefreshID: "ir-late", Step: &rollout.Step{Key: "start-refresh", At: t0}}
			got, err := e.l.UpdateRollout(ctx, r.ID, late)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != rollout.StatusReverted {
				t.Fatalf("status %s, want reverted kept", got.Status)
			}
			if got.RefreshID != "ir-late" || !slices.Contains(stepKeys(got), "start-refresh") {
				t.Fatalf("the rest of the late update is lost: %+v", got)
			}
		}},
		{"a terminal rollout may be marked dirty", func(t *testing.T, g rollout.GroupKey) {
			r := e.put(t, newRollout(g, t0))
			for _, s := range []rollout.Status{rollout.StatusReverted, rollout.StatusDirty} {
				if _, err := e.l.UpdateRollout(ctx, r.ID, rollout.RolloutUpdate{Status: s}); err != nil {
					t.Fatal(err)
				}
			}
			if got, _ := e.l.GetRollout(ctx, r.ID); got.Status != rollout.StatusDirty {
				t.Fatalf("status %s, want dirty", got.Status)
			}
		}},
		{"a step without a key is bad input", func(t *testing.T, g rollout.GroupKey) {
			r := e.put(t, newRollout(g, t0))
			var bad *rollout.BadInputError
			if _, err := e.l.UpdateRollout(ctx, r.ID, rollout.RolloutUpdate{Step: &rollout.Step{At: t0}}); !errors.As(err, &bad) {
				t.Fatalf("got %v, want a BadInputError", err)
			}
		}},
		{"concurrent distinct steps are all recorded", func(t *testing.T, g rollout.GroupKey) {
			r := e.put(t, newRollout(g, t0))
			var wg sync.WaitGroup
			const steps = 8
			for i := range steps {
				wg.Go(func() {
					// Each step twice, as retried Lambdas would send it.
					for range 2 {
						u := rollout.RolloutUpdate{Step: &rollout.Step{Key: fmt.Sprintf("validate@%d", i), At: t0}}
						if _, err := e.l.UpdateRollout(ctx, r.ID, u); err != nil {
							t.Error(err)
						}
					}
				})
			}
			wg.Wait()
			got, err := e.l.GetRollout(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Steps) != steps+1 {
				t.Fatalf("%d steps recorded, want %d: %v", len(got.Steps), steps+1, stepKeys(got))
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, uniqueGroup())
		})
	}
}

func TestHistory(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	cases := []struct {
		name string
		run  func(t *testing.T, g rollout.GroupKey)
	}{
		{"history lists a group's rollouts newest first", func(t *testing.T, g rollout.GroupKey) {
			var ids []string
			// Start times that sort wrongly as plain RFC 3339 text.
			for _, d := range []time.Duration{0, 500 * time.Millisecond, time.Second, 10 * time.Hour} {
				ids = append(ids, e.put(t, newRollout(g, t0.Add(d))).ID)
			}
			e.put(t, newRollout(rollout.GroupKey{Region: g.Region, Name: g.Name + "#other"}, t0))
			h, err := e.l.History(ctx, g, time.Time{}, 0)
			if err != nil {
				t.Fatal(err)
			}
			slices.Reverse(ids)
			if got := rolloutIDs(h); !slices.Equal(got, ids) {
				t.Fatalf("history %v, want %v", got, ids)
			}
		}},
		{"history honours since and limit", func(t *testing.T, g rollout.GroupKey) {
			var ids []string
			for i := range 5 {
				ids = append(ids, e.put(t, newRollout(g, t0.Add(time.Duration(i)*time.Hour))).ID)
			}
			h, err := e.l.History(ctx, g, t0.Add(time.Hour), 0)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := rolloutIDs(h), []string{ids[4], ids[3], ids[2], ids[1]}; !slices.Equal(got, want) {
				t.Fatalf("since: %v, want %v", got, want)
			}
			h, err = e.l.History(ctx, g, t0.Add(time.Hour+time.Nanosecond), 2)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := rolloutIDs(h), []string{ids[4], ids[3]}; !slices.Equal(got, want) {
				t.Fatalf("since and limit: %v, want %v", got, want)
			}
		}},
		{"history shows a rollout's latest record", func(t *testing.T, g rollout.GroupKey) {
			r := e.put(t, newRollout(g, t0))
			latest, err := e.l.UpdateRollout(ctx, r.ID, rollout.RolloutUpdate{Status: rollout.StatusFinalized, EndedAt: t0.Add(time.Hour),
				Step: &rollout.Step{Key: "finalize", At: t0.Add(time.Hour)}})
			if err != nil {
				t.Fatal(err)
			}
			h, err := e.l.History(ctx, g, time.Time{}, 0)
			if err != nil || len(h) != 1 {
				t.Fatalf("history %+v, %v; want one entry", h, err)
			}
			wantSame(t, h[0], latest)
		}},
		{"a stale history copy never replaces a newer one", func(t *testing.T, g rollout.GroupKey) {
			r := e.put(t, newRollout(g, t0))
			done, err := e.l.UpdateRollout(ctx, r.ID, rollout.RolloutUpdate{Status: rollout.StatusFinalized})
			if err != nil {
				t.Fatal(err)
			}
			// The copy a slower, earlier writer would bring.
			if err := e.l.syncHistory(ctx, r, 1); err != nil {
				t.Fatal(err)
			}
			h, err := e.l.History(ctx, g, time.Time{}, 0)
			if err != nil || len(h) != 1 || h[0].Status != done.Status {
				t.Fatalf("history %+v, %v; want the finalized record", h, err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, uniqueGroup())
		})
	}
}

func TestRecentListsRolloutsAcrossGroupsNewestFirst(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	var ids []string
	for i := range 4 {
		g := uniqueGroup()
		ids = append(ids, e.put(t, newRollout(g, t0.Add(time.Duration(i)*time.Minute))).ID)
	}
	slices.Reverse(ids)
	all, err := e.l.Recent(ctx, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := rolloutIDs(all); !slices.Equal(got, ids) {
		t.Fatalf("recent %v, want %v", got, ids)
	}
	some, err := e.l.Recent(ctx, t0.Add(time.Minute), 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := rolloutIDs(some); !slices.Equal(got, ids[:2]) {
		t.Fatalf("recent since and limit %v, want %v", got, ids[:2])
	}
}

// rolloutIDs lists the rollout ids of rs.
func rolloutIDs(rs []rollout.Rollout) []string {
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}
