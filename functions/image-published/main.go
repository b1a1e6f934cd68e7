// Command image-published is the EventBridge target for image publishing
// events (EC2 Image Builder AVAILABLE, EC2 AMI available, aws:ec2:image
// parameter changes): it checks the image and starts its campaign. The
// campaign state machine calls it again as its gate. docs/publish.md is
// the contract.
// It is built as the Lambda bootstrap of functions/image-published
// (provided.al2023, -tags lambda.norpc).
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/phoenix-rollouts/phoenix/shared/config"
	"github.com/phoenix-rollouts/phoenix/shared/images"
	"github.com/phoenix-rollouts/phoenix/shared/ledger"
	"github.com/phoenix-rollouts/phoenix/shared/notify"
	"github.com/phoenix-rollouts/phoenix/shared/publish"
	"github.com/phoenix-rollouts/phoenix/shared/tracing"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil)).With("function", "image-published")
	fail := func(msg string, err error) {
		log.Error(msg, "error", err.Error())
		os.Exit(1)
	}
	common, err := config.Load(os.Getenv, config.Needs{})
	if err != nil {
		fail("bad configuration", err)
	}
	cfg, err := publish.LoadConfig(os.Getenv)
	if err != nil {
		fail("bad configuration", err)
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		fail("load AWS configuration", err)
	}
	tracing.Instrument(&awsCfg, os.Getenv)
	notifier, err := notify.New(awsCfg, notify.Options{TopicARN: common.TopicARN, EventBus: common.EventBus, Logger: log})
	if err != nil {
		fail("build notifier", err)
	}
	db := dynamodb.NewFromConfig(awsCfg)
	svc := publish.Service{
		Images:       images.NewReader(awsCfg),
		Ledger:       ledger.New(db, common.Table).WithLogger(log),
		Queue:        images.NewQueue(db, common.Table),
		Campaigns:    images.NewStarter(sfn.NewFromConfig(awsCfg), cfg.CampaignStateMachineARN),
		Notifier:     notifier,
		Policy:       cfg.Policy,
		MaxInFlight:  cfg.MaxInFlight,
		MaxWait:      cfg.MaxWait,
		Logger:       log,
		Metrics:      os.Stdout,
		Now:          time.Now,
		ContextAttrs: tracing.InvocationAttrs,
	}
	lambda.Start(svc.Handle)
}
