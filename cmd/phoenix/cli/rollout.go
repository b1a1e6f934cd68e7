package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/phoenix-rollouts/phoenix/shared/executions"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// startDoc is the JSON of `phoenix rollout`, and of `phoenix rollback`
// when it starts a revert rollout.
type startDoc struct {
	// Action is "started", or "exists" when an execution of that name was
	// started before (the command is safe to repeat with --name).
	Action       string          `json:"action"`
	RolloutID    string          `json:"rolloutId"`
	ExecutionARN string          `json:"executionArn"`
	Request      rollout.Request `json:"request"`
	// Result is how the rollout ended (--wait).
	Result *waitResult `json:"result,omitempty"`
}

// rollbackDoc is the JSON of `phoenix rollback` when a rollout is in
// flight: it is asked to revert.
type rollbackDoc struct {
	// Action is "signalled" (a rollback-requested signal was recorded and
	// the rollout woken), or "already-reverting".
	Action       string `json:"action"`
	RolloutID    string `json:"rolloutId"`
	ExecutionARN string `json:"executionArn,omitempty"`
	// Resumed says a parked step was woken at once; otherwise the rollout
	// reads the signal at its next step.
	Resumed bool        `json:"resumed"`
	Result  *waitResult `json:"result,omitempty"`
}

const rolloutLong = `Start a rollout of an image into a group now: an execution of the stack's rollout
state machine with a manual trigger. The group need not be tagged phoenix:enabled
(a manual rollout may skip that); every other preflight check applies.

The rollout id, which is also the execution's name, is --name or a readable
unique one. With --name the command is safe to repeat: an execution of that name
is not started twice. Refused at once, with nothing started, when Phoenix is
halted for the group.

With --wait, follow the rollout until it ends and exit 0 only if it finalized.`

const rolloutExample = `  phoenix rollout web --image ami-0abc1234
  phoenix rollout web --image ami-0abc1234 --name web-2026-02-01 --wait`

func (a *app) rolloutCommand() *cobra.Command {
	var image, name string
	var wait bool
	cmd := &cobra.Command{
		Use:               "rollout GROUP --image AMI [--name ID] [--wait]",
		Short:             "Start a rollout of an image into a group",
		Long:              rolloutLong,
		Example:           rolloutExample,
		Args:              argsUsage(cobra.ExactArgs(1)),
		ValidArgsFunction: a.completeGroups,
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(image) == "" {
				return usage("--image AMI is required")
			}
			if name != "" && !rollout.ValidExecutionName(name) {
				return usage("--name %q: 1 to %d letters, digits, '-' or '_'", name, rollout.MaxNameLength)
			}
			return a.startRollout(cmd.Context(), args[0], strings.TrimSpace(image), name, wait)
		},
	}
	cmd.Flags().StringVar(&image, "image", "", "the AMI to roll in (required)")
	cmd.Flags().StringVar(&name, "name", "", "the rollout id and execution name (default: a readable unique one)")
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the rollout until it ends; exit 0 only if it finalized")
	return cmd
}

func (a *app) startRollout(ctx context.Context, group, imageID, name string, wait bool) error {
	s, err := a.session(ctx)
	if err != nil {
		return err
	}
	key := s.key(group)
	if _, err := s.group(ctx, group); err != nil {
		return err
	}
	if err := s.refuseIfHalted(ctx, key); err != nil {
		return err
	}
	if _, err := s.image(ctx, imageID); err != nil {
		return err
	}
	who, err := s.whoAmI(ctx)
	if err != nil {
		return err
	}
	if name == "" {
		name = rollout.ExecutionName("manual", group+"-"+imageID, uuid.NewString())
	}
	req := rollout.Request{
		RolloutID: name, Group: key, Mode: rollout.ModeImage, ImageID: imageID,
		Trigger: rollout.Trigger{Kind: rollout.TriggerManual, Source: who.ARN},
	}
	return a.start(ctx, s, req, wait)
}

// refuseIfHalted is ExitHalted, naming the halt, when one covers the
// group: a rollout started now would only be refused by Prepare.
func (s *session) refuseIfHalted(ctx context.Context, key rollout.GroupKey) error {
	h, ok, err := s.ledger.Halted(ctx, key)
	if err != nil {
		return s.awsError("read the halt flag", err)
	}
	if !ok {
		return nil
	}
	clear := "phoenix resume"
	if !h.Global() {
		clear += " " + key.Name
	}
	return fail(ExitHalted, "%s; nothing started (%s clears it)", h.String(), clear)
}

// start starts the rollout execution for req, exactly once by name
// (executions.Starter.StartRollout, as alarms and recycle start theirs),
// and with wait follows it to its end.
func (a *app) start(ctx context.Context, s *session, req rollout.Request, wait bool) error {
	machine, err := s.machineARN(ctx, "rollout")
	if err != nil {
		return err
	}
	arn, started, err := executions.NewStarter(s.cfg, machine).StartRollout(ctx, req)
	var bad *rollout.BadInputError
	if errors.As(err, &bad) {
		return usage("%s", bad.Reason)
	}
	var nf *rollout.NotFoundError
	if errors.As(err, &nf) {
		return fail(ExitNotFound, "Phoenix stack %q not found in %s: no state machine %s-rollout (is --stack right?)", s.stack, s.region, s.stack)
	}
	if err != nil {
		return s.awsError("start rollout "+req.RolloutID, err)
	}
	doc := startDoc{Action: "started", RolloutID: req.RolloutID, ExecutionARN: arn, Request: req}
	if !started {
		doc.Action = "exists"
	}
	if !wait {
		return a.emit(doc, func(w io.Writer) { writeStart(w, doc) })
	}
	if a.g.output != outputJSON {
		writeStart(a.env.Stdout, doc)
	}
	res, err := a.follow(ctx, s, req.RolloutID, arn, req.Group, rollout.StatusFinalized)
	if err != nil {
		return err
	}
	doc.Result = &res
	if err := a.emit(doc, func(w io.Writer) { writeResult(w, res) }); err != nil {
		return err
	}
	return res.err()
}

func writeStart(w io.Writer, doc startDoc) {
	what := fmt.Sprintf("to image %s", doc.Request.ImageID)
	if doc.Request.Mode == rollout.ModeRevert {
		what = fmt.Sprintf("back to launch template version %d", doc.Request.Version)
	}
	switch doc.Action {
	case "exists":
		fmt.Fprintf(w, "Rollout %s of %s %s was started before; not starting it again.\n", doc.RolloutID, doc.Request.Group.Name, what)
	default:
		fmt.Fprintf(w, "Started rollout %s of %s %s.\n", doc.RolloutID, doc.Request.Group.Name, what)
	}
	fmt.Fprintf(w, "Execution: %s\n", doc.ExecutionARN)
}

const rollbackLong = `Roll a group back.

With a rollout in flight on the group, ask it to revert: a rollback-requested
signal is recorded in the ledger and the rollout's parked step is woken, so it
reverts now (native rollback while the refresh runs, else cancel and refresh back).

Otherwise start a revert rollout (mode revert: straight back, no checkpoints, no
bake) to --to-version, or by default to the version the group ran before its last
finalized or pinned image rollout. Refused at once when Phoenix is halted for the group.

With --wait, follow the rollout until it ends; exit 0 when it ended as asked
(the rollout in flight reverted, or the revert rollout finalized).`

const rollbackExample = `  phoenix rollback web
  phoenix rollback web --to-version 7 --wait`

func (a *app) rollbackCommand() *cobra.Command {
	var toVersion int64
	var wait bool
	cmd := &cobra.Command{
		Use:               "rollback GROUP [--to-version N] [--wait]",
		Short:             "Revert the rollout in flight, or roll the group back to an earlier version",
		Long:              rollbackLong,
		Example:           rollbackExample,
		Args:              argsUsage(cobra.ExactArgs(1)),
		ValidArgsFunction: a.completeGroups,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("to-version") && toVersion <= 0 {
				return usage("--to-version must be a launch template version number (1 or more), not %d", toVersion)
			}
			return a.rollback(cmd.Context(), args[0], toVersion, wait)
		},
	}
	cmd.Flags().Int64Var(&toVersion, "to-version", 0, "the launch template version to go back to (default: the one before the last finalized or pinned image rollout)")
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the rollout until it ends; exit 0 only if it ended as asked")
	return cmd
}

func (a *app) rollback(ctx context.Context, group string, toVersion int64, wait bool) error {
	s, err := a.session(ctx)
	if err != nil {
		return err
	}
	key := s.key(group)
	g, err := s.group(ctx, group)
	if err != nil {
		return err
	}
	active, ok, err := s.ledger.ActiveRollout(ctx, key)
	if err != nil {
		return s.awsError("read the rollout in flight on "+group, err)
	}
	if ok && !active.Status.Terminal() {
		return a.revertInFlight(ctx, s, active, toVersion, wait)
	}
	if err := s.refuseIfHalted(ctx, key); err != nil {
		return err
	}
	if g.LaunchTemplateID == "" {
		return fail(ExitFailed, "group %s has no launch template; Phoenix rolls only launch-template groups", group)
	}
	if toVersion == 0 {
		if toVersion, err = s.versionBeforeLastRollout(ctx, key); err != nil {
			return err
		}
	}
	if _, err := s.fleet.ResolveVersion(ctx, s.region, g.LaunchTemplateID, strconv.FormatInt(toVersion, 10)); err != nil {
		var nf *rollout.NotFoundError
		if errors.As(err, &nf) {
			return fail(ExitNotFound, "launch template %s of group %s has no version %d", g.LaunchTemplateID, group, toVersion)
		}
		return s.awsError("read launch template version "+strconv.FormatInt(toVersion, 10), err)
	}
	who, err := s.whoAmI(ctx)
	if err != nil {
		return err
	}
	req := rollout.Request{
		RolloutID: rollout.ExecutionName("rollback", fmt.Sprintf("%s-v%d", group, toVersion), uuid.NewString()),
		Group:     key, Mode: rollout.ModeRevert, Version: toVersion,
		Trigger: rollout.Trigger{Kind: rollout.TriggerManual, Source: who.ARN},
	}
	return a.start(ctx, s, req, wait)
}

// versionBeforeLastRollout is the From version of the group's newest image
// rollout that moved it, finalized or pinned (docs/design.md, "Pinned"):
// what it ran before the image now in question.
func (s *session) versionBeforeLastRollout(ctx context.Context, key rollout.GroupKey) (int64, error) {
	hist, err := s.ledger.History(ctx, key, time.Time{}, 0)
	if err != nil {
		return 0, s.awsError("read the history of "+key.Name, err)
	}
	if v, ok := rollout.RollbackTarget(hist); ok {
		return v.Number, nil
	}
	return 0, fail(ExitNotFound, "group %s has no finalized or pinned image rollout to roll back; give --to-version N", key.Name)
}

// revertInFlight asks the rollout in flight to revert: the signal is
// recorded first, then its parked step is woken (design.md, "Signals and
// the parked token"); a stale token means it is awake already and will
// read the signal at its next step.
func (a *app) revertInFlight(ctx context.Context, s *session, active rollout.Rollout, toVersion int64, wait bool) error {
	if toVersion != 0 && toVersion != active.From.Number {
		return usage("rollout %s is in flight on %s and reverts to version %d, where it came from; give --to-version %d once it has ended",
			active.ID, active.Group.Name, active.From.Number, toVersion)
	}
	doc := rollbackDoc{Action: "signalled", RolloutID: active.ID, ExecutionARN: active.ExecutionARN}
	if active.Status == rollout.StatusReverting {
		doc.Action = "already-reverting"
	} else {
		who, err := s.whoAmI(ctx)
		if err != nil {
			return err
		}
		sig := rollout.Signal{Kind: rollout.SignalRollbackRequested, RefreshID: active.RefreshID, Reason: "rollback requested by " + who.ARN, At: a.env.Now()}
		resumed, preparing, err := s.wake(ctx, active, sig)
		if err != nil {
			return err
		}
		if preparing {
			return fail(ExitFailed, "rollout %s on %s is still being prepared; try again in a moment", active.ID, active.Group.Name)
		}
		doc.Resumed = resumed
	}
	if !wait || active.ExecutionARN == "" {
		return a.emit(doc, func(w io.Writer) { writeRollback(w, doc) })
	}
	if a.g.output != outputJSON {
		writeRollback(a.env.Stdout, doc)
	}
	res, err := a.follow(ctx, s, active.ID, active.ExecutionARN, active.Group, rollout.StatusReverted)
	if err != nil {
		return err
	}
	doc.Result = &res
	if err := a.emit(doc, func(w io.Writer) { writeResult(w, res) }); err != nil {
		return err
	}
	return res.err()
}

// wake records sig for the rollout and resumes its parked step. resumed
// is false when no step was parked or the token was stale: the rollout
// then reads the signal at its next step. preparing is true when the
// rollout holds the lease but Prepare has not recorded it yet, so there is
// nothing to signal.
func (s *session) wake(ctx context.Context, r rollout.Rollout, sig rollout.Signal) (resumed, preparing bool, err error) {
	rec, token, err := s.ledger.AddSignal(ctx, r.ID, sig)
	var nf *rollout.NotFoundError
	if errors.As(err, &nf) {
		return false, true, nil
	}
	if err != nil {
		return false, false, s.awsError("record a "+sig.Kind+" signal for rollout "+r.ID, err)
	}
	if token == "" {
		return false, false, nil
	}
	err = s.resumer.Resume(ctx, token, rec)
	var stale *rollout.StaleTokenError
	switch {
	case errors.As(err, &stale):
		return false, false, nil
	case err != nil:
		return false, false, s.awsError("wake rollout "+r.ID, err)
	}
	return true, false, nil
}

func writeRollback(w io.Writer, doc rollbackDoc) {
	switch {
	case doc.Action == "already-reverting":
		fmt.Fprintf(w, "Rollout %s is already reverting.\n", doc.RolloutID)
	case doc.Resumed:
		fmt.Fprintf(w, "Asked rollout %s to roll back; it was woken and reverts now.\n", doc.RolloutID)
	default:
		fmt.Fprintf(w, "Asked rollout %s to roll back; it reverts at its next step.\n", doc.RolloutID)
	}
}
