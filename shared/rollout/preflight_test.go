package rollout

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// webGroup is a healthy opted-in group of four on a numbered launch
// template version, for preflight cases to bend.
func webGroup() Group {
	return Group{
		Key: GroupKey{Region: "eu-west-1", Name: "web"}, LaunchTemplateID: "lt-1", LaunchTemplateVersion: "3",
		Min: 2, Max: 8, Desired: 4, HealthCheckType: "ELB",
	}
}

func webInput() PreflightInput {
	p := DefaultPolicy()
	p.Enabled = true
	return PreflightInput{
		Request: Request{RolloutID: "r1", Group: webGroup().Key, Mode: ModeImage, ImageID: "ami-new"},
		Group:   webGroup(),
		Policy:  p,
		Current: TemplateVersion{LaunchTemplateID: "lt-1", Number: 3, ImageID: "ami-old", InstanceType: "m7g.large"},
		Image:   &Image{ID: "ami-new", State: "available", Architecture: "arm64"},
		Architectures: map[string][]string{
			"m7g.large": {"arm64"}, "m7i.large": {"x86_64"},
		},
	}
}

func TestPreflight(t *testing.T) {
	cases := []struct {
		name   string
		change func(in *PreflightInput)
		refuse string // a phrase of the reason; "" means accepted
	}{
		{"a group on a launch template with an available image of the right architecture is accepted", func(*PreflightInput) {}, ""},
		{"a group on a launch configuration is refused", func(in *PreflightInput) {
			in.Group.LaunchTemplateID, in.Group.LaunchTemplateVersion, in.Group.LaunchConfigurationName = "", "", "web-lc"
		}, "launch configuration web-lc"},
		{"a group with attribute-based instance selection is refused", func(in *PreflightInput) { in.Group.AttributeBased = true }, "by attributes"},
		{"a suspended InstanceRefresh process is refused", func(in *PreflightInput) {
			in.Group.SuspendedProcesses = []string{"AZRebalance", "InstanceRefresh"}
		}, "InstanceRefresh process is suspended"},
		{"a suspended Launch process is refused", func(in *PreflightInput) { in.Group.SuspendedProcesses = []string{"Launch"} }, "Launch process"},
		{"a group that is not opted in is refused", func(in *PreflightInput) { in.Policy.Enabled = false }, "not opted in"},
		{"a manual rollout may target a group that is not opted in", func(in *PreflightInput) {
			in.Policy.Enabled = false
			in.Request.Trigger.Kind = TriggerManual
		}, ""},
		{"an image missing from the region is refused", func(in *PreflightInput) { in.Image = nil }, "does not exist in eu-west-1"},
		{"an image that is not available is refused", func(in *PreflightInput) { in.Image.State = "pending" }, "is pending"},
		{"an image whose architecture the template's instance type cannot run is refused", func(in *PreflightInput) {
			in.Image.Architecture = "x86_64"
		}, "instance type m7g.large supports arm64"},
		{"an image whose architecture one override type cannot run is refused", func(in *PreflightInput) {
			in.Group.InstanceTypes = []string{"m7g.large", "m7i.large"}
		}, "instance type m7i.large supports x86_64"},
		{"an instance type the region does not offer is refused", func(in *PreflightInput) {
			in.Current.InstanceType = "z9.huge"
		}, "not offered"},
		{"an active refresh Phoenix did not start is refused", func(in *PreflightInput) {
			in.Refreshes = []Refresh{{ID: "rf-other", Status: RefreshInProgress, LaunchTemplateID: "lt-1", Version: "9"}}
		}, "rf-other"},
		{"an ended refresh does not block a rollout", func(in *PreflightInput) {
			in.Refreshes = []Refresh{{ID: "rf-old", Status: RefreshSuccessful}}
		}, ""},
		{"a retried prepare is not refused by its own refresh", func(in *PreflightInput) {
			in.Own = Version{LaunchTemplateID: "lt-1", Number: 4}
			in.Refreshes = []Refresh{{ID: "rf-own", Status: RefreshInProgress, LaunchTemplateID: "lt-1", Version: "4"}}
		}, ""},
		{"rolling in the image the group already runs is refused", func(in *PreflightInput) { in.Current.ImageID = "ami-new" }, "already runs image"},
		{"a guard alarm that does not exist is refused", func(in *PreflightInput) {
			in.Policy.Alarms = []string{"web-5xx"}
			in.Alarms = map[string]string{}
		}, "guard alarm web-5xx does not exist"},
		{"a revert to a version that does not exist is refused", func(in *PreflightInput) {
			in.Request = Request{RolloutID: "r1", Group: in.Group.Key, Mode: ModeRevert, Version: 9}
		}, "version 9 does not exist"},
		{"a recycle checks the current version's image", func(in *PreflightInput) {
			in.Request = Request{RolloutID: "r1", Group: in.Group.Key, Mode: ModeRecycle}
			in.Image = &Image{ID: "ami-old", State: "deregistered"}
		}, "is deregistered"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := webInput()
			tc.change(&in)
			_, err := Preflight(in)
			if tc.refuse == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var pe *PreflightError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *PreflightError", err)
			}
			if !strings.Contains(pe.Reason, tc.refuse) {
				t.Errorf("reason %q does not say %q", pe.Reason, tc.refuse)
			}
		})
	}
}

func TestPreflightAdjustsHealthyPercentagesOnSmallGroups(t *testing.T) {
	cases := []struct {
		name             string
		desired          int
		minH, maxH       int
		wantMin, wantMax int
		adjusted         bool
	}{
		{"a group of one on 100/100 is left alone because AWS documents it to launch first", 1, 100, 100, 100, 100, false},
		{"a group of one on 90/110 is moved to 100/200 so one launches before one terminates", 1, 90, 110, 100, 200, true},
		{"a group of three on 100/125 gets 100/134 because 125% of three rounds down to three", 3, 100, 125, 100, 134, true},
		{"a group of four on 100/125 already has room for one extra and is left alone", 4, 100, 125, 100, 125, false},
		{"a group of ten on 90/100 may terminate one and is left alone", 10, 90, 100, 90, 100, false},
		{"an empty group is left alone", 0, 100, 100, 100, 100, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := webInput()
			in.Group.Desired = tc.desired
			in.Policy.MinHealthy, in.Policy.MaxHealthy = tc.minH, tc.maxH
			res, err := Preflight(in)
			if err != nil {
				t.Fatal(err)
			}
			eq(t, res.Policy.MinHealthy, tc.wantMin)
			eq(t, res.Policy.MaxHealthy, tc.wantMax)
			eq(t, len(res.Adjustments) > 0, tc.adjusted)
			if tc.desired > 0 && res.Capacity.LowestHealthy < ceilDiv(tc.desired*tc.minH, 100) {
				t.Errorf("lowest healthy %d is below the policy's %d%% of %d", res.Capacity.LowestHealthy, tc.minH, tc.desired)
			}
			if res.Policy.MaxHealthy-res.Policy.MinHealthy > 100 {
				t.Errorf("adjusted to %d/%d, which AWS refuses", res.Policy.MinHealthy, res.Policy.MaxHealthy)
			}
		})
	}
}

func TestRefreshCapacity(t *testing.T) {
	cases := []struct {
		name                         string
		desired, minH, maxH          int
		minCount, batch, lowest, max int
		launchFirst                  bool
	}{
		{"min healthy rounds up: 90% of three keeps all three, so one extra launches first", 3, 90, 100, 3, 1, 3, 4, true},
		{"max healthy rounds down: 125% of four allows one extra", 4, 100, 125, 4, 1, 4, 5, true},
		{"90/110 on twenty replaces two and launches two", 20, 90, 110, 18, 4, 18, 22, true},
		{"50/100 on four terminates two at a time", 4, 50, 100, 2, 2, 2, 4, false},
		{"an empty group replaces nothing", 0, 90, 110, 0, 0, 0, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := RefreshCapacity(tc.desired, tc.minH, tc.maxH)
			eq(t, c.MinHealthyCount, tc.minCount)
			eq(t, c.Batch, tc.batch)
			eq(t, c.LowestHealthy, tc.lowest)
			eq(t, c.MaxCount, tc.max)
			eq(t, c.LaunchBeforeTerminate, tc.launchFirst)
		})
	}
}

func TestPlanRefresh(t *testing.T) {
	g := webGroup()
	g.Desired = 8
	g.DefaultWarmup = 2 * time.Minute
	p := DefaultPolicy() // 25/50/100, 100/125, 10m delay, 15m bake
	pl := PlanRefresh(g, p, 8)
	eq(t, pl.Batch, 2) // 125% of 8 = 10: two extra
	eq(t, pl.LowestHealthy, 8)
	eq(t, len(pl.Stages), 3)
	eq(t, pl.Stages[0].Instances, 2)
	eq(t, pl.Stages[0].Batches, 1)
	eq(t, pl.Stages[1].Instances, 4)
	eq(t, pl.Stages[2].Instances, 8)
	eq(t, pl.Stages[2].Batches, 2)
	eq(t, pl.Stages[2].Pause, time.Duration(0))
	// 4 batches x 2m warmup + 2 pauses x 10m + 15m bake.
	eq(t, pl.Duration, 4*2*time.Minute+2*10*time.Minute+15*time.Minute)

	t.Run("the warmup falls back to the grace period", func(t *testing.T) {
		g := webGroup()
		g.GracePeriod = 90 * time.Second
		eq(t, PlanRefresh(g, p, 4).Warmup, 90*time.Second)
	})
	t.Run("skip matching counts only instances off the version", func(t *testing.T) {
		g := webGroup()
		g.Instances = []Instance{{ID: "a", LaunchTemplateVersion: "3"}, {ID: "b", LaunchTemplateVersion: "4"}, {ID: "c", LaunchTemplateVersion: "3", Lifecycle: "Terminating"}}
		eq(t, ReplaceCount(g, 4, true), 1)
		eq(t, ReplaceCount(g, 4, false), 2)
	})
}

func TestARevertGoesStraightBackWithoutCheckpointsBakeOrGuardAlarms(t *testing.T) {
	in := webInput()
	in.Request = Request{RolloutID: "r1", Group: in.Group.Key, Mode: ModeRevert, Version: 2}
	in.Target = TemplateVersion{LaunchTemplateID: "lt-1", Number: 2, ImageID: "ami-new"}
	// The alarm that asked for the revert is in ALARM, and another guard
	// alarm was deleted meanwhile: neither may stop the way back.
	in.Policy.Alarms = []string{"web-5xx", "gone"}
	in.Alarms = map[string]string{"web-5xx": "ALARM"}
	res, err := Preflight(in)
	if err != nil {
		t.Fatalf("refused: %v", err)
	}
	if p := res.Policy; len(p.Checkpoints) != 1 || p.Checkpoints[0] != 100 || p.Bake != 0 || len(p.Alarms) != 0 {
		t.Errorf("policy %+v, want checkpoints [100], no bake, no guard alarms", p)
	}
	if len(res.Adjustments) == 0 || !strings.Contains(res.Adjustments[0], "known-good") {
		t.Errorf("adjustments %q do not say why", res.Adjustments)
	}
	in.Request.Mode = ModeImage
	if _, err := Preflight(in); err == nil || !strings.Contains(err.Error(), "guard alarm gone does not exist") {
		t.Errorf("an image rollout with a missing guard alarm: %v, want refused", err)
	}
}
