package sim

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// imageSharingAPI is the slice of the EC2 client the launch permission
// rules use beyond EC2API, with the SDK's method signatures.
type imageSharingAPI interface {
	ModifyImageAttribute(context.Context, *ec2.ModifyImageAttributeInput, ...func(*ec2.Options)) (*ec2.ModifyImageAttributeOutput, error)
	DescribeImageAttribute(context.Context, *ec2.DescribeImageAttributeInput, ...func(*ec2.Options)) (*ec2.DescribeImageAttributeOutput, error)
	DisableImage(context.Context, *ec2.DisableImageInput, ...func(*ec2.Options)) (*ec2.DisableImageOutput, error)
	EnableImage(context.Context, *ec2.EnableImageInput, ...func(*ec2.Options)) (*ec2.EnableImageOutput, error)
}

var (
	_ imageSharingAPI = (*EC2)(nil)
	_ imageSharingAPI = (*ec2.Client)(nil)
)

// Accounts, an organization and an OU an image is shared with in the rules.
const (
	shareAccount = "210987654321"
	shareOrg     = "arn:aws:organizations::123456789012:organization/o-abcde12345"
	shareOU      = "arn:aws:organizations::123456789012:ou/o-abcde12345/ou-ab12-cdef3456"
)

// ImageSharingRules are the rules of an image's launch permissions:
// ModifyImageAttribute launchPermission in both its forms,
// DescribeImageAttribute launchPermission, Public following group "all",
// and the errors EC2 documents. TestImageSharingRules runs them in
// process; the external test package runs them over HTTP.
var ImageSharingRules = []Rule{
	{"AnImageIsSharedWithAccountsOrganizationsAndOUs", testAnImageIsSharedWithAccountsOrgsAndOUs},
	{"GroupAllMakesAnImagePublicAndItsRemovalPrivate", testGroupAllMakesAnImagePublic},
	{"TheOperationTypeFormAddsAndRemovesLikeLaunchPermission", testTheOperationTypeForm},
	{"ModifyImageAttributeRefusesWhatEC2Refuses", testModifyImageAttributeRefuses},
	{"OnlyTheOwnerReadsOrChangesLaunchPermissions", testOnlyTheOwnerSharesAnImage},
	{"DisablingAnImageRemovesEveryLaunchPermission", testDisablingAnImageRemovesLaunchPermissions},
}

// TestImageSharingRules runs ImageSharingRules against the models in
// process.
func TestImageSharingRules(t *testing.T) { RunRules(t, ImageSharingRules, InProcess) }

// sh returns the env's EC2 client as an imageSharingAPI.
func (e *ec2Env) sh() imageSharingAPI { return e.ec2.(imageSharingAPI) }

// share changes the image's launch permissions with LaunchPermission.
func (e *ec2Env) share(id string, add, remove []ec2types.LaunchPermission) error {
	_, err := e.sh().ModifyImageAttribute(e.ctx, &ec2.ModifyImageAttributeInput{
		ImageId: aws.String(id), LaunchPermission: &ec2types.LaunchPermissionModifications{Add: add, Remove: remove},
	})
	return err
}

// permissions returns the image's launch permissions, one string each:
// "group:all", "user:ID", "org:ARN" or "ou:ARN", in EC2's order.
func (e *ec2Env) permissions(id string) []string {
	e.t.Helper()
	out, err := e.sh().DescribeImageAttribute(e.ctx, &ec2.DescribeImageAttributeInput{
		ImageId: aws.String(id), Attribute: ec2types.ImageAttributeNameLaunchPermission,
	})
	if err != nil {
		e.t.Fatalf("DescribeImageAttribute launchPermission of %s: %v", id, err)
	}
	if aws.ToString(out.ImageId) != id {
		e.t.Fatalf("DescribeImageAttribute answered for %s, want %s", aws.ToString(out.ImageId), id)
	}
	got := []string{}
	for _, lp := range out.LaunchPermissions {
		switch {
		case lp.Group != "":
			got = append(got, "group:"+string(lp.Group))
		case lp.UserId != nil:
			got = append(got, "user:"+*lp.UserId)
		case lp.OrganizationArn != nil:
			got = append(got, "org:"+*lp.OrganizationArn)
		case lp.OrganizationalUnitArn != nil:
			got = append(got, "ou:"+*lp.OrganizationalUnitArn)
		default:
			e.t.Fatalf("an empty launch permission in %+v", out.LaunchPermissions)
		}
	}
	return got
}

// wantPermissions fails unless the image's launch permissions are want.
func (e *ec2Env) wantPermissions(id string, want ...string) {
	e.t.Helper()
	if want == nil {
		want = []string{}
	}
	if got := e.permissions(id); !slices.Equal(got, want) {
		e.t.Fatalf("launch permissions of %s = %v, want %v", id, got, want)
	}
}

func user(id string) ec2types.LaunchPermission {
	return ec2types.LaunchPermission{UserId: aws.String(id)}
}
func org(arn string) ec2types.LaunchPermission {
	return ec2types.LaunchPermission{OrganizationArn: aws.String(arn)}
}
func ou(arn string) ec2types.LaunchPermission {
	return ec2types.LaunchPermission{OrganizationalUnitArn: aws.String(arn)}
}

var public = ec2types.LaunchPermission{Group: ec2types.PermissionGroupAll}

func testAnImageIsSharedWithAccountsOrgsAndOUs(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	id := e.image("web-1", "x86_64", nil)
	e.wantPermissions(id)

	noErr(t, e.share(id, []ec2types.LaunchPermission{user(shareAccount), org(shareOrg), ou(shareOU)}, nil))
	e.wantPermissions(id, "user:"+shareAccount, "org:"+shareOrg, "ou:"+shareOU)
	if img := e.describeImage(id); aws.ToBool(img.Public) {
		t.Fatalf("an image shared with an account, an organization and an OU reads Public")
	}
	// Adding what is there, or removing what is not, changes nothing.
	noErr(t, e.share(id, []ec2types.LaunchPermission{user(shareAccount)}, []ec2types.LaunchPermission{user("111122223333")}))
	e.wantPermissions(id, "user:"+shareAccount, "org:"+shareOrg, "ou:"+shareOU)

	noErr(t, e.share(id, nil, []ec2types.LaunchPermission{user(shareAccount), ou(shareOU)}))
	e.wantPermissions(id, "org:"+shareOrg)
	noErr(t, e.share(id, nil, []ec2types.LaunchPermission{org(shareOrg)}))
	e.wantPermissions(id)
}

func testGroupAllMakesAnImagePublic(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	id := e.image("web-1", "x86_64", nil)
	other := e.image("web-2", "x86_64", nil)
	noErr(t, e.share(id, []ec2types.LaunchPermission{public, user(shareAccount)}, nil))
	e.wantPermissions(id, "group:all", "user:"+shareAccount)
	if img := e.describeImage(id); !aws.ToBool(img.Public) {
		t.Fatalf("an image shared with group all reads Public false")
	}
	isPublic := func(v string) []string {
		return e.listed(&ec2.DescribeImagesInput{Owners: []string{"self"}, Filters: []ec2types.Filter{{Name: aws.String("is-public"), Values: []string{v}}}})
	}
	if got := isPublic("true"); !slices.Equal(got, []string{id}) {
		t.Fatalf("is-public=true lists %v, want [%s]", got, id)
	}
	if got := isPublic("false"); !slices.Equal(got, []string{other}) {
		t.Fatalf("is-public=false lists %v, want [%s]", got, other)
	}

	noErr(t, e.share(id, nil, []ec2types.LaunchPermission{public}))
	e.wantPermissions(id, "user:"+shareAccount)
	if img := e.describeImage(id); aws.ToBool(img.Public) {
		t.Fatalf("an image whose group all was removed reads Public")
	}
}

func testTheOperationTypeForm(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	id := e.image("web-1", "x86_64", nil)
	_, err := e.sh().ModifyImageAttribute(e.ctx, &ec2.ModifyImageAttributeInput{
		ImageId: aws.String(id), Attribute: aws.String("launchPermission"), OperationType: ec2types.OperationTypeAdd,
		UserIds: []string{shareAccount}, UserGroups: []string{"all"}, OrganizationArns: []string{shareOrg}, OrganizationalUnitArns: []string{shareOU},
	})
	noErr(t, err)
	e.wantPermissions(id, "group:all", "user:"+shareAccount, "org:"+shareOrg, "ou:"+shareOU)
	_, err = e.sh().ModifyImageAttribute(e.ctx, &ec2.ModifyImageAttributeInput{
		ImageId: aws.String(id), Attribute: aws.String("launchPermission"), OperationType: ec2types.OperationTypeRemove,
		UserIds: []string{shareAccount}, UserGroups: []string{"all"},
	})
	noErr(t, err)
	e.wantPermissions(id, "org:"+shareOrg, "ou:"+shareOU)
	if img := e.describeImage(id); aws.ToBool(img.Public) {
		t.Fatalf("Public after removing group all with OperationType")
	}
}

func testModifyImageAttributeRefuses(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	id := e.image("web-1", "x86_64", nil)
	modify := func(in *ec2.ModifyImageAttributeInput) error {
		if in.ImageId == nil {
			in.ImageId = aws.String(id)
		}
		_, err := e.sh().ModifyImageAttribute(e.ctx, in)
		return err
	}
	add := func(lp ...ec2types.LaunchPermission) *ec2.ModifyImageAttributeInput {
		return &ec2.ModifyImageAttributeInput{LaunchPermission: &ec2types.LaunchPermissionModifications{Add: lp}}
	}
	cases := []struct {
		name     string
		in       *ec2.ModifyImageAttributeInput
		code     string
		fragment string
	}{
		{"an image that does not exist", &ec2.ModifyImageAttributeInput{ImageId: aws.String("ami-0123456789abcdef0"), LaunchPermission: add(user(shareAccount)).LaunchPermission}, "InvalidAMIID.NotFound", "ami-0123456789abcdef0"},
		{"a malformed image id", &ec2.ModifyImageAttributeInput{ImageId: aws.String("image-1"), LaunchPermission: add(user(shareAccount)).LaunchPermission}, "InvalidAMIID.Malformed", "image-1"},
		{"no image id", &ec2.ModifyImageAttributeInput{ImageId: aws.String(""), LaunchPermission: add(user(shareAccount)).LaunchPermission}, "MissingParameter", "imageId"},
		{"an account id with hyphens", add(user("2109-8765-4321")), "InvalidAMIAttributeItemValue", "2109-8765-4321"},
		{"an account id of 11 digits", add(user("21098765432")), "InvalidAMIAttributeItemValue", "21098765432"},
		{"a group other than all", add(ec2types.LaunchPermission{Group: "everyone"}), "InvalidAMIAttributeItemValue", "everyone"},
		{"a malformed organization ARN", add(org("o-abcde12345")), "InvalidAMIAttributeItemValue", "o-abcde12345"},
		{"a malformed OU ARN", add(ou(shareOrg)), "InvalidAMIAttributeItemValue", shareOrg},
		{"the owner adding itself", add(user(e.w.Account())), "InvalidAMIAttributeItemValue", e.w.Account()},
		{"an item naming two grantees", add(ec2types.LaunchPermission{UserId: aws.String(shareAccount), OrganizationArn: aws.String(shareOrg)}), "InvalidParameterValue", "exactly one"},
		{"no change at all", &ec2.ModifyImageAttributeInput{Attribute: aws.String("launchPermission")}, "MissingParameter", "launchPermission"},
		{"both forms at once", &ec2.ModifyImageAttributeInput{Attribute: aws.String("launchPermission"), OperationType: ec2types.OperationTypeAdd, UserIds: []string{shareAccount}, LaunchPermission: add(user(shareAccount)).LaunchPermission}, "InvalidParameterCombination", "LaunchPermission"},
		{"UserIds without Attribute launchPermission", &ec2.ModifyImageAttributeInput{OperationType: ec2types.OperationTypeAdd, UserIds: []string{shareAccount}}, "InvalidParameterCombination", "launchPermission"},
		{"UserIds without OperationType", &ec2.ModifyImageAttributeInput{Attribute: aws.String("launchPermission"), UserIds: []string{shareAccount}}, "MissingParameter", "operationType"},
		{"an unknown OperationType", &ec2.ModifyImageAttributeInput{Attribute: aws.String("launchPermission"), OperationType: "replace", UserIds: []string{shareAccount}}, "InvalidParameterValue", "replace"},
		{"an unknown attribute", &ec2.ModifyImageAttributeInput{Attribute: aws.String("kernel")}, "InvalidParameterValue", "kernel"},
		{"the description attribute, not modelled", &ec2.ModifyImageAttributeInput{Description: &ec2types.AttributeValue{Value: aws.String("x")}}, "InvalidParameterValue", "does not model"},
		{"ProductCodes, not modelled", &ec2.ModifyImageAttributeInput{ProductCodes: []string{"abc"}}, "InvalidParameterValue", "ProductCodes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, modify(tc.in), tc.code, tc.fragment)
		})
	}
	e.wantPermissions(id)
	dry := add(public)
	dry.DryRun = aws.Bool(true)
	wantAWSCode(t, modify(dry), "DryRunOperation")
	e.wantPermissions(id)
	if img := e.describeImage(id); aws.ToBool(img.Public) {
		t.Fatalf("a DryRun made the image public")
	}
	_, err := e.ec2.DescribeImages(e.ctx, &ec2.DescribeImagesInput{ExecutableUsers: []string{"self"}})
	wantCode(t, err, "InvalidParameterValue", "ExecutableUsers")
}

func testOnlyTheOwnerSharesAnImage(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	foreign, err := e.w.AddImage(ec2Region, ImageSpec{Name: "someone-elses", OwnerID: shareAccount, Available: true})
	noErr(t, err)
	wantAWSCode(t, e.share(foreign, []ec2types.LaunchPermission{user("111122223333")}, nil), "AuthFailure")
	_, err = e.sh().DescribeImageAttribute(e.ctx, &ec2.DescribeImageAttributeInput{ImageId: aws.String(foreign), Attribute: ec2types.ImageAttributeNameLaunchPermission})
	wantAWSCode(t, err, "AuthFailure")
	_, err = e.sh().DescribeImageAttribute(e.ctx, &ec2.DescribeImageAttributeInput{ImageId: aws.String("ami-0123456789abcdef0"), Attribute: ec2types.ImageAttributeNameLaunchPermission})
	wantAWSCode(t, err, "InvalidAMIID.NotFound")
}

func testDisablingAnImageRemovesLaunchPermissions(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	id := e.image("web-1", "x86_64", nil)
	noErr(t, e.share(id, []ec2types.LaunchPermission{public, user(shareAccount), org(shareOrg)}, nil))
	_, err := e.sh().DisableImage(e.ctx, &ec2.DisableImageInput{ImageId: aws.String(id)})
	noErr(t, err)
	e.wantPermissions(id)
	if img := e.describeImage(id); aws.ToBool(img.Public) {
		t.Fatalf("a disabled image reads Public")
	}
	wantAWSCode(t, e.share(id, []ec2types.LaunchPermission{user(shareAccount)}, nil), "IncorrectState")
	noErr(t, e.share(id, nil, []ec2types.LaunchPermission{user(shareAccount)}))
	_, err = e.sh().EnableImage(e.ctx, &ec2.EnableImageInput{ImageId: aws.String(id)})
	noErr(t, err)
	e.wantPermissions(id)
	noErr(t, e.share(id, []ec2types.LaunchPermission{ou(shareOU)}, nil))
	e.wantPermissions(id, "ou:"+shareOU)
}
