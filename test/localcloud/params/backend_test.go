package params

import (
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/sim"
)

// TestCloud is what a Parameter Store rule test runs against: a Parameter
// Store on a stepped clock at clock.Epoch that validates AMI parameters
// against a World and sends its events through it, and clients for it.
// The World is there for setup with no SSM API (registering an AMI) and for
// reading the events it recorded.
type TestCloud struct {
	World *sim.World
	Clock *clock.Sim
	// Client returns a client addressing region. In-process the region
	// travels in the request context instead, so it is ignored.
	Client func(region string) ParameterStoreAPI
}

// Backend starts a fresh TestCloud for one test.
type Backend func(t testing.TB) *TestCloud

// TestSeed seeds every TestCloud's World.
const TestSeed = 3

// InProcess is the Backend that calls the model directly.
func InProcess(t testing.TB) *TestCloud {
	t.Helper()
	clk := clock.NewStepped(time.Time{})
	w := sim.New(sim.Options{Clock: clk, Seed: TestSeed})
	ps := New(Options{Clock: clk, Events: w, Images: w.EC2(), Account: w.Account()})
	return &TestCloud{World: w, Clock: clk, Client: func(string) ParameterStoreAPI { return ps }}
}

// Rule is one documented Parameter Store behaviour checked through the API
// alone, so that it runs in process and through a real SDK client over
// HTTP. Name is the rule in a few words.
type Rule struct {
	Name string
	Run  func(t *testing.T, b Backend)
}

// RunRules runs every rule as a subtest against b.
func RunRules(t *testing.T, rules []Rule, b Backend) {
	t.Helper()
	for _, r := range rules {
		t.Run(r.Name, func(t *testing.T) { r.Run(t, b) })
	}
}

// TestRules runs every rule against the model in process; the external
// test package runs the same rules over HTTP as TestConformance.
func TestRules(t *testing.T) { RunRules(t, Rules, InProcess) }
