package bluegreen

import (
	"fmt"
	"strconv"
	"strings"
)

// DefaultSteps are the traffic steps when a pair has no
// phoenix:traffic-steps tag.
var DefaultSteps = []int{10, 50, 100}

// MaxSteps bounds the steps of one rollout: each is a shift, a wait and a
// validation, and the execution's history is finite.
const MaxSteps = 10

// ParseSteps reads phoenix:traffic-steps: percentages from 1 to 100,
// separated by commas or spaces, strictly increasing, ending at 100, at
// most MaxSteps of them. Empty means DefaultSteps.
func ParseSteps(v string) ([]int, error) {
	// Not rollout.SplitList: it drops repeats, and "10,10,100" is a typo
	// to refuse, not to read as "10,100".
	fields := strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == ';' })
	if len(fields) == 0 {
		return append([]int(nil), DefaultSteps...), nil
	}
	if len(fields) > MaxSteps {
		return nil, fmt.Errorf("%s has %d steps; at most %d", TagTrafficSteps, len(fields), MaxSteps)
	}
	out := make([]int, 0, len(fields))
	for _, f := range fields {
		n, err := strconv.Atoi(strings.TrimSuffix(f, "%"))
		switch {
		case err != nil || n < 1 || n > 100:
			return nil, fmt.Errorf("%s: %q is not a percentage from 1 to 100", TagTrafficSteps, f)
		case len(out) > 0 && n <= out[len(out)-1]:
			return nil, fmt.Errorf("%s: %d after %d; steps must increase", TagTrafficSteps, n, out[len(out)-1])
		}
		out = append(out, n)
	}
	if out[len(out)-1] != 100 {
		return nil, fmt.Errorf("%s ends at %d%%; the last step must be 100", TagTrafficSteps, out[len(out)-1])
	}
	return out, nil
}

// ScaleDownAllowed reports whether the old group may be scaled to zero:
// only once the new group serves 100% and has at least floor instances in
// service and healthy, so that capacity serving traffic never falls below
// floor: the live group's desired capacity when the rollout started
// (docs/blue-green.md).
func ScaleDownAllowed(newShare float64, newHealthy, floor int) bool {
	return newShare >= 100 && newHealthy >= floor
}
