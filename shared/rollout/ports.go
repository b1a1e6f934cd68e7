package rollout

import (
	"context"
	"time"
)

// The ports: what the rollout steps need from the outside world. Adapters
// in shared/fleet, shared/ledger and shared/notify implement them with the
// AWS SDK; tests of the steps use fakes. Every method is safe to call again
// after a failure or a timeout (Step Functions and EventBridge deliver at
// least once), and returns *TransientError for throttling, 5xx and network
// failures so the state machine retries.

// Group is what Phoenix reads of an Auto Scaling group.
type Group struct {
	Key GroupKey
	ARN string
	// LaunchTemplateID and LaunchTemplateVersion are the group's launch
	// template and version as written on the group ("3", "$Latest",
	// "$Default"); both empty for a launch-configuration group.
	LaunchTemplateID        string
	LaunchTemplateVersion   string
	LaunchConfigurationName string
	// MixedInstances marks a mixed instances policy; AttributeBased one
	// whose overrides use InstanceRequirements.
	MixedInstances bool
	AttributeBased bool
	// InstanceTypes are the types the group may launch (from overrides),
	// empty when the launch template alone decides.
	InstanceTypes      []string
	Min, Max, Desired  int
	HealthCheckType    string // EC2 | ELB
	GracePeriod        time.Duration
	DefaultWarmup      time.Duration
	TargetGroupARNs    []string
	SuspendedProcesses []string
	Tags               map[string]string
	Instances          []Instance
}

// Instance is one member of a group.
type Instance struct {
	ID                    string
	Lifecycle             string // Pending, InService, Terminating, Standby, ...
	Health                string // Healthy | Unhealthy
	LaunchTemplateVersion string // numbered version it was launched from
	ImageID               string
	LaunchTime            time.Time
	ProtectedFromScaleIn  bool
}

// Image is what Phoenix reads of an AMI.
type Image struct {
	ID           string
	Name         string
	OwnerID      string
	State        string // pending | available | failed | deregistered | disabled
	Architecture string // x86_64 | arm64
	CreatedAt    time.Time
	Tags         map[string]string
}

// TemplateVersion is one numbered launch template version.
type TemplateVersion struct {
	LaunchTemplateID string
	Number           int64
	ImageID          string
	InstanceType     string
	IsDefault        bool
}

// RefreshSpec is the instance refresh Phoenix starts. Only the desired
// configuration names the version: the group is never modified first
// (FIELD-NOTES pitfall 2).
type RefreshSpec struct {
	Group            GroupKey
	LaunchTemplateID string
	Version          int64
	Checkpoints      []int
	CheckpointDelay  time.Duration
	MinHealthy       int
	MaxHealthy       int
	// Warmup zero leaves the group's default.
	Warmup       time.Duration
	Bake         time.Duration
	SkipMatching bool
	// AutoRollbackAlarms, when not empty, turns on AutoRollback with these
	// alarms as AlarmSpecification: defence in depth beside Phoenix's own
	// validation.
	AutoRollbackAlarms []string
}

// Refresh is an instance refresh as DescribeInstanceRefreshes shows it.
type Refresh struct {
	ID                 string
	Status             string // AWS's: Pending, InProgress, Baking, Successful, Failed, ...
	StatusReason       string
	PercentageComplete int
	InstancesToUpdate  int
	StartTime          time.Time
	EndTime            time.Time
	// LaunchTemplateID and Version are the desired configuration, if any.
	LaunchTemplateID string
	Version          string
	CheckpointDelay  time.Duration
	// RollbackEligible says whether RollbackInstanceRefresh would be
	// accepted now (in progress, desired configuration, numbered version).
	RollbackEligible bool
}

// TargetState is a target's health in one target group.
type TargetState struct {
	TargetGroupARN string
	InstanceID     string
	State          string // initial | healthy | unhealthy | draining | unused | unavailable
	Reason         string
}

// Fleet reads and changes Auto Scaling groups, launch templates, images,
// target health and alarms. Errors: *NotFoundError for a missing group,
// template, version or image; *TransientError for retryable failures;
// *RefreshInProgressError when StartRefresh meets an active refresh.
type Fleet interface {
	Group(ctx context.Context, key GroupKey) (Group, error)
	// ResolveVersion turns a version as written ("$Latest", "$Default" or
	// a number) into the numbered version it means today.
	ResolveVersion(ctx context.Context, region, launchTemplateID, version string) (TemplateVersion, error)
	// Image describes an AMI: *NotFoundError when EC2 shows no such image
	// to this account; an image EC2 still lists comes back whatever its
	// state (a deregistered one with State "deregistered"), for preflight
	// to refuse with the state; an unreadable creation date is zero.
	Image(ctx context.Context, region, imageID string) (Image, error)
	// Architectures returns the supported architectures of instance
	// types; a type the region does not offer is absent, not an error.
	Architectures(ctx context.Context, region string, instanceTypes []string) (map[string][]string, error)
	// DryRunLaunch asks EC2 whether a launch from the version would
	// succeed (RunInstances with DryRun); nil means it would.
	DryRunLaunch(ctx context.Context, region, launchTemplateID string, version int64) error
	// CreateVersion makes a version from source with only ImageId changed.
	// clientToken makes a repeat return the same version.
	CreateVersion(ctx context.Context, region, launchTemplateID string, source int64, imageID, clientToken, description string) (TemplateVersion, error)
	// PinVersion points the group at a numbered version of its template.
	PinVersion(ctx context.Context, key GroupKey, launchTemplateID string, version int64) error
	SetDefaultVersion(ctx context.Context, region, launchTemplateID string, version int64) error
	// TemplateUsers names, sorted, the groups of the region that launch
	// from the launch template, directly or through a mixed instances
	// policy, whatever their version. It asks Auto Scaling, not tags: a
	// group outside Phoenix shares a template's default as much as one
	// inside it.
	TemplateUsers(ctx context.Context, region, launchTemplateID string) ([]string, error)
	StartRefresh(ctx context.Context, spec RefreshSpec) (refreshID string, err error)
	// Refreshes lists the group's refreshes, newest first.
	Refreshes(ctx context.Context, key GroupKey) ([]Refresh, error)
	RollbackRefresh(ctx context.Context, key GroupKey) error
	CancelRefresh(ctx context.Context, key GroupKey) error
	TargetHealth(ctx context.Context, region string, targetGroupARNs []string) ([]TargetState, error)
	// AlarmStates returns each named alarm's state value; a missing alarm
	// is absent from the map.
	AlarmStates(ctx context.Context, region string, names []string) (map[string]string, error)
}

// Ledger is Phoenix's memory: leases, rollouts, last-known-good versions and
// parked task tokens. Every write is conditional and safe to repeat.
type Ledger interface {
	// AcquireLease takes or renews the group's lease for owner until now +
	// ttl; *LeaseHeldError names the holder when another owner's lease has
	// not expired.
	AcquireLease(ctx context.Context, l Lease, now time.Time) error
	// ReleaseLease drops the lease if owner holds it; releasing a lease
	// one does not hold is not an error.
	ReleaseLease(ctx context.Context, key GroupKey, owner string) error
	// PutRollout creates the rollout record, or returns the existing one
	// unchanged when it was created before (a retried Prepare).
	PutRollout(ctx context.Context, r Rollout) (Rollout, error)
	GetRollout(ctx context.Context, id string) (Rollout, error)
	// UpdateRollout applies fields and appends a step unless a step with
	// the same key is recorded already.
	UpdateRollout(ctx context.Context, id string, u RolloutUpdate) (Rollout, error)
	// History lists a group's rollouts, newest first, started at or after
	// since.
	History(ctx context.Context, key GroupKey, since time.Time, limit int) ([]Rollout, error)
	// LastKnownGood returns the group's last-known-good version; ok false
	// when none is recorded.
	LastKnownGood(ctx context.Context, key GroupKey) (v Version, at time.Time, ok bool, err error)
	// SetLastKnownGood records v unless a record newer than at exists.
	SetLastKnownGood(ctx context.Context, key GroupKey, v Version, rolloutID string, at time.Time) error
	// MarkRolled records that a rollout rolls the image, which makes it
	// the image lifecycle's to retire once nothing uses it
	// (docs/lifecycle.md); marking it again changes nothing.
	MarkRolled(ctx context.Context, region, imageID string, at time.Time) error
	// Park stores the task token of a parked Await for the rollout and
	// returns the signals recorded after afterSeq (a signal that arrived
	// before the token did must not be lost).
	Park(ctx context.Context, rolloutID, token string, afterSeq int64) ([]Signal, error)
	// AddSignal records a signal for the rollout and returns it with its
	// sequence number and the currently parked token ("" if none).
	AddSignal(ctx context.Context, rolloutID string, s Signal) (Signal, string, error)
	// ActiveRollout returns the rollout holding the group's lease, if any.
	ActiveRollout(ctx context.Context, key GroupKey) (Rollout, bool, error)
	// Halted returns the halt covering the group (its own, else the
	// global one); ok false when Phoenix is not halted for it.
	Halted(ctx context.Context, key GroupKey) (h Halt, ok bool, err error)
}

// RolloutUpdate changes a rollout record; zero fields are left alone.
type RolloutUpdate struct {
	Status    Status
	To        *Version
	RefreshID string
	Reason    string
	EndedAt   time.Time
	Step      *Step
}

// Notifier tells people and systems what happened: an SNS notification and
// a "Phoenix Rollout ..." event on EventBridge.
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}

// Notification is one message about a rollout.
type Notification struct {
	// DetailType is the event's detail-type, e.g. "Phoenix Rollout
	// Succeeded", "Phoenix Rollout Reverted", "Phoenix Rollout Needs Attention".
	DetailType string
	Subject    string
	Message    string
	Rollout    Rollout
	// Severity is info, warning or critical.
	Severity string
}

// Resumer wakes a parked Await (Step Functions SendTaskSuccess). A token
// that is no longer waiting yields *StaleTokenError, which callers treat as
// "someone else woke it already".
type Resumer interface {
	Resume(ctx context.Context, token string, s Signal) error
}
