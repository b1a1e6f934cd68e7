package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// StartRefresh starts the instance refresh to the rollout's version with
// the version only in the desired configuration (the group is never changed
// first), SkipMatching for image rollouts and reverts but not for a
// recycle, and AutoRollback on the guard alarms when the group qualifies.
// A refresh of ours that is already there (the first attempt's answer was
// lost) is adopted; an active refresh Phoenix did not start ends the
// rollout as refused with *rollout.ForeignRefreshError.
func (d Deps) StartRefresh(ctx context.Context, in Input) (State, error) {
	log := d.logger(ctx, "start-refresh", in.State, in.Execution)
	st, err := d.startRefresh(ctx, log, in)
	return st, boundary(log, err)
}

func (d Deps) startRefresh(ctx context.Context, log *slog.Logger, in Input) (State, error) {
	st, now := in.State, in.Now
	if err := requireNow(in); err != nil {
		return st, err
	}
	r := st.Rollout
	if r.To.Number == 0 {
		return st, &rollout.BadInputError{Reason: "the document's rollout has no to-version; Prepare did not run"}
	}
	id, adopted, err := d.ourRefresh(ctx, r, now)
	if err != nil {
		return st, err
	}
	if id == "" {
		// Nothing has changed on the fleet yet: a halt set since Prepare
		// refuses the rollout rather than starting it.
		if why, err := d.halted(ctx, r.Group); err != nil {
			return st, err
		} else if why != "" {
			return st, d.refuse(ctx, log, r, why, now)
		}
		spec, err := d.refreshSpec(ctx, st)
		if err != nil {
			return st, err
		}
		id, err = d.Fleet.StartRefresh(ctx, spec)
		var busy *rollout.RefreshInProgressError
		if errors.As(err, &busy) {
			// Someone started one between our look and our start: ours
			// (an earlier attempt) is adopted, anyone else's refused.
			if id, adopted, err = d.ourRefresh(ctx, r, now); err == nil && id == "" {
				return st, busy
			}
		}
		if err != nil {
			return st, fmt.Errorf("start instance refresh of %s: %w", r.Group, err)
		}
		if !adopted {
			log.Info("started instance refresh", "refreshId", id, "launchTemplateId", spec.LaunchTemplateID, "version", spec.Version,
				"skipMatching", spec.SkipMatching, "autoRollbackAlarms", spec.AutoRollbackAlarms, "checkpoints", spec.Checkpoints)
		}
	}
	if adopted {
		log.Info("adopted instance refresh already started for this rollout", "refreshId", id)
	}
	notified, err := d.hasStep(ctx, r.ID, keyStartRefresh)
	if err != nil {
		return st, err
	}
	if !notified {
		// Told before recorded: a retry may tell twice but never not at all.
		started := r
		started.Status, started.RefreshID = rollout.StatusRefreshing, id
		msg := fmt.Sprintf("Rolling %s from launch template version %d (%s) to %d (%s) with instance refresh %s.",
			r.Group, r.From.Number, r.From.ImageID, r.To.Number, r.To.ImageID, id)
		if err := d.notify(ctx, DetailStarted, "info", started, msg); err != nil {
			return st, err
		}
	}
	rec, err := d.record(ctx, r.ID, rollout.RolloutUpdate{Status: rollout.StatusRefreshing, RefreshID: id}, keyStartRefresh, now,
		fmt.Sprintf("instance refresh %s to version %d", id, r.To.Number))
	if err != nil {
		return st, err
	}
	st.Rollout = forState(rec)
	return st, nil
}

// ourRefresh finds the rollout's refresh: the one recorded, else one whose
// desired configuration is the rollout's version and that started after the
// rollout did. An active refresh that is not ours is a
// *rollout.ForeignRefreshError; the refused rollout is recorded first.
func (d Deps) ourRefresh(ctx context.Context, r rollout.Rollout, now time.Time) (string, bool, error) {
	refreshes, err := d.Fleet.Refreshes(ctx, r.Group)
	if err != nil {
		return "", false, fmt.Errorf("describe refreshes of %s: %w", r.Group, err)
	}
	if got, ok := rollout.FindRefresh(refreshes, r.RefreshID); ok {
		return got.ID, true, nil
	}
	if rf, ok := adoptable(refreshes, r); ok {
		return rf.ID, true, nil
	}
	if active, ok := rollout.ActiveRefresh(refreshes); ok {
		return "", false, d.foreign(ctx, r, active, now)
	}
	return "", false, nil
}

// adoptable finds a refresh Phoenix started for the rollout but whose id it
// never recorded: its desired configuration is the rollout's to-version and
// it did not start before the rollout (which tells a recycle's refresh from
// an older one to the same version).
func adoptable(refreshes []rollout.Refresh, r rollout.Rollout) (rollout.Refresh, bool) {
	for _, rf := range refreshes {
		if rf.Targets(r.To) && (rf.StartTime.IsZero() || !rf.StartTime.Before(r.StartedAt)) {
			return rf, true
		}
	}
	return rollout.Refresh{}, false
}

// foreign refuses the rollout because of someone else's refresh. The pin
// and the new version Prepare made change no instance, so the rollout ends
// refused.
func (d Deps) foreign(ctx context.Context, r rollout.Rollout, active rollout.Refresh, at time.Time) error {
	log := d.logger(ctx, "start-refresh", State{Request: rollout.Request{RolloutID: r.ID, Group: r.Group, Mode: r.Mode}, Rollout: r}, r.ExecutionARN)
	reason := fmt.Sprintf("instance refresh %s (%s) that Phoenix did not start is running on the group", active.ID, active.Status)
	if _, err := d.record(ctx, r.ID, rollout.RolloutUpdate{Status: rollout.StatusRefused, Reason: reason, EndedAt: at}, keyRefused, at, reason); err != nil {
		return err
	}
	if err := d.notify(ctx, DetailRefused, "warning", r, "Phoenix refused the rollout and no instance was replaced: "+reason); err != nil {
		return err
	}
	if err := d.release(ctx, log, r); err != nil {
		return err
	}
	log.Warn("rollout refused", "reason", reason)
	return &rollout.ForeignRefreshError{Group: r.Group, RefreshID: active.ID}
}

// refreshSpec builds the forward refresh from the document's policy.
func (d Deps) refreshSpec(ctx context.Context, st State) (rollout.RefreshSpec, error) {
	r, p := st.Rollout, st.Policy.Policy()
	spec := rollout.RefreshSpec{
		Group: r.Group, LaunchTemplateID: r.To.LaunchTemplateID, Version: r.To.Number,
		Checkpoints: p.Checkpoints, CheckpointDelay: p.CheckpointDelay, MinHealthy: p.MinHealthy, MaxHealthy: p.MaxHealthy,
		Warmup: p.Warmup, Bake: p.Bake, SkipMatching: r.Mode != rollout.ModeRecycle,
	}
	if len(p.Alarms) > 0 {
		g, err := d.Fleet.Group(ctx, r.Group)
		if err != nil {
			return spec, fmt.Errorf("load group %s: %w", r.Group, err)
		}
		if rollout.AutoRollbackQualifies(g, r.To.ImageID) {
			spec.AutoRollbackAlarms = slices.Clone(p.Alarms)
		}
	}
	return spec, nil
}

// Await parks the task token in the ledger and, if a signal came before
// the token did, resumes the task at once with it (design.md, "no lost
// wake-ups"). Its return value is not used: the task's output is the
// signal it is resumed with.
func (d Deps) Await(ctx context.Context, in Input) (State, error) {
	log := d.logger(ctx, "await", in.State, in.Execution)
	err := d.await(ctx, log, in)
	return in.State, boundary(log, err)
}

func (d Deps) await(ctx context.Context, log *slog.Logger, in Input) error {
	if err := requireNow(in); err != nil {
		return err
	}
	if in.Token == "" {
		return &rollout.BadInputError{Reason: "Await needs the task token ($$.Task.Token)"}
	}
	id := in.State.Rollout.ID
	pending, err := d.Ledger.Park(ctx, id, in.Token, in.State.Signal.Seq)
	if err != nil {
		return fmt.Errorf("park task token of rollout %s: %w", id, err)
	}
	if in.State.Revert.Phase == "" {
		// A halt set while the refresh ran reverts the rollout at its next
		// wake-up, which is this one. A revert under way is left alone: it
		// is what a halt asks for.
		why, err := d.halted(ctx, in.State.Rollout.Group)
		if err != nil {
			return err
		}
		if why != "" {
			pending = append([]rollout.Signal{{Kind: rollout.SignalHalted, RefreshID: in.State.Rollout.RefreshID, Reason: why, At: in.Now, Seq: in.State.Signal.Seq}}, pending...)
		}
	}
	if len(pending) == 0 {
		log.Info("parked; waiting for a signal", "afterSeq", in.State.Signal.Seq)
		return nil
	}
	s := pick(pending)
	if err := d.Resumer.Resume(ctx, in.Token, s); err != nil {
		if isStale(err) {
			log.Info("signal already delivered by the event", "kind", s.Kind, "seq", s.Seq)
			return nil
		}
		return fmt.Errorf("resume rollout %s with %s: %w", id, s.Kind, err)
	}
	log.Info("signal came before the token; resumed at once", "kind", s.Kind, "seq", s.Seq)
	return nil
}

// pick chooses the signal to wake on from those not yet consumed: the
// first that means the rollout must revert, else the oldest, so checkpoints
// are validated in order but a failure is never queued behind them.
func pick(pending []rollout.Signal) rollout.Signal {
	for _, s := range pending {
		if rollout.FailureSignal(s.Kind) {
			return s
		}
	}
	return pending[0]
}

// EventResult says what RefreshEvent did with an event.
type EventResult struct {
	// Signal is the signal recorded, if any.
	Signal *rollout.Signal `json:"signal,omitempty"`
	// Resumed is true when a parked task was woken by this event.
	Resumed bool `json:"resumed"`
	// Ignored explains why the event was dropped.
	Ignored string `json:"ignored,omitempty"`
}

// RefreshEvent turns an "EC2 Auto Scaling Instance Refresh ..." event into
// a signal for the rollout that holds the group: it records the signal
// first and then resumes the parked task, if any. Events Phoenix does not
// act on (Started), events for refreshes that are not the active rollout's,
// and malformed events are dropped without error, because retrying them
// could never help.
func (d Deps) RefreshEvent(ctx context.Context, raw json.RawMessage) (EventResult, error) {
	log := d.baseLogger(ctx, "refresh-events")
	res, err := d.refreshEvent(ctx, log, raw)
	return res, boundary(log, err)
}

func (d Deps) refreshEvent(ctx context.Context, log *slog.Logger, raw json.RawMessage) (EventResult, error) {
	ev, err := rollout.ParseRefreshEvent(raw)
	if err != nil {
		log.Warn("event dropped", "reason", err.Error())
		return EventResult{Ignored: err.Error()}, nil
	}
	log = log.With("eventId", ev.ID, "detailType", ev.DetailType, "group", ev.Group.Name, "region", ev.Group.Region, "refreshId", ev.RefreshID)
	sig, ok := ev.Signal()
	if !ok {
		log.Info("event ignored: Phoenix does not act on it")
		return EventResult{Ignored: "detail-type " + ev.DetailType + " is not acted on"}, nil
	}
	active, found, err := d.Ledger.ActiveRollout(ctx, ev.Group)
	if err != nil {
		return EventResult{}, fmt.Errorf("active rollout of %s: %w", ev.Group, err)
	}
	if !found || active.RefreshID != ev.RefreshID || active.Status.Terminal() {
		log.Info("event ignored: not the refresh of an active rollout")
		return EventResult{Ignored: "refresh " + ev.RefreshID + " is not an active rollout's"}, nil
	}
	log = log.With("rolloutId", active.ID)
	if rollout.FailureSignal(sig.Kind) {
		// The event has no reason; DescribeInstanceRefreshes does. Best
		// effort: the signal matters more than its explanation.
		if refreshes, err := d.Fleet.Refreshes(ctx, ev.Group); err == nil {
			if rf, ok := rollout.FindRefresh(refreshes, ev.RefreshID); ok {
				sig.Reason = rf.StatusReason
			}
		} else {
			log.Warn("could not read the refresh's status reason", "error", err.Error())
		}
	}
	recorded, token, err := d.Ledger.AddSignal(ctx, active.ID, sig)
	if err != nil {
		return EventResult{}, fmt.Errorf("record signal %s of rollout %s: %w", sig.Kind, active.ID, err)
	}
	res := EventResult{Signal: &recorded}
	if token == "" {
		log.Info("signal recorded; no task parked yet", "kind", recorded.Kind, "seq", recorded.Seq)
		return res, nil
	}
	if err := d.Resumer.Resume(ctx, token, recorded); err != nil {
		if isStale(err) {
			log.Info("signal recorded; the parked task was already woken", "kind", recorded.Kind, "seq", recorded.Seq)
			return res, nil
		}
		return res, fmt.Errorf("resume rollout %s: %w", active.ID, err)
	}
	res.Resumed = true
	log.Info("signal recorded and task resumed", "kind", recorded.Kind, "seq", recorded.Seq)
	return res, nil
}

// Poll is the slow fallback when Await timed out: it reads the refresh and
// makes the signal an event would have brought. The signal keeps the last
// consumed sequence number, so the next Await still sees every recorded
// event.
func (d Deps) Poll(ctx context.Context, in Input) (State, error) {
	log := d.logger(ctx, "poll", in.State, in.Execution)
	st, err := d.poll(ctx, log, in)
	return st, boundary(log, err)
}

func (d Deps) poll(ctx context.Context, log *slog.Logger, in Input) (State, error) {
	st, now := in.State, in.Now
	if err := requireNow(in); err != nil {
		return st, err
	}
	r := st.Rollout
	refreshes, err := d.Fleet.Refreshes(ctx, r.Group)
	if err != nil {
		return st, fmt.Errorf("describe refreshes of %s: %w", r.Group, err)
	}
	seq := st.Signal.Seq
	rf, ok := rollout.FindRefresh(refreshes, r.RefreshID)
	if !ok {
		st.Signal = rollout.Signal{Kind: rollout.SignalFailed, RefreshID: r.RefreshID, At: now, Seq: seq,
			Reason: fmt.Sprintf("instance refresh %s is not among the group's refreshes", r.RefreshID)}
	} else {
		st.Signal = rollout.RefreshSignal(rf, st.Policy.Checkpoints, st.Checkpoint, now)
		st.Signal.Seq = seq
	}
	// The timeout that brought the execution here is handled; left in the
	// document it would later pass for the reason of a revert.
	st.Error = nil
	log.Info("polled the refresh", "refreshId", r.RefreshID, "kind", st.Signal.Kind, "percentage", st.Signal.Percentage)
	return st, nil
}
