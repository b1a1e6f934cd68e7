package sim

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
)

// refreshFixture is a fixture with group "web" of n instances on version 1
// of a launch template whose version 2 launches newBehavior instances.
type refreshFixture struct {
	*fixture
	ltID string
}

// newRefreshFixture builds the group and waits until it is in service.
func newRefreshFixture(t *testing.T, backend Backend, n int32, newBehavior string) *refreshFixture {
	t.Helper()
	f := newFixture(t, backend)
	oldImage := f.image("app-v1", "")
	newImage := f.image("app-v2", newBehavior)
	lt := f.template("web-lt", oldImage)
	if v := f.version(lt, newImage); v != "2" {
		t.Fatalf("second version = %s, want 2", v)
	}
	f.group(groupSpec{name: "web", ltID: lt, version: "1", desired: n})
	return &refreshFixture{fixture: f, ltID: lt}
}

// desired returns a DesiredConfiguration for a version of the template.
func (f *refreshFixture) desired(version string) *types.DesiredConfiguration {
	return &types.DesiredConfiguration{LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(f.ltID), Version: aws.String(version)}}
}

// start starts a refresh of "web" to version 2 with prefs.
func (f *refreshFixture) start(prefs *types.RefreshPreferences) string {
	f.t.Helper()
	return f.refresh(&autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("web"), DesiredConfiguration: f.desired("2"), Preferences: prefs})
}

func testStartInstanceRefreshRefusesWhatAWSRefuses(t *testing.T, backend Backend) {
	t.Parallel()
	f := newRefreshFixture(t, backend, 2, "")
	f.setAlarm("errors", AlarmOK)
	eleven := make([]string, 11)
	for i := range eleven {
		eleven[i] = "errors"
	}
	type refusal struct {
		name     string
		desired  *types.DesiredConfiguration
		prefs    *types.RefreshPreferences
		code     string
		fragment string
	}
	cases := []refusal{
		{"AutoRollback without a desired configuration is refused", nil, &types.RefreshPreferences{AutoRollback: aws.Bool(true)}, "ValidationError", "AutoRollback parameter cannot be set to true when the DesiredConfiguration parameter is empty"},
		{"MinHealthyPercentage above 100 is refused", f.desired("2"), &types.RefreshPreferences{MinHealthyPercentage: aws.Int32(101)}, "ValidationError", "less than or equal to 100"},
		{"MinHealthyPercentage below 0 is refused", f.desired("2"), &types.RefreshPreferences{MinHealthyPercentage: aws.Int32(-1)}, "ValidationError", "greater than or equal to 0"},
		{"MaxHealthyPercentage below 100 is refused", f.desired("2"), &types.RefreshPreferences{MinHealthyPercentage: aws.Int32(90), MaxHealthyPercentage: aws.Int32(99)}, "ValidationError", "greater than or equal to 100"},
		{"MaxHealthyPercentage above 200 is refused", f.desired("2"), &types.RefreshPreferences{MinHealthyPercentage: aws.Int32(100), MaxHealthyPercentage: aws.Int32(201)}, "ValidationError", "less than or equal to 200"},
		{"MaxHealthyPercentage needs MinHealthyPercentage", f.desired("2"), &types.RefreshPreferences{MaxHealthyPercentage: aws.Int32(150)}, "ValidationError", "you must also specify MinHealthyPercentage"},
		{"max minus min healthy may not exceed 100", f.desired("2"), &types.RefreshPreferences{MinHealthyPercentage: aws.Int32(40), MaxHealthyPercentage: aws.Int32(150)}, "ValidationError", "can't be greater than 100"},
		{"checkpoint percentages must ascend", f.desired("2"), &types.RefreshPreferences{CheckpointPercentages: []int32{50, 20}}, "ValidationError", "ascending"},
		{"checkpoint percentages must be unique", f.desired("2"), &types.RefreshPreferences{CheckpointPercentages: []int32{50, 50, 100}}, "ValidationError", "unique"},
		{"a checkpoint percentage above 100 is refused", f.desired("2"), &types.RefreshPreferences{CheckpointPercentages: []int32{50, 101}}, "ValidationError", "less than or equal to 100"},
		{"CheckpointDelay needs CheckpointPercentages", f.desired("2"), &types.RefreshPreferences{CheckpointDelay: aws.Int32(60)}, "ValidationError", "must also specify CheckpointPercentages"},
		{"CheckpointDelay above 172800 seconds is refused", f.desired("2"), &types.RefreshPreferences{CheckpointPercentages: []int32{100}, CheckpointDelay: aws.Int32(172801)}, "ValidationError", "less than or equal to 172800"},
		{"BakeTime above 172800 seconds is refused", f.desired("2"), &types.RefreshPreferences{BakeTime: aws.Int32(172801)}, "ValidationError", "less than or equal to 172800"},
		{"more than ten alarms are refused", f.desired("2"), &types.RefreshPreferences{AlarmSpecification: &types.AlarmSpecification{Alarms: eleven}}, "ValidationError", "less than or equal to 10"},
		{"an alarm that does not exist is refused", f.desired("2"), &types.RefreshPreferences{AlarmSpecification: &types.AlarmSpecification{Alarms: []string{"no-such-alarm"}}}, "ValidationError", "no-such-alarm doesn't exist"},
		{"AutoRollback to $Latest is refused", f.desired("$Latest"), &types.RefreshPreferences{AutoRollback: aws.Bool(true)}, "ValidationError", "$Latest or $Default"},
		{"AutoRollback to $Default is refused", f.desired("$Default"), &types.RefreshPreferences{AutoRollback: aws.Bool(true)}, "ValidationError", "$Latest or $Default"},
		{"ScaleInProtectedInstances outside Refresh, Ignore and Wait is refused", f.desired("2"), &types.RefreshPreferences{ScaleInProtectedInstances: "Sometimes"}, "ValidationError", "[Refresh, Ignore, Wait]"},
		{"StandbyInstances outside Terminate, Ignore and Wait is refused", f.desired("2"), &types.RefreshPreferences{StandbyInstances: "Later"}, "ValidationError", "[Terminate, Ignore, Wait]"},
		{"a desired configuration with an unknown version is refused", f.desired("9"), nil, "ValidationError", "valid fully-formed launch template"},
	}
	if !f.overHTTP {
		// The query protocol writes nothing for an empty structure, so over
		// HTTP this request arrives without a desired configuration at all;
		// only direct callers (Step Functions' aws-sdk tasks) can send it.
		cases = append(cases, refusal{"a desired configuration without a launch template is refused", &types.DesiredConfiguration{}, nil, "ValidationError", "launch template or a mixed instances policy"})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.as.StartInstanceRefresh(f.ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("web"), DesiredConfiguration: tc.desired, Preferences: tc.prefs})
			wantCode(t, err, tc.code, tc.fragment)
		})
	}
	t.Run("an unknown group is refused", func(t *testing.T) {
		_, err := f.as.StartInstanceRefresh(f.ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("nope")})
		wantCode(t, err, "ValidationError", "not found")
	})
	t.Run("only one refresh per group may be active", func(t *testing.T) {
		f.start(nil)
		_, err := f.as.StartInstanceRefresh(f.ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("web"), DesiredConfiguration: f.desired("2")})
		wantCode(t, err, "InstanceRefreshInProgress", "already in progress")
	})
}

func testAttributeBasedGroupsRejectDesiredConfiguration(t *testing.T, backend Backend) {
	t.Parallel()
	f := newFixture(t, backend)
	lt := f.template("abis", f.image("abis-img", ""))
	_, err := f.as.CreateAutoScalingGroup(f.ctx, &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String("abis"),
		MinSize:              aws.Int32(0), MaxSize: aws.Int32(2), DesiredCapacity: aws.Int32(1),
		AvailabilityZones: []string{"us-east-1a"},
		MixedInstancesPolicy: &types.MixedInstancesPolicy{LaunchTemplate: &types.LaunchTemplate{
			LaunchTemplateSpecification: &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(lt), Version: aws.String("1")},
			Overrides: []types.LaunchTemplateOverrides{{InstanceRequirements: &types.InstanceRequirements{
				VCpuCount: &types.VCpuCountRequest{Min: aws.Int32(2)}, MemoryMiB: &types.MemoryMiBRequest{Min: aws.Int32(4096)},
			}}},
		}},
	})
	if err != nil {
		t.Fatalf("create attribute-based group: %v", err)
	}
	_, err = f.as.StartInstanceRefresh(f.ctx, &autoscaling.StartInstanceRefreshInput{
		AutoScalingGroupName: aws.String("abis"),
		DesiredConfiguration: &types.DesiredConfiguration{LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(lt), Version: aws.String("1")}},
	})
	wantCode(t, err, "ValidationError", "attribute-based instance type selection")
	if _, err := f.as.StartInstanceRefresh(f.ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("abis")}); err != nil {
		t.Fatalf("a refresh without a desired configuration should start: %v", err)
	}
}

// refreshStats are the extremes a group went through during a refresh.
type refreshStats struct {
	minReady    int
	maxCapacity int
}

// watch runs the clock until the refresh ends, recording the extremes of
// healthy, warmed-up capacity and of instances in service or pending.
func (f *refreshFixture) watch(id string, limit time.Duration) (refreshStats, string) {
	f.t.Helper()
	st := refreshStats{minReady: 1 << 30}
	var final string
	f.until(limit, "refresh "+id+" ends", func() bool {
		g := f.grp("web")
		st.minReady = min(st.minReady, g.ready)
		st.maxCapacity = max(st.maxCapacity, g.capacity)
		final = f.status("web", id)
		return final == RefreshSuccessful || final == RefreshFailed || final == RefreshCancelled
	})
	return st, final
}

func testRefreshBatchesFollowMinAndMaxHealthy(t *testing.T, backend Backend) {
	t.Parallel()
	cases := []struct {
		name        string
		size        int32
		min, max    *int32
		wantMinUp   int
		wantMaxSize int
	}{
		{"min healthy 100 replaces one instance at a time, terminating before launching", 4, aws.Int32(100), nil, 3, 4},
		{"min healthy 50 replaces half of the group at a time", 4, aws.Int32(50), nil, 2, 4},
		{"min healthy 85 of ten rounds up to nine, so one at a time", 10, aws.Int32(85), nil, 9, 10},
		{"min healthy 80 with max healthy 120 of ten replaces two at a time, launching first", 10, aws.Int32(80), aws.Int32(120), 8, 12},
		{"min healthy 0 replaces every instance at once", 4, aws.Int32(0), nil, 0, 4},
		{"the default min healthy 90 rounds up to all of a group of four, so one at a time", 4, nil, nil, 3, 4},
		{"max healthy 150 with min 100 launches replacements before terminating", 4, aws.Int32(100), aws.Int32(150), 4, 6},
		{"min and max healthy 100 launch one instance before terminating one", 4, aws.Int32(100), aws.Int32(100), 4, 5},
		{"a group of one loses its only instance with the default preferences", 1, nil, nil, 0, 1},
		{"a group of one keeps its instance with min and max healthy 100", 1, aws.Int32(100), aws.Int32(100), 1, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newRefreshFixture(t, backend, tc.size, "")
			id := f.start(&types.RefreshPreferences{MinHealthyPercentage: tc.min, MaxHealthyPercentage: tc.max, InstanceWarmup: aws.Int32(60)})
			st, final := f.watch(id, 4*time.Hour)
			if final != RefreshSuccessful {
				t.Fatalf("refresh ended %s, want Successful", final)
			}
			if st.minReady != tc.wantMinUp || st.maxCapacity != tc.wantMaxSize {
				t.Errorf("healthy capacity fell to %d and capacity rose to %d; want %d and %d", st.minReady, st.maxCapacity, tc.wantMinUp, tc.wantMaxSize)
			}
			if got := f.versions("web"); got["2"] != int(tc.size) || len(got) != 1 {
				t.Errorf("instances by version = %v, want all %d on version 2", got, tc.size)
			}
		})
	}
}

func testCheckpointPausesForCheckpointDelayThenContinuesByItself(t *testing.T, backend Backend) {
	t.Parallel()
	f := newRefreshFixture(t, backend, 4, "")
	t0 := f.clk.Now()
	id := f.start(&types.RefreshPreferences{MinHealthyPercentage: aws.Int32(50), CheckpointPercentages: []int32{50, 100}, CheckpointDelay: aws.Int32(600), InstanceWarmup: aws.Int32(0)})
	f.until(time.Hour, "the first checkpoint is reached", func() bool { return len(f.refreshEventsLocked("Checkpoint Reached")) == 1 })
	cp := f.refreshEventsLocked("Checkpoint Reached")[0]
	// Two replacements at once (min healthy 50 of 4), InService 30 s later.
	if want := t0.Add(30 * time.Second); !cp.Time.Equal(want) {
		t.Fatalf("checkpoint reached at %s, want %s", cp.Time, want)
	}
	var detail map[string]string
	if err := json.Unmarshal(cp.Detail, &detail); err != nil {
		t.Fatalf("checkpoint detail: %v", err)
	}
	if detail["CheckpointPercentage"] != "50" || detail["CheckpointDelay"] != "600" || detail["InstanceRefreshId"] != id || detail["AutoScalingGroupName"] != "web" {
		t.Errorf("checkpoint detail = %v", detail)
	}
	f.clk.AdvanceTo(cp.Time.Add(599 * time.Second))
	ir := f.describe("web", id)
	if ir.Status != types.InstanceRefreshStatusInProgress || aws.ToInt32(ir.PercentageComplete) != 50 || aws.ToInt32(ir.InstancesToUpdate) != 2 {
		t.Fatalf("during the pause: status %s, %d%% complete, %d to update; want InProgress, 50%%, 2", ir.Status, aws.ToInt32(ir.PercentageComplete), aws.ToInt32(ir.InstancesToUpdate))
	}
	if n := f.terminationsSince("web", cp.Time); n != 0 {
		t.Fatalf("%d instances taken out during the checkpoint pause, want 0", n)
	}
	f.clk.Advance(time.Second)
	if n := f.terminationsSince("web", cp.Time); n != 2 {
		t.Fatalf("%d instances taken out when the delay ended, want the next batch of 2", n)
	}
	f.waitStatus("web", id, RefreshSuccessful, time.Hour)
	ir = f.describe("web", id)
	if want := cp.Time.Add(630 * time.Second); !aws.ToTime(ir.EndTime).Equal(want) {
		t.Errorf("refresh ended at %s, want %s (delay 600 s plus a 30 s boot)", aws.ToTime(ir.EndTime), want)
	}
}

// refreshEventsLocked returns refresh events of one kind; safe to call
// with the World lock held (it reads the event log directly).
func (f *refreshFixture) refreshEventsLocked(kind string) []Event {
	var out []Event
	for _, ev := range f.w.events {
		if ev.DetailType == "EC2 Auto Scaling Instance Refresh "+kind {
			out = append(out, ev)
		}
	}
	return out
}

// terminationsSince counts termination activities started after t.
func (f *refreshFixture) terminationsSince(group string, t time.Time) int {
	n := 0
	for _, a := range f.activities(group) {
		if strings.HasPrefix(aws.ToString(a.Description), "Terminating") && aws.ToTime(a.StartTime).After(t) {
			n++
		}
	}
	return n
}

func testRefreshWithCheckpointsEmitsEventsInOrderAtTheRightInstants(t *testing.T, backend Backend) {
	t.Parallel()
	f := newRefreshFixture(t, backend, 4, "")
	t0 := f.clk.Now()
	id := f.start(&types.RefreshPreferences{
		MinHealthyPercentage:  aws.Int32(75),
		InstanceWarmup:        aws.Int32(0),
		CheckpointPercentages: []int32{25, 50, 100},
		CheckpointDelay:       aws.Int32(120),
		BakeTime:              aws.Int32(300),
	})
	f.waitStatus("web", id, RefreshSuccessful, 2*time.Hour)
	type want struct {
		kind       string
		at         time.Duration
		checkpoint string
	}
	// One replacement at a time (75% of 4 is 3), each InService 30 s after
	// its launch; checkpoints at 25% and 50% pause 120 s; no event for the
	// 100% checkpoint; bake 300 s after the last replacement.
	wants := []want{
		{"Started", 0, ""},
		{"Checkpoint Reached", 30 * time.Second, "25"},
		{"Checkpoint Reached", 180 * time.Second, "50"},
		{"Started Baking", 360 * time.Second, ""},
		{"Succeeded", 660 * time.Second, ""},
	}
	got := f.refreshEvents()
	if len(got) != len(wants) {
		for _, ev := range got {
			t.Logf("%s at +%s: %s", ev.DetailType, ev.Time.Sub(t0), ev.Detail)
		}
		t.Fatalf("%d refresh events, want %d", len(got), len(wants))
	}
	g := f.grp("web")
	for i, w := range wants {
		ev := got[i]
		var detail map[string]string
		if err := json.Unmarshal(ev.Detail, &detail); err != nil {
			t.Fatalf("event %d detail: %v", i, err)
		}
		if ev.DetailType != "EC2 Auto Scaling Instance Refresh "+w.kind || !ev.Time.Equal(t0.Add(w.at)) {
			t.Errorf("event %d = %q at +%s, want %q at +%s", i, ev.DetailType, ev.Time.Sub(t0), w.kind, w.at)
		}
		if ev.Source != "aws.autoscaling" || len(ev.Resources) != 1 || ev.Resources[0] != g.ARN {
			t.Errorf("event %d: source %s resources %v, want aws.autoscaling and the group ARN", i, ev.Source, ev.Resources)
		}
		if detail["InstanceRefreshId"] != id || detail["AutoScalingGroupName"] != "web" || detail["CheckpointPercentage"] != w.checkpoint {
			t.Errorf("event %d detail = %v", i, detail)
		}
	}
}

func testSkipMatchingReplacesOnlyInstancesNotOnTheDesiredVersion(t *testing.T, backend Backend) {
	t.Parallel()
	t.Run("SkipMatching replaces nothing when every instance is on the desired version", func(t *testing.T) {
		t.Parallel()
		f := newRefreshFixture(t, backend, 3, "")
		t0 := f.clk.Now()
		id := f.refresh(&autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("web"), DesiredConfiguration: f.desired("1"), Preferences: &types.RefreshPreferences{SkipMatching: aws.Bool(true)}})
		f.clk.Settle()
		ir := f.describe("web", id)
		if ir.Status != types.InstanceRefreshStatusSuccessful || !aws.ToTime(ir.EndTime).Equal(t0) {
			t.Fatalf("status %s ending %v, want Successful at once", ir.Status, ir.EndTime)
		}
		if aws.ToInt32(ir.InstancesToUpdate) != 0 || aws.ToInt32(ir.PercentageComplete) != 100 {
			t.Errorf("%d to update, %d%% complete; want 0 and 100", aws.ToInt32(ir.InstancesToUpdate), aws.ToInt32(ir.PercentageComplete))
		}
		if n := f.terminationsSince("web", t0.Add(-time.Second)); n != 0 {
			t.Errorf("%d instances terminated, want 0", n)
		}
	})
	t.Run("without SkipMatching every instance is replaced even when it already matches", func(t *testing.T) {
		t.Parallel()
		f := newRefreshFixture(t, backend, 3, "")
		t0 := f.clk.Now()
		id := f.refresh(&autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("web"), DesiredConfiguration: f.desired("1"), Preferences: &types.RefreshPreferences{InstanceWarmup: aws.Int32(0)}})
		f.waitStatus("web", id, RefreshSuccessful, time.Hour)
		if n := f.terminationsSince("web", t0.Add(-time.Second)); n != 3 {
			t.Errorf("%d instances terminated, want 3", n)
		}
	})
	t.Run("SkipMatching replaces only the instances on another version", func(t *testing.T) {
		t.Parallel()
		f := newRefreshFixture(t, backend, 2, "")
		if _, err := f.as.UpdateAutoScalingGroup(f.ctx, &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String("web"), LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(f.ltID), Version: aws.String("2")}, MaxSize: aws.Int32(6), DesiredCapacity: aws.Int32(4)}); err != nil {
			t.Fatalf("update group: %v", err)
		}
		f.until(time.Hour, "four instances in service", func() bool { return f.inService("web") == 4 })
		t0 := f.clk.Now()
		id := f.refresh(&autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("web"), DesiredConfiguration: f.desired("2"), Preferences: &types.RefreshPreferences{SkipMatching: aws.Bool(true), InstanceWarmup: aws.Int32(0)}})
		f.clk.Settle()
		if ir := f.describe("web", id); aws.ToInt32(ir.InstancesToUpdate) != 2 {
			t.Fatalf("%d instances to update, want the 2 on version 1", aws.ToInt32(ir.InstancesToUpdate))
		}
		f.waitStatus("web", id, RefreshSuccessful, time.Hour)
		if n := f.terminationsSince("web", t0.Add(-time.Second)); n != 2 {
			t.Errorf("%d instances terminated, want 2", n)
		}
	})
}

// groupVersion returns the launch template version the group is set to.
func (f *refreshFixture) groupVersion() string {
	f.t.Helper()
	out, err := f.as.DescribeAutoScalingGroups(f.ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"web"}})
	if err != nil || len(out.AutoScalingGroups) != 1 {
		f.t.Fatalf("describe group: %v", err)
	}
	return aws.ToString(out.AutoScalingGroups[0].LaunchTemplate.Version)
}

func testTheGroupKeepsItsOldLaunchTemplateUntilTheRefreshSucceeds(t *testing.T, backend Backend) {
	t.Parallel()
	f := newRefreshFixture(t, backend, 4, "")
	id := f.start(&types.RefreshPreferences{MinHealthyPercentage: aws.Int32(75), InstanceWarmup: aws.Int32(120), BakeTime: aws.Int32(600)})
	f.until(time.Hour, "half of the instances are replaced", func() bool { return f.grp("web").Refreshes[0].done >= 2 })
	if v := f.groupVersion(); v != "1" {
		t.Fatalf("group version during the refresh = %s, want 1", v)
	}
	t.Run("launch template changes are refused while a refresh with a desired configuration runs", func(t *testing.T) {
		_, err := f.as.UpdateAutoScalingGroup(f.ctx, &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String("web"), LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(f.ltID), Version: aws.String("2")}})
		wantCode(t, err, "ValidationError", "instance refresh with a desired configuration is in progress")
		if _, err := f.as.UpdateAutoScalingGroup(f.ctx, &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String("web"), HealthCheckGracePeriod: aws.Int32(30)}); err != nil {
			t.Errorf("other changes should be accepted: %v", err)
		}
	})
	f.waitStatus("web", id, RefreshBaking, time.Hour)
	if v := f.groupVersion(); v != "1" {
		t.Fatalf("group version while baking = %s, want 1", v)
	}
	f.waitStatus("web", id, RefreshSuccessful, time.Hour)
	if v := f.groupVersion(); v != "2" {
		t.Errorf("group version after success = %s, want 2", v)
	}
}

func testRefreshThatCannotReplaceFailsAfterTheRetryWindow(t *testing.T, backend Backend) {
	t.Parallel()
	cases := []struct {
		name         string
		autoRollback bool
		wantStatus   string
		wantEvents   []string
	}{
		{"a refresh with a replacement that never becomes healthy fails after the retry window", false, RefreshFailed, []string{"Started", "Failed"}},
		{"with AutoRollback the failed refresh is rolled back to the saved configuration", true, RefreshRollbackSuccessful, []string{"Started", "Rollback Started", "Rollback Succeeded"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Version 2 instances fail at launch: EC2 terminates them when
			// they leave pending, so no replacement ever becomes healthy.
			f := newRefreshFixture(t, backend, 2, string(BehaviorFailLaunch))
			t0 := f.clk.Now()
			id := f.start(&types.RefreshPreferences{InstanceWarmup: aws.Int32(0), AutoRollback: aws.Bool(tc.autoRollback)})
			f.clk.AdvanceTo(t0.Add(time.Hour - time.Second))
			if s := f.describe("web", id).Status; s != types.InstanceRefreshStatusInProgress {
				t.Fatalf("status just before the window ends = %s, want InProgress", s)
			}
			f.clk.Advance(time.Second)
			ir := f.describe("web", id)
			if tc.autoRollback {
				if ir.Status != types.InstanceRefreshStatusRollbackInProgress || ir.RollbackDetails == nil || !strings.Contains(aws.ToString(ir.RollbackDetails.RollbackReason), "did not become healthy") {
					t.Fatalf("at the end of the window: %s, rollback %+v; want RollbackInProgress with the failure as reason", ir.Status, ir.RollbackDetails)
				}
			} else if ir.Status != types.InstanceRefreshStatusFailed || !aws.ToTime(ir.EndTime).Equal(t0.Add(time.Hour)) || !strings.Contains(aws.ToString(ir.StatusReason), "did not become healthy") {
				t.Fatalf("at the end of the window: %s ending %v (%s); want Failed after exactly one hour", ir.Status, ir.EndTime, aws.ToString(ir.StatusReason))
			}
			f.waitStatus("web", id, tc.wantStatus, time.Hour)
			f.until(time.Hour, "the group is back to two instances", func() bool { return f.inService("web") == 2 })
			if got := f.versions("web"); got["1"] != 2 {
				t.Errorf("instances by version = %v, want both on version 1", got)
			}
			if v := f.groupVersion(); v != "1" {
				t.Errorf("group version = %s, want 1", v)
			}
			var kinds []string
			for _, ev := range f.refreshEvents() {
				kinds = append(kinds, strings.TrimPrefix(ev.DetailType, "EC2 Auto Scaling Instance Refresh "))
			}
			if strings.Join(kinds, ",") != strings.Join(tc.wantEvents, ",") {
				t.Errorf("events = %v, want %v", kinds, tc.wantEvents)
			}
		})
	}
}

func testAlarmInAlarmStateStopsTheRefresh(t *testing.T, backend Backend) {
	t.Parallel()
	for _, autoRollback := range []bool{false, true} {
		name := "an alarm in ALARM fails the refresh at the next poll"
		want := RefreshFailed
		if autoRollback {
			name = "an alarm in ALARM rolls the refresh back when AutoRollback is set"
			want = RefreshRollbackSuccessful
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newRefreshFixture(t, backend, 4, "")
			f.setAlarm("errors", AlarmOK)
			t0 := f.clk.Now()
			id := f.start(&types.RefreshPreferences{
				MinHealthyPercentage: aws.Int32(75), InstanceWarmup: aws.Int32(300), AutoRollback: aws.Bool(autoRollback),
				AlarmSpecification: &types.AlarmSpecification{Alarms: []string{"errors"}},
			})
			f.clk.AdvanceTo(t0.Add(45 * time.Second))
			f.setAlarm("errors", AlarmAlarm)
			f.clk.AdvanceTo(t0.Add(time.Minute - time.Second))
			if s := f.describe("web", id).Status; s != types.InstanceRefreshStatusInProgress {
				t.Fatalf("status before the poll = %s, want InProgress", s)
			}
			f.clk.AdvanceTo(t0.Add(time.Minute))
			ir := f.describe("web", id)
			if autoRollback {
				if ir.Status != types.InstanceRefreshStatusRollbackInProgress || !strings.Contains(aws.ToString(ir.RollbackDetails.RollbackReason), "errors") {
					t.Fatalf("after the poll: %s; want RollbackInProgress naming the alarm", ir.Status)
				}
			} else if ir.Status != types.InstanceRefreshStatusFailed || !strings.Contains(aws.ToString(ir.StatusReason), "errors") {
				t.Fatalf("after the poll: %s (%s); want Failed naming the alarm", ir.Status, aws.ToString(ir.StatusReason))
			}
			f.waitStatus("web", id, want, 2*time.Hour)
			f.until(time.Hour, "the group is whole", func() bool { return f.inService("web") == 4 })
			if v := f.groupVersion(); v != "1" {
				t.Errorf("group version = %s, want 1", v)
			}
			if autoRollback {
				if got := f.versions("web"); got["1"] != 4 {
					t.Errorf("instances by version = %v, want all four back on version 1", got)
				}
			}
		})
	}
}

func testRollbackInstanceRefresh(t *testing.T, backend Backend) {
	t.Parallel()
	t.Run("rollback during a checkpoint pause replaces the instances already moved", func(t *testing.T) {
		t.Parallel()
		f := newRefreshFixture(t, backend, 4, "")
		id := f.start(&types.RefreshPreferences{MinHealthyPercentage: aws.Int32(50), InstanceWarmup: aws.Int32(0), CheckpointPercentages: []int32{50, 100}})
		f.until(time.Hour, "the checkpoint", func() bool { return len(f.refreshEventsLocked("Checkpoint Reached")) == 1 })
		out, err := f.as.RollbackInstanceRefresh(f.ctx, &autoscaling.RollbackInstanceRefreshInput{AutoScalingGroupName: aws.String("web")})
		if err != nil || aws.ToString(out.InstanceRefreshId) != id {
			t.Fatalf("rollback: %v", err)
		}
		ir := f.describe("web", id)
		rb := ir.RollbackDetails
		if ir.Status != types.InstanceRefreshStatusRollbackInProgress || rb == nil || aws.ToInt32(rb.PercentageCompleteOnRollback) != 50 || aws.ToInt32(rb.InstancesToUpdateOnRollback) != 2 {
			t.Fatalf("after rollback: %s, details %+v; want RollbackInProgress from 50%% with 2 to update", ir.Status, rb)
		}
		if aws.ToInt32(ir.InstancesToUpdate) != 2 {
			t.Errorf("rollback has %d instances to update, want the 2 moved", aws.ToInt32(ir.InstancesToUpdate))
		}
		_, err = f.as.RollbackInstanceRefresh(f.ctx, &autoscaling.RollbackInstanceRefreshInput{AutoScalingGroupName: aws.String("web")})
		wantCode(t, err, "ActiveInstanceRefreshNotFound", "No in progress")
		f.waitStatus("web", id, RefreshRollbackSuccessful, time.Hour)
		if got := f.versions("web"); got["1"] != 4 || len(got) != 1 {
			t.Errorf("instances by version = %v, want all four on version 1", got)
		}
		if ir := f.describe("web", id); aws.ToInt32(ir.PercentageComplete) != 0 {
			t.Errorf("percentage complete after rollback = %d, want 0", aws.ToInt32(ir.PercentageComplete))
		}
		var kinds []string
		for _, ev := range f.refreshEvents() {
			kinds = append(kinds, strings.TrimPrefix(ev.DetailType, "EC2 Auto Scaling Instance Refresh "))
		}
		if got := strings.Join(kinds, ","); got != "Started,Checkpoint Reached,Rollback Started,Rollback Succeeded" {
			t.Errorf("events = %s", got)
		}
	})
	t.Run("rollback of a refresh to the same configuration replaces the instances it launched", func(t *testing.T) {
		// RollbackInstanceRefresh "replaces any instances that were
		// replaced during the instance refresh": a refresh without
		// SkipMatching to the version the group already runs (a recycle)
		// launched new instances on the saved configuration, and they go.
		t.Parallel()
		f := newRefreshFixture(t, backend, 4, "")
		ids := func() map[string]bool {
			out := map[string]bool{}
			for _, gi := range f.grp("web").sortedInstances() {
				out[gi.InstanceID] = true
			}
			return out
		}
		before := ids()
		id := f.refresh(&autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("web"), DesiredConfiguration: f.desired("1"),
			Preferences: &types.RefreshPreferences{MinHealthyPercentage: aws.Int32(50), InstanceWarmup: aws.Int32(0), CheckpointPercentages: []int32{50, 100}, SkipMatching: aws.Bool(false)}})
		f.until(time.Hour, "the checkpoint", func() bool { return len(f.refreshEventsLocked("Checkpoint Reached")) == 1 })
		var launched []string
		for iid := range ids() {
			if !before[iid] {
				launched = append(launched, iid)
			}
		}
		if len(launched) != 2 {
			t.Fatalf("%d instances launched by the first half, want 2", len(launched))
		}
		if _, err := f.as.RollbackInstanceRefresh(f.ctx, &autoscaling.RollbackInstanceRefreshInput{AutoScalingGroupName: aws.String("web")}); err != nil {
			t.Fatalf("rollback: %v", err)
		}
		if got := aws.ToInt32(f.describe("web", id).InstancesToUpdate); got != 2 {
			t.Errorf("rollback has %d instances to update, want the 2 the refresh launched", got)
		}
		f.waitStatus("web", id, RefreshRollbackSuccessful, time.Hour)
		after := ids()
		for _, iid := range launched {
			if after[iid] {
				t.Errorf("instance %s launched by the refresh survived its rollback", iid)
			}
		}
		if got := f.versions("web"); got["1"] != 4 || len(got) != 1 {
			t.Errorf("instances by version = %v, want all four on version 1", got)
		}
	})
	cases := []struct {
		name     string
		setup    func(f *refreshFixture)
		code     string
		fragment string
	}{
		{"rollback is refused when the desired configuration uses $Latest", func(f *refreshFixture) {
			f.refresh(&autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("web"), DesiredConfiguration: f.desired("$Latest")})
		}, "IrreversibleInstanceRefresh", "$Latest or $Default"},
		{"rollback is refused when the group uses $Default", func(f *refreshFixture) {
			if _, err := f.as.UpdateAutoScalingGroup(f.ctx, &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String("web"), LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(f.ltID), Version: aws.String("$Default")}}); err != nil {
				f.t.Fatalf("update group: %v", err)
			}
			f.start(nil)
		}, "IrreversibleInstanceRefresh", "$Latest or $Default"},
		{"rollback is refused without a desired configuration", func(f *refreshFixture) {
			f.refresh(&autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("web")})
		}, "IrreversibleInstanceRefresh", "no desired configuration"},
		{"rollback is refused for a group on a launch configuration", func(f *refreshFixture) {
			if _, err := f.as.CreateLaunchConfiguration(f.ctx, &autoscaling.CreateLaunchConfigurationInput{LaunchConfigurationName: aws.String("legacy"), ImageId: aws.String(f.image("legacy-img", "")), InstanceType: aws.String("t3.micro")}); err != nil {
				f.t.Fatalf("create launch configuration: %v", err)
			}
			if _, err := f.as.UpdateAutoScalingGroup(f.ctx, &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String("web"), LaunchConfigurationName: aws.String("legacy")}); err != nil {
				f.t.Fatalf("update group: %v", err)
			}
			f.start(nil)
		}, "IrreversibleInstanceRefresh", "launch configuration"},
		{"rollback is refused when no refresh is active", func(f *refreshFixture) {}, "ActiveInstanceRefreshNotFound", "No in progress"},
		{"there is no rollback after the refresh succeeded", func(f *refreshFixture) {
			id := f.start(&types.RefreshPreferences{InstanceWarmup: aws.Int32(0)})
			f.waitStatus("web", id, RefreshSuccessful, time.Hour)
		}, "ActiveInstanceRefreshNotFound", "No in progress"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newRefreshFixture(t, backend, 2, "")
			tc.setup(f)
			_, err := f.as.RollbackInstanceRefresh(f.ctx, &autoscaling.RollbackInstanceRefreshInput{AutoScalingGroupName: aws.String("web")})
			wantCode(t, err, tc.code, tc.fragment)
		})
	}
}

func testCancelInstanceRefresh(t *testing.T, backend Backend) {
	t.Parallel()
	f := newRefreshFixture(t, backend, 4, "")
	id := f.start(&types.RefreshPreferences{MinHealthyPercentage: aws.Int32(50), InstanceWarmup: aws.Int32(0), CheckpointPercentages: []int32{50, 100}})
	f.until(time.Hour, "the checkpoint", func() bool { return len(f.refreshEventsLocked("Checkpoint Reached")) == 1 })
	if _, err := f.as.CancelInstanceRefresh(f.ctx, &autoscaling.CancelInstanceRefreshInput{AutoScalingGroupName: aws.String("web")}); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	if s := f.describe("web", id).Status; s != types.InstanceRefreshStatusCancelling {
		t.Fatalf("status right after cancel = %s, want Cancelling", s)
	}
	f.clk.Settle()
	if s := f.describe("web", id).Status; s != types.InstanceRefreshStatusCancelled {
		t.Fatalf("status once nothing is in flight = %s, want Cancelled", s)
	}
	t.Run("cancelling twice finds no active refresh", func(t *testing.T) {
		_, err := f.as.CancelInstanceRefresh(f.ctx, &autoscaling.CancelInstanceRefreshInput{AutoScalingGroupName: aws.String("web")})
		wantCode(t, err, "ActiveInstanceRefreshNotFound", "No in progress")
	})
	t.Run("a cancelled refresh leaves replaced instances and the group's configuration as they are", func(t *testing.T) {
		f.clk.Advance(2 * time.Hour)
		if got := f.versions("web"); got["1"] != 2 || got["2"] != 2 {
			t.Errorf("instances by version = %v, want 2 on each", got)
		}
		if v := f.groupVersion(); v != "1" {
			t.Errorf("group version = %s, want 1", v)
		}
	})
	if evs := f.refreshEvents(); evs[len(evs)-1].DetailType != "EC2 Auto Scaling Instance Refresh Cancelled" {
		t.Errorf("last event = %s, want Cancelled", evs[len(evs)-1].DetailType)
	}
}

func testANewLatestVersionDuringALatestRefreshIsRolledOutToo(t *testing.T, backend Backend) {
	t.Parallel()
	f := newFixture(t, backend)
	lt := f.template("latest-lt", f.image("img-1", ""))
	f.group(groupSpec{name: "web", ltID: lt, version: "$Latest", desired: 4})
	id := f.refresh(&autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("web"), Preferences: &types.RefreshPreferences{MinHealthyPercentage: aws.Int32(75), InstanceWarmup: aws.Int32(0)}})
	f.until(time.Hour, "one instance is replaced", func() bool { return f.grp("web").Refreshes[0].done >= 1 })
	if v := f.version(lt, f.image("img-2", "")); v != "2" {
		t.Fatalf("new version = %s, want 2", v)
	}
	f.waitStatus("web", id, RefreshSuccessful, 2*time.Hour)
	if got := f.versions("web"); got["2"] != 4 || len(got) != 1 {
		t.Errorf("instances by version = %v, want all four on the new $Latest, version 2", got)
	}
}

func testStandbyInstancesWithWaitFailTheRefreshAfterAnHour(t *testing.T, backend Backend) {
	t.Parallel()
	f := newRefreshFixture(t, backend, 3, "")
	var standby string
	for id := range f.grp("web").Instances {
		standby = id
		break
	}
	if _, err := f.as.EnterStandby(f.ctx, &autoscaling.EnterStandbyInput{AutoScalingGroupName: aws.String("web"), InstanceIds: []string{standby}, ShouldDecrementDesiredCapacity: aws.Bool(true)}); err != nil {
		t.Fatalf("enter standby: %v", err)
	}
	f.clk.Settle()
	id := f.start(&types.RefreshPreferences{MinHealthyPercentage: aws.Int32(0), InstanceWarmup: aws.Int32(0)})
	f.waitStatus("web", id, RefreshFailed, 3*time.Hour)
	ir := f.describe("web", id)
	if !strings.Contains(aws.ToString(ir.StatusReason), "Standby") {
		t.Errorf("status reason = %q, want it to name the Standby instances", aws.ToString(ir.StatusReason))
	}
	// The two in service were replaced at once and were InService 30 s
	// later; the refresh then waited one hour for the Standby instance.
	if want := aws.ToTime(ir.StartTime).Add(30*time.Second + time.Hour); !aws.ToTime(ir.EndTime).Equal(want) {
		t.Errorf("failed at %s, want %s", aws.ToTime(ir.EndTime), want)
	}
}

func testRefreshHistoryIsNewestFirstAndKeptSixWeeks(t *testing.T, backend Backend) {
	t.Parallel()
	f := newRefreshFixture(t, backend, 1, "")
	var ids []string
	for _, v := range []string{"2", "1"} {
		id := f.refresh(&autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("web"), DesiredConfiguration: f.desired(v), Preferences: &types.RefreshPreferences{InstanceWarmup: aws.Int32(0)}})
		f.waitStatus("web", id, RefreshSuccessful, time.Hour)
		ids = append(ids, id)
		f.clk.Advance(time.Hour)
	}
	list := func() []string {
		t.Helper()
		out, err := f.as.DescribeInstanceRefreshes(f.ctx, &autoscaling.DescribeInstanceRefreshesInput{AutoScalingGroupName: aws.String("web")})
		if err != nil {
			t.Fatalf("describe refreshes: %v", err)
		}
		var got []string
		for _, ir := range out.InstanceRefreshes {
			got = append(got, aws.ToString(ir.InstanceRefreshId))
		}
		return got
	}
	if got := list(); strings.Join(got, ",") != ids[1]+","+ids[0] {
		t.Fatalf("refreshes = %v, want newest first %v", got, []string{ids[1], ids[0]})
	}
	first := aws.ToTime(f.describe("web", ids[0]).EndTime)
	f.clk.AdvanceTo(first.Add(6 * 7 * 24 * time.Hour))
	if got := list(); len(got) != 2 {
		t.Fatalf("six weeks after it ended the first refresh should still be listed; got %v", got)
	}
	f.clk.Advance(time.Second)
	if got := list(); strings.Join(got, ",") != ids[1] {
		t.Errorf("refreshes = %v, want only the one younger than six weeks", got)
	}
}

// checkpointCase is a launch-before-terminate refresh whose batches do not
// divide its checkpoints evenly.
type checkpointCase struct {
	name        string
	size        int32
	min, max    int32
	checkpoints []int32
	// want is the number of replacements each reported checkpoint stands
	// for: the checkpoint percentage of the group, rounded up.
	want []int
}

// checkpointCases are the groups the checkpoint rules are checked on.
var checkpointCases = []checkpointCase{
	{"20 instances with min 100 and max 130, so batches of 6 against checkpoints every 5", 20, 100, 130, []int32{25, 50, 75, 100}, []int{5, 10, 15}},
	{"10 instances with min 90 and max 120, so batches of 2 against a checkpoint at 5", 10, 90, 120, []int32{20, 50, 100}, []int{2, 5}},
	{"8 instances with min and max 100, so one launched before each termination", 8, 100, 100, []int32{50, 100}, []int{4}},
}

// checkpointSnapshot is the group as it stood when a Checkpoint Reached
// event was emitted.
type checkpointSnapshot struct {
	replaced int // instances on the new version, Pending or InService
	ready    int // of those, InService, healthy and warmed up
	capacity int // Pending and InService instances of the group
	desired  int
}

// checkpointTrace is what a refresh with checkpoints went through.
type checkpointTrace struct {
	snapshots []checkpointSnapshot
	// overshoot is the largest number of new instances seen beyond the
	// checkpoint the refresh was heading for.
	overshoot  int
	activities []types.Activity
}

// traceCheckpoints runs a refresh of tc to success, looking at the group
// after every clock event.
func traceCheckpoints(t *testing.T, backend Backend, tc checkpointCase) checkpointTrace {
	t.Helper()
	f := newRefreshFixture(t, backend, tc.size, "")
	id := f.start(&types.RefreshPreferences{
		MinHealthyPercentage:  aws.Int32(tc.min),
		MaxHealthyPercentage:  aws.Int32(tc.max),
		InstanceWarmup:        aws.Int32(60),
		CheckpointPercentages: tc.checkpoints,
		CheckpointDelay:       aws.Int32(300),
	})
	var tr checkpointTrace
	f.until(6*time.Hour, "refresh "+id+" ends", func() bool {
		g := f.grp("web")
		replaced, ready := 0, 0
		for _, gi := range g.Instances {
			if gi.LaunchTemplate == nil || gi.LaunchTemplate.Version != "2" || !gi.counted {
				continue
			}
			replaced++
			if gi.LifecycleState == LifecycleInService && gi.HealthStatus == HealthHealthy && gi.Ready {
				ready++
			}
		}
		reached := len(f.refreshEventsLocked("Checkpoint Reached"))
		if reached > len(tr.snapshots) {
			tr.snapshots = append(tr.snapshots, checkpointSnapshot{replaced: replaced, ready: ready, capacity: g.capacity, desired: int(g.DesiredCapacity)})
		}
		heading := int(tc.size)
		if reached < len(tc.want) {
			heading = tc.want[reached]
		}
		tr.overshoot = max(tr.overshoot, replaced-heading)
		st := f.status("web", id)
		return st == RefreshSuccessful || st == RefreshFailed || st == RefreshCancelled
	})
	if st := f.describe("web", id).Status; st != types.InstanceRefreshStatusSuccessful {
		t.Fatalf("refresh ended %s, want Successful", st)
	}
	tr.activities = f.activities("web")
	return tr
}

func testLaunchBeforeTerminateNeverOvershootsACheckpoint(t *testing.T, backend Backend) {
	t.Parallel()
	for _, tc := range checkpointCases {
		t.Run("launch-before-terminate never launches past the next checkpoint with "+tc.name, func(t *testing.T) {
			t.Parallel()
			tr := traceCheckpoints(t, backend, tc)
			if tr.overshoot > 0 {
				t.Errorf("up to %d new instances beyond the checkpoint the refresh was heading for, want none", tr.overshoot)
			}
			if len(tr.snapshots) != len(tc.want) {
				t.Fatalf("%d checkpoints reported, want %d", len(tr.snapshots), len(tc.want))
			}
			for i, s := range tr.snapshots {
				if s.replaced != tc.want[i] {
					t.Errorf("checkpoint %d%%: %d new instances, want exactly %d", tc.checkpoints[i], s.replaced, tc.want[i])
				}
			}
		})
	}
}

func testACheckpointIsReachedOnlyWhenTheReplacementsBeforeItAreReady(t *testing.T, backend Backend) {
	t.Parallel()
	for _, tc := range checkpointCases {
		t.Run("every new instance is in service, healthy and warmed up and the surge is gone when a checkpoint is reached with "+tc.name, func(t *testing.T) {
			t.Parallel()
			tr := traceCheckpoints(t, backend, tc)
			if len(tr.snapshots) != len(tc.want) {
				t.Fatalf("%d checkpoints reported, want %d", len(tr.snapshots), len(tc.want))
			}
			for i, s := range tr.snapshots {
				if s.ready != s.replaced || s.capacity != s.desired {
					t.Errorf("checkpoint %d%%: %d of %d new instances ready, capacity %d of desired %d; want all ready and the group at its desired capacity",
						tc.checkpoints[i], s.ready, s.replaced, s.capacity, s.desired)
				}
			}
		})
	}
}

func testTheRefreshTakesBackItsOwnSurgeWithoutAScaleIn(t *testing.T, backend Backend) {
	t.Parallel()
	for _, tc := range checkpointCases {
		t.Run("every instance above desired capacity is removed by the refresh's own terminations with "+tc.name, func(t *testing.T) {
			t.Parallel()
			tr := traceCheckpoints(t, backend, tc)
			launched, byRefresh, other := 0, 0, 0
			for _, a := range tr.activities {
				cause, desc := aws.ToString(a.Cause), aws.ToString(a.Description)
				switch {
				case strings.HasPrefix(desc, "Launching") && strings.Contains(cause, "in response to an instance refresh"):
					launched++
				case strings.HasPrefix(desc, "Terminating") && strings.Contains(cause, "in response to an instance refresh"):
					byRefresh++
				case strings.HasPrefix(desc, "Terminating"):
					other++
					t.Errorf("termination outside the refresh: %s", cause)
				}
			}
			if launched != int(tc.size) || byRefresh != int(tc.size) || other != 0 {
				t.Errorf("refresh launched %d and terminated %d, others terminated %d; want %d, %d and 0", launched, byRefresh, other, tc.size, tc.size)
			}
		})
	}
}
