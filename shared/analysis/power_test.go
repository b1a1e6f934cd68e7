package analysis

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"
)

// The power simulation: the default spec against a synthetic fleet of 20
// instances, 2 on the canary image (10%) and 18 on the baseline, through
// the same path the rollout will take (Queries, datapoints by query ID,
// Analyze). docs/analysis.md reports what it measures and how the world is
// modelled; the real measurement on the local cloud comes later.
//
// PHOENIX_ANALYSIS_TRIALS raises the trial counts for a closer estimate.

// workload is the synthetic fleet's behaviour.
type workload struct {
	instances, canaries int
	minutes             int     // of data before the analysis, per instance
	rps                 float64 // requests per second per instance
	errorRate           float64 // baseline share of requests answered 5XX
	p99, average        float64 // baseline latency, seconds
	// Spread between instances of the same image (log-normal sigmas):
	// some hosts are slower or see a worse mix, and stay so.
	errorSpread, latencySpread float64
	// Noise from minute to minute (log-normal sigmas) of an instance's
	// p99 and average, and minute-to-minute swings every instance shares.
	p99Noise, averageNoise, commonLatency, commonTraffic float64
	// Memory: each instance's level (mean, spread between instances, in
	// percent), its own drift (percentage points an hour, spread), and
	// the noise of one minute's average.
	memory, memorySpread, driftSpread, memoryNoise float64
}

// reference is the workload docs/analysis.md describes.
var reference = workload{
	instances: 20, canaries: 2, minutes: 30,
	rps: 10, errorRate: 0.01, p99: 0.25, average: 0.08,
	errorSpread: 0.1, latencySpread: 0.05,
	p99Noise: 0.15, averageNoise: 0.05, commonLatency: 0.05, commonTraffic: 0.1,
	memory: 55, memorySpread: 8, driftSpread: 0.25, memoryNoise: 0.3,
}

// regression is what the canary image does differently.
type regression struct {
	errors  float64 // factor on the 5XX rate
	latency float64 // factor on latency
	leak    float64 // percentage points of memory an hour
}

var identical = regression{errors: 1, latency: 1}

// checkpoint simulates one analysis: the canary instances served w.minutes
// before it.
func (w workload) checkpoint(spec Spec, reg regression, r *rand.Rand) Result {
	end := time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)
	start := end.Add(-time.Duration(w.minutes) * time.Minute)
	var canary, baseline Side
	ids := make([]string, w.instances)
	for i := range ids {
		ids[i] = fmt.Sprintf("i-%017d", i)
		if i < w.canaries {
			canary.Instances = append(canary.Instances, ids[i])
		} else {
			baseline.Instances = append(baseline.Instances, ids[i])
		}
	}
	traffic := make([]float64, w.minutes)
	common := make([]float64, w.minutes)
	for t := range traffic {
		traffic[t] = math.Exp(w.commonTraffic * r.NormFloat64())
		common[t] = math.Exp(w.commonLatency * r.NormFloat64())
	}
	type series struct{ requests, errors, p99, average, memory []Point }
	byInstance := map[string]series{}
	for i, id := range ids {
		rg := identical
		if i < w.canaries {
			rg = reg
		}
		errFactor := math.Exp(w.errorSpread * r.NormFloat64())
		latFactor := math.Exp(w.latencySpread * r.NormFloat64())
		level := w.memory + w.memorySpread*r.NormFloat64()
		drift := w.driftSpread * r.NormFloat64()
		var s series
		for t := range w.minutes {
			at := start.Add(time.Duration(t) * time.Minute)
			req := poisson(r, w.rps*60*traffic[t])
			s.requests = append(s.requests, Point{at, req})
			if e := poisson(r, req*w.errorRate*errFactor*rg.errors); e > 0 {
				// ELB-style: no datapoint for a minute without a 5XX
				s.errors = append(s.errors, Point{at, e})
			}
			lat := latFactor * common[t] * rg.latency
			s.p99 = append(s.p99, Point{at, w.p99 * lat * math.Exp(w.p99Noise*r.NormFloat64())})
			s.average = append(s.average, Point{at, w.average * lat * math.Exp(w.averageNoise*r.NormFloat64())})
			hours := float64(t) / 60
			s.memory = append(s.memory, Point{at, level + (drift+rg.leak)*hours + w.memoryNoise*r.NormFloat64()})
		}
		byInstance[id] = s
	}
	queries, err := spec.Queries(canary, baseline)
	if err != nil {
		panic(err)
	}
	data := map[string][]Point{}
	for _, q := range queries {
		s := byInstance[q.Source]
		switch {
		case q.MetricName == "RequestCount":
			data[q.ID] = s.requests
		case q.MetricName == "HTTPCode_Target_5XX_Count":
			data[q.ID] = s.errors
		case q.MetricName == "TargetResponseTime" && q.Stat == "p99":
			data[q.ID] = s.p99
		case q.MetricName == "TargetResponseTime" && q.Stat == "Average":
			data[q.ID] = s.average
		case q.MetricName == "mem_used_percent":
			data[q.ID] = s.memory
		default:
			panic("the simulation has no data for " + q.MetricName)
		}
	}
	return spec.Analyze(queries, data, end)
}

// poisson draws from a Poisson distribution: by inversion for small
// means, by the normal approximation for large ones.
func poisson(r *rand.Rand, mean float64) float64 {
	if mean > 100 {
		return math.Max(0, math.Round(mean+math.Sqrt(mean)*r.NormFloat64()))
	}
	limit, k, p := math.Exp(-mean), 0.0, r.Float64()
	for p > limit {
		p *= r.Float64()
		k++
	}
	return k
}

// rates runs trials checkpoints and counts verdicts, overall and per
// metric.
type rates struct {
	trials      int
	fail, incon int
	metricFail  map[string]int
	metricIncon map[string]int
	metricOrder []string
}

func measure(w workload, spec Spec, reg regression, trials int, seed uint64) rates {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	out := rates{trials: trials, metricFail: map[string]int{}, metricIncon: map[string]int{}}
	for _, m := range spec.Metrics {
		out.metricOrder = append(out.metricOrder, m.Name)
	}
	for range trials {
		res := w.checkpoint(spec, reg, r)
		switch res.Verdict {
		case Fail:
			out.fail++
		case Inconclusive:
			out.incon++
		}
		for _, m := range res.Metrics {
			switch m.Verdict {
			case Fail:
				out.metricFail[m.Name]++
			case Inconclusive:
				out.metricIncon[m.Name]++
			}
		}
	}
	return out
}

func (r rates) failRate() float64  { return float64(r.fail) / float64(r.trials) }
func (r rates) inconRate() float64 { return float64(r.incon) / float64(r.trials) }

func (r rates) String() string {
	s := fmt.Sprintf("fail %.2f%%, inconclusive %.2f%% of %d;", 100*r.failRate(), 100*r.inconRate(), r.trials)
	for _, name := range r.metricOrder {
		s += fmt.Sprintf(" %s fails %.2f%%", name, 100*float64(r.metricFail[name])/float64(r.trials))
		if n := r.metricIncon[name]; n > 0 {
			s += fmt.Sprintf(" (inconclusive %.2f%%)", 100*float64(n)/float64(r.trials))
		}
		s += ";"
	}
	return s
}

func trials(t *testing.T, n int) int {
	t.Helper()
	if v, err := strconv.Atoi(os.Getenv("PHOENIX_ANALYSIS_TRIALS")); err == nil && v > 0 {
		return v
	}
	if testing.Short() {
		return n / 5
	}
	return n
}

func TestDefaultSpecMeetsThePowerTargetsOnTheSyntheticFleet(t *testing.T) {
	t.Parallel()
	spec := DefaultSpec()
	early := reference
	early.minutes = 12 // the error and latency windows and the lag, not memory's
	cases := []struct {
		name    string
		w       workload
		reg     regression
		trials  int
		atMost  float64 // overall fail rate, for identical images
		atLeast float64 // overall fail rate, for a regression
	}{
		{"identical images rarely fail (false alarm under 1%)", reference, identical, 2000, 0.01, 0},
		{"a 2x error rate fails (over 95%)", reference, regression{errors: 2, latency: 1}, 500, 1, 0.95},
		{"a 1.5x latency fails (over 95%)", reference, regression{errors: 1, latency: 1.5}, 500, 1, 0.95},
		{"a 2%-an-hour memory leak fails (over 95%)", reference, regression{errors: 1, latency: 1, leak: 2}, 500, 1, 0.95},
		{"a 2x error rate fails 12 minutes in, before memory's window fills", early, regression{errors: 2, latency: 1}, 500, 1, 0.95},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := measure(c.w, spec, c.reg, trials(t, c.trials), uint64(100+i))
			t.Logf("%s", got)
			if f := got.failRate(); f > c.atMost || f < c.atLeast {
				t.Errorf("fail rate %.2f%%, want between %.0f%% and %.0f%%", 100*f, 100*c.atLeast, 100*c.atMost)
			}
		})
	}
	t.Run("identical images 12 minutes in are inconclusive: memory-growth needs 30 minutes", func(t *testing.T) {
		t.Parallel()
		got := measure(early, spec, identical, 50, 99)
		if got.incon != got.trials || got.metricIncon["memory-growth"] != got.trials {
			t.Errorf("%s", got)
		}
	})
}

// BenchmarkDefaultSpecSensitivity measures what docs/analysis.md reports
// beyond the reference fleet: instances that differ twice as much, 5
// canaries instead of 2, and per-period samples instead of per-source ones.
// It reports figures, it judges nothing, so it is a benchmark (make bench);
// PHOENIX_ANALYSIS_TRIALS sets the trials (default 1000; 5000 reproduces the
// doc's figures: identical images get that many trials, regressions a
// fifth).
func BenchmarkDefaultSpecSensitivity(b *testing.B) {
	n, err := strconv.Atoi(os.Getenv("PHOENIX_ANALYSIS_TRIALS"))
	if err != nil || n <= 0 {
		n = 1000
	}
	wide := reference
	wide.errorSpread, wide.latencySpread, wide.driftSpread = 0.2, 0.1, 0.5
	wide5 := wide
	wide5.canaries = 5
	perPeriod := DefaultSpec()
	for i := range perPeriod.Metrics[:3] {
		perPeriod.Metrics[i].Sample, perPeriod.Metrics[i].MinSamples = PerPeriod, 10
	}
	perPeriod.Metrics[0].Tolerance = 0.4
	regressions := []struct {
		name string
		reg  regression
	}{
		{"identical", identical}, {"2x errors", regression{errors: 2, latency: 1}},
		{"1.5x latency", regression{errors: 1, latency: 1.5}}, {"2%/h leak", regression{errors: 1, latency: 1, leak: 2}},
	}
	for _, c := range []struct {
		name string
		w    workload
		spec Spec
	}{
		{"reference, default spec", reference, DefaultSpec()},
		{"wide spread, default spec", wide, DefaultSpec()},
		{"wide spread, 5 canaries of 20, default spec", wide5, DefaultSpec()},
		{"reference, per-period samples", reference, perPeriod},
		{"wide spread, per-period samples", wide, perPeriod},
	} {
		for i, r := range regressions {
			trials := n
			if i > 0 {
				trials = max(1, n/5)
			}
			fmt.Printf("%s, %s: %s\n", c.name, r.name, measure(c.w, c.spec, r.reg, trials, uint64(200+i)))
		}
	}
	for b.Loop() {
	}
}
