package e2e

import (
	"cmp"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/phoenix-rollouts/phoenix/shared/ledger"
	"github.com/phoenix-rollouts/phoenix/shared/lifecycle"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/eventbus"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
)

// The image lifecycle in the fault campaigns (docs/soak.md, "A scenario"
// and the invariants in-use-kept and rollbacks-launch): every scenario
// deploys the stack with ImageLifecycle=apply, a schedule that fires every
// 20 minutes to an hour and stage waits of minutes to hours, so that
// retirement races with the scenario's rollouts, reverts, alarms,
// recycles, faults and an operator's hand.

// lifecyclePlan is how a scenario's stack runs the image lifecycle: its
// stack parameters, and whether the groups' first images carry their
// role (which makes them the lifecycle's to retire once out of use).
type lifecyclePlan struct {
	every                                         time.Duration
	keepVersions, keepRollback, maxActions        int
	deprecateAfter, disableAfter, deregisterAfter time.Duration
	roleOnFirstImages                             bool
}

// parameters are the stack parameters of the plan; none (the template's
// defaults: plan only, once a night) for a scenario without one.
func (p lifecyclePlan) parameters() map[string]string {
	if p.every == 0 {
		return nil
	}
	secs := func(d time.Duration) string { return strconv.Itoa(int(d.Seconds())) }
	return map[string]string{
		"ImageLifecycle":                  "apply",
		"ImageLifecycleSchedule":          rate(p.every),
		"LifecycleKeepVersions":           strconv.Itoa(p.keepVersions),
		"LifecycleKeepRollbackVersions":   strconv.Itoa(p.keepRollback),
		"LifecycleDeprecateAfterSeconds":  secs(p.deprecateAfter),
		"LifecycleDisableAfterSeconds":    secs(p.disableAfter),
		"LifecycleDeregisterAfterSeconds": secs(p.deregisterAfter),
		"LifecycleMaxActions":             strconv.Itoa(p.maxActions),
	}
}

// maxTail bounds a scenario's lifecycle tail.
const maxTail = 4 * time.Hour

// tail is how long the lifecycle goes on running once the scenario has
// quiesced: long enough for an image the scenario left out of use to go
// through every stage (four runs and the three waits), at most maxTail;
// the invariants then judge what it left.
func (p lifecyclePlan) tail() time.Duration {
	if p.every == 0 {
		return 0
	}
	return min(4*p.every+p.deprecateAfter+p.disableAfter+p.deregisterAfter, maxTail)
}

// rate writes a whole number of minutes or hours as a schedule expression.
func rate(d time.Duration) string {
	switch m := int(d.Minutes()); {
	case m == 60:
		return "rate(1 hour)"
	case m%60 == 0:
		return fmt.Sprintf("rate(%d hours)", m/60)
	default:
		return fmt.Sprintf("rate(%d minutes)", m)
	}
}

func (p lifecyclePlan) String() string {
	if p.every == 0 {
		return "image lifecycle: the template's defaults (plan, once a night)"
	}
	first := ""
	if p.roleOnFirstImages {
		first = "; the groups' first images carry their role"
	}
	return fmt.Sprintf("image lifecycle: apply %s; keep the newest %d, rollback history %d; deprecate after %s, disable after %s, deregister after %s; at most %d actions a run%s",
		rate(p.every), p.keepVersions, p.keepRollback, p.deprecateAfter, p.disableAfter, p.deregisterAfter, p.maxActions, first)
}

// ruleLifecycle names the image lifecycle's schedule rule in a chaos
// action; the rig finds its physical name.
const ruleLifecycle = "image lifecycle schedule"

// lifecycleCalls are the calls a lifecycle run makes that a fault may hit
// (the ledger's and SNS's are in faultCalls already).
var lifecycleCalls = [][2]string{
	{"ec2", "DescribeLaunchTemplates"}, {"ec2", "DescribeLaunchTemplateVersions"}, {"ec2", "DescribeImages"},
	{"ec2", "DescribeImageAttribute"}, {"ec2", "DescribeImageReferences"}, {"ec2", "DeleteLaunchTemplateVersions"},
	{"ec2", "EnableImageDeprecation"}, {"ec2", "DisableImageDeprecation"}, {"ec2", "DisableImage"}, {"ec2", "EnableImage"},
	{"ec2", "DeregisterImage"}, {"ec2", "EnableImageDeregistrationProtection"}, {"ec2", "DisableImageDeregistrationProtection"},
	{"ec2", "*"},
}

// lifecycleRuns draws the image lifecycle's part of a scenario: the stack
// parameters, the operator's actions on what it retires, and the faults
// its runs meet. They come from a stream of their own, so that every other
// draw of a seed is what it was before they were added. Every action lands
// within 5 hours, as the others do.
func lifecycleRuns(seed uint64, sc *scenario, rolloutTimes []time.Duration) {
	rng := rand.New(rand.NewPCG(seed, 0x11fec7))
	pick := func(n int) int { return rng.IntN(n) }
	chance := func(p float64) bool { return rng.Float64() < p }
	minutes := func(lo, hi int) time.Duration { return time.Duration(lo+pick(hi-lo+1)) * time.Minute }
	// Short waits and little history mostly, so that versions go and
	// images go through every stage while the scenario runs (a few hours);
	// now and then a long wait, which keeps an image waiting.
	waits := []time.Duration{0, 0, 0, 10 * time.Minute, 20 * time.Minute, 30 * time.Minute, time.Hour, 3 * time.Hour}
	p := lifecyclePlan{
		every:        []time.Duration{20 * time.Minute, 30 * time.Minute, time.Hour}[pick(3)],
		keepVersions: []int{1, 1, 2, 2, 3, 5}[pick(6)], keepRollback: pick(4),
		deprecateAfter: waits[pick(len(waits))], disableAfter: waits[pick(len(waits))], deregisterAfter: waits[pick(len(waits))],
		maxActions:        []int{1, 3, 10, 500}[pick(4)],
		roleOnFirstImages: chance(0.5),
	}
	sc.lifecycle = p
	add := func(a action) { sc.actions = append(sc.actions, a) }
	near := func(lo, hi int) time.Duration { return rolloutTimes[pick(len(rolloutTimes))] + minutes(lo, hi) }
	// late is an instant an hour or more after the last rollout starts:
	// what earlier rollouts left out of use may be deprecated or disabled
	// by then.
	late := func() time.Duration { return slices.Max(rolloutTimes) + minutes(60, 150) }

	// The operator's hand: an old version made the default for a while, an
	// instance launched from an old image (terminated later, or left
	// running), phoenix:keep=true on an old image or a template, an old
	// image rolled again. What they touch is chosen when they happen, from
	// what exists then; all but the first come late, when the lifecycle
	// may have staged what they re-use.
	if chance(0.3) {
		g := sc.groups[pick(len(sc.groups))]
		at := near(10, 90)
		add(action{at: at, kind: actHandDefault, group: g.name, id: "hand-default"})
		add(action{at: at + minutes(10, 60), kind: actUndoDefault, group: g.name, id: "hand-default"})
	}
	if chance(0.3) {
		at := late()
		add(action{at: at, kind: actHandLaunch, id: "hand-instance"})
		if chance(0.7) {
			add(action{at: min(at+minutes(10, 60), 5*time.Hour), kind: actHandTerminate, id: "hand-instance"})
		}
	}
	if chance(0.25) {
		a := action{at: late(), kind: actKeep, id: "keep-image"}
		if chance(0.4) {
			a.id, a.group = "keep-template", sc.groups[pick(len(sc.groups))].name
		}
		add(a)
	}
	if chance(0.3) {
		g := sc.groups[pick(len(sc.groups))]
		add(action{at: late(), kind: actReroll, group: g.name, id: fmt.Sprintf("soak-%d-again", seed)})
	}

	// Faults that meet the lifecycle's runs: each window outlasts the
	// schedule's period, so that at least one run falls in it.
	window := func(id string, r faults.Rule) {
		at := near(0, 30)
		add(action{at: at, kind: actFault, id: id, fault: r})
		add(action{at: at + p.every + minutes(0, 60), kind: actHeal, id: id})
	}
	if chance(0.3) {
		kind := faults.FunctionCrash
		if chance(0.5) {
			kind = faults.FunctionTimeout
		}
		window("lifecycle-fn", faults.Rule{Kind: kind, Target: "ImageLifecycleFunction", Probability: []float64{0.5, 1}[pick(2)], Times: 1 + pick(3)})
	}
	if chance(0.3) {
		call := lifecycleCalls[pick(len(lifecycleCalls))]
		kind := faults.Throttle
		if chance(0.4) {
			kind = faults.ServerError
		}
		// A few faults end a run part way (everything before them done),
		// many outlast Lambda's two retries of the night.
		window("lifecycle-api", faults.Rule{
			Kind: kind, Service: call[0], Operation: call[1],
			Probability: []float64{0.25, 0.5, 1}[pick(3)], Times: []int{2, 5, 15}[pick(3)],
		})
	}
	if chance(0.3) {
		// The schedule's event delivered twice (two runs at once, or one
		// after the other), late, or now and then not at all.
		at := near(0, 30)
		c := eventbus.Chaos{
			Drop: []float64{0, 0, 0.3}[pick(3)], Duplicate: 1, Delay: []float64{0, 0.5, 1}[pick(3)], MaxDelay: minutes(1, 10),
		}
		add(action{at: at, kind: actChaos, id: "lifecycle-chaos", rule: ruleLifecycle, chaos: c})
		add(action{at: at + p.every + minutes(0, 60), kind: actCalm, id: "lifecycle-chaos", rule: ruleLifecycle})
	}
}

// describeHand writes an operator's action on what the lifecycle retires.
func (a action) describeHand() string {
	switch a.kind {
	case actHandDefault:
		return fmt.Sprintf("by hand: the oldest version of %s's launch template made its default", a.group)
	case actUndoDefault:
		return fmt.Sprintf("by hand: %s's default put back to last-known-good, if it is still the version set by hand", a.group)
	case actHandLaunch:
		return "by hand: an instance launched from an old image (deprecated if one is), in no group"
	case actHandTerminate:
		return "by hand: that instance terminated"
	case actKeep:
		if a.id == "keep-template" {
			return fmt.Sprintf("by hand: phoenix:keep=true on %s's launch template", a.group)
		}
		return "by hand: phoenix:keep=true on the old image furthest retired (disabled, else deprecated, else unused)"
	case actReroll:
		return fmt.Sprintf("by hand: rollout %s rolls again the image of an ended rollout of %s, the furthest retired (StartExecution)", a.id, a.group)
	}
	return string(a.kind)
}

// tagFirstImages gives each group's first image its group's role, as the
// pipeline that built it would have: the lifecycle may then retire it once
// nothing uses it.
func (c *campaign) tagFirstImages(t *testing.T) {
	if !c.sc.lifecycle.roleOnFirstImages {
		return
	}
	o := c.obs
	for _, g := range c.sc.groups {
		if g.shares != "" {
			continue
		}
		if _, err := c.r.env.Cloud.World.EC2().CreateTags(o.ctx, &ec2.CreateTagsInput{
			Resources: []string{o.fleets[g.name].image},
			Tags:      []ec2types.Tag{{Key: aws.String(lifecycle.TagRole), Value: aws.String(g.role)}},
		}); err != nil {
			t.Fatalf("tag the first image of %s: %v", g.name, err)
		}
	}
}

// lifecycleRule returns the physical name of the image lifecycle's
// schedule rule.
func (c *campaign) lifecycleRule(t *testing.T) string {
	out, err := c.r.env.Cloud.EventBridge.ListRules(c.obs.ctx, &eventbridge.ListRulesInput{})
	if err != nil {
		t.Fatalf("list rules: %v", err)
	}
	for _, r := range out.Rules {
		if strings.Contains(aws.ToString(r.Name), "ImageLifecycleFunctionNightly") {
			return aws.ToString(r.Name)
		}
	}
	t.Fatalf("the stack has no image lifecycle schedule rule")
	return ""
}

// hand plays an operator's action on what the lifecycle retires. What it
// touches is chosen from the world as it is; an action that finds nothing
// to do says so in the log.
func (c *campaign) hand(t *testing.T, a action) {
	o := c.obs
	w := o.read()
	note := func(format string, args ...any) {
		c.handLog = append(c.handLog, fmt.Sprintf("+%s %s: %s", w.at.Sub(o.start), a.kind, fmt.Sprintf(format, args...)))
	}
	ec2c := c.r.env.Cloud.World.EC2()
	switch a.kind {
	case actHandDefault:
		lt, st := o.fleets[a.group].launchTemplate, w.groups[a.group]
		lkg, hasLKG := w.ledger.lkg[a.group]
		_, notNumbered := strconv.ParseInt(st.version, 10, 64)
		switch {
		case len(o.templateUsers(a.group)) > 1:
			note("skipped: the launch template is shared")
			return
		case notNumbered != nil:
			note("skipped: %s launches %s, which the default would move", a.group, st.version)
			return
		case !hasLKG || st.defaultVersion != lkg.number:
			note("skipped: the default (%d) is not last-known-good", st.defaultVersion)
			return
		}
		versions := sortedVersions(w.lc.versions[lt])
		if len(versions) < 2 {
			note("skipped: the launch template has one version")
			return
		}
		v := versions[0]
		if v == st.defaultVersion {
			v = versions[1]
		}
		if _, err := ec2c.ModifyLaunchTemplate(o.ctx, &ec2.ModifyLaunchTemplateInput{
			LaunchTemplateId: aws.String(lt), DefaultVersion: aws.String(strconv.FormatInt(v, 10)),
		}); err != nil {
			t.Fatalf("%s: %v", a.describe(c.sc), err)
		}
		o.handDefault[lt] = v
		note("default of %s set to version %d (was %d)", lt, v, st.defaultVersion)
	case actUndoDefault:
		lt := o.fleets[a.group].launchTemplate
		v, ok := o.handDefault[lt]
		if !ok {
			return
		}
		delete(o.handDefault, lt)
		lkg, hasLKG := w.ledger.lkg[a.group]
		if d := w.groups[a.group].defaultVersion; d != v || !hasLKG {
			note("left alone: the default is %d, not the version set by hand", d)
			return
		}
		if _, err := ec2c.ModifyLaunchTemplate(o.ctx, &ec2.ModifyLaunchTemplateInput{
			LaunchTemplateId: aws.String(lt), DefaultVersion: aws.String(strconv.FormatInt(lkg.number, 10)),
		}); err != nil {
			t.Fatalf("%s: %v", a.describe(c.sc), err)
		}
		note("default of %s put back to version %d", lt, lkg.number)
	case actHandLaunch:
		img := o.oldImage(w, false)
		if img == "" {
			note("skipped: no old image can launch")
			return
		}
		out, err := ec2c.RunInstances(o.ctx, &ec2.RunInstancesInput{
			ImageId: aws.String(img), InstanceType: ec2types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: []ec2types.Tag{
				{Key: aws.String("Name"), Value: aws.String("soak-by-hand")},
			}}},
		})
		if err != nil {
			note("EC2 refused a launch from %s: %v", img, err)
			return
		}
		o.handInstance = aws.ToString(out.Instances[0].InstanceId)
		note("instance %s launched from %s (%s)", o.handInstance, img, w.lc.images[img].stage())
	case actHandTerminate:
		if o.handInstance == "" {
			return
		}
		if _, err := ec2c.TerminateInstances(o.ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{o.handInstance}}); err != nil {
			t.Fatalf("%s: %v", a.describe(c.sc), err)
		}
		note("instance %s terminated", o.handInstance)
		o.handInstance = ""
	case actKeep:
		if a.id == "keep-template" {
			lt := o.fleets[a.group].launchTemplate
			if _, err := ec2c.CreateTags(o.ctx, &ec2.CreateTagsInput{Resources: []string{lt},
				Tags: []ec2types.Tag{{Key: aws.String(lifecycle.TagKeep), Value: aws.String("true")}}}); err != nil {
				t.Fatalf("%s: %v", a.describe(c.sc), err)
			}
			if o.keptVersions[lt] == nil {
				o.keptVersions[lt] = map[int64]bool{}
			}
			for v := range w.lc.versions[lt] {
				o.keptVersions[lt][v] = true
			}
			note("%s tagged, with versions %v", lt, sortedVersions(w.lc.versions[lt]))
			return
		}
		img := o.oldImage(w, true)
		if img == "" {
			note("skipped: no old image left")
			return
		}
		if _, err := ec2c.CreateTags(o.ctx, &ec2.CreateTagsInput{Resources: []string{img},
			Tags: []ec2types.Tag{{Key: aws.String(lifecycle.TagKeep), Value: aws.String("true")}}}); err != nil {
			t.Fatalf("%s: %v", a.describe(c.sc), err)
		}
		note("%s (%s) tagged", img, w.lc.images[img].stage())
	case actReroll:
		img := o.endedImage(w, a.group)
		if img == "" {
			note("skipped: no ended rollout of %s left an image", a.group)
			return
		}
		if _, err := c.r.env.Cloud.StepFunctions.StartExecution(o.ctx, &sfn.StartExecutionInput{
			StateMachineArn: aws.String(c.r.machine), Name: aws.String(a.id), Input: aws.String(request(a.id, a.group, img)),
		}); err != nil {
			t.Fatalf("%s: %v", a.describe(c.sc), err)
		}
		c.images[a.id] = img
		note("rollout %s of %s (%s, %s)", a.id, img, o.label(img), w.lc.images[img].stage())
	}
}

// endedImage picks the image an ended image rollout of the group rolled,
// the furthest retired first (disabled, deprecated, available), the
// oldest rollout first; "" if none is left registered.
func (o *observer) endedImage(w world, group string) string {
	var recs []ledgerRec
	for _, id := range sortedRollouts(w.ledger.rollouts) {
		if rec := w.ledger.rollouts[id]; rec.group == group && rec.mode == string(rollout.ModeImage) && rollout.Status(rec.status).Terminal() && rec.to.image != "" {
			recs = append(recs, rec)
		}
	}
	slices.SortStableFunc(recs, func(a, b ledgerRec) int { return a.startedAt.Compare(b.startedAt) })
	rank := map[string]int{"disabled": 0, "deprecated": 1, "available": 2}
	best, bestRank := "", 99
	for _, rec := range recs {
		if r, ok := rank[w.lc.images[rec.to.image].stage()]; ok && r < bestRank {
			best, bestRank = rec.to.image, r
		}
	}
	return best
}

// oldImage picks one of the scenario's images that nothing uses, the
// furthest retired first: for a keep tag, disabled, then deprecated, then
// available; for a launch (disabled images cannot launch, fail-launch ones
// do not), deprecated, then available. "" if there is none.
func (o *observer) oldImage(w world, keep bool) string {
	used := map[string]bool{}
	for _, ref := range o.references(w) {
		used[ref.image] = true
		if img, ok := w.lc.versions[ref.template][ref.version]; ok && ref.version > 0 {
			used[img] = true
		}
	}
	rank := func(id string) int {
		st, ok := w.lc.images[id]
		switch {
		case !ok || used[id] || o.labels[id] == behNoLaunch:
			return -1
		case st.state == "disabled" && keep:
			return 0
		case st.state == "available" && st.deprecated:
			return 1
		case st.state == "available":
			return 2
		}
		return -1
	}
	best, bestRank := "", 99
	for _, id := range o.scenarioImages() {
		if r := rank(id); r >= 0 && r < bestRank {
			best, bestRank = id, r
		}
	}
	return best
}

// scenarioImages are the images the scenario made: the groups' first
// images and every image rolled or published, sorted.
func (o *observer) scenarioImages() []string {
	var ids []string
	for id := range o.labels {
		ids = append(ids, id)
	}
	for _, f := range o.fleets {
		ids = append(ids, f.image)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

func sortedVersions(m map[int64]string) []int64 { return slices.Sorted(maps.Keys(m)) }

// lifecycleOutcome writes what the lifecycle did, for the determinism
// check: the runs, the actions done by kind, the hand actions, and what is
// left of each template and image.
func (c *campaign) lifecycleOutcome(w world) string {
	o := c.obs
	var b strings.Builder
	entries, err := ledger.New(o.db, c.r.table).LifecycleLog(o.ctx, region, time.Time{}, 0)
	if err != nil {
		c.r.t.Fatalf("read the lifecycle log: %v", err)
	}
	results := map[string]int{}
	for _, e := range entries {
		result := e.Result
		if i := strings.Index(result, ": "); i >= 0 {
			result = result[:i]
		}
		results[fmt.Sprintf("%s %s", e.Action, cmp.Or(result, e.Mode))]++
	}
	var parts []string
	for _, k := range sortedKeysInt(results) {
		parts = append(parts, fmt.Sprintf("%s %d", k, results[k]))
	}
	fmt.Fprintf(&b, "  lifecycle: %d apply runs summarized; actions: %s\n", len(w.lc.runs), strings.Join(parts, ", "))
	for _, l := range c.handLog {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	var lts []string
	for lt := range w.lc.versions {
		lts = append(lts, lt)
	}
	slices.Sort(lts)
	for _, lt := range lts {
		fmt.Fprintf(&b, "  template %s: versions %v\n", lt, sortedVersions(w.lc.versions[lt]))
	}
	stages := map[string]int{}
	for _, id := range o.scenarioImages() {
		stages[w.lc.images[id].stage()]++
	}
	parts = nil
	for _, k := range sortedKeysInt(stages) {
		parts = append(parts, fmt.Sprintf("%s %d", k, stages[k]))
	}
	fmt.Fprintf(&b, "  images: %s\n", strings.Join(parts, ", "))
	return b.String()
}

// plainRollbackNotes says, for each group, whether `phoenix rollback
// GROUP` with no --to-version could still launch at the end. Its target,
// the version the group ran before its newest finalized or pinned image
// rollout (docs/cli.md), is neither last-known-good nor in the rollback
// history when it was never finalized itself (a group's first version,
// say), and the lifecycle's contract does not keep it past the guard
// window: a note for the report, not an invariant.
func (o *observer) plainRollbackNotes(w world) []string {
	var notes []string
	for _, g := range o.sc.groups {
		var newest *ledgerRec
		for _, id := range sortedRollouts(w.ledger.rollouts) {
			rec := w.ledger.rollouts[id]
			moved := rec.status == string(rollout.StatusFinalized) || rec.status == string(rollout.StatusPinned)
			if rec.group == g.name && rec.mode == string(rollout.ModeImage) && moved && rec.from.number > 0 && (newest == nil || rec.startedAt.After(newest.startedAt)) {
				newest = &rec
			}
		}
		if newest == nil {
			continue
		}
		lt, v := o.fleets[g.name].launchTemplate, newest.from.number
		_, err := o.r.env.Cloud.World.EC2().RunInstances(o.ctx, &ec2.RunInstancesInput{
			DryRun: aws.Bool(true), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			LaunchTemplate: &ec2types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(lt), Version: aws.String(strconv.FormatInt(v, 10))},
		})
		if err == nil || strings.Contains(err.Error(), "DryRunOperation") {
			continue
		}
		why := "never finalized, so no rollback history holds it"
		for _, rec := range w.ledger.rollouts {
			if rec.group == g.name && rec.status == string(rollout.StatusFinalized) && rec.to.number == v {
				why = fmt.Sprintf("finalized once, but not among the %d kept as rollback history", o.sc.lifecycle.keepRollback)
			}
		}
		notes = append(notes, fmt.Sprintf("`phoenix rollback %s` (to version %d, where rollout %s came from; %s) would fail: %v", g.name, v, newest.id, why, err))
	}
	return notes
}
