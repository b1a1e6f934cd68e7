package e2e

import (
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/phoenix-rollouts/phoenix/shared/ledger"
	"github.com/phoenix-rollouts/phoenix/shared/lifecycle"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/notify"
)

// A year of the image lifecycle on the stepped local cloud, with the real
// template, state machine and functions (issue 17's proof): groups in
// pairs on launch templates, image rollouts every day (most finalize, some
// are reverted by an alarm during the refresh, some by an alarm in their
// guard window), recycles, operator rollbacks to old versions, and the
// nightly lifecycle in apply mode. After every night: every version that
// exists can launch, what each group runs and what the ledger says it
// needs (its last-known-good and rollback versions) exists, no template
// holds more versions than the policy allows, and no image outlives the
// stage waits once no version names it; now and then (and after the last
// night) every group's last-known-good and rollback versions are launched
// with DryRun. At the end the lifecycle log holds only actions done, and
// the snapshot GiB the summaries say were reclaimed are the ones gone.
//
// The full mode is the year as the issue states it: 20 groups on 10
// templates, 365 days of 24 hours on the template's own schedule and
// policy (keep 20 versions and 3 rollback versions, stages after 7, 14 and
// 30 days), three image rollouts a day, a recycle every third day and an
// operator's rollback every tenth (about 25 minutes of wall time on two
// busy cores):
//
//	go test ./test/e2e -run '^TestAYearOfTheImageLifecycleOnTheLocalCloud$' -lifecycle-year=full -timeout=0 -v
//
// The fast mode (the default, in `make test`) is the same scenario made
// small enough for it. The local cloud costs wall time per simulated event
// (a group with an instance has a health check every 30 simulated
// seconds: a quiet day of 20 groups is about 59,000 events, 1 to 4 s of
// wall time on two busy cores), each night's run is 0.5 to 2 s (it reads
// every group's ledger records and asks EC2 about every own image, twice:
// 63 DynamoDB and 88 EC2 calls a night with 8 groups, 156 and 698 with 20
// groups and a year's images), and each rollout about 0.4 s.
// So: 8 groups on 4 templates, 90 nights an hour apart (the stack's
// ImageLifecycleSchedule is rate(1 hour)), one image rollout a night, guard
// windows of 10 minutes, and a policy in proportion: the 2 newest versions
// and 2 rollback versions kept, the stages 2, 3 and 6 nights apart (an
// image goes from out of use to deregistered in 12 nights, seven times
// over in the 90).
var (
	lifecycleYear = flag.String("lifecycle-year", "fast",
		"TestAYearOfTheImageLifecycleOnTheLocalCloud: fast (90 nights an hour apart, 8 groups; make test) or full (365 days, 20 groups)")
	lifecycleYearNights = flag.Int("lifecycle-year-nights", 0,
		"TestAYearOfTheImageLifecycleOnTheLocalCloud: stop after this many nights (0: the mode's), to replay the start of a failing year")
)

// yearConfig is one mode of the year.
type yearConfig struct {
	// templates is how many launch templates there are, two groups on
	// each.
	templates int
	nights    int
	// day is the simulated time from one lifecycle night to the next;
	// schedule is the stack's ImageLifecycleSchedule ("" for the
	// template's default, cron(30 4 * * ? *)).
	day      time.Duration
	schedule string
	// keep and keepRollback are LifecycleKeepVersions and
	// LifecycleKeepRollbackVersions; deprecate, disable and deregister
	// the stage waits in days.
	keep, keepRollback             int
	deprecate, disable, deregister int
	// perDay is how many image rollouts a day has.
	perDay int
	// recycleEvery and rollbackEvery: a recycle, and an operator's
	// rollback to an old version, about once in so many days.
	recycleEvery, rollbackEvery int
	// guard is the groups' phoenix:guard-window.
	guard string
	// checkEvery: every so many nights (and after the last), each group's
	// last-known-good and rollback versions are launched with DryRun.
	checkEvery int
}

// yearAlarmGroups is how many groups list an alarm in phoenix:alarms (the
// first two templates' groups): the busy ones, where half the image
// rollouts and every alarm revert happen.
const yearAlarmGroups = 4

func yearMode(t *testing.T) (string, yearConfig) {
	switch *lifecycleYear {
	case "fast":
		return "fast", yearConfig{templates: 4, nights: 90, day: time.Hour, schedule: "rate(1 hour)",
			keep: 2, keepRollback: 2, deprecate: 2, disable: 3, deregister: 6,
			perDay: 1, recycleEvery: 10, rollbackEvery: 6, guard: "10m", checkEvery: 10}
	case "full":
		return "full", yearConfig{templates: 10, nights: 365, day: 24 * time.Hour,
			keep: lifecycle.DefaultKeepVersions, keepRollback: lifecycle.DefaultKeepRollbackVersions, deprecate: 7, disable: 14, deregister: 30,
			perDay: 3, recycleEvery: 3, rollbackEvery: 10, guard: "", checkEvery: 7}
	}
	t.Fatalf("-lifecycle-year=%q: want fast or full", *lifecycleYear)
	return "", yearConfig{}
}

// parameters are the stack parameters of a mode: apply, and its policy
// with the waits in seconds.
func (c yearConfig) parameters() map[string]string {
	secs := func(days int) string { return strconv.FormatInt(int64(time.Duration(days)*c.day/time.Second), 10) }
	p := map[string]string{
		"ImageLifecycle":                  "apply",
		"LifecycleKeepVersions":           strconv.Itoa(c.keep),
		"LifecycleKeepRollbackVersions":   strconv.Itoa(c.keepRollback),
		"LifecycleDeprecateAfterSeconds":  secs(c.deprecate),
		"LifecycleDisableAfterSeconds":    secs(c.disable),
		"LifecycleDeregisterAfterSeconds": secs(c.deregister),
	}
	if c.schedule != "" {
		p["ImageLifecycleSchedule"] = c.schedule
	}
	return p
}

// night returns when night n fires: on the hour for rate(1 hour), which
// counts from the rule's creation at recycleStart, else on the template's
// cron.
func (c yearConfig) night(n int) time.Time {
	if c.schedule != "" {
		return recycleStart.Add(time.Duration(n+1) * c.day)
	}
	return lifecycleNight(n)
}

// bound is how many versions the policy lets a template with groups
// groups hold after a night: its newest keep and its default, and for
// each group the version it runs, its last-known-good and its
// keepRollback rollback versions. (No rollout is in flight or in its guard
// window at night.)
func (c yearConfig) bound(groups int) int { return c.keep + 1 + groups*(2+c.keepRollback) }

// yearGroup is one group of the year and what the ledger says it needs.
type yearGroup struct {
	name, template string
	alarm          string // the alarm in its phoenix:alarms, if any
	// lkg is its last-known-good version, rollback the finalized versions
	// before it that the policy keeps (newest first).
	lkg      int64
	rollback []int64
}

// yearFigures are what the year reports.
type yearFigures struct {
	imageRollouts, finalized, alarmReverts, guardReverts, recycles, rollbacks int
	versionsCreated, imagesCreated                                            int
	maxVersions                                                               int // of one template, after a night
	maxImages                                                                 int // own images left after a night
	imagesMid                                                                 int // own images left after the middle night
	gib                                                                       int64
	actions                                                                   map[string]int
	// The lifecycle function's calls over the nights: EC2 (and how many of
	// them were DescribeImageAttribute and writes), and DynamoDB.
	ec2Calls, ec2Max, imageAttributes, ec2Writes, ec2WritesMax, ddbCalls, nights int
	nightWall                                                                    time.Duration
}

func TestAYearOfTheImageLifecycleOnTheLocalCloud(t *testing.T) {
	t.Parallel()
	mode, cfg := yearMode(t)
	if *lifecycleYearNights > 0 {
		cfg.nights = *lifecycleYearNights
	}
	wall := time.Now()
	r := newLifecycleRig(t, 17, cfg.parameters())
	t.Logf("deployed (functions built) in %s", time.Since(wall).Round(time.Second))
	wall = time.Now()
	y := &year{r: r, cfg: cfg, rng: rand.New(rand.NewPCG(17, 365)), fig: yearFigures{actions: map[string]int{}},
		ledger: ledger.New(r.ddb, r.table).WithLogger(slog.New(slog.DiscardHandler)), unreferenced: map[string]int{},
		templates: map[string][]*yearGroup{}}
	y.setUp()
	t.Logf("%d groups on %d templates up at %s", len(y.groups), cfg.templates, r.env.Now().Format(time.RFC3339))
	for day := 0; day < cfg.nights; day++ {
		touched := y.day(day)
		if now, at := r.env.Now(), cfg.night(day); !now.Before(at) {
			t.Fatalf("day %d's rollouts ran until %s, past the night at %s", day, now.Format(time.RFC3339), at.Format(time.RFC3339))
		}
		y.refreshNeeds(touched)
		y.runNight(day)
		y.checkNight(day, touched, day%cfg.checkEvery == cfg.checkEvery-1 || day == cfg.nights-1)
		if day == cfg.nights/2 {
			y.fig.imagesMid = len(y.images)
		}
		if t.Failed() {
			t.FailNow()
		}
	}
	y.checkEnd()
	f := y.fig
	t.Logf("the year (%s mode): %d nights, %s of wall time (%s in the nights), %s simulated",
		mode, cfg.nights, time.Since(wall).Round(time.Second), f.nightWall.Round(time.Second), r.env.Now().Sub(recycleStart).Round(time.Hour))
	t.Logf("rollouts: %d image rollouts (%d finalized, %d reverted by an alarm during the refresh, %d by an alarm in the guard window), %d recycles, %d rollbacks to an old version",
		f.imageRollouts, f.finalized, f.alarmReverts, f.guardReverts, f.recycles, f.rollbacks)
	kept := 0
	for _, vs := range y.versions {
		kept += len(vs)
	}
	t.Logf("versions: %d created (%d first ones), %d kept at the end, at most %d on a template after a night (the policy's bound: %d)",
		f.versionsCreated+cfg.templates, cfg.templates, kept, f.maxVersions, cfg.bound(2))
	t.Logf("AMIs: %d created, %d left at the end (%d after night %d), at most %d after a night; %d GiB of snapshots reclaimed",
		f.imagesCreated, len(y.images), f.imagesMid, cfg.nights/2, f.maxImages, f.gib)
	t.Logf("lifecycle actions done: %v", f.actions)
	t.Logf("the lifecycle function, a night: %.0f EC2 calls on average (%.0f of them DescribeImageAttribute), at most %d; at most %d EC2 writes (%d in all); %.0f DynamoDB calls on average; %s of its own wall time on average",
		float64(f.ec2Calls)/float64(f.nights), float64(f.imageAttributes)/float64(f.nights), f.ec2Max, f.ec2WritesMax, f.ec2Writes,
		float64(f.ddbCalls)/float64(f.nights), (r.lifecycleDuration() / time.Duration(f.nights)).Round(time.Millisecond))
}

// year is the running scenario.
type year struct {
	r      *lcRig
	cfg    yearConfig
	rng    *rand.Rand
	ledger *ledger.Ledger
	groups []*yearGroup
	// templates lists each template's groups.
	templates map[string][]*yearGroup
	alarms    *alarmRig
	fig       yearFigures
	// After each night: every template's versions with their images, and
	// the own images not deregistered.
	versions map[string]map[int64]string
	images   map[string]ec2types.Image
	// unreferenced is, per own image no version names, the first night
	// that found it so.
	unreferenced map[string]int
	calls        map[string]int // the lifecycle function's calls so far
	summariesAt  int
}

// setUp makes the templates and groups: two groups on each template, the
// first yearAlarmGroups listing an alarm of their own.
func (y *year) setUp() {
	r := y.r
	y.alarms = &alarmRig{rig: r.rig}
	tags := func(name string, i int) map[string]string {
		out := map[string]string{}
		if i < yearAlarmGroups {
			out["phoenix:alarms"] = name + "-5xx"
		}
		if y.cfg.guard != "" {
			out["phoenix:guard-window"] = y.cfg.guard
		}
		return out
	}
	var specs []leanSpec
	for i := 0; i < y.cfg.templates; i++ {
		name := fmt.Sprintf("app-%02d-a", i)
		specs = append(specs, leanSpec{name: name, tags: tags(name, 2*i)})
	}
	firsts := r.leanGroups(specs...)
	specs = nil
	for i, f := range firsts {
		name := fmt.Sprintf("app-%02d-b", i)
		specs = append(specs, leanSpec{name: name, template: f.launchTemplate, tags: tags(name, 2*i+1)})
	}
	seconds := r.leanGroups(specs...)
	for i := range y.cfg.templates {
		for _, f := range []fleet{firsts[i], seconds[i]} {
			g := &yearGroup{name: f.name, template: f.launchTemplate}
			if len(y.groups) < yearAlarmGroups {
				g.alarm = g.name + "-5xx"
				y.alarms.alarm(g.alarm, nil)
			}
			y.groups = append(y.groups, g)
			y.templates[g.template] = append(y.templates[g.template], g)
		}
	}
	y.fig.imagesCreated = len(r.ownImages())
	y.calls = maps.Clone(r.lifecycleCalls())
}

// The kinds of a day's image rollouts.
const (
	rollFinalize   = "finalize"
	rollAlarm      = "alarm during the refresh"
	rollGuardAlarm = "alarm in the guard window"
)

// day runs day n's rollouts, each to its end, and returns the groups they
// touched.
func (y *year) day(n int) []*yearGroup {
	r, cfg := y.r, y.cfg
	// The rollouts start a little after the night before has run.
	if start := cfg.night(n - 1).Add(5 * time.Minute); n > 0 && r.env.Now().Before(start) {
		r.until(start)
	}
	free := slices.Clone(y.groups)
	pick := func(ok func(*yearGroup) bool) *yearGroup {
		var cands []*yearGroup
		for _, g := range free {
			if ok(g) {
				cands = append(cands, g)
			}
		}
		if len(cands) == 0 {
			return nil
		}
		g := cands[y.rng.IntN(len(cands))]
		free = slices.DeleteFunc(free, func(x *yearGroup) bool { return x == g })
		return g
	}
	var touched []*yearGroup
	for i := 0; i < cfg.perDay; i++ {
		kind := rollFinalize
		switch x := y.rng.IntN(100); {
		case x < 10:
			kind = rollAlarm
		case x < 18:
			kind = rollGuardAlarm
		}
		// Half the image rollouts go to the busy groups (those with an
		// alarm, on two templates), the rest to any group: a few
		// services ship every day, most now and then.
		busy := kind != rollFinalize || y.rng.IntN(2) == 0
		g := pick(func(g *yearGroup) bool { return !busy || g.alarm != "" })
		if g == nil {
			continue
		}
		y.imageRollout(n, i, g, kind)
		touched = append(touched, g)
	}
	if y.rng.IntN(cfg.recycleEvery) == 0 {
		if g := pick(func(*yearGroup) bool { return true }); g != nil {
			id := fmt.Sprintf("y%03d-recycle-%s", n, g.name)
			rec := r.await(id, r.startInput(id, lcRequest(id, g.name, "recycle", "", 0)))
			if rec.status != string(rollout.StatusFinalized) {
				r.t.Fatalf("day %d: recycle %s = %+v, want finalized", n, id, rec)
			}
			y.fig.recycles++
			touched = append(touched, g)
		}
	}
	if y.rng.IntN(cfg.rollbackEvery) == 0 {
		if g := pick(func(g *yearGroup) bool { return len(g.rollback) > 0 }); g != nil {
			to := g.rollback[y.rng.IntN(len(g.rollback))]
			id := fmt.Sprintf("y%03d-rollback-%s-to-%d", n, g.name, to)
			rec := r.await(id, r.startInput(id, lcRequest(id, g.name, "revert", "", to)))
			if rec.status != string(rollout.StatusFinalized) || rec.to != to {
				r.t.Fatalf("day %d: rollback of %s to version %d (one the policy keeps) = %+v, want finalized\n%s", n, g.name, to, rec, r.functionLogs())
			}
			if v := r.group(g.name).version; v != strconv.FormatInt(to, 10) {
				r.t.Fatalf("day %d: %s on version %s after its rollback to %d", n, g.name, v, to)
			}
			y.fig.rollbacks++
			touched = append(touched, g)
		}
	}
	return touched
}

// imageRollout rolls a new image into g: it finalizes, or an alarm
// reverts it during its refresh, or an alarm in its guard window makes
// Phoenix revert it after it finalized.
func (y *year) imageRollout(day, i int, g *yearGroup, kind string) {
	r := y.r
	id := fmt.Sprintf("y%03d-%d-%s", day, i, g.name)
	img := r.roleImages(g.name, "healthy", id)[0]
	y.fig.imageRollouts++
	y.fig.imagesCreated++
	y.fig.versionsCreated++
	switch kind {
	case rollFinalize:
		if rec := r.roll(id, g.name, img); rec.status != string(rollout.StatusFinalized) {
			r.t.Fatalf("day %d: %s = %+v, want finalized\n%s", day, id, rec, r.functionLogs())
		}
		y.fig.finalized++
	case rollAlarm:
		arn := r.start(id, g.name, img)
		r.env.RunUntil(r.t, time.Hour, id+"'s refresh", func() bool { return r.rollout(id).refreshID != "" })
		y.alarms.fire(g.alarm)
		if rec := r.await(id, arn); rec.status != string(rollout.StatusReverted) {
			r.t.Fatalf("day %d: %s = %+v, want reverted by alarm %s", day, id, rec, g.alarm)
		}
		y.fig.alarmReverts++
	case rollGuardAlarm:
		rec := r.roll(id, g.name, img)
		if rec.status != string(rollout.StatusFinalized) {
			r.t.Fatalf("day %d: %s = %+v, want finalized", day, id, rec)
		}
		before := len(y.alarms.reverts())
		y.alarms.fire(g.alarm)
		r.env.RunUntil(r.t, time.Hour, "the revert of "+id, func() bool { return len(y.alarms.reverts()) > before })
		rv := y.alarms.reverts()
		slices.SortFunc(rv, func(a, b sfntypes.ExecutionListItem) int {
			return aws.ToTime(b.StartDate).Compare(aws.ToTime(a.StartDate))
		})
		name := aws.ToString(rv[0].Name)
		if end := r.await(name, aws.ToString(rv[0].ExecutionArn)); end.status != string(rollout.StatusFinalized) || end.to != rec.from {
			r.t.Fatalf("day %d: the alarm's revert %s of %s = %+v, want finalized back to version %d", day, name, id, end, rec.from)
		}
		y.fig.guardReverts++
	}
}

// refreshNeeds reads what the ledger says the groups need: each one's
// last-known-good and its finalized versions before it.
func (y *year) refreshNeeds(groups []*yearGroup) {
	r := y.r
	for _, g := range groups {
		key := rollout.GroupKey{Region: region, Name: g.name}
		lkg, _, ok, err := y.ledger.LastKnownGood(r.ctx, key)
		if err != nil {
			r.t.Fatalf("last-known-good of %s: %v", g.name, err)
		}
		g.lkg = 0
		if ok && lkg.LaunchTemplateID == g.template {
			g.lkg = lkg.Number
		}
		hist, err := y.ledger.History(r.ctx, key, time.Time{}, 200)
		if err != nil {
			r.t.Fatalf("history of %s: %v", g.name, err)
		}
		g.rollback = nil
		for _, h := range hist { // newest first
			if h.Status != rollout.StatusFinalized || h.To.LaunchTemplateID != g.template || h.To.Number == g.lkg || slices.Contains(g.rollback, h.To.Number) {
				continue
			}
			if len(g.rollback) < y.cfg.keepRollback {
				g.rollback = append(g.rollback, h.To.Number)
			}
		}
	}
}

// summaryFigures matches the night's counts in its summary.
var summaryFigures = regexp.MustCompile(`AMIs: (\d+) deregistered \((\d+) GiB of snapshots reclaimed\)`)

// runNight steps to night n, lets it run, and counts what it did and the
// EC2 calls it made.
func (y *year) runNight(n int) {
	r := y.r
	at := y.cfg.night(n)
	w := time.Now()
	r.until(at)
	r.env.RunUntil(r.t, time.Hour, fmt.Sprintf("night %d's summary", n), func() bool { return y.summaryWaiting() })
	y.fig.nightWall += time.Since(w)
	sums := y.newSummaries()
	if len(sums) != 1 {
		r.t.Fatalf("night %d: %d summaries, want 1:\n%s", n, len(sums), strings.Join(sums, "\n\n"))
	}
	sum := sums[0]
	if !strings.Contains(sum, "(apply)") || strings.Contains(sum, "Skipped") {
		r.t.Fatalf("night %d's summary:\n%s\n%s", n, sum, r.functionLogs())
	}
	m := summaryFigures.FindStringSubmatch(sum)
	if m == nil {
		r.t.Fatalf("night %d's summary has no AMI figures:\n%s", n, sum)
	}
	gib, _ := strconv.ParseInt(m[2], 10, 64)
	y.fig.gib += gib
	calls := r.lifecycleCalls()
	ec2, writes := 0, 0
	for op, c := range calls {
		d := c - y.calls[op]
		service, name, _ := strings.Cut(op, ".")
		switch {
		case service == "dynamodb":
			y.fig.ddbCalls += d
		case service != "ec2":
		case name == "DescribeImageAttribute":
			y.fig.imageAttributes += d
			ec2 += d
		case strings.HasPrefix(name, "Describe"):
			ec2 += d
		default:
			ec2 += d
			writes += d
		}
	}
	y.calls = maps.Clone(calls)
	y.fig.ec2Calls += ec2
	y.fig.ec2Max = max(y.fig.ec2Max, ec2)
	y.fig.ec2Writes += writes
	y.fig.ec2WritesMax = max(y.fig.ec2WritesMax, writes)
	y.fig.nights++
}

// summaryWaiting reports whether a lifecycle summary has reached the
// topic since newSummaries last ran.
func (y *year) summaryWaiting() bool {
	msgs := y.r.env.Cloud.SNS.Messages(y.r.topic)
	return slices.ContainsFunc(msgs[y.summariesAt:], func(m notify.Message) bool {
		return strings.HasPrefix(m.Subject, "Phoenix image lifecycle")
	})
}

// newSummaries returns the lifecycle summaries since the last call.
func (y *year) newSummaries() []string {
	msgs := y.r.env.Cloud.SNS.Messages(y.r.topic)
	var out []string
	for _, m := range msgs[y.summariesAt:] {
		if strings.HasPrefix(m.Subject, "Phoenix image lifecycle") {
			out = append(out, m.Subject+"\n"+m.Message)
		}
	}
	y.summariesAt = len(msgs)
	return out
}

// checkNight holds the year's promises after night n: every version that
// exists can launch (its image is available), what each group runs and
// needs exists, no template holds more than the policy allows, and no
// image nothing references outlives the stage waits. With launch set, each
// group's last-known-good and rollback versions are launched with DryRun.
func (y *year) checkNight(n int, touched []*yearGroup, launch bool) {
	r, t := y.r, y.r.t
	y.versions = map[string]map[int64]string{}
	for tid := range y.templates {
		y.versions[tid] = r.versionImages(tid)
	}
	y.images = r.ownImages()
	y.fig.maxImages = max(y.fig.maxImages, len(y.images))
	referenced := map[string]bool{}
	for tid, vs := range y.versions {
		for v, img := range vs {
			referenced[img] = true
			if i, ok := y.images[img]; !ok || i.State != ec2types.ImageStateAvailable {
				t.Errorf("night %d: %s version %d cannot launch: its image %s is %v", n, tid, v, img, i.State)
			}
		}
	}
	groups := r.groupsNow()
	defaults := r.defaults(slices.Sorted(maps.Keys(y.templates)))
	for tid, gs := range y.templates {
		vs := y.versions[tid]
		need := map[int64]string{defaults[tid]: "the template's default"}
		for _, g := range gs {
			for _, v := range groups[g.name] {
				need[v] = g.name + " runs it"
			}
			need[g.lkg] = g.name + "'s last-known-good"
			for _, v := range g.rollback {
				need[v] = g.name + "'s rollback version"
			}
		}
		for v, why := range need {
			if _, ok := vs[v]; !ok && v != 0 {
				t.Errorf("night %d: %s version %d is gone (%s)", n, tid, v, why)
			}
		}
		// Its newest versions and its default, and for each group what it
		// runs, its last-known-good and its rollback versions.
		bound := y.cfg.bound(len(gs))
		if len(vs) > bound {
			t.Errorf("night %d: %s holds %d versions; the policy bounds it at %d", n, tid, len(vs), bound)
		}
		y.fig.maxVersions = max(y.fig.maxVersions, len(vs))
	}
	// The stages take deprecate + disable + deregister days from the
	// night that marks an image out of use, and a night more: the
	// deprecation takes effect ten minutes after the night that sets it.
	waits := y.cfg.deprecate + y.cfg.disable + y.cfg.deregister + 1
	for id := range y.images {
		if referenced[id] {
			delete(y.unreferenced, id)
			continue
		}
		first, ok := y.unreferenced[id]
		if !ok {
			y.unreferenced[id] = n
			continue
		}
		if n-first > waits {
			t.Errorf("night %d: image %s, referenced by no version since night %d, is still %s", n, id, first, y.images[id].State)
		}
	}
	for id := range y.unreferenced {
		if _, ok := y.images[id]; !ok {
			delete(y.unreferenced, id)
		}
	}
	if launch {
		touched = y.groups
	}
	for _, g := range touched {
		for _, v := range append([]int64{g.lkg}, g.rollback...) {
			if v == 0 {
				continue
			}
			if err := r.launches(g.template, v); err != nil {
				t.Errorf("night %d: %s's version %d would not launch: %v", n, g.name, v, err)
			}
		}
	}
}

// checkEnd checks the whole log: every action of every night was done, in
// apply mode, by the nightly schedule; and the snapshots left are those of
// the images left.
func (y *year) checkEnd() {
	r := y.r
	for _, e := range r.lifecycleLog() {
		if e.Mode != lifecycle.LogModeApply || e.By != lifecycle.ByNightly || e.Result != lifecycle.ResultDone {
			r.t.Errorf("the lifecycle log has %+v", e)
		}
		y.fig.actions[string(e.Action)]++
	}
	if c := y.cfg; y.fig.gib == 0 && c.nights > c.deprecate+c.disable+c.deregister+2 {
		r.t.Error("a year reclaimed no snapshot")
	}
	var left int64
	p := ec2.NewDescribeSnapshotsPaginator(r.env.EC2, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
	for p.HasMorePages() {
		page, err := p.NextPage(r.ctx)
		if err != nil {
			r.t.Fatalf("describe snapshots: %v", err)
		}
		for _, s := range page.Snapshots {
			left += int64(aws.ToInt32(s.VolumeSize))
		}
	}
	if created := int64(y.fig.imagesCreated) * 8; created-left != y.fig.gib {
		r.t.Errorf("%d GiB of snapshots made, %d left, but the summaries count %d reclaimed", created, left, y.fig.gib)
	}
	if deregistered := y.fig.imagesCreated - len(y.images); deregistered != y.fig.actions[string(lifecycle.ActionDeregister)] {
		r.t.Errorf("%d images created, %d left, but %d deregistrations logged", y.fig.imagesCreated, len(y.images), y.fig.actions[string(lifecycle.ActionDeregister)])
	}
}

// lifecycleDuration sums the wall time of the image-lifecycle function's
// invocations, from the REPORT lines of its log.
func (r *lcRig) lifecycleDuration() time.Duration {
	var total time.Duration
	for _, ev := range r.env.Cloud.Lambda.Logs(region, r.lifecycleFn) {
		_, rest, ok := strings.Cut(ev.Message, "\tDuration: ")
		if !strings.HasPrefix(ev.Message, "REPORT ") || !ok {
			continue
		}
		ms, _, _ := strings.Cut(rest, " ms")
		if f, err := strconv.ParseFloat(ms, 64); err == nil {
			total += time.Duration(f * float64(time.Millisecond))
		}
	}
	return total
}

// groupsNow returns, per group, the versions it runs: its configured
// version and its instances'.
func (r *lcRig) groupsNow() map[string][]int64 {
	r.t.Helper()
	out := map[string][]int64{}
	p := autoscaling.NewDescribeAutoScalingGroupsPaginator(r.env.AutoScaling, &autoscaling.DescribeAutoScalingGroupsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(r.ctx)
		if err != nil {
			r.t.Fatalf("describe groups: %v", err)
		}
		for _, g := range page.AutoScalingGroups {
			name := aws.ToString(g.AutoScalingGroupName)
			if g.LaunchTemplate != nil {
				if v, err := strconv.ParseInt(aws.ToString(g.LaunchTemplate.Version), 10, 64); err == nil {
					out[name] = append(out[name], v)
				}
			}
			for _, in := range g.Instances {
				if in.LaunchTemplate != nil {
					if v, err := strconv.ParseInt(aws.ToString(in.LaunchTemplate.Version), 10, 64); err == nil {
						out[name] = append(out[name], v)
					}
				}
			}
		}
	}
	return out
}

// defaults returns the launch templates' default versions.
func (r *lcRig) defaults(ids []string) map[string]int64 {
	r.t.Helper()
	out := map[string]int64{}
	d, err := r.env.EC2.DescribeLaunchTemplates(r.ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: ids})
	if err != nil {
		r.t.Fatalf("describe launch templates: %v", err)
	}
	for _, lt := range d.LaunchTemplates {
		out[aws.ToString(lt.LaunchTemplateId)] = aws.ToInt64(lt.DefaultVersionNumber)
	}
	return out
}
