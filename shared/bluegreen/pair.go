// Package bluegreen is the pure domain of blue/green rollouts (issue 18,
// docs/blue-green.md): which two Auto Scaling groups make a pair, whether a
// pair can take a blue/green rollout now (and why not), which of the two
// is live, the traffic steps, and the weights of each step. It imports no
// AWS package: adapters read the groups and the listener's forward action
// and hand them here.
//
// A pair is declared by the user's own infrastructure as code, never made
// by Phoenix: two groups with the same phoenix:role and phoenix:pair tags,
// phoenix:strategy=blue-green, each attached to its own target group, both
// target groups in one listener's (or rule's) weighted forward action, one
// at weight 100 (live) and the other at 0 (idle).
package bluegreen

import (
	"fmt"
	"slices"
	"strings"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Tags of a blue/green pair, on each of its two groups.
const (
	// TagStrategy is rolling (the default) or blue-green.
	TagStrategy = rollout.TagPrefix + "strategy"
	// TagPair names the pair; the two groups carry the same value.
	TagPair = rollout.TagPrefix + "pair"
	// TagRole is the groups' role, the same on both.
	TagRole = rollout.TagPrefix + "role"
	// TagTrafficSteps are the traffic percentages the new group gets, in
	// order, ending at 100 (default DefaultSteps).
	TagTrafficSteps = rollout.TagPrefix + "traffic-steps"
)

// The strategies.
const (
	StrategyRolling   = "rolling"
	StrategyBlueGreen = "blue-green"
)

// Limits of an ELBv2 forward action (AWS's): at most five target groups,
// weights 0 to 999.
const (
	MaxTargetGroupsPerAction = 5
	MaxWeight                = 999
)

// Strategy returns a group's strategy from its tags: StrategyRolling when
// the tag is absent or empty; an unknown value is an error (a typo must
// not roll a pair as two rolling groups).
func Strategy(tags map[string]string) (string, error) {
	switch v := strings.ToLower(strings.TrimSpace(tags[TagStrategy])); v {
	case "", StrategyRolling:
		return StrategyRolling, nil
	case StrategyBlueGreen:
		return StrategyBlueGreen, nil
	default:
		return "", fmt.Errorf("%s is %q; want %s or %s", TagStrategy, tags[TagStrategy], StrategyRolling, StrategyBlueGreen)
	}
}

// enabled reads phoenix:enabled as the rollout policy does.
func enabled(tags map[string]string) bool {
	pol, _ := rollout.ParsePolicy(map[string]string{rollout.TagEnabled: tags[rollout.TagEnabled]}, rollout.Policy{})
	return pol.Enabled
}

// WeightedTargetGroup is one target group of a forward action.
type WeightedTargetGroup struct {
	ARN    string `json:"targetGroupArn"`
	Weight int    `json:"weight"`
}

// Forward is the weighted forward action that serves the pair: a
// listener's default action or a rule's.
type Forward struct {
	// ListenerARN is set for a listener's default action, RuleARN for a
	// rule's (one of the two).
	ListenerARN string                `json:"listenerArn,omitempty"`
	RuleARN     string                `json:"ruleArn,omitempty"`
	Groups      []WeightedTargetGroup `json:"targetGroups"`
}

// Owner is the listener or rule that holds the action.
func (f Forward) Owner() string {
	if f.RuleARN != "" {
		return f.RuleARN
	}
	return f.ListenerARN
}

// weight returns the weight of a target group in the action, and whether
// the action names it.
func (f Forward) weight(arn string) (int, bool) {
	for _, g := range f.Groups {
		if g.ARN == arn {
			return g.Weight, true
		}
	}
	return 0, false
}

// Pair is what the adapters read of a declared pair.
type Pair struct {
	// Name is the phoenix:pair value.
	Name   string
	Groups []rollout.Group
	// Forwards are the forward actions that name any of the groups'
	// target groups (listeners' default actions and rules').
	Forwards []Forward
}

// Side is one group of a prepared pair.
type Side struct {
	Group       rollout.Group `json:"-"`
	Name        string        `json:"group"`
	TargetGroup string        `json:"targetGroupArn"`
}

// Prepared is a pair that can take a blue/green rollout: which group is
// live (weight 100), which is idle (weight 0, no instances), and the action
// that splits the traffic between them.
type Prepared struct {
	Name    string  `json:"pair"`
	Role    string  `json:"role"`
	Live    Side    `json:"live"`
	Idle    Side    `json:"idle"`
	Forward Forward `json:"forward"`
}

// RefusalError says why a pair cannot take a blue/green rollout; nothing
// was changed.
type RefusalError struct {
	Pair   string
	Reason string
}

func (e *RefusalError) Error() string {
	return fmt.Sprintf("blue/green pair %q refused: %s", e.Pair, e.Reason)
}

func refuse(pair, format string, args ...any) error {
	return &RefusalError{Pair: pair, Reason: fmt.Sprintf(format, args...)}
}

// Prepare checks a pair as docs/blue-green.md requires before a rollout
// starts, and says which side is live. Refusals (each a *RefusalError,
// checked in this order): not exactly two groups; a group not tagged
// blue-green, with another pair name, or not enabled; groups with different roles or
// launch templates, or on a launch configuration; a group not attached to
// exactly one target group, or both to the same; no forward action naming
// both target groups, or more than one; more than five target groups in
// the action; weights other than 100 and 0 on the pair (any other target
// group in the action must have weight 0); an idle group with instances.
func Prepare(p Pair) (Prepared, error) {
	if len(p.Groups) != 2 {
		var names []string
		for _, g := range p.Groups {
			names = append(names, g.Key.Name)
		}
		return Prepared{}, refuse(p.Name, "a pair is exactly two groups; %d carry %s=%s: %v", len(p.Groups), TagPair, p.Name, names)
	}
	a, b := p.Groups[0], p.Groups[1]
	if a.Key.Name > b.Key.Name {
		a, b = b, a
	}
	for _, g := range []rollout.Group{a, b} {
		s, err := Strategy(g.Tags)
		switch {
		case err != nil:
			return Prepared{}, refuse(p.Name, "group %s: %v", g.Key.Name, err)
		case s != StrategyBlueGreen:
			return Prepared{}, refuse(p.Name, "group %s is not tagged %s=%s", g.Key.Name, TagStrategy, StrategyBlueGreen)
		case strings.TrimSpace(g.Tags[TagPair]) != p.Name:
			return Prepared{}, refuse(p.Name, "group %s has %s=%q", g.Key.Name, TagPair, g.Tags[TagPair])
		case !enabled(g.Tags):
			return Prepared{}, refuse(p.Name, "group %s is not tagged %s=true", g.Key.Name, rollout.TagEnabled)
		case g.LaunchConfigurationName != "" || g.LaunchTemplateID == "":
			return Prepared{}, refuse(p.Name, "group %s uses a launch configuration; blue/green needs launch templates", g.Key.Name)
		}
	}
	role := strings.TrimSpace(a.Tags[TagRole])
	if rb := strings.TrimSpace(b.Tags[TagRole]); role != rb {
		return Prepared{}, refuse(p.Name, "the groups have different roles: %s has %q, %s has %q", a.Key.Name, role, b.Key.Name, rb)
	}
	if a.LaunchTemplateID != b.LaunchTemplateID {
		return Prepared{}, refuse(p.Name, "the groups use different launch templates: %s %s, %s %s", a.Key.Name, a.LaunchTemplateID, b.Key.Name, b.LaunchTemplateID)
	}
	for _, g := range []rollout.Group{a, b} {
		if len(g.TargetGroupARNs) != 1 {
			return Prepared{}, refuse(p.Name, "group %s is attached to %d target groups; each group of a pair has exactly one", g.Key.Name, len(g.TargetGroupARNs))
		}
	}
	ta, tb := a.TargetGroupARNs[0], b.TargetGroupARNs[0]
	if ta == tb {
		return Prepared{}, refuse(p.Name, "both groups are attached to target group %s; each needs its own", ta)
	}
	var both []Forward
	for _, f := range p.Forwards {
		_, okA := f.weight(ta)
		_, okB := f.weight(tb)
		if okA && okB {
			both = append(both, f)
		}
	}
	switch len(both) {
	case 0:
		return Prepared{}, refuse(p.Name, "no listener or rule forwards to both %s and %s in one weighted action", ta, tb)
	case 1:
	default:
		var owners []string
		for _, f := range both {
			owners = append(owners, f.Owner())
		}
		slices.Sort(owners)
		return Prepared{}, refuse(p.Name, "%d actions forward to both target groups (%v); Phoenix shifts exactly one", len(both), owners)
	}
	f := both[0]
	if len(f.Groups) > MaxTargetGroupsPerAction {
		return Prepared{}, refuse(p.Name, "the action of %s names %d target groups; AWS allows at most %d", f.Owner(), len(f.Groups), MaxTargetGroupsPerAction)
	}
	wa, _ := f.weight(ta)
	wb, _ := f.weight(tb)
	for _, g := range f.Groups {
		if g.ARN != ta && g.ARN != tb && g.Weight != 0 {
			return Prepared{}, refuse(p.Name, "target group %s in the action of %s has weight %d; only the pair's may serve", g.ARN, f.Owner(), g.Weight)
		}
	}
	live, idle := Side{Group: a, Name: a.Key.Name, TargetGroup: ta}, Side{Group: b, Name: b.Key.Name, TargetGroup: tb}
	switch {
	case wa > 0 && wb == 0:
	case wb > 0 && wa == 0:
		live, idle = idle, live
	default:
		return Prepared{}, refuse(p.Name, "weights must be all on one group at the start: %s has %d, %s has %d", a.Key.Name, wa, b.Key.Name, wb)
	}
	// Instances on their way out (the previous rollout scaled the group to
	// zero a moment ago) are no obstacle: they serve nothing and are never
	// counted as the new side's.
	if n := len(staying(idle.Group.Instances)); n > 0 || idle.Group.Desired > 0 {
		return Prepared{}, refuse(p.Name, "the idle group %s still has %d instances (desired %d); scale it to zero first", idle.Name, n, idle.Group.Desired)
	}
	return Prepared{Name: p.Name, Role: role, Live: live, Idle: idle, Forward: f}, nil
}

// staying are the instances not terminating or detaching.
func staying(ins []rollout.Instance) []rollout.Instance {
	var out []rollout.Instance
	for _, in := range ins {
		if !leaving(in) {
			out = append(out, in)
		}
	}
	return out
}

// leaving reports whether an instance is on its way out of its group.
func leaving(in rollout.Instance) bool {
	return strings.HasPrefix(in.Lifecycle, "Terminat") || strings.HasPrefix(in.Lifecycle, "Detach")
}

// Weights returns the action's target groups with pct percent of the
// traffic on to and the rest on from; every other target group keeps
// weight 0. Weights are percentages, within AWS's 0-999.
func Weights(f Forward, from, to string, pct int) []WeightedTargetGroup {
	pct = min(max(pct, 0), 100)
	out := make([]WeightedTargetGroup, 0, len(f.Groups))
	for _, g := range f.Groups {
		w := 0
		switch g.ARN {
		case to:
			w = pct
		case from:
			w = 100 - pct
		}
		out = append(out, WeightedTargetGroup{ARN: g.ARN, Weight: w})
	}
	return out
}

// Share returns the percent of the action's traffic a target group gets
// by weight (0 when the weights sum to 0).
func Share(f Forward, arn string) float64 {
	total, mine := 0, 0
	for _, g := range f.Groups {
		total += g.Weight
		if g.ARN == arn {
			mine += g.Weight
		}
	}
	if total == 0 {
		return 0
	}
	return 100 * float64(mine) / float64(total)
}

// Anchor is the group a pair's rollouts are recorded and leased under
// first: the first of its two groups by name, whichever is live, so that a
// pair's history stays in one place whichever group a caller named.
func (p Prepared) Anchor() string { return min(p.Live.Name, p.Idle.Name) }

// OnePerPair makes a pair one unit of a list of groups (a publishing wave,
// the nightly recycle): of the groups tagged blue-green with the same
// region and phoenix:pair, only the first by name stays, in its place; every
// other group stays as it is. A group tagged blue-green without a pair name
// stays too, for Prepare to refuse with the reason.
func OnePerPair(groups []rollout.Group) []rollout.Group {
	first := map[rollout.GroupKey]string{}
	for _, g := range groups {
		if k, ok := PairOf(g.Key, g.Tags); ok {
			if cur, seen := first[k]; !seen || g.Key.Name < cur {
				first[k] = g.Key.Name
			}
		}
	}
	out := make([]rollout.Group, 0, len(groups))
	for _, g := range groups {
		if k, ok := PairOf(g.Key, g.Tags); ok && first[k] != g.Key.Name {
			continue
		}
		out = append(out, g)
	}
	return out
}

// PairOf names the pair a group belongs to (its region and phoenix:pair),
// if its tags say blue-green and name a pair.
func PairOf(key rollout.GroupKey, tags map[string]string) (rollout.GroupKey, bool) {
	name := strings.TrimSpace(tags[TagPair])
	if s, err := Strategy(tags); err != nil || s != StrategyBlueGreen || name == "" {
		return rollout.GroupKey{}, false
	}
	return rollout.GroupKey{Region: key.Region, Name: name}, true
}

// Unit is a pair taken as one unit of a campaign or a night: one rollout,
// one slot.
type Unit struct {
	// Name is the groups' phoenix:pair.
	Name string `json:"pair"`
	// Groups are the pair's groups by name; the first stands for it.
	Groups []string `json:"groups"`
}

// String names the pair with its groups: "pair web (web-blue, web-green)".
func (u Unit) String() string {
	return fmt.Sprintf("pair %s (%s)", u.Name, strings.Join(u.Groups, ", "))
}
