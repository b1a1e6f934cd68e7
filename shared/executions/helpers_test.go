package executions_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
)

// holdDef is a state machine whose executions run for a minute and end
// succeeded: long enough to be found running, short enough to close.
const holdDef = `{"StartAt":"Hold","States":{"Hold":{"Type":"Wait","Seconds":60,"End":true}}}`

// executionCount is how many executions the state machine has had.
func executionCount(t *testing.T, env *cloudtest.Env, machine string) int {
	t.Helper()
	out, err := env.StepFunctions.ListExecutions(context.Background(), &sfn.ListExecutionsInput{StateMachineArn: aws.String(machine)})
	if err != nil {
		t.Fatalf("list executions of %s: %v", machine, err)
	}
	return len(out.Executions)
}
