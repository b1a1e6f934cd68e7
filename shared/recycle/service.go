package recycle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/emf"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Service is the recycle-scheduler function.
type Service struct {
	Fleet   Fleet
	Ledger  Ledger
	Params  Params
	Starter Starter
	Config  Config
	Logger  *slog.Logger
	// Metrics receives the drift reports as CloudWatch embedded metric
	// format lines; in Lambda that is stdout, which CloudWatch Logs turns
	// into metrics.
	Metrics io.Writer
	// ContextAttrs, when set, adds invocation attributes (request id,
	// trace id) to every log line.
	ContextAttrs func(context.Context) []any
}

// Outcomes of an invocation.
const (
	// OutcomePlanned: the night was decided and its recycles started.
	OutcomePlanned = "planned"
	// OutcomeDropped: the event was not a scheduled event Phoenix can use;
	// nothing was read or changed.
	OutcomeDropped = "dropped"
)

// Summary is the handler's answer, also logged: what the night decided.
type Summary struct {
	EventID string    `json:"eventId,omitempty"`
	Region  string    `json:"region,omitempty"`
	At      time.Time `json:"at,omitzero"`
	Outcome string    `json:"outcome"`
	Reason  string    `json:"reason,omitempty"`
	// GlobalFreeze says why the global freeze is in force, if it is.
	GlobalFreeze string     `json:"globalFreeze,omitempty"`
	Started      []Started  `json:"started"`
	Deferred     []Decision `json:"deferred"`
	Skipped      []Decision `json:"skipped"`
	Drift        []Drift    `json:"drift"`
}

// Started is a recycle the night started, or found started by an earlier
// delivery of the same event.
type Started struct {
	Decision
	ExecutionARN string `json:"executionArn"`
	// Duplicate says the execution existed already.
	Duplicate bool `json:"duplicate,omitempty"`
}

// Handle is the function's entry point: one EventBridge "Scheduled Event".
// It reports every enabled group's drift (ledger and metrics), decides the
// night (Select) and starts the chosen recycles in the rollout state
// machine, each keyed by its name so that a repeated delivery starts
// nothing twice. An event that is not a usable scheduled event is dropped
// with a log line and no error: no retry can fix it. Throttling and server
// faults return *rollout.TransientError, unwrapped, so that the invocation
// is retried whole.
func (s Service) Handle(ctx context.Context, raw json.RawMessage) (Summary, error) {
	log := s.baseLogger(ctx)
	sum, err := s.handle(ctx, log, raw)
	return sum, rollout.Boundary(log, "recycle-scheduler", err)
}

func (s Service) handle(ctx context.Context, log *slog.Logger, raw json.RawMessage) (Summary, error) {
	ev, err := ParseEvent(raw)
	if err != nil {
		var bad *rollout.BadInputError
		if errors.As(err, &bad) {
			log.Warn("scheduled event dropped", "reason", bad.Reason)
			return Summary{Outcome: OutcomeDropped, Reason: bad.Reason}, nil
		}
		return Summary{}, err
	}
	log = log.With("eventId", ev.ID, "region", ev.Region, "rule", ev.Rule)
	sum := Summary{EventID: ev.ID, Region: ev.Region, At: ev.Time, Outcome: OutcomePlanned,
		Started: []Started{}, Deferred: []Decision{}, Skipped: []Decision{}, Drift: []Drift{}}
	night := Night{EventID: ev.ID, Now: ev.Time, MaxPerNight: s.Config.MaxPerNight, Jitter: s.Config.Jitter}
	night.Freeze, err = s.globalFreeze(ctx, ev.Region)
	if err != nil {
		return sum, err
	}
	if in, why := night.Freeze.In(ev.Time); in {
		sum.GlobalFreeze = why
		log.Warn("global freeze in force", "reason", why)
	}
	groups, err := s.Fleet.GroupsTagged(ctx, ev.Region, rollout.TagEnabled)
	if err != nil {
		return sum, fmt.Errorf("list groups tagged %s in %s: %w", rollout.TagEnabled, ev.Region, err)
	}
	slices.SortFunc(groups, func(a, b rollout.Group) int { return strings.Compare(a.Key.Name, b.Key.Name) })
	versions := map[[2]string]resolved{}
	var cands []Candidate
	for _, g := range groups {
		set := ParseSettings(g.Tags, s.Config.MaxAge)
		if !set.Enabled {
			continue
		}
		d, err := s.drift(ctx, g, set.MaxAge, ev, versions)
		if err != nil {
			return sum, err
		}
		sum.Drift = append(sum.Drift, d)
		cands = append(cands, Candidate{Group: g, Settings: set})
	}
	// A blue/green pair is one candidate, under its first group by name:
	// its recycle moves both groups, and a second one would be refused.
	cands = FoldPairs(cands, groups)
	for i := range cands {
		c := &cands[i]
		if !c.Settings.Recycle {
			continue
		}
		if c.Started, c.Active, err = s.groupState(ctx, ev.ID, c.Group.Key, c.Partners); err != nil {
			return sum, err
		}
	}
	for _, d := range sum.Drift {
		if err := s.Ledger.PutDrift(ctx, d); err != nil {
			return sum, fmt.Errorf("record drift of %s: %w", d.Group, err)
		}
		if s.Metrics != nil {
			if err := emf.Write(s.Metrics, d.MetricLine()); err != nil {
				// Metrics are a view of the report, which the ledger holds
				// already; a broken writer must not fail the night.
				log.Error("drift metrics not written", "group", d.Group.Name, "error", err.Error())
			}
		}
		log.Info("drift reported", "group", d.Group.Name, "instances", d.Instances, "offVersion", d.OffVersion,
			"offImage", d.OffImage, "overMaxAge", d.OverMaxAge, "oldestAgeSeconds", d.OldestAgeSeconds,
			"desiredVersion", d.Desired.Number, "desiredImageId", d.Desired.ImageID, "offenders", d.Offenders, "note", d.Note)
	}
	for _, d := range Select(night, cands) {
		glog := log.With("group", d.Group.Name, "action", string(d.Action), "code", d.Code, "reason", d.Reason,
			"oldestInstanceAgeSeconds", d.OldestAgeSeconds, "maxAgeSeconds", d.MaxAgeSeconds)
		if len(d.Problems) > 0 {
			glog = glog.With("problems", d.Problems)
		}
		if d.Pair != nil {
			glog = glog.With("pair", d.Pair.Name, "pairGroups", d.Pair.Groups)
		}
		switch d.Action {
		case ActionStart:
			st, err := s.start(ctx, ev, d)
			if err != nil {
				return sum, err
			}
			sum.Started = append(sum.Started, st)
			glog = glog.With("rolloutId", d.RolloutID, "executionArn", st.ExecutionARN)
			if !d.StartAt.IsZero() {
				glog = glog.With("startAt", d.StartAt)
			}
			if st.Duplicate {
				glog.Info("recycle exists already; not started again")
			} else {
				glog.Info("recycle started")
			}
		case ActionDefer:
			sum.Deferred = append(sum.Deferred, d)
			glog.Info("recycle deferred")
		default:
			sum.Skipped = append(sum.Skipped, d)
			glog.Info("recycle skipped")
		}
	}
	sum.Reason = fmt.Sprintf("%d recycles started (at most %d a night), %d deferred, %d groups skipped, %d drift reports",
		len(sum.Started), s.Config.MaxPerNight, len(sum.Deferred), len(sum.Skipped), len(sum.Drift))
	log.Info("night planned", "started", len(sum.Started), "deferred", len(sum.Deferred), "skipped", len(sum.Skipped),
		"drift", len(sum.Drift), "maxPerNight", s.Config.MaxPerNight, "jitterSeconds", int64(s.Config.Jitter/time.Second))
	return sum, nil
}

// globalFreeze reads the freeze parameter. A parameter that cannot be
// read for a reason other than a transient one freezes every group, as an
// unreadable value does: not knowing whether a freeze is on must not let a
// recycle through.
func (s Service) globalFreeze(ctx context.Context, region string) (Freeze, error) {
	name := s.Config.FreezeParameter
	if name == "" {
		return Freeze{}, nil
	}
	v, err := s.Params.Value(ctx, region, name)
	if rollout.IsTransient(err) {
		return Freeze{}, err
	}
	f := Freeze{}
	if err != nil {
		f = Freeze{Always: true, Unreadable: "it cannot be read: " + err.Error()}
	} else {
		f, _ = ParseFreeze(v)
	}
	f.Source = "SSM parameter " + name
	return f, nil
}

// resolved is a desired version looked up once per template and version
// as written; v is nil, with a note, when it does not exist.
type resolved struct {
	v    *rollout.TemplateVersion
	note string
}

// drift resolves the group's desired version (once per template and
// version as written) and computes its report.
func (s Service) drift(ctx context.Context, g rollout.Group, maxAge time.Duration, ev Event, versions map[[2]string]resolved) (Drift, error) {
	var r resolved
	if g.LaunchConfigurationName != "" || g.LaunchTemplateID == "" {
		r.note = "the group uses a launch configuration, so versions and images are not judged"
	} else {
		k := [2]string{g.LaunchTemplateID, g.LaunchTemplateVersion}
		var seen bool
		if r, seen = versions[k]; !seen {
			tv, err := s.Fleet.ResolveVersion(ctx, g.Key.Region, g.LaunchTemplateID, g.LaunchTemplateVersion)
			var nf *rollout.NotFoundError
			switch {
			case err == nil:
				r.v = &tv
			case errors.As(err, &nf):
				r.note = fmt.Sprintf("launch template %s version %s does not exist, so versions and images are not judged", g.LaunchTemplateID, g.LaunchTemplateVersion)
			default:
				return Drift{}, fmt.Errorf("resolve %s version %s of %s: %w", g.LaunchTemplateID, g.LaunchTemplateVersion, g.Key, err)
			}
			versions[k] = r
		}
	}
	d := ComputeDrift(g, r.v, maxAge, ev.Time)
	d.EventID = ev.ID
	if r.note != "" {
		d.Note = r.note
	}
	return d, nil
}

// groupState reads whether this event's recycle of the group exists and
// which rollout, if any, holds the group or, for a blue/green pair, any of
// its partners (a pair's rollout leases both groups, but a group may have
// been leased before it joined the pair).
func (s Service) groupState(ctx context.Context, eventID string, key rollout.GroupKey, partners []rollout.Group) (started bool, active *rollout.Rollout, err error) {
	name := RolloutName(eventID, key)
	_, err = s.Ledger.GetRollout(ctx, name)
	var nf *rollout.NotFoundError
	switch {
	case err == nil:
		return true, nil, nil
	case !errors.As(err, &nf):
		return false, nil, fmt.Errorf("read rollout %s: %w", name, err)
	}
	keys := []rollout.GroupKey{key}
	for _, p := range partners {
		keys = append(keys, p.Key)
	}
	for _, k := range keys {
		a, found, err := s.Ledger.ActiveRollout(ctx, k)
		switch {
		case err != nil:
			return false, nil, fmt.Errorf("active rollout of %s: %w", k, err)
		case !found:
			continue
		case a.ID == name:
			// Leased by its Prepare before the record was written.
			return true, nil, nil
		}
		return false, &a, nil
	}
	return false, nil, nil
}

// start starts one recycle: the rollout state machine in recycle mode,
// named and keyed by the event and the group.
func (s Service) start(ctx context.Context, ev Event, d Decision) (Started, error) {
	req := rollout.Request{
		RolloutID: d.RolloutID,
		Group:     d.Group,
		Mode:      rollout.ModeRecycle,
		Trigger:   rollout.Trigger{Kind: TriggerKind, Source: ev.Rule, EventID: ev.ID},
		StartAt:   d.StartAt,
	}
	arn, started, err := s.Starter.StartRollout(ctx, req)
	if err != nil {
		return Started{}, fmt.Errorf("start recycle %s of %s: %w", d.RolloutID, d.Group, err)
	}
	return Started{Decision: d, ExecutionARN: arn, Duplicate: !started}, nil
}

// baseLogger returns the invocation's logger.
func (s Service) baseLogger(ctx context.Context) *slog.Logger {
	return rollout.InvocationLogger(ctx, s.Logger, s.ContextAttrs, "handler", "recycle-scheduler")
}
