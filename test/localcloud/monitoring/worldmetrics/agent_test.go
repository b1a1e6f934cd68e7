package worldmetrics

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/sim"
)

// instanceDims are the dimensions of an instance's own metrics.
func instanceDims(id string) []cwtypes.Dimension {
	return []cwtypes.Dimension{{Name: aws.String("InstanceId"), Value: aws.String(id)}}
}

// perInstance is what one instance published over a window.
type perInstance struct {
	requests, errors float64
	average          float64 // mean of the minutes' Average latency
	p99              float64 // median of the minutes' p99 latency
	memory           []float64
	slope            float64 // of memory, points an hour
}

// measure reads what each instance published over the last n minutes.
func (f *fleet) measure(ids []string, n int) []perInstance {
	f.t.Helper()
	out := make([]perInstance, 0, len(ids))
	for _, id := range ids {
		dims := instanceDims(id)
		var p perInstance
		p.requests = sum(f.sums(AppNamespace, "RequestCount", dims, n))
		p.errors = sum(f.sums(AppNamespace, "HTTPCode_Target_5XX_Count", dims, n))
		avg := f.stats(AppNamespace, "TargetResponseTime", "Average", dims, n, time.Minute)
		p99 := f.stats(AppNamespace, "TargetResponseTime", "p99", dims, n, time.Minute)
		p.memory = f.stats(AgentNamespace, "mem_used_percent", "Average", dims, n, time.Minute)
		if len(avg) != n || len(p99) != n || len(p.memory) != n {
			f.t.Fatalf("instance %s: %d Average, %d p99 and %d memory datapoints over %d minutes, want one a minute", id, len(avg), len(p99), len(p.memory), n)
		}
		p.average = sum(avg) / float64(n)
		p.p99 = median(p99)
		p.slope = slopePerHour(p.memory)
		out = append(out, p)
	}
	return out
}

func sum(vs []float64) float64 {
	s := 0.0
	for _, v := range vs {
		s += v
	}
	return s
}

func mean(vs []float64) float64 { return sum(vs) / float64(len(vs)) }

func median(vs []float64) float64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// sd is the sample standard deviation.
func sd(vs []float64) float64 {
	m, ss := mean(vs), 0.0
	for _, v := range vs {
		ss += (v - m) * (v - m)
	}
	return math.Sqrt(ss / float64(len(vs)-1))
}

// slopePerHour is the least-squares slope of one value a minute.
func slopePerHour(vs []float64) float64 {
	n := float64(len(vs))
	tm := (n - 1) / 2
	vm := mean(vs)
	var num, den float64
	for i, v := range vs {
		dt := (float64(i) - tm) / 60
		num += dt * (v - vm)
		den += dt * dt
	}
	return num / den
}

// of maps a field over the instances.
func of(ps []perInstance, field func(perInstance) float64) []float64 {
	out := make([]float64, len(ps))
	for i, p := range ps {
		out[i] = field(p)
	}
	return out
}

// rate is the share of the instances' requests answered 5XX.
func rate(ps []perInstance) float64 {
	return sum(of(ps, func(p perInstance) float64 { return p.errors })) / sum(of(ps, func(p perInstance) float64 { return p.requests }))
}

// A baseline image and three regressed ones, six instances each, behind one
// target group (as a rolling rollout's canary and baseline are) for two
// hours: each regression shows at its rate, with the default noise, and
// none fails a health check.
func TestRegressionsShowInTheInstancesMetricsAtTheirRates(t *testing.T) {
	f := newFleet(t)
	f.w.SetEC2Config(sim.EC2Config{RequestsPerMinute: 4800}) // 200 a minute per instance
	base := f.launch("base", "errors:0.01", 6)
	errs := f.launch("errs", "errors:0.03", 6)
	slow := f.launch("slow", "errors:0.01 slower:1.5", 6)
	leak := f.launch("leak", "errors:0.01,leak:2", 6)
	all := slices.Concat(base, errs, slow, leak)
	dims := f.serve("web", all)
	f.clk.Advance(5 * time.Minute) // boot, start, first health checks
	const minutes = 120
	f.clk.Advance(minutes * time.Minute)

	if vs := f.stats("AWS/ApplicationELB", "UnHealthyHostCount", "Maximum", dims, minutes, time.Minute); slices.Max(vs) != 0 {
		t.Errorf("UnHealthyHostCount reached %v: a regression must pass every health check", slices.Max(vs))
	}
	tgs, err := f.w.ELB().DescribeTargetGroups(f.ctx, &elb.DescribeTargetGroupsInput{Names: []string{"web-tg"}})
	if err != nil {
		t.Fatal(err)
	}
	health, err := f.w.ELB().DescribeTargetHealth(f.ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: tgs.TargetGroups[0].TargetGroupArn})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range health.TargetHealthDescriptions {
		if d.TargetHealth.State != "healthy" {
			t.Errorf("target %s is %s, want healthy", aws.ToString(d.Target.Id), d.TargetHealth.State)
		}
	}

	b, e, s, l := f.measure(base, minutes), f.measure(errs, minutes), f.measure(slow, minutes), f.measure(leak, minutes)
	average := func(p perInstance) float64 { return p.average }
	p99 := func(p perInstance) float64 { return p.p99 }
	slope := func(p perInstance) float64 { return p.slope }

	// 6 instances × 24,000 requests: the binomial count's spread (1.5%
	// at 3%, 2.6% at 1%) and the hosts' own factors (σ 0.1 / √6 = 4%)
	// make the rate's deviation about 4.5% (5% at 1%); 15% (20%) is over
	// three of them.
	errRate, baseRate := rate(e), rate(b)
	t.Logf("5XX share: errors:0.03 %.4f, errors:0.01 %.4f", errRate, baseRate)
	if math.Abs(errRate-0.03) > 0.15*0.03 || math.Abs(baseRate-0.01) > 0.2*0.01 {
		t.Errorf("5XX share %.4f and %.4f, want 0.03 within 15%% and 0.01 within 20%%", errRate, baseRate)
	}
	// Host factors (σ 0.05) and requests (σ 0.5 over 24,000) make each
	// side's mean latency wander about 2%, and the sides' zones differ a
	// little (the minute factors are shared): the ratio's deviation is
	// about 3%, and 1.5 ± 0.2 is over four of them.
	avgRatio := mean(of(s, average)) / mean(of(b, average))
	p99Ratio := mean(of(s, p99)) / mean(of(b, p99))
	t.Logf("latency: slower:1.5 Average %.4f s vs %.4f s (×%.3f), p99 %.4f s vs %.4f s (×%.3f)",
		mean(of(s, average)), mean(of(b, average)), avgRatio, mean(of(s, p99)), mean(of(b, p99)), p99Ratio)
	if math.Abs(avgRatio-1.5) > 0.2 || math.Abs(p99Ratio-1.5) > 0.2 {
		t.Errorf("slower:1.5 made Average ×%.3f and p99 ×%.3f, want 1.5 within 0.2", avgRatio, p99Ratio)
	}
	if ratio := mean(of(b, p99)) / mean(of(b, average)); ratio < 2 || ratio > 3.5 {
		t.Errorf("a healthy instance's p99 is %.2f times its Average, want about 2.8 (Noise.RequestLatency 0.5)", ratio)
	}
	// Each instance's slope: its own drift (σ 0.25 points an hour) and
	// 120 readings' noise (σ 0.3: 0.05 on the slope); over 6 instances a
	// side's mean slope wanders about 0.1, their difference 0.15.
	leakSlope, baseSlope := mean(of(l, slope)), mean(of(b, slope))
	t.Logf("memory slope: leak:2 %.3f points/h, baseline %.3f points/h", leakSlope, baseSlope)
	if math.Abs(leakSlope-2) > 0.4 || math.Abs(baseSlope) > 0.4 {
		t.Errorf("memory slopes %.3f (leak:2) and %.3f (baseline) points an hour, want 2 and 0 within 0.4", leakSlope, baseSlope)
	}
	// A regression changes only its own numbers.
	if r := rate(s); math.Abs(r-0.01) > 0.2*0.01 {
		t.Errorf("slower:1.5's 5XX share %.4f, want errors:0.01's", r)
	}
	if ratio := mean(of(e, average)) / mean(of(b, average)); math.Abs(ratio-1) > 0.1 {
		t.Errorf("errors:0.03 changed latency ×%.3f", ratio)
	}
}

// 24 instances of one image: they differ by what Noise documents (their
// hosts' latency and error factors, their memory levels), and with
// Noise{} not at all, except for the draw of which requests fail.
func TestInstancesOfOneImageDifferOnlyByTheDocumentedNoise(t *testing.T) {
	for _, c := range []struct {
		name  string
		noise sim.Noise
	}{
		{"with the default noise", sim.DefaultNoise()},
		{"without noise", sim.Noise{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFleet(t)
			f.w.SetNoise(c.noise)
			f.w.SetEC2Config(sim.EC2Config{RequestsPerMinute: 4800})
			ids := f.launch("web", "errors:0.02", 24)
			f.serve("web", ids)
			f.clk.Advance(5 * time.Minute)
			const minutes = 60
			f.clk.Advance(minutes * time.Minute)
			ps := f.measure(ids, minutes)
			logLatency := of(ps, func(p perInstance) float64 { return math.Log(p.average) })
			rates := of(ps, func(p perInstance) float64 { return p.errors / p.requests })
			levels := of(ps, func(p perInstance) float64 { return mean(p.memory) })
			latSD, rateSD, memSD := sd(logLatency), sd(rates)/mean(rates), sd(levels)
			t.Logf("between instances: latency σ %.3f (log), 5XX share σ %.3f (relative), memory level σ %.2f points", latSD, rateSD, memSD)
			if c.noise == (sim.Noise{}) {
				// Every answer takes 20 ms; memory sits at the
				// baseline; only the binomial draw of failures differs
				// (12,000 requests at 2%: relative σ 0.065).
				if latSD > 1e-9 || memSD != 0 || math.Abs(mean(of(ps, func(p perInstance) float64 { return p.average }))-0.02) > 1e-12 {
					t.Errorf("without noise instances differ: latency σ %v, memory σ %v", latSD, memSD)
				}
				if levels[0] != sim.MemoryBaseline {
					t.Errorf("memory level %v without noise, want %v", levels[0], sim.MemoryBaseline)
				}
				if rateSD > 0.11 {
					t.Errorf("5XX shares spread σ %.3f without host factors, want about 0.065", rateSD)
				}
				return
			}
			// Expected: latency √(0.05² + the zones' 0.03² between
			// zones) ≈ 0.05-0.06 plus 12,000 requests' 0.5%; 5XX
			// share √(0.1² + 0.065²) ≈ 0.12; memory 8 points. 24
			// instances estimate a σ within -40% and +50% (99.9%),
			// -50% and +80% for latency, whose σ is mostly the hosts'.
			if latSD < 0.025 || latSD > 0.1 {
				t.Errorf("latency differs by σ %.3f between instances, want about 0.055", latSD)
			}
			if rateSD < 0.07 || rateSD > 0.18 {
				t.Errorf("5XX share differs by σ %.3f between instances, want about 0.12", rateSD)
			}
			if memSD < 4.8 || memSD > 12 {
				t.Errorf("memory level differs by σ %.2f points between instances, want about 8", memSD)
			}
		})
	}
}

// The same seed and the same calls give the same numbers; another seed
// gives others.
func TestInstanceMetricsAreDeterminedByTheSeed(t *testing.T) {
	run := func(seed uint64) ([]string, [][]float64) {
		f := newSeededFleet(t, seed)
		ids := f.launch("web", "errors:0.02 slower:1.2 leak:1", 3)
		f.serve("web", ids)
		f.clk.Advance(20 * time.Minute)
		var series [][]float64
		for _, id := range ids {
			dims := instanceDims(id)
			series = append(series,
				f.sums(AppNamespace, "HTTPCode_Target_5XX_Count", dims, 10),
				f.stats(AppNamespace, "TargetResponseTime", "p99", dims, 10, time.Minute),
				f.stats(AppNamespace, "TargetResponseTime", "Average", dims, 10, time.Minute),
				f.stats(AgentNamespace, "mem_used_percent", "Average", dims, 10, time.Minute),
				f.stats(EC2Namespace, "CPUUtilization", "Average", dims, 2, 5*time.Minute))
		}
		return ids, series
	}
	ids1, a := run(11)
	ids2, b := run(11)
	_, c := run(12)
	if !slices.Equal(ids1, ids2) {
		t.Fatalf("the same seed launched %v and %v", ids1, ids2)
	}
	for i := range a {
		if len(a[i]) == 0 || !slices.Equal(a[i], b[i]) {
			t.Fatalf("series %d: %v and %v from the same seed", i, a[i], b[i])
		}
	}
	same := 0
	for i := range a {
		if slices.Equal(a[i], c[i]) {
			same++
		}
	}
	if same == len(a) {
		t.Fatal("another seed gave the same numbers")
	}
}

// The agent's memory and EC2's CPU are published for every running
// instance, with InstanceId alone; CPU every five minutes (basic
// monitoring), higher for an instance that serves.
func TestEveryRunningInstancePublishesMemoryAndCPU(t *testing.T) {
	f := newFleet(t)
	serving := f.launch("web", "healthy", 1)
	f.serve("web", serving)
	idle := f.launch("batch", "leak:6", 1)
	f.clk.Advance(32 * time.Minute)

	for _, ns := range []struct{ namespace, metric string }{{AgentNamespace, "mem_used_percent"}, {EC2Namespace, "CPUUtilization"}} {
		out, err := f.cw.ListMetrics(f.ctx, &cloudwatch.ListMetricsInput{Namespace: aws.String(ns.namespace)})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range out.Metrics {
			if aws.ToString(m.MetricName) != ns.metric || len(m.Dimensions) != 1 || aws.ToString(m.Dimensions[0].Name) != "InstanceId" {
				t.Errorf("%s lists %s with %d dimensions, want %s with InstanceId alone", ns.namespace, aws.ToString(m.MetricName), len(m.Dimensions), ns.metric)
				continue
			}
			got = append(got, aws.ToString(m.Dimensions[0].Value))
		}
		slices.Sort(got)
		if want := slices.Sorted(slices.Values(slices.Concat(serving, idle))); !slices.Equal(got, want) {
			t.Errorf("%s %s for %v, want every running instance %v", ns.namespace, ns.metric, got, want)
		}
	}
	// An application behind no load balancer serves no requests to count.
	app, err := f.cw.ListMetrics(f.ctx, &cloudwatch.ListMetricsInput{Namespace: aws.String(AppNamespace), Dimensions: []cwtypes.DimensionFilter{{Name: aws.String("InstanceId"), Value: aws.String(idle[0])}}})
	if err != nil || len(app.Metrics) != 0 {
		t.Errorf("an instance behind no load balancer has App metrics %v (%v)", app, err)
	}

	end := f.clk.Now().Truncate(5 * time.Minute)
	data, err := f.cw.GetMetricData(f.ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(end.Add(-30 * time.Minute)), EndTime: aws.Time(end), ScanBy: cwtypes.ScanByTimestampAscending,
		MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("c"), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String(EC2Namespace), MetricName: aws.String("CPUUtilization"), Dimensions: instanceDims(serving[0])},
			Period: aws.Int32(60), Stat: aws.String("SampleCount"),
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := data.MetricDataResults[0]
	for i, at := range r.Timestamps {
		if at.Unix()%300 != 0 || r.Values[i] != 1 {
			t.Errorf("CPUUtilization datapoint at %s (%v of them): want one every 5 minutes, on the 5 minutes", at.Format(time.TimeOnly), r.Values[i])
		}
	}
	if len(r.Timestamps) != 6 {
		t.Errorf("%d CPUUtilization datapoints in 30 minutes, want 6", len(r.Timestamps))
	}
	busy := mean(f.stats(EC2Namespace, "CPUUtilization", "Average", instanceDims(serving[0]), 4, 5*time.Minute))
	rest := mean(f.stats(EC2Namespace, "CPUUtilization", "Average", instanceDims(idle[0]), 4, 5*time.Minute))
	// 600 requests a minute at 20 ms: 12 s of answers, 10 points.
	if busy < rest+5 || rest > 5 {
		t.Errorf("CPUUtilization %.2f%% serving 600 requests a minute, %.2f%% idle; want about 12 and 2", busy, rest)
	}
	if s := slopePerHour(f.stats(AgentNamespace, "mem_used_percent", "Average", instanceDims(idle[0]), 30, time.Minute)); math.Abs(s-6) > 1.5 {
		t.Errorf("an instance of leak:6 behind no load balancer grows %.2f points an hour, want 6", s)
	}
}
