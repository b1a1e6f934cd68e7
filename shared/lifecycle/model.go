// Package lifecycle decides which launch template versions and AMIs Phoenix
// may retire, and which it must keep and why (docs/lifecycle.md). It is the
// pure domain of image sprawl: it reads a snapshot of the fleet, the ledger
// and EC2's image references, and returns a Plan; adapters gather the
// snapshot and carry the plan out, re-checking "in use" before each
// destructive call.
//
// The rule it never breaks: nothing a group, a rollout, a rollback, a
// queued campaign, an instance, a kept launch template version, an SSM
// parameter or an Image Builder recipe could still need is retired.
package lifecycle

import (
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Tags Phoenix reads on images and launch templates.
const (
	// TagKeep = "true" on an image or a launch template keeps it (every
	// version of the template) whatever the policy.
	TagKeep = rollout.TagPrefix + "keep"
	// TagRole on an image names its role; an image with one is Phoenix's to
	// retire even if no rollout of Phoenix's used it.
	TagRole = rollout.TagPrefix + "role"
	// TagKeepVersions on a launch template overrides Policy.KeepVersions.
	TagKeepVersions = rollout.TagPrefix + "keep-versions"
	// TagDeprecateAfter, TagDisableAfter and TagDeregisterAfter on an image
	// override the policy's stage waits for it (seconds, or a duration like
	// 36h): the pipeline that builds a role's images tags them.
	TagDeprecateAfter  = rollout.TagPrefix + "deprecate-after"
	TagDisableAfter    = rollout.TagPrefix + "disable-after"
	TagDeregisterAfter = rollout.TagPrefix + "deregister-after"
)

// Policy is how much history is kept and how slowly an AMI is retired.
type Policy struct {
	// KeepVersions is how many of a template's newest versions are kept
	// regardless of use (default 20).
	KeepVersions int
	// KeepRollbackVersions is how many finalized versions before a group's
	// last-known-good are kept, so that an operator can roll back further
	// than one step (default 3).
	KeepRollbackVersions int
	// DeprecateAfter is how long an AMI is out of use before it is
	// deprecated; DisableAfter, how long it stays deprecated before it is
	// disabled (it can no longer launch); DeregisterAfter, how long it stays
	// disabled before it is deregistered with its snapshots.
	DeprecateAfter, DisableAfter, DeregisterAfter time.Duration
	// RetireShared allows retiring an AMI shared with other accounts (by
	// default such an AMI is kept: another account may launch from it).
	RetireShared bool
	// MaxActions bounds one night's destructive actions (version deletions
	// count one per version); the rest wait for the next night.
	MaxActions int
}

// The policy defaults (stack parameters override them).
const (
	DefaultKeepVersions         = 20
	DefaultKeepRollbackVersions = 3
	DefaultDeprecateAfter       = 7 * 24 * time.Hour
	DefaultDisableAfter         = 14 * 24 * time.Hour
	DefaultDeregisterAfter      = 30 * 24 * time.Hour
	DefaultMaxActions           = 500
)

// The bounds of the policy's settings: a template holds at most 10,000
// versions (AWS's quota), a stage waits at most a year.
const (
	MaxKeepVersions         = 10000
	MaxKeepRollbackVersions = 100
	MaxStageWait            = 365 * 24 * time.Hour
	MaxMaxActions           = 10000
)

// Config is the image-lifecycle function's configuration (stack
// parameters ImageLifecycle and Lifecycle*).
type Config struct {
	// Apply carries plans out; otherwise runs only record what they would
	// do (ImageLifecycle=plan, a new stack's default).
	Apply  bool
	Policy Policy
}

// DefaultPolicy returns the defaults.
func DefaultPolicy() Policy {
	return Policy{
		KeepVersions: DefaultKeepVersions, KeepRollbackVersions: DefaultKeepRollbackVersions,
		DeprecateAfter: DefaultDeprecateAfter, DisableAfter: DefaultDisableAfter, DeregisterAfter: DefaultDeregisterAfter,
		MaxActions: DefaultMaxActions,
	}
}

// Template is a launch template that a Phoenix group launches from.
type Template struct {
	ID   string
	Name string
	// Region is the template's region.
	Region string
	// Default is the default version's number.
	Default int64
	// Versions are every version that exists.
	Versions []Version
	Tags     map[string]string
}

// Version is one launch template version.
type Version struct {
	Number  int64
	ImageID string
}

// Group is what Phoenix knows of one group: its template, what its
// instances and its configuration use, and its ledger history.
type Group struct {
	Key        rollout.GroupKey
	TemplateID string
	// Version is the numbered version the group's configuration resolves
	// to; InstanceVersions are the versions its instances run.
	Version          int64
	InstanceVersions []int64
	// LastKnownGood is the ledger's last-known-good version (0: none yet)
	// and LastKnownGoodImage its AMI.
	LastKnownGood      int64
	LastKnownGoodImage string
	// Finalized are the group's finalized versions, oldest first, with
	// LastKnownGood last when it was finalized by Phoenix.
	Finalized []int64
	// RollbackTarget is where a rollback without a version would go
	// (rollout.RollbackTarget; 0: none).
	RollbackTarget int64
}

// Rollout is a rollout in flight, or ended within its guard window (it
// may still be reverted to its origin).
type Rollout struct {
	ID         string
	Group      rollout.GroupKey
	TemplateID string
	From, To   int64
	FromImage  string
	ToImage    string
}

// Campaign is a publishing campaign still queued or running: its image
// will be rolled.
type Campaign struct {
	ID      string
	ImageID string
}

// Reference is one thing EC2 says references an AMI
// (DescribeImageReferences): an instance not terminated, a launch template
// version, an SSM parameter, an Image Builder recipe.
type Reference struct {
	// Kind is "instance", "launch-template", "ssm-parameter" or
	// "image-recipe".
	Kind string
	// ARN names the referrer; Version is the launch template version for
	// Kind "launch-template" when known (DescribeImageReferences names the
	// template only: 0).
	ARN     string
	Version int64
}

// Image is one AMI and what Phoenix recorded of it.
type Image struct {
	ID      string
	Region  string
	Owner   string
	Created time.Time
	Tags    map[string]string
	// State is EC2's: available, disabled, pending, failed, deregistered.
	State string
	// DeprecatedAt is EC2's DeprecationTime (zero: not deprecated).
	DeprecatedAt time.Time
	// Protected is EC2's deregistration protection.
	Protected bool
	// Shared is true when another account or the public may launch it.
	Shared bool
	// SnapshotGiB is the size of its EBS snapshots.
	SnapshotGiB int64
	// References are EC2's (DescribeImageReferences).
	References []Reference
	// Ledger is what Phoenix recorded of it.
	Ledger Tracked
}

// Tracked is the ledger's record of an image.
type Tracked struct {
	// Rolled is true when a Phoenix rollout rolled it.
	Rolled bool
	// UnusedSince is when a nightly run first found it out of use (zero:
	// in use, or never seen out of use).
	UnusedSince time.Time
	// Deprecated is true when Phoenix deprecated it, and DisabledAt is when
	// Phoenix disabled it (EC2 does not say): Phoenix undoes only its own
	// stages when an image is in use again.
	Deprecated bool
	DisabledAt time.Time
	// ProtectedByPhoenix is true when Phoenix turned on its deregistration
	// protection (as a last-known-good image); Phoenix lifts only that.
	ProtectedByPhoenix bool
}

// Snapshot is everything one nightly run decides from.
type Snapshot struct {
	// Now is the run's time (the schedule event's).
	Now time.Time
	// Account is this stack's account: only its own AMIs are touched.
	Account   string
	Templates []Template
	Groups    []Group
	Rollouts  []Rollout
	Campaigns []Campaign
	Images    []Image
}
