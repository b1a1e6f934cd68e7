// Package api holds what every service of the local cloud shares: the
// request context (region, account, request id) and the AWS error value.
//
// Service models expose one method per AWS operation with exactly the
// aws-sdk-go-v2 client method signature, for example
//
//	func (a *AutoScaling) StartInstanceRefresh(ctx context.Context,
//		in *autoscaling.StartInstanceRefreshInput,
//		_ ...func(*autoscaling.Options)) (*autoscaling.StartInstanceRefreshOutput, error)
//
// so that a model, and the real SDK client pointed at the local cloud,
// satisfy the same narrow interface. The wire layer calls these methods after
// decoding a request and encodes what they return.
package api

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/aws/smithy-go"
)

// DefaultRegion is used when a request names no region.
const DefaultRegion = "us-east-1"

// Request describes the request being served.
type Request struct {
	Region    string
	Account   string
	RequestID string
	Service   string
	Operation string
}

type ctxKey struct{}

// WithRequest returns ctx carrying r.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, ctxKey{}, r)
}

// RequestFrom returns the request carried by ctx; Region defaults to
// DefaultRegion so that models called directly from Go tests work.
func RequestFrom(ctx context.Context) Request {
	r, _ := ctx.Value(ctxKey{}).(Request)
	if r.Region == "" {
		r.Region = DefaultRegion
	}
	return r
}

// Region returns the region of the request carried by ctx.
func Region(ctx context.Context) string { return RequestFrom(ctx).Region }

// Begin is the opening every model operation shares, written once: it
// returns the input to read, the request's region and a func that ends the
// operation, for use as
//
//	in, region, done := api.Begin(ctx, &w.mu, in)
//	defer done()
//
// The returned input is never nil. Go callers may pass nil to an SDK client
// method, and commonly do for an operation whose input has no required
// members (DescribeInstances(ctx, nil)); the SDK then sends an empty input.
// Begin replaces a nil in with a pointer to the zero T so that the model,
// called in process, answers such a call as the service would. The region
// is the request's, as Region returns it. mu, the model's lock, is locked
// before Begin returns and stays held until done is called, so the whole
// operation runs under it. The few operations whose locking differs (a
// second lock, the lock released before calling out or sending events, no
// lock at all) write their opening by hand, under a "Not api.Begin"
// comment saying why.
func Begin[T any](ctx context.Context, mu sync.Locker, in *T) (req *T, region string, done func()) {
	if in == nil {
		in = new(T)
	}
	mu.Lock()
	return in, Region(ctx), mu.Unlock
}

// Error is an AWS error as clients see it. It implements smithy.APIError, so
// tests can assert on ErrorCode() whether they call a model in process or a
// real SDK client over the wire.
type Error struct {
	// Code is the AWS error code, e.g. "ValidationError".
	Code string
	// Message is the human-readable message.
	Message string
	// Status is the HTTP status; 400 if zero.
	Status int
	// Server marks a fault of the service (Receiver) rather than the caller
	// (Sender).
	Server bool
	// Shape is the error's Smithy shape name when it differs from Code, as
	// in query-compatible services: CloudWatch's DashboardNotFoundError has
	// the code ResourceNotFound. Protocols that name the shape on the wire
	// (rpcv2Cbor) send it as the type and Code in X-Amzn-Query-Error, so
	// that clients build the typed error and still report Code.
	Shape string
	// Members are the error shape's members other than its message, keyed
	// by wire member name, with values made of strings, numbers, booleans,
	// []any and map[string]any (DashboardInvalidInputError's
	// dashboardValidationMessages). They travel in the error bodies of
	// every protocol that CloudWatch, the one service with such errors,
	// speaks: rpcv2Cbor, awsJson1.0 and awsQuery.
	Members map[string]any
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// ErrorCode implements smithy.APIError.
func (e *Error) ErrorCode() string { return e.Code }

// ErrorMessage implements smithy.APIError.
func (e *Error) ErrorMessage() string { return e.Message }

// ErrorFault implements smithy.APIError.
func (e *Error) ErrorFault() smithy.ErrorFault {
	if e.Server {
		return smithy.FaultServer
	}
	return smithy.FaultClient
}

// HTTPStatus returns the status the error is sent with.
func (e *Error) HTTPStatus() int {
	if e.Status == 0 {
		if e.Server {
			return http.StatusInternalServerError
		}
		return http.StatusBadRequest
	}
	return e.Status
}

// Errorf returns a client (4xx) error with the given code.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Status: status}
}

// Validation returns the ValidationError used by query-protocol services
// such as Auto Scaling and Elastic Load Balancing.
func Validation(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, "ValidationError", format, args...)
}

// InvalidParameterValue returns EC2's InvalidParameterValue error.
func InvalidParameterValue(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, "InvalidParameterValue", format, args...)
}

// Internal returns a server fault.
func Internal(format string, args ...any) *Error {
	return &Error{Code: "InternalFailure", Message: fmt.Sprintf(format, args...), Status: http.StatusInternalServerError, Server: true}
}

var _ smithy.APIError = (*Error)(nil)
