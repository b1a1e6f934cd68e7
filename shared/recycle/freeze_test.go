package recycle

import (
	"strings"
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func TestParseFreeze(t *testing.T) {
	t.Parallel()
	xmas := "2026-12-20T00:00:00Z/2027-01-04T00:00:00Z"
	cases := []struct {
		name  string
		value string
		// frozen and thawed are instants the freeze must and must not
		// cover.
		frozen, thawed []string
		bad            bool
	}{
		{name: "an empty value freezes nothing", value: "", thawed: []string{"2026-12-24T00:00:00Z"}},
		{name: "false freezes nothing", value: "false", thawed: []string{"2026-12-24T00:00:00Z"}},
		{name: "off freezes nothing, in any case", value: " OFF ", thawed: []string{"2026-12-24T00:00:00Z"}},
		{name: "true freezes always", value: "true", frozen: []string{"2000-01-01T00:00:00Z", "2099-01-01T00:00:00Z"}},
		{name: "on freezes always", value: "On", frozen: []string{"2026-06-01T00:00:00Z"}},
		{name: "a window freezes from its start, inclusive, to its end, exclusive", value: xmas,
			frozen: []string{"2026-12-20T00:00:00Z", "2027-01-03T23:59:59Z"}, thawed: []string{"2026-12-19T23:59:59Z", "2027-01-04T00:00:00Z"}},
		{name: "windows separated by spaces, new lines or commas all count",
			value:  "2026-04-01T00:00:00Z/2026-04-02T00:00:00Z\n2026-05-01T00:00:00Z/2026-05-02T00:00:00Z, " + xmas,
			frozen: []string{"2026-04-01T12:00:00Z", "2026-05-01T12:00:00Z", "2026-12-25T00:00:00Z"}, thawed: []string{"2026-04-15T00:00:00Z"}},
		{name: "a window with offsets is the same instants in UTC", value: "2026-12-20T01:00:00+01:00/2026-12-21T00:00:00Z",
			frozen: []string{"2026-12-20T00:00:00Z"}, thawed: []string{"2026-12-19T23:59:59Z"}},
		{name: "a word that is not true or a window freezes, fail safe", value: "maybe", bad: true, frozen: []string{"2026-06-01T00:00:00Z"}},
		{name: "a window with a bad time freezes, fail safe", value: "2026-12-20/2027-01-04", bad: true, frozen: []string{"2026-06-01T00:00:00Z"}},
		{name: "a window that ends before it starts freezes, fail safe", value: "2027-01-04T00:00:00Z/2026-12-20T00:00:00Z", bad: true, frozen: []string{"2026-06-01T00:00:00Z"}},
		{name: "one bad window among good ones freezes, fail safe", value: xmas + " nonsense", bad: true, frozen: []string{"2026-06-01T00:00:00Z"}},
		{name: "too many windows freeze, fail safe", value: strings.Repeat(xmas+" ", 101), bad: true, frozen: []string{"2026-06-01T00:00:00Z"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, err := ParseFreeze(tc.value)
			if (err != nil) != tc.bad {
				t.Fatalf("error %v, want bad %v", err, tc.bad)
			}
			f.Source = "tag phoenix:freeze"
			for _, s := range tc.frozen {
				in, why := f.In(utc(s))
				if !in || !strings.Contains(why, "tag phoenix:freeze") {
					t.Errorf("at %s: frozen %v (%q), want frozen with a reason naming the source", s, in, why)
				}
				if tc.bad && !strings.Contains(why, "unreadable") {
					t.Errorf("at %s: reason %q does not say the value is unreadable", s, why)
				}
			}
			for _, s := range tc.thawed {
				if in, why := f.In(utc(s)); in {
					t.Errorf("at %s: frozen (%q), want not", s, why)
				}
			}
		})
	}
}

func FuzzParseFreeze(f *testing.F) {
	for _, s := range []string{"", "true", "off", "2026-12-20T00:00:00Z/2027-01-04T00:00:00Z", "a/b", "2027-01-04T00:00:00Z/2026-12-20T00:00:00Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fr, err := ParseFreeze(s)
		if err != nil {
			// A value that does not parse must freeze, at any time.
			if in, _ := fr.In(time.Unix(0, 0)); !in {
				t.Fatalf("unparsable %q does not freeze", s)
			}
			return
		}
		for _, w := range fr.Windows {
			if !w.To.After(w.From) {
				t.Fatalf("accepted an empty window %v from %q", w, s)
			}
		}
	})
}

func TestParseSettings(t *testing.T) {
	t.Parallel()
	week := 7 * 24 * time.Hour
	cases := []struct {
		name     string
		tags     map[string]string
		enabled  bool
		recycle  bool
		maxAge   time.Duration
		problems []string // tags reported as unusable
	}{
		{"a group without phoenix tags is neither enabled nor recycled", map[string]string{}, false, false, week, nil},
		{"recycle needs no enabled tag to be read, but the group stays disabled", map[string]string{TagRecycle: "true"}, false, true, week, nil},
		{"an enabled group with recycle on is recycled at the default age",
			map[string]string{rollout.TagEnabled: "true", TagRecycle: "true"}, true, true, week, nil},
		{"yes, on and 1 turn recycling on", map[string]string{rollout.TagEnabled: "yes", TagRecycle: "ON"}, true, true, week, nil},
		{"false turns recycling off without a problem", map[string]string{rollout.TagEnabled: "true", TagRecycle: "false"}, true, false, week, nil},
		{"an unreadable recycle value is off and reported, never silently on",
			map[string]string{rollout.TagEnabled: "true", TagRecycle: "nightly"}, true, false, week, []string{TagRecycle}},
		{"an unreadable enabled value disables the group", map[string]string{rollout.TagEnabled: "sure", TagRecycle: "true"}, false, true, week, nil},
		{"max-age in seconds", map[string]string{rollout.TagEnabled: "true", TagMaxAge: "86400"}, true, false, 24 * time.Hour, nil},
		{"max-age as a Go duration", map[string]string{rollout.TagEnabled: "true", TagMaxAge: "36h"}, true, false, 36 * time.Hour, nil},
		{"an unreadable max-age keeps the default and is reported", map[string]string{rollout.TagEnabled: "true", TagMaxAge: "7d"}, true, false, week, []string{TagMaxAge}},
		{"a max-age under an hour keeps the default and is reported", map[string]string{rollout.TagEnabled: "true", TagMaxAge: "60"}, true, false, week, []string{TagMaxAge}},
		{"an unreadable freeze is reported", map[string]string{rollout.TagEnabled: "true", TagFreeze: "xmas"}, true, false, week, []string{TagFreeze}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := ParseSettings(tc.tags, week)
			if s.Enabled != tc.enabled || s.Recycle != tc.recycle || s.MaxAge != tc.maxAge {
				t.Errorf("got enabled %v recycle %v max age %s", s.Enabled, s.Recycle, s.MaxAge)
			}
			var tags []string
			for _, p := range s.Problems {
				tags = append(tags, p.Tag)
			}
			if strings.Join(tags, ",") != strings.Join(tc.problems, ",") {
				t.Errorf("problems %v, want on %v", s.Problems, tc.problems)
			}
		})
	}
	t.Run("the freeze tag is read and names itself", func(t *testing.T) {
		t.Parallel()
		s := ParseSettings(map[string]string{TagFreeze: "on"}, week)
		if in, why := s.Freeze.In(utc("2026-01-01T00:00:00Z")); !in || !strings.Contains(why, TagFreeze) {
			t.Fatalf("frozen %v (%q)", in, why)
		}
	})
}

func FuzzParseSettings(f *testing.F) {
	f.Add("true", "true", "168h", "")
	f.Add("yes", "nightly", "7d", "2026-12-20T00:00:00Z/2027-01-04T00:00:00Z")
	f.Fuzz(func(t *testing.T, enabled, recycle, maxAge, freeze string) {
		tags := map[string]string{rollout.TagEnabled: enabled, TagRecycle: recycle, TagMaxAge: maxAge, TagFreeze: freeze}
		s := ParseSettings(tags, DefaultMaxAge)
		if s.MaxAge < MinMaxAge || s.MaxAge > MaxMaxAge {
			t.Fatalf("max age %s from %q", s.MaxAge, maxAge)
		}
		if on, known := parseSwitch(recycle); s.Recycle != (on && known) {
			t.Fatalf("recycle %v from %q", s.Recycle, recycle)
		}
	})
}
