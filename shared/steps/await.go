package steps

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

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
