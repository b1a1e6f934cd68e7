package steps

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/phoenix-rollouts/phoenix/shared/bluegreen"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// SwitchBack puts all the traffic back on the old group in one call, then
// scales the new group down and points it back at the old version, records
// the rollout reverted, tells people and releases both groups. Called after
// the old group was scaled down (a failure while finalizing), it finishes
// the finalize instead: the new group has served alone through the guard
// window, and going back now would mean relaunching.
func (d Deps) SwitchBack(ctx context.Context, in Input) (State, error) {
	log := d.logger(ctx, "switch-back", in.State, in.Execution)
	st, err := d.switchBack(ctx, log, in)
	return st, boundary(log, err)
}

func (d Deps) switchBack(ctx context.Context, log *slog.Logger, in Input) (State, error) {
	st, now := in.State, in.Now
	if err := requireNow(in); err != nil {
		return st, err
	}
	if st.BlueGreen == nil {
		return st, &rollout.BadInputError{Reason: "SwitchBack needs a blue/green rollout ($.bluegreen)"}
	}
	bg := *st.BlueGreen
	st.BlueGreen = &bg
	r := st.Rollout
	if r.Status == rollout.StatusFinalized || r.Status == rollout.StatusReverted {
		return st, nil
	}
	if bg.Phase == PhaseScaledDown {
		return d.finalizePair(ctx, log, st, now, "finalize had failed after the old group was scaled down: "+reasonOf(st))
	}
	region := r.Group.Region
	reason := reasonOf(st)
	weights := bluegreen.Weights(bg.Pair.Forward, bg.Pair.Idle.TargetGroup, bg.Pair.Live.TargetGroup, 100)
	if err := d.Pairs.SetWeights(ctx, region, bg.Pair.Forward, weights); err != nil {
		return st, fmt.Errorf("put the traffic back on %s: %w", bg.Pair.Live.Name, err)
	}
	if bg.SwitchedBackAt.IsZero() {
		bg.SwitchedBackAt = now
	}
	log.Warn("all the traffic is back on the old group", "group", bg.Pair.Live.Name, "reason", reason)
	if _, err := d.record(ctx, r.ID, rollout.RolloutUpdate{Status: rollout.StatusReverting, Reason: reason}, keySwitchBack, now,
		fmt.Sprintf("100%% of the traffic back on %s (version %d): %s", bg.Pair.Live.Name, r.From.Number, reason)); err != nil {
		return st, err
	}
	idle := bg.idle(region)
	if err := d.Pairs.Resize(ctx, idle, 0, 0); err != nil {
		return st, fmt.Errorf("scale %s down: %w", idle, err)
	}
	if r.From.Number > 0 {
		if err := d.Fleet.PinVersion(ctx, idle, r.From.LaunchTemplateID, r.From.Number); err != nil {
			return st, fmt.Errorf("point %s back at version %d: %w", idle, r.From.Number, err)
		}
	}
	told, err := d.hasStep(ctx, r.ID, keyRevertDone)
	if err != nil {
		return st, err
	}
	if !told {
		done := r
		done.Status, done.EndedAt, done.Reason = rollout.StatusReverted, now, reason
		msg := fmt.Sprintf("Pair %s: all the traffic went back to %s on version %d (%s) in one call at %s; %s was scaled down. Why: %s",
			bg.Pair.Name, bg.Pair.Live.Name, r.From.Number, r.From.ImageID, stamp(bg.SwitchedBackAt), idle.Name, reason)
		if err := d.notify(ctx, DetailReverted, "warning", done, msg); err != nil {
			return st, err
		}
	}
	rec, err := d.record(ctx, r.ID, rollout.RolloutUpdate{Status: rollout.StatusReverted, Reason: reason, EndedAt: now}, keyRevertDone, now,
		fmt.Sprintf("%s serves on version %d; %s scaled down", bg.Pair.Live.Name, r.From.Number, idle.Name))
	if err != nil {
		return st, err
	}
	if err := d.release(ctx, log, rec); err != nil {
		return st, err
	}
	st.Rollout = forState(rec)
	return st, nil
}
