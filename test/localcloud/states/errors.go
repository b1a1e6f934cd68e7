package states

import "fmt"

// Error names predefined by the Amazon States Language and Step Functions.
const (
	ErrALL                         = "States.ALL"
	ErrTaskFailed                  = "States.TaskFailed"
	ErrTimeout                     = "States.Timeout"
	ErrHeartbeatTimeout            = "States.HeartbeatTimeout"
	ErrRuntime                     = "States.Runtime"
	ErrDataLimitExceeded           = "States.DataLimitExceeded"
	ErrPermissions                 = "States.Permissions"
	ErrNoChoiceMatched             = "States.NoChoiceMatched"
	ErrResultPathMatchFailure      = "States.ResultPathMatchFailure"
	ErrParameterPathFailure        = "States.ParameterPathFailure"
	ErrBranchFailed                = "States.BranchFailed"
	ErrIntrinsicFailure            = "States.IntrinsicFailure"
	ErrExceedToleratedFailureLimit = "States.ExceedToleratedFailureThreshold"
	ErrItemReaderFailed            = "States.ItemReaderFailed"
	ErrResultWriterFailed          = "States.ResultWriterFailed"
	ErrQueryEvaluationError        = "States.QueryEvaluationError"
)

// predefined lists the names a definition may use in ErrorEquals that start
// with "States.": the language reserves the prefix.
var predefined = map[string]bool{
	ErrALL: true, ErrTaskFailed: true, ErrTimeout: true, ErrHeartbeatTimeout: true,
	ErrRuntime: true, ErrDataLimitExceeded: true, ErrPermissions: true,
	ErrNoChoiceMatched: true, ErrResultPathMatchFailure: true, ErrParameterPathFailure: true,
	ErrBranchFailed: true, ErrIntrinsicFailure: true, ErrExceedToleratedFailureLimit: true,
	ErrItemReaderFailed: true, ErrResultWriterFailed: true, ErrQueryEvaluationError: true,
}

// StateError is an error a state reports: a name that Retry and Catch match
// and a cause that travels with it.
type StateError struct {
	Name  string
	Cause string
}

// Error implements error.
func (e *StateError) Error() string {
	if e.Cause == "" {
		return e.Name
	}
	return e.Name + ": " + e.Cause
}

// terminal reports whether the error ends the execution whatever the
// state's Retry and Catch say: Step Functions documents that States.Runtime
// is never retried or caught, and that States.ALL does not catch
// States.DataLimitExceeded.
func (e *StateError) terminal() bool { return e.Name == ErrRuntime }

func runtimeErrorf(format string, args ...any) *StateError {
	return &StateError{Name: ErrRuntime, Cause: fmt.Sprintf(format, args...)}
}

// errorMatches reports whether an ErrorEquals entry matches an error name,
// with the wildcard rules of the States language and Step Functions:
// States.ALL matches every name but the terminal ones, and States.TaskFailed
// matches every name but States.Timeout and the terminal ones.
func errorMatches(pattern, name string) bool {
	switch {
	case name == ErrRuntime:
		return false
	case pattern == name:
		return true
	case name == ErrDataLimitExceeded:
		return false
	case pattern == ErrALL:
		return true
	case pattern == ErrTaskFailed:
		return name != ErrTimeout
	}
	return false
}
