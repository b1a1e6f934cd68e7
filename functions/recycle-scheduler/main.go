// Command recycle-scheduler is the target of the nightly EventBridge
// schedule: it records every Phoenix group's drift report and starts the
// recycles of the groups whose instances are older than their max age.
// docs/recycle.md is the contract.
// It is built as the Lambda bootstrap of functions/recycle-scheduler
// (provided.al2023, -tags lambda.norpc).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/phoenix-rollouts/phoenix/shared/config"
	"github.com/phoenix-rollouts/phoenix/shared/fleet"
	"github.com/phoenix-rollouts/phoenix/shared/images"
	"github.com/phoenix-rollouts/phoenix/shared/ledger"
	"github.com/phoenix-rollouts/phoenix/shared/params"
	"github.com/phoenix-rollouts/phoenix/shared/recycle"
	"github.com/phoenix-rollouts/phoenix/shared/tracing"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil)).With("function", "recycle-scheduler")
	fail := func(msg string, err error) {
		log.Error(msg, "error", err.Error())
		os.Exit(1)
	}
	common, err := config.Load(os.Getenv, config.Needs{StateMachine: true})
	if err != nil {
		fail("bad configuration", err)
	}
	cfg, err := recycle.LoadConfig(os.LookupEnv)
	if err != nil {
		fail("bad configuration", err)
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		fail("load AWS configuration", err)
	}
	tracing.Instrument(&awsCfg, os.Getenv)
	svc := recycle.Service{
		Fleet:        fleet.New(awsCfg, log),
		Ledger:       ledger.New(dynamodb.NewFromConfig(awsCfg), common.Table).WithLogger(log),
		Params:       params.NewFromConfig(awsCfg),
		Starter:      images.NewStarter(sfn.NewFromConfig(awsCfg), cfg.StateMachineARN),
		Config:       cfg,
		Logger:       log,
		Metrics:      os.Stdout,
		ContextAttrs: tracing.InvocationAttrs,
	}
	lambda.Start(svc.Handle)
}
