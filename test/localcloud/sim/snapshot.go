package sim

import (
	"maps"
	"slices"
	"sort"
	"time"
)

// RegionSnapshot is one region's state as the admin API shows it: enough to
// see what a fleet runs and what is happening to it, in a stable JSON shape.
type RegionSnapshot struct {
	Region          string                   `json:"region"`
	Groups          []GroupSnapshot          `json:"groups"`
	Instances       []InstanceSnapshot       `json:"instances"`
	Images          []ImageSnapshot          `json:"images"`
	LaunchTemplates []LaunchTemplateSnapshot `json:"launchTemplates"`
	TargetGroups    []TargetGroupSnapshot    `json:"targetGroups"`
}

// GroupSnapshot is an Auto Scaling group with its instances and refreshes.
type GroupSnapshot struct {
	Name               string              `json:"name"`
	MinSize            int32               `json:"minSize"`
	MaxSize            int32               `json:"maxSize"`
	DesiredCapacity    int32               `json:"desiredCapacity"`
	Launch             LaunchSource        `json:"launch"`
	HealthCheckType    string              `json:"healthCheckType"`
	TargetGroupARNs    []string            `json:"targetGroupARNs,omitempty"`
	SuspendedProcesses []string            `json:"suspendedProcesses,omitempty"`
	Tags               map[string]string   `json:"tags,omitempty"`
	Instances          []GroupInstanceView `json:"instances"`
	Refreshes          []RefreshSnapshot   `json:"refreshes"`
}

// GroupInstanceView is one member of a group.
type GroupInstanceView struct {
	InstanceID            string `json:"instanceId"`
	LifecycleState        string `json:"lifecycleState"`
	HealthStatus          string `json:"healthStatus"`
	ImageID               string `json:"imageId"`
	LaunchTemplateVersion string `json:"launchTemplateVersion,omitempty"`
	AvailabilityZone      string `json:"availabilityZone"`
	ProtectedFromScaleIn  bool   `json:"protectedFromScaleIn,omitempty"`
	Ready                 bool   `json:"ready"`
}

// RefreshSnapshot is one instance refresh.
type RefreshSnapshot struct {
	ID                 string       `json:"id"`
	Status             string       `json:"status"`
	StatusReason       string       `json:"statusReason,omitempty"`
	PercentageComplete int32        `json:"percentageComplete"`
	InstancesToUpdate  int32        `json:"instancesToUpdate"`
	StartTime          time.Time    `json:"startTime"`
	EndTime            *time.Time   `json:"endTime,omitempty"`
	Target             LaunchSource `json:"target"`
	Saved              LaunchSource `json:"saved"`
}

// InstanceSnapshot is an EC2 instance.
type InstanceSnapshot struct {
	InstanceID            string    `json:"instanceId"`
	State                 string    `json:"state"`
	ImageID               string    `json:"imageId"`
	InstanceType          string    `json:"instanceType"`
	LaunchTemplateID      string    `json:"launchTemplateId,omitempty"`
	LaunchTemplateVersion string    `json:"launchTemplateVersion,omitempty"`
	GroupName             string    `json:"groupName,omitempty"`
	AvailabilityZone      string    `json:"availabilityZone"`
	LaunchTime            time.Time `json:"launchTime"`
	Behavior              string    `json:"behavior"`
}

// ImageSnapshot is an AMI.
type ImageSnapshot struct {
	ImageID      string            `json:"imageId"`
	Name         string            `json:"name"`
	State        string            `json:"state"`
	OwnerID      string            `json:"ownerId"`
	Architecture string            `json:"architecture"`
	Tags         map[string]string `json:"tags,omitempty"`
}

// LaunchTemplateSnapshot is a launch template and its versions' images.
type LaunchTemplateSnapshot struct {
	ID             string           `json:"launchTemplateId"`
	Name           string           `json:"name"`
	DefaultVersion int64            `json:"defaultVersion"`
	LatestVersion  int64            `json:"latestVersion"`
	VersionImages  map[int64]string `json:"versionImages"`
}

// TargetGroupSnapshot is a target group and its targets' health.
type TargetGroupSnapshot struct {
	ARN     string         `json:"arn"`
	Name    string         `json:"name"`
	Targets []TargetHealth `json:"targets"`
}

// TargetHealth is one target's health in a target group.
type TargetHealth struct {
	ID     string `json:"id"`
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
}

// Snapshot returns every region's state, regions and resources sorted by
// name or id so that two snapshots of the same state are byte-identical.
func (w *World) Snapshot() []RegionSnapshot {
	w.mu.Lock()
	defer w.mu.Unlock()
	names := make([]string, 0, len(w.regions))
	for n := range w.regions {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]RegionSnapshot, 0, len(names))
	for _, n := range names {
		out = append(out, w.snapshotRegion(w.regions[n]))
	}
	return out
}

func (w *World) snapshotRegion(r *Region) RegionSnapshot {
	s := RegionSnapshot{
		Region:          r.Name,
		Groups:          []GroupSnapshot{},
		Instances:       []InstanceSnapshot{},
		Images:          []ImageSnapshot{},
		LaunchTemplates: []LaunchTemplateSnapshot{},
		TargetGroups:    []TargetGroupSnapshot{},
	}
	for _, name := range slices.Sorted(maps.Keys(r.Groups)) {
		s.Groups = append(s.Groups, snapshotGroup(r.Groups[name]))
	}
	for _, id := range slices.Sorted(maps.Keys(r.Instances)) {
		in := r.Instances[id]
		s.Instances = append(s.Instances, InstanceSnapshot{
			InstanceID: in.ID, State: in.State, ImageID: in.ImageID, InstanceType: in.InstanceType,
			LaunchTemplateID: in.LaunchTemplateID, LaunchTemplateVersion: in.LaunchTemplateVersion,
			GroupName: in.GroupName, AvailabilityZone: in.AZ, LaunchTime: in.LaunchTime,
			Behavior: in.Behavior.String(),
		})
	}
	for _, id := range slices.Sorted(maps.Keys(r.Images)) {
		im := r.Images[id]
		s.Images = append(s.Images, ImageSnapshot{
			ImageID: im.ID, Name: im.Name, State: im.State, OwnerID: im.OwnerID,
			Architecture: im.Architecture, Tags: im.Tags,
		})
	}
	for _, id := range slices.Sorted(maps.Keys(r.LaunchTemplates)) {
		lt := r.LaunchTemplates[id]
		v := LaunchTemplateSnapshot{ID: lt.ID, Name: lt.Name, DefaultVersion: lt.DefaultVersion,
			LatestVersion: lt.LatestVersion, VersionImages: map[int64]string{}}
		for n, ver := range lt.Versions {
			v.VersionImages[n] = ver.ImageID
		}
		s.LaunchTemplates = append(s.LaunchTemplates, v)
	}
	for _, arn := range slices.Sorted(maps.Keys(r.TargetGroups)) {
		tg := r.TargetGroups[arn]
		v := TargetGroupSnapshot{ARN: tg.ARN, Name: tg.Name, Targets: []TargetHealth{}}
		for _, id := range slices.Sorted(maps.Keys(tg.Targets)) {
			t := tg.Targets[id]
			v.Targets = append(v.Targets, TargetHealth{ID: t.ID, State: t.State, Reason: t.Reason})
		}
		s.TargetGroups = append(s.TargetGroups, v)
	}
	return s
}

func snapshotGroup(g *Group) GroupSnapshot {
	v := GroupSnapshot{
		Name: g.Name, MinSize: g.MinSize, MaxSize: g.MaxSize, DesiredCapacity: g.DesiredCapacity,
		Launch: g.Launch, HealthCheckType: g.HealthCheckType, TargetGroupARNs: g.TargetGroupARNs,
		Instances: []GroupInstanceView{}, Refreshes: []RefreshSnapshot{},
	}
	v.SuspendedProcesses = append(v.SuspendedProcesses, slices.Sorted(maps.Keys(g.SuspendedProcesses))...)
	if len(g.Tags) > 0 {
		v.Tags = map[string]string{}
		for _, t := range g.Tags {
			v.Tags[t.Key] = t.Value
		}
	}
	for _, id := range slices.Sorted(maps.Keys(g.Instances)) {
		gi := g.Instances[id]
		iv := GroupInstanceView{
			InstanceID: gi.InstanceID, LifecycleState: gi.LifecycleState, HealthStatus: gi.HealthStatus,
			ImageID: gi.ImageID, AvailabilityZone: gi.AvailabilityZone,
			ProtectedFromScaleIn: gi.ProtectedFromScaleIn, Ready: gi.Ready,
		}
		if gi.LaunchTemplate != nil {
			iv.LaunchTemplateVersion = gi.LaunchTemplate.Version
		}
		v.Instances = append(v.Instances, iv)
	}
	for _, r := range g.Refreshes {
		v.Refreshes = append(v.Refreshes, RefreshSnapshot{
			ID: r.ID, Status: r.Status, StatusReason: r.StatusReason, PercentageComplete: r.PercentageComplete,
			InstancesToUpdate: r.InstancesToUpdate, StartTime: r.StartTime, EndTime: r.EndTime,
			Target: r.Target, Saved: r.Saved,
		})
	}
	return v
}
