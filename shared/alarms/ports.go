package alarms

import (
	"context"
	"fmt"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// The ports of the alarm-events function. shared/fleet implements Fleet,
// shared/ledger Ledger, shared/executions Starter and rollout.Resumer,
// shared/notify rollout.Notifier. Every method returns
// *rollout.TransientError for throttling, server faults and network
// failures, so the handler returns it and the event is retried.

// Fleet reads groups and alarms.
type Fleet interface {
	// Group reads one group with its tags; *rollout.NotFoundError when
	// it does not exist.
	Group(ctx context.Context, key rollout.GroupKey) (rollout.Group, error)
	// GroupsTagged reads every group of the region carrying the tag key.
	GroupsTagged(ctx context.Context, region, tagKey string) ([]rollout.Group, error)
	// AlarmTags reads an alarm's tags by its ARN; *rollout.NotFoundError
	// when the alarm was deleted.
	AlarmTags(ctx context.Context, region, alarmARN string) (map[string]string, error)
}

// Ledger is the part of the ledger the function uses: the rollout reads and
// AddSignal of rollout.Ledger, and the alarm claims.
type Ledger interface {
	ActiveRollout(ctx context.Context, key rollout.GroupKey) (rollout.Rollout, bool, error)
	History(ctx context.Context, key rollout.GroupKey, since time.Time, limit int) ([]rollout.Rollout, error)
	// AddSignal records a signal and returns the parked token, as in
	// rollout.Ledger; *rollout.NotFoundError when the rollout is not
	// recorded (yet).
	AddSignal(ctx context.Context, rolloutID string, s rollout.Signal) (rollout.Signal, string, error)
	// ClaimAlarm takes the claim c.Key for c.Owner, or returns the claim
	// as stored. won is true when c.Owner holds it: taken now, or by an
	// earlier delivery of the same event (a retried invocation must be
	// able to finish what it began). The stored claim says whether its
	// owner has notified already.
	ClaimAlarm(ctx context.Context, c Claim) (stored Claim, won bool, err error)
	// AlarmNotified records that the owner of the claim has notified, so
	// that a repeated delivery does not notify again.
	AlarmNotified(ctx context.Context, key ClaimKey, owner string) error
}

// Starter starts rollouts on the rollout state machine, exactly once per
// rollout id (shared/executions.Starter.StartRollout): the request is
// validated, wrapped in the execution's input and started under the name
// req.RolloutID. started is false when an execution of that name exists,
// and arn is then that execution's. A request that is not valid is a
// *rollout.BadInputError.
type Starter interface {
	StartRollout(ctx context.Context, req rollout.Request) (arn string, started bool, err error)
}

// ClaimKey names one action Phoenix takes about alarms, at most once:
// either the one action on a rollout (RolloutID with ActionSignal or
// ActionRevert) or the notice of one event for one group (Group with
// EventID). Storms and repeated deliveries meet on these keys.
type ClaimKey struct {
	RolloutID string
	Action    Action
	Group     rollout.GroupKey
	EventID   string
}

// RolloutClaim is the key of the one alarm action on a rollout.
func RolloutClaim(rolloutID string, a Action) ClaimKey {
	return ClaimKey{RolloutID: rolloutID, Action: a}
}

// NoticeClaim is the key of the notice of one event for one group.
func NoticeClaim(group rollout.GroupKey, eventID string) ClaimKey {
	return ClaimKey{Group: group, EventID: eventID}
}

// Check refuses a key that is neither form.
func (k ClaimKey) Check() error {
	switch {
	case k.RolloutID != "" && (k.Group != rollout.GroupKey{} || k.EventID != ""):
		return &rollout.BadInputError{Reason: fmt.Sprintf("alarm claim %+v names both a rollout and a group", k)}
	case k.RolloutID != "" && k.Action != ActionSignal && k.Action != ActionRevert:
		return &rollout.BadInputError{Reason: fmt.Sprintf("alarm claim on rollout %s: action %q is not signal or revert", k.RolloutID, k.Action)}
	case k.RolloutID == "" && (k.Group.Region == "" || k.Group.Name == "" || k.EventID == "" || k.Action != ""):
		return &rollout.BadInputError{Reason: fmt.Sprintf("alarm claim %+v needs a rollout and an action, or a group and an event id", k)}
	}
	return nil
}

func (k ClaimKey) String() string {
	if k.RolloutID != "" {
		return "rollout " + k.RolloutID + " " + string(k.Action)
	}
	return "group " + k.Group.String() + " event " + k.EventID
}

// Claim is who took an alarm action, and whether they told people.
type Claim struct {
	Key ClaimKey
	// Owner is the id of the alarm event that took the action.
	Owner string
	// Alarm is the alarm's name, for people reading the ledger.
	Alarm string
	// At is the alarm's time.
	At time.Time
	// Notified is true once the owner's notification was sent.
	Notified bool
}
