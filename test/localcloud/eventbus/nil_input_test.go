package eventbus

import (
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api/apitest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
)

// TestEventBridgeNilInput: the operations that open with api.Begin answer
// a nil input as the empty request it stands for: the validation error
// they answered nil with before, or the empty listing.
func TestEventBridgeNilInput(t *testing.T) {
	b := New(Options{Clock: clock.NewStepped(time.Time{}), Target: &Recorder{}})
	apitest.NilAnswers(t, "PutRule", b.PutRule, "ValidationException")
	apitest.NilAnswers(t, "DescribeRule", b.DescribeRule, "ValidationException")
	apitest.NilAnswers(t, "EnableRule", b.EnableRule, "ValidationException")
	apitest.NilAnswers(t, "DisableRule", b.DisableRule, "ValidationException")
	apitest.NilAnswers(t, "DeleteRule", b.DeleteRule, "ValidationException")
	apitest.NilAnswers(t, "PutTargets", b.PutTargets, "ValidationException")
	apitest.NilAnswers(t, "RemoveTargets", b.RemoveTargets, "ValidationException")
	apitest.NilAnswers(t, "ListTargetsByRule", b.ListTargetsByRule, "ValidationException")
	apitest.NilAnswers(t, "PutEvents", b.PutEvents, "ValidationException")
	apitest.NilAnswers(t, "ListRules", b.ListRules, "")
}
