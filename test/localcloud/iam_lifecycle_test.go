package localcloud_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/smithy-go"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/iam"
)

// lifecyclePolicy lets a function answer the lifecycle actions of groups
// tagged phoenix:enabled and read hooks, as a test-before-traffic function
// would; it does not let it put or delete hooks.
var lifecyclePolicy = map[string]any{"Version": "2012-10-17", "Statement": []any{
	map[string]any{"Sid": "Read", "Effect": "Allow", "Action": []any{"autoscaling:DescribeLifecycleHooks", "autoscaling:DescribeAutoScalingGroups"}, "Resource": "*"},
	map[string]any{"Sid": "Answer", "Effect": "Allow", "Action": []any{"autoscaling:CompleteLifecycleAction", "autoscaling:RecordLifecycleActionHeartbeat"},
		"Resource":  "arn:aws:autoscaling:*:123456789012:autoScalingGroup:*:autoScalingGroupName/*",
		"Condition": map[string]any{"StringEqualsIgnoreCase": map[string]any{"aws:ResourceTag/phoenix:enabled": []any{"true", "yes"}}}},
}}

// The lifecycle hook operations are authorized as the Service
// Authorization Reference lists them: the descriptions on "*", putting,
// deleting and answering a hook on the group, with its tags at the time of
// the call.
func TestLifecycleHookCallsAreHeldAgainstTheGroupAndItsTags(t *testing.T) {
	e := newIAMEnv(t, "yes")
	ctx := t.Context()
	p, err := iam.ParsePolicy("lifecycle", lifecyclePolicy)
	if err != nil {
		t.Fatal(err)
	}
	e.env.Cloud.IAM.Put(testRole, []*iam.Policy{p})
	as := autoscaling.NewFromConfig(e.cfg)
	groups, err := e.env.AutoScaling.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"web"}})
	if err != nil || len(groups.AutoScalingGroups) != 1 {
		t.Fatalf("describe web: %v", err)
	}
	groupARN := aws.ToString(groups.AutoScalingGroups[0].AutoScalingGroupARN)
	complete := func() error {
		_, err := as.CompleteLifecycleAction(ctx, &autoscaling.CompleteLifecycleActionInput{AutoScalingGroupName: aws.String("web"),
			LifecycleHookName: aws.String("test"), InstanceId: aws.String("i-0123456789abcdef0"), LifecycleActionResult: aws.String("CONTINUE")})
		return err
	}

	if _, err := as.DescribeLifecycleHooks(ctx, &autoscaling.DescribeLifecycleHooksInput{AutoScalingGroupName: aws.String("web")}); err != nil {
		t.Errorf("DescribeLifecycleHooks, allowed on *: %v", err)
	}
	_, err = as.DescribeLifecycleHookTypes(ctx, &autoscaling.DescribeLifecycleHookTypesInput{})
	wantDenied(t, err, "AccessDenied", http.StatusForbidden, "autoscaling:DescribeLifecycleHookTypes", "*")
	_, err = as.PutLifecycleHook(ctx, &autoscaling.PutLifecycleHookInput{AutoScalingGroupName: aws.String("web"), LifecycleHookName: aws.String("test"),
		LifecycleTransition: aws.String("autoscaling:EC2_INSTANCE_LAUNCHING")})
	wantDenied(t, err, "AccessDenied", http.StatusForbidden, "autoscaling:PutLifecycleHook", groupARN)
	_, err = as.DeleteLifecycleHook(ctx, &autoscaling.DeleteLifecycleHookInput{AutoScalingGroupName: aws.String("web"), LifecycleHookName: aws.String("test")})
	wantDenied(t, err, "AccessDenied", http.StatusForbidden, "autoscaling:DeleteLifecycleHook", groupARN)

	// Allowed on a tagged group: the call reaches Auto Scaling, which has
	// no such action to complete.
	var ae smithy.APIError
	if err := complete(); !errors.As(err, &ae) || ae.ErrorCode() != "ValidationError" || !strings.Contains(ae.ErrorMessage(), "No active Lifecycle Action found") {
		t.Errorf("CompleteLifecycleAction on a tagged group: %v, want Auto Scaling's ValidationError", err)
	}
	_, err = e.env.AutoScaling.CreateOrUpdateTags(ctx, &autoscaling.CreateOrUpdateTagsInput{Tags: []astypes.Tag{{
		ResourceId: aws.String("web"), ResourceType: aws.String("auto-scaling-group"), Key: aws.String("phoenix:enabled"), Value: aws.String("false"), PropagateAtLaunch: aws.Bool(false)}}})
	if err != nil {
		t.Fatal(err)
	}
	wantDenied(t, complete(), "AccessDenied", http.StatusForbidden, "autoscaling:CompleteLifecycleAction", groupARN)
	_, err = as.RecordLifecycleActionHeartbeat(ctx, &autoscaling.RecordLifecycleActionHeartbeatInput{AutoScalingGroupName: aws.String("web"),
		LifecycleHookName: aws.String("test"), InstanceId: aws.String("i-0123456789abcdef0")})
	wantDenied(t, err, "AccessDenied", http.StatusForbidden, "autoscaling:RecordLifecycleActionHeartbeat", groupARN)
}
