// Command pin is the Pin step: a rollout with nothing to validate (the group has no
// instance) ends pinned, not finalized: the group on the numbered new version,
// last-known-good and the default left alone, release, notify.
// It is built as the Lambda bootstrap of functions/pin (provided.al2023,
// -tags lambda.norpc).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/phoenix-rollouts/phoenix/functions/internal/boot"
	"github.com/phoenix-rollouts/phoenix/shared/config"
)

func main() {
	deps := boot.Deps("pin", config.Needs{})
	lambda.Start(deps.Pin)
}
