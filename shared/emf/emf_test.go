package emf

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

var at = time.Date(2026, 1, 6, 3, 0, 0, 0, time.UTC)

// decoded is a line as CloudWatch reads it.
type decoded struct {
	AWS struct {
		Timestamp         int64
		CloudWatchMetrics []struct {
			Namespace  string
			Dimensions [][]string
			Metrics    []struct{ Name, Unit string }
		}
	} `json:"_aws"`
	rest map[string]any
}

func decode(t *testing.T, b []byte) decoded {
	t.Helper()
	var d decoded
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("line %s: %v", b, err)
	}
	if err := json.Unmarshal(b, &d.rest); err != nil {
		t.Fatal(err)
	}
	if len(d.AWS.CloudWatchMetrics) != 1 {
		t.Fatalf("line %s: want one metric directive", b)
	}
	return d
}

func TestLine(t *testing.T) {
	t.Parallel()
	t.Run("a line names its metrics, dimensions and the rollup, with the given time", func(t *testing.T) {
		t.Parallel()
		b, err := Line{
			Namespace: "Phoenix", Time: at,
			Dimensions: map[string]string{"Group": "web"},
			Metrics:    []Metric{{"InstancesOffVersion", UnitCount, 2}, {"OldestInstanceAgeSeconds", UnitSeconds, 86400}},
			Properties: map[string]any{"eventId": "ev-1"},
		}.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		d := decode(t, b)
		cw := d.AWS.CloudWatchMetrics[0]
		if d.AWS.Timestamp != at.UnixMilli() || cw.Namespace != "Phoenix" {
			t.Errorf("directive %+v", d.AWS)
		}
		if len(cw.Dimensions) != 2 || len(cw.Dimensions[0]) != 1 || cw.Dimensions[0][0] != "Group" || len(cw.Dimensions[1]) != 0 {
			t.Errorf("dimension sets %v, want [[Group] []]", cw.Dimensions)
		}
		if len(cw.Metrics) != 2 || cw.Metrics[1].Name != "OldestInstanceAgeSeconds" || cw.Metrics[1].Unit != "Seconds" {
			t.Errorf("metrics %+v", cw.Metrics)
		}
		if d.rest["Group"] != "web" || d.rest["InstancesOffVersion"] != 2.0 || d.rest["OldestInstanceAgeSeconds"] != 86400.0 || d.rest["eventId"] != "ev-1" {
			t.Errorf("members %v", d.rest)
		}
	})
	t.Run("a line without dimensions has the rollup set only", func(t *testing.T) {
		t.Parallel()
		b, err := Line{Namespace: "Phoenix", Time: at, Metrics: []Metric{{Name: "X", Value: 1}}}.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		cw := decode(t, b).AWS.CloudWatchMetrics[0]
		if len(cw.Dimensions) != 1 || len(cw.Dimensions[0]) != 0 || cw.Metrics[0].Unit != "None" {
			t.Fatalf("directive %+v", cw)
		}
	})
	t.Run("explicit dimension sets are kept in order", func(t *testing.T) {
		t.Parallel()
		b, err := Line{Namespace: "N", Time: at, Dimensions: map[string]string{"Code": "c", "Kind": "k"},
			DimensionSets: [][]string{{"Kind"}, {"Code", "Kind"}}, Metrics: []Metric{{Name: "X", Unit: UnitCount, Value: 1}}}.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		cw := decode(t, b).AWS.CloudWatchMetrics[0]
		if len(cw.Dimensions) != 2 || strings.Join(cw.Dimensions[1], ",") != "Code,Kind" {
			t.Fatalf("dimension sets %v", cw.Dimensions)
		}
	})
	refused := []struct {
		name string
		line Line
	}{
		{"a line without a namespace is refused", Line{Metrics: []Metric{{Name: "X"}}}},
		{"a line without metrics is refused", Line{Namespace: "N"}},
		{"a value that is not finite is refused", Line{Namespace: "N", Metrics: []Metric{{Name: "X", Value: math.NaN()}}}},
		{"a metric named like a dimension is refused", Line{Namespace: "N", Dimensions: map[string]string{"X": "a"}, Metrics: []Metric{{Name: "X"}}}},
		{"a property named _aws is refused", Line{Namespace: "N", Metrics: []Metric{{Name: "X"}}, Properties: map[string]any{"_aws": 1}}},
		{"a set naming an absent dimension is refused", Line{Namespace: "N", DimensionSets: [][]string{{"Group"}}, Metrics: []Metric{{Name: "X"}}}},
		{"more than 100 metrics are refused", Line{Namespace: "N", Metrics: make([]Metric, 101)}},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if b, err := tc.line.Marshal(); err == nil {
				t.Fatalf("marshalled %s", b)
			}
		})
	}
}

type brokenWriter struct{}

func (brokenWriter) Write([]byte) (int, error) { return 0, errors.New("closed") }

func TestWrite(t *testing.T) {
	t.Parallel()
	t.Run("Write ends each line with a newline, one line per call", func(t *testing.T) {
		t.Parallel()
		var buf bytes.Buffer
		l := Line{Namespace: "N", Time: at, Metrics: []Metric{{Name: "X", Unit: UnitCount, Value: 1}}}
		for range 2 {
			if err := Write(&buf, l); err != nil {
				t.Fatal(err)
			}
		}
		lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
		if len(lines) != 2 || !json.Valid([]byte(lines[0])) {
			t.Fatalf("output %q", buf.String())
		}
	})
	t.Run("Write reports a failing writer and a bad line", func(t *testing.T) {
		t.Parallel()
		if err := Write(brokenWriter{}, Line{Namespace: "N", Metrics: []Metric{{Name: "X"}}}); err == nil {
			t.Error("a failing writer went unreported")
		}
		var buf bytes.Buffer
		if err := Write(&buf, Line{}); err == nil || buf.Len() != 0 {
			t.Errorf("a bad line: err %v, wrote %q", err, buf.String())
		}
	})
}
