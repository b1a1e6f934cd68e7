package bluegreen

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Count is what a group's side of a pair has that can serve: its instances
// on the rollout's version that Auto Scaling has in service and healthy and
// whose target in the side's target group is healthy.
type Count struct {
	// Serving are the instances that can take traffic.
	Serving int
	// Unhealthy names instances whose target is unhealthy.
	Unhealthy []string
	// Waiting names instances still launching, warming up or registering.
	Waiting []string
	// Stale names instances on another version.
	Stale []string
}

// CountSide counts a side: g is the group, health its target group's
// target health, version the numbered launch template version its
// instances should run ("" accepts any).
func CountSide(g rollout.Group, health []rollout.TargetState, targetGroup, version string) Count {
	state := map[string]string{}
	for _, t := range health {
		if t.TargetGroupARN == targetGroup || t.TargetGroupARN == "" {
			state[t.InstanceID] = t.State
		}
	}
	var c Count
	for _, in := range g.Instances {
		switch {
		case leaving(in), in.Lifecycle == "Standby":
			continue
		case version != "" && in.LaunchTemplateVersion != version:
			c.Stale = append(c.Stale, in.ID)
		case state[in.ID] == "unhealthy" || in.Health == "Unhealthy":
			c.Unhealthy = append(c.Unhealthy, in.ID)
		case in.Lifecycle == "InService" && state[in.ID] == "healthy":
			c.Serving++
		default:
			c.Waiting = append(c.Waiting, in.ID)
		}
	}
	slices.Sort(c.Unhealthy)
	slices.Sort(c.Waiting)
	slices.Sort(c.Stale)
	return c
}

// Proven says whether the idle side may take traffic: at least want of its
// instances serve on the new version, and none is unhealthy. why says what
// is missing when it may not.
func (c Count) Proven(want int) (ok bool, why string) {
	switch {
	case len(c.Unhealthy) > 0:
		return false, fmt.Sprintf("instances %s are unhealthy", strings.Join(c.Unhealthy, ", "))
	case c.Serving < want:
		why = fmt.Sprintf("%d of %d instances serve on the new version", c.Serving, want)
		if len(c.Waiting) > 0 {
			why += fmt.Sprintf(" (%d still launching or registering)", len(c.Waiting))
		}
		return false, why
	}
	return true, fmt.Sprintf("%d instances serve on the new version, every target healthy", c.Serving)
}

// Failures judges a side that takes traffic, and the guard alarms: each
// reason is a failure, none means the step passes. A new side serving
// fewer than want instances fails: the capacity serving traffic must not
// fall below the live group's desired capacity.
func (c Count) Failures(side string, want int, alarms map[string]string) []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(alarms)) {
		if alarms[name] == "ALARM" {
			out = append(out, fmt.Sprintf("guard alarm %s is in ALARM", name))
		}
	}
	if len(c.Unhealthy) > 0 {
		out = append(out, fmt.Sprintf("%s: instances %s are unhealthy", side, strings.Join(c.Unhealthy, ", ")))
	}
	if c.Serving < want {
		out = append(out, fmt.Sprintf("%s: %d instances serve, fewer than the %d the live group served with", side, c.Serving, want))
	}
	return out
}
