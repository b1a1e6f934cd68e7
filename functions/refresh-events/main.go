// Command refresh-events is the EventBridge target for "EC2 Auto Scaling Instance Refresh ..."
// events: it records each as a signal of the active rollout and resumes the
// parked task.
// It is built as the Lambda bootstrap of functions/refresh-events (provided.al2023,
// -tags lambda.norpc).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/phoenix-rollouts/phoenix/functions/internal/boot"
	"github.com/phoenix-rollouts/phoenix/shared/config"
)

func main() {
	deps := boot.Deps("refresh-events", config.Needs{})
	lambda.Start(deps.RefreshEvent)
}
