package analysis

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Side is what one side of a comparison runs on: its instances (both
// strategies) and its target groups (a blue/green pair's side). A rolling
// rollout's sides share one target group, so they have none here.
type Side struct {
	// Instances are instance ids: the new image's for the canary, the old
	// image's for the baseline.
	Instances    []string
	TargetGroups []TargetGroup
}

// TargetGroup is a target group and the load balancer it serves behind:
// the pair ${TargetGroup} and ${LoadBalancer} expand from.
type TargetGroup struct {
	ARN string
	// LoadBalancerARN is needed only by metrics with ${LoadBalancer}.
	LoadBalancerARN string
}

// Dimension is a CloudWatch dimension.
type Dimension struct {
	Name, Value string
}

// Query is one GetMetricData MetricStat query: one metric of one source of
// one side. Its fields map one to one onto types.MetricDataQuery (Id,
// MetricStat.Metric, MetricStat.Period, MetricStat.Stat).
type Query struct {
	// ID is unique among a spec's queries and valid as a MetricDataQuery Id.
	ID string
	// Metric is the spec metric's name.
	Metric string
	Canary bool
	// Source is the instance id, or the target group's dimension value.
	Source string
	// Denominator marks the query of a ratio's Per metric.
	Denominator bool
	Namespace   string
	MetricName  string
	Dimensions  []Dimension
	Stat        string
	Period      int32
}

// Queries expands every metric for every source of each side: instance
// metrics for the sides' instances, target group metrics for their target
// groups. GetMetricData takes at most 500 queries a call (and returns at
// most 100,800 datapoints): batching them is the caller's, with StartTime
// and EndTime from Range.
func (s Spec) Queries(canary, baseline Side) ([]Query, error) {
	if err := checkSides(canary, baseline); err != nil {
		return nil, err
	}
	var out []Query
	for i, m := range s.Metrics {
		for _, side := range []struct {
			canary bool
			side   Side
			letter string
		}{{true, canary, "c"}, {false, baseline, "b"}} {
			sources, err := m.sources(side.side)
			if err != nil {
				return nil, err
			}
			for j, src := range sources {
				id := fmt.Sprintf("m%d%s%d", i, side.letter, j)
				q := Query{
					ID: id + "v", Metric: m.Name, Canary: side.canary, Source: src.name,
					Namespace: m.Namespace, MetricName: m.MetricName, Dimensions: src.dims,
					Stat: m.Statistic, Period: int32(m.PeriodSeconds),
				}
				out = append(out, q)
				if m.Per != nil {
					q.ID, q.Denominator, q.MetricName, q.Stat = id+"d", true, m.Per.MetricName, m.Per.Statistic
					out = append(out, q)
				}
			}
		}
	}
	return out, nil
}

type source struct {
	name string
	dims []Dimension
}

// sources expands m's dimensions for each of side's sources of m's scope.
func (m Metric) sources(side Side) ([]source, error) {
	var out []source
	switch m.Scope {
	case ScopeInstance:
		for _, id := range side.Instances {
			out = append(out, source{id, m.expand(map[string]string{PlaceholderInstance: id})})
		}
	case ScopeTargetGroup:
		for _, tg := range side.TargetGroups {
			tgDim, err := TargetGroupDimension(tg.ARN)
			if err != nil {
				return nil, err
			}
			values := map[string]string{PlaceholderTargetGroup: tgDim}
			if slicesContainsValue(m.Dimensions, PlaceholderLoadBalancer) {
				lbDim, err := LoadBalancerDimension(tg.LoadBalancerARN)
				if err != nil {
					return nil, fmt.Errorf("metric %s needs the load balancer of target group %s: %w", m.Name, tgDim, err)
				}
				values[PlaceholderLoadBalancer] = lbDim
			}
			out = append(out, source{tgDim, m.expand(values)})
		}
	}
	return out, nil
}

func slicesContainsValue(dims map[string]string, v string) bool {
	for _, d := range dims {
		if d == v {
			return true
		}
	}
	return false
}

// expand is m's dimensions with placeholders replaced, sorted by name.
func (m Metric) expand(values map[string]string) []Dimension {
	dims := make([]Dimension, 0, len(m.Dimensions))
	for name, v := range m.Dimensions {
		if r, ok := values[v]; ok {
			v = r
		}
		dims = append(dims, Dimension{Name: name, Value: v})
	}
	slices.SortFunc(dims, func(a, b Dimension) int { return strings.Compare(a.Name, b.Name) })
	return dims
}

// checkSides refuses an empty instance id and a source on both sides.
func checkSides(canary, baseline Side) error {
	seen := map[string]string{}
	for _, side := range []struct {
		name string
		s    Side
	}{{"canary", canary}, {"baseline", baseline}} {
		for _, id := range side.s.Instances {
			if id == "" {
				return fmt.Errorf("%s has an empty instance id", side.name)
			}
			if other, dup := seen[id]; dup {
				return fmt.Errorf("instance %s is on the %s side and on the %s side", id, other, side.name)
			}
			seen[id] = side.name
		}
		for _, tg := range side.s.TargetGroups {
			if other, dup := seen[tg.ARN]; dup {
				return fmt.Errorf("target group %s is on the %s side and on the %s side", tg.ARN, other, side.name)
			}
			seen[tg.ARN] = side.name
		}
	}
	return nil
}

// TargetGroupDimension is CloudWatch's TargetGroup dimension value of a
// target group ARN: its resource part, targetgroup/NAME/ID. A value already
// in that form is returned as it is.
func TargetGroupDimension(arn string) (string, error) {
	res, ok := elbResource(arn)
	if !ok {
		res = arn
	}
	if parts := strings.Split(res, "/"); len(parts) == 3 && parts[0] == "targetgroup" && parts[1] != "" && parts[2] != "" {
		return res, nil
	}
	return "", fmt.Errorf("%q is not a target group ARN (arn:PARTITION:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID)", arn)
}

// LoadBalancerDimension is CloudWatch's LoadBalancer dimension value of a
// load balancer ARN: app/NAME/ID (net/ or gwy/ for the other kinds). A
// value already in that form is returned as it is.
func LoadBalancerDimension(arn string) (string, error) {
	res, ok := elbResource(arn)
	if ok {
		res, ok = strings.CutPrefix(res, "loadbalancer/")
	} else {
		res, ok = arn, true
	}
	if parts := strings.Split(res, "/"); ok && len(parts) == 3 && slices.Contains([]string{"app", "net", "gwy"}, parts[0]) && parts[1] != "" && parts[2] != "" {
		return res, nil
	}
	return "", fmt.Errorf("%q is not a load balancer ARN (arn:PARTITION:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/app/NAME/ID)", arn)
}

// elbResource is the resource part of an Elastic Load Balancing ARN.
func elbResource(arn string) (string, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "elasticloadbalancing" {
		return "", false
	}
	return parts[5], true
}

// Lag is how far before now every window ends.
func (s Spec) Lag() time.Duration { return time.Duration(s.LagSeconds) * time.Second }

// MaxWindow is the longest metric window.
func (s Spec) MaxWindow() time.Duration {
	var w int
	for _, m := range s.Metrics {
		w = max(w, m.WindowSeconds)
	}
	return time.Duration(w) * time.Second
}

// Range is the StartTime and EndTime of one GetMetricData call that covers
// every metric's window for an analysis at now: the end is now less the
// lag, truncated to the longest period, and the start the longest window
// before it. Analyze cuts each metric's own window from the data.
func (s Spec) Range(now time.Time) (start, end time.Time) {
	var period int
	for _, m := range s.Metrics {
		period = max(period, m.PeriodSeconds)
	}
	end = now.Add(-s.Lag())
	if period > 0 {
		end = end.Truncate(time.Duration(period) * time.Second)
	}
	return end.Add(-s.MaxWindow()), end
}

// Wait is how long canary sources must have been serving before an
// analysis can fill every metric's window: the longest window plus the
// lag. An analysis sooner finds too few samples and is inconclusive.
func (s Spec) Wait() time.Duration { return s.MaxWindow() + s.Lag() }
