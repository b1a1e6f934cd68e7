package states

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
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

// What Step Functions answers SendTaskSuccess, SendTaskFailure and
// SendTaskHeartbeat with when the token's task has ended (answered, failed,
// timed out, or its execution stopped or ended), and when it never issued
// the token. See lookupToken for the evidence.
const (
	taskEndedCode    = "TaskTimedOut"
	taskEndedMessage = "Task Timed Out: 'Provided task does not exist anymore'"
	badTokenCode     = "InvalidToken"
	badTokenMessage  = "Invalid Token: 'Invalid token'"
)

// wantRefused fails unless err is the client error code with message, sent
// with HTTP status 400 like every other Step Functions client error. Over
// HTTP the SDK must also have decoded it into its modelled error type, so
// that callers matching *types.TaskTimedOut or *types.InvalidToken see it.
func wantRefused(t *testing.T, err error, code, message string) {
	t.Helper()
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v (%T), want %s", err, err, code)
	}
	if apiErr.ErrorCode() != code || apiErr.ErrorMessage() != message || apiErr.ErrorFault() != smithy.FaultClient {
		t.Fatalf("error %s %q (fault %v), want the client error %s %q", apiErr.ErrorCode(), apiErr.ErrorMessage(), apiErr.ErrorFault(), code, message)
	}
	var wire *awshttp.ResponseError
	var model *api.Error
	switch {
	case errors.As(err, &wire):
		if wire.HTTPStatusCode() != http.StatusBadRequest {
			t.Fatalf("%s sent with HTTP status %d, want 400", code, wire.HTTPStatusCode())
		}
		var timedOut *types.TaskTimedOut
		var invalid *types.InvalidToken
		if modelled := map[string]bool{taskEndedCode: errors.As(err, &timedOut), badTokenCode: errors.As(err, &invalid)}; !modelled[code] {
			t.Fatalf("the SDK decoded %s as %T, not its modelled error type", code, apiErr)
		}
	case errors.As(err, &model):
		if model.HTTPStatus() != http.StatusBadRequest {
			t.Fatalf("%s is sent with HTTP status %d, want 400", code, model.HTTPStatus())
		}
	default:
		t.Fatalf("error %v (%T) is neither a response of the wire nor an error of the model", err, err)
	}
}

// sendAll makes each of the three token calls once with token and returns
// their errors, named by operation.
func sendAll(h *harness, token string) map[string]error {
	_, success := h.api.SendTaskSuccess(h.ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{"late":true}`)})
	_, failure := h.api.SendTaskFailure(h.ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(token), Error: aws.String("Late"), Cause: aws.String("late")})
	_, heartbeat := h.api.SendTaskHeartbeat(h.ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(token)})
	return map[string]error{"SendTaskSuccess": success, "SendTaskFailure": failure, "SendTaskHeartbeat": heartbeat}
}

// testEndedTaskTokens checks what the token calls answer once the task that
// handed out the token has ended, whichever way it ended, and for a token
// never handed out. The callback task starts a child execution with its
// token as input (states:startExecution.waitForTaskToken), so the rule needs
// no integration but Step Functions itself and runs in process and through a
// real SDK client over HTTP.
func testEndedTaskTokens(t *testing.T, backend Backend) {
	const child = "arn:aws:states:us-east-1:123456789012:stateMachine:relay-child"
	const kid = "arn:aws:states:us-east-1:123456789012:execution:relay-child:kid"
	park := func(task string) string {
		return `"Park":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.waitForTaskToken",` + task + `
			"Parameters":{"StateMachineArn":"` + child + `","Name":"kid","Input":{"token.$":"$$.Task.Token"}},"End":true}`
	}
	machine := func(top, task string) string {
		return `{` + top + `"StartAt":"Park","States":{` + park(task) + `}}`
	}
	// parked starts def and returns the execution and the token its
	// callback task handed to the child.
	parked := func(t *testing.T, def string) (*harness, string, string) {
		t.Helper()
		h := newHarness(t, backend, Integrations{})
		h.create("relay-child", `{"StartAt":"Done","States":{"Done":{"Type":"Succeed"}}}`)
		exec := h.start(h.create("relay", def), `{}`)
		h.clock.Settle()
		if got := h.describe(exec).Status; got != types.ExecutionStatusRunning {
			t.Fatalf("status %s, want the task parked", got)
		}
		var in struct{ Token string }
		if err := json.Unmarshal([]byte(aws.ToString(h.describe(kid).Input)), &in); err != nil || in.Token == "" {
			t.Fatalf("the child got no token: %v %s", err, aws.ToString(h.describe(kid).Input))
		}
		return h, exec, in.Token
	}
	cases := []struct {
		name       string
		def        string
		end        func(t *testing.T, h *harness, exec, token string)
		wantStatus types.ExecutionStatus
		wantError  string
	}{
		{
			name: "a task answered with SendTaskSuccess",
			def:  machine("", ""),
			end: func(t *testing.T, h *harness, _, token string) {
				if _, err := h.api.SendTaskSuccess(h.ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{"ok":true}`)}); err != nil {
					t.Fatal(err)
				}
			},
			wantStatus: types.ExecutionStatusSucceeded,
		},
		{
			name: "a task answered with SendTaskFailure",
			def:  machine("", ""),
			end: func(t *testing.T, h *harness, _, token string) {
				if _, err := h.api.SendTaskFailure(h.ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(token), Error: aws.String("Broke"), Cause: aws.String("c")}); err != nil {
					t.Fatal(err)
				}
			},
			wantStatus: types.ExecutionStatusFailed,
			wantError:  "Broke",
		},
		{
			name:       "a task that timed out on HeartbeatSeconds",
			def:        machine("", `"HeartbeatSeconds":10,"TimeoutSeconds":3600,`),
			wantStatus: types.ExecutionStatusFailed,
			wantError:  ErrHeartbeatTimeout,
		},
		{
			name:       "a task that timed out on TimeoutSeconds",
			def:        machine("", `"TimeoutSeconds":30,`),
			wantStatus: types.ExecutionStatusFailed,
			wantError:  ErrTimeout,
		},
		{
			name: "a task whose execution was stopped",
			def:  machine("", ""),
			end: func(t *testing.T, h *harness, exec, _ string) {
				if _, err := h.api.StopExecution(h.ctx, stopInput(exec)); err != nil {
					t.Fatal(err)
				}
			},
			wantStatus: types.ExecutionStatusAborted,
		},
		{
			name:       "a task whose execution timed out",
			def:        machine(`"TimeoutSeconds":30,`, ""),
			wantStatus: types.ExecutionStatusTimedOut,
			wantError:  ErrTimeout,
		},
		{
			name: "a task whose execution failed in a parallel branch",
			def: `{"StartAt":"Both","States":{"Both":{"Type":"Parallel","End":true,"Branches":[
				{"StartAt":"Park","States":{` + park("") + `}},
				{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":5,"Next":"F"},"F":{"Type":"Fail","Error":"Sibling"}}}]}}}`,
			wantStatus: types.ExecutionStatusFailed,
			wantError:  "Sibling",
		},
	}
	for _, tc := range cases {
		t.Run("a token of "+tc.name+" is refused with TaskTimedOut", func(t *testing.T) {
			h, exec, token := parked(t, tc.def)
			if tc.end != nil {
				tc.end(t, h, exec, token)
			}
			out := h.runToEnd(exec)
			if out.Status != tc.wantStatus || aws.ToString(out.Error) != tc.wantError {
				t.Fatalf("execution %s %q, want %s %q", out.Status, aws.ToString(out.Error), tc.wantStatus, tc.wantError)
			}
			for op, err := range sendAll(h, token) {
				t.Run(op, func(t *testing.T) { wantRefused(t, err, taskEndedCode, taskEndedMessage) })
			}
			if after := h.describe(exec); after.Status != out.Status || !after.StopDate.Equal(*out.StopDate) {
				t.Fatalf("the refused calls changed the execution: %s at %v", after.Status, after.StopDate)
			}
		})
	}
	t.Run("a token the service never issued is refused with InvalidToken and the task keeps waiting", func(t *testing.T) {
		h, exec, token := parked(t, machine("", ""))
		forged := map[string]string{"made up": "NoSuchTaskToken", "cut short": token[:len(token)-1], "lengthened": token + "x"}
		for kind, bad := range forged {
			for op, err := range sendAll(h, bad) {
				t.Run(op+" with a token "+kind, func(t *testing.T) { wantRefused(t, err, badTokenCode, badTokenMessage) })
			}
		}
		h.clock.Settle()
		if got := h.describe(exec).Status; got != types.ExecutionStatusRunning {
			t.Fatalf("status %s, want still parked", got)
		}
		if _, err := h.api.SendTaskHeartbeat(h.ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(token)}); err != nil {
			t.Fatalf("the real token after the forged ones: %v", err)
		}
	})
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
		wantRefused(t, err, taskEndedCode, taskEndedMessage)
	})
	t.Run("a token whose task has completed is refused with TaskTimedOut", func(t *testing.T) {
		h, _, token := parked(t)
		if _, err := h.api.SendTaskSuccess(h.ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`1`)}); err != nil {
			t.Fatal(err)
		}
		_, err := h.api.SendTaskFailure(h.ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(token), Error: aws.String("E")})
		wantRefused(t, err, taskEndedCode, taskEndedMessage)
	})
	t.Run("a token of a stopped execution is refused with TaskTimedOut", func(t *testing.T) {
		h, exec, token := parked(t)
		if _, err := h.api.StopExecution(h.ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(exec)}); err != nil {
			t.Fatal(err)
		}
		_, err := h.api.SendTaskHeartbeat(h.ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(token)})
		wantRefused(t, err, taskEndedCode, taskEndedMessage)
	})
	t.Run("a token the service never issued is refused with InvalidToken", func(t *testing.T) {
		h, _, _ := parked(t)
		_, err := h.api.SendTaskSuccess(h.ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String("AQBforged"), Output: aws.String(`{}`)})
		wantRefused(t, err, badTokenCode, badTokenMessage)
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
