package sim

// Region is one region's resources. Maps are keyed by the resource's id (ARN
// for target groups, name for groups and launch configurations).
type Region struct {
	Name string

	// EC2 and ELBv2: owned by ec2.go, instances.go, elb.go.
	Images          map[string]*Image
	LaunchTemplates map[string]*LaunchTemplate
	Instances       map[string]*Instance
	TargetGroups    map[string]*TargetGroup

	// Auto Scaling: owned by asg.go and refresh.go.
	Groups               map[string]*Group
	LaunchConfigurations map[string]*LaunchConfiguration
}

func newRegion(name string) *Region {
	return &Region{
		Name:                 name,
		Images:               map[string]*Image{},
		LaunchTemplates:      map[string]*LaunchTemplate{},
		Instances:            map[string]*Instance{},
		TargetGroups:         map[string]*TargetGroup{},
		Groups:               map[string]*Group{},
		LaunchConfigurations: map[string]*LaunchConfiguration{},
	}
}
