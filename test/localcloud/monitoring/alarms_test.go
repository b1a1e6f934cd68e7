package monitoring

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
)

func testPutMetricAlarmRejectsWhatCloudWatchRejects(t *testing.T, backend Backend) {
	cases := []struct {
		name   string
		change func(*cloudwatch.PutMetricAlarmInput)
		code   string
	}{
		{"an alarm needs a name", func(in *cloudwatch.PutMetricAlarmInput) { in.AlarmName = nil }, "MissingParameter"},
		{"an alarm name is at most 255 characters", func(in *cloudwatch.PutMetricAlarmInput) { in.AlarmName = aws.String(strings.Repeat("a", 256)) }, "InvalidParameterValue"},
		{"evaluation periods are at least one", func(in *cloudwatch.PutMetricAlarmInput) { in.EvaluationPeriods = aws.Int32(0) }, "InvalidParameterValue"},
		{"the period is 10, 20, 30 or a multiple of 60", func(in *cloudwatch.PutMetricAlarmInput) { in.Period = aws.Int32(45) }, "InvalidParameterValue"},
		{"a one-minute alarm evaluates at most one day", func(in *cloudwatch.PutMetricAlarmInput) { in.EvaluationPeriods = aws.Int32(1441) }, "InvalidParameterValue"},
		{"datapoints to alarm cannot exceed evaluation periods", func(in *cloudwatch.PutMetricAlarmInput) { in.DatapointsToAlarm = aws.Int32(4) }, "InvalidParameterValue"},
		{"statistic and extended statistic are mutually exclusive", func(in *cloudwatch.PutMetricAlarmInput) { in.ExtendedStatistic = aws.String("p99") }, "InvalidParameterCombination"},
		{"a statistic or extended statistic is required", func(in *cloudwatch.PutMetricAlarmInput) { in.Statistic = "" }, "MissingParameter"},
		{"an extended statistic must be a percentile", func(in *cloudwatch.PutMetricAlarmInput) {
			in.Statistic, in.ExtendedStatistic = "", aws.String("p101")
		}, "InvalidParameterValue"},
		{"a threshold is required", func(in *cloudwatch.PutMetricAlarmInput) { in.Threshold = nil }, "MissingParameter"},
		{"missing data treatment is one of four words", func(in *cloudwatch.PutMetricAlarmInput) { in.TreatMissingData = aws.String("skip") }, "InvalidParameterValue"},
		{"band operators need an anomaly detection model", func(in *cloudwatch.PutMetricAlarmInput) {
			in.ComparisonOperator = types.ComparisonOperatorLessThanLowerOrGreaterThanUpperThreshold
		}, "InvalidParameterValue"},
		{"an unknown operator is refused", func(in *cloudwatch.PutMetricAlarmInput) { in.ComparisonOperator = "Bigger" }, "InvalidParameterValue"},
		{"a namespace is required for a metric alarm", func(in *cloudwatch.PutMetricAlarmInput) { in.Namespace = nil }, "MissingParameter"},
		{"metric math alarms are refused clearly", func(in *cloudwatch.PutMetricAlarmInput) {
			in.MetricName, in.Namespace = nil, nil
			in.Metrics = []types.MetricDataQuery{{Id: aws.String("e1"), Expression: aws.String("m1*2")}}
		}, "InvalidParameterValue"},
		{"actions are ARNs", func(in *cloudwatch.PutMetricAlarmInput) { in.AlarmActions = []string{"my-topic"} }, "InvalidParameterValue"},
		{"at most five actions per state", func(in *cloudwatch.PutMetricAlarmInput) {
			for range 6 {
				in.OKActions = append(in.OKActions, "arn:aws:sns:eu-west-1:123456789012:t")
			}
		}, "InvalidParameterValue"},
		{"tag keys beginning with aws: are reserved", func(in *cloudwatch.PutMetricAlarmInput) {
			in.Tags = []types.Tag{{Key: aws.String("aws:owner"), Value: aws.String("x")}}
		}, "InvalidParameterValue"},
		{"the low sample count option applies to percentiles only", func(in *cloudwatch.PutMetricAlarmInput) {
			in.EvaluateLowSampleCountPercentile = aws.String("ignore")
		}, "InvalidParameterCombination"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, backend)
			in := alarmInput("bad")
			c.change(in)
			_, err := e.cw.PutMetricAlarm(e.ctx, in)
			wantCode(t, err, c.code)
			out, _ := e.cw.DescribeAlarms(e.ctx, &cloudwatch.DescribeAlarmsInput{})
			if len(out.MetricAlarms) != 0 {
				t.Fatalf("a refused alarm was stored: %+v", out.MetricAlarms)
			}
		})
	}
}

func testANewAlarmStartsInInsufficientDataAndDescribesItsConfiguration(t *testing.T, backend Backend) {
	e := newEnv(t, backend)
	in := alarmInput("errors-high")
	in.DatapointsToAlarm = aws.Int32(2)
	in.TreatMissingData = aws.String("notBreaching")
	in.AlarmDescription = aws.String("Too many errors")
	if _, err := e.cw.PutMetricAlarm(e.ctx, in); err != nil {
		t.Fatal(err)
	}
	a := e.describe("errors-high")
	if a.StateValue != types.StateValueInsufficientData || aws.ToString(a.StateReason) != "Unchecked: Initial alarm creation" {
		t.Fatalf("new alarm state %s (%q), want INSUFFICIENT_DATA (Unchecked: Initial alarm creation)", a.StateValue, aws.ToString(a.StateReason))
	}
	if got, want := aws.ToString(a.AlarmArn), "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:errors-high"; got != want {
		t.Fatalf("ARN %s, want %s", got, want)
	}
	if aws.ToInt32(a.DatapointsToAlarm) != 2 || aws.ToString(a.TreatMissingData) != "notBreaching" || !aws.ToBool(a.ActionsEnabled) ||
		a.Statistic != types.StatisticSum || aws.ToFloat64(a.Threshold) != 10 || aws.ToString(a.AlarmDescription) != "Too many errors" {
		t.Fatalf("configuration not described as given: %+v", a)
	}
	if _, err := e.cw.PutMetricAlarm(e.ctx, alarmInput("defaults")); err != nil {
		t.Fatal(err)
	}
	d := e.describe("defaults")
	if aws.ToInt32(d.DatapointsToAlarm) != 3 || aws.ToString(d.TreatMissingData) != "missing" {
		t.Fatalf("defaults: DatapointsToAlarm %d TreatMissingData %s, want EvaluationPeriods (3) and missing", aws.ToInt32(d.DatapointsToAlarm), aws.ToString(d.TreatMissingData))
	}
}

func testAnAlarmGoesToAlarmAfterTheRequiredBreachingPeriodsAndBackToOK(t *testing.T, backend Backend) {
	cases := []struct {
		name      string
		of        int32
		values    []float64
		wantAfter []string
	}{
		{
			name:      "three of three needs three breaching periods and one good period ends it",
			of:        3,
			values:    []float64{0, 0, 0, 20, 20, 20, 5},
			wantAfter: []string{"OK", "OK", "OK", "OK", "OK", "ALARM", "OK"},
		},
		{
			name:      "two of three alarms on two breaching periods that need not be consecutive",
			of:        2,
			values:    []float64{0, 0, 0, 20, 0, 20, 0, 20},
			wantAfter: []string{"OK", "OK", "OK", "OK", "OK", "ALARM", "OK", "ALARM"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, backend)
			in := alarmInput("a")
			in.DatapointsToAlarm = aws.Int32(c.of)
			e.alarm(in)
			var got []string
			for _, v := range c.values {
				e.minute(f(v))
				got = append(got, e.state("a"))
			}
			if strings.Join(got, " ") != strings.Join(c.wantAfter, " ") {
				t.Fatalf("states after each minute %v, want %v", got, c.wantAfter)
			}
		})
	}
}

func testMissingDataIsTreatedAsTheAlarmSays(t *testing.T, backend Backend) {
	// The rows of the CloudWatch user guide's table for three of three:
	// no data at all, one good datapoint, one breaching datapoint.
	cases := []struct {
		name  string
		treat string
		first *float64
		want  string
	}{
		{"with missing, no data at all leaves the alarm in insufficient data", "missing", nil, "INSUFFICIENT_DATA"},
		{"with ignore, no data at all keeps the current state", "ignore", nil, "INSUFFICIENT_DATA"},
		{"with breaching, no data at all is an alarm", "breaching", nil, "ALARM"},
		{"with notBreaching, no data at all is OK", "notBreaching", nil, "OK"},
		{"with missing, one good datapoint is OK", "missing", f(0), "OK"},
		{"with ignore, one good datapoint is OK because fills cannot reach three", "ignore", f(0), "OK"},
		{"with breaching, one good datapoint and two breaching fills are not three", "breaching", f(0), "OK"},
		{"with notBreaching, one good datapoint is OK", "notBreaching", f(0), "OK"},
		{"with missing, one breaching datapoint alone is an alarm", "missing", f(20), "ALARM"},
		{"with ignore, one breaching datapoint keeps the current state", "ignore", f(20), "INSUFFICIENT_DATA"},
		{"with breaching, one breaching datapoint and two fills are an alarm", "breaching", f(20), "ALARM"},
		{"with notBreaching, one breaching datapoint is not enough", "notBreaching", f(20), "OK"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, backend)
			in := alarmInput("a")
			in.TreatMissingData = aws.String(c.treat)
			e.alarm(in)
			e.minute(c.first)
			if got := e.state("a"); got != c.want {
				t.Fatalf("state %s (%s), want %s", got, aws.ToString(e.describe("a").StateReason), c.want)
			}
		})
	}
}

func testEnoughRealDatapointsMakeTheMissingDataTreatmentIrrelevant(t *testing.T, backend Backend) {
	e := newEnv(t, backend)
	in := alarmInput("a")
	in.TreatMissingData = aws.String("breaching")
	e.alarm(in)
	for _, v := range []float64{0, 0, 0} {
		e.minute(f(v))
	}
	// One missing minute: three real datapoints remain in the evaluation
	// range, so the missing one is not filled as breaching.
	e.minute(nil)
	if got := e.state("a"); got != "OK" {
		t.Fatalf("state %s, want OK from the three real datapoints", got)
	}
}

func testSetAlarmStateIsOverriddenAtTheNextEvaluation(t *testing.T, backend Backend) {
	e := newEnv(t, backend)
	e.alarm(alarmInput("a"))
	for range 3 {
		e.minute(f(1))
	}
	if got := e.state("a"); got != "OK" {
		t.Fatalf("state %s before SetAlarmState, want OK", got)
	}
	_, err := e.cw.SetAlarmState(e.ctx, &cloudwatch.SetAlarmStateInput{
		AlarmName: aws.String("a"), StateValue: types.StateValueAlarm, StateReason: aws.String("testing actions"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if a := e.describe("a"); a.StateValue != types.StateValueAlarm || aws.ToString(a.StateReason) != "testing actions" {
		t.Fatalf("after SetAlarmState: %s (%s), want ALARM (testing actions)", a.StateValue, aws.ToString(a.StateReason))
	}
	e.minute(f(1))
	if got := e.state("a"); got != "OK" {
		t.Fatalf("state %s after the next evaluation, want OK again", got)
	}
	var got []string
	for _, ev := range e.alarmEvents() {
		var d AlarmStateChange
		decode(t, ev.Detail, &d)
		got = append(got, d.PreviousState.Value+">"+d.State.Value)
	}
	if want := "INSUFFICIENT_DATA>OK OK>ALARM ALARM>OK"; strings.Join(got, " ") != want {
		t.Fatalf("events %v, want %s", got, want)
	}
	hist, err := e.cw.DescribeAlarmHistory(e.ctx, &cloudwatch.DescribeAlarmHistoryInput{AlarmName: aws.String("a"), HistoryItemType: types.HistoryItemTypeStateUpdate})
	if err != nil {
		t.Fatal(err)
	}
	var summaries []string
	for _, h := range hist.AlarmHistoryItems {
		summaries = append(summaries, aws.ToString(h.HistorySummary))
	}
	if want := "Alarm updated from ALARM to OK|Alarm updated from OK to ALARM|Alarm updated from INSUFFICIENT_DATA to OK"; strings.Join(summaries, "|") != want {
		t.Fatalf("history newest first %q, want %q", summaries, want)
	}
}

func testSetAlarmStateChecksItsInput(t *testing.T, backend Backend) {
	cases := []struct {
		name string
		in   cloudwatch.SetAlarmStateInput
		code string
	}{
		{"the alarm must exist", cloudwatch.SetAlarmStateInput{AlarmName: aws.String("nope"), StateValue: types.StateValueOk, StateReason: aws.String("r")}, "ResourceNotFound"},
		{"the state is OK, ALARM or INSUFFICIENT_DATA", cloudwatch.SetAlarmStateInput{AlarmName: aws.String("a"), StateValue: "BROKEN", StateReason: aws.String("r")}, "InvalidParameterValue"},
		{"a reason is required", cloudwatch.SetAlarmStateInput{AlarmName: aws.String("a"), StateValue: types.StateValueOk}, "MissingParameter"},
		{"reason data must be JSON", cloudwatch.SetAlarmStateInput{AlarmName: aws.String("a"), StateValue: types.StateValueOk, StateReason: aws.String("r"), StateReasonData: aws.String("{not json")}, "InvalidFormat"},
		{"a reason is at most 1023 characters", cloudwatch.SetAlarmStateInput{AlarmName: aws.String("a"), StateValue: types.StateValueOk, StateReason: aws.String(strings.Repeat("r", 1024))}, "InvalidParameterValue"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, backend)
			e.alarm(alarmInput("a"))
			_, err := e.cw.SetAlarmState(e.ctx, &c.in)
			wantCode(t, err, c.code)
		})
	}
}

func testAStateChangeEmitsTheDocumentedEvent(t *testing.T, backend Backend) {
	e := newEnv(t, backend)
	in := alarmInput("errors-high")
	in.AlarmDescription = aws.String("Too many errors")
	in.TreatMissingData = aws.String("notBreaching")
	e.alarm(in)
	for _, v := range []float64{20, 30, 40} {
		e.minute(f(v))
	}
	evs := e.alarmEvents()
	if len(evs) != 2 {
		t.Fatalf("%d events, want 2 (INSUFFICIENT_DATA to OK, OK to ALARM)", len(evs))
	}
	ev := evs[1]
	arn := "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:errors-high"
	if ev.Source != "aws.cloudwatch" || ev.Region != testRegion || len(ev.Resources) != 1 || ev.Resources[0] != arn || ev.Account != "123456789012" {
		t.Fatalf("envelope %+v", ev)
	}
	var d struct {
		AlarmName string `json:"alarmName"`
		State     struct {
			Value, Reason, ReasonData, Timestamp string
		} `json:"state"`
		PreviousState struct {
			Value, Reason, Timestamp string
		} `json:"previousState"`
		Configuration struct {
			Description string `json:"description"`
			Metrics     []struct {
				ID         string `json:"id"`
				ReturnData bool   `json:"returnData"`
				MetricStat struct {
					Metric struct {
						Dimensions map[string]string `json:"dimensions"`
						Name       string            `json:"name"`
						Namespace  string            `json:"namespace"`
					} `json:"metric"`
					Period int    `json:"period"`
					Stat   string `json:"stat"`
				} `json:"metricStat"`
			} `json:"metrics"`
		} `json:"configuration"`
	}
	decode(t, ev.Detail, &d)
	if d.AlarmName != "errors-high" || d.State.Value != "ALARM" || d.PreviousState.Value != "OK" {
		t.Fatalf("detail %+v", d)
	}
	wantReason := "Threshold Crossed: 3 out of the last 3 datapoints [40.0 (05/01/26 09:02:00), 30.0 (05/01/26 09:01:00), 20.0 (05/01/26 09:00:00)] were greater than the threshold (10.0) (minimum 3 datapoints for OK -> ALARM transition)."
	if d.State.Reason != wantReason {
		t.Fatalf("reason\n%q, want\n%q", d.State.Reason, wantReason)
	}
	if d.State.Timestamp != "2026-01-05T09:03:00.000+0000" {
		t.Fatalf("state timestamp %q, want CloudWatch's 2026-01-05T09:03:00.000+0000 form", d.State.Timestamp)
	}
	var rd struct {
		Version          string    `json:"version"`
		StartDate        string    `json:"startDate"`
		Statistic        string    `json:"statistic"`
		Period           int       `json:"period"`
		RecentDatapoints []float64 `json:"recentDatapoints"`
		Threshold        float64   `json:"threshold"`
	}
	decode(t, []byte(d.State.ReasonData), &rd)
	if rd.Version != "1.0" || rd.Statistic != "Sum" || rd.Period != 60 || rd.Threshold != 10 || len(rd.RecentDatapoints) != 3 || rd.RecentDatapoints[2] != 40 || rd.StartDate != "2026-01-05T09:00:00.000+0000" {
		t.Fatalf("reason data %+v", rd)
	}
	if len(d.Configuration.Metrics) != 1 || d.Configuration.Description != "Too many errors" {
		t.Fatalf("configuration %+v", d.Configuration)
	}
	m := d.Configuration.Metrics[0]
	if m.ID == "" || !m.ReturnData || m.MetricStat.Metric.Name != testMetric || m.MetricStat.Metric.Namespace != testNS ||
		m.MetricStat.Metric.Dimensions["Service"] != "web" || m.MetricStat.Period != 60 || m.MetricStat.Stat != "Sum" {
		t.Fatalf("configuration metric %+v", m)
	}
}

func testAnOKReasonNamesTheGoodDatapoints(t *testing.T, backend Backend) {
	e := newEnv(t, backend)
	in := alarmInput("a")
	in.EvaluationPeriods = aws.Int32(1)
	in.ComparisonOperator = types.ComparisonOperatorGreaterThanOrEqualToThreshold
	e.alarm(in)
	e.minute(f(0.25))
	want := "Threshold Crossed: 1 out of the last 1 datapoints [0.25 (05/01/26 09:00:00)] was not greater than or equal to the threshold (10.0) (minimum 1 datapoint for INSUFFICIENT_DATA -> OK transition)."
	if got := aws.ToString(e.describe("a").StateReason); got != want {
		t.Fatalf("reason\n%q, want\n%q", got, want)
	}
}

func testEveryComparisonOperatorComparesAsNamed(t *testing.T, backend Backend) {
	cases := []struct {
		op    types.ComparisonOperator
		value float64
		want  string
	}{
		{types.ComparisonOperatorGreaterThanThreshold, 10, "OK"},
		{types.ComparisonOperatorGreaterThanThreshold, 10.5, "ALARM"},
		{types.ComparisonOperatorGreaterThanOrEqualToThreshold, 10, "ALARM"},
		{types.ComparisonOperatorLessThanThreshold, 10, "OK"},
		{types.ComparisonOperatorLessThanThreshold, 9, "ALARM"},
		{types.ComparisonOperatorLessThanOrEqualToThreshold, 10, "ALARM"},
	}
	for _, c := range cases {
		t.Run(string(c.op)+" with "+javaDouble(c.value)+" against 10 is "+c.want, func(t *testing.T) {
			e := newEnv(t, backend)
			in := alarmInput("a")
			in.EvaluationPeriods, in.ComparisonOperator = aws.Int32(1), c.op
			e.alarm(in)
			e.minute(f(c.value))
			if got := e.state("a"); got != c.want {
				t.Fatalf("state %s, want %s", got, c.want)
			}
		})
	}
}

func testAnAlarmOnAPercentileUsesTheDatapointsOfEachPeriod(t *testing.T, backend Backend) {
	e := newEnv(t, backend)
	in := alarmInput("latency")
	in.Statistic, in.ExtendedStatistic = "", aws.String("p90")
	in.EvaluationPeriods = aws.Int32(1)
	e.alarm(in)
	values := make([]float64, 10)
	for i := range values {
		values[i] = float64(i + 1)
	}
	_, err := e.cw.PutMetricData(e.ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String(testNS), MetricData: []types.MetricDatum{
		{MetricName: aws.String(testMetric), Dimensions: testDims(), Values: values},
	}})
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Minute)
	// p90 of 1..10 is 9: not greater than 10.
	if got := e.state("latency"); got != "OK" {
		t.Fatalf("state %s, want OK (p90 = 9)", got)
	}
}

func testUpdatingAnAlarmKeepsItsStateAndIgnoresTags(t *testing.T, backend Backend) {
	e := newEnv(t, backend)
	in := alarmInput("a")
	in.EvaluationPeriods = aws.Int32(1)
	in.Tags = []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}}
	e.alarm(in)
	e.minute(f(50))
	if got := e.state("a"); got != "ALARM" {
		t.Fatalf("state %s, want ALARM", got)
	}
	upd := alarmInput("a")
	upd.EvaluationPeriods = aws.Int32(1)
	upd.Threshold = aws.Float64(100)
	upd.Tags = []types.Tag{{Key: aws.String("team"), Value: aws.String("other")}}
	if _, err := e.cw.PutMetricAlarm(e.ctx, upd); err != nil {
		t.Fatal(err)
	}
	if got := e.state("a"); got != "ALARM" {
		t.Fatalf("state right after the update %s, want ALARM kept", got)
	}
	tags, err := e.cw.ListTagsForResource(e.ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: e.describe("a").AlarmArn})
	if err != nil {
		t.Fatal(err)
	}
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Value) != "web" {
		t.Fatalf("tags after update %+v, want team=web (update ignores Tags)", tags.Tags)
	}
	e.clk.Settle()
	if got := e.state("a"); got != "OK" {
		t.Fatalf("state after re-evaluation with threshold 100: %s, want OK", got)
	}
}

func testDescribeAlarmsFiltersAndPages(t *testing.T, backend Backend) {
	e := newEnv(t, backend)
	for _, n := range []string{"web-5xx", "web-latency", "db-cpu", "web-unhealthy", "api-5xx"} {
		e.alarm(alarmInput(n))
	}
	e.alarm(func() *cloudwatch.PutMetricAlarmInput {
		in := alarmInput("web-ok")
		in.TreatMissingData = aws.String("notBreaching")
		in.OKActions = []string{"arn:aws:sns:eu-west-1:123456789012:ops"}
		return in
	}())
	names := func(out *cloudwatch.DescribeAlarmsOutput) string {
		var n []string
		for _, a := range out.MetricAlarms {
			n = append(n, aws.ToString(a.AlarmName))
		}
		return strings.Join(n, ",")
	}
	cases := []struct {
		name string
		in   cloudwatch.DescribeAlarmsInput
		want string
	}{
		{"all alarms are listed by name", cloudwatch.DescribeAlarmsInput{}, "api-5xx,db-cpu,web-5xx,web-latency,web-ok,web-unhealthy"},
		{"a name prefix selects alarms", cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("web-")}, "web-5xx,web-latency,web-ok,web-unhealthy"},
		{"names select alarms and unknown names are skipped", cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"db-cpu", "nope", "api-5xx"}}, "api-5xx,db-cpu"},
		{"a state value selects alarms", cloudwatch.DescribeAlarmsInput{StateValue: types.StateValueOk}, "web-ok"},
		{"an action prefix selects alarms", cloudwatch.DescribeAlarmsInput{ActionPrefix: aws.String("arn:aws:sns:")}, "web-ok"},
		{"composite alarms alone list no metric alarm", cloudwatch.DescribeAlarmsInput{AlarmTypes: []types.AlarmType{types.AlarmTypeCompositeAlarm}}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := e.cw.DescribeAlarms(e.ctx, &c.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := names(out); got != c.want {
				t.Fatalf("got %s, want %s", got, c.want)
			}
		})
	}
	t.Run("pages of MaxRecords follow NextToken to the end", func(t *testing.T) {
		var all []string
		var token *string
		for range 10 {
			out, err := e.cw.DescribeAlarms(e.ctx, &cloudwatch.DescribeAlarmsInput{MaxRecords: aws.Int32(4), NextToken: token})
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, names(out))
			if token = out.NextToken; token == nil {
				break
			}
		}
		if got := strings.Join(all, "|"); got != "api-5xx,db-cpu,web-5xx,web-latency|web-ok,web-unhealthy" {
			t.Fatalf("pages %s", got)
		}
	})
	t.Run("names and a prefix together are refused", func(t *testing.T) {
		_, err := e.cw.DescribeAlarms(e.ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"a"}, AlarmNamePrefix: aws.String("a")})
		wantCode(t, err, "InvalidParameterCombination")
	})
	t.Run("MaxRecords above 100 is refused", func(t *testing.T) {
		_, err := e.cw.DescribeAlarms(e.ctx, &cloudwatch.DescribeAlarmsInput{MaxRecords: aws.Int32(101)})
		wantCode(t, err, "InvalidParameterValue")
	})
	t.Run("alarms live in their region", func(t *testing.T) {
		out, err := e.client("us-east-1").DescribeAlarms(api.WithRequest(e.ctx, api.Request{Region: "us-east-1"}), &cloudwatch.DescribeAlarmsInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.MetricAlarms) != 0 {
			t.Fatalf("another region lists %d alarms", len(out.MetricAlarms))
		}
	})
}

func testDeleteAlarmsDeletesNothingWhenAnAlarmIsUnknownAndKeepsHistory(t *testing.T, backend Backend) {
	e := newEnv(t, backend)
	e.alarm(alarmInput("a"))
	e.alarm(alarmInput("b"))
	_, err := e.cw.DeleteAlarms(e.ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"a", "missing"}})
	wantCode(t, err, "ResourceNotFound")
	if out, _ := e.cw.DescribeAlarms(e.ctx, &cloudwatch.DescribeAlarmsInput{}); len(out.MetricAlarms) != 2 {
		t.Fatalf("%d alarms left after a refused delete, want 2", len(out.MetricAlarms))
	}
	if _, err := e.cw.DeleteAlarms(e.ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.model.AlarmState(testRegion, "a"); ok {
		t.Fatal("a deleted alarm still has a state")
	}
	if st, ok := e.model.AlarmState(testRegion, "b"); !ok || st != "INSUFFICIENT_DATA" {
		t.Fatalf("AlarmState(b) = %s, %v; want INSUFFICIENT_DATA, true", st, ok)
	}
	hist, err := e.cw.DescribeAlarmHistory(e.ctx, &cloudwatch.DescribeAlarmHistoryInput{AlarmName: aws.String("a")})
	if err != nil {
		t.Fatal(err)
	}
	if len(hist.AlarmHistoryItems) != 2 || aws.ToString(hist.AlarmHistoryItems[0].HistorySummary) != `Alarm "a" deleted` ||
		aws.ToString(hist.AlarmHistoryItems[1].HistorySummary) != `Alarm "a" created` {
		t.Fatalf("history of a deleted alarm: %+v", hist.AlarmHistoryItems)
	}
}

func testDescribeAlarmHistoryFiltersByTypeAndDateAndScansBothWays(t *testing.T, backend Backend) {
	e := newEnv(t, backend)
	in := alarmInput("a")
	in.EvaluationPeriods = aws.Int32(1)
	e.alarm(in)
	for _, v := range []float64{50, 0, 50} {
		e.minute(f(v))
	}
	all, err := e.cw.DescribeAlarmHistory(e.ctx, &cloudwatch.DescribeAlarmHistoryInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.AlarmHistoryItems) != 4 {
		t.Fatalf("%d items, want 4 (created and three state updates)", len(all.AlarmHistoryItems))
	}
	first := all.AlarmHistoryItems[0]
	var data struct {
		Version  string `json:"version"`
		OldState struct {
			StateValue string `json:"stateValue"`
		} `json:"oldState"`
		NewState struct {
			StateValue      string          `json:"stateValue"`
			StateReason     string          `json:"stateReason"`
			StateReasonData json.RawMessage `json:"stateReasonData"`
		} `json:"newState"`
	}
	decode(t, []byte(aws.ToString(first.HistoryData)), &data)
	if first.HistoryItemType != types.HistoryItemTypeStateUpdate || first.AlarmType != types.AlarmTypeMetricAlarm ||
		data.OldState.StateValue != "OK" || data.NewState.StateValue != "ALARM" || !strings.HasPrefix(data.NewState.StateReason, "Threshold Crossed") || len(data.NewState.StateReasonData) == 0 {
		t.Fatalf("newest item %+v with data %+v", first, data)
	}
	cases := []struct {
		name string
		in   cloudwatch.DescribeAlarmHistoryInput
		want int
	}{
		{"configuration updates only", cloudwatch.DescribeAlarmHistoryInput{HistoryItemType: types.HistoryItemTypeConfigurationUpdate}, 1},
		{"state updates from 09:02 on", cloudwatch.DescribeAlarmHistoryInput{StartDate: aws.Time(clockAt(2))}, 2},
		{"items before 09:02", cloudwatch.DescribeAlarmHistoryInput{EndDate: aws.Time(clockAt(2))}, 2},
		{"another alarm has no history", cloudwatch.DescribeAlarmHistoryInput{AlarmName: aws.String("b")}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := e.cw.DescribeAlarmHistory(e.ctx, &c.in)
			if err != nil {
				t.Fatal(err)
			}
			if len(out.AlarmHistoryItems) != c.want {
				t.Fatalf("%d items, want %d", len(out.AlarmHistoryItems), c.want)
			}
		})
	}
	t.Run("ascending scan starts with the creation", func(t *testing.T) {
		out, err := e.cw.DescribeAlarmHistory(e.ctx, &cloudwatch.DescribeAlarmHistoryInput{ScanBy: types.ScanByTimestampAscending, MaxRecords: aws.Int32(1)})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.AlarmHistoryItems[0].HistorySummary) != `Alarm "a" created` || out.NextToken == nil {
			t.Fatalf("first ascending item %+v, token %v", out.AlarmHistoryItems, out.NextToken)
		}
	})
}

func testAlarmTagsAreAddedListedAndRemoved(t *testing.T, backend Backend) {
	e := newEnv(t, backend)
	e.alarm(alarmInput("a"))
	arn := e.describe("a").AlarmArn
	if _, err := e.cw.TagResource(e.ctx, &cloudwatch.TagResourceInput{ResourceARN: arn, Tags: []types.Tag{{Key: aws.String("k1"), Value: aws.String("v1")}, {Key: aws.String("k2"), Value: aws.String("v2")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cw.TagResource(e.ctx, &cloudwatch.TagResourceInput{ResourceARN: arn, Tags: []types.Tag{{Key: aws.String("k1"), Value: aws.String("new")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cw.UntagResource(e.ctx, &cloudwatch.UntagResourceInput{ResourceARN: arn, TagKeys: []string{"k2", "absent"}}); err != nil {
		t.Fatal(err)
	}
	out, err := e.cw.ListTagsForResource(e.ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: arn})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Tags) != 1 || aws.ToString(out.Tags[0].Key) != "k1" || aws.ToString(out.Tags[0].Value) != "new" {
		t.Fatalf("tags %+v, want k1=new", out.Tags)
	}
	_, err = e.cw.ListTagsForResource(e.ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: aws.String("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:nope")})
	wantCode(t, err, "ResourceNotFoundException")
}

func TestTheEvaluationTickerRunsOnlyWhileThereIsSomethingToEvaluate(t *testing.T) {
	e := newEnv(t, InProcess)
	if n := len(e.clk.Pending()); n != 0 {
		t.Fatalf("%d events pending before any alarm exists", n)
	}
	e.alarm(alarmInput("a"))
	if n := len(e.clk.Pending()); n != 1 {
		t.Fatalf("%d events pending with one alarm, want the one tick", n)
	}
	if _, err := e.cw.DeleteAlarms(e.ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	if n := len(e.clk.Pending()); n != 0 {
		t.Fatalf("%d events pending after the last alarm was deleted", n)
	}
}

func testAHighResolutionAlarmIsEvaluatedEveryPeriod(t *testing.T, backend Backend) {
	e := newEnv(t, backend)
	in := alarmInput("fast")
	in.Period, in.EvaluationPeriods = aws.Int32(10), aws.Int32(1)
	e.alarm(in)
	e.put(50)
	e.clk.Advance(10 * time.Second)
	if got := e.state("fast"); got != "ALARM" {
		t.Fatalf("state %s ten seconds after a breaching datapoint, want ALARM", got)
	}
}

// clockAt returns the start of simulated time plus m minutes.
func clockAt(m int) time.Time { return clock.Epoch.Add(time.Duration(m) * time.Minute) }
