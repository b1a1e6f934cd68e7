package localcloud

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/imagebuilder"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/iam"
)

// authzRule says what IAM authorizes for one operation: the action, each
// resource ARN it is authorized against (in the cloud's partition, account
// and the request's region) and the condition keys the request supplies,
// read from the simulator at the time of the call. An operation that
// touches several resources returns several requests, all of which must
// be allowed; an operation IAM does not authorize returns none.
type authzRule func(c *Cloud, ctx context.Context, in any) ([]iam.Request, error)

// rule adapts a typed rule to the table.
func rule[T any](f func(c *Cloud, ctx context.Context, in *T) ([]iam.Request, error)) authzRule {
	return func(c *Cloud, ctx context.Context, in any) ([]iam.Request, error) {
		t, ok := in.(*T)
		if !ok {
			return nil, fmt.Errorf("authorization rule for %T got %T", (*T)(nil), in)
		}
		return f(c, ctx, t)
	}
}

// noResource is the rule of an action without resource-level permissions:
// IAM authorizes it against "*".
func noResource(action string) authzRule {
	return func(*Cloud, context.Context, any) ([]iam.Request, error) {
		return []iam.Request{{Action: action, Resource: "*"}}, nil
	}
}

// authzRules maps "signing-name.Operation" to its rule. An operation
// missing here is refused with an internal error when a deployed function
// or state machine calls it, so that a gap in the table fails a test
// instead of silently allowing the call.
var authzRules = map[string]authzRule{
	// STS: GetCallerIdentity needs no permission.
	"sts.GetCallerIdentity": rule(func(*Cloud, context.Context, *sts.GetCallerIdentityInput) ([]iam.Request, error) { return nil, nil }),

	// Auto Scaling: reads have no resource-level permissions; writes are
	// authorized against the group, with its tags as they are now.
	"autoscaling.DescribeAutoScalingGroups":    noResource("autoscaling:DescribeAutoScalingGroups"),
	"autoscaling.DescribeInstanceRefreshes":    noResource("autoscaling:DescribeInstanceRefreshes"),
	"autoscaling.DescribeAutoScalingInstances": noResource("autoscaling:DescribeAutoScalingInstances"),
	"autoscaling.DescribeScalingActivities":    noResource("autoscaling:DescribeScalingActivities"),
	"autoscaling.DescribeTags":                 noResource("autoscaling:DescribeTags"),
	"autoscaling.UpdateAutoScalingGroup": rule(func(c *Cloud, ctx context.Context, in *autoscaling.UpdateAutoScalingGroupInput) ([]iam.Request, error) {
		return c.groupRequest(ctx, "autoscaling:UpdateAutoScalingGroup", in.AutoScalingGroupName, in.LaunchTemplate)
	}),
	"autoscaling.StartInstanceRefresh": rule(func(c *Cloud, ctx context.Context, in *autoscaling.StartInstanceRefreshInput) ([]iam.Request, error) {
		var lt *astypes.LaunchTemplateSpecification
		if in.DesiredConfiguration != nil {
			lt = in.DesiredConfiguration.LaunchTemplate
		}
		return c.groupRequest(ctx, "autoscaling:StartInstanceRefresh", in.AutoScalingGroupName, lt)
	}),
	"autoscaling.CancelInstanceRefresh": rule(func(c *Cloud, ctx context.Context, in *autoscaling.CancelInstanceRefreshInput) ([]iam.Request, error) {
		return c.groupRequest(ctx, "autoscaling:CancelInstanceRefresh", in.AutoScalingGroupName, nil)
	}),
	"autoscaling.RollbackInstanceRefresh": rule(func(c *Cloud, ctx context.Context, in *autoscaling.RollbackInstanceRefreshInput) ([]iam.Request, error) {
		return c.groupRequest(ctx, "autoscaling:RollbackInstanceRefresh", in.AutoScalingGroupName, nil)
	}),
	// Lifecycle hooks: the descriptions have no resource-level permissions;
	// putting, deleting and answering a hook are authorized on the group,
	// with its tags (the Service Authorization Reference's autoScalingGroup
	// resource, as cfn-lint's policy data lists it).
	"autoscaling.DescribeLifecycleHooks":     noResource("autoscaling:DescribeLifecycleHooks"),
	"autoscaling.DescribeLifecycleHookTypes": noResource("autoscaling:DescribeLifecycleHookTypes"),
	"autoscaling.PutLifecycleHook": rule(func(c *Cloud, ctx context.Context, in *autoscaling.PutLifecycleHookInput) ([]iam.Request, error) {
		return c.groupOnly(ctx, "autoscaling:PutLifecycleHook", in.AutoScalingGroupName)
	}),
	"autoscaling.DeleteLifecycleHook": rule(func(c *Cloud, ctx context.Context, in *autoscaling.DeleteLifecycleHookInput) ([]iam.Request, error) {
		return c.groupOnly(ctx, "autoscaling:DeleteLifecycleHook", in.AutoScalingGroupName)
	}),
	"autoscaling.CompleteLifecycleAction": rule(func(c *Cloud, ctx context.Context, in *autoscaling.CompleteLifecycleActionInput) ([]iam.Request, error) {
		return c.groupOnly(ctx, "autoscaling:CompleteLifecycleAction", in.AutoScalingGroupName)
	}),
	"autoscaling.RecordLifecycleActionHeartbeat": rule(func(c *Cloud, ctx context.Context, in *autoscaling.RecordLifecycleActionHeartbeatInput) ([]iam.Request, error) {
		return c.groupOnly(ctx, "autoscaling:RecordLifecycleActionHeartbeat", in.AutoScalingGroupName)
	}),

	// EC2.
	"ec2.DescribeInstances":              noResource("ec2:DescribeInstances"),
	"ec2.DescribeImages":                 noResource("ec2:DescribeImages"),
	"ec2.DescribeLaunchTemplates":        noResource("ec2:DescribeLaunchTemplates"),
	"ec2.DescribeLaunchTemplateVersions": noResource("ec2:DescribeLaunchTemplateVersions"),
	"ec2.DescribeInstanceTypes":          noResource("ec2:DescribeInstanceTypes"),
	"ec2.CreateLaunchTemplateVersion": rule(func(c *Cloud, ctx context.Context, in *ec2.CreateLaunchTemplateVersionInput) ([]iam.Request, error) {
		return c.templateRequest(ctx, "ec2:CreateLaunchTemplateVersion", in.LaunchTemplateId, in.LaunchTemplateName)
	}),
	"ec2.ModifyLaunchTemplate": rule(func(c *Cloud, ctx context.Context, in *ec2.ModifyLaunchTemplateInput) ([]iam.Request, error) {
		return c.templateRequest(ctx, "ec2:ModifyLaunchTemplate", in.LaunchTemplateId, in.LaunchTemplateName)
	}),
	"ec2.RunInstances": rule((*Cloud).runInstancesRequests),

	// EC2 image life stages (the image lifecycle): reads have no
	// resource-level permissions; each change is authorized on the image
	// (arn:aws:ec2:REGION::image/ID, no account) or the launch template.
	"ec2.DescribeImageAttribute":  noResource("ec2:DescribeImageAttribute"),
	"ec2.DescribeImageReferences": noResource("ec2:DescribeImageReferences"),
	"ec2.DescribeSnapshots":       noResource("ec2:DescribeSnapshots"),
	"ec2.DeleteLaunchTemplateVersions": rule(func(c *Cloud, ctx context.Context, in *ec2.DeleteLaunchTemplateVersionsInput) ([]iam.Request, error) {
		return c.templateRequest(ctx, "ec2:DeleteLaunchTemplateVersions", in.LaunchTemplateId, in.LaunchTemplateName)
	}),
	"ec2.EnableImageDeprecation": rule(func(c *Cloud, ctx context.Context, in *ec2.EnableImageDeprecationInput) ([]iam.Request, error) {
		return c.imageRequest(ctx, "ec2:EnableImageDeprecation", in.ImageId), nil
	}),
	"ec2.DisableImageDeprecation": rule(func(c *Cloud, ctx context.Context, in *ec2.DisableImageDeprecationInput) ([]iam.Request, error) {
		return c.imageRequest(ctx, "ec2:DisableImageDeprecation", in.ImageId), nil
	}),
	"ec2.DisableImage": rule(func(c *Cloud, ctx context.Context, in *ec2.DisableImageInput) ([]iam.Request, error) {
		return c.imageRequest(ctx, "ec2:DisableImage", in.ImageId), nil
	}),
	"ec2.EnableImage": rule(func(c *Cloud, ctx context.Context, in *ec2.EnableImageInput) ([]iam.Request, error) {
		return c.imageRequest(ctx, "ec2:EnableImage", in.ImageId), nil
	}),
	"ec2.EnableImageDeregistrationProtection": rule(func(c *Cloud, ctx context.Context, in *ec2.EnableImageDeregistrationProtectionInput) ([]iam.Request, error) {
		return c.imageRequest(ctx, "ec2:EnableImageDeregistrationProtection", in.ImageId), nil
	}),
	"ec2.DisableImageDeregistrationProtection": rule(func(c *Cloud, ctx context.Context, in *ec2.DisableImageDeregistrationProtectionInput) ([]iam.Request, error) {
		return c.imageRequest(ctx, "ec2:DisableImageDeregistrationProtection", in.ImageId), nil
	}),
	"ec2.DeregisterImage": rule((*Cloud).deregisterRequests),

	// Elastic Load Balancing v2: reads have no resource-level permissions.
	"elasticloadbalancing.DescribeTargetHealth":  noResource("elasticloadbalancing:DescribeTargetHealth"),
	"elasticloadbalancing.DescribeTargetGroups":  noResource("elasticloadbalancing:DescribeTargetGroups"),
	"elasticloadbalancing.DescribeLoadBalancers": noResource("elasticloadbalancing:DescribeLoadBalancers"),
	"elasticloadbalancing.DescribeListeners":     noResource("elasticloadbalancing:DescribeListeners"),
	"elasticloadbalancing.DescribeRules":         noResource("elasticloadbalancing:DescribeRules"),
	// Weighted forward actions (blue/green): listener changes and new rules
	// are authorized on the listener (listener/app), rule changes on the
	// rule (listener-rule/app), with the resource's tags, as the Service
	// Authorization Reference lists them (cfn-lint's policy data).
	"elasticloadbalancing.ModifyListener": rule(func(c *Cloud, ctx context.Context, in *elasticloadbalancingv2.ModifyListenerInput) ([]iam.Request, error) {
		return c.elbRequest(ctx, "elasticloadbalancing:ModifyListener", aws.ToString(in.ListenerArn)), nil
	}),
	"elasticloadbalancing.CreateRule": rule(func(c *Cloud, ctx context.Context, in *elasticloadbalancingv2.CreateRuleInput) ([]iam.Request, error) {
		return c.elbRequest(ctx, "elasticloadbalancing:CreateRule", aws.ToString(in.ListenerArn)), nil
	}),
	"elasticloadbalancing.ModifyRule": rule(func(c *Cloud, ctx context.Context, in *elasticloadbalancingv2.ModifyRuleInput) ([]iam.Request, error) {
		return c.elbRequest(ctx, "elasticloadbalancing:ModifyRule", aws.ToString(in.RuleArn)), nil
	}),
	"elasticloadbalancing.DeleteRule": rule(func(c *Cloud, ctx context.Context, in *elasticloadbalancingv2.DeleteRuleInput) ([]iam.Request, error) {
		return c.elbRequest(ctx, "elasticloadbalancing:DeleteRule", aws.ToString(in.RuleArn)), nil
	}),

	// CloudWatch: alarms are resources; metric reads and writes are not.
	"monitoring.DescribeAlarms": rule(func(c *Cloud, ctx context.Context, in *cloudwatch.DescribeAlarmsInput) ([]iam.Request, error) {
		if len(in.AlarmNames) == 0 {
			return []iam.Request{{Action: "cloudwatch:DescribeAlarms", Resource: c.arn(ctx, "cloudwatch", "alarm:*")}}, nil
		}
		var out []iam.Request
		for _, n := range in.AlarmNames {
			out = append(out, iam.Request{Action: "cloudwatch:DescribeAlarms", Resource: c.arn(ctx, "cloudwatch", "alarm:"+n)})
		}
		return out, nil
	}),
	"monitoring.ListTagsForResource": rule(func(c *Cloud, ctx context.Context, in *cloudwatch.ListTagsForResourceInput) ([]iam.Request, error) {
		return []iam.Request{{Action: "cloudwatch:ListTagsForResource", Resource: aws.ToString(in.ResourceARN)}}, nil
	}),
	"monitoring.PutMetricData": noResource("cloudwatch:PutMetricData"),
	"monitoring.GetMetricData": noResource("cloudwatch:GetMetricData"),
	"monitoring.ListMetrics":   noResource("cloudwatch:ListMetrics"),

	// SSM Parameter Store: a parameter's ARN is parameter/NAME, the
	// name's leading slash folded into the separator.
	"ssm.GetParameter": rule(func(c *Cloud, ctx context.Context, in *ssm.GetParameterInput) ([]iam.Request, error) {
		return []iam.Request{{Action: "ssm:GetParameter", Resource: c.parameterARN(ctx, aws.ToString(in.Name))}}, nil
	}),
	"ssm.PutParameter": rule(func(c *Cloud, ctx context.Context, in *ssm.PutParameterInput) ([]iam.Request, error) {
		return []iam.Request{{Action: "ssm:PutParameter", Resource: c.parameterARN(ctx, aws.ToString(in.Name))}}, nil
	}),
	"ssm.GetParameters": rule(func(c *Cloud, ctx context.Context, in *ssm.GetParametersInput) ([]iam.Request, error) {
		var out []iam.Request
		for _, n := range in.Names {
			out = append(out, iam.Request{Action: "ssm:GetParameters", Resource: c.parameterARN(ctx, n)})
		}
		return out, nil
	}),

	// SNS.
	"sns.Publish": rule(func(c *Cloud, ctx context.Context, in *sns.PublishInput) ([]iam.Request, error) {
		topic := aws.ToString(in.TopicArn)
		if topic == "" {
			topic = aws.ToString(in.TargetArn)
		}
		if topic == "" {
			// A message to a phone number has no topic resource.
			topic = "*"
		}
		return []iam.Request{{Action: "sns:Publish", Resource: topic}}, nil
	}),

	// EventBridge: each entry is authorized against its bus, with its
	// source and detail type as condition keys.
	"events.PutEvents": rule(func(c *Cloud, ctx context.Context, in *eventbridge.PutEventsInput) ([]iam.Request, error) {
		var out []iam.Request
		for _, e := range in.Entries {
			bus := aws.ToString(e.EventBusName)
			if bus == "" {
				bus = "default"
			}
			if !strings.HasPrefix(bus, "arn:") {
				bus = c.arn(ctx, "events", "event-bus/"+bus)
			}
			out = append(out, iam.Request{Action: "events:PutEvents", Resource: bus, Context: map[string][]string{
				"events:source": {aws.ToString(e.Source)}, "events:detail-type": {aws.ToString(e.DetailType)},
			}})
		}
		return out, nil
	}),

	"events.PutRule": rule(func(c *Cloud, ctx context.Context, in *eventbridge.PutRuleInput) ([]iam.Request, error) {
		return []iam.Request{{Action: "events:PutRule", Resource: c.ruleARN(ctx, in.EventBusName, in.Name)}}, nil
	}),
	"events.PutTargets": rule(func(c *Cloud, ctx context.Context, in *eventbridge.PutTargetsInput) ([]iam.Request, error) {
		return []iam.Request{{Action: "events:PutTargets", Resource: c.ruleARN(ctx, in.EventBusName, in.Rule)}}, nil
	}),
	"events.DescribeRule": rule(func(c *Cloud, ctx context.Context, in *eventbridge.DescribeRuleInput) ([]iam.Request, error) {
		return []iam.Request{{Action: "events:DescribeRule", Resource: c.ruleARN(ctx, in.EventBusName, in.Name)}}, nil
	}),

	// Step Functions: task tokens are authorized against the state
	// machine whose execution issued them, as CDK's grantTaskResponse and
	// the template's ResumeParkedTasks assume.
	"states.StartExecution": rule(func(c *Cloud, ctx context.Context, in *sfn.StartExecutionInput) ([]iam.Request, error) {
		return []iam.Request{{Action: "states:StartExecution", Resource: aws.ToString(in.StateMachineArn)}}, nil
	}),
	"states.DescribeExecution": rule(func(c *Cloud, ctx context.Context, in *sfn.DescribeExecutionInput) ([]iam.Request, error) {
		return []iam.Request{{Action: "states:DescribeExecution", Resource: aws.ToString(in.ExecutionArn)}}, nil
	}),
	"states.StopExecution": rule(func(c *Cloud, ctx context.Context, in *sfn.StopExecutionInput) ([]iam.Request, error) {
		return []iam.Request{{Action: "states:StopExecution", Resource: aws.ToString(in.ExecutionArn)}}, nil
	}),
	"states.SendTaskSuccess": rule(func(c *Cloud, ctx context.Context, in *sfn.SendTaskSuccessInput) ([]iam.Request, error) {
		return c.tokenRequest(ctx, "states:SendTaskSuccess", in.TaskToken)
	}),
	"states.SendTaskFailure": rule(func(c *Cloud, ctx context.Context, in *sfn.SendTaskFailureInput) ([]iam.Request, error) {
		return c.tokenRequest(ctx, "states:SendTaskFailure", in.TaskToken)
	}),
	"states.SendTaskHeartbeat": rule(func(c *Cloud, ctx context.Context, in *sfn.SendTaskHeartbeatInput) ([]iam.Request, error) {
		return c.tokenRequest(ctx, "states:SendTaskHeartbeat", in.TaskToken)
	}),

	// Lambda.
	"lambda.Invoke": rule(func(c *Cloud, ctx context.Context, in *lambda.InvokeInput) ([]iam.Request, error) {
		return []iam.Request{{Action: "lambda:InvokeFunction", Resource: c.functionARN(ctx, aws.ToString(in.FunctionName), aws.ToString(in.Qualifier))}}, nil
	}),

	// EC2 Image Builder.
	"imagebuilder.GetImage": rule(func(c *Cloud, ctx context.Context, in *imagebuilder.GetImageInput) ([]iam.Request, error) {
		return []iam.Request{{Action: "imagebuilder:GetImage", Resource: aws.ToString(in.ImageBuildVersionArn)}}, nil
	}),
}

// AuthorizedOperations lists the operations the IAM table covers, as
// "signing-name.Operation", sorted.
func AuthorizedOperations() []string { return slices.Sorted(maps.Keys(authzRules)) }

// arn builds an ARN of the cloud's partition and account in the request's
// region.
func (c *Cloud) arn(ctx context.Context, service, resource string) string {
	return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, api.Region(ctx), c.World.Account(), resource)
}

// imageRequest authorizes an action on one AMI: image ARNs carry no
// account.
func (c *Cloud) imageRequest(ctx context.Context, action string, id *string) []iam.Request {
	return []iam.Request{{Action: action, Resource: fmt.Sprintf("arn:aws:ec2:%s::image/%s", api.Region(ctx), aws.ToString(id))}}
}

// deregisterRequests authorizes DeregisterImage; with
// DeleteAssociatedSnapshots the caller must also be allowed to delete each
// of the image's snapshots (a choice: the EC2 guide lists
// ec2:DeleteSnapshot among the permissions for deleting an AMI with its
// snapshots, and requiring it is the safe side for a least-privilege
// check).
func (c *Cloud) deregisterRequests(ctx context.Context, in *ec2.DeregisterImageInput) ([]iam.Request, error) {
	reqs := c.imageRequest(ctx, "ec2:DeregisterImage", in.ImageId)
	if !aws.ToBool(in.DeleteAssociatedSnapshots) {
		return reqs, nil
	}
	// An image that cannot be described has no snapshots to authorize:
	// the call itself then says what is wrong with the image.
	out, _ := c.World.EC2().DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{aws.ToString(in.ImageId)},
		IncludeDeprecated: aws.Bool(true), IncludeDisabled: aws.Bool(true)})
	if out == nil {
		return reqs, nil
	}
	for _, img := range out.Images {
		for _, bd := range img.BlockDeviceMappings {
			if bd.Ebs != nil && aws.ToString(bd.Ebs.SnapshotId) != "" {
				reqs = append(reqs, iam.Request{Action: "ec2:DeleteSnapshot",
					Resource: fmt.Sprintf("arn:aws:ec2:%s::snapshot/%s", api.Region(ctx), aws.ToString(bd.Ebs.SnapshotId))})
			}
		}
	}
	return reqs, nil
}

// ruleARN is an EventBridge rule's ARN: rule/NAME on the default bus,
// rule/BUS/NAME on another.
func (c *Cloud) ruleARN(ctx context.Context, bus, name *string) string {
	b := aws.ToString(bus)
	if i := strings.LastIndex(b, "/"); strings.HasPrefix(b, "arn:") && i >= 0 {
		b = b[i+1:]
	}
	if b == "" || b == "default" {
		return c.arn(ctx, "events", "rule/"+aws.ToString(name))
	}
	return c.arn(ctx, "events", "rule/"+b+"/"+aws.ToString(name))
}

func (c *Cloud) parameterARN(ctx context.Context, name string) string {
	if strings.HasPrefix(name, "arn:") {
		return name
	}
	return c.arn(ctx, "ssm", "parameter/"+strings.TrimPrefix(name, "/"))
}

// functionARN resolves a Lambda FunctionName (a name, a full or partial
// ARN, with or without a qualifier) to the ARN IAM authorizes.
func (c *Cloud) functionARN(ctx context.Context, name, qualifier string) string {
	arn := name
	switch parts := strings.Split(name, ":"); {
	case strings.HasPrefix(name, "arn:"):
	case len(parts) >= 3 && parts[1] == "function":
		arn = fmt.Sprintf("arn:aws:lambda:%s:%s", api.Region(ctx), name)
	default:
		arn = c.arn(ctx, "lambda", "function:"+name)
	}
	if qualifier != "" && strings.Count(arn, ":") == 6 {
		arn += ":" + qualifier
	}
	return arn
}

// groupRequest authorizes an action on an Auto Scaling group, with the
// group's tags as they are at the time of the call. A group that does not
// exist has no tags and a name-only ARN, as on AWS, where a tag-conditioned
// policy then refuses the call before the service says the group is
// missing. A call that names a launch template (a group update, a refresh's
// desired configuration) also needs the caller to be allowed to launch from
// it: Auto Scaling checks ec2:RunInstances on the template's resources, as
// a dry run, on the caller's behalf.
func (c *Cloud) groupRequest(ctx context.Context, action string, name *string, lt *astypes.LaunchTemplateSpecification) ([]iam.Request, error) {
	reqs, err := c.groupOnly(ctx, action, name)
	if err != nil || lt == nil {
		return reqs, err
	}
	launch, err := c.runInstancesRequests(ctx, &ec2.RunInstancesInput{LaunchTemplate: &ec2types.LaunchTemplateSpecification{
		LaunchTemplateId: lt.LaunchTemplateId, LaunchTemplateName: lt.LaunchTemplateName, Version: lt.Version}})
	if err != nil {
		return nil, err
	}
	return append(reqs, launch...), nil
}

// groupOnly is groupRequest's authorization on the group itself.
func (c *Cloud) groupOnly(ctx context.Context, action string, name *string) ([]iam.Request, error) {
	n := aws.ToString(name)
	req := iam.Request{Action: action, Resource: c.arn(ctx, "autoscaling", "autoScalingGroup:*:autoScalingGroupName/"+n), Context: map[string][]string{}}
	out, err := c.World.AutoScaling().DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{n}})
	if err != nil {
		return nil, fmt.Errorf("read group %s for authorization: %w", n, err)
	}
	for _, g := range out.AutoScalingGroups {
		if aws.ToString(g.AutoScalingGroupName) != n {
			continue
		}
		req.Resource = aws.ToString(g.AutoScalingGroupARN)
		for _, t := range g.Tags {
			req.Context["aws:ResourceTag/"+aws.ToString(t.Key)] = []string{aws.ToString(t.Value)}
		}
	}
	return []iam.Request{req}, nil
}

// templateRequest authorizes an action on a launch template, with its
// current tags.
func (c *Cloud) templateRequest(ctx context.Context, action string, id, name *string) ([]iam.Request, error) {
	in := &ec2.DescribeLaunchTemplatesInput{}
	if aws.ToString(id) != "" {
		in.LaunchTemplateIds = []string{aws.ToString(id)}
	} else {
		in.LaunchTemplateNames = []string{aws.ToString(name)}
	}
	req := iam.Request{Action: action, Resource: c.arn(ctx, "ec2", "launch-template/"+aws.ToString(id)), Context: map[string][]string{}}
	out, err := c.World.EC2().DescribeLaunchTemplates(ctx, in)
	if err != nil || len(out.LaunchTemplates) == 0 {
		// The template does not exist: EC2 authorizes against the id
		// given (or "*" for a name) and then says it is missing.
		if aws.ToString(id) == "" {
			req.Resource = c.arn(ctx, "ec2", "launch-template/*")
		}
		return []iam.Request{req}, nil
	}
	lt := out.LaunchTemplates[0]
	req.Resource = c.arn(ctx, "ec2", "launch-template/"+aws.ToString(lt.LaunchTemplateId))
	for _, t := range lt.Tags {
		req.Context["aws:ResourceTag/"+aws.ToString(t.Key)] = []string{aws.ToString(t.Value)}
	}
	return []iam.Request{req}, nil
}

// runInstancesRequests authorizes RunInstances as EC2 does, once per
// resource the launch touches: the launch template, the instance, its
// volume and network interface, the image and, when named, the subnet and
// security groups; each carries ec2:LaunchTemplate when the launch uses a
// template. Tags requested on launch add ec2:CreateTags with
// ec2:CreateAction=RunInstances and the requested tags.
func (c *Cloud) runInstancesRequests(ctx context.Context, in *ec2.RunInstancesInput) ([]iam.Request, error) {
	const action = "ec2:RunInstances"
	region, acct := api.Region(ctx), c.World.Account()
	cond := map[string][]string{}
	var out []iam.Request
	image := aws.ToString(in.ImageId)
	subnet := aws.ToString(in.SubnetId)
	groups := slices.Clone(in.SecurityGroupIds)
	if spec := in.LaunchTemplate; spec != nil {
		reqs, err := c.templateRequest(ctx, action, spec.LaunchTemplateId, spec.LaunchTemplateName)
		if err != nil {
			return nil, err
		}
		lt := reqs[0]
		cond["ec2:LaunchTemplate"] = []string{lt.Resource}
		lt.Context["ec2:LaunchTemplate"] = cond["ec2:LaunchTemplate"]
		out = append(out, lt)
		ltID := strings.TrimPrefix(lt.Resource, c.arn(ctx, "ec2", "launch-template/"))
		version := aws.ToString(spec.Version)
		if version == "" {
			version = "$Default"
		}
		vs, err := c.World.EC2().DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(ltID), Versions: []string{version}})
		if err == nil && len(vs.LaunchTemplateVersions) > 0 {
			if d := vs.LaunchTemplateVersions[0].LaunchTemplateData; d != nil {
				if image == "" {
					image = aws.ToString(d.ImageId)
				}
				groups = append(groups, d.SecurityGroupIds...)
				for _, ni := range d.NetworkInterfaces {
					if subnet == "" {
						subnet = aws.ToString(ni.SubnetId)
					}
				}
			}
		}
	}
	with := func(resource string) iam.Request {
		return iam.Request{Action: action, Resource: resource, Context: maps.Clone(cond)}
	}
	out = append(out,
		with(fmt.Sprintf("arn:aws:ec2:%s:%s:instance/*", region, acct)),
		with(fmt.Sprintf("arn:aws:ec2:%s:%s:volume/*", region, acct)),
		with(fmt.Sprintf("arn:aws:ec2:%s:%s:network-interface/*", region, acct)))
	if image != "" {
		out = append(out, with(fmt.Sprintf("arn:aws:ec2:%s::image/%s", region, image)))
	}
	if subnet != "" {
		out = append(out, with(fmt.Sprintf("arn:aws:ec2:%s:%s:subnet/%s", region, acct, subnet)))
	}
	for _, g := range groups {
		out = append(out, with(fmt.Sprintf("arn:aws:ec2:%s:%s:security-group/%s", region, acct, g)))
	}
	for _, ts := range in.TagSpecifications {
		ctx := map[string][]string{"ec2:CreateAction": {"RunInstances"}}
		for _, t := range ts.Tags {
			ctx["aws:RequestTag/"+aws.ToString(t.Key)] = []string{aws.ToString(t.Value)}
			ctx["aws:TagKeys"] = append(ctx["aws:TagKeys"], aws.ToString(t.Key))
		}
		out = append(out, iam.Request{Action: "ec2:CreateTags", Resource: fmt.Sprintf("arn:aws:ec2:%s:%s:%s/*", region, acct, ts.ResourceType), Context: ctx})
	}
	return out, nil
}

// elbRequest authorizes an action on an Elastic Load Balancing resource
// (a listener or a rule) by its ARN, with its tags as they are now under
// both condition keys ELB supports (aws:ResourceTag and
// elasticloadbalancing:ResourceTag). A resource that does not exist has no
// tags; the service then says it is missing.
func (c *Cloud) elbRequest(ctx context.Context, action, arn string) []iam.Request {
	req := iam.Request{Action: action, Resource: arn, Context: map[string][]string{}}
	out, err := c.World.ELB().DescribeTags(ctx, &elasticloadbalancingv2.DescribeTagsInput{ResourceArns: []string{arn}})
	if err == nil {
		for _, d := range out.TagDescriptions {
			for _, t := range d.Tags {
				v := []string{aws.ToString(t.Value)}
				req.Context["aws:ResourceTag/"+aws.ToString(t.Key)] = v
				req.Context["elasticloadbalancing:ResourceTag/"+aws.ToString(t.Key)] = v
			}
		}
	}
	return []iam.Request{req}
}

// tokenRequest authorizes a task token call against the state machine
// that issued the token. A token the service never issued names no state
// machine to authorize against, and the service refuses it (InvalidToken)
// whatever IAM would say, so it is left to the service.
func (c *Cloud) tokenRequest(ctx context.Context, action string, token *string) ([]iam.Request, error) {
	sm, ok := c.StepFunctions.TokenStateMachine(aws.ToString(token))
	if !ok {
		return nil, nil
	}
	return []iam.Request{{Action: action, Resource: sm}}, nil
}

// iamPrefixes names the IAM service prefix of each signing name where
// they differ.
var iamPrefixes = map[string]string{"monitoring": "cloudwatch"}

// iamActionNames names the IAM action of each operation whose action is
// not its own name.
var iamActionNames = map[string]string{"lambda.Invoke": "lambda:InvokeFunction"}

// dynamoActions are the DynamoDB actions dynamoRequests authorizes.
var dynamoActions = []string{"GetItem", "PutItem", "UpdateItem", "DeleteItem", "DescribeTable", "Query", "Scan",
	"BatchGetItem", "BatchWriteItem", "ConditionCheckItem"}

// impliedActions are actions the local cloud checks inside another
// operation rather than as operations of their own: SNS uses the topic's
// key on the publisher's behalf when a role publishes to an encrypted
// topic (kms.go); DeregisterImage with DeleteAssociatedSnapshots deletes
// the image's snapshots on the caller's behalf (deregisterRequests).
var impliedActions = []string{"kms:Decrypt", "kms:GenerateDataKey", "ec2:DeleteSnapshot"}

// AuthorizedActions lists the IAM actions the table authorizes, as
// "prefix:Action", sorted: a policy action outside it names a call the
// local cloud could not judge.
func AuthorizedActions() []string {
	var out []string
	for op := range authzRules {
		if a, ok := iamActionNames[op]; ok {
			out = append(out, a)
			continue
		}
		service, name, _ := strings.Cut(op, ".")
		if p, ok := iamPrefixes[service]; ok {
			service = p
		}
		out = append(out, service+":"+name)
	}
	for _, a := range dynamoActions {
		out = append(out, "dynamodb:"+a)
	}
	out = append(out, impliedActions...)
	slices.Sort(out)
	return out
}
