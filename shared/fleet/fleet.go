// Package fleet implements rollout.Fleet over EC2 Auto Scaling, EC2,
// Elastic Load Balancing v2 and CloudWatch, and is the only package of
// Phoenix that calls those four services: the publishing path
// (shared/images), alarms, recycling and the CLI read groups, images and
// instance types through it too (DEVELOPERS.md lists every operation and
// its one caller).
//
// Reads follow one rule whoever asks:
//
//   - Images (Image). An image EC2 does not show to this account is a
//     *rollout.NotFoundError: unknown, malformed, not shared, or
//     deregistered long enough ago that DescribeImages no longer lists it
//     (EC2 keeps listing a deregistered image "for a short interval").
//     An image EC2 lists is returned whatever its state, a deregistered
//     one with State "deregistered": the caller judges it, so that it can
//     say why it refuses (preflight refuses every state but available;
//     publishing rejects the image as not-available). A CreationDate that
//     is not RFC 3339 reads as a zero CreatedAt, an unknown time, which
//     never makes an image newer than another.
//   - Instance types (Architectures). A type the region does not offer is
//     absent from the answer, not an error: preflight refuses the group
//     and publishing skips it, each naming the type.
//   - Tagged groups (GroupsTagged, GroupsTaggedShallow). Every group
//     carrying the tag key, whatever its value, as a rollout.Group; the
//     shallow listing leaves out what only EC2's DescribeInstances knows.
//   - Blue/green pairs (Pair). The groups whose phoenix:pair is the name,
//     and every forward action that names their target groups, as found:
//     bluegreen.Prepare judges them. A pair no group names is a
//     *rollout.NotFoundError. SetWeights changes an action's weights and
//     nothing else of it.
//
// The rules it follows are FIELD-NOTES sections 2 and 3: instance refreshes
// name a numbered launch template version in their desired configuration
// only, the group is never modified before a refresh starts, and rollback
// eligibility is computed the way Auto Scaling decides it. Every SDK error
// goes through shared/awserr, so throttling and server faults arrive as
// *rollout.TransientError and missing resources as *rollout.NotFoundError.
//
// The clients are narrow interfaces with the SDK's method signatures, so a
// real client, a paginator and a test fake all fit.
package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/smithy-go"

	"github.com/phoenix-rollouts/phoenix/shared/awserr"
	"github.com/phoenix-rollouts/phoenix/shared/lifecycle"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// AutoScalingAPI is the part of the Auto Scaling client the fleet uses.
type AutoScalingAPI interface {
	DescribeAutoScalingGroups(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error)
	UpdateAutoScalingGroup(ctx context.Context, in *autoscaling.UpdateAutoScalingGroupInput, optFns ...func(*autoscaling.Options)) (*autoscaling.UpdateAutoScalingGroupOutput, error)
	StartInstanceRefresh(ctx context.Context, in *autoscaling.StartInstanceRefreshInput, optFns ...func(*autoscaling.Options)) (*autoscaling.StartInstanceRefreshOutput, error)
	DescribeInstanceRefreshes(ctx context.Context, in *autoscaling.DescribeInstanceRefreshesInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribeInstanceRefreshesOutput, error)
	RollbackInstanceRefresh(ctx context.Context, in *autoscaling.RollbackInstanceRefreshInput, optFns ...func(*autoscaling.Options)) (*autoscaling.RollbackInstanceRefreshOutput, error)
	CancelInstanceRefresh(ctx context.Context, in *autoscaling.CancelInstanceRefreshInput, optFns ...func(*autoscaling.Options)) (*autoscaling.CancelInstanceRefreshOutput, error)
}

// EC2API is the part of the EC2 client the fleet uses.
type EC2API interface {
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	DescribeLaunchTemplateVersions(ctx context.Context, in *ec2.DescribeLaunchTemplateVersionsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error)
	DescribeImages(ctx context.Context, in *ec2.DescribeImagesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error)
	DescribeInstanceTypes(ctx context.Context, in *ec2.DescribeInstanceTypesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstanceTypesOutput, error)
	RunInstances(ctx context.Context, in *ec2.RunInstancesInput, optFns ...func(*ec2.Options)) (*ec2.RunInstancesOutput, error)
	CreateLaunchTemplateVersion(ctx context.Context, in *ec2.CreateLaunchTemplateVersionInput, optFns ...func(*ec2.Options)) (*ec2.CreateLaunchTemplateVersionOutput, error)
	ModifyLaunchTemplate(ctx context.Context, in *ec2.ModifyLaunchTemplateInput, optFns ...func(*ec2.Options)) (*ec2.ModifyLaunchTemplateOutput, error)
}

// ELBAPI is the part of the Elastic Load Balancing v2 client the fleet uses:
// target health for validation, and a blue/green pair's forward actions
// (pairs.go), read from the target groups through their load balancers'
// listeners and rules and written with one ModifyListener or ModifyRule.
type ELBAPI interface {
	DescribeTargetHealth(ctx context.Context, in *elasticloadbalancingv2.DescribeTargetHealthInput, optFns ...func(*elasticloadbalancingv2.Options)) (*elasticloadbalancingv2.DescribeTargetHealthOutput, error)
	DescribeTargetGroups(ctx context.Context, in *elasticloadbalancingv2.DescribeTargetGroupsInput, optFns ...func(*elasticloadbalancingv2.Options)) (*elasticloadbalancingv2.DescribeTargetGroupsOutput, error)
	DescribeListeners(ctx context.Context, in *elasticloadbalancingv2.DescribeListenersInput, optFns ...func(*elasticloadbalancingv2.Options)) (*elasticloadbalancingv2.DescribeListenersOutput, error)
	DescribeRules(ctx context.Context, in *elasticloadbalancingv2.DescribeRulesInput, optFns ...func(*elasticloadbalancingv2.Options)) (*elasticloadbalancingv2.DescribeRulesOutput, error)
	ModifyListener(ctx context.Context, in *elasticloadbalancingv2.ModifyListenerInput, optFns ...func(*elasticloadbalancingv2.Options)) (*elasticloadbalancingv2.ModifyListenerOutput, error)
	ModifyRule(ctx context.Context, in *elasticloadbalancingv2.ModifyRuleInput, optFns ...func(*elasticloadbalancingv2.Options)) (*elasticloadbalancingv2.ModifyRuleOutput, error)
}

// The real client is what New builds; the SDK's paginators take ELBAPI as
// it is.
var _ ELBAPI = (*elasticloadbalancingv2.Client)(nil)

// CloudWatchAPI is the part of the CloudWatch client the fleet uses.
type CloudWatchAPI interface {
	DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
	ListTagsForResource(ctx context.Context, in *cloudwatch.ListTagsForResourceInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.ListTagsForResourceOutput, error)
}

// Clients are the clients of one region.
type Clients struct {
	AutoScaling AutoScalingAPI
	EC2         EC2API
	ELB         ELBAPI
	CloudWatch  CloudWatchAPI
}

// Fleet is rollout.Fleet over the AWS SDK. It is safe for concurrent use.
type Fleet struct {
	clients func(region string) Clients
	log     *slog.Logger
}

// The ports Fleet implements: the rollout steps', and the image
// lifecycle's group reads (its EC2 reads and writes, lifecycle.Images, are
// in lifecycle.go).
var (
	_ rollout.Fleet   = (*Fleet)(nil)
	_ lifecycle.Fleet = (*Fleet)(nil)
)

// New returns a Fleet whose clients are made from cfg, one set per region
// on first use: Phoenix manages groups in any region from one function, and
// every method names the region it acts in. A nil log means slog.Default().
func New(cfg aws.Config, log *slog.Logger) *Fleet {
	if log == nil {
		log = slog.Default()
	}
	var mu sync.Mutex
	byRegion := map[string]Clients{}
	clients := func(region string) Clients {
		mu.Lock()
		defer mu.Unlock()
		if c, ok := byRegion[region]; ok {
			return c
		}
		rc := cfg.Copy()
		rc.Region = region
		c := Clients{
			AutoScaling: autoscaling.NewFromConfig(rc),
			EC2:         ec2.NewFromConfig(rc),
			ELB:         elasticloadbalancingv2.NewFromConfig(rc),
			CloudWatch:  cloudwatch.NewFromConfig(rc),
		}
		byRegion[region] = c
		return c
	}
	return &Fleet{clients: clients, log: log}
}

// changed records one change made in AWS, with the ids AWS returned. The
// steps log each change once at Info with the rollout's ids; this line is
// Debug detail beneath it, so that the default level shows every change
// exactly once. It logs with ctx so that a handler carrying the
// invocation's ids in the context can add them.
func (f *Fleet) changed(ctx context.Context, msg string, attrs ...any) {
	f.log.DebugContext(ctx, msg, attrs...)
}

// groupNotFound reports whether err is Auto Scaling's answer for a group
// that does not exist. Auto Scaling has no dedicated code for it: it answers
// ValidationError "AutoScalingGroup name not found - ...".
func groupNotFound(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == "ValidationError" &&
		strings.Contains(api.ErrorMessage(), "name not found")
}

// classifyGroupCall classifies the error of a call that names a group,
// turning Auto Scaling's "name not found" into *rollout.NotFoundError.
func classifyGroupCall(op string, key rollout.GroupKey, err error) error {
	if err == nil {
		return nil
	}
	if groupNotFound(err) {
		return &rollout.NotFoundError{Kind: "auto scaling group", ID: key.String()}
	}
	return awserr.Classify(fmt.Sprintf("%s %s", op, key), err, "auto scaling group", key.String())
}
