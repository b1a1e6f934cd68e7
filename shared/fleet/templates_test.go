package fleet_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

func TestResolveVersion(t *testing.T) {
	t.Parallel()
	w := newWorld(t, groupOptions{})
	v2Image := w.newImage(t, "web-v2", ec2types.ArchitectureValuesX8664, "healthy")
	w.version(t, v2Image)
	cases := []struct {
		name      string
		version   string
		number    int64
		image     string
		isDefault bool
	}{
		{"a $Latest group resolves to the numbered version it means today", "$Latest", 2, v2Image, false},
		{"$Default resolves to the default version", "$Default", 1, w.image, true},
		{"an empty version means the default version, as on a group", "", 1, w.image, true},
		{"a number resolves to itself", "2", 2, v2Image, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := w.fleet.ResolveVersion(w.ctx, w.key.Region, w.ltID, tc.version)
			if err != nil {
				t.Fatal(err)
			}
			want := rollout.TemplateVersion{LaunchTemplateID: w.ltID, Number: tc.number, ImageID: tc.image, InstanceType: "t3.micro", IsDefault: tc.isDefault}
			if v != want {
				t.Errorf("got %+v, want %+v", v, want)
			}
		})
	}
	t.Run("a version that does not exist is a NotFoundError", func(t *testing.T) {
		_, err := w.fleet.ResolveVersion(w.ctx, w.key.Region, w.ltID, "9")
		wantNotFound(t, err, "launch template version")
	})
	t.Run("a template that does not exist is a NotFoundError", func(t *testing.T) {
		_, err := w.fleet.ResolveVersion(w.ctx, w.key.Region, "lt-0123456789abcdef0", "1")
		wantNotFound(t, err, "launch template version")
	})
}

func TestImage(t *testing.T) {
	t.Parallel()
	w := newWorld(t, groupOptions{})
	arm := w.newImage(t, "web-arm", ec2types.ArchitectureValuesArm64, "healthy")
	t.Run("an available image reads back with its architecture, owner, date and tags", func(t *testing.T) {
		img, err := w.fleet.Image(w.ctx, w.key.Region, arm)
		if err != nil {
			t.Fatal(err)
		}
		if img.ID != arm || img.Name != "web-arm" || img.State != "available" || img.Architecture != "arm64" ||
			img.OwnerID == "" || img.CreatedAt.IsZero() || img.Tags["release"] != "web-arm" {
			t.Errorf("got %+v", img)
		}
	})
	t.Run("a disabled image reads as disabled, not as missing", func(t *testing.T) {
		off := w.newImage(t, "web-off", ec2types.ArchitectureValuesX8664, "healthy")
		if _, err := w.env.EC2.DisableImage(w.ctx, &ec2.DisableImageInput{ImageId: aws.String(off)}); err != nil {
			t.Fatal(err)
		}
		img, err := w.fleet.Image(w.ctx, w.key.Region, off)
		if err != nil || img.ID != off || img.State != "disabled" {
			t.Fatalf("got %+v, %v; want the image with state disabled", img, err)
		}
	})
	t.Run("an image that never existed is a NotFoundError", func(t *testing.T) {
		_, err := w.fleet.Image(w.ctx, w.key.Region, "ami-0123456789abcdef0")
		wantNotFound(t, err, "image")
	})
	t.Run("a deregistered image reads with its state while EC2 lists it, then is a NotFoundError", func(t *testing.T) {
		if _, err := w.env.EC2.DeregisterImage(w.ctx, &ec2.DeregisterImageInput{ImageId: aws.String(arm)}); err != nil {
			t.Fatal(err)
		}
		img, err := w.fleet.Image(w.ctx, w.key.Region, arm)
		if err != nil || img.ID != arm || img.State != "deregistered" || img.Architecture != "arm64" {
			t.Fatalf("just deregistered: got %+v, %v; want the image with state deregistered", img, err)
		}
		w.env.Advance(2 * time.Hour)
		_, err = w.fleet.Image(w.ctx, w.key.Region, arm)
		wantNotFound(t, err, "image")
	})
}

func TestArchitectures(t *testing.T) {
	t.Parallel()
	w := newWorld(t, groupOptions{})
	t.Run("each instance type reports the architectures it runs, asked once per type", func(t *testing.T) {
		got, err := w.fleet.Architectures(w.ctx, w.key.Region, []string{"t4g.micro", "t3.micro", "t4g.micro"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || !slices.Equal(got["t3.micro"], []string{"x86_64"}) || !slices.Equal(got["t4g.micro"], []string{"arm64"}) {
			t.Errorf("got %v", got)
		}
	})
	t.Run("no instance types ask nothing", func(t *testing.T) {
		got, err := w.fleet.Architectures(w.ctx, w.key.Region, nil)
		if err != nil || len(got) != 0 {
			t.Errorf("got %v, %v", got, err)
		}
	})
	t.Run("a type the region does not offer is absent, and the others are described", func(t *testing.T) {
		got, err := w.fleet.Architectures(w.ctx, w.key.Region, []string{"t3.micro", "z9.huge", "t4g.micro"})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := got["z9.huge"]; ok || len(got) != 2 || !slices.Equal(got["t3.micro"], []string{"x86_64"}) || !slices.Equal(got["t4g.micro"], []string{"arm64"}) {
			t.Errorf("got %v; want t3.micro and t4g.micro, and no z9.huge", got)
		}
	})
}

func TestDryRunLaunch(t *testing.T) {
	t.Parallel()
	w := newWorld(t, groupOptions{})
	instances := func() int {
		t.Helper()
		out, err := w.env.EC2.DescribeInstances(w.ctx, &ec2.DescribeInstancesInput{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range out.Reservations {
			n += len(r.Instances)
		}
		return n
	}
	t.Run("a dry run of a launchable version succeeds and launches nothing", func(t *testing.T) {
		before := instances()
		if err := w.fleet.DryRunLaunch(w.ctx, w.key.Region, w.ltID, 1); err != nil {
			t.Fatalf("dry run: %v", err)
		}
		if after := instances(); after != before {
			t.Errorf("%d instances after the dry run, %d before", after, before)
		}
	})
	t.Run("a dry run with an arm64 image on an x86 type fails", func(t *testing.T) {
		arm := w.newImage(t, "web-arm", ec2types.ArchitectureValuesArm64, "healthy")
		v := w.version(t, arm)
		err := w.fleet.DryRunLaunch(w.ctx, w.key.Region, w.ltID, v)
		if err == nil {
			t.Fatal("the dry run passed")
		}
		if rollout.IsTransient(err) || !strings.Contains(err.Error(), "architecture") {
			t.Errorf("error %v, want a permanent error naming the architecture", err)
		}
	})
	t.Run("a dry run of a version that does not exist is a NotFoundError", func(t *testing.T) {
		wantNotFound(t, w.fleet.DryRunLaunch(w.ctx, w.key.Region, w.ltID, 42), "launch template version")
	})
}

func TestCreateVersion(t *testing.T) {
	t.Parallel()
	t.Run("a new version changes only the image of its source", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, groupOptions{})
		img := w.newImage(t, "web-v2", ec2types.ArchitectureValuesX8664, "healthy")
		v, err := w.fleet.CreateVersion(w.ctx, w.key.Region, w.ltID, 1, img, "rollout-1", "phoenix rollout-1")
		if err != nil {
			t.Fatal(err)
		}
		want := rollout.TemplateVersion{LaunchTemplateID: w.ltID, Number: 2, ImageID: img, InstanceType: "t3.micro"}
		if v != want {
			t.Errorf("got %+v, want %+v", v, want)
		}
		out, err := w.env.EC2.DescribeLaunchTemplateVersions(w.ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(w.ltID), Versions: []string{"2"}})
		if err != nil {
			t.Fatal(err)
		}
		if d := aws.ToString(out.LaunchTemplateVersions[0].VersionDescription); d != "phoenix rollout-1" {
			t.Errorf("description %q", d)
		}
	})
	t.Run("a repeated client token returns the version made the first time", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, groupOptions{})
		img := w.newImage(t, "web-v2", ec2types.ArchitectureValuesX8664, "healthy")
		for _, token := range []string{"rollout-2", strings.Repeat("a-token-longer-than-ec2-accepts-", 4)} {
			first, err := w.fleet.CreateVersion(w.ctx, w.key.Region, w.ltID, 1, img, token, "")
			if err != nil {
				t.Fatal(err)
			}
			again, err := w.fleet.CreateVersion(w.ctx, w.key.Region, w.ltID, 1, img, token, "")
			if err != nil {
				t.Fatal(err)
			}
			latest, err := w.fleet.ResolveVersion(w.ctx, w.key.Region, w.ltID, "$Latest")
			if err != nil {
				t.Fatal(err)
			}
			if again.Number != first.Number || latest.Number != first.Number {
				t.Errorf("token of %d bytes: first %d, again %d, latest %d: the repeat made a version", len(token), first.Number, again.Number, latest.Number)
			}
		}
	})
	t.Run("a source version that does not exist is a NotFoundError", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, groupOptions{})
		_, err := w.fleet.CreateVersion(w.ctx, w.key.Region, w.ltID, 7, w.image, "", "")
		wantNotFound(t, err, "launch template version")
	})
}

func TestPinAndDefaultVersion(t *testing.T) {
	t.Parallel()
	t.Run("pinning moves a $Latest group to the number it names", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, groupOptions{version: "$Latest"})
		latest, err := w.fleet.ResolveVersion(w.ctx, w.key.Region, w.ltID, w.group(t).LaunchTemplateVersion)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.fleet.PinVersion(w.ctx, w.key, w.ltID, latest.Number); err != nil {
			t.Fatal(err)
		}
		if g := w.group(t); g.LaunchTemplateID != w.ltID || g.LaunchTemplateVersion != "1" {
			t.Errorf("group on %s %s, want %s 1", g.LaunchTemplateID, g.LaunchTemplateVersion, w.ltID)
		}
		if err := w.fleet.PinVersion(w.ctx, w.key, w.ltID, latest.Number); err != nil {
			t.Errorf("pinning again: %v", err)
		}
	})
	t.Run("pinning a mixed group keeps its overrides", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, groupOptions{version: "$Default", overrides: []string{"t3.micro", "t3a.micro"}})
		if err := w.fleet.PinVersion(w.ctx, w.key, w.ltID, 1); err != nil {
			t.Fatal(err)
		}
		g := w.group(t)
		if !g.MixedInstances || g.LaunchTemplateVersion != "1" || !slices.Equal(g.InstanceTypes, []string{"t3.micro", "t3a.micro"}) {
			t.Errorf("mixed %v, version %s, types %v", g.MixedInstances, g.LaunchTemplateVersion, g.InstanceTypes)
		}
	})
	t.Run("the default version moves to the one set", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, groupOptions{})
		v := w.version(t, w.newImage(t, "web-v2", ec2types.ArchitectureValuesX8664, "healthy"))
		if err := w.fleet.SetDefaultVersion(w.ctx, w.key.Region, w.ltID, v); err != nil {
			t.Fatal(err)
		}
		def, err := w.fleet.ResolveVersion(w.ctx, w.key.Region, w.ltID, "$Default")
		if err != nil {
			t.Fatal(err)
		}
		if def.Number != v || !def.IsDefault {
			t.Errorf("default is %+v, want version %d", def, v)
		}
		wantNotFound(t, w.fleet.SetDefaultVersion(w.ctx, w.key.Region, w.ltID, 99), "launch template version")
	})
}
