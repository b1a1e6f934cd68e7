package monitoring

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
)

func testPutMetricDataRejectsWhatCloudWatchRejects(t *testing.T, backend Backend) {
	datum := func(change func(*types.MetricDatum)) []types.MetricDatum {
		d := types.MetricDatum{MetricName: aws.String("m"), Value: aws.Float64(1)}
		change(&d)
		return []types.MetricDatum{d}
	}
	cases := []struct {
		name string
		in   cloudwatch.PutMetricDataInput
		code string
	}{
		{"a namespace is required", cloudwatch.PutMetricDataInput{MetricData: datum(func(*types.MetricDatum) {})}, "MissingParameter"},
		{"namespaces beginning with AWS/ are reserved", cloudwatch.PutMetricDataInput{Namespace: aws.String("AWS/EC2"), MetricData: datum(func(*types.MetricDatum) {})}, "InvalidParameterValue"},
		{"metric data is required", cloudwatch.PutMetricDataInput{Namespace: aws.String("ns")}, "MissingParameter"},
		{"at most 1000 datums per call", cloudwatch.PutMetricDataInput{Namespace: aws.String("ns"), MetricData: slices.Repeat(datum(func(*types.MetricDatum) {}), 1001)}, "InvalidParameterValue"},
		{"a datum needs a metric name", cloudwatch.PutMetricDataInput{Namespace: aws.String("ns"), MetricData: datum(func(d *types.MetricDatum) { d.MetricName = nil })}, "MissingParameter"},
		{"value and statistic values are mutually exclusive", cloudwatch.PutMetricDataInput{Namespace: aws.String("ns"), MetricData: datum(func(d *types.MetricDatum) {
			d.StatisticValues = &types.StatisticSet{SampleCount: aws.Float64(1), Sum: aws.Float64(1), Minimum: aws.Float64(1), Maximum: aws.Float64(1)}
		})}, "InvalidParameterCombination"},
		{"values and counts have the same length", cloudwatch.PutMetricDataInput{Namespace: aws.String("ns"), MetricData: datum(func(d *types.MetricDatum) {
			d.Value, d.Values, d.Counts = nil, []float64{1, 2}, []float64{1}
		})}, "InvalidParameterCombination"},
		{"at most 150 values per datum", cloudwatch.PutMetricDataInput{Namespace: aws.String("ns"), MetricData: datum(func(d *types.MetricDatum) {
			d.Value, d.Values = nil, make([]float64, 151)
		})}, "InvalidParameterValue"},
		{"NaN is not a value", cloudwatch.PutMetricDataInput{Namespace: aws.String("ns"), MetricData: datum(func(d *types.MetricDatum) { d.Value = aws.Float64(math.NaN()) })}, "InvalidParameterValue"},
		{"values beyond 2^360 are refused", cloudwatch.PutMetricDataInput{Namespace: aws.String("ns"), MetricData: datum(func(d *types.MetricDatum) { d.Value = aws.Float64(math.Pow(2, 361)) })}, "InvalidParameterValue"},
		{"timestamps are at most two weeks old", cloudwatch.PutMetricDataInput{Namespace: aws.String("ns"), MetricData: datum(func(d *types.MetricDatum) {
			d.Timestamp = aws.Time(clock.Epoch.Add(-15 * 24 * time.Hour))
		})}, "InvalidParameterValue"},
		{"timestamps are at most two hours ahead", cloudwatch.PutMetricDataInput{Namespace: aws.String("ns"), MetricData: datum(func(d *types.MetricDatum) {
			d.Timestamp = aws.Time(clock.Epoch.Add(3 * time.Hour))
		})}, "InvalidParameterValue"},
		{"at most 30 dimensions", cloudwatch.PutMetricDataInput{Namespace: aws.String("ns"), MetricData: datum(func(d *types.MetricDatum) {
			for i := range 31 {
				d.Dimensions = append(d.Dimensions, types.Dimension{Name: aws.String(strings.Repeat("d", i+1)), Value: aws.String("v")})
			}
		})}, "InvalidParameterValue"},
		{"storage resolution is 1 or 60", cloudwatch.PutMetricDataInput{Namespace: aws.String("ns"), MetricData: datum(func(d *types.MetricDatum) { d.StorageResolution = aws.Int32(5) })}, "InvalidParameterValue"},
		{"units come from CloudWatch's list", cloudwatch.PutMetricDataInput{Namespace: aws.String("ns"), MetricData: datum(func(d *types.MetricDatum) { d.Unit = "Parsecs" })}, "InvalidParameterValue"},
		{"a statistic set needs all four statistics", cloudwatch.PutMetricDataInput{Namespace: aws.String("ns"), MetricData: datum(func(d *types.MetricDatum) {
			d.Value, d.StatisticValues = nil, &types.StatisticSet{SampleCount: aws.Float64(1)}
		})}, "MissingParameter"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, backend)
			_, err := e.cw.PutMetricData(e.ctx, &c.in)
			wantCode(t, err, c.code)
		})
	}
}

// query is a GetMetricData query of the test metric.
func query(id, stat string, period int32) types.MetricDataQuery {
	return types.MetricDataQuery{Id: aws.String(id), MetricStat: &types.MetricStat{
		Metric: &types.Metric{Namespace: aws.String(testNS), MetricName: aws.String(testMetric), Dimensions: testDims()},
		Period: aws.Int32(period), Stat: aws.String(stat),
	}}
}

func testGetMetricDataAggregatesEachPeriodWithTheRequestedStatistic(t *testing.T, backend Backend) {
	e := newEnv(t, backend)
	// Minute 0: 1, 2, 3 in one call; minute 1: 10; minute 2: nothing;
	// minute 3: a statistic set.
	_, err := e.cw.PutMetricData(e.ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String(testNS), MetricData: []types.MetricDatum{
		{MetricName: aws.String(testMetric), Dimensions: testDims(), Values: []float64{1, 2, 3}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Minute)
	e.put(10)
	e.clk.Advance(2 * time.Minute)
	_, err = e.cw.PutMetricData(e.ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String(testNS), MetricData: []types.MetricDatum{
		{MetricName: aws.String(testMetric), Dimensions: testDims(), StatisticValues: &types.StatisticSet{SampleCount: aws.Float64(4), Sum: aws.Float64(8), Minimum: aws.Float64(1), Maximum: aws.Float64(3)}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Minute)
	out, err := e.cw.GetMetricData(e.ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(clock.Epoch), EndTime: aws.Time(clock.Epoch.Add(5 * time.Minute)),
		ScanBy: types.ScanByTimestampAscending,
		MetricDataQueries: []types.MetricDataQuery{
			query("sum", "Sum", 60), query("avg", "Average", 60), query("max", "Maximum", 60),
			query("n", "SampleCount", 60), query("p50", "p50", 60), query("fivemin", "Sum", 300),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"sum":     "09:00=6 09:01=10 09:03=8",
		"avg":     "09:00=2 09:01=10 09:03=2",
		"max":     "09:00=3 09:01=10 09:03=3",
		"n":       "09:00=3 09:01=1 09:03=4",
		"p50":     "09:00=2 09:01=10",
		"fivemin": "09:00=24",
	}
	for _, r := range out.MetricDataResults {
		var got []string
		for i, ts := range r.Timestamps {
			got = append(got, ts.Format("15:04")+"="+javaNum(r.Values[i]))
		}
		id := aws.ToString(r.Id)
		if strings.Join(got, " ") != want[id] {
			t.Errorf("%s: got %v, want %s", id, got, want[id])
		}
		if r.StatusCode != types.StatusCodeComplete {
			t.Errorf("%s: status %s", id, r.StatusCode)
		}
	}
	if len(out.MetricDataResults) != len(want) {
		t.Fatalf("%d results, want %d", len(out.MetricDataResults), len(want))
	}
}

func javaNum(v float64) string { return strings.TrimSuffix(javaDouble(v), ".0") }

func testGetMetricDataScansNewestFirstByDefaultAndPages(t *testing.T, backend Backend) {
	e := newEnv(t, backend)
	for i := range 5 {
		e.put(float64(i))
		e.clk.Advance(time.Minute)
	}
	in := &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(clock.Epoch), EndTime: aws.Time(clock.Epoch.Add(10 * time.Minute)),
		MetricDataQueries: []types.MetricDataQuery{query("m", "Sum", 60)},
		MaxDatapoints:     aws.Int32(3),
	}
	var values []float64
	for range 5 {
		out, err := e.cw.GetMetricData(e.ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		values = append(values, out.MetricDataResults[0].Values...)
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	if got := fmtFloats(values); got != "4,3,2,1,0" {
		t.Fatalf("values over pages %s, want 4,3,2,1,0", got)
	}
}

func fmtFloats(vs []float64) string {
	var b []string
	for _, v := range vs {
		b = append(b, javaNum(v))
	}
	return strings.Join(b, ",")
}

func testGetMetricDataRefusesWhatItCannotAnswer(t *testing.T, backend Backend) {
	cases := []struct {
		name string
		in   cloudwatch.GetMetricDataInput
		code string
	}{
		{"math expressions are not evaluated", cloudwatch.GetMetricDataInput{MetricDataQueries: []types.MetricDataQuery{{Id: aws.String("e1"), Expression: aws.String("SUM(METRICS())")}}}, "InvalidParameterValue"},
		{"query ids start with a lower-case letter", cloudwatch.GetMetricDataInput{MetricDataQueries: []types.MetricDataQuery{query("M1", "Sum", 60)}}, "InvalidParameterValue"},
		{"query ids are unique", cloudwatch.GetMetricDataInput{MetricDataQueries: []types.MetricDataQuery{query("m", "Sum", 60), query("m", "Sum", 60)}}, "InvalidParameterValue"},
		{"the period is 1, 5, 10, 20, 30 or a multiple of 60", cloudwatch.GetMetricDataInput{MetricDataQueries: []types.MetricDataQuery{query("m", "Sum", 61)}}, "InvalidParameterValue"},
		{"the statistic must be known", cloudwatch.GetMetricDataInput{MetricDataQueries: []types.MetricDataQuery{query("m", "Median", 60)}}, "InvalidParameterValue"},
		{"the start is before the end", cloudwatch.GetMetricDataInput{MetricDataQueries: []types.MetricDataQuery{query("m", "Sum", 60)}, StartTime: aws.Time(clock.Epoch.Add(time.Hour))}, "InvalidParameterValue"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, backend)
			if c.in.StartTime == nil {
				c.in.StartTime = aws.Time(clock.Epoch)
			}
			c.in.EndTime = aws.Time(clock.Epoch.Add(time.Hour))
			_, err := e.cw.GetMetricData(e.ctx, &c.in)
			wantCode(t, err, c.code)
		})
	}
}

func testListMetricsFiltersByNamespaceNameAndDimensions(t *testing.T, backend Backend) {
	e := newEnv(t, backend)
	put := func(ns, name string, dims ...string) {
		t.Helper()
		var ds []types.Dimension
		for i := 0; i < len(dims); i += 2 {
			ds = append(ds, types.Dimension{Name: aws.String(dims[i]), Value: aws.String(dims[i+1])})
		}
		if _, err := e.cw.PutMetricData(e.ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String(ns), MetricData: []types.MetricDatum{{MetricName: aws.String(name), Value: aws.Float64(1), Dimensions: ds}}}); err != nil {
			t.Fatal(err)
		}
	}
	put("App", "Errors", "Service", "web")
	put("App", "Errors", "Service", "api")
	put("App", "Latency", "Service", "web", "Stage", "prod")
	put("Other", "Errors")
	e.clk.Advance(4 * time.Hour)
	put("App", "Fresh")
	cases := []struct {
		name string
		in   cloudwatch.ListMetricsInput
		want int
	}{
		{"every metric is listed", cloudwatch.ListMetricsInput{}, 5},
		{"a namespace selects its metrics", cloudwatch.ListMetricsInput{Namespace: aws.String("App")}, 4},
		{"a name selects metrics across namespaces", cloudwatch.ListMetricsInput{MetricName: aws.String("Errors")}, 3},
		{"a dimension with a value selects exactly", cloudwatch.ListMetricsInput{Dimensions: []types.DimensionFilter{{Name: aws.String("Service"), Value: aws.String("web")}}}, 2},
		{"a dimension without a value selects any value", cloudwatch.ListMetricsInput{Dimensions: []types.DimensionFilter{{Name: aws.String("Service")}}}, 3},
		{"recently active keeps metrics with data in the past three hours", cloudwatch.ListMetricsInput{RecentlyActive: types.RecentlyActivePt3h}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := e.cw.ListMetrics(e.ctx, &c.in)
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Metrics) != c.want {
				t.Fatalf("%d metrics, want %d: %+v", len(out.Metrics), c.want, out.Metrics)
			}
		})
	}
}

func TestJavaDoubleFormatsAsCloudWatchPrintsNumbers(t *testing.T) {
	cases := map[float64]string{5: "5.0", 0.25: "0.25", -3: "-3.0", 1e7: "1.0E7", 0.0001: "1.0E-4", 0: "0.0", 123.456: "123.456"}
	for v, want := range cases {
		if got := javaDouble(v); got != want {
			t.Errorf("javaDouble(%v) = %s, want %s", v, got, want)
		}
	}
}
