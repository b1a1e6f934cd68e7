package recycle

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// The environment of the recycle-scheduler function beyond design.md's
// common variables (docs/recycle.md, "Configuration").
const (
	EnvStateMachineARN = "PHOENIX_STATE_MACHINE_ARN"
	EnvMaxAge          = "PHOENIX_RECYCLE_MAX_AGE"
	EnvMaxPerNight     = "PHOENIX_RECYCLE_MAX_PER_NIGHT"
	EnvJitter          = "PHOENIX_RECYCLE_JITTER"
	EnvFreezeParameter = "PHOENIX_FREEZE_PARAMETER"
)

// parameterPattern is a Parameter Store name: letters, digits and _.- in
// segments separated by '/', optionally starting with one.
var parameterPattern = regexp.MustCompile(`^/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$`)

// maxParameterName is Parameter Store's limit on a name.
const maxParameterName = 2048

// Config is the recycle-scheduler function's own configuration.
type Config struct {
	// StateMachineARN is the rollout state machine the recycles run in.
	StateMachineARN string
	// MaxAge is the default of the phoenix:max-age tag.
	MaxAge time.Duration
	// MaxPerNight is how many recycles one night starts; 0 reports drift
	// and starts none.
	MaxPerNight int
	// Jitter spreads the night's starts over [0, Jitter); 0 starts every
	// recycle at the event's time.
	Jitter time.Duration
	// FreezeParameter is the SSM parameter holding the global freeze; ""
	// means there is none.
	FreezeParameter string
}

// LoadConfig reads the configuration through lookupEnv (os.LookupEnv in
// main) and reports every problem at once, each naming its variable.
// Unset or empty variables take their defaults, except
// PHOENIX_FREEZE_PARAMETER: set and empty means no global freeze, unset
// means the default parameter, so that a lost variable never silently
// drops a freeze.
func LoadConfig(lookupEnv func(string) (string, bool)) (Config, error) {
	var errs []error
	fail := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s %s", name, fmt.Sprintf(format, args...)))
	}
	get := func(name string) string {
		v, _ := lookupEnv(name)
		return strings.TrimSpace(v)
	}
	c := Config{
		StateMachineARN: get(EnvStateMachineARN),
		MaxAge:          DefaultMaxAge,
		MaxPerNight:     DefaultMaxPerNight,
		Jitter:          DefaultJitter,
		FreezeParameter: DefaultFreezeParameter,
	}
	if !strings.HasPrefix(c.StateMachineARN, "arn:") || !strings.Contains(c.StateMachineARN, ":stateMachine:") {
		fail(EnvStateMachineARN, "is %q, not a state machine ARN", c.StateMachineARN)
	}
	if v := get(EnvMaxAge); v != "" {
		d, err := rollout.ParseDuration(v)
		if err != nil || d < MinMaxAge || d > MaxMaxAge {
			fail(EnvMaxAge, "is %q, not a duration from %s to %s (seconds, or like 168h)", v, MinMaxAge, MaxMaxAge)
		}
		c.MaxAge = d
	}
	if v := get(EnvMaxPerNight); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > MaxMaxPerNight {
			fail(EnvMaxPerNight, "is %q, not a whole number from 0 to %d", v, MaxMaxPerNight)
		}
		c.MaxPerNight = n
	}
	if v := get(EnvJitter); v != "" {
		d, err := rollout.ParseDuration(v)
		if err != nil || d < 0 || d > MaxJitter {
			fail(EnvJitter, "is %q, not a duration from 0 to %s (seconds, or like 30m)", v, MaxJitter)
		}
		c.Jitter = d
	}
	if v, set := lookupEnv(EnvFreezeParameter); set {
		v = strings.TrimSpace(v)
		c.FreezeParameter = v
		if v != "" && (len(v) > maxParameterName || !parameterPattern.MatchString(v)) {
			fail(EnvFreezeParameter, "is %q, not a Parameter Store name (or empty for no global freeze)", v)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("configuration: %w", err)
	}
	return c, nil
}
