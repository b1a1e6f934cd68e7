package steps

import (
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// The Await timeout (docs/design.md, "The Await timeout"). A parked Await
// is woken by the refresh's events; its timeout is the fallback poll for
// an event that is late or lost. Most events can be made up for by reading
// the refresh whenever the poll comes, but a checkpoint only while the
// refresh pauses there: once the checkpoint delay has run, the refresh goes
// on by itself and the checkpoint would pass unjudged. So while a
// checkpoint lies ahead, polls come less than a checkpoint delay apart
// once the refresh could be moving towards it.

const (
	// DefaultAwaitTimeout is the slow fallback poll when Deps.AwaitTimeout
	// is unset: template.yaml's default AwaitTimeoutSeconds.
	DefaultAwaitTimeout = 1500 * time.Second
	// pollMargin is left between a poll and the end of a checkpoint's
	// pause, for Poll, Route and Validate to run before the refresh goes
	// on.
	pollMargin = 30 * time.Second
	// minAwaitTimeout bounds the pace of the fallback poll. A checkpoint
	// delay under minAwaitTimeout + pollMargin (90 s) cannot be polled
	// within: such a checkpoint is validated in its pause only if its event
	// arrives, else late, at the next poll.
	minAwaitTimeout = 60 * time.Second
)

// awaitTimeout returns, in whole seconds, how long the next Await may stay
// parked before the fallback poll, for the document a step returns at now:
//
//   - what is left of the pause at the checkpoint just validated, when its
//     event said when the refresh got there (a poll saw the pause, not its
//     start): the refresh cannot move before that pause ends;
//   - then, while a checkpoint below 100 lies ahead, the checkpoint delay
//     less pollMargin (at least minAwaitTimeout), so that a poll falls
//     within the pause at it whenever the refresh gets there; never more
//     than Deps.AwaitTimeout, the longest a lost event goes unnoticed while
//     the refresh moves, which is the whole wait when no checkpoint lies
//     ahead.
func (d Deps) awaitTimeout(st State, now time.Time) int64 {
	slow := d.AwaitTimeout
	if slow <= 0 {
		slow = DefaultAwaitTimeout
	}
	delay := dur(st.Policy.CheckpointDelaySeconds)
	wait := slow
	if checkpointAhead(st) {
		wait = min(slow, max(delay-pollMargin, minAwaitTimeout))
	}
	return secs(pauseLeft(st, delay, now) + wait)
}

// checkpointAhead reports whether the refresh may still pause at a
// checkpoint Phoenix has not validated: one below 100 (AWS reports none
// at 100) above the highest validated, with the refresh not yet past its
// checkpoints (baking, or done).
func checkpointAhead(st State) bool {
	switch st.Signal.Kind {
	case rollout.SignalBaking, rollout.SignalSucceeded:
		return false
	}
	_, ok := rollout.NextCheckpoint(st.Policy.Checkpoints, st.Checkpoint)
	return ok
}

// pauseLeft is what is left at now of the pause at the checkpoint the
// signal reports, counted from its event's time; zero unless the signal is
// the event of a checkpoint already validated.
func pauseLeft(st State, delay time.Duration, now time.Time) time.Duration {
	s := st.Signal
	if s.Kind != rollout.SignalCheckpoint || s.Polled || s.At.IsZero() || s.Percentage == 0 || s.Percentage > st.Checkpoint {
		return 0
	}
	return min(max(s.At.Add(delay).Sub(now), 0), delay)
}
