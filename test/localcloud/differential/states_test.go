package differential

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// moto records Step Functions executions without running them unless its
// state-machine parser is on ({"stepfunctions": {"execute_state_machine":
// true}} on /moto-api/config). Tests that need definitions validated,
// executions run or task tokens issued turn it on for their duration; the
// parser's executions run in real time, so they poll moto and advance the
// local cloud's clock. moto 5.2.1's parser fails StartExecution with HTTP
// 500 ("cannot pickle '_thread.RLock' object") on a state machine that
// already has an execution, so with the parser on each state machine gets
// one execution; the idempotency and listing test runs on moto's
// recording backend, where executions stay RUNNING until stopped.

func sfnClient(c aws.Config) *sfn.Client { return sfn.NewFromConfig(c) }

// sfnRole is the execution role of every state machine here; no deployment
// recorded it, so the local cloud's IAM enforcement leaves it alone.
const sfnRole = "arn:aws:iam::123456789012:role/phoenix"

const (
	sfnWaitDef  = `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"Next":"Done"},"Done":{"Type":"Succeed"}}}`
	sfnPassDef  = `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"ok":true},"ResultPath":"$.r","End":true}}}`
	sfnTokenDef = `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::sns:publish.waitForTaskToken",` +
		`"HeartbeatSeconds":3600,"Parameters":{"TopicArn":"arn:aws:sns:us-east-1:123456789012:tokens","Message.$":"$$.Task.Token"},"End":true}}}`
)

// sfnPair is newPair with moto's state-machine parser on or off.
func sfnPair(t *testing.T, parser bool) *pair {
	t.Helper()
	p := newPair(t)
	if parser {
		sfnMotoParser(t, true)
		t.Cleanup(func() { sfnMotoParser(t, false) })
	}
	return p
}

func sfnMotoParser(t *testing.T, on bool) {
	t.Helper()
	body := `{"stepfunctions": {"execute_state_machine": false}}`
	if on {
		body = strings.Replace(body, "false", "true", 1)
	}
	resp, err := http.Post(motoURL+"/moto-api/config", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("moto config: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("moto config: HTTP %d", resp.StatusCode)
	}
}

// sfnSame runs call on both sides and fails the test unless both observe
// want.
func sfnSame[R any](t *testing.T, p *pair, what string, want outcome, call func(*sfn.Client) (R, error)) (local, moto R) {
	t.Helper()
	l, m, lo, mo := both(t, p, sfnClient, call)
	if lo != mo || lo != want {
		t.Fatalf("%s: local cloud %+v, moto %+v; want %+v on both", what, lo, mo, want)
	}
	return l, m
}

func sfnErr(code string) outcome { return outcome{Code: code, Status: 400} }

// sfnCreate creates a state machine on both sides and returns its ARN,
// the same on both.
func sfnCreate(t *testing.T, p *pair, name, def string) string {
	t.Helper()
	l, m := sfnSame(t, p, "CreateStateMachine "+name, outcome{}, func(c *sfn.Client) (*sfn.CreateStateMachineOutput, error) {
		return c.CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{Name: aws.String(name), Definition: aws.String(def), RoleArn: aws.String(sfnRole)})
	})
	want := "arn:aws:states:us-east-1:123456789012:stateMachine:" + name
	if aws.ToString(l.StateMachineArn) != want || aws.ToString(m.StateMachineArn) != want || l.CreationDate == nil || m.CreationDate == nil {
		t.Fatalf("CreateStateMachine %s: local cloud %s, moto %s; want %s and a CreationDate", name, aws.ToString(l.StateMachineArn), aws.ToString(m.StateMachineArn), want)
	}
	return want
}

// sfnStart starts an execution on both sides, expecting want.
func sfnStart(t *testing.T, p *pair, sm, name, input string, want outcome) (local, moto *sfn.StartExecutionOutput) {
	t.Helper()
	return sfnSame(t, p, "StartExecution "+name, want, func(c *sfn.Client) (*sfn.StartExecutionOutput, error) {
		in := &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Input: aws.String(input)}
		if name != "" {
			in.Name = aws.String(name)
		}
		return c.StartExecution(context.Background(), in)
	})
}

// sfnSettle lets both sides run an execution until it leaves RUNNING or
// is waiting (on a timer or a task token): the local cloud's clock runs
// its due work, moto is polled for up to 10 s of wall time until
// DescribeExecution no longer says RUNNING or, with until, until it
// holds.
func sfnSettle(t *testing.T, p *pair, arn string, until func(*sfn.Client) bool) {
	t.Helper()
	p.Local.Advance(time.Second)
	c := sfnClient(p.MotoConfig)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if until != nil {
			if until(c) {
				return
			}
		} else {
			out, err := c.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
			if err != nil {
				t.Fatalf("moto: DescribeExecution: %v", err)
			}
			if out.Status != types.ExecutionStatusRunning {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("moto: execution %s did not settle in 10 s", arn)
}

// sfnJSONEqual compares two JSON documents by value.
func sfnJSONEqual(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// CreateStateMachine validates names and definitions and returns the ARN
// its name determines; DescribeStateMachine returns what was created,
// UpdateStateMachine replaces the definition, ListStateMachines pages
// through the region's machines.
func TestSFNStateMachineLifecycle(t *testing.T) {
	p := sfnPair(t, true)
	ctx := context.Background()
	sm := sfnCreate(t, p, "alpha", sfnPassDef)
	create := func(name, def string) func(*sfn.Client) (*sfn.CreateStateMachineOutput, error) {
		return func(c *sfn.Client) (*sfn.CreateStateMachineOutput, error) {
			return c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(name), Definition: aws.String(def), RoleArn: aws.String(sfnRole)})
		}
	}
	// The same name and definition again returns the machine; another
	// definition under the name is refused.
	l, m := sfnSame(t, p, "CreateStateMachine again", outcome{}, create("alpha", sfnPassDef))
	if aws.ToString(l.StateMachineArn) != sm || aws.ToString(m.StateMachineArn) != sm {
		t.Errorf("idempotent create: local cloud %s, moto %s", aws.ToString(l.StateMachineArn), aws.ToString(m.StateMachineArn))
	}
	// Another definition under the name: StateMachineAlreadyExists (API
	// reference, CreateStateMachine); moto answers with the existing
	// machine and keeps its definition.
	_, mo, lo, moo := both(t, p, sfnClient, create("alpha", sfnWaitDef))
	if lo != sfnErr("StateMachineAlreadyExists") {
		t.Errorf("local cloud: CreateStateMachine with another definition %+v, want StateMachineAlreadyExists", lo)
	}
	if moo != (outcome{}) || aws.ToString(mo.StateMachineArn) != sm {
		t.Errorf("moto: CreateStateMachine with another definition %+v %+v; moto 5.2.1 was seen to answer the existing machine", moo, mo)
	}
	// A definition that is not JSON: InvalidDefinition (API reference,
	// CreateStateMachine); moto answers the code UnknownError.
	if _, _, lo, mo := both(t, p, sfnClient, create("bad1", `{"StartAt":`)); lo != sfnErr("InvalidDefinition") || mo != sfnErr("UnknownError") {
		t.Errorf("CreateStateMachine with a definition that is not JSON: local cloud %+v, want InvalidDefinition; moto %+v, seen to answer UnknownError", lo, mo)
	}
	// Definitions that break the States Language: InvalidDefinition;
	// moto's parser answers UnknownError where it fails to parse and
	// accepts a StartAt that names no state ("" below: success).
	for _, tc := range []struct{ what, name, def, code, motoCode string }{
		{"no StartAt", "bad2", `{"States":{"P":{"Type":"Pass","End":true}}}`, "InvalidDefinition", "UnknownError"},
		{"StartAt naming no state", "bad3", `{"StartAt":"X","States":{"P":{"Type":"Pass","End":true}}}`, "InvalidDefinition", ""},
		{"an unknown state type", "bad4", `{"StartAt":"P","States":{"P":{"Type":"Nope","End":true}}}`, "InvalidDefinition", "UnknownError"},
		{"a name with a space", "bad name", sfnPassDef, "InvalidName", "InvalidName"},
	} {
		_, _, lo, mo := both(t, p, sfnClient, create(tc.name, tc.def))
		motoWant := outcome{}
		if tc.motoCode != "" {
			motoWant = sfnErr(tc.motoCode)
		}
		if lo != sfnErr(tc.code) || mo != motoWant {
			t.Errorf("CreateStateMachine with %s: local cloud %+v, want %s; moto %+v, seen to answer %s", tc.what, lo, tc.code, mo, tc.motoCode)
		}
	}

	describe := func(arn string, want outcome) (l, m *sfn.DescribeStateMachineOutput) {
		t.Helper()
		return sfnSame(t, p, "DescribeStateMachine "+arn, want, func(c *sfn.Client) (*sfn.DescribeStateMachineOutput, error) {
			return c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
		})
	}
	check := func(what string, l, m *sfn.DescribeStateMachineOutput, def string) {
		t.Helper()
		for side, d := range map[string]*sfn.DescribeStateMachineOutput{"local cloud": l, "moto": m} {
			if aws.ToString(d.StateMachineArn) != sm || aws.ToString(d.Name) != "alpha" || aws.ToString(d.Definition) != def ||
				aws.ToString(d.RoleArn) != sfnRole || d.Type != types.StateMachineTypeStandard || d.Status != types.StateMachineStatusActive || d.CreationDate == nil {
				t.Errorf("%s: %s: DescribeStateMachine %+v", what, side, d)
			}
		}
	}
	l2, m2 := describe(sm, outcome{})
	check("after create", l2, m2, sfnPassDef)
	describe(sm+"x", sfnErr("StateMachineDoesNotExist"))
	describe("arn:aws:states:us-east-1:123456789012:execution:alpha:x", sfnErr("InvalidArn"))

	ul, um := sfnSame(t, p, "UpdateStateMachine", outcome{}, func(c *sfn.Client) (*sfn.UpdateStateMachineOutput, error) {
		return c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(sm), Definition: aws.String(sfnWaitDef)})
	})
	if ul.UpdateDate == nil || um.UpdateDate == nil {
		t.Errorf("UpdateStateMachine: no UpdateDate (local cloud %v, moto %v)", ul.UpdateDate, um.UpdateDate)
	}
	l2, m2 = describe(sm, outcome{})
	check("after update", l2, m2, sfnWaitDef)
	// An invalid definition: InvalidDefinition; moto UnknownError.
	if _, _, lo, mo := both(t, p, sfnClient, func(c *sfn.Client) (*sfn.UpdateStateMachineOutput, error) {
		return c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(sm), Definition: aws.String(`{"StartAt":"X","States":{}}`)})
	}); lo != sfnErr("InvalidDefinition") || mo != sfnErr("UnknownError") {
		t.Errorf("UpdateStateMachine with an invalid definition: local cloud %+v, want InvalidDefinition; moto %+v, seen to answer UnknownError", lo, mo)
	}
	sfnSame(t, p, "UpdateStateMachine of a missing machine", sfnErr("StateMachineDoesNotExist"), func(c *sfn.Client) (*sfn.UpdateStateMachineOutput, error) {
		return c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(sm + "x"), Definition: aws.String(sfnPassDef)})
	})

	// ListStateMachines, two a page.
	sfnCreate(t, p, "beta", sfnPassDef)
	sfnCreate(t, p, "gamma", sfnPassDef)
	list := func(c *sfn.Client, side string) (names []string, pages []int) {
		var token *string
		for range 10 {
			out, err := c.ListStateMachines(ctx, &sfn.ListStateMachinesInput{MaxResults: 2, NextToken: token})
			if err != nil {
				t.Fatalf("%s: ListStateMachines: %v", side, err)
			}
			for _, it := range out.StateMachines {
				names = append(names, aws.ToString(it.Name))
				// moto leaves out the list item's type, a required member.
				wantType := types.StateMachineTypeStandard
				if side == "moto" {
					wantType = ""
				}
				if it.Type != wantType || it.CreationDate == nil ||
					aws.ToString(it.StateMachineArn) != "arn:aws:states:us-east-1:123456789012:stateMachine:"+aws.ToString(it.Name) {
					t.Errorf("%s: list item %+v", side, it)
				}
			}
			pages = append(pages, len(out.StateMachines))
			if token = out.NextToken; token == nil {
				break
			}
		}
		sort.Strings(names)
		return names, pages
	}
	ln, lp := list(sfnClient(p.LocalConfig), "local cloud")
	mn, mp := list(sfnClient(p.MotoConfig), "moto")
	// moto also lists bad3, whose definition it accepted above.
	want, motoWant := []string{"alpha", "beta", "gamma"}, []string{"alpha", "bad3", "beta", "gamma"}
	if !reflect.DeepEqual(ln, want) || !reflect.DeepEqual(mn, motoWant) || !reflect.DeepEqual(lp, []int{2, 1}) || !reflect.DeepEqual(mp, []int{2, 2}) {
		t.Errorf("ListStateMachines: local cloud %v pages %v, moto %v pages %v; want %v in pages [2 1] (moto %v in [2 2])", ln, lp, mn, mp, want, motoWant)
	}
}

// sfnExec is what a client compares of DescribeExecution.
type sfnExec struct {
	Arn, Machine, Name, Status, Input, Error, Cause string
	Stopped                                         bool
}

func sfnDescribe(t *testing.T, p *pair, arn string) (local, moto sfnExec, lOut, mOut *sfn.DescribeExecutionOutput) {
	t.Helper()
	l, m := sfnSame(t, p, "DescribeExecution", outcome{}, func(c *sfn.Client) (*sfn.DescribeExecutionOutput, error) {
		return c.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	})
	view := func(side string, d *sfn.DescribeExecutionOutput) sfnExec {
		if d.StartDate == nil {
			t.Errorf("%s: execution has no StartDate", side)
		}
		in := aws.ToString(d.Input)
		var v any
		if json.Unmarshal([]byte(in), &v) == nil {
			b, _ := json.Marshal(v)
			in = string(b)
		}
		return sfnExec{Arn: aws.ToString(d.ExecutionArn), Machine: aws.ToString(d.StateMachineArn), Name: aws.ToString(d.Name),
			Status: string(d.Status), Input: in, Error: aws.ToString(d.Error), Cause: aws.ToString(d.Cause), Stopped: d.StopDate != nil}
	}
	return view("local cloud", l), view("moto", m), l, m
}

// StartExecution is idempotent by name for a running execution with the
// same input; a different input, or any input once the execution has
// closed, is ExecutionAlreadyExists (API reference, StartExecution).
// DescribeExecution, ListExecutions (newest first, status filter) and
// StopExecution follow the execution.
func TestSFNExecutions(t *testing.T) {
	p := sfnPair(t, false)
	ctx := context.Background()
	sm := sfnCreate(t, p, "waiter", sfnWaitDef)
	arn := "arn:aws:states:us-east-1:123456789012:execution:waiter:run-1"
	l, m := sfnStart(t, p, sm, "run-1", `{"a":1}`, outcome{})
	if aws.ToString(l.ExecutionArn) != arn || aws.ToString(m.ExecutionArn) != arn || l.StartDate == nil || m.StartDate == nil {
		t.Fatalf("StartExecution: local cloud %s, moto %s; want %s", aws.ToString(l.ExecutionArn), aws.ToString(m.ExecutionArn), arn)
	}
	sfnSettle(t, p, arn, func(c *sfn.Client) bool { return true })
	l, m = sfnStart(t, p, sm, "run-1", `{"a":1}`, outcome{})
	if aws.ToString(l.ExecutionArn) != arn || aws.ToString(m.ExecutionArn) != arn {
		t.Errorf("idempotent StartExecution: local cloud %s, moto %s", aws.ToString(l.ExecutionArn), aws.ToString(m.ExecutionArn))
	}
	sfnStart(t, p, sm, "run-1", `{"a":2}`, sfnErr("ExecutionAlreadyExists"))
	sfnStart(t, p, sm, "bad name", `{}`, sfnErr("InvalidName"))
	sfnStart(t, p, sm, "bad-input", `{"a":`, sfnErr("InvalidExecutionInput"))
	sfnStart(t, p, sm+"x", "run-x", `{}`, sfnErr("StateMachineDoesNotExist"))

	le, me, _, _ := sfnDescribe(t, p, arn)
	want := sfnExec{Arn: arn, Machine: sm, Name: "run-1", Status: "RUNNING", Input: `{"a":1}`}
	if le != want || me != want {
		t.Errorf("running execution:\nlocal cloud %+v\nmoto        %+v\nwant        %+v", le, me, want)
	}
	sfnStart(t, p, sm, "run-2", `{}`, outcome{})
	sfnSettle(t, p, arn, func(c *sfn.Client) bool { return true })

	// Stop run-1 with an error and a cause.
	sl, sm2 := sfnSame(t, p, "StopExecution", outcome{}, func(c *sfn.Client) (*sfn.StopExecutionOutput, error) {
		return c.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(arn), Error: aws.String("Halted"), Cause: aws.String("operator")})
	})
	if sl.StopDate == nil || sm2.StopDate == nil {
		t.Errorf("StopExecution: no StopDate (local cloud %v, moto %v)", sl.StopDate, sm2.StopDate)
	}
	sfnSettle(t, p, arn, nil)
	le, me, _, _ = sfnDescribe(t, p, arn)
	// The local cloud reports the error and cause StopExecution was given;
	// moto's recording backend drops them (docs/local-cloud-vs-moto.md).
	want = sfnExec{Arn: arn, Machine: sm, Name: "run-1", Status: "ABORTED", Input: `{"a":1}`, Error: "Halted", Cause: "operator", Stopped: true}
	motoWant := want
	motoWant.Error, motoWant.Cause = "", ""
	if le != want || me != motoWant {
		t.Errorf("stopped execution:\nlocal cloud %+v\nmoto        %+v\nwant        %+v (moto %+v)", le, me, want, motoWant)
	}
	// The name stays taken once the execution has closed, whatever the input.
	sfnStart(t, p, sm, "run-1", `{"a":1}`, sfnErr("ExecutionAlreadyExists"))

	// ListExecutions: newest first, with and without a status filter.
	list := func(filter types.ExecutionStatus) (l, m []string) {
		t.Helper()
		lo, mo := sfnSame(t, p, "ListExecutions "+string(filter), outcome{}, func(c *sfn.Client) (*sfn.ListExecutionsOutput, error) {
			return c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm), StatusFilter: filter})
		})
		for _, x := range lo.Executions {
			l = append(l, aws.ToString(x.Name)+":"+string(x.Status))
		}
		for _, x := range mo.Executions {
			m = append(m, aws.ToString(x.Name)+":"+string(x.Status))
		}
		return l, m
	}
	for _, tc := range []struct {
		filter types.ExecutionStatus
		want   []string
	}{
		{"", []string{"run-2:RUNNING", "run-1:ABORTED"}},
		{types.ExecutionStatusRunning, []string{"run-2:RUNNING"}},
		{types.ExecutionStatusAborted, []string{"run-1:ABORTED"}},
		{types.ExecutionStatusSucceeded, nil},
	} {
		l, m := list(tc.filter)
		if !reflect.DeepEqual(l, tc.want) || !reflect.DeepEqual(m, tc.want) {
			t.Errorf("ListExecutions %q: local cloud %v, moto %v; want %v", tc.filter, l, m, tc.want)
		}
	}
	sfnSame(t, p, "ListExecutions of a missing machine", sfnErr("StateMachineDoesNotExist"), func(c *sfn.Client) (*sfn.ListExecutionsOutput, error) {
		return c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm + "x")})
	})
	sfnSame(t, p, "DescribeExecution of a missing execution", sfnErr("ExecutionDoesNotExist"), func(c *sfn.Client) (*sfn.DescribeExecutionOutput, error) {
		return c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn + "x")})
	})
	sfnSame(t, p, "StopExecution of a missing execution", sfnErr("ExecutionDoesNotExist"), func(c *sfn.Client) (*sfn.StopExecutionOutput, error) {
		return c.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(arn + "x")})
	})
}

// sfnEvent is what a client compares of a history event.
type sfnEvent struct {
	ID, Previous int64
	Type         string
}

func sfnHistory(t *testing.T, c *sfn.Client, side, arn string, reverse bool, size int32) (events []sfnEvent, pages int) {
	t.Helper()
	var out []sfnEvent
	var token *string
	for range 20 {
		pages++
		h, err := c.GetExecutionHistory(context.Background(), &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), ReverseOrder: reverse, MaxResults: size, NextToken: token})
		if err != nil {
			t.Fatalf("%s: GetExecutionHistory: %v", side, err)
		}
		for _, e := range h.Events {
			if e.Timestamp == nil {
				t.Errorf("%s: event %d has no timestamp", side, e.Id)
			}
			out = append(out, sfnEvent{ID: e.Id, Previous: e.PreviousEventId, Type: string(e.Type)})
		}
		if token = h.NextToken; token == nil {
			return out, pages
		}
	}
	t.Fatalf("%s: GetExecutionHistory did not end in 20 pages", side)
	return nil, 0
}

// A Pass execution runs to SUCCEEDED with the same output; its history is
// the same sequence of events, oldest first or reversed, paged.
func TestSFNExecutionOutputAndHistory(t *testing.T) {
	p := sfnPair(t, true)
	sm := sfnCreate(t, p, "passer", sfnPassDef)
	l, _ := sfnStart(t, p, sm, "", `{"x":"y"}`, outcome{})
	// Without a name each side picks a unique one (a UUID on AWS).
	if !strings.HasPrefix(aws.ToString(l.ExecutionArn), "arn:aws:states:us-east-1:123456789012:execution:passer:") {
		t.Errorf("local cloud: unnamed execution ARN %s", aws.ToString(l.ExecutionArn))
	}
	lc, mc := sfnClient(p.LocalConfig), sfnClient(p.MotoConfig)
	ml, err := mc.ListExecutions(context.Background(), &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm)})
	if err != nil || len(ml.Executions) != 1 {
		t.Fatalf("moto: ListExecutions %v %v", ml, err)
	}
	marn := aws.ToString(ml.Executions[0].ExecutionArn)
	sfnSettle(t, p, marn, nil)
	ld, err := lc.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: l.ExecutionArn})
	if err != nil {
		t.Fatal(err)
	}
	md, err := mc.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(marn)})
	if err != nil {
		t.Fatal(err)
	}
	wantOut := `{"x":"y","r":{"ok":true}}`
	if ld.Status != types.ExecutionStatusSucceeded || md.Status != types.ExecutionStatusSucceeded ||
		!sfnJSONEqual(aws.ToString(ld.Output), wantOut) || !sfnJSONEqual(aws.ToString(md.Output), wantOut) || ld.StopDate == nil || md.StopDate == nil {
		t.Errorf("finished execution: local cloud %s %s, moto %s %s; want SUCCEEDED %s", ld.Status, aws.ToString(ld.Output), md.Status, aws.ToString(md.Output), wantOut)
	}
	// The first state's entered event follows no event (previousEventId 0).
	want := []sfnEvent{{1, 0, "ExecutionStarted"}, {2, 0, "PassStateEntered"}, {3, 2, "PassStateExited"}, {4, 3, "ExecutionSucceeded"}}
	reversed := []sfnEvent{want[3], want[2], want[1], want[0]}
	for _, tc := range []struct {
		reverse bool
		size    int32
		want    []sfnEvent
	}{{false, 0, want}, {true, 0, reversed}, {false, 3, want}, {true, 1, reversed}} {
		lh, lp := sfnHistory(t, lc, "local cloud", aws.ToString(l.ExecutionArn), tc.reverse, tc.size)
		mh, mp := sfnHistory(t, mc, "moto", marn, tc.reverse, tc.size)
		// moto ignores ReverseOrder: its history is oldest first always
		// (docs/local-cloud-vs-moto.md).
		motoWant := want
		if !reflect.DeepEqual(lh, tc.want) || !reflect.DeepEqual(mh, motoWant) {
			t.Errorf("history reverse=%v size=%d:\nlocal cloud %+v\nmoto        %+v\nwant        %+v (moto: %+v)", tc.reverse, tc.size, lh, mh, tc.want, motoWant)
		}
		// MaxResults pages the history on the local cloud; moto ignores it
		// and answers one page.
		wantPages := 1
		if tc.size > 0 {
			wantPages = (len(want) + int(tc.size) - 1) / int(tc.size)
		}
		if lp != wantPages || mp != 1 {
			t.Errorf("history reverse=%v size=%d: local cloud %d pages, want %d; moto %d, seen to be 1", tc.reverse, tc.size, lp, wantPages, mp)
		}
	}
}

// sfnToken reads the task token a waitForTaskToken task published: the
// Message parameter of its TaskScheduled event.
func sfnToken(t *testing.T, c *sfn.Client, side, arn string) string {
	t.Helper()
	h, err := c.GetExecutionHistory(context.Background(), &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn)})
	if err != nil {
		t.Fatalf("%s: GetExecutionHistory: %v", side, err)
	}
	for _, e := range h.Events {
		if e.Type == types.HistoryEventTypeTaskScheduled {
			var params struct{ Message string }
			if err := json.Unmarshal([]byte(aws.ToString(e.TaskScheduledEventDetails.Parameters)), &params); err != nil || params.Message == "" {
				t.Fatalf("%s: TaskScheduled parameters %s: %v", side, aws.ToString(e.TaskScheduledEventDetails.Parameters), err)
			}
			return params.Message
		}
	}
	t.Fatalf("%s: no TaskScheduled event in %s", side, arn)
	return ""
}

// sfnParked starts, on a fresh pair with moto's parser on, one execution
// of a machine whose task waits for its token (published to an SNS topic,
// read back from the TaskScheduled event), and returns the execution's ARN
// and each side's token. moto's parser runs one execution per reset (see
// the top of this file), so each test parks one.
func sfnParked(t *testing.T) (p *pair, sm, arn string, tokens map[string]string) {
	t.Helper()
	p = sfnPair(t, true)
	ctx := context.Background()
	for _, cfg := range []aws.Config{p.LocalConfig, p.MotoConfig} {
		if _, err := sns.NewFromConfig(cfg).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("tokens")}); err != nil {
			t.Fatalf("CreateTopic: %v", err)
		}
	}
	sm = sfnCreate(t, p, "waits", sfnTokenDef)
	arn = "arn:aws:states:us-east-1:123456789012:execution:waits:parked"
	sfnStart(t, p, sm, "parked", `{"n":1}`, outcome{})
	// Parked once the TaskSubmitted event is in moto's history.
	sfnSettle(t, p, arn, func(c *sfn.Client) bool {
		h, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn)})
		if err != nil {
			t.Fatalf("moto: GetExecutionHistory: %v", err)
		}
		for _, e := range h.Events {
			if e.Type == types.HistoryEventTypeTaskSubmitted || e.Type == types.HistoryEventTypeExecutionFailed {
				return true
			}
		}
		return false
	})
	return p, sm, arn, map[string]string{
		"local": sfnToken(t, sfnClient(p.LocalConfig), "local cloud", arn),
		"moto":  sfnToken(t, sfnClient(p.MotoConfig), "moto", arn),
	}
}

// sfnEnded checks a call made with the token of a task that has ended:
// AWS and the local cloud answer TaskTimedOut ("Provided task does not
// exist anymore"), moto InvalidToken (docs/local-cloud-vs-moto.md).
func sfnEnded(t *testing.T, p *pair, tokens map[string]string, what string, call func(c *sfn.Client, token string) error) {
	t.Helper()
	lo, mo := observe(call(sfnClient(p.LocalConfig), tokens["local"])), observe(call(sfnClient(p.MotoConfig), tokens["moto"]))
	if lo != sfnErr("TaskTimedOut") {
		t.Errorf("local cloud: %s with an ended task's token: %+v, want TaskTimedOut", what, lo)
	}
	if mo != sfnErr("InvalidToken") {
		t.Errorf("moto: %s with an ended task's token: %+v; moto 5.2.1 was seen to answer InvalidToken", what, mo)
	}
}

// A token never issued is InvalidToken on both, for SendTaskSuccess,
// SendTaskFailure and SendTaskHeartbeat; a live token takes a heartbeat
// and SendTaskSuccess, which completes the task with its output; after
// that the token's task has ended (sfnEnded).
func TestSFNTaskTokenSuccess(t *testing.T) {
	p, _, arn, tokens := sfnParked(t)
	ctx := context.Background()
	unknown := "AAAAKgAAAAIAAAAAAAAAAQ-never-issued"
	sfnSame(t, p, "SendTaskSuccess with an unknown token", sfnErr("InvalidToken"), func(c *sfn.Client) (*sfn.SendTaskSuccessOutput, error) {
		return c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(unknown), Output: aws.String(`{}`)})
	})
	sfnSame(t, p, "SendTaskFailure with an unknown token", sfnErr("InvalidToken"), func(c *sfn.Client) (*sfn.SendTaskFailureOutput, error) {
		return c.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(unknown), Error: aws.String("E")})
	})
	sfnSame(t, p, "SendTaskHeartbeat with an unknown token", sfnErr("InvalidToken"), func(c *sfn.Client) (*sfn.SendTaskHeartbeatOutput, error) {
		return c.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(unknown)})
	})
	for side, c := range map[string]*sfn.Client{"local": sfnClient(p.LocalConfig), "moto": sfnClient(p.MotoConfig)} {
		if _, err := c.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(tokens[side])}); err != nil {
			t.Errorf("%s: SendTaskHeartbeat on a live token: %v", side, err)
		}
		if _, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tokens[side]), Output: aws.String(`{"done":true}`)}); err != nil {
			t.Errorf("%s: SendTaskSuccess on a live token: %v", side, err)
		}
	}
	sfnSettle(t, p, arn, nil)
	le, me, ld, md := sfnDescribe(t, p, arn)
	if le.Status != "SUCCEEDED" || me.Status != "SUCCEEDED" || !sfnJSONEqual(aws.ToString(ld.Output), `{"done":true}`) || !sfnJSONEqual(aws.ToString(md.Output), `{"done":true}`) {
		t.Errorf("after SendTaskSuccess: local cloud %s %s, moto %s %s", le.Status, aws.ToString(ld.Output), me.Status, aws.ToString(md.Output))
	}
	sfnEnded(t, p, tokens, "SendTaskSuccess", func(c *sfn.Client, tok string) error {
		_, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok), Output: aws.String(`{}`)})
		return err
	})
	sfnEnded(t, p, tokens, "SendTaskHeartbeat", func(c *sfn.Client, tok string) error {
		_, err := c.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(tok)})
		return err
	})
}

// SendTaskFailure fails the task, and with it the execution, with the
// error and cause given; after that the token's task has ended.
func TestSFNTaskTokenFailure(t *testing.T) {
	p, sm, arn, tokens := sfnParked(t)
	ctx := context.Background()
	for side, c := range map[string]*sfn.Client{"local": sfnClient(p.LocalConfig), "moto": sfnClient(p.MotoConfig)} {
		if _, err := c.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(tokens[side]), Error: aws.String("Refused"), Cause: aws.String("by test")}); err != nil {
			t.Errorf("%s: SendTaskFailure: %v", side, err)
		}
	}
	sfnSettle(t, p, arn, nil)
	le, me, _, _ := sfnDescribe(t, p, arn)
	// The execution fails with the task's error and cause; moto's
	// DescribeExecution keeps the error and drops the cause.
	want := sfnExec{Arn: arn, Machine: sm, Name: "parked", Status: "FAILED", Input: `{"n":1}`, Error: "Refused", Cause: "by test", Stopped: true}
	motoWant := want
	motoWant.Cause = ""
	if le != want || me != motoWant {
		t.Errorf("after SendTaskFailure:\nlocal cloud %+v\nmoto        %+v\nwant        %+v (moto %+v)", le, me, want, motoWant)
	}
	// SendTaskFailure with the ended task's token: TaskTimedOut on the
	// local cloud, as AWS; moto accepts it (it looks the token up in
	// closed executions too).
	fail := func(c *sfn.Client, tok string) error {
		_, err := c.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(tok), Error: aws.String("E")})
		return err
	}
	if lo, mo := observe(fail(sfnClient(p.LocalConfig), tokens["local"])), observe(fail(sfnClient(p.MotoConfig), tokens["moto"])); lo != sfnErr("TaskTimedOut") || mo != (outcome{}) {
		t.Errorf("SendTaskFailure with an ended task's token: local cloud %+v, want TaskTimedOut; moto %+v, seen to accept it", lo, mo)
	}
}
