package analysis

import (
	"math"
	"slices"
	"sort"
)

// Alternative is the hypothesis a Mann-Whitney test weighs against "both
// samples come from one distribution".
type Alternative int

const (
	// Greater: the canary tends to be larger than the baseline.
	Greater Alternative = iota
	// Less: the canary tends to be smaller than the baseline.
	Less
	// TwoSided: the canary tends to differ, either way.
	TwoSided
)

// alternativeFor is the alternative that tests for a change in the bad
// direction.
func alternativeFor(d Direction) Alternative {
	switch d {
	case Increase:
		return Greater
	case Decrease:
		return Less
	default:
		return TwoSided
	}
}

// Method is how a p-value was computed.
type Method string

const (
	// Exact: the permutation distribution of the rank sum, ties included
	// (the distribution given the observed midranks).
	Exact Method = "exact"
	// Normal: the normal approximation with tie and continuity corrections.
	Normal Method = "normal"
)

// ExactLimit is the largest product of the two sample sizes for which the
// p-value comes from the exact distribution: both sides up to 20, or 2
// canary values against up to 200 baseline values. Beyond it the normal
// approximation is close, and the exact count would cost more than it
// tells.
const ExactLimit = 400

// UTest is a Mann-Whitney U test of the canary x against the baseline y.
type UTest struct {
	// NX and NY are the sample sizes of the canary and the baseline.
	NX, NY int
	// U counts the (canary, baseline) pairs where the canary is larger,
	// ties counting one half: 0 when every canary value is below every
	// baseline value, NX*NY when above.
	U float64
	// Z is the standardized U, with the tie correction and the continuity
	// correction of half a pair toward the mean (0 when every value ties).
	Z float64
	// P is the p-value for the alternative.
	P float64
	// MinP is the smallest p-value these sample sizes could give (without
	// ties): above alpha, the test cannot find anything, whatever the data.
	MinP        float64
	Method      Method
	Alternative Alternative
}

// MannWhitney tests the canary x against the baseline y. NaNs are the
// caller's to remove. An empty side finds nothing: p = 1.
func MannWhitney(x, y []float64, alt Alternative) UTest {
	nx, ny := len(x), len(y)
	if nx == 0 || ny == 0 {
		return UTest{NX: nx, NY: ny, P: 1, MinP: 1, Method: Exact, Alternative: alt}
	}
	all := make([]ranked, 0, nx+ny)
	for _, v := range x {
		all = append(all, ranked{v: v, canary: true})
	}
	for _, v := range y {
		all = append(all, ranked{v: v})
	}
	ties := midranks(all)
	var rx2 int // twice the canary's rank sum: midranks are halves
	for _, r := range all {
		if r.canary {
			rx2 += r.rank2
		}
	}
	n := float64(nx + ny)
	u := float64(rx2)/2 - float64(nx*(nx+1))/2
	mean := float64(nx*ny) / 2
	variance := float64(nx*ny) / 12 * ((n + 1) - ties/(n*(n-1)))
	t := UTest{NX: nx, NY: ny, U: u, Alternative: alt}
	t.Z, t.P = normalP(u, mean, variance, alt)
	if nx*ny <= ExactLimit {
		t.Method = Exact
		t.P = exactP(all, nx, rx2, alt)
		// the most extreme arrangement is one of C(n, nx)
		t.MinP = 1 / binomial(nx+ny, nx)
		if alt == TwoSided {
			t.MinP = math.Min(1, 2*t.MinP)
		}
	} else {
		t.Method = Normal
		extreme := float64(nx * ny) // the most extreme U toward the alternative
		if alt == Less {
			extreme = 0
		}
		_, t.MinP = normalP(extreme, mean, float64(nx*ny)*(n+1)/12, alt)
	}
	return t
}

// binomial is C(n, k) as a float64.
func binomial(n, k int) float64 {
	c := 1.0
	for i := 1; i <= k; i++ {
		c = c * float64(n-k+i) / float64(i)
	}
	return math.Round(c)
}

type ranked struct {
	v      float64
	canary bool
	rank2  int // twice the midrank
}

// midranks sorts all by value, gives each its doubled midrank and returns
// the tie term sum(t^3 - t) over groups of t equal values.
func midranks(all []ranked) float64 {
	sort.SliceStable(all, func(i, j int) bool { return all[i].v < all[j].v })
	var ties float64
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		// ranks i+1..j, midrank (i+1+j)/2, doubled i+1+j
		for k := i; k < j; k++ {
			all[k].rank2 = i + 1 + j
		}
		if t := float64(j - i); t > 1 {
			ties += t*t*t - t
		}
		i = j
	}
	return ties
}

// normalP is the normal approximation: z with the continuity correction
// toward the mean, and its p-value.
func normalP(u, mean, variance float64, alt Alternative) (z, p float64) {
	if variance <= 0 {
		return 0, 1
	}
	sd := math.Sqrt(variance)
	switch alt {
	case Greater:
		z = (u - mean - 0.5) / sd
		p = upper(z)
	case Less:
		z = (u - mean + 0.5) / sd
		p = upper(-z)
	default:
		d := math.Max(math.Abs(u-mean)-0.5, 0)
		if u < mean {
			d = -d
		}
		z = d / sd
		p = math.Min(1, 2*upper(math.Abs(z)))
	}
	return z, p
}

// upper is P(Z > z) for a standard normal Z, accurate far into the tail.
func upper(z float64) float64 { return 0.5 * math.Erfc(z/math.Sqrt2) }

// exactP is the permutation p-value of the canary's doubled rank sum rx2:
// every way of choosing which nx of the ranks are the canary's is equally
// likely under the null.
func exactP(all []ranked, nx, rx2 int, alt Alternative) float64 {
	ranks := make([]int, len(all))
	total := 0
	for i, r := range all {
		ranks[i] = r.rank2
		total += r.rank2
	}
	// Count the subsets of the smaller side's size: the canary's sum is
	// the total less the baseline's when the baseline is the smaller.
	k, flip := nx, false
	if ny := len(all) - nx; ny < nx {
		k, flip = ny, true
	}
	counts, lo := rankSumCounts(ranks, k)
	var sum float64
	for _, c := range counts {
		sum += c
	}
	// prob(s) is P(S = s) for the canary's doubled rank sum S.
	prob := func(s int) float64 {
		if flip {
			s = total - s
		}
		if i := s - lo; i >= 0 && i < len(counts) {
			return counts[i] / sum
		}
		return 0
	}
	smin, smax := lo, lo+len(counts)-1
	if flip {
		smin, smax = total-smax, total-smin
	}
	ge := func(s int) (p float64) {
		for v := smax; v >= s; v-- {
			p += prob(v)
		}
		return math.Min(p, 1)
	}
	le := func(s int) (p float64) {
		for v := smin; v <= s; v++ {
			p += prob(v)
		}
		return math.Min(p, 1)
	}
	switch alt {
	case Greater:
		return ge(rx2)
	case Less:
		return le(rx2)
	default:
		return math.Min(1, 2*math.Min(ge(rx2), le(rx2)))
	}
}

// rankSumCounts counts the k-subsets of ranks by their sum: counts[i] is
// the number of subsets summing to lo+i. Counts are float64: every count
// under ExactLimit (C(40,20) at most) is an integer float64 holds exactly.
func rankSumCounts(ranks []int, k int) (counts []float64, lo int) {
	sorted := slices.Clone(ranks)
	slices.Sort(sorted)
	hi := 0
	for _, r := range sorted[:k] {
		lo += r
	}
	for _, r := range sorted[len(sorted)-k:] {
		hi += r
	}
	// f[j][s]: the subsets of size j of the ranks seen so far, by sum s
	f := make([][]float64, k+1)
	for j := range f {
		f[j] = make([]float64, hi+1)
	}
	f[0][0] = 1
	for _, r := range ranks {
		for j := k; j >= 1; j-- {
			prev, cur := f[j-1], f[j]
			for s := hi; s >= r; s-- {
				cur[s] += prev[s-r]
			}
		}
	}
	return f[k][lo : hi+1], lo
}

// HodgesLehmann is the median of the pairwise differences x[i] - y[j]:
// the shift of x against y that the Mann-Whitney test is built on. It
// needs no memory for the pairs: it selects among them by counting. The
// values must be finite.
func HodgesLehmann(x, y []float64) float64 {
	if len(x) == 0 || len(y) == 0 {
		return math.NaN()
	}
	xs, ys := slices.Clone(x), slices.Clone(y)
	slices.Sort(xs)
	slices.Sort(ys)
	n := len(xs) * len(ys)
	if n%2 == 1 {
		return kthDiff(xs, ys, n/2+1)
	}
	return (kthDiff(xs, ys, n/2) + kthDiff(xs, ys, n/2+1)) / 2
}

// kthDiff is the k-th smallest (1-based) of xs[i] - ys[j], xs and ys
// sorted and finite. It bisects the float64 values in their bit order (at
// most 64 steps), counting the differences at or below each in linear
// time: the smallest value with at least k differences at or below it is
// the k-th difference itself.
func kthDiff(xs, ys []float64, k int) float64 {
	lo := floatKey(xs[0]-ys[len(ys)-1]) - 1 // no difference at or below
	hi := floatKey(xs[len(xs)-1] - ys[0])   // every difference at or below
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if countAtMost(xs, ys, keyFloat(mid)) >= k {
			hi = mid
		} else {
			lo = mid
		}
	}
	return keyFloat(hi)
}

// floatKey maps a float64 to a uint64 in the same order.
func floatKey(f float64) uint64 {
	b := math.Float64bits(f)
	if b>>63 == 1 {
		return ^b
	}
	return b | 1<<63
}

func keyFloat(k uint64) float64 {
	if k>>63 == 1 {
		return math.Float64frombits(k &^ (1 << 63))
	}
	return math.Float64frombits(^k)
}

// countAtMost counts the pairs with xs[i] - ys[j] <= v. The difference is
// computed as it is everywhere else, so that rounding cannot disagree.
func countAtMost(xs, ys []float64, v float64) int {
	count, j := 0, 0
	for _, x := range xs {
		for j < len(ys) && x-ys[j] > v {
			j++
		}
		count += len(ys) - j
	}
	return count
}

// median of values (NaN when empty).
func median(values []float64) float64 {
	if len(values) == 0 {
		return math.NaN()
	}
	s := slices.Clone(values)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
