package rollout

// Prediction is the refresh a rollout would start on a group today: the
// policy as Preflight would adjust it, and the plan of the refresh. It is a
// prediction from the group as it is now: a group that scales, an instance
// that is slow to warm up or a checkpoint that rechecks changes the real
// figures.
type Prediction struct {
	// Policy is the group's policy after Preflight's adjustments.
	Policy Policy
	// Adjustments say what Preflight would change in the policy, and why.
	Adjustments []string
	Plan
}

// PredictRollout applies to p what Prepare's preflight applies (a revert's
// straight-back pace, the healthy percentages raised on a small group) and
// plans the refresh of the instances the rollout would replace. toVersion is
// the version the refresh targets: a revert's version, or zero for an
// image rollout, whose new version does not exist yet and so matches no
// instance. A recycle replaces every instance (SkipMatching off), as the
// refresh Phoenix starts for it does.
func PredictRollout(g Group, p Policy, mode Mode, toVersion int64) Prediction {
	var adjustments []string
	if mode == ModeRevert {
		p, adjustments = revertPace(p, nil)
	}
	p, _, healthy := adjustHealthy(p, g.Desired)
	adjustments = append(adjustments, healthy...)
	replace := ReplaceCount(g, toVersion, mode != ModeRecycle)
	return Prediction{Policy: p, Adjustments: adjustments, Plan: PlanRefresh(g, p, replace)}
}

// NextCheckpoint returns the first checkpoint above percent, the refresh's
// percentage complete: where it pauses next. ok is false when only the end
// (100) is left, because AWS reports no checkpoint there.
func NextCheckpoint(checkpoints []int, percent int) (int, bool) {
	for _, c := range checkpoints {
		if c > percent && c < 100 {
			return c, true
		}
	}
	return 0, false
}
