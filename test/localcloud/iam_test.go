package localcloud_test

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/phoenix-rollouts/phoenix/test/localcloud"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/functions"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/iam"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/sim"
)

const (
	testRole     = "arn:aws:iam::123456789012:role/phoenix-TestFunctionRole-0123"
	testFunction = "phoenix-TestFunction-4567"
)

// testPolicy grants the calls the wire tests expect to be allowed, in the
// template's words: tag-gated group writes, launches from launch templates
// only, one topic, one bus with one source, one parameter path.
var testPolicy = map[string]any{"Version": "2012-10-17", "Statement": []any{
	map[string]any{"Sid": "Read", "Effect": "Allow", "Action": []any{"autoscaling:DescribeAutoScalingGroups", "ec2:Describe*"}, "Resource": "*"},
	map[string]any{"Sid": "PinPhoenixGroups", "Effect": "Allow", "Action": "autoscaling:UpdateAutoScalingGroup",
		"Resource":  "arn:aws:autoscaling:*:123456789012:autoScalingGroup:*:autoScalingGroupName/*",
		"Condition": map[string]any{"StringEqualsIgnoreCase": map[string]any{"aws:ResourceTag/phoenix:enabled": []any{"true", "yes", "on", "1"}}}},
	map[string]any{"Sid": "LaunchFromLaunchTemplatesOnly", "Effect": "Allow", "Action": "ec2:RunInstances",
		"Resource": []any{"arn:aws:ec2:*:123456789012:launch-template/*", "arn:aws:ec2:*:123456789012:instance/*",
			"arn:aws:ec2:*:123456789012:volume/*", "arn:aws:ec2:*:123456789012:network-interface/*", "arn:aws:ec2:*::image/*"},
		"Condition": map[string]any{"ArnLike": map[string]any{"ec2:LaunchTemplate": "arn:aws:ec2:*:123456789012:launch-template/*"}}},
	map[string]any{"Sid": "Notify", "Effect": "Allow", "Action": "sns:Publish", "Resource": "arn:aws:sns:us-east-1:123456789012:allowed"},
	map[string]any{"Sid": "Events", "Effect": "Allow", "Action": "events:PutEvents", "Resource": "arn:aws:events:us-east-1:123456789012:event-bus/default",
		"Condition": map[string]any{"StringEquals": map[string]any{"events:source": "phoenix.rollouts"}}},
	map[string]any{"Sid": "Params", "Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "arn:aws:ssm:us-east-1:123456789012:parameter/phoenix/*"},
	map[string]any{"Sid": "DeregisterImagesOnly", "Effect": "Allow", "Action": "ec2:DeregisterImage", "Resource": "arn:aws:ec2:*::image/*"},
	map[string]any{"Sid": "NeverTheseAlarms", "Effect": "Deny", "Action": "cloudwatch:*", "Resource": "*"},
}}

// iamEnv is a cloud with one function whose role has testPolicy, clients
// signed with that function's key, and a group "web" tagged as asked.
type iamEnv struct {
	env *cloudtest.Env
	cfg aws.Config
	lt  string
}

func newIAMEnv(t *testing.T, enabled string, opts ...localcloud.Options) *iamEnv {
	t.Helper()
	env := cloudtest.New(t, opts...)
	ctx := api.WithRequest(t.Context(), api.Request{Region: "us-east-1", Account: env.Cloud.World.Account()})
	_, err := env.Cloud.Lambda.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(testFunction), Role: aws.String(testRole), Runtime: lambdatypes.RuntimeProvidedal2023,
		Handler: aws.String("bootstrap"), Code: &lambdatypes.FunctionCode{S3Bucket: aws.String(functions.LocalCodeBucket), S3Key: aws.String(functions.InProcessKey)},
	})
	if err != nil {
		t.Fatalf("CreateFunction: %v", err)
	}
	p, err := iam.ParsePolicy("test", testPolicy)
	if err != nil {
		t.Fatal(err)
	}
	env.Cloud.IAM.Put(testRole, []*iam.Policy{p})

	img, err := env.Cloud.World.AddImage("us-east-1", sim.ImageSpec{Name: "app", Available: true})
	if err != nil {
		t.Fatal(err)
	}
	lt, err := env.EC2.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("web"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(img), InstanceType: ec2types.InstanceTypeT3Micro}})
	if err != nil {
		t.Fatalf("CreateLaunchTemplate: %v", err)
	}
	_, err = env.AutoScaling.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String("web"), MinSize: aws.Int32(0), MaxSize: aws.Int32(2), DesiredCapacity: aws.Int32(0),
		LaunchTemplate:    &astypes.LaunchTemplateSpecification{LaunchTemplateId: lt.LaunchTemplate.LaunchTemplateId, Version: aws.String("1")},
		AvailabilityZones: []string{"us-east-1a"},
		Tags:              []astypes.Tag{{Key: aws.String("phoenix:enabled"), Value: aws.String(enabled)}},
	})
	if err != nil {
		t.Fatalf("CreateAutoScalingGroup: %v", err)
	}
	cfg := env.Config.Copy()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(functions.AccessKeyID(testFunction), "secret", "token")
	return &iamEnv{env: env, cfg: cfg, lt: aws.ToString(lt.LaunchTemplate.LaunchTemplateId)}
}

// wantDenied checks err is the service's AccessDenied answer: code, HTTP
// status and AWS's message naming the principal, action and resource.
func wantDenied(t *testing.T, err error, code string, status int, action, resource string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v, want %s", err, code)
	}
	if ae.ErrorCode() != code {
		t.Errorf("code %s, want %s (%s)", ae.ErrorCode(), code, ae.ErrorMessage())
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() != status {
		t.Errorf("status %d, want %d", re.HTTPStatusCode(), status)
	}
	want := "User: arn:aws:sts::123456789012:assumed-role/phoenix-TestFunctionRole-0123/" + testFunction +
		" is not authorized to perform: " + action + " on resource: " + resource
	if !strings.Contains(ae.ErrorMessage(), want) {
		t.Errorf("message %q\nlacks %q", ae.ErrorMessage(), want)
	}
}

func TestADeployedFunctionsCallsAreHeldAgainstItsRole(t *testing.T) {
	e := newIAMEnv(t, "yes")
	ctx := t.Context()
	as := autoscaling.NewFromConfig(e.cfg)
	update := func() error {
		_, err := as.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String("web"), MaxSize: aws.Int32(3)})
		return err
	}
	groupARN := func() string {
		out, err := e.env.AutoScaling.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"web"}})
		if err != nil || len(out.AutoScalingGroups) != 1 {
			t.Fatalf("describe web: %v", err)
		}
		return aws.ToString(out.AutoScalingGroups[0].AutoScalingGroupARN)
	}

	t.Run("a read without resource-level permissions is allowed by Resource *", func(t *testing.T) {
		if _, err := as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a group tagged phoenix:enabled=yes may be updated", func(t *testing.T) {
		if err := update(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("pointing a group at a launch template needs ec2:RunInstances from it too", func(t *testing.T) {
		in := &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String("web"),
			LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(e.lt), Version: aws.String("1")}}
		if _, err := as.UpdateAutoScalingGroup(ctx, in); err != nil {
			t.Fatalf("with LaunchFromLaunchTemplatesOnly: %v", err)
		}
		all, _ := e.env.Cloud.IAM.Policies(testRole)
		without := *all[0]
		without.Statements = slices.DeleteFunc(slices.Clone(without.Statements), func(st iam.Statement) bool { return st.Sid == "LaunchFromLaunchTemplatesOnly" })
		e.env.Cloud.IAM.Put(testRole, []*iam.Policy{&without})
		defer e.env.Cloud.IAM.Put(testRole, all)
		_, err := as.UpdateAutoScalingGroup(ctx, in)
		wantDenied(t, err, "AccessDenied", http.StatusForbidden, "ec2:RunInstances", "arn:aws:ec2:us-east-1:123456789012:launch-template/"+e.lt)
	})
	t.Run("the group's tags are read at the time of the call", func(t *testing.T) {
		_, err := e.env.AutoScaling.CreateOrUpdateTags(ctx, &autoscaling.CreateOrUpdateTagsInput{Tags: []astypes.Tag{{
			ResourceId: aws.String("web"), ResourceType: aws.String("auto-scaling-group"), Key: aws.String("phoenix:enabled"), Value: aws.String("false"), PropagateAtLaunch: aws.Bool(false)}}})
		if err != nil {
			t.Fatal(err)
		}
		wantDenied(t, update(), "AccessDenied", http.StatusForbidden, "autoscaling:UpdateAutoScalingGroup", groupARN())
	})
	t.Run("EC2 answers UnauthorizedOperation with an encoded message", func(t *testing.T) {
		_, err := ec2.NewFromConfig(e.cfg).RunInstances(ctx, &ec2.RunInstancesInput{DryRun: aws.Bool(true), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			ImageId: aws.String("ami-00000000000000001"), InstanceType: ec2types.InstanceTypeT3Micro})
		wantDenied(t, err, "UnauthorizedOperation", http.StatusForbidden, "ec2:RunInstances", "arn:aws:ec2:us-east-1:123456789012:instance/*")
		var ae smithy.APIError
		if errors.As(err, &ae) {
			msg := ae.ErrorMessage()
			if !strings.HasPrefix(msg, "You are not authorized to perform this operation.") {
				t.Errorf("message %q does not start as EC2's does", msg)
			}
			_, enc, ok := strings.Cut(msg, "Encoded authorization failure message: ")
			dec, err := iam.DecodeFailure(enc)
			if !ok || err != nil || dec["allowed"] != false {
				t.Errorf("encoded message %q decodes to %v, %v", enc, dec, err)
			}
		}
	})
	t.Run("a dry-run launch from a launch template is authorized and answers DryRunOperation", func(t *testing.T) {
		_, err := ec2.NewFromConfig(e.cfg).RunInstances(ctx, &ec2.RunInstancesInput{DryRun: aws.Bool(true), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			LaunchTemplate: &ec2types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(e.lt), Version: aws.String("1")}})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "DryRunOperation" {
			t.Errorf("got %v, want DryRunOperation", err)
		}
	})
	t.Run("SNS answers AuthorizationError", func(t *testing.T) {
		_, err := sns.NewFromConfig(e.cfg).Publish(ctx, &sns.PublishInput{TopicArn: aws.String("arn:aws:sns:us-east-1:123456789012:other"), Message: aws.String("hi")})
		wantDenied(t, err, "AuthorizationError", http.StatusForbidden, "sns:Publish", "arn:aws:sns:us-east-1:123456789012:other")
	})
	t.Run("EventBridge answers AccessDeniedException for an event of another source", func(t *testing.T) {
		_, err := eventbridge.NewFromConfig(e.cfg).PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
			Source: aws.String("someone.else"), DetailType: aws.String("x"), Detail: aws.String("{}")}}})
		wantDenied(t, err, "AccessDeniedException", http.StatusBadRequest, "events:PutEvents", "arn:aws:events:us-east-1:123456789012:event-bus/default")
	})
	t.Run("EventBridge accepts an event of the allowed source", func(t *testing.T) {
		_, err := eventbridge.NewFromConfig(e.cfg).PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
			Source: aws.String("phoenix.rollouts"), DetailType: aws.String("x"), Detail: aws.String("{}")}}})
		if err != nil {
			t.Fatal(err)
		}
	})
	t.Run("SSM answers AccessDeniedException outside the allowed path", func(t *testing.T) {
		_, err := ssm.NewFromConfig(e.cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/secrets/db")})
		wantDenied(t, err, "AccessDeniedException", http.StatusBadRequest, "ssm:GetParameter", "arn:aws:ssm:us-east-1:123456789012:parameter/secrets/db")
	})
	t.Run("Step Functions answers AccessDeniedException", func(t *testing.T) {
		_, err := sfn.NewFromConfig(e.cfg).StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String("arn:aws:states:us-east-1:123456789012:stateMachine:x")})
		wantDenied(t, err, "AccessDeniedException", http.StatusBadRequest, "states:StartExecution", "arn:aws:states:us-east-1:123456789012:stateMachine:x")
	})
	t.Run("CloudWatch over CBOR answers AccessDeniedException for an explicit deny", func(t *testing.T) {
		_, err := cloudwatch.NewFromConfig(e.cfg).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"a"}})
		wantDenied(t, err, "AccessDeniedException", http.StatusBadRequest, "cloudwatch:DescribeAlarms", "arn:aws:cloudwatch:us-east-1:123456789012:alarm:a")
		var ae smithy.APIError
		if errors.As(err, &ae) && !strings.HasSuffix(ae.ErrorMessage(), "with an explicit deny in an identity-based policy") {
			t.Errorf("message %q does not say the deny was explicit", ae.ErrorMessage())
		}
	})
	t.Run("GetCallerIdentity needs no permission", func(t *testing.T) {
		if _, err := sts.NewFromConfig(e.cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("an operation missing from the IAM table is refused, not allowed", func(t *testing.T) {
		_, err := ec2.NewFromConfig(e.cfg).CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("x"),
			LaunchTemplateData: &ec2types.RequestLaunchTemplateData{InstanceType: ec2types.InstanceTypeT3Micro}})
		var ae smithy.APIError
		if !errors.As(err, &ae) || !strings.Contains(ae.ErrorMessage(), "no entry in the local cloud's IAM table") {
			t.Errorf("got %v, want a refusal naming the IAM table", err)
		}
	})
	t.Run("the harness's own key is not restricted", func(t *testing.T) {
		if _, err := e.env.SNS.Publish(ctx, &sns.PublishInput{TopicArn: aws.String("arn:aws:sns:us-east-1:123456789012:other"), Message: aws.String("hi")}); err != nil {
			var ae smithy.APIError
			if errors.As(err, &ae) && strings.Contains(ae.ErrorCode(), "Authoriz") {
				t.Fatal(err)
			}
		}
	})
}

// The image life stages are authorized on the image's ARN (no account),
// and deleting an image's snapshots with it needs ec2:DeleteSnapshot on
// each of them.
func TestImageStageCallsAreHeldAgainstTheImageAndItsSnapshots(t *testing.T) {
	e := newIAMEnv(t, "yes")
	ctx := api.WithRequest(t.Context(), api.Request{Region: "us-east-1", Account: e.env.Cloud.World.Account()})
	c := ec2.NewFromConfig(e.cfg)
	add := func(name string) (string, string) {
		img, err := e.env.Cloud.World.AddImage("us-east-1", sim.ImageSpec{Name: name, Available: true})
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.env.EC2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{img}})
		if err != nil || len(out.Images) != 1 || len(out.Images[0].BlockDeviceMappings) == 0 || out.Images[0].BlockDeviceMappings[0].Ebs == nil {
			t.Fatalf("image %s has no snapshot: %v", img, err)
		}
		return img, aws.ToString(out.Images[0].BlockDeviceMappings[0].Ebs.SnapshotId)
	}
	img, snap := add("old")
	_, err := c.DisableImage(ctx, &ec2.DisableImageInput{ImageId: aws.String(img)})
	wantDenied(t, err, "UnauthorizedOperation", http.StatusForbidden, "ec2:DisableImage", "arn:aws:ec2:us-east-1::image/"+img)
	_, err = c.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(img), DeleteAssociatedSnapshots: aws.Bool(true)})
	wantDenied(t, err, "UnauthorizedOperation", http.StatusForbidden, "ec2:DeleteSnapshot", "arn:aws:ec2:us-east-1::snapshot/"+snap)
	if _, err := c.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(img)}); err != nil {
		t.Fatalf("ec2:DeregisterImage on image/* allows deregistering without the snapshots: %v", err)
	}
	snaps, err := e.env.EC2.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{snap}})
	if err != nil || len(snaps.Snapshots) != 1 {
		t.Errorf("the snapshot of the image deregistered without it is gone: %v", err)
	}
}

func TestTheIAMSwitchTurnsEnforcementOff(t *testing.T) {
	e := newIAMEnv(t, "false", localcloud.Options{Seed: 1, IAMOff: true})
	if e.env.Cloud.IAMEnforced() {
		t.Fatal("IAMOff did not turn enforcement off")
	}
	_, err := autoscaling.NewFromConfig(e.cfg).UpdateAutoScalingGroup(t.Context(), &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String("web"), MaxSize: aws.Int32(3)})
	if err != nil {
		t.Fatalf("with enforcement off: %v", err)
	}
}

func TestIAMIsEnforcedByDefault(t *testing.T) {
	t.Setenv(localcloud.IAMEnvVar, "")
	env := cloudtest.New(t)
	if !env.Cloud.IAMEnforced() {
		t.Fatal("a cloud started with default options does not enforce IAM")
	}
	t.Setenv(localcloud.IAMEnvVar, "off")
	if cloudtest.New(t).Cloud.IAMEnforced() {
		t.Errorf("%s=off did not turn enforcement off", localcloud.IAMEnvVar)
	}
}

// Shifting traffic is authorized on what it changes: ModifyListener and
// CreateRule on the listener, ModifyRule and DeleteRule on the rule with
// its tags at the time of the call, DescribeRules on "*" (the Service
// Authorization Reference's resource types, as cfn-lint carries them).
func TestListenerAndRuleChangesAreHeldAgainstTheListenerAndTheRule(t *testing.T) {
	e := newIAMEnv(t, "yes")
	ctx := t.Context()
	lb, err := e.env.ELB.CreateLoadBalancer(ctx, &elasticloadbalancingv2.CreateLoadBalancerInput{Name: aws.String("web"), Subnets: []string{"subnet-a", "subnet-b"}})
	if err != nil {
		t.Fatal(err)
	}
	var tgs []string
	for _, name := range []string{"blue", "green"} {
		tg, err := e.env.ELB.CreateTargetGroup(ctx, &elasticloadbalancingv2.CreateTargetGroupInput{Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp,
			Port: aws.Int32(80), VpcId: aws.String("vpc-0iam")})
		if err != nil {
			t.Fatal(err)
		}
		tgs = append(tgs, aws.ToString(tg.TargetGroups[0].TargetGroupArn))
	}
	forward := func(blue, green int32) []elbtypes.Action {
		return []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: []elbtypes.TargetGroupTuple{
			{TargetGroupArn: aws.String(tgs[0]), Weight: aws.Int32(blue)}, {TargetGroupArn: aws.String(tgs[1]), Weight: aws.Int32(green)}}}}}
	}
	ls, err := e.env.ELB.CreateListener(ctx, &elasticloadbalancingv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn,
		Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), DefaultActions: forward(100, 0)})
	if err != nil {
		t.Fatal(err)
	}
	listener := aws.ToString(ls.Listeners[0].ListenerArn)
	pathRule := []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/canary/*"}}}
	rl, err := e.env.ELB.CreateRule(ctx, &elasticloadbalancingv2.CreateRuleInput{ListenerArn: aws.String(listener), Priority: aws.Int32(10),
		Conditions: pathRule, Actions: forward(0, 100)})
	if err != nil {
		t.Fatal(err)
	}
	rule := aws.ToString(rl.Rules[0].RuleArn)
	p, err := iam.ParsePolicy("shift", map[string]any{"Version": "2012-10-17", "Statement": []any{
		map[string]any{"Effect": "Allow", "Action": "elasticloadbalancing:DescribeRules", "Resource": "*"},
		map[string]any{"Effect": "Allow", "Action": "elasticloadbalancing:ModifyListener", "Resource": listener},
		map[string]any{"Effect": "Allow", "Action": []any{"elasticloadbalancing:ModifyRule", "elasticloadbalancing:DeleteRule"},
			"Resource":  "arn:aws:elasticloadbalancing:*:123456789012:listener-rule/app/*",
			"Condition": map[string]any{"StringEquals": map[string]any{"elasticloadbalancing:ResourceTag/phoenix:enabled": "true"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	e.env.Cloud.IAM.Put(testRole, []*iam.Policy{p})
	c := elasticloadbalancingv2.NewFromConfig(e.cfg)

	if _, err := c.DescribeRules(ctx, &elasticloadbalancingv2.DescribeRulesInput{ListenerArn: aws.String(listener)}); err != nil {
		t.Fatalf("DescribeRules on *: %v", err)
	}
	if _, err := c.ModifyListener(ctx, &elasticloadbalancingv2.ModifyListenerInput{ListenerArn: aws.String(listener), DefaultActions: forward(90, 10)}); err != nil {
		t.Fatalf("ModifyListener on the listener: %v", err)
	}
	_, err = c.CreateRule(ctx, &elasticloadbalancingv2.CreateRuleInput{ListenerArn: aws.String(listener), Priority: aws.Int32(20), Conditions: pathRule, Actions: forward(1, 1)})
	wantDenied(t, err, "AccessDenied", http.StatusForbidden, "elasticloadbalancing:CreateRule", listener)
	modify := func() error {
		_, err := c.ModifyRule(ctx, &elasticloadbalancingv2.ModifyRuleInput{RuleArn: aws.String(rule), Actions: forward(50, 50)})
		return err
	}
	wantDenied(t, modify(), "AccessDenied", http.StatusForbidden, "elasticloadbalancing:ModifyRule", rule)
	if _, err := e.env.ELB.AddTags(ctx, &elasticloadbalancingv2.AddTagsInput{ResourceArns: []string{rule},
		Tags: []elbtypes.Tag{{Key: aws.String("phoenix:enabled"), Value: aws.String("true")}}}); err != nil {
		t.Fatal(err)
	}
	if err := modify(); err != nil {
		t.Fatalf("ModifyRule once the rule is tagged: %v", err)
	}
	if _, err := c.DeleteRule(ctx, &elasticloadbalancingv2.DeleteRuleInput{RuleArn: aws.String(rule)}); err != nil {
		t.Fatalf("DeleteRule of the tagged rule: %v", err)
	}
}
