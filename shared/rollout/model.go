package rollout

import (
	"fmt"
	"slices"
	"time"
)

// GroupKey names an Auto Scaling group in a region.
type GroupKey struct {
	Region string `json:"region"`
	Name   string `json:"group"`
}

func (k GroupKey) String() string { return k.Region + "/" + k.Name }

// Mode is what a rollout does to a group.
type Mode string

// The rollout modes.
const (
	// ModeImage rolls a new image in: a new launch template version with
	// only ImageId changed, refreshed with SkipMatching.
	ModeImage Mode = "image"
	// ModeRecycle replaces every instance with the same numbered version
	// (SkipMatching off) and never touches the launch template.
	ModeRecycle Mode = "recycle"
	// ModeRevert refreshes a group back to a given version (after a
	// rollout has finalized, when native rollback is no longer possible).
	ModeRevert Mode = "revert"
)

// Trigger says why a rollout started.
type Trigger struct {
	// Kind is image-published, schedule, alarm or manual.
	Kind string `json:"kind"`
	// Source is the event source or the operator.
	Source string `json:"source,omitempty"`
	// EventID is the triggering event's id, the key of exactly-once starts.
	EventID string `json:"eventId,omitempty"`
}

// Request is the input of a rollout execution.
type Request struct {
	RolloutID string   `json:"rolloutId"`
	Group     GroupKey `json:"target"`
	Mode      Mode     `json:"mode"`
	// ImageID is the image to roll in (ModeImage).
	ImageID string `json:"imageId,omitempty"`
	// Version is the launch template version to refresh to (ModeRevert).
	Version int64   `json:"version,omitempty"`
	Trigger Trigger `json:"trigger"`
	// StartAt, when set, holds the execution in its Jitter state until
	// then, before anything is leased or read: the nightly recycle spreads
	// its groups' starts this way without a scheduler of its own.
	StartAt time.Time `json:"startAt,omitzero"`
}

// Validate reports the first thing wrong with a request.
func (r Request) Validate() error {
	switch {
	case r.RolloutID == "":
		return fmt.Errorf("rolloutId is required")
	case r.Group.Name == "" || r.Group.Region == "":
		return fmt.Errorf("target group and region are required")
	case r.Mode == ModeImage && r.ImageID == "":
		return fmt.Errorf("an image rollout needs imageId")
	case r.Mode == ModeRevert && r.Version <= 0:
		return fmt.Errorf("a revert needs a numbered version")
	case r.Mode != ModeImage && r.Mode != ModeRecycle && r.Mode != ModeRevert:
		return fmt.Errorf("unknown mode %q", r.Mode)
	}
	return nil
}

// Status is where a rollout stands.
type Status string

// Rollout statuses. Finalized, Pinned, Reverted, Refused and Dirty are
// terminal.
const (
	StatusPreparing  Status = "preparing"
	StatusRefreshing Status = "refreshing"
	StatusReverting  Status = "reverting"
	StatusFinalized  Status = "finalized"
	// StatusPinned means the refresh succeeded but there was nothing to
	// validate (the group had no instance): the group references the new
	// numbered version, but it is not last-known-good and the launch
	// template's default did not move to it (docs/design.md, "Pinned").
	StatusPinned   Status = "pinned"
	StatusReverted Status = "reverted"
	// StatusRefused means Phoenix changed nothing (preflight, lease, a
	// foreign refresh).
	StatusRefused Status = "refused"
	// StatusDirty means the revert itself failed: a human must look.
	StatusDirty Status = "dirty"
)

// TerminalStatuses are the statuses a rollout ends in.
var TerminalStatuses = []Status{StatusFinalized, StatusPinned, StatusReverted, StatusRefused, StatusDirty}

// Terminal reports whether the status is final.
func (s Status) Terminal() bool {
	return slices.Contains(TerminalStatuses, s)
}

// Version is a numbered launch template version and the image it runs.
type Version struct {
	LaunchTemplateID string `json:"launchTemplateId"`
	Number           int64  `json:"version"`
	ImageID          string `json:"imageId"`
}

// Rollout is the ledger's record of one rollout.
type Rollout struct {
	ID      string   `json:"rolloutId"`
	Group   GroupKey `json:"target"`
	Mode    Mode     `json:"mode"`
	Trigger Trigger  `json:"trigger"`
	Status  Status   `json:"status"`
	// From is the version the group ran when the rollout started; To the
	// version it rolls to.
	From Version `json:"from"`
	To   Version `json:"to"`
	// RefreshID is the instance refresh Phoenix started, if any.
	RefreshID string `json:"refreshId,omitempty"`
	// ExecutionARN is the state machine execution carrying the rollout.
	ExecutionARN string    `json:"executionArn,omitempty"`
	StartedAt    time.Time `json:"startedAt"`
	EndedAt      time.Time `json:"endedAt,omitzero"`
	// Reason explains a reverted, refused or dirty end.
	Reason string `json:"reason,omitempty"`
	// Strategy is "blue-green" for a rollout of a blue/green pair (Group
	// is then the pair's first group by name, Pair names both), empty for
	// a rolling rollout (docs/blue-green.md).
	Strategy string `json:"strategy,omitempty"`
	// Pair is the pair a blue/green rollout moves, as it stood at the
	// start.
	Pair *PairSides `json:"pair,omitempty"`
	// Steps is the timeline, oldest first.
	Steps []Step `json:"steps,omitempty"`
}

// StrategyBlueGreen marks a blue/green rollout (Rollout.Strategy).
const StrategyBlueGreen = "blue-green"

// BlueGreen reports whether the rollout moves a blue/green pair.
func (r Rollout) BlueGreen() bool { return r.Strategy == StrategyBlueGreen }

// PairSides names a blue/green pair's two groups as a rollout found them:
// Live served all the traffic at the start, Idle takes the new version.
// Which one serves after the rollout follows from its status: Idle once
// finalized, Live otherwise.
type PairSides struct {
	Name string `json:"name"`
	Live string `json:"live"`
	Idle string `json:"idle"`
}

// Serving names the group that serves the pair's traffic after the
// rollout ended (the new group once finalized, the old one otherwise); ""
// for a rolling rollout.
func (r Rollout) Serving() string {
	if r.Pair == nil {
		return ""
	}
	if r.Status == StatusFinalized {
		return r.Pair.Idle
	}
	return r.Pair.Live
}

// Step is one entry of a rollout's timeline.
type Step struct {
	// Key identifies the step so that recording it twice (a retried
	// Lambda) keeps one entry: e.g. "prepare", "validate@50".
	Key    string    `json:"key"`
	At     time.Time `json:"at"`
	Detail string    `json:"detail"`
}

// Lease is a group's exclusive claim by one rollout.
type Lease struct {
	Group     GroupKey  `json:"target"`
	Owner     string    `json:"owner"` // rollout id
	Execution string    `json:"executionArn,omitempty"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// Halt is an operator's stop (the halt flag): while it is set, no rollout
// starts on the groups it covers, and a rollout in flight on them reverts at
// its next step. A zero Group halts every group.
type Halt struct {
	Group  GroupKey  `json:"target,omitzero"`
	Reason string    `json:"reason"`
	By     string    `json:"by,omitempty"`
	At     time.Time `json:"at"`
}

// Global reports whether the halt covers every group.
func (h Halt) Global() bool { return h.Group == (GroupKey{}) }

// String says what is halted, by whom, when and why, for a refusal or a
// revert's reason.
func (h Halt) String() string {
	scope := "every group"
	if !h.Global() {
		scope = h.Group.String()
	}
	s := "Phoenix is halted for " + scope
	if h.By != "" {
		s += " by " + h.By
	}
	if !h.At.IsZero() {
		s += " since " + h.At.UTC().Format(time.RFC3339)
	}
	if h.Reason != "" {
		s += ": " + h.Reason
	}
	return s
}

// Signal wakes a parked Await: what happened to the refresh.
type Signal struct {
	// Kind is one of the Signal* constants.
	Kind      string `json:"kind"`
	RefreshID string `json:"refreshId,omitempty"`
	// Percentage is the checkpoint percentage for SignalCheckpoint.
	Percentage int       `json:"percentage,omitempty"`
	Alarm      string    `json:"alarm,omitempty"`
	Reason     string    `json:"reason,omitempty"`
	At         time.Time `json:"at"`
	// Seq orders signals of one rollout; the ledger assigns it.
	Seq int64 `json:"seq"`
	// Polled marks a signal the fallback poll read from
	// DescribeInstanceRefreshes: its At is when the poll ran, not when the
	// refresh got there (an event's time).
	Polled bool `json:"polled,omitempty"`
}

// Signal kinds.
const (
	SignalCheckpoint        = "checkpoint"
	SignalBaking            = "baking"
	SignalSucceeded         = "succeeded"
	SignalFailed            = "failed"
	SignalCancelled         = "cancelled"
	SignalRollbackSucceeded = "rollback-succeeded"
	SignalRollbackFailed    = "rollback-failed"
	SignalAlarm             = "alarm"
	// SignalHalted: an operator halted the group (or every group).
	SignalHalted = "halted"
	// SignalRollbackRequested: an operator asked for the rollout in flight
	// to be rolled back (phoenix rollback).
	SignalRollbackRequested = "rollback-requested"
	// SignalInProgress comes from the fallback poll when nothing changed.
	SignalInProgress = "in-progress"
)

// RollbackTarget returns where a rollback without a version goes (`phoenix
// rollback GROUP`): the version the group's newest image rollout that moved
// it (finalized or pinned, docs/design.md) came from. hist is the group's
// history, newest first.
func RollbackTarget(hist []Rollout) (Version, bool) {
	for _, r := range hist {
		moved := r.Status == StatusFinalized || r.Status == StatusPinned
		if r.Mode == ModeImage && moved && r.From.Number > 0 {
			return r.From, true
		}
	}
	return Version{}, false
}
