// Command recycle-scheduler is the target of the nightly EventBridge
// schedule: it records every Phoenix group's drift report and starts the
// recycles of the groups whose instances are older than their max age.
// docs/recycle.md is the contract.
// It is built as the Lambda bootstrap of functions/recycle-scheduler
// (provided.al2023, -tags lambda.norpc).
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/phoenix-rollouts/phoenix/functions/internal/boot"
	"github.com/phoenix-rollouts/phoenix/shared/config"
	"github.com/phoenix-rollouts/phoenix/shared/executions"
	"github.com/phoenix-rollouts/phoenix/shared/fleet"
	"github.com/phoenix-rollouts/phoenix/shared/params"
	"github.com/phoenix-rollouts/phoenix/shared/recycle"
	"github.com/phoenix-rollouts/phoenix/shared/tracing"
)

func main() {
	b := boot.Start("recycle-scheduler", config.Needs{Recycle: true})
	svc := recycle.Service{
		Fleet:        fleet.New(b.AWS, b.Log),
		Ledger:       b.Ledger(),
		Params:       params.NewFromConfig(b.AWS),
		Starter:      executions.NewStarter(b.AWS, b.Config.StateMachineARN),
		Config:       b.Config.Recycle,
		Logger:       b.Log,
		Metrics:      os.Stdout,
		ContextAttrs: tracing.InvocationAttrs,
	}
	lambda.Start(svc.Handle)
}
