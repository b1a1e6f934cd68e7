package ledger

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

func checkpoint(pct int, at time.Time) rollout.Signal {
	return rollout.Signal{Kind: rollout.SignalCheckpoint, RefreshID: "ir-1", Percentage: pct, At: at}
}

// seqs lists the sequence numbers of ss.
func seqs(ss []rollout.Signal) []int64 {
	var out []int64
	for _, s := range ss {
		out = append(out, s.Seq)
	}
	return out
}

func TestSignals(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	cases := []struct {
		name string
		run  func(t *testing.T, id string)
	}{
		{"a signal that arrives before the token is parked is returned by Park", func(t *testing.T, id string) {
			sent := checkpoint(50, t0)
			added, token, err := e.l.AddSignal(ctx, id, sent)
			if err != nil {
				t.Fatal(err)
			}
			if token != "" || added.Seq != 1 {
				t.Fatalf("AddSignal gave seq %d and token %q, want 1 and none", added.Seq, token)
			}
			got, err := e.l.Park(ctx, id, "token-1", 0)
			if err != nil {
				t.Fatal(err)
			}
			sent.Seq = 1
			if len(got) != 1 || got[0] != sent {
				t.Fatalf("Park returned %+v, want [%+v]", got, sent)
			}
		}},
		{"AddSignal returns the token parked before it", func(t *testing.T, id string) {
			if got, err := e.l.Park(ctx, id, "token-1", 0); err != nil || len(got) != 0 {
				t.Fatalf("Park: %+v, %v; want nothing yet", got, err)
			}
			_, token, err := e.l.AddSignal(ctx, id, checkpoint(50, t0))
			if err != nil {
				t.Fatal(err)
			}
			if token != "token-1" {
				t.Fatalf("token %q, want token-1", token)
			}
		}},
		{"a new Park replaces the token", func(t *testing.T, id string) {
			for _, tok := range []string{"token-1", "token-2"} {
				if _, err := e.l.Park(ctx, id, tok, 0); err != nil {
					t.Fatal(err)
				}
			}
			if _, token, err := e.l.AddSignal(ctx, id, checkpoint(50, t0)); err != nil || token != "token-2" {
				t.Fatalf("token %q, %v; want token-2", token, err)
			}
		}},
		{"Park returns only the signals after the last one consumed", func(t *testing.T, id string) {
			for i := range 3 {
				if _, _, err := e.l.AddSignal(ctx, id, checkpoint(25*(i+1), t0.Add(time.Duration(i)*time.Minute))); err != nil {
					t.Fatal(err)
				}
			}
			got, err := e.l.Park(ctx, id, "token-2", 1)
			if err != nil {
				t.Fatal(err)
			}
			if s := seqs(got); !slices.Equal(s, []int64{2, 3}) || got[0].Percentage != 50 {
				t.Fatalf("Park after 1 returned %+v, want seqs 2 and 3 in order", got)
			}
			if got, err := e.l.Park(ctx, id, "token-3", 3); err != nil || len(got) != 0 {
				t.Fatalf("Park after the last: %+v, %v; want nothing", got, err)
			}
		}},
		{"a retried AddSignal records the signal once", func(t *testing.T, id string) {
			s := rollout.Signal{Kind: rollout.SignalFailed, RefreshID: "ir-1", Reason: "instances failed to launch", At: t0}
			first, _, err := e.l.AddSignal(ctx, id, s)
			if err != nil {
				t.Fatal(err)
			}
			again, _, err := e.l.AddSignal(ctx, id, s)
			if err != nil {
				t.Fatal(err)
			}
			if again != first {
				t.Fatalf("the retry gave %+v, want %+v", again, first)
			}
			got, err := e.l.Park(ctx, id, "token-1", 0)
			if err != nil || len(got) != 1 {
				t.Fatalf("Park: %+v, %v; want the signal once", got, err)
			}
			if n := e.count("signal recorded", `"rolloutId":"`+id+`"`); n != 1 {
				t.Fatalf("the signal was logged %d times, want once", n)
			}
		}},
		{"two signals differing only in time are both recorded", func(t *testing.T, id string) {
			for i := range 2 {
				s := rollout.Signal{Kind: rollout.SignalInProgress, RefreshID: "ir-1", At: t0.Add(time.Duration(i) * time.Millisecond)}
				if got, _, err := e.l.AddSignal(ctx, id, s); err != nil || got.Seq != int64(i+1) {
					t.Fatalf("signal %d: seq %d, %v", i, got.Seq, err)
				}
			}
		}},
		{"a signal without a kind is bad input", func(t *testing.T, id string) {
			var bad *rollout.BadInputError
			if _, _, err := e.l.AddSignal(ctx, id, rollout.Signal{At: t0}); !errors.As(err, &bad) {
				t.Fatalf("got %v, want a BadInputError", err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, e.put(t, newRollout(uniqueGroup(), t0)).ID)
		})
	}
}

// failingPut makes the first PutItem of a signal item fail with
// InternalServerError after DynamoDB has seen it not: a Lambda that died
// between taking the sequence number and writing the signal.
type failingPut struct {
	Client
	mu     sync.Mutex
	failed bool
}

func (f *failingPut) PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	f.mu.Lock()
	sk, _ := in.Item[attrSK].(*types.AttributeValueMemberS)
	fail := !f.failed && sk != nil && strings.HasPrefix(sk.Value, prefixSignal)
	f.failed = f.failed || fail
	f.mu.Unlock()
	if fail {
		return nil, &types.InternalServerError{Message: aws.String("injected")}
	}
	return f.Client.PutItem(ctx, in, optFns...)
}

func TestASignalWhoseFirstAttemptDiedHalfwayIsCompletedByTheRetry(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	id := e.put(t, newRollout(uniqueGroup(), t0)).ID
	flaky := New(&failingPut{Client: e.client}, e.table).WithLogger(slog.New(slog.DiscardHandler))
	s := checkpoint(50, t0)
	if _, _, err := flaky.AddSignal(ctx, id, s); !rollout.IsTransient(err) {
		t.Fatalf("first attempt: got %v, want a TransientError", err)
	}
	got, _, err := flaky.AddSignal(ctx, id, s)
	if err != nil {
		t.Fatal(err)
	}
	if got.Seq != 1 {
		t.Fatalf("the retry got seq %d, want the first attempt's 1 (no gap)", got.Seq)
	}
	parked, err := e.l.Park(ctx, id, "token-1", 0)
	if err != nil || len(parked) != 1 || parked[0].Seq != 1 {
		t.Fatalf("Park: %+v, %v; want signal 1", parked, err)
	}
}

func TestRacingAddSignalsGetUniqueGapFreeSeqs(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	id := e.put(t, newRollout(uniqueGroup(), t0)).ID
	const senders = 16
	got := make([]int64, senders)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range senders {
		wg.Go(func() {
			<-start
			s, _, err := e.l.AddSignal(ctx, id, rollout.Signal{Kind: rollout.SignalInProgress, At: t0.Add(time.Duration(i) * time.Second)})
			if err != nil {
				t.Error(err)
			}
			got[i] = s.Seq
		})
	}
	close(start)
	wg.Wait()
	slices.Sort(got)
	for i, seq := range got {
		if seq != int64(i+1) {
			t.Fatalf("seqs %v, want 1..%d each once", got, senders)
		}
	}
	stored, err := e.l.Park(ctx, id, "token-1", 0)
	if err != nil {
		t.Fatal(err)
	}
	if s := seqs(stored); !slices.Equal(s, got) {
		t.Fatalf("stored seqs %v, want %v in order", s, got)
	}
}

// TestNoWakeUpIsLostWhenParkAndAddSignalRace races Park against AddSignal
// on fresh rollouts: in every round, either AddSignal sees the token or
// Park sees the signal.
func TestNoWakeUpIsLostWhenParkAndAddSignalRace(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	const rounds = 40
	var viaToken, viaPark int
	for range rounds {
		id := e.put(t, newRollout(uniqueGroup(), t0)).ID
		var (
			wg     sync.WaitGroup
			token  string
			parked []rollout.Signal
			addErr error
			parErr error
		)
		start := make(chan struct{})
		wg.Go(func() {
			<-start
			_, token, addErr = e.l.AddSignal(ctx, id, checkpoint(50, t0))
		})
		wg.Go(func() {
			<-start
			parked, parErr = e.l.Park(ctx, id, "token-"+id, 0)
		})
		close(start)
		wg.Wait()
		if addErr != nil || parErr != nil {
			t.Fatalf("AddSignal: %v; Park: %v", addErr, parErr)
		}
		if token != "token-"+id && len(parked) == 0 {
			t.Fatalf("rollout %s: the wake-up was lost (AddSignal saw token %q, Park saw no signal)", id, token)
		}
		if token != "" {
			viaToken++
		}
		if len(parked) > 0 {
			viaPark++
		}
	}
	t.Logf("%d rounds: AddSignal saw the token %d times, Park saw the signal %d times", rounds, viaToken, viaPark)
}

func TestAnEndedRolloutKeepsNoTaskToken(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	r := e.put(t, newRollout(uniqueGroup(), t0))
	if _, err := e.l.Park(ctx, r.ID, "token-secret", 0); err != nil {
		t.Fatal(err)
	}
	token := func() string {
		t.Helper()
		tok, err := e.l.token(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	if _, err := e.l.UpdateRollout(ctx, r.ID, rollout.RolloutUpdate{Status: rollout.StatusRefreshing}); err != nil {
		t.Fatal(err)
	}
	if token() != "token-secret" {
		t.Fatal("a rollout in flight lost its parked token")
	}
	if _, err := e.l.UpdateRollout(ctx, r.ID, rollout.RolloutUpdate{Status: rollout.StatusFinalized, EndedAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if got := token(); got != "" {
		t.Errorf("the finalized rollout still holds token %q", got)
	}
}
