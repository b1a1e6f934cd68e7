package sim

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// How the model paces an instance refresh.
//
// Batch sizes follow the API reference for RefreshPreferences:
//
//   - The minimum healthy count is MinHealthyPercentage of the desired
//     capacity rounded up to the nearest integer (the wording of the
//     RefreshPreferences reference). An old instance is taken out of
//     service only while the healthy, warmed-up count stays at or above it.
//   - When that forbids any replacement (MinHealthyPercentage 100, or a
//     group of one), AWS still replaces one instance at a time ("Setting the
//     minimum healthy percentage to 100 percent limits the rate of
//     replacement to one instance at a time"): with MaxHealthyPercentage
//     omitted it terminates the instance and launches the replacement at
//     the same time.
//   - When MaxHealthyPercentage is set, the group may hold up to that
//     percentage of the desired capacity (rounded down) in service or
//     pending, so replacements are launched before old instances are
//     terminated. If the two bounds leave no room at all (both 100), AWS
//     "launches a new instance before terminating an old one (temporarily
//     exceeding the desired capacity)": the model allows one extra instance.
//
// A new instance counts toward progress once it is InService, healthy,
// past the refresh's warmup and, for ELB health checks, healthy in its
// target groups.
const (
	// refreshStallTimeout is how long a refresh keeps retrying without any
	// replacement completing (blocked launches, unhealthy replacements,
	// Standby or protected instances it waits for) before it fails; the
	// refresh's warmup is added so that slow warmups are not mistaken for
	// a stall.
	refreshStallTimeout = time.Hour
	// alarmPollInterval is how often a refresh with an AlarmSpecification
	// reads its alarms.
	alarmPollInterval = time.Minute
)

// refreshEvent emits one instance refresh event of the group.
func (w *World) refreshEvent(r *Region, g *Group, ir *InstanceRefresh, what string, extra map[string]string) {
	detail := map[string]string{
		"InstanceRefreshId":    ir.ID,
		"AutoScalingGroupName": g.Name,
	}
	for k, v := range extra {
		detail[k] = v
	}
	w.emit(r.Name, "aws.autoscaling", "EC2 Auto Scaling Instance Refresh "+what, []string{g.ARN}, detail)
}

// beginRefresh moves a Pending refresh to InProgress: it decides which
// instances to replace and emits the Started event.
func (w *World) beginRefresh(r *Region, g *Group, ir *InstanceRefresh) {
	if g.active != ir || ir.Status != RefreshPending {
		return
	}
	ir.Status, ir.phase = RefreshInProgress, 1
	targetKey := w.sourceKey(r, ir.Target)
	ir.lastResolved = targetKey
	var standbyToGo []*GroupInstance
	for _, gi := range g.sortedInstances() {
		switch {
		case terminating(gi.LifecycleState):
			continue
		case gi.LifecycleState == LifecycleStandby || gi.LifecycleState == LifecycleEnteringStandby:
			switch ir.Preferences.StandbyInstances {
			case "Ignore":
			case "Terminate":
				standbyToGo = append(standbyToGo, gi)
			default:
				ir.waiting[gi.InstanceID] = true
			}
			continue
		case ir.Preferences.SkipMatching && gi.key() == targetKey:
			continue
		case gi.ProtectedFromScaleIn && ir.Preferences.ScaleInProtectedInstances != "Refresh":
			if ir.Preferences.ScaleInProtectedInstances == "Wait" {
				ir.waiting[gi.InstanceID] = true
			}
			continue
		}
		ir.enqueue(gi.InstanceID)
	}
	ir.total = len(ir.queue) + len(ir.waiting)
	w.updateProgress(ir)
	w.refreshEvent(r, g, ir, "Started", nil)
	for _, gi := range standbyToGo {
		w.asgTerminate(r, g, gi, fmt.Sprintf("At %s an instance was taken out of service in response to an instance refresh.  At %s instance %s was selected for termination.", stamp(w.now()), stamp(w.now()), gi.InstanceID))
	}
	w.armStall(r, g, ir)
	w.armAlarms(r, g, ir)
	w.refreshStep(r, g)
}

// enqueue adds an instance to the replacement queue once.
func (ir *InstanceRefresh) enqueue(id string) {
	if !ir.queued[id] {
		ir.queued[id] = true
		ir.queue = append(ir.queue, id)
	}
}

// releaseWaiting moves an instance the refresh waited for (Standby or
// protected, preference Wait) into the replacement queue.
func (w *World) releaseWaiting(g *Group, gi *GroupInstance) {
	ir := g.active
	if ir == nil || !ir.waiting[gi.InstanceID] || gi.ProtectedFromScaleIn && ir.Preferences.ScaleInProtectedInstances == "Wait" {
		return
	}
	if gi.LifecycleState == LifecycleStandby || gi.LifecycleState == LifecycleEnteringStandby {
		return
	}
	delete(ir.waiting, gi.InstanceID)
	ir.enqueue(gi.InstanceID)
}

// peekQueue returns the next instance to replace, dropping entries that no
// longer need it (gone, already leaving, or now Standby or protected, which
// are handled by preference).
func (w *World) peekQueue(g *Group, ir *InstanceRefresh) *GroupInstance {
	for ir.head < len(ir.queue) {
		id := ir.queue[ir.head]
		gi := g.Instances[id]
		drop := gi == nil || terminating(gi.LifecycleState)
		if !drop && ir.phase == 1 && (gi.LifecycleState == LifecycleStandby || gi.LifecycleState == LifecycleEnteringStandby) {
			drop = true
			if ir.Preferences.StandbyInstances == "Wait" {
				ir.waiting[id] = true
			}
		}
		if !drop && ir.phase == 1 && gi.ProtectedFromScaleIn && ir.Preferences.ScaleInProtectedInstances != "Refresh" {
			drop = true
			if ir.Preferences.ScaleInProtectedInstances == "Wait" {
				ir.waiting[id] = true
			}
		}
		if !drop {
			return gi
		}
		delete(ir.queued, id)
		ir.queue[ir.head] = ""
		ir.head++
	}
	return nil
}

// popQueue removes the head of the queue.
func (ir *InstanceRefresh) popQueue() {
	delete(ir.queued, ir.queue[ir.head])
	ir.queue[ir.head] = ""
	ir.head++
}

// ceilDiv and floorDiv are the roundings AWS applies to percentages of the
// desired capacity.
func ceilDiv(a, b int) int  { return (a + b - 1) / b }
func floorDiv(a, b int) int { return a / b }

// refreshStep advances the group's active refresh as far as its
// preferences allow right now. It does work proportional to what it
// changes: the queue is consumed from its head and every count it needs is
// kept incrementally.
func (w *World) refreshStep(r *Region, g *Group) {
	ir := g.active
	if ir == nil {
		return
	}
	switch ir.Status {
	case RefreshCancelling:
		if !w.transitioning(g, ir) {
			w.endRefresh(r, g, ir, RefreshCancelled, "The instance refresh was cancelled by a user request.", "Cancelled")
		}
		return
	case RefreshInProgress, RefreshRollbackInProgress:
	default:
		return
	}
	if ir.done > ir.lastDone {
		w.armStall(r, g, ir)
	}
	ir.lastDone = ir.done
	if ir.paused || g.suspended(ProcessInstanceRefresh) {
		w.updateProgress(ir)
		return
	}
	if ir.phase == 1 {
		w.requeueIfLatestMoved(r, g, ir)
	}
	desired := int(g.DesiredCapacity)
	minCount := ceilDiv(desired*int(ir.Preferences.MinHealthyPercentage), 100)
	explicitMax := ir.Preferences.MaxHealthyPercentage != nil
	limit := math.MaxInt
	if ir.phase == 1 && ir.nextCheckpoint < len(ir.Preferences.CheckpointPercentages) {
		limit = ceilDiv(int(ir.Preferences.CheckpointPercentages[ir.nextCheckpoint])*ir.total, 100)
	}
	what := "an instance refresh"
	if ir.phase == 2 {
		what = "an instance refresh rollback"
	}
	for ir.started < limit && !g.suspended(ProcessTerminate) {
		gi := w.peekQueue(g, ir)
		if gi == nil {
			break
		}
		if gi.readyCounted && g.ready-1 < minCount {
			// One at a time anyway, when nothing else is in flight and the
			// group is at full strength (terminate and launch).
			if explicitMax || g.capacity != g.ready || g.capacity < g.target() {
				break
			}
		}
		ir.popQueue()
		ir.started++
		now := stamp(w.now())
		w.asgTerminate(r, g, gi, fmt.Sprintf("At %s an instance was taken out of service in response to %s.  At %s instance %s was selected for termination.", now, what, now, gi.InstanceID))
		gi.takenOutBy = ir
	}
	// The checkpoint is looked at only after this step's terminations: a
	// replacement that has just become ready first lets the refresh take
	// out the old instance it stands for, so that the pause starts with
	// the group back at its desired capacity and nothing of the batch left
	// in flight.
	if ir.phase == 1 && w.checkpoint(r, g, ir) {
		return
	}
	ir.extra = 0
	if explicitMax {
		allowed := floorDiv(desired*int(*ir.Preferences.MaxHealthyPercentage), 100) - desired
		if allowed <= 0 && minCount >= desired && desired > 0 {
			allowed = 1
		}
		remaining := len(ir.queue) - ir.head
		ir.extra = max(0, min(allowed, limit-ir.started, remaining))
	}
	w.reconcile(r, g)
	w.updateProgress(ir)
	w.maybeComplete(r, g, ir)
}

// requeueIfLatestMoved re-replaces instances when the refresh targets
// $Latest or $Default and that alias now resolves to another version:
// instances launched earlier in the refresh no longer match it.
func (w *World) requeueIfLatestMoved(r *Region, g *Group, ir *InstanceRefresh) {
	if !ir.Target.usesAlias() {
		return
	}
	key := w.sourceKey(r, ir.Target)
	if key == "" || key == ir.lastResolved {
		return
	}
	ir.lastResolved = key
	for _, gi := range g.sortedInstances() {
		if gi.launchedBy == ir && gi.counted && gi.key() != key && !ir.queued[gi.InstanceID] {
			gi.stale = true
			w.tally(g, gi)
			ir.enqueue(gi.InstanceID)
			ir.started--
		}
	}
}

// checkpoint pauses the refresh when the share of replaced instances has
// reached one or more checkpoints; only the highest one reached is
// reported, as AWS skips checkpoints that a single replacement overtakes.
// The 100 percent checkpoint is not reported: the refresh just completes.
// It reports whether the refresh is now paused (or ended).
//
// The user guide defines a checkpoint as the share of the group that must
// be new instances before it counts as reached. A replacement counts once
// it is ready (InService, healthy, past its warmup), and the checkpoint is
// reached only once the refresh has also taken out the old instances those
// replacements stand for: with MaxHealthyPercentage above 100 the group
// holds its surge until then, and pausing with a surge would leave it to
// an ordinary scale in, outside the refresh's accounting, to bring the
// group back to its desired capacity.
func (w *World) checkpoint(r *Region, g *Group, ir *InstanceRefresh) bool {
	if g.capacity > int(g.DesiredCapacity) {
		return false
	}
	cps := ir.Preferences.CheckpointPercentages
	reached := -1
	for ir.nextCheckpoint < len(cps) && ir.done*100 >= int(cps[ir.nextCheckpoint])*ir.total {
		reached = ir.nextCheckpoint
		ir.nextCheckpoint++
	}
	if reached < 0 || cps[reached] == 100 {
		return false
	}
	w.updateProgress(ir)
	w.refreshEvent(r, g, ir, "Checkpoint Reached", map[string]string{
		"CheckpointPercentage": strconv.Itoa(int(cps[reached])),
		"CheckpointDelay":      strconv.Itoa(int(ir.Preferences.CheckpointDelay)),
	})
	if reached == len(cps)-1 {
		// The last checkpoint is below 100: the refresh ends there, leaving
		// the remaining instances as they are.
		w.completeForward(r, g, ir)
		return true
	}
	ir.paused = true
	ir.extra = 0
	ir.timers.stall.Stop()
	ir.timers.stall = nil
	ir.StatusReason = fmt.Sprintf("Waiting for %d seconds at checkpoint %d percent.", ir.Preferences.CheckpointDelay, cps[reached])
	ir.timers.resume = w.schedule(secondsOf(ir.Preferences.CheckpointDelay), "autoscaling checkpoint "+ir.ID, func() {
		ir.timers.resume = nil
		if g.active != ir || !ir.paused {
			return
		}
		ir.paused = false
		ir.StatusReason = ""
		w.armStall(r, g, ir)
		w.refreshStep(r, g)
	})
	return true
}

// maybeComplete finishes the current phase once nothing is left to
// replace and the group is back at full, healthy, warmed-up strength.
func (w *World) maybeComplete(r *Region, g *Group, ir *InstanceRefresh) {
	if ir.paused || len(ir.waiting) > 0 || w.peekQueue(g, ir) != nil || ir.extra > 0 {
		return
	}
	if g.capacity != g.ready || g.capacity < int(g.DesiredCapacity) {
		return
	}
	if ir.phase == 2 {
		g.Launch = ir.Saved
		w.endRefresh(r, g, ir, RefreshRollbackSuccessful, "The rollback completed successfully.", "Rollback Succeeded")
		return
	}
	if ir.nextCheckpoint < len(ir.Preferences.CheckpointPercentages) {
		ir.nextCheckpoint = len(ir.Preferences.CheckpointPercentages)
	}
	w.completeForward(r, g, ir)
}

// completeForward ends the replacements of a refresh: it bakes if asked
// to, then succeeds.
func (w *World) completeForward(r *Region, g *Group, ir *InstanceRefresh) {
	ir.timers.stall.Stop()
	ir.timers.stall = nil
	ir.done = max(ir.done, ir.total)
	w.updateProgress(ir)
	if ir.Preferences.BakeTime <= 0 {
		w.succeed(r, g, ir)
		return
	}
	ir.Status, ir.StatusReason = RefreshBaking, ""
	w.refreshEvent(r, g, ir, "Started Baking", nil)
	ir.timers.bake = w.schedule(secondsOf(ir.Preferences.BakeTime), "autoscaling bake "+ir.ID, func() {
		ir.timers.bake = nil
		if g.active == ir && ir.Status == RefreshBaking {
			w.succeed(r, g, ir)
		}
	})
}

// succeed ends a refresh successfully: only now does the group take the
// desired configuration.
func (w *World) succeed(r *Region, g *Group, ir *InstanceRefresh) {
	if ir.DesiredConfiguration != nil {
		g.Launch = ir.Target
	}
	w.endRefresh(r, g, ir, RefreshSuccessful, "", "Succeeded")
}

// endRefresh gives a refresh its final status and emits its event.
func (w *World) endRefresh(r *Region, g *Group, ir *InstanceRefresh, status, reason, event string) {
	now := w.now()
	ir.timers.stopAll()
	ir.Status, ir.StatusReason, ir.EndTime = status, reason, &now
	ir.paused, ir.extra = false, 0
	if status == RefreshSuccessful {
		ir.done = max(ir.done, ir.total)
	}
	w.updateProgress(ir)
	ir.queue, ir.queued, ir.head = nil, map[string]bool{}, 0
	ir.waiting = map[string]bool{}
	if g.active == ir {
		g.active = nil
	}
	if event != "" {
		w.refreshEvent(r, g, ir, event, nil)
	}
	w.reconcile(r, g)
}

// failRefresh fails the current phase: a forward refresh with AutoRollback
// rolls back instead, a rollback ends as RollbackFailed.
func (w *World) failRefresh(r *Region, g *Group, ir *InstanceRefresh, reason string) {
	if g.active != ir {
		return
	}
	switch {
	case ir.phase == 2:
		w.endRefresh(r, g, ir, RefreshRollbackFailed, "The rollback failed: "+reason, "Rollback Failed")
	case ir.Preferences.AutoRollback && w.reversible(r, ir) == nil:
		w.startRollback(r, g, ir, "The instance refresh failed and was rolled back automatically: "+reason)
	default:
		w.endRefresh(r, g, ir, RefreshFailed, reason, "Failed")
	}
}

// startRollback turns the refresh around: every instance not on the saved
// configuration is replaced from it, with the same preferences.
func (w *World) startRollback(r *Region, g *Group, ir *InstanceRefresh, reason string) {
	ir.timers.stopAll()
	w.updateProgress(ir)
	ir.Rollback = &RollbackDetails{
		RollbackReason:               reason,
		RollbackStartTime:            w.now(),
		PercentageCompleteOnRollback: ir.PercentageComplete,
		InstancesToUpdateOnRollback:  ir.InstancesToUpdate,
	}
	ir.Status, ir.StatusReason = RefreshRollbackInProgress, reason
	ir.phase, ir.paused, ir.extra = 2, false, 0
	ir.queue, ir.queued, ir.head = nil, map[string]bool{}, 0
	ir.waiting = map[string]bool{}
	ir.done, ir.lastDone, ir.started = 0, 0, 0
	savedKey := w.sourceKey(r, ir.Saved)
	for _, gi := range g.sortedInstances() {
		w.tally(g, gi)
		// AWS replaces the instances the refresh replaced: those off the saved
		// configuration, and those it launched even on the same one (a
		// refresh without SkipMatching, e.g. a recycle).
		if gi.counted && (gi.key() != savedKey || gi.launchedBy == ir) {
			ir.enqueue(gi.InstanceID)
		}
	}
	ir.total = len(ir.queue)
	w.updateProgress(ir)
	w.refreshEvent(r, g, ir, "Rollback Started", nil)
	w.armStall(r, g, ir)
	w.refreshStep(r, g)
}

// updateProgress refreshes PercentageComplete and InstancesToUpdate. While
// rolling back, the percentage falls from its value at the start of the
// rollback to zero, as AWS documents.
func (w *World) updateProgress(ir *InstanceRefresh) {
	done := min(max(ir.done, 0), ir.total)
	remaining := ir.total - done
	ir.InstancesToUpdate = int32(remaining)
	switch {
	case ir.phase == 2 && ir.Rollback != nil:
		if ir.total == 0 {
			ir.PercentageComplete = 0
		} else {
			ir.PercentageComplete = int32(int(ir.Rollback.PercentageCompleteOnRollback) * remaining / ir.total)
		}
	case ir.total == 0:
		if ir.Status == RefreshSuccessful || ir.Status == RefreshBaking {
			ir.PercentageComplete = 100
		} else {
			ir.PercentageComplete = 0
		}
	default:
		ir.PercentageComplete = int32(done * 100 / ir.total)
	}
}

// armStall (re)starts the window after which a refresh that makes no
// progress fails.
func (w *World) armStall(r *Region, g *Group, ir *InstanceRefresh) {
	ir.timers.stall.Stop()
	ir.timers.stall = nil
	if g.active != ir || ir.paused || g.suspended(ProcessInstanceRefresh) {
		return
	}
	if ir.Status != RefreshInProgress && ir.Status != RefreshRollbackInProgress {
		return
	}
	window := refreshStallTimeout + secondsOf(ir.Preferences.InstanceWarmup)
	ir.timers.stall = w.schedule(window, "autoscaling refresh stall "+ir.ID, func() {
		ir.timers.stall = nil
		if g.active != ir || ir.paused {
			return
		}
		if waitingOnHooks(g, ir) {
			w.armStall(r, g, ir)
			return
		}
		w.failRefresh(r, g, ir, w.stallReason(g, ir))
	})
}

// stallReason explains why a refresh made no progress for an hour.
func (w *World) stallReason(g *Group, ir *InstanceRefresh) string {
	switch {
	case g.lastLaunchErr != "":
		return "Instance refresh failed: EC2 Auto Scaling could not launch replacement instances for one hour. Last launch error: " + g.lastLaunchErr
	case w.peekQueue(g, ir) == nil && len(ir.waiting) > 0:
		return fmt.Sprintf("Instance refresh failed: %d instances in Standby or protected from scale in were not released within one hour.", len(ir.waiting))
	default:
		return "Instance refresh failed: replacement instances did not become healthy within one hour."
	}
}

// armAlarms polls the refresh's CloudWatch alarms on the clock while it
// moves forward; an alarm in ALARM fails the refresh (and rolls it back
// with AutoRollback).
func (w *World) armAlarms(r *Region, g *Group, ir *InstanceRefresh) {
	if len(ir.Preferences.Alarms) == 0 {
		return
	}
	ir.timers.alarm = w.schedule(alarmPollInterval, "autoscaling refresh alarms "+ir.ID, func() {
		ir.timers.alarm = nil
		if g.active != ir || ir.phase != 1 || (ir.Status != RefreshInProgress && ir.Status != RefreshBaking) {
			return
		}
		var firing []string
		for _, name := range ir.Preferences.Alarms {
			if w.Alarms == nil {
				break
			}
			if state, ok := w.Alarms.AlarmState(r.Name, name); ok && state == AlarmAlarm {
				firing = append(firing, name)
			}
		}
		if len(firing) > 0 {
			w.failRefresh(r, g, ir, fmt.Sprintf("Instance refresh failed: the CloudWatch alarm(s) %s went into ALARM state.", strings.Join(firing, ", ")))
			return
		}
		w.armAlarms(r, g, ir)
	})
}

// transitioning reports whether launches or terminations the refresh
// started are still under way.
func (w *World) transitioning(g *Group, ir *InstanceRefresh) bool {
	for _, gi := range g.Instances {
		if gi.launchedBy == ir && launching(gi.LifecycleState) {
			return true
		}
		if gi.takenOutBy == ir && terminating(gi.LifecycleState) {
			return true
		}
	}
	return false
}
