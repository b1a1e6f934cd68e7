package sim

import (
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
)

// TestCloud is what a rule test runs against: a World on a stepped clock at
// clock.Epoch, seeded with TestSeed, and API clients for it. The World and
// the clock are there for setup that has no AWS API (another account's
// image, a fault rule) and for reading state between clock steps; every
// operation the rule is about goes through the clients.
type TestCloud struct {
	World *World
	Clock *clock.Sim
	// Clients returns clients addressing region. In-process the region
	// travels in the request context instead, so the clients ignore it.
	Clients func(region string) Clients
	// SetAlarm makes a CloudWatch alarm exist in region in state (one of
	// AlarmOK, AlarmAlarm, AlarmInsufficientData) and keep that state until
	// it is set again.
	SetAlarm func(t testing.TB, region, name, state string)
	// OverHTTP is set when requests travel through the wire layer; a few
	// inputs (an empty structure, for one) cannot be written in a wire
	// protocol at all, and the rules leave those out then.
	OverHTTP bool
}

// Clients are the API surfaces of one region, with the aws-sdk-go-v2
// method signatures: the models in process, real SDK clients over HTTP.
type Clients struct {
	EC2         EC2API
	ELB         ELBAPI
	AutoScaling AutoScalingAPI
}

// Backend starts a fresh TestCloud for one test.
type Backend func(t testing.TB) *TestCloud

// TestSeed seeds every TestCloud, so that ids are the same in process and
// over HTTP.
const TestSeed = 7

// InProcess is the Backend that calls the models directly.
func InProcess(t testing.TB) *TestCloud {
	t.Helper()
	clk := clock.NewStepped(time.Time{})
	w := New(Options{Clock: clk, Seed: TestSeed})
	return &TestCloud{
		World: w,
		Clock: clk,
		Clients: func(string) Clients {
			return Clients{EC2: w.EC2(), ELB: w.ELB(), AutoScaling: w.AutoScaling()}
		},
		SetAlarm: func(_ testing.TB, region, name, state string) {
			w.Alarms.(*AlarmTable).Set(region, name, state)
		},
	}
}

// Rule is one documented behaviour checked through the API alone, so that
// it can run against the models in process and through real SDK clients
// over HTTP. Name is the rule in a few words, as the test's name.
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

// TestRules runs every rule against the models in process; the external
// test package runs the same rules over HTTP as TestConformance.
func TestRules(t *testing.T) { RunRules(t, Rules, InProcess) }
