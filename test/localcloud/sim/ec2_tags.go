package sim

import (
	"context"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

// taggable is one EC2 resource whose tags the tag operations manage.
type taggable struct {
	id   string
	kind ec2types.ResourceType
	tags map[string]string
}

// taggableByID finds an image, instance or launch template of the caller by
// id, with the error EC2 gives for that kind of id.
func (w *World) taggableByID(r *Region, id string) (taggable, error) {
	switch {
	case strings.HasPrefix(id, "ami-"):
		img, ok := r.Images[id]
		if !amiIDPattern.MatchString(id) {
			return taggable{}, ec2Err("InvalidAMIID.Malformed", "Invalid id: \"%s\" (expecting \"ami-...\")", id)
		}
		if !ok || img.OwnerID != w.account {
			return taggable{}, ec2Err("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", id)
		}
		return taggable{id, ec2types.ResourceTypeImage, img.Tags}, nil
	case strings.HasPrefix(id, "i-"):
		inst, err := w.lookupInstance(r, id)
		if err != nil {
			return taggable{}, err
		}
		return taggable{id, ec2types.ResourceTypeInstance, inst.Tags}, nil
	case strings.HasPrefix(id, "lt-"):
		lt, err := w.findTemplate(r, id, "")
		if err != nil {
			return taggable{}, err
		}
		if lt.Tags == nil {
			lt.Tags = map[string]string{}
		}
		return taggable{id, ec2types.ResourceTypeLaunchTemplate, lt.Tags}, nil
	}
	return taggable{}, ec2Err("InvalidID", "The ID '%s' is not valid", id)
}

// CreateTags adds or overwrites tags on images, instances and launch
// templates. Every resource is checked before any is changed.
func (e *EC2) CreateTags(ctx context.Context, in *ec2.CreateTagsInput, _ ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	if len(in.Resources) == 0 {
		return nil, ec2Err("MissingParameter", "The request must contain the parameter resourceIdSet")
	}
	if len(in.Tags) == 0 {
		return nil, ec2Err("MissingParameter", "The request must contain the parameter tagSet")
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	var targets []taggable
	for _, id := range in.Resources {
		t, err := w.taggableByID(r, id)
		if err != nil {
			return nil, err
		}
		merged := map[string]bool{}
		for k := range t.tags {
			merged[k] = true
		}
		for _, tag := range in.Tags {
			merged[aws.ToString(tag.Key)] = true
		}
		if len(merged) > 50 {
			return nil, ec2Err("TagLimitExceeded", "The maximum number of tags for resource %s is 50", id)
		}
		targets = append(targets, t)
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	for _, t := range targets {
		for _, tag := range in.Tags {
			t.tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
		}
	}
	return &ec2.CreateTagsOutput{}, nil
}

// DeleteTags removes tags. A tag given with a value is removed only if the
// value matches (an empty string matches only an empty value); a tag given
// without a value is removed whatever its value; no tags at all removes
// every tag not reserved for AWS.
func (e *EC2) DeleteTags(ctx context.Context, in *ec2.DeleteTagsInput, _ ...func(*ec2.Options)) (*ec2.DeleteTagsOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	if len(in.Resources) == 0 {
		return nil, ec2Err("MissingParameter", "The request must contain the parameter resourceIdSet")
	}
	for _, tag := range in.Tags {
		if strings.HasPrefix(strings.ToLower(aws.ToString(tag.Key)), "aws:") {
			return nil, api.InvalidParameterValue("Tag keys starting with 'aws:' are reserved for internal use")
		}
	}
	var targets []taggable
	for _, id := range in.Resources {
		t, err := w.taggableByID(r, id)
		if err != nil {
			return nil, err
		}
		targets = append(targets, t)
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	for _, t := range targets {
		if len(in.Tags) == 0 {
			for k := range t.tags {
				if !strings.HasPrefix(k, "aws:") {
					delete(t.tags, k)
				}
			}
			continue
		}
		for _, tag := range in.Tags {
			k := aws.ToString(tag.Key)
			if v, ok := t.tags[k]; ok && (tag.Value == nil || *tag.Value == v) {
				delete(t.tags, k)
			}
		}
	}
	return &ec2.DeleteTagsOutput{}, nil
}

// DescribeTags lists the tags of the caller's images, instances and launch
// templates. Filters: resource-id, resource-type (image, instance,
// launch-template), key, value, tag:KEY. MaxResults is 5-1000.
func (e *EC2) DescribeTags(ctx context.Context, in *ec2.DescribeTagsInput, _ ...func(*ec2.Options)) (*ec2.DescribeTagsOutput, error) {
	w := e.w
	in, region, done := api.Begin(ctx, &w.mu, in)
	defer done()
	r := w.region(region)
	for _, f := range in.Filters {
		if aws.ToString(f.Name) == "tag-key" {
			return nil, api.InvalidParameterValue("The filter 'tag-key' is invalid")
		}
	}
	if err := checkFilterNames(in.Filters, "resource-id", "resource-type", "key", "value"); err != nil {
		return nil, err
	}
	size, err := pageSize(in.MaxResults, 5, 1000)
	if err != nil {
		return nil, err
	}
	skip, err := parsePageToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	var all []taggable
	for _, img := range r.Images {
		if img.OwnerID == w.account {
			all = append(all, taggable{img.ID, ec2types.ResourceTypeImage, img.Tags})
		}
	}
	for _, inst := range r.Instances {
		all = append(all, taggable{inst.ID, ec2types.ResourceTypeInstance, inst.Tags})
	}
	for _, lt := range r.LaunchTemplates {
		all = append(all, taggable{lt.ID, ec2types.ResourceTypeLaunchTemplate, lt.Tags})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].id < all[j].id })
	out := &ec2.DescribeTagsOutput{Tags: []ec2types.TagDescription{}}
	matched := uint64(0)
	for _, res := range all {
		for _, k := range slices.Sorted(maps.Keys(res.tags)) {
			v := res.tags[k]
			ok, err := matchFilters(in.Filters, res.tags, func(name string) ([]string, bool) {
				switch name {
				case "resource-id":
					return []string{res.id}, true
				case "resource-type":
					return []string{string(res.kind)}, true
				case "key":
					return []string{k}, true
				case "value":
					return []string{v}, true
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
			if size > 0 && len(out.Tags) == size {
				out.NextToken = pageToken(matched - 1)
				return out, nil
			}
			out.Tags = append(out.Tags, ec2types.TagDescription{
				ResourceId:   aws.String(res.id),
				ResourceType: res.kind,
				Key:          aws.String(k),
				Value:        aws.String(v),
			})
		}
	}
	return out, nil
}
