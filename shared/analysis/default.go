package analysis

// AppNamespace is the namespace the default spec reads per-instance request
// metrics from: what a team's agent or application publishes with the
// single dimension InstanceId, under ELB's metric names (RequestCount,
// HTTPCode_Target_5XX_Count, TargetResponseTime in seconds), because
// AWS/ApplicationELB has no per-instance dimension.
const AppNamespace = "App"

// AgentNamespace is the CloudWatch agent's namespace; the default spec
// reads its mem_used_percent, published with the dimension InstanceId
// alone.
const AgentNamespace = "CWAgent"

// DefaultSpec is the spec docs/analysis.md describes and justifies: errors,
// latency and memory per instance, chosen by the simulation in
// power_test.go for the targets with 2 canary instances against
// 18.
func DefaultSpec() Spec {
	instance := func() map[string]string { return map[string]string{"InstanceId": PlaceholderInstance} }
	return Spec{
		Mode: Enforce, Alpha: DefaultAlpha, PassScore: DefaultPassScore, MarginalScore: DefaultMarginalScore,
		LagSeconds: DefaultLagSeconds,
		Metrics: []Metric{
			{
				Name: "error-rate", Namespace: AppNamespace, MetricName: "HTTPCode_Target_5XX_Count", Statistic: "Sum",
				Per:        &Denominator{MetricName: "RequestCount", Statistic: "Sum"},
				Dimensions: instance(), Scope: ScopeInstance, Direction: Increase,
				Tolerance: 0.3, AbsoluteTolerance: 0.0005, Sample: PerSource, MinSamples: 2,
				WindowSeconds: 600, PeriodSeconds: 60, Critical: true,
			},
			{
				Name: "latency-p99", Namespace: AppNamespace, MetricName: "TargetResponseTime", Statistic: "p99",
				Dimensions: instance(), Scope: ScopeInstance, Direction: Increase,
				Tolerance: 0.2, AbsoluteTolerance: 0.005, Sample: PerSource, MinSamples: 2,
				WindowSeconds: 600, PeriodSeconds: 60, Critical: true,
			},
			{
				Name: "latency-average", Namespace: AppNamespace, MetricName: "TargetResponseTime", Statistic: "Average",
				Dimensions: instance(), Scope: ScopeInstance, Direction: Increase,
				Tolerance: 0.2, AbsoluteTolerance: 0.005, Sample: PerSource, MinSamples: 2,
				WindowSeconds: 600, PeriodSeconds: 60,
			},
			{
				Name: "memory-growth", Namespace: AgentNamespace, MetricName: "mem_used_percent", Statistic: "Average",
				Dimensions: instance(), Scope: ScopeInstance, Direction: Increase,
				Tolerance: 0, AbsoluteTolerance: 1, Sample: Slope, MinSamples: 2,
				WindowSeconds: 1800, PeriodSeconds: 60, Critical: true,
			},
		},
	}
}
