// Package faults decides when the local cloud misbehaves on purpose.
//
// A Rule names a kind of fault, what it applies to, and when it fires: on
// every matching call, only on the Nth, or with a probability drawn from a
// seeded source so that a run is repeatable. The wire layer asks about API
// faults (throttling, server errors, latency) for each request; the model
// asks about launch failures, capacity errors and health flaps.
package faults

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"
)

// Kind is a kind of fault.
type Kind string

// The kinds of fault the local cloud can inject.
const (
	// Throttle answers an API call with the service's throttling error.
	Throttle Kind = "throttle"
	// ServerError answers an API call with a 5xx error.
	ServerError Kind = "server-error"
	// Latency delays an API call's answer by Rule.LatencyMillis of wall time.
	Latency Kind = "latency"
	// LaunchFailure makes an instance launch fail (the instance is not created).
	LaunchFailure Kind = "launch-failure"
	// InsufficientCapacity makes a launch fail with InsufficientInstanceCapacity.
	InsufficientCapacity Kind = "insufficient-capacity"
	// HealthFlap makes a target's next health checks fail.
	HealthFlap Kind = "health-flap"
	// FunctionCrash makes a Lambda function's runtime process exit during an
	// invocation (Lambda reports Runtime.ExitError).
	FunctionCrash Kind = "function-crash"
	// FunctionTimeout makes a Lambda invocation run past its timeout (Lambda
	// reports "Task timed out").
	FunctionTimeout Kind = "function-timeout"
)

// Kinds lists every kind, for validation and documentation.
var Kinds = []Kind{Throttle, ServerError, Latency, LaunchFailure, InsufficientCapacity, HealthFlap, FunctionCrash, FunctionTimeout}

// API reports whether the kind applies to API calls (as opposed to the model).
func (k Kind) API() bool { return k == Throttle || k == ServerError || k == Latency }

// Rule is one fault to inject.
type Rule struct {
	ID   string `json:"id,omitempty"`
	Kind Kind   `json:"kind"`
	// Service and Operation select API calls for API kinds ("autoscaling",
	// "StartInstanceRefresh"); empty or "*" matches any.
	Service   string `json:"service,omitempty"`
	Operation string `json:"operation,omitempty"`
	// Target selects what a model fault applies to: an instance id, instance
	// type, availability zone, group name or target group ARN; empty or "*"
	// matches any.
	Target string `json:"target,omitempty"`
	// Nth fires the rule only on the Nth matching call (1-based).
	Nth int `json:"nth,omitempty"`
	// Probability fires the rule with this probability (0 < p <= 1).
	Probability float64 `json:"probability,omitempty"`
	// Times bounds how many times the rule fires; 0 means no bound.
	Times int `json:"times,omitempty"`
	// LatencyMillis is the delay of a Latency fault.
	LatencyMillis int `json:"latencyMillis,omitempty"`
	// Status, Code and Message override the error a ServerError or Throttle
	// fault answers with.
	Status  int    `json:"status,omitempty"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`

	// Calls counts matching calls, Fired how many times the rule fired.
	Calls int `json:"calls"`
	Fired int `json:"fired"`
}

// Validate reports the first problem with r, as a message fit for a client.
func (r *Rule) Validate() error {
	known := false
	for _, k := range Kinds {
		if r.Kind == k {
			known = true
		}
	}
	switch {
	case !known:
		return fmt.Errorf("unknown fault kind %q (want one of %s)", r.Kind, kindList())
	case r.Nth < 0:
		return fmt.Errorf("nth must be 1 or more, got %d", r.Nth)
	case r.Probability < 0 || r.Probability > 1:
		return fmt.Errorf("probability must be within (0, 1], got %v", r.Probability)
	case r.Nth > 0 && r.Probability > 0:
		return fmt.Errorf("nth and probability are exclusive")
	case r.Times < 0:
		return fmt.Errorf("times must be 0 (no bound) or more, got %d", r.Times)
	case r.Kind == Latency && (r.LatencyMillis <= 0 || r.LatencyMillis > 60000):
		return fmt.Errorf("latencyMillis must be within 1..60000 for a latency fault, got %d", r.LatencyMillis)
	case r.Status != 0 && (r.Status < 400 || r.Status > 599):
		return fmt.Errorf("status must be an HTTP error status (400-599), got %d", r.Status)
	case !r.Kind.API() && (r.Service != "" || r.Operation != ""):
		return fmt.Errorf("service and operation apply to API faults only; use target for %s", r.Kind)
	case r.Kind.API() && r.Target != "":
		return fmt.Errorf("target applies to model faults only; use service and operation for %s", r.Kind)
	}
	return nil
}

func kindList() string {
	s := make([]string, len(Kinds))
	for i, k := range Kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// Delay returns a Latency rule's delay.
func (r *Rule) Delay() time.Duration { return time.Duration(r.LatencyMillis) * time.Millisecond }

// Injector holds the active rules. It is safe for concurrent use.
type Injector struct {
	mu    sync.Mutex
	rng   *rand.Rand
	rules []*Rule
	next  int
}

// New returns an Injector whose probabilities draw from seed.
func New(seed uint64) *Injector {
	return &Injector{rng: rand.New(rand.NewPCG(seed, 0xfa17))}
}

// Add validates and installs a rule, returning its id.
func (in *Injector) Add(r Rule) (string, error) {
	if err := r.Validate(); err != nil {
		return "", err
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.next++
	if r.ID == "" {
		r.ID = fmt.Sprintf("fault-%d", in.next)
	}
	for _, old := range in.rules {
		if old.ID == r.ID {
			return "", fmt.Errorf("a fault with id %q exists", r.ID)
		}
	}
	r.Calls, r.Fired = 0, 0
	in.rules = append(in.rules, &r)
	return r.ID, nil
}

// Remove deletes the rule with id; it reports whether one existed.
func (in *Injector) Remove(id string) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	for i, r := range in.rules {
		if r.ID == id {
			in.rules = append(in.rules[:i], in.rules[i+1:]...)
			return true
		}
	}
	return false
}

// Clear deletes every rule.
func (in *Injector) Clear() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.rules = nil
}

// Rules returns copies of the active rules with their counters, by id.
func (in *Injector) Rules() []Rule {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make([]Rule, len(in.rules))
	for i, r := range in.rules {
		out[i] = *r
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// API returns the rules that fire for one API call, in the order they were
// added; at most one error-kind rule (Throttle or ServerError) is returned,
// after any Latency rules.
func (in *Injector) API(service, operation string) []Rule {
	in.mu.Lock()
	defer in.mu.Unlock()
	var out []Rule
	errored := false
	for _, r := range in.rules {
		if !r.Kind.API() || !match(r.Service, service) || !match(r.Operation, operation) {
			continue
		}
		if r.Kind != Latency && errored {
			continue
		}
		if in.fire(r) {
			out = append(out, *r)
			if r.Kind != Latency {
				errored = true
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Kind == Latency && out[j].Kind != Latency })
	return out
}

// Model reports whether a model fault of kind fires for any of targets (for
// example an instance's id, type, zone and group), returning the rule.
func (in *Injector) Model(kind Kind, targets ...string) (Rule, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, r := range in.rules {
		if r.Kind != kind {
			continue
		}
		hit := r.Target == "" || r.Target == "*"
		for _, t := range targets {
			if t != "" && t == r.Target {
				hit = true
			}
		}
		if hit && in.fire(r) {
			return *r, true
		}
	}
	return Rule{}, false
}

// fire counts a matching call and decides whether the rule fires on it.
func (in *Injector) fire(r *Rule) bool {
	if r.Times > 0 && r.Fired >= r.Times {
		return false
	}
	r.Calls++
	switch {
	case r.Nth > 0:
		if r.Calls != r.Nth {
			return false
		}
	case r.Probability > 0:
		if in.rng.Float64() >= r.Probability {
			return false
		}
	}
	r.Fired++
	return true
}

func match(pattern, v string) bool { return pattern == "" || pattern == "*" || pattern == v }
