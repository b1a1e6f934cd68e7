// Command poll is the fallback when Await times out: it reads the refresh and makes the
// signal a lost event would have brought.
// It is built as the Lambda bootstrap of functions/poll (provided.al2023,
// -tags lambda.norpc).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/phoenix-rollouts/phoenix/functions/internal/boot"
	"github.com/phoenix-rollouts/phoenix/shared/config"
)

func main() {
	deps := boot.Deps("poll", config.Needs{})
	lambda.Start(deps.Poll)
}
