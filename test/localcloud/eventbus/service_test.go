package eventbus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
)

// EventsAPI is the slice of the EventBridge client the tests use. Both the
// model and the real SDK client satisfy it, so the rule tests run over the
// wire too.
type EventsAPI interface {
	PutRule(context.Context, *eventbridge.PutRuleInput, ...func(*eventbridge.Options)) (*eventbridge.PutRuleOutput, error)
	DescribeRule(context.Context, *eventbridge.DescribeRuleInput, ...func(*eventbridge.Options)) (*eventbridge.DescribeRuleOutput, error)
	ListRules(context.Context, *eventbridge.ListRulesInput, ...func(*eventbridge.Options)) (*eventbridge.ListRulesOutput, error)
	EnableRule(context.Context, *eventbridge.EnableRuleInput, ...func(*eventbridge.Options)) (*eventbridge.EnableRuleOutput, error)
	DisableRule(context.Context, *eventbridge.DisableRuleInput, ...func(*eventbridge.Options)) (*eventbridge.DisableRuleOutput, error)
	DeleteRule(context.Context, *eventbridge.DeleteRuleInput, ...func(*eventbridge.Options)) (*eventbridge.DeleteRuleOutput, error)
	PutTargets(context.Context, *eventbridge.PutTargetsInput, ...func(*eventbridge.Options)) (*eventbridge.PutTargetsOutput, error)
	RemoveTargets(context.Context, *eventbridge.RemoveTargetsInput, ...func(*eventbridge.Options)) (*eventbridge.RemoveTargetsOutput, error)
	ListTargetsByRule(context.Context, *eventbridge.ListTargetsByRuleInput, ...func(*eventbridge.Options)) (*eventbridge.ListTargetsByRuleOutput, error)
	PutEvents(context.Context, *eventbridge.PutEventsInput, ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
	TestEventPattern(context.Context, *eventbridge.TestEventPatternInput, ...func(*eventbridge.Options)) (*eventbridge.TestEventPatternOutput, error)
}

var (
	_ EventsAPI = (*eventbridge.Client)(nil)
	_ EventsAPI = (*EventBridge)(nil)
)

const (
	lambdaARN = "arn:aws:lambda:us-east-1:123456789012:function:phoenix-start"
	sfnARN    = "arn:aws:states:us-east-1:123456789012:stateMachine:phoenix"
	roleARN   = "arn:aws:iam::123456789012:role/events-invoke"
)

// harness is one TestCloud with a client for the default region.
type harness struct {
	clk *clock.Sim
	// rec and eb are nil over HTTP; only in-process tests use them.
	rec *Recorder
	eb  *EventBridge
	api EventsAPI
	ctx context.Context
	// client gives a client for another region of the same cloud; pass
	// it a context for that region too.
	client func(region string) EventsAPI
}

// newHarness starts a TestCloud from backend, seeded with seed.
func newHarness(t *testing.T, backend Backend, seed uint64) *harness {
	t.Helper()
	tc := backend(t, seed)
	return &harness{clk: tc.Clock, rec: tc.Recorder, eb: tc.Model, api: tc.Client(api.DefaultRegion), ctx: context.Background(), client: tc.Client}
}

func (h *harness) putRule(t *testing.T, in *eventbridge.PutRuleInput) string {
	t.Helper()
	out, err := h.api.PutRule(h.ctx, in)
	if err != nil {
		t.Fatalf("PutRule %s: %v", aws.ToString(in.Name), err)
	}
	return aws.ToString(out.RuleArn)
}

func (h *harness) putTargets(t *testing.T, rule string, targets ...types.Target) {
	t.Helper()
	out, err := h.api.PutTargets(h.ctx, &eventbridge.PutTargetsInput{Rule: aws.String(rule), Targets: targets})
	if err != nil {
		t.Fatalf("PutTargets %s: %v", rule, err)
	}
	if out.FailedEntryCount != 0 {
		t.Fatalf("PutTargets %s: failed entries %+v", rule, out.FailedEntries)
	}
}

func (h *harness) putEvent(t *testing.T, source, detailType, detail string) string {
	t.Helper()
	out, err := h.api.PutEvents(h.ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{{
		Source: aws.String(source), DetailType: aws.String(detailType), Detail: aws.String(detail),
		Resources: []string{"arn:aws:ec2:us-east-1:123456789012:image/ami-1"},
	}}})
	if err != nil {
		t.Fatalf("PutEvents: %v", err)
	}
	if out.FailedEntryCount != 0 {
		t.Fatalf("PutEvents failed: %s", aws.ToString(out.Entries[0].ErrorMessage))
	}
	return aws.ToString(out.Entries[0].EventId)
}

func lambdaTarget(id string) types.Target {
	return types.Target{Id: aws.String(id), Arn: aws.String(lambdaARN)}
}

func wantAPIError(t *testing.T, err error, code, msgPart string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v, want an API error %s", err, code)
	}
	if ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), msgPart) {
		t.Fatalf("error = %s: %s, want %s containing %q", ae.ErrorCode(), ae.ErrorMessage(), code, msgPart)
	}
}

func testPutRuleCreatesARuleDescribeRuleReturns(t *testing.T, backend Backend) {
	t.Parallel()
	h := newHarness(t, backend, 1)
	ctx := api.WithRequest(h.ctx, api.Request{Region: "eu-west-1"})
	euWest := h.client("eu-west-1")
	out, err := euWest.PutRule(ctx, &eventbridge.PutRuleInput{
		Name: aws.String("new-image"), EventPattern: aws.String(`{"source":["aws.imagebuilder"]}`), Description: aws.String("starts a rollout"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "arn:aws:events:eu-west-1:123456789012:rule/new-image"; aws.ToString(out.RuleArn) != want {
		t.Errorf("RuleArn = %s, want %s", aws.ToString(out.RuleArn), want)
	}
	d, err := euWest.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("new-image")})
	if err != nil {
		t.Fatal(err)
	}
	if d.State != types.RuleStateEnabled || aws.ToString(d.EventBusName) != "default" || aws.ToString(d.Description) != "starts a rollout" ||
		aws.ToString(d.EventPattern) != `{"source":["aws.imagebuilder"]}` || aws.ToString(d.CreatedBy) != "123456789012" {
		t.Errorf("DescribeRule = %+v", d)
	}
	if _, err := h.api.DescribeRule(h.ctx, &eventbridge.DescribeRuleInput{Name: aws.String("new-image")}); err == nil {
		t.Error("the rule is visible from another region, want it regional")
	}
}

func testPutRuleRefusesBadInputWithEventBridgesErrors(t *testing.T, backend Backend) {
	t.Parallel()
	cases := []struct {
		name string
		in   *eventbridge.PutRuleInput
		code string
		msg  string
	}{
		{"a name is required", &eventbridge.PutRuleInput{EventPattern: aws.String(`{"source":["a"]}`)}, "ValidationException", "Member must not be null"},
		{"names use letters, digits, dot, dash and underscore", &eventbridge.PutRuleInput{Name: aws.String("a b"), EventPattern: aws.String(`{"source":["a"]}`)}, "ValidationException", "regular expression pattern"},
		{"names have at most 64 characters", &eventbridge.PutRuleInput{Name: aws.String(strings.Repeat("a", 65)), EventPattern: aws.String(`{"source":["a"]}`)}, "ValidationException", "length between 1 and 64"},
		{"a pattern or a schedule is required", &eventbridge.PutRuleInput{Name: aws.String("r")}, "ValidationException", "Parameter(s) EventPattern or ScheduleExpression must be specified."},
		{"a bad pattern is an InvalidEventPatternException", &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(`{"source":"a"}`)}, "InvalidEventPatternException", `Event pattern is not valid. Reason: "source" must be an object or an array`},
		{"a bad schedule is a ValidationException", &eventbridge.PutRuleInput{Name: aws.String("r"), ScheduleExpression: aws.String("rate(1 minutes)")}, "ValidationException", "Parameter ScheduleExpression is not valid."},
		{"the state must be a known value", &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(`{"source":["a"]}`), State: "ON"}, "ValidationException", "enum value set"},
		{"only the default bus exists", &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(`{"source":["a"]}`), EventBusName: aws.String("custom")}, "ResourceNotFoundException", "Event bus custom does not exist."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := newHarness(t, backend, 1).api.PutRule(context.Background(), tc.in)
			wantAPIError(t, err, tc.code, tc.msg)
		})
	}
}

func testPutRuleOnAnExistingRuleReplacesItButKeepsTargets(t *testing.T, backend Backend) {
	t.Parallel()
	h := newHarness(t, backend, 1)
	h.putRule(t, &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(`{"source":["a"]}`), Description: aws.String("old")})
	h.putTargets(t, "r", lambdaTarget("t1"))
	h.putRule(t, &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(`{"source":["b"]}`)})
	d, err := h.api.DescribeRule(h.ctx, &eventbridge.DescribeRuleInput{Name: aws.String("r")})
	if err != nil {
		t.Fatal(err)
	}
	if d.Description != nil || aws.ToString(d.EventPattern) != `{"source":["b"]}` {
		t.Errorf("after the second PutRule: description %v, pattern %s; want no description and the new pattern", d.Description, aws.ToString(d.EventPattern))
	}
	lt, err := h.api.ListTargetsByRule(h.ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String("r")})
	if err != nil || len(lt.Targets) != 1 {
		t.Errorf("targets after replacing the rule = %v, %v; want the one target kept", lt, err)
	}
}

func testListRulesFiltersByPrefixAndPaginates(t *testing.T, backend Backend) {
	t.Parallel()
	h := newHarness(t, backend, 1)
	for _, n := range []string{"phoenix-c", "phoenix-a", "other", "phoenix-b", "phoenix-d"} {
		h.putRule(t, &eventbridge.PutRuleInput{Name: aws.String(n), EventPattern: aws.String(`{"source":["a"]}`)})
	}
	var names []string
	var token *string
	pages := 0
	for {
		out, err := h.api.ListRules(h.ctx, &eventbridge.ListRulesInput{NamePrefix: aws.String("phoenix-"), Limit: aws.Int32(3), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range out.Rules {
			names = append(names, aws.ToString(r.Name))
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	if got := strings.Join(names, ","); got != "phoenix-a,phoenix-b,phoenix-c,phoenix-d" || pages != 2 {
		t.Errorf("listed %s in %d pages, want the four phoenix- rules in name order in 2 pages", got, pages)
	}
	_, err := h.api.ListRules(h.ctx, &eventbridge.ListRulesInput{NextToken: aws.String("garbage!")})
	wantAPIError(t, err, "InvalidToken", "token")
	_, err = h.api.ListRules(h.ctx, &eventbridge.ListRulesInput{Limit: aws.Int32(101)})
	wantAPIError(t, err, "ValidationException", "limit")
}

func testDeleteRuleIsRefusedWhileTheRuleHasTargets(t *testing.T, backend Backend) {
	t.Parallel()
	h := newHarness(t, backend, 1)
	h.putRule(t, &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(`{"source":["a"]}`)})
	h.putTargets(t, "r", lambdaTarget("t1"))
	_, err := h.api.DeleteRule(h.ctx, &eventbridge.DeleteRuleInput{Name: aws.String("r")})
	wantAPIError(t, err, "ValidationException", "Rule can't be deleted since it has targets.")
	if _, err := h.api.RemoveTargets(h.ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String("r"), Ids: []string{"t1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.api.DeleteRule(h.ctx, &eventbridge.DeleteRuleInput{Name: aws.String("r")}); err != nil {
		t.Fatalf("DeleteRule after RemoveTargets: %v", err)
	}
	_, err = h.api.DescribeRule(h.ctx, &eventbridge.DescribeRuleInput{Name: aws.String("r")})
	wantAPIError(t, err, "ResourceNotFoundException", "Rule r does not exist on EventBus default.")
	if _, err := h.api.DeleteRule(h.ctx, &eventbridge.DeleteRuleInput{Name: aws.String("r")}); err != nil {
		t.Errorf("deleting a rule that does not exist: %v, want success", err)
	}
}

func testPutTargetsValidatesTargetsAsEventBridgeDoes(t *testing.T, backend Backend) {
	t.Parallel()
	tooMany := func(n int) []types.Target {
		var ts []types.Target
		for i := 0; i < n; i++ {
			ts = append(ts, lambdaTarget(fmt.Sprintf("t%d", i)))
		}
		return ts
	}
	cases := []struct {
		name    string
		targets []types.Target
		code    string
		msg     string
	}{
		{"a Step Functions target needs a role", []types.Target{{Id: aws.String("sfn"), Arn: aws.String(sfnARN)}}, "ValidationException", "RoleArn is required for target " + sfnARN + "."},
		{"a constant input must be JSON", []types.Target{{Id: aws.String("t"), Arn: aws.String(lambdaARN), Input: aws.String("{nope")}}, "ValidationException", "Input for target t is not a valid JSON text."},
		{"input settings are mutually exclusive", []types.Target{{Id: aws.String("t"), Arn: aws.String(lambdaARN), Input: aws.String("{}"), InputPath: aws.String("$.detail")}}, "ValidationException", "Only one of Input, InputPath, or InputTransformer"},
		{"an input path must be a JSON path", []types.Target{{Id: aws.String("t"), Arn: aws.String(lambdaARN), InputPath: aws.String("detail")}}, "ValidationException", "InputPath for target t"},
		{"an input transformer needs a template", []types.Target{{Id: aws.String("t"), Arn: aws.String(lambdaARN), InputTransformer: &types.InputTransformer{}}}, "ValidationException", "inputTemplate"},
		{"an ARN must look like an ARN", []types.Target{{Id: aws.String("t"), Arn: aws.String("lambda-function")}}, "ValidationException", "Provided Arn is not in correct format."},
		{"target ids follow the name pattern", []types.Target{{Id: aws.String("a/b"), Arn: aws.String(lambdaARN)}}, "ValidationException", "regular expression pattern"},
		{"retry attempts are at most 185", []types.Target{{Id: aws.String("t"), Arn: aws.String(lambdaARN), RetryPolicy: &types.RetryPolicy{MaximumRetryAttempts: aws.Int32(186)}}}, "ValidationException", "between 0 and 185"},
		{"the event age is at least 60 seconds", []types.Target{{Id: aws.String("t"), Arn: aws.String(lambdaARN), RetryPolicy: &types.RetryPolicy{MaximumEventAgeInSeconds: aws.Int32(59)}}}, "ValidationException", "between 60 and 86400"},
		{"a call carries at most 10 targets", tooMany(11), "ValidationException", "length between 1 and 10"},
		{"a rule has at most 5 targets", tooMany(6), "LimitExceededException", "The requested resource exceeds the maximum number allowed."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, backend, 1)
			h.putRule(t, &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(`{"source":["a"]}`)})
			_, err := h.api.PutTargets(h.ctx, &eventbridge.PutTargetsInput{Rule: aws.String("r"), Targets: tc.targets})
			wantAPIError(t, err, tc.code, tc.msg)
		})
	}
	t.Run("a target on a missing rule is a ResourceNotFoundException", func(t *testing.T) {
		t.Parallel()
		_, err := newHarness(t, backend, 1).api.PutTargets(context.Background(), &eventbridge.PutTargetsInput{Rule: aws.String("nope"), Targets: []types.Target{lambdaTarget("t")}})
		wantAPIError(t, err, "ResourceNotFoundException", "Rule nope does not exist")
	})
}

func testPutTargetsReportsTargetsTheLocalCloudCannotReachPerEntry(t *testing.T, backend Backend) {
	t.Parallel()
	h := newHarness(t, backend, 1)
	h.putRule(t, &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(`{"source":["a"]}`)})
	out, err := h.api.PutTargets(h.ctx, &eventbridge.PutTargetsInput{Rule: aws.String("r"), Targets: []types.Target{
		lambdaTarget("ok"),
		{Id: aws.String("queue"), Arn: aws.String("arn:aws:sqs:us-east-1:123456789012:q")},
		{Id: aws.String("sfn"), Arn: aws.String(sfnARN), RoleArn: aws.String(roleARN)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if out.FailedEntryCount != 1 || aws.ToString(out.FailedEntries[0].TargetId) != "queue" || aws.ToString(out.FailedEntries[0].ErrorCode) != "UnsupportedTarget" {
		t.Errorf("FailedEntries = %+v, want only the SQS target", out.FailedEntries)
	}
	lt, err := h.api.ListTargetsByRule(h.ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String("r"), Limit: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	if len(lt.Targets) != 1 || aws.ToString(lt.Targets[0].Id) != "ok" || lt.NextToken == nil {
		t.Fatalf("first page = %+v, want target ok and a token", lt)
	}
	lt, err = h.api.ListTargetsByRule(h.ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String("r"), Limit: aws.Int32(1), NextToken: lt.NextToken})
	if err != nil || len(lt.Targets) != 1 || aws.ToString(lt.Targets[0].Id) != "sfn" || lt.NextToken != nil {
		t.Errorf("second page = %+v, %v; want target sfn and no token", lt, err)
	}
}

func testPutEventsAnswersEachEntry(t *testing.T, backend Backend) {
	t.Parallel()
	h := newHarness(t, backend, 1)
	entry := func(source, detailType, detail string) types.PutEventsRequestEntry {
		e := types.PutEventsRequestEntry{}
		if source != "" {
			e.Source = aws.String(source)
		}
		if detailType != "" {
			e.DetailType = aws.String(detailType)
		}
		if detail != "" {
			e.Detail = aws.String(detail)
		}
		return e
	}
	out, err := h.api.PutEvents(h.ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{
		entry("phoenix.test", "Thing", `{"a":1}`),
		entry("", "Thing", `{}`),
		entry("phoenix.test", "", `{}`),
		entry("phoenix.test", "Thing", ""),
		entry("phoenix.test", "Thing", `[1]`),
		entry("phoenix.test", "Thing", `{"a":`),
		entry("aws.ec2", "Thing", `{}`),
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"", "InvalidArgument", "InvalidArgument", "InvalidArgument", "MalformedDetail", "MalformedDetail", "NotAuthorizedForSourceException"}
	for i, e := range out.Entries {
		if aws.ToString(e.ErrorCode) != want[i] {
			t.Errorf("entry %d: code %q (%s), want %q", i, aws.ToString(e.ErrorCode), aws.ToString(e.ErrorMessage), want[i])
		}
	}
	if out.FailedEntryCount != 6 || aws.ToString(out.Entries[0].EventId) == "" {
		t.Errorf("FailedEntryCount = %d, first id %q; want 6 failures and an id for the good entry", out.FailedEntryCount, aws.ToString(out.Entries[0].EventId))
	}
	if msg := aws.ToString(out.Entries[1].ErrorMessage); msg != "Parameter Source is not valid. Reason: Source is a required argument." {
		t.Errorf("missing source message = %q", msg)
	}
}

func testPutEventsEnforcesTheEntryCountAndSizeLimits(t *testing.T, backend Backend) {
	t.Parallel()
	h := newHarness(t, backend, 1)
	e := types.PutEventsRequestEntry{Source: aws.String("s"), DetailType: aws.String("d"), Detail: aws.String("{}")}
	eleven := make([]types.PutEventsRequestEntry, 11)
	for i := range eleven {
		eleven[i] = e
	}
	_, err := h.api.PutEvents(h.ctx, &eventbridge.PutEventsInput{Entries: eleven})
	wantAPIError(t, err, "ValidationException", "length between 1 and 10")

	big := `{"pad":"` + strings.Repeat("x", 256*1024) + `"}`
	_, err = h.api.PutEvents(h.ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{{Source: aws.String("s"), DetailType: aws.String("d"), Detail: aws.String(big)}}})
	wantAPIError(t, err, "ValidationException", "Total size of the entries in the request is over the limit.")

	// Just under the limit, counted as the user guide says (source,
	// detail-type, detail, resources, 14 bytes for a time).
	fits := `{"p":"` + strings.Repeat("x", 256*1024-8-2-14-len("r")) + `"}`
	now := h.clk.Now()
	out, err := h.api.PutEvents(h.ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{{Source: aws.String("s"), DetailType: aws.String("d"), Detail: aws.String(fits), Time: &now, Resources: []string{"r"}}}})
	if err != nil || out.FailedEntryCount != 0 {
		t.Errorf("an entry of exactly 256 KiB: %v, %+v; want it accepted", err, out)
	}
}

func TestEventsAreDeliveredOnTheClockNotInlineInTheDocumentedEnvelope(t *testing.T) {
	t.Parallel()
	h := newHarness(t, InProcess, 1)
	h.putRule(t, &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(`{"source":["phoenix.test"],"detail":{"n":[{"numeric":[">",1]}]}}`)})
	h.putTargets(t, "r", lambdaTarget("t"))
	id := h.putEvent(t, "phoenix.test", "Thing Happened", `{"n": 2}`)
	h.putEvent(t, "phoenix.test", "Thing Happened", `{"n": 1}`)
	if n := len(h.rec.Calls()); n != 0 {
		t.Fatalf("%d deliveries inside PutEvents, want none before the clock moves", n)
	}
	h.clk.Advance(99 * time.Millisecond)
	if n := len(h.rec.Calls()); n != 0 {
		t.Fatalf("%d deliveries before the bus latency, want none", n)
	}
	h.clk.Advance(time.Millisecond)
	calls := h.rec.Calls()
	if len(calls) != 1 || calls[0].ARN != lambdaARN {
		t.Fatalf("calls = %+v, want one delivery to the Lambda", calls)
	}
	var env map[string]any
	if err := json.Unmarshal(calls[0].Input, &env); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"version": "0", "id": id, "detail-type": "Thing Happened", "source": "phoenix.test", "account": "123456789012",
		"time": "2026-01-05T09:00:00Z", "region": "us-east-1",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("envelope %s = %v, want %v", k, env[k], v)
		}
	}
	if res, _ := env["resources"].([]any); len(res) != 1 {
		t.Errorf("envelope resources = %v, want the entry's resources", env["resources"])
	}
	if d, _ := env["detail"].(map[string]any); d["n"] != float64(2) {
		t.Errorf("envelope detail = %v, want the entry's detail", env["detail"])
	}
	if !strings.HasPrefix(string(calls[0].Input), `{"version":"0","id":`) {
		t.Errorf("envelope field order: %s", calls[0].Input)
	}
}

func TestTargetsReceiveTheInputTheyAskFor(t *testing.T) {
	t.Parallel()
	h := newHarness(t, InProcess, 1)
	h.putRule(t, &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(`{"source":["phoenix.test"]}`)})
	h.putTargets(t, "r",
		types.Target{Id: aws.String("constant"), Arn: aws.String(lambdaARN + ":1"), Input: aws.String(`{"mode":"nightly"}`)},
		types.Target{Id: aws.String("path"), Arn: aws.String(lambdaARN + ":2"), InputPath: aws.String("$.detail.image")},
		types.Target{Id: aws.String("transform"), Arn: aws.String(sfnARN), RoleArn: aws.String(roleARN), InputTransformer: &types.InputTransformer{
			InputPathsMap: map[string]string{"image": "$.detail.image"},
			InputTemplate: aws.String(`{"image": <image>, "rule": <aws.events.rule-name>}`),
		}},
	)
	h.putEvent(t, "phoenix.test", "Image Ready", `{"image": "ami-123"}`)
	h.clk.Advance(time.Second)
	got := map[string]string{}
	for _, c := range h.rec.Calls() {
		got[c.ARN] = string(c.Input)
	}
	want := map[string]string{
		lambdaARN + ":1": `{"mode":"nightly"}`,
		lambdaARN + ":2": `"ami-123"`,
		sfnARN:           `{"image":"ami-123","rule":"r"}`,
	}
	for arn, in := range want {
		if got[arn] != in {
			t.Errorf("%s received %s, want %s", arn, got[arn], in)
		}
	}
}

func TestDisabledRulesMatchNothingUntilEnabled(t *testing.T) {
	t.Parallel()
	h := newHarness(t, InProcess, 1)
	h.putRule(t, &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(`{"source":["phoenix.test"]}`), State: types.RuleStateDisabled})
	h.putTargets(t, "r", lambdaTarget("t"))
	h.putEvent(t, "phoenix.test", "x", `{}`)
	h.clk.Advance(time.Second)
	if n := len(h.rec.Calls()); n != 0 {
		t.Fatalf("a disabled rule delivered %d events", n)
	}
	if _, err := h.api.EnableRule(h.ctx, &eventbridge.EnableRuleInput{Name: aws.String("r")}); err != nil {
		t.Fatal(err)
	}
	h.putEvent(t, "phoenix.test", "x", `{}`)
	h.clk.Advance(time.Second)
	if n := len(h.rec.Calls()); n != 1 {
		t.Errorf("after EnableRule: %d deliveries, want 1", n)
	}
	_, err := h.api.DisableRule(h.ctx, &eventbridge.DisableRuleInput{Name: aws.String("missing")})
	wantAPIError(t, err, "ResourceNotFoundException", "Rule missing does not exist")
}

func TestServiceEventsFlowThroughTheBusOfTheirRegion(t *testing.T) {
	t.Parallel()
	h := newHarness(t, InProcess, 1)
	west := api.WithRequest(h.ctx, api.Request{Region: "us-west-2"})
	if _, err := h.api.PutRule(west, &eventbridge.PutRuleInput{Name: aws.String("refresh"), EventPattern: aws.String(`{"source":["aws.autoscaling"],"detail-type":[{"prefix":"EC2 Auto Scaling Instance Refresh"}]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.api.PutTargets(west, &eventbridge.PutTargetsInput{Rule: aws.String("refresh"), Targets: []types.Target{lambdaTarget("t")}}); err != nil {
		t.Fatal(err)
	}
	ev := ServiceEvent{Source: "aws.autoscaling", DetailType: "EC2 Auto Scaling Instance Refresh Succeeded", Detail: json.RawMessage(`{"InstanceRefreshId":"r-1","AutoScalingGroupName":"web"}`)}
	ev.Region = "us-east-1"
	h.eb.Publish(ev)
	ev.Region = "us-west-2"
	h.eb.Publish(ev)
	h.clk.Advance(time.Second)
	calls := h.rec.Calls()
	if len(calls) != 1 || !strings.Contains(string(calls[0].Input), `"region":"us-west-2"`) {
		t.Errorf("calls = %s, want only the us-west-2 event", calls)
	}
}

func testTestEventPatternMatchesAndValidates(t *testing.T, backend Backend) {
	t.Parallel()
	h := newHarness(t, backend, 1)
	out, err := h.api.TestEventPattern(h.ctx, &eventbridge.TestEventPatternInput{EventPattern: aws.String(`{"detail":{"state":["running"]}}`), Event: aws.String(ec2Event)})
	if err != nil || !out.Result {
		t.Errorf("TestEventPattern = %v, %v; want a match", out, err)
	}
	out, err = h.api.TestEventPattern(h.ctx, &eventbridge.TestEventPatternInput{EventPattern: aws.String(`{"detail":{"state":["stopped"]}}`), Event: aws.String(ec2Event)})
	if err != nil || out.Result {
		t.Errorf("TestEventPattern = %v, %v; want no match", out, err)
	}
	_, err = h.api.TestEventPattern(h.ctx, &eventbridge.TestEventPatternInput{EventPattern: aws.String(`{"detail":{}}`), Event: aws.String(ec2Event)})
	wantAPIError(t, err, "InvalidEventPatternException", "Empty objects are not allowed")
	_, err = h.api.TestEventPattern(h.ctx, &eventbridge.TestEventPatternInput{EventPattern: aws.String(`{"source":["a"]}`), Event: aws.String(`{"source":"a"}`)})
	wantAPIError(t, err, "ValidationException", "Parameter Event is not valid.")
}

// failing returns a FailWith function that fails the first n calls.
func failing(n int, err error) func(string, int) error {
	return func(_ string, call int) error {
		if call <= n {
			return err
		}
		return nil
	}
}

func TestFailedDeliveriesAreRetriedWithBackoffUntilDelivered(t *testing.T) {
	t.Parallel()
	h := newHarness(t, InProcess, 7)
	h.rec.FailWith(failing(2, errors.New("throttled")))
	h.putRule(t, &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(`{"source":["phoenix.test"]}`)})
	h.putTargets(t, "r", lambdaTarget("t"))
	h.putEvent(t, "phoenix.test", "x", `{}`)
	if !h.clk.RunUntil(time.Hour, func() bool { return len(h.rec.Calls()) == 3 }) {
		t.Fatalf("only %d calls within an hour, want 3", len(h.rec.Calls()))
	}
	ds := h.eb.Deliveries()
	var outcomes []string
	for _, d := range ds {
		outcomes = append(outcomes, fmt.Sprintf("%d:%s", d.Attempt, d.Outcome))
	}
	if got := strings.Join(outcomes, " "); got != "1:retrying 2:retrying 3:delivered" {
		t.Errorf("outcomes = %s", got)
	}
	if gap := ds[1].At.Sub(ds[0].At); gap < 500*time.Millisecond || gap > time.Second {
		t.Errorf("first retry after %v, want between 0.5 s and 1 s", gap)
	}
	if gap := ds[2].At.Sub(ds[1].At); gap < time.Second || gap > 2*time.Second {
		t.Errorf("second retry after %v, want between 1 s and 2 s", gap)
	}
}

func TestRetryPolicyBoundsAttemptsAndEventAge(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		policy    *types.RetryPolicy
		err       error
		attempts  int
		outcome   Outcome
		withinAge time.Duration
	}{
		{"zero retries means a single attempt", &types.RetryPolicy{MaximumRetryAttempts: aws.Int32(0)}, errors.New("boom"), 1, Exhausted, time.Minute},
		{"three retries mean four attempts", &types.RetryPolicy{MaximumRetryAttempts: aws.Int32(3)}, errors.New("boom"), 4, Exhausted, time.Minute},
		{"a missing resource is not retried", nil, &api.Error{Code: "ResourceNotFoundException", Message: "Function not found"}, 1, Rejected, time.Minute},
		{"a permanent error is not retried", nil, Permanent(errors.New("bad")), 1, Rejected, time.Minute},
		{"the event age stops retries", &types.RetryPolicy{MaximumEventAgeInSeconds: aws.Int32(60)}, errors.New("boom"), 7, Exhausted, time.Minute},
		{"by default retries stop within 24 hours and 185 retries", nil, errors.New("boom"), 0, Exhausted, 24 * time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, InProcess, 3)
			h.rec.FailWith(func(string, int) error { return tc.err })
			h.putRule(t, &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(`{"source":["phoenix.test"]}`)})
			tgt := lambdaTarget("t")
			tgt.RetryPolicy = tc.policy
			tgt.DeadLetterConfig = &types.DeadLetterConfig{Arn: aws.String("arn:aws:sqs:us-east-1:123456789012:dlq")}
			h.putTargets(t, "r", tgt)
			start := h.clk.Now()
			h.putEvent(t, "phoenix.test", "x", `{}`)
			h.clk.Advance(48 * time.Hour)
			ds := h.eb.Deliveries()
			last := ds[len(ds)-1]
			if last.Outcome != tc.outcome || last.DeadLetterARN == "" {
				t.Errorf("final outcome %s (dead letter %q), want %s to the dead-letter queue", last.Outcome, last.DeadLetterARN, tc.outcome)
			}
			if tc.attempts > 0 && len(ds) != tc.attempts {
				t.Errorf("%d attempts, want %d", len(ds), tc.attempts)
			}
			if len(ds) > 186 || last.At.Sub(start) > tc.withinAge+time.Second {
				t.Errorf("%d attempts over %v, want at most 186 within %v", len(ds), last.At.Sub(start), tc.withinAge)
			}
		})
	}
}

func TestChaosSwitchDuplicatesDelaysAndDropsDeliveries(t *testing.T) {
	t.Parallel()
	run := func(t *testing.T, seed uint64, rule string, c Chaos) *harness {
		t.Helper()
		h := newHarness(t, InProcess, seed)
		for _, name := range []string{"a", "b"} {
			h.putRule(t, &eventbridge.PutRuleInput{Name: aws.String(name), EventPattern: aws.String(`{"source":["phoenix.test"]}`)})
			h.putTargets(t, name, types.Target{Id: aws.String("t"), Arn: aws.String(lambdaARN + ":" + name)})
		}
		if err := h.eb.SetChaos(rule, c); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 20; i++ {
			h.putEvent(t, "phoenix.test", "x", fmt.Sprintf(`{"i":%d}`, i))
		}
		h.clk.Advance(time.Hour)
		return h
	}
	count := func(h *harness, arn string) int {
		n := 0
		for _, c := range h.rec.Calls() {
			if c.ARN == arn {
				n++
			}
		}
		return n
	}
	t.Run("duplicate delivers every event twice to the chosen rule only", func(t *testing.T) {
		t.Parallel()
		h := run(t, 1, "a", Chaos{Duplicate: 1})
		if a, b := count(h, lambdaARN+":a"), count(h, lambdaARN+":b"); a != 40 || b != 20 {
			t.Errorf("deliveries a=%d b=%d, want 40 and 20", a, b)
		}
	})
	t.Run("drop delivers nothing and records the drops", func(t *testing.T) {
		t.Parallel()
		h := run(t, 1, "", Chaos{Drop: 1})
		dropped := 0
		for _, d := range h.eb.Deliveries() {
			if d.Outcome == Dropped {
				dropped++
			}
		}
		if n := len(h.rec.Calls()); n != 0 || dropped != 40 {
			t.Errorf("%d calls and %d drops, want 0 and 40", n, dropped)
		}
	})
	t.Run("delay delivers late but within the bound", func(t *testing.T) {
		t.Parallel()
		h := run(t, 1, "", Chaos{Delay: 1, MaxDelay: 10 * time.Minute})
		start := clock.Epoch
		late := 0
		for _, d := range h.eb.Deliveries() {
			if d.At.Sub(start) > time.Second {
				late++
			}
			if d.At.Sub(start) > 10*time.Minute+time.Second {
				t.Errorf("delivery at %v, beyond the 10 minute bound", d.At)
			}
		}
		if late < 30 {
			t.Errorf("%d of 40 deliveries late, want nearly all", late)
		}
	})
	t.Run("the same seed gives the same deliveries", func(t *testing.T) {
		t.Parallel()
		c := Chaos{Drop: 0.3, Duplicate: 0.3, Delay: 0.3}
		x, y := run(t, 42, "", c).eb.Deliveries(), run(t, 42, "", c).eb.Deliveries()
		if fmt.Sprint(x) != fmt.Sprint(y) {
			t.Error("two runs with seed 42 differ")
		}
		if z := run(t, 43, "", c).eb.Deliveries(); fmt.Sprint(x) == fmt.Sprint(z) {
			t.Error("seeds 42 and 43 gave identical runs; the draws are not seeded")
		}
	})
	t.Run("probabilities outside [0, 1] are refused", func(t *testing.T) {
		t.Parallel()
		if err := newHarness(t, InProcess, 1).eb.SetChaos("", Chaos{Drop: 1.5}); err == nil {
			t.Error("SetChaos accepted a probability of 1.5")
		}
	})
}

func TestScheduledRulesFireOnTheClockWithAScheduledEvent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, InProcess, 1)
	arn := h.putRule(t, &eventbridge.PutRuleInput{Name: aws.String("nightly"), ScheduleExpression: aws.String("cron(0/15 * * * ? *)")})
	h.putTargets(t, "nightly", lambdaTarget("t"))
	h.clk.Advance(31 * time.Minute) // 09:00 -> 09:31: fires at 09:15 and 09:30
	calls := h.rec.Calls()
	if len(calls) != 2 {
		t.Fatalf("%d deliveries, want 2", len(calls))
	}
	var env struct {
		Source     string          `json:"source"`
		DetailType string          `json:"detail-type"`
		Time       string          `json:"time"`
		Resources  []string        `json:"resources"`
		Detail     json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal(calls[0].Input, &env); err != nil {
		t.Fatal(err)
	}
	if env.Source != "aws.events" || env.DetailType != "Scheduled Event" || env.Time != "2026-01-05T09:15:00Z" ||
		len(env.Resources) != 1 || env.Resources[0] != arn || string(env.Detail) != "{}" {
		t.Errorf("scheduled event = %+v", env)
	}
	ds := h.eb.Deliveries()
	if want := clock.Epoch.Add(15*time.Minute + 100*time.Millisecond); !ds[0].At.Equal(want) {
		t.Errorf("first delivery at %v, want %v", ds[0].At, want)
	}

	if _, err := h.api.DisableRule(h.ctx, &eventbridge.DisableRuleInput{Name: aws.String("nightly")}); err != nil {
		t.Fatal(err)
	}
	h.clk.Advance(time.Hour)
	if n := len(h.rec.Calls()); n != 2 {
		t.Errorf("a disabled schedule fired: %d deliveries, want still 2", n)
	}
}

func TestRateSchedulesCountFromWhenTheRuleWasCreated(t *testing.T) {
	t.Parallel()
	h := newHarness(t, InProcess, 1)
	h.clk.Advance(2 * time.Minute)
	h.putRule(t, &eventbridge.PutRuleInput{Name: aws.String("poll"), ScheduleExpression: aws.String("rate(5 minutes)")})
	h.putTargets(t, "poll", lambdaTarget("t"))
	h.clk.Advance(11 * time.Minute)
	var times []string
	for _, c := range h.rec.Calls() {
		var env struct {
			Time string `json:"time"`
		}
		if err := json.Unmarshal(c.Input, &env); err != nil {
			t.Fatal(err)
		}
		times = append(times, env.Time)
	}
	if got := strings.Join(times, " "); got != "2026-01-05T09:07:00Z 2026-01-05T09:12:00Z" {
		t.Errorf("fired at %s, want 09:07 and 09:12", got)
	}
}

func TestDeliveryCarriesTheRegionInItsContext(t *testing.T) {
	t.Parallel()
	clk := clock.NewStepped(time.Time{})
	var region string
	eb := New(Options{Clock: clk, Target: targetFunc(func(ctx context.Context, _ string, _ []byte) error {
		region = api.Region(ctx)
		return nil
	})})
	ctx := api.WithRequest(context.Background(), api.Request{Region: "ap-southeast-2"})
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(`{"source":["s"]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("r"), Targets: []types.Target{lambdaTarget("t")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{{Source: aws.String("s"), DetailType: aws.String("d"), Detail: aws.String("{}")}}}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	if region != "ap-southeast-2" {
		t.Errorf("Deliver saw region %q, want ap-southeast-2", region)
	}
}

type targetFunc func(ctx context.Context, arn string, input []byte) error

func (f targetFunc) Deliver(ctx context.Context, arn string, input []byte) error {
	return f(ctx, arn, input)
}
