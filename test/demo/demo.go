package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/ledger"
	"github.com/phoenix-rollouts/phoenix/test/localcloud"
)

// Config is one run of the demo.
type Config struct {
	// Fast is the test's mode: two instances a group and shorter pauses.
	Fast bool
	// Seed makes the local cloud's ids and jitter repeatable.
	Seed uint64
	// Template is template.yaml, deployed with its parameters' defaults
	// but for stackParameters (the image lifecycle's, shortened);
	// Functions the folder of built bootstraps (make functions). Dynalite
	// is found as the tests find it ($PHOENIX_NODE_DIR, else test/node).
	Template  string
	Functions string
	// Report is where the HTML report is written.
	Report string
	// Out receives the timeline as it happens.
	Out io.Writer
	// Wall reads the wall clock, for the report's figures only (the
	// stories run on simulated time); nil means no wall figures.
	Wall func() time.Time
}

// storyCount is how many stories the demo tells, the setup aside.
const storyCount = 5

// mode is what differs between the full demo and the fast one.
type mode struct {
	name string
	// size is the instances per group.
	size int
	// policy is the phoenix:* tags every group gets besides enabled, role,
	// wave and alarms.
	policy map[string]string
	// sample is the simulated time between two looks at the fleet.
	sample time.Duration
	// idle is the step while nothing happens (waiting for the night).
	idle time.Duration
	// night is the step while the nights of story 4 pass.
	night time.Duration
	// degradeAfter is how long v3's instances serve well once running: long
	// enough for the canary's last checkpoint to pass, short enough that
	// they all degrade while the rollout bakes.
	degradeAfter time.Duration
	// maxAge is the phoenix:max-age story 3 tags the recycled group with.
	maxAge time.Duration
}

var (
	fullMode = mode{
		name: "full", size: 4,
		policy: map[string]string{
			"phoenix:checkpoints":      "25,50,100",
			"phoenix:checkpoint-delay": "120",
			"phoenix:warmup":           "120",
			"phoenix:bake":             "1800",
		},
		sample: 30 * time.Second, idle: 5 * time.Minute, night: 15 * time.Minute,
		degradeAfter: 1200 * time.Second, maxAge: time.Hour,
	}
	fastMode = mode{
		name: "fast", size: 2,
		policy: map[string]string{
			"phoenix:checkpoints":      "50,100",
			"phoenix:checkpoint-delay": "60",
			"phoenix:warmup":           "120",
			"phoenix:bake":             "900",
		},
		sample: time.Minute, idle: 10 * time.Minute, night: 30 * time.Minute,
		degradeAfter: 600 * time.Second, maxAge: time.Hour,
	}
)

// start is when the demo's simulated clock starts: a Sunday evening, so
// that the first night's 03:00 UTC recycle comes a few hours after the
// first two stories.
var start = time.Date(2026, time.March, 1, 22, 0, 0, 0, time.UTC)

// demo is one run: the cloud, the groups, what was seen.
type demo struct {
	cfg  Config
	mode mode
	c    *cloud
	led  *ledger.Ledger

	groups    []*group
	images    map[string]string // image id -> label (v1, v2, v3)
	labels    []string          // labels in publication order
	versions  []Version
	instances map[string]instanceInfo
	// ltImages is the image of every launch template version seen, by
	// TEMPLATE:VERSION, kept after the version is deleted.
	ltImages map[string]string
	// nights are the image lifecycle's runs seen, from their summaries on
	// the topic; messagesSeen counts the topic's messages read.
	nights       []Night
	messagesSeen int
	// quietRecycles keeps the steps of nightly recycles off the terminal
	// (the report has them) once the recycle story is told.
	quietRecycles bool
	// snapshots names each own snapshot's image, and imageGiB sums each
	// own image's snapshots, as read before story 4's apply nights.
	snapshots map[string]string
	imageGiB  map[string]int64

	// traffic is story 5's requests by version.
	traffic *TrafficChart

	story   int // the story being told (0 is the setup)
	watch   *watcher
	samples []sample
	events  []Event
	stories []*Story
}

// sample is the fleet at one instant.
type sample struct {
	At     time.Time
	Groups map[string]view
}

// Event is one line of the timeline.
type Event struct {
	At    time.Time `json:"at"`
	T     string    `json:"t"`
	Story int       `json:"story"`
	Group string    `json:"group,omitempty"`
	Kind  string    `json:"kind"`
	Text  string    `json:"text"`
	// Minor marks a line the terminal leaves out (the report keeps it).
	Minor bool `json:"minor,omitempty"`
}

// run tells the five stories and returns what happened.
func run(ctx context.Context, cfg Config) (*Report, error) {
	m := fullMode
	if cfg.Fast {
		m = fastMode
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	wall := cfg.Wall
	if wall == nil {
		wall = func() time.Time { return time.Time{} }
	}
	began := wall()
	c, err := startCloud(ctx, cfg, start, stackParameters)
	if err != nil {
		return nil, err
	}
	defer c.close()
	d := &demo{
		cfg: cfg, mode: m, c: c, led: ledger.New(c.ddb, c.table),
		images: map[string]string{}, instances: map[string]instanceInfo{}, ltImages: map[string]string{},
	}
	d.watch = newWatcher(d)
	rep := &Report{
		Mode: m.name, Seed: cfg.Seed, Start: start, Endpoint: c.url, Region: region, InstancesPerGroup: m.size,
		Policy: m.policy, Deployed: fmt.Sprintf("%s as stack %s (%d resources)", cfg.Template, c.stack.Name, len(c.stack.Order)),
		Parameters: stackParameters,
	}
	if !began.IsZero() {
		rep.WallSetup = wall().Sub(began).Seconds()
	}
	fmt.Fprintf(cfg.Out, "Phoenix demo (%s mode): local cloud on %s, simulated clock from %s\n", m.name, c.url, start.Format(time.RFC3339))
	fmt.Fprintf(cfg.Out, "Deployed %s\n", rep.Deployed)

	stories := []struct {
		title string
		tell  func(context.Context, *Story) error
	}{
		{"Two groups behind their load balancers", d.setup},
		{"A new image rolls out in waves", d.storyRollout},
		{"A bad image trips an alarm and is reverted", d.storyAlarm},
		{"The nightly recycle replaces old instances", d.storyRecycle},
		{"The image lifecycle plans, then retires what nobody uses", d.storyLifecycle},
		{"A bad image gets 10% of the traffic, fails, and is gone in seconds", d.storyBlueGreen},
	}
	var storyErr error
	for i, s := range stories {
		st := &Story{N: i, Title: s.title, Started: c.now()}
		d.story = i
		w0 := wall()
		inv0, err := d.invocationCounts(ctx)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			fmt.Fprintf(cfg.Out, "\n%s\n", s.title)
		} else {
			fmt.Fprintf(cfg.Out, "\nStory %d. %s\n", i, s.title)
		}
		storyErr = s.tell(ctx, st)
		if err := d.look(ctx); err != nil && storyErr == nil {
			storyErr = err
		}
		st.Ended = c.now()
		if err := d.figures(ctx, st, inv0); err != nil && storyErr == nil {
			storyErr = err
		}
		if !w0.IsZero() {
			st.Figures.WallSeconds = wall().Sub(w0).Seconds()
		}
		if storyErr != nil {
			st.Outcome = "could not be told: " + storyErr.Error()
		}
		if i > 0 && storyErr == nil {
			v := d.phoenix(ctx, "status")
			st.Operator = &v
		}
		if i > 0 {
			verdict := "as told"
			if !st.AsTold {
				verdict = "NOT as told"
			}
			fmt.Fprintf(cfg.Out, "  => %s (%s; %s simulated, %d state transitions, %d Lambda invocations)\n",
				st.Outcome, verdict, clockText(st.Ended.Sub(st.Started)), st.Figures.Transitions, st.Figures.Invocations)
		}
		d.stories = append(d.stories, st)
		if storyErr != nil {
			break
		}
	}
	if len(d.stories) > 0 {
		if v := d.stories[len(d.stories)-1].Operator; v != nil {
			d.printOperator(*v)
		}
	}
	rep.Stories = d.stories
	// Lines were printed as they were found; a record found late (a drift
	// report read once its recycle started) takes its own time's place.
	sort.SliceStable(d.events, func(i, j int) bool { return d.events[i].At.Before(d.events[j].At) })
	rep.Events = d.events
	rep.Versions = d.versionList()
	rep.Groups = d.chartData()
	if d.traffic != nil {
		d.traffic.SVG, d.traffic.Alt = d.trafficSVG(d.traffic)
		rep.Traffic, rep.PairPolicy = d.traffic, pairPolicy
	}
	rep.End = c.now()
	if !began.IsZero() {
		rep.WallSeconds = wall().Sub(began).Seconds()
	}
	if storyErr == nil {
		// The dashboard is read last so that its figures cover every story.
		var db *Dashboard
		if db, storyErr = d.dashboard(ctx, start, rep.End); storyErr == nil {
			storyErr = d.checkDashboard(ctx, db, start)
			printDashboard(cfg.Out, db)
			rep.Dashboard = db
		}
	}
	if storyErr == nil {
		storyErr = refusals(c.local)
	}
	return rep, storyErr
}

// refusals fails the demo if the local cloud refused any call Phoenix made
// (IAM is enforced, docs/iam-local.md): a story told with a call AWS would
// deny is not one AWS would tell, even when Phoenix carried on.
func refusals(lc *localcloud.Cloud) error {
	var out []string
	for _, d := range lc.IAM.Denials() {
		out = append(out, d.Error())
	}
	if len(out) == 0 {
		return nil
	}
	return fmt.Errorf("AWS would have refused %d call(s) Phoenix made:\n%s", len(out), strings.Join(out, "\n"))
}

// step moves simulated time by by, then looks at the fleet and at what
// Phoenix recorded.
func (d *demo) step(ctx context.Context, by time.Duration) error {
	d.c.advanceTo(d.c.now().Add(by))
	return d.look(ctx)
}

// look samples the fleet and reads what Phoenix recorded, and prints the
// news oldest first.
func (d *demo) look(ctx context.Context) error {
	evs, err := d.sample(ctx)
	if err != nil {
		return err
	}
	more, err := d.watch.poll(ctx)
	if err != nil {
		return err
	}
	evs = append(evs, more...)
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].At.Before(evs[j].At) })
	for _, e := range evs {
		d.emit(e)
	}
	return nil
}

// until steps simulated time until cond holds, failing after limit.
func (d *demo) until(ctx context.Context, limit time.Duration, what string, cond func() (bool, error)) error {
	return d.untilBy(ctx, d.mode.sample, limit, what, cond)
}

// untilBy is until with steps of by.
func (d *demo) untilBy(ctx context.Context, by, limit time.Duration, what string, cond func() (bool, error)) error {
	deadline := d.c.now().Add(limit)
	for {
		ok, err := cond()
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if ok {
			return nil
		}
		if !d.c.now().Before(deadline) {
			return fmt.Errorf("after %s of simulated time, still waiting for %s", limit, what)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := d.step(ctx, by); err != nil {
			return err
		}
	}
}

// sample looks at the fleet and returns its changes as timeline lines.
func (d *demo) sample(ctx context.Context) ([]Event, error) {
	views, err := d.describe(ctx)
	if err != nil {
		return nil, err
	}
	now := d.c.now()
	var prev map[string]view
	if len(d.samples) > 0 {
		prev = d.samples[len(d.samples)-1].Groups
	}
	d.samples = append(d.samples, sample{At: now, Groups: views})
	var evs []Event
	for _, g := range d.groups {
		v, ok := views[g.name]
		if !ok {
			continue
		}
		text := d.fleetText(v)
		if p, ok := prev[g.name]; ok && d.fleetText(p) == text {
			continue
		}
		// A line whose in-service mix is the same as before (only
		// instances launching or leaving changed) is minor: the report
		// keeps it, the terminal does not print it.
		minor := false
		if p, ok := prev[g.name]; ok {
			a, b := p.byImage(), v.byImage()
			// Only instances arriving or leaving, or more or fewer of the
			// one version the whole group runs (a recycle's surge).
			minor = d.mix(p) == d.mix(v) || (len(a) == 1 && len(b) == 1 && slices.Equal(sortedKeys(a), sortedKeys(b)))
		}
		evs = append(evs, Event{At: now, Group: g.name, Kind: "fleet", Text: "fleet: " + text, Minor: minor})
	}
	return evs, nil
}

// mix is a group's in-service instances by image label.
func (d *demo) mix(v view) string {
	by := v.byImage()
	var parts []string
	for _, l := range d.labelsOf(by) {
		parts = append(parts, fmt.Sprintf("%d %s", by[l.id], l.label))
	}
	return strings.Join(parts, ", ")
}

// fleetText says what a group runs: "4 in service: 3 v1, 1 v2 (1 launching)".
func (d *demo) fleetText(v view) string {
	by := v.byImage()
	var parts []string
	for _, l := range d.labelsOf(by) {
		parts = append(parts, fmt.Sprintf("%d %s", by[l.id], l.label))
	}
	text := fmt.Sprintf("%d in service", len(v.inService()))
	if len(parts) > 0 {
		text += ": " + strings.Join(parts, ", ")
	}
	var pending, leaving int
	for _, m := range v.Members {
		switch {
		case strings.HasPrefix(m.Lifecycle, "Pending"):
			pending++
		case strings.HasPrefix(m.Lifecycle, "Terminating"):
			leaving++
		}
	}
	var extra []string
	if pending > 0 {
		extra = append(extra, fmt.Sprintf("%d launching", pending))
	}
	if leaving > 0 {
		extra = append(extra, fmt.Sprintf("%d terminating", leaving))
	}
	if len(extra) > 0 {
		text += " (" + strings.Join(extra, ", ") + ")"
	}
	return text
}

type labelled struct{ id, label string }

// labelsOf orders image ids by their labels (v1, v2, ...), unknown last.
func (d *demo) labelsOf(by map[string]int) []labelled {
	var out []labelled
	for _, l := range d.labels {
		for id, lab := range d.images {
			if lab == l && by[id] > 0 {
				out = append(out, labelled{id, l})
			}
		}
	}
	for _, id := range sortedKeys(by) {
		if _, ok := d.images[id]; !ok && by[id] > 0 {
			out = append(out, labelled{id, id})
		}
	}
	return out
}

// label names an image as the demo published it.
func (d *demo) label(id string) string {
	if l, ok := d.images[id]; ok {
		return l
	}
	if id == "" {
		return "?"
	}
	return id
}

// emit adds a line to the timeline and prints it.
func (d *demo) emit(e Event) {
	e.Story = d.story
	e.T = "T+" + clockText(e.At.Sub(start))
	d.events = append(d.events, e)
	if e.Minor {
		return
	}
	text := e.Text
	if r := []rune(text); len(r) > maxLine {
		text = string(r[:maxLine-1]) + "…"
	}
	width := 5
	for _, g := range d.groups {
		width = max(width, len(g.name))
	}
	fmt.Fprintf(d.cfg.Out, "  %-11s %-*s %s\n", e.T, width, e.Group, text)
}

// maxLine bounds a timeline line on the terminal; the report has it whole.
const maxLine = 180

// clockText writes a duration as h:mm:ss.
func clockText(x time.Duration) string {
	x = x.Round(time.Second)
	sign := ""
	if x < 0 {
		sign, x = "-", -x
	}
	return fmt.Sprintf("%s%d:%02d:%02d", sign, int(x.Hours()), int(x.Minutes())%60, int(x.Seconds())%60)
}
