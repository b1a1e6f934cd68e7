package sim

import "time"

// Group is an Auto Scaling group. Owned by the Auto Scaling side of the model.
type Group struct {
	Name            string
	ARN             string
	MinSize         int32
	MaxSize         int32
	DesiredCapacity int32
	CreatedTime     time.Time
}

// LaunchConfiguration is a legacy launch configuration.
type LaunchConfiguration struct {
	Name         string
	ImageID      string
	InstanceType string
	CreatedTime  time.Time
}
