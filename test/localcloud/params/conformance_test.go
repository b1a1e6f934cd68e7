package params_test

import (
	"testing"

	"github.com/phoenix-rollouts/phoenix/test/localcloud"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/params"
)

// TestConformance runs every Parameter Store rule through a real
// aws-sdk-go-v2 SSM client (AWS JSON 1.1) against a stepped local cloud
// over HTTP.
func TestConformance(t *testing.T) { params.RunRules(t, params.Rules, overHTTP) }

// overHTTP is the Backend of a fresh local cloud served on a loopback port.
func overHTTP(t testing.TB) *params.TestCloud {
	t.Helper()
	env := cloudtest.New(t, localcloud.Options{Seed: params.TestSeed})
	return &params.TestCloud{
		World: env.Cloud.World,
		Clock: env.Cloud.Clock,
		Client: func(region string) params.ParameterStoreAPI {
			return env.InRegion(region).WithoutClientValidation().SSM
		},
	}
}
