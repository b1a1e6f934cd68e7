package sim

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func testImageBecomesAvailableAfterTheDelayAndEmitsItsStateChange(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	start := e.clk.Now()
	out, err := e.ec2.RegisterImage(e.ctx, &ec2.RegisterImageInput{
		Name: aws.String("web-1"), Architecture: ec2types.ArchitectureValuesX8664, VirtualizationType: aws.String("hvm"),
	})
	noErr(t, err)
	id := aws.ToString(out.ImageId)
	stateAt := func() string {
		t.Helper()
		d, err := e.ec2.DescribeImages(e.ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
		noErr(t, err)
		return string(d.Images[0].State)
	}
	delay := DefaultEC2Config().ImageAvailableDelay
	e.clk.AdvanceTo(start.Add(delay - time.Second))
	if got := stateAt(); got != ImagePending {
		t.Fatalf("one second before the delay the image is %s, want pending", got)
	}
	if n := len(e.events("EC2 AMI State Change")); n != 0 {
		t.Fatalf("a pending image emitted %d state-change events, want none (pending is not an event state)", n)
	}
	e.clk.AdvanceTo(start.Add(delay))
	if got := stateAt(); got != ImageAvailable {
		t.Fatalf("at the delay the image is %s, want available", got)
	}
	evs := e.events("EC2 AMI State Change")
	if len(evs) != 1 {
		t.Fatalf("got %d AMI events, want 1", len(evs))
	}
	ev := evs[0]
	if ev["ImageId"] != id || ev["State"] != "available" || ev["ErrorMessage"] != "" || ev["RequestId"] == "" || ev["_source"] != "aws.ec2" {
		t.Fatalf("event detail = %v", ev)
	}
	if res := ev["_resources"].([]string); len(res) != 1 || res[0] != "arn:aws:ec2:"+ec2Region+"::image/"+id {
		t.Fatalf("event resources = %v, want the image ARN", res)
	}
}

func testRegisterImageAppliesEC2Defaults(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	out, err := e.ec2.RegisterImage(e.ctx, &ec2.RegisterImageInput{Name: aws.String("bare")})
	noErr(t, err)
	d, err := e.ec2.DescribeImages(e.ctx, &ec2.DescribeImagesInput{ImageIds: []string{aws.ToString(out.ImageId)}})
	noErr(t, err)
	img := d.Images[0]
	if img.Architecture != "i386" || img.VirtualizationType != "paravirtual" || aws.ToString(img.OwnerId) != e.w.Account() {
		t.Fatalf("defaults: architecture %s, virtualization %s, owner %s; want i386, paravirtual, %s",
			img.Architecture, img.VirtualizationType, aws.ToString(img.OwnerId), e.w.Account())
	}
}

func testRegisterImageRefusesBadInput(t *testing.T, backend Backend) {
	tests := []struct {
		rule string
		in   *ec2.RegisterImageInput
		code string
	}{
		{"a name is required", &ec2.RegisterImageInput{}, "MissingParameter"},
		{"a name has at least three characters", &ec2.RegisterImageInput{Name: aws.String("ab")}, "InvalidAMIName.Malformed"},
		{"a name has no characters outside EC2's set", &ec2.RegisterImageInput{Name: aws.String("web#1")}, "InvalidAMIName.Malformed"},
		{"the architecture is one EC2 knows", &ec2.RegisterImageInput{Name: aws.String("web-2"), Architecture: "sparc"}, "InvalidParameterValue"},
		{"an owner cannot reuse an image name", &ec2.RegisterImageInput{Name: aws.String("taken")}, "InvalidAMIName.Duplicate"},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			e := newEC2Env(t, backend)
			e.image("taken", "x86_64", nil)
			_, err := e.ec2.RegisterImage(e.ctx, tt.in)
			wantAWSCode(t, err, tt.code)
		})
	}
}

func testDescribeImagesFindsImagesByIdOwnerAndFilter(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	web := e.image("web-2026-01", "x86_64", map[string]string{"app": "web", "phoenix-sim:behavior": "healthy"})
	arm := e.image("web-2026-02", "arm64", map[string]string{"app": "web"})
	db := e.image("db-2026-01", "x86_64", map[string]string{"app": "db"})
	foreign, err := e.w.AddImage(ec2Region, ImageSpec{Name: "golden-base", OwnerID: "210987654321", Available: true})
	noErr(t, err)
	filter := func(name string, values ...string) []ec2types.Filter {
		return []ec2types.Filter{{Name: aws.String(name), Values: values}}
	}
	tests := []struct {
		rule string
		in   *ec2.DescribeImagesInput
		want []string
	}{
		{"without criteria every visible image is listed", &ec2.DescribeImagesInput{}, []string{web, arm, db, foreign}},
		{"Owners self lists the caller's images", &ec2.DescribeImagesInput{Owners: []string{"self"}}, []string{web, arm, db}},
		{"Owners with an account id lists that account's images", &ec2.DescribeImagesInput{Owners: []string{"210987654321"}}, []string{foreign}},
		{"the name filter takes a star wildcard", &ec2.DescribeImagesInput{Filters: filter("name", "web-*")}, []string{web, arm}},
		{"the name filter takes a question-mark wildcard", &ec2.DescribeImagesInput{Filters: filter("name", "web-2026-0?")}, []string{web, arm}},
		{"values of one filter are ORed", &ec2.DescribeImagesInput{Filters: filter("name", "db-*", "web-2026-02")}, []string{arm, db}},
		{"filters are ANDed", &ec2.DescribeImagesInput{Filters: append(filter("name", "web-*"), filter("architecture", "arm64")...)}, []string{arm}},
		{"the image-id filter selects one image", &ec2.DescribeImagesInput{Filters: filter("image-id", db)}, []string{db}},
		{"the state filter selects available images", &ec2.DescribeImagesInput{Owners: []string{"self"}, Filters: filter("state", "available")}, []string{web, arm, db}},
		{"the owner-id filter selects an account", &ec2.DescribeImagesInput{Filters: filter("owner-id", "210987654321")}, []string{foreign}},
		{"a tag:KEY filter matches the tag's value", &ec2.DescribeImagesInput{Filters: filter("tag:app", "db")}, []string{db}},
		{"a tag-key filter matches images having the key", &ec2.DescribeImagesInput{Filters: filter("tag-key", "phoenix-sim:*")}, []string{web}},
		{"ImageIds lists exactly those images", &ec2.DescribeImagesInput{ImageIds: []string{db, web}}, []string{web, db}},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			out, err := e.ec2.DescribeImages(e.ctx, tt.in)
			noErr(t, err)
			var got []string
			for _, img := range out.Images {
				got = append(got, aws.ToString(img.ImageId))
			}
			if !sameIDs(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func testDescribeImagesRefusesBadRequests(t *testing.T, backend Backend) {
	tests := []struct {
		rule string
		in   *ec2.DescribeImagesInput
		code string
	}{
		{"a malformed image id is refused", &ec2.DescribeImagesInput{ImageIds: []string{"ami-xyz"}}, "InvalidAMIID.Malformed"},
		{"an unknown image id is not found", &ec2.DescribeImagesInput{ImageIds: []string{"ami-0123456789abcdef0"}}, "InvalidAMIID.NotFound"},
		{"an unknown filter is refused", &ec2.DescribeImagesInput{Filters: []ec2types.Filter{{Name: aws.String("colour"), Values: []string{"red"}}}}, "InvalidParameterValue"},
		{"MaxResults cannot be combined with ImageIds", &ec2.DescribeImagesInput{ImageIds: []string{"ami-0123456789abcdef0"}, MaxResults: aws.Int32(5)}, "InvalidParameterCombination"},
		{"a bad NextToken is refused", &ec2.DescribeImagesInput{NextToken: aws.String("garbage")}, "InvalidPaginationToken"},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			e := newEC2Env(t, backend)
			_, err := e.ec2.DescribeImages(e.ctx, tt.in)
			wantAWSCode(t, err, tt.code)
		})
	}
}

func testDescribeImagesPagesThroughImages(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	var want []string
	for _, n := range []string{"img-1", "img-2", "img-3", "img-4", "img-5", "img-6", "img-7"} {
		want = append(want, e.image(n, "x86_64", nil))
	}
	var got []string
	var tok *string
	pages := 0
	for {
		out, err := e.ec2.DescribeImages(e.ctx, &ec2.DescribeImagesInput{MaxResults: aws.Int32(5), NextToken: tok})
		noErr(t, err)
		pages++
		for _, img := range out.Images {
			got = append(got, aws.ToString(img.ImageId))
		}
		if tok = out.NextToken; tok == nil {
			break
		}
	}
	if pages != 2 || !sameIDs(got, want) {
		t.Fatalf("got %v in %d pages, want %v in 2", got, pages, want)
	}
}

func testADeregisteredImageIsListedBrieflyThenHiddenWhileInUseThenNotFound(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	id := e.image("web-1", "x86_64", nil)
	inst := e.run(id, 1)[0]
	_, err := e.ec2.DeregisterImage(e.ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id)})
	noErr(t, err)
	evs := e.events("EC2 AMI State Change")
	if last := evs[len(evs)-1]; last["State"] != "deregistered" || last["ImageId"] != id {
		t.Fatalf("last AMI event = %v, want deregistered", last)
	}
	out, err := e.ec2.DescribeImages(e.ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
	noErr(t, err)
	if len(out.Images) != 1 || out.Images[0].State != "deregistered" {
		t.Fatalf("just after deregistration got %v, want the image in state deregistered", out.Images)
	}
	_, err = e.ec2.RunInstances(e.ctx, &ec2.RunInstancesInput{ImageId: aws.String(id), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), InstanceType: "t3.micro"})
	wantAWSCode(t, err, "InvalidAMIID.Unavailable")

	e.advance(DefaultEC2Config().DeregisteredImageVisible)
	out, err = e.ec2.DescribeImages(e.ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
	noErr(t, err)
	if len(out.Images) != 0 {
		t.Fatalf("after the short interval, while an instance uses it, got %d images, want none", len(out.Images))
	}
	_, err = e.ec2.TerminateInstances(e.ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{inst}})
	noErr(t, err)
	e.advance(DefaultEC2Config().ShutdownTime)
	_, err = e.ec2.DescribeImages(e.ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
	wantAWSCode(t, err, "InvalidAMIID.NotFound")
}

func testDeregisterImageRefusesWhatItCannotDeregister(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	id := e.image("web-1", "x86_64", nil)
	foreign, err := e.w.AddImage(ec2Region, ImageSpec{Name: "vendor", OwnerID: "210987654321", Available: true})
	noErr(t, err)
	_, err = e.ec2.DeregisterImage(e.ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id)})
	noErr(t, err)
	tests := []struct {
		rule string
		id   string
		code string
	}{
		{"an image is deregistered only once", id, "InvalidAMIID.Unavailable"},
		{"an unknown image is not found", "ami-0123456789abcdef0", "InvalidAMIID.NotFound"},
		{"another account's image cannot be deregistered", foreign, "AuthFailure"},
		{"a malformed id is refused", "ami-1", "InvalidAMIID.Malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			_, err := e.ec2.DeregisterImage(e.ctx, &ec2.DeregisterImageInput{ImageId: aws.String(tt.id)})
			wantAWSCode(t, err, tt.code)
		})
	}
}

func testCreateImageCopiesTheInstanceArchitectureAndRecordsTheSource(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	src := e.image("arm-base", "arm64", nil)
	out, err := e.ec2.RunInstances(e.ctx, &ec2.RunInstancesInput{ImageId: aws.String(src), InstanceType: "t4g.small", MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	noErr(t, err)
	inst := aws.ToString(out.Instances[0].InstanceId)
	_, err = e.ec2.CreateImage(e.ctx, &ec2.CreateImageInput{InstanceId: aws.String(inst), Name: aws.String("baked")})
	wantAWSCode(t, err, "IncorrectInstanceState")
	e.advance(DefaultEC2Config().PendingTime)
	img, err := e.ec2.CreateImage(e.ctx, &ec2.CreateImageInput{InstanceId: aws.String(inst), Name: aws.String("baked")})
	noErr(t, err)
	d, err := e.ec2.DescribeImages(e.ctx, &ec2.DescribeImagesInput{ImageIds: []string{aws.ToString(img.ImageId)}})
	noErr(t, err)
	got := d.Images[0]
	if got.Architecture != "arm64" || aws.ToString(got.SourceInstanceId) != inst || got.State != "pending" {
		t.Fatalf("created image: architecture %s, source %s, state %s", got.Architecture, aws.ToString(got.SourceInstanceId), got.State)
	}
}

func testFailImageEmitsTheFailedStateWithItsMessage(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	out, err := e.ec2.RegisterImage(e.ctx, &ec2.RegisterImageInput{Name: aws.String("broken"), Architecture: "x86_64"})
	noErr(t, err)
	id := aws.ToString(out.ImageId)
	noErr(t, e.w.FailImage(ec2Region, id, "snapshot copy failed"))
	e.advance(DefaultEC2Config().ImageAvailableDelay)
	d, err := e.ec2.DescribeImages(e.ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
	noErr(t, err)
	if d.Images[0].State != "failed" || aws.ToString(d.Images[0].StateReason.Message) != "snapshot copy failed" {
		t.Fatalf("failed image: %s %v; a failed image must not become available later", d.Images[0].State, d.Images[0].StateReason)
	}
	evs := e.events("EC2 AMI State Change")
	if len(evs) != 1 || evs[0]["State"] != "failed" || evs[0]["ErrorMessage"] != "snapshot copy failed" {
		t.Fatalf("events = %v, want one failed event with its message", evs)
	}
}

func testImagesOfAnotherAccountEmitNoEventsOnTheCallersBus(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	_, err := e.w.AddImage(ec2Region, ImageSpec{Name: "vendor", OwnerID: "210987654321"})
	noErr(t, err)
	e.advance(DefaultEC2Config().ImageAvailableDelay)
	if n := len(e.events("EC2 AMI State Change")); n != 0 {
		t.Fatalf("got %d events for another account's image, want none", n)
	}
}

// sameIDs reports whether a and b hold the same strings in any order.
func sameIDs(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	count := map[string]int{}
	for _, s := range a {
		count[s]++
	}
	for _, s := range b {
		count[s]--
	}
	for _, n := range count {
		if n != 0 {
			return false
		}
	}
	return true
}

func testTheImageDelayIsConfigurable(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	e.w.SetEC2Config(EC2Config{ImageAvailableDelay: 10 * time.Minute})
	if got := e.w.EC2Config(); got.ImageAvailableDelay != 10*time.Minute || got.PendingTime != DefaultEC2Config().PendingTime {
		t.Fatalf("config %+v: want the new delay and default timings elsewhere", got)
	}
	out, err := e.ec2.RegisterImage(e.ctx, &ec2.RegisterImageInput{Name: aws.String("slow"), Architecture: "x86_64"})
	noErr(t, err)
	e.advance(10*time.Minute - time.Second)
	d, err := e.ec2.DescribeImages(e.ctx, &ec2.DescribeImagesInput{ImageIds: []string{aws.ToString(out.ImageId)}})
	noErr(t, err)
	if d.Images[0].State != "pending" {
		t.Fatalf("image is %s a second before the configured delay", d.Images[0].State)
	}
	e.advance(time.Second)
	d, err = e.ec2.DescribeImages(e.ctx, &ec2.DescribeImagesInput{ImageIds: []string{aws.ToString(out.ImageId)}})
	noErr(t, err)
	if d.Images[0].State != "available" {
		t.Fatalf("image is %s at the configured delay", d.Images[0].State)
	}
}
