package sim

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// BehaviorTag is the image tag that chooses what instances launched from
// the image do. The value is read when an instance launches, so retagging an
// image affects only later launches.
//
// A value is terms separated by spaces or commas (a space is the portable
// choice: the characters every AWS service allows in tags include no
// comma, and the AWS CLI's shorthand splits on commas): at most one of the
// five kinds below (healthy when none is given; an empty value is healthy)
// and any of the three regressions, each at most once, in any order.
// "errors:0.02 slower:1.5", "healthy,leak:2" and "degrade-after:600
// errors:0.01" are values.
//
// Timings below use the default EC2Config (SetEC2Config changes them):
// PendingTime 30 s, AppStartTime 60 s, SlowBootFactor 5, ShutdownTime 30 s.
//
//	kind             EC2 state                      EC2 status   load balancer health check answer
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
// The regressions are an image that is up but worse. They never change a
// health check's answer, an EC2 status or a timing: they show only in what
// the instance serves (World.Traffic) and reports about itself, so only a
// comparison of metrics can catch them.
//
//	regression  value                      effect
//	----------  -------------------------  ------------------------------------------------------------
//	errors:P    a fraction, 0 to 1         P of the requests the application answers get a 5XX
//	                                       (errors:0.03 is 3%), on top of the kind's own failures
//	slower:F    a factor above 0, to 100   the application's answers take F times as long (slower:1.4
//	                                       is 40% slower; below 1 is faster)
//	leak:R      points an hour, 0 to 100   mem_used_percent grows R percentage points an hour from
//	                                       the instance's start, on top of its own level and drift
//
// Numbers are plain decimals (0.03, 1.5, 2; no exponent, sign or percent
// sign).
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
// answers, on average, as follows: healthy 0% errors at 20 ms; unhealthy
// 100% HTTP 5xx at 10 ms; degraded 50% 5xx at 1500 ms; not yet started or
// shutting down 100% 5xx (502) at 1 ms (the load balancer's own answer, not
// the application's). errors:P adds independent failures, 1-(1-s)(1-P) of
// the requests for a kind that fails a share s of them; slower:F multiplies
// the application's latency. Around these means each instance varies as
// Noise describes: its host (which also scales its P), its zone, the minute
// and each request.
//
// An unparseable value (an unknown word, two kinds, a regression given
// twice, a number out of range or not a plain decimal, degrade-after
// without a non-negative whole number of seconds) is treated as healthy
// without regressions, and the image id is recorded once in
// BehaviorWarnings so that a scenario can report the typo instead of
// silently testing the wrong thing.
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

// The regressions' words in a behaviour tag value.
const (
	regressionErrors = "errors"
	regressionSlower = "slower"
	regressionLeak   = "leak"
)

// Behavior is a parsed behaviour: its kind, for degrade-after the delay
// after the instance starts running, and its regressions (zero when not
// given).
type Behavior struct {
	Kind  BehaviorKind
	After time.Duration
	// Errors is the share of the application's answers that are 5XX
	// because of errors:P, 0 to 1.
	Errors float64
	// Slower is slower:F's factor on the application's latency; 0 when
	// not given, which means 1.
	Slower float64
	// Leak is leak:R's growth of mem_used_percent, percentage points an
	// hour.
	Leak float64
}

// String returns the tag value that selects b: its kind, then its
// regressions, separated by spaces. A healthy kind is left out when a
// regression follows.
func (b Behavior) String() string {
	var terms []string
	switch b.Kind {
	case BehaviorDegradeAfter:
		terms = append(terms, fmt.Sprintf("%s:%d", b.Kind, int64(b.After/time.Second)))
	case "", BehaviorHealthy:
	default:
		terms = append(terms, string(b.Kind))
	}
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	if b.Errors != 0 {
		terms = append(terms, regressionErrors+":"+num(b.Errors))
	}
	if b.Slower != 0 {
		terms = append(terms, regressionSlower+":"+num(b.Slower))
	}
	if b.Leak != 0 {
		terms = append(terms, regressionLeak+":"+num(b.Leak))
	}
	if len(terms) == 0 {
		return string(BehaviorHealthy)
	}
	return strings.Join(terms, " ")
}

// slower returns the latency factor of b's slower:F, 1 when not given.
func (b Behavior) slower() float64 {
	if b.Slower == 0 {
		return 1
	}
	return b.Slower
}

// behaviorSyntax is what an error message says a value should look like.
const behaviorSyntax = "want at most one of healthy, unhealthy, fail-launch, slow-boot or degrade-after:SECONDS, " +
	"and any of errors:FRACTION, slower:FACTOR, leak:POINTS_PER_HOUR, separated by spaces or commas"

// plainDecimal is the form of a regression's number.
var plainDecimal = regexp.MustCompile(`^([0-9]+(\.[0-9]*)?|\.[0-9]+)$`)

// ParseBehavior parses a phoenix-sim:behavior tag value. An empty value is
// healthy. A value that does not parse yields healthy, without
// regressions, and an error saying why, so the caller can report it.
func ParseBehavior(v string) (Behavior, error) {
	b, err := parseBehavior(v)
	if err != nil {
		return Behavior{Kind: BehaviorHealthy}, fmt.Errorf("behaviour %q: %w; treated as healthy", v, err)
	}
	return b, nil
}

func parseBehavior(v string) (Behavior, error) {
	terms := strings.FieldsFunc(v, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	b := Behavior{Kind: BehaviorHealthy}
	kindGiven := false
	seen := map[string]bool{}
	for _, term := range terms {
		word, arg, hasArg := strings.Cut(term, ":")
		switch word {
		case regressionErrors, regressionSlower, regressionLeak:
			if seen[word] {
				return Behavior{}, fmt.Errorf("%s is given twice", word)
			}
			seen[word] = true
			x, err := regressionValue(word, arg, hasArg)
			if err != nil {
				return Behavior{}, err
			}
			switch word {
			case regressionErrors:
				b.Errors = x
			case regressionSlower:
				b.Slower = x
			default:
				b.Leak = x
			}
			continue
		}
		if kindGiven {
			return Behavior{}, fmt.Errorf("%q is a second kind (%s)", term, behaviorSyntax)
		}
		kindGiven = true
		switch BehaviorKind(term) {
		case BehaviorHealthy, BehaviorUnhealthy, BehaviorFailLaunch, BehaviorSlowBoot:
			b.Kind = BehaviorKind(term)
			continue
		}
		if BehaviorKind(word) == BehaviorDegradeAfter && hasArg {
			secs, err := strconv.ParseInt(arg, 10, 64)
			if err != nil || secs < 0 || secs > 10*365*24*3600 {
				return Behavior{}, fmt.Errorf("degrade-after needs a whole number of seconds, 0 or more")
			}
			b.Kind, b.After = BehaviorDegradeAfter, time.Duration(secs)*time.Second
			continue
		}
		return Behavior{}, fmt.Errorf("%q is unknown (%s)", term, behaviorSyntax)
	}
	return b, nil
}

// regressionValue parses and checks the number of errors:P, slower:F or
// leak:R.
func regressionValue(word, arg string, hasArg bool) (float64, error) {
	ranges := map[string]string{
		regressionErrors: "a fraction of requests from 0 to 1 (errors:0.03 is 3%)",
		regressionSlower: "a latency factor above 0 and at most 100 (slower:1.4 is 40% slower)",
		regressionLeak:   "percentage points of memory an hour from 0 to 100 (leak:2)",
	}
	if !hasArg || !plainDecimal.MatchString(arg) {
		return 0, fmt.Errorf("%s needs %s, as a plain decimal", word, ranges[word])
	}
	x, err := strconv.ParseFloat(arg, 64)
	ok := err == nil
	switch word {
	case regressionErrors:
		ok = ok && x <= 1
	case regressionSlower:
		ok = ok && x > 0 && x <= 100
	default:
		ok = ok && x <= 100
	}
	if !ok {
		return 0, fmt.Errorf("%s:%s is out of range: %s needs %s", word, arg, word, ranges[word])
	}
	return x, nil
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
// latency of its answers at now, for World.Traffic, before noise: its
// kind's answer with its regressions applied.
func (inst *Instance) traffic(now time.Time) (errShare float64, latency time.Duration) {
	share, lat, app := inst.kindTraffic(now)
	if !app {
		return share, lat
	}
	b := inst.Behavior
	return combineFailures(share, b.Errors), time.Duration(float64(lat) * b.slower())
}

// kindTraffic returns what inst's kind alone makes of requests at now: the
// share failed with a 5xx, their mean latency, and whether the application
// answered them (false: the load balancer answered, nothing listened).
func (inst *Instance) kindTraffic(now time.Time) (errShare float64, latency time.Duration, app bool) {
	p := inst.answer(now)
	switch {
	case p.refused:
		return 1, time.Millisecond, false
	case p.timeout:
		return 0.5, 1500 * time.Millisecond, true
	case p.code >= 500:
		return 1, 10 * time.Millisecond, true
	}
	return 0, 20 * time.Millisecond, true
}

// combineFailures returns the share of requests that fail when two
// independent causes fail shares a and b of them.
func combineFailures(a, b float64) float64 {
	b = min(1, b)
	return a + b - a*b // 1-(1-a)(1-b), exact when either is 0
}
