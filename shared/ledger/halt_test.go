package ledger

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

func TestHalts(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	web, api := uniqueGroup(), uniqueGroup()
	halted := func(g rollout.GroupKey) (rollout.Halt, bool) {
		t.Helper()
		h, ok, err := e.l.Halted(ctx, g)
		if err != nil {
			t.Fatal(err)
		}
		return h, ok
	}
	if _, ok := halted(web); ok {
		t.Fatal("a fresh ledger is halted")
	}
	if err := e.l.SetHalt(ctx, rollout.Halt{Group: web, Reason: "incident 42", By: "alice", At: t0}); err != nil {
		t.Fatal(err)
	}
	if h, ok := halted(web); !ok || h.Group != web || h.Reason != "incident 42" || h.By != "alice" || !h.At.Equal(t0) {
		t.Errorf("web's halt %+v %v", h, ok)
	}
	if _, ok := halted(api); ok {
		t.Error("a group halt covers another group")
	}
	if err := e.l.SetHalt(ctx, rollout.Halt{Reason: "freeze for the sale", By: "bob", At: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if h, ok := halted(api); !ok || !h.Global() || h.Reason != "freeze for the sale" {
		t.Errorf("api under a global halt: %+v %v", h, ok)
	}
	if h, _ := halted(web); h.Reason != "incident 42" {
		t.Errorf("web's own halt should be reported before the global one, got %+v", h)
	}
	all, err := e.l.Halts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || !all[0].Global() || all[1].Group != web {
		t.Errorf("halts %+v, want the global one first, then web's", all)
	}
	if err := e.l.ClearHalt(ctx, rollout.GroupKey{}); err != nil {
		t.Fatal(err)
	}
	if err := e.l.ClearHalt(ctx, web); err != nil {
		t.Fatal(err)
	}
	if err := e.l.ClearHalt(ctx, web); err != nil {
		t.Errorf("clearing a cleared halt: %v", err)
	}
	if _, ok := halted(web); ok {
		t.Error("web still halted after both halts were cleared")
	}
	var bad *rollout.BadInputError
	if err := e.l.SetHalt(ctx, rollout.Halt{Group: web, At: t0}); !errors.As(err, &bad) {
		t.Errorf("a halt without a reason: %v, want BadInputError", err)
	}
}
