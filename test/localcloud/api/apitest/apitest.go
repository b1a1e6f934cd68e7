// Package apitest holds checks the model packages' tests share.
package apitest

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

// NilLikeEmpty checks that op answers a nil input (as a Go caller may pass
// to an SDK client method) as it answers an empty one: with the same error
// code, message and status, or an equal output, and without a panic. It
// returns the nil call's error.
func NilLikeEmpty[In, Out, Opt any](t *testing.T, name string, op func(context.Context, *In, ...Opt) (*Out, error)) error {
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

// NilAnswers checks that op answers a nil input as an empty one (NilLikeEmpty)
// and that the answer is the error code (or no error, for code "").
func NilAnswers[In, Out, Opt any](t *testing.T, name string, op func(context.Context, *In, ...Opt) (*Out, error), code string) {
	t.Helper()
	err := NilLikeEmpty(t, name, op)
	if code == "" {
		if err != nil {
			t.Errorf("%s(nil) = %v, want no error", name, err)
		}
		return
	}
	var e *api.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Errorf("%s(nil) = %v, want %s", name, err, code)
	}
}
