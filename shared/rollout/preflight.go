package rollout

import (
	"fmt"
	"slices"
	"strings"
)

// PreflightInput is everything preflight looks at. The step gathers it from
// the Fleet before anything is changed.
type PreflightInput struct {
	Request Request
	Group   Group
	Policy  Policy
	// Current is the numbered version the group's launch template reference
	// resolves to today (zero for a launch-configuration group).
	Current TemplateVersion
	// Target is the version a revert refreshes to (ModeRevert only).
	Target TemplateVersion
	// Image is the image the refresh will launch; nil when it does not
	// exist in the group's region.
	Image *Image
	// Architectures maps each instance type to its supported
	// architectures; a type missing from the map is unknown in the region.
	Architectures map[string][]string
	// Refreshes are the group's refreshes, newest first.
	Refreshes []Refresh
	// Alarms are the guard alarms' states; a missing alarm is absent.
	Alarms map[string]string
	// Own is the rollout's own to-version when a retried Prepare already
	// created it; a refresh to it is not foreign.
	Own Version
}

// PreflightResult is the policy preflight accepted, possibly adjusted for
// the group's size, with the reasons for each adjustment.
type PreflightResult struct {
	Policy      Policy
	Capacity    Capacity
	Adjustments []string
}

// TriggerManual is the trigger kind of an operator's rollout, which may
// target a group that is not opted in by tag.
const TriggerManual = "manual"

// refusedProcesses are the scaling processes without which a refresh stalls
// for an hour and then fails: better refused at once.
var refusedProcesses = []string{processInstanceRefresh, processLaunch, processTerminate}

// Preflight decides whether a rollout may start on the group. It refuses
// with *PreflightError, naming the reason in a sentence an operator can act
// on, when the refresh could not work or could not be rolled back; it
// adjusts the healthy percentages when AWS's rounding would otherwise
// behave differently from the policy on a small group. Nothing has been
// changed when it refuses.
func Preflight(in PreflightInput) (PreflightResult, error) {
	g := in.Group
	refuse := func(format string, args ...any) (PreflightResult, error) {
		return PreflightResult{}, &PreflightError{Group: g.Key, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case g.LaunchConfigurationName != "" || g.LaunchTemplateID == "":
		name := g.LaunchConfigurationName
		if name == "" {
			name = "(none)"
		}
		return refuse("the group uses launch configuration %s; Phoenix needs a launch template, because rollback and desired configurations work only with launch templates", name)
	case g.AttributeBased:
		return refuse("the group selects instance types by attributes (InstanceRequirements), and instance refresh rejects a desired configuration for such groups")
	}
	var paced []string
	if in.Request.Mode == ModeRevert {
		in.Policy, paced = revertPace(in.Policy, nil)
	}
	if !in.Policy.Enabled && in.Request.Trigger.Kind != TriggerManual {
		return refuse("the group is not opted in; tag it %s=true (a manual rollout may skip this)", TagEnabled)
	}
	for _, p := range refusedProcesses {
		if slices.Contains(g.SuspendedProcesses, p) {
			return refuse("the %s process is suspended on the group, so an instance refresh would stall; resume it first", p)
		}
	}
	if active, ok := ActiveRefresh(in.Refreshes); ok && (in.Own.Number == 0 || !active.Targets(in.Own)) {
		return refuse("instance refresh %s (%s) is already running on the group and Phoenix did not start it", active.ID, active.Status)
	}
	if in.Request.Mode == ModeImage && in.Current.ImageID == in.Request.ImageID && in.Own.Number == 0 {
		return refuse("launch template version %d already runs image %s; use a recycle to replace instances on the same image", in.Current.Number, in.Request.ImageID)
	}
	if in.Request.Mode == ModeRevert && in.Target.Number == 0 {
		return refuse("launch template version %d does not exist", in.Request.Version)
	}
	if reason := imageProblem(in); reason != "" {
		return refuse("%s", reason)
	}
	for _, a := range in.Policy.Alarms {
		if _, ok := in.Alarms[a]; !ok {
			return refuse("guard alarm %s does not exist in %s, so validation could never pass", a, g.Key.Region)
		}
	}
	pol, capa, adjustments := adjustHealthy(in.Policy, g.Desired)
	return PreflightResult{Policy: pol, Capacity: capa, Adjustments: append(paced, adjustments...)}, nil
}

// revertPace is the pace of a revert rollout: it goes back to a version
// that ran well until recently, so it does not stop at checkpoints or bake
// (the fleet is on a bad version meanwhile), and it does not hand the guard
// alarms to AutoRollback: the alarm that asked for the revert is likely still
// in ALARM, and AWS would roll the revert back onto the bad version.
func revertPace(p Policy, adjustments []string) (Policy, []string) {
	if !slices.Equal(p.Checkpoints, []int{100}) || p.Bake != 0 || len(p.Alarms) > 0 {
		adjustments = append(adjustments, "a revert goes straight back to a known-good version: no checkpoints, no bake, guard alarms not consulted")
	}
	p.Checkpoints, p.Bake, p.Alarms = []int{100}, 0, nil
	return p, adjustments
}

// imageProblem explains why the image cannot be launched by the group, or
// returns "".
func imageProblem(in PreflightInput) string {
	imageID := in.Request.ImageID
	switch in.Request.Mode {
	case ModeRecycle:
		imageID = in.Current.ImageID
	case ModeRevert:
		imageID = in.Target.ImageID
	}
	if strings.HasPrefix(imageID, ssmImagePrefix) {
		// The alias is resolved at launch; the dry run checks it.
		return ""
	}
	img := in.Image
	if img == nil {
		return fmt.Sprintf("image %s does not exist in %s; images are regional, copy it there first", imageID, in.Group.Key.Region)
	}
	if img.State != "available" {
		return fmt.Sprintf("image %s is %s, not available", img.ID, img.State)
	}
	types := in.Group.InstanceTypes
	if len(types) == 0 && in.Current.InstanceType != "" {
		types = []string{in.Current.InstanceType}
	}
	for _, t := range types {
		archs, ok := in.Architectures[t]
		if !ok {
			return fmt.Sprintf("instance type %s is not offered in %s", t, in.Group.Key.Region)
		}
		if img.Architecture != "" && !slices.Contains(archs, img.Architecture) {
			return fmt.Sprintf("image %s is %s but instance type %s supports %s", img.ID, img.Architecture, t, strings.Join(archs, ", "))
		}
	}
	return ""
}

// adjustHealthy makes AWS's pacing match the policy on small groups. When
// the rounded-up minimum healthy count equals the group's size and the
// rounded-down maximum leaves no extra instance, AWS still replaces one
// instance at a time, and only the combination 100/100 is documented to
// launch first. Phoenix then raises MaxHealthy to the least value that lets
// one instance launch before one terminates (and, for a group of one, sets
// MinHealthy to 100, which AWS rounds to the same count, so the pair stays
// within AWS's 100-point spread).
func adjustHealthy(p Policy, desired int) (Policy, Capacity, []string) {
	c := RefreshCapacity(desired, p.MinHealthy, p.MaxHealthy)
	documented := p.MinHealthy == 100 && p.MaxHealthy == 100
	if documented || desired <= 0 || c.MinHealthyCount < desired || desired*p.MaxHealthy/100 > desired {
		return p, c, nil
	}
	want := min(200, ceilDiv(100*(desired+1), desired))
	minH := p.MinHealthy
	if want-minH > 100 {
		minH = want - 100
	}
	if want == p.MaxHealthy && minH == p.MinHealthy {
		return p, c, nil
	}
	reason := fmt.Sprintf("on %d instance(s), min healthy %d%% rounds up to all of them and max healthy %d%% rounds down to no extra instance; using %d%%/%d%% so one new instance launches before an old one terminates",
		desired, p.MinHealthy, p.MaxHealthy, minH, want)
	p.MinHealthy, p.MaxHealthy = minH, want
	return p, RefreshCapacity(desired, p.MinHealthy, p.MaxHealthy), []string{reason}
}
