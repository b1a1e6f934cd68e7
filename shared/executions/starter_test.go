package executions_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/phoenix-rollouts/phoenix/shared/executions"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
)

func TestTheStarterStartsANameOnce(t *testing.T) {
	t.Parallel()
	env := cloudtest.New(t)
	ctx := context.Background()
	s := executions.NewStarterFromClient(env.StepFunctions, env.CreateStateMachine(t, "phoenix-campaign", holdDef))
	arn, started, err := s.Start(ctx, "cmp-1", []byte(`{"a":1}`))
	if err != nil || !started || arn == "" {
		t.Fatalf("first start: %s %v %v", arn, started, err)
	}
	again, started, err := s.Start(ctx, "cmp-1", []byte(`{"a":2}`))
	if err != nil || started || again != arn {
		t.Fatalf("the same name with another input: %s %v %v; want the existing %s, not started", again, started, err, arn)
	}
	env.Advance(2 * time.Minute)
	closed, started, err := s.Start(ctx, "cmp-1", []byte(`{"a":1}`))
	if err != nil || started || closed != arn {
		t.Fatalf("the name of a closed execution: %s %v %v", closed, started, err)
	}
	missing := executions.NewStarterFromClient(env.StepFunctions, "arn:aws:states:us-east-1:123456789012:stateMachine:none")
	if _, _, err := missing.Start(ctx, "cmp-2", []byte(`{}`)); err == nil {
		t.Fatal("starting a missing state machine succeeded")
	}
}

func TestAMissingStateMachineIsNotFoundAndThrottlingIsTransient(t *testing.T) {
	t.Parallel()
	env := cloudtest.New(t)
	ctx := context.Background()
	var nf *rollout.NotFoundError
	missing := executions.NewStarterFromClient(env.StepFunctions, "arn:aws:states:us-east-1:123456789012:stateMachine:none")
	if _, _, err := missing.Start(ctx, "cmp-1", []byte(`{}`)); !errors.As(err, &nf) || nf.Kind != "state machine" {
		t.Fatalf("error %v (%T), want a NotFoundError naming the state machine", err, err)
	}
	machine := env.CreateStateMachine(t, "phoenix-rollout", holdDef)
	if _, err := env.Cloud.Faults.Add(faults.Rule{Kind: faults.Throttle, Service: "states", Operation: "StartExecution"}); err != nil {
		t.Fatal(err)
	}
	cfg := env.Config.Copy()
	cfg.RetryMaxAttempts = 1
	if _, _, err := executions.NewStarter(cfg, machine).Start(ctx, "r-1", []byte(`{}`)); !rollout.IsTransient(err) {
		t.Fatalf("error %v, want a TransientError", err)
	}
	if n := executionCount(t, env, machine); n != 0 {
		t.Errorf("%d executions after a throttled start, want none", n)
	}
}

func TestStartRolloutStartsTheRequestUnderItsIdOnce(t *testing.T) {
	t.Parallel()
	env := cloudtest.New(t)
	ctx := context.Background()
	machine := env.CreateStateMachine(t, "phoenix-rollout", holdDef)
	s := executions.NewStarterFromClient(env.StepFunctions, machine)
	web := rollout.GroupKey{Region: "us-east-1", Name: "web"}
	at := time.Date(2026, 3, 2, 3, 17, 0, 0, time.UTC)
	for _, req := range []rollout.Request{
		{RolloutID: "manual-web-ami-1", Group: web, Mode: rollout.ModeImage, ImageID: "ami-0123456789abcdef0",
			Trigger: rollout.Trigger{Kind: rollout.TriggerManual, Source: "arn:aws:iam::123456789012:user/ops"}},
		{RolloutID: rollout.ExecutionName("rvt", "r-42", "r-42"), Group: web, Mode: rollout.ModeRevert, Version: 7,
			Trigger: rollout.Trigger{Kind: "alarm", Source: "arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-5xx", EventID: "ev-1"}},
		{RolloutID: "rcy-web-1", Group: web, Mode: rollout.ModeRecycle, StartAt: at,
			Trigger: rollout.Trigger{Kind: "schedule", Source: "arn:aws:events:us-east-1:123456789012:rule/phoenix-recycle", EventID: "ev-2"}},
	} {
		t.Run(string(req.Mode), func(t *testing.T) {
			arn, started, err := s.StartRollout(ctx, req)
			if err != nil || !started {
				t.Fatalf("start: %s %v %v", arn, started, err)
			}
			if !strings.HasSuffix(arn, ":execution:phoenix-rollout:"+req.RolloutID) {
				t.Errorf("execution %s is not named after the rollout id %s", arn, req.RolloutID)
			}
			out, err := env.StepFunctions.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(out.Name) != req.RolloutID || aws.ToString(out.StateMachineArn) != machine {
				t.Errorf("execution %s of %s, want %s of %s", aws.ToString(out.Name), aws.ToString(out.StateMachineArn), req.RolloutID, machine)
			}
			// The input is {"request": ...} and nothing else (design.md),
			// byte for byte what alarms, recycle and the CLI started before.
			if in, want := aws.ToString(out.Input), string(mustJSON(t, map[string]rollout.Request{"request": req})); in != want {
				t.Errorf("input\n %s\nwant\n %s", in, want)
			}
			var doc struct {
				Request rollout.Request `json:"request"`
			}
			dec := json.NewDecoder(strings.NewReader(aws.ToString(out.Input)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&doc); err != nil {
				t.Fatalf("input %s: %v", aws.ToString(out.Input), err)
			}
			if !doc.Request.StartAt.Equal(req.StartAt) {
				t.Errorf("startAt %s, want %s", doc.Request.StartAt, req.StartAt)
			}
			got, want := doc.Request, req
			got.StartAt, want.StartAt = time.Time{}, time.Time{}
			if got != want {
				t.Errorf("request\n %+v\nwant\n %+v", got, want)
			}
			again, started, err := s.StartRollout(ctx, req)
			if err != nil || started || again != arn {
				t.Errorf("the same request again: %s %v %v; want the existing %s, not started", again, started, err, arn)
			}
		})
	}
	if n := executionCount(t, env, machine); n != 3 {
		t.Errorf("%d executions, want 3", n)
	}
}

func TestStartRolloutRefusesABadRequestWithoutCallingStepFunctions(t *testing.T) {
	t.Parallel()
	env := cloudtest.New(t)
	machine := env.CreateStateMachine(t, "phoenix-rollout", holdDef)
	s := executions.NewStarterFromClient(env.StepFunctions, machine)
	good := rollout.Request{RolloutID: "r-1", Group: rollout.GroupKey{Region: "us-east-1", Name: "web"}, Mode: rollout.ModeRevert, Version: 3,
		Trigger: rollout.Trigger{Kind: rollout.TriggerManual, Source: "arn:aws:iam::123456789012:user/ops"}}
	for name, change := range map[string]func(*rollout.Request){
		"no rollout id":                     func(r *rollout.Request) { r.RolloutID = "" },
		"no group":                          func(r *rollout.Request) { r.Group.Name = "" },
		"a revert without a version":        func(r *rollout.Request) { r.Version = 0 },
		"an image rollout without an image": func(r *rollout.Request) { r.Mode = rollout.ModeImage },
		"an unknown mode":                   func(r *rollout.Request) { r.Mode = "sideways" },
		"an id Step Functions cannot name":  func(r *rollout.Request) { r.RolloutID = "r 1" },
		"an id over 80 characters":          func(r *rollout.Request) { r.RolloutID = strings.Repeat("r", rollout.MaxNameLength+1) },
	} {
		t.Run(name, func(t *testing.T) {
			req := good
			change(&req)
			var bad *rollout.BadInputError
			if _, _, err := s.StartRollout(context.Background(), req); !errors.As(err, &bad) {
				t.Fatalf("error %v (%T), want BadInputError", err, err)
			}
		})
	}
	if n := executionCount(t, env, machine); n != 0 {
		t.Errorf("%d executions started from bad requests", n)
	}
	if _, started, err := s.StartRollout(context.Background(), good); err != nil || !started {
		t.Fatalf("the good request: %v %v", started, err)
	}
}

// mustJSON is v encoded.
func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSpace(b)
}
