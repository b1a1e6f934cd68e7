package worldmetrics

import (
	"runtime"
	"testing"
	"time"
)

// BenchmarkAHundredInstancesPublishingForADay measures what the instance
// metrics cost: a 100-instance group behind a load balancer, a simulated
// day. CloudWatch keeps 15 days of datapoints, so 15 times the heap it
// reports per day bounds a longer run.
//
//	go test ./test/localcloud/monitoring/worldmetrics -run '^$' -bench AHundred -benchtime 1x
func BenchmarkAHundredInstancesPublishingForADay(b *testing.B) {
	for range b.N {
		f := newFleet(b)
		ids := f.launch("web", "errors:0.01", 100)
		f.serve("web", ids)
		f.clk.Advance(5 * time.Minute)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		const minutes = 24 * 60
		f.clk.Advance(minutes * time.Minute)
		wall := time.Since(start)
		runtime.GC()
		runtime.ReadMemStats(&after)
		perInstanceMinute := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / (100 * minutes)
		b.ReportMetric(perInstanceMinute, "B/instance-minute")
		b.ReportMetric(perInstanceMinute*100*15*24*60/1e6, "MB-at-15-days")
		b.ReportMetric(float64(wall.Microseconds())/minutes, "µs/simulated-minute")
		runtime.KeepAlive(f)
	}
}
