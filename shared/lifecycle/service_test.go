package lifecycle

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/publish"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// world is an in-memory fleet, ledger and EC2 for the service's tests.
type world struct {
	groups    []rollout.Group
	lkg       map[rollout.GroupKey]rollout.Version
	history   map[rollout.GroupKey][]rollout.Rollout
	recent    []rollout.Rollout
	halts     []rollout.Halt
	queued    map[rollout.GroupKey]string
	templates map[string]*Template
	images    map[string]*Image
	records   map[string]Tracked
	log       []LogEntry
	calls     []string
	// refsAtRecheck are references EC2 reports only from the second read on
	// (something started using the image between plan and act).
	refsAtRecheck map[string][]Reference
	refsFrom      int // the References call from which they show (1-based)
	refReads      int
	failOn        map[string]error
	// laterRecords are images whose ledger record a later run wrote: a
	// write at an earlier time is refused, silently, as the ledger does.
	laterRecords map[string]bool
	// onSecondSnapshot changes the world between the plan and the re-check.
	onSecondSnapshot func(*world)
	snapshots        int
}

func newWorld() *world {
	return &world{lkg: map[rollout.GroupKey]rollout.Version{}, history: map[rollout.GroupKey][]rollout.Rollout{},
		queued: map[rollout.GroupKey]string{}, templates: map[string]*Template{}, images: map[string]*Image{}, records: map[string]Tracked{},
		refsAtRecheck: map[string][]Reference{}, failOn: map[string]error{}}
}

func (w *world) Groups(_ context.Context, region string) ([]rollout.Group, error) {
	w.snapshots++
	if w.snapshots == 2 && w.onSecondSnapshot != nil {
		w.onSecondSnapshot(w)
	}
	return slices.Clone(w.groups), nil
}

func (w *world) LastKnownGood(_ context.Context, k rollout.GroupKey) (rollout.Version, time.Time, bool, error) {
	v, ok := w.lkg[k]
	return v, time.Time{}, ok, nil
}

func (w *world) History(_ context.Context, k rollout.GroupKey, _ time.Time, _ int) ([]rollout.Rollout, error) {
	return w.history[k], nil
}

func (w *world) Recent(context.Context, time.Time, int) ([]rollout.Rollout, error) {
	return w.recent, nil
}
func (w *world) Halts(context.Context) ([]rollout.Halt, error) { return w.halts, nil }
func (w *world) ImageRecords(context.Context, string) (map[string]Tracked, error) {
	out := map[string]Tracked{}
	for k, v := range w.records {
		out[k] = v
	}
	return out, nil
}

func (w *world) PutImageRecord(_ context.Context, _, id string, t Tracked, _ string, _ time.Time) error {
	if w.laterRecords[id] {
		return nil
	}
	w.records[id] = t
	return nil
}

func (w *world) LogLifecycle(_ context.Context, _ string, es []LogEntry) error {
	w.log = append(w.log, es...)
	return nil
}

func (w *world) Get(_ context.Context, k rollout.GroupKey, _ time.Time) (publish.Queued, bool, error) {
	id, ok := w.queued[k]
	return publish.Queued{Image: publish.KnownImage{ImageID: id}}, ok, nil
}

func (w *world) Templates(_ context.Context, _ string, ids []string) ([]Template, error) {
	var out []Template
	for _, id := range ids {
		if t, ok := w.templates[id]; ok {
			out = append(out, *t)
		}
	}
	return out, nil
}

func (w *world) OwnImages(context.Context, string) ([]Image, error) {
	var out []Image
	for _, img := range w.images {
		out = append(out, *img)
	}
	return out, nil
}

func (w *world) OwnImage(_ context.Context, _ string, id string) (Image, error) {
	img, ok := w.images[id]
	if !ok {
		return Image{}, &rollout.NotFoundError{Kind: "image", ID: id}
	}
	return *img, nil
}

func (w *world) References(_ context.Context, _ string, ids []string) (map[string][]Reference, error) {
	w.refReads++
	out := map[string][]Reference{}
	for _, id := range ids {
		out[id] = w.images[id].References
		if w.refsFrom > 0 && w.refReads >= w.refsFrom {
			out[id] = append(out[id], w.refsAtRecheck[id]...)
		}
	}
	return out, nil
}

func (w *world) do(call string) error {
	w.calls = append(w.calls, call)
	return w.failOn[call]
}

func (w *world) DeleteVersions(_ context.Context, _, tid string, vs []int64) ([]int64, error) {
	if err := w.do(fmt.Sprintf("delete %s %v", tid, vs)); err != nil {
		return nil, err
	}
	t := w.templates[tid]
	t.Versions = slices.DeleteFunc(t.Versions, func(v Version) bool { return slices.Contains(vs, v.Number) })
	return vs, nil
}

func (w *world) Deprecate(_ context.Context, _, id string, at time.Time) error {
	w.images[id].DeprecatedAt = at
	return w.do("deprecate " + id)
}

// The stage writes change the in-memory images as EC2 would, so that a
// run of many nights (year_test.go) sees what earlier nights did.
func (w *world) Disable(_ context.Context, _, id string) error {
	if err := w.do("disable " + id); err != nil {
		return err
	}
	w.images[id].State = "disabled"
	return nil
}

func (w *world) Restore(_ context.Context, _, id string) error {
	if err := w.do("restore " + id); err != nil {
		return err
	}
	w.images[id].State, w.images[id].DeprecatedAt = "available", time.Time{}
	return nil
}

func (w *world) Protect(_ context.Context, _, id string) error {
	if err := w.do("protect " + id); err != nil {
		return err
	}
	w.images[id].Protected = true
	return nil
}

func (w *world) Unprotect(_ context.Context, _, id string) error {
	if err := w.do("unprotect " + id); err != nil {
		return err
	}
	w.images[id].Protected = false
	return nil
}

func (w *world) Deregister(_ context.Context, _, id string) (int64, error) {
	gib := w.images[id].SnapshotGiB
	if err := w.do("deregister " + id); err != nil {
		return 0, err
	}
	delete(w.images, id)
	return gib, nil
}

func (w *world) service(apply bool) Service {
	p := tpol
	return Service{Images: w, Fleet: w, Ledger: w, Queue: w, Policy: p, Defaults: rollout.DefaultPolicy(), Account: acct, Apply: apply}
}

// standard is a group web on template lt: versions 1-6, all on their own
// image, the group and its last-known-good on 6, finalized 4, 5, 6.
func standard() *world {
	w := newWorld()
	w.groups = []rollout.Group{{Key: web, LaunchTemplateID: lt, LaunchTemplateVersion: "6", Tags: map[string]string{rollout.TagEnabled: "true"},
		Instances: []rollout.Instance{{ID: "i-1", LaunchTemplateVersion: "6"}}}}
	tpl := template(6, 6)
	w.templates[lt] = &tpl
	w.lkg[web] = rollout.Version{LaunchTemplateID: lt, Number: 6, ImageID: ami(6)}
	for _, n := range []int64{6, 5, 4} { // newest first, as the ledger answers
		w.history[web] = append(w.history[web], rollout.Rollout{ID: fmt.Sprint("r-", n), Group: web, Status: rollout.StatusFinalized,
			To: rollout.Version{LaunchTemplateID: lt, Number: n, ImageID: ami(int(n))}})
	}
	for i := 1; i <= 6; i++ {
		img := image(i)
		w.images[img.ID] = &img
	}
	w.images[ami(6)].Protected = true
	w.records[ami(1)] = Tracked{Rolled: true, UnusedSince: now.Add(-30 * day)}
	return w
}

var testRun = Run{ID: "evt-1/req-1", Now: now, By: ByNightly}

func TestAPlanRunWritesOnlyTheLog(t *testing.T) {
	w := standard()
	rep, err := w.service(false).RunRegion(context.Background(), testRun, region)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.calls) != 0 || w.records[ami(1)] != (Tracked{Rolled: true, UnusedSince: now.Add(-30 * day)}) {
		t.Fatalf("a plan acted: calls %v, records %v", w.calls, w.records)
	}
	if rep.Mode != LogModePlan || len(w.log) == 0 {
		t.Fatalf("report %+v, log %v", rep, w.log)
	}
	for i, e := range w.log {
		if e.Mode != LogModePlan || e.Seq != i || e.RunID != testRun.ID || e.By != ByNightly || e.Result != "" {
			t.Errorf("entry %d: %+v", i, e)
		}
	}
	if !slices.ContainsFunc(w.log, func(e LogEntry) bool { return e.Action == ActionDeleteVersion && e.Target == lt+":1" }) {
		t.Errorf("the plan does not report deleting version 1: %v", w.log)
	}
}

func TestAnApplyRunDoesWhatThePlanSaysAndRecordsIt(t *testing.T) {
	w := standard()
	rep, err := w.service(true).RunRegion(context.Background(), testRun, region)
	if err != nil {
		t.Fatal(err)
	}
	// Kept: 6 (default, group, last-known-good), 5 (newest 2 and rollback
	// history 1). Deleted: 1-4.
	want := []string{"delete " + lt + " [1 2 3 4]", "deprecate " + ami(1)}
	for _, c := range want {
		if !slices.Contains(w.calls, c) {
			t.Errorf("calls %v lack %q", w.calls, c)
		}
	}
	if r := w.records[ami(1)]; !r.Deprecated || !r.Rolled {
		t.Errorf("record of the deprecated image %+v", r)
	}
	if r := w.records[ami(2)]; r.UnusedSince != now {
		t.Errorf("an image newly out of use is recorded at the run's time: %+v", r)
	}
	if dep := w.images[ami(1)].DeprecatedAt; !dep.After(now) {
		t.Errorf("deprecation time %s is not after the run's %s (AWS refuses a past one)", dep, now)
	}
	if rep.Failed != 0 || rep.Skipped != 0 || rep.Done != len(w.log) {
		t.Errorf("report %+v, log %d entries", rep, len(w.log))
	}
	for _, e := range w.log {
		if e.Result != ResultDone || e.Mode != LogModeApply {
			t.Errorf("entry %+v", e)
		}
		// Every action says the rule that decided it.
		want := map[Action]string{
			ActionDeleteVersion: "not among the template's newest 2, not its default, and nothing uses it",
			ActionDeprecate:     "out of use since 2026-05-02T03:00:00Z; deprecated after 168h0m0s",
			ActionMarkUnused:    "nothing holds it: its out-of-use wait starts",
		}[e.Action]
		if e.Rule != want {
			t.Errorf("%s %s: rule %q, want %q", e.Action, e.Target, e.Rule, want)
		}
	}
}

func TestTheRecheckHoldsWhatStartedBeingUsedBetweenPlanAndAct(t *testing.T) {
	t.Run("a version a group moved to is not deleted", func(t *testing.T) {
		w := standard()
		w.onSecondSnapshot = func(w *world) { w.groups[0].LaunchTemplateVersion = "3" } // an operator pinned version 3
		if _, err := w.service(true).RunRegion(context.Background(), testRun, region); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(w.calls, "delete "+lt+" [1 2 4]") {
			t.Fatalf("calls %v; want versions 1, 2 and 4 deleted, 3 kept", w.calls)
		}
		i := slices.IndexFunc(w.log, func(e LogEntry) bool { return e.Target == lt+":3" })
		if i < 0 || w.log[i].Result != ResultSkipped("the re-check keeps it") {
			t.Fatalf("the version the re-check kept is not logged as skipped: %v", w.log)
		}
	})
	// The references show from the second read (the re-check's snapshot)
	// or only from the third (the call just before the deprecation).
	for _, from := range []int{2, 3} {
		t.Run(fmt.Sprintf("an image EC2 says is referenced from read %d on is not deprecated", from), func(t *testing.T) {
			w := standard()
			w.refsAtRecheck[ami(1)] = []Reference{{Kind: "instance", ARN: "arn:aws:ec2:us-east-1:123456789012:instance/i-new"}}
			w.refsFrom = from
			rep, err := w.service(true).RunRegion(context.Background(), testRun, region)
			if err != nil {
				t.Fatal(err)
			}
			if slices.Contains(w.calls, "deprecate "+ami(1)) || rep.Skipped != 1 {
				t.Fatalf("calls %v, report %+v", w.calls, rep)
			}
			i := slices.IndexFunc(w.log, func(e LogEntry) bool { return e.Target == ami(1) })
			if i < 0 || !strings.HasPrefix(w.log[i].Result, ResultSkippedPrefix) {
				t.Fatalf("log %v", w.log)
			}
		})
	}
}

func TestRolloutsInFlightAndInTheirGuardWindowHoldTheirVersions(t *testing.T) {
	w := standard()
	w.recent = []rollout.Rollout{
		{ID: "in-flight", Group: web, Status: rollout.StatusRefreshing, From: rollout.Version{LaunchTemplateID: lt, Number: 2, ImageID: ami(2)}},
		{ID: "guarded", Group: web, Status: rollout.StatusFinalized, EndedAt: now.Add(-time.Hour),
			From: rollout.Version{LaunchTemplateID: lt, Number: 3, ImageID: ami(3)}, To: rollout.Version{LaunchTemplateID: lt, Number: 6}},
		{ID: "old", Group: web, Status: rollout.StatusFinalized, EndedAt: now.Add(-6 * day),
			From: rollout.Version{LaunchTemplateID: lt, Number: 1, ImageID: ami(1)}, To: rollout.Version{LaunchTemplateID: lt, Number: 6}},
	}
	if _, err := w.service(true).RunRegion(context.Background(), testRun, region); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(w.calls, "delete "+lt+" [1 4]") {
		t.Fatalf("calls %v; want 2 (in flight) and 3 (guard window) kept, 1 and 4 deleted", w.calls)
	}
}

func TestAGlobalHaltStopsTheActionsNotThePlan(t *testing.T) {
	w := standard()
	w.halts = []rollout.Halt{{Reason: "incident", By: "ops"}}
	rep, err := w.service(true).RunRegion(context.Background(), testRun, region)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.calls) != 0 || rep.Halted == "" || rep.Mode != LogModePlan || len(w.log) == 0 || w.log[0].Mode != LogModePlan {
		t.Fatalf("calls %v, report %+v, log %v", w.calls, rep, w.log)
	}
}

func TestAThrottleEndsTheRunForARetryAndAFailureIsLogged(t *testing.T) {
	w := standard()
	w.failOn["deprecate "+ami(1)] = &rollout.TransientError{Op: "deprecate", Err: fmt.Errorf("Throttling")}
	if _, err := w.service(true).RunRegion(context.Background(), testRun, region); !rollout.IsTransient(err) {
		t.Fatalf("error %v, want transient", err)
	}
	if len(w.log) == 0 {
		t.Fatal("what the run did before the throttle is not logged")
	}
	w2 := standard()
	w2.failOn["deprecate "+ami(1)] = fmt.Errorf("UnauthorizedOperation")
	rep, err := w2.service(true).RunRegion(context.Background(), testRun, region)
	if err != nil || rep.Failed != 1 {
		t.Fatalf("report %+v, %v; want one failure logged and the run to go on", rep, err)
	}
	if r := w2.records[ami(1)]; r.Deprecated {
		t.Errorf("a failed deprecation is recorded as done: %+v", r)
	}
}

func TestAThrottleBetweenDeletionsLogsWhatWasDeleted(t *testing.T) {
	w := standard()
	// A second template, deleted after lt (templates go in id order), is
	// throttled: lt's deletions happened and must be in the log, since the
	// retry will find those versions gone.
	other := template(4, 4)
	other.ID = "lt-zzz"
	w.templates[other.ID] = &other
	w.groups = append(w.groups, rollout.Group{Key: rollout.GroupKey{Region: region, Name: "api"}, LaunchTemplateID: other.ID,
		LaunchTemplateVersion: "4", Tags: map[string]string{rollout.TagEnabled: "true"}})
	w.failOn["delete lt-zzz [1 2]"] = &rollout.TransientError{Op: "delete", Err: fmt.Errorf("Throttling")}
	if _, err := w.service(true).RunRegion(context.Background(), testRun, region); !rollout.IsTransient(err) {
		t.Fatalf("error %v, want transient", err)
	}
	logged := 0
	for _, e := range w.log {
		if e.Action == ActionDeleteVersion && strings.HasPrefix(e.Target, lt+":") && e.Result == ResultDone {
			logged++
		}
	}
	if logged != 4 {
		t.Errorf("%d of lt's 4 deletions logged before the throttle ended the run: %+v (calls %v)", logged, w.log, w.calls)
	}
}

func TestTheRollbackTargetIsKeptEvenIfNeverFinalized(t *testing.T) {
	w := standard()
	// The group's newest image rollout came from version 2, which never
	// finalized (the group was created on it): `phoenix rollback web`
	// goes there, so it stays.
	w.history[web][0].Mode, w.history[web][0].From = rollout.ModeImage, rollout.Version{LaunchTemplateID: lt, Number: 2, ImageID: ami(2)}
	rep, err := w.service(true).RunRegion(context.Background(), testRun, region)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range rep.Plan.Versions {
		if v.Number == 2 && (v.Action != ActionNone || !slices.Contains(reasons(v.Holds), KeptRollbackTarget)) {
			t.Errorf("version 2, the rollback target: %+v", v)
		}
	}
	if slices.Contains(w.calls, "delete "+lt+" [1 2 3 4]") || !slices.Contains(w.calls, "delete "+lt+" [1 3 4]") {
		t.Errorf("calls %v", w.calls)
	}
}

func TestADeregistrationReclaimsTheSnapshotsAndForgetsAllButRolled(t *testing.T) {
	w := standard()
	w.images[ami(1)].State = "disabled"
	w.records[ami(1)] = Tracked{Rolled: true, UnusedSince: now.Add(-90 * day), Deprecated: true, DisabledAt: now.Add(-31 * day)}
	rep, err := w.service(true).RunRegion(context.Background(), testRun, region)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(w.calls, "deregister "+ami(1)) || rep.GiBReclaimed != 8 || w.records[ami(1)] != (Tracked{Rolled: true}) {
		t.Fatalf("calls %v, report %+v, record %+v", w.calls, rep, w.records[ami(1)])
	}
}

func TestAGroupPhoenixDoesNotManageHoldsTheVersionsItUses(t *testing.T) {
	w := standard()
	other := rollout.GroupKey{Region: region, Name: "batch"}
	// An untagged group on the same template, configured on $Default (6)
	// but with an instance still on version 2; and an untagged group on a
	// template of its own, which Phoenix leaves alone.
	w.groups = append(w.groups,
		rollout.Group{Key: other, LaunchTemplateID: lt, LaunchTemplateVersion: "$Default", Instances: []rollout.Instance{{ID: "i-9", LaunchTemplateVersion: "2"}}},
		rollout.Group{Key: rollout.GroupKey{Region: region, Name: "legacy"}, LaunchTemplateID: "lt-0legacy", LaunchTemplateVersion: "1"})
	w.lkg[other] = rollout.Version{LaunchTemplateID: lt, Number: 1} // never read: not Phoenix's group
	rep, err := w.service(true).RunRegion(context.Background(), testRun, region)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(w.calls, "delete "+lt+" [1 3 4]") {
		t.Fatalf("calls %v; want 2 kept for batch's instance", w.calls)
	}
	d := version(t, rep.Plan, 2)
	if len(d.Holds) != 1 || d.Holds[0] != (Hold{Reason: KeptGroupUses, By: other.String()}) {
		t.Errorf("version 2 kept because %v", d.Holds)
	}
	for _, v := range rep.Plan.Versions {
		if v.TemplateID == "lt-0legacy" {
			t.Errorf("a template no Phoenix group uses is planned: %+v", v)
		}
	}
}

func TestAGroupsVersionIsResolvedFromTheTemplate(t *testing.T) {
	tpl := Template{ID: lt, Default: 2, Versions: []Version{{Number: 1}, {Number: 2}, {Number: 5}}}
	for v, want := range map[string]int64{"": 2, "$Default": 2, "$Latest": 5, "1": 1, "3": 0, "x": 0} {
		if got := resolve(tpl, v); got != want {
			t.Errorf("resolve(%q) = %d, want %d", v, got, want)
		}
	}
}
