package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
)

// The generator's own rules, checked without a cloud: a fault campaign is
// only worth its seeds if each seed always means the same scenario, if the
// seeds together cover every ingredient, and if every scenario can end.

func TestTheSameSeedAlwaysGivesTheSameScenario(t *testing.T) {
	t.Parallel()
	distinct := map[string]bool{}
	for seed := uint64(1); seed <= 300; seed++ {
		a, b := generate(seed).String(), generate(seed).String()
		if a != b {
			t.Fatalf("seed %d gave two plans:\n%s\n%s", seed, a, b)
		}
		distinct[strings.SplitN(a, "\n", 2)[1]] = true
	}
	if len(distinct) < 295 {
		t.Errorf("300 seeds gave only %d distinct scenarios", len(distinct))
	}
}

func TestTheFirstSeedsCoverEveryIngredient(t *testing.T) {
	t.Parallel()
	seen := map[string]int{}
	for seed := uint64(1); seed <= 200; seed++ {
		sc := generate(seed)
		roles := map[string]int{}
		for _, g := range sc.groups {
			seen[fmt.Sprintf("a group of %d", g.size)]++
			seen["a group on version "+g.version]++
			roles[g.role]++
			if g.alarm != "" {
				seen["a group with a guard alarm"]++
			}
			if g.recycled {
				seen["a group recycled at night"]++
			}
			if g.shares != "" {
				seen["two groups sharing a launch template"]++
				if g.role == sc.group(g.shares).role {
					seen["two groups sharing a launch template and a role"]++
				}
			}
			for _, k := range []string{"phoenix:min-healthy", "phoenix:checkpoints", "phoenix:bake"} {
				seen[k+"="+g.tags[k]]++
			}
		}
		for _, n := range roles {
			if n > 1 {
				seen["two groups sharing a role"]++
			}
		}
		seen[fmt.Sprintf("%d groups", len(sc.groups))]++
		lc := sc.lifecycle
		seen["a lifecycle run every "+lc.every.String()]++
		seen[fmt.Sprintf("keep %d versions", lc.keepVersions)]++
		seen[fmt.Sprintf("keep %d rollback versions", lc.keepRollback)]++
		seen[fmt.Sprintf("at most %d actions a run", lc.maxActions)]++
		for _, w := range []time.Duration{lc.deprecateAfter, lc.disableAfter, lc.deregisterAfter} {
			seen["a stage wait of "+w.String()]++
		}
		if lc.deprecateAfter+lc.disableAfter+lc.deregisterAfter <= 30*time.Minute {
			seen["every stage within 30 minutes"]++
		}
		if lc.roleOnFirstImages {
			seen["the groups' first images carry their role"]++
		}
		starts := map[string]int{}
		for _, a := range sc.actions {
			seen[string(a.kind)]++
			switch a.kind {
			case actStart, actPublish:
				label := a.image
				if strings.HasPrefix(label, behDegrade) {
					label = behDegrade
				}
				seen["an image "+label]++
				starts[a.group]++
				if strings.HasSuffix(a.id, "b") {
					seen["a second image for a group a moment later"]++
				}
			case actHalt:
				if a.group == "" {
					seen["a global halt"]++
				} else {
					seen["a group's halt"]++
				}
			case actFault:
				seen["fault "+string(a.fault.Kind)]++
				switch a.id {
				case "lifecycle-fn":
					seen["lifecycle "+string(a.fault.Kind)]++
				case "lifecycle-api":
					seen["lifecycle "+string(a.fault.Kind)+" on a call"]++
				}
			case actKeep:
				seen[a.id]++
			case actScale:
				if a.size == 0 {
					seen["a group scaled to 0"]++
				} else {
					seen["a group scaled from 0"]++
				}
			case actChaos:
				if a.rule == ruleLifecycle {
					seen["the lifecycle's schedule delivered twice"]++
					continue
				}
				if a.chaos.Drop > 0 {
					seen["events dropped"]++
				}
				if a.chaos.Duplicate > 0 {
					seen["events duplicated"]++
				}
				if a.chaos.Delay > 0 {
					seen["events delayed"]++
				}
			}
		}
	}
	want := []string{
		"a group of 0", "a group of 1", "a group of 2", "a group of 4", "a group of 6", "1 groups", "2 groups", "3 groups",
		"a group on version 1", "a group on version $Latest", "a group on version $Default", "a group with a guard alarm", "a group recycled at night",
		"two groups sharing a role", "phoenix:min-healthy=0", "phoenix:min-healthy=100", "phoenix:checkpoints=100", "phoenix:bake=0",
		"start", "publish", "alarm", "halt", "resume", "fault", "heal", "chaos", "calm",
		"an image healthy", "an image unhealthy", "an image fail-launch", "an image slow-boot", "an image flaky", "an image degrade-after:",
		"a second image for a group a moment later", "a global halt", "a group's halt",
		"events dropped", "events duplicated", "events delayed",
		"two groups sharing a launch template", "two groups sharing a launch template and a role", "a group scaled to 0", "a group scaled from 0",
		"a lifecycle run every 20m0s", "a lifecycle run every 30m0s", "a lifecycle run every 1h0m0s",
		"keep 1 versions", "keep 5 versions", "keep 0 rollback versions", "keep 3 rollback versions", "at most 1 actions a run", "at most 500 actions a run",
		"a stage wait of 0s", "a stage wait of 3h0m0s", "every stage within 30 minutes", "the groups' first images carry their role",
		"hand-default", "undo-default", "hand-launch", "hand-terminate", "keep-image", "keep-template", "reroll",
		"lifecycle function-crash", "lifecycle function-timeout", "lifecycle throttle on a call", "lifecycle server-error on a call",
		"the lifecycle's schedule delivered twice",
	}
	for _, k := range faults.Kinds {
		if k != faults.Latency { // wall-clock latency changes nothing on a stepped clock
			want = append(want, "fault "+string(k))
		}
	}
	for _, w := range want {
		if seen[w] < 3 {
			t.Errorf("seeds 1-200 hold %q %d times, want at least 3", w, seen[w])
		}
	}
}

func TestEveryScenarioCanEnd(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= 500; seed++ {
		sc := generate(seed)
		if h := sc.horizon(); h > 5*time.Hour {
			t.Errorf("seed %d: last action at +%s, want within 5h", seed, h)
		}
		if sc.sampleEvery < 30*time.Second || sc.sampleEvery > 60*time.Second {
			t.Errorf("seed %d: the fleet is sampled every %s, want 30-60 s", seed, sc.sampleEvery)
		}
		// Every fault, chaos and halt is undone later, and bounded until
		// then, so that the run can quiesce.
		open := map[string]action{}
		for _, a := range sc.actions {
			switch a.kind {
			case actFault, actChaos, actHalt, actHandDefault:
				open[string(a.kind)+a.id] = a
				if a.kind == actFault {
					r := a.fault
					if !r.Kind.API() {
						r.Target = "resolved-at-run-time"
					}
					if err := r.Validate(); err != nil {
						t.Errorf("seed %d: fault %s: %v", seed, a.id, err)
					}
					if r.Times == 0 {
						t.Errorf("seed %d: fault %s fires without bound", seed, a.id)
					}
				}
			case actHeal:
				delete(open, string(actFault)+a.id)
			case actCalm:
				delete(open, string(actChaos)+a.id)
			case actResume:
				delete(open, string(actHalt)+a.id)
			case actUndoDefault:
				delete(open, string(actHandDefault)+a.id)
			}
		}
		for _, a := range open {
			t.Errorf("seed %d: %s is never undone", seed, a.describe(sc))
		}
		// A group scaled ends at the size it was made with.
		last := map[string]int{}
		for _, a := range sc.actions {
			if a.kind == actScale {
				last[a.group] = a.size
			}
		}
		for g, size := range last {
			if size != sc.group(g).size {
				t.Errorf("seed %d: %s is left at %d instances, not the %d it was made with", seed, g, size, sc.group(g).size)
			}
		}
	}
}
