package states_test

import (
	"reflect"
	"testing"

	"github.com/phoenix-rollouts/phoenix/test/localcloud"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/states"
)

// TestConformance runs every Step Functions rule through a real
// aws-sdk-go-v2 sfn client (AWS JSON 1.0) against a stepped local cloud
// over HTTP.
func TestConformance(t *testing.T) { states.RunRules(t, states.Rules, overHTTP) }

// overHTTP is the Backend of a fresh local cloud served on a loopback port.
// The cloud's own services are the integrations there; a rule asking for
// scripted ones belongs in process only.
func overHTTP(t testing.TB, integ states.Integrations) *states.TestCloud {
	t.Helper()
	if !reflect.ValueOf(integ).IsZero() {
		t.Fatal("scripted integrations exist in process only; run this rule with states.InProcess")
	}
	env := cloudtest.New(t, localcloud.Options{Seed: states.TestSeed})
	return &states.TestCloud{
		Clock: env.Cloud.Clock,
		Model: env.Cloud.StepFunctions,
		Client: func(region string) states.StepFunctionsAPI {
			return env.InRegion(region).WithoutClientValidation().StepFunctions
		},
	}
}
