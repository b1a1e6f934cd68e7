package rollouttest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

var (
	t0  = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	web = rollout.GroupKey{Region: "eu-west-1", Name: "web"}
)

func TestLedgerKeepsThePortContract(t *testing.T) {
	ctx := context.Background()
	l := NewLedger()
	t.Run("a lease held by another owner refuses until it expires", func(t *testing.T) {
		if err := l.AcquireLease(ctx, rollout.Lease{Group: web, Owner: "a", ExpiresAt: t0.Add(time.Hour)}, t0); err != nil {
			t.Fatal(err)
		}
		var held *rollout.LeaseHeldError
		if err := l.AcquireLease(ctx, rollout.Lease{Group: web, Owner: "b", ExpiresAt: t0.Add(2 * time.Hour)}, t0.Add(time.Minute)); !errors.As(err, &held) || held.Holder != "a" {
			t.Fatalf("err = %v, want LeaseHeldError naming a", err)
		}
		if err := l.AcquireLease(ctx, rollout.Lease{Group: web, Owner: "b", ExpiresAt: t0.Add(3 * time.Hour)}, t0.Add(2*time.Hour)); err != nil {
			t.Fatalf("an expired lease was not taken over: %v", err)
		}
		if err := l.ReleaseLease(ctx, web, "a"); err != nil {
			t.Fatal(err)
		}
		if ls, ok := l.Lease(web); !ok || ls.Owner != "b" {
			t.Error("releasing a lease one does not hold dropped it")
		}
	})
	t.Run("a second PutRollout returns the first record and a repeated step key is kept once", func(t *testing.T) {
		first, _ := l.PutRollout(ctx, rollout.Rollout{ID: "r1", Group: web, Status: rollout.StatusPreparing})
		again, _ := l.PutRollout(ctx, rollout.Rollout{ID: "r1", Group: web, Status: rollout.StatusRefused})
		if again.Status != first.Status {
			t.Errorf("a repeat PutRollout changed the record to %s", again.Status)
		}
		step := &rollout.Step{Key: "prepare", At: t0}
		_, _ = l.UpdateRollout(ctx, "r1", rollout.RolloutUpdate{Step: step})
		r, _ := l.UpdateRollout(ctx, "r1", rollout.RolloutUpdate{Step: step, Status: rollout.StatusRefreshing})
		if len(r.Steps) != 1 || r.Status != rollout.StatusRefreshing {
			t.Errorf("steps %v status %s", r.Steps, r.Status)
		}
	})
	t.Run("a signal recorded before the token is parked is returned by Park", func(t *testing.T) {
		s, token, _ := l.AddSignal(ctx, "r1", rollout.Signal{Kind: rollout.SignalCheckpoint})
		if s.Seq != 1 || token != "" {
			t.Fatalf("seq %d token %q", s.Seq, token)
		}
		got, _ := l.Park(ctx, "r1", "tok", 0)
		if len(got) != 1 {
			t.Fatalf("park returned %v", got)
		}
		if got, _ := l.Park(ctx, "r1", "tok", 1); len(got) != 0 {
			t.Errorf("a consumed signal came back: %v", got)
		}
		if _, token, _ := l.AddSignal(ctx, "r1", rollout.Signal{Kind: rollout.SignalSucceeded}); token != "tok" {
			t.Errorf("AddSignal returned token %q, want the parked one", token)
		}
	})
	t.Run("a newer last-known-good is not overwritten by an older one", func(t *testing.T) {
		_ = l.SetLastKnownGood(ctx, web, rollout.Version{Number: 5}, "r2", t0.Add(time.Hour))
		_ = l.SetLastKnownGood(ctx, web, rollout.Version{Number: 4}, "r1", t0)
		if v, _, _, _ := l.LastKnownGood(ctx, web); v.Number != 5 {
			t.Errorf("last-known-good = %d, want 5", v.Number)
		}
	})
}

func TestResumerRefusesASecondResume(t *testing.T) {
	r := &Resumer{}
	if err := r.Resume(context.Background(), "tok", rollout.Signal{}); err != nil {
		t.Fatal(err)
	}
	var stale *rollout.StaleTokenError
	if err := r.Resume(context.Background(), "tok", rollout.Signal{}); !errors.As(err, &stale) {
		t.Errorf("err = %v, want StaleTokenError", err)
	}
}

func TestFleetKeepsThePortContract(t *testing.T) {
	ctx := context.Background()
	f := NewFleet()
	f.PutVersion(rollout.TemplateVersion{LaunchTemplateID: "lt-1", Number: 1, ImageID: "ami-1"})
	f.PutGroup(rollout.Group{Key: web, LaunchTemplateID: "lt-1", LaunchTemplateVersion: "1"})
	t.Run("a repeated client token returns the same version", func(t *testing.T) {
		a, _ := f.CreateVersion(ctx, "eu-west-1", "lt-1", 1, "ami-2", "tok", "")
		b, _ := f.CreateVersion(ctx, "eu-west-1", "lt-1", 1, "ami-2", "tok", "")
		if a.Number != 2 || b.Number != 2 || f.Versions("lt-1") != 2 {
			t.Errorf("versions %d and %d, %d in all", a.Number, b.Number, f.Versions("lt-1"))
		}
	})
	t.Run("a second refresh while one is active is refused", func(t *testing.T) {
		if _, err := f.StartRefresh(ctx, rollout.RefreshSpec{Group: web, LaunchTemplateID: "lt-1", Version: 2}); err != nil {
			t.Fatal(err)
		}
		var busy *rollout.RefreshInProgressError
		if _, err := f.StartRefresh(ctx, rollout.RefreshSpec{Group: web, LaunchTemplateID: "lt-1", Version: 2}); !errors.As(err, &busy) {
			t.Errorf("err = %v, want RefreshInProgressError", err)
		}
	})
	t.Run("a lost answer still makes the change", func(t *testing.T) {
		f.FailAfter("SetDefaultVersion", errors.New("timeout"))
		if err := f.SetDefaultVersion(ctx, "eu-west-1", "lt-1", 2); err == nil {
			t.Fatal("the injected failure was not returned")
		}
		if f.DefaultVersion("lt-1") != 2 {
			t.Error("the change was not made")
		}
	})
}
