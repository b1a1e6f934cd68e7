package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
	"github.com/phoenix-rollouts/phoenix/shared/rollout/rollouttest"
)

// The fakes below are for the pure domain only; shared/images tests the
// same handler end to end through the real adapters on the local cloud.

// fakeImages serves images, builds, parameters and groups from maps.
type fakeImages struct {
	builds  map[string]Build
	params  map[string]Parameter
	images  map[string]rollout.Image
	groups  []Candidate
	archs   map[string][]string
	failAll error
}

func (f *fakeImages) Build(_ context.Context, _, arn string) (Build, error) {
	if f.failAll != nil {
		return Build{}, f.failAll
	}
	b, ok := f.builds[arn]
	if !ok {
		return Build{}, &rollout.NotFoundError{Kind: "image build", ID: arn}
	}
	return b, nil
}

func (f *fakeImages) Parameter(_ context.Context, _, name string) (Parameter, error) {
	if f.failAll != nil {
		return Parameter{}, f.failAll
	}
	p, ok := f.params[name]
	if !ok {
		return Parameter{}, &rollout.NotFoundError{Kind: "parameter", ID: name}
	}
	return p, nil
}

func (f *fakeImages) Image(_ context.Context, _, id string) (rollout.Image, error) {
	if f.failAll != nil {
		return rollout.Image{}, f.failAll
	}
	im, ok := f.images[id]
	if !ok {
		return rollout.Image{}, &rollout.NotFoundError{Kind: "image", ID: id}
	}
	return im, nil
}

func (f *fakeImages) Candidates(context.Context, string) ([]Candidate, error) { return f.groups, nil }

func (f *fakeImages) Architectures(_ context.Context, _ string, types []string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, t := range types {
		if a, ok := f.archs[t]; ok {
			out[t] = a
		}
	}
	return out, nil
}

// memQueue is Queue in memory with the DynamoDB queue's rules.
type memQueue struct {
	mu sync.Mutex
	m  map[rollout.GroupKey]Queued
}

func (q *memQueue) Offer(_ context.Context, key rollout.GroupKey, item Queued, at time.Time) (bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	cur, ok := q.m[key]
	if ok && at.Before(cur.ExpiresAt) && cur.Image.ImageID != item.Image.ImageID && !item.Image.CreatedAt.After(cur.Image.CreatedAt) {
		return false, nil
	}
	q.m[key] = item
	return true, nil
}

func (q *memQueue) Get(_ context.Context, key rollout.GroupKey, at time.Time) (Queued, bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	cur, ok := q.m[key]
	if !ok || !at.Before(cur.ExpiresAt) {
		return Queued{}, false, nil
	}
	return cur, true, nil
}

func (q *memQueue) Remove(_ context.Context, key rollout.GroupKey, imageID string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.m[key].Image.ImageID == imageID {
		delete(q.m, key)
	}
	return nil
}

// memStarter is Step Functions' naming rule: a name is used once.
type memStarter struct {
	mu      sync.Mutex
	started map[string][]byte
}

func (s *memStarter) Start(_ context.Context, name string, input []byte) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	arn := "arn:aws:states:us-east-1:123456789012:execution:phoenix-campaign:" + name
	if _, ok := s.started[name]; ok {
		return arn, false, nil
	}
	s.started[name] = input
	return arn, true, nil
}

type world struct {
	svc     Service
	images  *fakeImages
	ledger  *rollouttest.Ledger
	queue   *memQueue
	starter *memStarter
	notes   *rollouttest.Notifier
	metrics *bytes.Buffer
	logs    *bytes.Buffer
}

const (
	amiNew = "ami-0a1b2c3d4e5f67890"
	amiOld = "ami-00000000000000001"
	amiTop = "ami-00000000000000009"
)

// newWorld has one AMI event's image (amiNew), an older and a newer image,
// and groups: canary (wave 0), web-a and web-b (wave 1), web-arm (arm64
// only) and api (another role).
func newWorld(t *testing.T) *world {
	t.Helper()
	im := goodImage()
	images := &fakeImages{
		builds: map[string]Build{},
		params: map[string]Parameter{},
		images: map[string]rollout.Image{
			amiNew: {ID: amiNew, Name: im.Name, OwnerID: acct, State: "available", Architecture: "x86_64", CreatedAt: im.CreatedAt, Tags: im.Tags},
			amiOld: {ID: amiOld, OwnerID: acct, State: "available", Architecture: "x86_64", CreatedAt: im.CreatedAt.Add(-24 * time.Hour)},
			amiTop: {ID: amiTop, OwnerID: acct, State: "available", Architecture: "x86_64", CreatedAt: im.CreatedAt.Add(24 * time.Hour)},
		},
		groups: []Candidate{
			group("canary", enabledRole("web", TagWave, "0"), "t3.micro"),
			group("web-a", enabledRole("web"), "m5.large"),
			group("web-b", enabledRole("web"), "t3.micro"),
			group("api", enabledRole("api"), "t3.micro"),
		},
		archs: archs,
	}
	w := &world{images: images, ledger: rollouttest.NewLedger(), queue: &memQueue{m: map[rollout.GroupKey]Queued{}},
		starter: &memStarter{started: map[string][]byte{}}, notes: &rollouttest.Notifier{}, metrics: &bytes.Buffer{}, logs: &bytes.Buffer{}}
	w.svc = Service{
		Images: images, Ledger: w.ledger, Queue: w.queue, Campaigns: w.starter, Notifier: w.notes,
		Policy:      Policy{Region: region, Account: acct, RequiredTags: map[string]string{"phoenix:approved": "true"}},
		MaxInFlight: 1, MaxWait: time.Hour,
		Logger:  slog.New(slog.NewJSONHandler(w.logs, nil)),
		Metrics: w.metrics,
		Now:     func() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) },
	}
	return w
}

func amiEvent(t *testing.T, fn func(ev map[string]any)) json.RawMessage {
	t.Helper()
	return edit(t, "publish-ami-available", func(ev map[string]any) {
		detail(ev)["ImageId"] = amiNew
		if fn != nil {
			fn(ev)
		}
	})
}

func (w *world) publish(t *testing.T, raw json.RawMessage) Result {
	t.Helper()
	res, err := w.svc.ImagePublished(context.Background(), raw)
	if err != nil {
		t.Fatalf("ImagePublished: %v\nlogs:\n%s", err, w.logs)
	}
	return res
}

// campaign decodes the one campaign started.
func (w *world) campaign(t *testing.T) Campaign {
	t.Helper()
	if len(w.starter.started) != 1 {
		t.Fatalf("%d campaigns started, want 1", len(w.starter.started))
	}
	var c Campaign
	for _, in := range w.starter.started {
		if err := json.Unmarshal(in, &c); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// metric returns the values of the named metric in the EMF lines, and
// the dimension values of each.
func (w *world) metric(t *testing.T, name string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(w.metrics.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("metric line %q is not JSON: %v", line, err)
		}
		if _, ok := m["_aws"]; !ok {
			t.Fatalf("metric line %q has no _aws directive", line)
		}
		if m[name] == float64(1) {
			out = append(out, m)
		}
	}
	return out
}

func groupsOf(c Campaign) string {
	var batches []string
	for _, b := range c.Batches {
		var names []string
		for _, r := range b.Rollouts {
			names = append(names, r.Input.Request.Group.Name)
		}
		batches = append(batches, fmt.Sprintf("%d:%s", b.Wave, strings.Join(names, "+")))
	}
	return strings.Join(batches, " ")
}

func TestAPublishedImageStartsOneCampaignOverItsGroupsInWaves(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	res := w.publish(t, amiEvent(t, nil))
	if res.Outcome != OutcomeStarted || res.Image == nil || res.Image.ID() != amiNew || res.Campaign != CampaignName(region, amiNew) {
		t.Fatalf("result %+v", res)
	}
	c := w.campaign(t)
	if got := groupsOf(c); got != "0:canary 1:web-a 1:web-b" {
		t.Fatalf("campaign batches %q", got)
	}
	if len(w.metric(t, MetricStarted)) != 1 || len(w.notes.Sent()) != 0 {
		t.Fatalf("metrics %s notices %v", w.metrics, w.notes.DetailTypes())
	}
	if !strings.Contains(w.logs.String(), `"msg":"started campaign"`) || !strings.Contains(w.logs.String(), `"imageId":"`+amiNew+`"`) {
		t.Errorf("the start is not logged with the image id:\n%s", w.logs)
	}
}

func TestABlueGreenPairTakesTheImageAsOneRolloutUnderItsFirstGroup(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.images.groups = append(w.images.groups, member("web-green", "web", nil), member("web-blue", "web", nil))
	// The pair's rollout holds both groups; the ledger finds it under the
	// first group by name, where the gate and the supersede rules look.
	res := w.publish(t, amiEvent(t, nil))
	if res.Outcome != OutcomeStarted {
		t.Fatalf("result %+v", res)
	}
	c := w.campaign(t)
	if got := groupsOf(c); got != "0:canary 1:web-a 1:web-b 1:web-blue" {
		t.Fatalf("campaign batches %q; want the pair once, under web-blue", got)
	}
	var pair *GroupOutcome
	for i, g := range res.Groups {
		if g.Group.Name == "web-green" {
			t.Errorf("the pair's second group has an outcome of its own: %+v", g)
		}
		if g.Pair != nil {
			pair = &res.Groups[i]
		}
	}
	if pair == nil || pair.Group.Name != "web-blue" || pair.Action != ActionRoll || pair.Pair.String() != "pair web (web-blue, web-green)" {
		t.Fatalf("the pair's outcome %+v", pair)
	}
	if want := "into 3 groups and pair web (web-blue, web-green) in 2 waves"; !strings.Contains(res.Reason, want) {
		t.Errorf("reason %q does not say %q", res.Reason, want)
	}
	if !strings.Contains(w.logs.String(), `"pairs":1`) {
		t.Errorf("the campaign's start does not count the pair:\n%s", w.logs)
	}
}

func TestADuplicateOrLateEventNeverStartsASecondCampaign(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	raw := amiEvent(t, nil)
	first := w.publish(t, raw)
	// The canary's rollout started meanwhile: a late copy sees it running.
	c := w.campaign(t)
	canary := c.Batches[0].Rollouts[0]
	ctx := context.Background()
	if _, err := w.ledger.PutRollout(ctx, rollout.Rollout{ID: canary.Name, Group: key("canary"), Mode: rollout.ModeImage, Status: rollout.StatusRefreshing, To: rollout.Version{ImageID: amiNew}}); err != nil {
		t.Fatal(err)
	}
	if err := w.ledger.AcquireLease(ctx, rollout.Lease{Group: key("canary"), Owner: canary.Name, ExpiresAt: w.svc.Now().Add(time.Hour)}, w.svc.Now()); err != nil {
		t.Fatal(err)
	}
	second := w.publish(t, raw)
	if first.Outcome != OutcomeStarted || second.Outcome != OutcomeDuplicate || second.ExecutionARN != first.ExecutionARN {
		t.Fatalf("first %s, second %s (%s)", first.Outcome, second.Outcome, second.Reason)
	}
	if len(w.starter.started) != 1 || len(w.metric(t, MetricDuplicate)) != 1 {
		t.Fatalf("%d campaigns, metrics %s", len(w.starter.started), w.metrics)
	}
	for _, g := range second.Groups {
		if g.Group.Name == "canary" && g.Action != ActionDrop {
			t.Errorf("the canary's own rollout was not recognised: %+v", g)
		}
	}
	// Another event for the same image (its parameter changed) names the
	// same campaign: still one.
	other := amiEvent(t, func(ev map[string]any) { ev["id"] = "another-event-for-the-same-image" })
	if res := w.publish(t, other); res.Outcome != OutcomeDuplicate || len(w.starter.started) != 1 {
		t.Fatalf("a second event for the image: %s, %d campaigns", res.Outcome, len(w.starter.started))
	}
}

func TestRejectedEventsChangeNothingAndSayWhyLoudly(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		setup func(w *world)
		raw   func(t *testing.T) json.RawMessage
		code  string
		says  string
	}{
		{"malformed JSON", nil, func(*testing.T) json.RawMessage { return json.RawMessage(`{"id": "x", "source":`) }, CodeMalformed, "not a JSON event"},
		{"a missing field", nil, func(t *testing.T) json.RawMessage {
			return amiEvent(t, func(ev map[string]any) { delete(detail(ev), "ImageId") })
		}, CodeMalformed, "ImageId"},
		{"an unknown image", nil, func(t *testing.T) json.RawMessage {
			return amiEvent(t, func(ev map[string]any) { detail(ev)["ImageId"] = "ami-0ffffffffffffffff" })
		}, CodeUnknownImage, "shows no image ami-0ffffffffffffffff"},
		{"a foreign owner", func(w *world) {
			im := w.images.images[amiNew]
			im.OwnerID = foreign
			w.images.images[amiNew] = im
		}, func(t *testing.T) json.RawMessage { return amiEvent(t, nil) }, CodeForeignOwner, "owned by account " + foreign},
		{"a missing required tag", func(w *world) {
			im := w.images.images[amiNew]
			im.Tags = map[string]string{TagRole: "web"}
			w.images.images[amiNew] = im
		}, func(t *testing.T) json.RawMessage { return amiEvent(t, nil) }, CodeMissingTag, "lacks the required tag phoenix:approved"},
		{"a wrong architecture for every group", func(w *world) {
			im := w.images.images[amiNew]
			im.Architecture = "arm64"
			w.images.images[amiNew] = im
		}, func(t *testing.T) json.RawMessage { return amiEvent(t, nil) }, CodeNoEligible, "is arm64 but instance type"},
		{"a deregistered image", func(w *world) {
			im := w.images.images[amiNew]
			im.State = "deregistered"
			w.images.images[amiNew] = im
		}, func(t *testing.T) json.RawMessage { return amiEvent(t, nil) }, CodeNotAvailable, "is deregistered"},
		{"another region", nil, func(t *testing.T) json.RawMessage {
			return amiEvent(t, func(ev map[string]any) { ev["region"] = "eu-west-1" })
		}, CodeOtherRegion, "came from eu-west-1"},
		{"an Image Builder build Image Builder does not know", nil, func(t *testing.T) json.RawMessage {
			return sample(t, "publish-imagebuilder-available")
		}, CodeUnknownImage, "does not know image build"},
		{"a parameter that holds no AMI id", func(w *world) {
			w.images.params["/phoenix/web/ami"] = Parameter{Name: "/phoenix/web/ami", Value: "latest", DataType: DataTypeImage}
		}, func(t *testing.T) json.RawMessage { return sample(t, "publish-parameter-update") }, CodeUnknownImage, "not an AMI id"},
		{"a near miss the rule should have filtered", nil, func(t *testing.T) json.RawMessage {
			return sample(t, "publish-nearmiss-parameter-delete")
		}, CodeMalformed, "Delete"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			if c.setup != nil {
				c.setup(w)
			}
			res := w.publish(t, c.raw(t))
			if res.Outcome != OutcomeRejected || len(res.Rejections) == 0 || res.Rejections[0].Code != c.code || !strings.Contains(res.Reason, c.says) {
				t.Fatalf("result %s %+v, want a %s rejection saying %q", res.Outcome, res.Rejections, c.code, c.says)
			}
			if len(w.starter.started) != 0 || len(w.queue.m) != 0 {
				t.Fatalf("a rejection changed something: %d campaigns, %d queued", len(w.starter.started), len(w.queue.m))
			}
			notes := w.notes.Sent()
			if len(notes) != 1 || notes[0].DetailType != DetailRejected || notes[0].Severity != "warning" || !strings.Contains(notes[0].Message, c.says) {
				t.Fatalf("notices %+v", notes)
			}
			m := w.metric(t, MetricRejected)
			if len(m) != 1 || m[0]["Code"] != c.code {
				t.Fatalf("metric lines %s", w.metrics)
			}
			if !strings.Contains(w.logs.String(), `"msg":"image rejected"`) {
				t.Errorf("the rejection is not logged:\n%s", w.logs)
			}
		})
	}
}

func TestImagesForNoGroupAreIgnoredQuietly(t *testing.T) {
	t.Parallel()
	for name, tags := range map[string]map[string]string{
		"an image without a role":       {"phoenix:approved": "true"},
		"an image of a role nobody has": {"phoenix:approved": "true", TagRole: "batch"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			im := w.images.images[amiNew]
			im.Tags = tags
			w.images.images[amiNew] = im
			res := w.publish(t, amiEvent(t, nil))
			if res.Outcome != OutcomeIgnored || len(w.starter.started) != 0 || len(w.notes.Sent()) != 0 || len(w.metric(t, MetricIgnored)) != 1 {
				t.Fatalf("result %+v, notices %v, metrics %s", res, w.notes.DetailTypes(), w.metrics)
			}
		})
	}
}

func TestBusyGroupsQueueTheImageAndNewerLastKnownGoodsDropIt(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	now := w.svc.Now()
	// web-a is mid-rollout of an older image; web-b already runs a newer
	// one; the canary is idle.
	if _, err := w.ledger.PutRollout(ctx, rollout.Rollout{ID: "r-old", Group: key("web-a"), Mode: rollout.ModeImage, Status: rollout.StatusRefreshing, To: rollout.Version{ImageID: amiOld}}); err != nil {
		t.Fatal(err)
	}
	if err := w.ledger.AcquireLease(ctx, rollout.Lease{Group: key("web-a"), Owner: "r-old", ExpiresAt: now.Add(time.Hour)}, now); err != nil {
		t.Fatal(err)
	}
	if err := w.ledger.SetLastKnownGood(ctx, key("web-b"), rollout.Version{LaunchTemplateID: "lt-1", Number: 7, ImageID: amiTop}, "r-top", now); err != nil {
		t.Fatal(err)
	}
	res := w.publish(t, amiEvent(t, nil))
	actions := map[string]Action{}
	for _, g := range res.Groups {
		actions[g.Group.Name] = g.Action
	}
	if actions["canary"] != ActionRoll || actions["web-a"] != ActionQueue || actions["web-b"] != ActionDrop {
		t.Fatalf("actions %v (%+v)", actions, res.Groups)
	}
	if got := groupsOf(w.campaign(t)); got != "0:canary 1:web-a" {
		t.Fatalf("campaign batches %q: the queued group waits at its gate, the dropped one is out", got)
	}
	if q, ok, _ := w.queue.Get(ctx, key("web-a"), now); !ok || q.Image.ImageID != amiNew {
		t.Fatalf("web-a queue %+v %v", q, ok)
	}
}

func TestEveryGroupAlreadyNewerMeansNothingRolls(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for _, g := range []string{"canary", "web-a", "web-b"} {
		if err := w.ledger.SetLastKnownGood(context.Background(), key(g), rollout.Version{ImageID: amiTop, Number: 3}, "r", w.svc.Now()); err != nil {
			t.Fatal(err)
		}
	}
	res := w.publish(t, amiEvent(t, nil))
	if res.Outcome != OutcomeNotRolled || len(w.starter.started) != 0 || len(w.metric(t, MetricNoRoll)) != 1 {
		t.Fatalf("result %+v", res)
	}
}

func TestTransientFailuresReturnTheTypedErrorUnwrapped(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.images.failAll = &rollout.TransientError{Op: "describe images", Err: errors.New("Throttling")}
	_, err := w.svc.ImagePublished(context.Background(), amiEvent(t, nil))
	// aws-lambda-go reports the outermost error's type as errorType.
	if fmt.Sprintf("%T", err) != "*rollout.TransientError" {
		t.Fatalf("got %T %v, want *rollout.TransientError itself", err, err)
	}
	if len(w.notes.Sent()) != 0 || len(w.starter.started) != 0 {
		t.Fatal("a transient failure was reported as a rejection")
	}
}

func TestTheGateRollsWaitsOrDropsAtTheGroupsTurn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	in := func(group string) GateCall {
		return GateCall{Gate: GateInput{RolloutID: RolloutName("ev-1", key(group)), Group: key(group),
			Image: KnownImage{ImageID: amiNew, CreatedAt: goodImage().CreatedAt}, EventID: "ev-1", MaxWaitSeconds: 3600},
			Decision: GateDecision{Action: gatePending}, Now: now}
	}
	t.Run("an idle group rolls and leaves nothing queued", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		if _, err := w.queue.Offer(ctx, key("web-b"), Queued{Image: KnownImage{ImageID: amiNew, CreatedAt: goodImage().CreatedAt}, EventID: "ev-1", ExpiresAt: now.Add(time.Hour)}, now); err != nil {
			t.Fatal(err)
		}
		d, err := w.svc.Gate(ctx, in("web-b"))
		if err != nil || d.Action != GateRoll {
			t.Fatalf("got %+v, %v", d, err)
		}
		if _, ok, _ := w.queue.Get(ctx, key("web-b"), now); ok {
			t.Fatal("the rolled image is still queued")
		}
	})
	t.Run("a busy group waits with its image queued, then stops the campaign after the limit", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		if _, err := w.ledger.PutRollout(ctx, rollout.Rollout{ID: "r-rev", Group: key("web-a"), Mode: rollout.ModeImage, Status: rollout.StatusReverting, To: rollout.Version{ImageID: amiOld}}); err != nil {
			t.Fatal(err)
		}
		if err := w.ledger.AcquireLease(ctx, rollout.Lease{Group: key("web-a"), Owner: "r-rev", ExpiresAt: now.Add(6 * time.Hour)}, now); err != nil {
			t.Fatal(err)
		}
		call := in("web-a")
		d, err := w.svc.Gate(ctx, call)
		if err != nil || d.Action != GateWait || !d.WaitingSince.Equal(now) || !strings.Contains(d.Reason, "never cancelled") {
			t.Fatalf("first call %+v, %v", d, err)
		}
		if q, ok, _ := w.queue.Get(ctx, key("web-a"), now); !ok || q.Image.ImageID != amiNew {
			t.Fatal("the waiting image is not queued")
		}
		call.Decision, call.Now = d, now.Add(time.Hour)
		d, err = w.svc.Gate(ctx, call)
		if err != nil || d.Action != GateStop {
			t.Fatalf("after an hour %+v, %v", d, err)
		}
	})
	t.Run("a group that got a newer image from another campaign drops this one", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		if err := w.ledger.SetLastKnownGood(ctx, key("web-b"), rollout.Version{ImageID: amiTop, Number: 9}, "r-top", now); err != nil {
			t.Fatal(err)
		}
		d, err := w.svc.Gate(ctx, in("web-b"))
		if err != nil || d.Action != GateDrop {
			t.Fatalf("got %+v, %v", d, err)
		}
	})
	t.Run("a payload without now or ids is bad input, returned unwrapped", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		bad := in("web-b")
		bad.Now = time.Time{}
		if _, err := w.svc.Gate(ctx, bad); !isBadInput(err) {
			t.Fatalf("got %T %v", err, err)
		}
		bad = in("web-b")
		bad.Gate.Image.ImageID = "latest"
		if _, err := w.svc.Gate(ctx, bad); !isBadInput(err) {
			t.Fatalf("got %T %v", err, err)
		}
	})
	t.Run("a gate payload sent to the event handler is a malformed event, never a gate", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		raw, err := json.Marshal(in("canary"))
		if err != nil {
			t.Fatal(err)
		}
		res, err := w.svc.ImagePublished(ctx, raw)
		if err != nil || res.Outcome != OutcomeRejected || len(res.Rejections) != 1 || res.Rejections[0].Code != CodeMalformed {
			t.Fatalf("got %+v, %v; want a rejected malformed event", res, err)
		}
		if _, queued, err := w.queue.Get(ctx, key("canary"), now); err != nil || queued || len(w.starter.started) != 0 {
			t.Fatalf("the payload queued (%v, %v) or started %v", queued, err, w.starter.started)
		}
	})
}

// isBadInput reports whether err is a *rollout.BadInputError itself, not
// wrapped: the state machine matches the outermost error's type.
func isBadInput(err error) bool {
	return fmt.Sprintf("%T", err) == "*rollout.BadInputError"
}
