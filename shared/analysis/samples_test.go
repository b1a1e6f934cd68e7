package analysis

import (
	"math"
	"testing"
	"time"
)

var at0 = time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)

// minute is the point of the period starting i minutes after at0.
func minute(i int, v float64) Point { return Point{at0.Add(time.Duration(i) * time.Minute), v} }

// analyzeOne runs Analyze on a one-metric spec, the given instances on
// each side, with series(source, metricName) as the data, and the window
// ending 10 minutes after at0.
func analyzeOne(t *testing.T, metric string, canary, baseline []string, series func(source, metricName string) []Point) MetricResult {
	t.Helper()
	s, err := ParseSpec([]byte(`{"metrics": [` + metric + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	qs, err := s.Queries(Side{Instances: canary}, Side{Instances: baseline})
	if err != nil {
		t.Fatal(err)
	}
	data := map[string][]Point{}
	for _, q := range qs {
		if pts := series(q.Source, q.MetricName); pts != nil {
			data[q.ID] = pts
		}
	}
	return s.Analyze(qs, data, at0.Add(10*time.Minute)).Metrics[0]
}

func TestPerPeriodSamplesAreTheWindowsWholePeriods(t *testing.T) {
	t.Parallel()
	metric := `{"name": "p99", "namespace": "App", "metricName": "Latency", "statistic": "p99",
	  "dimensions": {"InstanceId": "${InstanceId}"}, "direction": "increase", "minSamples": 2}`
	got := analyzeOne(t, metric, []string{"i-c"}, []string{"i-b"}, func(src, _ string) []Point {
		if src == "i-c" {
			return []Point{
				minute(-1, 100),       // before the window
				minute(0, 1),          // the window's first period
				minute(3, math.NaN()), // no value
				minute(9, 3),          // the last whole period
				minute(10, 100),       // ends after the window
				{at0.Add(9*time.Minute + 30*time.Second), 100}, // its period ends after the window
				minute(5, 2),
			}
		}
		return []Point{minute(1, 1), minute(2, 1)}
	})
	if got.N != [2]int{3, 2} || got.Center[0] != 2 || got.Sources != [2]int{1, 1} {
		t.Errorf("n=%v median=%v sources=%v, want 3 canary samples (1, 2, 3) with median 2 from one source", got.N, got.Center[0], got.Sources)
	}
}

func TestARatioCountsAQuietPeriodAsZero(t *testing.T) {
	t.Parallel()
	metric := `{"name": "errors", "namespace": "App", "metricName": "Errors", "statistic": "Sum",
	  "dimensions": {"InstanceId": "${InstanceId}"}, "per": {"metricName": "Requests"}, "direction": "increase", "minSamples": 2}`
	got := analyzeOne(t, metric, []string{"i-c"}, []string{"i-b"}, func(src, name string) []Point {
		switch {
		case name == "Requests" && src == "i-c":
			return []Point{minute(0, 100), minute(1, 100), minute(2, 0), minute(3, 200)}
		case name == "Errors" && src == "i-c":
			// minute 1 has no datapoint (no 5XX), minute 2 had no requests
			return []Point{minute(0, 10), minute(2, 5), minute(3, 10)}
		case name == "Requests":
			return []Point{minute(0, 1000), minute(1, 1000)}
		}
		return nil // the baseline answered no 5XX at all
	})
	if got.N != [2]int{3, 2} {
		t.Errorf("n = %v, want 3 canary periods with requests and 2 baseline", got.N)
	}
	if !got.Ratio || got.Center != [2]float64{20.0 / 400, 0} {
		t.Errorf("rates = %v, want [0.05 0]: total errors over total requests, the quiet period a zero", got.Center)
	}
}

func TestPerSourceSamplesAreOnePerInstance(t *testing.T) {
	t.Parallel()
	ratio := `{"name": "errors", "namespace": "App", "metricName": "Errors", "statistic": "Sum", "sample": "source",
	  "dimensions": {"InstanceId": "${InstanceId}"}, "per": {"metricName": "Requests"}, "direction": "increase"}`
	full := func(v float64) []Point {
		var pts []Point
		for i := range 10 {
			pts = append(pts, minute(i, v))
		}
		return pts
	}
	got := analyzeOne(t, ratio, []string{"i-c1", "i-c2"}, []string{"i-b1", "i-b2", "i-short"}, func(src, name string) []Point {
		switch {
		case src == "i-short":
			return full(1)[:4] // four of ten periods: not enough for one sample
		case name == "Requests":
			return full(100)
		case src == "i-c1":
			return full(2)
		case src == "i-c2":
			return full(4)
		}
		return full(1)
	})
	if got.N != [2]int{2, 2} || got.Sources != [2]int{2, 2} {
		t.Errorf("n=%v sources=%v, want one sample per instance with half its periods or more", got.N, got.Sources)
	}
	if got.Center != [2]float64{0.03, 0.01} {
		t.Errorf("rates = %v, want [0.03 0.01]", got.Center)
	}

	median := `{"name": "p99", "namespace": "App", "metricName": "Latency", "statistic": "p99", "sample": "source",
	  "dimensions": {"InstanceId": "${InstanceId}"}, "direction": "increase"}`
	got = analyzeOne(t, median, []string{"i-c1", "i-c2"}, []string{"i-b1", "i-b2"}, func(src, _ string) []Point {
		pts := full(1)
		pts[7].Value = 50 // one slow minute does not move an instance's median
		if src == "i-c2" {
			pts = full(3)
		}
		return pts
	})
	if got.Center != [2]float64{2, 1} {
		t.Errorf("medians = %v, want [2 1]: each instance's median minute, then the side's median", got.Center)
	}
}

func TestASlopeIsPerHour(t *testing.T) {
	t.Parallel()
	metric := `{"name": "leak", "namespace": "CWAgent", "metricName": "mem_used_percent", "statistic": "Average",
	  "dimensions": {"InstanceId": "${InstanceId}"}, "direction": "increase", "sample": "slope"}`
	got := analyzeOne(t, metric, []string{"i-c1", "i-c2"}, []string{"i-b1", "i-b2", "i-young"}, func(src, _ string) []Point {
		perHour := map[string]float64{"i-c1": 2, "i-c2": 4, "i-b1": 0, "i-b2": -1, "i-young": 9}[src]
		var pts []Point
		for i := range 10 {
			pts = append(pts, minute(i, 50+perHour*float64(i)/60))
		}
		if src == "i-young" {
			return pts[6:] // four points: not half the window
		}
		return pts
	})
	if got.N != [2]int{2, 2} || !near(got.Center[0], 3, 1e-9) || !near(got.Center[1], -0.5, 1e-9) {
		t.Errorf("n=%v medians=%v, want 2 and 2 slopes with medians 3 and -0.5 an hour", got.N, got.Center)
	}
	if !near(got.Shift, 3.5, 1e-9) {
		t.Errorf("shift %v, want 3.5 an hour (median of 2-0, 2+1, 4-0, 4+1)", got.Shift)
	}
}

func TestAQueryWithoutDataGivesNoSamples(t *testing.T) {
	t.Parallel()
	metric := `{"name": "p99", "namespace": "App", "metricName": "Latency", "statistic": "p99",
	  "dimensions": {"InstanceId": "${InstanceId}"}, "direction": "increase"}`
	got := analyzeOne(t, metric, []string{"i-c"}, []string{"i-b"}, func(string, string) []Point { return nil })
	if got.N != [2]int{0, 0} || got.Verdict != Inconclusive || got.Rule != RuleTooFewSamples {
		t.Errorf("got %+v, want inconclusive with no samples", got)
	}
}

func TestPointsZipsTimestampsAndValues(t *testing.T) {
	t.Parallel()
	got := Points([]time.Time{at0, at0.Add(time.Minute)}, []float64{1, 2, 3})
	if len(got) != 2 || got[1] != minute(1, 2) {
		t.Errorf("got %v", got)
	}
}
