package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

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
