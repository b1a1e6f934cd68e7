package functions

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
)

// lambdaAPI is the part of the Lambda API the tests use, with the SDK
// client's signatures, so that the same tests can run over HTTP against a
// real *lambda.Client.
type lambdaAPI interface {
	CreateFunction(ctx context.Context, in *lambda.CreateFunctionInput, optFns ...func(*lambda.Options)) (*lambda.CreateFunctionOutput, error)
	GetFunction(ctx context.Context, in *lambda.GetFunctionInput, optFns ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error)
	GetFunctionConfiguration(ctx context.Context, in *lambda.GetFunctionConfigurationInput, optFns ...func(*lambda.Options)) (*lambda.GetFunctionConfigurationOutput, error)
	ListFunctions(ctx context.Context, in *lambda.ListFunctionsInput, optFns ...func(*lambda.Options)) (*lambda.ListFunctionsOutput, error)
	DeleteFunction(ctx context.Context, in *lambda.DeleteFunctionInput, optFns ...func(*lambda.Options)) (*lambda.DeleteFunctionOutput, error)
	UpdateFunctionCode(ctx context.Context, in *lambda.UpdateFunctionCodeInput, optFns ...func(*lambda.Options)) (*lambda.UpdateFunctionCodeOutput, error)
	UpdateFunctionConfiguration(ctx context.Context, in *lambda.UpdateFunctionConfigurationInput, optFns ...func(*lambda.Options)) (*lambda.UpdateFunctionConfigurationOutput, error)
	Invoke(ctx context.Context, in *lambda.InvokeInput, optFns ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
	PutFunctionEventInvokeConfig(ctx context.Context, in *lambda.PutFunctionEventInvokeConfigInput, optFns ...func(*lambda.Options)) (*lambda.PutFunctionEventInvokeConfigOutput, error)
	GetFunctionEventInvokeConfig(ctx context.Context, in *lambda.GetFunctionEventInvokeConfigInput, optFns ...func(*lambda.Options)) (*lambda.GetFunctionEventInvokeConfigOutput, error)
}

var (
	_ lambdaAPI = (*Service)(nil)
	_ lambdaAPI = (*lambda.Client)(nil)
)

// testRole is a role ARN that satisfies the API's pattern.
const testRole = "arn:aws:iam::123456789012:role/phoenix-test"

// testEndpoint is what functions see as AWS_ENDPOINT_URL in the tests.
const testEndpoint = "http://127.0.0.1:4566"

// harness is a Lambda service on a stepped clock.
type harness struct {
	svc    *Service
	clk    *clock.Sim
	faults *faults.Injector
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	clk := clock.NewStepped(time.Time{})
	inj := faults.New(7)
	svc, err := New(Options{Clock: clk, Faults: inj, Seed: 7, Endpoint: testEndpoint, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := svc.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return &harness{svc: svc, clk: clk, faults: inj}
}

// create makes a function and lets the clock activate it.
func (h *harness) create(t *testing.T, in *lambda.CreateFunctionInput) *lambda.CreateFunctionOutput {
	t.Helper()
	out, err := h.svc.CreateFunction(context.Background(), in)
	if err != nil {
		t.Fatalf("CreateFunction(%s): %v", aws.ToString(in.FunctionName), err)
	}
	h.clk.Settle()
	return out
}

// inProcessFunction returns the input of a function whose code is a
// registered Go handler.
func inProcessFunction(name string) *lambda.CreateFunctionInput {
	return &lambda.CreateFunctionInput{
		FunctionName: aws.String(name),
		Role:         aws.String(testRole),
		Runtime:      types.RuntimeProvidedal2023,
		Handler:      aws.String("bootstrap"),
		Code:         &types.FunctionCode{S3Bucket: aws.String(LocalCodeBucket), S3Key: aws.String(InProcessKey)},
	}
}

// binaryFunction returns the input of a function running the test bootstrap.
func binaryFunction(t testing.TB, name string) *lambda.CreateFunctionInput {
	t.Helper()
	return &lambda.CreateFunctionInput{
		FunctionName: aws.String(name),
		Role:         aws.String(testRole),
		Runtime:      types.RuntimeProvidedal2023,
		Handler:      aws.String("bootstrap"),
		Code:         &types.FunctionCode{S3Bucket: aws.String(LocalCodeBucket), S3Key: aws.String(testBootstrap(t))},
	}
}

// TestMain removes the bootstrap the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildPath != "" {
		_ = os.RemoveAll(filepath.Dir(buildPath))
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// testBootstrap builds testdata/bootstrap as Lambda wants a Go custom
// runtime built (CGO off, -tags lambda.norpc) once per test binary, and
// returns the executable's path.
func testBootstrap(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "phoenix-bootstrap-")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, bootstrapName)
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", buildPath, "./testdata/bootstrap")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = errors.New("go build ./testdata/bootstrap: " + err.Error() + "\n" + string(out))
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

// zipOf returns a zip holding files (name to content and mode).
func zipOf(t *testing.T, files map[string]zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, f := range files {
		hdr := &zip.FileHeader{Name: name, Method: zip.Deflate}
		if len(f.data) > 1<<20 {
			// Deflating a Go binary is slow under the race detector; the
			// reader handles both methods alike.
			hdr.Method = zip.Store
		}
		hdr.SetMode(f.mode)
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type zipEntry struct {
	data []byte
	mode os.FileMode
}

// invoke calls a function synchronously with a JSON event.
func invoke(t *testing.T, api lambdaAPI, name string, event any, opts ...func(*lambda.InvokeInput)) *lambda.InvokeOutput {
	t.Helper()
	payload, err := json.Marshal(event)
	if err != nil {
		t.Fatal(err)
	}
	in := &lambda.InvokeInput{FunctionName: aws.String(name), Payload: payload}
	for _, o := range opts {
		o(in)
	}
	out, err := api.Invoke(context.Background(), in)
	if err != nil {
		t.Fatalf("Invoke(%s): %v", name, err)
	}
	return out
}

func withTail(in *lambda.InvokeInput) { in.LogType = types.LogTypeTail }

// errorPayload is a function error as Invoke returns it.
type errorPayload struct {
	ErrorMessage string            `json:"errorMessage"`
	ErrorType    string            `json:"errorType"`
	StackTrace   []json.RawMessage `json:"stackTrace"`
}

// functionError asserts that out is a function error and decodes it.
func functionError(t *testing.T, out *lambda.InvokeOutput) errorPayload {
	t.Helper()
	if aws.ToString(out.FunctionError) != "Unhandled" {
		t.Fatalf("FunctionError = %q, want Unhandled (payload %s)", aws.ToString(out.FunctionError), out.Payload)
	}
	var p errorPayload
	if err := json.Unmarshal(out.Payload, &p); err != nil {
		t.Fatalf("error payload %s: %v", out.Payload, err)
	}
	return p
}

// apiErrorCode returns the AWS error code of err ("" if none).
func apiErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// httpStatus returns the HTTP status an API error is sent with (0 if err is
// not one).
func httpStatus(err error) int {
	var ae *api.Error
	if errors.As(err, &ae) {
		return ae.HTTPStatus()
	}
	return 0
}

// decode unmarshals a successful payload.
func decode(t *testing.T, out *lambda.InvokeOutput) map[string]any {
	t.Helper()
	if out.FunctionError != nil {
		t.Fatalf("function error %s: %s", *out.FunctionError, out.Payload)
	}
	var m map[string]any
	if err := json.Unmarshal(out.Payload, &m); err != nil {
		t.Fatalf("payload %s: %v", out.Payload, err)
	}
	return m
}
