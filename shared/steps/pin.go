package steps

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// DetailPinned is the detail-type of the notification of a pinned rollout.
const DetailPinned = "Phoenix Rollout Pinned"

// keyPin is the ledger timeline's step of a pinned end.
const keyPin = "pin"

// Pin ends a rollout whose refresh succeeded with nothing to validate: the
// group had no instance (desired capacity 0), so the final verdict was
// unvalidated. A validation of nothing is no proof, so the version is not
// finalized: the group references the numbered new version (the refresh
// made it so; a scale-out launches it), but last-known-good stays where it
// was and the launch template's default is not moved to it. The rollout is
// recorded pinned with the reason, people are told, and the lease is
// released. A revert rollout pinned this way (an empty group sent back to
// the version it ran before) restores what the rollout it reverts had
// moved: the default, off the condemned version, and last-known-good, back
// to the version it goes back to, which had been last-known-good before;
// leaving last-known-good on the condemned version would lose track of
// the last good one.
func (d Deps) Pin(ctx context.Context, in Input) (State, error) {
	log := d.logger(ctx, "pin", in.State, in.Execution)
	st, err := d.pin(ctx, log, in)
	return st, boundary(log, err)
}

func (d Deps) pin(ctx context.Context, log *slog.Logger, in Input) (State, error) {
	st, now := in.State, in.Now
	if err := requireNow(in); err != nil {
		return st, err
	}
	if st.Verdict != rollout.VerdictUnvalidated {
		return st, &rollout.BadInputError{Reason: fmt.Sprintf("pin needs an unvalidated verdict, got %q", st.Verdict)}
	}
	r := st.Rollout
	to := r.To
	if err := d.pinGroup(ctx, log, r.Group, to); err != nil {
		return st, err
	}
	lkg, def := "none is recorded", "the launch template's default was not moved to it"
	if r.Mode == rollout.ModeRevert {
		moved, err := d.restoreDefault(ctx, log, r.Group.Region, r.From, to)
		if err != nil {
			return st, err
		}
		if moved {
			def = fmt.Sprintf("the launch template's default went back to it from the condemned version %d", r.From.Number)
		}
		if err := d.Ledger.SetLastKnownGood(ctx, r.Group, to, r.ID, now); err != nil {
			return st, fmt.Errorf("restore last-known-good of %s: %w", r.Group, err)
		}
		lkg = fmt.Sprintf("it goes back to version %d (%s), as a revert restores it", to.Number, to.ImageID)
	} else if v, _, ok, err := d.Ledger.LastKnownGood(ctx, r.Group); err != nil {
		return st, fmt.Errorf("read last-known-good of %s: %w", r.Group, err)
	} else if ok {
		lkg = fmt.Sprintf("it stays version %d (%s)", v.Number, v.ImageID)
	}
	why := "pinned, not validated: " + strings.Join(st.Reasons, " ")
	notified, err := d.hasStep(ctx, r.ID, keyPin)
	if err != nil {
		return st, err
	}
	if !notified {
		done := r
		done.Status, done.Reason, done.EndedAt = rollout.StatusPinned, why, now
		msg := fmt.Sprintf("%s is pinned to launch template version %d (%s), NOT validated: %s "+
			"Instances it launches later run that version without Phoenix having seen it work. "+
			"Last-known-good: %s; %s.",
			r.Group, to.Number, to.ImageID, strings.Join(st.Reasons, " "), lkg, def)
		if err := d.notify(ctx, DetailPinned, "warning", done, msg); err != nil {
			return st, err
		}
	}
	rec, err := d.record(ctx, r.ID, rollout.RolloutUpdate{Status: rollout.StatusPinned, Reason: why, EndedAt: now}, keyPin, now,
		fmt.Sprintf("pinned to version %d (%s), not validated; last-known-good: %s; %s", to.Number, to.ImageID, lkg, def))
	if err != nil {
		return st, err
	}
	if err := d.release(ctx, log, rec); err != nil {
		return st, err
	}
	st.Rollout = forState(rec)
	log.Warn("pinned, not validated", "reasons", st.Reasons)
	return st, nil
}
