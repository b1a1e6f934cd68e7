// Package recycle is the nightly forced recycling of Phoenix's groups
// (docs/recycle.md): the scheduled event, the function's configuration,
// the phoenix:recycle, phoenix:max-age and phoenix:freeze tags, the freeze
// windows (tag and SSM parameter), the night's selection with its limit
// and jitter, the drift report and its metrics, and the handler (Service)
// that orchestrates its ports. Like shared/rollout it imports no AWS
// package: every decision here is tested without an endpoint, and time
// comes from the event, never the wall clock.
package recycle

import (
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Tag keys read from a group (docs/recycle.md, "Tags").
const (
	// TagRecycle opts an enabled group into the nightly recycle.
	TagRecycle = rollout.TagPrefix + "recycle"
	// TagMaxAge is how old the group's oldest instance may grow before the
	// group is recycled.
	TagMaxAge = rollout.TagPrefix + "max-age"
	// TagFreeze holds "true"/"on" or freeze windows: no recycle starts
	// while it is in force.
	TagFreeze = rollout.TagPrefix + "freeze"
)

// Defaults and bounds of the function's settings and the max-age tag.
const (
	DefaultMaxAge      = 7 * 24 * time.Hour
	DefaultMaxPerNight = 5
	DefaultJitter      = 30 * time.Minute
	// DefaultFreezeParameter is the SSM parameter holding the global
	// freeze.
	DefaultFreezeParameter = "/phoenix/freeze"

	// MinMaxAge and MaxMaxAge bound a max age: below an hour a group would
	// be recycled again before its last recycle finished baking; above a
	// year a server has drifted whatever the setting says.
	MinMaxAge = time.Hour
	MaxMaxAge = 366 * 24 * time.Hour
	// MaxMaxPerNight bounds the recycles started in one night.
	MaxMaxPerNight = 100
	// MaxJitter bounds the spread of the night's starts: it must stay well
	// below a day so that one night's starts never meet the next night's.
	MaxJitter = 12 * time.Hour
	// MaxOffenders bounds the instance ids a drift report lists, so the
	// ledger item and the log line stay small on a large group.
	MaxOffenders = 20
)

// Trigger kind and execution name prefix of a recycle.
const (
	TriggerKind = "schedule"
	namePrefix  = "rcy"
)

// RolloutName is the execution name, and rollout id, of the recycle that a
// scheduled event starts on a group: derived from the event id, the region
// and the group, so that a repeated delivery names the same execution and
// Step Functions starts it once.
func RolloutName(eventID string, group rollout.GroupKey) string {
	return rollout.ExecutionName(namePrefix, group.Name, "recycle", eventID, group.Region, group.Name)
}
