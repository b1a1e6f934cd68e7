package eventbus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

// Target receives what EventBridge delivers. The Lambda and Step Functions
// models implement it (invoke asynchronously, start an execution); Recorder
// is a fake for tests.
type Target interface {
	// Deliver hands input to the resource named by arn. It is called from a
	// clock callback with no EventBridge lock held, so it may call back into
	// EventBridge. A nil error means delivered. An error is retried under the
	// target's retry policy unless it is permanent: wrapped with Permanent,
	// or an API error coded ResourceNotFoundException, AccessDeniedException
	// or AccessDenied (EventBridge does not retry a missing resource or a
	// missing permission).
	Deliver(ctx context.Context, arn string, input []byte) error
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks a delivery error that retrying cannot fix.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

func isPermanent(err error) bool {
	var p *permanentError
	if errors.As(err, &p) {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "ResourceNotFoundException", "AccessDeniedException", "AccessDenied":
			return true
		}
	}
	return false
}

// Outcome says what became of one delivery attempt.
type Outcome string

// The outcomes of delivery attempts.
const (
	// Delivered: the target accepted the input.
	Delivered Outcome = "delivered"
	// Retrying: the attempt failed and another is scheduled.
	Retrying Outcome = "retrying"
	// Exhausted: the attempt failed and the retry policy allows no more
	// (attempts or event age); the event is dropped or dead-lettered.
	Exhausted Outcome = "exhausted"
	// Rejected: the target failed permanently; no retry is made.
	Rejected Outcome = "rejected"
	// Dropped: the chaos switch dropped the delivery; the target never saw it.
	Dropped Outcome = "dropped"
)

// Delivery records one delivery attempt (or one delivery the chaos switch
// dropped).
type Delivery struct {
	Region   string
	EventID  string
	Rule     string
	RuleARN  string
	TargetID string
	ARN      string
	Input    []byte
	// Attempt counts from 1; retries have higher numbers.
	Attempt int
	// Copy is 0 for the delivery EventBridge planned and 1 for a duplicate
	// injected by the chaos switch.
	Copy    int
	At      time.Time
	Outcome Outcome
	Err     string
	// DeadLetterARN is set when the event went to the target's dead-letter
	// queue after the final failure.
	DeadLetterARN string
}

// Deliveries returns every delivery attempt so far, in the order they ended.
func (b *EventBridge) Deliveries() []Delivery {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Delivery(nil), b.deliveries...)
}

// Chaos makes delivery misbehave on purpose so that consumers' handling of
// at-least-once delivery can be tested. Each probability is drawn from the
// bus's seeded source once per planned delivery (event, rule, target).
type Chaos struct {
	// Drop is the probability that a delivery never happens.
	Drop float64
	// Duplicate is the probability that the target receives a second copy.
	Duplicate float64
	// Delay is the probability that a delivery (or its copy) comes late, by
	// up to MaxDelay.
	Delay float64
	// MaxDelay bounds injected delays; 5 minutes if zero.
	MaxDelay time.Duration
}

// SetChaos installs c for the named rule, or for every rule without its own
// setting when rule is empty. A zero Chaos turns the switch off.
func (b *EventBridge) SetChaos(rule string, c Chaos) error {
	for _, p := range []float64{c.Drop, c.Duplicate, c.Delay} {
		if p < 0 || p > 1 {
			return fmt.Errorf("set chaos for rule %q: probabilities must be within [0, 1], got %v", rule, p)
		}
	}
	if c.MaxDelay < 0 {
		return fmt.Errorf("set chaos for rule %q: negative MaxDelay %v", rule, c.MaxDelay)
	}
	if c.MaxDelay == 0 {
		c.MaxDelay = 5 * time.Minute
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if c == (Chaos{MaxDelay: c.MaxDelay}) {
		delete(b.chaos, rule)
		return nil
	}
	b.chaos[rule] = c
	return nil
}

func (b *EventBridge) chaosFor(rule string) (Chaos, bool) {
	if c, ok := b.chaos[rule]; ok {
		return c, true
	}
	c, ok := b.chaos[""]
	return c, ok
}

// job is one planned delivery of an event to a target, with its retries.
type job struct {
	region     string
	eventID    string
	rule       string
	ruleARN    string
	targetID   string
	arn        string
	input      []byte
	ingested   time.Time
	maxRetries int
	maxAge     time.Duration
	deadLetter string
	attempt    int
	copy       int
}

// envelope is the event as targets receive it, fields in EventBridge's order.
type envelope struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

func encodeEnvelope(ev ServiceEvent) []byte {
	res := ev.Resources
	if res == nil {
		res = []string{}
	}
	b, err := json.Marshal(envelope{
		Version: ev.Version, ID: ev.ID, DetailType: ev.DetailType, Source: ev.Source,
		Account: ev.Account, Time: ev.Time.UTC().Format(time.RFC3339), Region: ev.Region,
		Resources: res, Detail: ev.Detail,
	})
	if err != nil {
		// Detail is validated JSON on every path in; a failure here is a bug.
		panic(fmt.Sprintf("eventbus: encode event %s: %v", ev.ID, err))
	}
	return b
}

// ingest records an event and schedules its routing after the bus latency.
// only restricts routing to one rule (scheduled events go to their rule
// alone). The caller holds b.mu.
func (b *EventBridge) ingest(ev ServiceEvent, only *rule) {
	raw := encodeEnvelope(ev)
	now := b.clock.Now()
	b.ingested = append(b.ingested, IngestedEvent{Region: ev.Region, JSON: raw, IngestedAt: now})
	onlyName, onlyGen := "", uint64(0)
	if only != nil {
		onlyName, onlyGen = only.name, only.gen
	}
	region := ev.Region
	b.clock.After(b.latency, "eventbridge route "+ev.ID, func() {
		b.route(region, raw, now, onlyName, onlyGen)
	})
}

// candidates returns the enabled rules that may match an event from source,
// in name order. The index is rebuilt after a change; each source's list
// already includes the rules that accept any source, so a lookup does not
// allocate.
func (bs *bus) candidates(source string) []*rule {
	if bs.dirty {
		bs.index, bs.wildcard = map[string][]*rule{}, nil
		for _, r := range bs.rules {
			if r.pattern == nil || !r.enabled() {
				continue
			}
			srcs := r.pattern.Sources()
			if srcs == nil {
				bs.wildcard = append(bs.wildcard, r)
				continue
			}
			for _, s := range srcs {
				bs.index[s] = append(bs.index[s], r)
			}
		}
		for s, list := range bs.index {
			list = append(list, bs.wildcard...)
			sortRules(list)
			bs.index[s] = list
		}
		sortRules(bs.wildcard)
		bs.dirty = false
	}
	if list, ok := bs.index[source]; ok {
		return list
	}
	return bs.wildcard
}

func sortRules(rs []*rule) { sort.Slice(rs, func(i, j int) bool { return rs[i].name < rs[j].name }) }

// route matches an event against the bus's rules and plans deliveries.
func (b *EventBridge) route(region string, raw []byte, ingested time.Time, onlyName string, onlyGen uint64) {
	ev, err := ParseEvent(raw)
	if err != nil {
		panic(fmt.Sprintf("eventbus: reparse own event: %v", err))
	}
	b.mu.Lock()
	bs := b.region(region)
	var rules []*rule
	if onlyName != "" {
		if r, ok := bs.rules[onlyName]; ok && r.gen == onlyGen && r.enabled() {
			rules = []*rule{r}
		}
	} else {
		source := ""
		if v := ev.root.get("source"); v != nil && v.kind == kindString {
			source = v.s
		}
		for _, r := range bs.candidates(source) {
			if r.pattern.Match(ev) {
				rules = append(rules, r)
			}
		}
	}
	type planned struct {
		j     *job
		delay time.Duration
	}
	var plan []planned
	rc := &renderContext{eventJSON: raw, ingestionTime: ingested.UTC().Format("2006-01-02T15:04:05.000Z")}
	eventID := ""
	if v := ev.root.get("id"); v != nil {
		eventID = v.s
	}
	for _, r := range rules {
		rc.ruleName, rc.ruleARN = r.name, r.arn
		for _, t := range r.targets {
			j := &job{
				region: region, eventID: eventID, rule: r.name, ruleARN: r.arn,
				targetID: aws.ToString(t.sdk.Id), arn: aws.ToString(t.sdk.Arn),
				input: t.render(rc), ingested: ingested, maxRetries: t.maxRetries, maxAge: t.maxAge, attempt: 1,
			}
			if t.sdk.DeadLetterConfig != nil {
				j.deadLetter = aws.ToString(t.sdk.DeadLetterConfig.Arn)
			}
			c, chaotic := b.chaosFor(r.name)
			if !chaotic {
				plan = append(plan, planned{j, 0})
				continue
			}
			if b.rng.Float64() < c.Drop {
				b.deliveries = append(b.deliveries, j.record(b.clock.Now(), Dropped, ""))
				continue
			}
			plan = append(plan, planned{j, b.chaosDelay(c)})
			if b.rng.Float64() < c.Duplicate {
				dup := *j
				dup.copy = 1
				plan = append(plan, planned{&dup, b.chaosDelay(c)})
			}
		}
	}
	b.mu.Unlock()
	for _, p := range plan {
		j := p.j
		b.clock.After(p.delay, "eventbridge deliver "+j.eventID+" "+j.rule+"/"+j.targetID, func() { b.attempt(j) })
	}
}

func (b *EventBridge) chaosDelay(c Chaos) time.Duration {
	if b.rng.Float64() >= c.Delay {
		return 0
	}
	return time.Duration(b.rng.Int64N(int64(c.MaxDelay))) + 1
}

// render builds a target's input for an event.
func (t *ruleTarget) render(rc *renderContext) []byte {
	switch {
	case t.sdk.Input != nil:
		return []byte(*t.sdk.Input)
	case t.inputPath != nil:
		rc.decode()
		v, ok := t.inputPath.eval(rc.doc)
		if !ok {
			return []byte("null")
		}
		return marshalJSON(v)
	case t.transformer != nil:
		rc.decode()
		return t.transformer.render(rc)
	}
	return rc.eventJSON
}

// decode fills the parsed forms of the event the first time they are needed.
func (rc *renderContext) decode() {
	if rc.doc != nil {
		return
	}
	doc, err := decodeJSON(rc.eventJSON)
	if err != nil {
		panic(fmt.Sprintf("eventbus: decode own event: %v", err))
	}
	rc.doc = doc
	m, _ := doc.(map[string]any)
	noDetail := make(map[string]any, len(m))
	for k, v := range m {
		if k != "detail" {
			noDetail[k] = v
		}
	}
	rc.eventNoDetail = marshalJSON(noDetail)
}

func (j *job) record(at time.Time, o Outcome, errText string) Delivery {
	return Delivery{
		Region: j.region, EventID: j.eventID, Rule: j.rule, RuleARN: j.ruleARN, TargetID: j.targetID,
		ARN: j.arn, Input: j.input, Attempt: j.attempt, Copy: j.copy, At: at, Outcome: o, Err: errText,
	}
}

// attempt delivers once and schedules a retry if the policy allows.
func (b *EventBridge) attempt(j *job) {
	ctx := api.WithRequest(context.Background(), api.Request{
		Region: j.region, Account: b.account, Service: "events", Operation: "DeliverToTarget",
	})
	err := b.target.Deliver(ctx, j.arn, j.input)

	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clock.Now()
	if err == nil {
		b.deliveries = append(b.deliveries, j.record(now, Delivered, ""))
		return
	}
	final := func(o Outcome) {
		rec := j.record(now, o, err.Error())
		rec.DeadLetterARN = j.deadLetter
		b.deliveries = append(b.deliveries, rec)
	}
	if isPermanent(err) {
		final(Rejected)
		return
	}
	delay := b.backoff(j.attempt)
	if j.attempt > j.maxRetries || now.Add(delay).Sub(j.ingested) > j.maxAge {
		final(Exhausted)
		return
	}
	b.deliveries = append(b.deliveries, j.record(now, Retrying, err.Error()))
	next := *j
	next.attempt++
	b.clock.After(delay, "eventbridge retry "+j.eventID+" "+j.rule+"/"+j.targetID, func() { b.attempt(&next) })
}

// backoff is the wait after the n-th failed attempt: exponential from one
// second, capped at 10 minutes, with "equal jitter" (half fixed, half
// random). AWS documents only "exponential back off and jitter"; with these
// constants the default 185 retries take about 22 hours, so the two default
// bounds (185 retries, 24 hours) end retrying at about the same time.
func (b *EventBridge) backoff(n int) time.Duration {
	ceiling := 10 * time.Minute
	if n < 20 {
		if d := time.Second << uint(n-1); d < ceiling {
			ceiling = d
		}
	}
	half := ceiling / 2
	return half + time.Duration(b.rng.Int64N(int64(half)+1))
}

// rearm (re)schedules a rule's next scheduled firing after a change. The
// caller holds b.mu.
func (b *EventBridge) rearm(bs *bus, r *rule) {
	r.gen++
	r.timer.Stop()
	r.timer = nil
	if r.schedule == nil || !r.enabled() {
		return
	}
	if next, ok := r.schedule.Next(b.clock.Now()); ok {
		b.armAt(bs, r, next)
	}
}

func (b *EventBridge) armAt(bs *bus, r *rule, at time.Time) {
	gen, name, region := r.gen, r.name, bs.region
	r.timer = b.clock.At(at, "eventbridge schedule "+r.name, func() { b.fire(region, name, gen, at) })
}

// fire emits a rule's "Scheduled Event" and arms the next firing.
func (b *EventBridge) fire(region, name string, gen uint64, at time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bs := b.region(region)
	r, ok := bs.rules[name]
	if !ok || r.gen != gen || !r.enabled() {
		return
	}
	b.ingest(ServiceEvent{
		ID: b.uuid(), Version: "0", DetailType: "Scheduled Event", Source: "aws.events",
		Account: b.account, Time: at, Region: region, Resources: []string{r.arn},
		Detail: json.RawMessage("{}"),
	}, r)
	if next, ok := r.schedule.Next(at); ok {
		b.armAt(bs, r, next)
	}
}

// Recorder is a Target for tests: it records every delivery and can be told
// to fail. It is safe for concurrent use.
type Recorder struct {
	mu    sync.Mutex
	calls []Call
	fail  func(arn string, call int) error
}

// Call is one delivery a Recorder received.
type Call struct {
	ARN   string
	Input []byte
}

// Deliver records the call and returns the error FailWith chose, if any.
func (r *Recorder) Deliver(_ context.Context, arn string, input []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, Call{ARN: arn, Input: append([]byte(nil), input...)})
	if r.fail != nil {
		return r.fail(arn, len(r.calls))
	}
	return nil
}

// FailWith makes Deliver return fn(arn, n) for the n-th call overall
// (1-based); a nil fn makes every call succeed again.
func (r *Recorder) FailWith(fn func(arn string, call int) error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = fn
}

// Calls returns the calls received so far.
func (r *Recorder) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Call(nil), r.calls...)
}
