package lifecycle

import "time"

// The modes of a lifecycle run, who runs it at night, and the results of
// an applied action.
const (
	LogModePlan  = "plan"
	LogModeApply = "apply"
	ByNightly    = "nightly"
	ResultDone   = "done"

	ResultSkippedPrefix = "skipped: "
	ResultFailedPrefix  = "failed: "
)

// ResultSkipped is the result of an applied action that was not carried
// out, with why (the re-check found the image in use again, say).
func ResultSkipped(why string) string { return ResultSkippedPrefix + why }

// ResultFailed is the result of an applied action AWS refused.
func ResultFailed(err error) string { return ResultFailedPrefix + err.Error() }

// LogEntry is one action of a lifecycle run, as the ledger logs it.
type LogEntry struct {
	// At is the run's time (the schedule event's, or the CLI's), RunID the
	// run, and Seq the entry's number within the run (0 to 999,999): the
	// three make the entry's key, so a retried run that logs an entry again
	// writes nothing.
	At    time.Time `json:"at"`
	RunID string    `json:"runId"`
	Seq   int       `json:"seq"`
	// Mode is LogModePlan (nothing was done) or LogModeApply.
	Mode   string `json:"mode"`
	Action Action `json:"action"`
	// Target is an AMI id, or <template id>:<version> for a launch
	// template version.
	Target string `json:"target"`
	// Rule is the rule that decided the action (docs/lifecycle.md): the
	// wait that ran out, or why a version is no longer kept.
	Rule string `json:"rule,omitempty"`
	// KeptBecause are the holds of an action on something in use
	// (Hold.String()): why an image was restored or protected.
	KeptBecause []string `json:"keptBecause,omitempty"`
	// Result is empty in a plan; in an apply, ResultDone or what
	// ResultSkipped or ResultFailed write.
	Result string `json:"result,omitempty"`
	// By is who ran it: ByNightly, or the operator the CLI names.
	By string `json:"by"`
}
