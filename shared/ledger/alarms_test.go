package ledger

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/phoenix-rollouts/phoenix/shared/alarms"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

func claimOf(key alarms.ClaimKey, owner string) alarms.Claim {
	return alarms.Claim{Key: key, Owner: owner, Alarm: "web-5xx", At: t0}
}

// mustClaim claims and fails the test on error.
func (e *testEnv) mustClaim(t *testing.T, c alarms.Claim) (alarms.Claim, bool) {
	t.Helper()
	got, won, err := e.l.ClaimAlarm(context.Background(), c)
	if err != nil {
		t.Fatalf("ClaimAlarm(%s by %s): %v", c.Key, c.Owner, err)
	}
	return got, won
}

func TestAlarmClaims(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	keys := map[string]func() alarms.ClaimKey{
		"a rollout's signal": func() alarms.ClaimKey { return alarms.RolloutClaim(uniqueID("r"), alarms.ActionSignal) },
		"a rollout's revert": func() alarms.ClaimKey { return alarms.RolloutClaim(uniqueID("r"), alarms.ActionRevert) },
		"a group's notice":   func() alarms.ClaimKey { return alarms.NoticeClaim(uniqueGroup(), uniqueID("ev")) },
	}
	for what, newKey := range keys {
		t.Run("the first event to claim "+what+" wins it and later events lose to it", func(t *testing.T) {
			t.Parallel()
			k := newKey()
			got, won := e.mustClaim(t, claimOf(k, "ev-1"))
			if !won || got.Owner != "ev-1" || got.Notified {
				t.Fatalf("first claim = %+v, won %v; want ev-1's, not notified", got, won)
			}
			for _, other := range []string{"ev-2", "ev-3"} {
				got, won := e.mustClaim(t, claimOf(k, other))
				if won || got.Owner != "ev-1" || got.Alarm != "web-5xx" || !got.At.Equal(t0) {
					t.Fatalf("claim by %s = %+v, won %v; want it lost to ev-1", other, got, won)
				}
			}
		})
		t.Run("the same event claims "+what+" again after a retry, and sees whether it notified", func(t *testing.T) {
			t.Parallel()
			k := newKey()
			e.mustClaim(t, claimOf(k, "ev-1"))
			if got, won := e.mustClaim(t, claimOf(k, "ev-1")); !won || got.Notified {
				t.Fatalf("re-claim = %+v, won %v; want won, not notified", got, won)
			}
			if err := e.l.AlarmNotified(ctx, k, "ev-1"); err != nil {
				t.Fatal(err)
			}
			if got, won := e.mustClaim(t, claimOf(k, "ev-1")); !won || !got.Notified {
				t.Fatalf("re-claim after the notice = %+v, won %v; want won and notified", got, won)
			}
			if got, won := e.mustClaim(t, claimOf(k, "ev-2")); won || !got.Notified {
				t.Fatalf("claim by another event = %+v, won %v; want lost, the owner notified", got, won)
			}
		})
	}
	t.Run("only the owner records its notice", func(t *testing.T) {
		t.Parallel()
		k := alarms.RolloutClaim(uniqueID("r"), alarms.ActionSignal)
		e.mustClaim(t, claimOf(k, "ev-1"))
		if err := e.l.AlarmNotified(ctx, k, "ev-2"); err == nil || !strings.Contains(err.Error(), "does not hold") {
			t.Fatalf("notice recorded by a non-owner: %v", err)
		}
		if got, _ := e.mustClaim(t, claimOf(k, "ev-1")); got.Notified {
			t.Fatal("a non-owner's notice marked the claim notified")
		}
		if err := e.l.AlarmNotified(ctx, alarms.RolloutClaim(uniqueID("r"), alarms.ActionSignal), "ev-1"); err == nil {
			t.Fatal("a notice of a claim nobody took was recorded")
		}
	})
	t.Run("a rollout's signal and revert claims and each event's notice are distinct", func(t *testing.T) {
		t.Parallel()
		id, g := uniqueID("r"), uniqueGroup()
		for _, c := range []alarms.Claim{
			claimOf(alarms.RolloutClaim(id, alarms.ActionSignal), "ev-1"),
			claimOf(alarms.RolloutClaim(id, alarms.ActionRevert), "ev-2"),
			claimOf(alarms.NoticeClaim(g, "ev-1"), "ev-1"),
			claimOf(alarms.NoticeClaim(g, "ev-2"), "ev-2"),
			claimOf(alarms.NoticeClaim(rollout.GroupKey{Region: g.Region, Name: g.Name + "#x"}, "ev-1"), "ev-1"),
		} {
			if got, won := e.mustClaim(t, c); !won {
				t.Errorf("claim %s by %s lost to %s; the keys collide", c.Key, c.Owner, got.Owner)
			}
		}
	})
	t.Run("a notice claim expires a week after the alarm, for a table TTL", func(t *testing.T) {
		t.Parallel()
		g, ev := uniqueGroup(), uniqueID("ev")
		e.mustClaim(t, claimOf(alarms.NoticeClaim(g, ev), ev))
		pk, _ := groupPK(g)
		it, err := e.l.getItem(ctx, "read", pk, "ALARM#"+ev)
		if err != nil || it == nil {
			t.Fatalf("read the claim item: %v %v", it, err)
		}
		if n := (&reader{it: it}).num(attrExpiresAt); n != t0.Add(7*24*time.Hour).Unix() {
			t.Fatalf("expiresAt = %d, want %d", n, t0.Add(7*24*time.Hour).Unix())
		}
	})
	t.Run("malformed claims are bad input", func(t *testing.T) {
		t.Parallel()
		for _, c := range []alarms.Claim{
			claimOf(alarms.ClaimKey{}, "ev-1"),
			claimOf(alarms.RolloutClaim("r-1", alarms.ActionNotify), "ev-1"),
			claimOf(alarms.ClaimKey{RolloutID: "r-1", Action: alarms.ActionSignal, EventID: "ev-1"}, "ev-1"),
			claimOf(alarms.NoticeClaim(rollout.GroupKey{Region: "eu#west-1", Name: "web"}, "ev-1"), "ev-1"),
			claimOf(alarms.RolloutClaim("r-1", alarms.ActionSignal), ""),
		} {
			var bad *rollout.BadInputError
			if _, _, err := e.l.ClaimAlarm(ctx, c); !errors.As(err, &bad) {
				t.Errorf("claim %+v: got %v, want a BadInputError", c, err)
			}
		}
	})
}

func TestRacingAlarmEventsLeaveOneClaimant(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	const racers = 12
	for round := range 3 {
		k := alarms.RolloutClaim(uniqueID("r"), alarms.ActionSignal)
		var wg sync.WaitGroup
		owners := make([]string, racers)
		won := make([]bool, racers)
		errs := make([]error, racers)
		start := make(chan struct{})
		for i := range racers {
			wg.Go(func() {
				<-start
				var got alarms.Claim
				got, won[i], errs[i] = e.l.ClaimAlarm(ctx, claimOf(k, uniqueID("ev")))
				owners[i] = got.Owner
			})
		}
		close(start)
		wg.Wait()
		winners := 0
		for i := range racers {
			if errs[i] != nil {
				t.Fatalf("round %d: %v", round, errs[i])
			}
			if won[i] {
				winners++
			}
			if owners[i] != owners[0] {
				t.Fatalf("round %d: racers saw owners %q and %q", round, owners[0], owners[i])
			}
		}
		if winners != 1 {
			t.Fatalf("round %d: %d racers won the claim, want exactly 1", round, winners)
		}
	}
}

func TestAlarmClaimsLeaveTheRolloutsReadsAlone(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	g := uniqueGroup()
	r := e.put(t, newRollout(g, t0))
	e.mustClaim(t, claimOf(alarms.RolloutClaim(r.ID, alarms.ActionSignal), "ev-1"))
	e.mustClaim(t, claimOf(alarms.RolloutClaim(r.ID, alarms.ActionRevert), "ev-1"))
	e.mustClaim(t, claimOf(alarms.NoticeClaim(g, "ev-1"), "ev-1"))

	hist, err := e.l.History(ctx, g, time.Time{}, 0)
	if err != nil || len(hist) != 1 || hist[0].ID != r.ID {
		t.Fatalf("history = %+v, %v; want the one rollout", hist, err)
	}
	got, err := e.l.GetRollout(ctx, r.ID)
	if err != nil || got.ID != r.ID {
		t.Fatalf("GetRollout = %+v, %v", got, err)
	}
	s, _, err := e.l.AddSignal(ctx, r.ID, rollout.Signal{Kind: rollout.SignalAlarm, Alarm: "web-5xx", At: t0})
	if err != nil {
		t.Fatal(err)
	}
	pending, err := e.l.Park(ctx, r.ID, "token", 0)
	if err != nil || len(pending) != 1 || pending[0].Seq != s.Seq || pending[0].Kind != rollout.SignalAlarm {
		t.Fatalf("parked with %+v, %v; want exactly the alarm signal", pending, err)
	}
}

func TestAlarmClaimFailuresWorthRetryingAreTransient(t *testing.T) {
	e := newTestEnv(t)
	k := alarms.RolloutClaim(uniqueID("r"), alarms.ActionSignal)
	e.mustClaim(t, claimOf(k, "ev-1"))
	l, f := e.faulty(400, "ThrottlingException", -1)
	ctx := context.Background()
	_, _, err := l.ClaimAlarm(ctx, claimOf(k, "ev-2"))
	if !rollout.IsTransient(err) {
		t.Errorf("ClaimAlarm: got %v, want a TransientError", err)
	}
	if err := l.AlarmNotified(ctx, k, "ev-1"); !rollout.IsTransient(err) {
		t.Errorf("AlarmNotified: got %v, want a TransientError", err)
	}
	if f.answered < 4 {
		t.Errorf("%d requests answered with a throttle; the SDK should have retried each call", f.answered)
	}
}

// The claim items are what docs/alarms.md says they are.
func TestAlarmClaimItemsHaveTheDocumentedKeys(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	id, g := uniqueID("r"), uniqueGroup()
	e.mustClaim(t, claimOf(alarms.RolloutClaim(id, alarms.ActionRevert), "ev-9"))
	e.mustClaim(t, claimOf(alarms.NoticeClaim(g, "ev-9"), "ev-9"))
	gpk, _ := groupPK(g)
	for _, k := range [][2]string{{"ROLLOUT#" + id, "ALARM#revert"}, {gpk, "ALARM#ev-9"}} {
		it, err := e.l.getItem(ctx, "read", k[0], k[1])
		if err != nil || it == nil {
			t.Fatalf("no item %s/%s (%v)", k[0], k[1], err)
		}
		if o, ok := it[attrOwner].(*types.AttributeValueMemberS); !ok || o.Value != "ev-9" {
			t.Errorf("%s/%s owner = %v, want ev-9", k[0], k[1], it[attrOwner])
		}
	}
}
