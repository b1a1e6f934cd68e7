package e2e

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/eventbus"
)

// Alarm-triggered rollback (issue 8, docs/alarms.md) on the deployed
// template: CloudWatch emits the "CloudWatch Alarm State Change" events
// (SetAlarmState, or its own evaluation of real metrics), the template's
// rule delivers them to the alarm-events function, and the rollout state
// machine does the rest.

// alarmHandled is the detail-type of the alarm notification.
const alarmHandled = "Phoenix Alarm Handled"

// maxReaction bounds the simulated time from an alarm to the revert it
// causes: an event delivery and a Lambda invocation or two, far below the
// fallback poll (270 s while a checkpoint lies ahead, else 1500 s) and the
// checkpoint delay of the scenarios (300 s).
const maxReaction = time.Minute

// alarmRig is a rig with the alarm-events function at hand.
type alarmRig struct {
	*rig
	function string
	lambda   *lambda.Client
}

func newAlarmRig(t testing.TB, seed uint64) *alarmRig {
	t.Helper()
	r := newRig(t, seed)
	fn, ok := r.stack.Resources["AlarmEventsFunction"]
	if !ok {
		t.Fatal("the stack has no AlarmEventsFunction")
	}
	return &alarmRig{rig: r, function: fn.PhysicalID, lambda: lambda.NewFromConfig(r.env.Config)}
}

// alarm creates a metric alarm on a custom metric nobody publishes, with
// missing data not breaching: it starts OK, SetAlarmState puts it into
// ALARM, and its next evaluation (each minute) puts it back to OK, as a
// flapping alarm does. It returns the alarm's ARN.
func (a *alarmRig) alarm(name string, tags map[string]string) string {
	a.t.Helper()
	var ts []cwtypes.Tag
	for _, k := range sortedKeys(tags) {
		ts = append(ts, cwtypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	return a.putAlarm(&cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(name), Namespace: aws.String("Phoenix/E2E"), MetricName: aws.String("Errors"),
		Dimensions: []cwtypes.Dimension{{Name: aws.String("Alarm"), Value: aws.String(name)}},
		Statistic:  cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(0),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold, TreatMissingData: aws.String("notBreaching"), Tags: ts,
	})
}

func (a *alarmRig) putAlarm(in *cloudwatch.PutMetricAlarmInput) string {
	a.t.Helper()
	if _, err := a.env.CloudWatch.PutMetricAlarm(a.ctx, in); err != nil {
		a.t.Fatalf("put alarm %s: %v", aws.ToString(in.AlarmName), err)
	}
	a.env.Settle() // the first evaluation
	out, err := a.env.CloudWatch.DescribeAlarms(a.ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{aws.ToString(in.AlarmName)}})
	if err != nil || len(out.MetricAlarms) != 1 {
		a.t.Fatalf("describe alarm %s: %v", aws.ToString(in.AlarmName), err)
	}
	return aws.ToString(out.MetricAlarms[0].AlarmArn)
}

// fire puts the alarm into ALARM, which makes CloudWatch emit the state
// change event, and returns the instant.
func (a *alarmRig) fire(name string) time.Time {
	a.t.Helper()
	if _, err := a.env.CloudWatch.SetAlarmState(a.ctx, &cloudwatch.SetAlarmStateInput{
		AlarmName: aws.String(name), StateValue: cwtypes.StateValueAlarm,
		StateReason: aws.String("e2e: " + name + " breached its threshold"),
	}); err != nil {
		a.t.Fatalf("set alarm %s: %v", name, err)
	}
	return a.env.Now()
}

// chaos sets the delivery chaos of the function's rule.
func (a *alarmRig) chaos(c eventbus.Chaos) {
	a.t.Helper()
	prefix := "phoenix-AlarmEventsFunctionAlarmState"
	out, err := a.env.EventBridge.ListRules(a.ctx, &eventbridge.ListRulesInput{NamePrefix: aws.String(prefix)})
	if err != nil || len(out.Rules) != 1 {
		a.t.Fatalf("list rules %s: %v (%d found)", prefix, err, len(out.Rules))
	}
	if err := a.env.Cloud.EventBridge.SetChaos(aws.ToString(out.Rules[0].Name), c); err != nil {
		a.t.Fatal(err)
	}
}

// redeliver hands the alarm state change events of the alarm that reached
// the bus to the function again, through the Lambda API, as a replayed or
// retried delivery reaches it, and returns how many it handed over.
func (a *alarmRig) redeliver(alarm string) int {
	a.t.Helper()
	n := 0
	for _, ev := range a.env.Cloud.EventBridge.Ingested() {
		raw := string(ev.JSON)
		if !strings.Contains(raw, `"detail-type":"CloudWatch Alarm State Change"`) || !strings.Contains(raw, `"alarmName":"`+alarm+`"`) {
			continue
		}
		out, err := a.lambda.Invoke(a.ctx, &lambda.InvokeInput{FunctionName: aws.String(a.function), Payload: ev.JSON})
		if err != nil || out.FunctionError != nil {
			a.t.Fatalf("invoke %s: %v %s", a.function, err, out.Payload)
		}
		n++
	}
	return n
}

// alarmEvents counts the alarm state change events into ALARM on the bus.
func (a *alarmRig) alarmEvents() int {
	n := 0
	for _, ev := range a.env.Cloud.EventBridge.Ingested() {
		var e struct {
			DetailType string `json:"detail-type"`
			Detail     struct {
				State struct {
					Value string `json:"value"`
				} `json:"state"`
			} `json:"detail"`
		}
		if json.Unmarshal(ev.JSON, &e) == nil && e.DetailType == "CloudWatch Alarm State Change" && e.Detail.State.Value == "ALARM" {
			n++
		}
	}
	return n
}

// alarmNotice is an alarm notification as it reached the bus.
type alarmNotice struct {
	RolloutID string `json:"rolloutId"`
	Group     string `json:"group"`
	Reason    string `json:"reason"`
}

// notices returns the "Phoenix Alarm Handled" events about a group.
func (a *alarmRig) notices(group string) []alarmNotice {
	var out []alarmNotice
	for _, ev := range a.env.Cloud.EventBridge.Ingested() {
		var e struct {
			Source     string      `json:"source"`
			DetailType string      `json:"detail-type"`
			Detail     alarmNotice `json:"detail"`
		}
		if json.Unmarshal(ev.JSON, &e) == nil && e.Source == "phoenix.rollouts" && e.DetailType == alarmHandled && e.Detail.Group == group {
			out = append(out, e.Detail)
		}
	}
	return out
}

// signals returns the kinds of the signals the ledger holds for a rollout.
func (a *alarmRig) signals(rolloutID string) []string {
	a.t.Helper()
	out, err := a.ddb.Query(a.ctx, &dynamodb.QueryInput{
		TableName:              aws.String(a.table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :sig)"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":pk": &ddbtypes.AttributeValueMemberS{Value: "ROLLOUT#" + rolloutID}, ":sig": &ddbtypes.AttributeValueMemberS{Value: "SIGNAL#"},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		a.t.Fatalf("query signals of %s: %v", rolloutID, err)
	}
	var kinds []string
	for _, it := range out.Items {
		kinds = append(kinds, s(it["kind"]))
	}
	return kinds
}

// reverts returns the revert executions Phoenix started (names rvt-...),
// oldest first.
func (a *alarmRig) reverts() []sfntypes.ExecutionListItem {
	a.t.Helper()
	var out []sfntypes.ExecutionListItem
	p := sfn.NewListExecutionsPaginator(a.env.StepFunctions, &sfn.ListExecutionsInput{StateMachineArn: aws.String(a.machine)})
	for p.HasMorePages() {
		page, err := p.NextPage(a.ctx)
		if err != nil {
			a.t.Fatalf("list executions: %v", err)
		}
		for _, e := range page.Executions {
			if strings.HasPrefix(aws.ToString(e.Name), "rvt-") {
				out = append(out, e)
			}
		}
	}
	slices.Reverse(out)
	return out
}

// awaitRevert steps time until a revert execution exists and returns it.
func (a *alarmRig) awaitRevert(limit time.Duration) sfntypes.ExecutionListItem {
	a.t.Helper()
	a.env.RunUntil(a.t, limit, "a revert execution", func() bool { return len(a.reverts()) > 0 })
	return a.reverts()[0]
}

// ingestedAfter reports whether an event of the detail-type about the group
// reached the bus.
func (a *alarmRig) ingested(detailType, group string) bool {
	for _, ev := range a.env.Cloud.EventBridge.Ingested() {
		raw := string(ev.JSON)
		if strings.Contains(raw, `"detail-type":"`+detailType+`"`) && strings.Contains(raw, `"AutoScalingGroupName":"`+group+`"`) {
			return true
		}
	}
	return false
}

// rollbackStart returns when the group's newest refresh began rolling back
// (zero if it did not), as DescribeInstanceRefreshes shows it.
func (a *alarmRig) rollbackStart(group string) time.Time {
	a.t.Helper()
	rf, ok := a.newestRefresh(group)
	if !ok || rf.RollbackDetails == nil {
		return time.Time{}
	}
	return aws.ToTime(rf.RollbackDetails.RollbackStartTime)
}

// launchTemplateVersions counts the versions of a launch template.
func (a *alarmRig) launchTemplateVersions(ltID string) int {
	a.t.Helper()
	out, err := a.env.EC2.DescribeLaunchTemplateVersions(a.ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(ltID)})
	if err != nil {
		a.t.Fatalf("describe launch template versions: %v", err)
	}
	return len(out.LaunchTemplateVersions)
}

// wantBackOn checks the fleet is wholly on the image at the version, which
// is the launch template's default.
func (a *alarmRig) wantBackOn(t *testing.T, f fleet, version int64, image string, size int) {
	t.Helper()
	g := a.group(f.name)
	if g.inService != size || g.images[image] != size || g.version != fmt.Sprint(version) {
		t.Errorf("fleet: %d in service, by image %v, group on %q; want all %d on %s at version %d", g.inService, g.images, g.version, size, image, version)
	}
	if v := a.defaultVersion(f.launchTemplate); v != version {
		t.Errorf("default version = %d, want %d", v, version)
	}
}

// midRollout runs one scenario of an alarm during a rollout: start an
// image rollout of a healthy image on a group the alarm names by its
// phoenix:group tag (so neither AutoRollback nor validation reads it, and
// only the alarm path can revert), step time until when() holds, fire the
// alarm and wait for the end. It checks that the rollout reverted at once
// because of the alarm, and returns the path and the alarm's instant.
func midRollout(t *testing.T, seed uint64, name string, when func(a *alarmRig, arn string) bool) ([]string, time.Time, *alarmRig) {
	t.Helper()
	a := newAlarmRig(t, seed)
	f := a.newFleet(fleetSpec{name: "web", size: 4})
	a.alarm("web-5xx", map[string]string{"phoenix:group": "web"})
	img := a.image("web-v2", "healthy")
	arn := a.start(name, f.name, img)
	a.env.RunUntil(t, rolloutLimit, "the moment to fire the alarm", func() bool { return when(a, arn) })
	at := a.fire("web-5xx")

	end := a.wait(arn, rolloutLimit)
	if end.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution %s: %s %s\n%s", end.Status, aws.ToString(end.Error), aws.ToString(end.Cause), a.functionLogs())
	}
	path := a.path(arn)
	t.Logf("path: %s", compact(path))
	if path[len(path)-1] != "Reverted" {
		t.Fatalf("path %s, want it to end Reverted", compact(path))
	}
	reverted := a.entered(arn, "Revert")
	if reverted.Before(at) || reverted.Sub(at) > maxReaction {
		t.Errorf("Revert entered %s after the alarm, want at once (within %s: no poll, no next checkpoint)", reverted.Sub(at), maxReaction)
	}
	if rb := a.rollbackStart(f.name); rb.IsZero() || rb.Before(at) || rb.Sub(at) > maxReaction {
		t.Errorf("RollbackInstanceRefresh at %s, alarm at %s; want the native rollback within %s", rb, at, maxReaction)
	} else {
		t.Logf("alarm to Revert %s, to RollbackInstanceRefresh %s (simulated)", reverted.Sub(at), rb.Sub(at))
	}
	// The alarm is the one signal that asked for the revert: only progress
	// signals precede it (the rollback's own follow).
	sig := a.signals(name)
	i := slices.Index(sig, "alarm")
	if i < 0 || strings.Count(strings.Join(sig, ","), "alarm") != 1 ||
		slices.ContainsFunc(sig[:i], func(k string) bool { return k != "checkpoint" && k != "baking" }) {
		t.Errorf("signals %v, want one alarm signal, after progress signals only", sig)
	}
	rec := a.rollout(name)
	if rec.status != "reverted" || !strings.Contains(rec.reason, "web-5xx") {
		t.Errorf("ledger rollout = %+v; want reverted because of alarm web-5xx", rec)
	}
	a.wantBackOn(t, f, 1, f.image, 4)
	if v, _ := a.lkg(f.name); v != 0 {
		t.Errorf("last-known-good = %d, want none (no rollout finalized)", v)
	}
	if a.leased(f.name) {
		t.Error("the lease is still held after the rollout ended")
	}
	want := []string{"Phoenix Rollout Started", alarmHandled, "Phoenix Rollout Reverted"}
	if got := a.notifications(name); !slices.Equal(got, want) {
		t.Errorf("events = %v, want %v", got, want)
	}
	if n := a.notices(f.name); len(n) != 1 || n[0].RolloutID != name || !strings.Contains(n[0].Reason, "web-5xx") || !strings.Contains(n[0].Reason, "signalled rollout "+name) {
		t.Errorf("alarm notices = %+v, want one naming the alarm and the rollout signalled", n)
	}
	return path, at, a
}

func TestAnAlarmBeforeTheFirstCheckpointRevertsTheRolloutAtOnce(t *testing.T) {
	t.Parallel()
	path, _, _ := midRollout(t, 81, "r-alarm-early", func(a *alarmRig, _ string) bool {
		return a.rollout("r-alarm-early").refreshID != ""
	})
	if slices.Contains(path, "Validate") {
		t.Errorf("path %s: the rollout waited for a checkpoint", compact(path))
	}
}

func TestAnAlarmAtACheckpointRevertsTheRolloutAtOnce(t *testing.T) {
	t.Parallel()
	path, at, a := midRollout(t, 82, "r-alarm-checkpoint", func(a *alarmRig, _ string) bool {
		return a.ingested("EC2 Auto Scaling Instance Refresh Checkpoint Reached", "web")
	})
	if n := strings.Count(compact(path), "Validate"); n != 1 {
		t.Errorf("path %s: %d validations, want the one of the checkpoint the alarm came at", compact(path), n)
	}
	// The refresh pauses 300 s at the checkpoint: the revert came within
	// that pause, not at the next checkpoint.
	if rb := a.rollbackStart("web"); rb.Sub(at) >= 300*time.Second {
		t.Errorf("rolled back %s after the alarm, after the checkpoint pause", rb.Sub(at))
	}
}

func TestAnAlarmDuringBakeRevertsTheRolloutAtOnce(t *testing.T) {
	t.Parallel()
	path, _, _ := midRollout(t, 83, "r-alarm-bake", func(a *alarmRig, _ string) bool {
		return a.ingested("EC2 Auto Scaling Instance Refresh Started Baking", "web")
	})
	if slices.Contains(path, "Finalize") || !contains(path, []string{"Await", "Route", "Revert"}) {
		t.Errorf("path %s, want a revert routed from the alarm during bake", compact(path))
	}
}

// finalized rolls a healthy image into web (which lists web-5xx in
// phoenix:alarms) to the end and returns the fleet and the new image.
func (a *alarmRig) finalized(t *testing.T, id string, tags map[string]string) (fleet, string) {
	t.Helper()
	all := map[string]string{"phoenix:alarms": "web-5xx"}
	for k, v := range tags {
		all[k] = v
	}
	f := a.newFleet(fleetSpec{name: "web", size: 4, tags: all})
	a.alarm("web-5xx", nil)
	img := a.image("web-v2", "healthy")
	arn := a.start(id, f.name, img)
	if end := a.wait(arn, rolloutLimit); end.Status != sfntypes.ExecutionStatusSucceeded || a.rollout(id).status != "finalized" {
		t.Fatalf("rollout %s: %s, %+v\n%s", id, end.Status, a.rollout(id), a.functionLogs())
	}
	if v, im := a.lkg(f.name); v != 2 || im != img {
		t.Fatalf("last-known-good = %d (%s) after the rollout, want 2 (%s)", v, im, img)
	}
	return f, img
}

// wantRevertedByAlarm checks that the one revert execution brought the
// fleet, the launch template default and last-known-good back to version 1.
func (a *alarmRig) wantRevertedByAlarm(t *testing.T, f fleet, reverted string) sfntypes.ExecutionListItem {
	t.Helper()
	rv := a.awaitRevert(time.Hour)
	end := a.wait(aws.ToString(rv.ExecutionArn), rolloutLimit)
	if end.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("revert %s: %s %s %s\n%s", aws.ToString(rv.Name), end.Status, aws.ToString(end.Error), aws.ToString(end.Cause), a.functionLogs())
	}
	var in struct {
		Request struct {
			RolloutID string `json:"rolloutId"`
			Mode      string `json:"mode"`
			Version   int64  `json:"version"`
			Trigger   struct {
				Kind   string `json:"kind"`
				Source string `json:"source"`
			} `json:"trigger"`
		} `json:"request"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(end.Input)), &in); err != nil {
		t.Fatal(err)
	}
	if in.Request.RolloutID != aws.ToString(rv.Name) || in.Request.Mode != "revert" || in.Request.Version != 1 ||
		in.Request.Trigger.Kind != "alarm" || !strings.HasSuffix(in.Request.Trigger.Source, ":alarm:web-5xx") {
		t.Errorf("revert request %+v, want a revert to version 1 triggered by alarm web-5xx", in.Request)
	}
	t.Logf("revert path: %s", compact(a.path(aws.ToString(rv.ExecutionArn))))
	a.wantBackOn(t, f, 1, f.image, 4)
	if v, im := a.lkg(f.name); v != 1 || im != f.image {
		t.Errorf("last-known-good = %d (%s), want 1 (%s) again", v, im, f.image)
	}
	if rec := a.rollout(aws.ToString(rv.Name)); rec.status != "finalized" || rec.to != 1 {
		t.Errorf("revert rollout = %+v, want finalized to version 1", rec)
	}
	if rec := a.rollout(reverted); rec.status != "finalized" {
		t.Errorf("the reverted rollout's record changed: %+v", rec)
	}
	return rv
}

func TestAnAlarmAfterFinalizeInsideTheGuardWindowRevertsToThePreviousLastKnownGood(t *testing.T) {
	t.Parallel()
	a := newAlarmRig(t, 84)
	f, img := a.finalized(t, "r-alarm-after", nil)
	a.env.Advance(20 * time.Minute)
	at := a.fire("web-5xx")

	rv := a.wantRevertedByAlarm(t, f, "r-alarm-after")
	if started := aws.ToTime(rv.StartDate); started.Sub(at) > maxReaction {
		t.Errorf("revert started %s after the alarm, want at once", started.Sub(at))
	}
	n := a.notices(f.name)
	if len(n) != 1 || n[0].RolloutID != "r-alarm-after" || !strings.Contains(n[0].Reason, "started revert rollout "+aws.ToString(rv.Name)+" to version 1") {
		t.Errorf("alarm notices = %+v, want one: revert of r-alarm-after to version 1", n)
	}
	if g := a.group(f.name); g.images[img] != 0 {
		t.Errorf("instances on the condemned image %s remain: %v", img, g.images)
	}
}

func TestAnAlarmAfterTheGuardWindowOnlyNotifies(t *testing.T) {
	t.Parallel()
	a := newAlarmRig(t, 85)
	f, img := a.finalized(t, "r-alarm-late", nil)
	// The default guard window is two hours.
	a.env.Advance(2*time.Hour + time.Minute)
	a.fire("web-5xx")
	a.env.RunUntil(t, 10*time.Minute, "the alarm notice", func() bool { return len(a.notices(f.name)) > 0 })
	a.env.Advance(10 * time.Minute)

	if rv := a.reverts(); len(rv) != 0 {
		t.Errorf("revert executions %v, want none", rv)
	}
	a.wantBackOn(t, f, 2, img, 4)
	if v, _ := a.lkg(f.name); v != 2 {
		t.Errorf("last-known-good = %d, want 2 still", v)
	}
	n := a.notices(f.name)
	if len(n) != 1 || n[0].RolloutID != "r-alarm-late" || !strings.Contains(n[0].Reason, "changed nothing") {
		t.Errorf("alarm notices = %+v, want one saying nothing changed", n)
	}
	if len(a.refreshes(f.name)) != 1 {
		t.Error("a refresh was started")
	}
}

func TestAStormOfAlarmsRevertsOnce(t *testing.T) {
	t.Parallel()
	storm := func(a *alarmRig) []string {
		names := []string{"web-5xx"}
		for i := 1; i < 5; i++ {
			name := fmt.Sprintf("web-storm-%d", i)
			a.alarm(name, map[string]string{"phoenix:group": "web"})
			names = append(names, name)
		}
		// Every delivery comes twice, some late.
		a.chaos(eventbus.Chaos{Duplicate: 1, Delay: 0.5, MaxDelay: 2 * time.Minute})
		for _, n := range names {
			a.fire(n)
		}
		// Flapping: back to OK at the next evaluation, then ALARM again.
		a.env.Advance(90 * time.Second)
		a.fire("web-5xx")
		a.fire("web-storm-1")
		return names
	}
	t.Run("after finalize, one revert execution", func(t *testing.T) {
		t.Parallel()
		a := newAlarmRig(t, 86)
		f, _ := a.finalized(t, "r-storm-after", nil)
		a.env.Advance(10 * time.Minute)
		storm(a)
		a.wantRevertedByAlarm(t, f, "r-storm-after")
		if n := a.redeliver("web-storm-2"); n == 0 {
			t.Fatal("no event of web-storm-2 to deliver again")
		}
		if rv := a.reverts(); len(rv) != 1 {
			t.Errorf("%d revert executions, want 1: %v", len(rv), rv)
		}
		if n := a.alarmEvents(); n < 7 {
			t.Errorf("%d ALARM events, want the storm's 7", n)
		}
		// One notice for the revert; later alarms see the revert rollout as
		// the group's latest and only notify, once each.
		n := a.notices(f.name)
		reverts := 0
		for _, x := range n {
			if strings.Contains(x.Reason, "started revert rollout") {
				reverts++
			}
		}
		if reverts != 1 {
			t.Errorf("%d notices of a revert started, want 1: %+v", reverts, n)
		}
	})
	t.Run("in flight, one alarm signal", func(t *testing.T) {
		t.Parallel()
		a := newAlarmRig(t, 87)
		f := a.newFleet(fleetSpec{name: "web", size: 4})
		a.alarm("web-5xx", map[string]string{"phoenix:group": "web"})
		img := a.image("web-v2", "healthy")
		arn := a.start("r-storm-flight", f.name, img)
		a.env.RunUntil(t, rolloutLimit, "the refresh", func() bool { return a.rollout("r-storm-flight").refreshID != "" })
		storm(a)
		if end := a.wait(arn, rolloutLimit); end.Status != sfntypes.ExecutionStatusSucceeded {
			t.Fatalf("execution %s\n%s", end.Status, a.functionLogs())
		}
		a.redeliver("web-storm-3")
		if sig := a.signals("r-storm-flight"); strings.Count(strings.Join(sig, ","), "alarm") != 1 {
			t.Errorf("signals %v, want exactly one alarm signal", sig)
		}
		if rec := a.rollout("r-storm-flight"); rec.status != "reverted" {
			t.Errorf("rollout %+v, want reverted", rec)
		}
		signalled := 0
		for _, x := range a.notices(f.name) {
			if strings.Contains(x.Reason, "signalled rollout") {
				signalled++
			}
		}
		if signalled != 1 {
			t.Errorf("%d notices of the rollout signalled, want 1: %+v", signalled, a.notices(f.name))
		}
		if len(a.reverts()) != 0 {
			t.Error("a revert execution was started for a rollout in flight")
		}
		a.wantBackOn(t, f, 1, f.image, 4)
	})
}

func TestAnAlarmForAGroupPhoenixDoesNotManageDoesNothing(t *testing.T) {
	t.Parallel()
	a := newAlarmRig(t, 88)
	f := a.newFleet(fleetSpec{name: "legacy", size: 2, tags: map[string]string{"phoenix:enabled": "false", "phoenix:alarms": "legacy-5xx"}})
	a.alarm("legacy-5xx", map[string]string{"phoenix:group": "legacy"})
	a.alarm("db-cpu", nil)
	before := a.group(f.name)
	a.fire("legacy-5xx")
	a.fire("db-cpu")
	a.env.Advance(10 * time.Minute)

	if n := a.invocations()[a.function]; n != 2 {
		t.Errorf("alarm-events ran %d times, want once per ALARM event (2)", n)
	}
	if n := a.notices(f.name); len(n) != 0 {
		t.Errorf("notices %+v, want none", n)
	}
	for _, m := range a.env.Cloud.SNS.Messages(a.topic) {
		t.Errorf("SNS message %q, want none", m.Subject)
	}
	if len(a.reverts()) != 0 || len(a.refreshes(f.name)) != 0 {
		t.Error("something was started")
	}
	if after := a.group(f.name); after.version != before.version || after.inService != before.inService {
		t.Errorf("group changed: %+v -> %+v", before, after)
	}
	if logs := a.env.Cloud.Lambda.LogText(region, a.function); !strings.Contains(logs, "does not manage") || !strings.Contains(logs, "guards no group Phoenix manages") {
		t.Errorf("the function did not log why it did nothing:\n%s", logs)
	}
}

func TestARecycleInFlightIsStoppedNotReverted(t *testing.T) {
	t.Parallel()
	a := newAlarmRig(t, 89)
	f := a.newFleet(fleetSpec{name: "web", size: 4})
	a.alarm("web-5xx", map[string]string{"phoenix:group": "web"})
	in, _ := json.Marshal(map[string]any{"request": map[string]any{
		"rolloutId": "c-recycle", "target": map[string]string{"region": region, "group": f.name}, "mode": "recycle",
		"trigger": map[string]string{"kind": "manual", "source": "e2e"},
	}})
	out, err := a.env.StepFunctions.StartExecution(a.ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(a.machine), Name: aws.String("c-recycle"), Input: aws.String(string(in)),
	})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.ExecutionArn)
	a.env.RunUntil(t, rolloutLimit, "a replacement", func() bool {
		for _, rf := range a.refreshes(f.name) {
			if aws.ToInt32(rf.PercentageComplete) > 0 {
				return true
			}
		}
		return false
	})
	at := a.fire("web-5xx")
	end := a.wait(arn, rolloutLimit)
	if end.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution %s: %s %s\n%s", end.Status, aws.ToString(end.Error), aws.ToString(end.Cause), a.functionLogs())
	}
	path := a.path(arn)
	t.Logf("path: %s", compact(path))
	if reverted := a.entered(arn, "Revert"); reverted.IsZero() || reverted.Sub(at) > maxReaction {
		t.Errorf("path %s: Revert entered %s after the alarm, want at once", compact(path), reverted.Sub(at))
	}
	if n := a.launchTemplateVersions(f.launchTemplate); n != 1 {
		t.Errorf("%d launch template versions, want the one the recycle started on", n)
	}
	g := a.group(f.name)
	if g.version != "1" || g.inService != 4 || g.images[f.image] != 4 || a.defaultVersion(f.launchTemplate) != 1 {
		t.Errorf("fleet: group on %q, %d in service by image %v; want all 4 still on version 1 (%s)", g.version, g.inService, g.images, f.image)
	}
	if len(a.reverts()) != 0 {
		t.Error("a revert rollout was started for a recycle")
	}
	if n := a.notices(f.name); len(n) != 1 || !strings.Contains(n[0].Reason, "signalled recycle c-recycle to stop") {
		t.Errorf("alarm notices = %+v, want one saying the recycle stops", n)
	}
	if rf := a.refreshes(f.name); len(rf) != 1 || !strings.HasPrefix(string(rf[0].Status), "Rollback") && rf[0].Status != astypes.InstanceRefreshStatusCancelled {
		t.Errorf("refreshes %+v, want the recycle's refresh rolled back or cancelled", rf)
	}
}

// degradingFleet makes web (listing web-5xx in phoenix:alarms) and an alarm
// web-5xx on the 5xx count its load balancer reports for it, as users set
// one up: AWS/ApplicationELB HTTPCode_Target_5XX_Count, which the local
// cloud publishes every minute from what the instances answer.
func (a *alarmRig) degradingFleet(t testing.TB, size int, tags map[string]string) fleet {
	t.Helper()
	all := map[string]string{"phoenix:alarms": "web-5xx"}
	for k, v := range tags {
		all[k] = v
	}
	f := a.newFleet(fleetSpec{name: "web", size: size, tags: all})
	lbs, err := a.env.ELB.DescribeLoadBalancers(a.ctx, &elasticloadbalancingv2.DescribeLoadBalancersInput{Names: []string{"web"}})
	if err != nil || len(lbs.LoadBalancers) != 1 {
		t.Fatalf("describe load balancer web: %v", err)
	}
	// CloudWatch names them by the end of their ARNs:
	// targetgroup/NAME/ID and app/NAME/ID.
	_, tg, _ := strings.Cut(f.targetGroup, ":targetgroup/")
	_, lb, _ := strings.Cut(aws.ToString(lbs.LoadBalancers[0].LoadBalancerArn), ":loadbalancer/")
	a.putAlarm(&cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("web-5xx"), Namespace: aws.String("AWS/ApplicationELB"), MetricName: aws.String("HTTPCode_Target_5XX_Count"),
		Dimensions: []cwtypes.Dimension{
			{Name: aws.String("TargetGroup"), Value: aws.String("targetgroup/" + tg)},
			{Name: aws.String("LoadBalancer"), Value: aws.String(lb)},
		},
		Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(2), DatapointsToAlarm: aws.Int32(2),
		Threshold: aws.Float64(50), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
		TreatMissingData: aws.String("notBreaching"),
	})
	return f
}

func TestAnAlarmOnTheLoadBalancersOwnMetricsRevertsADegradingImage(t *testing.T) {
	t.Parallel()
	a := newAlarmRig(t, 90)
	f := a.degradingFleet(t, 4, nil)
	// Healthy for 40 minutes after it runs: past the rollout (about 25
	// minutes), well inside the two-hour guard window.
	img := a.image("web-v2", "degrade-after:2400")
	arn := a.start("r-degrade", f.name, img)
	if end := a.wait(arn, rolloutLimit); end.Status != sfntypes.ExecutionStatusSucceeded || a.rollout("r-degrade").status != "finalized" {
		t.Fatalf("the degrading image did not finalize first: %s %+v\n%s", end.Status, a.rollout("r-degrade"), a.functionLogs())
	}
	if n := a.alarmEvents(); n != 0 {
		t.Fatalf("the alarm fired %d times during the healthy rollout; the scenario would test nothing", n)
	}
	rv := a.wantRevertedByAlarm(t, f, "r-degrade")
	var reason string
	for _, ev := range a.env.Cloud.EventBridge.Ingested() {
		raw := string(ev.JSON)
		if strings.Contains(raw, `"CloudWatch Alarm State Change"`) && strings.Contains(raw, `"value":"ALARM"`) {
			var e struct {
				Detail struct {
					State struct {
						Reason string `json:"reason"`
					} `json:"state"`
				} `json:"detail"`
			}
			_ = json.Unmarshal(ev.JSON, &e)
			reason = e.Detail.State.Reason
			break
		}
	}
	if !strings.HasPrefix(reason, "Threshold Crossed") {
		t.Errorf("the ALARM came with reason %q, want CloudWatch's own evaluation", reason)
	}
	t.Logf("CloudWatch: %s; revert %s", reason, aws.ToString(rv.Name))
}
