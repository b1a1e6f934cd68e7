package e2e

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/eventbus"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
)

// rolloutLimit bounds a scenario's rollout in simulated time: a few
// checkpoints, a bake and, for a failed refresh, Auto Scaling's hour of
// retries fit well inside it.
const rolloutLimit = 6 * time.Hour

// goodPath is the design's path for checkpoints 25, 50, 100 with a bake.
var goodPath = []string{
	"Start", "Prepare", "Strategy", "StartRefresh",
	"Await", "Route", "Validate", "Verdict", // 25 %
	"Await", "Route", "Validate", "Verdict", // 50 %
	"Await", "Route", // baking
	"Await", "Route", "Validate", "Verdict", // succeeded
	"Finalize", "Finalized",
}

func TestAGoodImageEndsFinalizedWithTheWholeFleetOnIt(t *testing.T) {
	t.Parallel()
	r := newRig(t, 1)
	f := r.newFleet(fleetSpec{name: "web", size: 4})
	img := r.image("web-v2", "healthy")

	arn := r.start("r-good", f.name, img)
	end := r.wait(arn, rolloutLimit)
	if end.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution %s: %s %s\n%s", end.Status, aws.ToString(end.Error), aws.ToString(end.Cause), r.functionLogs())
	}
	path := r.path(arn)
	t.Logf("path: %s", compact(path))
	if compact(path) != compact(goodPath) {
		t.Errorf("path:\n got %s\nwant %s", compact(path), compact(goodPath))
	}

	g := r.group(f.name)
	if g.inService != 4 || g.images[img] != 4 {
		t.Errorf("fleet: %d in service, by image %v; want all 4 on %s", g.inService, g.images, img)
	}
	rec := r.rollout("r-good")
	if rec.status != "finalized" || rec.from != 1 || rec.to != 2 || rec.toImage != img {
		t.Errorf("ledger rollout = %+v; want finalized from 1 to 2 (%s)", rec, img)
	}
	if g.version != "2" {
		t.Errorf("group on launch template version %q, want the numbered new version 2", g.version)
	}
	if v := r.defaultVersion(f.launchTemplate); v != 2 {
		t.Errorf("default version = %d, want 2", v)
	}
	if v, im := r.lkg(f.name); v != 2 || im != img {
		t.Errorf("last-known-good = %d (%s), want 2 (%s)", v, im, img)
	}
	if r.leased(f.name) {
		t.Error("the lease is still held after the rollout ended")
	}
	if got := r.notifications("r-good"); !slices.Equal(got, []string{"Phoenix Rollout Started", "Phoenix Rollout Succeeded"}) {
		t.Errorf("events = %v", got)
	}
	if got := r.messages("r-good"); len(got) != 2 {
		t.Errorf("SNS messages = %v, want started and succeeded", got)
	}
	// Phoenix's own alarms stay quiet on a rollout that went well, and its
	// count of outcomes has this one (docs/monitoring.md).
	r.env.Advance(5 * time.Minute)
	r.env.Settle()
	if got := r.firing(); len(got) != 0 {
		t.Errorf("Phoenix's own alarms in ALARM after a good rollout: %v", got)
	}
	if got := r.metricSum("Phoenix", "RolloutOutcomes", map[string]string{"Outcome": "finalized"}); got != 1 {
		t.Errorf("Phoenix RolloutOutcomes finalized = %v, want 1", got)
	}
}

func TestAnUnhealthyImageIsRevertedAtTheFirstCheckpoint(t *testing.T) {
	t.Parallel()
	r := newRig(t, 2)
	f := r.newFleet(fleetSpec{name: "api", size: 4})
	bad := r.image("api-v2", "unhealthy")

	arn := r.start("r-unhealthy", f.name, bad)
	end := r.wait(arn, rolloutLimit)
	if end.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution %s: %s %s\n%s", end.Status, aws.ToString(end.Error), aws.ToString(end.Cause), r.functionLogs())
	}
	path := r.path(arn)
	t.Logf("path: %s", compact(path))
	want := []string{
		"Start", "Prepare", "Strategy", "StartRefresh", "Await", "Route", "Validate", "Verdict",
		"Revert", "RevertCheck", "AwaitRevert", "Revert", "RevertCheck", "Reverted",
	}
	if compact(path) != compact(want) {
		t.Errorf("path:\n got %s\nwant %s", compact(path), compact(want))
	}
	g := r.group(f.name)
	if g.inService != 4 || g.images[f.image] != 4 {
		t.Errorf("fleet: %d in service, by image %v; want all 4 back on %s", g.inService, g.images, f.image)
	}
	if g.version != "1" {
		t.Errorf("group on launch template version %q, want 1", g.version)
	}
	if v := r.defaultVersion(f.launchTemplate); v != 1 {
		t.Errorf("default version = %d, want it never moved from 1", v)
	}
	rec := r.rollout("r-unhealthy")
	if rec.status != "reverted" || !slices.Contains(rec.steps, "validate@25#0") || slices.Contains(rec.steps, "validate@50#0") {
		t.Errorf("ledger rollout = %+v; want reverted after validating at 25%% only", rec)
	}
	if v, _ := r.lkg(f.name); v != 0 {
		t.Errorf("last-known-good = %d, want none recorded (no rollout finalized)", v)
	}
	if r.leased(f.name) {
		t.Error("the lease is still held after the rollout ended")
	}
	if got := r.notifications("r-unhealthy"); !slices.Equal(got, []string{"Phoenix Rollout Started", "Phoenix Rollout Reverted"}) {
		t.Errorf("events = %v", got)
	}
	if rf := r.refreshes(f.name); len(rf) != 1 || rf[0].Status != "RollbackSuccessful" {
		t.Errorf("refreshes = %+v, want the one refresh rolled back", rf)
	}
}

func TestARefreshFailedByAWSIsReverted(t *testing.T) {
	t.Parallel()
	r := newRig(t, 3)
	f := r.newFleet(fleetSpec{name: "batch", size: 4})
	broken := r.image("batch-v2", "fail-launch")

	arn := r.start("r-failed", f.name, broken)
	end := r.wait(arn, rolloutLimit)
	if end.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution %s: %s %s\n%s", end.Status, aws.ToString(end.Error), aws.ToString(end.Cause), r.functionLogs())
	}
	path := r.path(arn)
	t.Logf("path: %s", compact(path))
	if !contains(path, []string{"Route", "Revert"}) || path[len(path)-1] != "Reverted" || slices.Contains(path, "Validate") {
		t.Errorf("path %s: want a revert routed from the failure signal, no validation, ending Reverted", compact(path))
	}
	rf := r.refreshes(f.name)
	if len(rf) == 0 || rf[len(rf)-1].Status != "Failed" {
		t.Errorf("refreshes = %+v, want Phoenix's refresh failed by AWS", rf)
	}
	g := r.group(f.name)
	if g.inService != 4 || g.images[f.image] != 4 || g.version != "1" {
		t.Errorf("fleet: %d in service, by image %v, group on %q; want all 4 on %s and version 1", g.inService, g.images, g.version, f.image)
	}
	if v := r.defaultVersion(f.launchTemplate); v != 1 {
		t.Errorf("default version = %d, want 1", v)
	}
	rec := r.rollout("r-failed")
	if rec.status != "reverted" || rec.reason == "" {
		t.Errorf("ledger rollout = %+v; want reverted with the reason", rec)
	}
	if r.leased(f.name) {
		t.Error("the lease is still held after the rollout ended")
	}
}

// crashAndTimeout makes the first invocation of every deployed function
// crash and the second time out, so that each is retried twice. (The
// timeout rule is asked only when the crash rule did not fire, so its
// first matching call is the function's second invocation.)
func (r *rig) crashAndTimeout() []string {
	r.t.Helper()
	var ids []string
	for _, id := range r.stack.Order {
		d := r.stack.Resources[id]
		if d.Type != "AWS::Serverless::Function" {
			continue
		}
		for _, kind := range []faults.Kind{faults.FunctionCrash, faults.FunctionTimeout} {
			fid, err := r.env.Cloud.Faults.Add(faults.Rule{Kind: kind, Target: d.PhysicalID, Nth: 1})
			if err != nil {
				r.t.Fatalf("add fault: %v", err)
			}
			ids = append(ids, fid)
		}
	}
	return ids
}

// checkFired fails the test unless both faults of every named function
// (logical ids) fired: the rollout's path went through each of them.
func (r *rig) checkFired(t *testing.T, ids []string, functions ...string) {
	t.Helper()
	logical := map[string]string{}
	for id, d := range r.stack.Resources {
		logical[d.PhysicalID] = id
	}
	fired := map[string]bool{}
	for _, rule := range r.env.Cloud.Faults.Rules() {
		if slices.Contains(ids, rule.ID) && rule.Fired > 0 {
			fired[string(rule.Kind)+" "+logical[rule.Target]] = true
		}
	}
	for _, fn := range functions {
		for _, kind := range []faults.Kind{faults.FunctionCrash, faults.FunctionTimeout} {
			if !fired[string(kind)+" "+fn] {
				t.Errorf("the %s fault of %s never fired", kind, fn)
			}
		}
	}
}

func TestACrashAndATimeoutInEveryFunctionAreRetriedAndTheRolloutStillEndsRight(t *testing.T) {
	t.Parallel()
	t.Run("a good image still ends finalized", func(t *testing.T) {
		t.Parallel()
		r := newRig(t, 4)
		// Lambda retries the crashed and timed-out refresh-events a minute
		// and two minutes later: the first checkpoint's event comes about
		// four minutes late. Await's timeout while a checkpoint lies ahead
		// is the checkpoint delay less 30 s (docs/design.md, "The Await
		// timeout"), so with the scenarios' 300 s the fallback poll would
		// rightly come first; with the default 600 s the retried event
		// still wins and the path is the design's.
		f := r.newFleet(fleetSpec{name: "web", size: 4, tags: map[string]string{"phoenix:checkpoint-delay": "600"}})
		img := r.image("web-v2", "healthy")
		ids := r.crashAndTimeout()

		arn := r.start("r-crash-good", f.name, img)
		end := r.wait(arn, rolloutLimit)
		if end.Status != sfntypes.ExecutionStatusSucceeded {
			t.Fatalf("execution %s: %s %s\n%s", end.Status, aws.ToString(end.Error), aws.ToString(end.Cause), r.functionLogs())
		}
		if path := r.path(arn); compact(path) != compact(goodPath) {
			t.Errorf("path:\n got %s\nwant %s", compact(path), compact(goodPath))
		}
		r.checkFired(t, ids, "PrepareFunction", "StartRefreshFunction", "AwaitFunction", "RefreshEventsFunction", "ValidateFunction", "FinalizeFunction")
		g := r.group(f.name)
		if g.inService != 4 || g.images[img] != 4 || g.version != "2" || r.defaultVersion(f.launchTemplate) != 2 {
			t.Errorf("fleet: %d in service, by image %v, group on %q; want all 4 on %s, version 2 the default", g.inService, g.images, g.version, img)
		}
		if rec := r.rollout("r-crash-good"); rec.status != "finalized" {
			t.Errorf("ledger rollout = %+v, want finalized", rec)
		}
		if v, _ := r.lkg(f.name); v != 2 {
			t.Errorf("last-known-good = %d, want 2", v)
		}
		if rf := r.refreshes(f.name); len(rf) != 1 {
			t.Errorf("%d refreshes, want one: a retried StartRefresh adopts its own", len(rf))
		}
		if got := r.notifications("r-crash-good"); !slices.Equal(got, []string{"Phoenix Rollout Started", "Phoenix Rollout Succeeded"}) {
			t.Errorf("events = %v, want each told once", got)
		}
	})
	t.Run("an unhealthy image is still reverted", func(t *testing.T) {
		t.Parallel()
		r := newRig(t, 5)
		f := r.newFleet(fleetSpec{name: "api", size: 4})
		bad := r.image("api-v2", "unhealthy")
		ids := r.crashAndTimeout()

		arn := r.start("r-crash-bad", f.name, bad)
		end := r.wait(arn, rolloutLimit)
		if end.Status != sfntypes.ExecutionStatusSucceeded {
			t.Fatalf("execution %s: %s %s\n%s", end.Status, aws.ToString(end.Error), aws.ToString(end.Cause), r.functionLogs())
		}
		if path := r.path(arn); path[len(path)-1] != "Reverted" || !slices.Contains(path, "Validate") {
			t.Errorf("path %s, want a failed validation and a revert", compact(path))
		}
		r.checkFired(t, ids, "PrepareFunction", "StartRefreshFunction", "AwaitFunction", "RefreshEventsFunction", "ValidateFunction", "RevertFunction")
		g := r.group(f.name)
		if g.inService != 4 || g.images[f.image] != 4 || g.version != "1" || r.defaultVersion(f.launchTemplate) != 1 {
			t.Errorf("fleet: %d in service, by image %v, group on %q; want all 4 on %s, version 1 the default", g.inService, g.images, g.version, f.image)
		}
		if rec := r.rollout("r-crash-bad"); rec.status != "reverted" {
			t.Errorf("ledger rollout = %+v, want reverted", rec)
		}
		if r.leased(f.name) {
			t.Error("the lease is still held after the rollout ended")
		}
	})
	t.Run("with every refresh event lost the fallback poll still finalizes", func(t *testing.T) {
		t.Parallel()
		r := newRig(t, 10)
		f := r.newFleet(fleetSpec{name: "web", size: 4})
		img := r.image("web-v2", "healthy")
		if err := r.env.Cloud.EventBridge.SetChaos("", eventbus.Chaos{Drop: 1}); err != nil {
			t.Fatal(err)
		}
		ids := r.crashAndTimeout()

		arn := r.start("r-crash-poll", f.name, img)
		end := r.wait(arn, rolloutLimit)
		if end.Status != sfntypes.ExecutionStatusSucceeded {
			t.Fatalf("execution %s: %s %s\n%s", end.Status, aws.ToString(end.Error), aws.ToString(end.Cause), r.functionLogs())
		}
		path := r.path(arn)
		t.Logf("path: %s", compact(path))
		if !slices.Contains(path, "Poll") || path[len(path)-1] != "Finalized" {
			t.Errorf("path %s, want polls and a finalized end", compact(path))
		}
		// No event reaches refresh-events: every wake-up is a poll.
		r.checkFired(t, ids, "PrepareFunction", "StartRefreshFunction", "AwaitFunction", "PollFunction", "ValidateFunction", "FinalizeFunction")
		g := r.group(f.name)
		if g.inService != 4 || g.images[img] != 4 || g.version != "2" || r.defaultVersion(f.launchTemplate) != 2 {
			t.Errorf("fleet: %d in service, by image %v, group on %q; want all 4 on %s, version 2 the default", g.inService, g.images, g.version, img)
		}
		if rec := r.rollout("r-crash-poll"); rec.status != "finalized" {
			t.Errorf("ledger rollout = %+v, want finalized", rec)
		}
	})
}

func TestThrottlingEverywhereStillEndsRight(t *testing.T) {
	t.Parallel()
	r := newRig(t, 6)
	f := r.newFleet(fleetSpec{name: "web", size: 4})
	img := r.image("web-v2", "healthy")
	id, err := r.env.Cloud.Faults.Add(faults.Rule{Kind: faults.Throttle, Service: "*", Probability: 0.2})
	if err != nil {
		t.Fatal(err)
	}

	arn := r.start("r-throttled", f.name, img)
	end := r.wait(arn, rolloutLimit)
	throttled := 0
	for _, rule := range r.env.Cloud.Faults.Rules() {
		if rule.ID == id {
			throttled = rule.Fired
		}
	}
	r.env.Cloud.Faults.Remove(id)
	if end.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution %s: %s %s\n%s", end.Status, aws.ToString(end.Error), aws.ToString(end.Cause), r.functionLogs())
	}
	if throttled < 8 {
		t.Errorf("only %d calls were throttled; the scenario tests nothing", throttled)
	}
	if path := r.path(arn); path[len(path)-1] != "Finalized" {
		t.Errorf("path %s, want it to end Finalized", compact(path))
	}
	g := r.group(f.name)
	if g.inService != 4 || g.images[img] != 4 || g.version != "2" || r.defaultVersion(f.launchTemplate) != 2 {
		t.Errorf("fleet: %d in service, by image %v, group on %q; want all 4 on %s, version 2 the default", g.inService, g.images, g.version, img)
	}
	if rec := r.rollout("r-throttled"); rec.status != "finalized" {
		t.Errorf("ledger rollout = %+v, want finalized", rec)
	}
	if v, _ := r.lkg(f.name); v != 2 {
		t.Errorf("last-known-good = %d, want 2", v)
	}
	if rf := r.refreshes(f.name); len(rf) != 1 {
		t.Errorf("%d refreshes, want one", len(rf))
	}
}

func TestALatestGroupIsPinnedThenRolled(t *testing.T) {
	t.Parallel()
	r := newRig(t, 7)
	f := r.newFleet(fleetSpec{name: "edge", size: 4, version: "$Latest"})
	img := r.image("edge-v2", "healthy")
	if v := r.group(f.name).version; v != "$Latest" {
		t.Fatalf("the group starts on %q, want $Latest", v)
	}

	arn := r.start("r-latest", f.name, img)
	end := r.wait(arn, rolloutLimit)
	if end.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution %s: %s %s\n%s", end.Status, aws.ToString(end.Error), aws.ToString(end.Cause), r.functionLogs())
	}
	if path := r.path(arn); compact(path) != compact(goodPath) {
		t.Errorf("path:\n got %s\nwant %s", compact(path), compact(goodPath))
	}
	rf := r.refreshes(f.name)
	if len(rf) != 1 || rf[0].DesiredConfiguration == nil || rf[0].DesiredConfiguration.LaunchTemplate == nil ||
		aws.ToString(rf[0].DesiredConfiguration.LaunchTemplate.Version) != "2" {
		t.Fatalf("refreshes = %+v, want one to the numbered version 2", rf)
	}
	g := r.group(f.name)
	if g.version != "2" {
		t.Errorf("group on launch template version %q, want the numbered version 2 (never $Latest again)", g.version)
	}
	if g.inService != 4 || g.images[img] != 4 {
		t.Errorf("fleet: %d in service, by image %v; want all 4 on %s", g.inService, g.images, img)
	}
	rec := r.rollout("r-latest")
	if rec.status != "finalized" || rec.from != 1 || rec.to != 2 {
		t.Errorf("ledger rollout = %+v; want finalized from the pinned version 1 to 2", rec)
	}
	if v := r.defaultVersion(f.launchTemplate); v != 2 {
		t.Errorf("default version = %d, want 2", v)
	}
	if v, _ := r.lkg(f.name); v != 2 {
		t.Errorf("last-known-good = %d, want 2", v)
	}
}

func TestALaunchConfigurationGroupIsRefusedAndNothingChanges(t *testing.T) {
	t.Parallel()
	r := newRig(t, 8)
	f := r.newFleet(fleetSpec{name: "legacy", size: 2, launchConfiguration: true})
	img := r.image("legacy-v2", "healthy")
	before := r.group(f.name)

	arn := r.start("r-legacy", f.name, img)
	end := r.wait(arn, time.Hour)
	if end.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution %s: %s %s\n%s", end.Status, aws.ToString(end.Error), aws.ToString(end.Cause), r.functionLogs())
	}
	if path := r.path(arn); compact(path) != "Start > Prepare > Refused" {
		t.Errorf("path %s, want Prepare > Refused", compact(path))
	}
	if rf := r.refreshes(f.name); len(rf) != 0 {
		t.Errorf("refreshes = %+v, want none", rf)
	}
	after := r.group(f.name)
	if after.version != "" || after.inService != before.inService || after.images[f.image] != before.images[f.image] {
		t.Errorf("group changed: before %+v, after %+v", before, after)
	}
	lts, err := r.env.EC2.DescribeLaunchTemplates(r.ctx, &ec2.DescribeLaunchTemplatesInput{})
	if err != nil || len(lts.LaunchTemplates) != 0 {
		t.Errorf("launch templates = %+v (%v), want none created", lts, err)
	}
	rec := r.rollout("r-legacy")
	if rec.status != "refused" || !strings.Contains(rec.reason, "launch configuration") {
		t.Errorf("ledger rollout = %+v; want refused because of the launch configuration", rec)
	}
	if r.leased(f.name) {
		t.Error("the lease is still held after the refusal")
	}
	if got := r.notifications("r-legacy"); !slices.Equal(got, []string{"Phoenix Rollout Refused"}) {
		t.Errorf("events = %v, want one refusal", got)
	}
}

func TestTwoRolloutsForOneGroupNeverRunTwoRefreshesAtOnce(t *testing.T) {
	t.Parallel()
	r := newRig(t, 9)
	f := r.newFleet(fleetSpec{name: "web", size: 4})
	a := r.image("web-v2", "healthy")
	b := r.image("web-v3", "healthy")

	arnA := r.start("r-first", f.name, a)
	arnB := r.start("r-second", f.name, b)
	// Starting the same rollout again is the same execution, not a third.
	if again := r.start("r-first", f.name, a); again != arnA {
		t.Errorf("restarting rollout r-first gave execution %s, want %s", again, arnA)
	}
	endA, endB := r.wait(arnA, rolloutLimit), r.wait(arnB, rolloutLimit)
	if endA.Status != sfntypes.ExecutionStatusSucceeded || endB.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("executions %s and %s\n%s", endA.Status, endB.Status, r.functionLogs())
	}
	// The second waits for the first's lease (LeaseHeldError is retried
	// for about 49 minutes), then rolls on top of it.
	finalizedA := r.entered(arnA, "Finalized")
	startB := r.entered(arnB, "StartRefresh")
	if finalizedA.IsZero() || startB.IsZero() || startB.Before(finalizedA) {
		t.Errorf("the second rollout started its refresh at %s, before the first ended at %s", startB, finalizedA)
	}
	rf := r.refreshes(f.name)
	if len(rf) != 2 {
		t.Fatalf("%d refreshes, want two, one after the other", len(rf))
	}
	newer, older := rf[0], rf[1]
	if older.EndTime == nil || newer.StartTime == nil || aws.ToTime(newer.StartTime).Before(aws.ToTime(older.EndTime)) {
		t.Errorf("refreshes overlap: %s ran %s to %v, %s started %v",
			aws.ToString(older.InstanceRefreshId), aws.ToTime(older.StartTime), older.EndTime, aws.ToString(newer.InstanceRefreshId), newer.StartTime)
	}
	recA, recB := r.rollout("r-first"), r.rollout("r-second")
	if recA.status != "finalized" || recA.refreshID != aws.ToString(older.InstanceRefreshId) || recA.to != 2 {
		t.Errorf("first rollout = %+v, want finalized to 2 with refresh %s", recA, aws.ToString(older.InstanceRefreshId))
	}
	if recB.status != "finalized" || recB.refreshID != aws.ToString(newer.InstanceRefreshId) || recB.from != 2 || recB.to != 3 {
		t.Errorf("second rollout = %+v, want finalized from 2 to 3 with refresh %s", recB, aws.ToString(newer.InstanceRefreshId))
	}
	g := r.group(f.name)
	if g.inService != 4 || g.images[b] != 4 || g.version != "3" {
		t.Errorf("fleet: %d in service, by image %v, group on %q; want all 4 on %s, version 3", g.inService, g.images, g.version, b)
	}
	if v, _ := r.lkg(f.name); v != 3 {
		t.Errorf("last-known-good = %d, want 3", v)
	}
}
