package notify_test

import (
	"testing"

	"github.com/phoenix-rollouts/phoenix/test/localcloud"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/notify"
)

// TestConformance runs every SNS rule through a real aws-sdk-go-v2 client
// (AWS query protocol) against a stepped local cloud over HTTP.
func TestConformance(t *testing.T) { notify.RunRules(t, notify.Rules, overHTTP) }

// overHTTP is the Backend of a fresh local cloud served on a loopback port.
func overHTTP(t testing.TB) *notify.TestCloud {
	t.Helper()
	env := cloudtest.New(t, localcloud.Options{Seed: notify.TestSeed})
	return &notify.TestCloud{
		Clock: env.Cloud.Clock,
		Model: env.Cloud.SNS,
		Client: func(region string) notify.SNSAPI {
			return env.InRegion(region).WithoutClientValidation().SNS
		},
		OverHTTP: true,
	}
}
