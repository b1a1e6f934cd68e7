package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/bluegreen"
	"github.com/phoenix-rollouts/phoenix/shared/publish"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

const (
	listenerARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/1/2"
	ruleARN     = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/web/1/2/3"
	blueTG      = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-blue/1"
	greenTG     = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-green/2"
)

// pairGroup is a group of the blue/green pair web with n instances.
func pairGroup(name, tg string, n int, extra ...string) rollout.Group {
	g := rollout.Group{
		Key: rollout.GroupKey{Region: "us-east-1", Name: name}, LaunchTemplateID: "lt-web", LaunchTemplateVersion: "3",
		Desired: n, Max: 20, TargetGroupARNs: []string{tg},
		Tags: map[string]string{rollout.TagEnabled: "true", bluegreen.TagRole: "web", bluegreen.TagPair: "web", bluegreen.TagStrategy: bluegreen.StrategyBlueGreen},
	}
	for i := range n {
		g.Instances = append(g.Instances, rollout.Instance{ID: fmt.Sprintf("i-%s-%d", name, i), Lifecycle: "InService", Health: "Healthy"})
	}
	for i := 0; i+1 < len(extra); i += 2 {
		g.Tags[extra[i]] = extra[i+1]
	}
	return g
}

// webPair is the pair web as fleet.Pair reads it: web-blue with blue
// instances and weight, web-green with green instances and weight, in a
// listener's default action.
func webPair(blue, green, blueWeight, greenWeight int) bluegreen.Pair {
	return bluegreen.Pair{
		Name:   "web",
		Groups: []rollout.Group{pairGroup("web-blue", blueTG, blue), pairGroup("web-green", greenTG, green)},
		Forwards: []bluegreen.Forward{{ListenerARN: listenerARN, Groups: []bluegreen.WeightedTargetGroup{
			{ARN: blueTG, Weight: blueWeight}, {ARN: greenTG, Weight: greenWeight},
		}}},
	}
}

func TestAPairShowsItsSidesWeightsAndWhereItsRolloutsAreRecorded(t *testing.T) {
	t.Parallel()
	t.Run("between rollouts: the live group holds the weight, the idle one is empty", func(t *testing.T) {
		t.Parallel()
		v := viewPair(webPair(4, 0, 100, 0))
		if v.Live != "web-blue" || v.LiveColour != "blue" || v.Idle != "web-green" || v.IdleColour != "green" || v.IdleInstances != 0 || v.Refusal != "" {
			t.Errorf("view %+v", v)
		}
		if v.Anchor != "web-blue" || v.Forward == nil || v.Forward.ListenerARN != listenerARN {
			t.Errorf("anchor %q, forward %+v", v.Anchor, v.Forward)
		}
		if len(v.Groups) != 2 || v.Groups[0].Weight != 100 || v.Groups[0].SharePercent != 100 || v.Groups[0].Instances != 4 || v.Groups[1].Weight != 0 || v.Groups[1].TargetGroup != greenTG {
			t.Errorf("groups %+v", v.Groups)
		}
	})
	t.Run("green live after a rollout: the sides follow the weights, not the names", func(t *testing.T) {
		t.Parallel()
		v := viewPair(webPair(0, 3, 0, 100))
		if v.Live != "web-green" || v.Idle != "web-blue" || v.Anchor != "web-blue" {
			t.Errorf("view %+v", v)
		}
	})
	t.Run("mid-rollout the traffic is split: no sides, the shares, and why a new rollout would be refused", func(t *testing.T) {
		t.Parallel()
		v := viewPair(webPair(4, 4, 50, 50))
		if v.Live != "" || v.Idle != "" || v.Groups[0].SharePercent != 50 || v.Groups[1].SharePercent != 50 || !strings.Contains(v.Refusal, "weights must be all on one group") {
			t.Errorf("view %+v", v)
		}
	})
	t.Run("a rule's action is named as the rule", func(t *testing.T) {
		t.Parallel()
		p := webPair(2, 0, 100, 0)
		p.Forwards[0].ListenerARN, p.Forwards[0].RuleARN = "", ruleARN
		if v := viewPair(p); v.Forward.Owner() != ruleARN || v.Live != "web-blue" {
			t.Errorf("view %+v", v)
		}
	})
	t.Run("either group's rollouts are recorded under the first by name", func(t *testing.T) {
		t.Parallel()
		p := webPair(4, 0, 100, 0)
		for _, name := range []string{"web-blue", "web-green"} {
			if got := anchorKey(rollout.GroupKey{Region: "us-east-1", Name: name}, &p); got.Name != "web-blue" || got.Region != "us-east-1" {
				t.Errorf("anchor of %s = %v", name, got)
			}
		}
		if got := anchorKey(rollout.GroupKey{Region: "us-east-1", Name: "solo"}, nil); got.Name != "solo" {
			t.Errorf("a group in no pair is recorded under %v", got)
		}
	})
	t.Run("the table and the JSON say it", func(t *testing.T) {
		t.Parallel()
		doc := statusDoc{Stack: "phoenix", Region: "us-east-1", Groups: []groupStatus{
			{Group: "web-green", Region: "us-east-1", Enabled: true, Strategy: bluegreen.StrategyBlueGreen, Instances: []instanceCount{}, Pair: viewPair(webPair(4, 0, 100, 0))},
		}}
		var out bytes.Buffer
		writeStatus(&out, doc)
		for _, want := range []string{
			"blue-green, pair web (rollouts recorded under web-blue, its first group)",
			"web-blue (blue), 4 instances, weight 100",
			"web-green (green), 0 instances, weight 0",
			"listener " + listenerARN + ": web-blue 100 (100%), web-green 0 (0%)",
		} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("status does not say %q:\n%s", want, out.String())
			}
		}
		raw, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		var back struct {
			Groups []struct {
				Strategy string `json:"strategy"`
				Pair     struct {
					Anchor        string `json:"anchor"`
					Live          string `json:"live"`
					Idle          string `json:"idle"`
					IdleInstances int    `json:"idleInstances"`
					Forward       struct {
						ListenerARN string                          `json:"listenerArn"`
						Groups      []bluegreen.WeightedTargetGroup `json:"targetGroups"`
					} `json:"forward"`
				} `json:"pair"`
			} `json:"groups"`
		}
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatal(err)
		}
		g := back.Groups[0]
		if g.Strategy != "blue-green" || g.Pair.Anchor != "web-blue" || g.Pair.Live != "web-blue" || g.Pair.Idle != "web-green" || g.Pair.Forward.ListenerARN != listenerARN || len(g.Pair.Forward.Groups) != 2 {
			t.Errorf("JSON %s", raw)
		}
	})
}

func TestAPairsPlanPeaksAtTwiceTheLiveCapacityAndLastsThroughTheGuardWindow(t *testing.T) {
	t.Parallel()
	defaults := rollout.DefaultPolicy() // checkpoint delay 10m, bake 15m, guard window 2h
	t.Run("scale-up, proof, each step's wait, bake and guard", func(t *testing.T) {
		t.Parallel()
		p := webPair(4, 0, 100, 0)
		p.Groups[0].Tags[rollout.TagWarmup] = "2m"
		for i := range p.Groups {
			p.Groups[i].Tags[bluegreen.TagTrafficSteps] = "25,100"
		}
		wave := 1
		pp := planPair(p, defaults, &wave)
		if pp.Live != "web-blue" || pp.Idle != "web-green" || pp.Group.Name != "web-blue" || pp.Forward != listenerARN || len(pp.Problems) != 0 {
			t.Fatalf("plan %+v", pp)
		}
		if pp.LiveDesired != 4 || pp.PeakInstances != 8 || !slices.Equal(pp.Steps, []int{25, 100}) {
			t.Errorf("capacity %d, peak %d, steps %v", pp.LiveDesired, pp.PeakInstances, pp.Steps)
		}
		want := 2*time.Minute + 10*time.Minute + 2*10*time.Minute + 15*time.Minute + 2*time.Hour
		if pp.ScaleUpSeconds != 120 || pp.ProveSeconds != 600 || pp.StepWaitSeconds != 600 || pp.BakeSeconds != 900 || pp.GuardWindowSeconds != 7200 || pp.DurationSeconds != seconds(want) {
			t.Errorf("plan %+v; want %s in all", pp, want)
		}
	})
	t.Run("the default steps are three", func(t *testing.T) {
		t.Parallel()
		if pp := planPair(webPair(2, 0, 100, 0), defaults, nil); !slices.Equal(pp.Steps, bluegreen.DefaultSteps) || pp.ScaleUpSeconds != 300 {
			t.Errorf("plan %+v; want the default steps and AWS's default warmup", pp)
		}
	})
	t.Run("a pair Phoenix would refuse now says why, and is still estimated from its larger group", func(t *testing.T) {
		t.Parallel()
		pp := planPair(webPair(4, 2, 50, 50), defaults, nil)
		if pp.Live != "web-blue" || pp.PeakInstances != 8 || len(pp.Problems) != 1 || !strings.Contains(pp.Problems[0], "would refuse the pair now") {
			t.Errorf("plan %+v", pp)
		}
	})
	t.Run("steps the groups disagree on are a problem", func(t *testing.T) {
		t.Parallel()
		p := webPair(4, 0, 100, 0)
		p.Groups[1].Tags[bluegreen.TagTrafficSteps] = "50,100"
		if pp := planPair(p, defaults, nil); len(pp.Problems) != 1 || !strings.Contains(pp.Problems[0], "both groups must agree") {
			t.Errorf("problems %v", pp.Problems)
		}
	})
	t.Run("the campaign's waves name the pair, and its phases are listed", func(t *testing.T) {
		t.Parallel()
		wave := 1
		pp := planPair(webPair(4, 0, 100, 0), defaults, &wave)
		doc := planDoc{Region: "us-east-1", ImageID: "ami-0abc1234", targeting: true, Role: "web", MaxInFlight: 5,
			Groups: []groupPlan{}, Pairs: []pairPlan{pp}}
		doc.Waves = append(doc.Waves, publish.Wave{Number: 1, Groups: []rollout.GroupKey{pp.Group}})
		var out bytes.Buffer
		writePlan(&out, doc)
		for _, want := range []string{"wave 1: pair web (web-blue, web-green)", "web-blue serves, web-green takes the image, up to 8 instances while both serve (4 live)",
			"shift to 50%", "guard window", "predicted duration 3h" /* 5m+10m+3×10m+15m+2h */} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("plan does not say %q:\n%s", want, out.String())
			}
		}
	})
}

func TestAPairMembersHistoryHoldsThePairsRolloutsThatMovedIt(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)
	own := []rollout.Rollout{{ID: "old-rolling", StartedAt: at.Add(-48 * time.Hour)}}
	anchor := []rollout.Rollout{
		{ID: "bg-2", StartedAt: at, Pair: &rollout.PairSides{Name: "web", Live: "web-green", Idle: "web-blue"}},
		{ID: "blue-rolling", StartedAt: at.Add(-time.Hour)},
		{ID: "bg-1", StartedAt: at.Add(-24 * time.Hour), Pair: &rollout.PairSides{Name: "web", Live: "web-blue", Idle: "web-green"}},
	}
	var ids []string
	for _, r := range mergeHistory("web-green", own, anchor, 0) {
		ids = append(ids, r.ID)
	}
	if want := []string{"bg-2", "bg-1", "old-rolling"}; !slices.Equal(ids, want) {
		t.Errorf("history %v, want %v", ids, want)
	}
	if got := mergeHistory("web-green", own, anchor, 2); len(got) != 2 || got[0].ID != "bg-2" {
		t.Errorf("limited history %+v", got)
	}
}
