package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenix-rollouts/phoenix/shared/bluegreen"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// historyDoc is the JSON of `phoenix history`.
type historyDoc struct {
	Region string `json:"region"`
	// Group is the group asked about; empty for every group.
	Group string `json:"group,omitempty"`
	// Since is the --since bound; absent without one.
	Since    time.Time         `json:"since,omitzero"`
	Limit    int               `json:"limit"`
	Rollouts []rollout.Rollout `json:"rollouts"`
}

// rolloutDoc is the JSON of `phoenix history --rollout ID`: the ledger's
// record, whose steps are the timeline.
type rolloutDoc struct {
	Rollout rollout.Rollout `json:"rollout"`
}

const historyLong = `List rollouts, newest first (--limit of them, 20 by default): of one group, or of
every group (from the ledger's time index, which may lag a moment behind a rollout
that just started). A group of a blue/green pair lists the pair's rollouts that
moved it too, which are recorded under the pair's first group by name.
With --rollout, show one rollout's timeline: every step with its time and detail.`

const historyExample = `  phoenix history
  phoenix history web --since 30d --limit 0
  phoenix history --rollout manual-web-ami-0abc-3f2a
  phoenix history web -o json | jq '.rollouts[0].status'`

func (a *app) historyCommand() *cobra.Command {
	var since, rolloutID string
	var limit int
	cmd := &cobra.Command{
		Use:               "history [GROUP]",
		Short:             "List rollouts, or show one rollout's timeline",
		Long:              historyLong,
		Example:           historyExample,
		Args:              argsUsage(cobra.MaximumNArgs(1)),
		ValidArgsFunction: a.completeGroups,
		RunE: func(cmd *cobra.Command, args []string) error {
			if limit < 0 {
				return usage("--limit must be 0 (all) or more, not %d", limit)
			}
			if rolloutID != "" {
				if len(args) > 0 {
					return usage("give a GROUP or --rollout, not both")
				}
				return a.timeline(cmd.Context(), rolloutID)
			}
			var from time.Time
			if since != "" {
				var err error
				if from, err = parseSince(since, a.env.Now()); err != nil {
					return usage("--since: %v", err)
				}
			}
			group := ""
			if len(args) == 1 {
				group = args[0]
			}
			return a.history(cmd.Context(), group, from, limit)
		},
	}
	// No default window: --limit bounds the listing, and a window measured
	// from the local clock would hide everything on a local cloud whose
	// simulated clock runs behind it.
	cmd.Flags().StringVar(&since, "since", "", "how far back: a duration (90m, 36h, 7d, 2w) or a date (2026-01-31, RFC 3339); default: no bound")
	cmd.Flags().IntVar(&limit, "limit", 20, "at most this many rollouts (0 for all)")
	cmd.Flags().StringVar(&rolloutID, "rollout", "", "show this rollout's timeline")
	return cmd
}

// sinceUnit reads "7d", "2w", "36h", "90m".
var sinceUnit = regexp.MustCompile(`^(\d+)\s*([smhdw])$`)

// parseSince reads --since: a duration back from now (s, m, h, d, w, or
// anything time.ParseDuration takes) or a point in time (a date or RFC
// 3339).
func parseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if m := sinceUnit.FindStringSubmatch(s); m != nil {
		n, err := strconv.Atoi(m[1])
		if err != nil {
			return time.Time{}, fmt.Errorf("%q is too large", s)
		}
		unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
		// A century is far enough, and keeps n * unit from overflowing.
		if n > int(100*365*24*time.Hour/unit) {
			return time.Time{}, fmt.Errorf("%q reaches back too far", s)
		}
		return now.Add(-time.Duration(n) * unit), nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is neither a duration (7d, 36h, 90m) nor a date (2026-01-31, RFC 3339)", s)
}

func (a *app) history(ctx context.Context, group string, since time.Time, limit int) error {
	s, err := a.session(ctx)
	if err != nil {
		return err
	}
	doc := historyDoc{Region: s.region, Group: group, Limit: limit}
	if !since.IsZero() {
		doc.Since = since.UTC()
	}
	if group == "" {
		doc.Rollouts, err = s.ledger.Recent(ctx, since, limit)
	} else {
		doc.Rollouts, err = s.ledger.History(ctx, s.key(group), since, limit)
		if err == nil {
			doc.Rollouts, err = s.withPairHistory(ctx, group, doc.Rollouts, since, limit)
		}
	}
	if err != nil {
		return s.awsError("read the history", err)
	}
	if group != "" && len(doc.Rollouts) == 0 {
		// A group with no rollouts is fine; a name that is neither a group
		// nor in the ledger is a typo worth saying so.
		if _, err := s.group(ctx, group); err != nil {
			return err
		}
	}
	if doc.Rollouts == nil {
		doc.Rollouts = []rollout.Rollout{}
	}
	return a.emit(doc, func(w io.Writer) { writeHistory(w, doc) })
}

// withPairHistory adds to a group's rollouts those of its blue/green pair
// that moved it: a pair's rollouts are recorded under its first group by
// name, whichever group was asked. One listing of the groups tagged
// phoenix:pair tells; a group in no pair, or the first of its pair, keeps
// its own history.
func (s *session) withPairHistory(ctx context.Context, group string, own []rollout.Rollout, since time.Time, limit int) ([]rollout.Rollout, error) {
	tagged, err := s.fleet.GroupsTaggedShallow(ctx, s.region, bluegreen.TagPair)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(tagged, func(g rollout.Group) bool { return g.Key.Name == group })
	if i < 0 {
		return own, nil
	}
	name, ok := pairName(tagged[i])
	if !ok {
		return own, nil
	}
	p := bluegreen.Pair{Name: name}
	for _, g := range tagged {
		if n, ok := pairName(g); ok && n == name {
			p.Groups = append(p.Groups, g)
		}
	}
	anchor := anchorKey(s.key(group), &p)
	if anchor.Name == group {
		return own, nil
	}
	theirs, err := s.ledger.History(ctx, anchor, since, limit)
	if err != nil {
		return nil, err
	}
	return mergeHistory(group, own, theirs, limit), nil
}

// mergeHistory merges a group's rollouts with those of its pair's first
// group that moved it, newest first, each once, at most limit (0: all).
func mergeHistory(group string, own, anchor []rollout.Rollout, limit int) []rollout.Rollout {
	out := slices.Clone(own)
	for _, r := range anchor {
		moved := r.Pair != nil && (r.Pair.Live == group || r.Pair.Idle == group)
		if moved && !slices.ContainsFunc(out, func(o rollout.Rollout) bool { return o.ID == r.ID }) {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b rollout.Rollout) int { return b.StartedAt.Compare(a.StartedAt) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

func (a *app) timeline(ctx context.Context, id string) error {
	s, err := a.session(ctx)
	if err != nil {
		return err
	}
	r, err := s.ledger.GetRollout(ctx, id)
	var nf *rollout.NotFoundError
	if errors.As(err, &nf) {
		return fail(ExitNotFound, "rollout %s not found in the ledger of stack %s", id, s.stack)
	}
	if err != nil {
		return s.awsError("read rollout "+id, err)
	}
	doc := rolloutDoc{Rollout: r}
	return a.emit(doc, func(w io.Writer) { writeTimeline(w, r, s.region) })
}

func writeHistory(w io.Writer, doc historyDoc) {
	if len(doc.Rollouts) == 0 {
		what := "any group"
		if doc.Group != "" {
			what = doc.Group
		}
		if doc.Since.IsZero() {
			fmt.Fprintf(w, "No rollouts of %s.\n", what)
		} else {
			fmt.Fprintf(w, "No rollouts of %s since %s.\n", what, timeText(doc.Since))
		}
		return
	}
	t := newTable(w)
	row(t, "STARTED", "ROLLOUT", "GROUP", "MODE", "STATUS", "FROM", "TO", "TOOK", "REASON")
	for _, r := range doc.Rollouts {
		took := "-"
		if !r.EndedAt.IsZero() {
			took = durationText(r.EndedAt.Sub(r.StartedAt))
		}
		row(t, timeText(r.StartedAt), r.ID, groupText(r.Group, doc.Region), string(r.Mode), string(r.Status),
			versionText(r.From), versionText(r.To), took, dash(clip(r.Reason, 60)))
	}
	_ = t.Flush()
}

func writeTimeline(w io.Writer, r rollout.Rollout, region string) {
	t := newTable(w)
	row(t, "rollout", r.ID)
	row(t, "group", groupText(r.Group, region))
	row(t, "mode", string(r.Mode))
	trigger := r.Trigger.Kind
	if r.Trigger.Source != "" {
		trigger += " by " + r.Trigger.Source
	}
	row(t, "trigger", dash(trigger))
	row(t, "status", string(r.Status))
	row(t, "from", versionText(r.From))
	row(t, "to", versionText(r.To))
	row(t, "refresh", dash(r.RefreshID))
	row(t, "started", timeText(r.StartedAt))
	row(t, "ended", timeText(r.EndedAt))
	if r.Reason != "" {
		row(t, "reason", oneLine(r.Reason))
	}
	_ = t.Flush()
	if len(r.Steps) == 0 {
		fmt.Fprintln(w, "\nNo steps recorded yet.")
		return
	}
	fmt.Fprintln(w)
	t = newTable(w)
	row(t, "AT", "+", "STEP", "DETAIL")
	for _, st := range r.Steps {
		row(t, timeText(st.At), "+"+durationText(st.At.Sub(r.StartedAt)), st.Key, oneLine(st.Detail))
	}
	_ = t.Flush()
}
