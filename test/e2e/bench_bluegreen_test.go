package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/functions"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/sim"
)

// Blue/green against rolling, side by side (issue 18's bench figures): a
// rolling group and a blue/green pair of the same size take the same
// healthy image under the same policy (checkpoints or traffic steps at 10,
// 50 and 100%, 900 s at each, a bake of 300 s, a guard window of 2 h), and
// the same guard alarm (phoenix:alarms) fires at the same point of both: a
// minute after the new version began taking about 10% of the traffic
// (rolling: parked in its first checkpoint's pause; blue/green: shift@10).
// The bench then rolls a good image through both to finalized, for what
// each costs when nothing goes wrong.
//
// Every figure is read from outside, the same way for both strategies, by
// a meter that samples the local cloud's models (not the wire): the
// instances running, the healthy targets behind the target groups the
// listener gives weight to (serving capacity), and the new version's share
// of the requests (each weighted target group's share of the weight,
// split evenly among its healthy targets, as the load balancer splits it).
// The AWS calls counted are those signed by Phoenix's own functions.

// The targets: blue/green puts all the traffic back on the old
// version within a minute of a guard alarm, at least 20 times sooner than
// a rolling revert does.
const (
	sideMaxBlueGreenToOld = 60 * time.Second
	sideMinSpeedup        = 20.0
)

// sideSampleEvery is the meter's cadence in simulated time: instance-hours
// are summed over it, and the rolling revert's times are read to within it.
const sideSampleEvery = time.Second

// sideTags are the policy both strategies roll under: steps (a pair's
// phoenix:traffic-steps, a group's phoenix:checkpoints) of 10, 50 and
// 100%, the bench's delays, and the template's default guard window,
// through which a pair keeps its old group at full capacity.
func sideTags(steps, alarm string) map[string]string {
	return map[string]string{
		steps: "10,50,100", "phoenix:checkpoint-delay": "900", "phoenix:bake": "300", "phoenix:guard-window": "2h",
		"phoenix:alarms": alarm,
	}
}

// side is one strategy's scenario: its rig with the guard alarm, the
// group (or pair) on its first image, the new image and the meter.
type side struct {
	a      *alarmRig
	m      *sideMeter
	alarm  string
	group  string // the group the rollout names
	old    string // the image the group (or the pair's live group) runs
	image  string // the new image
	bg     *pair  // nil for a rolling group
	before counts
	start  time.Time
}

func newRollingSide(tb testing.TB, seed uint64, size int) *side {
	a := newAlarmRig(tb, seed)
	f := a.newFleet(fleetSpec{name: "fleet", size: size, tags: sideTags("phoenix:checkpoints", "fleet-5xx")})
	s := &side{a: a, alarm: "fleet-5xx", group: f.name, old: f.image}
	s.ready("fleet-v2", a.sideListener(f.name), f.name)
	return s
}

func newBlueGreenSide(tb testing.TB, seed uint64, size int) *side {
	a := newAlarmRig(tb, seed)
	p := a.newPair(pairSpec{name: "shop", size: size, tags: sideTags("phoenix:traffic-steps", "shop-5xx")})
	s := &side{a: a, alarm: "shop-5xx", group: p.blue, old: p.image, bg: &p}
	s.ready("shop-v2", p.listener, p.blue, p.green)
	return s
}

// ready creates the alarm and the new image, lets what the image's own
// events set off (image publishing) happen, and starts the meter and the
// counters.
func (s *side) ready(imageName, listener string, groups ...string) {
	s.a.alarm(s.alarm, nil)
	s.image = s.a.image(imageName, "healthy")
	s.a.env.Advance(time.Minute)
	s.m = newSideMeter(s.a.rig, listener, s.image, groups...)
	s.before = s.a.sideCounters()
	s.start = s.a.env.Now()
	s.m.sample()
}

// rollout starts the rollout of the new image.
func (s *side) rollout(id string) {
	s.m.arn = s.a.start(id, s.group, s.image)
}

// cost is what the rollout cost, from its start to now.
func (s *side) cost() sideCost {
	return s.a.sideCostSince(s.m.arn, s.before)
}

// sideMeter follows one strategy's groups from a rollout's start to its end.
type sideMeter struct {
	r        *rig
	arn      string
	listener string
	newImage string
	groups   []string

	last time.Time
	// running counts the instances running in the region (the scenario's
	// groups are its only ones) at the last sample; instanceSeconds is
	// their integral over simulated time, peak the most at once.
	running         int
	instanceSeconds float64
	peak            int
	// serving is the healthy targets behind weighted target groups at the
	// last sample, lowest the fewest since the start.
	serving, lowest int
	// share is the new version's share of the requests at the last sample.
	share float64
	// rolledBack: the newest refresh of a group ended its rollback.
	rolledBack bool
	// settled: no refresh is active and exactly as many instances run as
	// the groups want; the ones a rollout let go have stopped.
	settled bool
}

func newSideMeter(r *rig, listener, newImage string, groups ...string) *sideMeter {
	return &sideMeter{r: r, listener: listener, newImage: newImage, groups: groups, lowest: 1 << 30}
}

// sample reads the models once, adding the time since the last sample to
// the integral at the last sample's count.
func (m *sideMeter) sample() {
	now := m.r.env.Now()
	var reg sim.RegionSnapshot
	for _, s := range m.r.env.Cloud.World.Snapshot() {
		if s.Region == region {
			reg = s
		}
	}
	if !m.last.IsZero() {
		m.instanceSeconds += float64(m.running) * now.Sub(m.last).Seconds()
	}
	m.last = now
	image, running := map[string]string{}, 0
	for _, in := range reg.Instances {
		image[in.InstanceID] = in.ImageID
		if in.State == "running" {
			running++
		}
	}
	m.running, m.peak = running, max(m.peak, running)
	healthy := map[string][]string{}
	for _, tg := range reg.TargetGroups {
		for _, t := range tg.Targets {
			if t.State == sim.TargetHealthy {
				healthy[tg.ARN] = append(healthy[tg.ARN], t.ID)
			}
		}
	}
	ws := m.r.weights(m.listener)
	total := 0
	for _, w := range ws {
		total += w
	}
	m.serving, m.share = 0, 0
	for tg, w := range ws {
		if w == 0 || len(healthy[tg]) == 0 {
			continue
		}
		m.serving += len(healthy[tg])
		n := 0
		for _, id := range healthy[tg] {
			if image[id] == m.newImage {
				n++
			}
		}
		m.share += float64(w) / float64(total) * float64(n) / float64(len(healthy[tg]))
	}
	m.lowest = min(m.lowest, m.serving)
	m.rolledBack, m.settled = false, true
	desired := 0
	for _, g := range reg.Groups {
		if !slices.Contains(m.groups, g.Name) {
			continue
		}
		desired += int(g.DesiredCapacity)
		if n := len(g.Refreshes); n > 0 {
			rf := g.Refreshes[n-1]
			m.rolledBack = m.rolledBack || rf.Status == "RollbackSuccessful" && rf.EndTime != nil
			m.settled = m.settled && rf.EndTime != nil
		}
	}
	m.settled = m.settled && running == desired
}

// ended reports whether the execution ended, from the model.
func (m *sideMeter) ended() bool {
	ctx := api.WithRequest(m.r.ctx, api.Request{Region: region, Account: m.r.env.Cloud.World.Account()})
	d, err := m.r.env.Cloud.StepFunctions.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(m.arn)})
	if err != nil {
		m.r.t.Fatalf("describe execution: %v", err)
	}
	return d.Status != sfntypes.ExecutionStatusRunning
}

// runUntil steps simulated time, sampling, until cond holds; the execution
// ending first is a failure unless mayEnd. cond sees the latest sample (at
// most sideSampleEvery old), and a fresh one once the execution has ended.
func (m *sideMeter) runUntil(limit time.Duration, what string, mayEnd bool, cond func() bool) {
	m.r.t.Helper()
	ended := false
	m.r.env.RunUntil(m.r.t, limit, what, func() bool {
		if m.r.env.Now().Sub(m.last) >= sideSampleEvery {
			m.sample()
		}
		if cond() {
			return true
		}
		if !ended && m.ended() {
			ended = true
			m.sample()
			return cond() || !mayEnd
		}
		return false
	})
	if ended && !mayEnd && !cond() {
		m.r.t.Fatalf("the execution ended before %s: %s\n%s", what, compact(m.r.path(m.arn)), m.r.functionLogs())
	}
}

// toEnd runs until the execution ended and the groups settled, with a
// fresh sample last: the instances a rollout lets go cost until they stop
// (after their target group's deregistration delay), after the execution
// ended.
func (m *sideMeter) toEnd(limit time.Duration) {
	m.r.t.Helper()
	m.runUntil(limit, "the execution to end and the groups to settle", true, func() bool {
		if !m.settled || !m.ended() {
			return false
		}
		m.sample()
		return m.settled
	})
}

func (m *sideMeter) instanceHours() float64 { return m.instanceSeconds / 3600 }

// sideListener is the listener of the load balancer named after a group.
func (r *rig) sideListener(name string) string {
	r.t.Helper()
	ctx := api.WithRequest(r.ctx, api.Request{Region: region, Account: r.env.Cloud.World.Account()})
	lbs, err := r.env.Cloud.World.ELB().DescribeLoadBalancers(ctx, &elasticloadbalancingv2.DescribeLoadBalancersInput{Names: []string{name}})
	if err != nil || len(lbs.LoadBalancers) != 1 {
		r.t.Fatalf("describe load balancer %s: %v", name, err)
	}
	ls, err := r.env.Cloud.World.ELB().DescribeListeners(ctx, &elasticloadbalancingv2.DescribeListenersInput{LoadBalancerArn: lbs.LoadBalancers[0].LoadBalancerArn})
	if err != nil || len(ls.Listeners) != 1 {
		r.t.Fatalf("describe listeners of %s: %v", name, err)
	}
	return aws.ToString(ls.Listeners[0].ListenerArn)
}

// sideCalls counts the AWS calls Phoenix's deployed functions made, by
// "service.Operation": each function signs with its own access key, so
// the test's calls are never among them.
func (r *rig) sideCalls() map[string]int {
	byKey := r.env.Cloud.Wire.RequestsByAccessKey()
	out := map[string]int{}
	for _, id := range r.stack.Order {
		d := r.stack.Resources[id]
		if d.Type != "AWS::Serverless::Function" && d.Type != "AWS::Lambda::Function" {
			continue
		}
		for op, n := range byKey[functions.AccessKeyID(d.PhysicalID)] {
			out[op] += n
		}
	}
	return out
}

func (r *rig) sideCounters() counts {
	return counts{calls: r.sideCalls(), invocations: r.invocations()}
}

// sideCost is what one rollout cost in Step Functions, Lambda and AWS
// calls.
type sideCost struct {
	transitions int
	invocations int
	calls       map[string]int // by "service.Operation"
}

func (c sideCost) apiCalls() int { return sum(c.calls) }

// sideCostSince reads the states the execution entered, and the
// invocations and AWS calls of every function (alarm-events and
// refresh-events included) since before.
func (r *rig) sideCostSince(arn string, before counts) sideCost {
	r.t.Helper()
	c := sideCost{transitions: len(r.path(arn)), calls: map[string]int{}}
	for op, n := range r.sideCalls() {
		if d := n - before.calls[op]; d > 0 {
			c.calls[op] = d
		}
	}
	for fn, n := range r.invocations() {
		c.invocations += n - before.invocations[fn]
	}
	return c
}

// guardRun is one strategy's rollout from its start, through the guard
// alarm, to its end.
type guardRun struct {
	// shareAtAlarm is the new version's share of the requests when the
	// alarm fired.
	shareAtAlarm float64
	// toOld is the simulated time from the alarm until all the traffic is
	// on the old version with its full capacity serving it: for
	// blue/green, the switch-back's ModifyListener; for rolling, the
	// rollback ended with every healthy target on the old image. toNewOut
	// is until the new version last served a request.
	toOld, toNewOut time.Duration
	lowest, peak    int
	instanceHours   float64
	span            time.Duration
	cost            sideCost
}

// rollingGuardRun: a rolling group takes a healthy image, and its guard
// alarm fires a minute into the first checkpoint's pause (10% of the
// instances replaced and serving).
func rollingGuardRun(tb testing.TB, seed uint64, size int) guardRun {
	s := newRollingSide(tb, seed, size)
	a, m := s.a, s.m
	s.rollout("r-side-rolling")
	// Parked after validating the first checkpoint: the second Await.
	m.runUntil(6*time.Hour, "the rollout parked in its first checkpoint's pause", false, func() bool { return a.timesEntered(m.arn, "Await") >= 2 })
	parked := a.env.Now()
	m.runUntil(time.Hour, "a minute into the pause", false, func() bool { return !a.env.Now().Before(parked.Add(time.Minute)) })
	m.sample()
	run := guardRun{shareAtAlarm: m.share}
	at := a.fire(s.alarm)
	var out time.Time
	m.runUntil(6*time.Hour, "the fleet back on the old image", true, func() bool {
		switch {
		case m.share > 0:
			out = time.Time{}
		case out.IsZero():
			out = m.last
		}
		return m.rolledBack && m.share == 0 && m.serving >= size
	})
	run.toOld, run.toNewOut = m.last.Sub(at), out.Sub(at)
	m.toEnd(6 * time.Hour)
	if lr := a.rollout("r-side-rolling"); lr.status != "reverted" || !strings.Contains(lr.reason, s.alarm) {
		tb.Fatalf("rolling rollout %+v, want reverted by %s", lr, s.alarm)
	}
	if g := a.group(s.group); g.inService != size || g.images[s.old] != size {
		tb.Fatalf("the rolling group is not back on %s: %+v", s.old, g)
	}
	run.lowest, run.peak, run.instanceHours, run.span, run.cost = m.lowest, m.peak, m.instanceHours(), a.env.Now().Sub(s.start), s.cost()
	return run
}

// blueGreenGuardRun: a pair takes a healthy image, and its guard alarm
// fires a minute after shift@10.
func blueGreenGuardRun(tb testing.TB, seed uint64, size int) guardRun {
	s := newBlueGreenSide(tb, seed, size)
	a, m, p := s.a, s.m, s.bg
	s.rollout("r-side-bg")
	m.runUntil(6*time.Hour, "shift@10", false, func() bool { return a.weights(p.listener)[p.greenTG] > 0 })
	shifted := a.env.Now()
	m.runUntil(time.Hour, "a minute after shift@10", false, func() bool { return !a.env.Now().Before(shifted.Add(time.Minute)) })
	m.sample()
	run := guardRun{shareAtAlarm: m.share}
	at := a.fire(s.alarm)
	// The weights are read at every event of the clock: going back is one
	// call, seen the instant it is made.
	m.runUntil(time.Hour, "all the weight back on blue", true, func() bool { return a.weights(p.listener)[p.greenTG] == 0 })
	run.toOld = a.env.Now().Sub(at)
	run.toNewOut = run.toOld
	m.toEnd(6 * time.Hour)
	if lr := a.rollout("r-side-bg"); lr.status != "reverted" || !strings.Contains(lr.reason, s.alarm) {
		tb.Fatalf("blue/green rollout %+v, want reverted by %s", lr, s.alarm)
	}
	if back := a.stepAt("r-side-bg", "switch-back"); back.Before(at) || back.Sub(at) > run.toOld+time.Second {
		tb.Errorf("the timeline's switch-back at %s, the weights back on blue at %s", back, at.Add(run.toOld))
	}
	if g := a.group(p.blue); g.inService != size || g.images[s.old] != size {
		tb.Fatalf("blue is not serving on %s: %+v", s.old, g)
	}
	run.lowest, run.peak, run.instanceHours, run.span, run.cost = m.lowest, m.peak, m.instanceHours(), a.env.Now().Sub(s.start), s.cost()
	return run
}

// goodRun is a rollout of a healthy image to finalized.
type goodRun struct {
	lowest, peak  int
	instanceHours float64
	span          time.Duration
	cost          sideCost
}

// goodRun rolls the new image to finalized, nothing interrupting it.
func (s *side) goodRun(tb testing.TB, id string, size int) goodRun {
	s.rollout(id)
	s.m.toEnd(6 * time.Hour)
	if lr := s.a.rollout(id); lr.status != "finalized" {
		tb.Fatalf("rollout %+v, want finalized\n%s", lr, compact(s.a.path(s.m.arn)))
	}
	serving := s.group
	if s.bg != nil {
		serving = s.bg.green
	}
	if g := s.a.group(serving); g.inService != size || g.images[s.image] != size {
		tb.Fatalf("%s is not serving on %s: %+v", serving, s.image, g)
	}
	m := s.m
	return goodRun{lowest: m.lowest, peak: m.peak, instanceHours: m.instanceHours(), span: s.a.env.Now().Sub(s.start), cost: s.cost()}
}

// sideBySide is the figures of one run.
type sideBySide struct {
	size                int
	rolling, blueGreen  guardRun
	withGood            bool
	rollingGood, bgGood goodRun
}

func (s sideBySide) speedup() float64 { return s.rolling.toOld.Seconds() / s.blueGreen.toOld.Seconds() }

// String is the figures as a table.
func (s sideBySide) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Blue/green against rolling on %d instances: the same guard alarm, a minute after the new version took ~10%% of the traffic (simulated time)\n", s.size)
	row := func(name, format string, bg, rolling any) {
		fmt.Fprintf(&b, "  %-52s %12s %12s\n", name, fmt.Sprintf(format, bg), fmt.Sprintf(format, rolling))
	}
	row("", "%s", "blue/green", "rolling")
	row("new version's share of the traffic at the alarm", "%.1f%%", 100*s.blueGreen.shareAtAlarm, 100*s.rolling.shareAtAlarm)
	row("alarm → 100% of the traffic on the old version (s)", "%.1f", s.blueGreen.toOld.Seconds(), s.rolling.toOld.Seconds())
	row("alarm → last request to the new version (s)", "%.1f", s.blueGreen.toNewOut.Seconds(), s.rolling.toNewOut.Seconds())
	row("lowest serving capacity (healthy targets)", "%d", s.blueGreen.lowest, s.rolling.lowest)
	row("peak instances running", "%d", s.blueGreen.peak, s.rolling.peak)
	row("instance-hours, start to settled", "%.1f", s.blueGreen.instanceHours, s.rolling.instanceHours)
	row("start to settled (s)", "%.0f", s.blueGreen.span.Seconds(), s.rolling.span.Seconds())
	row("state transitions", "%d", s.blueGreen.cost.transitions, s.rolling.cost.transitions)
	row("Lambda invocations", "%d", s.blueGreen.cost.invocations, s.rolling.cost.invocations)
	row("AWS API calls by Phoenix", "%d", s.blueGreen.cost.apiCalls(), s.rolling.cost.apiCalls())
	fmt.Fprintf(&b, "  speedup (rolling ÷ blue/green, alarm → old): %.0fx (targets: blue/green under %s, at least %.0fx)\n", s.speedup(), sideMaxBlueGreenToOld, sideMinSpeedup)
	calls := func(what string, c sideCost) {
		fmt.Fprintf(&b, "  AWS API calls of %s:\n", what)
		for _, k := range sortedCounts(c.calls) {
			fmt.Fprintf(&b, "    %-48s %5d\n", k, c.calls[k])
		}
	}
	calls("the blue/green rollout the alarm switched back", s.blueGreen.cost)
	if s.withGood {
		fmt.Fprintf(&b, "A good rollout to finalized (a pair keeps its old group at full capacity through the 2 h guard window)\n")
		row("", "%s", "blue/green", "rolling")
		row("lowest serving capacity (healthy targets)", "%d", s.bgGood.lowest, s.rollingGood.lowest)
		row("peak instances running", "%d", s.bgGood.peak, s.rollingGood.peak)
		row("instance-hours, start to settled", "%.1f", s.bgGood.instanceHours, s.rollingGood.instanceHours)
		row("start to settled (s)", "%.0f", s.bgGood.span.Seconds(), s.rollingGood.span.Seconds())
		row("state transitions", "%d", s.bgGood.cost.transitions, s.rollingGood.cost.transitions)
		row("Lambda invocations", "%d", s.bgGood.cost.invocations, s.rollingGood.cost.invocations)
		row("AWS API calls by Phoenix", "%d", s.bgGood.cost.apiCalls(), s.rollingGood.cost.apiCalls())
		calls("the good blue/green rollout", s.bgGood.cost)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// check fails tb when blue/green misses its targets against rolling.
func (s sideBySide) check(tb testing.TB, minSpeedup float64) {
	tb.Helper()
	if s.blueGreen.toOld <= 0 || s.blueGreen.toOld >= sideMaxBlueGreenToOld {
		tb.Errorf("blue/green: alarm to 100%% of the traffic on the old version took %s, want under %s", s.blueGreen.toOld, sideMaxBlueGreenToOld)
	}
	if sp := s.speedup(); sp < minSpeedup {
		tb.Errorf("blue/green went back %.1fx sooner than rolling (%s against %s), want at least %.0fx", sp, s.blueGreen.toOld, s.rolling.toOld, minSpeedup)
	}
	if s.blueGreen.lowest < s.size {
		tb.Errorf("blue/green: serving capacity fell to %d, below the floor of %d", s.blueGreen.lowest, s.size)
	}
	if s.withGood && s.bgGood.lowest < s.size {
		tb.Errorf("the good blue/green rollout: serving capacity fell to %d, below the floor of %d", s.bgGood.lowest, s.size)
	}
}

func BenchmarkRolloutBlueGreenVsRolling100Instances(b *testing.B) {
	var last sideBySide
	for i := 0; b.Loop(); i++ {
		seed := uint64(1850 + 4*i)
		s := sideBySide{size: benchSize, withGood: true}
		s.rolling = rollingGuardRun(b, seed, benchSize)
		s.blueGreen = blueGreenGuardRun(b, seed+1, benchSize)
		s.bgGood = newBlueGreenSide(b, seed+2, benchSize).goodRun(b, "r-side-bg-good", benchSize)
		s.rollingGood = newRollingSide(b, seed+3, benchSize).goodRun(b, "r-side-rolling-good", benchSize)
		last = s
	}
	b.StopTimer()
	s := last
	// The table goes to stdout: the testing package keeps only the first
	// lines of a benchmark's log.
	fmt.Println(s)
	b.Logf("blue/green back on the old version %.1f s after the alarm, rolling %.1f s (%.0fx); lowest serving %d and %d",
		s.blueGreen.toOld.Seconds(), s.rolling.toOld.Seconds(), s.speedup(), s.blueGreen.lowest, s.rolling.lowest)
	s.check(b, sideMinSpeedup)
	b.ReportMetric(s.blueGreen.toOld.Seconds(), "bg-alarm-to-old-s")
	b.ReportMetric(s.rolling.toOld.Seconds(), "rolling-alarm-to-old-s")
	b.ReportMetric(s.speedup(), "speedup-x")
	b.ReportMetric(float64(s.blueGreen.lowest), "bg-lowest-serving")
	b.ReportMetric(float64(s.rolling.lowest), "rolling-lowest-serving")
	b.ReportMetric(float64(s.blueGreen.peak), "bg-peak-instances")
	b.ReportMetric(float64(s.rolling.peak), "rolling-peak-instances")
	b.ReportMetric(s.blueGreen.instanceHours, "bg-instance-hours")
	b.ReportMetric(s.rolling.instanceHours, "rolling-instance-hours")
	b.ReportMetric(float64(s.blueGreen.cost.transitions), "bg-transitions")
	b.ReportMetric(float64(s.blueGreen.cost.apiCalls()), "bg-api-calls")
	b.ReportMetric(float64(s.bgGood.cost.transitions), "bg-good-transitions")
	b.ReportMetric(float64(s.bgGood.cost.apiCalls()), "bg-good-api-calls")
	b.ReportMetric(float64(s.bgGood.peak), "bg-good-peak-instances")
	b.ReportMetric(s.bgGood.instanceHours, "bg-good-instance-hours")
	b.ReportMetric(float64(s.rollingGood.peak), "rolling-good-peak-instances")
	b.ReportMetric(s.rollingGood.instanceHours, "rolling-good-instance-hours")
}

// The side by side on six instances, for make test. Rolling reverts one
// replaced instance there, its best case, and still takes 150.2 s: the
// reaction is as quick as blue/green's (0.1 s to RollbackInstanceRefresh),
// but the old image's replacement has to launch, boot (30 s) and get past
// the group's 120 s warmup, healthy in its target group, before the new
// instance is let go. Blue/green is one event delivery and three
// invocations to one ModifyListener: 0.1 s, the bus's 100 ms (invocations
// and transitions take no simulated time on the local cloud). The issue's
// 20x leaves room for the local cloud to model more latency: it fails only
// if going back takes more than 7.5 s, which a poll, a wait or a launch in
// the path would cause.
func TestABlueGreenPairIsBackOnTheOldVersionFarSoonerThanARollingGroupAfterTheSameGuardAlarm(t *testing.T) {
	t.Parallel()
	const size = 6
	s := sideBySide{size: size}
	t.Run("side by side", func(t *testing.T) {
		t.Run("rolling", func(t *testing.T) {
			t.Parallel()
			s.rolling = rollingGuardRun(t, 1860, size)
		})
		t.Run("blue/green", func(t *testing.T) {
			t.Parallel()
			s.blueGreen = blueGreenGuardRun(t, 1861, size)
		})
	})
	if t.Failed() {
		return
	}
	t.Logf("\n%s", s)
	s.check(t, sideMinSpeedup)
}
