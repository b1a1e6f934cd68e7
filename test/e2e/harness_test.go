package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/deploy"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/dynamo"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/iam"
)

// region is where every scenario runs.
const region = "us-east-1"

// binaries holds the functions built for this test binary: one build, shared
// by every test and benchmark, removed by TestMain.
var binaries struct {
	once sync.Once
	dir  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binaries.dir != "" {
		_ = os.RemoveAll(binaries.dir)
	}
	os.Exit(code)
}

// repoRoot is the module's root, where template.yaml and functions/ live.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "template.yaml")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no template.yaml above the working directory")
		}
		dir = parent
	}
}

// functionsDir builds every functions/<name> main as <dir>/<name>/bootstrap,
// as `make functions` does, once per test binary.
func functionsDir(t testing.TB) string {
	t.Helper()
	root := repoRoot(t)
	binaries.once.Do(func() {
		dir, err := os.MkdirTemp("", "phoenix-e2e-functions-")
		if err != nil {
			binaries.err = err
			return
		}
		binaries.dir = dir
		flat := filepath.Join(dir, "flat") + string(filepath.Separator)
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", flat, "./functions/...")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			binaries.err = fmt.Errorf("build functions: %w\n%s", err, out)
			return
		}
		entries, err := os.ReadDir(flat)
		if err != nil {
			binaries.err = err
			return
		}
		for _, e := range entries {
			if err := os.MkdirAll(filepath.Join(dir, e.Name()), 0o755); err != nil {
				binaries.err = err
				return
			}
			if err := os.Rename(filepath.Join(flat, e.Name()), filepath.Join(dir, e.Name(), "bootstrap")); err != nil {
				binaries.err = err
				return
			}
		}
	})
	if binaries.err != nil {
		t.Fatal(binaries.err)
	}
	return binaries.dir
}

// needNode skips loudly when dynalite cannot run, and fails when CI says
// it must.
func needNode(t testing.TB) {
	t.Helper()
	dynamo.Require(t, "end-to-end rollouts (the ledger needs dynalite)")
}

// rig is one scenario's local cloud with Phoenix deployed on it.
type rig struct {
	t       testing.TB
	ctx     context.Context
	env     *cloudtest.Env
	stack   *deploy.Stack
	machine string
	table   string
	topic   string
	ddb     *dynamodb.Client
	// refusalExpected, when set, names the IAM refusals a scenario causes
	// on purpose; checkIAM fails on any other.
	refusalExpected func(iam.AccessDenied) bool
}

// newRig starts a stepped local cloud with DynamoDB and deploys template.yaml,
// with its default parameters, and the freshly built functions.
func newRig(t testing.TB, seed uint64) *rig {
	t.Helper()
	return newRigWith(t, seed, nil)
}

// newRigWith is newRig with template.yaml's text changed by edit first (nil
// for none): a scenario that shows what a line of the template is for
// deploys the template without it.
func newRigWith(t testing.TB, seed uint64, edit func(string) string) *rig {
	t.Helper()
	needNode(t)
	bins := functionsDir(t)
	env := cloudtest.New(t, localcloud.Options{Seed: seed, DynamoDB: true})
	ctx := context.Background()
	path := filepath.Join(repoRoot(t), "template.yaml")
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		changed := edit(string(text))
		if changed == string(text) {
			t.Fatal("the edit changed nothing in template.yaml")
		}
		text = []byte(changed)
	}
	tpl, err := deploy.Parse(text)
	if err != nil {
		t.Fatalf("parse template.yaml: %v", err)
	}
	stack, err := deploy.Local(ctx, env.Cloud, tpl, deploy.Options{BinDir: bins, TemplateDir: filepath.Dir(path), Region: region})
	if err != nil {
		t.Fatalf("deploy template.yaml: %v", err)
	}
	// New functions are Pending until the clock next runs its events.
	env.Settle()
	r := &rig{
		t: t, ctx: ctx, env: env, stack: stack,
		machine: output(t, stack, "StateMachineArn"),
		table:   output(t, stack, "LedgerTableName"),
		topic:   output(t, stack, "NotificationTopicArn"),
		ddb:     dynamodb.NewFromConfig(env.Config),
	}
	t.Cleanup(func() {
		r.checkIAM(t)
		r.checkNoTokensLeak(t)
	})
	return r
}

func output(t testing.TB, st *deploy.Stack, name string) string {
	t.Helper()
	o, ok := st.Outputs[name].(map[string]any)
	if !ok {
		t.Fatalf("stack output %s missing: %v", name, st.Outputs)
	}
	v, _ := o["Value"].(string)
	if v == "" {
		t.Fatalf("stack output %s has no value", name)
	}
	return v
}

// fleetSpec is a group to create.
type fleetSpec struct {
	name     string
	size     int
	behavior string // of the image the group starts on
	// version is the group's launch template version as written ("1" if
	// empty, or "$Latest", "$Default").
	version string
	// launchConfiguration makes a launch-configuration group instead.
	launchConfiguration bool
	// sharedTemplate, when set, is the id of another group's launch
	// template that this group launches from too (no template of its own).
	sharedTemplate string
	// tags overlay the default policy tags of the scenarios.
	tags map[string]string
}

// fleet is a created group.
type fleet struct {
	name           string
	launchTemplate string
	targetGroup    string
	image          string // the image the group started on
}

// defaultTags are the policy the scenarios use unless they say otherwise:
// the template's checkpoints (25, 50, 100: two reported on a group of
// four), short delays, and a warmup that covers the application's start
// (the instance runs 30 s after launch and answers 60 s later).
var defaultTags = map[string]string{
	"phoenix:enabled":          "true",
	"phoenix:checkpoint-delay": "300",
	"phoenix:bake":             "300",
	"phoenix:warmup":           "120",
}

// image registers an AMI whose instances behave as told and waits until it
// is available.
func (r *rig) image(name, behavior string) string {
	r.t.Helper()
	return r.registered(&ec2.RegisterImageInput{
		Name: aws.String(name), Architecture: ec2types.ArchitectureValuesX8664, RootDeviceName: aws.String("/dev/xvda"),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeImage, Tags: []ec2types.Tag{
			{Key: aws.String("phoenix-sim:behavior"), Value: aws.String(behavior)},
		}}},
	})
}

// registered registers an AMI and waits until it is available.
func (r *rig) registered(in *ec2.RegisterImageInput) string {
	r.t.Helper()
	name := aws.ToString(in.Name)
	out, err := r.env.EC2.RegisterImage(r.ctx, in)
	if err != nil {
		r.t.Fatalf("register image %s: %v", name, err)
	}
	id := aws.ToString(out.ImageId)
	r.env.RunUntil(r.t, time.Hour, "image "+name+" to be available", func() bool {
		imgs, err := r.env.EC2.DescribeImages(r.ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
		return err == nil && len(imgs.Images) == 1 && imgs.Images[0].State == ec2types.ImageStateAvailable
	})
	return id
}

// newFleet makes a group behind a load balancer, as users have them, and
// waits until every instance is in service and healthy in the target group.
// The group checks EC2 health, so an application that answers 500 is found
// by Phoenix's validation and not by Auto Scaling replacing it.
func (r *rig) newFleet(spec fleetSpec) fleet {
	r.t.Helper()
	if spec.behavior == "" {
		spec.behavior = "healthy"
	}
	if spec.version == "" {
		spec.version = "1"
	}
	f := fleet{name: spec.name}
	if spec.sharedTemplate != "" {
		// The shared template's version decides what the group runs.
		out, err := r.env.EC2.DescribeLaunchTemplateVersions(r.ctx, &ec2.DescribeLaunchTemplateVersionsInput{
			LaunchTemplateId: aws.String(spec.sharedTemplate), Versions: []string{spec.version},
		})
		if err != nil || len(out.LaunchTemplateVersions) != 1 {
			r.t.Fatalf("read version %s of launch template %s: %v", spec.version, spec.sharedTemplate, err)
		}
		f.image = aws.ToString(out.LaunchTemplateVersions[0].LaunchTemplateData.ImageId)
	} else {
		f.image = r.image(spec.name+"-v1", spec.behavior)
	}
	tg, err := r.env.ELB.CreateTargetGroup(r.ctx, &elasticloadbalancingv2.CreateTargetGroupInput{
		Name: aws.String(spec.name), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String("vpc-0e2e"),
		HealthCheckIntervalSeconds: aws.Int32(10), HealthyThresholdCount: aws.Int32(2), UnhealthyThresholdCount: aws.Int32(2),
		HealthCheckPath: aws.String("/health"),
	})
	if err != nil {
		r.t.Fatalf("create target group: %v", err)
	}
	f.targetGroup = aws.ToString(tg.TargetGroups[0].TargetGroupArn)
	lb, err := r.env.ELB.CreateLoadBalancer(r.ctx, &elasticloadbalancingv2.CreateLoadBalancerInput{
		Name: aws.String(spec.name), Subnets: []string{"subnet-0e2ea", "subnet-0e2eb"},
	})
	if err != nil {
		r.t.Fatalf("create load balancer: %v", err)
	}
	if _, err := r.env.ELB.CreateListener(r.ctx, &elasticloadbalancingv2.CreateListenerInput{
		LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(f.targetGroup)}},
	}); err != nil {
		r.t.Fatalf("create listener: %v", err)
	}
	tags := map[string]string{}
	for k, v := range defaultTags {
		tags[k] = v
	}
	for k, v := range spec.tags {
		tags[k] = v
	}
	var asTags []astypes.Tag
	for _, k := range sortedKeys(tags) {
		asTags = append(asTags, astypes.Tag{Key: aws.String(k), Value: aws.String(tags[k]), PropagateAtLaunch: aws.Bool(false)})
	}
	in := &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName:   aws.String(spec.name),
		MinSize:                aws.Int32(int32(spec.size)),
		MaxSize:                aws.Int32(int32(max(2*spec.size, 2))),
		DesiredCapacity:        aws.Int32(int32(spec.size)),
		AvailabilityZones:      []string{"us-east-1a", "us-east-1b"},
		TargetGroupARNs:        []string{f.targetGroup},
		HealthCheckType:        aws.String("EC2"),
		HealthCheckGracePeriod: aws.Int32(60),
		DefaultInstanceWarmup:  aws.Int32(120),
		Tags:                   asTags,
	}
	if spec.launchConfiguration {
		if _, err := r.env.AutoScaling.CreateLaunchConfiguration(r.ctx, &autoscaling.CreateLaunchConfigurationInput{
			LaunchConfigurationName: aws.String(spec.name), ImageId: aws.String(f.image), InstanceType: aws.String("t3.micro"),
		}); err != nil {
			r.t.Fatalf("create launch configuration: %v", err)
		}
		in.LaunchConfigurationName = aws.String(spec.name)
	} else if spec.sharedTemplate != "" {
		f.launchTemplate = spec.sharedTemplate
		in.LaunchTemplate = &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(f.launchTemplate), Version: aws.String(spec.version)}
	} else {
		lt, err := r.env.EC2.CreateLaunchTemplate(r.ctx, &ec2.CreateLaunchTemplateInput{
			LaunchTemplateName: aws.String(spec.name),
			LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(f.image), InstanceType: ec2types.InstanceTypeT3Micro},
		})
		if err != nil {
			r.t.Fatalf("create launch template: %v", err)
		}
		f.launchTemplate = aws.ToString(lt.LaunchTemplate.LaunchTemplateId)
		in.LaunchTemplate = &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(f.launchTemplate), Version: aws.String(spec.version)}
	}
	if _, err := r.env.AutoScaling.CreateAutoScalingGroup(r.ctx, in); err != nil {
		r.t.Fatalf("create group %s: %v", spec.name, err)
	}
	r.env.RunUntil(r.t, time.Hour, fmt.Sprintf("%d healthy targets in %s", spec.size, spec.name), func() bool {
		return r.healthyTargets(f.targetGroup) == spec.size
	})
	return f
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

func (r *rig) healthyTargets(tg string) int {
	r.t.Helper()
	out, err := r.env.ELB.DescribeTargetHealth(r.ctx, &elasticloadbalancingv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
	if err != nil {
		r.t.Fatalf("describe target health: %v", err)
	}
	n := 0
	for _, d := range out.TargetHealthDescriptions {
		if d.TargetHealth.State == elbtypes.TargetHealthStateEnumHealthy {
			n++
		}
	}
	return n
}

// request is the execution input users give: {"request": rollout.Request},
// written out here as JSON so that the test depends on the contract, not on
// Go types.
func request(id, group, image string) string {
	b, _ := json.Marshal(map[string]any{"request": map[string]any{
		"rolloutId": id,
		"target":    map[string]string{"region": region, "group": group},
		"mode":      "image",
		"imageId":   image,
		"trigger":   map[string]string{"kind": "manual", "source": "e2e"},
	}})
	return string(b)
}

// start starts a rollout as users do: an execution of the deployed state
// machine named after the rollout id.
func (r *rig) start(id, group, image string) string {
	r.t.Helper()
	out, err := r.env.StepFunctions.StartExecution(r.ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(r.machine), Name: aws.String(id), Input: aws.String(request(id, group, image)),
	})
	if err != nil {
		r.t.Fatalf("start rollout %s: %v", id, err)
	}
	return aws.ToString(out.ExecutionArn)
}

// wait steps simulated time until the execution ends and returns how it
// ended, as DescribeExecution shows it.
func (r *rig) wait(arn string, limit time.Duration) *sfn.DescribeExecutionOutput {
	r.t.Helper()
	r.run(arn, limit)
	d, err := r.env.StepFunctions.DescribeExecution(r.ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	if err != nil {
		r.t.Fatalf("describe execution: %v", err)
	}
	return d
}

// run steps simulated time until the execution ends. It asks the Step
// Functions model directly, not over HTTP, so that the request counts of
// the benchmark hold only Phoenix's own calls.
func (r *rig) run(arn string, limit time.Duration) {
	r.t.Helper()
	ctx := api.WithRequest(r.ctx, api.Request{Region: region, Account: r.env.Cloud.World.Account()})
	r.env.RunUntil(r.t, limit, "execution "+arn+" to end", func() bool {
		d, err := r.env.Cloud.StepFunctions.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err != nil {
			r.t.Fatalf("describe execution: %v", err)
		}
		return d.Status != sfntypes.ExecutionStatusRunning
	})
}

// history returns every event of the execution, oldest first.
func (r *rig) history(arn string) []sfntypes.HistoryEvent {
	r.t.Helper()
	var evs []sfntypes.HistoryEvent
	p := sfn.NewGetExecutionHistoryPaginator(r.env.StepFunctions, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn)})
	for p.HasMorePages() {
		page, err := p.NextPage(r.ctx)
		if err != nil {
			r.t.Fatalf("execution history: %v", err)
		}
		evs = append(evs, page.Events...)
	}
	return evs
}

// path returns the states the execution entered, in order.
func (r *rig) path(arn string) []string {
	r.t.Helper()
	var out []string
	for _, ev := range r.history(arn) {
		if d := ev.StateEnteredEventDetails; d != nil {
			out = append(out, aws.ToString(d.Name))
		}
	}
	return out
}

// entered returns when the execution first entered the named state (zero
// if never).
func (r *rig) entered(arn, state string) time.Time {
	r.t.Helper()
	for _, ev := range r.history(arn) {
		if d := ev.StateEnteredEventDetails; d != nil && aws.ToString(d.Name) == state {
			return aws.ToTime(ev.Timestamp)
		}
	}
	return time.Time{}
}

// compact writes a path of states on one line.
func compact(path []string) string { return strings.Join(path, " > ") }

// item reads one ledger item through DynamoDB.
func (r *rig) item(pk, sk string) map[string]ddbtypes.AttributeValue {
	r.t.Helper()
	out, err := r.ddb.GetItem(r.ctx, &dynamodb.GetItemInput{
		TableName: aws.String(r.table), ConsistentRead: aws.Bool(true),
		Key: map[string]ddbtypes.AttributeValue{
			"pk": &ddbtypes.AttributeValueMemberS{Value: pk}, "sk": &ddbtypes.AttributeValueMemberS{Value: sk},
		},
	})
	if err != nil {
		r.t.Fatalf("get ledger item %s/%s: %v", pk, sk, err)
	}
	return out.Item
}

// ledgerRollout is what the scenarios check of a rollout record.
type ledgerRollout struct {
	found     bool
	status    string
	from, to  int64
	toImage   string
	refreshID string
	reason    string
	steps     []string
}

func (r *rig) rollout(id string) ledgerRollout {
	r.t.Helper()
	it := r.item("ROLLOUT#"+id, "META")
	if it == nil {
		return ledgerRollout{}
	}
	lr := ledgerRollout{found: true, status: s(it["status"]), refreshID: s(it["refreshId"]), reason: s(it["reason"])}
	if m, ok := it["from"].(*ddbtypes.AttributeValueMemberM); ok {
		lr.from = n(m.Value["version"])
	}
	if m, ok := it["to"].(*ddbtypes.AttributeValueMemberM); ok {
		lr.to, lr.toImage = n(m.Value["version"]), s(m.Value["imageId"])
	}
	if l, ok := it["steps"].(*ddbtypes.AttributeValueMemberL); ok {
		for _, v := range l.Value {
			if m, ok := v.(*ddbtypes.AttributeValueMemberM); ok {
				lr.steps = append(lr.steps, s(m.Value["key"]))
			}
		}
	}
	return lr
}

// lkg returns the group's last-known-good version and image (0 if none).
func (r *rig) lkg(group string) (int64, string) {
	r.t.Helper()
	it := r.item("GROUP#"+region+"#"+group, "LKG")
	if it == nil {
		return 0, ""
	}
	return n(it["version"]), s(it["imageId"])
}

// leased reports whether the group's lease item is still there.
func (r *rig) leased(group string) bool {
	r.t.Helper()
	return r.item("GROUP#"+region+"#"+group, "LEASE") != nil
}

func s(av ddbtypes.AttributeValue) string {
	if v, ok := av.(*ddbtypes.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func n(av ddbtypes.AttributeValue) int64 {
	var x int64
	if v, ok := av.(*ddbtypes.AttributeValueMemberN); ok {
		_, _ = fmt.Sscan(v.Value, &x)
	}
	return x
}

// groupView is the fleet as Auto Scaling and EC2 show it.
type groupView struct {
	version   string         // the group's launch template version as written
	images    map[string]int // in-service instances by image id
	inService int
	desired   int
}

func (r *rig) group(name string) groupView {
	r.t.Helper()
	out, err := r.env.AutoScaling.DescribeAutoScalingGroups(r.ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})
	if err != nil || len(out.AutoScalingGroups) != 1 {
		r.t.Fatalf("describe group %s: %v", name, err)
	}
	g := out.AutoScalingGroups[0]
	v := groupView{images: map[string]int{}, desired: int(aws.ToInt32(g.DesiredCapacity))}
	if g.LaunchTemplate != nil {
		v.version = aws.ToString(g.LaunchTemplate.Version)
	}
	var ids []string
	for _, in := range g.Instances {
		if in.LifecycleState == astypes.LifecycleStateInService {
			ids = append(ids, aws.ToString(in.InstanceId))
		}
	}
	v.inService = len(ids)
	if len(ids) == 0 {
		return v
	}
	p := ec2.NewDescribeInstancesPaginator(r.env.EC2, &ec2.DescribeInstancesInput{InstanceIds: ids})
	for p.HasMorePages() {
		page, err := p.NextPage(r.ctx)
		if err != nil {
			r.t.Fatalf("describe instances: %v", err)
		}
		for _, res := range page.Reservations {
			for _, in := range res.Instances {
				v.images[aws.ToString(in.ImageId)]++
			}
		}
	}
	return v
}

// defaultVersion returns the launch template's default version number.
func (r *rig) defaultVersion(ltID string) int64 {
	r.t.Helper()
	out, err := r.env.EC2.DescribeLaunchTemplates(r.ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{ltID}})
	if err != nil || len(out.LaunchTemplates) != 1 {
		r.t.Fatalf("describe launch template %s: %v", ltID, err)
	}
	return aws.ToInt64(out.LaunchTemplates[0].DefaultVersionNumber)
}

// refreshes returns the group's instance refreshes, newest first.
func (r *rig) refreshes(group string) []astypes.InstanceRefresh {
	r.t.Helper()
	out, err := r.env.AutoScaling.DescribeInstanceRefreshes(r.ctx, &autoscaling.DescribeInstanceRefreshesInput{AutoScalingGroupName: aws.String(group)})
	if err != nil {
		r.t.Fatalf("describe instance refreshes of %s: %v", group, err)
	}
	return out.InstanceRefreshes
}

// notifications returns the detail-types of the "Phoenix Rollout ..."
// events that reached the bus for a rollout, oldest first.
func (r *rig) notifications(rolloutID string) []string {
	r.t.Helper()
	var out []string
	for _, ev := range r.env.Cloud.EventBridge.Ingested() {
		var e struct {
			Source     string `json:"source"`
			DetailType string `json:"detail-type"`
			Detail     struct {
				RolloutID string `json:"rolloutId"`
			} `json:"detail"`
		}
		if json.Unmarshal(ev.JSON, &e) == nil && e.Source == "phoenix.rollouts" && e.Detail.RolloutID == rolloutID {
			out = append(out, e.DetailType)
		}
	}
	return out
}

// messages returns the subjects of the SNS notifications about a rollout.
func (r *rig) messages(rolloutID string) []string {
	var out []string
	for _, m := range r.env.Cloud.SNS.Messages(r.topic) {
		if strings.Contains(m.Subject+m.Message, rolloutID) {
			out = append(out, m.Subject)
		}
	}
	return out
}

// functionLogs returns every function's log, for failure messages.
func (r *rig) functionLogs() string {
	var b strings.Builder
	for _, id := range r.stack.Order {
		d := r.stack.Resources[id]
		if d.Type != "AWS::Serverless::Function" && d.Type != "AWS::Lambda::Function" {
			continue
		}
		fmt.Fprintf(&b, "==== %s\n%s\n", d.PhysicalID, r.env.Cloud.Lambda.LogText(region, d.PhysicalID))
	}
	return b.String()
}

// invocations counts the function invocations (START lines of the logs) by
// function name.
func (r *rig) invocations() map[string]int {
	out := map[string]int{}
	for _, id := range r.stack.Order {
		d := r.stack.Resources[id]
		if d.Type != "AWS::Serverless::Function" && d.Type != "AWS::Lambda::Function" {
			continue
		}
		for _, ev := range r.env.Cloud.Lambda.Logs(region, d.PhysicalID) {
			if strings.HasPrefix(ev.Message, "START RequestId:") {
				out[d.PhysicalID]++
			}
		}
	}
	return out
}

// contains reports whether path holds want as a contiguous run.
func contains(path, want []string) bool {
	for i := 0; i+len(want) <= len(path); i++ {
		if slices.Equal(path[i:i+len(want)], want) {
			return true
		}
	}
	return false
}
