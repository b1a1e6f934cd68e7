package worldmetrics

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/monitoring"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/sim"
)

const region = "us-east-1"

// fleet is a World with CloudWatch attached as the local cloud attaches it.
type fleet struct {
	t   testing.TB
	clk *clock.Sim
	w   *sim.World
	cw  *monitoring.CloudWatch
	ctx context.Context
}

func newFleet(t testing.TB) *fleet {
	t.Helper()
	return newSeededFleet(t, 11)
}

func newSeededFleet(t testing.TB, seed uint64) *fleet {
	t.Helper()
	clk := clock.NewStepped(time.Time{})
	w := sim.New(sim.Options{Clock: clk, Seed: seed})
	cw := NewCloudWatch(w)
	w.Alarms = cw
	return &fleet{t: t, clk: clk, w: w, cw: cw, ctx: api.WithRequest(context.Background(), api.Request{Region: region})}
}

// service launches count instances of an image with the given behaviour
// behind a new load balancer listener, and returns the CloudWatch
// dimensions of the target group.
func (f *fleet) service(name, behavior string, count int32) []cwtypes.Dimension {
	f.t.Helper()
	return f.serve(name, f.launch(name, behavior, count))
}

// launch registers an image with the given behaviour and runs count
// instances of it, returning their ids.
func (f *fleet) launch(name, behavior string, count int32) []string {
	f.t.Helper()
	img, err := f.w.EC2().RegisterImage(f.ctx, &ec2.RegisterImageInput{
		Name: aws.String(name + "-ami"), Architecture: ec2types.ArchitectureValuesX8664, VirtualizationType: aws.String("hvm"),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeImage, Tags: []ec2types.Tag{{Key: aws.String(sim.BehaviorTag), Value: aws.String(behavior)}}}},
	})
	if err != nil {
		f.t.Fatalf("RegisterImage: %v", err)
	}
	f.clk.Advance(sim.DefaultEC2Config().ImageAvailableDelay)
	run, err := f.w.EC2().RunInstances(f.ctx, &ec2.RunInstancesInput{ImageId: img.ImageId, InstanceType: ec2types.InstanceTypeT3Micro, MinCount: aws.Int32(count), MaxCount: aws.Int32(count)})
	if err != nil {
		f.t.Fatalf("RunInstances: %v", err)
	}
	ids := make([]string, 0, len(run.Instances))
	for _, inst := range run.Instances {
		ids = append(ids, aws.ToString(inst.InstanceId))
	}
	return ids
}

// serve puts instances behind a new load balancer listener's target group
// and returns the CloudWatch dimensions of the target group.
func (f *fleet) serve(name string, ids []string) []cwtypes.Dimension {
	f.t.Helper()
	lb, err := f.w.ELB().CreateLoadBalancer(f.ctx, &elb.CreateLoadBalancerInput{Name: aws.String(name + "-lb"), Subnets: []string{"subnet-a", "subnet-b"}})
	if err != nil {
		f.t.Fatalf("CreateLoadBalancer: %v", err)
	}
	tg, err := f.w.ELB().CreateTargetGroup(f.ctx, &elb.CreateTargetGroupInput{Name: aws.String(name + "-tg"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String("vpc-0123456789abcdef0")})
	if err != nil {
		f.t.Fatalf("CreateTargetGroup: %v", err)
	}
	tgARN, lbARN := aws.ToString(tg.TargetGroups[0].TargetGroupArn), aws.ToString(lb.LoadBalancers[0].LoadBalancerArn)
	if _, err := f.w.ELB().CreateListener(f.ctx, &elb.CreateListenerInput{
		LoadBalancerArn: aws.String(lbARN), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tgARN)}},
	}); err != nil {
		f.t.Fatalf("CreateListener: %v", err)
	}
	var targets []elbtypes.TargetDescription
	for _, id := range ids {
		targets = append(targets, elbtypes.TargetDescription{Id: aws.String(id)})
	}
	if _, err := f.w.ELB().RegisterTargets(f.ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(tgARN), Targets: targets}); err != nil {
		f.t.Fatalf("RegisterTargets: %v", err)
	}
	return []cwtypes.Dimension{
		{Name: aws.String("TargetGroup"), Value: aws.String(resourcePart(tgARN, "targetgroup/"))},
		{Name: aws.String("LoadBalancer"), Value: aws.String(resourcePart(lbARN, "app/"))},
	}
}

// alarm puts an alarm on an AWS/ApplicationELB metric: two of two one-minute
// periods at or above threshold.
func (f *fleet) alarm(name, metric string, stat cwtypes.Statistic, threshold float64, treat string, dims []cwtypes.Dimension) {
	f.t.Helper()
	_, err := f.cw.PutMetricAlarm(f.ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(name), Namespace: aws.String("AWS/ApplicationELB"), MetricName: aws.String(metric), Dimensions: dims,
		Statistic: stat, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(2), Threshold: aws.Float64(threshold),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold, TreatMissingData: aws.String(treat),
	})
	if err != nil {
		f.t.Fatalf("PutMetricAlarm %s: %v", name, err)
	}
}

// state returns an alarm's state as instance refresh reads it.
func (f *fleet) state(name string) string {
	s, _ := f.w.Alarms.AlarmState(region, name)
	return s
}

func TestAlarmsOnTargetGroupMetricsTripWhenAnImageServesErrors(t *testing.T) {
	cases := []struct {
		name      string
		behavior  string
		wantAlarm string
	}{
		{"an unhealthy image trips the unhealthy-host and 5XX alarms", "unhealthy", "ALARM"},
		{"a healthy image keeps both alarms OK", "healthy", "OK"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFleet(t)
			dims := f.service("web", c.behavior, 2)
			// Even a healthy image fails checks and serves 5XX while it
			// boots (30 s) and starts its application (60 s), as in AWS
			// when targets are registered before they are ready; the
			// alarms watch the fleet once it has settled.
			f.clk.Advance(5 * time.Minute)
			f.alarm("web-unhealthy-hosts", "UnHealthyHostCount", cwtypes.StatisticMaximum, 1, "missing", dims)
			f.alarm("web-5xx", "HTTPCode_Target_5XX_Count", cwtypes.StatisticSum, 1, "notBreaching", dims)
			f.clk.Advance(10 * time.Minute)
			for _, a := range []string{"web-unhealthy-hosts", "web-5xx"} {
				if got := f.state(a); got != c.wantAlarm {
					t.Errorf("%s is %s, want %s", a, got, c.wantAlarm)
				}
			}
			var alarmEvents int
			for _, ev := range f.w.Events() {
				if ev.Source != "aws.cloudwatch" {
					continue
				}
				var d monitoring.AlarmStateChange
				if err := json.Unmarshal(ev.Detail, &d); err != nil {
					t.Fatal(err)
				}
				if d.State.Value == "ALARM" {
					alarmEvents++
				}
			}
			if want := map[string]int{"ALARM": 2, "OK": 0}[c.wantAlarm]; alarmEvents != want {
				t.Errorf("%d ALARM state-change events, want %d", alarmEvents, want)
			}
		})
	}
}

func TestBuiltInMetricsAreListedWithTheDocumentedDimensions(t *testing.T) {
	f := newFleet(t)
	dims := f.service("api", "healthy", 1)
	f.clk.Advance(5 * time.Minute)
	out, err := f.cw.ListMetrics(f.ctx, &cloudwatch.ListMetricsInput{Namespace: aws.String("AWS/ApplicationELB"), Dimensions: []cwtypes.DimensionFilter{{Name: aws.String("TargetGroup"), Value: dims[0].Value}}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, m := range out.Metrics {
		got[aws.ToString(m.MetricName)] = true
		if len(m.Dimensions) != 2 {
			t.Errorf("%s has dimensions %+v, want TargetGroup and LoadBalancer", aws.ToString(m.MetricName), m.Dimensions)
		}
	}
	for _, name := range []string{"HealthyHostCount", "UnHealthyHostCount", "RequestCount", "TargetResponseTime"} {
		if !got[name] {
			t.Errorf("metric %s is not listed; got %v", name, got)
		}
	}
	if got["HTTPCode_Target_5XX_Count"] {
		t.Error("a healthy target group reports HTTPCode_Target_5XX_Count, which ELB reports only when non-zero")
	}
	data, err := f.cw.GetMetricData(f.ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(f.clk.Now().Add(-2 * time.Minute)), EndTime: aws.Time(f.clk.Now()),
		MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("h"), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String("AWS/ApplicationELB"), MetricName: aws.String("HealthyHostCount"), Dimensions: dims},
			Period: aws.Int32(60), Stat: aws.String("Maximum"),
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if vs := data.MetricDataResults[0].Values; len(vs) != 2 || vs[0] != 1 || vs[1] != 1 {
		t.Fatalf("HealthyHostCount over the last two minutes %v, want [1 1]", vs)
	}
}

func TestResourcePartIsTheDimensionValueOfAnELBARN(t *testing.T) {
	cases := []struct{ arn, prefix, want string }{
		{"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-tg/0123456789abcdef", "targetgroup/", "targetgroup/web-tg/0123456789abcdef"},
		{"arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web-lb/0123456789abcdef", "app/", "app/web-lb/0123456789abcdef"},
	}
	for _, c := range cases {
		if got := resourcePart(c.arn, c.prefix); got != c.want {
			t.Errorf("resourcePart(%s) = %s, want %s", c.arn, got, c.want)
		}
	}
}

// sums returns the Sum of a metric over the last n minutes, one value a
// minute, oldest first.
func (f *fleet) sums(namespace, metric string, dims []cwtypes.Dimension, n int) []float64 {
	f.t.Helper()
	return f.stats(namespace, metric, "Sum", dims, n, time.Minute)
}

// stats returns a statistic of a metric over the last n periods, one value
// a period that has data, oldest first.
func (f *fleet) stats(namespace, metric, stat string, dims []cwtypes.Dimension, n int, period time.Duration) []float64 {
	f.t.Helper()
	end := f.clk.Now().Truncate(period)
	data, err := f.cw.GetMetricData(f.ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(end.Add(-time.Duration(n) * period)), EndTime: aws.Time(end),
		ScanBy: cwtypes.ScanByTimestampAscending,
		MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("m"), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String(namespace), MetricName: aws.String(metric), Dimensions: dims},
			Period: aws.Int32(int32(period / time.Second)), Stat: aws.String(stat),
		}}},
	})
	if err != nil {
		f.t.Fatalf("GetMetricData %s %s: %v", metric, stat, err)
	}
	return data.MetricDataResults[0].Values
}

// A blue/green pair behind one listener: the target group metrics follow
// the weights of the forward action, and each instance's own metrics show
// what it served, so that a canary analysis can compare the instances of a
// bad image with those of a good one.
func TestMetricsFollowTheWeightedSplitPerTargetGroupAndPerInstance(t *testing.T) {
	f := newFleet(t)
	f.w.SetNoise(sim.Noise{}) // every instance at its behaviour's nominal latency
	blueDims := f.service("web", "healthy", 2)
	lbs, err := f.w.ELB().DescribeLoadBalancers(f.ctx, &elb.DescribeLoadBalancersInput{Names: []string{"web-lb"}})
	if err != nil {
		t.Fatal(err)
	}
	lbARN := aws.ToString(lbs.LoadBalancers[0].LoadBalancerArn)
	tgs, err := f.w.ELB().DescribeTargetGroups(f.ctx, &elb.DescribeTargetGroupsInput{Names: []string{"web-tg"}})
	if err != nil {
		t.Fatal(err)
	}
	blueARN := aws.ToString(tgs.TargetGroups[0].TargetGroupArn)
	greenDims := f.service("green", "unhealthy", 2)
	// service gave green a load balancer of its own; move green behind
	// web's listener instead.
	greenLBs, _ := f.w.ELB().DescribeLoadBalancers(f.ctx, &elb.DescribeLoadBalancersInput{Names: []string{"green-lb"}})
	if _, err := f.w.ELB().DeleteLoadBalancer(f.ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: greenLBs.LoadBalancers[0].LoadBalancerArn}); err != nil {
		t.Fatal(err)
	}
	gtgs, _ := f.w.ELB().DescribeTargetGroups(f.ctx, &elb.DescribeTargetGroupsInput{Names: []string{"green-tg"}})
	greenARN := aws.ToString(gtgs.TargetGroups[0].TargetGroupArn)
	greenDims[1].Value = blueDims[1].Value
	ls, err := f.w.ELB().DescribeListeners(f.ctx, &elb.DescribeListenersInput{LoadBalancerArn: aws.String(lbARN)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.w.ELB().ModifyListener(f.ctx, &elb.ModifyListenerInput{ListenerArn: ls.Listeners[0].ListenerArn, DefaultActions: []elbtypes.Action{{
		Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: []elbtypes.TargetGroupTuple{
			{TargetGroupArn: aws.String(blueARN), Weight: aws.Int32(75)}, {TargetGroupArn: aws.String(greenARN), Weight: aws.Int32(25)},
		}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	// Green's targets are checked afresh once the listener uses them:
	// unhealthy after two failed checks, then the group fails open.
	f.clk.Advance(8 * time.Minute)

	for _, c := range []struct {
		what     string
		metric   string
		dims     []cwtypes.Dimension
		want     float64
		wantNone bool
	}{
		{"blue gets three quarters of 600 a minute", "RequestCount", blueDims, 450, false},
		{"green gets a quarter", "RequestCount", greenDims, 150, false},
		{"green's image answers every request it gets with a 5XX", "HTTPCode_Target_5XX_Count", greenDims, 150, false},
		{"blue answers none", "HTTPCode_Target_5XX_Count", blueDims, 0, true},
	} {
		got := f.sums("AWS/ApplicationELB", c.metric, c.dims, 3)
		if c.wantNone {
			if len(got) != 0 {
				t.Errorf("%s: %s %v, want no datapoints (ELB omits zero counts)", c.what, c.metric, got)
			}
			continue
		}
		if len(got) != 3 || got[0] != c.want || got[1] != c.want || got[2] != c.want {
			t.Errorf("%s: %s over the last three minutes %v, want %v each", c.what, c.metric, got, c.want)
		}
	}

	insts, err := f.w.EC2().DescribeInstances(f.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	perImage := map[string][]string{}
	for _, res := range insts.Reservations {
		for _, i := range res.Instances {
			perImage[aws.ToString(i.ImageId)] = append(perImage[aws.ToString(i.ImageId)], aws.ToString(i.InstanceId))
		}
	}
	if len(perImage) != 2 {
		t.Fatalf("instances of %d images, want 2", len(perImage))
	}
	seen := 0
	for _, ids := range perImage {
		for _, id := range ids {
			dims := []cwtypes.Dimension{{Name: aws.String("InstanceId"), Value: aws.String(id)}}
			req := f.sums(AppNamespace, "RequestCount", dims, 3)
			errs := f.sums(AppNamespace, "HTTPCode_Target_5XX_Count", dims, 3)
			lat := f.stats(AppNamespace, "TargetResponseTime", "Average", dims, 3, time.Minute)
			if len(req) != 3 || len(errs) != 3 || len(lat) != 3 {
				t.Fatalf("instance %s: %d/%d/%d datapoints of its three metrics, want 3 each", id, len(req), len(errs), len(lat))
			}
			switch req[2] {
			case 225: // blue: 450 over two instances, no 5XX
				if errs[2] != 0 || lat[2] != 0.02 {
					t.Errorf("blue instance %s: %v 5XX at %v s, want 0 at 0.02", id, errs[2], lat[2])
				}
			case 75: // green: 150 over two instances, all 5XX
				if errs[2] != 75 || lat[2] != 0.01 {
					t.Errorf("green instance %s: %v 5XX at %v s, want 75 at 0.01", id, errs[2], lat[2])
				}
			default:
				t.Errorf("instance %s served %v requests a minute, want 225 (blue) or 75 (green)", id, req[2])
			}
			seen++
		}
	}
	if seen != 4 {
		t.Fatalf("checked %d instances, want 4", seen)
	}
}
