package executions_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/phoenix-rollouts/phoenix/shared/executions"
	"github.com/phoenix-rollouts/phoenix/shared/internal/testlog"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
)

// awaitDef parks on its token the way the rollout's Await state does and
// puts the resuming signal at $.signal.
const awaitDef = `{"StartAt":"Await","States":{"Await":{
	"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","TimeoutSeconds":%d,
	"Parameters":{"FunctionName":"await","Payload":{"token.$":"$$.Task.Token"}},
	"ResultPath":"$.signal","End":true}}}`

// parked is an execution of awaitDef and the token its task handed out.
type parked struct {
	env   *cloudtest.Env
	exec  string
	token string
}

// park starts an execution of awaitDef on a fresh local cloud and waits
// until the in-process "await" function has received its token.
func park(t *testing.T, timeoutSeconds int) *parked {
	t.Helper()
	env := cloudtest.New(t)
	ctx := context.Background()
	var mu sync.Mutex
	var tokens []string
	env.InProcessFunction(t, "await", func(_ context.Context, in struct {
		Token string `json:"token"`
	}) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		tokens = append(tokens, in.Token)
		return "parked", nil
	})
	sm, err := env.StepFunctions.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String("await"), Definition: aws.String(fmt.Sprintf(awaitDef, timeoutSeconds)),
		RoleArn: aws.String("arn:aws:iam::123456789012:role/phoenix"),
	})
	if err != nil {
		t.Fatal(err)
	}
	start, err := env.StepFunctions.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Input: aws.String(`{"rollout":{"rolloutId":"r-1"}}`)})
	if err != nil {
		t.Fatal(err)
	}
	p := &parked{env: env, exec: aws.ToString(start.ExecutionArn)}
	env.RunUntil(t, time.Minute, "the task to hand out its token", func() bool {
		mu.Lock()
		defer mu.Unlock()
		if len(tokens) > 0 {
			p.token = tokens[0]
		}
		return p.token != ""
	})
	return p
}

// describe returns the execution.
func (p *parked) describe(t *testing.T) *sfn.DescribeExecutionOutput {
	t.Helper()
	out, err := p.env.StepFunctions.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(p.exec)})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// What Step Functions answers SendTaskSuccess for a task that has ended,
// whichever way it ended, and for a token it never issued.
const (
	taskEnded = "TaskTimedOut: Task Timed Out: 'Provided task does not exist anymore'"
	badToken  = "InvalidToken: Invalid Token: 'Invalid token'"
)

// wantStale fails unless err is a *rollout.StaleTokenError caused by the
// Step Functions error answer ("Code: message").
func wantStale(t *testing.T, err error, answer string) {
	t.Helper()
	var stale *rollout.StaleTokenError
	if !errors.As(err, &stale) {
		t.Fatalf("error %v (%T), want a StaleTokenError", err, err)
	}
	if !strings.Contains(stale.Error(), answer) {
		t.Errorf("stale token error %q does not carry %s", stale, answer)
	}
}

// answering is a ResumeAPI whose SendTaskSuccess fails with err.
type answering struct{ err error }

func (a answering) SendTaskSuccess(context.Context, *sfn.SendTaskSuccessInput, ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error) {
	return nil, a.err
}

func TestResume(t *testing.T) {
	t.Parallel()
	signal := rollout.Signal{Kind: rollout.SignalCheckpoint, RefreshID: "ref-1", Percentage: 50, At: time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC), Seq: 3}
	t.Run("resuming completes the parked task with the signal at $.signal, and a second resume is stale", func(t *testing.T) {
		t.Parallel()
		p := park(t, 900)
		logs := &testlog.Buffer{}
		r := executions.NewResumer(p.env.Config, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
		if err := r.Resume(context.Background(), p.token, signal); err != nil {
			t.Fatal(err)
		}
		p.env.RunUntil(t, time.Minute, "the execution to end", func() bool { return p.describe(t).Status != sfntypes.ExecutionStatusRunning })
		out := p.describe(t)
		if out.Status != sfntypes.ExecutionStatusSucceeded {
			t.Fatalf("execution %s", out.Status)
		}
		var doc struct {
			Rollout map[string]any `json:"rollout"`
			Signal  rollout.Signal `json:"signal"`
		}
		if err := json.Unmarshal([]byte(aws.ToString(out.Output)), &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Signal != signal || doc.Rollout["rolloutId"] != "r-1" {
			t.Errorf("output %s, want the input with the signal %+v at $.signal", aws.ToString(out.Output), signal)
		}
		wantStale(t, r.Resume(context.Background(), p.token, signal), taskEnded)
		if strings.Contains(logs.String(), p.token) || !strings.Contains(logs.String(), executions.TokenHash(p.token)) {
			t.Errorf("the log must name the token by its hash only:\n%s", logs)
		}
	})
	t.Run("a token whose task timed out is stale", func(t *testing.T) {
		t.Parallel()
		p := park(t, 60)
		p.env.RunUntil(t, time.Hour, "the task to time out", func() bool { return p.describe(t).Status != sfntypes.ExecutionStatusRunning })
		wantStale(t, executions.NewResumer(p.env.Config, nil).Resume(context.Background(), p.token, signal), taskEnded)
	})
	t.Run("a token whose execution was stopped is stale", func(t *testing.T) {
		t.Parallel()
		p := park(t, 900)
		if _, err := p.env.StepFunctions.StopExecution(context.Background(), &sfn.StopExecutionInput{ExecutionArn: aws.String(p.exec)}); err != nil {
			t.Fatal(err)
		}
		wantStale(t, executions.NewResumer(p.env.Config, nil).Resume(context.Background(), p.token, signal), taskEnded)
		if s := p.describe(t).Status; s != sfntypes.ExecutionStatusAborted {
			t.Errorf("execution %s, want it left aborted", s)
		}
	})
	t.Run("a token Step Functions never issued is stale", func(t *testing.T) {
		t.Parallel()
		p := park(t, 900)
		wantStale(t, executions.NewResumer(p.env.Config, nil).Resume(context.Background(), "AQB"+p.token[3:]+"x", signal), badToken)
	})
	// AWS answers TaskTimedOut or InvalidToken for callback tokens; an
	// endpoint that answers TaskDoesNotExist (LocalStack, for a task that
	// ended) still has no task waiting, so the resume is moot, not an
	// error to retry (see staleCodes).
	t.Run("TaskDoesNotExist from another endpoint is stale too", func(t *testing.T) {
		t.Parallel()
		r := executions.NewResumerFromClient(answering{err: &sfntypes.TaskDoesNotExist{Message: aws.String("Task Does Not Exist")}}, nil)
		err := r.Resume(context.Background(), "AQBtoken", signal)
		var stale *rollout.StaleTokenError
		if !errors.As(err, &stale) || rollout.IsTransient(err) {
			t.Fatalf("error %v (%T), want a StaleTokenError", err, err)
		}
		if strings.Contains(err.Error(), "AQBtoken") {
			t.Errorf("error %q must name the token by its hash only", err)
		}
	})
	t.Run("an empty token is bad input", func(t *testing.T) {
		t.Parallel()
		var bad *rollout.BadInputError
		if err := executions.NewResumer(aws.Config{}, nil).Resume(context.Background(), "", signal); !errors.As(err, &bad) {
			t.Fatalf("error %v, want BadInputError", err)
		}
	})
	t.Run("throttling is transient and leaves the task parked", func(t *testing.T) {
		t.Parallel()
		p := park(t, 900)
		if _, err := p.env.Cloud.Faults.Add(faults.Rule{Kind: faults.Throttle, Service: "states", Operation: "SendTaskSuccess"}); err != nil {
			t.Fatal(err)
		}
		cfg := p.env.Config.Copy()
		cfg.RetryMaxAttempts = 1
		if err := executions.NewResumer(cfg, nil).Resume(context.Background(), p.token, signal); !rollout.IsTransient(err) {
			t.Fatalf("error %v, want a TransientError", err)
		}
		if s := p.describe(t).Status; s != sfntypes.ExecutionStatusRunning {
			t.Errorf("execution %s, want still parked", s)
		}
	})
}
