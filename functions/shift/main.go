// Command shift is the Shift step of a blue/green rollout: it brings the
// idle group up, proves it before traffic, shifts the weights step by step
// with a validation at each, bakes, holds the guard window with the old
// group warm, and scales the old group to zero (docs/blue-green.md).
// It is built as the Lambda bootstrap of functions/shift (provided.al2023,
// -tags lambda.norpc).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/phoenix-rollouts/phoenix/functions/internal/boot"
	"github.com/phoenix-rollouts/phoenix/shared/config"
)

func main() {
	deps := boot.Deps("shift", config.Needs{})
	lambda.Start(deps.Shift)
}
