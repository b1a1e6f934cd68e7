package rollout

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// Instance refresh statuses as DescribeInstanceRefreshes reports them.
const (
	RefreshPending             = "Pending"
	RefreshInProgress          = "InProgress"
	RefreshBaking              = "Baking"
	RefreshSuccessful          = "Successful"
	RefreshFailed              = "Failed"
	RefreshCancelling          = "Cancelling"
	RefreshCancelled           = "Cancelled"
	RefreshRollbackInProgress  = "RollbackInProgress"
	RefreshRollbackFailed      = "RollbackFailed"
	RefreshRollbackSuccessful  = "RollbackSuccessful"
	ssmImagePrefix             = "resolve:ssm:"
	processInstanceRefresh     = "InstanceRefresh"
	processLaunch              = "Launch"
	processTerminate           = "Terminate"
	lifecycleInService         = "InService"
	healthHealthy              = "Healthy"
	targetHealthy              = "healthy"
	targetInitial              = "initial"
	targetUnhealthy            = "unhealthy"
	alarmStateAlarm            = "ALARM"
	defaultRefreshWarmupSecond = 300
)

// RefreshActive reports whether a refresh in this status still holds the
// group: AWS allows one active refresh per group, and a second start fails
// with InstanceRefreshInProgress.
func RefreshActive(status string) bool {
	switch status {
	case RefreshPending, RefreshInProgress, RefreshBaking, RefreshCancelling, RefreshRollbackInProgress:
		return true
	}
	return false
}

// ActiveRefresh returns the group's active refresh from a newest-first
// list, if there is one.
func ActiveRefresh(refreshes []Refresh) (Refresh, bool) {
	for _, r := range refreshes {
		if RefreshActive(r.Status) {
			return r, true
		}
	}
	return Refresh{}, false
}

// FindRefresh returns the refresh with the given id from a list.
func FindRefresh(refreshes []Refresh, id string) (Refresh, bool) {
	if id == "" {
		return Refresh{}, false
	}
	for _, r := range refreshes {
		if r.ID == id {
			return r, true
		}
	}
	return Refresh{}, false
}

// Targets reports whether the refresh's desired configuration is the
// numbered version v: how Phoenix recognises a refresh it started when the
// answer to StartInstanceRefresh was lost.
func (r Refresh) Targets(v Version) bool {
	return v.LaunchTemplateID != "" && r.LaunchTemplateID == v.LaunchTemplateID &&
		r.Version == strconv.FormatInt(v.Number, 10)
}

// NumberedVersion parses a launch template version as written on a group;
// ok is false for "$Latest", "$Default" and anything else not a positive
// number.
func NumberedVersion(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}

// EffectiveWarmup is the warmup AWS applies to a refresh: the refresh's own
// preference, else the group's default instance warmup, else its health
// check grace period, else AWS's 300 seconds.
func EffectiveWarmup(p Policy, g Group) time.Duration {
	switch {
	case p.Warmup > 0:
		return p.Warmup
	case g.DefaultWarmup > 0:
		return g.DefaultWarmup
	case g.GracePeriod > 0:
		return g.GracePeriod
	}
	return defaultRefreshWarmupSecond * time.Second
}

// AutoRollbackQualifies reports whether AWS would accept AutoRollback for a
// refresh of the group to the given image: only with a launch template,
// without attribute-based instance selection, and not for an image that
// comes from an SSM parameter alias (FIELD-NOTES section 2). Phoenix always
// refreshes to a numbered version, so that condition holds by construction.
func AutoRollbackQualifies(g Group, imageID string) bool {
	return g.LaunchTemplateID != "" && g.LaunchConfigurationName == "" && !g.AttributeBased &&
		!strings.HasPrefix(imageID, ssmImagePrefix)
}

// Capacity is how AWS paces an instance refresh for a group: the healthy
// floor it keeps and how many replacements it runs at once.
type Capacity struct {
	Desired int `json:"desired"`
	// MinHealthyCount is MinHealthyPercentage of desired rounded up, as
	// AWS rounds it.
	MinHealthyCount int `json:"minHealthyCount"`
	// MaxCount is MaxHealthyPercentage of desired rounded down, plus the
	// one extra instance AWS allows when the bounds leave no room.
	MaxCount int `json:"maxCount"`
	// Batch is how many instances are replaced at the same time.
	Batch int `json:"batch"`
	// LowestHealthy is the fewest healthy instances during the refresh.
	LowestHealthy int `json:"lowestHealthy"`
	// LaunchBeforeTerminate is true when replacements start above desired.
	LaunchBeforeTerminate bool `json:"launchBeforeTerminate"`
}

// RefreshCapacity computes a refresh's pacing with AWS's rounding: the
// minimum healthy count rounds up, the maximum rounds down, and when the two
// leave no room AWS still replaces one instance at a time, launching first
// because a maximum healthy percentage is always given.
func RefreshCapacity(desired, minHealthy, maxHealthy int) Capacity {
	c := Capacity{Desired: desired}
	if desired <= 0 {
		return c
	}
	c.MinHealthyCount = ceilDiv(desired*minHealthy, 100)
	c.MaxCount = max(desired, desired*maxHealthy/100)
	extra := c.MaxCount - desired
	room := desired - c.MinHealthyCount
	if extra == 0 && room == 0 {
		extra = 1
		c.MaxCount++
	}
	c.Batch = extra + room
	c.LowestHealthy = desired - room
	c.LaunchBeforeTerminate = extra > 0
	return c
}

func ceilDiv(a, b int) int {
	if a <= 0 {
		return 0
	}
	return (a + b - 1) / b
}

// ReplaceCount is how many instances a refresh will replace: with
// SkipMatching, those not already on the version; otherwise all of them
// except the ones already leaving.
func ReplaceCount(g Group, version int64, skipMatching bool) int {
	want := strconv.FormatInt(version, 10)
	n := 0
	for _, in := range g.Instances {
		if leaving(in) {
			continue
		}
		if skipMatching && in.LaunchTemplateVersion == want {
			continue
		}
		n++
	}
	return n
}

func leaving(in Instance) bool {
	return strings.HasPrefix(in.Lifecycle, "Terminat") || strings.HasPrefix(in.Lifecycle, "Detach")
}

// Stage is the part of a refresh up to one checkpoint.
type Stage struct {
	Percentage int `json:"percentage"`
	// Instances is how many instances have been replaced when the stage
	// ends (AWS rounds the checkpoint's share up).
	Instances int `json:"instances"`
	Batches   int `json:"batches"`
	// Pause is the checkpoint delay after the stage (none after 100).
	Pause    time.Duration `json:"pause"`
	Duration time.Duration `json:"duration"`
}

// Plan is what a refresh will do, for the CLI's plan and the Await timeout.
type Plan struct {
	Capacity
	Replace  int           `json:"replace"`
	Warmup   time.Duration `json:"warmup"`
	Stages   []Stage       `json:"stages"`
	Bake     time.Duration `json:"bake"`
	Duration time.Duration `json:"duration"`
}

// PlanRefresh predicts a refresh of replace instances under the policy:
// the batches of each checkpoint stage, the lowest healthy count, and the
// duration. Each batch takes one warmup (launch time is part of it in
// practice), each checkpoint before 100 pauses for the checkpoint delay,
// and the bake time follows the last replacement.
func PlanRefresh(g Group, p Policy, replace int) Plan {
	pl := Plan{
		Capacity: RefreshCapacity(g.Desired, p.MinHealthy, p.MaxHealthy),
		Replace:  replace,
		Warmup:   EffectiveWarmup(p, g),
		Bake:     p.Bake,
	}
	checkpoints := p.Checkpoints
	if len(checkpoints) == 0 {
		checkpoints = []int{100}
	}
	done := 0
	for i, pct := range checkpoints {
		upTo := min(replace, ceilDiv(pct*replace, 100))
		st := Stage{Percentage: pct, Instances: upTo}
		if n := upTo - done; n > 0 && pl.Batch > 0 {
			st.Batches = ceilDiv(n, pl.Batch)
		}
		st.Duration = time.Duration(st.Batches) * pl.Warmup
		if i < len(checkpoints)-1 {
			st.Pause = p.CheckpointDelay
		}
		done = upTo
		pl.Stages = append(pl.Stages, st)
		pl.Duration += st.Duration + st.Pause
	}
	pl.Duration += pl.Bake
	return pl
}

// checkpointAt returns the highest checkpoint at or below percent, or 0.
func checkpointAt(checkpoints []int, percent int) int {
	at := 0
	for _, c := range slices.Sorted(slices.Values(checkpoints)) {
		if c <= percent {
			at = c
		}
	}
	return at
}
