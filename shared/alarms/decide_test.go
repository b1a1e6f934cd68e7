package alarms

import (
	"strings"
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var webKey = rollout.GroupKey{Region: "us-east-1", Name: "web"}

// ro is a rollout of web started at t0 from version 1 to 2.
func ro(id string, mode rollout.Mode, status rollout.Status, mutate ...func(*rollout.Rollout)) *rollout.Rollout {
	r := &rollout.Rollout{
		ID: id, Group: webKey, Mode: mode, Status: status, RefreshID: "rf-" + id,
		From:      rollout.Version{LaunchTemplateID: "lt-1", Number: 1, ImageID: "ami-old"},
		To:        rollout.Version{LaunchTemplateID: "lt-1", Number: 2, ImageID: "ami-new"},
		StartedAt: t0,
	}
	if status.Terminal() {
		r.EndedAt = t0.Add(time.Hour)
	}
	for _, m := range mutate {
		m(r)
	}
	return r
}

// blueGreen makes a rollout a blue/green pair's.
func blueGreen(r *rollout.Rollout) {
	r.Strategy = rollout.StrategyBlueGreen
	r.Pair = &rollout.PairSides{Name: "web", Live: "web-blue", Idle: "web-green"}
}

func alarmAt(at time.Time) Event {
	return Event{ID: "ev-1", AlarmName: "web-5xx", State: StateAlarm, At: at, Time: at}
}

func TestDecide(t *testing.T) {
	t.Parallel()
	policy := rollout.DefaultPolicy() // guard window 2h
	ended := t0.Add(time.Hour)
	cases := []struct {
		name   string
		at     time.Time
		active *rollout.Rollout
		latest *rollout.Rollout
		want   Action
		// revertTo is the version of an ActionRevert.
		revertTo int64
		// reason must appear in the decision's reason.
		reason string
	}{
		{name: "an image rollout refreshing is signalled",
			at: t0.Add(10 * time.Minute), active: ro("r1", rollout.ModeImage, rollout.StatusRefreshing), want: ActionSignal, reason: "reverts now"},
		{name: "an image rollout preparing is signalled",
			at: t0.Add(time.Minute), active: ro("r1", rollout.ModeImage, rollout.StatusPreparing), want: ActionSignal},
		{name: "a lease whose rollout is not recorded yet is signalled",
			at: t0, active: &rollout.Rollout{ID: "r1", Group: webKey, Status: rollout.StatusPreparing}, want: ActionSignal},
		{name: "a recycle in flight is signalled to stop, not revert",
			at: t0.Add(10 * time.Minute), active: ro("c1", rollout.ModeRecycle, rollout.StatusRefreshing), want: ActionSignal, reason: "stops, on version 1"},
		{name: "a blue/green rollout shifting is signalled: it switches back",
			at: t0.Add(10 * time.Minute), active: ro("r1", rollout.ModeImage, rollout.StatusRefreshing, blueGreen), want: ActionSignal, reason: "reverts now"},
		{name: "a finalized blue/green rollout is not reverted: its guard window ran in flight",
			at: ended.Add(time.Minute), latest: ro("r1", rollout.ModeImage, rollout.StatusFinalized, blueGreen), want: ActionNotify, reason: "guard window ran before it finalized"},
		{name: "a rollout already reverting is left alone",
			at: t0.Add(10 * time.Minute), active: ro("r1", rollout.ModeImage, rollout.StatusReverting), want: ActionNone, reason: "already reverting"},
		{name: "a revert rollout in flight is never reverted",
			at: t0.Add(10 * time.Minute), active: ro("v1", rollout.ModeRevert, rollout.StatusRefreshing), want: ActionNone, reason: "never reverts a revert"},
		{name: "an alarm from before the rollout in flight started is not blamed on it",
			at: t0.Add(-time.Minute), active: ro("r1", rollout.ModeImage, rollout.StatusRefreshing), want: ActionNotify, reason: "before rollout r1 started"},
		{name: "a lease held by a rollout that just ended counts as no rollout in flight",
			at: ended.Add(time.Minute), active: ro("r1", rollout.ModeImage, rollout.StatusFinalized), latest: ro("r1", rollout.ModeImage, rollout.StatusFinalized),
			want: ActionRevert, revertTo: 1},
		{name: "an image rollout finalized within the guard window is reverted to its from-version",
			at: ended.Add(20 * time.Minute), latest: ro("r1", rollout.ModeImage, rollout.StatusFinalized), want: ActionRevert, revertTo: 1, reason: "within its guard window of 2h0m0s"},
		{name: "an alarm at the last instant of the guard window reverts",
			at: ended.Add(2 * time.Hour), latest: ro("r1", rollout.ModeImage, rollout.StatusFinalized), want: ActionRevert, revertTo: 1},
		{name: "an alarm after the guard window only notifies",
			at: ended.Add(2*time.Hour + time.Second), latest: ro("r1", rollout.ModeImage, rollout.StatusFinalized), want: ActionNotify, reason: "past its guard window"},
		{name: "an alarm from before the finalized rollout started only notifies",
			at: t0.Add(-time.Second), latest: ro("r1", rollout.ModeImage, rollout.StatusFinalized), want: ActionNotify, reason: "not blamed"},
		{name: "an alarm during the rollout, delivered after it finalized, reverts",
			at: t0.Add(30 * time.Minute), latest: ro("r1", rollout.ModeImage, rollout.StatusFinalized), want: ActionRevert, revertTo: 1},
		{name: "a finalized recycle is never reverted",
			at: ended.Add(time.Minute), latest: ro("c1", rollout.ModeRecycle, rollout.StatusFinalized), want: ActionNotify, reason: "recycle"},
		{name: "a finalized revert is never reverted",
			at: ended.Add(time.Minute), latest: ro("v1", rollout.ModeRevert, rollout.StatusFinalized), want: ActionNotify, reason: "never reverts a revert"},
		{name: "a pinned rollout within its window is not reverted, and the notice says how to go back",
			at: ended.Add(time.Minute), latest: ro("r1", rollout.ModeImage, rollout.StatusPinned), want: ActionNotify, reason: "ended pinned to version"},
		{name: "a reverted rollout leaves nothing to revert",
			at: ended.Add(time.Minute), latest: ro("r1", rollout.ModeImage, rollout.StatusReverted), want: ActionNotify, reason: "ended reverted"},
		{name: "a refused rollout leaves nothing to revert",
			at: ended.Add(time.Minute), latest: ro("r1", rollout.ModeImage, rollout.StatusRefused), want: ActionNotify, reason: "ended refused"},
		{name: "a dirty rollout is left to the human already called",
			at: ended.Add(time.Minute), latest: ro("r1", rollout.ModeImage, rollout.StatusDirty), want: ActionNotify, reason: "ended dirty"},
		{name: "a rollout in the history that never ended and holds no lease is not acted on",
			at: ended, latest: ro("r1", rollout.ModeImage, rollout.StatusRefreshing), want: ActionNotify, reason: "holds no lease"},
		{name: "a group Phoenix never rolled only notifies",
			at: t0, want: ActionNotify, reason: "no rollout of this group"},
		{name: "a finalized rollout without a from-version only notifies",
			at: ended, latest: ro("r1", rollout.ModeImage, rollout.StatusFinalized, func(r *rollout.Rollout) { r.From.Number = 0 }), want: ActionNotify, reason: "no version it rolled from"},
		{name: "a finalized rollout without an end time only notifies",
			at: ended, latest: ro("r1", rollout.ModeImage, rollout.StatusFinalized, func(r *rollout.Rollout) { r.EndedAt = time.Time{} }), want: ActionNotify, reason: "no end time"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := Decide(alarmAt(tc.at), GroupState{Active: tc.active, Latest: tc.latest, Policy: policy})
			if d.Action != tc.want {
				t.Fatalf("action %s (%s), want %s", d.Action, d.Reason, tc.want)
			}
			if d.RevertTo.Number != tc.revertTo {
				t.Errorf("revert to %d, want %d", d.RevertTo.Number, tc.revertTo)
			}
			if d.Reason == "" || !strings.Contains(d.Reason, tc.reason) {
				t.Errorf("reason %q does not say %q", d.Reason, tc.reason)
			}
			concerned := tc.active
			if concerned == nil || concerned.Status.Terminal() {
				concerned = tc.latest
			}
			if concerned != nil && d.Rollout.ID != concerned.ID {
				t.Errorf("decision about %q, want %q", d.Rollout.ID, concerned.ID)
			}
		})
	}
}

func TestTheGuardWindowIsTheGroups(t *testing.T) {
	t.Parallel()
	latest := ro("r1", rollout.ModeImage, rollout.StatusFinalized)
	p := rollout.DefaultPolicy()
	p.GuardWindow = 10 * time.Minute
	at := latest.EndedAt.Add(11 * time.Minute)
	if d := Decide(alarmAt(at), GroupState{Latest: latest, Policy: p}); d.Action != ActionNotify {
		t.Errorf("with a 10m window an alarm 11m after finalize gives %s, want notify", d.Action)
	}
	p.GuardWindow = 0
	if d := Decide(alarmAt(latest.EndedAt), GroupState{Latest: latest, Policy: p}); d.Action != ActionRevert {
		t.Errorf("with no window an alarm at the instant of finalize gives %s, want revert", d.Action)
	}
}

func TestRevertNamesDependOnlyOnTheRevertedRollout(t *testing.T) {
	t.Parallel()
	a, b := RevertName("img-web-0123456789abcdef01234567"), RevertName("img-web-0123456789abcdef01234568")
	if a == b || a != RevertName("img-web-0123456789abcdef01234567") {
		t.Errorf("names %q and %q", a, b)
	}
	for _, n := range []string{a, RevertName(strings.Repeat("x", 300)), RevertName("r/with spaces#and:colons")} {
		if !rollout.ValidExecutionName(n) || !strings.HasPrefix(n, "rvt-") {
			t.Errorf("name %q is not a valid rvt- execution name", n)
		}
	}
}
