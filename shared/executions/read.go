package executions

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/phoenix-rollouts/phoenix/shared/awserr"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Execution is what Phoenix reads of an execution.
type Execution struct {
	ARN string
	// Status is Step Functions' status: RUNNING, SUCCEEDED, FAILED,
	// TIMED_OUT, ABORTED or PENDING_REDRIVE.
	Status string
}

// Running reports whether the execution has not ended yet.
func (e Execution) Running() bool {
	return e.Status == string(sfntypes.ExecutionStatusRunning)
}

// Reader reads executions and state machines: what the operator CLI
// follows and inspects.
type Reader struct {
	sfn ReadAPI
}

// NewReader returns a Reader using a client made from cfg.
func NewReader(cfg aws.Config) *Reader {
	return NewReaderFromClient(sfn.NewFromConfig(cfg))
}

// NewReaderFromClient returns a Reader using client.
func NewReaderFromClient(client ReadAPI) *Reader {
	return &Reader{sfn: client}
}

// Execution describes the execution arn: a *rollout.NotFoundError (kind
// "execution") when Step Functions knows no such execution, a
// *rollout.TransientError for throttling, server faults and network
// failures, any other failure wrapped with its AWS error code kept.
func (r *Reader) Execution(ctx context.Context, arn string) (Execution, error) {
	out, err := r.sfn.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	var missing *sfntypes.ExecutionDoesNotExist
	switch {
	case errors.As(err, &missing):
		return Execution{}, &rollout.NotFoundError{Kind: "execution", ID: arn}
	case err != nil:
		return Execution{}, awserr.Classify("describe execution "+arn, err, "execution", arn)
	}
	return Execution{ARN: aws.ToString(out.ExecutionArn), Status: string(out.Status)}, nil
}

// Definition returns the Amazon States Language definition of the state
// machine arn. Its failures keep their AWS error code
// (StateMachineDoesNotExist for a missing state machine, which callers
// report as a missing stack); throttling, server faults and network
// failures are a *rollout.TransientError.
func (r *Reader) Definition(ctx context.Context, arn string) (string, error) {
	out, err := r.sfn.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	if err != nil {
		return "", awserr.Classify("describe state machine "+arn, err, "state machine", arn)
	}
	return aws.ToString(out.Definition), nil
}
