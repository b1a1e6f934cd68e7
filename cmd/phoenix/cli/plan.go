package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenix-rollouts/phoenix/shared/publish"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// planDoc is the JSON of `phoenix plan`. Every figure is a prediction from
// the groups as they are now and the refresh arithmetic of shared/rollout.
type planDoc struct {
	// Prediction is always true: nothing here was measured.
	Prediction bool   `json:"prediction"`
	Region     string `json:"region"`
	ImageID    string `json:"imageId,omitempty"`
	// Role is the image's phoenix:role, which picks its groups.
	Role string `json:"role,omitempty"`
	// MaxInFlight, Waves and Batches are how a campaign for the image
	// would order its groups (plan --image without --group).
	MaxInFlight int             `json:"maxInFlight,omitempty"`
	Waves       []publish.Wave  `json:"waves,omitempty"`
	Batches     []publish.Batch `json:"batches,omitempty"`
	// Skipped are groups of the image's role that cannot take it.
	Skipped []publish.Skip `json:"skipped,omitempty"`
	Groups  []groupPlan    `json:"groups"`
	// Pairs are the blue/green pairs' predicted rollouts: a pair is one
	// unit of a campaign, under its first group by name.
	Pairs []pairPlan `json:"pairs,omitempty"`
	// DurationSeconds is the predicted time of the whole campaign: its
	// batches one after the other, each as long as its slowest group.
	DurationSeconds int64 `json:"durationSeconds"`
	// Defaults says where the policy defaults came from (the stack's
	// functions, else the built-in ones, with Note saying why).
	Defaults defaultsView `json:"defaults"`
	// targeting marks a plan of the image's campaign (no --group).
	targeting bool
}

// defaultsView is where a plan's policy defaults came from.
type defaultsView struct {
	Source string `json:"source"`
	Note   string `json:"note,omitempty"`
}

// groupPlan is one group's predicted refresh.
type groupPlan struct {
	Group rollout.GroupKey `json:"target"`
	// Wave is the group's wave in a campaign (plan --image).
	Wave    *int `json:"wave,omitempty"`
	Enabled bool `json:"enabled"`
	// Desired is the group's desired capacity; Replace how many of its
	// instances the refresh replaces.
	Desired           int `json:"desired"`
	Replace           int `json:"replace"`
	MinHealthyPercent int `json:"minHealthyPercent"`
	MaxHealthyPercent int `json:"maxHealthyPercent"`
	// MinHealthyCount and MaxCount are the percentages as AWS rounds them;
	// Batch is how many instances are replaced at once, LowestHealthy the
	// fewest healthy instances during the refresh.
	MinHealthyCount       int         `json:"minHealthyCount"`
	MaxCount              int         `json:"maxCount"`
	Batch                 int         `json:"batch"`
	LowestHealthy         int         `json:"lowestHealthy"`
	LaunchBeforeTerminate bool        `json:"launchBeforeTerminate"`
	WarmupSeconds         int64       `json:"warmupSeconds"`
	Stages                []stageView `json:"stages"`
	BakeSeconds           int64       `json:"bakeSeconds"`
	DurationSeconds       int64       `json:"durationSeconds"`
	// Adjustments are the changes preflight would make to the policy;
	// Problems are tags Phoenix cannot use and reasons it would refuse.
	Adjustments []string `json:"adjustments,omitempty"`
	Problems    []string `json:"problems,omitempty"`
}

// stageView is the part of a refresh up to one checkpoint.
type stageView struct {
	Percentage int `json:"percentage"`
	// Instances is how many instances are replaced when the stage ends,
	// in Batches batches of one warmup each.
	Instances       int   `json:"instances"`
	Batches         int   `json:"batches"`
	DurationSeconds int64 `json:"durationSeconds"`
	// PauseSeconds is the checkpoint delay after the stage.
	PauseSeconds int64 `json:"pauseSeconds"`
}

const planLong = `Predict what a rollout would do, from the groups as they are now and Phoenix's
refresh arithmetic: for an image, which groups take it (by phoenix:role) and in
which waves; per group, the instances replaced per checkpoint and in how many
batches, the lowest healthy capacity, and the predicted duration (a warmup per
batch, the checkpoint delays, the bake). Nothing is changed.

A blue/green pair (phoenix:strategy=blue-green) is one unit: its peak instances
(the live group's desired capacity twice, while both groups serve) and its
duration (the idle group's scale-up, its proof, each traffic step held for the
checkpoint delay, the bake and the guard window).

The policy is each group's phoenix: tags over the stack's defaults (read from
its Prepare function's configuration). It is a prediction: scaling, slow
warmups and rechecks change the real figures.`

const planExample = `  phoenix plan --image ami-0abc1234
  phoenix plan --group web
  phoenix plan --group web --image ami-0abc1234 -o json`

func (a *app) planCommand() *cobra.Command {
	var image, group string
	cmd := &cobra.Command{
		Use:     "plan (--image AMI | --group GROUP [--image AMI])",
		Short:   "Predict a rollout: groups and waves, batches, duration, lowest healthy capacity",
		Long:    planLong,
		Example: planExample,
		Args:    argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if image == "" && group == "" {
				return usage("give --image AMI, --group GROUP, or both")
			}
			return a.plan(cmd.Context(), image, group)
		},
	}
	cmd.Flags().StringVar(&image, "image", "", "the AMI to roll in (alone: every group its phoenix:role picks)")
	cmd.Flags().StringVar(&group, "group", "", "plan this group only")
	_ = cmd.RegisterFlagCompletionFunc("group", a.completeGroups)
	return cmd
}

func (a *app) plan(ctx context.Context, imageID, group string) error {
	s, err := a.session(ctx)
	if err != nil {
		return err
	}
	doc := planDoc{Prediction: true, Region: s.region, ImageID: imageID, Groups: []groupPlan{}}
	if group != "" {
		g, err := s.group(ctx, group)
		if err != nil {
			return err
		}
		if imageID != "" {
			if _, err := s.image(ctx, imageID); err != nil {
				return err
			}
		}
		st := s.settings(ctx, false)
		doc.Defaults = defaultsView{Source: st.Source, Note: st.Note}
		p, ok, err := s.pair(ctx, g)
		switch {
		case err != nil:
			return err
		case ok:
			pp := planPair(p, st.Policy, nil)
			doc.Pairs = append(doc.Pairs, pp)
			doc.DurationSeconds = pp.DurationSeconds
		default:
			gp := planGroup(g, st.Policy, nil)
			doc.Groups = append(doc.Groups, gp)
			doc.DurationSeconds = gp.DurationSeconds
		}
		return a.emit(doc, func(w io.Writer) { writePlan(w, doc) })
	}
	img, err := s.image(ctx, imageID)
	if err != nil {
		return err
	}
	pub := publish.Image{
		Region: s.region, IDs: map[string]string{s.region: img.ID}, Name: img.Name, Owner: img.OwnerID,
		Architecture: img.Architecture, State: img.State, CreatedAt: img.CreatedAt, Tags: img.Tags,
	}
	doc.Role, doc.targeting = publish.Role(img.Tags), true
	cands, err := s.images.Candidates(ctx, s.region)
	if err != nil {
		return s.awsError("list Phoenix groups", err)
	}
	interested := publish.Interested(pub, cands)
	archs, err := s.images.Architectures(ctx, s.region, publish.InstanceTypes(interested))
	if err != nil {
		return s.awsError("describe instance types", err)
	}
	targets, skips := publish.Targets(pub, cands, archs)
	st := s.settings(ctx, true)
	doc.Defaults = defaultsView{Source: st.Source, Note: st.Note}
	waves := publish.PlanWaves(targets, st.MaxInFlight)
	doc.MaxInFlight, doc.Waves, doc.Batches, doc.Skipped = st.MaxInFlight, waves.Waves, waves.Batches, skips
	durations := map[rollout.GroupKey]int64{}
	for _, t := range targets {
		if t.Pair != nil {
			p, err := s.pairNamed(ctx, t.Group.Region, t.Pair.Name)
			if err != nil {
				return err
			}
			pp := planPair(p, st.Policy, &t.Wave)
			durations[t.Group] = pp.DurationSeconds
			doc.Pairs = append(doc.Pairs, pp)
			continue
		}
		g, err := s.fleet.Group(ctx, t.Group)
		if err != nil {
			return s.awsError("read group "+t.Group.Name, err)
		}
		gp := planGroup(g, st.Policy, &t.Wave)
		durations[t.Group] = gp.DurationSeconds
		doc.Groups = append(doc.Groups, gp)
	}
	for _, b := range waves.Batches {
		var longest int64
		for _, k := range b.Groups {
			longest = max(longest, durations[k])
		}
		doc.DurationSeconds += longest
	}
	return a.emit(doc, func(w io.Writer) { writePlan(w, doc) })
}

// image reads an AMI; a missing one is ExitNotFound.
func (s *session) image(ctx context.Context, id string) (rollout.Image, error) {
	img, err := s.images.Image(ctx, s.region, id)
	var nf *rollout.NotFoundError
	if errors.As(err, &nf) {
		return rollout.Image{}, fail(ExitNotFound, "image %s not found in %s", id, s.region)
	}
	if err != nil {
		return rollout.Image{}, s.awsError("describe image "+id, err)
	}
	return img, nil
}

// planGroup predicts an image rollout of g under its tags over defaults.
func planGroup(g rollout.Group, defaults rollout.Policy, wave *int) groupPlan {
	policy, problems := rollout.ParsePolicy(g.Tags, defaults)
	pred := rollout.PredictRollout(g, policy, rollout.ModeImage, 0)
	gp := groupPlan{
		Group: g.Key, Wave: wave, Enabled: policy.Enabled, Desired: g.Desired, Replace: pred.Replace,
		MinHealthyPercent: pred.Policy.MinHealthy, MaxHealthyPercent: pred.Policy.MaxHealthy,
		MinHealthyCount: pred.MinHealthyCount, MaxCount: pred.MaxCount, Batch: pred.Batch, LowestHealthy: pred.LowestHealthy,
		LaunchBeforeTerminate: pred.LaunchBeforeTerminate, WarmupSeconds: seconds(pred.Warmup), BakeSeconds: seconds(pred.Bake),
		DurationSeconds: seconds(pred.Duration), Adjustments: pred.Adjustments, Stages: []stageView{},
	}
	for _, st := range pred.Stages {
		gp.Stages = append(gp.Stages, stageView{
			Percentage: st.Percentage, Instances: st.Instances, Batches: st.Batches,
			DurationSeconds: seconds(st.Duration), PauseSeconds: seconds(st.Pause),
		})
	}
	for _, p := range problems {
		gp.Problems = append(gp.Problems, p.String())
	}
	switch {
	case g.LaunchConfigurationName != "" || g.LaunchTemplateID == "":
		gp.Problems = append(gp.Problems, "the group uses a launch configuration: Phoenix would refuse it (it needs a launch template)")
	case g.AttributeBased:
		gp.Problems = append(gp.Problems, "the group selects instance types by attributes: Phoenix would refuse it (instance refresh rejects a desired configuration)")
	}
	if !policy.Enabled {
		gp.Problems = append(gp.Problems, "the group is not opted in ("+rollout.TagEnabled+"): only a manual rollout would roll it")
	}
	return gp
}

func writePlan(w io.Writer, doc planDoc) {
	switch {
	case doc.targeting:
		fmt.Fprintf(w, "Rolling image %s (role %s) in %s: a prediction from the groups as they are now.\n", doc.ImageID, dash(doc.Role), doc.Region)
	case doc.ImageID != "":
		fmt.Fprintf(w, "Rolling image %s: a prediction from the group as it is now.\n", doc.ImageID)
	default:
		fmt.Fprintln(w, "Rolling a new image: a prediction from the group as it is now.")
	}
	fmt.Fprintf(w, "Policy defaults: %s", doc.Defaults.Source)
	if doc.Defaults.Note != "" {
		fmt.Fprintf(w, " (%s)", doc.Defaults.Note)
	}
	fmt.Fprintln(w)
	if doc.targeting && len(doc.Groups) == 0 && len(doc.Pairs) == 0 && len(doc.Skipped) == 0 {
		if doc.Role == "" {
			fmt.Fprintf(w, "\nImage %s has no phoenix:role tag, so no group takes it.\n", doc.ImageID)
		} else {
			fmt.Fprintf(w, "\nNo group tagged %s=true has phoenix:role=%q.\n", rollout.TagEnabled, doc.Role)
		}
		return
	}
	if len(doc.Waves) > 0 {
		fmt.Fprintf(w, "\nWaves (at most %d groups at once):\n", doc.MaxInFlight)
		for _, wv := range doc.Waves {
			var names []string
			for _, k := range wv.Groups {
				names = append(names, unitName(k, doc.Region, doc.Pairs))
			}
			fmt.Fprintf(w, "  wave %d: %s\n", wv.Number, strings.Join(names, ", "))
		}
	}
	for _, sk := range doc.Skipped {
		fmt.Fprintf(w, "  skipped %s: %s\n", groupText(sk.Group, doc.Region), sk.Reason)
	}
	for _, g := range doc.Groups {
		fmt.Fprintf(w, "\n%s", groupText(g.Group, doc.Region))
		if g.Wave != nil {
			fmt.Fprintf(w, " (wave %d)", *g.Wave)
		}
		how := "terminating before launching"
		if g.LaunchBeforeTerminate {
			how = "launching before terminating"
		}
		fmt.Fprintf(w, ": replace %d of %d instances, %d at a time, %s; healthy %d%%-%d%% keeps at least %d healthy (at most %d running)\n",
			g.Replace, g.Desired, g.Batch, how, g.MinHealthyPercent, g.MaxHealthyPercent, g.LowestHealthy, g.MaxCount)
		t := newTable(w)
		row(t, "  CHECKPOINT", "REPLACED", "BATCHES", "TIME", "THEN PAUSE")
		for _, st := range g.Stages {
			pause := "-"
			if st.PauseSeconds > 0 {
				pause = durationText(time.Duration(st.PauseSeconds) * time.Second)
			}
			row(t, fmt.Sprintf("  %d%%", st.Percentage), fmt.Sprint(st.Instances), fmt.Sprint(st.Batches),
				durationText(time.Duration(st.DurationSeconds)*time.Second), pause)
		}
		_ = t.Flush()
		fmt.Fprintf(w, "  warmup %s per batch, bake %s: predicted duration %s\n",
			durationText(time.Duration(g.WarmupSeconds)*time.Second), durationText(time.Duration(g.BakeSeconds)*time.Second),
			durationText(time.Duration(g.DurationSeconds)*time.Second))
		for _, adj := range g.Adjustments {
			fmt.Fprintf(w, "  adjusted: %s\n", adj)
		}
		for _, p := range g.Problems {
			fmt.Fprintf(w, "  problem: %s\n", p)
		}
	}
	for _, p := range doc.Pairs {
		writePairPlan(w, p)
	}
	if len(doc.Batches) > 1 {
		fmt.Fprintf(w, "\nThe campaign's %d batches one after the other: predicted %s in all.\n", len(doc.Batches),
			durationText(time.Duration(doc.DurationSeconds)*time.Second))
	}
}
