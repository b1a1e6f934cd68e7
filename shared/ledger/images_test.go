package ledger

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/phoenix-rollouts/phoenix/shared/lifecycle"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// pagedClient cuts DynamoDB's pages to size items when the caller sets no
// limit, so that a test reads more than one page without writing a
// megabyte; it counts the pages read.
type pagedClient struct {
	*dynamodb.Client
	size  int32
	pages atomic.Int64
}

func (c *pagedClient) Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.pages.Add(1)
	if in.Limit == nil {
		cp := *in
		cp.Limit = aws.Int32(c.size)
		in = &cp
	}
	return c.Client.Query(ctx, in, optFns...)
}

// paged returns a ledger on e's table that reads pages of size items.
func (e *testEnv) paged(size int32) (*Ledger, *pagedClient) {
	c := &pagedClient{Client: e.client, size: size}
	return New(c, e.table).WithLogger(e.l.log), c
}

// uniqueRegion is a region of its own, so that a test reading a whole
// region's partition reads only what it wrote.
func uniqueRegion() string { return uniqueID("eu-west-1") }

func uniqueImage() string { return fmt.Sprintf("ami-%017x", names.Add(1)) }

// night is the run time of the nth night after t0.
func night(n int) time.Time { return t0.Add(time.Duration(n) * 24 * time.Hour) }

// records reads the region's image records, failing the test on error.
func (e *testEnv) records(t *testing.T, region string) map[string]lifecycle.Tracked {
	t.Helper()
	got, err := e.l.ImageRecords(context.Background(), region)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// rawImage reads an image record's item as stored.
func (e *testEnv) rawImage(t *testing.T, region, image string) map[string]types.AttributeValue {
	t.Helper()
	out, err := e.client.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(e.table), Key: itemKey("IMAGE#"+region, image), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

func TestImageRecords(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	staged := lifecycle.Tracked{Rolled: true, UnusedSince: night(0), Deprecated: true, DisabledAt: night(2), ProtectedByPhoenix: true}
	unused := lifecycle.Tracked{Rolled: true, UnusedSince: night(0)}
	type put struct {
		t     lifecycle.Tracked
		night int
		// rolled marks the image rolled instead of putting t.
		rolled bool
	}
	cases := []struct {
		name string
		puts []put
		// want is the record read back; absent, no record.
		want   lifecycle.Tracked
		absent bool
	}{
		{name: "an image never recorded has no record", absent: true},
		{"a record reads back as written", []put{{t: staged, night: 3}}, staged, false},
		{"a later run replaces the record, clearing what it leaves unset",
			[]put{{t: staged, night: 3}, {t: lifecycle.Tracked{Rolled: true, UnusedSince: night(4)}, night: 4}},
			lifecycle.Tracked{Rolled: true, UnusedSince: night(4)}, false},
		{"a late write of an earlier run loses to the later run's",
			[]put{{t: staged, night: 3}, {t: unused, night: 1}}, staged, false},
		{"a retried run writes the same record again", []put{{t: unused, night: 1}, {t: unused, night: 1}}, unused, false},
		{"a record with nothing set deletes the record",
			[]put{{t: lifecycle.Tracked{UnusedSince: night(0)}, night: 1}, {night: 2}}, lifecycle.Tracked{}, true},
		{"a record with nothing set from an earlier run deletes nothing",
			[]put{{t: lifecycle.Tracked{UnusedSince: night(0)}, night: 2}, {night: 1}}, lifecycle.Tracked{UnusedSince: night(0)}, false},
		{"a record with nothing set keeps rolled and clears the rest",
			[]put{{t: staged, night: 3}, {night: 4}}, lifecycle.Tracked{Rolled: true}, false},
		{"marking an image rolled creates its record", []put{{rolled: true, night: 1}}, lifecycle.Tracked{Rolled: true}, false},
		{"marking an image rolled keeps the rest of its record",
			[]put{{t: lifecycle.Tracked{UnusedSince: night(0), Deprecated: true}, night: 2}, {rolled: true, night: 3}},
			lifecycle.Tracked{Rolled: true, UnusedSince: night(0), Deprecated: true}, false},
		{"a run that read the record before the image was marked rolled does not clear rolled",
			[]put{{rolled: true, night: 3}, {t: lifecycle.Tracked{UnusedSince: night(0)}, night: 2}},
			lifecycle.Tracked{Rolled: true, UnusedSince: night(0)}, false},
		{"marking an image rolled does not make an earlier run's write stale",
			[]put{{t: unused, night: 1}, {rolled: true, night: 9}, {t: lifecycle.Tracked{Rolled: true, UnusedSince: night(0), Deprecated: true}, night: 2}},
			lifecycle.Tracked{Rolled: true, UnusedSince: night(0), Deprecated: true}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			region, image := uniqueRegion(), uniqueImage()
			for i, p := range tc.puts {
				var err error
				if p.rolled {
					err = e.l.MarkRolled(ctx, region, image, night(p.night))
				} else {
					err = e.l.PutImageRecord(ctx, region, image, p.t, fmt.Sprintf("run-%d", p.night), night(p.night))
				}
				if err != nil {
					t.Fatalf("write %d: %v", i, err)
				}
			}
			got, ok := e.records(t, region)[image]
			if ok == tc.absent {
				t.Fatalf("record found %v, want %v (%+v)", ok, !tc.absent, got)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("record\n got %+v\nwant %+v", got, tc.want)
			}
			if tc.absent && e.rawImage(t, region, image) != nil {
				t.Error("the item is still there")
			}
		})
	}
	t.Run("the item has the documented key and attributes", func(t *testing.T) {
		t.Parallel()
		region, image := uniqueRegion(), uniqueImage()
		if err := e.l.MarkRolled(ctx, region, image, night(0)); err != nil {
			t.Fatal(err)
		}
		if err := e.l.PutImageRecord(ctx, region, image, staged, "run-3", night(3)); err != nil {
			t.Fatal(err)
		}
		it := e.rawImage(t, region, image)
		want := map[string]string{
			"rolledAt": "2026-03-01T12:00:00.000000000Z", "unusedSince": "2026-03-01T12:00:00.000000000Z",
			"disabledAt": "2026-03-03T12:00:00.000000000Z", "updatedAt": "2026-03-04T12:00:00.000000000Z", "updatedBy": "run-3",
		}
		for a, v := range want {
			if s, ok := it[a].(*types.AttributeValueMemberS); !ok || s.Value != v {
				t.Errorf("%s = %v, want %q", a, it[a], v)
			}
		}
		for _, a := range []string{"rolled", "deprecated", "protectedByPhoenix"} {
			if b, ok := it[a].(*types.AttributeValueMemberBOOL); !ok || !b.Value {
				t.Errorf("%s = %v, want true", a, it[a])
			}
		}
	})
	t.Run("marking an image rolled again changes nothing", func(t *testing.T) {
		t.Parallel()
		region, image := uniqueRegion(), uniqueImage()
		for _, n := range []int{1, 2, 0} {
			if err := e.l.MarkRolled(ctx, region, image, night(n)); err != nil {
				t.Fatal(err)
			}
		}
		if at := e.rawImage(t, region, image)["rolledAt"].(*types.AttributeValueMemberS).Value; at != formatTime(night(1)) {
			t.Errorf("rolledAt %s, want the first mark's", at)
		}
		if n := e.count("image marked rolled", `"imageId":"`+image+`"`); n != 1 {
			t.Errorf("%d marks logged, want 1", n)
		}
	})
	t.Run("every record of a region is read, across pages, and no other region's", func(t *testing.T) {
		t.Parallel()
		region, other := uniqueRegion(), uniqueRegion()
		want := map[string]lifecycle.Tracked{}
		for i := range 7 {
			image := uniqueImage()
			want[image] = lifecycle.Tracked{Rolled: true, UnusedSince: night(i)}
			if err := e.l.PutImageRecord(ctx, region, image, want[image], "run", night(9)); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.l.MarkRolled(ctx, other, uniqueImage(), night(0)); err != nil {
			t.Fatal(err)
		}
		l, c := e.paged(2)
		got, err := l.ImageRecords(ctx, region)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("records\n got %v\nwant %v", got, want)
		}
		if c.pages.Load() < 4 {
			t.Errorf("%d pages read, want 4 (7 records, 2 a page)", c.pages.Load())
		}
	})
}

func TestImageRecordsRefuseWhatTheyCannotKey(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	image := uniqueImage()
	cases := []struct {
		name string
		call func() error
	}{
		{"an empty region", func() error { _, err := e.l.ImageRecords(ctx, ""); return err }},
		{"a region with a '#'", func() error { return e.l.MarkRolled(ctx, "eu#west-1", image, t0) }},
		{"an over-long region", func() error {
			return e.l.PutImageRecord(ctx, string(make([]byte, 65)), image, lifecycle.Tracked{}, "run", t0)
		}},
		{"an image id without ami-", func() error { return e.l.MarkRolled(ctx, "eu-west-1", "0123456789abcdef0", t0) }},
		{"an image id of the wrong length", func() error { return e.l.MarkRolled(ctx, "eu-west-1", "ami-0123456789", t0) }},
		{"an image id in capitals", func() error { return e.l.MarkRolled(ctx, "eu-west-1", "ami-0123456789ABCDEF0", t0) }},
		{"an image id that is not hexadecimal", func() error { return e.l.MarkRolled(ctx, "eu-west-1", "ami-0123456g", t0) }},
		{"a record without a run id", func() error {
			return e.l.PutImageRecord(ctx, "eu-west-1", image, lifecycle.Tracked{Rolled: true}, "", t0)
		}},
		{"a record without a time", func() error {
			return e.l.PutImageRecord(ctx, "eu-west-1", image, lifecycle.Tracked{Rolled: true}, "run", time.Time{})
		}},
		{"a record with a time past year 9999", func() error {
			return e.l.PutImageRecord(ctx, "eu-west-1", image, lifecycle.Tracked{UnusedSince: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, "run", t0)
		}},
		{"a mark without a time", func() error { return e.l.MarkRolled(ctx, "eu-west-1", image, time.Time{}) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var bad *rollout.BadInputError
			if err := tc.call(); !errors.As(err, &bad) {
				t.Fatalf("got %v, want a BadInputError", err)
			}
		})
	}
	if it := e.rawImage(t, "eu-west-1", image); it != nil {
		t.Errorf("a refused write wrote %v", it)
	}
}

// Both image ids EC2 writes are keys, each its own.
func TestImageKeys(t *testing.T) {
	for _, id := range []string{"ami-0123abcd", "ami-0123456789abcdef0"} {
		k, err := imageKey("eu-west-1", id)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		want := itemKey("IMAGE#eu-west-1", id)
		if !reflect.DeepEqual(k, want) {
			t.Errorf("%s: key %v, want %v", id, k, want)
		}
	}
}

func TestLifecycleFailuresWorthRetryingAreTransientErrors(t *testing.T) {
	e := newTestEnv(t)
	region, image := uniqueRegion(), uniqueImage()
	entry := LifecycleEntry{At: t0, RunID: "run", Mode: lifecycle.LogModePlan, Action: lifecycle.ActionDeprecate, Target: image, By: lifecycle.ByNightly}
	for method, call := range map[string]func(context.Context, *Ledger) error{
		"ImageRecords": func(ctx context.Context, l *Ledger) error { _, err := l.ImageRecords(ctx, region); return err },
		"PutImageRecord": func(ctx context.Context, l *Ledger) error {
			return l.PutImageRecord(ctx, region, image, lifecycle.Tracked{Rolled: true}, "run", t0)
		},
		"PutImageRecord (delete)": func(ctx context.Context, l *Ledger) error {
			return l.PutImageRecord(ctx, region, image, lifecycle.Tracked{}, "run", t0)
		},
		"MarkRolled": func(ctx context.Context, l *Ledger) error { return l.MarkRolled(ctx, region, image, t0) },
		"LogLifecycle": func(ctx context.Context, l *Ledger) error {
			return l.LogLifecycle(ctx, region, []LifecycleEntry{entry})
		},
		"LifecycleLog": func(ctx context.Context, l *Ledger) error { _, err := l.LifecycleLog(ctx, region, t0, 0); return err },
	} {
		l, _ := e.faulty(400, "ThrottlingException", -1)
		if err := call(context.Background(), l); !rollout.IsTransient(err) {
			t.Errorf("%s: got %v, want a TransientError", method, err)
		}
	}
}
