package wire

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/imagebuilder"
	ibtypes "github.com/aws/aws-sdk-go-v2/service/imagebuilder/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/functions"
)

// lambdaInvoker is the part of the Lambda API the HTTP invocation test
// uses, with the SDK client's signatures: the model and a real client both
// satisfy it.
type lambdaInvoker interface {
	CreateFunction(ctx context.Context, in *lambda.CreateFunctionInput, optFns ...func(*lambda.Options)) (*lambda.CreateFunctionOutput, error)
	GetFunction(ctx context.Context, in *lambda.GetFunctionInput, optFns ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error)
	ListFunctions(ctx context.Context, in *lambda.ListFunctionsInput, optFns ...func(*lambda.Options)) (*lambda.ListFunctionsOutput, error)
	DeleteFunction(ctx context.Context, in *lambda.DeleteFunctionInput, optFns ...func(*lambda.Options)) (*lambda.DeleteFunctionOutput, error)
	Invoke(ctx context.Context, in *lambda.InvokeInput, optFns ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

var (
	_ lambdaInvoker = (*functions.Service)(nil)
	_ lambdaInvoker = (*lambda.Client)(nil)
)

// statusOf returns the HTTP status of an SDK error, or 0.
func statusOf(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// TestRestJSONErrorsReachClientsAsTheirTypedErrors checks that model errors
// arrive at Lambda and Image Builder clients with AWS's code, message and
// status, as the SDK's typed error where the operation models one.
func TestRestJSONErrorsReachClientsAsTheirTypedErrors(t *testing.T) {
	cloud := newTestCloud(t, Options{})
	ctx := context.Background()
	fn := cloud.client(modules["lambda"], 1).(*lambda.Client)
	ib := cloud.client(modules["imagebuilder"], 1).(*imagebuilder.Client)
	const arn = "arn:aws:imagebuilder:eu-west-1:123456789012:image/web/1.0.0/1"
	tests := []struct {
		name  string
		err   *api.Error
		call  func() error
		typed func(error) bool
	}{
		{
			name: "Lambda's ResourceNotFoundException arrives typed with status 404",
			err:  api.Errorf(http.StatusNotFound, "ResourceNotFoundException", "Function not found: arn:aws:lambda:eu-west-1:123456789012:function:web"),
			call: func() error {
				_, err := fn.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("web")})
				return err
			},
			typed: func(err error) bool { var e *lambdatypes.ResourceNotFoundException; return errors.As(err, &e) },
		},
		{
			name: "Lambda's ResourceConflictException arrives typed with status 409",
			err:  api.Errorf(http.StatusConflict, "ResourceConflictException", "Function already exist: web"),
			call: func() error {
				_, err := fn.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("web"), Role: aws.String("arn:aws:iam::123456789012:role/r"), Code: &lambdatypes.FunctionCode{ZipFile: []byte("zip")}})
				return err
			},
			typed: func(err error) bool { var e *lambdatypes.ResourceConflictException; return errors.As(err, &e) },
		},
		{
			name: "Lambda's TooManyRequestsException arrives typed with status 429",
			err:  api.Errorf(http.StatusTooManyRequests, "TooManyRequestsException", "Rate Exceeded."),
			call: func() error {
				_, err := fn.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("web")})
				return err
			},
			typed: func(err error) bool { var e *lambdatypes.TooManyRequestsException; return errors.As(err, &e) },
		},
		{
			name: "Lambda's ServiceException arrives typed with status 500",
			err:  &api.Error{Code: "ServiceException", Status: http.StatusInternalServerError, Server: true, Message: "The local Lambda service is closed."},
			call: func() error {
				_, err := fn.ListFunctions(ctx, &lambda.ListFunctionsInput{})
				return err
			},
			typed: func(err error) bool { var e *lambdatypes.ServiceException; return errors.As(err, &e) },
		},
		{
			name: "Image Builder's InvalidRequestException arrives typed with status 400",
			err:  api.Errorf(http.StatusBadRequest, "InvalidRequestException", "The request is missing the imageBuildVersionArn parameter."),
			call: func() error {
				_, err := ib.GetImage(ctx, &imagebuilder.GetImageInput{ImageBuildVersionArn: aws.String(arn)})
				return err
			},
			typed: func(err error) bool { var e *ibtypes.InvalidRequestException; return errors.As(err, &e) },
		},
		{
			name: "an Image Builder error GetImage does not model arrives as a plain API error",
			err:  api.Errorf(http.StatusNotFound, "ResourceNotFoundException", "The image with ARN "+arn+" cannot be found."),
			call: func() error {
				_, err := ib.GetImage(ctx, &imagebuilder.GetImageInput{ImageBuildVersionArn: aws.String(arn)})
				return err
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cloud.rec.answer(nil, tc.err)
			err := tc.call()
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("got %v, want a smithy.APIError", err)
			}
			if apiErr.ErrorCode() != tc.err.Code || apiErr.ErrorMessage() != tc.err.Message {
				t.Errorf("got %s: %q, want %s: %q", apiErr.ErrorCode(), apiErr.ErrorMessage(), tc.err.Code, tc.err.Message)
			}
			if got := statusOf(err); got != tc.err.Status {
				t.Errorf("got status %d, want %d", got, tc.err.Status)
			}
			if tc.typed != nil && !tc.typed(err) {
				t.Errorf("got %T, want the SDK's typed error for %s", err, tc.err.Code)
			}
		})
	}
}

// TestAThrottledLambdaCallIsRetriedByTheSDK checks that a throttling fault
// answers Lambda's TooManyRequestsException with status 429, which the
// SDK's retryer treats as a throttle and retries.
func TestAThrottledLambdaCallIsRetriedByTheSDK(t *testing.T) {
	inj := faults.New(1)
	cloud := newTestCloud(t, Options{Faults: inj})
	if _, err := inj.Add(faults.Rule{Kind: faults.Throttle, Service: "lambda", Operation: "GetFunction", Times: 1}); err != nil {
		t.Fatal(err)
	}
	c := cloud.client(modules["lambda"], 3).(*lambda.Client)
	if _, err := c.GetFunction(context.Background(), &lambda.GetFunctionInput{FunctionName: aws.String("web")}); err != nil {
		t.Fatalf("the retried call failed: %v", err)
	}
	if _, _, _, calls := cloud.rec.last(); calls != 1 {
		t.Errorf("the model was called %d times, want 1", calls)
	}
}

// restCall is a raw HTTP request to the test cloud.
type restCall struct {
	method, path, signing, body string
	header                      map[string]string
}

// answer is what came back from a raw request.
type answer struct {
	StatusCode int
	Header     http.Header
}

// do sends the request and returns the status, headers and body.
func (rc restCall) do(t *testing.T, cloud *testCloud) (answer, []byte) {
	t.Helper()
	req, err := http.NewRequest(rc.method, cloud.ts.URL+rc.path, strings.NewReader(rc.body))
	if err != nil {
		t.Fatal(err)
	}
	if rc.signing != "" {
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/"+rc.signing+"/aws4_request, SignedHeaders=host, Signature=0")
	}
	for k, v := range rc.header {
		req.Header.Set(k, v)
	}
	resp, err := cloud.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header}, b
}

// TestRestJSONRequestsAreRoutedByMethodAndURITemplate sends raw requests,
// as the AWS CLI or a hand-written client might, and checks which
// operation the model saw and with which input.
func TestRestJSONRequestsAreRoutedByMethodAndURITemplate(t *testing.T) {
	const fnARN = "arn:aws:lambda:eu-west-1:123456789012:function:web"
	tests := []struct {
		name string
		call restCall
		op   string
		in   any
	}{
		{
			name: "the CLI's ListFunctions path with its trailing slash reaches ListFunctions",
			call: restCall{method: "GET", path: "/2015-03-31/functions/?MaxItems=5&Marker=m1", signing: "lambda"},
			op:   "ListFunctions",
			in:   &lambda.ListFunctionsInput{MaxItems: aws.Int32(5), Marker: aws.String("m1")},
		},
		{
			name: "an unsigned request is routed by its path alone",
			call: restCall{method: "GET", path: "/2015-03-31/functions/web/configuration?Qualifier=%24LATEST"},
			op:   "GetFunctionConfiguration",
			in:   &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("web"), Qualifier: aws.String("$LATEST")},
		},
		{
			name: "a literal segment wins over a label: /configuration is not a function name",
			call: restCall{method: "PUT", path: "/2015-03-31/functions/web/configuration", signing: "lambda", body: `{"Timeout":30,"Environment":{"Variables":{"A":"1"}}}`},
			op:   "UpdateFunctionConfiguration",
			in: &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("web"), Timeout: aws.Int32(30),
				Environment: &lambdatypes.Environment{Variables: map[string]string{"A": "1"}}},
		},
		{
			name: "a function ARN with escaped colons arrives unescaped in the label",
			call: restCall{method: "DELETE", path: "/2015-03-31/functions/" + strings.ReplaceAll(fnARN, ":", "%3A"), signing: "lambda"},
			op:   "DeleteFunction",
			in:   &lambda.DeleteFunctionInput{FunctionName: aws.String(fnARN)},
		},
		{
			name: "Invoke takes its headers, query and raw payload",
			call: restCall{method: "POST", path: "/2015-03-31/functions/web/invocations?Qualifier=7", signing: "lambda", body: `[1, 2]`,
				header: map[string]string{"X-Amz-Invocation-Type": "Event", "X-Amz-Log-Type": "Tail", "X-Amz-Client-Context": "e30="}},
			op: "Invoke",
			in: &lambda.InvokeInput{FunctionName: aws.String("web"), Qualifier: aws.String("7"), Payload: []byte(`[1, 2]`),
				InvocationType: lambdatypes.InvocationTypeEvent, LogType: lambdatypes.LogTypeTail, ClientContext: aws.String("e30=")},
		},
		{
			name: "Image Builder's GetImage reads its ARN from the query string",
			call: restCall{method: "GET", path: "/GetImage?imageBuildVersionArn=arn%3Aaws%3Aimagebuilder%3Aeu-west-1%3A123456789012%3Aimage%2Fweb%2F1.0.0%2F1", signing: "imagebuilder"},
			op:   "GetImage",
			in:   &imagebuilder.GetImageInput{ImageBuildVersionArn: aws.String("arn:aws:imagebuilder:eu-west-1:123456789012:image/web/1.0.0/1")},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cloud := newTestCloud(t, Options{})
			resp, body := tc.call.do(t, cloud)
			if resp.StatusCode/100 != 2 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			op, in, req, _ := cloud.rec.last()
			if op != tc.op || req.Operation != tc.op {
				t.Fatalf("the model saw %q (context %q), want %q", op, req.Operation, tc.op)
			}
			if !reflect.DeepEqual(in, tc.in) {
				t.Errorf("the model got %+v, want %+v", in, tc.in)
			}
		})
	}
}

// TestRestJSONAnswersCarryTheStatusAndHeadersTheOutputBinds checks the
// raw answer of Invoke: the status comes from StatusCode, the function
// error, log tail and version travel as headers, the payload as the body.
func TestRestJSONAnswersCarryTheStatusAndHeadersTheOutputBinds(t *testing.T) {
	tests := []struct {
		name   string
		out    *lambda.InvokeOutput
		status int
		header map[string]string
		body   string
	}{
		{
			name:   "a failed synchronous invocation answers 200 with X-Amz-Function-Error and the error payload",
			out:    &lambda.InvokeOutput{StatusCode: 200, FunctionError: aws.String("Unhandled"), ExecutedVersion: aws.String("$LATEST"), LogResult: aws.String("bG9n"), Payload: []byte(`{"errorType":"Boom"}`)},
			status: 200,
			header: map[string]string{"X-Amz-Function-Error": "Unhandled", "X-Amz-Executed-Version": "$LATEST", "X-Amz-Log-Result": "bG9n"},
			body:   `{"errorType":"Boom"}`,
		},
		{
			name:   "an Event invocation answers 202 with no body",
			out:    &lambda.InvokeOutput{StatusCode: 202},
			status: 202,
		},
		{
			name:   "a DryRun invocation answers 204 with no body",
			out:    &lambda.InvokeOutput{StatusCode: 204},
			status: 204,
		},
		{
			name:   "an output without a status answers the operation's success code",
			out:    &lambda.InvokeOutput{Payload: []byte(`"ok"`)},
			status: 200,
			body:   `"ok"`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cloud := newTestCloud(t, Options{})
			cloud.rec.answer(tc.out, nil)
			resp, body := restCall{method: "POST", path: "/2015-03-31/functions/web/invocations", signing: "lambda", body: "{}"}.do(t, cloud)
			if resp.StatusCode != tc.status || string(body) != tc.body {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, body, tc.status, tc.body)
			}
			for k, v := range tc.header {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("header %s is %q, want %q", k, got, v)
				}
			}
		})
	}
	t.Run("a status outside 2xx from the model is a model bug answered 500", func(t *testing.T) {
		cloud := newTestCloud(t, Options{})
		cloud.rec.answer(&lambda.InvokeOutput{StatusCode: 302}, nil)
		resp, body := restCall{method: "POST", path: "/2015-03-31/functions/web/invocations", signing: "lambda"}.do(t, cloud)
		if resp.StatusCode != 500 || resp.Header.Get("X-Amzn-ErrorType") != "InternalFailure" {
			t.Errorf("got %d %s %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), body)
		}
	})
}

// TestMalformedRestJSONRequestsGetLambdaShapedClientErrors checks that bad
// requests answer 4xx with the code in X-Amzn-ErrorType and a JSON body
// with Lambda's Type and message members, without calling the model.
func TestMalformedRestJSONRequestsGetLambdaShapedClientErrors(t *testing.T) {
	tests := []struct {
		name   string
		call   restCall
		status int
		code   string
	}{
		{"a path no Lambda operation has gets 404 UnknownOperationException",
			restCall{method: "GET", path: "/2015-03-31/rockets", signing: "lambda"}, 404, "UnknownOperationException"},
		{"a known path with the wrong method gets 404 UnknownOperationException",
			restCall{method: "GET", path: "/2015-03-31/functions/web/invocations", signing: "lambda"}, 404, "UnknownOperationException"},
		{"an empty label matches no operation",
			restCall{method: "GET", path: "/2015-03-31/functions//configuration", signing: "lambda"}, 404, "UnknownOperationException"},
		{"a body that is not JSON gets SerializationException",
			restCall{method: "PUT", path: "/2015-03-31/functions/web/configuration", signing: "lambda", body: `{"Timeout":`}, 400, "SerializationException"},
		{"a JSON member of the wrong type gets SerializationException",
			restCall{method: "PUT", path: "/2015-03-31/functions/web/configuration", signing: "lambda", body: `{"Timeout":"long"}`}, 400, "SerializationException"},
		{"a query integer that is not a number gets SerializationException",
			restCall{method: "GET", path: "/2015-03-31/functions/?MaxItems=many", signing: "lambda"}, 400, "SerializationException"},
		{"a missing required body member gets ValidationException",
			restCall{method: "POST", path: "/2015-03-31/functions", signing: "lambda", body: `{"FunctionName":"web"}`}, 400, "ValidationException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cloud := newTestCloud(t, Options{})
			resp, body := tc.call.do(t, cloud)
			if resp.StatusCode != tc.status || resp.Header.Get("X-Amzn-ErrorType") != tc.code {
				t.Errorf("got %d %s, want %d %s: %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), tc.status, tc.code, body)
			}
			var e struct{ Type, Message string }
			if err := json.Unmarshal(body, &e); err != nil || e.Type != "User" || e.Message == "" {
				t.Errorf("the error body %q lacks Lambda's Type and message (%v)", body, err)
			}
			if _, _, _, calls := cloud.rec.last(); calls != 0 {
				t.Errorf("the model was called for a bad request")
			}
		})
	}
}

// TestURITemplatesMatchAsSmithyRoutesThem covers what Lambda's and Image
// Builder's templates do not exercise: greedy labels, constant query
// parameters and precedence.
func TestURITemplatesMatchAsSmithyRoutesThem(t *testing.T) {
	compile := func(t *testing.T, name, method, uri string) *compiledRoute {
		t.Helper()
		cr, err := compileRoute(&operation{name: name}, restRoute{Method: method, URI: uri})
		if err != nil {
			t.Fatal(err)
		}
		return cr
	}
	svc := &service{}
	for _, r := range []struct{ name, uri string }{
		{"GetObject", "/{Bucket}/{Key+}"},
		{"GetObjectAcl", "/{Bucket}/{Key+}?acl"},
		{"GetTagging", "/{Bucket}/{Key+}?x-id=tagging"},
		{"GetKeyMetadata", "/{Bucket}/{Key+}/metadata"},
		{"ListObjects", "/{Bucket}"},
		{"GetBucketStatus", "/{Bucket}/status"},
	} {
		svc.routes = append(svc.routes, compile(t, r.name, "GET", r.uri))
	}
	tests := []struct {
		name, target, op string
		labels           map[string]string
	}{
		{"a greedy label takes every remaining segment", "/b/a/b%2Fc/d.txt", "GetObject", map[string]string{"Bucket": "b", "Key": "a/b/c/d.txt"}},
		{"a greedy label leaves the segments the template still needs", "/b/a/b/metadata", "GetKeyMetadata", map[string]string{"Bucket": "b", "Key": "a/b"}},
		{"a constant query key selects its operation", "/b/k?acl", "GetObjectAcl", map[string]string{"Bucket": "b", "Key": "k"}},
		{"a constant query value must match", "/b/k?x-id=tagging", "GetTagging", map[string]string{"Bucket": "b", "Key": "k"}},
		{"another value of a constant query parameter does not select it", "/b/k?x-id=other", "GetObject", map[string]string{"Bucket": "b", "Key": "k"}},
		{"a literal segment beats a greedy label", "/b/status", "GetBucketStatus", map[string]string{"Bucket": "b"}},
		{"a single label matches one segment", "/b", "ListObjects", map[string]string{"Bucket": "b"}},
		{"a greedy label needs at least one segment", "/", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tc.target, nil)
			cr, labels := svc.findRoute(r)
			got := ""
			if cr != nil {
				got = cr.op.name
			}
			if got != tc.op || tc.op != "" && !reflect.DeepEqual(labels, tc.labels) {
				t.Errorf("got %q %v, want %q %v", got, labels, tc.op, tc.labels)
			}
		})
	}
	t.Run("a template mixing text and a label in one segment is refused", func(t *testing.T) {
		if _, err := compileRoute(&operation{name: "X"}, restRoute{Method: "GET", URI: "/{Bucket}.txt"}); err == nil {
			t.Error("compileRoute accepted it")
		}
	})
}

// TestLambdaInvokeOverHTTPRunsAnInProcessHandler drives the real Lambda
// model through the real SDK client: create, invoke (success, function
// error, Event, DryRun), read back and delete.
func TestLambdaInvokeOverHTTPRunsAnInProcessHandler(t *testing.T) {
	clk := clock.NewStepped(time.Time{})
	model, err := functions.New(functions.Options{Clock: clk, Seed: 1, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := model.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	type greeting struct {
		Name string `json:"name"`
	}
	model.RegisterFunc("greeter", func(_ context.Context, in greeting) (map[string]string, error) {
		if in.Name == "" {
			return nil, &NoNameError{}
		}
		return map[string]string{"greeting": "hello " + in.Name}, nil
	})
	srv := NewServer(Options{})
	svc, _ := Describe("lambda", model)
	if err := srv.Register(svc); err != nil {
		t.Fatal(err)
	}
	ts := newHTTPTestServer(t, srv)
	var c lambdaInvoker = lambda.New(lambda.Options{Region: "eu-west-1", BaseEndpoint: aws.String(ts.URL), HTTPClient: HTTPClient(), Credentials: testCredentials, RetryMaxAttempts: 1})
	ctx := context.Background()

	if _, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String("greeter"), Role: aws.String("arn:aws:iam::123456789012:role/phoenix"),
		Runtime: lambdatypes.RuntimeProvidedal2023, Handler: aws.String("bootstrap"),
		Code: &lambdatypes.FunctionCode{S3Bucket: aws.String(functions.LocalCodeBucket), S3Key: aws.String(functions.InProcessKey)},
	}); err != nil {
		t.Fatalf("CreateFunction: %v", err)
	}
	clk.Settle() // the function leaves Pending

	t.Run("a synchronous invocation answers 200 with the handler's result, version and log tail", func(t *testing.T) {
		out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("greeter"), Payload: []byte(`{"name":"phoenix"}`), LogType: lambdatypes.LogTypeTail})
		if err != nil {
			t.Fatal(err)
		}
		if out.StatusCode != 200 || string(out.Payload) != `{"greeting":"hello phoenix"}` || aws.ToString(out.ExecutedVersion) != "$LATEST" || out.FunctionError != nil {
			t.Errorf("got %d %s version %s error %v", out.StatusCode, out.Payload, aws.ToString(out.ExecutedVersion), out.FunctionError)
		}
		tail, err := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
		if err != nil || !strings.Contains(string(tail), "REPORT RequestId:") {
			t.Errorf("the log tail %q (%v) lacks the REPORT line", tail, err)
		}
	})
	t.Run("a handler error answers 200 with X-Amz-Function-Error Unhandled and aws-lambda-go's error payload", func(t *testing.T) {
		out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("greeter"), Payload: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		var payload struct{ ErrorType, ErrorMessage string }
		_ = json.Unmarshal(out.Payload, &payload)
		if out.StatusCode != 200 || aws.ToString(out.FunctionError) != "Unhandled" || payload.ErrorType != "NoNameError" {
			t.Errorf("got %d error %q payload %s", out.StatusCode, aws.ToString(out.FunctionError), out.Payload)
		}
	})
	t.Run("an Event invocation answers 202 and a DryRun 204", func(t *testing.T) {
		for typ, want := range map[lambdatypes.InvocationType]int32{lambdatypes.InvocationTypeEvent: 202, lambdatypes.InvocationTypeDryRun: 204} {
			out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("greeter"), InvocationType: typ, Payload: []byte(`{"name":"x"}`)})
			if err != nil || out.StatusCode != want || len(out.Payload) != 0 {
				t.Errorf("%s: got %v %v, want status %d without payload", typ, out, err, want)
			}
		}
	})
	t.Run("the function can be read back, listed and deleted", func(t *testing.T) {
		got, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("greeter")})
		if err != nil || aws.ToString(got.Configuration.FunctionArn) != "arn:aws:lambda:eu-west-1:123456789012:function:greeter" || got.Configuration.State != lambdatypes.StateActive {
			t.Fatalf("GetFunction: %+v %v", got, err)
		}
		list, err := c.ListFunctions(ctx, &lambda.ListFunctionsInput{})
		if err != nil || len(list.Functions) != 1 {
			t.Fatalf("ListFunctions: %+v %v", list, err)
		}
		del, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("greeter")})
		if err != nil || del.StatusCode != 204 {
			t.Fatalf("DeleteFunction: %+v %v", del, err)
		}
	})
	t.Run("invoking a function that does not exist is ResourceNotFoundException", func(t *testing.T) {
		_, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("greeter")})
		var nf *lambdatypes.ResourceNotFoundException
		if !errors.As(err, &nf) || statusOf(err) != 404 {
			t.Errorf("got %v, want ResourceNotFoundException (404)", err)
		}
	})
}

// NoNameError is the typed error the test handler returns; aws-lambda-go
// reports its type name as the errorType.
type NoNameError struct{}

// Error says what the handler missed.
func (*NoNameError) Error() string { return "no name given" }

// FuzzRestJSONRequests sends arbitrary methods, paths, headers and bodies
// to the restJson1 services; the server must answer each without a 5xx.
func FuzzRestJSONRequests(f *testing.F) {
	for _, seed := range []struct{ method, path, header, body string }{
		{"POST", "/2015-03-31/functions/web/invocations?Qualifier=1", "Event", `{"a":1}`},
		{"GET", "/2015-03-31/functions/?MaxItems=99999999999999", "", ""},
		{"PUT", "/2015-03-31/functions/web/configuration", "", `{"Timeout":1e400,"Environment":{"Variables":[]}}`},
		{"POST", "/2015-03-31/functions", "", `{"FunctionName":"f","Role":"r","Code":{"ZipFile":"!!"}}`},
		{"GET", "/GetImage?imageBuildVersionArn=%zz", "", ""},
		{"DELETE", "/2015-03-31/functions/%2F%2E%2E", "", ""},
	} {
		f.Add(seed.method, seed.path, seed.header, seed.body)
	}
	srv, _ := fuzzServer(f)
	f.Fuzz(func(t *testing.T, method, path, header, body string) {
		if !validMethod(method) || !strings.HasPrefix(path, "/") {
			return
		}
		req, err := http.NewRequest(method, "http://local"+path, strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("X-Amz-Invocation-Type", header)
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/lambda/aws4_request, SignedHeaders=host, Signature=0")
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s answered %d: %s", method, path, w.Code, w.Body)
		}
	})
}

// validMethod reports whether m is an HTTP token a client could send.
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, r := range m {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// BenchmarkInvokeOverTheWire measures one restJson1 request through the
// codec: routing, header and payload binding, SDK validation, the call and
// the bound answer, without the network.
func BenchmarkInvokeOverTheWire(b *testing.B) {
	srv, rec := fuzzServer(b)
	rec.answer(&lambda.InvokeOutput{StatusCode: 200, Payload: []byte(`{"ok":true}`), ExecutedVersion: aws.String("$LATEST")}, nil)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/2015-03-31/functions/web/invocations?Qualifier=7", strings.NewReader(`{"rollout":"r-1"}`))
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/lambda/aws4_request, SignedHeaders=host, Signature=0")
		req.Header.Set("X-Amz-Log-Type", "Tail")
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
