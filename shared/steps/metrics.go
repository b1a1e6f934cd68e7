package steps

import (
	"maps"
	"slices"

	"github.com/phoenix-rollouts/phoenix/shared/emf"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Metric names of rollouts (docs/monitoring.md), in namespace emf.Namespace.
const (
	// MetricStarted counts rollouts whose instance refresh started.
	MetricStarted = "RolloutsStarted"
	// MetricOutcomes counts rollouts that ended, by dimension Outcome.
	MetricOutcomes = "RolloutOutcomes"
)

// outcomes names the Outcome of each notification that ends a rollout.
// The metric rides on the notification because both must happen once per
// rollout end: the steps already guard the notification against retries,
// so the count is exactly as at-least-once as the message operators read.
var outcomes = map[string]string{
	DetailSucceeded: "finalized",
	DetailPinned:    "pinned",
	DetailReverted:  "reverted",
	DetailRefused:   "refused",
	DetailAttention: "needs-human",
}

// metricLine returns the metric a notification counts, if any.
func metricLine(detailType string, r rollout.Rollout) (emf.Line, bool) {
	at := r.EndedAt
	if at.IsZero() {
		// A refusal for a foreign refresh is told before EndedAt is on
		// the record it carries; the rollout's start is the nearest time
		// the event carries, and never the wall clock.
		at = r.StartedAt
	}
	if at.IsZero() {
		return emf.Line{}, false
	}
	mode := string(r.Mode)
	if detailType == DetailStarted {
		return emf.Line{
			Namespace: emf.Namespace, Time: at,
			Dimensions:    map[string]string{"Mode": mode},
			DimensionSets: [][]string{{}, {"Mode"}},
			Metrics:       []emf.Metric{{Name: MetricStarted, Unit: emf.UnitCount, Value: 1}},
			Properties:    map[string]any{"rolloutId": r.ID},
		}, true
	}
	outcome, ok := outcomes[detailType]
	if !ok {
		return emf.Line{}, false
	}
	return emf.Line{
		Namespace: emf.Namespace, Time: at,
		Dimensions: map[string]string{"Outcome": outcome, "Mode": mode},
		// No rollup: a sum of finalized and reverted rollouts means nothing.
		DimensionSets: [][]string{{"Outcome"}, {"Outcome", "Mode"}},
		Metrics:       []emf.Metric{{Name: MetricOutcomes, Unit: emf.UnitCount, Value: 1}},
		Properties:    map[string]any{"rolloutId": r.ID},
	}, true
}

// Outcomes returns the Outcome dimension's values, sorted: what a
// dashboard or alarm on MetricOutcomes can name.
func Outcomes() []string { return slices.Sorted(maps.Values(outcomes)) }
