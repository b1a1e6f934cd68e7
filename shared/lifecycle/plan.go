package lifecycle

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Reason says why a version or an image is kept.
type Reason string

// The reasons, each a rule of docs/lifecycle.md.
const (
	KeptDefault         Reason = "template-default"
	KeptGroupUses       Reason = "group-uses"
	KeptLastKnownGood   Reason = "last-known-good"
	KeptRollbackHistory Reason = "rollback-history"
	// KeptRollbackTarget: where `phoenix rollback GROUP` (no version) would
	// go, which need not have been finalized (a group's first version).
	KeptRollbackTarget Reason = "rollback-target"
	KeptRollout        Reason = "rollout"
	KeptCampaign       Reason = "queued-campaign"
	KeptNewest         Reason = "newest-versions"
	KeptTagged         Reason = "tagged-keep"
	KeptInstance       Reason = "instance"
	KeptVersion        Reason = "kept-version"
	KeptParameter      Reason = "ssm-parameter"
	KeptRecipe         Reason = "image-recipe"
	KeptShared         Reason = "shared"
	KeptProtected      Reason = "protected"
	KeptNotPhoenix     Reason = "not-phoenix"
	KeptNotSettled     Reason = "not-settled"
	KeptWaiting        Reason = "waiting"
	KeptBounded        Reason = "bounded"
	// KeptBadTag: a policy tag on the template or the image does not
	// parse; what it governs is kept until it is fixed, rather than
	// retired under a policy nobody asked for.
	KeptBadTag Reason = "bad-policy-tag"
)

// Action is what a plan does to a version or an image.
type Action string

// The actions. Delete, deprecate, disable and deregister are destructive
// (bounded by Policy.MaxActions, and re-checked before they run); the rest
// protect or record.
const (
	ActionNone          Action = ""
	ActionDeleteVersion Action = "delete-version"
	ActionDeprecate     Action = "deprecate"
	ActionDisable       Action = "disable"
	ActionDeregister    Action = "deregister"
	// ActionRestore enables and un-deprecates an image Phoenix staged that
	// is in use again.
	ActionRestore Action = "restore"
	// ActionProtect turns on deregistration protection for a last-known-good
	// image; ActionUnprotect lifts the protection Phoenix set once the image
	// is no group's last-known-good.
	ActionProtect   Action = "protect"
	ActionUnprotect Action = "unprotect"
	// ActionMarkUnused records when an image was first found out of use
	// (its stage waits count from then); ActionMarkUsed clears it.
	ActionMarkUnused Action = "mark-unused"
	ActionMarkUsed   Action = "mark-used"
)

// Destructive reports whether a counts against Policy.MaxActions.
func (a Action) Destructive() bool {
	switch a {
	case ActionDeleteVersion, ActionDeprecate, ActionDisable, ActionDeregister:
		return true
	}
	return false
}

// Hold is one reason something is kept, and who holds it (a group, a
// rollout, an ARN).
type Hold struct {
	Reason Reason `json:"reason"`
	By     string `json:"by,omitempty"`
}

func (h Hold) String() string {
	if h.By == "" {
		return string(h.Reason)
	}
	return string(h.Reason) + " (" + h.By + ")"
}

// VersionDecision is the plan for one launch template version.
type VersionDecision struct {
	TemplateID string `json:"templateId"`
	Region     string `json:"region"`
	Number     int64  `json:"version"`
	ImageID    string `json:"imageId,omitempty"`
	Action     Action `json:"action,omitempty"`
	// Rule says which rule decided the action (empty when kept: the holds
	// say why).
	Rule  string `json:"rule,omitempty"`
	Holds []Hold `json:"keptBecause,omitempty"`
}

// ImageDecision is the plan for one AMI.
type ImageDecision struct {
	ImageID string `json:"imageId"`
	Region  string `json:"region"`
	// Stage is where the image is: in-use, unused, deprecated, disabled.
	Stage  string `json:"stage"`
	Action Action `json:"action,omitempty"`
	// Due is when the next stage is due (for an image waiting), or when it
	// became due.
	Due time.Time `json:"due,omitzero"`
	// Rule says which rule decided the action.
	Rule        string `json:"rule,omitempty"`
	Holds       []Hold `json:"keptBecause,omitempty"`
	SnapshotGiB int64  `json:"snapshotGiB,omitempty"`
}

// The stages of an image.
const (
	StageInUse      = "in-use"
	StageUnused     = "unused"
	StageDeprecated = "deprecated"
	StageDisabled   = "disabled"
)

// Plan is one night's decisions.
type Plan struct {
	At       time.Time         `json:"at"`
	Versions []VersionDecision `json:"versions"`
	Images   []ImageDecision   `json:"images"`
}

// MaxVersionsPerDelete is AWS's limit on DeleteLaunchTemplateVersions.
const MaxVersionsPerDelete = 200

// Deletions returns, per template, the versions the plan deletes, in
// batches of at most MaxVersionsPerDelete, oldest first.
func (p Plan) Deletions() map[string][][]int64 {
	out := map[string][][]int64{}
	for _, v := range p.Versions {
		if v.Action != ActionDeleteVersion {
			continue
		}
		b := out[v.TemplateID]
		if len(b) == 0 || len(b[len(b)-1]) == MaxVersionsPerDelete {
			b = append(b, nil)
		}
		b[len(b)-1] = append(b[len(b)-1], v.Number)
		out[v.TemplateID] = b
	}
	return out
}

// Decide returns the plan for s under p. It is deterministic: the same
// snapshot and policy give the same plan.
func Decide(s Snapshot, p Policy) (Plan, error) {
	if err := p.validate(); err != nil {
		return Plan{}, err
	}
	plan := Plan{At: s.Now}
	kept := map[string]map[int64]bool{} // template -> version -> kept
	for _, t := range sortedTemplates(s.Templates) {
		decisions, err := decideVersions(s, p, t)
		if err != nil {
			return Plan{}, err
		}
		kept[t.ID] = map[int64]bool{}
		for _, d := range decisions {
			if d.Action == ActionNone {
				kept[t.ID][d.Number] = true
			}
		}
		plan.Versions = append(plan.Versions, decisions...)
	}
	for _, img := range sortedImages(s.Images) {
		plan.Images = append(plan.Images, decideImage(s, p, img, kept))
	}
	bound(&plan, p.MaxActions)
	return plan, nil
}

func (p Policy) validate() error {
	switch {
	case p.KeepVersions < 1:
		return fmt.Errorf("keep versions is %d; at least 1 (the default version is always kept besides)", p.KeepVersions)
	case p.KeepRollbackVersions < 0:
		return fmt.Errorf("keep rollback versions is %d; 0 or more", p.KeepRollbackVersions)
	case p.DeprecateAfter < 0 || p.DisableAfter < 0 || p.DeregisterAfter < 0:
		return fmt.Errorf("a stage wait is negative")
	case p.MaxActions < 1:
		return fmt.Errorf("max actions is %d; at least 1", p.MaxActions)
	}
	return nil
}

// decideVersions keeps every version something holds and deletes the rest.
func decideVersions(s Snapshot, p Policy, t Template) ([]VersionDecision, error) {
	keepN, badTag := p.KeepVersions, ""
	if v, ok := t.Tags[TagKeepVersions]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > MaxKeepVersions {
			badTag = fmt.Sprintf("%s=%q (want a whole number from 1 to %d)", TagKeepVersions, v, MaxKeepVersions)
		} else {
			keepN = n
		}
	}
	holds := map[int64][]Hold{}
	hold := func(n int64, r Reason, by string) {
		if n > 0 {
			holds[n] = append(holds[n], Hold{Reason: r, By: by})
		}
	}
	versions := slices.Clone(t.Versions)
	slices.SortFunc(versions, func(a, b Version) int { return cmp.Compare(a.Number, b.Number) })
	if isTrue(t.Tags[TagKeep]) {
		for _, v := range versions {
			hold(v.Number, KeptTagged, "")
		}
	}
	if badTag != "" {
		for _, v := range versions {
			hold(v.Number, KeptBadTag, badTag)
		}
	}
	hold(t.Default, KeptDefault, "")
	for i := max(0, len(versions)-keepN); i < len(versions); i++ {
		hold(versions[i].Number, KeptNewest, "")
	}
	for _, g := range s.Groups {
		if g.TemplateID != t.ID {
			continue
		}
		by := g.Key.String()
		hold(g.Version, KeptGroupUses, by)
		for _, v := range g.InstanceVersions {
			hold(v, KeptGroupUses, by)
		}
		hold(g.LastKnownGood, KeptLastKnownGood, by)
		for _, v := range rollbackHistory(g, p.KeepRollbackVersions) {
			hold(v, KeptRollbackHistory, by)
		}
		hold(g.RollbackTarget, KeptRollbackTarget, by)
	}
	for _, r := range s.Rollouts {
		if r.TemplateID == t.ID {
			hold(r.From, KeptRollout, r.ID)
			hold(r.To, KeptRollout, r.ID)
		}
	}
	for _, c := range s.Campaigns {
		for _, v := range versions {
			if v.ImageID != "" && v.ImageID == c.ImageID {
				hold(v.Number, KeptCampaign, c.ID)
			}
		}
	}
	out := make([]VersionDecision, 0, len(versions))
	for _, v := range versions {
		d := VersionDecision{TemplateID: t.ID, Region: t.Region, Number: v.Number, ImageID: v.ImageID, Holds: dedupe(holds[v.Number])}
		if len(d.Holds) == 0 {
			d.Action = ActionDeleteVersion
			d.Rule = fmt.Sprintf("not among the template's newest %d, not its default, and nothing uses it", keepN)
		}
		out = append(out, d)
	}
	return out, nil
}

// rollbackHistory returns the last n distinct finalized versions before the
// group's last-known-good.
func rollbackHistory(g Group, n int) []int64 {
	var out []int64
	for i := len(g.Finalized) - 1; i >= 0 && len(out) < n; i-- {
		v := g.Finalized[i]
		if v == g.LastKnownGood || slices.Contains(out, v) {
			continue
		}
		out = append(out, v)
	}
	return out
}

// decideImage keeps an image anything holds, restores one Phoenix staged
// that is held again, and otherwise moves it one stage on when its wait is
// over.
func decideImage(s Snapshot, p Policy, img Image, kept map[string]map[int64]bool) ImageDecision {
	d := ImageDecision{ImageID: img.ID, Region: img.Region, SnapshotGiB: img.SnapshotGiB, Stage: stageOf(img, s.Now)}
	if img.Owner != s.Account || (!img.Ledger.Rolled && img.Tags[TagRole] == "") {
		d.Holds = []Hold{{Reason: KeptNotPhoenix}}
		return d
	}
	if img.State != "available" && img.State != "disabled" {
		d.Holds = []Hold{{Reason: KeptNotSettled, By: img.State}}
		return d
	}
	holds, lkg := imageHolds(s, p, img, kept)
	p, bad := imagePolicy(p, img.Tags)
	if bad != "" {
		// Kept where it stands: not moved on under a wait nobody asked
		// for, nor its out-of-use time cleared, so that fixing the tag
		// resumes the stages.
		holds = append(holds, Hold{Reason: KeptBadTag, By: bad})
		if len(holds) == 1 {
			d.Holds = holds
			return d
		}
	}
	d.Holds = holds
	switch {
	case len(holds) > 0:
		// One action a night; each of them on an image in use also clears
		// the ledger's UnusedSince.
		d.Stage = StageInUse
		switch {
		case img.Ledger.Staged():
			d.Action, d.Rule = ActionRestore, "Phoenix staged it and it is in use again"
		case lkg && !img.Protected:
			d.Action, d.Rule = ActionProtect, "a group's last-known-good is protected from deregistration"
		case !lkg && img.Ledger.ProtectedByPhoenix && img.Protected:
			d.Action, d.Rule = ActionUnprotect, ruleNotLastKnownGood
		case !img.Ledger.UnusedSince.IsZero():
			d.Action, d.Rule = ActionMarkUsed, "in use again: its out-of-use wait is cleared"
		}
		return d
	case img.Ledger.ProtectedByPhoenix && img.Protected:
		// No longer anyone's last-known-good: lift Phoenix's protection
		// (AWS may hold it 24 hours more); the stages follow on later
		// nights.
		d.Action, d.Rule = ActionUnprotect, ruleNotLastKnownGood
		return d
	case img.Protected:
		d.Holds = []Hold{{Reason: KeptProtected}}
		return d
	case img.Ledger.UnusedSince.IsZero():
		d.Action, d.Due = ActionMarkUnused, s.Now.Add(p.DeprecateAfter)
		d.Rule = "nothing holds it: its out-of-use wait starts"
		return d
	}
	var next Action
	var since time.Time
	var wait time.Duration
	switch d.Stage {
	case StageUnused:
		next, since, wait = ActionDeprecate, img.Ledger.UnusedSince, p.DeprecateAfter
		d.Rule = fmt.Sprintf("out of use since %s; deprecated after %s", since.UTC().Format(time.RFC3339), wait)
	case StageDeprecated:
		next, since, wait = ActionDisable, later(img.DeprecatedAt, img.Ledger.UnusedSince), p.DisableAfter
		d.Rule = fmt.Sprintf("deprecated since %s; disabled after %s", since.UTC().Format(time.RFC3339), wait)
	case StageDisabled:
		since = img.Ledger.DisabledAt
		if since.IsZero() {
			// Disabled by someone else: its wait counts from when Phoenix
			// first found it out of use.
			since = img.Ledger.UnusedSince
		}
		next, wait = ActionDeregister, p.DeregisterAfter
		d.Rule = fmt.Sprintf("disabled since %s; deregistered with its snapshots after %s", since.UTC().Format(time.RFC3339), wait)
	}
	d.Due = since.Add(wait)
	if s.Now.Before(d.Due) {
		d.Holds = []Hold{{Reason: KeptWaiting, By: string(next) + " due " + d.Due.UTC().Format(time.RFC3339)}}
		d.Rule = ""
		return d
	}
	d.Action = next
	return d
}

const ruleNotLastKnownGood = "no longer any group's last-known-good: Phoenix lifts the protection it set"

// imagePolicy returns p with the stage waits an image's tags set (its
// role's pipeline tags the images it builds), and a description of the
// first tag that does not parse.
func imagePolicy(p Policy, tags map[string]string) (Policy, string) {
	for _, w := range []struct {
		tag string
		to  *time.Duration
	}{{TagDeprecateAfter, &p.DeprecateAfter}, {TagDisableAfter, &p.DisableAfter}, {TagDeregisterAfter, &p.DeregisterAfter}} {
		v, ok := tags[w.tag]
		if !ok {
			continue
		}
		d, err := rollout.ParseDuration(strings.TrimSpace(v))
		if err != nil || d < 0 || d > MaxStageWait {
			return p, fmt.Sprintf("%s=%q (want seconds or a duration like 36h, at most %s)", w.tag, v, MaxStageWait)
		}
		*w.to = d
	}
	return p, ""
}

// imageHolds returns why img is kept, and whether it is a group's
// last-known-good.
func imageHolds(s Snapshot, p Policy, img Image, kept map[string]map[int64]bool) ([]Hold, bool) {
	var holds []Hold
	add := func(r Reason, by string) { holds = append(holds, Hold{Reason: r, By: by}) }
	if isTrue(img.Tags[TagKeep]) {
		add(KeptTagged, "")
	}
	lkg := false
	for _, g := range s.Groups {
		if g.LastKnownGoodImage == img.ID {
			add(KeptLastKnownGood, g.Key.String())
			lkg = true
		}
	}
	for _, t := range sortedTemplates(s.Templates) {
		for _, v := range t.Versions {
			if v.ImageID == img.ID && kept[t.ID][v.Number] {
				add(KeptVersion, t.ID+":"+strconv.FormatInt(v.Number, 10))
			}
		}
	}
	for _, r := range s.Rollouts {
		if r.FromImage == img.ID || r.ToImage == img.ID {
			add(KeptRollout, r.ID)
		}
	}
	for _, c := range s.Campaigns {
		if c.ImageID == img.ID {
			add(KeptCampaign, c.ID)
		}
	}
	managed := map[string]bool{}
	for _, t := range s.Templates {
		managed[t.ID] = true
	}
	for _, ref := range img.References {
		switch ref.Kind {
		case "instance":
			add(KeptInstance, ref.ARN)
		case "ssm-parameter":
			add(KeptParameter, ref.ARN)
		case "image-recipe":
			add(KeptRecipe, ref.ARN)
		case "launch-template":
			// A version of a template Phoenix manages holds the image only
			// if the plan keeps it (counted above); any other template's
			// version is someone else's and holds it.
			if id := templateIDOf(ref.ARN); !managed[id] {
				add(KeptVersion, ref.ARN+":"+strconv.FormatInt(ref.Version, 10))
			}
		default:
			// A kind Phoenix does not know: keep, to be safe.
			add(KeptVersion, ref.Kind+" "+ref.ARN)
		}
	}
	if img.Shared && !p.RetireShared {
		add(KeptShared, "")
	}
	return dedupe(holds), lkg
}

// Staged reports whether Phoenix moved the image past available.
func (t Tracked) Staged() bool { return !t.DisabledAt.IsZero() || t.Deprecated }

// stageOf reads an image's stage from EC2's state.
func stageOf(img Image, now time.Time) string {
	switch {
	case img.State == "disabled":
		return StageDisabled
	case !img.DeprecatedAt.IsZero() && !img.DeprecatedAt.After(now):
		return StageDeprecated
	}
	return StageUnused
}

// templateIDOf returns the lt-... id at the end of a launch template ARN.
func templateIDOf(arn string) string {
	_, id, _ := strings.Cut(arn, ":launch-template/")
	return id
}

// bound keeps the night's destructive actions within max, in plan order
// (versions, oldest first; then images, oldest first); the rest are kept
// for a later night.
func bound(p *Plan, max int) {
	n := 0
	for i := range p.Versions {
		d := &p.Versions[i]
		if d.Action.Destructive() {
			if n++; n > max {
				d.Action, d.Rule, d.Holds = ActionNone, "", []Hold{{Reason: KeptBounded}}
			}
		}
	}
	for i := range p.Images {
		d := &p.Images[i]
		if d.Action.Destructive() {
			if n++; n > max {
				d.Action, d.Rule, d.Holds = ActionNone, "", []Hold{{Reason: KeptBounded, By: "due " + d.Due.UTC().Format(time.RFC3339)}}
			}
		}
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func isTrue(v string) bool { return strings.EqualFold(strings.TrimSpace(v), "true") }

func dedupe(hs []Hold) []Hold {
	var out []Hold
	for _, h := range hs {
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

func sortedTemplates(ts []Template) []Template {
	out := slices.Clone(ts)
	slices.SortFunc(out, func(a, b Template) int { return cmp.Or(cmp.Compare(a.Region, b.Region), cmp.Compare(a.ID, b.ID)) })
	return out
}

func sortedImages(is []Image) []Image {
	out := slices.Clone(is)
	slices.SortFunc(out, func(a, b Image) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.Region, b.Region), cmp.Compare(a.ID, b.ID))
	})
	return out
}
