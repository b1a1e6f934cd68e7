package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// The demo's groups: web is the canary (wave 0), api follows (wave 1).
var groupSpecs = []groupSpec{{name: "web", wave: "0"}, {name: "api", wave: "1"}}

// recycled is the group story 3 tags for recycling.
const recycled = "api"

// Limits in simulated time: far beyond what each step takes, so that only
// a story that does not happen runs into them.
const (
	campaignLimit = 8 * time.Hour
	settleLimit   = time.Hour
	nightLimit    = 30 * time.Hour
)

// setup makes the two groups on image v1 and waits until they serve.
func (d *demo) setup(ctx context.Context, st *Story) error {
	v1, err := d.publish(ctx, "v1", map[string]string{behaviorTag: "healthy"},
		"the image the groups run today (no phoenix:role: Phoenix rolls it nowhere)")
	if err != nil {
		return err
	}
	for _, spec := range groupSpecs {
		g, err := d.createGroup(ctx, spec, v1)
		if err != nil {
			return err
		}
		d.groups = append(d.groups, g)
		what := "wave " + spec.wave
		if spec.wave == "0" {
			what += ", the canary"
		}
		d.emit(Event{At: d.c.now(), Group: g.name, Kind: "setup", Text: fmt.Sprintf(
			"group created: %d instances of v1 behind load balancer %s (%s); alarm %s on its 5xx count, listed in phoenix:alarms",
			d.mode.size, g.name, what, g.alarm)})
	}
	if err := d.until(ctx, settleLimit, "every instance healthy behind its load balancer", d.allHealthy(ctx)); err != nil {
		return err
	}
	out, err := d.outcome(ctx, st.Started, "", nil)
	if err != nil {
		return err
	}
	st.Outcome = fmt.Sprintf("web and api serve %s each", d.fleetSummary(out.Fleet))
	st.Result = out
	st.AsTold = d.onlyOn(out.Fleet, "v1")
	st.Facts = append(st.Facts, Fact{What: "both groups serve only v1, every instance healthy", OK: st.AsTold})
	return nil
}

// storyRollout publishes a healthy v2 and follows the campaign Phoenix
// starts by itself: web first, then api, each to finalized.
func (d *demo) storyRollout(ctx context.Context, st *Story) error {
	v2, err := d.publish(ctx, "v2", map[string]string{"phoenix:role": role, behaviorTag: "healthy"},
		"phoenix:role=app, owned by this account, healthy")
	if err != nil {
		return err
	}
	cmp, err := d.awaitCampaign(ctx, v2)
	if err != nil {
		return err
	}
	if err := d.until(ctx, settleLimit, "both fleets to settle", d.settled); err != nil {
		return err
	}
	out, err := d.outcome(ctx, st.Started, cmp, func(r rollout.Rollout) bool { return r.To.ImageID == v2 })
	if err != nil {
		return err
	}
	st.Result = out
	web, api := out.rollout("web"), out.rollout("api")
	st.fact(out.Campaign == string(sfntypes.ExecutionStatusSucceeded), "campaign %s ended %s", cmp, out.Campaign)
	for _, r := range []*RolloutOutcome{web, api} {
		if r == nil {
			st.fact(false, "no rollout of v2 was recorded for one of the groups")
			continue
		}
		st.fact(r.Status == string(rollout.StatusFinalized), "%s: rollout %s %s, version %d (%s) to %d (%s)", r.Group, r.ID, r.Status, r.FromVersion, r.From, r.ToVersion, r.To)
	}
	if web != nil && api != nil {
		st.fact(!web.Ended.IsZero() && !api.Started.Before(web.Ended), "wave order: web (canary) ended %s, api started %s", web.Ended.Format("15:04:05"), api.Started.Format("15:04:05"))
	}
	st.fact(d.onlyOn(out.Fleet, "v2"), "fleets: %s", d.fleetSummary(out.Fleet))
	st.fact(out.LastKnownGood["web"] == "v2" && out.LastKnownGood["api"] == "v2", "last-known-good: web %s, api %s", out.LastKnownGood["web"], out.LastKnownGood["api"])
	st.AsTold = st.allOK()
	st.Outcome = fmt.Sprintf("campaign %s; %s; fleets %s; last-known-good %s",
		strings.ToLower(out.Campaign), rolloutsText(out.Rollouts), d.fleetSummary(out.Fleet), lkgText(out.LastKnownGood))
	return nil
}

// storyAlarm publishes v3, whose instances answer errors a while after
// they start: the canary's alarm fires during its bake, Phoenix reverts it
// at once, and the campaign stops before api.
func (d *demo) storyAlarm(ctx context.Context, st *Story) error {
	behavior := fmt.Sprintf("degrade-after:%d", int(d.mode.degradeAfter.Seconds()))
	v3, err := d.publish(ctx, "v3", map[string]string{"phoenix:role": role, behaviorTag: behavior},
		fmt.Sprintf("phoenix:role=app; its instances start failing half their requests %s after they boot", clockText(d.mode.degradeAfter)))
	if err != nil {
		return err
	}
	cmp, err := d.awaitCampaign(ctx, v3)
	if err != nil {
		return err
	}
	if err := d.until(ctx, settleLimit, "both fleets to settle", d.settled); err != nil {
		return err
	}
	out, err := d.outcome(ctx, st.Started, cmp, func(r rollout.Rollout) bool { return r.To.ImageID == v3 })
	if err != nil {
		return err
	}
	web := d.groupNamed("web")
	if out.Alarm, err = d.firstAlarm(ctx, web.alarm, st.Started); err != nil {
		return err
	}
	st.Result = out
	if out.Alarm == nil {
		st.fact(false, "alarm %s never went into ALARM", web.alarm)
	} else {
		st.fact(true, "alarm %s went into ALARM at %s: %s", out.Alarm.Name, out.Alarm.At.Format("15:04:05"), out.Alarm.Reason)
	}
	if r := out.rollout("web"); r == nil {
		st.fact(false, "web: no rollout of v3 was recorded")
	} else {
		st.fact(r.Status == string(rollout.StatusReverted), "web: rollout %s %s: %s", r.ID, r.Status, d.readable(r.Reason))
		st.fact(slices.Contains(r.Signals, rollout.SignalAlarm), "web: the ledger holds the signals %s (alarm: from the alarm-events function)", strings.Join(r.Signals, ", "))
		if out.Alarm != nil {
			st.fact(strings.Contains(r.Reason, out.Alarm.Name) && !r.RevertAt.IsZero() && !r.RevertAt.Before(out.Alarm.At),
				"web: the revert began at %s, %s after the alarm, which it names", r.RevertAt.Format("15:04:05"), r.RevertAt.Sub(out.Alarm.At).Round(time.Second))
		}
	}
	st.fact(out.rollout("api") == nil, "api: %s", apiText(out.rollout("api")))
	st.fact(out.Campaign != string(sfntypes.ExecutionStatusSucceeded) && out.Campaign != string(sfntypes.ExecutionStatusRunning),
		"campaign %s ended %s", cmp, out.Campaign)
	st.fact(d.onlyOn(out.Fleet, "v2"), "fleets: %s", d.fleetSummary(out.Fleet))
	st.fact(out.LastKnownGood["web"] == "v2" && out.LastKnownGood["api"] == "v2", "last-known-good: web %s, api %s", out.LastKnownGood["web"], out.LastKnownGood["api"])
	st.AsTold = st.allOK()
	alarmAt := "never"
	if out.Alarm != nil {
		alarmAt = "at " + out.Alarm.At.Format("15:04:05")
	}
	st.Outcome = fmt.Sprintf("alarm %s fired %s; %s; campaign %s; fleets %s; last-known-good %s",
		web.alarm, alarmAt, rolloutsText(out.Rollouts), strings.ToLower(out.Campaign), d.fleetSummary(out.Fleet), lkgText(out.LastKnownGood))
	return nil
}

func apiText(r *RolloutOutcome) string {
	if r == nil {
		return "never rolled v3 (the campaign stopped before wave 1)"
	}
	return fmt.Sprintf("rollout %s of v3 %s", r.ID, r.Status)
}

// storyRecycle tags api for recycling with a short max age and lets the
// night come: the template's schedule fires at 03:00 UTC and the
// recycle-scheduler replaces every instance of api on the version it runs.
func (d *demo) storyRecycle(ctx context.Context, st *Story) error {
	before, err := d.describe(ctx)
	if err != nil {
		return err
	}
	old := before[recycled]
	var oldIDs []string
	oldest := d.c.now()
	for _, m := range old.inService() {
		oldIDs = append(oldIDs, m.ID)
		if m.Launched.Before(oldest) {
			oldest = m.Launched
		}
	}
	tags := map[string]string{"phoenix:recycle": "true", "phoenix:max-age": fmt.Sprint(int(d.mode.maxAge.Seconds()))}
	if err := d.tagGroup(ctx, recycled, tags); err != nil {
		return err
	}
	d.emit(Event{At: d.c.now(), Group: recycled, Kind: "setup", Text: fmt.Sprintf(
		"tagged phoenix:recycle=true, phoenix:max-age=%s; its oldest instance is %s old; time passes until the nightly schedule",
		tags["phoenix:max-age"], clockText(d.c.now().Sub(oldest)))})
	var rcy *execution
	find := func() (bool, error) {
		for _, x := range d.watch.executions {
			if x.Machine == d.c.machine && strings.HasPrefix(x.Name, "rcy-"+recycled+"-") {
				rcy = x
				return true, nil
			}
		}
		return false, nil
	}
	if err := d.untilBy(ctx, d.mode.idle, nightLimit, "the nightly recycle of "+recycled, find); err != nil {
		return err
	}
	// The scheduler judged every enabled group that night; its drift
	// reports say why it picked one and not the other.
	var overMaxAge int
	for _, g := range d.groups {
		dr, ok, err := d.led.Drift(ctx, rollout.GroupKey{Region: region, Name: g.name})
		if err != nil {
			return fmt.Errorf("drift report of %s: %w", g.name, err)
		}
		if !ok {
			continue
		}
		if g.name == recycled {
			overMaxAge = dr.OverMaxAge
		}
		d.emit(Event{At: dr.At, Group: g.name, Kind: "recycle", Text: fmt.Sprintf(
			"recycle-scheduler's drift report: %d instances, %d over the max age of %s (oldest %s), %d off version, %d off image",
			dr.Instances, dr.OverMaxAge, hours(time.Duration(dr.MaxAgeSeconds)*time.Second), clockText(time.Duration(dr.OldestAgeSeconds)*time.Second), dr.OffVersion, dr.OffImage)})
	}
	if err := d.until(ctx, campaignLimit, "the recycle to end", func() (bool, error) { return rcy.Status != sfntypes.ExecutionStatusRunning, nil }); err != nil {
		return err
	}
	if err := d.until(ctx, settleLimit, "both fleets to settle", d.settled); err != nil {
		return err
	}
	out, err := d.outcome(ctx, st.Started, "", func(r rollout.Rollout) bool { return r.Mode == rollout.ModeRecycle })
	if err != nil {
		return err
	}
	after, err := d.describe(ctx)
	if err != nil {
		return err
	}
	rep := &ReplacedOutcome{Group: recycled, Before: oldIDs, Version: old.Version}
	images := map[string]bool{}
	for _, m := range after[recycled].inService() {
		rep.After = append(rep.After, m.ID)
		images[d.label(m.Image)] = true
		if slices.Contains(oldIDs, m.ID) {
			rep.Survivors++
		}
	}
	rep.VersionAfter = after[recycled].Version
	rep.Images = sortedKeys(images)
	out.Replaced = rep
	st.Result = out
	r := out.rollout(recycled)
	var in rolloutInput
	_ = json.Unmarshal([]byte(rcy.Input), &in)
	st.fact(in.Request.Trigger.Kind == "schedule", "%s started at %s by the nightly schedule (trigger %s)", rcy.Name, rcy.Start.Format("2006-01-02 15:04:05"), in.Request.Trigger.Kind)
	st.fact(overMaxAge == len(oldIDs), "%s: the night's drift report found %d of its %d instances over the max age", recycled, overMaxAge, len(oldIDs))
	if r == nil {
		st.fact(false, "no recycle of %s was recorded", recycled)
	} else {
		st.fact(r.Status == string(rollout.StatusFinalized) && r.Mode == string(rollout.ModeRecycle) && r.FromVersion == r.ToVersion,
			"%s: recycle %s %s, version %d (%s) to %d (%s)", recycled, r.ID, r.Status, r.FromVersion, r.From, r.ToVersion, r.To)
	}
	st.fact(rep.Survivors == 0 && len(rep.After) == len(oldIDs) && len(oldIDs) > 0,
		"%s: %d old instances, %d still in service; %d new ones", recycled, len(oldIDs), rep.Survivors, len(rep.After)-rep.Survivors)
	st.fact(rep.Version == rep.VersionAfter && len(rep.Images) == 1 && rep.Images[0] == "v2",
		"%s: launch template version %s before, %s after; new instances run %s", recycled, rep.Version, rep.VersionAfter, strings.Join(rep.Images, ", "))
	st.fact(out.rollout("web") == nil, "web: not recycled (no phoenix:recycle tag)")
	st.AsTold = st.allOK()
	lt := "launch template version " + rep.VersionAfter + " unchanged"
	if rep.Version != rep.VersionAfter {
		lt = "launch template version " + rep.Version + " changed to " + rep.VersionAfter
	}
	st.Outcome = fmt.Sprintf("%s; %d of %d instances of %s replaced, now on %s; %s",
		rolloutsText(out.Rollouts), len(oldIDs)-rep.Survivors, len(oldIDs), recycled, strings.Join(rep.Images, ", "), lt)
	return nil
}

// hours writes a whole number of hours as "168h", anything else as Go does.
func hours(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.String()
}

// publish registers an image and names it label in the timeline.
func (d *demo) publish(ctx context.Context, label string, tags map[string]string, what string) (string, error) {
	id, err := d.registerImage(ctx, "demo-"+label, tags)
	if err != nil {
		return "", err
	}
	d.images[id] = label
	d.labels = append(d.labels, label)
	d.versions = append(d.versions, Version{Label: label, ImageID: id, Behavior: tags[behaviorTag], Role: tags["phoenix:role"], What: what})
	d.emit(Event{At: d.c.now(), Kind: "image", Text: fmt.Sprintf("image %s (%s) registered and available: %s", label, id, what)})
	return id, nil
}

// awaitCampaign steps time until the campaign for the image has started
// and ended, and returns its name.
func (d *demo) awaitCampaign(ctx context.Context, image string) (string, error) {
	var cmp *execution
	err := d.until(ctx, campaignLimit, "the campaign of "+d.label(image)+" to end", func() (bool, error) {
		if cmp == nil {
			for _, x := range d.watch.executions {
				var in campaignInput
				if x.Machine == d.c.campaign && json.Unmarshal([]byte(x.Input), &in) == nil && in.Campaign.ImageID == image {
					cmp = x
				}
			}
		}
		return cmp != nil && cmp.Status != sfntypes.ExecutionStatusRunning, nil
	})
	if err != nil {
		return "", err
	}
	return cmp.Name, nil
}

func (d *demo) groupNamed(name string) *group {
	for _, g := range d.groups {
		if g.name == name {
			return g
		}
	}
	return nil
}

// allHealthy reports whether every group has all its instances healthy in
// its target group.
func (d *demo) allHealthy(ctx context.Context) func() (bool, error) {
	return func() (bool, error) { return d.healthy(ctx) }
}

func (d *demo) healthy(ctx context.Context) (bool, error) {
	for _, g := range d.groups {
		out, err := d.c.elb.DescribeTargetHealth(ctx, &elasticloadbalancingv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(g.targetGroup)})
		if err != nil {
			return false, err
		}
		n := 0
		for _, t := range out.TargetHealthDescriptions {
			if t.TargetHealth.State == elbtypes.TargetHealthStateEnumHealthy {
				n++
			}
		}
		if n != d.mode.size {
			return false, nil
		}
	}
	return true, nil
}

// settled reports whether, in the last sample, every group has its desired
// capacity in service and nothing launching or leaving, and no rollout
// execution runs.
func (d *demo) settled() (bool, error) {
	if len(d.samples) == 0 {
		return false, nil
	}
	for _, x := range d.watch.executions {
		if x.Status == sfntypes.ExecutionStatusRunning {
			return false, nil
		}
	}
	for _, v := range d.samples[len(d.samples)-1].Groups {
		if len(v.Members) != v.Desired || len(v.inService()) != v.Desired {
			return false, nil
		}
	}
	return true, nil
}

// outcome reads what a story left: the campaign's status, the rollouts
// recorded since the story began that match, the fleets and the
// last-known-good versions.
func (d *demo) outcome(ctx context.Context, since time.Time, campaign string, match func(rollout.Rollout) bool) (*Outcome, error) {
	out := &Outcome{Fleet: map[string]map[string]int{}, LastKnownGood: map[string]string{}}
	if campaign != "" {
		for _, x := range d.watch.executions {
			if x.Name == campaign {
				out.Campaign = string(x.Status)
			}
		}
	}
	views, err := d.describe(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, g := range d.groups {
		key := rollout.GroupKey{Region: region, Name: g.name}
		by := map[string]int{}
		for id, n := range views[g.name].byImage() {
			by[d.label(id)] += n
		}
		out.Fleet[g.name] = by
		v, _, ok, err := d.led.LastKnownGood(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("last-known-good of %s: %w", g.name, err)
		}
		if ok {
			out.LastKnownGood[g.name] = d.label(v.ImageID)
		}
		if match == nil {
			continue
		}
		hist, err := d.led.History(ctx, key, since, 0)
		if err != nil {
			return nil, fmt.Errorf("history of %s: %w", g.name, err)
		}
		for i := len(hist) - 1; i >= 0; i-- {
			h := hist[i]
			r, err := d.led.GetRollout(ctx, h.ID)
			if err != nil {
				return nil, fmt.Errorf("read rollout %s: %w", h.ID, err)
			}
			// A pair's rollout is recorded under its first group; it is
			// counted once whichever group's history shows it.
			if !match(r) || seen[r.ID] {
				continue
			}
			seen[r.ID] = true
			ro := RolloutOutcome{
				ID: r.ID, Group: g.name, Mode: string(r.Mode), Status: string(r.Status), Reason: r.Reason, Trigger: r.Trigger.Kind,
				FromVersion: r.From.Number, ToVersion: r.To.Number, From: d.label(r.From.ImageID), To: d.label(r.To.ImageID),
				Started: r.StartedAt, Ended: r.EndedAt, Strategy: r.Strategy, Steps: []string{},
			}
			for _, s := range r.Steps {
				ro.Steps = append(ro.Steps, s.Key)
				if s.Key == "revert-start" {
					ro.RevertAt = s.At
				}
			}
			sigs, err := d.signals(ctx, r.ID, 0)
			if err != nil {
				return nil, err
			}
			for _, s := range sigs {
				ro.Signals = append(ro.Signals, s.Kind)
			}
			out.Rollouts = append(out.Rollouts, ro)
		}
	}
	return out, nil
}

// signals reads a rollout's signals after sequence number after, in
// order, from the ledger (design.md "The ledger": ROLLOUT#<id> /
// SIGNAL#<seq>, written by refresh-events, alarm-events and the poll).
func (d *demo) signals(ctx context.Context, id string, after int64) ([]rollout.Signal, error) {
	var out []rollout.Signal
	p := dynamodb.NewQueryPaginator(d.c.ddb, &dynamodb.QueryInput{
		TableName:              aws.String(d.c.table),
		KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :lo AND :hi"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":pk": &ddbtypes.AttributeValueMemberS{Value: "ROLLOUT#" + id},
			":lo": &ddbtypes.AttributeValueMemberS{Value: fmt.Sprintf("SIGNAL#%010d", after+1)},
			":hi": &ddbtypes.AttributeValueMemberS{Value: "SIGNAL#9999999999"},
		},
		ConsistentRead: aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("signals of %s: %w", id, err)
		}
		for _, it := range page.Items {
			s := rollout.Signal{Kind: attrS(it, "kind"), Alarm: attrS(it, "alarm"), Reason: attrS(it, "reason"), RefreshID: attrS(it, "refreshId")}
			s.At, _ = time.Parse(time.RFC3339Nano, attrS(it, "at"))
			_, _ = fmt.Sscan(attrN(it, "seq"), &s.Seq)
			_, _ = fmt.Sscan(attrN(it, "percentage"), &s.Percentage)
			out = append(out, s)
		}
	}
	return out, nil
}

func attrS(it map[string]ddbtypes.AttributeValue, name string) string {
	if v, ok := it[name].(*ddbtypes.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func attrN(it map[string]ddbtypes.AttributeValue, name string) string {
	if v, ok := it[name].(*ddbtypes.AttributeValueMemberN); ok {
		return v.Value
	}
	return "0"
}

// firstAlarm returns the alarm's first change into ALARM since t, from its
// history.
func (d *demo) firstAlarm(ctx context.Context, name string, since time.Time) (*AlarmOutcome, error) {
	var first *AlarmOutcome
	for _, e := range d.events {
		if e.Kind == "alarm" && strings.HasPrefix(e.Text, "alarm "+name+":") && strings.Contains(e.Text, "to ALARM") && !e.At.Before(since) {
			if first == nil || e.At.Before(first.At) {
				_, reason, _ := strings.Cut(e.Text, "to ALARM")
				first = &AlarmOutcome{Name: name, At: e.At, Reason: strings.Trim(strings.TrimSpace(reason), "()")}
			}
		}
	}
	return first, nil
}

// onlyOn reports whether every group serves only the labelled version.
func (d *demo) onlyOn(fleet map[string]map[string]int, label string) bool {
	for _, g := range d.groups {
		by := fleet[g.name]
		if by[label] != d.mode.size || len(by) != 1 {
			return false
		}
	}
	return true
}

// fleetSummary writes "web 4 v2, api 4 v2".
func (d *demo) fleetSummary(fleet map[string]map[string]int) string {
	var parts []string
	for _, g := range d.groups {
		var by []string
		for _, l := range sortedKeys(fleet[g.name]) {
			by = append(by, fmt.Sprintf("%d %s", fleet[g.name][l], l))
		}
		if len(by) == 0 {
			by = []string{"nothing in service"}
		}
		parts = append(parts, g.name+" "+strings.Join(by, " + "))
	}
	return strings.Join(parts, ", ")
}

func rolloutsText(rs []RolloutOutcome) string {
	if len(rs) == 0 {
		return "no rollout"
	}
	var parts []string
	for _, r := range rs {
		parts = append(parts, fmt.Sprintf("%s %s %s", r.Group, r.Mode, r.Status))
	}
	return strings.Join(parts, ", ")
}

func lkgText(m map[string]string) string {
	var parts []string
	for _, g := range sortedKeys(m) {
		parts = append(parts, g+" "+m[g])
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// figures counts what a story cost: state transitions (StateEntered events
// of every execution, in the story's time) and Lambda invocations.
func (d *demo) figures(ctx context.Context, st *Story, inv0 map[string]int) error {
	st.Figures.SimulatedSeconds = st.Ended.Sub(st.Started).Seconds()
	for _, arn := range sortedKeys(d.watch.executions) {
		x := d.watch.executions[arn]
		if x.Start.After(st.Ended) || (!x.Stop.IsZero() && x.Stop.Before(st.Started)) {
			continue
		}
		n, err := d.transitions(ctx, x.ARN, st.Started, st.Ended)
		if err != nil {
			return err
		}
		st.Figures.Transitions += n
	}
	inv, err := d.invocationCounts(ctx)
	if err != nil {
		return err
	}
	st.Figures.ByFunction = map[string]int{}
	for fn, n := range inv {
		if k := n - inv0[fn]; k > 0 {
			st.Figures.ByFunction[fn] = k
			st.Figures.Invocations += k
		}
	}
	return nil
}

// transitions counts the states an execution entered within [from, to].
func (d *demo) transitions(ctx context.Context, arn string, from, to time.Time) (int, error) {
	n := 0
	p := sfn.NewGetExecutionHistoryPaginator(d.c.sfn, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, fmt.Errorf("execution history: %w", err)
		}
		for _, ev := range page.Events {
			at := aws.ToTime(ev.Timestamp)
			if ev.StateEnteredEventDetails != nil && !at.Before(from) && !at.After(to) {
				n++
			}
		}
	}
	return n, nil
}

// invocationCounts reads each function's invocation count, by logical id.
func (d *demo) invocationCounts(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	for logical, name := range d.c.functions() {
		n, err := d.c.invocations(ctx, name)
		if err != nil {
			return nil, err
		}
		out[strings.TrimSuffix(logical, "Function")] = n
	}
	return out, nil
}

// stepText turns a ledger step into a timeline line.
func (d *demo) stepText(r rollout.Rollout, s rollout.Step) string {
	what := "rollout"
	switch r.Mode {
	case rollout.ModeRecycle:
		what = "recycle"
	case rollout.ModeRevert:
		what = "revert rollout"
	}
	switch {
	case s.Key == "prepare" && r.Pair != nil:
		return fmt.Sprintf("blue/green %s %s of pair %s prepared: version %d (%s) to %d (%s); %s serves, %s is idle and takes the new version",
			what, r.ID, r.Pair.Name, r.From.Number, d.label(r.From.ImageID), r.To.Number, d.label(r.To.ImageID), r.Pair.Live, r.Pair.Idle)
	case s.Key == "prepare":
		return fmt.Sprintf("%s %s prepared: version %d (%s) to %d (%s)", what, r.ID, r.From.Number, d.label(r.From.ImageID), r.To.Number, d.label(r.To.ImageID))
	case s.Key == "scale-up":
		return "the idle group comes up: " + d.readable(s.Detail)
	case s.Key == "proved":
		return "proven: " + d.readable(s.Detail)
	case strings.HasPrefix(s.Key, "shift@"):
		return "traffic shifted in one call: " + d.readable(s.Detail)
	case s.Key == "bake", s.Key == "guard":
		return s.Key + ": " + d.readable(s.Detail)
	case s.Key == "scale-down":
		return "old group scaled down: " + d.readable(s.Detail)
	case s.Key == "switch-back":
		return "switched back in one call: " + d.readable(s.Detail)
	case s.Key == "start-refresh":
		return fmt.Sprintf("instance refresh started to version %d", r.To.Number)
	case strings.HasPrefix(s.Key, "validate@"):
		at, _, _ := strings.Cut(strings.TrimPrefix(s.Key, "validate@"), "#")
		switch at {
		case rollout.SignalSucceeded:
			at = "refresh done and baked"
		default:
			if _, err := fmt.Sscan(at, new(int)); err == nil {
				at = "checkpoint " + at + "%"
			}
		}
		verdict, reasons, _ := strings.Cut(s.Detail, ": ")
		return fmt.Sprintf("%s, validated: %s (%s)", at, verdict, d.readable(strings.TrimSpace(reasons)))
	case s.Key == "finalize":
		return fmt.Sprintf("finalized: version %d (%s) is the default and last-known-good", r.To.Number, d.label(r.To.ImageID))
	case s.Key == "revert-start", s.Key == "revert-refresh-back":
		return "revert: " + d.readable(s.Detail)
	case s.Key == "revert-done":
		return "reverted: " + d.readable(s.Detail)
	}
	return s.Key + ": " + d.readable(s.Detail)
}

// signalText turns a signal into a timeline line; "" for the signals the
// validation lines already tell (checkpoints, success, polls).
func (d *demo) signalText(r rollout.Rollout, s rollout.Signal) string {
	switch s.Kind {
	case rollout.SignalBaking:
		return fmt.Sprintf("instance refresh reached 100%% of %s; baking %s before the last validation", d.label(r.To.ImageID), clockText(d.bake()))
	case rollout.SignalAlarm:
		return "alarm-events signalled the rollout: " + d.readable(s.Reason)
	case rollout.SignalRollbackSucceeded:
		return "instance refresh rolled back: the fleet is on the previous version again"
	case rollout.SignalCheckpoint, rollout.SignalSucceeded, rollout.SignalInProgress:
		return ""
	}
	text := "signal " + s.Kind
	if s.Reason != "" {
		text += ": " + d.readable(s.Reason)
	}
	return text
}

// bake is the groups' phoenix:bake.
func (d *demo) bake() time.Duration {
	var secs int
	_, _ = fmt.Sscan(d.mode.policy["phoenix:bake"], &secs)
	return time.Duration(secs) * time.Second
}

// readable replaces the demo's AMI ids by their labels and target group
// ARNs by their names, which say the same to a reader in fewer letters.
func (d *demo) readable(s string) string {
	for id, l := range d.images {
		s = strings.ReplaceAll(s, id, l)
	}
	for _, g := range d.groups {
		s = strings.ReplaceAll(s, g.targetGroup, g.name)
	}
	return s
}
