package e2e

import (
	"encoding/json"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/phoenix-rollouts/phoenix/shared/ledger"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
	"github.com/phoenix-rollouts/phoenix/test/localcloud"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/deploy"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/eventbus"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
)

// recycleStart is when the recycle scenarios' clouds start: three hours
// before the schedule's first 03:00 UTC, so that groups made at once are
// young on the first night and a day older on each following one.
var recycleStart = time.Date(2026, time.January, 5, 0, 0, 0, 0, time.UTC)

// nightAt is the schedule's firing n nights after recycleStart's (0 is
// 2026-01-05T03:00Z, template default cron(0 3 * * ? *)).
func nightAt(n int) time.Time {
	return time.Date(2026, time.January, 5+n, 3, 0, 0, 0, time.UTC)
}

// recycleRig is a rig that knows the recycle-scheduler function.
type recycleRig struct {
	*rig
	function string // the recycle-scheduler's physical name
}

// newRecycleRig deploys template.yaml with parameters on a cloud starting at
// recycleStart.
func newRecycleRig(t *testing.T, seed uint64, parameters map[string]string) *recycleRig {
	t.Helper()
	needNode(t)
	bins := functionsDir(t)
	env := cloudtest.New(t, localcloud.Options{Seed: seed, DynamoDB: true, Start: recycleStart})
	r := &rig{t: t, ctx: t.Context(), env: env}
	stack, err := deploy.File(r.ctx, env.Cloud, filepath.Join(repoRoot(t), "template.yaml"), deploy.Options{
		BinDir: bins, Parameters: parameters,
	})
	if err != nil {
		t.Fatalf("deploy template.yaml: %v", err)
	}
	env.Settle()
	r.stack = stack
	r.machine = output(t, stack, "StateMachineArn")
	r.table = output(t, stack, "LedgerTableName")
	r.topic = output(t, stack, "NotificationTopicArn")
	r.ddb = dynamodb.NewFromConfig(env.Config)
	t.Cleanup(func() { r.checkIAM(t) })
	fn, ok := stack.Resources["RecycleSchedulerFunction"]
	if !ok {
		t.Fatal("the stack has no RecycleSchedulerFunction")
	}
	return &recycleRig{rig: r, function: fn.PhysicalID}
}

// scheduleRule is the physical name of the nightly schedule rule.
func (r *recycleRig) scheduleRule() string {
	r.t.Helper()
	prefix := "phoenix-RecycleSchedulerFunctionNightly"
	out, err := r.env.EventBridge.ListRules(r.ctx, &eventbridge.ListRulesInput{NamePrefix: aws.String(prefix)})
	if err != nil || len(out.Rules) != 1 {
		r.t.Fatalf("list rules %s: %v", prefix, err)
	}
	return aws.ToString(out.Rules[0].Name)
}

// until moves simulated time to at, running everything due.
func (r *recycleRig) until(at time.Time) {
	r.t.Helper()
	if d := at.Sub(r.env.Now()); d > 0 {
		r.env.Advance(d)
	}
}

// nightEvent returns the id of the scheduled event the rule delivered at
// at, and how many deliveries of it reached the function (duplicates
// included).
func (r *recycleRig) nightEvent(at time.Time) (string, int) {
	r.t.Helper()
	rule := r.scheduleRule()
	id, n := "", 0
	for _, d := range r.env.Cloud.EventBridge.Deliveries() {
		if d.Rule != rule || d.Outcome != eventbus.Delivered {
			continue
		}
		var ev struct {
			ID   string    `json:"id"`
			Time time.Time `json:"time"`
		}
		if err := json.Unmarshal(d.Input, &ev); err != nil || !ev.Time.Equal(at) {
			continue
		}
		id = ev.ID
		n++
	}
	if id == "" {
		r.t.Fatalf("no scheduled event delivered for %s", at)
	}
	return id, n
}

// logLine is one JSON line of the scheduler's log.
type logLine map[string]any

func (l logLine) str(k string) string { s, _ := l[k].(string); return s }

// logLines returns the scheduler's JSON log lines for one event id ("" for
// every line), in order.
func (r *recycleRig) logLines(eventID string) []logLine {
	var out []logLine
	for _, ev := range r.env.Cloud.Lambda.Logs(region, r.function) {
		var l logLine
		if json.Unmarshal([]byte(ev.Message), &l) != nil {
			continue
		}
		if eventID == "" || l.str("eventId") == eventID {
			out = append(out, l)
		}
	}
	return out
}

// decisions returns the night's decision per group as "action:code", from
// the one log line per decision (a repeated delivery logs the same
// decisions again, which must agree).
func (r *recycleRig) decisions(eventID string) map[string]string {
	r.t.Helper()
	out := map[string]string{}
	for _, l := range r.logLines(eventID) {
		switch l.str("msg") {
		case "recycle started", "recycle exists already; not started again", "recycle deferred", "recycle skipped":
		default:
			continue
		}
		d := l.str("action") + ":" + l.str("code")
		if l.str("code") == "already-started" {
			d = "start:due"
		}
		g := l.str("group")
		if old, ok := out[g]; ok && old != d {
			r.t.Errorf("group %s: decided %s, then %s for the same event", g, old, d)
		}
		out[g] = d
	}
	return out
}

// recycles returns the recycle executions (rcy-<group>-<hash>) by group.
func (r *recycleRig) recycles() map[string][]sfntypes.ExecutionListItem {
	r.t.Helper()
	out := map[string][]sfntypes.ExecutionListItem{}
	p := sfn.NewListExecutionsPaginator(r.env.StepFunctions, &sfn.ListExecutionsInput{StateMachineArn: aws.String(r.machine)})
	for p.HasMorePages() {
		page, err := p.NextPage(r.ctx)
		if err != nil {
			r.t.Fatalf("list executions: %v", err)
		}
		for _, e := range page.Executions {
			name := aws.ToString(e.Name)
			if rest, ok := strings.CutPrefix(name, "rcy-"); ok && len(rest) > 25 {
				g := rest[:len(rest)-25]
				out[g] = append(out[g], e)
			}
		}
	}
	return out
}

// awaitRecycles steps time until every recycle execution has ended.
func (r *recycleRig) awaitRecycles(limit time.Duration) {
	r.t.Helper()
	for _, list := range r.recycles() {
		for _, e := range list {
			r.run(aws.ToString(e.ExecutionArn), limit)
		}
	}
}

// request returns a recycle execution's input request.
func (r *recycleRig) request(arn string) rollout.Request {
	r.t.Helper()
	d, err := r.env.StepFunctions.DescribeExecution(r.ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	if err != nil {
		r.t.Fatalf("describe execution: %v", err)
	}
	var in struct {
		Request rollout.Request `json:"request"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(d.Input)), &in); err != nil {
		r.t.Fatalf("input of %s: %v", arn, err)
	}
	return in.Request
}

// instances returns the group's in-service instance ids and their launch
// times.
func (r *recycleRig) instances(group string) map[string]time.Time {
	r.t.Helper()
	out, err := r.env.AutoScaling.DescribeAutoScalingGroups(r.ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{group}})
	if err != nil || len(out.AutoScalingGroups) != 1 {
		r.t.Fatalf("describe group %s: %v", group, err)
	}
	var ids []string
	for _, in := range out.AutoScalingGroups[0].Instances {
		if in.LifecycleState == astypes.LifecycleStateInService {
			ids = append(ids, aws.ToString(in.InstanceId))
		}
	}
	got := map[string]time.Time{}
	if len(ids) == 0 {
		return got
	}
	d, err := r.env.EC2.DescribeInstances(r.ctx, &ec2.DescribeInstancesInput{InstanceIds: ids})
	if err != nil {
		r.t.Fatalf("describe instances: %v", err)
	}
	for _, res := range d.Reservations {
		for _, in := range res.Instances {
			got[aws.ToString(in.InstanceId)] = aws.ToTime(in.LaunchTime)
		}
	}
	return got
}

// templateVersions counts a launch template's versions.
func (r *recycleRig) templateVersions(lt string) int {
	r.t.Helper()
	out, err := r.env.EC2.DescribeLaunchTemplateVersions(r.ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(lt)})
	if err != nil {
		r.t.Fatalf("describe launch template versions of %s: %v", lt, err)
	}
	return len(out.LaunchTemplateVersions)
}

// drift reads a group's DRIFT item.
func (r *recycleRig) drift(group string) (at string, counts [4]int64, offenders int) {
	r.t.Helper()
	it := r.item("GROUP#"+region+"#"+group, "DRIFT")
	if it == nil {
		r.t.Fatalf("no drift item for %s", group)
	}
	for i, a := range []string{"offVersion", "offImage", "overMaxAge", "oldestAgeSeconds"} {
		counts[i] = n(it[a])
	}
	if l, ok := it["offenders"].(*ddbtypes.AttributeValueMemberL); ok {
		offenders = len(l.Value)
	}
	return s(it["at"]), counts, offenders
}

// frozenTag is a group's freeze until the tag is removed.
const frozenTag = "on"

func TestRecyclingOverSeveralNights(t *testing.T) {
	t.Parallel()
	r := newRecycleRig(t, 41, map[string]string{"RecycleMaxPerNight": "2", "RecycleJitterSeconds": "600"})
	// Every night's event reaches the function twice, the copy up to 20
	// minutes late (after some recycles began): the night must still
	// start each group once and no more than two.
	if err := r.env.Cloud.EventBridge.SetChaos(r.scheduleRule(), eventbus.Chaos{Duplicate: 1, Delay: 0.5, MaxDelay: 20 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	// The global freeze covers night 0 only: a window in the parameter.
	if _, err := r.env.SSM.PutParameter(r.ctx, &ssm.PutParameterInput{
		Name: aws.String("/phoenix/freeze"), Type: ssmtypes.ParameterTypeString,
		Value: aws.String("2026-01-05T02:00:00Z/2026-01-05T04:00:00Z"),
	}); err != nil {
		t.Fatal(err)
	}
	// The groups, oldest first. old-* are due from night 1 (older than 25
	// hours); a recycled group is younger than that the next night.
	// hourly is due every night; young never (the default week).
	recycled := map[string]string{"phoenix:recycle": "true", "phoenix:max-age": "25h"}
	with := func(extra ...string) map[string]string {
		m := maps.Clone(recycled)
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	fleets := map[string]fleet{}
	for _, spec := range []fleetSpec{
		{name: "old-a", size: 2, tags: with()},
		{name: "old-b", size: 2, tags: with()},
		{name: "old-c", size: 2, tags: with()},
		{name: "hourly", size: 2, tags: with("phoenix:max-age", "3600")},
		{name: "leased", size: 2, tags: with()},
		{name: "frozen", size: 2, tags: with("phoenix:freeze", frozenTag)},
		{name: "young", size: 2, version: "$Latest", tags: with("phoenix:max-age", "")},
	} {
		if spec.tags["phoenix:max-age"] == "" {
			delete(spec.tags, "phoenix:max-age")
		}
		fleets[spec.name] = r.newFleet(spec)
	}
	// young's template gets a version its instances do not run: drift.
	young := fleets["young"]
	v2image := r.image("young-v2", "healthy")
	if _, err := r.env.EC2.CreateLaunchTemplateVersion(r.ctx, &ec2.CreateLaunchTemplateVersionInput{
		LaunchTemplateId: aws.String(young.launchTemplate), SourceVersion: aws.String("1"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(v2image)},
	}); err != nil {
		t.Fatal(err)
	}
	// Another rollout holds leased's lease for the whole scenario.
	hold := ledger.New(r.ddb, r.table).WithLogger(slog.New(slog.DiscardHandler))
	if err := hold.AcquireLease(r.ctx, rollout.Lease{Group: rollout.GroupKey{Region: region, Name: "leased"}, Owner: "img-held-by-e2e",
		ExpiresAt: recycleStart.Add(30 * 24 * time.Hour)}, r.env.Now()); err != nil {
		t.Fatal(err)
	}
	before := map[string]map[string]time.Time{}
	for name := range fleets {
		before[name] = r.instances(name)
	}

	// Night 0: everything frozen by the parameter's window; drift reported.
	r.until(nightAt(0).Add(30 * time.Minute))
	ev0, n0 := r.nightEvent(nightAt(0))
	if n0 < 2 {
		t.Errorf("night 0 was delivered %d times; the chaos switch should have duplicated it", n0)
	}
	if got := r.recycles(); len(got) != 0 {
		t.Fatalf("night 0 started recycles %v under the global freeze", slices.Sorted(maps.Keys(got)))
	}
	d0 := r.decisions(ev0)
	t.Logf("night 0 (%d deliveries): %v", n0, d0)
	for name := range fleets {
		if d0[name] != "skip:frozen" {
			t.Errorf("night 0, %s: %q, want skip:frozen (global freeze window)", name, d0[name])
		}
	}
	if !slices.ContainsFunc(r.logLines(ev0), func(l logLine) bool {
		return l.str("msg") == "global freeze in force" && strings.Contains(l.str("reason"), "SSM parameter /phoenix/freeze")
	}) {
		t.Error("night 0 logged no global freeze naming the parameter")
	}
	at, c, offenders := r.drift("young")
	if at != "2026-01-05T03:00:00.000000000Z" || c[0] != 2 || c[1] != 2 || c[2] != 0 || offenders != 2 {
		t.Errorf("young's drift at night 0: at %s, counts %v, %d offenders; want both instances off version 2 and its image, none over age", at, c, offenders)
	}
	if _, c, _ := r.drift("old-a"); c != [4]int64{0, 0, 0, c[3]} || c[3] < 2*3600 {
		t.Errorf("old-a's drift at night 0: %v; want no drift, oldest about 3 hours", c)
	}

	// Night 1: old-a and old-b start (the two oldest due), old-c and hourly
	// wait; leased, frozen and young are skipped.
	r.until(nightAt(1).Add(30 * time.Minute))
	r.awaitRecycles(4 * time.Hour)
	ev1, n1 := r.nightEvent(nightAt(1))
	t.Logf("night 1 (%d deliveries): %v", n1, r.decisions(ev1))
	want1 := map[string]string{
		"old-a": "start:due", "old-b": "start:due", "old-c": "defer:nightly-limit", "hourly": "defer:nightly-limit",
		"leased": "skip:leased", "frozen": "skip:frozen", "young": "skip:young",
	}
	if got := r.decisions(ev1); !maps.Equal(got, want1) {
		t.Errorf("night 1 decisions:\n got %v\nwant %v", got, want1)
	}
	night1 := r.recycles()
	if got := slices.Sorted(maps.Keys(night1)); !slices.Equal(got, []string{"old-a", "old-b"}) {
		t.Fatalf("night 1 recycled %v, want [old-a old-b]\n%s", got, r.functionLogs())
	}
	after1 := map[string]map[string]time.Time{}
	for name := range fleets {
		after1[name] = r.instances(name)
	}
	for _, name := range []string{"old-a", "old-b"} {
		r.wantRecycled(name, fleets[name], night1[name], nightAt(1), 600*time.Second, before[name], after1[name])
	}
	for _, name := range []string{"old-c", "hourly", "leased", "frozen", "young"} {
		if !maps.Equal(before[name], after1[name]) {
			t.Errorf("%s's instances changed on night 1: %v, then %v", name, before[name], after1[name])
		}
	}
	if _, c, _ := r.drift("leased"); c[2] != 2 {
		t.Errorf("leased's drift at night 1: %v; want both instances over the max age", c)
	}

	// Night 2: old-c and hourly start; old-a and old-b were recycled a day
	// ago and are young.
	r.until(nightAt(2).Add(30 * time.Minute))
	r.awaitRecycles(4 * time.Hour)
	ev2, n2 := r.nightEvent(nightAt(2))
	t.Logf("night 2 (%d deliveries): %v", n2, r.decisions(ev2))
	want2 := map[string]string{
		"old-a": "skip:young", "old-b": "skip:young", "old-c": "start:due", "hourly": "start:due",
		"leased": "skip:leased", "frozen": "skip:frozen", "young": "skip:young",
	}
	if got := r.decisions(ev2); !maps.Equal(got, want2) {
		t.Errorf("night 2 decisions:\n got %v\nwant %v", got, want2)
	}
	all := r.recycles()
	if got := slices.Sorted(maps.Keys(all)); !slices.Equal(got, []string{"hourly", "old-a", "old-b", "old-c"}) {
		t.Fatalf("after night 2 recycled %v", got)
	}
	for name, list := range all {
		if len(list) != 1 {
			t.Errorf("%s has %d recycle executions, want 1 (duplicate deliveries start nothing)", name, len(list))
		}
	}
	after2 := map[string]map[string]time.Time{}
	for name := range fleets {
		after2[name] = r.instances(name)
	}
	for _, name := range []string{"old-c", "hourly"} {
		r.wantRecycled(name, fleets[name], all[name], nightAt(2), 600*time.Second, before[name], after2[name])
	}
	for _, name := range []string{"old-a", "old-b"} {
		if !maps.Equal(after1[name], after2[name]) {
			t.Errorf("%s was recycled again on night 2", name)
		}
	}

	// Each night's second delivery found its recycles started already.
	var again int
	for _, ev := range []string{ev1, ev2} {
		for _, l := range r.logLines(ev) {
			if l.str("msg") == "recycle exists already; not started again" {
				again++
			}
		}
	}
	if again < 4 {
		t.Errorf("%d repeated starts recognised over nights 1 and 2, want at least 4 (two per night)", again)
	}

	// The drift report reaches CloudWatch as embedded metric format lines.
	var emf int
	for _, l := range r.logLines(ev2) {
		if _, ok := l["_aws"]; ok && l.str("Group") == "young" && l["InstancesOffVersion"] == 2.0 && l["InstancesOffImage"] == 2.0 {
			emf++
		}
	}
	if emf == 0 {
		t.Errorf("no metric line for young's drift on night 2 in\n%s", r.env.Cloud.Lambda.LogText(region, r.function))
	}
}

// wantRecycled checks that one recycle replaced every instance of the group
// with the same launch template version, after its jittered start, and
// changed nothing else.
func (r *recycleRig) wantRecycled(name string, f fleet, execs []sfntypes.ExecutionListItem, night time.Time, jitter time.Duration, before, after map[string]time.Time) {
	t := r.t
	t.Helper()
	if len(execs) != 1 {
		t.Errorf("%s: %d recycle executions, want 1", name, len(execs))
		return
	}
	arn := aws.ToString(execs[0].ExecutionArn)
	end := r.wait(arn, time.Minute)
	if end.Status != sfntypes.ExecutionStatusSucceeded {
		t.Errorf("%s: recycle %s, %s", name, end.Status, aws.ToString(end.Cause))
		return
	}
	path := r.path(arn)
	if path[len(path)-1] != "Finalized" || !slices.Contains(path, "Jitter") {
		t.Errorf("%s: path %s, want a jittered start ending Finalized", name, compact(path))
	}
	req := r.request(arn)
	if req.Mode != rollout.ModeRecycle || req.Trigger.Kind != "schedule" || req.StartAt.Before(night) || !req.StartAt.Before(night.Add(jitter)) {
		t.Errorf("%s: request %+v; want a recycle from the schedule starting within the jitter", name, req)
	}
	if prep := r.entered(arn, "Prepare"); prep.Before(req.StartAt) {
		t.Errorf("%s: Prepare at %s, before the start %s", name, prep, req.StartAt)
	}
	if rec := r.rollout(aws.ToString(execs[0].Name)); rec.status != "finalized" || rec.from != 1 || rec.to != 1 {
		t.Errorf("%s: ledger %+v; want finalized on version 1", name, rec)
	}
	if len(after) != len(before) {
		t.Errorf("%s: %d instances in service, want %d", name, len(after), len(before))
	}
	for id, launched := range after {
		if _, old := before[id]; old || launched.Before(night) {
			t.Errorf("%s: instance %s launched %s survived the recycle", name, id, launched)
		}
	}
	g := r.group(name)
	if g.version != "1" || g.images[f.image] != len(before) || r.templateVersions(f.launchTemplate) != 1 || r.defaultVersion(f.launchTemplate) != 1 {
		t.Errorf("%s: group on %q with images %v, %d template versions, default %d; want the launch template untouched",
			name, g.version, g.images, r.templateVersions(f.launchTemplate), r.defaultVersion(f.launchTemplate))
	}
	if rf := r.refreshes(name); len(rf) != 1 || rf[0].Preferences == nil || aws.ToBool(rf[0].Preferences.SkipMatching) {
		t.Errorf("%s: refreshes %+v; want one, SkipMatching off", name, rf)
	}
	if r.leased(name) {
		t.Errorf("%s: the lease is still held", name)
	}
}

func TestARecycleThatHitsUnhealthyInstancesStopsWithTheFleetServing(t *testing.T) {
	t.Parallel()
	r := newRecycleRig(t, 42, map[string]string{"RecycleJitterSeconds": "0"})
	f := r.newFleet(fleetSpec{name: "flaky", size: 2, tags: map[string]string{"phoenix:recycle": "true", "phoenix:max-age": "1h"}})
	before := r.instances(f.name)

	// The night starts the recycle at once (no jitter).
	r.until(nightAt(0))
	r.env.RunUntil(t, 10*time.Minute, "the night's recycle to start", func() bool { return len(r.recycles()[f.name]) > 0 })
	execs := r.recycles()[f.name]
	if len(execs) != 1 {
		t.Fatalf("night 0 started %d recycles of %s\n%s", len(execs), f.name, r.functionLogs())
	}
	arn := aws.ToString(execs[0].ExecutionArn)
	// Every instance the refresh launches fails its load balancer health
	// checks (an outage of what the same image needs at boot); instances
	// launched once the refresh stopped rolling forward are left alone.
	flapped := map[string]bool{}
	minHealthy := len(before)
	ctx := api.WithRequest(r.ctx, api.Request{Region: region, Account: r.env.Cloud.World.Account()})
	r.env.RunUntil(t, 6*time.Hour, "the recycle to end", func() bool {
		if rf := r.refreshes(f.name); len(rf) > 0 && (rf[0].Status == astypes.InstanceRefreshStatusPending || rf[0].Status == astypes.InstanceRefreshStatusInProgress) {
			for id := range r.instancesAll(f.name) {
				if _, old := before[id]; !old && !flapped[id] {
					if _, err := r.env.Cloud.Faults.Add(faults.Rule{Kind: faults.HealthFlap, Target: id}); err != nil {
						t.Fatal(err)
					}
					flapped[id] = true
				}
			}
		}
		minHealthy = min(minHealthy, r.healthyTargets(f.targetGroup))
		d, err := r.env.Cloud.StepFunctions.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		return d.Status != sfntypes.ExecutionStatusRunning
	})
	if len(flapped) == 0 {
		t.Fatal("the refresh launched no instance to make unhealthy")
	}
	end := r.wait(arn, time.Minute)
	path := r.path(arn)
	t.Logf("path: %s", compact(path))
	if end.Status != sfntypes.ExecutionStatusSucceeded || path[len(path)-1] != "Reverted" || !contains(path, []string{"Validate", "Verdict", "Revert"}) {
		t.Fatalf("execution %s, path %s: want a failed validation stopping the recycle, ending Reverted\n%s", end.Status, compact(path), r.functionLogs())
	}
	rec := r.rollout(aws.ToString(execs[0].Name))
	if rec.status != "reverted" || rec.reason == "" || rec.from != 1 || rec.to != 1 {
		t.Errorf("ledger rollout %+v; want reverted on version 1 with the reason", rec)
	}
	// The fleet served throughout and serves now, on healthy instances of
	// the same version; the launch template was never touched.
	if minHealthy < 1 {
		t.Errorf("the target group had no healthy target at some point")
	}
	if !r.env.Cloud.Clock.RunUntil(30*time.Minute, func() bool { return r.healthyTargets(f.targetGroup) == len(before) }) {
		th, _ := r.env.ELB.DescribeTargetHealth(r.ctx, &elasticloadbalancingv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(f.targetGroup)})
		for _, d := range th.TargetHealthDescriptions {
			t.Logf("target %s %s %s", aws.ToString(d.Target.Id), d.TargetHealth.State, d.TargetHealth.Reason)
		}
		t.Logf("instances %v flapped %v before %v", r.instancesAll(f.name), flapped, before)
		for _, rf := range r.refreshes(f.name) {
			t.Logf("refresh %s %s %s", aws.ToString(rf.InstanceRefreshId), rf.Status, aws.ToString(rf.StatusReason))
		}
		// AWS's rollback replaces every instance the refresh launched, also
		// when (as in a recycle) they run the saved configuration.
		t.Fatal("the fleet is not healthy 30 minutes after the recycle stopped: instances the recycle launched are still in service")
	}
	g := r.group(f.name)
	if g.inService != len(before) || g.images[f.image] != len(before) || g.version != "1" {
		t.Errorf("fleet: %d in service, images %v, group on %q", g.inService, g.images, g.version)
	}
	for id := range r.instances(f.name) {
		if flapped[id] {
			t.Errorf("unhealthy instance %s is still in service", id)
		}
	}
	if r.templateVersions(f.launchTemplate) != 1 || r.defaultVersion(f.launchTemplate) != 1 {
		t.Errorf("the launch template changed: %d versions, default %d", r.templateVersions(f.launchTemplate), r.defaultVersion(f.launchTemplate))
	}
	if rf := r.refreshes(f.name); len(rf) == 0 || !strings.HasPrefix(string(rf[0].Status), "Rollback") && rf[0].Status != astypes.InstanceRefreshStatusCancelled {
		t.Errorf("refreshes %+v; want the recycle's refresh rolled back or cancelled", rf)
	}
	if r.leased(f.name) {
		t.Error("the lease is still held")
	}
	if got := r.notifications(aws.ToString(execs[0].Name)); !slices.Equal(got, []string{"Phoenix Rollout Started", "Phoenix Rollout Reverted"}) {
		t.Errorf("events %v", got)
	}
}

// instancesAll returns every instance of the group, whatever its state.
func (r *recycleRig) instancesAll(group string) map[string]string {
	r.t.Helper()
	out, err := r.env.AutoScaling.DescribeAutoScalingGroups(r.ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{group}})
	if err != nil || len(out.AutoScalingGroups) != 1 {
		r.t.Fatalf("describe group %s: %v", group, err)
	}
	got := map[string]string{}
	for _, in := range out.AutoScalingGroups[0].Instances {
		got[aws.ToString(in.InstanceId)] = string(in.LifecycleState)
	}
	return got
}
