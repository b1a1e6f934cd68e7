// Package clock is the local cloud's single source of time.
//
// Every simulated thing (instance boots, health checks, warmups, checkpoint
// delays, schedules, Step Functions waits) is an event on one queue ordered by
// (instant, sequence number). In stepped mode time moves only when a harness
// calls Advance, so a test sees everything due happen at exact instants in the
// same order on every run. In real-time mode a driver goroutine advances the
// same queue from the wall clock multiplied by a speed factor.
package clock

import (
	"container/heap"
	"context"
	"sort"
	"sync"
	"time"
)

// Epoch is the default start of simulated time: a fixed instant, so that ids,
// timestamps and logs are the same on every run.
var Epoch = time.Date(2026, time.January, 5, 9, 0, 0, 0, time.UTC)

// Clock tells the current simulated time.
type Clock interface {
	Now() time.Time
}

// Sim is a deterministic scheduler over simulated time. It is safe for
// concurrent use. Callbacks run without Sim's lock held, one at a time, so a
// callback may schedule or stop other events.
type Sim struct {
	mu       sync.Mutex
	idle     *sync.Cond // signalled when holds drops to zero
	now      time.Time
	seq      uint64
	queue    eventQueue
	holds    int
	stepped  bool
	running  sync.Mutex // serialises Advance calls and the real-time driver
	executed uint64
}

// NewStepped returns a scheduler whose time moves only through Advance and
// AdvanceTo. start is the first instant; the zero time means Epoch.
func NewStepped(start time.Time) *Sim {
	if start.IsZero() {
		start = Epoch
	}
	s := &Sim{now: start.UTC(), stepped: true}
	s.idle = sync.NewCond(&s.mu)
	return s
}

// NewRealtime returns a scheduler meant to be driven by RunRealtime. Holds do
// not stop time in this mode: wall-clock work takes simulated time.
func NewRealtime(start time.Time) *Sim {
	s := NewStepped(start)
	s.stepped = false
	return s
}

// Stepped reports whether time moves only when a harness advances it.
func (s *Sim) Stepped() bool { return s.stepped }

// Now returns the current simulated time.
func (s *Sim) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

// Timer is a scheduled callback.
type Timer struct {
	ev *event
	s  *Sim
}

// Stop cancels the callback. It reports whether the callback had not run yet.
func (t *Timer) Stop() bool {
	if t == nil || t.ev == nil {
		return false
	}
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	if t.ev.index < 0 {
		return false
	}
	heap.Remove(&t.s.queue, t.ev.index)
	return true
}

// When returns the instant the callback is due.
func (t *Timer) When() time.Time { return t.ev.at }

// At schedules fn at instant at; an instant in the past means "as soon as
// time next moves". name appears in Pending for debugging.
func (s *Sim) At(at time.Time, name string, fn func()) *Timer {
	s.mu.Lock()
	defer s.mu.Unlock()
	if at.Before(s.now) {
		at = s.now
	}
	s.seq++
	ev := &event{at: at, seq: s.seq, name: name, fn: fn}
	heap.Push(&s.queue, ev)
	return &Timer{ev: ev, s: s}
}

// After schedules fn d after the current simulated time.
func (s *Sim) After(d time.Duration, name string, fn func()) *Timer {
	return s.At(s.Now().Add(d), name, fn)
}

// Hold marks asynchronous work in flight (an HTTP request from a function
// being run, say). In stepped mode Advance waits until every hold is released
// before it runs the next event, so work started at an instant finishes at
// that instant. The returned func releases the hold; it is safe to call twice.
func (s *Sim) Hold() (release func()) {
	s.mu.Lock()
	s.holds++
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			s.holds--
			if s.holds == 0 {
				s.idle.Broadcast()
			}
			s.mu.Unlock()
		})
	}
}

// Advance moves time forward by d, running every event due on the way in
// (instant, sequence) order. It returns the number of events run.
func (s *Sim) Advance(d time.Duration) int {
	return s.AdvanceTo(s.Now().Add(d))
}

// AdvanceTo moves time forward to target (never backwards), running every
// event due on the way. It returns the number of events run.
func (s *Sim) AdvanceTo(target time.Time) int {
	s.running.Lock()
	defer s.running.Unlock()
	n := 0
	for {
		s.mu.Lock()
		if s.stepped {
			for s.holds > 0 {
				s.idle.Wait()
			}
		}
		if len(s.queue) == 0 || s.queue[0].at.After(target) {
			if target.After(s.now) {
				s.now = target
			}
			s.mu.Unlock()
			return n
		}
		ev := heap.Pop(&s.queue).(*event)
		if ev.at.After(s.now) {
			s.now = ev.at
		}
		s.executed++
		s.mu.Unlock()
		ev.fn()
		n++
	}
}

// Settle runs the events due at the current instant (those scheduled "now" by
// earlier callbacks or requests) without moving time, and waits for holds.
func (s *Sim) Settle() int { return s.AdvanceTo(s.Now()) }

// RunUntil advances time event by event until cond returns true or limit
// simulated time has passed; it reports whether cond became true. cond is
// checked before the first step and after every event.
func (s *Sim) RunUntil(limit time.Duration, cond func() bool) bool {
	deadline := s.Now().Add(limit)
	s.Settle()
	for {
		if cond() {
			return true
		}
		next, ok := s.Next()
		if !ok || next.After(deadline) {
			s.AdvanceTo(deadline)
			return cond()
		}
		s.AdvanceTo(next)
	}
}

// Next returns the instant of the earliest pending event.
func (s *Sim) Next() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) == 0 {
		return time.Time{}, false
	}
	return s.queue[0].at, true
}

// Executed returns how many events have run since the scheduler was made.
func (s *Sim) Executed() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.executed
}

// Pending describes one scheduled event.
type Pending struct {
	At   time.Time `json:"at"`
	Name string    `json:"name"`
}

// Pending lists scheduled events in the order they will run.
func (s *Sim) Pending() []Pending {
	s.mu.Lock()
	evs := make([]*event, len(s.queue))
	copy(evs, s.queue)
	s.mu.Unlock()
	sort.Slice(evs, func(i, j int) bool { return eventQueue(evs).Less(i, j) })
	out := make([]Pending, len(evs))
	for i, ev := range evs {
		out[i] = Pending{At: ev.at, Name: ev.name}
	}
	return out
}

// RunRealtime drives the scheduler from the wall clock until ctx ends: every
// tick, simulated time moves to start + elapsed wall time * speed.
func (s *Sim) RunRealtime(ctx context.Context, speed float64, tick time.Duration) {
	if speed <= 0 {
		speed = 1
	}
	if tick <= 0 {
		tick = 20 * time.Millisecond
	}
	wallStart := time.Now()
	simStart := s.Now()
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			elapsed := time.Duration(float64(time.Since(wallStart)) * speed)
			s.AdvanceTo(simStart.Add(elapsed))
		}
	}
}

type event struct {
	at    time.Time
	seq   uint64
	name  string
	fn    func()
	index int
}

type eventQueue []*event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if q[i].at.Equal(q[j].at) {
		return q[i].seq < q[j].seq
	}
	return q[i].at.Before(q[j].at)
}
func (q eventQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index = i
	q[j].index = j
}
func (q *eventQueue) Push(x any) {
	ev := x.(*event)
	ev.index = len(*q)
	*q = append(*q, ev)
}
func (q *eventQueue) Pop() any {
	old := *q
	n := len(old)
	ev := old[n-1]
	old[n-1] = nil
	ev.index = -1
	*q = old[:n-1]
	return ev
}
