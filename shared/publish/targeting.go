package publish

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/phoenix-rollouts/phoenix/shared/bluegreen"
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

// Target is a group that takes the image, and its wave. For a blue/green
// pair, Group is the pair's first group by name, which stands for the pair
// (its rollout moves both groups and is recorded under that one), and Pair
// names both.
type Target struct {
	Group rollout.GroupKey `json:"target"`
	Wave  int              `json:"wave"`
	Pair  *PairUnit        `json:"pair,omitempty"`
}

// Skip is a group whose role matches the image but that cannot take it,
// and why; for a blue/green pair, Group stands for the pair as in Target.
type Skip struct {
	Group  rollout.GroupKey `json:"target"`
	Reason string           `json:"reason"`
	Pair   *PairUnit        `json:"pair,omitempty"`
}

// PairUnit is a blue/green pair (docs/blue-green.md) taken as one unit of
// a campaign: one rollout, one gate, one slot of a batch.
type PairUnit = bluegreen.Unit

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
//  4. A blue/green pair is one target (onePerPair): its first group by
//     name stands for it, in the later of its groups' waves, and the pair
//     is skipped with the reason when either group would be.
//
// cands are every candidate of the region, so that a pair's group that is
// not enabled or not of the image's role is seen. archs maps instance types
// to their supported architectures, as DescribeInstanceTypes says. Targets
// and skips are sorted by group.
func Targets(img Image, cands []Candidate, archs map[string][]string) ([]Target, []Skip) {
	var targets []Target
	var skips []Skip
	interested := Interested(img, cands)
	for _, c := range interested {
		wave, err := ParseWave(c.Tags)
		if err != nil {
			skips = append(skips, Skip{Group: c.Key, Reason: err.Error()})
			continue
		}
		if why := unfit(img, c, archs); why != "" {
			skips = append(skips, Skip{Group: c.Key, Reason: why})
			continue
		}
		targets = append(targets, Target{Group: c.Key, Wave: wave})
	}
	targets, skips = onePerPair(Role(img.Tags), cands, interested, targets, skips)
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

// onePerPair folds each blue/green pair among the targets and skips into
// one unit (bluegreen.OnePerPair), so that a campaign starts one rollout
// per pair: the second group's rollout would only collide with the first
// on the pair's lease. The unit is the pair's first group by name, where
// its rollouts are recorded. It is a target when both groups take the
// image, in the later of their waves (a pair never rolls before a wave one
// of its groups is tagged with); it is skipped, saying why, when a group
// would be skipped, is not enabled with the image's role, or the pair is
// not two groups, which Prepare would refuse anyway: a refused rollout
// would stop the campaign.
func onePerPair(role string, cands, interested []Candidate, targets []Target, skips []Skip) ([]Target, []Skip) {
	members := map[rollout.GroupKey][]Candidate{}
	for _, c := range cands {
		if k, ok := pairOf(c); ok {
			members[k] = append(members[k], c)
		}
	}
	if len(members) == 0 {
		return targets, skips
	}
	groups := make([]rollout.Group, 0, len(interested))
	isInterested := map[rollout.GroupKey]bool{}
	for _, c := range interested {
		groups = append(groups, rollout.Group{Key: c.Key, Tags: c.Tags})
		isInterested[c.Key] = true
	}
	kept := map[rollout.GroupKey]bool{}
	for _, g := range bluegreen.OnePerPair(groups) {
		kept[g.Key] = true
	}
	waves := map[rollout.GroupKey]int{}
	for _, t := range targets {
		waves[t.Group] = t.Wave
	}
	skipped := map[rollout.GroupKey]string{}
	for _, s := range skips {
		skipped[s.Group] = s.Reason
	}
	var outT []Target
	var outS []Skip
	for _, c := range interested {
		k, ok := pairOf(c)
		switch {
		case !ok:
			if why, skip := skipped[c.Key]; skip {
				outS = append(outS, Skip{Group: c.Key, Reason: why})
			} else {
				outT = append(outT, Target{Group: c.Key, Wave: waves[c.Key]})
			}
			continue
		case !kept[c.Key]:
			continue
		}
		ms := members[k]
		slices.SortFunc(ms, func(a, b Candidate) int { return strings.Compare(a.Key.Name, b.Key.Name) })
		unit := &PairUnit{Name: k.Name}
		for _, m := range ms {
			unit.Groups = append(unit.Groups, m.Key.Name)
		}
		var why []string
		if len(ms) != 2 {
			why = append(why, fmt.Sprintf("it has %s tagged %s; a pair is two", plural(len(ms), "group"), rollout.TagEnabled))
		}
		wave := CanaryWave
		for _, m := range ms {
			switch reason, skip := skipped[m.Key]; {
			case !isInterested[m.Key]:
				why = append(why, fmt.Sprintf("group %s is not tagged %s=true with %s=%q", m.Key.Name, rollout.TagEnabled, TagRole, role))
			case skip:
				why = append(why, reason)
			default:
				wave = max(wave, waves[m.Key])
			}
		}
		if len(why) > 0 {
			outS = append(outS, Skip{Group: c.Key, Pair: unit,
				Reason: fmt.Sprintf("%s takes an image only when both its groups can: %s", unit, strings.Join(why, "; "))})
			continue
		}
		outT = append(outT, Target{Group: c.Key, Wave: wave, Pair: unit})
	}
	return outT, outS
}

// pairOf names the blue/green pair a candidate belongs to.
func pairOf(c Candidate) (rollout.GroupKey, bool) { return bluegreen.PairOf(c.Key, c.Tags) }

// UnitsText says what a campaign's targets are, a pair counting once: "3
// groups", "1 group and pair web (web-blue, web-green)"; more than three
// pairs are counted, not named.
func UnitsText(targets []Target) string {
	groups := 0
	var pairs []string
	for _, t := range targets {
		if t.Pair != nil {
			pairs = append(pairs, t.Pair.String())
		} else {
			groups++
		}
	}
	var parts []string
	if groups > 0 || len(pairs) == 0 {
		parts = append(parts, plural(groups, "group"))
	}
	if len(pairs) > 3 {
		parts = append(parts, plural(len(pairs), "blue/green pair"))
	} else {
		parts = append(parts, pairs...)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
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
