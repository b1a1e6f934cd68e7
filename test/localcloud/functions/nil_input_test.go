package functions

import (
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api/apitest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
)

// TestLambdaNilInput: the operations that open with api.Begin answer a nil
// input as the empty request it stands for instead of panicking.
func TestLambdaNilInput(t *testing.T) {
	s, err := New(Options{Clock: clock.NewStepped(time.Time{}), WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	apitest.NilAnswers(t, "GetFunction", s.GetFunction, "ValidationException")
	apitest.NilAnswers(t, "GetFunctionConfiguration", s.GetFunctionConfiguration, "ValidationException")
	apitest.NilAnswers(t, "PutFunctionEventInvokeConfig", s.PutFunctionEventInvokeConfig, "ValidationException")
	apitest.NilAnswers(t, "GetFunctionEventInvokeConfig", s.GetFunctionEventInvokeConfig, "ValidationException")
	apitest.NilAnswers(t, "ListFunctions", s.ListFunctions, "")
}
