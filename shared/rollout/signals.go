package rollout

import (
	"encoding/json"
	"fmt"
	"regexp"
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
// signal kind; "" means the event is ignored, and the refresh-events rule
// does not deliver it: Started (Phoenix knows, it started the refresh) and
// Rollback Started (a rollback AWS began ends in Rollback Succeeded or
// Rollback Failed, which are what the rollout acts on; a poll that finds
// the rollback in progress still reads it as SignalRollbackStarted).
var refreshKinds = map[string]string{
	"Started":            "",
	"Checkpoint Reached": SignalCheckpoint,
	"Started Baking":     SignalBaking,
	"Succeeded":          SignalSucceeded,
	"Failed":             SignalFailed,
	"Cancelled":          SignalCancelled,
	"Rollback Started":   "",
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

type refreshDetail struct {
	InstanceRefreshID    string      `json:"InstanceRefreshId"`
	AutoScalingGroupName string      `json:"AutoScalingGroupName"`
	CheckpointPercentage json.Number `json:"CheckpointPercentage"`
}

// groupARNPattern is
// arn:PARTITION:autoscaling:REGION:ACCOUNT:autoScalingGroup:ID:autoScalingGroupName/NAME,
// the one resource of an instance refresh event.
var groupARNPattern = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov):autoscaling:([a-z0-9-]+):([0-9]{12}):autoScalingGroup:[^:]+:autoScalingGroupName/(.+)$`)

// ParseRefreshEvent reads an instance refresh event through ParseEnvelope's
// checks (version "0", id, account, region, RFC 3339 time, source
// aws.autoscaling, an "EC2 Auto Scaling Instance Refresh ..." detail-type),
// then its detail: a group and refresh id, a percentage if any, and exactly
// one resource, the group's ARN in the event's region and account. A
// detail-type of the family that Phoenix does not know parses; Signal says
// it is not acted on. Anything else is *BadInputError: retrying it would
// never help.
func ParseRefreshEvent(raw []byte) (RefreshEvent, error) {
	const what = "instance refresh event"
	bad := func(format string, args ...any) (RefreshEvent, error) {
		return RefreshEvent{}, &BadInputError{Reason: what + ": " + fmt.Sprintf(format, args...)}
	}
	env, at, err := parseEnvelope(raw, what, RefreshEventSource, strconv.Quote(refreshDetailPrefix+"..."),
		func(dt string) bool { return strings.HasPrefix(dt, refreshDetailPrefix) })
	if err != nil {
		return RefreshEvent{}, err
	}
	var d refreshDetail
	if err := json.Unmarshal(env.Detail, &d); err != nil {
		return bad("detail: %v", err)
	}
	if d.AutoScalingGroupName == "" || d.InstanceRefreshID == "" {
		return bad("detail.AutoScalingGroupName and detail.InstanceRefreshId are required")
	}
	if len(env.Resources) != 1 {
		return bad("%d resources; an instance refresh event names exactly its group", len(env.Resources))
	}
	m := groupARNPattern.FindStringSubmatch(env.Resources[0])
	switch {
	case m == nil:
		return bad("resource %q is not an Auto Scaling group ARN", env.Resources[0])
	case m[2] != env.Region || m[3] != env.Account:
		return bad("group %s is not in the event's region %s and account %s", env.Resources[0], env.Region, env.Account)
	case m[4] != d.AutoScalingGroupName:
		return bad("group ARN %s does not name group %q", env.Resources[0], d.AutoScalingGroupName)
	}
	ev := RefreshEvent{
		ID: env.ID, DetailType: env.DetailType, Time: at,
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
