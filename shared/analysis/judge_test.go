package analysis

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func plain(direction Direction) Metric {
	return Metric{Name: "p99", Direction: direction, Tolerance: 0.25, MinSamples: 2, Sample: PerSource}
}

// eighteen baseline values from 4.00 to 4.17, median 4.085.
func eighteen() Sample {
	s := Sample{Sources: 18}
	for i := range 18 {
		s.Values = append(s.Values, 4+float64(i)/100)
	}
	return s
}

func values(v ...float64) Sample { return Sample{Values: v, Sources: len(v)} }

func TestCompareRules(t *testing.T) {
	t.Parallel()
	tied := eighteen()
	tied.Values[15], tied.Values[16], tied.Values[17] = 4.17, 4.17, 4.17
	cases := []struct {
		name             string
		metric           Metric
		canary, baseline Sample
		verdict          Verdict
		rule             Rule
	}{
		{"one canary sample is too few to judge", plain(Increase), values(9), eighteen(), Inconclusive, RuleTooFewSamples},
		{"no baseline is too few to judge", plain(Increase), values(9, 9), Sample{}, Inconclusive, RuleTooFewSamples},
		{"two against eighteen, both highest and far beyond tolerance, fails", plain(Increase), values(10, 11), eighteen(), Fail, RuleBeyondTolerance},
		{"two against eighteen, both highest but 5% up, passes within tolerance", plain(Increase), values(4.3, 4.31), eighteen(), Pass, RuleWithinTolerance},
		{"a large change that is not significant passes", plain(Increase), values(1, 100), eighteen(), Pass, RuleNotSignificant},
		{"a large decrease passes a metric where only an increase is bad", plain(Increase), values(1, 1.1), eighteen(), Pass, RuleNotSignificant},
		{"a large decrease fails a metric where a decrease is bad", plain(Decrease), values(1, 1.1), eighteen(), Fail, RuleBeyondTolerance},
		{"either way, two against eighteen cannot reach alpha 0.01 two-sided", plain(Either), values(10, 11), eighteen(), Inconclusive, RuleCannotBeSignificant},
		{"either way, ten against ten can", plain(Either), values(1, 1, 1, 1, 1, 1.1, 1.1, 1.1, 1.1, 1.1), values(4, 4, 4, 4, 4, 4.1, 4.1, 4.1, 4.1, 4.1), Fail, RuleBeyondTolerance},
		{"ties among the baseline's highest do not stop a clear canary", plain(Increase), values(10, 11), tied, Fail, RuleBeyondTolerance},
		{"a canary tied with the baseline's highest is not significant", plain(Increase), values(4.17, 4.17), tied, Pass, RuleNotSignificant},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := c.metric.Compare(0.01, c.canary, c.baseline)
			if got.Verdict != c.verdict || got.Rule != c.rule {
				t.Errorf("%s by %s, want %s by %s: %s", got.Verdict, got.Rule, c.verdict, c.rule, got.Summary())
			}
		})
	}
}

func TestCompareKeepsEveryNumber(t *testing.T) {
	t.Parallel()
	got := plain(Increase).Compare(0.01, values(10, 11), eighteen())
	// kept as the ledger keeps them: 4 significant digits, p 3, U exact
	const digits = 5e-4
	if got.N != [2]int{2, 18} || got.Sources != [2]int{2, 18} || got.U != 36 || got.Method != Exact ||
		!near(got.P, 1.0/190, 1e-3) || !near(got.MinP, 1.0/190, 1e-3) {
		t.Errorf("test numbers: %+v", got)
	}
	if got.Center != [2]float64{10.5, 4.085} || !near(got.Shift, 6.415, digits) ||
		!near(got.Relative, 6.415/4.085, digits) || !near(got.Allowed, 0.25*4.085, digits) || got.AllowedRelative != 0.25 {
		t.Errorf("effect numbers: %+v", got)
	}
	if !near(got.Z, (36-18-0.5)/math.Sqrt(2*18*21/12.0), digits) {
		t.Errorf("z = %v", got.Z)
	}
}

func TestARatioIsJudgedOnItsRatesAndAnAbsoluteTolerance(t *testing.T) {
	t.Parallel()
	m := Metric{Name: "error-rate", Direction: Increase, Tolerance: 0.3, AbsoluteTolerance: 0.0005, MinSamples: 2, Per: &Denominator{MetricName: "RequestCount", Statistic: "Sum"}}
	quiet := Sample{Values: make([]float64, 18), Den: 18 * 6000, Sources: 18}
	cases := []struct {
		name    string
		canary  Sample
		verdict Verdict
		rule    Rule
	}{
		{"two errors against none are significant but within the absolute tolerance", Sample{Values: []float64{1.0 / 6000, 1.0 / 6000}, Num: 2, Den: 12000, Sources: 2}, Pass, RuleWithinTolerance},
		{"0.2% of requests against none fails", Sample{Values: []float64{0.002, 0.002}, Num: 24, Den: 12000, Sources: 2}, Fail, RuleBeyondTolerance},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := m.Compare(0.01, c.canary, quiet)
			if got.Verdict != c.verdict || got.Rule != c.rule {
				t.Errorf("%s by %s, want %s by %s: %s", got.Verdict, got.Rule, c.verdict, c.rule, got.Summary())
			}
			if !math.IsNaN(got.Relative) || got.Allowed != 0.0005 {
				t.Errorf("relative %v allowed %v: with a zero baseline only the absolute tolerance is left", got.Relative, got.Allowed)
			}
		})
	}
}

func result(name string, v Verdict, critical bool) MetricResult {
	return MetricResult{Name: name, Verdict: v, Critical: critical, Rule: RuleNotSignificant, Shift: 0, Relative: 0, Allowed: 1, Center: [2]float64{1, 1}}
}

func TestScoreRules(t *testing.T) {
	t.Parallel()
	s := Spec{PassScore: 95, MarginalScore: 75, Alpha: 0.01, Mode: Enforce}
	cases := []struct {
		name    string
		results []MetricResult
		verdict Verdict
		reason  string
	}{
		{"every metric passing passes", []MetricResult{result("a", Pass, true), result("b", Pass, false)}, Pass, "score 100 reaches the pass score 95"},
		{"a critical metric failing fails whatever the score", []MetricResult{result("a", Fail, true), result("b", Pass, false), result("c", Pass, false), result("d", Pass, false), result("e", Pass, false)}, Fail, "critical metric a failed: "},
		{"a critical metric inconclusive leaves the analysis inconclusive", []MetricResult{result("a", Inconclusive, true), result("b", Pass, false), result("c", Pass, false)}, Inconclusive, "critical metric a is inconclusive: "},
		{"no metric decided is inconclusive", []MetricResult{result("a", Inconclusive, false)}, Inconclusive, "no metric was decided"},
		{"half the metrics inconclusive is inconclusive", []MetricResult{result("a", Inconclusive, false), result("b", Pass, false)}, Inconclusive, "1 of 2 metrics are inconclusive"},
		{"a score below the marginal score fails", []MetricResult{result("a", Fail, false), result("b", Fail, false), result("c", Pass, false), result("d", Pass, false)}, Fail, "score 50 is below the marginal score 75"},
		{"a marginal score is inconclusive", []MetricResult{result("a", Fail, false), result("b", Pass, false), result("c", Pass, false), result("d", Pass, false)}, Inconclusive, "score 75 is marginal: below the pass score 95, not below 75"},
		{"an inconclusive metric does not count in the score", []MetricResult{result("a", Inconclusive, false), result("b", Pass, false), result("c", Pass, false)}, Pass, "score 100 reaches the pass score 95"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := s.Score(c.results)
			if got.Verdict != c.verdict || !strings.HasPrefix(got.Reason, c.reason) {
				t.Errorf("%s: %q, want %s: %q", got.Verdict, got.Reason, c.verdict, c.reason)
			}
		})
	}
}

func TestADryRunRecordsTheVerdictAndActsAsAPass(t *testing.T) {
	t.Parallel()
	s := Spec{PassScore: 95, MarginalScore: 75, Mode: DryRun}
	got := s.Score([]MetricResult{result("a", Fail, true)})
	if got.Verdict != Fail || got.Effective() != Pass {
		t.Errorf("verdict %s, effective %s; want fail recorded and pass acted on", got.Verdict, got.Effective())
	}
	if !strings.HasPrefix(got.Summary(), "fail (dry run), score 0: critical metric a failed") {
		t.Errorf("summary %q", got.Summary())
	}
	s.Mode = Enforce
	if got := s.Score([]MetricResult{result("a", Fail, true)}); got.Effective() != Fail {
		t.Errorf("enforced: effective %s, want fail", got.Effective())
	}
}

func TestResultJSONIsCompactAndReadsBack(t *testing.T) {
	t.Parallel()
	spec := DefaultSpec()
	m := spec.Metrics[0]
	canary := Sample{Values: []float64{0.0213456789, 0.0198765}, Num: 123, Den: 6000, Sources: 2}
	baseline := Sample{Sources: 18}
	for i := range 18 {
		baseline.Values = append(baseline.Values, 0.01+float64(i)/10000)
		baseline.Num += 60 + 10*float64(i%3)
		baseline.Den += 6000
	}
	r := spec.Score([]MetricResult{
		m.Compare(spec.Alpha, canary, baseline),
		spec.Metrics[1].Compare(spec.Alpha, values(0.25), eighteen()),
	})
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"verdict":"fail","reason":"critical metric error-rate failed: rate 0.0205 vs 0.01167 (+75.71%, allowed +30%), p=0.0053 (U=36, n=2/18, exact): significant and beyond tolerance","mode":"enforce","score":0,"alpha":0.01,"metrics":[` +
		`{"name":"error-rate","verdict":"fail","rule":"beyond-tolerance","critical":true,"dir":"increase","n":[2,18],"src":[2,18],"rate":[0.0205,0.01167],"u":36,"z":2.205,"p":0.00526,"test":"exact","shift":0.008833,"rel":0.7571,"allowed":0.0035,"allowedRel":0.3},` +
		`{"name":"latency-p99","verdict":"inconclusive","rule":"too-few-samples","critical":true,"dir":"increase","n":[1,18],"src":[1,18],"median":[0.25,4.085]}]}`
	if string(b) != want {
		t.Errorf("json:\n got %s\nwant %s", b, want)
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(back)
	if string(again) != string(b) {
		t.Errorf("read back and written again:\n%s\n%s", again, b)
	}
	if back.Metrics[0].Summary() != r.Metrics[0].Summary() {
		t.Errorf("the summary changed on the way through the ledger:\n%s\n%s", back.Metrics[0].Summary(), r.Metrics[0].Summary())
	}
}

func TestAResultWithNoDecidedMetricHasANullScore(t *testing.T) {
	t.Parallel()
	r := DefaultSpec().Score([]MetricResult{result("a", Inconclusive, false)})
	b, _ := json.Marshal(r)
	if !strings.Contains(string(b), `"score":null`) {
		t.Errorf("json %s, want a null score", b)
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil || !math.IsNaN(back.Score) {
		t.Errorf("score read back %v (%v), want NaN", back.Score, err)
	}
}

func TestSummariesReadAsOneLineEach(t *testing.T) {
	t.Parallel()
	inc := plain(Increase)
	cases := []struct {
		name string
		got  MetricResult
		want string
	}{
		{"a failure", inc.Compare(0.01, values(10, 11), eighteen()),
			"p99 fail: median 10.5 vs 4.085 (+157%, allowed +25%), p=0.0053 (U=36, n=2/18, exact): significant and beyond tolerance"},
		{"too few samples", inc.Compare(0.01, values(10), eighteen()),
			"p99 inconclusive: 1 canary and 18 baseline samples (from 1 and 18 sources), too few to judge"},
		{"a test that could not be significant", plain(Either).Compare(0.01, values(10, 11), eighteen()),
			"p99 inconclusive: with 2 canary and 18 baseline samples no p-value could reach alpha (smallest 0.011)"},
		{"a pass", plain(Decrease).Compare(0.01, values(4.05, 4.06), eighteen()),
			"p99 pass: median 4.055 vs 4.085 (-0.7344%, allowed -25%), p=0.26 (U=12, n=2/18, exact): not significant"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if s := c.got.Summary(); s != c.want || strings.Contains(s, "\n") {
				t.Errorf("summary:\n got %s\nwant %s", s, c.want)
			}
		})
	}
}
