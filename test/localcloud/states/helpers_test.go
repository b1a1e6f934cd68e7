package states

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
)

// StepFunctionsAPI is the part of the Step Functions API the tests use,
// with the aws-sdk-go-v2 signatures: the rule tests run against a real sfn
// client pointed at the local cloud too.
type StepFunctionsAPI interface {
	CreateStateMachine(ctx context.Context, in *sfn.CreateStateMachineInput, optFns ...func(*sfn.Options)) (*sfn.CreateStateMachineOutput, error)
	UpdateStateMachine(ctx context.Context, in *sfn.UpdateStateMachineInput, optFns ...func(*sfn.Options)) (*sfn.UpdateStateMachineOutput, error)
	DescribeStateMachine(ctx context.Context, in *sfn.DescribeStateMachineInput, optFns ...func(*sfn.Options)) (*sfn.DescribeStateMachineOutput, error)
	DeleteStateMachine(ctx context.Context, in *sfn.DeleteStateMachineInput, optFns ...func(*sfn.Options)) (*sfn.DeleteStateMachineOutput, error)
	ListStateMachines(ctx context.Context, in *sfn.ListStateMachinesInput, optFns ...func(*sfn.Options)) (*sfn.ListStateMachinesOutput, error)
	StartExecution(ctx context.Context, in *sfn.StartExecutionInput, optFns ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	DescribeExecution(ctx context.Context, in *sfn.DescribeExecutionInput, optFns ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
	ListExecutions(ctx context.Context, in *sfn.ListExecutionsInput, optFns ...func(*sfn.Options)) (*sfn.ListExecutionsOutput, error)
	StopExecution(ctx context.Context, in *sfn.StopExecutionInput, optFns ...func(*sfn.Options)) (*sfn.StopExecutionOutput, error)
	GetExecutionHistory(ctx context.Context, in *sfn.GetExecutionHistoryInput, optFns ...func(*sfn.Options)) (*sfn.GetExecutionHistoryOutput, error)
	SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, optFns ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
	SendTaskFailure(ctx context.Context, in *sfn.SendTaskFailureInput, optFns ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error)
	SendTaskHeartbeat(ctx context.Context, in *sfn.SendTaskHeartbeatInput, optFns ...func(*sfn.Options)) (*sfn.SendTaskHeartbeatOutput, error)
}

var (
	_ StepFunctionsAPI = (*Service)(nil)
	_ StepFunctionsAPI = (*sfn.Client)(nil)
)

const testRole = "arn:aws:iam::123456789012:role/phoenix-states"

// reply is one scripted answer of a fake function.
type reply struct {
	output    any
	echo      bool   // return the payload
	errorType string // a function error
	message   string
	apiErr    error // an error of the Lambda service itself
}

// fakeLambda answers Invoke from a script per function name; the last reply
// repeats. It records every call.
type fakeLambda struct {
	mu      sync.Mutex
	script  map[string][]reply
	calls   map[string]int
	invoked []string
	payload map[string][]string
	onCall  func(fn string, payload []byte)
}

func newFakeLambda() *fakeLambda {
	return &fakeLambda{script: map[string][]reply{}, calls: map[string]int{}, payload: map[string][]string{}}
}

// on scripts the replies of the function whose name (last ARN segment) is fn.
func (f *fakeLambda) on(fn string, replies ...reply) *fakeLambda {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script[fn] = replies
	return f
}

func (f *fakeLambda) Invoke(ctx context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	name := aws.ToString(in.FunctionName)
	if i := strings.LastIndex(name, ":function:"); i >= 0 {
		name = name[i+len(":function:"):]
	}
	f.mu.Lock()
	n := f.calls[name]
	f.calls[name]++
	f.invoked = append(f.invoked, name)
	f.payload[name] = append(f.payload[name], string(in.Payload))
	replies := f.script[name]
	hook := f.onCall
	f.mu.Unlock()
	if hook != nil {
		hook(name, in.Payload)
	}
	if len(replies) == 0 {
		return nil, fmt.Errorf("fake lambda: no script for %s", name)
	}
	r := replies[min(n, len(replies)-1)]
	switch {
	case r.apiErr != nil:
		return nil, r.apiErr
	case r.errorType != "":
		body, _ := json.Marshal(map[string]string{"errorMessage": r.message, "errorType": r.errorType})
		return &lambda.InvokeOutput{StatusCode: 200, FunctionError: aws.String("Unhandled"), Payload: body}, nil
	case r.echo:
		return &lambda.InvokeOutput{StatusCode: 200, Payload: in.Payload}, nil
	}
	body, _ := json.Marshal(r.output)
	return &lambda.InvokeOutput{StatusCode: 200, Payload: body}, nil
}

// harness is a Service on a stepped clock.
type harness struct {
	t     *testing.T
	clock *clock.Sim
	svc   *Service
	api   StepFunctionsAPI
	ctx   context.Context
	// client gives a client for another region of the same cloud; pass
	// it a context for that region too.
	client func(region string) StepFunctionsAPI
	// created counts the machines made through create, to name the next.
	created int
}

// newHarness starts a TestCloud from backend whose tasks reach integ.
func newHarness(t *testing.T, backend Backend, integ Integrations) *harness {
	t.Helper()
	tc := backend(t, integ)
	return &harness{t: t, clock: tc.Clock, svc: tc.Model, api: tc.Client(api.DefaultRegion), ctx: context.Background(), client: tc.Client}
}

func fnArn(name string) string { return "arn:aws:lambda:us-east-1:123456789012:function:" + name }

// create makes a state machine from a definition and returns its ARN.
func (h *harness) create(name, definition string) string {
	h.t.Helper()
	out, err := h.api.CreateStateMachine(h.ctx, &sfn.CreateStateMachineInput{
		Name: aws.String(name), Definition: aws.String(definition), RoleArn: aws.String(testRole)})
	if err != nil {
		h.t.Fatalf("create state machine %s: %v", name, err)
	}
	h.created++
	return aws.ToString(out.StateMachineArn)
}

// start starts an execution and returns its ARN.
func (h *harness) start(machine, input string) string {
	h.t.Helper()
	out, err := h.api.StartExecution(h.ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(machine), Input: aws.String(input)})
	if err != nil {
		h.t.Fatalf("start execution: %v", err)
	}
	return aws.ToString(out.ExecutionArn)
}

func (h *harness) describe(exec string) *sfn.DescribeExecutionOutput {
	h.t.Helper()
	out, err := h.api.DescribeExecution(h.ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(exec)})
	if err != nil {
		h.t.Fatalf("describe execution: %v", err)
	}
	return out
}

// runToEnd advances simulated time until the execution closes (at most a
// simulated day) and returns its description.
func (h *harness) runToEnd(exec string) *sfn.DescribeExecutionOutput {
	h.t.Helper()
	if !h.clock.RunUntil(24*time.Hour, func() bool { return h.describe(exec).Status != types.ExecutionStatusRunning }) {
		h.t.Fatalf("execution %s still running after a simulated day; history: %v", exec, h.eventTypes(exec))
	}
	return h.describe(exec)
}

// runDef creates a machine, runs it with input and returns the description.
func (h *harness) runDef(definition, input string) (string, *sfn.DescribeExecutionOutput) {
	h.t.Helper()
	arn := h.create(fmt.Sprintf("m%d", h.created+1), definition)
	exec := h.start(arn, input)
	return exec, h.runToEnd(exec)
}

func (h *harness) history(exec string) []types.HistoryEvent {
	h.t.Helper()
	var all []types.HistoryEvent
	var token *string
	for {
		out, err := h.api.GetExecutionHistory(h.ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(exec), NextToken: token, MaxResults: 1000})
		if err != nil {
			h.t.Fatalf("get execution history: %v", err)
		}
		all = append(all, out.Events...)
		if out.NextToken == nil {
			return all
		}
		token = out.NextToken
	}
}

func (h *harness) eventTypes(exec string) []string {
	var out []string
	for _, ev := range h.history(exec) {
		out = append(out, string(ev.Type))
	}
	return out
}

// entered lists the names of the states entered, in history order.
func (h *harness) entered(exec string) []string {
	var out []string
	for _, ev := range h.history(exec) {
		if ev.StateEnteredEventDetails != nil {
			out = append(out, aws.ToString(ev.StateEnteredEventDetails.Name))
		}
	}
	return out
}

// assertJSON fails unless got (JSON text) equals want (JSON text) as JSON.
func assertJSON(t *testing.T, got *string, want string) {
	t.Helper()
	if got == nil {
		t.Fatalf("got no JSON, want %s", want)
	}
	g, err := parseJSON(*got)
	if err != nil {
		t.Fatalf("got invalid JSON %q: %v", *got, err)
	}
	w, err := parseJSON(want)
	if err != nil {
		t.Fatalf("bad expectation %q: %v", want, err)
	}
	if !jsonEqual(g, w) {
		t.Fatalf("got %s, want %s", *got, want)
	}
}

func mustParse(t *testing.T, s string) any {
	t.Helper()
	v, err := parseJSON(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return v
}

func equalStrings(a, b []string) bool {
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

func newStart(machine, name, input string) *sfn.StartExecutionInput {
	return &sfn.StartExecutionInput{StateMachineArn: aws.String(machine), Name: aws.String(name), Input: aws.String(input)}
}

func stopInput(exec string) *sfn.StopExecutionInput {
	return &sfn.StopExecutionInput{ExecutionArn: aws.String(exec)}
}
