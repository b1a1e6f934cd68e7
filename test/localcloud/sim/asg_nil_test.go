package sim

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

// TestAutoScalingNilInput: every Auto Scaling operation answers a nil input
// as the empty request it stands for (the SDK sends an empty input for
// nil) instead of panicking: a validation error where a member is
// required, the empty listing otherwise.
func TestAutoScalingNilInput(t *testing.T) {
	a := New(Options{Clock: clock.NewStepped(time.Time{}), Seed: TestSeed}).AutoScaling()
	invalid := func(name string, err error) {
		t.Helper()
		var e *api.Error
		if !errors.As(err, &e) || e.Code != "ValidationError" {
			t.Errorf("%s(nil) = %v, want a ValidationError", name, err)
		}
	}
	invalid("CreateAutoScalingGroup", nilLikeEmpty(t, "CreateAutoScalingGroup", a.CreateAutoScalingGroup))
	invalid("UpdateAutoScalingGroup", nilLikeEmpty(t, "UpdateAutoScalingGroup", a.UpdateAutoScalingGroup))
	invalid("DeleteAutoScalingGroup", nilLikeEmpty(t, "DeleteAutoScalingGroup", a.DeleteAutoScalingGroup))
	invalid("SetDesiredCapacity", nilLikeEmpty(t, "SetDesiredCapacity", a.SetDesiredCapacity))
	invalid("SuspendProcesses", nilLikeEmpty(t, "SuspendProcesses", a.SuspendProcesses))
	invalid("ResumeProcesses", nilLikeEmpty(t, "ResumeProcesses", a.ResumeProcesses))
	invalid("SetInstanceProtection", nilLikeEmpty(t, "SetInstanceProtection", a.SetInstanceProtection))
	invalid("EnterStandby", nilLikeEmpty(t, "EnterStandby", a.EnterStandby))
	invalid("ExitStandby", nilLikeEmpty(t, "ExitStandby", a.ExitStandby))
	invalid("TerminateInstanceInAutoScalingGroup", nilLikeEmpty(t, "TerminateInstanceInAutoScalingGroup", a.TerminateInstanceInAutoScalingGroup))
	invalid("SetInstanceHealth", nilLikeEmpty(t, "SetInstanceHealth", a.SetInstanceHealth))
	invalid("CreateOrUpdateTags", nilLikeEmpty(t, "CreateOrUpdateTags", a.CreateOrUpdateTags))
	invalid("DeleteTags", nilLikeEmpty(t, "DeleteTags", a.DeleteTags))
	invalid("CreateLaunchConfiguration", nilLikeEmpty(t, "CreateLaunchConfiguration", a.CreateLaunchConfiguration))
	invalid("DeleteLaunchConfiguration", nilLikeEmpty(t, "DeleteLaunchConfiguration", a.DeleteLaunchConfiguration))
	invalid("StartInstanceRefresh", nilLikeEmpty(t, "StartInstanceRefresh", a.StartInstanceRefresh))
	invalid("DescribeInstanceRefreshes", nilLikeEmpty(t, "DescribeInstanceRefreshes", a.DescribeInstanceRefreshes))
	invalid("CancelInstanceRefresh", nilLikeEmpty(t, "CancelInstanceRefresh", a.CancelInstanceRefresh))
	invalid("RollbackInstanceRefresh", nilLikeEmpty(t, "RollbackInstanceRefresh", a.RollbackInstanceRefresh))

	nilLikeEmpty(t, "DescribeAutoScalingGroups", a.DescribeAutoScalingGroups)
	nilLikeEmpty(t, "DescribeAutoScalingInstances", a.DescribeAutoScalingInstances)
	nilLikeEmpty(t, "DescribeScalingActivities", a.DescribeScalingActivities)
	nilLikeEmpty(t, "DescribeTags", a.DescribeTags)
	nilLikeEmpty(t, "DescribeLaunchConfigurations", a.DescribeLaunchConfigurations)
}
