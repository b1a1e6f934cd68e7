package eventbus

import (
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
)

// TestCloud is what an EventBridge rule test runs against: an EventBridge
// on a stepped clock at clock.Epoch and clients for it. Model and Recorder
// are set in process only: the tests of delivery, which watch what a
// Recorder target receives, have no AWS API to watch it with and stay in
// process.
type TestCloud struct {
	Clock    *clock.Sim
	Model    *EventBridge
	Recorder *Recorder
	// Client returns a client addressing region. In-process the region
	// travels in the request context instead, so it is ignored.
	Client func(region string) EventsAPI
}

// Backend starts a fresh TestCloud seeded with seed for one test.
type Backend func(t testing.TB, seed uint64) *TestCloud

// InProcess is the Backend that calls the model directly, delivering to a
// Recorder.
func InProcess(t testing.TB, seed uint64) *TestCloud {
	t.Helper()
	clk := clock.NewStepped(time.Time{})
	rec := &Recorder{}
	eb := New(Options{Clock: clk, Target: rec, Seed: seed})
	return &TestCloud{Clock: clk, Model: eb, Recorder: rec, Client: func(string) EventsAPI { return eb }}
}

// Rule is one documented EventBridge behaviour checked through the API
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
