package e2e

import (
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/phoenix-rollouts/phoenix/shared/ledger"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Busy is a function of its own, with Dirty's rights and none on the
// fleet: this runs it under the template's role, with IAM enforced.
func TestARolloutWhoseGroupStaysLeasedIsRefusedByBusyAndChangesNothing(t *testing.T) {
	t.Parallel()
	r := newRig(t, 1)
	f := r.newFleet(fleetSpec{name: "web", size: 2})
	img := r.image("web-v2", "healthy")
	key := rollout.GroupKey{Region: region, Name: f.name}
	l := ledger.New(r.ddb, r.table).WithLogger(slog.New(slog.DiscardHandler))
	holder := rollout.Lease{Group: key, Owner: "r-holder", Execution: "arn:aws:states:" + region + ":123456789012:execution:other:r-holder",
		ExpiresAt: r.env.Now().Add(12 * time.Hour)}
	if err := l.AcquireLease(r.ctx, holder, r.env.Now()); err != nil {
		t.Fatal(err)
	}

	arn := r.start("r-busy", f.name, img)
	end := r.wait(arn, rolloutLimit)
	if end.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution %s: %s %s\n%s", end.Status, aws.ToString(end.Error), aws.ToString(end.Cause), r.functionLogs())
	}
	want := []string{"Start", "Prepare", "Busy", "Refused"}
	if path := r.path(arn); !slices.Equal(path, want) {
		t.Errorf("path:\n got %s\nwant %s", compact(path), compact(want))
	}
	rec := r.rollout("r-busy")
	if rec.status != "refused" || !strings.Contains(rec.reason, "busy with another rollout") || !strings.Contains(rec.reason, "r-holder") {
		t.Errorf("ledger rollout = %+v; want refused, naming the rollout that holds the group", rec)
	}
	if got := r.notifications("r-busy"); !slices.Equal(got, []string{"Phoenix Rollout Refused"}) {
		t.Errorf("events = %v, want one refusal", got)
	}
	active, ok, err := l.ActiveRollout(r.ctx, key)
	if err != nil || !ok || active.ID != "r-holder" {
		t.Errorf("the group's lease: %+v (held %v, %v); want r-holder's, untouched", active, ok, err)
	}
	if g := r.group(f.name); g.version != "1" || g.images[img] != 0 || len(r.refreshes(f.name)) != 0 {
		t.Errorf("fleet %+v with %d refreshes; want it untouched on version 1", g, len(r.refreshes(f.name)))
	}
	calls := r.invocations()
	if n := calls[r.stack.Resources["BusyFunction"].PhysicalID]; n != 1 {
		t.Errorf("the busy function ran %d times, want once\n%v", n, calls)
	}
}
