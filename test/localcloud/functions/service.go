// Package functions is the local cloud's AWS Lambda: the control-plane API
// (create, read, update, delete, event invoke configuration) and Invoke,
// which runs a function's real `bootstrap` binary behind an implementation of
// the Lambda Runtime API, or a Go handler registered in process.
//
// Every operation has the aws-sdk-go-v2 lambda client's method signature, so
// the model, and a real client pointed at the local cloud, satisfy the same
// narrow interface.
//
// # Code
//
// The local cloud has no S3, so besides Code.ZipFile (a zip holding an
// executable named bootstrap, unpacked under Options.WorkDir) it accepts a
// local-file convention: Code.S3Bucket = LocalCodeBucket ("local") and
// Code.S3Key = the absolute path of a built bootstrap binary, or of a
// directory holding one. Such code is used in place, not copied. S3Key =
// InProcessKey declares a function whose code is a Go handler registered
// with RegisterHandler or RegisterFunc.
//
// # Time
//
// Function state lives on the simulated clock: a new function is Pending and
// an update InProgress until the clock next runs its events (after
// Options.ActivationDelay). A synchronous invocation takes a clock.Hold, so
// stepped time does not move while a function runs; asynchronous (Event)
// invocations are queued and run as clock events, with Lambda's retries.
// Wall time is used only where a real process needs it: the deadline header
// a runtime turns into its context deadline, and the timer that stops a
// function running past its Timeout.
//
// # Metrics
//
// With Options.Metrics set, every invocation attempt (synchronous, each
// attempt of an asynchronous event, and those Step Functions and
// EventBridge make) publishes AWS/Lambda Invocations (Count, 1), Errors
// (Count, 1 for a function error of any kind, handler error, crash,
// timeout or init failure, else 0) and Duration (Milliseconds, in
// simulated time: the Timeout for a timeout, otherwise what the clock moved
// while the function ran, nothing on a stepped clock), with dimension
// FunctionName and with no dimension (the account's aggregate), stamped
// with the instant the attempt began. RecordThrottle publishes Throttles
// for an Invoke refused with TooManyRequestsException. Lines the function
// prints in the embedded metric format become metrics at their own
// timestamp, as CloudWatch Logs extracts them (monitoring.ExtractEMF). Not
// modelled: the Resource and ExecutedVersion dimensions (there are no
// versions or aliases), and the concurrency, asynchronous-event and
// event-source-mapping metrics (ConcurrentExecutions, AsyncEventAge,
// DeadLetterErrors, IteratorAge and the like). The REPORT line's Duration
// is still the wall time the run took; only the metric is simulated.
package functions

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/google/uuid"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
)

// DefaultAccount is the account functions belong to when Options.Account is
// empty; it matches the wire layer's default.
const DefaultAccount = "123456789012"

// Options configures a Service.
type Options struct {
	// Clock is the local cloud's scheduler; required.
	Clock *clock.Sim
	// Faults, if set, is asked about FunctionCrash and FunctionTimeout rules
	// (Target = function name) before every invocation attempt.
	Faults *faults.Injector
	// Account owns the functions (DefaultAccount if empty).
	Account string
	// Seed makes request ids, trace ids, log stream names and revision ids
	// repeatable.
	Seed uint64
	// Endpoint is given to function processes as AWS_ENDPOINT_URL so that
	// their SDK clients call the local cloud; not set if empty.
	Endpoint string
	// WorkDir holds unpacked zip code and per-environment log files. If
	// empty, a temporary directory is made and Close removes it.
	WorkDir string
	// ActivationDelay is how long a new function stays Pending, and an
	// update InProgress, in simulated time. Zero means until the clock next
	// runs its events (Settle or Advance in stepped mode).
	ActivationDelay time.Duration
	// InitTimeout bounds a runtime's init phase (start to its first
	// /next call) in wall time; 10 s, Lambda's init limit, if zero.
	InitTimeout time.Duration
	// MaxLogEvents bounds the log events kept per function (10000 if zero);
	// the oldest are dropped first.
	MaxLogEvents int
	// Metrics, if set, receives the AWS/Lambda metrics of every
	// invocation and the metrics of the functions' embedded metric format
	// log lines; none are published if nil.
	Metrics MetricSink
}

// Service is the local cloud's Lambda. It is safe for concurrent use.
type Service struct {
	opts    Options
	clock   *clock.Sim
	faults  *faults.Injector
	metrics MetricSink
	workDir string
	ownDir  bool

	mu        sync.Mutex
	rng       *rand.Rand
	functions map[string]*function // by region + "/" + name
	handlers  map[string]lambda.Handler
	closed    bool
}

// New returns a Service with no functions.
func New(opts Options) (*Service, error) {
	if opts.Clock == nil {
		return nil, errors.New("functions: Options.Clock is required")
	}
	if opts.Account == "" {
		opts.Account = DefaultAccount
	}
	if opts.InitTimeout <= 0 {
		opts.InitTimeout = 10 * time.Second
	}
	if opts.MaxLogEvents <= 0 {
		opts.MaxLogEvents = 10000
	}
	s := &Service{
		opts:      opts,
		clock:     opts.Clock,
		faults:    opts.Faults,
		metrics:   opts.Metrics,
		workDir:   opts.WorkDir,
		rng:       rand.New(rand.NewPCG(opts.Seed, 0x1a4bda)),
		functions: map[string]*function{},
		handlers:  map[string]lambda.Handler{},
	}
	if s.workDir == "" {
		dir, err := os.MkdirTemp("", "phoenix-lambda-")
		if err != nil {
			return nil, fmt.Errorf("functions: make work directory: %w", err)
		}
		s.workDir, s.ownDir = dir, true
	} else if err := os.MkdirAll(s.workDir, 0o755); err != nil {
		return nil, fmt.Errorf("functions: make work directory %s: %w", s.workDir, err)
	}
	return s, nil
}

// Account returns the account the functions belong to.
func (s *Service) Account() string { return s.opts.Account }

// Close stops every execution environment (killing the runtime processes
// and their process groups) and removes the work directory if Service made
// it. Invocations in flight end with Runtime.ExitError; later calls fail.
func (s *Service) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	var envs []*environment
	for _, fn := range s.functions {
		envs = append(envs, fn.takeAllEnvs()...)
	}
	s.mu.Unlock()
	for _, e := range envs {
		e.destroy()
	}
	if s.ownDir {
		if err := os.RemoveAll(s.workDir); err != nil {
			return fmt.Errorf("functions: remove work directory: %w", err)
		}
	}
	return nil
}

// function is one function's record. Its fields are guarded by Service.mu.
type function struct {
	region, name, arn string
	// metricDims is the FunctionName dimension of the function's metrics,
	// made once and only read, so that recording allocates no map.
	metricDims   map[string]string
	cfg          *config // replaced, never mutated, so environments can hold it
	state        types.State
	lastUpdate   types.LastUpdateStatus
	tags         map[string]string
	invokeConfig *eventInvokeConfig

	idle  []*environment // warm environments waiting in /next, oldest first
	busy  map[*environment]bool
	logs  []LogEvent
	async []*AsyncInvocation
}

// config is everything an invocation runs with. It is immutable once made.
type config struct {
	runtime      types.Runtime
	handler      string
	role         string
	description  string
	timeout      int32
	memory       int32
	env          map[string]string
	arch         types.Architecture
	tracing      types.TracingMode
	code         code
	lastModified time.Time
	revision     string
}

// eventInvokeConfig is a function's PutFunctionEventInvokeConfig settings.
type eventInvokeConfig struct {
	maxRetries   int32
	maxAge       int32
	lastModified time.Time
}

// takeAllEnvs detaches every environment from fn, for destruction.
func (fn *function) takeAllEnvs() []*environment {
	envs := append([]*environment(nil), fn.idle...)
	for e := range fn.busy {
		envs = append(envs, e)
	}
	fn.idle, fn.busy = nil, map[*environment]bool{}
	return envs
}

// key names a function within the service.
func key(region, name string) string { return region + "/" + name }

// functionARN returns the unqualified ARN of a function.
func (s *Service) functionARN(region, name string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", region, s.opts.Account, name)
}

// newID returns a UUID drawn from the seeded source. Callers hold s.mu.
func (s *Service) newID() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(s.rng.UintN(256))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return uuid.UUID(b).String()
}

// randHex returns n random hex digits from the seeded source. Callers hold
// s.mu.
func (s *Service) randHex(n int) string {
	b := make([]byte, (n+1)/2)
	for i := range b {
		b[i] = byte(s.rng.UintN(256))
	}
	return hex.EncodeToString(b)[:n]
}

// lookup returns the function record; callers hold s.mu.
func (s *Service) lookup(region, name string) *function {
	return s.functions[key(region, name)]
}

// notFound is Lambda's answer for a function that does not exist.
func notFound(arn string) *api.Error {
	return api.Errorf(404, "ResourceNotFoundException", "Function not found: %s", arn)
}

// sortedFunctions returns the region's functions by name; callers hold s.mu.
func (s *Service) sortedFunctions(region string) []*function {
	var out []*function
	for _, fn := range s.functions {
		if fn.region == region {
			out = append(out, fn)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// RegisterHandler makes invocations of the named function, in any region,
// run h in this process instead of the function's code: fast tests of
// orchestration without building binaries. h receives a context carrying a
// lambdacontext.LambdaContext and the invocation's deadline; its errors are
// reported with aws-lambda-go's rules (errorType is the type name of the
// returned error). Registering nil removes the handler.
func (s *Service) RegisterHandler(name string, h lambda.Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h == nil {
		delete(s.handlers, name)
		return
	}
	s.handlers[name] = h
}

// RegisterFunc is RegisterHandler for a handler function of any shape
// lambda.Start accepts, such as func(context.Context, json.RawMessage)
// (any, error). A function of another shape fails every invocation, as it
// would in Lambda.
func (s *Service) RegisterFunc(name string, fn any) {
	s.RegisterHandler(name, lambda.NewHandler(fn))
}
