package images_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/phoenix-rollouts/phoenix/shared/images"
	"github.com/phoenix-rollouts/phoenix/shared/ledger"
	"github.com/phoenix-rollouts/phoenix/shared/publish"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
)

const table = "phoenix-ledger"

// createTable makes the ledger table the queue shares with the ledger.
func createTable(t *testing.T, env *cloudtest.Env) *dynamodb.Client {
	t.Helper()
	db := dynamodb.NewFromConfig(env.Config)
	in := ledger.TableSchema()
	in.TableName = aws.String(table)
	if _, err := db.CreateTable(context.Background(), in); err != nil {
		t.Fatalf("create table: %v", err)
	}
	return db
}

func TestTheQueueKeepsOnlyTheNewestImage(t *testing.T) {
	t.Parallel()
	env := newCloud(t, true)
	q := images.NewQueue(createTable(t, env), table)
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	item := func(id string, created time.Time) publish.Queued {
		return publish.Queued{Image: publish.KnownImage{ImageID: id, CreatedAt: created}, EventID: "ev-" + id, ExpiresAt: now.Add(time.Hour)}
	}
	older, newer := item("ami-00000000000000001", now.Add(-2*time.Hour)), item("ami-00000000000000002", now.Add(-time.Hour))
	g := key("web")
	offer := func(it publish.Queued, at time.Time) bool {
		t.Helper()
		kept, err := q.Offer(ctx, g, it, at)
		if err != nil {
			t.Fatal(err)
		}
		return kept
	}
	queued := func(at time.Time) string {
		t.Helper()
		it, ok, err := q.Get(ctx, g, at)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return ""
		}
		return it.Image.ImageID
	}
	if !offer(older, now) || queued(now) != older.Image.ImageID {
		t.Fatal("the first image is not queued")
	}
	if !offer(newer, now) || queued(now) != newer.Image.ImageID {
		t.Fatal("a newer image did not replace the older")
	}
	if offer(older, now) || queued(now) != newer.Image.ImageID {
		t.Fatal("an older image replaced the newer")
	}
	if !offer(newer, now) {
		t.Fatal("offering the queued image again was refused")
	}
	got, _, err := q.Get(ctx, g, now)
	if err != nil || got.EventID != newer.EventID || !got.Image.CreatedAt.Equal(newer.Image.CreatedAt) || !got.ExpiresAt.Equal(newer.ExpiresAt) {
		t.Fatalf("read back %+v, %v", got, err)
	}
	if queued(now.Add(time.Hour)) != "" {
		t.Fatal("an expired entry still counts")
	}
	older.ExpiresAt = now.Add(3 * time.Hour)
	if !offer(older, now.Add(2*time.Hour)) {
		t.Fatal("an expired entry blocked an older image")
	}
	if err := q.Remove(ctx, g, newer.Image.ImageID); err != nil || queued(now.Add(2*time.Hour)) != older.Image.ImageID {
		t.Fatal("removing another image dropped the entry")
	}
	if err := q.Remove(ctx, g, older.Image.ImageID); err != nil || queued(now.Add(2*time.Hour)) != "" {
		t.Fatalf("the entry survived its removal: %v", err)
	}
}

func TestTheStarterStartsANameOnce(t *testing.T) {
	t.Parallel()
	env := newCloud(t, false)
	ctx := context.Background()
	def, _ := json.Marshal(map[string]any{"StartAt": "Hold", "States": map[string]any{
		"Hold": map[string]any{"Type": "Wait", "Seconds": 60, "End": true}}})
	sm, err := env.StepFunctions.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String("phoenix-campaign"), Definition: aws.String(string(def)), RoleArn: aws.String("arn:aws:iam::123456789012:role/phoenix"),
	})
	if err != nil {
		t.Fatal(err)
	}
	s := images.NewStarter(env.StepFunctions, aws.ToString(sm.StateMachineArn))
	arn, started, err := s.Start(ctx, "cmp-1", []byte(`{"a":1}`))
	if err != nil || !started || arn == "" {
		t.Fatalf("first start: %s %v %v", arn, started, err)
	}
	again, started, err := s.Start(ctx, "cmp-1", []byte(`{"a":2}`))
	if err != nil || started || again != arn {
		t.Fatalf("the same name with another input: %s %v %v; want the existing %s, not started", again, started, err, arn)
	}
	env.Advance(2 * time.Minute)
	closed, started, err := s.Start(ctx, "cmp-1", []byte(`{"a":1}`))
	if err != nil || started || closed != arn {
		t.Fatalf("the name of a closed execution: %s %v %v", closed, started, err)
	}
	missing := images.NewStarter(env.StepFunctions, "arn:aws:states:us-east-1:123456789012:stateMachine:none")
	if _, _, err := missing.Start(ctx, "cmp-2", []byte(`{}`)); err == nil {
		t.Fatal("starting a missing state machine succeeded")
	}
}
