package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenix-rollouts/phoenix/shared/bluegreen"
	"github.com/phoenix-rollouts/phoenix/shared/recycle"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// statusDoc is the JSON of `phoenix status`.
type statusDoc struct {
	Stack  string `json:"stack"`
	Region string `json:"region"`
	// Halts are every halt set that covers groups of the region, the
	// global one first.
	Halts  []haltView    `json:"halts"`
	Groups []groupStatus `json:"groups"`
}

// groupStatus is one group in `phoenix status`.
type groupStatus struct {
	Group  string `json:"group"`
	Region string `json:"region"`
	// Enabled is the phoenix:enabled tag as Phoenix reads it.
	Enabled bool `json:"enabled"`
	// Strategy is phoenix:strategy as Phoenix reads it: rolling or
	// blue-green; empty when the tag holds neither (a problem says so).
	Strategy         string `json:"strategy,omitempty"`
	LaunchTemplateID string `json:"launchTemplateId,omitempty"`
	// LaunchTemplateVersion is the version as written on the group
	// ("3", "$Latest", "$Default"); Version is the number it means today
	// and ImageID that version's image.
	LaunchTemplateVersion string `json:"launchTemplateVersion,omitempty"`
	Version               int64  `json:"version,omitempty"`
	ImageID               string `json:"imageId,omitempty"`
	Desired               int    `json:"desired"`
	// Instances counts the group's instances by launch template version
	// and image.
	Instances     []instanceCount `json:"instances"`
	LastKnownGood *lkgView        `json:"lastKnownGood,omitempty"`
	// Pinned is set when the group's version came from a rollout that had
	// nothing to validate (the group had no instance): the group launches
	// it, but nobody has seen it work.
	Pinned *pinView    `json:"pinned,omitempty"`
	Active *activeView `json:"activeRollout,omitempty"`
	// Halt is the halt covering the group: its own, else the global one.
	Halt *haltView `json:"halt,omitempty"`
	// Drift is the last drift report of the nightly recycle, if any.
	Drift *recycle.Drift `json:"drift,omitempty"`
	// Pair is the blue/green pair the group is in: its sides, weights and
	// the group its rollouts are recorded under.
	Pair *pairView `json:"pair,omitempty"`
	// Problems are phoenix: tags Phoenix cannot use, and what it reads
	// instead.
	Problems []string `json:"problems,omitempty"`
}

// instanceCount is how many instances run one version and image.
type instanceCount struct {
	Version   string `json:"version"`
	ImageID   string `json:"imageId"`
	Count     int    `json:"count"`
	InService int    `json:"inService"`
	Healthy   int    `json:"healthy"`
	// Leaving counts instances terminating or detaching: an old version's
	// instances linger so for a while after a refresh.
	Leaving int `json:"leaving"`
}

// lkgView is a group's last-known-good version.
type lkgView struct {
	rollout.Version
	At time.Time `json:"at"`
}

// pinView is the rollout that pinned a group to its version unvalidated.
type pinView struct {
	RolloutID string          `json:"rolloutId"`
	Version   rollout.Version `json:"version"`
	At        time.Time       `json:"at"`
	Reason    string          `json:"reason"`
}

// activeView is the rollout holding a group.
type activeView struct {
	RolloutID    string          `json:"rolloutId"`
	Mode         rollout.Mode    `json:"mode"`
	Status       rollout.Status  `json:"status"`
	From         rollout.Version `json:"from"`
	To           rollout.Version `json:"to"`
	StartedAt    time.Time       `json:"startedAt"`
	ExecutionARN string          `json:"executionArn,omitempty"`
	// Refresh is the group's instance refresh of this rollout, if one
	// started.
	Refresh *refreshView `json:"refresh,omitempty"`
	// NextCheckpoint is the percentage at which the refresh pauses next
	// for validation; absent when only the end is left.
	NextCheckpoint int `json:"nextCheckpoint,omitempty"`
	// LastStep is the newest entry of the rollout's timeline.
	LastStep *rollout.Step `json:"lastStep,omitempty"`
	// Pair is the blue/green pair the rollout moves: Live served at its
	// start, Idle takes the new version.
	Pair *rollout.PairSides `json:"pair,omitempty"`
}

// refreshView is an instance refresh as DescribeInstanceRefreshes shows it.
type refreshView struct {
	ID                 string `json:"refreshId"`
	Status             string `json:"status"`
	PercentageComplete int    `json:"percentageComplete"`
	StatusReason       string `json:"statusReason,omitempty"`
}

const statusLong = `Show every Phoenix group of the region (tagged phoenix:enabled), or the groups
named: the launch template version and image in use and the instances on each,
the last-known-good version, whether the version in use is pinned and not
validated (a rollout that found no instance to judge), the rollout in flight (mode, status, from -> to,
the refresh's percentage and the next checkpoint), the halts that cover it,
and the nightly recycle's last drift report.

For a group of a blue/green pair (phoenix:strategy=blue-green): the pair, its
live and idle groups, the weights of the listener's or rule's forward action,
and the pair's rollouts, which are recorded under its first group by name.`

const statusExample = `  phoenix status
  phoenix status web api --region eu-west-1
  phoenix status -o json | jq '.groups[] | {group, version, imageId}'`

func (a *app) statusCommand() *cobra.Command {
	return &cobra.Command{
		Use:               "status [GROUP...]",
		Short:             "Show each group: version and image in use, last-known-good, the rollout in flight, halts",
		Long:              statusLong,
		Example:           statusExample,
		ValidArgsFunction: a.completeGroups,
		RunE:              func(cmd *cobra.Command, args []string) error { return a.status(cmd.Context(), args) },
	}
}

func (a *app) status(ctx context.Context, names []string) error {
	s, err := a.session(ctx)
	if err != nil {
		return err
	}
	var groups []rollout.Group
	if len(names) == 0 {
		groups, err = s.fleet.GroupsTagged(ctx, s.region, rollout.TagEnabled)
		if err != nil {
			return s.awsError("list Phoenix groups", err)
		}
	} else {
		for _, name := range names {
			if slices.ContainsFunc(groups, func(g rollout.Group) bool { return g.Key.Name == name }) {
				continue
			}
			g, err := s.group(ctx, name)
			if err != nil {
				return err
			}
			groups = append(groups, g)
		}
	}
	slices.SortFunc(groups, func(x, y rollout.Group) int { return strings.Compare(x.Key.Name, y.Key.Name) })
	halts, err := s.ledger.Halts(ctx)
	if err != nil {
		return s.awsError("read halts", err)
	}
	doc := statusDoc{Stack: s.stack, Region: s.region, Halts: []haltView{}, Groups: []groupStatus{}}
	for _, h := range halts {
		if h.Global() || h.Group.Region == s.region {
			doc.Halts = append(doc.Halts, viewHalt(h))
		}
	}
	var settings *stackSettings
	for _, g := range groups {
		gs, err := a.groupStatus(ctx, s, g, halts, &settings)
		if err != nil {
			return err
		}
		doc.Groups = append(doc.Groups, gs)
	}
	return a.emit(doc, func(w io.Writer) { writeStatus(w, doc) })
}

// groupStatus gathers one group's status. settings is read once, the
// first time a rollout in flight needs the policy's checkpoints.
func (a *app) groupStatus(ctx context.Context, s *session, g rollout.Group, halts []rollout.Halt, settings **stackSettings) (groupStatus, error) {
	key := g.Key
	tagged, problems := rollout.ParsePolicy(g.Tags, rollout.Policy{})
	gs := groupStatus{
		Group: key.Name, Region: key.Region, Enabled: tagged.Enabled, LaunchTemplateID: g.LaunchTemplateID,
		LaunchTemplateVersion: g.LaunchTemplateVersion, Desired: g.Desired, Instances: countInstances(g.Instances),
	}
	for _, p := range problems {
		gs.Problems = append(gs.Problems, p.String())
	}
	if g.LaunchConfigurationName != "" {
		gs.Problems = append(gs.Problems, "the group uses launch configuration "+g.LaunchConfigurationName+"; Phoenix rolls only launch-template groups")
	}
	if strategy, err := bluegreen.Strategy(g.Tags); err != nil {
		gs.Problems = append(gs.Problems, err.Error())
	} else {
		gs.Strategy = strategy
	}
	// A pair's rollouts are recorded under its first group by name,
	// whichever group is asked about.
	recorded := key
	if p, ok, err := s.pair(ctx, g); err != nil {
		gs.Problems = append(gs.Problems, oneLine(err.Error()))
	} else if ok {
		gs.Pair = viewPair(p)
		recorded = anchorKey(key, &p)
	}
	if g.LaunchTemplateID != "" {
		tv, err := s.fleet.ResolveVersion(ctx, key.Region, g.LaunchTemplateID, g.LaunchTemplateVersion)
		if err != nil {
			gs.Problems = append(gs.Problems, fmt.Sprintf("launch template %s version %s cannot be read: %s", g.LaunchTemplateID, g.LaunchTemplateVersion, oneLine(err.Error())))
		} else {
			gs.Version, gs.ImageID = tv.Number, tv.ImageID
		}
	}
	v, at, ok, err := s.ledger.LastKnownGood(ctx, recorded)
	if err != nil {
		return gs, s.awsError("read the last-known-good version of "+recorded.Name, err)
	}
	if ok {
		gs.LastKnownGood = &lkgView{Version: v, At: at}
	}
	last, err := s.ledger.History(ctx, recorded, time.Time{}, 1)
	if err != nil {
		return gs, s.awsError("read the rollouts of "+recorded.Name, err)
	}
	if len(last) == 1 && last[0].Status == rollout.StatusPinned && last[0].To.Number == gs.Version && g.LaunchTemplateID == last[0].To.LaunchTemplateID {
		p := last[0]
		gs.Pinned = &pinView{RolloutID: p.ID, Version: p.To, At: p.EndedAt, Reason: p.Reason}
	}
	active, ok, err := s.ledger.ActiveRollout(ctx, key)
	if err == nil && !ok && recorded != key {
		// A pair's rollout leases both groups; the first one is asked too,
		// should this one's lease be gone before the rollout ended.
		active, ok, err = s.ledger.ActiveRollout(ctx, recorded)
	}
	if err != nil {
		return gs, s.awsError("read the rollout in flight on "+key.Name, err)
	}
	if ok && !active.Status.Terminal() {
		if *settings == nil {
			st := s.settings(ctx, false)
			*settings = &st
		}
		view, err := a.activeView(ctx, s, g, active, (*settings).Policy)
		if err != nil {
			return gs, err
		}
		gs.Active = &view
	}
	if h, ok := coveringHalt(halts, key); ok {
		hv := viewHalt(h)
		gs.Halt = &hv
	}
	d, ok, err := s.ledger.Drift(ctx, key)
	if err != nil {
		return gs, s.awsError("read the drift report of "+key.Name, err)
	}
	if ok {
		gs.Drift = &d
	}
	return gs, nil
}

// activeView describes the rollout in flight, with its refresh's progress
// and the next checkpoint of the policy it runs under (the group's tags
// over the stack's defaults, paced as a revert when it is one).
func (a *app) activeView(ctx context.Context, s *session, g rollout.Group, r rollout.Rollout, defaults rollout.Policy) (activeView, error) {
	v := activeView{
		RolloutID: r.ID, Mode: r.Mode, Status: r.Status, From: r.From, To: r.To,
		StartedAt: r.StartedAt, ExecutionARN: r.ExecutionARN, Pair: r.Pair,
	}
	if n := len(r.Steps); n > 0 {
		last := r.Steps[n-1]
		v.LastStep = &last
	}
	if r.BlueGreen() {
		// A blue/green rollout moves weights, not an instance refresh.
		return v, nil
	}
	refreshes, err := s.fleet.Refreshes(ctx, g.Key)
	if err != nil {
		return v, s.awsError("read the instance refreshes of "+g.Key.Name, err)
	}
	rf, ok := rolloutRefresh(refreshes, r)
	if !ok {
		return v, nil
	}
	v.Refresh = &refreshView{ID: rf.ID, Status: rf.Status, PercentageComplete: rf.PercentageComplete, StatusReason: rf.StatusReason}
	if r.Status == rollout.StatusRefreshing && (rf.Status == rollout.RefreshInProgress || rf.Status == rollout.RefreshPending) {
		pred := rollout.PredictRollout(g, mustPolicy(g.Tags, defaults), r.Mode, r.To.Number)
		if next, ok := rollout.NextCheckpoint(pred.Policy.Checkpoints, rf.PercentageComplete); ok {
			v.NextCheckpoint = next
		}
	}
	return v, nil
}

// mustPolicy is the group's policy: its tags over the defaults.
func mustPolicy(tags map[string]string, defaults rollout.Policy) rollout.Policy {
	p, _ := rollout.ParsePolicy(tags, defaults)
	return p
}

// rolloutRefresh finds the refresh a rollout is running now: the newest of
// the group's refreshes that started at or after the rollout (a revert
// after a cancel starts a second one), else the one the rollout recorded.
func rolloutRefresh(refreshes []rollout.Refresh, r rollout.Rollout) (rollout.Refresh, bool) {
	for _, rf := range refreshes {
		if !rf.StartTime.IsZero() && !rf.StartTime.Before(r.StartedAt) {
			return rf, true
		}
	}
	return rollout.FindRefresh(refreshes, r.RefreshID)
}

// coveringHalt is the group's own halt, else the global one.
func coveringHalt(halts []rollout.Halt, key rollout.GroupKey) (rollout.Halt, bool) {
	for _, h := range halts {
		if h.Group == key {
			return h, true
		}
	}
	for _, h := range halts {
		if h.Global() {
			return h, true
		}
	}
	return rollout.Halt{}, false
}

// countInstances groups instances by version and image, most first.
func countInstances(insts []rollout.Instance) []instanceCount {
	out := []instanceCount{}
	for _, in := range insts {
		i := slices.IndexFunc(out, func(c instanceCount) bool {
			return c.Version == in.LaunchTemplateVersion && c.ImageID == in.ImageID
		})
		if i < 0 {
			out = append(out, instanceCount{Version: in.LaunchTemplateVersion, ImageID: in.ImageID})
			i = len(out) - 1
		}
		out[i].Count++
		if in.Lifecycle == "InService" {
			out[i].InService++
		}
		if in.Health == "Healthy" {
			out[i].Healthy++
		}
		if strings.HasPrefix(in.Lifecycle, "Terminat") || strings.HasPrefix(in.Lifecycle, "Detach") {
			out[i].Leaving++
		}
	}
	slices.SortStableFunc(out, func(x, y instanceCount) int {
		if x.Count != y.Count {
			return y.Count - x.Count
		}
		return strings.Compare(x.Version, y.Version)
	})
	return out
}

func writeStatus(w io.Writer, doc statusDoc) {
	fmt.Fprintf(w, "Phoenix stack %s in %s\n", doc.Stack, doc.Region)
	for _, h := range doc.Halts {
		fmt.Fprintf(w, "HALTED: %s\n", h.Message)
	}
	if len(doc.Groups) == 0 {
		fmt.Fprintf(w, "\nNo Phoenix groups (tagged %s) in %s.\n", rollout.TagEnabled, doc.Region)
		return
	}
	for _, g := range doc.Groups {
		fmt.Fprintf(w, "\n%s\n", g.Group)
		t := newTable(w)
		lt := "-"
		if g.LaunchTemplateID != "" {
			lt = fmt.Sprintf("%s version %s", g.LaunchTemplateID, g.LaunchTemplateVersion)
			if g.Version != 0 && strconv.FormatInt(g.Version, 10) != g.LaunchTemplateVersion {
				lt += fmt.Sprintf(" (today %d)", g.Version)
			}
			if g.ImageID != "" {
				lt += ", image " + g.ImageID
			}
		}
		row(t, "  launch template", lt)
		if !g.Enabled {
			row(t, "  enabled", "no (tag "+rollout.TagEnabled+"=true to opt in)")
		}
		inst := fmt.Sprintf("none (desired %d)", g.Desired)
		if len(g.Instances) > 0 {
			var parts []string
			for _, c := range g.Instances {
				part := fmt.Sprintf("%d on v%s (%s): %d in service, %d healthy", c.Count, dash(c.Version), dash(c.ImageID), c.InService, c.Healthy)
				if c.Leaving > 0 {
					part += fmt.Sprintf(", %d leaving", c.Leaving)
				}
				parts = append(parts, part)
			}
			inst = strings.Join(parts, "; ")
		}
		row(t, "  instances", inst)
		if g.Pair != nil {
			writePairStatus(t, g)
		}
		lkg := "none recorded"
		if g.LastKnownGood != nil {
			lkg = versionText(g.LastKnownGood.Version) + " since " + timeText(g.LastKnownGood.At)
		}
		row(t, "  last-known-good", lkg)
		if g.Pinned != nil {
			row(t, "  validation", fmt.Sprintf("%s is pinned, NOT validated, by %s at %s: the group launches it, but nobody has seen it work",
				versionText(g.Pinned.Version), g.Pinned.RolloutID, timeText(g.Pinned.At)))
		}
		row(t, "  rollout", activeText(g.Active))
		if g.Active != nil && g.Active.LastStep != nil {
			row(t, "  last step", fmt.Sprintf("%s %s: %s", timeText(g.Active.LastStep.At), g.Active.LastStep.Key, clip(g.Active.LastStep.Detail, 100)))
		}
		if g.Halt != nil {
			row(t, "  halt", g.Halt.Message)
		}
		row(t, "  drift", driftText(g.Drift))
		for _, p := range g.Problems {
			row(t, "  problem", p)
		}
		_ = t.Flush()
	}
}

func activeText(v *activeView) string {
	if v == nil {
		return "none in flight"
	}
	s := fmt.Sprintf("%s (%s) %s, %s -> %s, started %s", v.RolloutID, v.Mode, v.Status, versionText(v.From), versionText(v.To), timeText(v.StartedAt))
	if p := v.Pair; p != nil {
		s += fmt.Sprintf("; blue/green from %s to %s", p.Live, p.Idle)
	}
	if v.Refresh != nil {
		s += fmt.Sprintf("; refresh %s %d%%", v.Refresh.Status, v.Refresh.PercentageComplete)
	}
	if v.NextCheckpoint > 0 {
		s += fmt.Sprintf(", next checkpoint %d%%", v.NextCheckpoint)
	}
	return s
}

func driftText(d *recycle.Drift) string {
	if d == nil {
		return "no report"
	}
	s := fmt.Sprintf("%s: %d instances, %d off version, %d off image, %d over max age %s",
		timeText(d.At), d.Instances, d.OffVersion, d.OffImage, d.OverMaxAge, durationText(time.Duration(d.MaxAgeSeconds)*time.Second))
	if d.Note != "" {
		s += " (" + d.Note + ")"
	}
	return s
}
