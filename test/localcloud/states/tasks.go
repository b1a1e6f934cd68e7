package states

import (
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
)

// taskCall is one attempt of a Task state.
type taskCall struct {
	x      *execution
	r      *run
	state  *State
	res    *resource
	params any
	token  string

	timeout, heartbeat      int64
	timeoutT, heartbeatT    *clock.Timer
	closed                  bool
	resourceType, resName   string
	child                   *execution // started by states:startExecution
	requestID               string
	legacyLambda, submitted bool
}

// close ends the attempt: its timers stop and its token is no longer
// accepted.
func (t *taskCall) close() {
	t.closed = true
	if t.timeoutT != nil {
		t.timeoutT.Stop()
	}
	if t.heartbeatT != nil {
		t.heartbeatT.Stop()
	}
}

// resourceNames returns the resourceType and resource that task events show:
// "lambda" and "invoke.waitForTaskToken", "aws-sdk:ec2" and
// "describeImages", and so on.
func resourceNames(res *resource) (string, string) {
	typ := res.service
	if res.kind == resSDK {
		typ = "aws-sdk:" + res.service
	}
	name := res.action
	if res.pattern != "" {
		name += "." + res.pattern
	}
	return typ, name
}

func (x *execution) execTask(r *run) {
	st := r.state
	token := ""
	if st.resource.pattern == "waitForTaskToken" {
		token = x.svc.newToken()
	}
	in, serr := r.effectiveInput(token)
	if serr != nil {
		x.fail(r, serr)
		return
	}
	ctx := r.context(token)
	// TimeoutSecondsPath and HeartbeatSecondsPath read the state input as
	// InputPath selected it: Parameters shape what the service receives.
	pathInput, perr := st.InputPath.apply(r.stateInput, ctx, "InputPath")
	if perr != nil {
		x.fail(r, perr)
		return
	}
	timeout, heartbeat := st.TimeoutSeconds, st.HeartbeatSeconds
	for _, p := range []struct {
		path *Path
		dst  *int64
	}{{st.TimeoutSecondsPath, &timeout}, {st.HeartbeatSecondsPath, &heartbeat}} {
		if p.path == nil {
			continue
		}
		v, err := p.path.Get(pathInput, ctx)
		n, ok := integer(v)
		if err != nil || !ok || n < 1 {
			x.fail(r, runtimeErrorf("The path %s does not reference a positive integer", p.path.src))
			return
		}
		*p.dst = n
	}
	t := &taskCall{x: x, r: r, state: st, res: st.resource, params: in, token: token,
		timeout: timeout, heartbeat: heartbeat, legacyLambda: st.resource.kind == resLambdaARN,
		requestID: x.svc.requestID()}
	t.resourceType, t.resName = resourceNames(st.resource)
	r.task = t
	if token != "" {
		x.svc.tokens[token] = t
	}
	if t.legacyLambda {
		x.emit(r, types.HistoryEventTypeLambdaFunctionScheduled, func(ev *types.HistoryEvent) {
			d := &types.LambdaFunctionScheduledEventDetails{Resource: aws.String(st.Resource),
				Input: aws.String(toJSON(in)), InputDetails: notTruncated()}
			if timeout != DefaultTaskTimeoutSeconds {
				d.TimeoutInSeconds = aws.Int64(timeout)
			}
			ev.LambdaFunctionScheduledEventDetails = d
		})
	} else {
		x.emit(r, types.HistoryEventTypeTaskScheduled, func(ev *types.HistoryEvent) {
			d := &types.TaskScheduledEventDetails{ResourceType: aws.String(t.resourceType), Resource: aws.String(t.resName),
				Region: aws.String(x.region), Parameters: aws.String(toJSON(in))}
			if timeout != DefaultTaskTimeoutSeconds {
				d.TimeoutInSeconds = aws.Int64(timeout)
			}
			if heartbeat > 0 {
				d.HeartbeatInSeconds = aws.Int64(heartbeat)
			}
			ev.TaskScheduledEventDetails = d
		})
	}
	if !r.alive() {
		return
	}
	now := x.svc.clock.Now()
	t.timeoutT = x.svc.at(now.Add(time.Duration(timeout)*time.Second), "states:task-timeout "+st.Name, func() {
		t.timedOutWith(ErrTimeout)
	})
	if heartbeat > 0 && token != "" {
		t.armHeartbeat()
	}
	x.svc.soon("states:task "+st.Name, t.start)
}

func (t *taskCall) armHeartbeat() {
	if t.heartbeatT != nil {
		t.heartbeatT.Stop()
	}
	svc := t.x.svc
	t.heartbeatT = svc.at(svc.clock.Now().Add(time.Duration(t.heartbeat)*time.Second), "states:task-heartbeat "+t.state.Name, func() {
		t.timedOutWith(ErrHeartbeatTimeout)
	})
}

// timedOutWith fails the attempt with States.Timeout or
// States.HeartbeatTimeout.
func (t *taskCall) timedOutWith(name string) {
	if t.closed || !t.r.alive() {
		return
	}
	t.close()
	t.r.task = nil
	cause := ""
	if name == ErrHeartbeatTimeout {
		cause = "The task did not send a heartbeat within " + itoa(int(t.heartbeat)) + " seconds."
	}
	if t.legacyLambda {
		t.x.emit(t.r, types.HistoryEventTypeLambdaFunctionTimedOut, func(ev *types.HistoryEvent) {
			ev.LambdaFunctionTimedOutEventDetails = &types.LambdaFunctionTimedOutEventDetails{Error: aws.String(name), Cause: aws.String(cause)}
		})
	} else {
		t.x.emit(t.r, types.HistoryEventTypeTaskTimedOut, func(ev *types.HistoryEvent) {
			ev.TaskTimedOutEventDetails = &types.TaskTimedOutEventDetails{ResourceType: aws.String(t.resourceType),
				Resource: aws.String(t.resName), Error: aws.String(name), Cause: aws.String(cause)}
		})
	}
	if t.child != nil && !t.child.closed {
		t.child.parent = nil
	}
	t.x.fail(t.r, &StateError{Name: name, Cause: cause})
}

// start records the task's start and calls the integration.
func (t *taskCall) start() {
	if t.closed || !t.r.alive() {
		return
	}
	x, svc := t.x, t.x.svc
	if t.legacyLambda {
		x.emit(t.r, types.HistoryEventTypeLambdaFunctionStarted, nil)
	} else {
		x.emit(t.r, types.HistoryEventTypeTaskStarted, func(ev *types.HistoryEvent) {
			ev.TaskStartedEventDetails = &types.TaskStartedEventDetails{ResourceType: aws.String(t.resourceType), Resource: aws.String(t.resName)}
		})
	}
	if !t.r.alive() {
		return
	}
	if t.res.kind == resStates {
		t.startChild()
		return
	}
	call := integrationCall{res: t.res, params: t.params, requestID: t.requestID}
	integ := svc.integ
	ctx := x.requestContext()
	// The hold keeps stepped time still while the integration works; a
	// function running as a process may take wall time to answer.
	release := svc.clock.Hold()
	if svc.clock.Stepped() {
		svc.mu.Unlock()
		result, serr := call.call(ctx, integ)
		svc.mu.Lock()
		release()
		t.integrationDone(result, serr)
		return
	}
	go func() {
		result, serr := call.call(ctx, integ)
		svc.soon("states:task-result "+t.state.Name, func() { t.integrationDone(result, serr) })
		release()
	}()
}

// integrationDone takes the integration's answer.
func (t *taskCall) integrationDone(result any, serr *StateError) {
	if t.closed || !t.r.alive() {
		return
	}
	if serr == nil && t.res.pattern != "waitForTaskToken" {
		serr = t.r.checkSize(result, "the task result")
	}
	if serr != nil {
		t.failed(serr)
		return
	}
	if t.res.pattern == "waitForTaskToken" {
		t.submit(result)
		return
	}
	t.succeeded(result)
}

// submit records that a callback task (or a .sync child) was handed over
// and now waits.
func (t *taskCall) submit(result any) {
	t.submitted = true
	t.x.emit(t.r, types.HistoryEventTypeTaskSubmitted, func(ev *types.HistoryEvent) {
		ev.TaskSubmittedEventDetails = &types.TaskSubmittedEventDetails{ResourceType: aws.String(t.resourceType),
			Resource: aws.String(t.resName), Output: aws.String(toJSON(result)), OutputDetails: notTruncated()}
	})
}

func (t *taskCall) succeeded(result any) {
	t.close()
	t.r.task = nil
	if t.legacyLambda {
		t.x.emit(t.r, types.HistoryEventTypeLambdaFunctionSucceeded, func(ev *types.HistoryEvent) {
			ev.LambdaFunctionSucceededEventDetails = &types.LambdaFunctionSucceededEventDetails{Output: aws.String(toJSON(result)), OutputDetails: notTruncated()}
		})
	} else {
		t.x.emit(t.r, types.HistoryEventTypeTaskSucceeded, func(ev *types.HistoryEvent) {
			ev.TaskSucceededEventDetails = &types.TaskSucceededEventDetails{ResourceType: aws.String(t.resourceType),
				Resource: aws.String(t.resName), Output: aws.String(toJSON(result)), OutputDetails: notTruncated()}
		})
	}
	if !t.r.alive() {
		return
	}
	t.x.finishResult(t.r, result)
}

func (t *taskCall) failed(serr *StateError) {
	t.close()
	t.r.task = nil
	if t.legacyLambda {
		t.x.emit(t.r, types.HistoryEventTypeLambdaFunctionFailed, func(ev *types.HistoryEvent) {
			ev.LambdaFunctionFailedEventDetails = &types.LambdaFunctionFailedEventDetails{Error: aws.String(serr.Name), Cause: aws.String(serr.Cause)}
		})
	} else {
		t.x.emit(t.r, types.HistoryEventTypeTaskFailed, func(ev *types.HistoryEvent) {
			ev.TaskFailedEventDetails = &types.TaskFailedEventDetails{ResourceType: aws.String(t.resourceType),
				Resource: aws.String(t.resName), Error: aws.String(serr.Name), Cause: aws.String(serr.Cause)}
		})
	}
	t.x.fail(t.r, serr)
}

// startChild serves arn:aws:states:::states:startExecution in all its
// patterns. The child runs in this same engine.
func (t *taskCall) startChild() {
	svc := t.x.svc
	p, ok := t.params.(map[string]any)
	if !ok {
		t.failed(runtimeErrorf("the parameters of states:startExecution must be an object"))
		return
	}
	smArn, _ := p["StateMachineArn"].(string)
	name, _ := p["Name"].(string)
	input := "{}"
	if v, ok := p["Input"]; ok {
		if s, isStr := v.(string); isStr {
			input = s
		} else {
			input = toJSON(v)
		}
	}
	if serr := t.authorizeChild(smArn); serr != nil {
		t.failed(serr)
		return
	}
	child, err := svc.startExecution(t.x.region, smArn, name, input, nil)
	if err != nil {
		code := err.Code
		t.failed(&StateError{Name: "StepFunctions." + code + "Exception", Cause: err.Message})
		return
	}
	resp := sdkMetadata(map[string]any{"ExecutionArn": child.arn, "StartDate": epochMillis(child.start)}, t.requestID, 200)
	switch t.res.pattern {
	case "":
		t.succeeded(resp)
	case "waitForTaskToken":
		t.submit(resp)
	default:
		t.child = child
		child.parent = t
		t.submit(resp)
	}
}

// childExecutionClosed is called when an execution started by a .sync task
// closes; the parent task completes at the same instant, as an event of its
// own.
func (s *Service) childExecutionClosed(child *execution) {
	t := child.parent
	child.parent = nil
	s.soon("states:child-closed "+child.name, func() {
		if t.closed || !t.r.alive() {
			return
		}
		desc := describeForSync(child, t.res.pattern == "sync:2")
		if child.status == types.ExecutionStatusSucceeded {
			t.succeeded(desc)
			return
		}
		t.failed(&StateError{Name: ErrTaskFailed, Cause: toJSON(desc)})
	})
}

// describeForSync is the output of a .sync startExecution task: the child's
// description, with Input and Output as JSON text (.sync) or as JSON
// (.sync:2).
func describeForSync(x *execution, parsed bool) map[string]any {
	d := map[string]any{
		"ExecutionArn":    x.arn,
		"Name":            x.name,
		"StateMachineArn": x.machine.arn,
		"Status":          string(x.status),
		"StartDate":       epochMillis(x.start),
		"StopDate":        epochMillis(x.stop),
		"Input":           x.input,
		"InputDetails":    map[string]any{"Included": true},
	}
	if parsed {
		d["Input"] = x.inputVal
	}
	if x.output != nil {
		d["OutputDetails"] = map[string]any{"Included": true}
		d["Output"] = *x.output
		if parsed {
			v, err := parseJSON(*x.output)
			if err == nil {
				d["Output"] = v
			}
		}
	}
	if x.errName != nil {
		d["Error"] = *x.errName
	}
	if x.cause != nil {
		d["Cause"] = *x.cause
	}
	return d
}

func epochMillis(t time.Time) any { return num(float64(t.UnixMilli())) }

// lookupToken finds the task a callback names, answering as Step Functions
// does:
//
//   - InvalidToken, "Invalid Token: 'Invalid token'", for a token it never
//     issued. The API reference gives InvalidToken as "The provided token is
//     not valid", and AWS answers it, with that message, to SendTaskSuccess
//     with a made-up token (LocalStack's snapshot of
//     test_sfn_send_task_outcome_with_no_such_token, recorded against AWS).
//   - TaskTimedOut, "Task Timed Out: 'Provided task does not exist
//     anymore'", for a task that has ended in any way: answered, failed,
//     timed out (TimeoutSeconds or HeartbeatSeconds), or aborted because its
//     execution stopped or ended. The API reference gives TaskTimedOut as
//     "The task token has either expired or the task associated with the
//     token has already been closed", and users see exactly this answer from
//     AWS both to a late callback and to a second one
//     (aws-samples/amazon-mwaa-examples#61).
//
// It never answers TaskDoesNotExist: the API reference gives it as "The
// activity does not exist", an error of activity tasks, which this service
// does not run; AWS does not answer it for an ended callback task.
func (s *Service) lookupToken(token *string) (*taskCall, *api.Error) {
	if token == nil || *token == "" {
		return nil, validationMissing("taskToken")
	}
	if len(*token) > 2048 {
		return nil, api.Errorf(400, "InvalidToken", "Invalid Token: 'Token length exceeds the maximum of 2048 characters'")
	}
	t, ok := s.tokens[*token]
	switch {
	case !ok:
		return nil, api.Errorf(400, "InvalidToken", "Invalid Token: 'Invalid token'")
	case t.closed || !t.r.alive():
		return nil, api.Errorf(400, "TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'")
	}
	return t, nil
}

// authorizeChild asks whether the execution's role may start the child
// (and, for .sync, manage the rule that reports its end), failing the task
// as Step Functions does when it may not.
func (t *taskCall) authorizeChild(smArn string) *StateError {
	auth := t.x.svc.integ.Authorize
	if auth == nil {
		return nil
	}
	type call struct {
		service, op string
		in          any
	}
	calls := []call{{"states", "StartExecution", &sfn.StartExecutionInput{StateMachineArn: aws.String(smArn)}}}
	if strings.HasPrefix(t.res.pattern, "sync") {
		rule := aws.String(syncRule)
		calls = append(calls,
			call{"events", "PutTargets", &eventbridge.PutTargetsInput{Rule: rule}},
			call{"events", "PutRule", &eventbridge.PutRuleInput{Name: rule}},
			call{"events", "DescribeRule", &eventbridge.DescribeRuleInput{Name: rule}})
	}
	ctx := t.x.requestContext()
	for _, c := range calls {
		if err := auth(ctx, c.service, c.op, c.in); err != nil {
			if c.service == "states" {
				// Step Functions names the errors of its own service
				// StepFunctions.<Code>, as startChild does.
				se := serviceError("sfn", err)
				se.Name = "StepFunctions." + strings.TrimPrefix(se.Name, "Sfn.")
				return se
			}
			return serviceError("eventbridge", err)
		}
	}
	return nil
}
