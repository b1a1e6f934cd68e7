// Command image-published is the EventBridge target for image publishing
// events (EC2 Image Builder AVAILABLE, EC2 AMI available, aws:ec2:image
// parameter changes): it checks the image and starts its campaign. The
// campaign's gate is functions/campaign-gate. docs/publish.md is the
// contract.
// It is built as the Lambda bootstrap of functions/image-published
// (provided.al2023, -tags lambda.norpc).
package main

import (
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/phoenix-rollouts/phoenix/functions/internal/boot"
	"github.com/phoenix-rollouts/phoenix/shared/config"
	"github.com/phoenix-rollouts/phoenix/shared/executions"
	"github.com/phoenix-rollouts/phoenix/shared/fleet"
	"github.com/phoenix-rollouts/phoenix/shared/images"
	"github.com/phoenix-rollouts/phoenix/shared/publish"
	"github.com/phoenix-rollouts/phoenix/shared/tracing"
)

func main() {
	b := boot.Start("image-published", config.Needs{Publish: true})
	cfg := b.Config.Publish
	svc := publish.Service{
		Images:       images.NewReader(b.AWS, fleet.New(b.AWS, b.Log)),
		Ledger:       b.Ledger(),
		Queue:        b.Ledger().Queue(),
		Campaigns:    executions.NewStarter(b.AWS, cfg.CampaignStateMachineARN),
		Notifier:     b.Notifier(),
		Policy:       cfg.Policy,
		MaxInFlight:  cfg.MaxInFlight,
		MaxWait:      cfg.MaxWait,
		Logger:       b.Log,
		Metrics:      os.Stdout,
		Now:          time.Now,
		ContextAttrs: tracing.InvocationAttrs,
	}
	lambda.Start(svc.ImagePublished)
}
