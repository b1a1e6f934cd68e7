// Package states is the local cloud's AWS Step Functions: an interpreter of
// the Amazon States Language (JSONPath query language) that runs on the
// local cloud's simulated clock, the integrations Task states call (each
// behind a small interface), and the Step Functions API as methods with the
// aws-sdk-go-v2 sfn client signatures.
//
// Everything an execution does is an event on clock.Sim: a state runs when
// its turn comes, a Wait or a retry interval is a timer, a task's timeout and
// heartbeat are timers, and a task that calls an integration takes a
// clock.Hold for the duration of the call. With a stepped clock and a fixed
// seed the history of every execution is the same on every run.
//
// The Service's lock guards all state. Integrations are called without it,
// so that a function being invoked may call SendTaskSuccess (or any other
// API of the local cloud) while its task is in flight.
//
// With Options.Metrics set, every execution, a child started by a
// states:startExecution task included, publishes the AWS/States execution
// metrics under its own state machine (dimension StateMachineArn):
// ExecutionsStarted when it starts, and when it closes one of
// ExecutionsSucceeded, ExecutionsFailed, ExecutionsTimedOut or
// ExecutionsAborted (Count) with ExecutionTime (Milliseconds of simulated
// time from start to close). Not modelled: ExecutionThrottled, the redrive
// counts, and the activity, Lambda-task, service-integration and express
// workflow metrics.
package states

import (
	"context"
	"encoding/base64"
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
)

// DefaultAccount is the account the service answers as when none is set.
const DefaultAccount = "123456789012"

// Limits are the Step Functions quotas the engine enforces.
type Limits struct {
	// MaxHistoryEvents is the largest history an execution may have; the
	// execution fails when it would grow past it. 25,000 in AWS.
	MaxHistoryEvents int
	// MaxPayloadBytes bounds execution input, state input and output and
	// task results (States.DataLimitExceeded). 256 KiB in AWS.
	MaxPayloadBytes int
}

// DefaultLimits are the quotas of Standard workflows.
var DefaultLimits = Limits{MaxHistoryEvents: 25000, MaxPayloadBytes: 256 * 1024}

// Options configures a Service.
type Options struct {
	// Clock is the scheduler everything runs on. Required.
	Clock *clock.Sim
	// Seed makes generated names, task tokens, UUIDs, jitter and
	// States.MathRandom repeatable.
	Seed uint64
	// Account is the account id in ARNs; DefaultAccount if empty.
	Account string
	// Integrations are the services Task states call.
	Integrations Integrations
	// Limits overrides DefaultLimits where a field is non-zero.
	Limits Limits
	// Metrics, if set, receives the AWS/States execution metrics; none
	// are published if nil.
	Metrics MetricSink
}

// Service is the local cloud's Step Functions.
type Service struct {
	mu      sync.Mutex
	clock   *clock.Sim
	rng     *rand.Rand
	account string
	integ   Integrations
	limits  Limits
	metrics MetricSink

	machines   map[string]*stateMachine // by ARN
	executions map[string]*execution    // by ARN
	execOrder  []*execution             // in start order
	tokens     map[string]*taskCall
}

// New returns a Service with no state machines.
func New(opts Options) *Service {
	if opts.Clock == nil {
		panic("states.New: Options.Clock is required")
	}
	acct := opts.Account
	if acct == "" {
		acct = DefaultAccount
	}
	limits := DefaultLimits
	if opts.Limits.MaxHistoryEvents > 0 {
		limits.MaxHistoryEvents = opts.Limits.MaxHistoryEvents
	}
	if opts.Limits.MaxPayloadBytes > 0 {
		limits.MaxPayloadBytes = opts.Limits.MaxPayloadBytes
	}
	return &Service{
		clock:      opts.Clock,
		rng:        rand.New(rand.NewPCG(opts.Seed, 0x5f3759df)),
		account:    acct,
		integ:      opts.Integrations,
		limits:     limits,
		metrics:    opts.Metrics,
		machines:   map[string]*stateMachine{},
		executions: map[string]*execution{},
		tokens:     map[string]*taskCall{},
	}
}

// SetIntegrations replaces the services Task states call; the local cloud
// wires its models in after they are built.
func (s *Service) SetIntegrations(in Integrations) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.integ = in
}

// at schedules fn under the service lock.
func (s *Service) at(when time.Time, name string, fn func()) *clock.Timer {
	return s.clock.At(when, name, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		fn()
	})
}

func (s *Service) soon(name string, fn func()) *clock.Timer { return s.at(s.clock.Now(), name, fn) }

func (s *Service) uuid() string { return uuidFrom(s.rng) }

func (s *Service) requestID() string { return s.uuid() }

// stateMachine is a created state machine.
type stateMachine struct {
	arn, name, region string
	definition        string
	def               *Definition
	roleArn           string
	typ               types.StateMachineType
	created           time.Time
	revision          string
	logging           *types.LoggingConfiguration
	tracing           *types.TracingConfiguration
	deleting          bool
	running           int
}

// execution is one run of a state machine.
type execution struct {
	svc      *Service
	arn      string
	name     string
	region   string
	machine  *stateMachine
	def      *Definition
	roleArn  string
	input    string
	inputVal any
	status   types.ExecutionStatus
	start    time.Time
	stop     time.Time
	output   *string
	errName  *string
	cause    *string
	trace    *string
	events   []types.HistoryEvent
	root     *run
	timeout  *clock.Timer
	closed   bool
	// parent is the task that started this execution with
	// states:startExecution.sync, told when the execution closes.
	parent *taskCall
}

// run is one thread of states: the execution itself, a Parallel branch or a
// Map iteration.
type run struct {
	exec   *execution
	def    *Definition
	parent *composite
	index  int

	state      *State
	stateInput any
	entered    time.Time
	retries    []int
	retryTotal int
	prev       int64

	task    *taskCall
	timer   *clock.Timer
	comp    *composite
	aborted bool
	done    bool
}

func (r *run) alive() bool { return !r.aborted && !r.done && !r.exec.closed }

// composite is a Parallel or Map state waiting for its branches or
// iterations.
type composite struct {
	run       *run
	state     *State
	children  []*run
	results   []any
	items     []any
	input     any // effective input of the state
	next      int // next Map item to start
	active    int
	finished  int
	failed    int
	maxConc   int
	tolCount  int64 // -1: none tolerated unless tolPct says so
	tolPct    float64
	done      bool
	isMap     bool
	selectors []any
}

// context returns the context object seen by the run's current state.
func (r *run) context(token string) map[string]any {
	x := r.exec
	ctx := map[string]any{
		"Execution": map[string]any{
			"Id":           x.arn,
			"Input":        x.inputVal,
			"Name":         x.name,
			"RoleArn":      x.roleArn,
			"StartTime":    isoMillis(x.start),
			"RedriveCount": num(0),
		},
		"StateMachine": map[string]any{"Id": x.machine.arn, "Name": x.machine.name},
	}
	if r.state != nil {
		ctx["State"] = map[string]any{
			"Name":        r.state.Name,
			"EnteredTime": isoMillis(r.entered),
			"RetryCount":  num(float64(r.retryTotal)),
		}
	}
	if token != "" {
		ctx["Task"] = map[string]any{"Token": token}
	}
	return ctx
}

func (r *run) env(input any, ctx map[string]any) intrinsicEnv {
	return intrinsicEnv{input: input, ctx: ctx, rng: r.exec.svc.rng}
}

// checkSize enforces the payload quota on a value the run is about to pass on.
func (r *run) checkSize(v any, what string) *StateError {
	if n := len(toJSON(v)); n > r.exec.svc.limits.MaxPayloadBytes {
		return &StateError{Name: ErrDataLimitExceeded,
			Cause: "The state/task '" + r.state.Name + "' returned a result with a size exceeding the maximum number of bytes service limit (" + what + " is " + itoa(n) + " bytes)."}
	}
	return nil
}

// enter makes the run enter the named state with input.
func (x *execution) enter(r *run, name string, input any) {
	if !r.alive() {
		return
	}
	st := r.def.States[name]
	r.state, r.stateInput, r.entered = st, input, x.svc.clock.Now()
	r.retries = make([]int, len(st.Retry))
	r.retryTotal = 0
	x.emit(r, stateEnteredType(st.Type), func(ev *types.HistoryEvent) {
		ev.StateEnteredEventDetails = &types.StateEnteredEventDetails{
			Name: aws.String(name), Input: aws.String(toJSON(input)), InputDetails: notTruncated()}
	})
	if !r.alive() {
		return
	}
	x.execute(r)
}

// execute runs the current state (again, after a retry interval).
func (x *execution) execute(r *run) {
	st := r.state
	switch st.Type {
	case "Pass":
		x.execPass(r)
	case "Task":
		x.execTask(r)
	case "Choice":
		x.execChoice(r)
	case "Wait":
		x.execWait(r)
	case "Succeed":
		x.execSucceed(r)
	case "Fail":
		x.execFail(r)
	case "Parallel":
		x.execParallel(r)
	case "Map":
		x.execMap(r)
	}
}

// effectiveInput applies InputPath and Parameters to the state input.
func (r *run) effectiveInput(token string) (any, *StateError) {
	st := r.state
	ctx := r.context(token)
	in, err := st.InputPath.apply(r.stateInput, ctx, "InputPath")
	if err != nil {
		return nil, err
	}
	if st.Parameters != nil {
		v, err := st.Parameters.Eval(r.env(in, ctx))
		if err != nil {
			return nil, asStateError(err)
		}
		in = v
	}
	if st.Type == "Task" || st.Type == "Parallel" || st.Type == "Map" || st.Parameters != nil {
		if serr := r.checkSize(in, "the input"); serr != nil {
			return nil, serr
		}
	}
	return in, nil
}

func asStateError(err error) *StateError {
	var se *StateError
	if errors.As(err, &se) {
		return se
	}
	return runtimeErrorf("%v", err)
}

// finishResult applies ResultSelector, ResultPath and OutputPath to a
// state's result and moves on.
func (x *execution) finishResult(r *run, result any) {
	st := r.state
	ctx := r.context("")
	if st.ResultSelector != nil {
		v, err := st.ResultSelector.Eval(r.env(result, ctx))
		if err != nil {
			x.fail(r, asStateError(err))
			return
		}
		result = v
	}
	out, err := st.ResultPath.apply(r.stateInput, result)
	if err != nil {
		x.fail(r, err)
		return
	}
	out, err = st.OutputPath.apply(out, ctx, "OutputPath")
	if err != nil {
		x.fail(r, err)
		return
	}
	x.exit(r, out, st.Next)
}

// exit records the state's exit with output and transitions to next, or
// ends the run when the state is terminal.
func (x *execution) exit(r *run, output any, next string) {
	if !r.alive() {
		return
	}
	if serr := r.checkSize(output, "the output"); serr != nil {
		x.fail(r, serr)
		return
	}
	st := r.state
	x.emit(r, stateExitedType(st.Type), func(ev *types.HistoryEvent) {
		ev.StateExitedEventDetails = &types.StateExitedEventDetails{
			Name: aws.String(st.Name), Output: aws.String(toJSON(output)), OutputDetails: notTruncated()}
	})
	if !r.alive() {
		return
	}
	if next == "" || st.Type == "Succeed" {
		x.runSucceeded(r, output)
		return
	}
	x.enter(r, next, output)
}

// fail handles an error reported by the run's current state: a terminal
// error fails the execution, otherwise the state's Retry and Catch apply,
// and an error neither handles fails the run.
func (x *execution) fail(r *run, serr *StateError) {
	if !r.alive() {
		return
	}
	if serr.terminal() {
		x.finish(types.ExecutionStatusFailed, nil, serr)
		return
	}
	st := r.state
	for i, rt := range st.Retry {
		if !matchesAny(rt.ErrorEquals, serr.Name) {
			continue
		}
		if r.retries[i] >= rt.MaxAttempts {
			break
		}
		delay := rt.IntervalSeconds * math.Pow(rt.BackoffRate, float64(r.retries[i]))
		if rt.MaxDelaySeconds > 0 && delay > rt.MaxDelaySeconds {
			delay = rt.MaxDelaySeconds
		}
		if rt.JitterFull {
			delay *= x.svc.rng.Float64()
		}
		r.retries[i]++
		r.retryTotal++
		wait := time.Duration(delay * float64(time.Second))
		r.timer = x.svc.at(x.svc.clock.Now().Add(wait), "states:retry "+st.Name, func() {
			r.timer = nil
			if r.alive() {
				x.execute(r)
			}
		})
		return
	}
	for _, c := range st.Catch {
		if !matchesAny(c.ErrorEquals, serr.Name) {
			continue
		}
		errOut := map[string]any{"Error": serr.Name, "Cause": serr.Cause}
		out, err := c.ResultPath.apply(r.stateInput, errOut)
		if err != nil {
			x.finish(types.ExecutionStatusFailed, nil, err)
			return
		}
		x.exit(r, out, c.Next)
		return
	}
	x.runFailed(r, serr)
}

func matchesAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if errorMatches(p, name) {
			return true
		}
	}
	return false
}

// runSucceeded ends a run with output.
func (x *execution) runSucceeded(r *run, output any) {
	r.done = true
	if r.parent == nil {
		x.finish(types.ExecutionStatusSucceeded, output, nil)
		return
	}
	x.childDone(r.parent, r, output, nil)
}

// runFailed ends a run with an error.
func (x *execution) runFailed(r *run, serr *StateError) {
	r.done = true
	if r.parent == nil {
		x.finish(types.ExecutionStatusFailed, nil, serr)
		return
	}
	x.childDone(r.parent, r, nil, serr)
}

// finish closes the execution with a status and records the closing event.
func (x *execution) finish(status types.ExecutionStatus, output any, serr *StateError) {
	if x.closed {
		return
	}
	switch status {
	case types.ExecutionStatusSucceeded:
		if n := len(toJSON(output)); n > x.svc.limits.MaxPayloadBytes {
			status = types.ExecutionStatusFailed
			serr = &StateError{Name: ErrDataLimitExceeded, Cause: "The execution output exceeds the maximum number of bytes service limit (" + itoa(n) + " bytes)."}
		}
	}
	// The closing event is recorded before the execution is marked closed,
	// bypassing the history limit check that may have caused the close.
	ev := types.HistoryEvent{
		Id:        int64(len(x.events) + 1),
		Timestamp: aws.Time(x.svc.clock.Now()),
	}
	if n := len(x.events); n > 0 {
		ev.PreviousEventId = x.events[n-1].Id
	}
	x.closed = true
	x.status = status
	x.stop = x.svc.clock.Now()
	switch status {
	case types.ExecutionStatusSucceeded:
		s := toJSON(output)
		x.output = &s
		ev.Type = types.HistoryEventTypeExecutionSucceeded
		ev.ExecutionSucceededEventDetails = &types.ExecutionSucceededEventDetails{Output: aws.String(s), OutputDetails: notTruncated()}
	case types.ExecutionStatusFailed:
		x.errName, x.cause = aws.String(serr.Name), aws.String(serr.Cause)
		ev.Type = types.HistoryEventTypeExecutionFailed
		ev.ExecutionFailedEventDetails = &types.ExecutionFailedEventDetails{Error: x.errName, Cause: x.cause}
	case types.ExecutionStatusTimedOut:
		x.errName, x.cause = aws.String(serr.Name), aws.String(serr.Cause)
		ev.Type = types.HistoryEventTypeExecutionTimedOut
		ev.ExecutionTimedOutEventDetails = &types.ExecutionTimedOutEventDetails{Error: x.errName, Cause: x.cause}
	case types.ExecutionStatusAborted:
		if serr != nil {
			x.errName, x.cause = aws.String(serr.Name), aws.String(serr.Cause)
		}
		ev.Type = types.HistoryEventTypeExecutionAborted
		ev.ExecutionAbortedEventDetails = &types.ExecutionAbortedEventDetails{Error: x.errName, Cause: x.cause}
	}
	x.events = append(x.events, ev)
	if x.timeout != nil {
		x.timeout.Stop()
	}
	x.abortRun(x.root, false)
	x.svc.executionClosed(x)
	x.machine.running--
	x.svc.maybeRemove(x.machine)
	if x.parent != nil {
		x.svc.childExecutionClosed(x)
	}
}

// abortRun stops a run and everything under it: timers, task calls (their
// tokens stop being valid) and child runs. record says whether to write
// the aborted events (for runs stopped while their execution goes on).
func (x *execution) abortRun(r *run, record bool) {
	if r == nil || r.done || r.aborted {
		return
	}
	if record && r.state != nil && (r.state.Type == "Task" || r.state.Type == "Wait" || r.state.Type == "Map" || r.state.Type == "Parallel") {
		x.emit(r, stateAbortedType(r.state.Type), nil)
	}
	r.aborted = true
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	if r.task != nil {
		r.task.close()
		if r.task.child != nil && !r.task.child.closed {
			r.task.child.parent = nil
			r.task.child.finish(types.ExecutionStatusAborted, nil, &StateError{Name: "States.Aborted", Cause: "The parent execution stopped."})
		}
		r.task = nil
	}
	if c := r.comp; c != nil {
		c.done = true
		for _, child := range c.children {
			if child != nil && !child.done && !child.aborted && record && c.isMap {
				x.emit(r, types.HistoryEventTypeMapIterationAborted, func(ev *types.HistoryEvent) {
					ev.MapIterationAbortedEventDetails = &types.MapIterationEventDetails{Index: int32(child.index), Name: aws.String(c.state.Name)}
				})
			}
			x.abortRun(child, record)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// --- Pass, Choice, Wait, Succeed, Fail ---

func (x *execution) execPass(r *run) {
	in, serr := r.effectiveInput("")
	if serr != nil {
		x.fail(r, serr)
		return
	}
	result := in
	if r.state.hasResult {
		result = deepCopy(r.state.Result)
	}
	x.finishResult(r, result)
}

func (x *execution) execChoice(r *run) {
	st := r.state
	ctx := r.context("")
	in, err := st.InputPath.apply(r.stateInput, ctx, "InputPath")
	if err != nil {
		x.fail(r, err)
		return
	}
	next := ""
	for _, rule := range st.Choices {
		ok, err := rule.Match(in, ctx)
		if err != nil {
			x.fail(r, asStateError(err))
			return
		}
		if ok {
			next = rule.Next
			break
		}
	}
	if next == "" {
		next = st.Default
	}
	if next == "" {
		x.fail(r, &StateError{Name: ErrNoChoiceMatched, Cause: "No Matches!"})
		return
	}
	out, err := st.OutputPath.apply(in, ctx, "OutputPath")
	if err != nil {
		x.fail(r, err)
		return
	}
	x.exit(r, out, next)
}

func (x *execution) execWait(r *run) {
	st := r.state
	ctx := r.context("")
	in, err := st.InputPath.apply(r.stateInput, ctx, "InputPath")
	if err != nil {
		x.fail(r, err)
		return
	}
	now := x.svc.clock.Now()
	until := now
	switch {
	case st.Seconds != nil:
		until = now.Add(time.Duration(*st.Seconds) * time.Second)
	case st.Timestamp != nil:
		until = *st.Timestamp
	case st.SecondsPath != nil:
		v, err := st.SecondsPath.Get(in, ctx)
		n, ok := integer(v)
		if err != nil || !ok || n < 0 {
			x.fail(r, runtimeErrorf("The SecondsPath parameter does not reference a valid non-negative integer: %s", st.SecondsPath.src))
			return
		}
		until = now.Add(time.Duration(n) * time.Second)
	case st.TimestampPath != nil:
		v, err := st.TimestampPath.Get(in, ctx)
		s, _ := v.(string)
		t, ok := parseTimestamp(s)
		if err != nil || !ok {
			x.fail(r, runtimeErrorf("The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: %s", st.TimestampPath.src))
			return
		}
		until = t
	}
	out, err := st.OutputPath.apply(in, ctx, "OutputPath")
	if err != nil {
		x.fail(r, err)
		return
	}
	r.timer = x.svc.at(until, "states:wait "+st.Name, func() {
		r.timer = nil
		x.exit(r, out, st.Next)
	})
}

func (x *execution) execSucceed(r *run) {
	st := r.state
	ctx := r.context("")
	in, err := st.InputPath.apply(r.stateInput, ctx, "InputPath")
	if err != nil {
		x.fail(r, err)
		return
	}
	out, err := st.OutputPath.apply(in, ctx, "OutputPath")
	if err != nil {
		x.fail(r, err)
		return
	}
	x.exit(r, out, "")
}

func (x *execution) execFail(r *run) {
	st := r.state
	serr := &StateError{Name: st.Error, Cause: st.Cause}
	ctx := r.context("")
	for _, f := range []struct {
		t   *Template
		dst *string
	}{{st.ErrorPath, &serr.Name}, {st.CausePath, &serr.Cause}} {
		if f.t == nil {
			continue
		}
		v, err := f.t.Eval(r.env(r.stateInput, ctx))
		if err != nil {
			x.fail(r, asStateError(err))
			return
		}
		s, ok := v.(string)
		if !ok {
			x.finish(types.ExecutionStatusFailed, nil, runtimeErrorf("The %s of the Fail state '%s' must evaluate to a string, got a %s", f.t.field, st.Name, typeName(v)))
			return
		}
		*f.dst = s
	}
	x.runFailed(r, serr)
}

// --- Parallel and Map ---

func (x *execution) execParallel(r *run) {
	st := r.state
	in, serr := r.effectiveInput("")
	if serr != nil {
		x.fail(r, serr)
		return
	}
	x.emit(r, types.HistoryEventTypeParallelStateStarted, nil)
	c := &composite{run: r, state: st, input: in, results: make([]any, len(st.Branches))}
	r.comp = c
	for i, b := range st.Branches {
		child := &run{exec: x, def: b, parent: c, index: i, prev: r.prev}
		c.children = append(c.children, child)
	}
	c.active = len(c.children)
	for _, child := range c.children {
		if c.done || !r.alive() {
			return
		}
		x.enter(child, child.def.StartAt, deepCopy(in))
	}
}

func (x *execution) execMap(r *run) {
	st := r.state
	ctx := r.context("")
	in, err := st.InputPath.apply(r.stateInput, ctx, "InputPath")
	if err != nil {
		x.fail(r, err)
		return
	}
	items := in
	if st.ItemsPath != nil {
		v, err := st.ItemsPath.Get(in, ctx)
		if err != nil {
			x.fail(r, runtimeErrorf("Invalid path '%s': The ItemsPath field references an invalid value in the input '%s'", st.ItemsPath.src, toJSON(in)))
			return
		}
		items = v
	}
	arr, ok := items.([]any)
	if !ok {
		x.fail(r, runtimeErrorf("Map state input must be an array but was: %s", typeName(items)))
		return
	}
	c := &composite{run: r, state: st, input: in, items: arr, results: make([]any, len(arr)), isMap: true, tolCount: st.ToleratedFailureCount, tolPct: st.ToleratedFailurePercentage}
	c.maxConc = int(st.MaxConcurrency)
	if st.MaxConcurrencyPath != nil {
		v, err := st.MaxConcurrencyPath.Get(in, ctx)
		n, ok := integer(v)
		if err != nil || !ok || n < 0 {
			x.fail(r, runtimeErrorf("The MaxConcurrencyPath field does not reference a non-negative integer: %s", st.MaxConcurrencyPath.src))
			return
		}
		c.maxConc = int(n)
	}
	for _, tp := range []struct {
		p   *Path
		set func(float64)
	}{{st.ToleratedFailureCountPath, func(f float64) { c.tolCount = int64(f) }}, {st.ToleratedFailurePercentagePath, func(f float64) { c.tolPct = f }}} {
		if tp.p == nil {
			continue
		}
		v, err := tp.p.Get(in, ctx)
		f, ok := number(v)
		if err != nil || !ok || f < 0 {
			x.fail(r, runtimeErrorf("The path %s does not reference a non-negative number", tp.p.src))
			return
		}
		tp.set(f)
	}
	// Every iteration's input is computed up front, because ItemSelector
	// sees the Map state's context ($$.Map.Item) at entry.
	c.selectors = make([]any, len(arr))
	for i, item := range arr {
		sel := item
		if st.ItemSelector != nil {
			ictx := r.context("")
			ictx["Map"] = map[string]any{"Item": map[string]any{"Index": num(float64(i)), "Value": item}}
			v, err := st.ItemSelector.Eval(r.env(in, ictx))
			if err != nil {
				x.fail(r, asStateError(err))
				return
			}
			sel = v
		}
		c.selectors[i] = sel
	}
	x.emit(r, types.HistoryEventTypeMapStateStarted, func(ev *types.HistoryEvent) {
		ev.MapStateStartedEventDetails = &types.MapStateStartedEventDetails{Length: int32(len(arr))}
	})
	if !r.alive() {
		return
	}
	r.comp = c
	c.children = make([]*run, len(arr))
	if len(arr) == 0 {
		x.compositeSucceeded(c)
		return
	}
	x.startIterations(c)
}

// startIterations starts Map iterations up to the concurrency limit.
func (x *execution) startIterations(c *composite) {
	r := c.run
	for c.next < len(c.items) && (c.maxConc == 0 || c.active < c.maxConc) {
		if c.done || !r.alive() {
			return
		}
		i := c.next
		c.next++
		c.active++
		child := &run{exec: x, def: c.state.Processor, parent: c, index: i}
		c.children[i] = child
		x.emit(r, types.HistoryEventTypeMapIterationStarted, func(ev *types.HistoryEvent) {
			ev.MapIterationStartedEventDetails = &types.MapIterationEventDetails{Index: int32(i), Name: aws.String(c.state.Name)}
		})
		child.prev = r.prev
		x.enter(child, child.def.StartAt, deepCopy(c.selectors[i]))
	}
}

// childDone is told that a branch or an iteration ended.
func (x *execution) childDone(c *composite, child *run, output any, serr *StateError) {
	r := c.run
	if c.done || !r.alive() {
		return
	}
	c.active--
	c.finished++
	if c.isMap {
		typ, details := types.HistoryEventTypeMapIterationSucceeded, &types.MapIterationEventDetails{Index: int32(child.index), Name: aws.String(c.state.Name)}
		if serr != nil {
			typ = types.HistoryEventTypeMapIterationFailed
		}
		x.emit(r, typ, func(ev *types.HistoryEvent) {
			if serr != nil {
				ev.MapIterationFailedEventDetails = details
			} else {
				ev.MapIterationSucceededEventDetails = details
			}
		})
		if !r.alive() {
			return
		}
	}
	if serr != nil {
		c.failed++
		if !c.isMap || !c.tolerates() {
			if c.isMap && (c.tolCount >= 0 || c.tolPct >= 0) {
				serr = &StateError{Name: ErrExceedToleratedFailureLimit, Cause: "The specified tolerated failure threshold was exceeded"}
			}
			x.compositeFailed(c, serr)
			return
		}
		output = map[string]any{"Error": serr.Name, "Cause": serr.Cause}
	}
	c.results[child.index] = output
	if c.isMap {
		x.startIterations(c)
		if c.finished == len(c.items) {
			x.compositeSucceeded(c)
		}
		return
	}
	if c.finished == len(c.children) {
		x.compositeSucceeded(c)
	}
}

// tolerates reports whether the failures so far are within the Map's
// tolerated failure thresholds; with both a count and a percentage set,
// exceeding either one fails the state.
func (c *composite) tolerates() bool {
	countSet, pctSet := c.tolCount >= 0, c.tolPct >= 0
	if !countSet && !pctSet {
		return false
	}
	if countSet && int64(c.failed) > c.tolCount {
		return false
	}
	if pctSet && float64(c.failed)*100/float64(len(c.items)) > c.tolPct {
		return false
	}
	return true
}

func (x *execution) compositeSucceeded(c *composite) {
	r := c.run
	c.done = true
	r.comp = nil
	typ := types.HistoryEventTypeParallelStateSucceeded
	if c.isMap {
		typ = types.HistoryEventTypeMapStateSucceeded
	}
	x.emit(r, typ, nil)
	if !r.alive() {
		return
	}
	x.finishResult(r, c.results)
}

func (x *execution) compositeFailed(c *composite, serr *StateError) {
	r := c.run
	c.done = true
	r.comp = nil
	for _, child := range c.children {
		if child != nil && !child.done {
			if c.isMap {
				x.emit(r, types.HistoryEventTypeMapIterationAborted, func(ev *types.HistoryEvent) {
					ev.MapIterationAbortedEventDetails = &types.MapIterationEventDetails{Index: int32(child.index), Name: aws.String(c.state.Name)}
				})
			}
			x.abortRun(child, true)
		}
	}
	typ := types.HistoryEventTypeParallelStateFailed
	if c.isMap {
		typ = types.HistoryEventTypeMapStateFailed
	}
	x.emit(r, typ, nil)
	if !r.alive() {
		return
	}
	x.fail(r, serr)
}

// --- tokens ---

// newToken returns an opaque task token from the seeded source, shaped like
// Step Functions' (long, URL-safe Base64).
func (s *Service) newToken() string {
	raw := make([]byte, 96)
	for i := 0; i < len(raw); i += 8 {
		v := s.rng.Uint64()
		for j := 0; j < 8; j++ {
			raw[i+j] = byte(v >> (8 * j))
		}
	}
	return "AQB" + base64.RawURLEncoding.EncodeToString(raw)
}

// requestContext returns the context integrations are called with: it
// carries the execution's region and account like a request to the local
// cloud would.
func (x *execution) requestContext() context.Context {
	ctx := api.WithRequest(context.Background(), api.Request{Region: x.region, Account: x.svc.account, Service: "states"})
	return withCaller(ctx, Caller{RoleARN: x.roleArn, Session: x.name})
}
