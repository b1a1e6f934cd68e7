// Command bootstrap is the function the functions package's tests build and
// run through the Lambda Runtime API. The event's "action" picks a
// behaviour; PHOENIX_FAIL_INIT makes the init phase fail.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// event is what the tests send.
type event struct {
	Action  string `json:"action"`
	Message string `json:"message"`
	Millis  int    `json:"millis"`
	Code    int    `json:"code"`
	Lines   int    `json:"lines"`
}

// ValidationFailed is a typed error: Lambda must report its type name.
type ValidationFailed struct{ Reason string }

func (e *ValidationFailed) Error() string { return "validation failed: " + e.Reason }

// invocations counts the invocations this process served, to tell a warm
// environment from a new one.
var invocations int

func handle(ctx context.Context, ev event) (map[string]any, error) {
	invocations++
	lc, _ := lambdacontext.FromContext(ctx)
	fmt.Printf("handling %s for %s\n", ev.Action, lc.AwsRequestID)
	switch ev.Action {
	case "echo":
		return map[string]any{"message": ev.Message, "requestId": lc.AwsRequestID, "arn": lc.InvokedFunctionArn}, nil
	case "count":
		return map[string]any{"invocations": invocations, "pid": os.Getpid()}, nil
	case "env":
		deadline, _ := ctx.Deadline()
		out := map[string]any{"deadlineInMillis": time.Until(deadline).Milliseconds(), "cwd": mustGetwd()}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			out[k] = v
		}
		return out, nil
	case "typed-error":
		return nil, &ValidationFailed{Reason: ev.Message}
	case "plain-error":
		return nil, errors.New(ev.Message)
	case "panic":
		panic(ev.Message)
	case "exit":
		fmt.Fprintf(os.Stderr, "exiting with %d\n", ev.Code)
		os.Exit(ev.Code)
	case "sleep":
		select {
		case <-time.After(time.Duration(ev.Millis) * time.Millisecond):
			return map[string]any{"slept": ev.Millis}, nil
		case <-ctx.Done():
			// Keep running past the deadline, as a careless function would.
			time.Sleep(time.Duration(ev.Millis) * time.Millisecond)
			return map[string]any{"slept": ev.Millis}, nil
		}
	case "print":
		// One line as the function writes it, such as an embedded metric
		// format document.
		fmt.Println(ev.Message)
		return map[string]any{"printed": true}, nil
	case "log":
		for i := range ev.Lines {
			fmt.Printf("line %04d %s\n", i, strings.Repeat("x", 60))
		}
		return map[string]any{"lines": ev.Lines}, nil
	}
	return nil, fmt.Errorf("unknown action %q", ev.Action)
}

func mustGetwd() string {
	wd, err := os.Getwd()
	if err != nil {
		return err.Error()
	}
	return wd
}

// failInit makes the init phase fail the way PHOENIX_FAIL_INIT says:
// "exit" ends the process, "post" reports through /runtime/init/error first.
func failInit(how string) {
	fmt.Println("init failing:", how)
	if how == "post" {
		url := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/init/error"
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader([]byte(`{"errorMessage":"the TABLE_NAME variable is not set","errorType":"ConfigError"}`)))
		if err == nil {
			req.Header.Set("Lambda-Runtime-Function-Error-Type", "Runtime.InitError")
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}
		os.Exit(1)
	}
	os.Exit(3)
}

func main() {
	if how := os.Getenv("PHOENIX_FAIL_INIT"); how != "" {
		failInit(how)
	}
	fmt.Println("init done")
	lambda.Start(handle)
}
