package functions

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

// TestLambdaNilInput: the operations that open with api.Begin answer a nil
// input as the empty request it stands for instead of panicking.
func TestLambdaNilInput(t *testing.T) {
	s, err := New(Options{Clock: clock.NewStepped(time.Time{}), WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	nilErrCode(t, "GetFunction", nilLikeEmpty(t, "GetFunction", s.GetFunction), "ValidationException")
	nilErrCode(t, "GetFunctionConfiguration", nilLikeEmpty(t, "GetFunctionConfiguration", s.GetFunctionConfiguration), "ValidationException")
	nilErrCode(t, "PutFunctionEventInvokeConfig", nilLikeEmpty(t, "PutFunctionEventInvokeConfig", s.PutFunctionEventInvokeConfig), "ValidationException")
	nilErrCode(t, "GetFunctionEventInvokeConfig", nilLikeEmpty(t, "GetFunctionEventInvokeConfig", s.GetFunctionEventInvokeConfig), "ValidationException")
	nilLikeEmpty(t, "ListFunctions", s.ListFunctions)
}
