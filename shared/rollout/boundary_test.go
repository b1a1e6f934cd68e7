package rollout

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"testing"
)

func TestBoundaryUnwrapsTheTypedErrorAndLogsOnce(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	if Boundary(log, "step", nil) != nil || buf.Len() != 0 {
		t.Fatal("nil must stay nil and log nothing")
	}
	inner := &TransientError{Op: "describe", Err: errors.New("throttled")}
	err := Boundary(log, "alarm-events", fmt.Errorf("read group: %w", inner))
	if err != inner { //nolint:errorlint // the outermost value is what Lambda reports.
		t.Errorf("got %T %v, want the *TransientError itself", err, err)
	}
	var rec map[string]any
	if e := json.Unmarshal(buf.Bytes(), &rec); e != nil {
		t.Fatalf("log %q: %v", buf.String(), e)
	}
	if rec["msg"] != "alarm-events failed" || rec["errorType"] != "*rollout.TransientError" || rec["error"] != "read group: "+inner.Error() {
		t.Errorf("log record %v", rec)
	}
	plain := errors.New("a bug")
	if got := Typed(fmt.Errorf("x: %w", plain)); got.Error() != "x: a bug" {
		t.Errorf("an error without a typed cause is returned as it is, got %v", got)
	}
	if got := Typed(fmt.Errorf("x: %w", &LeaseHeldError{})); fmt.Sprintf("%T", got) != "*rollout.LeaseHeldError" {
		t.Errorf("got %T", got)
	}
}

func TestInvocationLoggerCarriesTheInvocationsAttributes(t *testing.T) {
	var buf bytes.Buffer
	l := InvocationLogger(context.Background(), slog.New(slog.NewJSONHandler(&buf, nil)),
		func(context.Context) []any { return []any{"requestId", "req-1"} }, "handler", "recycle-scheduler")
	l.Info("hello")
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["requestId"] != "req-1" || rec["handler"] != "recycle-scheduler" {
		t.Errorf("record %v", rec)
	}
}
