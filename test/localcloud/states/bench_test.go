package states

import (
	"context"
	"encoding/json"
	"runtime"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
)

// benchDefinition is a 20-state machine shaped like a Phoenix rollout:
// retries, a Map over groups with MaxConcurrency, waits, intrinsics, a
// Parallel and a revert path.
var benchDefinition = `{
  "Comment": "A rollout: validate, snapshot, refresh every group, bake, decide, record.",
  "StartAt": "Init",
  "States": {
    "Init": {"Type": "Pass", "Parameters": {"groups.$": "$.groups", "ami.$": "$.ami", "rolloutId.$": "States.Format('{}-{}', $.ami, $$.Execution.Name)"}, "Next": "Validate"},
    "Validate": {"Type": "Task", "Resource": "` + fnArn("Echo") + `", "ResultPath": "$.validation",
      "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2}], "Next": "HasGroups"},
    "HasGroups": {"Type": "Choice", "Choices": [{"Variable": "$.groups[0]", "IsPresent": true, "Next": "Snapshot"}], "Default": "NothingToDo"},
    "NothingToDo": {"Type": "Succeed"},
    "Snapshot": {"Type": "Task", "Resource": "` + fnArn("Flaky") + `", "ResultPath": "$.snapshot",
      "Parameters": {"groups.$": "$.groups", "retry.$": "$$.State.RetryCount"},
      "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 2}],
      "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Revert"}], "Next": "Refresh"},
    "Refresh": {"Type": "Map", "ItemsPath": "$.groups", "MaxConcurrency": 2,
      "ItemSelector": {"group.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index", "ami.$": "$.ami"},
      "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "StartRefresh", "States": {
        "StartRefresh": {"Type": "Task", "Resource": "` + fnArn("Echo") + `", "Retry": [{"ErrorEquals": ["States.TaskFailed"], "MaxAttempts": 2}], "Next": "WaitRefresh"},
        "WaitRefresh": {"Type": "Wait", "Seconds": 30, "Next": "CheckRefresh"},
        "CheckRefresh": {"Type": "Task", "Resource": "` + fnArn("Echo") + `", "ResultSelector": {"group.$": "$.group", "done": true}, "Next": "ItemDone"},
        "ItemDone": {"Type": "Pass", "End": true}}},
      "ResultPath": "$.refreshes", "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Revert"}], "Next": "Bake"},
    "Bake": {"Type": "Wait", "Seconds": 60, "Next": "CheckAlarms"},
    "CheckAlarms": {"Type": "Task", "Resource": "` + fnArn("Echo") + `", "ResultSelector": {"count.$": "States.ArrayLength($.refreshes)"}, "ResultPath": "$.alarms", "Next": "Decide"},
    "Decide": {"Type": "Choice", "Choices": [{"Variable": "$.alarms.count", "NumericGreaterThan": 100, "Next": "Revert"}], "Default": "Record"},
    "Record": {"Type": "Parallel", "ResultPath": "$.record", "Next": "Finalize", "Branches": [
      {"StartAt": "RecordGood", "States": {"RecordGood": {"Type": "Task", "Resource": "` + fnArn("Echo") + `", "Parameters": {"ami.$": "$.ami"}, "End": true}}},
      {"StartAt": "RecordNote", "States": {"RecordNote": {"Type": "Pass", "Parameters": {"note.$": "States.Format('rolled {} groups', States.ArrayLength($.groups))"}, "End": true}}}]},
    "Finalize": {"Type": "Task", "Resource": "` + fnArn("Echo") + `", "ResultPath": null, "Retry": [{"ErrorEquals": ["States.ALL"]}], "Next": "Done"},
    "Done": {"Type": "Succeed"},
    "Revert": {"Type": "Task", "Resource": "` + fnArn("Echo") + `", "Next": "Reverted"},
    "Reverted": {"Type": "Fail", "Error": "RolledBack", "Cause": "the rollout was reverted"}
  }
}`

// cyclicLambda echoes its payload, except that the Flaky function fails
// with Throttled until its caller's $$.State.RetryCount reaches 2, so every
// execution retries twice.
type cyclicLambda struct{}

func (cyclicLambda) Invoke(_ context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	if aws.ToString(in.FunctionName) == fnArn("Flaky") {
		var p struct{ Retry int }
		if err := json.Unmarshal(in.Payload, &p); err != nil {
			return nil, err
		}
		if p.Retry < 2 {
			body, _ := json.Marshal(map[string]string{"errorType": "Throttled", "errorMessage": "slow down"})
			return &lambda.InvokeOutput{StatusCode: 200, FunctionError: aws.String("Unhandled"), Payload: body}, nil
		}
	}
	return &lambda.InvokeOutput{StatusCode: 200, Payload: in.Payload}, nil
}

// runBatch starts n executions of benchDefinition at once and runs the
// clock until all have closed. It returns the total number of history
// events and how many executions succeeded.
func runBatch(tb testing.TB, n int) (events, succeeded int) {
	tb.Helper()
	clk := clock.NewStepped(time.Time{})
	svc := New(Options{Clock: clk, Seed: 1, Integrations: Integrations{Lambda: cyclicLambda{}}})
	ctx := context.Background()
	sm, err := svc.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("rollout"), Definition: aws.String(benchDefinition), RoleArn: aws.String(testRole)})
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if _, err := svc.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Input: aws.String(`{"groups":["web","api","worker","batch"],"ami":"ami-0123"}`)}); err != nil {
			tb.Fatal(err)
		}
	}
	done := func() bool {
		svc.mu.Lock()
		defer svc.mu.Unlock()
		return svc.machines[aws.ToString(sm.StateMachineArn)].running == 0
	}
	if !clk.RunUntil(24*time.Hour, done) {
		tb.Fatal("executions still running after a simulated day")
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	for _, x := range svc.execOrder {
		events += len(x.events)
		if x.status == types.ExecutionStatusSucceeded {
			succeeded++
		}
	}
	return events, succeeded
}

// BenchmarkExecutions runs 1,000 executions of a 20-state definition with
// retries and a Map per iteration, and reports events and allocations per
// execution (ratios, not seconds: the machines that run this vary).
func BenchmarkExecutions(b *testing.B) {
	const n = 1000
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	events := 0
	for i := 0; i < b.N; i++ {
		ev, ok := runBatch(b, n)
		if ok != n {
			b.Fatalf("%d of %d executions succeeded", ok, n)
		}
		events += ev
	}
	runtime.ReadMemStats(&ms1)
	execs := float64(b.N * n)
	b.ReportMetric(float64(events)/execs, "events/exec")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/execs, "allocs/exec")
	b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/execs, "bytes/exec")
}

// TestBenchmarkMachineSucceeds keeps the benchmark's machine honest in the
// ordinary test run: every execution retries its flaky task and succeeds.
func TestBenchmarkMachineSucceeds(t *testing.T) {
	events, ok := runBatch(t, 30)
	if ok != 30 {
		t.Fatalf("%d of 30 executions succeeded", ok)
	}
	if per := events / 30; per < 60 {
		t.Fatalf("only %d events per execution; the Map or the retries did not run", per)
	}
}
