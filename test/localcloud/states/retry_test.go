package states

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

// TestErrorNameMatching checks the wildcard rules of ErrorEquals.
func TestErrorNameMatching(t *testing.T) {
	cases := []struct {
		pattern, name string
		want          bool
	}{
		{ErrALL, "CustomError", true},
		{ErrALL, ErrTimeout, true},
		{ErrALL, ErrHeartbeatTimeout, true},
		{ErrALL, ErrRuntime, false},
		{ErrALL, ErrDataLimitExceeded, false},
		{ErrTaskFailed, "CustomError", true},
		{ErrTaskFailed, ErrHeartbeatTimeout, true},
		{ErrTaskFailed, ErrPermissions, true},
		{ErrTaskFailed, ErrTimeout, false},
		{ErrTaskFailed, ErrRuntime, false},
		{ErrTimeout, ErrTimeout, true},
		{ErrTimeout, ErrHeartbeatTimeout, false},
		{ErrDataLimitExceeded, ErrDataLimitExceeded, true},
		{ErrRuntime, ErrRuntime, false},
		{"CustomError", "CustomError", true},
		{"CustomError", "customerror", false},
		{"Lambda.ServiceException", "Lambda.ServiceException", true},
	}
	for _, tc := range cases {
		name := tc.pattern + " does not match " + tc.name
		if tc.want {
			name = tc.pattern + " matches " + tc.name
		}
		t.Run(name, func(t *testing.T) {
			if got := errorMatches(tc.pattern, tc.name); got != tc.want {
				t.Fatalf("got %v", got)
			}
		})
	}
}

// attemptTimes returns the simulated instants of each LambdaFunctionStarted
// event, relative to the execution's start.
func attemptTimes(h *harness, exec string) []time.Duration {
	var out []time.Duration
	start := h.describe(exec).StartDate
	for _, ev := range h.history(exec) {
		if ev.Type == types.HistoryEventTypeLambdaFunctionStarted || ev.Type == types.HistoryEventTypeTaskStarted {
			out = append(out, ev.Timestamp.Sub(*start))
		}
	}
	return out
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestRetry checks Retry timing and selection on the simulated clock.
func TestRetry(t *testing.T) {
	task := func(retry, catch string) string {
		s := `{"StartAt":"X","States":{"X":{"Type":"Task","Resource":"` + fnArn("Flaky") + `","Retry":` + retry
		if catch == "" {
			return s + `,"End":true}}}`
		}
		return s + `,"Catch":` + catch + `,"End":true},"Z":{"Type":"Pass","Result":"caught","End":true}}}`
	}
	fail := func(name string) reply { return reply{errorType: name, message: "boom"} }
	ok := reply{output: "done"}
	cases := []struct {
		name     string
		def      string
		replies  []reply
		attempts []time.Duration
		status   types.ExecutionStatus
		entered  []string
	}{
		{
			name:     "the Retry defaults are 1 second, 3 attempts and a backoff rate of 2",
			def:      task(`[{"ErrorEquals":["Oops"]}]`, ""),
			replies:  []reply{fail("Oops"), fail("Oops"), fail("Oops"), fail("Oops")},
			attempts: []time.Duration{0, 1 * time.Second, 3 * time.Second, 7 * time.Second},
			status:   types.ExecutionStatusFailed, entered: []string{"X"},
		},
		{
			name:     "a retry that succeeds continues the execution",
			def:      task(`[{"ErrorEquals":["Oops"],"IntervalSeconds":3}]`, ""),
			replies:  []reply{fail("Oops"), ok},
			attempts: []time.Duration{0, 3 * time.Second},
			status:   types.ExecutionStatusSucceeded, entered: []string{"X"},
		},
		{
			name: "the spec's complex retry example: each retrier counts its own attempts, then the catcher takes over",
			def: task(`[{"ErrorEquals":["ErrorA","ErrorB"],"IntervalSeconds":1,"BackoffRate":2.0,"MaxAttempts":2},{"ErrorEquals":["ErrorC"],"IntervalSeconds":5}]`,
				`[{"ErrorEquals":["States.ALL"],"Next":"Z"}]`),
			replies:  []reply{fail("ErrorA"), fail("ErrorB"), fail("ErrorC"), fail("ErrorB")},
			attempts: []time.Duration{0, 1 * time.Second, 3 * time.Second, 8 * time.Second},
			status:   types.ExecutionStatusSucceeded, entered: []string{"X", "Z"},
		},
		{
			name:     "MaxDelaySeconds caps the backoff",
			def:      task(`[{"ErrorEquals":["Oops"],"IntervalSeconds":2,"BackoffRate":10,"MaxAttempts":3,"MaxDelaySeconds":5}]`, ""),
			replies:  []reply{fail("Oops"), fail("Oops"), fail("Oops"), ok},
			attempts: []time.Duration{0, 2 * time.Second, 7 * time.Second, 12 * time.Second},
			status:   types.ExecutionStatusSucceeded, entered: []string{"X"},
		},
		{
			name:     "MaxAttempts 0 never retries",
			def:      task(`[{"ErrorEquals":["Oops"],"MaxAttempts":0}]`, `[{"ErrorEquals":["Oops"],"Next":"Z"}]`),
			replies:  []reply{fail("Oops"), ok},
			attempts: []time.Duration{0},
			status:   types.ExecutionStatusSucceeded, entered: []string{"X", "Z"},
		},
		{
			name:     "only the first matching retrier applies, even when exhausted",
			def:      task(`[{"ErrorEquals":["Oops"],"MaxAttempts":1},{"ErrorEquals":["States.ALL"],"MaxAttempts":5}]`, ""),
			replies:  []reply{fail("Oops"), fail("Oops"), ok},
			attempts: []time.Duration{0, 1 * time.Second},
			status:   types.ExecutionStatusFailed, entered: []string{"X"},
		},
		{
			name:     "an error no retrier names is not retried",
			def:      task(`[{"ErrorEquals":["Other"]}]`, ""),
			replies:  []reply{fail("Oops"), ok},
			attempts: []time.Duration{0},
			status:   types.ExecutionStatusFailed, entered: []string{"X"},
		},
		{
			name:     "States.TaskFailed retries a function error",
			def:      task(`[{"ErrorEquals":["States.TaskFailed"],"IntervalSeconds":2,"MaxAttempts":1}]`, ""),
			replies:  []reply{fail("Oops"), ok},
			attempts: []time.Duration{0, 2 * time.Second},
			status:   types.ExecutionStatusSucceeded, entered: []string{"X"},
		},
		{
			name:     "a Lambda service exception is named Lambda.<Code> and can be retried",
			def:      task(`[{"ErrorEquals":["Lambda.TooManyRequestsException"],"MaxAttempts":1}]`, ""),
			replies:  []reply{{apiErr: &api.Error{Code: "TooManyRequestsException", Message: "Rate exceeded", Status: 429}}, ok},
			attempts: []time.Duration{0, 1 * time.Second},
			status:   types.ExecutionStatusSucceeded, entered: []string{"X"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, InProcess, Integrations{Lambda: newFakeLambda().on("Flaky", tc.replies...)})
			exec, out := h.runDef(tc.def, `{}`)
			if out.Status != tc.status {
				t.Fatalf("status %s (%s: %s), want %s", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause), tc.status)
			}
			if got := attemptTimes(h, exec); !equalDurations(got, tc.attempts) {
				t.Fatalf("attempts at %v, want %v", got, tc.attempts)
			}
			if got := h.entered(exec); !equalStrings(got, tc.entered) {
				t.Fatalf("entered %v, want %v", got, tc.entered)
			}
		})
	}
}

// TestRetryJitter checks that JitterStrategy FULL draws each delay between
// zero and the computed interval from the seeded source, so two runs with
// one seed wait the same.
func TestRetryJitter(t *testing.T) {
	def := `{"StartAt":"X","States":{"X":{"Type":"Task","Resource":"` + fnArn("Flaky") + `","Retry":[{"ErrorEquals":["Oops"],"IntervalSeconds":10,"MaxAttempts":3,"JitterStrategy":"FULL"}],"End":true}}}`
	run := func() []time.Duration {
		h := newHarness(t, InProcess, Integrations{Lambda: newFakeLambda().on("Flaky", reply{errorType: "Oops"})})
		exec, _ := h.runDef(def, `{}`)
		return attemptTimes(h, exec)
	}
	first, second := run(), run()
	if !equalDurations(first, second) {
		t.Fatalf("two runs with one seed retried at %v and %v", first, second)
	}
	bounds := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second}
	for i := 1; i < len(first); i++ {
		if gap := first[i] - first[i-1]; gap < 0 || gap > bounds[i-1] {
			t.Fatalf("retry %d waited %s, want within [0, %s]", i, gap, bounds[i-1])
		}
	}
	if len(first) != 4 {
		t.Fatalf("got %d attempts, want 4", len(first))
	}
}

// TestCatch checks Catch selection and the error output it passes on.
func TestCatch(t *testing.T) {
	t.Run("the caught error output carries the function's errorType and its JSON error as cause", func(t *testing.T) {
		h := newHarness(t, InProcess, Integrations{Lambda: newFakeLambda().on("F", reply{errorType: "RolloutBlocked", message: "group busy"})})
		def := `{"StartAt":"X","States":{"X":{"Type":"Task","Resource":"` + fnArn("F") + `","Catch":[{"ErrorEquals":["Other"],"Next":"Wrong"},{"ErrorEquals":["RolloutBlocked"],"ResultPath":"$.err","Next":"Handled"}],"End":true},
			"Wrong":{"Type":"Fail","Error":"Wrong"},"Handled":{"Type":"Pass","End":true}}}`
		exec, out := h.runDef(def, `{"asg":"web"}`)
		assertJSON(t, out.Output, `{"asg":"web","err":{"Error":"RolloutBlocked","Cause":"{\"errorMessage\":\"group busy\",\"errorType\":\"RolloutBlocked\"}"}}`)
		if got := h.entered(exec); !equalStrings(got, []string{"X", "Handled"}) {
			t.Fatalf("entered %v", got)
		}
	})
	t.Run("a catcher without ResultPath replaces the input with the error output", func(t *testing.T) {
		h := newHarness(t, InProcess, Integrations{Lambda: newFakeLambda().on("F", reply{errorType: "E", message: "m"})})
		def := `{"StartAt":"X","States":{"X":{"Type":"Task","Resource":"` + fnArn("F") + `","Catch":[{"ErrorEquals":["States.ALL"],"Next":"H"}],"End":true},"H":{"Type":"Pass","End":true}}}`
		_, out := h.runDef(def, `{"keep":1}`)
		assertJSON(t, out.Output, `{"Error":"E","Cause":"{\"errorMessage\":\"m\",\"errorType\":\"E\"}"}`)
	})
	t.Run("a function error without errorType is named Lambda.Unknown", func(t *testing.T) {
		h := newHarness(t, InProcess, Integrations{Lambda: unhandledLambda{}})
		_, out := h.runDef(`{"StartAt":"X","States":{"X":{"Type":"Task","Resource":"`+fnArn("F")+`","End":true}}}`, `{}`)
		if got := aws.ToString(out.Error); got != "Lambda.Unknown" {
			t.Fatalf("error %q, want Lambda.Unknown", got)
		}
	})
	t.Run("States.DataLimitExceeded is not caught by States.ALL", func(t *testing.T) {
		big := make([]any, 0, 30000)
		for i := 0; i < 30000; i++ {
			big = append(big, "0123456789")
		}
		h := newHarness(t, InProcess, Integrations{Lambda: newFakeLambda().on("F", reply{output: big})})
		def := `{"StartAt":"X","States":{"X":{"Type":"Task","Resource":"` + fnArn("F") + `","Catch":[{"ErrorEquals":["States.ALL"],"Next":"H"}],"End":true},"H":{"Type":"Pass","End":true}}}`
		_, out := h.runDef(def, `{}`)
		if got := aws.ToString(out.Error); got != ErrDataLimitExceeded {
			t.Fatalf("error %q, want %s", got, ErrDataLimitExceeded)
		}
	})
	t.Run("States.DataLimitExceeded named explicitly is caught", func(t *testing.T) {
		big := make([]any, 0, 30000)
		for i := 0; i < 30000; i++ {
			big = append(big, "0123456789")
		}
		h := newHarness(t, InProcess, Integrations{Lambda: newFakeLambda().on("F", reply{output: big})})
		def := `{"StartAt":"X","States":{"X":{"Type":"Task","Resource":"` + fnArn("F") + `","Catch":[{"ErrorEquals":["States.DataLimitExceeded"],"Next":"H"}],"End":true},"H":{"Type":"Pass","Result":"small","End":true}}}`
		_, out := h.runDef(def, `{}`)
		if out.Status != types.ExecutionStatusSucceeded {
			t.Fatalf("status %s: %s", out.Status, aws.ToString(out.Error))
		}
	})
}

// unhandledLambda answers every call with a function error whose payload
// has no errorType, as Lambda does when a function times out.
type unhandledLambda struct{}

func (unhandledLambda) Invoke(ctx context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	if in == nil {
		return nil, errors.New("no input")
	}
	return &lambda.InvokeOutput{StatusCode: 200, FunctionError: aws.String("Unhandled"), Payload: []byte(`{"errorMessage":"Task timed out after 3.00 seconds"}`)}, nil
}
