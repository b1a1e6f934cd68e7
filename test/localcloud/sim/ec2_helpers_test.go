package sim

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
)

// EC2API is the slice of the EC2 client the rule tests use, with the SDK's
// method signatures, so *ec2.Client satisfies it as well as *EC2.
type EC2API interface {
	RegisterImage(context.Context, *ec2.RegisterImageInput, ...func(*ec2.Options)) (*ec2.RegisterImageOutput, error)
	CreateImage(context.Context, *ec2.CreateImageInput, ...func(*ec2.Options)) (*ec2.CreateImageOutput, error)
	DescribeImages(context.Context, *ec2.DescribeImagesInput, ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error)
	DeregisterImage(context.Context, *ec2.DeregisterImageInput, ...func(*ec2.Options)) (*ec2.DeregisterImageOutput, error)
	CreateTags(context.Context, *ec2.CreateTagsInput, ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error)
	DeleteTags(context.Context, *ec2.DeleteTagsInput, ...func(*ec2.Options)) (*ec2.DeleteTagsOutput, error)
	DescribeTags(context.Context, *ec2.DescribeTagsInput, ...func(*ec2.Options)) (*ec2.DescribeTagsOutput, error)
	CreateLaunchTemplate(context.Context, *ec2.CreateLaunchTemplateInput, ...func(*ec2.Options)) (*ec2.CreateLaunchTemplateOutput, error)
	CreateLaunchTemplateVersion(context.Context, *ec2.CreateLaunchTemplateVersionInput, ...func(*ec2.Options)) (*ec2.CreateLaunchTemplateVersionOutput, error)
	DescribeLaunchTemplates(context.Context, *ec2.DescribeLaunchTemplatesInput, ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplatesOutput, error)
	DescribeLaunchTemplateVersions(context.Context, *ec2.DescribeLaunchTemplateVersionsInput, ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error)
	ModifyLaunchTemplate(context.Context, *ec2.ModifyLaunchTemplateInput, ...func(*ec2.Options)) (*ec2.ModifyLaunchTemplateOutput, error)
	DeleteLaunchTemplateVersions(context.Context, *ec2.DeleteLaunchTemplateVersionsInput, ...func(*ec2.Options)) (*ec2.DeleteLaunchTemplateVersionsOutput, error)
	DeleteLaunchTemplate(context.Context, *ec2.DeleteLaunchTemplateInput, ...func(*ec2.Options)) (*ec2.DeleteLaunchTemplateOutput, error)
	DescribeInstances(context.Context, *ec2.DescribeInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	RunInstances(context.Context, *ec2.RunInstancesInput, ...func(*ec2.Options)) (*ec2.RunInstancesOutput, error)
	TerminateInstances(context.Context, *ec2.TerminateInstancesInput, ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error)
	DescribeInstanceTypes(context.Context, *ec2.DescribeInstanceTypesInput, ...func(*ec2.Options)) (*ec2.DescribeInstanceTypesOutput, error)
	DescribeAvailabilityZones(context.Context, *ec2.DescribeAvailabilityZonesInput, ...func(*ec2.Options)) (*ec2.DescribeAvailabilityZonesOutput, error)
}

// ELBAPI is the slice of the Elastic Load Balancing v2 client the rule
// tests use, with the SDK's method signatures.
type ELBAPI interface {
	CreateLoadBalancer(context.Context, *elb.CreateLoadBalancerInput, ...func(*elb.Options)) (*elb.CreateLoadBalancerOutput, error)
	DescribeLoadBalancers(context.Context, *elb.DescribeLoadBalancersInput, ...func(*elb.Options)) (*elb.DescribeLoadBalancersOutput, error)
	DeleteLoadBalancer(context.Context, *elb.DeleteLoadBalancerInput, ...func(*elb.Options)) (*elb.DeleteLoadBalancerOutput, error)
	CreateListener(context.Context, *elb.CreateListenerInput, ...func(*elb.Options)) (*elb.CreateListenerOutput, error)
	DescribeListeners(context.Context, *elb.DescribeListenersInput, ...func(*elb.Options)) (*elb.DescribeListenersOutput, error)
	ModifyListener(context.Context, *elb.ModifyListenerInput, ...func(*elb.Options)) (*elb.ModifyListenerOutput, error)
	CreateRule(context.Context, *elb.CreateRuleInput, ...func(*elb.Options)) (*elb.CreateRuleOutput, error)
	DescribeRules(context.Context, *elb.DescribeRulesInput, ...func(*elb.Options)) (*elb.DescribeRulesOutput, error)
	ModifyRule(context.Context, *elb.ModifyRuleInput, ...func(*elb.Options)) (*elb.ModifyRuleOutput, error)
	DeleteRule(context.Context, *elb.DeleteRuleInput, ...func(*elb.Options)) (*elb.DeleteRuleOutput, error)
	DeleteListener(context.Context, *elb.DeleteListenerInput, ...func(*elb.Options)) (*elb.DeleteListenerOutput, error)
	CreateTargetGroup(context.Context, *elb.CreateTargetGroupInput, ...func(*elb.Options)) (*elb.CreateTargetGroupOutput, error)
	DescribeTargetGroups(context.Context, *elb.DescribeTargetGroupsInput, ...func(*elb.Options)) (*elb.DescribeTargetGroupsOutput, error)
	ModifyTargetGroup(context.Context, *elb.ModifyTargetGroupInput, ...func(*elb.Options)) (*elb.ModifyTargetGroupOutput, error)
	DeleteTargetGroup(context.Context, *elb.DeleteTargetGroupInput, ...func(*elb.Options)) (*elb.DeleteTargetGroupOutput, error)
	RegisterTargets(context.Context, *elb.RegisterTargetsInput, ...func(*elb.Options)) (*elb.RegisterTargetsOutput, error)
	DeregisterTargets(context.Context, *elb.DeregisterTargetsInput, ...func(*elb.Options)) (*elb.DeregisterTargetsOutput, error)
	DescribeTargetHealth(context.Context, *elb.DescribeTargetHealthInput, ...func(*elb.Options)) (*elb.DescribeTargetHealthOutput, error)
	AddTags(context.Context, *elb.AddTagsInput, ...func(*elb.Options)) (*elb.AddTagsOutput, error)
	RemoveTags(context.Context, *elb.RemoveTagsInput, ...func(*elb.Options)) (*elb.RemoveTagsOutput, error)
	DescribeTags(context.Context, *elb.DescribeTagsInput, ...func(*elb.Options)) (*elb.DescribeTagsOutput, error)
	DescribeTargetGroupAttributes(context.Context, *elb.DescribeTargetGroupAttributesInput, ...func(*elb.Options)) (*elb.DescribeTargetGroupAttributesOutput, error)
	ModifyTargetGroupAttributes(context.Context, *elb.ModifyTargetGroupAttributesInput, ...func(*elb.Options)) (*elb.ModifyTargetGroupAttributesOutput, error)
}

// The model and the real SDK clients must satisfy the same interfaces, or
// a rule could not run over HTTP.
var (
	_ EC2API = (*EC2)(nil)
	_ EC2API = (*ec2.Client)(nil)
	_ ELBAPI = (*ELB)(nil)
	_ ELBAPI = (*elb.Client)(nil)
)

const ec2Region = "eu-west-1"

// ec2Env is one World on a stepped clock with its API objects.
type ec2Env struct {
	t   testing.TB
	w   *World
	clk *clock.Sim
	ctx context.Context
	ec2 EC2API
	elb ELBAPI
	// images counts images made by readyInstance, to name them uniquely.
	images int
}

// newEC2Env starts a TestCloud from backend with clients for ec2Region.
func newEC2Env(t testing.TB, backend Backend) *ec2Env {
	t.Helper()
	tc := backend(t)
	w := tc.World
	ctx := api.WithRequest(context.Background(), api.Request{
		Region: ec2Region, Account: w.Account(), RequestID: "0b3f4a2e-7d1c-4e8a-9f6b-2c5d8e1a4b7c",
	})
	c := tc.Clients(ec2Region)
	return &ec2Env{t: t, w: w, clk: tc.Clock, ctx: ctx, ec2: c.EC2, elb: c.ELB}
}

// advance moves simulated time forward by d.
func (e *ec2Env) advance(d time.Duration) { e.clk.Advance(d) }

// image registers an x86_64 (or arch) HVM image with tags and waits until
// it is available.
func (e *ec2Env) image(name, arch string, tags map[string]string) string {
	e.t.Helper()
	out, err := e.ec2.RegisterImage(e.ctx, &ec2.RegisterImageInput{
		Name:               aws.String(name),
		Architecture:       ec2types.ArchitectureValues(arch),
		VirtualizationType: aws.String("hvm"),
		TagSpecifications:  imageTagSpecs(tags),
	})
	if err != nil {
		e.t.Fatalf("RegisterImage %s: %v", name, err)
	}
	e.advance(DefaultEC2Config().ImageAvailableDelay)
	return aws.ToString(out.ImageId)
}

func imageTagSpecs(tags map[string]string) []ec2types.TagSpecification {
	if len(tags) == 0 {
		return nil
	}
	return []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeImage, Tags: toEC2Tags(tags)}}
}

// template creates a launch template for image on t3.micro.
func (e *ec2Env) template(name, imageID string) string {
	e.t.Helper()
	out, err := e.ec2.CreateLaunchTemplate(e.ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String(name),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(imageID), InstanceType: ec2types.InstanceTypeT3Micro},
	})
	if err != nil {
		e.t.Fatalf("CreateLaunchTemplate %s: %v", name, err)
	}
	return aws.ToString(out.LaunchTemplate.LaunchTemplateId)
}

// run launches count instances of image on t3.micro.
func (e *ec2Env) run(imageID string, count int32) []string {
	e.t.Helper()
	out, err := e.ec2.RunInstances(e.ctx, &ec2.RunInstancesInput{
		ImageId: aws.String(imageID), InstanceType: ec2types.InstanceTypeT3Micro,
		MinCount: aws.Int32(count), MaxCount: aws.Int32(count),
	})
	if err != nil {
		e.t.Fatalf("RunInstances %s: %v", imageID, err)
	}
	var ids []string
	for _, inst := range out.Instances {
		ids = append(ids, aws.ToString(inst.InstanceId))
	}
	return ids
}

// instance describes one instance.
func (e *ec2Env) instance(id string) ec2types.Instance {
	e.t.Helper()
	out, err := e.ec2.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		e.t.Fatalf("DescribeInstances %s: %v", id, err)
	}
	if len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 1 {
		e.t.Fatalf("DescribeInstances %s: got %d reservations", id, len(out.Reservations))
	}
	return out.Reservations[0].Instances[0]
}

// state returns an instance's state name.
func (e *ec2Env) state(id string) string {
	e.t.Helper()
	return string(e.instance(id).State.Name)
}

// events returns the detail of every emitted event of a detail type.
func (e *ec2Env) events(detailType string) []map[string]any {
	e.t.Helper()
	var out []map[string]any
	for _, ev := range e.w.Events() {
		if ev.DetailType != detailType {
			continue
		}
		var d map[string]any
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			e.t.Fatalf("event detail: %v", err)
		}
		d["_resources"] = ev.Resources
		d["_source"] = ev.Source
		out = append(out, d)
	}
	return out
}

// wantAWSCode fails unless err is an AWS error with code.
func wantAWSCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want AWS error %s, got %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("want AWS error %s, got %s: %s", code, ae.ErrorCode(), ae.ErrorMessage())
	}
}

// errHTTPStatus returns the HTTP status an error was (or would be) sent with,
// from the model's error or a real client's response error.
func errHTTPStatus(err error) int {
	var me *api.Error
	if errors.As(err, &me) {
		return me.HTTPStatus()
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// noErr fails the test on err.
func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// setupALB makes a load balancer, an HTTP target group with options applied,
// and (if listen) a listener forwarding to it. It returns the target group
// and load balancer ARNs.
func (e *ec2Env) setupALB(name string, listen bool, opts func(*elb.CreateTargetGroupInput)) (tgARN, lbARN string) {
	e.t.Helper()
	lb, err := e.elb.CreateLoadBalancer(e.ctx, &elb.CreateLoadBalancerInput{
		Name: aws.String(name + "-lb"), Subnets: []string{"subnet-a", "subnet-b"},
	})
	if err != nil {
		e.t.Fatalf("CreateLoadBalancer: %v", err)
	}
	in := &elb.CreateTargetGroupInput{
		Name: aws.String(name + "-tg"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String("vpc-0123456789abcdef0"),
	}
	if opts != nil {
		opts(in)
	}
	tg, err := e.elb.CreateTargetGroup(e.ctx, in)
	if err != nil {
		e.t.Fatalf("CreateTargetGroup: %v", err)
	}
	tgARN = aws.ToString(tg.TargetGroups[0].TargetGroupArn)
	lbARN = aws.ToString(lb.LoadBalancers[0].LoadBalancerArn)
	if listen {
		e.listen(lbARN, tgARN, 80)
	}
	return tgARN, lbARN
}

// listen adds a listener forwarding to tgARN.
func (e *ec2Env) listen(lbARN, tgARN string, port int32) string {
	e.t.Helper()
	out, err := e.elb.CreateListener(e.ctx, &elb.CreateListenerInput{
		LoadBalancerArn: aws.String(lbARN), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(port),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tgARN)}},
	})
	if err != nil {
		e.t.Fatalf("CreateListener: %v", err)
	}
	return aws.ToString(out.Listeners[0].ListenerArn)
}

// register registers instances with a target group.
func (e *ec2Env) register(tgARN string, ids ...string) {
	e.t.Helper()
	var ts []elbtypes.TargetDescription
	for _, id := range ids {
		ts = append(ts, elbtypes.TargetDescription{Id: aws.String(id)})
	}
	if _, err := e.elb.RegisterTargets(e.ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(tgARN), Targets: ts}); err != nil {
		e.t.Fatalf("RegisterTargets: %v", err)
	}
}

// health returns a target's state, reason and description.
func (e *ec2Env) health(tgARN, id string) (state, reason, desc string) {
	e.t.Helper()
	out, err := e.elb.DescribeTargetHealth(e.ctx, &elb.DescribeTargetHealthInput{
		TargetGroupArn: aws.String(tgARN), Targets: []elbtypes.TargetDescription{{Id: aws.String(id)}},
	})
	if err != nil {
		e.t.Fatalf("DescribeTargetHealth: %v", err)
	}
	th := out.TargetHealthDescriptions[0].TargetHealth
	return string(th.State), string(th.Reason), aws.ToString(th.Description)
}
