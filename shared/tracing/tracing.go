// Package tracing puts AWS X-Ray behind one small package, so that the
// backend can change (AWS has put the X-Ray SDKs in maintenance mode and
// recommends OpenTelemetry) without touching the functions.
package tracing

import (
	"context"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-xray-sdk-go/v2/instrumentation/awsv2"
)

// EnvDaemonAddress is set by Lambda when active tracing is on.
const EnvDaemonAddress = "AWS_XRAY_DAEMON_ADDRESS"

// EnvTraceID is set by the Lambda runtime for each traced invocation.
const EnvTraceID = "_X_AMZN_TRACE_ID"

// EnvDisabled turns tracing off even where it is configured.
const EnvDisabled = "AWS_XRAY_SDK_DISABLED"

// Enabled reports whether tracing is configured: a daemon to send segments
// to (or a trace already running). Local runs and the local cloud set
// neither, so they stay quiet.
func Enabled(getenv func(string) string) bool {
	if v := getenv(EnvDisabled); v == "true" || v == "TRUE" || v == "True" {
		return false
	}
	return getenv(EnvDaemonAddress) != "" || getenv(EnvTraceID) != ""
}

// Instrument adds a subsegment per AWS call to every client built from cfg,
// when tracing is enabled; otherwise it leaves cfg alone. It reports
// whether it instrumented.
func Instrument(cfg *aws.Config, getenv func(string) string) bool {
	if !Enabled(getenv) {
		return false
	}
	awsv2.AWSV2Instrumentor(&cfg.APIOptions)
	return true
}

// InvocationAttrs returns the log attributes that tie a line to its Lambda
// invocation and trace: the request id and, when traced, the trace id.
func InvocationAttrs(ctx context.Context) []any {
	var attrs []any
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		attrs = append(attrs, "requestId", lc.AwsRequestID)
	}
	if id, ok := ctx.Value(traceHeaderKey).(string); ok && id != "" {
		attrs = append(attrs, "traceId", id)
	}
	return attrs
}

// traceHeaderKey is the context key under which aws-lambda-go stores the
// invocation's X-Ray trace header.
const traceHeaderKey = "x-amzn-trace-id"
