package states

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
)

// parkDef is a machine whose first task parks on its token until a worker
// answers: the pattern Phoenix uses to wait for an instance refresh.
const parkDef = `{"StartAt":"Park","States":{
	"Park":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","HeartbeatSeconds":10,"TimeoutSeconds":3600,
		"Parameters":{"FunctionName":"Waiter","Payload":{"token.$":"$$.Task.Token","group.$":"$.group"}},
		"ResultPath":"$.refresh","Catch":[{"ErrorEquals":["RefreshFailed"],"ResultPath":"$.error","Next":"Revert"}],"Next":"Finalize"},
	"Finalize":{"Type":"Succeed"},
	"Revert":{"Type":"Pass","End":true}}}`

// parked starts parkDef and returns the execution and the token the worker
// received.
func parked(t *testing.T) (*harness, string, string) {
	t.Helper()
	fake := newFakeLambda().on("Waiter", reply{output: "accepted"})
	h := newHarness(t, InProcess, Integrations{Lambda: fake})
	exec := h.start(h.create("park", parkDef), `{"group":"web"}`)
	h.clock.Settle()
	if got := h.describe(exec).Status; got != types.ExecutionStatusRunning {
		t.Fatalf("status %s, want the task parked", got)
	}
	var payload struct{ Token string }
	if err := json.Unmarshal([]byte(fake.payload["Waiter"][0]), &payload); err != nil || payload.Token == "" {
		t.Fatalf("the worker got no token: %v %q", err, fake.payload["Waiter"])
	}
	return h, exec, payload.Token
}

func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// TestTaskTokenCallbacks checks .waitForTaskToken tasks and the
// SendTask* calls that end them.
func TestTaskTokenCallbacks(t *testing.T) {
	t.Run("SendTaskSuccess completes the parked task with its output", func(t *testing.T) {
		h, exec, token := parked(t)
		h.clock.Advance(5 * time.Second)
		if _, err := h.api.SendTaskSuccess(h.ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{"status":"Successful"}`)}); err != nil {
			t.Fatal(err)
		}
		out := h.runToEnd(exec)
		assertJSON(t, out.Output, `{"group":"web","refresh":{"status":"Successful"}}`)
		if got := h.entered(exec); !equalStrings(got, []string{"Park", "Finalize"}) {
			t.Fatalf("entered %v", got)
		}
	})
	t.Run("SendTaskFailure fails the parked task with its error and cause", func(t *testing.T) {
		h, exec, token := parked(t)
		if _, err := h.api.SendTaskFailure(h.ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(token), Error: aws.String("RefreshFailed"), Cause: aws.String("rollback done")}); err != nil {
			t.Fatal(err)
		}
		out := h.runToEnd(exec)
		assertJSON(t, out.Output, `{"group":"web","error":{"Error":"RefreshFailed","Cause":"rollback done"}}`)
	})
	t.Run("heartbeats keep the task alive and their absence fails it with States.HeartbeatTimeout", func(t *testing.T) {
		h, exec, token := parked(t)
		for i := 0; i < 3; i++ {
			h.clock.Advance(8 * time.Second)
			if _, err := h.api.SendTaskHeartbeat(h.ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(token)}); err != nil {
				t.Fatalf("heartbeat %d: %v", i, err)
			}
		}
		if got := h.describe(exec).Status; got != types.ExecutionStatusRunning {
			t.Fatalf("status %s after regular heartbeats", got)
		}
		out := h.runToEnd(exec)
		if aws.ToString(out.Error) != ErrHeartbeatTimeout {
			t.Fatalf("error %q, want %s", aws.ToString(out.Error), ErrHeartbeatTimeout)
		}
		if got := out.StopDate.Sub(*out.StartDate); got != 34*time.Second {
			t.Fatalf("failed after %s, want 34s (last heartbeat at 24s + 10s)", got)
		}
		_, err := h.api.SendTaskSuccess(h.ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{}`)})
		if errorCode(err) != "TaskTimedOut" {
			t.Fatalf("late SendTaskSuccess: %v, want TaskTimedOut", err)
		}
	})
	t.Run("a token whose task has completed is refused with TaskDoesNotExist", func(t *testing.T) {
		h, _, token := parked(t)
		if _, err := h.api.SendTaskSuccess(h.ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`1`)}); err != nil {
			t.Fatal(err)
		}
		_, err := h.api.SendTaskFailure(h.ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(token), Error: aws.String("E")})
		if errorCode(err) != "TaskDoesNotExist" {
			t.Fatalf("second answer: %v, want TaskDoesNotExist", err)
		}
	})
	t.Run("a token of a stopped execution is refused with TaskDoesNotExist", func(t *testing.T) {
		h, exec, token := parked(t)
		if _, err := h.api.StopExecution(h.ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(exec)}); err != nil {
			t.Fatal(err)
		}
		_, err := h.api.SendTaskHeartbeat(h.ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(token)})
		if errorCode(err) != "TaskDoesNotExist" {
			t.Fatalf("heartbeat after stop: %v, want TaskDoesNotExist", err)
		}
	})
	t.Run("a token the service never issued is refused with InvalidToken", func(t *testing.T) {
		h, _, _ := parked(t)
		_, err := h.api.SendTaskSuccess(h.ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String("AQBforged"), Output: aws.String(`{}`)})
		if errorCode(err) != "InvalidToken" {
			t.Fatalf("forged token: %v, want InvalidToken", err)
		}
	})
	t.Run("output that is not JSON is refused with InvalidOutput and the task keeps waiting", func(t *testing.T) {
		h, exec, token := parked(t)
		_, err := h.api.SendTaskSuccess(h.ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{not json`)})
		if errorCode(err) != "InvalidOutput" {
			t.Fatalf("bad output: %v, want InvalidOutput", err)
		}
		h.clock.Settle()
		if got := h.describe(exec).Status; got != types.ExecutionStatusRunning {
			t.Fatalf("status %s, want still running", got)
		}
	})
	t.Run("a worker that answers before its invocation returns is heard", func(t *testing.T) {
		fake := newFakeLambda().on("Waiter", reply{output: "accepted"})
		h := newHarness(t, InProcess, Integrations{Lambda: fake})
		fake.onCall = func(_ string, payload []byte) {
			var p struct{ Token string }
			_ = json.Unmarshal(payload, &p)
			if _, err := h.svc.SendTaskSuccess(h.ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(p.Token), Output: aws.String(`"early"`)}); err != nil {
				t.Errorf("early SendTaskSuccess: %v", err)
			}
		}
		exec := h.start(h.create("park", parkDef), `{"group":"web"}`)
		out := h.runToEnd(exec)
		assertJSON(t, out.Output, `{"group":"web","refresh":"early"}`)
	})
}
