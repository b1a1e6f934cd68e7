package analysis

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// draw is a distribution of samples.
type draw func(r *rand.Rand) float64

func lognormal(median, sigma float64) draw {
	return func(r *rand.Rand) float64 { return median * math.Exp(sigma*r.NormFloat64()) }
}

func poissonOf(mean float64) draw {
	return func(r *rand.Rand) float64 { return poisson(r, mean) }
}

func sample(r *rand.Rand, d draw, n int) Sample {
	s := Sample{Sources: n}
	for range n {
		s.Values = append(s.Values, d(r))
	}
	return s
}

// failRate is how often m fails canary samples from c against baseline
// samples from b.
func failRate(m Metric, alpha float64, c, b draw, nc, nb, trials int, seed uint64) float64 {
	r := rand.New(rand.NewPCG(seed, 17))
	fails := 0
	for range trials {
		if m.Compare(alpha, sample(r, c, nc), sample(r, b, nb)).Verdict == Fail {
			fails++
		}
	}
	return float64(fails) / float64(trials)
}

// untolerant fails on significance alone: its false-alarm rate is the
// test's own size.
func untolerant(d Direction) Metric {
	return Metric{Name: "m", Direction: d, MinSamples: 2, Sample: PerPeriod}
}

func TestOnIdenticalDistributionsTheTestFailsAtAboutAlpha(t *testing.T) {
	t.Parallel()
	n := trials(t, 4000)
	cases := []struct {
		name   string
		d      draw
		nc, nb int
		dir    Direction
		alpha  float64
		// the exact test on few samples, or on ties, can only be at or
		// below alpha: its attainable p-values are steps
		atMostAlpha bool
	}{
		{"lognormal latencies, 20 against 180 (normal), one-sided, alpha 0.05", lognormal(0.25, 0.3), 20, 180, Increase, 0.05, false},
		{"lognormal latencies, 20 against 180 (normal), one-sided, alpha 0.01", lognormal(0.25, 0.3), 20, 180, Increase, 0.01, false},
		{"lognormal latencies, 20 against 180 (normal), two-sided, alpha 0.05", lognormal(0.25, 0.3), 20, 180, Either, 0.05, false},
		{"Poisson error counts with ties, 20 against 180 (normal), alpha 0.05", poissonOf(3), 20, 180, Increase, 0.05, false},
		{"lognormal, 10 against 10 (exact), alpha 0.05", lognormal(1, 0.5), 10, 10, Increase, 0.05, true},
		{"Poisson counts with many ties, 8 against 12 (exact), alpha 0.05", poissonOf(1), 8, 12, Decrease, 0.05, true},
		{"two against eighteen (exact), alpha 0.01: 1/190 at most", lognormal(1, 0.5), 2, 18, Increase, 0.01, true},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := failRate(untolerant(c.dir), c.alpha, c.d, c.d, c.nc, c.nb, n, uint64(i))
			se := math.Sqrt(c.alpha * (1 - c.alpha) / float64(n))
			lo, hi := c.alpha-4*se, c.alpha+4*se
			if c.atMostAlpha {
				lo = 0
			}
			t.Logf("false-alarm rate %.4f at alpha %.2f", got, c.alpha)
			if got < lo || got > hi {
				t.Errorf("false-alarm rate %.4f, want within [%.4f, %.4f]", got, lo, hi)
			}
		})
	}
}

func TestTheToleranceKeepsTinySignificantChangesFromFailing(t *testing.T) {
	t.Parallel()
	// 40 against 360 quiet samples find a 3% shift significant most of
	// the time; a 20% tolerance keeps it a pass.
	m := untolerant(Increase)
	shifted, base := lognormal(0.2575, 0.05), lognormal(0.25, 0.05)
	bare := failRate(m, 0.01, shifted, base, 40, 360, 1000, 1)
	m.Tolerance = 0.2
	tolerant := failRate(m, 0.01, shifted, base, 40, 360, 1000, 1)
	t.Logf("a 3%% shift fails %.3f without tolerance, %.3f with 20%%", bare, tolerant)
	if bare < 0.5 || tolerant != 0 {
		t.Errorf("a 3%% shift fails %.3f without tolerance and %.3f with 20%%, want most and none", bare, tolerant)
	}
}

func TestDetectionRisesWithTheNumberOfSamples(t *testing.T) {
	t.Parallel()
	// A 1.3x latency (lognormal, sigma 0.3) with a 10% tolerance, 1 canary
	// sample for every 9 of the baseline.
	m := untolerant(Increase)
	m.Tolerance = 0.1
	prev := -1.0
	var rates []string
	for i, nc := range []int{3, 6, 12, 24, 48} {
		got := failRate(m, 0.01, lognormal(0.325, 0.3), lognormal(0.25, 0.3), nc, 9*nc, trials(t, 1000), uint64(i))
		rates = append(rates, fmt.Sprintf("%d/%d: %.3f", nc, 9*nc, got))
		if got < prev-0.02 {
			t.Errorf("detection fell from %.3f to %.3f at %d canary samples", prev, got, nc)
		}
		prev = got
	}
	t.Logf("detection by canary/baseline samples: %v", rates)
	if prev < 0.95 {
		t.Errorf("detection %.3f with 48 canary samples, want over 0.95", prev)
	}
}
