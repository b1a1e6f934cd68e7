package sim

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// LifecycleHookRules are the rules of Auto Scaling lifecycle hooks: the
// hook operations, the wait states they put launching and terminating
// instances in, their timeouts and events, and an instance refresh waiting
// on them. TestLifecycleHookRules runs them in process; the external test
// package runs them through real SDK clients over HTTP.
var LifecycleHookRules = []Rule{
	{"LifecycleHooksAreCreatedDescribedUpdatedInPlaceAndDeleted", testLifecycleHooksAreCreatedDescribedUpdatedInPlaceAndDeleted},
	{"PutLifecycleHookRefusesWhatAWSRefuses", testPutLifecycleHookRefusesWhatAWSRefuses},
	{"ALaunchHookHoldsANewInstanceOutOfServiceUntilEveryActionContinues", testALaunchHookHoldsANewInstanceOutOfServiceUntilEveryActionContinues},
	{"AnAbandonedLaunchIsTerminatedAndReplaced", testAnAbandonedLaunchIsTerminatedAndReplaced},
	{"ATimedOutActionTakesTheHooksDefaultResult", testATimedOutActionTakesTheHooksDefaultResult},
	{"HeartbeatsRestartTheTimeoutUntilTheGlobalTimeout", testHeartbeatsRestartTheTimeoutUntilTheGlobalTimeout},
	{"TerminationHooksHoldADeregisteredInstanceBeforeEC2TerminatesIt", testTerminationHooksHoldADeregisteredInstanceBeforeEC2TerminatesIt},
	{"DeletingAHookCompletesItsOutstandingActions", testDeletingAHookCompletesItsOutstandingActions},
	{"AForcedDeleteDropsOutstandingLifecycleActions", testAForcedDeleteDropsOutstandingLifecycleActions},
	{"AnInstanceRefreshWaitsForLaunchHooksAndReplacesAbandonedInstances", testAnInstanceRefreshWaitsForLaunchHooksAndReplacesAbandonedInstances},
}

// TestLifecycleHookRules runs LifecycleHookRules against the models in
// process.
func TestLifecycleHookRules(t *testing.T) { RunRules(t, LifecycleHookRules, InProcess) }

// hookSpec is a LifecycleHookSpecification of CreateAutoScalingGroup.
func hookSpec(name, transition string, heartbeat int32, defaultResult string) types.LifecycleHookSpecification {
	s := types.LifecycleHookSpecification{LifecycleHookName: aws.String(name), LifecycleTransition: aws.String(transition)}
	if heartbeat != 0 {
		s.HeartbeatTimeout = aws.Int32(heartbeat)
	}
	if defaultResult != "" {
		s.DefaultResult = aws.String(defaultResult)
	}
	return s
}

// hookGroup creates a group of desired instances in one zone with the
// hooks and, if tgARN is set, a target group; it does not wait for them.
func (f *fixture) hookGroup(name, ltID, tgARN string, desired int32, hooks ...types.LifecycleHookSpecification) {
	f.t.Helper()
	in := &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(name), MinSize: aws.Int32(0), MaxSize: aws.Int32(desired + 4), DesiredCapacity: aws.Int32(desired),
		LaunchTemplate:                 &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(ltID), Version: aws.String("1")},
		AvailabilityZones:              []string{"us-east-1a"},
		LifecycleHookSpecificationList: hooks,
	}
	if tgARN != "" {
		in.TargetGroupARNs = []string{tgARN}
	}
	if _, err := f.as.CreateAutoScalingGroup(f.ctx, in); err != nil {
		f.t.Fatalf("create group %s: %v", name, err)
	}
}

// countIn counts the group's instances in a lifecycle state; the caller
// holds the lock.
func (f *fixture) countIn(group, state string) int {
	g := f.grp(group)
	if g == nil {
		return 0
	}
	n := 0
	for _, gi := range g.Instances {
		if gi.LifecycleState == state {
			n++
		}
	}
	return n
}

// waitIn runs the clock until n of the group's instances are in state.
func (f *fixture) waitIn(group, state string, n int, limit time.Duration) {
	f.t.Helper()
	f.until(limit, fmt.Sprintf("%d instances of %s are %s", n, group, state), func() bool { return f.countIn(group, state) == n })
}

// apiStates returns the sorted "id=state" of a group's instances as
// DescribeAutoScalingGroups shows them.
func (f *fixture) apiStates(group string) []string {
	f.t.Helper()
	out, err := f.as.DescribeAutoScalingGroups(f.ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{group}})
	if err != nil || len(out.AutoScalingGroups) != 1 {
		f.t.Fatalf("describe group %s: %v", group, err)
	}
	var s []string
	for _, i := range out.AutoScalingGroups[0].Instances {
		s = append(s, aws.ToString(i.InstanceId)+"="+string(i.LifecycleState))
	}
	sort.Strings(s)
	return s
}

// instanceState returns an instance's lifecycle state as
// DescribeAutoScalingInstances shows it ("" when it is in no group).
func (f *fixture) instanceState(id string) string {
	f.t.Helper()
	out, err := f.as.DescribeAutoScalingInstances(f.ctx, &autoscaling.DescribeAutoScalingInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		f.t.Fatalf("describe instance %s: %v", id, err)
	}
	if len(out.AutoScalingInstances) == 0 {
		return ""
	}
	return aws.ToString(out.AutoScalingInstances[0].LifecycleState)
}

// actionEvent is the detail of a lifecycle action event.
type actionEvent struct {
	LifecycleActionToken, AutoScalingGroupName, LifecycleHookName, EC2InstanceId, LifecycleTransition string
	NotificationMetadata, Origin, Destination                                                         string
	resources                                                                                         []string
}

// actionEvents returns the lifecycle action events of a detail type
// emitted so far, oldest first.
func (f *fixture) actionEvents(detailType string) []actionEvent {
	f.t.Helper()
	var out []actionEvent
	for _, ev := range f.w.Events() {
		if ev.DetailType != detailType {
			continue
		}
		if ev.Source != "aws.autoscaling" {
			f.t.Errorf("%s event from source %s", detailType, ev.Source)
		}
		var d actionEvent
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			f.t.Fatalf("event detail: %v", err)
		}
		d.resources = ev.Resources
		out = append(out, d)
	}
	return out
}

// hookTargets returns the target ids registered with a target group.
func (f *fixture) hookTargets(tgARN string) []string {
	f.t.Helper()
	out, err := f.elb.DescribeTargetHealth(f.ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN)})
	if err != nil {
		f.t.Fatalf("describe target health: %v", err)
	}
	var ids []string
	for _, d := range out.TargetHealthDescriptions {
		if d.TargetHealth == nil || d.TargetHealth.State != elbtypes.TargetHealthStateEnumDraining {
			ids = append(ids, aws.ToString(d.Target.Id))
		}
	}
	sort.Strings(ids)
	return ids
}

// launchActivity returns the launch activity of an instance.
func (f *fixture) launchActivity(group, id string) types.Activity {
	f.t.Helper()
	for _, a := range f.activities(group) {
		if strings.HasPrefix(aws.ToString(a.Description), "Launching a new EC2 instance: "+id) {
			return a
		}
	}
	f.t.Fatalf("no launch activity for %s in %s", id, group)
	return types.Activity{}
}

// terminateActivity returns the termination activity of an instance.
func (f *fixture) terminateActivity(group, id string) types.Activity {
	f.t.Helper()
	for _, a := range f.activities(group) {
		if aws.ToString(a.Description) == "Terminating EC2 instance: "+id {
			return a
		}
	}
	f.t.Fatalf("no termination activity for %s in %s", id, group)
	return types.Activity{}
}

// complete completes a lifecycle action by token (if set) or instance id.
func (f *fixture) complete(group, hook, token, id, result string) error {
	in := &autoscaling.CompleteLifecycleActionInput{AutoScalingGroupName: aws.String(group), LifecycleHookName: aws.String(hook), LifecycleActionResult: aws.String(result)}
	if token != "" {
		in.LifecycleActionToken = aws.String(token)
	} else {
		in.InstanceId = aws.String(id)
	}
	_, err := f.as.CompleteLifecycleAction(f.ctx, in)
	return err
}

// heartbeat records a heartbeat for the instance's action of a hook.
func (f *fixture) heartbeat(group, hook, id string) {
	f.t.Helper()
	_, err := f.as.RecordLifecycleActionHeartbeat(f.ctx, &autoscaling.RecordLifecycleActionHeartbeatInput{
		AutoScalingGroupName: aws.String(group), LifecycleHookName: aws.String(hook), InstanceId: aws.String(id)})
	if err != nil {
		f.t.Fatalf("heartbeat %s %s: %v", hook, id, err)
	}
}

// hookView renders DescribeLifecycleHooks' answer.
func (f *fixture) hookView(group string, names ...string) string {
	f.t.Helper()
	out, err := f.as.DescribeLifecycleHooks(f.ctx, &autoscaling.DescribeLifecycleHooksInput{AutoScalingGroupName: aws.String(group), LifecycleHookNames: names})
	if err != nil {
		f.t.Fatalf("describe lifecycle hooks of %s: %v", group, err)
	}
	var parts []string
	for _, h := range out.LifecycleHooks {
		meta := "-"
		if h.NotificationMetadata != nil {
			meta = *h.NotificationMetadata
		}
		parts = append(parts, fmt.Sprintf("%s/%s/%s/hb=%d/global=%d/%s/meta=%s/target=%v/role=%v", aws.ToString(h.AutoScalingGroupName), aws.ToString(h.LifecycleHookName),
			aws.ToString(h.LifecycleTransition), aws.ToInt32(h.HeartbeatTimeout), aws.ToInt32(h.GlobalTimeout), aws.ToString(h.DefaultResult), meta,
			h.NotificationTargetARN != nil, h.RoleARN != nil))
	}
	return strings.Join(parts, " ")
}

// onlyInstance returns the id of the group's one instance; the caller
// holds the lock.
func (f *fixture) onlyInstance(group string) string {
	for id := range f.grp(group).Instances {
		return id
	}
	return ""
}

func testLifecycleHooksAreCreatedDescribedUpdatedInPlaceAndDeleted(t *testing.T, b Backend) {
	t.Parallel()
	f := newFixture(t, b)
	lt := f.template("web-lt", f.image("app", ""))
	f.hookGroup("web", lt, "", 0)
	put := func(in *autoscaling.PutLifecycleHookInput) {
		t.Helper()
		in.AutoScalingGroupName = aws.String("web")
		if _, err := f.as.PutLifecycleHook(f.ctx, in); err != nil {
			t.Fatalf("put lifecycle hook %s: %v", aws.ToString(in.LifecycleHookName), err)
		}
	}
	if got := f.hookView("web"); got != "" {
		t.Errorf("a new group has hooks: %s", got)
	}

	put(&autoscaling.PutLifecycleHookInput{LifecycleHookName: aws.String("launch"), LifecycleTransition: aws.String(TransitionLaunching)})
	want := "web/launch/autoscaling:EC2_INSTANCE_LAUNCHING/hb=3600/global=172800/ABANDON/meta=-/target=false/role=false"
	if got := f.hookView("web"); got != want {
		t.Errorf("a hook given only its transition:\n got %s\nwant %s (heartbeat 3600 s, default ABANDON, global timeout 48 h)", got, want)
	}

	// A second put of the name updates the hook in place: the transition
	// may be left out, and what is not given is kept.
	put(&autoscaling.PutLifecycleHookInput{LifecycleHookName: aws.String("launch"), HeartbeatTimeout: aws.Int32(60), DefaultResult: aws.String(ResultContinue),
		NotificationMetadata: aws.String(`{"suite":"smoke"}`)})
	want = `web/launch/autoscaling:EC2_INSTANCE_LAUNCHING/hb=60/global=6000/CONTINUE/meta={"suite":"smoke"}/target=false/role=false`
	if got := f.hookView("web"); got != want {
		t.Errorf("after an update in place:\n got %s\nwant %s (global timeout 100 heartbeats)", got, want)
	}
	put(&autoscaling.PutLifecycleHookInput{LifecycleHookName: aws.String("launch"), HeartbeatTimeout: aws.Int32(90)})
	if got := f.hookView("web"); !strings.Contains(got, "/hb=90/global=9000/CONTINUE/meta={") {
		t.Errorf("an update of the heartbeat alone changed more: %s", got)
	}

	put(&autoscaling.PutLifecycleHookInput{LifecycleHookName: aws.String("drain/logs"), LifecycleTransition: aws.String(TransitionTerminating), HeartbeatTimeout: aws.Int32(7200)})
	all := f.hookView("web")
	if !strings.HasPrefix(all, "web/launch/") || !strings.Contains(all, " web/drain/logs/autoscaling:EC2_INSTANCE_TERMINATING/hb=7200/global=172800/ABANDON/") {
		t.Errorf("two hooks, oldest first, the global timeout capped at 48 h: %s", all)
	}
	if got := f.hookView("web", "drain/logs", "nope"); !strings.HasPrefix(got, "web/drain/logs/") || strings.Contains(got, "launch") {
		t.Errorf("DescribeLifecycleHooks by name (an unknown name is left out): %s", got)
	}

	hookTypes, err := f.as.DescribeLifecycleHookTypes(f.ctx, &autoscaling.DescribeLifecycleHookTypesInput{})
	if err != nil || !slices.Equal(hookTypes.LifecycleHookTypes, []string{TransitionLaunching, TransitionTerminating}) {
		t.Errorf("DescribeLifecycleHookTypes = %v, %v", hookTypes, err)
	}

	if _, err := f.as.DeleteLifecycleHook(f.ctx, &autoscaling.DeleteLifecycleHookInput{AutoScalingGroupName: aws.String("web"), LifecycleHookName: aws.String("launch")}); err != nil {
		t.Fatalf("delete hook: %v", err)
	}
	if got := f.hookView("web"); strings.Contains(got, "launch") || !strings.Contains(got, "drain/logs") {
		t.Errorf("after deleting launch: %s", got)
	}
	_, err = f.as.DeleteLifecycleHook(f.ctx, &autoscaling.DeleteLifecycleHookInput{AutoScalingGroupName: aws.String("web"), LifecycleHookName: aws.String("launch")})
	wantCode(t, err, "ValidationError", "No Lifecycle Hook found")

	_, err = f.as.DescribeLifecycleHooks(f.ctx, &autoscaling.DescribeLifecycleHooksInput{AutoScalingGroupName: aws.String("nope")})
	wantCode(t, err, "ValidationError", "not found")
	_, err = f.as.DeleteLifecycleHook(f.ctx, &autoscaling.DeleteLifecycleHookInput{AutoScalingGroupName: aws.String("nope"), LifecycleHookName: aws.String("launch")})
	wantCode(t, err, "ValidationError", "not found")
}

func testPutLifecycleHookRefusesWhatAWSRefuses(t *testing.T, b Backend) {
	t.Parallel()
	f := newFixture(t, b)
	lt := f.template("web-lt", f.image("app", ""))
	f.hookGroup("web", lt, "", 0)
	cases := []struct {
		name     string
		in       autoscaling.PutLifecycleHookInput
		code     string
		fragment string
	}{
		{"a new hook without a transition", autoscaling.PutLifecycleHookInput{LifecycleHookName: aws.String("h")}, "ValidationError", "LifecycleTransition"},
		{"an unknown transition", autoscaling.PutLifecycleHookInput{LifecycleHookName: aws.String("h"), LifecycleTransition: aws.String("autoscaling:EC2_INSTANCE_REBOOTING")}, "ValidationError", "Invalid Lifecycle Transition"},
		{"a heartbeat timeout under 30 s", autoscaling.PutLifecycleHookInput{LifecycleHookName: aws.String("h"), LifecycleTransition: aws.String(TransitionLaunching), HeartbeatTimeout: aws.Int32(29)}, "ValidationError", "between 30 and 7200"},
		{"a heartbeat timeout over 7200 s", autoscaling.PutLifecycleHookInput{LifecycleHookName: aws.String("h"), LifecycleTransition: aws.String(TransitionLaunching), HeartbeatTimeout: aws.Int32(7201)}, "ValidationError", "between 30 and 7200"},
		{"a default result other than CONTINUE or ABANDON", autoscaling.PutLifecycleHookInput{LifecycleHookName: aws.String("h"), LifecycleTransition: aws.String(TransitionLaunching), DefaultResult: aws.String("RETRY")}, "ValidationError", "DefaultResult"},
		{"a name outside the pattern", autoscaling.PutLifecycleHookInput{LifecycleHookName: aws.String("my hook"), LifecycleTransition: aws.String(TransitionLaunching)}, "ValidationError", "regular expression pattern"},
		{"a notification target, which the local cloud does not model", autoscaling.PutLifecycleHookInput{LifecycleHookName: aws.String("h"), LifecycleTransition: aws.String(TransitionLaunching),
			NotificationTargetARN: aws.String("arn:aws:sns:us-east-1:123456789012:hooks"), RoleARN: aws.String("arn:aws:iam::123456789012:role/hooks")}, "ValidationError", "NotificationTargetARN"},
	}
	for _, c := range cases {
		in := c.in
		in.AutoScalingGroupName = aws.String("web")
		_, err := f.as.PutLifecycleHook(f.ctx, &in)
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		t.Run(c.name, func(t *testing.T) { wantCode(t, err, c.code, c.fragment) })
	}
	if got := f.hookView("web"); got != "" {
		t.Errorf("refused puts left hooks: %s", got)
	}
	_, err := f.as.PutLifecycleHook(f.ctx, &autoscaling.PutLifecycleHookInput{AutoScalingGroupName: aws.String("nope"), LifecycleHookName: aws.String("h"), LifecycleTransition: aws.String(TransitionLaunching)})
	wantCode(t, err, "ValidationError", "not found")

	// 50 hooks a group; the 51st is refused, an update of one is not.
	for i := 1; i <= 50; i++ {
		_, err := f.as.PutLifecycleHook(f.ctx, &autoscaling.PutLifecycleHookInput{AutoScalingGroupName: aws.String("web"), LifecycleHookName: aws.String(fmt.Sprintf("h%d", i)), LifecycleTransition: aws.String(TransitionTerminating)})
		if err != nil {
			t.Fatalf("hook %d: %v", i, err)
		}
	}
	_, err = f.as.PutLifecycleHook(f.ctx, &autoscaling.PutLifecycleHookInput{AutoScalingGroupName: aws.String("web"), LifecycleHookName: aws.String("h51"), LifecycleTransition: aws.String(TransitionTerminating)})
	wantCode(t, err, "LimitExceeded", "50")
	if _, err := f.as.PutLifecycleHook(f.ctx, &autoscaling.PutLifecycleHookInput{AutoScalingGroupName: aws.String("web"), LifecycleHookName: aws.String("h1"), HeartbeatTimeout: aws.Int32(30)}); err != nil {
		t.Errorf("updating one of 50 hooks: %v", err)
	}

	// CreateAutoScalingGroup checks its LifecycleHookSpecificationList
	// before creating anything.
	create := func(name string, hooks ...types.LifecycleHookSpecification) error {
		_, err := f.as.CreateAutoScalingGroup(f.ctx, &autoscaling.CreateAutoScalingGroupInput{
			AutoScalingGroupName: aws.String(name), MinSize: aws.Int32(0), MaxSize: aws.Int32(1),
			LaunchTemplate:    &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(lt), Version: aws.String("1")},
			AvailabilityZones: []string{"us-east-1a"}, LifecycleHookSpecificationList: hooks})
		return err
	}
	wantCode(t, create("bad-heartbeat", hookSpec("h", TransitionLaunching, 10, "")), "ValidationError", "between 30 and 7200")
	wantCode(t, create("twice", hookSpec("h", TransitionLaunching, 0, ""), hookSpec("h", TransitionTerminating, 0, "")), "ValidationError", "more than once")
	wantCode(t, create("no-transition", types.LifecycleHookSpecification{LifecycleHookName: aws.String("h")}), "ValidationError", "")
	for _, name := range []string{"bad-heartbeat", "twice", "no-transition"} {
		out, err := f.as.DescribeAutoScalingGroups(f.ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})
		if err != nil || len(out.AutoScalingGroups) != 0 {
			t.Errorf("group %s was created although its hooks were refused (%v)", name, err)
		}
	}
}

func testALaunchHookHoldsANewInstanceOutOfServiceUntilEveryActionContinues(t *testing.T, b Backend) {
	t.Parallel()
	f := newFixture(t, b)
	tg := f.targetGroup("web-tg")
	lt := f.template("web-lt", f.image("app", ""))
	test := hookSpec("test", TransitionLaunching, 600, "")
	test.NotificationMetadata = aws.String(`{"suite":"smoke"}`)
	f.hookGroup("web", lt, tg, 1, test, hookSpec("warm", TransitionLaunching, 0, ""))
	f.waitIn("web", LifecyclePendingWait, 1, 5*time.Minute)
	f.w.Lock()
	id := f.onlyInstance("web")
	ec2State := f.grp("web").Instances[id].inst.State
	groupARN := f.grp("web").ARN
	f.w.Unlock()

	if ec2State != InstanceRunning {
		t.Errorf("EC2 state of an instance in Pending:Wait = %s, want running (it waits once its startup sequence completes)", ec2State)
	}
	if got := f.instanceState(id); got != LifecyclePendingWait {
		t.Errorf("DescribeAutoScalingInstances: %s, want Pending:Wait", got)
	}
	if got := f.apiStates("web"); !slices.Equal(got, []string{id + "=Pending:Wait"}) {
		t.Errorf("DescribeAutoScalingGroups: %v, want the instance Pending:Wait", got)
	}
	if got := f.hookTargets(tg); len(got) != 0 {
		t.Errorf("targets of an instance in Pending:Wait: %v, want none (registered only when it proceeds)", got)
	}
	if a := f.launchActivity("web", id); a.StatusCode != types.ScalingActivityStatusCodeMidLifecycleAction {
		t.Errorf("launch activity status %s, want MidLifecycleAction", a.StatusCode)
	}

	evs := f.actionEvents(launchActionEvent)
	if len(evs) != 2 {
		t.Fatalf("%d launch lifecycle action events, want one per hook (2)", len(evs))
	}
	tokens := map[string]string{}
	for _, ev := range evs {
		tokens[ev.LifecycleHookName] = ev.LifecycleActionToken
		if ev.AutoScalingGroupName != "web" || ev.EC2InstanceId != id || ev.LifecycleTransition != TransitionLaunching ||
			ev.Origin != "EC2" || ev.Destination != "AutoScalingGroup" || len(ev.LifecycleActionToken) != 36 || !slices.Equal(ev.resources, []string{groupARN}) {
			t.Errorf("launch event %+v", ev)
		}
	}
	if evs[0].LifecycleHookName != "test" || evs[0].NotificationMetadata != `{"suite":"smoke"}` || evs[1].NotificationMetadata != "" || tokens["test"] == tokens["warm"] {
		t.Errorf("events carry the hook's metadata and a token each: %+v", evs)
	}

	// One CONTINUE of two: still waiting.
	if err := f.complete("web", "test", tokens["test"], "", ResultContinue); err != nil {
		t.Fatalf("complete test: %v", err)
	}
	f.clk.Advance(time.Minute)
	if got := f.instanceState(id); got != LifecyclePendingWait {
		t.Errorf("after one of two actions continued: %s, want Pending:Wait", got)
	}
	err := f.complete("web", "test", tokens["test"], "", ResultContinue)
	wantCode(t, err, "ValidationError", "No active Lifecycle Action found with token "+tokens["test"])

	// The second, by instance id: Pending:Proceed, then InService and
	// registered, the grace period and warmup starting now.
	if err := f.complete("web", "warm", "", id, ResultContinue); err != nil {
		t.Fatalf("complete warm: %v", err)
	}
	proceed := f.clk.Now()
	if got := f.instanceState(id); got != LifecyclePendingProceed {
		t.Errorf("right after the last CONTINUE: %s, want Pending:Proceed", got)
	}
	f.clk.Settle()
	if got := f.instanceState(id); got != LifecycleInService {
		t.Errorf("once the clock runs: %s, want InService", got)
	}
	f.w.Lock()
	inService := f.grp("web").Instances[id].InServiceTime
	f.w.Unlock()
	if !inService.Equal(proceed) {
		t.Errorf("InService at %s, want when the actions completed (%s)", inService, proceed)
	}
	if got := f.hookTargets(tg); !slices.Equal(got, []string{id}) {
		t.Errorf("targets once in service: %v, want [%s]", got, id)
	}
	if a := f.launchActivity("web", id); a.StatusCode != types.ScalingActivityStatusCodeSuccessful {
		t.Errorf("launch activity status %s, want Successful", a.StatusCode)
	}
	err = f.complete("web", "warm", "", id, ResultContinue)
	wantCode(t, err, "ValidationError", "No active Lifecycle Action found with instance ID "+id)
	_, err = f.as.RecordLifecycleActionHeartbeat(f.ctx, &autoscaling.RecordLifecycleActionHeartbeatInput{AutoScalingGroupName: aws.String("web"), LifecycleHookName: aws.String("warm"), InstanceId: aws.String(id)})
	wantCode(t, err, "ValidationError", "No active Lifecycle Action found")
	err = f.complete("web", "warm", "", id, "MAYBE")
	wantCode(t, err, "ValidationError", "LifecycleActionResult")
}

func testAnAbandonedLaunchIsTerminatedAndReplaced(t *testing.T, b Backend) {
	t.Parallel()
	f := newFixture(t, b)
	lt := f.template("web-lt", f.image("app", ""))
	f.hookGroup("web", lt, "", 1, hookSpec("gate", TransitionLaunching, 0, ResultContinue), hookSpec("logs", TransitionLaunching, 0, ResultContinue))
	f.waitIn("web", LifecyclePendingWait, 1, 5*time.Minute)
	f.w.Lock()
	first := f.onlyInstance("web")
	f.w.Unlock()
	evs := f.actionEvents(launchActionEvent)
	if len(evs) != 2 {
		t.Fatalf("%d launch events, want 2", len(evs))
	}

	// CONTINUE from one hook and ABANDON from the other: abandoned.
	if err := f.complete("web", "logs", "", first, ResultContinue); err != nil {
		t.Fatal(err)
	}
	tok := evs[0].LifecycleActionToken
	if err := f.complete("web", "gate", tok, "", ResultAbandon); err != nil {
		t.Fatalf("abandon: %v", err)
	}
	if got := f.instanceState(first); got != LifecycleTerminating {
		t.Errorf("right after ABANDON: %s, want Terminating", got)
	}
	a := f.launchActivity("web", first)
	reason := "Instance failed to complete user's Lifecycle Action: Lifecycle Action with token " + tok + " was abandoned: Lifecycle Action Completed with ABANDON Result"
	if a.StatusCode != types.ScalingActivityStatusCodeCancelled || aws.ToString(a.StatusMessage) != reason ||
		aws.ToString(a.Description) != "Launching a new EC2 instance: "+first+".  Status Reason: "+reason {
		t.Errorf("launch activity of the abandoned instance: %s %q %q", a.StatusCode, aws.ToString(a.Description), aws.ToString(a.StatusMessage))
	}
	err := f.complete("web", "gate", tok, "", ResultContinue)
	wantCode(t, err, "ValidationError", "No active Lifecycle Action found with token "+tok)

	// The group keeps its desired capacity: a replacement waits in turn.
	f.until(10*time.Minute, "the abandoned instance is gone and its replacement waits", func() bool {
		g := f.grp("web")
		_, still := g.Instances[first]
		return !still && f.countIn("web", LifecyclePendingWait) == 1
	})
	f.w.Lock()
	second := f.onlyInstance("web")
	desired := f.grp("web").DesiredCapacity
	inst := f.w.region(testRegion).Instances[first]
	f.w.Unlock()
	if second == first || desired != 1 {
		t.Errorf("replacement %s of %s, desired %d", second, first, desired)
	}
	if inst != nil && inst.State != InstanceTerminated {
		t.Errorf("EC2 state of the abandoned instance: %s, want terminated", inst.State)
	}
	evs = f.actionEvents(launchActionEvent)
	if len(evs) != 4 || evs[2].EC2InstanceId != second || evs[2].LifecycleActionToken == tok {
		t.Errorf("the replacement's events: %+v", evs)
	}
}

func testATimedOutActionTakesTheHooksDefaultResult(t *testing.T, b Backend) {
	t.Parallel()
	f := newFixture(t, b)
	lt := f.template("web-lt", f.image("app", ""))
	f.hookGroup("cont", lt, "", 1, hookSpec("gate", TransitionLaunching, 60, ResultContinue))
	f.hookGroup("abandon", lt, "", 1, hookSpec("gate", TransitionLaunching, 60, ""))
	f.until(5*time.Minute, "both instances wait", func() bool {
		return f.countIn("cont", LifecyclePendingWait) == 1 && f.countIn("abandon", LifecyclePendingWait) == 1
	})
	start := f.clk.Now()
	f.w.Lock()
	cont, abandoned := f.onlyInstance("cont"), f.onlyInstance("abandon")
	f.w.Unlock()

	f.clk.Advance(59 * time.Second)
	if got := f.instanceState(cont); got != LifecyclePendingWait {
		t.Errorf("59 s into a 60 s heartbeat timeout: %s, want Pending:Wait", got)
	}
	f.clk.Advance(time.Second)
	f.clk.Settle()
	if got := f.instanceState(cont); got != LifecycleInService {
		t.Errorf("at the timeout with DefaultResult CONTINUE: %s, want InService", got)
	}
	if got := f.instanceState(abandoned); got != LifecycleTerminating {
		t.Errorf("at the timeout with DefaultResult ABANDON: %s, want Terminating", got)
	}
	a := f.launchActivity("abandon", abandoned)
	if a.StatusCode != types.ScalingActivityStatusCodeCancelled || !strings.HasSuffix(aws.ToString(a.StatusMessage), " was abandoned: Heartbeat Timeout") {
		t.Errorf("launch activity after the timeout: %s %q", a.StatusCode, aws.ToString(a.StatusMessage))
	}
	if !a.EndTime.Equal(start.Add(time.Minute)) {
		t.Errorf("activity ended at %s, want 60 s after the wait began (%s)", a.EndTime, start)
	}
}

func testHeartbeatsRestartTheTimeoutUntilTheGlobalTimeout(t *testing.T, b Backend) {
	t.Parallel()
	f := newFixture(t, b)
	lt := f.template("web-lt", f.image("app", ""))
	// A 30 s heartbeat timeout: the global timeout is 100 of them, 3000 s.
	f.hookGroup("web", lt, "", 1, hookSpec("gate", TransitionLaunching, 30, ResultContinue))
	f.waitIn("web", LifecyclePendingWait, 1, 5*time.Minute)
	start := f.clk.Now()
	f.w.Lock()
	id := f.onlyInstance("web")
	f.w.Unlock()

	f.clk.Advance(20 * time.Second)
	f.heartbeat("web", "gate", id)
	f.clk.Advance(29 * time.Second)
	if got := f.instanceState(id); got != LifecyclePendingWait {
		t.Fatalf("29 s after a heartbeat (49 s after the wait began): %s, want Pending:Wait", got)
	}
	// A heartbeat every 25 s keeps it waiting, but never past the global
	// timeout.
	for f.clk.Now().Add(25 * time.Second).Before(start.Add(3000 * time.Second)) {
		f.heartbeat("web", "gate", id)
		f.clk.Advance(25 * time.Second)
		if got := f.instanceState(id); got != LifecyclePendingWait {
			t.Fatalf("%s into the wait, heartbeats every 25 s: %s, want Pending:Wait", f.clk.Now().Sub(start), got)
		}
	}
	f.heartbeat("web", "gate", id)
	f.clk.AdvanceTo(start.Add(3000*time.Second - time.Second))
	if got := f.instanceState(id); got != LifecyclePendingWait {
		t.Fatalf("a second before the global timeout: %s", got)
	}
	f.clk.Advance(time.Second)
	f.clk.Settle()
	if got := f.instanceState(id); got != LifecycleInService {
		t.Errorf("at the global timeout (100 heartbeat timeouts) with DefaultResult CONTINUE: %s, want InService", got)
	}
}

func testTerminationHooksHoldADeregisteredInstanceBeforeEC2TerminatesIt(t *testing.T, b Backend) {
	t.Parallel()
	f := newFixture(t, b)
	tg := f.targetGroup("web-tg")
	_, err := f.elb.ModifyTargetGroupAttributes(f.ctx, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(tg),
		Attributes: []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("60")}}})
	noErr(t, err)
	lt := f.template("web-lt", f.image("app", ""))
	drain := hookSpec("drain", TransitionTerminating, 300, "")
	drain.NotificationMetadata = aws.String("save logs")
	f.hookGroup("web", lt, tg, 2, drain, hookSpec("audit", TransitionTerminating, 300, ResultContinue))
	f.waitIn("web", LifecycleInService, 2, 5*time.Minute)
	if got := f.hookTargets(tg); len(got) != 2 {
		t.Fatalf("targets: %v", got)
	}

	// Scale in: the victim is deregistered and drained first, then waits.
	_, err = f.as.SetDesiredCapacity(f.ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("web"), DesiredCapacity: aws.Int32(1)})
	noErr(t, err)
	var victim string
	f.w.Lock()
	for id, gi := range f.grp("web").Instances {
		if gi.LifecycleState == LifecycleTerminating {
			victim = id
		}
	}
	f.w.Unlock()
	if victim == "" {
		t.Fatalf("no instance Terminating after the scale in: %v", f.apiStates("web"))
	}
	f.clk.Advance(59 * time.Second)
	if got := f.instanceState(victim); got != LifecycleTerminating {
		t.Errorf("while its target drains: %s, want Terminating", got)
	}
	f.waitIn("web", LifecycleTerminatingWait, 1, 2*time.Minute)
	if slices.Contains(f.hookTargets(tg), victim) {
		t.Errorf("an instance in Terminating:Wait is still a target")
	}
	f.w.Lock()
	ec2State := f.w.region(testRegion).Instances[victim].State
	f.w.Unlock()
	if ec2State != InstanceRunning {
		t.Errorf("EC2 state in Terminating:Wait: %s, want running", ec2State)
	}
	if a := f.terminateActivity("web", victim); a.StatusCode != types.ScalingActivityStatusCodeMidLifecycleAction {
		t.Errorf("termination activity status %s, want MidLifecycleAction", a.StatusCode)
	}
	evs := f.actionEvents(terminateActionEvent)
	if len(evs) != 2 || evs[0].LifecycleHookName != "drain" || evs[0].EC2InstanceId != victim || evs[0].LifecycleTransition != TransitionTerminating ||
		evs[0].Origin != "AutoScalingGroup" || evs[0].Destination != "EC2" || evs[0].NotificationMetadata != "save logs" {
		t.Fatalf("terminate events: %+v", evs)
	}
	if n := len(f.actionEvents(launchActionEvent)); n != 0 {
		t.Errorf("%d launch events from a group without launch hooks", n)
	}

	// A heartbeat and one CONTINUE of two: still waiting; then the second.
	f.heartbeat("web", "audit", victim)
	noErr(t, f.complete("web", "audit", evs[1].LifecycleActionToken, "", ResultContinue))
	if got := f.instanceState(victim); got != LifecycleTerminatingWait {
		t.Errorf("after one of two actions continued: %s", got)
	}
	noErr(t, f.complete("web", "drain", "", victim, ResultContinue))
	if got := f.instanceState(victim); got != LifecycleTerminatingProceed {
		t.Errorf("after every action continued: %s, want Terminating:Proceed", got)
	}
	f.until(5*time.Minute, "the victim is gone", func() bool { _, ok := f.grp("web").Instances[victim]; return !ok })
	if a := f.terminateActivity("web", victim); a.StatusCode != types.ScalingActivityStatusCodeSuccessful {
		t.Errorf("termination activity status %s, want Successful", a.StatusCode)
	}

	// ABANDON on termination stops the remaining actions: the instance is
	// terminated at once.
	f.w.Lock()
	last := f.onlyInstance("web")
	f.w.Unlock()
	_, err = f.as.TerminateInstanceInAutoScalingGroup(f.ctx, &autoscaling.TerminateInstanceInAutoScalingGroupInput{InstanceId: aws.String(last), ShouldDecrementDesiredCapacity: aws.Bool(true)})
	noErr(t, err)
	f.until(5*time.Minute, "the last instance waits", func() bool {
		gi := f.grp("web").Instances[last]
		return gi != nil && gi.LifecycleState == LifecycleTerminatingWait
	})
	noErr(t, f.complete("web", "drain", "", last, ResultAbandon))
	if got := f.instanceState(last); got != LifecycleTerminatingProceed {
		t.Errorf("after ABANDON: %s, want Terminating:Proceed", got)
	}
	err = f.complete("web", "audit", "", last, ResultContinue)
	wantCode(t, err, "ValidationError", "No active Lifecycle Action found with instance ID "+last)
}

func testDeletingAHookCompletesItsOutstandingActions(t *testing.T, b Backend) {
	t.Parallel()
	f := newFixture(t, b)
	lt := f.template("web-lt", f.image("app", ""))
	f.hookGroup("launch", lt, "", 1, hookSpec("gate", TransitionLaunching, 0, ResultContinue))
	f.hookGroup("drain", lt, "", 1, hookSpec("drain", TransitionTerminating, 0, ""))
	f.until(5*time.Minute, "the launch waits and the other group is in service", func() bool {
		return f.countIn("launch", LifecyclePendingWait) == 1 && f.countIn("drain", LifecycleInService) == 1
	})
	f.w.Lock()
	waiting, leaving := f.onlyInstance("launch"), f.onlyInstance("drain")
	f.w.Unlock()

	// A launching instance's action is abandoned, whatever the hook's
	// DefaultResult; the replacement has no hook to wait on.
	_, err := f.as.DeleteLifecycleHook(f.ctx, &autoscaling.DeleteLifecycleHookInput{AutoScalingGroupName: aws.String("launch"), LifecycleHookName: aws.String("gate")})
	noErr(t, err)
	if got := f.instanceState(waiting); got != LifecycleTerminating {
		t.Errorf("a launching instance after its hook was deleted: %s, want Terminating (ABANDON)", got)
	}
	f.until(10*time.Minute, "the replacement is in service", func() bool {
		_, old := f.grp("launch").Instances[waiting]
		return !old && f.countIn("launch", LifecycleInService) == 1
	})

	// A terminating instance's action is continued.
	_, err = f.as.SetDesiredCapacity(f.ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("drain"), DesiredCapacity: aws.Int32(0)})
	noErr(t, err)
	f.waitIn("drain", LifecycleTerminatingWait, 1, time.Minute)
	_, err = f.as.DeleteLifecycleHook(f.ctx, &autoscaling.DeleteLifecycleHookInput{AutoScalingGroupName: aws.String("drain"), LifecycleHookName: aws.String("drain")})
	noErr(t, err)
	if got := f.instanceState(leaving); got != LifecycleTerminatingProceed {
		t.Errorf("a terminating instance after its hook was deleted: %s, want Terminating:Proceed (CONTINUE)", got)
	}
}

func testAForcedDeleteDropsOutstandingLifecycleActions(t *testing.T, b Backend) {
	t.Parallel()
	f := newFixture(t, b)
	lt := f.template("web-lt", f.image("app", ""))
	f.hookGroup("web", lt, "", 2, hookSpec("gate", TransitionLaunching, 0, ""), hookSpec("drain", TransitionTerminating, 0, ""))
	f.waitIn("web", LifecyclePendingWait, 2, 5*time.Minute)
	_, err := f.as.DeleteAutoScalingGroup(f.ctx, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String("web")})
	wantCode(t, err, "ScalingActivityInProgress", "")
	_, err = f.as.DeleteAutoScalingGroup(f.ctx, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String("web"), ForceDelete: aws.Bool(true)})
	noErr(t, err)
	for _, s := range f.apiStates("web") {
		if !strings.HasSuffix(s, "="+LifecycleTerminating) {
			t.Errorf("after a forced delete: %s, want Terminating without waiting on the termination hook", s)
		}
	}
	f.until(5*time.Minute, "the group is gone", func() bool { return f.grp("web") == nil })
	if n := len(f.actionEvents(terminateActionEvent)); n != 0 {
		t.Errorf("%d termination lifecycle events during a forced delete, want none", n)
	}
}

func testAnInstanceRefreshWaitsForLaunchHooksAndReplacesAbandonedInstances(t *testing.T, b Backend) {
	t.Parallel()
	f := newRefreshFixture(t, b, 2, "")
	_, err := f.as.PutLifecycleHook(f.ctx, &autoscaling.PutLifecycleHookInput{AutoScalingGroupName: aws.String("web"), LifecycleHookName: aws.String("test"),
		LifecycleTransition: aws.String(TransitionLaunching), HeartbeatTimeout: aws.Int32(7200)})
	noErr(t, err)
	id := f.start(&types.RefreshPreferences{MinHealthyPercentage: aws.Int32(50), InstanceWarmup: aws.Int32(120)})
	progress := func() (string, int32) {
		r := f.describe("web", id)
		return string(r.Status), aws.ToInt32(r.PercentageComplete)
	}
	waiting := func() string {
		f.t.Helper()
		var got string
		f.until(10*time.Minute, "a replacement waits on the hook", func() bool {
			for iid, gi := range f.grp("web").Instances {
				if gi.launchedBy != nil && gi.LifecycleState == LifecyclePendingWait {
					got = iid
					return true
				}
			}
			return false
		})
		return got
	}

	first := waiting()
	// The refresh waits for the hook well past its one-hour retry window.
	f.clk.Advance(90 * time.Minute)
	if s, p := progress(); s != RefreshInProgress || p != 0 {
		t.Fatalf("90 min into a wait on the hook: %s %d%%, want InProgress 0%%", s, p)
	}
	noErr(t, f.complete("web", "test", "", first, ResultContinue))
	f.clk.Settle()
	// The warmup starts when the instance goes InService.
	f.clk.Advance(119 * time.Second)
	if _, p := progress(); p != 0 {
		t.Errorf("119 s into the replacement's 120 s warmup: %d%%, want 0", p)
	}
	f.clk.Advance(time.Second)
	if _, p := progress(); p != 50 {
		t.Errorf("once the replacement is warm: %d%%, want 50", p)
	}

	// The second replacement is abandoned: the refresh launches another.
	second := waiting()
	noErr(t, f.complete("web", "test", "", second, ResultAbandon))
	third := waiting()
	if third == second || third == first {
		t.Fatalf("no new replacement after the abandon: %s", third)
	}
	if s, p := progress(); s != RefreshInProgress || p != 50 {
		t.Errorf("after an abandoned replacement: %s %d%%, want InProgress 50%%", s, p)
	}
	noErr(t, f.complete("web", "test", "", third, ResultContinue))
	f.waitStatus("web", id, RefreshSuccessful, 10*time.Minute)
	if v := f.versions("web"); v["2"] != 2 || len(v) != 1 {
		t.Errorf("after the refresh: %v, want both instances on version 2", v)
	}
	if n := len(f.actionEvents(launchActionEvent)); n != 3 {
		t.Errorf("%d launch lifecycle events, want 3 (one per replacement)", n)
	}
}
