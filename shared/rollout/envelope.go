package rollout

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// MaxEventID bounds an event id Phoenix accepts: ids name executions'
// origins and land in ledger keys.
const MaxEventID = 256

var (
	accountPattern = regexp.MustCompile(`^[0-9]{12}$`)
	regionPattern  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)
)

// Envelope is the part of every EventBridge event Phoenix checks before it
// reads the detail.
type Envelope struct {
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

// ParseEnvelope reads one EventBridge event strictly: a single JSON object
// of the expected source and detail-type, envelope version "0", an id
// (CheckEventID), a 12-digit account, a region name, an RFC 3339 time and
// an object detail. It returns the time in UTC. Anything else is a
// *BadInputError whose reason starts with what: an event that cannot be
// acted on never becomes one by retrying.
func ParseEnvelope(raw []byte, what, source, detailType string) (Envelope, time.Time, error) {
	return parseEnvelope(raw, what, source, strconv.Quote(detailType), func(dt string) bool { return dt == detailType })
}

// parseEnvelope is ParseEnvelope for a source that sends a family of
// detail-types (Auto Scaling's instance refresh events): isDetailType says
// which it accepts and want names them in the refusal.
func parseEnvelope(raw []byte, what, source, want string, isDetailType func(string) bool) (Envelope, time.Time, error) {
	bad := func(format string, args ...any) (Envelope, time.Time, error) {
		return Envelope{}, time.Time{}, &BadInputError{Reason: what + ": " + fmt.Sprintf(format, args...)}
	}
	var env Envelope
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&env); err != nil {
		return bad("not a JSON event object: %v", err)
	}
	if dec.More() {
		return bad("text follows the event object")
	}
	switch {
	case env.Source != source:
		return bad("source %q is not %s", env.Source, source)
	case !isDetailType(env.DetailType):
		return bad("detail-type %q is not %s", env.DetailType, want)
	case env.Version != "0":
		return bad("version %q is not the EventBridge envelope version \"0\"", env.Version)
	}
	if err := CheckEventID(env.ID); err != nil {
		return bad("%v", err)
	}
	if !accountPattern.MatchString(env.Account) {
		return bad("account %q is not a 12-digit account id", env.Account)
	}
	if !regionPattern.MatchString(env.Region) {
		return bad("region %q is not a region name", env.Region)
	}
	at, err := time.Parse(time.RFC3339, env.Time)
	if err != nil {
		return bad("time %q is not RFC 3339", env.Time)
	}
	if d := bytes.TrimSpace(env.Detail); len(d) == 0 || d[0] != '{' {
		return bad("detail is missing or not an object")
	}
	return env, at.UTC(), nil
}

// CheckEventID refuses an event id that could not name an execution's
// origin: empty, longer than MaxEventID bytes, or holding control or
// invalid characters.
func CheckEventID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("the event has no id")
	case len(id) > MaxEventID:
		return fmt.Errorf("the event id is longer than %d bytes", MaxEventID)
	case strings.IndexFunc(id, func(r rune) bool { return unicode.IsControl(r) || r == unicode.ReplacementChar }) >= 0:
		return fmt.Errorf("the event id %q holds control or invalid characters", id)
	}
	return nil
}

// ValidAccount reports whether s is a 12-digit account id.
func ValidAccount(s string) bool { return accountPattern.MatchString(s) }

// ValidRegion reports whether s looks like a region name.
func ValidRegion(s string) bool { return regionPattern.MatchString(s) }
