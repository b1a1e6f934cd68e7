// Command await is the Await step (waitForTaskToken): park the task token in the ledger and
// resume at once if a signal came first.
// It is built as the Lambda bootstrap of functions/await (provided.al2023,
// -tags lambda.norpc).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/phoenix-rollouts/phoenix/functions/internal/boot"
	"github.com/phoenix-rollouts/phoenix/shared/config"
)

func main() {
	deps := boot.Deps("await", config.Needs{})
	lambda.Start(deps.Await)
}
