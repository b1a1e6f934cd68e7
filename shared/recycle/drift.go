package recycle

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/emf"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Drift is one group's drift report: how far its instances are from what
// the group says they should be. The ledger keeps the latest report per
// group (item DRIFT), and the night publishes it as metrics.
type Drift struct {
	Group   rollout.GroupKey `json:"target"`
	At      time.Time        `json:"at"`
	EventID string           `json:"eventId"`
	// Desired is the group's launch template version resolved to a
	// number, and its image; zero when it could not be resolved (see
	// Note), in which case no instance is judged off version or image.
	Desired rollout.Version `json:"desired"`
	// MaxAgeSeconds is the group's max age the report judged by.
	MaxAgeSeconds int64 `json:"maxAgeSeconds"`
	// Instances counts the instances judged: every member not leaving
	// the group.
	Instances  int `json:"instances"`
	OffVersion int `json:"offVersion"`
	OffImage   int `json:"offImage"`
	OverMaxAge int `json:"overMaxAge"`
	// OldestAgeSeconds is the age of the oldest judged instance.
	OldestAgeSeconds int64 `json:"oldestAgeSeconds"`
	// Offenders are the ids of up to MaxOffenders drifting instances,
	// oldest first.
	Offenders []string `json:"offenders,omitempty"`
	// Note says why versions or images were not judged.
	Note string `json:"note,omitempty"`
}

// Drifting reports whether any instance drifts.
func (d Drift) Drifting() bool { return d.OffVersion+d.OffImage+d.OverMaxAge > 0 }

// ComputeDrift judges a group's instances at now against desired (the
// group's launch template version resolved to a number; nil when it could
// not be) and maxAge. An instance is off version when it was launched from
// another version than the desired one, off image when it runs another
// image than the desired version's (not judged when that image is an SSM
// alias, resolved only at launch), and over age when it is at least maxAge
// old. Instances leaving the group (terminating, detaching) are not
// judged; one whose launch time is unknown is not judged for age. The
// caller sets EventID, and may replace Note with a better reason.
func ComputeDrift(g rollout.Group, desired *rollout.TemplateVersion, maxAge time.Duration, now time.Time) Drift {
	d := Drift{Group: g.Key, At: now.UTC(), MaxAgeSeconds: int64(maxAge / time.Second)}
	judgeVersion, judgeImage := desired != nil, desired != nil
	switch {
	case desired == nil:
		d.Note = "the group's launch template version could not be resolved, so versions and images are not judged"
	case strings.HasPrefix(desired.ImageID, ssmImageAlias):
		judgeImage = false
		d.Note = "the desired version's image is an SSM alias, resolved only at launch, so images are not judged"
	}
	if desired != nil {
		d.Desired = rollout.Version{LaunchTemplateID: desired.LaunchTemplateID, Number: desired.Number, ImageID: desired.ImageID}
	}
	type offender struct {
		id     string
		launch time.Time
	}
	var offenders []offender
	for _, in := range g.Instances {
		if leaving(in.Lifecycle) {
			continue
		}
		d.Instances++
		drifts := false
		if judgeVersion && in.LaunchTemplateVersion != strconv.FormatInt(desired.Number, 10) {
			d.OffVersion++
			drifts = true
		}
		if judgeImage && in.ImageID != desired.ImageID {
			d.OffImage++
			drifts = true
		}
		if !in.LaunchTime.IsZero() {
			age := max(now.Sub(in.LaunchTime), 0)
			d.OldestAgeSeconds = max(d.OldestAgeSeconds, int64(age/time.Second))
			if age >= maxAge {
				d.OverMaxAge++
				drifts = true
			}
		}
		if drifts {
			offenders = append(offenders, offender{in.ID, in.LaunchTime})
		}
	}
	slices.SortFunc(offenders, func(a, b offender) int {
		if c := a.launch.Compare(b.launch); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	for _, o := range offenders[:min(len(offenders), MaxOffenders)] {
		d.Offenders = append(d.Offenders, o.id)
	}
	return d
}

// Metric names (docs/recycle.md, "Metrics"), in namespace MetricNamespace.
const (
	MetricNamespace  = emf.Namespace
	MetricOffVersion = "InstancesOffVersion"
	MetricOffImage   = "InstancesOffImage"
	MetricOverMaxAge = "InstancesOverMaxAge"
	MetricOldestAge  = "OldestInstanceAgeSeconds"
	dimensionGroup   = "Group"
	ssmImageAlias    = "resolve:ssm:"
)

// MetricLine is the report as one embedded metric format line: the four
// metrics with dimension Group, and the rollup without dimensions, so
// that one alarm can watch the whole region (Sum of the counts, Maximum of
// the age).
func (d Drift) MetricLine() emf.Line {
	return emf.Line{
		Namespace:  MetricNamespace,
		Time:       d.At,
		Dimensions: map[string]string{dimensionGroup: d.Group.Name},
		Metrics: []emf.Metric{
			{Name: MetricOffVersion, Unit: emf.UnitCount, Value: float64(d.OffVersion)},
			{Name: MetricOffImage, Unit: emf.UnitCount, Value: float64(d.OffImage)},
			{Name: MetricOverMaxAge, Unit: emf.UnitCount, Value: float64(d.OverMaxAge)},
			{Name: MetricOldestAge, Unit: emf.UnitSeconds, Value: float64(d.OldestAgeSeconds)},
		},
		Properties: map[string]any{"region": d.Group.Region, "eventId": d.EventID},
	}
}

// leaving reports whether a lifecycle state is on the way out of the group.
func leaving(lifecycle string) bool {
	return strings.HasPrefix(lifecycle, "Terminat") || strings.HasPrefix(lifecycle, "Detach")
}
