package localcloud_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/dynamo"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/functions"
)

// metricSum reads a metric's Sum over the last hour, in one period, through
// the CloudWatch client; 0 when it has no datapoint.
func metricSum(t *testing.T, env *cloudtest.Env, ns, name string, dims map[string]string) float64 {
	t.Helper()
	values := metricValues(t, env, ns, name, dims, "Sum", 7200)
	sum := 0.0
	for _, v := range values {
		sum += v
	}
	return sum
}

// metricValues reads a statistic of a metric over the last hour through the
// CloudWatch client, oldest first.
func metricValues(t *testing.T, env *cloudtest.Env, ns, name string, dims map[string]string, stat string, period int32) []float64 {
	t.Helper()
	var ds []cwtypes.Dimension
	for k, v := range dims {
		ds = append(ds, cwtypes.Dimension{Name: aws.String(k), Value: aws.String(v)})
	}
	out, err := env.CloudWatch.GetMetricData(t.Context(), &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(env.Now().Add(-time.Hour)), EndTime: aws.Time(env.Now().Add(time.Hour)), ScanBy: cwtypes.ScanByTimestampAscending,
		MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("q"), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String(ns), MetricName: aws.String(name), Dimensions: ds},
			Period: aws.Int32(period), Stat: aws.String(stat),
		}}},
	})
	if err != nil {
		t.Fatalf("GetMetricData %s %s: %v", ns, name, err)
	}
	return out.MetricDataResults[0].Values
}

// listedMetrics lists a namespace's metrics through ListMetrics as
// "Name Dim=Value,..." strings, sorted.
func listedMetrics(t *testing.T, env *cloudtest.Env, ns string) []string {
	t.Helper()
	out, err := env.CloudWatch.ListMetrics(t.Context(), &cloudwatch.ListMetricsInput{Namespace: aws.String(ns)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range out.Metrics {
		var dims []string
		for _, d := range m.Dimensions {
			dims = append(dims, aws.ToString(d.Name)+"="+aws.ToString(d.Value))
		}
		got = append(got, strings.TrimSpace(aws.ToString(m.MetricName)+" "+strings.Join(dims, ",")))
	}
	slices.Sort(got)
	return got
}

func TestLambdaPublishesInvocationsErrorsAndThrottlesToCloudWatch(t *testing.T) {
	env := cloudtest.New(t)
	client := lambda.NewFromConfig(env.Config, func(o *lambda.Options) { o.RetryMaxAttempts = 1 })
	env.Cloud.Lambda.RegisterFunc("fails", func(context.Context, json.RawMessage) (any, error) {
		return nil, errors.New("the dependency is down")
	})
	if _, err := client.CreateFunction(t.Context(), &lambda.CreateFunctionInput{
		FunctionName: aws.String("fails"), Role: aws.String(testRole), Runtime: lambdatypes.RuntimeProvidedal2023, Handler: aws.String("bootstrap"),
		Code: &lambdatypes.FunctionCode{S3Bucket: aws.String(functions.LocalCodeBucket), S3Key: aws.String(functions.InProcessKey)},
	}); err != nil {
		t.Fatal(err)
	}
	env.Settle()
	out, err := client.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("fails")})
	if err != nil || aws.ToString(out.FunctionError) != "Unhandled" {
		t.Fatalf("invoke: %v, %v; want a function error", out, err)
	}
	if _, err := env.Cloud.Faults.Add(faults.Rule{Kind: faults.Throttle, Service: "lambda", Operation: "Invoke", Times: 1}); err != nil {
		t.Fatal(err)
	}
	var throttled *lambdatypes.TooManyRequestsException
	if _, err := client.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("fails")}); !errors.As(err, &throttled) {
		t.Fatalf("err = %v, want TooManyRequestsException", err)
	}

	byName := map[string]string{"FunctionName": "fails"}
	for metric, want := range map[string]float64{"Invocations": 1, "Errors": 1, "Throttles": 1} {
		if got := metricSum(t, env, "AWS/Lambda", metric, byName); got != want {
			t.Errorf("%s = %v, want %v (the throttled call is no invocation)", metric, got, want)
		}
	}
	want := []string{"Duration", "Duration FunctionName=fails", "Errors", "Errors FunctionName=fails",
		"Invocations", "Invocations FunctionName=fails", "Throttles", "Throttles FunctionName=fails"}
	if got := listedMetrics(t, env, "AWS/Lambda"); !slices.Equal(got, want) {
		t.Errorf("ListMetrics AWS/Lambda = %v, want %v", got, want)
	}
}

func TestAnAlarmOnFailedExecutionsGoesToAlarmWhenAnExecutionFails(t *testing.T) {
	env := cloudtest.New(t)
	ctx := t.Context()
	create := func(name, def string) string {
		out, err := env.StepFunctions.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(name), Definition: aws.String(def), RoleArn: aws.String(testRole)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.StateMachineArn)
	}
	failing := create("failing", `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"NeedsHuman","Cause":"c"}}}`)
	slow := create("slow", `{"TimeoutSeconds":60,"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":600,"End":true}}}`)
	// The alarm Phoenix's template puts on the rollout state machine.
	if _, err := env.CloudWatch.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("rollout-needs-human"), Namespace: aws.String("AWS/States"), MetricName: aws.String("ExecutionsFailed"),
		Dimensions: []cwtypes.Dimension{{Name: aws.String("StateMachineArn"), Value: aws.String(failing)}},
		Statistic:  cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold, TreatMissingData: aws.String("notBreaching"),
	}); err != nil {
		t.Fatal(err)
	}
	env.Settle()
	for _, m := range []string{failing, slow} {
		x, err := env.StepFunctions.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(m)})
		if err != nil {
			t.Fatal(err)
		}
		env.RunUntil(t, time.Hour, "the execution ends", func() bool {
			d, err := env.StepFunctions.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: x.ExecutionArn})
			return err == nil && d.Status != sfntypes.ExecutionStatusRunning
		})
	}
	for _, c := range []struct {
		metric, machine string
		want            float64
	}{
		{"ExecutionsStarted", failing, 1}, {"ExecutionsFailed", failing, 1},
		{"ExecutionsStarted", slow, 1}, {"ExecutionsTimedOut", slow, 1}, {"ExecutionsFailed", slow, 0},
	} {
		if got := metricSum(t, env, "AWS/States", c.metric, map[string]string{"StateMachineArn": c.machine}); got != c.want {
			t.Errorf("%s of %s = %v, want %v", c.metric, c.machine, got, c.want)
		}
	}
	if got := metricValues(t, env, "AWS/States", "ExecutionTime", map[string]string{"StateMachineArn": slow}, "Maximum", 3600); fmt.Sprint(got) != "[60000]" {
		t.Errorf("ExecutionTime of the timed-out execution = %v, want [60000] ms", got)
	}
	env.Advance(2 * time.Minute)
	out, err := env.CloudWatch.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"rollout-needs-human"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := out.MetricAlarms[0].StateValue; got != cwtypes.StateValueAlarm {
		t.Fatalf("alarm state %s (%s), want ALARM", got, aws.ToString(out.MetricAlarms[0].StateReason))
	}
}

func TestTheEMFLinesAFunctionPrintsBecomeMetrics(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "bootstrap")
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bin, "./functions/testdata/bootstrap")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the test bootstrap: %v\n%s", err, out)
	}
	env := cloudtest.New(t)
	client := lambda.NewFromConfig(env.Config)
	if _, err := client.CreateFunction(t.Context(), &lambda.CreateFunctionInput{
		FunctionName: aws.String("printer"), Role: aws.String(testRole), Runtime: lambdatypes.RuntimeProvidedal2023, Handler: aws.String("bootstrap"),
		Code: &lambdatypes.FunctionCode{S3Bucket: aws.String(functions.LocalCodeBucket), S3Key: aws.String(bin)},
	}); err != nil {
		t.Fatal(err)
	}
	env.Settle()
	line := fmt.Sprintf(`{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":"Phoenix","Dimensions":[["Outcome"],[]],"Metrics":[{"Name":"RolloutOutcomes","Unit":"Count"}]}]},"Outcome":"reverted","RolloutOutcomes":1}`,
		env.Now().UnixMilli())
	payload, _ := json.Marshal(map[string]string{"action": "print", "message": line})
	if out, err := client.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("printer"), Payload: payload}); err != nil || out.FunctionError != nil {
		t.Fatalf("invoke: %v, %v", out, err)
	}
	if got := metricSum(t, env, "Phoenix", "RolloutOutcomes", map[string]string{"Outcome": "reverted"}); got != 1 {
		t.Errorf("RolloutOutcomes by outcome = %v, want 1", got)
	}
	if got := listedMetrics(t, env, "Phoenix"); !slices.Equal(got, []string{"RolloutOutcomes", "RolloutOutcomes Outcome=reverted"}) {
		t.Errorf("ListMetrics Phoenix = %v", got)
	}
}

func TestAThrottledDynamoDBRequestCountsForItsTable(t *testing.T) {
	dynamo.Require(t, "DynamoDB throttling metrics")
	env := cloudtest.New(t, localcloud.Options{DynamoDB: true, Seed: 1})
	client := dynamodb.NewFromConfig(env.Config, func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
	ctx := t.Context()
	if _, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String("ledger"), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
	}); err != nil {
		t.Fatal(err)
	}
	key := func(v string) map[string]ddbtypes.AttributeValue {
		return map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: v}}
	}
	for _, op := range []string{"PutItem", "BatchGetItem"} {
		if _, err := env.Cloud.Faults.Add(faults.Rule{Kind: faults.Throttle, Service: "dynamodb", Operation: op, Times: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("ledger"), Item: key("a")}); err == nil {
		t.Fatal("the throttled PutItem succeeded")
	}
	if _, err := client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]ddbtypes.KeysAndAttributes{
		"ledger": {Keys: []map[string]ddbtypes.AttributeValue{key("a"), key("b"), key("c")}},
	}}); err == nil {
		t.Fatal("the throttled BatchGetItem succeeded")
	}
	// Requests that were not throttled count nowhere.
	if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("ledger"), Item: key("a")}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		metric string
		dims   map[string]string
		want   float64
	}{
		{"ThrottledRequests", map[string]string{"TableName": "ledger", "Operation": "PutItem"}, 1},
		{"ThrottledRequests", map[string]string{"TableName": "ledger", "Operation": "BatchGetItem"}, 1},
		{"WriteThrottleEvents", map[string]string{"TableName": "ledger"}, 1},
		// A batch read is one event per key.
		{"ReadThrottleEvents", map[string]string{"TableName": "ledger"}, 3},
	} {
		if got := metricSum(t, env, "AWS/DynamoDB", c.metric, c.dims); got != c.want {
			t.Errorf("%s %v = %v, want %v", c.metric, c.dims, got, c.want)
		}
	}
}
