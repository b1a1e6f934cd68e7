package monitoring

import (
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api/apitest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
)

// TestCloudWatchNilInput: the operations that open with api.Begin answer a
// nil input as the empty request it stands for: the missing-parameter
// error they answered nil with before, or the empty listing.
func TestCloudWatchNilInput(t *testing.T) {
	cw := New(Options{Clock: clock.NewStepped(time.Time{})})
	apitest.NilAnswers(t, "TagResource", cw.TagResource, "MissingParameter")
	apitest.NilAnswers(t, "UntagResource", cw.UntagResource, "MissingParameter")
	apitest.NilAnswers(t, "ListTagsForResource", cw.ListTagsForResource, "MissingParameter")
	apitest.NilAnswers(t, "PutDashboard", cw.PutDashboard, "MissingParameter")
	apitest.NilAnswers(t, "GetDashboard", cw.GetDashboard, "MissingParameter")
	apitest.NilAnswers(t, "DeleteDashboards", cw.DeleteDashboards, "MissingParameter")
	apitest.NilAnswers(t, "DescribeAlarms", cw.DescribeAlarms, "")
	apitest.NilAnswers(t, "DescribeAlarmHistory", cw.DescribeAlarmHistory, "")
	apitest.NilAnswers(t, "ListDashboards", cw.ListDashboards, "")
}
