package publish

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func env(over map[string]string) func(string) string {
	base := map[string]string{
		EnvCampaignStateMachineARN: "arn:aws:states:us-east-1:123456789012:stateMachine:phoenix-campaign",
		EnvAccountID:               acct,
		EnvRegion:                  region,
	}
	for k, v := range over {
		base[k] = v
	}
	return func(k string) string { return base[k] }
}

func TestConfigDefaultsToTheDeployingAccountOnly(t *testing.T) {
	t.Parallel()
	c, err := LoadConfig(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Policy.Owners(), []string{acct}) || len(c.Policy.RequiredTags) != 0 || c.MaxInFlight != DefaultMaxInFlight || c.MaxWait != DefaultMaxWait || c.Policy.Region != region {
		t.Fatalf("config %+v", c)
	}
}

func TestConfigReadsEveryKnob(t *testing.T) {
	t.Parallel()
	c, err := LoadConfig(env(map[string]string{
		EnvAllowedOwners: "210987654321, 123456789012", EnvRequiredTags: "phoenix:approved=true,scan=*",
		EnvMaxInFlight: "12", EnvMaxWait: "2h",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Policy.Owners(), []string{foreign, acct}) || c.Policy.RequiredTags["scan"] != AnyValue || c.MaxInFlight != 12 || c.MaxWait != 2*time.Hour {
		t.Fatalf("config %+v", c)
	}
}

func TestConfigNamesEveryBadVariableAtOnce(t *testing.T) {
	t.Parallel()
	_, err := LoadConfig(env(map[string]string{
		EnvCampaignStateMachineARN: "phoenix-campaign", EnvAccountID: "me", EnvRegion: "",
		EnvAllowedOwners: "12345", EnvRequiredTags: "approved", EnvMaxInFlight: "41", EnvMaxWait: "1m",
	}))
	if err == nil {
		t.Fatal("a broken environment was accepted")
	}
	for _, name := range []string{EnvCampaignStateMachineARN, EnvAccountID, EnvRegion, EnvAllowedOwners, EnvRequiredTags, EnvMaxInFlight, EnvMaxWait} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("the error does not name %s: %v", name, err)
		}
	}
}

func TestTheGateReadsOnlyTheMaxWait(t *testing.T) {
	t.Parallel()
	none := func(string) string { return "" }
	c, err := LoadGateConfig(none)
	if err != nil || c.MaxWait != DefaultMaxWait {
		t.Fatalf("without the variable: %+v, %v; want the default %s", c, err, DefaultMaxWait)
	}
	c, err = LoadGateConfig(func(k string) string { return map[string]string{EnvMaxWait: " 7200 "}[k] })
	if err != nil || c.MaxWait != 2*time.Hour {
		t.Fatalf("%s=7200: %+v, %v", EnvMaxWait, c, err)
	}
	_, err = LoadGateConfig(func(k string) string { return map[string]string{EnvMaxWait: "25h"}[k] })
	if err == nil || !strings.Contains(err.Error(), EnvMaxWait) {
		t.Fatalf("a wait above %s: %v, want an error naming %s", MaxMaxWait, err, EnvMaxWait)
	}
}
