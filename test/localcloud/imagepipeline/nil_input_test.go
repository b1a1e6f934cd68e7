package imagepipeline

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/sim"
)

// nilLikeEmpty checks that op answers a nil input (as a Go caller may pass
// to an SDK client method) as it answers an empty one: with the same error
// code, message and status, or an equal output. It returns the nil call's
// error.
func nilLikeEmpty[In, Out, Opt any](t *testing.T, name string, op func(context.Context, *In, ...Opt) (*Out, error)) error {
	t.Helper()
	ctx := context.Background()
	var got *Out
	var gotErr error
	panicked := func() (p any) {
		defer func() { p = recover() }()
		got, gotErr = op(ctx, nil)
		return nil
	}()
	if panicked != nil {
		t.Errorf("%s(nil) panicked: %v", name, panicked)
		return nil
	}
	want, wantErr := op(ctx, new(In))
	if wantErr == nil {
		if gotErr != nil {
			t.Errorf("%s(nil) = %v, want the empty input's answer (no error)", name, gotErr)
		} else if !reflect.DeepEqual(got, want) {
			t.Errorf("%s(nil) = %+v, want the empty input's %+v", name, got, want)
		}
		return gotErr
	}
	var g, w *api.Error
	if !errors.As(gotErr, &g) || !errors.As(wantErr, &w) || g.Code != w.Code || g.Message != w.Message || g.HTTPStatus() != w.HTTPStatus() {
		t.Errorf("%s(nil) = %v, want the empty input's %v", name, gotErr, wantErr)
	}
	return gotErr
}

// nilErrCode checks the code of the error a nil input got.
func nilErrCode(t *testing.T, name string, err error, code string) {
	t.Helper()
	var e *api.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Errorf("%s(nil) = %v, want %s", name, err, code)
	}
}

// TestImageBuilderNilInput: GetImage answers a nil input as the empty
// request it stands for, with the error it answered nil with before.
func TestImageBuilderNilInput(t *testing.T) {
	clk := clock.NewStepped(time.Time{})
	w := sim.New(sim.Options{Clock: clk, Seed: 5})
	b := New(Options{Clock: clk, Events: w, EC2: w.EC2(), Account: w.Account()})
	nilErrCode(t, "GetImage", nilLikeEmpty(t, "GetImage", b.GetImage), "InvalidRequestException")
}
