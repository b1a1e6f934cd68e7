package alarms

import (
	"fmt"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Action is what Phoenix does about an alarm for one group.
type Action string

// The actions (docs/alarms.md, "Decision").
const (
	// ActionSignal records an alarm signal for the rollout in flight and
	// resumes its parked task, so that Revert starts at once (a recycle
	// stops on its own version).
	ActionSignal Action = "signal"
	// ActionRevert starts a revert rollout to the version the group ran
	// before a rollout that finalized within its guard window.
	ActionRevert Action = "revert"
	// ActionNotify changes nothing and tells people why.
	ActionNotify Action = "notify"
	// ActionNone changes nothing and only logs: a revert is already under
	// way, and Phoenix never reverts a revert.
	ActionNone Action = "none"
)

// GroupState is what the decision reads of a group.
type GroupState struct {
	// Active is the rollout holding the group's lease, nil if none.
	Active *rollout.Rollout
	// Latest is the group's most recent rollout in its history (which
	// may be Active), nil if Phoenix never rolled the group.
	Latest *rollout.Rollout
	// Policy is the group's policy (its GuardWindow matters here).
	Policy rollout.Policy
}

// Decision is what to do about an alarm for one group, and why.
type Decision struct {
	Action Action
	// Reason is a sentence for logs and notifications.
	Reason string
	// Rollout is the rollout the decision is about (zero if none).
	Rollout rollout.Rollout
	// RevertTo is the version a revert rollout goes to (ActionRevert).
	RevertTo rollout.Version
}

// Decide chooses what Phoenix does about an alarm that went into ALARM at
// ev.At for a group it manages:
//
//   - a rollout in flight (lease held; preparing or refreshing) of mode
//     image or recycle: signal it;
//   - a rollout reverting, or a revert rollout in flight: nothing (never
//     revert a revert);
//   - no rollout in flight, and the latest rollout is a finalized rolling
//     image rollout whose guard window (EndedAt + Policy.GuardWindow)
//     holds the alarm's time: start a revert to the version it rolled
//     from (a blue/green rollout held its guard window in flight);
//   - otherwise: notify only.
//
// An alarm that went into ALARM before the rollout concerned started is
// not blamed on it (a late delivery of an older alarm): notify only.
func Decide(ev Event, st GroupState) Decision {
	if a := st.Active; a != nil && !a.Status.Terminal() {
		return decideInFlight(ev, *a)
	}
	last := st.Latest
	if last == nil {
		return Decision{Action: ActionNotify, Reason: "Phoenix has no rollout of this group on record, so there is nothing to revert."}
	}
	r := *last
	d := Decision{Action: ActionNotify, Rollout: r}
	switch {
	case !r.Status.Terminal():
		// History shows a rollout that holds no lease and never ended: an
		// execution that died. Acting on a record Phoenix cannot trust
		// could move the fleet the wrong way.
		d.Reason = fmt.Sprintf("The latest rollout %s is %s but holds no lease; Phoenix does not act on a rollout it cannot account for.", r.ID, r.Status)
	case r.Status == rollout.StatusPinned:
		d.Reason = fmt.Sprintf("The latest rollout %s ended pinned to version %d, not validated (the group had no instance); Phoenix reverts only finalized rollouts: phoenix rollback takes the group back to version %d.",
			r.ID, r.To.Number, r.From.Number)
	case r.Status != rollout.StatusFinalized:
		d.Reason = fmt.Sprintf("The latest rollout %s ended %s, so the group already runs what it ran before it; there is nothing to revert.", r.ID, r.Status)
	case r.Mode == rollout.ModeRecycle:
		d.Reason = fmt.Sprintf("The latest rollout %s was a recycle on version %d; it changed no version, so there is none to revert to.", r.ID, r.To.Number)
	case r.Mode == rollout.ModeRevert:
		d.Reason = fmt.Sprintf("The latest rollout %s was itself a revert to version %d; Phoenix never reverts a revert.", r.ID, r.To.Number)
	case r.Mode != rollout.ModeImage:
		d.Reason = fmt.Sprintf("The latest rollout %s has mode %q, which Phoenix does not revert.", r.ID, r.Mode)
	case r.BlueGreen():
		// A pair's guard window runs before it finalizes, with the old
		// group warm; once finalized the old group is gone, and going
		// back means relaunching, which an operator decides.
		d.Reason = fmt.Sprintf("The latest rollout %s was blue/green: its guard window ran before it finalized at %s, with %s warm; phoenix rollback takes the pair back to version %d.",
			r.ID, stamp(r.EndedAt), r.Pair.Live, r.From.Number)
	case r.From.Number <= 0:
		d.Reason = fmt.Sprintf("The latest rollout %s records no version it rolled from.", r.ID)
	case r.EndedAt.IsZero():
		d.Reason = fmt.Sprintf("The latest rollout %s records no end time, so its guard window is unknown.", r.ID)
	case ev.At.Before(r.StartedAt):
		d.Reason = fmt.Sprintf("The alarm went into ALARM at %s, before rollout %s started at %s; it is not blamed on it.",
			stamp(ev.At), r.ID, stamp(r.StartedAt))
	case ev.At.After(r.EndedAt.Add(st.Policy.GuardWindow)):
		d.Reason = fmt.Sprintf("Rollout %s finalized at %s; the alarm at %s is past its guard window of %s (until %s).",
			r.ID, stamp(r.EndedAt), stamp(ev.At), st.Policy.GuardWindow, stamp(r.EndedAt.Add(st.Policy.GuardWindow)))
	default:
		d.Action, d.RevertTo = ActionRevert, r.From
		d.Reason = fmt.Sprintf("Rollout %s finalized at %s and the alarm at %s is within its guard window of %s: reverting to version %d.",
			r.ID, stamp(r.EndedAt), stamp(ev.At), st.Policy.GuardWindow, r.From.Number)
	}
	return d
}

// decideInFlight decides for a rollout that holds the group's lease.
func decideInFlight(ev Event, a rollout.Rollout) Decision {
	d := Decision{Rollout: a}
	switch {
	case a.Status == rollout.StatusReverting:
		d.Action, d.Reason = ActionNone, fmt.Sprintf("Rollout %s is already reverting.", a.ID)
	case a.Mode == rollout.ModeRevert:
		d.Action, d.Reason = ActionNone, fmt.Sprintf("Revert rollout %s is in flight; Phoenix never reverts a revert.", a.ID)
	case a.Status != rollout.StatusPreparing && a.Status != rollout.StatusRefreshing:
		d.Action, d.Reason = ActionNotify, fmt.Sprintf("Rollout %s holds the group in status %q, which Phoenix does not signal.", a.ID, a.Status)
	case a.Mode != "" && a.Mode != rollout.ModeImage && a.Mode != rollout.ModeRecycle:
		d.Action, d.Reason = ActionNotify, fmt.Sprintf("Rollout %s has mode %q, which Phoenix does not signal.", a.ID, a.Mode)
	case !a.StartedAt.IsZero() && ev.At.Before(a.StartedAt):
		d.Action = ActionNotify
		d.Reason = fmt.Sprintf("The alarm went into ALARM at %s, before rollout %s started at %s; it is not blamed on it (its own validation reads the guard alarms).",
			stamp(ev.At), a.ID, stamp(a.StartedAt))
	case a.Mode == rollout.ModeRecycle:
		d.Action, d.Reason = ActionSignal, fmt.Sprintf("Recycle %s is in flight: it stops, on version %d.", a.ID, a.From.Number)
	default:
		// Mode "" is a lease whose record Prepare has not written yet: a
		// rollout being prepared, which an alarm must stop like any other.
		d.Action, d.Reason = ActionSignal, fmt.Sprintf("Rollout %s is in flight: it reverts now.", a.ID)
	}
	return d
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
