package differential

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// The EC2 comparisons: images, tags, launch templates and their versions,
// instances, instance types and availability zones. Where the two sides
// disagree and the AWS documentation sides with the local cloud, the test
// asserts both observed answers (docs/local-cloud-vs-moto.md, "EC2 and
// Elastic Load Balancing v2"), so that a change on either side fails it.

// Index 0 is the local cloud, 1 is moto, in every [2] array below.
const (
	ec2Local = 0
	ec2Moto  = 1
)

var ec2SideName = [2]string{"local cloud", "moto"}

// ec2Each runs call on each side's client (s is ec2Local or ec2Moto, for
// per-side ids) and returns both results and outcomes.
func ec2Each[C, R any](t *testing.T, cs [2]C, call func(c C, s int) (R, error)) (res [2]R, out [2]outcome) {
	t.Helper()
	for s := range cs {
		r, err := call(cs[s], s)
		res[s], out[s] = r, observe(err)
	}
	return res, out
}

// ec2Agree fails the test unless both sides had the same outcome.
func ec2Agree(t *testing.T, what string, out [2]outcome) {
	t.Helper()
	if out[0] != out[1] {
		t.Errorf("%s: outcomes differ: local cloud %+v, moto %+v", what, out[0], out[1])
	}
}

// ec2OK stops the test unless both sides succeeded.
func ec2OK(t *testing.T, what string, out [2]outcome) {
	t.Helper()
	for s, o := range out {
		if o != (outcome{}) {
			t.Fatalf("%s: %s failed: %+v", what, ec2SideName[s], o)
		}
	}
}

// ec2Want checks each side's outcome against a documented divergence.
func ec2Want(t *testing.T, what string, out [2]outcome, local, moto outcome) {
	t.Helper()
	if out[ec2Local] != local {
		t.Errorf("%s: local cloud answered %+v, want %+v (the AWS documentation's answer)", what, out[ec2Local], local)
	}
	if out[ec2Moto] != moto {
		t.Errorf("%s: moto answered %+v, the recorded divergence says %+v: update docs/local-cloud-vs-moto.md", what, out[ec2Moto], moto)
	}
}

// ec2Same fails the test unless both sides give the same value.
func ec2Same[V comparable](t *testing.T, what string, v [2]V) {
	t.Helper()
	if v[0] != v[1] {
		t.Errorf("%s: local cloud %v, moto %v", what, v[0], v[1])
	}
}

// ec2Match fails the test unless both values match re.
func ec2Match(t *testing.T, what string, re *regexp.Regexp, v [2]string) {
	t.Helper()
	for s := range v {
		if !re.MatchString(v[s]) {
			t.Errorf("%s: %s gave %q, want %s", what, ec2SideName[s], v[s], re)
		}
	}
}

func ec2Clients(p *pair) [2]*ec2.Client {
	return [2]*ec2.Client{ec2.NewFromConfig(p.LocalConfig), ec2.NewFromConfig(p.MotoConfig)}
}

var (
	ec2AMIID       = regexp.MustCompile(`^ami-[0-9a-f]{17}$`)
	ec2InstanceID  = regexp.MustCompile(`^i-[0-9a-f]{17}$`)
	ec2ReservedID  = regexp.MustCompile(`^r-[0-9a-f]{17}$`)
	ec2TemplateID  = regexp.MustCompile(`^lt-[0-9a-f]{17}$`)
	ec2CreatedBy   = regexp.MustCompile(`^arn:aws:iam::123456789012:root$`)
	ec2PrivateIPv4 = regexp.MustCompile(`^\d+\.\d+\.\d+\.\d+$`)
	ec2Missing     = [2]string{"ami-0123456789abcdef0", "ami-0123456789abcdef0"}
)

var bg = context.Background()

// ec2Register registers an x86_64 hvm image named name on each side and,
// on the local cloud, waits until it is available (moto's images are
// available at once).
func ec2Register(t *testing.T, p *pair, cs [2]*ec2.Client, name string) [2]string {
	t.Helper()
	res, out := ec2Each(t, cs, func(c *ec2.Client, _ int) (*ec2.RegisterImageOutput, error) {
		return c.RegisterImage(bg, &ec2.RegisterImageInput{
			Name: aws.String(name), Architecture: ec2types.ArchitectureValuesX8664,
			VirtualizationType: aws.String("hvm"), RootDeviceName: aws.String("/dev/xvda"),
			Description: aws.String("differential " + name),
		})
	})
	ec2OK(t, "RegisterImage "+name, out)
	p.Local.Advance(5 * time.Minute)
	return [2]string{aws.ToString(res[0].ImageId), aws.ToString(res[1].ImageId)}
}

// ec2DescribeOwn describes the caller's images (moto also holds Amazon's).
func ec2DescribeOwn(t *testing.T, cs [2]*ec2.Client, filters ...ec2types.Filter) ([2][]ec2types.Image, [2]outcome) {
	t.Helper()
	res, out := ec2Each(t, cs, func(c *ec2.Client, _ int) (*ec2.DescribeImagesOutput, error) {
		return c.DescribeImages(bg, &ec2.DescribeImagesInput{Owners: []string{"self"}, Filters: filters})
	})
	var imgs [2][]ec2types.Image
	for s := range res {
		if res[s] != nil {
			imgs[s] = res[s].Images
		}
	}
	return imgs, out
}

func ec2ImageNames(imgs []ec2types.Image) string {
	var n []string
	for _, i := range imgs {
		n = append(n, aws.ToString(i.Name))
	}
	sort.Strings(n)
	return strings.Join(n, ",")
}

func ec2TagString(tags []ec2types.Tag) string {
	var s []string
	for _, t := range tags {
		s = append(s, aws.ToString(t.Key)+"="+aws.ToString(t.Value))
	}
	sort.Strings(s)
	return strings.Join(s, ",")
}

// RegisterImage, DescribeImages (owners, ids, filters) and the fields a
// client reads from an image.
func TestEC2RegisterAndDescribeImages(t *testing.T) {
	p := newPair(t)
	cs := ec2Clients(p)
	res, out := ec2Each(t, cs, func(c *ec2.Client, _ int) (*ec2.RegisterImageOutput, error) {
		return c.RegisterImage(bg, &ec2.RegisterImageInput{
			Name: aws.String("app-1.0"), Architecture: ec2types.ArchitectureValuesX8664,
			VirtualizationType: aws.String("hvm"), RootDeviceName: aws.String("/dev/xvda"),
			Description: aws.String("first"),
		})
	})
	ec2OK(t, "RegisterImage", out)
	ids := [2]string{aws.ToString(res[0].ImageId), aws.ToString(res[1].ImageId)}
	ec2Match(t, "ImageId", ec2AMIID, ids)

	// Right after RegisterImage: pending on the local cloud (as EC2
	// documents), available at once on moto.
	imgs, out := ec2DescribeOwn(t, cs)
	ec2OK(t, "DescribeImages self", out)
	if len(imgs[0]) != 1 || len(imgs[1]) != 1 {
		t.Fatalf("DescribeImages self: local cloud %d images, moto %d; want 1 each", len(imgs[0]), len(imgs[1]))
	}
	if imgs[0][0].State != ec2types.ImageStatePending || imgs[1][0].State != ec2types.ImageStateAvailable {
		t.Errorf("state right after RegisterImage: local cloud %s (want pending), moto %s (recorded: available)", imgs[0][0].State, imgs[1][0].State)
	}
	p.Local.Advance(5 * time.Minute)
	imgs, out = ec2DescribeOwn(t, cs)
	ec2OK(t, "DescribeImages self", out)
	l, m := imgs[0][0], imgs[1][0]
	ec2Same(t, "State", [2]ec2types.ImageState{l.State, m.State})
	ec2Same(t, "Name", [2]string{aws.ToString(l.Name), aws.ToString(m.Name)})
	ec2Same(t, "Description", [2]string{aws.ToString(l.Description), aws.ToString(m.Description)})
	ec2Same(t, "OwnerId", [2]string{aws.ToString(l.OwnerId), aws.ToString(m.OwnerId)})
	ec2Same(t, "ImageType", [2]ec2types.ImageTypeValues{l.ImageType, m.ImageType})
	ec2Same(t, "Public", [2]bool{aws.ToBool(l.Public), aws.ToBool(m.Public)})
	ec2Same(t, "ImageId", [2]bool{aws.ToString(l.ImageId) == ids[0], aws.ToString(m.ImageId) == ids[1]})
	if _, err := time.Parse(time.RFC3339, aws.ToString(l.CreationDate)); err != nil {
		t.Errorf("local cloud CreationDate %q: %v", aws.ToString(l.CreationDate), err)
	}
	if _, err := time.Parse(time.RFC3339, aws.ToString(m.CreationDate)); err != nil {
		t.Errorf("moto CreationDate %q: %v", aws.ToString(m.CreationDate), err)
	}
	// moto ignores RegisterImage's Architecture, VirtualizationType and
	// RootDeviceName (recorded divergence).
	if l.Architecture != ec2types.ArchitectureValuesX8664 || l.VirtualizationType != ec2types.VirtualizationTypeHvm || aws.ToString(l.RootDeviceName) != "/dev/xvda" {
		t.Errorf("local cloud image %s/%s/%s; want the registered x86_64/hvm//dev/xvda", l.Architecture, l.VirtualizationType, aws.ToString(l.RootDeviceName))
	}
	if m.Architecture != "" || m.VirtualizationType != "" || aws.ToString(m.RootDeviceName) != "/dev/sda1" {
		t.Errorf("moto image %q/%q/%s; recorded divergence: moto ignores them (none, none, /dev/sda1)", m.Architecture, m.VirtualizationType, aws.ToString(m.RootDeviceName))
	}

	// By id.
	byID, out := ec2Each(t, cs, func(c *ec2.Client, s int) (*ec2.DescribeImagesOutput, error) {
		return c.DescribeImages(bg, &ec2.DescribeImagesInput{ImageIds: []string{ids[s]}})
	})
	ec2OK(t, "DescribeImages by id", out)
	ec2Same(t, "DescribeImages by id count", [2]int{len(byID[0].Images), len(byID[1].Images)})

	// Filters: name with a wildcard, and an image-id filter.
	ec2Register(t, p, cs, "app-2.0")
	ec2Register(t, p, cs, "other-1.0")
	for _, f := range []ec2types.Filter{
		{Name: aws.String("name"), Values: []string{"app-*"}},
		{Name: aws.String("name"), Values: []string{"app-?.0", "other-1.0"}},
		{Name: aws.String("state"), Values: []string{"available"}},
		{Name: aws.String("name"), Values: []string{"nothing-*"}},
	} {
		imgs, out := ec2DescribeOwn(t, cs, f)
		ec2OK(t, "DescribeImages filter "+aws.ToString(f.Name), out)
		ec2Same(t, "DescribeImages filter "+aws.ToString(f.Name)+"="+strings.Join(f.Values, "|"), [2]string{ec2ImageNames(imgs[0]), ec2ImageNames(imgs[1])})
	}
	// An owner id names the account, as self does.
	own, out := ec2Each(t, cs, func(c *ec2.Client, _ int) (*ec2.DescribeImagesOutput, error) {
		return c.DescribeImages(bg, &ec2.DescribeImagesInput{Owners: []string{"123456789012"}})
	})
	ec2OK(t, "DescribeImages owner id", out)
	ec2Same(t, "DescribeImages owner id", [2]string{ec2ImageNames(own[0].Images), ec2ImageNames(own[1].Images)})

	// Not found and malformed ids.
	_, out = ec2Each(t, cs, func(c *ec2.Client, _ int) (*ec2.DescribeImagesOutput, error) {
		return c.DescribeImages(bg, &ec2.DescribeImagesInput{ImageIds: []string{"ami-0123456789abcdef0"}})
	})
	ec2Agree(t, "DescribeImages unknown id", out)
	if out[0].Code != "InvalidAMIID.NotFound" || out[0].Status != 400 {
		t.Errorf("DescribeImages unknown id: %+v, want InvalidAMIID.NotFound 400", out[0])
	}
	_, out = ec2Each(t, cs, func(c *ec2.Client, _ int) (*ec2.DescribeImagesOutput, error) {
		return c.DescribeImages(bg, &ec2.DescribeImagesInput{ImageIds: []string{"image-1"}})
	})
	ec2Agree(t, "DescribeImages malformed id", out)
	if out[0].Code != "InvalidAMIID.Malformed" {
		t.Errorf("DescribeImages malformed id: %+v, want InvalidAMIID.Malformed", out[0])
	}
	// A filter EC2 does not know.
	_, out = ec2Each(t, cs, func(c *ec2.Client, _ int) (*ec2.DescribeImagesOutput, error) {
		return c.DescribeImages(bg, &ec2.DescribeImagesInput{Owners: []string{"self"}, Filters: []ec2types.Filter{{Name: aws.String("no-such-filter"), Values: []string{"x"}}}})
	})
	ec2WantServerFault(t, "DescribeImages unknown filter", out, outcome{"InvalidParameterValue", 400})
}

// ec2WantServerFault checks a recorded divergence where moto fails with an
// HTTP 500 whose body is not an AWS error.
func ec2WantServerFault(t *testing.T, what string, out [2]outcome, local outcome) {
	t.Helper()
	if out[ec2Local] != local {
		t.Errorf("%s: local cloud answered %+v, want %+v (the AWS documentation's answer)", what, out[ec2Local], local)
	}
	if out[ec2Moto].Status != 500 {
		t.Errorf("%s: moto answered %+v, the recorded divergence says HTTP 500: update docs/local-cloud-vs-moto.md", what, out[ec2Moto])
	}
}

// ec2Tags describes the tags of one resource on each side.
func ec2Tags(t *testing.T, cs [2]*ec2.Client, ids [2]string, extra ...ec2types.Filter) ([2]string, [2]outcome) {
	t.Helper()
	res, out := ec2Each(t, cs, func(c *ec2.Client, s int) (*ec2.DescribeTagsOutput, error) {
		return c.DescribeTags(bg, &ec2.DescribeTagsInput{Filters: append([]ec2types.Filter{{Name: aws.String("resource-id"), Values: []string{ids[s]}}}, extra...)})
	})
	var got [2]string
	for s := range res {
		if res[s] == nil {
			continue
		}
		var parts []string
		for _, d := range res[s].Tags {
			if aws.ToString(d.ResourceId) != ids[s] {
				t.Errorf("DescribeTags resource-id %s: %s returned a tag of %s", ids[s], ec2SideName[s], aws.ToString(d.ResourceId))
			}
			parts = append(parts, string(d.ResourceType)+":"+aws.ToString(d.Key)+"="+aws.ToString(d.Value))
		}
		sort.Strings(parts)
		got[s] = strings.Join(parts, ",")
	}
	return got, out
}

// CreateTags, DeleteTags (with and without values), DescribeTags and tag
// filters on images; DeregisterImage and what DescribeImages shows after.
func TestEC2ImageTagsAndDeregister(t *testing.T) {
	p := newPair(t)
	cs := ec2Clients(p)
	ids := ec2Register(t, p, cs, "tagged-1")
	other := ec2Register(t, p, cs, "tagged-2")

	_, out := ec2Each(t, cs, func(c *ec2.Client, s int) (*ec2.CreateTagsOutput, error) {
		return c.CreateTags(bg, &ec2.CreateTagsInput{Resources: []string{ids[s], other[s]}, Tags: []ec2types.Tag{
			{Key: aws.String("app"), Value: aws.String("web")},
			{Key: aws.String("stage"), Value: aws.String("canary")},
			{Key: aws.String("empty"), Value: aws.String("")},
		}})
	})
	ec2OK(t, "CreateTags", out)
	_, out = ec2Each(t, cs, func(c *ec2.Client, s int) (*ec2.CreateTagsOutput, error) {
		return c.CreateTags(bg, &ec2.CreateTagsInput{Resources: []string{other[s]}, Tags: []ec2types.Tag{{Key: aws.String("stage"), Value: aws.String("stable")}}})
	})
	ec2OK(t, "CreateTags overwrite", out)
	tags, out := ec2Tags(t, cs, ids)
	ec2OK(t, "DescribeTags", out)
	ec2Same(t, "DescribeTags resource-id", tags)
	tags, out = ec2Tags(t, cs, other, ec2types.Filter{Name: aws.String("key"), Values: []string{"stage"}})
	ec2OK(t, "DescribeTags key", out)
	ec2Same(t, "DescribeTags resource-id+key", tags)
	if tags[0] != "image:stage=stable" {
		t.Errorf("DescribeTags after overwrite: %q, want image:stage=stable", tags[0])
	}

	// Tag filters on DescribeImages.
	for _, f := range []ec2types.Filter{
		{Name: aws.String("tag:stage"), Values: []string{"canary"}},
		{Name: aws.String("tag:stage"), Values: []string{"st*"}},
		{Name: aws.String("tag-key"), Values: []string{"app"}},
		{Name: aws.String("tag:app"), Values: []string{"db"}},
	} {
		imgs, out := ec2DescribeOwn(t, cs, f)
		ec2OK(t, "DescribeImages "+aws.ToString(f.Name), out)
		ec2Same(t, "DescribeImages "+aws.ToString(f.Name)+"="+strings.Join(f.Values, "|"), [2]string{ec2ImageNames(imgs[0]), ec2ImageNames(imgs[1])})
	}
	imgs, out := ec2DescribeOwn(t, cs, ec2types.Filter{Name: aws.String("name"), Values: []string{"tagged-1"}})
	ec2OK(t, "DescribeImages tags", out)
	ec2Same(t, "image Tags", [2]string{ec2TagString(imgs[0][0].Tags), ec2TagString(imgs[1][0].Tags)})

	// DeleteTags: a value that does not match keeps the tag, no value
	// removes it whatever its value, an empty value matches only empty.
	_, out = ec2Each(t, cs, func(c *ec2.Client, s int) (*ec2.DeleteTagsOutput, error) {
		return c.DeleteTags(bg, &ec2.DeleteTagsInput{Resources: []string{ids[s]}, Tags: []ec2types.Tag{
			{Key: aws.String("app"), Value: aws.String("not-web")},
			{Key: aws.String("stage")},
			{Key: aws.String("empty"), Value: aws.String("")},
		}})
	})
	ec2OK(t, "DeleteTags", out)
	tags, out = ec2Tags(t, cs, ids)
	ec2OK(t, "DescribeTags after DeleteTags", out)
	ec2Same(t, "tags after DeleteTags", tags)
	if tags[0] != "image:app=web" {
		t.Errorf("tags after DeleteTags: %q, want image:app=web", tags[0])
	}

	// Tagging an image that does not exist.
	_, out = ec2Each(t, cs, func(c *ec2.Client, s int) (*ec2.CreateTagsOutput, error) {
		return c.CreateTags(bg, &ec2.CreateTagsInput{Resources: []string{ec2Missing[s]}, Tags: []ec2types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	})
	ec2Agree(t, "CreateTags unknown image", out)
	if out[0].Code != "InvalidAMIID.NotFound" {
		t.Errorf("CreateTags unknown image: %+v, want InvalidAMIID.NotFound", out[0])
	}

	// DeregisterImage, then the same id again, then an unknown one.
	dr, out := ec2Each(t, cs, func(c *ec2.Client, s int) (*ec2.DeregisterImageOutput, error) {
		return c.DeregisterImage(bg, &ec2.DeregisterImageInput{ImageId: aws.String(ids[s])})
	})
	ec2OK(t, "DeregisterImage", out)
	ec2Same(t, "DeregisterImage Return", [2]bool{aws.ToBool(dr[0].Return), aws.ToBool(dr[1].Return)})
	_, out = ec2Each(t, cs, func(c *ec2.Client, s int) (*ec2.DeregisterImageOutput, error) {
		return c.DeregisterImage(bg, &ec2.DeregisterImageInput{ImageId: aws.String(ids[s])})
	})
	ec2Agree(t, "DeregisterImage twice", out)
	if out[0].Code != "InvalidAMIID.Unavailable" {
		t.Errorf("DeregisterImage twice: %+v, want InvalidAMIID.Unavailable", out[0])
	}
	_, out = ec2Each(t, cs, func(c *ec2.Client, s int) (*ec2.DeregisterImageOutput, error) {
		return c.DeregisterImage(bg, &ec2.DeregisterImageInput{ImageId: aws.String(ec2Missing[s])})
	})
	ec2Agree(t, "DeregisterImage unknown", out)
	if out[0].Code != "InvalidAMIID.NotFound" {
		t.Errorf("DeregisterImage unknown: %+v, want InvalidAMIID.NotFound", out[0])
	}
	// Recently deregistered images are still listed, in state
	// deregistered (DescribeImages reference); moto forgets them at once.
	byID, out := ec2Each(t, cs, func(c *ec2.Client, s int) (*ec2.DescribeImagesOutput, error) {
		return c.DescribeImages(bg, &ec2.DescribeImagesInput{ImageIds: []string{ids[s]}})
	})
	ec2OK(t, "DescribeImages deregistered id", out)
	if len(byID[0].Images) != 1 || byID[0].Images[0].State != ec2types.ImageStateDeregistered {
		t.Errorf("local cloud lists the just-deregistered image as %+v; want it, deregistered", byID[0].Images)
	}
	if len(byID[1].Images) != 0 {
		t.Errorf("moto lists the just-deregistered image (%d); recorded divergence: it lists nothing", len(byID[1].Images))
	}
	imgs, out = ec2DescribeOwn(t, cs)
	ec2OK(t, "DescribeImages after deregister", out)
	if ec2ImageNames(imgs[0]) != "tagged-1,tagged-2" || ec2ImageNames(imgs[1]) != "tagged-2" {
		t.Errorf("DescribeImages self after deregister: local cloud %q (want tagged-1,tagged-2), moto %q (recorded: tagged-2)", ec2ImageNames(imgs[0]), ec2ImageNames(imgs[1]))
	}
	// After the short interval the local cloud forgets it too.
	p.Local.Advance(2 * time.Hour)
	imgs, out = ec2DescribeOwn(t, cs)
	ec2OK(t, "DescribeImages later", out)
	ec2Same(t, "DescribeImages self, hours after deregister", [2]string{ec2ImageNames(imgs[0]), ec2ImageNames(imgs[1])})
}

// ec2Run launches count instances of image on each side.
func ec2Run(t *testing.T, cs [2]*ec2.Client, image [2]string, count int32, tags ...ec2types.Tag) ([2]*ec2.RunInstancesOutput, [2]outcome) {
	t.Helper()
	return ec2Each(t, cs, func(c *ec2.Client, s int) (*ec2.RunInstancesOutput, error) {
		in := &ec2.RunInstancesInput{ImageId: aws.String(image[s]), InstanceType: ec2types.InstanceTypeT3Micro, MinCount: aws.Int32(count), MaxCount: aws.Int32(count)}
		if len(tags) > 0 {
			in.TagSpecifications = []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: tags}}
		}
		return c.RunInstances(bg, in)
	})
}

func ec2InstanceIDs(r *ec2.RunInstancesOutput) []string {
	var ids []string
	for _, i := range r.Instances {
		ids = append(ids, aws.ToString(i.InstanceId))
	}
	return ids
}

// ec2Describe describes instances with filters and returns, per side, the
// instance ids found (sorted) and "state" of each.
func ec2Describe(t *testing.T, cs [2]*ec2.Client, in func(s int) *ec2.DescribeInstancesInput) ([2][]ec2types.Instance, [2]outcome) {
	t.Helper()
	res, out := ec2Each(t, cs, func(c *ec2.Client, s int) (*ec2.DescribeInstancesOutput, error) {
		return c.DescribeInstances(bg, in(s))
	})
	var got [2][]ec2types.Instance
	for s := range res {
		if res[s] == nil {
			continue
		}
		for _, r := range res[s].Reservations {
			got[s] = append(got[s], r.Instances...)
		}
	}
	return got, out
}

// ec2Shape reduces instances to what both sides must agree on: count and,
// per instance in launch-index order, state, type, launch index and tags.
func ec2Shape(insts []ec2types.Instance, image string) string {
	var parts []string
	for _, i := range insts {
		img := "other-image"
		if aws.ToString(i.ImageId) == image {
			img = "image"
		}
		state := ""
		if i.State != nil {
			state = string(i.State.Name)
		}
		var tags []ec2types.Tag
		for _, tg := range i.Tags {
			if aws.ToString(tg.Key) == "aws:ec2launchtemplate:id" && ec2TemplateID.MatchString(aws.ToString(tg.Value)) {
				tg.Value = aws.String("lt-*")
			}
			tags = append(tags, tg)
		}
		parts = append(parts, strings.Join([]string{state, string(i.InstanceType), img, ec2TagString(tags)}, "/"))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// RunInstances, DescribeInstances (ids, filters, pagination),
// TerminateInstances and CreateImage from an instance.
func TestEC2Instances(t *testing.T) {
	p := newPair(t)
	cs := ec2Clients(p)
	image := ec2Register(t, p, cs, "run-me")
	tag := ec2types.Tag{Key: aws.String("Name"), Value: aws.String("web")}
	run, out := ec2Run(t, cs, image, 2, tag)
	ec2OK(t, "RunInstances", out)
	for s := range run {
		r := run[s]
		if !ec2ReservedID.MatchString(aws.ToString(r.ReservationId)) || aws.ToString(r.OwnerId) != "123456789012" || len(r.Instances) != 2 {
			t.Fatalf("%s RunInstances: reservation %q owner %q, %d instances", ec2SideName[s], aws.ToString(r.ReservationId), aws.ToString(r.OwnerId), len(r.Instances))
		}
		for n, i := range r.Instances {
			if !ec2InstanceID.MatchString(aws.ToString(i.InstanceId)) || aws.ToInt32(i.AmiLaunchIndex) != int32(n) ||
				!ec2PrivateIPv4.MatchString(aws.ToString(i.PrivateIpAddress)) || i.LaunchTime == nil ||
				!strings.HasPrefix(aws.ToString(i.Placement.AvailabilityZone), "us-east-1") {
				t.Errorf("%s RunInstances instance %d: id %q index %d ip %q launch %v zone %q", ec2SideName[s], n,
					aws.ToString(i.InstanceId), aws.ToInt32(i.AmiLaunchIndex), aws.ToString(i.PrivateIpAddress), i.LaunchTime, aws.ToString(i.Placement.AvailabilityZone))
			}
		}
	}
	ec2Same(t, "RunInstances instances", [2]string{ec2Shape(run[0].Instances, image[0]), ec2Shape(run[1].Instances, image[1])})
	ec2Same(t, "RunInstances state code", [2]int32{aws.ToInt32(run[0].Instances[0].State.Code), aws.ToInt32(run[1].Instances[0].State.Code)})
	ids := [2][]string{ec2InstanceIDs(run[0]), ec2InstanceIDs(run[1])}

	// Once booted: running on both.
	p.Local.Advance(time.Minute)
	got, out := ec2Describe(t, cs, func(s int) *ec2.DescribeInstancesInput { return &ec2.DescribeInstancesInput{InstanceIds: ids[s]} })
	ec2OK(t, "DescribeInstances by id", out)
	ec2Same(t, "DescribeInstances by id", [2]string{ec2Shape(got[0], image[0]), ec2Shape(got[1], image[1])})

	// A second reservation, untagged, for the filters and pages.
	run2, out := ec2Run(t, cs, image, 1)
	ec2OK(t, "RunInstances second", out)
	p.Local.Advance(time.Minute)
	filters := [][]ec2types.Filter{
		{{Name: aws.String("tag:Name"), Values: []string{"web"}}},
		{{Name: aws.String("tag:Name"), Values: []string{"w?b", "db"}}},
		{{Name: aws.String("instance-state-name"), Values: []string{"running"}}},
		{{Name: aws.String("instance-state-name"), Values: []string{"pending", "running"}}, {Name: aws.String("tag-key"), Values: []string{"Name"}}},
		{{Name: aws.String("instance-type"), Values: []string{"t3.micro"}}},
		{{Name: aws.String("instance-type"), Values: []string{"m5.large"}}},
	}
	for _, f := range filters {
		got, out := ec2Describe(t, cs, func(int) *ec2.DescribeInstancesInput { return &ec2.DescribeInstancesInput{Filters: f} })
		ec2OK(t, "DescribeInstances filter", out)
		ec2Same(t, "DescribeInstances filter "+aws.ToString(f[0].Name)+"="+strings.Join(f[0].Values, "|"), [2]string{ec2Shape(got[0], image[0]), ec2Shape(got[1], image[1])})
	}
	got, out = ec2Describe(t, cs, func(s int) *ec2.DescribeInstancesInput {
		return &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("image-id"), Values: []string{image[s]}}}}
	})
	ec2OK(t, "DescribeInstances image-id", out)
	ec2Same(t, "DescribeInstances image-id count", [2]int{len(got[0]), len(got[1])})

	// Not found, malformed, and MaxResults with ids.
	missing := [2]string{"i-0123456789abcdef0", "i-0123456789abcdef0"}
	_, out = ec2Describe(t, cs, func(s int) *ec2.DescribeInstancesInput {
		return &ec2.DescribeInstancesInput{InstanceIds: []string{missing[s]}}
	})
	ec2Agree(t, "DescribeInstances unknown id", out)
	if out[0].Code != "InvalidInstanceID.NotFound" {
		t.Errorf("DescribeInstances unknown id: %+v, want InvalidInstanceID.NotFound", out[0])
	}
	_, out = ec2Describe(t, cs, func(s int) *ec2.DescribeInstancesInput {
		return &ec2.DescribeInstancesInput{InstanceIds: ids[s], MaxResults: aws.Int32(5)}
	})
	ec2Agree(t, "DescribeInstances ids with MaxResults", out)
	if out[0].Code != "InvalidParameterCombination" {
		t.Errorf("DescribeInstances ids with MaxResults: %+v, want InvalidParameterCombination", out[0])
	}
	_, out = ec2Describe(t, cs, func(s int) *ec2.DescribeInstancesInput {
		return &ec2.DescribeInstancesInput{InstanceIds: []string{"instance-1"}}
	})
	ec2Want(t, "DescribeInstances malformed id", out, outcome{"InvalidInstanceID.Malformed", 400}, outcome{"InvalidInstanceID.NotFound", 400})

	// Pagination: more instances than a page.
	_, out = ec2Run(t, cs, image, 4)
	ec2OK(t, "RunInstances for pages", out)
	var pages [2][]int
	var seen [2]int
	for s, c := range cs {
		var tok *string
		for n := 0; n < 10; n++ {
			r, err := c.DescribeInstances(bg, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5), NextToken: tok})
			if err != nil {
				t.Fatalf("%s DescribeInstances page: %v", ec2SideName[s], err)
			}
			k := 0
			for _, res := range r.Reservations {
				k += len(res.Instances)
			}
			pages[s] = append(pages[s], k)
			seen[s] += k
			if tok = r.NextToken; tok == nil {
				break
			}
		}
	}
	// EC2 pages by "items"; the local cloud counts instances, moto
	// reservations (recorded: AWS leaves it undefined). Both return all.
	ec2Same(t, "instances over all pages", seen)
	if !slices.Equal(pages[0], []int{5, 2}) || !slices.Equal(pages[1], []int{7}) {
		t.Errorf("DescribeInstances MaxResults 5 over 7 instances in 3 reservations: local cloud pages %v (want [5 2]), moto %v (recorded: [7])", pages[0], pages[1])
	}

	// TerminateInstances.
	term, out := ec2Each(t, cs, func(c *ec2.Client, s int) (*ec2.TerminateInstancesOutput, error) {
		return c.TerminateInstances(bg, &ec2.TerminateInstancesInput{InstanceIds: ec2InstanceIDs(run2[s])})
	})
	ec2OK(t, "TerminateInstances", out)
	for s := range term {
		ch := term[s].TerminatingInstances
		if len(ch) != 1 {
			t.Fatalf("%s TerminateInstances: %d changes", ec2SideName[s], len(ch))
		}
		if ch[0].PreviousState.Name != ec2types.InstanceStateNameRunning || ch[0].CurrentState.Name != ec2types.InstanceStateNameShuttingDown ||
			aws.ToInt32(ch[0].CurrentState.Code) != 32 {
			t.Errorf("%s TerminateInstances: %s -> %s (%d); want running -> shutting-down (32)", ec2SideName[s], ch[0].PreviousState.Name, ch[0].CurrentState.Name, aws.ToInt32(ch[0].CurrentState.Code))
		}
	}
	_, out = ec2Each(t, cs, func(c *ec2.Client, s int) (*ec2.TerminateInstancesOutput, error) {
		return c.TerminateInstances(bg, &ec2.TerminateInstancesInput{InstanceIds: []string{missing[s]}})
	})
	ec2Agree(t, "TerminateInstances unknown", out)
	if out[0].Code != "InvalidInstanceID.NotFound" {
		t.Errorf("TerminateInstances unknown: %+v, want InvalidInstanceID.NotFound", out[0])
	}
	p.Local.Advance(time.Minute)
	got, out = ec2Describe(t, cs, func(s int) *ec2.DescribeInstancesInput {
		return &ec2.DescribeInstancesInput{InstanceIds: ec2InstanceIDs(run2[s])}
	})
	ec2OK(t, "DescribeInstances terminated", out)
	ec2Same(t, "terminated instance", [2]string{ec2Shape(got[0], image[0]), ec2Shape(got[1], image[1])})

	// CreateImage from a running instance.
	ci, out := ec2Each(t, cs, func(c *ec2.Client, s int) (*ec2.CreateImageOutput, error) {
		return c.CreateImage(bg, &ec2.CreateImageInput{InstanceId: aws.String(ids[s][0]), Name: aws.String("from-instance"), Description: aws.String("baked")})
	})
	ec2OK(t, "CreateImage", out)
	ec2Match(t, "CreateImage ImageId", ec2AMIID, [2]string{aws.ToString(ci[0].ImageId), aws.ToString(ci[1].ImageId)})
	p.Local.Advance(5 * time.Minute)
	imgs, out := ec2DescribeOwn(t, cs, ec2types.Filter{Name: aws.String("name"), Values: []string{"from-instance"}})
	ec2OK(t, "DescribeImages created", out)
	if len(imgs[0]) != 1 || len(imgs[1]) != 1 {
		t.Fatalf("created image: local cloud %d, moto %d", len(imgs[0]), len(imgs[1]))
	}
	ec2Same(t, "created image SourceInstanceId is the instance", [2]bool{aws.ToString(imgs[0][0].SourceInstanceId) == ids[0][0], aws.ToString(imgs[1][0].SourceInstanceId) == ids[1][0]})
	ec2Same(t, "created image state", [2]ec2types.ImageState{imgs[0][0].State, imgs[1][0].State})
	// moto's image had no architecture (RegisterImage divergence), so its
	// copy has none either.
	if imgs[0][0].Architecture != ec2types.ArchitectureValuesX8664 || imgs[1][0].Architecture != "" {
		t.Errorf("created image architecture: local cloud %q (want x86_64), moto %q (recorded: none)", imgs[0][0].Architecture, imgs[1][0].Architecture)
	}
	ec2Same(t, "created image description", [2]string{aws.ToString(imgs[0][0].Description), aws.ToString(imgs[1][0].Description)})
	_, out = ec2Each(t, cs, func(c *ec2.Client, s int) (*ec2.CreateImageOutput, error) {
		return c.CreateImage(bg, &ec2.CreateImageInput{InstanceId: aws.String(missing[s]), Name: aws.String("from-nothing")})
	})
	ec2Agree(t, "CreateImage unknown instance", out)
	if out[0].Code != "InvalidInstanceID.NotFound" {
		t.Errorf("CreateImage unknown instance: %+v, want InvalidInstanceID.NotFound", out[0])
	}
	// Launching an image that does not exist.
	_, out = ec2Run(t, cs, ec2Missing, 1)
	ec2Want(t, "RunInstances unknown image", out, outcome{"InvalidAMIID.NotFound", 400}, outcome{})
}

// ec2Versions renders a DescribeLaunchTemplateVersions answer as its
// version numbers, sorted (EC2 documents no order), with default marks.
func ec2Versions(r *ec2.DescribeLaunchTemplateVersionsOutput) string {
	if r == nil {
		return "<nil>"
	}
	var parts []string
	for _, v := range r.LaunchTemplateVersions {
		s := fmt.Sprintf("%s:%04d", aws.ToString(v.LaunchTemplateName), aws.ToInt64(v.VersionNumber))
		if aws.ToBool(v.DefaultVersion) {
			s += "*"
		}
		parts = append(parts, s)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// ec2Templates renders DescribeLaunchTemplates as name:default/latest.
func ec2Templates(r *ec2.DescribeLaunchTemplatesOutput) string {
	if r == nil {
		return "<nil>"
	}
	var parts []string
	for _, lt := range r.LaunchTemplates {
		parts = append(parts, aws.ToString(lt.LaunchTemplateName)+":"+itoa(aws.ToInt64(lt.DefaultVersionNumber))+"/"+itoa(aws.ToInt64(lt.LatestVersionNumber))+"["+ec2TagString(lt.Tags)+"]")
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// Launch templates and versions: create, versions from a source version,
// describe by $Latest, $Default, numbers and ranges, the default version,
// launching from a template, deletion, and the error cases.
func TestEC2LaunchTemplates(t *testing.T) {
	p := newPair(t)
	cs := ec2Clients(p)
	image := ec2Register(t, p, cs, "lt-image")
	created, out := ec2Each(t, cs, func(c *ec2.Client, s int) (*ec2.CreateLaunchTemplateOutput, error) {
		return c.CreateLaunchTemplate(bg, &ec2.CreateLaunchTemplateInput{
			LaunchTemplateName: aws.String("web"),
			VersionDescription: aws.String("first"),
			LaunchTemplateData: &ec2types.RequestLaunchTemplateData{
				ImageId: aws.String(image[s]), InstanceType: ec2types.InstanceTypeT3Micro,
				TagSpecifications: []ec2types.LaunchTemplateTagSpecificationRequest{{ResourceType: ec2types.ResourceTypeInstance, Tags: []ec2types.Tag{{Key: aws.String("role"), Value: aws.String("web")}}}},
			},
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeLaunchTemplate, Tags: []ec2types.Tag{{Key: aws.String("team"), Value: aws.String("a")}}}},
		})
	})
	ec2OK(t, "CreateLaunchTemplate", out)
	var ltID [2]string
	for s := range created {
		lt := created[s].LaunchTemplate
		ltID[s] = aws.ToString(lt.LaunchTemplateId)
		if !ec2TemplateID.MatchString(ltID[s]) || !ec2CreatedBy.MatchString(aws.ToString(lt.CreatedBy)) || lt.CreateTime == nil {
			t.Errorf("%s CreateLaunchTemplate: id %q createdBy %q createTime %v", ec2SideName[s], ltID[s], aws.ToString(lt.CreatedBy), lt.CreateTime)
		}
	}
	ec2Same(t, "CreateLaunchTemplate", [2]string{
		ec2Templates(&ec2.DescribeLaunchTemplatesOutput{LaunchTemplates: []ec2types.LaunchTemplate{*created[0].LaunchTemplate}}),
		ec2Templates(&ec2.DescribeLaunchTemplatesOutput{LaunchTemplates: []ec2types.LaunchTemplate{*created[1].LaunchTemplate}}),
	})
	_, out = ec2Each(t, cs, func(c *ec2.Client, s int) (*ec2.CreateLaunchTemplateOutput, error) {
		return c.CreateLaunchTemplate(bg, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("web"),
			LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(image[s])}})
	})
	ec2Agree(t, "CreateLaunchTemplate duplicate name", out)
	if out[0].Code != "InvalidLaunchTemplateName.AlreadyExistsException" {
		t.Errorf("CreateLaunchTemplate duplicate name: %+v", out[0])
	}

	// Version 2 from version 1 with only the instance type changed: EC2
	// documents that it inherits the rest of version 1 (moto does not).
	v2, out := ec2Each(t, cs, func(c *ec2.Client, s int) (*ec2.CreateLaunchTemplateVersionOutput, error) {
		return c.CreateLaunchTemplateVersion(bg, &ec2.CreateLaunchTemplateVersionInput{
			LaunchTemplateId: aws.String(ltID[s]), SourceVersion: aws.String("1"), VersionDescription: aws.String("bigger"),
			LaunchTemplateData: &ec2types.RequestLaunchTemplateData{InstanceType: ec2types.InstanceTypeM5Large},
		})
	})
	ec2OK(t, "CreateLaunchTemplateVersion", out)
	for s := range v2 {
		v := v2[s].LaunchTemplateVersion
		if aws.ToInt64(v.VersionNumber) != 2 || aws.ToBool(v.DefaultVersion) || aws.ToString(v.VersionDescription) != "bigger" ||
			v.LaunchTemplateData.InstanceType != ec2types.InstanceTypeM5Large || aws.ToString(v.LaunchTemplateId) != ltID[s] {
			t.Errorf("%s CreateLaunchTemplateVersion: number %d default %v description %q type %s", ec2SideName[s],
				aws.ToInt64(v.VersionNumber), aws.ToBool(v.DefaultVersion), aws.ToString(v.VersionDescription), v.LaunchTemplateData.InstanceType)
		}
	}
	if got := aws.ToString(v2[0].LaunchTemplateVersion.LaunchTemplateData.ImageId); got != image[0] {
		t.Errorf("local cloud version 2 ImageId %q, want %q inherited from SourceVersion 1", got, image[0])
	}
	if got := aws.ToString(v2[1].LaunchTemplateVersion.LaunchTemplateData.ImageId); got != "" {
		t.Errorf("moto version 2 ImageId %q; recorded divergence: moto ignores SourceVersion", got)
	}
	// Version 3, complete, by template name.
	_, out = ec2Each(t, cs, func(c *ec2.Client, s int) (*ec2.CreateLaunchTemplateVersionOutput, error) {
		return c.CreateLaunchTemplateVersion(bg, &ec2.CreateLaunchTemplateVersionInput{
			LaunchTemplateName: aws.String("web"),
			LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(image[s]), InstanceType: ec2types.InstanceTypeC5Large},
		})
	})
	ec2OK(t, "CreateLaunchTemplateVersion 3", out)
	_, out = ec2Each(t, cs, func(c *ec2.Client, s int) (*ec2.CreateLaunchTemplateVersionOutput, error) {
		return c.CreateLaunchTemplateVersion(bg, &ec2.CreateLaunchTemplateVersionInput{
			LaunchTemplateName: aws.String("nope"), LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(image[s])},
		})
	})
	ec2Agree(t, "CreateLaunchTemplateVersion unknown name", out)
	if out[0].Code != "InvalidLaunchTemplateName.NotFoundException" {
		t.Errorf("CreateLaunchTemplateVersion unknown name: %+v", out[0])
	}

	describe := func(in func(s int) *ec2.DescribeLaunchTemplateVersionsInput) ([2]*ec2.DescribeLaunchTemplateVersionsOutput, [2]outcome) {
		return ec2Each(t, cs, func(c *ec2.Client, s int) (*ec2.DescribeLaunchTemplateVersionsOutput, error) {
			return c.DescribeLaunchTemplateVersions(bg, in(s))
		})
	}
	byID := func(f func(in *ec2.DescribeLaunchTemplateVersionsInput)) func(s int) *ec2.DescribeLaunchTemplateVersionsInput {
		return func(s int) *ec2.DescribeLaunchTemplateVersionsInput {
			in := &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(ltID[s])}
			f(in)
			return in
		}
	}
	for _, c := range []struct {
		what string
		set  func(in *ec2.DescribeLaunchTemplateVersionsInput)
		want string
	}{
		{"all", func(*ec2.DescribeLaunchTemplateVersionsInput) {}, "web:0001*,web:0002,web:0003"},
		{"$Latest", func(in *ec2.DescribeLaunchTemplateVersionsInput) { in.Versions = []string{"$Latest"} }, "web:0003"},
		{"$Default", func(in *ec2.DescribeLaunchTemplateVersionsInput) { in.Versions = []string{"$Default"} }, "web:0001*"},
		{"numbers", func(in *ec2.DescribeLaunchTemplateVersionsInput) { in.Versions = []string{"3", "1"} }, "web:0001*,web:0003"},
		{"MinVersion", func(in *ec2.DescribeLaunchTemplateVersionsInput) { in.MinVersion = aws.String("2") }, "web:0002,web:0003"},
		{"MaxVersion", func(in *ec2.DescribeLaunchTemplateVersionsInput) { in.MaxVersion = aws.String("2") }, "web:0001*,web:0002"},
		{"MinVersion-MaxVersion", func(in *ec2.DescribeLaunchTemplateVersionsInput) {
			in.MinVersion, in.MaxVersion = aws.String("2"), aws.String("2")
		}, "web:0002"},
	} {
		res, out := describe(byID(c.set))
		ec2OK(t, "DescribeLaunchTemplateVersions "+c.what, out)
		got := [2]string{ec2Versions(res[0]), ec2Versions(res[1])}
		ec2Same(t, "DescribeLaunchTemplateVersions "+c.what, got)
		if got[0] != c.want {
			t.Errorf("DescribeLaunchTemplateVersions %s: %s, want %s", c.what, got[0], c.want)
		}
	}
	// The version data a client launches from.
	res, out := describe(byID(func(in *ec2.DescribeLaunchTemplateVersionsInput) { in.Versions = []string{"1"} }))
	ec2OK(t, "DescribeLaunchTemplateVersions 1", out)
	for s := range res {
		d := res[s].LaunchTemplateVersions[0].LaunchTemplateData
		if aws.ToString(d.ImageId) != image[s] || d.InstanceType != ec2types.InstanceTypeT3Micro || len(d.TagSpecifications) == 0 ||
			d.TagSpecifications[0].ResourceType != ec2types.ResourceTypeInstance ||
			ec2TagString(d.TagSpecifications[0].Tags) != "role=web" || aws.ToString(res[s].LaunchTemplateVersions[0].VersionDescription) != "first" {
			t.Errorf("%s version 1 data: %+v", ec2SideName[s], d)
		}
	}
	// The template's own tags (TagSpecifications of CreateLaunchTemplate)
	// tag the template, not its instances; moto copies them into the
	// version's data (recorded divergence).
	if n := len(res[0].LaunchTemplateVersions[0].LaunchTemplateData.TagSpecifications); n != 1 {
		t.Errorf("local cloud version 1 data has %d tag specifications, want 1 (instance)", n)
	}
	if ts := res[1].LaunchTemplateVersions[0].LaunchTemplateData.TagSpecifications; len(ts) != 2 || ts[1].ResourceType != ec2types.ResourceTypeLaunchTemplate {
		t.Errorf("moto version 1 data tag specifications %+v; recorded divergence: instance and launch-template", ts)
	}
	// A version that does not exist.
	for _, v := range []string{"99"} {
		_, out := describe(byID(func(in *ec2.DescribeLaunchTemplateVersionsInput) { in.Versions = []string{v} }))
		ec2Agree(t, "DescribeLaunchTemplateVersions version "+v, out)
		if out[0].Code != "InvalidLaunchTemplateId.VersionNotFound" {
			t.Errorf("DescribeLaunchTemplateVersions version %s: %+v", v, out[0])
		}
	}
	// Version 0 and a version that is not a number: moto answers version
	// 0 with the latest version and fails "abc" with an HTTP 500.
	_, out = describe(byID(func(in *ec2.DescribeLaunchTemplateVersionsInput) { in.Versions = []string{"0"} }))
	ec2Want(t, "DescribeLaunchTemplateVersions version 0", out, outcome{"InvalidLaunchTemplateId.VersionNotFound", 400}, outcome{})
	_, out = describe(byID(func(in *ec2.DescribeLaunchTemplateVersionsInput) { in.Versions = []string{"abc"} }))
	ec2WantServerFault(t, "DescribeLaunchTemplateVersions version abc", out, outcome{"InvalidLaunchTemplateId.VersionNotFound", 400})
	// Pagination: moto cuts the page but gives no NextToken.
	res, out = describe(byID(func(in *ec2.DescribeLaunchTemplateVersionsInput) { in.MaxResults = aws.Int32(2) }))
	ec2OK(t, "DescribeLaunchTemplateVersions MaxResults", out)
	if len(res[0].LaunchTemplateVersions) != 2 || res[0].NextToken == nil || len(res[1].LaunchTemplateVersions) != 2 || res[1].NextToken != nil {
		t.Errorf("DescribeLaunchTemplateVersions MaxResults 2 of 3: local cloud %d and token %v (want 2, a token), moto %d and token %v (recorded: 2, none)",
			len(res[0].LaunchTemplateVersions), res[0].NextToken != nil, len(res[1].LaunchTemplateVersions), res[1].NextToken != nil)
	}
	if res[0].NextToken != nil {
		next, err := cs[ec2Local].DescribeLaunchTemplateVersions(bg, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(ltID[0]), MaxResults: aws.Int32(2), NextToken: res[0].NextToken})
		if err != nil || len(next.LaunchTemplateVersions) != 1 || next.NextToken != nil {
			t.Errorf("local cloud second page: %v, %+v", err, next)
		}
	}

	// A second template; every template's $Latest and $Default.
	_, out = ec2Each(t, cs, func(c *ec2.Client, s int) (*ec2.CreateLaunchTemplateOutput, error) {
		return c.CreateLaunchTemplate(bg, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("database"),
			LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(image[s]), InstanceType: ec2types.InstanceTypeR5Large}})
	})
	ec2OK(t, "CreateLaunchTemplate db", out)
	res, out = describe(func(int) *ec2.DescribeLaunchTemplateVersionsInput {
		return &ec2.DescribeLaunchTemplateVersionsInput{Versions: []string{"$Latest", "$Default"}}
	})
	ec2OK(t, "DescribeLaunchTemplateVersions all templates", out)
	// A template whose $Latest is its $Default: once on the local cloud,
	// twice on moto (recorded; AWS documents neither).
	if got := [2]string{ec2Versions(res[0]), ec2Versions(res[1])}; got[0] != "database:0001*,web:0001*,web:0003" || got[1] != "database:0001*,database:0001*,web:0001*,web:0003" {
		t.Errorf("DescribeLaunchTemplateVersions $Latest,$Default of every template: local cloud %s, moto %s", got[0], got[1])
	}
	_, out = describe(func(int) *ec2.DescribeLaunchTemplateVersionsInput {
		return &ec2.DescribeLaunchTemplateVersionsInput{Versions: []string{"1"}}
	})
	ec2Agree(t, "DescribeLaunchTemplateVersions numbers without a template", out)
	if out[0].Code != "InvalidParameterValue" {
		t.Errorf("DescribeLaunchTemplateVersions numbers without a template: %+v", out[0])
	}

	// ModifyLaunchTemplate's default version.
	mod, out := ec2Each(t, cs, func(c *ec2.Client, s int) (*ec2.ModifyLaunchTemplateOutput, error) {
		return c.ModifyLaunchTemplate(bg, &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String(ltID[s]), DefaultVersion: aws.String("2")})
	})
	ec2OK(t, "ModifyLaunchTemplate", out)
	ec2Same(t, "ModifyLaunchTemplate", [2]string{
		ec2Templates(&ec2.DescribeLaunchTemplatesOutput{LaunchTemplates: []ec2types.LaunchTemplate{*mod[0].LaunchTemplate}}),
		ec2Templates(&ec2.DescribeLaunchTemplatesOutput{LaunchTemplates: []ec2types.LaunchTemplate{*mod[1].LaunchTemplate}}),
	})
	res, out = describe(byID(func(in *ec2.DescribeLaunchTemplateVersionsInput) { in.Versions = []string{"$Default"} }))
	ec2OK(t, "DescribeLaunchTemplateVersions $Default after modify", out)
	ec2Same(t, "$Default after ModifyLaunchTemplate", [2]string{ec2Versions(res[0]), ec2Versions(res[1])})
	_, out = ec2Each(t, cs, func(c *ec2.Client, s int) (*ec2.ModifyLaunchTemplateOutput, error) {
		return c.ModifyLaunchTemplate(bg, &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String(ltID[s]), DefaultVersion: aws.String("99")})
	})
	ec2Agree(t, "ModifyLaunchTemplate unknown version", out)
	if out[0].Code != "InvalidLaunchTemplateId.VersionNotFound" {
		t.Errorf("ModifyLaunchTemplate unknown version: %+v", out[0])
	}
	_, out = ec2Each(t, cs, func(c *ec2.Client, s int) (*ec2.ModifyLaunchTemplateOutput, error) {
		return c.ModifyLaunchTemplate(bg, &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String("lt-0123456789abcdef0"), DefaultVersion: aws.String("1")})
	})
	ec2Want(t, "ModifyLaunchTemplate unknown id", out, outcome{"InvalidLaunchTemplateId.NotFound", 400}, outcome{"InvalidLaunchTemplateName.NotFoundException", 400})

	// Launching from a template version.
	run, out := ec2Each(t, cs, func(c *ec2.Client, s int) (*ec2.RunInstancesOutput, error) {
		return c.RunInstances(bg, &ec2.RunInstancesInput{MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			LaunchTemplate: &ec2types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("web"), Version: aws.String("1")}})
	})
	ec2OK(t, "RunInstances from template", out)
	ec2Same(t, "RunInstances from template version 1", [2]string{ec2Shape(run[0].Instances, image[0]), ec2Shape(run[1].Instances, image[1])})
	run, out = ec2Each(t, cs, func(c *ec2.Client, s int) (*ec2.RunInstancesOutput, error) {
		return c.RunInstances(bg, &ec2.RunInstancesInput{MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			LaunchTemplate: &ec2types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(ltID[s]), Version: aws.String("$Latest")}})
	})
	ec2OK(t, "RunInstances from template $Latest", out)
	ec2Same(t, "RunInstances from template $Latest", [2]string{ec2Shape(run[0].Instances, image[0]), ec2Shape(run[1].Instances, image[1])})

	// DescribeLaunchTemplates.
	lts := func(in func(s int) *ec2.DescribeLaunchTemplatesInput) ([2]*ec2.DescribeLaunchTemplatesOutput, [2]outcome) {
		return ec2Each(t, cs, func(c *ec2.Client, s int) (*ec2.DescribeLaunchTemplatesOutput, error) {
			return c.DescribeLaunchTemplates(bg, in(s))
		})
	}
	for _, c := range []struct {
		what string
		in   func(s int) *ec2.DescribeLaunchTemplatesInput
	}{
		{"all", func(int) *ec2.DescribeLaunchTemplatesInput { return &ec2.DescribeLaunchTemplatesInput{} }},
		{"by name", func(int) *ec2.DescribeLaunchTemplatesInput {
			return &ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{"database"}}
		}},
		{"by id", func(s int) *ec2.DescribeLaunchTemplatesInput {
			return &ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{ltID[s]}}
		}},
		{"name filter", func(int) *ec2.DescribeLaunchTemplatesInput {
			return &ec2.DescribeLaunchTemplatesInput{Filters: []ec2types.Filter{{Name: aws.String("launch-template-name"), Values: []string{"w*"}}}}
		}},
		{"tag filter", func(int) *ec2.DescribeLaunchTemplatesInput {
			return &ec2.DescribeLaunchTemplatesInput{Filters: []ec2types.Filter{{Name: aws.String("tag:team"), Values: []string{"a"}}}}
		}},
	} {
		res, out := lts(c.in)
		ec2OK(t, "DescribeLaunchTemplates "+c.what, out)
		ec2Same(t, "DescribeLaunchTemplates "+c.what, [2]string{ec2Templates(res[0]), ec2Templates(res[1])})
	}
	_, out = lts(func(int) *ec2.DescribeLaunchTemplatesInput {
		return &ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{"nope"}}
	})
	ec2Agree(t, "DescribeLaunchTemplates unknown name", out)
	if out[0].Code != "InvalidLaunchTemplateName.NotFoundException" {
		t.Errorf("DescribeLaunchTemplates unknown name: %+v", out[0])
	}
	r2, out := lts(func(int) *ec2.DescribeLaunchTemplatesInput {
		return &ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{"lt-0123456789abcdef0"}}
	})
	ec2Want(t, "DescribeLaunchTemplates unknown id", out, outcome{"InvalidLaunchTemplateId.NotFound", 400}, outcome{})
	if r2[1] == nil || len(r2[1].LaunchTemplates) != 0 {
		t.Errorf("moto DescribeLaunchTemplates unknown id: %+v; recorded: an empty list", r2[1])
	}
	_, out = lts(func(int) *ec2.DescribeLaunchTemplatesInput {
		return &ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{"lt-1"}}
	})
	ec2Want(t, "DescribeLaunchTemplates malformed id", out, outcome{"InvalidLaunchTemplateId.Malformed", 400}, outcome{})
	r2, out = lts(func(int) *ec2.DescribeLaunchTemplatesInput {
		return &ec2.DescribeLaunchTemplatesInput{MaxResults: aws.Int32(1)}
	})
	ec2OK(t, "DescribeLaunchTemplates MaxResults", out)
	ec2Same(t, "DescribeLaunchTemplates MaxResults 1, first page", [2]string{ec2Templates(r2[0]), ec2Templates(r2[1])})
	if r2[0].NextToken == nil || r2[1].NextToken != nil {
		t.Errorf("DescribeLaunchTemplates MaxResults 1 of 2: local cloud token %v (want one), moto %v (recorded: none)", r2[0].NextToken != nil, r2[1].NextToken != nil)
	}
	// Names of fewer than 3 characters (LaunchTemplateName: min 3).
	_, out = ec2Each(t, cs, func(c *ec2.Client, s int) (*ec2.CreateLaunchTemplateOutput, error) {
		return c.CreateLaunchTemplate(bg, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("db"),
			LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(image[s])}})
	})
	ec2Want(t, "CreateLaunchTemplate 2-character name", out, outcome{"InvalidLaunchTemplateName.MalformedException", 400}, outcome{})

	// DeleteLaunchTemplateVersions (moto does not serve it).
	dv, out := ec2Each(t, cs, func(c *ec2.Client, s int) (*ec2.DeleteLaunchTemplateVersionsOutput, error) {
		return c.DeleteLaunchTemplateVersions(bg, &ec2.DeleteLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(ltID[s]), Versions: []string{"3", "2", "99"}})
	})
	ec2WantServerFault(t, "DeleteLaunchTemplateVersions", out, outcome{})
	if d := dv[ec2Local]; d != nil {
		var ok, failed []string
		for _, v := range d.SuccessfullyDeletedLaunchTemplateVersions {
			ok = append(ok, itoa(aws.ToInt64(v.VersionNumber)))
		}
		for _, v := range d.UnsuccessfullyDeletedLaunchTemplateVersions {
			failed = append(failed, itoa(aws.ToInt64(v.VersionNumber))+":"+string(v.ResponseError.Code))
		}
		if strings.Join(ok, ",") != "3" || strings.Join(failed, ",") != "2:unexpectedError,99:launchTemplateVersionDoesNotExist" {
			t.Errorf("local cloud DeleteLaunchTemplateVersions 3,2(default),99: deleted %v, failed %v", ok, failed)
		}
	}

	// DeleteLaunchTemplate, by name and by id.
	del, out := ec2Each(t, cs, func(c *ec2.Client, s int) (*ec2.DeleteLaunchTemplateOutput, error) {
		return c.DeleteLaunchTemplate(bg, &ec2.DeleteLaunchTemplateInput{LaunchTemplateName: aws.String("web")})
	})
	ec2OK(t, "DeleteLaunchTemplate", out)
	for s := range del {
		lt := del[s].LaunchTemplate
		if aws.ToString(lt.LaunchTemplateId) != ltID[s] || aws.ToString(lt.LaunchTemplateName) != "web" {
			t.Errorf("%s DeleteLaunchTemplate: %+v", ec2SideName[s], lt)
		}
	}
	_, out = ec2Each(t, cs, func(c *ec2.Client, s int) (*ec2.DeleteLaunchTemplateOutput, error) {
		return c.DeleteLaunchTemplate(bg, &ec2.DeleteLaunchTemplateInput{LaunchTemplateName: aws.String("web")})
	})
	ec2Want(t, "DeleteLaunchTemplate unknown name", out, outcome{"InvalidLaunchTemplateName.NotFoundException", 400}, outcome{"MissingParameter", 400})
	_, out = ec2Each(t, cs, func(c *ec2.Client, s int) (*ec2.DeleteLaunchTemplateOutput, error) {
		return c.DeleteLaunchTemplate(bg, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: aws.String(ltID[s])})
	})
	ec2Want(t, "DeleteLaunchTemplate unknown id", out, outcome{"InvalidLaunchTemplateId.NotFound", 400}, outcome{"InvalidLaunchTemplateName.NotFoundException", 400})
	_, out = describe(byID(func(*ec2.DescribeLaunchTemplateVersionsInput) {}))
	ec2Agree(t, "DescribeLaunchTemplateVersions of a deleted template", out)
	if out[0].Code != "InvalidLaunchTemplateId.NotFound" {
		t.Errorf("DescribeLaunchTemplateVersions of a deleted template: %+v", out[0])
	}
}

// DescribeAvailabilityZones and DescribeInstanceTypes.
func TestEC2ZonesAndInstanceTypes(t *testing.T) {
	p := newPair(t)
	cs := ec2Clients(p)
	zones, out := ec2Each(t, cs, func(c *ec2.Client, _ int) (*ec2.DescribeAvailabilityZonesOutput, error) {
		return c.DescribeAvailabilityZones(bg, &ec2.DescribeAvailabilityZonesInput{})
	})
	ec2OK(t, "DescribeAvailabilityZones", out)
	zoneName := regexp.MustCompile(`^us-east-1[a-f]$`)
	zoneID := regexp.MustCompile(`^use1-az[1-6]$`)
	for s := range zones {
		if len(zones[s].AvailabilityZones) < 2 {
			t.Errorf("%s: %d zones, want at least 2", ec2SideName[s], len(zones[s].AvailabilityZones))
		}
		for _, z := range zones[s].AvailabilityZones {
			if !zoneName.MatchString(aws.ToString(z.ZoneName)) || !zoneID.MatchString(aws.ToString(z.ZoneId)) || z.State != ec2types.AvailabilityZoneStateAvailable ||
				aws.ToString(z.RegionName) != "us-east-1" {
				t.Errorf("%s zone %s/%s %s in %s", ec2SideName[s], aws.ToString(z.ZoneName), aws.ToString(z.ZoneId), z.State, aws.ToString(z.RegionName))
			}
		}
	}
	// By name and by filter.
	named, out := ec2Each(t, cs, func(c *ec2.Client, _ int) (*ec2.DescribeAvailabilityZonesOutput, error) {
		return c.DescribeAvailabilityZones(bg, &ec2.DescribeAvailabilityZonesInput{ZoneNames: []string{"us-east-1b"}})
	})
	ec2OK(t, "DescribeAvailabilityZones by name", out)
	ec2Same(t, "DescribeAvailabilityZones by name", [2]int{len(named[0].AvailabilityZones), len(named[1].AvailabilityZones)})
	filtered, out := ec2Each(t, cs, func(c *ec2.Client, _ int) (*ec2.DescribeAvailabilityZonesOutput, error) {
		return c.DescribeAvailabilityZones(bg, &ec2.DescribeAvailabilityZonesInput{Filters: []ec2types.Filter{{Name: aws.String("zone-name"), Values: []string{"us-east-1a", "us-east-1c"}}}})
	})
	ec2OK(t, "DescribeAvailabilityZones zone-name filter", out)
	ec2Same(t, "DescribeAvailabilityZones zone-name filter", [2]int{len(filtered[0].AvailabilityZones), len(filtered[1].AvailabilityZones)})
	_, out = ec2Each(t, cs, func(c *ec2.Client, _ int) (*ec2.DescribeAvailabilityZonesOutput, error) {
		return c.DescribeAvailabilityZones(bg, &ec2.DescribeAvailabilityZonesInput{ZoneNames: []string{"us-east-1z"}})
	})
	ec2Want(t, "DescribeAvailabilityZones unknown zone", out, outcome{"InvalidParameterValue", 400}, outcome{})

	types, out := ec2Each(t, cs, func(c *ec2.Client, _ int) (*ec2.DescribeInstanceTypesOutput, error) {
		return c.DescribeInstanceTypes(bg, &ec2.DescribeInstanceTypesInput{InstanceTypes: []ec2types.InstanceType{"t3.micro", "m7g.large", "c6g.xlarge"}})
	})
	ec2OK(t, "DescribeInstanceTypes", out)
	render := func(r *ec2.DescribeInstanceTypesOutput) string {
		var parts []string
		for _, it := range r.InstanceTypes {
			var archs []string
			for _, a := range it.ProcessorInfo.SupportedArchitectures {
				archs = append(archs, string(a))
			}
			sort.Strings(archs)
			parts = append(parts, string(it.InstanceType)+":"+itoa(int64(aws.ToInt32(it.VCpuInfo.DefaultVCpus)))+"cpu:"+itoa(aws.ToInt64(it.MemoryInfo.SizeInMiB))+"MiB:"+
				strings.Join(archs, "+")+":current="+strings.ToLower(strings.TrimSpace(map[bool]string{true: "true", false: "false"}[aws.ToBool(it.CurrentGeneration)]))+
				":burst="+map[bool]string{true: "true", false: "false"}[aws.ToBool(it.BurstablePerformanceSupported)])
		}
		sort.Strings(parts)
		return strings.Join(parts, " ")
	}
	ec2Same(t, "DescribeInstanceTypes", [2]string{render(types[0]), render(types[1])})
	// m5 is a current generation (moto's table says previous: recorded).
	m5, out := ec2Each(t, cs, func(c *ec2.Client, _ int) (*ec2.DescribeInstanceTypesOutput, error) {
		return c.DescribeInstanceTypes(bg, &ec2.DescribeInstanceTypesInput{InstanceTypes: []ec2types.InstanceType{"m5.large"}})
	})
	ec2OK(t, "DescribeInstanceTypes m5.large", out)
	if got := [2]string{render(m5[0]), render(m5[1])}; got[0] != "m5.large:2cpu:8192MiB:x86_64:current=true:burst=false" || got[1] != "m5.large:2cpu:8192MiB:x86_64:current=false:burst=false" {
		t.Errorf("m5.large: local cloud %s (want current=true), moto %s (recorded: current=false)", got[0], got[1])
	}
	arm, out := ec2Each(t, cs, func(c *ec2.Client, _ int) (*ec2.DescribeInstanceTypesOutput, error) {
		return c.DescribeInstanceTypes(bg, &ec2.DescribeInstanceTypesInput{InstanceTypes: []ec2types.InstanceType{"t3.micro", "m7g.large"},
			Filters: []ec2types.Filter{{Name: aws.String("processor-info.supported-architecture"), Values: []string{"arm64"}}}})
	})
	ec2OK(t, "DescribeInstanceTypes architecture filter", out)
	ec2Same(t, "DescribeInstanceTypes architecture filter", [2]string{render(arm[0]), render(arm[1])})
	_, out = ec2Each(t, cs, func(c *ec2.Client, _ int) (*ec2.DescribeInstanceTypesOutput, error) {
		return c.DescribeInstanceTypes(bg, &ec2.DescribeInstanceTypesInput{InstanceTypes: []ec2types.InstanceType{"t3.micro", "x9.huge"}})
	})
	ec2Agree(t, "DescribeInstanceTypes unknown type", out)
	if out[0].Code != "InvalidInstanceType" {
		t.Errorf("DescribeInstanceTypes unknown type: %+v", out[0])
	}
	pg, out := ec2Each(t, cs, func(c *ec2.Client, _ int) (*ec2.DescribeInstanceTypesOutput, error) {
		return c.DescribeInstanceTypes(bg, &ec2.DescribeInstanceTypesInput{MaxResults: aws.Int32(5)})
	})
	ec2OK(t, "DescribeInstanceTypes MaxResults", out)
	// moto ignores MaxResults and returns its whole table (recorded).
	if len(pg[0].InstanceTypes) != 5 || pg[0].NextToken == nil || len(pg[1].InstanceTypes) <= 5 || pg[1].NextToken != nil {
		t.Errorf("DescribeInstanceTypes MaxResults 5: local cloud %d, token %v (want 5, a token); moto %d, token %v (recorded: all, none)",
			len(pg[0].InstanceTypes), pg[0].NextToken != nil, len(pg[1].InstanceTypes), pg[1].NextToken != nil)
	}
}
