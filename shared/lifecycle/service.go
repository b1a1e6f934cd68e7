package lifecycle

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/publish"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Fleet reads Phoenix's groups (shared/fleet).
type Fleet interface {
	// Groups returns every group of the region, Phoenix's or not, with its
	// instances' launch template versions: a group Phoenix does not manage
	// may launch from a template Phoenix retires versions of.
	Groups(ctx context.Context, region string) ([]rollout.Group, error)
}

// Ledger is what a run reads and writes of the ledger (shared/ledger).
type Ledger interface {
	LastKnownGood(ctx context.Context, key rollout.GroupKey) (rollout.Version, time.Time, bool, error)
	// History returns the group's rollouts since since, newest first.
	History(ctx context.Context, key rollout.GroupKey, since time.Time, limit int) ([]rollout.Rollout, error)
	// Recent returns every rollout started since since, newest first.
	Recent(ctx context.Context, since time.Time, limit int) ([]rollout.Rollout, error)
	Halts(ctx context.Context) ([]rollout.Halt, error)
	ImageRecords(ctx context.Context, region string) (map[string]Tracked, error)
	PutImageRecord(ctx context.Context, region, imageID string, t Tracked, runID string, at time.Time) error
	LogLifecycle(ctx context.Context, region string, entries []LogEntry) error
}

// Queue reads a group's queued image (shared/ledger's publishing queue).
type Queue interface {
	Get(ctx context.Context, key rollout.GroupKey, at time.Time) (publish.Queued, bool, error)
}

// Service is one lifecycle run: it reads the fleet, the ledger and EC2,
// decides, and, when Apply is set, acts; every action goes to the ledger's
// log with who ran it and why.
type Service struct {
	Images Images
	Fleet  Fleet
	Ledger Ledger
	Queue  Queue
	Policy Policy
	// Defaults are the rollout policy defaults: a group's guard window (its
	// tags over these) decides how long a finalized rollout can still be
	// reverted to its origin.
	Defaults rollout.Policy
	// Account is this stack's account: only its AMIs are touched.
	Account string
	// Apply carries the plan out (stack parameter ImageLifecycle=apply);
	// otherwise the run only logs what it would do.
	Apply  bool
	Logger *slog.Logger
}

// Run is one run's identity.
type Run struct {
	// ID names the attempt, and is the log entries' key with their
	// number: a retried run logs under a new id (the nightly function uses
	// the event's id and the Lambda request's), so the log says what each
	// attempt did.
	ID string
	// Now is the run's time: the schedule event's (or the CLI's).
	Now time.Time
	// By is who runs it: ByNightly, or the operator.
	By string
}

// Report is what a run decided and did in one region.
type Report struct {
	Region string `json:"region"`
	Mode   string `json:"mode"`
	Plan   Plan   `json:"plan"`
	// Done, Skipped and Failed count the actions carried out, skipped (the
	// re-check found the target in use, or it was gone) and refused.
	Done         int   `json:"done"`
	Skipped      int   `json:"skipped"`
	Failed       int   `json:"failed"`
	GiBReclaimed int64 `json:"gibReclaimed"`
	// Halted is set when a global halt stopped the run before it acted.
	Halted string `json:"halted,omitempty"`
	// Entries are the actions the run logged (planned, or carried out with
	// their results).
	Entries []LogEntry `json:"entries"`
}

// maxGuardWindow bounds the ledger read for rollouts that may still be
// reverted (rollout policies cap the guard window at 7 days).
const maxGuardWindow = 7 * 24 * time.Hour

// historyDepth is how many of a group's rollouts are read for its
// finalized history: far more than any rollback-history setting needs.
const historyDepth = 200

// RunRegion plans one region and, when Apply is set, carries the plan out.
// It is safe to run again: reads are fresh and every action is idempotent,
// so a run retried after a crash or a throttle picks up where the state
// is. A *rollout.TransientError ends the run (the caller retries it).
func (s Service) RunRegion(ctx context.Context, run Run, region string) (Report, error) {
	rep := Report{Region: region, Mode: LogModePlan}
	if s.Apply {
		rep.Mode = LogModeApply
	}
	snap, err := s.snapshot(ctx, run.Now, region)
	if err != nil {
		return rep, err
	}
	plan, err := Decide(snap, s.Policy)
	if err != nil {
		return rep, err
	}
	rep.Plan = plan
	log := s.logger().With("runId", run.ID, "region", region, "mode", rep.Mode)
	if !s.Apply {
		return s.finish(ctx, run, region, rep, planEntries(plan))
	}
	if why, halted, err := s.globalHalt(ctx); err != nil || halted {
		if err != nil {
			return rep, err
		}
		rep.Halted, rep.Mode = why, LogModePlan
		return s.finish(ctx, run, region, rep, planEntries(plan))
	}
	// The re-check: the plan is made again from fresh reads just before
	// acting, and only what both plans agree on is done, so a rollout,
	// a campaign or an operator that moved between the first reads and now
	// holds what it needs. Each image is asked about once more right
	// before its destructive call (references).
	again, err := s.snapshot(ctx, run.Now, region)
	if err != nil {
		return rep, err
	}
	second, err := Decide(again, s.Policy)
	if err != nil {
		return rep, err
	}
	records := map[string]Tracked{}
	for _, img := range again.Images {
		records[img.ID] = img.Ledger
	}
	var entries []LogEntry
	deletions := sortedDeletions(plan, second)
	for _, v := range plan.Versions {
		if v.Action == ActionDeleteVersion && !slices.ContainsFunc(deletions[v.TemplateID], func(b []int64) bool { return slices.Contains(b, v.Number) }) {
			entries = append(entries, LogEntry{Action: v.Action, Target: v.TemplateID + ":" + strconv.FormatInt(v.Number, 10),
				Rule: v.Rule, Result: ResultSkipped("the re-check keeps it")})
			rep.Skipped++
		}
	}
	rules := map[string]string{}
	for _, v := range plan.Versions {
		rules[v.TemplateID+":"+strconv.FormatInt(v.Number, 10)] = v.Rule
	}
	for _, tid := range slices.Sorted(maps.Keys(deletions)) {
		for _, batch := range deletions[tid] {
			deleted, err := s.Images.DeleteVersions(ctx, region, tid, batch)
			if rollout.IsTransient(err) {
				// What earlier batches deleted is logged before the run
				// ends: the retry finds those versions gone and would not.
				rep, _ = s.finish(ctx, run, region, rep, entries)
				return rep, err
			}
			for _, n := range batch {
				target := tid + ":" + strconv.FormatInt(n, 10)
				e := LogEntry{Action: ActionDeleteVersion, Target: target, Rule: rules[target]}
				switch {
				case err != nil:
					e.Result = ResultFailed(err)
					rep.Failed++
				case slices.Contains(deleted, n):
					e.Result = ResultDone
					rep.Done++
				default:
					e.Result = ResultSkipped("EC2 did not delete it")
					rep.Skipped++
				}
				entries = append(entries, e)
			}
		}
	}
	agreed := map[string]Action{}
	for _, d := range second.Images {
		agreed[d.ImageID] = d.Action
	}
	for _, d := range plan.Images {
		if d.Action == ActionNone {
			continue
		}
		e := LogEntry{Action: d.Action, Target: d.ImageID, Rule: d.Rule, KeptBecause: holdStrings(d.Holds)}
		if agreed[d.ImageID] != d.Action {
			e.Result = ResultSkipped(fmt.Sprintf("the re-check planned %q", agreed[d.ImageID]))
			rep.Skipped++
			entries = append(entries, e)
			continue
		}
		gib, err := s.act(ctx, run, region, d, records[d.ImageID])
		switch {
		case rollout.IsTransient(err):
			rep, _ = s.finish(ctx, run, region, rep, entries)
			return rep, err
		case errors.Is(err, errInUse):
			e.Result = ResultSkipped(err.Error())
			rep.Skipped++
		case err != nil:
			e.Result = ResultFailed(err)
			rep.Failed++
			log.Warn("lifecycle action failed", "action", d.Action, "imageId", d.ImageID, "error", err.Error())
		default:
			e.Result = ResultDone
			rep.Done++
			rep.GiBReclaimed += gib
		}
		entries = append(entries, e)
	}
	return s.finish(ctx, run, region, rep, entries)
}

// deprecationLead puts the deprecation time a little after the run's time:
// AWS refuses one in the past, and the run's time is the schedule event's,
// a little behind the clock.
const deprecationLead = 10 * time.Minute

// errInUse is the re-check's answer for an image EC2 now says is
// referenced.
var errInUse = errors.New("in use at the re-check")

// act carries out one image action and records it; it returns the GiB of
// snapshots a deregistration deleted.
func (s Service) act(ctx context.Context, run Run, region string, d ImageDecision, t Tracked) (int64, error) {
	if d.Action.Destructive() {
		refs, err := s.Images.References(ctx, region, []string{d.ImageID})
		if err != nil {
			return 0, err
		}
		if len(refs[d.ImageID]) > 0 {
			return 0, fmt.Errorf("%w: %s", errInUse, refs[d.ImageID][0].ARN)
		}
	}
	var gib int64
	var err error
	switch d.Action {
	case ActionMarkUnused:
		t.UnusedSince = run.Now
	case ActionMarkUsed:
		t.UnusedSince = time.Time{}
	case ActionProtect:
		err, t.ProtectedByPhoenix, t.UnusedSince = s.Images.Protect(ctx, region, d.ImageID), true, time.Time{}
	case ActionUnprotect:
		err, t.ProtectedByPhoenix = s.Images.Unprotect(ctx, region, d.ImageID), false
	case ActionRestore:
		err = s.Images.Restore(ctx, region, d.ImageID)
		t.Deprecated, t.DisabledAt, t.UnusedSince = false, time.Time{}, time.Time{}
	case ActionDeprecate:
		err, t.Deprecated = s.Images.Deprecate(ctx, region, d.ImageID, run.Now.Add(deprecationLead)), true
	case ActionDisable:
		err, t.DisabledAt = s.Images.Disable(ctx, region, d.ImageID), run.Now
	case ActionDeregister:
		gib, err = s.Images.Deregister(ctx, region, d.ImageID)
		var nf *rollout.NotFoundError
		if errors.As(err, &nf) {
			err = nil // gone already: the record goes too
		}
		t = Tracked{Rolled: t.Rolled}
	default:
		return 0, fmt.Errorf("unknown action %q", d.Action)
	}
	if err != nil {
		return 0, err
	}
	return gib, s.Ledger.PutImageRecord(ctx, region, d.ImageID, t, run.ID, run.Now)
}

// snapshot reads everything Decide needs for one region.
func (s Service) snapshot(ctx context.Context, now time.Time, region string) (Snapshot, error) {
	snap := Snapshot{Now: now, Account: s.Account}
	groups, err := s.Fleet.Groups(ctx, region)
	if err != nil {
		return snap, err
	}
	// The templates Phoenix retires versions of are its groups'; every
	// group on one of them, Phoenix's or not, holds what it uses.
	templates := map[string]bool{}
	for _, g := range groups {
		if _, ok := g.Tags[rollout.TagEnabled]; ok && g.LaunchTemplateID != "" {
			templates[g.LaunchTemplateID] = true
		}
	}
	// The templates are read first: a group's "$Default" or "$Latest" is
	// resolved from them, not with a call per group.
	ids := slices.Sorted(maps.Keys(templates))
	if snap.Templates, err = s.Images.Templates(ctx, region, ids); err != nil {
		return snap, err
	}
	byID := map[string]Template{}
	for _, t := range snap.Templates {
		byID[t.ID] = t
	}
	guard := map[rollout.GroupKey]time.Duration{}
	for _, g := range groups {
		if !templates[g.LaunchTemplateID] {
			continue // a launch configuration, or a template Phoenix leaves alone
		}
		if _, ok := g.Tags[rollout.TagEnabled]; !ok {
			snap.Groups = append(snap.Groups, uses(g, byID[g.LaunchTemplateID]))
			continue
		}
		lg, err := s.group(ctx, g, byID[g.LaunchTemplateID])
		if err != nil {
			return snap, err
		}
		snap.Groups = append(snap.Groups, lg)
		pol, _ := rollout.ParsePolicy(g.Tags, s.Defaults)
		guard[g.Key] = pol.GuardWindow
		if q, ok, err := s.Queue.Get(ctx, g.Key, now); err != nil {
			return snap, err
		} else if ok {
			snap.Campaigns = append(snap.Campaigns, Campaign{ID: "queued " + g.Key.String(), ImageID: q.Image.ImageID})
		}
	}
	recent, err := s.Ledger.Recent(ctx, now.Add(-maxGuardWindow), 0)
	if err != nil {
		return snap, err
	}
	for _, r := range recent {
		if r.Group.Region != region {
			continue
		}
		// In flight, or finalized within its guard window (it may still be
		// reverted to its origin), or dirty (a revert that failed: until a
		// human has looked, both ends may be needed).
		inFlight := !slices.Contains(rollout.TerminalStatuses, r.Status)
		guarded := r.Status == rollout.StatusFinalized && now.Before(r.EndedAt.Add(guard[r.Group]))
		if inFlight || guarded || r.Status == rollout.StatusDirty {
			tid := cmp.Or(r.To.LaunchTemplateID, r.From.LaunchTemplateID)
			snap.Rollouts = append(snap.Rollouts, Rollout{ID: r.ID, Group: r.Group, TemplateID: tid,
				From: r.From.Number, To: r.To.Number, FromImage: r.From.ImageID, ToImage: r.To.ImageID})
		}
	}
	images, err := s.Images.OwnImages(ctx, region)
	if err != nil {
		return snap, err
	}
	records, err := s.Ledger.ImageRecords(ctx, region)
	if err != nil {
		return snap, err
	}
	var candidates []string
	for i := range images {
		img := &images[i]
		img.Ledger = records[img.ID]
		if img.Owner == s.Account && (img.Ledger.Rolled || img.Tags[TagRole] != "") && (img.State == "available" || img.State == "disabled") {
			candidates = append(candidates, img.ID)
		}
	}
	refs, err := s.Images.References(ctx, region, candidates)
	if err != nil {
		return snap, err
	}
	for i := range images {
		images[i].References = refs[images[i].ID]
	}
	snap.Images = images
	return snap, nil
}

// uses returns what a group's configuration and instances use: the
// numbered version its configuration means now (resolved against t; 0
// when it names a version that no longer exists) and its instances'.
func uses(g rollout.Group, t Template) Group {
	out := Group{Key: g.Key, TemplateID: g.LaunchTemplateID, Version: resolve(t, g.LaunchTemplateVersion)}
	for _, in := range g.Instances {
		if n, err := strconv.ParseInt(in.LaunchTemplateVersion, 10, 64); err == nil {
			out.InstanceVersions = append(out.InstanceVersions, n)
		}
	}
	return out
}

// resolve turns a version as a group writes it ("3", "$Latest",
// "$Default", "") into the number it means in t.
func resolve(t Template, v string) int64 {
	switch v {
	case "", "$Default":
		return t.Default
	case "$Latest":
		var latest int64
		for _, x := range t.Versions {
			latest = max(latest, x.Number)
		}
		return latest
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || !slices.ContainsFunc(t.Versions, func(x Version) bool { return x.Number == n }) {
		return 0
	}
	return n
}

// group reads what the ledger and the fleet say of one of Phoenix's groups.
func (s Service) group(ctx context.Context, g rollout.Group, t Template) (Group, error) {
	out := uses(g, t)
	lkg, _, ok, err := s.Ledger.LastKnownGood(ctx, g.Key)
	if err != nil {
		return out, err
	}
	if ok && lkg.LaunchTemplateID == g.LaunchTemplateID {
		out.LastKnownGood, out.LastKnownGoodImage = lkg.Number, lkg.ImageID
	}
	hist, err := s.Ledger.History(ctx, g.Key, time.Time{}, historyDepth)
	if err != nil {
		return out, err
	}
	for i := len(hist) - 1; i >= 0; i-- { // oldest first
		if r := hist[i]; r.Status == rollout.StatusFinalized && r.To.LaunchTemplateID == g.LaunchTemplateID {
			out.Finalized = append(out.Finalized, r.To.Number)
		}
	}
	if v, ok := rollout.RollbackTarget(hist); ok && v.LaunchTemplateID == g.LaunchTemplateID {
		out.RollbackTarget = v.Number
	}
	return out, nil
}

// globalHalt reports a halt of every group: the run plans but does not act.
func (s Service) globalHalt(ctx context.Context) (string, bool, error) {
	halts, err := s.Ledger.Halts(ctx)
	if err != nil {
		return "", false, err
	}
	for _, h := range halts {
		if h.Group == (rollout.GroupKey{}) {
			return "halted by " + h.By + ": " + h.Reason, true, nil
		}
	}
	return "", false, nil
}

// sortedDeletions returns the version deletions both plans agree on, per
// template, in batches.
func sortedDeletions(first, second Plan) map[string][][]int64 {
	again := map[string]bool{}
	for _, v := range second.Versions {
		if v.Action == ActionDeleteVersion {
			again[v.TemplateID+":"+strconv.FormatInt(v.Number, 10)] = true
		}
	}
	agreed := first
	agreed.Versions = nil
	for _, v := range first.Versions {
		if v.Action == ActionDeleteVersion && !again[v.TemplateID+":"+strconv.FormatInt(v.Number, 10)] {
			v.Action = ActionNone
		}
		agreed.Versions = append(agreed.Versions, v)
	}
	return agreed.Deletions()
}

// planEntries are the log entries of a plan that only reports.
func planEntries(p Plan) []LogEntry {
	var out []LogEntry
	for _, v := range p.Versions {
		if v.Action != ActionNone {
			out = append(out, LogEntry{Action: v.Action, Target: v.TemplateID + ":" + strconv.FormatInt(v.Number, 10), Rule: v.Rule})
		}
	}
	for _, d := range p.Images {
		if d.Action != ActionNone {
			out = append(out, LogEntry{Action: d.Action, Target: d.ImageID, Rule: d.Rule, KeptBecause: holdStrings(d.Holds)})
		}
	}
	return out
}

// finish logs the run's entries and keeps them in its report.
func (s Service) finish(ctx context.Context, run Run, region string, rep Report, entries []LogEntry) (Report, error) {
	err := s.log(ctx, run, region, rep.Mode, entries)
	rep.Entries = entries
	return rep, err
}

// log numbers the entries and writes them.
func (s Service) log(ctx context.Context, run Run, region, mode string, entries []LogEntry) error {
	for i := range entries {
		entries[i].At, entries[i].RunID, entries[i].Seq, entries[i].Mode, entries[i].By = run.Now, run.ID, i, mode, run.By
	}
	if len(entries) == 0 {
		return nil
	}
	return s.Ledger.LogLifecycle(ctx, region, entries)
}

func holdStrings(hs []Hold) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.String())
	}
	return out
}

func (s Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}
