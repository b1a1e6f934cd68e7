package steps

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Finalize makes the rollout permanent once the final validation passed:
// the new version becomes the template's default (not for a recycle, which
// never touches the template, nor for a template other groups launch from
// too: see defaultFor), the group is made to reference the numbered new
// version, last-known-good moves to it, the rollout is recorded finalized,
// people are told, and the lease is released.
func (d Deps) Finalize(ctx context.Context, in Input) (State, error) {
	log := d.logger(ctx, "finalize", in.State, in.Execution)
	st, err := d.finalize(ctx, log, in)
	return st, boundary(log, err)
}

func (d Deps) finalize(ctx context.Context, log *slog.Logger, in Input) (State, error) {
	st, now := in.State, in.Now
	if err := requireNow(in); err != nil {
		return st, err
	}
	if st.Verdict != rollout.VerdictPass {
		return st, &rollout.BadInputError{Reason: fmt.Sprintf("finalize needs a passing verdict, got %q", st.Verdict)}
	}
	r := st.Rollout
	if r.BlueGreen() && st.BlueGreen != nil {
		return d.finalizePair(ctx, log, st, now, "")
	}
	to := r.To
	def := "the launch template was not changed"
	if r.Mode != rollout.ModeRecycle {
		var err error
		if def, err = d.defaultFor(ctx, log, r.Group, to); err != nil {
			return st, err
		}
	}
	if err := d.pinGroup(ctx, log, r.Group, to); err != nil {
		return st, err
	}
	if err := d.Ledger.SetLastKnownGood(ctx, r.Group, to, r.ID, now); err != nil {
		return st, fmt.Errorf("set last-known-good of %s: %w", r.Group, err)
	}
	notified, err := d.hasStep(ctx, r.ID, keyFinalize)
	if err != nil {
		return st, err
	}
	if !notified {
		// Told before recorded: a retry may tell twice but never not at all.
		done := r
		done.Status, done.EndedAt = rollout.StatusFinalized, now
		msg := fmt.Sprintf("%s now runs launch template version %d (%s); it is the last-known-good version, and %s.", r.Group, to.Number, to.ImageID, def)
		if err := d.notify(ctx, DetailSucceeded, "info", done, msg); err != nil {
			return st, err
		}
	}
	rec, err := d.record(ctx, r.ID, rollout.RolloutUpdate{Status: rollout.StatusFinalized, EndedAt: now}, keyFinalize, now,
		fmt.Sprintf("version %d (%s) is last-known-good; %s", to.Number, to.ImageID, def))
	if err != nil {
		return st, err
	}
	if err := d.release(ctx, log, rec); err != nil {
		return st, err
	}
	st.Rollout = forState(rec)
	log.Info("finalized")
	return st, nil
}

// defaultFor makes a version that passed its final validation the launch
// template's default, unless another group launches from the template too:
// a default is what every user of the template gets on $Default (a new
// group, a scale-out, a person in the console), and one group's validation
// proves nothing for the others, so Phoenix never moves a shared
// template's default (docs/design.md, "Shared launch templates"). Sharing
// is read from Auto Scaling each time, not from tags. It returns what
// became of the default, as a clause for the record and the message.
// A blue/green pair's other group is no other user: it is the same fleet.
func (d Deps) defaultFor(ctx context.Context, log *slog.Logger, key rollout.GroupKey, to rollout.Version, pairedWith ...string) (string, error) {
	users, err := d.Fleet.TemplateUsers(ctx, key.Region, to.LaunchTemplateID)
	if err != nil {
		return "", fmt.Errorf("list the groups using launch template %s: %w", to.LaunchTemplateID, err)
	}
	others := slices.DeleteFunc(users, func(name string) bool { return name == key.Name || slices.Contains(pairedWith, name) })
	cur, err := d.Fleet.ResolveVersion(ctx, key.Region, to.LaunchTemplateID, "$Default")
	if err != nil {
		return "", fmt.Errorf("read default version of %s: %w", to.LaunchTemplateID, err)
	}
	if len(others) > 0 {
		log.Info("left a shared launch template's default alone", "launchTemplateId", to.LaunchTemplateID, "default", cur.Number, "sharedWith", others)
		return fmt.Sprintf("the launch template's default stays version %d because the template is shared with %s", cur.Number, strings.Join(others, ", ")), nil
	}
	if cur.Number != to.Number {
		if err := d.Fleet.SetDefaultVersion(ctx, key.Region, to.LaunchTemplateID, to.Number); err != nil {
			return "", fmt.Errorf("set default version of %s to %d: %w", to.LaunchTemplateID, to.Number, err)
		}
		log.Info("set launch template default version", "launchTemplateId", to.LaunchTemplateID, "version", to.Number, "was", cur.Number)
	}
	return "it is the launch template's default version", nil
}
