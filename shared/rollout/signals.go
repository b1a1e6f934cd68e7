package rollout

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignalRollbackStarted says AWS began rolling a refresh back (an
// AutoRollback alarm fired, or someone called RollbackInstanceRefresh): the
// rollout reverts.
const SignalRollbackStarted = "rollback-started"

// RefreshEventSource is the source of instance refresh events.
const RefreshEventSource = "aws.autoscaling"

// refreshDetailPrefix starts every instance refresh event's detail-type.
const refreshDetailPrefix = "EC2 Auto Scaling Instance Refresh "

// refreshKinds maps the suffix of each instance refresh detail-type to a
// signal kind; "" means the event is ignored (Started: Phoenix knows, it
// started the refresh).
var refreshKinds = map[string]string{
	"Started":            "",
	"Checkpoint Reached": SignalCheckpoint,
	"Started Baking":     SignalBaking,
	"Succeeded":          SignalSucceeded,
	"Failed":             SignalFailed,
	"Cancelled":          SignalCancelled,
	"Rollback Started":   SignalRollbackStarted,
	"Rollback Succeeded": SignalRollbackSucceeded,
	"Rollback Failed":    SignalRollbackFailed,
}

// SignalKind maps an "EC2 Auto Scaling Instance Refresh ..." detail-type to
// a signal kind. ok is false for detail-types Phoenix does not act on,
// including Started and anything it does not know.
func SignalKind(detailType string) (kind string, ok bool) {
	suffix, found := strings.CutPrefix(detailType, refreshDetailPrefix)
	if !found {
		return "", false
	}
	kind = refreshKinds[suffix]
	return kind, kind != ""
}

// RefreshEvent is an instance refresh event as EventBridge delivers it.
type RefreshEvent struct {
	ID         string
	DetailType string
	Time       time.Time
	Group      GroupKey
	RefreshID  string
	// Checkpoint is the checkpoint percentage of "Checkpoint Reached".
	Checkpoint int
}

type refreshEnvelope struct {
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Detail     json.RawMessage `json:"detail"`
}

type refreshDetail struct {
	InstanceRefreshID    string      `json:"InstanceRefreshId"`
	AutoScalingGroupName string      `json:"AutoScalingGroupName"`
	CheckpointPercentage json.Number `json:"CheckpointPercentage"`
}

// ParseRefreshEvent reads an instance refresh event. Anything that cannot
// be one (another source, no group or refresh id, a bad time or
// percentage) is *BadInputError: retrying it would never help.
func ParseRefreshEvent(raw []byte) (RefreshEvent, error) {
	bad := func(format string, args ...any) (RefreshEvent, error) {
		return RefreshEvent{}, &BadInputError{Reason: "instance refresh event: " + fmt.Sprintf(format, args...)}
	}
	var env refreshEnvelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return bad("not a JSON event: %v", err)
	}
	if env.Source != RefreshEventSource {
		return bad("source %q is not %s", env.Source, RefreshEventSource)
	}
	if !strings.HasPrefix(env.DetailType, refreshDetailPrefix) {
		return bad("detail-type %q is not an instance refresh event", env.DetailType)
	}
	at, err := time.Parse(time.RFC3339, env.Time)
	if err != nil {
		return bad("time %q is not RFC 3339", env.Time)
	}
	var d refreshDetail
	if err := json.Unmarshal(env.Detail, &d); err != nil {
		return bad("detail: %v", err)
	}
	if env.Region == "" || d.AutoScalingGroupName == "" || d.InstanceRefreshID == "" {
		return bad("region, AutoScalingGroupName and InstanceRefreshId are required")
	}
	ev := RefreshEvent{
		ID: env.ID, DetailType: env.DetailType, Time: at.UTC(),
		Group:     GroupKey{Region: env.Region, Name: d.AutoScalingGroupName},
		RefreshID: d.InstanceRefreshID,
	}
	if d.CheckpointPercentage != "" {
		n, err := strconv.Atoi(string(d.CheckpointPercentage))
		if err != nil || n < 0 || n > 100 {
			return bad("CheckpointPercentage %q is not a percentage", d.CheckpointPercentage)
		}
		ev.Checkpoint = n
	}
	return ev, nil
}

// Signal turns the event into the signal it means; ok is false when the
// event is one Phoenix ignores.
func (e RefreshEvent) Signal() (Signal, bool) {
	kind, ok := SignalKind(e.DetailType)
	if !ok {
		return Signal{}, false
	}
	s := Signal{Kind: kind, RefreshID: e.RefreshID, At: e.Time}
	if kind == SignalCheckpoint {
		s.Percentage = e.Checkpoint
	}
	return s, true
}

// RefreshSignal is what the fallback poll makes of a refresh as
// DescribeInstanceRefreshes shows it, when the event that should have woken
// the rollout was late or lost. lastCheckpoint is the highest checkpoint
// already acted on: a refresh past a further checkpoint yields a checkpoint
// signal for it, so validation is not skipped.
func RefreshSignal(r Refresh, checkpoints []int, lastCheckpoint int, at time.Time) Signal {
	s := Signal{RefreshID: r.ID, Reason: r.StatusReason, At: at}
	switch r.Status {
	case RefreshSuccessful:
		s.Kind = SignalSucceeded
	case RefreshFailed:
		s.Kind = SignalFailed
	case RefreshCancelling, RefreshCancelled:
		s.Kind = SignalCancelled
	case RefreshRollbackInProgress:
		s.Kind = SignalRollbackStarted
	case RefreshRollbackSuccessful:
		s.Kind = SignalRollbackSucceeded
	case RefreshRollbackFailed:
		s.Kind = SignalRollbackFailed
	case RefreshBaking:
		s.Kind = SignalBaking
	default:
		s.Kind = SignalInProgress
		if cp := checkpointAt(checkpoints, r.PercentageComplete); cp > lastCheckpoint && cp < 100 {
			s.Kind, s.Percentage = SignalCheckpoint, cp
		}
	}
	return s
}

// FailureSignal reports whether the signal means the rollout must revert.
func FailureSignal(kind string) bool {
	switch kind {
	case SignalFailed, SignalCancelled, SignalRollbackStarted, SignalRollbackSucceeded, SignalRollbackFailed, SignalAlarm, SignalHalted, SignalRollbackRequested:
		return true
	}
	return false
}
