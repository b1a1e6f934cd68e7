// Package imagepipeline is the local cloud's EC2 Image Builder, reduced to
// what Phoenix consumes: image build versions that end in an AMI, their
// GetImage description, and the "EC2 Image Builder Image State Change"
// events that announce them.
//
// Recipes, pipelines and infrastructure are not modelled. Tests and demos
// "publish" a build version from Go with Publish; it then moves through
// Image Builder's statuses on the simulated clock:
//
//	PENDING -> BUILDING (Timings.Building) -> TESTING (Timings.Testing)
//	        -> DISTRIBUTING (at least Timings.Distributing, and until the AMI
//	           is available) -> AVAILABLE
//
// At the end of BUILDING the AMI is registered in the EC2 model with the
// requested tags (for example phoenix-sim:behavior) plus the CreatedBy and
// Ec2ImageBuilderArn tags Image Builder puts on its AMIs. A build ends
// FAILED, with a reason, when BuildSpec.FailAt names a phase, when the AMI
// cannot be registered or when it fails.
//
// Every status change emits an event with source aws.imagebuilder,
// detail-type "EC2 Image Builder Image State Change", the image build
// version ARN as its only resource and the detail
//
//	{"previous-state": {"status": "TESTING"}, "state": {"status": "AVAILABLE"}}
//
// as in the Image Builder user guide's example; a FAILED state carries a
// "reason". The detail holds no AMI id: consumers call GetImage and read
// outputResources.amis, which is filled once the image is AVAILABLE.
package imagepipeline

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/imagebuilder"
	"github.com/aws/aws-sdk-go-v2/service/imagebuilder/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
)

// EventSink receives service events; *sim.World satisfies it.
type EventSink interface {
	Emit(region, source, detailType string, resources []string, detail any)
}

// EC2 registers and describes AMIs; *sim.EC2 (World.EC2()) satisfies it.
type EC2 interface {
	RegisterImage(ctx context.Context, in *ec2.RegisterImageInput, optFns ...func(*ec2.Options)) (*ec2.RegisterImageOutput, error)
	DescribeImages(ctx context.Context, in *ec2.DescribeImagesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error)
}

// Timings are how long a build spends in each phase.
type Timings struct {
	// Building is the time from BUILDING to TESTING; 10 minutes if zero.
	Building time.Duration
	// Testing is the time from TESTING to DISTRIBUTING; 5 minutes if zero.
	Testing time.Duration
	// Distributing is the least time in DISTRIBUTING; the build also waits
	// for its AMI to be available. 2 minutes if zero.
	Distributing time.Duration
	// Poll is how often DISTRIBUTING checks the AMI; 30 seconds if zero.
	Poll time.Duration
}

func (t Timings) withDefaults() Timings {
	if t.Building <= 0 {
		t.Building = 10 * time.Minute
	}
	if t.Testing <= 0 {
		t.Testing = 5 * time.Minute
	}
	if t.Distributing <= 0 {
		t.Distributing = 2 * time.Minute
	}
	if t.Poll <= 0 {
		t.Poll = 30 * time.Second
	}
	return t
}

// Options configures an ImageBuilder.
type Options struct {
	// Clock runs the builds. Required.
	Clock *clock.Sim
	// Events receives image state-change events; none if nil.
	Events EventSink
	// EC2 receives the AMIs the builds make. Required.
	EC2 EC2
	// Account is the owner ("123456789012" if empty).
	Account string
	// Timings sets the phase durations.
	Timings Timings
}

// ImageBuilder is the simulated Image Builder. Its exported methods with
// SDK signatures are the service's operations.
type ImageBuilder struct {
	clk     *clock.Sim
	events  EventSink
	ec2     EC2
	account string
	timings Timings

	// opMu serialises status changes with their events; mu guards the
	// state and is never held while calling out.
	opMu   sync.Mutex
	mu     sync.Mutex
	images map[string]*image // by build version ARN
	builds map[string]int    // by region/name/version: last build number
}

// image is one image build version.
type image struct {
	arn, region, name, version string
	build                      int
	platform                   types.Platform
	tags                       map[string]string
	amiTags                    map[string]string
	created                    time.Time
	status                     types.ImageStatus
	reason                     string
	amiID, amiName             string
	failAt                     types.ImageStatus
	distributingSince          time.Time
}

// New returns an ImageBuilder with no images.
func New(opts Options) *ImageBuilder {
	if opts.Clock == nil || opts.EC2 == nil {
		panic("imagepipeline.New: Options.Clock and Options.EC2 are required")
	}
	acct := opts.Account
	if acct == "" {
		acct = "123456789012"
	}
	return &ImageBuilder{clk: opts.Clock, events: opts.Events, ec2: opts.EC2, account: acct, timings: opts.Timings.withDefaults(),
		images: map[string]*image{}, builds: map[string]int{}}
}

// BuildSpec describes an image build version to publish.
type BuildSpec struct {
	// Region is where the image is built and its AMI registered.
	Region string
	// Name is the image (recipe) name: 1 to 128 letters, digits, spaces,
	// hyphens, underscores and periods; it appears in the ARN in lower case
	// with spaces as hyphens, as Image Builder writes it.
	Name string
	// Version is the semantic version, major.minor.patch ("1.0.0" if empty).
	Version string
	// Platform is Linux if empty.
	Platform types.Platform
	// Tags are the image resource's tags (GetImage Tags).
	Tags map[string]string
	// AMITags are put on the AMI, e.g. {"phoenix-sim:behavior": "unhealthy"}.
	AMITags map[string]string
	// FailAt makes the build fail at the end of BUILDING, TESTING or
	// DISTRIBUTING with FailReason.
	FailAt     types.ImageStatus
	FailReason string
}

var (
	namePattern    = regexp.MustCompile(`^[-_A-Za-z0-9 .]{1,128}$`)
	versionPattern = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)
)

// Publish starts a new build version of spec.Name/spec.Version (build
// numbers count from 1 per name and version) and returns its image build
// version ARN, arn:aws:imagebuilder:REGION:ACCOUNT:image/NAME/VERSION/BUILD.
// The build then runs on the clock; see the package comment.
func (b *ImageBuilder) Publish(spec BuildSpec) (string, error) {
	if spec.Region == "" {
		spec.Region = api.DefaultRegion
	}
	if !namePattern.MatchString(spec.Name) {
		return "", fmt.Errorf("publish image %q: the name must be 1 to 128 letters, digits, spaces, hyphens, underscores or periods", spec.Name)
	}
	if spec.Version == "" {
		spec.Version = "1.0.0"
	}
	if !versionPattern.MatchString(spec.Version) {
		return "", fmt.Errorf("publish image %s: version %q is not major.minor.patch", spec.Name, spec.Version)
	}
	switch spec.FailAt {
	case "", types.ImageStatusBuilding, types.ImageStatusTesting, types.ImageStatusDistributing:
	default:
		return "", fmt.Errorf("publish image %s: FailAt must be BUILDING, TESTING or DISTRIBUTING, not %s", spec.Name, spec.FailAt)
	}
	if spec.Platform == "" {
		spec.Platform = types.PlatformLinux
	}
	arnName := strings.ReplaceAll(strings.ToLower(spec.Name), " ", "-")
	b.mu.Lock()
	key := spec.Region + "/" + arnName + "/" + spec.Version
	b.builds[key]++
	img := &image{
		arn:      fmt.Sprintf("arn:aws:imagebuilder:%s:%s:image/%s/%s/%d", spec.Region, b.account, arnName, spec.Version, b.builds[key]),
		region:   spec.Region,
		name:     spec.Name,
		version:  spec.Version,
		build:    b.builds[key],
		platform: spec.Platform,
		tags:     copyMap(spec.Tags),
		amiTags:  copyMap(spec.AMITags),
		created:  b.clk.Now(),
		status:   types.ImageStatusPending,
		failAt:   spec.FailAt,
		reason:   spec.FailReason,
	}
	b.images[img.arn] = img
	b.mu.Unlock()
	b.clk.At(b.clk.Now(), "imagebuilder start "+img.arn, func() { b.step(img, types.ImageStatusBuilding, "") })
	return img.arn, nil
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// stateDetail is a state in an event detail.
type stateDetail struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// StateChange is the detail of an "EC2 Image Builder Image State Change"
// event.
type StateChange struct {
	PreviousState stateDetail `json:"previous-state"`
	State         stateDetail `json:"state"`
}

// step moves img to next, emits the event and schedules what follows.
func (b *ImageBuilder) step(img *image, next types.ImageStatus, reason string) {
	b.opMu.Lock()
	defer b.opMu.Unlock()
	b.mu.Lock()
	prev := img.status
	img.status = next
	if next == types.ImageStatusFailed {
		img.reason = reason
	}
	if next == types.ImageStatusDistributing {
		img.distributingSince = b.clk.Now()
	}
	b.mu.Unlock()
	if b.events != nil {
		b.events.Emit(img.region, "aws.imagebuilder", "EC2 Image Builder Image State Change", []string{img.arn},
			StateChange{PreviousState: stateDetail{Status: string(prev)}, State: stateDetail{Status: string(next), Reason: reasonIf(next, reason)}})
	}
	t := b.timings
	switch next {
	case types.ImageStatusBuilding:
		b.clk.After(t.Building, "imagebuilder built "+img.arn, func() { b.afterBuilding(img) })
	case types.ImageStatusTesting:
		b.clk.After(t.Testing, "imagebuilder tested "+img.arn, func() {
			if b.failsAt(img, types.ImageStatusTesting) {
				return
			}
			b.step(img, types.ImageStatusDistributing, "")
		})
	case types.ImageStatusDistributing:
		b.clk.After(t.Distributing, "imagebuilder distribute "+img.arn, func() { b.distribute(img) })
	}
}

// reasonIf keeps a reason for FAILED states only.
func reasonIf(s types.ImageStatus, reason string) string {
	if s == types.ImageStatusFailed {
		return reason
	}
	return ""
}

// failsAt ends the build FAILED if the spec asked it to fail at phase.
func (b *ImageBuilder) failsAt(img *image, phase types.ImageStatus) bool {
	b.mu.Lock()
	fail, reason := img.failAt == phase, img.reason
	b.mu.Unlock()
	if !fail {
		return false
	}
	if reason == "" {
		reason = fmt.Sprintf("Image build failed during %s.", strings.ToLower(string(phase)))
	}
	b.step(img, types.ImageStatusFailed, reason)
	return true
}

// afterBuilding registers the AMI and moves to TESTING.
func (b *ImageBuilder) afterBuilding(img *image) {
	if b.failsAt(img, types.ImageStatusBuilding) {
		return
	}
	b.mu.Lock()
	amiName := fmt.Sprintf("%s %s", img.name, img.created.UTC().Format("2006-01-02T15-04-05.000Z"))
	tags := copyMap(img.amiTags)
	b.mu.Unlock()
	tags["CreatedBy"] = "EC2 Image Builder"
	tags["Ec2ImageBuilderArn"] = img.arn
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var ec2Tags []ec2types.Tag
	for _, k := range keys {
		ec2Tags = append(ec2Tags, ec2types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	ctx := api.WithRequest(context.Background(), api.Request{Region: img.region, Account: b.account, Service: "imagebuilder", Operation: "Build"})
	out, err := b.ec2.RegisterImage(ctx, &ec2.RegisterImageInput{
		Name:               aws.String(amiName),
		Architecture:       ec2types.ArchitectureValuesX8664,
		VirtualizationType: aws.String("hvm"),
		RootDeviceName:     aws.String("/dev/xvda"),
		Description:        aws.String("Image Builder output of " + img.arn),
		TagSpecifications:  []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeImage, Tags: ec2Tags}},
	})
	if err != nil {
		b.step(img, types.ImageStatusFailed, "Failed to create the AMI: "+err.Error())
		return
	}
	b.mu.Lock()
	img.amiID, img.amiName = aws.ToString(out.ImageId), amiName
	b.mu.Unlock()
	b.step(img, types.ImageStatusTesting, "")
}

// distribute finishes the build once its AMI is available, polling while
// it is pending.
func (b *ImageBuilder) distribute(img *image) {
	if b.failsAt(img, types.ImageStatusDistributing) {
		return
	}
	b.mu.Lock()
	id, region := img.amiID, img.region
	b.mu.Unlock()
	ctx := api.WithRequest(context.Background(), api.Request{Region: region, Account: b.account, Service: "imagebuilder", Operation: "Distribute"})
	out, err := b.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
	state := ""
	if err == nil && len(out.Images) == 1 {
		state = string(out.Images[0].State)
	}
	switch state {
	case "available":
		b.step(img, types.ImageStatusAvailable, "")
	case "pending":
		b.clk.After(b.timings.Poll, "imagebuilder distribute "+img.arn, func() { b.distribute(img) })
	default:
		b.step(img, types.ImageStatusFailed, fmt.Sprintf("The AMI %s is not available (state %q).", id, state))
	}
}

// Status returns a build's status and whether the build exists, for tests
// and the admin API.
func (b *ImageBuilder) Status(arn string) (types.ImageStatus, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	img, ok := b.images[arn]
	if !ok {
		return "", false
	}
	return img.status, true
}

var buildVersionARN = regexp.MustCompile(`^arn:aws[^:]*:imagebuilder:[^:]+:(?:[0-9]{12}|aws):image/[a-z0-9_-]+/[0-9]+\.[0-9]+\.[0-9]+/[0-9]+$`)

// GetImage describes an image build version. It returns
// InvalidParameterValueException for an ARN that is not an image build
// version ARN and ResourceNotFoundException for an unknown one.
func (b *ImageBuilder) GetImage(ctx context.Context, in *imagebuilder.GetImageInput, _ ...func(*imagebuilder.Options)) (*imagebuilder.GetImageOutput, error) {
	in, region, done := api.Begin(ctx, &b.mu, in)
	defer done()
	if aws.ToString(in.ImageBuildVersionArn) == "" {
		return nil, api.Errorf(http.StatusBadRequest, "InvalidRequestException", "The request is missing the imageBuildVersionArn parameter.")
	}
	arn := *in.ImageBuildVersionArn
	if !buildVersionARN.MatchString(arn) {
		return nil, api.Errorf(http.StatusBadRequest, "InvalidParameterValueException", "The value supplied for parameter 'imageBuildVersionArn' is not valid. Expected an image build version ARN such as arn:aws:imagebuilder:us-east-1:123456789012:image/name/1.0.0/1.")
	}
	img, ok := b.images[arn]
	if !ok || img.region != region {
		return nil, api.Errorf(http.StatusNotFound, "ResourceNotFoundException", "The image with ARN %s cannot be found.", arn)
	}
	out := &types.Image{
		Arn:         aws.String(img.arn),
		Name:        aws.String(img.name),
		Version:     aws.String(img.version + "/" + strconv.Itoa(img.build)),
		Platform:    img.platform,
		Type:        types.ImageTypeAmi,
		BuildType:   types.BuildTypeUserInitiated,
		ImageSource: types.ImageSourceCustom,
		OsVersion:   aws.String("Amazon Linux 2023"),
		DateCreated: aws.String(img.created.UTC().Format("2006-01-02T15:04:05.000Z")),
		State:       &types.ImageState{Status: img.status},
		Tags:        copyMap(img.tags),
		OutputResources: &types.OutputResources{
			Amis:       []types.Ami{},
			Containers: []types.Container{},
		},
		EnhancedImageMetadataEnabled: aws.Bool(true),
	}
	if img.reason != "" && img.status == types.ImageStatusFailed {
		out.State.Reason = aws.String(img.reason)
	}
	if img.status == types.ImageStatusAvailable {
		out.OutputResources.Amis = append(out.OutputResources.Amis, types.Ami{
			Region:      aws.String(img.region),
			Image:       aws.String(img.amiID),
			Name:        aws.String(img.amiName),
			Description: aws.String("Image Builder output of " + img.arn),
			AccountId:   aws.String(b.account),
			State:       &types.ImageState{Status: types.ImageStatusAvailable},
		})
	}
	return &imagebuilder.GetImageOutput{Image: out, RequestId: aws.String(api.RequestFrom(ctx).RequestID)}, nil
}
