// Command alarm-events is the EventBridge target for "CloudWatch Alarm
// State Change" events into ALARM: for each group the alarm guards, it
// signals the rollout in flight to revert at once, starts a revert of a
// rollout finalized within its guard window, or only notifies.
// docs/alarms.md is the contract.
// It is built as the Lambda bootstrap of functions/alarm-events
// (provided.al2023, -tags lambda.norpc).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/phoenix-rollouts/phoenix/shared/alarms"
	"github.com/phoenix-rollouts/phoenix/shared/config"
	"github.com/phoenix-rollouts/phoenix/shared/fleet"
	"github.com/phoenix-rollouts/phoenix/shared/images"
	"github.com/phoenix-rollouts/phoenix/shared/ledger"
	"github.com/phoenix-rollouts/phoenix/shared/notify"
	"github.com/phoenix-rollouts/phoenix/shared/tracing"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil)).With("function", "alarm-events")
	fail := func(msg string, err error) {
		log.Error(msg, "error", err.Error())
		os.Exit(1)
	}
	cfg, err := config.Load(os.Getenv, config.Needs{StateMachine: true})
	if err != nil {
		fail("bad configuration", err)
	}
	account := alarms.AccountOf(cfg.StateMachineARN)
	if account == "" {
		fail("bad configuration", fmt.Errorf("%s %q names no account", config.EnvStateMachineARN, cfg.StateMachineARN))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		fail("load AWS configuration", err)
	}
	tracing.Instrument(&awsCfg, os.Getenv)
	notifier, err := notify.New(awsCfg, notify.Options{TopicARN: cfg.TopicARN, EventBus: cfg.EventBus, Logger: log})
	if err != nil {
		fail("build notifier", err)
	}
	svc := alarms.Service{
		Fleet:        fleet.New(awsCfg, log),
		Ledger:       ledger.New(dynamodb.NewFromConfig(awsCfg), cfg.Table).WithLogger(log),
		Resumer:      notify.NewResumer(awsCfg, log),
		Notifier:     notifier,
		Starter:      images.NewStarter(sfn.NewFromConfig(awsCfg), cfg.StateMachineARN),
		Defaults:     cfg.Policy,
		Account:      account,
		Logger:       log,
		ContextAttrs: tracing.InvocationAttrs,
	}
	lambda.Start(svc.Handle)
}
