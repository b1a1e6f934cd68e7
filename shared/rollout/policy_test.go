package rollout

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParsePolicy(t *testing.T) {
	def := DefaultPolicy()
	cases := []struct {
		name     string
		tags     map[string]string
		check    func(t *testing.T, p Policy)
		problems []string // tags expected to be reported
	}{
		{
			name:  "a group without phoenix tags keeps the defaults and stays disabled",
			tags:  map[string]string{"team": "web"},
			check: func(t *testing.T, p Policy) { eq(t, p.Enabled, false); eq(t, p.MinHealthy, def.MinHealthy) },
		},
		{
			name: "every knob can be set by a tag",
			tags: map[string]string{
				TagEnabled: "true", TagCheckpoints: "10,50", TagMinHealthy: "80", TagMaxHealthy: "150",
				TagWarmup: "90", TagCheckpointDelay: "5m", TagBake: "1h", TagAlarms: "web-5xx, web-latency", TagGuardWindow: "3h",
			},
			check: func(t *testing.T, p Policy) {
				eq(t, p.Enabled, true)
				if !slices.Equal(p.Checkpoints, []int{10, 50, 100}) {
					t.Errorf("checkpoints = %v, want [10 50 100] (100 appended)", p.Checkpoints)
				}
				eq(t, p.MinHealthy, 80)
				eq(t, p.MaxHealthy, 150)
				eq(t, p.Warmup, 90*time.Second)
				eq(t, p.CheckpointDelay, 5*time.Minute)
				eq(t, p.Bake, time.Hour)
				eq(t, p.GuardWindow, 3*time.Hour)
				if !slices.Equal(p.Alarms, []string{"web-5xx", "web-latency"}) {
					t.Errorf("alarms = %v", p.Alarms)
				}
			},
		},
		{
			name:     "an unreadable enabled tag means disabled, never enabled",
			tags:     map[string]string{TagEnabled: "yep"},
			check:    func(t *testing.T, p Policy) { eq(t, p.Enabled, false) },
			problems: []string{TagEnabled},
		},
		{
			name:     "descending checkpoints are refused and the defaults stand",
			tags:     map[string]string{TagCheckpoints: "50,25"},
			check:    func(t *testing.T, p Policy) { eq(t, slices.Equal(p.Checkpoints, def.Checkpoints), true) },
			problems: []string{TagCheckpoints},
		},
		{
			name:     "a min healthy above 100 is refused",
			tags:     map[string]string{TagMinHealthy: "120"},
			check:    func(t *testing.T, p Policy) { eq(t, p.MinHealthy, def.MinHealthy) },
			problems: []string{TagMinHealthy},
		},
		{
			name: "max minus min above 100 falls back to the default pair",
			tags: map[string]string{TagMinHealthy: "50", TagMaxHealthy: "200"},
			check: func(t *testing.T, p Policy) {
				eq(t, p.MinHealthy, def.MinHealthy)
				eq(t, p.MaxHealthy, def.MaxHealthy)
			},
			problems: []string{TagMaxHealthy},
		},
		{
			name:     "a bake longer than AWS allows is refused",
			tags:     map[string]string{TagBake: "72h"},
			check:    func(t *testing.T, p Policy) { eq(t, p.Bake, def.Bake) },
			problems: []string{TagBake},
		},
		{
			name:     "more than ten guard alarms are refused",
			tags:     map[string]string{TagAlarms: "a,b,c,d,e,f,g,h,i,j,k"},
			check:    func(t *testing.T, p Policy) { eq(t, len(p.Alarms), 0) },
			problems: []string{TagAlarms},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, probs := ParsePolicy(tc.tags, def)
			tc.check(t, p)
			var got []string
			for _, pr := range probs {
				got = append(got, pr.Tag)
				if !strings.Contains(pr.String(), "using") {
					t.Errorf("problem %q does not say what Phoenix used instead", pr)
				}
			}
			if !slices.Equal(got, tc.problems) {
				t.Errorf("problems on %v, want %v (%v)", got, tc.problems, probs)
			}
		})
	}
}

func TestParsePolicyDoesNotShareSlicesWithTheDefaults(t *testing.T) {
	def := DefaultPolicy()
	p, _ := ParsePolicy(nil, def)
	p.Checkpoints[0] = 99
	if def.Checkpoints[0] == 99 {
		t.Fatal("changing a parsed policy changed the defaults")
	}
}

func FuzzParsePolicy(f *testing.F) {
	f.Add("true", "25,50", "90", "110", "5m")
	f.Add("", "", "", "", "")
	f.Add("x", "100,50", "-1", "300", "1e9h")
	f.Fuzz(func(t *testing.T, enabled, cps, minH, maxH, delay string) {
		p, _ := ParsePolicy(map[string]string{TagEnabled: enabled, TagCheckpoints: cps, TagMinHealthy: minH,
			TagMaxHealthy: maxH, TagCheckpointDelay: delay}, DefaultPolicy())
		if p.MinHealthy < 0 || p.MinHealthy > 100 || p.MaxHealthy < 100 || p.MaxHealthy > 200 || p.MaxHealthy-p.MinHealthy > 100 {
			t.Fatalf("unsafe healthy bounds %d/%d", p.MinHealthy, p.MaxHealthy)
		}
		if len(p.Checkpoints) == 0 || p.Checkpoints[len(p.Checkpoints)-1] != 100 || !slices.IsSorted(p.Checkpoints) {
			t.Fatalf("bad checkpoints %v", p.Checkpoints)
		}
		if p.CheckpointDelay < 0 || p.CheckpointDelay > maxDelay {
			t.Fatalf("delay %s out of bounds", p.CheckpointDelay)
		}
	})
}

func eq[T comparable](t *testing.T, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("got %v, want %v", got, want)
	}
}
