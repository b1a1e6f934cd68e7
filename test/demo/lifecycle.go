package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"

	"github.com/phoenix-rollouts/phoenix/shared/config"
	"github.com/phoenix-rollouts/phoenix/shared/lifecycle"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// stackParameters are the stack parameters the demo deploys with; every
// other parameter keeps template.yaml's default, ImageLifecycle included
// (plan: a new stack only reports what it would retire). The image
// lifecycle's history and waits are shortened so that one more rollout
// and a few nights show every stage: with the defaults (20 versions, 3
// rollbacks, 7, 14 and 30 days) they would take dozens of rollouts and
// two months.
var stackParameters = map[string]string{
	"LifecycleKeepVersions":           "1",
	"LifecycleKeepRollbackVersions":   "1",
	"LifecycleDeprecateAfterSeconds":  "43200",
	"LifecycleDisableAfterSeconds":    "43200",
	"LifecycleDeregisterAfterSeconds": "43200",
}

// lifecycleNights bounds the nights story 4 waits for the image nobody
// uses to be deregistered: four stages, one a night, and a spare.
const lifecycleNights = 5

// The lifecycle function's logical id in template.yaml, and the subject
// its nightly summary starts with.
const (
	lifecycleFunction = "ImageLifecycleFunction"
	lifecycleSubject  = "Phoenix image lifecycle"
)

// Night is one run of the nightly image-lifecycle function, as its
// summary on the topic and the ledger's lifecycle log tell it.
type Night struct {
	At      time.Time `json:"at"`
	Mode    string    `json:"mode"`
	RunID   string    `json:"runId"`
	Subject string    `json:"subject"`
	// Summary is the message the topic's subscribers received.
	Summary string `json:"summary"`
	// Actions are the run's log entries in words: planned (plan) or done
	// (apply), with their results; Text says them in a sentence.
	Actions []NightAction `json:"actions"`
	Text    string        `json:"text"`
	// GiBReclaimed is what the summary says the night's deregistrations
	// reclaimed.
	GiBReclaimed int64 `json:"gibReclaimed"`
}

// NightAction is one entry of a night's lifecycle log.
type NightAction struct {
	Action string `json:"action"`
	// Target is the AMI's label, or GROUP:VERSION (IMAGE) for a launch
	// template version.
	Target string `json:"target"`
	ID     string `json:"id"`
	Result string `json:"result,omitempty"`
}

// LifecycleOutcome is what story 4 read back.
type LifecycleOutcome struct {
	// Plan is what `phoenix images plan` said before the stack was
	// switched to apply: each version and image with its action and why
	// it is kept.
	Plan []PlanLine `json:"plan"`
	// SwitchedAt is when the stack's ImageLifecycle became apply.
	SwitchedAt time.Time `json:"switchedAt"`
	Nights     []Night   `json:"nights"`
	// Versions are each group's launch template versions at the end, and
	// Deleted those the nights deleted.
	Versions map[string][]int64 `json:"versions"`
	Deleted  []string           `json:"deleted"`
	// Images are the published images' states at the end (available,
	// deprecated, disabled, protected, gone).
	Images map[string]string `json:"images"`
	// GiBReclaimed is the snapshot size of the images deregistered, as EC2
	// reported it before.
	GiBReclaimed int64 `json:"gibReclaimed"`
	// Rollback is the operator's rollback after the nights.
	Rollback *RolloutOutcome `json:"rollback,omitempty"`
}

// PlanLine is one version or image of the operator's plan.
type PlanLine struct {
	// What is GROUP:VERSION (IMAGE) or an image's label.
	What        string   `json:"what"`
	Action      string   `json:"action"`
	KeptBecause []string `json:"keptBecause,omitempty"`
}

// planDoc is what the demo reads of `phoenix images plan -o json`.
type planDoc struct {
	Mode      string `json:"mode"`
	Templates []struct {
		LaunchTemplateID string `json:"launchTemplateId"`
		Versions         []struct {
			Version     int64      `json:"version"`
			ImageID     string     `json:"imageId"`
			Action      string     `json:"action"`
			KeptBecause []planHold `json:"keptBecause"`
		} `json:"versions"`
	} `json:"templates"`
	Images []struct {
		ImageID     string     `json:"imageId"`
		Stage       string     `json:"stage"`
		Action      string     `json:"action"`
		SnapshotGiB int64      `json:"snapshotGiB"`
		KeptBecause []planHold `json:"keptBecause"`
	} `json:"images"`
}

type planHold struct {
	Reason string `json:"reason"`
	By     string `json:"by"`
}

// reasons are the distinct reasons of holds, in their order.
func reasons(hs []planHold) []string {
	var out []string
	for _, h := range hs {
		if !slices.Contains(out, h.Reason) {
			out = append(out, h.Reason)
		}
	}
	return out
}

// storyLifecycle rolls one more image, v4, into both groups, lets the
// operator read the image lifecycle's plan, switches the stack to apply
// and lets the nights pass until the image nobody uses, v3, is
// deregistered with its snapshots; then the operator rolls web back to
// the version its rollback history kept.
func (d *demo) storyLifecycle(ctx context.Context, st *Story) error {
	out := &LifecycleOutcome{}
	// api is still tagged for recycling: every night recycles it again.
	// The terminal says when each starts and ends; the report has every
	// step.
	d.quietRecycles = true
	v4, err := d.publish(ctx, "v4", map[string]string{"phoenix:role": role, behaviorTag: "healthy"},
		"phoenix:role=app, healthy: the release after v2")
	if err != nil {
		return err
	}
	campaign, err := d.awaitCampaign(ctx, v4)
	if err != nil {
		return err
	}
	if err := d.until(ctx, settleLimit, "both fleets to settle", d.settled); err != nil {
		return err
	}
	// The stack was deployed with ImageLifecycle=plan: its nights so far
	// only reported. The operator waits for one, then reads the plan.
	planNights := func() (bool, error) { return len(d.nights) > 0, nil }
	if err := d.untilBy(ctx, d.mode.idle, nightLimit, "a night of the image lifecycle in plan mode", planNights); err != nil {
		return err
	}
	rolled, err := d.outcome(ctx, st.Started, campaign, func(r rollout.Rollout) bool { return r.To.ImageID == v4 })
	if err != nil {
		return err
	}
	st.fact(rolled.Campaign == string(sfntypes.ExecutionStatusSucceeded) && d.onlyOn(rolled.Fleet, "v4"),
		"campaign %s of v4 %s; fleets %s; %s", campaign, strings.ToLower(rolled.Campaign), d.fleetSummary(rolled.Fleet), rolloutsText(rolled.Rollouts))
	before, err := d.templateVersions(ctx)
	if err != nil {
		return err
	}
	// What the plan night would have deleted is all still there.
	planned := d.nights[len(d.nights)-1]
	exist := map[string]bool{}
	for _, g := range d.groups {
		for _, v := range before[g.name] {
			exist[g.launchTemplate+":"+strconv.FormatInt(v.number, 10)] = true
		}
	}
	var would []string
	still := true
	for _, a := range planned.Actions {
		if a.Action == string(lifecycle.ActionDeleteVersion) {
			would = append(would, a.Target)
			still = still && exist[a.ID]
		}
	}
	st.fact(planned.Mode == lifecycle.LogModePlan && len(would) > 0 && still && d.imageState(ctx, d.imageID("v3")) == "available",
		"the night of %s ran in plan mode (%q) and would have deleted %s: all still exist, and v3 is available",
		planned.At.Format("2006-01-02 15:04"), planned.Subject, strings.Join(would, ", "))

	if err := d.readPlan(ctx, st, out, before); err != nil {
		return err
	}
	gib, err := d.snapshotGiB(ctx)
	if err != nil {
		return err
	}
	if err := d.setImageLifecycle(ctx, lifecycle.LogModeApply); err != nil {
		return err
	}
	out.SwitchedAt = d.c.now()
	seen := len(d.nights)
	v3 := d.imageID("v3")
	gone := func() (bool, error) {
		for _, n := range d.nights[seen:] {
			for _, a := range n.Actions {
				if a.ID == v3 && a.Action == string(lifecycle.ActionDeregister) && a.Result == lifecycle.ResultDone {
					return true, nil
				}
			}
		}
		return false, nil
	}
	if err := d.untilBy(ctx, d.mode.night, lifecycleNights*24*time.Hour, "v3 to be deregistered by the nightly image lifecycle", gone); err != nil {
		return err
	}
	if err := d.until(ctx, settleLimit, "both fleets to settle", d.settled); err != nil {
		return err
	}
	out.Nights = slices.Clone(d.nights)
	d.checkNights(st, out, seen, gib)
	if err := d.checkKept(ctx, st, out, before); err != nil {
		return err
	}
	if err := d.rollBack(ctx, st, out); err != nil {
		return err
	}
	res, err := d.outcome(ctx, st.Started, "", nil)
	if err != nil {
		return err
	}
	res.Lifecycle = out
	st.Result = res
	st.AsTold = st.allOK()
	var retired []string
	for _, l := range d.labels {
		if out.Images[l] == "gone" {
			retired = append(retired, l)
		}
	}
	rb := "no rollback"
	if r := out.Rollback; r != nil {
		rb = fmt.Sprintf("web rolled back to %d (%s): %s", r.ToVersion, r.To, r.Status)
	}
	st.Outcome = fmt.Sprintf("v4 rolled to both groups; the plan kept what is in use; %d apply nights deleted %d launch template versions and retired %s (%d GiB of snapshots); %s; fleets %s",
		len(d.nights)-seen, len(out.Deleted), orNone(strings.Join(retired, ", ")), out.GiBReclaimed, rb, d.fleetSummary(res.Fleet))
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// readPlan runs `phoenix images plan` as the operator would, and checks it
// against what the story claims: the versions of v1 and v3 go, each
// group's current version and the one its rollback would go to stay, for
// the reasons the contract gives.
func (d *demo) readPlan(ctx context.Context, st *Story, out *LifecycleOutcome, versions map[string][]ltVersion) error {
	d.command(st, d.phoenix(ctx, "images", "plan"))
	js := d.phoenix(ctx, "images", "plan", "-o", "json")
	if js.Code != 0 {
		return fmt.Errorf("phoenix images plan -o json exited %d: %s", js.Code, js.Output)
	}
	var doc planDoc
	if err := json.Unmarshal([]byte(js.Output), &doc); err != nil {
		return fmt.Errorf("phoenix images plan -o json: %w", err)
	}
	byTemplate := map[string]string{}
	for _, g := range d.groups {
		byTemplate[g.launchTemplate] = g.name
	}
	held := map[string][]string{}
	var toDelete, wantDelete []string
	for _, t := range doc.Templates {
		g := byTemplate[t.LaunchTemplateID]
		for _, v := range t.Versions {
			what := fmt.Sprintf("%s:%d (%s)", g, v.Version, d.label(v.ImageID))
			out.Plan = append(out.Plan, PlanLine{What: what, Action: cmp.Or(v.Action, "keep"), KeptBecause: reasons(v.KeptBecause)})
			held[what] = reasons(v.KeptBecause)
			if v.Action == string(lifecycle.ActionDeleteVersion) {
				toDelete = append(toDelete, what)
			}
		}
	}
	for _, g := range d.groups {
		for _, v := range versions[g.name] {
			if l := d.label(v.image); l != "v2" && l != "v4" {
				wantDelete = append(wantDelete, fmt.Sprintf("%s:%d (%s)", g.name, v.number, l))
			}
		}
	}
	// A plan is a prediction: reading it must change nothing.
	now, err := d.templateVersions(ctx)
	if err != nil {
		return err
	}
	entries, err := d.led.LifecycleLog(ctx, region, st.Started, 0)
	if err != nil {
		return fmt.Errorf("lifecycle log: %w", err)
	}
	var acted []string
	for _, e := range entries {
		if e.By != lifecycle.ByNightly {
			acted = append(acted, fmt.Sprintf("%s %s (%s) by %s", e.Action, d.target(e.Target), cmp.Or(e.Result, e.Mode), e.By))
		}
	}
	same := true
	for _, g := range d.groups {
		same = same && slices.Equal(now[g.name], versions[g.name])
	}
	v3 := d.imageState(ctx, d.imageID("v3"))
	logged := "only the nights' entries"
	if len(acted) > 0 {
		logged = strings.Join(acted, ", ")
	}
	st.fact(same && len(acted) == 0 && v3 == "available", "reading the plan changed nothing: web still has versions %s, api %s; v3 is %s; the lifecycle log holds %s",
		versionList(now["web"]), versionList(now["api"]), v3, logged)

	images := map[string]PlanLine{}
	for _, img := range doc.Images {
		l := PlanLine{What: d.label(img.ImageID), Action: cmp.Or(img.Action, "none"), KeptBecause: reasons(img.KeptBecause)}
		out.Plan = append(out.Plan, l)
		images[l.What] = l
	}
	slices.Sort(toDelete)
	slices.Sort(wantDelete)
	st.fact(doc.Mode == lifecycle.LogModePlan, "phoenix images plan: the stack's mode is %s", doc.Mode)
	st.fact(slices.Equal(toDelete, wantDelete) && len(toDelete) > 0, "the plan deletes %s (the versions of v1 and v3)", orNone(strings.Join(toDelete, ", ")))
	for _, g := range d.groups {
		cur, prev := d.versionOf(versions[g.name], "v4"), d.versionOf(versions[g.name], "v2")
		curWhat, prevWhat := fmt.Sprintf("%s:%d (v4)", g.name, cur), fmt.Sprintf("%s:%d (v2)", g.name, prev)
		st.fact(hasAll(held[curWhat], lifecycle.KeptDefault, lifecycle.KeptGroupUses, lifecycle.KeptLastKnownGood, lifecycle.KeptNewest),
			"%s, its current version, is kept because: %s", curWhat, strings.Join(held[curWhat], ", "))
		st.fact(hasAll(held[prevWhat], lifecycle.KeptRollbackHistory), "%s, where a rollback goes, is kept because: %s", prevWhat, strings.Join(held[prevWhat], ", "))
	}
	st.fact(images["v3"].Action == string(lifecycle.ActionMarkUnused), "v3, which nothing uses, is to be marked unused: its first stage (planned %s)", images["v3"].Action)
	st.fact(hasAll(images["v2"].KeptBecause, lifecycle.KeptVersion) && hasAll(images["v4"].KeptBecause, lifecycle.KeptLastKnownGood) && hasAll(images["v1"].KeptBecause, lifecycle.KeptNotPhoenix),
		"images kept: v2 because %s; v4 because %s; v1 because %s", strings.Join(images["v2"].KeptBecause, ", "),
		strings.Join(images["v4"].KeptBecause, ", "), strings.Join(images["v1"].KeptBecause, ", "))
	return nil
}

func hasAll(have []string, want ...lifecycle.Reason) bool {
	for _, w := range want {
		if !slices.Contains(have, string(w)) {
			return false
		}
	}
	return true
}

// checkNights reads what the apply nights did, from their summaries and
// the lifecycle log, and checks it: every version the plan deleted is
// gone, v3 went through its four stages a night apart, nothing failed,
// and the GiB reclaimed are v3's snapshots.
func (d *demo) checkNights(st *Story, out *LifecycleOutcome, first int, gib map[string]int64) {
	applied := out.Nights[first:]
	var stages []string
	failed := 0
	last := time.Time{}
	apart := true
	v3 := d.imageID("v3")
	var summaryGiB int64
	for _, n := range applied {
		summaryGiB += n.GiBReclaimed
		for _, a := range n.Actions {
			switch {
			case a.Result != lifecycle.ResultDone:
				failed++
			case a.Action == string(lifecycle.ActionDeleteVersion):
				out.Deleted = append(out.Deleted, a.Target)
			case a.ID == v3:
				stages = append(stages, a.Action)
				if !last.IsZero() && n.At.Sub(last) < 12*time.Hour {
					apart = false
				}
				last = n.At
			}
			if a.Action == string(lifecycle.ActionDeregister) && a.Result == lifecycle.ResultDone {
				out.GiBReclaimed += gib[a.ID]
			}
		}
	}
	modes := true
	for _, n := range applied {
		modes = modes && n.Mode == lifecycle.LogModeApply
	}
	st.fact(modes && len(applied) > 0, "%d nights ran in apply mode after the switch at %s", len(applied), out.SwitchedAt.Format("2006-01-02 15:04"))
	want := []string{string(lifecycle.ActionMarkUnused), string(lifecycle.ActionDeprecate), string(lifecycle.ActionDisable), string(lifecycle.ActionDeregister)}
	past := map[string]string{string(lifecycle.ActionMarkUnused): "marked unused", string(lifecycle.ActionDeprecate): "deprecated",
		string(lifecycle.ActionDisable): "disabled", string(lifecycle.ActionDeregister): "deregistered with its snapshots"}
	var done []string
	for _, s := range stages {
		done = append(done, cmp.Or(past[s], s))
	}
	st.fact(slices.Equal(stages, want) && apart, "v3 was %s, one stage a night", orNone(strings.Join(done, ", then ")))
	st.fact(failed == 0, "%d actions skipped or failed", failed)
	var planned []string
	for _, l := range out.Plan {
		if l.Action == string(lifecycle.ActionDeleteVersion) {
			planned = append(planned, l.What)
		}
	}
	deleted := slices.Sorted(slices.Values(out.Deleted))
	slices.Sort(planned)
	st.fact(slices.Equal(deleted, planned), "launch template versions deleted: %s", orNone(strings.Join(deleted, ", ")))
	st.fact(out.GiBReclaimed > 0 && summaryGiB == out.GiBReclaimed, "%d GiB of snapshots reclaimed, as the summaries on the topic say (%d GiB)", out.GiBReclaimed, summaryGiB)
}

// checkKept reads the groups' templates and the images from EC2 after the
// nights: what the groups run, their last-known-good and their rollback
// history are untouched, v3 and its snapshots are gone.
func (d *demo) checkKept(ctx context.Context, st *Story, out *LifecycleOutcome, before map[string][]ltVersion) error {
	after, err := d.templateVersions(ctx)
	if err != nil {
		return err
	}
	views, err := d.describe(ctx)
	if err != nil {
		return err
	}
	out.Versions = map[string][]int64{}
	for _, g := range d.groups {
		var nums []int64
		for _, v := range after[g.name] {
			nums = append(nums, v.number)
		}
		out.Versions[g.name] = nums
		cur, prev := d.versionOf(before[g.name], "v4"), d.versionOf(before[g.name], "v2")
		lkg, _, _, err := d.led.LastKnownGood(ctx, rollout.GroupKey{Region: region, Name: g.name})
		if err != nil {
			return fmt.Errorf("last-known-good of %s: %w", g.name, err)
		}
		st.fact(views[g.name].Version == strconv.FormatInt(cur, 10) && lkg.Number == cur && slices.Equal(nums, []int64{prev, cur}),
			"%s: runs version %s, last-known-good %d (%s); its template keeps versions %s",
			g.name, views[g.name].Version, lkg.Number, d.label(lkg.ImageID), versionList(after[g.name]))
	}
	out.Images = map[string]string{}
	for _, l := range d.labels {
		out.Images[l] = d.imageState(ctx, d.imageID(l))
	}
	st.fact(out.Images["v4"] == "available, protected", "v4, the last-known-good: %s (Phoenix's deregistration protection)", out.Images["v4"])
	st.fact(out.Images["v2"] == "available", "v2, the rollback target: %s", out.Images["v2"])
	st.fact(out.Images["v1"] == "available", "v1, not Phoenix's: %s, untouched", out.Images["v1"])
	snaps, err := d.snapshotsLeft(ctx)
	if err != nil {
		return err
	}
	st.fact(out.Images["v3"] == "gone" && !snaps[d.imageID("v3")], "v3: deregistered, and its snapshots deleted (DescribeImages and DescribeSnapshots no longer list them)")
	return nil
}

// rollBack has the operator roll web back with `phoenix rollback web`:
// to the version before its last image rollout, the one the rollback
// history kept.
func (d *demo) rollBack(ctx context.Context, st *Story, out *LifecycleOutcome) error {
	from := d.c.now()
	d.command(st, d.phoenix(ctx, "rollback", "web"))
	var x *execution
	find := func() (bool, error) {
		if x == nil {
			for _, e := range d.watch.executions {
				var in rolloutInput
				if e.Machine == d.c.machine && !e.Start.Before(from) && json.Unmarshal([]byte(e.Input), &in) == nil &&
					in.Request.Trigger.Kind == string(rollout.TriggerManual) && in.Request.Target.Name == "web" {
					x = e
				}
			}
		}
		return x != nil && x.Status != sfntypes.ExecutionStatusRunning, nil
	}
	if err := d.until(ctx, campaignLimit, "web's rollback to end", find); err != nil {
		return err
	}
	if err := d.until(ctx, settleLimit, "both fleets to settle", d.settled); err != nil {
		return err
	}
	res, err := d.outcome(ctx, from, "", func(r rollout.Rollout) bool { return r.ID == x.Name })
	if err != nil {
		return err
	}
	r := res.rollout("web")
	if r == nil {
		st.fact(false, "web: no rollback was recorded")
		return nil
	}
	out.Rollback = r
	st.fact(r.Status == string(rollout.StatusFinalized) && r.To == "v2" && res.Fleet["web"]["v2"] == d.mode.size && len(res.Fleet["web"]) == 1,
		"phoenix rollback web: rollout %s %s, version %d (%s) to %d (%s); web serves %s", r.ID, r.Status, r.FromVersion, r.From, r.ToVersion, r.To, d.fleetSummary(res.Fleet))
	return nil
}

// ltVersion is one launch template version.
type ltVersion struct {
	number int64
	image  string
}

// templateVersions reads every version of each group's launch template
// (DescribeLaunchTemplateVersions) and remembers which image each names,
// so that the timeline can name versions after they are deleted.
func (d *demo) templateVersions(ctx context.Context) (map[string][]ltVersion, error) {
	out := map[string][]ltVersion{}
	for _, g := range d.groups {
		p := ec2.NewDescribeLaunchTemplateVersionsPaginator(d.c.ec2, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(g.launchTemplate)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("versions of %s: %w", g.name, err)
			}
			for _, v := range page.LaunchTemplateVersions {
				lv := ltVersion{number: aws.ToInt64(v.VersionNumber)}
				if v.LaunchTemplateData != nil {
					lv.image = str(v.LaunchTemplateData.ImageId)
				}
				out[g.name] = append(out[g.name], lv)
				d.ltImages[g.launchTemplate+":"+strconv.FormatInt(lv.number, 10)] = lv.image
			}
		}
		slices.SortFunc(out[g.name], func(a, b ltVersion) int { return cmp.Compare(a.number, b.number) })
	}
	return out, nil
}

func (d *demo) versionOf(vs []ltVersion, label string) int64 {
	for i := len(vs) - 1; i >= 0; i-- {
		if d.label(vs[i].image) == label {
			return vs[i].number
		}
	}
	return 0
}

func versionList(vs []ltVersion) string {
	var parts []string
	for _, v := range vs {
		parts = append(parts, strconv.FormatInt(v.number, 10))
	}
	return strings.Join(parts, ", ")
}

// imageID returns the id of the image published as label.
func (d *demo) imageID(label string) string {
	for _, v := range d.versions {
		if v.Label == label {
			return v.ImageID
		}
	}
	return ""
}

// imageState says where an image stands, as DescribeImages shows it to
// its owner: "available", "deprecated", "disabled", with ", protected"
// when its deregistration protection is on, or "gone".
func (d *demo) imageState(ctx context.Context, id string) string {
	got, err := d.c.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}, IncludeDeprecated: aws.Bool(true), IncludeDisabled: aws.Bool(true)})
	var ae smithy.APIError
	if errors.As(err, &ae) && strings.HasPrefix(ae.ErrorCode(), "InvalidAMIID") {
		return "gone"
	}
	if err != nil {
		return "unreadable: " + err.Error()
	}
	if len(got.Images) == 0 || got.Images[0].State == ec2types.ImageStateDeregistered {
		return "gone"
	}
	img := got.Images[0]
	state := string(img.State)
	if dep := str(img.DeprecationTime); dep != "" && img.State == ec2types.ImageStateAvailable {
		if t, err := time.Parse(time.RFC3339, dep); err == nil && !t.After(d.c.now()) {
			state = "deprecated"
		}
	}
	if strings.HasPrefix(str(img.DeregistrationProtection), "enabled") {
		state += ", protected"
	}
	return state
}

// snapshotGiB reads the size of each own image's snapshots, by image.
func (d *demo) snapshotGiB(ctx context.Context) (map[string]int64, error) {
	out := map[string]int64{}
	p := ec2.NewDescribeSnapshotsPaginator(d.c.ec2, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
	images := map[string]string{} // snapshot -> image
	got, err := d.c.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}, IncludeDeprecated: aws.Bool(true), IncludeDisabled: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("describe own images: %w", err)
	}
	for _, img := range got.Images {
		for _, bd := range img.BlockDeviceMappings {
			if bd.Ebs != nil && bd.Ebs.SnapshotId != nil {
				images[str(bd.Ebs.SnapshotId)] = str(img.ImageId)
			}
		}
	}
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe snapshots: %w", err)
		}
		for _, s := range page.Snapshots {
			if img, ok := images[str(s.SnapshotId)]; ok {
				out[img] += int64(aws.ToInt32(s.VolumeSize))
			}
		}
	}
	d.snapshots, d.imageGiB = images, out
	return out, nil
}

// snapshotsLeft reports, by image, whether any of the snapshots it had
// when snapshotGiB read them still exists.
func (d *demo) snapshotsLeft(ctx context.Context) (map[string]bool, error) {
	out := map[string]bool{}
	p := ec2.NewDescribeSnapshotsPaginator(d.c.ec2, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe snapshots: %w", err)
		}
		for _, s := range page.Snapshots {
			if img, ok := d.snapshots[str(s.SnapshotId)]; ok {
				out[img] = true
			}
		}
	}
	return out, nil
}

// setImageLifecycle does what a stack update of the ImageLifecycle
// parameter does: the parameter reaches only the image-lifecycle
// function's PHOENIX_IMAGE_LIFECYCLE, so CloudFormation updates that
// function's environment (UpdateFunctionConfiguration, every other
// variable as it was).
func (d *demo) setImageLifecycle(ctx context.Context, mode string) error {
	fn := d.c.functions()[lifecycleFunction]
	got, err := d.c.lam.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(fn)})
	if err != nil {
		return fmt.Errorf("read the configuration of %s: %w", fn, err)
	}
	vars := map[string]string{}
	if got.Environment != nil {
		vars = maps.Clone(got.Environment.Variables)
	}
	was := vars[config.EnvImageLifecycle]
	vars[config.EnvImageLifecycle] = mode
	if _, err := d.c.lam.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String(fn), Environment: &lambdatypes.Environment{Variables: vars},
	}); err != nil {
		return fmt.Errorf("update the configuration of %s: %w", fn, err)
	}
	d.emit(Event{At: d.c.now(), Kind: "operator", Text: fmt.Sprintf(
		"the operator updates the stack with ImageLifecycle=%s (was %s): CloudFormation sets %s=%s on function %s",
		mode, was, config.EnvImageLifecycle, mode, fn)})
	return nil
}

// command records an operator's CLI run in the story and prints it.
func (d *demo) command(st *Story, v OperatorView) {
	st.Commands = append(st.Commands, v)
	d.emit(Event{At: d.c.now(), Kind: "operator", Text: "the operator runs `" + v.Command + "`"})
	for _, line := range strings.Split(v.Output, "\n") {
		fmt.Fprintf(d.cfg.Out, "              %s\n", line)
	}
	if v.Code != 0 {
		fmt.Fprintf(d.cfg.Out, "              (exit code %d)\n", v.Code)
	}
}

// pollNights reads the topic's image lifecycle summaries not seen yet and,
// for each, the night's entries in the ledger's lifecycle log, and
// returns a timeline line per night. The summary is published last, so a
// night whose summary is there has its whole log written.
func (d *demo) pollNights(ctx context.Context) ([]Event, error) {
	msgs, err := d.c.topicMessages(ctx)
	if err != nil {
		return nil, err
	}
	var evs []Event
	for i, m := range msgs {
		if i < d.messagesSeen || !strings.HasPrefix(m.Subject, lifecycleSubject) {
			continue
		}
		n := Night{At: m.At, Mode: m.Attrs["mode"], Subject: m.Subject, Summary: m.Text}
		if _, run, ok := strings.Cut(m.Text, "\nRun: "); ok {
			n.RunID = strings.TrimSpace(run)
		}
		for _, line := range strings.Split(m.Text, "\n") {
			if rest, ok := strings.CutPrefix(line, "AMIs: "); ok {
				var k int
				_, _ = fmt.Sscanf(rest, "%d deregistered (%d GiB", &k, &n.GiBReclaimed)
			}
		}
		entries, err := d.led.LifecycleLog(ctx, region, m.At.Add(-24*time.Hour), 0)
		if err != nil {
			return nil, fmt.Errorf("lifecycle log: %w", err)
		}
		for _, e := range entries {
			if _, known := d.ltImages[e.Target]; strings.Contains(e.Target, ":") && !known {
				// A version first named tonight: read which image it
				// names while it still exists (a plan night comes first).
				if _, err := d.templateVersions(ctx); err != nil {
					return nil, err
				}
				break
			}
		}
		slices.SortFunc(entries, func(a, b lifecycle.LogEntry) int { return cmp.Compare(a.Seq, b.Seq) })
		for _, e := range entries {
			if e.RunID != n.RunID {
				continue
			}
			if n.At.IsZero() || e.At.Before(n.At) {
				n.At = e.At
			}
			n.Actions = append(n.Actions, NightAction{Action: string(e.Action), Target: d.target(e.Target), ID: e.Target, Result: e.Result})
		}
		n.Text = d.nightText(n)
		d.nights = append(d.nights, n)
		evs = append(evs, Event{At: n.At, Kind: "lifecycle", Text: n.Text})
		kept := ""
		for _, line := range strings.Split(m.Text, "\n") {
			if rest, ok := strings.CutPrefix(line, "Kept because: "); ok {
				kept = "; kept because: " + strings.TrimSuffix(rest, ".")
			}
		}
		evs = append(evs, Event{At: m.At, Kind: "lifecycle", Minor: n.Mode == lifecycle.LogModeApply && len(n.Actions) > 0,
			Text: "summary to the topic: \"" + m.Subject + "\"" + kept})
	}
	d.messagesSeen = len(msgs)
	return evs, nil
}

// target names a lifecycle log target for people: an AMI by its label, a
// launch template version as GROUP:VERSION (IMAGE).
func (d *demo) target(id string) string {
	tid, num, ok := strings.Cut(id, ":")
	if !ok {
		return d.label(id)
	}
	name := tid
	for _, g := range d.groups {
		if g.launchTemplate == tid {
			name = g.name
		}
	}
	img, ok := d.ltImages[id]
	if !ok {
		return name + ":" + num
	}
	return fmt.Sprintf("%s:%s (%s)", name, num, d.label(img))
}

// nightText says what a night did, or would have done, in one line.
func (d *demo) nightText(n Night) string {
	// What each action says, done and planned; %s is its targets.
	says := map[string][2]string{
		string(lifecycle.ActionDeleteVersion): {"deleted %s", "would delete %s"},
		string(lifecycle.ActionMarkUnused):    {"marked %s unused", "would mark %s unused"},
		string(lifecycle.ActionMarkUsed):      {"marked %s in use again", "would mark %s in use again"},
		string(lifecycle.ActionDeprecate):     {"deprecated %s", "would deprecate %s"},
		string(lifecycle.ActionDisable):       {"disabled %s", "would disable %s"},
		string(lifecycle.ActionDeregister):    {"deregistered %s and deleted its snapshots", "would deregister %s"},
		string(lifecycle.ActionProtect):       {"protected %s from deregistration", "would protect %s from deregistration"},
		string(lifecycle.ActionUnprotect):     {"lifted the deregistration protection of %s", "would lift the deregistration protection of %s"},
		string(lifecycle.ActionRestore):       {"restored %s", "would restore %s"},
	}
	var order []string
	targets := map[string][]string{}
	for _, a := range n.Actions {
		key := a.Action
		if a.Result != "" && a.Result != lifecycle.ResultDone {
			key = a.Action + " (" + a.Result + ")"
		}
		if _, ok := targets[key]; !ok {
			order = append(order, key)
		}
		targets[key] = append(targets[key], a.Target)
	}
	var parts []string
	for _, k := range order {
		action, result, _ := strings.Cut(k, " (")
		i := 0
		if n.Mode != lifecycle.LogModeApply {
			i = 1
		}
		format := cmp.Or(says[action][i], action+" %s")
		part := fmt.Sprintf(format, strings.Join(targets[k], ", "))
		if result != "" {
			part += " (" + result
		}
		parts = append(parts, part)
	}
	what := "nothing to do"
	if len(parts) > 0 {
		what = strings.Join(parts, "; ")
	}
	if n.GiBReclaimed > 0 {
		what += fmt.Sprintf(": %d GiB of snapshots reclaimed", n.GiBReclaimed)
	}
	if n.Mode == lifecycle.LogModeApply {
		return "nightly image lifecycle (apply): " + what
	}
	return "nightly image lifecycle (" + n.Mode + ", nothing done): " + what
}
