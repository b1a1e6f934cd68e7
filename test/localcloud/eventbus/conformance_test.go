package eventbus_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/phoenix-rollouts/phoenix/test/localcloud"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/eventbus"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/sim"
)

// TestConformance runs every EventBridge rule through a real aws-sdk-go-v2
// client (AWS JSON 1.1) against a stepped local cloud over HTTP, then the
// delivery rules that need the whole cloud: a Step Functions state machine
// is the target, so what the target receives is read back through the
// Step Functions API rather than from a recorder.
func TestConformance(t *testing.T) {
	eventbus.RunRules(t, eventbus.Rules, overHTTP)
	t.Run("AMatchingEventStartsTheStateMachineTargetOnTheClockWithTheEventAsInput", testAMatchingEventStartsTheStateMachineTarget)
	t.Run("AnAMIStateChangeFromEC2ReachesARuleOnTheBusOfItsRegion", testAnAMIStateChangeReachesARule)
}

// overHTTP is the Backend of a fresh local cloud served on a loopback port.
func overHTTP(t testing.TB, seed uint64) *eventbus.TestCloud {
	t.Helper()
	env := cloudtest.New(t, localcloud.Options{Seed: seed})
	return &eventbus.TestCloud{
		Clock: env.Cloud.Clock,
		Client: func(region string) eventbus.EventsAPI {
			return env.InRegion(region).WithoutClientValidation().EventBridge
		},
	}
}

const roleARN = "arn:aws:iam::123456789012:role/phoenix-local"

// passMachine creates a state machine that ends at once, to be a target
// whose input can be read back with DescribeExecution.
func passMachine(t *testing.T, env *cloudtest.Env, name string) string {
	t.Helper()
	out, err := env.StepFunctions.CreateStateMachine(t.Context(), &sfn.CreateStateMachineInput{
		Name:       aws.String(name),
		RoleArn:    aws.String(roleARN),
		Definition: aws.String(`{"StartAt":"Done","States":{"Done":{"Type":"Pass","End":true}}}`),
	})
	if err != nil {
		t.Fatalf("CreateStateMachine %s: %v", name, err)
	}
	return aws.ToString(out.StateMachineArn)
}

// ruleTo routes events matching pattern to the state machine.
func ruleTo(t *testing.T, env *cloudtest.Env, name, pattern, machineARN string) {
	t.Helper()
	ctx := t.Context()
	if _, err := env.EventBridge.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(name), EventPattern: aws.String(pattern)}); err != nil {
		t.Fatalf("PutRule %s: %v", name, err)
	}
	out, err := env.EventBridge.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(name), Targets: []types.Target{
		{Id: aws.String("machine"), Arn: aws.String(machineARN), RoleArn: aws.String(roleARN)},
	}})
	if err != nil || out.FailedEntryCount != 0 {
		t.Fatalf("PutTargets %s: %v %+v", name, err, out)
	}
}

// executionInputs returns the input of every execution of the machine.
func executionInputs(t *testing.T, env *cloudtest.Env, machineARN string) []map[string]any {
	t.Helper()
	ctx := t.Context()
	var inputs []map[string]any
	p := sfn.NewListExecutionsPaginator(env.StepFunctions, &sfn.ListExecutionsInput{StateMachineArn: aws.String(machineARN)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListExecutions: %v", err)
		}
		for _, ex := range page.Executions {
			d, err := env.StepFunctions.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: ex.ExecutionArn})
			if err != nil {
				t.Fatalf("DescribeExecution: %v", err)
			}
			var in map[string]any
			if err := json.Unmarshal([]byte(aws.ToString(d.Input)), &in); err != nil {
				t.Fatalf("execution input %q: %v", aws.ToString(d.Input), err)
			}
			inputs = append(inputs, in)
		}
	}
	return inputs
}

// testAMatchingEventStartsTheStateMachineTarget checks that delivery runs
// on the clock after PutEvents returns, not inside the call, and that the
// target gets the whole event in EventBridge's envelope with the id
// PutEvents answered.
func testAMatchingEventStartsTheStateMachineTarget(t *testing.T) {
	t.Parallel()
	env := cloudtest.New(t)
	machine := passMachine(t, env, "on-image")
	ruleTo(t, env, "images", `{"source":["phoenix.test"],"detail":{"kind":["image"]}}`, machine)
	out, err := env.EventBridge.PutEvents(t.Context(), &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{
		{Source: aws.String("phoenix.test"), DetailType: aws.String("Image Ready"), Detail: aws.String(`{"kind":"image","id":"ami-1"}`)},
		{Source: aws.String("phoenix.test"), DetailType: aws.String("Other"), Detail: aws.String(`{"kind":"other"}`)},
	}})
	if err != nil || out.FailedEntryCount != 0 {
		t.Fatalf("PutEvents: %v %+v", err, out)
	}
	if got := executionInputs(t, env, machine); len(got) != 0 {
		t.Fatalf("%d executions before the clock moved, want delivery on the clock", len(got))
	}
	env.RunUntil(t, time.Minute, "the target is started", func() bool { return len(env.Cloud.EventBridge.Deliveries()) > 0 })
	env.Advance(time.Second)
	got := executionInputs(t, env, machine)
	if len(got) != 1 {
		t.Fatalf("%d executions, want one for the matching event only", len(got))
	}
	in := got[0]
	detail, _ := in["detail"].(map[string]any)
	if in["id"] != aws.ToString(out.Entries[0].EventId) || in["version"] != "0" || in["source"] != "phoenix.test" ||
		in["detail-type"] != "Image Ready" || in["account"] != sim.DefaultAccount || in["region"] != "us-east-1" || detail["id"] != "ami-1" {
		t.Fatalf("target input = %v, want the event's envelope with the id PutEvents answered", in)
	}
}

// testAnAMIStateChangeReachesARule checks that a service event travels
// from the EC2 API through the bus of its region: an image registered in
// eu-west-1 becomes available, and only a rule in eu-west-1 sees it.
func testAnAMIStateChangeReachesARule(t *testing.T) {
	t.Parallel()
	env := cloudtest.New(t)
	euWest, usEast := env.InRegion("eu-west-1"), env
	pattern := `{"source":["aws.ec2"],"detail-type":["EC2 AMI State Change"],"detail":{"State":["available"]}}`
	here := passMachine(t, euWest, "here")
	ruleTo(t, euWest, "amis", pattern, here)
	elsewhere := passMachine(t, usEast, "elsewhere")
	ruleTo(t, usEast, "amis", pattern, elsewhere)
	img, err := euWest.EC2.RegisterImage(t.Context(), &ec2.RegisterImageInput{Name: aws.String("golden"), Architecture: "x86_64"})
	if err != nil {
		t.Fatalf("RegisterImage: %v", err)
	}
	env.Advance(sim.DefaultEC2Config().ImageAvailableDelay + time.Minute)
	got := executionInputs(t, euWest, here)
	if len(got) != 1 {
		t.Fatalf("%d executions in eu-west-1, want one for the image", len(got))
	}
	detail, _ := got[0]["detail"].(map[string]any)
	if got[0]["region"] != "eu-west-1" || detail["ImageId"] != aws.ToString(img.ImageId) {
		t.Fatalf("target input = %v, want the AMI state change of %s in eu-west-1", got[0], aws.ToString(img.ImageId))
	}
	if other := executionInputs(t, usEast, elsewhere); len(other) != 0 {
		t.Fatalf("a rule in us-east-1 saw %d events of eu-west-1", len(other))
	}
}
