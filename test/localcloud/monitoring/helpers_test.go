package monitoring

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/sim"
)

// CloudWatchAPI is the part of the CloudWatch client the rule tests use,
// with the SDK's method signatures, so the same tests run against a real
// client over the wire.
type CloudWatchAPI interface {
	PutMetricAlarm(context.Context, *cloudwatch.PutMetricAlarmInput, ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricAlarmOutput, error)
	DescribeAlarms(context.Context, *cloudwatch.DescribeAlarmsInput, ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
	DeleteAlarms(context.Context, *cloudwatch.DeleteAlarmsInput, ...func(*cloudwatch.Options)) (*cloudwatch.DeleteAlarmsOutput, error)
	SetAlarmState(context.Context, *cloudwatch.SetAlarmStateInput, ...func(*cloudwatch.Options)) (*cloudwatch.SetAlarmStateOutput, error)
	DescribeAlarmHistory(context.Context, *cloudwatch.DescribeAlarmHistoryInput, ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmHistoryOutput, error)
	PutMetricData(context.Context, *cloudwatch.PutMetricDataInput, ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricDataOutput, error)
	GetMetricData(context.Context, *cloudwatch.GetMetricDataInput, ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
	ListMetrics(context.Context, *cloudwatch.ListMetricsInput, ...func(*cloudwatch.Options)) (*cloudwatch.ListMetricsOutput, error)
	TagResource(context.Context, *cloudwatch.TagResourceInput, ...func(*cloudwatch.Options)) (*cloudwatch.TagResourceOutput, error)
	UntagResource(context.Context, *cloudwatch.UntagResourceInput, ...func(*cloudwatch.Options)) (*cloudwatch.UntagResourceOutput, error)
	ListTagsForResource(context.Context, *cloudwatch.ListTagsForResourceInput, ...func(*cloudwatch.Options)) (*cloudwatch.ListTagsForResourceOutput, error)
	PutDashboard(context.Context, *cloudwatch.PutDashboardInput, ...func(*cloudwatch.Options)) (*cloudwatch.PutDashboardOutput, error)
	GetDashboard(context.Context, *cloudwatch.GetDashboardInput, ...func(*cloudwatch.Options)) (*cloudwatch.GetDashboardOutput, error)
	ListDashboards(context.Context, *cloudwatch.ListDashboardsInput, ...func(*cloudwatch.Options)) (*cloudwatch.ListDashboardsOutput, error)
	DeleteDashboards(context.Context, *cloudwatch.DeleteDashboardsInput, ...func(*cloudwatch.Options)) (*cloudwatch.DeleteDashboardsOutput, error)
}

var (
	_ CloudWatchAPI   = (*CloudWatch)(nil)
	_ CloudWatchAPI   = (*cloudwatch.Client)(nil)
	_ sim.AlarmSource = (*CloudWatch)(nil)
)

const (
	testRegion = "eu-west-1"
	testNS     = "Phoenix/Test"
	testMetric = "Errors"
)

// env is a CloudWatch on a stepped clock whose events go to a World.
type env struct {
	t     *testing.T
	clk   *clock.Sim
	world *sim.World
	model *CloudWatch
	cw    CloudWatchAPI
	ctx   context.Context
	// client gives a client for another region of the same cloud; pass
	// it a context for that region too.
	client func(region string) CloudWatchAPI
	// overHTTP is TestCloud.OverHTTP.
	overHTTP bool
}

// newEnv starts a TestCloud from backend with a client for testRegion.
func newEnv(t *testing.T, backend Backend) *env {
	t.Helper()
	tc := backend(t)
	return &env{
		t: t, clk: tc.Clock, world: tc.World, model: tc.Model, cw: tc.Client(testRegion),
		ctx:    api.WithRequest(context.Background(), api.Request{Region: testRegion}),
		client: tc.Client, overHTTP: tc.OverHTTP,
	}
}

// put publishes value for the test metric, stamped now.
func (e *env) put(value float64) {
	e.t.Helper()
	_, err := e.cw.PutMetricData(e.ctx, &cloudwatch.PutMetricDataInput{
		Namespace:  aws.String(testNS),
		MetricData: []types.MetricDatum{{MetricName: aws.String(testMetric), Value: aws.Float64(value), Dimensions: testDims()}},
	})
	if err != nil {
		e.t.Fatalf("PutMetricData %v: %v", value, err)
	}
}

func testDims() []types.Dimension {
	return []types.Dimension{{Name: aws.String("Service"), Value: aws.String("web")}}
}

// alarmInput is a valid alarm on the test metric: Sum > 10 over one-minute
// periods, three of three.
func alarmInput(name string) *cloudwatch.PutMetricAlarmInput {
	return &cloudwatch.PutMetricAlarmInput{
		AlarmName:          aws.String(name),
		Namespace:          aws.String(testNS),
		MetricName:         aws.String(testMetric),
		Dimensions:         testDims(),
		Statistic:          types.StatisticSum,
		Period:             aws.Int32(60),
		EvaluationPeriods:  aws.Int32(3),
		Threshold:          aws.Float64(10),
		ComparisonOperator: types.ComparisonOperatorGreaterThanThreshold,
	}
}

// alarm creates an alarm and lets its first evaluation run.
func (e *env) alarm(in *cloudwatch.PutMetricAlarmInput) {
	e.t.Helper()
	if _, err := e.cw.PutMetricAlarm(e.ctx, in); err != nil {
		e.t.Fatalf("PutMetricAlarm %s: %v", aws.ToString(in.AlarmName), err)
	}
	e.clk.Settle()
}

// describe returns one alarm.
func (e *env) describe(name string) types.MetricAlarm {
	e.t.Helper()
	out, err := e.cw.DescribeAlarms(e.ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name}})
	if err != nil {
		e.t.Fatalf("DescribeAlarms %s: %v", name, err)
	}
	if len(out.MetricAlarms) != 1 {
		e.t.Fatalf("DescribeAlarms %s returned %d alarms", name, len(out.MetricAlarms))
	}
	return out.MetricAlarms[0]
}

// state returns an alarm's state value.
func (e *env) state(name string) string {
	e.t.Helper()
	return string(e.describe(name).StateValue)
}

// minute publishes value (unless nil) and moves time one minute, so the
// next evaluation sees it.
func (e *env) minute(value *float64) {
	e.t.Helper()
	if value != nil {
		e.put(*value)
	}
	e.clk.Advance(time.Minute)
}

// alarmEvents returns the alarm state-change events emitted so far.
func (e *env) alarmEvents() []sim.Event {
	var out []sim.Event
	for _, ev := range e.world.Events() {
		if ev.DetailType == "CloudWatch Alarm State Change" {
			out = append(out, ev)
		}
	}
	return out
}

// wantCode fails unless err is an AWS error with code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got error %v, want AWS error %s", err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("got %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
}

// decode unmarshals JSON or fails.
func decode(t *testing.T, raw []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
}

func f(v float64) *float64 { return &v }
