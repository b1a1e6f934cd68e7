package steps

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Dirty ends a rollout whose revert failed: it records the dirty end with
// the reason, notifies with severity critical, and releases the lease so
// that an operator's fix can run. The state machine then fails the
// execution (NeedsHuman).
func (d Deps) Dirty(ctx context.Context, in Input) (State, error) {
	log := d.logger(ctx, "dirty", in.State, in.Execution)
	st, err := d.dirty(ctx, log, in)
	return st, boundary(log, err)
}

func (d Deps) dirty(ctx context.Context, log *slog.Logger, in Input) (State, error) {
	st, now := in.State, in.Now
	if err := requireNow(in); err != nil {
		return st, err
	}
	r := st.Rollout
	if r.ID == "" {
		r.ID, r.Group, r.Mode = st.Request.RolloutID, st.Request.Group, st.Request.Mode
	}
	reason := reasonOf(st)
	notified, err := d.hasStep(ctx, r.ID, keyDirty)
	if isNotFound(err) {
		// Prepare never recorded it; there is still a human to tell.
		notified, err = false, nil
	}
	if err != nil {
		return st, err
	}
	if !notified {
		done := r
		done.Status, done.Reason, done.EndedAt = rollout.StatusDirty, reason, now
		msg := fmt.Sprintf("Phoenix could not bring %s back and needs a human. Rollout %s from version %d to %d; forward refresh %q, revert phase %q, refresh back %q. Why: %s",
			r.Group, r.ID, r.From.Number, r.To.Number, r.RefreshID, st.Revert.Phase, st.Revert.RefreshID, reason)
		if err := d.notify(ctx, DetailAttention, "critical", done, msg); err != nil {
			return st, err
		}
	}
	rec, err := d.record(ctx, r.ID, rollout.RolloutUpdate{Status: rollout.StatusDirty, Reason: reason, EndedAt: now}, keyDirty, now, reason)
	if isNotFound(err) {
		rec = r
		rec.Status, rec.Reason, rec.EndedAt = rollout.StatusDirty, reason, now
		// Prepare never recorded it: its start is unknown here, so the
		// record starts when it ended, and names its execution and why it
		// was started, for the human it calls.
		rec.StartedAt, rec.ExecutionARN, rec.Trigger = now, in.Execution, st.Request.Trigger
		if rec, err = d.Ledger.PutRollout(ctx, rec); err != nil {
			return st, fmt.Errorf("record dirty rollout %s: %w", r.ID, err)
		}
	} else if err != nil {
		return st, err
	}
	if err := d.release(ctx, log, rec); err != nil {
		return st, err
	}
	st.Rollout = forState(rec)
	log.Error("rollout needs a human", "reason", reason)
	return st, nil
}
