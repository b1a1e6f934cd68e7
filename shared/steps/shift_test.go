package steps

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/bluegreen"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// The blue/green steps over fakes: the phases, the signals, the halt, and
// the retries. test/e2e/bluegreen_test.go runs the same on the deployed
// template.

const (
	tgBlue   = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-blue/1"
	tgGreen  = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-green/2"
	listener = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/web/1/2"
)

var (
	blue  = rollout.GroupKey{Region: "eu-west-1", Name: "web-blue"}
	green = rollout.GroupKey{Region: "eu-west-1", Name: "web-green"}
)

// pairs is a Pairs over the fake fleet: one listener whose forward action
// names both target groups.
type pairs struct {
	w       *world
	mu      sync.Mutex
	weights []bluegreen.WeightedTargetGroup
	writes  int
}

func (p *pairs) Pair(ctx context.Context, region, name string) (bluegreen.Pair, error) {
	var gs []rollout.Group
	for _, k := range []rollout.GroupKey{blue, green} {
		g, err := p.w.fleet.Group(ctx, k)
		if err != nil {
			return bluegreen.Pair{}, err
		}
		gs = append(gs, g)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return bluegreen.Pair{Name: name, Groups: gs, Forwards: []bluegreen.Forward{{ListenerARN: listener, Groups: slices.Clone(p.weights)}}}, nil
}

func (p *pairs) SetWeights(_ context.Context, _ string, fwd bluegreen.Forward, weights []bluegreen.WeightedTargetGroup) error {
	if fwd.ListenerARN != listener {
		return fmt.Errorf("unknown listener %s", fwd.ListenerARN)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.weights = slices.Clone(weights)
	p.writes++
	return nil
}

func (p *pairs) Resize(_ context.Context, key rollout.GroupKey, minSize, desired int) error {
	g := p.w.fleet.GroupNow(key)
	g.Min, g.Desired = minSize, desired
	p.w.fleet.PutGroup(g)
	return nil
}

func (p *pairs) weight(tg string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, w := range p.weights {
		if w.ARN == tg {
			return w.Weight
		}
	}
	return -1
}

// newPairWorld is the world with a pair: web-blue serving four instances
// of version 3 at weight 100, web-green idle.
func newPairWorld(t *testing.T) (*world, *pairs) {
	t.Helper()
	w := newWorld(t)
	// The world's own group launches from another template, so that the
	// pair's two groups are the only users of theirs.
	other := w.fleet.GroupNow(web)
	other.LaunchTemplateID = "lt-other"
	w.fleet.PutGroup(other)
	tags := func() map[string]string {
		return map[string]string{rollout.TagEnabled: "true", bluegreen.TagStrategy: "blue-green", bluegreen.TagPair: "web", bluegreen.TagRole: "web",
			rollout.TagAlarms: "web-5xx", "phoenix:checkpoint-delay": "300", "phoenix:bake": "300", "phoenix:guard-window": "600"}
	}
	w.fleet.PutGroup(rollout.Group{Key: blue, LaunchTemplateID: "lt-1", LaunchTemplateVersion: "3", Min: 2, Max: 8, Desired: 4,
		HealthCheckType: "ELB", GracePeriod: time.Minute, TargetGroupARNs: []string{tgBlue}, Tags: tags(), Instances: instancesOn("3", 4)})
	w.fleet.PutGroup(rollout.Group{Key: green, LaunchTemplateID: "lt-1", LaunchTemplateVersion: "3", Max: 8,
		HealthCheckType: "ELB", GracePeriod: time.Minute, TargetGroupARNs: []string{tgGreen}, Tags: tags()})
	p := &pairs{w: w, weights: []bluegreen.WeightedTargetGroup{{ARN: tgBlue, Weight: 100}, {ARN: tgGreen, Weight: 0}}}
	w.deps.Pairs = p
	return w, p
}

// greenServes puts n healthy instances of version v in web-green.
func (w *world) greenServes(v string, n int) {
	in := instancesOn(v, n)
	var ts []rollout.TargetState
	for i := range in {
		in[i].ID = fmt.Sprintf("i-green-%d", i)
		ts = append(ts, rollout.TargetState{TargetGroupARN: tgGreen, InstanceID: in[i].ID, State: "healthy"})
	}
	w.fleet.SetInstances(green, in)
	w.fleet.SetTargets(ts)
}

// shiftAt runs Shift at now after the phase's wait ran out.
func (w *world) shiftAt(t *testing.T, st State, now time.Time) State {
	t.Helper()
	st.Error = &ErrorInfo{Error: "States.Timeout", Cause: "parked task timed out"}
	return must(t)(w.deps.Shift(context.Background(), at(st, now)))
}

func TestAPairsRolloutGoesThroughEveryPhaseAndFinalizes(t *testing.T) {
	t.Parallel()
	w, p := newPairWorld(t)
	ctx := context.Background()
	req := imageRequest()
	req.Request.Group = green // named by the idle group
	st := must(t)(w.deps.Prepare(ctx, at(req, t0)))
	bg := st.BlueGreen
	if bg == nil || bg.Pair.Live.Name != "web-blue" || bg.Pair.Idle.Name != "web-green" || bg.LiveDesired != 4 || bg.LiveMin != 2 ||
		!slices.Equal(bg.Steps, []int{10, 50, 100}) {
		t.Fatalf("prepared %+v", bg)
	}
	if st.Rollout.Group != blue || !st.Rollout.BlueGreen() || st.Rollout.Pair.Idle != "web-green" {
		t.Fatalf("the record is not under the pair's first group: %+v", st.Rollout)
	}
	for _, k := range []rollout.GroupKey{blue, green} {
		if l, ok := w.ledger.Lease(k); !ok || l.Owner != "r1" {
			t.Fatalf("%s lease %+v %v", k, l, ok)
		}
	}
	now := t0
	st = must(t)(w.deps.Shift(ctx, at(st, now)))
	if g := w.fleet.GroupNow(green); g.LaunchTemplateVersion != "4" || g.Desired != 4 || g.Min != 4 {
		t.Fatalf("green after scale-up %+v", g)
	}
	eq(t, st.BlueGreen.Phase, PhaseProve)
	eq(t, st.BlueGreen.Next, NextWait)
	eq(t, st.AwaitTimeoutSeconds, int64(30))
	if got := w.notes.DetailTypes(); !slices.Equal(got, []string{DetailStarted}) {
		t.Errorf("notifications %v, want one Started", got)
	}
	// Not up yet: still proving, no weight moved.
	now = now.Add(30 * time.Second)
	st = w.shiftAt(t, st, now)
	eq(t, st.BlueGreen.Phase, PhaseProve)
	eq(t, p.weight(tgGreen), 0)
	if st.Error != nil {
		t.Errorf("the timeout stayed in the document: %+v", st.Error)
	}
	w.greenServes("4", 4)
	now = now.Add(30 * time.Second)
	st = w.shiftAt(t, st, now)
	eq(t, st.BlueGreen.Phase, PhaseShift)
	eq(t, p.weight(tgGreen), 10)
	eq(t, p.weight(tgBlue), 90)
	// Each step is held for the checkpoint delay, looked at every 30 s.
	for _, want := range []int{50, 100} {
		for range 9 {
			now = now.Add(30 * time.Second)
			st = w.shiftAt(t, st, now)
			eq(t, st.BlueGreen.Next, NextWait)
		}
		now = now.Add(30 * time.Second)
		st = w.shiftAt(t, st, now)
		eq(t, p.weight(tgGreen), want)
	}
	for _, phase := range []string{PhaseBake, PhaseGuard} {
		now = now.Add(300 * time.Second)
		st = w.shiftAt(t, st, now)
		eq(t, st.BlueGreen.Phase, phase)
	}
	if g := w.fleet.GroupNow(blue); g.Desired != 4 {
		t.Fatalf("blue scaled down before the guard window ended: %+v", g)
	}
	now = now.Add(600 * time.Second)
	st = w.shiftAt(t, st, now)
	eq(t, st.BlueGreen.Phase, PhaseScaledDown)
	eq(t, st.BlueGreen.Next, NextFinalize)
	if b, g := w.fleet.GroupNow(blue), w.fleet.GroupNow(green); b.Desired != 0 || b.Min != 0 || g.Min != 2 || g.Desired != 4 {
		t.Fatalf("after the guard window blue %+v green %+v", b, g)
	}
	// A retried Shift after the scale-down only asks to finalize again.
	again := w.shiftAt(t, st, now.Add(time.Second))
	eq(t, again.BlueGreen.Next, NextFinalize)
	st = must(t)(w.deps.Finalize(ctx, at(st, now)))
	eq(t, st.Rollout.Status, rollout.StatusFinalized)
	eq(t, st.Rollout.Serving(), "web-green")
	if got := w.notes.DetailTypes(); !slices.Equal(got, []string{DetailStarted, DetailSucceeded}) {
		t.Errorf("notifications %v, want Started then Succeeded", got)
	}
	for _, k := range []rollout.GroupKey{blue, green} {
		if v, _, ok, _ := w.ledger.LastKnownGood(ctx, k); !ok || v.Number != 4 {
			t.Errorf("last-known-good of %s: %+v %v", k, v, ok)
		}
		if _, ok := w.ledger.Lease(k); ok {
			t.Errorf("%s still leased", k)
		}
	}
	// The pair's two groups are one user of the template: its default
	// moves.
	eq(t, w.fleet.DefaultVersion("lt-1"), int64(4))
	rec, _ := w.ledger.Rollout("r1")
	var keys []string
	for _, s := range rec.Steps {
		keys = append(keys, s.Key)
	}
	want := []string{"prepare", "scale-up", "proved", "shift@10", "shift@50", "shift@100", "bake", "guard", "scale-down", "finalize"}
	if !slices.Equal(keys, want) {
		t.Errorf("timeline %v, want %v", keys, want)
	}
}

// shifting is a pair's rollout at 10% of the traffic.
func shifting(t *testing.T) (*world, *pairs, State) {
	t.Helper()
	w, p := newPairWorld(t)
	req := imageRequest()
	req.Request.Group = blue
	st := must(t)(w.deps.Prepare(context.Background(), at(req, t0)))
	st = must(t)(w.deps.Shift(context.Background(), at(st, t0)))
	w.greenServes("4", 4)
	st = w.shiftAt(t, st, t0.Add(time.Minute))
	eq(t, p.weight(tgGreen), 10)
	return w, p, st
}

func TestWhatSwitchesAPairBack(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		before func(*world, *State)
		reason string
	}{
		{"an alarm signal", func(_ *world, st *State) {
			st.Signal = rollout.Signal{Kind: rollout.SignalAlarm, Alarm: "web-5xx", Reason: "alarm web-5xx is in ALARM: 5xx", Seq: 1}
		}, "alarm web-5xx is in ALARM"},
		{"a rollback requested", func(_ *world, st *State) {
			st.Signal = rollout.Signal{Kind: rollout.SignalRollbackRequested, Reason: "rollback requested by ops", Seq: 1}
		}, "rollback requested by ops"},
		{"a halt of the other group", func(w *world, st *State) {
			w.ledger.SetHalt(rollout.Halt{Group: green, Reason: "incident 7", At: t0})
		}, "incident 7"},
		{"a guard alarm in ALARM at a look", func(w *world, _ *State) { w.fleet.SetAlarm("web-5xx", "ALARM") }, "guard alarm web-5xx is in ALARM"},
		{"an unhealthy new target", func(w *world, _ *State) {
			w.fleet.SetTargets([]rollout.TargetState{{TargetGroupARN: tgGreen, InstanceID: "i-green-0", State: "unhealthy"}})
		}, "instances i-green-0 are unhealthy"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w, p, st := shifting(t)
			tc.before(w, &st)
			if st.Signal.Kind == "" {
				st.Error = &ErrorInfo{Error: "States.Timeout"}
			}
			st = must(t)(w.deps.Shift(context.Background(), at(st, t0.Add(90*time.Second))))
			eq(t, st.BlueGreen.Next, NextRollback)
			eq(t, p.weight(tgGreen), 10) // Shift never moves weight back itself
			writes := p.writes
			back := must(t)(w.deps.SwitchBack(context.Background(), at(st, t0.Add(91*time.Second))))
			eq(t, back.Rollout.Status, rollout.StatusReverted)
			eq(t, p.weight(tgBlue), 100)
			eq(t, p.weight(tgGreen), 0)
			eq(t, p.writes, writes+1)
			if !strings.Contains(back.Rollout.Reason, tc.reason) {
				t.Errorf("reason %q, want %q", back.Rollout.Reason, tc.reason)
			}
			if g := w.fleet.GroupNow(green); g.Desired != 0 || g.Min != 0 || g.LaunchTemplateVersion != "3" {
				t.Errorf("green %+v, want scaled down and back on version 3", g)
			}
			if b := w.fleet.GroupNow(blue); b.Desired != 4 {
				t.Errorf("blue %+v touched", b)
			}
			eq(t, back.Rollout.Serving(), "web-blue")
			// A retry changes nothing and tells nobody again.
			told := len(w.notes.Sent())
			again := must(t)(w.deps.SwitchBack(context.Background(), at(st, t0.Add(92*time.Second))))
			eq(t, again.Rollout.Status, rollout.StatusReverted)
			eq(t, len(w.notes.Sent()), told)
		})
	}
}

func TestAFailureAfterTheOldGroupWasScaledDownFinishesTheFinalize(t *testing.T) {
	t.Parallel()
	w, p, st := shifting(t)
	st.BlueGreen.Phase = PhaseScaledDown
	st.Error = &ErrorInfo{Error: "TransientError", Cause: "SNS was down"}
	st = must(t)(w.deps.SwitchBack(context.Background(), at(st, t0.Add(time.Hour))))
	eq(t, st.Rollout.Status, rollout.StatusFinalized)
	eq(t, p.weight(tgGreen), 10) // no switch back once the old group is gone
}
