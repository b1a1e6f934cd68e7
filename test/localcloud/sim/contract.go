package sim

// This file is the contract between the EC2/ELB half of the model and the
// Auto Scaling half. Every function here expects the World lock to be held.
//
// EC2/ELB side provides:
//   launchInstance, terminateInstance, resolveLaunchTemplate,
//   registerTarget, deregisterTarget, targetHealth, instanceStatusOK.
// Auto Scaling side provides:
//   onInstanceStateChange, onTargetHealthChange.

// LaunchSpec says what one launch asks for. Exactly one of the launch
// template fields or LaunchConfigurationName is set.
type LaunchSpec struct {
	LaunchTemplateID   string
	LaunchTemplateName string
	// Version is a number, "$Latest", "$Default" or empty (meaning $Default).
	Version string
	// LaunchConfigurationName selects a legacy launch configuration.
	LaunchConfigurationName string
	AvailabilityZone        string
	SubnetID                string
	// Tags are applied to the instance at launch (for example
	// aws:autoscaling:groupName).
	Tags map[string]string
	// GroupName is the Auto Scaling group launching the instance, if any.
	GroupName string
}

// Health states and reason codes of Elastic Load Balancing v2 targets.
const (
	TargetInitial     = "initial"
	TargetHealthy     = "healthy"
	TargetUnhealthy   = "unhealthy"
	TargetUnused      = "unused"
	TargetDraining    = "draining"
	TargetUnavailable = "unavailable"
)

// EC2 instance states.
const (
	InstancePending      = "pending"
	InstanceRunning      = "running"
	InstanceShuttingDown = "shutting-down"
	InstanceTerminated   = "terminated"
	InstanceStopping     = "stopping"
	InstanceStopped      = "stopped"
)
