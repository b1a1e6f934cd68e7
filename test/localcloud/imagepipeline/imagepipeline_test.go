package imagepipeline

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/imagebuilder"
	"github.com/aws/aws-sdk-go-v2/service/imagebuilder/types"
	"github.com/aws/smithy-go"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/sim"
)

// imageBuilderAPI is the part of the Image Builder client Phoenix uses,
// with the SDK's signature.
type imageBuilderAPI interface {
	GetImage(context.Context, *imagebuilder.GetImageInput, ...func(*imagebuilder.Options)) (*imagebuilder.GetImageOutput, error)
}

var (
	_ imageBuilderAPI = (*ImageBuilder)(nil)
	_ imageBuilderAPI = (*imagebuilder.Client)(nil)
	_ EC2             = (*sim.EC2)(nil)
)

const region = "eu-west-1"

type env struct {
	t     *testing.T
	clk   *clock.Sim
	world *sim.World
	ib    *ImageBuilder
	api   imageBuilderAPI
	ctx   context.Context
}

func newEnv(t *testing.T) *env {
	t.Helper()
	clk := clock.NewStepped(time.Time{})
	w := sim.New(sim.Options{Clock: clk, Seed: 5})
	ib := New(Options{Clock: clk, Events: w, EC2: w.EC2(), Account: w.Account()})
	return &env{t: t, clk: clk, world: w, ib: ib, api: ib, ctx: api.WithRequest(context.Background(), api.Request{Region: region})}
}

func (e *env) publish(spec BuildSpec) string {
	e.t.Helper()
	spec.Region = region
	arn, err := e.ib.Publish(spec)
	if err != nil {
		e.t.Fatal(err)
	}
	return arn
}

func (e *env) image(arn string) *types.Image {
	e.t.Helper()
	out, err := e.api.GetImage(e.ctx, &imagebuilder.GetImageInput{ImageBuildVersionArn: aws.String(arn)})
	if err != nil {
		e.t.Fatalf("GetImage %s: %v", arn, err)
	}
	return out.Image
}

// transitions lists "PREVIOUS>STATE" for the events of one build.
func (e *env) transitions(arn string) []string {
	e.t.Helper()
	var out []string
	for _, ev := range e.world.Events() {
		if ev.Source != "aws.imagebuilder" || ev.Resources[0] != arn {
			continue
		}
		if ev.DetailType != "EC2 Image Builder Image State Change" || len(ev.Resources) != 1 || ev.Region != region {
			e.t.Fatalf("envelope %+v", ev)
		}
		var d map[string]map[string]string
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			e.t.Fatal(err)
		}
		s := d["previous-state"]["status"] + ">" + d["state"]["status"]
		if r := d["state"]["reason"]; r != "" {
			s += " (" + r + ")"
		}
		out = append(out, s)
	}
	return out
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("got %v, want AWS error %s", err, code)
	}
}

func TestAPublishedBuildMovesThroughTheStatusesAndEndsWithAnAMI(t *testing.T) {
	e := newEnv(t)
	arn := e.publish(BuildSpec{Name: "web", Version: "1.2.0", Tags: map[string]string{"team": "web"}, AMITags: map[string]string{sim.BehaviorTag: "unhealthy"}})
	if arn != "arn:aws:imagebuilder:eu-west-1:123456789012:image/web/1.2.0/1" {
		t.Fatalf("ARN %s", arn)
	}
	want := map[time.Duration]types.ImageStatus{
		0:                types.ImageStatusBuilding,
		9 * time.Minute:  types.ImageStatusBuilding,
		10 * time.Minute: types.ImageStatusTesting,
		15 * time.Minute: types.ImageStatusDistributing,
		17 * time.Minute: types.ImageStatusAvailable,
	}
	var at time.Duration
	for _, d := range []time.Duration{0, 9 * time.Minute, 10 * time.Minute, 15 * time.Minute, 17 * time.Minute} {
		e.clk.AdvanceTo(clock.Epoch.Add(d))
		at = d
		if got := e.image(arn).State.Status; got != want[at] {
			t.Fatalf("at +%v the image is %s, want %s", at, got, want[at])
		}
		if at < 17*time.Minute && len(e.image(arn).OutputResources.Amis) != 0 {
			t.Fatalf("at +%v the image lists AMIs before it is available", at)
		}
	}
	if got, want := strings.Join(e.transitions(arn), " "), "PENDING>BUILDING BUILDING>TESTING TESTING>DISTRIBUTING DISTRIBUTING>AVAILABLE"; got != want {
		t.Fatalf("events %s, want %s", got, want)
	}
	img := e.image(arn)
	if aws.ToString(img.Version) != "1.2.0/1" || aws.ToString(img.Name) != "web" || img.Platform != types.PlatformLinux || img.Tags["team"] != "web" ||
		aws.ToString(img.DateCreated) != "2026-01-05T09:00:00.000Z" {
		t.Fatalf("image %+v", img)
	}
	amis := img.OutputResources.Amis
	if len(amis) != 1 || aws.ToString(amis[0].Region) != region || aws.ToString(amis[0].AccountId) != "123456789012" || !strings.HasPrefix(aws.ToString(amis[0].Image), "ami-") {
		t.Fatalf("output AMIs %+v", amis)
	}
	described, err := e.world.EC2().DescribeImages(e.ctx, &ec2.DescribeImagesInput{ImageIds: []string{aws.ToString(amis[0].Image)}})
	if err != nil || len(described.Images) != 1 {
		t.Fatalf("the AMI is not in EC2: %v", err)
	}
	tags := map[string]string{}
	for _, tg := range described.Images[0].Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if tags[sim.BehaviorTag] != "unhealthy" || tags["Ec2ImageBuilderArn"] != arn || tags["CreatedBy"] != "EC2 Image Builder" ||
		aws.ToString(described.Images[0].Name) != aws.ToString(amis[0].Name) || described.Images[0].State != "available" {
		t.Fatalf("AMI %+v with tags %v", described.Images[0], tags)
	}
}

func TestBuildNumbersCountPerNameAndVersion(t *testing.T) {
	e := newEnv(t)
	first := e.publish(BuildSpec{Name: "web", Version: "1.0.0"})
	e.clk.Advance(time.Second)
	second := e.publish(BuildSpec{Name: "web", Version: "1.0.0"})
	other := e.publish(BuildSpec{Name: "Web Server", Version: "2.0.0"})
	if !strings.HasSuffix(first, "/web/1.0.0/1") || !strings.HasSuffix(second, "/web/1.0.0/2") || !strings.HasSuffix(other, "/web-server/2.0.0/1") {
		t.Fatalf("ARNs %s %s %s", first, second, other)
	}
}

func TestABuildFailsWhereItIsToldToWithAReason(t *testing.T) {
	cases := []struct {
		name   string
		failAt types.ImageStatus
		want   string
	}{
		{"a build failure ends after BUILDING", types.ImageStatusBuilding, "PENDING>BUILDING BUILDING>FAILED (component failed)"},
		{"a test failure ends after TESTING", types.ImageStatusTesting, "PENDING>BUILDING BUILDING>TESTING TESTING>FAILED (component failed)"},
		{"a distribution failure ends in DISTRIBUTING", types.ImageStatusDistributing, "PENDING>BUILDING BUILDING>TESTING TESTING>DISTRIBUTING DISTRIBUTING>FAILED (component failed)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			arn := e.publish(BuildSpec{Name: "web", FailAt: c.failAt, FailReason: "component failed"})
			e.clk.Advance(time.Hour)
			if got := strings.Join(e.transitions(arn), " "); got != c.want {
				t.Fatalf("events %s, want %s", got, c.want)
			}
			img := e.image(arn)
			if img.State.Status != types.ImageStatusFailed || aws.ToString(img.State.Reason) != "component failed" || len(img.OutputResources.Amis) != 0 {
				t.Fatalf("state %+v amis %+v", img.State, img.OutputResources.Amis)
			}
		})
	}
}

func TestABuildWhoseAMICannotBeRegisteredFails(t *testing.T) {
	e := newEnv(t)
	// Two builds of one name started at the same instant want the same AMI
	// name; EC2 refuses the second.
	first := e.publish(BuildSpec{Name: "web", Version: "1.0.0"})
	second := e.publish(BuildSpec{Name: "web", Version: "1.0.1"})
	e.clk.Advance(time.Hour)
	if s, _ := e.ib.Status(first); s != types.ImageStatusAvailable {
		t.Fatalf("first build %s, want AVAILABLE", s)
	}
	img := e.image(second)
	if img.State.Status != types.ImageStatusFailed || !strings.Contains(aws.ToString(img.State.Reason), "InvalidAMIName.Duplicate") {
		t.Fatalf("second build %+v, want FAILED naming EC2's error", img.State)
	}
}

func TestGetImageRejectsWhatImageBuilderRejects(t *testing.T) {
	e := newEnv(t)
	arn := e.publish(BuildSpec{Name: "web"})
	cases := []struct {
		name, arn, code string
	}{
		{"an image version ARN without a build number is not a build version", strings.TrimSuffix(arn, "/1"), "InvalidParameterValueException"},
		{"a non-image ARN is refused", "arn:aws:ec2:eu-west-1::image/ami-0123", "InvalidParameterValueException"},
		{"an unknown build is not found", strings.TrimSuffix(arn, "/1") + "/9", "ResourceNotFoundException"},
		{"an ARN is required", "", "InvalidRequestException"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.api.GetImage(e.ctx, &imagebuilder.GetImageInput{ImageBuildVersionArn: aws.String(c.arn)})
			wantCode(t, err, c.code)
		})
	}
	t.Run("a build is found only in its region", func(t *testing.T) {
		_, err := e.api.GetImage(api.WithRequest(context.Background(), api.Request{Region: "us-east-1"}), &imagebuilder.GetImageInput{ImageBuildVersionArn: aws.String(arn)})
		wantCode(t, err, "ResourceNotFoundException")
	})
}

func TestPublishChecksItsSpec(t *testing.T) {
	cases := []struct {
		name string
		spec BuildSpec
	}{
		{"a name is required", BuildSpec{}},
		{"names have no slashes", BuildSpec{Name: "a/b"}},
		{"versions are major.minor.patch", BuildSpec{Name: "web", Version: "1.0"}},
		{"failures happen in a build phase", BuildSpec{Name: "web", FailAt: types.ImageStatusAvailable}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			if _, err := e.ib.Publish(c.spec); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
