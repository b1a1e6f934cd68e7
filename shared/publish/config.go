package publish

import "time"

// Config is the image-published function's own configuration; config.Load
// reads it from the environment (docs/publish.md, "Configuration").
type Config struct {
	CampaignStateMachineARN string
	Policy                  Policy
	MaxInFlight             int
	MaxWait                 time.Duration
}
