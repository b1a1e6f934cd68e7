package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/bluegreen"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Blue/green pairs in the CLI (docs/blue-green.md, docs/cli.md): status
// shows a pair's sides and weights on each of its groups, and plan predicts
// a pair's rollout. Both read the pair through shared/fleet's Pair, as the
// rollout's Prepare does, and judge it with bluegreen.Prepare.

// pairView is a blue/green pair as `phoenix status` shows it on each of
// its groups.
type pairView struct {
	Name string `json:"name"`
	// Anchor is the pair's first group by name: its rollouts, history and
	// last-known-good are recorded under it, whichever group is asked.
	Anchor string `json:"anchor"`
	// Live serves the traffic (all the weight) and Idle serves none; both
	// are empty while the traffic is split, mid-rollout.
	Live       string `json:"live,omitempty"`
	LiveColour string `json:"liveColour,omitempty"`
	Idle       string `json:"idle,omitempty"`
	IdleColour string `json:"idleColour,omitempty"`
	// IdleInstances counts the idle group's instances: zero between
	// rollouts.
	IdleInstances int              `json:"idleInstances"`
	Groups        []pairMemberView `json:"groups"`
	// Forward is the listener's default action or the rule's action that
	// splits the traffic, with its weights as ELB answers them.
	Forward *bluegreen.Forward `json:"forward,omitempty"`
	// Refusal is why a blue/green rollout of the pair would be refused now
	// (bluegreen.Prepare); empty when one could start.
	Refusal string `json:"refusal,omitempty"`
}

// pairMemberView is one group of a pair.
type pairMemberView struct {
	Group       string `json:"group"`
	TargetGroup string `json:"targetGroupArn,omitempty"`
	// Weight is the target group's weight in the forward action, and
	// SharePercent its share of the traffic.
	Weight       int     `json:"weight"`
	SharePercent float64 `json:"sharePercent"`
	Desired      int     `json:"desired"`
	Instances    int     `json:"instances"`
}

// pairPlan is a pair's predicted blue/green rollout in `phoenix plan`.
type pairPlan struct {
	// Group is the pair's first group by name, which a campaign rolls for
	// the pair.
	Group  rollout.GroupKey `json:"target"`
	Pair   string           `json:"pair"`
	Groups []string         `json:"groups"`
	Wave   *int             `json:"wave,omitempty"`
	Live   string           `json:"live"`
	Idle   string           `json:"idle"`
	// Forward names the listener or rule whose weights move.
	Forward string `json:"forward,omitempty"`
	// LiveDesired is the live group's desired capacity, which the idle
	// group is brought up to; PeakInstances the most running while both
	// groups serve.
	LiveDesired   int   `json:"liveDesired"`
	PeakInstances int   `json:"peakInstances"`
	Steps         []int `json:"steps"`
	// The phases of the rollout: the idle group brought up (one warmup),
	// proved before it takes traffic (one checkpoint delay), each traffic
	// step held for the checkpoint delay, the bake, and the guard window
	// during which the old group stays up to go back in one call.
	ScaleUpSeconds     int64 `json:"scaleUpSeconds"`
	ProveSeconds       int64 `json:"proveSeconds"`
	StepWaitSeconds    int64 `json:"stepWaitSeconds"`
	BakeSeconds        int64 `json:"bakeSeconds"`
	GuardWindowSeconds int64 `json:"guardWindowSeconds"`
	DurationSeconds    int64 `json:"durationSeconds"`
	// Problems are tags Phoenix cannot use and why it would refuse the
	// pair now.
	Problems []string `json:"problems,omitempty"`
}

// pairName is the blue/green pair a group declares itself part of: its
// phoenix:pair when its strategy is blue-green.
func pairName(g rollout.Group) (string, bool) {
	s, err := bluegreen.Strategy(g.Tags)
	name := strings.TrimSpace(g.Tags[bluegreen.TagPair])
	return name, err == nil && s == bluegreen.StrategyBlueGreen && name != ""
}

// pair reads the blue/green pair g belongs to, once per run; ok is false
// for a group that is not in one.
func (s *session) pair(ctx context.Context, g rollout.Group) (bluegreen.Pair, bool, error) {
	name, ok := pairName(g)
	if !ok {
		return bluegreen.Pair{}, false, nil
	}
	p, err := s.pairNamed(ctx, g.Key.Region, name)
	return p, err == nil, err
}

// pairNamed reads a blue/green pair (shared/fleet's Pair: its groups and
// the forward actions naming their target groups), once per run.
func (s *session) pairNamed(ctx context.Context, region, name string) (bluegreen.Pair, error) {
	k := rollout.GroupKey{Region: region, Name: name}
	if p, ok := s.pairs[k]; ok {
		return p, nil
	}
	p, err := s.fleet.Pair(ctx, region, name)
	if err != nil {
		return bluegreen.Pair{}, s.awsError("read blue/green pair "+name, err)
	}
	if s.pairs == nil {
		s.pairs = map[rollout.GroupKey]bluegreen.Pair{}
	}
	s.pairs[k] = p
	return p, nil
}

// anchorKey is the group a pair member's rollouts are recorded under: the
// pair's first group by name (bluegreen.Prepared.Anchor); a group that is
// in no pair, or a pair no group names, is its own.
func anchorKey(key rollout.GroupKey, p *bluegreen.Pair) rollout.GroupKey {
	if p == nil || len(p.Groups) == 0 {
		return key
	}
	first := p.Groups[0].Key.Name
	for _, g := range p.Groups[1:] {
		first = min(first, g.Key.Name)
	}
	return rollout.GroupKey{Region: key.Region, Name: first}
}

// pairSides finds a pair's live and idle groups and its forward action:
// bluegreen.Prepare's when it accepts the pair, else (refusal says why)
// the action naming both groups' target groups and the side holding all its
// weight. live and idle are nil when that cannot be told, the traffic being
// split or the pair not two groups.
func pairSides(p bluegreen.Pair) (live, idle *rollout.Group, fwd *bluegreen.Forward, refusal string) {
	prep, err := bluegreen.Prepare(p)
	if err == nil {
		l, i, f := prep.Live.Group, prep.Idle.Group, prep.Forward
		return &l, &i, &f, ""
	}
	var re *bluegreen.RefusalError
	refusal = err.Error()
	if errors.As(err, &re) {
		refusal = re.Reason
	}
	var tgs []string
	for _, g := range p.Groups {
		tgs = append(tgs, g.TargetGroupARNs...)
	}
	for i, f := range p.Forwards {
		names := 0
		for _, w := range f.Groups {
			if slices.Contains(tgs, w.ARN) {
				names++
			}
		}
		if fwd == nil || names > 1 {
			fwd = &p.Forwards[i]
		}
		if names > 1 {
			break
		}
	}
	if fwd == nil || len(p.Groups) != 2 {
		return nil, nil, fwd, refusal
	}
	a, b := p.Groups[0], p.Groups[1]
	sa, sb := groupShare(*fwd, a), groupShare(*fwd, b)
	switch {
	case sa > 0 && sb == 0:
		return &a, &b, fwd, refusal
	case sb > 0 && sa == 0:
		return &b, &a, fwd, refusal
	}
	return nil, nil, fwd, refusal
}

// groupShare is a group's share of the action's traffic, through its
// target groups.
func groupShare(f bluegreen.Forward, g rollout.Group) float64 {
	var share float64
	for _, tg := range g.TargetGroupARNs {
		share += bluegreen.Share(f, tg)
	}
	return share
}

// groupWeight is the weight of a group's target groups in the action.
func groupWeight(f *bluegreen.Forward, g rollout.Group) int {
	if f == nil {
		return 0
	}
	w := 0
	for _, tg := range f.Groups {
		if slices.Contains(g.TargetGroupARNs, tg.ARN) {
			w += tg.Weight
		}
	}
	return w
}

// colour guesses a group's colour from its name, as pairs are usually
// named (web-blue, web-green); "" when the name says none.
func colour(name string) string {
	lower := strings.ToLower(name)
	for _, c := range []string{"blue", "green"} {
		if strings.Contains(lower, c) {
			return c
		}
	}
	return ""
}

// viewPair describes a pair for status.
func viewPair(p bluegreen.Pair) *pairView {
	live, idle, fwd, refusal := pairSides(p)
	v := &pairView{Name: p.Name, Anchor: anchorKey(rollout.GroupKey{}, &p).Name, Forward: fwd, Refusal: refusal, Groups: []pairMemberView{}}
	for _, g := range p.Groups {
		m := pairMemberView{Group: g.Key.Name, Weight: groupWeight(fwd, g), Desired: g.Desired, Instances: len(g.Instances)}
		if len(g.TargetGroupARNs) == 1 {
			m.TargetGroup = g.TargetGroupARNs[0]
		}
		if fwd != nil {
			m.SharePercent = groupShare(*fwd, g)
		}
		v.Groups = append(v.Groups, m)
	}
	if live != nil {
		v.Live, v.LiveColour = live.Key.Name, colour(live.Key.Name)
		v.Idle, v.IdleColour = idle.Key.Name, colour(idle.Key.Name)
		v.IdleInstances = len(idle.Instances)
	}
	return v
}

// planPair predicts a pair's blue/green rollout under the live group's
// tags over defaults. When Prepare would refuse the pair now, the reason is
// a problem and the group with the larger desired capacity is taken as
// live for the figures.
func planPair(p bluegreen.Pair, defaults rollout.Policy, wave *int) pairPlan {
	live, idle, fwd, refusal := pairSides(p)
	pp := pairPlan{Group: anchorKey(rollout.GroupKey{Region: regionOf(p)}, &p), Pair: p.Name, Wave: wave, Groups: []string{}}
	for _, g := range p.Groups {
		pp.Groups = append(pp.Groups, g.Key.Name)
	}
	if refusal != "" {
		pp.Problems = append(pp.Problems, "Phoenix would refuse the pair now: "+refusal)
	}
	if live == nil && len(p.Groups) > 0 {
		byDesired := slices.Clone(p.Groups)
		slices.SortStableFunc(byDesired, func(a, b rollout.Group) int { return b.Desired - a.Desired })
		live = &byDesired[0]
		if len(byDesired) > 1 {
			idle = &byDesired[1]
		}
	}
	if live == nil {
		return pp
	}
	if idle == nil {
		idle = live
	}
	pp.Live, pp.Idle = live.Key.Name, idle.Key.Name
	if fwd != nil {
		pp.Forward = fwd.Owner()
	}
	policy, problems := rollout.ParsePolicy(live.Tags, defaults)
	for _, pr := range problems {
		pp.Problems = append(pp.Problems, pr.String())
	}
	steps, err := bluegreen.ParseSteps(live.Tags[bluegreen.TagTrafficSteps])
	if err != nil {
		pp.Problems = append(pp.Problems, err.Error())
		steps = slices.Clone(bluegreen.DefaultSteps)
	}
	if a, b := strings.TrimSpace(live.Tags[bluegreen.TagTrafficSteps]), strings.TrimSpace(idle.Tags[bluegreen.TagTrafficSteps]); a != b {
		pp.Problems = append(pp.Problems, fmt.Sprintf("%s differs: %q on %s, %q on %s; both groups must agree", bluegreen.TagTrafficSteps, a, live.Key.Name, b, idle.Key.Name))
	}
	pp.Steps = steps
	pp.LiveDesired = live.Desired
	pp.PeakInstances = 2 * live.Desired
	pp.ScaleUpSeconds = seconds(rollout.EffectiveWarmup(policy, *idle))
	pp.ProveSeconds = seconds(policy.CheckpointDelay)
	pp.StepWaitSeconds = seconds(policy.CheckpointDelay)
	pp.BakeSeconds = seconds(policy.Bake)
	pp.GuardWindowSeconds = seconds(policy.GuardWindow)
	pp.DurationSeconds = pp.ScaleUpSeconds + pp.ProveSeconds + int64(len(steps))*pp.StepWaitSeconds + pp.BakeSeconds + pp.GuardWindowSeconds
	if !policy.Enabled {
		pp.Problems = append(pp.Problems, "group "+live.Key.Name+" is not opted in ("+rollout.TagEnabled+"): only a manual rollout would roll the pair")
	}
	return pp
}

// regionOf is the region of a pair's groups.
func regionOf(p bluegreen.Pair) string {
	if len(p.Groups) == 0 {
		return ""
	}
	return p.Groups[0].Key.Region
}

// unitName names a campaign's unit for a table: a group, or "pair web
// (web-blue, web-green)" for the first group of a pair.
func unitName(k rollout.GroupKey, region string, pairs []pairPlan) string {
	for _, p := range pairs {
		if p.Group == k {
			return fmt.Sprintf("pair %s (%s)", p.Pair, strings.Join(p.Groups, ", "))
		}
	}
	return groupText(k, region)
}

// writePairStatus writes a pair's rows of a group's status.
func writePairStatus(t io.Writer, g groupStatus) {
	p := g.Pair
	strategy := fmt.Sprintf("%s, pair %s", bluegreen.StrategyBlueGreen, p.Name)
	if p.Anchor != g.Group {
		strategy += fmt.Sprintf(" (rollouts recorded under %s, its first group)", p.Anchor)
	}
	row(t, "  strategy", strategy)
	member := func(name string) pairMemberView {
		for _, m := range p.Groups {
			if m.Group == name {
				return m
			}
		}
		return pairMemberView{Group: name}
	}
	side := func(name, col string) string {
		m := member(name)
		s := name
		if col != "" {
			s += " (" + col + ")"
		}
		return s + fmt.Sprintf(", %d instances, weight %d", m.Instances, m.Weight)
	}
	if p.Live != "" {
		row(t, "  live", side(p.Live, p.LiveColour))
		row(t, "  idle", side(p.Idle, p.IdleColour))
	}
	traffic := "no forward action names the pair's target groups"
	if p.Forward != nil {
		kind := "listener"
		if p.Forward.RuleARN != "" {
			kind = "rule"
		}
		var parts []string
		for _, m := range p.Groups {
			parts = append(parts, fmt.Sprintf("%s %d (%s)", m.Group, m.Weight, percentText(m.SharePercent)))
		}
		traffic = fmt.Sprintf("%s %s: %s", kind, p.Forward.Owner(), strings.Join(parts, ", "))
	}
	row(t, "  traffic", traffic)
	if p.Refusal != "" && g.Active == nil {
		row(t, "  pair check", "a rollout would be refused now: "+p.Refusal)
	}
}

// percentText writes a share: 100%, 50%, 33.3%.
func percentText(p float64) string {
	if p == float64(int(p)) {
		return fmt.Sprintf("%d%%", int(p))
	}
	return fmt.Sprintf("%.1f%%", p)
}

// writePairPlan writes a pair's predicted rollout.
func writePairPlan(w io.Writer, p pairPlan) {
	fmt.Fprintf(w, "\npair %s (%s)", p.Pair, strings.Join(p.Groups, ", "))
	if p.Wave != nil {
		fmt.Fprintf(w, " (wave %d)", *p.Wave)
	}
	if p.Live == "" {
		fmt.Fprintln(w, ": blue/green, but Phoenix cannot tell its sides")
	} else {
		fmt.Fprintf(w, ": blue/green; %s serves, %s takes the image, up to %d instances while both serve (%d live)\n", p.Live, p.Idle, p.PeakInstances, p.LiveDesired)
		if p.Forward != "" {
			fmt.Fprintf(w, "  traffic moves through %s\n", p.Forward)
		}
		t := newTable(w)
		row(t, "  PHASE", "TIME")
		row(t, "  scale up "+p.Idle, durationText(time.Duration(p.ScaleUpSeconds)*time.Second))
		row(t, "  prove at 0%", durationText(time.Duration(p.ProveSeconds)*time.Second))
		for _, st := range p.Steps {
			row(t, fmt.Sprintf("  shift to %d%%", st), durationText(time.Duration(p.StepWaitSeconds)*time.Second))
		}
		row(t, "  bake", durationText(time.Duration(p.BakeSeconds)*time.Second))
		row(t, "  guard window", durationText(time.Duration(p.GuardWindowSeconds)*time.Second))
		_ = t.Flush()
		fmt.Fprintf(w, "  predicted duration %s; %s is scaled down after it\n", durationText(time.Duration(p.DurationSeconds)*time.Second), p.Live)
	}
	for _, pr := range p.Problems {
		fmt.Fprintf(w, "  problem: %s\n", pr)
	}
}
