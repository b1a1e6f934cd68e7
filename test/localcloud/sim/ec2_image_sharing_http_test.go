package sim_test

import (
	"testing"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/sim"
)

// TestImageSharingConformance runs the launch permission rules
// (ModifyImageAttribute and DescribeImageAttribute launchPermission)
// through real aws-sdk-go-v2 clients against a local cloud over HTTP.
func TestImageSharingConformance(t *testing.T) {
	sim.RunRules(t, sim.ImageSharingRules, overHTTP)
}
