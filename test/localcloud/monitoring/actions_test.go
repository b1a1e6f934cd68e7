package monitoring_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/monitoring"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/notify"
)

// These tests run alarm actions on the whole local cloud, whose CloudWatch
// publishes to its SNS, through real SDK clients.

// actionEnv is a cloud with one unencrypted topic.
type actionEnv struct {
	*cloudtest.Env
	t     *testing.T
	ctx   context.Context
	topic string
}

func newActionEnv(t *testing.T) *actionEnv {
	t.Helper()
	env := cloudtest.New(t)
	e := &actionEnv{Env: env, t: t, ctx: t.Context()}
	e.topic = e.createTopic("ops")
	return e
}

func (e *actionEnv) createTopic(name string) string {
	e.t.Helper()
	out, err := e.SNS.CreateTopic(e.ctx, &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		e.t.Fatal(err)
	}
	return aws.ToString(out.TopicArn)
}

// errorsAlarm is an alarm on Phoenix/Test Errors (Service=web): Sum > 10 in
// two of three one-minute periods, Count.
func errorsAlarm(name string) *cloudwatch.PutMetricAlarmInput {
	return &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(name), AlarmDescription: aws.String("Too many errors"),
		Namespace: aws.String("Phoenix/Test"), MetricName: aws.String("Errors"),
		Dimensions: []types.Dimension{{Name: aws.String("Service"), Value: aws.String("web")}},
		Statistic:  types.StatisticSum, Unit: types.StandardUnitCount, Period: aws.Int32(60),
		EvaluationPeriods: aws.Int32(3), DatapointsToAlarm: aws.Int32(2), Threshold: aws.Float64(10),
		ComparisonOperator: types.ComparisonOperatorGreaterThanThreshold,
	}
}

func (e *actionEnv) putAlarm(in *cloudwatch.PutMetricAlarmInput) {
	e.t.Helper()
	if _, err := e.CloudWatch.PutMetricAlarm(e.ctx, in); err != nil {
		e.t.Fatal(err)
	}
	e.Settle()
}

// minute publishes one errors datapoint and moves time on a minute.
func (e *actionEnv) minute(v float64) {
	e.t.Helper()
	_, err := e.CloudWatch.PutMetricData(e.ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("Phoenix/Test"), MetricData: []types.MetricDatum{{
		MetricName: aws.String("Errors"), Value: aws.Float64(v), Unit: types.StandardUnitCount,
		Dimensions: []types.Dimension{{Name: aws.String("Service"), Value: aws.String("web")}},
	}}})
	if err != nil {
		e.t.Fatal(err)
	}
	e.Advance(time.Minute)
}

func (e *actionEnv) setState(name string, state types.StateValue) {
	e.t.Helper()
	if _, err := e.CloudWatch.SetAlarmState(e.ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String(name), StateValue: state, StateReason: aws.String("testing actions")}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *actionEnv) describe(name string) types.MetricAlarm {
	e.t.Helper()
	out, err := e.CloudWatch.DescribeAlarms(e.ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name}})
	if err != nil || len(out.MetricAlarms) != 1 {
		e.t.Fatalf("DescribeAlarms %s: %v", name, err)
	}
	return out.MetricAlarms[0]
}

func (e *actionEnv) history(name string, kind types.HistoryItemType) []types.AlarmHistoryItem {
	e.t.Helper()
	out, err := e.CloudWatch.DescribeAlarmHistory(e.ctx, &cloudwatch.DescribeAlarmHistoryInput{AlarmName: aws.String(name), HistoryItemType: kind, ScanBy: types.ScanByTimestampAscending})
	if err != nil {
		e.t.Fatal(err)
	}
	return out.AlarmHistoryItems
}

// notifications decodes what CloudWatch published to topic, oldest first.
func (e *actionEnv) notifications(topic string) ([]notify.Message, []monitoring.AlarmNotification) {
	e.t.Helper()
	msgs := e.Cloud.SNS.Messages(topic)
	var out []monitoring.AlarmNotification
	for _, m := range msgs {
		n, err := monitoring.ParseAlarmNotification(m.Message)
		if err != nil {
			e.t.Fatalf("message %q: %v", m.Message, err)
		}
		out = append(out, n)
	}
	return msgs, out
}

func TestAnAlarmEnteringALARMPublishesCloudWatchsNotificationOnce(t *testing.T) {
	e := newActionEnv(t)
	in := errorsAlarm("errors-high")
	in.AlarmActions = []string{e.topic}
	e.putAlarm(in)
	for i := 0; i < 6 && e.describe("errors-high").StateValue != types.StateValueAlarm; i++ {
		e.minute(20)
	}
	a := e.describe("errors-high")
	if a.StateValue != types.StateValueAlarm {
		t.Fatalf("alarm state %s after six breaching minutes", a.StateValue)
	}
	// Staying in ALARM is no state change: nothing more is sent.
	e.minute(20)
	e.minute(20)

	msgs, got := e.notifications(e.topic)
	if len(msgs) != 1 {
		t.Fatalf("%d messages published, want 1: %+v", len(msgs), msgs)
	}
	m, n := msgs[0], got[0]
	if want := `ALARM: "errors-high" in US East (N. Virginia)`; m.Subject != want {
		t.Errorf("subject %q, want %q", m.Subject, want)
	}
	stamp := func(ts *time.Time) string { return aws.ToTime(ts).UTC().Format("2006-01-02T15:04:05.000+0000") }
	want := monitoring.AlarmNotification{
		AlarmName: "errors-high", AlarmDescription: aws.String("Too many errors"), AWSAccountID: "123456789012",
		AlarmConfigurationUpdatedTimestamp: stamp(a.AlarmConfigurationUpdatedTimestamp),
		NewStateValue:                      "ALARM", NewStateReason: aws.ToString(a.StateReason), StateChangeTime: stamp(a.StateUpdatedTimestamp),
		Region: "US East (N. Virginia)", AlarmARN: "arn:aws:cloudwatch:us-east-1:123456789012:alarm:errors-high",
		OldStateValue: "INSUFFICIENT_DATA", OKActions: []string{}, AlarmActions: []string{e.topic}, InsufficientDataActions: []string{},
		Trigger: monitoring.AlarmTrigger{
			MetricName: "Errors", Namespace: "Phoenix/Test", StatisticType: "Statistic", Statistic: "SUM", Unit: aws.String("Count"),
			Dimensions: []monitoring.TriggerDimension{{Value: "web", Name: "Service"}}, Period: 60, EvaluationPeriods: 3,
			DatapointsToAlarm: aws.Int32(2), ComparisonOperator: "GreaterThanThreshold", Threshold: "10.0", TreatMissingData: "missing",
		},
	}
	gotJSON, _ := json.Marshal(n)
	wantJSON, _ := json.Marshal(want)
	if string(gotJSON) != string(wantJSON) {
		t.Errorf("notification\n got %s\nwant %s", gotJSON, wantJSON)
	}

	if !strings.HasPrefix(m.Message, `{"AlarmName":"errors-high","AlarmDescription":"Too many errors","AWSAccountId":"123456789012","AlarmConfigurationUpdatedTimestamp":`) ||
		!strings.Contains(m.Message, `"Threshold":10.0,`) {
		t.Errorf("message is not in CloudWatch's order and form: %s", m.Message)
	}

	items := e.history("errors-high", types.HistoryItemTypeAction)
	if len(items) != 1 || aws.ToString(items[0].HistorySummary) != "Successfully executed action "+e.topic {
		t.Fatalf("action history %+v, want one success", items)
	}
	var data struct {
		ActionState          string
		StateUpdateTimestamp int64
		NotificationResource string
		PublishedMessage     string
		Error                *string
	}
	if err := json.Unmarshal([]byte(aws.ToString(items[0].HistoryData)), &data); err != nil {
		t.Fatal(err)
	}
	if data.ActionState != "Succeeded" || data.NotificationResource != e.topic || data.PublishedMessage != m.Message || data.Error != nil ||
		data.StateUpdateTimestamp != aws.ToTime(a.StateUpdatedTimestamp).UnixMilli() || !aws.ToTime(items[0].Timestamp).Equal(aws.ToTime(a.StateUpdatedTimestamp)) {
		t.Errorf("action history data %s", aws.ToString(items[0].HistoryData))
	}
}

func TestEachStateRunsItsOwnActions(t *testing.T) {
	e := newActionEnv(t)
	okTopic, insufficientTopic := e.createTopic("ok"), e.createTopic("insufficient")
	in := errorsAlarm("flappy")
	in.AlarmActions, in.OKActions, in.InsufficientDataActions = []string{e.topic}, []string{okTopic}, []string{insufficientTopic}
	e.putAlarm(in)
	e.setState("flappy", types.StateValueAlarm)
	e.setState("flappy", types.StateValueOk)
	e.setState("flappy", types.StateValueInsufficientData)
	for _, c := range []struct{ topic, subject, old, new string }{
		{e.topic, `ALARM: "flappy" in US East (N. Virginia)`, "INSUFFICIENT_DATA", "ALARM"},
		{okTopic, `OK: "flappy" in US East (N. Virginia)`, "ALARM", "OK"},
		{insufficientTopic, `INSUFFICIENT_DATA: "flappy" in US East (N. Virginia)`, "OK", "INSUFFICIENT_DATA"},
	} {
		msgs, ns := e.notifications(c.topic)
		if len(msgs) != 1 || msgs[0].Subject != c.subject || ns[0].OldStateValue != c.old || ns[0].NewStateValue != c.new || ns[0].NewStateReason != "testing actions" {
			t.Errorf("topic %s got %+v %+v, want one %s -> %s message %q", c.topic, msgs, ns, c.old, c.new, c.subject)
		}
	}
	if n := len(e.history("flappy", types.HistoryItemTypeAction)); n != 3 {
		t.Errorf("%d action history items, want 3", n)
	}
}

func TestAnAlarmRecoveringToOKNotifiesItsOKActions(t *testing.T) {
	e := newActionEnv(t)
	in := errorsAlarm("recovers")
	in.AlarmActions, in.OKActions = []string{e.topic}, []string{e.topic}
	e.putAlarm(in)
	for range 3 {
		e.minute(20)
	}
	for range 3 {
		e.minute(0)
	}
	if s := e.describe("recovers").StateValue; s != types.StateValueOk {
		t.Fatalf("state %s after three good minutes, want OK", s)
	}
	msgs, ns := e.notifications(e.topic)
	var seen []string
	for i := range msgs {
		seen = append(seen, ns[i].OldStateValue+">"+ns[i].NewStateValue)
	}
	if want := []string{"INSUFFICIENT_DATA>ALARM", "ALARM>OK"}; !slices.Equal(seen, want) {
		t.Fatalf("notifications %v, want %v", seen, want)
	}
	if !strings.HasPrefix(msgs[1].Subject, `OK: "recovers"`) || !strings.HasPrefix(ns[1].NewStateReason, "Threshold Crossed: ") {
		t.Errorf("recovery notification %q: %+v", msgs[1].Subject, ns[1])
	}
}

func TestNoActionRunsWhenActionsAreDisabled(t *testing.T) {
	e := newActionEnv(t)
	in := errorsAlarm("quiet")
	in.ActionsEnabled = aws.Bool(false)
	in.AlarmActions = []string{e.topic}
	e.putAlarm(in)
	e.setState("quiet", types.StateValueAlarm)
	if n := len(e.history("quiet", types.HistoryItemTypeStateUpdate)); n != 1 {
		t.Fatalf("%d state updates, want the one SetAlarmState made", n)
	}
	if msgs := e.Cloud.SNS.Messages(e.topic); len(msgs) != 0 {
		t.Errorf("published %+v with actions disabled", msgs)
	}
	if items := e.history("quiet", types.HistoryItemTypeAction); len(items) != 0 {
		t.Errorf("action history %+v with actions disabled", items)
	}
}

func TestOnlySNSActionsRunAndEachLeavesItsOutcome(t *testing.T) {
	e := newActionEnv(t)
	missing := "arn:aws:sns:us-east-1:123456789012:deleted"
	in := errorsAlarm("mixed")
	in.AlarmActions = []string{
		"arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:0f0e:autoScalingGroupName/web:policyName/up",
		"arn:aws:automate:us-east-1:ec2:stop",
		e.topic,
		missing,
	}
	e.putAlarm(in)
	e.setState("mixed", types.StateValueAlarm)
	if msgs := e.Cloud.SNS.Messages(e.topic); len(msgs) != 1 {
		t.Fatalf("%d messages to the topic, want 1", len(msgs))
	}
	var summaries []string
	for _, h := range e.history("mixed", types.HistoryItemTypeAction) {
		summaries = append(summaries, aws.ToString(h.HistorySummary))
	}
	want := []string{
		"Successfully executed action " + e.topic,
		`Failed to execute action ` + missing + `. Received error: "Topic does not exist"`,
	}
	if !slices.Equal(summaries, want) {
		t.Fatalf("action history\n%q\nwant\n%q", summaries, want)
	}
	failed := e.history("mixed", types.HistoryItemTypeAction)[1]
	if data := aws.ToString(failed.HistoryData); !strings.Contains(data, `"actionState":"Failed"`) || !strings.Contains(data, `"error":"Topic does not exist"`) {
		t.Errorf("failed action data %s", data)
	}
}

func TestALongAlarmNameIsCutToSNSsSubjectLimit(t *testing.T) {
	e := newActionEnv(t)
	name := strings.Repeat("phoenix-", 20)
	in := errorsAlarm(name)
	in.AlarmActions = []string{e.topic}
	in.AlarmDescription, in.Unit, in.DatapointsToAlarm = nil, "", nil
	e.putAlarm(in)
	e.setState(name, types.StateValueAlarm)
	msgs := e.Cloud.SNS.Messages(e.topic)
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1 (the action history says %+v)", len(msgs), e.history(name, types.HistoryItemTypeAction))
	}
	if s := msgs[0].Subject; len(s) != 100 || !strings.HasPrefix(s, `ALARM: "phoenix-phoenix-`) {
		t.Errorf("subject %q (%d characters), want the first 100", s, len(s))
	}
	for _, part := range []string{`"AlarmDescription":null`, `"Unit":null`} {
		if !strings.Contains(msgs[0].Message, part) {
			t.Errorf("message lacks %s: %s", part, msgs[0].Message)
		}
	}
	if strings.Contains(msgs[0].Message, "DatapointsToAlarm") {
		t.Errorf("message names DatapointsToAlarm, which the alarm was not given: %s", msgs[0].Message)
	}
}
