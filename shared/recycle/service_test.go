package recycle

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// The fakes of the ports: small, in memory, for the pure domain only.

type fakeFleet struct {
	mu       sync.Mutex
	groups   []rollout.Group
	versions map[string]rollout.TemplateVersion // by "lt:version as written"
	listErr  error
	resolves int
}

func (f *fakeFleet) GroupsTagged(_ context.Context, region, tagKey string) ([]rollout.Group, error) {
	if f.listErr != nil {
		return nil, f.listErr
	}
	var out []rollout.Group
	for _, g := range f.groups {
		if _, ok := g.Tags[tagKey]; ok && g.Key.Region == region {
			out = append(out, g)
		}
	}
	return out, nil
}

func (f *fakeFleet) ResolveVersion(_ context.Context, _, lt, version string) (rollout.TemplateVersion, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resolves++
	v, ok := f.versions[lt+":"+version]
	if !ok {
		return rollout.TemplateVersion{}, &rollout.NotFoundError{Kind: "launch template version", ID: lt + ":" + version}
	}
	return v, nil
}

type fakeLedger struct {
	mu       sync.Mutex
	rollouts map[string]rollout.Rollout
	active   map[rollout.GroupKey]rollout.Rollout
	drift    map[rollout.GroupKey]Drift
	putErr   error
}

func newFakeLedger() *fakeLedger {
	return &fakeLedger{rollouts: map[string]rollout.Rollout{}, active: map[rollout.GroupKey]rollout.Rollout{}, drift: map[rollout.GroupKey]Drift{}}
}

func (l *fakeLedger) GetRollout(_ context.Context, id string) (rollout.Rollout, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.rollouts[id]
	if !ok {
		return rollout.Rollout{}, &rollout.NotFoundError{Kind: "rollout", ID: id}
	}
	return r, nil
}

func (l *fakeLedger) ActiveRollout(_ context.Context, key rollout.GroupKey) (rollout.Rollout, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.active[key]
	return r, ok, nil
}

func (l *fakeLedger) PutDrift(_ context.Context, d Drift) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.putErr != nil {
		return l.putErr
	}
	if old, ok := l.drift[d.Group]; !ok || !old.At.After(d.At) {
		l.drift[d.Group] = d
	}
	return nil
}

type fakeParams struct {
	value string
	err   error
	calls int
}

func (p *fakeParams) Value(context.Context, string, string) (string, error) {
	p.calls++
	return p.value, p.err
}

// fakeStarter is Step Functions' exactly-once by name, behind the checks
// of executions.Starter.StartRollout: a request that is not valid, or
// whose id cannot name an execution, starts nothing; a second start of a
// name returns the existing execution, and a different request for it is
// the caller's bug (Step Functions refuses another input).
type fakeStarter struct {
	mu       sync.Mutex
	requests map[string]rollout.Request
	inputs   map[string][]byte
	order    []string
	err      error
	refused  []string
}

func (s *fakeStarter) StartRollout(_ context.Context, req rollout.Request) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return "", false, s.err
	}
	if err := req.Validate(); err != nil || !rollout.ValidExecutionName(req.RolloutID) {
		return "", false, &rollout.BadInputError{Reason: fmt.Sprintf("rollout request %+v: %v", req, err)}
	}
	input, err := json.Marshal(req)
	if err != nil {
		return "", false, err
	}
	name := req.RolloutID
	arn := "arn:aws:states:us-east-1:123456789012:execution:phoenix-rollout:" + name
	if old, ok := s.inputs[name]; ok {
		if !bytes.Equal(old, input) {
			s.refused = append(s.refused, name)
			return "", false, fmt.Errorf("ExecutionAlreadyExists: %s with another input", name)
		}
		return arn, false, nil
	}
	s.inputs[name] = input
	s.requests[name] = req
	s.order = append(s.order, name)
	return arn, true, nil
}

// world is one test's service and fakes.
type world struct {
	fleet   *fakeFleet
	ledger  *fakeLedger
	params  *fakeParams
	starter *fakeStarter
	metrics *bytes.Buffer
	logs    *bytes.Buffer
	svc     Service
}

func newWorld(groups ...rollout.Group) *world {
	w := &world{
		fleet:   &fakeFleet{groups: slices.Clone(groups), versions: map[string]rollout.TemplateVersion{}},
		ledger:  newFakeLedger(),
		params:  &fakeParams{},
		starter: &fakeStarter{requests: map[string]rollout.Request{}, inputs: map[string][]byte{}},
		metrics: &bytes.Buffer{},
		logs:    &bytes.Buffer{},
	}
	for _, g := range groups {
		for _, v := range []string{"3", "$Latest", "$Default"} {
			w.fleet.versions[g.LaunchTemplateID+":"+v] = rollout.TemplateVersion{LaunchTemplateID: g.LaunchTemplateID, Number: 3, ImageID: "ami-3"}
		}
	}
	w.svc = Service{
		Fleet: w.fleet, Ledger: w.ledger, Params: w.params, Starter: w.starter,
		Config: Config{MaxAge: DefaultMaxAge, MaxPerNight: 2, Jitter: 30 * time.Minute, FreezeParameter: "/phoenix/freeze"},
		Logger: slog.New(slog.NewJSONHandler(w.logs, nil)), Metrics: w.metrics,
	}
	return w
}

// event is the sample scheduled event at night0 with id.
func event(t *testing.T, id string, at time.Time) json.RawMessage {
	t.Helper()
	m := sample(t)
	m["id"], m["time"], m["region"] = id, at.Format(time.RFC3339), "us-east-1"
	return encode(t, m)
}

func (w *world) handle(t *testing.T, raw json.RawMessage) Summary {
	t.Helper()
	sum, err := w.svc.Handle(context.Background(), raw)
	if err != nil {
		t.Fatalf("handle: %v\n%s", err, w.logs)
	}
	return sum
}

// requests are the requests the starter started, by name.
func (w *world) requests(t *testing.T) map[string]rollout.Request {
	t.Helper()
	return maps.Clone(w.starter.requests)
}

func names(ds []Started) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Group.Name)
	}
	return out
}

func decisionNames(ds []Decision) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Group.Name+":"+d.Code)
	}
	return out
}

func TestHandleANight(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	w := newWorld(
		group("old-a", aged(10*day, day)),
		group("old-b", aged(9*day)),
		group("old-c", aged(8*day)),
		group("young", aged(2*day)),
		group("leased", aged(20*day)),
		group("frozen", aged(20*day), tags(TagFreeze, "on")),
		group("latest", aged(3*day), func(g *rollout.Group) { g.LaunchTemplateVersion = "$Latest" }),
		group("not-recycled", aged(30*day), tags(TagRecycle, "false")),
		group("disabled", aged(30*day), tags(rollout.TagEnabled, "false")),
	)
	w.ledger.active[rollout.GroupKey{Region: "us-east-1", Name: "leased"}] = rollout.Rollout{ID: "img-leased-1", Mode: rollout.ModeImage, Status: rollout.StatusRefreshing}
	sum := w.handle(t, event(t, "ev-1", night0))

	if got := strings.Join(names(sum.Started), " "); got != "old-a old-b" {
		t.Errorf("started %s, want the two oldest (limit 2)", got)
	}
	if got := strings.Join(decisionNames(sum.Deferred), " "); got != "old-c:nightly-limit" {
		t.Errorf("deferred %s", got)
	}
	if got := strings.Join(decisionNames(sum.Skipped), " "); got != "frozen:frozen latest:young leased:leased not-recycled:recycle-off young:young" {
		t.Errorf("skipped %s", got)
	}
	reqs := w.requests(t)
	if len(reqs) != 2 {
		t.Fatalf("%d executions started", len(reqs))
	}
	for _, st := range sum.Started {
		r, ok := reqs[st.RolloutID]
		if !ok {
			t.Fatalf("no execution named %s", st.RolloutID)
		}
		want := rollout.Request{RolloutID: st.RolloutID, Group: st.Group, Mode: rollout.ModeRecycle, StartAt: st.StartAt,
			Trigger: rollout.Trigger{Kind: "schedule", Source: sample(t)["resources"].([]any)[0].(string), EventID: "ev-1"}}
		if !r.StartAt.Equal(want.StartAt) {
			t.Errorf("start at %s, want %s", r.StartAt, want.StartAt)
		}
		r.StartAt = want.StartAt
		if r != want {
			t.Errorf("request\n got %+v\nwant %+v", r, want)
		}
		if st.StartAt.Before(night0) || !st.StartAt.Before(night0.Add(30*time.Minute)) || st.Duplicate || !strings.HasSuffix(st.ExecutionARN, ":"+st.RolloutID) {
			t.Errorf("started %+v", st)
		}
	}
	// Drift: every enabled group, recycle on or not.
	if len(sum.Drift) != 8 || len(w.ledger.drift) != 8 {
		t.Fatalf("%d drift reports, %d recorded; want 8 (every enabled group)", len(sum.Drift), len(w.ledger.drift))
	}
	if d := w.ledger.drift[rollout.GroupKey{Region: "us-east-1", Name: "not-recycled"}]; d.OverMaxAge != 1 || d.EventID != "ev-1" || d.Desired.Number != 3 {
		t.Errorf("drift of a group not recycled: %+v", d)
	}
	if d := w.ledger.drift[rollout.GroupKey{Region: "us-east-1", Name: "latest"}]; d.Desired.Number != 3 || d.OffVersion != 0 {
		t.Errorf("drift of a $Latest group: %+v; want its version resolved to 3", d)
	}
	if n := strings.Count(w.metrics.String(), "\n"); n != 8 {
		t.Errorf("%d metric lines, want 8:\n%s", n, w.metrics)
	}
	if !strings.Contains(w.metrics.String(), `"Group":"old-a"`) || !strings.Contains(w.metrics.String(), `"InstancesOverMaxAge":1`) {
		t.Errorf("metric lines:\n%s", w.metrics)
	}
	// One log line per decision, with the ids.
	for _, want := range []string{`"msg":"recycle started"`, `"msg":"recycle deferred"`, `"msg":"recycle skipped"`, `"msg":"night planned"`} {
		if !strings.Contains(w.logs.String(), want) {
			t.Errorf("no %s line in\n%s", want, w.logs)
		}
	}
	if n := strings.Count(w.logs.String(), `"eventId":"ev-1"`); n < 8+8+1 {
		t.Errorf("%d log lines carry the event id", n)
	}
	if w.fleet.resolves != 8 {
		t.Errorf("%d version lookups, want one per group", w.fleet.resolves)
	}
}

func TestHandleRecyclesABlueGreenPairOnce(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	w := newWorld(
		pairMember("web-blue", "web", idle),
		pairMember("web-green", "web", aged(9*day)),
		pairMember("shop-a", "shop", aged(10*day)),
		pairMember("shop-b", "shop", idle),
	)
	// shop's rollout leases both groups; the night finds it on either.
	w.ledger.active[rollout.GroupKey{Region: "us-east-1", Name: "shop-b"}] = rollout.Rollout{ID: "img-shop-1", Mode: rollout.ModeImage, Status: rollout.StatusRefreshing}
	sum := w.handle(t, event(t, "ev-1", night0))
	if got := strings.Join(names(sum.Started), " "); got != "web-blue" {
		t.Fatalf("started %q, want the web pair once, under its first group", got)
	}
	if got := strings.Join(decisionNames(sum.Skipped), " "); got != "shop-a:leased" {
		t.Errorf("skipped %s; want the shop pair held by its rollout", got)
	}
	st := sum.Started[0]
	if r := w.requests(t)[st.RolloutID]; r.Group.Name != "web-blue" || r.Mode != rollout.ModeRecycle {
		t.Errorf("request %+v", r)
	}
	if st.Pair == nil || st.Pair.Name != "web" || st.OldestAgeSeconds != int64(9*day/time.Second) {
		t.Errorf("started %+v", st)
	}
	// Each group still has its own drift report, the idle one's empty.
	if len(sum.Drift) != 4 {
		t.Errorf("%d drift reports, want one per group", len(sum.Drift))
	}
	if d := w.ledger.drift[rollout.GroupKey{Region: "us-east-1", Name: "web-blue"}]; d.Instances != 0 || d.Drifting() {
		t.Errorf("the idle group's drift %+v", d)
	}
	if !strings.Contains(w.logs.String(), `"pair":"web"`) {
		t.Errorf("the pair's decision is not logged with its name:\n%s", w.logs)
	}
}

func TestHandleIsIdempotent(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	groups := []rollout.Group{group("a", aged(10*day)), group("b", aged(9*day)), group("c", aged(8*day))}
	t.Run("a repeated delivery starts nothing new and gives the same answer", func(t *testing.T) {
		t.Parallel()
		w := newWorld(groups...)
		first := w.handle(t, event(t, "ev-1", night0))
		second := w.handle(t, event(t, "ev-1", night0))
		if len(w.starter.order) != 2 || len(w.starter.refused) != 0 {
			t.Fatalf("executions %v, refused %v", w.starter.order, w.starter.refused)
		}
		for i, st := range second.Started {
			if !st.Duplicate || st.RolloutID != first.Started[i].RolloutID || !st.StartAt.Equal(first.Started[i].StartAt) {
				t.Errorf("second answer %+v, first %+v", st, first.Started[i])
			}
		}
	})
	t.Run("a late duplicate after the night's recycles ran keeps the nightly limit", func(t *testing.T) {
		t.Parallel()
		w := newWorld(groups...)
		first := w.handle(t, event(t, "ev-1", night0))
		// a's recycle finished (its instances are new); b's runs and holds
		// its lease.
		a, b := first.Started[0], first.Started[1]
		w.ledger.rollouts[a.RolloutID] = rollout.Rollout{ID: a.RolloutID, Status: rollout.StatusFinalized}
		w.ledger.active[b.Group] = rollout.Rollout{ID: b.RolloutID, Mode: rollout.ModeRecycle, Status: rollout.StatusRefreshing}
		w.fleet.groups[0] = group("a", aged(time.Hour))
		second := w.handle(t, event(t, "ev-1", night0))
		if len(w.starter.order) != 2 || strings.Join(decisionNames(second.Deferred), " ") != "c:nightly-limit" {
			t.Fatalf("executions %v, deferred %v", w.starter.order, decisionNames(second.Deferred))
		}
	})
	t.Run("the next night starts the deferred group", func(t *testing.T) {
		t.Parallel()
		w := newWorld(groups...)
		w.handle(t, event(t, "ev-1", night0))
		w.fleet.groups[0], w.fleet.groups[1] = group("a", aged(20*time.Hour)), group("b", aged(20*time.Hour))
		next := w.handle(t, event(t, "ev-2", night0.Add(day)))
		if strings.Join(names(next.Started), " ") != "c" || len(w.starter.order) != 3 {
			t.Fatalf("next night started %v; executions %v", names(next.Started), w.starter.order)
		}
	})
}

func TestHandleFreezeParameter(t *testing.T) {
	t.Parallel()
	old := group("a", aged(10*24*time.Hour))
	cases := []struct {
		name   string
		value  string
		err    error
		frozen string // a fragment of the global freeze's reason; "" for none
	}{
		{"a missing parameter freezes nothing", "", nil, ""},
		{"true freezes every group", "true", nil, "SSM parameter /phoenix/freeze freezes"},
		{"a window around the night freezes", "2026-03-01T00:00:00Z/2026-03-08T00:00:00Z", nil, "2026-03-08"},
		{"a window that has passed freezes nothing", "2026-01-01T00:00:00Z/2026-01-08T00:00:00Z", nil, ""},
		{"a bad value freezes every group, and says so", "christmas", nil, "unreadable"},
		{"a parameter that cannot be read freezes every group", "", errors.New("AccessDeniedException: not authorized"), "cannot be read"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(old)
			w.params.value, w.params.err = tc.value, tc.err
			sum := w.handle(t, event(t, "ev-1", night0))
			if tc.frozen == "" {
				if sum.GlobalFreeze != "" || len(sum.Started) != 1 {
					t.Fatalf("summary %+v", sum)
				}
				return
			}
			if !strings.Contains(sum.GlobalFreeze, tc.frozen) || len(sum.Started) != 0 || len(sum.Skipped) != 1 || sum.Skipped[0].Code != CodeFrozen {
				t.Fatalf("summary %+v; want every group frozen, saying %q", sum, tc.frozen)
			}
			if len(w.ledger.drift) != 1 {
				t.Errorf("a freeze stopped the drift report")
			}
		})
	}
	t.Run("no parameter configured is never read", func(t *testing.T) {
		t.Parallel()
		w := newWorld(old)
		w.svc.Config.FreezeParameter = ""
		w.params.value = "true"
		if sum := w.handle(t, event(t, "ev-1", night0)); len(sum.Started) != 1 || w.params.calls != 0 {
			t.Fatalf("summary %+v, %d parameter reads", sum, w.params.calls)
		}
	})
}

func TestHandleFailures(t *testing.T) {
	t.Parallel()
	old := group("a", aged(10*24*time.Hour))
	throttled := &rollout.TransientError{Op: "call", Err: errors.New("Throttling")}
	cases := []struct {
		name   string
		break_ func(w *world)
	}{
		{"throttled group listing", func(w *world) { w.fleet.listErr = throttled }},
		{"throttled freeze parameter", func(w *world) { w.params.err = throttled }},
		{"throttled drift write", func(w *world) { w.ledger.putErr = throttled }},
		{"throttled start", func(w *world) { w.starter.err = throttled }},
	}
	for _, tc := range cases {
		t.Run(tc.name+" returns the TransientError unwrapped, so the night is retried", func(t *testing.T) {
			t.Parallel()
			w := newWorld(old)
			tc.break_(w)
			_, err := w.svc.Handle(context.Background(), event(t, "ev-1", night0))
			if _, ok := err.(*rollout.TransientError); !ok { //nolint:errorlint // aws-lambda-go reports the outermost type only.
				t.Fatalf("error %v (%T), want *rollout.TransientError itself", err, err)
			}
		})
	}
	t.Run("a missing launch template version leaves the version unjudged, the night goes on", func(t *testing.T) {
		t.Parallel()
		w := newWorld(old)
		w.fleet.versions = map[string]rollout.TemplateVersion{}
		sum := w.handle(t, event(t, "ev-1", night0))
		if len(sum.Drift) != 1 || !strings.Contains(sum.Drift[0].Note, "does not exist") || sum.Drift[0].OverMaxAge != 1 || len(sum.Started) != 1 {
			t.Fatalf("summary %+v", sum)
		}
	})
	t.Run("a bad event is dropped without an error and without reading anything", func(t *testing.T) {
		t.Parallel()
		w := newWorld(old)
		w.fleet.listErr = errors.New("must not be called")
		m := sample(t)
		m["source"] = "aws.ec2"
		for _, raw := range []json.RawMessage{encode(t, m), json.RawMessage(`{"id":"x"}`), json.RawMessage(`[]`)} {
			sum, err := w.svc.Handle(context.Background(), raw)
			if err != nil || sum.Outcome != OutcomeDropped || sum.Reason == "" {
				t.Fatalf("%s: summary %+v, error %v", raw, sum, err)
			}
		}
		if w.params.calls != 0 || len(w.starter.order) != 0 || !strings.Contains(w.logs.String(), "scheduled event dropped") {
			t.Fatalf("dropped events read or started something; logs:\n%s", w.logs)
		}
	})
}
