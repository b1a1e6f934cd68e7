package e2e

import (
	"cmp"
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/phoenix-rollouts/phoenix/shared/ledger"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
	"github.com/phoenix-rollouts/phoenix/test/localcloud"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/deploy"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/eventbus"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/sim"
)

// Fault campaigns (docs/soak.md): one seed is one scenario on one rig.
// `go test ./test/e2e -run '^TestFaultCampaign$'` runs the bounded set
// (-seeds from -seed-start, the first of them twice to check that a seed
// replays to the same outcome); -seed=N runs seed N alone, which is how a
// failing seed is replayed; `make soak SEEDS=N START=S` runs many.
var (
	soakSeed  = flag.Uint64("seed", 0, "fault campaign: run only this seed (the replay of a failing one)")
	soakSeeds = flag.Int("seeds", 8, "fault campaign: how many seeds TestFaultCampaign runs")
	soakStart = flag.Uint64("seed-start", 1, "fault campaign: the first seed TestFaultCampaign runs")
)

const (
	// quietFor is how long a scenario must stay quiet (no execution
	// running, no refresh, every group at its desired capacity) before its
	// end is checked: longer than the largest EventBridge delay a scenario
	// injects, so that a late delivery has had its chance to start
	// something.
	quietFor = 15 * time.Minute
	// quietLimit bounds the simulated time after the last action until
	// the scenario is quiet: a failed refresh retries for an hour, a
	// revert after it another, a campaign's gate waits up to six hours.
	quietLimit = 12 * time.Hour
	// maxReported bounds the violations written per seed.
	maxReported = 30
	// tailSampleEvery is how often the fleet is sampled while only the
	// image lifecycle runs, after the scenario quiesced.
	tailSampleEvery = 5 * time.Minute
)

// replayLine is the one command that replays a seed.
func replayLine(seed uint64) string {
	return fmt.Sprintf("go test ./test/e2e -run '^TestFaultCampaign$' -seed=%d -v", seed)
}

// campaignResult is what one seed's run tells the summary.
type campaignResult struct {
	seed       uint64
	violations []string
	checks     int
	samples    int
	wall       time.Duration
	simulated  time.Duration
	digest     string
	outcome    string
	ends       map[string]int
	failed     bool
	// notes are what the run noticed that no invariant holds it to.
	notes []string
}

func TestFaultCampaign(t *testing.T) {
	t.Parallel()
	needNode(t)
	seeds := []uint64{*soakSeed}
	if *soakSeed == 0 {
		seeds = nil
		for i := range *soakSeeds {
			seeds = append(seeds, *soakStart+uint64(i))
		}
	}
	var (
		mu      sync.Mutex
		results []*campaignResult
		again   *campaignResult
	)
	t.Run("seeds", func(t *testing.T) {
		for _, seed := range seeds {
			t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
				t.Parallel()
				// Counted before it runs: a seed that stops on a fatal
				// error still belongs in the summary.
				res := &campaignResult{seed: seed, ends: map[string]int{}}
				mu.Lock()
				results = append(results, res)
				mu.Unlock()
				runCampaign(t, res)
			})
		}
		if *soakSeed == 0 && len(seeds) > 0 {
			// Same seed, same scenario, same outcome: the replay line is
			// only worth printing if that holds.
			t.Run(fmt.Sprintf("seed=%d-again", seeds[0]), func(t *testing.T) {
				t.Parallel()
				res := &campaignResult{seed: seeds[0], ends: map[string]int{}}
				mu.Lock()
				again = res
				mu.Unlock()
				runCampaign(t, res)
			})
		}
	})
	slices.SortFunc(results, func(a, b *campaignResult) int { return cmp.Compare(a.seed, b.seed) })
	if again != nil && len(results) > 0 && results[0].seed == again.seed && results[0].digest != "" && again.digest != "" {
		if results[0].digest != again.digest {
			t.Errorf("seed %d ran twice to different outcomes: the campaign is not deterministic\nfirst:\n%s\nsecond:\n%s",
				again.seed, results[0].outcome, again.outcome)
		}
	}
	summarize(t, results, again)
}

// summarize prints the campaign's figures and every failing seed's replay
// line, on stdout so that `make soak` shows them.
func summarize(t *testing.T, results []*campaignResult, again *campaignResult) {
	if len(results) == 0 {
		return
	}
	var failed []*campaignResult
	var wall, sim time.Duration
	var maxWall time.Duration
	checks, samples := 0, 0
	ends := map[string]int{}
	for _, r := range results {
		if r.failed {
			failed = append(failed, r)
		}
		wall += r.wall
		maxWall = max(maxWall, r.wall)
		sim += r.simulated
		checks += r.checks
		samples += r.samples
		for k, v := range r.ends {
			ends[k] += v
		}
	}
	n := len(results)
	var endList []string
	for _, k := range sortedKeysInt(ends) {
		endList = append(endList, fmt.Sprintf("%s %d", k, ends[k]))
	}
	lines := []string{
		fmt.Sprintf("soak: %d seeds (%d..%d), %d passed, %d failed", n, results[0].seed, results[n-1].seed, n-len(failed), len(failed)),
		fmt.Sprintf("soak: %d invariants (%s), %d checks per run on average over %d samples of the fleet",
			len(invariantNames), strings.Join(invariantNames, ", "), checks/n, samples/n),
		fmt.Sprintf("soak: rollouts ended: %s", strings.Join(endList, ", ")),
		fmt.Sprintf("soak: wall time per seed %s on average, %s at most; simulated %s per seed on average",
			(wall / time.Duration(n)).Round(time.Second), maxWall.Round(time.Second), (sim / time.Duration(n)).Round(time.Minute)),
	}
	if again != nil && again.digest != "" && results[0].digest != "" {
		same := "the same outcome"
		if results[0].digest != again.digest {
			same = "A DIFFERENT OUTCOME"
		}
		lines = append(lines, fmt.Sprintf("soak: seed %d run twice: %s (digests %s, %s)", again.seed, same, results[0].digest, again.digest))
	}
	for _, r := range results {
		for _, n := range r.notes {
			lines = append(lines, fmt.Sprintf("soak: note seed %d: %s", r.seed, n))
		}
	}
	for _, r := range failed {
		why := fmt.Sprintf("%d violations", len(r.violations))
		if len(r.violations) == 0 {
			why = "no invariant violated: the rig's own checks (IAM, token leaks) or the run itself failed, see its log"
		}
		lines = append(lines, fmt.Sprintf("soak: FAIL seed %d (%s); replay: %s", r.seed, why, replayLine(r.seed)))
		for i, v := range r.violations {
			if i == 3 {
				lines = append(lines, fmt.Sprintf("soak:     ... and %d more", len(r.violations)-3))
				break
			}
			lines = append(lines, "soak:     "+v)
		}
	}
	for _, l := range lines {
		t.Log(l)
	}
	if testing.Verbose() {
		fmt.Println(strings.Join(lines, "\n"))
	}
}

func sortedKeysInt(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// runCampaign runs one seed's scenario, checks every invariant and fills
// res.
func runCampaign(t *testing.T, res *campaignResult) {
	began, seed := time.Now(), res.seed
	sc := generate(seed)
	t.Logf("plan of %s", sc)
	t.Cleanup(func() {
		if t.Failed() {
			res.failed = true
			t.Logf("replay: %s", replayLine(seed))
		}
	})
	r := newSoakRig(t, seed, sc.lifecycle.parameters())
	// Registered after the rig's, so it runs first: the rig's own checks
	// read through the endpoint, where the scenario's faults must be gone.
	t.Cleanup(func() {
		r.env.Cloud.Faults.Clear()
		_ = r.env.Cloud.EventBridge.SetChaos("", eventbus.Chaos{})
	})
	c := &campaign{r: r, sc: sc, obs: newObserver(r, sc), images: map[string]string{}}
	c.setup(t)
	c.run(t)

	o := c.obs
	res.checks, res.samples = o.checks, o.samples
	res.wall, res.simulated = time.Since(began), r.env.Now().Sub(o.start)
	res.outcome = c.outcome()
	res.digest = fmt.Sprintf("%x", sha256.Sum256([]byte(res.outcome)))[:16]
	for _, rec := range o.ledger().rollouts {
		res.ends[rec.status]++
	}
	t.Logf("seed %d: %d checks over %d samples, %s simulated in %s; outcome %s:\n%s%s",
		seed, o.checks, o.samples, res.simulated.Round(time.Minute), res.wall.Round(time.Second), res.digest, res.outcome, c.fired())
	res.notes = o.plainRollbackNotes(o.read())
	for _, n := range res.notes {
		t.Logf("note: %s", n)
	}
	for i, v := range o.violations {
		res.violations = append(res.violations, o.describe(v))
		if i < maxReported {
			t.Errorf("%s", o.describe(v))
		}
	}
	if len(o.violations) > maxReported {
		t.Errorf("... and %d more violations", len(o.violations)-maxReported)
	}
	if len(o.violations) > 0 {
		res.failed = true
		logs := filepath.Join(os.TempDir(), fmt.Sprintf("phoenix-soak-seed-%d-functions.log", seed))
		if err := os.WriteFile(logs, []byte(r.functionLogs()), 0o644); err == nil {
			t.Logf("function logs: %s", logs)
		}
	}
}

// newSoakRig is newRig on a cloud that starts at soakClockStart, with
// template.yaml deployed with params over its defaults.
func newSoakRig(t *testing.T, seed uint64, params map[string]string) *rig {
	t.Helper()
	needNode(t)
	bins := functionsDir(t)
	env := cloudtest.New(t, localcloud.Options{Seed: seed, DynamoDB: true, Start: soakClockStart})
	// Not t.Context(): the rig's own checks run in t.Cleanup, after it is
	// cancelled.
	r := &rig{t: t, ctx: context.Background(), env: env}
	stack, err := deploy.File(r.ctx, env.Cloud, filepath.Join(repoRoot(t), "template.yaml"), deploy.Options{BinDir: bins, Parameters: params})
	if err != nil {
		t.Fatalf("deploy template.yaml: %v", err)
	}
	env.Settle()
	r.stack = stack
	r.machine = output(t, stack, "StateMachineArn")
	r.table = output(t, stack, "LedgerTableName")
	r.topic = output(t, stack, "NotificationTopicArn")
	r.ddb = dynamodb.NewFromConfig(env.Config)
	t.Cleanup(func() {
		r.checkIAM(t)
		r.checkNoTokensLeak(t)
	})
	return r
}

// campaign is one scenario being played on a rig.
type campaign struct {
	r      *rig
	sc     scenario
	obs    *observer
	images map[string]string // image id of each actStart, by rollout id
	// firedRules are the fault rules removed, with their counters.
	firedRules []faults.Rule
	// handLog says what each of the operator's hand actions did.
	handLog []string
}

// setup makes the alarms, the groups and the images of the scenario.
func (c *campaign) setup(t *testing.T) {
	r, o := c.r, c.obs
	for _, g := range c.sc.groups {
		if g.alarm == "" {
			continue
		}
		// An alarm on a metric nobody publishes, missing data not
		// breaching: OK until the scenario sets it to ALARM, and back to
		// OK at its next evaluation, as a flapping alarm is.
		if _, err := r.env.Cloud.CloudWatch.PutMetricAlarm(o.ctx, &cloudwatch.PutMetricAlarmInput{
			AlarmName: aws.String(g.alarm), Namespace: aws.String("Phoenix/Soak"), MetricName: aws.String("Errors"),
			Dimensions: []cwtypes.Dimension{{Name: aws.String("Group"), Value: aws.String(g.name)}},
			Statistic:  cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(0),
			ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold, TreatMissingData: aws.String("notBreaching"),
		}); err != nil {
			t.Fatalf("put alarm %s: %v", g.alarm, err)
		}
	}
	r.env.Settle()
	for _, g := range c.sc.groups {
		tags := map[string]string{"phoenix:role": g.role}
		for k, v := range g.tags {
			if v != "" {
				tags[k] = v
			}
		}
		spec := fleetSpec{name: g.name, size: g.size, version: g.version, tags: tags}
		if g.shares != "" {
			spec.sharedTemplate = o.fleets[g.shares].launchTemplate
		}
		f := r.newFleet(spec)
		o.fleets[g.name] = f
		o.initialDefault[g.name] = r.defaultVersion(f.launchTemplate)
	}
	c.tagFirstImages(t)
	for _, a := range c.sc.actions {
		if a.kind != actStart {
			continue
		}
		id, err := r.env.Cloud.World.AddImage(region, sim.ImageSpec{
			Name: a.id + "-image", Available: true, Tags: map[string]string{"phoenix-sim:behavior": behaviourTag(a.image)},
		})
		if err != nil {
			t.Fatalf("add image for %s: %v", a.id, err)
		}
		c.images[a.id] = id
		o.labels[id] = a.image
	}
	// Every instance past its warmup before the first action: an instance
	// still warming up does not count as healthy to a refresh (nor on AWS),
	// so a rollout started in the first minutes of a new group may replace
	// it at once, below the floor the invariant holds Phoenix to.
	r.env.Advance(5 * time.Minute)
	o.start = r.env.Now()
}

// run plays the actions on the clock, samples the fleet between them, and
// once every action is done and the scenario is quiet, lets the image
// lifecycle's runs go on for its tail, and checks how it ended once it is
// quiet again.
func (c *campaign) run(t *testing.T) {
	r, o, acts := c.r, c.obs, c.sc.actions
	next := 0
	var quietSince, tailEnd time.Time
	var w world
	tail := c.sc.lifecycle.tail()
	deadline := o.start.Add(c.sc.horizon() + quietLimit + tail)
	for {
		now := r.env.Now()
		for next < len(acts) && !o.start.Add(acts[next].at).After(now) {
			c.do(t, acts[next])
			next++
		}
		step := c.sc.sampleEvery
		if now.Before(tailEnd) && !quietSince.IsZero() {
			// Nothing moves but the lifecycle, whose runs are atomic on
			// the clock: fewer samples see as much.
			step = tailSampleEvery
		}
		target := now.Add(step)
		if next < len(acts) {
			if at := o.start.Add(acts[next].at); at.Before(target) {
				target = at
			}
		}
		if now.Before(tailEnd) && tailEnd.Before(target) {
			target = tailEnd
		}
		r.env.Cloud.Clock.AdvanceTo(target)
		w = o.sample()
		if next < len(acts) {
			continue
		}
		if !c.quiet(w) {
			quietSince = time.Time{}
			if w.at.After(deadline) {
				o.fail(invQuiesced, "", "", "still not quiet %s after the last action: %s", quietLimit, c.busy(w))
				break
			}
			continue
		}
		if quietSince.IsZero() {
			quietSince = w.at
		}
		if w.at.Sub(quietSince) < quietFor {
			continue
		}
		if tailEnd.IsZero() {
			tailEnd = w.at.Add(tail)
		}
		if !w.at.Before(tailEnd) {
			break
		}
	}
	o.finish(w)
}

// quiet reports whether nothing is happening: no execution running, no
// refresh, every group at its desired capacity with nothing coming or
// going.
func (c *campaign) quiet(w world) bool {
	for _, e := range w.execs {
		if e.status == sfntypes.ExecutionStatusRunning {
			return false
		}
	}
	for name, g := range w.groups {
		if len(g.active()) > 0 {
			return false
		}
		// A group pinned to an image that cannot serve (docs/design.md,
		// "Pinned") launches it when it scales out and never reaches its
		// desired capacity: that is the documented price of a version
		// nobody could validate, not something that will settle.
		if (g.inService != g.desired || len(g.instances) != g.desired) && c.obs.pinnedBroken(w, name) == nil {
			return false
		}
	}
	return true
}

// busy says what keeps the scenario from being quiet.
func (c *campaign) busy(w world) string {
	var out []string
	for _, arn := range sortedExecs(w.execs) {
		if e := w.execs[arn]; e.status == sfntypes.ExecutionStatusRunning {
			out = append(out, "execution "+e.name+" running ("+compact(lastStates(c.obs.states(arn), 4))+")")
		}
	}
	for _, g := range c.sc.groups {
		st := w.groups[g.name]
		for _, rf := range st.active() {
			out = append(out, fmt.Sprintf("%s: refresh %s %s", g.name, aws.ToString(rf.InstanceRefreshId), rf.Status))
		}
		if st.inService != st.desired || len(st.instances) != st.desired {
			out = append(out, fmt.Sprintf("%s: %d instances, %d in service, desired %d", g.name, len(st.instances), st.inService, st.desired))
		}
	}
	return strings.Join(out, "; ")
}

func lastStates(path []string, n int) []string {
	if len(path) > n {
		return path[len(path)-n:]
	}
	return path
}

// do plays one action. Every call goes to the models in process, so that
// the scenario's own API faults never refuse the scenario's steps.
func (c *campaign) do(t *testing.T, a action) {
	r, o := c.r, c.obs
	switch a.kind {
	case actStart:
		if _, err := r.env.Cloud.StepFunctions.StartExecution(o.ctx, &sfn.StartExecutionInput{
			StateMachineArn: aws.String(r.machine), Name: aws.String(a.id), Input: aws.String(request(a.id, a.group, c.images[a.id])),
		}); err != nil {
			t.Fatalf("start rollout %s: %v", a.id, err)
		}
	case actPublish:
		// Not available at once: EC2 announces it with its "EC2 AMI State
		// Change" event when it becomes available, and the publishing
		// path takes it from there.
		id, err := r.env.Cloud.World.AddImage(region, sim.ImageSpec{Name: a.id, Tags: map[string]string{
			"phoenix:role": c.sc.group(a.group).role, "phoenix-sim:behavior": behaviourTag(a.image),
		}})
		if err != nil {
			t.Fatalf("publish image %s: %v", a.id, err)
		}
		o.labels[id] = a.image
	case actAlarm:
		if _, err := r.env.Cloud.CloudWatch.SetAlarmState(o.ctx, &cloudwatch.SetAlarmStateInput{
			AlarmName: aws.String(a.id), StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("soak: " + a.id + " breached its threshold"),
		}); err != nil {
			t.Fatalf("set alarm %s: %v", a.id, err)
		}
	case actHalt, actResume:
		var key rollout.GroupKey
		if a.group != "" {
			key = rollout.GroupKey{Region: region, Name: a.group}
		}
		l := ledger.New(o.db, r.table).WithLogger(slog.New(slog.DiscardHandler))
		var err error
		if a.kind == actHalt {
			err = l.SetHalt(r.ctx, rollout.Halt{Group: key, Reason: "soak scenario " + fmt.Sprint(c.sc.seed), By: "soak", At: r.env.Now()})
		} else {
			err = l.ClearHalt(r.ctx, key)
		}
		if err != nil {
			t.Fatalf("%s: %v", a.describe(c.sc), err)
		}
	case actFault:
		rule := a.fault
		rule.ID = a.id
		switch {
		case strings.HasPrefix(rule.Target, "tg:"):
			rule.Target = o.fleets[strings.TrimPrefix(rule.Target, "tg:")].targetGroup
		case strings.HasSuffix(rule.Target, "Function"):
			fn, ok := r.stack.Resources[rule.Target]
			if !ok {
				t.Fatalf("the stack has no %s", rule.Target)
			}
			rule.Target = fn.PhysicalID
		}
		if _, err := r.env.Cloud.Faults.Add(rule); err != nil {
			t.Fatalf("%s: %v", a.describe(c.sc), err)
		}
		if a.group != "" {
			o.activeFaults[a.id] = a.group
		}
	case actHeal:
		for _, rule := range r.env.Cloud.Faults.Rules() {
			if rule.ID == a.id {
				c.firedRules = append(c.firedRules, rule)
			}
		}
		r.env.Cloud.Faults.Remove(a.id)
		delete(o.activeFaults, a.id)
	case actScale:
		// Capacity changed on purpose: the floor the invariant holds
		// Phoenix to moves with it, and instances launched to reach it
		// take their time to be healthy.
		o.taint(a.group, fmt.Sprintf("desired capacity set to %d", a.size), r.env.Now())
		if _, err := r.env.Cloud.World.AutoScaling().UpdateAutoScalingGroup(o.ctx, &autoscaling.UpdateAutoScalingGroupInput{
			AutoScalingGroupName: aws.String(a.group), MinSize: aws.Int32(int32(a.size)), DesiredCapacity: aws.Int32(int32(a.size)),
		}); err != nil {
			t.Fatalf("%s: %v", a.describe(c.sc), err)
		}
	case actChaos, actCalm:
		rule := ""
		if a.rule == ruleLifecycle {
			rule = c.lifecycleRule(t)
		}
		if err := r.env.Cloud.EventBridge.SetChaos(rule, a.chaos); err != nil {
			t.Fatalf("%s: %v", a.describe(c.sc), err)
		}
	case actHandDefault, actUndoDefault, actHandLaunch, actHandTerminate, actKeep, actReroll:
		c.hand(t, a)
	}
}

// outcome writes what the scenario came to, for the determinism check and
// for a failing seed's report: every execution's path, every rollout's
// record, every group's end state, and the checks made.
func (c *campaign) outcome() string {
	o := c.obs
	w := o.read()
	var b strings.Builder
	for _, arn := range sortedExecs(w.execs) {
		e := w.execs[arn]
		kind := "rollout"
		if e.machine != c.r.machine {
			kind = "campaign"
		}
		fmt.Fprintf(&b, "  %s %s %s: %s\n", kind, e.name, e.status, compact(o.states(arn)))
	}
	for _, id := range sortedRollouts(w.ledger.rollouts) {
		rec := w.ledger.rollouts[id]
		fmt.Fprintf(&b, "  ledger %s: %s %s %s, version %d to %d (%s)", id, rec.group, rec.mode, rec.status, rec.from.number, rec.to.number, o.labels[rec.to.image])
		if rec.reason != "" {
			fmt.Fprintf(&b, ": %s", firstLine(rec.reason, 160))
		}
		b.WriteString("\n")
	}
	for _, g := range c.sc.groups {
		st := w.groups[g.name]
		images := map[string]int{}
		for _, in := range st.instances {
			images[in.image]++
		}
		lkg := w.ledger.lkg[g.name]
		fmt.Fprintf(&b, "  group %s: version %s, default %d, last-known-good %d, %d healthy in service, instances %s\n",
			g.name, st.version, st.defaultVersion, lkg.number, st.healthy, o.labelled(images))
	}
	b.WriteString(c.lifecycleOutcome(w))
	fmt.Fprintf(&b, "  %d checks over %d samples, %d violations\n", o.checks, o.samples, len(o.violations))
	return b.String()
}

func firstLine(s string, n int) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > n {
		s = s[:n] + "..."
	}
	return s
}

// fired writes how often each fault of the scenario fired.
func (c *campaign) fired() string {
	rules := append([]faults.Rule(nil), c.firedRules...)
	rules = append(rules, c.r.env.Cloud.Faults.Rules()...)
	var b strings.Builder
	for _, rule := range rules {
		on := rule.Service + ":" + rule.Operation
		if !rule.Kind.API() {
			on = rule.Target
		}
		fmt.Fprintf(&b, "  fault %s (%s on %s): fired %d of %d matching calls\n", rule.ID, rule.Kind, on, rule.Fired, rule.Calls)
	}
	return b.String()
}
