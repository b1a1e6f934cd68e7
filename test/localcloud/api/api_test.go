package api_test

import (
	"context"
	"sync"
	"testing"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

type input struct {
	Name *string
	N    int
}

// recordingLocker counts Lock and Unlock calls on a real mutex.
type recordingLocker struct {
	mu             sync.Mutex
	locks, unlocks int
}

func (l *recordingLocker) Lock()   { l.mu.Lock(); l.locks++ }
func (l *recordingLocker) Unlock() { l.unlocks++; l.mu.Unlock() }

func TestBeginReplacesNilInput(t *testing.T) {
	var mu sync.Mutex
	in, _, done := api.Begin[input](context.Background(), &mu, nil)
	defer done()
	if in == nil {
		t.Fatal("Begin returned a nil input for a nil input")
	}
	if in.Name != nil || in.N != 0 {
		t.Fatalf("input = %+v, want the zero value", *in)
	}
}

func TestBeginKeepsGivenInput(t *testing.T) {
	var mu sync.Mutex
	given := &input{N: 7}
	in, _, done := api.Begin(context.Background(), &mu, given)
	defer done()
	if in != given {
		t.Fatalf("Begin returned %p, want the given input %p", in, given)
	}
	if in.N != 7 {
		t.Fatalf("input changed: %+v", *in)
	}
}

func TestBeginRegion(t *testing.T) {
	var mu sync.Mutex
	_, region, done := api.Begin(context.Background(), &mu, &input{})
	done()
	if region != api.DefaultRegion {
		t.Fatalf("region without a request = %q, want %q", region, api.DefaultRegion)
	}
	ctx := api.WithRequest(context.Background(), api.Request{Region: "eu-west-1"})
	_, region, done = api.Begin(ctx, &mu, &input{})
	done()
	if region != "eu-west-1" {
		t.Fatalf("region = %q, want the request's eu-west-1", region)
	}
}

func TestBeginHoldsLockUntilDone(t *testing.T) {
	var mu sync.Mutex
	_, _, done := api.Begin(context.Background(), &mu, &input{})
	if mu.TryLock() {
		t.Fatal("the lock is free after Begin; want it held until done is called")
	}
	done()
	if !mu.TryLock() {
		t.Fatal("the lock is still held after done")
	}
	mu.Unlock()

	l := &recordingLocker{}
	_, _, done = api.Begin[input](context.Background(), l, nil)
	if l.locks != 1 || l.unlocks != 0 {
		t.Fatalf("after Begin: %d locks, %d unlocks; want 1 and 0", l.locks, l.unlocks)
	}
	done()
	if l.locks != 1 || l.unlocks != 1 {
		t.Fatalf("after done: %d locks, %d unlocks; want 1 and 1", l.locks, l.unlocks)
	}
}
