package sim

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func testANewVersionInheritsItsSourceVersionAndOverridesWhatItNames(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	a := e.image("app-a", "x86_64", nil)
	b := e.image("app-b", "x86_64", nil)
	lt, err := e.ec2.CreateLaunchTemplate(e.ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String("web"),
		VersionDescription: aws.String("first"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{
			ImageId: aws.String(a), InstanceType: ec2types.InstanceTypeT3Micro, KeyName: aws.String("ops"),
			SecurityGroupIds: []string{"sg-0123456789abcdef0"},
		},
	})
	noErr(t, err)
	id := aws.ToString(lt.LaunchTemplate.LaunchTemplateId)
	if v := aws.ToInt64(lt.LaunchTemplate.LatestVersionNumber); v != 1 || aws.ToInt64(lt.LaunchTemplate.DefaultVersionNumber) != 1 {
		t.Fatalf("a new template has latest %d default %d, want 1 and 1", v, aws.ToInt64(lt.LaunchTemplate.DefaultVersionNumber))
	}
	v2, err := e.ec2.CreateLaunchTemplateVersion(e.ctx, &ec2.CreateLaunchTemplateVersionInput{
		LaunchTemplateId:   aws.String(id),
		SourceVersion:      aws.String("1"),
		VersionDescription: aws.String("new image"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(b)},
	})
	noErr(t, err)
	got := v2.LaunchTemplateVersion
	d := got.LaunchTemplateData
	if aws.ToInt64(got.VersionNumber) != 2 || aws.ToString(got.VersionDescription) != "new image" || aws.ToBool(got.DefaultVersion) {
		t.Fatalf("version %d %q default=%v, want 2 \"new image\" false", aws.ToInt64(got.VersionNumber), aws.ToString(got.VersionDescription), aws.ToBool(got.DefaultVersion))
	}
	if aws.ToString(d.ImageId) != b || d.InstanceType != ec2types.InstanceTypeT3Micro || aws.ToString(d.KeyName) != "ops" || len(d.SecurityGroupIds) != 1 {
		t.Fatalf("merged data = image %s type %s key %s groups %v; want the new image and the source's other members",
			aws.ToString(d.ImageId), d.InstanceType, aws.ToString(d.KeyName), d.SecurityGroupIds)
	}
	v3, err := e.ec2.CreateLaunchTemplateVersion(e.ctx, &ec2.CreateLaunchTemplateVersionInput{
		LaunchTemplateName: aws.String("web"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(a)},
	})
	noErr(t, err)
	if d := v3.LaunchTemplateVersion.LaunchTemplateData; d.InstanceType != "" || aws.ToString(d.KeyName) != "" {
		t.Fatalf("a version without SourceVersion inherited %s/%s; it must hold only what it names", d.InstanceType, aws.ToString(d.KeyName))
	}
}

func testAClientTokenMakesCreateLaunchTemplateVersionIdempotent(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	a := e.image("app-a", "x86_64", nil)
	b := e.image("app-b", "x86_64", nil)
	id := e.template("web", a)
	create := func(image string) (*ec2.CreateLaunchTemplateVersionOutput, error) {
		return e.ec2.CreateLaunchTemplateVersion(e.ctx, &ec2.CreateLaunchTemplateVersionInput{
			LaunchTemplateId: aws.String(id), SourceVersion: aws.String("$Latest"), ClientToken: aws.String("rollout-42"),
			LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(image)},
		})
	}
	first, err := create(b)
	noErr(t, err)
	again, err := create(b)
	noErr(t, err)
	if n1, n2 := aws.ToInt64(first.LaunchTemplateVersion.VersionNumber), aws.ToInt64(again.LaunchTemplateVersion.VersionNumber); n1 != 2 || n2 != 2 {
		t.Fatalf("retry made version %d after %d, want the same version 2", n2, n1)
	}
	_, err = create(a)
	wantAWSCode(t, err, "IdempotentParameterMismatch")
	out, err := e.ec2.DescribeLaunchTemplates(e.ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{id}})
	noErr(t, err)
	if v := aws.ToInt64(out.LaunchTemplates[0].LatestVersionNumber); v != 2 {
		t.Fatalf("latest version is %d after a retry and a mismatch, want 2", v)
	}
}

func testDescribeLaunchTemplateVersionsResolvesVersionSelectors(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	img := e.image("app", "x86_64", nil)
	id := e.template("web", img)
	for _, typ := range []ec2types.InstanceType{"t3.small", "t3.medium", "m5.large"} {
		_, err := e.ec2.CreateLaunchTemplateVersion(e.ctx, &ec2.CreateLaunchTemplateVersionInput{
			LaunchTemplateId: aws.String(id), SourceVersion: aws.String("1"),
			LaunchTemplateData: &ec2types.RequestLaunchTemplateData{InstanceType: typ},
		})
		noErr(t, err)
	}
	_, err := e.ec2.ModifyLaunchTemplate(e.ctx, &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String(id), DefaultVersion: aws.String("2")})
	noErr(t, err)
	tests := []struct {
		rule string
		in   ec2.DescribeLaunchTemplateVersionsInput
		want []int64
	}{
		{"without selectors every version is listed, newest first", ec2.DescribeLaunchTemplateVersionsInput{}, []int64{4, 3, 2, 1}},
		{"$Latest is the highest version", ec2.DescribeLaunchTemplateVersionsInput{Versions: []string{"$Latest"}}, []int64{4}},
		{"$Default is the version set by ModifyLaunchTemplate", ec2.DescribeLaunchTemplateVersionsInput{Versions: []string{"$Default"}}, []int64{2}},
		{"numbered versions are listed as asked", ec2.DescribeLaunchTemplateVersionsInput{Versions: []string{"1", "3"}}, []int64{3, 1}},
		{"MinVersion and MaxVersion bound a range", ec2.DescribeLaunchTemplateVersionsInput{MinVersion: aws.String("2"), MaxVersion: aws.String("3")}, []int64{3, 2}},
		{"the instance-type filter selects versions", ec2.DescribeLaunchTemplateVersionsInput{Filters: []ec2types.Filter{{Name: aws.String("instance-type"), Values: []string{"t3.*"}}}}, []int64{3, 2, 1}},
		{"the is-default-version filter selects the default", ec2.DescribeLaunchTemplateVersionsInput{Filters: []ec2types.Filter{{Name: aws.String("is-default-version"), Values: []string{"true"}}}}, []int64{2}},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			in := tt.in
			in.LaunchTemplateId = aws.String(id)
			out, err := e.ec2.DescribeLaunchTemplateVersions(e.ctx, &in)
			noErr(t, err)
			var got []int64
			for _, v := range out.LaunchTemplateVersions {
				got = append(got, aws.ToInt64(v.VersionNumber))
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got versions %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got versions %v, want %v", got, tt.want)
				}
			}
		})
	}
	t.Run("a version that does not exist is refused", func(t *testing.T) {
		_, err := e.ec2.DescribeLaunchTemplateVersions(e.ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(id), Versions: []string{"9"}})
		wantAWSCode(t, err, "InvalidLaunchTemplateId.VersionNotFound")
	})
	t.Run("without a template, $Latest describes every template's latest version", func(t *testing.T) {
		e.template("api", img)
		out, err := e.ec2.DescribeLaunchTemplateVersions(e.ctx, &ec2.DescribeLaunchTemplateVersionsInput{Versions: []string{"$Latest"}})
		noErr(t, err)
		if len(out.LaunchTemplateVersions) != 2 {
			t.Fatalf("got %d versions, want one per template", len(out.LaunchTemplateVersions))
		}
	})
}

func testALaunchTemplateVersionCannotBeDeletedWhileItIsTheDefault(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	img := e.image("app", "x86_64", nil)
	id := e.template("web", img)
	for i := 0; i < 2; i++ {
		_, err := e.ec2.CreateLaunchTemplateVersion(e.ctx, &ec2.CreateLaunchTemplateVersionInput{
			LaunchTemplateId: aws.String(id), LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(img)},
		})
		noErr(t, err)
	}
	out, err := e.ec2.DeleteLaunchTemplateVersions(e.ctx, &ec2.DeleteLaunchTemplateVersionsInput{
		LaunchTemplateId: aws.String(id), Versions: []string{"1", "3", "7"},
	})
	noErr(t, err)
	if len(out.SuccessfullyDeletedLaunchTemplateVersions) != 1 || aws.ToInt64(out.SuccessfullyDeletedLaunchTemplateVersions[0].VersionNumber) != 3 {
		t.Fatalf("deleted %v, want only version 3", out.SuccessfullyDeletedLaunchTemplateVersions)
	}
	failed := map[int64]ec2types.LaunchTemplateErrorCode{}
	for _, f := range out.UnsuccessfullyDeletedLaunchTemplateVersions {
		failed[aws.ToInt64(f.VersionNumber)] = f.ResponseError.Code
	}
	if failed[1] != ec2types.LaunchTemplateErrorCodeUnexpectedError || failed[7] != ec2types.LaunchTemplateErrorCodeLaunchTemplateVersionDoesNotExist || len(failed) != 2 {
		t.Fatalf("per-version errors = %v, want the default version (1) and the missing one (7)", failed)
	}
	lt, err := e.ec2.DescribeLaunchTemplates(e.ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{id}})
	noErr(t, err)
	if v := aws.ToInt64(lt.LaunchTemplates[0].LatestVersionNumber); v != 2 {
		t.Fatalf("after deleting version 3 the latest is %d, want 2", v)
	}
	next, err := e.ec2.CreateLaunchTemplateVersion(e.ctx, &ec2.CreateLaunchTemplateVersionInput{
		LaunchTemplateId: aws.String(id), LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(img)},
	})
	noErr(t, err)
	if n := aws.ToInt64(next.LaunchTemplateVersion.VersionNumber); n != 4 {
		t.Fatalf("the next version is %d, want 4: numbers are not reused", n)
	}
}

func testLaunchTemplateRequestsAreCheckedAsEC2ChecksThem(t *testing.T, backend Backend) {
	tests := []struct {
		rule string
		call func(e *ec2Env) error
		code string
	}{
		{"a template needs launch data", func(e *ec2Env) error {
			_, err := e.ec2.CreateLaunchTemplate(e.ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("web-2"), LaunchTemplateData: &ec2types.RequestLaunchTemplateData{}})
			return err
		}, "MissingParameter"},
		{"a template name has no spaces", func(e *ec2Env) error {
			_, err := e.ec2.CreateLaunchTemplate(e.ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("my web"), LaunchTemplateData: &ec2types.RequestLaunchTemplateData{InstanceType: "t3.micro"}})
			return err
		}, "InvalidLaunchTemplateName.MalformedException"},
		{"a template name is unique in the region", func(e *ec2Env) error {
			_, err := e.ec2.CreateLaunchTemplate(e.ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("web"), LaunchTemplateData: &ec2types.RequestLaunchTemplateData{InstanceType: "t3.micro"}})
			return err
		}, "InvalidLaunchTemplateName.AlreadyExistsException"},
		{"an instance type must exist", func(e *ec2Env) error {
			_, err := e.ec2.CreateLaunchTemplate(e.ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("web-3"), LaunchTemplateData: &ec2types.RequestLaunchTemplateData{InstanceType: "t3.colossal"}})
			return err
		}, "InvalidParameterValue"},
		{"an unknown template id is not found", func(e *ec2Env) error {
			_, err := e.ec2.DescribeLaunchTemplates(e.ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{"lt-0123456789abcdef0"}})
			return err
		}, "InvalidLaunchTemplateId.NotFound"},
		{"an unknown template name is not found", func(e *ec2Env) error {
			_, err := e.ec2.DescribeLaunchTemplates(e.ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{"nope"}})
			return err
		}, "InvalidLaunchTemplateName.NotFoundException"},
		{"a malformed template id is refused", func(e *ec2Env) error {
			_, err := e.ec2.DeleteLaunchTemplate(e.ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: aws.String("lt-1")})
			return err
		}, "InvalidLaunchTemplateId.Malformed"},
		{"the default version must exist", func(e *ec2Env) error {
			_, err := e.ec2.ModifyLaunchTemplate(e.ctx, &ec2.ModifyLaunchTemplateInput{LaunchTemplateName: aws.String("web"), DefaultVersion: aws.String("666")})
			return err
		}, "InvalidLaunchTemplateId.VersionNotFound"},
		{"a source version must exist", func(e *ec2Env) error {
			_, err := e.ec2.CreateLaunchTemplateVersion(e.ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateName: aws.String("web"), SourceVersion: aws.String("9"),
				LaunchTemplateData: &ec2types.RequestLaunchTemplateData{InstanceType: "t3.micro"}})
			return err
		}, "InvalidLaunchTemplateId.VersionNotFound"},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			e := newEC2Env(t, backend)
			e.template("web", e.image("app", "x86_64", nil))
			wantAWSCode(t, tt.call(e), tt.code)
		})
	}
}

func testDeletingALaunchTemplateRemovesItAndItsVersions(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	id := e.template("web", e.image("app", "x86_64", nil))
	_, err := e.ec2.DeleteLaunchTemplate(e.ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateName: aws.String("web")})
	noErr(t, err)
	_, err = e.ec2.DescribeLaunchTemplateVersions(e.ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(id)})
	wantAWSCode(t, err, "InvalidLaunchTemplateId.NotFound")
}
