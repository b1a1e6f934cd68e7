package recycle

import (
	"fmt"
	"strings"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Settings is what a group's tags say about its recycling.
type Settings struct {
	// Enabled is phoenix:enabled, read as every rollout reads it.
	Enabled bool
	// Recycle is phoenix:recycle.
	Recycle bool
	// MaxAge is phoenix:max-age, or the configured default.
	MaxAge time.Duration
	// Freeze is phoenix:freeze; a bad value freezes (see ParseFreeze).
	Freeze Freeze
	// Problems are the tags that could not be used, each with what was
	// used instead; they are reported in the group's decision.
	Problems []rollout.Problem
}

// ParseSettings reads a group's recycle tags over the configured default
// max age. Like rollout.ParsePolicy it never guesses in the bolder
// direction: an unreadable phoenix:recycle is off, an unreadable
// phoenix:max-age keeps the default, an unreadable phoenix:freeze freezes;
// each is reported.
func ParseSettings(tags map[string]string, defaultMaxAge time.Duration) Settings {
	// phoenix:enabled has one parser, the rollout policy's; the other
	// policy tags do not matter here.
	pol, _ := rollout.ParsePolicy(map[string]string{rollout.TagEnabled: tags[rollout.TagEnabled]}, rollout.Policy{})
	_, hasEnabled := tags[rollout.TagEnabled]
	s := Settings{Enabled: hasEnabled && pol.Enabled, MaxAge: defaultMaxAge}
	if v, ok := tags[TagRecycle]; ok {
		on, known := parseSwitch(v)
		s.Recycle = on
		if !known {
			s.Problems = append(s.Problems, rollout.Problem{Tag: TagRecycle, Value: v, Reason: "not true or false", Fallback: "no recycling"})
		}
	}
	if v, ok := tags[TagMaxAge]; ok {
		d, err := rollout.ParseDuration(v)
		if err != nil || d < MinMaxAge || d > MaxMaxAge {
			s.Problems = append(s.Problems, rollout.Problem{Tag: TagMaxAge, Value: v,
				Reason:   fmt.Sprintf("want a duration from %s to %s (seconds, or like 168h)", MinMaxAge, MaxMaxAge),
				Fallback: defaultMaxAge.String()})
		} else {
			s.MaxAge = d
		}
	}
	if v, ok := tags[TagFreeze]; ok {
		f, err := ParseFreeze(v)
		if err != nil {
			s.Problems = append(s.Problems, rollout.Problem{Tag: TagFreeze, Value: v, Reason: err.Error(), Fallback: "frozen until the tag is fixed"})
		}
		f.Source = "tag " + TagFreeze
		s.Freeze = f
	}
	return s
}

// parseSwitch reads an on/off value the way phoenix:enabled is read; known
// is false for anything else, which callers treat as off.
func parseSwitch(v string) (on, known bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "yes", "on", "1":
		return true, true
	case "false", "no", "off", "0":
		return false, true
	}
	return false, false
}
