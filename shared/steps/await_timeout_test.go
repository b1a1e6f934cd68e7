package steps

import (
	"context"
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// TestAwaitTimeout holds the rule of docs/design.md, "The Await timeout":
// a poll falls within the pause at every checkpoint still ahead, a pause
// known from its event is waited out, and otherwise the slow fallback.
func TestAwaitTimeout(t *testing.T) {
	now := t0.Add(time.Hour)
	doc := func(checkpoints []int, delay time.Duration, validated int, s rollout.Signal) State {
		p := rollout.DefaultPolicy()
		p.Checkpoints, p.CheckpointDelay = checkpoints, delay
		return State{Policy: DocOf(p), Checkpoint: validated, Signal: s}
	}
	event := func(percent int, at time.Time) rollout.Signal {
		return rollout.Signal{Kind: rollout.SignalCheckpoint, Percentage: percent, At: at, Seq: 1}
	}
	polled := func(percent int) rollout.Signal {
		return rollout.Signal{Kind: rollout.SignalCheckpoint, Percentage: percent, At: now, Polled: true}
	}
	cps := []int{25, 50, 100}
	cases := []struct {
		name string
		slow time.Duration
		st   State
		want int64
	}{
		{"a refresh moving towards a checkpoint is polled within the checkpoint delay, less the margin",
			0, doc(cps, 10*time.Minute, 0, rollout.Signal{}), 570},
		{"a checkpoint validated on its event is waited out, then polled within the delay",
			0, doc(cps, 10*time.Minute, 25, event(25, now.Add(-time.Minute))), 540 + 570},
		{"a checkpoint the poll found may be at the end of its pause: polled within the delay",
			0, doc(cps, 10*time.Minute, 25, polled(25)), 570},
		{"an event whose pause has run out counts for nothing",
			0, doc(cps, 10*time.Minute, 25, event(25, now.Add(-time.Hour))), 570},
		{"a checkpoint not validated (inconclusive) adds no pause",
			0, doc(cps, 10*time.Minute, 0, event(25, now)), 570},
		{"the last checkpoint below 100 validated: its pause, then the slow fallback",
			0, doc(cps, 10*time.Minute, 50, event(50, now)), 600 + 1500},
		{"only the end ahead: the slow fallback",
			0, doc([]int{100}, 10*time.Minute, 0, rollout.Signal{}), 1500},
		{"baking: the slow fallback, whatever checkpoint was missed",
			0, doc(cps, 10*time.Minute, 0, rollout.Signal{Kind: rollout.SignalBaking, Polled: true, At: now}), 1500},
		{"the stack's slow fallback is the deployment's",
			20 * time.Minute, doc([]int{100}, 10*time.Minute, 0, rollout.Signal{}), 1200},
		{"a delay longer than the slow fallback: polled at the slow fallback's pace, within the delay",
			0, doc(cps, 30*time.Minute, 0, rollout.Signal{}), 1500},
		{"a delay longer than the slow fallback: its known pause waited out first",
			0, doc(cps, 30*time.Minute, 25, event(25, now)), 1800 + 1500},
		{"a short delay is polled no more than once a minute",
			0, doc(cps, time.Minute, 0, rollout.Signal{}), 60},
		{"no delay at all is polled once a minute",
			0, doc(cps, 0, 0, rollout.Signal{}), 60},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := Deps{AwaitTimeout: tc.slow}
			eq(t, d.awaitTimeout(tc.st, now), tc.want)
		})
	}
}

// Step Functions fails the execution (States.Runtime, which no Catch
// handles) if TimeoutSecondsPath finds anything but a positive integer.
func TestAwaitTimeoutIsAlwaysAPositiveWholeNumberOfSeconds(t *testing.T) {
	now := t0.Add(time.Hour)
	for _, delay := range []time.Duration{0, time.Second, 89 * time.Second, 90 * time.Second, time.Hour, 48 * time.Hour} {
		for _, validated := range []int{0, 25, 50} {
			for _, s := range []rollout.Signal{{}, {Kind: rollout.SignalCheckpoint, Percentage: 25, At: now.Add(time.Hour)}, {Kind: rollout.SignalInProgress}} {
				p := rollout.DefaultPolicy()
				p.CheckpointDelay = delay
				got := Deps{}.awaitTimeout(State{Policy: DocOf(p), Checkpoint: validated, Signal: s}, now)
				if got < 60 {
					t.Errorf("delay %s, validated %d, signal %+v: %d s", delay, validated, s, got)
				}
			}
		}
	}
}

// The steps after which Await comes write the timeout: StartRefresh,
// Validate (a checkpoint passed) and Poll.
func TestTheStepsBeforeAwaitWriteItsTimeout(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	w.deps.AwaitTimeout = 20 * time.Minute
	st := w.started(t)
	eq(t, st.AwaitTimeoutSeconds, 570) // the default policy's 600 s delay, less the margin

	reached := t0.Add(10 * time.Minute)
	w.serving(t, "4", 1, t0.Add(2*time.Minute))
	st.Signal = rollout.Signal{Kind: rollout.SignalCheckpoint, Percentage: 25, At: reached, Seq: 1}
	st = must(t)(w.deps.Validate(ctx, at(st, reached.Add(time.Minute))))
	eq(t, st.Verdict, rollout.VerdictPass)
	eq(t, st.AwaitTimeoutSeconds, 540+570)

	w.fleet.SetRefreshStatus(web, "refresh-1", rollout.RefreshBaking)
	st = must(t)(w.deps.Poll(ctx, at(st, reached.Add(30*time.Minute))))
	eq(t, st.Signal.Kind, rollout.SignalBaking)
	eq(t, st.AwaitTimeoutSeconds, 1200) // the deployment's slow fallback
}
