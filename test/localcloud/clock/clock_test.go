package clock

import (
	"slices"
	"sync"
	"testing"
	"time"
)

func TestSteppedTimeMovesOnlyWhenAdvanced(t *testing.T) {
	s := NewStepped(time.Time{})
	if !s.Now().Equal(Epoch) {
		t.Fatalf("a zero start should mean Epoch, got %s", s.Now())
	}
	ran := false
	s.After(time.Minute, "boot", func() { ran = true })
	s.Advance(59 * time.Second)
	if ran {
		t.Fatal("an event due in a minute ran after 59 seconds")
	}
	if n := s.Advance(time.Second); n != 1 || !ran {
		t.Fatalf("an event due in a minute did not run at the minute (ran %d events)", n)
	}
	if got := s.Now(); !got.Equal(Epoch.Add(time.Minute)) {
		t.Fatalf("now = %s, want %s", got, Epoch.Add(time.Minute))
	}
}

func TestEventsRunInInstantThenSchedulingOrder(t *testing.T) {
	s := NewStepped(time.Time{})
	var order []string
	var at []time.Duration
	add := func(d time.Duration, name string) {
		s.After(d, name, func() {
			order = append(order, name)
			at = append(at, s.Now().Sub(Epoch))
		})
	}
	add(2*time.Second, "c")
	add(time.Second, "a")
	add(time.Second, "b")
	add(0, "now")
	s.Advance(5 * time.Second)
	want := []string{"now", "a", "b", "c"}
	if !slices.Equal(order, want) {
		t.Fatalf("order = %v, want %v", order, want)
	}
	if wantAt := []time.Duration{0, time.Second, time.Second, 2 * time.Second}; !slices.Equal(at, wantAt) {
		t.Fatalf("each callback should see its own instant as now: got %v, want %v", at, wantAt)
	}
}

func TestCallbacksMayScheduleWorkDueWithinTheSameAdvance(t *testing.T) {
	s := NewStepped(time.Time{})
	var ticks []time.Duration
	var tick func()
	tick = func() {
		ticks = append(ticks, s.Now().Sub(Epoch))
		if len(ticks) < 10 {
			s.After(30*time.Second, "health-check", tick)
		}
	}
	s.After(30*time.Second, "health-check", tick)
	s.Advance(2 * time.Minute)
	if len(ticks) != 4 {
		t.Fatalf("a 30 s self-rescheduling check should run 4 times in 2 minutes, ran %d: %v", len(ticks), ticks)
	}
}

func TestAStoppedTimerNeverRuns(t *testing.T) {
	s := NewStepped(time.Time{})
	ran := false
	tm := s.After(time.Second, "x", func() { ran = true })
	if !tm.Stop() {
		t.Fatal("Stop on a pending timer should report true")
	}
	if tm.Stop() {
		t.Fatal("a second Stop should report false")
	}
	s.Advance(time.Hour)
	if ran {
		t.Fatal("a stopped timer ran")
	}
}

func TestAdvanceWaitsForHeldWorkBeforeMovingOn(t *testing.T) {
	s := NewStepped(time.Time{})
	var mu sync.Mutex
	var log []string
	record := func(v string) { mu.Lock(); log = append(log, v); mu.Unlock() }
	s.After(time.Second, "invoke", func() {
		release := s.Hold()
		go func() {
			time.Sleep(20 * time.Millisecond) // wall time a real function takes
			record("work done at " + s.Now().Sub(Epoch).String())
			release()
		}()
	})
	s.After(2*time.Second, "next", func() { record("next event") })
	s.Advance(3 * time.Second)
	mu.Lock()
	defer mu.Unlock()
	want := []string{"work done at 1s", "next event"}
	if !slices.Equal(log, want) {
		t.Fatalf("held work should finish at its own instant before later events: got %v, want %v", log, want)
	}
}

func TestRunUntilStopsAtTheFirstEventThatSatisfiesTheCondition(t *testing.T) {
	s := NewStepped(time.Time{})
	done := false
	s.After(90*time.Second, "refresh done", func() { done = true })
	s.After(10*time.Minute, "later", func() {})
	if !s.RunUntil(time.Hour, func() bool { return done }) {
		t.Fatal("condition never held")
	}
	if got := s.Now().Sub(Epoch); got != 90*time.Second {
		t.Fatalf("RunUntil should stop at the satisfying event (90s), stopped at %s", got)
	}
	if s.RunUntil(time.Minute, func() bool { return false }) {
		t.Fatal("an impossible condition reported true")
	}
	if got := s.Now().Sub(Epoch); got != 150*time.Second {
		t.Fatalf("a failed RunUntil should end at its limit (150s), ended at %s", got)
	}
}

func TestPendingListsEventsInRunOrderWithoutDisturbingTheQueue(t *testing.T) {
	s := NewStepped(time.Time{})
	s.After(3*time.Second, "c", func() {})
	s.After(time.Second, "a", func() {})
	tm := s.After(2*time.Second, "b", func() {})
	var names []string
	for _, p := range s.Pending() {
		names = append(names, p.Name)
	}
	if !slices.Equal(names, []string{"a", "b", "c"}) {
		t.Fatalf("pending = %v", names)
	}
	if !tm.Stop() {
		t.Fatal("Pending disturbed the queue: Stop failed afterwards")
	}
	if n := s.Advance(time.Minute); n != 2 {
		t.Fatalf("ran %d events, want 2", n)
	}
}

func TestTheSameScheduleRunsTheSameWayEveryTime(t *testing.T) {
	run := func() []string {
		s := NewStepped(time.Time{})
		var out []string
		for i := range 50 {
			d := time.Duration((i*7919)%13) * time.Second
			name := string(rune('A' + i%26))
			s.After(d, name, func() { out = append(out, name+s.Now().Format("05")) })
		}
		s.Advance(time.Minute)
		return out
	}
	first := run()
	for range 5 {
		if got := run(); !slices.Equal(got, first) {
			t.Fatalf("runs differ:\n%v\n%v", first, got)
		}
	}
}

func BenchmarkScheduleAndRun(b *testing.B) {
	s := NewStepped(time.Time{})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s.After(time.Duration(i%100)*time.Millisecond, "e", func() {})
		if i%100 == 99 {
			s.Advance(100 * time.Millisecond)
		}
	}
}
