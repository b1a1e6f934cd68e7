package sim

import (
	"fmt"
	"time"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
)

// What lifecycle hooks do to instances, as the user guide describes it
// ("How lifecycle hooks work", "Complete a lifecycle action", the event
// reference and the troubleshooting page):
//
//   - Launch. Once EC2 reports a launched instance running ("your newly
//     launched instance completes its startup sequence and transitions to a
//     wait state"), a group with launch hooks puts it in Pending:Wait: it
//     counts toward the group's capacity but is not in service, not
//     registered with the group's target groups and not health checked. One
//     lifecycle action starts per launch hook, each with its own token and
//     an "EC2 Instance-launch Lifecycle Action" event. When every action has
//     completed with CONTINUE the instance goes Pending:Proceed and then
//     InService: it is registered with its target groups, and its health
//     check grace period and warmup start only now. Any ABANDON (given, or
//     a timeout's DefaultResult) ends the other actions and terminates the
//     instance; its launch activity ends Cancelled with AWS's reason
//     ("Instance failed to complete user's Lifecycle Action: Lifecycle
//     Action with token ... was abandoned: Lifecycle Action Completed with
//     ABANDON Result", or "...: Heartbeat Timeout"), and the group launches
//     a replacement.
//   - Termination. An instance the group terminates is first deregistered
//     from its target groups (and drained); then, with termination hooks,
//     it waits in Terminating:Wait with one action and one "EC2
//     Instance-terminate Lifecycle Action" event per hook. CONTINUE from
//     every action, or a single ABANDON (which "stops any remaining
//     actions, such as other lifecycle hooks"), moves it to
//     Terminating:Proceed and EC2 terminates it. A forced group deletion
//     skips the hooks and drops the actions outstanding.
//   - Timeouts. Each action times out HeartbeatTimeout after it started or
//     after its last RecordLifecycleActionHeartbeat, and in any case at the
//     hook's global timeout after it started; the hook's DefaultResult then
//     completes it.
//
// The scaling activity of an instance waiting on hooks has the status
// MidLifecycleAction. Events are emitted on every wait, as AWS sends them
// on a best-effort basis and a test wants them all.

// lifecycleAction is one hook's action for one instance.
type lifecycleAction struct {
	token string
	hook  *LifecycleHook
	// transition is the hook's transition when the action started.
	transition string
	// globalEnd is when the action times out whatever its heartbeats.
	globalEnd time.Time
	// timer fires at the heartbeat timeout or the global timeout,
	// whichever comes first.
	timer *clock.Timer
	done  bool
}

// lifecycleActionDetail is the detail of a lifecycle action event, in the
// order of the event reference's examples.
type lifecycleActionDetail struct {
	LifecycleActionToken string `json:"LifecycleActionToken"`
	AutoScalingGroupName string `json:"AutoScalingGroupName"`
	LifecycleHookName    string `json:"LifecycleHookName"`
	EC2InstanceID        string `json:"EC2InstanceId"`
	LifecycleTransition  string `json:"LifecycleTransition"`
	NotificationMetadata string `json:"NotificationMetadata,omitempty"`
	Origin               string `json:"Origin"`
	Destination          string `json:"Destination"`
}

// Detail types of the lifecycle action events.
const (
	launchActionEvent    = "EC2 Instance-launch Lifecycle Action"
	terminateActionEvent = "EC2 Instance-terminate Lifecycle Action"
)

// launched is called when a launched instance's EC2 state becomes
// running: with launch hooks it waits on them, without it goes in service.
func (w *World) launched(r *Region, g *Group, gi *GroupInstance) {
	if gi.LifecycleState != LifecyclePending {
		return
	}
	if w.startActions(r, g, gi, TransitionLaunching) {
		w.refreshStep(r, g)
		return
	}
	w.goInService(r, g, gi)
}

// drainedOut continues a termination once the instance has left its
// target groups: it waits on the termination hooks, if the group has any
// and is not being deleted, and is then terminated.
func (w *World) drainedOut(r *Region, g *Group, gi *GroupInstance) {
	gi.draining = false
	gi.registered = nil
	gi.drainTimer.Stop()
	gi.drainTimer = nil
	if gi.LifecycleState == LifecycleTerminating && g.Status == "" && w.startActions(r, g, gi, TransitionTerminating) {
		return
	}
	w.shutdown(r, g, gi)
}

// startActions puts gi in the wait state of transition when the group has
// hooks for it, starting one action per hook and emitting its event. It
// reports whether it did.
func (w *World) startActions(r *Region, g *Group, gi *GroupInstance, transition string) bool {
	hooks := g.hooksFor(transition)
	if len(hooks) == 0 {
		return false
	}
	state, act, detailType, origin, destination := LifecyclePendingWait, gi.launchAct, launchActionEvent, "EC2", "AutoScalingGroup"
	if transition == TransitionTerminating {
		state, act, detailType, origin, destination = LifecycleTerminatingWait, gi.terminateAct, terminateActionEvent, "AutoScalingGroup", "EC2"
	}
	gi.LifecycleState = state
	w.tally(g, gi)
	if act != nil && act.EndTime == nil {
		act.StatusCode = ActivityMidLifecycleAction
	}
	now := w.now()
	gi.actions = nil
	for _, h := range hooks {
		a := &lifecycleAction{token: w.uuid(), hook: h, transition: transition, globalEnd: now.Add(secondsOf(h.GlobalTimeout()))}
		gi.actions = append(gi.actions, a)
		w.armAction(r, g, gi, a)
	}
	for _, a := range gi.actions {
		d := lifecycleActionDetail{
			LifecycleActionToken: a.token,
			AutoScalingGroupName: g.Name,
			LifecycleHookName:    a.hook.Name,
			EC2InstanceID:        gi.InstanceID,
			LifecycleTransition:  transition,
			Origin:               origin,
			Destination:          destination,
		}
		if a.hook.NotificationMetadata != nil {
			d.NotificationMetadata = *a.hook.NotificationMetadata
		}
		w.emit(r.Name, "aws.autoscaling", detailType, []string{g.ARN}, d)
	}
	return true
}

// armAction (re)starts an action's timeout: the hook's heartbeat timeout
// from now, or its global timeout if that comes first.
func (w *World) armAction(r *Region, g *Group, gi *GroupInstance, a *lifecycleAction) {
	a.timer.Stop()
	now := w.now()
	due, reason := now.Add(secondsOf(a.hook.HeartbeatTimeout)), "Heartbeat Timeout"
	if !due.Before(a.globalEnd) {
		due, reason = a.globalEnd, "Global Timeout"
	}
	a.timer = w.schedule(due.Sub(now), "autoscaling lifecycle action "+a.token, func() {
		a.timer = nil
		if a.done || g.Instances[gi.InstanceID] != gi {
			return
		}
		w.completeAction(r, g, gi, a, a.hook.DefaultResult, reason)
	})
}

// heartbeat records a lifecycle action heartbeat: the heartbeat timeout
// starts again, bounded by the global timeout.
func (w *World) heartbeat(r *Region, g *Group, gi *GroupInstance, a *lifecycleAction) {
	if a.done {
		return
	}
	w.armAction(r, g, gi, a)
}

// completeAction ends one action with result; reason is what the launch
// activity quotes if the instance is abandoned ("Lifecycle Action
// Completed with ABANDON Result", "Heartbeat Timeout").
func (w *World) completeAction(r *Region, g *Group, gi *GroupInstance, a *lifecycleAction, result, reason string) {
	if a.done {
		return
	}
	a.done = true
	a.timer.Stop()
	a.timer = nil
	switch a.transition {
	case TransitionLaunching:
		if gi.LifecycleState != LifecyclePendingWait {
			return
		}
		if result == ResultAbandon {
			w.abandonLaunch(r, g, gi, a, reason)
			return
		}
		if !allDone(gi) {
			return
		}
		gi.actions = nil
		gi.LifecycleState = LifecyclePendingProceed
		w.resumeActivity(gi.launchAct)
		w.tally(g, gi)
		// Pending:Proceed lasts until the clock next runs, so that a caller
		// sees it right after completing the action, as with AWS.
		w.schedule(0, "autoscaling proceed "+gi.InstanceID, func() {
			if g.Instances[gi.InstanceID] == gi && gi.LifecycleState == LifecyclePendingProceed {
				w.goInService(r, g, gi)
			}
		})
	case TransitionTerminating:
		if gi.LifecycleState != LifecycleTerminatingWait {
			return
		}
		if result == ResultContinue && !allDone(gi) {
			return
		}
		w.dropActions(gi)
		gi.LifecycleState = LifecycleTerminatingProceed
		w.resumeActivity(gi.terminateAct)
		w.tally(g, gi)
		w.shutdown(r, g, gi)
	}
}

// allDone reports whether every action of gi has completed.
func allDone(gi *GroupInstance) bool {
	for _, a := range gi.actions {
		if !a.done {
			return false
		}
	}
	return true
}

// dropActions ends every action gi still waits on without a result: the
// instance left its wait some other way (terminated, force-deleted).
func (w *World) dropActions(gi *GroupInstance) {
	for _, a := range gi.actions {
		a.done = true
		a.timer.Stop()
		a.timer = nil
	}
	gi.actions = nil
}

// resumeActivity puts an activity that waited on lifecycle hooks back in
// progress.
func (w *World) resumeActivity(act *Activity) {
	if act != nil && act.EndTime == nil && act.StatusCode == ActivityMidLifecycleAction {
		act.StatusCode = ActivityInProgress
	}
}

// abandonLaunch terminates an instance whose launch action was abandoned;
// its launch activity ends Cancelled with AWS's reason, and the group
// launches a replacement. The instance was never in service, so it has no
// target group to leave, and it is terminated without termination hooks.
func (w *World) abandonLaunch(r *Region, g *Group, gi *GroupInstance, a *lifecycleAction, reason string) {
	w.dropActions(gi)
	msg := fmt.Sprintf("Instance failed to complete user's Lifecycle Action: Lifecycle Action with token %s was abandoned: %s", a.token, reason)
	if act := gi.launchAct; act != nil && act.EndTime == nil {
		act.Description += ".  Status Reason: " + msg
		act.StatusMessage = msg
		w.finishActivity(act, ActivityCancelled)
	}
	gi.LifecycleState = LifecycleTerminating
	gi.Ready = false
	w.tally(g, gi)
	w.shutdown(r, g, gi)
	w.reconcile(r, g)
	w.refreshStep(r, g)
}

// waitingOnHooks reports whether an instance the refresh launched or took
// out of service waits on lifecycle hooks: the refresh then waits for the
// hooks, whose own timeouts bound the wait, instead of counting the time
// against its retry window.
func waitingOnHooks(g *Group, ir *InstanceRefresh) bool {
	for _, gi := range g.Instances {
		switch {
		case gi.launchedBy == ir && (gi.LifecycleState == LifecyclePendingWait || gi.LifecycleState == LifecyclePendingProceed):
			return true
		case gi.takenOutBy == ir && gi.LifecycleState == LifecycleTerminatingWait:
			return true
		}
	}
	return false
}
