package analysis

import (
	"fmt"
	"math"
	"strings"
)

// Verdict is the answer of one metric or of a whole analysis.
type Verdict string

const (
	Pass         Verdict = "pass"
	Fail         Verdict = "fail"
	Inconclusive Verdict = "inconclusive"
)

// Rule names what decided a metric's verdict.
type Rule string

const (
	// RuleTooFewSamples: a side had fewer than MinSamples samples
	// (inconclusive).
	RuleTooFewSamples Rule = "too-few-samples"
	// RuleCannotBeSignificant: with these sample sizes and ties no data
	// could give a p-value at or below alpha, so the test could not have
	// failed the metric (inconclusive).
	RuleCannotBeSignificant Rule = "cannot-be-significant"
	// RuleBeyondTolerance: significant, and the shift in the bad direction
	// is beyond the tolerance (fail).
	RuleBeyondTolerance Rule = "beyond-tolerance"
	// RuleWithinTolerance: significant, but within the tolerance or not in
	// the bad direction (pass).
	RuleWithinTolerance Rule = "within-tolerance"
	// RuleNotSignificant: the p-value is above alpha, whatever the shift
	// (pass).
	RuleNotSignificant Rule = "not-significant"
)

// MetricResult is one metric's comparison, every number kept. Canary's
// and baseline's values are in the arrays' elements 0 and 1.
type MetricResult struct {
	Name      string
	Verdict   Verdict
	Rule      Rule
	Critical  bool
	Direction Direction
	// Ratio: Center holds each side's rate (total over total) rather than
	// its median.
	Ratio   bool
	N       [2]int
	Sources [2]int
	Center  [2]float64
	// U, Z, P, MinP and Method are the Mann-Whitney test's (see UTest);
	// zero when there were too few samples to test.
	U, Z, P, MinP float64
	Method        Method
	// Shift is the canary's change against the baseline in the metric's
	// units: the Hodges-Lehmann shift, or for a ratio the difference of
	// the rates.
	Shift float64
	// Relative is Shift over the baseline's centre (NaN when that is 0).
	Relative float64
	// Allowed is the shift the tolerance allows in the bad direction:
	// the larger of Tolerance times the baseline's centre and
	// AbsoluteTolerance. AllowedRelative is Allowed over the baseline's
	// centre (NaN when that is 0).
	Allowed, AllowedRelative float64
}

// Compare judges one metric's samples at significance level alpha:
//
//   - either side with fewer than MinSamples samples: inconclusive;
//   - a test that could not reach alpha with these sizes: inconclusive;
//   - p at most alpha (one-sided toward the bad direction, two-sided for
//     Either) and the shift beyond the allowance in the bad direction:
//     fail;
//   - otherwise pass: a significant change within the tolerance, or a
//     change of any size that is not significant.
func (m Metric) Compare(alpha float64, canary, baseline Sample) (r MetricResult) {
	r = MetricResult{
		Name: m.Name, Critical: m.Critical, Direction: m.Direction, Ratio: m.Per != nil,
		N:       [2]int{len(canary.Values), len(baseline.Values)},
		Sources: [2]int{canary.Sources, baseline.Sources},
		Shift:   math.NaN(), Relative: math.NaN(), Allowed: math.NaN(), AllowedRelative: math.NaN(),
	}
	// The record keeps the digits the ledger does (see rounded); the
	// verdict is decided on the full values.
	defer func() { r = r.rounded() }()
	if r.Ratio {
		r.Center = [2]float64{rate(canary), rate(baseline)}
	} else {
		r.Center = [2]float64{median(canary.Values), median(baseline.Values)}
	}
	if r.N[0] < m.MinSamples || r.N[1] < m.MinSamples {
		r.Verdict, r.Rule = Inconclusive, RuleTooFewSamples
		return r
	}
	t := MannWhitney(canary.Values, baseline.Values, alternativeFor(m.Direction))
	r.U, r.Z, r.P, r.MinP, r.Method = t.U, t.Z, t.P, t.MinP, t.Method
	if r.Ratio {
		r.Shift = r.Center[0] - r.Center[1]
	} else {
		r.Shift = HodgesLehmann(canary.Values, baseline.Values)
	}
	base := math.Abs(r.Center[1])
	if base > 0 {
		r.Relative = r.Shift / base
	}
	r.Allowed = math.Max(m.Tolerance*base, m.AbsoluteTolerance)
	if base > 0 {
		r.AllowedRelative = r.Allowed / base
	}
	var beyond bool
	switch m.Direction {
	case Increase:
		beyond = r.Shift > r.Allowed
	case Decrease:
		beyond = -r.Shift > r.Allowed
	default:
		beyond = math.Abs(r.Shift) > r.Allowed
	}
	switch {
	case t.MinP > alpha:
		r.Verdict, r.Rule = Inconclusive, RuleCannotBeSignificant
	case t.P <= alpha && beyond:
		r.Verdict, r.Rule = Fail, RuleBeyondTolerance
	case t.P <= alpha:
		r.Verdict, r.Rule = Pass, RuleWithinTolerance
	default:
		r.Verdict, r.Rule = Pass, RuleNotSignificant
	}
	return r
}

// rounded is r as the ledger keeps it: 4 significant digits, p-values 3,
// U exact.
func (r MetricResult) rounded() MetricResult {
	for _, f := range []*float64{&r.Center[0], &r.Center[1], &r.Z, &r.Shift, &r.Relative, &r.Allowed, &r.AllowedRelative} {
		*f = round(*f, 4)
	}
	r.P, r.MinP = round(r.P, 3), round(r.MinP, 3)
	return r
}

func rate(s Sample) float64 {
	if s.Den == 0 {
		return math.NaN()
	}
	return s.Num / s.Den
}

// Result is one analysis: the verdict, why, and every metric's numbers.
// Its JSON is compact enough for the rollout's ledger record.
type Result struct {
	Verdict Verdict
	// Reason says in one sentence what decided the verdict.
	Reason string
	Mode   Mode
	// Score is the percentage of decided (pass or fail) metrics that
	// passed; NaN when none was decided.
	Score   float64
	Alpha   float64
	Metrics []MetricResult
}

// Effective is the verdict the rollout acts on: a dry run always passes.
func (r Result) Effective() Verdict {
	if r.Mode == DryRun {
		return Pass
	}
	return r.Verdict
}

// Score combines metric results into one verdict, as Kayenta does, with
// inconclusive where Kayenta fails for missing data (an inconclusive
// checkpoint is rechecked with more data, then reverted):
//
//  1. a critical metric that failed fails the analysis;
//  2. a critical metric that is inconclusive leaves it inconclusive;
//  3. so does no decided metric, or half of the metrics or more
//     inconclusive;
//  4. otherwise the score, the percentage of decided metrics that passed,
//     passes at PassScore or more, fails below MarginalScore, and is
//     inconclusive in between.
func (s Spec) Score(results []MetricResult) Result {
	r := Result{Mode: s.Mode, Alpha: s.Alpha, Metrics: results, Score: math.NaN()}
	var passed, failed, undecided int
	var criticalFail, criticalUndecided *MetricResult
	for i := range results {
		m := &results[i]
		switch m.Verdict {
		case Pass:
			passed++
		case Fail:
			failed++
			if m.Critical && criticalFail == nil {
				criticalFail = m
			}
		default:
			undecided++
			if m.Critical && criticalUndecided == nil {
				criticalUndecided = m
			}
		}
	}
	if passed+failed > 0 {
		r.Score = math.Round(10000*float64(passed)/float64(passed+failed)) / 100
	}
	switch {
	case criticalFail != nil:
		r.Verdict, r.Reason = Fail, fmt.Sprintf("critical metric %s failed: %s", criticalFail.Name, criticalFail.because())
	case criticalUndecided != nil:
		r.Verdict, r.Reason = Inconclusive, fmt.Sprintf("critical metric %s is inconclusive: %s", criticalUndecided.Name, criticalUndecided.because())
	case passed+failed == 0:
		r.Verdict, r.Reason = Inconclusive, "no metric was decided"
	case 2*undecided >= len(results):
		r.Verdict, r.Reason = Inconclusive, fmt.Sprintf("%d of %d metrics are inconclusive", undecided, len(results))
	case r.Score >= s.PassScore:
		r.Verdict, r.Reason = Pass, fmt.Sprintf("score %s reaches the pass score %s", fmtNum(r.Score), fmtNum(s.PassScore))
	case r.Score < s.MarginalScore:
		r.Verdict, r.Reason = Fail, fmt.Sprintf("score %s is below the marginal score %s", fmtNum(r.Score), fmtNum(s.MarginalScore))
	default:
		r.Verdict, r.Reason = Inconclusive, fmt.Sprintf("score %s is marginal: below the pass score %s, not below %s", fmtNum(r.Score), fmtNum(s.PassScore), fmtNum(s.MarginalScore))
	}
	return r
}

// Summary is one line for the whole analysis.
func (r Result) Summary() string {
	var b strings.Builder
	b.WriteString(string(r.Verdict))
	if r.Mode == DryRun {
		b.WriteString(" (dry run)")
	}
	if !math.IsNaN(r.Score) {
		fmt.Fprintf(&b, ", score %s", fmtNum(r.Score))
	}
	b.WriteString(": " + r.Reason)
	return b.String()
}

// Lines is the summary followed by one line per metric, for
// `phoenix history --rollout`.
func (r Result) Lines() []string {
	out := []string{r.Summary()}
	for _, m := range r.Metrics {
		out = append(out, m.Summary())
	}
	return out
}

// Summary is one line: the metric, its verdict and the numbers behind it.
func (m MetricResult) Summary() string {
	head := m.Name + " " + string(m.Verdict)
	if m.Critical {
		head += " (critical)"
	}
	return head + ": " + m.because()
}

// because is the numbers and the rule, for summaries and reasons.
func (m MetricResult) because() string {
	switch m.Rule {
	case RuleTooFewSamples:
		return fmt.Sprintf("%d canary and %d baseline samples (from %d and %d sources), too few to judge", m.N[0], m.N[1], m.Sources[0], m.Sources[1])
	case RuleCannotBeSignificant:
		return fmt.Sprintf("with %d canary and %d baseline samples no p-value could reach alpha (smallest %s)", m.N[0], m.N[1], fmtP(m.MinP))
	}
	what := "median"
	if m.Ratio {
		what = "rate"
	}
	// Work from the digits the ledger keeps, so that a result read back
	// summarizes as it did when it was made.
	change, allowed := fmtSigned(m.Shift), m.Allowed
	if !math.IsNaN(m.Relative) {
		change = fmtSigned(100*m.Relative) + "%"
		allowed = 100 * m.AllowedRelative
	}
	sign := "+"
	switch m.Direction {
	case Decrease:
		sign = "-"
	case Either:
		sign = "±"
	}
	allow := sign + fmtNum(allowed)
	if !math.IsNaN(m.Relative) {
		allow += "%"
	}
	rule := map[Rule]string{
		RuleBeyondTolerance: "significant and beyond tolerance",
		RuleWithinTolerance: "significant but within tolerance",
		RuleNotSignificant:  "not significant",
	}[m.Rule]
	return fmt.Sprintf("%s %s vs %s (%s, allowed %s), p=%s (U=%s, n=%d/%d, %s): %s",
		what, fmtNum(m.Center[0]), fmtNum(m.Center[1]), change, allow, fmtP(m.P), fmtNum(m.U), m.N[0], m.N[1], m.Method, rule)
}

// fmtNum prints 4 significant digits, no exponent for everyday sizes.
func fmtNum(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return fmt.Sprint(round(v, 4))
}

func fmtSigned(v float64) string {
	if v > 0 {
		return "+" + fmtNum(v)
	}
	return fmtNum(v)
}

func fmtP(p float64) string { return fmt.Sprint(round(p, 2)) }

// round keeps digits significant digits.
func round(v float64, digits int) float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	scale := math.Pow(10, float64(digits)-math.Ceil(math.Log10(math.Abs(v))))
	r := math.Round(v*scale) / scale
	if math.IsInf(scale, 0) || math.IsNaN(r) {
		return v
	}
	return r
}
