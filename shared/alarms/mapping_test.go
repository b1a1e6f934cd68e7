package alarms

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

func group(name string, tags map[string]string) rollout.Group {
	return rollout.Group{Key: rollout.GroupKey{Region: "us-east-1", Name: name}, Tags: tags}
}

func enabled(extra ...string) map[string]string {
	tags := map[string]string{rollout.TagEnabled: "true"}
	for i := 0; i+1 < len(extra); i += 2 {
		tags[extra[i]] = extra[i+1]
	}
	return tags
}

func TestMap(t *testing.T) {
	t.Parallel()
	defaults := rollout.DefaultPolicy()
	web := group("web", enabled())
	cases := []struct {
		name    string
		named   *rollout.Group
		listing []rollout.Group
		want    map[string][]string // group -> via
		skipped []string
	}{
		{
			name:  "the group the alarm's tag names is guarded",
			named: &web,
			want:  map[string][]string{"web": {ViaAlarmTag}},
		},
		{
			name:    "every group whose phoenix:alarms lists the alarm is guarded",
			listing: []rollout.Group{group("api", enabled(rollout.TagAlarms, "api-5xx, web-5xx")), group("shop", enabled(rollout.TagAlarms, "web-5xx"))},
			want:    map[string][]string{"api": {ViaGroupTag}, "shop": {ViaGroupTag}},
		},
		{
			name:    "a group found both ways is one target with both reasons",
			named:   &web,
			listing: []rollout.Group{group("web", enabled(rollout.TagAlarms, "web-5xx"))},
			want:    map[string][]string{"web": {ViaAlarmTag, ViaGroupTag}},
		},
		{
			name:    "a group listing other alarms is not guarded",
			listing: []rollout.Group{group("api", enabled(rollout.TagAlarms, "api-5xx,web-5xx-old"))},
			want:    map[string][]string{},
		},
		{
			name:    "a name is matched exactly, not by prefix or case",
			listing: []rollout.Group{group("api", enabled(rollout.TagAlarms, "web-5x Web-5xx web-5xx2"))},
			want:    map[string][]string{},
		},
		{
			name:    "a group not enabled is skipped, however it is named",
			named:   &rollout.Group{Key: rollout.GroupKey{Region: "us-east-1", Name: "legacy"}, Tags: map[string]string{}},
			listing: []rollout.Group{group("batch", map[string]string{rollout.TagEnabled: "false", rollout.TagAlarms: "web-5xx"})},
			want:    map[string][]string{},
			skipped: []string{"batch", "legacy"},
		},
		{
			name:    "an unreadable phoenix:enabled means not managed",
			listing: []rollout.Group{group("odd", map[string]string{rollout.TagEnabled: "sure", rollout.TagAlarms: "web-5xx"})},
			want:    map[string][]string{},
			skipped: []string{"odd"},
		},
		{
			name: "a phoenix:alarms tag the rollout ignores (more than ten alarms) maps nothing",
			listing: []rollout.Group{group("big", enabled(rollout.TagAlarms,
				"a1,a2,a3,a4,a5,a6,a7,a8,a9,a10,web-5xx"))},
			want: map[string][]string{},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			targets, skips := Map("web-5xx", tc.named, tc.listing, defaults)
			got := map[string][]string{}
			for _, tg := range targets {
				got[tg.Group.Name] = tg.Via
				if !tg.Policy.Enabled || tg.Policy.GuardWindow != defaults.GuardWindow {
					t.Errorf("%s: policy %+v", tg.Group.Name, tg.Policy)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("targets %v, want %v", got, tc.want)
			}
			for name, via := range tc.want {
				if !slices.Equal(got[name], via) {
					t.Errorf("%s via %v, want %v", name, got[name], via)
				}
			}
			var skipped []string
			for _, s := range skips {
				skipped = append(skipped, s.Group.Name)
				if !strings.Contains(s.Reason, rollout.TagEnabled) {
					t.Errorf("skip reason %q does not say why", s.Reason)
				}
			}
			if !slices.Equal(skipped, tc.skipped) {
				t.Errorf("skipped %v, want %v", skipped, tc.skipped)
			}
		})
	}
}

func TestATargetCarriesTheGroupsGuardWindow(t *testing.T) {
	t.Parallel()
	g := group("web", enabled(rollout.TagAlarms, "web-5xx", rollout.TagGuardWindow, "30m"))
	targets, _ := Map("web-5xx", nil, []rollout.Group{g}, rollout.DefaultPolicy())
	if len(targets) != 1 || targets[0].Policy.GuardWindow != 30*time.Minute {
		t.Fatalf("targets %+v, want web with a 30m guard window", targets)
	}
}

func TestGroupTag(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		tags   map[string]string
		want   string
		ok     bool
		broken bool
	}{
		{"no tag", map[string]string{"team": "edge"}, "", false, false},
		{"a group name", map[string]string{TagGroup: "web"}, "web", true, false},
		{"spaces around the name are trimmed", map[string]string{TagGroup: "  web "}, "web", true, false},
		{"an empty value is unreadable", map[string]string{TagGroup: " "}, "", true, true},
		{"a value longer than a group name is unreadable", map[string]string{TagGroup: strings.Repeat("w", 256)}, "", true, true},
		{"a control character is unreadable", map[string]string{TagGroup: "web\nshop"}, "", true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok, err := GroupTag(tc.tags)
			if got != tc.want || ok != tc.ok || (err != nil) != tc.broken {
				t.Errorf("GroupTag = %q, %v, %v; want %q, %v, error %v", got, ok, err, tc.want, tc.ok, tc.broken)
			}
		})
	}
}
