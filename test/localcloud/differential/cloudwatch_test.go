package differential

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go/transport/http/protocol/awsjson"

	"github.com/phoenix-rollouts/phoenix/test/localcloud"
)

// cwClient builds the CloudWatch client for either side. The Go SDK speaks
// Smithy RPCv2 CBOR to CloudWatch, which moto 5.2.1 does not serve (it
// answers CloudWatch's other two protocols, awsJson1.0 and awsQuery). The
// moto side therefore swaps in the SDK's own awsJson1.0 protocol
// (smithy-go's awsjson, over the same operation schemas), and turns off
// request compression, which moto's server does not undo (a gzip
// PutMetricData body answers 500 there). The local cloud side is the
// unmodified client, CBOR and all, as Phoenix uses it.
func cwClient(c aws.Config) *cloudwatch.Client {
	return cloudwatch.NewFromConfig(c, func(o *cloudwatch.Options) {
		if aws.ToString(c.BaseEndpoint) == motoURL {
			o.Protocol = awsjson.New10(schemas.GraniteServiceVersion20100801)
			o.DisableRequestCompression = true
		}
	})
}

// cwPair starts a pair whose simulated clock starts at the current minute,
// so that datapoints are recent on both sides (moto uses the wall clock).
func cwPair(t *testing.T) (*pair, time.Time) {
	now := time.Now().UTC().Truncate(time.Minute)
	return newPair(t, localcloud.Options{Seed: 1, Start: now}), now
}

func cwAgree(t *testing.T, what string, lo, mo, want outcome) {
	t.Helper()
	if lo != want || mo != want {
		t.Errorf("%s: local %+v, moto %+v; want both %+v", what, lo, mo, want)
	}
}

func cwNames(as []types.MetricAlarm) []string {
	out := []string{}
	for _, a := range as {
		out = append(out, aws.ToString(a.AlarmName))
	}
	return out
}

// cwAlarmInput is the alarm the tests create, named n.
func cwAlarmInput(n string) *cloudwatch.PutMetricAlarmInput {
	return &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(n), AlarmDescription: aws.String("phoenix " + n),
		Namespace: aws.String("Phoenix"), MetricName: aws.String("Errors"),
		Dimensions: []types.Dimension{{Name: aws.String("Fleet"), Value: aws.String("web")}},
		Statistic:  types.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(2), Threshold: aws.Float64(1),
		ComparisonOperator: types.ComparisonOperatorGreaterThanOrEqualToThreshold,
		Unit:               types.StandardUnitCount,
		Tags:               []types.Tag{{Key: aws.String("team"), Value: aws.String("phoenix")}},
	}
}

// cwConfig is what both sides must agree on in a described alarm.
func cwConfig(a types.MetricAlarm) string {
	var dims []string
	for _, d := range a.Dimensions {
		dims = append(dims, aws.ToString(d.Name)+"="+aws.ToString(d.Value))
	}
	return fmt.Sprintf("%s arn=%s desc=%q ns=%s metric=%s dims=%v stat=%s period=%d evals=%d threshold=%v op=%s unit=%s actions=%v ok=%v alarm=%v insufficient=%v reason=%q",
		aws.ToString(a.AlarmName), aws.ToString(a.AlarmArn), aws.ToString(a.AlarmDescription), aws.ToString(a.Namespace), aws.ToString(a.MetricName), dims,
		a.Statistic, aws.ToInt32(a.Period), aws.ToInt32(a.EvaluationPeriods), aws.ToFloat64(a.Threshold), a.ComparisonOperator, a.Unit,
		aws.ToBool(a.ActionsEnabled), len(a.OKActions), len(a.AlarmActions), len(a.InsufficientDataActions), aws.ToString(a.StateReason))
}

func TestCloudWatchAlarms(t *testing.T) {
	p, _ := cwPair(t)
	ctx := context.Background()
	for _, n := range []string{"phoenix-b", "phoenix-a", "other-c"} {
		_, _, lo, mo := both(t, p, cwClient, func(c *cloudwatch.Client) (*cloudwatch.PutMetricAlarmOutput, error) {
			return c.PutMetricAlarm(ctx, cwAlarmInput(n))
		})
		cwAgree(t, "PutMetricAlarm "+n, lo, mo, outcome{})
	}
	// A period that is not 10, 20, 30 or a multiple of 60 ("Valid values
	// are 10, 20, 30, and any multiple of 60", PutMetricAlarm): moto
	// creates the alarm (documented divergence), and it is removed there.
	badPeriod := cwAlarmInput("bad-period")
	badPeriod.Period = aws.Int32(7)
	_, _, lo, mo := both(t, p, cwClient, func(c *cloudwatch.Client) (*cloudwatch.PutMetricAlarmOutput, error) {
		return c.PutMetricAlarm(ctx, badPeriod)
	})
	if lo != (outcome{Code: "InvalidParameterValue", Status: 400}) || mo != (outcome{}) {
		t.Errorf("PutMetricAlarm period 7: local %+v, moto %+v; want local InvalidParameterValue/400, moto success", lo, mo)
	}
	if _, err := cwClient(p.MotoConfig).DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"bad-period"}}); err != nil {
		t.Fatalf("moto DeleteAlarms bad-period: %v", err)
	}

	describe := func(in *cloudwatch.DescribeAlarmsInput) (l, m *cloudwatch.DescribeAlarmsOutput, lo, mo outcome) {
		return both(t, p, cwClient, func(c *cloudwatch.Client) (*cloudwatch.DescribeAlarmsOutput, error) { return c.DescribeAlarms(ctx, in) })
	}
	var l, m *cloudwatch.DescribeAlarmsOutput
	l, m, lo, mo = describe(&cloudwatch.DescribeAlarmsInput{})
	cwAgree(t, "DescribeAlarms", lo, mo, outcome{})
	if lo.Code != "" || mo.Code != "" {
		t.FailNow()
	}
	// AWS documents no order; the local cloud sorts by name, moto keeps
	// creation order (docs/local-cloud-vs-moto.md).
	if got := fmt.Sprint(cwNames(l.MetricAlarms), cwNames(m.MetricAlarms)); got != "[other-c phoenix-a phoenix-b] [phoenix-b phoenix-a other-c]" {
		t.Errorf("DescribeAlarms names (local, moto) %s; want local by name, moto in creation order", got)
	}
	byName := func(as []types.MetricAlarm) map[string]types.MetricAlarm {
		out := map[string]types.MetricAlarm{}
		for _, a := range as {
			out[aws.ToString(a.AlarmName)] = a
		}
		return out
	}
	lm, mm := byName(l.MetricAlarms), byName(m.MetricAlarms)
	for _, n := range []string{"phoenix-a", "phoenix-b", "other-c"} {
		la, ma := lm[n], mm[n]
		if cwConfig(la) != cwConfig(ma) {
			t.Errorf("alarm %s:\nlocal %s\nmoto  %s", n, cwConfig(la), cwConfig(ma))
		}
		if want := "arn:aws:cloudwatch:us-east-1:123456789012:alarm:" + n; aws.ToString(la.AlarmArn) != want {
			t.Errorf("alarm %s ARN %q, want %q", n, aws.ToString(la.AlarmArn), want)
		}
		for side, a := range map[string]types.MetricAlarm{"local": la, "moto": ma} {
			if a.AlarmConfigurationUpdatedTimestamp == nil || a.StateUpdatedTimestamp == nil {
				t.Errorf("%s alarm %s lacks its configuration or state timestamp", side, n)
			}
		}
		// A new alarm is INSUFFICIENT_DATA ("When this operation creates an
		// alarm, the alarm state is immediately set to INSUFFICIENT_DATA",
		// PutMetricAlarm); moto starts it OK. The local cloud also reports
		// the defaulted DatapointsToAlarm and TreatMissingData and the
		// transition time, which moto leaves out.
		if la.StateValue != types.StateValueInsufficientData || ma.StateValue != types.StateValueOk {
			t.Errorf("alarm %s new state: local %s, moto %s; want local INSUFFICIENT_DATA, moto OK (as observed)", n, la.StateValue, ma.StateValue)
		}
		if aws.ToInt32(la.DatapointsToAlarm) != 2 || aws.ToString(la.TreatMissingData) != "missing" || la.StateTransitionedTimestamp == nil {
			t.Errorf("local alarm %s: DatapointsToAlarm %v, TreatMissingData %v, StateTransitionedTimestamp %v; want 2, missing, set",
				n, la.DatapointsToAlarm, la.TreatMissingData, la.StateTransitionedTimestamp)
		}
		if ma.DatapointsToAlarm != nil || ma.TreatMissingData != nil || ma.StateTransitionedTimestamp != nil {
			t.Errorf("moto alarm %s: DatapointsToAlarm %v, TreatMissingData %v, StateTransitionedTimestamp %v; want all absent (as observed)",
				n, ma.DatapointsToAlarm, ma.TreatMissingData, ma.StateTransitionedTimestamp)
		}
	}

	// Filters: a prefix, names (one unknown).
	l, m, lo, mo = describe(&cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("phoenix-a")})
	cwAgree(t, "DescribeAlarms prefix", lo, mo, outcome{})
	if lo.Code == "" && fmt.Sprint(cwNames(l.MetricAlarms), cwNames(m.MetricAlarms)) != "[phoenix-a] [phoenix-a]" {
		t.Errorf("DescribeAlarms prefix: local %v, moto %v", cwNames(l.MetricAlarms), cwNames(m.MetricAlarms))
	}
	l, m, lo, mo = describe(&cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"other-c", "nope"}})
	cwAgree(t, "DescribeAlarms names", lo, mo, outcome{})
	if lo.Code == "" && fmt.Sprint(cwNames(l.MetricAlarms), cwNames(m.MetricAlarms)) != "[other-c] [other-c]" {
		t.Errorf("DescribeAlarms names: local %v, moto %v", cwNames(l.MetricAlarms), cwNames(m.MetricAlarms))
	}
	// AlarmNamePrefix with AlarmNames: "If this parameter is specified,
	// you cannot specify AlarmNames" (DescribeAlarms). moto ignores the rule.
	_, _, lo, mo = describe(&cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("phoenix-"), AlarmNames: []string{"other-c"}})
	if lo != (outcome{Code: "InvalidParameterCombination", Status: 400}) || mo != (outcome{}) {
		t.Errorf("DescribeAlarms names and prefix: local %+v, moto %+v; want local InvalidParameterCombination/400, moto success", lo, mo)
	}

	// Pagination: MaxRecords 2. moto ignores MaxRecords and answers one page.
	pages := func(c *cloudwatch.Client) ([][]string, error) {
		var out [][]string
		var tok *string
		for i := 0; i < 5; i++ {
			o, err := c.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{MaxRecords: aws.Int32(2), NextToken: tok})
			if err != nil {
				return out, err
			}
			out = append(out, cwNames(o.MetricAlarms))
			if tok = o.NextToken; tok == nil {
				break
			}
		}
		return out, nil
	}
	lp, mp, lo, mo := both(t, p, cwClient, pages)
	cwAgree(t, "DescribeAlarms pages", lo, mo, outcome{})
	if got := fmt.Sprint(lp, mp); got != "[[other-c phoenix-a] [phoenix-b]] [[phoenix-b phoenix-a other-c]]" {
		t.Errorf("DescribeAlarms pages (local, moto) %s; want local two pages by name, moto one page", got)
	}
	_, _, lo, mo = describe(&cloudwatch.DescribeAlarmsInput{NextToken: aws.String("not-a-token")})
	if lo != (outcome{Code: "InvalidNextToken", Status: 400}) || mo != (outcome{}) {
		t.Errorf("DescribeAlarms bad token: local %+v, moto %+v; want local InvalidNextToken/400, moto success", lo, mo)
	}

	// SetAlarmState, then the state filter.
	_, _, lo, mo = both(t, p, cwClient, func(c *cloudwatch.Client) (*cloudwatch.SetAlarmStateOutput, error) {
		return c.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("phoenix-a"), StateValue: types.StateValueAlarm, StateReason: aws.String("forced by test"), StateReasonData: aws.String(`{"k":1}`)})
	})
	cwAgree(t, "SetAlarmState", lo, mo, outcome{})
	l, m, lo, mo = describe(&cloudwatch.DescribeAlarmsInput{StateValue: types.StateValueAlarm})
	cwAgree(t, "DescribeAlarms state ALARM", lo, mo, outcome{})
	if lo.Code == "" {
		if fmt.Sprint(cwNames(l.MetricAlarms), cwNames(m.MetricAlarms)) != "[phoenix-a] [phoenix-a]" {
			t.Errorf("DescribeAlarms state ALARM: local %v, moto %v", cwNames(l.MetricAlarms), cwNames(m.MetricAlarms))
		} else if a, b := l.MetricAlarms[0], m.MetricAlarms[0]; aws.ToString(a.StateReason) != "forced by test" || aws.ToString(b.StateReason) != "forced by test" ||
			aws.ToString(a.StateReasonData) != `{"k":1}` || aws.ToString(b.StateReasonData) != `{"k":1}` {
			t.Errorf("after SetAlarmState: local reason %q data %q, moto reason %q data %q", aws.ToString(a.StateReason), aws.ToString(a.StateReasonData), aws.ToString(b.StateReason), aws.ToString(b.StateReasonData))
		}
	}
	_, _, lo, mo = both(t, p, cwClient, func(c *cloudwatch.Client) (*cloudwatch.SetAlarmStateOutput, error) {
		return c.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("nope"), StateValue: types.StateValueAlarm, StateReason: aws.String("x")})
	})
	cwAgree(t, "SetAlarmState unknown alarm", lo, mo, outcome{Code: "ResourceNotFound", Status: 404})
	_, _, lo, mo = both(t, p, cwClient, func(c *cloudwatch.Client) (*cloudwatch.SetAlarmStateOutput, error) {
		return c.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("phoenix-a"), StateValue: types.StateValueOk, StateReason: aws.String("x"), StateReasonData: aws.String("{not json")})
	})
	cwAgree(t, "SetAlarmState bad StateReasonData", lo, mo, outcome{Code: "InvalidFormat", Status: 400})
	// A StateValue outside the enum: the local cloud answers
	// InvalidParameterValue, moto ValidationError; AWS lists neither for
	// SetAlarmState (documented divergence).
	_, _, lo, mo = both(t, p, cwClient, func(c *cloudwatch.Client) (*cloudwatch.SetAlarmStateOutput, error) {
		return c.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("phoenix-a"), StateValue: "BOGUS", StateReason: aws.String("x")})
	})
	if lo != (outcome{Code: "InvalidParameterValue", Status: 400}) || mo != (outcome{Code: "ValidationError", Status: 400}) {
		t.Errorf("SetAlarmState bad StateValue: local %+v, moto %+v; want local InvalidParameterValue/400, moto ValidationError/400", lo, mo)
	}

	// Tags on an alarm.
	arn := "arn:aws:cloudwatch:us-east-1:123456789012:alarm:phoenix-a"
	tags := func(c *cloudwatch.Client) (string, error) {
		o, err := c.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: aws.String(arn)})
		if err != nil {
			return "", err
		}
		var kv []string
		for _, tg := range o.Tags {
			kv = append(kv, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
		}
		sort.Strings(kv)
		return strings.Join(kv, ","), nil
	}
	lt, mt, lo, mo := both(t, p, cwClient, tags)
	cwAgree(t, "ListTagsForResource", lo, mo, outcome{})
	if lt != "team=phoenix" || mt != lt {
		t.Errorf("tags: local %q, moto %q; want team=phoenix", lt, mt)
	}
	_, _, lo, mo = both(t, p, cwClient, func(c *cloudwatch.Client) (*cloudwatch.TagResourceOutput, error) {
		return c.TagResource(ctx, &cloudwatch.TagResourceInput{ResourceARN: aws.String(arn), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("core")}, {Key: aws.String("tier"), Value: aws.String("1")}}})
	})
	cwAgree(t, "TagResource", lo, mo, outcome{})
	_, _, lo, mo = both(t, p, cwClient, func(c *cloudwatch.Client) (*cloudwatch.UntagResourceOutput, error) {
		return c.UntagResource(ctx, &cloudwatch.UntagResourceInput{ResourceARN: aws.String(arn), TagKeys: []string{"tier", "absent"}})
	})
	cwAgree(t, "UntagResource", lo, mo, outcome{})
	lt, mt, lo, mo = both(t, p, cwClient, tags)
	cwAgree(t, "ListTagsForResource after changes", lo, mo, outcome{})
	if lt != "team=core" || mt != lt {
		t.Errorf("tags after TagResource/UntagResource: local %q, moto %q; want team=core", lt, mt)
	}
	missing := "arn:aws:cloudwatch:us-east-1:123456789012:alarm:nope"
	_, _, lo, mo = both(t, p, cwClient, func(c *cloudwatch.Client) (*cloudwatch.TagResourceOutput, error) {
		return c.TagResource(ctx, &cloudwatch.TagResourceInput{ResourceARN: aws.String(missing), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	})
	cwAgree(t, "TagResource unknown alarm", lo, mo, outcome{Code: "ResourceNotFoundException", Status: 404})
	// ListTagsForResource of an unknown alarm: ResourceNotFoundException is
	// among its documented errors; moto answers an empty list.
	_, m2, lo, mo := both(t, p, cwClient, func(c *cloudwatch.Client) (*cloudwatch.ListTagsForResourceOutput, error) {
		return c.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: aws.String(missing)})
	})
	if lo != (outcome{Code: "ResourceNotFoundException", Status: 404}) || mo != (outcome{}) || len(m2.Tags) != 0 {
		t.Errorf("ListTagsForResource unknown alarm: local %+v, moto %+v; want local ResourceNotFoundException/404, moto an empty list", lo, mo)
	}

	// DeleteAlarms naming an unknown alarm: "If you specify an incorrect
	// alarm name or make any other error in the operation, no alarms are
	// deleted" (DeleteAlarms). moto deletes the others and succeeds.
	_, _, lo, mo = both(t, p, cwClient, func(c *cloudwatch.Client) (*cloudwatch.DeleteAlarmsOutput, error) {
		return c.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"phoenix-b", "nope"}})
	})
	if lo != (outcome{Code: "ResourceNotFound", Status: 404}) || mo != (outcome{}) {
		t.Errorf("DeleteAlarms with an unknown name: local %+v, moto %+v; want local ResourceNotFound/404, moto success", lo, mo)
	}
	l, m, lo, mo = describe(&cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"phoenix-b"}})
	cwAgree(t, "DescribeAlarms after a refused delete", lo, mo, outcome{})
	if lo.Code == "" && (len(l.MetricAlarms) != 1 || len(m.MetricAlarms) != 0) {
		t.Errorf("phoenix-b after DeleteAlarms [phoenix-b nope]: local %v, moto %v; want local kept, moto deleted", cwNames(l.MetricAlarms), cwNames(m.MetricAlarms))
	}
	_, _, lo, mo = both(t, p, cwClient, func(c *cloudwatch.Client) (*cloudwatch.DeleteAlarmsOutput, error) {
		return c.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"phoenix-a", "other-c"}})
	})
	cwAgree(t, "DeleteAlarms", lo, mo, outcome{})
	l, m, lo, mo = describe(&cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("o")})
	cwAgree(t, "DescribeAlarms after delete", lo, mo, outcome{})
	if lo.Code == "" && (len(l.MetricAlarms) != 0 || len(m.MetricAlarms) != 0) {
		t.Errorf("after DeleteAlarms: local %v, moto %v", cwNames(l.MetricAlarms), cwNames(m.MetricAlarms))
	}

	// DescribeAlarmHistory: moto 5.2.1 does not implement it (500); the
	// local cloud records creation and the state change.
	lh, _, lo, mo := both(t, p, cwClient, func(c *cloudwatch.Client) (*cloudwatch.DescribeAlarmHistoryOutput, error) {
		return c.DescribeAlarmHistory(ctx, &cloudwatch.DescribeAlarmHistoryInput{AlarmName: aws.String("phoenix-b")})
	})
	if lo != (outcome{}) || mo.Status != 500 {
		t.Errorf("DescribeAlarmHistory: local %+v, moto %+v; want local success, moto 500 (not implemented)", lo, mo)
	} else if len(lh.AlarmHistoryItems) == 0 || lh.AlarmHistoryItems[len(lh.AlarmHistoryItems)-1].HistoryItemType != types.HistoryItemTypeConfigurationUpdate {
		t.Errorf("local DescribeAlarmHistory of phoenix-b: %+v; want its creation (ConfigurationUpdate) as the oldest item", lh.AlarmHistoryItems)
	}
}

func TestCloudWatchMetricData(t *testing.T) {
	p, now := cwPair(t)
	ctx := context.Background()
	web := []types.Dimension{{Name: aws.String("Fleet"), Value: aws.String("web")}}
	at := func(d time.Duration) *time.Time { return aws.Time(now.Add(-d)) }
	_, _, lo, mo := both(t, p, cwClient, func(c *cloudwatch.Client) (*cloudwatch.PutMetricDataOutput, error) {
		return c.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("Phoenix"), MetricData: []types.MetricDatum{
			{MetricName: aws.String("Latency"), Dimensions: web, Value: aws.Float64(10), Timestamp: at(5 * time.Minute), Unit: types.StandardUnitMilliseconds},
			{MetricName: aws.String("Latency"), Dimensions: web, Value: aws.Float64(30), Timestamp: at(5*time.Minute - 10*time.Second), Unit: types.StandardUnitMilliseconds},
			{MetricName: aws.String("Latency"), Dimensions: web, Value: aws.Float64(50), Timestamp: at(3 * time.Minute), Unit: types.StandardUnitMilliseconds},
			{MetricName: aws.String("Requests"), Value: aws.Float64(7), Timestamp: at(3 * time.Minute)},
		}})
	})
	cwAgree(t, "PutMetricData", lo, mo, outcome{})
	_, _, lo, mo = both(t, p, cwClient, func(c *cloudwatch.Client) (*cloudwatch.PutMetricDataOutput, error) {
		return c.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("AWS/EC2"), MetricData: []types.MetricDatum{{MetricName: aws.String("X"), Value: aws.Float64(1)}}})
	})
	// "You cannot specify a namespace that begins with "AWS/"" (PutMetricData);
	// moto accepts it (documented divergence).
	if lo != (outcome{Code: "InvalidParameterValue", Status: 400}) || mo != (outcome{}) {
		t.Errorf("PutMetricData to AWS/EC2: local %+v, moto %+v; want local InvalidParameterValue/400, moto success", lo, mo)
	}

	metrics := func(in *cloudwatch.ListMetricsInput) func(c *cloudwatch.Client) ([]string, error) {
		return func(c *cloudwatch.Client) ([]string, error) {
			o, err := c.ListMetrics(ctx, in)
			if err != nil {
				return nil, err
			}
			var out []string
			for _, m := range o.Metrics {
				s := aws.ToString(m.Namespace) + "/" + aws.ToString(m.MetricName)
				for _, d := range m.Dimensions {
					s += " " + aws.ToString(d.Name) + "=" + aws.ToString(d.Value)
				}
				out = append(out, s)
			}
			sort.Strings(out)
			return out, nil
		}
	}
	for what, in := range map[string]*cloudwatch.ListMetricsInput{
		"namespace":      {Namespace: aws.String("Phoenix")},
		"name":           {MetricName: aws.String("Latency")},
		"dimension name": {Dimensions: []types.DimensionFilter{{Name: aws.String("Fleet")}}},
		"dimension":      {Dimensions: []types.DimensionFilter{{Name: aws.String("Fleet"), Value: aws.String("api")}}},
	} {
		l, m, lo, mo := both(t, p, cwClient, metrics(in))
		cwAgree(t, "ListMetrics "+what, lo, mo, outcome{})
		if fmt.Sprint(l) != fmt.Sprint(m) {
			t.Errorf("ListMetrics %s: local %v, moto %v", what, l, m)
		}
	}

	query := func(id, stat, name string, dims []types.Dimension) types.MetricDataQuery {
		return types.MetricDataQuery{Id: aws.String(id), Label: aws.String(id), MetricStat: &types.MetricStat{
			Metric: &types.Metric{Namespace: aws.String("Phoenix"), MetricName: aws.String(name), Dimensions: dims}, Period: aws.Int32(60), Stat: aws.String(stat)}}
	}
	get := func(scan types.ScanBy) func(c *cloudwatch.Client) (string, error) {
		return func(c *cloudwatch.Client) (string, error) {
			o, err := c.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: at(10 * time.Minute), EndTime: aws.Time(now), ScanBy: scan, MetricDataQueries: []types.MetricDataQuery{
				query("sum", "Sum", "Latency", web), query("avg", "Average", "Latency", web), query("max", "Maximum", "Latency", web),
				query("min", "Minimum", "Latency", web), query("n", "SampleCount", "Latency", web), query("req", "Sum", "Requests", nil),
			}})
			if err != nil {
				return "", err
			}
			var b strings.Builder
			for _, r := range o.MetricDataResults {
				fmt.Fprintf(&b, "%s(%s,%s):", aws.ToString(r.Id), aws.ToString(r.Label), r.StatusCode)
				for i, ts := range r.Timestamps {
					fmt.Fprintf(&b, " %s=%v", ts.Sub(now), r.Values[i])
				}
				b.WriteString("; ")
			}
			return b.String(), nil
		}
	}
	for _, scan := range []types.ScanBy{"", types.ScanByTimestampAscending} {
		l, m, lo, mo := both(t, p, cwClient, get(scan))
		cwAgree(t, "GetMetricData "+string(scan), lo, mo, outcome{})
		if l != m {
			t.Errorf("GetMetricData %s:\nlocal %s\nmoto  %s", scan, l, m)
		}
	}
	// Latency was published only with the Fleet dimension. CloudWatch
	// treats each combination of dimensions as a separate metric and does
	// not aggregate custom metrics across dimensions (user guide,
	// "Dimensions"), so the metric without dimensions has no data; moto
	// sums across dimensions (documented divergence).
	nodims := func(c *cloudwatch.Client) (int, error) {
		o, err := c.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: at(10 * time.Minute), EndTime: aws.Time(now),
			MetricDataQueries: []types.MetricDataQuery{query("nodims", "Sum", "Latency", nil)}})
		if err != nil {
			return 0, err
		}
		return len(o.MetricDataResults[0].Values), nil
	}
	// Without a Label, "CloudWatch generates a default" (MetricDataQuery);
	// the local cloud gives the metric name, moto the name and statistic.
	label := func(c *cloudwatch.Client) (string, error) {
		q := query("x", "Sum", "Latency", web)
		q.Label = nil
		o, err := c.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: at(10 * time.Minute), EndTime: aws.Time(now), MetricDataQueries: []types.MetricDataQuery{q}})
		if err != nil {
			return "", err
		}
		return aws.ToString(o.MetricDataResults[0].Label), nil
	}
	ll, ml, lo, mo := both(t, p, cwClient, label)
	if lo != (outcome{}) || mo != (outcome{}) || ll != "Latency" || ml != "Latency Sum" {
		t.Errorf("GetMetricData default label: local %q %+v, moto %q %+v; want local Latency, moto \"Latency Sum\"", ll, lo, ml, mo)
	}
	ln, mn, lo, mo := both(t, p, cwClient, nodims)
	cwAgree(t, "GetMetricData without dimensions", lo, mo, outcome{})
	if ln != 0 || mn != 2 {
		t.Errorf("GetMetricData of Latency without its dimension: local %d values, moto %d; want local 0, moto 2 (as observed)", ln, mn)
	}
}

func TestCloudWatchDashboards(t *testing.T) {
	p, _ := cwPair(t)
	ctx := context.Background()
	body := `{"widgets":[{"type":"text","x":0,"y":0,"width":6,"height":3,"properties":{"markdown":"Phoenix"}}]}`
	for _, n := range []string{"phoenix-main", "other"} {
		l, m, lo, mo := both(t, p, cwClient, func(c *cloudwatch.Client) (*cloudwatch.PutDashboardOutput, error) {
			return c.PutDashboard(ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String(n), DashboardBody: aws.String(body)})
		})
		cwAgree(t, "PutDashboard "+n, lo, mo, outcome{})
		if lo.Code == "" && (len(l.DashboardValidationMessages) != 0 || len(m.DashboardValidationMessages) != 0) {
			t.Errorf("PutDashboard %s messages: local %+v, moto %+v", n, l.DashboardValidationMessages, m.DashboardValidationMessages)
		}
	}
	_, _, lo, mo := both(t, p, cwClient, func(c *cloudwatch.Client) (*cloudwatch.PutDashboardOutput, error) {
		return c.PutDashboard(ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String("bad"), DashboardBody: aws.String(`{not json`)})
	})
	cwAgree(t, "PutDashboard invalid JSON", lo, mo, outcome{Code: "InvalidParameterInput", Status: 400})

	l, m, lo, mo := both(t, p, cwClient, func(c *cloudwatch.Client) (*cloudwatch.GetDashboardOutput, error) {
		return c.GetDashboard(ctx, &cloudwatch.GetDashboardInput{DashboardName: aws.String("phoenix-main")})
	})
	cwAgree(t, "GetDashboard", lo, mo, outcome{})
	if lo.Code == "" {
		g := func(o *cloudwatch.GetDashboardOutput) string {
			return aws.ToString(o.DashboardName) + " " + aws.ToString(o.DashboardArn) + " " + aws.ToString(o.DashboardBody)
		}
		if want := "phoenix-main arn:aws:cloudwatch::123456789012:dashboard/phoenix-main " + body; g(l) != want || g(m) != want {
			t.Errorf("GetDashboard:\nlocal %s\nmoto  %s\nwant  %s", g(l), g(m), want)
		}
	}
	_, _, lo, mo = both(t, p, cwClient, func(c *cloudwatch.Client) (*cloudwatch.GetDashboardOutput, error) {
		return c.GetDashboard(ctx, &cloudwatch.GetDashboardInput{DashboardName: aws.String("nope")})
	})
	cwAgree(t, "GetDashboard unknown", lo, mo, outcome{Code: "ResourceNotFound", Status: 404})

	list := func(prefix *string) func(c *cloudwatch.Client) ([]string, error) {
		return func(c *cloudwatch.Client) ([]string, error) {
			o, err := c.ListDashboards(ctx, &cloudwatch.ListDashboardsInput{DashboardNamePrefix: prefix})
			if err != nil {
				return nil, err
			}
			var out []string
			for _, e := range o.DashboardEntries {
				if e.LastModified == nil {
					return nil, fmt.Errorf("dashboard %s has no LastModified", aws.ToString(e.DashboardName))
				}
				out = append(out, fmt.Sprintf("%s:%d:%s", aws.ToString(e.DashboardName), aws.ToInt64(e.Size), aws.ToString(e.DashboardArn)))
			}
			return out, nil
		}
	}
	ll, ml, lo, mo := both(t, p, cwClient, list(nil))
	cwAgree(t, "ListDashboards", lo, mo, outcome{})
	// Sizes are the body's bytes on both; AWS documents no order: the local
	// cloud lists by name, moto in creation order.
	entry := func(n string) string {
		return fmt.Sprintf("%s:%d:arn:aws:cloudwatch::123456789012:dashboard/%s", n, len(body), n)
	}
	if got, want := fmt.Sprint(ll, ml), fmt.Sprint([]string{entry("other"), entry("phoenix-main")}, []string{entry("phoenix-main"), entry("other")}); got != want {
		t.Errorf("ListDashboards (local, moto):\n%s\nwant\n%s", got, want)
	}
	ll, ml, lo, mo = both(t, p, cwClient, list(aws.String("phoe")))
	cwAgree(t, "ListDashboards prefix", lo, mo, outcome{})
	if fmt.Sprint(ll) != fmt.Sprint([]string{entry("phoenix-main")}) || fmt.Sprint(ml) != fmt.Sprint(ll) {
		t.Errorf("ListDashboards prefix: local %v, moto %v", ll, ml)
	}
	// DeleteDashboards is all or nothing on both.
	_, _, lo, mo = both(t, p, cwClient, func(c *cloudwatch.Client) (*cloudwatch.DeleteDashboardsOutput, error) {
		return c.DeleteDashboards(ctx, &cloudwatch.DeleteDashboardsInput{DashboardNames: []string{"other", "nope"}})
	})
	cwAgree(t, "DeleteDashboards with an unknown name", lo, mo, outcome{Code: "ResourceNotFound", Status: 404})
	ll, ml, _, _ = both(t, p, cwClient, list(aws.String("other")))
	if len(ll) != 1 || len(ml) != 1 {
		t.Errorf("after a refused DeleteDashboards: local %v, moto %v; want other kept", ll, ml)
	}
	_, _, lo, mo = both(t, p, cwClient, func(c *cloudwatch.Client) (*cloudwatch.DeleteDashboardsOutput, error) {
		return c.DeleteDashboards(ctx, &cloudwatch.DeleteDashboardsInput{DashboardNames: []string{"other"}})
	})
	cwAgree(t, "DeleteDashboards", lo, mo, outcome{})
	ll, ml, _, _ = both(t, p, cwClient, list(nil))
	if fmt.Sprint(ll) != fmt.Sprint([]string{entry("phoenix-main")}) || fmt.Sprint(ml) != fmt.Sprint(ll) {
		t.Errorf("ListDashboards after delete: local %v, moto %v", ll, ml)
	}
}
