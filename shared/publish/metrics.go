package publish

import (
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/emf"
)

// metric counts one event under name, dimensioned by the event's kind.
func (s Service) metric(name string, at time.Time, ev Event) {
	s.emit(name, at, ev.ID, map[string]string{"Kind": string(ev.Kind)})
}

// metricCode counts one rejection, dimensioned by its code, so an alarm
// can watch "foreign-owner" without paging on "malformed-event".
func (s Service) metricCode(name string, at time.Time, eventID, kind, code string) {
	dims := map[string]string{"Code": code}
	if kind != "" {
		dims["Kind"] = kind
	}
	s.emit(name, at, eventID, dims)
}

// emit writes one embedded metric format line. Every dimension set also
// rolls up into a metric without dimensions, so a single alarm can watch
// every rejection. Writing fails only if Metrics is broken, which must
// not fail the event: the log line about the decision is written anyway.
func (s Service) emit(name string, at time.Time, eventID string, dims map[string]string) {
	if s.Metrics == nil {
		return
	}
	var props map[string]any
	if eventID != "" {
		props = map[string]any{"eventId": eventID}
	}
	_ = emf.Write(s.Metrics, emf.Line{
		Namespace:  MetricNamespace,
		Time:       at,
		Dimensions: dims,
		Metrics:    []emf.Metric{{Name: name, Unit: emf.UnitCount, Value: 1}},
		Properties: props,
	})
}
