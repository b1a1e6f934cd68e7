package publish

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/phoenix-rollouts/phoenix/shared/bluegreen"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

func TestACandidateIsTheGroupAsTargetingReadsIt(t *testing.T) {
	t.Parallel()
	key := rollout.GroupKey{Region: "us-east-1", Name: "web"}
	tags := map[string]string{rollout.TagEnabled: "true", TagRole: "web"}
	onTemplate := rollout.Group{Key: key, Tags: tags, LaunchTemplateID: "lt-1", LaunchTemplateVersion: "$Default"}
	cases := []struct {
		name         string
		group        rollout.Group
		templateType string
		needs        bool
		types        []string
		lc           bool
	}{
		{"a template group launches its template version's type", onTemplate, "t3.micro", true, []string{"t3.micro"}, false},
		{"a template that names no type, or is gone, leaves the group without types", onTemplate, "", true, nil, false},
		{"overrides decide, sorted and once each, and the template is not read", func() rollout.Group {
			g := onTemplate
			g.MixedInstances, g.InstanceTypes = true, []string{"m7g.large", "m5.large", "m7g.large"}
			return g
		}(), "", false, []string{"m5.large", "m7g.large"}, false},
		{"attribute-based overrides launch types Phoenix cannot tell", func() rollout.Group {
			g := onTemplate
			g.MixedInstances, g.AttributeBased, g.InstanceTypes = true, true, []string{"m5.large"}
			return g
		}(), "t3.micro", false, nil, false},
		{"a launch configuration group is marked and has no types", rollout.Group{Key: key, Tags: tags, LaunchConfigurationName: "web-lc"}, "", false, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := NeedsTemplateType(tc.group); got != tc.needs {
				t.Errorf("NeedsTemplateType = %v, want %v", got, tc.needs)
			}
			c := CandidateOf(tc.group, tc.templateType)
			if c.Key != key || c.Tags[TagRole] != "web" || c.LaunchConfiguration != tc.lc || !slices.Equal(c.InstanceTypes, tc.types) {
				t.Errorf("got %+v, want types %v, launch configuration %v", c, tc.types, tc.lc)
			}
		})
	}
	t.Run("the candidate's tags are its own copy", func(t *testing.T) {
		t.Parallel()
		g := onTemplate
		g.Tags = map[string]string{TagRole: "web"}
		c := CandidateOf(g, "t3.micro")
		c.Tags[TagRole] = "db"
		if g.Tags[TagRole] != "web" {
			t.Error("changing the candidate's tags changed the group's")
		}
	})
}

// member is a group of the blue/green pair named pair, enabled with role
// web, launching t3.micro unless types say otherwise.
func member(name, pair string, extra []string, types ...string) Candidate {
	if len(types) == 0 {
		types = []string{"t3.micro"}
	}
	return group(name, enabledRole("web", append([]string{bluegreen.TagStrategy, bluegreen.StrategyBlueGreen, bluegreen.TagPair, pair}, extra...)...), types...)
}

func TestABlueGreenPairIsOneTarget(t *testing.T) {
	t.Parallel()
	webPair := &PairUnit{Name: "web", Groups: []string{"web-blue", "web-green"}}
	cases := []struct {
		name    string
		cands   []Candidate
		targets []Target
		skipped []string
		says    string
	}{
		{"a pair takes the image once, under its first group by name, beside a rolling group",
			[]Candidate{member("web-green", "web", nil), group("solo", enabledRole("web"), "t3.micro"), member("web-blue", "web", nil)},
			[]Target{{Group: key("solo"), Wave: DefaultWave}, {Group: key("web-blue"), Wave: DefaultWave, Pair: webPair}}, nil, ""},
		{"a pair rolls in the later of its groups' waves",
			[]Candidate{member("web-blue", "web", []string{TagWave, "0"}), member("web-green", "web", []string{TagWave, "2"})},
			[]Target{{Group: key("web-blue"), Wave: 2, Pair: webPair}}, nil, ""},
		{"two pairs are two targets",
			[]Candidate{member("web-blue", "web", nil), member("web-green", "web", nil), member("shop-a", "shop", nil), member("shop-b", "shop", nil)},
			[]Target{{Group: key("shop-a"), Wave: DefaultWave, Pair: &PairUnit{Name: "shop", Groups: []string{"shop-a", "shop-b"}}}, {Group: key("web-blue"), Wave: DefaultWave, Pair: webPair}}, nil, ""},
		{"a pair whose idle group cannot run the image is skipped with the group's reason",
			[]Candidate{member("web-blue", "web", nil), member("web-green", "web", nil, "m7g.large")},
			nil, []string{"web-blue"}, "instance type m7g.large of group web-green"},
		{"a pair whose group has an unreadable wave is skipped",
			[]Candidate{member("web-blue", "web", []string{TagWave, "soon"}), member("web-green", "web", nil)},
			nil, []string{"web-blue"}, "phoenix:wave"},
		{"a pair with a group not enabled is skipped, naming it",
			[]Candidate{member("web-blue", "web", []string{rollout.TagEnabled, "false"}), member("web-green", "web", nil)},
			nil, []string{"web-green"}, "group web-blue is not tagged phoenix:enabled=true"},
		{"a pair with a group of another role is skipped, naming it",
			[]Candidate{member("web-blue", "web", nil), member("web-green", "web", []string{TagRole, "api"})},
			nil, []string{"web-blue"}, "group web-green is not tagged phoenix:enabled=true with phoenix:role=\"web\""},
		{"a lone group of a pair is skipped: Prepare would refuse it",
			[]Candidate{member("web-blue", "web", nil)},
			nil, []string{"web-blue"}, "it has 1 group tagged phoenix:enabled; a pair is two"},
		{"a pair of another role is not a target at all",
			[]Candidate{member("api-blue", "api", []string{TagRole, "api"}), member("api-green", "api", []string{TagRole, "api"})},
			nil, nil, ""},
		{"a group tagged blue-green without a pair name stays a group, for Prepare to refuse with the reason",
			[]Candidate{group("odd", enabledRole("web", bluegreen.TagStrategy, bluegreen.StrategyBlueGreen), "t3.micro")},
			[]Target{{Group: key("odd"), Wave: DefaultWave}}, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			targets, skips := Targets(goodImage(), tc.cands, archs)
			if !reflect.DeepEqual(targets, tc.targets) {
				t.Errorf("targets %s, want %s", targetsText(targets), targetsText(tc.targets))
			}
			var gotS []string
			for _, s := range skips {
				gotS = append(gotS, s.Group.Name)
				if !strings.Contains(s.Reason, tc.says) || s.Pair == nil || !strings.Contains(s.Reason, s.Pair.String()) {
					t.Errorf("skip %+v does not name its pair and say %q", s, tc.says)
				}
			}
			if !slices.Equal(gotS, tc.skipped) {
				t.Errorf("skips %v, want %v", gotS, tc.skipped)
			}
		})
	}
}

func targetsText(ts []Target) string {
	var out []string
	for _, t := range ts {
		s := fmt.Sprintf("%s@%d", t.Group.Name, t.Wave)
		if t.Pair != nil {
			s += "=" + t.Pair.String()
		}
		out = append(out, s)
	}
	return "[" + strings.Join(out, " ") + "]"
}

func TestUnitsTextCountsAPairOnce(t *testing.T) {
	t.Parallel()
	pair := func(name string) Target {
		return Target{Group: key(name + "-a"), Pair: &PairUnit{Name: name, Groups: []string{name + "-a", name + "-b"}}}
	}
	cases := []struct {
		name    string
		targets []Target
		want    string
	}{
		{"groups only", []Target{{Group: key("a")}, {Group: key("b")}}, "2 groups"},
		{"one group", []Target{{Group: key("a")}}, "1 group"},
		{"a pair alone", []Target{pair("web")}, "pair web (web-a, web-b)"},
		{"groups and pairs", []Target{{Group: key("a")}, pair("web"), pair("shop")}, "1 group, pair web (web-a, web-b) and pair shop (shop-a, shop-b)"},
		{"many pairs are counted", []Target{pair("a"), pair("b"), pair("c"), pair("d")}, "4 blue/green pairs"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := UnitsText(tc.targets); got != tc.want {
				t.Errorf("UnitsText = %q, want %q", got, tc.want)
			}
		})
	}
}
