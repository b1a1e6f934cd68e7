// Command finalize is the Finalize step: default version, the group on the numbered new
// version, last-known-good, release, notify.
// It is built as the Lambda bootstrap of functions/finalize (provided.al2023,
// -tags lambda.norpc).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/phoenix-rollouts/phoenix/functions/internal/boot"
	"github.com/phoenix-rollouts/phoenix/shared/config"
)

func main() {
	deps := boot.Deps("finalize", config.Needs{})
	lambda.Start(deps.Finalize)
}
