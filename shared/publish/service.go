package publish

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/emf"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// DetailRejected is the detail-type of the notice sent when a published
// image is rejected: it changes nothing, but somebody published an image
// Phoenix will not roll and should know.
const DetailRejected = "Phoenix Image Rejected"

// MetricNamespace is the CloudWatch namespace of Phoenix's publishing
// metrics.
const MetricNamespace = emf.Namespace

// Metric names (docs/publish.md, "Metrics").
const (
	MetricRejected  = "ImagesRejected"
	MetricIgnored   = "ImagesIgnored"
	MetricStarted   = "CampaignsStarted"
	MetricDuplicate = "DuplicateEvents"
	MetricNoRoll    = "ImagesNotRolled"
)

// Service holds the two handlers of the publishing path, each the entry
// point of its own function with its own role: ImagePublished, the
// image-published function (the three publishing events), and Gate, the
// campaign-gate function (the campaign's Gate state), which uses only
// Images.Image, Ledger, Queue, MaxWait and the logging fields.
type Service struct {
	Images    Images
	Ledger    Ledger
	Queue     Queue
	Campaigns Starter
	Notifier  rollout.Notifier
	Policy    Policy
	// MaxInFlight is how many groups of a wave roll at once.
	MaxInFlight int
	// MaxWait bounds how long a campaign waits for a busy group.
	MaxWait time.Duration
	Logger  *slog.Logger
	// Metrics receives CloudWatch embedded metric format lines; in Lambda
	// that is stdout, which CloudWatch Logs turns into metrics.
	Metrics io.Writer
	// Now stamps the metric of an event that has no readable time; it is
	// never used to decide anything.
	Now func() time.Time
	// ContextAttrs, when set, adds invocation attributes (request id,
	// trace id) to every log line.
	ContextAttrs func(context.Context) []any
}

// Outcome is what the handler did with an event.
type Outcome string

// The outcomes.
const (
	// OutcomeStarted: a campaign execution was started.
	OutcomeStarted Outcome = "started"
	// OutcomeDuplicate: the image's campaign exists already.
	OutcomeDuplicate Outcome = "duplicate"
	// OutcomeRejected: the event or the image failed a check; nothing
	// changed, and a notice was sent.
	OutcomeRejected Outcome = "rejected"
	// OutcomeIgnored: the image is for no group here (no role, or no
	// enabled group of its role).
	OutcomeIgnored Outcome = "ignored"
	// OutcomeNotRolled: groups take the image, but every one already runs
	// it or something newer.
	OutcomeNotRolled Outcome = "not-rolled"
)

// Result is the handler's answer, also logged: what it decided and why.
type Result struct {
	EventID      string         `json:"eventId,omitempty"`
	Kind         Kind           `json:"kind,omitempty"`
	Outcome      Outcome        `json:"outcome"`
	Reason       string         `json:"reason,omitempty"`
	Rejections   []Rejection    `json:"rejections,omitempty"`
	Image        *Image         `json:"image,omitempty"`
	Campaign     string         `json:"campaign,omitempty"`
	ExecutionARN string         `json:"executionArn,omitempty"`
	Groups       []GroupOutcome `json:"groups,omitempty"`
}

// GroupOutcome is what the handler decided for one group, or for one
// blue/green pair under its first group by name (Pair names both).
type GroupOutcome struct {
	Group  rollout.GroupKey `json:"target"`
	Wave   int              `json:"wave"`
	Action Action           `json:"action"`
	Reason string           `json:"reason"`
	Pair   *PairUnit        `json:"pair,omitempty"`
}

// ImagePublished handles one publishing event: parse, read the image,
// check its provenance, choose the groups and their waves, decide per group
// (roll, queue or drop) and start the image's campaign. A rejected event
// changes nothing and is logged, counted and notified; it returns no
// error, because a retry could never make it acceptable. Throttling and
// server faults return *rollout.TransientError, unwrapped, so Lambda
// retries the event.
func (s Service) ImagePublished(ctx context.Context, raw json.RawMessage) (Result, error) {
	log := s.baseLogger(ctx).With("handler", "image-published")
	res, err := s.imagePublished(ctx, log, raw)
	return res, rollout.Boundary(log, "image-published", err)
}

func (s Service) imagePublished(ctx context.Context, log *slog.Logger, raw json.RawMessage) (Result, error) {
	ev, err := ParseEvent(raw)
	if err != nil {
		return s.reject(ctx, log, Result{EventID: rawEventID(raw)}, rawEventTime(raw, s.now), "", []Rejection{{CodeMalformed, err.Error()}})
	}
	log = log.With("eventId", ev.ID, "kind", string(ev.Kind), "ref", ev.Ref, "region", ev.Region)
	res := Result{EventID: ev.ID, Kind: ev.Kind}
	if ev.Region != s.Policy.Region {
		return s.reject(ctx, log, res, ev.Time, "", []Rejection{{CodeOtherRegion,
			fmt.Sprintf("The event came from %s, but Phoenix here rolls groups in %s.", ev.Region, s.Policy.Region)}})
	}
	img, rej, err := s.resolve(ctx, ev)
	if err != nil {
		return res, err
	}
	if rej != nil {
		return s.reject(ctx, log, res, ev.Time, "", []Rejection{*rej})
	}
	res.Image = &img
	log = log.With("imageId", img.ID(), "imageName", img.Name, "owner", img.Owner, "createdAt", img.CreatedAt)
	if rejs := s.Policy.Check(img); len(rejs) > 0 {
		return s.reject(ctx, log, res, ev.Time, img.ID(), rejs)
	}
	cands, err := s.Images.Candidates(ctx, ev.Region)
	if err != nil {
		return res, fmt.Errorf("list candidate groups in %s: %w", ev.Region, err)
	}
	interested := Interested(img, cands)
	if len(interested) == 0 {
		why := fmt.Sprintf("No group tagged %s=true has %s=%q.", rollout.TagEnabled, TagRole, Role(img.Tags))
		if Role(img.Tags) == "" {
			why = fmt.Sprintf("Image %s has no %s tag, so no group takes it.", img.ID(), TagRole)
		}
		res.Outcome, res.Reason = OutcomeIgnored, why
		log.Info("image ignored", "reason", why)
		s.metric(MetricIgnored, ev.Time, ev)
		return res, nil
	}
	archs, err := s.Images.Architectures(ctx, ev.Region, InstanceTypes(interested))
	if err != nil {
		return res, fmt.Errorf("describe instance types in %s: %w", ev.Region, err)
	}
	targets, skips := Targets(img, cands, archs)
	for _, sk := range skips {
		res.Groups = append(res.Groups, GroupOutcome{Group: sk.Group, Action: ActionSkip, Reason: sk.Reason, Pair: sk.Pair})
		log.Warn("group skipped", append([]any{"group", sk.Group.Name, "reason", sk.Reason}, pairAttrs(sk.Pair)...)...)
	}
	if len(targets) == 0 {
		var reasons []string
		for _, sk := range skips {
			reasons = append(reasons, sk.Reason)
		}
		return s.reject(ctx, log, res, ev.Time, img.ID(), []Rejection{{CodeNoEligible,
			fmt.Sprintf("Every group of role %q is unable to take image %s: %s.", Role(img.Tags), img.ID(), strings.Join(reasons, "; "))}})
	}
	if len(targets) > MaxCampaignGroups {
		return s.reject(ctx, log, res, ev.Time, img.ID(), []Rejection{{CodeUnsupported,
			fmt.Sprintf("%s take image %s; one campaign rolls at most %d. Split the role.", UnitsText(targets), img.ID(), MaxCampaignGroups)}})
	}
	ref := KnownImage{ImageID: img.ID(), CreatedAt: img.CreatedAt}
	var planned []Target
	for _, t := range targets {
		d, err := s.decide(ctx, log, t.Group, RolloutName(ev.ID, t.Group), ref, ev.ID, ev.Time)
		if err != nil {
			return res, err
		}
		res.Groups = append(res.Groups, GroupOutcome{Group: t.Group, Wave: t.Wave, Action: d.Action, Reason: d.Reason, Pair: t.Pair})
		if d.Action != ActionDrop {
			planned = append(planned, t)
		}
	}
	if len(planned) == 0 {
		res.Outcome, res.Reason = OutcomeNotRolled, "Every group that takes the image already runs it, or something newer."
		log.Info("image not rolled", "reason", res.Reason)
		s.metric(MetricNoRoll, ev.Time, ev)
		return res, nil
	}
	plan := PlanWaves(planned, s.MaxInFlight)
	c := BuildCampaign(img, plan, s.MaxInFlight, s.maxWait())
	body, err := json.Marshal(c)
	if err != nil {
		return res, fmt.Errorf("encode campaign %s: %w", c.Info.ID, err)
	}
	arn, started, err := s.Campaigns.Start(ctx, c.Info.ID, body)
	if err != nil {
		return res, fmt.Errorf("start campaign %s: %w", c.Info.ID, err)
	}
	res.Campaign, res.ExecutionARN = c.Info.ID, arn
	if !started {
		res.Outcome, res.Reason = OutcomeDuplicate, fmt.Sprintf("Campaign %s for image %s exists already.", c.Info.ID, img.ID())
		log.Info("campaign exists already; event is a duplicate", "campaign", c.Info.ID, "execution", arn)
		s.metric(MetricDuplicate, ev.Time, ev)
		return res, nil
	}
	res.Outcome = OutcomeStarted
	res.Reason = fmt.Sprintf("Campaign %s rolls %s into %s in %d waves, at most %d at once.", c.Info.ID, img.ID(), UnitsText(planned), len(plan.Waves), c.Info.MaxInFlight)
	log.Info("started campaign", "campaign", c.Info.ID, "execution", arn, "groups", plan.Len(), "pairs", pairCount(planned), "waves", len(plan.Waves), "batches", len(plan.Batches))
	s.metric(MetricStarted, ev.Time, ev)
	return res, nil
}

// pairAttrs are the log attributes of a pair taken as one unit; none for
// a group.
func pairAttrs(p *PairUnit) []any {
	if p == nil {
		return nil
	}
	return []any{"pair", p.Name, "pairGroups", p.Groups}
}

// pairCount counts the blue/green pairs among targets.
func pairCount(targets []Target) int {
	n := 0
	for _, t := range targets {
		if t.Pair != nil {
			n++
		}
	}
	return n
}

// resolve reads the image an event announces. A missing build, parameter
// or image, and what Normalize refuses, come back as a rejection.
func (s Service) resolve(ctx context.Context, ev Event) (Image, *Rejection, error) {
	var (
		build   *Build
		param   *Parameter
		imageID string
	)
	switch ev.Kind {
	case KindImageBuilder:
		b, err := s.Images.Build(ctx, ev.Region, ev.Ref)
		if rej, err := rejectMissing(err, CodeUnknownImage, "Image Builder does not know image build "+ev.Ref+"."); rej != nil || err != nil {
			return Image{}, rej, err
		}
		id, err := BuildImageID(b, ev.Region)
		if rej, err := asRejection(CodeUnknownImage, err); rej != nil || err != nil {
			return Image{}, rej, err
		}
		build, imageID = &b, id
	case KindParameter:
		p, err := s.Images.Parameter(ctx, ev.Region, ev.Ref)
		if rej, err := rejectMissing(err, CodeUnknownImage, "Parameter "+ev.Ref+" does not exist (deleted since the event?)."); rej != nil || err != nil {
			return Image{}, rej, err
		}
		id, err := ParameterImageID(p)
		if rej, err := asRejection(CodeUnknownImage, err); rej != nil || err != nil {
			return Image{}, rej, err
		}
		param, imageID = &p, id
	default:
		imageID = ev.Ref
	}
	ami, err := s.Images.Image(ctx, ev.Region, imageID)
	if rej, err := rejectMissing(err, CodeUnknownImage, fmt.Sprintf("EC2 shows no image %s in %s to this account (unknown, deregistered, or not shared).", imageID, ev.Region)); rej != nil || err != nil {
		return Image{}, rej, err
	}
	img, err := Normalize(ev, build, param, ami)
	if rej, err := asRejection(CodeUnknownImage, err); rej != nil || err != nil {
		return Image{}, rej, err
	}
	return img, nil, nil
}

// asRejection turns a *rollout.BadInputError into a rejection with code;
// any other error is returned as it is.
func asRejection(code string, err error) (*Rejection, error) {
	var bad *rollout.BadInputError
	if errors.As(err, &bad) {
		return &Rejection{code, bad.Reason}, nil
	}
	return nil, err
}

// rejectMissing turns a *rollout.NotFoundError into a rejection and wraps
// any other error for the caller.
func rejectMissing(err error, code, reason string) (*Rejection, error) {
	var nf *rollout.NotFoundError
	switch {
	case err == nil:
		return nil, nil
	case errors.As(err, &nf):
		return &Rejection{code, reason}, nil
	}
	return nil, err
}

// decide reads the group's state and applies Decide; an image to queue is
// offered to the queue, and dropped if a newer one got there first.
func (s Service) decide(ctx context.Context, log *slog.Logger, key rollout.GroupKey, rolloutID string, img KnownImage, eventID string, now time.Time) (Decision, error) {
	st, err := s.groupState(ctx, key, rolloutID, now)
	if err != nil {
		return Decision{}, err
	}
	d := Decide(img, st)
	if d.Action != ActionQueue {
		return d, nil
	}
	kept, err := s.Queue.Offer(ctx, key, Queued{Image: img, EventID: eventID, ExpiresAt: now.Add(s.maxWait())}, now)
	if err != nil {
		return Decision{}, fmt.Errorf("queue %s for %s: %w", img.ImageID, key, err)
	}
	if !kept {
		return Decision{ActionDrop, "A newer image was queued for the group meanwhile; only the newest queued image rolls."}, nil
	}
	log.Info("queued image behind the group's rollout", "group", key.Name, "rolloutId", rolloutID, "reason", d.Reason)
	return d, nil
}

// groupState reads what Decide needs: whether the rollout exists already,
// the active rollout, the last-known-good and the queued image, with the
// creation times of their images.
func (s Service) groupState(ctx context.Context, key rollout.GroupKey, rolloutID string, now time.Time) (GroupState, error) {
	var st GroupState
	_, err := s.Ledger.GetRollout(ctx, rolloutID)
	var nf *rollout.NotFoundError
	switch {
	case err == nil:
		st.Started = true
		return st, nil
	case !errors.As(err, &nf):
		return st, fmt.Errorf("read rollout %s: %w", rolloutID, err)
	}
	active, found, err := s.Ledger.ActiveRollout(ctx, key)
	if err != nil {
		return st, fmt.Errorf("active rollout of %s: %w", key, err)
	}
	if found && !active.Status.Terminal() {
		ki, err := s.known(ctx, key.Region, active.To.ImageID)
		if err != nil {
			return st, err
		}
		st.Active = &Active{ID: active.ID, Mode: active.Mode, Status: active.Status, Image: ki}
	}
	v, _, ok, err := s.Ledger.LastKnownGood(ctx, key)
	if err != nil {
		return st, fmt.Errorf("last-known-good of %s: %w", key, err)
	}
	if ok && v.ImageID != "" {
		ki, err := s.known(ctx, key.Region, v.ImageID)
		if err != nil {
			return st, err
		}
		st.LastKnownGood = &ki
	}
	q, ok, err := s.Queue.Get(ctx, key, now)
	if err != nil {
		return st, fmt.Errorf("queued image of %s: %w", key, err)
	}
	if ok {
		st.Queued = &q.Image
	}
	return st, nil
}

// known reads an image's creation time; an image EC2 no longer shows keeps
// its id with an unknown time.
func (s Service) known(ctx context.Context, region, imageID string) (KnownImage, error) {
	if imageID == "" {
		return KnownImage{}, nil
	}
	img, err := s.Images.Image(ctx, region, imageID)
	var nf *rollout.NotFoundError
	switch {
	case err == nil:
		return KnownImage{ImageID: imageID, CreatedAt: img.CreatedAt.UTC()}, nil
	case errors.As(err, &nf):
		return KnownImage{ImageID: imageID}, nil
	}
	return KnownImage{}, fmt.Errorf("describe image %s: %w", imageID, err)
}

// Gate decides, when a group's turn comes in a campaign, whether its
// rollout starts now, waits for the group's current rollout to end, is
// dropped (the group has something newer, or this rollout exists), or
// stops the campaign (it waited too long). The ledger may have changed
// since the event: another campaign may have rolled a newer image, or a
// revert may have begun. A payload without its time or ids is
// *rollout.BadInputError.
func (s Service) Gate(ctx context.Context, in GateCall) (GateDecision, error) {
	g := in.Gate
	log := s.baseLogger(ctx).With("handler", "gate", "rolloutId", g.RolloutID, "group", g.Group.Name, "region", g.Group.Region,
		"imageId", g.Image.ImageID, "eventId", g.EventID)
	d, err := s.gate(ctx, log, in)
	return d, rollout.Boundary(log, "campaign-gate", err)
}

func (s Service) gate(ctx context.Context, log *slog.Logger, in GateCall) (GateDecision, error) {
	g := in.Gate
	switch {
	case in.Now.IsZero():
		return GateDecision{}, &rollout.BadInputError{Reason: "the gate payload has no \"now\" ($$.State.EnteredTime)"}
	case g.RolloutID == "" || g.Group.Name == "" || g.Group.Region == "" || !ValidImageID(g.Image.ImageID) || g.EventID == "":
		return GateDecision{}, &rollout.BadInputError{Reason: "the gate needs rolloutId, target region and group, image.imageId and eventId"}
	}
	d, err := s.decide(ctx, log, g.Group, g.RolloutID, g.Image, g.EventID, in.Now)
	if err != nil {
		return GateDecision{}, err
	}
	ans := GateAnswer(in, d)
	if ans.Action == GateRoll {
		if err := s.Queue.Remove(ctx, g.Group, g.Image.ImageID); err != nil {
			return GateDecision{}, fmt.Errorf("unqueue %s for %s: %w", g.Image.ImageID, g.Group, err)
		}
	}
	log.Info("gate decided", "action", ans.Action, "reason", ans.Reason)
	return ans, nil
}

// reject ends an event that fails a check: nothing changes; the rejection
// is logged, counted and notified.
func (s Service) reject(ctx context.Context, log *slog.Logger, res Result, at time.Time, imageID string, rejs []Rejection) (Result, error) {
	res.Outcome, res.Rejections = OutcomeRejected, rejs
	var reasons []string
	for _, r := range rejs {
		reasons = append(reasons, r.Reason)
	}
	res.Reason = strings.Join(reasons, " ")
	log.Warn("image rejected", "code", rejs[0].Code, "reason", res.Reason)
	s.metricCode(MetricRejected, at, res.EventID, string(res.Kind), rejs[0].Code)
	subject := "Phoenix rejected a published image"
	if imageID != "" {
		subject = "Phoenix rejected image " + imageID
	}
	note := rollout.Notification{
		DetailType: DetailRejected, Subject: subject, Severity: "warning",
		Message: fmt.Sprintf("Phoenix did not roll the image announced by event %s, and changed nothing: %s", orNone(res.EventID), res.Reason),
		Rollout: rollout.Rollout{Group: rollout.GroupKey{Region: s.Policy.Region}, Mode: rollout.ModeImage, Status: rollout.StatusRefused,
			To: rollout.Version{ImageID: imageID}, Reason: res.Reason,
			Trigger: rollout.Trigger{Kind: TriggerKind, Source: string(res.Kind), EventID: res.EventID}},
	}
	if err := s.Notifier.Notify(ctx, note); err != nil {
		return res, fmt.Errorf("notify rejection of event %s: %w", res.EventID, err)
	}
	return res, nil
}

func (s Service) maxWait() time.Duration {
	if s.MaxWait <= 0 {
		return DefaultMaxWait
	}
	return min(s.MaxWait, MaxMaxWait)
}

func (s Service) now() time.Time {
	if s.Now == nil {
		return time.Time{}
	}
	return s.Now()
}

// baseLogger returns the invocation's logger.
func (s Service) baseLogger(ctx context.Context) *slog.Logger {
	return rollout.InvocationLogger(ctx, s.Logger, s.ContextAttrs)
}

// rawEventID and rawEventTime read what they can of an event that did not
// parse, so that its rejection still carries an id and a time.
func rawEventID(raw []byte) string {
	var head struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &head) != nil || rollout.CheckEventID(head.ID) != nil {
		return ""
	}
	return head.ID
}

func rawEventTime(raw []byte, fallback func() time.Time) time.Time {
	var head struct {
		Time string `json:"time"`
	}
	if json.Unmarshal(raw, &head) == nil {
		if t, err := time.Parse(time.RFC3339, head.Time); err == nil {
			return t.UTC()
		}
	}
	return fallback()
}
