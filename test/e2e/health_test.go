package e2e

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
)

// Phoenix watches itself (docs/monitoring.md): the template's alarms on
// Phoenix's own health are evaluated on the metrics AWS publishes (AWS/States,
// AWS/Lambda, AWS/DynamoDB) and on those Phoenix writes in the embedded
// metric format, and their actions reach the notification topic.

// alarmName returns the physical name of one of the template's alarms.
func (r *rig) alarmName(logicalID string) string {
	r.t.Helper()
	d, ok := r.stack.Resources[logicalID]
	if !ok {
		r.t.Fatalf("the stack has no %s", logicalID)
	}
	return d.PhysicalID
}

// healthAlarms returns the state of every alarm the template declares, by
// logical id.
func (r *rig) healthAlarms() map[string]cwtypes.StateValue {
	r.t.Helper()
	out := map[string]cwtypes.StateValue{}
	for id, d := range r.stack.Resources {
		if d.Type != "AWS::CloudWatch::Alarm" {
			continue
		}
		got, err := r.env.CloudWatch.DescribeAlarms(r.ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{d.PhysicalID}})
		if err != nil || len(got.MetricAlarms) != 1 {
			r.t.Fatalf("describe alarm %s: %v", d.PhysicalID, err)
		}
		out[id] = got.MetricAlarms[0].StateValue
	}
	return out
}

// firing returns the logical ids of the template's alarms in ALARM, sorted.
func (r *rig) firing() []string {
	var out []string
	for id, st := range r.healthAlarms() {
		if st == cwtypes.StateValueAlarm {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// alarmMessage is the part of CloudWatch's SNS message the tests read.
type alarmMessage struct {
	AlarmName, NewStateValue, OldStateValue, AlarmArn string
	Trigger                                           struct {
		MetricName, Namespace string
		Dimensions            []struct{ Name, Value string } `json:"Dimensions"`
	}
}

// alarmMessages returns the alarm notifications on the topic for one alarm.
func (r *rig) alarmMessages(name string) []alarmMessage {
	r.t.Helper()
	var out []alarmMessage
	for _, m := range r.env.Cloud.SNS.Messages(r.topic) {
		var am alarmMessage
		if json.Unmarshal([]byte(m.Message), &am) != nil || am.AlarmName != name {
			continue
		}
		if !strings.HasPrefix(m.Subject, am.NewStateValue+`: "`+name+`" in `) {
			r.t.Errorf("alarm message subject %q", m.Subject)
		}
		out = append(out, am)
	}
	return out
}

// actionHistory returns the summaries of an alarm's Action history items.
func (r *rig) actionHistory(name string) []string {
	r.t.Helper()
	h, err := r.env.CloudWatch.DescribeAlarmHistory(r.ctx, &cloudwatch.DescribeAlarmHistoryInput{
		AlarmName: aws.String(name), HistoryItemType: cwtypes.HistoryItemTypeAction,
	})
	if err != nil {
		r.t.Fatalf("alarm history of %s: %v", name, err)
	}
	var out []string
	for _, it := range h.AlarmHistoryItems {
		out = append(out, aws.ToString(it.HistorySummary))
	}
	return out
}

// metricSum returns the Sum of a metric over the last hour of simulated time.
func (r *rig) metricSum(namespace, name string, dims map[string]string) float64 {
	r.t.Helper()
	var ds []cwtypes.Dimension
	for k, v := range dims {
		ds = append(ds, cwtypes.Dimension{Name: aws.String(k), Value: aws.String(v)})
	}
	end := r.env.Now().Truncate(time.Minute).Add(time.Minute)
	out, err := r.env.CloudWatch.GetMetricData(r.ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(end.Add(-3 * time.Hour)), EndTime: aws.Time(end),
		MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("m"), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String(namespace), MetricName: aws.String(name), Dimensions: ds},
			Period: aws.Int32(3 * 3600), Stat: aws.String("Sum"),
		}}},
	})
	if err != nil {
		r.t.Fatalf("GetMetricData %s/%s: %v", namespace, name, err)
	}
	var sum float64
	for _, res := range out.MetricDataResults {
		for _, v := range res.Values {
			sum += v
		}
	}
	return sum
}

// needsHuman runs a rollout of an unhealthy image whose revert function
// crashes on every call: the revert is retried, then caught, and the
// rollout ends in NeedsHuman, a failed execution.
func (r *rig) needsHuman(id string) {
	r.t.Helper()
	f := r.newFleet(fleetSpec{name: "api", size: 2})
	bad := r.image("api-v2", "unhealthy")
	if _, err := r.env.Cloud.Faults.Add(faults.Rule{Kind: faults.FunctionCrash, Target: r.stack.Resources["RevertFunction"].PhysicalID}); err != nil {
		r.t.Fatal(err)
	}
	end := r.wait(r.start(id, f.name, bad), rolloutLimit)
	if end.Status != sfntypes.ExecutionStatusFailed || aws.ToString(end.Error) != "Phoenix.NeedsHuman" {
		r.t.Fatalf("execution %s %s, want FAILED in NeedsHuman\n%s", end.Status, aws.ToString(end.Error), r.functionLogs())
	}
	// The alarm looks at each whole minute; give it two.
	r.env.Advance(2 * time.Minute)
	r.env.Settle()
}

func TestPhoenixAlarmsOnItsOwnHealthReachTheTopic(t *testing.T) {
	t.Parallel()
	t.Run("a rollout that needs a human fires rollout-needs-human, and only it", func(t *testing.T) {
		t.Parallel()
		r := newRig(t, 21)
		r.needsHuman("r-human")
		name := r.alarmName("RolloutFailedAlarm")
		if got := r.firing(); !slices.Equal(got, []string{"RolloutFailedAlarm"}) {
			t.Errorf("alarms in ALARM: %v, want RolloutFailedAlarm alone", got)
		}
		msgs := r.alarmMessages(name)
		if len(msgs) != 1 {
			t.Fatalf("%d messages from %s on the topic, want 1; action history %q", len(msgs), name, r.actionHistory(name))
		}
		m := msgs[0]
		if m.NewStateValue != "ALARM" || m.Trigger.Namespace != "AWS/States" || m.Trigger.MetricName != "ExecutionsFailed" ||
			len(m.Trigger.Dimensions) != 1 || m.Trigger.Dimensions[0].Value != r.machine {
			t.Errorf("message %+v, want ALARM on ExecutionsFailed of %s", m, r.machine)
		}
		if h := r.actionHistory(name); len(h) != 1 || !strings.HasPrefix(h[0], "Successfully executed action "+r.topic) {
			t.Errorf("action history %q, want one successful publish to %s", h, r.topic)
		}
		// Phoenix's own count of the outcome came through the Dirty
		// function's log, as CloudWatch Logs extracts it.
		if got := r.metricSum("Phoenix", "RolloutOutcomes", map[string]string{"Outcome": "needs-human"}); got != 1 {
			t.Errorf("Phoenix RolloutOutcomes needs-human = %v, want 1", got)
		}
		if got := r.messages("r-human"); !slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "Phoenix Rollout Needs Attention") }) {
			t.Errorf("rollout messages %v, want the needs-attention notice too", got)
		}
	})
	t.Run("under the AWS managed key the alarm fires but CloudWatch cannot publish", func(t *testing.T) {
		t.Parallel()
		r := newRigWith(t, 21, func(text string) string {
			return strings.Replace(text, "KmsMasterKeyId: !Ref NotificationKey", "KmsMasterKeyId: alias/aws/sns", 1)
		})
		r.needsHuman("r-human")
		name := r.alarmName("RolloutFailedAlarm")
		if got := r.firing(); !slices.Equal(got, []string{"RolloutFailedAlarm"}) {
			t.Errorf("alarms in ALARM: %v, want RolloutFailedAlarm", got)
		}
		if msgs := r.alarmMessages(name); len(msgs) != 0 {
			t.Errorf("%d alarm messages reached a topic under the AWS managed key", len(msgs))
		}
		if h := r.actionHistory(name); len(h) != 1 || !strings.HasPrefix(h[0], "Failed to execute action "+r.topic) {
			t.Errorf("action history %q, want one failed publish to %s", h, r.topic)
		}
		// Phoenix's own notifications still go out: its roles are in the
		// account, which the managed key admits through SNS.
		if got := r.messages("r-human"); !slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "Phoenix Rollout Needs Attention") }) {
			t.Errorf("rollout messages %v, want the needs-attention notice", got)
		}
	})
	t.Run("a function an event invokes fails and its errors alarm fires", func(t *testing.T) {
		t.Parallel()
		r := newRig(t, 22)
		fn := r.stack.Resources["RecycleSchedulerFunction"].PhysicalID
		if _, err := r.env.Cloud.Faults.Add(faults.Rule{Kind: faults.FunctionCrash, Target: fn, Nth: 1}); err != nil {
			t.Fatal(err)
		}
		out, err := lambda.NewFromConfig(r.env.Config).Invoke(r.ctx, &lambda.InvokeInput{FunctionName: aws.String(fn),
			Payload: []byte(`{"version":"0","id":"ev-health","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2026-01-05T03:00:00Z","region":"us-east-1","resources":[],"detail":{}}`)})
		if err != nil || out.FunctionError == nil {
			t.Fatalf("invoke with a crash: err %v, function error %v", err, out)
		}
		r.env.Advance(6 * time.Minute)
		r.env.Settle()
		if got := r.firing(); !slices.Equal(got, []string{"RecycleSchedulerErrorsAlarm"}) {
			t.Errorf("alarms in ALARM: %v, want RecycleSchedulerErrorsAlarm alone", got)
		}
		if msgs := r.alarmMessages(r.alarmName("RecycleSchedulerErrorsAlarm")); len(msgs) != 1 || msgs[0].Trigger.MetricName != "Errors" {
			t.Errorf("messages %+v, want one on Errors", msgs)
		}
	})
	t.Run("ledger reads throttled in 3 of 5 minutes fire ledger-read-throttled", func(t *testing.T) {
		t.Parallel()
		r := newRig(t, 23)
		id, err := r.env.Cloud.Faults.Add(faults.Rule{Kind: faults.Throttle, Service: "dynamodb", Operation: "GetItem"})
		if err != nil {
			t.Fatal(err)
		}
		ddb := dynamodb.NewFromConfig(r.env.Config, func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
		key := map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "GROUP#us-east-1#none"}, "sk": &ddbtypes.AttributeValueMemberS{Value: "LKG"}}
		read := func() {
			_, err := ddb.GetItem(r.ctx, &dynamodb.GetItemInput{TableName: aws.String(r.table), Key: key})
			if err == nil {
				t.Fatal("a throttled GetItem succeeded")
			}
		}
		// Two minutes of throttling are absorbed ...
		for range 2 {
			read()
			r.env.Advance(time.Minute)
		}
		r.env.Settle()
		if got := r.firing(); len(got) != 0 {
			t.Errorf("alarms in ALARM after two throttled minutes: %v", got)
		}
		// ... a third within five minutes is not.
		read()
		r.env.Advance(2 * time.Minute)
		r.env.Settle()
		r.env.Cloud.Faults.Remove(id)
		if got := r.firing(); !slices.Equal(got, []string{"LedgerReadThrottleAlarm"}) {
			t.Errorf("alarms in ALARM: %v, want LedgerReadThrottleAlarm alone", got)
		}
		if msgs := r.alarmMessages(r.alarmName("LedgerReadThrottleAlarm")); len(msgs) != 1 {
			t.Errorf("%d messages, want 1", len(msgs))
		}
	})
}
