package states

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/monitoring"
)

// MetricSink receives the metrics Step Functions publishes to CloudWatch;
// *monitoring.CloudWatch satisfies it. The Service calls it while holding
// its own lock, so a sink must never call back into the Service.
type MetricSink interface {
	Record(samples ...monitoring.Sample)
}

const statesNamespace = "AWS/States"

// closingMetric names the count each closing status adds to.
var closingMetric = map[types.ExecutionStatus]string{
	types.ExecutionStatusSucceeded: "ExecutionsSucceeded",
	types.ExecutionStatusFailed:    "ExecutionsFailed",
	types.ExecutionStatusTimedOut:  "ExecutionsTimedOut",
	types.ExecutionStatusAborted:   "ExecutionsAborted",
}

// executionStarted records ExecutionsStarted for a new execution, under its
// own state machine (a child execution's is the machine it runs, not its
// parent's); s.mu is held.
func (s *Service) executionStarted(x *execution) {
	if s.metrics == nil {
		return
	}
	s.metrics.Record(monitoring.Sample{Region: x.region, Namespace: statesNamespace, MetricName: "ExecutionsStarted",
		Dimensions: x.machine.metricDims(), Timestamp: x.start, Value: 1, Unit: "Count"})
}

// executionClosed records the count of the execution's closing status and
// its ExecutionTime, the simulated milliseconds from start to close, both
// at the instant it closed; s.mu is held.
func (s *Service) executionClosed(x *execution) {
	name, ok := closingMetric[x.status]
	if s.metrics == nil || !ok {
		return
	}
	dims := x.machine.metricDims()
	s.metrics.Record(
		monitoring.Sample{Region: x.region, Namespace: statesNamespace, MetricName: name,
			Dimensions: dims, Timestamp: x.stop, Value: 1, Unit: "Count"},
		monitoring.Sample{Region: x.region, Namespace: statesNamespace, MetricName: "ExecutionTime",
			Dimensions: dims, Timestamp: x.stop, Value: float64(x.stop.Sub(x.start)) / float64(time.Millisecond), Unit: "Milliseconds"},
	)
}

// metricDims is the StateMachineArn dimension Step Functions gives its
// execution metrics.
func (m *stateMachine) metricDims() map[string]string {
	return map[string]string{"StateMachineArn": m.arn}
}
