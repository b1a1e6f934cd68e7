package publish

import (
	"fmt"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Action is what happens to a published image on one group.
type Action string

// The actions of Decide.
const (
	// ActionRoll starts a rollout of the image on the group.
	ActionRoll Action = "roll"
	// ActionQueue keeps the image until the group's current rollout ends;
	// only the newest queued image then rolls.
	ActionQueue Action = "queue"
	// ActionDrop does nothing with the image on this group.
	ActionDrop Action = "drop"
	// ActionSkip marks a group that matched the image's role but cannot
	// run it (Targets' skips).
	ActionSkip Action = "skip"
)

// Decision is an action and the sentence that explains it.
type Decision struct {
	Action Action `json:"action"`
	Reason string `json:"reason"`
}

// KnownImage is an image by id and creation time. CreatedAt is zero when
// the image could not be read (deregistered since).
type KnownImage struct {
	ImageID   string    `json:"imageId"`
	CreatedAt time.Time `json:"createdAt"`
}

// newer reports whether a was created strictly after b; an unknown time is
// never newer, so ordering never rests on a guess.
func (a KnownImage) newer(b KnownImage) bool {
	return !a.CreatedAt.IsZero() && !b.CreatedAt.IsZero() && a.CreatedAt.After(b.CreatedAt)
}

// Active is the rollout holding a group when an image arrives.
type Active struct {
	ID     string         `json:"rolloutId"`
	Mode   rollout.Mode   `json:"mode"`
	Status rollout.Status `json:"status"`
	// Image is what it rolls to; ImageID is "" before Prepare recorded it.
	Image KnownImage `json:"image"`
}

// reverting reports whether the rollout is taking the group back.
func (a Active) reverting() bool {
	return a.Mode == rollout.ModeRevert || a.Status == rollout.StatusReverting
}

// GroupState is what the ledger and the queue say of a group when an image
// arrives for it.
type GroupState struct {
	// Started says the rollout this event would start on the group (its
	// exactly-once name) exists already.
	Started bool
	// Active is the rollout holding the group; nil when none does.
	Active *Active
	// LastKnownGood is the image the group last finalized; nil when none
	// is recorded.
	LastKnownGood *KnownImage
	// Queued is the image waiting for the group; nil when none is.
	Queued *KnownImage
}

// Decide says what to do with img on a group, by these rules in order:
//
//  1. A rollout this event started already is never started again
//     (duplicate or late delivery): drop.
//  2. The group's last-known-good is this image, or an image created at or
//     after it: drop. An older image never replaces a newer last-known-good.
//  3. A rollout holding the group rolls this very image, or reverts from
//     it: drop (another event for the same image must not roll it twice,
//     nor roll again an image being reverted).
//  4. A rollout holding the group rolls an image created after this one:
//     drop.
//  5. Another image created at or after this one is queued for the group:
//     drop. Only the newest queued image rolls.
//  6. A rollout holds the group: queue. A revert in progress is never
//     cancelled, nor is any other rollout; the image waits until it ends.
//  7. Otherwise roll now.
//
// Creation times that are unknown never make an image "newer": with an
// unknown last-known-good time the new image may roll (there is nothing
// known to be newer to protect), and with an unknown active image it is
// queued.
func Decide(img KnownImage, s GroupState) Decision {
	if s.Started {
		return Decision{ActionDrop, "A rollout of this image for this event exists already: the event was delivered more than once."}
	}
	if lkg := s.LastKnownGood; lkg != nil {
		if lkg.ImageID == img.ImageID {
			return Decision{ActionDrop, fmt.Sprintf("The group already runs %s as its last-known-good.", img.ImageID)}
		}
		if !lkg.CreatedAt.IsZero() && !img.newer(*lkg) {
			return Decision{ActionDrop, fmt.Sprintf("%s (created %s) is not newer than the last-known-good %s (created %s); an older image never replaces a newer one.",
				img.ImageID, stamp(img.CreatedAt), lkg.ImageID, stamp(lkg.CreatedAt))}
		}
	}
	a := s.Active
	if a != nil && a.Image.ImageID == img.ImageID {
		if a.reverting() {
			return Decision{ActionDrop, fmt.Sprintf("Rollout %s is reverting the group from %s; it is not rolled again.", a.ID, img.ImageID)}
		}
		return Decision{ActionDrop, fmt.Sprintf("Rollout %s is already rolling %s.", a.ID, img.ImageID)}
	}
	if a != nil && !a.reverting() && a.Image.newer(img) {
		return Decision{ActionDrop, fmt.Sprintf("Rollout %s is rolling %s, which is newer than %s.", a.ID, a.Image.ImageID, img.ImageID)}
	}
	if q := s.Queued; q != nil && q.ImageID != img.ImageID && !img.newer(*q) {
		return Decision{ActionDrop, fmt.Sprintf("%s is queued for the group and is not older than %s; only the newest queued image rolls.", q.ImageID, img.ImageID)}
	}
	switch {
	case a == nil:
		return Decision{ActionRoll, "The group is idle and the image is newer than its last-known-good."}
	case a.reverting():
		return Decision{ActionQueue, fmt.Sprintf("Rollout %s is reverting the group; a revert is never cancelled, so %s waits until it ends.", a.ID, img.ImageID)}
	}
	return Decision{ActionQueue, fmt.Sprintf("Rollout %s holds the group; %s waits until it ends.", a.ID, img.ImageID)}
}

// stamp writes a creation time for a reason sentence.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "at an unknown time"
	}
	return t.UTC().Format(time.RFC3339)
}
