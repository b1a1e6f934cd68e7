package states

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// notTruncated is the data details Step Functions attaches to every payload
// it records in full.
func notTruncated() *types.HistoryEventExecutionDataDetails {
	return &types.HistoryEventExecutionDataDetails{Truncated: false}
}

// emit appends an event to the execution's history, chained to the run's
// previous event, and returns its id. When the history is one event short
// of its limit the execution fails instead (the failure is the last event)
// and emit returns 0; callers stop when the run is no longer alive.
func (x *execution) emit(r *run, typ types.HistoryEventType, fill func(*types.HistoryEvent)) int64 {
	if x.closed {
		return 0
	}
	if len(x.events) >= x.svc.limits.MaxHistoryEvents-1 {
		x.finish(types.ExecutionStatusFailed, nil, &StateError{Name: ErrRuntime,
			Cause: "The execution reached the maximum number of events in its history (" + itoa(x.svc.limits.MaxHistoryEvents) + ")."})
		return 0
	}
	var prev int64
	if r != nil {
		prev = r.prev
	} else if n := len(x.events); n > 0 {
		prev = x.events[n-1].Id
	}
	ev := types.HistoryEvent{
		Id:              int64(len(x.events) + 1),
		PreviousEventId: prev,
		Timestamp:       aws.Time(x.svc.clock.Now()),
		Type:            typ,
	}
	if fill != nil {
		fill(&ev)
	}
	x.events = append(x.events, ev)
	if r != nil {
		r.prev = ev.Id
	}
	return ev.Id
}

// stateEnteredType and stateExitedType name a state's entry and exit events.
func stateEnteredType(stateType string) types.HistoryEventType {
	return types.HistoryEventType(stateType + "StateEntered")
}

func stateExitedType(stateType string) types.HistoryEventType {
	return types.HistoryEventType(stateType + "StateExited")
}

func stateAbortedType(stateType string) types.HistoryEventType {
	return types.HistoryEventType(stateType + "StateAborted")
}

// stripData returns a copy of ev without payloads, for
// GetExecutionHistory with IncludeExecutionData=false.
func stripData(ev types.HistoryEvent) types.HistoryEvent {
	if d := ev.ExecutionStartedEventDetails; d != nil {
		c := *d
		c.Input = nil
		ev.ExecutionStartedEventDetails = &c
	}
	if d := ev.ExecutionSucceededEventDetails; d != nil {
		c := *d
		c.Output = nil
		ev.ExecutionSucceededEventDetails = &c
	}
	if d := ev.StateEnteredEventDetails; d != nil {
		c := *d
		c.Input = nil
		ev.StateEnteredEventDetails = &c
	}
	if d := ev.StateExitedEventDetails; d != nil {
		c := *d
		c.Output = nil
		ev.StateExitedEventDetails = &c
	}
	if d := ev.TaskSucceededEventDetails; d != nil {
		c := *d
		c.Output = nil
		ev.TaskSucceededEventDetails = &c
	}
	if d := ev.TaskSubmittedEventDetails; d != nil {
		c := *d
		c.Output = nil
		ev.TaskSubmittedEventDetails = &c
	}
	if d := ev.LambdaFunctionScheduledEventDetails; d != nil {
		c := *d
		c.Input = nil
		ev.LambdaFunctionScheduledEventDetails = &c
	}
	if d := ev.LambdaFunctionSucceededEventDetails; d != nil {
		c := *d
		c.Output = nil
		ev.LambdaFunctionSucceededEventDetails = &c
	}
	return ev
}

// isoMillis formats an instant as the context object and integrations show
// it: RFC 3339 in UTC with milliseconds.
func isoMillis(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
