package recycle

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/bluegreen"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Candidate is one enabled group as the night sees it, or one blue/green
// pair (FoldPairs).
type Candidate struct {
	// Group is the group, or the pair's first group by name, which stands
	// for the pair: the pair's recycle is started, named and recorded
	// under it, and its tags give the pair's settings.
	Group    rollout.Group
	Settings Settings
	// Pair names the pair Group stands for; nil for a group.
	Pair *PairUnit
	// Partners are the pair's other enabled groups. The night judges the
	// pair's age by the oldest in-service instance of any of its groups:
	// the idle one has none, and must not make the pair look empty.
	Partners []rollout.Group
	// PairProblem says why the pair cannot be recycled as declared (a
	// group of it not enabled, or not two groups): Prepare would refuse
	// it, so the night skips it with that reason.
	PairProblem string
	// Active is the rollout holding the group's lease, if any.
	Active *rollout.Rollout
	// Started says this event's recycle of the group exists already: a
	// repeated delivery found it in the ledger. It keeps its place in the
	// night whatever the group looks like now (younger, or leased by that
	// very recycle), so that a late duplicate cannot start more groups
	// than the nightly limit.
	Started bool
}

// PairUnit names a blue/green pair recycled as one (docs/recycle.md).
type PairUnit = bluegreen.Unit

// FoldPairs makes each blue/green pair among cands one candidate, so that a
// pair is recycled once a night (its recycle is a blue/green rollout to the
// version it runs, which moves both groups): bluegreen.OnePerPair keeps the
// pair's first group by name in its place, with the pair's other enabled
// groups as its Partners; every other candidate stays as it is. listed are
// every group the night listed, enabled or not, so that a pair with a group
// not enabled gets a PairProblem rather than a recycle Prepare would refuse.
func FoldPairs(cands []Candidate, listed []rollout.Group) []Candidate {
	members := map[rollout.GroupKey][]rollout.Group{}
	for _, g := range listed {
		if k, ok := pairOf(g); ok {
			members[k] = append(members[k], g)
		}
	}
	if len(members) == 0 {
		return cands
	}
	enabled := map[rollout.GroupKey]Candidate{}
	groups := make([]rollout.Group, 0, len(cands))
	for _, c := range cands {
		if c.Settings.Enabled {
			enabled[c.Group.Key] = c
			groups = append(groups, c.Group)
		}
	}
	kept := map[rollout.GroupKey]bool{}
	for _, g := range bluegreen.OnePerPair(groups) {
		kept[g.Key] = true
	}
	out := make([]Candidate, 0, len(cands))
	for _, c := range cands {
		k, ok := pairOf(c.Group)
		switch {
		case !ok || !c.Settings.Enabled:
			out = append(out, c)
			continue
		case !kept[c.Group.Key]:
			continue
		}
		ms := slices.Clone(members[k])
		slices.SortFunc(ms, func(a, b rollout.Group) int { return strings.Compare(a.Key.Name, b.Key.Name) })
		c.Pair = &PairUnit{Name: k.Name}
		var problems []string
		if len(ms) != 2 {
			problems = append(problems, fmt.Sprintf("a pair is two groups, and %d carry %s=%s", len(ms), bluegreen.TagPair, k.Name))
		}
		for _, m := range ms {
			c.Pair.Groups = append(c.Pair.Groups, m.Key.Name)
			if m.Key == c.Group.Key {
				continue
			}
			if p, ok := enabled[m.Key]; ok {
				c.Partners = append(c.Partners, p.Group)
			} else {
				problems = append(problems, fmt.Sprintf("group %s is not tagged %s=true", m.Key.Name, rollout.TagEnabled))
			}
		}
		c.PairProblem = strings.Join(problems, "; ")
		out = append(out, c)
	}
	return out
}

// pairOf names the blue/green pair a group belongs to.
func pairOf(g rollout.Group) (rollout.GroupKey, bool) { return bluegreen.PairOf(g.Key, g.Tags) }

// members are the groups of a candidate: its group, and a pair's others.
func (c Candidate) members() []rollout.Group {
	return append([]rollout.Group{c.Group}, c.Partners...)
}

// Night is what the selection needs besides the groups.
type Night struct {
	EventID     string
	Now         time.Time
	MaxPerNight int
	Jitter      time.Duration
	// Freeze is the global freeze (the SSM parameter).
	Freeze Freeze
}

// Action is what the night does with a group.
type Action string

// The actions.
const (
	ActionStart Action = "start"
	ActionSkip  Action = "skip"
	ActionDefer Action = "defer"
)

// Decision codes: a short word for metrics, alarms and searches; the
// Reason says the same for people.
const (
	CodeDue         = "due"
	CodeStarted     = "already-started"
	CodeLimit       = "nightly-limit"
	CodeRecycleOff  = "recycle-off"
	CodeUnsupported = "unsupported"
	CodeFrozen      = "frozen"
	CodeLeased      = "leased"
	CodeSuspended   = "suspended"
	CodeNoInstances = "no-instances"
	CodeYoung       = "young"
)

// Decision is the night's decision for one group.
type Decision struct {
	Group  rollout.GroupKey `json:"target"`
	Action Action           `json:"action"`
	Code   string           `json:"code"`
	Reason string           `json:"reason"`
	// RolloutID is the recycle's id and execution name (start only).
	RolloutID string `json:"rolloutId,omitempty"`
	// StartAt is when the recycle leaves its Jitter state (start only,
	// with jitter).
	StartAt time.Time `json:"startAt,omitzero"`
	// OldestAgeSeconds is the age of the oldest in-service instance.
	OldestAgeSeconds int64 `json:"oldestInstanceAgeSeconds"`
	MaxAgeSeconds    int64 `json:"maxAgeSeconds"`
	// Problems are the group's tags that could not be used.
	Problems []string `json:"problems,omitempty"`
	// Pair names the blue/green pair Group stands for; absent for a group.
	Pair *PairUnit `json:"pair,omitempty"`
}

// processesNeeded are the scaling processes without which a refresh
// stalls; rollout.Preflight refuses such a group, so the night does not
// spend a slot on it. A blue/green pair is recycled without an instance
// refresh, by scaling its idle group up and its live group down.
var (
	processesNeeded     = []string{"InstanceRefresh", "Launch", "Terminate"}
	pairProcessesNeeded = []string{"Launch", "Terminate"}
)

// Select decides the night: every candidate that is not due is skipped
// with its reason; the due ones are ordered oldest instance first (ties
// by name) behind those this event started already, and the first
// MaxPerNight start, the rest are deferred to the next night. The result
// lists the starts in that order, then the deferred, then the skipped by
// name. Disabled groups are not candidates and get no decision.
func Select(n Night, cands []Candidate) []Decision {
	type due struct {
		d     Decision
		age   time.Duration
		again bool
	}
	var dues []due
	var skips []Decision
	for _, c := range cands {
		if !c.Settings.Enabled {
			continue
		}
		key := c.Group.Key
		age, known := oldestOf(c.members(), n.Now)
		d := Decision{Group: key, MaxAgeSeconds: int64(c.Settings.MaxAge / time.Second), Pair: c.Pair}
		if known {
			d.OldestAgeSeconds = int64(age / time.Second)
		}
		for _, p := range c.Settings.Problems {
			d.Problems = append(d.Problems, p.String())
		}
		if c.Started {
			d.Code, d.Reason = CodeStarted, "this event started the group's recycle already (a repeated delivery)"
			dues = append(dues, due{d: d, age: age, again: true})
			continue
		}
		if code, reason := skipReason(n, c, age, known); code != "" {
			d.Action, d.Code, d.Reason = ActionSkip, code, reason
			skips = append(skips, d)
			continue
		}
		d.Code = CodeDue
		d.Reason = fmt.Sprintf("the oldest in-service instance is %s old, at or over the max age %s", age.Round(time.Second), c.Settings.MaxAge)
		dues = append(dues, due{d: d, age: age})
	}
	slices.SortStableFunc(dues, func(a, b due) int {
		if a.again != b.again {
			if a.again {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(b.age, a.age); c != 0 {
			return c
		}
		return strings.Compare(a.d.Group.Name, b.d.Group.Name)
	})
	out := make([]Decision, 0, len(dues)+len(skips))
	for i, du := range dues {
		d := du.d
		if du.again || i < n.MaxPerNight {
			d.Action, d.RolloutID = ActionStart, RolloutName(n.EventID, d.Group)
			if n.Jitter > 0 {
				d.StartAt = n.Now.Add(Offset(n.EventID, d.Group, n.Jitter)).UTC()
			}
		} else {
			d.Action, d.Code = ActionDefer, CodeLimit
			d.Reason = fmt.Sprintf("deferred: nightly limit of %d recycles reached; %s; picked again next night", n.MaxPerNight, d.Reason)
		}
		out = append(out, d)
	}
	slices.SortStableFunc(skips, func(a, b Decision) int { return strings.Compare(a.Group.Name, b.Group.Name) })
	return append(out, skips...)
}

// skipReason returns why a candidate is not due tonight, or "".
func skipReason(n Night, c Candidate, age time.Duration, known bool) (code, reason string) {
	g, s := c.Group, c.Settings
	if !s.Recycle {
		if v, ok := g.Tags[TagRecycle]; ok {
			if _, known := parseSwitch(v); !known {
				return CodeRecycleOff, fmt.Sprintf("%s=%q is not true or false, so the group is not recycled", TagRecycle, v)
			}
			return CodeRecycleOff, fmt.Sprintf("%s=%q", TagRecycle, v)
		}
		return CodeRecycleOff, fmt.Sprintf("the group has no %s tag", TagRecycle)
	}
	if c.Pair != nil && c.PairProblem != "" {
		return CodeUnsupported, fmt.Sprintf("blue/green pair %s cannot be recycled as declared: %s", c.Pair.Name, c.PairProblem)
	}
	needed := processesNeeded
	if c.Pair != nil {
		needed = pairProcessesNeeded
	}
	for _, m := range c.members() {
		switch {
		case m.LaunchConfigurationName != "" || m.LaunchTemplateID == "":
			return CodeUnsupported, fmt.Sprintf("%s has no launch template (a launch configuration), which a recycle needs", whose(c, m))
		case m.AttributeBased && c.Pair == nil:
			return CodeUnsupported, "the group selects instance types by attributes, and instance refresh refuses a desired configuration for it"
		}
	}
	if in, why := n.Freeze.In(n.Now); in {
		return CodeFrozen, why
	}
	if in, why := s.Freeze.In(n.Now); in {
		return CodeFrozen, why
	}
	if a := c.Active; a != nil {
		return CodeLeased, fmt.Sprintf("rollout %s (%s, %s) holds the group's lease", a.ID, orUnknown(string(a.Mode)), orUnknown(string(a.Status)))
	}
	for _, m := range c.members() {
		for _, p := range needed {
			if !slices.Contains(m.SuspendedProcesses, p) {
				continue
			}
			if c.Pair != nil {
				return CodeSuspended, fmt.Sprintf("the %s process is suspended on %s, so the pair cannot move to a fresh group", p, whose(c, m))
			}
			return CodeSuspended, fmt.Sprintf("the %s process is suspended on the group, so an instance refresh would stall", p)
		}
	}
	if !known {
		if c.Pair != nil {
			return CodeNoInstances, fmt.Sprintf("no group of blue/green pair %s has an in-service instance with a known launch time", c.Pair.Name)
		}
		return CodeNoInstances, "the group has no in-service instance with a known launch time"
	}
	if age < s.MaxAge {
		return CodeYoung, fmt.Sprintf("the oldest in-service instance is %s old, under the max age %s", age.Round(time.Second), s.MaxAge)
	}
	return "", ""
}

// whose names a member of a candidate in a reason: "the group" for a
// group or a pair's first group, else the partner by name.
func whose(c Candidate, m rollout.Group) string {
	if m.Key == c.Group.Key {
		return "the group"
	}
	return "group " + m.Key.Name + " of the pair"
}

// oldestOf is OldestInService over several groups: a pair's age is that of
// the oldest instance serving in either of its groups.
func oldestOf(groups []rollout.Group, now time.Time) (time.Duration, bool) {
	var oldest time.Duration
	var found bool
	for _, g := range groups {
		if age, ok := OldestInService(g, now); ok && (!found || age > oldest) {
			oldest, found = age, true
		}
	}
	return oldest, found
}

// OldestInService returns the age at now of the group's oldest InService
// instance; ok is false when no InService instance has a known launch
// time. Pending, standby and leaving instances do not count: the night
// judges the servers that serve.
func OldestInService(g rollout.Group, now time.Time) (time.Duration, bool) {
	var oldest time.Time
	for _, in := range g.Instances {
		if in.Lifecycle != "InService" || in.LaunchTime.IsZero() {
			continue
		}
		if oldest.IsZero() || in.LaunchTime.Before(oldest) {
			oldest = in.LaunchTime
		}
	}
	if oldest.IsZero() {
		return 0, false
	}
	return max(now.Sub(oldest), 0), true
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
