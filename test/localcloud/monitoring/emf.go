package monitoring

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// Limits of the embedded metric format specification ("Specification:
// Embedded metric format" in the CloudWatch user guide and its JSON schema).
const (
	emfMaxMetrics         = 100  // MetricDefinitions per MetricDirective
	emfMaxValues          = 100  // numbers in one array-valued metric target
	emfMaxDimensionKeys   = 30   // keys in one DimensionSet
	emfMaxDimensionKeyLen = 250  // DimensionReference maxLength
	emfMaxStringLen       = 1024 // Namespace, metric Name, dimension values
)

// ErrNotEMF reports a log message that does not claim to be an embedded
// metric format document: not a JSON object, or one without an "_aws"
// member. CloudWatch Logs keeps such a message as a plain log event.
var ErrNotEMF = errors.New("emf: not an embedded metric format document")

// ExtractEMF returns the datapoints CloudWatch Logs extracts from one log
// event written in the embedded metric format, in region, each stamped with
// the document's _aws.Timestamp (milliseconds since the Unix epoch). A value
// given as an array of numbers gives one datapoint per number; every
// DimensionSet gives its own metric, the empty set one with no dimensions.
//
// A message that breaks the specification gives an error and no
// datapoints: CloudWatch Logs stores it as an ordinary log event and
// publishes none of its metrics, whichever directive is at fault. Beyond
// the specification's MUSTs and its schema, a timestamp more than two
// weeks before now or two hours after it, a value CloudWatch refuses
// (beyond ±2^360), an empty dimension value or a dimension named twice in
// one set are refused, because CloudWatch would not store such a
// datapoint.
func ExtractEMF(region, message string, now time.Time) ([]Sample, error) {
	// Most log lines are not EMF, and structured loggers make many of them
	// JSON objects: the substring test keeps them from being parsed. A
	// document spelling "_aws" with escapes is missed, a price paid for
	// reading thousands of lines per run.
	trimmed := strings.TrimSpace(message)
	if !strings.HasPrefix(trimmed, "{") || !strings.Contains(trimmed, `"_aws"`) {
		return nil, ErrNotEMF
	}
	var root map[string]json.RawMessage
	if err := json.Unmarshal([]byte(trimmed), &root); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotEMF, err)
	}
	rawMeta, ok := root["_aws"]
	if !ok {
		return nil, ErrNotEMF
	}
	// Members are case-sensitive, so objects are read as maps: decoding
	// into structs would let "timestamp" stand for "Timestamp".
	meta, err := emfObject(rawMeta, "_aws")
	if err != nil {
		return nil, err
	}
	at, err := emfTimestamp(meta["Timestamp"], now)
	if err != nil {
		return nil, err
	}
	directives, err := emfArray(meta["CloudWatchMetrics"], "_aws.CloudWatchMetrics")
	if err != nil {
		return nil, err
	}
	var out []Sample
	for i, rd := range directives {
		out, err = appendDirective(out, region, at, root, rd, fmt.Sprintf("_aws.CloudWatchMetrics[%d]", i))
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// appendDirective validates one MetricDirective and appends its datapoints.
func appendDirective(out []Sample, region string, at time.Time, root map[string]json.RawMessage, raw json.RawMessage, where string) ([]Sample, error) {
	d, err := emfObject(raw, where)
	if err != nil {
		return nil, err
	}
	ns, err := emfString(d["Namespace"], where+".Namespace", 1, emfMaxStringLen)
	if err != nil {
		return nil, err
	}
	rawSets, err := emfArray(d["Dimensions"], where+".Dimensions")
	if err != nil {
		return nil, err
	}
	if len(rawSets) == 0 {
		// The schema's minItems: a metric with no dimensions is the
		// empty set, [[]], not the absence of sets.
		return nil, fmt.Errorf("emf: %s.Dimensions holds no DimensionSet", where)
	}
	sets := make([]map[string]string, len(rawSets))
	for i, rs := range rawSets {
		if sets[i], err = emfDimensionSet(root, rs, fmt.Sprintf("%s.Dimensions[%d]", where, i)); err != nil {
			return nil, err
		}
	}
	defs, err := emfArray(d["Metrics"], where+".Metrics")
	if err != nil {
		return nil, err
	}
	if len(defs) > emfMaxMetrics {
		return nil, fmt.Errorf("emf: %s.Metrics holds %d MetricDefinitions; at most %d", where, len(defs), emfMaxMetrics)
	}
	for i, rdef := range defs {
		m := fmt.Sprintf("%s.Metrics[%d]", where, i)
		name, unit, values, err := emfMetric(root, rdef, m)
		if err != nil {
			return nil, err
		}
		for _, dims := range sets {
			for _, v := range values {
				out = append(out, Sample{Region: region, Namespace: ns, MetricName: name, Dimensions: dims, Timestamp: at, Value: v, Unit: unit})
			}
		}
	}
	return out, nil
}

// emfDimensionSet validates a DimensionSet and returns its dimensions,
// read from the root node's target members.
func emfDimensionSet(root map[string]json.RawMessage, raw json.RawMessage, where string) (map[string]string, error) {
	keys, err := emfArray(raw, where)
	if err != nil {
		return nil, err
	}
	if len(keys) > emfMaxDimensionKeys {
		return nil, fmt.Errorf("emf: %s names %d dimensions; at most %d", where, len(keys), emfMaxDimensionKeys)
	}
	dims := make(map[string]string, len(keys))
	for j, rk := range keys {
		k, err := emfString(rk, fmt.Sprintf("%s[%d]", where, j), 1, emfMaxDimensionKeyLen)
		if err != nil {
			return nil, err
		}
		if _, dup := dims[k]; dup {
			return nil, fmt.Errorf("emf: %s names dimension %q twice", where, k)
		}
		target, ok := root[k]
		if !ok {
			return nil, fmt.Errorf("emf: %s names dimension %q, which is not a member of the root node", where, k)
		}
		if dims[k], err = emfString(target, k, 1, emfMaxStringLen); err != nil {
			return nil, err
		}
	}
	return dims, nil
}

// emfMetric validates a MetricDefinition and returns the metric's name,
// unit and values, read from the root node's target member.
func emfMetric(root map[string]json.RawMessage, raw json.RawMessage, where string) (string, string, []float64, error) {
	def, err := emfObject(raw, where)
	if err != nil {
		return "", "", nil, err
	}
	name, err := emfString(def["Name"], where+".Name", 1, emfMaxStringLen)
	if err != nil {
		return "", "", nil, err
	}
	unit := string(types.StandardUnitNone)
	if ru, ok := def["Unit"]; ok {
		if unit, err = emfString(ru, where+".Unit", 1, emfMaxStringLen); err != nil {
			return "", "", nil, err
		}
		if checkUnit(types.StandardUnit(unit), where+".Unit") != nil {
			return "", "", nil, fmt.Errorf("emf: %s.Unit %q is not a CloudWatch unit", where, unit)
		}
	}
	if rr, ok := def["StorageResolution"]; ok {
		// The local cloud keeps every datapoint at its own instant, so
		// the resolution is checked but changes nothing.
		r, ok := emfNumber(rr)
		if !ok || (r != 1 && r != 60) {
			return "", "", nil, fmt.Errorf("emf: %s.StorageResolution is %s; it must be 1 or 60", where, rr)
		}
	}
	target, ok := root[name]
	if !ok {
		return "", "", nil, fmt.Errorf("emf: metric %q is not a member of the root node", name)
	}
	var values []float64
	if v, ok := emfNumber(target); ok {
		values = []float64{v}
	} else {
		items, err := emfArray(target, name)
		if err != nil {
			return "", "", nil, fmt.Errorf("emf: metric %q must be a number or an array of numbers", name)
		}
		if len(items) > emfMaxValues {
			return "", "", nil, fmt.Errorf("emf: metric %q holds %d values; at most %d", name, len(items), emfMaxValues)
		}
		values = make([]float64, len(items))
		for i, it := range items {
			if values[i], ok = emfNumber(it); !ok {
				return "", "", nil, fmt.Errorf("emf: metric %q must be a number or an array of numbers", name)
			}
		}
	}
	for _, v := range values {
		if checkValue(v, name) != nil {
			return "", "", nil, fmt.Errorf("emf: metric %q has the value %v, which CloudWatch refuses", name, v)
		}
	}
	return name, unit, values, nil
}

// emfTimestamp reads _aws.Timestamp: a whole number of milliseconds since
// the Unix epoch, within the window PutMetricData accepts around now.
func emfTimestamp(raw json.RawMessage, now time.Time) (time.Time, error) {
	if raw == nil {
		return time.Time{}, errors.New("emf: _aws.Timestamp is required")
	}
	ms, ok := emfNumber(raw)
	if !ok || ms != math.Trunc(ms) || math.Abs(ms) > 1e15 {
		return time.Time{}, fmt.Errorf("emf: _aws.Timestamp is %s; it must be a whole number of milliseconds since the epoch", raw)
	}
	at := time.UnixMilli(int64(ms)).UTC()
	if at.Before(now.Add(-maxPastTimestamp)) || at.After(now.Add(maxFutureTimestamp)) {
		return time.Time{}, fmt.Errorf("emf: _aws.Timestamp %s is more than two weeks before or two hours after %s", at.Format(time.RFC3339Nano), now.UTC().Format(time.RFC3339))
	}
	return at, nil
}

// emfKind returns the first byte of a JSON value, which tells its type; 0
// if absent.
func emfKind(raw json.RawMessage) byte {
	for _, c := range raw {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c
	}
	return 0
}

func emfObject(raw json.RawMessage, where string) (map[string]json.RawMessage, error) {
	if emfKind(raw) != '{' {
		return nil, fmt.Errorf("emf: %s must be an object", where)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("emf: %s: %w", where, err)
	}
	return m, nil
}

func emfArray(raw json.RawMessage, where string) ([]json.RawMessage, error) {
	if emfKind(raw) != '[' {
		return nil, fmt.Errorf("emf: %s must be an array", where)
	}
	var a []json.RawMessage
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, fmt.Errorf("emf: %s: %w", where, err)
	}
	return a, nil
}

// emfString reads a JSON string of min to max characters.
func emfString(raw json.RawMessage, where string, minLen, maxLen int) (string, error) {
	if emfKind(raw) != '"' {
		return "", fmt.Errorf("emf: %s must be a string", where)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("emf: %s: %w", where, err)
	}
	if n := utf8.RuneCountInString(s); n < minLen || n > maxLen {
		return "", fmt.Errorf("emf: %s must be %d to %d characters long", where, minLen, maxLen)
	}
	return s, nil
}

// emfNumber reads a JSON number; ok is false for any other type.
func emfNumber(raw json.RawMessage) (float64, bool) {
	switch c := emfKind(raw); {
	case c == '-', c >= '0' && c <= '9':
	default:
		return 0, false
	}
	var v float64
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, false
	}
	return v, true
}
