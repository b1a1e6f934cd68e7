package rollout

import (
	"errors"
	"fmt"
	"time"
)

// The errors of the rollout steps. At the Lambda boundary each function
// returns one of these types unwrapped, because aws-lambda-go reports the
// outermost error's type name as errorType and the state machine's Retry
// and Catch match on it (FIELD-NOTES section 5). The contract tests in
// test/contract (statemachine_test.go) keep these names and the ASL in step.

// TransientError is a failure worth retrying: throttling, 5xx, timeouts.
type TransientError struct {
	Op  string
	Err error
}

func (e *TransientError) Error() string { return fmt.Sprintf("%s: transient: %v", e.Op, e.Err) }
func (e *TransientError) Unwrap() error { return e.Err }

// NotFoundError is a missing resource.
type NotFoundError struct {
	Kind, ID string
}

func (e *NotFoundError) Error() string { return fmt.Sprintf("%s %s not found", e.Kind, e.ID) }

// LeaseHeldError says another rollout holds the group.
type LeaseHeldError struct {
	Group     GroupKey
	Holder    string
	ExpiresAt time.Time
}

func (e *LeaseHeldError) Error() string {
	return fmt.Sprintf("group %s is leased by rollout %s until %s", e.Group, e.Holder, e.ExpiresAt.Format(time.RFC3339))
}

// PreflightError refuses a rollout before anything changed: a launch
// configuration group, a suspended process, an unusable image. It is never
// retried.
type PreflightError struct {
	Group  GroupKey
	Reason string
}

func (e *PreflightError) Error() string {
	return fmt.Sprintf("preflight refused %s: %s", e.Group, e.Reason)
}

// ForeignRefreshError refuses a rollout because an instance refresh Phoenix
// did not start is running on the group.
type ForeignRefreshError struct {
	Group     GroupKey
	RefreshID string
}

func (e *ForeignRefreshError) Error() string {
	return fmt.Sprintf("group %s has an instance refresh %s that Phoenix did not start", e.Group, e.RefreshID)
}

// RefreshInProgressError is AWS's InstanceRefreshInProgress.
type RefreshInProgressError struct{ Group GroupKey }

func (e *RefreshInProgressError) Error() string {
	return fmt.Sprintf("group %s already has an instance refresh in progress", e.Group)
}

// RevertFailedError ends a rollout in the dirty terminal: the fleet could
// not be brought back and a human must look.
type RevertFailedError struct {
	RolloutID string
	Reason    string
}

func (e *RevertFailedError) Error() string {
	return fmt.Sprintf("revert of rollout %s failed: %s", e.RolloutID, e.Reason)
}

// BadInputError drops an event or request that can never succeed (the
// "drop, don't retry" error).
type BadInputError struct{ Reason string }

func (e *BadInputError) Error() string { return "bad input: " + e.Reason }

// StaleTokenError says a parked task was already resumed or has ended.
type StaleTokenError struct{ Err error }

func (e *StaleTokenError) Error() string {
	return fmt.Sprintf("task token no longer waiting: %v", e.Err)
}
func (e *StaleTokenError) Unwrap() error { return e.Err }

// ErrorNames lists the type names the state machine matches, so the
// contract test can check the ASL against Go.
var ErrorNames = []string{
	"TransientError", "NotFoundError", "LeaseHeldError", "PreflightError", "ForeignRefreshError",
	"RefreshInProgressError", "RevertFailedError", "BadInputError", "StaleTokenError",
}

// IsTransient reports whether err (anywhere in its chain) is transient.
func IsTransient(err error) bool {
	var t *TransientError
	return errors.As(err, &t)
}
