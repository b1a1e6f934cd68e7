package params

import (
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api/apitest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
)

// TestParameterStoreNilInput: the operations that open with api.Begin
// answer a nil input as the empty request it stands for: the validation
// error they answered nil with before, or the empty listing.
func TestParameterStoreNilInput(t *testing.T) {
	s := New(Options{Clock: clock.NewStepped(time.Time{})})
	apitest.NilAnswers(t, "GetParameter", s.GetParameter, "ValidationException")
	apitest.NilAnswers(t, "GetParameters", s.GetParameters, "ValidationException")
	apitest.NilAnswers(t, "GetParametersByPath", s.GetParametersByPath, "ValidationException")
	apitest.NilAnswers(t, "GetParameterHistory", s.GetParameterHistory, "ValidationException")
	apitest.NilAnswers(t, "DescribeParameters", s.DescribeParameters, "")
}
