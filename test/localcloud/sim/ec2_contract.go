package sim

// The EC2 side of the contract with the Auto Scaling half (see contract.go).
// Every function here expects the World lock to be held. terminateInstance
// and instanceStatusOK live in instances.go; registerTarget,
// deregisterTarget and targetHealth in elb_health.go.

// launchInstance launches one instance as spec asks: it resolves the launch
// template version (or legacy launch configuration) to an image, applies the
// image's behaviour and the launch faults, records the instance in pending
// state and schedules its boot. The instance records the numbered template
// version it was launched from, so "$Latest" or "$Default" in spec are
// pinned at launch. The error is an *api.Error with EC2's code
// (InsufficientInstanceCapacity, InvalidLaunchTemplateId.NotFound,
// InvalidAMIID.Unavailable, ...).
func (w *World) launchInstance(r *Region, spec LaunchSpec) (*Instance, error) {
	if spec.LaunchTemplateID == "" && spec.LaunchTemplateName == "" && spec.LaunchConfigurationName == "" {
		return nil, ec2Err("MissingParameter", "The request must contain the parameter launchTemplateName or launchTemplateId")
	}
	plan, err := w.planLaunch(r, launchRequest{
		ltID:      spec.LaunchTemplateID,
		ltName:    spec.LaunchTemplateName,
		ltVersion: spec.Version,
		lcName:    spec.LaunchConfigurationName,
		az:        spec.AvailabilityZone,
		subnetID:  spec.SubnetID,
		tags:      spec.Tags,
		groupName: spec.GroupName,
	})
	if err != nil {
		return nil, err
	}
	id, az, err := w.admitLaunch(r, plan, 0)
	if err != nil {
		return nil, err
	}
	return w.createInstance(r, plan, id, az, w.hexID("r"), 0), nil
}

// resolveLaunchTemplate finds a template by id or name and resolves version
// (number, "$Latest", "$Default" or "" for default) to a numbered version.
func (w *World) resolveLaunchTemplate(r *Region, id, name, version string) (*LaunchTemplate, *LaunchTemplateVersion, error) {
	lt, err := w.findTemplate(r, id, name)
	if err != nil {
		return nil, nil, err
	}
	v, err := findVersion(lt, version)
	if err != nil {
		return nil, nil, err
	}
	return lt, v, nil
}
