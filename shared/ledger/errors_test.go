package ledger

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/dynamo"
)

// The local cloud forwards DynamoDB requests to dynalite before its wire
// layer, where fault rules are applied, so faults.Throttle rules do not
// reach DynamoDB. These tests inject DynamoDB's error answers one level
// lower instead, in the real SDK client's HTTP client: the SDK's
// deserializer, error codes and retryer run exactly as against AWS.

// faultyHTTP answers DynamoDB requests with an error while it has faults
// left (every request if faults is negative) and forwards the rest.
type faultyHTTP struct {
	next aws.HTTPClient
	// status and code are the HTTP status and the DynamoDB error type.
	status int
	code   string

	mu       sync.Mutex
	faults   int
	answered int
}

func (f *faultyHTTP) Do(req *http.Request) (*http.Response, error) {
	f.mu.Lock()
	fault := f.faults != 0 && strings.HasPrefix(req.Header.Get("X-Amz-Target"), dynamo.TargetPrefix)
	if fault {
		f.faults--
		f.answered++
	}
	f.mu.Unlock()
	if !fault {
		return f.next.Do(req)
	}
	body := fmt.Sprintf(`{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":"injected by the test"}`, f.code)
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", f.status, http.StatusText(f.status)),
		StatusCode:    f.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/x-amz-json-1.0"}, "X-Amzn-Requestid": {"injected"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}, nil
}

// faulty returns a ledger on e's table whose client meets the faults.
func (e *testEnv) faulty(status int, code string, faults int) (*Ledger, *faultyHTTP) {
	f := &faultyHTTP{next: e.cloud.Config.HTTPClient, status: status, code: code, faults: faults}
	cfg := e.cloud.Config.Copy()
	cfg.HTTPClient = f
	return New(dynamodb.NewFromConfig(cfg), e.table).WithLogger(slog.New(slog.DiscardHandler)), f
}

// calls exercises every method of the ledger once.
func calls(r rollout.Rollout) map[string]func(context.Context, *Ledger) error {
	g := r.Group
	return map[string]func(context.Context, *Ledger) error{
		"AcquireLease": func(ctx context.Context, l *Ledger) error {
			return l.AcquireLease(ctx, lease(g, r.ID, t0.Add(time.Hour)), t0)
		},
		"ReleaseLease": func(ctx context.Context, l *Ledger) error { return l.ReleaseLease(ctx, g, r.ID) },
		"PutRollout":   func(ctx context.Context, l *Ledger) error { _, err := l.PutRollout(ctx, r); return err },
		"GetRollout":   func(ctx context.Context, l *Ledger) error { _, err := l.GetRollout(ctx, r.ID); return err },
		"UpdateRollout": func(ctx context.Context, l *Ledger) error {
			_, err := l.UpdateRollout(ctx, r.ID, rollout.RolloutUpdate{Status: rollout.StatusRefreshing})
			return err
		},
		"History": func(ctx context.Context, l *Ledger) error { _, err := l.History(ctx, g, time.Time{}, 0); return err },
		"Recent":  func(ctx context.Context, l *Ledger) error { _, err := l.Recent(ctx, time.Time{}, 0); return err },
		"LastKnownGood": func(ctx context.Context, l *Ledger) error {
			_, _, _, err := l.LastKnownGood(ctx, g)
			return err
		},
		"SetLastKnownGood": func(ctx context.Context, l *Ledger) error { return l.SetLastKnownGood(ctx, g, r.To, r.ID, t0) },
		"Park":             func(ctx context.Context, l *Ledger) error { _, err := l.Park(ctx, r.ID, "token", 0); return err },
		"AddSignal": func(ctx context.Context, l *Ledger) error {
			_, _, err := l.AddSignal(ctx, r.ID, checkpoint(50, t0))
			return err
		},
		"ActiveRollout": func(ctx context.Context, l *Ledger) error { _, _, err := l.ActiveRollout(ctx, g); return err },
	}
}

func TestFailuresWorthRetryingAreTransientErrors(t *testing.T) {
	e := newTestEnv(t)
	cases := []struct {
		name   string
		status int
		code   string
	}{
		{"throttling that outlasts the SDK's retries is a TransientError", 400, "ThrottlingException"},
		{"exceeded throughput that outlasts the SDK's retries is a TransientError", 400, "ProvisionedThroughputExceededException"},
		{"a server error that outlasts the SDK's retries is a TransientError", 500, "InternalServerError"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.put(t, newRollout(uniqueGroup(), t0))
			attempts := map[int]int{}
			defer func() { t.Logf("calls by SDK attempts before giving up: %v", attempts) }()
			for method, call := range calls(r) {
				l, f := e.faulty(tc.status, tc.code, -1)
				err := call(context.Background(), l)
				var tr *rollout.TransientError
				if !errors.As(err, &tr) {
					t.Errorf("%s: got %v, want a TransientError", method, err)
					continue
				}
				if !strings.Contains(err.Error(), tc.code) {
					t.Errorf("%s: the cause is lost: %v", method, err)
				}
				if f.answered < 2 {
					t.Errorf("%s: the SDK tried %d times, want retries", method, f.answered)
				}
				attempts[f.answered]++
			}
		})
	}
}

func TestAThrottleTheSDKRetriesThroughIsNotSeen(t *testing.T) {
	e := newTestEnv(t)
	r := e.put(t, newRollout(uniqueGroup(), t0))
	for method, call := range calls(r) {
		l, f := e.faulty(400, "ThrottlingException", 1)
		if err := call(context.Background(), l); err != nil {
			t.Errorf("%s: %v", method, err)
		}
		if f.answered != 1 {
			t.Errorf("%s: %d throttles answered, want 1", method, f.answered)
		}
	}
}

func TestAMissingTableIsNeitherTransientNorAMissingRollout(t *testing.T) {
	e := newTestEnv(t)
	l := New(e.client, "no-such-table")
	_, err := l.GetRollout(context.Background(), "r-1")
	var nf *rollout.NotFoundError
	if err == nil || rollout.IsTransient(err) || errors.As(err, &nf) {
		t.Fatalf("got %v, want a plain error", err)
	}
	if !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Fatalf("the cause is lost: %v", err)
	}
}
