// Command image-lifecycle is the target of its own nightly EventBridge
// schedule: it retires the launch template versions and AMIs nothing uses
// any more, in stages, and never one a group, a rollout, a rollback or a
// campaign could still need; with the stack parameter ImageLifecycle=plan
// (a new stack's default) it only records and reports what it would do.
// docs/lifecycle.md is the contract.
// It is built as the Lambda bootstrap of functions/image-lifecycle
// (provided.al2023, -tags lambda.norpc).
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/phoenix-rollouts/phoenix/functions/internal/boot"
	"github.com/phoenix-rollouts/phoenix/shared/config"
	"github.com/phoenix-rollouts/phoenix/shared/fleet"
	"github.com/phoenix-rollouts/phoenix/shared/lifecycle"
	"github.com/phoenix-rollouts/phoenix/shared/tracing"
)

func main() {
	b := boot.Start("image-lifecycle", config.Needs{Lifecycle: true})
	f, l := fleet.New(b.AWS, b.Log), b.Ledger()
	n := lifecycle.Nightly{
		Service: lifecycle.Service{
			Images: f, Fleet: f, Ledger: l, Queue: l.Queue(),
			Policy: b.Config.Lifecycle.Policy, Defaults: b.Config.Policy,
			Account: b.Config.Account, Apply: b.Config.Lifecycle.Apply, Logger: b.Log,
		},
		Topic:        b.Notifier(),
		Metrics:      os.Stdout,
		Attempt:      requestID,
		ContextAttrs: tracing.InvocationAttrs,
	}
	lambda.Start(n.Handle)
}

// requestID is the invocation's Lambda request id: a retried invocation has
// a new one.
func requestID(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		return lc.AwsRequestID
	}
	return ""
}
