package states

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
)

const waitDef = `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":60,"End":true}}}`

// TestCreateStateMachine checks naming rules, ARNs and idempotency.
func testCreateStateMachine(t *testing.T, backend Backend) {
	h := newHarness(t, backend, Integrations{})
	arn := h.create("rollout", waitDef)
	if arn != "arn:aws:states:us-east-1:123456789012:stateMachine:rollout" {
		t.Fatalf("ARN %s", arn)
	}
	t.Run("creating the same machine again returns it", func(t *testing.T) {
		out, err := h.api.CreateStateMachine(h.ctx, &sfn.CreateStateMachineInput{Name: aws.String("rollout"), Definition: aws.String(waitDef), RoleArn: aws.String("arn:aws:iam::123456789012:role/other")})
		if err != nil || aws.ToString(out.StateMachineArn) != arn {
			t.Fatalf("got %v %v, want the existing machine", out, err)
		}
	})
	t.Run("creating the name with another definition fails with StateMachineAlreadyExists", func(t *testing.T) {
		_, err := h.api.CreateStateMachine(h.ctx, &sfn.CreateStateMachineInput{Name: aws.String("rollout"), Definition: aws.String(`{"StartAt":"S","States":{"S":{"Type":"Succeed"}}}`), RoleArn: aws.String(testRole)})
		if errorCode(err) != "StateMachineAlreadyExists" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("the region of the request goes into the ARN", func(t *testing.T) {
		ctx := api.WithRequest(context.Background(), api.Request{Region: "eu-west-1"})
		out, err := h.client("eu-west-1").CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("rollout"), Definition: aws.String(waitDef), RoleArn: aws.String(testRole)})
		if err != nil || !strings.HasPrefix(aws.ToString(out.StateMachineArn), "arn:aws:states:eu-west-1:") {
			t.Fatalf("got %v %v", out, err)
		}
	})
	for _, bad := range []string{"", "has space", "with/slash", "a:b", "brace{", "star*", strings.Repeat("x", 81), "tab\tname"} {
		t.Run("the name "+strings.ReplaceAll(bad, "\t", `\t`)+" is refused with InvalidName", func(t *testing.T) {
			_, err := h.api.CreateStateMachine(h.ctx, &sfn.CreateStateMachineInput{Name: aws.String(bad), Definition: aws.String(waitDef), RoleArn: aws.String(testRole)})
			if errorCode(err) != "InvalidName" {
				t.Fatalf("got %v", err)
			}
		})
	}
	t.Run("a role that is not an IAM role ARN is refused with InvalidArn", func(t *testing.T) {
		_, err := h.api.CreateStateMachine(h.ctx, &sfn.CreateStateMachineInput{Name: aws.String("x"), Definition: aws.String(waitDef), RoleArn: aws.String("role")})
		if errorCode(err) != "InvalidArn" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("an EXPRESS machine is refused with StateMachineTypeNotSupported", func(t *testing.T) {
		_, err := h.api.CreateStateMachine(h.ctx, &sfn.CreateStateMachineInput{Name: aws.String("x"), Definition: aws.String(waitDef), RoleArn: aws.String(testRole), Type: types.StateMachineTypeExpress})
		if errorCode(err) != "StateMachineTypeNotSupported" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("a missing definition is refused with a validation error", func(t *testing.T) {
		_, err := h.api.CreateStateMachine(h.ctx, &sfn.CreateStateMachineInput{Name: aws.String("x"), RoleArn: aws.String(testRole)})
		if errorCode(err) != "ValidationException" {
			t.Fatalf("got %v", err)
		}
	})
}

// TestStateMachineLifecycle checks describe, update, list and delete.
func testStateMachineLifecycle(t *testing.T, backend Backend) {
	h := newHarness(t, backend, Integrations{})
	arn := h.create("b-machine", waitDef)
	h.create("a-machine", waitDef)
	desc, err := h.api.DescribeStateMachine(h.ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	if err != nil || aws.ToString(desc.Definition) != waitDef || desc.Status != types.StateMachineStatusActive || desc.Type != types.StateMachineTypeStandard {
		t.Fatalf("describe: %+v %v", desc, err)
	}
	running := h.start(arn, `{}`)
	h.clock.Settle()
	newDef := `{"StartAt":"S","States":{"S":{"Type":"Succeed"}}}`
	if _, err := h.api.UpdateStateMachine(h.ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(arn), Definition: aws.String(newDef)}); err != nil {
		t.Fatal(err)
	}
	t.Run("an update leaves running executions on their definition", func(t *testing.T) {
		out := h.runToEnd(running)
		if got := out.StopDate.Sub(*out.StartDate); got != time.Minute {
			t.Fatalf("the running execution took %s, want the old definition's minute", got)
		}
	})
	t.Run("an update applies to new executions", func(t *testing.T) {
		out := h.runToEnd(h.start(arn, `{}`))
		if !out.StopDate.Equal(*out.StartDate) {
			t.Fatal("the new execution did not use the new definition")
		}
	})
	t.Run("an update with nothing to change is refused with MissingRequiredParameter", func(t *testing.T) {
		_, err := h.api.UpdateStateMachine(h.ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(arn)})
		if errorCode(err) != "MissingRequiredParameter" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("an update with an invalid definition is refused with InvalidDefinition", func(t *testing.T) {
		_, err := h.api.UpdateStateMachine(h.ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(arn), Definition: aws.String(`{}`)})
		if errorCode(err) != "InvalidDefinition" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("ListStateMachines pages through the machines by name", func(t *testing.T) {
		first, err := h.api.ListStateMachines(h.ctx, &sfn.ListStateMachinesInput{MaxResults: 1})
		if err != nil || len(first.StateMachines) != 1 || aws.ToString(first.StateMachines[0].Name) != "a-machine" || first.NextToken == nil {
			t.Fatalf("first page %+v %v", first, err)
		}
		second, err := h.api.ListStateMachines(h.ctx, &sfn.ListStateMachinesInput{MaxResults: 1, NextToken: first.NextToken})
		if err != nil || len(second.StateMachines) != 1 || aws.ToString(second.StateMachines[0].Name) != "b-machine" || second.NextToken != nil {
			t.Fatalf("second page %+v %v", second, err)
		}
	})
	t.Run("a deleted machine with a running execution is DELETING until it ends", func(t *testing.T) {
		if _, err := h.api.UpdateStateMachine(h.ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(arn), Definition: aws.String(waitDef)}); err != nil {
			t.Fatal(err)
		}
		exec := h.start(arn, `{}`)
		if _, err := h.api.DeleteStateMachine(h.ctx, &sfn.DeleteStateMachineInput{StateMachineArn: aws.String(arn)}); err != nil {
			t.Fatal(err)
		}
		d, err := h.api.DescribeStateMachine(h.ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
		if err != nil || d.Status != types.StateMachineStatusDeleting {
			t.Fatalf("describe while deleting: %+v %v", d, err)
		}
		if _, err := h.api.StartExecution(h.ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(arn)}); errorCode(err) != "StateMachineDeleting" {
			t.Fatalf("start while deleting: %v", err)
		}
		h.runToEnd(exec)
		if _, err := h.api.DescribeStateMachine(h.ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)}); errorCode(err) != "StateMachineDoesNotExist" {
			t.Fatalf("describe after deletion: %v", err)
		}
		if got := h.describe(exec).Status; got != types.ExecutionStatusSucceeded {
			t.Fatalf("the execution's record is gone or wrong: %s", got)
		}
	})
	t.Run("a malformed ARN is refused with InvalidArn", func(t *testing.T) {
		_, err := h.api.DescribeStateMachine(h.ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String("arn:aws:sns:us-east-1:123456789012:topic")})
		if errorCode(err) != "InvalidArn" {
			t.Fatalf("got %v", err)
		}
	})
}

// TestStartExecution checks execution names, ARNs and the documented name
// idempotency of STANDARD workflows.
func testStartExecution(t *testing.T, backend Backend) {
	h := newHarness(t, backend, Integrations{})
	arn := h.create("rollout", waitDef)
	first, err := h.api.StartExecution(h.ctx, newStart(arn, "r-1", `{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(first.ExecutionArn) != "arn:aws:states:us-east-1:123456789012:execution:rollout:r-1" {
		t.Fatalf("ARN %s", aws.ToString(first.ExecutionArn))
	}
	t.Run("the same name and input while running returns the running execution", func(t *testing.T) {
		again, err := h.api.StartExecution(h.ctx, newStart(arn, "r-1", `{"a":1}`))
		if err != nil || aws.ToString(again.ExecutionArn) != aws.ToString(first.ExecutionArn) || !again.StartDate.Equal(*first.StartDate) {
			t.Fatalf("got %+v %v", again, err)
		}
	})
	t.Run("the same name with another input fails with ExecutionAlreadyExists", func(t *testing.T) {
		_, err := h.api.StartExecution(h.ctx, newStart(arn, "r-1", `{"a":2}`))
		if errorCode(err) != "ExecutionAlreadyExists" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("the name of a closed execution is taken for 90 days, then free", func(t *testing.T) {
		h.runToEnd(aws.ToString(first.ExecutionArn))
		if _, err := h.api.StartExecution(h.ctx, newStart(arn, "r-1", `{"a":1}`)); errorCode(err) != "ExecutionAlreadyExists" {
			t.Fatalf("restart of a closed execution: %v", err)
		}
		h.clock.Advance(90 * 24 * time.Hour)
		again, err := h.api.StartExecution(h.ctx, newStart(arn, "r-1", `{"a":1}`))
		if err != nil {
			t.Fatalf("start after 90 days: %v", err)
		}
		if got := h.describe(aws.ToString(again.ExecutionArn)).Status; got != types.ExecutionStatusRunning {
			t.Fatalf("status %s", got)
		}
	})
	t.Run("a generated name is a UUID drawn from the seeded source", func(t *testing.T) {
		a := runWithSeed(t, 3)
		b := runWithSeed(t, 3)
		if a != b || !regexp.MustCompile(`:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(a) {
			t.Fatalf("generated ARNs %s and %s", a, b)
		}
	})
	t.Run("input that is not JSON is refused with InvalidExecutionInput", func(t *testing.T) {
		_, err := h.api.StartExecution(h.ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(arn), Input: aws.String(`{oops`)})
		if errorCode(err) != "InvalidExecutionInput" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("input over 256 KiB is refused with InvalidExecutionInput", func(t *testing.T) {
		big := `"` + strings.Repeat("x", 256*1024) + `"`
		_, err := h.api.StartExecution(h.ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(arn), Input: aws.String(big)})
		if errorCode(err) != "InvalidExecutionInput" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("an unknown machine is refused with StateMachineDoesNotExist", func(t *testing.T) {
		_, err := h.api.StartExecution(h.ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(arn + "x")})
		if errorCode(err) != "StateMachineDoesNotExist" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("an unknown execution is refused with ExecutionDoesNotExist", func(t *testing.T) {
		_, err := h.api.DescribeExecution(h.ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String("arn:aws:states:us-east-1:123456789012:execution:rollout:nope")})
		if errorCode(err) != "ExecutionDoesNotExist" {
			t.Fatalf("got %v", err)
		}
	})
}

func runWithSeed(t *testing.T, seed uint64) string {
	t.Helper()
	svc := New(Options{Clock: clock.NewStepped(time.Time{}), Seed: seed})
	sm, err := svc.CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{Name: aws.String("m"), Definition: aws.String(waitDef), RoleArn: aws.String(testRole)})
	if err != nil {
		t.Fatal(err)
	}
	out, err := svc.StartExecution(context.Background(), &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.ExecutionArn)
}

// TestListAndStopExecutions checks StatusFilter, paging (newest first) and
// StopExecution.
func testListAndStopExecutions(t *testing.T, backend Backend) {
	h := newHarness(t, backend, Integrations{})
	arn := h.create("m", waitDef)
	var execs []string
	for i := 0; i < 3; i++ {
		execs = append(execs, h.start(arn, `{}`))
	}
	h.clock.Settle()
	stop, err := h.api.StopExecution(h.ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(execs[1]), Error: aws.String("Operator"), Cause: aws.String("halt")})
	if err != nil {
		t.Fatal(err)
	}
	d := h.describe(execs[1])
	if d.Status != types.ExecutionStatusAborted || aws.ToString(d.Error) != "Operator" || !d.StopDate.Equal(*stop.StopDate) {
		t.Fatalf("stopped execution %+v", d)
	}
	if got := h.eventTypes(execs[1]); got[len(got)-1] != "ExecutionAborted" {
		t.Fatalf("history ends with %s", got[len(got)-1])
	}
	t.Run("StatusFilter selects executions by status", func(t *testing.T) {
		out, err := h.api.ListExecutions(h.ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(arn), StatusFilter: types.ExecutionStatusRunning})
		if err != nil || len(out.Executions) != 2 {
			t.Fatalf("running: %+v %v", out, err)
		}
	})
	t.Run("pages list the newest execution first", func(t *testing.T) {
		var got []string
		var token *string
		for {
			out, err := h.api.ListExecutions(h.ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(arn), MaxResults: 2, NextToken: token})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range out.Executions {
				got = append(got, aws.ToString(e.ExecutionArn))
			}
			if token = out.NextToken; token == nil {
				break
			}
		}
		want := []string{execs[2], execs[1], execs[0]}
		if !equalStrings(got, want) {
			t.Fatalf("listed %v, want %v", got, want)
		}
	})
	t.Run("a bad StatusFilter is refused with a validation error", func(t *testing.T) {
		_, err := h.api.ListExecutions(h.ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(arn), StatusFilter: "DONE"})
		if errorCode(err) != "ValidationException" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("stopping a closed execution changes nothing", func(t *testing.T) {
		if _, err := h.api.StopExecution(h.ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(execs[1])}); err != nil {
			t.Fatal(err)
		}
		if got := h.describe(execs[1]); aws.ToString(got.Error) != "Operator" {
			t.Fatalf("second stop overwrote the error: %+v", got)
		}
	})
}

// TestRealtimeClock checks that executions also progress when a driver
// moves the clock from the wall clock.
func TestRealtimeClock(t *testing.T) {
	clk := clock.NewRealtime(time.Time{})
	svc := New(Options{Clock: clk, Integrations: Integrations{Lambda: newFakeLambda().on("Echo", reply{echo: true})}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go clk.RunRealtime(ctx, 600, 5*time.Millisecond)
	h := &harness{t: t, clock: clk, svc: svc, api: svc, ctx: context.Background()}
	arn := h.create("rt", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"`+fnArn("Echo")+`","Next":"W"},"W":{"Type":"Wait","Seconds":30,"End":true}}}`)
	exec := h.start(arn, `{"v":1}`)
	deadline := time.Now().Add(10 * time.Second)
	for h.describe(exec).Status == types.ExecutionStatusRunning {
		if time.Now().After(deadline) {
			t.Fatal("the execution did not finish within 10 s of wall time at 600x")
		}
		time.Sleep(5 * time.Millisecond)
	}
	assertJSON(t, h.describe(exec).Output, `{"v":1}`)
}
