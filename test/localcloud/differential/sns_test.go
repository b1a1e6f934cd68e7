package differential

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// SNS speaks awsQuery, which both sides serve: the unmodified SDK client.

func snsClient(c aws.Config) *sns.Client { return sns.NewFromConfig(c) }

const snsTopic = "arn:aws:sns:us-east-1:123456789012:alarms"

var snsUUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func snsAgree(t *testing.T, what string, lo, mo, want outcome) {
	t.Helper()
	if lo != want || mo != want {
		t.Errorf("%s: local %+v, moto %+v; want both %+v", what, lo, mo, want)
	}
}

func TestSNSTopics(t *testing.T) {
	p := newPair(t)
	ctx := context.Background()
	invalid := outcome{Code: "InvalidParameter", Status: 400}
	notFound := outcome{Code: "NotFound", Status: 404}
	create := func(in *sns.CreateTopicInput) (l, m *sns.CreateTopicOutput, lo, mo outcome) {
		return both(t, p, snsClient, func(c *sns.Client) (*sns.CreateTopicOutput, error) { return c.CreateTopic(ctx, in) })
	}
	// CreateTopic is idempotent: the same name, with the same attributes
	// or none, returns the same ARN.
	for i, in := range []*sns.CreateTopicInput{
		{Name: aws.String("alarms"), Attributes: map[string]string{"DisplayName": "Phoenix"}},
		{Name: aws.String("alarms"), Attributes: map[string]string{"DisplayName": "Phoenix"}},
		{Name: aws.String("alarms")},
	} {
		l, m, lo, mo := create(in)
		snsAgree(t, fmt.Sprintf("CreateTopic #%d", i+1), lo, mo, outcome{})
		if lo.Code == "" && (aws.ToString(l.TopicArn) != snsTopic || aws.ToString(m.TopicArn) != snsTopic) {
			t.Errorf("CreateTopic #%d: local %q, moto %q; want %q", i+1, aws.ToString(l.TopicArn), aws.ToString(m.TopicArn), snsTopic)
		}
	}
	// The same name with different attributes: SNS refuses it
	// (InvalidParameter "Topic already exists with different attributes");
	// moto returns the topic (documented divergence).
	_, _, lo, mo := create(&sns.CreateTopicInput{Name: aws.String("alarms"), Attributes: map[string]string{"DisplayName": "Other"}})
	if lo != invalid || mo != (outcome{}) {
		t.Errorf("CreateTopic with different attributes: local %+v, moto %+v; want local InvalidParameter/400, moto success", lo, mo)
	}
	_, _, lo, mo = create(&sns.CreateTopicInput{Name: aws.String("bad name!")})
	snsAgree(t, "CreateTopic bad name", lo, mo, invalid)
	_, _, lo, mo = create(&sns.CreateTopicInput{Name: aws.String("not-fifo"), Attributes: map[string]string{"FifoTopic": "true"}})
	snsAgree(t, "CreateTopic FIFO without .fifo", lo, mo, invalid)
	// An attribute CreateTopic does not know: refused by SNS, kept by moto.
	_, _, lo, mo = create(&sns.CreateTopicInput{Name: aws.String("bogus-attr"), Attributes: map[string]string{"Bogus": "1"}})
	if lo != invalid || mo != (outcome{}) {
		t.Errorf("CreateTopic unknown attribute: local %+v, moto %+v; want local InvalidParameter/400, moto success", lo, mo)
	}
	if _, err := snsClient(p.MotoConfig).DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: aws.String("arn:aws:sns:us-east-1:123456789012:bogus-attr")}); err != nil {
		t.Fatalf("moto DeleteTopic bogus-attr: %v", err)
	}

	attrs := func(arn string) (l, m *sns.GetTopicAttributesOutput, lo, mo outcome) {
		return both(t, p, snsClient, func(c *sns.Client) (*sns.GetTopicAttributesOutput, error) {
			return c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)})
		})
	}
	la, ma, lo, mo := attrs(snsTopic)
	snsAgree(t, "GetTopicAttributes", lo, mo, outcome{})
	if lo.Code == "" {
		// Both give these; EffectiveDeliveryPolicy differs in shape (moto's
		// lacks the "http" wrapper) and moto adds an empty DeliveryPolicy.
		for _, k := range []string{"TopicArn", "Owner", "DisplayName", "SubscriptionsConfirmed", "SubscriptionsPending", "SubscriptionsDeleted"} {
			if la.Attributes[k] != ma.Attributes[k] {
				t.Errorf("attribute %s: local %q, moto %q", k, la.Attributes[k], ma.Attributes[k])
			}
		}
		if la.Attributes["DisplayName"] != "Phoenix" || la.Attributes["TopicArn"] != snsTopic || la.Attributes["Owner"] != "123456789012" {
			t.Errorf("local attributes %v", la.Attributes)
		}
		if !strings.Contains(la.Attributes["Policy"], `"Resource":"`+snsTopic+`"`) || !strings.Contains(ma.Attributes["Policy"], `"Resource":"`+snsTopic+`"`) {
			t.Errorf("default policies: local %s, moto %s", la.Attributes["Policy"], ma.Attributes["Policy"])
		}
		if !strings.HasPrefix(la.Attributes["EffectiveDeliveryPolicy"], `{"http":`) || strings.HasPrefix(ma.Attributes["EffectiveDeliveryPolicy"], `{"http":`) {
			t.Errorf("EffectiveDeliveryPolicy: local %s, moto %s; want local wrapped in http, moto not (as observed)", la.Attributes["EffectiveDeliveryPolicy"], ma.Attributes["EffectiveDeliveryPolicy"])
		}
		if _, ok := la.Attributes["DeliveryPolicy"]; ok {
			t.Errorf("local lists a DeliveryPolicy that was never set")
		}
		if v, ok := ma.Attributes["DeliveryPolicy"]; !ok || v != "" {
			t.Errorf("moto DeliveryPolicy %q (present %v); want an empty one (as observed)", v, ok)
		}
	}
	_, _, lo, mo = attrs(snsTopic + "-nope")
	snsAgree(t, "GetTopicAttributes unknown topic", lo, mo, notFound)

	// ListTopics: 100 a page, in creation order on both.
	for i := 0; i < 104; i++ {
		_, _, lo, mo := create(&sns.CreateTopicInput{Name: aws.String(fmt.Sprintf("t%03d", i))})
		if lo != mo || lo.Code != "" {
			t.Fatalf("CreateTopic t%03d: local %+v, moto %+v", i, lo, mo)
		}
	}
	list := func(c *sns.Client) ([]int, error) {
		var sizes []int
		var all []string
		var tok *string
		for i := 0; i < 5; i++ {
			o, err := c.ListTopics(ctx, &sns.ListTopicsInput{NextToken: tok})
			if err != nil {
				return sizes, err
			}
			sizes = append(sizes, len(o.Topics))
			for _, tp := range o.Topics {
				all = append(all, aws.ToString(tp.TopicArn))
			}
			if tok = o.NextToken; tok == nil {
				break
			}
		}
		if len(all) != 105 || all[0] != snsTopic || !strings.HasSuffix(all[104], ":t103") || !sort.StringsAreSorted(all[1:]) {
			return sizes, fmt.Errorf("topics %d, first %s, last %s", len(all), all[0], all[len(all)-1])
		}
		return sizes, nil
	}
	ls, ms, lo, mo := both(t, p, snsClient, list)
	snsAgree(t, "ListTopics", lo, mo, outcome{})
	if fmt.Sprint(ls, ms) != "[100 5] [100 5]" {
		t.Errorf("ListTopics page sizes: local %v, moto %v; want [100 5]", ls, ms)
	}

	// DeleteTopic: then the topic is gone; deleting again succeeds.
	for i := 0; i < 2; i++ {
		_, _, lo, mo := both(t, p, snsClient, func(c *sns.Client) (*sns.DeleteTopicOutput, error) {
			return c.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: aws.String(snsTopic)})
		})
		snsAgree(t, fmt.Sprintf("DeleteTopic #%d", i+1), lo, mo, outcome{})
	}
	_, _, lo, mo = attrs(snsTopic)
	snsAgree(t, "GetTopicAttributes deleted topic", lo, mo, notFound)
}

func TestSNSSubscribeAndPublish(t *testing.T) {
	p := newPair(t)
	ctx := context.Background()
	invalid := outcome{Code: "InvalidParameter", Status: 400}
	notFound := outcome{Code: "NotFound", Status: 404}
	for _, n := range []string{"alarms", "quiet"} {
		_, _, lo, mo := both(t, p, snsClient, func(c *sns.Client) (*sns.CreateTopicOutput, error) {
			return c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(n)})
		})
		snsAgree(t, "CreateTopic "+n, lo, mo, outcome{})
	}
	quiet := "arn:aws:sns:us-east-1:123456789012:quiet"

	// Publish to a topic without subscriptions (moto tries to deliver to
	// subscribed endpoints, which do not exist here).
	l, m, lo, mo := both(t, p, snsClient, func(c *sns.Client) (*sns.PublishOutput, error) {
		return c.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(quiet), Message: aws.String("rollout halted"), Subject: aws.String("Phoenix")})
	})
	snsAgree(t, "Publish", lo, mo, outcome{})
	if lo.Code == "" && (!snsUUID.MatchString(aws.ToString(l.MessageId)) || !snsUUID.MatchString(aws.ToString(m.MessageId))) {
		t.Errorf("Publish message ids: local %q, moto %q; want UUIDs", aws.ToString(l.MessageId), aws.ToString(m.MessageId))
	}
	// Messages SNS refuses (Publish: a non-empty message; with
	// MessageStructure json a top-level "default" key; a subject under 100
	// characters without line breaks; TopicArn or TargetArn, not both).
	// moto refuses only the long subject on a topic without subscriptions
	// (documented divergences).
	for _, c := range []struct {
		what        string
		in          *sns.PublishInput
		motoRefuses bool
	}{
		{"empty message", &sns.PublishInput{TopicArn: aws.String(quiet), Message: aws.String("")}, false},
		{"json without default", &sns.PublishInput{TopicArn: aws.String(quiet), Message: aws.String(`{"email":"x"}`), MessageStructure: aws.String("json")}, false},
		{"subject over 100 chars", &sns.PublishInput{TopicArn: aws.String(quiet), Message: aws.String("x"), Subject: aws.String(strings.Repeat("s", 101))}, true},
		{"subject with a line break", &sns.PublishInput{TopicArn: aws.String(quiet), Message: aws.String("x"), Subject: aws.String("a\nb")}, false},
		{"topic and target both given", &sns.PublishInput{TopicArn: aws.String(quiet), TargetArn: aws.String(quiet), Message: aws.String("x")}, false},
	} {
		_, _, lo, mo := both(t, p, snsClient, func(cl *sns.Client) (*sns.PublishOutput, error) { return cl.Publish(ctx, c.in) })
		wantMoto := outcome{}
		if c.motoRefuses {
			wantMoto = invalid
		}
		if lo != invalid || mo != wantMoto {
			t.Errorf("Publish %s: local %+v, moto %+v; want local %+v, moto %+v", c.what, lo, mo, invalid, wantMoto)
		}
	}
	_, _, lo, mo = both(t, p, snsClient, func(c *sns.Client) (*sns.PublishOutput, error) {
		return c.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(snsTopic + "-nope"), Message: aws.String("x")})
	})
	snsAgree(t, "Publish unknown topic", lo, mo, notFound)

	subscribe := func(proto, endpoint string) (l, m *sns.SubscribeOutput, lo, mo outcome) {
		return both(t, p, snsClient, func(c *sns.Client) (*sns.SubscribeOutput, error) {
			return c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(snsTopic), Protocol: aws.String(proto), Endpoint: aws.String(endpoint)})
		})
	}
	fn := "arn:aws:lambda:us-east-1:123456789012:function:phoenix-notify"
	ls, ms, lo, mo := subscribe("lambda", fn)
	snsAgree(t, "Subscribe lambda", lo, mo, outcome{})
	arnRE := regexp.MustCompile(`^` + regexp.QuoteMeta(snsTopic) + `:[0-9a-f-]{36}$`)
	if lo.Code == "" && (!arnRE.MatchString(aws.ToString(ls.SubscriptionArn)) || !arnRE.MatchString(aws.ToString(ms.SubscriptionArn))) {
		t.Errorf("Subscribe lambda ARNs: local %q, moto %q", aws.ToString(ls.SubscriptionArn), aws.ToString(ms.SubscriptionArn))
	}
	// The same protocol and endpoint again: the same subscription.
	ls2, ms2, lo, mo := subscribe("lambda", fn)
	snsAgree(t, "Subscribe lambda again", lo, mo, outcome{})
	if lo.Code == "" && (aws.ToString(ls2.SubscriptionArn) != aws.ToString(ls.SubscriptionArn) || aws.ToString(ms2.SubscriptionArn) != aws.ToString(ms.SubscriptionArn)) {
		t.Errorf("Subscribe again: local %q then %q, moto %q then %q; want the same ARN", aws.ToString(ls.SubscriptionArn), aws.ToString(ls2.SubscriptionArn), aws.ToString(ms.SubscriptionArn), aws.ToString(ms2.SubscriptionArn))
	}
	// An email subscription waits for confirmation: Subscribe answers
	// "pending confirmation" (ReturnSubscriptionArn false) and the topic
	// counts it as pending. moto confirms it at once.
	le, me, lo, mo := subscribe("email", "ops@example.com")
	snsAgree(t, "Subscribe email", lo, mo, outcome{})
	if lo.Code == "" && (aws.ToString(le.SubscriptionArn) != "pending confirmation" || !arnRE.MatchString(aws.ToString(me.SubscriptionArn))) {
		t.Errorf("Subscribe email: local %q, moto %q; want local \"pending confirmation\", moto an ARN (as observed)", aws.ToString(le.SubscriptionArn), aws.ToString(me.SubscriptionArn))
	}
	// A protocol SNS does not support: refused by SNS, stored by moto.
	_, _, lo, mo = subscribe("carrier-pigeon", "loft-1")
	if lo != invalid || mo != (outcome{}) {
		t.Errorf("Subscribe unknown protocol: local %+v, moto %+v; want local InvalidParameter/400, moto success", lo, mo)
	}
	_, _, lo, mo = both(t, p, snsClient, func(c *sns.Client) (*sns.SubscribeOutput, error) {
		return c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(snsTopic + "-nope"), Protocol: aws.String("lambda"), Endpoint: aws.String(fn)})
	})
	snsAgree(t, "Subscribe unknown topic", lo, mo, notFound)

	subs := func(c *sns.Client) ([]string, error) {
		o, err := c.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(snsTopic)})
		if err != nil {
			return nil, err
		}
		var out []string
		for _, s := range o.Subscriptions {
			a := aws.ToString(s.SubscriptionArn)
			if arnRE.MatchString(a) {
				a = "ARN"
			}
			out = append(out, fmt.Sprintf("%s %s %s %v %s", aws.ToString(s.Protocol), aws.ToString(s.Endpoint), aws.ToString(s.Owner), aws.ToString(s.TopicArn) == snsTopic, a))
		}
		return out, nil
	}
	lsub, msub, lo, mo := both(t, p, snsClient, subs)
	snsAgree(t, "ListSubscriptionsByTopic", lo, mo, outcome{})
	wantLocal := "[lambda " + fn + " 123456789012 true ARN email ops@example.com 123456789012 true PendingConfirmation]"
	wantMoto := "[lambda " + fn + " 123456789012 true ARN email ops@example.com 123456789012 true ARN carrier-pigeon loft-1 123456789012 true ARN]"
	if fmt.Sprint(lsub) != wantLocal || fmt.Sprint(msub) != wantMoto {
		t.Errorf("ListSubscriptionsByTopic:\nlocal %v\nmoto  %v\nwant local %s\n     moto  %s", lsub, msub, wantLocal, wantMoto)
	}
	_, _, lo, mo = both(t, p, snsClient, func(c *sns.Client) (*sns.ListSubscriptionsByTopicOutput, error) {
		return c.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(snsTopic + "-nope")})
	})
	snsAgree(t, "ListSubscriptionsByTopic unknown topic", lo, mo, notFound)

	// The topic's subscription counts: SNS counts confirmed and pending
	// subscriptions; moto reports 0 for both.
	la, ma, lo, mo := both(t, p, snsClient, func(c *sns.Client) (*sns.GetTopicAttributesOutput, error) {
		return c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(snsTopic)})
	})
	snsAgree(t, "GetTopicAttributes", lo, mo, outcome{})
	if lo.Code == "" {
		got := fmt.Sprintf("%s %s %s %s", la.Attributes["SubscriptionsConfirmed"], la.Attributes["SubscriptionsPending"], ma.Attributes["SubscriptionsConfirmed"], ma.Attributes["SubscriptionsPending"])
		if got != "1 1 0 0" {
			t.Errorf("subscription counts (local confirmed, pending, moto confirmed, pending) %s; want 1 1 0 0", got)
		}
	}
}
