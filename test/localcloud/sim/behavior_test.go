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
	for _, s := range []string{"", "healthy", "degrade-after:30", "degrade-after:x", "fail-launch"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		b, err := ParseBehavior(v)
		if err != nil && b.Kind != BehaviorHealthy {
			t.Fatalf("a bad value %q gave %s, want healthy", v, b.Kind)
		}
		if b.After < 0 {
			t.Fatalf("negative delay from %q", v)
		}
	})
}
