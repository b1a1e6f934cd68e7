package analysis

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// FuzzParseSpec: a spec from anywhere never panics the parser; a refusal
// names at least one problem; an accepted spec validates, writes back to
// the same spec, and expands into queries.
func FuzzParseSpec(f *testing.F) {
	def, _ := json.Marshal(DefaultSpec())
	f.Add(def)
	f.Add([]byte(`{"metrics": [{"name": "alb", "namespace": "AWS/ApplicationELB", "metricName": "TargetResponseTime", "statistic": "p99.9",
	  "dimensions": {"TargetGroup": "${TargetGroup}", "LoadBalancer": "${LoadBalancer}"}, "direction": "either", "periodSeconds": 10, "windowSeconds": 300}]}`))
	f.Add([]byte(`{"mode": "dry-run", "metrics": [{"name": "x", "namespace": "n", "metricName": "m", "statistic": "Sum", "dimensions": {"InstanceId": "${InstanceId}"}, "direction": "up"}]}`))
	f.Add([]byte(`{"metrics": [{"Name": 1, "dimensions": {"a": "${Instance"}}], "alpha": -1}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"metrics": null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSpec(data)
		if err != nil {
			var se *SpecError
			if !errors.As(err, &se) || len(se.Problems) == 0 {
				t.Fatalf("a refusal without problems: %v", err)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("an accepted spec does not validate: %v", err)
		}
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseSpec(b)
		if err != nil || !reflect.DeepEqual(s, again) {
			t.Fatalf("written back it reads differently (%v):\n%+v\n%+v", err, s, again)
		}
		side := func(p string) Side {
			return Side{Instances: []string{"i-" + p}, TargetGroups: []TargetGroup{{
				ARN:             "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/" + p + "/1",
				LoadBalancerARN: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/2",
			}}}
		}
		if _, err := s.Queries(side("a"), side("b")); err != nil {
			t.Fatalf("an accepted spec does not expand: %v", err)
		}
	})
}
