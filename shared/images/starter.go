package images

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/phoenix-rollouts/phoenix/shared/awserr"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// StepFunctionsAPI is the part of the Step Functions client the starter
// uses.
type StepFunctionsAPI interface {
	StartExecution(ctx context.Context, in *sfn.StartExecutionInput, optFns ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	DescribeExecution(ctx context.Context, in *sfn.DescribeExecutionInput, optFns ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
}

var _ StepFunctionsAPI = (*sfn.Client)(nil)

// Starter is publish.Starter over Step Functions: it starts executions of
// one state machine (the campaign branch).
type Starter struct {
	sfn StepFunctionsAPI
	arn string
}

// NewStarter returns a starter of executions of the state machine arn.
func NewStarter(client StepFunctionsAPI, stateMachineARN string) *Starter {
	return &Starter{sfn: client, arn: stateMachineARN}
}

// Start starts the named execution, unless one of that name exists.
// StartExecution alone cannot tell: for a running execution with the same
// name and input it answers as if it had started it, so Start first asks
// DescribeExecution. A duplicate racing the first delivery between the two
// calls still starts nothing (Step Functions returns the running
// execution), it is only reported as started. ExecutionAlreadyExists (the
// name of a closed execution, or another input) is reported as started
// false with the existing execution's ARN. A full account
// (ExecutionLimitExceeded) is transient: the event is retried later.
func (s *Starter) Start(ctx context.Context, name string, input []byte) (string, bool, error) {
	arn := executionARN(s.arn, name)
	_, err := s.sfn.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	var missing *sfntypes.ExecutionDoesNotExist
	switch {
	case err == nil:
		return arn, false, nil
	case !errors.As(err, &missing):
		return "", false, awserr.Classify("describe execution "+arn, err, "execution", arn)
	}
	out, err := s.sfn.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(s.arn), Name: aws.String(name), Input: aws.String(string(input)),
	})
	var exists *sfntypes.ExecutionAlreadyExists
	var limit *sfntypes.ExecutionLimitExceeded
	switch {
	case errors.As(err, &exists):
		return arn, false, nil
	case errors.As(err, &limit):
		return "", false, &rollout.TransientError{Op: "start execution " + name, Err: err}
	case err != nil:
		return "", false, awserr.Classify("start execution "+name+" of "+s.arn, err, "state machine", s.arn, "StateMachineDoesNotExist")
	}
	return aws.ToString(out.ExecutionArn), true, nil
}

// executionARN derives an execution's ARN from its state machine's:
// arn:PARTITION:states:REGION:ACCOUNT:stateMachine:NAME becomes
// arn:PARTITION:states:REGION:ACCOUNT:execution:NAME:EXECUTION.
func executionARN(stateMachineARN, name string) string {
	if i := strings.Index(stateMachineARN, ":stateMachine:"); i >= 0 {
		return stateMachineARN[:i] + ":execution:" + stateMachineARN[i+len(":stateMachine:"):] + ":" + name
	}
	return fmt.Sprintf("%s:execution:%s", stateMachineARN, name)
}
