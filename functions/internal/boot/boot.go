// Package boot builds the steps' dependencies once per cold start, the same
// way for every function: configuration from the environment (failing fast
// with the variable's name), one AWS config with tracing when it is on, and
// the adapters over it.
package boot

import (
	"context"
	"log/slog"
	"os"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/phoenix-rollouts/phoenix/shared/config"
	"github.com/phoenix-rollouts/phoenix/shared/fleet"
	"github.com/phoenix-rollouts/phoenix/shared/ledger"
	"github.com/phoenix-rollouts/phoenix/shared/notify"
	"github.com/phoenix-rollouts/phoenix/shared/steps"
	"github.com/phoenix-rollouts/phoenix/shared/tracing"
)

// Deps returns the steps' dependencies, or ends the process with a message
// naming what is wrong: a cold start that cannot work should fail loudly,
// not halfway through a rollout.
func Deps(function string, needs config.Needs) steps.Deps {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil)).With("function", function)
	fail := func(msg string, err error) {
		log.Error(msg, "error", err.Error())
		os.Exit(1)
	}
	cfg, err := config.Load(os.Getenv, needs)
	if err != nil {
		fail("bad configuration", err)
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
	return steps.Deps{
		Fleet:        fleet.New(awsCfg, log),
		Ledger:       ledger.New(dynamodb.NewFromConfig(awsCfg), cfg.Table).WithLogger(log),
		Notifier:     notifier,
		Resumer:      notify.NewResumer(awsCfg, log),
		Policy:       cfg.Policy,
		LeaseTTL:     cfg.LeaseTTL,
		Logger:       log,
		ContextAttrs: tracing.InvocationAttrs,
	}
}
