package notify_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/phoenix-rollouts/phoenix/shared/internal/testlog"
	"github.com/phoenix-rollouts/phoenix/shared/notify"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
)

// slogJSON returns a JSON logger writing to w.
func slogJSON(w *testlog.Buffer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }

// event is an EventBridge event as a target receives it.
type event struct {
	Source     string        `json:"source"`
	DetailType string        `json:"detail-type"`
	Time       time.Time     `json:"time"`
	Resources  []string      `json:"resources"`
	Detail     notify.Detail `json:"detail"`
}

// bench is a local cloud with a topic and a rule that sends every
// phoenix.rollouts event to a recording function.
type bench struct {
	env      *cloudtest.Env
	topic    string
	notifier *notify.Notifier
	logs     *testlog.Buffer

	mu     sync.Mutex
	events []event
}

func newBench(t *testing.T) *bench {
	t.Helper()
	env := cloudtest.New(t)
	ctx := context.Background()
	b := &bench{env: env, logs: &testlog.Buffer{}}
	topic, err := env.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("phoenix")})
	if err != nil {
		t.Fatal(err)
	}
	b.topic = aws.ToString(topic.TopicArn)
	arn := env.InProcessFunction(t, "recorder", func(_ context.Context, ev event) error {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.events = append(b.events, ev)
		return nil
	})
	_, err = env.EventBridge.PutRule(ctx, &eventbridge.PutRuleInput{
		Name: aws.String("phoenix-rollouts"), EventPattern: aws.String(`{"source":["phoenix.rollouts"]}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = env.EventBridge.PutTargets(ctx, &eventbridge.PutTargetsInput{
		Rule: aws.String("phoenix-rollouts"), Targets: []ebtypes.Target{{Id: aws.String("recorder"), Arn: aws.String(arn)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	b.notifier, err = notify.New(env.Config, notify.Options{TopicARN: b.topic, Logger: slogJSON(b.logs)})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// recorded waits until the recorder has n events and returns them.
func (b *bench) recorded(t *testing.T, n int) []event {
	t.Helper()
	var got []event
	b.env.RunUntil(t, time.Minute, "the rule to deliver the event", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		got = append([]event(nil), b.events...)
		return len(got) >= n
	})
	return got
}

// reverted is the notification of a rollout that was reverted.
func reverted() rollout.Notification {
	return rollout.Notification{
		DetailType: notify.DetailReverted,
		Subject:    "Phoenix reverted web in us-east-1",
		Message:    "Validation failed at 50%: 2 targets unhealthy. The fleet is back on version 3.",
		Severity:   "warning",
		Rollout: rollout.Rollout{
			ID: "r-123", Group: rollout.GroupKey{Region: "us-east-1", Name: "web"}, Mode: rollout.ModeImage,
			Trigger: rollout.Trigger{Kind: "image-published"}, Status: rollout.StatusReverted,
			From:         rollout.Version{LaunchTemplateID: "lt-0abc", Number: 3, ImageID: "ami-old"},
			To:           rollout.Version{LaunchTemplateID: "lt-0abc", Number: 4, ImageID: "ami-new"},
			RefreshID:    "ref-1",
			ExecutionARN: "arn:aws:states:us-east-1:123456789012:execution:phoenix:r-123",
			Reason:       "validation failed at 50%",
		},
	}
}

func TestNotify(t *testing.T) {
	t.Parallel()
	t.Run("the event carries the documented detail under source phoenix.rollouts", func(t *testing.T) {
		t.Parallel()
		b := newBench(t)
		sent := b.env.Now()
		if err := b.notifier.Notify(context.Background(), reverted()); err != nil {
			t.Fatal(err)
		}
		got := b.recorded(t, 1)
		if len(got) != 1 {
			t.Fatalf("%d events, want 1", len(got))
		}
		ev := got[0]
		want := notify.Detail{
			RolloutID: "r-123", Group: "web", Region: "us-east-1", Mode: "image", FromVersion: 3, ToVersion: 4,
			ImageID: "ami-new", Reason: "validation failed at 50%", Status: "reverted", Severity: "warning",
			LaunchTemplateID: "lt-0abc", FromImageID: "ami-old", RefreshID: "ref-1",
			ExecutionARN: "arn:aws:states:us-east-1:123456789012:execution:phoenix:r-123", TriggerKind: "image-published",
		}
		if ev.Source != notify.Source || ev.DetailType != "Phoenix Rollout Reverted" || ev.Detail != want {
			t.Errorf("event %+v, want source %s, detail %+v", ev, notify.Source, want)
		}
		if len(ev.Resources) != 1 || ev.Resources[0] != want.ExecutionARN {
			t.Errorf("resources %v, want the execution", ev.Resources)
		}
		// The bus stamps the event: on the local cloud that is simulated
		// time, which only a wall-clock time in the entry would break.
		if ev.Time.Before(sent.Truncate(time.Second)) || ev.Time.After(b.env.Now()) {
			t.Errorf("event time %s, want between %s and %s", ev.Time, sent, b.env.Now())
		}
	})
	t.Run("a text message goes to the topic alone, with its attributes", func(t *testing.T) {
		t.Parallel()
		b := newBench(t)
		subject := "Phoenix image lifecycle us-east-1 (apply): 4 versions, 1 AMI retired, and a subject far longer than SNS takes"
		if err := b.notifier.PublishText(context.Background(), subject, "line one\nline two",
			map[string]string{"detailType": "Phoenix Image Lifecycle Summary", "mode": "apply", "empty": ""}); err != nil {
			t.Fatal(err)
		}
		msgs := b.env.Cloud.SNS.Messages(b.topic)
		if len(msgs) != 1 || msgs[0].Message != "line one\nline two" || len(msgs[0].Subject) > 100 || !strings.HasPrefix(msgs[0].Subject, "Phoenix image lifecycle") {
			t.Fatalf("messages %+v", msgs)
		}
		if got := aws.ToString(msgs[0].MessageAttributes["mode"].StringValue); got != "apply" {
			t.Errorf("attribute mode = %q", got)
		}
		if _, ok := msgs[0].MessageAttributes["empty"]; ok {
			t.Error("an empty attribute was sent (SNS refuses it)")
		}
		if n := len(b.env.Cloud.EventBridge.Ingested()); n != 0 {
			t.Errorf("%d events put on the bus; a text message goes to the topic only", n)
		}
	})
	t.Run("the SNS message carries the text, the facts and filterable attributes", func(t *testing.T) {
		t.Parallel()
		b := newBench(t)
		if err := b.notifier.Notify(context.Background(), reverted()); err != nil {
			t.Fatal(err)
		}
		msgs := b.env.Cloud.SNS.Messages(b.topic)
		if len(msgs) != 1 {
			t.Fatalf("%d messages, want 1", len(msgs))
		}
		m := msgs[0]
		if m.Subject != "Phoenix reverted web in us-east-1" {
			t.Errorf("subject %q", m.Subject)
		}
		for _, want := range []string{"Validation failed at 50%", "Phoenix Rollout Reverted", "r-123", "us-east-1/web",
			"lt-0abc version 3 (ami-old)", "lt-0abc version 4 (ami-new)", "ref-1", "validation failed at 50%"} {
			if !strings.Contains(m.Message, want) {
				t.Errorf("message lacks %q:\n%s", want, m.Message)
			}
		}
		for name, want := range map[string]string{"severity": "warning", "detailType": "Phoenix Rollout Reverted", "rolloutId": "r-123", "group": "web", "status": "reverted"} {
			if got := aws.ToString(m.MessageAttributes[name].StringValue); got != want {
				t.Errorf("attribute %s = %q, want %q", name, got, want)
			}
		}
		if !strings.Contains(b.logs.String(), `"msg":"sent rollout notification"`) {
			t.Errorf("nothing logged:\n%s", b.logs)
		}
	})
	t.Run("a subject SNS would refuse is made acceptable", func(t *testing.T) {
		t.Parallel()
		b := newBench(t)
		n := reverted()
		n.Subject = "Phoenix ⚠ reverted\n" + strings.Repeat("web-", 40)
		if err := b.notifier.Notify(context.Background(), n); err != nil {
			t.Fatal(err)
		}
		s := b.env.Cloud.SNS.Messages(b.topic)[0].Subject
		if len(s) > 100 || strings.ContainsAny(s, "\n⚠") || !strings.HasPrefix(s, "Phoenix ? reverted web-") {
			t.Errorf("subject %q", s)
		}
	})
	t.Run("a notification without a subject or reason still goes out on both channels", func(t *testing.T) {
		t.Parallel()
		b := newBench(t)
		n := rollout.Notification{DetailType: notify.DetailStarted, Rollout: rollout.Rollout{ID: "r-9", Group: rollout.GroupKey{Region: "eu-west-1", Name: "api"}, Mode: rollout.ModeRecycle}}
		if err := b.notifier.Notify(context.Background(), n); err != nil {
			t.Fatal(err)
		}
		if got := b.recorded(t, 1)[0].Detail; got.RolloutID != "r-9" || got.Severity != "info" || got.Reason != "" {
			t.Errorf("detail %+v", got)
		}
		if m := b.env.Cloud.SNS.Messages(b.topic); len(m) != 1 || m[0].Subject != "Phoenix Rollout Started: api" {
			t.Errorf("messages %+v", m)
		}
	})
	t.Run("a notification without a detail type is bad input", func(t *testing.T) {
		t.Parallel()
		b := newBench(t)
		var bad *rollout.BadInputError
		if err := b.notifier.Notify(context.Background(), rollout.Notification{}); !errors.As(err, &bad) {
			t.Fatalf("error %v, want BadInputError", err)
		}
	})
	t.Run("throttled SNS is transient and the event still goes out", func(t *testing.T) {
		t.Parallel()
		b := newBench(t)
		if _, err := b.env.Cloud.Faults.Add(faults.Rule{Kind: faults.Throttle, Service: "sns", Operation: "Publish"}); err != nil {
			t.Fatal(err)
		}
		err := b.notifier.Notify(context.Background(), reverted())
		if !rollout.IsTransient(err) {
			t.Fatalf("error %v, want a TransientError", err)
		}
		if got := b.recorded(t, 1); len(got) != 1 {
			t.Errorf("%d events, want the event despite SNS failing", len(got))
		}
	})
	t.Run("a missing topic is not worth retrying", func(t *testing.T) {
		t.Parallel()
		b := newBench(t)
		n, err := notify.New(b.env.Config, notify.Options{TopicARN: b.topic + "-gone"})
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Notify(context.Background(), reverted()); err == nil || rollout.IsTransient(err) {
			t.Fatalf("error %v, want a permanent error", err)
		}
	})
	t.Run("a notifier needs a topic", func(t *testing.T) {
		t.Parallel()
		if _, err := notify.New(aws.Config{}, notify.Options{}); err == nil {
			t.Fatal("a notifier without a topic was made")
		}
	})
}
