package sim

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
)

// Lifecycle states of an instance in an Auto Scaling group, as AWS names
// them. Terminated instances leave the group's instance list at once, as in
// AWS, so they are seen only in scaling activities.
const (
	LifecyclePending         = "Pending"
	LifecycleInService       = "InService"
	LifecycleTerminating     = "Terminating"
	LifecycleTerminated      = "Terminated"
	LifecycleEnteringStandby = "EnteringStandby"
	LifecycleStandby         = "Standby"
	// The wait states of lifecycle hooks (asg_lifecycle_hooks.go): a
	// launching instance waits in Pending:Wait and proceeds through
	// Pending:Proceed; a terminating one waits in Terminating:Wait and
	// proceeds through Terminating:Proceed.
	LifecyclePendingWait        = "Pending:Wait"
	LifecyclePendingProceed     = "Pending:Proceed"
	LifecycleTerminatingWait    = "Terminating:Wait"
	LifecycleTerminatingProceed = "Terminating:Proceed"
)

// launching reports whether a lifecycle state is one of a launch not yet
// in service: Pending and its lifecycle hook states.
func launching(state string) bool {
	return state == LifecyclePending || state == LifecyclePendingWait || state == LifecyclePendingProceed
}

// terminating reports whether a lifecycle state is one of an instance on
// its way out: Terminating and its lifecycle hook states.
func terminating(state string) bool {
	return state == LifecycleTerminating || state == LifecycleTerminatingWait || state == LifecycleTerminatingProceed
}

// Health statuses of an instance in an Auto Scaling group.
const (
	HealthHealthy   = "Healthy"
	HealthUnhealthy = "Unhealthy"
)

// Scaling activity status codes the model produces.
const (
	ActivityInProgress = "InProgress"
	ActivitySuccessful = "Successful"
	ActivityFailed     = "Failed"
	ActivityCancelled  = "Cancelled"
)

// ActivityPreInService is an ExitStandby activity's status until the
// instance is back in service (AWS's ExitStandby example).
const ActivityPreInService = "PreInService"

// ActivityMidLifecycleAction is the status of a launch or termination
// activity while its instance waits on lifecycle hooks (the API's
// ScalingActivityStatusCode MidLifecycleAction).
const ActivityMidLifecycleAction = "MidLifecycleAction"

// Instance refresh statuses.
const (
	RefreshPending            = "Pending"
	RefreshInProgress         = "InProgress"
	RefreshSuccessful         = "Successful"
	RefreshFailed             = "Failed"
	RefreshCancelling         = "Cancelling"
	RefreshCancelled          = "Cancelled"
	RefreshRollbackInProgress = "RollbackInProgress"
	RefreshRollbackFailed     = "RollbackFailed"
	RefreshRollbackSuccessful = "RollbackSuccessful"
	RefreshBaking             = "Baking"
)

// Scaling process names accepted by SuspendProcesses and ResumeProcesses.
const (
	ProcessLaunch            = "Launch"
	ProcessTerminate         = "Terminate"
	ProcessAddToLoadBalancer = "AddToLoadBalancer"
	ProcessAlarmNotification = "AlarmNotification"
	ProcessAZRebalance       = "AZRebalance"
	ProcessHealthCheck       = "HealthCheck"
	ProcessInstanceRefresh   = "InstanceRefresh"
	ProcessReplaceUnhealthy  = "ReplaceUnhealthy"
	ProcessScheduledActions  = "ScheduledActions"
)

// ScalingProcesses lists every process name AWS accepts, in AWS's order.
var ScalingProcesses = []string{
	ProcessLaunch, ProcessTerminate, ProcessAddToLoadBalancer, ProcessAlarmNotification,
	ProcessAZRebalance, ProcessHealthCheck, ProcessInstanceRefresh, ProcessReplaceUnhealthy,
	ProcessScheduledActions,
}

// LaunchSource is what a group, or an instance refresh, launches instances
// from: a launch template reference (version as given, so "$Latest" stays
// "$Latest"), optionally inside a mixed instances policy, or a legacy launch
// configuration.
type LaunchSource struct {
	LaunchTemplateID   string `json:"launchTemplateId,omitempty"`
	LaunchTemplateName string `json:"launchTemplateName,omitempty"`
	// Version is a number, "$Latest" or "$Default".
	Version string `json:"version,omitempty"`
	// VersionOmitted marks a group's launch template given without a
	// Version: the group launches from "$Default" but, as in AWS,
	// DescribeAutoScalingGroups then shows no Version.
	VersionOmitted bool `json:"versionOmitted,omitempty"`
	// LaunchConfigurationName is set for groups on a legacy launch
	// configuration; the launch template fields are then empty.
	LaunchConfigurationName string `json:"launchConfigurationName,omitempty"`
	// MixedInstancesPolicy is the policy as given, when the source is one;
	// the launch template fields then hold its launch template.
	MixedInstancesPolicy *types.MixedInstancesPolicy `json:"mixedInstancesPolicy,omitempty"`
	// AttributeBased marks a mixed instances policy whose overrides use
	// InstanceRequirements (attribute-based instance type selection).
	AttributeBased bool `json:"attributeBased,omitempty"`
}

// usesAlias reports whether the source names a launch template version by
// alias, which makes rollback impossible.
func (s LaunchSource) usesAlias() bool {
	return s.LaunchConfigurationName == "" && (s.Version == "$Latest" || s.Version == "$Default")
}

// GroupTag is one tag of an Auto Scaling group.
type GroupTag struct {
	Key               string `json:"key"`
	Value             string `json:"value"`
	PropagateAtLaunch bool   `json:"propagateAtLaunch"`
}

// Group is an Auto Scaling group. Owned by the Auto Scaling side of the model.
type Group struct {
	Name            string    `json:"name"`
	ARN             string    `json:"arn"`
	MinSize         int32     `json:"minSize"`
	MaxSize         int32     `json:"maxSize"`
	DesiredCapacity int32     `json:"desiredCapacity"`
	CreatedTime     time.Time `json:"createdTime"`

	Launch                 LaunchSource `json:"launch"`
	HealthCheckType        string       `json:"healthCheckType"`
	HealthCheckGracePeriod int32        `json:"healthCheckGracePeriod"`
	// DefaultInstanceWarmup is nil when the group has none (AWS then uses
	// the grace period as the refresh warmup).
	DefaultInstanceWarmup *int32   `json:"defaultInstanceWarmup,omitempty"`
	AvailabilityZones     []string `json:"availabilityZones,omitempty"`
	// Subnets are the subnets of VPCZoneIdentifier, in the order given.
	Subnets                          []string   `json:"subnets,omitempty"`
	TargetGroupARNs                  []string   `json:"targetGroupARNs,omitempty"`
	Tags                             []GroupTag `json:"tags,omitempty"`
	TerminationPolicies              []string   `json:"terminationPolicies"`
	NewInstancesProtectedFromScaleIn bool       `json:"newInstancesProtectedFromScaleIn"`
	// MaintenanceMinHealthy and MaintenanceMaxHealthy are the group's
	// instance maintenance policy, the refresh defaults when set.
	MaintenanceMinHealthy *int32 `json:"maintenanceMinHealthy,omitempty"`
	MaintenanceMaxHealthy *int32 `json:"maintenanceMaxHealthy,omitempty"`
	// SuspendedProcesses maps a suspended process to its suspension reason.
	SuspendedProcesses map[string]string `json:"suspendedProcesses,omitempty"`
	// Status is "Delete in progress" while a forced delete drains the group.
	Status string `json:"status,omitempty"`

	Instances map[string]*GroupInstance `json:"instances"`
	// Activities are the group's scaling activities, oldest first.
	Activities []*Activity `json:"activities"`
	// Refreshes are the group's instance refreshes, oldest first.
	Refreshes []*InstanceRefresh `json:"refreshes"`
	// Hooks are the group's lifecycle hooks, oldest first.
	Hooks []*LifecycleHook `json:"hooks,omitempty"`

	// Bookkeeping kept incrementally so that per-event work does not scan
	// the whole group: capacity counts Pending and InService instances not
	// on their way out, ready those of them that are healthy and warmed up,
	// zoneCount the capacity per zone slot (AZ or subnet).
	capacity  int
	ready     int
	zoneCount map[string]int
	seq       int64
	// lastCause is the first sentence of the next capacity activity's
	// Cause: what changed the desired capacity.
	lastCause string
	// launchBackoff and retryTimer pace launch retries after a failure.
	launchBackoff time.Duration
	retryTimer    *clock.Timer
	lastLaunchErr string
	healthTimer   *clock.Timer
	active        *InstanceRefresh
}

// GroupInstance is an instance as its Auto Scaling group sees it.
type GroupInstance struct {
	InstanceID       string `json:"instanceId"`
	AvailabilityZone string `json:"availabilityZone"`
	// Zone is the balancing slot the instance was launched into: the
	// subnet for VPC groups, else the Availability Zone.
	Zone                 string `json:"zone"`
	LifecycleState       string `json:"lifecycleState"`
	HealthStatus         string `json:"healthStatus"`
	ProtectedFromScaleIn bool   `json:"protectedFromScaleIn"`
	// LaunchTemplate records the numbered version the instance was
	// launched from; nil for launch-configuration instances.
	LaunchTemplate          *LaunchSource `json:"launchTemplate,omitempty"`
	LaunchConfigurationName string        `json:"launchConfigurationName,omitempty"`
	InstanceType            string        `json:"instanceType"`
	ImageID                 string        `json:"imageId"`
	LaunchTime              time.Time     `json:"launchTime"`
	InServiceTime           time.Time     `json:"inServiceTime,omitzero"`
	// Ready is true once the instance is InService, healthy, past its
	// warmup and, for ELB health checks, healthy in its target groups: only
	// then does it count as healthy capacity for an instance refresh.
	Ready bool `json:"ready"`

	inst          *Instance
	seq           int64
	counted       bool
	readyCounted  bool
	warmup        time.Duration
	warmTimer     *clock.Timer
	drainTimer    *clock.Timer
	registered    []string
	draining      bool
	launchedBy    *InstanceRefresh
	launchedPhase int
	countedDone   bool
	stale         bool
	takenOutBy    *InstanceRefresh
	launchAct     *Activity
	terminateAct  *Activity
	// actions are the lifecycle actions the instance waits on (Pending:Wait
	// or Terminating:Wait), one per hook of the transition.
	actions []*lifecycleAction
}

// Activity is one scaling activity.
type Activity struct {
	ActivityID    string     `json:"activityId"`
	GroupName     string     `json:"groupName"`
	GroupARN      string     `json:"groupArn"`
	Description   string     `json:"description"`
	Cause         string     `json:"cause"`
	Details       string     `json:"details"`
	StartTime     time.Time  `json:"startTime"`
	EndTime       *time.Time `json:"endTime,omitempty"`
	StatusCode    string     `json:"statusCode"`
	StatusMessage string     `json:"statusMessage,omitempty"`
	Progress      int32      `json:"progress"`
}

// RefreshPreferences are an instance refresh's preferences with AWS's
// defaults applied. MaxHealthyPercentage stays nil when omitted, because
// AWS behaves differently when it is omitted (terminate and launch at the
// same time) and when it is set to 100 (launch before terminate when the
// bounds leave no other way).
type RefreshPreferences struct {
	MinHealthyPercentage      int32    `json:"minHealthyPercentage"`
	MaxHealthyPercentage      *int32   `json:"maxHealthyPercentage,omitempty"`
	InstanceWarmup            int32    `json:"instanceWarmup"`
	InstanceWarmupSet         bool     `json:"instanceWarmupSet"`
	CheckpointPercentages     []int32  `json:"checkpointPercentages,omitempty"`
	CheckpointDelay           int32    `json:"checkpointDelay"`
	BakeTime                  int32    `json:"bakeTime"`
	SkipMatching              bool     `json:"skipMatching"`
	AutoRollback              bool     `json:"autoRollback"`
	Alarms                    []string `json:"alarms,omitempty"`
	ScaleInProtectedInstances string   `json:"scaleInProtectedInstances"`
	StandbyInstances          string   `json:"standbyInstances"`
}

// RollbackDetails describe the rollback of an instance refresh.
type RollbackDetails struct {
	RollbackReason               string    `json:"rollbackReason"`
	RollbackStartTime            time.Time `json:"rollbackStartTime"`
	PercentageCompleteOnRollback int32     `json:"percentageCompleteOnRollback"`
	InstancesToUpdateOnRollback  int32     `json:"instancesToUpdateOnRollback"`
}

// InstanceRefresh is one instance refresh of a group.
type InstanceRefresh struct {
	ID           string     `json:"id"`
	GroupName    string     `json:"groupName"`
	Status       string     `json:"status"`
	StatusReason string     `json:"statusReason,omitempty"`
	StartTime    time.Time  `json:"startTime"`
	EndTime      *time.Time `json:"endTime,omitempty"`
	Strategy     string     `json:"strategy"`

	Preferences RefreshPreferences `json:"preferences"`
	// DesiredConfiguration is the configuration asked for, as given.
	DesiredConfiguration *types.DesiredConfiguration `json:"desiredConfiguration,omitempty"`
	// Target is what replacements launch from; Saved is the group's
	// configuration when the refresh started, what a rollback restores.
	Target LaunchSource `json:"target"`
	Saved  LaunchSource `json:"saved"`

	InstancesToUpdate  int32            `json:"instancesToUpdate"`
	PercentageComplete int32            `json:"percentageComplete"`
	Rollback           *RollbackDetails `json:"rollback,omitempty"`

	// queue holds the ids of instances still to replace, in replacement
	// order, consumed from head; queued indexes it. waiting holds Standby
	// or protected instances the refresh waits for (preference Wait).
	queue   []string
	head    int
	queued  map[string]bool
	waiting map[string]bool
	// total instances to update in the current phase, done of them
	// replaced by a ready instance, started taken out of service.
	total   int
	done    int
	started int
	// phase is 1 while refreshing forward and 2 while rolling back.
	phase          int
	extra          int
	nextCheckpoint int
	paused         bool
	lastDone       int
	lastResolved   string
	timers         refreshTimers
}

// refreshTimers are the clock events a refresh may have scheduled.
type refreshTimers struct {
	start, resume, stall, alarm, bake *clock.Timer
}

// stopAll cancels every pending timer of a refresh.
func (t *refreshTimers) stopAll() {
	for _, tm := range []*clock.Timer{t.start, t.resume, t.stall, t.alarm, t.bake} {
		tm.Stop()
	}
	*t = refreshTimers{}
}

// LaunchConfiguration is a legacy launch configuration.
type LaunchConfiguration struct {
	Name         string    `json:"name"`
	ARN          string    `json:"arn"`
	ImageID      string    `json:"imageId"`
	InstanceType string    `json:"instanceType"`
	KeyName      string    `json:"keyName,omitempty"`
	UserData     string    `json:"userData,omitempty"`
	CreatedTime  time.Time `json:"createdTime"`
}
