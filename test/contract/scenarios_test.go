package contract_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/states"
)

// The scenarios run the rendered definition on the local cloud's Step
// Functions with scripted functions standing in for functions/<name>: they
// check the paths docs/design.md draws, not the steps' own logic.

// doc is the execution document (steps.State) as the scripted steps see it.
type doc = map[string]any

// call is one invocation of a scripted function.
type call struct {
	State doc    `json:"state"`
	Now   string `json:"now"`
	Token string `json:"token"`
}

// stepErr is a function error: aws-lambda-go reports errorType.
type stepErr struct{ Type, Message string }

func (e *stepErr) Error() string { return e.Type + ": " + e.Message }

// step answers one invocation with the next document or an error.
type step func(c call, n int) (doc, error)

// signal is one resume of a parked task, after a delay.
type signal struct {
	after time.Duration
	kind  string
}

// flow is one scripted execution.
type flow struct {
	t       *testing.T
	clk     *clock.Sim
	svc     *states.Service
	mu      sync.Mutex
	steps   map[string]step // by logical id
	calls   map[string]int
	signals []signal // resumes of Await and AwaitRevert, in order
	// request overrides the execution's request document.
	request string
}

func newFlow(t *testing.T) *flow {
	t.Helper()
	clk := clock.NewStepped(time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC))
	f := &flow{t: t, clk: clk, calls: map[string]int{}, steps: map[string]step{
		"PrepareFunction": func(c call, _ int) (doc, error) {
			c.State["rollout"] = doc{"rolloutId": "r-1", "status": "preparing"}
			return c.State, nil
		},
		"BusyFunction": func(c call, _ int) (doc, error) {
			// Busy is reached only with the LeaseHeldError Prepare's
			// retries ended on; it records the refusal and refuses.
			if getPath(c.State, "error", "Error") != "LeaseHeldError" {
				return nil, &stepErr{Type: "ScriptError", Message: fmt.Sprintf("Busy without a LeaseHeldError in $.error: %v", c.State["error"])}
			}
			return nil, &stepErr{Type: "PreflightError", Message: "the group stayed busy with another rollout"}
		},
		// StartRefresh, Validate and Poll write the next Await's timeout,
		// as the steps do (docs/design.md, "The Await timeout").
		"StartRefreshFunction": func(c call, _ int) (doc, error) {
			c.State["rollout"].(doc)["refreshId"] = "ir-1"
			c.State["awaitTimeoutSeconds"] = scriptedAwaitTimeout
			return c.State, nil
		},
		"ValidateFunction": func(c call, _ int) (doc, error) {
			c.State["verdict"], c.State["rechecks"] = "pass", 0
			c.State["awaitTimeoutSeconds"] = scriptedAwaitTimeout
			return c.State, nil
		},
		"PollFunction": func(c call, _ int) (doc, error) {
			c.State["signal"] = doc{"kind": "in-progress"}
			c.State["awaitTimeoutSeconds"] = scriptedAwaitTimeout
			return c.State, nil
		},
		"FinalizeFunction": func(c call, _ int) (doc, error) {
			c.State["rollout"].(doc)["status"] = "finalized"
			return c.State, nil
		},
		"PinFunction": func(c call, _ int) (doc, error) {
			c.State["rollout"].(doc)["status"] = "pinned"
			return c.State, nil
		},
		"RevertFunction": func(c call, _ int) (doc, error) {
			phase := "rollback"
			if getPath(c.State, "signal", "kind") == "rollback-succeeded" && getPath(c.State, "revert", "phase") != nil {
				phase = "done"
			}
			c.State["revert"] = doc{"phase": phase}
			return c.State, nil
		},
		// A blue/green pair's Shift waits twice (the steps), then asks to
		// finalize; SwitchBack reverts.
		"ShiftFunction": func(c call, n int) (doc, error) {
			next := "wait"
			if n >= 2 {
				next = "finalize"
			}
			if k, _ := getPath(c.State, "signal", "kind").(string); k == "alarm" || k == "halted" || k == "rollback-requested" {
				next = "rollback"
			}
			c.State["bluegreen"] = doc{"next": next}
			c.State["awaitTimeoutSeconds"] = 300
			return c.State, nil
		},
		"SwitchBackFunction": func(c call, _ int) (doc, error) {
			c.State["rollout"].(doc)["status"] = "reverted"
			return c.State, nil
		},
		"DirtyFunction": func(c call, _ int) (doc, error) {
			if c.State["rollout"] == nil {
				c.State["rollout"] = doc{}
			}
			c.State["rollout"].(doc)["status"] = "dirty"
			c.State["rollout"].(doc)["reason"] = fmt.Sprintf("revert failed: %v", getPath(c.State, "error", "Error"))
			return c.State, nil
		},
	}}
	f.svc = states.New(states.Options{Clock: clk, Seed: 1, Integrations: states.Integrations{Lambda: f}})
	return f
}

// on replaces a function's script.
func (f *flow) on(logicalID string, s step) *flow {
	f.steps[logicalID] = s
	return f
}

// resumes scripts the signals parked tasks receive, in order.
func (f *flow) resumes(s ...signal) *flow {
	f.signals = append(f.signals, s...)
	return f
}

// Invoke implements states.LambdaAPI with the scripts.
func (f *flow) Invoke(ctx context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	name := aws.ToString(in.FunctionName)
	name = name[strings.LastIndex(name, ":")+1:]
	var c call
	if err := json.Unmarshal(in.Payload, &c); err != nil {
		return nil, err
	}
	f.mu.Lock()
	n := f.calls[name]
	f.calls[name]++
	f.mu.Unlock()
	if name == "AwaitFunction" {
		f.park(c.Token)
		return &lambda.InvokeOutput{StatusCode: 200, Payload: []byte(`{}`)}, nil
	}
	s, ok := f.steps[name]
	if !ok {
		return nil, fmt.Errorf("no script for %s", name)
	}
	out, err := s(c, n)
	var e *stepErr
	if errors.As(err, &e) {
		body, _ := json.Marshal(map[string]string{"errorType": e.Type, "errorMessage": e.Message})
		return &lambda.InvokeOutput{StatusCode: 200, FunctionError: aws.String("Unhandled"), Payload: body}, nil
	}
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(out)
	return &lambda.InvokeOutput{StatusCode: 200, Payload: body}, err
}

// park resumes the token with the next scripted signal after its delay; with
// none left the task stays parked until its timeout.
func (f *flow) park(token string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.signals) == 0 {
		return
	}
	s := f.signals[0]
	f.signals = f.signals[1:]
	f.clk.After(s.after, "signal "+s.kind, func() {
		out := fmt.Sprintf(`{"kind":%q,"refreshId":"ir-1","at":%q}`, s.kind, f.clk.Now().Format(time.RFC3339))
		if _, err := f.svc.SendTaskSuccess(context.Background(), &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(out)}); err != nil {
			f.t.Errorf("resume with %s: %v", s.kind, err)
		}
	})
}

// outcome is how an execution ended and the path it took.
type outcome struct {
	status      sfntypes.ExecutionStatus
	path        []string
	error       string
	cause       string
	output      doc
	transitions int
	// entered is when each state was first entered.
	entered map[string]time.Time
}

// run executes the definition with a request and waits (in simulated time)
// for the end.
func (f *flow) run(definition string) outcome {
	f.t.Helper()
	ctx := context.Background()
	m, err := f.svc.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("phoenix-rollout"),
		Definition: aws.String(definition), RoleArn: aws.String(testRole)})
	if err != nil {
		f.t.Fatal(err)
	}
	request := f.request
	if request == "" {
		request = `{"rolloutId":"r-1","target":{"region":"us-east-1","group":"web"},"mode":"image","imageId":"ami-0abc"}`
	}
	x, err := f.svc.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: m.StateMachineArn,
		Input: aws.String(`{"request":` + request + `}`)})
	if err != nil {
		f.t.Fatal(err)
	}
	describe := func() *sfn.DescribeExecutionOutput {
		out, err := f.svc.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: x.ExecutionArn})
		if err != nil {
			f.t.Fatal(err)
		}
		return out
	}
	if !f.clk.RunUntil(7*24*time.Hour, func() bool { return describe().Status != sfntypes.ExecutionStatusRunning }) {
		f.t.Fatal("the execution still runs after a simulated week")
	}
	d := describe()
	o := outcome{status: d.Status, error: aws.ToString(d.Error), cause: aws.ToString(d.Cause), entered: map[string]time.Time{}}
	if d.Output != nil {
		_ = json.Unmarshal([]byte(*d.Output), &o.output)
	}
	var token *string
	for {
		h, err := f.svc.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: x.ExecutionArn, NextToken: token, MaxResults: 1000})
		if err != nil {
			f.t.Fatal(err)
		}
		for _, ev := range h.Events {
			if strings.HasSuffix(string(ev.Type), "StateEntered") {
				o.transitions++
				name := aws.ToString(ev.StateEnteredEventDetails.Name)
				o.path = append(o.path, name)
				if _, seen := o.entered[name]; !seen {
					o.entered[name] = aws.ToTime(ev.Timestamp)
				}
			}
		}
		if token = h.NextToken; token == nil {
			return o
		}
	}
}

// scriptedAwaitTimeout is the Await timeout the scripted steps write: the
// stack's default slow fallback poll, longer than every scripted gap
// between two signals.
const scriptedAwaitTimeout = 1500

// happyResumes are the events of a refresh with checkpoints 25, 50, 100 and
// a bake: AWS reports every checkpoint but 100.
var happyResumes = []signal{{20 * time.Minute, "checkpoint"}, {20 * time.Minute, "checkpoint"}, {20 * time.Minute, "baking"}, {15 * time.Minute, "succeeded"}}

func TestRolloutPaths(t *testing.T) {
	r := loadRepo(t)
	fail := func(typ string) step {
		return func(call, int) (doc, error) { return nil, &stepErr{Type: typ, Message: "scripted"} }
	}
	cases := []struct {
		name   string
		script func(*flow)
		status sfntypes.ExecutionStatus
		path   []string
		check  func(*testing.T, outcome)
	}{
		{
			name:   "a healthy rollout validates at each checkpoint and on success, then finalizes",
			script: func(f *flow) { f.resumes(happyResumes...) },
			status: sfntypes.ExecutionStatusSucceeded,
			path: []string{"Start", "Prepare", "Strategy", "StartRefresh",
				"Await", "Route", "Validate", "Verdict",
				"Await", "Route", "Validate", "Verdict",
				"Await", "Route",
				"Await", "Route", "Validate", "Verdict", "Finalize", "Finalized"},
			check: func(t *testing.T, o outcome) {
				if o.transitions > 60 {
					t.Errorf("%d state transitions; docs/design.md promises at most 60", o.transitions)
				}
				if getPath(o.output, "rollout", "status") != "finalized" {
					t.Errorf("output %v", o.output)
				}
			},
		},
		{
			name: "a group with nothing to validate is pinned at the end, never finalized",
			script: func(f *flow) {
				f.on("ValidateFunction", func(c call, _ int) (doc, error) {
					c.State["verdict"], c.State["rechecks"] = "unvalidated", 0
					return c.State, nil
				}).resumes(happyResumes...)
			},
			status: sfntypes.ExecutionStatusSucceeded,
			path: []string{"Start", "Prepare", "Strategy", "StartRefresh",
				"Await", "Route", "Validate", "Verdict",
				"Await", "Route", "Validate", "Verdict",
				"Await", "Route",
				"Await", "Route", "Validate", "Verdict", "Pin", "Pinned"},
			check: func(t *testing.T, o outcome) {
				if getPath(o.output, "rollout", "status") != "pinned" {
					t.Errorf("output %v", o.output)
				}
			},
		},
		{
			name: "a pin that fails after its retries reverts",
			script: func(f *flow) {
				f.on("ValidateFunction", func(c call, _ int) (doc, error) {
					c.State["verdict"], c.State["rechecks"] = "unvalidated", 0
					return c.State, nil
				}).on("PinFunction", fail("NotFoundError")).resumes(signal{20 * time.Minute, "succeeded"}, signal{10 * time.Minute, "rollback-succeeded"})
			},
			status: sfntypes.ExecutionStatusSucceeded,
			path: []string{"Start", "Prepare", "Strategy", "StartRefresh", "Await", "Route", "Validate", "Verdict", "Pin",
				"Revert", "RevertCheck", "AwaitRevert", "Revert", "RevertCheck", "Reverted"},
		},
		{
			name:   "a blue/green pair shifts, waiting between phases, then finalizes",
			script: func(f *flow) { f.on("PrepareFunction", pairPrepared) },
			status: sfntypes.ExecutionStatusSucceeded,
			path: []string{"Start", "Prepare", "Strategy",
				"Shift", "ShiftRoute", "ShiftAwait", "Shift", "ShiftRoute", "ShiftAwait", "Shift", "ShiftRoute", "FinalizePair", "Finalized"},
			check: func(t *testing.T, o outcome) {
				if got := o.entered["Shift"]; o.entered["FinalizePair"].Sub(got).Round(time.Second) != 600*time.Second {
					t.Errorf("the two waits took %s, want the 600 s the document asked for", o.entered["FinalizePair"].Sub(got))
				}
			},
		},
		{
			name: "an alarm while a pair shifts wakes Shift at once, which switches back",
			script: func(f *flow) {
				f.on("PrepareFunction", pairPrepared).resumes(signal{time.Minute, "alarm"})
			},
			status: sfntypes.ExecutionStatusSucceeded,
			path:   []string{"Start", "Prepare", "Strategy", "Shift", "ShiftRoute", "ShiftAwait", "Shift", "ShiftRoute", "SwitchBack", "SwitchBackCheck", "Reverted"},
		},
		{
			name: "the phase's wait runs out into Shift with the timeout in $.error",
			script: func(f *flow) {
				f.on("PrepareFunction", pairPrepared).on("ShiftFunction", func(c call, n int) (doc, error) {
					if n == 1 && getPath(c.State, "error", "Error") != "States.Timeout" {
						return nil, &stepErr{Type: "ScriptError", Message: fmt.Sprintf("error %v", c.State["error"])}
					}
					delete(c.State, "error")
					c.State["bluegreen"] = doc{"next": map[bool]string{true: "wait", false: "finalize"}[n == 0]}
					c.State["awaitTimeoutSeconds"] = 60
					return c.State, nil
				})
			},
			status: sfntypes.ExecutionStatusSucceeded,
			path:   []string{"Start", "Prepare", "Strategy", "Shift", "ShiftRoute", "ShiftAwait", "Shift", "ShiftRoute", "FinalizePair", "Finalized"},
		},
		{
			name:   "an unexpected error in Shift switches back",
			script: func(f *flow) { f.on("PrepareFunction", pairPrepared).on("ShiftFunction", fail("NotFoundError")) },
			status: sfntypes.ExecutionStatusSucceeded,
			path:   []string{"Start", "Prepare", "Strategy", "Shift", "SwitchBack", "SwitchBackCheck", "Reverted"},
		},
		{
			name: "a failed finalize of a pair switches back; a failed switch-back needs a human",
			script: func(f *flow) {
				f.on("PrepareFunction", pairPrepared).on("FinalizeFunction", fail("NotFoundError")).on("SwitchBackFunction", fail("NotFoundError"))
			},
			status: sfntypes.ExecutionStatusFailed,
			path: []string{"Start", "Prepare", "Strategy", "Shift", "ShiftRoute", "ShiftAwait", "Shift", "ShiftRoute", "ShiftAwait", "Shift", "ShiftRoute",
				"FinalizePair", "SwitchBack", "Dirty", "NeedsHuman"},
		},
		{
			name: "an unknown next goes back to the old group",
			script: func(f *flow) {
				f.on("PrepareFunction", pairPrepared).on("ShiftFunction", func(c call, _ int) (doc, error) {
					c.State["bluegreen"] = doc{"next": "sideways"}
					return c.State, nil
				})
			},
			status: sfntypes.ExecutionStatusSucceeded,
			path:   []string{"Start", "Prepare", "Strategy", "Shift", "ShiftRoute", "SwitchBack", "SwitchBackCheck", "Reverted"},
		},
		{
			name:   "a preflight refusal ends in Refused with nothing started",
			script: func(f *flow) { f.on("PrepareFunction", fail("PreflightError")) },
			status: sfntypes.ExecutionStatusSucceeded,
			path:   []string{"Start", "Prepare", "Refused"},
			check: func(t *testing.T, o outcome) {
				if getPath(o.output, "error", "Error") != "PreflightError" {
					t.Errorf("the refusal is not recorded in $.error: %v", o.output)
				}
			},
		},
		{
			name:   "a held lease is waited for, then refused",
			script: func(f *flow) { f.on("PrepareFunction", fail("LeaseHeldError")) },
			status: sfntypes.ExecutionStatusSucceeded,
			path:   []string{"Start", "Prepare", "Busy", "Refused"},
		},
		{
			name: "a lease released while Prepare waits lets the rollout go on",
			script: func(f *flow) {
				prepare := f.steps["PrepareFunction"]
				f.on("PrepareFunction", func(c call, n int) (doc, error) {
					if n < 3 {
						return nil, &stepErr{Type: "LeaseHeldError", Message: "held"}
					}
					return prepare(c, n)
				}).resumes(happyResumes...)
			},
			status: sfntypes.ExecutionStatusSucceeded,
		},
		{
			name:   "a foreign refresh on the group is refused",
			script: func(f *flow) { f.on("StartRefreshFunction", fail("ForeignRefreshError")) },
			status: sfntypes.ExecutionStatusSucceeded,
			path:   []string{"Start", "Prepare", "Strategy", "StartRefresh", "Refused"},
		},
		{
			name: "a failed validation at a checkpoint reverts and waits for the rollback",
			script: func(f *flow) {
				f.on("ValidateFunction", func(c call, _ int) (doc, error) {
					c.State["verdict"] = "fail"
					return c.State, nil
				}).resumes(signal{20 * time.Minute, "checkpoint"}, signal{10 * time.Minute, "rollback-succeeded"})
			},
			status: sfntypes.ExecutionStatusSucceeded,
			path: []string{"Start", "Prepare", "Strategy", "StartRefresh", "Await", "Route", "Validate", "Verdict",
				"Revert", "RevertCheck", "AwaitRevert", "Revert", "RevertCheck", "Reverted"},
		},
		{
			name: "an inconclusive validation is rechecked and passes",
			script: func(f *flow) {
				f.on("ValidateFunction", func(c call, n int) (doc, error) {
					c.State["verdict"], c.State["rechecks"] = "pass", 0
					if n == 0 {
						c.State["verdict"], c.State["rechecks"] = "inconclusive", 1
					}
					return c.State, nil
				}).resumes(happyResumes...)
			},
			status: sfntypes.ExecutionStatusSucceeded,
			check: func(t *testing.T, o outcome) {
				if !slices.Contains(o.path, "Recheck") {
					t.Errorf("no Recheck in %v", o.path)
				}
			},
		},
		{
			name: "an inconclusive validation past its rechecks reverts",
			script: func(f *flow) {
				f.on("ValidateFunction", func(c call, n int) (doc, error) {
					c.State["verdict"], c.State["rechecks"] = "inconclusive", n+1
					return c.State, nil
				}).resumes(signal{20 * time.Minute, "checkpoint"}, signal{10 * time.Minute, "rollback-succeeded"})
			},
			status: sfntypes.ExecutionStatusSucceeded,
			check: func(t *testing.T, o outcome) {
				if got := countOf(o.path, "Recheck"); got != 3 {
					t.Errorf("%d rechecks, want ValidationRechecks = 3: %v", got, o.path)
				}
				if o.path[len(o.path)-1] != "Reverted" {
					t.Errorf("ended in %s", o.path[len(o.path)-1])
				}
			},
		},
		{
			name: "a lost event is made up for by the poll after the Await timeout",
			script: func(f *flow) {
				// The refresh succeeds but its event never arrives.
				f.on("PollFunction", func(c call, _ int) (doc, error) {
					c.State["signal"] = doc{"kind": "succeeded"}
					return c.State, nil
				}).resumes(happyResumes[:3]...)
			},
			status: sfntypes.ExecutionStatusSucceeded,
			check: func(t *testing.T, o outcome) {
				want := []string{"Await", "Poll", "Route", "Validate", "Verdict", "Finalize", "Finalized"}
				if !slices.Equal(o.path[len(o.path)-len(want):], want) {
					t.Errorf("path %v does not end %v", o.path, want)
				}
			},
		},
		{
			name: "Await parks for the timeout the document gives, then polls",
			script: func(f *flow) {
				start := f.steps["StartRefreshFunction"]
				f.on("StartRefreshFunction", func(c call, n int) (doc, error) {
					st, err := start(c, n)
					st["awaitTimeoutSeconds"] = 570
					return st, err
				}).on("PollFunction", func(c call, _ int) (doc, error) {
					c.State["signal"] = doc{"kind": "succeeded"}
					return c.State, nil
				})
			},
			status: sfntypes.ExecutionStatusSucceeded,
			path:   []string{"Start", "Prepare", "Strategy", "StartRefresh", "Await", "Poll", "Route", "Validate", "Verdict", "Finalize", "Finalized"},
			check: func(t *testing.T, o outcome) {
				if got := o.entered["Poll"].Sub(o.entered["Await"]); got != 570*time.Second {
					t.Errorf("polled %s after Await was entered, want the document's 570 s", got)
				}
			},
		},
		{
			name: "a document without the Await timeout fails the execution, past every Catch",
			script: func(f *flow) {
				start := f.steps["StartRefreshFunction"]
				f.on("StartRefreshFunction", func(c call, n int) (doc, error) {
					st, err := start(c, n)
					delete(st, "awaitTimeoutSeconds")
					return st, err
				})
			},
			status: sfntypes.ExecutionStatusFailed,
			path:   []string{"Start", "Prepare", "Strategy", "StartRefresh", "Await"},
			check: func(t *testing.T, o outcome) {
				if o.error != "States.Runtime" {
					t.Errorf("error %q (%s), want States.Runtime: the steps must always write the timeout", o.error, o.cause)
				}
			},
		},
		{
			name: "an alarm during the refresh reverts",
			script: func(f *flow) {
				f.resumes(signal{5 * time.Minute, "alarm"}, signal{10 * time.Minute, "rollback-succeeded"})
			},
			status: sfntypes.ExecutionStatusSucceeded,
			path:   []string{"Start", "Prepare", "Strategy", "StartRefresh", "Await", "Route", "Revert", "RevertCheck", "AwaitRevert", "Revert", "RevertCheck", "Reverted"},
		},
		{
			name: "an unexpected error after the refresh started reverts",
			script: func(f *flow) {
				f.on("ValidateFunction", fail("NotFoundError")).resumes(happyResumes[0], signal{10 * time.Minute, "rollback-succeeded"})
			},
			status: sfntypes.ExecutionStatusSucceeded,
			path: []string{"Start", "Prepare", "Strategy", "StartRefresh", "Await", "Route", "Validate",
				"Revert", "RevertCheck", "AwaitRevert", "Revert", "RevertCheck", "Reverted"},
		},
		{
			name: "a failed revert ends dirty and needs a human, with the reason",
			script: func(f *flow) {
				f.on("ValidateFunction", func(c call, _ int) (doc, error) {
					c.State["verdict"] = "fail"
					return c.State, nil
				}).on("RevertFunction", fail("RevertFailedError")).resumes(happyResumes[0])
			},
			status: sfntypes.ExecutionStatusFailed,
			path:   []string{"Start", "Prepare", "Strategy", "StartRefresh", "Await", "Route", "Validate", "Verdict", "Revert", "Dirty", "NeedsHuman"},
			check: func(t *testing.T, o outcome) {
				if o.error != "Phoenix.NeedsHuman" || o.cause != "revert failed: RevertFailedError" {
					t.Errorf("error %q cause %q", o.error, o.cause)
				}
			},
		},
		{
			name: "a revert phase Phoenix does not know needs a human",
			script: func(f *flow) {
				f.on("ValidateFunction", func(c call, _ int) (doc, error) {
					c.State["verdict"] = "fail"
					return c.State, nil
				}).on("RevertFunction", func(c call, _ int) (doc, error) {
					c.State["revert"] = doc{"phase": "sideways"}
					return c.State, nil
				}).resumes(happyResumes[0])
			},
			status: sfntypes.ExecutionStatusFailed,
			path:   []string{"Start", "Prepare", "Strategy", "StartRefresh", "Await", "Route", "Validate", "Verdict", "Revert", "RevertCheck", "Dirty", "NeedsHuman"},
		},
		{
			name: "a request with startAt waits in Jitter until then, before anything is leased",
			script: func(f *flow) {
				f.request = `{"rolloutId":"r-1","target":{"region":"us-east-1","group":"web"},"mode":"recycle","startAt":"2026-03-01T02:17:30Z"}`
				f.resumes(happyResumes...)
			},
			status: sfntypes.ExecutionStatusSucceeded,
			check: func(t *testing.T, o outcome) {
				if !slices.Equal(o.path[:3], []string{"Start", "Jitter", "Prepare"}) || o.path[len(o.path)-1] != "Finalized" {
					t.Errorf("path %v", o.path)
				}
				if want := time.Date(2026, 3, 1, 2, 17, 30, 0, time.UTC); o.entered["Prepare"].Before(want) {
					t.Errorf("Prepare entered at %s, before startAt %s", o.entered["Prepare"], want)
				}
			},
		},
		{
			name: "a startAt in the past goes straight on",
			script: func(f *flow) {
				f.request = `{"rolloutId":"r-1","target":{"region":"us-east-1","group":"web"},"mode":"recycle","startAt":"2026-02-28T02:00:00Z"}`
				f.resumes(happyResumes...)
			},
			status: sfntypes.ExecutionStatusSucceeded,
			check: func(t *testing.T, o outcome) {
				if o.entered["Prepare"].Sub(o.entered["Start"]) > time.Second {
					t.Errorf("Prepare entered %s after Start", o.entered["Prepare"].Sub(o.entered["Start"]))
				}
			},
		},
		{
			name: "transient failures are retried in place",
			script: func(f *flow) {
				start := f.steps["StartRefreshFunction"]
				f.on("StartRefreshFunction", func(c call, n int) (doc, error) {
					if n < 2 {
						return nil, &stepErr{Type: "TransientError", Message: "Throttling"}
					}
					return start(c, n)
				}).resumes(happyResumes...)
			},
			status: sfntypes.ExecutionStatusSucceeded,
			check: func(t *testing.T, o outcome) {
				if countOf(o.path, "StartRefresh") != 1 || o.path[len(o.path)-1] != "Finalized" {
					t.Errorf("path %v", o.path)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFlow(t)
			tc.script(f)
			o := f.run(r.rendered)
			if o.status != tc.status {
				t.Fatalf("status %s (%s: %s), want %s; path %v", o.status, o.error, o.cause, tc.status, o.path)
			}
			if tc.path != nil && !slices.Equal(o.path, tc.path) {
				t.Errorf("path\n %v\nwant\n %v", o.path, tc.path)
			}
			if tc.check != nil {
				tc.check(t, o)
			}
		})
	}
}

// pairPrepared is Prepare for a blue/green pair.
func pairPrepared(c call, _ int) (doc, error) {
	c.State["rollout"] = doc{"rolloutId": "r-1", "status": "preparing", "strategy": "blue-green"}
	return c.State, nil
}

func countOf(list []string, s string) int {
	n := 0
	for _, e := range list {
		if e == s {
			n++
		}
	}
	return n
}
