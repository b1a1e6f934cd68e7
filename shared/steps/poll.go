package steps

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

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
	st.Signal.Polled = true
	if missed := passedOver(st); len(missed) > 0 {
		// Either one replacement overtook them (AWS then pauses at the
		// highest only), or their pause ended before a poll came (a
		// checkpoint delay under 90 s, or polls that could not run) and
		// the refresh went on unjudged. Validate judges the fleet as the
		// refresh now has it (at the highest checkpoint passed, or at the
		// end).
		log.Warn("checkpoints passed without validation in their pause", "checkpoints", missed, "percentage", rf.PercentageComplete)
	}
	st.AwaitTimeoutSeconds = d.awaitTimeout(st, now)
	// The timeout that brought the execution here is handled; left in the
	// document it would later pass for the reason of a revert.
	st.Error = nil
	log.Info("polled the refresh", "refreshId", r.RefreshID, "kind", st.Signal.Kind, "percentage", st.Signal.Percentage,
		"awaitTimeoutSeconds", st.AwaitTimeoutSeconds)
	return st, nil
}

// passedOver returns the checkpoints below 100 that the refresh, as the
// poll found it, has gone past without Phoenix validating them: those above
// the highest validated and below the one the poll reports (or below 100
// when the refresh is past its checkpoints).
func passedOver(st State) []int {
	var upTo int
	switch st.Signal.Kind {
	case rollout.SignalCheckpoint:
		upTo = st.Signal.Percentage
	case rollout.SignalBaking, rollout.SignalSucceeded:
		upTo = 100
	default:
		return nil
	}
	var out []int
	for _, c := range st.Policy.Checkpoints {
		if c > st.Checkpoint && c < upTo {
			out = append(out, c)
		}
	}
	return out
}
