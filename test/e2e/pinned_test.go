package e2e

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// The scenario of the defect filed last: a live group and an empty standby
// group share one launch template and one role, and an image their own
// validation would reject is published. The live group reverts; the empty
// group has nothing to judge, so it must end pinned, not validated, and the
// template's default must stay on the good version.
func TestAnEmptyGroupSharingATemplateIsPinnedAndTheDefaultStaysGood(t *testing.T) {
	t.Parallel()
	p := newPublishRig(t, 15, nil)
	live := p.webFleet("web", "")
	standby := p.newFleet(fleetSpec{name: "web-standby", size: 0, sharedTemplate: live.launchTemplate, tags: map[string]string{"phoenix:role": "web"}})

	bad := p.registerImage("web-v2", "x86_64", map[string]string{"phoenix:role": "web", "phoenix-sim:behavior": "unhealthy"})
	camp := p.awaitCampaigns(1, time.Hour)
	end := p.wait(camp, campaignLimit)
	if end.Status != sfntypes.ExecutionStatusFailed || aws.ToString(end.Error) != "Phoenix.CampaignStopped" {
		t.Fatalf("campaign %s %s: %s\n%s", end.Status, aws.ToString(end.Error), aws.ToString(end.Cause), p.functionLogs())
	}
	liveRuns, standbyRuns := p.rolloutsOf(live.name), p.rolloutsOf(standby.name)
	if len(liveRuns) != 1 || len(standbyRuns) != 1 {
		t.Fatalf("rollouts: %d of web, %d of web-standby; want one each", len(liveRuns), len(standbyRuns))
	}
	liveID, standbyID := aws.ToString(liveRuns[0].Name), aws.ToString(standbyRuns[0].Name)

	t.Run("the live group reverts", func(t *testing.T) {
		p := p.on(t)
		if rec := p.rollout(liveID); rec.status != "reverted" {
			t.Errorf("web's rollout %+v, want reverted", rec)
		}
		if g := p.group(live.name); g.images[bad] != 0 || g.inService != 2 {
			t.Errorf("web runs %v, want nothing on %s", g.images, bad)
		}
	})
	t.Run("the template's default stays on the good version", func(t *testing.T) {
		p := p.on(t)
		if v := p.defaultVersion(live.launchTemplate); v != 1 {
			t.Errorf("default version of the shared template = %d, want 1 (the good one)", v)
		}
	})
	t.Run("the empty group is pinned, not validated, and records no last-known-good", func(t *testing.T) {
		p := p.on(t)
		arn := aws.ToString(standbyRuns[0].ExecutionArn)
		if path := p.path(arn); path[len(path)-1] != "Pinned" || slices.Contains(path, "Finalize") {
			t.Errorf("path %s, want it to end in Pinned without Finalize", compact(path))
		}
		rec := p.rollout(standbyID)
		if rec.status != "pinned" || !strings.HasPrefix(rec.reason, "pinned, not validated: the group has no instance") || rec.toImage != bad {
			t.Errorf("web-standby's rollout %+v, want pinned, not validated, to %s", rec, bad)
		}
		if v, im := p.lkg(standby.name); v != 0 {
			t.Errorf("web-standby's last-known-good = %d (%s), want none", v, im)
		}
		if g := p.group(standby.name); g.version != itoa(rec.to) {
			t.Errorf("web-standby on version %q, want its pinned version %d", g.version, rec.to)
		}
		if got := p.notifications(standbyID); !slices.Equal(got, []string{"Phoenix Rollout Started", "Phoenix Rollout Pinned"}) {
			t.Errorf("events of web-standby's rollout = %v", got)
		}
		said := false
		for _, m := range p.env.Cloud.SNS.Messages(p.topic) {
			said = said || (strings.Contains(m.Subject, standbyID) && strings.Contains(m.Message, "NOT validated"))
		}
		if !said {
			t.Errorf("no SNS message says web-standby is not validated: %v", p.subjects())
		}
		if p.leased(standby.name) {
			t.Error("web-standby's lease is still held")
		}
	})
	t.Run("phoenix status says the pinned version is not validated", func(t *testing.T) {
		p := p.on(t)
		if out := p.phoenixOK("status", standby.name); !strings.Contains(out, "is pinned, NOT validated, by "+standbyID) {
			t.Errorf("status of web-standby does not say it is pinned:\n%s", out)
		}
		var doc struct {
			Groups []struct {
				Group  string `json:"group"`
				Pinned *struct {
					RolloutID string `json:"rolloutId"`
				} `json:"pinned"`
			} `json:"groups"`
		}
		p.phoenixJSON(&doc, "status", standby.name, live.name)
		for _, g := range doc.Groups {
			switch {
			case g.Group == standby.name && (g.Pinned == nil || g.Pinned.RolloutID != standbyID):
				t.Errorf("status JSON of web-standby: pinned %+v, want %s", g.Pinned, standbyID)
			case g.Group == live.name && g.Pinned != nil:
				t.Errorf("status JSON of web says pinned: %+v", g.Pinned)
			}
		}
	})
	t.Run("scaled out later, the empty group launches its pinned version", func(t *testing.T) {
		p := p.on(t)
		if _, err := p.env.AutoScaling.SetDesiredCapacity(p.ctx, &autoscaling.SetDesiredCapacityInput{
			AutoScalingGroupName: aws.String(standby.name), DesiredCapacity: aws.Int32(1),
		}); err != nil {
			t.Fatal(err)
		}
		p.env.RunUntil(t, 30*time.Minute, "web-standby to launch", func() bool { return p.group(standby.name).inService == 1 })
		if g := p.group(standby.name); g.images[bad] != 1 {
			t.Errorf("web-standby launched %v, want its pinned image %s (docs/design.md, Pinned)", g.images, bad)
		}
	})
	t.Run("phoenix rollback takes the pinned group back to the version it ran before", func(t *testing.T) {
		p := p.on(t)
		p.phoenixOK("rollback", standby.name, "--wait")
		if g := p.group(standby.name); g.version != "1" || g.images[bad] != 0 || g.images[standby.image] != 1 {
			t.Errorf("web-standby on version %q with %v, want version 1 on %s", g.version, g.images, standby.image)
		}
		if v, _ := p.lkg(standby.name); v != 1 {
			t.Errorf("web-standby's last-known-good = %d, want 1 (its revert was validated on its instance)", v)
		}
		if v := p.defaultVersion(live.launchTemplate); v != 1 {
			t.Errorf("default version of the shared template = %d, want 1", v)
		}
	})
}

// Two groups that serve from one launch template both prove a good image:
// each finalizes with its own last-known-good, and the shared default is
// left where the user's IaC put it.
func TestGroupsSharingATemplateFinalizeEachButNeverMoveItsDefault(t *testing.T) {
	t.Parallel()
	p := newPublishRig(t, 16, nil)
	a := p.webFleet("api-a", "")
	b := p.newFleet(fleetSpec{name: "api-b", size: 2, sharedTemplate: a.launchTemplate, tags: map[string]string{"phoenix:role": "web"}})

	img := p.registerImage("api-v2", "x86_64", webTags())
	camp := p.awaitCampaigns(1, time.Hour)
	if end := p.wait(camp, campaignLimit); end.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("campaign %s: %s\n%s", end.Status, aws.ToString(end.Cause), p.functionLogs())
	}
	versions := map[int64]bool{}
	for _, f := range []fleet{a, b} {
		runs := p.rolloutsOf(f.name)
		if len(runs) != 1 {
			t.Fatalf("%d rollouts of %s, want 1", len(runs), f.name)
		}
		id := aws.ToString(runs[0].Name)
		rec := p.rollout(id)
		if rec.status != "finalized" || rec.toImage != img {
			t.Errorf("%s's rollout %+v, want finalized on %s", f.name, rec, img)
		}
		if v, im := p.lkg(f.name); v != rec.to || im != img {
			t.Errorf("%s's last-known-good = %d (%s), want its own version %d", f.name, v, im, rec.to)
		}
		if g := p.group(f.name); g.version != itoa(rec.to) || g.images[img] != 2 {
			t.Errorf("%s on version %q with %v, want version %d on %s", f.name, g.version, g.images, rec.to, img)
		}
		said := false
		for _, m := range p.env.Cloud.SNS.Messages(p.topic) {
			said = said || (strings.Contains(m.Subject, id) && strings.Contains(m.Message, "default stays version 1 because the template is shared with"))
		}
		if !said {
			t.Errorf("no SNS message of %s says why the default stayed", f.name)
		}
		versions[rec.to] = true
	}
	if len(versions) != 2 {
		t.Errorf("the two groups finalized versions %v, want one each", versions)
	}
	if v := p.defaultVersion(a.launchTemplate); v != 1 {
		t.Errorf("default version of the shared template = %d, want 1", v)
	}
}

// A group scaled in to zero while its rollout runs ends with nothing to
// judge: pinned, not finalized, whatever its earlier checkpoints showed.
func TestAGroupScaledToZeroMidRolloutIsPinnedNotFinalized(t *testing.T) {
	t.Parallel()
	r := newRig(t, 17)
	f := r.newFleet(fleetSpec{name: "batch", size: 2})
	img := r.image("batch-v2", "healthy")
	arn := r.start("r-to-zero", f.name, img)
	r.env.RunUntil(t, time.Hour, "batch's refresh to start", func() bool { return len(r.refreshes(f.name)) > 0 })
	if _, err := r.env.AutoScaling.UpdateAutoScalingGroup(r.ctx, &autoscaling.UpdateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(f.name), MinSize: aws.Int32(0), DesiredCapacity: aws.Int32(0),
	}); err != nil {
		t.Fatal(err)
	}
	end := r.wait(arn, rolloutLimit)
	if end.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution %s: %s %s\n%s", end.Status, aws.ToString(end.Error), aws.ToString(end.Cause), r.functionLogs())
	}
	path := r.path(arn)
	rec := r.rollout("r-to-zero")
	if path[len(path)-1] != "Pinned" || rec.status != "pinned" {
		t.Fatalf("path %s, rollout %+v; want it pinned", compact(path), rec)
	}
	if v := r.defaultVersion(f.launchTemplate); v != 1 {
		t.Errorf("default version = %d, want 1", v)
	}
	if v, _ := r.lkg(f.name); v != 0 {
		t.Errorf("last-known-good = %d, want none", v)
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
