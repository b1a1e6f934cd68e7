package canary_test

import (
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/phoenix-rollouts/phoenix/shared/analysis"
	"github.com/phoenix-rollouts/phoenix/test/localcloud"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/sim"
)

// The case: a group of 20 behind one target group, 2 of them on the
// canary image, 10 requests a second each, 1% of them 5XX on the baseline
// image. After the default spec's Wait() the analysis reads every metric
// the spec names through GetMetricData and must fail each regression on
// the metric meant to catch it, and pass an identical image.
func TestTheDefaultSpecCatchesEachRegressionOnTheLocalCloud(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, canary string
		want         analysis.Verdict
		failing      string // the metric that must fail
	}{
		{"an identical image passes", "errors:0.01", analysis.Pass, ""},
		{"twice the errors fail error-rate", "errors:0.02", analysis.Fail, "error-rate"},
		{"50% slower fails latency-p99", "errors:0.01 slower:1.5", analysis.Fail, "latency-p99"},
		{"a leak of 2 points an hour fails memory-growth", "errors:0.01 leak:2", analysis.Fail, "memory-growth"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res := checkpoint(t, 3, "errors:0.01", c.canary, 18, 2)
			for _, line := range res.Lines() {
				t.Log(line)
			}
			if res.Verdict != c.want {
				t.Fatalf("verdict %s, want %s: %s", res.Verdict, c.want, res.Reason)
			}
			for _, m := range res.Metrics {
				if m.Name == c.failing && m.Verdict != analysis.Fail {
					t.Errorf("%s is %s, want fail", m.Name, m.Verdict)
				}
				if m.Verdict == analysis.Inconclusive {
					t.Errorf("%s is inconclusive after Wait(): %s", m.Name, m.Summary())
				}
			}
		})
	}
}

// checkpoint runs baseline and canary instances behind one load balancer
// on a local cloud seeded with seed for the default spec's Wait(), and
// analyses them as a rollout's checkpoint would.
func checkpoint(t *testing.T, seed uint64, baselineTag, canaryTag string, baselines, canaries int32) analysis.Result {
	t.Helper()
	env := cloudtest.New(t, localcloud.Options{Seed: seed})
	ctx := t.Context()
	// 10 requests a second per instance, as in docs/analysis.md's model.
	env.Cloud.World.SetEC2Config(sim.EC2Config{RequestsPerMinute: float64(600 * (baselines + canaries))})

	launch := func(name, tag string, n int32) []string {
		img, err := env.EC2.RegisterImage(ctx, &ec2.RegisterImageInput{
			Name: aws.String(name), Architecture: ec2types.ArchitectureValuesX8664, VirtualizationType: aws.String("hvm"),
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeImage, Tags: []ec2types.Tag{{Key: aws.String(sim.BehaviorTag), Value: aws.String(tag)}}}},
		})
		if err != nil {
			t.Fatalf("RegisterImage %s: %v", name, err)
		}
		env.Advance(sim.DefaultEC2Config().ImageAvailableDelay)
		run, err := env.EC2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: img.ImageId, InstanceType: ec2types.InstanceTypeT3Micro, MinCount: aws.Int32(n), MaxCount: aws.Int32(n)})
		if err != nil {
			t.Fatalf("RunInstances %s: %v", name, err)
		}
		var ids []string
		for _, i := range run.Instances {
			ids = append(ids, aws.ToString(i.InstanceId))
		}
		return ids
	}
	baseline := launch("web-v1", baselineTag, baselines)
	canary := launch("web-v2", canaryTag, canaries)

	lb, err := env.ELB.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("web"), Subnets: []string{"subnet-a", "subnet-b"}})
	if err != nil {
		t.Fatal(err)
	}
	tg, err := env.ELB.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("web"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String("vpc-0123456789abcdef0")})
	if err != nil {
		t.Fatal(err)
	}
	tgARN := tg.TargetGroups[0].TargetGroupArn
	if _, err := env.ELB.CreateListener(ctx, &elb.CreateListenerInput{
		LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: tgARN}},
	}); err != nil {
		t.Fatal(err)
	}
	var targets []elbtypes.TargetDescription
	for _, id := range slices.Concat(baseline, canary) {
		targets = append(targets, elbtypes.TargetDescription{Id: aws.String(id)})
	}
	if _, err := env.ELB.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: tgARN, Targets: targets}); err != nil {
		t.Fatal(err)
	}

	spec := analysis.DefaultSpec()
	// Boot, application start and the first health check, then the
	// longest window and the lag.
	env.Advance(3*time.Minute + spec.Wait())

	queries, err := spec.Queries(analysis.Side{Instances: canary}, analysis.Side{Instances: baseline})
	if err != nil {
		t.Fatal(err)
	}
	start, end := spec.Range(env.Now())
	in := &cloudwatch.GetMetricDataInput{StartTime: aws.Time(start), EndTime: aws.Time(end)}
	for _, q := range queries {
		var dims []cwtypes.Dimension
		for _, d := range q.Dimensions {
			dims = append(dims, cwtypes.Dimension{Name: aws.String(d.Name), Value: aws.String(d.Value)})
		}
		in.MetricDataQueries = append(in.MetricDataQueries, cwtypes.MetricDataQuery{Id: aws.String(q.ID), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String(q.Namespace), MetricName: aws.String(q.MetricName), Dimensions: dims},
			Period: aws.Int32(q.Period), Stat: aws.String(q.Stat),
		}})
	}
	if len(in.MetricDataQueries) > 500 {
		t.Fatalf("%d queries, more than one GetMetricData call takes", len(in.MetricDataQueries))
	}
	data := map[string][]analysis.Point{}
	pages := cloudwatch.NewGetMetricDataPaginator(env.CloudWatch, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.MetricDataResults {
			id := aws.ToString(r.Id)
			data[id] = append(data[id], analysis.Points(r.Timestamps, r.Values)...)
		}
	}
	for _, q := range queries {
		if len(data[q.ID]) == 0 {
			t.Fatalf("query %s (%s %s of %s) has no datapoints", q.ID, q.Stat, q.MetricName, q.Source)
		}
	}
	return spec.Analyze(queries, data, end)
}
