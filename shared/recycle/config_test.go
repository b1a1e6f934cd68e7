package recycle

import (
	"strings"
	"testing"
	"time"
)

const machine = "arn:aws:states:us-east-1:123456789012:stateMachine:phoenix-rollout"

// env is a lookupEnv over a map: a key present with "" is set and empty.
func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	t.Run("unset variables take the defaults", func(t *testing.T) {
		t.Parallel()
		c, err := LoadConfig(env(map[string]string{EnvStateMachineARN: machine}))
		if err != nil {
			t.Fatal(err)
		}
		want := Config{StateMachineARN: machine, MaxAge: 7 * 24 * time.Hour, MaxPerNight: 5, Jitter: 30 * time.Minute, FreezeParameter: "/phoenix/freeze"}
		if c != want {
			t.Fatalf("got %+v, want %+v", c, want)
		}
	})
	t.Run("the template's values are read, seconds or Go durations", func(t *testing.T) {
		t.Parallel()
		c, err := LoadConfig(env(map[string]string{EnvStateMachineARN: machine, EnvMaxAge: "86400", EnvMaxPerNight: "2",
			EnvJitter: "0", EnvFreezeParameter: "/ops/freeze-recycling"}))
		if err != nil {
			t.Fatal(err)
		}
		if c.MaxAge != 24*time.Hour || c.MaxPerNight != 2 || c.Jitter != 0 || c.FreezeParameter != "/ops/freeze-recycling" {
			t.Fatalf("got %+v", c)
		}
		if c, err = LoadConfig(env(map[string]string{EnvStateMachineARN: machine, EnvMaxAge: "36h", EnvJitter: "10m"})); err != nil || c.MaxAge != 36*time.Hour || c.Jitter != 10*time.Minute {
			t.Fatalf("got %+v, %v", c, err)
		}
	})
	t.Run("a freeze parameter set empty means no global freeze", func(t *testing.T) {
		t.Parallel()
		c, err := LoadConfig(env(map[string]string{EnvStateMachineARN: machine, EnvFreezeParameter: ""}))
		if err != nil || c.FreezeParameter != "" {
			t.Fatalf("got %+v, %v", c, err)
		}
	})
	t.Run("a max per night of 0 reports drift and starts nothing", func(t *testing.T) {
		t.Parallel()
		c, err := LoadConfig(env(map[string]string{EnvStateMachineARN: machine, EnvMaxPerNight: "0"}))
		if err != nil || c.MaxPerNight != 0 {
			t.Fatalf("got %+v, %v", c, err)
		}
	})
	bad := []struct {
		name, variable, value string
	}{
		{"a missing state machine fails", EnvStateMachineARN, ""},
		{"a state machine that is not an ARN fails", EnvStateMachineARN, "phoenix-rollout"},
		{"a max age under an hour fails", EnvMaxAge, "600"},
		{"a max age that is no duration fails", EnvMaxAge, "a week"},
		{"a max age over a year fails", EnvMaxAge, "40000000"},
		{"a negative max per night fails", EnvMaxPerNight, "-1"},
		{"a max per night over the bound fails", EnvMaxPerNight, "101"},
		{"a fractional max per night fails", EnvMaxPerNight, "2.5"},
		{"a negative jitter fails", EnvJitter, "-5"},
		{"a jitter over 12 hours fails", EnvJitter, "13h"},
		{"a freeze parameter that is no parameter name fails", EnvFreezeParameter, "/phoenix/freeze now"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			vars := map[string]string{EnvStateMachineARN: machine}
			vars[tc.variable] = tc.value
			_, err := LoadConfig(env(vars))
			if err == nil || !strings.Contains(err.Error(), tc.variable) {
				t.Fatalf("got %v, want an error naming %s", err, tc.variable)
			}
		})
	}
	t.Run("every problem is reported at once", func(t *testing.T) {
		t.Parallel()
		_, err := LoadConfig(env(map[string]string{EnvMaxAge: "x", EnvJitter: "y"}))
		for _, v := range []string{EnvStateMachineARN, EnvMaxAge, EnvJitter} {
			if err == nil || !strings.Contains(err.Error(), v) {
				t.Errorf("error %v does not name %s", err, v)
			}
		}
	})
}
