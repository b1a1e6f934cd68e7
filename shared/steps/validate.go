package steps

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Validate judges the fleet at a checkpoint or after the refresh: target
// health in every target group, new instances InService and healthy, and
// the guard alarms. It sets verdict (pass, fail or inconclusive) and its
// reasons, counts consecutive inconclusive verdicts in rechecks for the
// state machine's bound, and records the verdict in the ledger.
func (d Deps) Validate(ctx context.Context, in Input) (State, error) {
	log := d.logger(ctx, "validate", in.State, in.Execution)
	st, err := d.validate(ctx, log, in)
	return st, boundary(log, err)
}

func (d Deps) validate(ctx context.Context, log *slog.Logger, in Input) (State, error) {
	st, now := in.State, in.Now
	if err := requireNow(in); err != nil {
		return st, err
	}
	r, p := st.Rollout, st.Policy.Policy()
	g, err := d.Fleet.Group(ctx, r.Group)
	if err != nil {
		return st, fmt.Errorf("load group %s: %w", r.Group, err)
	}
	var targets []rollout.TargetState
	if len(g.TargetGroupARNs) > 0 {
		if targets, err = d.Fleet.TargetHealth(ctx, r.Group.Region, g.TargetGroupARNs); err != nil {
			return st, fmt.Errorf("describe target health of %s: %w", r.Group, err)
		}
	}
	var alarms map[string]string
	if len(p.Alarms) > 0 {
		if alarms, err = d.Fleet.AlarmStates(ctx, r.Group.Region, p.Alarms); err != nil {
			return st, fmt.Errorf("describe alarms %v: %w", p.Alarms, err)
		}
	}
	vin := rollout.ValidationInput{
		Group: g, Targets: targets, Alarms: alarms, GuardAlarms: p.Alarms, To: r.To,
		Warmup: rollout.EffectiveWarmup(p, g), Now: now,
	}
	if r.Mode == rollout.ModeRecycle {
		vin.Since = r.StartedAt
	}
	v := rollout.Validate(vin)
	if why, err := d.halted(ctx, r.Group); err != nil {
		return st, err
	} else if why != "" {
		v.Verdict, v.Reasons = rollout.VerdictFail, append([]string{why + "."}, v.Reasons...)
	}
	at := st.Signal.Kind
	if st.Signal.Kind == rollout.SignalCheckpoint {
		at = fmt.Sprint(st.Signal.Percentage)
	}
	key := fmt.Sprintf("validate@%s#%d", at, st.Rechecks)
	if _, err := d.record(ctx, r.ID, rollout.RolloutUpdate{}, key, now, fmt.Sprintf("%s: %s", v.Verdict, strings.Join(v.Reasons, " "))); err != nil {
		return st, err
	}
	st.Verdict, st.Reasons = v.Verdict, v.Reasons
	if v.Verdict == rollout.VerdictInconclusive {
		st.Rechecks++
	} else {
		st.Rechecks = 0
	}
	// A checkpoint with nothing to judge (the group has no instance) is
	// passed over as well: the fallback poll must not report it again.
	if st.Signal.Kind == rollout.SignalCheckpoint && (v.Verdict == rollout.VerdictPass || v.Verdict == rollout.VerdictUnvalidated) {
		st.Checkpoint = max(st.Checkpoint, st.Signal.Percentage)
	}
	st.AwaitTimeoutSeconds = d.awaitTimeout(st, now)
	log.Info("validated", "at", at, "verdict", string(v.Verdict), "new", v.New, "ready", v.Ready, "reasons", v.Reasons,
		"awaitTimeoutSeconds", st.AwaitTimeoutSeconds)
	return st, nil
}
