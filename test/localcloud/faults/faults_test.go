package faults

import (
	"strings"
	"testing"
)

func TestRulesAreValidatedWithMessagesAClientCanAct(t *testing.T) {
	cases := []struct {
		name string
		rule Rule
		want string
	}{
		{"an unknown kind is refused", Rule{Kind: "meteor"}, "unknown fault kind"},
		{"nth and probability are exclusive", Rule{Kind: Throttle, Nth: 2, Probability: 0.5}, "exclusive"},
		{"a probability above one is refused", Rule{Kind: Throttle, Probability: 1.5}, "probability"},
		{"a latency fault needs a delay", Rule{Kind: Latency}, "latencyMillis"},
		{"a server error status must be an error status", Rule{Kind: ServerError, Status: 200}, "status"},
		{"model faults take a target, not an operation", Rule{Kind: LaunchFailure, Operation: "RunInstances"}, "target"},
		{"API faults take an operation, not a target", Rule{Kind: Throttle, Target: "i-1"}, "service and operation"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(1).Add(tc.rule)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Add(%+v) = %v, want an error mentioning %q", tc.rule, err, tc.want)
			}
		})
	}
}

func TestAnNthRuleFiresOnlyOnTheNthMatchingCall(t *testing.T) {
	in := New(1)
	if _, err := in.Add(Rule{Kind: Throttle, Service: "autoscaling", Operation: "StartInstanceRefresh", Nth: 3}); err != nil {
		t.Fatal(err)
	}
	var fired []int
	for call := 1; call <= 5; call++ {
		in.API("autoscaling", "DescribeInstanceRefreshes") // other operations do not count
		if len(in.API("autoscaling", "StartInstanceRefresh")) > 0 {
			fired = append(fired, call)
		}
	}
	if len(fired) != 1 || fired[0] != 3 {
		t.Fatalf("fired on calls %v, want [3]", fired)
	}
}

func TestTimesBoundsHowOftenARuleFires(t *testing.T) {
	in := New(1)
	if _, err := in.Add(Rule{Kind: ServerError, Times: 2}); err != nil {
		t.Fatal(err)
	}
	n := 0
	for range 10 {
		n += len(in.API("ec2", "DescribeImages"))
	}
	if n != 2 {
		t.Fatalf("fired %d times, want 2", n)
	}
}

func TestProbabilisticRulesRepeatForTheSameSeed(t *testing.T) {
	pattern := func(seed uint64) string {
		in := New(seed)
		if _, err := in.Add(Rule{Kind: Throttle, Probability: 0.3}); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for range 64 {
			if len(in.API("sfn", "StartExecution")) > 0 {
				b.WriteByte('x')
			} else {
				b.WriteByte('.')
			}
		}
		return b.String()
	}
	a, b := pattern(42), pattern(42)
	if a != b {
		t.Fatalf("same seed, different faults:\n%s\n%s", a, b)
	}
	if hits := strings.Count(a, "x"); hits < 8 || hits > 35 {
		t.Fatalf("a 0.3 probability fired %d of 64 times: %s", hits, a)
	}
	if pattern(43) == a {
		t.Fatal("different seeds gave the same pattern")
	}
}

func TestLatencyComesBeforeAtMostOneError(t *testing.T) {
	in := New(1)
	for _, r := range []Rule{{Kind: Throttle}, {Kind: ServerError}, {Kind: Latency, LatencyMillis: 5}} {
		if _, err := in.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	got := in.API("ec2", "RunInstances")
	if len(got) != 2 || got[0].Kind != Latency || got[1].Kind != Throttle {
		t.Fatalf("got %+v, want latency then the first error rule", got)
	}
}

func TestModelFaultsMatchAnyOfTheirTargets(t *testing.T) {
	in := New(1)
	if _, err := in.Add(Rule{Kind: InsufficientCapacity, Target: "us-east-1b", Times: 1}); err != nil {
		t.Fatal(err)
	}
	if _, ok := in.Model(InsufficientCapacity, "i-1", "m5.large", "us-east-1a"); ok {
		t.Fatal("fired for another zone")
	}
	if _, ok := in.Model(LaunchFailure, "i-1", "m5.large", "us-east-1b"); ok {
		t.Fatal("fired for another kind")
	}
	if _, ok := in.Model(InsufficientCapacity, "i-2", "m5.large", "us-east-1b"); !ok {
		t.Fatal("did not fire for its zone")
	}
	if _, ok := in.Model(InsufficientCapacity, "i-3", "m5.large", "us-east-1b"); ok {
		t.Fatal("fired beyond Times")
	}
}

func TestRemoveAndClear(t *testing.T) {
	in := New(1)
	id, _ := in.Add(Rule{Kind: Throttle})
	if _, err := in.Add(Rule{Kind: Throttle, ID: id}); err == nil {
		t.Fatal("a duplicate id was accepted")
	}
	if !in.Remove(id) || in.Remove(id) {
		t.Fatal("Remove should succeed once")
	}
	if _, err := in.Add(Rule{Kind: Throttle}); err != nil {
		t.Fatal(err)
	}
	in.Clear()
	if len(in.Rules()) != 0 || len(in.API("ec2", "X")) != 0 {
		t.Fatal("Clear left rules behind")
	}
}
