package wire

import (
	"context"
	"errors"
	"html"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
)

// TestModelErrorsReachClientsAsTheirAPIErrors checks that an *api.Error
// from a model arrives, in every protocol, as a smithy.APIError with the
// same code and message, and as the SDK's typed error where one exists.
func TestModelErrorsReachClientsAsTheirAPIErrors(t *testing.T) {
	cloud := newTestCloud(t, Options{})
	ctx := context.Background()
	tests := []struct {
		name  string
		err   *api.Error
		call  func() error
		typed func(error) bool
	}{
		{
			name: "an awsQuery fault with a modeled shape arrives as the typed Auto Scaling error",
			err:  api.Errorf(400, "InstanceRefreshInProgress", "An Instance Refresh is already in progress and blocks the execution of this Instance Refresh."),
			call: func() error {
				_, err := cloud.client(modules["autoscaling"], 1).(*autoscaling.Client).StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("web")})
				return err
			},
			typed: func(err error) bool { var e *astypes.InstanceRefreshInProgressFault; return errors.As(err, &e) },
		},
		{
			name: "an awsQuery ValidationError arrives as a plain API error",
			err:  api.Validation("AutoScalingGroup name not found - web"),
			call: func() error {
				_, err := cloud.client(modules["autoscaling"], 1).(*autoscaling.Client).DescribeInstanceRefreshes(ctx, &autoscaling.DescribeInstanceRefreshesInput{AutoScalingGroupName: aws.String("web")})
				return err
			},
		},
		{
			name: "an ec2Query error arrives as a plain API error",
			err:  api.Errorf(400, "InvalidAMIID.NotFound", "The image id '[ami-12345678]' does not exist"),
			call: func() error {
				_, err := cloud.client(modules["ec2"], 1).(*ec2.Client).DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{"ami-12345678"}})
				return err
			},
		},
		{
			name: "an awsJson 1.1 error with a modeled shape arrives as the typed SSM error",
			err:  api.Errorf(400, "ParameterNotFound", "Parameter /phoenix/ami not found."),
			call: func() error {
				_, err := cloud.client(modules["ssm"], 1).(*ssm.Client).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/phoenix/ami")})
				return err
			},
			typed: func(err error) bool { var e *ssmtypes.ParameterNotFound; return errors.As(err, &e) },
		},
		{
			name: "an awsJson 1.0 error with a modeled shape arrives as the typed Step Functions error",
			err:  api.Errorf(400, "ExecutionDoesNotExist", "Execution Does Not Exist: 'arn:aws:states:eu-west-1:123456789012:execution:m:e'"),
			call: func() error {
				_, err := cloud.client(modules["states"], 1).(*sfn.Client).DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String("arn:aws:states:eu-west-1:123456789012:execution:m:e")})
				return err
			},
			typed: func(err error) bool { var e *sfntypes.ExecutionDoesNotExist; return errors.As(err, &e) },
		},
		{
			name: "an rpcv2Cbor error with a modeled shape arrives as the typed CloudWatch error",
			err:  api.Errorf(404, "ResourceNotFoundException", "The alarm web-high does not exist."),
			call: func() error {
				_, err := cloud.client(modules["monitoring"], 1).(*cloudwatch.Client).ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: aws.String("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:web-high")})
				return err
			},
			typed: func(err error) bool { var e *cwtypes.ResourceNotFoundException; return errors.As(err, &e) },
		},
		{
			name: "an rpcv2Cbor error whose shape is named apart from its code arrives as the typed error with its members and the query code",
			err: &api.Error{Code: "InvalidParameterInput", Shape: "DashboardInvalidInputError", Status: 400, Message: "The dashboard body is invalid, there are 1 validation errors",
				Members: map[string]any{"dashboardValidationMessages": []any{map[string]any{"DataPath": "/widgets/0", "Message": "Should be object"}}}},
			call: func() error {
				_, err := cloud.client(modules["monitoring"], 1).(*cloudwatch.Client).PutDashboard(ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String("d"), DashboardBody: aws.String(`{"widgets":[1]}`)})
				return err
			},
			typed: func(err error) bool {
				var e *cwtypes.DashboardInvalidInputError
				return errors.As(err, &e) && len(e.DashboardValidationMessages) == 1 &&
					aws.ToString(e.DashboardValidationMessages[0].DataPath) == "/widgets/0" && aws.ToString(e.DashboardValidationMessages[0].Message) == "Should be object"
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
			if apiErr.ErrorCode() != tc.err.Code || apiErr.ErrorMessage() != tc.err.Message && tc.err.Message != "" {
				t.Errorf("got %s: %q, want %s: %q", apiErr.ErrorCode(), apiErr.ErrorMessage(), tc.err.Code, tc.err.Message)
			}
			if tc.typed != nil && !tc.typed(err) {
				t.Errorf("got %T, want the SDK's typed error for %s", err, tc.err.Code)
			}
		})
	}
}

// TestMissingRequiredMembersAreRejectedAsAWSDoes sends requests the SDK
// would refuse (raw, so that the client's own validation does not stop
// them) and checks the service's validation error.
func TestMissingRequiredMembersAreRejectedAsAWSDoes(t *testing.T) {
	cloud := newTestCloud(t, Options{})
	tests := []struct {
		name, body, target, ctype, code, message string
	}{
		{
			name:    "Auto Scaling names the missing member in a ValidationError",
			body:    "Action=StartInstanceRefresh&Version=2011-01-01",
			code:    "ValidationError",
			message: "1 validation error detected: Value null at 'autoScalingGroupName' failed to satisfy constraint: Member must not be null",
		},
		{
			name:    "EC2 answers MissingParameter with the query name of the member",
			body:    "Action=CreateTags&Version=2016-11-15&Tag.1.Key=a&Tag.1.Value=b",
			code:    "MissingParameter",
			message: "The request must contain the parameter ResourceId",
		},
		{
			name:    "SSM answers ValidationException for a missing name",
			body:    `{}`,
			target:  "AmazonSSM.GetParameter",
			ctype:   "application/x-amz-json-1.1",
			code:    "ValidationException",
			message: "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, code, msg := rawPost(t, cloud, tc.target, tc.ctype, tc.body)
			if status != http.StatusBadRequest || code != tc.code || msg != tc.message {
				t.Errorf("got %d %s %q, want 400 %s %q", status, code, msg, tc.code, tc.message)
			}
		})
	}
	if _, _, _, calls := cloud.rec.last(); calls != 0 {
		t.Errorf("the model was called %d times for invalid requests", calls)
	}
}

// TestMalformedRequestsGetAWSShapedClientErrors posts garbage and checks
// that every answer is a 4xx error in the protocol's error shape.
func TestMalformedRequestsGetAWSShapedClientErrors(t *testing.T) {
	cloud := newTestCloud(t, Options{})
	tests := []struct {
		name, body, target, ctype, code string
	}{
		{"a query request without Action gets MissingAction", "Version=2011-01-01", "", "", "MissingAction"},
		{"an unknown query action gets InvalidAction", "Action=LaunchRocket&Version=2011-01-01", "", "", "InvalidAction"},
		{"an unknown query version gets InvalidAction", "Action=DescribeTags&Version=1999-01-01", "", "", "InvalidAction"},
		{"a non-numeric query integer gets ValidationError", "Action=SetDesiredCapacity&Version=2011-01-01&AutoScalingGroupName=web&DesiredCapacity=many", "", "", "ValidationError"},
		{"a non-boolean query flag gets ValidationError", "Action=SetDesiredCapacity&Version=2011-01-01&AutoScalingGroupName=web&DesiredCapacity=1&HonorCooldown=yes", "", "", "ValidationError"},
		{"a bad EC2 boolean gets InvalidParameterValue", "Action=DescribeImages&Version=2016-11-15&DryRun=maybe", "", "", "InvalidParameterValue"},
		{"a broken query escape gets MalformedQueryString", "Action=DescribeTags&Version=2011-01-01&x=%zz", "", "", "MalformedQueryString"},
		{"an unknown JSON operation gets UnknownOperationException", `{}`, "AmazonSSM.LaunchRocket", "application/x-amz-json-1.1", "UnknownOperationException"},
		{"an unknown JSON target prefix gets UnknownOperationException", `{}`, "AmazonRockets.Launch", "application/x-amz-json-1.1", "UnknownOperationException"},
		{"a JSON body that is not JSON gets SerializationException", `{"Name":`, "AmazonSSM.GetParameter", "application/x-amz-json-1.1", "SerializationException"},
		{"a JSON array body gets SerializationException", `[1,2]`, "AmazonSSM.GetParameter", "application/x-amz-json-1.1", "SerializationException"},
		{"a JSON member of the wrong type gets SerializationException", `{"Name":"/a","WithDecryption":"yes"}`, "AmazonSSM.GetParameter", "application/x-amz-json-1.1", "SerializationException"},
		{"a JSON timestamp that is not a number gets SerializationException", `{"stateMachineArn":"a","name":"b","input":"{}","traceHeader":1}`, "AWSStepFunctions.StartExecution", "application/x-amz-json-1.0", "SerializationException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, code, _ := rawPost(t, cloud, tc.target, tc.ctype, tc.body)
			if status < 400 || status > 499 || code != tc.code {
				t.Errorf("got %d %s, want 4xx %s", status, code, tc.code)
			}
		})
	}
}

// rawPost posts body to the cloud, as JSON when target is set and as a
// form otherwise, and returns the status and the error code and message
// read from whichever error shape came back.
func rawPost(t *testing.T, cloud *testCloud, target, ctype, body string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, cloud.ts.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/x/aws4_request, SignedHeaders=host, Signature=0")
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
		req.Header.Set("Content-Type", ctype)
	} else {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := cloud.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	b := string(raw)
	if target != "" {
		return resp.StatusCode, between(b, `"__type":"`, `"`), between(b, `"message":"`, `"`)
	}
	return resp.StatusCode, html.UnescapeString(between(b, "<Code>", "</Code>")), html.UnescapeString(between(b, "<Message>", "</Message>"))
}

func between(s, open, close string) string {
	_, rest, ok := strings.Cut(s, open)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, close)
	return v
}

// TestInjectedFaultsAnswerInsteadOfTheModel covers the API fault kinds: a
// throttle that fires once is retried away by the SDK, server errors carry
// the documented status, and latency delays the answer.
func TestInjectedFaultsAnswerInsteadOfTheModel(t *testing.T) {
	ctx := context.Background()
	t.Run("a single throttle is retried by the SDK and the call succeeds", func(t *testing.T) {
		inj := faults.New(1)
		cloud := newTestCloud(t, Options{Faults: inj})
		if _, err := inj.Add(faults.Rule{Kind: faults.Throttle, Service: "autoscaling", Operation: "DescribeInstanceRefreshes", Times: 1}); err != nil {
			t.Fatal(err)
		}
		c := cloud.client(modules["autoscaling"], 3).(*autoscaling.Client)
		if _, err := c.DescribeInstanceRefreshes(ctx, &autoscaling.DescribeInstanceRefreshesInput{AutoScalingGroupName: aws.String("web")}); err != nil {
			t.Fatalf("the retried call failed: %v", err)
		}
		if _, _, _, calls := cloud.rec.last(); calls != 1 {
			t.Errorf("the model was called %d times, want 1", calls)
		}
	})
	t.Run("a lasting throttle reaches the client with the service's throttle code", func(t *testing.T) {
		inj := faults.New(1)
		cloud := newTestCloud(t, Options{Faults: inj})
		if _, err := inj.Add(faults.Rule{Kind: faults.Throttle, Service: "ec2"}); err != nil {
			t.Fatal(err)
		}
		_, err := cloud.client(modules["ec2"], 1).(*ec2.Client).DescribeImages(ctx, &ec2.DescribeImagesInput{})
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "RequestLimitExceeded" {
			t.Fatalf("got %v, want RequestLimitExceeded", err)
		}
	})
	t.Run("a server error answers 503 ServiceUnavailable in JSON", func(t *testing.T) {
		inj := faults.New(1)
		cloud := newTestCloud(t, Options{Faults: inj})
		if _, err := inj.Add(faults.Rule{Kind: faults.ServerError, Service: "ssm"}); err != nil {
			t.Fatal(err)
		}
		status, code, _ := rawPost(t, cloud, "AmazonSSM.GetParameter", "application/x-amz-json-1.1", `{"Name":"/a"}`)
		if status != http.StatusServiceUnavailable || code != "ServiceUnavailable" {
			t.Errorf("got %d %s, want 503 ServiceUnavailable", status, code)
		}
	})
	t.Run("a server error with status 500 answers InternalFailure in query XML", func(t *testing.T) {
		inj := faults.New(1)
		cloud := newTestCloud(t, Options{Faults: inj})
		if _, err := inj.Add(faults.Rule{Kind: faults.ServerError, Service: "autoscaling", Status: 500}); err != nil {
			t.Fatal(err)
		}
		status, code, _ := rawPost(t, cloud, "", "", "Action=DescribeTags&Version=2011-01-01")
		if status != http.StatusInternalServerError || code != "InternalFailure" {
			t.Errorf("got %d %s, want 500 InternalFailure", status, code)
		}
	})
}

// panicky is a handler whose operation panics and whose other operation
// fails with a plain Go error.
type panicky struct{}

// SetDesiredCapacity panics, as a buggy model might.
func (panicky) SetDesiredCapacity(context.Context, *autoscaling.SetDesiredCapacityInput, ...func(*autoscaling.Options)) (*autoscaling.SetDesiredCapacityOutput, error) {
	panic("model bug")
}

// DescribeTags returns an error that is not an *api.Error.
func (panicky) DescribeTags(context.Context, *autoscaling.DescribeTagsInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeTagsOutput, error) {
	return nil, errors.New("disk on fire")
}

// TestModelFailuresBecomeInternalFailureNotCrashes checks that a panic or a
// non-API error in a model answers 500 InternalFailure and the server
// keeps serving.
func TestModelFailuresBecomeInternalFailureNotCrashes(t *testing.T) {
	srv := NewServer(Options{})
	svc, _ := Describe("autoscaling", panicky{})
	if err := srv.Register(svc); err != nil {
		t.Fatal(err)
	}
	cloud := &testCloud{srv: srv, rec: &recorder{}}
	cloud.ts = newHTTPTestServer(t, srv)
	for _, body := range []string{
		"Action=SetDesiredCapacity&Version=2011-01-01&AutoScalingGroupName=web&DesiredCapacity=1",
		"Action=DescribeTags&Version=2011-01-01",
	} {
		status, code, _ := rawPost(t, cloud, "", "", body)
		if status != http.StatusInternalServerError || code != "InternalFailure" {
			t.Errorf("%s: got %d %s, want 500 InternalFailure", body, status, code)
		}
	}
}
