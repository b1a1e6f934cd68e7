// Command start-refresh is the StartRefresh step: start the instance refresh with only a desired
// configuration, adopting Phoenix's own and refusing anyone else's.
// It is built as the Lambda bootstrap of functions/start-refresh (provided.al2023,
// -tags lambda.norpc).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/phoenix-rollouts/phoenix/functions/internal/boot"
	"github.com/phoenix-rollouts/phoenix/shared/config"
)

func main() {
	deps := boot.Deps("start-refresh", config.Needs{})
	lambda.Start(deps.StartRefresh)
}
