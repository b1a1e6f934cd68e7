package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

// ltNamePattern is EC2's rule for launch template names.
var ltNamePattern = regexp.MustCompile(`^[a-zA-Z0-9().\-/_]{3,128}$`)

// idempotencyMismatch is EC2's answer to a ClientToken reused with
// different parameters.
func idempotencyMismatch() error {
	return ec2Err("IdempotentParameterMismatch", "Arguments on this idempotent request are inconsistent with arguments used in previous request(s).")
}

// dataMap turns launch template data (request or response shape) into its
// top-level members, leaving out the ones not set. Request and response
// shapes share member names, which is what lets a new version inherit its
// source version's members and override the ones it names, as EC2 does.
func dataMap(v any) (map[string]json.RawMessage, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode launch template data: %w", err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("decode launch template data: %w", err)
	}
	for k, v := range m {
		switch string(bytes.TrimSpace(v)) {
		case "null", `""`, "[]":
			delete(m, k)
		}
	}
	return m, nil
}

// buildVersionData merges the request's members over the source version's
// (nil for a new template) and checks the result.
func buildVersionData(src *ec2types.ResponseLaunchTemplateData, req *ec2types.RequestLaunchTemplateData) (*ec2types.ResponseLaunchTemplateData, map[string]json.RawMessage, error) {
	reqMap, err := dataMap(req)
	if err != nil {
		return nil, nil, api.Internal("%v", err)
	}
	if len(reqMap) == 0 {
		return nil, nil, ec2Err("MissingParameter", "The request must contain the parameter LaunchTemplateData")
	}
	merged := map[string]json.RawMessage{}
	if src != nil {
		if merged, err = dataMap(src); err != nil {
			return nil, nil, api.Internal("%v", err)
		}
	}
	for k, v := range reqMap {
		merged[k] = v
	}
	raw, err := json.Marshal(merged)
	if err != nil {
		return nil, nil, api.Internal("encode merged launch template data: %v", err)
	}
	data := &ec2types.ResponseLaunchTemplateData{}
	if err := json.Unmarshal(raw, data); err != nil {
		return nil, nil, api.Internal("decode merged launch template data: %v", err)
	}
	if err := checkTemplateData(data); err != nil {
		return nil, nil, err
	}
	return data, reqMap, nil
}

// checkTemplateData applies the checks EC2 makes when a version is created:
// a well-formed image id and a known instance type. Whether the image exists
// is only checked at launch, as in EC2.
func checkTemplateData(d *ec2types.ResponseLaunchTemplateData) error {
	if id := aws.ToString(d.ImageId); id != "" && !strings.HasPrefix(id, "resolve:ssm:") && !amiIDPattern.MatchString(id) {
		return ec2Err("InvalidAMIID.Malformed", "Invalid id: \"%s\" (expecting \"ami-...\")", id)
	}
	if t := string(d.InstanceType); t != "" {
		if _, ok := instanceTypes[t]; !ok {
			return api.InvalidParameterValue("Invalid value '%s' for InstanceType.", t)
		}
	}
	return nil
}

// fingerprint canonicalises a request for ClientToken comparisons.
func fingerprint(parts ...any) string {
	raw, err := json.Marshal(parts)
	if err != nil {
		return fmt.Sprintf("%#v", parts)
	}
	return string(raw)
}

// copyData deep-copies launch template data so callers cannot change the
// stored version through an output.
func copyData(d *ec2types.ResponseLaunchTemplateData) *ec2types.ResponseLaunchTemplateData {
	if d == nil {
		return nil
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return d
	}
	out := &ec2types.ResponseLaunchTemplateData{}
	if err := json.Unmarshal(raw, out); err != nil {
		return d
	}
	return out
}

// newVersion records version data on lt as the next version number.
func (w *World) newVersion(lt *LaunchTemplate, data *ec2types.ResponseLaunchTemplateData, desc, fp string) *LaunchTemplateVersion {
	n := lt.maxVersion() + 1
	v := &LaunchTemplateVersion{
		Number:       n,
		Description:  desc,
		ImageID:      aws.ToString(data.ImageId),
		InstanceType: string(data.InstanceType),
		CreateTime:   w.now(),
		Data:         data,
		fingerprint:  fp,
	}
	lt.Versions[n] = v
	lt.LatestVersion = n
	lt.highest = n
	return v
}

// maxVersion returns the highest version number ever used by lt: version
// numbers are not reused after a version is deleted.
func (lt *LaunchTemplate) maxVersion() int64 {
	if lt.highest < lt.LatestVersion {
		return lt.LatestVersion
	}
	return lt.highest
}

// renderTemplate renders lt as the launch template APIs do.
func (w *World) renderTemplate(lt *LaunchTemplate) *ec2types.LaunchTemplate {
	return &ec2types.LaunchTemplate{
		LaunchTemplateId:     aws.String(lt.ID),
		LaunchTemplateName:   aws.String(lt.Name),
		CreateTime:           aws.Time(lt.CreateTime),
		CreatedBy:            aws.String(lt.CreatedBy),
		DefaultVersionNumber: aws.Int64(lt.DefaultVersion),
		LatestVersionNumber:  aws.Int64(lt.LatestVersion),
		Tags:                 toEC2Tags(lt.Tags),
	}
}

// renderVersion renders one version as the launch template APIs do.
func renderVersion(lt *LaunchTemplate, v *LaunchTemplateVersion) ec2types.LaunchTemplateVersion {
	out := ec2types.LaunchTemplateVersion{
		LaunchTemplateId:   aws.String(lt.ID),
		LaunchTemplateName: aws.String(lt.Name),
		VersionNumber:      aws.Int64(v.Number),
		CreateTime:         aws.Time(v.CreateTime),
		CreatedBy:          aws.String(lt.CreatedBy),
		DefaultVersion:     aws.Bool(v.Number == lt.DefaultVersion),
		LaunchTemplateData: copyData(v.Data),
	}
	if v.Description != "" {
		out.VersionDescription = aws.String(v.Description)
	}
	return out
}

// findTemplate looks a template up by id or name, with EC2's errors.
func (w *World) findTemplate(r *Region, id, name string) (*LaunchTemplate, error) {
	switch {
	case id != "" && name != "":
		return nil, ec2Err("InvalidParameterCombination", "Specify either the launch template ID or the launch template name, but not both.")
	case id != "":
		if !ltIDPattern.MatchString(id) {
			return nil, ec2Err("InvalidLaunchTemplateId.Malformed", "The specified ID for the launch template (%s) is not valid. Ensure that you specify the launch template ID in the form lt-xxxxxxxxxxxxxxxxx.", id)
		}
		lt, ok := r.LaunchTemplates[id]
		if !ok {
			return nil, ec2Err("InvalidLaunchTemplateId.NotFound", "The specified launch template, with template ID %s, does not exist.", id)
		}
		return lt, nil
	case name != "":
		for _, lt := range r.LaunchTemplates {
			if lt.Name == name {
				return lt, nil
			}
		}
		return nil, ec2Err("InvalidLaunchTemplateName.NotFoundException", "The specified launch template, with template name %s, does not exist.", name)
	}
	return nil, ec2Err("MissingParameter", "The request must contain the parameter launchTemplateName or launchTemplateId")
}

// findVersion resolves version ("", "$Default", "$Latest" or a number) on lt.
func findVersion(lt *LaunchTemplate, version string) (*LaunchTemplateVersion, error) {
	var n int64
	switch version {
	case "", "$Default":
		n = lt.DefaultVersion
	case "$Latest":
		n = lt.LatestVersion
	default:
		var err error
		n, err = strconv.ParseInt(version, 10, 64)
		if err != nil || n < 1 {
			return nil, ec2Err("InvalidLaunchTemplateId.VersionNotFound", "Could not find launch template version %s for launch template %s", version, lt.ID)
		}
	}
	v, ok := lt.Versions[n]
	if !ok {
		return nil, ec2Err("InvalidLaunchTemplateId.VersionNotFound", "Could not find launch template version %s for launch template %s", version, lt.ID)
	}
	return v, nil
}

// CreateLaunchTemplate creates a launch template with version 1 as its
// default. A retry with the same ClientToken returns the same template;
// with different parameters it fails with IdempotentParameterMismatch.
func (e *EC2) CreateLaunchTemplate(ctx context.Context, in *ec2.CreateLaunchTemplateInput, _ ...func(*ec2.Options)) (*ec2.CreateLaunchTemplateOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	name := aws.ToString(in.LaunchTemplateName)
	if name == "" {
		return nil, ec2Err("MissingParameter", "The request must contain the parameter LaunchTemplateName")
	}
	if !ltNamePattern.MatchString(name) {
		return nil, ec2Err("InvalidLaunchTemplateName.MalformedException", "A launch template name must be between 3 and 128 characters, and may contain letters, numbers, and the following characters: - ( ) . / _.")
	}
	if len(aws.ToString(in.VersionDescription)) > 255 {
		return nil, api.InvalidParameterValue("The version description must be 255 characters or fewer.")
	}
	if in.LaunchTemplateData == nil {
		return nil, ec2Err("MissingParameter", "The request must contain the parameter LaunchTemplateData")
	}
	data, reqMap, err := buildVersionData(nil, in.LaunchTemplateData)
	if err != nil {
		return nil, err
	}
	tags, err := tagsFor(in.TagSpecifications, ec2types.ResourceTypeLaunchTemplate)
	if err != nil {
		return nil, err
	}
	fp := fingerprint(name, reqMap, aws.ToString(in.VersionDescription), tags)
	if tok := aws.ToString(in.ClientToken); tok != "" {
		for _, lt := range r.LaunchTemplates {
			if lt.createToken == tok {
				if lt.createFingerprint != fp {
					return nil, idempotencyMismatch()
				}
				return &ec2.CreateLaunchTemplateOutput{LaunchTemplate: w.renderTemplate(lt)}, nil
			}
		}
	}
	for _, lt := range r.LaunchTemplates {
		if lt.Name == name {
			return nil, ec2Err("InvalidLaunchTemplateName.AlreadyExistsException", "Launch template name already in use.")
		}
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	lt := &LaunchTemplate{
		ID:                w.hexID("lt"),
		Name:              name,
		Versions:          map[int64]*LaunchTemplateVersion{},
		CreateTime:        w.now(),
		Tags:              tags,
		CreatedBy:         fmt.Sprintf("arn:aws:iam::%s:root", w.account),
		tokens:            map[string]*LaunchTemplateVersion{},
		createToken:       aws.ToString(in.ClientToken),
		createFingerprint: fp,
		seq:               w.nextSeq(),
	}
	w.newVersion(lt, data, aws.ToString(in.VersionDescription), fp)
	lt.DefaultVersion = 1
	r.LaunchTemplates[lt.ID] = lt
	return &ec2.CreateLaunchTemplateOutput{LaunchTemplate: w.renderTemplate(lt)}, nil
}

// CreateLaunchTemplateVersion adds a numbered version. With SourceVersion
// the new version inherits the source's parameters and overrides those
// named in LaunchTemplateData (top-level members replace, as in EC2). A
// retry with the same ClientToken returns the version made the first time;
// with different parameters it fails with IdempotentParameterMismatch.
func (e *EC2) CreateLaunchTemplateVersion(ctx context.Context, in *ec2.CreateLaunchTemplateVersionInput, _ ...func(*ec2.Options)) (*ec2.CreateLaunchTemplateVersionOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	lt, err := w.findTemplate(r, aws.ToString(in.LaunchTemplateId), aws.ToString(in.LaunchTemplateName))
	if err != nil {
		return nil, err
	}
	if len(aws.ToString(in.VersionDescription)) > 255 {
		return nil, api.InvalidParameterValue("The version description must be 255 characters or fewer.")
	}
	if in.LaunchTemplateData == nil {
		return nil, ec2Err("MissingParameter", "The request must contain the parameter LaunchTemplateData")
	}
	var src *ec2types.ResponseLaunchTemplateData
	if sv := aws.ToString(in.SourceVersion); sv != "" {
		v, err := findVersion(lt, sv)
		if err != nil {
			return nil, err
		}
		src = v.Data
	}
	reqMap, err := dataMap(in.LaunchTemplateData)
	if err != nil {
		return nil, api.Internal("%v", err)
	}
	fp := fingerprint(lt.ID, reqMap, aws.ToString(in.SourceVersion), aws.ToString(in.VersionDescription))
	tok := aws.ToString(in.ClientToken)
	if prev, ok := lt.tokens[tok]; ok && tok != "" {
		if prev.fingerprint != fp {
			return nil, idempotencyMismatch()
		}
		return &ec2.CreateLaunchTemplateVersionOutput{LaunchTemplateVersion: ptr(renderVersion(lt, prev))}, nil
	}
	data, _, err := buildVersionData(src, in.LaunchTemplateData)
	if err != nil {
		return nil, err
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	v := w.newVersion(lt, data, aws.ToString(in.VersionDescription), fp)
	if tok != "" {
		lt.tokens[tok] = v
	}
	return &ec2.CreateLaunchTemplateVersionOutput{LaunchTemplateVersion: ptr(renderVersion(lt, v))}, nil
}

func ptr[T any](v T) *T { return &v }

// DescribeLaunchTemplates lists launch templates by id, name or filter
// (create-time, launch-template-name, tag:KEY, tag-key).
func (e *EC2) DescribeLaunchTemplates(ctx context.Context, in *ec2.DescribeLaunchTemplatesInput, _ ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplatesOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	if err := checkFilterNames(in.Filters, "create-time", "launch-template-name"); err != nil {
		return nil, err
	}
	size, err := pageSize(in.MaxResults, 1, 200)
	if err != nil {
		return nil, err
	}
	after, err := parsePageToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	var list []*LaunchTemplate
	switch {
	case len(in.LaunchTemplateIds) > 0:
		for _, id := range in.LaunchTemplateIds {
			lt, err := w.findTemplate(r, id, "")
			if err != nil {
				return nil, err
			}
			list = append(list, lt)
		}
	case len(in.LaunchTemplateNames) > 0:
		for _, n := range in.LaunchTemplateNames {
			lt, err := w.findTemplate(r, "", n)
			if err != nil {
				return nil, ec2Err("InvalidLaunchTemplateName.NotFoundException", "At least one of the launch templates specified in the request does not exist.")
			}
			list = append(list, lt)
		}
	default:
		for _, lt := range r.LaunchTemplates {
			list = append(list, lt)
		}
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	sort.Slice(list, func(i, j int) bool { return list[i].seq < list[j].seq })
	out := &ec2.DescribeLaunchTemplatesOutput{LaunchTemplates: []ec2types.LaunchTemplate{}}
	var last uint64
	for _, lt := range list {
		if lt.seq <= after {
			continue
		}
		ok, err := matchFilters(in.Filters, lt.Tags, func(name string) ([]string, bool) {
			switch name {
			case "create-time":
				return []string{ec2Time(lt.CreateTime)}, true
			case "launch-template-name":
				return []string{lt.Name}, true
			}
			return nil, false
		})
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if size > 0 && len(out.LaunchTemplates) == size {
			out.NextToken = pageToken(last)
			break
		}
		out.LaunchTemplates = append(out.LaunchTemplates, *w.renderTemplate(lt))
		last = lt.seq
	}
	return out, nil
}

// DescribeLaunchTemplateVersions describes versions of one template
// (Versions with numbers, $Latest and $Default; or the MinVersion-MaxVersion
// range; or all), newest first. Without a template it describes the
// $Latest or $Default versions of every template. Filters: image-id,
// instance-type, is-default-version, create-time.
func (e *EC2) DescribeLaunchTemplateVersions(ctx context.Context, in *ec2.DescribeLaunchTemplateVersionsInput, _ ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	if err := checkFilterNames(in.Filters, "image-id", "instance-type", "is-default-version", "create-time"); err != nil {
		return nil, err
	}
	size, err := pageSize(in.MaxResults, 1, 200)
	if err != nil {
		return nil, err
	}
	skip, err := parsePageToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	type item struct {
		lt *LaunchTemplate
		v  *LaunchTemplateVersion
	}
	var items []item
	if aws.ToString(in.LaunchTemplateId) == "" && aws.ToString(in.LaunchTemplateName) == "" {
		if len(in.Versions) == 0 {
			return nil, ec2Err("MissingParameter", "The request must contain the parameter launchTemplateName or launchTemplateId")
		}
		for _, v := range in.Versions {
			if v != "$Latest" && v != "$Default" {
				return nil, api.InvalidParameterValue("To describe versions of all launch templates, specify only $Latest or $Default versions; got %s", v)
			}
		}
		lts := make([]*LaunchTemplate, 0, len(r.LaunchTemplates))
		for _, lt := range r.LaunchTemplates {
			lts = append(lts, lt)
		}
		sort.Slice(lts, func(i, j int) bool { return lts[i].seq < lts[j].seq })
		for _, lt := range lts {
			seen := map[int64]bool{}
			for _, want := range in.Versions {
				v, err := findVersion(lt, want)
				if err == nil && !seen[v.Number] {
					seen[v.Number] = true
					items = append(items, item{lt, v})
				}
			}
		}
	} else {
		lt, err := w.findTemplate(r, aws.ToString(in.LaunchTemplateId), aws.ToString(in.LaunchTemplateName))
		if err != nil {
			return nil, err
		}
		seen := map[int64]bool{}
		if len(in.Versions) > 0 {
			for _, want := range in.Versions {
				v, err := findVersion(lt, want)
				if err != nil {
					return nil, err
				}
				if !seen[v.Number] {
					seen[v.Number] = true
					items = append(items, item{lt, v})
				}
			}
		} else {
			lo, hi := int64(1), lt.maxVersion()
			if s := aws.ToString(in.MinVersion); s != "" {
				v, err := versionBound(lt, s)
				if err != nil {
					return nil, err
				}
				lo = v
			}
			if s := aws.ToString(in.MaxVersion); s != "" {
				v, err := versionBound(lt, s)
				if err != nil {
					return nil, err
				}
				hi = v
			}
			for _, v := range lt.Versions {
				if v.Number >= lo && v.Number <= hi {
					items = append(items, item{lt, v})
				}
			}
		}
		sort.Slice(items, func(i, j int) bool { return items[i].v.Number > items[j].v.Number })
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	out := &ec2.DescribeLaunchTemplateVersionsOutput{LaunchTemplateVersions: []ec2types.LaunchTemplateVersion{}}
	matched := uint64(0)
	for _, it := range items {
		ok, err := matchFilters(in.Filters, nil, func(name string) ([]string, bool) {
			switch name {
			case "image-id":
				return []string{it.v.ImageID}, true
			case "instance-type":
				return []string{it.v.InstanceType}, true
			case "is-default-version":
				return []string{strconv.FormatBool(it.v.Number == it.lt.DefaultVersion)}, true
			case "create-time":
				return []string{ec2Time(it.v.CreateTime)}, true
			}
			return nil, false
		})
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		matched++
		if matched <= skip {
			continue
		}
		if size > 0 && len(out.LaunchTemplateVersions) == size {
			out.NextToken = pageToken(matched - 1)
			break
		}
		out.LaunchTemplateVersions = append(out.LaunchTemplateVersions, renderVersion(it.lt, it.v))
	}
	return out, nil
}

// versionBound parses a MinVersion or MaxVersion value.
func versionBound(lt *LaunchTemplate, s string) (int64, error) {
	switch s {
	case "$Latest":
		return lt.LatestVersion, nil
	case "$Default":
		return lt.DefaultVersion, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return 0, api.InvalidParameterValue("Invalid version number: %s", s)
	}
	return n, nil
}

// ModifyLaunchTemplate changes a template's default version (the CLI's
// --default-version, the SDK's DefaultVersion).
func (e *EC2) ModifyLaunchTemplate(ctx context.Context, in *ec2.ModifyLaunchTemplateInput, _ ...func(*ec2.Options)) (*ec2.ModifyLaunchTemplateOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	lt, err := w.findTemplate(r, aws.ToString(in.LaunchTemplateId), aws.ToString(in.LaunchTemplateName))
	if err != nil {
		return nil, err
	}
	var v *LaunchTemplateVersion
	if dv := aws.ToString(in.DefaultVersion); dv != "" {
		if dv == "$Default" {
			return nil, api.InvalidParameterValue("Invalid default version: %s", dv)
		}
		if v, err = findVersion(lt, dv); err != nil {
			return nil, err
		}
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	if v != nil {
		lt.DefaultVersion = v.Number
	}
	return &ec2.ModifyLaunchTemplateOutput{LaunchTemplate: w.renderTemplate(lt)}, nil
}

// DeleteLaunchTemplateVersions deletes versions. Failures are reported per
// version in UnsuccessfullyDeletedLaunchTemplateVersions while the call
// itself succeeds, as in EC2: a version that does not exist, and the default
// version (which cannot be deleted; delete the template instead).
func (e *EC2) DeleteLaunchTemplateVersions(ctx context.Context, in *ec2.DeleteLaunchTemplateVersionsInput, _ ...func(*ec2.Options)) (*ec2.DeleteLaunchTemplateVersionsOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	lt, err := w.findTemplate(r, aws.ToString(in.LaunchTemplateId), aws.ToString(in.LaunchTemplateName))
	if err != nil {
		return nil, err
	}
	if len(in.Versions) == 0 {
		return nil, ec2Err("MissingParameter", "The request must contain the parameter LaunchTemplateVersion")
	}
	if len(in.Versions) > 200 {
		return nil, api.InvalidParameterValue("You can delete up to 200 launch template versions in a single request.")
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	out := &ec2.DeleteLaunchTemplateVersionsOutput{}
	fail := func(n int64, code ec2types.LaunchTemplateErrorCode, msg string) {
		out.UnsuccessfullyDeletedLaunchTemplateVersions = append(out.UnsuccessfullyDeletedLaunchTemplateVersions, ec2types.DeleteLaunchTemplateVersionsResponseErrorItem{
			LaunchTemplateId:   aws.String(lt.ID),
			LaunchTemplateName: aws.String(lt.Name),
			VersionNumber:      aws.Int64(n),
			ResponseError:      &ec2types.ResponseError{Code: code, Message: aws.String(msg)},
		})
	}
	for _, s := range in.Versions {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			fail(0, ec2types.LaunchTemplateErrorCodeLaunchTemplateVersionDoesNotExist, fmt.Sprintf("The launch template version %s is not a version number", s))
			continue
		}
		if _, ok := lt.Versions[n]; !ok {
			fail(n, ec2types.LaunchTemplateErrorCodeLaunchTemplateVersionDoesNotExist, fmt.Sprintf("Could not find launch template version %d for launch template %s", n, lt.ID))
			continue
		}
		if n == lt.DefaultVersion {
			fail(n, ec2types.LaunchTemplateErrorCodeUnexpectedError, "Cannot delete the default version of a launch template. Set another version as the default first, or delete the launch template.")
			continue
		}
		delete(lt.Versions, n)
		out.SuccessfullyDeletedLaunchTemplateVersions = append(out.SuccessfullyDeletedLaunchTemplateVersions, ec2types.DeleteLaunchTemplateVersionsResponseSuccessItem{
			LaunchTemplateId:   aws.String(lt.ID),
			LaunchTemplateName: aws.String(lt.Name),
			VersionNumber:      aws.Int64(n),
		})
	}
	lt.LatestVersion = 0
	for n := range lt.Versions {
		if n > lt.LatestVersion {
			lt.LatestVersion = n
		}
	}
	return out, nil
}

// DeleteLaunchTemplate deletes a template and all its versions. Groups that
// still name it fail their next launch, as in EC2.
func (e *EC2) DeleteLaunchTemplate(ctx context.Context, in *ec2.DeleteLaunchTemplateInput, _ ...func(*ec2.Options)) (*ec2.DeleteLaunchTemplateOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	lt, err := w.findTemplate(r, aws.ToString(in.LaunchTemplateId), aws.ToString(in.LaunchTemplateName))
	if err != nil {
		return nil, err
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	delete(r.LaunchTemplates, lt.ID)
	return &ec2.DeleteLaunchTemplateOutput{LaunchTemplate: w.renderTemplate(lt)}, nil
}
