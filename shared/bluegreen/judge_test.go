package bluegreen

import (
	"slices"
	"strings"
	"testing"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

func TestCountSideCountsOnlyServingInstancesOnTheVersion(t *testing.T) {
	g := rollout.Group{Instances: []rollout.Instance{
		{ID: "i-1", Lifecycle: "InService", Health: "Healthy", LaunchTemplateVersion: "2"},
		{ID: "i-2", Lifecycle: "InService", Health: "Healthy", LaunchTemplateVersion: "2"},
		{ID: "i-3", Lifecycle: "Pending", Health: "Healthy", LaunchTemplateVersion: "2"},
		{ID: "i-4", Lifecycle: "InService", Health: "Healthy", LaunchTemplateVersion: "1"},
		{ID: "i-5", Lifecycle: "InService", Health: "Healthy", LaunchTemplateVersion: "2"},
		{ID: "i-6", Lifecycle: "Terminating", Health: "Unhealthy", LaunchTemplateVersion: "2"},
		{ID: "i-7", Lifecycle: "InService", Health: "Unhealthy", LaunchTemplateVersion: "2"},
	}}
	health := []rollout.TargetState{
		{TargetGroupARN: "tg-green", InstanceID: "i-1", State: "healthy"},
		{TargetGroupARN: "tg-green", InstanceID: "i-2", State: "initial"},
		{TargetGroupARN: "tg-green", InstanceID: "i-5", State: "unhealthy"},
		{TargetGroupARN: "tg-green", InstanceID: "i-7", State: "healthy"},
		// Another target group's opinion does not count.
		{TargetGroupARN: "tg-blue", InstanceID: "i-2", State: "healthy"},
	}
	c := CountSide(g, health, "tg-green", "2")
	if c.Serving != 1 || !slices.Equal(c.Waiting, []string{"i-2", "i-3"}) || !slices.Equal(c.Stale, []string{"i-4"}) ||
		!slices.Equal(c.Unhealthy, []string{"i-5", "i-7"}) {
		t.Fatalf("count %+v", c)
	}
}

func TestProvenNeedsTheLiveCapacityAndNoUnhealthyTarget(t *testing.T) {
	cases := []struct {
		c    Count
		want int
		ok   bool
		why  string
	}{
		{Count{Serving: 3}, 3, true, "3 instances serve on the new version"},
		{Count{Serving: 4}, 3, true, "4 instances"},
		{Count{Serving: 2, Waiting: []string{"i-3"}}, 3, false, "2 of 3 instances serve on the new version (1 still launching or registering)"},
		{Count{Serving: 3, Unhealthy: []string{"i-4"}}, 3, false, "instances i-4 are unhealthy"},
	}
	for _, tc := range cases {
		ok, why := tc.c.Proven(tc.want)
		if ok != tc.ok || !strings.Contains(why, tc.why) {
			t.Errorf("%+v.Proven(%d) = %v %q, want %v %q", tc.c, tc.want, ok, why, tc.ok, tc.why)
		}
	}
}

func TestFailuresNameAlarmsUnhealthyTargetsAndLostCapacity(t *testing.T) {
	if f := (Count{Serving: 3}).Failures("web-green", 3, map[string]string{"a": "OK", "b": "INSUFFICIENT_DATA"}); len(f) != 0 {
		t.Errorf("a healthy side fails: %v", f)
	}
	f := Count{Serving: 2, Unhealthy: []string{"i-9"}}.Failures("web-green", 3, map[string]string{"z-5xx": "ALARM", "a-latency": "ALARM", "ok": "OK"})
	want := []string{"guard alarm a-latency is in ALARM", "guard alarm z-5xx is in ALARM", "web-green: instances i-9 are unhealthy",
		"web-green: 2 instances serve, fewer than the 3 the live group served with"}
	if !slices.Equal(f, want) {
		t.Errorf("failures\n %q\nwant\n %q", f, want)
	}
}
