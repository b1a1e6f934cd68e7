// Command prepare is the Prepare step: lease, load the group, preflight, pin a $Latest or
// $Default group, create the new launch template version, record the rollout.
// It is built as the Lambda bootstrap of functions/prepare (provided.al2023,
// -tags lambda.norpc).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/phoenix-rollouts/phoenix/functions/internal/boot"
	"github.com/phoenix-rollouts/phoenix/shared/config"
)

func main() {
	deps := boot.Deps("prepare", config.Needs{})
	lambda.Start(deps.Prepare)
}
