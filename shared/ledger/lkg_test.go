package ledger

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

func TestLastKnownGood(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	v4 := rollout.Version{LaunchTemplateID: "lt-0abc", Number: 4, ImageID: "ami-4"}
	v5 := rollout.Version{LaunchTemplateID: "lt-0abc", Number: 5, ImageID: "ami-5"}
	type set struct {
		v  rollout.Version
		by string
		at time.Time
	}
	cases := []struct {
		name   string
		sets   []set
		want   rollout.Version
		wantAt time.Time
		// changes is how many of the sets changed the record.
		changes int
	}{
		{name: "no last-known-good is reported as absent"},
		{"the first last-known-good is recorded", []set{{v4, "r-4", t0}}, v4, t0, 1},
		{"a newer image replaces the last-known-good", []set{{v4, "r-4", t0}, {v5, "r-5", t0.Add(time.Hour)}}, v5, t0.Add(time.Hour), 2},
		{"an older image never replaces a newer last-known-good", []set{{v5, "r-5", t0.Add(time.Hour)}, {v4, "r-4", t0}}, v5, t0.Add(time.Hour), 1},
		{"a second rollout at the same instant keeps the first record", []set{{v4, "r-4", t0}, {v5, "r-5", t0}}, v4, t0, 1},
		{"the same rollout recording again is a no-op, even later", []set{{v4, "r-4", t0}, {v5, "r-4", t0.Add(time.Hour)}}, v4, t0, 1},
		{"order is by instant, not by text", []set{{v4, "r-4", t0.Add(time.Second)}, {v5, "r-5", t0.Add(1500 * time.Millisecond)}}, v5, t0.Add(1500 * time.Millisecond), 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := uniqueGroup()
			for _, s := range tc.sets {
				if err := e.l.SetLastKnownGood(ctx, g, s.v, s.by, s.at); err != nil {
					t.Fatal(err)
				}
			}
			v, at, ok, err := e.l.LastKnownGood(ctx, g)
			if err != nil {
				t.Fatal(err)
			}
			if ok != (len(tc.sets) > 0) || v != tc.want || !at.Equal(tc.wantAt) {
				t.Fatalf("got %+v at %s (ok %v), want %+v at %s", v, at, ok, tc.want, tc.wantAt)
			}
			if n := e.count("last-known-good recorded", `"group":"`+g.Name+`"`); n != tc.changes {
				t.Fatalf("%d changes logged, want %d", n, tc.changes)
			}
		})
	}
	t.Run("a version without a number is bad input", func(t *testing.T) {
		var bad *rollout.BadInputError
		err := e.l.SetLastKnownGood(ctx, uniqueGroup(), rollout.Version{LaunchTemplateID: "lt-0abc", ImageID: "ami-4"}, "r-4", t0)
		if !errors.As(err, &bad) {
			t.Fatalf("got %v, want a BadInputError", err)
		}
	})
}
