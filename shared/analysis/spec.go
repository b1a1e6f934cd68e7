package analysis

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Direction is the way a metric's change is bad.
type Direction string

const (
	// Increase: a canary above its baseline is bad (errors, latency).
	Increase Direction = "increase"
	// Decrease: a canary below its baseline is bad (throughput, hit rate).
	Decrease Direction = "decrease"
	// Either: any difference is bad.
	Either Direction = "either"
)

// Mode says whether a verdict acts.
type Mode string

const (
	// Enforce: a failing analysis fails the checkpoint.
	Enforce Mode = "enforce"
	// DryRun: the verdict is recorded and the rollout goes on as if it
	// passed, so that a team can tune a spec on real rollouts first.
	DryRun Mode = "dry-run"
)

// Scope is what one sample source of a metric is: an instance or a target
// group. It follows from the placeholders in the metric's dimensions.
type Scope string

const (
	// ScopeInstance: dimensions hold ${InstanceId}; each canary and
	// baseline instance is a source. Both strategies can measure it.
	ScopeInstance Scope = "instance"
	// ScopeTargetGroup: dimensions hold ${TargetGroup} (and maybe
	// ${LoadBalancer}); each side's target group is a source. Only a
	// blue/green pair has a target group per side.
	ScopeTargetGroup Scope = "target-group"
)

// Sampling is how a source's datapoints become samples.
type Sampling string

const (
	// PerPeriod: every period of every source is one sample.
	PerPeriod Sampling = "period"
	// PerSource: every source is one sample over the window: a ratio's
	// total over total, any other metric's median period. Sources, not
	// periods, are then the independent units, so a source that differs
	// for reasons of its own (host, zone, traffic mix) cannot pass for a
	// difference of images.
	PerSource Sampling = "source"
	// Slope: every source is one sample, the least-squares slope of its
	// datapoints over the window, in the metric's units per hour. This is
	// how a leak shows: as a trend, not as a level.
	Slope Sampling = "slope"
)

// The placeholders a dimension value may be. Each stands for the whole
// value.
const (
	PlaceholderInstance     = "${InstanceId}"
	PlaceholderTargetGroup  = "${TargetGroup}"
	PlaceholderLoadBalancer = "${LoadBalancer}"
)

// Limits of a spec.
const (
	// MaxMetrics bounds a spec: each metric costs one query per source and
	// side (two for a ratio), and GetMetricData takes 500 queries a call.
	MaxMetrics = 20
	// MaxDimensions is CloudWatch's limit per metric.
	MaxDimensions = 30
	// MaxPoints bounds windowSeconds/periodSeconds: a day of minutes.
	MaxPoints = 1440
	// HighResolutionRetention is how far back CloudWatch keeps data at
	// periods under a minute.
	HighResolutionRetention = 3 * 3600
)

// Defaults of a spec's optional fields.
const (
	DefaultAlpha         = 0.01
	DefaultPassScore     = 95.0
	DefaultMarginalScore = 75.0
	DefaultLagSeconds    = 120
	DefaultTolerance     = 0.25
	DefaultPeriodSeconds = 60
	DefaultWindowSeconds = 600
	// DefaultMinSamples is per side, for PerPeriod; a PerSource or Slope
	// metric's default is DefaultMinSources sources.
	DefaultMinSamples = 10
	DefaultMinSources = 2
)

// Spec is a canary analysis: which metrics to compare between the canary
// and the baseline, and how to turn their comparisons into one verdict. It
// is stored as JSON in an SSM parameter; ParseSpec reads it and fills the
// defaults, and json.Marshal writes it back in the same form.
type Spec struct {
	// Mode is Enforce or DryRun.
	Mode Mode `json:"mode"`
	// Alpha is the significance level of every metric's test: a metric
	// can fail only when its p-value is at most Alpha.
	Alpha float64 `json:"alpha"`
	// PassScore and MarginalScore classify the score, the percentage of
	// decided metrics that passed: at least PassScore passes, below
	// MarginalScore fails, in between is inconclusive.
	PassScore     float64 `json:"passScore"`
	MarginalScore float64 `json:"marginalScore"`
	// LagSeconds is how far before the checkpoint each window ends:
	// CloudWatch's last minutes are still arriving, and a half-filled Sum
	// is not a sample.
	LagSeconds int      `json:"lagSeconds"`
	Metrics    []Metric `json:"metrics"`
}

// Metric is one CloudWatch metric compared between canary and baseline.
type Metric struct {
	// Name labels the metric in results; unique within a spec.
	Name       string `json:"name"`
	Namespace  string `json:"namespace"`
	MetricName string `json:"metricName"`
	// Statistic is Sum, Average, Maximum, Minimum, SampleCount or a
	// percentile pNN (p99, p99.9).
	Statistic string `json:"statistic"`
	// Dimensions are the metric's dimensions; values may be placeholders.
	Dimensions map[string]string `json:"dimensions"`
	// Per makes the metric a ratio: each period's value divided by the
	// same period's value of another metric with the same namespace and
	// dimensions (5XX count per request count).
	Per *Denominator `json:"per,omitempty"`
	// Scope is what a source is; derived from the placeholders.
	Scope     Scope     `json:"scope,omitempty"`
	Direction Direction `json:"direction"`
	// Tolerance is the relative change allowed in the bad direction, as a
	// fraction of the baseline's centre (0.25: 25%).
	Tolerance float64 `json:"tolerance"`
	// AbsoluteTolerance is the change allowed in the metric's own units
	// (per hour for Slope); the larger of the two allowances applies.
	AbsoluteTolerance float64  `json:"absoluteTolerance"`
	Sample            Sampling `json:"sample,omitempty"`
	// MinSamples is the fewest samples either side needs for a verdict.
	MinSamples    int `json:"minSamples"`
	WindowSeconds int `json:"windowSeconds"`
	PeriodSeconds int `json:"periodSeconds"`
	// Critical: this metric failing fails the whole analysis, and this
	// metric undecided leaves it undecided.
	Critical bool `json:"critical"`
}

// Denominator is the metric a ratio divides by.
type Denominator struct {
	MetricName string `json:"metricName"`
	Statistic  string `json:"statistic"`
}

// SpecError lists every problem ParseSpec found, each naming its field.
type SpecError struct {
	Problems []string
}

func (e *SpecError) Error() string {
	return "analysis spec: " + strings.Join(e.Problems, "; ")
}

// ParseSpec reads a spec, refuses unknown fields and bad values (a
// *SpecError naming each), and fills the defaults.
func ParseSpec(data []byte) (Spec, error) {
	p := &parser{}
	spec := p.spec(data)
	if len(p.problems) > 0 {
		return Spec{}, &SpecError{Problems: p.problems}
	}
	return spec, nil
}

// Validate checks a spec built in Go (DefaultSpec, tests) by the rules
// ParseSpec applies, after the defaults: a *SpecError, or nil.
func (s Spec) Validate() error {
	data, err := json.Marshal(s)
	if err != nil {
		return &SpecError{Problems: []string{err.Error()}}
	}
	_, err = ParseSpec(data)
	return err
}

// RequireScopes refuses a spec with a metric whose scope is not among
// scopes: a rolling rollout has one target group for both sides, so it can
// measure only ScopeInstance metrics.
func (s Spec) RequireScopes(scopes ...Scope) error {
	var problems []string
	for i, m := range s.Metrics {
		if !slices.Contains(scopes, m.Scope) {
			problems = append(problems, fmt.Sprintf("metrics[%d] (%s) is measured per %s, which this rollout cannot compare", i, m.Name, m.Scope))
		}
	}
	if problems != nil {
		return &SpecError{Problems: problems}
	}
	return nil
}

type parser struct {
	problems []string
}

// addf records a problem at path ("" for the spec itself).
func (p *parser) addf(path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	p.problems = append(p.problems, msg)
}

var specFields = []string{"mode", "alpha", "passScore", "marginalScore", "lagSeconds", "metrics"}

var metricFields = []string{
	"name", "namespace", "metricName", "statistic", "dimensions", "per", "scope", "direction",
	"tolerance", "absoluteTolerance", "sample", "minSamples", "windowSeconds", "periodSeconds", "critical",
}

func (p *parser) spec(data []byte) Spec {
	s := Spec{
		Mode: Enforce, Alpha: DefaultAlpha, PassScore: DefaultPassScore,
		MarginalScore: DefaultMarginalScore, LagSeconds: DefaultLagSeconds,
	}
	obj, ok := p.object("", data, specFields)
	if !ok {
		return s
	}
	if v, ok := p.str(obj, "", "mode"); ok {
		switch Mode(v) {
		case Enforce, DryRun:
			s.Mode = Mode(v)
		default:
			p.addf("mode", "%q is not enforce or dry-run", v)
		}
	}
	if v, ok := p.num(obj, "", "alpha"); ok {
		if v <= 0 || v > 0.25 {
			p.addf("alpha", "%v is not above 0 and at most 0.25", v)
		} else {
			s.Alpha = v
		}
	}
	if v, ok := p.num(obj, "", "passScore"); ok {
		if v < 0 || v > 100 {
			p.addf("passScore", "%v is not between 0 and 100", v)
		} else {
			s.PassScore = v
		}
	}
	if v, ok := p.num(obj, "", "marginalScore"); ok {
		if v < 0 || v > 100 {
			p.addf("marginalScore", "%v is not between 0 and 100", v)
		} else {
			s.MarginalScore = v
		}
	}
	if s.MarginalScore > s.PassScore {
		p.addf("marginalScore", "%v is above passScore %v", s.MarginalScore, s.PassScore)
	}
	if v, ok := p.integer(obj, "", "lagSeconds"); ok {
		if v < 0 || v > 3600 {
			p.addf("lagSeconds", "%d is not between 0 and 3600", v)
		} else {
			s.LagSeconds = v
		}
	}
	raw, ok := obj["metrics"]
	if !ok {
		p.addf("metrics", "missing: a spec needs at least one metric")
		return s
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil || list == nil {
		p.addf("metrics", "want a list of metrics, got %s", kind(raw))
		return s
	}
	switch {
	case len(list) == 0:
		p.addf("metrics", "empty: a spec needs at least one metric")
	case len(list) > MaxMetrics:
		p.addf("metrics", "%d metrics, at most %d", len(list), MaxMetrics)
		return s
	}
	seen := map[string]int{}
	for i, raw := range list {
		path := fmt.Sprintf("metrics[%d]", i)
		m := p.metric(path, raw)
		if m.Name != "" {
			if j, dup := seen[m.Name]; dup {
				p.addf(path+".name", "%q is also metrics[%d]'s name", m.Name, j)
			}
			seen[m.Name] = i
		}
		s.Metrics = append(s.Metrics, m)
	}
	return s
}

var (
	namePattern       = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	percentilePattern = regexp.MustCompile(`^p(\d{1,2})(\.\d{1,2})?$`)
	placeholderLike   = regexp.MustCompile(`\$\{[^}]*\}?`)
)

func (p *parser) metric(path string, data json.RawMessage) Metric {
	m := Metric{
		Tolerance: DefaultTolerance, Sample: PerPeriod,
		WindowSeconds: DefaultWindowSeconds, PeriodSeconds: DefaultPeriodSeconds,
	}
	obj, ok := p.object(path, data, metricFields)
	if !ok {
		return m
	}
	at := func(field string) string { return path + "." + field }
	if v, ok := p.required(obj, path, "name"); ok {
		if !namePattern.MatchString(v) {
			p.addf(at("name"), "%q is not 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", v)
		} else {
			m.Name = v
		}
	}
	if v, ok := p.required(obj, path, "namespace"); ok {
		if len(v) > 255 {
			p.addf(at("namespace"), "longer than 255 characters")
		} else {
			m.Namespace = v
		}
	}
	if v, ok := p.required(obj, path, "metricName"); ok {
		if len(v) > 255 {
			p.addf(at("metricName"), "longer than 255 characters")
		} else {
			m.MetricName = v
		}
	}
	if v, ok := p.required(obj, path, "statistic"); ok {
		if err := checkStatistic(v); err != nil {
			p.addf(at("statistic"), "%v", err)
		} else {
			m.Statistic = v
		}
	}
	derived := p.dimensions(obj, path, &m)
	if raw, ok := obj["per"]; ok {
		m.Per = p.denominator(at("per"), raw)
	}
	m.Scope = derived
	if v, ok := p.str(obj, path, "scope"); ok {
		switch Scope(v) {
		case ScopeInstance, ScopeTargetGroup:
			if derived != "" && Scope(v) != derived {
				p.addf(at("scope"), "%q, but the dimensions' placeholders make it %q", v, derived)
			}
		default:
			p.addf(at("scope"), "%q is not instance or target-group", v)
		}
	}
	if v, ok := p.required(obj, path, "direction"); ok {
		switch Direction(v) {
		case Increase, Decrease, Either:
			m.Direction = Direction(v)
		default:
			p.addf(at("direction"), "%q is not increase, decrease or either", v)
		}
	}
	if v, ok := p.num(obj, path, "tolerance"); ok {
		if v < 0 || v > 100 {
			p.addf(at("tolerance"), "%v is not between 0 and 100 (a fraction: 0.25 allows 25%%)", v)
		} else {
			m.Tolerance = v
		}
	}
	if v, ok := p.num(obj, path, "absoluteTolerance"); ok {
		if v < 0 {
			p.addf(at("absoluteTolerance"), "%v is negative", v)
		} else {
			m.AbsoluteTolerance = v
		}
	}
	if v, ok := p.str(obj, path, "sample"); ok {
		switch Sampling(v) {
		case PerPeriod, PerSource, Slope:
			m.Sample = Sampling(v)
		default:
			p.addf(at("sample"), "%q is not period, source or slope", v)
		}
	}
	if m.Sample == Slope && m.Per != nil {
		p.addf(at("per"), "a slope metric cannot be a ratio")
	}
	if m.Sample != PerPeriod && m.Scope == ScopeTargetGroup {
		p.addf(at("sample"), "%q needs many sources a side; a target group metric has one, so its samples are its periods (sample \"period\")", m.Sample)
	}
	m.MinSamples = DefaultMinSamples
	if m.Sample != PerPeriod {
		m.MinSamples = DefaultMinSources
	}
	if v, ok := p.integer(obj, path, "minSamples"); ok {
		if v < 2 || v > 100000 {
			p.addf(at("minSamples"), "%d is not between 2 and 100000", v)
		} else {
			m.MinSamples = v
		}
	}
	periodOK := true
	if v, ok := p.integer(obj, path, "periodSeconds"); ok {
		if !validPeriod(v) {
			p.addf(at("periodSeconds"), "%d is not 1, 5, 10, 30 or a multiple of 60 up to 86400", v)
			periodOK = false
		} else {
			m.PeriodSeconds = v
		}
	}
	if v, ok := p.integer(obj, path, "windowSeconds"); ok {
		m.WindowSeconds = v
	}
	if periodOK {
		p.window(path, m)
	}
	if v, ok := p.boolean(obj, path, "critical"); ok {
		m.Critical = v
	}
	return m
}

// window checks windowSeconds against the period and the sampling.
func (p *parser) window(path string, m Metric) {
	at := path + ".windowSeconds"
	w, per := m.WindowSeconds, m.PeriodSeconds
	least := 1
	if m.Sample == Slope {
		least = 3 // a slope of two points is all noise
	}
	switch {
	case w <= 0 || w > 86400:
		p.addf(at, "%d is not between 1 and 86400", w)
	case w%per != 0:
		p.addf(at, "%d is not a multiple of periodSeconds %d", w, per)
	case w/per < least:
		p.addf(at, "%d holds %d periods of %d seconds; a slope needs at least %d", w, w/per, per, least)
	case w/per > MaxPoints:
		p.addf(at, "%d holds %d periods of %d seconds, at most %d", w, w/per, per, MaxPoints)
	case per < 60 && w > HighResolutionRetention:
		p.addf(at, "%d reaches past the %d seconds CloudWatch keeps periods under a minute", w, HighResolutionRetention)
	}
}

func validPeriod(v int) bool {
	switch v {
	case 1, 5, 10, 30:
		return true
	}
	return v > 0 && v%60 == 0 && v <= 86400
}

func checkStatistic(v string) error {
	switch v {
	case "Sum", "Average", "Maximum", "Minimum", "SampleCount":
		return nil
	}
	if mm := percentilePattern.FindStringSubmatch(v); mm != nil {
		f, _ := strconv.ParseFloat(v[1:], 64)
		if f > 0 && f < 100 {
			return nil
		}
	}
	return fmt.Errorf("%q is not Sum, Average, Maximum, Minimum, SampleCount or a percentile such as p99 or p99.9", v)
}

// dimensions reads the dimensions and returns the scope their
// placeholders give (empty when they give none that is consistent).
func (p *parser) dimensions(obj map[string]json.RawMessage, path string, m *Metric) Scope {
	at := path + ".dimensions"
	raw, ok := obj["dimensions"]
	if !ok {
		p.addf(at, "missing: a metric needs ${InstanceId} or ${TargetGroup} in a dimension to tell canary from baseline")
		return ""
	}
	var dims map[string]string
	if err := json.Unmarshal(raw, &dims); err != nil || dims == nil {
		p.addf(at, "want an object of strings, got %s", kind(raw))
		return ""
	}
	if len(dims) > MaxDimensions {
		p.addf(at, "%d dimensions, at most %d", len(dims), MaxDimensions)
		return ""
	}
	found := map[string]string{} // placeholder -> dimension name
	names := make([]string, 0, len(dims))
	for name := range dims {
		names = append(names, name)
	}
	slices.Sort(names)
	bad := false
	for _, name := range names {
		value := dims[name]
		dat := at + "." + name
		switch {
		case name == "" || len(name) > 255:
			p.addf(at, "dimension name %q is not 1 to 255 characters", name)
			bad = true
		case value == "" || len(value) > 1024:
			p.addf(dat, "value is not 1 to 1024 characters")
			bad = true
		case value == PlaceholderInstance || value == PlaceholderTargetGroup || value == PlaceholderLoadBalancer:
			if other, dup := found[value]; dup {
				p.addf(dat, "%s is already dimension %s's value", value, other)
				bad = true
			}
			found[value] = name
		case placeholderLike.MatchString(value):
			p.addf(dat, "%q: a placeholder is the whole value, one of %s, %s or %s", value, PlaceholderInstance, PlaceholderTargetGroup, PlaceholderLoadBalancer)
			bad = true
		}
	}
	m.Dimensions = dims
	_, inst := found[PlaceholderInstance]
	_, tg := found[PlaceholderTargetGroup]
	_, lb := found[PlaceholderLoadBalancer]
	switch {
	case inst && (tg || lb):
		p.addf(at, "%s cannot be measured together with %s or %s: a source is an instance or a target group", PlaceholderInstance, PlaceholderTargetGroup, PlaceholderLoadBalancer)
	case lb && !tg:
		p.addf(at, "%s needs %s: the load balancer is the target group's", PlaceholderLoadBalancer, PlaceholderTargetGroup)
	case inst:
		return ScopeInstance
	case tg:
		return ScopeTargetGroup
	case !bad:
		p.addf(at, "no %s or %s: canary and baseline would read the same series", PlaceholderInstance, PlaceholderTargetGroup)
	}
	return ""
}

func (p *parser) denominator(path string, raw json.RawMessage) *Denominator {
	obj, ok := p.object(path, raw, []string{"metricName", "statistic"})
	if !ok {
		return nil
	}
	d := &Denominator{Statistic: "Sum"}
	if v, ok := p.required(obj, path, "metricName"); ok {
		if len(v) > 255 {
			p.addf(path+".metricName", "longer than 255 characters")
		}
		d.MetricName = v
	}
	if v, ok := p.str(obj, path, "statistic"); ok {
		if err := checkStatistic(v); err != nil {
			p.addf(path+".statistic", "%v", err)
		}
		d.Statistic = v
	}
	return d
}

// object decodes one JSON object and refuses fields not in known,
// suggesting the known field that differs only in case.
func (p *parser) object(path string, data []byte, known []string) (map[string]json.RawMessage, bool) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			p.addf(path, "want an object, got %s", kind(data))
		} else {
			p.addf(path, "not valid JSON: %v", err)
		}
		return nil, false
	}
	if obj == nil {
		p.addf(path, "want an object, got null")
		return nil, false
	}
	var unknown []string
	for k := range obj {
		if !slices.Contains(known, k) {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		hint := ""
		for _, f := range known {
			if strings.EqualFold(f, k) {
				hint = fmt.Sprintf(" (did you mean %q?)", f)
			}
		}
		p.addf(path, "unknown field %q%s", k, hint)
	}
	return obj, true
}

func (p *parser) str(obj map[string]json.RawMessage, path, field string) (string, bool) {
	raw, ok := obj[field]
	if !ok {
		return "", false
	}
	var v string
	if raw[0] != '"' || json.Unmarshal(raw, &v) != nil {
		p.addf(fieldPath(path, field), "want a string, got %s", kind(raw))
		return "", false
	}
	return v, true
}

func (p *parser) required(obj map[string]json.RawMessage, path, field string) (string, bool) {
	if _, ok := obj[field]; !ok {
		p.addf(fieldPath(path, field), "missing")
		return "", false
	}
	v, ok := p.str(obj, path, field)
	if ok && v == "" {
		p.addf(fieldPath(path, field), "empty")
		return "", false
	}
	return v, ok
}

func (p *parser) num(obj map[string]json.RawMessage, path, field string) (float64, bool) {
	raw, ok := obj[field]
	if !ok {
		return 0, false
	}
	var v float64
	if json.Unmarshal(raw, &v) != nil || kind(raw) != "a number" || math.IsInf(v, 0) {
		p.addf(fieldPath(path, field), "want a number, got %s", kind(raw))
		return 0, false
	}
	return v, true
}

func (p *parser) integer(obj map[string]json.RawMessage, path, field string) (int, bool) {
	raw, ok := obj[field]
	if !ok {
		return 0, false
	}
	var v float64
	if json.Unmarshal(raw, &v) != nil || kind(raw) != "a number" || v != math.Trunc(v) || math.Abs(v) > 1e9 {
		p.addf(fieldPath(path, field), "want a whole number, got %s", strings.TrimSpace(string(raw)))
		return 0, false
	}
	return int(v), true
}

func (p *parser) boolean(obj map[string]json.RawMessage, path, field string) (bool, bool) {
	raw, ok := obj[field]
	if !ok {
		return false, false
	}
	var v bool
	if kind(raw) != "a boolean" || json.Unmarshal(raw, &v) != nil {
		p.addf(fieldPath(path, field), "want true or false, got %s", kind(raw))
		return false, false
	}
	return v, true
}

// fieldPath names a top-level field by itself and a nested one with its
// parent's path.
func fieldPath(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

// kind names the JSON type of raw, for messages.
func kind(raw []byte) string {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return "nothing"
	}
	switch t[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "a list"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}
