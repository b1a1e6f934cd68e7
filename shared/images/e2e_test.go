package images_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/phoenix-rollouts/phoenix/shared/executions"
	"github.com/phoenix-rollouts/phoenix/shared/fleet"
	"github.com/phoenix-rollouts/phoenix/shared/images"
	"github.com/phoenix-rollouts/phoenix/shared/internal/testlog"
	"github.com/phoenix-rollouts/phoenix/shared/ledger"
	"github.com/phoenix-rollouts/phoenix/shared/notify"
	"github.com/phoenix-rollouts/phoenix/shared/publish"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/functions"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/imagepipeline"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/sim"
)

// gateFunction is the campaign-gate function's name on the local cloud.
const gateFunction = "phoenix-campaign-gate"

// stubRollout stands in for the rollout state machine: it takes half an
// hour, then ends as design.md's terminal states do, with the document's
// rollout.status; groups whose name starts with "bad" revert (a Succeed
// state, like the real Reverted).
const stubRollout = `{
  "StartAt": "Refresh",
  "States": {
    "Refresh": {"Type": "Wait", "Seconds": 1800, "Next": "Verdict"},
    "Verdict": {"Type": "Choice", "Choices": [{"Variable": "$.request.target.group", "StringMatches": "bad*", "Next": "Reverted"}], "Default": "Finalized"},
    "Reverted": {"Type": "Pass", "Parameters": {"request.$": "$.request", "rollout": {"status": "reverted"}}, "Next": "End"},
    "Finalized": {"Type": "Pass", "Parameters": {"request.$": "$.request", "rollout": {"status": "finalized"}}, "Next": "End"},
    "End": {"Type": "Succeed"}
  }
}`

// stack is the publishing path on a local cloud: the handler wired with
// the real adapters, the ledger on DynamoDB, notifications on SNS and
// EventBridge, the campaign state machine from infra/campaign.asl.json, a stub
// rollout state machine, and the gate as an in-process Lambda function.
type stack struct {
	env        *cloudtest.Env
	svc        publish.Service
	ledger     *ledger.Ledger
	topic      string
	rolloutSM  string
	campaignSM string
	logs       *testlog.Buffer
	metrics    *testlog.Buffer
}

func newStack(t *testing.T) *stack {
	t.Helper()
	env := newCloud(t, true)
	ctx := context.Background()
	db := createTable(t, env)
	topic, err := env.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("phoenix")})
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{env: env, topic: aws.ToString(topic.TopicArn), logs: &testlog.Buffer{}, metrics: &testlog.Buffer{}}
	s.rolloutSM = env.CreateStateMachine(t, "phoenix-rollout", stubRollout)
	lc := lambda.NewFromConfig(env.Config)
	fn, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(gateFunction), Role: aws.String("arn:aws:iam::123456789012:role/phoenix"),
		Runtime: lambdatypes.RuntimeProvidedal2023, Handler: aws.String("bootstrap"),
		Code: &lambdatypes.FunctionCode{S3Bucket: aws.String(functions.LocalCodeBucket), S3Key: aws.String(functions.InProcessKey)},
	})
	if err != nil {
		t.Fatal(err)
	}
	env.Settle()
	def := strings.NewReplacer(
		"${GateFunctionArn}", aws.ToString(fn.FunctionArn), "${RolloutStateMachineArn}", s.rolloutSM,
		"${NotificationTopicArn}", s.topic, "${GateWaitSeconds}", "600",
	).Replace(repoFile(t, "infra", "campaign.asl.json"))
	s.campaignSM = env.CreateStateMachine(t, "phoenix-campaign", def)
	log := slog.New(slog.NewJSONHandler(s.logs, nil))
	notifier, err := notify.New(env.Config, notify.Options{TopicARN: s.topic, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	s.ledger = ledger.New(db, table).WithLogger(log)
	s.svc = publish.Service{
		Images: images.NewReader(env.Config, fleet.New(env.Config, log)), Ledger: s.ledger, Queue: s.ledger.Queue(),
		Campaigns: executions.NewStarterFromClient(env.StepFunctions, s.campaignSM), Notifier: notifier,
		Policy:      publish.Policy{Region: region, Account: account, RequiredTags: map[string]string{"phoenix:approved": "true"}},
		MaxInFlight: 2, MaxWait: 6 * time.Hour, Logger: log, Metrics: s.metrics, Now: env.Now,
	}
	env.Cloud.Lambda.RegisterFunc(gateFunction, s.svc.Gate)
	return s
}

// deliver hands an emitted event to the handler as EventBridge would.
func (s *stack) deliver(t *testing.T, ev sim.Event) publish.Result {
	t.Helper()
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return s.deliverRaw(t, raw)
}

func (s *stack) deliverRaw(t *testing.T, raw []byte) publish.Result {
	t.Helper()
	res, err := s.svc.ImagePublished(context.Background(), raw)
	if err != nil {
		t.Fatalf("ImagePublished: %v\nlogs:\n%s", err, s.logs)
	}
	return res
}

// executions lists a state machine's executions by name.
func (s *stack) executions(t *testing.T, machine string) map[string]sfntypes.ExecutionListItem {
	t.Helper()
	out := map[string]sfntypes.ExecutionListItem{}
	p := sfn.NewListExecutionsPaginator(s.env.StepFunctions, &sfn.ListExecutionsInput{StateMachineArn: aws.String(machine)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Executions {
			out[aws.ToString(e.Name)] = e
		}
	}
	return out
}

// awaitEnd runs the clock until the execution ends and returns it.
func (s *stack) awaitEnd(t *testing.T, arn string) *sfn.DescribeExecutionOutput {
	t.Helper()
	var out *sfn.DescribeExecutionOutput
	within(t, s.env, 24*time.Hour, "execution "+arn+" to end", func() bool {
		d, err := s.env.StepFunctions.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		out = d
		return d.Status != sfntypes.ExecutionStatusRunning
	})
	return out
}

// fleet creates enabled web groups: name to wave ("" for the default).
func (s *stack) fleet(t *testing.T, waves map[string]string) {
	t.Helper()
	base := ownImage(t, s.env, "web-base", "x86_64", nil)
	names := make([]string, 0, len(waves))
	for n := range waves {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		createGroup(t, s.env, groupSpec{name: n, tags: webTags(waves[n]), image: base, types: []string{"t3.micro"}})
	}
}

// imageBuild is an Image Builder build of an approved web image.
func imageBuild(name string) imagepipeline.BuildSpec {
	return imagepipeline.BuildSpec{Region: region, Name: name, Version: "1.4.0", AMITags: approved()}
}

// lastEvent returns the latest emitted event of the detail-type whose
// detail contains fragment.
func lastEvent(t *testing.T, env *cloudtest.Env, detailType, fragment string) sim.Event {
	t.Helper()
	evs := eventsOf(t, env, detailType)
	for i := len(evs) - 1; i >= 0; i-- {
		if strings.Contains(string(evs[i].Detail), fragment) {
			return evs[i]
		}
	}
	t.Fatalf("no %q event with %s among %d", detailType, fragment, len(evs))
	return sim.Event{}
}

func TestAThreeWaveCampaignStopsWhenAWaveOneGroupReverts(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	s.fleet(t, map[string]string{"canary": "0", "web-a": "1", "bad-b": "1", "web-c": "2"})
	img := ownImage(t, s.env, "web-2", "x86_64", approved())
	res := s.deliver(t, lastEvent(t, s.env, publish.DetailTypeAMI, img))
	if res.Outcome != publish.OutcomeStarted {
		t.Fatalf("result %+v", res)
	}
	end := s.awaitEnd(t, res.ExecutionARN)
	if end.Status != sfntypes.ExecutionStatusFailed || aws.ToString(end.Error) != "Phoenix.CampaignStopped" || !strings.Contains(aws.ToString(end.Cause), "Wave 1") {
		t.Fatalf("campaign ended %s %s: %s", end.Status, aws.ToString(end.Error), aws.ToString(end.Cause))
	}
	runs := s.executions(t, s.rolloutSM)
	name := func(g string) string { return publish.RolloutName(res.EventID, key(g)) }
	for _, g := range []string{"canary", "web-a", "bad-b"} {
		if _, ok := runs[name(g)]; !ok {
			t.Errorf("no rollout of %s: %v", g, runs)
		}
	}
	if _, ok := runs[name("web-c")]; ok || len(runs) != 3 {
		t.Fatalf("wave 2 started after a wave-1 revert: %v", runs)
	}
	canary, a := runs[name("canary")], runs[name("web-a")]
	if a.StartDate.Before(*canary.StopDate) {
		t.Errorf("wave 1 started at %s, before the canary ended at %s", a.StartDate, canary.StopDate)
	}
	msgs := s.env.Cloud.SNS.Messages(s.topic)
	if len(msgs) == 0 || !strings.Contains(msgs[len(msgs)-1].Message, "stopped rolling image "+img) {
		t.Fatalf("no stop notice: %+v", msgs)
	}
}

func TestAnImageBuilderBuildRollsThroughEveryWaveOnce(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	s.fleet(t, map[string]string{"canary": "0", "web-a": "", "web-b": "", "web-c": ""})
	arn, err := s.env.Cloud.ImageBuilder.Publish(imageBuild("web-al2023"))
	if err != nil {
		t.Fatal(err)
	}
	within(t, s.env, 2*time.Hour, "the build's AVAILABLE event", func() bool {
		for _, ev := range eventsOf(t, s.env, publish.DetailTypeImageBuilder) {
			if strings.Contains(string(ev.Detail), `"status":"AVAILABLE"`) {
				return true
			}
		}
		return false
	})
	ev := lastEvent(t, s.env, publish.DetailTypeImageBuilder, `"status":"AVAILABLE"`)
	if ev.Resources[0] != arn {
		t.Fatalf("event for %v, want %s", ev.Resources, arn)
	}
	res := s.deliver(t, ev)
	if res.Outcome != publish.OutcomeStarted || res.Image.Kind != publish.KindImageBuilder || res.Image.Source != arn {
		t.Fatalf("result %+v", res)
	}
	t.Run("a duplicate delivery while the campaign runs starts nothing", func(t *testing.T) {
		s.env.Advance(45 * time.Minute)
		if again := s.deliver(t, ev); again.Outcome != publish.OutcomeDuplicate {
			t.Fatalf("duplicate: %+v", again)
		}
	})
	end := s.awaitEnd(t, res.ExecutionARN)
	if end.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("campaign %s: %s", end.Status, aws.ToString(end.Cause))
	}
	runs := s.executions(t, s.rolloutSM)
	if len(runs) != 4 || len(s.executions(t, s.campaignSM)) != 1 {
		t.Fatalf("%d rollouts, %d campaigns", len(runs), len(s.executions(t, s.campaignSM)))
	}
	t.Run("a late delivery after the campaign ended starts nothing", func(t *testing.T) {
		if late := s.deliver(t, ev); late.Outcome != publish.OutcomeDuplicate {
			t.Fatalf("late: %+v", late)
		}
		if len(s.executions(t, s.rolloutSM)) != 4 || len(s.executions(t, s.campaignSM)) != 1 {
			t.Fatal("a late delivery started something")
		}
	})
	t.Run("at most two groups were in flight at once", func(t *testing.T) {
		for _, a := range runs {
			inFlight := 0
			for _, b := range runs {
				if !b.StartDate.After(*a.StartDate) && b.StopDate.After(*a.StartDate) {
					inFlight++
				}
			}
			if inFlight > 2 {
				t.Fatalf("%d rollouts in flight when %s started", inFlight, aws.ToString(a.Name))
			}
		}
	})
}

func TestAnImageParameterChangeStartsACampaign(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	s.fleet(t, map[string]string{"web-a": "0"})
	img := ownImage(t, s.env, "web-3", "x86_64", approved())
	putImageParameter(t, s.env, "/phoenix/web/ami", img, false)
	ev := lastEvent(t, s.env, publish.DetailTypeParameter, "/phoenix/web/ami")
	res := s.deliver(t, ev)
	if res.Outcome != publish.OutcomeStarted || res.Image.ID() != img || res.Image.Kind != publish.KindParameter {
		t.Fatalf("result %+v", res)
	}
	if end := s.awaitEnd(t, res.ExecutionARN); end.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("campaign %s", end.Status)
	}
}

func TestBadInputsOnTheLocalCloudAreRejectedAndChangeNothing(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	s.fleet(t, map[string]string{"web-a": "0"})
	ctx := context.Background()
	amiEvent := func(id, region string) []byte {
		return []byte(`{"version":"0","id":"bad-` + id + `","detail-type":"EC2 AMI State Change","source":"aws.ec2","account":"123456789012",` +
			`"time":"2026-03-02T09:00:00Z","region":"` + region + `","resources":[],"detail":{"ImageId":"` + id + `","State":"available"}}`)
	}
	foreignImg, err := s.env.Cloud.World.AddImage(region, sim.ImageSpec{Name: "theirs", OwnerID: foreign, Tags: approved(), Available: true})
	if err != nil {
		t.Fatal(err)
	}
	untagged := ownImage(t, s.env, "untagged", "x86_64", map[string]string{"phoenix:role": "web"})
	arm := ownImage(t, s.env, "web-arm", "arm64", approved())
	gone := ownImage(t, s.env, "gone", "x86_64", approved())
	if _, err := s.env.EC2.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(gone)}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		raw  []byte
		code string
	}{
		{"malformed JSON", []byte(`{"version":"0","id":`), publish.CodeMalformed},
		{"missing fields", []byte(`{"version":"0","id":"x","detail-type":"EC2 AMI State Change","source":"aws.ec2","detail":{}}`), publish.CodeMalformed},
		{"an unknown image", amiEvent("ami-0ffffffffffffffff", region), publish.CodeUnknownImage},
		{"a foreign owner", amiEvent(foreignImg, region), publish.CodeForeignOwner},
		{"a missing required tag", amiEvent(untagged, region), publish.CodeMissingTag},
		{"a wrong architecture", amiEvent(arm, region), publish.CodeNoEligible},
		{"a deregistered image", amiEvent(gone, region), publish.CodeNotAvailable},
		{"another region", amiEvent(arm, "eu-west-1"), publish.CodeOtherRegion},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(s.env.Cloud.SNS.Messages(s.topic))
			res := s.deliverRaw(t, c.raw)
			if res.Outcome != publish.OutcomeRejected || res.Rejections[0].Code != c.code {
				t.Fatalf("result %s %+v, want %s", res.Outcome, res.Rejections, c.code)
			}
			msgs := s.env.Cloud.SNS.Messages(s.topic)
			if len(msgs) != before+1 || !strings.Contains(msgs[len(msgs)-1].Message, res.Rejections[0].Reason) {
				t.Fatalf("want one SNS notice with the reason, got %d new", len(msgs)-before)
			}
			if !strings.Contains(s.metrics.String(), `"Code":"`+c.code+`"`) {
				t.Fatalf("no ImagesRejected metric for %s:\n%s", c.code, s.metrics)
			}
			if len(s.executions(t, s.campaignSM)) != 0 {
				t.Fatal("a rejected event started a campaign")
			}
		})
	}
}

func TestAGroupMidRolloutWaitsAtItsTurnAndRollsWhenTheRolloutEnds(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	s.fleet(t, map[string]string{"canary": "0", "web-a": "1"})
	ctx := context.Background()
	busy := rollout.Rollout{ID: "nightly-recycle", Group: key("web-a"), Mode: rollout.ModeRecycle, Status: rollout.StatusRefreshing, StartedAt: s.env.Now()}
	if _, err := s.ledger.PutRollout(ctx, busy); err != nil {
		t.Fatal(err)
	}
	if err := s.ledger.AcquireLease(ctx, rollout.Lease{Group: key("web-a"), Owner: busy.ID, ExpiresAt: s.env.Now().Add(6 * time.Hour)}, s.env.Now()); err != nil {
		t.Fatal(err)
	}
	img := ownImage(t, s.env, "web-4", "x86_64", approved())
	res := s.deliver(t, lastEvent(t, s.env, publish.DetailTypeAMI, img))
	actions := map[string]publish.Action{}
	for _, g := range res.Groups {
		actions[g.Group.Name] = g.Action
	}
	if res.Outcome != publish.OutcomeStarted || actions["web-a"] != publish.ActionQueue || actions["canary"] != publish.ActionRoll {
		t.Fatalf("result %s %v", res.Outcome, actions)
	}
	// The canary finalizes after 30 minutes; web-a's turn then waits.
	s.env.Advance(2 * time.Hour)
	if _, ok := s.executions(t, s.rolloutSM)[publish.RolloutName(res.EventID, key("web-a"))]; ok {
		t.Fatal("web-a's rollout started while another rollout held the group")
	}
	released := s.env.Now()
	if err := s.ledger.ReleaseLease(ctx, key("web-a"), busy.ID); err != nil {
		t.Fatal(err)
	}
	if end := s.awaitEnd(t, res.ExecutionARN); end.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("campaign %s: %s", end.Status, aws.ToString(end.Cause))
	}
	run, ok := s.executions(t, s.rolloutSM)[publish.RolloutName(res.EventID, key("web-a"))]
	if !ok || run.StartDate.Before(released) {
		t.Fatalf("web-a's rollout %+v did not start after the group was released at %s", run, released)
	}
	if !strings.Contains(s.logs.String(), `"action":"wait"`) {
		t.Error("the gate never logged a wait")
	}
}
