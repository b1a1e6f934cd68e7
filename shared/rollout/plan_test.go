package rollout

import (
	"slices"
	"strconv"
	"testing"
	"time"
)

// groupOf returns webGroup with n in-service instances on version 3.
func groupOf(n int) Group {
	g := webGroup()
	g.Desired = n
	g.DefaultWarmup = 2 * time.Minute
	for i := range n {
		g.Instances = append(g.Instances, Instance{ID: "i-" + strconv.Itoa(i), Lifecycle: "InService", LaunchTemplateVersion: "3"})
	}
	return g
}

func TestPredictRollout(t *testing.T) {
	p := DefaultPolicy() // 25/50/100, 100/125, 10m delay, 15m bake

	t.Run("an image rollout replaces every instance at the policy's pace", func(t *testing.T) {
		t.Parallel()
		pr := PredictRollout(groupOf(4), p, ModeImage, 0)
		eq(t, pr.Replace, 4)
		eq(t, pr.Batch, 1)
		eq(t, pr.LowestHealthy, 4)
		eq(t, pr.MaxCount, 5)
		eq(t, len(pr.Adjustments), 0)
		var batches []int
		for _, s := range pr.Stages {
			batches = append(batches, s.Batches)
		}
		if !slices.Equal(batches, []int{1, 1, 2}) {
			t.Errorf("batches per stage = %v, want [1 1 2]", batches)
		}
		// 4 batches x 2m warmup + 2 pauses x 10m + 15m bake.
		eq(t, pr.Duration, 4*2*time.Minute+2*10*time.Minute+15*time.Minute)
	})
	t.Run("a revert goes straight back: one stage, no pause, no bake", func(t *testing.T) {
		t.Parallel()
		g := groupOf(4)
		g.Instances[0].LaunchTemplateVersion = "2" // already on the target
		pr := PredictRollout(g, p, ModeRevert, 2)
		eq(t, pr.Replace, 3)
		eq(t, len(pr.Stages), 1)
		eq(t, pr.Bake, time.Duration(0))
		eq(t, pr.Duration, 3*2*time.Minute)
		if len(pr.Adjustments) == 0 {
			t.Error("the straight-back pace is not reported as an adjustment")
		}
	})
	t.Run("a recycle replaces instances already on the version", func(t *testing.T) {
		t.Parallel()
		eq(t, PredictRollout(groupOf(4), p, ModeRecycle, 3).Replace, 4)
	})
	t.Run("instances leaving the group are not replaced", func(t *testing.T) {
		t.Parallel()
		g := groupOf(4)
		g.Instances[3].Lifecycle = "Terminating:Wait"
		eq(t, PredictRollout(g, p, ModeImage, 0).Replace, 3)
	})
}

// The prediction must use the policy Prepare would use: the same
// adjustments as Preflight, for every mode and small group size.
func TestPredictRolloutAdjustsThePolicyAsPreflightDoes(t *testing.T) {
	for _, mode := range []Mode{ModeImage, ModeRevert, ModeRecycle} {
		for _, size := range []int{1, 2, 3, 4, 10} {
			for _, hp := range [][2]int{{100, 100}, {90, 100}, {100, 125}, {50, 150}} {
				in := webInput()
				in.Group = groupOf(size)
				in.Group.InstanceTypes = []string{"m7g.large"}
				in.Policy.MinHealthy, in.Policy.MaxHealthy = hp[0], hp[1]
				in.Request.Mode = mode
				if mode == ModeRevert {
					in.Request.Version = 2
					in.Target = TemplateVersion{LaunchTemplateID: "lt-1", Number: 2, ImageID: "ami-new"}
				}
				if mode == ModeRecycle {
					in.Current.ImageID = "ami-new"
				}
				res, err := Preflight(in)
				if err != nil {
					t.Fatalf("%s on %d at %v: preflight refused: %v", mode, size, hp, err)
				}
				pr := PredictRollout(in.Group, in.Policy, mode, in.Target.Number)
				if pr.Policy.MinHealthy != res.Policy.MinHealthy || pr.Policy.MaxHealthy != res.Policy.MaxHealthy ||
					!slices.Equal(pr.Policy.Checkpoints, res.Policy.Checkpoints) || pr.Policy.Bake != res.Policy.Bake {
					t.Errorf("%s on %d at %v: predicted policy %+v, preflight's %+v", mode, size, hp, pr.Policy, res.Policy)
				}
				if pr.Capacity != res.Capacity {
					t.Errorf("%s on %d at %v: predicted capacity %+v, preflight's %+v", mode, size, hp, pr.Capacity, res.Capacity)
				}
				if !slices.Equal(pr.Adjustments, res.Adjustments) {
					t.Errorf("%s on %d at %v: predicted adjustments %q, preflight's %q", mode, size, hp, pr.Adjustments, res.Adjustments)
				}
			}
		}
	}
}

func TestNextCheckpoint(t *testing.T) {
	cases := []struct {
		name    string
		percent int
		want    int
		ok      bool
	}{
		{"before the first checkpoint it is the first", 0, 25, true},
		{"paused at a checkpoint the next is the one after", 25, 50, true},
		{"between checkpoints it is the one ahead", 30, 50, true},
		{"past the last reported checkpoint only the end is left", 50, 0, false},
		{"a finished refresh has none", 100, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := NextCheckpoint([]int{25, 50, 100}, tc.percent)
			eq(t, got, tc.want)
			eq(t, ok, tc.ok)
		})
	}
}
