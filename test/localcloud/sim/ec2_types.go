package sim

import (
	"time"

	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
)

// Image is an AMI. Owned by the EC2 side of the model.
type Image struct {
	ID           string
	Name         string
	OwnerID      string
	Architecture string // x86_64 | arm64 | i386
	State        string // pending | available | failed | deregistered | disabled
	CreationDate time.Time
	Tags         map[string]string

	Description        string
	RootDeviceName     string
	VirtualizationType string
	// SourceInstanceID is set for images made by CreateImage.
	SourceInstanceID string
	// StateMessage explains a failed state (DescribeImages StateReason).
	StateMessage string
	// Public images are visible to and launchable by every account; images
	// made for another account through AddImage are public so that
	// provenance tests can find and launch them.
	Public bool
	// Public is the launch permission of group "all"; SharedWith holds the
	// image's other launch permissions (ModifyImageAttribute
	// launchPermission), in the order they were added.
	SharedWith []LaunchPermission
	// DeregisteredAt is when DeregisterImage ran (zero while registered).
	DeregisteredAt time.Time
	// BlockDevices are the image's block device mappings, in order; EBS
	// mappings point at the snapshots behind the image.
	BlockDevices []*BlockDevice
	// DeprecationTime is when the image is (or was) deprecated; zero when
	// no deprecation is scheduled (EnableImageDeprecation).
	DeprecationTime time.Time
	// Protection is the deregistration protection set by
	// EnableImageDeregistrationProtection: "" (none),
	// ProtectionWithCooldown or ProtectionWithoutCooldown.
	Protection string
	// ProtectedUntil is when the 24-hour cooldown that followed
	// DisableImageDeregistrationProtection ends (zero when none applies).
	ProtectedUntil time.Time

	// snapshots are the snapshots made for this image (by CreateImage,
	// RegisterImage or AddImage), deleted ones included.
	snapshots []*Snapshot
	// launches are the times of the launches from this image not yet
	// folded into lastLaunched, oldest first; lastLaunched is the latest
	// launch EC2 reports (launches are reported after LastLaunchedDelay).
	launches     []time.Time
	lastLaunched time.Time

	// requestID is the id of the request that made the image: EC2 puts it
	// in the detail of the image's state-change events.
	requestID string
	seq       uint64
}

// LaunchPermission is one launch permission of an image other than the
// public one: exactly one of an account, an organization or an
// organizational unit.
type LaunchPermission struct {
	UserID                string
	OrganizationARN       string
	OrganizationalUnitARN string
}

// LaunchTemplate is a launch template and its numbered versions.
type LaunchTemplate struct {
	ID             string
	Name           string
	DefaultVersion int64
	LatestVersion  int64
	Versions       map[int64]*LaunchTemplateVersion
	CreateTime     time.Time
	Tags           map[string]string
	CreatedBy      string

	// tokens maps a CreateLaunchTemplateVersion ClientToken to the version
	// it created, for idempotent retries.
	tokens map[string]*LaunchTemplateVersion
	// createToken and createFingerprint make CreateLaunchTemplate retries
	// with the same ClientToken idempotent.
	createToken       string
	createFingerprint string
	// highest is the highest version number ever created: numbers are not
	// reused after versions are deleted.
	highest int64
	seq     uint64
}

// LaunchTemplateVersion is one numbered version of a launch template.
type LaunchTemplateVersion struct {
	Number       int64
	Description  string
	ImageID      string
	InstanceType string
	CreateTime   time.Time
	// Data is the version's complete launch parameters as
	// DescribeLaunchTemplateVersions returns them.
	Data *ec2types.ResponseLaunchTemplateData

	// fingerprint identifies the request that made the version, so that a
	// retry with the same ClientToken and different parameters is refused.
	fingerprint string
}

// Instance is an EC2 instance.
type Instance struct {
	ID           string
	ImageID      string
	InstanceType string
	State        string
	LaunchTime   time.Time
	AZ           string
	SubnetID     string
	Tags         map[string]string
	// LaunchTemplateID, LaunchTemplateName and LaunchTemplateVersion record
	// the numbered version the instance was launched from (empty for
	// launch-configuration instances).
	LaunchTemplateID      string
	LaunchTemplateName    string
	LaunchTemplateVersion string
	// LaunchConfigurationName is set for legacy launches.
	LaunchConfigurationName string
	// GroupName is the Auto Scaling group that owns the instance, if any.
	GroupName string

	Architecture   string
	ReservationID  string
	AmiLaunchIndex int32
	PrivateIP      string
	KeyName        string
	ClientToken    string
	// Behavior is read from the image's phoenix-sim:behavior tag at launch;
	// changing the tag later does not change instances already launched,
	// as an image's contents cannot change either.
	Behavior Behavior
	// StateReasonCode and StateReasonMessage explain the last state change
	// (EC2's StateReason); StateTransitionReason is EC2's free text.
	StateReasonCode       string
	StateReasonMessage    string
	StateTransitionReason string
	// RunningAt is when the instance entered running (zero before).
	RunningAt time.Time
	// ReadyAt is when the application answers health checks (zero before
	// the instance runs).
	ReadyAt time.Time
	// TerminatedAt is when the instance entered terminated.
	TerminatedAt time.Time

	seq   uint64
	timer *clock.Timer
	// quirks are drawn the first time the noise model needs them.
	quirks *quirks
}

// TargetGroup is an Elastic Load Balancing v2 target group.
type TargetGroup struct {
	ARN     string
	Name    string
	Targets map[string]*Target

	Protocol    string
	Port        int32
	VpcID       string
	TargetType  string
	HealthCheck HealthCheck
	// Attributes holds every target group attribute with its current value.
	Attributes map[string]string
	Tags       map[string]string
	CreatedAt  time.Time

	seq uint64
}

// HealthCheck is a target group's health check configuration.
type HealthCheck struct {
	Enabled            bool
	Protocol           string
	Port               string // "traffic-port" or a port number
	Path               string
	IntervalSeconds    int32
	TimeoutSeconds     int32
	HealthyThreshold   int32
	UnhealthyThreshold int32
	Matcher            string // HTTP codes: "200", "200,302", "200-299"
}

// Target is one registered target and its health.
type Target struct {
	ID     string
	Port   int32
	State  string
	Reason string
	// Description is the text DescribeTargetHealth returns with Reason.
	Description string
	AZ          string
	// RegisteredAt is when the registration (or the last re-registration)
	// happened.
	RegisteredAt time.Time
	// Checks counts the health checks performed since registration.
	Checks int

	okRun, failRun int
	checkTimer     *clock.Timer
	drainTimer     *clock.Timer
}

// LoadBalancer is an Application Load Balancer.
type LoadBalancer struct {
	ARN       string
	Name      string
	DNSName   string
	Scheme    string
	Type      string
	State     string // provisioning | active
	VpcID     string
	Subnets   []string
	AZs       []string
	Security  []string
	CreatedAt time.Time
	Tags      map[string]string

	seq uint64
}

// Listener is a load balancer listener with its rules.
type Listener struct {
	ARN             string
	LoadBalancerARN string
	Protocol        string
	Port            int32
	// TargetGroupARNs are the target groups the default actions and the
	// rules forward to (weight 0 included), in first-use order; the
	// listener's own actions and rules are the truth, refreshTargetGroups
	// recomputes this from them after every change.
	TargetGroupARNs []string
	Tags            map[string]string
	// DefaultRuleARN is the ARN of the default rule, which DescribeRules
	// lists with IsDefault and whose actions are the default actions.
	DefaultRuleARN string

	// actions are the default actions as ELB answers them (a forward
	// action carries its ForwardConfig; see normalizeActions).
	actions []elbtypes.Action
	// rules are the non-default rules, keyed by ARN.
	rules map[string]*ListenerRule
	// defaultRuleTags are the default rule's own tags (AddTags on its ARN).
	defaultRuleTags map[string]string
	seq             uint64
}

// ListenerRule is a non-default rule of a listener: conditions, a priority
// unique in the listener (1-50000) and actions.
type ListenerRule struct {
	ARN         string
	ListenerARN string
	Priority    int32
	// Conditions are stored as given (see checkConditions for what is
	// checked and matchesSyntheticRequest for how they route).
	Conditions []elbtypes.RuleCondition
	Tags       map[string]string

	actions []elbtypes.Action
}
