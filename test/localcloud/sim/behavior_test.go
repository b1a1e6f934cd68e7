package sim

import (
	"testing"
	"time"
)

func TestBehaviourTagValuesParseAsDocumented(t *testing.T) {
	tests := []struct {
		rule    string
		value   string
		want    Behavior
		wantErr bool
	}{
		{"no tag means healthy", "", Behavior{Kind: BehaviorHealthy}, false},
		{"healthy is healthy", "healthy", Behavior{Kind: BehaviorHealthy}, false},
		{"unhealthy is unhealthy", "unhealthy", Behavior{Kind: BehaviorUnhealthy}, false},
		{"fail-launch is fail-launch", "fail-launch", Behavior{Kind: BehaviorFailLaunch}, false},
		{"slow-boot is slow-boot", " slow-boot ", Behavior{Kind: BehaviorSlowBoot}, false},
		{"degrade-after takes whole seconds", "degrade-after:600", Behavior{Kind: BehaviorDegradeAfter, After: 10 * time.Minute}, false},
		{"degrade-after:0 degrades at once", "degrade-after:0", Behavior{Kind: BehaviorDegradeAfter}, false},
		{"an unknown word is healthy and reported", "flaky", Behavior{Kind: BehaviorHealthy}, true},
		{"degrade-after without seconds is healthy and reported", "degrade-after:", Behavior{Kind: BehaviorHealthy}, true},
		{"degrade-after with a unit is healthy and reported", "degrade-after:10m", Behavior{Kind: BehaviorHealthy}, true},
		{"negative seconds are healthy and reported", "degrade-after:-5", Behavior{Kind: BehaviorHealthy}, true},
		{"values are case-sensitive, as tag values are", "Unhealthy", Behavior{Kind: BehaviorHealthy}, true},
		{"errors takes a fraction of requests", "errors:0.03", Behavior{Kind: BehaviorHealthy, Errors: 0.03}, false},
		{"slower takes a latency factor", "slower:1.4", Behavior{Kind: BehaviorHealthy, Slower: 1.4}, false},
		{"a factor below 1 is faster", "slower:0.5", Behavior{Kind: BehaviorHealthy, Slower: 0.5}, false},
		{"leak takes points an hour", "leak:2", Behavior{Kind: BehaviorHealthy, Leak: 2}, false},
		{"regressions combine, separated by commas", "errors:0.02,slower:1.5", Behavior{Kind: BehaviorHealthy, Errors: 0.02, Slower: 1.5}, false},
		{"regressions combine, separated by spaces, in any order", "leak:2  errors:.5 slower:3", Behavior{Kind: BehaviorHealthy, Errors: 0.5, Slower: 3, Leak: 2}, false},
		{"a kind and regressions combine", "degrade-after:600, errors:0.01", Behavior{Kind: BehaviorDegradeAfter, After: 10 * time.Minute, Errors: 0.01}, false},
		{"healthy may be named beside a regression", "healthy leak:0.5", Behavior{Kind: BehaviorHealthy, Leak: 0.5}, false},
		{"the bounds are allowed", "errors:1 slower:100 leak:100", Behavior{Kind: BehaviorHealthy, Errors: 1, Slower: 100, Leak: 100}, false},
		{"zero is no regression", "errors:0 leak:0", Behavior{Kind: BehaviorHealthy}, false},
		{"two kinds are reported", "unhealthy slow-boot", Behavior{Kind: BehaviorHealthy}, true},
		{"a regression given twice is reported", "errors:0.01 errors:0.02", Behavior{Kind: BehaviorHealthy}, true},
		{"errors above 1 are reported: it is a fraction, not a percent", "errors:3", Behavior{Kind: BehaviorHealthy}, true},
		{"a percent sign is reported", "errors:3%", Behavior{Kind: BehaviorHealthy}, true},
		{"slower:0 is reported", "slower:0", Behavior{Kind: BehaviorHealthy}, true},
		{"a factor above 100 is reported", "slower:101", Behavior{Kind: BehaviorHealthy}, true},
		{"a negative leak is reported", "leak:-1", Behavior{Kind: BehaviorHealthy}, true},
		{"an exponent is reported", "leak:1e1", Behavior{Kind: BehaviorHealthy}, true},
		{"NaN is reported", "slower:NaN", Behavior{Kind: BehaviorHealthy}, true},
		{"a regression without a number is reported", "leak", Behavior{Kind: BehaviorHealthy}, true},
		{"a regression with an empty number is reported", "slower:", Behavior{Kind: BehaviorHealthy}, true},
		{"a bad term spoils the value, regressions and all", "errors:0.02 slower:fast", Behavior{Kind: BehaviorHealthy}, true},
		{"regression words are case-sensitive", "Errors:0.02", Behavior{Kind: BehaviorHealthy}, true},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			got, err := ParseBehavior(tt.value)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Fatalf("ParseBehavior(%q) = %+v, %v; want %+v, error %v", tt.value, got, err, tt.want, tt.wantErr)
			}
			if err == nil {
				if back, err := ParseBehavior(got.String()); err != nil || back != got {
					t.Fatalf("String() = %q does not parse back to %+v", got.String(), got)
				}
			}
		})
	}
}

func TestInstancesAnswerRequestsAsTheirBehaviourSays(t *testing.T) {
	running := clockStart()
	ready := running.Add(time.Minute)
	tests := []struct {
		rule     string
		inst     Instance
		at       time.Time
		wantCode int
		wantErr  float64
		wantLat  time.Duration
	}{
		{"a pending instance refuses connections", Instance{State: InstancePending}, running, 0, 1, time.Millisecond},
		{"a running instance refuses connections until its application starts", Instance{State: InstanceRunning, RunningAt: running, ReadyAt: ready}, ready.Add(-time.Second), 0, 1, time.Millisecond},
		{"a healthy instance answers 200", Instance{State: InstanceRunning, RunningAt: running, ReadyAt: ready}, ready, 200, 0, 20 * time.Millisecond},
		{"an unhealthy instance answers 500", Instance{State: InstanceRunning, RunningAt: running, ReadyAt: ready, Behavior: Behavior{Kind: BehaviorUnhealthy}}, ready, 500, 1, 10 * time.Millisecond},
		{"a degrading instance answers 200 before its time", Instance{State: InstanceRunning, RunningAt: running, ReadyAt: ready, Behavior: Behavior{Kind: BehaviorDegradeAfter, After: 5 * time.Minute}}, running.Add(5*time.Minute - time.Second), 200, 0, 20 * time.Millisecond},
		{"a degraded instance times out", Instance{State: InstanceRunning, RunningAt: running, ReadyAt: ready, Behavior: Behavior{Kind: BehaviorDegradeAfter, After: 5 * time.Minute}}, running.Add(5 * time.Minute), 0, 0.5, 1500 * time.Millisecond},
		{"a shutting-down instance refuses connections", Instance{State: InstanceShuttingDown, RunningAt: running, ReadyAt: ready}, ready, 0, 1, time.Millisecond},
		{"errors:P fails P of a healthy instance's requests and passes its health check", Instance{State: InstanceRunning, RunningAt: running, ReadyAt: ready, Behavior: Behavior{Kind: BehaviorHealthy, Errors: 0.03}}, ready, 200, 0.03, 20 * time.Millisecond},
		{"slower:F multiplies the latency and passes the health check", Instance{State: InstanceRunning, RunningAt: running, ReadyAt: ready, Behavior: Behavior{Kind: BehaviorHealthy, Slower: 1.5}}, ready, 200, 0, 30 * time.Millisecond},
		{"leak:R changes nothing the load balancer sees", Instance{State: InstanceRunning, RunningAt: running, ReadyAt: ready, Behavior: Behavior{Kind: BehaviorHealthy, Leak: 50}}, ready.Add(10 * time.Hour), 200, 0, 20 * time.Millisecond},
		{"errors:P adds failures independent of a degraded instance's", Instance{State: InstanceRunning, RunningAt: running, ReadyAt: ready, Behavior: Behavior{Kind: BehaviorDegradeAfter, Errors: 0.5, Slower: 2}}, ready, 0, 0.75, 3000 * time.Millisecond},
		{"regressions do not reach requests refused before the application starts", Instance{State: InstanceRunning, RunningAt: running, ReadyAt: ready, Behavior: Behavior{Kind: BehaviorHealthy, Errors: 0.5, Slower: 2}}, running, 0, 1, time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			if got := tt.inst.answer(tt.at).code; got != tt.wantCode {
				t.Fatalf("code %d, want %d", got, tt.wantCode)
			}
			errShare, lat := tt.inst.traffic(tt.at)
			if errShare != tt.wantErr || lat != tt.wantLat {
				t.Fatalf("traffic %v errors at %v, want %v at %v", errShare, lat, tt.wantErr, tt.wantLat)
			}
		})
	}
}

func clockStart() time.Time { return time.Date(2026, time.January, 5, 9, 0, 0, 0, time.UTC) }

func FuzzParseBehavior(f *testing.F) {
	for _, s := range []string{"", "healthy", "degrade-after:30", "degrade-after:x", "fail-launch", "errors:0.02,slower:1.5", "leak:2 unhealthy", "slower:.5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		b, err := ParseBehavior(v)
		if err != nil && b != (Behavior{Kind: BehaviorHealthy}) {
			t.Fatalf("a bad value %q gave %+v, want healthy without regressions", v, b)
		}
		if b.After < 0 || b.Errors < 0 || b.Errors > 1 || b.Slower < 0 || b.Slower > 100 || b.Leak < 0 || b.Leak > 100 {
			t.Fatalf("%q gave %+v, out of range", v, b)
		}
		if err == nil {
			if back, err := ParseBehavior(b.String()); err != nil || back != b {
				t.Fatalf("%q: String() = %q parses to %+v, %v; want %+v", v, b.String(), back, err, b)
			}
		}
	})
}
