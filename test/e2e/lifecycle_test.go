package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"

	"github.com/phoenix-rollouts/phoenix/cmd/phoenix/cli"
	"github.com/phoenix-rollouts/phoenix/shared/ledger"
	"github.com/phoenix-rollouts/phoenix/shared/lifecycle"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/functions"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/sim"
)

// lifecycleNight is the image lifecycle schedule's firing n nights after
// recycleStart's (template default cron(30 4 * * ? *)).
func lifecycleNight(n int) time.Time {
	return time.Date(2026, time.January, 5+n, 4, 30, 0, 0, time.UTC)
}

// lifecycleLog reads the region's lifecycle log.
func (r *rig) lifecycleLog() []ledger.LifecycleEntry {
	r.t.Helper()
	entries, err := ledger.New(r.ddb, r.table).LifecycleLog(r.ctx, region, time.Time{}, 0)
	if err != nil {
		r.t.Fatalf("read the lifecycle log: %v", err)
	}
	return entries
}

// summaries returns the nightly lifecycle summaries the topic received.
func (r *rig) summaries() []string {
	var out []string
	for _, m := range r.env.Cloud.SNS.Messages(r.topic) {
		if strings.HasPrefix(m.Subject, "Phoenix image lifecycle") {
			out = append(out, m.Subject+"\n"+m.Message)
		}
	}
	return out
}

// lcRig is a recycle rig for the image lifecycle scenarios, with the
// image-lifecycle function at hand.
type lcRig struct {
	*recycleRig
	lifecycleFn string // the image-lifecycle function's physical name
}

// newLifecycleRig deploys template.yaml with parameters on a cloud starting
// at recycleStart (the recycle scheduler off unless parameters say
// otherwise).
func newLifecycleRig(t *testing.T, seed uint64, parameters map[string]string) *lcRig {
	t.Helper()
	params := map[string]string{"RecycleMaxPerNight": "0"}
	maps.Copy(params, parameters)
	r := newRecycleRig(t, seed, params)
	fn, ok := r.stack.Resources["ImageLifecycleFunction"]
	if !ok {
		t.Fatal("the stack has no ImageLifecycleFunction")
	}
	return &lcRig{recycleRig: r, lifecycleFn: fn.PhysicalID}
}

// leanTags are the policy of the lifecycle scenarios' groups: one
// checkpoint, no pauses, a warmup that covers the application's start.
// Their rollouts take minutes of simulated time; the lifecycle does not
// care how a version came to be finalized.
var leanTags = map[string]string{
	"phoenix:enabled":          "true",
	"phoenix:checkpoints":      "100",
	"phoenix:checkpoint-delay": "0",
	"phoenix:bake":             "0",
	"phoenix:warmup":           "60",
}

// roleImages registers one AMI per name, tagged with the role (so that the
// lifecycle may retire it even if no rollout rolls it) and with instances
// that behave as told, and waits until all are available.
func (r *lcRig) roleImages(role, behavior string, names ...string) []string {
	r.t.Helper()
	var ids []string
	for _, name := range names {
		out, err := r.env.EC2.RegisterImage(r.ctx, &ec2.RegisterImageInput{
			Name: aws.String(name), Architecture: ec2types.ArchitectureValuesX8664, RootDeviceName: aws.String("/dev/xvda"),
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeImage, Tags: []ec2types.Tag{
				{Key: aws.String("phoenix-sim:behavior"), Value: aws.String(behavior)},
				{Key: aws.String(lifecycle.TagRole), Value: aws.String(role)},
			}}},
		})
		if err != nil {
			r.t.Fatalf("register image %s: %v", name, err)
		}
		ids = append(ids, aws.ToString(out.ImageId))
	}
	r.env.RunUntil(r.t, time.Hour, fmt.Sprintf("images %v to be available", names), func() bool {
		imgs, err := r.env.EC2.DescribeImages(r.ctx, &ec2.DescribeImagesInput{ImageIds: ids})
		if err != nil || len(imgs.Images) != len(ids) {
			return false
		}
		for _, img := range imgs.Images {
			if img.State != ec2types.ImageStateAvailable {
				return false
			}
		}
		return true
	})
	return ids
}

// leanSpec is a group of the lifecycle scenarios: one instance, no load
// balancer (its health checks would cost most of a simulated day's wall
// time), on a launch template of its own or on another group's.
type leanSpec struct {
	name string
	// template, when set, is the launch template the group launches from
	// (at its default version); otherwise the group gets a template of its
	// own on a new image of role name.
	template string
	tags     map[string]string
}

// leanGroups creates the groups and waits until each has its instance in
// service.
func (r *lcRig) leanGroups(specs ...leanSpec) []fleet {
	r.t.Helper()
	var out []fleet
	for _, spec := range specs {
		f := fleet{name: spec.name, launchTemplate: spec.template}
		version := "1"
		if f.launchTemplate == "" {
			f.image = r.roleImages(spec.name, "healthy", spec.name+"-v1")[0]
			lt, err := r.env.EC2.CreateLaunchTemplate(r.ctx, &ec2.CreateLaunchTemplateInput{
				LaunchTemplateName: aws.String(spec.name),
				LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(f.image), InstanceType: ec2types.InstanceTypeT3Micro},
			})
			if err != nil {
				r.t.Fatalf("create launch template %s: %v", spec.name, err)
			}
			f.launchTemplate = aws.ToString(lt.LaunchTemplate.LaunchTemplateId)
		} else {
			v := r.defaultVersion(f.launchTemplate)
			version = strconv.FormatInt(v, 10)
			f.image = r.versionImages(f.launchTemplate)[v]
		}
		tags := maps.Clone(leanTags)
		maps.Copy(tags, spec.tags)
		var asTags []astypes.Tag
		for _, k := range sortedKeys(tags) {
			asTags = append(asTags, astypes.Tag{Key: aws.String(k), Value: aws.String(tags[k]), PropagateAtLaunch: aws.Bool(false)})
		}
		if _, err := r.env.AutoScaling.CreateAutoScalingGroup(r.ctx, &autoscaling.CreateAutoScalingGroupInput{
			AutoScalingGroupName: aws.String(spec.name), MinSize: aws.Int32(1), MaxSize: aws.Int32(2), DesiredCapacity: aws.Int32(1),
			AvailabilityZones: []string{"us-east-1a", "us-east-1b"}, HealthCheckType: aws.String("EC2"),
			HealthCheckGracePeriod: aws.Int32(60), DefaultInstanceWarmup: aws.Int32(60), Tags: asTags,
			LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(f.launchTemplate), Version: aws.String(version)},
		}); err != nil {
			r.t.Fatalf("create group %s: %v", spec.name, err)
		}
		out = append(out, f)
	}
	r.env.RunUntil(r.t, time.Hour, "every new group's instance in service", func() bool {
		for _, f := range out {
			if r.group(f.name).inService != 1 {
				return false
			}
		}
		return true
	})
	return out
}

// roll runs an image rollout through the state machine to its end and
// returns the ledger's record of it.
func (r *lcRig) roll(id, group, image string) ledgerRollout {
	r.t.Helper()
	return r.await(id, r.start(id, group, image))
}

// await waits for a rollout's execution to succeed (the state machine ends
// well whether the rollout finalized or reverted) and returns the ledger's
// record of it.
func (r *lcRig) await(id, arn string) ledgerRollout {
	r.t.Helper()
	if end := r.wait(arn, rolloutLimit); end.Status != sfntypes.ExecutionStatusSucceeded {
		r.t.Fatalf("rollout %s: execution %s: %s %s\n%s", id, end.Status, aws.ToString(end.Error), aws.ToString(end.Cause), r.functionLogs())
	}
	return r.rollout(id)
}

// lcRequest is the execution input of a rollout in any mode: image (with
// image), recycle, or revert (to version, what `phoenix rollback
// --to-version` starts).
func lcRequest(id, group, mode, image string, version int64) string {
	req := map[string]any{
		"rolloutId": id,
		"target":    map[string]string{"region": region, "group": group},
		"mode":      mode,
		"trigger":   map[string]string{"kind": "manual", "source": "e2e"},
	}
	if image != "" {
		req["imageId"] = image
	}
	if version != 0 {
		req["version"] = version
	}
	b, _ := json.Marshal(map[string]any{"request": req})
	return string(b)
}

// startInput starts an execution of the rollout state machine.
func (r *lcRig) startInput(id, input string) string {
	r.t.Helper()
	out, err := r.env.StepFunctions.StartExecution(r.ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(r.machine), Name: aws.String(id), Input: aws.String(input),
	})
	if err != nil {
		r.t.Fatalf("start rollout %s: %v", id, err)
	}
	return aws.ToString(out.ExecutionArn)
}

// nights steps simulated time until the topic has had n lifecycle
// summaries (each night sends one), at most limit.
func (r *lcRig) nights(n int, limit time.Duration) {
	r.t.Helper()
	r.env.RunUntil(r.t, limit, fmt.Sprintf("lifecycle summary %d", n), func() bool { return len(r.summaries()) >= n })
	if got := len(r.summaries()); got != n {
		r.t.Fatalf("%d lifecycle summaries, want %d\n%s", got, n, r.functionLogs())
	}
}

// ownImages returns the account's images in the region, deprecated and
// disabled ones included, by id: an image not in it is deregistered (EC2
// lists a deregistered image for a while; it is left out).
func (r *lcRig) ownImages() map[string]ec2types.Image {
	r.t.Helper()
	out := map[string]ec2types.Image{}
	p := ec2.NewDescribeImagesPaginator(r.env.EC2, &ec2.DescribeImagesInput{
		Owners: []string{"self"}, IncludeDeprecated: aws.Bool(true), IncludeDisabled: aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(r.ctx)
		if err != nil {
			r.t.Fatalf("describe own images: %v", err)
		}
		for _, img := range page.Images {
			if img.State != ec2types.ImageStateDeregistered {
				out[aws.ToString(img.ImageId)] = img
			}
		}
	}
	return out
}

// versionImages returns a launch template's versions with their images.
func (r *lcRig) versionImages(lt string) map[int64]string {
	r.t.Helper()
	out := map[int64]string{}
	p := ec2.NewDescribeLaunchTemplateVersionsPaginator(r.env.EC2, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(lt)})
	for p.HasMorePages() {
		page, err := p.NextPage(r.ctx)
		if err != nil {
			r.t.Fatalf("describe versions of %s: %v", lt, err)
		}
		for _, v := range page.LaunchTemplateVersions {
			out[aws.ToInt64(v.VersionNumber)] = aws.ToString(v.LaunchTemplateData.ImageId)
		}
	}
	return out
}

// launches asks EC2 whether an instance of the template's version would
// launch (RunInstances with DryRun): nil when it would.
func (r *lcRig) launches(lt string, version int64) error {
	r.t.Helper()
	_, err := r.env.EC2.RunInstances(r.ctx, &ec2.RunInstancesInput{
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), DryRun: aws.Bool(true),
		LaunchTemplate: &ec2types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(lt), Version: aws.String(strconv.FormatInt(version, 10))},
	})
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorCode() == "DryRunOperation" {
		return nil
	}
	if err == nil {
		return errors.New("a dry run launched an instance")
	}
	return err
}

// snapshotsOf returns the ids of the EBS snapshots behind an image.
func snapshotsOf(img ec2types.Image) []string {
	var out []string
	for _, m := range img.BlockDeviceMappings {
		if m.Ebs != nil && aws.ToString(m.Ebs.SnapshotId) != "" {
			out = append(out, aws.ToString(m.Ebs.SnapshotId))
		}
	}
	return out
}

// snapshotsLeft returns which of the snapshots still exist.
func (r *lcRig) snapshotsLeft(ids []string) []string {
	r.t.Helper()
	var out []string
	for _, id := range ids {
		_, err := r.env.EC2.DescribeSnapshots(r.ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{id}})
		var api smithy.APIError
		switch {
		case err == nil:
			out = append(out, id)
		case errors.As(err, &api) && api.ErrorCode() == "InvalidSnapshot.NotFound":
		default:
			r.t.Fatalf("describe snapshot %s: %v", id, err)
		}
	}
	return out
}

// lifecycleCalls returns the calls the image-lifecycle function has made,
// by "service.Operation".
func (r *lcRig) lifecycleCalls() map[string]int {
	return r.env.Cloud.Wire.RequestsByAccessKey()[functions.AccessKeyID(r.lifecycleFn)]
}

// nightEntries returns the lifecycle log's entries of the night that ran at
// at (of every attempt of it: a retried night would show twice).
func (r *lcRig) nightEntries(at time.Time) []ledger.LifecycleEntry {
	r.t.Helper()
	var out []ledger.LifecycleEntry
	for _, e := range r.lifecycleLog() {
		if e.At.Equal(at) {
			out = append(out, e)
		}
	}
	return out
}

// TestTheNightlyImageLifecyclePlansByDefaultAndChangesNothing deploys the
// template as a new stack has it (ImageLifecycle=plan) and lets its
// schedule fire: the night logs what an apply would do, sends one summary
// and leaves every image and version as it was.
func TestTheNightlyImageLifecyclePlansByDefaultAndChangesNothing(t *testing.T) {
	t.Parallel()
	r := newLifecycleRig(t, 71, map[string]string{"LifecycleKeepVersions": "1"})
	web := r.leanGroups(leanSpec{name: "web"})[0]
	// Two versions nobody uses, on images that carry a role.
	for i := 0; i < 2; i++ {
		img := r.image(fmt.Sprintf("web-old-%d", i), "healthy")
		if _, err := r.env.EC2.CreateTags(r.ctx, &ec2.CreateTagsInput{Resources: []string{img},
			Tags: []ec2types.Tag{{Key: aws.String(lifecycle.TagRole), Value: aws.String("web")}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.env.EC2.CreateLaunchTemplateVersion(r.ctx, &ec2.CreateLaunchTemplateVersionInput{
			LaunchTemplateId: aws.String(web.launchTemplate), SourceVersion: aws.String("1"),
			LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(img)},
		}); err != nil {
			t.Fatal(err)
		}
	}
	r.env.RunUntil(t, 48*time.Hour, "the first lifecycle night", func() bool { return len(r.summaries()) > 0 })
	if now := r.env.Now(); now.Before(lifecycleNight(0)) {
		t.Fatalf("a summary before the schedule fired: %v", now)
	}
	sums := r.summaries()
	if len(sums) != 1 || !strings.Contains(sums[0], "(plan)") || !strings.Contains(sums[0], "nothing was done") {
		t.Fatalf("summaries %q\n%s", sums, r.functionLogs())
	}
	log := r.lifecycleLog()
	deletes := 0
	for _, e := range log {
		if e.Mode != lifecycle.LogModePlan || e.Result != "" || e.By != lifecycle.ByNightly {
			t.Errorf("a plan night logged %+v", e)
		}
		if e.Action == lifecycle.ActionDeleteVersion {
			deletes++
		}
	}
	if deletes != 1 {
		t.Errorf("the plan deletes %d versions, want 1 (version 2: not the default, not the newest, not used): %+v", deletes, log)
	}
	out, err := r.env.EC2.DescribeLaunchTemplateVersions(r.ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(web.launchTemplate)})
	if err != nil || len(out.LaunchTemplateVersions) != 3 {
		t.Errorf("a plan night changed the template: %d versions, %v", len(out.LaunchTemplateVersions), err)
	}
}

// TestTheNightlyImageLifecycleInApplyRetiresWhatNothingNeedsStageByStage
// deploys the template with ImageLifecycle=apply, a small policy (the two
// newest versions and one rollback version kept, each stage 23 hours) and
// lets real rollouts and the schedule run for eight nights: versions
// beyond the policy go (never the default, the group's, the
// last-known-good or the rollback version), an image out of use is marked,
// deprecated, disabled and deregistered with its snapshots on successive
// nights, one in use again is restored, the last-known-good image is
// protected from deregistration and loses the protection when it stops
// being last-known-good, a rollback to a kept version works, a global halt
// turns a night into a plan, and every night's summary and log say what
// was done. Each stage waits 23 hours so that it is due by the next night:
// a deprecation takes effect ten minutes after the night that sets it.
func TestTheNightlyImageLifecycleInApplyRetiresWhatNothingNeedsStageByStage(t *testing.T) {
	t.Parallel()
	const wait = "82800"
	r := newLifecycleRig(t, 72, map[string]string{"ImageLifecycle": "apply", "LifecycleKeepVersions": "2",
		"LifecycleKeepRollbackVersions": "1", "LifecycleDeprecateAfterSeconds": wait, "LifecycleDisableAfterSeconds": wait,
		"LifecycleDeregisterAfterSeconds": wait})
	web := r.leanGroups(leanSpec{name: "web", tags: map[string]string{"phoenix:alarms": "web-5xx"}})[0]
	alarms := &alarmRig{rig: r.rig}
	alarms.alarm("web-5xx", nil)
	lt := web.launchTemplate
	img := map[int64]string{1: web.image}
	for i, id := range r.roleImages("web", "healthy", "web-v2", "web-v3", "web-v4", "web-v5") {
		img[int64(i+2)] = id
	}
	ver := func(v int64) string { return fmt.Sprintf("%s:%d", lt, v) }

	// Version 2 finalizes, 3 is reverted by an alarm during its refresh,
	// 4 and 5 finalize; then an operator makes version 2 the default.
	if rec := r.roll("r-web-2", "web", img[2]); rec.status != "finalized" || rec.to != 2 {
		t.Fatalf("r-web-2 = %+v, want finalized to version 2", rec)
	}
	arn := r.start("r-web-3", "web", img[3])
	r.env.RunUntil(t, time.Hour, "r-web-3's refresh", func() bool { return r.rollout("r-web-3").refreshID != "" })
	alarms.fire("web-5xx")
	if rec := r.await("r-web-3", arn); rec.status != "reverted" || rec.to != 3 {
		t.Fatalf("r-web-3 = %+v, want reverted from version 3", rec)
	}
	for v := int64(4); v <= 5; v++ {
		id := fmt.Sprintf("r-web-%d", v)
		if rec := r.roll(id, "web", img[v]); rec.status != "finalized" || rec.to != v {
			t.Fatalf("%s = %+v, want finalized to version %d", id, rec, v)
		}
	}
	if _, err := r.env.EC2.ModifyLaunchTemplate(r.ctx, &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String(lt), DefaultVersion: aws.String("2")}); err != nil {
		t.Fatal(err)
	}
	// What web needs: its last-known-good (checked against the ledger's),
	// the one finalized version before it, and the template's default.
	need := func(lkg, rollback int64) {
		t.Helper()
		if v, _ := r.lkg("web"); v != lkg {
			t.Fatalf("web's last-known-good is %d, want %d", v, lkg)
		}
		r.checkNeeds(lt, map[int64]string{lkg: "last-known-good", rollback: "rollback version", r.defaultVersion(lt): "default"})
	}
	need(5, 4)

	// Night 0: versions 1 (nothing uses it) and 3 (reverted) go; 2 (the
	// default), 4 (the rollback version) and 5 stay. Their images are
	// marked out of use; 5's is protected.
	r.night(0, lifecycle.LogModeApply, "delete-version "+ver(1), "delete-version "+ver(3),
		"mark-unused "+img[1], "mark-unused "+img[3], "protect "+img[5])
	if got := r.versionImages(lt); !slices.Equal(slices.Sorted(maps.Keys(got)), []int64{2, 4, 5}) {
		t.Errorf("versions after night 0: %v, want 2, 4 and 5", got)
	}
	r.wantImage(img[5], "available", false, sim.ProtectionWithoutCooldown)
	r.wantImage(img[1], "available", false, "disabled")
	need(5, 4)

	// Night 1: both deprecated. Then someone makes a launch template of
	// their own from web-v3's image: it is in use again.
	r.night(1, lifecycle.LogModeApply, "deprecate "+img[1], "deprecate "+img[3])
	r.wantImage(img[1], "available", true, "disabled")
	r.wantImage(img[3], "available", true, "disabled")
	if _, err := r.env.EC2.CreateLaunchTemplate(r.ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("hand-made"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(img[3]), InstanceType: ec2types.InstanceTypeT3Micro}}); err != nil {
		t.Fatal(err)
	}

	// Night 2: web-v1's image is disabled; web-v3's restored.
	r.night(2, lifecycle.LogModeApply, "disable "+img[1], "restore "+img[3])
	r.wantImage(img[1], "disabled", true, "disabled")
	r.wantImage(img[3], "available", false, "disabled")
	if err := r.launches(lt, 5); err != nil {
		t.Errorf("version 5 does not launch: %v", err)
	}
	snaps := snapshotsOf(r.ownImages()[img[1]])
	if len(snaps) != 1 || len(r.snapshotsLeft(snaps)) != 1 {
		t.Fatalf("web-v1's image has snapshots %v, want one that exists", snaps)
	}

	// Night 3: deregistered with its snapshot.
	r.night(3, lifecycle.LogModeApply, "deregister "+img[1])
	if _, ok := r.ownImages()[img[1]]; ok {
		t.Errorf("web-v1's image %s is still registered", img[1])
	}
	if left := r.snapshotsLeft(snaps); len(left) != 0 {
		t.Errorf("web-v1's snapshots %v are left", left)
	}
	if sum := r.summaries()[3]; !strings.Contains(sum, "1 AMI retired") || !strings.Contains(sum, "1 deregistered (8 GiB of snapshots reclaimed)") {
		t.Errorf("night 3's summary does not count the deregistration:\n%s", sum)
	}
	need(5, 4)

	// Version 6 finalizes (and becomes the default): 2 and 4 are no longer
	// needed, 5 is the rollback version, and its image no longer the
	// last-known-good one. (Its image is registered now: one of the role
	// registered days before that nothing used would be retired by now.)
	img[6] = r.roleImages("web", "healthy", "web-v6")[0]
	if rec := r.roll("r-web-6", "web", img[6]); rec.status != "finalized" || rec.to != 6 {
		t.Fatalf("r-web-6 = %+v, want finalized to version 6", rec)
	}
	r.night(4, lifecycle.LogModeApply, "delete-version "+ver(2), "delete-version "+ver(4),
		"mark-unused "+img[2], "mark-unused "+img[4], "protect "+img[6], "unprotect "+img[5])
	r.wantImage(img[5], "available", false, "disabled")
	r.wantImage(img[6], "available", false, sim.ProtectionWithoutCooldown)
	need(6, 5)

	// The operator rolls back to version 5, which the lifecycle kept.
	code, out, errs := r.phoenix("rollback", "web", "--to-version", "5", "--wait")
	if code != cli.ExitOK || !strings.Contains(out, "finalized") {
		t.Fatalf("rollback --to-version 5 --wait: exit %d\n%s\n%s\n%s", code, out, errs, r.functionLogs())
	}
	if g := r.group("web"); g.version != "5" || g.images[img[5]] != 1 {
		t.Fatalf("web after the rollback: version %s, images %v; want version 5 on %s", g.version, g.images, img[5])
	}
	r.night(5, lifecycle.LogModeApply, "deprecate "+img[2], "deprecate "+img[4], "protect "+img[5], "unprotect "+img[6])
	need(5, 6)

	// A global halt: the night plans what it would do, and does nothing.
	l := ledger.New(r.ddb, r.table).WithLogger(slog.New(slog.DiscardHandler))
	if err := l.SetHalt(r.ctx, rollout.Halt{Reason: "incident 9", By: "e2e", At: r.env.Now()}); err != nil {
		t.Fatal(err)
	}
	r.night(6, lifecycle.LogModePlan, "disable "+img[2], "disable "+img[4])
	if sum := r.summaries()[6]; !strings.Contains(sum, "A global halt is in force (halted by e2e: incident 9)") {
		t.Errorf("night 6's summary does not name the halt:\n%s", sum)
	}
	r.wantImage(img[2], "available", true, "disabled")
	if err := l.ClearHalt(r.ctx, rollout.GroupKey{}); err != nil {
		t.Fatal(err)
	}
	r.night(7, lifecycle.LogModeApply, "disable "+img[2], "disable "+img[4])
	r.wantImage(img[2], "disabled", true, "disabled")
	r.wantImage(img[4], "disabled", true, "disabled")
	need(5, 6)

	// The rig's cleanup checks IAM: template.yaml's policy allowed every
	// call. The function's log has no refusal and no failed action.
	if logs := r.env.Cloud.Lambda.LogText(region, r.lifecycleFn); strings.Contains(logs, "AccessDenied") || strings.Contains(logs, "lifecycle action failed") {
		t.Errorf("the image-lifecycle function's log has a refusal or a failed action:\n%s", logs)
	}
}

// night steps to the lifecycle night n (lifecycleNight(n)) and checks what
// it did: its log entries are exactly want ("action target", in any
// order), every one run by the nightly schedule in mode, done (apply) or
// only planned (plan), and its summary (the n+1th) lists each.
func (r *lcRig) night(n int, mode string, want ...string) {
	r.t.Helper()
	r.nights(n+1, 26*time.Hour)
	at := lifecycleNight(n)
	var got []string
	for _, e := range r.nightEntries(at) {
		got = append(got, string(e.Action)+" "+e.Target)
		result := ""
		if mode == lifecycle.LogModeApply {
			result = lifecycle.ResultDone
		}
		if e.Mode != mode || e.By != lifecycle.ByNightly || e.Result != result {
			r.t.Errorf("night %d logged %+v; want mode %s, by %s, result %q", n, e, mode, lifecycle.ByNightly, result)
		}
	}
	slices.Sort(got)
	want = slices.Sorted(slices.Values(want))
	sum := r.summaries()[n]
	if !slices.Equal(got, want) {
		r.t.Errorf("night %d did:\n  %s\nwant:\n  %s\nsummary:\n%s", n, strings.Join(got, "\n  "), strings.Join(want, "\n  "), sum)
	}
	if !strings.Contains(sum, "("+mode+")") {
		r.t.Errorf("night %d's summary is not a %s:\n%s", n, mode, sum)
	}
	for _, w := range want {
		line := "  " + w
		if mode == lifecycle.LogModeApply {
			line += ": " + lifecycle.ResultDone
		}
		if !strings.Contains(sum, line+"\n") && !strings.Contains(sum, line+" (") {
			r.t.Errorf("night %d's summary lacks %q:\n%s", n, line, sum)
		}
	}
}

// wantImage checks an image's state, whether it is deprecated, and its
// deregistration protection as DescribeImages shows it.
func (r *lcRig) wantImage(id, state string, deprecated bool, protection string) {
	r.t.Helper()
	img, ok := r.ownImages()[id]
	if !ok {
		r.t.Errorf("image %s is gone", id)
		return
	}
	if string(img.State) != state || (aws.ToString(img.DeprecationTime) != "") != deprecated || aws.ToString(img.DeregistrationProtection) != protection {
		r.t.Errorf("image %s: %s, deprecation %q, protection %q; want %s, deprecated %v, protection %s", id, img.State,
			aws.ToString(img.DeprecationTime), aws.ToString(img.DeregistrationProtection), state, deprecated, protection)
	}
}

// checkNeeds checks that each version a group needs exists, that its image
// is available, and that an instance of it would launch.
func (r *lcRig) checkNeeds(lt string, need map[int64]string) {
	r.t.Helper()
	versions, images := r.versionImages(lt), r.ownImages()
	for v, why := range need {
		id, ok := versions[v]
		if !ok {
			r.t.Errorf("version %d of %s (%s) is gone", v, lt, why)
			continue
		}
		if img, ok := images[id]; !ok || img.State != ec2types.ImageStateAvailable {
			r.t.Errorf("version %d of %s (%s): its image %s is %v", v, lt, why, id, img.State)
		}
		if err := r.launches(lt, v); err != nil {
			r.t.Errorf("version %d of %s (%s) would not launch: %v", v, lt, why, err)
		}
	}
}
