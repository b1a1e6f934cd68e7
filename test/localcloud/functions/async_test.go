package functions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
)

// sendEvent invokes a function asynchronously.
func sendEvent(t *testing.T, h *harness, name, payload string) {
	t.Helper()
	out, err := h.svc.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String(name), InvocationType: types.InvocationTypeEvent, Payload: []byte(payload)})
	if err != nil {
		t.Fatal(err)
	}
	if out.StatusCode != 202 || out.Payload != nil {
		t.Fatalf("Event invoke answered %d with payload %q, want 202 and none", out.StatusCode, out.Payload)
	}
}

// attemptOffsets returns when each attempt ran, relative to the enqueue.
func attemptOffsets(rec AsyncInvocation) []time.Duration {
	var out []time.Duration
	for _, a := range rec.Attempts {
		out = append(out, a.At.Sub(rec.Enqueued))
	}
	return out
}

func TestAnEventRunsAtTheClocksNextStepNotDuringTheCall(t *testing.T) {
	h := newHarness(t)
	var got []string
	h.svc.RegisterFunc("queued", func(_ context.Context, ev map[string]string) (string, error) {
		got = append(got, ev["id"])
		return "done", nil
	})
	h.create(t, inProcessFunction("queued"))
	sendEvent(t, h, "queued", `{"id":"e-1"}`)
	if len(got) != 0 {
		t.Fatal("the event ran inside Invoke; Lambda queues it")
	}
	h.clk.Settle()
	recs := h.svc.AsyncInvocations("", "queued")
	if len(got) != 1 || got[0] != "e-1" || len(recs) != 1 || recs[0].Status != AsyncSucceeded {
		t.Fatalf("after the clock ran: handled %v, records %+v", got, recs)
	}
}

func TestAFailingEventIsRetriedTwiceAfterOneAndTwoMinutes(t *testing.T) {
	h := newHarness(t)
	h.svc.RegisterFunc("flaky", func(context.Context, map[string]any) (string, error) {
		return "", errors.New("downstream unavailable")
	})
	h.create(t, inProcessFunction("flaky"))
	sendEvent(t, h, "flaky", `{}`)
	h.clk.Settle()
	h.clk.Advance(59 * time.Second)
	if n := len(h.svc.AsyncInvocations("", "flaky")[0].Attempts); n != 1 {
		t.Fatalf("%d attempts before the first minute passed, want 1", n)
	}
	h.clk.Advance(time.Hour)
	rec := h.svc.AsyncInvocations("", "flaky")[0]
	want := []time.Duration{0, time.Minute, 3 * time.Minute}
	if fmt.Sprint(attemptOffsets(rec)) != fmt.Sprint(want) || rec.Status != AsyncRetriesExhausted {
		t.Fatalf("attempts at %v ending %s, want %v ending RetriesExhausted", attemptOffsets(rec), rec.Status, want)
	}
	for _, a := range rec.Attempts {
		if !a.Failed || a.ErrorType != "errorString" {
			t.Fatalf("attempt %+v, want an errorString function error", a)
		}
	}
}

func TestEventInvokeConfigBoundsTheRetries(t *testing.T) {
	cases := []struct {
		name    string
		config  *lambda.PutFunctionEventInvokeConfigInput
		offsets []time.Duration
		status  AsyncStatus
	}{
		{"zero retry attempts means one attempt", &lambda.PutFunctionEventInvokeConfigInput{MaximumRetryAttempts: aws.Int32(0)},
			[]time.Duration{0}, AsyncRetriesExhausted},
		{"one retry attempt means two attempts", &lambda.PutFunctionEventInvokeConfigInput{MaximumRetryAttempts: aws.Int32(1)},
			[]time.Duration{0, time.Minute}, AsyncRetriesExhausted},
		{"an event older than its maximum age is discarded instead of retried", &lambda.PutFunctionEventInvokeConfigInput{MaximumEventAgeInSeconds: aws.Int32(120)},
			[]time.Duration{0, time.Minute}, AsyncEventAgeExceeded},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.svc.RegisterFunc("bounded", func(context.Context, map[string]any) (string, error) { return "", errors.New("no") })
			h.create(t, inProcessFunction("bounded"))
			tc.config.FunctionName = aws.String("bounded")
			if _, err := h.svc.PutFunctionEventInvokeConfig(context.Background(), tc.config); err != nil {
				t.Fatal(err)
			}
			sendEvent(t, h, "bounded", `{}`)
			h.clk.Advance(time.Hour)
			rec := h.svc.AsyncInvocations("", "bounded")[0]
			if fmt.Sprint(attemptOffsets(rec)) != fmt.Sprint(tc.offsets) || rec.Status != tc.status {
				t.Fatalf("attempts at %v ending %s, want %v ending %s", attemptOffsets(rec), rec.Status, tc.offsets, tc.status)
			}
		})
	}
}

func TestARetriedEventThatSucceedsStopsBeingRetried(t *testing.T) {
	h := newHarness(t)
	calls := 0
	h.svc.RegisterFunc("recovering", func(ctx context.Context, _ map[string]any) (string, error) {
		calls++
		if calls == 1 {
			return "", errors.New("cold dependency")
		}
		lc, _ := lambdacontext.FromContext(ctx)
		return lc.AwsRequestID, nil
	})
	h.create(t, inProcessFunction("recovering"))
	sendEvent(t, h, "recovering", `{}`)
	h.clk.Advance(time.Hour)
	rec := h.svc.AsyncInvocations("", "recovering")[0]
	if len(rec.Attempts) != 2 || rec.Status != AsyncSucceeded {
		t.Fatalf("%d attempts ending %s, want 2 ending Succeeded", len(rec.Attempts), rec.Status)
	}
	if string(rec.Attempts[1].Payload) != `"`+rec.RequestID+`"` {
		t.Fatalf("the retry ran with request id %s, want the event's %s", rec.Attempts[1].Payload, rec.RequestID)
	}
}

func TestAsyncRetriesOfABuiltBootstrapRunOnTheSteppedClock(t *testing.T) {
	h := newHarness(t)
	h.create(t, binaryFunction(t, "async-binary"))
	sendEvent(t, h, "async-binary", `{"action":"typed-error","message":"bad image"}`)
	h.clk.Advance(10 * time.Minute)
	rec := h.svc.AsyncInvocations("", "async-binary")[0]
	if len(rec.Attempts) != 3 || rec.Status != AsyncRetriesExhausted || rec.Attempts[2].ErrorType != "ValidationFailed" {
		t.Fatalf("record %+v, want three ValidationFailed attempts", rec)
	}
}

func TestFaultRulesCrashOrTimeOutAFunctionWithoutItMisbehaving(t *testing.T) {
	cases := []struct {
		name      string
		kind      faults.Kind
		errorType string
		message   string
	}{
		{"a crash fault is a Runtime.ExitError", faults.FunctionCrash, "Runtime.ExitError", "Error: Runtime exited with error: exit status 1"},
		{"a timeout fault is a Sandbox.Timedout after the configured timeout", faults.FunctionTimeout, "Sandbox.Timedout", "Error: Task timed out after 900.00 seconds"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			in := binaryFunction(t, "faulty")
			in.Timeout = aws.Int32(900)
			h.create(t, in)
			if _, err := h.faults.Add(faults.Rule{Kind: tc.kind, Target: "faulty", Times: 1}); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			p := functionError(t, invoke(t, h.svc, "faulty", map[string]any{"action": "echo"}))
			if time.Since(start) > 5*time.Second {
				t.Fatalf("the fault took %v of wall time", time.Since(start))
			}
			if p.ErrorType != tc.errorType || !strings.Contains(p.ErrorMessage, tc.message) {
				t.Fatalf("error %+v, want %s containing %q", p, tc.errorType, tc.message)
			}
			if got := decode(t, invoke(t, h.svc, "faulty", map[string]any{"action": "echo", "message": "fine"})); got["message"] != "fine" {
				t.Fatal("the rule fired more than Times allows")
			}
		})
	}
}

func TestAFaultOnlyHitsTheFunctionItTargets(t *testing.T) {
	h := newHarness(t)
	for _, name := range []string{"target", "bystander"} {
		h.svc.RegisterFunc(name, func(context.Context, map[string]any) (string, error) { return "ok", nil })
		h.create(t, inProcessFunction(name))
	}
	if _, err := h.faults.Add(faults.Rule{Kind: faults.FunctionCrash, Target: "target"}); err != nil {
		t.Fatal(err)
	}
	if out := invoke(t, h.svc, "bystander", map[string]any{}); out.FunctionError != nil {
		t.Fatalf("the bystander failed: %s", out.Payload)
	}
	if out := invoke(t, h.svc, "target", map[string]any{}); out.FunctionError == nil {
		t.Fatal("the targeted function did not crash")
	}
}

func TestGoHandlersReportErrorsWithAwsLambdaGosErrorTypes(t *testing.T) {
	cases := []struct {
		name      string
		fail      func() error
		errorType string
	}{
		{"errors.New is errorString", func() error { return errors.New("x") }, "errorString"},
		{"an error wrapped with fmt.Errorf is wrapError", func() error { return fmt.Errorf("ctx: %w", &ValidationError{}) }, "wrapError"},
		{"a pointer error is named by its type", func() error { return &ValidationError{} }, "ValidationError"},
		{"a value error is named by its type", func() error { return HaltedError("halt") }, "HaltedError"},
		{"an InvokeResponse_Error passes through as it is", func() error {
			return messages.InvokeResponse_Error{Type: "Custom.Type", Message: "custom"}
		}, "Custom.Type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.svc.RegisterFunc("typed", func(context.Context, json.RawMessage) (any, error) { return nil, tc.fail() })
			h.create(t, inProcessFunction("typed"))
			if p := functionError(t, invoke(t, h.svc, "typed", map[string]any{})); p.ErrorType != tc.errorType {
				t.Fatalf("errorType %q, want %q", p.ErrorType, tc.errorType)
			}
		})
	}
}

// ValidationError is a pointer-receiver error for the errorType tests.
type ValidationError struct{}

func (*ValidationError) Error() string { return "invalid" }

// HaltedError is a value-receiver error for the errorType tests.
type HaltedError string

func (e HaltedError) Error() string { return string(e) }

func TestAGoHandlerGetsALambdaContextAndDeadline(t *testing.T) {
	h := newHarness(t)
	var seen *lambdacontext.LambdaContext
	var left time.Duration
	h.svc.RegisterFunc("context", func(ctx context.Context, _ json.RawMessage) (string, error) {
		seen, _ = lambdacontext.FromContext(ctx)
		d, _ := ctx.Deadline()
		left = time.Until(d)
		return "ok", nil
	})
	in := inProcessFunction("context")
	in.Timeout = aws.Int32(10)
	h.create(t, in)
	invoke(t, h.svc, "context", map[string]any{}, func(in *lambda.InvokeInput) { in.Qualifier = aws.String("$LATEST") })
	if seen == nil || seen.AwsRequestID == "" || seen.InvokedFunctionArn != "arn:aws:lambda:us-east-1:123456789012:function:context:$LATEST" {
		t.Fatalf("lambda context %+v", seen)
	}
	if left <= 9*time.Second || left > 10*time.Second {
		t.Fatalf("deadline %v away, want just under the 10 s timeout", left)
	}
}

func TestAGoHandlerPanicIsReportedLikeAwsLambdaGo(t *testing.T) {
	h := newHarness(t)
	h.svc.RegisterFunc("panicky", func(context.Context, json.RawMessage) (string, error) { panic("no rollout") })
	h.create(t, inProcessFunction("panicky"))
	p := functionError(t, invoke(t, h.svc, "panicky", map[string]any{}))
	if p.ErrorType != "string" || p.ErrorMessage != "no rollout" || len(p.StackTrace) == 0 {
		t.Fatalf("panic reported as %+v", p)
	}
}

func TestAGoHandlerPastItsTimeoutIsAbandonedWithItsContextCancelled(t *testing.T) {
	h := newHarness(t)
	cancelled := make(chan struct{})
	h.svc.RegisterFunc("stuck", func(ctx context.Context, _ json.RawMessage) (string, error) {
		<-ctx.Done()
		time.Sleep(50 * time.Millisecond)
		close(cancelled)
		return "late", nil
	})
	in := inProcessFunction("stuck")
	in.Timeout = aws.Int32(1)
	h.create(t, in)
	if p := functionError(t, invoke(t, h.svc, "stuck", map[string]any{})); p.ErrorType != "Sandbox.Timedout" {
		t.Fatalf("error %+v, want Sandbox.Timedout", p)
	}
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the handler's context was not cancelled")
	}
}

func TestAnInProcessFunctionWithoutAHandlerCannotStart(t *testing.T) {
	h := newHarness(t)
	h.create(t, inProcessFunction("orphan"))
	if p := functionError(t, invoke(t, h.svc, "orphan", map[string]any{})); p.ErrorType != "Runtime.InvalidEntrypoint" {
		t.Fatalf("error %+v, want Runtime.InvalidEntrypoint", p)
	}
}

func TestASynchronousInvocationHoldsSteppedTime(t *testing.T) {
	h := newHarness(t)
	release := make(chan struct{})
	running := make(chan struct{})
	var mu sync.Mutex
	finished := false
	h.svc.RegisterFunc("holding", func(context.Context, json.RawMessage) (string, error) {
		close(running)
		<-release
		mu.Lock()
		finished = true
		mu.Unlock()
		return "ok", nil
	})
	h.create(t, inProcessFunction("holding"))
	start := h.clk.Now()
	sawFinished := make(chan bool, 1)
	h.clk.After(time.Second, "probe", func() {
		mu.Lock()
		sawFinished <- finished
		mu.Unlock()
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		invoke(t, h.svc, "holding", map[string]any{})
	}()
	<-running
	advanced := make(chan struct{})
	go func() {
		h.clk.Advance(time.Minute)
		close(advanced)
	}()
	time.Sleep(50 * time.Millisecond)
	if !h.clk.Now().Equal(start) {
		t.Fatal("simulated time moved while the function ran")
	}
	close(release)
	<-done
	<-advanced
	if !<-sawFinished {
		t.Fatal("a clock event ran while the invocation was in flight")
	}
}

func TestTheSameSeedGivesTheSameIdsAndTimes(t *testing.T) {
	run := func() (string, string, time.Time) {
		h := newHarness(t)
		h.svc.RegisterFunc("seeded", func(context.Context, json.RawMessage) (string, error) { return "", errors.New("again") })
		h.create(t, inProcessFunction("seeded"))
		sendEvent(t, h, "seeded", `{}`)
		h.clk.Advance(time.Hour)
		rec := h.svc.AsyncInvocations("", "seeded")[0]
		logs := h.svc.Logs("", "seeded")
		return rec.RequestID, logs[0].Stream, rec.Attempts[len(rec.Attempts)-1].At
	}
	id1, stream1, last1 := run()
	id2, stream2, last2 := run()
	if id1 != id2 || stream1 != stream2 || !last1.Equal(last2) {
		t.Fatalf("two runs differ: (%s, %s, %v) and (%s, %s, %v)", id1, stream1, last1, id2, stream2, last2)
	}
}
