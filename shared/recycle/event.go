package recycle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Source and detail-type of an EventBridge schedule's event (FIELD-NOTES
// section 4).
const (
	SourceSchedule     = "aws.events"
	DetailTypeSchedule = "Scheduled Event"
)

// maxEventID bounds an event id, which ends up in names and logs.
const maxEventID = 256

var (
	accountPattern = regexp.MustCompile(`^[0-9]{12}$`)
	regionPattern  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)
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
	var env struct {
		Version    string          `json:"version"`
		ID         string          `json:"id"`
		DetailType string          `json:"detail-type"`
		Source     string          `json:"source"`
		Account    string          `json:"account"`
		Time       string          `json:"time"`
		Region     string          `json:"region"`
		Resources  []string        `json:"resources"`
		Detail     json.RawMessage `json:"detail"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&env); err != nil {
		return Event{}, bad("not a JSON event object: %v", err)
	}
	if dec.More() {
		return Event{}, bad("text follows the event object")
	}
	switch {
	case env.Source != SourceSchedule:
		return Event{}, bad("source %q is not %s", env.Source, SourceSchedule)
	case env.DetailType != DetailTypeSchedule:
		return Event{}, bad("detail-type %q is not %q", env.DetailType, DetailTypeSchedule)
	case env.Version != "0":
		return Event{}, bad("version %q is not the EventBridge envelope version \"0\"", env.Version)
	case env.ID == "":
		return Event{}, bad("the event has no id")
	case len(env.ID) > maxEventID:
		return Event{}, bad("the event id is longer than %d bytes", maxEventID)
	case strings.IndexFunc(env.ID, func(r rune) bool { return unicode.IsControl(r) || r == unicode.ReplacementChar }) >= 0:
		return Event{}, bad("the event id %q holds control or invalid characters", env.ID)
	case !accountPattern.MatchString(env.Account):
		return Event{}, bad("account %q is not a 12-digit account id", env.Account)
	case !regionPattern.MatchString(env.Region):
		return Event{}, bad("region %q is not a region name", env.Region)
	case len(env.Resources) != 1 || !ruleARNPattern.MatchString(env.Resources[0]):
		return Event{}, bad("resources %q: want the one schedule rule ARN", env.Resources)
	}
	if d := bytes.TrimSpace(env.Detail); len(d) == 0 || d[0] != '{' {
		return Event{}, bad("detail is missing or not an object")
	}
	if env.Time == "" {
		return Event{}, bad("the event has no time")
	}
	at, err := time.Parse(time.RFC3339, env.Time)
	if err != nil {
		return Event{}, bad("time %q is not RFC 3339", env.Time)
	}
	return Event{ID: env.ID, Time: at.UTC(), Account: env.Account, Region: env.Region, Rule: env.Resources[0]}, nil
}

// bad is the *rollout.BadInputError of an event that no retry can fix.
func bad(format string, args ...any) error {
	return &rollout.BadInputError{Reason: "scheduled event: " + fmt.Sprintf(format, args...)}
}
