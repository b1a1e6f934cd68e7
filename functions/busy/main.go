// Command busy is the Busy step: a rollout whose group stayed leased by another rollout
// for as long as Prepare waits is recorded refused, people are told, and nothing on the
// fleet changes. It is Prepare's refusal without Prepare's rights on the fleet.
// It is built as the Lambda bootstrap of functions/busy (provided.al2023,
// -tags lambda.norpc).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/phoenix-rollouts/phoenix/functions/internal/boot"
	"github.com/phoenix-rollouts/phoenix/shared/config"
)

func main() {
	deps := boot.Deps("busy", config.Needs{})
	lambda.Start(deps.Busy)
}
