package publish

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Wave bounds and defaults (docs/publish.md, "Waves").
const (
	// CanaryWave is the first wave: its groups take a new image before any
	// other.
	CanaryWave = 0
	// DefaultWave is the wave of a group without phoenix:wave: after the
	// canaries, so that tagging one group as a canary is all it takes.
	DefaultWave = 1
	// MaxWave bounds phoenix:wave; ten waves are more than a fleet needs,
	// and a bound keeps a typo (100 for 10) from hiding a group at the end.
	MaxWave = 9
	// DefaultMaxInFlight is how many groups roll at once when nothing is
	// configured.
	DefaultMaxInFlight = 5
	// MaxMaxInFlight is the most groups one batch may hold: an inline Map
	// state runs at most 40 iterations at once.
	MaxMaxInFlight = 40
	// MaxCampaignGroups bounds one campaign, which keeps its execution
	// input far below the 256 KiB Step Functions accepts (about 1 KiB per
	// group) and its history below 25,000 events (about 12 per group).
	MaxCampaignGroups = 200
)

// ParseWave reads a group's phoenix:wave: a whole number from 0
// (CanaryWave) to MaxWave; DefaultWave when the tag is absent. An
// unreadable value is an error and the group is skipped: guessing its wave
// could roll a production group before the canaries.
func ParseWave(tags map[string]string) (int, error) {
	v, ok := tags[TagWave]
	if !ok {
		return DefaultWave, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < CanaryWave || n > MaxWave {
		return 0, fmt.Errorf("tag %s=%q is not a whole number from %d to %d", TagWave, v, CanaryWave, MaxWave)
	}
	return n, nil
}

// Wave is the groups of one wave.
type Wave struct {
	Number int                `json:"wave"`
	Groups []rollout.GroupKey `json:"targets"`
}

// Batch is the groups that roll at once: all of a wave's, or a slice of at
// most max-in-flight of them. A campaign runs its batches one after the
// other and stops after the first batch in which a group did not finalize.
type Batch struct {
	Wave   int                `json:"wave"`
	Index  int                `json:"batch"`
	Groups []rollout.GroupKey `json:"targets"`
}

// Plan is the order in which a campaign rolls its targets.
type Plan struct {
	Waves   []Wave  `json:"waves"`
	Batches []Batch `json:"batches"`
}

// Len returns the number of groups in the plan, a blue/green pair
// counting once (its first group by name stands for it).
func (p Plan) Len() int {
	n := 0
	for _, w := range p.Waves {
		n += len(w.Groups)
	}
	return n
}

// PlanWaves orders targets into waves, lowest first, groups by name within
// a wave, and cuts each wave into batches of at most maxInFlight groups
// (DefaultMaxInFlight when zero or less; capped at MaxMaxInFlight). A
// batch never mixes waves, so wave N+1 starts only after every batch of
// wave N ended with every group finalized.
func PlanWaves(targets []Target, maxInFlight int) Plan {
	maxInFlight = ClampInFlight(maxInFlight)
	byWave := map[int][]rollout.GroupKey{}
	for _, t := range targets {
		byWave[t.Wave] = append(byWave[t.Wave], t.Group)
	}
	numbers := make([]int, 0, len(byWave))
	for n := range byWave {
		numbers = append(numbers, n)
	}
	sort.Ints(numbers)
	var p Plan
	for _, n := range numbers {
		groups := byWave[n]
		sort.Slice(groups, func(i, j int) bool { return lessKey(groups[i], groups[j]) })
		p.Waves = append(p.Waves, Wave{Number: n, Groups: groups})
		for start := 0; start < len(groups); start += maxInFlight {
			p.Batches = append(p.Batches, Batch{Wave: n, Index: len(p.Batches), Groups: groups[start:min(start+maxInFlight, len(groups))]})
		}
	}
	return p
}

// ClampInFlight brings a max-in-flight setting into 1..MaxMaxInFlight,
// DefaultMaxInFlight when unset.
func ClampInFlight(n int) int {
	switch {
	case n <= 0:
		return DefaultMaxInFlight
	case n > MaxMaxInFlight:
		return MaxMaxInFlight
	}
	return n
}
