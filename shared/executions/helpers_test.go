package executions_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/functions"
)

// holdDef is a state machine whose executions run for a minute and end
// succeeded: long enough to be found running, short enough to close.
const holdDef = `{"StartAt":"Hold","States":{"Hold":{"Type":"Wait","Seconds":60,"End":true}}}`

// createMachine creates a state machine on the local cloud and returns its
// ARN.
func createMachine(t *testing.T, env *cloudtest.Env, name, definition string) string {
	t.Helper()
	out, err := env.StepFunctions.CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{
		Name: aws.String(name), Definition: aws.String(definition), RoleArn: aws.String("arn:aws:iam::123456789012:role/phoenix"),
	})
	if err != nil {
		t.Fatalf("create state machine %s: %v", name, err)
	}
	return aws.ToString(out.StateMachineArn)
}

// inProcessFunction creates a Lambda function on the local cloud whose code
// is fn, run in this process, and returns its ARN.
func inProcessFunction(t *testing.T, env *cloudtest.Env, name string, fn any) string {
	t.Helper()
	env.Cloud.Lambda.RegisterFunc(name, fn)
	out, err := env.Cloud.Lambda.CreateFunction(context.Background(), &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Role: aws.String("arn:aws:iam::123456789012:role/phoenix"),
		Runtime: lambdatypes.RuntimeProvidedal2023, Handler: aws.String("bootstrap"),
		Code: &lambdatypes.FunctionCode{S3Bucket: aws.String(functions.LocalCodeBucket), S3Key: aws.String(functions.InProcessKey)},
	})
	if err != nil {
		t.Fatalf("create function %s: %v", name, err)
	}
	env.Settle() // the function leaves Pending
	return aws.ToString(out.FunctionArn)
}

// executionCount is how many executions the state machine has had.
func executionCount(t *testing.T, env *cloudtest.Env, machine string) int {
	t.Helper()
	out, err := env.StepFunctions.ListExecutions(context.Background(), &sfn.ListExecutionsInput{StateMachineArn: aws.String(machine)})
	if err != nil {
		t.Fatalf("list executions of %s: %v", machine, err)
	}
	return len(out.Executions)
}
