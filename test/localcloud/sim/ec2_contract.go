package sim

import "errors"

// Provisional bodies so the package compiles while the EC2/ELB side is
// written; the EC2/ELB side replaces every function in this file.

var errNotYet = errors.New("sim: EC2/ELB side not written yet")

// launchInstance launches one instance as spec asks: it resolves the launch
// template version (or legacy launch configuration) to an image, applies the
// image's behaviour and the launch faults, records the instance in pending
// state and schedules its boot. The error is an *api.Error with EC2's code
// (InsufficientInstanceCapacity, InvalidLaunchTemplateId.NotFound, ...).
func (w *World) launchInstance(r *Region, spec LaunchSpec) (*Instance, error) {
	return nil, errNotYet
}

// terminateInstance moves inst to shutting-down and later terminated.
func (w *World) terminateInstance(r *Region, inst *Instance) {}

// resolveLaunchTemplate finds a template by id or name and resolves version
// (number, "$Latest", "$Default" or "" for default) to a numbered version.
func (w *World) resolveLaunchTemplate(r *Region, id, name, version string) (*LaunchTemplate, *LaunchTemplateVersion, error) {
	return nil, nil, errNotYet
}

// instanceStatusOK reports whether EC2 status checks pass for inst (what an
// EC2-type Auto Scaling health check sees).
func (w *World) instanceStatusOK(r *Region, inst *Instance) bool { return false }

// registerTarget registers an instance with a target group.
func (w *World) registerTarget(r *Region, tgARN, instanceID string, port int32) error { return errNotYet }

// deregisterTarget starts deregistering an instance from a target group.
func (w *World) deregisterTarget(r *Region, tgARN, instanceID string) error { return errNotYet }

// targetHealth returns the target's state and reason code in a target group.
func (w *World) targetHealth(r *Region, tgARN, instanceID string) (state, reason string, ok bool) {
	return "", "", false
}
