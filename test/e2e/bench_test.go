package e2e

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// The bench's fleet and policy (issue 5): a 100-instance group, three
// reported checkpoints, and a refresh of about an hour (three 15-minute
// checkpoint pauses, four batches of 25 replacements, a 5-minute bake).
const (
	benchSize            = 100
	benchCheckpoints     = "25,50,75,100"
	benchCheckpointDelay = "900"
	benchBake            = "300"
	// Targets from the issue.
	maxTransitions = 60
)

// rolloutFigures are what one rollout cost.
type rolloutFigures struct {
	transitions int
	invocations map[string]int // by function logical id
	calls       map[string]int // by "service.Operation"
	polls       int            // Await timeouts that fell back to a poll
	// toFinalize is the simulated time from the refresh's Succeeded event
	// to Finalize being entered; refresh is the refresh's own duration.
	toFinalize time.Duration
	refresh    time.Duration
	path       []string
}

func BenchmarkRollout100Instances3Checkpoints(b *testing.B) {
	var last rolloutFigures
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		r := newRig(b, uint64(100+i))
		f := r.newFleet(fleetSpec{name: "fleet", size: benchSize, tags: map[string]string{
			"phoenix:checkpoints": benchCheckpoints, "phoenix:checkpoint-delay": benchCheckpointDelay, "phoenix:bake": benchBake,
		}})
		img := r.image("fleet-v2", "healthy")
		// Whatever the new image's own events set off (image publishing)
		// happens before the rollout, so the counts below are the rollout's.
		r.env.Advance(time.Minute)
		id := fmt.Sprintf("r-bench-%d", i)
		b.StartTimer()

		arn := r.start(id, f.name, img)
		before := counts{calls: r.env.Cloud.Wire.Requests(), invocations: r.invocations()}
		r.run(arn, 6*time.Hour)
		after := counts{calls: r.env.Cloud.Wire.Requests(), invocations: r.invocations()}

		b.StopTimer()
		end := r.wait(arn, time.Minute)
		if end.Status != sfntypes.ExecutionStatusSucceeded {
			b.Fatalf("execution %s: %s %s", end.Status, aws.ToString(end.Error), aws.ToString(end.Cause))
		}
		last = r.figures(arn, before, after)
		if g := r.group(f.name); g.images[img] != benchSize || r.rollout(id).status != "finalized" {
			b.Fatalf("rollout %s did not finalize with the whole fleet on %s: %+v", id, img, g)
		}
		b.StartTimer()
	}
	b.StopTimer()
	if last.transitions > maxTransitions {
		b.Errorf("%d state transitions, over the target of %d; path: %s", last.transitions, maxTransitions, compact(last.path))
	}
	if last.polls != 0 {
		b.Errorf("%d fallback polls, want none: every wake-up should come from an event", last.polls)
	}
	b.ReportMetric(float64(last.transitions), "transitions/op")
	b.ReportMetric(float64(sum(last.invocations)), "invocations/op")
	b.ReportMetric(float64(sum(last.calls)), "api-calls/op")
	b.ReportMetric(float64(last.polls), "polls/op")
	b.ReportMetric(last.toFinalize.Seconds(), "sim-s-succeeded-to-finalize/op")
	// Written to stdout because the testing package keeps only the first
	// lines of a benchmark's log.
	fmt.Println(last.String())
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// counts are the cloud's request and invocation counters at one instant.
type counts struct {
	calls       map[string]int // by "service.Operation"
	invocations map[string]int // by function name
}

// figures reads what the rollout of execution arn cost: states entered and
// timeouts from its history, and invocations and API calls from the
// counters between before and after.
func (r *rig) figures(arn string, before, after counts) rolloutFigures {
	r.t.Helper()
	fig := rolloutFigures{invocations: map[string]int{}, calls: map[string]int{}}
	var finalize time.Time
	for _, ev := range r.history(arn) {
		switch {
		case ev.StateEnteredEventDetails != nil:
			name := aws.ToString(ev.StateEnteredEventDetails.Name)
			fig.transitions++
			fig.path = append(fig.path, name)
			if name == "Finalize" {
				finalize = aws.ToTime(ev.Timestamp)
			}
		case ev.Type == sfntypes.HistoryEventTypeTaskTimedOut:
			fig.polls++
		}
	}
	logical := map[string]string{}
	for id, d := range r.stack.Resources {
		logical[d.PhysicalID] = id
	}
	for name, n := range after.invocations {
		if d := n - before.invocations[name]; d > 0 {
			fig.invocations[logical[name]] = d
		}
	}
	for op, n := range after.calls {
		if d := n - before.calls[op]; d > 0 {
			fig.calls[op] = d
		}
	}
	var succeeded time.Time
	for _, ev := range r.env.Cloud.EventBridge.Ingested() {
		var e struct {
			DetailType string    `json:"detail-type"`
			Time       time.Time `json:"time"`
		}
		if json.Unmarshal(ev.JSON, &e) == nil && e.DetailType == "EC2 Auto Scaling Instance Refresh Succeeded" {
			succeeded = e.Time
		}
	}
	if succeeded.IsZero() || finalize.IsZero() {
		r.t.Fatalf("no Succeeded event (%s) or no Finalize (%s)", succeeded, finalize)
	}
	fig.toFinalize = finalize.Sub(succeeded)
	if rf := r.refreshes("fleet"); len(rf) > 0 && rf[0].StartTime != nil && rf[0].EndTime != nil {
		fig.refresh = rf[0].EndTime.Sub(*rf[0].StartTime)
	}
	return fig
}

// String is the figures as a table for `make bench`.
func (f rolloutFigures) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Rollout of a %d-instance group, checkpoints %s, refresh %s (simulated)\n", benchSize, benchCheckpoints, f.refresh)
	fmt.Fprintf(&b, "  state transitions            %4d  (target: at most %d)\n", f.transitions, maxTransitions)
	fmt.Fprintf(&b, "  fallback polls (timeouts)    %4d  (target: 0)\n", f.polls)
	fmt.Fprintf(&b, "  refresh Succeeded → Finalize %6.1f s simulated, bake excluded (target: no poll interval, one event delivery)\n", f.toFinalize.Seconds())
	fmt.Fprintf(&b, "  Lambda invocations           %4d\n", sum(f.invocations))
	for _, k := range sortedCounts(f.invocations) {
		fmt.Fprintf(&b, "    %-32s %4d\n", k, f.invocations[k])
	}
	fmt.Fprintf(&b, "  AWS API calls                %4d\n", sum(f.calls))
	for _, k := range sortedCounts(f.calls) {
		fmt.Fprintf(&b, "    %-48s %4d\n", k, f.calls[k])
	}
	fmt.Fprintf(&b, "  path: %s", compact(f.path))
	return b.String()
}

func sortedCounts(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
