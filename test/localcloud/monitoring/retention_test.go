package monitoring

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
)

// churn is a Collector for a fleet whose instances are all replaced every
// day, as a nightly recycle does: each publishes a count and a latency
// distribution every minute.
type churn struct {
	instances int
	start     time.Time
}

func (c churn) Collect(_ context.Context, now time.Time) []Sample {
	day := int(now.Sub(c.start) / (24 * time.Hour))
	var out []Sample
	for i := range c.instances {
		dims := map[string]string{"InstanceId": fmt.Sprintf("i-%08d-%04d", day, i)}
		at := now.Add(-time.Minute)
		out = append(out,
			Sample{Region: testRegion, Namespace: "App", MetricName: "RequestCount", Dimensions: dims, Timestamp: at, Value: 30, Unit: "Count"},
			Sample{Region: testRegion, Namespace: "App", MetricName: "TargetResponseTime", Dimensions: dims, Timestamp: at, Values: []float64{0.02, 0.05}, Counts: []float64{29, 1}, Unit: "Seconds"})
	}
	return out
}

// A long simulation holds at most CloudWatch's 15 days of datapoints, and
// forgets a metric two weeks after its last datapoint (ListMetrics no
// longer lists it in AWS), so memory does not grow with simulated time.
func TestMetricsOfALongSimulationAreBoundedByTheRetention(t *testing.T) {
	clk := clock.NewStepped(time.Time{})
	const instances = 3
	cw := New(Options{Clock: clk, Collector: churn{instances: instances, start: clk.Now()}})
	ctx := api.WithRequest(context.Background(), api.Request{Region: testRegion})
	count := func() (series, samples int) {
		cw.mu.Lock()
		defer cw.mu.Unlock()
		for _, ser := range cw.regions[testRegion].metrics {
			series++
			samples += len(ser.samples)
		}
		return series, samples
	}
	for day := 1; day <= 40; day++ {
		clk.Advance(24 * time.Hour)
		series, samples := count()
		// Each day's instances publish until the next day begins; their
		// datapoints go 15 days later (prune runs hourly), and then
		// their metrics, not put for 14 days.
		if maxSeries, maxSamples := 2*instances*min(day+1, 17), 2*instances*(15*24*60+60); series > maxSeries || samples > maxSamples {
			t.Fatalf("day %d: %d metrics and %d datapoints, want at most %d and %d", day, series, samples, maxSeries, maxSamples)
		}
	}
	out, err := cw.ListMetrics(ctx, &cloudwatch.ListMetricsInput{MetricName: aws.String("RequestCount")})
	if err != nil || len(out.Metrics) != instances*15 {
		t.Fatalf("ListMetrics lists %d RequestCount metrics (%v), want the %d put in the last two weeks", len(out.Metrics), err, instances*15)
	}
	data, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(clk.Now().Add(-10 * time.Minute)), EndTime: aws.Time(clk.Now()),
		MetricDataQueries: []types.MetricDataQuery{{Id: aws.String("p"), MetricStat: &types.MetricStat{
			Metric: &types.Metric{Namespace: aws.String("App"), MetricName: aws.String("TargetResponseTime"), Dimensions: []types.Dimension{{Name: aws.String("InstanceId"), Value: aws.String("i-00000040-0000")}}},
			Period: aws.Int32(600), Stat: aws.String("p99"),
		}}},
	})
	if err != nil || len(data.MetricDataResults[0].Values) != 1 || data.MetricDataResults[0].Values[0] != 0.05 {
		t.Fatalf("p99 of the last 10 minutes %+v (%v), want 0.05: 10 of 300 requests took 50 ms", data.MetricDataResults, err)
	}
}

// A single-value datapoint, the kind a fleet publishes most (a count, a
// percentage), is kept in about 32 bytes.
func TestASingleValueDatapointIsKeptSmall(t *testing.T) {
	clk := clock.NewStepped(time.Time{})
	cw := New(Options{Clock: clk})
	const series, minutes = 100, 1440
	dims := make([]map[string]string, series)
	for i := range dims {
		dims[i] = map[string]string{"InstanceId": fmt.Sprintf("i-%017d", i)}
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for m := range minutes {
		batch := make([]Sample, series)
		for i := range batch {
			batch[i] = Sample{Region: testRegion, Namespace: "CWAgent", MetricName: "mem_used_percent", Dimensions: dims[i], Timestamp: clk.Now().Add(time.Duration(m) * time.Minute), Value: float64(m), Unit: "Percent"}
		}
		cw.Record(batch...)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perPoint := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / (series * minutes)
	t.Logf("%.1f bytes a datapoint", perPoint)
	if perPoint > 48 {
		t.Errorf("%.1f bytes a datapoint, want at most 48 (32 and the slices' spare capacity)", perPoint)
	}
	runtime.KeepAlive(cw)
}
