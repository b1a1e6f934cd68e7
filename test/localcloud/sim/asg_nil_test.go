package sim

import (
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api/apitest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
)

// TestAutoScalingNilInput: every Auto Scaling operation answers a nil input
// as the empty request it stands for (the SDK sends an empty input for
// nil) instead of panicking: a validation error where a member is
// required, the empty listing otherwise.
func TestAutoScalingNilInput(t *testing.T) {
	a := New(Options{Clock: clock.NewStepped(time.Time{}), Seed: TestSeed}).AutoScaling()
	apitest.NilAnswers(t, "CreateAutoScalingGroup", a.CreateAutoScalingGroup, "ValidationError")
	apitest.NilAnswers(t, "UpdateAutoScalingGroup", a.UpdateAutoScalingGroup, "ValidationError")
	apitest.NilAnswers(t, "DeleteAutoScalingGroup", a.DeleteAutoScalingGroup, "ValidationError")
	apitest.NilAnswers(t, "SetDesiredCapacity", a.SetDesiredCapacity, "ValidationError")
	apitest.NilAnswers(t, "SuspendProcesses", a.SuspendProcesses, "ValidationError")
	apitest.NilAnswers(t, "ResumeProcesses", a.ResumeProcesses, "ValidationError")
	apitest.NilAnswers(t, "SetInstanceProtection", a.SetInstanceProtection, "ValidationError")
	apitest.NilAnswers(t, "EnterStandby", a.EnterStandby, "ValidationError")
	apitest.NilAnswers(t, "ExitStandby", a.ExitStandby, "ValidationError")
	apitest.NilAnswers(t, "TerminateInstanceInAutoScalingGroup", a.TerminateInstanceInAutoScalingGroup, "ValidationError")
	apitest.NilAnswers(t, "SetInstanceHealth", a.SetInstanceHealth, "ValidationError")
	apitest.NilAnswers(t, "CreateOrUpdateTags", a.CreateOrUpdateTags, "ValidationError")
	apitest.NilAnswers(t, "DeleteTags", a.DeleteTags, "ValidationError")
	apitest.NilAnswers(t, "CreateLaunchConfiguration", a.CreateLaunchConfiguration, "ValidationError")
	apitest.NilAnswers(t, "DeleteLaunchConfiguration", a.DeleteLaunchConfiguration, "ValidationError")
	apitest.NilAnswers(t, "StartInstanceRefresh", a.StartInstanceRefresh, "ValidationError")
	apitest.NilAnswers(t, "DescribeInstanceRefreshes", a.DescribeInstanceRefreshes, "ValidationError")
	apitest.NilAnswers(t, "CancelInstanceRefresh", a.CancelInstanceRefresh, "ValidationError")
	apitest.NilAnswers(t, "RollbackInstanceRefresh", a.RollbackInstanceRefresh, "ValidationError")
	apitest.NilAnswers(t, "PutLifecycleHook", a.PutLifecycleHook, "ValidationError")
	apitest.NilAnswers(t, "DescribeLifecycleHooks", a.DescribeLifecycleHooks, "ValidationError")
	apitest.NilAnswers(t, "DeleteLifecycleHook", a.DeleteLifecycleHook, "ValidationError")
	apitest.NilAnswers(t, "CompleteLifecycleAction", a.CompleteLifecycleAction, "ValidationError")
	apitest.NilAnswers(t, "RecordLifecycleActionHeartbeat", a.RecordLifecycleActionHeartbeat, "ValidationError")

	apitest.NilAnswers(t, "DescribeAutoScalingGroups", a.DescribeAutoScalingGroups, "")
	apitest.NilAnswers(t, "DescribeAutoScalingInstances", a.DescribeAutoScalingInstances, "")
	apitest.NilAnswers(t, "DescribeScalingActivities", a.DescribeScalingActivities, "")
	apitest.NilAnswers(t, "DescribeTags", a.DescribeTags, "")
	apitest.NilAnswers(t, "DescribeLaunchConfigurations", a.DescribeLaunchConfigurations, "")
	apitest.NilAnswers(t, "DescribeLifecycleHookTypes", a.DescribeLifecycleHookTypes, "")
}
