package sim

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
)

// BenchmarkRefresh1000Instances3Checkpoints refreshes a 1,000-instance
// group to a new launch template version with checkpoints at 25, 50 and 75
// percent, in stepped mode. Only the refresh is timed, not building the
// group. It reports the clock events run and the simulated duration per
// refresh next to the allocations.
func BenchmarkRefresh1000Instances3Checkpoints(b *testing.B) {
	b.ReportAllocs()
	var events uint64
	var simulated time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		f := newFixture(b, InProcess)
		lt := f.template("bench-lt", f.image("bench-v1", ""))
		f.version(lt, f.image("bench-v2", ""))
		f.group(groupSpec{name: "big", ltID: lt, desired: 1000, max: 2000, zones: []string{"us-east-1a", "us-east-1b", "us-east-1c"}})
		before, t0 := f.clk.Executed(), f.clk.Now()
		b.StartTimer()
		id := f.refresh(&autoscaling.StartInstanceRefreshInput{
			AutoScalingGroupName: aws.String("big"),
			DesiredConfiguration: &types.DesiredConfiguration{LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(lt), Version: aws.String("2")}},
			Preferences: &types.RefreshPreferences{
				InstanceWarmup:        aws.Int32(60),
				CheckpointPercentages: []int32{25, 50, 75, 100},
				CheckpointDelay:       aws.Int32(600),
			},
		})
		f.until(24*time.Hour, "the refresh succeeds", func() bool { return f.status("big", id) == RefreshSuccessful })
		b.StopTimer()
		events += f.clk.Executed() - before
		simulated += f.clk.Now().Sub(t0)
		if got := f.versions("big"); got["2"] != 1000 {
			b.Fatalf("instances by version = %v, want 1000 on version 2", got)
		}
		if n := len(f.refreshEvents()); n != 5 {
			b.Fatalf("%d refresh events, want Started, three Checkpoint Reached and Succeeded", n)
		}
	}
	b.ReportMetric(float64(events)/float64(b.N), "clock-events/op")
	b.ReportMetric(simulated.Seconds()/float64(b.N), "sim-s/op")
}
