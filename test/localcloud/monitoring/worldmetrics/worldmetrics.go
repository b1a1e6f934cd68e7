// Package worldmetrics feeds CloudWatch's built-in metrics from the
// simulated World: the AWS/ApplicationELB target group metrics, the
// AWS/AutoScaling group size metric, AWS/EC2 CPUUtilization, and on the
// instances' behalf what an application and the CloudWatch agent running
// on them would publish (the App and CWAgent namespaces). It is a separate
// package so that the CloudWatch model does not depend on the resource
// model.
//
// Every minute it takes the World's minute of traffic (sim.World.Traffic:
// each load balancer's requests split among the target groups of its
// front listener's weighted forward action, then among their targets), and
// for every target group that a load balancer uses (weight 0 included)
// publishes with dimensions TargetGroup=targetgroup/NAME/HEX and
// LoadBalancer=app/NAME/HEX:
//
//	HealthyHostCount, UnHealthyHostCount   always, sampled at the minute's end
//	RequestCount                           always (0 when nothing was routed)
//	HTTPCode_Target_5XX_Count              only when non-zero, as ELB reports it
//	HTTPCode_ELB_5XX_Count                 only when non-zero: no target to serve
//	TargetResponseTime (seconds)           only when targets answered requests:
//	                                       one value, the minute's mean
//
// A target group no load balancer uses has no metrics, as in AWS.
//
// AWS/ApplicationELB has no per-instance dimension, so a canary analysis
// that compares instances needs the application's own numbers. The local
// cloud publishes them as an application would (through the CloudWatch
// agent or embedded metric format lines), in AppNamespace under ELB's
// metric names with the single dimension InstanceId, for every instance
// whose application runs behind a used target group: the namespace and
// names shared/analysis's default spec reads.
//
//	RequestCount                 always (0 when it served nothing)
//	HTTPCode_Target_5XX_Count    always (0 when it answered no 5XX)
//	TargetResponseTime (seconds) only when it served requests: every answer's
//	                             time in whole milliseconds, as Values and
//	                             Counts, so that p99 and Average both work
//
// Requests a booting instance refused never reached its application and
// appear in the load balancer's numbers only.
//
// For every running instance, behind a load balancer or not:
//
//	CWAgent mem_used_percent (Percent), dimension InstanceId, every minute
//	AWS/EC2 CPUUtilization (Percent), dimension InstanceId, every 5 minutes
//
// mem_used_percent is the CloudWatch agent's metric as an agent configured
// with append_dimensions {"InstanceId": "${aws:InstanceId}"} alone
// publishes it (the agent's default also appends ImageId, InstanceType and
// AutoScalingGroupName, and a metric's dimensions must match a query's
// exactly). CPUUtilization is EC2's basic monitoring: the instances
// DescribeInstances reports have detailed monitoring disabled, so each
// datapoint is the mean of five minutes, stamped with the first.
//
// The numbers follow each instance's behaviour and the traffic it served,
// with the noise sim.Noise describes. For every Auto Scaling group it
// publishes GroupInServiceInstances (dimension AutoScalingGroupName) every
// minute; AWS publishes group metrics only after EnableMetricsCollection,
// which the local cloud does not require. Datapoints carry the start of the
// period they describe.
//
// CloudWatch keeps datapoints 15 days and drops a metric two weeks after
// its last one, so a long simulation holds at most 15 days of them. Here
// an instance behind a load balancer costs about 240 bytes a minute at the
// default traffic, half of it its TargetResponseTime distribution (8 bytes
// per distinct millisecond): some 510 MB for a 100-instance group at the bound
// (BenchmarkAHundredInstancesPublishingForADay).
package worldmetrics

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/monitoring"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/sim"
)

// The namespaces the local cloud publishes in on the instances' behalf.
const (
	// AppNamespace holds an application's per-instance request metrics:
	// what shared/analysis's default spec reads (its AppNamespace).
	AppNamespace = "App"
	// AgentNamespace is the CloudWatch agent's default namespace.
	AgentNamespace = "CWAgent"
	// EC2Namespace holds EC2's own per-instance metrics.
	EC2Namespace = "AWS/EC2"
)

// basicMonitoring is the period of EC2's basic monitoring.
const basicMonitoring = 5 * time.Minute

// Collector implements monitoring.Collector over a World.
type Collector struct {
	w *sim.World

	mu sync.Mutex
	// cpu accumulates each instance's per-minute CPU until its 5-minute
	// period ends, keyed by region and instance id.
	cpu map[cpuKey]*cpuPeriod
}

type cpuKey struct{ region, id string }

// cpuPeriod is the CPU an instance used in the minutes of one 5-minute
// period seen so far.
type cpuPeriod struct {
	start time.Time
	sum   float64
	n     int
}

// New returns a Collector reading w.
func New(w *sim.World) *Collector { return &Collector{w: w, cpu: map[cpuKey]*cpuPeriod{}} }

// NewCloudWatch returns a CloudWatch on w's clock that sends its events
// through w and collects w's built-in metrics: what the local cloud
// registers. The caller sets w.Alarms to it so that instance refresh
// AutoRollback reads real alarm states.
func NewCloudWatch(w *sim.World) *monitoring.CloudWatch {
	return monitoring.New(monitoring.Options{Clock: w.Clock(), Events: w, Account: w.Account(), Collector: New(w)})
}

var _ monitoring.Collector = (*Collector)(nil)

// Collect implements monitoring.Collector. It calls the World's API
// methods, so CloudWatch calls it without holding its own locks.
func (c *Collector) Collect(ctx context.Context, now time.Time) []monitoring.Sample {
	minute := now.Add(-time.Minute)
	var out []monitoring.Sample
	for _, region := range c.w.Regions() {
		rctx := api.WithRequest(ctx, api.Request{Region: region, Account: c.w.Account(), Service: "monitoring", Operation: "Collect"})
		traffic := c.w.Traffic(region)
		out = append(out, c.targetGroups(rctx, region, minute, traffic)...)
		out = append(out, c.instances(region, minute, traffic)...)
		out = append(out, c.groups(rctx, region, minute)...)
	}
	return append(out, c.cpuDue(now)...)
}

// targetGroups samples every used target group of a region.
func (c *Collector) targetGroups(ctx context.Context, region string, minute time.Time, traffic sim.Traffic) []monitoring.Sample {
	var out []monitoring.Sample
	var marker *string
	for {
		page, err := c.w.ELB().DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{Marker: marker})
		if err != nil {
			break
		}
		for _, tg := range page.TargetGroups {
			arn := aws.ToString(tg.TargetGroupArn)
			if len(tg.LoadBalancerArns) == 0 {
				continue
			}
			healthy, unhealthy, ok := c.w.TargetGroupHealthCounts(region, arn)
			if !ok {
				continue
			}
			load := traffic.TargetGroups[arn]
			for _, lb := range tg.LoadBalancerArns {
				dims := map[string]string{"TargetGroup": resourcePart(arn, "targetgroup/"), "LoadBalancer": resourcePart(lb, "app/")}
				add := func(name string, v float64, unit string) {
					out = append(out, monitoring.Sample{Region: region, Namespace: "AWS/ApplicationELB", MetricName: name, Dimensions: dims, Timestamp: minute, Value: v, Unit: unit})
				}
				add("HealthyHostCount", float64(healthy), "Count")
				add("UnHealthyHostCount", float64(unhealthy), "Count")
				add("RequestCount", load.Requests, "Count")
				if load.TargetErrors > 0 {
					add("HTTPCode_Target_5XX_Count", load.TargetErrors, "Count")
				}
				if load.ELBErrors > 0 {
					add("HTTPCode_ELB_5XX_Count", load.ELBErrors, "Count")
				}
				if load.Requests-load.ELBErrors > 0 {
					add("TargetResponseTime", load.Latency.Seconds(), "Seconds")
				}
			}
		}
		if page.NextMarker == nil || aws.ToString(page.NextMarker) == "" {
			break
		}
		marker = page.NextMarker
	}
	return out
}

// instances samples what the instances of a region publish about
// themselves: their application's request metrics, the agent's memory,
// and the CPU that EC2 publishes every 5 minutes (accumulated here).
func (c *Collector) instances(region string, minute time.Time, traffic sim.Traffic) []monitoring.Sample {
	var out []monitoring.Sample
	for _, id := range sortedKeys(traffic.Instances) {
		load := traffic.Instances[id]
		dims := map[string]string{"InstanceId": id}
		add := func(name string, v float64, unit string) {
			out = append(out, monitoring.Sample{Region: region, Namespace: AppNamespace, MetricName: name, Dimensions: dims, Timestamp: minute, Value: v, Unit: unit})
		}
		add("RequestCount", load.Requests, "Count")
		add("HTTPCode_Target_5XX_Count", load.Errors, "Count")
		if load.Requests > 0 {
			out = append(out, monitoring.Sample{
				Region: region, Namespace: AppNamespace, MetricName: "TargetResponseTime", Dimensions: dims, Timestamp: minute,
				Values: load.Latencies.Values, Counts: load.Latencies.Counts, Unit: "Seconds",
			})
		}
	}
	period := minute.Truncate(basicMonitoring)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range sortedKeys(traffic.Vitals) {
		v := traffic.Vitals[id]
		out = append(out, monitoring.Sample{
			Region: region, Namespace: AgentNamespace, MetricName: "mem_used_percent",
			Dimensions: map[string]string{"InstanceId": id}, Timestamp: minute, Value: v.MemoryUsedPercent, Unit: "Percent",
		})
		k := cpuKey{region, id}
		p, ok := c.cpu[k]
		if !ok || !p.start.Equal(period) {
			p = &cpuPeriod{start: period}
			c.cpu[k] = p
		}
		p.sum += v.CPUUtilization
		p.n++
	}
	return out
}

// cpuDue returns the CPUUtilization of every 5-minute period that has
// ended by now, and forgets it.
func (c *Collector) cpuDue(now time.Time) []monitoring.Sample {
	c.mu.Lock()
	defer c.mu.Unlock()
	var due []cpuKey
	for k, p := range c.cpu {
		if !p.start.Add(basicMonitoring).After(now) {
			due = append(due, k)
		}
	}
	slices.SortFunc(due, func(a, b cpuKey) int { return cmp.Or(cmp.Compare(a.region, b.region), cmp.Compare(a.id, b.id)) })
	out := make([]monitoring.Sample, 0, len(due))
	for _, k := range due {
		p := c.cpu[k]
		delete(c.cpu, k)
		out = append(out, monitoring.Sample{
			Region: k.region, Namespace: EC2Namespace, MetricName: "CPUUtilization",
			Dimensions: map[string]string{"InstanceId": k.id}, Timestamp: p.start, Value: p.sum / float64(p.n), Unit: "Percent",
		})
	}
	return out
}

// sortedKeys returns a map's keys in order, so that samples are recorded in
// the same order on every run.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// groups samples every Auto Scaling group of a region.
func (c *Collector) groups(ctx context.Context, region string, minute time.Time) []monitoring.Sample {
	var out []monitoring.Sample
	var token *string
	for {
		page, err := c.w.AutoScaling().DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{NextToken: token})
		if err != nil {
			return out
		}
		for _, g := range page.AutoScalingGroups {
			n := 0
			for _, inst := range g.Instances {
				if inst.LifecycleState == "InService" {
					n++
				}
			}
			out = append(out, monitoring.Sample{
				Region: region, Namespace: "AWS/AutoScaling", MetricName: "GroupInServiceInstances",
				Dimensions: map[string]string{"AutoScalingGroupName": aws.ToString(g.AutoScalingGroupName)},
				Timestamp:  minute, Value: float64(n), Unit: "None",
			})
		}
		if aws.ToString(page.NextToken) == "" {
			return out
		}
		token = page.NextToken
	}
}

// resourcePart returns the part of an ELB ARN CloudWatch uses as a
// dimension value: "targetgroup/NAME/HEX" or "app/NAME/HEX".
func resourcePart(arn, prefix string) string {
	if i := strings.Index(arn, ":"+prefix); i >= 0 {
		return arn[i+1:]
	}
	if i := strings.Index(arn, "/"+prefix); i >= 0 {
		return arn[i+1:]
	}
	return arn
}
