package functions

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/monitoring"
)

// Error types Lambda itself reports in an invocation's error payload.
const (
	// ErrorTypeTimeout is an invocation that ran past its Timeout.
	ErrorTypeTimeout = "Sandbox.Timedout"
	// ErrorTypeExit is a runtime process that ended before answering.
	ErrorTypeExit = "Runtime.ExitError"
	// ErrorTypeInit is an init failure a runtime reported through
	// /runtime/init/error without naming its own errorType.
	ErrorTypeInit = "Runtime.InitError"
	// ErrorTypeInvalidEntrypoint is a bootstrap that is missing or cannot
	// be executed.
	ErrorTypeInvalidEntrypoint = "Runtime.InvalidEntrypoint"
	// ErrorTypeResponseTooLarge is a response over the 6 MB quota.
	ErrorTypeResponseTooLarge = "Function.ResponseSizeTooLarge"
)

// invocation is one attempt to run a function with a payload.
type invocation struct {
	id            string
	payload       []byte
	arn           string // the ARN the caller invoked, qualified as named
	trace         string
	clientContext string // decoded JSON, or empty
	timeout       time.Duration

	// started is closed when a runtime takes the invocation from /next;
	// deadline (wall clock) is set before.
	started  chan struct{}
	deadline time.Time
	// before is what the runtime wrote before it took the invocation.
	before []byte

	once sync.Once
	done chan struct{}
	res  result
}

func newInvocation(id string, payload []byte, arn, trace, clientContext string, timeout time.Duration) *invocation {
	return &invocation{
		id: id, payload: payload, arn: arn, trace: trace, clientContext: clientContext, timeout: timeout,
		started: make(chan struct{}), done: make(chan struct{}),
	}
}

// finish records the invocation's result; only the first call counts. It
// reports whether this call was the first.
func (inv *invocation) finish(r result) bool {
	first := false
	inv.once.Do(func() {
		inv.res, first = r, true
		close(inv.done)
	})
	return first
}

// finished returns the result if the runtime posted one.
func (inv *invocation) finished() (result, bool) {
	select {
	case <-inv.done:
		return inv.res, true
	default:
		return result{}, false
	}
}

// result is what one invocation attempt came to.
type result struct {
	payload []byte
	// failed marks a function error (Invoke's FunctionError "Unhandled").
	failed bool
	// errorType is the payload's errorType, for logs and records.
	errorType string
	// status is the REPORT line's status: "", "error" or "timeout".
	status string
}

// lambdaError is an error payload with errorType first, as Lambda writes
// the errors of its runtime supervisor.
type lambdaError struct {
	ErrorType    string `json:"errorType"`
	ErrorMessage string `json:"errorMessage"`
}

// timeoutError is the timeout payload, errorMessage first as Lambda writes it.
type timeoutError struct {
	ErrorMessage string `json:"errorMessage"`
	ErrorType    string `json:"errorType"`
}

func supervisorError(errorType, requestID, format string, args ...any) result {
	msg := fmt.Sprintf("RequestId: %s Error: %s", requestID, fmt.Sprintf(format, args...))
	b, _ := json.Marshal(lambdaError{ErrorType: errorType, ErrorMessage: msg})
	return result{payload: b, failed: true, errorType: errorType, status: "error"}
}

func timeoutResult(requestID string, seconds int32) result {
	b, _ := json.Marshal(timeoutError{
		ErrorMessage: fmt.Sprintf("RequestId: %s Error: Task timed out after %d.00 seconds", requestID, seconds),
		ErrorType:    ErrorTypeTimeout,
	})
	return result{payload: b, failed: true, errorType: ErrorTypeTimeout, status: "timeout"}
}

// exitResult reports a runtime process that ended during an invocation.
func exitResult(requestID string, exitErr error) result {
	if exitErr == nil {
		return supervisorError(ErrorTypeExit, requestID, "Runtime exited without providing a reason")
	}
	return supervisorError(ErrorTypeExit, requestID, "Runtime exited with error: %v", exitErr)
}

func responseTooLarge() result {
	b, _ := json.Marshal(timeoutError{
		ErrorMessage: fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", maxResponsePayload),
		ErrorType:    ErrorTypeResponseTooLarge,
	})
	return result{payload: b, failed: true, errorType: ErrorTypeResponseTooLarge, status: "error"}
}

// functionErrorResult turns an error body a runtime posted into a result:
// a JSON object is passed through as Lambda does; anything else is wrapped.
func functionErrorResult(body []byte, headerType, fallbackType string) result {
	var fields struct {
		ErrorType *string `json:"errorType"`
	}
	if json.Valid(body) && len(body) > 0 && body[0] == '{' {
		_ = json.Unmarshal(body, &fields)
		t := aws.ToString(fields.ErrorType)
		if t == "" {
			t = headerType
		}
		return result{payload: body, failed: true, errorType: t}
	}
	t := headerType
	if t == "" {
		t = fallbackType
	}
	b, _ := json.Marshal(timeoutError{ErrorMessage: string(body), ErrorType: t})
	return result{payload: b, failed: true, errorType: t}
}

// run is an invocation attempt with what was learnt running it.
type run struct {
	res     result
	stream  string
	cold    bool
	initOut []byte
	out     []byte
	initDur time.Duration
	dur     time.Duration
	// initFailed marks an attempt that ended before the runtime took the
	// invocation.
	initFailed bool
}

// Invoke runs a function. RequestResponse waits for the result (status
// 200; a function error sets FunctionError "Unhandled" and the error
// payload); Event queues the event for an asynchronous attempt at the
// current simulated instant, with Lambda's retries (status 202); DryRun only
// checks (status 204). Errors: ResourceNotFoundException,
// ResourceConflictException while the function is Pending,
// RequestTooLargeException over the payload quota (6 MB synchronous, 1 MB
// asynchronous), InvalidRequestContentException for a payload that is not
// JSON.
func (s *Service) Invoke(ctx context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	// Not api.Begin: unlocks by hand before running the function, which must not hold s.mu.
	var v violations
	v.enum(string(in.InvocationType), "invocationType", enumStrings(types.InvocationType("").Values()))
	v.enum(string(in.LogType), "logType", enumStrings(types.LogType("").Values()))
	if err := v.err(); err != nil {
		return nil, err
	}
	req := api.RequestFrom(ctx)
	t, err := s.resolve(req.Region, in.FunctionName, in.Qualifier)
	if err != nil {
		return nil, err
	}
	mode := in.InvocationType
	if mode == "" {
		mode = types.InvocationTypeRequestResponse
	}
	limit, op := maxSyncPayload, "InvokeFunction"
	if mode == types.InvocationTypeEvent {
		limit, op = maxAsyncPayload, "InvokeAsync"
	}
	if len(in.Payload) > limit {
		return nil, api.Errorf(http.StatusRequestEntityTooLarge, "RequestTooLargeException", "Request must be smaller than %d bytes for the %s operation", limit, op)
	}
	payload := in.Payload
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	if !json.Valid(payload) {
		return nil, api.Errorf(http.StatusBadRequest, "InvalidRequestContentException", "Could not parse request body into json: Could not parse payload into json: Unexpected character: was expecting a JSON value")
	}
	clientContext := ""
	if in.ClientContext != nil {
		raw, err := base64.StdEncoding.DecodeString(*in.ClientContext)
		if err != nil || !json.Valid(raw) {
			return nil, api.Errorf(http.StatusBadRequest, "InvalidRequestContentException", "Client context must be a valid Base64-encoded JSON object.")
		}
		clientContext = string(raw)
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, api.Errorf(http.StatusInternalServerError, "ServiceException", "The local Lambda service is closed.")
	}
	fn := s.lookup(t.region, t.name)
	if fn == nil {
		s.mu.Unlock()
		arn := s.functionARN(t.region, t.name)
		if t.qualifier != "" {
			arn += ":" + t.qualifier
		}
		return nil, notFound(arn)
	}
	if fn.state != types.StateActive {
		s.mu.Unlock()
		return nil, notReady(fn)
	}
	id := req.RequestID
	if id == "" {
		id = s.newID()
	}
	invoked := fn.arn
	if t.qualifier != "" {
		invoked += ":" + t.qualifier
	}
	trace := s.newTraceID(fn.cfg.tracing)
	s.mu.Unlock()

	switch mode {
	case types.InvocationTypeDryRun:
		return &lambda.InvokeOutput{StatusCode: http.StatusNoContent}, nil
	case types.InvocationTypeEvent:
		s.enqueue(fn, id, payload, invoked, trace, clientContext)
		return &lambda.InvokeOutput{StatusCode: http.StatusAccepted}, nil
	}

	// As in Lambda, a caller that goes away does not stop the function, so
	// the run is not tied to ctx. The hold keeps stepped time still until
	// the function has answered.
	release := s.clock.Hold()
	defer release()
	r, l := s.attempt(fn, id, payload, invoked, trace, clientContext)
	out := &lambda.InvokeOutput{StatusCode: http.StatusOK, Payload: r.payload, ExecutedVersion: aws.String("$LATEST")}
	if r.failed {
		out.FunctionError = aws.String("Unhandled")
	}
	if in.LogType == types.LogTypeTail {
		out.LogResult = aws.String(l.tail())
	}
	return out, nil
}

// newTraceID returns an X-Ray trace header for an invocation, rooted at the
// simulated time; callers hold s.mu.
func (s *Service) newTraceID(mode types.TracingMode) string {
	sampled := "0"
	if mode == types.TracingModeActive {
		sampled = "1"
	}
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=%s", s.clock.Now().Unix(), s.randHex(24), s.randHex(16), sampled)
}

// attempt runs one invocation attempt of fn's current configuration,
// records its log lines and publishes its metrics.
func (s *Service) attempt(fn *function, id string, payload []byte, invoked, trace, clientContext string) (result, *invocationLog) {
	began := s.clock.Now()
	s.mu.Lock()
	cfg := fn.cfg
	h := s.handlers[fn.name]
	s.mu.Unlock()
	inv := newInvocation(id, payload, invoked, trace, clientContext, time.Duration(cfg.timeout)*time.Second)

	var r run
	switch {
	case s.injected(faults.FunctionCrash, fn.name):
		s.retireWarm(fn)
		r = run{res: exitResult(id, fmt.Errorf("exit status 1"))}
	case s.injected(faults.FunctionTimeout, fn.name):
		s.retireWarm(fn)
		r = run{res: timeoutResult(id, cfg.timeout), dur: inv.timeout}
	case h != nil:
		r = s.runInProcess(h, inv)
	case cfg.code.inProcess:
		r = run{res: supervisorError(ErrorTypeInvalidEntrypoint, id, "no Go handler is registered for function %s (code %s:%s)", fn.name, LocalCodeBucket, InProcessKey)}
	default:
		r = s.runInEnvironment(fn, cfg, inv)
	}
	l, logged := s.logInvocation(fn, cfg, id, r)
	s.publishInvocation(fn, began, r.res.failed, s.simulatedDuration(began, r, inv.timeout), logged)
	return r.res, l
}

// injected reports whether a model fault of kind fires for the function.
func (s *Service) injected(kind faults.Kind, name string) bool {
	if s.faults == nil {
		return false
	}
	_, fired := s.faults.Model(kind, name)
	return fired
}

// retireWarm destroys one warm environment of fn, as a real crash or
// timeout would end the environment it happened in.
func (s *Service) retireWarm(fn *function) {
	s.mu.Lock()
	var e *environment
	if n := len(fn.idle); n > 0 {
		e = fn.idle[n-1]
		fn.idle = fn.idle[:n-1]
	}
	s.mu.Unlock()
	if e != nil {
		e.destroy()
	}
}

// logInvocation writes the invocation's lines, framed by the START, END and
// REPORT lines Lambda adds, to the function's log, and returns the metrics
// CloudWatch Logs extracts from them.
func (s *Service) logInvocation(fn *function, cfg *config, id string, r run) (*invocationLog, []monitoring.Sample) {
	l := &invocationLog{}
	l.output(r.initOut)
	if r.initFailed {
		l.add("INIT_REPORT Init Duration: %.2f ms\tPhase: init\tStatus: error\tError Type: %s", ms(r.initDur), r.res.errorType)
	}
	l.add("START RequestId: %s Version: $LATEST", id)
	l.output(r.out)
	switch r.res.status {
	case "timeout":
		l.add("%s %s Task timed out after %d.00 seconds", s.clock.Now().UTC().Format("2006-01-02T15:04:05.000Z"), id, cfg.timeout)
	case "error":
		if r.res.errorType == ErrorTypeExit || r.res.errorType == ErrorTypeInvalidEntrypoint {
			var e lambdaError
			_ = json.Unmarshal(r.res.payload, &e)
			l.add("%s", e.ErrorMessage)
			l.add("%s", e.ErrorType)
		}
	}
	l.add("END RequestId: %s", id)
	report := fmt.Sprintf("REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB", id, ms(r.dur), int64(math.Ceil(ms(r.dur))), cfg.memory)
	if r.cold {
		report += fmt.Sprintf("\tInit Duration: %.2f ms", ms(r.initDur))
	}
	if r.res.status != "" {
		report += "\tStatus: " + r.res.status
		if r.res.status == "error" && r.res.errorType != "" {
			report += "\tError Type: " + r.res.errorType
		}
	}
	l.add("%s", report)
	// Parsed before the lock is taken: the Service's lock is shared by
	// every function, and Phoenix's functions print EMF lines on every
	// invocation.
	logged := s.extractMetrics(fn.region, l)
	stream := r.stream
	s.mu.Lock()
	if stream == "" {
		stream = s.newStreamName()
	}
	s.record(fn, stream, l)
	s.mu.Unlock()
	return l, logged
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
