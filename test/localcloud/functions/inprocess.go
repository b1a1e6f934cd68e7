package functions

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// runInProcess calls a registered Go handler as aws-lambda-go's runtime
// loop would: with a lambdacontext and the invocation's deadline, turning a
// returned error or a panic into the error document aws-lambda-go posts.
// A handler still running at the timeout is abandoned (its context is
// cancelled; a goroutine cannot be killed).
func (s *Service) runInProcess(h lambda.Handler, inv *invocation) run {
	deadline := time.Now().Add(inv.timeout)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	lc := &lambdacontext.LambdaContext{AwsRequestID: inv.id, InvokedFunctionArn: inv.arn}
	if inv.clientContext != "" {
		if err := json.Unmarshal([]byte(inv.clientContext), &lc.ClientContext); err != nil {
			return run{res: errorDocument(fmt.Errorf("failed to unmarshal client context json: %w", err))}
		}
	}
	ctx = lambdacontext.NewContext(ctx, lc)

	done := make(chan result, 1)
	begun := time.Now()
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- panicDocument(p)
			}
		}()
		out, err := h.Invoke(ctx, inv.payload)
		switch {
		case err != nil:
			done <- errorDocument(err)
		case len(out) > maxResponsePayload:
			done <- responseTooLarge()
		default:
			done <- result{payload: out}
		}
	}()
	timer := time.NewTimer(inv.timeout)
	defer timer.Stop()
	select {
	case r := <-done:
		return run{res: r, dur: time.Since(begun)}
	case <-timer.C:
		return run{res: timeoutResult(inv.id, int32(inv.timeout/time.Second)), dur: inv.timeout}
	}
}

// errorType names an error value's type as aws-lambda-go does: the type
// name, without the pointer ("errorString" for errors.New).
func errorType(v any) string {
	t := reflect.TypeOf(v)
	if t == nil {
		return ""
	}
	if t.Kind() == reflect.Pointer {
		return t.Elem().Name()
	}
	return t.Name()
}

// errorDocument is the error payload aws-lambda-go posts for a handler's
// returned error.
func errorDocument(err error) result {
	doc := messages.InvokeResponse_Error{Message: err.Error(), Type: errorType(err)}
	// aws-lambda-go passes an InvokeResponse_Error through only when it is
	// the returned error itself, not when it is wrapped.
	if ive, ok := err.(messages.InvokeResponse_Error); ok { //nolint:errorlint // matches aws-lambda-go's assertion
		doc = ive
	}
	b, _ := json.Marshal(doc)
	return result{payload: b, failed: true, errorType: doc.Type}
}

// panicDocument is the error payload aws-lambda-go posts for a panic, with
// the stack trace in its format.
func panicDocument(p any) result {
	if ive, ok := p.(messages.InvokeResponse_Error); ok {
		b, _ := json.Marshal(ive)
		return result{payload: b, failed: true, errorType: ive.Type}
	}
	pcs := make([]uintptr, 32)
	n := runtime.Callers(3, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	var stack []*messages.InvokeResponse_Error_StackFrame
	for {
		f, more := frames.Next()
		stack = append(stack, stackFrame(f))
		if !more {
			break
		}
	}
	doc := messages.InvokeResponse_Error{Message: fmt.Sprintf("%v", p), Type: errorType(p), StackTrace: stack}
	b, _ := json.Marshal(doc)
	return result{payload: b, failed: true, errorType: doc.Type}
}

// stackFrame formats a frame as aws-lambda-go does: the path from the
// package directory on, the function without its package.
func stackFrame(f runtime.Frame) *messages.InvokeResponse_Error_StackFrame {
	path, label := f.File, f.Function
	i := len(path)
	for n, g := 0, strings.Count(label, "/")+2; n < g; n++ {
		i = strings.LastIndex(path[:i], "/")
		if i == -1 {
			break
		}
	}
	path = path[i+1:]
	label = label[strings.LastIndex(label, "/")+1:]
	label = label[strings.Index(label, ".")+1:]
	return &messages.InvokeResponse_Error_StackFrame{Path: path, Line: int32(f.Line), Label: label}
}
