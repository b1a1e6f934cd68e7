package publish

import (
	"encoding/json"
	"time"
)

// emfDirective is the "_aws" member of a CloudWatch embedded metric format
// line: CloudWatch Logs extracts the named members of the line as metrics,
// with no PutMetricData call (and no permission) needed.
type emfDirective struct {
	Timestamp         int64       `json:"Timestamp"`
	CloudWatchMetrics []emfMetric `json:"CloudWatchMetrics"`
}

type emfMetric struct {
	Namespace  string       `json:"Namespace"`
	Dimensions [][]string   `json:"Dimensions"`
	Metrics    []emfMetricN `json:"Metrics"`
}

type emfMetricN struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

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
	keys := make([]string, 0, len(dims))
	for _, k := range []string{"Code", "Kind"} {
		if _, ok := dims[k]; ok {
			keys = append(keys, k)
		}
	}
	line := map[string]any{
		"_aws": emfDirective{
			Timestamp: at.UnixMilli(),
			CloudWatchMetrics: []emfMetric{{
				Namespace:  MetricNamespace,
				Dimensions: [][]string{keys, {}},
				Metrics:    []emfMetricN{{Name: name, Unit: "Count"}},
			}},
		},
		name: 1,
	}
	for k, v := range dims {
		line[k] = v
	}
	if eventID != "" {
		line["eventId"] = eventID
	}
	b, err := json.Marshal(line)
	if err != nil {
		return
	}
	_, _ = s.Metrics.Write(append(b, '\n'))
}
