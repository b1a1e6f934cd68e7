package monitoring

import (
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/sim"
)

// TestCloud is what a CloudWatch rule test runs against: a CloudWatch whose
// events go to a World, on a stepped clock at clock.Epoch, and a client
// for it. Model is there only to read what has no API (the state instance
// refresh sees through sim.AlarmSource).
type TestCloud struct {
	World *sim.World
	Clock *clock.Sim
	Model *CloudWatch
	// Client returns a client addressing region. In-process the region
	// travels in the request context instead, so it is ignored.
	Client func(region string) CloudWatchAPI
	// OverHTTP is set when requests travel through the wire layer.
	OverHTTP bool
}

// Backend starts a fresh TestCloud for one test.
type Backend func(t testing.TB) *TestCloud

// TestSeed seeds every TestCloud's World.
const TestSeed = 7

// InProcess is the Backend that calls the model directly.
func InProcess(t testing.TB) *TestCloud {
	t.Helper()
	clk := clock.NewStepped(time.Time{})
	w := sim.New(sim.Options{Clock: clk, Seed: TestSeed})
	m := New(Options{Clock: clk, Events: w, Account: w.Account()})
	return &TestCloud{World: w, Clock: clk, Model: m, Client: func(string) CloudWatchAPI { return m }}
}

// Rule is one documented CloudWatch behaviour checked through the API
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
