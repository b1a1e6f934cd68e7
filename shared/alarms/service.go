package alarms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// DetailHandled is the detail-type of the notification Phoenix sends about
// an alarm it acted on, or chose not to act on, for a group it manages.
const DetailHandled = "Phoenix Alarm Handled"

// TriggerKind is the trigger kind of the revert rollouts alarms start.
const TriggerKind = "alarm"

// severity of every alarm notification: an alarm fired on a managed group,
// which someone should look at whatever Phoenix did about it.
const severity = "warning"

// Service is the alarm-events function: the handler of "CloudWatch Alarm
// State Change" events.
type Service struct {
	Fleet    Fleet
	Ledger   Ledger
	Resumer  rollout.Resumer
	Notifier rollout.Notifier
	// Starter starts executions of the rollout state machine.
	Starter Starter
	// Defaults are the policy defaults that group tags overlay.
	Defaults rollout.Policy
	// Account, when set, is the only account whose alarm events are
	// acted on: the rule filters on it too, and an event from another
	// account's bus must not move this account's fleet.
	Account string
	Logger  *slog.Logger
	// ContextAttrs, when set, adds invocation attributes (request id,
	// trace id) to every log line.
	ContextAttrs func(context.Context) []any
}

// Outcome is what the handler made of an event.
type Outcome string

// The outcomes.
const (
	// OutcomeDropped: the event is not an alarm state change Phoenix can
	// read; nothing was done.
	OutcomeDropped Outcome = "dropped"
	// OutcomeIgnored: a transition into OK or INSUFFICIENT_DATA.
	OutcomeIgnored Outcome = "ignored"
	// OutcomeUnmapped: the alarm guards no group Phoenix manages.
	OutcomeUnmapped Outcome = "unmapped"
	// OutcomeHandled: the alarm guards groups Phoenix manages; Groups
	// says what was done for each.
	OutcomeHandled Outcome = "handled"
)

// Result is the handler's answer, also logged.
type Result struct {
	EventID string        `json:"eventId,omitempty"`
	Alarm   string        `json:"alarm,omitempty"`
	State   string        `json:"state,omitempty"`
	Outcome Outcome       `json:"outcome"`
	Reason  string        `json:"reason,omitempty"`
	Groups  []GroupResult `json:"groups,omitempty"`
	// Skipped are groups the alarm names that Phoenix does not manage.
	Skipped []Skip `json:"skipped,omitempty"`
}

// GroupResult is what the handler did for one group.
type GroupResult struct {
	Group  rollout.GroupKey `json:"target"`
	Via    []string         `json:"via"`
	Action Action           `json:"action"`
	Reason string           `json:"reason"`
	// RolloutID is the rollout concerned: the one signalled, or the
	// finalized one reverted or left alone.
	RolloutID string `json:"rolloutId,omitempty"`
	// RevertRolloutID and ExecutionARN are the revert rollout started.
	RevertRolloutID string `json:"revertRolloutId,omitempty"`
	ExecutionARN    string `json:"executionArn,omitempty"`
	// Duplicate is true when another alarm event took the action already
	// (a storm, a flap) and this one did nothing more, or when this
	// event's notice was sent by an earlier delivery.
	Duplicate bool `json:"duplicate,omitempty"`
	// Resumed is true when this event woke the rollout's parked task.
	Resumed bool `json:"resumed,omitempty"`
	// Notified is true when this invocation sent the notification.
	Notified bool `json:"notified,omitempty"`
}

// Handle handles one alarm state change event: parse it strictly (a bad
// event is dropped with a log line and no error, because a retry could
// never help), ignore transitions into OK or INSUFFICIENT_DATA, map the
// alarm to the groups it guards, and decide and act for each (Decide).
// Every action is claimed in the ledger first, so a storm of alarms,
// flapping and repeated deliveries take each action once and notify once.
// Throttling and server faults return *rollout.TransientError, unwrapped,
// so the event is retried; a retry redoes only what is missing.
func (s Service) Handle(ctx context.Context, raw json.RawMessage) (Result, error) {
	log := s.baseLogger(ctx)
	res, err := s.handle(ctx, log, raw)
	return res, rollout.Boundary(log, "alarm-events", err)
}

func (s Service) handle(ctx context.Context, log *slog.Logger, raw json.RawMessage) (Result, error) {
	ev, err := ParseEvent(raw)
	if err != nil {
		log.Warn("event dropped", "reason", err.Error())
		return Result{Outcome: OutcomeDropped, Reason: err.Error()}, nil
	}
	log = log.With("eventId", ev.ID, "alarm", ev.AlarmName, "alarmArn", ev.AlarmARN, "state", ev.State, "region", ev.Region)
	res := Result{EventID: ev.ID, Alarm: ev.AlarmName, State: ev.State}
	if s.Account != "" && ev.Account != s.Account {
		res.Outcome, res.Reason = OutcomeDropped, fmt.Sprintf("The event comes from account %s; Phoenix here acts on account %s's alarms only.", ev.Account, s.Account)
		log.Warn("event dropped", "account", ev.Account, "reason", res.Reason)
		return res, nil
	}
	if !ev.Actionable() {
		res.Outcome, res.Reason = OutcomeIgnored, fmt.Sprintf("The alarm went from %s to %s; Phoenix acts only on ALARM.", ev.PreviousState, ev.State)
		log.Info("event ignored", "previousState", ev.PreviousState, "reason", res.Reason)
		return res, nil
	}
	targets, skips, err := s.targets(ctx, log, ev)
	if err != nil {
		return res, err
	}
	res.Skipped = skips
	for _, sk := range skips {
		log.Info("alarm names a group Phoenix does not manage", "group", sk.Group.Name, "reason", sk.Reason)
	}
	if len(targets) == 0 {
		res.Outcome = OutcomeUnmapped
		res.Reason = fmt.Sprintf("No group Phoenix manages in %s is tagged %s listing alarm %s, and the alarm's %s tag names none.",
			ev.Region, rollout.TagAlarms, ev.AlarmName, TagGroup)
		log.Info("alarm guards no group Phoenix manages", "reason", res.Reason)
		return res, nil
	}
	res.Outcome = OutcomeHandled
	for _, t := range targets {
		gr, err := s.forGroup(ctx, log.With("group", t.Group.Name, "via", t.Via), ev, t)
		res.Groups = append(res.Groups, gr)
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// targets reads the alarm's phoenix:group tag and the groups tagged
// phoenix:alarms, and maps the alarm (Map).
func (s Service) targets(ctx context.Context, log *slog.Logger, ev Event) ([]Target, []Skip, error) {
	var (
		named *rollout.Group
		skips []Skip
	)
	tags, err := s.Fleet.AlarmTags(ctx, ev.Region, ev.AlarmARN)
	switch {
	case isNotFound(err):
		// Deleted since it fired: its tags are gone, group tags still map it.
		log.Info("the alarm no longer exists; only group tags map it")
	case err != nil:
		return nil, nil, fmt.Errorf("read tags of alarm %s: %w", ev.AlarmARN, err)
	default:
		name, ok, terr := GroupTag(tags)
		switch {
		case terr != nil:
			log.Warn("the alarm's group tag is unreadable; only group tags map it", "reason", terr.Error())
		case ok:
			key := rollout.GroupKey{Region: ev.Region, Name: name}
			g, err := s.Fleet.Group(ctx, key)
			switch {
			case isNotFound(err):
				skips = append(skips, Skip{Group: key, Reason: fmt.Sprintf("The alarm's %s tag names group %s, which does not exist.", TagGroup, key)})
			case err != nil:
				return nil, nil, fmt.Errorf("load group %s named by alarm %s: %w", key, ev.AlarmName, err)
			default:
				named = &g
			}
		}
	}
	listing, err := s.Fleet.GroupsTagged(ctx, ev.Region, rollout.TagAlarms)
	if err != nil {
		return nil, nil, fmt.Errorf("list groups tagged %s in %s: %w", rollout.TagAlarms, ev.Region, err)
	}
	targets, more := Map(ev.AlarmName, named, listing, s.Defaults)
	return targets, append(skips, more...), nil
}

// forGroup reads the group's rollouts, decides and acts.
func (s Service) forGroup(ctx context.Context, log *slog.Logger, ev Event, t Target) (GroupResult, error) {
	gr := GroupResult{Group: t.Group, Via: t.Via}
	active, found, err := s.Ledger.ActiveRollout(ctx, t.Group)
	if err != nil {
		return gr, fmt.Errorf("active rollout of %s: %w", t.Group, err)
	}
	// Only the newest rollout matters: rollouts of a group run one after
	// the other, and the newest is what the fleet runs now.
	latest, err := s.Ledger.History(ctx, t.Group, time.Time{}, 1)
	if err != nil {
		return gr, fmt.Errorf("history of %s: %w", t.Group, err)
	}
	st := GroupState{Policy: t.Policy}
	if found {
		st.Active = &active
	}
	if len(latest) > 0 {
		st.Latest = &latest[0]
	}
	d := Decide(ev, st)
	gr.Action, gr.Reason, gr.RolloutID = d.Action, d.Reason, d.Rollout.ID
	log = log.With("rolloutId", d.Rollout.ID, "action", string(d.Action))
	switch d.Action {
	case ActionSignal:
		return s.signal(ctx, log, ev, d, gr)
	case ActionRevert:
		return s.revert(ctx, log, ev, d, gr)
	case ActionNotify:
		return s.notice(ctx, log, ev, t, d, gr)
	}
	log.Info("alarm needs no action", "reason", d.Reason)
	return gr, nil
}

// signal records the alarm signal for the rollout in flight and resumes
// its parked task, as refresh-events does for instance refresh events
// (design.md, "no lost wake-ups"). One alarm signal per rollout: the
// first event to claim it signals, later ones only log.
func (s Service) signal(ctx context.Context, log *slog.Logger, ev Event, d Decision, gr GroupResult) (GroupResult, error) {
	r := d.Rollout
	claim, won, err := s.Ledger.ClaimAlarm(ctx, Claim{Key: RolloutClaim(r.ID, ActionSignal), Owner: ev.ID, Alarm: ev.AlarmName, At: ev.At})
	if err != nil {
		return gr, fmt.Errorf("claim the alarm signal of rollout %s: %w", r.ID, err)
	}
	if !won {
		gr.Duplicate = true
		gr.Reason = fmt.Sprintf("Rollout %s was signalled already, by alarm %s (event %s).", r.ID, claim.Alarm, claim.Owner)
		log.Info("rollout already signalled by another alarm event", "claimedBy", claim.Owner, "claimedFor", claim.Alarm)
		return gr, nil
	}
	sig := rollout.Signal{Kind: rollout.SignalAlarm, RefreshID: r.RefreshID, Alarm: ev.AlarmName, Reason: ev.Explain(), At: ev.At}
	rec, token, err := s.Ledger.AddSignal(ctx, r.ID, sig)
	if isNotFound(err) {
		// The lease is taken before the rollout is recorded: Prepare is
		// running. Retried, the event finds the record.
		return gr, &rollout.TransientError{Op: "signal rollout " + r.ID,
			Err: fmt.Errorf("rollout %s holds group %s but is not recorded yet: %w", r.ID, r.Group, err)}
	}
	if err != nil {
		return gr, fmt.Errorf("record alarm signal of rollout %s: %w", r.ID, err)
	}
	if token != "" {
		switch err := s.Resumer.Resume(ctx, token, rec); {
		case isStale(err):
			log.Info("the parked task was already woken; it will read the signal when it parks again", "seq", rec.Seq)
		case err != nil:
			return gr, fmt.Errorf("resume rollout %s: %w", r.ID, err)
		default:
			gr.Resumed = true
		}
	}
	log.Warn("rollout signalled to revert", "seq", rec.Seq, "resumed", gr.Resumed, "refreshId", r.RefreshID,
		"fromVersion", r.From.Number, "toVersion", r.To.Number)
	did := fmt.Sprintf("Phoenix signalled rollout %s to revert at once.", r.ID)
	if r.Mode == rollout.ModeRecycle {
		did = fmt.Sprintf("Phoenix signalled recycle %s to stop; the group stays on version %d.", r.ID, r.From.Number)
	}
	return s.tell(ctx, log, claim, ev, gr, r, did, d.Reason)
}

// revert starts the revert rollout of a finalized rollout. Every event
// that decides so asks Step Functions to start the same execution name,
// so a storm starts it once even if the first event's invocation died
// after its claim; only the claim's owner notifies.
func (s Service) revert(ctx context.Context, log *slog.Logger, ev Event, d Decision, gr GroupResult) (GroupResult, error) {
	r := d.Rollout
	claim, won, err := s.Ledger.ClaimAlarm(ctx, Claim{Key: RolloutClaim(r.ID, ActionRevert), Owner: ev.ID, Alarm: ev.AlarmName, At: ev.At})
	if err != nil {
		return gr, fmt.Errorf("claim the revert of rollout %s: %w", r.ID, err)
	}
	name := RevertName(r.ID)
	req := rollout.Request{
		RolloutID: name, Group: r.Group, Mode: rollout.ModeRevert, Version: d.RevertTo.Number,
		Trigger: rollout.Trigger{Kind: TriggerKind, Source: ev.AlarmARN, EventID: ev.ID},
	}
	arn, started, err := s.Starter.StartRollout(ctx, req)
	if err != nil {
		return gr, fmt.Errorf("start revert %s of rollout %s: %w", name, r.ID, err)
	}
	gr.RevertRolloutID, gr.ExecutionARN = name, arn
	log = log.With("revertRolloutId", name, "execution", arn, "revertToVersion", d.RevertTo.Number)
	if started {
		log.Warn("started revert rollout", "fromVersion", r.From.Number, "toVersion", r.To.Number, "imageId", d.RevertTo.ImageID)
	} else {
		log.Info("revert rollout exists already")
	}
	if !won {
		gr.Duplicate = true
		gr.Reason = fmt.Sprintf("The revert %s of rollout %s was started already, for alarm %s (event %s).", name, r.ID, claim.Alarm, claim.Owner)
		log.Info("revert already claimed by another alarm event", "claimedBy", claim.Owner, "claimedFor", claim.Alarm)
		return gr, nil
	}
	did := fmt.Sprintf("Phoenix started revert rollout %s to version %d%s.", name, d.RevertTo.Number, imageNote(d.RevertTo.ImageID))
	return s.tell(ctx, log, claim, ev, gr, r, did, d.Reason)
}

// notice tells people about an alarm Phoenix does not act on, once per
// event and group.
func (s Service) notice(ctx context.Context, log *slog.Logger, ev Event, t Target, d Decision, gr GroupResult) (GroupResult, error) {
	claim, _, err := s.Ledger.ClaimAlarm(ctx, Claim{Key: NoticeClaim(t.Group, ev.ID), Owner: ev.ID, Alarm: ev.AlarmName, At: ev.At})
	if err != nil {
		return gr, fmt.Errorf("claim the notice of event %s for %s: %w", ev.ID, t.Group, err)
	}
	r := d.Rollout
	if r.ID == "" {
		r.Group = t.Group
	}
	log.Info("alarm changes nothing", "reason", d.Reason)
	return s.tell(ctx, log, claim, ev, gr, r, "Phoenix changed nothing.", d.Reason)
}

// tell sends the notification of the claim's action unless the claim
// records it sent (a repeated delivery), then records it. Told before
// recorded: a retry may tell twice but never not at all.
func (s Service) tell(ctx context.Context, log *slog.Logger, claim Claim, ev Event, gr GroupResult, r rollout.Rollout, did, why string) (GroupResult, error) {
	if claim.Notified {
		gr.Duplicate = true
		log.Info("notification sent already for this action")
		return gr, nil
	}
	msg := message(ev, gr, r, did, why)
	concerned := r
	concerned.Steps = nil
	// The event's reason field is what a consumer reads first: which
	// alarm, and what Phoenix did.
	concerned.Reason = sentence(ev.Explain()) + " " + did
	subject := fmt.Sprintf("Alarm %s on %s", ev.AlarmName, gr.Group.Name)
	if err := s.Notifier.Notify(ctx, rollout.Notification{
		DetailType: DetailHandled, Subject: subject, Message: msg, Rollout: concerned, Severity: severity,
	}); err != nil {
		return gr, fmt.Errorf("notify alarm %s for %s: %w", ev.AlarmName, gr.Group, err)
	}
	if err := s.Ledger.AlarmNotified(ctx, claim.Key, claim.Owner); err != nil {
		return gr, fmt.Errorf("record the notice of %s: %w", claim.Key, err)
	}
	gr.Notified = true
	return gr, nil
}

// message is the notification's text: which alarm, which group, which
// versions, what Phoenix did and why.
func message(ev Event, gr GroupResult, r rollout.Rollout, did, why string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s It went into ALARM at %s.\n", sentence(ev.Explain()), stamp(ev.At))
	fmt.Fprintf(&b, "Group %s, which the alarm guards by %s.\n", gr.Group, strings.Join(gr.Via, " and "))
	if r.ID != "" {
		fmt.Fprintf(&b, "Rollout %s (%s, %s): version %d%s -> %d%s.\n", r.ID, r.Mode, r.Status,
			r.From.Number, imageNote(r.From.ImageID), r.To.Number, imageNote(r.To.ImageID))
	}
	fmt.Fprintf(&b, "%s\nWhy: %s", did, why)
	return b.String()
}

func imageNote(imageID string) string {
	if imageID == "" {
		return ""
	}
	return " (" + imageID + ")"
}

// sentence makes a phrase a sentence: a capital first, a full stop last.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

func isNotFound(err error) bool {
	var nf *rollout.NotFoundError
	return errors.As(err, &nf)
}

func isStale(err error) bool {
	var st *rollout.StaleTokenError
	return errors.As(err, &st)
}

// baseLogger returns the invocation's logger.
func (s Service) baseLogger(ctx context.Context) *slog.Logger {
	return rollout.InvocationLogger(ctx, s.Logger, s.ContextAttrs, "handler", "alarm-events")
}
