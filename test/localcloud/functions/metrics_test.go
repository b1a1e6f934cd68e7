package functions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/monitoring"
)

// newMeteredHarness is a harness whose Service publishes its metrics to a
// CloudWatch on the same clock.
func newMeteredHarness(t *testing.T) (*harness, *monitoring.CloudWatch) {
	t.Helper()
	h := newHarness(t)
	cw := monitoring.New(monitoring.Options{Clock: h.clk})
	h.svc.metrics = cw
	return h, cw
}

// series is the datapoints of one metric statistic, oldest first.
type series struct {
	times  []time.Time
	values []float64
}

// query reads a statistic of a metric over the last hour through
// GetMetricData, in us-east-1 (the region of the tests' requests).
func query(t *testing.T, cw *monitoring.CloudWatch, now time.Time, ns, name string, dims map[string]string, stat string, period int32) series {
	t.Helper()
	var ds []cwtypes.Dimension
	for k, v := range dims {
		ds = append(ds, cwtypes.Dimension{Name: aws.String(k), Value: aws.String(v)})
	}
	ctx := api.WithRequest(context.Background(), api.Request{Region: api.DefaultRegion})
	out, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now.Add(time.Hour)), ScanBy: cwtypes.ScanByTimestampAscending,
		MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("q"), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String(ns), MetricName: aws.String(name), Dimensions: ds},
			Period: aws.Int32(period), Stat: aws.String(stat),
		}}},
	})
	if err != nil {
		t.Fatalf("GetMetricData %s %s: %v", ns, name, err)
	}
	return series{out.MetricDataResults[0].Timestamps, out.MetricDataResults[0].Values}
}

// total is a metric's Sum over the last hour as one value (0 without data).
func total(t *testing.T, cw *monitoring.CloudWatch, now time.Time, name string, dims map[string]string) float64 {
	t.Helper()
	s := query(t, cw, now, "AWS/Lambda", name, dims, "Sum", 7200)
	sum := 0.0
	for _, v := range s.values {
		sum += v
	}
	return sum
}

func fn(name string) map[string]string { return map[string]string{"FunctionName": name} }

func TestEveryInvocationCountsForTheFunctionAndTheAccount(t *testing.T) {
	h, cw := newMeteredHarness(t)
	h.svc.RegisterFunc("ok", func(context.Context, json.RawMessage) (string, error) {
		time.Sleep(5 * time.Millisecond)
		return "fine", nil
	})
	h.svc.RegisterFunc("bad", func(context.Context, json.RawMessage) (string, error) {
		time.Sleep(5 * time.Millisecond)
		return "", errors.New("broken")
	})
	h.create(t, inProcessFunction("ok"))
	h.create(t, inProcessFunction("bad"))
	invoke(t, h.svc, "ok", map[string]any{})
	invoke(t, h.svc, "ok", map[string]any{})
	functionError(t, invoke(t, h.svc, "bad", map[string]any{}))
	if _, err := h.faults.Add(faults.Rule{Kind: faults.FunctionTimeout, Target: "ok", Times: 1}); err != nil {
		t.Fatal(err)
	}
	functionError(t, invoke(t, h.svc, "ok", map[string]any{}))
	now := h.clk.Now()

	for _, c := range []struct {
		metric string
		dims   map[string]string
		want   float64
	}{
		{"Invocations", fn("ok"), 3},
		{"Errors", fn("ok"), 1}, // the timeout
		{"Invocations", fn("bad"), 1},
		{"Errors", fn("bad"), 1},
		{"Invocations", nil, 4},
		{"Errors", nil, 2},
	} {
		if got := total(t, cw, now, c.metric, c.dims); got != c.want {
			t.Errorf("%s %v = %v, want %v", c.metric, c.dims, got, c.want)
		}
	}
	// Errors is a 0 or a 1 for every invocation, so its average is the
	// error rate.
	if s := query(t, cw, now, "AWS/Lambda", "Errors", fn("ok"), "SampleCount", 60); fmt.Sprint(s.values) != "[3]" {
		t.Errorf("Errors sample count for ok = %v, want [3]", s.values)
	}
	// A timeout lasts the function's timeout (3 s by default); everything
	// else took no simulated time, whatever the handlers slept.
	if s := query(t, cw, now, "AWS/Lambda", "Duration", fn("ok"), "Maximum", 60); fmt.Sprint(s.values) != "[3000]" {
		t.Errorf("Duration maximum for ok = %v, want [3000] ms", s.values)
	}
	if s := query(t, cw, now, "AWS/Lambda", "Duration", fn("bad"), "Maximum", 60); fmt.Sprint(s.values) != "[0]" {
		t.Errorf("Duration maximum for bad = %v, want [0]: durations are simulated time", s.values)
	}
}

func TestEachAsyncAttemptIsAnInvocationStampedWhenItBegan(t *testing.T) {
	h, cw := newMeteredHarness(t)
	h.svc.RegisterFunc("flaky", func(context.Context, map[string]any) (string, error) { return "", errors.New("no") })
	h.create(t, inProcessFunction("flaky"))
	start := h.clk.Now()
	sendEvent(t, h, "flaky", `{}`)
	h.clk.Advance(10 * time.Minute)
	// Three attempts, at 0, 1 and 3 minutes, each an invocation and an
	// error.
	for _, metric := range []string{"Invocations", "Errors"} {
		s := query(t, cw, h.clk.Now(), "AWS/Lambda", metric, fn("flaky"), "Sum", 60)
		var offsets []time.Duration
		for _, at := range s.times {
			offsets = append(offsets, at.Sub(start))
		}
		if fmt.Sprint(offsets) != "[0s 1m0s 3m0s]" || fmt.Sprint(s.values) != "[1 1 1]" {
			t.Errorf("%s: %v at %v, want 1 at each of [0s 1m0s 3m0s]", metric, s.values, offsets)
		}
	}
}

func TestAThrottledInvokeCountsInThrottlesButIsNoInvocation(t *testing.T) {
	h, cw := newMeteredHarness(t)
	h.svc.RegisterFunc("busy", func(context.Context, json.RawMessage) (string, error) { return "", nil })
	h.create(t, inProcessFunction("busy"))
	ctx := api.WithRequest(context.Background(), api.Request{Region: api.DefaultRegion})
	h.svc.RecordThrottle(ctx, &lambda.InvokeInput{FunctionName: aws.String("arn:aws:lambda:us-east-1:123456789012:function:busy")})
	h.svc.RecordThrottle(ctx, &lambda.InvokeInput{FunctionName: aws.String("missing")})
	now := h.clk.Now()
	if got := total(t, cw, now, "Throttles", fn("busy")); got != 1 {
		t.Errorf("Throttles for busy = %v, want 1", got)
	}
	if got := total(t, cw, now, "Throttles", nil); got != 1 {
		t.Errorf("Throttles for the account = %v, want 1 (a function that does not exist is not throttled)", got)
	}
	if got := total(t, cw, now, "Invocations", fn("busy")); got != 0 {
		t.Errorf("Invocations for busy = %v, want none", got)
	}
}

func TestEMFLinesAFunctionPrintsBecomeMetricsAtTheirOwnTimestamp(t *testing.T) {
	h, cw := newMeteredHarness(t)
	h.create(t, binaryFunction(t, "emf"))
	at := h.clk.Now().Add(-30 * time.Second)
	line := func(dimensions string) string {
		return fmt.Sprintf(`{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":"Phoenix/Test","Dimensions":%s,"Metrics":[{"Name":"Widgets","Unit":"Count"}]}]},"Shop":"north","Widgets":[2,5]}`,
			at.UnixMilli(), dimensions)
	}
	decode(t, invoke(t, h.svc, "emf", map[string]any{"action": "print", "message": line(`[["Shop"]]`)}))
	// A flattened DimensionSet breaks the specification: a plain line.
	broken := line(`["Shop"]`)
	decode(t, invoke(t, h.svc, "emf", map[string]any{"action": "print", "message": broken}))

	s := query(t, cw, h.clk.Now(), "Phoenix/Test", "Widgets", map[string]string{"Shop": "north"}, "Sum", 1)
	if len(s.times) != 1 || !s.times[0].Equal(at) || s.values[0] != 7 {
		t.Fatalf("Widgets = %v at %v, want 7 (2 + 5) at %v, the line's timestamp, from the valid line alone", s.values, s.times, at)
	}
	if !strings.Contains(h.svc.LogText("", "emf"), broken) {
		t.Error("the invalid EMF line is missing from the function's log; CloudWatch Logs keeps it")
	}
	if got := total(t, cw, h.clk.Now(), "Invocations", fn("emf")); got != 2 {
		t.Errorf("Invocations = %v, want 2", got)
	}
}
