package analysis

import (
	"math"
	"slices"
	"time"
)

// Point is one datapoint: the start of its period and its value.
type Point struct {
	Time  time.Time
	Value float64
}

// Points zips a MetricDataResult's Timestamps and Values.
func Points(times []time.Time, values []float64) []Point {
	n := min(len(times), len(values))
	out := make([]Point, n)
	for i := range n {
		out[i] = Point{Time: times[i], Value: values[i]}
	}
	return out
}

// Sample is one side's samples of one metric.
type Sample struct {
	Values []float64
	// Num and Den are a ratio metric's totals over the side: its rate is
	// Num/Den, each period weighted by its requests.
	Num, Den float64
	// Sources counts the sources that gave at least one sample.
	Sources int
}

// Analyze judges one checkpoint. data holds what GetMetricData returned
// for queries, by query ID (a query without an entry returned nothing);
// each metric keeps the datapoints whose whole period lies in its window,
// the WindowSeconds before end (Range's end).
func (s Spec) Analyze(queries []Query, data map[string][]Point, end time.Time) Result {
	results := make([]MetricResult, 0, len(s.Metrics))
	for _, m := range s.Metrics {
		var canary, baseline Sample
		for _, q := range queries {
			if q.Metric != m.Name || q.Denominator {
				continue
			}
			var den []Point
			if m.Per != nil {
				den = data[denominatorID(q.ID)]
			}
			side := &baseline
			if q.Canary {
				side = &canary
			}
			m.add(side, data[q.ID], den, end)
		}
		results = append(results, m.Compare(s.Alpha, canary, baseline))
	}
	return s.Score(results)
}

func denominatorID(valueID string) string { return valueID[:len(valueID)-1] + "d" }

// add forms one source's samples into side.
func (m Metric) add(side *Sample, values, den []Point, end time.Time) {
	start := end.Add(-time.Duration(m.WindowSeconds) * time.Second)
	period := time.Duration(m.PeriodSeconds) * time.Second
	in := func(p Point) bool {
		return !p.Time.Before(start) && !p.Time.Add(period).After(end) && !math.IsNaN(p.Value) && !math.IsInf(p.Value, 0)
	}
	before := len(side.Values)
	switch {
	case m.Per != nil:
		// A count published only when non-zero (ELB's HTTPCode_* metrics)
		// has no datapoint for a quiet period: with requests in the
		// period, that is a zero.
		num := map[int64]float64{}
		for _, p := range values {
			if in(p) {
				num[p.Time.Unix()] += p.Value
			}
		}
		var rates []float64
		var sn, sd float64
		for _, d := range sortedPoints(den) {
			if !in(d) || d.Value <= 0 {
				continue
			}
			n := num[d.Time.Unix()]
			rates = append(rates, n/d.Value)
			sn += n
			sd += d.Value
		}
		if m.Sample == PerSource {
			if !m.enough(len(rates)) {
				break
			}
			rates = []float64{sn / sd}
		}
		side.Values = append(side.Values, rates...)
		side.Num += sn
		side.Den += sd
	case m.Sample == Slope || m.Sample == PerSource:
		var kept []Point
		for _, p := range sortedPoints(values) {
			if in(p) {
				kept = append(kept, p)
			}
		}
		switch {
		case !m.enough(len(kept)):
		case m.Sample == Slope:
			side.Values = append(side.Values, slopePerHour(kept))
		default:
			vs := make([]float64, len(kept))
			for i, p := range kept {
				vs[i] = p.Value
			}
			side.Values = append(side.Values, median(vs))
		}
	default:
		for _, p := range sortedPoints(values) {
			if in(p) {
				side.Values = append(side.Values, p.Value)
			}
		}
	}
	if len(side.Values) > before {
		side.Sources++
	}
}

func sortedPoints(points []Point) []Point {
	s := slices.Clone(points)
	slices.SortStableFunc(s, func(a, b Point) int { return a.Time.Compare(b.Time) })
	return s
}

// slopePerHour is the least-squares slope of points, per hour.
func slopePerHour(points []Point) float64 {
	t0 := points[0].Time
	var st, sv float64
	for _, p := range points {
		st += p.Time.Sub(t0).Hours()
		sv += p.Value
	}
	n := float64(len(points))
	mt, mv := st/n, sv/n
	var sxy, sxx float64
	for _, p := range points {
		dt := p.Time.Sub(t0).Hours() - mt
		sxy += dt * (p.Value - mv)
		sxx += dt * dt
	}
	if sxx == 0 {
		return 0
	}
	return sxy / sxx
}

// enough says whether a source with n datapoints in the window makes one
// sample of a PerSource or Slope metric: it needs half the window's
// periods, and a slope at least 3.
func (m Metric) enough(n int) bool {
	expected := m.WindowSeconds / m.PeriodSeconds
	least := (expected + 1) / 2
	if m.Sample == Slope {
		least = max(least, 3)
	}
	return n >= max(least, 1)
}
