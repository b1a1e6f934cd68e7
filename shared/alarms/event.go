// Package alarms is the domain of alarm-triggered rollback (docs/alarms.md):
// the "CloudWatch Alarm State Change" event, which groups an alarm guards,
// what Phoenix does about an alarm for each of them, and the Service that
// the alarm-events function runs. It imports no AWS package; its ports are
// implemented by shared/fleet, shared/ledger, shared/notify and
// shared/images.
package alarms

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// The event Phoenix acts on (FIELD-NOTES section 4).
const (
	Source     = "aws.cloudwatch"
	DetailType = "CloudWatch Alarm State Change"
)

// Alarm state values.
const (
	StateOK               = "OK"
	StateAlarm            = "ALARM"
	StateInsufficientData = "INSUFFICIENT_DATA"
)

// StateChangeDetail is the detail of a "CloudWatch Alarm State Change"
// event; its envelope is rollout.Envelope, which every EventBridge event
// Phoenix reads shares. aws-lambda-go has no type for it (aws-lambda-go
// issue 555), so Phoenix defines the members it reads; the rest (the
// alarm's configuration, suppression fields) is left undecoded.
type StateChangeDetail struct {
	AlarmName     string     `json:"alarmName"`
	State         AlarmState `json:"state"`
	PreviousState AlarmState `json:"previousState"`
}

// AlarmState is one state of the alarm in the event. Timestamp is written
// as CloudWatch writes it, e.g. "2026-03-01T12:00:00.000+0000" (no colon in
// the offset, so not RFC 3339).
type AlarmState struct {
	Value      string `json:"value"`
	Reason     string `json:"reason"`
	ReasonData string `json:"reasonData,omitempty"`
	Timestamp  string `json:"timestamp"`
}

// Event is a checked alarm state change.
type Event struct {
	ID      string
	Time    time.Time
	Account string
	Region  string
	// AlarmARN is resources[0]; AlarmName is the name it ends with.
	AlarmARN  string
	AlarmName string
	// State is the new state value, Reason CloudWatch's explanation and
	// At when the alarm entered the state (detail.state.timestamp): the
	// alarm's time, which decides the guard window, whatever delay the
	// delivery had.
	State  string
	Reason string
	At     time.Time
	// PreviousState is the value the alarm left.
	PreviousState string
}

// Bounds on outside input, so that a broken or hostile event cannot make
// Phoenix carry megabytes of text around.
const (
	maxAlarmName = 255
	// maxReason is CloudWatch's bound on a state reason.
	maxReason = 1023
)

var (
	// alarmARNPattern is arn:PARTITION:cloudwatch:REGION:ACCOUNT:alarm:NAME;
	// a name may itself hold ':'.
	alarmARNPattern = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov):cloudwatch:([a-z0-9-]+):([0-9]{12}):alarm:(.+)$`)
)

// stateTimeLayouts are the ways an alarm state's timestamp is written:
// CloudWatch's own (fraction optional when parsing) and RFC 3339.
var stateTimeLayouts = []string{"2006-01-02T15:04:05-0700", time.RFC3339Nano}

// ParseEvent reads and checks an alarm state change event. Anything that
// is not one (another source or detail-type, a missing or malformed id,
// account, region, time, alarm ARN, name or state, an ARN that is not the
// named alarm's in the event's region and account) is a
// *rollout.BadInputError: retrying it could never help. A well-formed
// event into OK or INSUFFICIENT_DATA parses; the caller ignores it.
func ParseEvent(raw []byte) (Event, error) {
	env, at, err := rollout.ParseEnvelope(raw, "alarm state change", Source, DetailType)
	if err != nil {
		return Event{}, err
	}
	var d StateChangeDetail
	if err := json.Unmarshal(env.Detail, &d); err != nil {
		return Event{}, bad("detail: %v", err)
	}
	if err := checkText("detail.alarmName", d.AlarmName, maxAlarmName); err != nil {
		return Event{}, err
	}
	if len(env.Resources) != 1 {
		return Event{}, bad("%d resources; an alarm state change names exactly its alarm", len(env.Resources))
	}
	m := alarmARNPattern.FindStringSubmatch(env.Resources[0])
	switch {
	case m == nil:
		return Event{}, bad("resource %q is not a CloudWatch alarm ARN", env.Resources[0])
	case m[2] != env.Region || m[3] != env.Account:
		return Event{}, bad("alarm %s is not in the event's region %s and account %s", env.Resources[0], env.Region, env.Account)
	case m[4] != d.AlarmName:
		return Event{}, bad("alarm ARN %s does not name alarm %q", env.Resources[0], d.AlarmName)
	}
	if !validState(d.State.Value) {
		return Event{}, bad("detail.state.value %q is not OK, ALARM or INSUFFICIENT_DATA", d.State.Value)
	}
	if !validState(d.PreviousState.Value) {
		return Event{}, bad("detail.previousState.value %q is not OK, ALARM or INSUFFICIENT_DATA", d.PreviousState.Value)
	}
	if !utf8.ValidString(d.State.Reason) {
		return Event{}, bad("detail.state.reason is not UTF-8")
	}
	stateAt, ok := parseStateTime(d.State.Timestamp)
	if !ok {
		return Event{}, bad("detail.state.timestamp %q is not a time", d.State.Timestamp)
	}
	return Event{
		ID: env.ID, Time: at, Account: env.Account, Region: env.Region,
		AlarmARN: env.Resources[0], AlarmName: d.AlarmName,
		State: d.State.Value, Reason: clip(d.State.Reason, maxReason), At: stateAt,
		PreviousState: d.PreviousState.Value,
	}, nil
}

// Actionable reports whether Phoenix acts on the event: only a transition
// into ALARM. OK and INSUFFICIENT_DATA say nothing about a rollout (missing
// data is not a failure), and the EventBridge rule passes only ALARM.
func (e Event) Actionable() bool { return e.State == StateAlarm }

// Explain is the alarm in one phrase for people: "alarm NAME is in ALARM:
// REASON", the signal's reason and the notification's first words.
func (e Event) Explain() string {
	s := fmt.Sprintf("alarm %s is in %s", e.AlarmName, e.State)
	if r := strings.TrimSpace(e.Reason); r != "" {
		s += ": " + r
	}
	return s
}

func validState(v string) bool {
	return v == StateOK || v == StateAlarm || v == StateInsufficientData
}

func parseStateTime(s string) (time.Time, bool) {
	for _, layout := range stateTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// checkText refuses an empty or over-long value, or one with control
// characters (they would forge log lines and break ledger keys).
func checkText(what, v string, limit int) error {
	switch {
	case v == "":
		return bad("%s is missing", what)
	case len(v) > limit:
		return bad("%s is %d bytes, more than %d", what, len(v), limit)
	case !utf8.ValidString(v):
		return bad("%s is not UTF-8", what)
	case strings.IndexFunc(v, unicode.IsControl) >= 0:
		return bad("%s %q holds control characters", what, v)
	}
	return nil
}

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// bad builds the *rollout.BadInputError of a dropped event.
func bad(format string, args ...any) error {
	return &rollout.BadInputError{Reason: "alarm state change event: " + fmt.Sprintf(format, args...)}
}
