package sim

import "time"

// Image is an AMI. Owned by the EC2 side of the model.
type Image struct {
	ID           string
	Name         string
	OwnerID      string
	Architecture string // x86_64 | arm64
	State        string // pending | available | failed | deregistered | disabled
	CreationDate time.Time
	Tags         map[string]string
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
}

// LaunchTemplateVersion is one numbered version of a launch template.
type LaunchTemplateVersion struct {
	Number       int64
	Description  string
	ImageID      string
	InstanceType string
	CreateTime   time.Time
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
}

// TargetGroup is an Elastic Load Balancing v2 target group.
type TargetGroup struct {
	ARN     string
	Name    string
	Targets map[string]*Target
}

// Target is one registered target and its health.
type Target struct {
	ID     string
	Port   int32
	State  string
	Reason string
}
