package notify

import (
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api/apitest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
)

// TestSNSNilInput: the operations that open with api.Begin answer a nil
// input as the empty request it stands for: the error they answered nil
// with before, or the empty listing.
func TestSNSNilInput(t *testing.T) {
	s := New(Options{Clock: clock.NewStepped(time.Time{})})
	apitest.NilAnswers(t, "CreateTopic", s.CreateTopic, "InvalidParameter")
	apitest.NilAnswers(t, "GetTopicAttributes", s.GetTopicAttributes, "InvalidParameter")
	apitest.NilAnswers(t, "DeleteTopic", s.DeleteTopic, "InvalidParameter")
	apitest.NilAnswers(t, "Subscribe", s.Subscribe, "InvalidParameter")
	apitest.NilAnswers(t, "ListSubscriptionsByTopic", s.ListSubscriptionsByTopic, "InvalidParameter")
	apitest.NilAnswers(t, "Publish", s.Publish, "InvalidParameter")
	apitest.NilAnswers(t, "ListTopics", s.ListTopics, "")
}
