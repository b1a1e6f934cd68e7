// Package steps holds one handler per step of the rollout state machine
// (docs/design.md), each a Deps method in a file named after it (Busy in
// busy.go, StartRefresh in start_refresh.go); what several steps share is
// in this file. Each handler reads the execution document, orchestrates
// the domain (shared/rollout) and the ports, and returns the document for
// the next state. Handlers take "now" from their input, never the wall
// clock, are safe to run again after any failure, and return the domain's
// typed errors unwrapped so that the state machine's Retry and Catch match
// them.
package steps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/emf"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Deps are what the steps run on.
type Deps struct {
	Fleet rollout.Fleet
	// Pairs reads and moves blue/green pairs (shared/fleet).
	Pairs    Pairs
	Ledger   rollout.Ledger
	Notifier rollout.Notifier
	Resumer  rollout.Resumer
	// Policy holds the defaults the group's tags overlay.
	Policy rollout.Policy
	// LeaseTTL bounds how long a rollout holds its group without renewing.
	LeaseTTL time.Duration
	// AwaitTimeout is the slow fallback poll (template.yaml's
	// AwaitTimeoutSeconds): the longest a parked Await waits for an event
	// while the refresh may be moving. Zero means DefaultAwaitTimeout.
	AwaitTimeout time.Duration
	Logger       *slog.Logger
	// ContextAttrs, when set, adds invocation attributes (request id,
	// trace id) to every log line.
	ContextAttrs func(context.Context) []any
	// Metrics receives embedded metric format lines (the function's
	// stdout, which Lambda hands to CloudWatch Logs); none are written if
	// nil.
	Metrics io.Writer
}

// Input is a Task state's payload: the execution document, the time the
// state was entered, the execution, and the task token for Await.
type Input struct {
	State     State     `json:"state"`
	Now       time.Time `json:"now"`
	Execution string    `json:"execution"`
	Token     string    `json:"token,omitempty"`
}

// State is the execution document every step reads and returns.
type State struct {
	Request rollout.Request `json:"request"`
	// Rollout is the ledger record without its timeline, which stays in
	// the ledger to keep the document small.
	Rollout rollout.Rollout `json:"rollout"`
	Policy  PolicyDoc       `json:"policy"`
	// Signal is the last wake-up; its Seq is the last ledger signal
	// consumed.
	Signal  rollout.Signal  `json:"signal"`
	Verdict rollout.Verdict `json:"verdict"`
	// Reasons explain the verdict.
	Reasons  []string `json:"reasons,omitempty"`
	Rechecks int      `json:"rechecks"`
	// Checkpoint is the highest checkpoint validated, so the fallback poll
	// knows which checkpoint comes next.
	Checkpoint int `json:"checkpoint,omitempty"`
	// AwaitTimeoutSeconds is how long the next Await stays parked before
	// the fallback poll: the Await state's TimeoutSecondsPath. StartRefresh,
	// Validate and Poll write it (awaitTimeout), always a positive whole
	// number: anything else fails the execution with States.Runtime.
	AwaitTimeoutSeconds int64       `json:"awaitTimeoutSeconds,omitempty"`
	Revert              RevertState `json:"revert,omitzero"`
	// BlueGreen is where a blue/green rollout stands (Shift, SwitchBack);
	// absent for a rolling one.
	BlueGreen *BlueGreenState `json:"bluegreen,omitempty"`
	Error     *ErrorInfo      `json:"error,omitempty"`
}

// RevertState is where a revert stands.
type RevertState struct {
	Phase     rollout.RevertPhase `json:"phase"`
	RefreshID string              `json:"refreshId,omitempty"`
	Reason    string              `json:"reason,omitempty"`
	// Target is the version the revert returns the fleet to.
	Target rollout.Version `json:"target,omitzero"`
}

// ErrorInfo is what a Catch puts at $.error.
type ErrorInfo struct {
	Error string `json:"Error"`
	Cause string `json:"Cause"`
}

// PolicyDoc is rollout.Policy in the execution document, durations in
// seconds.
type PolicyDoc struct {
	Enabled                bool     `json:"enabled"`
	Checkpoints            []int    `json:"checkpoints"`
	MinHealthy             int      `json:"minHealthy"`
	MaxHealthy             int      `json:"maxHealthy"`
	WarmupSeconds          int64    `json:"warmupSeconds"`
	CheckpointDelaySeconds int64    `json:"checkpointDelaySeconds"`
	BakeSeconds            int64    `json:"bakeSeconds"`
	Alarms                 []string `json:"alarms,omitempty"`
	GuardWindowSeconds     int64    `json:"guardWindowSeconds"`
}

// DocOf writes a policy for the execution document.
func DocOf(p rollout.Policy) PolicyDoc {
	return PolicyDoc{
		Enabled: p.Enabled, Checkpoints: p.Checkpoints, MinHealthy: p.MinHealthy, MaxHealthy: p.MaxHealthy,
		WarmupSeconds: secs(p.Warmup), CheckpointDelaySeconds: secs(p.CheckpointDelay), BakeSeconds: secs(p.Bake),
		Alarms: p.Alarms, GuardWindowSeconds: secs(p.GuardWindow),
	}
}

// Policy reads the policy back.
func (d PolicyDoc) Policy() rollout.Policy {
	return rollout.Policy{
		Enabled: d.Enabled, Checkpoints: d.Checkpoints, MinHealthy: d.MinHealthy, MaxHealthy: d.MaxHealthy,
		Warmup: dur(d.WarmupSeconds), CheckpointDelay: dur(d.CheckpointDelaySeconds), Bake: dur(d.BakeSeconds),
		Alarms: d.Alarms, GuardWindow: dur(d.GuardWindowSeconds),
	}
}

func secs(d time.Duration) int64 { return int64(d / time.Second) }
func dur(s int64) time.Duration  { return time.Duration(s) * time.Second }

// Detail-types of the notifications (docs/design.md, events).
const (
	DetailStarted   = "Phoenix Rollout Started"
	DetailSucceeded = "Phoenix Rollout Succeeded"
	DetailReverted  = "Phoenix Rollout Reverted"
	DetailRefused   = "Phoenix Rollout Refused"
	DetailAttention = "Phoenix Rollout Needs Attention"
)

// Step keys of the ledger timeline.
const (
	keyPrepare      = "prepare"
	keyRefused      = "refused"
	keyStartRefresh = "start-refresh"
	keyFinalize     = "finalize"
	keyRevertStart  = "revert-start"
	keyRevertBack   = "revert-refresh-back"
	keyRevertDone   = "revert-done"
	keyDirty        = "dirty"
)

// baseLogger returns the invocation's logger before a rollout is known.
func (d Deps) baseLogger(ctx context.Context, step string) *slog.Logger {
	return rollout.InvocationLogger(ctx, d.Logger, d.ContextAttrs, "step", step)
}

// logger returns the invocation's logger, carrying the rollout's ids.
func (d Deps) logger(ctx context.Context, step string, st State, execution string) *slog.Logger {
	attrs := []any{
		"rolloutId", st.Request.RolloutID, "group", st.Request.Group.Name, "region", st.Request.Group.Region,
		"mode", string(st.Request.Mode),
	}
	if execution != "" {
		attrs = append(attrs, "execution", execution)
	}
	if v := st.Rollout.From; v.Number != 0 {
		attrs = append(attrs, "fromVersion", v.Number)
	}
	if v := st.Rollout.To; v.Number != 0 {
		attrs = append(attrs, "toVersion", v.Number, "imageId", v.ImageID)
	}
	return d.baseLogger(ctx, step).With(attrs...)
}

// boundary logs a failed step and returns the domain's typed error found in
// err's chain, unwrapped: aws-lambda-go names the outermost error's type as
// errorType, and a wrapped error would match no Retry or Catch.
func boundary(log *slog.Logger, err error) error {
	return rollout.Boundary(log, "step", err)
}

func isNotFound(err error) bool {
	var nf *rollout.NotFoundError
	return errors.As(err, &nf)
}

func isStale(err error) bool {
	var s *rollout.StaleTokenError
	return errors.As(err, &s)
}

// requireNow refuses an input without the time the state was entered: steps
// never read the wall clock.
func requireNow(in Input) error {
	if in.Now.IsZero() {
		return &rollout.BadInputError{Reason: "the payload has no \"now\" ($$.State.EnteredTime)"}
	}
	if in.State.Request.RolloutID == "" {
		return &rollout.BadInputError{Reason: "the document has no request.rolloutId"}
	}
	return nil
}

// forState strips the timeline before a record goes into the document.
func forState(r rollout.Rollout) rollout.Rollout {
	r.Steps = nil
	return r
}

// record appends a step to the ledger timeline with the given update.
func (d Deps) record(ctx context.Context, id string, u rollout.RolloutUpdate, key string, at time.Time, detail string) (rollout.Rollout, error) {
	u.Step = &rollout.Step{Key: key, At: at, Detail: detail}
	r, err := d.Ledger.UpdateRollout(ctx, id, u)
	if err != nil {
		return r, fmt.Errorf("record step %s of rollout %s: %w", key, id, err)
	}
	return r, nil
}

// hasStep reports whether the ledger has the step already, so that a
// retried step does not notify twice.
func (d Deps) hasStep(ctx context.Context, id, key string) (bool, error) {
	r, err := d.Ledger.GetRollout(ctx, id)
	if err != nil {
		return false, fmt.Errorf("read rollout %s: %w", id, err)
	}
	for _, s := range r.Steps {
		if s.Key == key {
			return true, nil
		}
	}
	return false, nil
}

// notify sends a notification about the rollout.
func (d Deps) notify(ctx context.Context, detailType, severity string, r rollout.Rollout, message string) error {
	subject := fmt.Sprintf("%s: %s on %s", detailType, r.ID, r.Group)
	if err := d.Notifier.Notify(ctx, rollout.Notification{
		DetailType: detailType, Subject: subject, Message: message, Rollout: forState(r), Severity: severity,
	}); err != nil {
		return fmt.Errorf("notify %q: %w", detailType, err)
	}
	if line, ok := metricLine(detailType, r); ok && d.Metrics != nil {
		// A metric that cannot be written must not fail the step, whose
		// notification has gone out.
		_ = emf.Write(d.Metrics, line)
	}
	return nil
}

// release drops the rollout's lease on its group, and on both groups of a
// blue/green pair.
func (d Deps) release(ctx context.Context, log *slog.Logger, r rollout.Rollout) error {
	for _, key := range leased(r) {
		if err := d.Ledger.ReleaseLease(ctx, key, r.ID); err != nil {
			return fmt.Errorf("release lease of %s: %w", key, err)
		}
	}
	log.Info("released lease")
	return nil
}

// leased lists the groups a rollout holds: its group, and both groups of a
// blue/green pair.
func leased(r rollout.Rollout) []rollout.GroupKey {
	keys := []rollout.GroupKey{r.Group}
	if p := r.Pair; p != nil {
		for _, name := range []string{p.Live, p.Idle} {
			if k := (rollout.GroupKey{Region: r.Group.Region, Name: name}); name != "" && !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// halted returns why the group is halted, or "" when it is not: every
// step that moves a rollout forward asks (design.md, "The halt flag").
func (d Deps) halted(ctx context.Context, key rollout.GroupKey) (string, error) {
	h, ok, err := d.Ledger.Halted(ctx, key)
	if err != nil {
		return "", fmt.Errorf("read halt flag of %s: %w", key, err)
	}
	if !ok {
		return "", nil
	}
	return h.String(), nil
}

// versionString writes a numbered version as groups and refreshes carry it.
func versionString(n int64) string { return strconv.FormatInt(n, 10) }

// reasonOf explains why a rollout is reverting or dirty, from the caught
// error, the failed verdict or the failure signal.
func reasonOf(st State) string {
	switch {
	case st.Error != nil && st.Error.Error != "":
		return strings.TrimSpace(st.Error.Error + ": " + st.Error.Cause)
	case st.Verdict == rollout.VerdictFail:
		return "validation failed: " + strings.Join(st.Reasons, " ")
	case st.Signal.Kind == rollout.SignalHalted || st.Signal.Kind == rollout.SignalRollbackRequested:
		return st.Signal.Reason
	case st.Signal.Kind == rollout.SignalAlarm && st.Signal.Reason != "":
		// The alarm function words it: "alarm NAME is in ALARM: why".
		return st.Signal.Reason
	case rollout.FailureSignal(st.Signal.Kind):
		s := fmt.Sprintf("instance refresh %s signalled %s", st.Signal.RefreshID, st.Signal.Kind)
		if st.Signal.Alarm != "" {
			s += " (alarm " + st.Signal.Alarm + ")"
		}
		if st.Signal.Reason != "" {
			s += ": " + st.Signal.Reason
		}
		return s
	case st.Verdict == rollout.VerdictInconclusive:
		return "validation stayed inconclusive: " + strings.Join(st.Reasons, " ")
	}
	return "revert requested"
}

// refuse ends a rollout that changed nothing on the fleet: it is recorded
// as refused with the reason, people are told, and the lease is released.
func (d Deps) refuse(ctx context.Context, log *slog.Logger, r rollout.Rollout, reason string, now time.Time) error {
	r.Status, r.Reason, r.EndedAt = rollout.StatusRefused, reason, now
	r.Steps = []rollout.Step{{Key: keyRefused, At: now, Detail: reason}}
	rec, err := d.Ledger.PutRollout(ctx, r)
	if err != nil {
		return fmt.Errorf("record refused rollout %s: %w", r.ID, err)
	}
	if rec.Status != rollout.StatusRefused {
		if rec, err = d.record(ctx, r.ID, rollout.RolloutUpdate{Status: rollout.StatusRefused, Reason: reason, EndedAt: now}, keyRefused, now, reason); err != nil {
			return err
		}
	}
	log.Warn("rollout refused", "reason", reason)
	if err := d.notify(ctx, DetailRefused, "warning", rec, "Phoenix refused the rollout and changed nothing on the fleet: "+reason); err != nil {
		return err
	}
	if err := d.release(ctx, log, rec); err != nil {
		return err
	}
	return &rollout.PreflightError{Group: r.Group, Reason: reason}
}

// adoptable finds a refresh Phoenix started for the rollout but whose id it
// never recorded: its desired configuration is the rollout's to-version and
// it did not start before the rollout (which tells a recycle's refresh from
// an older one to the same version).
func adoptable(refreshes []rollout.Refresh, r rollout.Rollout) (rollout.Refresh, bool) {
	for _, rf := range refreshes {
		if rf.Targets(r.To) && (rf.StartTime.IsZero() || !rf.StartTime.Before(r.StartedAt)) {
			return rf, true
		}
	}
	return rollout.Refresh{}, false
}

// pinGroup makes the group reference the numbered version (a successful
// refresh has done so already; this covers one that was told by a poll
// before AWS wrote it, and is a no-op otherwise).
func (d Deps) pinGroup(ctx context.Context, log *slog.Logger, key rollout.GroupKey, to rollout.Version) error {
	g, err := d.Fleet.Group(ctx, key)
	if err != nil {
		return fmt.Errorf("load group %s: %w", key, err)
	}
	if g.LaunchTemplateID != to.LaunchTemplateID || g.LaunchTemplateVersion != versionString(to.Number) {
		if err := d.Fleet.PinVersion(ctx, key, to.LaunchTemplateID, to.Number); err != nil {
			return fmt.Errorf("point %s at version %d: %w", key, to.Number, err)
		}
		log.Info("pointed group at the new version", "launchTemplateId", to.LaunchTemplateID, "version", to.Number, "was", g.LaunchTemplateVersion)
	}
	return nil
}

// restoreDefault moves the launch template's default off a condemned
// version back to target, if the default is the condemned version, and
// says whether it did; any other default (moved by someone else since) is
// left alone.
func (d Deps) restoreDefault(ctx context.Context, log *slog.Logger, region string, condemned, target rollout.Version) (bool, error) {
	def, err := d.Fleet.ResolveVersion(ctx, region, condemned.LaunchTemplateID, "$Default")
	if err != nil {
		return false, fmt.Errorf("read default version of %s: %w", condemned.LaunchTemplateID, err)
	}
	if def.Number != condemned.Number {
		return false, nil
	}
	if err := d.Fleet.SetDefaultVersion(ctx, region, target.LaunchTemplateID, target.Number); err != nil {
		return false, fmt.Errorf("restore default version of %s to %d: %w", target.LaunchTemplateID, target.Number, err)
	}
	log.Info("restored launch template default version", "launchTemplateId", target.LaunchTemplateID, "version", target.Number, "was", def.Number)
	return true, nil
}
