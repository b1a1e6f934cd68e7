package wire

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
)

// Protocol is an AWS wire protocol, named as in the Smithy AWS protocol
// traits.
type Protocol string

// The protocols the wire layer knows.
const (
	AWSQuery   Protocol = "awsQuery"
	EC2Query   Protocol = "ec2Query"
	AWSJSON10  Protocol = "awsJson1_0"
	AWSJSON11  Protocol = "awsJson1_1"
	RestJSON1  Protocol = "restJson1"
	RPCv2CBOR  Protocol = "rpcv2Cbor"
	maxBodyLen          = 8 << 20
)

// Service describes one simulated AWS service: how requests for it are
// recognised and which object answers them.
type Service struct {
	// Name is the SigV4 signing name ("autoscaling", "ec2",
	// "elasticloadbalancing", "monitoring", "sns", "sts", "ssm", "events",
	// "states", "lambda", "imagebuilder", "dynamodb"). Fault rules and
	// api.Request.Service use it.
	Name string
	// Protocol is the wire protocol the service's SDK client speaks.
	Protocol Protocol
	// Also lists the other protocols the service answers, so that together
	// with Protocol they are the protocols its model lists (botocore's
	// metadata.protocols): CloudWatch answers awsJson1_0 (boto3 and AWS
	// CLI v1) and awsQuery (older CLIs) beside rpcv2Cbor. Each needs its
	// identification: a Version for query, a TargetPrefix for awsJson, a
	// ShapeName for rpcv2Cbor.
	Also []Protocol
	// QueryCompatible marks a service with Smithy's @awsQueryCompatible
	// trait (CloudWatch): an error whose Shape differs from its Code is
	// answered over awsJson and rpcv2Cbor with the shape as __type and
	// "Code;Sender" (or Receiver) in X-Amzn-Query-Error, from which
	// clients take the query error code.
	QueryCompatible bool
	// Version is the query API version, e.g. "2011-01-01"; query protocols
	// only.
	Version string
	// XMLNamespace is the namespace of query responses, e.g.
	// "http://autoscaling.amazonaws.com/doc/2011-01-01/".
	XMLNamespace string
	// TargetPrefix is the awsJson X-Amz-Target prefix, e.g. "AmazonSSM".
	TargetPrefix string
	// ShapeName is the Smithy service shape named in rpcv2Cbor paths
	// (/service/<ShapeName>/operation/<Op>), e.g.
	// "GraniteServiceVersion20100801" for CloudWatch.
	ShapeName string
	// Handler's exported methods with SDK client signatures are the
	// service's operations.
	Handler any
	// ThrottleCode and ThrottleStatus are the error a throttling fault
	// answers with ("Throttling" and 400 if unset).
	ThrottleCode   string
	ThrottleStatus int
	// FaultMember names the restJson1 error member that says who is at
	// fault, "User" or "Service" ("Type" for Lambda); none if empty.
	FaultMember string
}

// Protocols returns every protocol the service answers: Protocol, then
// Also.
func (s Service) Protocols() []Protocol {
	return append([]Protocol{s.Protocol}, s.Also...)
}

// serves reports whether the service answers protocol p.
func (s Service) serves(p ...Protocol) bool {
	for _, have := range s.Protocols() {
		if slices.Contains(p, have) {
			return true
		}
	}
	return false
}

// jsonProtocol is the awsJson version the service answers, if any.
func (s Service) jsonProtocol() Protocol {
	for _, p := range s.Protocols() {
		if p == AWSJSON10 || p == AWSJSON11 {
			return p
		}
	}
	return ""
}

// Options configures a Server.
type Options struct {
	// Account is the account id put in each request's context
	// ("123456789012" if empty).
	Account string
	// Faults, if set, is asked about API faults before every call.
	Faults *faults.Injector
	// Logger receives one line per request and any recovered panic;
	// nothing is logged if nil.
	Logger *slog.Logger
	// RequestID returns the id of each request; by default ids count up
	// from 1 in UUID form, so runs are repeatable.
	RequestID func() string
	// Authorize, if set, is asked before every call whether the access
	// key that signed it may make it; ctx carries the api.Request (service,
	// operation, region). An *iam.AccessDenied it returns is answered in
	// the service's own shape (UnauthorizedOperation, AccessDenied,
	// AccessDeniedException, AuthorizationError); any other error is
	// answered as an internal failure, so that a call the cloud cannot
	// judge is never silently allowed.
	Authorize func(ctx context.Context, accessKeyID string, input any) error
	// Throttled, if set, is told of every call a Throttle fault refused,
	// after the error is written; ctx carries the api.Request (service,
	// operation, region) and input is the decoded request. AWS counts such
	// refusals in some services' metrics (Lambda's Throttles), which the
	// model cannot do for a call that never reached it.
	Throttled func(ctx context.Context, input any)
}

// Server answers AWS SDK and CLI requests by calling registered service
// models. It implements http.Handler and is safe for concurrent use.
type Server struct {
	opts Options

	mu       sync.RWMutex
	services map[string]*service // by signing name
	byTarget map[string]*service // awsJson target prefix
	byShape  map[string]*service // rpcv2Cbor service shape
	byVer    map[string][]*service
	rest     []*service // restJson1 services, in registration order
	reserved []reservedPath

	seq atomic.Uint64

	countMu sync.Mutex
	counts  map[string]int // "service.Operation" -> requests
	// byKey counts the same per access key id, so a test can tell which
	// function made which calls (each deployed function signs with its own
	// key) and hold the calls against the function's IAM policy.
	byKey map[string]map[string]int
}

type reservedPath struct {
	prefix string
	h      http.Handler
}

// service is a registered Service with its operations resolved.
type service struct {
	Service
	ops      map[string]*operation
	validate *validator
	routes   []*compiledRoute // restJson1 only
}

// operation is one handler method.
type operation struct {
	name    string
	fn      reflect.Value // bound method
	in, out reflect.Type  // struct types (not pointers)
}

var (
	ctxType = reflect.TypeFor[context.Context]()
	errType = reflect.TypeFor[error]()
)

// NewServer returns a Server with no services registered.
func NewServer(opts Options) *Server {
	if opts.Account == "" {
		opts.Account = "123456789012"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		opts:     opts,
		services: map[string]*service{},
		byTarget: map[string]*service{},
		byShape:  map[string]*service{},
		byVer:    map[string][]*service{},
	}
	if s.opts.RequestID == nil {
		s.opts.RequestID = func() string {
			return fmt.Sprintf("00000000-0000-4000-8000-%012d", s.seq.Add(1))
		}
	}
	return s
}

// Register adds a service. It fails if the description is incomplete for
// its protocol, collides with a registered service, or if the handler has
// no operation the wire layer can encode.
func (s *Server) Register(svc Service) error {
	if svc.Name == "" || svc.Handler == nil {
		return errors.New("wire: a service needs a Name and a Handler")
	}
	if err := checkProtocols(svc); err != nil {
		return err
	}
	if svc.ThrottleCode == "" {
		svc.ThrottleCode = "Throttling"
	}
	if svc.ThrottleStatus == 0 {
		svc.ThrottleStatus = http.StatusBadRequest
	}
	reg := &service{Service: svc, ops: operations(svc.Handler)}
	if len(reg.ops) == 0 {
		return fmt.Errorf("wire: %s: handler %T has no method with an SDK operation signature", svc.Name, svc.Handler)
	}
	for _, op := range reg.ops {
		if !knownType(op.in) {
			return fmt.Errorf("wire: %s: no wire names for %s (run go generate in test/localcloud/wire)", svc.Name, op.in)
		}
	}
	v, err := newValidator(reg.ops)
	if err != nil {
		return fmt.Errorf("wire: %s: %w", svc.Name, err)
	}
	reg.validate = v
	if svc.serves(RestJSON1) {
		for _, name := range sortedKeys(reg.ops) {
			op := reg.ops[name]
			r, ok := generatedRoutes[op.in.PkgPath()][name]
			if !ok {
				return fmt.Errorf("wire: %s: no HTTP route for %s (run go generate in test/localcloud/wire)", svc.Name, name)
			}
			cr, err := compileRoute(op, r)
			if err != nil {
				return fmt.Errorf("wire: %s: %w", svc.Name, err)
			}
			reg.routes = append(reg.routes, cr)
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.services[svc.Name]; dup {
		return fmt.Errorf("wire: service %s is already registered", svc.Name)
	}
	if svc.TargetPrefix != "" {
		if _, dup := s.byTarget[svc.TargetPrefix]; dup {
			return fmt.Errorf("wire: target prefix %s is already registered", svc.TargetPrefix)
		}
		s.byTarget[svc.TargetPrefix] = reg
	}
	if svc.ShapeName != "" {
		if _, dup := s.byShape[svc.ShapeName]; dup {
			return fmt.Errorf("wire: service shape %s is already registered", svc.ShapeName)
		}
		s.byShape[svc.ShapeName] = reg
	}
	if svc.Version != "" {
		s.byVer[svc.Version] = append(s.byVer[svc.Version], reg)
	}
	if svc.serves(RestJSON1) {
		s.rest = append(s.rest, reg)
	}
	s.services[svc.Name] = reg
	return nil
}

// checkProtocols checks that a service names each protocol it answers at
// most once, has what each needs to be identified, and has no
// identification for a protocol it does not answer, which would route
// requests of that protocol to it all the same.
func checkProtocols(svc Service) error {
	seen := map[Protocol]bool{}
	for _, p := range svc.Protocols() {
		if seen[p] {
			return fmt.Errorf("wire: %s: protocol %s is listed twice", svc.Name, p)
		}
		seen[p] = true
		switch p {
		case AWSQuery, EC2Query:
			if svc.Version == "" {
				return fmt.Errorf("wire: %s: query protocols need a Version", svc.Name)
			}
		case AWSJSON10, AWSJSON11:
			if svc.TargetPrefix == "" {
				return fmt.Errorf("wire: %s: awsJson needs a TargetPrefix", svc.Name)
			}
		case RPCv2CBOR:
			if svc.ShapeName == "" {
				return fmt.Errorf("wire: %s: rpcv2Cbor needs a ShapeName", svc.Name)
			}
		case RestJSON1:
			// Requests are routed by method and URI template, from the
			// generated tables.
		default:
			return fmt.Errorf("wire: %s: unknown protocol %q", svc.Name, p)
		}
	}
	switch {
	case seen[AWSQuery] && seen[EC2Query], seen[AWSJSON10] && seen[AWSJSON11]:
		return fmt.Errorf("wire: %s: two versions of one protocol in %v", svc.Name, svc.Protocols())
	case svc.Version != "" && !seen[AWSQuery] && !seen[EC2Query]:
		return fmt.Errorf("wire: %s: a Version but no query protocol in %v", svc.Name, svc.Protocols())
	case svc.TargetPrefix != "" && !seen[AWSJSON10] && !seen[AWSJSON11]:
		return fmt.Errorf("wire: %s: a TargetPrefix but no awsJson protocol in %v", svc.Name, svc.Protocols())
	case svc.ShapeName != "" && !seen[RPCv2CBOR]:
		return fmt.Errorf("wire: %s: a ShapeName but no rpcv2Cbor protocol in %v", svc.Name, svc.Protocols())
	}
	return nil
}

// operations finds the handler methods shaped like SDK client methods:
// func(ctx, *XInput, ...func(*Options)) (*XOutput, error).
func operations(h any) map[string]*operation {
	ops := map[string]*operation{}
	v := reflect.ValueOf(h)
	t := v.Type()
	for i := 0; i < t.NumMethod(); i++ {
		m := t.Method(i)
		mt := m.Type // includes the receiver
		if mt.NumIn() != 4 || mt.NumOut() != 2 || !mt.IsVariadic() ||
			mt.In(1) != ctxType || mt.In(2).Kind() != reflect.Pointer || mt.In(2).Elem().Kind() != reflect.Struct ||
			mt.Out(0).Kind() != reflect.Pointer || mt.Out(0).Elem().Kind() != reflect.Struct || mt.Out(1) != errType ||
			mt.In(2).Elem().Name() != m.Name+"Input" {
			continue
		}
		ops[m.Name] = &operation{
			name: m.Name,
			fn:   v.Method(i),
			in:   mt.In(2).Elem(),
			out:  mt.Out(0).Elem(),
		}
	}
	return ops
}

// Handle mounts h for every path under prefix (for example the admin API at
// "/_phoenix/"); such paths never reach a service.
func (s *Server) Handle(prefix string, h http.Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reserved = append(s.reserved, reservedPath{prefix, h})
}

// call is one request in flight.
type call struct {
	w     http.ResponseWriter
	r     *http.Request
	svc   *service
	proto Protocol
	op    string         // as named by the request, even if unknown
	route *compiledRoute // restJson1 only
	req   api.Request
	start time.Time
}

// ServeHTTP identifies the service and operation of an AWS request, decodes
// it, calls the model and encodes the answer.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	for _, rp := range s.reserved {
		if strings.HasPrefix(r.URL.Path, rp.prefix) {
			s.mu.RUnlock()
			rp.h.ServeHTTP(w, r)
			return
		}
	}
	s.mu.RUnlock()

	signing, region := credentialScope(r)
	c := &call{w: w, r: r, start: time.Now()}
	c.req = api.Request{Region: region, Account: s.opts.Account, RequestID: s.opts.RequestID()}
	var src io.Reader = r.Body
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		// Clients compress large bodies of operations marked
		// @requestCompression (CloudWatch PutMetricData).
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			c.proto = s.guessProtocol(r)
			s.writeError(c, api.Errorf(http.StatusBadRequest, "SerializationException", "The gzip-encoded request body is corrupt: %v", err))
			return
		}
		defer zr.Close()
		src = zr
	}
	body, err := io.ReadAll(io.LimitReader(src, maxBodyLen+1))
	if err != nil || len(body) > maxBodyLen {
		c.proto = s.guessProtocol(r)
		s.writeError(c, api.Errorf(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "Request body must be at most %d bytes", maxBodyLen))
		return
	}
	defer func() {
		if p := recover(); p != nil {
			s.opts.Logger.Error("wire: handler panicked", "service", c.req.Service, "operation", c.op, "panic", p, "requestId", c.req.RequestID)
			s.writeError(c, api.Internal("An internal error occurred. Request id %s.", c.req.RequestID))
		}
	}()

	switch {
	case r.Header.Get("X-Amz-Target") != "":
		s.serveJSON(c, body)
	case strings.EqualFold(r.Header.Get("Smithy-Protocol"), "rpc-v2-cbor"):
		s.serveCBOR(c, body)
	default:
		if svc := s.restService(signing, r); svc != nil {
			s.serveRest(c, body, svc)
			return
		}
		s.serveQuery(c, body, signing)
	}
}

// Count records one request for service's operation. The server counts
// every request it routes to an operation, answered or refused (a
// throttled call is a call); the cloud also counts what it forwards
// elsewhere (DynamoDB) so that one table shows every call. r, when not nil,
// attributes the call to the access key it was signed with.
func (s *Server) Count(r *http.Request, service, operation string) {
	s.countMu.Lock()
	defer s.countMu.Unlock()
	if s.counts == nil {
		s.counts, s.byKey = map[string]int{}, map[string]map[string]int{}
	}
	name := service + "." + operation
	s.counts[name]++
	if r == nil {
		return
	}
	key := AccessKeyID(r)
	if s.byKey[key] == nil {
		s.byKey[key] = map[string]int{}
	}
	s.byKey[key][name]++
}

// Requests returns how many requests each "service.Operation" has had, so
// that a benchmark can report the AWS calls a scenario made.
func (s *Server) Requests() map[string]int {
	s.countMu.Lock()
	defer s.countMu.Unlock()
	return maps.Clone(s.counts)
}

// RequestsByAccessKey returns Requests per access key id ("" for unsigned
// requests).
func (s *Server) RequestsByAccessKey() map[string]map[string]int {
	s.countMu.Lock()
	defer s.countMu.Unlock()
	out := make(map[string]map[string]int, len(s.byKey))
	for k, v := range s.byKey {
		out[k] = maps.Clone(v)
	}
	return out
}

// AccessKeyID returns the access key id a SigV4 request was signed with,
// "" for an unsigned one.
func AccessKeyID(r *http.Request) string {
	akid, _, _ := strings.Cut(credential(r), "/")
	return akid
}

// guessProtocol picks the error format for a request rejected before it
// was identified.
func (s *Server) guessProtocol(r *http.Request) Protocol {
	switch {
	case r.Header.Get("X-Amz-Target") != "":
		return AWSJSON11
	case strings.EqualFold(r.Header.Get("Smithy-Protocol"), "rpc-v2-cbor"):
		return RPCv2CBOR
	}
	if signing, _ := credentialScope(r); s.restService(signing, r) != nil {
		return RestJSON1
	}
	return AWSQuery
}

// credential is the Credential of a SigV4 Authorization header (or of a
// presigned query): AKID/date/region/service/aws4_request.
func credential(r *http.Request) string {
	if a := r.Header.Get("Authorization"); a != "" {
		i := strings.Index(a, "Credential=")
		if i < 0 {
			return ""
		}
		cred := a[i+len("Credential="):]
		if j := strings.IndexAny(cred, ", "); j >= 0 {
			cred = cred[:j]
		}
		return cred
	}
	return r.URL.Query().Get("X-Amz-Credential")
}

// credentialScope reads the signing name and region from a SigV4
// Authorization header (or presigned query); signatures are not checked.
func credentialScope(r *http.Request) (signing, region string) {
	cred := credential(r)
	// SigV4: AKID/date/region/service/aws4_request. SigV4a (EventBridge
	// global endpoints) drops the region from the scope and names the
	// regions in X-Amz-Region-Set instead.
	parts := strings.Split(cred, "/")
	switch len(parts) {
	case 5:
		region, signing = parts[2], parts[3]
	case 4:
		signing = parts[2]
		if set := r.Header.Get("X-Amz-Region-Set"); set != "" && !strings.ContainsAny(set, ",*") {
			region = set
		}
	}
	if region == "" {
		region = api.DefaultRegion
	}
	return signing, region
}

func (s *Server) serveQuery(c *call, body []byte, signing string) {
	c.proto = AWSQuery
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		s.writeError(c, api.Errorf(http.StatusBadRequest, "MalformedQueryString", "The request body is not a valid form-encoded query: %v", err))
		return
	}
	for k, v := range c.r.URL.Query() {
		if _, ok := vals[k]; !ok {
			vals[k] = v
		}
	}
	action, version := vals.Get("Action"), vals.Get("Version")
	s.mu.RLock()
	cands := s.byVer[version]
	var svc *service
	for _, cand := range cands {
		if svc == nil || cand.Name == signing {
			svc = cand
		}
	}
	if svc == nil && signing != "" && version == "" {
		svc = s.services[signing]
		if svc != nil && svc.Version == "" {
			svc = nil
		}
	}
	s.mu.RUnlock()
	if svc != nil {
		// A service may speak a newer protocol and still accept query
		// requests (CloudWatch: rpcv2Cbor for current SDKs, awsQuery for
		// the Debian AWS CLI).
		c.svc = svc
		if svc.serves(EC2Query) {
			c.proto = EC2Query
		}
		c.req.Service = svc.Name
	}
	c.op = action
	c.req.Operation = action
	switch {
	case action == "":
		s.writeError(c, api.Errorf(http.StatusBadRequest, "MissingAction", "The request must contain the parameter Action."))
		return
	case svc == nil && version == "":
		s.writeError(c, api.Errorf(http.StatusBadRequest, "MissingParameter", "The request must contain the parameter Version."))
		return
	case svc == nil:
		s.writeError(c, api.Errorf(http.StatusBadRequest, "InvalidAction", "The action %s is not valid for this web service.", action))
		return
	}
	op := svc.ops[action]
	if op == nil {
		s.writeError(c, api.Errorf(http.StatusBadRequest, "InvalidAction", "The action %s is not valid for this web service.", action))
		return
	}
	in := reflect.New(op.in)
	if err := newFormDecoder(vals).decodeStruct("", in.Elem()); err != nil {
		s.writeError(c, s.decodeFailure(c, err))
		return
	}
	s.invoke(c, op, in)
}

// decodeFailure turns a decoding error into the protocol's client error.
func (s *Server) decodeFailure(c *call, err error) *api.Error {
	var de *decodeError
	if !errors.As(err, &de) {
		return api.Errorf(http.StatusBadRequest, serializationCode(c.proto), "Could not read the request: %v", err)
	}
	switch c.proto {
	case EC2Query:
		return api.InvalidParameterValue("Invalid value '%s' for %s: must be %s.", de.value, de.path, strings.TrimPrefix(de.want, "a "))
	case AWSQuery:
		return api.Validation("1 validation error detected: %s", de.Error())
	}
	return api.Errorf(http.StatusBadRequest, "SerializationException", "%s", de.Error())
}

func serializationCode(p Protocol) string {
	switch p {
	case AWSQuery:
		return "ValidationError"
	case EC2Query:
		return "InvalidParameterValue"
	}
	return "SerializationException"
}

// invoke validates the decoded input, applies faults, calls the handler
// and writes its answer.
func (s *Server) invoke(c *call, op *operation, in reflect.Value) {
	s.Count(c.r, c.svc.Name, op.name)
	if apiErr := c.svc.validate.check(c, op, in); apiErr != nil {
		s.writeError(c, apiErr)
		return
	}
	if s.opts.Authorize != nil {
		if err := s.opts.Authorize(api.WithRequest(c.r.Context(), c.req), AccessKeyID(c.r), in.Interface()); err != nil {
			s.writeError(c, s.authorizationError(c, err))
			return
		}
	}
	if s.opts.Faults != nil {
		for _, rule := range s.opts.Faults.API(c.svc.Name, op.name) {
			switch rule.Kind {
			case faults.Latency:
				t := time.NewTimer(rule.Delay())
				select {
				case <-t.C:
				case <-c.r.Context().Done():
					t.Stop()
					return // the client is gone; nobody reads an answer
				}
			case faults.Throttle:
				s.writeError(c, throttleError(c.svc, rule))
				if s.opts.Throttled != nil {
					s.opts.Throttled(api.WithRequest(c.r.Context(), c.req), in.Interface())
				}
				return
			case faults.ServerError:
				s.writeError(c, serverError(rule))
				return
			}
		}
	}
	ctx := api.WithRequest(c.r.Context(), c.req)
	res := op.fn.Call([]reflect.Value{reflect.ValueOf(ctx), in})
	if errV := res[1]; !errV.IsNil() {
		err := errV.Interface().(error)
		var apiErr *api.Error
		if !errors.As(err, &apiErr) {
			s.opts.Logger.Error("wire: handler returned a non-API error", "service", c.svc.Name, "operation", op.name, "err", err, "requestId", c.req.RequestID)
			apiErr = api.Internal("An internal error occurred. Request id %s.", c.req.RequestID)
		}
		s.writeError(c, apiErr)
		return
	}
	out := res[0]
	if out.IsNil() {
		out = reflect.New(op.out)
	}
	s.writeOutput(c, op, out.Elem())
}

func throttleError(svc *service, r faults.Rule) *api.Error {
	e := &api.Error{Code: svc.ThrottleCode, Status: svc.ThrottleStatus, Message: "Rate exceeded"}
	if r.Code != "" {
		e.Code = r.Code
	}
	if r.Status != 0 {
		e.Status = r.Status
	}
	if r.Message != "" {
		e.Message = r.Message
	}
	return e
}

func serverError(r faults.Rule) *api.Error {
	e := &api.Error{Code: "ServiceUnavailable", Status: http.StatusServiceUnavailable, Server: true,
		Message: "Service is unavailable. Please try again later."}
	if r.Status == http.StatusInternalServerError {
		e.Code, e.Status, e.Message = "InternalFailure", r.Status, "The request processing has failed because of an unknown error, exception or failure."
	} else if r.Status != 0 {
		e.Status = r.Status
	}
	if r.Code != "" {
		e.Code = r.Code
	}
	if r.Message != "" {
		e.Message = r.Message
	}
	return e
}

// writeOutput encodes a handler's result in the request's protocol.
func (s *Server) writeOutput(c *call, op *operation, out reflect.Value) {
	var buf bytes.Buffer
	var ctype string
	switch c.proto {
	case AWSQuery:
		ctype = "text/xml"
		buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
		buf.WriteString("<" + op.name + "Response")
		if c.svc.XMLNamespace != "" {
			buf.WriteString(` xmlns="`)
			xmlEscape(&buf, c.svc.XMLNamespace)
			buf.WriteString(`"`)
		}
		buf.WriteString(">")
		if infoFor(op.out).hasOut || generatedResultShapes[op.out.PkgPath()+"."+op.out.Name()] {
			e := xmlEncoder{buf: &buf, member: "member"}
			e.open(op.name + "Result")
			e.fields(out)
			e.close(op.name + "Result")
		}
		buf.WriteString("<ResponseMetadata><RequestId>")
		xmlEscape(&buf, c.req.RequestID)
		buf.WriteString("</RequestId></ResponseMetadata></" + op.name + "Response>")
	case EC2Query:
		ctype = "text/xml;charset=UTF-8"
		ns := c.svc.XMLNamespace
		if ns == "" {
			ns = "http://ec2.amazonaws.com/doc/" + c.svc.Version + "/"
		}
		buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
		buf.WriteString("<" + op.name + `Response xmlns="`)
		xmlEscape(&buf, ns)
		buf.WriteString(`"><requestId>`)
		xmlEscape(&buf, c.req.RequestID)
		buf.WriteString("</requestId>")
		e := xmlEncoder{buf: &buf, member: "item"}
		e.fields(out)
		buf.WriteString("</" + op.name + "Response>")
	case AWSJSON10, AWSJSON11:
		ctype = jsonContentType(c.proto)
		e := jsonEncoder{buf: &buf}
		e.structValue(out)
	case RestJSON1:
		s.writeRestOutput(c, op, out)
		return
	case RPCv2CBOR:
		ctype = "application/cbor"
		b, err := encodeCBOR(out)
		if err != nil {
			s.writeError(c, api.Internal("encode response: %v", err))
			return
		}
		buf.Write(b)
	}
	s.finish(c, http.StatusOK, ctype, buf.Bytes())
}

func jsonContentType(p Protocol) string {
	if p == AWSJSON10 {
		return "application/x-amz-json-1.0"
	}
	return "application/x-amz-json-1.1"
}

// writeError encodes e in the shape the request's protocol uses for errors.
func (s *Server) writeError(c *call, e *api.Error) {
	status := e.HTTPStatus()
	var buf bytes.Buffer
	var ctype string
	switch c.proto {
	case EC2Query:
		ctype = "text/xml;charset=UTF-8"
		buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<Response><Errors><Error><Code>")
		xmlEscape(&buf, e.Code)
		buf.WriteString("</Code><Message>")
		xmlEscape(&buf, e.Message)
		buf.WriteString("</Message></Error></Errors><RequestID>")
		xmlEscape(&buf, c.req.RequestID)
		buf.WriteString("</RequestID></Response>")
	case AWSJSON10, AWSJSON11:
		ctype = jsonContentType(c.proto)
		c.w.Header().Set("X-Amzn-ErrorType", e.Code)
		if c.svc != nil && c.svc.QueryCompatible && e.Shape != "" {
			c.w.Header().Set("X-Amzn-Query-Error", e.Code+";"+faultType(e))
		}
		buf.Write(jsonError(c.svc, e))
	case RestJSON1:
		ctype = "application/json"
		restError(&buf, c.w, c.svc, e)
	case RPCv2CBOR:
		ctype = "application/cbor"
		if e.Shape != "" {
			// Query-compatible clients take the code from here and the
			// typed error from __type.
			c.w.Header().Set("X-Amzn-Query-Error", e.Code+";"+faultType(e))
		}
		buf.Write(cborError(c.svc, e))
	default:
		ctype = "text/xml"
		ns := ""
		if c.svc != nil {
			ns = c.svc.XMLNamespace
		}
		typ := faultType(e)
		buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<ErrorResponse")
		if ns != "" {
			buf.WriteString(` xmlns="`)
			xmlEscape(&buf, ns)
			buf.WriteString(`"`)
		}
		buf.WriteString("><Error><Type>" + typ + "</Type><Code>")
		xmlEscape(&buf, e.Code)
		buf.WriteString("</Code><Message>")
		xmlEscape(&buf, e.Message)
		buf.WriteString("</Message>")
		writeXMLMembers(&buf, e.Members)
		buf.WriteString("</Error><RequestId>")
		xmlEscape(&buf, c.req.RequestID)
		buf.WriteString("</RequestId></ErrorResponse>")
	}
	s.opts.Logger.Info("wire: request failed", "service", c.req.Service, "operation", c.op, "code", e.Code, "status", status, "requestId", c.req.RequestID)
	s.finish(c, status, ctype, buf.Bytes())
}

func (s *Server) finish(c *call, status int, ctype string, body []byte) {
	h := c.w.Header()
	h.Set("X-Amzn-Requestid", c.req.RequestID)
	if status == http.StatusNoContent || status == http.StatusNotModified {
		// These answers have no body, not even an empty one (Lambda's
		// DryRun invocations and DeleteFunction answer 204).
		body = nil
	} else {
		h.Set("Content-Type", ctype)
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	if c.proto == RPCv2CBOR {
		h.Set("Smithy-Protocol", "rpc-v2-cbor")
	}
	c.w.WriteHeader(status)
	_, _ = c.w.Write(body)
	if status < 300 {
		s.opts.Logger.Debug("wire: request served", "service", c.req.Service, "operation", c.op, "requestId", c.req.RequestID, "elapsed", time.Since(c.start))
	}
}

// sortedKeys returns a map's keys in order, so that registration is
// repeatable.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func xmlEscape(w *bytes.Buffer, s string) {
	e := xmlEncoder{buf: w}
	e.text(s)
}
