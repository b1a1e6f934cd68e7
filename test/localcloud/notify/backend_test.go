package notify

import (
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/keys"
)

// TestCloud is what an SNS rule test runs against: an SNS on a stepped
// clock at clock.Epoch, seeded with TestSeed, with a key store for
// encrypted topics, and clients for it. Model is
// there only to read what SNS has no API for: the messages a topic
// received.
type TestCloud struct {
	Clock *clock.Sim
	Model *SNS
	// Client returns a client addressing region. In-process the region
	// travels in the request context instead, so it is ignored.
	Client func(region string) SNSAPI
	// OverHTTP is set when requests travel through the wire layer.
	OverHTTP bool
}

// Backend starts a fresh TestCloud for one test.
type Backend func(t testing.TB) *TestCloud

// TestSeed seeds every TestCloud.
const TestSeed = 1

// InProcess is the Backend that calls the model directly.
func InProcess(t testing.TB) *TestCloud {
	t.Helper()
	clk := clock.NewStepped(time.Time{})
	m := New(Options{Clock: clk, Seed: TestSeed, Keys: keys.New(keys.Options{Seed: TestSeed})})
	return &TestCloud{Clock: clk, Model: m, Client: func(string) SNSAPI { return m }}
}

// Rule is one documented SNS behaviour checked through the API alone, so
// that it runs in process and through a real SDK client over HTTP. Name is
// the rule in a few words.
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
