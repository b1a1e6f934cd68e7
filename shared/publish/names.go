package publish

import (
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Name prefixes: a campaign and a rollout it starts.
const (
	prefixCampaign = "cmp"
	prefixRollout  = "img"
)

// CampaignName is the execution name of the campaign that rolls an image
// in a region. It is keyed by the image, not by the event: one image may
// be announced by up to three events (its AMI becoming available, its
// Image Builder build, the parameter pointing at it), and a second
// campaign for it would roll the later waves at once, before the first
// campaign's canaries finished. docs/publish.md records this deviation.
func CampaignName(region, imageID string) string {
	return rollout.ExecutionName(prefixCampaign, imageID, "campaign", region, imageID)
}

// RolloutName is the execution name, and rollout id, of the rollout an
// event starts on a group: derived from the event id and the group, so a
// repeated delivery names the same rollout.
func RolloutName(eventID string, group rollout.GroupKey) string {
	return rollout.ExecutionName(prefixRollout, group.Name, "rollout", eventID, group.Region, group.Name)
}
