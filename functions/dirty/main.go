// Command dirty is the Dirty step: record a rollout whose revert failed, notify loudly,
// release the lease.
// It is built as the Lambda bootstrap of functions/dirty (provided.al2023,
// -tags lambda.norpc).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/phoenix-rollouts/phoenix/functions/internal/boot"
	"github.com/phoenix-rollouts/phoenix/shared/config"
)

func main() {
	deps := boot.Deps("dirty", config.Needs{})
	lambda.Start(deps.Dirty)
}
