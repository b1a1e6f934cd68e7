package lifecycle

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

const (
	acct    = "123456789012"
	foreign = "210987654321"
	lt      = "lt-0123456789abcdef0"
	region  = "us-east-1"
)

var (
	now  = time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)
	day  = 24 * time.Hour
	web  = rollout.GroupKey{Region: region, Name: "web"}
	tpol = Policy{KeepVersions: 2, KeepRollbackVersions: 1, DeprecateAfter: 7 * day, DisableAfter: 14 * day, DeregisterAfter: 30 * day, MaxActions: 100}
)

// template returns lt with versions 1..n, version i on ami-i.
func template(n int, def int64) Template {
	t := Template{ID: lt, Region: region, Default: def}
	for i := 1; i <= n; i++ {
		t.Versions = append(t.Versions, Version{Number: int64(i), ImageID: ami(i)})
	}
	return t
}

func ami(i int) string { return fmt.Sprintf("ami-%017d", i) }

func image(i int, mod ...func(*Image)) Image {
	img := Image{ID: ami(i), Region: region, Owner: acct, State: "available", Created: now.Add(-time.Duration(100-i) * day),
		Tags: map[string]string{TagRole: "web"}, SnapshotGiB: 8}
	for _, m := range mod {
		m(&img)
	}
	return img
}

func decide(t *testing.T, s Snapshot, p Policy) Plan {
	t.Helper()
	s.Now, s.Account = now, acct
	plan, err := Decide(s, p)
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

func version(t *testing.T, p Plan, n int64) VersionDecision {
	t.Helper()
	for _, v := range p.Versions {
		if v.Number == n {
			return v
		}
	}
	t.Fatalf("no decision for version %d", n)
	return VersionDecision{}
}

func imageDecision(t *testing.T, p Plan, id string) ImageDecision {
	t.Helper()
	for _, d := range p.Images {
		if d.ImageID == id {
			return d
		}
	}
	t.Fatalf("no decision for %s", id)
	return ImageDecision{}
}

func reasons(hs []Hold) []Reason {
	var out []Reason
	for _, h := range hs {
		out = append(out, h.Reason)
	}
	return out
}

func TestVersionsAreKeptByEveryRuleAndOnlyTheRestDeleted(t *testing.T) {
	g := Group{Key: web, TemplateID: lt, Version: 9, InstanceVersions: []int64{9, 8}, LastKnownGood: 9, Finalized: []int64{3, 5, 7, 9}}
	s := Snapshot{
		Templates: []Template{template(12, 2)},
		Groups:    []Group{g},
		Rollouts:  []Rollout{{ID: "r-1", Group: web, TemplateID: lt, From: 9, To: 10}},
		Campaigns: []Campaign{{ID: "c-1", ImageID: ami(4)}},
	}
	plan := decide(t, s, tpol)
	want := map[int64][]Reason{
		1:  nil,
		2:  {KeptDefault},
		3:  nil,
		4:  {KeptCampaign},
		5:  nil, // finalized, but older than the one rollback version kept
		6:  nil,
		7:  {KeptRollbackHistory},
		8:  {KeptGroupUses},
		9:  {KeptGroupUses, KeptLastKnownGood, KeptRollout},
		10: {KeptRollout},
		11: {KeptNewest},
		12: {KeptNewest},
	}
	for n, w := range want {
		d := version(t, plan, n)
		if got := reasons(d.Holds); !slices.Equal(got, w) {
			t.Errorf("version %d kept because %v, want %v", n, got, w)
		}
		if (d.Action == ActionDeleteVersion) != (len(w) == 0) {
			t.Errorf("version %d: action %q with holds %v", n, d.Action, d.Holds)
		}
	}
	if got := plan.Deletions()[lt]; len(got) != 1 || !slices.Equal(got[0], []int64{1, 3, 5, 6}) {
		t.Errorf("deletions %v", got)
	}
}

func TestTemplateTagsOverrideThePolicy(t *testing.T) {
	tpl := template(5, 1)
	tpl.Tags = map[string]string{TagKeepVersions: "4"}
	plan := decide(t, Snapshot{Templates: []Template{tpl}}, tpol)
	if d := version(t, plan, 2); d.Action != ActionNone || reasons(d.Holds)[0] != KeptNewest {
		t.Errorf("with keep-versions 4, version 2 is %+v", d)
	}
	tpl.Tags = map[string]string{TagKeep: "True"}
	for _, d := range decide(t, Snapshot{Templates: []Template{tpl}}, tpol).Versions {
		if d.Action != ActionNone {
			t.Errorf("a template tagged keep loses version %d", d.Number)
		}
	}
	// A tag that does not parse keeps every version of its template, with
	// the reason, and leaves the other templates to the policy.
	other := template(5, 5)
	other.ID = "lt-0other"
	for _, bad := range []string{"many", "0", "10001", "-3"} {
		tpl.Tags = map[string]string{TagKeepVersions: bad}
		plan := decide(t, Snapshot{Templates: []Template{tpl, other}}, tpol)
		for _, d := range plan.Versions {
			switch {
			case d.TemplateID == lt && (d.Action != ActionNone || !slices.Contains(reasons(d.Holds), KeptBadTag)):
				t.Errorf("keep-versions %q: version %d is %+v", bad, d.Number, d)
			case d.TemplateID == other.ID && d.Number == 1 && d.Action != ActionDeleteVersion:
				t.Errorf("keep-versions %q on another template stops this one's deletions: %+v", bad, d)
			}
		}
	}
}

func TestImageTagsSetTheirOwnStageWaits(t *testing.T) {
	out := func(days int) func(*Image) {
		return func(i *Image) { i.Ledger.UnusedSince = now.Add(-time.Duration(days) * day) }
	}
	tagged := func(k, v string) func(*Image) { return func(i *Image) { i.Tags[k] = v } }
	s := Snapshot{Images: []Image{
		image(1, out(2)), // the policy's 7 days: waiting
		image(2, out(2), tagged(TagDeprecateAfter, "36h")), // its own 36 hours: due
		image(3, out(2), tagged(TagDeprecateAfter, "soon")),
		image(4, out(2), tagged(TagDeregisterAfter, "9000h")),
	}}
	plan := decide(t, s, tpol)
	if d := imageDecision(t, plan, ami(1)); d.Action != ActionNone || reasons(d.Holds)[0] != KeptWaiting {
		t.Errorf("untagged image: %+v", d)
	}
	if d := imageDecision(t, plan, ami(2)); d.Action != ActionDeprecate {
		t.Errorf("deprecate-after 36h, out of use 2 days: %+v", d)
	}
	for _, id := range []string{ami(3), ami(4)} {
		if d := imageDecision(t, plan, id); d.Action != ActionNone || !slices.Contains(reasons(d.Holds), KeptBadTag) {
			t.Errorf("%s with a bad wait tag: %+v", id, d)
		}
	}
}

func TestOnlyThisAccountsPhoenixImagesAreTouched(t *testing.T) {
	s := Snapshot{Images: []Image{
		image(1, func(i *Image) { i.Owner = foreign }),
		image(2, func(i *Image) { i.Tags = nil }),
		image(3, func(i *Image) { i.Tags = nil; i.Ledger.Rolled = true }),
		image(4, func(i *Image) { i.State = "pending" }),
	}}
	plan := decide(t, s, tpol)
	for id, want := range map[string]Reason{ami(1): KeptNotPhoenix, ami(2): KeptNotPhoenix, ami(4): KeptNotSettled} {
		if d := imageDecision(t, plan, id); d.Action != ActionNone || d.Holds[0].Reason != want {
			t.Errorf("%s: %+v, want kept as %s", id, d, want)
		}
	}
	if d := imageDecision(t, plan, ami(3)); d.Action != ActionMarkUnused {
		t.Errorf("an image Phoenix rolled, out of use: %+v, want it marked unused", d)
	}
}

func TestAnImageIsHeldByWhatStillNeedsIt(t *testing.T) {
	unusedLong := func(i *Image) { i.Ledger.UnusedSince = now.Add(-365 * day) }
	s := Snapshot{
		Templates: []Template{template(6, 6)},
		Groups:    []Group{{Key: web, TemplateID: lt, Version: 6, LastKnownGood: 6, LastKnownGoodImage: ami(6)}},
		Rollouts:  []Rollout{{ID: "r-1", Group: web, TemplateID: lt, From: 6, To: 6, FromImage: ami(6), ToImage: ami(20)}},
		Campaigns: []Campaign{{ID: "c-1", ImageID: ami(21)}},
		Images: []Image{
			image(1, unusedLong), // only version 1 names it, and version 1 goes
			image(6, unusedLong),
			image(20, unusedLong),
			image(21, unusedLong),
			image(22, unusedLong, func(i *Image) {
				i.References = []Reference{{Kind: "instance", ARN: "arn:aws:ec2:us-east-1:123456789012:instance/i-1"}}
			}),
			image(23, unusedLong, func(i *Image) {
				i.References = []Reference{{Kind: "ssm-parameter", ARN: "arn:aws:ssm:us-east-1:123456789012:parameter/golden"}}
			}),
			image(24, unusedLong, func(i *Image) {
				i.References = []Reference{{Kind: "image-recipe", ARN: "arn:aws:imagebuilder:us-east-1:123456789012:image-recipe/web/1.0.0"}}
			}),
			image(25, unusedLong, func(i *Image) {
				i.References = []Reference{{Kind: "launch-template", ARN: "arn:aws:ec2:us-east-1:123456789012:launch-template/lt-0other", Version: 3}}
			}),
			image(26, unusedLong, func(i *Image) { i.Shared = true }),
			image(27, unusedLong, func(i *Image) { i.Tags[TagKeep] = "true" }),
			image(28, unusedLong, func(i *Image) { i.References = []Reference{{Kind: "something-new", ARN: "arn:x"}} }),
			image(2, unusedLong, func(i *Image) {
				// A version Phoenix deletes tonight still references it in
				// EC2: that is no hold.
				i.References = []Reference{{Kind: "launch-template", ARN: "arn:aws:ec2:us-east-1:123456789012:launch-template/" + lt, Version: 2}}
			}),
		},
	}
	plan := decide(t, s, tpol)
	want := map[string][]Reason{
		ami(6):  {KeptLastKnownGood, KeptVersion, KeptRollout},
		ami(20): {KeptRollout},
		ami(21): {KeptCampaign},
		ami(22): {KeptInstance},
		ami(23): {KeptParameter},
		ami(24): {KeptRecipe},
		ami(25): {KeptVersion},
		ami(26): {KeptShared},
		ami(27): {KeptTagged},
		ami(28): {KeptVersion},
	}
	for id, w := range want {
		d := imageDecision(t, plan, id)
		if got := reasons(d.Holds); !slices.Equal(got, w) || d.Action.Destructive() || d.Stage != StageInUse {
			t.Errorf("%s: %v %q (%s), want kept because %v", id, got, d.Action, d.Stage, w)
		}
	}
	for _, id := range []string{ami(1), ami(2)} {
		if d := imageDecision(t, plan, id); d.Action != ActionDeprecate {
			t.Errorf("%s: %+v, want deprecated (out of use for a year)", id, d)
		}
	}
	p := tpol
	p.RetireShared = true
	if d := imageDecision(t, decide(t, s, p), ami(26)); d.Action != ActionDeprecate {
		t.Errorf("a shared image with RetireShared: %+v", d)
	}
}

func TestAnImageMovesOneStageAfterEachWait(t *testing.T) {
	cases := []struct {
		name   string
		mod    func(*Image)
		action Action
		due    time.Time
	}{
		{"first seen out of use: recorded, deprecation due after its wait", func(i *Image) {}, ActionMarkUnused, now.Add(7 * day)},
		{"out of use 6 days: waits", func(i *Image) { i.Ledger.UnusedSince = now.Add(-6 * day) }, ActionNone, now.Add(day)},
		{"out of use 7 days: deprecated", func(i *Image) { i.Ledger.UnusedSince = now.Add(-7 * day) }, ActionDeprecate, now},
		{"deprecated 13 days ago: waits", func(i *Image) {
			i.Ledger.UnusedSince, i.DeprecatedAt, i.Ledger.Deprecated = now.Add(-20*day), now.Add(-13*day), true
		}, ActionNone, now.Add(day)},
		{"deprecated 14 days ago: disabled", func(i *Image) {
			i.Ledger.UnusedSince, i.DeprecatedAt, i.Ledger.Deprecated = now.Add(-21*day), now.Add(-14*day), true
		}, ActionDisable, now},
		{"a deprecation set for the future is not a stage yet", func(i *Image) {
			i.Ledger.UnusedSince, i.DeprecatedAt = now.Add(-7*day), now.Add(30*day)
		}, ActionDeprecate, now},
		{"disabled 29 days ago: waits", func(i *Image) {
			i.State, i.Ledger.UnusedSince, i.Ledger.Deprecated, i.Ledger.DisabledAt = "disabled", now.Add(-60*day), true, now.Add(-29*day)
		}, ActionNone, now.Add(day)},
		{"disabled 30 days ago: deregistered", func(i *Image) {
			i.State, i.Ledger.UnusedSince, i.Ledger.Deprecated, i.Ledger.DisabledAt = "disabled", now.Add(-60*day), true, now.Add(-30*day)
		}, ActionDeregister, now},
		{"disabled by someone else: the wait counts from out of use", func(i *Image) {
			i.State, i.Ledger.UnusedSince = "disabled", now.Add(-10*day)
		}, ActionNone, now.Add(20 * day)},
		{"protected by someone else: kept", func(i *Image) { i.Ledger.UnusedSince, i.Protected = now.Add(-99*day), true }, ActionNone, time.Time{}},
		{"Phoenix's protection, no longer last-known-good: lifted first", func(i *Image) {
			i.Ledger.UnusedSince, i.Protected, i.Ledger.ProtectedByPhoenix = now.Add(-99*day), true, true
		}, ActionUnprotect, time.Time{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := imageDecision(t, decide(t, Snapshot{Images: []Image{image(1, tc.mod)}}, tpol), ami(1))
			if d.Action != tc.action || !d.Due.Equal(tc.due) {
				t.Fatalf("%+v, want %q due %s", d, tc.action, tc.due)
			}
		})
	}
}

func TestAnImageInUseAgainIsRestoredAndALastKnownGoodProtected(t *testing.T) {
	s := func(mod func(*Image)) Snapshot {
		return Snapshot{
			Templates: []Template{template(2, 2)},
			Groups:    []Group{{Key: web, TemplateID: lt, Version: 2, LastKnownGood: 2, LastKnownGoodImage: ami(2)}},
			Images:    []Image{image(2, mod)},
		}
	}
	cases := []struct {
		name   string
		mod    func(*Image)
		action Action
	}{
		{"disabled by Phoenix, in use again: restored", func(i *Image) { i.State, i.Ledger.DisabledAt, i.Protected = "disabled", now.Add(-day), true }, ActionRestore},
		{"deprecated by Phoenix, in use again: restored", func(i *Image) { i.DeprecatedAt, i.Ledger.Deprecated, i.Protected = now.Add(-day), true, true }, ActionRestore},
		{"a last-known-good without protection: protected", func(i *Image) {}, ActionProtect},
		{"protected and once unused: the ledger forgets", func(i *Image) { i.Protected, i.Ledger.UnusedSince = true, now.Add(-day) }, ActionMarkUsed},
		{"protected, nothing to do", func(i *Image) { i.Protected = true }, ActionNone},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if d := imageDecision(t, decide(t, s(tc.mod), tpol), ami(2)); d.Action != tc.action {
				t.Fatalf("%+v, want %q", d, tc.action)
			}
		})
	}
	// Held by a kept version but no group's last-known-good any more.
	snap := s(func(i *Image) { i.Protected, i.Ledger.ProtectedByPhoenix = true, true })
	snap.Groups[0].LastKnownGoodImage = ami(9)
	if d := imageDecision(t, decide(t, snap, tpol), ami(2)); d.Action != ActionUnprotect || d.Stage != StageInUse {
		t.Fatalf("%+v, want Phoenix's protection lifted while the image stays kept", d)
	}
}

func TestANightIsBounded(t *testing.T) {
	p := tpol
	p.MaxActions = 3
	s := Snapshot{
		Templates: []Template{template(7, 7)}, // versions 1-5 deletable
		Images:    []Image{image(90, func(i *Image) { i.Ledger.UnusedSince = now.Add(-99 * day) })},
	}
	plan := decide(t, s, p)
	var deleted, bounded int
	for _, v := range plan.Versions {
		switch {
		case v.Action == ActionDeleteVersion:
			deleted++
		case len(v.Holds) == 1 && v.Holds[0].Reason == KeptBounded:
			bounded++
		}
	}
	if deleted != 3 || bounded != 2 {
		t.Errorf("deleted %d, bounded %d; want 3 and 2", deleted, bounded)
	}
	if d := imageDecision(t, plan, ami(90)); d.Action != ActionNone || d.Holds[0].Reason != KeptBounded {
		t.Errorf("the image past the budget: %+v", d)
	}
	if got := plan.Deletions()[lt][0]; !slices.Equal(got, []int64{1, 2, 3}) {
		t.Errorf("the oldest go first: %v", got)
	}
}

func TestDeletionsComeInBatchesOfTwoHundred(t *testing.T) {
	p := tpol
	p.MaxActions = 10000
	plan := decide(t, Snapshot{Templates: []Template{template(452, 452)}}, p)
	b := plan.Deletions()[lt]
	if len(b) != 3 || len(b[0]) != 200 || len(b[1]) != 200 || len(b[2]) != 50 || b[2][49] != 450 {
		t.Fatalf("batches of %d, %d, %d", len(b[0]), len(b[1]), len(b[len(b)-1]))
	}
}

func TestABadPolicyIsRefused(t *testing.T) {
	for _, mod := range []func(*Policy){
		func(p *Policy) { p.KeepVersions = 0 },
		func(p *Policy) { p.KeepRollbackVersions = -1 },
		func(p *Policy) { p.DisableAfter = -time.Hour },
		func(p *Policy) { p.MaxActions = 0 },
	} {
		p := DefaultPolicy()
		mod(&p)
		if _, err := Decide(Snapshot{Now: now}, p); err == nil {
			t.Errorf("policy %+v accepted", p)
		}
	}
}

// Over random fleets, the plan never retires what the rule says must stay:
// no deleted version is a default, a group's, a last-known-good, a rollback
// version or a rollout's; no image past its first stage is named by a kept
// version, a group, a rollout, a campaign or a reference; and the same
// snapshot in another order gives the same plan.
func TestRandomFleetsNeverLoseWhatIsInUse(t *testing.T) {
	for seed := uint64(1); seed <= 300; seed++ {
		r := rand.New(rand.NewPCG(seed, 0))
		s := randomSnapshot(r)
		p := tpol
		p.KeepVersions = 1 + r.IntN(4)
		p.KeepRollbackVersions = r.IntN(3)
		plan, err := Decide(s, p)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		checkPlan(t, seed, s, p, plan)
		shuffled := s
		shuffled.Templates, shuffled.Images = slices.Clone(s.Templates), slices.Clone(s.Images)
		r.Shuffle(len(shuffled.Templates), func(i, j int) {
			shuffled.Templates[i], shuffled.Templates[j] = shuffled.Templates[j], shuffled.Templates[i]
		})
		r.Shuffle(len(shuffled.Images), func(i, j int) { shuffled.Images[i], shuffled.Images[j] = shuffled.Images[j], shuffled.Images[i] })
		again, _ := Decide(shuffled, p)
		if fmt.Sprint(again) != fmt.Sprint(plan) {
			t.Fatalf("seed %d: the order of the snapshot changed the plan", seed)
		}
	}
}

func randomSnapshot(r *rand.Rand) Snapshot {
	s := Snapshot{Now: now, Account: acct}
	nImages := 30
	for i := 1; i <= nImages; i++ {
		img := image(i)
		img.Ledger.UnusedSince = now.Add(-time.Duration(r.IntN(90)) * day)
		switch r.IntN(6) {
		case 0:
			img.State, img.Ledger.DisabledAt, img.Ledger.Deprecated = "disabled", now.Add(-time.Duration(r.IntN(60))*day), true
		case 1:
			img.DeprecatedAt, img.Ledger.Deprecated = now.Add(-time.Duration(r.IntN(30))*day), true
		}
		if r.IntN(8) == 0 {
			img.References = append(img.References, Reference{Kind: []string{"instance", "ssm-parameter", "image-recipe"}[r.IntN(3)], ARN: "arn:x"})
		}
		s.Images = append(s.Images, img)
	}
	for ti := 0; ti < 3; ti++ {
		t := Template{ID: fmt.Sprintf("lt-%d", ti), Region: region}
		n := 1 + r.IntN(15)
		for v := 1; v <= n; v++ {
			t.Versions = append(t.Versions, Version{Number: int64(v), ImageID: ami(1 + r.IntN(nImages))})
		}
		t.Default = int64(1 + r.IntN(n))
		s.Templates = append(s.Templates, t)
		for gi := 0; gi < 1+r.IntN(2); gi++ {
			g := Group{Key: rollout.GroupKey{Region: region, Name: fmt.Sprintf("g-%d-%d", ti, gi)}, TemplateID: t.ID, Version: int64(1 + r.IntN(n))}
			g.InstanceVersions = []int64{g.Version, int64(1 + r.IntN(n))}
			g.LastKnownGood = int64(1 + r.IntN(n))
			g.LastKnownGoodImage = t.Versions[g.LastKnownGood-1].ImageID
			for f := 0; f < r.IntN(6); f++ {
				g.Finalized = append(g.Finalized, int64(1+r.IntN(n)))
			}
			s.Groups = append(s.Groups, g)
			if r.IntN(3) == 0 {
				from, to := int64(1+r.IntN(n)), int64(1+r.IntN(n))
				s.Rollouts = append(s.Rollouts, Rollout{ID: "r-" + g.Key.Name, Group: g.Key, TemplateID: t.ID, From: from, To: to,
					FromImage: t.Versions[from-1].ImageID, ToImage: t.Versions[to-1].ImageID})
			}
		}
	}
	if r.IntN(2) == 0 {
		s.Campaigns = []Campaign{{ID: "c-1", ImageID: ami(1 + r.IntN(nImages))}}
	}
	return s
}

func checkPlan(t *testing.T, seed uint64, s Snapshot, p Policy, plan Plan) {
	t.Helper()
	deleted := map[string]bool{}
	for _, v := range plan.Versions {
		if v.Action == ActionDeleteVersion {
			deleted[fmt.Sprintf("%s:%d", v.TemplateID, v.Number)] = true
		}
	}
	gone := func(tid string, n int64) bool { return deleted[fmt.Sprintf("%s:%d", tid, n)] }
	held := map[string]bool{}
	for _, tpl := range s.Templates {
		if gone(tpl.ID, tpl.Default) {
			t.Fatalf("seed %d: default version %s:%d deleted", seed, tpl.ID, tpl.Default)
		}
		for _, v := range tpl.Versions {
			if !gone(tpl.ID, v.Number) {
				held[v.ImageID] = true
			}
		}
	}
	for _, g := range s.Groups {
		for _, v := range append([]int64{g.Version, g.LastKnownGood}, append(g.InstanceVersions, rollbackHistory(g, p.KeepRollbackVersions)...)...) {
			if gone(g.TemplateID, v) {
				t.Fatalf("seed %d: version %d that %s needs was deleted", seed, v, g.Key)
			}
		}
		held[g.LastKnownGoodImage] = true
	}
	for _, r := range s.Rollouts {
		if gone(r.TemplateID, r.From) || gone(r.TemplateID, r.To) {
			t.Fatalf("seed %d: a version of rollout %s was deleted", seed, r.ID)
		}
		held[r.FromImage], held[r.ToImage] = true, true
	}
	for _, c := range s.Campaigns {
		held[c.ImageID] = true
	}
	for _, img := range s.Images {
		if len(img.References) > 0 {
			held[img.ID] = true
		}
	}
	for _, d := range plan.Images {
		if held[d.ImageID] && (d.Action.Destructive() || d.Action == ActionMarkUnused) {
			t.Fatalf("seed %d: %s is in use, yet the plan says %s", seed, d.ImageID, d.Action)
		}
	}
}
