package monitoring_test

import (
	"testing"

	"github.com/phoenix-rollouts/phoenix/test/localcloud"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/monitoring"
)

// TestConformance runs every CloudWatch rule through a real aws-sdk-go-v2
// client (Smithy RPCv2 CBOR) against a stepped local cloud over HTTP.
func TestConformance(t *testing.T) { monitoring.RunRules(t, monitoring.Rules, overHTTP) }

// overHTTP is the Backend of a fresh local cloud served on a loopback port.
func overHTTP(t testing.TB) *monitoring.TestCloud {
	t.Helper()
	env := cloudtest.New(t, localcloud.Options{Seed: monitoring.TestSeed})
	return &monitoring.TestCloud{
		World: env.Cloud.World,
		Clock: env.Cloud.Clock,
		Model: env.Cloud.CloudWatch,
		Client: func(region string) monitoring.CloudWatchAPI {
			return env.InRegion(region).WithoutClientValidation().CloudWatch
		},
		OverHTTP: true,
	}
}
