package tracing

import (
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestInstrument(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"a local run without a daemon stays uninstrumented", map[string]string{}, false},
		{"a Lambda with active tracing is instrumented", map[string]string{EnvDaemonAddress: "169.254.79.129:2000"}, true},
		{"a traced invocation is instrumented", map[string]string{EnvTraceID: "Root=1-5759e988-bd862e3fe1be46a994272793"}, true},
		{"tracing switched off stays uninstrumented", map[string]string{EnvDaemonAddress: "127.0.0.1:2000", EnvDisabled: "true"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var cfg aws.Config
			got := Instrument(&cfg, env(tc.env))
			if got != tc.want || (len(cfg.APIOptions) > 0) != tc.want {
				t.Errorf("instrumented %v with %d API options, want %v", got, len(cfg.APIOptions), tc.want)
			}
		})
	}
}

func TestInvocationAttrs(t *testing.T) {
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	ctx = context.WithValue(ctx, traceHeaderKey, "Root=1-abc") //nolint:staticcheck // aws-lambda-go stores the header under this string key.
	got := InvocationAttrs(ctx)
	want := []any{"requestId", "req-1", "traceId", "Root=1-abc"}
	if len(got) != len(want) {
		t.Fatalf("attrs = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("attrs = %v, want %v", got, want)
		}
	}
	if a := InvocationAttrs(context.Background()); len(a) != 0 {
		t.Errorf("a context outside Lambda gave %v", a)
	}
}
