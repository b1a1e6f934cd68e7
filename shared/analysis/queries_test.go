package analysis

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

const (
	blueTG  = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-blue/73e2d6bc24d8a067"
	greenTG = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-green/0f1e2d3c4b5a6978"
	webALB  = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188"
)

func pairSpec(t *testing.T) Spec {
	t.Helper()
	s, err := ParseSpec([]byte(`{"metrics": [
	  {"name": "errors", "namespace": "App", "metricName": "HTTPCode_Target_5XX_Count", "statistic": "Sum",
	   "dimensions": {"InstanceId": "${InstanceId}"}, "per": {"metricName": "RequestCount"}, "direction": "increase"},
	  {"name": "alb-p99", "namespace": "AWS/ApplicationELB", "metricName": "TargetResponseTime", "statistic": "p99",
	   "dimensions": {"TargetGroup": "${TargetGroup}", "LoadBalancer": "${LoadBalancer}"}, "direction": "increase",
	   "periodSeconds": 300, "windowSeconds": 1800}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestQueriesExpandThePlaceholdersForEverySource(t *testing.T) {
	t.Parallel()
	s := pairSpec(t)
	canary := Side{Instances: []string{"i-new1"}, TargetGroups: []TargetGroup{{ARN: greenTG, LoadBalancerARN: webALB}}}
	baseline := Side{Instances: []string{"i-old1", "i-old2"}, TargetGroups: []TargetGroup{{ARN: blueTG, LoadBalancerARN: webALB}}}
	qs, err := s.Queries(canary, baseline)
	if err != nil {
		t.Fatal(err)
	}
	inst := func(id string) []Dimension { return []Dimension{{"InstanceId", id}} }
	tg := func(name string) []Dimension {
		return []Dimension{{"LoadBalancer", "app/web/50dc6c495c0c9188"}, {"TargetGroup", name}}
	}
	want := []Query{
		{ID: "m0c0v", Metric: "errors", Canary: true, Source: "i-new1", Namespace: "App", MetricName: "HTTPCode_Target_5XX_Count", Dimensions: inst("i-new1"), Stat: "Sum", Period: 60},
		{ID: "m0c0d", Metric: "errors", Canary: true, Source: "i-new1", Denominator: true, Namespace: "App", MetricName: "RequestCount", Dimensions: inst("i-new1"), Stat: "Sum", Period: 60},
		{ID: "m0b0v", Metric: "errors", Source: "i-old1", Namespace: "App", MetricName: "HTTPCode_Target_5XX_Count", Dimensions: inst("i-old1"), Stat: "Sum", Period: 60},
		{ID: "m0b0d", Metric: "errors", Source: "i-old1", Denominator: true, Namespace: "App", MetricName: "RequestCount", Dimensions: inst("i-old1"), Stat: "Sum", Period: 60},
		{ID: "m0b1v", Metric: "errors", Source: "i-old2", Namespace: "App", MetricName: "HTTPCode_Target_5XX_Count", Dimensions: inst("i-old2"), Stat: "Sum", Period: 60},
		{ID: "m0b1d", Metric: "errors", Source: "i-old2", Denominator: true, Namespace: "App", MetricName: "RequestCount", Dimensions: inst("i-old2"), Stat: "Sum", Period: 60},
		{ID: "m1c0v", Metric: "alb-p99", Canary: true, Source: "targetgroup/web-green/0f1e2d3c4b5a6978", Namespace: "AWS/ApplicationELB", MetricName: "TargetResponseTime", Dimensions: tg("targetgroup/web-green/0f1e2d3c4b5a6978"), Stat: "p99", Period: 300},
		{ID: "m1b0v", Metric: "alb-p99", Source: "targetgroup/web-blue/73e2d6bc24d8a067", Namespace: "AWS/ApplicationELB", MetricName: "TargetResponseTime", Dimensions: tg("targetgroup/web-blue/73e2d6bc24d8a067"), Stat: "p99", Period: 300},
	}
	if !reflect.DeepEqual(qs, want) {
		t.Errorf("queries:\n got %+v\nwant %+v", qs, want)
	}
	id := regexp.MustCompile(`^[a-z][a-zA-Z0-9_]*$`)
	for _, q := range qs {
		if !id.MatchString(q.ID) {
			t.Errorf("%s is not a valid MetricDataQuery Id", q.ID)
		}
	}
}

func TestQueryIDsStayUniqueWithManyMetricsAndSources(t *testing.T) {
	t.Parallel()
	var metrics []string
	for i := range MaxMetrics {
		metrics = append(metrics, `{"name": "m`+strings.Repeat("x", i)+`", "namespace": "App", "metricName": "X", "statistic": "Sum", "dimensions": {"InstanceId": "${InstanceId}"}, "per": {"metricName": "Y"}, "direction": "either"}`)
	}
	s, err := ParseSpec([]byte(`{"metrics": [` + strings.Join(metrics, ",") + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	var canary, baseline Side
	for i := range 120 {
		id := "i-" + strings.Repeat("0", 3) + string(rune('a'+i%26)) + strings.Repeat("z", i/26)
		if i < 12 {
			canary.Instances = append(canary.Instances, id)
		} else {
			baseline.Instances = append(baseline.Instances, id)
		}
	}
	qs, err := s.Queries(canary, baseline)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, q := range qs {
		if seen[q.ID] {
			t.Fatalf("id %s twice", q.ID)
		}
		seen[q.ID] = true
	}
	if len(qs) != 20*120*2 {
		t.Errorf("%d queries, want %d (GetMetricData takes 500 a call: the caller batches)", len(qs), 20*120*2)
	}
}

func TestQueriesRefuseWhatCannotBeExpanded(t *testing.T) {
	t.Parallel()
	s := pairSpec(t)
	cases := []struct {
		name             string
		canary, baseline Side
		want             string
	}{
		{"an instance on both sides", Side{Instances: []string{"i-1"}}, Side{Instances: []string{"i-1"}}, "instance i-1 is on the canary side and on the baseline side"},
		{"an empty instance id", Side{Instances: []string{""}}, Side{}, "canary has an empty instance id"},
		{"one target group on both sides", Side{TargetGroups: []TargetGroup{{ARN: blueTG, LoadBalancerARN: webALB}}}, Side{TargetGroups: []TargetGroup{{ARN: blueTG, LoadBalancerARN: webALB}}}, "target group " + blueTG + " is on the canary side and on the baseline side"},
		{"a target group ARN that is not one", Side{TargetGroups: []TargetGroup{{ARN: "web-green", LoadBalancerARN: webALB}}}, Side{}, `"web-green" is not a target group ARN (arn:PARTITION:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID)`},
		{"a ${LoadBalancer} metric without the load balancer", Side{TargetGroups: []TargetGroup{{ARN: greenTG}}}, Side{}, `metric alb-p99 needs the load balancer of target group targetgroup/web-green/0f1e2d3c4b5a6978: "" is not a load balancer ARN (arn:PARTITION:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/app/NAME/ID)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := s.Queries(c.canary, c.baseline)
			if err == nil || err.Error() != c.want {
				t.Errorf("err = %v\nwant %s", err, c.want)
			}
		})
	}
}

func TestARNsBecomeCloudWatchDimensions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in, want string
		lb             bool
		fails          bool
	}{
		{name: "a target group ARN gives its resource part", in: blueTG, want: "targetgroup/web-blue/73e2d6bc24d8a067"},
		{name: "a GovCloud target group ARN too", in: "arn:aws-us-gov:elasticloadbalancing:us-gov-west-1:123456789012:targetgroup/api/abc", want: "targetgroup/api/abc"},
		{name: "a dimension value stays as it is", in: "targetgroup/web-blue/73e2d6bc24d8a067", want: "targetgroup/web-blue/73e2d6bc24d8a067"},
		{name: "a load balancer ARN is not a target group", in: webALB, fails: true},
		{name: "a target group without its id", in: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-blue", fails: true},
		{name: "another service's ARN", in: "arn:aws:ec2:eu-west-1:123456789012:targetgroup/a/b", fails: true},
		{name: "an application load balancer ARN gives app/NAME/ID", in: webALB, lb: true, want: "app/web/50dc6c495c0c9188"},
		{name: "a network load balancer gives net/NAME/ID", in: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/edge/0123", lb: true, want: "net/edge/0123"},
		{name: "a load balancer dimension value stays as it is", in: "app/web/50dc6c495c0c9188", lb: true, want: "app/web/50dc6c495c0c9188"},
		{name: "a target group ARN is not a load balancer", in: blueTG, lb: true, fails: true},
		{name: "a classic load balancer name is not one", in: "my-elb", lb: true, fails: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			conv := TargetGroupDimension
			if c.lb {
				conv = LoadBalancerDimension
			}
			got, err := conv(c.in)
			if c.fails != (err != nil) || got != c.want {
				t.Errorf("got %q, %v; want %q (error: %v)", got, err, c.want, c.fails)
			}
		})
	}
}

func TestRangeEndsBeforeTheLagOnAPeriodBoundary(t *testing.T) {
	t.Parallel()
	s := pairSpec(t) // periods 60 and 300, windows 600 and 1800, lag 120
	start, end := s.Range(time.Date(2026, 5, 4, 12, 7, 31, 0, time.UTC))
	if want := time.Date(2026, 5, 4, 12, 5, 0, 0, time.UTC); !end.Equal(want) {
		t.Errorf("end %v, want %v: 12:07:31 less 2 minutes, down to 5 minutes", end, want)
	}
	if want := time.Date(2026, 5, 4, 11, 35, 0, 0, time.UTC); !start.Equal(want) {
		t.Errorf("start %v, want %v: the longest window before the end", start, want)
	}
	if got := s.Wait(); got != 32*time.Minute {
		t.Errorf("wait %v, want 32m: the longest window and the lag", got)
	}
	if got := DefaultSpec().Wait(); got != 32*time.Minute {
		t.Errorf("the default spec's wait %v, want 32m (memory's 30 minutes and the lag)", got)
	}
}
