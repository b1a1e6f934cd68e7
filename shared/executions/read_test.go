package executions_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/awserr"
	"github.com/phoenix-rollouts/phoenix/shared/executions"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
)

func TestTheReaderFollowsAnExecutionToItsEnd(t *testing.T) {
	t.Parallel()
	env := cloudtest.New(t)
	ctx := context.Background()
	machine := env.CreateStateMachine(t, "phoenix-rollout", holdDef)
	arn, _, err := executions.NewStarterFromClient(env.StepFunctions, machine).Start(ctx, "r-1", []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	r := executions.NewReaderFromClient(env.StepFunctions)
	ex, err := r.Execution(ctx, arn)
	if err != nil || !ex.Running() || ex.Status != "RUNNING" || ex.ARN != arn {
		t.Fatalf("a started execution: %+v %v", ex, err)
	}
	env.Advance(2 * time.Minute)
	if ex, err = r.Execution(ctx, arn); err != nil || ex.Running() || ex.Status != "SUCCEEDED" {
		t.Fatalf("an ended execution: %+v %v", ex, err)
	}
	var nf *rollout.NotFoundError
	if _, err := r.Execution(ctx, arn[:len(arn)-1]+"2"); !errors.As(err, &nf) || nf.Kind != "execution" {
		t.Fatalf("a missing execution: %v (%T), want a NotFoundError", err, err)
	}
}

func TestTheReaderReturnsAStateMachinesDefinition(t *testing.T) {
	t.Parallel()
	env := cloudtest.New(t)
	ctx := context.Background()
	machine := env.CreateStateMachine(t, "phoenix-rollout", holdDef)
	r := executions.NewReader(env.Config)
	def, err := r.Definition(ctx, machine)
	if err != nil {
		t.Fatal(err)
	}
	var got, want any
	if err := json.Unmarshal([]byte(def), &got); err != nil {
		t.Fatalf("definition %q: %v", def, err)
	}
	if err := json.Unmarshal([]byte(holdDef), &want); err != nil {
		t.Fatal(err)
	}
	if g, w := mustJSON(t, got), mustJSON(t, want); string(g) != string(w) {
		t.Errorf("definition %s, want %s", g, w)
	}
	// The CLI reports a missing state machine as a missing stack by its
	// code, so the code must survive.
	_, err = r.Definition(ctx, machine+"-gone")
	var nf *rollout.NotFoundError
	if code := awserr.Code(err); code != "StateMachineDoesNotExist" || errors.As(err, &nf) {
		t.Fatalf("a missing state machine: %v (code %q), want its code StateMachineDoesNotExist kept", err, code)
	}
}
