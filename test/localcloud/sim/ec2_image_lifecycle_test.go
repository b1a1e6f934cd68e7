package sim

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// imageLifecycleAPI is the slice of the EC2 client the image life-stage
// rules use beyond EC2API, with the SDK's method signatures.
type imageLifecycleAPI interface {
	DescribeSnapshots(context.Context, *ec2.DescribeSnapshotsInput, ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error)
	DeleteSnapshot(context.Context, *ec2.DeleteSnapshotInput, ...func(*ec2.Options)) (*ec2.DeleteSnapshotOutput, error)
	EnableImageDeprecation(context.Context, *ec2.EnableImageDeprecationInput, ...func(*ec2.Options)) (*ec2.EnableImageDeprecationOutput, error)
	DisableImageDeprecation(context.Context, *ec2.DisableImageDeprecationInput, ...func(*ec2.Options)) (*ec2.DisableImageDeprecationOutput, error)
	DisableImage(context.Context, *ec2.DisableImageInput, ...func(*ec2.Options)) (*ec2.DisableImageOutput, error)
	EnableImage(context.Context, *ec2.EnableImageInput, ...func(*ec2.Options)) (*ec2.EnableImageOutput, error)
	EnableImageDeregistrationProtection(context.Context, *ec2.EnableImageDeregistrationProtectionInput, ...func(*ec2.Options)) (*ec2.EnableImageDeregistrationProtectionOutput, error)
	DisableImageDeregistrationProtection(context.Context, *ec2.DisableImageDeregistrationProtectionInput, ...func(*ec2.Options)) (*ec2.DisableImageDeregistrationProtectionOutput, error)
	DescribeImageAttribute(context.Context, *ec2.DescribeImageAttributeInput, ...func(*ec2.Options)) (*ec2.DescribeImageAttributeOutput, error)
}

var (
	_ imageLifecycleAPI = (*EC2)(nil)
	_ imageLifecycleAPI = (*ec2.Client)(nil)
)

// ImageLifecycleRules are the rules of the AMI life stages: snapshots
// behind images, deprecation, disabling, deregistration protection,
// DeleteAssociatedSnapshots and lastLaunchedTime. TestImageLifecycleRules
// runs them in process; the external test package runs them over HTTP.
var ImageLifecycleRules = []Rule{
	{"ImagesAreBackedBySnapshotsThatCompleteWithThem", testImagesAreBackedBySnapshotsThatCompleteWithThem},
	{"CreateImageSnapshotsTheInstanceVolumesAsEC2DescribesThem", testCreateImageSnapshotsTheInstanceVolumes},
	{"DescribeSnapshotsSelectsFiltersAndPages", testDescribeSnapshotsSelectsFiltersAndPages},
	{"ASnapshotInUseByARegisteredImageCannotBeDeleted", testASnapshotInUseCannotBeDeleted},
	{"DeregisterImageDeletesTheSnapshotsNoOtherImageUses", testDeregisterImageDeletesAssociatedSnapshots},
	{"DeprecationIsRoundedToTheMinuteAndBounded", testDeprecationIsRoundedAndBounded},
	{"DeprecatedImagesOfOthersLeaveListingsButNotTheOwners", testDeprecatedImagesLeaveListings},
	{"ADisabledImageIsHiddenCannotLaunchAndComesBack", testADisabledImageIsHiddenCannotLaunchAndComesBack},
	{"DeregistrationProtectionRefusesDeregistration", testDeregistrationProtectionRefusesDeregistration},
	{"ProtectionWithCooldownLastsADayAfterItIsDisabled", testProtectionWithCooldownLastsADay},
	{"LastLaunchedTimeIsReportedADayAfterTheLaunch", testLastLaunchedTimeIsReportedADayAfterTheLaunch},
	{"DescribeImageAttributeRefusesWhatItDoesNotModel", testDescribeImageAttributeRefusesWhatItDoesNotModel},
	{"AutoScalingCannotLaunchADisabledImageAndItsLaunchesCount", testAutoScalingAndImageLifecycle},
}

// TestImageLifecycleRules runs ImageLifecycleRules against the models in
// process.
func TestImageLifecycleRules(t *testing.T) { RunRules(t, ImageLifecycleRules, InProcess) }

// lc returns the env's EC2 client as an imageLifecycleAPI.
func (e *ec2Env) lc() imageLifecycleAPI { return e.ec2.(imageLifecycleAPI) }

// describeImage returns one image by id, failing unless exactly one is
// returned.
func (e *ec2Env) describeImage(id string) ec2types.Image {
	e.t.Helper()
	out, err := e.ec2.DescribeImages(e.ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}, IncludeDisabled: aws.Bool(true)})
	if err != nil || len(out.Images) != 1 {
		e.t.Fatalf("DescribeImages %s: %v (%d images)", id, err, len(out.Images))
	}
	return out.Images[0]
}

// snapshot describes one snapshot.
func (e *ec2Env) snapshot(id string) ec2types.Snapshot {
	e.t.Helper()
	out, err := e.lc().DescribeSnapshots(e.ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{id}})
	if err != nil || len(out.Snapshots) != 1 {
		e.t.Fatalf("DescribeSnapshots %s: %v", id, err)
	}
	return out.Snapshots[0]
}

// rootSnapshot returns the snapshot id of an image's first EBS mapping.
func rootSnapshot(t *testing.T, img ec2types.Image) string {
	t.Helper()
	for _, m := range img.BlockDeviceMappings {
		if m.Ebs != nil && m.Ebs.SnapshotId != nil {
			return *m.Ebs.SnapshotId
		}
	}
	t.Fatalf("image %s has no snapshot in %v", aws.ToString(img.ImageId), img.BlockDeviceMappings)
	return ""
}

// listed returns the ids DescribeImages lists for in.
func (e *ec2Env) listed(in *ec2.DescribeImagesInput) []string {
	e.t.Helper()
	out, err := e.ec2.DescribeImages(e.ctx, in)
	if err != nil {
		e.t.Fatalf("DescribeImages: %v", err)
	}
	var ids []string
	for _, img := range out.Images {
		ids = append(ids, aws.ToString(img.ImageId))
	}
	return ids
}

func testImagesAreBackedBySnapshotsThatCompleteWithThem(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	out, err := e.ec2.RegisterImage(e.ctx, &ec2.RegisterImageInput{
		Name: aws.String("web-1"), Architecture: "x86_64", VirtualizationType: aws.String("hvm"),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSnapshot, Tags: []ec2types.Tag{{Key: aws.String("app"), Value: aws.String("web")}}}},
	})
	noErr(t, err)
	id := aws.ToString(out.ImageId)
	img := e.describeImage(id)
	if len(img.BlockDeviceMappings) != 1 || aws.ToString(img.BlockDeviceMappings[0].DeviceName) != "/dev/xvda" || aws.ToInt32(img.BlockDeviceMappings[0].Ebs.VolumeSize) != 8 {
		t.Fatalf("an image registered without mappings has %+v, want one 8 GiB root mapping", img.BlockDeviceMappings)
	}
	snap := rootSnapshot(t, img)
	if !strings.HasPrefix(snap, "snap-") || len(snap) != len("snap-")+17 {
		t.Fatalf("snapshot id %q, want snap- and 17 hex digits", snap)
	}
	s := e.snapshot(snap)
	if s.State != ec2types.SnapshotStatePending || aws.ToString(s.OwnerId) != e.w.Account() || len(s.Tags) != 1 || aws.ToString(s.Tags[0].Value) != "web" {
		t.Fatalf("snapshot of a pending image: %s, owner %s, tags %v; want pending, the caller, app=web", s.State, aws.ToString(s.OwnerId), s.Tags)
	}
	e.advance(DefaultEC2Config().ImageAvailableDelay)
	if s := e.snapshot(snap); s.State != ec2types.SnapshotStateCompleted || aws.ToString(s.Progress) != "100%" {
		t.Fatalf("snapshot once the image is available: %s %s, want completed 100%%", s.State, aws.ToString(s.Progress))
	}

	// A mapping gives the size; a mapping naming a snapshot uses it.
	out, err = e.ec2.RegisterImage(e.ctx, &ec2.RegisterImageInput{
		Name: aws.String("web-2"), Architecture: "x86_64", RootDeviceName: aws.String("/dev/xvda"),
		BlockDeviceMappings: []ec2types.BlockDeviceMapping{
			{DeviceName: aws.String("/dev/xvda"), Ebs: &ec2types.EbsBlockDevice{VolumeSize: aws.Int32(20)}},
			{DeviceName: aws.String("/dev/sdf"), Ebs: &ec2types.EbsBlockDevice{SnapshotId: aws.String(snap)}},
		},
	})
	noErr(t, err)
	img2 := e.describeImage(aws.ToString(out.ImageId))
	if len(img2.BlockDeviceMappings) != 2 || aws.ToInt32(img2.BlockDeviceMappings[0].Ebs.VolumeSize) != 20 ||
		aws.ToString(img2.BlockDeviceMappings[1].Ebs.SnapshotId) != snap || aws.ToInt32(img2.BlockDeviceMappings[1].Ebs.VolumeSize) != 8 {
		t.Fatalf("mappings %+v: want a 20 GiB root and /dev/sdf from %s", img2.BlockDeviceMappings, snap)
	}
	if aws.ToString(img2.BlockDeviceMappings[0].Ebs.SnapshotId) == snap {
		t.Fatalf("the new root mapping reuses %s, want a snapshot of its own", snap)
	}
	_, err = e.ec2.RegisterImage(e.ctx, &ec2.RegisterImageInput{Name: aws.String("web-3"), BlockDeviceMappings: []ec2types.BlockDeviceMapping{
		{DeviceName: aws.String("/dev/xvda"), Ebs: &ec2types.EbsBlockDevice{SnapshotId: aws.String("snap-0123456789abcdef0")}},
	}})
	wantAWSCode(t, err, "InvalidSnapshot.NotFound")
	_, err = e.ec2.RegisterImage(e.ctx, &ec2.RegisterImageInput{Name: aws.String("web-3"), BlockDeviceMappings: []ec2types.BlockDeviceMapping{
		{DeviceName: aws.String("/dev/xvda"), Ebs: &ec2types.EbsBlockDevice{SnapshotId: aws.String(snap), VolumeSize: aws.Int32(4)}},
	}})
	wantAWSCode(t, err, "InvalidBlockDeviceMapping")
}

func testCreateImageSnapshotsTheInstanceVolumes(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	src := e.image("base", "x86_64", nil)
	inst := e.run(src, 1)[0]
	e.advance(DefaultEC2Config().PendingTime)
	out, err := e.ec2.CreateImage(e.ctx, &ec2.CreateImageInput{
		InstanceId: aws.String(inst), Name: aws.String("baked"),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSnapshot, Tags: []ec2types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}},
	})
	noErr(t, err)
	id := aws.ToString(out.ImageId)
	snap := rootSnapshot(t, e.describeImage(id))
	if snap == rootSnapshot(t, e.describeImage(src)) {
		t.Fatal("CreateImage reused the source image's snapshot, want a new snapshot of the instance's volume")
	}
	s := e.snapshot(snap)
	want := "Created by CreateImage(" + inst + ") for " + id
	if aws.ToString(s.Description) != want || aws.ToInt32(s.VolumeSize) != 8 || !strings.HasPrefix(aws.ToString(s.VolumeId), "vol-") || len(s.Tags) != 1 {
		t.Fatalf("snapshot: %q, %d GiB, volume %s, tags %v; want %q, 8 GiB, the instance's volume, k=v",
			aws.ToString(s.Description), aws.ToInt32(s.VolumeSize), aws.ToString(s.VolumeId), s.Tags, want)
	}
}

func testDescribeSnapshotsSelectsFiltersAndPages(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	var snaps []string
	for _, n := range []string{"a-1", "a-2", "a-3", "a-4", "a-5", "a-6", "a-7"} {
		tags := map[string]string{"n": n}
		out, err := e.ec2.RegisterImage(e.ctx, &ec2.RegisterImageInput{Name: aws.String(n), Architecture: "x86_64",
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSnapshot, Tags: toEC2Tags(tags)}}})
		noErr(t, err)
		snaps = append(snaps, rootSnapshot(t, e.describeImage(aws.ToString(out.ImageId))))
	}
	_, err := e.w.AddImage(ec2Region, ImageSpec{Name: "vendor", OwnerID: "210987654321", Available: true})
	noErr(t, err)
	ids := func(out *ec2.DescribeSnapshotsOutput) []string {
		var got []string
		for _, s := range out.Snapshots {
			got = append(got, aws.ToString(s.SnapshotId))
		}
		return got
	}
	all, err := e.lc().DescribeSnapshots(e.ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
	noErr(t, err)
	if !sameIDs(ids(all), snaps) {
		t.Fatalf("OwnerIds self: %v, want the caller's %v (not another account's)", ids(all), snaps)
	}
	tagged, err := e.lc().DescribeSnapshots(e.ctx, &ec2.DescribeSnapshotsInput{Filters: []ec2types.Filter{{Name: aws.String("tag:n"), Values: []string{"a-2", "a-6"}}}})
	noErr(t, err)
	if !sameIDs(ids(tagged), []string{snaps[1], snaps[5]}) {
		t.Fatalf("tag:n filter: %v", ids(tagged))
	}
	status, err := e.lc().DescribeSnapshots(e.ctx, &ec2.DescribeSnapshotsInput{Filters: []ec2types.Filter{{Name: aws.String("status"), Values: []string{"completed"}}}})
	noErr(t, err)
	if len(status.Snapshots) != 0 {
		t.Fatalf("status completed while every image is pending: %v", ids(status))
	}
	var got []string
	var tok *string
	pages := 0
	for {
		out, err := e.lc().DescribeSnapshots(e.ctx, &ec2.DescribeSnapshotsInput{MaxResults: aws.Int32(5), NextToken: tok})
		noErr(t, err)
		pages++
		got = append(got, ids(out)...)
		if tok = out.NextToken; tok == nil {
			break
		}
	}
	if pages != 2 || !sameIDs(got, snaps) {
		t.Fatalf("paging: %v in %d pages, want %v in 2", got, pages, snaps)
	}
	_, err = e.lc().DescribeSnapshots(e.ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{"snap-0123456789abcdef0"}})
	wantAWSCode(t, err, "InvalidSnapshot.NotFound")
	_, err = e.lc().DescribeSnapshots(e.ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{"snap-x"}})
	wantAWSCode(t, err, "InvalidSnapshotID.Malformed")
	_, err = e.lc().DescribeSnapshots(e.ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: snaps[:1], MaxResults: aws.Int32(5)})
	wantAWSCode(t, err, "InvalidParameterCombination")
}

func testASnapshotInUseCannotBeDeleted(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	id := e.image("web-1", "x86_64", nil)
	snap := rootSnapshot(t, e.describeImage(id))
	_, err := e.lc().DeleteSnapshot(e.ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(snap)})
	wantCode(t, err, "InvalidSnapshot.InUse", "The snapshot "+snap+" is currently in use by "+id)
	_, err = e.lc().DeleteSnapshot(e.ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String("snap-0123456789abcdef0")})
	wantAWSCode(t, err, "InvalidSnapshot.NotFound")
	_, err = e.lc().DeleteSnapshot(e.ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String("ami-0123456789abcdef0")})
	wantAWSCode(t, err, "InvalidSnapshotID.Malformed")
	_, err = e.ec2.DeregisterImage(e.ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id)})
	noErr(t, err)
	if s := e.snapshot(snap); s.State != ec2types.SnapshotStateCompleted {
		t.Fatalf("DeregisterImage without DeleteAssociatedSnapshots left the snapshot %s, want it kept", s.State)
	}
	_, err = e.lc().DeleteSnapshot(e.ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(snap)})
	noErr(t, err)
	_, err = e.lc().DescribeSnapshots(e.ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{snap}})
	wantAWSCode(t, err, "InvalidSnapshot.NotFound")
}

func testDeregisterImageDeletesAssociatedSnapshots(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	a := e.image("img-a", "x86_64", nil)
	snapA := rootSnapshot(t, e.describeImage(a))
	out, err := e.ec2.RegisterImage(e.ctx, &ec2.RegisterImageInput{Name: aws.String("img-b"), Architecture: "x86_64", BlockDeviceMappings: []ec2types.BlockDeviceMapping{
		{DeviceName: aws.String("/dev/xvda"), Ebs: &ec2types.EbsBlockDevice{SnapshotId: aws.String(snapA)}},
	}})
	noErr(t, err)
	b := aws.ToString(out.ImageId)
	c := e.image("img-c", "x86_64", nil)
	snapC := rootSnapshot(t, e.describeImage(c))

	res, err := e.ec2.DeregisterImage(e.ctx, &ec2.DeregisterImageInput{ImageId: aws.String(a), DeleteAssociatedSnapshots: aws.Bool(true)})
	noErr(t, err)
	if len(res.DeleteSnapshotResults) != 1 || aws.ToString(res.DeleteSnapshotResults[0].SnapshotId) != snapA || res.DeleteSnapshotResults[0].ReturnCode != ec2types.SnapshotReturnCodesWarnSkipped {
		t.Fatalf("results %+v: want %s skipped, as image %s still uses it", res.DeleteSnapshotResults, snapA, b)
	}
	e.snapshot(snapA)
	res, err = e.ec2.DeregisterImage(e.ctx, &ec2.DeregisterImageInput{ImageId: aws.String(b), DeleteAssociatedSnapshots: aws.Bool(true)})
	noErr(t, err)
	if len(res.DeleteSnapshotResults) != 1 || res.DeleteSnapshotResults[0].ReturnCode != ec2types.SnapshotReturnCodesSuccess {
		t.Fatalf("results %+v: want %s success once no image uses it", res.DeleteSnapshotResults, snapA)
	}
	_, err = e.lc().DescribeSnapshots(e.ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{snapA}})
	wantAWSCode(t, err, "InvalidSnapshot.NotFound")
	res, err = e.ec2.DeregisterImage(e.ctx, &ec2.DeregisterImageInput{ImageId: aws.String(c)})
	noErr(t, err)
	if len(res.DeleteSnapshotResults) != 0 {
		t.Fatalf("without DeleteAssociatedSnapshots got results %+v", res.DeleteSnapshotResults)
	}
	e.snapshot(snapC)
}

func testDeprecationIsRoundedAndBounded(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	id := e.image("web-1", "x86_64", nil)
	now := e.clk.Now()
	at := now.Add(time.Hour + 31*time.Second)
	_, err := e.lc().EnableImageDeprecation(e.ctx, &ec2.EnableImageDeprecationInput{ImageId: aws.String(id), DeprecateAt: aws.Time(at)})
	noErr(t, err)
	want := ec2Time(now.Add(time.Hour + time.Minute))
	if got := aws.ToString(e.describeImage(id).DeprecationTime); got != want {
		t.Fatalf("DeprecationTime %s, want %s (seconds rounded to the nearest minute)", got, want)
	}
	_, err = e.lc().EnableImageDeprecation(e.ctx, &ec2.EnableImageDeprecationInput{ImageId: aws.String(id), DeprecateAt: aws.Time(now.Add(-time.Hour))})
	wantAWSCode(t, err, "InvalidParameterValue")
	_, err = e.lc().EnableImageDeprecation(e.ctx, &ec2.EnableImageDeprecationInput{ImageId: aws.String(id), DeprecateAt: aws.Time(now.Add(11 * 365 * 24 * time.Hour))})
	wantAWSCode(t, err, "InvalidParameterValue")
	_, err = e.lc().DisableImageDeprecation(e.ctx, &ec2.DisableImageDeprecationInput{ImageId: aws.String(id)})
	noErr(t, err)
	if got := e.describeImage(id).DeprecationTime; got != nil {
		t.Fatalf("after DisableImageDeprecation DeprecationTime is %s, want none", *got)
	}
	foreign, err := e.w.AddImage(ec2Region, ImageSpec{Name: "vendor", OwnerID: "210987654321", Available: true})
	noErr(t, err)
	_, err = e.lc().EnableImageDeprecation(e.ctx, &ec2.EnableImageDeprecationInput{ImageId: aws.String(foreign), DeprecateAt: aws.Time(at)})
	wantAWSCode(t, err, "AuthFailure")
}

func testDeprecatedImagesLeaveListings(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	own := e.image("web-1", "x86_64", nil)
	foreign, err := e.w.AddImage(ec2Region, ImageSpec{Name: "vendor", OwnerID: "210987654321", Available: true, DeprecateAt: e.clk.Now().Add(time.Hour)})
	noErr(t, err)
	_, err = e.lc().EnableImageDeprecation(e.ctx, &ec2.EnableImageDeprecationInput{ImageId: aws.String(own), DeprecateAt: aws.Time(e.clk.Now().Add(time.Hour))})
	noErr(t, err)
	if got := e.listed(&ec2.DescribeImagesInput{}); !sameIDs(got, []string{own, foreign}) {
		t.Fatalf("before the deprecation time: %v, want both", got)
	}
	e.advance(time.Hour)
	if got := e.listed(&ec2.DescribeImagesInput{}); !sameIDs(got, []string{own}) {
		t.Fatalf("after it: %v, want only the caller's own (owners always see their deprecated AMIs)", got)
	}
	if got := e.listed(&ec2.DescribeImagesInput{IncludeDeprecated: aws.Bool(true)}); !sameIDs(got, []string{own, foreign}) {
		t.Fatalf("IncludeDeprecated: %v, want both", got)
	}
	if got := e.listed(&ec2.DescribeImagesInput{ImageIds: []string{foreign}}); !sameIDs(got, []string{foreign}) {
		t.Fatalf("by id: %v, want the deprecated image", got)
	}
	// A deprecated image still launches.
	e.run(foreign, 1)
	if n := len(e.events("EC2 AMI State Change")); n != 1 {
		t.Fatalf("%d AMI events, want only the own image's available event (deprecation emits none)", n)
	}
}

func testADisabledImageIsHiddenCannotLaunchAndComesBack(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	id := e.image("web-1", "x86_64", nil)
	out, err := e.ec2.RegisterImage(e.ctx, &ec2.RegisterImageInput{Name: aws.String("pending-1"), Architecture: "x86_64"})
	noErr(t, err)
	_, err = e.lc().DisableImage(e.ctx, &ec2.DisableImageInput{ImageId: out.ImageId})
	wantAWSCode(t, err, "IncorrectState")
	_, err = e.lc().EnableImage(e.ctx, &ec2.EnableImageInput{ImageId: aws.String(id)})
	wantAWSCode(t, err, "IncorrectState")

	_, err = e.lc().DisableImage(e.ctx, &ec2.DisableImageInput{ImageId: aws.String(id)})
	noErr(t, err)
	evs := e.events("EC2 AMI State Change")
	if last := evs[len(evs)-1]; last["State"] != "disabled" || last["ImageId"] != id {
		t.Fatalf("last AMI event %v, want disabled", last)
	}
	if got := e.listed(&ec2.DescribeImagesInput{Owners: []string{"self"}}); contains(got, id) {
		t.Fatalf("listing %v shows the disabled image", got)
	}
	if got := e.listed(&ec2.DescribeImagesInput{ImageIds: []string{id}}); len(got) != 0 {
		t.Fatalf("by id without IncludeDisabled: %v, want nothing", got)
	}
	if img := e.describeImage(id); img.State != "disabled" {
		t.Fatalf("IncludeDisabled shows state %s, want disabled", img.State)
	}
	_, err = e.ec2.RunInstances(e.ctx, &ec2.RunInstancesInput{ImageId: aws.String(id), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), InstanceType: "t3.micro"})
	wantCode(t, err, "InvalidAMIID.Unavailable", "disabled")

	_, err = e.lc().EnableImage(e.ctx, &ec2.EnableImageInput{ImageId: aws.String(id)})
	noErr(t, err)
	evs = e.events("EC2 AMI State Change")
	if last := evs[len(evs)-1]; last["State"] != "available" {
		t.Fatalf("last AMI event %v, want available after EnableImage", last)
	}
	e.run(id, 1)
}

func testDeregistrationProtectionRefusesDeregistration(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	id := e.image("web-1", "x86_64", nil)
	if got := aws.ToString(e.describeImage(id).DeregistrationProtection); got != "disabled" {
		t.Fatalf("a new image's protection is %q, want disabled", got)
	}
	ret, err := e.lc().EnableImageDeregistrationProtection(e.ctx, &ec2.EnableImageDeregistrationProtectionInput{ImageId: aws.String(id)})
	noErr(t, err)
	if aws.ToString(ret.Return) != "true" {
		t.Fatalf("Return %q, want \"true\"", aws.ToString(ret.Return))
	}
	if got := aws.ToString(e.describeImage(id).DeregistrationProtection); got != ProtectionWithoutCooldown {
		t.Fatalf("protection %q, want %s", got, ProtectionWithoutCooldown)
	}
	_, err = e.ec2.DeregisterImage(e.ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id)})
	wantCode(t, err, "OperationNotPermitted", "deregistration protection")
	_, err = e.lc().DisableImageDeregistrationProtection(e.ctx, &ec2.DisableImageDeregistrationProtectionInput{ImageId: aws.String(id)})
	noErr(t, err)
	_, err = e.ec2.DeregisterImage(e.ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id)})
	noErr(t, err)
}

func testProtectionWithCooldownLastsADay(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	id := e.image("web-1", "x86_64", nil)
	_, err := e.lc().EnableImageDeregistrationProtection(e.ctx, &ec2.EnableImageDeregistrationProtectionInput{ImageId: aws.String(id), WithCooldown: aws.Bool(true)})
	noErr(t, err)
	if got := aws.ToString(e.describeImage(id).DeregistrationProtection); got != ProtectionWithCooldown {
		t.Fatalf("protection %q, want %s", got, ProtectionWithCooldown)
	}
	_, err = e.lc().DisableImageDeregistrationProtection(e.ctx, &ec2.DisableImageDeregistrationProtectionInput{ImageId: aws.String(id)})
	noErr(t, err)
	until := e.clk.Now().Add(24 * time.Hour)
	if got, want := aws.ToString(e.describeImage(id).DeregistrationProtection), "disabled after "+ec2Time(until); got != want {
		t.Fatalf("protection during the cooldown %q, want %q", got, want)
	}
	e.advance(24*time.Hour - time.Second)
	_, err = e.ec2.DeregisterImage(e.ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id)})
	wantCode(t, err, "OperationNotPermitted", "cooldown")
	e.advance(time.Second)
	if got := aws.ToString(e.describeImage(id).DeregistrationProtection); got != "disabled" {
		t.Fatalf("protection after the cooldown %q, want disabled", got)
	}
	_, err = e.ec2.DeregisterImage(e.ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id)})
	noErr(t, err)
}

func testLastLaunchedTimeIsReportedADayAfterTheLaunch(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	id := e.image("web-1", "x86_64", nil)
	attr := func() string {
		t.Helper()
		out, err := e.lc().DescribeImageAttribute(e.ctx, &ec2.DescribeImageAttributeInput{ImageId: aws.String(id), Attribute: ec2types.ImageAttributeNameLastLaunchedTime})
		noErr(t, err)
		if out.LastLaunchedTime == nil {
			return ""
		}
		return aws.ToString(out.LastLaunchedTime.Value)
	}
	if got := attr(); got != "" {
		t.Fatalf("never launched: lastLaunchedTime %q, want none", got)
	}
	launched := e.clk.Now()
	e.run(id, 1)
	e.advance(LastLaunchedDelay - time.Second)
	if got := attr(); got != "" {
		t.Fatalf("a second short of a day after the launch: %q, want none yet (EC2 reports launches after 24 hours)", got)
	}
	e.advance(time.Second)
	want := iso8601(launched)
	if got := attr(); got != want {
		t.Fatalf("a day after the launch: %q, want %s", got, want)
	}
	if got := aws.ToString(e.describeImage(id).LastLaunchedTime); got != want {
		t.Fatalf("DescribeImages LastLaunchedTime %q, want %s", got, want)
	}
}

func testDescribeImageAttributeRefusesWhatItDoesNotModel(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	out, err := e.ec2.RegisterImage(e.ctx, &ec2.RegisterImageInput{Name: aws.String("web-1"), Description: aws.String("the web tier")})
	noErr(t, err)
	d, err := e.lc().DescribeImageAttribute(e.ctx, &ec2.DescribeImageAttributeInput{ImageId: out.ImageId, Attribute: ec2types.ImageAttributeNameDescription})
	noErr(t, err)
	if d.Description == nil || aws.ToString(d.Description.Value) != "the web tier" {
		t.Fatalf("description = %+v", d.Description)
	}
	_, err = e.lc().DescribeImageAttribute(e.ctx, &ec2.DescribeImageAttributeInput{ImageId: out.ImageId, Attribute: ec2types.ImageAttributeNameKernel})
	wantCode(t, err, "InvalidParameterValue", "kernel")
	_, err = e.lc().DescribeImageAttribute(e.ctx, &ec2.DescribeImageAttributeInput{ImageId: aws.String("ami-0123456789abcdef0"), Attribute: ec2types.ImageAttributeNameDescription})
	wantAWSCode(t, err, "InvalidAMIID.NotFound")
}

func testAutoScalingAndImageLifecycle(t *testing.T, backend Backend) {
	f := newFixture(t, backend)
	img := f.image("app", "")
	lt := f.template("app", img)
	start := f.clk.Now()
	f.group(groupSpec{name: "web", ltID: lt, desired: 1})
	lc := f.ec2.(imageLifecycleAPI)
	f.clk.Advance(LastLaunchedDelay)
	out, err := lc.DescribeImageAttribute(f.ctx, &ec2.DescribeImageAttributeInput{ImageId: aws.String(img), Attribute: ec2types.ImageAttributeNameLastLaunchedTime})
	noErr(t, err)
	if out.LastLaunchedTime == nil || aws.ToString(out.LastLaunchedTime.Value) != iso8601(start) {
		t.Fatalf("lastLaunchedTime after the group's launch: %+v, want %s", out.LastLaunchedTime, iso8601(start))
	}
	_, err = lc.DisableImage(f.ctx, &ec2.DisableImageInput{ImageId: aws.String(img)})
	noErr(t, err)
	_, err = f.as.SetDesiredCapacity(f.ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("web"), DesiredCapacity: aws.Int32(2)})
	noErr(t, err)
	f.clk.Advance(time.Minute)
	failed := false
	for _, a := range f.activities("web") {
		if a.StatusCode == "Failed" && strings.Contains(aws.ToString(a.StatusMessage), "is disabled, and cannot be run") {
			failed = true
		}
	}
	if !failed {
		t.Fatalf("activities %+v: want a failed launch naming the disabled AMI", f.activities("web"))
	}
	if n := f.inService("web"); n != 1 {
		t.Fatalf("%d in service, want 1: the disabled image launches nothing", n)
	}
}
