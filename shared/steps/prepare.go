package steps

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/phoenix-rollouts/phoenix/shared/bluegreen"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Prepare takes the group's lease, loads the group, runs preflight, pins a
// $Latest/$Default group to the numbered version that reference means today
// (which replaces no instance), creates the new version (ModeImage: the
// current one with only ImageId changed, client token from the rollout id)
// and records the rollout. A held lease is *rollout.LeaseHeldError (the
// state machine retries it, then Busy records the refusal); a refusal
// releases the lease, records the rollout as refused, notifies and returns
// *rollout.PreflightError.
func (d Deps) Prepare(ctx context.Context, in Input) (State, error) {
	log := d.logger(ctx, "prepare", in.State, in.Execution)
	st, err := d.prepare(ctx, log, in)
	return st, boundary(log, err)
}

func (d Deps) prepare(ctx context.Context, log *slog.Logger, in Input) (State, error) {
	st, now, req := in.State, in.Now, in.State.Request
	if err := requireNow(in); err != nil {
		return st, err
	}
	if err := req.Validate(); err != nil {
		return st, &rollout.BadInputError{Reason: err.Error()}
	}
	lease := rollout.Lease{Group: req.Group, Owner: req.RolloutID, Execution: in.Execution, ExpiresAt: now.Add(d.LeaseTTL)}
	if err := d.Ledger.AcquireLease(ctx, lease, now); err != nil {
		return st, err
	}
	base := rollout.Rollout{
		ID: req.RolloutID, Group: req.Group, Mode: req.Mode, Trigger: req.Trigger,
		Status: rollout.StatusPreparing, ExecutionARN: in.Execution, StartedAt: now,
	}
	existing, err := d.Ledger.GetRollout(ctx, req.RolloutID)
	switch {
	case err == nil && existing.Status == rollout.StatusRefused:
		// A retry after the refusal was recorded: finish saying so.
		return st, d.refuse(ctx, log, existing, existing.Reason, now)
	case err == nil && existing.Status.Terminal():
		return st, &rollout.BadInputError{Reason: fmt.Sprintf("rollout %s has already ended %s", req.RolloutID, existing.Status)}
	case err == nil:
		base = existing
	case !isNotFound(err):
		return st, fmt.Errorf("read rollout %s: %w", req.RolloutID, err)
	}

	if why, err := d.halted(ctx, req.Group); err != nil {
		return st, err
	} else if why != "" {
		return st, d.refuse(ctx, log, base, why, now)
	}
	g, err := d.Fleet.Group(ctx, req.Group)
	if isNotFound(err) {
		return st, d.refuse(ctx, log, base, fmt.Sprintf("auto scaling group %s does not exist", req.Group), now)
	} else if err != nil {
		return st, fmt.Errorf("load group %s: %w", req.Group, err)
	}
	// A pair declared for blue/green is never rolled in place as two
	// rolling groups; an unknown strategy is refused for the same reason.
	var pair *BlueGreenState
	if strategy, err := bluegreen.Strategy(g.Tags); err != nil {
		return st, d.refuse(ctx, log, base, err.Error(), now)
	} else if strategy == bluegreen.StrategyBlueGreen {
		var reason string
		pair, g, base, reason, err = d.preparePair(ctx, log, in, g, base)
		switch {
		case err != nil:
			return st, err
		case reason != "":
			return st, d.refuse(ctx, log, base, reason, now)
		}
		log = log.With("pair", pair.Pair.Name, "live", pair.Pair.Live.Name, "idle", pair.Pair.Idle.Name)
	}
	policy, problems := rollout.ParsePolicy(g.Tags, d.Policy)
	for _, p := range problems {
		log.Warn("tag ignored", "problem", p.String())
	}
	pin, reason, err := d.preflightInput(ctx, req, g, policy, base.To)
	if err != nil {
		return st, err
	}
	if reason != "" {
		return st, d.refuse(ctx, log, base, reason, now)
	}
	pf, err := rollout.Preflight(pin)
	var refused *rollout.PreflightError
	if errors.As(err, &refused) {
		return st, d.refuse(ctx, log, base, refused.Reason, now)
	} else if err != nil {
		return st, err
	}
	for _, a := range pf.Adjustments {
		log.Info("policy adjusted", "reason", a)
	}

	if base.From.Number == 0 {
		base.From = rollout.Version{LaunchTemplateID: g.LaunchTemplateID, Number: pin.Current.Number, ImageID: pin.Current.ImageID}
	}
	rec, err := d.Ledger.PutRollout(ctx, base)
	if err != nil {
		return st, fmt.Errorf("record rollout %s: %w", req.RolloutID, err)
	}
	log = log.With("fromVersion", rec.From.Number)
	if _, numbered := rollout.NumberedVersion(g.LaunchTemplateVersion); !numbered {
		if err := d.Fleet.PinVersion(ctx, g.Key, g.LaunchTemplateID, rec.From.Number); err != nil {
			return st, fmt.Errorf("pin %s to version %d: %w", g.Key, rec.From.Number, err)
		}
		log.Info("pinned group to a numbered launch template version", "was", g.LaunchTemplateVersion, "launchTemplateId", g.LaunchTemplateID, "version", rec.From.Number)
	}

	to, err := d.toVersion(ctx, log, req, rec, pin)
	if err != nil {
		return st, err
	}
	if err := d.Fleet.DryRunLaunch(ctx, req.Group.Region, to.LaunchTemplateID, to.Number); err != nil {
		if rollout.IsTransient(err) {
			return st, err
		}
		return st, d.refuse(ctx, log, rec, fmt.Sprintf("a launch from launch template version %d would fail: %v", to.Number, err), now)
	}
	detail := fmt.Sprintf("from version %d (%s) to version %d (%s); policy checkpoints %v, healthy %d%%-%d%%, lowest healthy %d of %d",
		rec.From.Number, rec.From.ImageID, to.Number, to.ImageID, pf.Policy.Checkpoints, pf.Policy.MinHealthy, pf.Policy.MaxHealthy,
		pf.Capacity.LowestHealthy, pf.Capacity.Desired)
	if len(pf.Adjustments)+len(problems) > 0 {
		var notes []string
		for _, p := range problems {
			notes = append(notes, p.String())
		}
		detail += "; " + strings.Join(append(notes, pf.Adjustments...), "; ")
	}
	if pair != nil {
		detail = fmt.Sprintf("pair %s: %s serves, %s takes version %d (%s) from version %d (%s); traffic steps %v, %d instances to prove",
			pair.Pair.Name, pair.Pair.Live.Name, pair.Pair.Idle.Name, to.Number, to.ImageID, rec.From.Number, rec.From.ImageID, pair.Steps, pair.LiveDesired)
	}
	rec, err = d.record(ctx, rec.ID, rollout.RolloutUpdate{To: &to}, keyPrepare, now, detail)
	if err != nil {
		return st, err
	}
	st.Rollout = forState(rec)
	st.Policy = DocOf(pf.Policy)
	st.BlueGreen = pair
	log.Info("prepared", "toVersion", to.Number, "imageId", to.ImageID)
	return st, nil
}

// preflightInput gathers what preflight needs from the fleet. A reason is
// returned instead of an error for a missing launch template or version,
// which refuses the rollout.
func (d Deps) preflightInput(ctx context.Context, req rollout.Request, g rollout.Group, policy rollout.Policy, own rollout.Version) (rollout.PreflightInput, string, error) {
	pin := rollout.PreflightInput{Request: req, Group: g, Policy: policy, Own: own}
	region := req.Group.Region
	if g.LaunchTemplateID != "" && g.LaunchConfigurationName == "" && !g.AttributeBased {
		cur, err := d.Fleet.ResolveVersion(ctx, region, g.LaunchTemplateID, g.LaunchTemplateVersion)
		if isNotFound(err) {
			return pin, fmt.Sprintf("launch template %s version %s does not exist", g.LaunchTemplateID, g.LaunchTemplateVersion), nil
		} else if err != nil {
			return pin, "", fmt.Errorf("resolve %s version %s: %w", g.LaunchTemplateID, g.LaunchTemplateVersion, err)
		}
		pin.Current = cur
	} else {
		// Preflight refuses the group before anything else is read.
		return pin, "", nil
	}
	imageID := req.ImageID
	switch req.Mode {
	case rollout.ModeRecycle:
		imageID = pin.Current.ImageID
	case rollout.ModeRevert:
		t, err := d.Fleet.ResolveVersion(ctx, region, g.LaunchTemplateID, versionString(req.Version))
		if err != nil && !isNotFound(err) {
			return pin, "", fmt.Errorf("resolve %s version %d: %w", g.LaunchTemplateID, req.Version, err)
		}
		pin.Target = t
		imageID = t.ImageID
	}
	if imageID != "" && !strings.HasPrefix(imageID, "resolve:ssm:") {
		img, err := d.Fleet.Image(ctx, region, imageID)
		switch {
		case err == nil:
			pin.Image = &img
		case !isNotFound(err):
			return pin, "", fmt.Errorf("describe image %s: %w", imageID, err)
		}
	}
	types := g.InstanceTypes
	if len(types) == 0 && pin.Current.InstanceType != "" {
		types = []string{pin.Current.InstanceType}
	}
	if len(types) > 0 {
		archs, err := d.Fleet.Architectures(ctx, region, types)
		if err != nil {
			return pin, "", fmt.Errorf("describe instance types %v: %w", types, err)
		}
		pin.Architectures = archs
	}
	refreshes, err := d.Fleet.Refreshes(ctx, g.Key)
	if err != nil {
		return pin, "", fmt.Errorf("describe refreshes of %s: %w", g.Key, err)
	}
	pin.Refreshes = refreshes
	if len(policy.Alarms) > 0 {
		alarms, err := d.Fleet.AlarmStates(ctx, region, policy.Alarms)
		if err != nil {
			return pin, "", fmt.Errorf("describe alarms %v: %w", policy.Alarms, err)
		}
		pin.Alarms = alarms
	}
	return pin, "", nil
}

// toVersion makes or picks the version the rollout refreshes to.
func (d Deps) toVersion(ctx context.Context, log *slog.Logger, req rollout.Request, rec rollout.Rollout, pin rollout.PreflightInput) (rollout.Version, error) {
	switch req.Mode {
	case rollout.ModeRecycle:
		return rec.From, nil
	case rollout.ModeRevert:
		return rollout.Version{LaunchTemplateID: pin.Target.LaunchTemplateID, Number: pin.Target.Number, ImageID: pin.Target.ImageID}, nil
	}
	// Marked before any version names it: from here on the image is the
	// lifecycle's to retire once nothing uses it, even if this rollout
	// is refused or reverted.
	if err := d.Ledger.MarkRolled(ctx, req.Group.Region, req.ImageID, rec.StartedAt); err != nil {
		return rollout.Version{}, fmt.Errorf("mark image %s rolled: %w", req.ImageID, err)
	}
	desc := fmt.Sprintf("Phoenix rollout %s: image %s", req.RolloutID, req.ImageID)
	tv, err := d.Fleet.CreateVersion(ctx, req.Group.Region, rec.From.LaunchTemplateID, rec.From.Number, req.ImageID, rollout.ClientToken(req.RolloutID), desc)
	if err != nil {
		return rollout.Version{}, fmt.Errorf("create launch template version from %s:%d: %w", rec.From.LaunchTemplateID, rec.From.Number, err)
	}
	if rec.To.Number != tv.Number {
		log.Info("created launch template version", "launchTemplateId", tv.LaunchTemplateID, "version", tv.Number, "sourceVersion", rec.From.Number, "imageId", req.ImageID)
	}
	return rollout.Version{LaunchTemplateID: tv.LaunchTemplateID, Number: tv.Number, ImageID: tv.ImageID}, nil
}
