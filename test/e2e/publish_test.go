package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/deploy"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/eventbus"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/imagepipeline"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/sim"
)

// campaignLimit bounds a campaign in simulated time: a few waves of
// rollouts of two instances each.
const campaignLimit = 12 * time.Hour

// publishParameters shorten the campaign's loop for the suite: a busy
// group is looked at every minute instead of every ten. The rollouts
// themselves are kept short by the groups' tags (defaultTags).
var publishParameters = map[string]string{
	"CampaignGateWaitSeconds": "60",
}

// pubRig is a rig whose stack has the publishing path: the image-published
// function behind its three rules, and the campaign state machine.
type pubRig struct {
	*rig
	campaign string // the campaign state machine's ARN
	function string // the image-published function's name
	lambda   *lambda.Client
}

// newPublishRig deploys template.yaml with publishParameters plus extra.
func newPublishRig(t *testing.T, seed uint64, extra map[string]string) *pubRig {
	t.Helper()
	needNode(t)
	bins := functionsDir(t)
	env := cloudtest.New(t, localcloud.Options{Seed: seed, DynamoDB: true})
	params := map[string]string{}
	for k, v := range publishParameters {
		params[k] = v
	}
	for k, v := range extra {
		params[k] = v
	}
	r := &rig{t: t, ctx: t.Context(), env: env}
	stack, err := deploy.File(r.ctx, env.Cloud, filepath.Join(repoRoot(t), "template.yaml"), deploy.Options{
		BinDir: bins, Parameters: params,
	})
	if err != nil {
		t.Fatalf("deploy template.yaml: %v", err)
	}
	env.Settle()
	r.stack = stack
	r.machine = output(t, stack, "StateMachineArn")
	r.table = output(t, stack, "LedgerTableName")
	r.topic = output(t, stack, "NotificationTopicArn")
	r.ddb = dynamodb.NewFromConfig(env.Config)
	fn, ok := stack.Resources["ImagePublishedFunction"]
	if !ok {
		t.Fatal("the stack has no ImagePublishedFunction")
	}
	return &pubRig{rig: r, campaign: output(t, stack, "CampaignStateMachineArn"), function: fn.PhysicalID, lambda: lambda.NewFromConfig(env.Config)}
}

// on returns the rig reporting to t, for use inside a subtest: a helper
// must not fail the parent test from the subtest's goroutine.
func (p *pubRig) on(t *testing.T) *pubRig {
	r := *p.rig
	r.t = t
	q := *p
	q.rig = &r
	return &q
}

// webFleet makes a group of two healthy instances that takes web images
// in the wave given ("" for none).
func (p *pubRig) webFleet(name, wave string) fleet {
	p.t.Helper()
	tags := map[string]string{"phoenix:role": "web"}
	if wave != "" {
		tags["phoenix:wave"] = wave
	}
	return p.newFleet(fleetSpec{name: name, size: 2, tags: tags})
}

// webTags are the tags of a healthy web image.
func webTags() map[string]string {
	return map[string]string{"phoenix:role": "web", "phoenix-sim:behavior": "healthy"}
}

// registerImage registers an AMI through EC2 (which announces it with an
// "EC2 AMI State Change" event once available) and waits until it is
// available.
func (p *pubRig) registerImage(name, arch string, tags map[string]string) string {
	p.t.Helper()
	var ts []ec2types.Tag
	for _, k := range sortedKeys(tags) {
		ts = append(ts, ec2types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	out, err := p.env.EC2.RegisterImage(p.ctx, &ec2.RegisterImageInput{
		Name: aws.String(name), Architecture: ec2types.ArchitectureValues(arch), RootDeviceName: aws.String("/dev/xvda"),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeImage, Tags: ts}},
	})
	if err != nil {
		p.t.Fatalf("register image %s: %v", name, err)
	}
	id := aws.ToString(out.ImageId)
	p.env.RunUntil(p.t, time.Hour, "image "+name+" to be available", func() bool {
		imgs, err := p.env.EC2.DescribeImages(p.ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
		return err == nil && len(imgs.Images) == 1 && imgs.Images[0].State == ec2types.ImageStateAvailable
	})
	return id
}

// putImageParameter writes an aws:ec2:image parameter through SSM, which
// announces it with a "Parameter Store Change" event once validated.
func (p *pubRig) putImageParameter(name, image string) {
	p.t.Helper()
	if _, err := p.env.SSM.PutParameter(p.ctx, &ssm.PutParameterInput{
		Name: aws.String(name), Value: aws.String(image), Type: ssmtypes.ParameterTypeString,
		DataType: aws.String("aws:ec2:image"), Overwrite: aws.Bool(true),
	}); err != nil {
		p.t.Fatalf("put parameter %s: %v", name, err)
	}
}

// rule returns the physical name of one of the function's rules, by the
// event's name in template.yaml.
func (p *pubRig) rule(event string) string {
	p.t.Helper()
	prefix := "phoenix-ImagePublishedFunction" + event
	out, err := p.env.EventBridge.ListRules(p.ctx, &eventbridge.ListRulesInput{NamePrefix: aws.String(prefix)})
	if err != nil || len(out.Rules) != 1 {
		p.t.Fatalf("list rules %s: %v (%d found)", prefix, err, len(out.Rules))
	}
	return aws.ToString(out.Rules[0].Name)
}

// chaos sets the delivery chaos of one of the function's rules.
func (p *pubRig) chaos(event string, c eventbus.Chaos) {
	p.t.Helper()
	if err := p.env.Cloud.EventBridge.SetChaos(p.rule(event), c); err != nil {
		p.t.Fatal(err)
	}
}

// executions lists a state machine's executions, oldest first.
func (p *pubRig) executions(machine string) []sfntypes.ExecutionListItem {
	p.t.Helper()
	var out []sfntypes.ExecutionListItem
	pg := sfn.NewListExecutionsPaginator(p.env.StepFunctions, &sfn.ListExecutionsInput{StateMachineArn: aws.String(machine)})
	for pg.HasMorePages() {
		page, err := pg.NextPage(p.ctx)
		if err != nil {
			p.t.Fatalf("list executions: %v", err)
		}
		out = append(out, page.Executions...)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// rolloutsOf returns the rollout executions of a group, by the readable
// part of their names (img-<group>-<hash>).
func (p *pubRig) rolloutsOf(group string) []sfntypes.ExecutionListItem {
	p.t.Helper()
	var out []sfntypes.ExecutionListItem
	for _, e := range p.executions(p.machine) {
		name := aws.ToString(e.Name)
		if strings.HasPrefix(name, "img-"+group+"-") && len(name) == len("img-"+group+"-")+24 {
			out = append(out, e)
		}
	}
	return out
}

// awaitCampaigns steps time until the campaign state machine has n
// executions and returns the newest.
func (p *pubRig) awaitCampaigns(n int, limit time.Duration) string {
	p.t.Helper()
	p.env.RunUntil(p.t, limit, fmt.Sprintf("%d campaigns", n), func() bool { return len(p.executions(p.campaign)) >= n })
	all := p.executions(p.campaign)
	if len(all) != n {
		p.t.Fatalf("%d campaigns, want %d\n%s", len(all), n, p.functionLogs())
	}
	return aws.ToString(all[n-1].ExecutionArn)
}

// campaignImage reads the image a campaign rolls, as its input shows it:
// the kind of event that announced it, the AMI id and the event's source
// (build ARN, parameter name or AMI id).
func (p *pubRig) campaignImage(arn string) (kind, id, source string) {
	p.t.Helper()
	d, err := p.env.StepFunctions.DescribeExecution(p.ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	if err != nil {
		p.t.Fatalf("describe campaign: %v", err)
	}
	var in struct {
		Campaign struct {
			ImageID string `json:"imageId"`
			Image   struct {
				Kind   string `json:"kind"`
				Source string `json:"source"`
			} `json:"image"`
		} `json:"campaign"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(d.Input)), &in); err != nil {
		p.t.Fatalf("campaign input: %v", err)
	}
	return in.Campaign.Image.Kind, in.Campaign.ImageID, in.Campaign.Image.Source
}

// publishResult is the function's answer to an event (publish.Result as
// docs/publish.md writes it).
type publishResult struct {
	Outcome    string `json:"outcome"`
	Rejections []struct {
		Code   string `json:"code"`
		Reason string `json:"reason"`
	} `json:"rejections"`
}

// invoke hands an event to the function through the Lambda API, as a
// replayed or hand-made delivery would reach it.
func (p *pubRig) invoke(event []byte) publishResult {
	p.t.Helper()
	out, err := p.lambda.Invoke(p.ctx, &lambda.InvokeInput{FunctionName: aws.String(p.function), Payload: event})
	if err != nil {
		p.t.Fatalf("invoke %s: %v", p.function, err)
	}
	if out.FunctionError != nil {
		p.t.Fatalf("%s failed: %s %s", p.function, aws.ToString(out.FunctionError), out.Payload)
	}
	var res publishResult
	if err := json.Unmarshal(out.Payload, &res); err != nil {
		p.t.Fatalf("answer %s: %v", out.Payload, err)
	}
	return res
}

// ingested returns the last event on the bus of the detail-type whose text
// holds fragment.
func (p *pubRig) ingested(detailType, fragment string) []byte {
	p.t.Helper()
	evs := p.env.Cloud.EventBridge.Ingested()
	for i := len(evs) - 1; i >= 0; i-- {
		raw := string(evs[i].JSON)
		if strings.Contains(raw, `"detail-type":"`+detailType+`"`) && strings.Contains(raw, fragment) {
			return evs[i].JSON
		}
	}
	p.t.Fatalf("no %q event with %s on the bus", detailType, fragment)
	return nil
}

// subjects returns the subjects of every SNS notification so far.
func (p *pubRig) subjects() []string {
	var out []string
	for _, m := range p.env.Cloud.SNS.Messages(p.topic) {
		out = append(out, m.Subject)
	}
	return out
}

// wantRolled checks that the group runs the image on a new numbered launch
// template version.
func (p *pubRig) wantRolled(group, version, image string) {
	p.t.Helper()
	g := p.group(group)
	if g.version != version || g.images[image] != g.inService || g.inService != 2 {
		p.t.Errorf("%s on version %q with %v in service; want version %s with both instances on %s", group, g.version, g.images, version, image)
	}
}

func TestEachPublishingEventRollsTheImageIntoItsGroup(t *testing.T) {
	t.Parallel()
	p := newPublishRig(t, 11, nil)
	p.webFleet("shop", "0")
	// Each image is also announced by its AMI State Change event; lose
	// those while the other two shapes are tested, so that the campaign
	// is the one their own event started.
	p.chaos("AMIAvailable", eventbus.Chaos{Drop: 1})

	t.Run("an Image Builder build rolls through GetImage to its AMI", func(t *testing.T) {
		p := p.on(t)
		arn, err := p.env.Cloud.ImageBuilder.Publish(imagepipeline.BuildSpec{Region: region, Name: "shop", Version: "1.0.0", AMITags: webTags()})
		if err != nil {
			t.Fatal(err)
		}
		camp := p.awaitCampaigns(1, 2*time.Hour)
		end := p.wait(camp, campaignLimit)
		if end.Status != sfntypes.ExecutionStatusSucceeded {
			t.Fatalf("campaign %s: %s\n%s", end.Status, aws.ToString(end.Cause), p.functionLogs())
		}
		kind, img, source := p.campaignImage(camp)
		if kind != "imagebuilder" || source != arn {
			t.Errorf("campaign started by a %q event for %s, want imagebuilder for %s", kind, source, arn)
		}
		p.wantRolled("shop", "2", img)
	})

	t.Run("a parameter of data type aws:ec2:image rolls the AMI it holds", func(t *testing.T) {
		p := p.on(t)
		img := p.registerImage("shop-param", "x86_64", webTags())
		p.putImageParameter("/phoenix/shop/ami", img)
		camp := p.awaitCampaigns(2, time.Hour)
		if end := p.wait(camp, campaignLimit); end.Status != sfntypes.ExecutionStatusSucceeded {
			t.Fatalf("campaign %s: %s\n%s", end.Status, aws.ToString(end.Cause), p.functionLogs())
		}
		if kind, id, source := p.campaignImage(camp); kind != "parameter" || id != img || source != "/phoenix/shop/ami" {
			t.Errorf("campaign for %s started by a %q event for %s, want %s by parameter /phoenix/shop/ami", id, kind, source, img)
		}
		p.wantRolled("shop", "3", img)
	})

	t.Run("an AMI becoming available rolls it", func(t *testing.T) {
		p := p.on(t)
		p.chaos("AMIAvailable", eventbus.Chaos{})
		img := p.registerImage("shop-ami", "x86_64", webTags())
		camp := p.awaitCampaigns(3, time.Hour)
		if end := p.wait(camp, campaignLimit); end.Status != sfntypes.ExecutionStatusSucceeded {
			t.Fatalf("campaign %s: %s\n%s", end.Status, aws.ToString(end.Cause), p.functionLogs())
		}
		if kind, id, _ := p.campaignImage(camp); kind != "ami" || id != img {
			t.Errorf("campaign for %s started by a %q event, want %s by ami", id, kind, img)
		}
		p.wantRolled("shop", "4", img)
	})

	if runs := p.rolloutsOf("shop"); len(runs) != 3 {
		t.Errorf("%d rollouts of shop, want one per image", len(runs))
	}
}

func TestDuplicatedAndDelayedDeliveriesRollTheImageOnce(t *testing.T) {
	t.Parallel()
	p := newPublishRig(t, 12, nil)
	p.webFleet("cart", "")
	for _, ev := range []string{"AMIAvailable", "ImageParameterChanged"} {
		p.chaos(ev, eventbus.Chaos{Duplicate: 1, Delay: 1, MaxDelay: 10 * time.Minute})
	}
	// One image announced twice (its AMI and a parameter), each delivery
	// doubled and late: one campaign, one rollout.
	img := p.registerImage("cart-v2", "x86_64", webTags())
	p.putImageParameter("/phoenix/cart/ami", img)
	camp := p.awaitCampaigns(1, time.Hour)
	p.env.Advance(15 * time.Minute)
	if end := p.wait(camp, campaignLimit); end.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("campaign %s: %s\n%s", end.Status, aws.ToString(end.Cause), p.functionLogs())
	}
	if n := p.invocations()[p.function]; n < 4 {
		t.Errorf("the function ran %d times; the chaos should have delivered at least 4 copies", n)
	}

	t.Run("a delivery after the campaign ended starts nothing", func(t *testing.T) {
		p := p.on(t)
		res := p.invoke(p.ingested("EC2 AMI State Change", img))
		if res.Outcome != "duplicate" && res.Outcome != "not-rolled" {
			t.Errorf("late delivery: %+v, want duplicate or not-rolled", res)
		}
		p.env.Advance(30 * time.Minute)
	})

	if n := len(p.executions(p.campaign)); n != 1 {
		t.Errorf("%d campaigns, want 1", n)
	}
	if runs := p.rolloutsOf("cart"); len(runs) != 1 {
		t.Errorf("%d rollouts of cart, want 1", len(runs))
	}
	if n := len(p.refreshes("cart")); n != 1 {
		t.Errorf("%d instance refreshes of cart, want 1", n)
	}
	p.wantRolled("cart", "2", img)
}

func TestBadInputsAreRejectedLoudlyAndChangeNothing(t *testing.T) {
	t.Parallel()
	p := newPublishRig(t, 13, map[string]string{"RequiredImageTags": "phoenix:approved=true"})
	f := p.webFleet("api", "")
	approved := webTags()
	approved["phoenix:approved"] = "true"
	// Images whose AMI events the bus would deliver as well: the cases
	// below hand the function the event themselves.
	p.chaos("AMIAvailable", eventbus.Chaos{Drop: 1})
	foreign, err := p.env.Cloud.World.AddImage(region, sim.ImageSpec{Name: "theirs", OwnerID: "210987654321", Tags: approved, Available: true})
	if err != nil {
		t.Fatal(err)
	}
	untagged := p.registerImage("api-untagged", "x86_64", webTags())
	arm := p.registerImage("api-arm", "arm64", approved)
	gone := p.registerImage("api-gone", "x86_64", approved)
	if _, err := p.env.EC2.DeregisterImage(p.ctx, &ec2.DeregisterImageInput{ImageId: aws.String(gone)}); err != nil {
		t.Fatal(err)
	}
	p.env.Advance(10 * time.Minute)
	amiEvent := func(id, in string) []byte {
		return []byte(`{"version":"0","id":"bad-` + id + `-` + in + `","detail-type":"EC2 AMI State Change","source":"aws.ec2",` +
			`"account":"123456789012","time":"2026-03-02T09:00:00Z","region":"` + in + `","resources":[],` +
			`"detail":{"ImageId":"` + id + `","State":"available"}}`)
	}
	cases := []struct {
		name  string
		event []byte
		code  string
	}{
		// Lambda refuses a payload that is not JSON at all, so the
		// malformed text arrives as a JSON string, which is no event.
		{"malformed JSON is rejected as malformed", []byte(`"{\"version\":\"0\",\"id\":"`), "malformed-event"},
		{"an event missing its account and detail is rejected as malformed", []byte(`{"version":"0","id":"x","detail-type":"EC2 AMI State Change","source":"aws.ec2"}`), "malformed-event"},
		{"an image EC2 does not know is rejected as unknown", amiEvent("ami-0ffffffffffffffff", region), "unknown-image"},
		{"an image of another account is rejected as foreign", amiEvent(foreign, region), "foreign-owner"},
		{"an image without the required tag is rejected", amiEvent(untagged, region), "missing-tag"},
		{"an image no group can run is rejected", amiEvent(arm, region), "no-eligible-group"},
		{"a deregistered image is rejected as not available", amiEvent(gone, region), "not-available"},
		{"an image of another region is rejected", amiEvent(arm, "eu-west-1"), "other-region"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := p.on(t)
			before := len(p.env.Cloud.SNS.Messages(p.topic))
			res := p.invoke(c.event)
			if res.Outcome != "rejected" || len(res.Rejections) == 0 || res.Rejections[0].Code != c.code {
				t.Fatalf("answer %+v, want rejected with %s", res, c.code)
			}
			msgs := p.env.Cloud.SNS.Messages(p.topic)
			if len(msgs) != before+1 || !strings.Contains(msgs[len(msgs)-1].Message, res.Rejections[0].Reason) {
				t.Fatalf("want one SNS notice with the reason, got %v", p.subjects()[before:])
			}
		})
	}
	p.env.Advance(30 * time.Minute)
	if n := len(p.executions(p.campaign)); n != 0 {
		t.Errorf("rejected images started %d campaigns", n)
	}
	if n := len(p.executions(p.machine)); n != 0 {
		t.Errorf("rejected images started %d rollouts", n)
	}
	if g := p.group(f.name); g.version != "1" || g.images[f.image] != 2 {
		t.Errorf("the group changed: version %q, images %v", g.version, g.images)
	}
}

func TestAThreeWaveCampaignStopsBeforeWaveTwoWhenAWaveOneGroupReverts(t *testing.T) {
	t.Parallel()
	p := newPublishRig(t, 14, nil)
	p.webFleet("canary", "0")
	p.webFleet("web-a", "1")
	bad := p.webFleet("web-b", "1")
	p.webFleet("web-c", "2")

	img := p.registerImage("web-v2", "x86_64", webTags())
	camp := p.awaitCampaigns(1, time.Hour)
	// web-b's new instances never pass a health check: its rollout must
	// revert at the first checkpoint.
	p.env.RunUntil(t, campaignLimit, "web-b's refresh to start", func() bool { return len(p.refreshes("web-b")) > 0 })
	if _, err := p.env.Cloud.Faults.Add(faults.Rule{Kind: faults.HealthFlap, Target: bad.targetGroup}); err != nil {
		t.Fatal(err)
	}
	end := p.wait(camp, campaignLimit)
	if end.Status != sfntypes.ExecutionStatusFailed || aws.ToString(end.Error) != "Phoenix.CampaignStopped" || !strings.Contains(aws.ToString(end.Cause), "Wave 1") {
		t.Fatalf("campaign %s %s: %s\n%s", end.Status, aws.ToString(end.Error), aws.ToString(end.Cause), p.functionLogs())
	}
	p.wantRolled("canary", "2", img)
	p.wantRolled("web-a", "2", img)
	if g := p.group("web-b"); g.version != "1" || g.images[img] != 0 {
		t.Errorf("web-b on version %q with %v; want it reverted to version 1", g.version, g.images)
	}
	if runs := p.rolloutsOf("web-b"); len(runs) != 1 || p.rollout(aws.ToString(runs[0].Name)).status != "reverted" {
		t.Errorf("web-b's rollouts %v; want one, reverted", runs)
	}
	if runs := p.rolloutsOf("web-c"); len(runs) != 0 {
		t.Errorf("wave 2 started after a wave-1 revert: %v", runs)
	}
	if g := p.group("web-c"); g.version != "1" || len(p.refreshes("web-c")) != 0 {
		t.Errorf("web-c changed: version %q", g.version)
	}
	canary, a := p.rolloutsOf("canary"), p.rolloutsOf("web-a")
	if len(canary) != 1 || len(a) != 1 || a[0].StartDate.Before(*canary[0].StopDate) {
		t.Errorf("wave 1 did not wait for the canary: canary %v, web-a %v", canary, a)
	}
	stopped := false
	for _, m := range p.env.Cloud.SNS.Messages(p.topic) {
		stopped = stopped || (m.Subject == "Phoenix campaign stopped" && strings.Contains(m.Message, img))
	}
	if !stopped {
		t.Errorf("no campaign stopped notice among %v", p.subjects())
	}
}
