package sim

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// ImageReferenceRules are the rules of DescribeImageReferences and of the
// limits of DeleteLaunchTemplateVersions that issue 17 (retiring old AMIs
// and launch template versions) relies on. TestImageReferenceRules runs
// them in process; the external test package runs them over HTTP.
var ImageReferenceRules = []Rule{
	{"InstancesInEveryStateReferenceTheirImageUnlessStateNameNarrows", testInstancesInEveryStateReferenceTheirImageUnlessStateNameNarrows},
	{"ALaunchTemplateReferencesAnImageNamedByOneOfItsMostRecentVersions", testALaunchTemplateReferencesAnImageNamedByOneOfItsMostRecentVersions},
	{"ResourceTypesChoosesWhatIsCheckedAndIncludeAllChecksEverything", testResourceTypesChoosesWhatIsCheckedAndIncludeAllChecksEverything},
	{"DescribeImageReferencesRefusesWhatAWSRefuses", testDescribeImageReferencesRefusesWhatAWSRefuses},
	{"DescribeImageReferencesPagesThroughReferences", testDescribeImageReferencesPagesThroughReferences},
	{"DeleteLaunchTemplateVersionsTakesAtMost200Versions", testDeleteLaunchTemplateVersionsTakesAtMost200Versions},
	{"DeleteLaunchTemplateVersionsReportsEachFailureAndDeletesTheRest", testDeleteLaunchTemplateVersionsReportsEachFailureAndDeletesTheRest},
}

// TestImageReferenceRules runs ImageReferenceRules against the models in
// process.
func TestImageReferenceRules(t *testing.T) { RunRules(t, ImageReferenceRules, InProcess) }

// imageReferencer is DescribeImageReferences with the SDK's signature;
// *EC2 and *ec2.Client both have it.
type imageReferencer interface {
	DescribeImageReferences(context.Context, *ec2.DescribeImageReferencesInput, ...func(*ec2.Options)) (*ec2.DescribeImageReferencesOutput, error)
}

var (
	_ imageReferencer = (*EC2)(nil)
	_ imageReferencer = (*ec2.Client)(nil)
)

// refs calls DescribeImageReferences through the environment's client.
func (e *ec2Env) refs(in *ec2.DescribeImageReferencesInput) (*ec2.DescribeImageReferencesOutput, error) {
	c, ok := e.ec2.(imageReferencer)
	if !ok {
		e.t.Fatalf("the EC2 client %T has no DescribeImageReferences", e.ec2)
	}
	return c.DescribeImageReferences(e.ctx, in)
}

// refList renders references as "type arn" lines, in the order answered.
func refList(out *ec2.DescribeImageReferencesOutput) []string {
	var s []string
	for _, r := range out.ImageReferences {
		s = append(s, aws.ToString(r.ImageId)+" "+string(r.ResourceType)+" "+aws.ToString(r.Arn))
	}
	return s
}

// wantRefs fails unless out lists exactly want, in that order.
func wantRefs(t *testing.T, what string, out *ec2.DescribeImageReferencesOutput, want ...string) {
	t.Helper()
	if got := refList(out); !slices.Equal(got, want) {
		t.Fatalf("%s: references\n  %q\nwant\n  %q", what, got, want)
	}
}

func ref(image string, typ ec2types.ImageReferenceResourceType, arn string) string {
	return image + " " + string(typ) + " " + arn
}

func (e *ec2Env) instanceRef(image, id string) string {
	return ref(image, ec2types.ImageReferenceResourceTypeEc2Instance, fmt.Sprintf("arn:aws:ec2:%s:%s:instance/%s", ec2Region, e.w.Account(), id))
}

func (e *ec2Env) templateRef(image, id string) string {
	return ref(image, ec2types.ImageReferenceResourceTypeEc2LaunchTemplate, fmt.Sprintf("arn:aws:ec2:%s:%s:launch-template/%s", ec2Region, e.w.Account(), id))
}

// SetInstanceState puts an instance of region in state without an API
// call: the local cloud serves no StopInstances, and a rule needs a
// stopped instance. For tests only.
func SetInstanceState(t testing.TB, w *World, region, id, state string) {
	t.Helper()
	w.Lock()
	defer w.Unlock()
	inst, ok := w.region(region).Instances[id]
	if !ok {
		t.Fatalf("no instance %s in %s", id, region)
	}
	if inst.timer != nil {
		inst.timer.Stop()
		inst.timer = nil
	}
	inst.State = state
}

// stateOption is the ec2:Instance ResourceTypeRequest with state-name.
func stateOption(states ...string) ec2types.ResourceTypeRequest {
	return ec2types.ResourceTypeRequest{
		ResourceType:        ec2types.ImageReferenceResourceTypeEc2Instance,
		ResourceTypeOptions: []ec2types.ResourceTypeOption{{OptionName: ec2types.ImageReferenceOptionNameStateName, OptionValues: states}},
	}
}

// depthOption is the ec2:LaunchTemplate ResourceTypeRequest with
// version-depth.
func depthOption(depth string) ec2types.ResourceTypeRequest {
	return ec2types.ResourceTypeRequest{
		ResourceType:        ec2types.ImageReferenceResourceTypeEc2LaunchTemplate,
		ResourceTypeOptions: []ec2types.ResourceTypeOption{{OptionName: ec2types.ImageReferenceOptionNameVersionDepth, OptionValues: []string{depth}}},
	}
}

// sortedInstanceRefs returns instance references ordered by ARN, as the
// model answers them.
func (e *ec2Env) sortedInstanceRefs(image string, ids ...string) []string {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	var out []string
	for _, id := range ids {
		out = append(out, e.instanceRef(image, id))
	}
	return out
}

func testInstancesInEveryStateReferenceTheirImageUnlessStateNameNarrows(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	img := e.image("app", "x86_64", nil)
	unused := e.image("unused", "x86_64", nil)
	ids := e.run(img, 3)
	running, stopped, terminated := ids[0], ids[1], ids[2]
	e.advance(DefaultEC2Config().PendingTime)
	SetInstanceState(t, e.w, ec2Region, stopped, InstanceStopped)
	_, err := e.ec2.TerminateInstances(e.ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{terminated}})
	noErr(t, err)
	e.advance(DefaultEC2Config().ShutdownTime)
	if s := e.state(terminated); s != InstanceTerminated {
		t.Fatalf("instance %s is %s, want terminated", terminated, s)
	}
	instances := []ec2types.ResourceTypeRequest{{ResourceType: ec2types.ImageReferenceResourceTypeEc2Instance}}

	out, err := e.refs(&ec2.DescribeImageReferencesInput{ImageIds: []string{img}, ResourceTypes: instances})
	noErr(t, err)
	wantRefs(t, "every state by default", out, e.sortedInstanceRefs(img, running, stopped, terminated)...)
	if out.NextToken != nil {
		t.Fatalf("a complete answer has NextToken %q", aws.ToString(out.NextToken))
	}

	out, err = e.refs(&ec2.DescribeImageReferencesInput{ImageIds: []string{img}, ResourceTypes: []ec2types.ResourceTypeRequest{stateOption("running")}})
	noErr(t, err)
	wantRefs(t, "state-name running", out, e.instanceRef(img, running))

	out, err = e.refs(&ec2.DescribeImageReferencesInput{ImageIds: []string{img}, ResourceTypes: []ec2types.ResourceTypeRequest{stateOption("stopped", "terminated")}})
	noErr(t, err)
	wantRefs(t, "state-name stopped and terminated", out, e.sortedInstanceRefs(img, stopped, terminated)...)

	out, err = e.refs(&ec2.DescribeImageReferencesInput{ImageIds: []string{unused}, IncludeAllResourceTypes: aws.Bool(true)})
	noErr(t, err)
	wantRefs(t, "an image nothing uses", out)

	// A terminated instance is forgotten once EC2 stops listing it.
	e.advance(DefaultEC2Config().TerminatedVisible)
	out, err = e.refs(&ec2.DescribeImageReferencesInput{ImageIds: []string{img}, ResourceTypes: instances})
	noErr(t, err)
	wantRefs(t, "after the terminated instance vanished", out, e.sortedInstanceRefs(img, running, stopped)...)
}

// version adds a version naming image to template id.
func (e *ec2Env) version(id, image string) {
	e.t.Helper()
	_, err := e.ec2.CreateLaunchTemplateVersion(e.ctx, &ec2.CreateLaunchTemplateVersionInput{
		LaunchTemplateId: aws.String(id), LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(image)},
	})
	if err != nil {
		e.t.Fatalf("CreateLaunchTemplateVersion %s: %v", id, err)
	}
}

func testALaunchTemplateReferencesAnImageNamedByOneOfItsMostRecentVersions(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	a := e.image("app-a", "x86_64", nil)
	b := e.image("app-b", "x86_64", nil)
	web := e.template("web", a) // version 1: a
	e.version(web, a)           // version 2: a
	e.version(web, b)           // version 3: b ($Latest), the default stays 1
	old := e.template("old", a) // version 1: a, then ten versions of b
	for range 10 {
		e.version(old, b)
	}
	templates := []ec2types.ResourceTypeRequest{{ResourceType: ec2types.ImageReferenceResourceTypeEc2LaunchTemplate}}

	out, err := e.refs(&ec2.DescribeImageReferencesInput{ImageIds: []string{a, b}, ResourceTypes: templates})
	noErr(t, err)
	// Two versions of web name a: one reference, the template's ARN. The
	// default depth of 10 does not reach version 1 of old, its eleventh
	// most recent.
	wantB := []string{e.templateRef(b, web), e.templateRef(b, old)}
	slices.Sort(wantB)
	wantRefs(t, "default version-depth", out, append([]string{e.templateRef(a, web)}, wantB...)...)

	out, err = e.refs(&ec2.DescribeImageReferencesInput{ImageIds: []string{a}, ResourceTypes: []ec2types.ResourceTypeRequest{depthOption("11")}})
	noErr(t, err)
	wantA := []string{e.templateRef(a, web), e.templateRef(a, old)}
	slices.Sort(wantA)
	wantRefs(t, "version-depth 11", out, wantA...)

	// Depth 1 checks $Latest alone: web's version 3 names b, not a.
	out, err = e.refs(&ec2.DescribeImageReferencesInput{ImageIds: []string{a}, ResourceTypes: []ec2types.ResourceTypeRequest{depthOption("1")}})
	noErr(t, err)
	wantRefs(t, "version-depth 1", out)

	// Deleted versions are not counted: with 3 deleted, web's two most
	// recent versions are 2 and 1, both naming a.
	_, err = e.ec2.DeleteLaunchTemplateVersions(e.ctx, &ec2.DeleteLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(web), Versions: []string{"3"}})
	noErr(t, err)
	out, err = e.refs(&ec2.DescribeImageReferencesInput{ImageIds: []string{a, b}, ResourceTypes: []ec2types.ResourceTypeRequest{depthOption("1")}})
	noErr(t, err)
	wantRefs(t, "version-depth 1 after deleting version 3", out, e.templateRef(a, web), e.templateRef(b, old))
}

func testResourceTypesChoosesWhatIsCheckedAndIncludeAllChecksEverything(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	img := e.image("app", "x86_64", nil)
	lt := e.template("web", img)
	ids := e.run(img, 1)
	e.advance(DefaultEC2Config().PendingTime)
	inst, tmpl := e.instanceRef(img, ids[0]), e.templateRef(img, lt)

	out, err := e.refs(&ec2.DescribeImageReferencesInput{ImageIds: []string{img}, ResourceTypes: []ec2types.ResourceTypeRequest{{ResourceType: ec2types.ImageReferenceResourceTypeEc2LaunchTemplate}}})
	noErr(t, err)
	wantRefs(t, "launch templates only", out, tmpl)

	out, err = e.refs(&ec2.DescribeImageReferencesInput{ImageIds: []string{img}, ResourceTypes: []ec2types.ResourceTypeRequest{
		{ResourceType: ec2types.ImageReferenceResourceTypeImageBuilderImageRecipe},
		{ResourceType: ec2types.ImageReferenceResourceTypeImageBuilderContainerRecipe},
	}})
	noErr(t, err)
	wantRefs(t, "Image Builder recipes (not modelled)", out)

	out, err = e.refs(&ec2.DescribeImageReferencesInput{ImageIds: []string{img}, IncludeAllResourceTypes: aws.Bool(true)})
	noErr(t, err)
	wantRefs(t, "IncludeAllResourceTypes", out, inst, tmpl)

	// ResourceTypes with options overrides IncludeAllResourceTypes'
	// defaults for its type and leaves the other types checked.
	out, err = e.refs(&ec2.DescribeImageReferencesInput{ImageIds: []string{img}, IncludeAllResourceTypes: aws.Bool(true),
		ResourceTypes: []ec2types.ResourceTypeRequest{stateOption("stopped")}})
	noErr(t, err)
	wantRefs(t, "IncludeAllResourceTypes with state-name stopped", out, tmpl)

	// IncludeAllResourceTypes false is not a choice of types.
	_, err = e.refs(&ec2.DescribeImageReferencesInput{ImageIds: []string{img}, IncludeAllResourceTypes: aws.Bool(false)})
	wantAWSCode(t, err, "MissingParameter")

	// An image asked twice is answered once.
	out, err = e.refs(&ec2.DescribeImageReferencesInput{ImageIds: []string{img, img}, IncludeAllResourceTypes: aws.Bool(true)})
	noErr(t, err)
	wantRefs(t, "an image asked twice", out, inst, tmpl)

	// DryRun answers DryRunOperation once the request is valid.
	_, err = e.refs(&ec2.DescribeImageReferencesInput{ImageIds: []string{img}, IncludeAllResourceTypes: aws.Bool(true), DryRun: aws.Bool(true)})
	wantAWSCode(t, err, "DryRunOperation")
	if s := errHTTPStatus(err); s != http.StatusPreconditionFailed {
		t.Fatalf("DryRunOperation came with HTTP %d, want 412", s)
	}
}

func testDescribeImageReferencesRefusesWhatAWSRefuses(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	img := e.image("app", "x86_64", nil)
	all := aws.Bool(true)
	eleven := make([]string, 11)
	for i := range eleven {
		eleven[i] = fmt.Sprintf("ami-%017x", i+1)
	}
	option := func(typ ec2types.ImageReferenceResourceType, name ec2types.ImageReferenceOptionName, values ...string) []ec2types.ResourceTypeRequest {
		return []ec2types.ResourceTypeRequest{{ResourceType: typ, ResourceTypeOptions: []ec2types.ResourceTypeOption{{OptionName: name, OptionValues: values}}}}
	}
	tests := []struct {
		rule string
		in   *ec2.DescribeImageReferencesInput
		code string
	}{
		{"ImageIds is required", &ec2.DescribeImageReferencesInput{IncludeAllResourceTypes: all}, "MissingParameter"},
		{"at most 10 image ids", &ec2.DescribeImageReferencesInput{ImageIds: eleven, IncludeAllResourceTypes: all}, "InvalidParameterValue"},
		{"a malformed image id", &ec2.DescribeImageReferencesInput{ImageIds: []string{img, "ami-xyz"}, IncludeAllResourceTypes: all}, "InvalidAMIID.Malformed"},
		{"an unknown image id", &ec2.DescribeImageReferencesInput{ImageIds: []string{"ami-0123456789abcdef0"}, IncludeAllResourceTypes: all}, "InvalidAMIID.NotFound"},
		{"IncludeAllResourceTypes or ResourceTypes is required", &ec2.DescribeImageReferencesInput{ImageIds: []string{img}}, "MissingParameter"},
		{"an unknown resource type", &ec2.DescribeImageReferencesInput{ImageIds: []string{img}, ResourceTypes: []ec2types.ResourceTypeRequest{{ResourceType: "ec2:Volume"}}}, "InvalidParameterValue"},
		{"a resource type asked twice", &ec2.DescribeImageReferencesInput{ImageIds: []string{img}, ResourceTypes: []ec2types.ResourceTypeRequest{
			{ResourceType: ec2types.ImageReferenceResourceTypeEc2Instance}, {ResourceType: ec2types.ImageReferenceResourceTypeEc2Instance}}}, "InvalidParameterValue"},
		{"options only for instances and launch templates", &ec2.DescribeImageReferencesInput{ImageIds: []string{img},
			ResourceTypes: option(ec2types.ImageReferenceResourceTypeSsmParameter, ec2types.ImageReferenceOptionNameStateName, "running")}, "InvalidParameterValue"},
		{"version-depth is a launch template option", &ec2.DescribeImageReferencesInput{ImageIds: []string{img},
			ResourceTypes: option(ec2types.ImageReferenceResourceTypeEc2Instance, ec2types.ImageReferenceOptionNameVersionDepth, "3")}, "InvalidParameterValue"},
		{"state-name is an instance option", &ec2.DescribeImageReferencesInput{ImageIds: []string{img},
			ResourceTypes: option(ec2types.ImageReferenceResourceTypeEc2LaunchTemplate, ec2types.ImageReferenceOptionNameStateName, "running")}, "InvalidParameterValue"},
		{"state-name takes instance states", &ec2.DescribeImageReferencesInput{ImageIds: []string{img}, ResourceTypes: []ec2types.ResourceTypeRequest{stateOption("running", "rebooting")}}, "InvalidParameterValue"},
		{"an option needs values", &ec2.DescribeImageReferencesInput{ImageIds: []string{img}, ResourceTypes: []ec2types.ResourceTypeRequest{stateOption()}}, "MissingParameter"},
		{"version-depth is at least 1", &ec2.DescribeImageReferencesInput{ImageIds: []string{img}, ResourceTypes: []ec2types.ResourceTypeRequest{depthOption("0")}}, "InvalidParameterValue"},
		{"version-depth is at most 10000", &ec2.DescribeImageReferencesInput{ImageIds: []string{img}, ResourceTypes: []ec2types.ResourceTypeRequest{depthOption("10001")}}, "InvalidParameterValue"},
		{"version-depth is an integer", &ec2.DescribeImageReferencesInput{ImageIds: []string{img}, ResourceTypes: []ec2types.ResourceTypeRequest{depthOption("ten")}}, "InvalidParameterValue"},
		{"MaxResults is at least 5", &ec2.DescribeImageReferencesInput{ImageIds: []string{img}, IncludeAllResourceTypes: all, MaxResults: aws.Int32(4)}, "InvalidParameterValue"},
		{"a token the cloud did not make", &ec2.DescribeImageReferencesInput{ImageIds: []string{img}, IncludeAllResourceTypes: all, NextToken: aws.String("not-a-token")}, "InvalidPaginationToken"},
	}
	for _, tc := range tests {
		t.Run(tc.rule, func(t *testing.T) {
			_, err := e.refs(tc.in)
			wantAWSCode(t, err, tc.code)
			if s := errHTTPStatus(err); s != http.StatusBadRequest {
				t.Fatalf("%s came with HTTP %d, want 400", tc.code, s)
			}
		})
	}
	// The boundaries themselves are accepted.
	for _, in := range []*ec2.DescribeImageReferencesInput{
		{ImageIds: []string{img}, IncludeAllResourceTypes: all, MaxResults: aws.Int32(5)},
		{ImageIds: []string{img}, ResourceTypes: []ec2types.ResourceTypeRequest{depthOption("1")}},
		{ImageIds: []string{img}, ResourceTypes: []ec2types.ResourceTypeRequest{depthOption("10000")}},
		{ImageIds: []string{img}, ResourceTypes: []ec2types.ResourceTypeRequest{stateOption("pending", "running", "shutting-down", "terminated", "stopping", "stopped")}},
	} {
		_, err := e.refs(in)
		noErr(t, err)
	}
}

func testDescribeImageReferencesPagesThroughReferences(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	img := e.image("app", "x86_64", nil)
	e.run(img, 6)
	e.template("web", img)
	in := &ec2.DescribeImageReferencesInput{ImageIds: []string{img}, IncludeAllResourceTypes: aws.Bool(true)}
	whole, err := e.refs(in)
	noErr(t, err)
	if n := len(whole.ImageReferences); n != 7 {
		t.Fatalf("%d references, want 6 instances and 1 template", n)
	}
	var paged []string
	pages := 0
	for tok := (*string)(nil); ; {
		out, err := e.refs(&ec2.DescribeImageReferencesInput{ImageIds: in.ImageIds, IncludeAllResourceTypes: in.IncludeAllResourceTypes, MaxResults: aws.Int32(5), NextToken: tok})
		noErr(t, err)
		pages++
		if len(out.ImageReferences) > 5 {
			t.Fatalf("page %d has %d references, more than MaxResults 5", pages, len(out.ImageReferences))
		}
		paged = append(paged, refList(out)...)
		if out.NextToken == nil {
			break
		}
		if pages > 3 {
			t.Fatal("pagination does not end")
		}
		tok = out.NextToken
	}
	if pages != 2 || !slices.Equal(paged, refList(whole)) {
		t.Fatalf("%d pages of\n  %q\nwant 2 pages of the whole answer\n  %q", pages, paged, refList(whole))
	}
}

// versions returns n version strings from 1.
func versions(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = strconv.Itoa(i + 1)
	}
	return out
}

func testDeleteLaunchTemplateVersionsTakesAtMost200Versions(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	img := e.image("app", "x86_64", nil)
	id := e.template("web", img)
	for range 3 {
		e.version(id, img)
	}
	_, err := e.ec2.DeleteLaunchTemplateVersions(e.ctx, &ec2.DeleteLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(id), Versions: versions(201)})
	wantAWSCode(t, err, "InvalidParameterValue")
	if s := errHTTPStatus(err); s != http.StatusBadRequest {
		t.Fatalf("201 versions came with HTTP %d, want 400", s)
	}
	lt, err := e.ec2.DescribeLaunchTemplateVersions(e.ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(id)})
	noErr(t, err)
	if n := len(lt.LaunchTemplateVersions); n != 4 {
		t.Fatalf("a refused call left %d versions, want all 4", n)
	}
	out, err := e.ec2.DeleteLaunchTemplateVersions(e.ctx, &ec2.DeleteLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(id), Versions: versions(200)})
	noErr(t, err)
	if n := len(out.SuccessfullyDeletedLaunchTemplateVersions); n != 3 {
		t.Fatalf("200 versions deleted %d, want versions 2-4", n)
	}
	if n := len(out.UnsuccessfullyDeletedLaunchTemplateVersions); n != 197 {
		t.Fatalf("200 versions reported %d failures, want the default (1) and 196 missing", n)
	}
}

func testDeleteLaunchTemplateVersionsReportsEachFailureAndDeletesTheRest(t *testing.T, backend Backend) {
	e := newEC2Env(t, backend)
	img := e.image("app", "x86_64", nil)
	only := e.template("only", img)
	// The default version, even when it is the only one, is never deleted.
	out, err := e.ec2.DeleteLaunchTemplateVersions(e.ctx, &ec2.DeleteLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(only), Versions: []string{"1"}})
	noErr(t, err)
	if len(out.SuccessfullyDeletedLaunchTemplateVersions) != 0 || len(out.UnsuccessfullyDeletedLaunchTemplateVersions) != 1 {
		t.Fatalf("deleting the only version: %d deleted, %d failed; want 0 and 1",
			len(out.SuccessfullyDeletedLaunchTemplateVersions), len(out.UnsuccessfullyDeletedLaunchTemplateVersions))
	}
	f := out.UnsuccessfullyDeletedLaunchTemplateVersions[0]
	if f.ResponseError == nil || f.ResponseError.Code != ec2types.LaunchTemplateErrorCodeUnexpectedError || aws.ToString(f.ResponseError.Message) == "" ||
		aws.ToInt64(f.VersionNumber) != 1 || aws.ToString(f.LaunchTemplateId) != only || aws.ToString(f.LaunchTemplateName) != "only" {
		t.Fatalf("the default version's failure = %+v %+v, want unexpectedError with a message, version 1, the template's id and name", f, f.ResponseError)
	}

	// A mix: the default (1), a version deleted (2), one that never existed
	// (9): one call, answered with HTTP 200 and both lists.
	web := e.template("web", img)
	e.version(web, img)
	e.version(web, img)
	out, err = e.ec2.DeleteLaunchTemplateVersions(e.ctx, &ec2.DeleteLaunchTemplateVersionsInput{LaunchTemplateName: aws.String("web"), Versions: []string{"1", "2", "9"}})
	noErr(t, err)
	if len(out.SuccessfullyDeletedLaunchTemplateVersions) != 1 {
		t.Fatalf("deleted %d versions, want version 2", len(out.SuccessfullyDeletedLaunchTemplateVersions))
	}
	s := out.SuccessfullyDeletedLaunchTemplateVersions[0]
	if aws.ToInt64(s.VersionNumber) != 2 || aws.ToString(s.LaunchTemplateId) != web || aws.ToString(s.LaunchTemplateName) != "web" {
		t.Fatalf("deleted %+v, want version 2 of web (%s)", s, web)
	}
	failed := map[int64]ec2types.LaunchTemplateErrorCode{}
	for _, f := range out.UnsuccessfullyDeletedLaunchTemplateVersions {
		failed[aws.ToInt64(f.VersionNumber)] = f.ResponseError.Code
	}
	want := map[int64]ec2types.LaunchTemplateErrorCode{1: ec2types.LaunchTemplateErrorCodeUnexpectedError, 9: ec2types.LaunchTemplateErrorCodeLaunchTemplateVersionDoesNotExist}
	if len(failed) != len(want) || failed[1] != want[1] || failed[9] != want[9] {
		t.Fatalf("per-version failures %v, want %v", failed, want)
	}
	// Deleting it again reports it missing.
	out, err = e.ec2.DeleteLaunchTemplateVersions(e.ctx, &ec2.DeleteLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(web), Versions: []string{"2"}})
	noErr(t, err)
	if len(out.UnsuccessfullyDeletedLaunchTemplateVersions) != 1 || out.UnsuccessfullyDeletedLaunchTemplateVersions[0].ResponseError.Code != ec2types.LaunchTemplateErrorCodeLaunchTemplateVersionDoesNotExist {
		t.Fatalf("a deleted version deleted again: %+v, want launchTemplateVersionDoesNotExist", out.UnsuccessfullyDeletedLaunchTemplateVersions)
	}
}

// fakeImageParameters is an ImageParameterSource for in-process tests.
type fakeImageParameters map[string][]string // image id -> ARNs

func (f fakeImageParameters) ImageParameterARNs(_, imageID string) []string {
	return slices.Clone(f[imageID])
}

// TestSSMParametersReferencingAnImageComeFromTheParameterSource checks the
// ssm:Parameter type against a stand-in for the Parameter Store; the
// external test package checks it against the real one over HTTP.
func TestSSMParametersReferencingAnImageComeFromTheParameterSource(t *testing.T) {
	e := newEC2Env(t, InProcess)
	img := e.image("app", "x86_64", nil)
	other := e.image("other", "x86_64", nil)
	ssmRef := func(name string) string {
		return ref(img, ec2types.ImageReferenceResourceTypeSsmParameter, "arn:aws:ssm:eu-west-1:123456789012:parameter/"+name)
	}
	all := &ec2.DescribeImageReferencesInput{ImageIds: []string{img, other}, IncludeAllResourceTypes: aws.Bool(true)}

	out, err := e.refs(all)
	noErr(t, err)
	wantRefs(t, "without a Parameter Store", out)

	e.w.Lock()
	e.w.ImageParameters = fakeImageParameters{img: {
		"arn:aws:ssm:eu-west-1:123456789012:parameter/golden/web",
		"arn:aws:ssm:eu-west-1:123456789012:parameter/golden/api",
	}}
	e.w.Unlock()
	lt := e.template("web", img)
	out, err = e.refs(all)
	noErr(t, err)
	wantRefs(t, "IncludeAllResourceTypes", out, e.templateRef(img, lt), ssmRef("golden/api"), ssmRef("golden/web"))

	out, err = e.refs(&ec2.DescribeImageReferencesInput{ImageIds: []string{img}, ResourceTypes: []ec2types.ResourceTypeRequest{{ResourceType: ec2types.ImageReferenceResourceTypeSsmParameter}}})
	noErr(t, err)
	wantRefs(t, "ssm:Parameter only", out, ssmRef("golden/api"), ssmRef("golden/web"))

	out, err = e.refs(&ec2.DescribeImageReferencesInput{ImageIds: []string{img}, ResourceTypes: []ec2types.ResourceTypeRequest{{ResourceType: ec2types.ImageReferenceResourceTypeEc2Instance}}})
	noErr(t, err)
	wantRefs(t, "instances only", out)
}

// TestDescribeImageReferencesAcceptsANilInput checks the nil input Go
// callers may pass: it is an empty request, refused as AWS refuses it.
func TestDescribeImageReferencesAcceptsANilInput(t *testing.T) {
	e := newEC2Env(t, InProcess)
	_, err := e.w.EC2().DescribeImageReferences(e.ctx, nil)
	wantAWSCode(t, err, "MissingParameter")
}
