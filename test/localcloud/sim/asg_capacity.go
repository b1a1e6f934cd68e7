package sim

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Timing of the capacity model. AWS does not publish exact figures; these
// are the ones the model uses, so tests can reason about exact instants.
const (
	// healthCheckInterval is how often a group checks EC2 status checks and,
	// for ELB groups, target health of its InService instances.
	healthCheckInterval = 30 * time.Second
	// launchRetryFirst and launchRetryMax bound the exponential backoff
	// between launch attempts after a failed launch.
	launchRetryFirst = 10 * time.Second
	launchRetryMax   = 5 * time.Minute
	// drainTimeout bounds the wait for target deregistration before an
	// instance is terminated anyway (the longest deregistration delay ELB
	// allows is one hour).
	drainTimeout = time.Hour
)

// tally brings the group's incremental counters, and the active
// refresh's progress, in line with gi's current state. Every change of
// lifecycle state, health or readiness goes through it.
func (w *World) tally(g *Group, gi *GroupInstance) {
	counted := launching(gi.LifecycleState) || gi.LifecycleState == LifecycleInService
	ready := gi.LifecycleState == LifecycleInService && gi.HealthStatus == HealthHealthy && gi.Ready
	if counted != gi.counted {
		d := 1
		if !counted {
			d = -1
		}
		g.capacity += d
		g.zoneCount[gi.Zone] += d
		gi.counted = counted
	}
	if ready != gi.readyCounted {
		if ready {
			g.ready++
		} else {
			g.ready--
		}
		gi.readyCounted = ready
	}
	ir := g.active
	if gi.countedDone && (ir == nil || gi.launchedBy != ir || gi.launchedPhase != ir.phase) {
		// Progress of an earlier phase or refresh: not this one's to undo.
		gi.countedDone = false
	}
	if ir != nil {
		done := ready && gi.launchedBy == ir && gi.launchedPhase == ir.phase && !gi.stale
		if done != gi.countedDone {
			if done {
				ir.done++
			} else {
				ir.done--
			}
			gi.countedDone = done
		}
	}
}

// currentSource is what the group launches from right now: the refresh's
// desired configuration while it moves forward, the saved configuration
// while it rolls back, the group's own otherwise.
func (g *Group) currentSource() LaunchSource {
	if ir := g.active; ir != nil {
		if ir.phase == 2 {
			return ir.Saved
		}
		if ir.Status != RefreshCancelling {
			return ir.Target
		}
	}
	return g.Launch
}

// suspended reports whether a scaling process is suspended.
func (g *Group) suspended(p string) bool {
	_, ok := g.SuspendedProcesses[p]
	return ok
}

// target is the number of Pending and InService instances the group wants:
// the desired capacity plus any surge an instance refresh holds.
func (g *Group) target() int {
	t := int(g.DesiredCapacity)
	if g.active != nil {
		t += g.active.extra
	}
	return t
}

// reconcile launches or terminates instances until the group's capacity
// meets its target, honouring suspended processes and launch backoff.
func (w *World) reconcile(r *Region, g *Group) {
	if r.Groups[g.Name] != g {
		return
	}
	target := g.target()
	if g.capacity < target && !g.suspended(ProcessLaunch) && g.retryTimer == nil {
		from := g.capacity
		for g.capacity < target {
			if err := w.asgLaunch(r, g, from, target); err != nil {
				break
			}
		}
	}
	if g.capacity > target && !g.suspended(ProcessTerminate) {
		from := g.capacity
		for g.capacity > target {
			gi := w.scaleInVictim(r, g)
			if gi == nil {
				break
			}
			w.asgTerminate(r, g, gi, fmt.Sprintf("%s  At %s an instance was taken out of service in response to a difference between desired and actual capacity, shrinking the capacity from %d to %d.  At %s instance %s was selected for termination.",
				g.lastCause, stamp(w.now()), from, target, stamp(w.now()), gi.InstanceID))
		}
	}
}

// asgLaunch launches one instance into the least-populated zone slot from
// the group's current launch source. A failed launch becomes a Failed
// scaling activity and arms the retry backoff.
func (w *World) asgLaunch(r *Region, g *Group, from, to int) error {
	now := w.now()
	zone, az, subnet := g.pickZone()
	src := g.currentSource()
	spec := LaunchSpec{
		LaunchTemplateID:        src.LaunchTemplateID,
		Version:                 src.Version,
		LaunchConfigurationName: src.LaunchConfigurationName,
		AvailabilityZone:        az,
		SubnetID:                subnet,
		GroupName:               g.Name,
		Tags:                    map[string]string{"aws:autoscaling:groupName": g.Name},
	}
	if src.LaunchTemplateID == "" {
		spec.LaunchTemplateName = src.LaunchTemplateName
	}
	for _, t := range g.Tags {
		if t.PropagateAtLaunch {
			spec.Tags[t.Key] = t.Value
		}
	}
	cause := fmt.Sprintf("%s  At %s an instance was started in response to a difference between desired and actual capacity, increasing the capacity from %d to %d.", g.lastCause, stamp(now), from, to)
	if ir := g.active; ir != nil && ir.Status != RefreshCancelling {
		what := "an instance refresh"
		if ir.phase == 2 {
			what = "an instance refresh rollback"
		}
		cause = fmt.Sprintf("At %s an instance was launched in response to %s, increasing the capacity from %d to %d.", stamp(now), what, from, to)
	}
	inst, err := w.launchInstance(r, spec)
	if err != nil {
		msg := errorMessage(err)
		g.lastLaunchErr = msg
		act := g.addActivity(w, "Launching a new EC2 instance.  Status Reason: "+msg+". Launching EC2 instance failed.", cause, zoneDetails(subnet, az))
		act.StatusCode, act.StatusMessage, act.Progress = ActivityFailed, msg+". Launching EC2 instance failed.", 100
		act.EndTime = &now
		if g.launchBackoff == 0 {
			g.launchBackoff = launchRetryFirst
		} else {
			g.launchBackoff = min(2*g.launchBackoff, launchRetryMax)
		}
		g.retryTimer = w.schedule(g.launchBackoff, "autoscaling retry launch "+g.Name, func() {
			g.retryTimer = nil
			w.reconcile(r, g)
		})
		return fmt.Errorf("launch into group %s: %w", g.Name, err)
	}
	g.launchBackoff, g.lastLaunchErr = 0, ""
	g.seq++
	gi := &GroupInstance{
		InstanceID:           inst.ID,
		AvailabilityZone:     inst.AZ,
		Zone:                 zone,
		LifecycleState:       LifecyclePending,
		HealthStatus:         HealthHealthy,
		ProtectedFromScaleIn: g.NewInstancesProtectedFromScaleIn,
		InstanceType:         inst.InstanceType,
		ImageID:              inst.ImageID,
		LaunchTime:           now,
		inst:                 inst,
		seq:                  g.seq,
		warmup:               g.warmupFor(),
	}
	if gi.AvailabilityZone == "" {
		gi.AvailabilityZone = az
	}
	if inst.LaunchConfigurationName != "" || src.LaunchConfigurationName != "" {
		gi.LaunchConfigurationName = src.LaunchConfigurationName
	} else {
		gi.LaunchTemplate = &LaunchSource{LaunchTemplateID: inst.LaunchTemplateID, LaunchTemplateName: inst.LaunchTemplateName, Version: inst.LaunchTemplateVersion}
	}
	if inst.GroupName == "" {
		inst.GroupName = g.Name
	}
	if ir := g.active; ir != nil && ir.Status != RefreshCancelling {
		gi.launchedBy, gi.launchedPhase = ir, ir.phase
		gi.warmup = secondsOf(ir.Preferences.InstanceWarmup)
	}
	g.Instances[gi.InstanceID] = gi
	w.tally(g, gi)
	gi.launchAct = g.addActivity(w, "Launching a new EC2 instance: "+inst.ID, cause, zoneDetails(subnet, gi.AvailabilityZone))
	gi.launchAct.Progress = 30
	if inst.State == InstanceRunning {
		w.launched(r, g, gi)
	}
	return nil
}

// warmupFor is the warmup of an instance launched outside a refresh.
func (g *Group) warmupFor() time.Duration {
	if g.DefaultInstanceWarmup != nil {
		return time.Duration(*g.DefaultInstanceWarmup) * time.Second
	}
	return 0
}

// pickZone returns the zone slot with the fewest instances (AZ balancing),
// and the AZ or subnet to launch into.
func (g *Group) pickZone() (zone, az, subnet string) {
	slots := g.Subnets
	bySubnet := len(slots) > 0
	if !bySubnet {
		slots = g.AvailabilityZones
	}
	best := -1
	for _, s := range slots {
		if n := g.zoneCount[s]; best < 0 || n < best {
			best, zone = n, s
		}
	}
	if bySubnet {
		return zone, "", zone
	}
	return zone, zone, ""
}

// zoneDetails renders an activity's Details the way AWS does.
func zoneDetails(subnet, az string) string {
	d := map[string]string{}
	if subnet != "" {
		d["Subnet ID"] = subnet
	}
	if az != "" {
		d["Availability Zone"] = az
	}
	b, _ := json.Marshal(d)
	return string(b)
}

// addActivity records a new InProgress scaling activity.
func (g *Group) addActivity(w *World, description, cause, details string) *Activity {
	act := &Activity{
		ActivityID:  w.uuid(),
		GroupName:   g.Name,
		GroupARN:    g.ARN,
		Description: description,
		Cause:       cause,
		Details:     details,
		StartTime:   w.now(),
		StatusCode:  ActivityInProgress,
	}
	g.Activities = append(g.Activities, act)
	return act
}

// finishActivity marks an activity as ended with the given status.
func (w *World) finishActivity(act *Activity, status string) {
	if act == nil || act.EndTime != nil {
		return
	}
	now := w.now()
	act.StatusCode, act.EndTime, act.Progress = status, &now, 100
}

// goInService moves a Pending instance to InService once EC2 reports it
// running (or a Pending:Proceed one once its launch hooks have completed):
// it is registered with the group's target groups and starts its warmup.
func (w *World) goInService(r *Region, g *Group, gi *GroupInstance) {
	if gi.LifecycleState != LifecyclePending && gi.LifecycleState != LifecyclePendingProceed {
		return
	}
	now := w.now()
	gi.LifecycleState = LifecycleInService
	gi.InServiceTime = now
	if !g.suspended(ProcessAddToLoadBalancer) {
		w.registerAll(r, g, gi)
	}
	w.finishActivity(gi.launchAct, ActivitySuccessful)
	w.tally(g, gi)
	if gi.warmup > 0 {
		gi.warmTimer = w.schedule(gi.warmup, "autoscaling warmup "+gi.InstanceID, func() {
			gi.warmTimer = nil
			w.evalReady(r, g, gi)
		})
	} else {
		w.evalReady(r, g, gi)
	}
	w.ensureHealthChecks(r, g)
	w.refreshStep(r, g)
}

// registerAll registers gi with every target group of the group.
func (w *World) registerAll(r *Region, g *Group, gi *GroupInstance) {
	for _, arn := range g.TargetGroupARNs {
		if err := w.registerTarget(r, arn, gi.InstanceID, 0); err == nil {
			gi.registered = append(gi.registered, arn)
		}
	}
}

// evalReady marks gi ready when it is InService, healthy, past its warmup
// and, for ELB health checks, healthy in every target group it is in.
func (w *World) evalReady(r *Region, g *Group, gi *GroupInstance) {
	if gi.Ready || gi.LifecycleState != LifecycleInService || gi.HealthStatus != HealthHealthy || gi.warmTimer != nil {
		return
	}
	if g.HealthCheckType == "ELB" {
		for _, arn := range gi.registered {
			if state, _, ok := w.targetHealth(r, arn, gi.InstanceID); !ok || state != TargetHealthy {
				return
			}
		}
	}
	gi.Ready = true
	w.tally(g, gi)
	w.refreshStep(r, g)
}

// asgTerminate takes gi out of service: it is deregistered from its target
// groups and, once they have drained it and its termination hooks have
// completed (drainedOut), terminated. Launch hooks it still waited on are
// dropped.
func (w *World) asgTerminate(r *Region, g *Group, gi *GroupInstance, cause string) {
	if terminating(gi.LifecycleState) || gi.LifecycleState == LifecycleTerminated {
		return
	}
	w.dropActions(gi)
	gi.LifecycleState = LifecycleTerminating
	gi.Ready = false
	gi.warmTimer.Stop()
	gi.warmTimer = nil
	w.tally(g, gi)
	gi.terminateAct = g.addActivity(w, "Terminating EC2 instance: "+gi.InstanceID, cause, zoneDetails("", gi.AvailabilityZone))
	gi.terminateAct.Progress = 50
	w.finishActivity(gi.launchAct, ActivityCancelled)
	if len(gi.registered) == 0 {
		w.drainedOut(r, g, gi)
		return
	}
	gi.draining = true
	for _, arn := range gi.registered {
		_ = w.deregisterTarget(r, arn, gi.InstanceID)
	}
	if !gi.draining {
		// Deregistration finished at once and the instance is already on
		// its way out.
		return
	}
	if w.drained(r, gi) {
		w.drainedOut(r, g, gi)
		return
	}
	gi.drainTimer = w.schedule(drainTimeout, "autoscaling drain timeout "+gi.InstanceID, func() {
		gi.drainTimer = nil
		if gi.draining {
			w.drainedOut(r, g, gi)
		}
	})
}

// drained reports whether no target group still drains gi.
func (w *World) drained(r *Region, gi *GroupInstance) bool {
	for _, arn := range gi.registered {
		if state, _, ok := w.targetHealth(r, arn, gi.InstanceID); ok && state == TargetDraining {
			return false
		}
	}
	return true
}

// shutdown asks EC2 to terminate gi's instance.
func (w *World) shutdown(r *Region, g *Group, gi *GroupInstance) {
	gi.draining = false
	gi.registered = nil
	gi.drainTimer.Stop()
	gi.drainTimer = nil
	if gi.inst == nil || gi.inst.State == InstanceTerminated {
		w.removeInstance(r, g, gi)
		return
	}
	w.terminateInstance(r, gi.inst)
}

// removeInstance drops a terminated instance from its group.
func (w *World) removeInstance(r *Region, g *Group, gi *GroupInstance) {
	if g.Instances[gi.InstanceID] != gi {
		return
	}
	gi.LifecycleState = LifecycleTerminated
	gi.Ready = false
	gi.warmTimer.Stop()
	gi.drainTimer.Stop()
	w.dropActions(gi)
	w.tally(g, gi)
	delete(g.Instances, gi.InstanceID)
	w.finishActivity(gi.terminateAct, ActivitySuccessful)
	w.finishActivity(gi.launchAct, ActivityCancelled)
	if ir := g.active; ir != nil && ir.waiting[gi.InstanceID] {
		delete(ir.waiting, gi.InstanceID)
	}
	w.maybeRemoveGroup(r, g)
	w.reconcile(r, g)
	w.refreshStep(r, g)
}

// markUnhealthy records a failed health check and, unless ReplaceUnhealthy
// is suspended, replaces the instance.
func (w *World) markUnhealthy(r *Region, g *Group, gi *GroupInstance, why string) {
	if terminating(gi.LifecycleState) || gi.LifecycleState == LifecycleTerminated {
		return
	}
	gi.HealthStatus = HealthUnhealthy
	gi.Ready = false
	w.tally(g, gi)
	if g.suspended(ProcessReplaceUnhealthy) || gi.LifecycleState != LifecycleInService {
		w.refreshStep(r, g)
		return
	}
	w.asgTerminate(r, g, gi, fmt.Sprintf("At %s an instance was taken out of service in response to %s.", stamp(w.now()), why))
	w.reconcile(r, g)
	w.refreshStep(r, g)
}

// ensureHealthChecks keeps one periodic health check running while the
// group has instances in service.
func (w *World) ensureHealthChecks(r *Region, g *Group) {
	if g.healthTimer != nil {
		return
	}
	g.healthTimer = w.schedule(healthCheckInterval, "autoscaling health check "+g.Name, func() {
		g.healthTimer = nil
		if r.Groups[g.Name] != g {
			return
		}
		w.healthCheck(r, g)
		if len(g.Instances) > 0 {
			w.ensureHealthChecks(r, g)
		}
	})
}

// healthCheck runs the group's health checks: EC2 status checks always,
// ELB target health for ELB groups, both only after the grace period.
func (w *World) healthCheck(r *Region, g *Group) {
	if g.suspended(ProcessHealthCheck) {
		return
	}
	now := w.now()
	grace := time.Duration(g.HealthCheckGracePeriod) * time.Second
	var failed []*GroupInstance
	var why []string
	for _, gi := range g.Instances {
		if gi.LifecycleState != LifecycleInService || gi.HealthStatus != HealthHealthy || now.Before(gi.InServiceTime.Add(grace)) {
			continue
		}
		if gi.inst != nil && !w.instanceStatusOK(r, gi.inst) {
			failed, why = append(failed, gi), append(why, "an EC2 health check indicating it has failed status checks")
			continue
		}
		if g.HealthCheckType == "ELB" {
			for _, arn := range gi.registered {
				if state, _, ok := w.targetHealth(r, arn, gi.InstanceID); ok && state == TargetUnhealthy {
					failed, why = append(failed, gi), append(why, "an ELB system health check failure")
					break
				}
			}
		}
	}
	// Map order is random; act in launch order so runs repeat exactly.
	order := make([]int, len(failed))
	for i := range order {
		order[i] = i
	}
	sortByKey(order, func(i int) int64 { return failed[i].seq })
	for _, i := range order {
		w.markUnhealthy(r, g, failed[i], why[i])
	}
}

// sortByKey sorts idx by an integer key.
func sortByKey(idx []int, key func(int) int64) {
	for i := 1; i < len(idx); i++ {
		for j := i; j > 0 && key(idx[j]) < key(idx[j-1]); j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
}

// scaleInVictim picks the instance to terminate on scale in, following the
// Default termination policy as far as the model can: the zone slot with
// the most instances first, then instances not on the current launch
// template version or launch configuration, then the oldest launch.
// Protected instances are never chosen.
func (w *World) scaleInVictim(r *Region, g *Group) *GroupInstance {
	cur := w.sourceKey(r, g.currentSource())
	var best *GroupInstance
	bestOld := false
	for _, gi := range g.Instances {
		if !gi.counted || gi.ProtectedFromScaleIn {
			continue
		}
		old := gi.key() != cur
		if best == nil {
			best, bestOld = gi, old
			continue
		}
		bz, gz := g.zoneCount[best.Zone], g.zoneCount[gi.Zone]
		switch {
		case gz != bz:
			if gz > bz {
				best, bestOld = gi, old
			}
		case old != bestOld:
			if old {
				best, bestOld = gi, old
			}
		case gi.seq < best.seq:
			best, bestOld = gi, old
		}
	}
	return best
}

// key identifies what an instance was launched from: "lt-id:N" or
// "lc:name".
func (gi *GroupInstance) key() string {
	if gi.LaunchTemplate != nil {
		return gi.LaunchTemplate.LaunchTemplateID + ":" + gi.LaunchTemplate.Version
	}
	return "lc:" + gi.LaunchConfigurationName
}

// sourceKey resolves a launch source to the key of instances launched from
// it now; "" when the template or version no longer resolves.
func (w *World) sourceKey(r *Region, s LaunchSource) string {
	if s.LaunchConfigurationName != "" {
		return "lc:" + s.LaunchConfigurationName
	}
	lt, v, err := w.resolveSource(r, s)
	if err != nil || lt == nil || v == nil {
		return ""
	}
	return lt.ID + ":" + strconv.FormatInt(v.Number, 10)
}

// resolveSource resolves a launch template source to its numbered version.
// The template is named by id when the source has one, since EC2 refuses a
// reference that gives both.
func (w *World) resolveSource(r *Region, s LaunchSource) (*LaunchTemplate, *LaunchTemplateVersion, error) {
	name := s.LaunchTemplateName
	if s.LaunchTemplateID != "" {
		name = ""
	}
	return w.resolveLaunchTemplate(r, s.LaunchTemplateID, name, s.Version)
}
