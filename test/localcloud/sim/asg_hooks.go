package sim

import "fmt"

// groupInstanceOf finds the group and group record of an EC2 instance.
func groupInstanceOf(r *Region, inst *Instance) (*Group, *GroupInstance) {
	if inst == nil {
		return nil, nil
	}
	name := inst.GroupName
	if name == "" {
		name = inst.Tags["aws:autoscaling:groupName"]
	}
	g, ok := r.Groups[name]
	if !ok {
		return nil, nil
	}
	gi, ok := g.Instances[inst.ID]
	if !ok {
		return g, nil
	}
	return g, gi
}

// onInstanceStateChange is called by the EC2 side whenever an instance's
// EC2 state changes (pending -> running, -> shutting-down, -> terminated).
// Running moves a Pending group instance to InService; terminated removes
// it from its group. A stop or termination the group did not ask for fails
// the instance's EC2 health check, and the group replaces it.
func (w *World) onInstanceStateChange(r *Region, inst *Instance) {
	g, gi := groupInstanceOf(r, inst)
	if gi == nil {
		return
	}
	gi.inst = inst
	switch inst.State {
	case InstanceRunning:
		w.launched(r, g, gi)
	case InstanceTerminated:
		if !terminating(gi.LifecycleState) {
			gi.terminateAct = g.addActivity(w, "Terminating EC2 instance: "+gi.InstanceID,
				fmt.Sprintf("At %s an instance was taken out of service in response to an EC2 health check indicating it has been terminated or stopped.", stamp(w.now())),
				zoneDetails("", gi.AvailabilityZone))
			gi.LifecycleState = LifecycleTerminating
			gi.HealthStatus = HealthUnhealthy
			w.tally(g, gi)
		}
		w.removeInstance(r, g, gi)
	case InstanceShuttingDown, InstanceStopping, InstanceStopped:
		if terminating(gi.LifecycleState) || g.suspended(ProcessHealthCheck) {
			return
		}
		w.markUnhealthy(r, g, gi, "an EC2 health check indicating it has been terminated or stopped")
	}
}

// onTargetHealthChange is called by the ELB side whenever a target's health
// state or reason changes. A draining instance is terminated once drained;
// for ELB health checks a healthy target can finish an instance's warmup
// and, after the grace period, an unhealthy one fails its health check.
func (w *World) onTargetHealthChange(r *Region, tg *TargetGroup, t *Target) {
	if t == nil {
		return
	}
	g, gi := groupInstanceOf(r, r.Instances[t.ID])
	if gi == nil {
		return
	}
	if gi.draining {
		if w.drained(r, gi) {
			w.drainedOut(r, g, gi)
		}
		return
	}
	if g.HealthCheckType != "ELB" || gi.LifecycleState != LifecycleInService {
		return
	}
	switch t.State {
	case TargetHealthy:
		w.evalReady(r, g, gi)
	case TargetUnhealthy:
		grace := gi.InServiceTime.Add(secondsOf(g.HealthCheckGracePeriod))
		if !w.now().Before(grace) && !g.suspended(ProcessHealthCheck) {
			w.markUnhealthy(r, g, gi, "an ELB system health check failure")
		}
	}
}
