package recycle

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Candidate is one enabled group as the night sees it.
type Candidate struct {
	Group    rollout.Group
	Settings Settings
	// Active is the rollout holding the group's lease, if any.
	Active *rollout.Rollout
	// Started says this event's recycle of the group exists already: a
	// repeated delivery found it in the ledger. It keeps its place in the
	// night whatever the group looks like now (younger, or leased by that
	// very recycle), so that a late duplicate cannot start more groups
	// than the nightly limit.
	Started bool
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
}

// processesNeeded are the scaling processes without which a refresh
// stalls; rollout.Preflight refuses such a group, so the night does not
// spend a slot on it.
var processesNeeded = []string{"InstanceRefresh", "Launch", "Terminate"}

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
		age, known := OldestInService(c.Group, n.Now)
		d := Decision{Group: key, MaxAgeSeconds: int64(c.Settings.MaxAge / time.Second)}
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
	switch {
	case g.LaunchConfigurationName != "" || g.LaunchTemplateID == "":
		return CodeUnsupported, "the group has no launch template (a launch configuration), which a recycle needs"
	case g.AttributeBased:
		return CodeUnsupported, "the group selects instance types by attributes, and instance refresh refuses a desired configuration for it"
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
	for _, p := range processesNeeded {
		if slices.Contains(g.SuspendedProcesses, p) {
			return CodeSuspended, fmt.Sprintf("the %s process is suspended on the group, so an instance refresh would stall", p)
		}
	}
	if !known {
		return CodeNoInstances, "the group has no in-service instance with a known launch time"
	}
	if age < s.MaxAge {
		return CodeYoung, fmt.Sprintf("the oldest in-service instance is %s old, under the max age %s", age.Round(time.Second), s.MaxAge)
	}
	return "", ""
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
