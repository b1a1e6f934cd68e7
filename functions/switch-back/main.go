// Command switch-back is the SwitchBack step of a blue/green rollout: all
// the traffic back on the old group in one call, then the new group scaled
// down, the rollout recorded reverted, people told, both groups released
// (docs/blue-green.md).
// It is built as the Lambda bootstrap of functions/switch-back
// (provided.al2023, -tags lambda.norpc).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/phoenix-rollouts/phoenix/functions/internal/boot"
	"github.com/phoenix-rollouts/phoenix/shared/config"
)

func main() {
	deps := boot.Deps("switch-back", config.Needs{})
	lambda.Start(deps.SwitchBack)
}
