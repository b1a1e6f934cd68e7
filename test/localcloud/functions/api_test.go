package functions

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

func TestCreateFunctionRefusesWhatTheLambdaAPIRefuses(t *testing.T) {
	bigEnv := map[string]string{"PAYLOAD": strings.Repeat("v", 4100)}
	cases := []struct {
		name     string
		change   func(in *lambda.CreateFunctionInput)
		code     string
		contains string
	}{
		{"a timeout above 900 seconds fails model validation", func(in *lambda.CreateFunctionInput) { in.Timeout = aws.Int32(901) },
			"ValidationException", "Value '901' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900"},
		{"a timeout below one second fails model validation", func(in *lambda.CreateFunctionInput) { in.Timeout = aws.Int32(0) },
			"ValidationException", "Member must have value greater than or equal to 1"},
		{"memory below 128 MB fails model validation", func(in *lambda.CreateFunctionInput) { in.MemorySize = aws.Int32(64) },
			"ValidationException", "Value '64' at 'memorySize'"},
		{"memory above 10240 MB fails model validation", func(in *lambda.CreateFunctionInput) { in.MemorySize = aws.Int32(10241) },
			"ValidationException", "less than or equal to 10240"},
		{"a runtime outside the enum fails model validation", func(in *lambda.CreateFunctionInput) { in.Runtime = "go2.x" },
			"ValidationException", "Value 'go2.x' at 'runtime' failed to satisfy constraint: Member must satisfy enum value set"},
		{"a role that is not an IAM role ARN fails model validation", func(in *lambda.CreateFunctionInput) { in.Role = aws.String("phoenix-role") },
			"ValidationException", "at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern"},
		{"a function name with a slash fails model validation", func(in *lambda.CreateFunctionInput) { in.FunctionName = aws.String("a/b") },
			"ValidationException", "at 'functionName'"},
		{"a function name longer than 64 characters is refused", func(in *lambda.CreateFunctionInput) { in.FunctionName = aws.String(strings.Repeat("f", 65)) },
			"ValidationException", "length less than or equal to 64"},
		{"a function has exactly one architecture", func(in *lambda.CreateFunctionInput) {
			in.Architectures = []types.Architecture{types.ArchitectureX8664, types.ArchitectureArm64}
		}, "ValidationException", "'architectures'"},
		{"every failed constraint is reported at once", func(in *lambda.CreateFunctionInput) { in.Timeout, in.MemorySize = aws.Int32(901), aws.Int32(64) },
			"ValidationException", "2 validation errors detected"},
		{"reserved environment variables cannot be set", func(in *lambda.CreateFunctionInput) {
			in.Environment = &types.Environment{Variables: map[string]string{"AWS_REGION": "eu-west-1", "TABLE": "t"}}
		}, "InvalidParameterValueException", "Reserved keys used in this request: AWS_REGION"},
		{"environment variables are limited to 4 KB", func(in *lambda.CreateFunctionInput) { in.Environment = &types.Environment{Variables: bigEnv} },
			"InvalidParameterValueException", "exceeded the 4KB limit"},
		{"a .zip package needs a runtime", func(in *lambda.CreateFunctionInput) { in.Runtime = "" },
			"InvalidParameterValueException", "Runtime and Handler are mandatory parameters"},
		{"a .zip package needs a handler", func(in *lambda.CreateFunctionInput) { in.Handler = nil },
			"InvalidParameterValueException", "Runtime and Handler are mandatory parameters"},
		{"the retired go1.x runtime is refused", func(in *lambda.CreateFunctionInput) { in.Runtime = types.RuntimeGo1x },
			"InvalidParameterValueException", "go1.x is no longer supported"},
		{"code that is not a zip is refused", func(in *lambda.CreateFunctionInput) { in.Code = &types.FunctionCode{ZipFile: []byte("not a zip")} },
			"InvalidParameterValueException", "Could not unzip uploaded file"},
		{"code in a real S3 bucket is refused, naming the local convention", func(in *lambda.CreateFunctionInput) {
			in.Code = &types.FunctionCode{S3Bucket: aws.String("artifacts"), S3Key: aws.String("fn.zip")}
		}, "InvalidParameterValueException", `use S3Bucket "local"`},
		{"a local code path must be absolute", func(in *lambda.CreateFunctionInput) {
			in.Code = &types.FunctionCode{S3Bucket: aws.String(LocalCodeBucket), S3Key: aws.String("bin/bootstrap")}
		}, "InvalidParameterValueException", "absolute path"},
		{"a missing local code path is a missing S3 key", func(in *lambda.CreateFunctionInput) {
			in.Code = &types.FunctionCode{S3Bucket: aws.String(LocalCodeBucket), S3Key: aws.String("/nonexistent/bootstrap")}
		}, "InvalidParameterValueException", "NoSuchKey"},
		{"code needs a source", func(in *lambda.CreateFunctionInput) { in.Code = &types.FunctionCode{} },
			"InvalidParameterValueException", "Please provide a source for function code."},
		{"publishing versions is not modelled and says so", func(in *lambda.CreateFunctionInput) { in.Publish = true },
			"InvalidParameterValueException", "does not support Publish"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			in := inProcessFunction("validated")
			tc.change(in)
			_, err := h.svc.CreateFunction(context.Background(), in)
			if apiErrorCode(err) != tc.code || !strings.Contains(err.Error(), tc.contains) {
				t.Fatalf("CreateFunction = %v, want %s containing %q", err, tc.code, tc.contains)
			}
			if _, err := h.svc.GetFunction(context.Background(), &lambda.GetFunctionInput{FunctionName: aws.String("validated")}); apiErrorCode(err) != "ResourceNotFoundException" {
				t.Fatalf("a refused function exists: GetFunction = %v", err)
			}
		})
	}
}

func TestANewFunctionHasLambdasDefaultsAndArn(t *testing.T) {
	h := newHarness(t)
	out, err := h.svc.CreateFunction(context.Background(), inProcessFunction("defaults"))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ what, got, want string }{
		{"FunctionArn", aws.ToString(out.FunctionArn), "arn:aws:lambda:us-east-1:123456789012:function:defaults"},
		{"Version", aws.ToString(out.Version), "$LATEST"},
		{"State", string(out.State), "Pending"},
		{"StateReasonCode", string(out.StateReasonCode), "Creating"},
		{"PackageType", string(out.PackageType), "Zip"},
		{"LastModified", aws.ToString(out.LastModified), "2026-01-05T09:00:00.000+0000"},
		{"LoggingConfig.LogGroup", aws.ToString(out.LoggingConfig.LogGroup), "/aws/lambda/defaults"},
		{"TracingConfig.Mode", string(out.TracingConfig.Mode), "PassThrough"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
	if aws.ToInt32(out.Timeout) != 3 || aws.ToInt32(out.MemorySize) != 128 {
		t.Errorf("Timeout, MemorySize = %d, %d; want Lambda's defaults 3, 128", aws.ToInt32(out.Timeout), aws.ToInt32(out.MemorySize))
	}
	if len(out.Architectures) != 1 || out.Architectures[0] != types.ArchitectureX8664 {
		t.Errorf("Architectures = %v, want [x86_64]", out.Architectures)
	}
}

func TestAFunctionIsPendingUntilTheClockActivatesIt(t *testing.T) {
	h := newHarness(t)
	h.svc.RegisterFunc("pending", func(context.Context, map[string]any) (string, error) { return "ok", nil })
	if _, err := h.svc.CreateFunction(context.Background(), inProcessFunction("pending")); err != nil {
		t.Fatal(err)
	}
	_, err := h.svc.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("pending")})
	if apiErrorCode(err) != "ResourceConflictException" || !strings.Contains(err.Error(), "currently in the following state: Pending") {
		t.Fatalf("Invoke while Pending = %v, want ResourceConflictException", err)
	}
	h.clk.Settle()
	cfg, err := h.svc.GetFunctionConfiguration(context.Background(), &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("pending")})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.State != types.StateActive || cfg.LastUpdateStatus != types.LastUpdateStatusSuccessful {
		t.Fatalf("after the clock ran: State %s, LastUpdateStatus %s; want Active, Successful", cfg.State, cfg.LastUpdateStatus)
	}
	if out := invoke(t, h.svc, "pending", map[string]any{}); string(out.Payload) != `"ok"` {
		t.Fatalf("payload %s", out.Payload)
	}
}

func TestCreatingAFunctionThatExistsIsAConflict(t *testing.T) {
	h := newHarness(t)
	h.create(t, inProcessFunction("twice"))
	_, err := h.svc.CreateFunction(context.Background(), inProcessFunction("twice"))
	if apiErrorCode(err) != "ResourceConflictException" || !strings.Contains(err.Error(), "Function already exist: twice") {
		t.Fatalf("second CreateFunction = %v, want ResourceConflictException", err)
	}
	if status := httpStatus(err); status != http.StatusConflict {
		t.Fatalf("status %d, want 409", status)
	}
}

func TestFunctionsAreNamedByNameArnOrPartialArnWithOnlyLatestAsQualifier(t *testing.T) {
	h := newHarness(t)
	h.create(t, inProcessFunction("named"))
	cases := []struct {
		name, functionName, qualifier, code string
	}{
		{"a bare name finds the function", "named", "", ""},
		{"a full ARN finds the function", "arn:aws:lambda:us-east-1:123456789012:function:named", "", ""},
		{"a partial ARN finds the function", "123456789012:function:named", "", ""},
		{"the $LATEST qualifier finds the function", "named", "$LATEST", ""},
		{"a qualified name finds the function", "named:$LATEST", "", ""},
		{"a version that was never published does not exist", "named", "1", "ResourceNotFoundException"},
		{"an ARN in another region does not name this function", "arn:aws:lambda:eu-west-1:123456789012:function:named", "", "ResourceNotFoundException"},
		{"a qualifier must agree with the one in the name", "named:$LATEST", "prod", "InvalidParameterValueException"},
		{"an unknown name does not exist", "unnamed", "", "ResourceNotFoundException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := &lambda.GetFunctionInput{FunctionName: aws.String(tc.functionName)}
			if tc.qualifier != "" {
				in.Qualifier = aws.String(tc.qualifier)
			}
			_, err := h.svc.GetFunction(context.Background(), in)
			if apiErrorCode(err) != tc.code {
				t.Fatalf("GetFunction(%s, %q) = %v, want code %q", tc.functionName, tc.qualifier, err, tc.code)
			}
		})
	}
	_, err := h.svc.GetFunction(context.Background(), &lambda.GetFunctionInput{FunctionName: aws.String("unnamed")})
	if err.Error() != "ResourceNotFoundException: Function not found: arn:aws:lambda:us-east-1:123456789012:function:unnamed" {
		t.Fatalf("not-found message = %q", err.Error())
	}
	if status := httpStatus(err); status != http.StatusNotFound {
		t.Fatalf("not-found status = %d, want 404", status)
	}
}

func TestListFunctionsPagesByMarker(t *testing.T) {
	h := newHarness(t)
	for _, name := range []string{"charlie", "alpha", "bravo"} {
		h.create(t, inProcessFunction(name))
	}
	var names []string
	var marker *string
	pages := 0
	for {
		out, err := h.svc.ListFunctions(context.Background(), &lambda.ListFunctionsInput{MaxItems: aws.Int32(2), Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, f := range out.Functions {
			names = append(names, aws.ToString(f.FunctionName))
		}
		if marker = out.NextMarker; marker == nil {
			break
		}
	}
	if strings.Join(names, ",") != "alpha,bravo,charlie" || pages != 2 {
		t.Fatalf("listed %v in %d pages, want alpha,bravo,charlie in 2", names, pages)
	}
	if _, err := h.svc.ListFunctions(context.Background(), &lambda.ListFunctionsInput{MaxItems: aws.Int32(0)}); apiErrorCode(err) != "ValidationException" {
		t.Fatalf("MaxItems 0 = %v, want ValidationException", err)
	}
	other := api.WithRequest(context.Background(), api.Request{Region: "eu-west-1"})
	if out, _ := h.svc.ListFunctions(other, &lambda.ListFunctionsInput{}); len(out.Functions) != 0 {
		t.Fatalf("eu-west-1 lists %d functions created in us-east-1", len(out.Functions))
	}
}

func TestUpdatesAreSerializedAndGuardedByRevisionId(t *testing.T) {
	h := newHarness(t)
	created := h.create(t, inProcessFunction("updated"))
	ctx := context.Background()
	out, err := h.svc.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String("updated"), Timeout: aws.Int32(60), RevisionId: created.RevisionId,
		Environment: &types.Environment{Variables: map[string]string{"TABLE": "rollouts"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.LastUpdateStatus != types.LastUpdateStatusInProgress || aws.ToInt32(out.Timeout) != 60 {
		t.Fatalf("update answered LastUpdateStatus %s, Timeout %d; want InProgress, 60", out.LastUpdateStatus, aws.ToInt32(out.Timeout))
	}
	_, err = h.svc.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("updated"), MemorySize: aws.Int32(256)})
	if apiErrorCode(err) != "ResourceConflictException" || !strings.Contains(err.Error(), "An update is in progress") {
		t.Fatalf("a second update while the first is in progress = %v, want ResourceConflictException", err)
	}
	h.clk.Settle()
	_, err = h.svc.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("updated"), MemorySize: aws.Int32(256), RevisionId: created.RevisionId})
	if apiErrorCode(err) != "PreconditionFailedException" {
		t.Fatalf("an update with a stale RevisionId = %v, want PreconditionFailedException", err)
	}
	cfg, err := h.svc.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("updated")})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LastUpdateStatus != types.LastUpdateStatusSuccessful || cfg.Environment.Variables["TABLE"] != "rollouts" || aws.ToString(cfg.RevisionId) == aws.ToString(created.RevisionId) {
		t.Fatalf("after the update: %s, env %v, revision %s", cfg.LastUpdateStatus, cfg.Environment.Variables, aws.ToString(cfg.RevisionId))
	}
}

func TestDeleteFunctionRemovesTheFunction(t *testing.T) {
	h := newHarness(t)
	h.create(t, inProcessFunction("doomed"))
	ctx := context.Background()
	if _, err := h.svc.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("doomed"), Qualifier: aws.String("$LATEST")}); apiErrorCode(err) != "InvalidParameterValueException" {
		t.Fatalf("deleting $LATEST alone = %v, want InvalidParameterValueException", err)
	}
	out, err := h.svc.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("doomed")})
	if err != nil || out.StatusCode != http.StatusNoContent {
		t.Fatalf("DeleteFunction = %v, %v; want 204", out, err)
	}
	if _, err := h.svc.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("doomed")}); apiErrorCode(err) != "ResourceNotFoundException" {
		t.Fatalf("deleting twice = %v, want ResourceNotFoundException", err)
	}
}

func TestInvokeRefusesRequestsLambdaRefuses(t *testing.T) {
	h := newHarness(t)
	h.svc.RegisterFunc("guarded", func(context.Context, map[string]any) (string, error) { return "ran", nil })
	h.create(t, inProcessFunction("guarded"))
	huge := []byte(`"` + strings.Repeat("x", maxSyncPayload) + `"`)
	bigAsync := []byte(`"` + strings.Repeat("x", maxAsyncPayload) + `"`)
	cases := []struct {
		name   string
		in     *lambda.InvokeInput
		code   string
		status int
	}{
		{"a synchronous payload over 6 MB is too large", &lambda.InvokeInput{Payload: huge}, "RequestTooLargeException", http.StatusRequestEntityTooLarge},
		{"an asynchronous payload over 1 MB is too large", &lambda.InvokeInput{Payload: bigAsync, InvocationType: types.InvocationTypeEvent}, "RequestTooLargeException", http.StatusRequestEntityTooLarge},
		{"a payload must be JSON", &lambda.InvokeInput{Payload: []byte("not json")}, "InvalidRequestContentException", http.StatusBadRequest},
		{"a client context must be base64 JSON", &lambda.InvokeInput{ClientContext: aws.String("%%%")}, "InvalidRequestContentException", http.StatusBadRequest},
		{"an unknown invocation type fails model validation", &lambda.InvokeInput{InvocationType: "Later"}, "ValidationException", http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.FunctionName = aws.String("guarded")
			_, err := h.svc.Invoke(context.Background(), tc.in)
			if apiErrorCode(err) != tc.code || httpStatus(err) != tc.status {
				t.Fatalf("Invoke = %v, want %s (%d)", err, tc.code, tc.status)
			}
		})
	}
	if len(h.svc.AsyncInvocations("", "guarded")) != 0 {
		t.Fatal("a refused event was queued")
	}
}

func TestInvocationTypesAnswerWithTheirStatusCodes(t *testing.T) {
	h := newHarness(t)
	ran := 0
	h.svc.RegisterFunc("typed", func(context.Context, map[string]any) (string, error) { ran++; return "ran", nil })
	h.create(t, inProcessFunction("typed"))
	cases := []struct {
		invocationType types.InvocationType
		status         int32
		runs           int
	}{
		{types.InvocationTypeRequestResponse, 200, 1},
		{types.InvocationTypeDryRun, 204, 0},
		{types.InvocationTypeEvent, 202, 1},
	}
	for _, tc := range cases {
		t.Run(string(tc.invocationType)+" answers "+http.StatusText(int(tc.status)), func(t *testing.T) {
			before := ran
			out := invoke(t, h.svc, "typed", map[string]any{}, func(in *lambda.InvokeInput) { in.InvocationType = tc.invocationType })
			h.clk.Settle()
			if out.StatusCode != tc.status || ran-before != tc.runs {
				t.Fatalf("StatusCode %d, runs %d; want %d, %d", out.StatusCode, ran-before, tc.status, tc.runs)
			}
		})
	}
}

func TestEventInvokeConfigIsValidatedAndReadBack(t *testing.T) {
	h := newHarness(t)
	h.create(t, inProcessFunction("configured"))
	ctx := context.Background()
	if _, err := h.svc.GetFunctionEventInvokeConfig(ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String("configured")}); apiErrorCode(err) != "ResourceNotFoundException" {
		t.Fatalf("before any Put: %v, want ResourceNotFoundException", err)
	}
	for _, bad := range []*lambda.PutFunctionEventInvokeConfigInput{
		{MaximumRetryAttempts: aws.Int32(3)},
		{MaximumEventAgeInSeconds: aws.Int32(59)},
		{MaximumEventAgeInSeconds: aws.Int32(21601)},
	} {
		bad.FunctionName = aws.String("configured")
		if _, err := h.svc.PutFunctionEventInvokeConfig(ctx, bad); apiErrorCode(err) != "ValidationException" {
			t.Fatalf("Put(%d retries, %d s) = %v, want ValidationException", aws.ToInt32(bad.MaximumRetryAttempts), aws.ToInt32(bad.MaximumEventAgeInSeconds), err)
		}
	}
	if _, err := h.svc.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("configured"), MaximumRetryAttempts: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	got, err := h.svc.GetFunctionEventInvokeConfig(ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String("configured")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(got.MaximumRetryAttempts) != 0 || aws.ToInt32(got.MaximumEventAgeInSeconds) != 21600 || !aws.ToTime(got.LastModified).Equal(h.clk.Now()) {
		t.Fatalf("read back %d retries, %d s, %v", aws.ToInt32(got.MaximumRetryAttempts), aws.ToInt32(got.MaximumEventAgeInSeconds), aws.ToTime(got.LastModified))
	}
}
