//go:build linux

package functions

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

func TestABuiltBootstrapAnswersThroughTheRuntimeAPI(t *testing.T) {
	h := newHarness(t)
	h.create(t, binaryFunction(t, "echo"))
	ctx := api.WithRequest(context.Background(), api.Request{RequestID: "11111111-2222-4333-8444-555555555555"})
	out, err := h.svc.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte(`{"action":"echo","message":"hello"}`)})
	if err != nil {
		t.Fatal(err)
	}
	got := decode(t, out)
	if out.StatusCode != 200 || aws.ToString(out.ExecutedVersion) != "$LATEST" {
		t.Fatalf("StatusCode %d, ExecutedVersion %q", out.StatusCode, aws.ToString(out.ExecutedVersion))
	}
	if got["message"] != "hello" {
		t.Fatalf("payload %s", out.Payload)
	}
	if got["requestId"] != "11111111-2222-4333-8444-555555555555" {
		t.Fatalf("the function saw request id %v, want the Invoke request's id", got["requestId"])
	}
	if got["arn"] != "arn:aws:lambda:us-east-1:123456789012:function:echo" {
		t.Fatalf("the function saw ARN %v", got["arn"])
	}
}

func TestFunctionErrorsReachTheCallerAsTheRuntimeReportsThem(t *testing.T) {
	h := newHarness(t)
	h.create(t, binaryFunction(t, "failing"))
	cases := []struct {
		name, action, message, errorType string
		stack                            bool
	}{
		{"a returned typed error is reported by its type name", "typed-error", "no capacity", "ValidationFailed", false},
		{"an errors.New error is reported as errorString", "plain-error", "boom", "errorString", false},
		{"a panic is reported with the panic value's type and a stack trace", "panic", "kaboom", "string", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := invoke(t, h.svc, "failing", map[string]any{"action": tc.action, "message": tc.message})
			p := functionError(t, out)
			if p.ErrorType != tc.errorType || !strings.Contains(p.ErrorMessage, tc.message) {
				t.Fatalf("error %+v, want type %s with message %q", p, tc.errorType, tc.message)
			}
			if (len(p.StackTrace) > 0) != tc.stack {
				t.Fatalf("stackTrace %v, want present=%v", p.StackTrace, tc.stack)
			}
		})
	}
}

func TestAWarmEnvironmentIsReusedAndAPanicEndsIt(t *testing.T) {
	h := newHarness(t)
	h.create(t, binaryFunction(t, "warm"))
	count := func() (int, int) {
		t.Helper()
		got := decode(t, invoke(t, h.svc, "warm", map[string]any{"action": "count"}))
		return int(got["invocations"].(float64)), int(got["pid"].(float64))
	}
	n1, pid1 := count()
	n2, pid2 := count()
	if n1 != 1 || n2 != 2 || pid1 != pid2 {
		t.Fatalf("two invocations ran as (%d, pid %d), (%d, pid %d); want the second in the same warm process", n1, pid1, n2, pid2)
	}
	functionError(t, invoke(t, h.svc, "warm", map[string]any{"action": "panic", "message": "x"}))
	n3, pid3 := count()
	if n3 != 1 || pid3 == pid1 {
		t.Fatalf("after a panic the invocation ran as (%d, pid %d); want a fresh process", n3, pid3)
	}
}

func TestConcurrentInvocationsGetTheirOwnEnvironments(t *testing.T) {
	h := newHarness(t)
	h.create(t, binaryFunction(t, "parallel"))
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			out, err := h.svc.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("parallel"), Payload: []byte(`{"action":"sleep","millis":300}`)})
			if err != nil {
				t.Errorf("invoke: %v", err)
			} else if out.FunctionError != nil {
				t.Errorf("function error: %s", out.Payload)
			}
		})
	}
	wg.Wait()
	h.svc.mu.Lock()
	fn := h.svc.lookup("us-east-1", "parallel")
	warm := len(fn.idle)
	h.svc.mu.Unlock()
	if warm != 2 {
		t.Fatalf("%d warm environments after two overlapping invocations, want 2", warm)
	}
}

func TestAProcessThatExitsMidInvocationIsARuntimeExitError(t *testing.T) {
	h := newHarness(t)
	h.create(t, binaryFunction(t, "exiting"))
	ctx := api.WithRequest(context.Background(), api.Request{RequestID: "00000000-0000-4000-8000-000000000042"})
	out, err := h.svc.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("exiting"), Payload: []byte(`{"action":"exit","code":3}`), LogType: types.LogTypeTail})
	if err != nil {
		t.Fatal(err)
	}
	p := functionError(t, out)
	want := "RequestId: 00000000-0000-4000-8000-000000000042 Error: Runtime exited with error: exit status 3"
	if p.ErrorType != "Runtime.ExitError" || p.ErrorMessage != want {
		t.Fatalf("error %+v, want Runtime.ExitError %q", p, want)
	}
	if !strings.HasPrefix(string(out.Payload), `{"errorType":"Runtime.ExitError"`) {
		t.Fatalf("payload %s: Lambda writes errorType first for runtime exits", out.Payload)
	}
	tail := decodeTail(t, out)
	if !strings.Contains(tail, "exiting with 3") || !strings.Contains(tail, "Status: error\tError Type: Runtime.ExitError") {
		t.Fatalf("log tail lacks the runtime's last words or the REPORT status:\n%s", tail)
	}
	if got := decode(t, invoke(t, h.svc, "exiting", map[string]any{"action": "echo", "message": "again"})); got["message"] != "again" {
		t.Fatal("the function did not recover in a new environment")
	}
}

func TestAnInvocationPastItsTimeoutIsKilledAndReportedAsSandboxTimedout(t *testing.T) {
	h := newHarness(t)
	in := binaryFunction(t, "slow")
	in.Timeout = aws.Int32(1)
	h.create(t, in)
	start := time.Now()
	out := invoke(t, h.svc, "slow", map[string]any{"action": "sleep", "millis": 5000})
	took := time.Since(start)
	p := functionError(t, out)
	if p.ErrorType != "Sandbox.Timedout" || !strings.HasSuffix(p.ErrorMessage, "Error: Task timed out after 1.00 seconds") || !strings.HasPrefix(p.ErrorMessage, "RequestId: ") {
		t.Fatalf("error %+v, want Sandbox.Timedout after 1.00 seconds", p)
	}
	if took > 4*time.Second {
		t.Fatalf("the timed-out invocation took %v; the runtime was not stopped at its timeout", took)
	}
	if got := decode(t, invoke(t, h.svc, "slow", map[string]any{"action": "echo", "message": "after"})); got["message"] != "after" {
		t.Fatal("the function did not recover after a timeout")
	}
	if !strings.Contains(h.svc.LogText("", "slow"), "Task timed out after 1.00 seconds") {
		t.Fatalf("the log does not record the timeout:\n%s", h.svc.LogText("", "slow"))
	}
}

func TestTheRuntimeGetsADeployedFunctionsEnvironment(t *testing.T) {
	t.Setenv("PHOENIX_HOST_ONLY", "leaked")
	h := newHarness(t)
	in := binaryFunction(t, "environ")
	in.MemorySize = aws.Int32(256)
	in.Timeout = aws.Int32(30)
	in.Environment = &types.Environment{Variables: map[string]string{"ROLLOUT_TABLE": "rollouts"}}
	h.create(t, in)
	got := decode(t, invoke(t, h.svc, "environ", map[string]any{"action": "env"}))
	want := map[string]string{
		"AWS_ENDPOINT_URL":                testEndpoint,
		"ROLLOUT_TABLE":                   "rollouts",
		"AWS_REGION":                      "us-east-1",
		"AWS_DEFAULT_REGION":              "us-east-1",
		"AWS_LAMBDA_FUNCTION_NAME":        "environ",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/environ",
		"_HANDLER":                        "bootstrap",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %q", k, got[k], v)
		}
	}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT"} {
		if s, _ := got[k].(string); s == "" {
			t.Errorf("%s is not set", k)
		}
	}
	if got["cwd"] != got["LAMBDA_TASK_ROOT"] {
		t.Errorf("the runtime runs in %v, not in LAMBDA_TASK_ROOT %v", got["cwd"], got["LAMBDA_TASK_ROOT"])
	}
	if stream, _ := got["AWS_LAMBDA_LOG_STREAM_NAME"].(string); !strings.HasPrefix(stream, "2026/01/05/[$LATEST]") {
		t.Errorf("AWS_LAMBDA_LOG_STREAM_NAME = %q, want Lambda's date/[$LATEST]id form", stream)
	}
	wantRoot := fmt.Sprintf("Root=1-%08x-", h.clk.Now().Unix())
	if trace, _ := got["_X_AMZN_TRACE_ID"].(string); !strings.HasPrefix(trace, wantRoot) || !strings.HasSuffix(trace, ";Sampled=0") {
		t.Errorf("_X_AMZN_TRACE_ID = %q, want a trace header rooted at the simulated time (%s...)", trace, wantRoot)
	}
	if left, _ := got["deadlineInMillis"].(float64); left <= 25000 || left > 30000 {
		t.Errorf("the context deadline was %v ms away, want just under the 30 s timeout", left)
	}
	if _, ok := got["PHOENIX_HOST_ONLY"]; ok {
		t.Error("the host's environment leaked into the function")
	}
}

// decodeTail returns an Invoke's LogResult as text.
func decodeTail(t *testing.T, out *lambda.InvokeOutput) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	if err != nil {
		t.Fatalf("LogResult is not base64: %v", err)
	}
	return string(b)
}

func TestLogTypeTailReturnsTheLast4KBOfTheInvocationsLog(t *testing.T) {
	h := newHarness(t)
	h.create(t, binaryFunction(t, "chatty"))
	ctx := api.WithRequest(context.Background(), api.Request{RequestID: "00000000-0000-4000-8000-000000000007"})
	out, err := h.svc.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("chatty"), Payload: []byte(`{"action":"log","lines":2}`), LogType: types.LogTypeTail})
	if err != nil {
		t.Fatal(err)
	}
	tail := decodeTail(t, out)
	for _, want := range []string{"init done", "START RequestId: 00000000-0000-4000-8000-000000000007 Version: $LATEST", "line 0001", "END RequestId: 00000000-0000-4000-8000-000000000007", "REPORT RequestId: 00000000-0000-4000-8000-000000000007\tDuration: "} {
		if !strings.Contains(tail, want) {
			t.Errorf("tail lacks %q:\n%s", want, tail)
		}
	}
	if strings.Index(tail, "init done") > strings.Index(tail, "START RequestId") {
		t.Errorf("init output should precede START:\n%s", tail)
	}

	big := invoke(t, h.svc, "chatty", map[string]any{"action": "log", "lines": 200}, withTail)
	bigTail := decodeTail(t, big)
	if len(bigTail) != 4096 || !strings.Contains(bigTail, "REPORT RequestId") || strings.Contains(bigTail, "line 0000") {
		t.Fatalf("tail of a long log is %d bytes (want 4096, ending with REPORT, without the first lines)", len(bigTail))
	}
	if none := invoke(t, h.svc, "chatty", map[string]any{"action": "echo"}); none.LogResult != nil {
		t.Fatal("LogResult is set without LogType Tail")
	}
	if logs := h.svc.Logs("", "chatty"); len(logs) < 200 || logs[0].Stream == "" {
		t.Fatalf("the function's log holds %d events", len(logs))
	}
}

func TestInitFailuresAreReportedToTheInvoker(t *testing.T) {
	cases := []struct {
		name, how, errorType, message string
	}{
		{"a runtime that exits during init is a Runtime.ExitError", "exit", "Runtime.ExitError", "Error: Runtime exited with error: exit status 3"},
		{"an error posted to /runtime/init/error reaches the invoker", "post", "ConfigError", "the TABLE_NAME variable is not set"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			in := binaryFunction(t, "broken")
			in.Environment = &types.Environment{Variables: map[string]string{"PHOENIX_FAIL_INIT": tc.how}}
			h.create(t, in)
			out := invoke(t, h.svc, "broken", map[string]any{"action": "echo"}, withTail)
			p := functionError(t, out)
			if p.ErrorType != tc.errorType || !strings.Contains(p.ErrorMessage, tc.message) {
				t.Fatalf("error %+v, want %s containing %q", p, tc.errorType, tc.message)
			}
			if tail := decodeTail(t, out); !strings.Contains(tail, "init failing: "+tc.how) || !strings.Contains(tail, "INIT_REPORT") {
				t.Fatalf("the log lacks the init output and INIT_REPORT:\n%s", tail)
			}
		})
	}
}

func TestAZipPackageIsUnpackedAndItsBootstrapRun(t *testing.T) {
	h := newHarness(t)
	bin, err := os.ReadFile(testBootstrap(t))
	if err != nil {
		t.Fatal(err)
	}
	in := binaryFunction(t, "zipped")
	in.Code = &types.FunctionCode{ZipFile: zipOf(t, map[string]zipEntry{"bootstrap": {bin, 0o755}, "config/settings.json": {[]byte(`{}`), 0o644}})}
	created := h.create(t, in)
	if created.CodeSize == 0 || aws.ToString(created.CodeSha256) == "" {
		t.Fatalf("CodeSize %d, CodeSha256 %q", created.CodeSize, aws.ToString(created.CodeSha256))
	}
	if got := decode(t, invoke(t, h.svc, "zipped", map[string]any{"action": "echo", "message": "from zip"})); got["message"] != "from zip" {
		t.Fatalf("payload %v", got)
	}

	noBootstrap := binaryFunction(t, "empty")
	noBootstrap.Code = &types.FunctionCode{ZipFile: zipOf(t, map[string]zipEntry{"main.go": {[]byte("package main"), 0o644}})}
	h.create(t, noBootstrap)
	p := functionError(t, invoke(t, h.svc, "empty", map[string]any{}))
	if p.ErrorType != "Runtime.InvalidEntrypoint" || !strings.Contains(p.ErrorMessage, "Couldn't find valid bootstrap(s)") {
		t.Fatalf("error %+v, want Runtime.InvalidEntrypoint", p)
	}
}

func TestUpdatingCodeRetiresWarmEnvironments(t *testing.T) {
	h := newHarness(t)
	h.create(t, binaryFunction(t, "rolled"))
	first := decode(t, invoke(t, h.svc, "rolled", map[string]any{"action": "count"}))
	if _, err := h.svc.UpdateFunctionCode(context.Background(), &lambda.UpdateFunctionCodeInput{
		FunctionName: aws.String("rolled"), S3Bucket: aws.String(LocalCodeBucket), S3Key: aws.String(testBootstrap(t)),
	}); err != nil {
		t.Fatal(err)
	}
	h.clk.Settle()
	second := decode(t, invoke(t, h.svc, "rolled", map[string]any{"action": "count"}))
	if second["invocations"].(float64) != 1 || second["pid"] == first["pid"] {
		t.Fatalf("after UpdateFunctionCode the invocation ran in the old environment (%v then %v)", first, second)
	}
}

func TestClosingTheServiceLeavesNoRuntimeProcess(t *testing.T) {
	h := newHarness(t)
	h.create(t, binaryFunction(t, "reaped"))
	pid := int(decode(t, invoke(t, h.svc, "reaped", map[string]any{"action": "count"}))["pid"].(float64))
	if err := h.svc.Close(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Fatalf("runtime process %d is still alive after Close", pid)
	}
	if _, err := h.svc.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("reaped")}); err == nil {
		t.Fatal("Invoke succeeded on a closed service")
	}
}
