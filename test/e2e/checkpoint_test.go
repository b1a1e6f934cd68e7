package e2e

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/eventbus"
)

// stackAwaitTimeout is template.yaml's default AwaitTimeoutSeconds, the
// fixed fallback poll the Await states used before their timeout followed
// the group's policy.
const stackAwaitTimeout = 1500 * time.Second

// reachedCheckpoint is one "Checkpoint Reached" event Auto Scaling sent.
type reachedCheckpoint struct {
	percent int
	at      time.Time
}

// checkpointsReached returns the "Checkpoint Reached" events of the
// group's instance refreshes that reached the bus, oldest first, whether or
// not they were delivered.
func (r *rig) checkpointsReached(group string) []reachedCheckpoint {
	r.t.Helper()
	var out []reachedCheckpoint
	for _, ev := range r.env.Cloud.EventBridge.Ingested() {
		var e struct {
			Source     string `json:"source"`
			DetailType string `json:"detail-type"`
			Detail     struct {
				Group      string `json:"AutoScalingGroupName"`
				Percentage string `json:"CheckpointPercentage"`
			} `json:"detail"`
		}
		if json.Unmarshal(ev.JSON, &e) != nil || e.Source != "aws.autoscaling" ||
			e.DetailType != "EC2 Auto Scaling Instance Refresh Checkpoint Reached" || e.Detail.Group != group {
			continue
		}
		p, err := strconv.Atoi(e.Detail.Percentage)
		if err != nil {
			r.t.Fatalf("checkpoint event with percentage %q", e.Detail.Percentage)
		}
		out = append(out, reachedCheckpoint{percent: p, at: ev.IngestedAt})
	}
	return out
}

// stepTimes returns when each step of the rollout's ledger timeline was
// recorded, by key (the first time, for a key recorded twice).
func (r *rig) stepTimes(rolloutID string) map[string]time.Time {
	r.t.Helper()
	out := map[string]time.Time{}
	l, _ := r.item("ROLLOUT#"+rolloutID, "META")["steps"].(*ddbtypes.AttributeValueMemberL)
	if l == nil {
		return out
	}
	for _, v := range l.Value {
		m, ok := v.(*ddbtypes.AttributeValueMemberM)
		if !ok {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, s(m.Value["at"]))
		if err != nil {
			r.t.Fatalf("step %s recorded at %q: %v", s(m.Value["key"]), s(m.Value["at"]), err)
		}
		if _, seen := out[s(m.Value["key"])]; !seen {
			out[s(m.Value["key"])] = at
		}
	}
	return out
}

// With every instance refresh event lost, the fallback poll alone must
// still find the refresh paused at each checkpoint and validate it there,
// before the refresh goes on (docs/design.md, the Await timeout): a
// checkpoint delay longer than the stack's old fixed timeout, or shorter,
// must not let a checkpoint go by unjudged.
func TestEveryCheckpointIsValidatedDuringItsPauseWhenEveryEventIsLost(t *testing.T) {
	t.Parallel()
	for i, tc := range []struct {
		name  string
		delay time.Duration
	}{
		{"a checkpoint delay longer than the stack's default Await timeout", stackAwaitTimeout + 300*time.Second},
		{"a checkpoint delay shorter than the stack's default Await timeout", 300 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, 40+uint64(i))
			f := r.newFleet(fleetSpec{name: "web", size: 4, tags: map[string]string{
				"phoenix:checkpoints":      "25,50,75,100",
				"phoenix:checkpoint-delay": fmt.Sprint(int(tc.delay.Seconds())),
			}})
			img := r.image("web-v2", "healthy")
			if err := r.env.Cloud.EventBridge.SetChaos("", eventbus.Chaos{Drop: 1}); err != nil {
				t.Fatal(err)
			}

			arn := r.start("r-lost-checkpoints", f.name, img)
			end := r.wait(arn, 12*time.Hour)
			if end.Status != sfntypes.ExecutionStatusSucceeded {
				t.Fatalf("execution %s: %s %s\n%s", end.Status, aws.ToString(end.Error), aws.ToString(end.Cause), r.functionLogs())
			}
			path := r.path(arn)
			t.Logf("path: %s", compact(path))
			if path[len(path)-1] != "Finalized" || !slices.Contains(path, "Poll") {
				t.Errorf("path %s, want polls and a finalized end", compact(path))
			}
			if n := r.invocations()[r.stack.Resources["RefreshEventsFunction"].PhysicalID]; n != 0 {
				t.Fatalf("refresh-events ran %d times; every event was to be lost", n)
			}
			reached := r.checkpointsReached(f.name)
			if got := len(reached); got != 3 {
				t.Fatalf("the refresh reported %d checkpoints (%v), want 25, 50 and 75", got, reached)
			}
			steps := r.stepTimes("r-lost-checkpoints")
			for _, cp := range reached {
				key := fmt.Sprintf("validate@%d#0", cp.percent)
				at, ok := steps[key]
				switch {
				case !ok:
					t.Errorf("checkpoint %d%% (reached at %s) was never validated; steps %v", cp.percent, cp.at.Format(time.TimeOnly), r.rollout("r-lost-checkpoints").steps)
				case at.Before(cp.at) || !at.Before(cp.at.Add(tc.delay)):
					t.Errorf("checkpoint %d%% validated at %s, want within its pause (%s to %s)",
						cp.percent, at.Format(time.TimeOnly), cp.at.Format(time.TimeOnly), cp.at.Add(tc.delay).Format(time.TimeOnly))
				}
			}
			g := r.group(f.name)
			if g.inService != 4 || g.images[img] != 4 || g.version != "2" {
				t.Errorf("fleet: %d in service, by image %v, group on %q; want all 4 on %s, version 2", g.inService, g.images, g.version, img)
			}
			if rec := r.rollout("r-lost-checkpoints"); rec.status != "finalized" {
				t.Errorf("ledger rollout = %+v, want finalized", rec)
			}
		})
	}
}

// A checkpoint delay longer than the stack's default Await timeout costs
// no fallback poll while the refresh's events arrive: the pause at a
// checkpoint validated on its event is waited out before the fallback
// clock starts (docs/design.md, "The Await timeout").
func TestALongCheckpointDelayCostsNoPollWhileEventsArrive(t *testing.T) {
	t.Parallel()
	r := newRig(t, 42)
	f := r.newFleet(fleetSpec{name: "web", size: 4, tags: map[string]string{
		"phoenix:checkpoint-delay": fmt.Sprint(int((stackAwaitTimeout + 300*time.Second).Seconds())),
	}})
	img := r.image("web-v2", "healthy")

	arn := r.start("r-long-pauses", f.name, img)
	end := r.wait(arn, 12*time.Hour)
	if end.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution %s: %s %s\n%s", end.Status, aws.ToString(end.Error), aws.ToString(end.Cause), r.functionLogs())
	}
	if path := r.path(arn); compact(path) != compact(goodPath) {
		t.Errorf("path:\n got %s\nwant %s", compact(path), compact(goodPath))
	}
	if rec := r.rollout("r-long-pauses"); rec.status != "finalized" ||
		!slices.Contains(rec.steps, "validate@25#0") || !slices.Contains(rec.steps, "validate@50#0") {
		t.Errorf("ledger rollout = %+v, want finalized after validating at 25%% and 50%%", rec)
	}
}
