package publish

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// The environment of the image-published function beyond design.md's
// common variables (docs/publish.md, "Configuration"); the campaign-gate
// function reads PHOENIX_PUBLISH_MAX_WAIT only.
const (
	EnvCampaignStateMachineARN = "PHOENIX_CAMPAIGN_STATE_MACHINE_ARN"
	EnvAccountID               = "PHOENIX_ACCOUNT_ID"
	EnvRegion                  = "AWS_REGION"
	EnvAllowedOwners           = "PHOENIX_ALLOWED_IMAGE_OWNERS"
	EnvRequiredTags            = "PHOENIX_REQUIRED_IMAGE_TAGS"
	EnvMaxInFlight             = "PHOENIX_MAX_IN_FLIGHT"
	EnvMaxWait                 = "PHOENIX_PUBLISH_MAX_WAIT"
)

// minMaxWait is the shortest wait allowed: below a couple of gate loops, a
// busy group would stop every campaign.
const minMaxWait = 10 * time.Minute

// Config is the image-published function's own configuration.
type Config struct {
	CampaignStateMachineARN string
	Policy                  Policy
	MaxInFlight             int
	MaxWait                 time.Duration
}

// LoadConfig reads the configuration through getenv and reports every
// problem at once, each naming its variable: an allow-list with a typo
// must fail the cold start, not trust nobody (or everybody) in silence.
func LoadConfig(getenv func(string) string) (Config, error) {
	var errs []error
	fail := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s %s", name, fmt.Sprintf(format, args...)))
	}
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	c := Config{
		CampaignStateMachineARN: get(EnvCampaignStateMachineARN),
		Policy:                  Policy{Account: get(EnvAccountID), Region: get(EnvRegion)},
		MaxInFlight:             DefaultMaxInFlight,
	}
	if !strings.HasPrefix(c.CampaignStateMachineARN, "arn:") || !strings.Contains(c.CampaignStateMachineARN, ":stateMachine:") {
		fail(EnvCampaignStateMachineARN, "is %q, not a state machine ARN", c.CampaignStateMachineARN)
	}
	if !rollout.ValidAccount(c.Policy.Account) {
		fail(EnvAccountID, "is %q, not a 12-digit account id", c.Policy.Account)
	}
	if !rollout.ValidRegion(c.Policy.Region) {
		fail(EnvRegion, "is %q, not a region name", c.Policy.Region)
	}
	owners, err := ParseOwners(getenv(EnvAllowedOwners))
	if err != nil {
		fail(EnvAllowedOwners, "%v", err)
	}
	c.Policy.AllowedOwners = owners
	tags, err := ParseRequiredTags(getenv(EnvRequiredTags))
	if err != nil {
		fail(EnvRequiredTags, "%v", err)
	}
	c.Policy.RequiredTags = tags
	if v := get(EnvMaxInFlight); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxMaxInFlight {
			fail(EnvMaxInFlight, "is %q, not a whole number from 1 to %d", v, MaxMaxInFlight)
		}
		c.MaxInFlight = n
	}
	c.MaxWait = readMaxWait(get, fail)
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("configuration: %w", err)
	}
	return c, nil
}

// GateConfig is the campaign-gate function's own configuration.
type GateConfig struct {
	// MaxWait is how long an image the gate queues stays queued: the same
	// bound the image-published function queues with.
	MaxWait time.Duration
}

// LoadGateConfig reads the campaign-gate function's configuration through
// getenv: PHOENIX_PUBLISH_MAX_WAIT, read as LoadConfig reads it.
func LoadGateConfig(getenv func(string) string) (GateConfig, error) {
	var errs []error
	fail := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s %s", name, fmt.Sprintf(format, args...)))
	}
	c := GateConfig{MaxWait: readMaxWait(func(name string) string { return strings.TrimSpace(getenv(name)) }, fail)}
	if err := errors.Join(errs...); err != nil {
		return GateConfig{}, fmt.Errorf("configuration: %w", err)
	}
	return c, nil
}

// readMaxWait reads PHOENIX_PUBLISH_MAX_WAIT, DefaultMaxWait when unset.
func readMaxWait(get func(string) string, fail func(name, format string, args ...any)) time.Duration {
	v := get(EnvMaxWait)
	if v == "" {
		return DefaultMaxWait
	}
	d, err := rollout.ParseDuration(v)
	if err != nil || d < minMaxWait || d > MaxMaxWait {
		fail(EnvMaxWait, "is %q, not a duration from %s to %s (seconds, or like 6h)", v, minMaxWait, MaxMaxWait)
	}
	return d
}
