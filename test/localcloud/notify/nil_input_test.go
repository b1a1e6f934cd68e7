package notify

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

// TestSNSNilInput: the operations that open with api.Begin answer a nil
// input as the empty request it stands for: the error they answered nil
// with before, or the empty listing.
func TestSNSNilInput(t *testing.T) {
	s := New(Options{Clock: clock.NewStepped(time.Time{})})
	nilErrCode(t, "CreateTopic", nilLikeEmpty(t, "CreateTopic", s.CreateTopic), "InvalidParameter")
	nilErrCode(t, "GetTopicAttributes", nilLikeEmpty(t, "GetTopicAttributes", s.GetTopicAttributes), "InvalidParameter")
	nilErrCode(t, "DeleteTopic", nilLikeEmpty(t, "DeleteTopic", s.DeleteTopic), "InvalidParameter")
	nilErrCode(t, "Subscribe", nilLikeEmpty(t, "Subscribe", s.Subscribe), "InvalidParameter")
	nilErrCode(t, "ListSubscriptionsByTopic", nilLikeEmpty(t, "ListSubscriptionsByTopic", s.ListSubscriptionsByTopic), "InvalidParameter")
	nilErrCode(t, "Publish", nilLikeEmpty(t, "Publish", s.Publish), "InvalidParameter")
	nilLikeEmpty(t, "ListTopics", s.ListTopics)
}
