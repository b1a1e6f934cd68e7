package analysis

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The reference values come from scipy 1.10 (scipy.stats.mannwhitneyu,
// method="asymptotic", use_continuity=True) and, for the exact p-values,
// from enumerating every assignment of the ranks in Python (ties
// included), or for 20 against 20 from an independent generating-function
// count in exact fractions.
func TestMannWhitneyMatchesReferences(t *testing.T) {
	t.Parallel()
	eighteen := []float64{1.2, 2.3, 0.4, 3.3, 4.1, 2.2, 1.9, 0.8, 2.7, 3.9, 1.1, 0.2, 2.9, 3.1, 1.5, 0.9, 4.4, 2.0}
	lognX := []float64{1.4, 1.6, 1.2, 0.9, 1.1, 0.8, 1.4, 2.6, 1.1, 1.0, 1.7, 1.6, 1.4, 0.8, 1.3, 1.9, 0.7, 1.1, 0.5, 0.7, 0.5, 1.2, 0.7, 1.5, 1.5}
	lognY := []float64{0.9, 0.3, 0.8, 1.0, 1.1, 0.5, 0.8, 0.6, 0.7, 1.7, 0.7, 1.0, 1.6, 0.7, 0.9, 1.1, 1.0, 0.5, 1.0, 2.0, 0.5, 1.5, 1.1, 0.7, 2.7, 1.5, 0.5, 1.0, 1.3, 0.9}
	left := []float64{310, 195, 530, 155, 530, 245, 385, 450, 465, 545, 170, 180, 125, 180, 230, 75, 430, 480, 495, 295}
	right := []float64{116, 171, 176, 421, 111, 326, 481, 111, 346, 441, 261, 411, 206, 521, 456, 446, 296, 51, 426, 261}
	cases := []struct {
		name   string
		x, y   []float64
		alt    Alternative
		u, p   float64
		method Method
	}{
		{"three against four without ties, one-sided greater", []float64{1.1, 2.3, 3.7}, []float64{0.5, 0.9, 1.8, 2.0}, Greater, 10, 0.11428571428571428, Exact},
		{"three against four without ties, one-sided less", []float64{1.1, 2.3, 3.7}, []float64{0.5, 0.9, 1.8, 2.0}, Less, 10, 0.9428571428571428, Exact},
		{"three against four without ties, two-sided", []float64{1.1, 2.3, 3.7}, []float64{0.5, 0.9, 1.8, 2.0}, TwoSided, 10, 0.22857142857142856, Exact},
		{"two canary values above all eighteen give 1/190", []float64{9.5, 8.7}, eighteen, Greater, 36, 1.0 / 190, Exact},
		{"two canary values above all eighteen, two-sided, give 2/190", []float64{9.5, 8.7}, eighteen, TwoSided, 36, 2.0 / 190, Exact},
		{"two canary values above all eighteen are no evidence of a decrease", []float64{9.5, 8.7}, eighteen, Less, 36, 1, Exact},
		{"ties, five against seven, greater", []float64{3, 4, 4, 5, 7}, []float64{1, 2, 3, 3, 4, 5, 6}, Greater, 24.5, 0.1388888888888889, Exact},
		{"ties, five against seven, less", []float64{3, 4, 4, 5, 7}, []float64{1, 2, 3, 3, 4, 5, 6}, Less, 24.5, 0.8838383838383839, Exact},
		{"ties, five against seven, two-sided", []float64{3, 4, 4, 5, 7}, []float64{1, 2, 3, 3, 4, 5, 6}, TwoSided, 24.5, 0.2777777777777778, Exact},
		{"Poisson counts full of ties, greater", []float64{0, 1, 1, 2, 3, 0}, []float64{0, 0, 1, 0, 2, 1, 0, 1, 0}, Greater, 35.5, 0.1874125874125874, Exact},
		{"Poisson counts full of ties, two-sided", []float64{0, 1, 1, 2, 3, 0}, []float64{0, 0, 1, 0, 2, 1, 0, 1, 0}, TwoSided, 35.5, 0.3748251748251748, Exact},
		{"twenty against twenty with ties (ClickHouse's test data), two-sided", left, right, TwoSided, 223, 0.5422935332931947, Exact},
		{"twenty against twenty with ties, greater", left, right, Greater, 223, 0.27114676664659737, Exact},
		{"25 against 30 rounded lognormals, normal approximation, greater", lognX, lognY, Greater, 476.5, 0.04331340702780082, Normal},
		{"25 against 30, normal approximation, less", lognX, lognY, Less, 476.5, 0.958223365575557, Normal},
		{"25 against 30, normal approximation, two-sided", lognX, lognY, TwoSided, 476.5, 0.08662681405560164, Normal},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := MannWhitney(c.x, c.y, c.alt)
			if got.U != c.u {
				t.Errorf("U = %v, want %v", got.U, c.u)
			}
			if got.Method != c.method {
				t.Errorf("method = %s, want %s", got.Method, c.method)
			}
			if !near(got.P, c.p, 1e-9) {
				t.Errorf("p = %.15g, want %.15g", got.P, c.p)
			}
		})
	}
}

func TestNormalApproximationMatchesScipyAtTheLimit(t *testing.T) {
	t.Parallel()
	// ClickHouse's 20 against 20 is within ExactLimit; scipy's asymptotic
	// value for it, 0.5426959774289482, is what normalP gives.
	left := []float64{310, 195, 530, 155, 530, 245, 385, 450, 465, 545, 170, 180, 125, 180, 230, 75, 430, 480, 495, 295}
	right := []float64{116, 171, 176, 421, 111, 326, 481, 111, 346, 441, 261, 411, 206, 521, 456, 446, 296, 51, 426, 261}
	got := MannWhitney(left, right, TwoSided)
	// z from the p-value: the exact and the normal p agree to 4e-4 here
	if _, p := normalP(got.U, 200, normalVariance(left, right), TwoSided); !near(p, 0.5426959774289482, 1e-12) {
		t.Errorf("normal two-sided p = %.15g, want 0.5426959774289482", p)
	}
}

// normalVariance is the tie-corrected variance of U, computed here
// independently of midranks.
func normalVariance(x, y []float64) float64 {
	all := append(slices.Clone(x), y...)
	slices.Sort(all)
	var ties float64
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j] == all[i] {
			j++
		}
		tt := float64(j - i)
		ties += tt*tt*tt - tt
		i = j
	}
	n, m := float64(len(x)), float64(len(y))
	return n * m / 12 * ((n + m + 1) - ties/((n+m)*(n+m-1)))
}

func TestMannWhitneySmallestPossibleP(t *testing.T) {
	t.Parallel()
	eighteen := make([]float64, 18)
	for i := range eighteen {
		eighteen[i] = float64(i)
	}
	cases := []struct {
		name string
		x    []float64
		alt  Alternative
		minP float64
	}{
		{"two against eighteen, one-sided: 1/C(20,2)", []float64{100, 101}, Greater, 1.0 / 190},
		{"two against eighteen, two-sided: 2/C(20,2), above 0.01", []float64{100, 101}, TwoSided, 2.0 / 190},
		{"two against eighteen, decrease: the lowest two", []float64{100, 101}, Less, 1.0 / 190},
		{"one against eighteen: 1/19", []float64{100}, Greater, 1.0 / 19},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := MannWhitney(c.x, eighteen, c.alt).MinP; !near(got, c.minP, 1e-12) {
				t.Errorf("min p = %v, want %v", got, c.minP)
			}
		})
	}
}

func TestMannWhitneyOfIdenticalValuesFindsNothing(t *testing.T) {
	t.Parallel()
	same := []float64{3, 3, 3, 3}
	for _, alt := range []Alternative{Greater, Less, TwoSided} {
		got := MannWhitney(same, same, alt)
		if got.P != 1 || got.Z != 0 || got.U != 8 {
			t.Errorf("alt %d: U=%v z=%v p=%v, want U=8 z=0 p=1", alt, got.U, got.Z, got.P)
		}
	}
	big := make([]float64, 30)
	if got := MannWhitney(big, big, TwoSided); got.P != 1 || got.Method != Normal {
		t.Errorf("30 zeros against 30: p=%v method=%s, want 1 by the normal approximation", got.P, got.Method)
	}
}

func TestExactAndNormalAgreeAtTheLimit(t *testing.T) {
	t.Parallel()
	// Just inside ExactLimit (20 against 20) the two methods should tell
	// the same story; this guards the exact count against overflow or an
	// off-by-one in the tails.
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 50 {
		x, y := make([]float64, 20), make([]float64, 20)
		for i := range x {
			x[i] = math.Round(r.NormFloat64()*3 + 0.5) // ties
			y[i] = math.Round(r.NormFloat64() * 3)
		}
		got := MannWhitney(x, y, Greater)
		_, normal := normalP(got.U, 200, normalVariance(x, y), Greater)
		if math.Abs(got.P-normal) > 0.02 {
			t.Errorf("trial %d: exact p %v, normal p %v", trial, got.P, normal)
		}
	}
}

func TestHodgesLehmannIsTheMedianOfPairwiseDifferences(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	for trial := range 300 {
		x, y := make([]float64, 1+r.IntN(15)), make([]float64, 1+r.IntN(15))
		for i := range x {
			x[i] = math.Round(r.NormFloat64()*4) / 2 // many ties and equal differences
		}
		for i := range y {
			y[i] = r.ExpFloat64() * 3
			if trial%3 == 0 {
				y[i] = -1e6 * y[i] // far apart
			}
		}
		var diffs []float64
		for _, a := range x {
			for _, b := range y {
				diffs = append(diffs, a-b)
			}
		}
		if got, want := HodgesLehmann(x, y), median(diffs); got != want {
			t.Fatalf("trial %d: HL = %v, want %v (x=%v y=%v)", trial, got, want, x, y)
		}
	}
	if got := HodgesLehmann([]float64{1.4, 1.6, 1.2}, nil); !math.IsNaN(got) {
		t.Errorf("HL against nothing = %v, want NaN", got)
	}
	// scipy/numpy reference: median of the pairwise differences
	left := []float64{310, 195, 530, 155, 530, 245, 385, 450, 465, 545, 170, 180, 125, 180, 230, 75, 430, 480, 495, 295}
	right := []float64{116, 171, 176, 421, 111, 326, 481, 111, 346, 441, 261, 411, 206, 521, 456, 446, 296, 51, 426, 261}
	if got := HodgesLehmann(left, right); got != 24 {
		t.Errorf("HL(ClickHouse) = %v, want 24", got)
	}
}

func near(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}
