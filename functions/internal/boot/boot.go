// Package boot builds what every function needs once per cold start, the
// same way for all of them: a JSON logger naming the function,
// configuration from the environment (failing fast with the variable's
// name), one AWS config with tracing when it is on, and, for the steps of
// the rollout, the adapters over it.
package boot

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/phoenix-rollouts/phoenix/shared/config"
	"github.com/phoenix-rollouts/phoenix/shared/executions"
	"github.com/phoenix-rollouts/phoenix/shared/fleet"
	"github.com/phoenix-rollouts/phoenix/shared/ledger"
	"github.com/phoenix-rollouts/phoenix/shared/notify"
	"github.com/phoenix-rollouts/phoenix/shared/steps"
	"github.com/phoenix-rollouts/phoenix/shared/tracing"
)

// Base is what every function starts from.
type Base struct {
	Log    *slog.Logger
	Config config.Config
	AWS    aws.Config
}

// Fail ends the cold start with a message naming what is wrong: a function
// that cannot work should fail loudly, not halfway through a rollout.
func (b Base) Fail(msg string, err error) {
	b.Log.Error(msg, "error", err.Error())
	os.Exit(1)
}

// Notifier builds the SNS and EventBridge notifier of the configuration.
func (b Base) Notifier() *notify.Notifier {
	n, err := notify.New(b.AWS, notify.Options{TopicARN: b.Config.TopicARN, EventBus: b.Config.EventBus, Logger: b.Log})
	if err != nil {
		b.Fail("build notifier", err)
	}
	return n
}

// Ledger builds the ledger over the configured table.
func (b Base) Ledger() *ledger.Ledger {
	return ledger.New(dynamodb.NewFromConfig(b.AWS), b.Config.Table).WithLogger(b.Log)
}

// Start loads the function's common configuration and its AWS config, or
// ends the process saying why.
func Start(function string, needs config.Needs) Base {
	b := Base{Log: slog.New(slog.NewJSONHandler(os.Stdout, nil)).With("function", function)}
	cfg, err := config.Load(os.LookupEnv, needs)
	if err != nil {
		b.Fail("bad configuration", err)
	}
	b.Config = cfg
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		b.Fail("load AWS configuration", err)
	}
	tracing.Instrument(&awsCfg, os.Getenv)
	b.AWS = awsCfg
	return b
}

// Deps returns the rollout steps' dependencies.
func Deps(function string, needs config.Needs) steps.Deps {
	b := Start(function, needs)
	f := fleet.New(b.AWS, b.Log)
	return steps.Deps{
		Fleet:        f,
		Pairs:        f,
		Ledger:       b.Ledger(),
		Notifier:     b.Notifier(),
		Resumer:      executions.NewResumer(b.AWS, b.Log),
		Policy:       b.Config.Policy,
		LeaseTTL:     b.Config.LeaseTTL,
		AwaitTimeout: b.Config.AwaitTimeout,
		Logger:       b.Log,
		ContextAttrs: tracing.InvocationAttrs,
		Metrics:      os.Stdout,
	}
}
