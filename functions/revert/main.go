// Command revert is the Revert and RevertCheck steps: native rollback where AWS allows it,
// else cancel and refresh back to last-known-good; then record, release, notify.
// It is built as the Lambda bootstrap of functions/revert (provided.al2023,
// -tags lambda.norpc).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/phoenix-rollouts/phoenix/functions/internal/boot"
	"github.com/phoenix-rollouts/phoenix/shared/config"
)

func main() {
	deps := boot.Deps("revert", config.Needs{})
	lambda.Start(deps.Revert)
}
