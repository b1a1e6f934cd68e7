// Package executions is the one package of Phoenix that calls Step
// Functions: it starts executions exactly once per name (a rollout from
// its request, a publishing campaign from its document), resumes parked
// tasks with a signal, and reads executions and state machine definitions
// for the operator CLI. The domain reaches it through the small ports it
// declares (alarms.Starter, recycle.Starter, publish.Starter,
// rollout.Resumer).
package executions

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

// StartAPI is the part of the Step Functions client the Starter uses.
type StartAPI interface {
	StartExecution(ctx context.Context, in *sfn.StartExecutionInput, optFns ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	DescribeExecution(ctx context.Context, in *sfn.DescribeExecutionInput, optFns ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
}

// ResumeAPI is the part of the Step Functions client the Resumer uses.
type ResumeAPI interface {
	SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, optFns ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
}

// ReadAPI is the part of the Step Functions client the Reader uses.
type ReadAPI interface {
	DescribeExecution(ctx context.Context, in *sfn.DescribeExecutionInput, optFns ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
	DescribeStateMachine(ctx context.Context, in *sfn.DescribeStateMachineInput, optFns ...func(*sfn.Options)) (*sfn.DescribeStateMachineOutput, error)
}

// API is every Step Functions operation Phoenix calls; DEVELOPERS.md lists
// them. The real client, the local cloud's and a recorder all fit.
type API interface {
	StartAPI
	ResumeAPI
	ReadAPI
}

var _ API = (*sfn.Client)(nil)
