package analysis

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// metricDoc is a valid metric, as a JSON object to change field by field.
func metricDoc() map[string]any {
	return map[string]any{
		"name": "errors", "namespace": "App", "metricName": "HTTPCode_Target_5XX_Count", "statistic": "Sum",
		"dimensions": map[string]any{"InstanceId": "${InstanceId}"},
		"per":        map[string]any{"metricName": "RequestCount"},
		"direction":  "increase",
	}
}

func specDoc(metrics ...map[string]any) map[string]any {
	if metrics == nil {
		metrics = []map[string]any{metricDoc()}
	}
	return map[string]any{"metrics": metrics}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseSpecFillsTheDefaults(t *testing.T) {
	t.Parallel()
	s, err := ParseSpec(mustJSON(t, specDoc()))
	if err != nil {
		t.Fatal(err)
	}
	want := Spec{
		Mode: Enforce, Alpha: 0.01, PassScore: 95, MarginalScore: 75, LagSeconds: 120,
		Metrics: []Metric{{
			Name: "errors", Namespace: "App", MetricName: "HTTPCode_Target_5XX_Count", Statistic: "Sum",
			Dimensions: map[string]string{"InstanceId": "${InstanceId}"},
			Per:        &Denominator{MetricName: "RequestCount", Statistic: "Sum"},
			Scope:      ScopeInstance, Direction: Increase, Tolerance: 0.25, Sample: PerPeriod,
			MinSamples: 10, WindowSeconds: 600, PeriodSeconds: 60,
		}},
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("got  %+v\nwant %+v", s, want)
	}
}

func TestParseSpecReadsEveryField(t *testing.T) {
	t.Parallel()
	doc := `{
	  "mode": "dry-run", "alpha": 0.02, "passScore": 90, "marginalScore": 50, "lagSeconds": 180,
	  "metrics": [{
	    "name": "alb-p99", "namespace": "AWS/ApplicationELB", "metricName": "TargetResponseTime", "statistic": "p99.9",
	    "dimensions": {"TargetGroup": "${TargetGroup}", "LoadBalancer": "${LoadBalancer}"},
	    "scope": "target-group", "direction": "either", "tolerance": 0.5, "absoluteTolerance": 0.01,
	    "sample": "period", "minSamples": 5, "windowSeconds": 300, "periodSeconds": 10, "critical": true
	  }, {
	    "name": "leak", "namespace": "CWAgent", "metricName": "mem_used_percent", "statistic": "Maximum",
	    "dimensions": {"InstanceId": "${InstanceId}", "path": "/"},
	    "direction": "increase", "sample": "slope", "windowSeconds": 180
	  }]
	}`
	s, err := ParseSpec([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	m := s.Metrics[0]
	if s.Mode != DryRun || s.Alpha != 0.02 || s.PassScore != 90 || s.MarginalScore != 50 || s.LagSeconds != 180 {
		t.Errorf("spec fields: %+v", s)
	}
	if m.Scope != ScopeTargetGroup || m.Direction != Either || m.Tolerance != 0.5 || m.AbsoluteTolerance != 0.01 ||
		m.MinSamples != 5 || m.WindowSeconds != 300 || m.PeriodSeconds != 10 || !m.Critical || m.Statistic != "p99.9" {
		t.Errorf("metric fields: %+v", m)
	}
	if leak := s.Metrics[1]; leak.Sample != Slope || leak.MinSamples != DefaultMinSources || leak.Scope != ScopeInstance {
		t.Errorf("a slope metric: %+v, want 2 sources a side at least and instance scope", leak)
	}
}

func TestParseSpecRefusesWithTheFieldNamed(t *testing.T) {
	t.Parallel()
	set := func(field string, v any) func(m map[string]any) {
		return func(m map[string]any) { m[field] = v }
	}
	del := func(field string) func(m map[string]any) {
		return func(m map[string]any) { delete(m, field) }
	}
	dims := func(d map[string]any) func(m map[string]any) { return set("dimensions", d) }
	tooMany := map[string]any{"InstanceId": "${InstanceId}"}
	for i := range 30 {
		tooMany[string(rune('a'+i%26))+strings.Repeat("x", i/26)] = "v"
	}
	cases := []struct {
		name   string
		spec   func(s map[string]any)
		metric func(m map[string]any)
		raw    string
		want   string
	}{
		{name: "broken JSON", raw: `{"metrics": [`, want: "not valid JSON: unexpected end of JSON input"},
		{name: "a list instead of an object", raw: `[]`, want: "want an object, got a list"},
		{name: "null", raw: `null`, want: "want an object, got null"},
		{name: "two objects", raw: `{} {}`, want: "not valid JSON: invalid character '{' after top-level value"},
		{name: "an unknown top-level field", spec: func(s map[string]any) { s["rechecks"] = 3 }, want: `unknown field "rechecks"`},
		{name: "a field in the wrong case, with a hint", spec: func(s map[string]any) { s["Mode"] = "enforce" }, want: `unknown field "Mode" (did you mean "mode"?)`},
		{name: "a mode that is not enforce or dry-run", spec: func(s map[string]any) { s["mode"] = "shadow" }, want: `mode: "shadow" is not enforce or dry-run`},
		{name: "a mode that is not a string", spec: func(s map[string]any) { s["mode"] = true }, want: "mode: want a string, got a boolean"},
		{name: "alpha zero", spec: func(s map[string]any) { s["alpha"] = 0 }, want: "alpha: 0 is not above 0 and at most 0.25"},
		{name: "alpha too large", spec: func(s map[string]any) { s["alpha"] = 0.5 }, want: "alpha: 0.5 is not above 0 and at most 0.25"},
		{name: "alpha as a string", spec: func(s map[string]any) { s["alpha"] = "0.05" }, want: "alpha: want a number, got a string"},
		{name: "alpha null", spec: func(s map[string]any) { s["alpha"] = nil }, want: "alpha: want a number, got null"},
		{name: "a pass score above 100", spec: func(s map[string]any) { s["passScore"] = 101 }, want: "passScore: 101 is not between 0 and 100"},
		{name: "a negative marginal score", spec: func(s map[string]any) { s["marginalScore"] = -1 }, want: "marginalScore: -1 is not between 0 and 100"},
		{name: "a marginal score above the pass score", spec: func(s map[string]any) { s["marginalScore"] = 96 }, want: "marginalScore: 96 is above passScore 95"},
		{name: "a fractional lag", spec: func(s map[string]any) { s["lagSeconds"] = 1.5 }, want: "lagSeconds: want a whole number, got 1.5"},
		{name: "a lag over an hour", spec: func(s map[string]any) { s["lagSeconds"] = 3601 }, want: "lagSeconds: 3601 is not between 0 and 3600"},
		{name: "no metrics", spec: func(s map[string]any) { delete(s, "metrics") }, want: "metrics: missing: a spec needs at least one metric"},
		{name: "metrics not a list", spec: func(s map[string]any) { s["metrics"] = map[string]any{} }, want: "metrics: want a list of metrics, got an object"},
		{name: "an empty metric list", spec: func(s map[string]any) { s["metrics"] = []any{} }, want: "metrics: empty: a spec needs at least one metric"},
		{name: "more than 20 metrics", spec: func(s map[string]any) {
			var list []any
			for i := range 21 {
				m := metricDoc()
				m["name"] = strings.Repeat("m", i+1)
				list = append(list, m)
			}
			s["metrics"] = list
		}, want: "metrics: 21 metrics, at most 20"},
		{name: "a metric that is not an object", spec: func(s map[string]any) { s["metrics"] = []any{"errors"} }, want: "metrics[0]: want an object, got a string"},
		{name: "an unknown metric field", metric: set("threshold", 0.1), want: `metrics[0]: unknown field "threshold"`},
		{name: "a metric without a name", metric: del("name"), want: "metrics[0].name: missing"},
		{name: "an empty name", metric: set("name", ""), want: "metrics[0].name: empty"},
		{name: "a name with a space", metric: set("name", "error rate"), want: `metrics[0].name: "error rate" is not 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit`},
		{name: "a name that is not a string", metric: set("name", 7), want: "metrics[0].name: want a string, got a number"},
		{name: "no namespace", metric: del("namespace"), want: "metrics[0].namespace: missing"},
		{name: "a namespace too long", metric: set("namespace", strings.Repeat("n", 256)), want: "metrics[0].namespace: longer than 255 characters"},
		{name: "no metric name", metric: del("metricName"), want: "metrics[0].metricName: missing"},
		{name: "a metric name too long", metric: set("metricName", strings.Repeat("n", 256)), want: "metrics[0].metricName: longer than 255 characters"},
		{name: "no statistic", metric: del("statistic"), want: "metrics[0].statistic: missing"},
		{name: "a statistic CloudWatch does not know", metric: set("statistic", "avg"), want: `metrics[0].statistic: "avg" is not Sum, Average, Maximum, Minimum, SampleCount or a percentile such as p99 or p99.9`},
		{name: "the 100th percentile", metric: set("statistic", "p100"), want: `metrics[0].statistic: "p100" is not Sum, Average, Maximum, Minimum, SampleCount or a percentile such as p99 or p99.9`},
		{name: "the 0th percentile", metric: set("statistic", "p0"), want: `metrics[0].statistic: "p0" is not Sum, Average, Maximum, Minimum, SampleCount or a percentile such as p99 or p99.9`},
		{name: "no dimensions", metric: del("dimensions"), want: "metrics[0].dimensions: missing: a metric needs ${InstanceId} or ${TargetGroup} in a dimension to tell canary from baseline"},
		{name: "dimensions as a list", metric: set("dimensions", []any{"InstanceId"}), want: "metrics[0].dimensions: want an object of strings, got a list"},
		{name: "more than 30 dimensions", metric: dims(tooMany), want: "metrics[0].dimensions: 31 dimensions, at most 30"},
		{name: "an empty dimension value", metric: dims(map[string]any{"InstanceId": "${InstanceId}", "path": ""}), want: "metrics[0].dimensions.path: value is not 1 to 1024 characters"},
		{name: "an empty dimension name", metric: dims(map[string]any{"InstanceId": "${InstanceId}", "": "x"}), want: `metrics[0].dimensions: dimension name "" is not 1 to 255 characters`},
		{name: "a placeholder inside a value", metric: dims(map[string]any{"InstanceId": "host-${InstanceId}"}), want: `metrics[0].dimensions.InstanceId: "host-${InstanceId}": a placeholder is the whole value, one of ${InstanceId}, ${TargetGroup} or ${LoadBalancer}`},
		{name: "an unknown placeholder", metric: dims(map[string]any{"InstanceId": "${InstanceId}", "AutoScalingGroupName": "${AutoScalingGroupName}"}), want: `metrics[0].dimensions.AutoScalingGroupName: "${AutoScalingGroupName}": a placeholder is the whole value, one of ${InstanceId}, ${TargetGroup} or ${LoadBalancer}`},
		{name: "one placeholder twice", metric: dims(map[string]any{"A": "${InstanceId}", "B": "${InstanceId}"}), want: "metrics[0].dimensions.B: ${InstanceId} is already dimension A's value"},
		{name: "an instance and a target group in one metric", metric: dims(map[string]any{"InstanceId": "${InstanceId}", "TargetGroup": "${TargetGroup}"}), want: "metrics[0].dimensions: ${InstanceId} cannot be measured together with ${TargetGroup} or ${LoadBalancer}: a source is an instance or a target group"},
		{name: "a load balancer without its target group", metric: dims(map[string]any{"LoadBalancer": "${LoadBalancer}"}), want: "metrics[0].dimensions: ${LoadBalancer} needs ${TargetGroup}: the load balancer is the target group's"},
		{name: "no placeholder at all", metric: dims(map[string]any{"LoadBalancer": "app/web/123"}), want: "metrics[0].dimensions: no ${InstanceId} or ${TargetGroup}: canary and baseline would read the same series"},
		{name: "a denominator that is not an object", metric: set("per", "RequestCount"), want: "metrics[0].per: want an object, got a string"},
		{name: "a denominator without a metric name", metric: set("per", map[string]any{"statistic": "Sum"}), want: "metrics[0].per.metricName: missing"},
		{name: "a denominator with an unknown field", metric: set("per", map[string]any{"metricName": "RequestCount", "namespace": "X"}), want: `metrics[0].per: unknown field "namespace"`},
		{name: "a denominator with a bad statistic", metric: set("per", map[string]any{"metricName": "RequestCount", "statistic": "total"}), want: `metrics[0].per.statistic: "total" is not Sum, Average, Maximum, Minimum, SampleCount or a percentile such as p99 or p99.9`},
		{name: "a scope the placeholders contradict", metric: set("scope", "target-group"), want: `metrics[0].scope: "target-group", but the dimensions' placeholders make it "instance"`},
		{name: "an unknown scope", metric: set("scope", "host"), want: `metrics[0].scope: "host" is not instance or target-group`},
		{name: "no direction", metric: del("direction"), want: "metrics[0].direction: missing"},
		{name: "a direction that is not one of the three", metric: set("direction", "up"), want: `metrics[0].direction: "up" is not increase, decrease or either`},
		{name: "a negative tolerance", metric: set("tolerance", -0.1), want: "metrics[0].tolerance: -0.1 is not between 0 and 100 (a fraction: 0.25 allows 25%)"},
		{name: "a tolerance as a percentage string", metric: set("tolerance", "10%"), want: "metrics[0].tolerance: want a number, got a string"},
		{name: "a negative absolute tolerance", metric: set("absoluteTolerance", -1), want: "metrics[0].absoluteTolerance: -1 is negative"},
		{name: "an unknown sampling", metric: set("sample", "instance"), want: `metrics[0].sample: "instance" is not period, source or slope`},
		{name: "a slope of a ratio", metric: set("sample", "slope"), want: "metrics[0].per: a slope metric cannot be a ratio"},
		{name: "per-source samples of a target group", metric: func(m map[string]any) {
			m["dimensions"] = map[string]any{"TargetGroup": "${TargetGroup}"}
			m["sample"] = "source"
		}, want: `metrics[0].sample: "source" needs many sources a side; a target group metric has one, so its samples are its periods (sample "period")`},
		{name: "one sample a side", metric: set("minSamples", 1), want: "metrics[0].minSamples: 1 is not between 2 and 100000"},
		{name: "a fractional minimum", metric: set("minSamples", 2.5), want: "metrics[0].minSamples: want a whole number, got 2.5"},
		{name: "a period CloudWatch does not offer", metric: set("periodSeconds", 90), want: "metrics[0].periodSeconds: 90 is not 1, 5, 10, 30 or a multiple of 60 up to 86400"},
		{name: "a period over a day", metric: set("periodSeconds", 86460), want: "metrics[0].periodSeconds: 86460 is not 1, 5, 10, 30 or a multiple of 60 up to 86400"},
		{name: "a window of no time", metric: set("windowSeconds", 0), want: "metrics[0].windowSeconds: 0 is not between 1 and 86400"},
		{name: "a window that is not whole periods", metric: set("windowSeconds", 630), want: "metrics[0].windowSeconds: 630 is not a multiple of periodSeconds 60"},
		{name: "a slope over two periods", metric: func(m map[string]any) {
			delete(m, "per")
			m["sample"] = "slope"
			m["windowSeconds"] = 120
		}, want: "metrics[0].windowSeconds: 120 holds 2 periods of 60 seconds; a slope needs at least 3"},
		{name: "a window of more periods than a day of minutes", metric: func(m map[string]any) {
			m["periodSeconds"] = 10
			m["windowSeconds"] = 14410
		}, want: "metrics[0].windowSeconds: 14410 holds 1441 periods of 10 seconds, at most 1440"},
		{name: "high-resolution data older than CloudWatch keeps", metric: func(m map[string]any) {
			m["periodSeconds"] = 30
			m["windowSeconds"] = 10830
		}, want: "metrics[0].windowSeconds: 10830 reaches past the 10800 seconds CloudWatch keeps periods under a minute"},
		{name: "critical as a string", metric: set("critical", "yes"), want: "metrics[0].critical: want true or false, got a string"},
		{name: "two metrics with one name", spec: func(s map[string]any) {
			s["metrics"] = []any{metricDoc(), metricDoc()}
		}, want: `metrics[1].name: "errors" is also metrics[0]'s name`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			data := []byte(c.raw)
			if c.raw == "" {
				m := metricDoc()
				if c.metric != nil {
					c.metric(m)
				}
				s := specDoc(m)
				if c.spec != nil {
					c.spec(s)
				}
				data = mustJSON(t, s)
			}
			_, err := ParseSpec(data)
			var se *SpecError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a *SpecError", err)
			}
			if !slices.Equal(se.Problems, []string{c.want}) {
				t.Errorf("problems:\n got %q\nwant [%q]", se.Problems, c.want)
			}
		})
	}
}

func TestParseSpecReportsEveryProblemAtOnce(t *testing.T) {
	t.Parallel()
	m := metricDoc()
	m["direction"] = "up"
	m["tolerance"] = -1
	_, err := ParseSpec(mustJSON(t, specDoc(m)))
	want := `analysis spec: metrics[0].direction: "up" is not increase, decrease or either; metrics[0].tolerance: -1 is not between 0 and 100 (a fraction: 0.25 allows 25%)`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}

func TestASpecWritesBackAsItReads(t *testing.T) {
	t.Parallel()
	s, err := ParseSpec(mustJSON(t, specDoc()))
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseSpec(mustJSON(t, s))
	if err != nil {
		t.Fatalf("the marshalled spec does not parse: %v", err)
	}
	if !reflect.DeepEqual(s, again) {
		t.Errorf("round trip changed the spec:\n%+v\n%+v", s, again)
	}
}

func TestTheDefaultSpecIsValid(t *testing.T) {
	t.Parallel()
	if err := DefaultSpec().Validate(); err != nil {
		t.Fatal(err)
	}
	if err := DefaultSpec().RequireScopes(ScopeInstance); err != nil {
		t.Errorf("a rolling rollout cannot use the default spec: %v", err)
	}
}

func TestRequireScopesRefusesTargetGroupMetricsForRolling(t *testing.T) {
	t.Parallel()
	m := metricDoc()
	m["name"] = "alb-5xx"
	m["dimensions"] = map[string]any{"TargetGroup": "${TargetGroup}", "LoadBalancer": "${LoadBalancer}"}
	s, err := ParseSpec(mustJSON(t, specDoc(metricDoc(), m)))
	if err != nil {
		t.Fatal(err)
	}
	err = s.RequireScopes(ScopeInstance)
	if err == nil || err.Error() != "analysis spec: metrics[1] (alb-5xx) is measured per target-group, which this rollout cannot compare" {
		t.Errorf("err = %v", err)
	}
	if err := s.RequireScopes(ScopeInstance, ScopeTargetGroup); err != nil {
		t.Errorf("a blue/green pair measures both: %v", err)
	}
}

func TestValidateDerivesWhatAGoSpecLeavesOut(t *testing.T) {
	t.Parallel()
	s := DefaultSpec()
	for i := range s.Metrics {
		s.Metrics[i].Scope, s.Metrics[i].Sample = "", ""
	}
	if err := s.Validate(); err != nil {
		t.Errorf("scope and sample have defaults: %v", err)
	}
	s.Alpha = 0
	if err := s.Validate(); err == nil || err.Error() != "analysis spec: alpha: 0 is not above 0 and at most 0.25" {
		t.Errorf("err = %v, want alpha refused", err)
	}
}
