package functions

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// runtimeAPIPrefix is the Lambda Runtime API version path.
const runtimeAPIPrefix = "/2018-06-01/runtime"

// maxErrorBody bounds an error document a runtime posts.
const maxErrorBody = 1 << 20

// maxLogRead bounds what one invocation's log collection reads; a runtime
// printing more keeps only the end.
const maxLogRead = 1 << 20

// nextGrace is the least time a runtime that posted its result is given to
// ask for the next invocation before it is taken for hung.
const nextGrace = 2 * time.Second

// exitWait bounds how long the supervisor waits for a killed or failing
// runtime process to end.
const exitWait = 5 * time.Second

// environment is one execution environment: a runtime process and the
// Runtime API server it talks to. It runs one invocation at a time.
type environment struct {
	cfg    *config
	stream string

	ln      net.Listener
	srv     *http.Server
	cmd     *exec.Cmd
	logFile *os.File
	logMu   sync.Mutex
	logOff  int64

	// dispatch hands an invocation to the runtime blocked in /next.
	dispatch chan *invocation
	// ready holds a token while the runtime waits in /next between
	// invocations.
	ready chan struct{}
	// exited is closed when the process has ended.
	exited chan struct{}
	// initFailed is closed when the runtime posts /init/error.
	initFailed chan struct{}
	// closing is closed when the environment is being destroyed.
	closing chan struct{}

	mu       sync.Mutex
	cur      *invocation
	initErr  result
	exitErr  error
	started  bool
	destroys sync.Once
}

// envSetup is what starting an environment needs besides the config.
type envSetup struct {
	region, name, stream, endpoint, logDir string
}

// entrypointError is a runtime that cannot be started.
type entrypointError struct{ msg string }

func (e *entrypointError) Error() string { return e.msg }

// startEnvironment starts a runtime process with its Runtime API server.
// The environment is returned, to be destroyed, even when it fails.
func startEnvironment(cfg *config, setup envSetup) (*environment, error) {
	e := &environment{
		cfg: cfg, stream: setup.stream,
		dispatch: make(chan *invocation), ready: make(chan struct{}, 1),
		exited: make(chan struct{}), initFailed: make(chan struct{}), closing: make(chan struct{}),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return e, fmt.Errorf("functions: listen for the runtime API: %w", err)
	}
	e.ln = ln
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+runtimeAPIPrefix+"/invocation/next", e.next)
	mux.HandleFunc("POST "+runtimeAPIPrefix+"/invocation/{id}/response", e.response)
	mux.HandleFunc("POST "+runtimeAPIPrefix+"/invocation/{id}/error", e.invocationError)
	mux.HandleFunc("POST "+runtimeAPIPrefix+"/init/error", e.initError)
	e.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = e.srv.Serve(ln) }()

	if err := os.MkdirAll(setup.logDir, 0o755); err != nil {
		return e, fmt.Errorf("functions: make log directory: %w", err)
	}
	f, err := os.CreateTemp(setup.logDir, "env-*.log")
	if err != nil {
		return e, fmt.Errorf("functions: make log file: %w", err)
	}
	e.logFile = f

	if _, err := os.Stat(cfg.code.bootstrap); err != nil {
		return e, &entrypointError{fmt.Sprintf("Couldn't find valid bootstrap(s): [%s]", cfg.code.bootstrap)}
	}
	cmd := exec.Command(cfg.code.bootstrap)
	cmd.Dir = cfg.code.taskRoot
	cmd.Env = environ(cfg, setup, ln.Addr().String())
	// One file for both streams keeps their lines in the order written, and
	// a write has landed by the time the runtime posts its result.
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = processGroup()
	if err := cmd.Start(); err != nil {
		return e, &entrypointError{err.Error()}
	}
	e.mu.Lock()
	e.cmd, e.started = cmd, true
	e.mu.Unlock()
	go func() {
		err := cmd.Wait()
		// Lambda tears the sandbox down with its runtime: anything the
		// runtime left running in its group goes too.
		killGroup(cmd.Process)
		e.mu.Lock()
		e.exitErr = err
		e.mu.Unlock()
		close(e.exited)
	}()
	return e, nil
}

// AccessKeyID is the access key id a deployed function's runtime signs its
// calls with: one per function, like the session credentials of each
// function's own execution role, so that the calls it makes can be told
// apart and held against its policy (wire.Server.RequestsByAccessKey).
func AccessKeyID(functionName string) string {
	sum := sha256.Sum256([]byte(functionName))
	return "ASIA" + strings.ToUpper(hex.EncodeToString(sum[:8]))
}

// environ is the environment of a deployed function's runtime process: a
// clean one, not this process's, so host credentials never leak in.
func environ(cfg *config, setup envSetup, runtimeAPI string) []string {
	vars := map[string]string{
		"PATH":                            "/usr/local/bin:/usr/bin:/bin",
		"LANG":                            "en_US.UTF-8",
		"TZ":                              ":UTC",
		"LAMBDA_TASK_ROOT":                cfg.code.taskRoot,
		"_HANDLER":                        cfg.handler,
		"AWS_REGION":                      setup.region,
		"AWS_DEFAULT_REGION":              setup.region,
		"AWS_LAMBDA_FUNCTION_NAME":        setup.name,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(int(cfg.memory)),
		"AWS_LAMBDA_LOG_GROUP_NAME":       logGroup(setup.name),
		"AWS_LAMBDA_LOG_STREAM_NAME":      setup.stream,
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_LAMBDA_RUNTIME_API":          runtimeAPI,
		"AWS_ACCESS_KEY_ID":               AccessKeyID(setup.name),
		"AWS_SECRET_ACCESS_KEY":           "local-cloud-secret-access-key",
		"AWS_SESSION_TOKEN":               "local-cloud-session-token",
	}
	if setup.endpoint != "" {
		vars["AWS_ENDPOINT_URL"] = setup.endpoint
	}
	// The function's own variables cannot name a reserved key (CreateFunction
	// refuses them), so they only add to or override the unreserved ones.
	maps.Copy(vars, cfg.env)
	keys := slices.Sorted(maps.Keys(vars))
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + "=" + vars[k]
	}
	return out
}

// writeRuntimeError answers a runtime's request with the Runtime API's
// error document.
func writeRuntimeError(w http.ResponseWriter, status int, errorType, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(timeoutError{ErrorMessage: msg, ErrorType: errorType})
}

func writeAccepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	w.Write([]byte(`{"status":"OK"}` + "\n"))
}

// next serves GET /runtime/invocation/next: it blocks until an invocation
// is dispatched to this environment.
func (e *environment) next(w http.ResponseWriter, r *http.Request) {
	select {
	case e.ready <- struct{}{}:
	default:
	}
	select {
	case inv := <-e.dispatch:
		// The token this call left is spent: the runtime is busy now.
		select {
		case <-e.ready:
		default:
		}
		e.mu.Lock()
		e.cur = inv
		e.mu.Unlock()
		// What the runtime wrote before taking the invocation (its init
		// output, for a new environment) precedes the invocation's START.
		inv.before = e.collect()
		inv.deadline = time.Now().Add(inv.timeout)
		close(inv.started)
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", inv.arn)
		h.Set("Lambda-Runtime-Trace-Id", inv.trace)
		if inv.clientContext != "" {
			h.Set("Lambda-Runtime-Client-Context", inv.clientContext)
		}
		w.WriteHeader(http.StatusOK)
		w.Write(inv.payload)
	case <-r.Context().Done():
	case <-e.closing:
		writeRuntimeError(w, http.StatusInternalServerError, "Runtime.Shutdown", "The execution environment is shutting down.")
	}
}

// current returns the invocation in flight if id names it.
func (e *environment) current(id string) *invocation {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cur == nil || e.cur.id != id {
		return nil
	}
	return e.cur
}

// settle ends the invocation in flight with r and answers the runtime.
func (e *environment) settle(w http.ResponseWriter, inv *invocation, r result) {
	e.mu.Lock()
	if e.cur == inv {
		e.cur = nil
	}
	e.mu.Unlock()
	if !inv.finish(r) {
		writeRuntimeError(w, http.StatusForbidden, "InvalidStateTransition", "The invocation already has a result.")
		return
	}
	writeAccepted(w)
}

// response serves POST /runtime/invocation/{id}/response.
func (e *environment) response(w http.ResponseWriter, r *http.Request) {
	inv := e.current(r.PathValue("id"))
	if inv == nil {
		writeRuntimeError(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxResponsePayload+1))
	if err != nil {
		writeRuntimeError(w, http.StatusBadRequest, "InvalidRequest", "The response body could not be read.")
		return
	}
	if len(body) > maxResponsePayload {
		e.mu.Lock()
		e.cur = nil
		e.mu.Unlock()
		inv.finish(responseTooLarge())
		writeRuntimeError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", fmt.Sprintf("Exceeded maximum allowed payload size (%d bytes).", maxResponsePayload))
		return
	}
	// A runtime that fails while streaming its response reports the error
	// in trailers (aws-lambda-go does when a response reader fails).
	if t := r.Trailer.Get("Lambda-Runtime-Function-Error-Type"); t != "" {
		doc, _ := base64.StdEncoding.DecodeString(r.Trailer.Get("Lambda-Runtime-Function-Error-Body"))
		e.settle(w, inv, functionErrorResult(doc, t, t))
		return
	}
	e.settle(w, inv, result{payload: body})
}

// invocationError serves POST /runtime/invocation/{id}/error.
func (e *environment) invocationError(w http.ResponseWriter, r *http.Request) {
	inv := e.current(r.PathValue("id"))
	if inv == nil {
		writeRuntimeError(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxErrorBody))
	if err != nil {
		writeRuntimeError(w, http.StatusBadRequest, "InvalidRequest", "The error body could not be read.")
		return
	}
	t := r.Header.Get("Lambda-Runtime-Function-Error-Type")
	e.settle(w, inv, functionErrorResult(body, t, "Runtime.Unknown"))
}

// initError serves POST /runtime/init/error.
func (e *environment) initError(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxErrorBody))
	if err != nil {
		writeRuntimeError(w, http.StatusBadRequest, "InvalidRequest", "The error body could not be read.")
		return
	}
	res := functionErrorResult(body, r.Header.Get("Lambda-Runtime-Function-Error-Type"), ErrorTypeInit)
	if res.errorType == "" {
		res = functionErrorResult(body, ErrorTypeInit, ErrorTypeInit)
	}
	res.status = "error"
	e.mu.Lock()
	defer e.mu.Unlock()
	if !isClosed(e.initFailed) {
		e.initErr = res
		close(e.initFailed)
		writeAccepted(w)
		return
	}
	writeRuntimeError(w, http.StatusForbidden, "InvalidStateTransition", "The runtime already reported an init error.")
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// exitError returns how the process ended.
func (e *environment) exitError() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.exitErr
}

// kill ends the runtime process and every process it started, and waits
// (bounded) for it to be gone so that its output is complete.
func (e *environment) kill() {
	e.mu.Lock()
	cmd, started := e.cmd, e.started
	e.mu.Unlock()
	if !started || isClosed(e.exited) {
		// A reaped process's group id may belong to someone else by now.
		return
	}
	killGroup(cmd.Process)
	select {
	case <-e.exited:
	case <-time.After(exitWait):
	}
}

// awaitExit gives a failing runtime a moment to end by itself, so that its
// last words reach the log.
func (e *environment) awaitExit(d time.Duration) {
	e.mu.Lock()
	started := e.started
	e.mu.Unlock()
	if !started {
		return
	}
	select {
	case <-e.exited:
	case <-time.After(d):
	}
}

// collect returns what the runtime wrote since the last collection.
func (e *environment) collect() []byte {
	e.logMu.Lock()
	defer e.logMu.Unlock()
	if e.logFile == nil {
		return nil
	}
	info, err := e.logFile.Stat()
	if err != nil || info.Size() <= e.logOff {
		return nil
	}
	if info.Size()-e.logOff > maxLogRead {
		e.logOff = info.Size() - maxLogRead
	}
	buf := make([]byte, info.Size()-e.logOff)
	n, err := e.logFile.ReadAt(buf, e.logOff)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil
	}
	e.logOff += int64(n)
	return buf[:n]
}

// destroy kills the runtime, stops the Runtime API server and removes the
// log file. It is safe to call more than once and from any goroutine.
func (e *environment) destroy() {
	e.destroys.Do(func() {
		close(e.closing)
		e.kill()
		if e.srv != nil {
			_ = e.srv.Close()
		} else if e.ln != nil {
			_ = e.ln.Close()
		}
		e.logMu.Lock()
		if e.logFile != nil {
			_ = e.logFile.Close()
			_ = os.Remove(e.logFile.Name())
			e.logFile = nil
		}
		e.logMu.Unlock()
	})
}

// acquire returns a warm environment of fn running cfg, or starts one. A
// started environment is returned with cold set, also when it failed to
// start (then with the error).
func (s *Service) acquire(fn *function, cfg *config) (e *environment, cold bool, err error) {
	s.mu.Lock()
	var stale []*environment
	defer func() {
		for _, old := range stale {
			old.destroy()
		}
	}()
	for len(fn.idle) > 0 {
		n := len(fn.idle)
		e = fn.idle[n-1]
		fn.idle = fn.idle[:n-1]
		if e.cfg != cfg || isClosed(e.exited) {
			stale = append(stale, e)
			continue
		}
		fn.busy[e] = true
		s.mu.Unlock()
		return e, false, nil
	}
	setup := envSetup{
		region: fn.region, name: fn.name, stream: s.newStreamName(), endpoint: s.opts.Endpoint,
		logDir: filepath.Join(s.workDir, "logs"),
	}
	s.mu.Unlock()
	e, err = startEnvironment(cfg, setup)
	s.mu.Lock()
	fn.busy[e] = true
	s.mu.Unlock()
	return e, true, err
}

// release returns an environment to fn's warm pool, or destroys it if it
// is unhealthy, stale, or its function is gone.
func (s *Service) release(fn *function, e *environment, healthy bool) {
	s.mu.Lock()
	_, mine := fn.busy[e]
	delete(fn.busy, e)
	if healthy && mine && !s.closed && s.lookup(fn.region, fn.name) == fn && fn.cfg == e.cfg {
		fn.idle = append(fn.idle, e)
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	e.destroy()
}

// runInEnvironment runs an invocation in a warm or new execution
// environment, as Lambda runs a custom runtime.
func (s *Service) runInEnvironment(fn *function, cfg *config, inv *invocation) run {
	e, cold, err := s.acquire(fn, cfg)
	r := run{stream: e.stream, cold: cold}
	if err != nil {
		s.release(fn, e, false)
		var ee *entrypointError
		if errors.As(err, &ee) {
			r.res = supervisorError(ErrorTypeInvalidEntrypoint, inv.id, "%s", ee.msg)
		} else {
			r.res = supervisorError("Runtime.Unknown", inv.id, "%v", err)
		}
		r.res.status, r.initFailed = "error", true
		return r
	}

	start := time.Now()
	var initTimeout <-chan time.Time
	if cold {
		t := time.NewTimer(s.opts.InitTimeout)
		defer t.Stop()
		initTimeout = t.C
	}
	select {
	case e.dispatch <- inv:
	case <-e.exited:
		if !cold {
			// A warm runtime that died between invocations is not this
			// invocation's failure: Lambda would not have picked it.
			s.release(fn, e, false)
			return s.runInEnvironment(fn, cfg, inv)
		}
		r.res = exitResult(inv.id, e.exitError())
		r.res.status = "error"
		return s.initFailure(fn, e, r, start)
	case <-e.initFailed:
		e.awaitExit(100 * time.Millisecond)
		e.mu.Lock()
		r.res = e.initErr
		e.mu.Unlock()
		return s.initFailure(fn, e, r, start)
	case <-initTimeout:
		r.res = timeoutResult(inv.id, int32(s.opts.InitTimeout/time.Second))
		e.kill()
		return s.initFailure(fn, e, r, start)
	}
	<-inv.started
	r.initOut = inv.before
	if cold {
		r.initDur = time.Since(start)
	}
	begun := time.Now()
	timer := time.NewTimer(time.Until(inv.deadline))
	defer timer.Stop()
	select {
	case <-inv.done:
	case <-e.exited:
	case <-timer.C:
	}
	healthy := false
	res, ok := inv.finished()
	switch {
	case !ok && isClosed(e.exited):
		res = exitResult(inv.id, e.exitError())
		res.status = "error"
	case !ok:
		res = timeoutResult(inv.id, cfg.timeout)
		// Claim the invocation so that a late response is refused.
		inv.finish(res)
	default:
		// The invocation is complete once the runtime asks for the next
		// one; its output is all in the log by then. A runtime that never
		// asks is stopped once its time is up.
		grace := time.NewTimer(max(time.Until(inv.deadline), nextGrace))
		defer grace.Stop()
		select {
		case <-e.ready:
			healthy = true
		case <-e.exited:
		case <-grace.C:
		}
	}
	r.res, r.dur = res, time.Since(begun)
	if res.status == "timeout" {
		r.dur = inv.timeout
	}
	if !healthy {
		e.kill()
	}
	r.out = e.collect()
	s.release(fn, e, healthy)
	return r
}

// initFailure finishes an attempt whose runtime failed before taking the
// invocation: the environment is discarded.
func (s *Service) initFailure(fn *function, e *environment, r run, start time.Time) run {
	r.initDur, r.initFailed = time.Since(start), true
	e.kill()
	r.initOut = e.collect()
	s.release(fn, e, false)
	return r
}

// Identity returns the function whose runtime signs with accessKeyID and
// the execution role it has now, so that the cloud can hold a call against
// the role's policies; ok is false for a key no function uses (the test
// harness, an operator).
func (s *Service) Identity(accessKeyID string) (name, role string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, fn := range s.functions {
		if AccessKeyID(fn.name) == accessKeyID {
			return fn.name, fn.cfg.role, true
		}
	}
	return "", "", false
}
