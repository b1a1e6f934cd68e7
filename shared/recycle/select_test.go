package recycle

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/bluegreen"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// night0 is the tests' night: 03:00 UTC.
var night0 = time.Date(2026, 3, 3, 3, 0, 0, 0, time.UTC)

// groupOpt changes a test group.
type groupOpt func(*rollout.Group)

func tags(kv ...string) groupOpt {
	return func(g *rollout.Group) {
		for i := 0; i+1 < len(kv); i += 2 {
			g.Tags[kv[i]] = kv[i+1]
		}
	}
}

// aged gives the group InService instances launched ages before night0.
func aged(ages ...time.Duration) groupOpt {
	return func(g *rollout.Group) {
		g.Instances = nil
		for i, a := range ages {
			g.Instances = append(g.Instances, rollout.Instance{ID: fmt.Sprintf("i-%s-%d", g.Key.Name, i), Lifecycle: "InService", Health: "Healthy",
				LaunchTemplateVersion: "3", ImageID: "ami-3", LaunchTime: night0.Add(-a)})
		}
	}
}

// group is an enabled group with recycling on, on launch template
// version 3, with two instances eight days old.
func group(name string, opts ...groupOpt) rollout.Group {
	g := rollout.Group{
		Key:              rollout.GroupKey{Region: "us-east-1", Name: name},
		LaunchTemplateID: "lt-" + name, LaunchTemplateVersion: "3", Desired: 2,
		Tags: map[string]string{rollout.TagEnabled: "true", TagRecycle: "true"},
	}
	aged(8*24*time.Hour, 8*24*time.Hour)(&g)
	for _, o := range opts {
		o(&g)
	}
	return g
}

func cand(g rollout.Group) Candidate {
	return Candidate{Group: g, Settings: ParseSettings(g.Tags, DefaultMaxAge)}
}

func night(limit int) Night {
	return Night{EventID: "ev-1", Now: night0, MaxPerNight: limit, Jitter: 30 * time.Minute}
}

// byGroup indexes decisions by group name.
func byGroup(ds []Decision) map[string]Decision {
	out := map[string]Decision{}
	for _, d := range ds {
		out[d.Group.Name] = d
	}
	return out
}

func TestSelectSkips(t *testing.T) {
	t.Parallel()
	leased := cand(group("leased"))
	leased.Active = &rollout.Rollout{ID: "img-leased-abc", Mode: rollout.ModeImage, Status: rollout.StatusRefreshing}
	cases := []struct {
		name string
		c    Candidate
		n    func(Night) Night
		code string
		// says is a fragment the reason must hold.
		says string
	}{
		{"a group without the recycle tag is not recycled", cand(group("g", func(g *rollout.Group) { delete(g.Tags, TagRecycle) })), nil, CodeRecycleOff, "no phoenix:recycle"},
		{"a group with recycle off is not recycled", cand(group("g", tags(TagRecycle, "false"))), nil, CodeRecycleOff, `"false"`},
		{"an unreadable recycle value is reported in the decision", cand(group("g", tags(TagRecycle, "nightly"))), nil, CodeRecycleOff, "not true or false"},
		{"a launch-configuration group is unsupported", cand(group("g", func(g *rollout.Group) { g.LaunchTemplateID, g.LaunchConfigurationName = "", "lc" })), nil, CodeUnsupported, "launch configuration"},
		{"an attribute-based group is unsupported", cand(group("g", func(g *rollout.Group) { g.AttributeBased = true })), nil, CodeUnsupported, "attributes"},
		{"a group frozen by its tag is skipped", cand(group("g", tags(TagFreeze, "true"))), nil, CodeFrozen, "tag phoenix:freeze"},
		{"a group inside its freeze window is skipped", cand(group("g", tags(TagFreeze, "2026-03-01T00:00:00Z/2026-03-05T00:00:00Z"))), nil, CodeFrozen, "2026-03-05T00:00:00Z"},
		{"an unreadable freeze tag freezes", cand(group("g", tags(TagFreeze, "march"))), nil, CodeFrozen, "unreadable"},
		{"the global freeze skips every group", cand(group("g")), func(n Night) Night {
			n.Freeze = Freeze{Always: true, Source: "SSM parameter /phoenix/freeze"}
			return n
		}, CodeFrozen, "SSM parameter /phoenix/freeze"},
		{"an unreadable global freeze freezes", cand(group("g")), func(n Night) Night {
			n.Freeze, _ = ParseFreeze("not a window")
			n.Freeze.Source = "SSM parameter /phoenix/freeze"
			return n
		}, CodeFrozen, "unreadable"},
		{"a leased group is skipped, naming the holder", leased, nil, CodeLeased, "img-leased-abc"},
		{"a group with InstanceRefresh suspended is skipped", cand(group("g", func(g *rollout.Group) { g.SuspendedProcesses = []string{"AZRebalance", "InstanceRefresh"} })), nil, CodeSuspended, "InstanceRefresh"},
		{"a group with Launch suspended is skipped", cand(group("g", func(g *rollout.Group) { g.SuspendedProcesses = []string{"Launch"} })), nil, CodeSuspended, "Launch"},
		{"a group without instances is skipped", cand(group("g", aged())), nil, CodeNoInstances, "no in-service"},
		{"a group whose instances are all pending is skipped", cand(group("g", func(g *rollout.Group) { g.Instances[0].Lifecycle, g.Instances[1].Lifecycle = "Pending", "Pending" })), nil, CodeNoInstances, "no in-service"},
		{"a young group is left alone", cand(group("g", aged(6*24*time.Hour, time.Hour))), nil, CodeYoung, "under the max age"},
		{"a group young by its own max-age tag is left alone", cand(group("g", tags(TagMaxAge, "240h"))), nil, CodeYoung, "240h"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := night(5)
			if tc.n != nil {
				n = tc.n(n)
			}
			ds := Select(n, []Candidate{tc.c})
			if len(ds) != 1 {
				t.Fatalf("decisions %+v", ds)
			}
			d := ds[0]
			if d.Action != ActionSkip || d.Code != tc.code || !strings.Contains(d.Reason, tc.says) || d.RolloutID != "" {
				t.Fatalf("decision %+v; want skip %s saying %q", d, tc.code, tc.says)
			}
		})
	}
	t.Run("a disabled group gets no decision", func(t *testing.T) {
		t.Parallel()
		if ds := Select(night(5), []Candidate{cand(group("g", tags(rollout.TagEnabled, "false")))}); len(ds) != 0 {
			t.Fatalf("decisions %+v", ds)
		}
	})
	t.Run("an unusable max-age tag is reported in the decision", func(t *testing.T) {
		t.Parallel()
		ds := Select(night(5), []Candidate{cand(group("g", tags(TagMaxAge, "a week")))})
		if len(ds) != 1 || ds[0].Action != ActionStart || len(ds[0].Problems) != 1 || !strings.Contains(ds[0].Problems[0], TagMaxAge) {
			t.Fatalf("decisions %+v; want a start at the default max age, with the tag reported", ds)
		}
	})
}

func TestSelectOrderAndLimit(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	t.Run("old groups start oldest first, up to the limit; the rest are deferred", func(t *testing.T) {
		t.Parallel()
		cands := []Candidate{
			cand(group("b-9d", aged(9*day, time.Hour))),
			cand(group("a-8d", aged(8*day))),
			cand(group("c-10d", aged(10*day))),
			cand(group("young", aged(day))),
		}
		ds := Select(night(2), cands)
		var got []string
		for _, d := range ds {
			got = append(got, fmt.Sprintf("%s:%s", d.Action, d.Group.Name))
		}
		want := "start:c-10d start:b-9d defer:a-8d skip:young"
		if strings.Join(got, " ") != want {
			t.Fatalf("decisions %s, want %s", strings.Join(got, " "), want)
		}
		a := byGroup(ds)["a-8d"]
		if a.Code != CodeLimit || !strings.Contains(a.Reason, "nightly limit of 2") || a.RolloutID != "" {
			t.Errorf("deferred %+v", a)
		}
		if c := byGroup(ds)["c-10d"]; c.OldestAgeSeconds != int64(10*day/time.Second) || c.MaxAgeSeconds != int64(7*day/time.Second) {
			t.Errorf("ages of %+v", c)
		}
	})
	t.Run("equally old groups start by name", func(t *testing.T) {
		t.Parallel()
		ds := Select(night(1), []Candidate{cand(group("b")), cand(group("a"))})
		if ds[0].Group.Name != "a" || ds[0].Action != ActionStart || ds[1].Action != ActionDefer {
			t.Fatalf("decisions %+v", ds)
		}
	})
	t.Run("a limit of 0 starts nothing", func(t *testing.T) {
		t.Parallel()
		ds := Select(night(0), []Candidate{cand(group("a"))})
		if len(ds) != 1 || ds[0].Action != ActionDefer {
			t.Fatalf("decisions %+v", ds)
		}
	})
	t.Run("a group exactly at its max age is due", func(t *testing.T) {
		t.Parallel()
		ds := Select(night(1), []Candidate{cand(group("a", aged(7*day)))})
		if ds[0].Action != ActionStart {
			t.Fatalf("decision %+v", ds[0])
		}
	})
	t.Run("starts carry the rollout id of the event and group, and a jittered start", func(t *testing.T) {
		t.Parallel()
		n := night(5)
		ds := Select(n, []Candidate{cand(group("a"))})
		d := ds[0]
		if d.RolloutID != RolloutName("ev-1", d.Group) || !strings.HasPrefix(d.RolloutID, "rcy-a-") {
			t.Errorf("rollout id %q", d.RolloutID)
		}
		if want := night0.Add(Offset("ev-1", d.Group, n.Jitter)); !d.StartAt.Equal(want) || d.StartAt.Before(night0) || !d.StartAt.Before(night0.Add(n.Jitter)) {
			t.Errorf("start at %s, want %s within the jitter", d.StartAt, want)
		}
		n.Jitter = 0
		if d := Select(n, []Candidate{cand(group("a"))})[0]; !d.StartAt.IsZero() {
			t.Errorf("without jitter the start is %s, want none", d.StartAt)
		}
	})
	t.Run("the same night decided twice is the same plan", func(t *testing.T) {
		t.Parallel()
		cands := []Candidate{cand(group("a", aged(9*day))), cand(group("b", aged(8*day))), cand(group("c"))}
		first, second := Select(night(2), cands), Select(night(2), cands)
		if fmt.Sprint(first) != fmt.Sprint(second) {
			t.Fatalf("%v\n%v", first, second)
		}
	})
}

func TestSelectRepeatedDelivery(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	// The first delivery started a and b; a finished (its instances are
	// young now) and b is running (it holds its own lease). A late
	// duplicate must not give their slots to c.
	a := cand(group("a", aged(time.Hour)))
	a.Started = true
	b := cand(group("b", aged(8*day)))
	b.Started = true
	c := cand(group("c", aged(9*day)))
	ds := byGroup(Select(night(2), []Candidate{a, b, c}))
	if ds["a"].Action != ActionStart || ds["a"].Code != CodeStarted || ds["b"].Action != ActionStart || ds["b"].Code != CodeStarted {
		t.Errorf("a %+v\nb %+v; want both kept as started", ds["a"], ds["b"])
	}
	if ds["c"].Action != ActionDefer {
		t.Errorf("c %+v; want deferred: the night's two slots are taken", ds["c"])
	}
	if ds["a"].RolloutID != RolloutName("ev-1", a.Group.Key) {
		t.Errorf("a's rollout id %q", ds["a"].RolloutID)
	}
	t.Run("a started group keeps its start even when the limit was lowered since", func(t *testing.T) {
		t.Parallel()
		ds := byGroup(Select(night(1), []Candidate{a, b, c}))
		if ds["a"].Action != ActionStart || ds["b"].Action != ActionStart || ds["c"].Action != ActionDefer {
			t.Fatalf("decisions %+v", ds)
		}
	})
}

// pairMember is a group of the blue/green pair named pair.
func pairMember(name, pair string, opts ...groupOpt) rollout.Group {
	return group(name, append([]groupOpt{tags(bluegreen.TagStrategy, bluegreen.StrategyBlueGreen, bluegreen.TagPair, pair)}, opts...)...)
}

// idle scales a group to zero, as a pair's idle group is.
func idle(g *rollout.Group) { g.Desired, g.Instances = 0, nil }

// fold makes candidates of enabled groups and folds their pairs, as the
// service does.
func fold(groups ...rollout.Group) []Candidate {
	var cands []Candidate
	for _, g := range groups {
		if c := cand(g); c.Settings.Enabled {
			cands = append(cands, c)
		}
	}
	return FoldPairs(cands, groups)
}

func TestABlueGreenPairIsRecycledOnceUnderItsFirstGroup(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	t.Run("the pair is one candidate, as old as its live group, though its first group is idle", func(t *testing.T) {
		t.Parallel()
		cands := fold(pairMember("web-green", "web", aged(9*day)), group("solo", aged(8*day)), pairMember("web-blue", "web", idle))
		if len(cands) != 2 {
			t.Fatalf("%d candidates, want the pair and solo", len(cands))
		}
		ds := Select(night(5), cands)
		var got []string
		for _, d := range ds {
			got = append(got, fmt.Sprintf("%s:%s", d.Action, d.Group.Name))
		}
		if want := "start:web-blue start:solo"; strings.Join(got, " ") != want {
			t.Fatalf("decisions %s, want %s", strings.Join(got, " "), want)
		}
		d := ds[0]
		if d.Pair == nil || d.Pair.Name != "web" || !slices.Equal(d.Pair.Groups, []string{"web-blue", "web-green"}) {
			t.Errorf("pair %+v", d.Pair)
		}
		if d.OldestAgeSeconds != int64(9*day/time.Second) || d.RolloutID != RolloutName("ev-1", d.Group) {
			t.Errorf("decision %+v; want the live group's age and the first group's rollout id", d)
		}
	})
	t.Run("a pair takes one slot of the nightly limit", func(t *testing.T) {
		t.Parallel()
		ds := byGroup(Select(night(2), fold(
			pairMember("a-blue", "a", aged(10*day)), pairMember("a-green", "a", idle),
			pairMember("b-blue", "b", idle), pairMember("b-green", "b", aged(9*day)),
			group("c", aged(8*day)))))
		if len(ds) != 3 || ds["a-blue"].Action != ActionStart || ds["b-blue"].Action != ActionStart || ds["c"].Action != ActionDefer {
			t.Fatalf("decisions %+v", ds)
		}
	})
	cases := []struct {
		name   string
		groups []rollout.Group
		action Action
		code   string
		says   string
	}{
		{"a pair with a group not enabled is skipped, naming it",
			[]rollout.Group{pairMember("web-blue", "web"), pairMember("web-green", "web", idle, tags(rollout.TagEnabled, "false"))},
			ActionSkip, CodeUnsupported, "group web-green is not tagged phoenix:enabled=true"},
		{"a lone group of a pair is skipped: Prepare would refuse it",
			[]rollout.Group{pairMember("web-blue", "web")},
			ActionSkip, CodeUnsupported, "a pair is two groups, and 1 carry phoenix:pair=web"},
		{"a pair whose groups are both empty has no instances",
			[]rollout.Group{pairMember("web-blue", "web", idle), pairMember("web-green", "web", idle)},
			ActionSkip, CodeNoInstances, "no group of blue/green pair web"},
		{"a pair with Launch suspended on its idle group is skipped, naming it",
			[]rollout.Group{pairMember("web-blue", "web"), pairMember("web-green", "web", idle, func(g *rollout.Group) { g.SuspendedProcesses = []string{"Launch"} })},
			ActionSkip, CodeSuspended, "group web-green of the pair"},
		{"a pair needs no instance refresh, so InstanceRefresh suspended does not skip it",
			[]rollout.Group{pairMember("web-blue", "web", func(g *rollout.Group) { g.SuspendedProcesses = []string{"InstanceRefresh"} }), pairMember("web-green", "web", idle)},
			ActionStart, CodeDue, "at or over the max age"},
		{"a pair with a group on a launch configuration is unsupported",
			[]rollout.Group{pairMember("web-blue", "web"), pairMember("web-green", "web", idle, func(g *rollout.Group) { g.LaunchTemplateID, g.LaunchConfigurationName = "", "lc" })},
			ActionSkip, CodeUnsupported, "group web-green of the pair has no launch template"},
		{"a young pair is left alone",
			[]rollout.Group{pairMember("web-blue", "web", aged(day)), pairMember("web-green", "web", idle)},
			ActionSkip, CodeYoung, "under the max age"},
		{"the first group's tags decide: recycling off there is off for the pair",
			[]rollout.Group{pairMember("web-blue", "web", idle, tags(TagRecycle, "false")), pairMember("web-green", "web")},
			ActionSkip, CodeRecycleOff, `"false"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ds := Select(night(5), fold(tc.groups...))
			if len(ds) != 1 {
				t.Fatalf("decisions %+v; want one for the pair", ds)
			}
			d := ds[0]
			if d.Group.Name != "web-blue" || d.Pair == nil || d.Action != tc.action || d.Code != tc.code || !strings.Contains(d.Reason, tc.says) {
				t.Fatalf("decision %+v; want %s %s under web-blue saying %q", d, tc.action, tc.code, tc.says)
			}
		})
	}
	t.Run("a group tagged blue-green without a pair name stays a group", func(t *testing.T) {
		t.Parallel()
		cands := fold(group("odd", tags(bluegreen.TagStrategy, bluegreen.StrategyBlueGreen)), group("other"))
		if len(cands) != 2 || cands[0].Pair != nil || cands[1].Pair != nil {
			t.Fatalf("candidates %+v", cands)
		}
	})
}
