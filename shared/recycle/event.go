package recycle

import (
	"fmt"
	"regexp"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Source and detail-type of an EventBridge schedule's event (FIELD-NOTES
// section 4).
const (
	SourceSchedule     = "aws.events"
	DetailTypeSchedule = "Scheduled Event"
)

var (
	ruleARNPattern = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov):events:[a-z0-9-]+:[0-9]{12}:rule/[A-Za-z0-9._/-]{1,200}$`)
)

// Event is the schedule's event, checked.
type Event struct {
	ID      string
	Time    time.Time
	Account string
	// Region is where the rule fired: the region whose groups are
	// recycled.
	Region string
	// Rule is the schedule rule's ARN, the recycles' trigger source.
	Rule string
}

// ParseEvent reads an EventBridge "Scheduled Event". It is strict, because
// the event's id names every recycle of the night and its time is the
// night's "now": source aws.events, detail-type "Scheduled Event",
// envelope version "0", an id (at most 256 bytes, no control characters),
// a 12-digit account, a region name, an RFC 3339 time, one resource that
// is a rule ARN and an object detail. Anything else is a
// *rollout.BadInputError.
func ParseEvent(raw []byte) (Event, error) {
	env, at, err := rollout.ParseEnvelope(raw, "scheduled event", SourceSchedule, DetailTypeSchedule)
	if err != nil {
		return Event{}, err
	}
	if len(env.Resources) != 1 || !ruleARNPattern.MatchString(env.Resources[0]) {
		return Event{}, bad("resources %q: want the one schedule rule ARN", env.Resources)
	}
	return Event{ID: env.ID, Time: at, Account: env.Account, Region: env.Region, Rule: env.Resources[0]}, nil
}

// bad is the *rollout.BadInputError of an event that no retry can fix.
func bad(format string, args ...any) error {
	return &rollout.BadInputError{Reason: "scheduled event: " + fmt.Sprintf(format, args...)}
}
