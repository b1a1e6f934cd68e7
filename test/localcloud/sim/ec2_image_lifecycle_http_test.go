package sim_test

import (
	"testing"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/sim"
)

// TestImageLifecycleConformance runs the AMI life-stage rules (snapshots,
// deprecation, disabling, deregistration protection, lastLaunchedTime)
// through real aws-sdk-go-v2 clients against a local cloud over HTTP.
func TestImageLifecycleConformance(t *testing.T) {
	sim.RunRules(t, sim.ImageLifecycleRules, overHTTP)
}
