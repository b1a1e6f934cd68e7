package ledger

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/phoenix-rollouts/phoenix/shared/recycle"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// driftAt is a report of a group at a night, with n offenders.
func driftAt(g rollout.GroupKey, at time.Time, event string, offenders int) recycle.Drift {
	d := recycle.Drift{
		Group: g, At: at, EventID: event,
		Desired:       rollout.Version{LaunchTemplateID: "lt-0abc", Number: 4, ImageID: "ami-4"},
		MaxAgeSeconds: 604800, Instances: 6, OffVersion: 2, OffImage: 1, OverMaxAge: 3, OldestAgeSeconds: 900000,
		Note: "a note",
	}
	for i := range offenders {
		d.Offenders = append(d.Offenders, fmt.Sprintf("i-%017d", i))
	}
	return d
}

func TestDrift(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	night := func(n int) time.Time { return t0.Add(time.Duration(n) * 24 * time.Hour) }
	cases := []struct {
		name string
		puts []recycle.Drift
		// want is the index in puts of the report that must be stored.
		want int
		// recorded is how many puts were logged as recorded.
		recorded int
	}{
		{name: "no report is reported as absent", want: -1},
		{"the first report is recorded as it is", []recycle.Drift{driftAt(rollout.GroupKey{}, night(0), "ev-0", 3)}, 0, 1},
		{"a newer night replaces the report", []recycle.Drift{driftAt(rollout.GroupKey{}, night(0), "ev-0", 3), driftAt(rollout.GroupKey{}, night(1), "ev-1", 1)}, 1, 2},
		{"a late retry of an older night keeps the newer report", []recycle.Drift{driftAt(rollout.GroupKey{}, night(1), "ev-1", 1), driftAt(rollout.GroupKey{}, night(0), "ev-0", 3)}, 0, 1},
		{"a retried night writes its report again", []recycle.Drift{driftAt(rollout.GroupKey{}, night(0), "ev-0", 3), driftAt(rollout.GroupKey{}, night(0), "ev-0", 3)}, 1, 2},
		{"a report without drift is recorded too, with no offenders", []recycle.Drift{{At: night(0), EventID: "ev-0", Instances: 2}}, 0, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := uniqueGroup()
			for _, d := range tc.puts {
				d.Group = g
				if err := e.l.PutDrift(ctx, d); err != nil {
					t.Fatal(err)
				}
			}
			got, ok, err := e.l.Drift(ctx, g)
			if err != nil {
				t.Fatal(err)
			}
			if ok != (tc.want >= 0) {
				t.Fatalf("found %v, want %v", ok, tc.want >= 0)
			}
			if tc.want >= 0 {
				want := tc.puts[tc.want]
				want.Group = g
				if !got.At.Equal(want.At) {
					t.Errorf("at %s, want %s", got.At, want.At)
				}
				got.At = want.At
				if !reflect.DeepEqual(got, want) {
					t.Errorf("stored report\n got %+v\nwant %+v", got, want)
				}
			}
			if n := e.count("drift report recorded", `"group":"`+g.Name+`"`); n != tc.recorded {
				t.Errorf("%d writes logged, want %d", n, tc.recorded)
			}
		})
	}
	t.Run("the item has the documented key and attributes", func(t *testing.T) {
		t.Parallel()
		g := uniqueGroup()
		if err := e.l.PutDrift(ctx, driftAt(g, night(0), "ev-0", 2)); err != nil {
			t.Fatal(err)
		}
		out, err := e.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(e.table), Key: itemKey("GROUP#"+g.Region+"#"+g.Name, "DRIFT")})
		if err != nil || out.Item == nil {
			t.Fatalf("item: %v, %v", out, err)
		}
		for _, a := range []string{"at", "eventId", "launchTemplateId", "version", "imageId", "maxAgeSeconds", "instances",
			"offVersion", "offImage", "overMaxAge", "oldestAgeSeconds", "offenders", "note"} {
			if _, ok := out.Item[a]; !ok {
				t.Errorf("attribute %s missing from %v", a, out.Item)
			}
		}
		if at := out.Item["at"].(*types.AttributeValueMemberS).Value; at != "2026-03-01T12:00:00.000000000Z" {
			t.Errorf("at = %q, want the sortable layout", at)
		}
	})
	t.Run("offenders are bounded", func(t *testing.T) {
		t.Parallel()
		g := uniqueGroup()
		if err := e.l.PutDrift(ctx, driftAt(g, night(0), "ev-0", recycle.MaxOffenders+15)); err != nil {
			t.Fatal(err)
		}
		got, _, err := e.l.Drift(ctx, g)
		if err != nil || len(got.Offenders) != recycle.MaxOffenders {
			t.Fatalf("%d offenders stored (%v), want %d", len(got.Offenders), err, recycle.MaxOffenders)
		}
	})
	t.Run("a report without a time or a group is bad input", func(t *testing.T) {
		t.Parallel()
		var bad *rollout.BadInputError
		if err := e.l.PutDrift(ctx, recycle.Drift{Group: uniqueGroup()}); !errors.As(err, &bad) {
			t.Errorf("no time: got %v", err)
		}
		if err := e.l.PutDrift(ctx, recycle.Drift{At: t0}); !errors.As(err, &bad) {
			t.Errorf("no group: got %v", err)
		}
	})
}
