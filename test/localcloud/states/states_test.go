package states

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// TestStateTypes runs one small machine per state type and rule and checks
// the execution's status, output or error.
func TestStateTypes(t *testing.T) {
	cases := []struct {
		name       string
		definition string
		input      string
		status     types.ExecutionStatus
		output     string
		errName    string
		cause      string
	}{
		{
			name:       "a Pass state with Result replaces its input with the result",
			definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"x":1},"End":true}}}`,
			input:      `{"a":1}`, status: types.ExecutionStatusSucceeded, output: `{"x":1}`,
		},
		{
			name:       "a Pass state without Result passes its effective input on",
			definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":"$.a","End":true}}}`,
			input:      `{"a":{"b":2}}`, status: types.ExecutionStatusSucceeded, output: `{"b":2}`,
		},
		{
			name:       "a Pass state's ResultPath inserts the result into the raw input",
			definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":"$.a","Result":"r","ResultPath":"$.res","End":true}}}`,
			input:      `{"a":1}`, status: types.ExecutionStatusSucceeded, output: `{"a":1,"res":"r"}`,
		},
		{
			name:       "a Pass state's Parameters build the result from the input and intrinsics",
			definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"greeting.$":"States.Format('Hello, {}!', $.who)","fixed":true},"End":true}}}`,
			input:      `{"who":"Phoenix"}`, status: types.ExecutionStatusSucceeded, output: `{"greeting":"Hello, Phoenix!","fixed":true}`,
		},
		{
			name:       "a Succeed state ends the execution with its output",
			definition: `{"StartAt":"S","States":{"S":{"Type":"Succeed","OutputPath":"$.keep"}}}`,
			input:      `{"keep":[1,2],"drop":3}`, status: types.ExecutionStatusSucceeded, output: `[1,2]`,
		},
		{
			name:       "a Fail state fails the execution with its Error and Cause",
			definition: `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"RolloutAborted","Cause":"alarm fired"}}}`,
			input:      `{}`, status: types.ExecutionStatusFailed, errName: "RolloutAborted", cause: "alarm fired",
		},
		{
			name:       "a Fail state's ErrorPath and CausePath read the state input",
			definition: `{"StartAt":"F","States":{"F":{"Type":"Fail","ErrorPath":"$.e","CausePath":"States.Format('group {} failed', $.g)"}}}`,
			input:      `{"e":"Dirty","g":"web"}`, status: types.ExecutionStatusFailed, errName: "Dirty", cause: "group web failed",
		},
		{
			name:       "a Choice state with no matching rule and no Default fails with States.NoChoiceMatched",
			definition: `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericEquals":1,"Next":"D"}]},"D":{"Type":"Succeed"}}}`,
			input:      `{"n":2}`, status: types.ExecutionStatusFailed, errName: ErrNoChoiceMatched,
		},
		{
			name:       "a Choice state whose Variable path does not exist fails the execution with States.Runtime",
			definition: `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.missing","NumericEquals":1,"Next":"D"}],"Default":"D"},"D":{"Type":"Succeed"}}}`,
			input:      `{}`, status: types.ExecutionStatusFailed, errName: ErrRuntime,
		},
		{
			name:       "an InputPath that selects nothing fails the execution with States.Runtime",
			definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":"$.nope","End":true}}}`,
			input:      `{}`, status: types.ExecutionStatusFailed, errName: ErrRuntime,
		},
		{
			name:       "a Parameters path that selects nothing fails the execution with States.Runtime even under a Catch-all",
			definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:Echo","Parameters":{"x.$":"$.nope"},"Catch":[{"ErrorEquals":["States.ALL"],"Next":"S"}],"End":true},"S":{"Type":"Succeed"}}}`,
			input:      `{}`, status: types.ExecutionStatusFailed, errName: ErrRuntime,
		},
		{
			name:       "a Parallel state outputs the array of its branches' outputs in branch order",
			definition: `{"StartAt":"Par","States":{"Par":{"Type":"Parallel","End":true,"Branches":[{"StartAt":"A","States":{"A":{"Type":"Wait","Seconds":5,"Next":"A2"},"A2":{"Type":"Pass","Result":"a","End":true}}},{"StartAt":"B","States":{"B":{"Type":"Pass","Result":"b","End":true}}}]}}}`,
			input:      `{}`, status: types.ExecutionStatusSucceeded, output: `["a","b"]`,
		},
		{
			name:       "a Parallel state fails with the error of its failing branch",
			definition: `{"StartAt":"Par","States":{"Par":{"Type":"Parallel","End":true,"Branches":[{"StartAt":"A","States":{"A":{"Type":"Wait","Seconds":5,"End":true}}},{"StartAt":"B","States":{"B":{"Type":"Fail","Error":"BranchBroke","Cause":"b"}}}]}}}`,
			input:      `{}`, status: types.ExecutionStatusFailed, errName: "BranchBroke", cause: "b",
		},
		{
			name:       "a Parallel state's Catch catches a branch error and ResultPath keeps the input",
			definition: `{"StartAt":"Par","States":{"Par":{"Type":"Parallel","Next":"Done","Catch":[{"ErrorEquals":["BranchBroke"],"ResultPath":"$.error","Next":"Done"}],"Branches":[{"StartAt":"B","States":{"B":{"Type":"Fail","Error":"BranchBroke","Cause":"b"}}}]},"Done":{"Type":"Pass","End":true}}}`,
			input:      `{"k":1}`, status: types.ExecutionStatusSucceeded, output: `{"k":1,"error":{"Error":"BranchBroke","Cause":"b"}}`,
		},
		{
			name:       "a Map state runs its ItemProcessor on every item of ItemsPath and keeps item order",
			definition: `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":2,"ItemProcessor":{"ProcessorConfig":{"Mode":"INLINE"},"StartAt":"Double","States":{"Double":{"Type":"Pass","Parameters":{"v.$":"States.MathAdd($.n, $.n)"},"End":true}}},"ResultPath":"$.out","End":true}}}`,
			input:      `{"items":[{"n":1},{"n":2},{"n":3}]}`, status: types.ExecutionStatusSucceeded, output: `{"items":[{"n":1},{"n":2},{"n":3}],"out":[{"v":2},{"v":4},{"v":6}]}`,
		},
		{
			name:       "a Map state's ItemSelector sees the context object's Map.Item.Index and Value",
			definition: `{"StartAt":"M","States":{"M":{"Type":"Map","ItemSelector":{"i.$":"$$.Map.Item.Index","v.$":"$$.Map.Item.Value","all.$":"$.tag"},"ItemsPath":"$.xs","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`,
			input:      `{"xs":["a","b"],"tag":"t"}`, status: types.ExecutionStatusSucceeded, output: `[{"i":0,"v":"a","all":"t"},{"i":1,"v":"b","all":"t"}]`,
		},
		{
			name:       "a Map state with the legacy Iterator and Parameters fields works like ItemProcessor and ItemSelector",
			definition: `{"StartAt":"M","States":{"M":{"Type":"Map","Parameters":{"v.$":"$$.Map.Item.Value"},"Iterator":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`,
			input:      `[1,2]`, status: types.ExecutionStatusSucceeded, output: `[{"v":1},{"v":2}]`,
		},
		{
			name:       "a Map state over an empty array outputs an empty array",
			definition: `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`,
			input:      `[]`, status: types.ExecutionStatusSucceeded, output: `[]`,
		},
		{
			name:       "a Map state whose input is not an array fails the execution with States.Runtime",
			definition: `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`,
			input:      `{"a":1}`, status: types.ExecutionStatusFailed, errName: ErrRuntime,
		},
		{
			name:       "a Map state within ToleratedFailureCount succeeds with the failures' error objects in place",
			definition: `{"StartAt":"M","States":{"M":{"Type":"Map","ToleratedFailureCount":1,"ItemProcessor":{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$","NumericEquals":2,"Next":"Bad"}],"Default":"Ok"},"Bad":{"Type":"Fail","Error":"Two","Cause":"no twos"},"Ok":{"Type":"Pass","End":true}}},"End":true}}}`,
			input:      `[1,2,3]`, status: types.ExecutionStatusSucceeded, output: `[1,{"Error":"Two","Cause":"no twos"},3]`,
		},
		{
			name:       "a Map state past ToleratedFailurePercentage fails with States.ExceedToleratedFailureThreshold",
			definition: `{"StartAt":"M","States":{"M":{"Type":"Map","ToleratedFailurePercentage":10,"ItemProcessor":{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$","NumericEquals":2,"Next":"Bad"}],"Default":"Ok"},"Bad":{"Type":"Fail","Error":"Two"},"Ok":{"Type":"Pass","End":true}}},"End":true}}}`,
			input:      `[1,2,3]`, status: types.ExecutionStatusFailed, errName: ErrExceedToleratedFailureLimit,
		},
		{
			name:       "a Map state without tolerance fails with its iteration's error",
			definition: `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"Bad","States":{"Bad":{"Type":"Fail","Error":"ItemBroke","Cause":"c"}}},"End":true}}}`,
			input:      `[1]`, status: types.ExecutionStatusFailed, errName: "ItemBroke", cause: "c",
		},
		{
			name:       "an execution whose TimeoutSeconds passes times out with States.Timeout",
			definition: `{"TimeoutSeconds":10,"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":60,"End":true}}}`,
			input:      `{}`, status: types.ExecutionStatusTimedOut, errName: ErrTimeout,
		},
		{
			name:       "an execution whose output exceeds the payload quota fails with States.DataLimitExceeded",
			definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"big.$":"States.ArrayRange(1, 1000, 1)","more.$":"States.ArrayRange(1, 1000, 1)"},"Next":"Q"},"Q":{"Type":"Map","ItemsPath":"$.big","ItemSelector":{"all.$":"$.more"},"ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}},"End":true}}}`,
			input:      `{}`, status: types.ExecutionStatusFailed, errName: ErrDataLimitExceeded,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, InProcess, Integrations{Lambda: newFakeLambda().on("Echo", reply{echo: true})})
			_, out := h.runDef(tc.definition, tc.input)
			if out.Status != tc.status {
				t.Fatalf("status %s (error %s: %s), want %s", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause), tc.status)
			}
			if tc.output != "" {
				assertJSON(t, out.Output, tc.output)
			}
			if tc.errName != "" && aws.ToString(out.Error) != tc.errName {
				t.Fatalf("error %q (%s), want %q", aws.ToString(out.Error), aws.ToString(out.Cause), tc.errName)
			}
			if tc.cause != "" && aws.ToString(out.Cause) != tc.cause {
				t.Fatalf("cause %q, want %q", aws.ToString(out.Cause), tc.cause)
			}
		})
	}
}

// TestWaitStates checks that each form of Wait pauses for the documented
// time on the simulated clock and no longer.
func testWaitStates(t *testing.T, backend Backend) {
	start := time.Date(2026, time.January, 5, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		name  string
		state string
		input string
		wait  time.Duration
	}{
		{"Seconds waits that many seconds", `{"Type":"Wait","Seconds":90,"End":true}`, `{}`, 90 * time.Second},
		{"SecondsPath waits the number of seconds found in the input", `{"Type":"Wait","SecondsPath":"$.s","End":true}`, `{"s":30}`, 30 * time.Second},
		{"Timestamp waits until the instant", `{"Type":"Wait","Timestamp":"2026-01-05T10:00:00Z","End":true}`, `{}`, time.Hour},
		{"TimestampPath waits until the instant found in the input", `{"Type":"Wait","TimestampPath":"$.at","End":true}`, `{"at":"2026-01-05T09:00:05+00:00"}`, 5 * time.Second},
		{"a Timestamp in the past does not wait", `{"Type":"Wait","Timestamp":"2020-01-01T00:00:00Z","End":true}`, `{}`, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, backend, Integrations{})
			arn := h.create("w", `{"StartAt":"W","States":{"W":`+tc.state+`}}`)
			exec := h.start(arn, tc.input)
			out := h.runToEnd(exec)
			if out.Status != types.ExecutionStatusSucceeded {
				t.Fatalf("status %s: %s", out.Status, aws.ToString(out.Cause))
			}
			if got := out.StopDate.Sub(start); got != tc.wait {
				t.Fatalf("the wait took %s of simulated time, want %s", got, tc.wait)
			}
		})
	}
	t.Run("SecondsPath pointing at a negative number fails the execution with States.Runtime", func(t *testing.T) {
		h := newHarness(t, backend, Integrations{})
		_, out := h.runDef(`{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","End":true}}}`, `{"s":-1}`)
		if aws.ToString(out.Error) != ErrRuntime {
			t.Fatalf("error %q, want %s", aws.ToString(out.Error), ErrRuntime)
		}
	})
}

// TestContextObject checks the fields of the context object a state sees.
func testContextObject(t *testing.T, backend Backend) {
	h := newHarness(t, backend, Integrations{})
	def := `{"StartAt":"Ctx","States":{"Ctx":{"Type":"Pass","Parameters":{
		"id.$":"$$.Execution.Id","name.$":"$$.Execution.Name","input.$":"$$.Execution.Input","start.$":"$$.Execution.StartTime",
		"role.$":"$$.Execution.RoleArn","sm.$":"$$.StateMachine.Id","smName.$":"$$.StateMachine.Name",
		"state.$":"$$.State.Name","entered.$":"$$.State.EnteredTime","retries.$":"$$.State.RetryCount"},"End":true}}}`
	arn := h.create("ctx", def)
	out, err := h.api.StartExecution(h.ctx, newStart(arn, "run-1", `{"k":"v"}`))
	if err != nil {
		t.Fatal(err)
	}
	desc := h.runToEnd(aws.ToString(out.ExecutionArn))
	want := `{"id":"arn:aws:states:us-east-1:123456789012:execution:ctx:run-1","name":"run-1","input":{"k":"v"},
		"start":"2026-01-05T09:00:00.000Z","role":"` + testRole + `","sm":"` + arn + `","smName":"ctx",
		"state":"Ctx","entered":"2026-01-05T09:00:00.000Z","retries":0}`
	assertJSON(t, desc.Output, want)
}

// TestTaskTimeoutsAndRuntimeErrors checks TimeoutSeconds and
// TimeoutSecondsPath on Task states.
func TestTaskTimeouts(t *testing.T) {
	t.Run("a callback task that gets no answer within TimeoutSecondsPath fails with States.Timeout and its late answer is refused", func(t *testing.T) {
		fake := newFakeLambda().on("Park", reply{output: "sent"})
		h := newHarness(t, InProcess, Integrations{Lambda: fake})
		def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","TimeoutSecondsPath":"$.limit",
			"Parameters":{"FunctionName":"Park","Payload":{"token.$":"$$.Task.Token"}},"End":true}}}`
		exec, out := h.runDef(def, `{"limit":45}`)
		if aws.ToString(out.Error) != ErrTimeout {
			t.Fatalf("error %q, want %s", aws.ToString(out.Error), ErrTimeout)
		}
		if got := out.StopDate.Sub(*out.StartDate); got != 45*time.Second {
			t.Fatalf("timed out after %s, want 45s", got)
		}
		if types := h.eventTypes(exec); !strings.Contains(strings.Join(types, ","), "TaskTimedOut") {
			t.Fatalf("history %v has no TaskTimedOut", types)
		}
		var payload struct{ Token string }
		if err := json.Unmarshal([]byte(fake.payload["Park"][0]), &payload); err != nil || payload.Token == "" {
			t.Fatalf("the worker got no token: %v %q", err, fake.payload["Park"])
		}
		for op, err := range sendAll(h, payload.Token) {
			t.Run(op, func(t *testing.T) { wantRefused(t, err, taskEndedCode, taskEndedMessage) })
		}
	})
	// Step Functions requires the path to select a positive integer; any
	// other answer is a runtime error, which fails the execution past
	// every Retry and Catch (States.ALL does not match it).
	for name, input := range map[string]string{
		"a missing field":   `{}`,
		"null":              `{"limit":null}`,
		"zero":              `{"limit":0}`,
		"a negative number": `{"limit":-5}`,
		"a fraction":        `{"limit":2.5}`,
		"a string":          `{"limit":"45"}`,
	} {
		t.Run("TimeoutSecondsPath selecting "+name+" fails the execution with States.Runtime", func(t *testing.T) {
			fake := newFakeLambda().on("Park", reply{output: "sent"})
			h := newHarness(t, InProcess, Integrations{Lambda: fake})
			def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","TimeoutSecondsPath":"$.limit",
				"Parameters":{"FunctionName":"Park","Payload":{"token.$":"$$.Task.Token"}},
				"Retry":[{"ErrorEquals":["States.ALL"],"MaxAttempts":3}],
				"Catch":[{"ErrorEquals":["States.ALL"],"Next":"Caught"}],"End":true},"Caught":{"Type":"Succeed"}}}`
			_, out := h.runDef(def, input)
			if out.Status != types.ExecutionStatusFailed || aws.ToString(out.Error) != ErrRuntime {
				t.Fatalf("status %s error %q (%s), want FAILED with %s", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause), ErrRuntime)
			}
			if !strings.Contains(aws.ToString(out.Cause), "$.limit") {
				t.Errorf("cause %q does not name the path", aws.ToString(out.Cause))
			}
		})
	}
	t.Run("HeartbeatSecondsPath selecting no positive integer fails the execution with States.Runtime", func(t *testing.T) {
		h := newHarness(t, InProcess, Integrations{Lambda: newFakeLambda().on("Park", reply{output: "sent"})})
		def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","HeartbeatSecondsPath":"$.beat",
			"TimeoutSeconds":60,"Parameters":{"FunctionName":"Park","Payload":{"token.$":"$$.Task.Token"}},"End":true}}}`
		_, out := h.runDef(def, `{"beat":0}`)
		if aws.ToString(out.Error) != ErrRuntime {
			t.Fatalf("error %q, want %s", aws.ToString(out.Error), ErrRuntime)
		}
	})
	t.Run("States.TaskFailed in a Catch does not catch States.Timeout", func(t *testing.T) {
		h := newHarness(t, InProcess, Integrations{Lambda: newFakeLambda().on("Park", reply{output: "sent"})})
		def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","TimeoutSeconds":5,
			"Parameters":{"FunctionName":"Park","Payload":{"token.$":"$$.Task.Token"}},
			"Catch":[{"ErrorEquals":["States.TaskFailed"],"Next":"Caught"}],"End":true},"Caught":{"Type":"Succeed"}}}`
		_, out := h.runDef(def, `{}`)
		if aws.ToString(out.Error) != ErrTimeout {
			t.Fatalf("error %q, want the uncaught %s", aws.ToString(out.Error), ErrTimeout)
		}
	})
}
