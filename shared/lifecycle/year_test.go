package lifecycle

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// A year of a fleet under the default policy, night by night, over the
// in-memory ports: 20 groups on 10 launch templates, three rollouts a day
// (most finalize, some revert, now and then an operator rolls a group back
// to an earlier version), and a lifecycle run in apply mode every night.
// After every night: every version a group uses, its last-known-good and
// its rollback history still exist, every version that exists can still
// launch (its image exists and is not disabled), and the counts stay
// bounded. The figures are logged (go test -v -run Year).
func TestAYearOfRolloutsStaysBoundedAndNeverLosesWhatIsNeeded(t *testing.T) {
	const (
		templates  = 10
		perDay     = 3
		days       = 365
		rollbackTo = 3 // how far back an operator may roll (KeepRollbackVersions)
	)
	r := rand.New(rand.NewPCG(17, 0))
	w := newWorld()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	nextImage := 0
	newImage := func(at time.Time) string {
		nextImage++
		id := fmt.Sprintf("ami-%017x", nextImage)
		w.images[id] = &Image{ID: id, Region: region, Owner: acct, State: "available", Created: at,
			Tags: map[string]string{TagRole: "web"}, SnapshotGiB: 8}
		w.records[id] = Tracked{Rolled: true}
		return id
	}
	var groups []yearGroup
	for i := 0; i < templates; i++ {
		tid := fmt.Sprintf("lt-%017x", i+1)
		img := newImage(start)
		w.templates[tid] = &Template{ID: tid, Region: region, Default: 1, Versions: []Version{{Number: 1, ImageID: img}}}
		for j := 0; j < 2; j++ {
			k := rollout.GroupKey{Region: region, Name: fmt.Sprintf("g-%d-%d", i, j)}
			groups = append(groups, yearGroup{key: k, template: tid})
			w.lkg[k] = rollout.Version{LaunchTemplateID: tid, Number: 1, ImageID: img}
		}
	}
	// Each group's configured version, as the fleet reads it.
	configured := map[rollout.GroupKey]int64{}
	refresh := func() {
		w.groups = nil
		for _, g := range groups {
			v := configured[g.key]
			if v == 0 {
				v = 1
			}
			w.groups = append(w.groups, rollout.Group{Key: g.key, LaunchTemplateID: g.template, LaunchTemplateVersion: fmt.Sprint(v),
				Tags: map[string]string{rollout.TagEnabled: "true"}, Instances: []rollout.Instance{{ID: "i-" + g.key.Name, LaunchTemplateVersion: fmt.Sprint(v)}}})
		}
	}
	svc := Service{Images: w, Fleet: w, Ledger: w, Queue: w, Policy: DefaultPolicy(), Defaults: rollout.DefaultPolicy(), Account: acct, Apply: true}
	var created, reverted, rolledBack, maxVersions, maxActions int
	var gib int64
	imagesAt := map[int]int{}
	for day := 0; day < days; day++ {
		noon := start.Add(time.Duration(day)*24*time.Hour + 12*time.Hour)
		for n := 0; n < perDay; n++ {
			g := groups[r.IntN(len(groups))]
			tpl := w.templates[g.template]
			switch x := r.IntN(100); {
			case x < 5:
				// An operator rolls the group back to one of its last
				// finalized versions (all that the policy promises).
				hist := finalizedBefore(w.history[g.key], w.lkg[g.key].Number, rollbackTo)
				if len(hist) == 0 {
					continue
				}
				v := hist[r.IntN(len(hist))]
				img := imageOf(tpl, v)
				if img == "" || w.images[img] == nil || w.images[img].State != "available" {
					t.Fatalf("day %d: %s cannot roll back to version %d: its image %q is gone or disabled", day, g.key, v, img)
				}
				configured[g.key] = v
				w.lkg[g.key] = rollout.Version{LaunchTemplateID: g.template, Number: v, ImageID: img}
				rolledBack++
			default:
				img := newImage(noon)
				n := tpl.Versions[len(tpl.Versions)-1].Number + 1
				tpl.Versions = append(tpl.Versions, Version{Number: n, ImageID: img})
				created++
				st := rollout.StatusFinalized
				if x < 15 {
					st = rollout.StatusReverted
					reverted++
				} else {
					configured[g.key] = n
					w.lkg[g.key] = rollout.Version{LaunchTemplateID: g.template, Number: n, ImageID: img}
					tpl.Default = n
				}
				w.history[g.key] = append([]rollout.Rollout{{ID: fmt.Sprintf("r-%d-%d", day, n), Group: g.key, Status: st,
					EndedAt: noon, To: rollout.Version{LaunchTemplateID: g.template, Number: n, ImageID: img}}}, w.history[g.key]...)
			}
		}
		refresh()
		w.calls = nil
		night := start.Add(time.Duration(day+1)*24*time.Hour + 3*time.Hour)
		w.snapshots, w.refReads = 0, 0
		rep, err := svc.RunRegion(context.Background(), Run{ID: fmt.Sprintf("night-%d", day), Now: night, By: ByNightly}, region)
		if err != nil {
			t.Fatalf("night %d: %v", day, err)
		}
		if rep.Failed != 0 {
			t.Fatalf("night %d: %d actions failed", day, rep.Failed)
		}
		gib += rep.GiBReclaimed
		maxActions = max(maxActions, len(w.calls))
		checkYearNight(t, day, w, groups, rollbackTo)
		for _, tpl := range w.templates {
			maxVersions = max(maxVersions, len(tpl.Versions))
		}
		imagesAt[day] = len(w.images)
	}
	keptVersions := 0
	for _, tpl := range w.templates {
		keptVersions += len(tpl.Versions)
	}
	t.Logf("a year: %d rollouts created versions and images (%d reverted), %d rollbacks by an operator", created, reverted, rolledBack)
	t.Logf("versions: %d created (plus %d first), %d kept at the end, at most %d per template", created, templates, keptVersions, maxVersions)
	t.Logf("images: %d created, %d left at the end (day 180: %d); snapshots reclaimed: %d GiB; at most %d EC2 writes in a night",
		nextImage, len(w.images), imagesAt[180], gib, maxActions)
	// Bounded by the policy: a template keeps its newest 20 versions and
	// what its groups hold (their versions, last-known-good and 3 rollback
	// versions each: 2 groups, so at most 10 more).
	if limit := DefaultKeepVersions + 2*(2+rollbackTo); maxVersions > limit {
		t.Errorf("a template held %d versions; the policy bounds it at %d", maxVersions, limit)
	}
	// Images: those of kept versions, plus those on their way out (out of
	// use for at most the three waits, 51 days, at perDay a day). The count
	// stops growing once the first images reach deregistration.
	if limit := keptVersions + perDay*51 + 10; len(w.images) > limit {
		t.Errorf("%d images left; the waits bound them at %d", len(w.images), limit)
	}
	if imagesAt[days-1] > imagesAt[180]+imagesAt[180]/5 {
		t.Errorf("images grew from %d on day 180 to %d at the end: retirement does not keep up", imagesAt[180], imagesAt[days-1])
	}
	if gib == 0 {
		t.Error("a year reclaimed no snapshot")
	}
}

// yearGroup is one group of the year and its template.
type yearGroup struct {
	key      rollout.GroupKey
	template string
}

// finalizedBefore returns the last n distinct finalized versions before
// lkg, from a history newest first.
func finalizedBefore(hist []rollout.Rollout, lkg int64, n int) []int64 {
	var out []int64
	for _, h := range hist {
		if h.Status == rollout.StatusFinalized && h.To.Number != lkg && !slices.Contains(out, h.To.Number) && len(out) < n {
			out = append(out, h.To.Number)
		}
	}
	return out
}

func imageOf(t *Template, v int64) string {
	for _, x := range t.Versions {
		if x.Number == v {
			return x.ImageID
		}
	}
	return ""
}

// checkYearNight holds the night's promises.
func checkYearNight(t *testing.T, day int, w *world, groups []yearGroup, rollbackTo int) {
	t.Helper()
	for _, g := range groups {
		tpl := w.templates[g.template]
		lkg := w.lkg[g.key]
		need := append([]int64{lkg.Number, tpl.Default}, finalizedBefore(w.history[g.key], lkg.Number, rollbackTo)...)
		for _, v := range need {
			if imageOf(tpl, v) == "" {
				t.Fatalf("night %d: version %d that %s needs is gone", day, v, g.key)
			}
		}
	}
	for _, tpl := range w.templates {
		for _, v := range tpl.Versions {
			img := w.images[v.ImageID]
			if img == nil || img.State != "available" {
				t.Fatalf("night %d: %s version %d cannot launch: image %s is %v", day, tpl.ID, v.Number, v.ImageID, img)
			}
		}
	}
}
