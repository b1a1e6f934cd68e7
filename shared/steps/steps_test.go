package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
	"github.com/phoenix-rollouts/phoenix/shared/rollout/rollouttest"
)

var (
	t0   = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	web  = rollout.GroupKey{Region: "eu-west-1", Name: "web"}
	tgA  = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/1"
	exec = "arn:aws:states:eu-west-1:123456789012:execution:phoenix:r1"
)

// world is a fleet of four on launch template version 3, opted in, with a
// guard alarm, and the ports around it.
type world struct {
	fleet  *rollouttest.Fleet
	ledger *rollouttest.Ledger
	notes  *rollouttest.Notifier
	resume *rollouttest.Resumer
	deps   Deps
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{fleet: rollouttest.NewFleet(), ledger: rollouttest.NewLedger(), notes: &rollouttest.Notifier{}, resume: &rollouttest.Resumer{}}
	w.fleet.PutVersion(rollout.TemplateVersion{LaunchTemplateID: "lt-1", Number: 3, ImageID: "ami-old", InstanceType: "m7g.large"})
	w.fleet.PutImage("eu-west-1", rollout.Image{ID: "ami-old", State: "available", Architecture: "arm64"})
	w.fleet.PutImage("eu-west-1", rollout.Image{ID: "ami-new", State: "available", Architecture: "arm64"})
	w.fleet.SetArchitectures("m7g.large", "arm64")
	w.fleet.SetAlarm("web-5xx", "OK")
	w.fleet.PutGroup(rollout.Group{
		Key: web, LaunchTemplateID: "lt-1", LaunchTemplateVersion: "3", Min: 2, Max: 8, Desired: 4,
		HealthCheckType: "ELB", DefaultWarmup: time.Minute, TargetGroupARNs: []string{tgA},
		Tags:      map[string]string{rollout.TagEnabled: "true", rollout.TagAlarms: "web-5xx"},
		Instances: instancesOn("3", 4),
	})
	w.deps = Deps{
		Fleet: w.fleet, Ledger: w.ledger, Notifier: w.notes, Resumer: w.resume,
		Policy: rollout.DefaultPolicy(), LeaseTTL: 6 * time.Hour,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	}
	return w
}

func instancesOn(version string, n int) []rollout.Instance {
	out := make([]rollout.Instance, n)
	for i := range out {
		out[i] = rollout.Instance{ID: fmt.Sprintf("i-%s-%d", version, i), Lifecycle: "InService", Health: "Healthy",
			LaunchTemplateVersion: version, ImageID: "ami", LaunchTime: t0.Add(-time.Hour)}
	}
	return out
}

// serving puts healthy instances on version in the group and target group.
func (w *world) serving(t *testing.T, version string, n int, launched time.Time) {
	t.Helper()
	in := instancesOn(version, n)
	var ts []rollout.TargetState
	for i := range in {
		in[i].LaunchTime = launched
		ts = append(ts, rollout.TargetState{TargetGroupARN: tgA, InstanceID: in[i].ID, State: "healthy"})
	}
	w.fleet.SetInstances(web, in)
	w.fleet.SetTargets(ts)
}

func imageRequest() State {
	return State{Request: rollout.Request{RolloutID: "r1", Group: web, Mode: rollout.ModeImage, ImageID: "ami-new",
		Trigger: rollout.Trigger{Kind: "image-published", EventID: "ev-0"}}}
}

func at(st State, now time.Time) Input { return Input{State: st, Now: now, Execution: exec} }

// must returns a step's document, failing the test on an error.
func must(t *testing.T) func(State, error) State {
	t.Helper()
	return func(st State, err error) State {
		t.Helper()
		if err != nil {
			t.Fatalf("step failed: %v", err)
		}
		return st
	}
}

// errorAs asserts err is exactly (unwrapped) of type E, as Retry and Catch
// need it, and stores it in target when target is not nil.
func errorAs[E error](t *testing.T, err error, target *E) {
	t.Helper()
	e, ok := err.(E) //nolint:errorlint // the state machine matches the outermost type only.
	if !ok {
		t.Fatalf("err = %T %v, want %T unwrapped", err, err, *new(E))
	}
	if target != nil {
		*target = e
	}
}

// started runs Prepare and StartRefresh of an image rollout.
func (w *world) started(t *testing.T) State {
	t.Helper()
	ctx := context.Background()
	st := must(t)(w.deps.Prepare(ctx, at(imageRequest(), t0)))
	return must(t)(w.deps.StartRefresh(ctx, at(st, t0.Add(time.Minute))))
}

func (w *world) status(t *testing.T) rollout.Status {
	t.Helper()
	r, ok := w.ledger.Rollout("r1")
	if !ok {
		t.Fatal("rollout r1 not recorded")
	}
	return r.Status
}

func (w *world) leased(t *testing.T) bool {
	t.Helper()
	_, ok := w.ledger.Lease(web)
	return ok
}

func TestPrepare(t *testing.T) {
	ctx := context.Background()
	t.Run("a group on a launch configuration is refused and nothing changes", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		g := w.fleet.GroupNow(web)
		g.LaunchTemplateID, g.LaunchTemplateVersion, g.LaunchConfigurationName = "", "", "web-lc"
		w.fleet.PutGroup(g)
		_, err := w.deps.Prepare(ctx, at(imageRequest(), t0))
		var pe *rollout.PreflightError
		errorAs(t, err, &pe)
		if !strings.Contains(pe.Reason, "launch configuration web-lc") {
			t.Errorf("reason = %q", pe.Reason)
		}
		if c := w.fleet.Changes(); len(c) != 0 {
			t.Errorf("changes made: %v", c)
		}
		if w.status(t) != rollout.StatusRefused || w.leased(t) {
			t.Errorf("status %s, leased %v; want refused and released", w.status(t), w.leased(t))
		}
		if !slices.Equal(w.notes.DetailTypes(), []string{DetailRefused}) {
			t.Errorf("notifications = %v", w.notes.DetailTypes())
		}
	})
	t.Run("an image of the wrong architecture is refused and nothing changes", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.fleet.PutImage("eu-west-1", rollout.Image{ID: "ami-new", State: "available", Architecture: "x86_64"})
		_, err := w.deps.Prepare(ctx, at(imageRequest(), t0))
		errorAs[*rollout.PreflightError](t, err, nil)
		if c := w.fleet.Changes(); len(c) != 0 {
			t.Errorf("changes made: %v", c)
		}
		// A retry of the refused Prepare says the same and changes nothing.
		_, err = w.deps.Prepare(ctx, at(imageRequest(), t0))
		errorAs[*rollout.PreflightError](t, err, nil)
		eq(t, w.fleet.Versions("lt-1"), 1)
	})
	t.Run("an image rollout marks its image rolled before a version names it", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		// The mark fails: no version is created, and the retry marks it.
		w.ledger.Fail("MarkRolled", &rollout.TransientError{Op: "UpdateItem", Err: errors.New("throttled")})
		_, err := w.deps.Prepare(ctx, at(imageRequest(), t0))
		errorAs[*rollout.TransientError](t, err, nil)
		eq(t, w.fleet.Versions("lt-1"), 1)
		must(t)(w.deps.Prepare(ctx, at(imageRequest(), t0.Add(time.Minute))))
		when, ok := w.ledger.Rolled("eu-west-1", "ami-new")
		if !ok || !when.Equal(t0) {
			t.Errorf("ami-new rolled %v at %v; want marked at the rollout's start %v", ok, when, t0)
		}
		eq(t, w.fleet.Versions("lt-1"), 2)
	})
	t.Run("a group tagged for blue/green without a pair, or with an unknown strategy, is refused, not rolled in place", func(t *testing.T) {
		t.Parallel()
		for tag, want := range map[string]string{"blue-green": "names no pair (phoenix:pair)", "blue/green": `phoenix:strategy is "blue/green"`} {
			w := newWorld(t)
			g := w.fleet.GroupNow(web)
			g.Tags["phoenix:strategy"] = tag
			w.fleet.PutGroup(g)
			_, err := w.deps.Prepare(ctx, at(imageRequest(), t0))
			var pe *rollout.PreflightError
			errorAs(t, err, &pe)
			if !strings.Contains(pe.Reason, want) {
				t.Errorf("phoenix:strategy=%s: reason %q, want %q", tag, pe.Reason, want)
			}
			if c := w.fleet.Changes(); len(c) != 0 {
				t.Errorf("changes made: %v", c)
			}
		}
	})
	t.Run("a held lease refuses a second rollout", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		if err := w.ledger.AcquireLease(ctx, rollout.Lease{Group: web, Owner: "r0", ExpiresAt: t0.Add(time.Hour)}, t0); err != nil {
			t.Fatal(err)
		}
		_, err := w.deps.Prepare(ctx, at(imageRequest(), t0))
		var le *rollout.LeaseHeldError
		errorAs(t, err, &le)
		eq(t, le.Holder, "r0")
		if _, ok := w.ledger.Rollout("r1"); ok {
			t.Error("a rollout refused by the lease was recorded as if it ran")
		}
		if c := w.fleet.Changes(); len(c) != 0 {
			t.Errorf("changes made: %v", c)
		}
	})
	t.Run("a retried Prepare creates one version", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		// The first attempt creates the version, then the ledger fails.
		w.ledger.Fail("UpdateRollout", &rollout.TransientError{Op: "UpdateItem", Err: errors.New("throttled")})
		_, err := w.deps.Prepare(ctx, at(imageRequest(), t0))
		errorAs[*rollout.TransientError](t, err, nil)
		must(t)(w.deps.Prepare(ctx, at(imageRequest(), t0)))
		st := must(t)(w.deps.Prepare(ctx, at(imageRequest(), t0)))
		eq(t, w.fleet.Versions("lt-1"), 2)
		eq(t, st.Rollout.To.Number, int64(4))
		eq(t, st.Rollout.From.Number, int64(3))
		r, _ := w.ledger.Rollout("r1")
		eq(t, len(r.Steps), 1)
	})
	t.Run("the new version differs from the current one only in its image", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		st := must(t)(w.deps.Prepare(ctx, at(imageRequest(), t0)))
		tv, err := w.fleet.ResolveVersion(ctx, "eu-west-1", "lt-1", "4")
		if err != nil {
			t.Fatal(err)
		}
		eq(t, tv.ImageID, "ami-new")
		eq(t, tv.InstanceType, "m7g.large")
		eq(t, st.Rollout.To.ImageID, "ami-new")
		eq(t, w.fleet.DefaultVersion("lt-1"), int64(3))
		eq(t, w.fleet.GroupNow(web).LaunchTemplateVersion, "3")
	})
	t.Run("a $Latest group is pinned to the numbered version it resolves to today", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		g := w.fleet.GroupNow(web)
		g.LaunchTemplateVersion = "$Latest"
		w.fleet.PutGroup(g)
		st := must(t)(w.deps.Prepare(ctx, at(imageRequest(), t0)))
		eq(t, w.fleet.GroupNow(web).LaunchTemplateVersion, "3")
		eq(t, st.Rollout.From.Number, int64(3))
		if len(w.fleet.RefreshesNow(web)) != 0 {
			t.Error("pinning started a refresh")
		}
	})
	t.Run("a small group gets healthy percentages that launch before terminating", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		g := w.fleet.GroupNow(web)
		g.Desired, g.Instances = 1, instancesOn("3", 1)
		g.Tags[rollout.TagMinHealthy], g.Tags[rollout.TagMaxHealthy] = "90", "110"
		w.fleet.PutGroup(g)
		st := must(t)(w.deps.Prepare(ctx, at(imageRequest(), t0)))
		eq(t, st.Policy.MinHealthy, 100)
		eq(t, st.Policy.MaxHealthy, 200)
	})
	t.Run("a launch the dry run rejects is refused", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.fleet.SetDryRunError(4, errors.New("UnauthorizedOperation: not allowed to use the key pair"))
		_, err := w.deps.Prepare(ctx, at(imageRequest(), t0))
		errorAs[*rollout.PreflightError](t, err, nil)
		if w.status(t) != rollout.StatusRefused || w.leased(t) {
			t.Errorf("status %s, leased %v", w.status(t), w.leased(t))
		}
	})
	t.Run("a request without a time is bad input", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		_, err := w.deps.Prepare(ctx, Input{State: imageRequest()})
		errorAs[*rollout.BadInputError](t, err, nil)
	})
}

func TestStartRefresh(t *testing.T) {
	ctx := context.Background()
	t.Run("an image rollout skips matching instances and arms auto rollback with the guard alarms", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		st := w.started(t)
		specs := w.fleet.Specs()
		eq(t, len(specs), 1)
		s := specs[0]
		eq(t, s.SkipMatching, true)
		eq(t, s.Version, int64(4))
		if !slices.Equal(s.AutoRollbackAlarms, []string{"web-5xx"}) || !slices.Equal(s.Checkpoints, []int{25, 50, 100}) {
			t.Errorf("spec = %+v", s)
		}
		eq(t, st.Rollout.RefreshID, "refresh-1")
		eq(t, w.status(t), rollout.StatusRefreshing)
		eq(t, w.fleet.GroupNow(web).LaunchTemplateVersion, "3") // the group is never changed first
		if !slices.Equal(w.notes.DetailTypes(), []string{DetailStarted}) {
			t.Errorf("notifications = %v", w.notes.DetailTypes())
		}
	})
	t.Run("a recycle replaces every instance with the same version", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		req := imageRequest()
		req.Request.Mode, req.Request.ImageID = rollout.ModeRecycle, ""
		st := must(t)(w.deps.Prepare(ctx, at(req, t0)))
		must(t)(w.deps.StartRefresh(ctx, at(st, t0)))
		s := w.fleet.Specs()[0]
		eq(t, s.SkipMatching, false)
		eq(t, s.Version, int64(3))
		eq(t, w.fleet.Versions("lt-1"), 1)
	})
	t.Run("StartRefresh adopts its own refresh after a timeout", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		st := must(t)(w.deps.Prepare(ctx, at(imageRequest(), t0)))
		w.fleet.FailAfter("StartRefresh", &rollout.TransientError{Op: "StartInstanceRefresh", Err: context.DeadlineExceeded})
		_, err := w.deps.StartRefresh(ctx, at(st, t0))
		errorAs[*rollout.TransientError](t, err, nil)
		st = must(t)(w.deps.StartRefresh(ctx, at(st, t0)))
		eq(t, len(w.fleet.RefreshesNow(web)), 1)
		eq(t, st.Rollout.RefreshID, "refresh-1")
		st = must(t)(w.deps.StartRefresh(ctx, at(st, t0)))
		eq(t, len(w.fleet.Specs()), 1)
		eq(t, len(w.notes.DetailTypes()), 1)
	})
	t.Run("a refresh Phoenix did not start refuses the rollout and releases the group", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		st := must(t)(w.deps.Prepare(ctx, at(imageRequest(), t0)))
		w.fleet.AddRefresh(web, rollout.Refresh{ID: "rf-someone", Status: rollout.RefreshInProgress, LaunchTemplateID: "lt-1", Version: "3"})
		_, err := w.deps.StartRefresh(ctx, at(st, t0))
		var fe *rollout.ForeignRefreshError
		errorAs(t, err, &fe)
		eq(t, fe.RefreshID, "rf-someone")
		eq(t, w.status(t), rollout.StatusRefused)
		eq(t, w.leased(t), false)
		eq(t, len(w.fleet.Specs()), 0)
	})
}

func refreshEvent(kind, refreshID string, percent int, when time.Time) json.RawMessage {
	detail := fmt.Sprintf(`{"InstanceRefreshId":%q,"AutoScalingGroupName":"web"`, refreshID)
	if percent > 0 {
		detail += fmt.Sprintf(`,"CheckpointPercentage":"%d"`, percent)
	}
	return json.RawMessage(fmt.Sprintf(`{"version":"0","id":"ev-%s","source":"aws.autoscaling","detail-type":"EC2 Auto Scaling Instance Refresh %s",`+
		`"account":"123456789012","time":%q,"region":"eu-west-1",`+
		`"resources":["arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:5f1c9e4a:autoScalingGroupName/web"],"detail":%s}}`,
		strings.ReplaceAll(kind, " ", ""), kind, when.Format(time.RFC3339), detail))
}

func TestSignals(t *testing.T) {
	ctx := context.Background()
	t.Run("a signal before the token is parked wakes the task at once", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		st := w.started(t)
		res, err := w.deps.RefreshEvent(ctx, refreshEvent("Checkpoint Reached", "refresh-1", 25, t0.Add(5*time.Minute)))
		if err != nil || res.Resumed || res.Signal == nil {
			t.Fatalf("event: %+v, %v; want recorded, nobody to resume", res, err)
		}
		in := at(st, t0.Add(6*time.Minute))
		in.Token = "token-1"
		must(t)(w.deps.Await(ctx, in))
		got, ok := w.resume.Resumed("token-1")
		if !ok || got.Kind != rollout.SignalCheckpoint || got.Percentage != 25 || got.Seq != 1 {
			t.Fatalf("resumed %v with %+v, want the checkpoint signal", ok, got)
		}
	})
	t.Run("an event after the token is parked resumes the task, and a duplicate resume is ignored", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		st := w.started(t)
		in := at(st, t0.Add(2*time.Minute))
		in.Token = "token-1"
		must(t)(w.deps.Await(ctx, in))
		eq(t, w.resume.Count(), 0)
		res, err := w.deps.RefreshEvent(ctx, refreshEvent("Succeeded", "refresh-1", 0, t0.Add(9*time.Minute)))
		if err != nil || !res.Resumed {
			t.Fatalf("event: %+v, %v; want the task resumed", res, err)
		}
		// Await retried by Step Functions sees the signal and resumes
		// again: the stale token is ignored.
		must(t)(w.deps.Await(ctx, in))
		eq(t, w.resume.Count(), 1)
	})
	t.Run("a failure queued behind a checkpoint wakes the task first", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		st := w.started(t)
		for _, ev := range []json.RawMessage{
			refreshEvent("Checkpoint Reached", "refresh-1", 25, t0.Add(5*time.Minute)),
			refreshEvent("Rollback Failed", "refresh-1", 0, t0.Add(6*time.Minute)),
		} {
			if _, err := w.deps.RefreshEvent(ctx, ev); err != nil {
				t.Fatal(err)
			}
		}
		in := at(st, t0.Add(7*time.Minute))
		in.Token = "token-1"
		must(t)(w.deps.Await(ctx, in))
		got, _ := w.resume.Resumed("token-1")
		eq(t, got.Kind, rollout.SignalRollbackFailed)
	})
	ignored := map[string]json.RawMessage{
		"a Started event is ignored":                                   refreshEvent("Started", "refresh-1", 0, t0),
		"a Rollback Started event is ignored (its end is what counts)": refreshEvent("Rollback Started", "refresh-1", 0, t0),
		"an event for a refresh that is not the rollout's is ignored":  refreshEvent("Failed", "rf-other", 0, t0),
		"a malformed event is dropped without a retry":                 json.RawMessage(`{"source":"aws.autoscaling"}`),
		"an event of another envelope version is dropped without a retry": json.RawMessage(strings.Replace(
			string(refreshEvent("Failed", "refresh-1", 0, t0)), `"version":"0"`, `"version":"1"`, 1)),
		"an event whose group is in another account is dropped without a retry": json.RawMessage(strings.Replace(
			string(refreshEvent("Failed", "refresh-1", 0, t0)), `"account":"123456789012"`, `"account":"210987654321"`, 1)),
	}
	for name, ev := range ignored {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.started(t)
			res, err := w.deps.RefreshEvent(ctx, ev)
			if err != nil || res.Ignored == "" || res.Signal != nil {
				t.Fatalf("result %+v, %v; want ignored", res, err)
			}
		})
	}
	t.Run("an event for a group without an active rollout is ignored", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		res, err := w.deps.RefreshEvent(ctx, refreshEvent("Failed", "refresh-1", 0, t0))
		if err != nil || res.Ignored == "" {
			t.Fatalf("result %+v, %v; want ignored", res, err)
		}
	})
	t.Run("the fallback poll finds a checkpoint whose event was lost", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		st := w.started(t)
		w.fleet.SetRefreshProgress(web, "refresh-1", 30)
		st.Error = &ErrorInfo{Error: "States.Timeout", Cause: "the task timed out"}
		st = must(t)(w.deps.Poll(ctx, at(st, t0.Add(16*time.Minute))))
		if st.Error != nil {
			t.Error("the handled timeout stayed in the document")
		}
		eq(t, st.Signal.Kind, rollout.SignalCheckpoint)
		eq(t, st.Signal.Percentage, 25)
		eq(t, st.Signal.Polled, true)
		st.Checkpoint = 25
		st = must(t)(w.deps.Poll(ctx, at(st, t0.Add(32*time.Minute))))
		eq(t, st.Signal.Kind, rollout.SignalInProgress)
		w.fleet.SetRefreshStatus(web, "refresh-1", rollout.RefreshFailed)
		st = must(t)(w.deps.Poll(ctx, at(st, t0.Add(48*time.Minute))))
		eq(t, st.Signal.Kind, rollout.SignalFailed)
	})
}

func TestValidateStep(t *testing.T) {
	ctx := context.Background()
	t.Run("an unhealthy new instance fails validation", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		st := w.started(t)
		w.serving(t, "4", 1, t0.Add(2*time.Minute))
		w.fleet.SetTargets([]rollout.TargetState{{TargetGroupARN: tgA, InstanceID: "i-4-0", State: "unhealthy", Reason: "Target.FailedHealthChecks"}})
		st.Signal = rollout.Signal{Kind: rollout.SignalCheckpoint, Percentage: 25, Seq: 1}
		st = must(t)(w.deps.Validate(ctx, at(st, t0.Add(10*time.Minute))))
		eq(t, st.Verdict, rollout.VerdictFail)
		if !strings.Contains(strings.Join(st.Reasons, " "), "i-4-0 is unhealthy") {
			t.Errorf("reasons = %v", st.Reasons)
		}
	})
	t.Run("a warming instance is inconclusive and counted, and a retried validation leaves one entry", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		st := w.started(t)
		w.serving(t, "4", 1, t0.Add(2*time.Minute))
		w.fleet.SetTargets([]rollout.TargetState{{TargetGroupARN: tgA, InstanceID: "i-4-0", State: "initial"}})
		st.Signal = rollout.Signal{Kind: rollout.SignalCheckpoint, Percentage: 25, Seq: 1}
		in := at(st, t0.Add(3*time.Minute))
		first := must(t)(w.deps.Validate(ctx, in))
		must(t)(w.deps.Validate(ctx, in))
		eq(t, first.Verdict, rollout.VerdictInconclusive)
		eq(t, first.Rechecks, 1)
		r, _ := w.ledger.Rollout("r1")
		n := 0
		for _, s := range r.Steps {
			if strings.HasPrefix(s.Key, "validate@") {
				n++
			}
		}
		eq(t, n, 1)
	})
	t.Run("a failure to read the fleet reaches the state machine unwrapped", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		st := w.started(t)
		w.fleet.Fail("Group", &rollout.TransientError{Op: "DescribeAutoScalingGroups", Err: errors.New("Throttling")})
		_, err := w.deps.Validate(ctx, at(st, t0))
		errorAs[*rollout.TransientError](t, err, nil)
	})
}

func TestFinalize(t *testing.T) {
	ctx := context.Background()
	t.Run("a finalized rollout moves last-known-good", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		st := w.started(t)
		w.fleet.SetRefreshStatus(web, "refresh-1", rollout.RefreshSuccessful)
		w.serving(t, "4", 4, t0.Add(2*time.Minute))
		st.Signal = rollout.Signal{Kind: rollout.SignalSucceeded, Seq: 3}
		st = must(t)(w.deps.Validate(ctx, at(st, t0.Add(30*time.Minute))))
		eq(t, st.Verdict, rollout.VerdictPass)
		in := at(st, t0.Add(31*time.Minute))
		st = must(t)(w.deps.Finalize(ctx, in))
		must(t)(w.deps.Finalize(ctx, in)) // a retry changes nothing twice
		v, _, ok, _ := w.ledger.LastKnownGood(ctx, web)
		if !ok || v.Number != 4 || v.ImageID != "ami-new" {
			t.Errorf("last-known-good = %+v, %v; want version 4", v, ok)
		}
		eq(t, w.fleet.DefaultVersion("lt-1"), int64(4))
		eq(t, w.fleet.GroupNow(web).LaunchTemplateVersion, "4")
		eq(t, st.Rollout.Status, rollout.StatusFinalized)
		eq(t, w.leased(t), false)
		if !slices.Equal(w.notes.DetailTypes(), []string{DetailStarted, DetailSucceeded}) {
			t.Errorf("notifications = %v", w.notes.DetailTypes())
		}
	})
	t.Run("finalize without a passing verdict is refused", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		st := w.started(t)
		st.Verdict = rollout.VerdictInconclusive
		_, err := w.deps.Finalize(ctx, at(st, t0))
		errorAs[*rollout.BadInputError](t, err, nil)
		eq(t, w.fleet.DefaultVersion("lt-1"), int64(3))
	})
}

func TestRevert(t *testing.T) {
	ctx := context.Background()
	t.Run("revert uses rollback while the refresh runs", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		st := w.started(t)
		st.Verdict, st.Reasons = rollout.VerdictFail, []string{"new instance i-4-0 is unhealthy."}
		st = must(t)(w.deps.Revert(ctx, at(st, t0.Add(10*time.Minute))))
		eq(t, st.Revert.Phase, rollout.RevertRollback)
		eq(t, w.fleet.RefreshesNow(web)[0].Status, rollout.RefreshRollbackInProgress)
		eq(t, w.status(t), rollout.StatusReverting)
		// Still rolling back: the check waits.
		st = must(t)(w.deps.Revert(ctx, at(st, t0.Add(12*time.Minute))))
		eq(t, st.Revert.Phase, rollout.RevertRollback)
		w.fleet.SetRefreshStatus(web, "refresh-1", rollout.RefreshRollbackSuccessful)
		st = must(t)(w.deps.Revert(ctx, at(st, t0.Add(20*time.Minute))))
		eq(t, st.Revert.Phase, rollout.RevertDone)
		eq(t, st.Rollout.Status, rollout.StatusReverted)
		eq(t, w.leased(t), false)
		eq(t, len(w.fleet.Specs()), 1) // no refresh back was needed
		if !slices.Equal(w.notes.DetailTypes(), []string{DetailStarted, DetailReverted}) {
			t.Errorf("notifications = %v", w.notes.DetailTypes())
		}
	})
	t.Run("revert uses a refresh back after the refresh succeeded", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		if err := w.ledger.SetLastKnownGood(ctx, web, rollout.Version{LaunchTemplateID: "lt-1", Number: 3, ImageID: "ami-old"}, "r0", t0.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		st := w.started(t)
		w.fleet.SetRefreshStatus(web, "refresh-1", rollout.RefreshSuccessful)
		w.serving(t, "4", 4, t0.Add(2*time.Minute))
		// Image Builder moved the default behind Phoenix's back.
		if err := w.fleet.SetDefaultVersion(ctx, "eu-west-1", "lt-1", 4); err != nil {
			t.Fatal(err)
		}
		st.Signal = rollout.Signal{Kind: rollout.SignalAlarm, Alarm: "web-5xx", Seq: 4}
		st = must(t)(w.deps.Revert(ctx, at(st, t0.Add(40*time.Minute))))
		eq(t, st.Revert.Phase, rollout.RevertRefreshBack)
		back := w.fleet.Specs()[1]
		eq(t, back.Version, int64(3))
		eq(t, back.SkipMatching, true)
		eq(t, len(back.AutoRollbackAlarms), 0)
		active, ok, _ := w.ledger.ActiveRollout(ctx, web)
		if !ok || active.RefreshID != st.Revert.RefreshID {
			t.Errorf("the ledger awaits refresh %q, want the refresh back %q", active.RefreshID, st.Revert.RefreshID)
		}
		w.fleet.SetRefreshStatus(web, st.Revert.RefreshID, rollout.RefreshSuccessful)
		w.serving(t, "3", 4, t0.Add(50*time.Minute))
		st = must(t)(w.deps.Revert(ctx, at(st, t0.Add(55*time.Minute))))
		eq(t, st.Revert.Phase, rollout.RevertDone)
		eq(t, w.fleet.DefaultVersion("lt-1"), int64(3))
		eq(t, w.fleet.GroupNow(web).LaunchTemplateVersion, "3")
		eq(t, w.status(t), rollout.StatusReverted)
		r, _ := w.ledger.Rollout("r1")
		if !strings.Contains(r.Reason, "web-5xx") {
			t.Errorf("reason %q does not name the alarm", r.Reason)
		}
	})
	t.Run("a refresh that cannot be rolled back is cancelled and then refreshed back", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		st := w.started(t)
		w.fleet.SetRefreshStatus(web, "refresh-1", rollout.RefreshBaking)
		rs := w.fleet.RefreshesNow(web)
		rs[0].RollbackEligible = false
		w.fleet.AddRefresh(web, rs[0]) // the newest entry wins
		w.serving(t, "4", 4, t0.Add(2*time.Minute))
		st.Error = &ErrorInfo{Error: "States.TaskFailed", Cause: "validation crashed"}
		st = must(t)(w.deps.Revert(ctx, at(st, t0.Add(30*time.Minute))))
		eq(t, st.Revert.Phase, rollout.RevertCancel)
		w.fleet.SetRefreshStatus(web, "refresh-1", rollout.RefreshCancelled)
		st = must(t)(w.deps.Revert(ctx, at(st, t0.Add(32*time.Minute))))
		eq(t, st.Revert.Phase, rollout.RevertRefreshBack)
		eq(t, w.fleet.Specs()[len(w.fleet.Specs())-1].Version, int64(3))
	})
	t.Run("a failed refresh back ends dirty and tells a human", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		st := w.started(t)
		w.fleet.SetRefreshStatus(web, "refresh-1", rollout.RefreshSuccessful)
		w.serving(t, "4", 4, t0.Add(2*time.Minute))
		st.Verdict = rollout.VerdictFail
		st = must(t)(w.deps.Revert(ctx, at(st, t0.Add(40*time.Minute))))
		w.fleet.SetRefreshStatus(web, st.Revert.RefreshID, rollout.RefreshFailed)
		_, err := w.deps.Revert(ctx, at(st, t0.Add(100*time.Minute)))
		var rf *rollout.RevertFailedError
		errorAs(t, err, &rf)
		st.Error = &ErrorInfo{Error: "RevertFailedError", Cause: rf.Error()}
		in := at(st, t0.Add(101*time.Minute))
		st = must(t)(w.deps.Dirty(ctx, in))
		must(t)(w.deps.Dirty(ctx, in))
		eq(t, st.Rollout.Status, rollout.StatusDirty)
		eq(t, w.leased(t), false)
		sent := w.notes.Sent()
		last := sent[len(sent)-1]
		eq(t, last.DetailType, DetailAttention)
		eq(t, last.Severity, "critical")
		eq(t, len(sent), 2) // Started, then Needs Attention once
	})
}

// TestImageRolloutEndToEnd walks a rollout through the steps in the order
// the state machine calls them, with the refresh's events in between.
func TestImageRolloutEndToEnd(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	st := w.started(t)
	var path []string
	for i, pct := range []int{25, 50} {
		now := t0.Add(time.Duration(10*(i+1)) * time.Minute)
		if _, err := w.deps.RefreshEvent(ctx, refreshEvent("Checkpoint Reached", "refresh-1", pct, now)); err != nil {
			t.Fatal(err)
		}
		in := at(st, now)
		in.Token = fmt.Sprintf("token-%d", i)
		must(t)(w.deps.Await(ctx, in))
		sig, ok := w.resume.Resumed(in.Token)
		if !ok {
			t.Fatalf("await %d was not resumed", i)
		}
		st.Signal = sig
		w.serving(t, "4", 4*pct/100, now.Add(-5*time.Minute))
		st = must(t)(w.deps.Validate(ctx, at(st, now)))
		path = append(path, fmt.Sprintf("%s@%d:%s", sig.Kind, sig.Percentage, st.Verdict))
	}
	w.fleet.SetRefreshStatus(web, "refresh-1", rollout.RefreshSuccessful)
	w.serving(t, "4", 4, t0.Add(25*time.Minute))
	if _, err := w.deps.RefreshEvent(ctx, refreshEvent("Succeeded", "refresh-1", 0, t0.Add(40*time.Minute))); err != nil {
		t.Fatal(err)
	}
	in := at(st, t0.Add(41*time.Minute))
	in.Token = "token-final"
	must(t)(w.deps.Await(ctx, in))
	st.Signal, _ = w.resume.Resumed("token-final")
	st = must(t)(w.deps.Validate(ctx, at(st, t0.Add(41*time.Minute))))
	path = append(path, fmt.Sprintf("%s:%s", st.Signal.Kind, st.Verdict))
	st = must(t)(w.deps.Finalize(ctx, at(st, t0.Add(42*time.Minute))))
	path = append(path, string(st.Rollout.Status))
	want := []string{"checkpoint@25:pass", "checkpoint@50:pass", "succeeded:pass", "finalized"}
	if !slices.Equal(path, want) {
		t.Errorf("path = %v, want %v", path, want)
	}
	eq(t, st.Checkpoint, 50)
}

func TestStateDocument(t *testing.T) {
	t.Run("the document carries durations in seconds and the signal even before the first wake-up", func(t *testing.T) {
		st := State{Request: imageRequest().Request, Policy: DocOf(rollout.DefaultPolicy()), AwaitTimeoutSeconds: 570}
		b, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`"checkpointDelaySeconds":600`, `"bakeSeconds":900`, `"signal":{`, `"verdict":""`} {
			if !strings.Contains(string(b), want) {
				t.Errorf("document %s lacks %s", b, want)
			}
		}
		if strings.Contains(string(b), `"revert"`) {
			t.Errorf("document has a revert before any: %s", b)
		}
		// Await's TimeoutSecondsPath reads $.awaitTimeoutSeconds.
		var top map[string]any
		if err := json.Unmarshal(b, &top); err != nil {
			t.Fatal(err)
		}
		if top["awaitTimeoutSeconds"] != 570.0 {
			t.Errorf("$.awaitTimeoutSeconds = %v in %s, want 570", top["awaitTimeoutSeconds"], b)
		}
		var back State
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		eq(t, back.Policy.Policy().CheckpointDelay, 10*time.Minute)
	})
}

func eq[T comparable](t *testing.T, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestSampleEvents(t *testing.T) {
	t.Run("the sample Prepare payload decodes into the input", func(t *testing.T) {
		b, err := os.ReadFile("../../events/prepare-image-rollout.json")
		if err != nil {
			t.Fatal(err)
		}
		var in Input
		if err := json.Unmarshal(b, &in); err != nil {
			t.Fatal(err)
		}
		if err := requireNow(in); err != nil {
			t.Fatal(err)
		}
		if err := in.State.Request.Validate(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("the sample refresh event parses into a checkpoint signal", func(t *testing.T) {
		b, err := os.ReadFile("../../events/instance-refresh-checkpoint-reached.json")
		if err != nil {
			t.Fatal(err)
		}
		ev, err := rollout.ParseRefreshEvent(b)
		if err != nil {
			t.Fatal(err)
		}
		s, ok := ev.Signal()
		if !ok || s.Kind != rollout.SignalCheckpoint || s.Percentage != 25 {
			t.Errorf("signal = %+v, %v", s, ok)
		}
	})
}

func TestRecycleAndRevertModesFailSafely(t *testing.T) {
	ctx := context.Background()
	t.Run("a failing recycle is stopped on its own version, whatever last-known-good says, and the template is untouched", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		// A stale last-known-good on another version must not turn the stop
		// into a change of version.
		if err := w.ledger.SetLastKnownGood(ctx, web, rollout.Version{LaunchTemplateID: "lt-1", Number: 2, ImageID: "ami-older"}, "r0", t0.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		defaultBefore := w.fleet.DefaultVersion("lt-1")
		req := State{Request: rollout.Request{RolloutID: "r1", Group: web, Mode: rollout.ModeRecycle, Trigger: rollout.Trigger{Kind: "schedule", EventID: "ev-1"}}}
		st := must(t)(w.deps.Prepare(ctx, at(req, t0)))
		st = must(t)(w.deps.StartRefresh(ctx, at(st, t0.Add(time.Minute))))
		eq(t, w.fleet.Specs()[0].SkipMatching, false)
		eq(t, w.fleet.Specs()[0].Version, int64(3))
		rs := w.fleet.RefreshesNow(web)
		rs[0].RollbackEligible = false
		w.fleet.AddRefresh(web, rs[0])
		st.Verdict, st.Reasons = rollout.VerdictFail, []string{"new instance i-3-0 is unhealthy."}
		st = must(t)(w.deps.Revert(ctx, at(st, t0.Add(10*time.Minute))))
		eq(t, st.Revert.Phase, rollout.RevertCancel)
		eq(t, st.Revert.Target.Number, int64(3))
		w.fleet.SetRefreshStatus(web, "refresh-1", rollout.RefreshCancelled)
		st = must(t)(w.deps.Revert(ctx, at(st, t0.Add(12*time.Minute))))
		eq(t, st.Revert.Phase, rollout.RevertDone)
		eq(t, len(w.fleet.Specs()), 1) // no refresh back: every instance runs version 3
		eq(t, w.fleet.DefaultVersion("lt-1"), defaultBefore)
		eq(t, w.fleet.GroupNow(web).LaunchTemplateVersion, "3")
		eq(t, w.status(t), rollout.StatusReverted)
		sent := w.notes.Sent()
		if last := sent[len(sent)-1]; !strings.Contains(last.Message, "recycle of eu-west-1/web was stopped") {
			t.Errorf("last notification %q does not say the recycle stopped", last.Message)
		}
	})
	t.Run("a failing revert is cancelled, never rolled back onto the condemned version, and ends dirty", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.fleet.PutVersion(rollout.TemplateVersion{LaunchTemplateID: "lt-1", Number: 2, ImageID: "ami-new", InstanceType: "m7g.large"})
		req := State{Request: rollout.Request{RolloutID: "r1", Group: web, Mode: rollout.ModeRevert, Version: 2, Trigger: rollout.Trigger{Kind: "alarm", EventID: "ev-2"}}}
		st := must(t)(w.deps.Prepare(ctx, at(req, t0)))
		if !slices.Equal(st.Policy.Checkpoints, []int{100}) || st.Policy.BakeSeconds != 0 || len(st.Policy.Alarms) != 0 {
			t.Errorf("revert policy %+v, want straight back", st.Policy)
		}
		st = must(t)(w.deps.StartRefresh(ctx, at(st, t0.Add(time.Minute))))
		eq(t, len(w.fleet.Specs()[0].AutoRollbackAlarms), 0)
		st.Verdict, st.Reasons = rollout.VerdictFail, []string{"new instance i-2-0 is unhealthy."}
		_, err := w.deps.Revert(ctx, at(st, t0.Add(10*time.Minute)))
		var rf *rollout.RevertFailedError
		errorAs(t, err, &rf)
		if !strings.Contains(rf.Reason, "cancelled") || !strings.Contains(rf.Reason, "will not roll back onto version 3") {
			t.Errorf("reason %q", rf.Reason)
		}
		eq(t, w.fleet.RefreshesNow(web)[0].Status, rollout.RefreshCancelling)
		// A retried Revert finds the refresh cancelling and cancels nothing twice.
		_, err = w.deps.Revert(ctx, at(st, t0.Add(11*time.Minute)))
		errorAs(t, err, &rf)
	})
}

func TestEveryStepHonoursTheHaltFlag(t *testing.T) {
	ctx := context.Background()
	halt := rollout.Halt{Group: web, Reason: "incident 42", By: "alice", At: t0.Add(-time.Minute)}
	t.Run("prepare refuses a halted group and changes nothing", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.ledger.SetHalt(halt)
		_, err := w.deps.Prepare(ctx, at(imageRequest(), t0))
		var pe *rollout.PreflightError
		errorAs(t, err, &pe)
		if !strings.Contains(pe.Reason, "halted for eu-west-1/web by alice") || !strings.Contains(pe.Reason, "incident 42") {
			t.Errorf("reason %q", pe.Reason)
		}
		eq(t, w.status(t), rollout.StatusRefused)
		eq(t, w.leased(t), false)
		eq(t, len(w.fleet.Specs()), 0)
	})
	t.Run("a global halt covers every group", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.ledger.SetHalt(rollout.Halt{Reason: "sale weekend", At: t0})
		_, err := w.deps.Prepare(ctx, at(imageRequest(), t0))
		var pe *rollout.PreflightError
		errorAs(t, err, &pe)
		if !strings.Contains(pe.Reason, "every group") {
			t.Errorf("reason %q", pe.Reason)
		}
	})
	t.Run("a halt set after prepare refuses before the refresh starts", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		st := must(t)(w.deps.Prepare(ctx, at(imageRequest(), t0)))
		w.ledger.SetHalt(halt)
		_, err := w.deps.StartRefresh(ctx, at(st, t0.Add(time.Minute)))
		var pe *rollout.PreflightError
		errorAs(t, err, &pe)
		eq(t, len(w.fleet.Specs()), 0)
		eq(t, w.status(t), rollout.StatusRefused)
		eq(t, w.leased(t), false)
	})
	t.Run("a halt during the refresh wakes the parked rollout at once to revert, with the halt as the reason", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		st := w.started(t)
		w.ledger.SetHalt(halt)
		in := at(st, t0.Add(5*time.Minute))
		in.Token = "tok-1"
		if _, err := w.deps.Await(ctx, in); err != nil {
			t.Fatal(err)
		}
		sig, ok := w.resume.Resumed("tok-1")
		if !ok || sig.Kind != rollout.SignalHalted || !rollout.FailureSignal(sig.Kind) {
			t.Fatalf("resumed %v with %+v, want a halted signal", ok, sig)
		}
		st.Signal = sig
		st = must(t)(w.deps.Revert(ctx, at(st, t0.Add(6*time.Minute))))
		eq(t, st.Revert.Phase, rollout.RevertRollback)
		if !strings.Contains(st.Revert.Reason, "incident 42") {
			t.Errorf("revert reason %q does not carry the halt's", st.Revert.Reason)
		}
		// The revert's own wait is not interrupted by the halt it obeys.
		in = at(st, t0.Add(7*time.Minute))
		in.Token = "tok-2"
		if _, err := w.deps.Await(ctx, in); err != nil {
			t.Fatal(err)
		}
		if _, ok := w.resume.Resumed("tok-2"); ok {
			t.Error("AwaitRevert was woken by the halt")
		}
	})
	t.Run("validation fails while halted", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		st := w.started(t)
		w.serving(t, "4", 4, t0.Add(2*time.Minute))
		w.ledger.SetHalt(halt)
		st.Signal = rollout.Signal{Kind: rollout.SignalCheckpoint, Percentage: 50}
		st = must(t)(w.deps.Validate(ctx, at(st, t0.Add(20*time.Minute))))
		eq(t, st.Verdict, rollout.VerdictFail)
		if len(st.Reasons) == 0 || !strings.Contains(st.Reasons[0], "incident 42") {
			t.Errorf("reasons %q", st.Reasons)
		}
		w.ledger.ClearHalt(web)
		st = must(t)(w.deps.Validate(ctx, at(st, t0.Add(21*time.Minute))))
		if st.Verdict == rollout.VerdictFail {
			t.Errorf("still failing after the halt was cleared: %q", st.Reasons)
		}
	})
}

func TestAnAlarmSignalsRevertGivesTheAlarmAsItsReason(t *testing.T) {
	w := newWorld(t)
	st := w.started(t)
	st.Signal = rollout.Signal{Kind: rollout.SignalAlarm, Alarm: "web-5xx", RefreshID: "refresh-1", Seq: 3,
		Reason: "alarm web-5xx is in ALARM: Threshold Crossed"}
	st = must(t)(w.deps.Revert(context.Background(), at(st, t0.Add(10*time.Minute))))
	eq(t, st.Revert.Reason, "alarm web-5xx is in ALARM: Threshold Crossed")
}

func TestARolloutThatWaitedTooLongForTheLeaseIsRecordedRefusedAndTold(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	holder := rollout.Lease{Group: web, Owner: "r0", Execution: "arn:other", ExpiresAt: t0.Add(6 * time.Hour)}
	if err := w.ledger.AcquireLease(ctx, holder, t0); err != nil {
		t.Fatal(err)
	}
	_, err := w.deps.Prepare(ctx, at(imageRequest(), t0))
	errorAs[*rollout.LeaseHeldError](t, err, nil)
	// Busy, with the error Prepare's retries ended on.
	st := imageRequest()
	st.Error = &ErrorInfo{Error: "LeaseHeldError", Cause: `{"errorMessage":"group eu-west-1/web is leased by rollout r0 until 2026-03-01T18:00:00Z","errorType":"LeaseHeldError"}`}
	in := at(st, t0.Add(49*time.Minute))
	_, err = w.deps.Busy(ctx, in)
	var pe *rollout.PreflightError
	errorAs(t, err, &pe)
	if !strings.Contains(pe.Reason, "busy with another rollout") || !strings.Contains(pe.Reason, "leased by rollout r0") {
		t.Errorf("reason %q", pe.Reason)
	}
	r, ok := w.ledger.Rollout("r1")
	if !ok || r.Status != rollout.StatusRefused || r.ExecutionARN != exec || !strings.Contains(r.Reason, "r0") {
		t.Fatalf("record %+v (found %v), want refused with its execution and reason", r, ok)
	}
	// A retried Busy refuses again without telling twice, and the holder keeps its lease.
	_, err = w.deps.Busy(ctx, in)
	errorAs(t, err, &pe)
	if got := w.notes.DetailTypes(); !slices.Equal(got, []string{DetailRefused}) {
		t.Errorf("notifications %v, want one refusal", got)
	}
	if l, ok := w.ledger.Lease(web); !ok || l.Owner != "r0" {
		t.Errorf("lease %+v, want r0's untouched", l)
	}
	eq(t, len(w.fleet.Specs()), 0)
}

func TestPrepareIgnoresALeaseHeldErrorLeftInTheDocument(t *testing.T) {
	// Busy is its own handler: a LeaseHeldError left in $.error must not
	// turn Prepare into a refusal.
	w := newWorld(t)
	st := imageRequest()
	st.Error = &ErrorInfo{Error: "LeaseHeldError", Cause: "group eu-west-1/web is leased by rollout r0"}
	st = must(t)(w.deps.Prepare(context.Background(), at(st, t0)))
	eq(t, st.Rollout.To.Number, int64(4))
	eq(t, w.status(t), rollout.StatusPreparing)
	if got := w.notes.DetailTypes(); slices.Contains(got, DetailRefused) {
		t.Errorf("notifications %v: Prepare refused", got)
	}
}

func TestBusyNeedsTheTimeAndAValidRequest(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	_, err := w.deps.Busy(ctx, Input{State: imageRequest(), Execution: exec})
	errorAs[*rollout.BadInputError](t, err, nil)
	bad := imageRequest()
	bad.Request.Group.Name = ""
	_, err = w.deps.Busy(ctx, at(bad, t0))
	errorAs[*rollout.BadInputError](t, err, nil)
	if _, ok := w.ledger.Rollout("r1"); ok {
		t.Error("a bad Busy input recorded the rollout")
	}
	eq(t, len(w.notes.Sent()), 0)
}

func TestDirtyRecordsARolloutPrepareNeverRecordedWithItsExecution(t *testing.T) {
	w := newWorld(t)
	st := imageRequest()
	st.Error = &ErrorInfo{Error: "States.TaskFailed", Cause: "prepare kept crashing"}
	st = must(t)(w.deps.Dirty(context.Background(), at(st, t0.Add(time.Minute))))
	r, ok := w.ledger.Rollout("r1")
	if !ok || r.Status != rollout.StatusDirty || r.ExecutionARN != exec || r.Trigger.EventID != "ev-0" {
		t.Errorf("record %+v (found %v)", r, ok)
	}
}

func TestAFinalizeThatCommittedAndThenFailedIsFinishedNotReverted(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	st := w.started(t)
	w.fleet.SetRefreshStatus(web, "refresh-1", rollout.RefreshSuccessful)
	w.serving(t, "4", 4, t0.Add(2*time.Minute))
	st.Verdict = rollout.VerdictPass
	// The notification fails through every retry: Finalize has moved the
	// default version, the group and last-known-good, then fails.
	for range 2 {
		w.notes.Fail(errors.New("sns: 503"))
	}
	_, err := w.deps.Finalize(ctx, at(st, t0.Add(40*time.Minute)))
	if err == nil {
		t.Fatal("Finalize did not fail")
	}
	st.Error = &ErrorInfo{Error: "TransientError", Cause: "sns: 503"}
	st = must(t)(w.deps.Revert(ctx, at(st, t0.Add(42*time.Minute))))
	eq(t, st.Revert.Phase, rollout.RevertDone)
	eq(t, w.status(t), rollout.StatusFinalized)
	eq(t, w.leased(t), false)
	eq(t, len(w.fleet.Specs()), 1) // no refresh back
	eq(t, w.fleet.DefaultVersion("lt-1"), int64(4))
	lkg, _, _, _ := w.ledger.LastKnownGood(ctx, web)
	eq(t, lkg.Number, int64(4))
}

// emptied makes the world's group want no instance and have none, as a
// standby or scaled-to-zero group has.
func (w *world) emptied() {
	g := w.fleet.GroupNow(web)
	g.Desired, g.Min, g.Instances = 0, 0, nil
	w.fleet.PutGroup(g)
	w.fleet.SetTargets(nil)
}

func TestAGroupWithNothingToValidateIsPinnedNeverFinalized(t *testing.T) {
	ctx := context.Background()
	lkg := rollout.Version{LaunchTemplateID: "lt-1", Number: 3, ImageID: "ami-old"}
	t.Run("the final validation of an empty group is unvalidated and Pin leaves last-known-good and the default", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		if err := w.ledger.SetLastKnownGood(ctx, web, lkg, "r0", t0.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		w.emptied()
		st := w.started(t)
		w.fleet.SetRefreshStatus(web, "refresh-1", rollout.RefreshSuccessful)
		st.Signal = rollout.Signal{Kind: rollout.SignalSucceeded, Seq: 1}
		st = must(t)(w.deps.Validate(ctx, at(st, t0.Add(5*time.Minute))))
		eq(t, st.Verdict, rollout.VerdictUnvalidated)
		_, err := w.deps.Finalize(ctx, at(st, t0.Add(6*time.Minute)))
		errorAs[*rollout.BadInputError](t, err, nil)
		in := at(st, t0.Add(6*time.Minute))
		st = must(t)(w.deps.Pin(ctx, in))
		must(t)(w.deps.Pin(ctx, in)) // a retry tells and records once
		eq(t, st.Rollout.Status, rollout.StatusPinned)
		if !strings.HasPrefix(st.Rollout.Reason, "pinned, not validated: the group has no instance") {
			t.Errorf("reason = %q", st.Rollout.Reason)
		}
		if v, _, _, _ := w.ledger.LastKnownGood(ctx, web); v != lkg {
			t.Errorf("last-known-good = %+v, want it left at %+v", v, lkg)
		}
		eq(t, w.fleet.DefaultVersion("lt-1"), int64(3))
		eq(t, w.fleet.GroupNow(web).LaunchTemplateVersion, "4")
		eq(t, w.leased(t), false)
		if !slices.Equal(w.notes.DetailTypes(), []string{DetailStarted, DetailPinned}) {
			t.Errorf("notifications = %v", w.notes.DetailTypes())
		}
		if msg := w.notes.Sent()[1].Message; !strings.Contains(msg, "NOT validated") || !strings.Contains(msg, "stays version 3") {
			t.Errorf("the notification does not say what happened: %q", msg)
		}
	})
	t.Run("a checkpoint with nothing to judge is passed over, not passed", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.emptied()
		st := w.started(t)
		st.Signal = rollout.Signal{Kind: rollout.SignalCheckpoint, Percentage: 50, Seq: 1}
		st = must(t)(w.deps.Validate(ctx, at(st, t0.Add(5*time.Minute))))
		eq(t, st.Verdict, rollout.VerdictUnvalidated)
		eq(t, st.Checkpoint, 50)
		eq(t, st.Rechecks, 0)
	})
	t.Run("a revert of an empty group is pinned and restores the default and last-known-good it goes back to", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		// Version 3 was condemned after it had become the default and
		// last-known-good; the revert goes back to version 2.
		older := rollout.Version{LaunchTemplateID: "lt-1", Number: 2, ImageID: "ami-older"}
		w.fleet.PutVersion(rollout.TemplateVersion{LaunchTemplateID: "lt-1", Number: 2, ImageID: "ami-older", InstanceType: "m7g.large"})
		w.fleet.PutImage("eu-west-1", rollout.Image{ID: "ami-older", State: "available", Architecture: "arm64"})
		if err := w.ledger.SetLastKnownGood(ctx, web, lkg, "r0", t0.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		w.emptied()
		req := State{Request: rollout.Request{RolloutID: "r1", Group: web, Mode: rollout.ModeRevert, Version: 2, Trigger: rollout.Trigger{Kind: "alarm", EventID: "ev-2"}}}
		st := must(t)(w.deps.Prepare(ctx, at(req, t0)))
		st = must(t)(w.deps.StartRefresh(ctx, at(st, t0.Add(time.Minute))))
		w.fleet.SetRefreshStatus(web, "refresh-1", rollout.RefreshSuccessful)
		st.Signal = rollout.Signal{Kind: rollout.SignalSucceeded, Seq: 1}
		st = must(t)(w.deps.Validate(ctx, at(st, t0.Add(2*time.Minute))))
		eq(t, st.Verdict, rollout.VerdictUnvalidated)
		st = must(t)(w.deps.Pin(ctx, at(st, t0.Add(3*time.Minute))))
		eq(t, st.Rollout.Status, rollout.StatusPinned)
		eq(t, w.fleet.DefaultVersion("lt-1"), int64(2))
		if v, _, _, _ := w.ledger.LastKnownGood(ctx, web); v != older {
			t.Errorf("last-known-good = %+v, want it back on %+v", v, older)
		}
		if msg := w.notes.Sent()[1].Message; !strings.Contains(msg, "default went back to it from the condemned version 3") {
			t.Errorf("the notification does not say the default went back: %q", msg)
		}
	})
	t.Run("with no last-known-good, a revert goes back past a pinned version to the one before it", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		// r0 pinned the group from version 2 to version 3, unvalidated.
		w.fleet.PutVersion(rollout.TemplateVersion{LaunchTemplateID: "lt-1", Number: 2, ImageID: "ami-older", InstanceType: "m7g.large"})
		pinned := rollout.Rollout{ID: "r0", Group: web, Mode: rollout.ModeImage, Status: rollout.StatusPreparing, StartedAt: t0.Add(-2 * time.Hour),
			From: rollout.Version{LaunchTemplateID: "lt-1", Number: 2, ImageID: "ami-older"}, To: rollout.Version{LaunchTemplateID: "lt-1", Number: 3, ImageID: "ami-old"}}
		if _, err := w.ledger.PutRollout(ctx, pinned); err != nil {
			t.Fatal(err)
		}
		if _, err := w.ledger.UpdateRollout(ctx, "r0", rollout.RolloutUpdate{Status: rollout.StatusPinned, EndedAt: t0.Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
		st := w.started(t)
		w.fleet.SetRefreshStatus(web, "refresh-1", rollout.RefreshSuccessful)
		st.Verdict, st.Reasons = rollout.VerdictFail, []string{"new instance i-4-0 is unhealthy."}
		st = must(t)(w.deps.Revert(ctx, at(st, t0.Add(10*time.Minute))))
		eq(t, st.Revert.Target.Number, int64(2))
	})
	t.Run("pin without an unvalidated verdict is refused", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		st := w.started(t)
		st.Verdict = rollout.VerdictPass
		_, err := w.deps.Pin(ctx, at(st, t0))
		errorAs[*rollout.BadInputError](t, err, nil)
		eq(t, w.status(t), rollout.StatusRefreshing)
	})
}

func TestASharedLaunchTemplatesDefaultIsNeverMoved(t *testing.T) {
	ctx := context.Background()
	finalized := func(t *testing.T, w *world) State {
		t.Helper()
		st := w.started(t)
		w.fleet.SetRefreshStatus(web, "refresh-1", rollout.RefreshSuccessful)
		w.serving(t, "4", 4, t0.Add(2*time.Minute))
		st.Signal = rollout.Signal{Kind: rollout.SignalSucceeded, Seq: 3}
		st = must(t)(w.deps.Validate(ctx, at(st, t0.Add(30*time.Minute))))
		return must(t)(w.deps.Finalize(ctx, at(st, t0.Add(31*time.Minute))))
	}
	t.Run("a group sharing its template finalizes with its own last-known-good and the default left", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		standby := rollout.GroupKey{Region: web.Region, Name: "web-standby"}
		w.fleet.PutGroup(rollout.Group{Key: standby, LaunchTemplateID: "lt-1", LaunchTemplateVersion: "3"})
		st := finalized(t, w)
		eq(t, st.Rollout.Status, rollout.StatusFinalized)
		eq(t, w.fleet.DefaultVersion("lt-1"), int64(3))
		if v, _, ok, _ := w.ledger.LastKnownGood(ctx, web); !ok || v.Number != 4 {
			t.Errorf("last-known-good = %+v, %v; want version 4", v, ok)
		}
		if msg := w.notes.Sent()[1].Message; !strings.Contains(msg, "default stays version 3 because the template is shared with web-standby") {
			t.Errorf("the notification does not say why the default stayed: %q", msg)
		}
	})
	t.Run("a group of another region with the same template id does not count as sharing", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.fleet.PutGroup(rollout.Group{Key: rollout.GroupKey{Region: "us-east-1", Name: "web"}, LaunchTemplateID: "lt-1", LaunchTemplateVersion: "1"})
		finalized(t, w)
		eq(t, w.fleet.DefaultVersion("lt-1"), int64(4))
	})
	t.Run("a failure to list the template's groups reaches the state machine unwrapped and moves nothing", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		st := w.started(t)
		st.Verdict = rollout.VerdictPass
		w.fleet.Fail("TemplateUsers", &rollout.TransientError{Op: "DescribeAutoScalingGroups", Err: errors.New("Throttling")})
		_, err := w.deps.Finalize(ctx, at(st, t0))
		errorAs[*rollout.TransientError](t, err, nil)
		eq(t, w.fleet.DefaultVersion("lt-1"), int64(3))
	})
}
