// Package awserr classifies AWS SDK errors in one place, so that every
// adapter turns throttling, server faults and missing resources into the
// rollout domain's typed errors the same way.
package awserr

import (
	"context"
	"errors"
	"net"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// throttleCodes are the throttling codes of the services Phoenix calls.
var throttleCodes = map[string]bool{
	"Throttling": true, "ThrottlingException": true, "ThrottledException": true,
	"RequestLimitExceeded": true, "TooManyRequestsException": true, "RequestThrottled": true,
	"ProvisionedThroughputExceededException": true, "RequestThrottledException": true,
	"SlowDown": true, "PriorRequestNotComplete": true, "Throttled": true,
}

// Code returns the AWS error code of err, or "".
func Code(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// Transient reports whether err is worth retrying: throttling, a server
// fault, a timeout or a connection failure.
func Transient(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		return throttleCodes[api.ErrorCode()] || api.ErrorFault() == smithy.FaultServer ||
			strings.HasSuffix(api.ErrorCode(), "InternalError") || api.ErrorCode() == "ServiceUnavailable" ||
			api.ErrorCode() == "InternalFailure"
	}
	var maxAttempts *retry.MaxAttemptsError
	if errors.As(err, &maxAttempts) {
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr)
}

// Classify wraps err for the domain: transient failures become
// *rollout.TransientError, codes in notFound become *rollout.NotFoundError
// (kind and id name the resource), anything else is returned wrapped with
// op for context.
func Classify(op string, err error, kind, id string, notFound ...string) error {
	if err == nil {
		return nil
	}
	code := Code(err)
	for _, nf := range notFound {
		if code == nf {
			return &rollout.NotFoundError{Kind: kind, ID: id}
		}
	}
	if Transient(err) {
		return &rollout.TransientError{Op: op, Err: err}
	}
	return &opError{op: op, err: err}
}

type opError struct {
	op  string
	err error
}

func (e *opError) Error() string { return e.op + ": " + e.err.Error() }
func (e *opError) Unwrap() error { return e.err }
