package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/lifecycle"
	"github.com/phoenix-rollouts/phoenix/shared/publish"
	"github.com/phoenix-rollouts/phoenix/shared/recycle"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// The image-published function's variables (docs/publish.md,
// "Configuration"); the campaign gate reads PHOENIX_PUBLISH_MAX_WAIT only.
const (
	EnvCampaignStateMachineARN = "PHOENIX_CAMPAIGN_STATE_MACHINE_ARN"
	EnvAllowedOwners           = "PHOENIX_ALLOWED_IMAGE_OWNERS"
	EnvRequiredTags            = "PHOENIX_REQUIRED_IMAGE_TAGS"
	EnvMaxInFlight             = "PHOENIX_MAX_IN_FLIGHT"
	EnvMaxWait                 = "PHOENIX_PUBLISH_MAX_WAIT"
)

// The recycle-scheduler function's variables (docs/recycle.md,
// "Configuration").
const (
	EnvMaxAge          = "PHOENIX_RECYCLE_MAX_AGE"
	EnvMaxPerNight     = "PHOENIX_RECYCLE_MAX_PER_NIGHT"
	EnvJitter          = "PHOENIX_RECYCLE_JITTER"
	EnvFreezeParameter = "PHOENIX_FREEZE_PARAMETER"
)

// The image-lifecycle function's variables (docs/lifecycle.md,
// "Configuration").
const (
	EnvImageLifecycle              = "PHOENIX_IMAGE_LIFECYCLE"
	EnvLifecycleKeepVersions       = "PHOENIX_LIFECYCLE_KEEP_VERSIONS"
	EnvLifecycleKeepRollback       = "PHOENIX_LIFECYCLE_KEEP_ROLLBACK_VERSIONS"
	EnvLifecycleDeprecateAfter     = "PHOENIX_LIFECYCLE_DEPRECATE_AFTER"
	EnvLifecycleDisableAfter       = "PHOENIX_LIFECYCLE_DISABLE_AFTER"
	EnvLifecycleDeregisterAfter    = "PHOENIX_LIFECYCLE_DEREGISTER_AFTER"
	EnvLifecycleRetireShared       = "PHOENIX_LIFECYCLE_RETIRE_SHARED"
	EnvLifecycleMaxActionsPerNight = "PHOENIX_LIFECYCLE_MAX_ACTIONS"
)

// minMaxWait is the shortest publishing wait allowed: below a couple of
// gate loops, a busy group would stop every campaign.
const minMaxWait = 10 * time.Minute

// parameterPattern is a Parameter Store name: letters, digits and _.- in
// segments separated by '/', optionally starting with one.
var parameterPattern = regexp.MustCompile(`^/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$`)

// maxParameterName is Parameter Store's limit on a name.
const maxParameterName = 2048

// publish reads the image-published function's section. An allow-list
// with a typo must fail the cold start, not trust nobody (or everybody) in
// silence.
func (r *reader) publish(account, region string) publish.Config {
	c := publish.Config{
		CampaignStateMachineARN: r.get(EnvCampaignStateMachineARN),
		Policy:                  publish.Policy{Account: account, Region: region},
		MaxInFlight:             publish.DefaultMaxInFlight,
	}
	if !isStateMachineARN(c.CampaignStateMachineARN) {
		r.fail(EnvCampaignStateMachineARN, fmt.Sprintf("is %q, not a state machine ARN", c.CampaignStateMachineARN))
	}
	owners, err := publish.ParseOwners(r.get(EnvAllowedOwners))
	if err != nil {
		r.fail(EnvAllowedOwners, err.Error())
	}
	c.Policy.AllowedOwners = owners
	tags, err := publish.ParseRequiredTags(r.get(EnvRequiredTags))
	if err != nil {
		r.fail(EnvRequiredTags, err.Error())
	}
	c.Policy.RequiredTags = tags
	c.MaxInFlight = r.whole(EnvMaxInFlight, 1, publish.MaxMaxInFlight, c.MaxInFlight)
	c.MaxWait = r.maxWait()
	return c
}

// maxWait reads PHOENIX_PUBLISH_MAX_WAIT, publish.DefaultMaxWait when
// unset: how long an image stays queued behind a busy group.
func (r *reader) maxWait() time.Duration {
	return r.optionalDuration(EnvMaxWait, minMaxWait, publish.MaxMaxWait, publish.DefaultMaxWait)
}

// recycle reads the recycle-scheduler function's section. Unset or empty
// variables take their defaults, except PHOENIX_FREEZE_PARAMETER: set and
// empty means no global freeze, unset means the default parameter, so
// that a lost variable never silently drops a freeze.
func (r *reader) recycle() recycle.Config {
	c := recycle.Config{
		MaxAge:          r.optionalDuration(EnvMaxAge, recycle.MinMaxAge, recycle.MaxMaxAge, recycle.DefaultMaxAge),
		MaxPerNight:     r.whole(EnvMaxPerNight, 0, recycle.MaxMaxPerNight, recycle.DefaultMaxPerNight),
		Jitter:          r.optionalDuration(EnvJitter, 0, recycle.MaxJitter, recycle.DefaultJitter),
		FreezeParameter: recycle.DefaultFreezeParameter,
	}
	if _, set := r.env(EnvFreezeParameter); set {
		v := r.get(EnvFreezeParameter)
		c.FreezeParameter = v
		if v != "" && (len(v) > maxParameterName || !parameterPattern.MatchString(v)) {
			r.fail(EnvFreezeParameter, fmt.Sprintf("is %q, not a Parameter Store name (or empty for no global freeze)", v))
		}
	}
	return c
}

// lifecycle reads the image-lifecycle function's section. The mode must
// be said (the template always sets it): a lost variable must not turn a
// stack that only plans into one that deletes, nor the reverse in silence.
func (r *reader) lifecycle() lifecycle.Config {
	c := lifecycle.Config{Policy: lifecycle.DefaultPolicy()}
	switch v := r.required(EnvImageLifecycle); v {
	case lifecycle.LogModeApply:
		c.Apply = true
	case lifecycle.LogModePlan, "":
	default:
		r.fail(EnvImageLifecycle, fmt.Sprintf("is %q; want %s or %s", v, lifecycle.LogModePlan, lifecycle.LogModeApply))
	}
	p := &c.Policy
	p.KeepVersions = r.whole(EnvLifecycleKeepVersions, 1, lifecycle.MaxKeepVersions, p.KeepVersions)
	p.KeepRollbackVersions = r.whole(EnvLifecycleKeepRollback, 0, lifecycle.MaxKeepRollbackVersions, p.KeepRollbackVersions)
	p.DeprecateAfter = r.optionalDuration(EnvLifecycleDeprecateAfter, 0, lifecycle.MaxStageWait, p.DeprecateAfter)
	p.DisableAfter = r.optionalDuration(EnvLifecycleDisableAfter, 0, lifecycle.MaxStageWait, p.DisableAfter)
	p.DeregisterAfter = r.optionalDuration(EnvLifecycleDeregisterAfter, 0, lifecycle.MaxStageWait, p.DeregisterAfter)
	p.MaxActions = r.whole(EnvLifecycleMaxActionsPerNight, 1, lifecycle.MaxMaxActions, p.MaxActions)
	switch v := strings.ToLower(r.get(EnvLifecycleRetireShared)); v {
	case "", "false":
	case "true":
		p.RetireShared = true
	default:
		r.fail(EnvLifecycleRetireShared, fmt.Sprintf("is %q; want true or false", v))
	}
	return c
}

// whole reads an optional whole number from lo to hi, fallback when unset.
func (r *reader) whole(name string, lo, hi, fallback int) int {
	v := r.get(name)
	if v == "" {
		return fallback
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.fail(name, fmt.Sprintf("is %q, not a whole number from %d to %d", v, lo, hi))
		return fallback
	}
	return n
}

// optionalDuration reads an optional duration (seconds, or like 36h) from
// lo to hi, fallback when unset.
func (r *reader) optionalDuration(name string, lo, hi, fallback time.Duration) time.Duration {
	v := r.get(name)
	if v == "" {
		return fallback
	}
	d, err := rollout.ParseDuration(v)
	if err != nil || d < lo || d > hi {
		r.fail(name, fmt.Sprintf("is %q, not a duration from %s to %s (seconds, or like 36h)", v, lo, hi))
		return fallback
	}
	return d
}
