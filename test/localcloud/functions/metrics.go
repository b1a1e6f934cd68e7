package functions

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/monitoring"
)

// MetricSink receives the metrics Lambda publishes to CloudWatch;
// *monitoring.CloudWatch satisfies it. The Service calls it without holding
// its own lock.
type MetricSink interface {
	Record(samples ...monitoring.Sample)
}

// Lambda's namespace and the units of its invocation metrics.
const (
	lambdaNamespace = "AWS/Lambda"
	unitCount       = "Count"
	unitMillis      = "Milliseconds"
)

// noDimensions is the dimension set of the metrics Lambda aggregates over
// every function of the account and region.
var noDimensions = map[string]string{}

// publishInvocation records the invocation metrics of one attempt, with
// the metrics CloudWatch Logs extracted from its log lines: Invocations 1,
// Errors 1 or 0, and Duration, each for the function and for the account.
// As Lambda documents, they carry the instant the invocation began, even
// for an error that happened later.
func (s *Service) publishInvocation(fn *function, began time.Time, failed bool, dur time.Duration, logged []monitoring.Sample) {
	if s.metrics == nil {
		return
	}
	errs := 0.0
	if failed {
		errs = 1
	}
	out := make([]monitoring.Sample, 0, 6+len(logged))
	for _, dims := range [2]map[string]string{fn.metricDims, noDimensions} {
		out = append(out,
			monitoring.Sample{Region: fn.region, Namespace: lambdaNamespace, MetricName: "Invocations", Dimensions: dims, Timestamp: began, Value: 1, Unit: unitCount},
			monitoring.Sample{Region: fn.region, Namespace: lambdaNamespace, MetricName: "Errors", Dimensions: dims, Timestamp: began, Value: errs, Unit: unitCount},
			monitoring.Sample{Region: fn.region, Namespace: lambdaNamespace, MetricName: "Duration", Dimensions: dims, Timestamp: began, Value: ms(dur), Unit: unitMillis},
		)
	}
	s.metrics.Record(append(out, logged...)...)
}

// simulatedDuration is an attempt's Duration metric in simulated time: the
// function's timeout for one that timed out (Lambda's maximum), else the
// simulated time that passed while it ran, which is none on a stepped clock
// (a synchronous invocation holds it, an asynchronous one runs inside a
// clock event). The wall time a run took is not used: it would make the
// metric differ between runs of the same seed.
func (s *Service) simulatedDuration(began time.Time, r run, timeout time.Duration) time.Duration {
	if r.res.status == "timeout" && !r.initFailed {
		return timeout
	}
	return min(s.clock.Now().Sub(began), timeout)
}

// RecordThrottle counts an Invoke that was refused with
// TooManyRequestsException before it reached the function, as Lambda's
// Throttles metric (for the function and for the account). The local cloud
// refuses such calls ahead of the model (API fault rules in the wire layer
// and in Step Functions' aws-sdk integrations), so they are reported here.
// A throttled request is not an invocation: Invocations and Errors do not
// count it. Nothing is recorded for a function that does not exist.
func (s *Service) RecordThrottle(ctx context.Context, in *lambda.InvokeInput) {
	if s.metrics == nil || in == nil {
		return
	}
	req := api.RequestFrom(ctx)
	t, err := s.resolve(req.Region, in.FunctionName, in.Qualifier)
	if err != nil {
		return
	}
	s.mu.Lock()
	fn := s.lookup(t.region, t.name)
	s.mu.Unlock()
	if fn == nil {
		return
	}
	now := s.clock.Now()
	s.metrics.Record(
		monitoring.Sample{Region: fn.region, Namespace: lambdaNamespace, MetricName: "Throttles", Dimensions: fn.metricDims, Timestamp: now, Value: 1, Unit: unitCount},
		monitoring.Sample{Region: fn.region, Namespace: lambdaNamespace, MetricName: "Throttles", Dimensions: noDimensions, Timestamp: now, Value: 1, Unit: unitCount},
	)
}
