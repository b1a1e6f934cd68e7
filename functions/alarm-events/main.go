// Command alarm-events is the EventBridge target for "CloudWatch Alarm
// State Change" events into ALARM: for each group the alarm guards, it
// signals the rollout in flight to revert at once, starts a revert of a
// rollout finalized within its guard window, or only notifies.
// docs/alarms.md is the contract.
// It is built as the Lambda bootstrap of functions/alarm-events
// (provided.al2023, -tags lambda.norpc).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/phoenix-rollouts/phoenix/functions/internal/boot"
	"github.com/phoenix-rollouts/phoenix/shared/alarms"
	"github.com/phoenix-rollouts/phoenix/shared/config"
	"github.com/phoenix-rollouts/phoenix/shared/executions"
	"github.com/phoenix-rollouts/phoenix/shared/fleet"
	"github.com/phoenix-rollouts/phoenix/shared/tracing"
)

func main() {
	b := boot.Start("alarm-events", config.Needs{StateMachine: true, Account: true})
	svc := alarms.Service{
		Fleet:        fleet.New(b.AWS, b.Log),
		Ledger:       b.Ledger(),
		Resumer:      executions.NewResumer(b.AWS, b.Log),
		Notifier:     b.Notifier(),
		Starter:      executions.NewStarter(b.AWS, b.Config.StateMachineARN),
		Defaults:     b.Config.Policy,
		Account:      b.Config.Account,
		Logger:       b.Log,
		ContextAttrs: tracing.InvocationAttrs,
	}
	lambda.Start(svc.Handle)
}
