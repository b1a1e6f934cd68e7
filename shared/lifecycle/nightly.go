package lifecycle

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/emf"
	"github.com/phoenix-rollouts/phoenix/shared/recycle"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Topic publishes the nightly summary to the stack's notification topic
// (shared/notify). attrs become message attributes, so that a
// subscription can filter on them.
type Topic interface {
	PublishText(ctx context.Context, subject, message string, attrs map[string]string) error
}

// Nightly is the image-lifecycle function: the target of its own
// EventBridge schedule. It runs the region the schedule fires in, writes
// the night's metrics and publishes one summary.
type Nightly struct {
	Service Service
	Topic   Topic
	// Metrics receives embedded metric format lines (the function's
	// stdout); none are written if nil.
	Metrics io.Writer
	// Attempt names the invocation (the Lambda request id), so that a
	// retried or redelivered night logs under its own run id.
	Attempt func(context.Context) string
	// ContextAttrs, when set, adds invocation attributes (request id,
	// trace id) to every log line.
	ContextAttrs func(context.Context) []any
}

// The metrics of a night (namespace Phoenix, docs/monitoring.md).
// LaunchTemplateVersions has dimension LaunchTemplateId; the others are one
// figure per night. "Retired" counts what the night deleted or
// deregistered (0 when it only plans); "kept" what exists after it.
const (
	MetricTemplateVersions   = "LaunchTemplateVersions"
	MetricVersionsRetired    = "LaunchTemplateVersionsRetired"
	MetricVersionsKept       = "LaunchTemplateVersionsKept"
	MetricImagesRetired      = "ImagesRetired"
	MetricImagesKept         = "ImagesKept"
	MetricSnapshotGiBRetired = "SnapshotGiBRetired"
	MetricSnapshotGiBKept    = "SnapshotGiBKept"
	dimensionTemplate        = "LaunchTemplateId"
)

// Metrics returns the names of every metric a night writes.
func Metrics() []string {
	return []string{MetricTemplateVersions, MetricVersionsRetired, MetricVersionsKept, MetricImagesRetired,
		MetricImagesKept, MetricSnapshotGiBRetired, MetricSnapshotGiBKept}
}

// Outcomes of an invocation.
const (
	OutcomeRan     = "ran"
	OutcomeDropped = "dropped"
)

// DetailSummary names the nightly summary on the topic (its detailType
// message attribute).
const DetailSummary = "Phoenix Image Lifecycle Summary"

// Summary is the handler's answer and what the topic is told.
type Summary struct {
	EventID string    `json:"eventId,omitempty"`
	RunID   string    `json:"runId,omitempty"`
	Region  string    `json:"region,omitempty"`
	At      time.Time `json:"at,omitzero"`
	Outcome string    `json:"outcome"`
	Reason  string    `json:"reason,omitempty"`
	// Mode is plan or apply: what the run did (a global halt makes an
	// apply stack's run a plan).
	Mode   string `json:"mode,omitempty"`
	Halted string `json:"halted,omitempty"`
	Counts Counts `json:"counts"`
	// Templates are the versions each template has after the night.
	Templates map[string]int `json:"templates,omitempty"`
	// Actions are the night's log entries: planned, or done with results.
	Actions []LogEntry `json:"actions"`
}

// Counts are a night's figures. In a plan the action counts are what an
// apply would do; Retired and Reclaimed count only what was done.
type Counts struct {
	// Actions per action, planned (plan) or done (apply).
	Actions map[Action]int `json:"actions"`
	Skipped int            `json:"skipped"`
	Failed  int            `json:"failed"`

	VersionsRetired int   `json:"versionsRetired"`
	VersionsKept    int   `json:"versionsKept"`
	ImagesRetired   int   `json:"imagesRetired"`
	ImagesKept      int   `json:"imagesKept"`
	GiBRetired      int64 `json:"gibRetired"`
	GiBKept         int64 `json:"gibKept"`
	// Kept counts the holds on what was kept, by reason.
	Kept map[Reason]int `json:"kept"`
}

// Handle is the function's entry point: one EventBridge "Scheduled Event".
// A run is idempotent (every read is fresh, every action safe to repeat),
// so a redelivered event or a retried invocation picks up where the state
// is; it logs under the event's id and the invocation's, so the log says
// what each attempt did. An event that is not a usable scheduled event is
// dropped with a log line and no error. Errors (a throttle, AWS refusing a
// read, the summary not published) fail the invocation, which Lambda
// retries and the stack's errors alarm reports.
func (n Nightly) Handle(ctx context.Context, raw json.RawMessage) (Summary, error) {
	log := rollout.InvocationLogger(ctx, n.Service.Logger, n.ContextAttrs)
	sum, err := n.handle(ctx, log, raw)
	return sum, rollout.Boundary(log, "image-lifecycle", err)
}

func (n Nightly) handle(ctx context.Context, log *slog.Logger, raw json.RawMessage) (Summary, error) {
	ev, err := recycle.ParseEvent(raw)
	if err != nil {
		var bad *rollout.BadInputError
		if errors.As(err, &bad) {
			log.Warn("scheduled event dropped", "reason", bad.Reason)
			return Summary{Outcome: OutcomeDropped, Reason: bad.Reason, Actions: []LogEntry{}}, nil
		}
		return Summary{}, err
	}
	run := Run{ID: ev.ID, Now: ev.Time, By: ByNightly}
	if n.Attempt != nil {
		if a := n.Attempt(ctx); a != "" {
			run.ID += "/" + a
		}
	}
	log = log.With("eventId", ev.ID, "runId", run.ID, "region", ev.Region)
	svc := n.Service
	svc.Logger = log
	rep, err := svc.RunRegion(ctx, run, ev.Region)
	sum := Summarize(ev.ID, run, rep)
	if err != nil {
		return sum, err
	}
	if n.Metrics != nil {
		for _, l := range sum.metricLines() {
			if err := emf.Write(n.Metrics, l); err != nil {
				// The ledger holds the night; metrics are a view of it.
				log.Error("lifecycle metrics not written", "error", err.Error())
			}
		}
	}
	subject, text := sum.Text()
	attrs := map[string]string{"detailType": DetailSummary, "region": sum.Region, "mode": sum.Mode, "eventId": ev.ID,
		"severity": sum.severity()}
	if err := n.Topic.PublishText(ctx, subject, text, attrs); err != nil {
		return sum, fmt.Errorf("publish the lifecycle summary of %s: %w", ev.Region, err)
	}
	log.Info("lifecycle night done", "mode", sum.Mode, "halted", sum.Halted, "actions", sum.Counts.Actions,
		"skipped", sum.Counts.Skipped, "failed", sum.Counts.Failed, "versionsRetired", sum.Counts.VersionsRetired,
		"imagesRetired", sum.Counts.ImagesRetired, "gibRetired", sum.Counts.GiBRetired)
	return sum, nil
}

// Summarize counts a run's report.
func Summarize(eventID string, run Run, rep Report) Summary {
	sum := Summary{EventID: eventID, RunID: run.ID, Region: rep.Region, At: run.Now, Outcome: OutcomeRan, Mode: rep.Mode,
		Halted: rep.Halted, Templates: map[string]int{}, Actions: rep.Entries}
	if sum.Actions == nil {
		sum.Actions = []LogEntry{}
	}
	c := Counts{Actions: map[Action]int{}, Kept: map[Reason]int{}}
	applied := rep.Mode == LogModeApply
	done := map[string]bool{}
	for _, e := range rep.Entries {
		switch {
		case !applied || e.Result == ResultDone:
			c.Actions[e.Action]++
			done[e.Target] = applied
		case strings.HasPrefix(e.Result, ResultSkippedPrefix):
			c.Skipped++
		case strings.HasPrefix(e.Result, ResultFailedPrefix):
			c.Failed++
		}
	}
	for _, v := range rep.Plan.Versions {
		target := v.TemplateID + ":" + strconv.FormatInt(v.Number, 10)
		if v.Action == ActionDeleteVersion && done[target] {
			c.VersionsRetired++
			continue
		}
		c.VersionsKept++
		sum.Templates[v.TemplateID]++
		for _, h := range v.Holds {
			c.Kept[h.Reason]++
		}
	}
	for _, d := range rep.Plan.Images {
		if len(d.Holds) > 0 && d.Holds[0].Reason == KeptNotPhoenix {
			continue
		}
		if d.Action == ActionDeregister && done[d.ImageID] {
			c.ImagesRetired++
			c.GiBRetired += d.SnapshotGiB
			continue
		}
		c.ImagesKept++
		c.GiBKept += d.SnapshotGiB
		for _, h := range d.Holds {
			c.Kept[h.Reason]++
		}
	}
	sum.Counts = c
	return sum
}

// severity is warning when an action failed, info otherwise.
func (s Summary) severity() string {
	if s.Counts.Failed > 0 {
		return "warning"
	}
	return "info"
}

// metricLines are the night's metrics: one line per template, and one
// for the region.
func (s Summary) metricLines() []emf.Line {
	props := map[string]any{"region": s.Region, "eventId": s.EventID, "runId": s.RunID, "mode": s.Mode}
	var out []emf.Line
	for _, id := range slices.Sorted(maps.Keys(s.Templates)) {
		out = append(out, emf.Line{Namespace: emf.Namespace, Time: s.At, Dimensions: map[string]string{dimensionTemplate: id},
			Metrics:    []emf.Metric{{Name: MetricTemplateVersions, Unit: emf.UnitCount, Value: float64(s.Templates[id])}},
			Properties: props})
	}
	c := s.Counts
	return append(out, emf.Line{Namespace: emf.Namespace, Time: s.At, DimensionSets: [][]string{{}}, Properties: props,
		Metrics: []emf.Metric{
			{Name: MetricVersionsRetired, Unit: emf.UnitCount, Value: float64(c.VersionsRetired)},
			{Name: MetricVersionsKept, Unit: emf.UnitCount, Value: float64(c.VersionsKept)},
			{Name: MetricImagesRetired, Unit: emf.UnitCount, Value: float64(c.ImagesRetired)},
			{Name: MetricImagesKept, Unit: emf.UnitCount, Value: float64(c.ImagesKept)},
			{Name: MetricSnapshotGiBRetired, Unit: emf.UnitGigabytes, Value: float64(c.GiBRetired)},
			{Name: MetricSnapshotGiBKept, Unit: emf.UnitGigabytes, Value: float64(c.GiBKept)},
		}})
}

// plural writes n thing or n things.
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return strconv.Itoa(n) + " " + thing + "s"
}

// maxSummaryActions bounds the actions the summary lists one by one: a
// night may do hundreds, and SNS takes at most 256 KiB; the ledger's log
// holds them all.
const maxSummaryActions = 100

// Text returns the summary's subject and message for the topic.
func (s Summary) Text() (subject, message string) {
	c := s.Counts
	verb := "retired"
	if s.Mode != LogModeApply {
		verb = "to retire"
	}
	subject = fmt.Sprintf("Phoenix image lifecycle %s (%s): %s, %s %s", s.Region, s.Mode,
		plural(c.Actions[ActionDeleteVersion], "version"), plural(c.Actions[ActionDeregister], "AMI"), verb)
	var b strings.Builder
	fmt.Fprintf(&b, "Phoenix image lifecycle, %s, night of %s, mode %s.\n", s.Region, s.At.UTC().Format(time.RFC3339), s.Mode)
	switch {
	case s.Halted != "":
		fmt.Fprintf(&b, "A global halt is in force (%s): nothing was done; below is what would have been.\n", s.Halted)
	case s.Mode != LogModeApply:
		b.WriteString("The stack's ImageLifecycle is plan: nothing was done; below is what apply would do.\n")
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "Launch template versions: %d deleted, %d kept", c.VersionsRetired, c.VersionsKept)
	if n := c.Actions[ActionDeleteVersion]; s.Mode != LogModeApply && n > 0 {
		fmt.Fprintf(&b, " (%d would be deleted)", n)
	}
	b.WriteString(".\n")
	for _, id := range slices.Sorted(maps.Keys(s.Templates)) {
		fmt.Fprintf(&b, "  %s: %d versions\n", id, s.Templates[id])
	}
	fmt.Fprintf(&b, "AMIs: %d deregistered (%d GiB of snapshots reclaimed), %d kept (%d GiB).\n",
		c.ImagesRetired, c.GiBRetired, c.ImagesKept, c.GiBKept)
	var stages []string
	for _, a := range []Action{ActionDeprecate, ActionDisable, ActionDeregister, ActionRestore, ActionProtect, ActionUnprotect, ActionMarkUnused} {
		if c.Actions[a] > 0 {
			stages = append(stages, fmt.Sprintf("%s %d", a, c.Actions[a]))
		}
	}
	if len(stages) > 0 {
		fmt.Fprintf(&b, "Image actions: %s.\n", strings.Join(stages, ", "))
	}
	if c.Skipped+c.Failed > 0 {
		fmt.Fprintf(&b, "Skipped %d (the re-check found them in use, or gone), failed %d (AWS refused; see below).\n", c.Skipped, c.Failed)
	}
	if len(c.Kept) > 0 {
		reasons := slices.SortedFunc(maps.Keys(c.Kept), func(a, b Reason) int {
			return cmp.Or(cmp.Compare(c.Kept[b], c.Kept[a]), cmp.Compare(a, b))
		})
		var kept []string
		for _, r := range reasons {
			kept = append(kept, fmt.Sprintf("%s %d", r, c.Kept[r]))
		}
		fmt.Fprintf(&b, "Kept because: %s.\n", strings.Join(kept, ", "))
	}
	if len(s.Actions) > 0 {
		b.WriteString("\nActions:\n")
	}
	for i, e := range s.Actions {
		if i == maxSummaryActions {
			fmt.Fprintf(&b, "  ... and %d more: `phoenix images plan` and the ledger's lifecycle log (run %s) have them all.\n",
				len(s.Actions)-i, s.RunID)
			break
		}
		line := fmt.Sprintf("  %s %s", e.Action, e.Target)
		if e.Result != "" {
			line += ": " + e.Result
		}
		if why := strings.Join(append([]string{e.Rule}, e.KeptBecause...), "; "); strings.Trim(why, "; ") != "" {
			line += " (" + strings.Trim(why, "; ") + ")"
		}
		b.WriteString(line + "\n")
	}
	fmt.Fprintf(&b, "\nRun: %s\n", s.RunID)
	return subject, strings.TrimRight(b.String(), "\n")
}
