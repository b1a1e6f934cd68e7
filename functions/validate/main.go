// Command validate is the Validate step: target health in every target group, new instances
// InService and healthy, guard alarms; pass, fail or inconclusive.
// It is built as the Lambda bootstrap of functions/validate (provided.al2023,
// -tags lambda.norpc).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/phoenix-rollouts/phoenix/functions/internal/boot"
	"github.com/phoenix-rollouts/phoenix/shared/config"
)

func main() {
	deps := boot.Deps("validate", config.Needs{})
	lambda.Start(deps.Validate)
}
