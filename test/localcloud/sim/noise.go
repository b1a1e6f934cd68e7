package sim

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Noise says how the numbers of instances running the same image differ
// from each other and wander from minute to minute, so that a comparison
// of a canary with a baseline meets the spread it meets in a real fleet.
// Each field is a standard deviation; 0 turns that source off, and
// SetNoise(Noise{}) gives every instance its behaviour's nominal numbers
// exactly (useful when a test asserts a value).
//
// Persistent sources are drawn once per instance (or zone) from the World's
// seed and the instance id (zone name), so an instance keeps its quirks for
// its whole life and a World with the same seed and history draws the same
// ones; per-minute sources are drawn from the seed, the instance (or
// region) and the minute. Factors on latency and errors are log-normal with
// mean 1: exp(σz - σ²/2).
type Noise struct {
	// HostLatency is the spread of an instance's own latency factor (its
	// host: neighbours, hardware). Default 0.05.
	HostLatency float64
	// ZoneLatency is the spread of a latency factor every instance in one
	// Availability Zone shares (its distance to the dependencies).
	// Default 0.03.
	ZoneLatency float64
	// MinuteLatency is the spread of a latency factor every instance of a
	// region shares for one minute (load on shared dependencies).
	// Default 0.05.
	MinuteLatency float64
	// RequestLatency is the spread of one request's latency around its
	// instance's mean for the minute. Default 0.5, which puts the p99 of
	// many requests at about 2.8 times their mean.
	RequestLatency float64
	// HostErrors is the spread of an instance's own factor on its
	// errors:P share (the mix of requests it happens to see). Default 0.1.
	HostErrors float64
	// MemoryLevel is the spread, in percentage points, of an instance's
	// mem_used_percent at start around MemoryBaseline. Default 8.
	MemoryLevel float64
	// MemoryDrift is the spread, in percentage points an hour, of an
	// instance's own memory trend (caches filling, fragmentation), around
	// 0. Default 0.25.
	MemoryDrift float64
	// MemoryMinute is the spread, in percentage points, of one minute's
	// memory reading around the instance's trend. Default 0.3.
	MemoryMinute float64
	// HostCPU is the spread of an instance's own factor on its idle CPU
	// (CPUIdle). Default 0.2.
	HostCPU float64
	// MinuteCPU is the spread, in percentage points, of one minute's CPU
	// reading. Default 0.3.
	MinuteCPU float64
}

// DefaultNoise returns the noise a World starts with. The host, error,
// minute and memory spreads are those of shared/analysis's power
// simulation (docs/analysis.md, "Power, from a simulation"), so that the
// local cloud's fleet and that model can be compared; that model's
// per-minute noise on p99 and Average comes here from each request's own
// draw, and the zone factor is the local cloud's.
func DefaultNoise() Noise {
	return Noise{
		HostLatency: 0.05, ZoneLatency: 0.03, MinuteLatency: 0.05, RequestLatency: 0.5,
		HostErrors:  0.1,
		MemoryLevel: 8, MemoryDrift: 0.25, MemoryMinute: 0.3,
		HostCPU: 0.2, MinuteCPU: 0.3,
	}
}

// The levels the noise varies around.
const (
	// MemoryBaseline is the mean mem_used_percent of a started instance.
	MemoryBaseline = 55.0
	// CPUIdle is the mean CPUUtilization, in percent, of an instance
	// that serves nothing.
	CPUIdle = 2.0
	// cpuPerRequestTime is the share of a request's latency an instance
	// spends on one CPU's worth of work: a minute of answers taking 60 s
	// in all adds 50 points of CPUUtilization.
	cpuPerRequestTime = 0.5
)

// SetNoise replaces the noise of the instances' numbers; it applies from
// the next minute World.Traffic models. An instance's persistent quirks are
// drawn from the seed, not stored, so they scale with the new spreads.
func (w *World) SetNoise(n Noise) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ec2State().noise = n
}

// Noise returns the noise in force.
func (w *World) Noise() Noise {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ec2State().noise
}

// source returns a random source for one purpose, seeded by the World's
// seed, key and n: the same arguments give the same numbers however often
// they are asked for, and drawing from it takes nothing from the World's
// own source (whose draws name the resources created next).
func (w *World) source(key string, n uint64) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(key))
	return rand.New(rand.NewPCG(w.seed^h.Sum64(), n))
}

// logNormal returns exp(σz - σ²/2): a factor with mean 1.
func logNormal(sigma, z float64) float64 {
	return math.Exp(sigma*z - sigma*sigma/2)
}

// host is an instance's persistent quirks under some noise.
type host struct {
	latency, errors    float64 // factors
	memLevel, memDrift float64 // points, points an hour
	cpuIdle            float64 // percent
}

// quirks are the standard normal draws behind an instance's host: the
// same for an instance of a World's seed whatever the noise, so they are
// drawn once and kept on the instance.
type quirks struct {
	latency, zone, errors, memLevel, memDrift, cpu float64
}

// hostOf returns inst's quirks scaled by n.
func (w *World) hostOf(inst *Instance, n Noise) host {
	if inst.quirks == nil {
		r := w.source("host|"+inst.ID, 0)
		inst.quirks = &quirks{
			latency: r.NormFloat64(), errors: r.NormFloat64(), memLevel: r.NormFloat64(),
			memDrift: r.NormFloat64(), cpu: r.NormFloat64(),
			zone: w.source("zone|"+inst.AZ, 0).NormFloat64(),
		}
	}
	z := inst.quirks
	return host{
		latency:  logNormal(n.HostLatency, z.latency) * logNormal(n.ZoneLatency, z.zone),
		errors:   logNormal(n.HostErrors, z.errors),
		memLevel: clamp(MemoryBaseline+n.MemoryLevel*z.memLevel, 5, 95),
		memDrift: n.MemoryDrift * z.memDrift,
		cpuIdle:  CPUIdle * logNormal(n.HostCPU, z.cpu),
	}
}

// minuteFactor is the latency factor every instance of a region shares in
// one minute.
func (w *World) minuteFactor(region string, minute int64, n Noise) float64 {
	if n.MinuteLatency == 0 {
		return 1
	}
	return logNormal(n.MinuteLatency, w.source("minute|"+region, uint64(minute)).NormFloat64())
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

// Latencies is a distribution of request latencies as an application's
// timer records them: whole milliseconds, given in seconds, ascending, each
// with the number of requests that took it. It is what the CloudWatch
// agent or an embedded-metric-format line publishes as a datapoint's
// Values and Counts, from which CloudWatch computes percentiles.
type Latencies struct {
	Values, Counts []float64
}

// latencyTally counts requests by whole milliseconds.
type latencyTally map[int64]float64

// drawLatencies adds n requests' latencies to into: each the mean (in
// nanoseconds) times a log-normal factor of spread sigma, rounded to whole
// milliseconds (at least 1), drawn from a source keyed by key and the
// minute. It returns their sum in milliseconds.
func (w *World) drawLatencies(into latencyTally, n int, mean, sigma float64, key string, minute int64) float64 {
	var r *rand.Rand
	if sigma > 0 {
		r = w.source(key, uint64(minute))
	}
	sum := 0.0
	for range n {
		x := mean
		if r != nil {
			x *= logNormal(sigma, r.NormFloat64())
		}
		ms := max(1, int64(math.Round(x/float64(time.Millisecond))))
		into[ms]++
		sum += float64(ms)
	}
	return sum
}

// latencies returns the tally as a distribution.
func (t latencyTally) latencies() Latencies {
	if len(t) == 0 {
		return Latencies{}
	}
	ms := make([]int64, 0, len(t))
	for v := range t {
		ms = append(ms, v)
	}
	slices.Sort(ms)
	out := Latencies{Values: make([]float64, len(ms)), Counts: make([]float64, len(ms))}
	for i, v := range ms {
		out.Values[i] = float64(v) / 1000
		out.Counts[i] = t[v]
	}
	return out
}

// InstanceVitals is what a running instance's operating system reports
// about one minute: the CloudWatch agent's memory and EC2's CPU.
type InstanceVitals struct {
	// MemoryUsedPercent is mem_used_percent at the minute's end: the
	// instance's level at start plus its own drift and its image's
	// leak:R times the hours since it started running, plus the minute's
	// noise, within 0 to 100. It does not follow load.
	MemoryUsedPercent float64
	// CPUUtilization is the percentage of CPU used over the minute: the
	// instance's idle level plus half of the time its application spent
	// answering requests (60 s of answers: 50 points), plus the minute's
	// noise, within 0 to 100.
	CPUUtilization float64
}

// vitals returns inst's vitals for the minute ending now, given the total
// time (milliseconds) its application spent answering requests in it.
func (w *World) vitals(inst *Instance, now time.Time, minute int64, busyMS float64, n Noise) InstanceVitals {
	h := w.hostOf(inst, n)
	r := w.source("vitals|"+inst.ID, uint64(minute))
	hours := now.Sub(inst.RunningAt).Hours()
	mem := h.memLevel + (h.memDrift+inst.Behavior.Leak)*hours + n.MemoryMinute*r.NormFloat64()
	cpu := h.cpuIdle + 100*cpuPerRequestTime*busyMS/1000/60 + n.MinuteCPU*r.NormFloat64()
	return InstanceVitals{MemoryUsedPercent: clamp(mem, 0, 100), CPUUtilization: clamp(cpu, 0, 100)}
}
