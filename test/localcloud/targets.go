package localcloud

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

// targets routes EventBridge deliveries to the service a target ARN names,
// as EventBridge does: Lambda functions are invoked asynchronously, state
// machines get a new execution with the event as input.
type targets struct{ c *Cloud }

// Deliver implements eventbus.Target.
func (t targets) Deliver(ctx context.Context, arn string, input []byte) error {
	switch {
	case strings.HasPrefix(arn, "arn:aws:lambda:"):
		return t.c.Lambda.Deliver(ctx, arn, input)
	case strings.HasPrefix(arn, "arn:aws:states:"):
		ctx = api.WithRequest(ctx, api.Request{Region: arnRegion(arn), Account: t.c.World.Account(), Service: "states", Operation: "StartExecution"})
		_, err := t.c.StepFunctions.StartExecution(ctx, &sfn.StartExecutionInput{
			StateMachineArn: aws.String(arn),
			Input:           aws.String(string(input)),
		})
		return err
	default:
		return &api.Error{Code: "ResourceNotFoundException", Message: fmt.Sprintf("no local cloud service serves target %s", arn), Status: 404}
	}
}

// arnRegion returns the region field of an ARN.
func arnRegion(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 4 || parts[3] == "" {
		return api.DefaultRegion
	}
	return parts[3]
}
