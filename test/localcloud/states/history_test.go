package states

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
)

// TestHistoryEventSequences checks the events each kind of state writes,
// in order.
func TestHistoryEventSequences(t *testing.T) {
	cases := []struct {
		name, def string
		events    []string
	}{
		{
			name: "a Lambda function ARN task writes LambdaFunction events",
			def:  `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fnArn("Echo") + `","End":true}}}`,
			events: []string{"ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted",
				"LambdaFunctionSucceeded", "TaskStateExited", "ExecutionSucceeded"},
		},
		{
			name: "a lambda:invoke task writes Task events",
			def:  `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"Echo"},"End":true}}}`,
			events: []string{"ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted",
				"TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"},
		},
		{
			name: "a failed and retried task writes one entry and a failure per attempt",
			def:  `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fnArn("FailOnce") + `","Retry":[{"ErrorEquals":["States.ALL"]}],"End":true}}}`,
			events: []string{"ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionFailed",
				"LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionSucceeded", "TaskStateExited", "ExecutionSucceeded"},
		},
		{
			name:   "Choice, Wait and Succeed states write entered and exited events",
			def:    `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.go","BooleanEquals":true,"Next":"W"}],"Default":"S"},"W":{"Type":"Wait","Seconds":1,"Next":"S"},"S":{"Type":"Succeed"}}}`,
			events: []string{"ExecutionStarted", "ChoiceStateEntered", "ChoiceStateExited", "WaitStateEntered", "WaitStateExited", "SucceedStateEntered", "SucceedStateExited", "ExecutionSucceeded"},
		},
		{
			name: "a Map state writes started, per-iteration and succeeded events around its iterations' states",
			def:  `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.xs","ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}},"End":true}}}`,
			events: []string{"ExecutionStarted", "MapStateEntered", "MapStateStarted", "MapIterationStarted", "PassStateEntered", "PassStateExited",
				"MapIterationSucceeded", "MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"},
		},
		{
			name: "a Parallel state writes started and succeeded events around its branches' states",
			def:  `{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}}],"End":true}}}`,
			events: []string{"ExecutionStarted", "ParallelStateEntered", "ParallelStateStarted", "PassStateEntered", "PassStateExited",
				"ParallelStateSucceeded", "ParallelStateExited", "ExecutionSucceeded"},
		},
		{
			name:   "a Fail state writes its entry and the execution's failure",
			def:    `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"E"}}}`,
			events: []string{"ExecutionStarted", "FailStateEntered", "ExecutionFailed"},
		},
		{
			name: "a callback task writes TaskSubmitted when the message is out and times out with TaskTimedOut",
			def: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","TimeoutSeconds":5,
				"Parameters":{"FunctionName":"Echo","Payload":{"t.$":"$$.Task.Token"}},"End":true}}}`,
			events: []string{"ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskTimedOut", "ExecutionFailed"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFakeLambda().on("Echo", reply{echo: true}).on("FailOnce", reply{errorType: "Oops"}, reply{output: 1})
			h := newHarness(t, InProcess, Integrations{Lambda: fake})
			exec, _ := h.runDef(tc.def, `{"xs":[1],"go":true}`)
			if got := h.eventTypes(exec); !equalStrings(got, tc.events) {
				t.Fatalf("events\n got  %v\n want %v", got, tc.events)
			}
		})
	}
}

// TestRefusedCallbacksWriteNoHistory checks that the token calls Step
// Functions refuses with TaskTimedOut, once a callback task has timed out,
// leave its execution's history as the timeout left it.
func TestRefusedCallbacksWriteNoHistory(t *testing.T) {
	fake := newFakeLambda().on("Echo", reply{echo: true})
	h := newHarness(t, InProcess, Integrations{Lambda: fake})
	exec, out := h.runDef(`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","TimeoutSeconds":5,
		"Parameters":{"FunctionName":"Echo","Payload":{"t.$":"$$.Task.Token"}},"End":true}}}`, `{}`)
	if aws.ToString(out.Error) != ErrTimeout {
		t.Fatalf("error %q, want %s", aws.ToString(out.Error), ErrTimeout)
	}
	var payload struct{ T string }
	if err := json.Unmarshal([]byte(fake.payload["Echo"][0]), &payload); err != nil || payload.T == "" {
		t.Fatalf("the worker got no token: %v %q", err, fake.payload["Echo"])
	}
	for op, err := range sendAll(h, payload.T) {
		t.Run(op, func(t *testing.T) { wantRefused(t, err, taskEndedCode, taskEndedMessage) })
	}
	h.clock.Advance(time.Minute)
	want := []string{"ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskTimedOut", "ExecutionFailed"}
	if got := h.eventTypes(exec); !equalStrings(got, want) {
		t.Fatalf("events after the refused calls\n got  %v\n want %v", got, want)
	}
}

// TestHistoryEventFields checks ids, previous event ids and the details of
// the events of a lambda:invoke task.
func TestHistoryEventFields(t *testing.T) {
	h := newHarness(t, InProcess, Integrations{Lambda: newFakeLambda().on("Echo", reply{output: map[string]any{"ok": true}})})
	exec, _ := h.runDef(`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","TimeoutSeconds":30,
		"Parameters":{"FunctionName":"Echo","Payload.$":"$"},"OutputPath":"$.Payload","End":true}}}`, `{"in":1}`)
	evs := h.history(exec)
	for i, ev := range evs {
		if ev.Id != int64(i+1) {
			t.Fatalf("event %d has id %d", i, ev.Id)
		}
		// Events follow the one before, except the first state's entered
		// event, which follows none, as in Step Functions' histories.
		want := int64(i)
		if i == 1 {
			want = 0
		}
		if ev.PreviousEventId != want {
			t.Fatalf("event %d (%s) follows %d, want %d", ev.Id, ev.Type, ev.PreviousEventId, want)
		}
		if ev.Timestamp == nil {
			t.Fatalf("event %d has no timestamp", ev.Id)
		}
	}
	started := evs[0].ExecutionStartedEventDetails
	if aws.ToString(started.Input) != `{"in":1}` || aws.ToString(started.RoleArn) != testRole {
		t.Fatalf("ExecutionStarted details %+v", started)
	}
	sched := evs[2].TaskScheduledEventDetails
	if aws.ToString(sched.ResourceType) != "lambda" || aws.ToString(sched.Resource) != "invoke" || aws.ToString(sched.Region) != "us-east-1" || aws.ToInt64(sched.TimeoutInSeconds) != 30 {
		t.Fatalf("TaskScheduled details %+v", sched)
	}
	assertJSON(t, sched.Parameters, `{"FunctionName":"Echo","Payload":{"in":1}}`)
	succeeded := evs[4].TaskSucceededEventDetails
	if !strings.Contains(aws.ToString(succeeded.Output), `"StatusCode":200`) {
		t.Fatalf("TaskSucceeded output %s lacks StatusCode", aws.ToString(succeeded.Output))
	}
	exited := evs[5].StateExitedEventDetails
	if aws.ToString(exited.Name) != "T" {
		t.Fatalf("TaskStateExited details %+v", exited)
	}
	assertJSON(t, exited.Output, `{"ok":true}`)
	assertJSON(t, evs[6].ExecutionSucceededEventDetails.Output, `{"ok":true}`)
}

// TestHistoryMapPreviousEvents checks that events inside Map iterations
// chain to their iteration, not to whatever happened last elsewhere.
func testHistoryMapPreviousEvents(t *testing.T, backend Backend) {
	h := newHarness(t, backend, Integrations{})
	exec, _ := h.runDef(`{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$","End":true}}},"End":true}}}`, `[2,1]`)
	evs := h.history(exec)
	byID := map[int64]types.HistoryEvent{}
	for _, ev := range evs {
		byID[ev.Id] = ev
	}
	for _, ev := range evs {
		if ev.Type == types.HistoryEventTypeWaitStateExited {
			prev := byID[ev.PreviousEventId]
			if prev.Type != types.HistoryEventTypeWaitStateEntered {
				t.Fatalf("WaitStateExited %d follows %s %d", ev.Id, prev.Type, prev.Id)
			}
		}
	}
}

// TestGetExecutionHistoryPaging checks MaxResults, NextToken, ReverseOrder
// and IncludeExecutionData.
func testGetExecutionHistoryPaging(t *testing.T, backend Backend) {
	h := newHarness(t, backend, Integrations{})
	exec, _ := h.runDef(`{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Next":"C"},"C":{"Type":"Pass","End":true}}}`, `{"secret":1}`)
	all := h.history(exec)
	if len(all) != 8 {
		t.Fatalf("got %d events, want 8", len(all))
	}
	t.Run("pages of three cover the history in order", func(t *testing.T) {
		var ids []int64
		var token *string
		for {
			out, err := h.api.GetExecutionHistory(h.ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(exec), MaxResults: 3, NextToken: token})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Events) > 3 {
				t.Fatalf("page of %d events", len(out.Events))
			}
			for _, ev := range out.Events {
				ids = append(ids, ev.Id)
			}
			if token = out.NextToken; token == nil {
				break
			}
		}
		for i, id := range ids {
			if id != int64(i+1) {
				t.Fatalf("ids %v", ids)
			}
		}
	})
	t.Run("ReverseOrder returns the newest event first", func(t *testing.T) {
		out, err := h.api.GetExecutionHistory(h.ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(exec), ReverseOrder: true, MaxResults: 2})
		if err != nil {
			t.Fatal(err)
		}
		if out.Events[0].Type != types.HistoryEventTypeExecutionSucceeded || out.Events[1].Id != 7 {
			t.Fatalf("first reversed events: %s %d", out.Events[0].Type, out.Events[1].Id)
		}
	})
	t.Run("IncludeExecutionData false leaves out inputs and outputs", func(t *testing.T) {
		out, err := h.api.GetExecutionHistory(h.ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(exec), IncludeExecutionData: aws.Bool(false)})
		if err != nil {
			t.Fatal(err)
		}
		if out.Events[0].ExecutionStartedEventDetails.Input != nil || out.Events[1].StateEnteredEventDetails.Input != nil {
			t.Fatal("payloads were included")
		}
		if all[0].ExecutionStartedEventDetails.Input == nil {
			t.Fatal("stripping changed the stored history")
		}
	})
	t.Run("a token that was not issued is refused", func(t *testing.T) {
		_, err := h.api.GetExecutionHistory(h.ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(exec), NextToken: aws.String("garbage!")})
		if errorCode(err) != "InvalidToken" {
			t.Fatalf("got %v, want InvalidToken", err)
		}
	})
}

// TestHistoryLimit checks that an execution whose history would pass the
// event quota fails, the failure being the last event.
func TestHistoryLimit(t *testing.T) {
	clk := clock.NewStepped(time.Time{})
	svc := New(Options{Clock: clk, Limits: Limits{MaxHistoryEvents: 50}})
	h := &harness{t: t, clock: clk, svc: svc, api: svc, ctx: t.Context()}
	exec, out := h.runDef(`{"StartAt":"A","States":{"A":{"Type":"Wait","Seconds":1,"Next":"B"},"B":{"Type":"Choice","Choices":[{"Variable":"$.stop","IsPresent":true,"Next":"End"}],"Default":"A"},"End":{"Type":"Succeed"}}}`, `{}`)
	if aws.ToString(out.Error) != ErrRuntime || !strings.Contains(aws.ToString(out.Cause), "maximum number of events") {
		t.Fatalf("error %s: %s", aws.ToString(out.Error), aws.ToString(out.Cause))
	}
	if n := len(h.history(exec)); n != 50 {
		t.Fatalf("history has %d events, want exactly the limit of 50", n)
	}
}

// TestDeterminism runs the same Phoenix-like machine twice with one seed
// and requires identical histories, timestamps included.
func TestDeterminism(t *testing.T) {
	run := func() []types.HistoryEvent {
		fake := newFakeLambda().on("Flaky", reply{errorType: "Throttled"}, reply{errorType: "Throttled"}, reply{echo: true}).on("Echo", reply{echo: true})
		h := newHarness(t, InProcess, Integrations{Lambda: fake})
		exec, _ := h.runDef(benchDefinition, `{"groups":["a","b","c","d"],"ami":"ami-1"}`)
		return h.history(exec)
	}
	a, b := run(), run()
	if len(a) != len(b) {
		t.Fatalf("histories of %d and %d events", len(a), len(b))
	}
	for i := range a {
		if a[i].Type != b[i].Type || !a[i].Timestamp.Equal(*b[i].Timestamp) || a[i].PreviousEventId != b[i].PreviousEventId {
			t.Fatalf("event %d differs: %s@%s vs %s@%s", i+1, a[i].Type, a[i].Timestamp, b[i].Type, b[i].Timestamp)
		}
	}
}
