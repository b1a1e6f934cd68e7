package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/executions"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// waitInterval is how often --wait looks: a refresh moves in warmups of
// minutes, and each look costs three read calls.
const waitInterval = 10 * time.Second

// waitResult is how a followed rollout ended.
type waitResult struct {
	// Outcome is the rollout's terminal status (finalized, reverted,
	// refused, dirty), or the execution's status in lower case when the
	// ledger holds no terminal record (an execution aborted or failed
	// before recording one).
	Outcome string `json:"outcome"`
	// Expected is the outcome the command asked for.
	Expected string `json:"expected"`
	// ExitCode is the exit code the outcome gives.
	ExitCode        int              `json:"exitCode"`
	ExecutionStatus string           `json:"executionStatus"`
	Rollout         *rollout.Rollout `json:"rollout,omitempty"`
	// Halt is the halt that refused or reverted the rollout, if one did.
	Halt *haltView `json:"halt,omitempty"`
}

// err is the result as the error Run reports, nil when it is what was
// asked for.
func (r waitResult) err() error {
	if r.ExitCode == ExitOK {
		return nil
	}
	msg := fmt.Sprintf("rollout ended %s, not %s", r.Outcome, r.Expected)
	if r.Rollout != nil {
		msg = fmt.Sprintf("rollout %s ended %s, not %s", r.Rollout.ID, r.Outcome, r.Expected)
		if r.Rollout.Reason != "" {
			msg += ": " + r.Rollout.Reason
		}
	}
	return fail(r.ExitCode, "%s", msg)
}

// waitExit is the exit code of a followed rollout that ended got when want
// was asked for; halted says a halt covers the group at the end.
func waitExit(want, got rollout.Status, halted bool) int {
	switch {
	case got == want:
		return ExitOK
	case halted && (got == rollout.StatusRefused || got == rollout.StatusReverted):
		return ExitHalted
	}
	return ExitFailed
}

// follow watches rollout id (execution arn, on group) until its execution
// ends, showing progress, and returns how it ended. Progress goes to
// stdout, or to stderr with --output json, which keeps stdout for the one
// JSON document.
func (a *app) follow(ctx context.Context, s *session, id, arn string, group rollout.GroupKey, want rollout.Status) (waitResult, error) {
	out := a.env.Stdout
	if a.g.output == outputJSON {
		out = a.env.Stderr
	}
	p := &progress{w: out, terminal: a.env.Terminal && a.g.output != outputJSON}
	var desc executions.Execution
	for {
		var err error
		desc, err = s.execs.Execution(ctx, arn)
		var missing *rollout.NotFoundError
		if errors.As(err, &missing) {
			return waitResult{}, fail(ExitNotFound, "execution %s not found", arn)
		}
		if err != nil {
			return waitResult{}, s.awsError("describe execution of rollout "+id, err)
		}
		snap, err := s.snapshot(ctx, id, group)
		if err != nil {
			return waitResult{}, err
		}
		p.show(a.env.Now(), snap)
		if !desc.Running() {
			break
		}
		if err := a.env.Sleep(ctx, waitInterval); err != nil {
			p.end()
			return waitResult{}, fail(ExitFailed, "stopped following rollout %s, which goes on (phoenix status %s)", id, group.Name)
		}
	}
	p.end()
	res := waitResult{Expected: string(want), ExecutionStatus: desc.Status}
	r, err := s.ledger.GetRollout(ctx, id)
	var nf *rollout.NotFoundError
	switch {
	case errors.As(err, &nf):
	case err != nil:
		return res, s.awsError("read rollout "+id, err)
	default:
		res.Rollout = &r
	}
	if res.Rollout == nil || !r.Status.Terminal() {
		res.Outcome, res.ExitCode = strings.ToLower(desc.Status), ExitFailed
		return res, nil
	}
	res.Outcome = string(r.Status)
	halted := false
	if r.Status != want {
		h, ok, err := s.ledger.Halted(ctx, group)
		if err != nil {
			return res, s.awsError("read the halt flag", err)
		}
		if ok {
			hv := viewHalt(h)
			res.Halt, halted = &hv, true
		}
	}
	res.ExitCode = waitExit(want, r.Status, halted)
	return res, nil
}

// snapshot is what --wait shows of a rollout at one look.
type snapshot struct {
	Status string
	// Refresh is the status and percentage of the rollout's refresh, ""
	// before one started.
	Refresh string
	Percent int
	Step    string
}

// snapshot reads the rollout's record and its refresh.
func (s *session) snapshot(ctx context.Context, id string, group rollout.GroupKey) (snapshot, error) {
	r, err := s.ledger.GetRollout(ctx, id)
	var nf *rollout.NotFoundError
	if errors.As(err, &nf) {
		return snapshot{Status: "starting"}, nil
	}
	if err != nil {
		return snapshot{}, s.awsError("read rollout "+id, err)
	}
	snap := snapshot{Status: string(r.Status)}
	if n := len(r.Steps); n > 0 {
		snap.Step = r.Steps[n-1].Key
	}
	if r.RefreshID == "" || r.Status.Terminal() {
		return snap, nil
	}
	refreshes, err := s.fleet.Refreshes(ctx, group)
	if err != nil {
		return snapshot{}, s.awsError("read the instance refreshes of "+group.Name, err)
	}
	if rf, ok := rolloutRefresh(refreshes, r); ok {
		snap.Refresh, snap.Percent = rf.Status, rf.PercentageComplete
	}
	return snap, nil
}

// progress shows snapshots: on a terminal, one bar redrawn in place; else
// one line per change, with the time.
type progress struct {
	w        io.Writer
	terminal bool
	last     snapshot
	shown    bool
}

func (p *progress) show(at time.Time, s snapshot) {
	if p.shown && s == p.last {
		return
	}
	p.last, p.shown = s, true
	if p.terminal {
		fmt.Fprintf(p.w, "\r\033[K%s", barLine(s, 30))
		return
	}
	fmt.Fprintln(p.w, changeLine(at, s))
}

// end finishes the bar's line.
func (p *progress) end() {
	if p.terminal && p.shown {
		fmt.Fprintln(p.w)
	}
}

// barLine is the progress bar: the refresh's percentage, the rollout's
// status and its current step.
func barLine(s snapshot, width int) string {
	pct := min(max(s.Percent, 0), 100)
	filled := pct * width / 100
	bar := "[" + strings.Repeat("#", filled) + strings.Repeat(".", width-filled) + "]"
	line := fmt.Sprintf("%s %3d%%  %s", bar, pct, s.Status)
	if s.Step != "" {
		line += "  " + s.Step
	}
	return line
}

// changeLine is one line of --wait's log.
func changeLine(at time.Time, s snapshot) string {
	line := at.UTC().Format("15:04:05Z") + "  " + s.Status
	if s.Refresh != "" {
		line += fmt.Sprintf("  refresh %s %d%%", s.Refresh, s.Percent)
	}
	if s.Step != "" {
		line += "  step " + s.Step
	}
	return line
}

func writeResult(w io.Writer, r waitResult) {
	if r.Rollout == nil {
		fmt.Fprintf(w, "The execution ended %s without a rollout record.\n", r.ExecutionStatus)
		return
	}
	ro := r.Rollout
	took := ""
	if !ro.EndedAt.IsZero() {
		took = " after " + durationText(ro.EndedAt.Sub(ro.StartedAt))
	}
	fmt.Fprintf(w, "Rollout %s %s%s: %s from %s to %s.\n", ro.ID, r.Outcome, took, ro.Group.Name, versionText(ro.From), versionText(ro.To))
	if ro.Reason != "" {
		fmt.Fprintf(w, "Reason: %s\n", oneLine(ro.Reason))
	}
}
