package sim

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func testTagsAreCreatedDeletedAndDescribedAcrossResourceTypes(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	img := e.image("app", "x86_64", nil)
	lt := e.template("web", img)
	inst := e.run(img, 1)[0]
	tag := func(k, v string) ec2types.Tag { return ec2types.Tag{Key: aws.String(k), Value: aws.String(v)} }
	_, err := e.ec2.CreateTags(e.ctx, &ec2.CreateTagsInput{Resources: []string{img, lt, inst}, Tags: []ec2types.Tag{tag("team", "web"), tag("tier", "")}})
	noErr(t, err)

	describe := func(filters ...ec2types.Filter) []string {
		t.Helper()
		out, err := e.ec2.DescribeTags(e.ctx, &ec2.DescribeTagsInput{Filters: filters})
		noErr(t, err)
		var got []string
		for _, d := range out.Tags {
			got = append(got, aws.ToString(d.ResourceId)+"/"+string(d.ResourceType)+"/"+aws.ToString(d.Key)+"="+aws.ToString(d.Value))
		}
		return got
	}
	f := func(name string, values ...string) ec2types.Filter {
		return ec2types.Filter{Name: aws.String(name), Values: values}
	}
	tests := []struct {
		rule    string
		filters []ec2types.Filter
		want    []string
	}{
		{"resource-type selects launch templates", []ec2types.Filter{f("resource-type", "launch-template")}, []string{lt + "/launch-template/team=web", lt + "/launch-template/tier="}},
		{"resource-id selects one resource", []ec2types.Filter{f("resource-id", inst), f("key", "team")}, []string{inst + "/instance/team=web"}},
		{"value selects by value across resources", []ec2types.Filter{f("value", "web")}, []string{img + "/image/team=web", lt + "/launch-template/team=web", inst + "/instance/team=web"}},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			if got := describe(tt.filters...); !sameIDs(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("a tag given with a different value is not deleted", func(t *testing.T) {
		_, err := e.ec2.DeleteTags(e.ctx, &ec2.DeleteTagsInput{Resources: []string{inst}, Tags: []ec2types.Tag{tag("team", "api")}})
		noErr(t, err)
		if got := describe(f("resource-id", inst), f("key", "team")); len(got) != 1 {
			t.Fatalf("got %v, want the tag kept", got)
		}
	})
	t.Run("a tag given without a value is deleted whatever its value", func(t *testing.T) {
		_, err := e.ec2.DeleteTags(e.ctx, &ec2.DeleteTagsInput{Resources: []string{inst}, Tags: []ec2types.Tag{{Key: aws.String("team")}}})
		noErr(t, err)
		if got := describe(f("resource-id", inst)); !sameIDs(got, []string{inst + "/instance/tier="}) {
			t.Fatalf("got %v, want only tier left", got)
		}
	})
	for _, tt := range []struct {
		rule string
		in   *ec2.CreateTagsInput
		code string
	}{
		{"a tag key starting with aws: is reserved", &ec2.CreateTagsInput{Resources: []string{inst}, Tags: []ec2types.Tag{tag("aws:x", "y")}}, "InvalidParameterValue"},
		{"an unknown instance is not found", &ec2.CreateTagsInput{Resources: []string{"i-0123456789abcdef0"}, Tags: []ec2types.Tag{tag("a", "b")}}, "InvalidInstanceID.NotFound"},
		{"an id of an unknown kind is invalid", &ec2.CreateTagsInput{Resources: []string{"vol-1"}, Tags: []ec2types.Tag{tag("a", "b")}}, "InvalidID"},
		{"tags are required", &ec2.CreateTagsInput{Resources: []string{inst}}, "MissingParameter"},
	} {
		t.Run(tt.rule, func(t *testing.T) {
			_, err := e.ec2.CreateTags(e.ctx, tt.in)
			wantAWSCode(t, err, tt.code)
		})
	}
	t.Run("a resource holds at most 50 tags", func(t *testing.T) {
		var many []ec2types.Tag
		for i := 0; i < 50; i++ {
			many = append(many, tag("k"+string(rune('A'+i%26))+string(rune('a'+i/26)), "v"))
		}
		_, err := e.ec2.CreateTags(e.ctx, &ec2.CreateTagsInput{Resources: []string{lt}, Tags: many})
		wantAWSCode(t, err, "TagLimitExceeded")
	})
}

func testDescribeInstanceTypesGivesEachFamilyItsArchitecture(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	tests := []struct {
		typ  ec2types.InstanceType
		arch string
	}{
		{"t3.micro", "x86_64"}, {"t3a.large", "x86_64"}, {"m5.xlarge", "x86_64"}, {"m6i.large", "x86_64"},
		{"c5.large", "x86_64"}, {"c6i.2xlarge", "x86_64"}, {"r5.large", "x86_64"},
		{"t4g.micro", "arm64"}, {"m6g.medium", "arm64"}, {"m7g.large", "arm64"}, {"c6g.large", "arm64"},
		{"c7g.xlarge", "arm64"}, {"r6g.large", "arm64"},
	}
	for _, tt := range tests {
		t.Run(string(tt.typ)+" supports "+tt.arch, func(t *testing.T) {
			out, err := e.ec2.DescribeInstanceTypes(e.ctx, &ec2.DescribeInstanceTypesInput{InstanceTypes: []ec2types.InstanceType{tt.typ}})
			noErr(t, err)
			archs := out.InstanceTypes[0].ProcessorInfo.SupportedArchitectures
			if len(archs) != 1 || string(archs[0]) != tt.arch {
				t.Fatalf("architectures %v, want [%s]", archs, tt.arch)
			}
		})
	}
	t.Run("an unknown instance type is refused", func(t *testing.T) {
		_, err := e.ec2.DescribeInstanceTypes(e.ctx, &ec2.DescribeInstanceTypesInput{InstanceTypes: []ec2types.InstanceType{"t3.gigantic"}})
		wantAWSCode(t, err, "InvalidInstanceType")
	})
	t.Run("the architecture filter lists only arm64 types", func(t *testing.T) {
		var tok *string
		for {
			out, err := e.ec2.DescribeInstanceTypes(e.ctx, &ec2.DescribeInstanceTypesInput{
				Filters:   []ec2types.Filter{{Name: aws.String("processor-info.supported-architecture"), Values: []string{"arm64"}}},
				NextToken: tok, MaxResults: aws.Int32(10),
			})
			noErr(t, err)
			for _, it := range out.InstanceTypes {
				if string(it.ProcessorInfo.SupportedArchitectures[0]) != "arm64" {
					t.Fatalf("%s listed for arm64", it.InstanceType)
				}
			}
			if tok = out.NextToken; tok == nil {
				break
			}
		}
	})
}

func testARegionHasThreeAvailableZones(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	out, err := e.ec2.DescribeAvailabilityZones(e.ctx, &ec2.DescribeAvailabilityZonesInput{})
	noErr(t, err)
	var names, ids []string
	for _, z := range out.AvailabilityZones {
		if z.State != ec2types.AvailabilityZoneStateAvailable || aws.ToString(z.RegionName) != ec2Region {
			t.Fatalf("zone %s is %s in %s", aws.ToString(z.ZoneName), z.State, aws.ToString(z.RegionName))
		}
		names = append(names, aws.ToString(z.ZoneName))
		ids = append(ids, aws.ToString(z.ZoneId))
	}
	if !sameIDs(names, []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}) || !sameIDs(ids, []string{"euw1-az1", "euw1-az2", "euw1-az3"}) {
		t.Fatalf("zones %v ids %v", names, ids)
	}
	_, err = e.ec2.DescribeAvailabilityZones(e.ctx, &ec2.DescribeAvailabilityZonesInput{ZoneNames: []string{"eu-west-1z"}})
	wantAWSCode(t, err, "InvalidParameterValue")
}

func testTheSameSeedGivesTheSameIdsAndEvents(t *testing.T, backend Backend) {
	scenario := func() []string {
		e := newEC2Env(t, backend)
		img := e.image("app", "x86_64", map[string]string{BehaviorTag: "fail-launch"})
		ids := e.run(img, 3)
		e.advance(time.Hour)
		var trace []string
		trace = append(trace, img)
		trace = append(trace, ids...)
		for _, ev := range e.w.Events() {
			trace = append(trace, ev.ID+" "+ev.DetailType+" "+ev.Time.String()+" "+string(ev.Detail))
		}
		return trace
	}
	a, b := scenario(), scenario()
	if len(a) != len(b) {
		t.Fatalf("runs differ in length: %d and %d", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("runs differ at %d: %q and %q", i, a[i], b[i])
		}
	}
}

func testAPICallsAreSafeWhileTheClockRuns(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	img := e.image("app", "x86_64", nil)
	tg, _ := e.setupALB("web", true, nil)
	ids := e.run(img, 4)
	e.register(tg, ids...)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 50; i++ {
			e.advance(10 * time.Second)
		}
	}()
	for i := 0; i < 50; i++ {
		_, err := e.ec2.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{})
		noErr(t, err)
		e.w.TargetGroupHealthCounts(ec2Region, tg)
		e.w.TargetGroupTraffic(ec2Region, tg)
	}
	<-done
	if healthy, _, _ := e.w.TargetGroupHealthCounts(ec2Region, tg); healthy != 4 {
		t.Fatalf("after 500 s %d targets are healthy, want 4", healthy)
	}
}

func testWildcardsMatchAsEC2FiltersDo(t *testing.T, backend Backend) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"web-*", "web-2026", true},
		{"web-*", "api-2026", false},
		{"*", "", true},
		{"web-?", "web-1", true},
		{"web-?", "web-12", false},
		{"*-2026-*", "web-2026-01", true},
		{`web\*`, "web*", true},
		{`web\*`, "web1", false},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"exact", "exact", true},
		{"exact", "exactly", false},
	}
	for _, tt := range tests {
		if got := wildcardMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("wildcardMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func FuzzWildcardMatch(f *testing.F) {
	f.Add("web-*", "web-1")
	f.Add(`a\`, "a")
	f.Add("**?*", "xy")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		// A pattern always matches itself when it has no special characters,
		// and matching never panics.
		got := wildcardMatch(pattern, s)
		if pattern == s && !containsAny(pattern, `*?\`) && !got {
			t.Fatalf("%q does not match itself", pattern)
		}
	})
}

func containsAny(s, chars string) bool {
	for _, c := range chars {
		for _, r := range s {
			if r == c {
				return true
			}
		}
	}
	return false
}
