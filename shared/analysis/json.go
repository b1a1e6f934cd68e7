package analysis

import (
	"encoding/json"
	"math"
	"strconv"
)

// num is a float64 in JSON with 4 significant digits (p-values 3), and
// null for NaN: the ledger keeps what a reader needs, not float noise.
type num float64

func (n num) MarshalJSON() ([]byte, error) {
	v := float64(n)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, round(v, 4), 'g', -1, 64), nil
}

func (n *num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = num(math.NaN())
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*n = num(v)
	return nil
}

// pval is a p-value in JSON: 3 significant digits.
type pval float64

func (p pval) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, round(float64(p), 3), 'g', -1, 64), nil
}

type metricWire struct {
	Name       string    `json:"name"`
	Verdict    Verdict   `json:"verdict"`
	Rule       Rule      `json:"rule"`
	Critical   bool      `json:"critical,omitempty"`
	Direction  Direction `json:"dir"`
	N          [2]int    `json:"n"`
	Sources    [2]int    `json:"src"`
	Median     *[2]num   `json:"median,omitempty"`
	Rate       *[2]num   `json:"rate,omitempty"`
	U          *float64  `json:"u,omitempty"`
	Z          *num      `json:"z,omitempty"`
	P          *pval     `json:"p,omitempty"`
	MinP       *pval     `json:"minP,omitempty"`
	Method     Method    `json:"test,omitempty"`
	Shift      *num      `json:"shift,omitempty"`
	Relative   *num      `json:"rel,omitempty"`
	Allowed    *num      `json:"allowed,omitempty"`
	AllowedRel *num      `json:"allowedRel,omitempty"`
}

// MarshalJSON writes the compact form: [canary, baseline] pairs, 4
// significant digits (U exact), and no test fields when there was no test.
func (m MetricResult) MarshalJSON() ([]byte, error) {
	w := metricWire{
		Name: m.Name, Verdict: m.Verdict, Rule: m.Rule, Critical: m.Critical, Direction: m.Direction,
		N: m.N, Sources: m.Sources,
	}
	center := &[2]num{num(m.Center[0]), num(m.Center[1])}
	if m.Ratio {
		w.Rate = center
	} else {
		w.Median = center
	}
	if m.Rule != RuleTooFewSamples {
		u, z, p := m.U, num(m.Z), pval(m.P)
		w.U, w.Z, w.P, w.Method = &u, &z, &p, m.Method
		if m.Rule == RuleCannotBeSignificant {
			minP := pval(m.MinP)
			w.MinP = &minP
		}
		shift, allowed := num(m.Shift), num(m.Allowed)
		w.Shift, w.Allowed = &shift, &allowed
		if !math.IsNaN(m.Relative) {
			rel, allowedRel := num(m.Relative), num(m.AllowedRelative)
			w.Relative, w.AllowedRel = &rel, &allowedRel
		}
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (m *MetricResult) UnmarshalJSON(b []byte) error {
	var w metricWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*m = MetricResult{
		Name: w.Name, Verdict: w.Verdict, Rule: w.Rule, Critical: w.Critical, Direction: w.Direction,
		N: w.N, Sources: w.Sources, Method: w.Method,
		Shift: math.NaN(), Relative: math.NaN(), Allowed: math.NaN(), AllowedRelative: math.NaN(),
		Center: [2]float64{math.NaN(), math.NaN()},
	}
	center := w.Median
	if w.Rate != nil {
		m.Ratio, center = true, w.Rate
	}
	if center != nil {
		m.Center = [2]float64{float64(center[0]), float64(center[1])}
	}
	if w.U != nil {
		m.U = *w.U
	}
	for _, f := range []struct {
		from *num
		to   *float64
	}{{w.Z, &m.Z}, {w.Shift, &m.Shift}, {w.Relative, &m.Relative}, {w.Allowed, &m.Allowed}, {w.AllowedRel, &m.AllowedRelative}} {
		if f.from != nil {
			*f.to = float64(*f.from)
		}
	}
	if w.P != nil {
		m.P = float64(*w.P)
	}
	if w.MinP != nil {
		m.MinP = float64(*w.MinP)
	}
	return nil
}

type resultWire struct {
	Verdict Verdict        `json:"verdict"`
	Reason  string         `json:"reason"`
	Mode    Mode           `json:"mode"`
	Score   num            `json:"score"`
	Alpha   float64        `json:"alpha"`
	Metrics []MetricResult `json:"metrics"`
}

// MarshalJSON writes the compact form stored in the ledger.
func (r Result) MarshalJSON() ([]byte, error) {
	return json.Marshal(resultWire{r.Verdict, r.Reason, r.Mode, num(r.Score), r.Alpha, r.Metrics})
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (r *Result) UnmarshalJSON(b []byte) error {
	w := resultWire{Score: num(math.NaN())}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*r = Result{Verdict: w.Verdict, Reason: w.Reason, Mode: w.Mode, Score: float64(w.Score), Alpha: w.Alpha, Metrics: w.Metrics}
	return nil
}
