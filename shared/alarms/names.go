package alarms

import "github.com/phoenix-rollouts/phoenix/shared/rollout"

// revertPrefix starts the execution name (and rollout id) of every revert
// an alarm starts.
const revertPrefix = "rvt"

// RevertName is the execution name, and rollout id, of the revert of a
// finalized rollout. It is derived from the reverted rollout's id alone, so
// every alarm of a storm, every flap and every repeated delivery names the
// same revert, and Step Functions starts it once.
func RevertName(revertedRolloutID string) string {
	return rollout.ExecutionName(revertPrefix, revertedRolloutID, "revert", revertedRolloutID)
}
