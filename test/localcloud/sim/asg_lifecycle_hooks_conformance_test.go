package sim_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/phoenix-rollouts/phoenix/test/localcloud"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/sim"
)

// TestLifecycleHookConformance runs sim.LifecycleHookRules through real
// aws-sdk-go-v2 clients over HTTP (a launch completed with CONTINUE and
// with ABANDON, a timeout taking the DefaultResult, heartbeats extending
// the wait, an instance refresh waiting on a hook, among them), then checks
// what only the whole cloud shows: the lifecycle action event reaching an
// EventBridge rule's target.
func TestLifecycleHookConformance(t *testing.T) {
	sim.RunRules(t, sim.LifecycleHookRules, overHTTP)
	t.Run("TheLaunchLifecycleActionEventReachesAnEventBridgeRule", testTheLaunchLifecycleActionEventReachesAnEventBridgeRule)
}

// A rule on the launch lifecycle action event hands it to its target, a
// state machine here, whose input is the event: its token completes the
// action.
func testTheLaunchLifecycleActionEventReachesAnEventBridgeRule(t *testing.T) {
	env := cloudtest.New(t, localcloud.Options{Seed: sim.TestSeed})
	ctx := t.Context()
	sm, err := env.StepFunctions.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("on-launch"),
		RoleArn:    aws.String("arn:aws:iam::123456789012:role/on-launch"),
		Definition: aws.String(`{"StartAt":"Done","States":{"Done":{"Type":"Succeed"}}}`)})
	if err != nil {
		t.Fatalf("CreateStateMachine: %v", err)
	}
	_, err = env.EventBridge.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("launches"),
		EventPattern: aws.String(`{"source":["aws.autoscaling"],"detail-type":["EC2 Instance-launch Lifecycle Action"],"detail":{"AutoScalingGroupName":["web"]}}`)})
	if err != nil {
		t.Fatalf("PutRule: %v", err)
	}
	_, err = env.EventBridge.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("launches"), Targets: []ebtypes.Target{{Id: aws.String("sm"), Arn: sm.StateMachineArn,
		RoleArn: aws.String("arn:aws:iam::123456789012:role/events")}}})
	if err != nil {
		t.Fatalf("PutTargets: %v", err)
	}
	img, err := env.Cloud.World.AddImage("us-east-1", sim.ImageSpec{Name: "app", Available: true})
	if err != nil {
		t.Fatal(err)
	}
	lt, err := env.EC2.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("web"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(img), InstanceType: ec2types.InstanceTypeT3Micro}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = env.AutoScaling.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String("web"), MinSize: aws.Int32(0), MaxSize: aws.Int32(2), DesiredCapacity: aws.Int32(1),
		LaunchTemplate:    &astypes.LaunchTemplateSpecification{LaunchTemplateId: lt.LaunchTemplate.LaunchTemplateId, Version: aws.String("1")},
		AvailabilityZones: []string{"us-east-1a"},
		LifecycleHookSpecificationList: []astypes.LifecycleHookSpecification{{LifecycleHookName: aws.String("test"),
			LifecycleTransition: aws.String(sim.TransitionLaunching), NotificationMetadata: aws.String(`{"rollout":"r-1"}`)}},
	})
	if err != nil {
		t.Fatalf("CreateAutoScalingGroup: %v", err)
	}
	var input string
	env.RunUntil(t, 10*time.Minute, "the rule starts an execution", func() bool {
		out, err := env.StepFunctions.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: sm.StateMachineArn})
		if err != nil || len(out.Executions) == 0 {
			return false
		}
		d, err := env.StepFunctions.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: out.Executions[0].ExecutionArn})
		if err != nil {
			return false
		}
		input = aws.ToString(d.Input)
		return true
	})
	var ev struct {
		Source     string   `json:"source"`
		DetailType string   `json:"detail-type"`
		Resources  []string `json:"resources"`
		Detail     struct {
			LifecycleActionToken, AutoScalingGroupName, LifecycleHookName, EC2InstanceId, LifecycleTransition, NotificationMetadata, Origin, Destination string
		} `json:"detail"`
	}
	if err := json.Unmarshal([]byte(input), &ev); err != nil {
		t.Fatalf("execution input %s: %v", input, err)
	}
	d := ev.Detail
	if ev.Source != "aws.autoscaling" || ev.DetailType != "EC2 Instance-launch Lifecycle Action" || len(ev.Resources) != 1 ||
		d.AutoScalingGroupName != "web" || d.LifecycleHookName != "test" || d.LifecycleTransition != sim.TransitionLaunching ||
		d.NotificationMetadata != `{"rollout":"r-1"}` || d.Origin != "EC2" || d.Destination != "AutoScalingGroup" {
		t.Fatalf("event delivered: %s", input)
	}
	_, err = env.AutoScaling.CompleteLifecycleAction(ctx, &autoscaling.CompleteLifecycleActionInput{AutoScalingGroupName: aws.String("web"),
		LifecycleHookName: aws.String("test"), LifecycleActionToken: aws.String(d.LifecycleActionToken), LifecycleActionResult: aws.String("CONTINUE")})
	if err != nil {
		t.Fatalf("CompleteLifecycleAction with the delivered token: %v", err)
	}
	env.RunUntil(t, time.Minute, "the instance is in service", func() bool {
		out, err := env.AutoScaling.DescribeAutoScalingInstances(ctx, &autoscaling.DescribeAutoScalingInstancesInput{InstanceIds: []string{d.EC2InstanceId}})
		return err == nil && len(out.AutoScalingInstances) == 1 && aws.ToString(out.AutoScalingInstances[0].LifecycleState) == "InService"
	})
	if !slices.Equal(ev.Resources, groupARNs(t, env)) {
		t.Errorf("event resources %v, want the group's ARN", ev.Resources)
	}
}

// groupARNs returns the ARN of group "web".
func groupARNs(t *testing.T, env *cloudtest.Env) []string {
	t.Helper()
	out, err := env.AutoScaling.DescribeAutoScalingGroups(t.Context(), &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"web"}})
	if err != nil || len(out.AutoScalingGroups) != 1 {
		t.Fatalf("describe web: %v", err)
	}
	return []string{aws.ToString(out.AutoScalingGroups[0].AutoScalingGroupARN)}
}
