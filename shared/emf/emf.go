// Package emf writes CloudWatch embedded metric format lines: JSON log
// lines whose "_aws" member tells CloudWatch Logs which other members are
// metrics and which are their dimensions. A Lambda function writing them
// to stdout publishes metrics with no PutMetricData call, no permission
// and no added latency. The package is pure: it formats and writes, and
// knows nothing of AWS clients.
package emf

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"
)

// Namespace is the CloudWatch namespace of every metric Phoenix writes.
const Namespace = "Phoenix"

// Units Phoenix uses (CloudWatch's unit names).
const (
	UnitCount   = "Count"
	UnitSeconds = "Seconds"
	// UnitGigabytes is CloudWatch's name; Phoenix's sizes are EBS's GiB.
	UnitGigabytes = "Gigabytes"
)

// Limits of the format: CloudWatch drops a line that breaks them, so they
// are refused here, where a test can see it.
const (
	maxMetrics       = 100
	maxDimensionKeys = 30
)

// Metric is one value of a line.
type Metric struct {
	Name  string
	Unit  string
	Value float64
}

// Line is one embedded metric format log line.
type Line struct {
	Namespace string
	// Time is the metrics' timestamp: the event's or the execution's time,
	// never the wall clock, so a replayed or late event counts when it
	// happened.
	Time time.Time
	// Dimensions are the dimension values by name.
	Dimensions map[string]string
	// DimensionSets lists the combinations CloudWatch aggregates by, each a
	// list of names from Dimensions; an empty set is the rollup with no
	// dimension. Nil means one set of every dimension (sorted) plus the
	// rollup, so a single alarm can watch the total.
	DimensionSets [][]string
	Metrics       []Metric
	// Properties are further members for people reading the log (ids);
	// CloudWatch stores them with the line but makes no metric of them.
	Properties map[string]any
}

// Marshal returns the line as JSON, without the newline. It refuses a line
// CloudWatch would drop or misread: no namespace or metric, too many
// metrics or dimensions, a dimension set naming an absent dimension, a
// value that is not a finite number, or a name used twice.
func (l Line) Marshal() ([]byte, error) {
	switch {
	case l.Namespace == "":
		return nil, errors.New("emf: no namespace")
	case len(l.Metrics) == 0 || len(l.Metrics) > maxMetrics:
		return nil, fmt.Errorf("emf: %d metrics; a line holds 1 to %d", len(l.Metrics), maxMetrics)
	}
	out := make(map[string]any, 1+len(l.Metrics)+len(l.Dimensions)+len(l.Properties))
	claim := func(name string, v any) error {
		if name == "" || name == "_aws" {
			return fmt.Errorf("emf: member name %q is reserved", name)
		}
		if _, dup := out[name]; dup {
			return fmt.Errorf("emf: member %q is given twice", name)
		}
		out[name] = v
		return nil
	}
	defs := make([]metricDef, 0, len(l.Metrics))
	for _, m := range l.Metrics {
		if math.IsNaN(m.Value) || math.IsInf(m.Value, 0) {
			return nil, fmt.Errorf("emf: metric %s is %v, not a finite number", m.Name, m.Value)
		}
		if err := claim(m.Name, m.Value); err != nil {
			return nil, err
		}
		unit := m.Unit
		if unit == "" {
			unit = "None"
		}
		defs = append(defs, metricDef{Name: m.Name, Unit: unit})
	}
	for _, k := range sortedKeys(l.Dimensions) {
		if err := claim(k, l.Dimensions[k]); err != nil {
			return nil, err
		}
	}
	sets := l.DimensionSets
	switch {
	case sets == nil && len(l.Dimensions) == 0:
		sets = [][]string{{}}
	case sets == nil:
		sets = [][]string{sortedKeys(l.Dimensions), {}}
	}
	for _, set := range sets {
		if len(set) > maxDimensionKeys {
			return nil, fmt.Errorf("emf: a dimension set of %d names; at most %d", len(set), maxDimensionKeys)
		}
		for _, k := range set {
			if _, ok := l.Dimensions[k]; !ok {
				return nil, fmt.Errorf("emf: dimension set names %q, which has no value", k)
			}
		}
	}
	for _, k := range sortedKeys(l.Properties) {
		if err := claim(k, l.Properties[k]); err != nil {
			return nil, err
		}
	}
	out["_aws"] = directive{
		Timestamp: l.Time.UnixMilli(),
		CloudWatchMetrics: []metricSet{{
			Namespace:  l.Namespace,
			Dimensions: sets,
			Metrics:    defs,
		}},
	}
	return json.Marshal(out)
}

// Write writes the line and a newline to w in one call, so that lines from
// concurrent writers never interleave.
func Write(w io.Writer, l Line) error {
	b, err := l.Marshal()
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// directive is the "_aws" member.
type directive struct {
	Timestamp         int64       `json:"Timestamp"`
	CloudWatchMetrics []metricSet `json:"CloudWatchMetrics"`
}

type metricSet struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []metricDef `json:"Metrics"`
}

type metricDef struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
