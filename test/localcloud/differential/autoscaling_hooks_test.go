package differential

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
)

// Lifecycle hooks. moto 5.2.1 stores hooks (PutLifecycleHook,
// DescribeLifecycleHooks, DeleteLifecycleHook) without checking them or
// acting on them, and does not implement DescribeLifecycleHookTypes,
// CompleteLifecycleAction or RecordLifecycleActionHeartbeat (HTTP 500), so
// what the hooks do to instances stays the local cloud's own, held to the
// AWS docs by sim.LifecycleHookRules. What both serve is compared here;
// every difference is recorded in docs/local-cloud-vs-moto.md.

// hookView renders the hooks a client reads, without RoleARN and
// NotificationTargetARN (compared on their own).
func hookView(hooks []astypes.LifecycleHook) string {
	var parts []string
	for _, h := range hooks {
		meta := "-"
		if h.NotificationMetadata != nil {
			meta = *h.NotificationMetadata
		}
		parts = append(parts, fmt.Sprintf("%s/%s/%s/hb=%d/global=%d/%s/meta=%s", aws.ToString(h.AutoScalingGroupName), aws.ToString(h.LifecycleHookName),
			aws.ToString(h.LifecycleTransition), aws.ToInt32(h.HeartbeatTimeout), aws.ToInt32(h.GlobalTimeout), aws.ToString(h.DefaultResult), meta))
	}
	return strings.Join(parts, " ")
}

func TestAutoScalingLifecycleHooks(t *testing.T) {
	e := asgSetup(t, newPair(t))
	v1 := func(s int) *astypes.LaunchTemplateSpecification { return e.asgByID(s, "1") }
	describe := func(group string, names ...string) ([2]string, [2]outcome, [2]*autoscaling.DescribeLifecycleHooksOutput) {
		t.Helper()
		res, out := asgCall(t, e, func(c *autoscaling.Client, _ int) (*autoscaling.DescribeLifecycleHooksOutput, error) {
			return c.DescribeLifecycleHooks(bg, &autoscaling.DescribeLifecycleHooksInput{AutoScalingGroupName: aws.String(group), LifecycleHookNames: names})
		})
		var v [2]string
		for s := range res {
			if res[s] != nil {
				v[s] = hookView(res[s].LifecycleHooks)
			}
		}
		return v, out, res
	}
	put := func(in autoscaling.PutLifecycleHookInput) [2]outcome {
		t.Helper()
		_, out := asgCall(t, e, func(c *autoscaling.Client, _ int) (*autoscaling.PutLifecycleHookOutput, error) {
			cp := in
			return c.PutLifecycleHook(bg, &cp)
		})
		return out
	}

	// CreateAutoScalingGroup with a LifecycleHookSpecificationList: the
	// local cloud creates the hook and the first instance waits on it;
	// moto ignores the list.
	out := e.asgCreate(t, "web", 0, 3, aws.Int32(1), v1, func(_ int, in *autoscaling.CreateAutoScalingGroupInput) {
		in.LifecycleHookSpecificationList = []astypes.LifecycleHookSpecification{{LifecycleHookName: aws.String("spec"), LifecycleTransition: aws.String("autoscaling:EC2_INSTANCE_LAUNCHING")}}
	})
	ec2OK(t, "CreateAutoScalingGroup with a lifecycle hook", out)
	e.asgSettle()
	v, out, _ := describe("web")
	ec2OK(t, "DescribeLifecycleHooks after CreateAutoScalingGroup", out)
	if v[ec2Local] != "web/spec/autoscaling:EC2_INSTANCE_LAUNCHING/hb=3600/global=172800/ABANDON/meta=-" || v[ec2Moto] != "" {
		t.Errorf("hooks from LifecycleHookSpecificationList: local cloud %q (want the hook with AWS's defaults), moto %q (recorded: none)", v[ec2Local], v[ec2Moto])
	}
	g := e.asgGroup(t, "web")
	if got := asgInstances(g[ec2Local]); got != "Pending:Wait/Healthy/false/t3.micro/web" {
		t.Errorf("local cloud instance under a launch hook: %s, want Pending:Wait", got)
	}
	if got := asgInstances(g[ec2Moto]); got != "InService/Healthy/false/t3.micro/web" {
		t.Errorf("moto instance: %s; recorded: InService (hooks not acted on)", got)
	}

	// CompleteLifecycleAction, RecordLifecycleActionHeartbeat and
	// DescribeLifecycleHookTypes: answered by the local cloud, HTTP 500 on
	// moto.
	id := aws.ToString(g[ec2Local].Instances[0].InstanceId)
	_, out = asgCall(t, e, func(c *autoscaling.Client, _ int) (*autoscaling.RecordLifecycleActionHeartbeatOutput, error) {
		return c.RecordLifecycleActionHeartbeat(bg, &autoscaling.RecordLifecycleActionHeartbeatInput{AutoScalingGroupName: aws.String("web"), LifecycleHookName: aws.String("spec"), InstanceId: aws.String(id)})
	})
	ec2WantServerFault(t, "RecordLifecycleActionHeartbeat", out, outcome{})
	_, out = asgCall(t, e, func(c *autoscaling.Client, _ int) (*autoscaling.CompleteLifecycleActionOutput, error) {
		return c.CompleteLifecycleAction(bg, &autoscaling.CompleteLifecycleActionInput{AutoScalingGroupName: aws.String("web"), LifecycleHookName: aws.String("spec"),
			InstanceId: aws.String(id), LifecycleActionResult: aws.String("CONTINUE")})
	})
	ec2WantServerFault(t, "CompleteLifecycleAction", out, outcome{})
	hookTypes, out := asgCall(t, e, func(c *autoscaling.Client, _ int) (*autoscaling.DescribeLifecycleHookTypesOutput, error) {
		return c.DescribeLifecycleHookTypes(bg, &autoscaling.DescribeLifecycleHookTypesInput{})
	})
	ec2WantServerFault(t, "DescribeLifecycleHookTypes", out, outcome{})
	if got := strings.Join(hookTypes[ec2Local].LifecycleHookTypes, ","); got != "autoscaling:EC2_INSTANCE_LAUNCHING,autoscaling:EC2_INSTANCE_TERMINATING" {
		t.Errorf("local cloud DescribeLifecycleHookTypes: %s", got)
	}
	e.asgSettle()
	if got := asgInstances(e.asgGroup(t, "web")[ec2Local]); got != "InService/Healthy/false/t3.micro/web" {
		t.Errorf("local cloud instance after CONTINUE: %s, want InService", got)
	}

	// PutLifecycleHook with only the transition: the same hook on both,
	// AWS's defaults; RoleARN and NotificationTargetARN absent on the local
	// cloud, made up by moto.
	ec2OK(t, "PutLifecycleHook", put(autoscaling.PutLifecycleHookInput{AutoScalingGroupName: aws.String("web"), LifecycleHookName: aws.String("drain"),
		LifecycleTransition: aws.String("autoscaling:EC2_INSTANCE_TERMINATING")}))
	v, out, res := describe("web", "drain")
	ec2OK(t, "DescribeLifecycleHooks by name", out)
	ec2Same(t, "a new hook", v)
	if v[ec2Local] != "web/drain/autoscaling:EC2_INSTANCE_TERMINATING/hb=3600/global=172800/ABANDON/meta=-" {
		t.Errorf("a new hook: %s", v[ec2Local])
	}
	l, m := res[ec2Local].LifecycleHooks[0], res[ec2Moto].LifecycleHooks[0]
	if l.RoleARN != nil || l.NotificationTargetARN != nil || aws.ToString(m.RoleARN) != "arn:aws:iam::1234567890:role/my-auto-scaling-role" ||
		aws.ToString(m.NotificationTargetARN) != "arn:aws:sqs:us-east-1:123456789012:my-queue" {
		t.Errorf("RoleARN/NotificationTargetARN of a hook given none: local cloud %v/%v (want absent), moto %v/%v (recorded: fixed made-up ARNs)",
			aws.ToString(l.RoleARN), aws.ToString(l.NotificationTargetARN), aws.ToString(m.RoleARN), aws.ToString(m.NotificationTargetARN))
	}

	// An update in place without the transition: the local cloud keeps
	// what is not given and derives the global timeout; moto drops the
	// transition and the metadata and keeps 48 hours.
	ec2OK(t, "PutLifecycleHook update", put(autoscaling.PutLifecycleHookInput{AutoScalingGroupName: aws.String("web"), LifecycleHookName: aws.String("drain"),
		HeartbeatTimeout: aws.Int32(60), DefaultResult: aws.String("CONTINUE"), NotificationMetadata: aws.String("save logs")}))
	v, out, _ = describe("web", "drain")
	ec2OK(t, "DescribeLifecycleHooks after an update", out)
	if v[ec2Local] != "web/drain/autoscaling:EC2_INSTANCE_TERMINATING/hb=60/global=6000/CONTINUE/meta=save logs" {
		t.Errorf("local cloud after an update in place: %s", v[ec2Local])
	}
	if v[ec2Moto] != "web/drain//hb=60/global=172800/CONTINUE/meta=-" {
		t.Errorf("moto after an update in place: %s; recorded: transition and metadata dropped, global timeout 172800", v[ec2Moto])
	}

	// Listing: oldest first on both, an unknown name left out.
	v, out, _ = describe("web", "drain", "nope")
	ec2OK(t, "DescribeLifecycleHooks with an unknown name", out)
	if !strings.HasPrefix(v[ec2Local], "web/drain/") || !strings.HasPrefix(v[ec2Moto], "web/drain/") || strings.Contains(v[ec2Local]+v[ec2Moto], "nope") {
		t.Errorf("an unknown name: local cloud %q, moto %q", v[ec2Local], v[ec2Moto])
	}
	v, _, _ = describe("web")
	if !strings.HasPrefix(v[ec2Local], "web/spec/") || !strings.HasPrefix(v[ec2Moto], "web/drain/") || strings.Count(v[ec2Local], "web/") != 2 || strings.Count(v[ec2Moto], "web/") != 1 {
		t.Errorf("all hooks: local cloud %q (spec, drain), moto %q (drain)", v[ec2Local], v[ec2Moto])
	}

	// What AWS refuses and moto accepts.
	refused := []struct {
		what string
		in   autoscaling.PutLifecycleHookInput
	}{
		{"a heartbeat timeout under 30 s", autoscaling.PutLifecycleHookInput{AutoScalingGroupName: aws.String("web"), LifecycleHookName: aws.String("fast"),
			LifecycleTransition: aws.String("autoscaling:EC2_INSTANCE_LAUNCHING"), HeartbeatTimeout: aws.Int32(10)}},
		{"an unknown transition", autoscaling.PutLifecycleHookInput{AutoScalingGroupName: aws.String("web"), LifecycleHookName: aws.String("reboot"),
			LifecycleTransition: aws.String("autoscaling:EC2_INSTANCE_REBOOTING")}},
		{"a new hook without a transition", autoscaling.PutLifecycleHookInput{AutoScalingGroupName: aws.String("web"), LifecycleHookName: aws.String("bare")}},
		{"a group that does not exist", autoscaling.PutLifecycleHookInput{AutoScalingGroupName: aws.String("nope"), LifecycleHookName: aws.String("h"),
			LifecycleTransition: aws.String("autoscaling:EC2_INSTANCE_LAUNCHING")}},
	}
	for _, c := range refused {
		ec2Want(t, "PutLifecycleHook, "+c.what, put(c.in), outcome{"ValidationError", 400}, outcome{})
	}
	_, out, _ = describe("nope")
	ec2Want(t, "DescribeLifecycleHooks of a group that does not exist", out, outcome{"ValidationError", 400}, outcome{})

	// 50 hooks a group: the local cloud refuses the 51st, moto takes it.
	for i := 3; i <= 50; i++ {
		ec2OK(t, fmt.Sprintf("hook %d", i), put(autoscaling.PutLifecycleHookInput{AutoScalingGroupName: aws.String("web"), LifecycleHookName: aws.String(fmt.Sprintf("h%d", i)),
			LifecycleTransition: aws.String("autoscaling:EC2_INSTANCE_TERMINATING")}))
	}
	ec2Want(t, "PutLifecycleHook, the 51st hook", put(autoscaling.PutLifecycleHookInput{AutoScalingGroupName: aws.String("web"), LifecycleHookName: aws.String("h51"),
		LifecycleTransition: aws.String("autoscaling:EC2_INSTANCE_TERMINATING")}), outcome{"LimitExceeded", 400}, outcome{})

	// DeleteLifecycleHook: both delete; a second delete is a
	// ValidationError on the local cloud, a success on moto.
	del := func() [2]outcome {
		_, out := asgCall(t, e, func(c *autoscaling.Client, _ int) (*autoscaling.DeleteLifecycleHookOutput, error) {
			return c.DeleteLifecycleHook(bg, &autoscaling.DeleteLifecycleHookInput{AutoScalingGroupName: aws.String("web"), LifecycleHookName: aws.String("drain")})
		})
		return out
	}
	ec2OK(t, "DeleteLifecycleHook", del())
	v, out, _ = describe("web", "drain")
	ec2OK(t, "DescribeLifecycleHooks of a deleted hook", out)
	ec2Same(t, "a deleted hook", v)
	ec2Want(t, "DeleteLifecycleHook of a hook that does not exist", del(), outcome{"ValidationError", 400}, outcome{})
}
