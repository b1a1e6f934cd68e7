package alarms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// The fakes below stand in for the adapters in tests of the pure domain;
// the adapters themselves are tested against the local cloud (shared/ledger
// alarms_test.go, test/e2e alarm_test.go).

type fakeFleet struct {
	mu        sync.Mutex
	groups    map[rollout.GroupKey]rollout.Group
	alarmTags map[string]map[string]string // by ARN; absent = deleted alarm
	fail      error
	calls     int
}

func (f *fakeFleet) Group(_ context.Context, key rollout.GroupKey) (rollout.Group, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.fail != nil {
		return rollout.Group{}, f.fail
	}
	g, ok := f.groups[key]
	if !ok {
		return rollout.Group{}, &rollout.NotFoundError{Kind: "auto scaling group", ID: key.String()}
	}
	return g, nil
}

func (f *fakeFleet) GroupsTagged(_ context.Context, region, tagKey string) ([]rollout.Group, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.fail != nil {
		return nil, f.fail
	}
	var out []rollout.Group
	for k, g := range f.groups {
		if _, ok := g.Tags[tagKey]; ok && k.Region == region {
			out = append(out, g)
		}
	}
	return out, nil
}

func (f *fakeFleet) AlarmTags(_ context.Context, _, arn string) (map[string]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.fail != nil {
		return nil, f.fail
	}
	tags, ok := f.alarmTags[arn]
	if !ok {
		return nil, &rollout.NotFoundError{Kind: "alarm", ID: arn}
	}
	return tags, nil
}

// fakeLedger keeps the semantics the real ledger documents: AddSignal
// dedupes by the signal's fields, claims are conditional.
type fakeLedger struct {
	mu       sync.Mutex
	leases   map[rollout.GroupKey]string
	rollouts map[string]rollout.Rollout
	history  map[rollout.GroupKey][]string // ids, newest first
	signals  map[string][]rollout.Signal
	tokens   map[string]string
	claims   map[ClaimKey]Claim
}

func newFakeLedger() *fakeLedger {
	return &fakeLedger{
		leases: map[rollout.GroupKey]string{}, rollouts: map[string]rollout.Rollout{}, history: map[rollout.GroupKey][]string{},
		signals: map[string][]rollout.Signal{}, tokens: map[string]string{}, claims: map[ClaimKey]Claim{},
	}
}

// record adds a rollout to the group's history (newest first); leased
// makes it hold the lease.
func (l *fakeLedger) record(r rollout.Rollout, leased bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rollouts[r.ID] = r
	l.history[r.Group] = append([]string{r.ID}, l.history[r.Group]...)
	if leased {
		l.leases[r.Group] = r.ID
	}
}

func (l *fakeLedger) ActiveRollout(_ context.Context, key rollout.GroupKey) (rollout.Rollout, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	id, ok := l.leases[key]
	if !ok {
		return rollout.Rollout{}, false, nil
	}
	if r, ok := l.rollouts[id]; ok {
		return r, true, nil
	}
	return rollout.Rollout{ID: id, Group: key, Status: rollout.StatusPreparing}, true, nil
}

func (l *fakeLedger) History(_ context.Context, key rollout.GroupKey, _ time.Time, limit int) ([]rollout.Rollout, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []rollout.Rollout
	for _, id := range l.history[key] {
		if limit > 0 && len(out) == limit {
			break
		}
		out = append(out, l.rollouts[id])
	}
	return out, nil
}

func (l *fakeLedger) AddSignal(_ context.Context, id string, s rollout.Signal) (rollout.Signal, string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.rollouts[id]; !ok {
		return rollout.Signal{}, "", &rollout.NotFoundError{Kind: "rollout", ID: id}
	}
	for _, old := range l.signals[id] {
		s.Seq = old.Seq
		if old == s {
			return old, l.tokens[id], nil
		}
	}
	s.Seq = int64(len(l.signals[id]) + 1)
	l.signals[id] = append(l.signals[id], s)
	return s, l.tokens[id], nil
}

func (l *fakeLedger) ClaimAlarm(_ context.Context, c Claim) (Claim, bool, error) {
	if err := c.Key.Check(); err != nil {
		return Claim{}, false, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if old, ok := l.claims[c.Key]; ok {
		return old, old.Owner == c.Owner, nil
	}
	c.Notified = false
	l.claims[c.Key] = c
	return c, true, nil
}

func (l *fakeLedger) AlarmNotified(_ context.Context, key ClaimKey, owner string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.claims[key]
	if !ok || c.Owner != owner {
		return fmt.Errorf("%s does not hold %s", owner, key)
	}
	c.Notified = true
	l.claims[key] = c
	return nil
}

type fakeResumer struct {
	mu      sync.Mutex
	resumed []rollout.Signal
	stale   bool
}

func (r *fakeResumer) Resume(_ context.Context, token string, s rollout.Signal) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stale {
		return &rollout.StaleTokenError{Err: errors.New("TaskTimedOut: Task Timed Out: 'Provided task does not exist anymore'")}
	}
	r.resumed = append(r.resumed, s)
	return nil
}

type fakeNotifier struct {
	mu    sync.Mutex
	sent  []rollout.Notification
	fails int // fail this many calls first
}

func (n *fakeNotifier) Notify(_ context.Context, note rollout.Notification) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.fails > 0 {
		n.fails--
		return &rollout.TransientError{Op: "publish", Err: errors.New("Throttling")}
	}
	n.sent = append(n.sent, note)
	return nil
}

// fakeStarter is Step Functions' exactly-once by name, behind the checks
// of executions.Starter.StartRollout: a request that is not valid, or
// whose id cannot name an execution, starts nothing.
type fakeStarter struct {
	mu       sync.Mutex
	requests map[string]rollout.Request // the request each name was first started with
	asks     int
}

func (s *fakeStarter) StartRollout(_ context.Context, req rollout.Request) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asks++
	if err := req.Validate(); err != nil || !rollout.ValidExecutionName(req.RolloutID) {
		return "", false, &rollout.BadInputError{Reason: fmt.Sprintf("rollout request %+v: %v", req, err)}
	}
	name := req.RolloutID
	arn := "arn:aws:states:us-east-1:123456789012:execution:phoenix-rollout:" + name
	if _, ok := s.requests[name]; ok {
		return arn, false, nil
	}
	if s.requests == nil {
		s.requests = map[string]rollout.Request{}
	}
	s.requests[name] = req
	return arn, true, nil
}

const alarmARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-5xx"

// world is a Service over fakes: group web (enabled, listing web-5xx in
// phoenix:alarms), group legacy (not enabled, listing it too).
type world struct {
	svc      Service
	fleet    *fakeFleet
	ledger   *fakeLedger
	resumer  *fakeResumer
	notifier *fakeNotifier
	starter  *fakeStarter
}

func newServiceWorld(t *testing.T) *world {
	t.Helper()
	w := &world{
		fleet: &fakeFleet{
			groups: map[rollout.GroupKey]rollout.Group{
				webKey:                                group("web", enabled(rollout.TagAlarms, "web-5xx")),
				{Region: "us-east-1", Name: "legacy"}: group("legacy", map[string]string{rollout.TagAlarms: "web-5xx"}),
			},
			alarmTags: map[string]map[string]string{alarmARN: {"team": "edge"}},
		},
		ledger: newFakeLedger(), resumer: &fakeResumer{}, notifier: &fakeNotifier{}, starter: &fakeStarter{},
	}
	w.svc = Service{
		Fleet: w.fleet, Ledger: w.ledger, Resumer: w.resumer, Notifier: w.notifier, Starter: w.starter,
		Defaults: rollout.DefaultPolicy(), Account: "123456789012", Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	}
	return w
}

// event is the ALARM sample with the id, alarm and state time given.
func event(t *testing.T, id, alarm, value string, at time.Time) json.RawMessage {
	t.Helper()
	doc := sample(t, "alarm-state-alarm.json")
	doc["id"] = id
	doc["time"] = at.Format(time.RFC3339)
	doc["resources"] = []any{"arn:aws:cloudwatch:us-east-1:123456789012:alarm:" + alarm}
	detail(doc)["alarmName"] = alarm
	state(doc)["value"] = value
	state(doc)["timestamp"] = at.Format("2006-01-02T15:04:05.000-0700")
	return encode(t, doc)
}

func (w *world) handle(t *testing.T, raw json.RawMessage) Result {
	t.Helper()
	res, err := w.svc.Handle(context.Background(), raw)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	return res
}

func TestAnAlarmDuringARolloutSignalsItAndResumesItsParkedTask(t *testing.T) {
	t.Parallel()
	w := newServiceWorld(t)
	r := ro("r1", rollout.ModeImage, rollout.StatusRefreshing)
	w.ledger.record(*r, true)
	w.ledger.tokens["r1"] = "token-1"
	at := t0.Add(5 * time.Minute)

	res := w.handle(t, event(t, "ev-1", "web-5xx", StateAlarm, at))
	if res.Outcome != OutcomeHandled || len(res.Groups) != 1 {
		t.Fatalf("result %+v", res)
	}
	g := res.Groups[0]
	if g.Action != ActionSignal || !g.Resumed || !g.Notified || g.Duplicate || g.RolloutID != "r1" || !slices.Equal(g.Via, []string{ViaGroupTag}) {
		t.Errorf("group result %+v", g)
	}
	sigs := w.ledger.signals["r1"]
	if len(sigs) != 1 {
		t.Fatalf("signals %+v, want one", sigs)
	}
	s := sigs[0]
	if s.Kind != rollout.SignalAlarm || s.Alarm != "web-5xx" || !s.At.Equal(at) || s.RefreshID != "rf-r1" ||
		!strings.HasPrefix(s.Reason, "alarm web-5xx is in ALARM: Threshold Crossed") {
		t.Errorf("signal %+v", s)
	}
	if len(w.resumer.resumed) != 1 || w.resumer.resumed[0] != s {
		t.Errorf("resumed with %+v, want the recorded signal", w.resumer.resumed)
	}
	if len(w.notifier.sent) != 1 {
		t.Fatalf("notifications %+v, want one", w.notifier.sent)
	}
	n := w.notifier.sent[0]
	for _, want := range []string{"web-5xx", "us-east-1/web", "version 1 (ami-old) -> 2 (ami-new)", "signalled rollout r1 to revert", "Threshold Crossed"} {
		if !strings.Contains(n.Message, want) {
			t.Errorf("message does not say %q:\n%s", want, n.Message)
		}
	}
	if n.DetailType != DetailHandled || n.Severity != "warning" || n.Rollout.ID != "r1" || n.Rollout.From.Number != 1 || n.Rollout.To.Number != 2 ||
		!strings.Contains(n.Rollout.Reason, "web-5xx") || !strings.Contains(n.Subject, "web-5xx") {
		t.Errorf("notification %+v", n)
	}
	if len(w.notifier.sent) != 1 || len(res.Skipped) != 1 || res.Skipped[0].Group.Name != "legacy" {
		t.Errorf("the group not enabled: skipped %+v", res.Skipped)
	}
}

func TestAStormOfAlarmsSignalsARolloutOnce(t *testing.T) {
	t.Parallel()
	w := newServiceWorld(t)
	w.ledger.record(*ro("r1", rollout.ModeImage, rollout.StatusRefreshing), true)
	w.ledger.tokens["r1"] = "token-1"
	var mu sync.Mutex
	var wg sync.WaitGroup
	results := map[string][]GroupResult{}
	for i := range 5 {
		raw := event(t, fmt.Sprintf("ev-%d", i), "web-5xx", StateAlarm, t0.Add(time.Duration(5+i)*time.Minute))
		for range 2 { // every event delivered twice, concurrently
			wg.Go(func() {
				res, err := w.svc.Handle(context.Background(), raw)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				results[res.EventID] = append(results[res.EventID], res.Groups...)
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	if n := len(w.ledger.signals["r1"]); n != 1 {
		t.Errorf("%d alarm signals, want 1", n)
	}
	// The claim's owner is the event, so the winning event's own
	// duplicate, delivered at the same moment, acts too: it resumes and
	// tells again, by design ("a retry may tell twice but never not at
	// all"). Every other event is a duplicate.
	if n := len(w.notifier.sent); n < 1 || n > 2 {
		t.Errorf("%d notifications, want the winner's (and at most its duplicate's)", n)
	}
	if n := len(w.resumer.resumed); n < 1 || n > 2 {
		t.Errorf("%d resumes, want the winner's (and at most its duplicate's)", n)
	}
	acted := map[string]bool{}
	for id, grs := range results {
		for _, g := range grs {
			if !g.Duplicate {
				acted[id] = true
				if g.Action != ActionSignal {
					t.Errorf("%s: %+v", id, g)
				}
			}
		}
	}
	if len(acted) != 1 {
		t.Errorf("%d events acted, want 1: %+v", len(acted), results)
	}
	// Once the storm is over, a late redelivery of any event tells nobody.
	told := len(w.notifier.sent)
	for i := range 5 {
		res := w.handle(t, event(t, fmt.Sprintf("ev-%d", i), "web-5xx", StateAlarm, t0.Add(time.Duration(5+i)*time.Minute)))
		if g := res.Groups[0]; !g.Duplicate || g.Notified {
			t.Errorf("late redelivery of ev-%d: %+v", i, g)
		}
	}
	if len(w.notifier.sent) != told {
		t.Errorf("late redeliveries told %d more", len(w.notifier.sent)-told)
	}
}

func TestAFailedNotificationIsRetriedWithoutASecondSignal(t *testing.T) {
	t.Parallel()
	w := newServiceWorld(t)
	w.ledger.record(*ro("r1", rollout.ModeImage, rollout.StatusRefreshing), true)
	w.ledger.tokens["r1"] = "token-1"
	w.notifier.fails = 1
	raw := event(t, "ev-1", "web-5xx", StateAlarm, t0.Add(5*time.Minute))
	_, err := w.svc.Handle(context.Background(), raw)
	var tr *rollout.TransientError
	if !errors.As(err, &tr) || fmt.Sprintf("%T", err) != "*rollout.TransientError" {
		t.Fatalf("got %T %v, want an unwrapped *rollout.TransientError", err, err)
	}
	res := w.handle(t, raw)
	if g := res.Groups[0]; !g.Notified || g.Duplicate {
		t.Errorf("retry: %+v", g)
	}
	w.handle(t, raw) // and a late duplicate delivery
	if len(w.ledger.signals["r1"]) != 1 || len(w.notifier.sent) != 1 {
		t.Errorf("%d signals and %d notifications, want one each", len(w.ledger.signals["r1"]), len(w.notifier.sent))
	}
}

func TestAStaleTokenIsFineTheSignalIsRecorded(t *testing.T) {
	t.Parallel()
	w := newServiceWorld(t)
	w.ledger.record(*ro("r1", rollout.ModeImage, rollout.StatusRefreshing), true)
	w.ledger.tokens["r1"] = "token-old"
	w.resumer.stale = true
	res := w.handle(t, event(t, "ev-1", "web-5xx", StateAlarm, t0.Add(5*time.Minute)))
	if g := res.Groups[0]; g.Resumed || !g.Notified || len(w.ledger.signals["r1"]) != 1 {
		t.Errorf("%+v, signals %+v", g, w.ledger.signals["r1"])
	}
}

func TestAnAlarmWhilePrepareHasNotRecordedTheRolloutIsRetried(t *testing.T) {
	t.Parallel()
	w := newServiceWorld(t)
	w.ledger.leases[webKey] = "r1"
	raw := event(t, "ev-1", "web-5xx", StateAlarm, t0.Add(time.Minute))
	_, err := w.svc.Handle(context.Background(), raw)
	if !rollout.IsTransient(err) {
		t.Fatalf("got %v, want a TransientError so the event is retried", err)
	}
	w.ledger.mu.Lock()
	delete(w.ledger.leases, webKey)
	w.ledger.mu.Unlock()
	w.ledger.record(*ro("r1", rollout.ModeImage, rollout.StatusPreparing), true)
	res := w.handle(t, raw)
	if g := res.Groups[0]; g.Action != ActionSignal || g.Duplicate || len(w.ledger.signals["r1"]) != 1 {
		t.Errorf("retry: %+v", g)
	}
}

func TestARecycleInFlightIsSignalledToStop(t *testing.T) {
	t.Parallel()
	w := newServiceWorld(t)
	w.ledger.record(*ro("c1", rollout.ModeRecycle, rollout.StatusRefreshing, func(r *rollout.Rollout) { r.To = r.From }), true)
	res := w.handle(t, event(t, "ev-1", "web-5xx", StateAlarm, t0.Add(5*time.Minute)))
	if g := res.Groups[0]; g.Action != ActionSignal || len(w.ledger.signals["c1"]) != 1 {
		t.Fatalf("%+v", g)
	}
	if msg := w.notifier.sent[0].Message; !strings.Contains(msg, "signalled recycle c1 to stop; the group stays on version 1") {
		t.Errorf("message:\n%s", msg)
	}
	if w.starter.asks != 0 {
		t.Error("a recycle started a revert")
	}
}

func TestAnAlarmAfterFinalizeStartsOneRevertToThePreviousVersion(t *testing.T) {
	t.Parallel()
	w := newServiceWorld(t)
	r := ro("img-web-1", rollout.ModeImage, rollout.StatusFinalized)
	w.ledger.record(*r, false)
	at := r.EndedAt.Add(20 * time.Minute)

	res := w.handle(t, event(t, "ev-1", "web-5xx", StateAlarm, at))
	g := res.Groups[0]
	name := RevertName("img-web-1")
	if g.Action != ActionRevert || g.RevertRolloutID != name || !strings.HasSuffix(g.ExecutionARN, ":"+name) || !g.Notified || g.Duplicate {
		t.Fatalf("%+v", g)
	}
	want := rollout.Request{RolloutID: name, Group: webKey, Mode: rollout.ModeRevert, Version: 1,
		Trigger: rollout.Trigger{Kind: "alarm", Source: alarmARN, EventID: "ev-1"}}
	if got := w.starter.requests[name]; got != want {
		t.Errorf("request\n %+v\nwant\n %+v", got, want)
	}
	msg := w.notifier.sent[0].Message
	for _, s := range []string{"started revert rollout " + name + " to version 1 (ami-old)", "version 1 (ami-old) -> 2 (ami-new)", "within its guard window"} {
		if !strings.Contains(msg, s) {
			t.Errorf("message does not say %q:\n%s", s, msg)
		}
	}

	// A storm and flapping: other alarm events, and this one again.
	for i, id := range []string{"ev-2", "ev-3", "ev-1", "ev-4"} {
		res := w.handle(t, event(t, id, "web-5xx", StateAlarm, at.Add(time.Duration(i+1)*time.Minute)))
		if g := res.Groups[0]; g.Action != ActionRevert || !g.Duplicate || g.Notified || g.RevertRolloutID != name {
			t.Errorf("%s: %+v", id, g)
		}
	}
	if len(w.starter.requests) != 1 || len(w.notifier.sent) != 1 {
		t.Errorf("%d executions started and %d notifications, want one each", len(w.starter.requests), len(w.notifier.sent))
	}
	if w.starter.asks != 5 {
		t.Errorf("Step Functions was asked %d times, want every event to ask for the same name (5)", w.starter.asks)
	}
}

func TestAnAlarmOutsideTheWindowOnlyNotifiesOncePerEvent(t *testing.T) {
	t.Parallel()
	w := newServiceWorld(t)
	r := ro("r1", rollout.ModeImage, rollout.StatusFinalized)
	w.ledger.record(*r, false)
	late := r.EndedAt.Add(3 * time.Hour)
	for _, id := range []string{"ev-1", "ev-1", "ev-2"} {
		res := w.handle(t, event(t, id, "web-5xx", StateAlarm, late))
		if g := res.Groups[0]; g.Action != ActionNotify || g.RolloutID != "r1" {
			t.Errorf("%s: %+v", id, g)
		}
	}
	if len(w.notifier.sent) != 2 {
		t.Fatalf("%d notifications, want one per distinct event (2)", len(w.notifier.sent))
	}
	if msg := w.notifier.sent[0].Message; !strings.Contains(msg, "Phoenix changed nothing.") || !strings.Contains(msg, "past its guard window") {
		t.Errorf("message:\n%s", msg)
	}
	if w.starter.asks != 0 || len(w.ledger.signals) != 0 {
		t.Error("an alarm outside the window changed something")
	}
}

func TestARevertUnderWayIsLeftAloneSilently(t *testing.T) {
	t.Parallel()
	w := newServiceWorld(t)
	w.ledger.record(*ro("r1", rollout.ModeImage, rollout.StatusReverting), true)
	res := w.handle(t, event(t, "ev-1", "web-5xx", StateAlarm, t0.Add(5*time.Minute)))
	if g := res.Groups[0]; g.Action != ActionNone || g.Notified {
		t.Errorf("%+v", g)
	}
	if len(w.notifier.sent)+len(w.ledger.signals)+w.starter.asks != 0 {
		t.Error("a revert under way was acted on")
	}
}

func TestAlarmsForGroupsPhoenixDoesNotManageDoNothing(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		alarm string
		tags  map[string]string
	}{
		{"an alarm no group lists and without a group tag", "db-cpu", map[string]string{}},
		{"an alarm whose group tag names a group not enabled", "legacy-5xx", map[string]string{TagGroup: "legacy"}},
		{"an alarm whose group tag names a group that does not exist", "gone-5xx", map[string]string{TagGroup: "gone"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newServiceWorld(t)
			w.fleet.alarmTags["arn:aws:cloudwatch:us-east-1:123456789012:alarm:"+tc.alarm] = tc.tags
			w.ledger.record(*ro("r1", rollout.ModeImage, rollout.StatusFinalized), false)
			res := w.handle(t, event(t, "ev-1", tc.alarm, StateAlarm, t0.Add(70*time.Minute)))
			if res.Outcome != OutcomeUnmapped || len(res.Groups) != 0 {
				t.Errorf("result %+v", res)
			}
			if len(w.notifier.sent)+len(w.ledger.signals)+len(w.ledger.claims)+w.starter.asks != 0 {
				t.Error("an alarm for no managed group changed something or notified")
			}
		})
	}
}

func TestTheAlarmsGroupTagMapsItAndADeletedAlarmIsMappedByGroupTagsAlone(t *testing.T) {
	t.Parallel()
	w := newServiceWorld(t)
	shop := rollout.GroupKey{Region: "us-east-1", Name: "shop"}
	w.fleet.groups[shop] = group("shop", enabled())
	w.fleet.alarmTags[alarmARN] = map[string]string{TagGroup: "shop"}
	res := w.handle(t, event(t, "ev-1", "web-5xx", StateAlarm, t0))
	var names []string
	for _, g := range res.Groups {
		names = append(names, g.Group.Name+":"+strings.Join(g.Via, "+"))
	}
	if !slices.Equal(names, []string{"shop:" + ViaAlarmTag, "web:" + ViaGroupTag}) {
		t.Errorf("targets %v", names)
	}
	delete(w.fleet.alarmTags, alarmARN)
	res = w.handle(t, event(t, "ev-2", "web-5xx", StateAlarm, t0))
	if len(res.Groups) != 1 || res.Groups[0].Group != webKey {
		t.Errorf("after the alarm was deleted: %+v", res.Groups)
	}
}

func TestTransitionsOutOfAlarmAndBadEventsReadNothingAndFailNothing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		raw  func(t *testing.T) json.RawMessage
		want Outcome
	}{
		{"OK", func(t *testing.T) json.RawMessage { return encode(t, sample(t, "alarm-state-ok.json")) }, OutcomeIgnored},
		{"INSUFFICIENT_DATA", func(t *testing.T) json.RawMessage { return encode(t, sample(t, "alarm-state-insufficient-data.json")) }, OutcomeIgnored},
		{"a configuration change", func(t *testing.T) json.RawMessage {
			return encode(t, sample(t, "alarm-nearmiss-configuration-change.json"))
		}, OutcomeDropped},
		{"an ALARM from another account", func(t *testing.T) json.RawMessage {
			return encode(t, sample(t, "alarm-nearmiss-other-account.json"))
		}, OutcomeDropped},
		{"garbage", func(*testing.T) json.RawMessage { return json.RawMessage(`"ALARM"`) }, OutcomeDropped},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newServiceWorld(t)
			w.ledger.record(*ro("r1", rollout.ModeImage, rollout.StatusRefreshing), true)
			res := w.handle(t, tc.raw(t))
			if res.Outcome != tc.want || res.Reason == "" {
				t.Errorf("result %+v, want %s with a reason", res, tc.want)
			}
			if w.fleet.calls+len(w.notifier.sent)+len(w.ledger.signals)+len(w.ledger.claims) != 0 {
				t.Error("an event Phoenix does not act on was acted on")
			}
		})
	}
}

func TestAFleetFailureIsReturnedTransientForARetry(t *testing.T) {
	t.Parallel()
	w := newServiceWorld(t)
	w.fleet.fail = &rollout.TransientError{Op: "describe", Err: errors.New("Throttling")}
	_, err := w.svc.Handle(context.Background(), event(t, "ev-1", "web-5xx", StateAlarm, t0))
	if fmt.Sprintf("%T", err) != "*rollout.TransientError" {
		t.Fatalf("got %T %v", err, err)
	}
}

func TestOneAlarmActsOnEveryGroupItGuards(t *testing.T) {
	t.Parallel()
	w := newServiceWorld(t)
	api := rollout.GroupKey{Region: "us-east-1", Name: "api"}
	w.fleet.groups[api] = group("api", enabled(rollout.TagAlarms, "web-5xx"))
	w.ledger.record(*ro("r-web", rollout.ModeImage, rollout.StatusRefreshing), true)
	fin := ro("r-api", rollout.ModeImage, rollout.StatusFinalized)
	fin.Group = api
	w.ledger.record(*fin, false)
	res := w.handle(t, event(t, "ev-1", "web-5xx", StateAlarm, fin.EndedAt.Add(time.Minute)))
	got := map[string]Action{}
	for _, g := range res.Groups {
		got[g.Group.Name] = g.Action
	}
	if got["web"] != ActionSignal || got["api"] != ActionRevert || len(w.notifier.sent) != 2 {
		t.Errorf("actions %v, %d notifications", got, len(w.notifier.sent))
	}
}
