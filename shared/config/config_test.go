package config

import (
	"strings"
	"testing"
	"time"
)

func full() map[string]string {
	return map[string]string{
		EnvTable: "phoenix-ledger", EnvTopicARN: "arn:aws:sns:eu-west-1:123456789012:phoenix",
		EnvDefaultCheckpoints: "20,60", EnvDefaultMinHealthy: "90", EnvDefaultMaxHealthy: "120",
		EnvDefaultCheckpointDelay: "300", EnvDefaultBake: "15m", EnvDefaultGuardWindow: "7200", EnvLeaseTTL: "21600",
		EnvAwaitTimeout: "1500",
	}
}

func getenv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoad(t *testing.T) {
	c, err := Load(getenv(full()), Needs{})
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
	c, err := Load(getenv(env), Needs{})
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
		{"every problem is reported at once", map[string]string{EnvTable: "", EnvLeaseTTL: "soon"}, Needs{}, []string{EnvTable, EnvLeaseTTL}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := full()
			for k, v := range tc.set {
				env[k] = v
			}
			_, err := Load(getenv(env), tc.needs)
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
