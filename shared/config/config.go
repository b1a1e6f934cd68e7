// Package config reads every Phoenix function's environment in one place and
// checks it, so that a missing or bad value fails the cold start with a
// message naming the variable instead of failing a rollout half-way. Load
// reads the variables every function shares and the sections a function
// asks for (Needs): the image-published function's, the campaign gate's,
// the recycle scheduler's. The account and the region come from here only.
package config

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/lifecycle"
	"github.com/phoenix-rollouts/phoenix/shared/publish"
	"github.com/phoenix-rollouts/phoenix/shared/recycle"
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
	// EnvAccountID is the account the stack is deployed in (the template
	// sets it to AWS::AccountId for every function).
	EnvAccountID = "PHOENIX_ACCOUNT_ID"
	// EnvRegion is set by Lambda itself in every function.
	EnvRegion = "AWS_REGION"
)

// Env reads one environment variable and says whether it is set:
// os.LookupEnv in a main, Map in a test. Set-and-empty and unset differ for
// one variable only, PHOENIX_FREEZE_PARAMETER.
type Env func(name string) (string, bool)

// Map is an Env over a map: a key present with "" is set and empty.
func Map(m map[string]string) Env {
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

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
	// Account and Region are the stack's own (Needs.Account).
	Account string
	Region  string
	// Policy holds the template's policy defaults; group tags overlay it.
	Policy   rollout.Policy
	LeaseTTL time.Duration
	// AwaitTimeout is the slow fallback poll of a parked Await (template
	// parameter AwaitTimeoutSeconds); zero when PHOENIX_AWAIT_TIMEOUT is
	// unset, as on stacks deployed before it, which the steps read as
	// their default.
	AwaitTimeout time.Duration
	// Publish is the image-published function's section (Needs.Publish),
	// or only its MaxWait for the campaign gate (Needs.Gate).
	Publish publish.Config
	// Recycle is the recycle-scheduler function's section (Needs.Recycle).
	Recycle recycle.Config
	// Lifecycle is the image-lifecycle function's section
	// (Needs.Lifecycle).
	Lifecycle lifecycle.Config
}

// Needs says which optional variables a function cannot do without.
type Needs struct {
	// StateMachine requires PHOENIX_STATE_MACHINE_ARN (functions that
	// start executions).
	StateMachine bool
	// Account requires PHOENIX_ACCOUNT_ID and AWS_REGION (functions that
	// check an event's account or an image's owner).
	Account bool
	// Publish reads the image-published function's section; it needs the
	// account.
	Publish bool
	// Gate reads the campaign gate's section: the publishing queue's
	// PHOENIX_PUBLISH_MAX_WAIT, read as Publish reads it.
	Gate bool
	// Recycle reads the recycle-scheduler function's section; it needs the
	// state machine.
	Recycle bool
	// Lifecycle reads the image-lifecycle function's section; it needs the
	// account (only the account's own AMIs are ever touched).
	Lifecycle bool
}

// Load reads the configuration through env (os.LookupEnv in a main) and
// reports every problem at once, each naming its variable.
func Load(env Env, needs Needs) (Config, error) {
	r := reader{env: env}
	c := Config{
		Table:    r.required(EnvTable),
		TopicARN: r.required(EnvTopicARN),
		EventBus: r.get(EnvEventBus),
	}
	if c.EventBus == "" {
		c.EventBus = DefaultEventBus
	}
	if needs.StateMachine || needs.Recycle {
		c.StateMachineARN = r.required(EnvStateMachineARN)
		if c.StateMachineARN != "" && !isStateMachineARN(c.StateMachineARN) {
			r.fail(EnvStateMachineARN, fmt.Sprintf("is %q, not a state machine ARN", c.StateMachineARN))
		}
	} else {
		c.StateMachineARN = r.get(EnvStateMachineARN)
	}
	if c.TopicARN != "" && !strings.HasPrefix(c.TopicARN, "arn:") {
		r.fail(EnvTopicARN, "is not an ARN")
	}
	c.Account, c.Region = r.get(EnvAccountID), r.get(EnvRegion)
	if needs.Account || needs.Publish || needs.Lifecycle {
		if !rollout.ValidAccount(c.Account) {
			r.fail(EnvAccountID, fmt.Sprintf("is %q, not a 12-digit account id", c.Account))
		}
		if !rollout.ValidRegion(c.Region) {
			r.fail(EnvRegion, fmt.Sprintf("is %q, not a region name", c.Region))
		}
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
	if r.get(EnvAwaitTimeout) != "" {
		c.AwaitTimeout = r.duration(EnvAwaitTimeout, time.Minute, 7*24*time.Hour, 0)
	}
	c.Policy = p
	switch {
	case needs.Publish:
		c.Publish = r.publish(c.Account, c.Region)
	case needs.Gate:
		c.Publish.MaxWait = r.maxWait()
	}
	if needs.Recycle {
		c.Recycle = r.recycle()
	}
	if needs.Lifecycle {
		c.Lifecycle = r.lifecycle()
	}
	if err := errors.Join(r.errs...); err != nil {
		return Config{}, fmt.Errorf("configuration: %w", err)
	}
	return c, nil
}

// isStateMachineARN is a cheap shape check: a typo'd variable should fail
// the cold start, not the first StartExecution.
func isStateMachineARN(arn string) bool {
	return strings.HasPrefix(arn, "arn:") && strings.Contains(arn, ":stateMachine:")
}

// reader reads variables through one Env and collects every problem.
type reader struct {
	env  Env
	errs []error
}

// get returns a variable's value without surrounding spaces, "" if unset.
func (r *reader) get(name string) string {
	v, _ := r.env(name)
	return strings.TrimSpace(v)
}

func (r *reader) fail(name, why string) {
	r.errs = append(r.errs, fmt.Errorf("%s %s", name, why))
}

func (r *reader) required(name string) string {
	v := r.get(name)
	if v == "" {
		r.fail(name, "is required")
	}
	return v
}

// percent reads a required whole number from lo to hi.
func (r *reader) percent(name string, lo, hi, fallback int) int {
	if r.required(name) == "" {
		return fallback
	}
	return r.whole(name, lo, hi, fallback)
}

// duration reads a required duration from lo to hi.
func (r *reader) duration(name string, lo, hi, fallback time.Duration) time.Duration {
	if r.required(name) == "" {
		return fallback
	}
	return r.optionalDuration(name, lo, hi, fallback)
}
