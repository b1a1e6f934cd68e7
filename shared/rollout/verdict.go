package rollout

import (
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Verdict is the outcome of validating the fleet.
type Verdict string

// The verdicts. Inconclusive is rechecked a bounded number of times by the
// state machine. Unvalidated means there was nothing to judge: the group
// has no instance (desired capacity 0), so no instance runs the new
// version. It is never a pass: at the end of a refresh it pins the group
// instead of finalizing it (docs/design.md, "Pinned").
const (
	VerdictPass         Verdict = "pass"
	VerdictFail         Verdict = "fail"
	VerdictInconclusive Verdict = "inconclusive"
	VerdictUnvalidated  Verdict = "unvalidated"
)

// ValidationInput is what validation looks at.
type ValidationInput struct {
	Group Group
	// Targets are the instances' states in every target group of the group.
	Targets []TargetState
	// Alarms are the guard alarms' states; GuardAlarms names them.
	Alarms      map[string]string
	GuardAlarms []string
	// To is the version being rolled in.
	To Version
	// Since, when set, counts only instances launched at or after it as
	// new: a recycle keeps the version number, so age tells new from old.
	Since  time.Time
	Warmup time.Duration
	Now    time.Time
}

// Validation is a verdict with its reasons, as sentences for the ledger.
type Validation struct {
	Verdict Verdict  `json:"verdict"`
	Reasons []string `json:"reasons"`
	// New and Ready count the instances on the new version and those of
	// them serving.
	New   int `json:"new"`
	Ready int `json:"ready"`
}

// Validate judges the fleet. It fails on a guard alarm in ALARM (or gone),
// and on a new instance that is unhealthy after its warmup, in the group or
// in any target group; it is inconclusive while new instances are pending,
// initial or still warming up, or when none runs the new version yet while
// the group wants instances; it is unvalidated when no new instance is
// there to judge because the group wants none (a validation of nothing is
// never a pass); it passes when at least one new instance runs and every
// new instance is InService, healthy, and healthy in every target group,
// and no guard alarm is in ALARM.
func Validate(in ValidationInput) Validation {
	var v Validation
	var fails, waits []string
	for _, name := range in.GuardAlarms {
		state, ok := in.Alarms[name]
		switch {
		case !ok:
			fails = append(fails, fmt.Sprintf("guard alarm %s no longer exists.", name))
		case state == alarmStateAlarm:
			fails = append(fails, fmt.Sprintf("guard alarm %s is in ALARM.", name))
		}
	}
	byInstance := map[string][]TargetState{}
	for _, t := range in.Targets {
		byInstance[t.InstanceID] = append(byInstance[t.InstanceID], t)
	}
	want := strconv.FormatInt(in.To.Number, 10)
	for _, inst := range in.Group.Instances {
		if inst.LaunchTemplateVersion != want || (!in.Since.IsZero() && inst.LaunchTime.Before(in.Since)) {
			continue
		}
		if leaving(inst) && inst.Health == healthHealthy {
			// Scale-in or the refresh's own churn: not evidence either way.
			continue
		}
		v.New++
		warm := !in.Now.Before(inst.LaunchTime.Add(in.Warmup))
		problem, waiting := instanceProblem(inst, in.Group.TargetGroupARNs, byInstance[inst.ID])
		switch {
		case problem == "":
			v.Ready++
		case waiting || !warm:
			waits = append(waits, problem)
		default:
			fails = append(fails, problem)
		}
	}
	switch {
	case len(fails) > 0:
		v.Verdict, v.Reasons = VerdictFail, fails
	case len(waits) > 0:
		v.Verdict, v.Reasons = VerdictInconclusive, waits
	case v.New == 0 && in.Group.Desired > 0:
		v.Verdict = VerdictInconclusive
		v.Reasons = []string{fmt.Sprintf("no instance runs launch template version %d yet.", in.To.Number)}
	case v.New == 0:
		v.Verdict = VerdictUnvalidated
		v.Reasons = []string{fmt.Sprintf("the group has no instance (desired capacity 0), so nothing running launch template version %d could be judged.", in.To.Number)}
	default:
		v.Verdict = VerdictPass
		v.Reasons = []string{fmt.Sprintf("all %d new instance(s) on version %d are in service and healthy in every target group, and no guard alarm is in ALARM.", v.New, in.To.Number)}
	}
	return v
}

// instanceProblem describes what keeps a new instance from serving, and
// whether that is waiting (it may still come right) rather than unhealth.
func instanceProblem(inst Instance, targetGroups []string, states []TargetState) (string, bool) {
	if inst.Health != "" && inst.Health != healthHealthy {
		return fmt.Sprintf("new instance %s is %s in the group.", inst.ID, inst.Health), false
	}
	if leaving(inst) {
		return fmt.Sprintf("new instance %s is %s.", inst.ID, inst.Lifecycle), false
	}
	if inst.Lifecycle != lifecycleInService {
		return fmt.Sprintf("new instance %s is %s, not yet InService.", inst.ID, inst.Lifecycle), true
	}
	for _, tg := range targetGroups {
		i := slices.IndexFunc(states, func(s TargetState) bool { return s.TargetGroupARN == tg })
		if i < 0 {
			return fmt.Sprintf("new instance %s is not yet registered in target group %s.", inst.ID, tg), true
		}
		s := states[i]
		switch s.State {
		case targetHealthy:
		case targetInitial:
			return fmt.Sprintf("new instance %s is still initial in target group %s.", inst.ID, tg), true
		case targetUnhealthy:
			return fmt.Sprintf("new instance %s is unhealthy in target group %s (%s).", inst.ID, tg, s.Reason), false
		default:
			return fmt.Sprintf("new instance %s is %s in target group %s.", inst.ID, s.State, tg), true
		}
	}
	return "", false
}
