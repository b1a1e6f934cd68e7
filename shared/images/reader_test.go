package images_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ibtypes "github.com/aws/aws-sdk-go-v2/service/imagebuilder/types"

	"github.com/phoenix-rollouts/phoenix/shared/fleet"
	"github.com/phoenix-rollouts/phoenix/shared/images"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/imagepipeline"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/sim"
)

func wantNotFound(t *testing.T, err error) {
	t.Helper()
	var nf *rollout.NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("got %T %v, want *rollout.NotFoundError", err, err)
	}
}

func TestTheReaderFollowsAnImageBuilderBuildToItsAMI(t *testing.T) {
	t.Parallel()
	env := newCloud(t, false)
	r := images.NewReader(env.Config, fleet.New(env.Config, nil))
	ctx := context.Background()
	arn, err := env.Cloud.ImageBuilder.Publish(imagepipeline.BuildSpec{Region: region, Name: "web-al2023", Version: "1.4.0", AMITags: approved()})
	if err != nil {
		t.Fatal(err)
	}
	env.Settle()
	t.Run("while it builds it has no AMI", func(t *testing.T) {
		b, err := r.Build(ctx, region, arn)
		if err != nil || b.Status != "BUILDING" || len(b.AMIs) != 0 {
			t.Fatalf("got %+v, %v", b, err)
		}
	})
	within(t, env, 2*time.Hour, "the build to be available", func() bool {
		s, _ := env.Cloud.ImageBuilder.Status(arn)
		return s == ibtypes.ImageStatusAvailable
	})
	t.Run("once available it names its AMI in the region", func(t *testing.T) {
		b, err := r.Build(ctx, region, arn)
		if err != nil || b.Status != "AVAILABLE" || len(b.AMIs) != 1 || b.AMIs[0].Region != region || b.AMIs[0].AccountID != account || b.Name != "web-al2023" {
			t.Fatalf("got %+v, %v", b, err)
		}
		img, err := r.Image(ctx, region, b.AMIs[0].ImageID)
		if err != nil || img.State != "available" || img.OwnerID != account || img.Tags["phoenix:approved"] != "true" || img.CreatedAt.IsZero() {
			t.Fatalf("the build's AMI: %+v, %v", img, err)
		}
	})
	t.Run("an unknown build is not found", func(t *testing.T) {
		_, err := r.Build(ctx, region, "arn:aws:imagebuilder:us-east-1:123456789012:image/nothing/1.0.0/1")
		wantNotFound(t, err)
	})
	t.Run("a build of another region is not found here", func(t *testing.T) {
		_, err := r.Build(ctx, "eu-west-1", arn)
		wantNotFound(t, err)
	})
}

func TestTheReaderReadsImageParameters(t *testing.T) {
	t.Parallel()
	env := newCloud(t, false)
	r := images.NewReader(env.Config, fleet.New(env.Config, nil))
	ctx := context.Background()
	id := ownImage(t, env, "web-1", "x86_64", approved())
	putImageParameter(t, env, "/phoenix/web/ami", id, false)
	p, err := r.Parameter(ctx, region, "/phoenix/web/ami")
	if err != nil || p.Value != id || p.DataType != "aws:ec2:image" || p.Version != 1 {
		t.Fatalf("got %+v, %v", p, err)
	}
	_, err = r.Parameter(ctx, region, "/phoenix/none")
	wantNotFound(t, err)
}

func TestTheReaderDescribesImagesAsEC2ShowsThem(t *testing.T) {
	t.Parallel()
	env := newCloud(t, false)
	r := images.NewReader(env.Config, fleet.New(env.Config, nil))
	ctx := context.Background()
	own := ownImage(t, env, "web-arm", "arm64", map[string]string{"k": "v"})
	theirs, err := env.Cloud.World.AddImage(region, sim.ImageSpec{Name: "marketplace-web", OwnerID: foreign, Available: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("an own image has its owner, architecture, state, tags and creation time", func(t *testing.T) {
		img, err := r.Image(ctx, region, own)
		if err != nil || img.OwnerID != account || img.Architecture != "arm64" || img.State != "available" || img.Tags["k"] != "v" || !img.CreatedAt.Equal(env.Now().UTC().Truncate(time.Millisecond)) {
			t.Fatalf("got %+v, %v (now %s)", img, err, env.Now())
		}
	})
	t.Run("another account's public image shows its owner", func(t *testing.T) {
		img, err := r.Image(ctx, region, theirs)
		if err != nil || img.OwnerID != foreign {
			t.Fatalf("got %+v, %v", img, err)
		}
	})
	t.Run("an unknown image is not found", func(t *testing.T) {
		_, err := r.Image(ctx, region, "ami-0ffffffffffffffff")
		wantNotFound(t, err)
	})
	t.Run("an image of another region is not found", func(t *testing.T) {
		_, err := r.Image(ctx, "eu-west-1", own)
		wantNotFound(t, err)
	})
	t.Run("a deregistered image is deregistered, then gone", func(t *testing.T) {
		gone := ownImage(t, env, "web-old", "x86_64", nil)
		if _, err := env.EC2.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(gone)}); err != nil {
			t.Fatal(err)
		}
		img, err := r.Image(ctx, region, gone)
		if err != nil || img.State != "deregistered" {
			t.Fatalf("a deregistered image EC2 still lists reads as %+v, %v; want it with its state", img, err)
		}
		env.Advance(2 * time.Hour)
		_, err = r.Image(ctx, region, gone)
		wantNotFound(t, err)
	})
}

func TestTheReaderListsEnabledGroupsWithTheirInstanceTypes(t *testing.T) {
	t.Parallel()
	env := newCloud(t, false)
	r := images.NewReader(env.Config, fleet.New(env.Config, nil))
	ctx := context.Background()
	img := ownImage(t, env, "base", "x86_64", nil)
	createGroup(t, env, groupSpec{name: "web", tags: webTags("0"), image: img, types: []string{"t3.micro"}})
	createGroup(t, env, groupSpec{name: "mixed", tags: webTags(""), image: img, types: []string{"m5.large", "m7g.large", "m5.large"}})
	createGroup(t, env, groupSpec{name: "off", tags: map[string]string{rollout.TagEnabled: "false"}, image: img, types: []string{"t3.micro"}})
	createGroup(t, env, groupSpec{name: "untagged", tags: map[string]string{"team": "x"}, image: img, types: []string{"t3.micro"}})
	cands, err := r.Candidates(ctx, region)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, c := range cands {
		got[c.Key.Name] = c.InstanceTypes
		if c.Key.Region != region || c.LaunchConfiguration {
			t.Errorf("candidate %+v", c)
		}
	}
	if len(got) != 3 || !slices.Equal(got["web"], []string{"t3.micro"}) || !slices.Equal(got["mixed"], []string{"m5.large", "m7g.large"}) || got["off"] == nil {
		t.Fatalf("candidates %v: want every group with a phoenix:enabled tag, with its types", got)
	}
	archs, err := r.Architectures(ctx, region, []string{"t3.micro", "m7g.large", "nope.huge", "t3.micro"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(archs["t3.micro"], []string{"x86_64"}) || !slices.Equal(archs["m7g.large"], []string{"arm64"}) {
		t.Fatalf("architectures %v", archs)
	}
	if _, ok := archs["nope.huge"]; ok {
		t.Fatal("a type the region does not offer has architectures")
	}
}
