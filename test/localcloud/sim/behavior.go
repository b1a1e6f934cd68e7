package sim

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// BehaviorTag is the image tag that chooses what instances launched from
// the image do. The value is read when an instance launches, so retagging an
// image affects only later launches.
//
// Timings below use the default EC2Config (SetEC2Config changes them):
// PendingTime 30 s, AppStartTime 60 s, SlowBootFactor 5, ShutdownTime 30 s.
//
//	value            EC2 state                      EC2 status   load balancer health check answer
//	---------------  -----------------------------  -----------  -----------------------------------------------
//	healthy          pending 30 s, then running     ok           fails (connection refused) until 60 s after
//	(default)                                                    running, then HTTP 200
//	unhealthy        pending 30 s, then running     ok           fails until 60 s after running, then HTTP 500
//	fail-launch      pending 30 s, then terminated  never ok     never checked (the instance never runs)
//	                 with StateReason
//	                 Client.InternalError
//	slow-boot        pending 150 s, then running    ok           fails until 300 s after running, then HTTP 200
//	degrade-after:N  pending 30 s, then running     ok           as healthy until N seconds after running, then
//	                                                             times out
//
// A health check that fails before the application is up reports
// Target.FailedHealthChecks; an HTTP code outside the target group's matcher
// reports Target.ResponseCodeMismatch ("Health checks failed with these
// codes: [500]"); a timeout reports Target.Timeout. A health-flap fault
// (faults.HealthFlap, targeting the instance id or the target group ARN)
// makes the checks it fires on time out, whatever the behaviour.
//
// A newly registered target needs one passing check to become healthy (as
// the ELB user guide says); UnhealthyThresholdCount consecutive failures make
// it unhealthy, and HealthyThresholdCount consecutive passes make an
// unhealthy target healthy again. The first check runs one interval after
// registration, or after the target group starts being used by a listener.
//
// For the traffic model (World.Traffic) an instance serving requests
// answers as follows:
// healthy 0% errors at 20 ms; unhealthy 100% HTTP 5xx at 10 ms; degraded 50%
// 5xx at 1500 ms; not yet started or shutting down 100% 5xx (502) at 1 ms.
//
// An unparseable value (unknown word, degrade-after without a non-negative
// whole number of seconds) is treated as healthy, and the image id is
// recorded once in BehaviorWarnings so that a scenario can report the typo
// instead of silently testing the wrong thing.
const BehaviorTag = "phoenix-sim:behavior"

// BehaviorKind is one of the instance behaviours.
type BehaviorKind string

// The instance behaviours; see BehaviorTag for what each does.
const (
	BehaviorHealthy      BehaviorKind = "healthy"
	BehaviorUnhealthy    BehaviorKind = "unhealthy"
	BehaviorFailLaunch   BehaviorKind = "fail-launch"
	BehaviorSlowBoot     BehaviorKind = "slow-boot"
	BehaviorDegradeAfter BehaviorKind = "degrade-after"
)

// Behavior is a parsed behaviour: its kind and, for degrade-after, the delay
// after the instance starts running.
type Behavior struct {
	Kind  BehaviorKind
	After time.Duration
}

// String returns the tag value that selects b.
func (b Behavior) String() string {
	if b.Kind == BehaviorDegradeAfter {
		return fmt.Sprintf("%s:%d", b.Kind, int64(b.After/time.Second))
	}
	if b.Kind == "" {
		return string(BehaviorHealthy)
	}
	return string(b.Kind)
}

// ParseBehavior parses a phoenix-sim:behavior tag value. An empty value is
// healthy. An unknown value yields healthy and an error saying why, so the
// caller can report it.
func ParseBehavior(v string) (Behavior, error) {
	v = strings.TrimSpace(v)
	switch BehaviorKind(v) {
	case "", BehaviorHealthy:
		return Behavior{Kind: BehaviorHealthy}, nil
	case BehaviorUnhealthy, BehaviorFailLaunch, BehaviorSlowBoot:
		return Behavior{Kind: BehaviorKind(v)}, nil
	}
	if rest, ok := strings.CutPrefix(v, string(BehaviorDegradeAfter)+":"); ok {
		secs, err := strconv.ParseInt(rest, 10, 64)
		if err != nil || secs < 0 || secs > 10*365*24*3600 {
			return Behavior{Kind: BehaviorHealthy}, fmt.Errorf("behaviour %q: degrade-after needs a whole number of seconds, 0 or more", v)
		}
		return Behavior{Kind: BehaviorDegradeAfter, After: time.Duration(secs) * time.Second}, nil
	}
	return Behavior{Kind: BehaviorHealthy}, fmt.Errorf("behaviour %q is unknown (want healthy, unhealthy, fail-launch, slow-boot or degrade-after:SECONDS); treated as healthy", v)
}

// BehaviorWarnings lists, once per image, the images whose behaviour tag
// could not be parsed and was treated as healthy.
func (w *World) BehaviorWarnings() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.ec2State().behaviorWarnings...)
}

// behaviorOf returns the behaviour of instances launched from img,
// recording a warning the first time a bad tag is seen.
func (w *World) behaviorOf(img *Image) Behavior {
	b, err := ParseBehavior(img.Tags[BehaviorTag])
	if err != nil {
		s := w.ec2State()
		msg := img.ID + ": " + err.Error()
		for _, old := range s.behaviorWarnings {
			if old == msg {
				return b
			}
		}
		s.behaviorWarnings = append(s.behaviorWarnings, msg)
	}
	return b
}

// bootTimes returns how long an instance with b stays pending and how long
// after running its application starts.
func (c EC2Config) bootTimes(b Behavior) (pending, appStart time.Duration) {
	pending, appStart = c.PendingTime, c.AppStartTime
	if b.Kind == BehaviorSlowBoot {
		f := time.Duration(c.SlowBootFactor)
		pending, appStart = pending*f, appStart*f
	}
	return pending, appStart
}

// probe is what an instance answers to one HTTP request at an instant.
type probe struct {
	// code is the HTTP status; 0 means no HTTP answer.
	code int
	// refused means the connection was refused (nothing listens yet).
	refused bool
	// timeout means the request got no answer in time.
	timeout bool
}

// answer returns what inst answers at now, from its state and behaviour.
func (inst *Instance) answer(now time.Time) probe {
	if inst.State != InstanceRunning || now.Before(inst.ReadyAt) {
		return probe{refused: true}
	}
	switch inst.Behavior.Kind {
	case BehaviorUnhealthy:
		return probe{code: 500}
	case BehaviorDegradeAfter:
		if !now.Before(inst.RunningAt.Add(inst.Behavior.After)) {
			return probe{timeout: true}
		}
	}
	return probe{code: 200}
}

// traffic returns the share of requests inst fails with a 5xx and the mean
// latency of its answers at now, for World.Traffic.
func (inst *Instance) traffic(now time.Time) (errShare float64, latency time.Duration) {
	p := inst.answer(now)
	switch {
	case p.refused:
		return 1, time.Millisecond
	case p.timeout:
		return 0.5, 1500 * time.Millisecond
	case p.code >= 500:
		return 1, 10 * time.Millisecond
	}
	return 0, 20 * time.Millisecond
}
