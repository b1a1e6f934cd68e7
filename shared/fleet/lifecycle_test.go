package fleet_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/phoenix-rollouts/phoenix/shared/fleet"
	"github.com/phoenix-rollouts/phoenix/shared/internal/testlog"
	"github.com/phoenix-rollouts/phoenix/shared/lifecycle"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/sim"
)

// imageWorld is a local cloud with images and launch templates made
// through the SDK, and no groups: the image lifecycle reads and changes
// images and templates only.
type imageWorld struct {
	env    *cloudtest.Env
	fleet  *fleet.Fleet
	images lifecycle.Images
	ctx    context.Context
	region string
	logs   *testlog.Buffer
}

func newImageWorld(t *testing.T) *imageWorld {
	t.Helper()
	env := cloudtest.New(t)
	logs := &testlog.Buffer{}
	f := fleet.New(env.Config, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	return &imageWorld{env: env, fleet: f, images: f, ctx: context.Background(), region: env.Config.Region, logs: logs}
}

// register registers images named names with the given block device
// mappings (none: an 8 GiB root snapshot) and waits until all are
// available.
func (w *imageWorld) register(t *testing.T, mappings []ec2types.BlockDeviceMapping, names ...string) []string {
	t.Helper()
	ids := w.registerPending(t, mappings, names...)
	w.env.RunUntil(t, time.Hour, fmt.Sprintf("images %v to be available", names), func() bool {
		out, err := w.env.EC2.DescribeImages(w.ctx, &ec2.DescribeImagesInput{ImageIds: ids})
		if err != nil || len(out.Images) != len(ids) {
			return false
		}
		for _, img := range out.Images {
			if img.State != ec2types.ImageStateAvailable {
				return false
			}
		}
		return true
	})
	return ids
}

// registerPending registers images and returns while they are pending.
func (w *imageWorld) registerPending(t *testing.T, mappings []ec2types.BlockDeviceMapping, names ...string) []string {
	t.Helper()
	var ids []string
	for _, name := range names {
		out, err := w.env.EC2.RegisterImage(w.ctx, &ec2.RegisterImageInput{
			Name: aws.String(name), Architecture: ec2types.ArchitectureValuesX8664, RootDeviceName: aws.String("/dev/xvda"),
			VirtualizationType: aws.String("hvm"), BlockDeviceMappings: mappings,
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeImage, Tags: []ec2types.Tag{
				{Key: aws.String(lifecycle.TagRole), Value: aws.String("web")},
			}}},
		})
		if err != nil {
			t.Fatalf("register image %s: %v", name, err)
		}
		ids = append(ids, aws.ToString(out.ImageId))
	}
	return ids
}

// image registers one image with an 8 GiB root snapshot.
func (w *imageWorld) image(t *testing.T, name string) string {
	t.Helper()
	return w.register(t, nil, name)[0]
}

// template creates a launch template whose version 1 runs images[0], then
// one version per further image, and returns its id.
func (w *imageWorld) template(t *testing.T, name string, tags map[string]string, images ...string) string {
	t.Helper()
	in := &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String(name),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(images[0]), InstanceType: ec2types.InstanceTypeT3Micro},
	}
	if len(tags) > 0 {
		spec := ec2types.TagSpecification{ResourceType: ec2types.ResourceTypeLaunchTemplate}
		for k, v := range tags {
			spec.Tags = append(spec.Tags, ec2types.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		in.TagSpecifications = []ec2types.TagSpecification{spec}
	}
	lt, err := w.env.EC2.CreateLaunchTemplate(w.ctx, in)
	if err != nil {
		t.Fatalf("create launch template %s: %v", name, err)
	}
	id := aws.ToString(lt.LaunchTemplate.LaunchTemplateId)
	for _, img := range images[1:] {
		if _, err := w.env.EC2.CreateLaunchTemplateVersion(w.ctx, &ec2.CreateLaunchTemplateVersionInput{
			LaunchTemplateId: aws.String(id), SourceVersion: aws.String("1"),
			LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(img)},
		}); err != nil {
			t.Fatalf("create version of %s: %v", name, err)
		}
	}
	return id
}

// describe reads one image as EC2 shows it, disabled ones included.
func (w *imageWorld) describe(t *testing.T, id string) ec2types.Image {
	t.Helper()
	out, err := w.env.EC2.DescribeImages(w.ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}, IncludeDisabled: aws.Bool(true)})
	if err != nil || len(out.Images) != 1 {
		t.Fatalf("describe image %s: %v (%d images)", id, err, len(out.Images))
	}
	return out.Images[0]
}

// own returns OwnImages by id.
func (w *imageWorld) own(t *testing.T) map[string]lifecycle.Image {
	t.Helper()
	imgs, err := w.images.OwnImages(w.ctx, w.region)
	if err != nil {
		t.Fatalf("own images: %v", err)
	}
	out := map[string]lifecycle.Image{}
	for _, img := range imgs {
		out[img.ID] = img
	}
	return out
}

// withoutRetries returns a fleet on the same cloud whose clients do not
// retry, so that one injected fault reaches the adapter.
func (w *imageWorld) withoutRetries() *fleet.Fleet {
	cfg := w.env.Config.Copy()
	cfg.RetryMaxAttempts = 1
	return fleet.New(cfg, nil)
}

func TestTemplates(t *testing.T) {
	t.Parallel()
	w := newImageWorld(t)
	a, b := w.image(t, "app-a"), w.image(t, "app-b")
	// 205 versions: more than one page of DescribeLaunchTemplateVersions
	// (200 at most).
	images := []string{a}
	for i := 2; i <= 205; i++ {
		images = append(images, []string{a, b}[i%2])
	}
	big := w.template(t, "big", map[string]string{lifecycle.TagKeepVersions: "30"}, images...)
	if _, err := w.env.EC2.ModifyLaunchTemplate(w.ctx, &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String(big), DefaultVersion: aws.String("3")}); err != nil {
		t.Fatal(err)
	}
	small := w.template(t, "small", nil, b)

	t.Run("every version of every template comes back, oldest first, with its image, default and tags", func(t *testing.T) {
		got, err := w.images.Templates(w.ctx, w.region, []string{big, small, big})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("got %d templates, want 2: %+v", len(got), got)
		}
		byID := map[string]lifecycle.Template{got[0].ID: got[0], got[1].ID: got[1]}
		lt := byID[big]
		if lt.Name != "big" || lt.Region != w.region || lt.Default != 3 || lt.Tags[lifecycle.TagKeepVersions] != "30" {
			t.Errorf("big: got %+v", lt)
		}
		if len(lt.Versions) != 205 {
			t.Fatalf("big has %d versions, want 205", len(lt.Versions))
		}
		for i, v := range lt.Versions {
			if v.Number != int64(i+1) || v.ImageID != images[i] {
				t.Fatalf("version %d: got %+v, want number %d image %s", i, v, i+1, images[i])
			}
		}
		if s := byID[small]; s.Default != 1 || len(s.Versions) != 1 || s.Versions[0].ImageID != b || len(s.Tags) != 0 {
			t.Errorf("small: got %+v", s)
		}
		if got[0].ID > got[1].ID {
			t.Errorf("templates not ordered by id: %s, %s", got[0].ID, got[1].ID)
		}
	})
	t.Run("a template that no longer exists is left out, the others still come back", func(t *testing.T) {
		got, err := w.images.Templates(w.ctx, w.region, []string{"lt-0123456789abcdef0", small})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].ID != small {
			t.Errorf("got %+v, want only %s", got, small)
		}
	})
	t.Run("no ids, no templates", func(t *testing.T) {
		got, err := w.images.Templates(w.ctx, w.region, nil)
		if err != nil || len(got) != 0 {
			t.Errorf("got %+v, %v", got, err)
		}
	})
}

func TestOwnImages(t *testing.T) {
	t.Parallel()
	w := newImageWorld(t)
	// A 20 GiB root snapshot and an empty 30 GiB data volume, which has no
	// snapshot to pay for.
	sized := w.register(t, []ec2types.BlockDeviceMapping{
		{DeviceName: aws.String("/dev/xvda"), Ebs: &ec2types.EbsBlockDevice{VolumeSize: aws.Int32(20)}},
		{DeviceName: aws.String("/dev/xvdb"), Ebs: &ec2types.EbsBlockDevice{VolumeSize: aws.Int32(30)}},
	}, "sized")[0]
	ids := w.register(t, nil, "deprecated", "disabled", "protected", "cooldown")
	deprecated, disabled, protected, cooldown := ids[0], ids[1], ids[2], ids[3]
	// A second image made from sized's root snapshot, on a bigger volume.
	snap := aws.ToString(w.describe(t, sized).BlockDeviceMappings[0].Ebs.SnapshotId)
	reuse := w.register(t, []ec2types.BlockDeviceMapping{
		{DeviceName: aws.String("/dev/xvda"), Ebs: &ec2types.EbsBlockDevice{VolumeSize: aws.Int32(12)}},
		{DeviceName: aws.String("/dev/xvdc"), Ebs: &ec2types.EbsBlockDevice{SnapshotId: aws.String(snap), VolumeSize: aws.Int32(25)}},
	}, "reuse")[0]

	deprecateAt := w.env.Now().Add(time.Minute).Truncate(time.Minute).Add(time.Minute)
	if _, err := w.env.EC2.EnableImageDeprecation(w.ctx, &ec2.EnableImageDeprecationInput{ImageId: aws.String(deprecated), DeprecateAt: aws.Time(deprecateAt)}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.env.EC2.DisableImage(w.ctx, &ec2.DisableImageInput{ImageId: aws.String(disabled)}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{protected, cooldown} {
		if _, err := w.env.EC2.EnableImageDeregistrationProtection(w.ctx, &ec2.EnableImageDeregistrationProtectionInput{ImageId: aws.String(id), WithCooldown: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.env.EC2.DisableImageDeregistrationProtection(w.ctx, &ec2.DisableImageDeregistrationProtectionInput{ImageId: aws.String(cooldown)}); err != nil {
		t.Fatal(err)
	}
	w.env.Advance(3 * time.Minute)
	foreign, err := w.env.Cloud.World.AddImage(w.region, sim.ImageSpec{Name: "someone-elses", OwnerID: "210987654321", Available: true})
	if err != nil {
		t.Fatal(err)
	}
	shared := w.register(t, nil, "shared-account", "shared-org", "shared-ou", "public")
	sharedAccount, sharedOrg, sharedOU, public := shared[0], shared[1], shared[2], shared[3]
	for id, lp := range map[string]ec2types.LaunchPermission{
		sharedAccount: {UserId: aws.String("210987654321")},
		sharedOrg:     {OrganizationArn: aws.String("arn:aws:organizations::123456789012:organization/o-abcde12345")},
		sharedOU:      {OrganizationalUnitArn: aws.String("arn:aws:organizations::123456789012:ou/o-abcde12345/ou-ab12-cdef3456")},
		public:        {Group: ec2types.PermissionGroupAll},
	} {
		if _, err := w.env.EC2.ModifyImageAttribute(w.ctx, &ec2.ModifyImageAttributeInput{
			ImageId: aws.String(id), LaunchPermission: &ec2types.LaunchPermissionModifications{Add: []ec2types.LaunchPermission{lp}},
		}); err != nil {
			t.Fatalf("share %s: %v", id, err)
		}
	}

	got := w.own(t)
	account := w.env.Cloud.World.Account()
	cases := []struct {
		name string
		id   string
		want lifecycle.Image
	}{
		{"an image's snapshot size counts only the volumes backed by a snapshot", sized, lifecycle.Image{State: "available", SnapshotGiB: 20}},
		{"a deprecated image comes back with its deprecation time", deprecated, lifecycle.Image{State: "available", SnapshotGiB: 8, DeprecatedAt: deprecateAt}},
		{"a disabled image comes back although DescribeImages hides it by default", disabled, lifecycle.Image{State: "disabled", SnapshotGiB: 8}},
		{"an image with deregistration protection is protected", protected, lifecycle.Image{State: "available", SnapshotGiB: 8, Protected: true}},
		{"an image whose protection was lifted is not protected during the cooldown", cooldown, lifecycle.Image{State: "available", SnapshotGiB: 8}},
		{"an image made from another's snapshot counts the volume made from it", reuse, lifecycle.Image{State: "available", SnapshotGiB: 12 + 25}},
		{"an image shared with one account is shared", sharedAccount, lifecycle.Image{State: "available", SnapshotGiB: 8, Shared: true}},
		{"an image shared with an organization is shared", sharedOrg, lifecycle.Image{State: "available", SnapshotGiB: 8, Shared: true}},
		{"an image shared with an OU is shared", sharedOU, lifecycle.Image{State: "available", SnapshotGiB: 8, Shared: true}},
		{"a public image is shared", public, lifecycle.Image{State: "available", SnapshotGiB: 8, Shared: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			img, ok := got[tc.id]
			if !ok {
				t.Fatalf("%s is missing from %v", tc.id, got)
			}
			if img.Owner != account || img.Region != w.region || img.Created.IsZero() || img.Tags[lifecycle.TagRole] != "web" || img.Shared != tc.want.Shared {
				t.Errorf("got %+v; want owner %s, region %s, a creation time, its tags, shared %v", img, account, w.region, tc.want.Shared)
			}
			if img.State != tc.want.State || img.SnapshotGiB != tc.want.SnapshotGiB || !img.DeprecatedAt.Equal(tc.want.DeprecatedAt) || img.Protected != tc.want.Protected {
				t.Errorf("got state %s, %d GiB, deprecated at %v, protected %v; want %s, %d GiB, %v, %v",
					img.State, img.SnapshotGiB, img.DeprecatedAt, img.Protected,
					tc.want.State, tc.want.SnapshotGiB, tc.want.DeprecatedAt, tc.want.Protected)
			}
			if img.References != nil || img.Ledger != (lifecycle.Tracked{}) {
				t.Errorf("references and ledger are the caller's to fill: got %+v", img)
			}
		})
	}
	t.Run("another account's image is not this account's to retire", func(t *testing.T) {
		if _, ok := got[foreign]; ok {
			t.Errorf("%s (another account's, public) is listed", foreign)
		}
		if len(got) != len(cases) {
			t.Errorf("got %d images, want %d", len(got), len(cases))
		}
	})
}

func TestOwnImagesAsksOnlyAboutImagesAPlanCouldRetire(t *testing.T) {
	t.Parallel()
	w := newImageWorld(t)
	pending := w.registerPending(t, nil, "pending")[0]
	failed := w.registerPending(t, nil, "failed")[0]
	if err := w.env.Cloud.World.FailImage(w.region, failed, "the build broke"); err != nil {
		t.Fatal(err)
	}
	// Every launch permission read fails: a pending or failed image must
	// not be asked about.
	if _, err := w.env.Cloud.Faults.Add(faults.Rule{Kind: faults.Throttle, Service: "ec2", Operation: "DescribeImageAttribute"}); err != nil {
		t.Fatal(err)
	}
	got := w.own(t)
	if len(got) != 2 || got[pending].State != "pending" || got[failed].State != "failed" || got[pending].Shared || got[failed].Shared {
		t.Fatalf("got %+v, want the pending and the failed image, neither shared", got)
	}
}

func TestADisabledImageLosesItsSharing(t *testing.T) {
	t.Parallel()
	w := newImageWorld(t)
	id := w.image(t, "app")
	if _, err := w.env.EC2.ModifyImageAttribute(w.ctx, &ec2.ModifyImageAttributeInput{
		ImageId: aws.String(id), LaunchPermission: &ec2types.LaunchPermissionModifications{Add: []ec2types.LaunchPermission{{UserId: aws.String("210987654321")}}},
	}); err != nil {
		t.Fatal(err)
	}
	if !w.own(t)[id].Shared {
		t.Fatalf("%s shared with an account reads not shared", id)
	}
	// EC2 removes every launch permission of an image it disables.
	if err := w.images.Disable(w.ctx, w.region, id); err != nil {
		t.Fatal(err)
	}
	if img := w.own(t)[id]; img.State != "disabled" || img.Shared {
		t.Fatalf("got %+v, want disabled and no longer shared", img)
	}
}

func TestReferences(t *testing.T) {
	t.Parallel()
	w := newImageWorld(t)
	// 12 images: DescribeImageReferences takes 10 ids a request.
	var names []string
	for i := range 12 {
		names = append(names, fmt.Sprintf("img-%02d", i))
	}
	ids := w.register(t, nil, names...)
	used, gone, last := ids[0], ids[1], ids[11]
	other := ids[2]

	run := func(image string) string {
		out, err := w.env.EC2.RunInstances(w.ctx, &ec2.RunInstancesInput{
			ImageId: aws.String(image), InstanceType: ec2types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.Instances[0].InstanceId)
	}
	instance := run(used)
	terminated := run(gone)
	if _, err := w.env.EC2.TerminateInstances(w.ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{terminated}}); err != nil {
		t.Fatal(err)
	}
	// Two versions of one template run the image; in another, the only
	// version that does is older than the 10 most recent.
	twice := w.template(t, "twice", nil, used, used, other)
	deep := []string{used}
	for range 11 {
		deep = append(deep, other)
	}
	old := w.template(t, "old", nil, deep...)
	for name, value := range map[string]string{"/golden/web": used, "/golden/last": last} {
		if _, err := w.env.SSM.PutParameter(w.ctx, &ssm.PutParameterInput{
			Name: aws.String(name), Value: aws.String(value), Type: ssmtypes.ParameterTypeString, DataType: aws.String("aws:ec2:image"),
		}); err != nil {
			t.Fatal(err)
		}
	}
	w.env.Advance(5 * time.Minute)

	asked := append(slices.Clone(ids), "ami-0123456789abcdef0")
	got, err := w.images.References(w.ctx, w.region, asked)
	if err != nil {
		t.Fatal(err)
	}
	kinds := func(id string) map[string][]string {
		out := map[string][]string{}
		for _, r := range got[id] {
			out[r.Kind] = append(out[r.Kind], r.ARN)
		}
		return out
	}
	t.Run("an image is referenced by its instance, each template naming it in any version, and its parameter", func(t *testing.T) {
		k := kinds(used)
		if len(k["instance"]) != 1 || !endsWith(k["instance"][0], instance) {
			t.Errorf("instances: %v, want %s", k["instance"], instance)
		}
		if len(k["launch-template"]) != 2 || !containsSuffix(k["launch-template"], twice) || !containsSuffix(k["launch-template"], old) {
			t.Errorf("launch templates: %v, want %s and %s", k["launch-template"], twice, old)
		}
		if len(k["ssm-parameter"]) != 1 || !endsWith(k["ssm-parameter"][0], "/golden/web") {
			t.Errorf("parameters: %v, want /golden/web", k["ssm-parameter"])
		}
		if len(k) != 3 {
			t.Errorf("kinds: %v", k)
		}
	})
	t.Run("an image in the second batch of ten is answered too", func(t *testing.T) {
		if k := kinds(last); len(k["ssm-parameter"]) != 1 || len(got[last]) != 1 {
			t.Errorf("got %+v", got[last])
		}
	})
	t.Run("a terminated instance does not reference its image", func(t *testing.T) {
		if refs := got[gone]; len(refs) != 0 {
			t.Errorf("got %+v", refs)
		}
	})
	t.Run("an image no one references, or that does not exist, has no entry", func(t *testing.T) {
		for _, id := range []string{ids[5], "ami-0123456789abcdef0"} {
			if _, ok := got[id]; ok {
				t.Errorf("%s: got %+v", id, got[id])
			}
		}
	})
}

func endsWith(s, suffix string) bool {
	return len(s) >= len(suffix) && s[len(s)-len(suffix):] == suffix
}

func containsSuffix(list []string, suffix string) bool {
	return slices.ContainsFunc(list, func(s string) bool { return endsWith(s, suffix) })
}

func TestDeleteVersions(t *testing.T) {
	t.Parallel()
	w := newImageWorld(t)
	img := w.image(t, "app")
	lt := w.template(t, "web", nil, img, img, img, img, img)
	versions := func() []int64 {
		got, err := w.images.Templates(w.ctx, w.region, []string{lt})
		if err != nil || len(got) != 1 {
			t.Fatalf("templates: %+v, %v", got, err)
		}
		var out []int64
		for _, v := range got[0].Versions {
			out = append(out, v.Number)
		}
		return out
	}
	t.Run("the default version stays and a missing version counts as deleted", func(t *testing.T) {
		got, err := w.images.DeleteVersions(w.ctx, w.region, lt, []int64{3, 1, 2, 9})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, []int64{2, 3, 9}) {
			t.Errorf("deleted %v, want [2 3 9]", got)
		}
		if left := versions(); !slices.Equal(left, []int64{1, 4, 5}) {
			t.Errorf("left %v, want [1 4 5]", left)
		}
	})
	t.Run("deleting the same versions again deletes them again", func(t *testing.T) {
		got, err := w.images.DeleteVersions(w.ctx, w.region, lt, []int64{2, 3})
		if err != nil || !slices.Equal(got, []int64{2, 3}) {
			t.Errorf("got %v, %v; want [2 3]", got, err)
		}
	})
	t.Run("more versions than one request takes are refused before any call", func(t *testing.T) {
		many := make([]int64, lifecycle.MaxVersionsPerDelete+1)
		for i := range many {
			many[i] = int64(i + 2)
		}
		if _, err := w.images.DeleteVersions(w.ctx, w.region, lt, many); err == nil {
			t.Fatal("no error")
		}
		if left := versions(); !slices.Equal(left, []int64{1, 4, 5}) {
			t.Errorf("left %v, want [1 4 5]", left)
		}
	})
	t.Run("a template that does not exist is a NotFoundError", func(t *testing.T) {
		_, err := w.images.DeleteVersions(w.ctx, w.region, "lt-0123456789abcdef0", []int64{2})
		wantNotFound(t, err, "launch template")
	})
}

func TestImageStagesAreIdempotent(t *testing.T) {
	t.Parallel()
	w := newImageWorld(t)
	img := w.image(t, "app")
	twice := func(t *testing.T, what string, do func() error) {
		t.Helper()
		for i := range 2 {
			if err := do(); err != nil {
				t.Fatalf("%s (call %d): %v", what, i+1, err)
			}
		}
	}
	t.Run("deprecating twice sets the time rounded up to the minute, and again once it has passed", func(t *testing.T) {
		at := w.env.Now().Add(90 * time.Second)
		want := at.Truncate(time.Minute).Add(time.Minute)
		twice(t, "deprecate", func() error { return w.images.Deprecate(w.ctx, w.region, img, at) })
		if got := w.own(t)[img].DeprecatedAt; !got.Equal(want) {
			t.Fatalf("deprecated at %v, want %v", got, want)
		}
		w.env.Advance(5 * time.Minute)
		if err := w.images.Deprecate(w.ctx, w.region, img, at); err != nil {
			t.Fatalf("deprecate a deprecated image: %v", err)
		}
		if err := w.images.Deprecate(w.ctx, w.region, img, w.env.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got := w.own(t)[img].DeprecatedAt; !got.Equal(want) {
			t.Errorf("a later deprecation moved it to %v; want it kept at %v", got, want)
		}
	})
	t.Run("disabling twice leaves it disabled", func(t *testing.T) {
		twice(t, "disable", func() error { return w.images.Disable(w.ctx, w.region, img) })
		if got := w.own(t)[img].State; got != "disabled" {
			t.Errorf("state %s", got)
		}
	})
	t.Run("restoring twice leaves it available and not deprecated", func(t *testing.T) {
		twice(t, "restore", func() error { return w.images.Restore(w.ctx, w.region, img) })
		if got := w.own(t)[img]; got.State != "available" || !got.DeprecatedAt.IsZero() {
			t.Errorf("got state %s, deprecated at %v", got.State, got.DeprecatedAt)
		}
	})
	t.Run("protecting twice protects it without cooldown", func(t *testing.T) {
		twice(t, "protect", func() error { return w.images.Protect(w.ctx, w.region, img) })
		if got := aws.ToString(w.describe(t, img).DeregistrationProtection); got != "enabled-without-cooldown" {
			t.Errorf("protection %q", got)
		}
		if _, err := w.images.Deregister(w.ctx, w.region, img); err == nil || rollout.IsTransient(err) {
			t.Errorf("deregister a protected image: %v, want a lasting error", err)
		}
	})
	t.Run("unprotecting twice makes it deregistrable at once", func(t *testing.T) {
		twice(t, "unprotect", func() error { return w.images.Unprotect(w.ctx, w.region, img) })
		if got := w.own(t)[img]; got.Protected {
			t.Errorf("still protected: %+v", got)
		}
		if got := aws.ToString(w.describe(t, img).DeregistrationProtection); got != "disabled" {
			t.Errorf("protection %q, want disabled with no cooldown", got)
		}
	})
	t.Run("a pending image cannot be disabled: EC2's IncorrectState stays an error", func(t *testing.T) {
		pending := w.registerPending(t, nil, "pending")[0]
		err := w.images.Disable(w.ctx, w.region, pending)
		var nf *rollout.NotFoundError
		if err == nil || errors.As(err, &nf) || rollout.IsTransient(err) {
			t.Errorf("got %v, want a lasting error", err)
		}
	})
}

func TestDeregister(t *testing.T) {
	t.Parallel()
	w := newImageWorld(t)
	first := w.register(t, []ec2types.BlockDeviceMapping{
		{DeviceName: aws.String("/dev/xvda"), Ebs: &ec2types.EbsBlockDevice{VolumeSize: aws.Int32(20)}},
	}, "first")[0]
	snap := aws.ToString(w.describe(t, first).BlockDeviceMappings[0].Ebs.SnapshotId)
	// second has a 10 GiB root snapshot of its own and a volume made from
	// first's snapshot.
	second := w.register(t, []ec2types.BlockDeviceMapping{
		{DeviceName: aws.String("/dev/xvda"), Ebs: &ec2types.EbsBlockDevice{VolumeSize: aws.Int32(10)}},
		{DeviceName: aws.String("/dev/xvdb"), Ebs: &ec2types.EbsBlockDevice{SnapshotId: aws.String(snap)}},
	}, "second")[0]
	if err := w.images.Disable(w.ctx, w.region, second); err != nil {
		t.Fatal(err)
	}

	t.Run("a disabled image is deregistered with the snapshots no other image uses", func(t *testing.T) {
		gib, err := w.images.Deregister(w.ctx, w.region, second)
		if err != nil {
			t.Fatal(err)
		}
		if gib != 10 {
			t.Errorf("deleted %d GiB, want 10 (first still uses the 20 GiB snapshot)", gib)
		}
	})
	t.Run("an image already deregistered is a NotFoundError, while EC2 lists it and after", func(t *testing.T) {
		_, err := w.images.Deregister(w.ctx, w.region, second)
		wantNotFound(t, err, "image")
		w.env.Advance(24 * time.Hour)
		_, err = w.images.Deregister(w.ctx, w.region, second)
		wantNotFound(t, err, "image")
	})
	t.Run("the last image using a snapshot deletes it", func(t *testing.T) {
		gib, err := w.images.Deregister(w.ctx, w.region, first)
		if err != nil || gib != 20 {
			t.Errorf("got %d GiB, %v; want 20", gib, err)
		}
		out, err := w.env.EC2.DescribeSnapshots(w.ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Snapshots) != 0 {
			t.Errorf("snapshots left: %+v", out.Snapshots)
		}
	})
	t.Run("every change is logged with its image", func(t *testing.T) {
		n := 0
		for _, rec := range logLines(t, w.logs) {
			if rec["msg"] == "deregistered image" && rec["imageId"] != nil {
				n++
			}
		}
		if n != 2 {
			t.Errorf("%d deregistrations logged, want 2", n)
		}
	})
}

func TestImageLifecycleErrors(t *testing.T) {
	t.Parallel()
	t.Run("every change to an image that does not exist is a NotFoundError", func(t *testing.T) {
		t.Parallel()
		w := newImageWorld(t)
		const missing = "ami-0123456789abcdef0"
		calls := map[string]func() error{
			"deprecate": func() error { return w.images.Deprecate(w.ctx, w.region, missing, w.env.Now().Add(time.Hour)) },
			"disable":   func() error { return w.images.Disable(w.ctx, w.region, missing) },
			"restore":   func() error { return w.images.Restore(w.ctx, w.region, missing) },
			"protect":   func() error { return w.images.Protect(w.ctx, w.region, missing) },
			"unprotect": func() error { return w.images.Unprotect(w.ctx, w.region, missing) },
			"deregister": func() error {
				_, err := w.images.Deregister(w.ctx, w.region, missing)
				return err
			},
		}
		for name, call := range calls {
			t.Run(name, func(t *testing.T) { wantNotFound(t, call(), "image") })
		}
	})
	cases := []struct {
		name      string
		operation string
		call      func(w *imageWorld, f *fleet.Fleet, img, lt string) error
	}{
		{"a throttled template read", "DescribeLaunchTemplateVersions", func(w *imageWorld, f *fleet.Fleet, _, lt string) error {
			_, err := f.Templates(w.ctx, w.region, []string{lt})
			return err
		}},
		{"a throttled image listing", "DescribeImages", func(w *imageWorld, f *fleet.Fleet, _, _ string) error {
			_, err := f.OwnImages(w.ctx, w.region)
			return err
		}},
		{"a throttled launch permission read", "DescribeImageAttribute", func(w *imageWorld, f *fleet.Fleet, _, _ string) error {
			_, err := f.OwnImages(w.ctx, w.region)
			return err
		}},
		{"a throttled reference read", "DescribeImageReferences", func(w *imageWorld, f *fleet.Fleet, img, _ string) error {
			_, err := f.References(w.ctx, w.region, []string{img})
			return err
		}},
		{"a throttled version deletion", "DeleteLaunchTemplateVersions", func(w *imageWorld, f *fleet.Fleet, _, lt string) error {
			_, err := f.DeleteVersions(w.ctx, w.region, lt, []int64{2})
			return err
		}},
		{"a throttled disable", "DisableImage", func(w *imageWorld, f *fleet.Fleet, img, _ string) error {
			return f.Disable(w.ctx, w.region, img)
		}},
		{"a throttled protection", "EnableImageDeregistrationProtection", func(w *imageWorld, f *fleet.Fleet, img, _ string) error {
			return f.Protect(w.ctx, w.region, img)
		}},
		{"a throttled deregistration", "DeregisterImage", func(w *imageWorld, f *fleet.Fleet, img, _ string) error {
			_, err := f.Deregister(w.ctx, w.region, img)
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name+" is a TransientError", func(t *testing.T) {
			t.Parallel()
			w := newImageWorld(t)
			img := w.image(t, "app")
			lt := w.template(t, "web", nil, img, img)
			if _, err := w.env.Cloud.Faults.Add(faults.Rule{Kind: faults.Throttle, Service: "ec2", Operation: tc.operation}); err != nil {
				t.Fatal(err)
			}
			if err := tc.call(w, w.withoutRetries(), img, lt); !rollout.IsTransient(err) {
				t.Fatalf("error %v (%T), want a TransientError", err, err)
			}
		})
	}
}
