package alarms

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// TagGroup is the tag on a CloudWatch alarm that names the one Auto Scaling
// group, in the alarm's region, that the alarm guards.
const TagGroup = rollout.TagPrefix + "group"

// How an alarm was mapped to a group (docs/alarms.md, "Mapping").
const (
	ViaAlarmTag = "alarm tag " + TagGroup
	ViaGroupTag = "group tag " + rollout.TagAlarms
)

// maxGroupName is Auto Scaling's bound on a group name.
const maxGroupName = 255

// Target is a group an alarm guards and that Phoenix manages.
type Target struct {
	Group rollout.GroupKey
	// Via says how the alarm was mapped to the group (ViaAlarmTag,
	// ViaGroupTag, or both).
	Via []string
	// Policy is the group's policy: its tags over the defaults; its
	// GuardWindow bounds the revert of a finalized rollout.
	Policy rollout.Policy
}

// Skip is a group an alarm names that Phoenix leaves alone, and why.
type Skip struct {
	Group  rollout.GroupKey `json:"target"`
	Reason string           `json:"reason"`
}

// GroupTag reads the group an alarm's tags name. ok is false when the
// alarm has no phoenix:group tag; a tag whose value is not one group name
// is an error naming the value, because guessing could act on the wrong
// group.
func GroupTag(tags map[string]string) (name string, ok bool, err error) {
	v, ok := tags[TagGroup]
	if !ok {
		return "", false, nil
	}
	name = strings.TrimSpace(v)
	switch {
	case name == "":
		return "", true, fmt.Errorf("tag %s is empty", TagGroup)
	case len(name) > maxGroupName || !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "", true, fmt.Errorf("tag %s=%q is not an Auto Scaling group name", TagGroup, v)
	}
	return name, true, nil
}

// Map finds the groups an alarm guards, among named (the group the
// alarm's phoenix:group tag names, nil if none or if it does not exist) and
// listing (the region's groups carrying a phoenix:alarms tag): named, and
// every group whose phoenix:alarms, read as every rollout reads it
// (rollout.ParsePolicy over defaults), lists the alarm's name. Only groups
// whose phoenix:enabled reads true are targets; the others the alarm names
// are skipped with a reason. A group found both ways is one target. The
// result is ordered by group name, so logs and tests are stable.
func Map(alarmName string, named *rollout.Group, listing []rollout.Group, defaults rollout.Policy) ([]Target, []Skip) {
	byKey := map[rollout.GroupKey]*Target{}
	var skips []Skip
	add := func(g rollout.Group, via string) {
		if t, ok := byKey[g.Key]; ok {
			if !slices.Contains(t.Via, via) {
				t.Via = append(t.Via, via)
			}
			return
		}
		p, _ := rollout.ParsePolicy(g.Tags, defaults)
		if !p.Enabled {
			if !slices.ContainsFunc(skips, func(s Skip) bool { return s.Group == g.Key }) {
				skips = append(skips, Skip{Group: g.Key, Reason: fmt.Sprintf("group %s is not tagged %s=true; Phoenix does not manage it", g.Key, rollout.TagEnabled)})
			}
			return
		}
		byKey[g.Key] = &Target{Group: g.Key, Via: []string{via}, Policy: p}
	}
	if named != nil {
		add(*named, ViaAlarmTag)
	}
	for _, g := range listing {
		if _, ok := g.Tags[rollout.TagAlarms]; !ok {
			continue
		}
		p, _ := rollout.ParsePolicy(g.Tags, defaults)
		if slices.Contains(p.Alarms, alarmName) {
			add(g, ViaGroupTag)
		}
	}
	out := make([]Target, 0, len(byKey))
	for _, t := range byKey {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b Target) int { return strings.Compare(a.Group.String(), b.Group.String()) })
	slices.SortFunc(skips, func(a, b Skip) int { return strings.Compare(a.Group.String(), b.Group.String()) })
	return out, skips
}
