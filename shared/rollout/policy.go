// Package rollout is Phoenix's domain: rollout policy, the refresh plan and
// its arithmetic, the verdicts of validation, and the typed errors the
// functions return at the Lambda boundary. It imports no AWS package, so
// every decision here is tested without an endpoint.
package rollout

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// TagPrefix is the prefix of every Phoenix tag on a group.
const TagPrefix = "phoenix:"

// Tag keys read from an Auto Scaling group. The README's "Configuration by
// tags" table documents each.
const (
	TagEnabled         = TagPrefix + "enabled"
	TagCheckpoints     = TagPrefix + "checkpoints"
	TagMinHealthy      = TagPrefix + "min-healthy"
	TagMaxHealthy      = TagPrefix + "max-healthy"
	TagWarmup          = TagPrefix + "warmup"
	TagCheckpointDelay = TagPrefix + "checkpoint-delay"
	TagBake            = TagPrefix + "bake"
	TagAlarms          = TagPrefix + "alarms"
	TagGuardWindow     = TagPrefix + "guard-window"
)

// Bounds AWS puts on instance refresh preferences (FIELD-NOTES section 2).
const (
	maxDelay       = 172800 * time.Second // CheckpointDelay and BakeTime
	maxWarmup      = 172800 * time.Second
	maxAlarms      = 10
	maxGuardWindow = 7 * 24 * time.Hour
)

// Policy is how Phoenix rolls one group.
type Policy struct {
	// Enabled opts the group in; Phoenix leaves groups without it alone.
	Enabled bool
	// Checkpoints are the percentages at which the refresh pauses for
	// validation, ascending, unique, ending at 100.
	Checkpoints []int
	// MinHealthy and MaxHealthy are the refresh's healthy percentages.
	MinHealthy int
	MaxHealthy int
	// Warmup is the instance warmup; zero means the group's own default.
	Warmup time.Duration
	// CheckpointDelay is how long the refresh pauses at each checkpoint.
	CheckpointDelay time.Duration
	// Bake is how long the fleet runs on the new version before Finalize.
	Bake time.Duration
	// Alarms are the guard alarms: any in ALARM fails validation.
	Alarms []string
	// GuardWindow is how long after Finalize an alarm still reverts.
	GuardWindow time.Duration
}

// DefaultPolicy is the policy when neither template parameters nor tags say
// otherwise: replace a quarter of the fleet, then half, then all, launching
// before terminating so capacity never dips.
func DefaultPolicy() Policy {
	return Policy{
		Checkpoints:     []int{25, 50, 100},
		MinHealthy:      100,
		MaxHealthy:      125,
		CheckpointDelay: 10 * time.Minute,
		Bake:            15 * time.Minute,
		GuardWindow:     2 * time.Hour,
	}
}

// Problem is a tag Phoenix could not use, and what it did instead.
type Problem struct {
	Tag    string
	Value  string
	Reason string
	// Fallback says what Phoenix used instead.
	Fallback string
}

func (p Problem) String() string {
	return fmt.Sprintf("tag %s=%q: %s; using %s", p.Tag, p.Value, p.Reason, p.Fallback)
}

// ParsePolicy overlays a group's phoenix: tags on defaults. A tag that does
// not parse, or that would break an AWS bound, is reported and ignored: the
// default stands, and an unreadable phoenix:enabled means disabled. The
// combined result is checked again (MaxHealthy - MinHealthy <= 100).
func ParsePolicy(tags map[string]string, defaults Policy) (Policy, []Problem) {
	p := defaults
	p.Checkpoints = slices.Clone(defaults.Checkpoints)
	p.Alarms = slices.Clone(defaults.Alarms)
	var probs []Problem
	bad := func(tag, reason, fallback string) {
		probs = append(probs, Problem{Tag: tag, Value: tags[tag], Reason: reason, Fallback: fallback})
	}
	if v, ok := tags[TagEnabled]; ok {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true", "yes", "on", "1":
			p.Enabled = true
		case "false", "no", "off", "0":
			p.Enabled = false
		default:
			p.Enabled = false
			bad(TagEnabled, "not true or false", "disabled")
		}
	}
	if v, ok := tags[TagCheckpoints]; ok {
		cps, err := ParseCheckpoints(v)
		if err != nil {
			bad(TagCheckpoints, err.Error(), fmt.Sprint(p.Checkpoints))
		} else {
			p.Checkpoints = cps
		}
	}
	intTag := func(tag string, lo, hi int, into *int) {
		v, ok := tags[tag]
		if !ok {
			return
		}
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), "%"))
		if err != nil || n < lo || n > hi {
			bad(tag, fmt.Sprintf("want a whole number from %d to %d", lo, hi), strconv.Itoa(*into))
			return
		}
		*into = n
	}
	intTag(TagMinHealthy, 0, 100, &p.MinHealthy)
	intTag(TagMaxHealthy, 100, 200, &p.MaxHealthy)
	if p.MaxHealthy-p.MinHealthy > 100 {
		probs = append(probs, Problem{
			Tag: TagMaxHealthy, Value: strconv.Itoa(p.MaxHealthy),
			Reason:   fmt.Sprintf("max healthy %d%% minus min healthy %d%% exceeds 100", p.MaxHealthy, p.MinHealthy),
			Fallback: fmt.Sprintf("%d and %d", defaults.MinHealthy, defaults.MaxHealthy),
		})
		p.MinHealthy, p.MaxHealthy = defaults.MinHealthy, defaults.MaxHealthy
	}
	durTag := func(tag string, hi time.Duration, into *time.Duration) {
		v, ok := tags[tag]
		if !ok {
			return
		}
		d, err := ParseDuration(v)
		if err != nil || d < 0 || d > hi {
			bad(tag, fmt.Sprintf("want a duration from 0 to %s (e.g. 90s, 10m, 2h)", hi), into.String())
			return
		}
		*into = d
	}
	durTag(TagWarmup, maxWarmup, &p.Warmup)
	durTag(TagCheckpointDelay, maxDelay, &p.CheckpointDelay)
	durTag(TagBake, maxDelay, &p.Bake)
	durTag(TagGuardWindow, maxGuardWindow, &p.GuardWindow)
	if v, ok := tags[TagAlarms]; ok {
		alarms := SplitList(v)
		if len(alarms) > maxAlarms {
			bad(TagAlarms, fmt.Sprintf("%d alarms; instance refresh takes at most %d", len(alarms), maxAlarms), strings.Join(p.Alarms, ","))
		} else {
			p.Alarms = alarms
		}
	}
	return p, probs
}

// ParseCheckpoints reads "25,50,100": whole percentages from 1 to 100,
// strictly ascending. A list that does not end at 100 gets 100 appended,
// because a refresh that stops short of it leaves the fleet half-changed.
func ParseCheckpoints(s string) ([]int, error) {
	parts := SplitList(s)
	if len(parts) == 0 {
		return nil, fmt.Errorf("no checkpoints")
	}
	out := make([]int, 0, len(parts)+1)
	for _, part := range parts {
		n, err := strconv.Atoi(strings.TrimSuffix(part, "%"))
		if err != nil || n < 1 || n > 100 {
			return nil, fmt.Errorf("checkpoint %q is not a whole percentage from 1 to 100", part)
		}
		if len(out) > 0 && n <= out[len(out)-1] {
			return nil, fmt.Errorf("checkpoints must be strictly ascending (%d after %d)", n, out[len(out)-1])
		}
		out = append(out, n)
	}
	if out[len(out)-1] != 100 {
		out = append(out, 100)
	}
	return out, nil
}

// ParseDuration reads a duration as Go writes it (90s, 10m, 1h30m) or a bare
// number of seconds, which is how AWS states these preferences.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	return time.ParseDuration(s)
}

// SplitList splits a tag value on commas or spaces, dropping empties and
// duplicates and keeping order (tag values cannot hold lists otherwise).
func SplitList(s string) []string {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == ';' })
	seen := map[string]bool{}
	out := fields[:0]
	for _, f := range fields {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

// SortedTagKeys returns a group's phoenix: tag keys, for reports.
func SortedTagKeys(tags map[string]string) []string {
	var keys []string
	for k := range tags {
		if strings.HasPrefix(k, TagPrefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}
