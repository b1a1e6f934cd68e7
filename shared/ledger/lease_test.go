package ledger

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

func lease(group rollout.GroupKey, owner string, until time.Time) rollout.Lease {
	return rollout.Lease{Group: group, Owner: owner, Execution: "arn:aws:states:eu-west-1:123456789012:execution:phoenix:" + owner, ExpiresAt: until}
}

// wantHeld fails the test unless err is a LeaseHeldError naming holder and
// expiry.
func wantHeld(t *testing.T, err error, holder string, until time.Time) {
	t.Helper()
	var held *rollout.LeaseHeldError
	if !errors.As(err, &held) {
		t.Fatalf("got %v, want a LeaseHeldError", err)
	}
	if held.Holder != holder || !held.ExpiresAt.Equal(until) {
		t.Fatalf("held by %s until %s, want %s until %s", held.Holder, held.ExpiresAt, holder, until)
	}
}

// holder returns who holds the group's lease and until when, "" if nobody.
func (e *testEnv) holder(t *testing.T, group rollout.GroupKey) (string, time.Time) {
	t.Helper()
	l, ok, err := e.l.lease(context.Background(), group)
	if err != nil {
		t.Fatalf("read lease: %v", err)
	}
	if !ok {
		return "", time.Time{}
	}
	if l.Group != group {
		t.Fatalf("the lease item names group %v, want %v", l.Group, group)
	}
	return l.Owner, l.ExpiresAt
}

func TestLease(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	hour := t0.Add(time.Hour)
	cases := []struct {
		name string
		run  func(t *testing.T, g rollout.GroupKey)
	}{
		{"a free group is leased to the first rollout", func(t *testing.T, g rollout.GroupKey) {
			if err := e.l.AcquireLease(ctx, lease(g, "r-a", hour), t0); err != nil {
				t.Fatal(err)
			}
			if owner, until := e.holder(t, g); owner != "r-a" || !until.Equal(hour) {
				t.Fatalf("held by %q until %s, want r-a until %s", owner, until, hour)
			}
		}},
		{"a lease held by another rollout is refused until it expires", func(t *testing.T, g rollout.GroupKey) {
			if err := e.l.AcquireLease(ctx, lease(g, "r-a", hour), t0); err != nil {
				t.Fatal(err)
			}
			wantHeld(t, e.l.AcquireLease(ctx, lease(g, "r-b", hour.Add(time.Hour)), t0.Add(59*time.Minute)), "r-a", hour)
			if err := e.l.AcquireLease(ctx, lease(g, "r-b", hour.Add(time.Hour)), hour); err != nil {
				t.Fatalf("at the expiry: %v", err)
			}
			if owner, _ := e.holder(t, g); owner != "r-b" {
				t.Fatalf("held by %q, want r-b", owner)
			}
		}},
		{"the holder renews its own lease", func(t *testing.T, g rollout.GroupKey) {
			for _, until := range []time.Time{hour, hour.Add(time.Hour)} {
				if err := e.l.AcquireLease(ctx, lease(g, "r-a", until), t0); err != nil {
					t.Fatal(err)
				}
			}
			if _, until := e.holder(t, g); !until.Equal(hour.Add(time.Hour)) {
				t.Fatalf("held until %s, want %s", until, hour.Add(time.Hour))
			}
		}},
		{"a renewal never shortens the lease", func(t *testing.T, g rollout.GroupKey) {
			for _, until := range []time.Time{hour.Add(time.Hour), hour} {
				if err := e.l.AcquireLease(ctx, lease(g, "r-a", until), t0); err != nil {
					t.Fatal(err)
				}
			}
			if _, until := e.holder(t, g); !until.Equal(hour.Add(time.Hour)) {
				t.Fatalf("held until %s, want %s", until, hour.Add(time.Hour))
			}
		}},
		{"a repeated acquire is logged once", func(t *testing.T, g rollout.GroupKey) {
			for range 3 {
				if err := e.l.AcquireLease(ctx, lease(g, "r-log", hour), t0); err != nil {
					t.Fatal(err)
				}
			}
			if n := e.count("lease taken", `"group":"`+g.Name+`"`) + e.count("lease renewed", `"group":"`+g.Name+`"`); n != 1 {
				t.Fatalf("%d log lines for one lease, want 1:\n%s", n, e.logs)
			}
		}},
		{"an expiry not after now is bad input", func(t *testing.T, g rollout.GroupKey) {
			var bad *rollout.BadInputError
			if err := e.l.AcquireLease(ctx, lease(g, "r-a", t0), t0); !errors.As(err, &bad) {
				t.Fatalf("got %v, want a BadInputError", err)
			}
		}},
		{"releasing a lease one does not hold leaves it in place", func(t *testing.T, g rollout.GroupKey) {
			if err := e.l.AcquireLease(ctx, lease(g, "r-a", hour), t0); err != nil {
				t.Fatal(err)
			}
			if err := e.l.ReleaseLease(ctx, g, "r-b"); err != nil {
				t.Fatalf("release by a non-holder: %v", err)
			}
			if owner, _ := e.holder(t, g); owner != "r-a" {
				t.Fatalf("held by %q, want r-a", owner)
			}
		}},
		{"releasing a free group is not an error", func(t *testing.T, g rollout.GroupKey) {
			if err := e.l.ReleaseLease(ctx, g, "r-a"); err != nil {
				t.Fatal(err)
			}
		}},
		{"a released lease can be taken by another rollout at once", func(t *testing.T, g rollout.GroupKey) {
			if err := e.l.AcquireLease(ctx, lease(g, "r-a", hour), t0); err != nil {
				t.Fatal(err)
			}
			for range 2 { // a retried release is harmless
				if err := e.l.ReleaseLease(ctx, g, "r-a"); err != nil {
					t.Fatal(err)
				}
			}
			if err := e.l.AcquireLease(ctx, lease(g, "r-b", hour), t0); err != nil {
				t.Fatal(err)
			}
		}},
		{"a group whose name holds '#' does not share a lease with its prefix", func(t *testing.T, g rollout.GroupKey) {
			other := rollout.GroupKey{Region: g.Region, Name: g.Name + "#canary"}
			if err := e.l.AcquireLease(ctx, lease(g, "r-a", hour), t0); err != nil {
				t.Fatal(err)
			}
			if err := e.l.AcquireLease(ctx, lease(other, "r-b", hour), t0); err != nil {
				t.Fatalf("the longer name is another group: %v", err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, uniqueGroup())
		})
	}
}

func TestRacingAcquiresLeaveOneWinner(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	const racers = 12
	for round := range 3 {
		g := uniqueGroup()
		var wg sync.WaitGroup
		errs := make([]error, racers)
		start := make(chan struct{})
		for i := range racers {
			wg.Go(func() {
				<-start
				errs[i] = e.l.AcquireLease(ctx, lease(g, uniqueID("racer"), t0.Add(time.Hour)), t0)
			})
		}
		close(start)
		wg.Wait()
		winner, _ := e.holder(t, g)
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
				continue
			}
			wantHeld(t, err, winner, t0.Add(time.Hour))
		}
		if won != 1 {
			t.Fatalf("round %d: %d racers won the lease, want exactly 1 (%v)", round, won, errs)
		}
	}
}

func TestActiveRollout(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	cases := []struct {
		name string
		run  func(t *testing.T, g rollout.GroupKey)
	}{
		{"a group nobody holds has no active rollout", func(t *testing.T, g rollout.GroupKey) {
			if r, ok, err := e.l.ActiveRollout(ctx, g); err != nil || ok {
				t.Fatalf("got %+v, %v, %v; want none", r, ok, err)
			}
		}},
		{"the rollout holding the lease is the active one", func(t *testing.T, g rollout.GroupKey) {
			r := e.put(t, newRollout(g, t0))
			if err := e.l.AcquireLease(ctx, lease(g, r.ID, t0.Add(time.Hour)), t0); err != nil {
				t.Fatal(err)
			}
			got, ok, err := e.l.ActiveRollout(ctx, g)
			if err != nil || !ok || got.ID != r.ID || got.To != r.To {
				t.Fatalf("got %+v, %v, %v; want rollout %s", got, ok, err, r.ID)
			}
		}},
		{"a lease taken before its rollout is recorded still makes the group busy", func(t *testing.T, g rollout.GroupKey) {
			if err := e.l.AcquireLease(ctx, lease(g, "r-early", t0.Add(time.Hour)), t0); err != nil {
				t.Fatal(err)
			}
			got, ok, err := e.l.ActiveRollout(ctx, g)
			if err != nil || !ok || got.ID != "r-early" || got.Status != rollout.StatusPreparing || got.Group != g {
				t.Fatalf("got %+v, %v, %v; want r-early preparing", got, ok, err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, uniqueGroup())
		})
	}
}
