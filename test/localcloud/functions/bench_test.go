//go:build linux

package functions

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
)

// benchService is a Lambda service for benchmarks.
func benchService(b *testing.B) *Service {
	b.Helper()
	svc, err := New(Options{Clock: clock.NewStepped(time.Time{}), WorkDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = svc.Close() })
	return svc
}

func benchInvoke(b *testing.B, svc *Service, name string, payload []byte) {
	b.Helper()
	out, err := svc.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String(name), Payload: payload})
	if err != nil || out.FunctionError != nil {
		b.Fatalf("invoke: %v", err)
	}
}

// BenchmarkWarmInvocationOfABuiltBootstrap measures a round trip through
// the Runtime API to a warm runtime process.
func BenchmarkWarmInvocationOfABuiltBootstrap(b *testing.B) {
	svc := benchService(b)
	in := binaryFunction(b, "bench")
	if _, err := svc.CreateFunction(context.Background(), in); err != nil {
		b.Fatal(err)
	}
	svc.clock.Settle()
	payload := []byte(`{"action":"echo","message":"x"}`)
	benchInvoke(b, svc, "bench", payload) // cold start outside the timing
	b.ResetTimer()
	for b.Loop() {
		benchInvoke(b, svc, "bench", payload)
	}
}

// BenchmarkColdStartOfABuiltBootstrap measures starting a runtime process
// and its first invocation.
func BenchmarkColdStartOfABuiltBootstrap(b *testing.B) {
	svc := benchService(b)
	in := binaryFunction(b, "cold")
	if _, err := svc.CreateFunction(context.Background(), in); err != nil {
		b.Fatal(err)
	}
	svc.clock.Settle()
	payload := []byte(`{"action":"echo","message":"x"}`)
	for b.Loop() {
		svc.mu.Lock()
		fn := svc.lookup("us-east-1", "cold")
		svc.mu.Unlock()
		svc.retireWarm(fn)
		benchInvoke(b, svc, "cold", payload)
	}
}

// BenchmarkInProcessInvocation measures calling a registered Go handler.
func BenchmarkInProcessInvocation(b *testing.B) {
	svc := benchService(b)
	svc.RegisterFunc("fast", func(_ context.Context, ev json.RawMessage) (json.RawMessage, error) { return ev, nil })
	if _, err := svc.CreateFunction(context.Background(), inProcessFunction("fast")); err != nil {
		b.Fatal(err)
	}
	svc.clock.Settle()
	payload := []byte(`{"action":"echo"}`)
	for b.Loop() {
		benchInvoke(b, svc, "fast", payload)
	}
}
