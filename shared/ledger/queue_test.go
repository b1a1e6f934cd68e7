package ledger

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/phoenix-rollouts/phoenix/shared/publish"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// queued is a queue entry for image id created at created, expiring an
// hour after t0.
func queued(id string, created time.Time) publish.Queued {
	return publish.Queued{Image: publish.KnownImage{ImageID: id, CreatedAt: created}, EventID: "ev-" + id, ExpiresAt: t0.Add(time.Hour)}
}

func TestTheQueue(t *testing.T) {
	e := newTestEnv(t)
	q := e.l.Queue()
	ctx := context.Background()
	offer := func(t *testing.T, g rollout.GroupKey, it publish.Queued, at time.Time) bool {
		t.Helper()
		kept, err := q.Offer(ctx, g, it, at)
		if err != nil {
			t.Fatal(err)
		}
		return kept
	}
	current := func(t *testing.T, g rollout.GroupKey, at time.Time) publish.Queued {
		t.Helper()
		it, ok, err := q.Get(ctx, g, at)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return publish.Queued{}
		}
		return it
	}

	t.Run("only the newest image stays queued", func(t *testing.T) {
		t.Parallel()
		g := uniqueGroup()
		older, newer := queued("ami-00000000000000001", t0.Add(-2*time.Hour)), queued("ami-00000000000000002", t0.Add(-time.Hour))
		if !offer(t, g, older, t0) || current(t, g, t0).Image.ImageID != older.Image.ImageID {
			t.Fatal("the first image is not queued")
		}
		if !offer(t, g, newer, t0) || current(t, g, t0).Image.ImageID != newer.Image.ImageID {
			t.Fatal("a newer image did not replace the older")
		}
		if offer(t, g, older, t0) || current(t, g, t0).Image.ImageID != newer.Image.ImageID {
			t.Fatal("an older image replaced the newer")
		}
		if !offer(t, g, newer, t0) {
			t.Fatal("offering the queued image again was refused")
		}
		got := current(t, g, t0)
		if got.EventID != newer.EventID || !got.Image.CreatedAt.Equal(newer.Image.CreatedAt) || !got.ExpiresAt.Equal(newer.ExpiresAt) {
			t.Fatalf("read back %+v, want %+v", got, newer)
		}
		if current(t, g, t0.Add(time.Hour)).Image.ImageID != "" {
			t.Fatal("an expired entry still counts")
		}
		older.ExpiresAt = t0.Add(3 * time.Hour)
		if !offer(t, g, older, t0.Add(2*time.Hour)) {
			t.Fatal("an expired entry blocked an older image")
		}
		if err := q.Remove(ctx, g, newer.Image.ImageID); err != nil || current(t, g, t0.Add(2*time.Hour)).Image.ImageID != older.Image.ImageID {
			t.Fatalf("removing another image dropped the entry (%v)", err)
		}
		if err := q.Remove(ctx, g, older.Image.ImageID); err != nil || current(t, g, t0.Add(2*time.Hour)).Image.ImageID != "" {
			t.Fatalf("the entry survived its removal: %v", err)
		}
	})

	t.Run("an image of unknown creation time is older than any known one", func(t *testing.T) {
		t.Parallel()
		g := uniqueGroup()
		unknown, known := queued("ami-00000000000000001", time.Time{}), queued("ami-00000000000000002", t0.Add(-time.Hour))
		if !offer(t, g, unknown, t0) {
			t.Fatal("the first image was not queued")
		}
		if got := current(t, g, t0); got.Image.ImageID != unknown.Image.ImageID || !got.Image.CreatedAt.IsZero() {
			t.Fatalf("an unknown creation time reads back as %+v; want zero", got)
		}
		if !offer(t, g, known, t0) {
			t.Fatal("an image of known creation time did not replace one of unknown time")
		}
		if offer(t, g, unknown, t0) {
			t.Fatal("an image of unknown creation time replaced one of known time")
		}
	})

	t.Run("an item shared/images wrote before the queue moved is read and ordered the same", func(t *testing.T) {
		t.Parallel()
		g := uniqueGroup()
		// An item as shared/images wrote it before the queue moved here: a
		// deployed stack's queue holds such items when the new code arrives.
		old := map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "GROUP#" + g.Region + "#" + g.Name}, "sk": &types.AttributeValueMemberS{Value: "QUEUED"},
			"imageId":   &types.AttributeValueMemberS{Value: "ami-00000000000000001"},
			"createdAt": &types.AttributeValueMemberS{Value: "2026-03-01T10:00:00.500000000Z"},
			"eventId":   &types.AttributeValueMemberS{Value: "ev-1"},
			"expiresAt": &types.AttributeValueMemberN{Value: "1772370000"}, // t0 + 1h
		}
		if _, err := e.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(e.table), Item: old}); err != nil {
			t.Fatal(err)
		}
		got := current(t, g, t0)
		if got.Image.ImageID != "ami-00000000000000001" || !got.Image.CreatedAt.Equal(time.Date(2026, 3, 1, 10, 0, 0, 5e8, time.UTC)) ||
			got.EventID != "ev-1" || !got.ExpiresAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("the old item reads as %+v", got)
		}
		if offer(t, g, queued("ami-00000000000000002", time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)), t0) {
			t.Fatal("an image created before the old entry's image replaced it")
		}
		if !offer(t, g, queued("ami-00000000000000003", time.Date(2026, 3, 1, 10, 0, 1, 0, time.UTC)), t0) {
			t.Fatal("an image created after the old entry's image did not replace it")
		}
		out, err := e.client.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(e.table), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": old["pk"], "sk": old["sk"]},
		})
		if err != nil {
			t.Fatal(err)
		}
		for name, want := range map[string]string{"imageId": "ami-00000000000000003", "createdAt": "2026-03-01T10:00:01.000000000Z", "eventId": "ev-ami-00000000000000003"} {
			if s, ok := out.Item[name].(*types.AttributeValueMemberS); !ok || s.Value != want {
				t.Errorf("attribute %s = %v, want %q", name, out.Item[name], want)
			}
		}
		if n, ok := out.Item["expiresAt"].(*types.AttributeValueMemberN); !ok || n.Value != "1772370000" {
			t.Errorf("expiresAt = %v, want epoch seconds 1772370000", out.Item["expiresAt"])
		}
	})

	badGroups := []struct {
		name  string
		group rollout.GroupKey
	}{
		{"a group without a region", rollout.GroupKey{Name: "web"}},
		{"a group without a name", rollout.GroupKey{Region: "eu-west-1"}},
		{"a region with '#'", rollout.GroupKey{Region: "eu#west-1", Name: "web"}},
		{"a region longer than any region name", rollout.GroupKey{Region: strings.Repeat("a", maxRegionName+1), Name: "web"}},
		{"a name longer than Auto Scaling allows", rollout.GroupKey{Region: "eu-west-1", Name: strings.Repeat("w", maxGroupName+1)}},
		{"a name that is not UTF-8", rollout.GroupKey{Region: "eu-west-1", Name: "web\xff"}},
	}
	for _, tc := range badGroups {
		t.Run(tc.name+" has no queue", func(t *testing.T) {
			t.Parallel()
			var bad *rollout.BadInputError
			if _, err := q.Offer(ctx, tc.group, queued("ami-00000000000000001", t0), t0); !errors.As(err, &bad) {
				t.Errorf("Offer: got %v, want a BadInputError", err)
			}
			if _, _, err := q.Get(ctx, tc.group, t0); !errors.As(err, &bad) {
				t.Errorf("Get: got %v, want a BadInputError", err)
			}
			if err := q.Remove(ctx, tc.group, "ami-00000000000000001"); !errors.As(err, &bad) {
				t.Errorf("Remove: got %v, want a BadInputError", err)
			}
		})
	}

	t.Run("a creation time the sortable layout cannot hold is refused", func(t *testing.T) {
		t.Parallel()
		g := uniqueGroup()
		var bad *rollout.BadInputError
		if _, err := q.Offer(ctx, g, queued("ami-00000000000000001", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)), t0); !errors.As(err, &bad) {
			t.Fatalf("got %v, want a BadInputError", err)
		}
		if got := current(t, g, t0); got.Image.ImageID != "" {
			t.Fatalf("queued %+v anyway", got)
		}
	})
}
