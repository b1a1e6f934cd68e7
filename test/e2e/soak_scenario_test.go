package e2e

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/eventbus"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
)

// A fault campaign (docs/soak.md) runs one scenario per seed: a few groups
// with their policies, images rolled into them by StartExecution or by
// publishing, and faults injected at chosen instants. generate is a pure
// function of the seed, so that a failing seed replays exactly; the
// scenario is printed as a plan at the start of a failing run.

// behaviour labels of the images a scenario rolls. Each but flaky is the
// image's phoenix-sim:behavior tag; a flaky image is a healthy one whose
// group's health checks fail now and then while it rolls (a health-flap
// fault on the group's target group).
const (
	behHealthy  = "healthy"
	behBad      = "unhealthy"
	behNoLaunch = "fail-launch"
	behSlow     = "slow-boot"
	behFlaky    = "flaky"
	behDegrade  = "degrade-after:" // + seconds
)

// groupPlan is a group a scenario makes before anything else happens.
type groupPlan struct {
	name string
	size int
	// version is the launch template version the group is created on.
	version string
	// role is the group's phoenix:role: a published image with the same
	// role rolls into it (two groups may share one).
	role string
	// tags are the policy tags laid over defaultTags ("" values remove a
	// default, so that the template's default applies).
	tags map[string]string
	// alarm is the CloudWatch alarm the group lists in phoenix:alarms, ""
	// if none.
	alarm string
	// recycled groups carry phoenix:recycle=true and a max age their
	// instances pass before the nightly recycle (03:00) looks at them.
	recycled bool
	// shares, when set, names the group whose launch template this group
	// launches from too (it has none of its own).
	shares string
}

// actionKind is what a scenario does at an instant.
type actionKind string

const (
	actStart   actionKind = "start"   // StartExecution of an image rollout
	actPublish actionKind = "publish" // register an AMI with the group's role: the publishing path rolls it
	actAlarm   actionKind = "alarm"   // SetAlarmState ALARM
	actHalt    actionKind = "halt"    // the ledger's halt flag set
	actResume  actionKind = "resume"  // the halt flag cleared
	actFault   actionKind = "fault"   // a fault rule installed
	actHeal    actionKind = "heal"    // the fault rule removed
	actChaos   actionKind = "chaos"   // EventBridge delivery chaos on
	actCalm    actionKind = "calm"    // EventBridge delivery chaos off
	actScale   actionKind = "scale"   // the group's desired (and minimum) capacity set to size, as a person or a schedule would
	// The operator's hand on what the image lifecycle retires
	// (soak_lifecycle_test.go).
	actHandDefault   actionKind = "hand-default"   // an old version of the group's launch template set as its default
	actUndoDefault   actionKind = "undo-default"   // the default put back to last-known-good
	actHandLaunch    actionKind = "hand-launch"    // an instance launched by hand from an old image, in no group
	actHandTerminate actionKind = "hand-terminate" // that instance terminated
	actKeep          actionKind = "keep"           // phoenix:keep=true on an old image, or on the group's launch template
	actReroll        actionKind = "reroll"         // an image an ended rollout rolled, rolled again by StartExecution
)

// action is one step of a scenario.
type action struct {
	at   time.Duration // after the fleet is up
	kind actionKind
	// group is the group an action is about ("" for a global halt, and
	// for faults and chaos that are not about one group).
	group string
	// image is the behaviour label of the image of actStart/actPublish.
	image string
	// id is the rollout id of actStart, the image name of actPublish, and
	// the key that pairs actFault/actHeal, actChaos/actCalm and
	// actHalt/actResume.
	id string
	// fault is the rule of actFault; its Target is a function's logical
	// id for function faults, "tg:<group>" for a group's target group and
	// a group name for capacity faults, resolved when the rig exists.
	fault faults.Rule
	// chaos is the delivery chaos of actChaos; rule names the one rule it
	// is for (ruleLifecycle: the image lifecycle's schedule), "" for every
	// rule.
	chaos eventbus.Chaos
	rule  string
	// size is the capacity of actScale.
	size int
}

// soakClockStart is the simulated instant every scenario's cloud starts at:
// early enough in the night that the template's nightly recycle
// (cron(0 3 * * ? *), jittered up to 30 minutes) falls among the actions.
var soakClockStart = time.Date(2026, time.January, 5, 1, 30, 0, 0, time.UTC)

// scenario is what one seed does.
type scenario struct {
	seed   uint64
	groups []groupPlan
	// actions, in the order of their instants (stable for equal ones).
	actions []action
	// sampleEvery is how often the fleet is sampled for the invariants
	// about "never" while the scenario runs.
	sampleEvery time.Duration
	// lifecycle is how the stack's image lifecycle runs.
	lifecycle lifecyclePlan
}

// Choices of the generator. Checkpoint delays are 90 s or more, so that
// the fallback poll finds a checkpoint whose event is lost in its pause
// (docs/design.md, "The Await timeout"), and warmups cover the
// application's start (healthy targets 90 s after launch), as the README
// asks of users.
var (
	groupNames      = []string{"alpha", "bravo", "charlie"}
	groupSizes      = []int{1, 2, 2, 4, 4, 6}
	checkpointTags  = []string{"", "25,50,100", "50,100", "100", "20,40,60,80,100", "33,66"}
	minHealthyTags  = []string{"", "100", "90", "75", "50", "0"}
	maxHealthyTags  = []string{"", "100", "110", "150", "200"}
	warmupTags      = []string{"", "120", "180"}
	delayTags       = []string{"120", "300", "600"}
	bakeTags        = []string{"0", "120", "300"}
	guardWindowTags = []string{"", "1800", "3600"}
	degradeSeconds  = []int{120, 600, 1800}
	// faultCalls are the calls Phoenix makes that an API fault may hit.
	faultCalls = [][2]string{
		{"autoscaling", "StartInstanceRefresh"}, {"autoscaling", "DescribeInstanceRefreshes"},
		{"autoscaling", "DescribeAutoScalingGroups"}, {"autoscaling", "RollbackInstanceRefresh"},
		{"autoscaling", "CancelInstanceRefresh"}, {"autoscaling", "UpdateAutoScalingGroup"},
		{"ec2", "CreateLaunchTemplateVersion"}, {"ec2", "ModifyLaunchTemplate"},
		{"ec2", "DescribeLaunchTemplateVersions"}, {"ec2", "DescribeImages"}, {"ec2", "RunInstances"},
		{"elasticloadbalancing", "DescribeTargetHealth"}, {"monitoring", "DescribeAlarms"},
		{"dynamodb", "PutItem"}, {"dynamodb", "UpdateItem"}, {"dynamodb", "GetItem"}, {"dynamodb", "Query"},
		{"dynamodb", "DeleteItem"}, {"states", "SendTaskSuccess"}, {"states", "StartExecution"},
		{"sns", "Publish"}, {"events", "PutEvents"}, {"*", "*"},
	}
	// faultFunctions are the functions (logical ids in template.yaml) a
	// crash or a timeout may hit.
	faultFunctions = []string{
		"PrepareFunction", "StartRefreshFunction", "AwaitFunction", "RefreshEventsFunction", "PollFunction",
		"ValidateFunction", "FinalizeFunction", "RevertFunction", "DirtyFunction", "ImagePublishedFunction",
		"AlarmEventsFunction",
	}
)

// generate draws seed's scenario. It must stay a pure function of the
// seed: a replay is only a replay if the plan is the same.
func generate(seed uint64) scenario {
	rng := rand.New(rand.NewPCG(seed, 0x50a4))
	pick := func(n int) int { return rng.IntN(n) }
	chance := func(p float64) bool { return rng.Float64() < p }
	minutes := func(lo, hi int) time.Duration { return time.Duration(lo+pick(hi-lo+1)) * time.Minute }
	sc := scenario{seed: seed, sampleEvery: time.Duration(30+pick(31)) * time.Second}

	for i := range 1 + pick(3) {
		g := groupPlan{name: groupNames[i], size: groupSizes[pick(len(groupSizes))], version: "1", role: groupNames[i]}
		switch pick(10) {
		case 0:
			g.version = "$Latest"
		case 1:
			g.version = "$Default"
		}
		g.tags = map[string]string{
			"phoenix:checkpoints":      checkpointTags[pick(len(checkpointTags))],
			"phoenix:min-healthy":      minHealthyTags[pick(len(minHealthyTags))],
			"phoenix:max-healthy":      maxHealthyTags[pick(len(maxHealthyTags))],
			"phoenix:warmup":           warmupTags[pick(len(warmupTags))],
			"phoenix:checkpoint-delay": delayTags[pick(len(delayTags))],
			"phoenix:bake":             bakeTags[pick(len(bakeTags))],
			"phoenix:guard-window":     guardWindowTags[pick(len(guardWindowTags))],
		}
		if chance(0.5) {
			g.alarm = g.name + "-guard"
			g.tags["phoenix:alarms"] = g.alarm
		}
		if chance(0.3) {
			g.recycled = true
			g.tags["phoenix:recycle"] = "true"
			g.tags["phoenix:max-age"] = []string{"1h", "90m"}[pick(2)]
		}
		sc.groups = append(sc.groups, g)
	}
	// Two groups share a role now and then, so that one published image
	// runs a campaign over both.
	if len(sc.groups) > 1 && chance(0.3) {
		sc.groups[1].role = sc.groups[0].role
	}

	behaviour := func() string {
		switch x := pick(100); {
		case x < 45:
			return behHealthy
		case x < 57:
			return behBad
		case x < 67:
			return behNoLaunch
		case x < 77:
			return behSlow
		case x < 87:
			return behFlaky
		default:
			return fmt.Sprintf("%s%d", behDegrade, degradeSeconds[pick(len(degradeSeconds))])
		}
	}
	add := func(a action) { sc.actions = append(sc.actions, a) }
	// Faults, alarms and halts land near a rollout (up to 40 minutes
	// after one starts), where they meet Phoenix at work: at any instant
	// of a long idle stretch they would mostly find nothing to break.
	var rolloutTimes []time.Duration
	near := func() time.Duration { return rolloutTimes[pick(len(rolloutTimes))] + minutes(0, 40) }
	// roll rolls an image into g at at, by StartExecution or by
	// publishing it; a flaky image comes with its health flaps.
	roll := func(g groupPlan, at time.Duration, n string) {
		a := action{at: at, kind: actStart, group: g.name, image: behaviour(), id: fmt.Sprintf("soak-%d-%s", seed, n)}
		if chance(0.4) {
			a.kind, a.id = actPublish, fmt.Sprintf("%s-pub%s", g.role, n)
		}
		add(a)
		if a.image == behFlaky {
			add(action{at: at + minutes(1, 10), kind: actFault, group: g.name, id: "flap-" + a.id, fault: faults.Rule{
				Kind: faults.HealthFlap, Target: "tg:" + g.name, Probability: []float64{0.1, 0.2, 0.3}[pick(3)], Times: 3 + pick(10),
			}})
			add(action{at: at + minutes(20, 45), kind: actHeal, id: "flap-" + a.id})
		}
	}
	rollouts := 1 + pick(4)
	for i := range rollouts {
		g := sc.groups[pick(len(sc.groups))]
		at := minutes(0, 150)
		if i == 0 {
			at = minutes(0, 20) // every scenario rolls something early
		}
		roll(g, at, fmt.Sprint(i+1))
		rolloutTimes = append(rolloutTimes, at)
		// A second image for the same group a moment later: the lease,
		// the gate and supersede decide which runs.
		if chance(0.25) {
			roll(g, at+minutes(0, 10), fmt.Sprintf("%db", i+1))
		}
	}
	for _, g := range sc.groups {
		if g.alarm == "" {
			continue
		}
		for range pick(3) {
			add(action{at: near(), kind: actAlarm, group: g.name, id: g.alarm})
		}
	}
	if chance(0.2) {
		a := action{at: near(), kind: actHalt, id: "halt"}
		if chance(0.7) {
			a.group = sc.groups[pick(len(sc.groups))].name
		}
		add(a)
		add(action{at: a.at + minutes(5, 90), kind: actResume, group: a.group, id: "halt"})
	}
	window := func(id string, r faults.Rule, group string) {
		at := near()
		add(action{at: at, kind: actFault, group: group, id: id, fault: r})
		add(action{at: at + minutes(10, 60), kind: actHeal, id: id})
	}
	if chance(0.5) {
		for i := range 1 + pick(2) {
			call := faultCalls[pick(len(faultCalls))]
			kind := faults.Throttle
			if chance(0.4) {
				kind = faults.ServerError
			}
			window(fmt.Sprintf("api-%d", i+1), faults.Rule{
				Kind: kind, Service: call[0], Operation: call[1],
				// Probability 1 for 30 calls outlasts the SDK's three tries
				// and the state machine's six attempts: the step fails.
				Probability: []float64{0.1, 0.25, 0.5, 1}[pick(4)], Times: []int{3, 10, 30}[pick(3)],
			}, "")
		}
	}
	if chance(0.35) {
		for i := range 1 + pick(2) {
			kind := faults.FunctionCrash
			if chance(0.5) {
				kind = faults.FunctionTimeout
			}
			window(fmt.Sprintf("fn-%d", i+1), faults.Rule{
				Kind: kind, Target: faultFunctions[pick(len(faultFunctions))],
				Probability: []float64{0.2, 0.5, 1}[pick(3)], Times: 1 + pick(4),
			}, "")
		}
	}
	if chance(0.25) {
		g := sc.groups[pick(len(sc.groups))]
		kind := faults.InsufficientCapacity
		if chance(0.4) {
			kind = faults.LaunchFailure
		}
		window("capacity", faults.Rule{Kind: kind, Target: g.name, Probability: []float64{0.3, 1}[pick(2)], Times: 1 + pick(8)}, g.name)
	}
	if chance(0.35) {
		at := near()
		c := eventbus.Chaos{
			Drop:      []float64{0, 0.3, 1}[pick(3)],
			Duplicate: []float64{0, 0.5, 1}[pick(3)],
			Delay:     []float64{0, 0.5, 1}[pick(3)],
			MaxDelay:  minutes(1, 10),
		}
		add(action{at: at, kind: actChaos, id: "chaos", chaos: c})
		add(action{at: at + minutes(10, 90), kind: actCalm, id: "chaos"})
	}
	emptyGroups(seed, &sc, rolloutTimes)
	lifecycleRuns(seed, &sc, rolloutTimes)
	slices.SortStableFunc(sc.actions, func(a, b action) int { return int(a.at - b.at) })
	return sc
}

// emptyGroups draws the ingredients of the defect of a group with no
// instance (docs/soak.md): groups that launch from another group's launch
// template, groups at desired capacity 0, and groups scaled to and from 0
// while rollouts run. They come from a stream of their own, so that every
// other draw of a seed is what it was before they were added.
func emptyGroups(seed uint64, sc *scenario, rolloutTimes []time.Duration) {
	rng := rand.New(rand.NewPCG(seed, 0x0e3b7))
	pick := func(n int) int { return rng.IntN(n) }
	chance := func(p float64) bool { return rng.Float64() < p }
	minutes := func(lo, hi int) time.Duration { return time.Duration(lo+pick(hi-lo+1)) * time.Minute }
	if n := len(sc.groups); n > 1 && chance(0.35) {
		// The last group launches from the first group's template, on a
		// numbered version (a $Latest group would launch the other
		// group's new versions by itself: pitfall 1, the user's doing).
		g := &sc.groups[n-1]
		g.shares, g.version = sc.groups[0].name, "1"
		if chance(0.6) {
			g.role = sc.groups[0].role
		}
	}
	if chance(0.2) {
		sc.groups[pick(len(sc.groups))].size = 0
	}
	if chance(0.3) {
		g := sc.groups[pick(len(sc.groups))]
		to := 0
		if g.size == 0 {
			to = 2
		}
		at := rolloutTimes[pick(len(rolloutTimes))] + minutes(0, 30)
		sc.actions = append(sc.actions,
			action{at: at, kind: actScale, group: g.name, id: "scale", size: to},
			action{at: at + minutes(5, 60), kind: actScale, group: g.name, id: "scale", size: g.size})
	}
}

// group returns the plan of the named group.
func (sc scenario) group(name string) groupPlan {
	for _, g := range sc.groups {
		if g.name == name {
			return g
		}
	}
	return groupPlan{}
}

// groupsOfRole lists the groups with the role, by name.
func (sc scenario) groupsOfRole(role string) []string {
	var out []string
	for _, g := range sc.groups {
		if g.role == role {
			out = append(out, g.name)
		}
	}
	return out
}

// horizon is the instant of the last action.
func (sc scenario) horizon() time.Duration {
	if len(sc.actions) == 0 {
		return 0
	}
	return sc.actions[len(sc.actions)-1].at
}

// String writes the plan, one line per group and per action.
func (sc scenario) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d: %d groups, %d actions until +%s, fleet sampled every %s\n",
		sc.seed, len(sc.groups), len(sc.actions), sc.horizon(), sc.sampleEvery)
	for _, g := range sc.groups {
		var tags []string
		for _, k := range sortedKeys(g.tags) {
			v := g.tags[k]
			if v == "" {
				v = "(template default)"
			}
			tags = append(tags, strings.TrimPrefix(k, "phoenix:")+"="+v)
		}
		template := "its own launch template"
		if g.shares != "" {
			template = g.shares + "'s launch template"
		}
		fmt.Fprintf(&b, "  group %s: %d instances on version %s of %s, role %s; %s\n",
			g.name, g.size, g.version, template, g.role, strings.Join(tags, " "))
	}
	fmt.Fprintf(&b, "  %s\n", sc.lifecycle)
	for _, a := range sc.actions {
		fmt.Fprintf(&b, "  +%-9s %s\n", a.at, a.describe(sc))
	}
	return b.String()
}

// describe writes an action as a sentence.
func (a action) describe(sc scenario) string {
	switch a.kind {
	case actStart:
		return fmt.Sprintf("start rollout %s of %s image on %s (StartExecution)", a.id, article(a.image), a.group)
	case actPublish:
		role := sc.group(a.group).role
		return fmt.Sprintf("publish %s, %s image of role %s (groups %s)", a.id, article(a.image), role, strings.Join(sc.groupsOfRole(role), ", "))
	case actAlarm:
		return fmt.Sprintf("alarm %s of %s into ALARM", a.id, a.group)
	case actHalt:
		if a.group == "" {
			return "halt every group"
		}
		return "halt " + a.group
	case actResume:
		if a.group == "" {
			return "clear the global halt"
		}
		return "clear the halt of " + a.group
	case actFault:
		r := a.fault
		what := string(r.Kind)
		if r.Kind.API() {
			what += " " + r.Service + ":" + r.Operation
		} else {
			what += " on " + r.Target
		}
		return fmt.Sprintf("fault %s: %s, probability %.2f, at most %d times", a.id, what, r.Probability, r.Times)
	case actHeal:
		return "remove fault " + a.id
	case actChaos:
		c, on := a.chaos, "every rule"
		if a.rule != "" {
			on = "the " + a.rule + " rule"
		}
		return fmt.Sprintf("EventBridge chaos on %s: drop %.1f, duplicate %.1f, delay %.1f up to %s", on, c.Drop, c.Duplicate, c.Delay, c.MaxDelay)
	case actCalm:
		if a.rule != "" {
			return "EventBridge chaos off on the " + a.rule + " rule"
		}
		return "EventBridge chaos off"
	case actHandDefault, actUndoDefault, actHandLaunch, actHandTerminate, actKeep, actReroll:
		return a.describeHand()
	case actScale:
		return fmt.Sprintf("set the desired capacity of %s to %d", a.group, a.size)
	}
	return string(a.kind)
}

// behaviourTag is the phoenix-sim:behavior tag of an image of the label.
func behaviourTag(label string) string {
	if label == behFlaky {
		return behHealthy
	}
	return label
}

// brokenFor reports whether instances of an image of the label never
// serve (or stop serving), so that a rollout of it must not finalize
// once they are seen failing: unhealthy, fail-launch and degrading
// images. Slow-boot and flaky images do serve in the end.
func brokenFor(label string) bool {
	return label == behBad || label == behNoLaunch || strings.HasPrefix(label, behDegrade)
}

// article writes a label with its indefinite article.
func article(label string) string {
	if strings.ContainsRune("aeiou", rune(label[0])) {
		return "an " + label
	}
	return "a " + label
}
