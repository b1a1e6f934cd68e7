package executions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/phoenix-rollouts/phoenix/shared/awserr"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Starter starts executions of one state machine, exactly once per name:
// the rollout state machine (StartRollout, for alarms, recycle and the
// CLI) or the campaign state machine (Start, for publishing).
type Starter struct {
	sfn StartAPI
	arn string
}

// NewStarter returns a starter of executions of the state machine arn,
// using a client made from cfg.
func NewStarter(cfg aws.Config, stateMachineARN string) *Starter {
	return NewStarterFromClient(sfn.NewFromConfig(cfg), stateMachineARN)
}

// NewStarterFromClient returns a starter of executions of the state
// machine arn, using client.
func NewStarterFromClient(client StartAPI, stateMachineARN string) *Starter {
	return &Starter{sfn: client, arn: stateMachineARN}
}

// rolloutInput is the rollout state machine's input document,
// {"request": <rollout.Request>} (docs/design.md; the ASL reads
// $.request).
type rolloutInput struct {
	Request rollout.Request `json:"request"`
}

// StartRollout starts the rollout req on the starter's state machine,
// which must be the rollout state machine: the request is validated, put
// in the execution's input document and started under the name
// req.RolloutID, exactly once (Start). A request that fails
// rollout.Request.Validate, or whose id is not a valid execution name
// (rollout.ValidExecutionName), is a *rollout.BadInputError and nothing
// is called. The other errors are Start's.
func (s *Starter) StartRollout(ctx context.Context, req rollout.Request) (arn string, started bool, err error) {
	if err := req.Validate(); err != nil {
		return "", false, &rollout.BadInputError{Reason: fmt.Sprintf("rollout request %s: %v", req.RolloutID, err)}
	}
	if !rollout.ValidExecutionName(req.RolloutID) {
		return "", false, &rollout.BadInputError{Reason: fmt.Sprintf("rollout id %q is not an execution name: 1 to %d letters, digits, '-' or '_'",
			req.RolloutID, rollout.MaxNameLength)}
	}
	input, err := json.Marshal(rolloutInput{Request: req})
	if err != nil {
		return "", false, fmt.Errorf("encode rollout request %s: %w", req.RolloutID, err)
	}
	return s.Start(ctx, req.RolloutID, input)
}

// Start starts the named execution, unless one of that name exists.
// StartExecution alone cannot tell: for a running execution with the same
// name and input it answers as if it had started it, so Start first asks
// DescribeExecution. A duplicate racing the first delivery between the two
// calls still starts nothing (Step Functions returns the running
// execution), it is only reported as started. ExecutionAlreadyExists (the
// name of a closed execution, or another input) is reported as started
// false with the existing execution's ARN. A full account
// (ExecutionLimitExceeded) is a *rollout.TransientError: the event is
// retried later. A missing state machine is a *rollout.NotFoundError.
func (s *Starter) Start(ctx context.Context, name string, input []byte) (arn string, started bool, err error) {
	arn = executionARN(s.arn, name)
	_, err = s.sfn.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
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
