package states

import (
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
)

// TestCloud is what a Step Functions rule test runs against: a Service on a
// stepped clock at clock.Epoch, seeded with TestSeed, and clients for it.
// Model is there for reading what has no API and for the in-process
// tests' scripted integrations.
type TestCloud struct {
	Clock *clock.Sim
	Model *Service
	// Client returns a client addressing region. In-process the region
	// travels in the request context instead, so it is ignored.
	Client func(region string) StepFunctionsAPI
}

// Backend starts a fresh TestCloud for one test whose tasks reach integ.
// Over HTTP the local cloud's own services are the integrations, so the
// rules that run there pass none.
type Backend func(t testing.TB, integ Integrations) *TestCloud

// TestSeed seeds every TestCloud.
const TestSeed = 7

// InProcess is the Backend that calls the model directly.
func InProcess(t testing.TB, integ Integrations) *TestCloud {
	t.Helper()
	clk := clock.NewStepped(time.Time{})
	svc := New(Options{Clock: clk, Seed: TestSeed, Integrations: integ})
	return &TestCloud{Clock: clk, Model: svc, Client: func(string) StepFunctionsAPI { return svc }}
}

// Rule is one documented Step Functions behaviour checked through the API
// alone, with no scripted integration, so that it runs in process and
// through a real SDK client over HTTP. Name is the rule in a few words.
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
