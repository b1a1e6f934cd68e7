// Package config reads every Phoenix function's environment in one place and
// checks it, so that a missing or bad value fails the cold start with a
// message naming the variable instead of failing a rollout half-way.
package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// The environment variables (docs/design.md, "Functions").
const (
	EnvTable                  = "PHOENIX_TABLE"
	EnvTopicARN               = "PHOENIX_TOPIC_ARN"
	EnvEventBus               = "PHOENIX_EVENT_BUS"
	EnvStateMachineARN        = "PHOENIX_STATE_MACHINE_ARN"
	EnvDefaultCheckpoints     = "PHOENIX_DEFAULT_CHECKPOINTS"
	EnvDefaultMinHealthy      = "PHOENIX_DEFAULT_MIN_HEALTHY"
	EnvDefaultMaxHealthy      = "PHOENIX_DEFAULT_MAX_HEALTHY"
	EnvDefaultCheckpointDelay = "PHOENIX_DEFAULT_CHECKPOINT_DELAY"
	EnvDefaultBake            = "PHOENIX_DEFAULT_BAKE"
	EnvDefaultGuardWindow     = "PHOENIX_DEFAULT_GUARD_WINDOW"
	EnvLeaseTTL               = "PHOENIX_LEASE_TTL"
	EnvAwaitTimeout           = "PHOENIX_AWAIT_TIMEOUT"
)

// DefaultEventBus is the bus used when PHOENIX_EVENT_BUS is unset.
const DefaultEventBus = "default"

// maxDelay is AWS's bound on CheckpointDelay and BakeTime.
const maxDelay = 172800 * time.Second

// Config is a function's configuration.
type Config struct {
	Table           string
	TopicARN        string
	EventBus        string
	StateMachineARN string
	// Policy holds the template's policy defaults; group tags overlay it.
	Policy   rollout.Policy
	LeaseTTL time.Duration
	// AwaitTimeout is the slow fallback poll of a parked Await (template
	// parameter AwaitTimeoutSeconds); zero when PHOENIX_AWAIT_TIMEOUT is
	// unset, as on stacks deployed before it, which the steps read as
	// their default.
	AwaitTimeout time.Duration
}

// Needs says which optional variables a function cannot do without.
type Needs struct {
	// StateMachine requires PHOENIX_STATE_MACHINE_ARN (functions that
	// start executions).
	StateMachine bool
}

// Load reads the configuration through getenv (os.Getenv in a main) and
// reports every problem at once, each naming its variable.
func Load(getenv func(string) string, needs Needs) (Config, error) {
	r := reader{getenv: getenv}
	c := Config{
		Table:    r.required(EnvTable),
		TopicARN: r.required(EnvTopicARN),
		EventBus: getenv(EnvEventBus),
	}
	if c.EventBus == "" {
		c.EventBus = DefaultEventBus
	}
	if needs.StateMachine {
		c.StateMachineARN = r.required(EnvStateMachineARN)
		if c.StateMachineARN != "" && !strings.HasPrefix(c.StateMachineARN, "arn:") {
			r.fail(EnvStateMachineARN, "is not an ARN")
		}
	} else {
		c.StateMachineARN = getenv(EnvStateMachineARN)
	}
	if c.TopicARN != "" && !strings.HasPrefix(c.TopicARN, "arn:") {
		r.fail(EnvTopicARN, "is not an ARN")
	}
	p := rollout.DefaultPolicy()
	if v := r.required(EnvDefaultCheckpoints); v != "" {
		cps, err := rollout.ParseCheckpoints(v)
		if err != nil {
			r.fail(EnvDefaultCheckpoints, err.Error())
		}
		p.Checkpoints = cps
	}
	p.MinHealthy = r.percent(EnvDefaultMinHealthy, 0, 100, p.MinHealthy)
	p.MaxHealthy = r.percent(EnvDefaultMaxHealthy, 100, 200, p.MaxHealthy)
	if p.MaxHealthy-p.MinHealthy > 100 {
		r.fail(EnvDefaultMaxHealthy, fmt.Sprintf("%d minus %s %d exceeds 100, which instance refresh refuses", p.MaxHealthy, EnvDefaultMinHealthy, p.MinHealthy))
	}
	p.CheckpointDelay = r.duration(EnvDefaultCheckpointDelay, 0, maxDelay, p.CheckpointDelay)
	p.Bake = r.duration(EnvDefaultBake, 0, maxDelay, p.Bake)
	p.GuardWindow = r.duration(EnvDefaultGuardWindow, 0, 7*24*time.Hour, p.GuardWindow)
	c.LeaseTTL = r.duration(EnvLeaseTTL, time.Minute, 7*24*time.Hour, 0)
	if strings.TrimSpace(getenv(EnvAwaitTimeout)) != "" {
		c.AwaitTimeout = r.duration(EnvAwaitTimeout, time.Minute, 7*24*time.Hour, 0)
	}
	c.Policy = p
	if err := errors.Join(r.errs...); err != nil {
		return Config{}, fmt.Errorf("configuration: %w", err)
	}
	return c, nil
}

type reader struct {
	getenv func(string) string
	errs   []error
}

func (r *reader) fail(name, why string) {
	r.errs = append(r.errs, fmt.Errorf("%s %s", name, why))
}

func (r *reader) required(name string) string {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		r.fail(name, "is required")
	}
	return v
}

func (r *reader) percent(name string, lo, hi, fallback int) int {
	v := r.required(name)
	if v == "" {
		return fallback
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.fail(name, fmt.Sprintf("is %q; want a whole number from %d to %d", v, lo, hi))
		return fallback
	}
	return n
}

func (r *reader) duration(name string, lo, hi, fallback time.Duration) time.Duration {
	v := r.required(name)
	if v == "" {
		return fallback
	}
	d, err := rollout.ParseDuration(v)
	if err != nil || d < lo || d > hi {
		r.fail(name, fmt.Sprintf("is %q; want seconds or a duration from %s to %s", v, lo, hi))
		return fallback
	}
	return d
}
