package imagepipeline

import (
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api/apitest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/sim"
)

// TestImageBuilderNilInput: GetImage answers a nil input as the empty
// request it stands for, with the error it answered nil with before.
func TestImageBuilderNilInput(t *testing.T) {
	clk := clock.NewStepped(time.Time{})
	w := sim.New(sim.Options{Clock: clk, Seed: 5})
	b := New(Options{Clock: clk, Events: w, EC2: w.EC2(), Account: w.Account()})
	apitest.NilAnswers(t, "GetImage", b.GetImage, "InvalidRequestException")
}
