package steps

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// maxRevertMoves bounds how often one invocation re-reads the refresh after
// AWS refused a move because the refresh changed under it (it ended between
// the read and the call).
const maxRevertMoves = 3

// Revert brings the fleet back. Its first run (no revert phase yet) starts
// the revert: a native rollback while the refresh runs and is eligible,
// else a cancel followed by a refresh back to last-known-good (or, with none
// recorded, to the version the rollout started from). Later runs (after
// AwaitRevert) check and move it on. When the fleet is back, the template's
// default version is restored if it had moved to the bad version, the
// rollout is recorded reverted, people are told and the lease is released.
// A revert that cannot finish returns *rollout.RevertFailedError, which the
// state machine sends to Dirty.
func (d Deps) Revert(ctx context.Context, in Input) (State, error) {
	log := d.logger(ctx, "revert", in.State, in.Execution)
	st, err := d.revert(ctx, log, in)
	return st, boundary(log, err)
}

func (d Deps) revert(ctx context.Context, log *slog.Logger, in Input) (State, error) {
	st, now := in.State, in.Now
	if err := requireNow(in); err != nil {
		return st, err
	}
	r := st.Rollout
	rv := st.Revert
	if r.Mode == rollout.ModeRevert {
		return st, d.abandonRevert(ctx, log, r, reasonOf(st))
	}
	if rv.Phase == "" && r.Mode == rollout.ModeImage && r.To.Number != 0 {
		lkg, _, ok, err := d.Ledger.LastKnownGood(ctx, r.Group)
		if err != nil {
			return st, fmt.Errorf("read last-known-good of %s: %w", r.Group, err)
		}
		if ok && lkg.LaunchTemplateID == r.To.LaunchTemplateID && lkg.Number == r.To.Number {
			return d.finishFinalize(ctx, log, st, now)
		}
	}
	if rv.Phase == "" {
		rv.Reason = reasonOf(st)
		target, err := d.revertTarget(ctx, r)
		if err != nil {
			return st, err
		}
		rv.Target = target
		if _, err := d.record(ctx, r.ID, rollout.RolloutUpdate{Status: rollout.StatusReverting, Reason: rv.Reason}, keyRevertStart, now,
			fmt.Sprintf("reverting to version %d: %s", target.Number, rv.Reason)); err != nil {
			return st, err
		}
		log.Warn("reverting", "reason", rv.Reason, "targetVersion", target.Number)
	}
	for range maxRevertMoves {
		next, err := d.nextRevertStep(ctx, r, rv)
		if err != nil {
			return st, err
		}
		if !next.Act {
			rv.Phase = next.Phase
			if next.Phase == rollout.RevertDone {
				rv.Target = next.On
			}
			break
		}
		moved, err := d.revertMove(ctx, log, st, &rv, next, now)
		if err != nil {
			return st, err
		}
		if moved {
			break
		}
	}
	st.Revert = rv
	if rv.Phase != rollout.RevertDone {
		log.Info("revert under way", "phase", string(rv.Phase), "revertRefreshId", rv.RefreshID)
		return st, nil
	}
	return d.reverted(ctx, log, st, now)
}

// finishFinalize ends a rollout whose Finalize had committed (default
// version, the group's version and last-known-good all moved to the new
// version, which passed its final validation) and then failed, e.g. an SNS
// outage outlasting the retries of its notification. Reverting now would
// "revert" to last-known-good, the new version, and call the rollout
// reverted while the fleet runs it; so the finalize is finished instead:
// told (best effort: the failure that brought us here may persist),
// recorded finalized, the lease released. The execution then ends through
// RevertCheck with the revert phase done.
func (d Deps) finishFinalize(ctx context.Context, log *slog.Logger, st State, now time.Time) (State, error) {
	r, to := st.Rollout, st.Rollout.To
	why := reasonOf(st)
	notified, err := d.hasStep(ctx, r.ID, keyFinalize)
	if err != nil {
		return st, err
	}
	if !notified {
		done := r
		done.Status, done.EndedAt = rollout.StatusFinalized, now
		msg := fmt.Sprintf("%s now runs launch template version %d (%s); it is the last-known-good version. (Finalize had committed before it failed: %s)", r.Group, to.Number, to.ImageID, why)
		if err := d.notify(ctx, DetailSucceeded, "info", done, msg); err != nil {
			log.Error("finalized, but the notification failed again; the ledger records the rollout finalized", "error", err.Error())
		}
	}
	rec, err := d.record(ctx, r.ID, rollout.RolloutUpdate{Status: rollout.StatusFinalized, EndedAt: now}, keyFinalize, now,
		fmt.Sprintf("version %d (%s) is the default and last-known-good (finalize had committed before it failed: %s)", to.Number, to.ImageID, why))
	if err != nil {
		return st, err
	}
	if err := d.release(ctx, log, rec); err != nil {
		return st, err
	}
	st.Rollout = forState(rec)
	st.Revert = RevertState{Phase: rollout.RevertDone, Target: to, Reason: "finalize had committed; nothing to revert: " + why}
	log.Warn("finalize had committed before it failed; finished it instead of reverting", "why", why)
	return st, nil
}

// abandonRevert ends a revert rollout (ModeRevert) that failed. Reverting
// it in turn would take the fleet back onto the version it was leaving,
// the one an alarm condemned, so it stops instead: a refresh of its own
// that still runs is cancelled (not rolled back, which would restore the
// condemned version) and *rollout.RevertFailedError sends the execution to
// Dirty, which tells a human. Safe to repeat: a second cancel finds no
// active refresh.
func (d Deps) abandonRevert(ctx context.Context, log *slog.Logger, r rollout.Rollout, reason string) error {
	refreshes, err := d.Fleet.Refreshes(ctx, r.Group)
	if err != nil {
		return fmt.Errorf("describe refreshes of %s: %w", r.Group, err)
	}
	state := "no refresh of it was running"
	if rf, ok := rollout.FindRefresh(refreshes, r.RefreshID); ok && rollout.RefreshActive(rf.Status) {
		if rf.Status != rollout.RefreshCancelling {
			if err := d.Fleet.CancelRefresh(ctx, r.Group); err != nil && !isNotFound(err) {
				return fmt.Errorf("cancel instance refresh of %s: %w", r.Group, err)
			}
			log.Warn("cancelled the revert's instance refresh", "refreshId", rf.ID, "why", reason)
		}
		state = fmt.Sprintf("its refresh %s was cancelled at %d%%, so instances may run either version", rf.ID, rf.PercentageComplete)
	}
	return &rollout.RevertFailedError{RolloutID: r.ID, Reason: fmt.Sprintf(
		"the revert of %s to launch template version %d failed (%s); %s, and Phoenix will not roll back onto version %d",
		r.Group, r.To.Number, reason, state, r.From.Number)}
}

// revertTarget is the version a revert returns to: for a recycle, the
// version it was recycling (a recycle is stopped, never turned into a change
// of version); otherwise last-known-good, else the version the rollout
// started from, or, when a pinned rollout had put the group on that
// version unvalidated, the version the group ran before it.
func (d Deps) revertTarget(ctx context.Context, r rollout.Rollout) (rollout.Version, error) {
	if r.Mode == rollout.ModeRecycle {
		return r.From, nil
	}
	lkg, _, ok, err := d.Ledger.LastKnownGood(ctx, r.Group)
	if err != nil {
		return rollout.Version{}, fmt.Errorf("read last-known-good of %s: %w", r.Group, err)
	}
	if ok && lkg.Number != 0 && lkg.LaunchTemplateID == r.From.LaunchTemplateID {
		return lkg, nil
	}
	// No last-known-good: the version the rollout started from, unless a
	// pinned rollout (nothing validated: design.md, "Pinned") put the group
	// on it; then the version before that, and so on back to one Phoenix
	// did not put there unvalidated.
	hist, err := d.Ledger.History(ctx, r.Group, time.Time{}, 0)
	if err != nil {
		return rollout.Version{}, fmt.Errorf("read the rollouts of %s: %w", r.Group, err)
	}
	v := r.From
	for _, h := range hist {
		if h.ID != r.ID && h.Status == rollout.StatusPinned && h.Mode == rollout.ModeImage &&
			h.To.LaunchTemplateID == v.LaunchTemplateID && h.To.Number == v.Number && h.From.Number != 0 {
			v = h.From
		}
	}
	return v, nil
}

// nextRevertStep reads the fleet and asks the domain what comes next.
func (d Deps) nextRevertStep(ctx context.Context, r rollout.Rollout, rv RevertState) (rollout.RevertStep, error) {
	refreshes, err := d.Fleet.Refreshes(ctx, r.Group)
	if err != nil {
		return rollout.RevertStep{}, fmt.Errorf("describe refreshes of %s: %w", r.Group, err)
	}
	g, err := d.Fleet.Group(ctx, r.Group)
	if err != nil {
		return rollout.RevertStep{}, fmt.Errorf("load group %s: %w", r.Group, err)
	}
	in := rollout.RevertInput{Rollout: r, Phase: rv.Phase, Target: rv.Target, Group: g}
	if fwd, ok := rollout.FindRefresh(refreshes, r.RefreshID); ok {
		in.Refresh = &fwd
	} else if r.RefreshID == "" && r.To.Number != 0 {
		// StartRefresh may have started one and lost the answer.
		if rf, ok := adoptable(refreshes, r); ok {
			in.Refresh = &rf
		}
	}
	if back, ok := rollout.FindRefresh(refreshes, rv.RefreshID); ok {
		in.Back = &back
	}
	return rollout.NextRevertStep(in)
}

// revertMove makes the AWS call of a revert phase. moved is false when AWS
// refused it because the refresh had moved on, and the caller reads again.
func (d Deps) revertMove(ctx context.Context, log *slog.Logger, st State, rv *RevertState, next rollout.RevertStep, now time.Time) (bool, error) {
	r := st.Rollout
	switch next.Phase {
	case rollout.RevertRollback:
		err := d.Fleet.RollbackRefresh(ctx, r.Group)
		if err == nil {
			log.Info("started instance refresh rollback", "refreshId", r.RefreshID, "why", next.Reason)
			rv.Phase = rollout.RevertRollback
			return true, nil
		}
		if rollout.IsTransient(err) {
			return false, err
		}
		// The refresh ended or became ineligible meanwhile: cancel instead.
		log.Warn("rollback refused; cancelling instead", "error", err.Error())
		return d.revertMove(ctx, log, st, rv, rollout.RevertStep{Phase: rollout.RevertCancel, Act: true, Reason: next.Reason}, now)
	case rollout.RevertCancel:
		err := d.Fleet.CancelRefresh(ctx, r.Group)
		switch {
		case err == nil:
			log.Info("cancelled instance refresh", "refreshId", r.RefreshID, "why", next.Reason)
			rv.Phase = rollout.RevertCancel
			return true, nil
		case isNotFound(err):
			// No active refresh any more: read again and refresh back.
			rv.Phase = rollout.RevertCancel
			return false, nil
		}
		return false, fmt.Errorf("cancel instance refresh of %s: %w", r.Group, err)
	case rollout.RevertRefreshBack:
		return d.refreshBack(ctx, log, st, rv, now)
	}
	return false, fmt.Errorf("revert phase %q has no move", next.Phase)
}

// refreshBack starts (or adopts) the refresh back to the target version:
// no checkpoints and no bake, because the target is known good, and
// SkipMatching so instances already on it stay.
func (d Deps) refreshBack(ctx context.Context, log *slog.Logger, st State, rv *RevertState, now time.Time) (bool, error) {
	r, p := st.Rollout, st.Policy.Policy()
	spec := rollout.RefreshSpec{
		Group: r.Group, LaunchTemplateID: rv.Target.LaunchTemplateID, Version: rv.Target.Number,
		MinHealthy: p.MinHealthy, MaxHealthy: p.MaxHealthy, Warmup: p.Warmup, SkipMatching: true,
	}
	id, err := d.Fleet.StartRefresh(ctx, spec)
	var busy *rollout.RefreshInProgressError
	if errors.As(err, &busy) {
		refreshes, derr := d.Fleet.Refreshes(ctx, r.Group)
		if derr != nil {
			return false, fmt.Errorf("describe refreshes of %s: %w", r.Group, derr)
		}
		active, _ := rollout.ActiveRefresh(refreshes)
		if active.ID == "" || active.ID == r.RefreshID || !active.Targets(rv.Target) {
			// The forward refresh, or someone else's, still runs: wait.
			log.Info("refresh back must wait for the active refresh", "activeRefreshId", active.ID)
			rv.Phase = rollout.RevertCancel
			return true, nil
		}
		id, err = active.ID, nil
	}
	if err != nil {
		return false, fmt.Errorf("start refresh back of %s to version %d: %w", r.Group, rv.Target.Number, err)
	}
	if rv.RefreshID != id {
		log.Info("started refresh back", "revertRefreshId", id, "launchTemplateId", spec.LaunchTemplateID, "version", spec.Version)
	}
	rv.RefreshID, rv.Phase = id, rollout.RevertRefreshBack
	// The ledger's refresh id follows the refresh Phoenix now awaits, so
	// refresh-events delivers the refresh back's events to AwaitRevert.
	if _, err := d.record(ctx, r.ID, rollout.RolloutUpdate{RefreshID: id}, keyRevertBack, now,
		fmt.Sprintf("refresh back %s to version %d", id, rv.Target.Number)); err != nil {
		return false, err
	}
	return true, nil
}

// reverted finishes a revert whose fleet is back on the target.
func (d Deps) reverted(ctx context.Context, log *slog.Logger, st State, now time.Time) (State, error) {
	r, rv := st.Rollout, st.Revert
	if r.Mode != rollout.ModeRecycle && r.To.Number != 0 && r.To.Number != rv.Target.Number {
		if _, err := d.restoreDefault(ctx, log, r.Group.Region, r.To, rv.Target); err != nil {
			return st, err
		}
	}
	notified, err := d.hasStep(ctx, r.ID, keyRevertDone)
	if err != nil {
		return st, err
	}
	if !notified {
		done := r
		done.Status, done.Reason, done.EndedAt = rollout.StatusReverted, rv.Reason, now
		msg := fmt.Sprintf("%s is back on launch template version %d (%s). Why: %s", r.Group, rv.Target.Number, rv.Target.ImageID, rv.Reason)
		if r.Mode == rollout.ModeRecycle {
			msg = fmt.Sprintf("The recycle of %s was stopped; the group stays on launch template version %d (%s), which was not changed. Why: %s",
				r.Group, rv.Target.Number, rv.Target.ImageID, rv.Reason)
		}
		if err := d.notify(ctx, DetailReverted, "warning", done, msg); err != nil {
			return st, err
		}
	}
	rec, err := d.record(ctx, r.ID, rollout.RolloutUpdate{Status: rollout.StatusReverted, Reason: rv.Reason, EndedAt: now}, keyRevertDone, now,
		fmt.Sprintf("fleet back on version %d", rv.Target.Number))
	if err != nil {
		return st, err
	}
	if err := d.release(ctx, log, rec); err != nil {
		return st, err
	}
	st.Rollout = forState(rec)
	log.Info("reverted", "targetVersion", rv.Target.Number)
	return st, nil
}
