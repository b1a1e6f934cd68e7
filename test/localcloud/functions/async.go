package functions

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

// retryDelays are the waits before the second and third attempts of an
// asynchronous invocation that failed with a function error: one minute,
// then two.
var retryDelays = []time.Duration{time.Minute, 2 * time.Minute}

// AsyncStatus is where an asynchronous invocation stands.
type AsyncStatus string

// The states of an asynchronous invocation.
const (
	// AsyncQueued: an attempt is scheduled.
	AsyncQueued AsyncStatus = "Queued"
	// AsyncSucceeded: an attempt returned without a function error.
	AsyncSucceeded AsyncStatus = "Succeeded"
	// AsyncRetriesExhausted: every allowed attempt failed; Lambda discards
	// the event (or sends it to an on-failure destination).
	AsyncRetriesExhausted AsyncStatus = "RetriesExhausted"
	// AsyncEventAgeExceeded: the event outlived MaximumEventAgeInSeconds
	// before its next attempt and was discarded.
	AsyncEventAgeExceeded AsyncStatus = "EventAgeExceeded"
	// AsyncFunctionDeleted: the function was deleted before the next attempt.
	AsyncFunctionDeleted AsyncStatus = "FunctionDeleted"
)

// AsyncInvocation records one event invoked with InvocationType Event and
// what became of each attempt.
type AsyncInvocation struct {
	// RequestID is the invocation's request id; every attempt keeps it.
	RequestID string
	// FunctionArn is the ARN the event was sent to.
	FunctionArn string
	// Payload is the event.
	Payload []byte
	// Enqueued is the simulated instant Lambda accepted the event.
	Enqueued time.Time
	// Attempts lists the attempts made, in order.
	Attempts []AsyncAttempt
	// Status is the outcome so far.
	Status AsyncStatus
}

// AsyncAttempt is one run of an asynchronous invocation.
type AsyncAttempt struct {
	// At is the simulated instant the attempt ran.
	At time.Time
	// ErrorType is the function error's errorType, empty on success.
	ErrorType string
	// Failed marks a function error (including timeouts and crashes).
	Failed bool
	// Payload is the function's response or error payload.
	Payload []byte
}

// enqueue accepts an event and schedules its first attempt at the current
// simulated instant.
func (s *Service) enqueue(fn *function, id string, payload []byte, invoked, trace, clientContext string) {
	s.mu.Lock()
	rec := &AsyncInvocation{RequestID: id, FunctionArn: invoked, Payload: payload, Enqueued: s.clock.Now(), Status: AsyncQueued}
	fn.async = append(fn.async, rec)
	s.mu.Unlock()
	s.scheduleAttempt(fn, rec, s.clock.Now(), trace, clientContext)
}

// scheduleAttempt runs the next attempt of rec at the simulated instant at.
// The attempt runs inside the clock event, so stepped time does not move
// while the function runs.
func (s *Service) scheduleAttempt(fn *function, rec *AsyncInvocation, at time.Time, trace, clientContext string) {
	s.clock.At(at, fmt.Sprintf("lambda:async %s %s attempt %d", fn.name, rec.RequestID, len(rec.Attempts)+1), func() {
		s.mu.Lock()
		if s.closed || s.lookup(fn.region, fn.name) != fn {
			rec.Status = AsyncFunctionDeleted
			s.mu.Unlock()
			return
		}
		retries, maxAge := fn.retryPolicy()
		if age := s.clock.Now().Sub(rec.Enqueued); len(rec.Attempts) > 0 && age > maxAge {
			rec.Status = AsyncEventAgeExceeded
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()

		r, _ := s.attempt(fn, rec.RequestID, rec.Payload, rec.FunctionArn, trace, clientContext)

		s.mu.Lock()
		defer s.mu.Unlock()
		now := s.clock.Now()
		rec.Attempts = append(rec.Attempts, AsyncAttempt{At: now, ErrorType: r.errorType, Failed: r.failed, Payload: r.payload})
		switch {
		case !r.failed:
			rec.Status = AsyncSucceeded
		case len(rec.Attempts) > retries:
			rec.Status = AsyncRetriesExhausted
		default:
			next := now.Add(retryDelays[len(rec.Attempts)-1])
			if next.Sub(rec.Enqueued) > maxAge {
				rec.Status = AsyncEventAgeExceeded
				return
			}
			s.scheduleAttempt(fn, rec, next, trace, clientContext)
		}
	})
}

// AsyncInvocations returns copies of the asynchronous invocations of a
// function (in region, or api.DefaultRegion if empty), oldest first.
func (s *Service) AsyncInvocations(region, name string) []AsyncInvocation {
	if region == "" {
		region = api.DefaultRegion
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fn := s.lookup(region, name)
	if fn == nil {
		return nil
	}
	out := make([]AsyncInvocation, len(fn.async))
	for i, rec := range fn.async {
		out[i] = *rec
		out[i].Attempts = append([]AsyncAttempt(nil), rec.Attempts...)
	}
	return out
}

// Deliver invokes the function named by arn asynchronously with input, as
// EventBridge and other services that invoke Lambda do. The error is the
// Invoke error (ResourceNotFoundException for a missing function).
func (s *Service) Deliver(ctx context.Context, arn string, input []byte) error {
	// The delivering service's request is not the invocation: the event gets
	// its own request id, in the region the ARN names.
	req := api.RequestFrom(ctx)
	req.RequestID = ""
	if m := nameParts.FindStringSubmatch(arn); m != nil && m[1] != "" {
		req.Region = m[1]
	}
	ctx = api.WithRequest(ctx, req)
	out, err := s.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(arn), InvocationType: types.InvocationTypeEvent, Payload: input})
	if err != nil {
		return fmt.Errorf("invoke %s: %w", arn, err)
	}
	if out.StatusCode != 202 {
		return errors.New("invoke " + arn + ": the event was not accepted")
	}
	return nil
}
