package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Busy is the state machine's Busy state: Prepare's retries waited for the
// group's lease as long as they do, and another rollout still holds it. The
// LeaseHeldError they ended on is in $.error, and its message, which names
// the holder, goes into the reason. Nothing was changed on the fleet, so
// the rollout is recorded refused, people are told, and the returned
// *rollout.PreflightError sends the execution to Refused. The holder keeps
// its lease.
func (d Deps) Busy(ctx context.Context, in Input) (State, error) {
	log := d.logger(ctx, "busy", in.State, in.Execution)
	st, err := d.busy(ctx, log, in)
	return st, boundary(log, err)
}

func (d Deps) busy(ctx context.Context, log *slog.Logger, in Input) (State, error) {
	st := in.State
	if err := requireNow(in); err != nil {
		return st, err
	}
	if err := st.Request.Validate(); err != nil {
		return st, &rollout.BadInputError{Reason: err.Error()}
	}
	return st, d.refuseBusy(ctx, log, in)
}

// refuseBusy ends a rollout whose group stayed leased by another rollout
// for as long as Prepare waits. A retried call finds the refusal recorded
// and refuses again without telling twice.
func (d Deps) refuseBusy(ctx context.Context, log *slog.Logger, in Input) error {
	req, now := in.State.Request, in.Now
	reason := "the group stayed busy with another rollout for as long as Phoenix waits for it"
	if in.State.Error != nil {
		if cause := errorMessage(in.State.Error.Cause); cause != "" {
			reason += " (" + cause + ")"
		}
	}
	base := rollout.Rollout{
		ID: req.RolloutID, Group: req.Group, Mode: req.Mode, Trigger: req.Trigger,
		Status: rollout.StatusPreparing, ExecutionARN: in.Execution, StartedAt: now,
	}
	existing, err := d.Ledger.GetRollout(ctx, req.RolloutID)
	switch {
	case err == nil && existing.Status == rollout.StatusRefused:
		return &rollout.PreflightError{Group: req.Group, Reason: existing.Reason}
	case err == nil && existing.Status.Terminal():
		return &rollout.BadInputError{Reason: fmt.Sprintf("rollout %s has already ended %s", req.RolloutID, existing.Status)}
	case err == nil:
		base = existing
	case !isNotFound(err):
		return fmt.Errorf("read rollout %s: %w", req.RolloutID, err)
	}
	return d.refuse(ctx, log, base, reason, now)
}

// errorMessage is the errorMessage of a Lambda error's Cause as Step
// Functions records it (a JSON document), or the Cause itself.
func errorMessage(cause string) string {
	var doc struct {
		ErrorMessage string `json:"errorMessage"`
	}
	if json.Unmarshal([]byte(cause), &doc) == nil && doc.ErrorMessage != "" {
		return doc.ErrorMessage
	}
	return strings.TrimSpace(cause)
}
