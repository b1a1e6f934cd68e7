package steps

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/bluegreen"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// The blue/green flow (docs/blue-green.md). Prepare validates the pair and
// pins the version; Shift then moves the rollout on, one phase per call,
// and parks between calls on the same Await as a rolling rollout, so an
// alarm, a halt or `phoenix rollback` wakes it at once; SwitchBack puts all
// the traffic back on the old group in one call.

// Pairs reads and moves blue/green pairs; shared/fleet implements it.
type Pairs interface {
	// Pair reads the groups tagged phoenix:pair=name and the forward
	// actions naming their target groups; *rollout.NotFoundError when no
	// group carries the name.
	Pair(ctx context.Context, region, name string) (bluegreen.Pair, error)
	// SetWeights writes the weights of one forward action (one
	// ModifyListener or ModifyRule), the rest of the action kept.
	SetWeights(ctx context.Context, region string, fwd bluegreen.Forward, weights []bluegreen.WeightedTargetGroup) error
	// Resize sets a group's minimum and desired capacity.
	Resize(ctx context.Context, key rollout.GroupKey, minSize, desired int) error
}

// Phases of a blue/green rollout, in order.
const (
	// PhaseScaleUp: nothing moved yet; Shift brings the idle group up.
	PhaseScaleUp = ""
	// PhaseProve: the idle group launches on the new version; no traffic.
	PhaseProve = "prove"
	// PhaseShift: the new group takes Steps[Step] percent of the traffic.
	PhaseShift = "shift"
	// PhaseBake: the new group takes all the traffic; the old one is warm.
	PhaseBake = "bake"
	// PhaseGuard: the guard window; the old group still at full capacity.
	PhaseGuard = "guard"
	// PhaseScaledDown: the old group was scaled to zero; only finalizing
	// is left, and going back means relaunching.
	PhaseScaledDown = "scaled-down"
)

// What Shift asks the state machine to do next ($.bluegreen.next).
const (
	NextWait     = "wait"
	NextFinalize = "finalize"
	NextRollback = "rollback"
)

// proveCadence is how often Shift looks at the idle group while it comes
// up, and proveWithin how long it may take beyond the group's health check
// grace period before the rollout gives up on it.
const (
	proveCadence = 30 * time.Second
	proveWithin  = 15 * time.Minute
)

// watchCadence is how often Shift validates while the new group takes
// traffic (each step, the bake, the guard window): a target that turns
// unhealthy is found within it, plus the health checks' own lag, not at the
// end of a step or of a two-hour guard window. Guard alarms wake it at
// once through the alarm path. At 30 s a two-hour guard window costs about
// 240 short invocations and 1,700 history events, far inside the 25,000
// cap.
const watchCadence = 30 * time.Second

// Step keys of a blue/green rollout's timeline.
const (
	keyScaleUp    = "scale-up"
	keyProved     = "proved"
	keyShiftAt    = "shift@"
	keyBake       = "bake"
	keyGuard      = "guard"
	keyScaleDown  = "scale-down"
	keySwitchBack = "switch-back"
)

// BlueGreenState is where a blue/green rollout stands, in the execution
// document.
type BlueGreenState struct {
	Pair bluegreen.Prepared `json:"pair"`
	// Steps are the traffic percentages; Step the index in force.
	Steps []int  `json:"steps"`
	Step  int    `json:"step"`
	Phase string `json:"phase"`
	// LiveDesired is the live group's desired capacity at the start: the
	// floor of serving capacity, and the idle group's size. LiveMin is its
	// declared minimum, which moves to the new group at the end.
	LiveDesired int `json:"liveDesired"`
	LiveMin     int `json:"liveMin"`
	// Since is when the phase (or the step) began; ProveBy the deadline of
	// PhaseProve.
	Since   time.Time `json:"since,omitzero"`
	ProveBy time.Time `json:"proveBy,omitzero"`
	Next    string    `json:"next,omitempty"`
	// SignalSeq is the last ledger signal consumed.
	SignalSeq int64 `json:"signalSeq,omitempty"`
	// LeasedUntil is when the leases on both groups run out.
	LeasedUntil time.Time `json:"leasedUntil,omitzero"`
	// SwitchedBackAt is when SwitchBack put the traffic back.
	SwitchedBackAt time.Time `json:"switchedBackAt,omitzero"`
}

func (b BlueGreenState) live(region string) rollout.GroupKey {
	return rollout.GroupKey{Region: region, Name: b.Pair.Live.Name}
}

func (b BlueGreenState) idle(region string) rollout.GroupKey {
	return rollout.GroupKey{Region: region, Name: b.Pair.Idle.Name}
}

// preparePair reads and checks the pair of g (tagged blue-green), leases
// its other group, and returns the rollout's state, the live group (the one
// the rollout is preflighted on and rolls from) and the record, now under
// the pair's anchor group. A reason means a refusal: nothing was changed.
func (d Deps) preparePair(ctx context.Context, log *slog.Logger, in Input, g rollout.Group, base rollout.Rollout) (*BlueGreenState, rollout.Group, rollout.Rollout, string, error) {
	region := g.Key.Region
	name := strings.TrimSpace(g.Tags[bluegreen.TagPair])
	if name == "" {
		return nil, g, base, fmt.Sprintf("group %s is tagged %s=%s but names no pair (%s)", g.Key.Name, bluegreen.TagStrategy, bluegreen.StrategyBlueGreen, bluegreen.TagPair), nil
	}
	if d.Pairs == nil {
		return nil, g, base, "", errors.New("blue/green: no pair adapter configured")
	}
	p, err := d.Pairs.Pair(ctx, region, name)
	if isNotFound(err) {
		return nil, g, base, fmt.Sprintf("blue/green pair %q: %v", name, err), nil
	} else if err != nil {
		return nil, g, base, "", fmt.Errorf("read blue/green pair %s: %w", name, err)
	}
	prep, err := bluegreen.Prepare(p)
	var refusal *bluegreen.RefusalError
	if errors.As(err, &refusal) {
		return nil, g, base, refusal.Error(), nil
	} else if err != nil {
		return nil, g, base, "", err
	}
	live, idle := prep.Live.Group, prep.Idle.Group
	steps, err := bluegreen.ParseSteps(live.Tags[bluegreen.TagTrafficSteps])
	if err != nil {
		return nil, g, base, fmt.Sprintf("group %s: %v", live.Key.Name, err), nil
	}
	other, err := bluegreen.ParseSteps(idle.Tags[bluegreen.TagTrafficSteps])
	switch {
	case err != nil:
		return nil, g, base, fmt.Sprintf("group %s: %v", idle.Key.Name, err), nil
	case fmt.Sprint(other) != fmt.Sprint(steps):
		return nil, g, base, fmt.Sprintf("the groups' %s differ: %s has %v, %s has %v", bluegreen.TagTrafficSteps, live.Key.Name, steps, idle.Key.Name, other), nil
	case live.Desired < 1:
		return nil, g, base, fmt.Sprintf("the live group %s has desired capacity 0: there is no serving capacity to prove the new version against", live.Key.Name), nil
	case idle.Max < live.Desired:
		return nil, g, base, fmt.Sprintf("the idle group %s may grow to %d instances, fewer than the %d the live group %s serves with; raise its maximum size",
			idle.Key.Name, idle.Max, live.Desired, live.Key.Name), nil
	}
	if base.Pair == nil {
		base.Group = rollout.GroupKey{Region: region, Name: prep.Anchor()}
		base.Strategy = rollout.StrategyBlueGreen
		base.Pair = &rollout.PairSides{Name: prep.Name, Live: prep.Live.Name, Idle: prep.Idle.Name}
	}
	// Both groups are the rollout's: an alarm on either finds it, and no
	// other rollout starts on either while it runs.
	for _, key := range leased(base) {
		lease := rollout.Lease{Group: key, Owner: base.ID, Execution: in.Execution, ExpiresAt: in.Now.Add(d.LeaseTTL)}
		if err := d.Ledger.AcquireLease(ctx, lease, in.Now); err != nil {
			return nil, g, base, "", err
		}
	}
	log.Info("blue/green pair prepared", "pair", prep.Name, "live", prep.Live.Name, "idle", prep.Idle.Name, "steps", steps, "liveDesired", live.Desired)
	return &BlueGreenState{Pair: prep, Steps: steps, LiveDesired: live.Desired, LiveMin: live.Min, LeasedUntil: in.Now.Add(d.LeaseTTL)}, live, base, "", nil
}

// Shift moves a blue/green rollout on by one phase and says what the state
// machine does next ($.bluegreen.next): wait (park until a signal or the
// timeout it sets), finalize, or rollback. It is safe to run again: every
// change it makes is a write of a value, recorded once.
func (d Deps) Shift(ctx context.Context, in Input) (State, error) {
	log := d.logger(ctx, "shift", in.State, in.Execution)
	st, err := d.shift(ctx, log, in)
	return st, boundary(log, err)
}

func (d Deps) shift(ctx context.Context, log *slog.Logger, in Input) (State, error) {
	st, now := in.State, in.Now
	if err := requireNow(in); err != nil {
		return st, err
	}
	if st.BlueGreen == nil {
		return st, &rollout.BadInputError{Reason: "Shift needs a blue/green rollout ($.bluegreen)"}
	}
	bg := *st.BlueGreen
	st.BlueGreen = &bg
	r := st.Rollout
	log = log.With("phase", bg.Phase, "pair", bg.Pair.Name)
	if bg.Phase == PhaseScaledDown {
		// A retry after the old group was scaled down: only finalizing
		// is left.
		bg.Next, st.Verdict = NextFinalize, rollout.VerdictPass
		return st, nil
	}
	// The phase's wait ran out (ShiftAwait's States.Timeout): no news,
	// and not an error to carry into a later SwitchBack's reason.
	if st.Error != nil && st.Error.Error == "States.Timeout" {
		st.Error = nil
	}
	// A signal (the Await's result) that means going back wins over
	// everything; Shift leaves only the consumed sequence number behind.
	if s := st.Signal; s.Kind != "" {
		bg.SignalSeq = max(bg.SignalSeq, s.Seq)
		if rollout.FailureSignal(s.Kind) {
			log.Warn("signalled; switching back", "kind", s.Kind, "reason", s.Reason)
			bg.Next = NextRollback
			return st, nil
		}
	}
	st.Signal = rollout.Signal{Seq: bg.SignalSeq}
	for _, key := range leased(r) {
		why, err := d.halted(ctx, key)
		if err != nil {
			return st, err
		}
		if why != "" {
			st.Signal = rollout.Signal{Kind: rollout.SignalHalted, Reason: why, At: now, Seq: bg.SignalSeq}
			bg.Next = NextRollback
			return st, nil
		}
	}
	// A pair's rollout lasts its guard window: the leases are renewed once
	// half their time has gone, not at every look.
	if now.Add(d.LeaseTTL / 2).After(bg.LeasedUntil) {
		for _, key := range leased(r) {
			lease := rollout.Lease{Group: key, Owner: r.ID, Execution: in.Execution, ExpiresAt: now.Add(d.LeaseTTL)}
			if err := d.Ledger.AcquireLease(ctx, lease, now); err != nil {
				return st, err
			}
		}
		bg.LeasedUntil = now.Add(d.LeaseTTL)
	}
	region := r.Group.Region
	pol := st.Policy.Policy()
	switch bg.Phase {
	case PhaseScaleUp:
		return d.scaleUp(ctx, log, st, &bg, now)
	case PhaseProve:
		c, err := d.countSide(ctx, region, bg.idle(region), bg.Pair.Idle.TargetGroup, r.To.Number)
		if err != nil {
			return st, err
		}
		ok, why := c.Proven(bg.LiveDesired)
		switch {
		case ok:
			if _, err := d.record(ctx, r.ID, rollout.RolloutUpdate{}, keyProved, now, fmt.Sprintf("%s proven before traffic: %s", bg.Pair.Idle.Name, why)); err != nil {
				return st, err
			}
			log.Info("idle group proven", "detail", why)
			return d.enterStep(ctx, log, st, &bg, 0, now)
		case !now.Before(bg.ProveBy):
			return d.failPair(log, st, &bg, fmt.Sprintf("the idle group %s was not proven by %s: %s", bg.Pair.Idle.Name, stamp(bg.ProveBy), why))
		}
		log.Info("idle group not proven yet", "detail", why)
		return d.wait(st, &bg, min(proveCadence, bg.ProveBy.Sub(now))), nil
	}
	var hold time.Duration
	switch bg.Phase {
	case PhaseShift:
		hold = stepWait(pol)
	case PhaseBake:
		hold = pol.Bake
	case PhaseGuard:
		hold = pol.GuardWindow
	default:
		return st, &rollout.BadInputError{Reason: fmt.Sprintf("unknown blue/green phase %q", bg.Phase)}
	}
	// Every wake-up validates: the guard alarms and the new group's
	// health, whatever the phase.
	if fails, err := d.checkNew(ctx, st, bg); err != nil {
		return st, err
	} else if len(fails) > 0 {
		return d.failPair(log, st, &bg, fmt.Sprintf("at %d%% of the traffic on %s (%s): %s", bg.Steps[bg.Step], bg.Pair.Idle.Name, bg.Phase, strings.Join(fails, "; ")))
	}
	if left := bg.Since.Add(hold).Sub(now); left > 0 {
		return d.wait(st, &bg, min(left, watchCadence)), nil
	}
	switch bg.Phase {
	case PhaseShift:
		if bg.Step+1 < len(bg.Steps) {
			return d.enterStep(ctx, log, st, &bg, bg.Step+1, now)
		}
		return d.enterHold(ctx, log, st, &bg, PhaseBake, keyBake, pol.Bake, now,
			fmt.Sprintf("%s serves all the traffic; baking for %s with %s warm", bg.Pair.Idle.Name, pol.Bake, bg.Pair.Live.Name))
	case PhaseBake:
		return d.enterHold(ctx, log, st, &bg, PhaseGuard, keyGuard, pol.GuardWindow, now,
			fmt.Sprintf("guard window of %s: %s stays at full capacity, and a guard alarm switches back", pol.GuardWindow, bg.Pair.Live.Name))
	}
	return d.scaleDown(ctx, log, st, &bg, now)
}

// scaleUp points the idle group at the new version and brings it up to the
// live group's capacity; its minimum goes up too, so that its scaling
// policies cannot take it below that while it takes traffic.
func (d Deps) scaleUp(ctx context.Context, log *slog.Logger, st State, bg *BlueGreenState, now time.Time) (State, error) {
	r := st.Rollout
	idle := bg.idle(r.Group.Region)
	if err := d.Fleet.PinVersion(ctx, idle, r.To.LaunchTemplateID, r.To.Number); err != nil {
		return st, fmt.Errorf("point %s at version %d: %w", idle, r.To.Number, err)
	}
	if err := d.Pairs.Resize(ctx, idle, bg.LiveDesired, bg.LiveDesired); err != nil {
		return st, fmt.Errorf("bring %s up to %d instances: %w", idle, bg.LiveDesired, err)
	}
	g, err := d.Fleet.Group(ctx, idle)
	if err != nil {
		return st, fmt.Errorf("load group %s: %w", idle, err)
	}
	bg.ProveBy = now.Add(g.GracePeriod + proveWithin)
	notified, err := d.hasStep(ctx, r.ID, keyScaleUp)
	if err != nil {
		return st, err
	}
	if !notified {
		// Told before recorded, as StartRefresh does: a retry may tell
		// twice but never not at all.
		started := r
		started.Status = rollout.StatusRefreshing
		msg := fmt.Sprintf("Rolling pair %s blue/green from launch template version %d (%s) on %s to %d (%s) on %s, in traffic steps of %v.",
			bg.Pair.Name, r.From.Number, r.From.ImageID, bg.Pair.Live.Name, r.To.Number, r.To.ImageID, idle.Name, bg.Steps)
		if err := d.notify(ctx, DetailStarted, "info", started, msg); err != nil {
			return st, err
		}
	}
	if _, err := d.record(ctx, r.ID, rollout.RolloutUpdate{Status: rollout.StatusRefreshing}, keyScaleUp, now,
		fmt.Sprintf("%s launches %d instances on version %d (%s), no traffic; to be proven by %s", idle.Name, bg.LiveDesired, r.To.Number, r.To.ImageID, stamp(bg.ProveBy))); err != nil {
		return st, err
	}
	st.Rollout.Status = rollout.StatusRefreshing
	bg.Phase, bg.Since = PhaseProve, now
	log.Info("idle group scaling up", "group", idle.Name, "desired", bg.LiveDesired, "proveBy", bg.ProveBy)
	return d.wait(st, bg, proveCadence), nil
}

// enterStep moves the weights to step i, in one call.
func (d Deps) enterStep(ctx context.Context, log *slog.Logger, st State, bg *BlueGreenState, i int, now time.Time) (State, error) {
	r, pct := st.Rollout, bg.Steps[i]
	weights := bluegreen.Weights(bg.Pair.Forward, bg.Pair.Live.TargetGroup, bg.Pair.Idle.TargetGroup, pct)
	if err := d.Pairs.SetWeights(ctx, r.Group.Region, bg.Pair.Forward, weights); err != nil {
		return st, fmt.Errorf("shift %d%% of the traffic to %s: %w", pct, bg.Pair.Idle.Name, err)
	}
	if _, err := d.record(ctx, r.ID, rollout.RolloutUpdate{}, fmt.Sprintf("%s%d", keyShiftAt, pct), now,
		fmt.Sprintf("%d%% of the traffic on %s (version %d), %d%% on %s (version %d)", pct, bg.Pair.Idle.Name, r.To.Number, 100-pct, bg.Pair.Live.Name, r.From.Number)); err != nil {
		return st, err
	}
	log.Info("traffic shifted", "percent", pct, "to", bg.Pair.Idle.Name)
	bg.Phase, bg.Step, bg.Since = PhaseShift, i, now
	return d.wait(st, bg, min(stepWait(st.Policy.Policy()), watchCadence)), nil
}

// enterHold starts the bake or the guard window.
func (d Deps) enterHold(ctx context.Context, log *slog.Logger, st State, bg *BlueGreenState, phase, key string, hold time.Duration, now time.Time, detail string) (State, error) {
	if _, err := d.record(ctx, st.Rollout.ID, rollout.RolloutUpdate{}, key, now, detail); err != nil {
		return st, err
	}
	log.Info("holding", "phase", phase, "for", hold)
	bg.Phase, bg.Since = phase, now
	if hold <= 0 {
		// Nothing to hold: move on at once.
		return d.wait(st, bg, time.Second), nil
	}
	return d.wait(st, bg, min(hold, watchCadence)), nil
}

// scaleDown ends the guard window: the old group goes to zero (its minimum
// too) and the new one takes the old one's declared minimum. From here,
// going back means relaunching.
func (d Deps) scaleDown(ctx context.Context, log *slog.Logger, st State, bg *BlueGreenState, now time.Time) (State, error) {
	r := st.Rollout
	region := r.Group.Region
	live, idle := bg.live(region), bg.idle(region)
	c, err := d.countSide(ctx, region, idle, bg.Pair.Idle.TargetGroup, r.To.Number)
	if err != nil {
		return st, err
	}
	if !bluegreen.ScaleDownAllowed(100, c.Serving, bg.LiveDesired) {
		return d.failPair(log, st, bg, fmt.Sprintf("at the end of the guard window %s serves with %d instances, fewer than %d", idle.Name, c.Serving, bg.LiveDesired))
	}
	g, err := d.Fleet.Group(ctx, idle)
	if err != nil {
		return st, fmt.Errorf("load group %s: %w", idle, err)
	}
	if err := d.Pairs.Resize(ctx, live, 0, 0); err != nil {
		return st, fmt.Errorf("scale %s to zero: %w", live, err)
	}
	if err := d.Pairs.Resize(ctx, idle, min(bg.LiveMin, g.Desired), g.Desired); err != nil {
		return st, fmt.Errorf("give %s the minimum of %d: %w", idle, bg.LiveMin, err)
	}
	if _, err := d.record(ctx, r.ID, rollout.RolloutUpdate{}, keyScaleDown, now,
		fmt.Sprintf("%s scaled to zero; %s serves with %d instances (minimum %d)", live.Name, idle.Name, g.Desired, min(bg.LiveMin, g.Desired))); err != nil {
		return st, err
	}
	log.Info("old group scaled to zero", "group", live.Name)
	bg.Phase, bg.Since, bg.Next = PhaseScaledDown, now, NextFinalize
	st.Verdict, st.Reasons = rollout.VerdictPass, nil
	return st, nil
}

// checkNew validates the new side and the guard alarms.
func (d Deps) checkNew(ctx context.Context, st State, bg BlueGreenState) ([]string, error) {
	r := st.Rollout
	region := r.Group.Region
	c, err := d.countSide(ctx, region, bg.idle(region), bg.Pair.Idle.TargetGroup, r.To.Number)
	if err != nil {
		return nil, err
	}
	var alarms map[string]string
	if names := st.Policy.Alarms; len(names) > 0 {
		if alarms, err = d.Fleet.AlarmStates(ctx, region, names); err != nil {
			return nil, fmt.Errorf("describe alarms %v: %w", names, err)
		}
	}
	return c.Failures(bg.Pair.Idle.Name, bg.LiveDesired, alarms), nil
}

// countSide reads a group and its target group's health.
func (d Deps) countSide(ctx context.Context, region string, key rollout.GroupKey, targetGroup string, version int64) (bluegreen.Count, error) {
	g, err := d.Fleet.Group(ctx, key)
	if err != nil {
		return bluegreen.Count{}, fmt.Errorf("load group %s: %w", key, err)
	}
	health, err := d.Fleet.TargetHealth(ctx, region, []string{targetGroup})
	if err != nil {
		return bluegreen.Count{}, fmt.Errorf("target health of %s: %w", targetGroup, err)
	}
	return bluegreen.CountSide(g, health, targetGroup, versionString(version)), nil
}

// failPair ends the forward path: SwitchBack goes back.
func (d Deps) failPair(log *slog.Logger, st State, bg *BlueGreenState, reason string) (State, error) {
	log.Warn("blue/green validation failed; switching back", "reason", reason)
	st.Verdict, st.Reasons = rollout.VerdictFail, []string{reason}
	bg.Next = NextRollback
	return st, nil
}

// wait parks the rollout for at most d (the Await's timeout, whole seconds,
// at least one, and never longer than the slow fallback poll).
func (d Deps) wait(st State, bg *BlueGreenState, dur time.Duration) State {
	most := d.AwaitTimeout
	if most <= 0 {
		most = DefaultAwaitTimeout
	}
	dur = min(dur, most)
	st.AwaitTimeoutSeconds = max(1, int64((dur+time.Second-1)/time.Second))
	bg.Next = NextWait
	return st
}

// stepWait is how long each traffic step is watched before the next: the
// group's checkpoint delay, the same pause a rolling rollout holds at each
// checkpoint.
func stepWait(p rollout.Policy) time.Duration { return p.CheckpointDelay }

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// finalizePair makes a blue/green rollout permanent once the old group was
// scaled down: the new version becomes the template's default unless a
// group outside the pair launches from it, both groups record it as
// last-known-good, people are told, and both leases are released. note,
// when set, says why this runs outside Finalize.
func (d Deps) finalizePair(ctx context.Context, log *slog.Logger, st State, now time.Time, note string) (State, error) {
	r, bg := st.Rollout, st.BlueGreen
	to := r.To
	region := r.Group.Region
	def := "the launch template was not changed"
	if r.Mode != rollout.ModeRecycle {
		var err error
		if def, err = d.defaultFor(ctx, log, bg.idle(region), to, bg.Pair.Live.Name); err != nil {
			return st, err
		}
	}
	for _, key := range []rollout.GroupKey{bg.idle(region), bg.live(region)} {
		if err := d.Ledger.SetLastKnownGood(ctx, key, to, r.ID, now); err != nil {
			return st, fmt.Errorf("set last-known-good of %s: %w", key, err)
		}
	}
	told, err := d.hasStep(ctx, r.ID, keyFinalize)
	if err != nil {
		return st, err
	}
	detail := fmt.Sprintf("%s serves on version %d (%s), the last-known-good version of the pair; %s", bg.Pair.Idle.Name, to.Number, to.ImageID, def)
	if note != "" {
		detail += " (" + note + ")"
	}
	if !told {
		done := r
		done.Status, done.EndedAt = rollout.StatusFinalized, now
		msg := fmt.Sprintf("Pair %s: %s serves all the traffic on launch template version %d (%s); %s was scaled to zero after the guard window. Version %d is last-known-good, and %s.",
			bg.Pair.Name, bg.Pair.Idle.Name, to.Number, to.ImageID, bg.Pair.Live.Name, to.Number, def)
		if err := d.notify(ctx, DetailSucceeded, "info", done, msg); err != nil {
			return st, err
		}
	}
	rec, err := d.record(ctx, r.ID, rollout.RolloutUpdate{Status: rollout.StatusFinalized, EndedAt: now}, keyFinalize, now, detail)
	if err != nil {
		return st, err
	}
	if err := d.release(ctx, log, rec); err != nil {
		return st, err
	}
	st.Rollout = forState(rec)
	log.Info("finalized", "serving", bg.Pair.Idle.Name)
	return st, nil
}
