package publish

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Candidate is an Auto Scaling group that might take a published image:
// one tagged phoenix:enabled, projected by CandidateOf from the
// rollout.Group the fleet lists.
type Candidate struct {
	Key  rollout.GroupKey
	Tags map[string]string
	// InstanceTypes are the types the group launches: a mixed instances
	// policy's overrides, else its launch template version's type. Empty
	// when Phoenix cannot tell (attribute-based selection, a template
	// without an instance type).
	InstanceTypes []string
	// LaunchConfiguration marks a group on a launch configuration, which
	// Phoenix never rolls (FIELD-NOTES section 2: no rollback).
	LaunchConfiguration bool
}

// CandidateOf projects a group as targeting reads it. templateType is the
// instance type of the launch template version the group names, which
// the adapter reads only when the group has no instance type overrides;
// "" when the template names none or no longer exists. A group whose
// overrides select by attributes launches types Phoenix cannot tell, so
// it gets none and targeting skips it with a reason.
func CandidateOf(g rollout.Group, templateType string) Candidate {
	c := Candidate{Key: g.Key, Tags: maps.Clone(g.Tags), LaunchConfiguration: g.LaunchConfigurationName != ""}
	if c.Tags == nil {
		c.Tags = map[string]string{}
	}
	switch {
	case g.AttributeBased:
	case len(g.InstanceTypes) > 0:
		c.InstanceTypes = slices.Compact(slices.Sorted(slices.Values(g.InstanceTypes)))
	case templateType != "":
		c.InstanceTypes = []string{templateType}
	}
	return c
}

// NeedsTemplateType reports whether CandidateOf reads the group's launch
// template version's instance type: a launch template group without
// overrides, whose template alone decides what it launches.
func NeedsTemplateType(g rollout.Group) bool {
	return g.LaunchTemplateID != "" && g.LaunchConfigurationName == "" && !g.AttributeBased && len(g.InstanceTypes) == 0
}

// Target is a group that takes the image, and its wave.
type Target struct {
	Group rollout.GroupKey `json:"target"`
	Wave  int              `json:"wave"`
}

// Skip is a group whose role matches the image but that cannot take it,
// and why.
type Skip struct {
	Group  rollout.GroupKey `json:"target"`
	Reason string           `json:"reason"`
}

// Role returns the phoenix:role of an image's or group's tags, trimmed; ""
// when there is none.
func Role(tags map[string]string) string { return strings.TrimSpace(tags[TagRole]) }

// Targets chooses the groups that take img among cands, by the rules
// docs/publish.md documents:
//
//  1. Only groups whose phoenix:enabled reads true (as for any rollout).
//  2. The image's phoenix:role must equal the group's phoenix:role, exactly
//     (after trimming spaces). An image without a role targets no group and
//     a group without a role takes no published image: rolling
//     production on an untagged AMI (a backup, a test build) must never
//     happen by default.
//  3. Among those, a group is skipped, with a reason, when it runs on a
//     launch configuration, when its phoenix:wave tag is unreadable, when
//     Phoenix cannot tell its instance types, or when one of its instance
//     types is not offered or does not support the image's architecture.
//
// archs maps instance types to their supported architectures, as
// DescribeInstanceTypes says. Targets and skips are sorted by group.
func Targets(img Image, cands []Candidate, archs map[string][]string) ([]Target, []Skip) {
	var targets []Target
	var skips []Skip
	for _, c := range Interested(img, cands) {
		wave, err := ParseWave(c.Tags)
		if err != nil {
			skips = append(skips, Skip{c.Key, err.Error()})
			continue
		}
		if why := unfit(img, c, archs); why != "" {
			skips = append(skips, Skip{c.Key, why})
			continue
		}
		targets = append(targets, Target{Group: c.Key, Wave: wave})
	}
	sort.Slice(targets, func(i, j int) bool { return lessKey(targets[i].Group, targets[j].Group) })
	sort.Slice(skips, func(i, j int) bool { return lessKey(skips[i].Group, skips[j].Group) })
	return targets, skips
}

// Interested returns the candidates rules 1 and 2 of Targets keep: enabled
// groups whose role is the image's. Their instance types are the only ones
// worth describing.
func Interested(img Image, cands []Candidate) []Candidate {
	role := Role(img.Tags)
	if role == "" {
		return nil
	}
	var out []Candidate
	for _, c := range cands {
		if enabled(c.Tags) && Role(c.Tags) == role {
			out = append(out, c)
		}
	}
	return out
}

// enabled reads phoenix:enabled the way every rollout does.
func enabled(tags map[string]string) bool {
	p, _ := rollout.ParsePolicy(tags, rollout.Policy{})
	return p.Enabled
}

// unfit says why group c cannot run img, or "" when it can.
func unfit(img Image, c Candidate, archs map[string][]string) string {
	switch {
	case c.Key.Region != img.Region:
		return fmt.Sprintf("group %s is in %s, not in the image's region %s", c.Key.Name, c.Key.Region, img.Region)
	case c.LaunchConfiguration:
		return fmt.Sprintf("group %s runs on a launch configuration, which Phoenix does not roll (no rollback); move it to a launch template", c.Key.Name)
	case len(c.InstanceTypes) == 0:
		return fmt.Sprintf("Phoenix cannot tell which instance types group %s launches, so it cannot check the image's architecture %s", c.Key.Name, orNone(img.Architecture))
	}
	for _, t := range c.InstanceTypes {
		supported, ok := archs[t]
		if !ok {
			return fmt.Sprintf("instance type %s of group %s is not offered in %s", t, c.Key.Name, c.Key.Region)
		}
		if !slices.Contains(supported, img.Architecture) {
			return fmt.Sprintf("image %s is %s but instance type %s of group %s supports %s", img.ID(), orNone(img.Architecture), t, c.Key.Name, strings.Join(supported, ", "))
		}
	}
	return ""
}

func lessKey(a, b rollout.GroupKey) bool {
	if a.Region != b.Region {
		return a.Region < b.Region
	}
	return a.Name < b.Name
}

// InstanceTypes returns the distinct instance types of cands, sorted, for
// one DescribeInstanceTypes call.
func InstanceTypes(cands []Candidate) []string {
	var out []string
	for _, c := range cands {
		out = append(out, c.InstanceTypes...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
