package localcloud_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/functions"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/iam"
)

// A state machine's integrations run with its execution role: a task
// invoking a function the role's LambdaInvokePolicy does not name fails
// with Lambda's AccessDeniedException; one it names runs; publishing to a
// topic the role may not publish to fails with SNS's AuthorizationError.
func TestAStateMachinesIntegrationsAreHeldAgainstItsRole(t *testing.T) {
	env := cloudtest.New(t)
	ctx := api.WithRequest(t.Context(), api.Request{Region: "us-east-1", Account: env.Cloud.World.Account()})
	tokens := make(chan string, 1)
	for _, name := range []string{"allowed", "forbidden"} {
		env.Cloud.Lambda.RegisterFunc(name, func(_ context.Context, in json.RawMessage) (any, error) {
			var p struct{ Token string }
			if json.Unmarshal(in, &p) == nil && p.Token != "" {
				tokens <- p.Token
			}
			return map[string]any{"ok": true}, nil
		})
		if _, err := env.Cloud.Lambda.CreateFunction(ctx, &lambda.CreateFunctionInput{
			FunctionName: aws.String(name), Role: aws.String(testRole), Runtime: lambdatypes.RuntimeProvidedal2023,
			Handler: aws.String("bootstrap"), Code: &lambdatypes.FunctionCode{S3Bucket: aws.String(functions.LocalCodeBucket), S3Key: aws.String(functions.InProcessKey)},
		}); err != nil {
			t.Fatal(err)
		}
	}
	env.Settle()
	const smRole = "arn:aws:iam::123456789012:role/phoenix-MachineRole-89AB"
	p, err := iam.ParsePolicy("LambdaInvokePolicy", map[string]any{"Statement": []any{map[string]any{
		"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:allowed*"}}})
	if err != nil {
		t.Fatal(err)
	}
	env.Cloud.IAM.Put(smRole, []*iam.Policy{p})

	run := func(t *testing.T, name, resource, params string) *sfn.DescribeExecutionOutput {
		t.Helper()
		def := fmt.Sprintf(`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":%q,"Parameters":%s,"End":true}}}`, resource, params)
		sm, err := env.StepFunctions.CreateStateMachine(t.Context(), &sfn.CreateStateMachineInput{Name: aws.String(name), Definition: aws.String(def), RoleArn: aws.String(smRole)})
		if err != nil {
			t.Fatal(err)
		}
		x, err := env.StepFunctions.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn})
		if err != nil {
			t.Fatal(err)
		}
		var out *sfn.DescribeExecutionOutput
		env.RunUntil(t, time.Hour, "the execution ends", func() bool {
			out, err = env.StepFunctions.DescribeExecution(t.Context(), &sfn.DescribeExecutionInput{ExecutionArn: x.ExecutionArn})
			return err == nil && out.Status != sfntypes.ExecutionStatusRunning
		})
		return out
	}
	t.Run("a function the role may invoke runs", func(t *testing.T) {
		out := run(t, "invoke-allowed", "arn:aws:states:::lambda:invoke", `{"FunctionName":"arn:aws:lambda:us-east-1:123456789012:function:allowed"}`)
		if out.Status != sfntypes.ExecutionStatusSucceeded {
			t.Errorf("status %s (%s: %s)", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
		}
	})
	t.Run("a function the role may not invoke fails the task with AccessDeniedException", func(t *testing.T) {
		out := run(t, "invoke-forbidden", "arn:aws:states:::lambda:invoke", `{"FunctionName":"arn:aws:lambda:us-east-1:123456789012:function:forbidden"}`)
		if out.Status != sfntypes.ExecutionStatusFailed || aws.ToString(out.Error) != "Lambda.AccessDeniedException" ||
			!strings.Contains(aws.ToString(out.Cause), "assumed-role/phoenix-MachineRole-89AB/") ||
			!strings.Contains(aws.ToString(out.Cause), "lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:123456789012:function:forbidden") {
			t.Errorf("status %s, error %s, cause %s", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
		}
	})
	t.Run("a topic the role may not publish to fails the task with AuthorizationError", func(t *testing.T) {
		out := run(t, "publish", "arn:aws:states:::sns:publish", `{"TopicArn":"arn:aws:sns:us-east-1:123456789012:t","Message":"m"}`)
		if out.Status != sfntypes.ExecutionStatusFailed || !strings.Contains(aws.ToString(out.Error), "AuthorizationError") {
			t.Errorf("status %s, error %s, cause %s", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
		}
	})
	t.Run("a task token is answered only by a role allowed to resume its state machine", func(t *testing.T) {
		p, err := iam.ParsePolicy("ResumeParkedTasks", map[string]any{"Statement": []any{map[string]any{
			"Effect": "Allow", "Action": "states:SendTaskSuccess", "Resource": "arn:aws:states:us-east-1:123456789012:stateMachine:parked"}}})
		if err != nil {
			t.Fatal(err)
		}
		env.Cloud.IAM.Put(testRole, []*iam.Policy{p})
		cfg := env.Config.Copy()
		cfg.Credentials = credentials.NewStaticCredentialsProvider(functions.AccessKeyID("allowed"), "secret", "token")
		client := sfn.NewFromConfig(cfg)
		for _, machine := range []string{"elsewhere", "parked"} {
			def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"FunctionName":"arn:aws:lambda:us-east-1:123456789012:function:allowed","Payload":{"Token.$":"$$.Task.Token"}},"End":true}}}`
			sm, err := env.StepFunctions.CreateStateMachine(t.Context(), &sfn.CreateStateMachineInput{Name: aws.String(machine), Definition: aws.String(def), RoleArn: aws.String(smRole)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := env.StepFunctions.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn}); err != nil {
				t.Fatal(err)
			}
			var token string
			env.RunUntil(t, time.Hour, "the task token", func() bool {
				select {
				case token = <-tokens:
					return true
				default:
					return false
				}
			})
			_, err = client.SendTaskSuccess(t.Context(), &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String("{}")})
			var ae smithy.APIError
			switch {
			case machine == "parked" && err != nil:
				t.Errorf("resuming a task of parked: %v", err)
			case machine == "elsewhere" && (!errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" ||
				!strings.Contains(ae.ErrorMessage(), "states:SendTaskSuccess on resource: arn:aws:states:us-east-1:123456789012:stateMachine:elsewhere")):
				t.Errorf("resuming a task of elsewhere: %v, want AccessDeniedException on its state machine", err)
			}
		}
	})
	t.Run("a child execution the role may not start fails the task", func(t *testing.T) {
		out := run(t, "child", "arn:aws:states:::states:startExecution.sync:2", `{"StateMachineArn":"arn:aws:states:us-east-1:123456789012:stateMachine:invoke-allowed"}`)
		if out.Status != sfntypes.ExecutionStatusFailed || aws.ToString(out.Error) != "StepFunctions.AccessDeniedException" {
			t.Errorf("status %s, error %s, cause %s", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
		}
	})
}
