package publish

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

var (
	tOld = time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	tMid = time.Date(2026, 2, 15, 0, 0, 0, 0, time.UTC)
	tNew = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
)

func img(id string, at time.Time) KnownImage { return KnownImage{ImageID: id, CreatedAt: at} }
func ptr[T any](v T) *T                      { return &v }

func TestSupersedeRules(t *testing.T) {
	t.Parallel()
	newImg := img("ami-0000000000000000b", tMid)
	rolling := func(i KnownImage) *Active {
		return &Active{ID: "r-1", Mode: rollout.ModeImage, Status: rollout.StatusRefreshing, Image: i}
	}
	reverting := func(i KnownImage) *Active {
		return &Active{ID: "r-1", Mode: rollout.ModeImage, Status: rollout.StatusReverting, Image: i}
	}
	cases := []struct {
		name   string
		state  GroupState
		want   Action
		reason string
	}{
		{"an idle group with an older last-known-good rolls now",
			GroupState{LastKnownGood: ptr(img("ami-000000000000000a0", tOld))}, ActionRoll, "idle"},
		{"an idle group with no last-known-good rolls now",
			GroupState{}, ActionRoll, "idle"},
		{"a rollout this event started already is not started again",
			GroupState{Started: true}, ActionDrop, "more than once"},
		{"the last-known-good image itself is not rolled again",
			GroupState{LastKnownGood: ptr(newImg)}, ActionDrop, "already runs"},
		{"an older image never replaces a newer last-known-good",
			GroupState{LastKnownGood: ptr(img("ami-000000000000000c0", tNew))}, ActionDrop, "never replaces a newer"},
		{"an image as old as the last-known-good does not replace it",
			GroupState{LastKnownGood: ptr(img("ami-000000000000000c0", tMid))}, ActionDrop, "not newer"},
		{"a last-known-good of unknown age does not block the image",
			GroupState{LastKnownGood: ptr(img("ami-000000000000000c0", time.Time{}))}, ActionRoll, "idle"},
		{"a newer image for a group mid-rollout is queued",
			GroupState{Active: rolling(img("ami-000000000000000a0", tOld))}, ActionQueue, "waits until it ends"},
		{"an image for a group mid-rollout of an image of unknown age is queued",
			GroupState{Active: rolling(KnownImage{})}, ActionQueue, "waits"},
		{"a revert in progress is never cancelled: the image is queued",
			GroupState{Active: reverting(img("ami-000000000000000a0", tOld))}, ActionQueue, "never cancelled"},
		{"a manual revert is a revert too",
			GroupState{Active: &Active{ID: "r-2", Mode: rollout.ModeRevert, Status: rollout.StatusRefreshing, Image: img("ami-000000000000000a0", tOld)}}, ActionQueue, "never cancelled"},
		{"the image being rolled is not queued behind itself",
			GroupState{Active: rolling(newImg)}, ActionDrop, "already rolling"},
		{"the image being reverted is not rolled again",
			GroupState{Active: reverting(newImg)}, ActionDrop, "reverting the group from"},
		{"an image older than the one being rolled is dropped",
			GroupState{Active: rolling(img("ami-000000000000000c0", tNew))}, ActionDrop, "newer than"},
		{"an image older than the one being reverted is queued: the revert may leave the older image newest",
			GroupState{Active: reverting(img("ami-000000000000000c0", tNew))}, ActionQueue, "never cancelled"},
		{"only the newest queued image rolls: an older one is dropped",
			GroupState{Active: rolling(img("ami-000000000000000a0", tOld)), Queued: ptr(img("ami-000000000000000c0", tNew))}, ActionDrop, "only the newest queued"},
		{"a newer image replaces an older queued one",
			GroupState{Active: rolling(img("ami-000000000000000a0", tOld)), Queued: ptr(img("ami-000000000000000a1", tOld.Add(time.Hour)))}, ActionQueue, "waits"},
		{"queueing the queued image again keeps it queued",
			GroupState{Active: rolling(img("ami-000000000000000a0", tOld)), Queued: ptr(newImg)}, ActionQueue, "waits"},
		{"a newer queued image stops an older one from rolling even on an idle group",
			GroupState{Queued: ptr(img("ami-000000000000000c0", tNew))}, ActionDrop, "only the newest queued"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := Decide(newImg, c.state)
			if d.Action != c.want || !strings.Contains(d.Reason, c.reason) {
				t.Fatalf("got %s (%s), want %s mentioning %q", d.Action, d.Reason, c.want, c.reason)
			}
		})
	}
}

func TestGateRules(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	call := func(prev GateDecision, maxWait time.Duration) GateCall {
		return GateCall{Gate: GateInput{MaxWaitSeconds: int64(maxWait / time.Second)}, Decision: prev, Now: now}
	}
	queue := Decision{ActionQueue, "Rollout r-1 holds the group; x waits until it ends."}
	cases := []struct {
		name  string
		call  GateCall
		d     Decision
		want  string
		since time.Time
	}{
		{"roll stays roll", call(GateDecision{Action: gatePending}, time.Hour), Decision{ActionRoll, "idle"}, GateRoll, time.Time{}},
		{"drop stays drop", call(GateDecision{Action: gatePending}, time.Hour), Decision{ActionDrop, "older"}, GateDrop, time.Time{}},
		{"the first wait starts the clock now", call(GateDecision{Action: gatePending}, time.Hour), queue, GateWait, now},
		{"a later wait keeps the first wait's start",
			call(GateDecision{Action: GateWait, WaitingSince: now.Add(-30 * time.Minute)}, time.Hour), queue, GateWait, now.Add(-30 * time.Minute)},
		{"waiting past the limit stops the campaign",
			call(GateDecision{Action: GateWait, WaitingSince: now.Add(-61 * time.Minute)}, time.Hour), queue, GateStop, now.Add(-61 * time.Minute)},
		{"no limit given means the default of six hours",
			call(GateDecision{Action: GateWait, WaitingSince: now.Add(-5 * time.Hour)}, 0), queue, GateWait, now.Add(-5 * time.Hour)},
		{"a waitingSince left from a roll decision does not count",
			call(GateDecision{Action: GateRoll, WaitingSince: now.Add(-48 * time.Hour)}, time.Hour), queue, GateWait, now},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := GateAnswer(c.call, c.d)
			if got.Action != c.want || !got.WaitingSince.Equal(c.since) || got.Reason == "" {
				t.Fatalf("got %+v, want %s since %s", got, c.want, c.since)
			}
		})
	}
}

func TestACampaignCarriesOneRolloutRequestPerGroupInPlanOrder(t *testing.T) {
	t.Parallel()
	im := goodImage()
	plan := PlanWaves([]Target{{Group: key("b"), Wave: 1}, {Group: key("canary"), Wave: 0}, {Group: key("a"), Wave: 1}}, 1)
	c := BuildCampaign(im, plan, 1, 2*time.Hour)
	if c.Info.ID != CampaignName(region, im.ID()) || c.Info.ImageID != im.ID() || c.Info.MaxInFlight != 1 || len(c.Info.Waves) != 2 {
		t.Fatalf("campaign info %+v", c.Info)
	}
	var order []string
	for _, b := range c.Batches {
		for _, r := range b.Rollouts {
			order = append(order, r.Input.Request.Group.Name)
			req := r.Input.Request
			if err := req.Validate(); err != nil {
				t.Errorf("request for %s is invalid: %v", req.Group.Name, err)
			}
			if r.Name != RolloutName(im.EventID, req.Group) || req.RolloutID != r.Name || r.Gate.RolloutID != r.Name {
				t.Errorf("rollout %s is not named from the event and the group", r.Name)
			}
			if req.Mode != rollout.ModeImage || req.ImageID != im.ID() || req.Trigger.EventID != im.EventID || req.Trigger.Kind != TriggerKind {
				t.Errorf("request %+v does not roll the image for the event", req)
			}
			if r.Gate.Image.ImageID != im.ID() || !r.Gate.Image.CreatedAt.Equal(im.CreatedAt) || r.Gate.MaxWaitSeconds != 7200 {
				t.Errorf("gate %+v", r.Gate)
			}
		}
	}
	if strings.Join(order, ",") != "canary,a,b" {
		t.Fatalf("rollout order %v", order)
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, member := range []string{`"campaign":`, `"batches":`, `"rollouts":`, `"gate":`, `"input":{"request":`, `"rolloutId":`, `"target":{"region":"us-east-1","group":"canary"}`} {
		if !strings.Contains(string(b), member) {
			t.Errorf("campaign document lacks %s: %s", member, b)
		}
	}
}
