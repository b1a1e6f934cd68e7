package localcloud_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/dynamo"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
)

func TestFaultRulesReachDynamoDBRequests(t *testing.T) {
	dynamo.Require(t, "DynamoDB fault tests")
	env := cloudtest.New(t, localcloud.Options{DynamoDB: true})
	client := dynamodb.NewFromConfig(env.Config, func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
	ctx := context.Background()
	if _, err := env.Cloud.Faults.Add(faults.Rule{Kind: faults.Throttle, Service: "dynamodb", Operation: "ListTables", Times: 1}); err != nil {
		t.Fatal(err)
	}
	_, err := client.ListTables(ctx, &dynamodb.ListTablesInput{})
	var throttled *types.ThrottlingException
	if !errors.As(err, &throttled) {
		t.Fatalf("err = %v, want the SDK's ThrottlingException", err)
	}
	if _, err := client.ListTables(ctx, &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("a rule that fired its one time still answered: %v", err)
	}
	if _, err := env.Cloud.Faults.Add(faults.Rule{Kind: faults.ServerError, Service: "dynamodb", Times: 1}); err != nil {
		t.Fatal(err)
	}
	_, err = client.ListTables(ctx, &dynamodb.ListTablesInput{})
	var internal *types.InternalServerError
	if !errors.As(err, &internal) {
		t.Fatalf("err = %v, want the SDK's InternalServerError", err)
	}
}
