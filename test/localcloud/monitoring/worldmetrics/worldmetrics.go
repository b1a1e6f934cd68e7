// Package worldmetrics feeds CloudWatch's built-in metrics from the
// simulated World: the AWS/ApplicationELB target group metrics, the
// AWS/AutoScaling group size metric, and the per-instance application
// metrics of the PhoenixSim/App namespace. It is a separate package so that
// the CloudWatch model does not depend on the resource model.
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
//	TargetResponseTime (seconds)           only when targets answered requests
//
// A target group no load balancer uses has no metrics, as in AWS.
//
// AWS/ApplicationELB has no per-instance dimension, so a canary analysis
// that compares instances needs the application's own numbers. The local
// cloud publishes them as an application would (its choice of namespace
// and names, not an AWS service's), in AppNamespace with the single
// dimension InstanceId, for every instance whose application runs behind a
// used target group:
//
//	RequestCount                 always (0 when it served nothing)
//	HTTPCode_Target_5XX_Count    always (0 when it answered no 5XX)
//	TargetResponseTime (seconds) only when it served requests
//
// Requests a booting instance refused never reached its application and
// appear in the load balancer's numbers only.
//
// For every Auto Scaling group it publishes GroupInServiceInstances
// (dimension AutoScalingGroupName) every minute; AWS publishes group
// metrics only after EnableMetricsCollection, which the local cloud does not
// require. Datapoints carry the start of the minute they describe.
package worldmetrics

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/monitoring"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/sim"
)

// AppNamespace is the namespace of the per-instance application metrics
// the local cloud publishes on the instances' behalf.
const AppNamespace = "PhoenixSim/App"

// Collector implements monitoring.Collector over a World.
type Collector struct {
	w *sim.World
}

// New returns a Collector reading w.
func New(w *sim.World) *Collector { return &Collector{w: w} }

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
		out = append(out, c.targetGroups(rctx, region, minute)...)
		out = append(out, c.groups(rctx, region, minute)...)
	}
	return out
}

// targetGroups samples every used target group of a region and every
// instance serving behind one.
func (c *Collector) targetGroups(ctx context.Context, region string, minute time.Time) []monitoring.Sample {
	var out []monitoring.Sample
	traffic := c.w.Traffic(region)
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
	ids := make([]string, 0, len(traffic.Instances))
	for id := range traffic.Instances {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		load := traffic.Instances[id]
		dims := map[string]string{"InstanceId": id}
		add := func(name string, v float64, unit string) {
			out = append(out, monitoring.Sample{Region: region, Namespace: AppNamespace, MetricName: name, Dimensions: dims, Timestamp: minute, Value: v, Unit: unit})
		}
		add("RequestCount", load.Requests, "Count")
		add("HTTPCode_Target_5XX_Count", load.Errors, "Count")
		if load.Requests > 0 {
			add("TargetResponseTime", load.Latency.Seconds(), "Seconds")
		}
	}
	return out
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
