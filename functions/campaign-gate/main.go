// Command campaign-gate is the campaign state machine's Gate state: when a group's turn
// comes, it decides from the ledger whether the group's rollout starts now, waits for the
// group's current rollout, is dropped, or stops the campaign. docs/publish.md is the
// contract. It reads the ledger and the images' creation times and writes the publishing
// queue; it starts nothing and notifies nobody, so its role allows no more.
// It is built as the Lambda bootstrap of functions/campaign-gate (provided.al2023,
// -tags lambda.norpc).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/phoenix-rollouts/phoenix/functions/internal/boot"
	"github.com/phoenix-rollouts/phoenix/shared/config"
	"github.com/phoenix-rollouts/phoenix/shared/fleet"
	"github.com/phoenix-rollouts/phoenix/shared/images"
	"github.com/phoenix-rollouts/phoenix/shared/publish"
	"github.com/phoenix-rollouts/phoenix/shared/tracing"
)

func main() {
	b := boot.Start("campaign-gate", config.Needs{Gate: true})
	svc := publish.Service{
		Images:       images.NewReader(b.AWS, fleet.New(b.AWS, b.Log)),
		Ledger:       b.Ledger(),
		Queue:        b.Ledger().Queue(),
		MaxWait:      b.Config.Publish.MaxWait,
		Logger:       b.Log,
		ContextAttrs: tracing.InvocationAttrs,
	}
	lambda.Start(svc.Gate)
}
