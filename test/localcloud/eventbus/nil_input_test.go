package eventbus

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
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

// TestEventBridgeNilInput: the operations that open with api.Begin answer
// a nil input as the empty request it stands for: the validation error
// they answered nil with before, or the empty listing.
func TestEventBridgeNilInput(t *testing.T) {
	b := New(Options{Clock: clock.NewStepped(time.Time{}), Target: &Recorder{}})
	nilErrCode(t, "PutRule", nilLikeEmpty(t, "PutRule", b.PutRule), "ValidationException")
	nilErrCode(t, "DescribeRule", nilLikeEmpty(t, "DescribeRule", b.DescribeRule), "ValidationException")
	nilErrCode(t, "EnableRule", nilLikeEmpty(t, "EnableRule", b.EnableRule), "ValidationException")
	nilErrCode(t, "DisableRule", nilLikeEmpty(t, "DisableRule", b.DisableRule), "ValidationException")
	nilErrCode(t, "DeleteRule", nilLikeEmpty(t, "DeleteRule", b.DeleteRule), "ValidationException")
	nilErrCode(t, "PutTargets", nilLikeEmpty(t, "PutTargets", b.PutTargets), "ValidationException")
	nilErrCode(t, "RemoveTargets", nilLikeEmpty(t, "RemoveTargets", b.RemoveTargets), "ValidationException")
	nilErrCode(t, "ListTargetsByRule", nilLikeEmpty(t, "ListTargetsByRule", b.ListTargetsByRule), "ValidationException")
	nilErrCode(t, "PutEvents", nilLikeEmpty(t, "PutEvents", b.PutEvents), "ValidationException")
	nilLikeEmpty(t, "ListRules", b.ListRules)
}
