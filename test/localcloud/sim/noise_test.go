package sim

import (
	"math"
	"reflect"
	"testing"
	"time"
)

func TestAMinuteOfTrafficIsTheSameHoweverOftenItIsAsked(t *testing.T) {
	e := newEC2Env(t, InProcess)
	tg, _ := e.setupALB("web", true, nil)
	a, b := e.readyInstance("errors:0.1 slower:2 leak:3"), e.readyInstance("healthy")
	e.register(tg, a, b)
	e.advance(2 * time.Minute)
	first, again := e.w.Traffic(ec2Region), e.w.Traffic(ec2Region)
	if !reflect.DeepEqual(first, again) {
		t.Fatalf("the same minute answered twice differently:\n%+v\n%+v", first, again)
	}
	if len(first.Instances[a].Latencies.Values) < 2 || len(first.Vitals) != 2 {
		t.Fatalf("want a spread of latencies and both instances' vitals, got %+v", first)
	}
	e.advance(time.Minute)
	if next := e.w.Traffic(ec2Region); reflect.DeepEqual(first.Instances[a].Latencies, next.Instances[a].Latencies) {
		t.Fatal("the next minute drew the same latencies")
	}
}

func TestWithoutNoiseEveryInstanceHasItsBehavioursNominalNumbers(t *testing.T) {
	e := newEC2Env(t, InProcess)
	e.w.SetNoise(Noise{})
	tg, _ := e.setupALB("web", true, nil)
	slow := e.readyInstance("slower:1.4 leak:2")
	idle := e.readyInstance("healthy")
	e.register(tg, slow)
	e.advance(time.Hour)
	tr := e.w.Traffic(ec2Region)
	load := tr.Instances[slow]
	if load.Requests != 600 || load.Latency != 28*time.Millisecond || !reflect.DeepEqual(load.Latencies, Latencies{Values: []float64{0.028}, Counts: []float64{600}}) {
		t.Errorf("slower:1.4 served %+v, want 600 requests at 28 ms each", load)
	}
	if _, ok := tr.Instances[idle]; ok {
		t.Error("an instance behind no target group reports requests")
	}
	v := tr.Vitals[slow]
	e.w.Lock()
	hours := e.clk.Now().Sub(e.w.region(ec2Region).Instances[slow].RunningAt).Hours()
	e.w.Unlock()
	if want := MemoryBaseline + 2*hours; math.Abs(v.MemoryUsedPercent-want) > 1e-9 {
		t.Errorf("leak:2 after %.3f hours: memory %v, want %v", hours, v.MemoryUsedPercent, want)
	}
	// 600 answers of 28 ms: 16.8 s, half of it CPU: 14 points.
	if want := CPUIdle + 14; math.Abs(v.CPUUtilization-want) > 1e-9 {
		t.Errorf("CPU %v serving 600 requests at 28 ms, want %v", v.CPUUtilization, want)
	}
	if iv := tr.Vitals[idle]; iv.MemoryUsedPercent != MemoryBaseline || iv.CPUUtilization != CPUIdle {
		t.Errorf("an idle healthy instance reports %+v, want memory %v and CPU %v", iv, MemoryBaseline, CPUIdle)
	}
}

func TestMemoryStaysWithinZeroAndAHundredPercent(t *testing.T) {
	e := newEC2Env(t, InProcess)
	id := e.readyInstance("leak:100")
	e.advance(3 * time.Hour)
	if m := e.w.Traffic(ec2Region).Vitals[id].MemoryUsedPercent; m != 100 {
		t.Fatalf("leak:100 after three hours: memory %v, want 100", m)
	}
}

func TestAnInstancesQuirksLastItsLifeAndFollowTheNoise(t *testing.T) {
	w := &World{seed: 5}
	inst := &Instance{ID: "i-0123456789abcdef0", AZ: "us-east-1a"}
	h1, h2 := w.hostOf(inst, DefaultNoise()), w.hostOf(inst, DefaultNoise())
	if h1 != h2 {
		t.Fatalf("the same instance drew %+v and %+v", h1, h2)
	}
	double := DefaultNoise()
	double.HostLatency *= 2
	double.ZoneLatency = 0
	h3 := w.hostOf(inst, double)
	zone := logNormal(0.03, inst.quirks.zone)
	z := (math.Log(h1.latency/zone) + 0.05*0.05/2) / 0.05
	if want := logNormal(0.1, z); math.Abs(h3.latency-want) > 1e-12 {
		t.Fatalf("doubling HostLatency made the factor %v, want %v (the same draw, twice as far)", h3.latency, want)
	}
	if other := w.hostOf(&Instance{ID: "i-0123456789abcdef1", AZ: "us-east-1a"}, DefaultNoise()); other == h1 {
		t.Fatal("two instances drew the same quirks")
	}
	if fresh := w.hostOf(&Instance{ID: inst.ID, AZ: inst.AZ}, DefaultNoise()); fresh != h1 {
		t.Fatalf("the instance's quirks drawn afresh are %+v, kept %+v", fresh, h1)
	}
	if q := w.hostOf(inst, Noise{}); q != (host{latency: 1, errors: 1, memLevel: MemoryBaseline, cpuIdle: CPUIdle}) {
		t.Fatalf("without noise the quirks are %+v, want none", q)
	}
}
