package cloudtest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/functions"
)

// testRole is the role a test's functions and state machines are created
// with: one no deployment recorded, so IAM enforcement leaves them alone,
// as it leaves the harness's own credentials.
const testRole = "arn:aws:iam::123456789012:role/phoenix"

// CreateStateMachine creates a state machine with the given definition
// through the SDK and returns its ARN, failing the test on an error.
func (e *Env) CreateStateMachine(t testing.TB, name, definition string) string {
	t.Helper()
	out, err := e.StepFunctions.CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{
		Name: aws.String(name), Definition: aws.String(definition), RoleArn: aws.String(testRole),
	})
	if err != nil {
		t.Fatalf("create state machine %s: %v", name, err)
	}
	return aws.ToString(out.StateMachineArn)
}

// InProcessFunction creates a Lambda function whose code is fn, run in the
// test's process (functions.Service.RegisterFunc), waits until it leaves
// Pending and returns its ARN.
func (e *Env) InProcessFunction(t testing.TB, name string, fn any) string {
	t.Helper()
	e.Cloud.Lambda.RegisterFunc(name, fn)
	out, err := e.Cloud.Lambda.CreateFunction(context.Background(), &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Role: aws.String(testRole),
		Runtime: lambdatypes.RuntimeProvidedal2023, Handler: aws.String("bootstrap"),
		Code: &lambdatypes.FunctionCode{S3Bucket: aws.String(functions.LocalCodeBucket), S3Key: aws.String(functions.InProcessKey)},
	})
	if err != nil {
		t.Fatalf("create function %s: %v", name, err)
	}
	e.Settle()
	return aws.ToString(out.FunctionArn)
}
