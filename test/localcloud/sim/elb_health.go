package sim

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
)

// Target health reason codes and the descriptions DescribeTargetHealth
// gives with them, from the Application Load Balancer user guide.
const (
	ReasonRegistrationInProgress   = "Elb.RegistrationInProgress"
	ReasonInitialHealthChecking    = "Elb.InitialHealthChecking"
	ReasonResponseCodeMismatch     = "Target.ResponseCodeMismatch"
	ReasonTimeout                  = "Target.Timeout"
	ReasonFailedHealthChecks       = "Target.FailedHealthChecks"
	ReasonNotRegistered            = "Target.NotRegistered"
	ReasonNotInUse                 = "Target.NotInUse"
	ReasonDeregistrationInProgress = "Target.DeregistrationInProgress"
	ReasonInvalidState             = "Target.InvalidState"
)

var reasonText = map[string]string{
	ReasonRegistrationInProgress:   "Target registration is in progress",
	ReasonInitialHealthChecking:    "Initial health checks in progress",
	ReasonTimeout:                  "Request timed out",
	ReasonFailedHealthChecks:       "Health checks failed",
	ReasonNotRegistered:            "Target is not registered to the target group",
	ReasonNotInUse:                 "Target group is not configured to receive traffic from the load balancer",
	ReasonDeregistrationInProgress: "Target deregistration is in progress",
}

// targetChange is a target whose health changed, to be told to the Auto
// Scaling side once the model is consistent.
type targetChange struct {
	tg *TargetGroup
	t  *Target
}

// stopTimers cancels a target's pending health check and draining end.
func (t *Target) stopTimers() {
	if t.checkTimer != nil {
		t.checkTimer.Stop()
		t.checkTimer = nil
	}
	if t.drainTimer != nil {
		t.drainTimer.Stop()
		t.drainTimer = nil
	}
}

// setHealth changes a target's state and reason; it reports whether
// anything changed. The description follows the reason unless given.
func (t *Target) setHealth(state, reason, desc string) bool {
	if desc == "" {
		desc = reasonText[reason]
	}
	if t.State == state && t.Reason == reason && t.Description == desc {
		return false
	}
	t.State, t.Reason, t.Description = state, reason, desc
	return true
}

// tgLoadBalancers returns the ARNs of the load balancers whose listeners
// forward to tg.
func (w *World) tgLoadBalancers(r *Region, tg *TargetGroup) []string {
	var out []string
	for _, l := range w.listenersOf(r) {
		if contains(l.TargetGroupARNs, tg.ARN) && !contains(out, l.LoadBalancerARN) {
			out = append(out, l.LoadBalancerARN)
		}
	}
	sort.Strings(out)
	return out
}

// tgInUse reports whether a listener forwards to tg: only then does the
// load balancer health check its targets.
func (w *World) tgInUse(r *Region, tg *TargetGroup) bool {
	for _, l := range w.listenersOf(r) {
		if contains(l.TargetGroupARNs, tg.ARN) {
			return true
		}
	}
	return false
}

// invalidStateText describes a target whose instance cannot be checked.
func invalidStateText(inst *Instance) string {
	return fmt.Sprintf("Target is in the %s state", inst.State)
}

// instanceGone reports whether an instance is in a state the load balancer
// does not check (stopped or terminated) or no longer exists.
func instanceGone(inst *Instance) bool {
	return inst == nil || inst.State == InstanceTerminated || inst.State == InstanceStopped || inst.State == InstanceStopping
}

// beginRegistration puts a target in its starting state: initial while the
// target group is used by a listener (the first check one interval later),
// unused otherwise.
func (w *World) beginRegistration(r *Region, tg *TargetGroup, t *Target) bool {
	t.stopTimers()
	t.okRun, t.failRun, t.Checks = 0, 0, 0
	inst := r.Instances[t.ID]
	switch {
	case instanceGone(inst):
		return t.setHealth(TargetUnused, ReasonInvalidState, invalidStateText(inst))
	case !w.tgInUse(r, tg):
		return t.setHealth(TargetUnused, ReasonNotInUse, "")
	}
	w.scheduleCheck(r, tg, t)
	return t.setHealth(TargetInitial, ReasonRegistrationInProgress, "")
}

// scheduleCheck schedules the target's next health check one interval on.
func (w *World) scheduleCheck(r *Region, tg *TargetGroup, t *Target) {
	d := time.Duration(tg.HealthCheck.IntervalSeconds) * time.Second
	t.checkTimer = w.schedule(d, "elb health check "+t.ID, func() { w.runCheck(r, tg, t) })
}

// runCheck performs one health check of t and applies the thresholds.
func (w *World) runCheck(r *Region, tg *TargetGroup, t *Target) {
	t.checkTimer = nil
	if r.TargetGroups[tg.ARN] != tg || tg.Targets[t.ID] != t || t.State == TargetDraining || t.State == TargetUnused {
		return
	}
	inst := r.Instances[t.ID]
	if instanceGone(inst) {
		return
	}
	w.scheduleCheck(r, tg, t)
	if inst.State == InstancePending {
		// The load balancer finishes registering a target only once its
		// instance runs; until then the target stays in registration.
		return
	}
	t.Checks++
	pass, reason, desc := w.probeTarget(tg, inst)
	if pass {
		t.okRun++
		t.failRun = 0
	} else {
		t.failRun++
		t.okRun = 0
	}
	hc := tg.HealthCheck
	changed := false
	switch t.State {
	case TargetInitial:
		switch {
		case pass:
			changed = t.setHealth(TargetHealthy, "", "")
		case t.failRun >= int(hc.UnhealthyThreshold):
			changed = t.setHealth(TargetUnhealthy, reason, desc)
		default:
			changed = t.setHealth(TargetInitial, ReasonInitialHealthChecking, "")
		}
	case TargetHealthy:
		if !pass && t.failRun >= int(hc.UnhealthyThreshold) {
			changed = t.setHealth(TargetUnhealthy, reason, desc)
		}
	case TargetUnhealthy:
		switch {
		case pass && t.okRun >= int(hc.HealthyThreshold):
			changed = t.setHealth(TargetHealthy, "", "")
		case !pass:
			changed = t.setHealth(TargetUnhealthy, reason, desc)
		}
	}
	if changed {
		w.onTargetHealthChange(r, tg, t)
	}
}

// probeTarget asks the instance behind a target for the health check path
// and judges the answer against the matcher. A health-flap fault for the
// instance or the target group makes the check time out.
func (w *World) probeTarget(tg *TargetGroup, inst *Instance) (pass bool, reason, desc string) {
	if _, hit := w.Faults.Model(faults.HealthFlap, inst.ID, tg.ARN); hit {
		return false, ReasonTimeout, ""
	}
	p := inst.answer(w.now())
	switch {
	case p.refused:
		return false, ReasonFailedHealthChecks, ""
	case p.timeout:
		return false, ReasonTimeout, ""
	case !matcherAccepts(tg.HealthCheck.Matcher, p.code):
		return false, ReasonResponseCodeMismatch, fmt.Sprintf("Health checks failed with these codes: [%d]", p.code)
	}
	return true, "", ""
}

// targetsFollowInstance updates the targets of inst after its state
// changed: a stopped or terminated instance's targets become unused with
// Target.InvalidState (draining targets finish draining). It returns the
// targets whose health changed, for the caller to report.
func (w *World) targetsFollowInstance(r *Region, inst *Instance) []targetChange {
	var changed []targetChange
	for _, tg := range sortedTGs(r) {
		t, ok := tg.Targets[inst.ID]
		if !ok || t.State == TargetDraining {
			continue
		}
		if instanceGone(inst) {
			if t.checkTimer != nil {
				t.checkTimer.Stop()
				t.checkTimer = nil
			}
			if t.setHealth(TargetUnused, ReasonInvalidState, invalidStateText(inst)) {
				changed = append(changed, targetChange{tg, t})
			}
		}
	}
	return changed
}

// sortedTGs returns the region's target groups in creation order, so that
// callbacks run in the same order on every run.
func sortedTGs(r *Region) []*TargetGroup {
	out := make([]*TargetGroup, 0, len(r.TargetGroups))
	for _, tg := range r.TargetGroups {
		out = append(out, tg)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// sortedTargets returns a target group's targets ordered by id.
func sortedTargets(tg *TargetGroup) []*Target {
	out := make([]*Target, 0, len(tg.Targets))
	for _, t := range tg.Targets {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// tgUseChanged re-evaluates the targets of the given target groups after a
// listener was added or removed: a group that became used starts checking
// its targets; one no longer used makes them unused.
func (w *World) tgUseChanged(r *Region, arns []string) {
	var changed []targetChange
	for _, tg := range sortedTGs(r) {
		if !contains(arns, tg.ARN) {
			continue
		}
		inUse := w.tgInUse(r, tg)
		for _, t := range sortedTargets(tg) {
			if t.State == TargetDraining {
				continue
			}
			switch {
			case inUse && t.Reason == ReasonNotInUse:
				if w.beginRegistration(r, tg, t) {
					changed = append(changed, targetChange{tg, t})
				}
			case !inUse && t.Reason != ReasonNotInUse && t.State != TargetUnused:
				t.stopTimers()
				if t.setHealth(TargetUnused, ReasonNotInUse, "") {
					changed = append(changed, targetChange{tg, t})
				}
			}
		}
	}
	for _, c := range changed {
		w.onTargetHealthChange(r, c.tg, c.t)
	}
}

// registerTarget registers an instance with a target group (port 0 means
// the group's port). Registering a target that is already registered
// changes nothing; registering a draining one starts a new registration.
// The error is an *api.Error with Elastic Load Balancing's code.
func (w *World) registerTarget(r *Region, tgARN, instanceID string, port int32) error {
	tg, err := findTG(r, tgARN)
	if err != nil {
		return err
	}
	if port == 0 {
		port = tg.Port
	}
	if port < 1 || port > 65535 {
		return api.Validation("Port must be between 1 and 65535")
	}
	inst, ok := r.Instances[instanceID]
	if !ok || !instanceIDPattern.MatchString(instanceID) {
		return elbErr("InvalidTarget", "The following targets are not valid instances: '%s'", instanceID)
	}
	if inst.State != InstancePending && inst.State != InstanceRunning {
		return elbErr("InvalidTarget", "The following targets are not in a running state and cannot be registered: '%s'", instanceID)
	}
	if t, ok := tg.Targets[instanceID]; ok && t.State != TargetDraining && t.Port == port {
		return nil
	}
	t, ok := tg.Targets[instanceID]
	if !ok {
		t = &Target{ID: instanceID}
		tg.Targets[instanceID] = t
	}
	t.Port = port
	t.AZ = inst.AZ
	t.RegisteredAt = w.now()
	if w.beginRegistration(r, tg, t) {
		w.onTargetHealthChange(r, tg, t)
	}
	return nil
}

// deregisterTarget starts deregistering an instance from a target group:
// the target drains for the group's deregistration_delay.timeout_seconds
// (immediately removed when the delay is 0 or no listener uses the group).
func (w *World) deregisterTarget(r *Region, tgARN, instanceID string) error {
	tg, err := findTG(r, tgARN)
	if err != nil {
		return err
	}
	t, ok := tg.Targets[instanceID]
	if !ok {
		return elbErr("InvalidTarget", "The following targets are not registered: '%s'", instanceID)
	}
	if t.State == TargetDraining {
		return nil
	}
	t.stopTimers()
	delay, _ := strconv.Atoi(tg.Attributes["deregistration_delay.timeout_seconds"])
	if delay == 0 || !w.tgInUse(r, tg) {
		w.forgetTarget(r, tg, t)
		return nil
	}
	t.setHealth(TargetDraining, ReasonDeregistrationInProgress, "")
	t.drainTimer = w.schedule(time.Duration(delay)*time.Second, "elb drained "+t.ID, func() {
		t.drainTimer = nil
		if tg.Targets[t.ID] == t && t.State == TargetDraining {
			w.forgetTarget(r, tg, t)
		}
	})
	w.onTargetHealthChange(r, tg, t)
	return nil
}

// forgetTarget removes a target; the Auto Scaling side is told it is now
// unused and not registered.
func (w *World) forgetTarget(r *Region, tg *TargetGroup, t *Target) {
	t.stopTimers()
	delete(tg.Targets, t.ID)
	t.setHealth(TargetUnused, ReasonNotRegistered, "")
	w.onTargetHealthChange(r, tg, t)
}

// targetHealth returns the target's state and reason code in a target
// group; ok is false when the target group does not exist. A target that is
// not registered is unused with Target.NotRegistered.
func (w *World) targetHealth(r *Region, tgARN, instanceID string) (state, reason string, ok bool) {
	tg, found := r.TargetGroups[tgARN]
	if !found {
		return "", "", false
	}
	t, found := tg.Targets[instanceID]
	if !found {
		return TargetUnused, ReasonNotRegistered, true
	}
	return t.State, t.Reason, true
}

// targetDescriptions checks a RegisterTargets or DeregisterTargets list.
func targetDescriptions(targets []elbtypes.TargetDescription) error {
	if len(targets) == 0 {
		return api.Validation("Targets must be specified")
	}
	for _, t := range targets {
		if aws.ToString(t.Id) == "" {
			return api.Validation("A target ID must be specified")
		}
	}
	return nil
}

// RegisterTargets registers instances (pending or running) with a target
// group. Every target is checked before any is registered.
func (e *ELB) RegisterTargets(ctx context.Context, in *elb.RegisterTargetsInput, _ ...func(*elb.Options)) (*elb.RegisterTargetsOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	if _, err := findTG(r, aws.ToString(in.TargetGroupArn)); err != nil {
		return nil, err
	}
	if err := targetDescriptions(in.Targets); err != nil {
		return nil, err
	}
	var bad, stopped []string
	for _, t := range in.Targets {
		id := aws.ToString(t.Id)
		inst, ok := r.Instances[id]
		switch {
		case !ok:
			bad = append(bad, id)
		case inst.State != InstancePending && inst.State != InstanceRunning:
			stopped = append(stopped, id)
		}
		if p := aws.ToInt32(t.Port); t.Port != nil && (p < 1 || p > 65535) {
			return nil, api.Validation("Port must be between 1 and 65535")
		}
	}
	if len(bad) > 0 {
		return nil, elbErr("InvalidTarget", "The following targets are not valid instances: '%s'", strings.Join(bad, "', '"))
	}
	if len(stopped) > 0 {
		return nil, elbErr("InvalidTarget", "The following targets are not in a running state and cannot be registered: '%s'", strings.Join(stopped, "', '"))
	}
	for _, t := range in.Targets {
		// Checked above; an error here would be a bug, returned as is so
		// the client still sees an AWS error.
		if err := w.registerTarget(r, aws.ToString(in.TargetGroupArn), aws.ToString(t.Id), aws.ToInt32(t.Port)); err != nil {
			return nil, err
		}
	}
	return &elb.RegisterTargetsOutput{}, nil
}

// DeregisterTargets deregisters targets: each drains for the target
// group's deregistration delay, then is removed.
func (e *ELB) DeregisterTargets(ctx context.Context, in *elb.DeregisterTargetsInput, _ ...func(*elb.Options)) (*elb.DeregisterTargetsOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	tg, err := findTG(r, aws.ToString(in.TargetGroupArn))
	if err != nil {
		return nil, err
	}
	if err := targetDescriptions(in.Targets); err != nil {
		return nil, err
	}
	var missing []string
	for _, t := range in.Targets {
		if _, ok := tg.Targets[aws.ToString(t.Id)]; !ok {
			missing = append(missing, aws.ToString(t.Id))
		}
	}
	if len(missing) > 0 {
		return nil, elbErr("InvalidTarget", "The following targets are not registered: '%s'", strings.Join(missing, "', '"))
	}
	for _, t := range in.Targets {
		if err := w.deregisterTarget(r, tg.ARN, aws.ToString(t.Id)); err != nil {
			return nil, err
		}
	}
	return &elb.DeregisterTargetsOutput{}, nil
}

// DescribeTargetHealth describes the health of a target group's targets,
// or of the given ones (a given target that is not registered is unused
// with Target.NotRegistered). Healthy targets carry neither reason nor
// description, as in ELB.
func (e *ELB) DescribeTargetHealth(ctx context.Context, in *elb.DescribeTargetHealthInput, _ ...func(*elb.Options)) (*elb.DescribeTargetHealthOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	tg, err := findTG(r, aws.ToString(in.TargetGroupArn))
	if err != nil {
		return nil, err
	}
	out := &elb.DescribeTargetHealthOutput{TargetHealthDescriptions: []elbtypes.TargetHealthDescription{}}
	describe := func(id string, port int32, t *Target) {
		hp := tg.HealthCheck.Port
		if hp == "traffic-port" {
			hp = strconv.Itoa(int(port))
		}
		d := elbtypes.TargetHealthDescription{
			Target:          &elbtypes.TargetDescription{Id: aws.String(id), Port: aws.Int32(port)},
			HealthCheckPort: aws.String(hp),
			TargetHealth:    &elbtypes.TargetHealth{},
		}
		if t == nil {
			d.TargetHealth.State = elbtypes.TargetHealthStateEnumUnused
			d.TargetHealth.Reason = elbtypes.TargetHealthReasonEnum(ReasonNotRegistered)
			d.TargetHealth.Description = aws.String(reasonText[ReasonNotRegistered])
		} else {
			d.Target.AvailabilityZone = aws.String(t.AZ)
			d.TargetHealth.State = elbtypes.TargetHealthStateEnum(t.State)
			if t.Reason != "" {
				d.TargetHealth.Reason = elbtypes.TargetHealthReasonEnum(t.Reason)
				d.TargetHealth.Description = aws.String(t.Description)
			}
		}
		out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, d)
	}
	if len(in.Targets) == 0 {
		for _, t := range sortedTargets(tg) {
			describe(t.ID, t.Port, t)
		}
		return out, nil
	}
	for _, td := range in.Targets {
		id := aws.ToString(td.Id)
		if _, ok := r.Instances[id]; !ok {
			return nil, elbErr("InvalidTarget", "The following targets are not valid instances: '%s'", id)
		}
		port := aws.ToInt32(td.Port)
		if port == 0 {
			port = tg.Port
		}
		t := tg.Targets[id]
		if t != nil && td.Port != nil && t.Port != port {
			t = nil
		}
		if t != nil {
			port = t.Port
		}
		describe(id, port, t)
	}
	return out, nil
}

// TargetGroupHealthCounts returns how many of a target group's targets are
// healthy and how many unhealthy (initial, draining and unused targets are
// neither), as CloudWatch's HealthyHostCount and UnHealthyHostCount count
// them. ok is false when the target group does not exist.
func (w *World) TargetGroupHealthCounts(region, arn string) (healthy, unhealthy int, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	tg, found := w.region(region).TargetGroups[arn]
	if !found {
		return 0, 0, false
	}
	for _, t := range tg.Targets {
		switch t.State {
		case TargetHealthy:
			healthy++
		case TargetUnhealthy:
			unhealthy++
		}
	}
	return healthy, unhealthy, true
}
