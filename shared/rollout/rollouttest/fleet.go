// Package rollouttest provides in-memory fakes of the rollout ports (Fleet,
// Ledger, Notifier, Resumer) for tests of the steps. They keep the ports'
// contracts: typed errors, idempotent writes, one active refresh per group,
// client tokens, a lease that refuses another owner, parked tokens that
// see signals which came first, and stale tokens on a second resume.
package rollouttest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Fleet is an in-memory rollout.Fleet. Set its fields up before use (or
// through its methods); every mutating call is appended to Changes so that a
// test can assert that nothing changed.
type Fleet struct {
	mu        sync.Mutex
	groups    map[rollout.GroupKey]*rollout.Group
	templates map[string]*template
	images    map[string]rollout.Image // region/id
	archs     map[string][]string
	refreshes map[rollout.GroupKey][]rollout.Refresh
	targets   []rollout.TargetState
	alarms    map[string]string
	tokens    map[string]rollout.TemplateVersion
	dryRun    map[int64]error
	failures  map[string][]failure
	nextID    int
	// changes lists every change made, as "Method detail".
	changes []string
	// Specs are the refreshes started, in order.
	specs []rollout.RefreshSpec
}

type template struct {
	versions map[int64]rollout.TemplateVersion
	def      int64
}

// failure is an injected error: before the call takes effect, or after it
// (the change is made and the answer lost, as in a Lambda timeout).
type failure struct {
	err   error
	after bool
}

// NewFleet returns an empty fleet.
func NewFleet() *Fleet {
	return &Fleet{
		groups: map[rollout.GroupKey]*rollout.Group{}, templates: map[string]*template{},
		images: map[string]rollout.Image{}, archs: map[string][]string{},
		refreshes: map[rollout.GroupKey][]rollout.Refresh{}, alarms: map[string]string{},
		tokens: map[string]rollout.TemplateVersion{}, dryRun: map[int64]error{}, failures: map[string][]failure{},
	}
}

var _ rollout.Fleet = (*Fleet)(nil)

// PutGroup adds or replaces a group.
func (f *Fleet) PutGroup(g rollout.Group) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g.Instances = slices.Clone(g.Instances)
	f.groups[g.Key] = &g
}

// SetInstances replaces a group's instances (the test plays AWS's part of
// launching and terminating).
func (f *Fleet) SetInstances(key rollout.GroupKey, in []rollout.Instance) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.groups[key].Instances = slices.Clone(in)
}

// PutVersion adds a launch template version; the first version of a
// template becomes its default.
func (f *Fleet) PutVersion(v rollout.TemplateVersion) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.templates[v.LaunchTemplateID]
	if t == nil {
		t = &template{versions: map[int64]rollout.TemplateVersion{}, def: v.Number}
		f.templates[v.LaunchTemplateID] = t
	}
	t.versions[v.Number] = v
}

// PutImage adds an image to a region.
func (f *Fleet) PutImage(region string, img rollout.Image) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.images[region+"/"+img.ID] = img
}

// SetArchitectures says which architectures an instance type supports.
func (f *Fleet) SetArchitectures(instanceType string, archs ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.archs[instanceType] = archs
}

// SetTargets replaces the target health of every target group.
func (f *Fleet) SetTargets(ts []rollout.TargetState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.targets = slices.Clone(ts)
}

// SetAlarm sets an alarm's state, creating it.
func (f *Fleet) SetAlarm(name, state string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.alarms[name] = state
}

// SetDryRunError makes DryRunLaunch of the version fail with err.
func (f *Fleet) SetDryRunError(version int64, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dryRun[version] = err
}

// AddRefresh records a refresh on the group (one Phoenix did not start,
// for instance) as the newest.
func (f *Fleet) AddRefresh(key rollout.GroupKey, r rollout.Refresh) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refreshes[key] = append([]rollout.Refresh{r}, f.refreshes[key]...)
}

// SetRefreshStatus moves a refresh to a status, as AWS would. Success with
// a desired configuration updates the group's launch template version, as
// AWS does.
func (f *Fleet) SetRefreshStatus(key rollout.GroupKey, id, status string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, r := range f.refreshes[key] {
		if r.ID != id {
			continue
		}
		f.refreshes[key][i].Status = status
		f.refreshes[key][i].RollbackEligible = status == rollout.RefreshInProgress || status == rollout.RefreshPending || status == rollout.RefreshBaking
		if status == rollout.RefreshSuccessful && r.Version != "" {
			f.groups[key].LaunchTemplateVersion = r.Version
		}
	}
}

// SetRefreshProgress sets a refresh's percentage complete.
func (f *Fleet) SetRefreshProgress(key rollout.GroupKey, id string, percent int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, r := range f.refreshes[key] {
		if r.ID == id {
			f.refreshes[key][i].PercentageComplete = percent
		}
	}
}

// Fail makes the next call of method fail with err before it has any
// effect.
func (f *Fleet) Fail(method string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures[method] = append(f.failures[method], failure{err: err})
}

// FailAfter makes the next call of method take effect and then fail with
// err: the answer is lost, as when a Lambda times out after AWS acted.
func (f *Fleet) FailAfter(method string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures[method] = append(f.failures[method], failure{err: err, after: true})
}

// Changes returns the changes made so far, as "Method detail" lines.
func (f *Fleet) Changes() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.changes)
}

// Specs returns the refreshes started so far.
func (f *Fleet) Specs() []rollout.RefreshSpec {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.specs)
}

// GroupNow returns the group as it stands.
func (f *Fleet) GroupNow(key rollout.GroupKey) rollout.Group {
	f.mu.Lock()
	defer f.mu.Unlock()
	return *f.groups[key]
}

// DefaultVersion returns a template's default version.
func (f *Fleet) DefaultVersion(id string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.templates[id].def
}

// Versions returns how many versions a template has.
func (f *Fleet) Versions(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.templates[id].versions)
}

// RefreshesNow returns the group's refreshes, newest first.
func (f *Fleet) RefreshesNow(key rollout.GroupKey) []rollout.Refresh {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.refreshes[key])
}

// injected pops the next injected failure of method; call with mu held.
func (f *Fleet) injected(method string) (failure, bool) {
	q := f.failures[method]
	if len(q) == 0 {
		return failure{}, false
	}
	f.failures[method] = q[1:]
	return q[0], true
}

// call runs a method body under the lock with failure injection.
func (f *Fleet) call(method string, body func() error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	fl, ok := f.injected(method)
	if ok && !fl.after {
		return fl.err
	}
	if err := body(); err != nil {
		return err
	}
	if ok {
		return fl.err
	}
	return nil
}

func (f *Fleet) change(format string, args ...any) {
	f.changes = append(f.changes, fmt.Sprintf(format, args...))
}

// Group implements rollout.Fleet.
func (f *Fleet) Group(_ context.Context, key rollout.GroupKey) (rollout.Group, error) {
	var out rollout.Group
	err := f.call("Group", func() error {
		g, ok := f.groups[key]
		if !ok {
			return &rollout.NotFoundError{Kind: "auto scaling group", ID: key.String()}
		}
		out = *g
		out.Instances = slices.Clone(g.Instances)
		out.Tags = maps.Clone(g.Tags)
		return nil
	})
	return out, err
}

// ResolveVersion implements rollout.Fleet.
func (f *Fleet) ResolveVersion(_ context.Context, _, id, version string) (rollout.TemplateVersion, error) {
	var out rollout.TemplateVersion
	err := f.call("ResolveVersion", func() error {
		t, ok := f.templates[id]
		if !ok {
			return &rollout.NotFoundError{Kind: "launch template", ID: id}
		}
		var n int64
		switch version {
		case "$Latest":
			n = slices.Max(slices.Collect(maps.Keys(t.versions)))
		case "$Default", "":
			n = t.def
		default:
			n, _ = strconv.ParseInt(version, 10, 64)
		}
		v, ok := t.versions[n]
		if !ok {
			return &rollout.NotFoundError{Kind: "launch template version", ID: id + ":" + version}
		}
		v.IsDefault = n == t.def
		out = v
		return nil
	})
	return out, err
}

// Image implements rollout.Fleet.
func (f *Fleet) Image(_ context.Context, region, id string) (rollout.Image, error) {
	var out rollout.Image
	err := f.call("Image", func() error {
		img, ok := f.images[region+"/"+id]
		if !ok {
			return &rollout.NotFoundError{Kind: "image", ID: id}
		}
		out = img
		return nil
	})
	return out, err
}

// Architectures implements rollout.Fleet; unknown types are absent.
func (f *Fleet) Architectures(_ context.Context, _ string, types []string) (map[string][]string, error) {
	out := map[string][]string{}
	err := f.call("Architectures", func() error {
		for _, t := range types {
			if a, ok := f.archs[t]; ok {
				out[t] = slices.Clone(a)
			}
		}
		return nil
	})
	return out, err
}

// DryRunLaunch implements rollout.Fleet.
func (f *Fleet) DryRunLaunch(_ context.Context, _, _ string, version int64) error {
	return f.call("DryRunLaunch", func() error { return f.dryRun[version] })
}

// CreateVersion implements rollout.Fleet: a repeated client token returns
// the version the first call made.
func (f *Fleet) CreateVersion(_ context.Context, _, id string, source int64, imageID, clientToken, _ string) (rollout.TemplateVersion, error) {
	var out rollout.TemplateVersion
	err := f.call("CreateVersion", func() error {
		if v, ok := f.tokens[clientToken]; ok && clientToken != "" {
			out = v
			return nil
		}
		t, ok := f.templates[id]
		if !ok {
			return &rollout.NotFoundError{Kind: "launch template", ID: id}
		}
		src, ok := t.versions[source]
		if !ok {
			return &rollout.NotFoundError{Kind: "launch template version", ID: fmt.Sprintf("%s:%d", id, source)}
		}
		v := src
		v.Number = slices.Max(slices.Collect(maps.Keys(t.versions))) + 1
		v.ImageID = imageID
		v.IsDefault = false
		t.versions[v.Number] = v
		f.tokens[clientToken] = v
		f.change("CreateVersion %s:%d image %s from %d", id, v.Number, imageID, source)
		out = v
		return nil
	})
	return out, err
}

// PinVersion implements rollout.Fleet.
func (f *Fleet) PinVersion(_ context.Context, key rollout.GroupKey, id string, version int64) error {
	return f.call("PinVersion", func() error {
		g, ok := f.groups[key]
		if !ok {
			return &rollout.NotFoundError{Kind: "auto scaling group", ID: key.String()}
		}
		v := strconv.FormatInt(version, 10)
		if g.LaunchTemplateID != id || g.LaunchTemplateVersion != v {
			g.LaunchTemplateID, g.LaunchTemplateVersion = id, v
			f.change("PinVersion %s %s:%d", key, id, version)
		}
		return nil
	})
}

// SetDefaultVersion implements rollout.Fleet.
func (f *Fleet) SetDefaultVersion(_ context.Context, _, id string, version int64) error {
	return f.call("SetDefaultVersion", func() error {
		t, ok := f.templates[id]
		if !ok || t.versions[version].Number == 0 {
			return &rollout.NotFoundError{Kind: "launch template version", ID: fmt.Sprintf("%s:%d", id, version)}
		}
		if t.def != version {
			t.def = version
			f.change("SetDefaultVersion %s:%d", id, version)
		}
		return nil
	})
}

// TemplateUsers implements rollout.Fleet: the groups of the region whose
// launch template is the one given, sorted.
func (f *Fleet) TemplateUsers(_ context.Context, region, id string) ([]string, error) {
	var out []string
	err := f.call("TemplateUsers", func() error {
		for k, g := range f.groups {
			if k.Region == region && g.LaunchTemplateID == id {
				out = append(out, k.Name)
			}
		}
		return nil
	})
	slices.Sort(out)
	return out, err
}

// StartRefresh implements rollout.Fleet: one active refresh per group.
func (f *Fleet) StartRefresh(_ context.Context, spec rollout.RefreshSpec) (string, error) {
	var id string
	err := f.call("StartRefresh", func() error {
		if _, ok := f.groups[spec.Group]; !ok {
			return &rollout.NotFoundError{Kind: "auto scaling group", ID: spec.Group.String()}
		}
		if _, ok := rollout.ActiveRefresh(f.refreshes[spec.Group]); ok {
			return &rollout.RefreshInProgressError{Group: spec.Group}
		}
		f.nextID++
		id = fmt.Sprintf("refresh-%d", f.nextID)
		f.refreshes[spec.Group] = append([]rollout.Refresh{{
			ID: id, Status: rollout.RefreshInProgress, LaunchTemplateID: spec.LaunchTemplateID,
			Version: strconv.FormatInt(spec.Version, 10), CheckpointDelay: spec.CheckpointDelay, RollbackEligible: true,
		}}, f.refreshes[spec.Group]...)
		f.specs = append(f.specs, spec)
		f.change("StartRefresh %s %s to %s:%d", spec.Group, id, spec.LaunchTemplateID, spec.Version)
		return nil
	})
	return id, err
}

// Refreshes implements rollout.Fleet.
func (f *Fleet) Refreshes(_ context.Context, key rollout.GroupKey) ([]rollout.Refresh, error) {
	var out []rollout.Refresh
	err := f.call("Refreshes", func() error {
		out = slices.Clone(f.refreshes[key])
		return nil
	})
	return out, err
}

// RollbackRefresh implements rollout.Fleet: only an active, eligible
// refresh can be rolled back.
func (f *Fleet) RollbackRefresh(_ context.Context, key rollout.GroupKey) error {
	return f.call("RollbackRefresh", func() error {
		for i, r := range f.refreshes[key] {
			if !rollout.RefreshActive(r.Status) {
				continue
			}
			if !r.RollbackEligible {
				return fmt.Errorf("IrreversibleInstanceRefresh: refresh %s cannot be rolled back", r.ID)
			}
			f.refreshes[key][i].Status = rollout.RefreshRollbackInProgress
			f.refreshes[key][i].RollbackEligible = false
			f.change("RollbackRefresh %s %s", key, r.ID)
			return nil
		}
		return &rollout.NotFoundError{Kind: "active instance refresh", ID: key.String()}
	})
}

// CancelRefresh implements rollout.Fleet.
func (f *Fleet) CancelRefresh(_ context.Context, key rollout.GroupKey) error {
	return f.call("CancelRefresh", func() error {
		for i, r := range f.refreshes[key] {
			if rollout.RefreshActive(r.Status) {
				f.refreshes[key][i].Status = rollout.RefreshCancelling
				f.refreshes[key][i].RollbackEligible = false
				f.change("CancelRefresh %s %s", key, r.ID)
				return nil
			}
		}
		return &rollout.NotFoundError{Kind: "active instance refresh", ID: key.String()}
	})
}

// TargetHealth implements rollout.Fleet.
func (f *Fleet) TargetHealth(_ context.Context, _ string, arns []string) ([]rollout.TargetState, error) {
	var out []rollout.TargetState
	err := f.call("TargetHealth", func() error {
		for _, t := range f.targets {
			if slices.Contains(arns, t.TargetGroupARN) {
				out = append(out, t)
			}
		}
		return nil
	})
	return out, err
}

// AlarmStates implements rollout.Fleet; missing alarms are absent.
func (f *Fleet) AlarmStates(_ context.Context, _ string, names []string) (map[string]string, error) {
	out := map[string]string{}
	err := f.call("AlarmStates", func() error {
		for _, n := range names {
			if s, ok := f.alarms[n]; ok {
				out[n] = s
			}
		}
		return nil
	})
	return out, err
}
