package localcloud_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/phoenix-rollouts/phoenix/test/localcloud"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/dynamo"
)

// Each deployed function signs with its own access key, and the cloud
// counts calls per key, so a test can hold a function's calls against its
// IAM policy. Both the wire's own services and the forwarded DynamoDB are
// attributed.
func TestCallsAreCountedPerAccessKey(t *testing.T) {
	dynamo.Require(t, "counting DynamoDB calls per access key")
	env := cloudtest.New(t, localcloud.Options{DynamoDB: true})
	ctx := context.Background()
	as := func(key string) aws.Config {
		cfg := env.Config.Copy()
		cfg.Credentials = credentials.NewStaticCredentialsProvider(key, "secret", "")
		return cfg
	}
	for _, key := range []string{"ASIAFIRST", "ASIASECOND"} {
		if _, err := autoscaling.NewFromConfig(as(key)).DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := dynamodb.NewFromConfig(as("ASIASECOND")).ListTables(ctx, &dynamodb.ListTablesInput{}); err != nil {
		t.Fatal(err)
	}
	got := env.Cloud.Wire.RequestsByAccessKey()
	if got["ASIAFIRST"]["autoscaling.DescribeAutoScalingGroups"] != 1 || len(got["ASIAFIRST"]) != 1 {
		t.Errorf("first key's calls %v, want one DescribeAutoScalingGroups", got["ASIAFIRST"])
	}
	if got["ASIASECOND"]["autoscaling.DescribeAutoScalingGroups"] != 1 || got["ASIASECOND"]["dynamodb.ListTables"] != 1 {
		t.Errorf("second key's calls %v, want DescribeAutoScalingGroups and ListTables once each", got["ASIASECOND"])
	}
	if all := env.Cloud.Wire.Requests(); all["autoscaling.DescribeAutoScalingGroups"] < 2 {
		t.Errorf("total calls %v", all)
	}
}
