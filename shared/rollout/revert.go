package rollout

import (
	"fmt"
	"strconv"
)

// RevertPhase is where a revert stands; the state machine routes on it.
type RevertPhase string

// The revert phases.
const (
	// RevertRollback: AWS is rolling the refresh back (native rollback
	// restores the configuration saved when the refresh started).
	RevertRollback RevertPhase = "rollback"
	// RevertCancel: the refresh is being cancelled, to be followed by a
	// refresh back if any instance left the target version.
	RevertCancel RevertPhase = "cancel"
	// RevertRefreshBack: a new refresh to the target version runs.
	RevertRefreshBack RevertPhase = "refresh-back"
	// RevertDone: the fleet is back on the target version.
	RevertDone RevertPhase = "done"
)

// RevertInput is what the revert decision looks at.
type RevertInput struct {
	Rollout Rollout
	// Refresh is the rollout's forward refresh as it stands now; nil when
	// none was started.
	Refresh *Refresh
	// Back is the refresh back, once one was started.
	Back *Refresh
	// Phase is the phase reached so far ("" before the revert started).
	Phase RevertPhase
	// Target is the version to return to: last-known-good, else the
	// version the rollout started from.
	Target Version
	// Group is the group now, with its instances.
	Group Group
}

// RevertStep is the next thing a revert does, and why.
type RevertStep struct {
	Phase RevertPhase
	// Act is true when the phase's AWS call must be made now (start a
	// rollback, cancel, start a refresh back); false when it is already
	// under way or done.
	Act    bool
	Reason string
	// On is the version the fleet is back on when the phase is done: the
	// rollout's From after a native rollback, the target otherwise.
	On Version
}

// NextRevertStep decides the revert's next step. A refresh that still runs
// and is rollback-eligible is rolled back natively; one that runs but is not
// eligible is cancelled. After a rollback failed, or once the forward
// refresh has ended (successful, failed, cancelled), the fleet is refreshed
// back to the target unless the group launches it and every instance
// already runs it. The revert is done when the fleet is back on the target
// version, configuration and instances. A refresh back that
// ends in anything but success, or leaves instances off the target, makes
// the revert fail (*RevertFailedError): a human must look.
func NextRevertStep(in RevertInput) (RevertStep, error) {
	if in.Phase == RevertRefreshBack {
		return refreshBackStep(in)
	}
	if in.Refresh == nil {
		return RevertStep{Phase: RevertDone, On: in.Rollout.From, Reason: "no instance refresh was started, so no instance changed"}, nil
	}
	r := *in.Refresh
	switch r.Status {
	case RefreshRollbackInProgress:
		return RevertStep{Phase: RevertRollback, Reason: fmt.Sprintf("refresh %s is rolling back", r.ID)}, nil
	case RefreshRollbackSuccessful:
		if onVersion(in.Group, in.Rollout.From) {
			return RevertStep{Phase: RevertDone, On: in.Rollout.From, Reason: fmt.Sprintf("refresh %s rolled back to version %d", r.ID, in.Rollout.From.Number)}, nil
		}
	case RefreshCancelling:
		return RevertStep{Phase: RevertCancel, Reason: fmt.Sprintf("refresh %s is being cancelled", r.ID)}, nil
	case RefreshPending, RefreshInProgress, RefreshBaking:
		if r.RollbackEligible {
			return RevertStep{Phase: RevertRollback, Act: in.Phase != RevertRollback, Reason: fmt.Sprintf("refresh %s is still running and can be rolled back", r.ID)}, nil
		}
		return RevertStep{Phase: RevertCancel, Act: in.Phase != RevertCancel, Reason: fmt.Sprintf("refresh %s is still running and cannot be rolled back", r.ID)}, nil
	}
	// The forward refresh has ended: successful (no rollback after
	// success), failed, cancelled, or a rollback that failed or left
	// instances behind.
	if onVersion(in.Group, in.Target) {
		return RevertStep{Phase: RevertDone, On: in.Target, Reason: fmt.Sprintf("refresh %s is %s and every instance runs version %d", r.ID, r.Status, in.Target.Number)}, nil
	}
	return RevertStep{Phase: RevertRefreshBack, Act: true, Reason: fmt.Sprintf("refresh %s is %s; refreshing back to version %d", r.ID, r.Status, in.Target.Number)}, nil
}

func refreshBackStep(in RevertInput) (RevertStep, error) {
	fail := func(reason string) (RevertStep, error) {
		return RevertStep{}, &RevertFailedError{RolloutID: in.Rollout.ID, Reason: reason}
	}
	if in.Back == nil {
		return RevertStep{Phase: RevertRefreshBack, Act: true, Reason: "the refresh back has not started"}, nil
	}
	b := *in.Back
	switch {
	case b.Status == RefreshSuccessful && onVersion(in.Group, in.Target):
		return RevertStep{Phase: RevertDone, On: in.Target, Reason: fmt.Sprintf("refresh %s brought every instance back to version %d", b.ID, in.Target.Number)}, nil
	case b.Status == RefreshSuccessful:
		return fail(fmt.Sprintf("refresh back %s succeeded but instances remain off version %d (standby or scale-in protected?)", b.ID, in.Target.Number))
	case RefreshActive(b.Status) && b.Status != RefreshCancelling:
		return RevertStep{Phase: RevertRefreshBack, Reason: fmt.Sprintf("refresh back %s is %s", b.ID, b.Status)}, nil
	}
	reason := b.StatusReason
	if reason == "" {
		reason = "no reason given"
	}
	return fail(fmt.Sprintf("refresh back %s to version %d ended %s: %s", b.ID, in.Target.Number, b.Status, reason))
}

// onVersion reports whether the group is back on v: it launches v (its
// launch template version as written is v's number), and every instance
// that is not leaving runs v. The first half matters as much as the second:
// a group with no instance has none off v, yet after a successful refresh
// it still launches the version being reverted, which its next scale-out
// would bring into service.
func onVersion(g Group, v Version) bool {
	want := strconv.FormatInt(v.Number, 10)
	if g.LaunchTemplateID != v.LaunchTemplateID || g.LaunchTemplateVersion != want {
		return false
	}
	for _, in := range g.Instances {
		if !leaving(in) && in.LaunchTemplateVersion != want {
			return false
		}
	}
	return true
}
