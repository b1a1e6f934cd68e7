package states

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/monitoring"
)

// newMeteredHarness is a harness whose Service publishes its metrics to a
// CloudWatch on the same clock.
func newMeteredHarness(t *testing.T) (*harness, *monitoring.CloudWatch) {
	t.Helper()
	clk := clock.NewStepped(time.Time{})
	cw := monitoring.New(monitoring.Options{Clock: clk})
	svc := New(Options{Clock: clk, Seed: TestSeed, Metrics: cw})
	backend := func(testing.TB, Integrations) *TestCloud {
		return &TestCloud{Clock: clk, Model: svc, Client: func(string) StepFunctionsAPI { return svc }}
	}
	return newHarness(t, backend, Integrations{}), cw
}

// datapoints reads one statistic of a state machine's metric over the
// last day through GetMetricData, oldest first, as "offset=value" with
// offsets from since.
func datapoints(t *testing.T, cw *monitoring.CloudWatch, now, since time.Time, name, machine, stat string, period int32) string {
	t.Helper()
	ctx := api.WithRequest(context.Background(), api.Request{Region: api.DefaultRegion})
	out, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(now.Add(-24 * time.Hour)), EndTime: aws.Time(now.Add(time.Hour)), ScanBy: cwtypes.ScanByTimestampAscending,
		MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("q"), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String("AWS/States"), MetricName: aws.String(name),
				Dimensions: []cwtypes.Dimension{{Name: aws.String("StateMachineArn"), Value: aws.String(machine)}}},
			Period: aws.Int32(period), Stat: aws.String(stat),
		}}},
	})
	if err != nil {
		t.Fatalf("GetMetricData %s: %v", name, err)
	}
	r := out.MetricDataResults[0]
	s := ""
	for i := range r.Timestamps {
		s += fmt.Sprintf("%v=%v ", r.Timestamps[i].Sub(since), r.Values[i])
	}
	return s
}

func TestEveryExecutionCountsUnderItsMachineWhenItStartsAndWhenItCloses(t *testing.T) {
	h, cw := newMeteredHarness(t)
	start := h.clock.Now()
	ok := h.create("ok", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":30,"Next":"S"},"S":{"Type":"Succeed"}}}`)
	bad := h.create("bad", `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Broke","Cause":"c"}}}`)
	slow := h.create("slow", `{"TimeoutSeconds":60,"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":120,"End":true}}}`)
	stopped := h.create("stopped", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":600,"End":true}}}`)
	for _, m := range []string{ok, bad, slow} {
		h.runToEnd(h.start(m, `{}`))
	}
	exec := h.start(stopped, `{}`)
	// Starting a running execution again, by name with the same input, is
	// not a new execution.
	again, err := h.api.StartExecution(h.ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(stopped),
		Name: aws.String(exec[strings.LastIndex(exec, ":")+1:]), Input: aws.String(`{}`)})
	if err != nil || aws.ToString(again.ExecutionArn) != exec {
		t.Fatalf("idempotent start: %v, %v", again, err)
	}
	h.clock.Advance(10 * time.Second)
	if _, err := h.api.StopExecution(h.ctx, stopInput(exec)); err != nil {
		t.Fatal(err)
	}
	now := h.clock.Now()

	cases := []struct {
		name, metric, machine, stat, want string
	}{
		// The executions ran one after another: ok from 0 s to 30 s,
		// bad at 30 s, slow from 30 s until its timeout at 90 s, stopped
		// from 90 s until it was stopped at 100 s.
		{"a success", "ExecutionsSucceeded", ok, "Sum", "30s=1 "},
		{"a success's time", "ExecutionTime", ok, "Maximum", "30s=30000 "},
		{"a failure", "ExecutionsFailed", bad, "Sum", "30s=1 "},
		{"a timeout", "ExecutionsTimedOut", slow, "Sum", "1m30s=1 "},
		{"a timeout's time", "ExecutionTime", slow, "Maximum", "1m30s=60000 "},
		{"an abort", "ExecutionsAborted", stopped, "Sum", "1m40s=1 "},
		{"an abort's time", "ExecutionTime", stopped, "Maximum", "1m40s=10000 "},
		{"starts, once per execution", "ExecutionsStarted", stopped, "Sum", "1m30s=1 "},
		{"no other closing count", "ExecutionsSucceeded", bad, "Sum", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := datapoints(t, cw, now, start, c.metric, c.machine, c.stat, 1); got != c.want {
				t.Errorf("%s = %q, want %q", c.metric, got, c.want)
			}
		})
	}
}

func TestAChildExecutionCountsUnderItsOwnMachine(t *testing.T) {
	h, cw := newMeteredHarness(t)
	start := h.clock.Now()
	child := h.create("child", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":10,"Next":"F"},"F":{"Type":"Fail","Error":"ChildBroke","Cause":"c"}}}`)
	parent := h.create("parent", `{"StartAt":"Run","States":{"Run":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync",
		"Parameters":{"StateMachineArn":"`+child+`","Name":"kid","Input":{}},"End":true}}}`)
	h.runToEnd(h.start(parent, `{}`))
	now := h.clock.Now()
	for _, c := range []struct{ metric, machine, want string }{
		{"ExecutionsStarted", parent, "0s=1 "},
		{"ExecutionsStarted", child, "0s=1 "},
		{"ExecutionsFailed", child, "10s=1 "},
		{"ExecutionsFailed", parent, "10s=1 "},
	} {
		if got := datapoints(t, cw, now, start, c.metric, c.machine, "Sum", 1); got != c.want {
			t.Errorf("%s of %s = %q, want %q", c.metric, c.machine, got, c.want)
		}
	}
}
