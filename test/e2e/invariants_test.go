package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"

	"github.com/phoenix-rollouts/phoenix/shared/ledger"
	"github.com/phoenix-rollouts/phoenix/shared/lifecycle"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
	"github.com/phoenix-rollouts/phoenix/test/localcloud"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

// The invariants a fault campaign holds Phoenix to (docs/soak.md). The
// ones about "never" are checked on every sample of the fleet while the
// scenario runs; the rest once it has quiesced. Every read goes to the
// local cloud's models in process (and to dynalite directly), never
// through the HTTP endpoint: the scenario's API faults must hit Phoenix's
// calls only, and must not draw from the fault injector's random source
// for the observer's reads, which would change what Phoenix meets.
const (
	invEnded          = "rollouts-end"          // finalized, pinned, reverted, refused or dirty, with a reason when not finalized; campaigns completed or stopped
	invNotified       = "end-notified"          // a notification for each end
	invQuiesced       = "quiesced"              // no execution still running once the scenario is quiet
	invOneAtATime     = "one-rollout-per-group" // never two rollouts in flight, never two active refreshes
	invLease          = "lease-owner-running"   // never a lease held by a finished execution
	invToken          = "no-parked-task-left"   // no parked task token (nor open task) for a rollout the ledger ended
	invDefaultVersion = "default-version"       // a template's default is its first, or a version validated, not vacuously, on every group using the template
	invCapacity       = "healthy-capacity"      // never below the policy floor unless a fault forces it, and then a revert
	invLedgerAgrees   = "ledger-agrees"         // the ledger and AWS agree at the end
	invInUseKept      = "in-use-kept"           // nothing in use is retired: no version deleted, no AMI deregistered, disabled or deprecated (bar a re-use until the next run)
	invRollbacks      = "rollbacks-launch"      // a launch from last-known-good and from each rollback-history version would succeed at the end
	invLogged         = "lifecycle-logged"      // every version gone and every AMI deregistered at the end is in the lifecycle's log, done
)

// invariantNames lists them for reports.
var invariantNames = []string{invEnded, invNotified, invQuiesced, invOneAtATime, invLease, invToken, invDefaultVersion, invCapacity, invLedgerAgrees,
	invInUseKept, invRollbacks, invLogged}

// taintGrace is how long a fault's effect on a group's capacity is
// allowed to last after the last sign of the fault: replacements launch,
// boot (30 s) and pass health checks (another 60 s and two checks), and a
// rollback or a refresh back runs one batch at a time.
const taintGrace = 15 * time.Minute

// readyAfter is how long after launch an instance of a healthy image is
// healthy in its target group: 30 s pending, 60 s until the application
// answers, two checks 10 s apart, and a margin.
const readyAfter = 3 * time.Minute

// violation is one broken invariant: which, about what, when.
type violation struct {
	inv     string
	group   string
	rollout string
	at      time.Time
	msg     string
	// count is how many samples showed it (a capacity dip lasts).
	count int
}

func (v violation) key() string { return v.inv + "|" + v.group + "|" + v.rollout + "|" + v.msg }

// observer reads the world and holds Phoenix to the invariants.
type observer struct {
	r     *rig
	sc    scenario
	ctx   context.Context // an in-process request context
	db    *dynamodb.Client
	start time.Time
	// fleets are the groups made, by name.
	fleets map[string]fleet
	// labels maps every image id the scenario made to its behaviour label.
	labels map[string]string
	// initialDefault is each group's launch template default version
	// before any rollout.
	initialDefault map[string]int64
	// lkgSeen holds every last-known-good version each group had.
	lkgSeen map[string]map[int64]bool
	// validated caches versions found validated (a Finalize entered for a
	// rollout to them), by group.
	validated map[string]map[int64]bool
	// served holds, by group, every image an in-service instance of the
	// group was seen serving healthy in its target group: the observer's
	// own evidence that a validation there judged something.
	served map[string]map[string]bool
	// taints holds, by group, when each cause that may force its capacity
	// down was last seen.
	taints map[string]map[string]time.Time
	// activeFaults holds the group-scoped fault rules installed, by id,
	// with the group they touch.
	activeFaults map[string]string
	// mustNotFinalize holds, by rollout id, why it may not end finalized:
	// its own broken instances took capacity below the floor.
	mustNotFinalize map[string]string
	// closedTokens are parked tokens whose tasks were found closed.
	closedTokens map[string]bool
	// handDefault holds, by launch template, the version an operator made
	// its default by hand, until they put it back.
	handDefault map[string]int64
	// keptVersions holds, by launch template, the versions it had when an
	// operator tagged it phoenix:keep=true.
	keptVersions map[string]map[int64]bool
	// handInstance is the instance an operator launched by hand, "" if none
	// runs.
	handInstance string
	// inUse follows, by AMI, the current stretch of samples in which
	// something needs it.
	inUse map[string]*useTrack
	// campaignImages caches the image each campaign execution rolls.
	campaignImages map[string]string
	// versionsSeen holds every version of the scenario's launch templates
	// a sample saw.
	versionsSeen map[string]map[int64]bool

	violations []*violation
	seen       map[string]*violation
	samples    int
	checks     int
}

func newObserver(r *rig, sc scenario) *observer {
	return &observer{
		r: r, sc: sc,
		ctx:             api.WithRequest(r.ctx, api.Request{Region: region, Account: r.env.Cloud.World.Account()}),
		db:              dynamodb.NewFromConfig(localcloud.ClientConfig(r.env.Cloud.DynamoDB.Endpoint(), region)),
		fleets:          map[string]fleet{},
		labels:          map[string]string{},
		initialDefault:  map[string]int64{},
		lkgSeen:         map[string]map[int64]bool{},
		validated:       map[string]map[int64]bool{},
		served:          map[string]map[string]bool{},
		taints:          map[string]map[string]time.Time{},
		activeFaults:    map[string]string{},
		mustNotFinalize: map[string]string{},
		closedTokens:    map[string]bool{},
		handDefault:     map[string]int64{},
		keptVersions:    map[string]map[int64]bool{},
		inUse:           map[string]*useTrack{},
		campaignImages:  map[string]string{},
		versionsSeen:    map[string]map[int64]bool{},
		seen:            map[string]*violation{},
	}
}

// fail records a violation once; a repeat counts.
func (o *observer) fail(inv, group, rolloutID, format string, args ...any) {
	v := &violation{inv: inv, group: group, rollout: rolloutID, at: o.r.env.Now(), msg: fmt.Sprintf(format, args...), count: 1}
	if old, ok := o.seen[v.key()]; ok {
		old.count++
		return
	}
	o.seen[v.key()] = v
	o.violations = append(o.violations, v)
}

// check counts one invariant check and records a violation if !ok.
func (o *observer) check(ok bool, inv, group, rolloutID, format string, args ...any) {
	o.checks++
	if !ok {
		o.fail(inv, group, rolloutID, format, args...)
	}
}

// String writes a violation with the simulated time, also as an offset
// from the start of the scenario.
func (o *observer) describe(v *violation) string {
	var about []string
	if v.group != "" {
		about = append(about, "group "+v.group)
	}
	if v.rollout != "" {
		about = append(about, "rollout "+v.rollout)
	}
	s := fmt.Sprintf("[%s] %s at %s (+%s): %s", v.inv, strings.Join(about, ", "), v.at.UTC().Format(time.RFC3339), v.at.Sub(o.start), v.msg)
	if v.count > 1 {
		s += fmt.Sprintf(" (seen in %d samples)", v.count)
	}
	return s
}

// ledgerRec is a rollout record as the ledger holds it.
type ledgerRec struct {
	id, group, mode, status, reason, execARN, refreshID string
	from, to                                            verRec
	token                                               string
	startedAt, endedAt                                  time.Time
	steps                                               []string
}

type verRec struct {
	number int64
	image  string
	// rollout is the rollout that made a last-known-good.
	rollout string
}

type leaseRec struct {
	owner, execARN string
	expiresAt      time.Time
}

// ledgerView is the whole ledger table, read at once.
type ledgerView struct {
	rollouts map[string]ledgerRec
	leases   map[string]leaseRec
	lkg      map[string]verRec
	// queued are the images waiting for each group's rollout to end (the
	// publishing queue), with when the wait expires.
	queued map[string]queuedRec
}

type queuedRec struct {
	image     string
	expiresAt time.Time
}

// ledger scans the table, strongly consistent, straight from dynalite.
func (o *observer) ledger() ledgerView {
	o.r.t.Helper()
	v := ledgerView{rollouts: map[string]ledgerRec{}, leases: map[string]leaseRec{}, lkg: map[string]verRec{}, queued: map[string]queuedRec{}}
	p := dynamodb.NewScanPaginator(o.db, &dynamodb.ScanInput{TableName: aws.String(o.r.table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(o.ctx)
		if err != nil {
			o.r.t.Fatalf("scan the ledger: %v", err)
		}
		for _, it := range page.Items {
			pk, sk := s(it["pk"]), s(it["sk"])
			switch {
			case strings.HasPrefix(pk, "ROLLOUT#") && sk == "META":
				rec := ledgerRec{
					id: s(it["rolloutId"]), group: s(it["group"]), mode: s(it["mode"]), status: s(it["status"]),
					reason: s(it["reason"]), execARN: s(it["executionArn"]), refreshID: s(it["refreshId"]),
					from: version(it["from"]), to: version(it["to"]), token: s(it["token"]),
					startedAt: ledgerTime(it["startedAt"]), endedAt: ledgerTime(it["endedAt"]),
				}
				if l, ok := it["steps"].(*ddbtypes.AttributeValueMemberL); ok {
					for _, st := range l.Value {
						if m, ok := st.(*ddbtypes.AttributeValueMemberM); ok {
							rec.steps = append(rec.steps, s(m.Value["key"]))
						}
					}
				}
				v.rollouts[rec.id] = rec
			case strings.HasPrefix(pk, "GROUP#") && sk == "LEASE":
				v.leases[groupOfKey(pk)] = leaseRec{owner: s(it["owner"]), execARN: s(it["executionArn"]), expiresAt: time.Unix(n(it["expiresAt"]), 0)}
			case strings.HasPrefix(pk, "GROUP#") && sk == "LKG":
				v.lkg[groupOfKey(pk)] = verRec{number: n(it["version"]), image: s(it["imageId"]), rollout: s(it["rolloutId"])}
			case strings.HasPrefix(pk, "GROUP#") && sk == "QUEUED":
				v.queued[groupOfKey(pk)] = queuedRec{image: s(it["imageId"]), expiresAt: time.Unix(n(it["expiresAt"]), 0)}
			}
		}
	}
	return v
}

func version(av ddbtypes.AttributeValue) verRec {
	m, ok := av.(*ddbtypes.AttributeValueMemberM)
	if !ok {
		return verRec{}
	}
	return verRec{number: n(m.Value["version"]), image: s(m.Value["imageId"])}
}

func ledgerTime(av ddbtypes.AttributeValue) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s(av))
	return t
}

// groupOfKey reads the group name of GROUP#<region>#<group>.
func groupOfKey(pk string) string {
	_, rest, _ := strings.Cut(strings.TrimPrefix(pk, "GROUP#"), "#")
	return rest
}

// execution is a state machine execution as ListExecutions shows it.
type execution struct {
	arn, name, machine string
	status             sfntypes.ExecutionStatus
}

// executions lists the executions of the rollout and campaign machines,
// by ARN.
func (o *observer) executions() map[string]execution {
	o.r.t.Helper()
	out := map[string]execution{}
	for _, machine := range []string{o.r.machine, output(o.r.t, o.r.stack, "CampaignStateMachineArn")} {
		in := &sfn.ListExecutionsInput{StateMachineArn: aws.String(machine)}
		for {
			page, err := o.r.env.Cloud.StepFunctions.ListExecutions(o.ctx, in)
			if err != nil {
				o.r.t.Fatalf("list executions: %v", err)
			}
			for _, e := range page.Executions {
				arn := aws.ToString(e.ExecutionArn)
				out[arn] = execution{arn: arn, name: aws.ToString(e.Name), machine: machine, status: e.Status}
			}
			if page.NextToken == nil {
				break
			}
			in.NextToken = page.NextToken
		}
	}
	return out
}

// history returns an execution's events, read in process.
func (o *observer) history(arn string) []sfntypes.HistoryEvent {
	o.r.t.Helper()
	var evs []sfntypes.HistoryEvent
	in := &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn)}
	for {
		page, err := o.r.env.Cloud.StepFunctions.GetExecutionHistory(o.ctx, in)
		if err != nil {
			o.r.t.Fatalf("execution history of %s: %v", arn, err)
		}
		evs = append(evs, page.Events...)
		if page.NextToken == nil {
			return evs
		}
		in.NextToken = page.NextToken
	}
}

// states returns the states an execution entered, in order.
func (o *observer) states(arn string) []string {
	var out []string
	for _, ev := range o.history(arn) {
		if d := ev.StateEnteredEventDetails; d != nil {
			out = append(out, aws.ToString(d.Name))
		}
	}
	return out
}

// instance is one of a group's instances.
type instance struct {
	id, lifecycle, image string
	// version is the launch template version it was launched from, as
	// Auto Scaling shows it (a number, or $Latest/$Default as the group
	// wrote it).
	version  string
	healthy  bool // healthy in the group's target group
	launched time.Time
}

// groupState is a group as Auto Scaling, EC2 and ELB show it.
type groupState struct {
	desired        int
	version        string // the group's launch template version as written
	defaultVersion int64
	instances      []instance
	// healthy counts in-service instances healthy in the target group.
	healthy   int
	inService int
	refreshes []astypes.InstanceRefresh
}

// activeRefreshStatuses are the refresh statuses AWS counts as running:
// a group has at most one such refresh.
var activeRefreshStatuses = []astypes.InstanceRefreshStatus{
	astypes.InstanceRefreshStatusPending, astypes.InstanceRefreshStatusInProgress, astypes.InstanceRefreshStatusCancelling,
	astypes.InstanceRefreshStatusRollbackInProgress, astypes.InstanceRefreshStatusBaking,
}

func (g groupState) active() []astypes.InstanceRefresh {
	var out []astypes.InstanceRefresh
	for _, rf := range g.refreshes {
		if slices.Contains(activeRefreshStatuses, rf.Status) {
			out = append(out, rf)
		}
	}
	return out
}

// group reads one group through the models.
func (o *observer) group(name string) groupState {
	o.r.t.Helper()
	t, f := o.r.t, o.fleets[name]
	out, err := o.r.env.Cloud.World.AutoScaling().DescribeAutoScalingGroups(o.ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})
	if err != nil || len(out.AutoScalingGroups) != 1 {
		t.Fatalf("describe group %s: %v", name, err)
	}
	g := out.AutoScalingGroups[0]
	st := groupState{desired: int(aws.ToInt32(g.DesiredCapacity))}
	if g.LaunchTemplate != nil {
		st.version = aws.ToString(g.LaunchTemplate.Version)
	}
	health, err := o.r.env.Cloud.World.ELB().DescribeTargetHealth(o.ctx, &elasticloadbalancingv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(f.targetGroup)})
	if err != nil {
		t.Fatalf("describe target health of %s: %v", name, err)
	}
	healthy := map[string]bool{}
	for _, d := range health.TargetHealthDescriptions {
		if d.TargetHealth != nil && d.TargetHealth.State == elbtypes.TargetHealthStateEnumHealthy && d.Target != nil {
			healthy[aws.ToString(d.Target.Id)] = true
		}
	}
	var ids []string
	for _, in := range g.Instances {
		ids = append(ids, aws.ToString(in.InstanceId))
	}
	images, launched := map[string]string{}, map[string]time.Time{}
	if len(ids) > 0 {
		d, err := o.r.env.Cloud.World.EC2().DescribeInstances(o.ctx, &ec2.DescribeInstancesInput{InstanceIds: ids})
		if err != nil {
			t.Fatalf("describe instances of %s: %v", name, err)
		}
		for _, res := range d.Reservations {
			for _, in := range res.Instances {
				images[aws.ToString(in.InstanceId)] = aws.ToString(in.ImageId)
				launched[aws.ToString(in.InstanceId)] = aws.ToTime(in.LaunchTime)
			}
		}
	}
	for _, in := range g.Instances {
		id := aws.ToString(in.InstanceId)
		i := instance{id: id, lifecycle: string(in.LifecycleState), image: images[id], healthy: healthy[id], launched: launched[id]}
		if in.LaunchTemplate != nil {
			i.version = aws.ToString(in.LaunchTemplate.Version)
		}
		st.instances = append(st.instances, i)
		if in.LifecycleState == astypes.LifecycleStateInService {
			st.inService++
			if i.healthy {
				st.healthy++
			}
		}
	}
	lts, err := o.r.env.Cloud.World.EC2().DescribeLaunchTemplates(o.ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{f.launchTemplate}})
	if err != nil || len(lts.LaunchTemplates) != 1 {
		t.Fatalf("describe launch template of %s: %v", name, err)
	}
	st.defaultVersion = aws.ToInt64(lts.LaunchTemplates[0].DefaultVersionNumber)
	rfs, err := o.r.env.Cloud.World.AutoScaling().DescribeInstanceRefreshes(o.ctx, &autoscaling.DescribeInstanceRefreshesInput{AutoScalingGroupName: aws.String(name)})
	if err != nil {
		t.Fatalf("describe instance refreshes of %s: %v", name, err)
	}
	st.refreshes = rfs.InstanceRefreshes
	return st
}

// world is one sample of everything the invariants read.
type world struct {
	at     time.Time
	execs  map[string]execution
	ledger ledgerView
	groups map[string]groupState
	lc     lifecycleView
}

func (o *observer) read() world {
	w := world{at: o.r.env.Now(), execs: o.executions(), ledger: o.ledger(), groups: map[string]groupState{}}
	for _, g := range o.sc.groups {
		w.groups[g.name] = o.group(g.name)
	}
	w.lc = o.lifecycleView()
	return w
}

// inFlight lists the group's rollouts the ledger has not ended whose
// execution still runs.
func (w world) inFlight(group string) []ledgerRec {
	var out []ledgerRec
	for _, id := range sortedRollouts(w.ledger.rollouts) {
		rec := w.ledger.rollouts[id]
		if rec.group == group && !rollout.Status(rec.status).Terminal() && w.execs[rec.execARN].status == sfntypes.ExecutionStatusRunning {
			out = append(out, rec)
		}
	}
	return out
}

func sortedRollouts(m map[string]ledgerRec) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// sample reads the world and checks the invariants about "never".
func (o *observer) sample() world {
	o.samples++
	w := o.read()
	for _, g := range o.sc.groups {
		o.checkOneAtATime(w, g.name)
		o.checkLease(w, g.name)
		o.checkDefaultVersion(w, g.name)
		o.checkCapacity(w, g.name)
	}
	o.checkTokens(w)
	o.checkInUse(w)
	return w
}

func (o *observer) checkOneAtATime(w world, group string) {
	flying := w.inFlight(group)
	var ids []string
	for _, rec := range flying {
		ids = append(ids, rec.id)
	}
	o.check(len(flying) <= 1, invOneAtATime, group, strings.Join(ids, ","), "%d rollouts in flight at once", len(flying))
	active := w.groups[group].active()
	var rfs []string
	for _, rf := range active {
		rfs = append(rfs, aws.ToString(rf.InstanceRefreshId)+" "+string(rf.Status))
	}
	o.check(len(active) <= 1, invOneAtATime, group, "", "%d instance refreshes active at once: %s", len(active), strings.Join(rfs, ", "))
}

func (o *observer) checkLease(w world, group string) {
	l, ok := w.ledger.leases[group]
	if !ok || !l.expiresAt.After(w.at) {
		return // no lease, or one that has expired and holds nothing
	}
	e, found := w.execs[l.execARN]
	o.check(found && e.status == sfntypes.ExecutionStatusRunning, invLease, group, l.owner,
		"the lease (until %s) is held by execution %s, which is %s", l.expiresAt.UTC().Format(time.RFC3339), l.execARN, statusOf(e, found))
}

func statusOf(e execution, found bool) string {
	if !found {
		return "unknown to Step Functions"
	}
	return string(e.status)
}

func (o *observer) checkDefaultVersion(w world, group string) {
	if o.lkgSeen[group] == nil {
		o.lkgSeen[group] = map[int64]bool{}
		o.served[group] = map[string]bool{}
	}
	if l, ok := w.ledger.lkg[group]; ok {
		o.lkgSeen[group][l.number] = true
	}
	for _, in := range w.groups[group].instances {
		if in.healthy && in.lifecycle == string(astypes.LifecycleStateInService) {
			o.served[group][in.image] = true
		}
	}
	// A launch template is judged once per sample, after the last of the
	// groups using it has been read.
	users := o.templateUsers(group)
	if users[len(users)-1] != group {
		return
	}
	d := w.groups[group].defaultVersion
	if hand, ok := o.handDefault[o.fleets[group].launchTemplate]; d == o.initialDefault[group] || (ok && d == hand) {
		// The first default, or the one an operator set by hand.
		o.checks++
		return
	}
	// Every group that launches from the template gets its default on
	// $Default, a scale-out or a new group: the version must have passed a
	// validation on each, and one that judged something (an instance of
	// its image served there), not the vacuous pass of an empty group.
	img := o.imageOf(group, strconv.FormatInt(d, 10))
	var missing []string
	for _, u := range users {
		switch {
		case !o.lkgSeen[u][d] && !o.isValidated(w, u, d):
			missing = append(missing, u+" (no rollout to it passed its final validation)")
		case !o.served[u][img]:
			missing = append(missing, u+" (no instance of its image "+img+" was seen serving)")
		}
	}
	o.check(len(missing) == 0, invDefaultVersion, group, "", "launch template %s's default version is %d: not the first default (%d), and not validated on every group using the template: %s",
		o.fleets[group].launchTemplate, d, o.initialDefault[group], strings.Join(missing, "; "))
}

// templateUsers names the scenario's groups that launch from the group's
// launch template, in the scenario's order.
func (o *observer) templateUsers(group string) []string {
	var out []string
	for _, g := range o.sc.groups {
		if o.fleets[g.name].launchTemplate == o.fleets[group].launchTemplate {
			out = append(out, g.name)
		}
	}
	return out
}

// isValidated reports whether a rollout of the group to version v entered
// Finalize, which only a passing final validation leads to.
func (o *observer) isValidated(w world, group string, v int64) bool {
	if o.validated[group][v] {
		return true
	}
	for _, id := range sortedRollouts(w.ledger.rollouts) {
		rec := w.ledger.rollouts[id]
		if rec.group != group || rec.to.number != v || rec.execARN == "" {
			continue
		}
		if slices.Contains(o.states(rec.execARN), "Finalize") {
			if o.validated[group] == nil {
				o.validated[group] = map[int64]bool{}
			}
			o.validated[group][v] = true
			return true
		}
	}
	return false
}

// floor returns the fewest healthy in-service instances the group may
// have now: the lowest healthy count of the running refresh's pacing (its
// own preferences, as Phoenix's preflight set them), else of the group's
// policy as its tags give it.
func (o *observer) floor(w world, group string) (int, string) {
	g := w.groups[group]
	minH, maxH, from := 0, 0, ""
	if act := g.active(); len(act) > 0 && act[0].Preferences != nil {
		p := act[0].Preferences
		minH, maxH = int(aws.ToInt32(p.MinHealthyPercentage)), int(aws.ToInt32(p.MaxHealthyPercentage))
		if p.MinHealthyPercentage == nil {
			minH = 90 // AWS's default
		}
		if p.MaxHealthyPercentage == nil {
			maxH = 100
		}
		from = "refresh " + aws.ToString(act[0].InstanceRefreshId)
	} else {
		pol, _ := rollout.ParsePolicy(o.tags(group), rollout.DefaultPolicy())
		minH, maxH, from = pol.MinHealthy, pol.MaxHealthy, "policy"
	}
	c := rollout.RefreshCapacity(g.desired, minH, maxH)
	return c.LowestHealthy, fmt.Sprintf("%s: desired %d, healthy %d%%-%d%%", from, g.desired, minH, maxH)
}

// tags are the group's tags as the scenario made them.
func (o *observer) tags(group string) map[string]string {
	tags := map[string]string{}
	for k, v := range defaultTags {
		tags[k] = v
	}
	for k, v := range o.sc.group(group).tags {
		if v != "" {
			tags[k] = v
		}
	}
	return tags
}

// taint notes that a cause that may force the group's capacity down is
// present now.
func (o *observer) taint(group, cause string, at time.Time) {
	if o.taints[group] == nil {
		o.taints[group] = map[string]time.Time{}
	}
	o.taints[group][cause] = at
}

// forcing lists the causes seen within taintGrace that may force the
// group's capacity down.
func (o *observer) forcing(group string, at time.Time) []string {
	var out []string
	for cause, seen := range o.taints[group] {
		if at.Sub(seen) <= taintGrace {
			out = append(out, cause)
		}
	}
	sort.Strings(out)
	return out
}

func (o *observer) checkCapacity(w world, group string) {
	g := w.groups[group]
	// What may force capacity down: instances of images that do not
	// serve (or not yet), a refresh towards one, and faults on the group.
	var failing []instance
	for _, in := range g.instances {
		if l := o.labels[in.image]; l != "" && l != behHealthy && l != behFlaky {
			o.taint(group, "instances of "+article(l)+" image", w.at)
			// Failing in service past the time a healthy instance takes
			// to pass its health checks: broken, not still booting.
			if brokenFor(l) && !in.healthy && in.lifecycle == string(astypes.LifecycleStateInService) && w.at.Sub(in.launched) >= readyAfter {
				failing = append(failing, in)
			}
		}
	}
	for _, rf := range g.active() {
		if dc := rf.DesiredConfiguration; dc != nil && dc.LaunchTemplate != nil {
			if img := o.imageOf(group, aws.ToString(dc.LaunchTemplate.Version)); img != "" {
				if l := o.labels[img]; l != "" && l != behHealthy && l != behFlaky {
					o.taint(group, "a refresh to "+article(l)+" image", w.at)
				}
			}
		}
	}
	for id, gr := range o.activeFaults {
		if gr == group || gr == "" {
			o.taint(group, "fault "+id, w.at)
		}
	}

	floor, how := o.floor(w, group)
	if g.healthy >= floor {
		o.checks++
		return
	}
	causes := o.forcing(group, w.at)
	o.check(len(causes) > 0, invCapacity, group, "", "%d healthy in service, below the floor of %d (%s), and no fault forces it; instances: %s",
		g.healthy, floor, how, o.instances(g)+o.activities(group))
	if len(causes) == 0 {
		return
	}
	// Forced down by the rollout's own broken instances (of its image,
	// launched since its refresh started: a recycle relaunches the image
	// the group already runs, and a rollout's record may predate an earlier
	// rollout's instances when it waited for the lease): that rollout must
	// not finalize.
	for _, rec := range w.inFlight(group) {
		var since time.Time
		for _, rf := range g.refreshes {
			if rec.refreshID != "" && aws.ToString(rf.InstanceRefreshId) == rec.refreshID {
				since = aws.ToTime(rf.StartTime)
			}
		}
		own := !since.IsZero() && slices.ContainsFunc(failing, func(in instance) bool {
			return in.image == rec.to.image && !in.launched.Before(since)
		})
		if own {
			if _, ok := o.mustNotFinalize[rec.id]; !ok {
				o.mustNotFinalize[rec.id] = fmt.Sprintf("at %s (+%s) its own %s instances failed, with %d healthy in service, below the floor of %d (%s); instances: %s",
					w.at.UTC().Format(time.RFC3339), w.at.Sub(o.start), o.labels[rec.to.image], g.healthy, floor, how, o.instances(g))
			}
		}
	}
}

// instances describes a group's instances for a report.
func (o *observer) instances(g groupState) string {
	var parts []string
	for _, in := range g.instances {
		l := o.labels[in.image]
		if l == "" {
			l = "first"
		}
		h := "unhealthy"
		if in.healthy {
			h = "healthy"
		}
		parts = append(parts, fmt.Sprintf("%s %s %s %s launched %s", in.id, l, in.lifecycle, h, in.launched.UTC().Format(time.TimeOnly)))
	}
	return strings.Join(parts, ", ")
}

// activities describes the group's latest scaling activities, for a
// report about its capacity.
func (o *observer) activities(group string) string {
	out, err := o.r.env.Cloud.World.AutoScaling().DescribeScalingActivities(o.ctx, &autoscaling.DescribeScalingActivitiesInput{
		AutoScalingGroupName: aws.String(group), MaxRecords: aws.Int32(6),
	})
	if err != nil {
		return "; activities: " + err.Error()
	}
	var b strings.Builder
	b.WriteString("; latest activities:")
	for _, a := range out.Activities {
		fmt.Fprintf(&b, " [%s %s: %s]", aws.ToTime(a.StartTime).UTC().Format(time.TimeOnly), a.StatusCode, aws.ToString(a.Cause))
	}
	return b.String()
}

// imageOf returns the image of the group's launch template version
// (numbered), "" if unknown.
func (o *observer) imageOf(group, v string) string {
	num, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return ""
	}
	out, err := o.r.env.Cloud.World.EC2().DescribeLaunchTemplateVersions(o.ctx, &ec2.DescribeLaunchTemplateVersionsInput{
		LaunchTemplateId: aws.String(o.fleets[group].launchTemplate), Versions: []string{strconv.FormatInt(num, 10)},
	})
	if err != nil || len(out.LaunchTemplateVersions) != 1 || out.LaunchTemplateVersions[0].LaunchTemplateData == nil {
		return ""
	}
	return aws.ToString(out.LaunchTemplateVersions[0].LaunchTemplateData.ImageId)
}

// endStates maps the last state of a rollout execution to the ledger
// status it must have.
var endStates = map[string]string{
	"Finalized": string(rollout.StatusFinalized), "Pinned": string(rollout.StatusPinned), "Reverted": string(rollout.StatusReverted),
	"Refused": string(rollout.StatusRefused), "NeedsHuman": string(rollout.StatusDirty),
}

// endNotices maps an ended status to the notification's detail-type.
var endNotices = map[string]string{
	string(rollout.StatusFinalized): "Phoenix Rollout Succeeded", string(rollout.StatusPinned): "Phoenix Rollout Pinned",
	string(rollout.StatusReverted): "Phoenix Rollout Reverted",
	string(rollout.StatusRefused):  "Phoenix Rollout Refused", string(rollout.StatusDirty): "Phoenix Rollout Needs Attention",
}

// finish checks the invariants about how things ended, on the quiet
// world w.
func (o *observer) finish(w world) {
	o.samples++
	for _, g := range o.sc.groups {
		o.checkOneAtATime(w, g.name)
		o.checkLease(w, g.name)
		o.checkDefaultVersion(w, g.name)
	}
	o.checkTokens(w)
	o.checkInUse(w)
	o.checkRollbacks(w)
	o.checkLogged(w)
	notices := o.notices()
	for _, arn := range sortedExecs(w.execs) {
		e := w.execs[arn]
		o.check(e.status != sfntypes.ExecutionStatusRunning, invQuiesced, "", e.name, "execution %s still runs after the scenario quiesced", e.name)
		switch {
		case e.status == sfntypes.ExecutionStatusRunning:
		case e.machine == o.r.machine:
			o.checkEnd(w, e, notices)
		default:
			o.checkCampaignEnd(e)
		}
	}
	// Every record belongs to an execution of the rollout machine.
	for _, id := range sortedRollouts(w.ledger.rollouts) {
		rec := w.ledger.rollouts[id]
		_, ok := w.execs[rec.execARN]
		o.check(ok, invLedgerAgrees, rec.group, id, "the ledger records rollout %s (%s) for execution %q, which Step Functions does not know", id, rec.status, rec.execARN)
	}
	for _, g := range o.sc.groups {
		o.checkAgrees(w, g.name)
	}
}

func sortedExecs(m map[string]execution) []string {
	arns := make([]string, 0, len(m))
	for a := range m {
		arns = append(arns, a)
	}
	sort.Strings(arns)
	return arns
}

// checkEnd holds an ended rollout execution to its contract: it ended in
// one of the four ends, the ledger says the same with a reason, people
// were told, and no parked task of it is still open.
func (o *observer) checkEnd(w world, e execution, notices map[string][]string) {
	states := o.states(e.arn)
	last := ""
	if len(states) > 0 {
		last = states[len(states)-1]
	}
	want, ok := endStates[last]
	o.check(ok, invEnded, "", e.name, "execution %s ended %s in state %q, outside the five ends (path %s)", e.name, e.status, last, compact(states))
	if !ok {
		return
	}
	if (last == "NeedsHuman") != (e.status == sfntypes.ExecutionStatusFailed) {
		o.fail(invEnded, "", e.name, "execution %s ended %s in state %s", e.name, e.status, last)
	}
	rec, found := w.ledger.rollouts[e.name]
	o.check(found, invEnded, "", e.name, "execution %s ended %s, but the ledger has no record of rollout %s: no reason, no notification (path %s; last error %s)",
		e.name, last, e.name, compact(states), o.lastError(e.arn))
	if !found {
		return
	}
	o.check(rec.execARN == e.arn, invLedgerAgrees, rec.group, rec.id, "the ledger's execution is %s, not %s", rec.execARN, e.arn)
	o.check(rec.status == want, invLedgerAgrees, rec.group, rec.id, "the execution ended %s but the ledger says %q", last, rec.status)
	o.check(rec.status == string(rollout.StatusFinalized) || strings.TrimSpace(rec.reason) != "", invEnded, rec.group, rec.id, "ended %s without a reason", rec.status)
	o.check(!rec.endedAt.IsZero(), invEnded, rec.group, rec.id, "ended %s without an end time", rec.status)
	if why, ok := o.mustNotFinalize[rec.id]; ok {
		o.check(rec.status != string(rollout.StatusFinalized), invCapacity, rec.group, rec.id, "finalized although %s", why)
	}
	wantNotice := endNotices[rec.status]
	o.check(slices.Contains(notices[rec.id], wantNotice), invNotified, rec.group, rec.id, "ended %s but no %q notification (SNS or event) names it; got %v", rec.status, wantNotice, notices[rec.id])
}

// checkCampaignEnd holds a campaign execution to its two ends
// (docs/publish.md): Completed, or Stopped with Phoenix.CampaignStopped
// after a batch in which a rollout did not finalize.
func (o *observer) checkCampaignEnd(e execution) {
	d, err := o.r.env.Cloud.StepFunctions.DescribeExecution(o.ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(e.arn)})
	if err != nil {
		o.r.t.Fatalf("describe campaign %s: %v", e.name, err)
	}
	ok := e.status == sfntypes.ExecutionStatusSucceeded ||
		(e.status == sfntypes.ExecutionStatusFailed && aws.ToString(d.Error) == "Phoenix.CampaignStopped")
	o.check(ok, invEnded, "", e.name, "campaign %s ended %s with %s: %s (path %s)",
		e.name, e.status, aws.ToString(d.Error), firstLine(aws.ToString(d.Cause), 300), compact(lastStates(o.states(e.arn), 6)))
}

// checkTokens holds every rollout the ledger has ended to keeping no
// parked task token: the ledger removes it with the end, and the task it
// resumes must not outlive the rollout either. A heartbeat is the one call
// that tells whether that task is still open without resuming anything.
func (o *observer) checkTokens(w world) {
	for _, id := range sortedRollouts(w.ledger.rollouts) {
		rec := w.ledger.rollouts[id]
		if !rollout.Status(rec.status).Terminal() {
			continue
		}
		o.checks++
		if rec.token == "" {
			continue
		}
		open := ""
		if !o.closedTokens[rec.token] {
			if _, err := o.r.env.Cloud.StepFunctions.SendTaskHeartbeat(o.ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(rec.token)}); err != nil {
				o.closedTokens[rec.token] = true
			} else {
				open = ", and the task it parked is still open (it accepts heartbeats)"
			}
		}
		o.fail(invToken, rec.group, rec.id, "the ledger says it ended %s but still holds its parked task token%s", rec.status, open)
	}
}

// lastError returns the last error a task of the execution failed with.
func (o *observer) lastError(arn string) string {
	last := "none"
	for _, ev := range o.history(arn) {
		switch {
		case ev.TaskFailedEventDetails != nil:
			d := ev.TaskFailedEventDetails
			last = aws.ToString(d.Error) + ": " + firstLine(aws.ToString(d.Cause), 300)
		case ev.LambdaFunctionFailedEventDetails != nil:
			d := ev.LambdaFunctionFailedEventDetails
			last = aws.ToString(d.Error) + ": " + firstLine(aws.ToString(d.Cause), 300)
		}
	}
	return last
}

// notices returns, by rollout id, the detail-types of the "Phoenix
// Rollout ..." events and the subjects of the SNS messages about it.
func (o *observer) notices() map[string][]string {
	out := map[string][]string{}
	for _, ev := range o.r.env.Cloud.EventBridge.Ingested() {
		var e struct {
			Source     string `json:"source"`
			DetailType string `json:"detail-type"`
			Detail     struct {
				RolloutID string `json:"rolloutId"`
			} `json:"detail"`
		}
		if json.Unmarshal(ev.JSON, &e) == nil && e.Source == "phoenix.rollouts" && e.Detail.RolloutID != "" {
			out[e.Detail.RolloutID] = append(out[e.Detail.RolloutID], e.DetailType)
		}
	}
	for _, m := range o.r.env.Cloud.SNS.Messages(o.r.topic) {
		for _, dt := range endNotices {
			if !strings.HasPrefix(m.Subject, dt) {
				continue
			}
			for id := range o.rolloutIDs() {
				if strings.Contains(m.Message, id) {
					out[id] = append(out[id], dt)
				}
			}
		}
	}
	return out
}

// rolloutIDs are the names of the rollout machine's executions.
func (o *observer) rolloutIDs() map[string]bool {
	ids := map[string]bool{}
	for _, e := range o.executions() {
		if e.machine == o.r.machine {
			ids[e.name] = true
		}
	}
	return ids
}

// checkAgrees holds the ledger's account of a group against AWS at the
// end: last-known-good, the launch template's default version, the
// group's version and the images its instances run follow from the last
// rollout that ended having changed something.
func (o *observer) checkAgrees(w world, group string) {
	g := w.groups[group]
	var ended []ledgerRec
	dirty := false
	for _, id := range sortedRollouts(w.ledger.rollouts) {
		rec := w.ledger.rollouts[id]
		if rec.group != group || !rollout.Status(rec.status).Terminal() {
			continue
		}
		dirty = dirty || rec.status == string(rollout.StatusDirty)
		ended = append(ended, rec)
	}
	slices.SortStableFunc(ended, func(a, b ledgerRec) int { return a.endedAt.Compare(b.endedAt) })
	// A pinned rollout (nothing to validate) moves the group's version but
	// not last-known-good, unless it is a revert, which restores it.
	var lastFinal, lastChange *ledgerRec
	for i := range ended {
		switch ended[i].status {
		case string(rollout.StatusFinalized):
			lastFinal, lastChange = &ended[i], &ended[i]
		case string(rollout.StatusPinned):
			lastChange = &ended[i]
			if ended[i].mode == string(rollout.ModeRevert) {
				lastFinal = &ended[i]
			}
		case string(rollout.StatusReverted):
			lastChange = &ended[i]
		}
	}
	lkg, hasLKG := w.ledger.lkg[group]
	switch {
	case lastFinal != nil:
		o.check(hasLKG && lkg.number == lastFinal.to.number && lkg.image == lastFinal.to.image, invLedgerAgrees, group, lastFinal.id,
			"last-known-good is version %d (%s; recorded: %v), but the last finalized rollout went to version %d (%s)",
			lkg.number, lkg.image, hasLKG, lastFinal.to.number, lastFinal.to.image)
	default:
		o.check(!hasLKG, invLedgerAgrees, group, lkg.rollout, "last-known-good is version %d, but no rollout of the group finalized", lkg.number)
	}
	if hasLKG {
		by := w.ledger.rollouts[lkg.rollout]
		restored := by.status == string(rollout.StatusPinned) && by.mode == string(rollout.ModeRevert)
		o.check((by.status == string(rollout.StatusFinalized) || restored) && by.to.number == lkg.number, invLedgerAgrees, group, lkg.rollout,
			"last-known-good version %d was recorded by rollout %s, which ended %q (to version %d)", lkg.number, lkg.rollout, by.status, by.to.number)
	}
	if dirty {
		// A dirty end is a human's to sort out: the fleet may be anywhere.
		return
	}
	wantDefault, whyDefault := o.initialDefault[group], "no rollout finalized"
	switch users := o.templateUsers(group); {
	case len(users) > 1:
		whyDefault = "the template is shared by " + strings.Join(users, ", ") + ", so no rollout moves its default"
	case hasLKG:
		wantDefault, whyDefault = lkg.number, "last-known-good"
	}
	o.check(g.defaultVersion == wantDefault, invLedgerAgrees, group, "", "the launch template's default version is %d, want %d (%s)", g.defaultVersion, wantDefault, whyDefault)

	wantVersion, wantImage, why := strconv.FormatInt(o.initialDefault[group], 10), o.fleets[group].image, "no rollout changed it"
	if lastChange != nil {
		v := lastChange.to
		if lastChange.status == string(rollout.StatusReverted) {
			v = o.revertedTo(w, *lastChange, lkg, hasLKG)
		}
		wantVersion, wantImage, why = strconv.FormatInt(v.number, 10), v.image, "rollout "+lastChange.id+" ended "+lastChange.status
	}
	okVersion := g.version == wantVersion || (lastChange == nil && g.version == o.sc.group(group).version)
	o.check(okVersion, invLedgerAgrees, group, "", "the group is on launch template version %q, want %s (%s)", g.version, wantVersion, why)
	images := map[string]int{}
	if pinned := o.pinnedBroken(w, group); pinned != nil {
		// Pinned to an image that cannot serve: whatever the group launched
		// since runs it, in service or not (docs/design.md, "Pinned").
		for _, in := range g.instances {
			images[in.image]++
		}
		o.check(images[wantImage] == len(g.instances), invLedgerAgrees, group, pinned.id,
			"instances by image %v; want every one on %s (%s)", o.labelled(images), wantImage, why)
		return
	}
	for _, in := range g.instances {
		if in.lifecycle == string(astypes.LifecycleStateInService) {
			images[in.image]++
		}
	}
	o.check(g.inService == g.desired && images[wantImage] == g.inService, invLedgerAgrees, group, "",
		"%d of %d instances in service, by image %v; want all on %s (%s)", g.inService, g.desired, o.labelled(images), wantImage, why)
}

// revertedTo is where a reverted rollout must have left its group
// (docs/design.md): a recycle on its own version; an image rollout on
// last-known-good, or with none on the version it started from, or, when
// a pinned rollout had put the group there unvalidated, on the version
// before that.
func (o *observer) revertedTo(w world, rec ledgerRec, lkg verRec, hasLKG bool) verRec {
	if rec.mode != string(rollout.ModeImage) {
		return rec.from
	}
	if hasLKG {
		return lkg
	}
	v := rec.from
	var older []ledgerRec
	for _, id := range sortedRollouts(w.ledger.rollouts) {
		if h := w.ledger.rollouts[id]; h.group == rec.group && h.id != rec.id && h.startedAt.Before(rec.startedAt) {
			older = append(older, h)
		}
	}
	slices.SortFunc(older, func(a, b ledgerRec) int { return b.startedAt.Compare(a.startedAt) })
	for _, h := range older {
		if h.status == string(rollout.StatusPinned) && h.mode == string(rollout.ModeImage) && h.to.number == v.number {
			v = h.from
		}
	}
	return v
}

// pinnedBroken returns the group's last ended rollout if it ended pinned
// (nothing to validate) to an image whose instances never serve, nil
// otherwise.
func (o *observer) pinnedBroken(w world, group string) *ledgerRec {
	var last *ledgerRec
	for _, id := range sortedRollouts(w.ledger.rollouts) {
		rec := w.ledger.rollouts[id]
		if rec.group == group && rollout.Status(rec.status).Terminal() && rec.status != string(rollout.StatusRefused) &&
			(last == nil || rec.endedAt.After(last.endedAt)) {
			last = &rec
		}
	}
	if last == nil || last.status != string(rollout.StatusPinned) || !brokenFor(o.labels[last.to.image]) {
		return nil
	}
	return last
}

// labelled writes image counts with the images' behaviours.
func (o *observer) labelled(images map[string]int) string {
	var parts []string
	for img, n := range images {
		l := o.labels[img]
		if l == "" {
			l = "first"
		}
		parts = append(parts, fmt.Sprintf("%s(%s)=%d", img, l, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// lifecycleView is what the image lifecycle retires, as EC2 shows it, and
// the lifecycle runs that have ended.
type lifecycleView struct {
	// versions are each of the scenario's launch templates' versions, with
	// their AMIs.
	versions map[string]map[int64]string
	// images are the AMIs EC2 lists, disabled and deprecated ones
	// included; a deregistered AMI drops out of the list soon after.
	images map[string]amiState
	// instances are the region's instances not terminated, in a group or
	// not, with their AMIs.
	instances map[string]string
	// runs are the event times of the lifecycle's apply runs whose summary
	// reached the topic (a run sends it last), in order.
	runs []time.Time
}

// amiState is an AMI's life stage as EC2 shows it.
type amiState struct {
	state      string // available, pending, failed, disabled, deregistered; "" when EC2 no longer lists it
	deprecated bool   // a deprecation time is set (Phoenix sets it a few minutes ahead)
	keep       bool   // tagged phoenix:keep=true
}

func (a amiState) stage() string {
	switch {
	case a.state == "" || a.state == "deregistered":
		return "deregistered"
	case a.state == "available" && a.deprecated:
		return "deprecated"
	}
	return a.state
}

// nightOf reads an apply run's event time from its summary.
var nightOf = regexp.MustCompile(`night of (\S+), mode apply\.`)

// lifecycleView reads the launch templates, the AMIs, the instances and
// the lifecycle's summaries through the models.
func (o *observer) lifecycleView() lifecycleView {
	t, ec2c := o.r.t, o.r.env.Cloud.World.EC2()
	v := lifecycleView{versions: map[string]map[int64]string{}, images: map[string]amiState{}, instances: map[string]string{}}
	for _, g := range o.sc.groups {
		lt := o.fleets[g.name].launchTemplate
		if _, ok := v.versions[lt]; ok {
			continue
		}
		v.versions[lt] = map[int64]string{}
		in := &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(lt)}
		for {
			out, err := ec2c.DescribeLaunchTemplateVersions(o.ctx, in)
			if err != nil {
				t.Fatalf("describe the versions of %s: %v", lt, err)
			}
			for _, ltv := range out.LaunchTemplateVersions {
				img := ""
				if ltv.LaunchTemplateData != nil {
					img = aws.ToString(ltv.LaunchTemplateData.ImageId)
				}
				v.versions[lt][aws.ToInt64(ltv.VersionNumber)] = img
				if o.versionsSeen[lt] == nil {
					o.versionsSeen[lt] = map[int64]bool{}
				}
				o.versionsSeen[lt][aws.ToInt64(ltv.VersionNumber)] = true
			}
			if out.NextToken == nil {
				break
			}
			in.NextToken = out.NextToken
		}
	}
	imgs := &ec2.DescribeImagesInput{IncludeDeprecated: aws.Bool(true), IncludeDisabled: aws.Bool(true)}
	for {
		out, err := ec2c.DescribeImages(o.ctx, imgs)
		if err != nil {
			t.Fatalf("describe images: %v", err)
		}
		for _, img := range out.Images {
			st := amiState{state: string(img.State), deprecated: aws.ToString(img.DeprecationTime) != ""}
			for _, tag := range img.Tags {
				if aws.ToString(tag.Key) == lifecycle.TagKeep && strings.EqualFold(strings.TrimSpace(aws.ToString(tag.Value)), "true") {
					st.keep = true
				}
			}
			v.images[aws.ToString(img.ImageId)] = st
		}
		if out.NextToken == nil {
			break
		}
		imgs.NextToken = out.NextToken
	}
	insts := &ec2.DescribeInstancesInput{}
	for {
		out, err := ec2c.DescribeInstances(o.ctx, insts)
		if err != nil {
			t.Fatalf("describe instances: %v", err)
		}
		for _, res := range out.Reservations {
			for _, in := range res.Instances {
				if in.State == nil || in.State.Name != ec2types.InstanceStateNameTerminated {
					v.instances[aws.ToString(in.InstanceId)] = aws.ToString(in.ImageId)
				}
			}
		}
		if out.NextToken == nil {
			break
		}
		insts.NextToken = out.NextToken
	}
	for _, m := range o.r.env.Cloud.SNS.Messages(o.r.topic) {
		if !strings.HasPrefix(m.Subject, "Phoenix image lifecycle") {
			continue
		}
		if at := nightOf.FindStringSubmatch(m.Message); at != nil {
			if e, err := time.Parse(time.RFC3339, at[1]); err == nil {
				v.runs = append(v.runs, e)
			}
		}
	}
	slices.SortFunc(v.runs, time.Time.Compare)
	return v
}

// reference is one thing that needs a launch template version, an AMI, or
// a version and its AMI.
type reference struct {
	group, rollout string
	template       string
	version        int64  // 0: the AMI alone
	image          string // "": the version's AMI
	by             string // who needs it, for a report
}

// references lists what the scenario's groups, rollouts, rollbacks,
// instances and keep tags need, as docs/soak.md, "in-use-kept", says.
func (o *observer) references(w world) []reference {
	var out []reference
	for _, g := range o.sc.groups {
		st, lt := w.groups[g.name], o.fleets[g.name].launchTemplate
		add := func(v int64, image, rolloutID, by string) {
			if v > 0 || image != "" {
				out = append(out, reference{group: g.name, rollout: rolloutID, template: lt, version: v, image: image, by: by})
			}
		}
		add(resolveIn(w.lc.versions[lt], st.version, st.defaultVersion), "", "", g.name+"'s launch template version ("+st.version+")")
		for _, in := range st.instances {
			if v, err := strconv.ParseInt(in.version, 10, 64); err == nil {
				add(v, "", "", g.name+"'s instance "+in.id)
			}
		}
		add(st.defaultVersion, "", "", "the default version of "+g.name+"'s launch template")
		if lkg, ok := w.ledger.lkg[g.name]; ok {
			add(lkg.number, lkg.image, lkg.rollout, g.name+"'s last-known-good")
		}
		for _, v := range o.rollbackHistory(w, g.name) {
			add(v, "", "", g.name+"'s rollback history")
		}
		for _, rec := range o.holdingRollouts(w, g.name) {
			add(rec.from.number, rec.from.image, rec.id, "the origin of rollout "+rec.id+" ("+rec.status+")")
			add(rec.to.number, rec.to.image, rec.id, "the target of rollout "+rec.id+" ("+rec.status+")")
		}
		if q, ok := w.ledger.queued[g.name]; ok && w.at.Before(q.expiresAt) {
			add(0, q.image, "", "the image queued for "+g.name)
		}
	}
	for _, arn := range sortedExecs(w.execs) {
		if e := w.execs[arn]; e.machine != o.r.machine && e.status == sfntypes.ExecutionStatusRunning {
			out = append(out, reference{image: o.campaignImage(arn), by: "campaign " + e.name})
		}
	}
	for _, lt := range slices.Sorted(maps.Keys(o.keptVersions)) {
		for _, v := range slices.Sorted(maps.Keys(o.keptVersions[lt])) {
			out = append(out, reference{template: lt, version: v, by: "phoenix:keep=true on launch template " + lt})
		}
	}
	for _, id := range slices.Sorted(maps.Keys(w.lc.instances)) {
		out = append(out, reference{image: w.lc.instances[id], by: "instance " + id})
	}
	for _, id := range slices.Sorted(maps.Keys(w.lc.images)) {
		if w.lc.images[id].keep {
			out = append(out, reference{image: id, by: "its phoenix:keep=true tag"})
		}
	}
	return out
}

// campaignImage returns the image a campaign execution rolls, from its
// input.
func (o *observer) campaignImage(arn string) string {
	if img, ok := o.campaignImages[arn]; ok {
		return img
	}
	d, err := o.r.env.Cloud.StepFunctions.DescribeExecution(o.ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	if err != nil {
		o.r.t.Fatalf("describe campaign %s: %v", arn, err)
	}
	var in struct {
		Campaign struct {
			ImageID string `json:"imageId"`
		} `json:"campaign"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(d.Input)), &in); err != nil || in.Campaign.ImageID == "" {
		o.r.t.Fatalf("the input of campaign %s names no image: %v\n%s", arn, err, aws.ToString(d.Input))
	}
	o.campaignImages[arn] = in.Campaign.ImageID
	return in.Campaign.ImageID
}

// resolveIn returns the number a group's version as written means among
// the template's versions and its default.
func resolveIn(versions map[int64]string, v string, def int64) int64 {
	switch v {
	case "", "$Default":
		return def
	case "$Latest":
		var latest int64
		for n := range versions {
			latest = max(latest, n)
		}
		return latest
	}
	n, _ := strconv.ParseInt(v, 10, 64)
	return n
}

// rollbackHistory returns the group's rollback history as the lifecycle
// keeps it: the last KeepRollbackVersions distinct versions its finalized
// rollouts went to (by start), last-known-good left out.
func (o *observer) rollbackHistory(w world, group string) []int64 {
	var fin []ledgerRec
	for _, id := range sortedRollouts(w.ledger.rollouts) {
		if rec := w.ledger.rollouts[id]; rec.group == group && rec.status == string(rollout.StatusFinalized) && rec.to.number > 0 {
			fin = append(fin, rec)
		}
	}
	slices.SortStableFunc(fin, func(a, b ledgerRec) int { return a.startedAt.Compare(b.startedAt) })
	lkg := w.ledger.lkg[group].number
	var out []int64
	for i := len(fin) - 1; i >= 0 && len(out) < o.sc.lifecycle.keepRollback; i-- {
		if v := fin[i].to.number; v != lkg && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// holdingRollouts returns the group's rollouts whose origin and target
// are still needed: in flight (the ledger has not ended them), dirty
// (until a human looks), or finalized within the group's guard window
// (an alarm may still revert them).
func (o *observer) holdingRollouts(w world, group string) []ledgerRec {
	pol, _ := rollout.ParsePolicy(o.tags(group), rollout.DefaultPolicy())
	var out []ledgerRec
	for _, id := range sortedRollouts(w.ledger.rollouts) {
		rec := w.ledger.rollouts[id]
		if rec.group != group {
			continue
		}
		guarded := rec.status == string(rollout.StatusFinalized) && w.at.Before(rec.endedAt.Add(pol.GuardWindow))
		if !rollout.Status(rec.status).Terminal() || rec.status == string(rollout.StatusDirty) || guarded {
			out = append(out, rec)
		}
	}
	return out
}

// useTrack is the current stretch of samples in which something needs an
// AMI.
type useTrack struct {
	since time.Time
	// unstaged is set once a sample of the stretch saw the AMI neither
	// deprecated nor disabled: from then on nothing may stage it.
	unstaged bool
}

// checkInUse holds the lifecycle to never retiring what is in use: every
// version something needs exists, and its AMI (or the AMI an instance
// runs, or one tagged phoenix:keep=true) is registered, and neither
// disabled nor deprecated, unless it was so already when the need began (a
// re-use: an operator's instance or tag, a rollout of an old image), and
// then only until the first apply run after that has ended, which must
// restore it.
func (o *observer) checkInUse(w world) {
	needs := map[string][]reference{}
	for _, ref := range o.references(w) {
		img := ref.image
		if ref.version > 0 {
			vimg, ok := w.lc.versions[ref.template][ref.version]
			o.check(ok, invInUseKept, ref.group, ref.rollout, "version %d of launch template %s was deleted, but it is %s", ref.version, ref.template, ref.by)
			if !ok {
				continue
			}
			if img == "" {
				img = vimg
			}
		}
		if img != "" {
			needs[img] = append(needs[img], ref)
		}
	}
	for _, img := range slices.Sorted(maps.Keys(needs)) {
		ref, st := needs[img][0], w.lc.images[img]
		if st.stage() == "deregistered" {
			o.fail(invInUseKept, ref.group, ref.rollout, "AMI %s (%s) was deregistered, but %s needs it", img, o.label(img), ref.by)
			continue
		}
		tr := o.inUse[img]
		if tr == nil {
			tr = &useTrack{since: w.at}
			o.inUse[img] = tr
		}
		if st.state != "disabled" && !st.deprecated {
			tr.unstaged = true
			o.checks++
			continue
		}
		run := o.runAfter(w, tr.since)
		switch {
		case tr.unstaged:
			o.fail(invInUseKept, ref.group, ref.rollout, "AMI %s (%s) was %s while %s needed it (in use since +%s)",
				img, o.label(img), st.stage(), ref.by, tr.since.Sub(o.start))
		case !run.IsZero():
			o.fail(invInUseKept, ref.group, ref.rollout, "AMI %s (%s) is %s, and %s needs it since +%s: it was %s already then (a re-use), but the lifecycle run of +%s did not restore it",
				img, o.label(img), st.stage(), ref.by, tr.since.Sub(o.start), st.stage(), run.Sub(o.start))
		default:
			o.checks++
		}
	}
	for img := range o.inUse {
		if _, ok := needs[img]; !ok {
			delete(o.inUse, img)
		}
	}
}

// runAfter returns the event time of the first apply run that started
// after since and has ended, zero if none has.
func (o *observer) runAfter(w world, since time.Time) time.Time {
	for _, e := range w.lc.runs {
		if e.After(since) {
			return e
		}
	}
	return time.Time{}
}

// label names an image's behaviour, or "first" for a group's first image.
func (o *observer) label(img string) string {
	if l := o.labels[img]; l != "" {
		return l
	}
	return "first"
}

// checkRollbacks holds, at the end, every rollback Phoenix could be asked
// for to launching: EC2 accepts a launch (DryRun) from each group's
// last-known-good version and from each version of its rollback history.
func (o *observer) checkRollbacks(w world) {
	for _, g := range o.sc.groups {
		lt := o.fleets[g.name].launchTemplate
		var targets []int64
		why := map[int64]string{}
		if lkg, ok := w.ledger.lkg[g.name]; ok {
			targets, why[lkg.number] = append(targets, lkg.number), "last-known-good"
		}
		for _, v := range o.rollbackHistory(w, g.name) {
			targets, why[v] = append(targets, v), "rollback history"
		}
		for _, v := range targets {
			_, err := o.r.env.Cloud.World.EC2().RunInstances(o.ctx, &ec2.RunInstancesInput{
				DryRun: aws.Bool(true), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
				LaunchTemplate: &ec2types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(lt), Version: aws.String(strconv.FormatInt(v, 10))},
			})
			var apiErr smithy.APIError
			ok := errors.As(err, &apiErr) && apiErr.ErrorCode() == "DryRunOperation"
			o.check(ok, invRollbacks, g.name, "", "a rollback of %s to version %d (its %s) would not launch: %v", g.name, v, why[v], err)
		}
	}
}

// checkLogged holds the lifecycle to its log (docs/lifecycle.md, "The
// nightly run": every action is logged with its result): at the end, every
// version a sample saw that is gone was deleted by a run that logged it
// done, and every image of the scenario that is deregistered likewise.
// Nothing else in a scenario deletes a version or deregisters an image.
func (o *observer) checkLogged(w world) {
	entries, err := ledger.New(o.db, o.r.table).LifecycleLog(o.ctx, region, time.Time{}, 0)
	if err != nil {
		o.r.t.Fatalf("read the lifecycle log: %v", err)
	}
	done := map[string]bool{}
	for _, e := range entries {
		if e.Result == lifecycle.ResultDone {
			done[string(e.Action)+" "+e.Target] = true
		}
	}
	for _, lt := range slices.Sorted(maps.Keys(o.versionsSeen)) {
		for _, v := range slices.Sorted(maps.Keys(o.versionsSeen[lt])) {
			if _, ok := w.lc.versions[lt][v]; ok {
				continue
			}
			target := lt + ":" + strconv.FormatInt(v, 10)
			o.check(done[string(lifecycle.ActionDeleteVersion)+" "+target], invLogged, "", "", "version %s is gone, but no lifecycle run logged deleting it", target)
		}
	}
	for _, img := range o.scenarioImages() {
		if w.lc.images[img].stage() == "deregistered" {
			o.check(done[string(lifecycle.ActionDeregister)+" "+img], invLogged, "", "", "AMI %s (%s) is deregistered, but no lifecycle run logged deregistering it", img, o.label(img))
		}
	}
}
