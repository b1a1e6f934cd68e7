package steps

import (
	"context"
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
	st.AwaitTimeoutSeconds = d.awaitTimeout(st, now)
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
