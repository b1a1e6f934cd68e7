package publish

import (
	"fmt"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// TriggerKind is the rollout.Trigger kind of rollouts started by a
// publishing event.
const TriggerKind = "image-published"

// Gate timing defaults (docs/publish.md, "The campaign branch").
const (
	// DefaultMaxWait is how long a campaign waits for a busy group before
	// it stops: the default lease TTL, after which a crashed rollout frees
	// the group anyway.
	DefaultMaxWait = 6 * time.Hour
	// MaxMaxWait bounds the wait, which also bounds the campaign's history
	// (each wait loop adds about ten events).
	MaxMaxWait = 24 * time.Hour
)

// Campaign is the input of a campaign execution: what it rolls and in
// which order. The campaign branch of the state machine runs Batches one
// after the other and, within a batch, every rollout at once.
type Campaign struct {
	Info    CampaignInfo    `json:"campaign"`
	Batches []CampaignBatch `json:"batches"`
}

// CampaignInfo describes a campaign for people and for its notifications.
type CampaignInfo struct {
	// ID is the campaign's execution name (CampaignName).
	ID string `json:"campaignId"`
	// ImageID is the AMI rolled, in Region.
	ImageID     string    `json:"imageId"`
	Region      string    `json:"region"`
	EventID     string    `json:"eventId"`
	Image       Image     `json:"image"`
	MaxInFlight int       `json:"maxInFlight"`
	Waves       []Wave    `json:"waves"`
	CreatedAt   time.Time `json:"createdAt"`
}

// CampaignBatch is one batch of the campaign's plan with the rollouts it
// starts.
type CampaignBatch struct {
	Wave     int               `json:"wave"`
	Index    int               `json:"batch"`
	Rollouts []CampaignRollout `json:"rollouts"`
}

// CampaignRollout is one group's rollout within a campaign.
type CampaignRollout struct {
	// Name is the rollout's execution name and rollout id (RolloutName).
	Name string `json:"name"`
	// Gate is what the gate checks just before the rollout starts.
	Gate GateInput `json:"gate"`
	// Input is the rollout execution's input, as docs/design.md defines it.
	Input RolloutInput `json:"input"`
}

// RolloutInput is the input of a rollout execution.
type RolloutInput struct {
	Request rollout.Request `json:"request"`
}

// GateInput is what the gate step decides on: a group's turn has come in
// the campaign, and the ledger may have changed since the event arrived.
type GateInput struct {
	RolloutID string           `json:"rolloutId"`
	Group     rollout.GroupKey `json:"target"`
	Image     KnownImage       `json:"image"`
	EventID   string           `json:"eventId"`
	// MaxWaitSeconds bounds how long the gate keeps a busy group's turn
	// waiting before it stops the campaign.
	MaxWaitSeconds int64 `json:"maxWaitSeconds"`
}

// GateCall is the gate task's payload: the gate input, the previous
// decision (the wait loop passes it back) and the time the state was
// entered.
type GateCall struct {
	Gate     GateInput    `json:"gate"`
	Decision GateDecision `json:"decision"`
	Now      time.Time    `json:"now"`
}

// Gate actions beyond Decide's: wait (the group is busy; the campaign
// waits and asks again) and stop (it waited too long, or the gate cannot
// decide; the campaign stops after this batch).
const (
	GateRoll = "roll"
	GateWait = "wait"
	GateDrop = "drop"
	GateStop = "stop"
	// gatePending is the decision the campaign passes before the first
	// gate call.
	gatePending = "pending"
)

// GateDecision is the gate's answer. WaitingSince is when the group's turn
// first had to wait; the wait loop carries it from call to call.
type GateDecision struct {
	Action       string    `json:"action"`
	Reason       string    `json:"reason"`
	WaitingSince time.Time `json:"waitingSince"`
}

// GateAnswer turns Decide's decision at the group's turn into the gate's
// answer: roll and drop as decided, queue as wait, unless the group has
// been waiting longer than the input allows, which stops the campaign
// rather than keep it running for ever behind a stuck rollout.
func GateAnswer(in GateCall, d Decision) GateDecision {
	switch d.Action {
	case ActionRoll:
		return GateDecision{Action: GateRoll, Reason: d.Reason}
	case ActionDrop:
		return GateDecision{Action: GateDrop, Reason: d.Reason}
	}
	since := in.Decision.WaitingSince
	if in.Decision.Action != GateWait || since.IsZero() {
		since = in.Now
	}
	limit := time.Duration(in.Gate.MaxWaitSeconds) * time.Second
	if limit <= 0 {
		limit = DefaultMaxWait
	}
	if waited := in.Now.Sub(since); waited >= limit {
		return GateDecision{Action: GateStop, WaitingSince: since,
			Reason: fmt.Sprintf("%s Waited %s, the most allowed; the campaign stops here.", d.Reason, waited.Round(time.Second))}
	}
	return GateDecision{Action: GateWait, Reason: d.Reason, WaitingSince: since}
}

// BuildCampaign makes the campaign input for img over plan: every group
// gets a rollout request named RolloutName(event id, group), so that a
// repeated event names the same rollouts.
func BuildCampaign(img Image, plan Plan, maxInFlight int, maxWait time.Duration) Campaign {
	c := Campaign{Info: CampaignInfo{
		ID: CampaignName(img.Region, img.ID()), ImageID: img.ID(), Region: img.Region, EventID: img.EventID,
		Image: img.clone(), MaxInFlight: ClampInFlight(maxInFlight), Waves: plan.Waves, CreatedAt: img.EventTime,
	}}
	ref := KnownImage{ImageID: img.ID(), CreatedAt: img.CreatedAt}
	for _, b := range plan.Batches {
		cb := CampaignBatch{Wave: b.Wave, Index: b.Index}
		for _, g := range b.Groups {
			name := RolloutName(img.EventID, g)
			cb.Rollouts = append(cb.Rollouts, CampaignRollout{
				Name: name,
				Gate: GateInput{RolloutID: name, Group: g, Image: ref, EventID: img.EventID, MaxWaitSeconds: int64(maxWait / time.Second)},
				Input: RolloutInput{Request: rollout.Request{
					RolloutID: name, Group: g, Mode: rollout.ModeImage, ImageID: img.ID(),
					Trigger: rollout.Trigger{Kind: TriggerKind, Source: string(img.Kind) + ":" + img.Source, EventID: img.EventID},
				}},
			})
		}
		c.Batches = append(c.Batches, cb)
	}
	return c
}
