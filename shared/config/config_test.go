package config

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/lifecycle"
	"github.com/phoenix-rollouts/phoenix/shared/publish"
	"github.com/phoenix-rollouts/phoenix/shared/recycle"
)

func full() map[string]string {
	return map[string]string{
		EnvTable: "phoenix-ledger", EnvTopicARN: "arn:aws:sns:eu-west-1:123456789012:phoenix",
		EnvDefaultCheckpoints: "20,60", EnvDefaultMinHealthy: "90", EnvDefaultMaxHealthy: "120",
		EnvDefaultCheckpointDelay: "300", EnvDefaultBake: "15m", EnvDefaultGuardWindow: "7200", EnvLeaseTTL: "21600",
		EnvAwaitTimeout: "1500",
	}
}

func TestLoad(t *testing.T) {
	c, err := Load(Map(full()), Needs{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Table != "phoenix-ledger" || c.EventBus != DefaultEventBus || c.LeaseTTL != 6*time.Hour || c.AwaitTimeout != 25*time.Minute {
		t.Errorf("config = %+v", c)
	}
	p := c.Policy
	if len(p.Checkpoints) != 3 || p.Checkpoints[2] != 100 || p.MinHealthy != 90 || p.MaxHealthy != 120 ||
		p.CheckpointDelay != 5*time.Minute || p.Bake != 15*time.Minute || p.GuardWindow != 2*time.Hour {
		t.Errorf("policy = %+v", p)
	}
}

// A stack deployed before PHOENIX_AWAIT_TIMEOUT existed still loads (the
// CLI reads a deployed Prepare's environment): the steps take their
// default.
func TestLoadWithoutTheAwaitTimeoutLeavesItToTheSteps(t *testing.T) {
	env := full()
	delete(env, EnvAwaitTimeout)
	c, err := Load(Map(env), Needs{})
	if err != nil {
		t.Fatal(err)
	}
	if c.AwaitTimeout != 0 {
		t.Errorf("AwaitTimeout = %s, want zero (unset)", c.AwaitTimeout)
	}
}

func TestLoadNamesTheBadVariable(t *testing.T) {
	cases := []struct {
		name  string
		set   map[string]string
		needs Needs
		want  []string
	}{
		{"a missing table fails naming PHOENIX_TABLE", map[string]string{EnvTable: ""}, Needs{}, []string{EnvTable + " is required"}},
		{"a topic that is not an ARN fails naming PHOENIX_TOPIC_ARN", map[string]string{EnvTopicARN: "phoenix"}, Needs{}, []string{EnvTopicARN}},
		{"a min healthy above 100 fails naming PHOENIX_DEFAULT_MIN_HEALTHY", map[string]string{EnvDefaultMinHealthy: "120"}, Needs{}, []string{EnvDefaultMinHealthy}},
		{"healthy percentages more than 100 apart fail", map[string]string{EnvDefaultMinHealthy: "50", EnvDefaultMaxHealthy: "200"}, Needs{}, []string{"exceeds 100"}},
		{"descending checkpoints fail naming PHOENIX_DEFAULT_CHECKPOINTS", map[string]string{EnvDefaultCheckpoints: "60,20"}, Needs{}, []string{EnvDefaultCheckpoints}},
		{"a bake beyond AWS's 48 hours fails naming PHOENIX_DEFAULT_BAKE", map[string]string{EnvDefaultBake: "72h"}, Needs{}, []string{EnvDefaultBake}},
		{"a lease of seconds fails naming PHOENIX_LEASE_TTL", map[string]string{EnvLeaseTTL: "5"}, Needs{}, []string{EnvLeaseTTL}},
		{"an Await timeout under a minute fails naming PHOENIX_AWAIT_TIMEOUT", map[string]string{EnvAwaitTimeout: "30"}, Needs{}, []string{EnvAwaitTimeout}},
		{"a function that starts executions needs the state machine", map[string]string{}, Needs{StateMachine: true}, []string{EnvStateMachineARN + " is required"}},
		{"a state machine that is not a state machine ARN fails", map[string]string{EnvStateMachineARN: "arn:aws:sns:us-east-1:123456789012:phoenix"}, Needs{StateMachine: true}, []string{EnvStateMachineARN}},
		{"the recycle scheduler needs the state machine", map[string]string{}, Needs{Recycle: true}, []string{EnvStateMachineARN + " is required"}},
		{"a function that checks accounts needs the account and the region", map[string]string{}, Needs{Account: true}, []string{EnvAccountID, EnvRegion}},
		{"an account that is not 12 digits fails", map[string]string{EnvAccountID: "me", EnvRegion: "us-east-1"}, Needs{Account: true}, []string{EnvAccountID}},
		{"image-published needs the account", map[string]string{EnvCampaignStateMachineARN: campaign}, Needs{Publish: true}, []string{EnvAccountID, EnvRegion}},
		{"every problem is reported at once", map[string]string{EnvTable: "", EnvLeaseTTL: "soon"}, Needs{}, []string{EnvTable, EnvLeaseTTL}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := full()
			for k, v := range tc.set {
				env[k] = v
			}
			_, err := Load(Map(env), tc.needs)
			if err == nil {
				t.Fatal("loaded a bad configuration")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

const (
	account  = "123456789012"
	foreign  = "210987654321"
	region   = "us-east-1"
	machine  = "arn:aws:states:us-east-1:123456789012:stateMachine:phoenix-rollout"
	campaign = "arn:aws:states:us-east-1:123456789012:stateMachine:phoenix-campaign"
)

// with returns the common variables with set's applied.
func with(set map[string]string) map[string]string {
	env := full()
	for k, v := range set {
		env[k] = v
	}
	return env
}

func TestTheAccountAndRegionComeFromTheEnvironmentOnly(t *testing.T) {
	t.Parallel()
	c, err := Load(Map(with(map[string]string{EnvAccountID: " " + account + " ", EnvRegion: region})), Needs{Account: true})
	if err != nil {
		t.Fatal(err)
	}
	if c.Account != account || c.Region != region {
		t.Fatalf("account %q region %q", c.Account, c.Region)
	}
	// A function that does not need them loads without them.
	if _, err := Load(Map(full()), Needs{}); err != nil {
		t.Fatal(err)
	}
}

func TestThePublishSection(t *testing.T) {
	t.Parallel()
	base := map[string]string{EnvCampaignStateMachineARN: campaign, EnvAccountID: account, EnvRegion: region}
	t.Run("defaults trust the deploying account only", func(t *testing.T) {
		t.Parallel()
		c, err := Load(Map(with(base)), Needs{Publish: true})
		if err != nil {
			t.Fatal(err)
		}
		p := c.Publish
		if p.CampaignStateMachineARN != campaign || !slices.Equal(p.Policy.Owners(), []string{account}) || len(p.Policy.RequiredTags) != 0 ||
			p.MaxInFlight != publish.DefaultMaxInFlight || p.MaxWait != publish.DefaultMaxWait || p.Policy.Region != region || p.Policy.Account != account {
			t.Fatalf("publish %+v", p)
		}
	})
	t.Run("every knob is read", func(t *testing.T) {
		t.Parallel()
		env := with(base)
		for k, v := range map[string]string{EnvAllowedOwners: "210987654321, 123456789012", EnvRequiredTags: "phoenix:approved=true,scan=*", EnvMaxInFlight: "12", EnvMaxWait: "2h"} {
			env[k] = v
		}
		c, err := Load(Map(env), Needs{Publish: true})
		if err != nil {
			t.Fatal(err)
		}
		p := c.Publish
		if !slices.Equal(p.Policy.Owners(), []string{foreign, account}) || p.Policy.RequiredTags["scan"] != publish.AnyValue || p.MaxInFlight != 12 || p.MaxWait != 2*time.Hour {
			t.Fatalf("publish %+v", p)
		}
	})
	t.Run("every bad variable is named at once", func(t *testing.T) {
		t.Parallel()
		_, err := Load(Map(with(map[string]string{
			EnvCampaignStateMachineARN: "phoenix-campaign", EnvAccountID: "me", EnvRegion: "",
			EnvAllowedOwners: "12345", EnvRequiredTags: "approved", EnvMaxInFlight: "41", EnvMaxWait: "1m",
		})), Needs{Publish: true})
		if err == nil {
			t.Fatal("a broken environment was accepted")
		}
		for _, name := range []string{EnvCampaignStateMachineARN, EnvAccountID, EnvRegion, EnvAllowedOwners, EnvRequiredTags, EnvMaxInFlight, EnvMaxWait} {
			if !strings.Contains(err.Error(), name) {
				t.Errorf("the error does not name %s: %v", name, err)
			}
		}
	})
	t.Run("the gate reads only the max wait", func(t *testing.T) {
		t.Parallel()
		c, err := Load(Map(full()), Needs{Gate: true})
		if err != nil || c.Publish.MaxWait != publish.DefaultMaxWait || c.Publish.CampaignStateMachineARN != "" {
			t.Fatalf("without the variable: %+v, %v; want the default %s", c.Publish, err, publish.DefaultMaxWait)
		}
		c, err = Load(Map(with(map[string]string{EnvMaxWait: " 7200 "})), Needs{Gate: true})
		if err != nil || c.Publish.MaxWait != 2*time.Hour {
			t.Fatalf("%s=7200: %+v, %v", EnvMaxWait, c.Publish, err)
		}
		_, err = Load(Map(with(map[string]string{EnvMaxWait: "25h"})), Needs{Gate: true})
		if err == nil || !strings.Contains(err.Error(), EnvMaxWait) {
			t.Fatalf("a wait above %s: %v, want an error naming %s", publish.MaxMaxWait, err, EnvMaxWait)
		}
	})
}

func TestTheRecycleSection(t *testing.T) {
	t.Parallel()
	load := func(set map[string]string) (Config, error) {
		env := with(map[string]string{EnvStateMachineARN: machine})
		for k, v := range set {
			env[k] = v
		}
		return Load(Map(env), Needs{Recycle: true})
	}
	t.Run("unset variables take the defaults", func(t *testing.T) {
		t.Parallel()
		c, err := load(nil)
		if err != nil {
			t.Fatal(err)
		}
		want := recycle.Config{MaxAge: 7 * 24 * time.Hour, MaxPerNight: 5, Jitter: 30 * time.Minute, FreezeParameter: "/phoenix/freeze"}
		if c.Recycle != want || c.StateMachineARN != machine {
			t.Fatalf("got %+v (%s), want %+v", c.Recycle, c.StateMachineARN, want)
		}
	})
	t.Run("the template's values are read, seconds or Go durations", func(t *testing.T) {
		t.Parallel()
		c, err := load(map[string]string{EnvMaxAge: "86400", EnvMaxPerNight: "2", EnvJitter: "0", EnvFreezeParameter: "/ops/freeze-recycling"})
		if err != nil {
			t.Fatal(err)
		}
		if r := c.Recycle; r.MaxAge != 24*time.Hour || r.MaxPerNight != 2 || r.Jitter != 0 || r.FreezeParameter != "/ops/freeze-recycling" {
			t.Fatalf("got %+v", r)
		}
		if c, err = load(map[string]string{EnvMaxAge: "36h", EnvJitter: "10m"}); err != nil || c.Recycle.MaxAge != 36*time.Hour || c.Recycle.Jitter != 10*time.Minute {
			t.Fatalf("got %+v, %v", c.Recycle, err)
		}
	})
	t.Run("a freeze parameter set empty means no global freeze", func(t *testing.T) {
		t.Parallel()
		c, err := load(map[string]string{EnvFreezeParameter: ""})
		if err != nil || c.Recycle.FreezeParameter != "" {
			t.Fatalf("got %+v, %v", c.Recycle, err)
		}
	})
	t.Run("a max per night of 0 reports drift and starts nothing", func(t *testing.T) {
		t.Parallel()
		c, err := load(map[string]string{EnvMaxPerNight: "0"})
		if err != nil || c.Recycle.MaxPerNight != 0 {
			t.Fatalf("got %+v, %v", c.Recycle, err)
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
			_, err := load(map[string]string{tc.variable: tc.value})
			if err == nil || !strings.Contains(err.Error(), tc.variable) {
				t.Fatalf("got %v, want an error naming %s", err, tc.variable)
			}
		})
	}
	t.Run("every problem is reported at once", func(t *testing.T) {
		t.Parallel()
		_, err := load(map[string]string{EnvStateMachineARN: "", EnvMaxAge: "x", EnvJitter: "y"})
		for _, v := range []string{EnvStateMachineARN, EnvMaxAge, EnvJitter} {
			if err == nil || !strings.Contains(err.Error(), v) {
				t.Errorf("error %v does not name %s", err, v)
			}
		}
	})
}

func TestTheLifecycleSection(t *testing.T) {
	t.Parallel()
	load := func(set map[string]string) (Config, error) {
		env := with(map[string]string{EnvAccountID: account, EnvRegion: region, EnvImageLifecycle: "plan"})
		for k, v := range set {
			env[k] = v
		}
		return Load(Map(env), Needs{Lifecycle: true})
	}
	t.Run("plan with the defaults", func(t *testing.T) {
		t.Parallel()
		c, err := load(nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.Lifecycle.Apply || c.Lifecycle.Policy != lifecycle.DefaultPolicy() || c.Account != account {
			t.Fatalf("got %+v", c.Lifecycle)
		}
	})
	t.Run("the template's values are read", func(t *testing.T) {
		t.Parallel()
		c, err := load(map[string]string{EnvImageLifecycle: "apply", EnvLifecycleKeepVersions: "5", EnvLifecycleKeepRollback: "0",
			EnvLifecycleDeprecateAfter: "3600", EnvLifecycleDisableAfter: "36h", EnvLifecycleDeregisterAfter: "0",
			EnvLifecycleRetireShared: "true", EnvLifecycleMaxActionsPerNight: "12"})
		if err != nil {
			t.Fatal(err)
		}
		want := lifecycle.Policy{KeepVersions: 5, KeepRollbackVersions: 0, DeprecateAfter: time.Hour, DisableAfter: 36 * time.Hour,
			DeregisterAfter: 0, RetireShared: true, MaxActions: 12}
		if !c.Lifecycle.Apply || c.Lifecycle.Policy != want {
			t.Fatalf("got %+v, want apply with %+v", c.Lifecycle, want)
		}
	})
	bad := []struct {
		name, variable, value string
	}{
		{"a missing mode fails: a lost variable must not decide between deleting and not", EnvImageLifecycle, ""},
		{"an unknown mode fails", EnvImageLifecycle, "yes"},
		{"keeping no versions fails", EnvLifecycleKeepVersions, "0"},
		{"keeping more versions than a template holds fails", EnvLifecycleKeepVersions, "10001"},
		{"a negative rollback history fails", EnvLifecycleKeepRollback, "-1"},
		{"a wait that is no duration fails", EnvLifecycleDeprecateAfter, "a week"},
		{"a wait over a year fails", EnvLifecycleDeregisterAfter, "9000h"},
		{"a retire-shared that is no boolean fails", EnvLifecycleRetireShared, "maybe"},
		{"no actions a night fails", EnvLifecycleMaxActionsPerNight, "0"},
		{"a missing account fails", EnvAccountID, ""},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := load(map[string]string{tc.variable: tc.value})
			if err == nil || !strings.Contains(err.Error(), tc.variable) {
				t.Fatalf("got %v, want an error naming %s", err, tc.variable)
			}
		})
	}
}
