package sim

import (
	"context"
	"encoding/base64"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/internal/wildcard"
)

// EC2 serves the Amazon EC2 operations of the model: images, tags, launch
// templates, instances, instance types and availability zones. Each method
// has the aws-sdk-go-v2 client method's signature.
type EC2 struct {
	w *World
}

// EC2 returns the EC2 API object of the World.
func (w *World) EC2() *EC2 { return &EC2{w: w} }

// ec2TimeLayout is how EC2 prints timestamps in string fields (CreationDate)
// and what the launch-time filter matches against.
const ec2TimeLayout = "2006-01-02T15:04:05.000Z"

// dryRun answers the DryRunOperation error once a request with DryRun set
// has passed every check.
func dryRun(flag *bool) error {
	if aws.ToBool(flag) {
		return api.Errorf(http.StatusPreconditionFailed, "DryRunOperation", "Request would have succeeded, but DryRun flag is set.")
	}
	return nil
}

// ec2Err returns an EC2 client error (HTTP 400).
func ec2Err(code, format string, args ...any) *api.Error {
	return api.Errorf(http.StatusBadRequest, code, format, args...)
}

var (
	amiIDPattern      = regexp.MustCompile(`^ami-([0-9a-f]{8}|[0-9a-f]{17})$`)
	instanceIDPattern = regexp.MustCompile(`^i-([0-9a-f]{8}|[0-9a-f]{17})$`)
	ltIDPattern       = regexp.MustCompile(`^lt-[0-9a-f]{17}$`)
)

// --- filters -------------------------------------------------------------

// filterFields returns, for one resource, the values a named filter is
// compared with; ok is false when the filter name is not supported.
type filterFields func(name string) (values []string, ok bool)

// matchFilters reports whether a resource matches every filter (filters are
// ANDed, the values of one filter ORed; * and ? are wildcards, as EC2
// documents). tags serves the tag:KEY and tag-key filters.
func matchFilters(filters []ec2types.Filter, tags map[string]string, fields filterFields) (bool, error) {
	for _, f := range filters {
		name := aws.ToString(f.Name)
		var have []string
		switch {
		case strings.HasPrefix(name, "tag:"):
			if v, ok := tags[strings.TrimPrefix(name, "tag:")]; ok {
				have = []string{v}
			}
		case name == "tag-key":
			for k := range tags {
				have = append(have, k)
			}
		default:
			var ok bool
			have, ok = fields(name)
			if !ok {
				return false, api.InvalidParameterValue("The filter '%s' is invalid", name)
			}
		}
		if !anyMatch(f.Values, have) {
			return false, nil
		}
	}
	return true, nil
}

// checkFilterNames validates filter names before any resource is looked at,
// so that an unknown filter is refused even when nothing exists yet.
func checkFilterNames(filters []ec2types.Filter, known ...string) error {
	for _, f := range filters {
		name := aws.ToString(f.Name)
		if name == "" {
			return api.InvalidParameterValue("The filter 'null' is invalid")
		}
		if strings.HasPrefix(name, "tag:") || name == "tag-key" {
			continue
		}
		found := false
		for _, k := range known {
			if k == name {
				found = true
			}
		}
		if !found {
			return api.InvalidParameterValue("The filter '%s' is invalid", name)
		}
	}
	return nil
}

// anyMatch reports whether any pattern matches any value.
func anyMatch(patterns, values []string) bool {
	for _, p := range patterns {
		for _, v := range values {
			if wildcardMatch(p, v) {
				return true
			}
		}
	}
	return false
}

// wildcardMatch matches a filter value: * is any run of characters, ? any
// one character, and a backslash escapes the next character.
func wildcardMatch(pattern, s string) bool {
	return wildcard.Match(pattern, s, wildcard.Syntax{One: true, Escape: true})
}

// --- tags ----------------------------------------------------------------

// toEC2Tags renders a tag map sorted by key.
func toEC2Tags(m map[string]string) []ec2types.Tag {
	if len(m) == 0 {
		return nil
	}
	keys := slices.Sorted(maps.Keys(m))
	out := make([]ec2types.Tag, len(keys))
	for i, k := range keys {
		out[i] = ec2types.Tag{Key: aws.String(k), Value: aws.String(m[k])}
	}
	return out
}

// validateTags checks tags given by a caller: key length 1-128, value up to
// 256, and the reserved aws: prefix.
func validateTags(tags []ec2types.Tag) error {
	for _, t := range tags {
		k := aws.ToString(t.Key)
		switch {
		case k == "":
			return api.InvalidParameterValue("Tag key cannot be empty")
		case len(k) > 128:
			return api.InvalidParameterValue("Tag key exceeds the maximum length of 128 characters")
		case len(aws.ToString(t.Value)) > 256:
			return api.InvalidParameterValue("Tag value exceeds the maximum length of 256 characters")
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			return api.InvalidParameterValue("Tag keys starting with 'aws:' are reserved for internal use")
		}
	}
	return nil
}

// tagsFor collects the tags of the TagSpecifications entries of one resource
// type. An entry naming a type the operation cannot tag is refused.
func tagsFor(specs []ec2types.TagSpecification, want ec2types.ResourceType, allowed ...ec2types.ResourceType) (map[string]string, error) {
	out := map[string]string{}
	for _, s := range specs {
		ok := s.ResourceType == want
		for _, a := range allowed {
			if s.ResourceType == a {
				ok = true
			}
		}
		if !ok {
			return nil, api.InvalidParameterValue("'%s' is not a valid taggable resource type for this operation.", s.ResourceType)
		}
		if err := validateTags(s.Tags); err != nil {
			return nil, err
		}
		if s.ResourceType != want {
			continue
		}
		for _, t := range s.Tags {
			out[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	if len(out) > 50 {
		return nil, ec2Err("TagLimitExceeded", "The maximum number of tags for a resource is 50")
	}
	return out, nil
}

// --- pagination ----------------------------------------------------------

// pageToken encodes the creation sequence number a next page starts after.
func pageToken(after uint64) *string {
	return aws.String(base64.RawURLEncoding.EncodeToString([]byte("seq:" + strconv.FormatUint(after, 10))))
}

// parsePageToken decodes a token made by pageToken; an empty token is 0.
func parsePageToken(tok *string) (uint64, error) {
	if aws.ToString(tok) == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(*tok)
	if err == nil {
		if s, ok := strings.CutPrefix(string(raw), "seq:"); ok {
			if n, err := strconv.ParseUint(s, 10, 64); err == nil {
				return n, nil
			}
		}
	}
	return 0, ec2Err("InvalidPaginationToken", "The specified pagination token is not valid or is expired.")
}

// pageSize validates MaxResults within [lo, hi]; nil means no paging.
func pageSize(max *int32, lo, hi int32) (int, error) {
	if max == nil {
		return 0, nil
	}
	if *max < lo || *max > hi {
		return 0, api.InvalidParameterValue("Value ( %d ) for parameter maxResults is invalid. Expecting a value between %d and %d.", *max, lo, hi)
	}
	return int(*max), nil
}

// describePage opens a paged Describe call of ids: EC2 refuses MaxResults
// with ids (idsParam names the ids' member in its message), validates
// MaxResults within [5, 1000] and decodes NextToken.
func describePage(idsParam string, ids int, max *int32, tok *string) (size int, after uint64, err error) {
	if ids > 0 && max != nil {
		return 0, 0, ec2Err("InvalidParameterCombination", "The parameter %s cannot be used with the parameter maxResults", idsParam)
	}
	if size, err = pageSize(max, 5, 1000); err != nil {
		return 0, 0, err
	}
	after, err = parsePageToken(tok)
	return size, after, err
}

// --- availability zones ----------------------------------------------------

// zoneNames returns the three availability zones the model gives a region.
func zoneNames(region string) []string {
	return []string{region + "a", region + "b", region + "c"}
}

// validZone reports whether az is one of the region's zones.
func validZone(region, az string) bool {
	for _, z := range zoneNames(region) {
		if z == az {
			return true
		}
	}
	return false
}

// zoneID returns the zone id AWS would show for the i-th zone of region,
// e.g. use1-az1 for us-east-1a.
func zoneID(region string, i int) string {
	parts := strings.Split(region, "-")
	abbr := map[string]string{
		"north": "n", "south": "s", "east": "e", "west": "w", "central": "c",
		"northeast": "ne", "southeast": "se", "northwest": "nw", "southwest": "sw",
	}
	id := ""
	for j, p := range parts {
		if a, ok := abbr[p]; ok && j > 0 {
			id += a
		} else {
			id += p
		}
	}
	return fmt.Sprintf("%s-az%d", id, i+1)
}

// DescribeAvailabilityZones lists the region's three zones (<region>a, b
// and c), all available.
func (e *EC2) DescribeAvailabilityZones(ctx context.Context, in *ec2.DescribeAvailabilityZonesInput, _ ...func(*ec2.Options)) (*ec2.DescribeAvailabilityZonesOutput, error) {
	// Not api.Begin: a static table, read without the World lock.
	if in == nil {
		in = &ec2.DescribeAvailabilityZonesInput{}
	}
	region := api.Region(ctx)
	if err := checkFilterNames(in.Filters, "zone-name", "zone-id", "state", "region-name", "zone-type", "group-name", "opt-in-status"); err != nil {
		return nil, err
	}
	for _, n := range in.ZoneNames {
		if !validZone(region, n) {
			return nil, api.InvalidParameterValue("The zone '%s' does not exist.", n)
		}
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	out := &ec2.DescribeAvailabilityZonesOutput{}
	for i, name := range zoneNames(region) {
		id := zoneID(region, i)
		if len(in.ZoneNames) > 0 && !contains(in.ZoneNames, name) {
			continue
		}
		if len(in.ZoneIds) > 0 && !contains(in.ZoneIds, id) {
			continue
		}
		fields := map[string]string{
			"zone-name": name, "zone-id": id, "state": "available", "region-name": region,
			"zone-type": "availability-zone", "group-name": region, "opt-in-status": "opt-in-not-required",
		}
		ok, err := matchFilters(in.Filters, nil, func(n string) ([]string, bool) {
			v, ok := fields[n]
			return []string{v}, ok
		})
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		out.AvailabilityZones = append(out.AvailabilityZones, ec2types.AvailabilityZone{
			ZoneName:           aws.String(name),
			ZoneId:             aws.String(id),
			RegionName:         aws.String(region),
			State:              ec2types.AvailabilityZoneStateAvailable,
			OptInStatus:        ec2types.AvailabilityZoneOptInStatusOptInNotRequired,
			ZoneType:           aws.String("availability-zone"),
			GroupName:          aws.String(region),
			NetworkBorderGroup: aws.String(region),
			Messages:           []ec2types.AvailabilityZoneMessage{},
		})
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// --- instance types --------------------------------------------------------

// instanceTypeSpec is one row of the model's instance type table.
type instanceTypeSpec struct {
	vcpus        int32
	memMiB       int64
	archs        []string
	manufacturer string
	burstable    bool
	current      bool
}

// instanceTypes is a realistic table of common families. Graviton (arm64)
// families: t4g, m6g, m7g, c6g, c7g, r6g. Previous-generation m1.small and
// t2 are kept because EC2 still launches m1.small when RunInstances names no
// instance type, and they accept i386 images.
var instanceTypes = func() map[string]instanceTypeSpec {
	m := map[string]instanceTypeSpec{}
	x86 := []string{"x86_64"}
	arm := []string{"arm64"}
	add := func(family, maker string, archs []string, burst, current bool, sizes map[string][2]int64) {
		for size, vm := range sizes {
			m[family+"."+size] = instanceTypeSpec{vcpus: int32(vm[0]), memMiB: vm[1], archs: archs, manufacturer: maker, burstable: burst, current: current}
		}
	}
	burst := map[string][2]int64{"nano": {2, 512}, "micro": {2, 1024}, "small": {2, 2048}, "medium": {2, 4096}, "large": {2, 8192}, "xlarge": {4, 16384}, "2xlarge": {8, 32768}}
	general := map[string][2]int64{"large": {2, 8192}, "xlarge": {4, 16384}, "2xlarge": {8, 32768}, "4xlarge": {16, 65536}}
	compute := map[string][2]int64{"large": {2, 4096}, "xlarge": {4, 8192}, "2xlarge": {8, 16384}, "4xlarge": {16, 32768}}
	memory := map[string][2]int64{"large": {2, 16384}, "xlarge": {4, 32768}, "2xlarge": {8, 65536}, "4xlarge": {16, 131072}}
	withMedium := func(sizes map[string][2]int64, mem int64) map[string][2]int64 {
		out := map[string][2]int64{"medium": {1, mem}}
		for k, v := range sizes {
			out[k] = v
		}
		return out
	}
	add("t3", "Intel", x86, true, true, burst)
	add("t3a", "AMD", x86, true, true, burst)
	add("t4g", "AWS", arm, true, true, burst)
	add("m5", "Intel", x86, false, true, general)
	add("m6i", "Intel", x86, false, true, general)
	add("m6g", "AWS", arm, false, true, withMedium(general, 4096))
	add("m7g", "AWS", arm, false, true, withMedium(general, 4096))
	add("c5", "Intel", x86, false, true, compute)
	add("c6i", "Intel", x86, false, true, compute)
	add("c6g", "AWS", arm, false, true, withMedium(compute, 2048))
	add("c7g", "AWS", arm, false, true, withMedium(compute, 2048))
	add("r5", "Intel", x86, false, true, memory)
	add("r6g", "AWS", arm, false, true, withMedium(memory, 8192))
	add("t2", "Intel", []string{"i386", "x86_64"}, true, false, map[string][2]int64{"nano": {1, 512}, "micro": {1, 1024}, "small": {1, 2048}, "medium": {2, 4096}, "large": {2, 8192}})
	m["m1.small"] = instanceTypeSpec{vcpus: 1, memMiB: 1740, archs: []string{"i386", "x86_64"}, manufacturer: "Intel", current: false}
	return m
}()

// defaultInstanceType is what RunInstances launches when no instance type is
// given, as the EC2 API reference documents.
const defaultInstanceType = "m1.small"

// supportsArch reports whether instance type t runs images of arch.
func (s instanceTypeSpec) supportsArch(arch string) bool { return contains(s.archs, arch) }

// typeInfo renders a table row as DescribeInstanceTypes does.
func typeInfo(name string, s instanceTypeSpec) ec2types.InstanceTypeInfo {
	archs := make([]ec2types.ArchitectureType, len(s.archs))
	for i, a := range s.archs {
		archs[i] = ec2types.ArchitectureType(a)
	}
	hyper := ec2types.InstanceTypeHypervisorNitro
	if !s.current {
		hyper = ec2types.InstanceTypeHypervisorXen
	}
	return ec2types.InstanceTypeInfo{
		InstanceType:                  ec2types.InstanceType(name),
		CurrentGeneration:             aws.Bool(s.current),
		BurstablePerformanceSupported: aws.Bool(s.burstable),
		BareMetal:                     aws.Bool(false),
		FreeTierEligible:              aws.Bool(name == "t2.micro" || name == "t3.micro"),
		Hypervisor:                    hyper,
		ProcessorInfo: &ec2types.ProcessorInfo{
			SupportedArchitectures: archs,
			Manufacturer:           aws.String(s.manufacturer),
		},
		VCpuInfo:                 &ec2types.VCpuInfo{DefaultVCpus: aws.Int32(s.vcpus)},
		MemoryInfo:               &ec2types.MemoryInfo{SizeInMiB: aws.Int64(s.memMiB)},
		SupportedRootDeviceTypes: []ec2types.RootDeviceType{ec2types.RootDeviceTypeEbs},
		SupportedUsageClasses:    []ec2types.UsageClassType{ec2types.UsageClassTypeOnDemand, ec2types.UsageClassTypeSpot},
		SupportedVirtualizationTypes: []ec2types.VirtualizationType{
			ec2types.VirtualizationTypeHvm,
		},
	}
}

// DescribeInstanceTypes describes instance types from the model's table.
// Filters: instance-type, processor-info.supported-architecture,
// current-generation, burstable-performance-supported.
func (e *EC2) DescribeInstanceTypes(ctx context.Context, in *ec2.DescribeInstanceTypesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstanceTypesOutput, error) {
	// Not api.Begin: a static table, read without the World lock.
	if in == nil {
		in = &ec2.DescribeInstanceTypesInput{}
	}
	if err := checkFilterNames(in.Filters, "instance-type", "processor-info.supported-architecture", "current-generation", "burstable-performance-supported"); err != nil {
		return nil, err
	}
	var unknown []string
	for _, t := range in.InstanceTypes {
		if _, ok := instanceTypes[string(t)]; !ok {
			unknown = append(unknown, string(t))
		}
	}
	if len(unknown) > 0 {
		return nil, ec2Err("InvalidInstanceType", "The following supplied instance types do not exist: [%s]", strings.Join(unknown, ", "))
	}
	size, err := pageSize(in.MaxResults, 5, 100)
	if err != nil {
		return nil, err
	}
	start, err := parsePageToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(instanceTypes))
	for n := range instanceTypes {
		if len(in.InstanceTypes) > 0 && !contains(typesToStrings(in.InstanceTypes), n) {
			continue
		}
		names = append(names, n)
	}
	sort.Strings(names)
	out := &ec2.DescribeInstanceTypesOutput{}
	for i, n := range names {
		if uint64(i) < start {
			continue
		}
		s := instanceTypes[n]
		ok, err := matchFilters(in.Filters, nil, func(f string) ([]string, bool) {
			switch f {
			case "instance-type":
				return []string{n}, true
			case "processor-info.supported-architecture":
				return s.archs, true
			case "current-generation":
				return []string{strconv.FormatBool(s.current)}, true
			case "burstable-performance-supported":
				return []string{strconv.FormatBool(s.burstable)}, true
			}
			return nil, false
		})
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if size > 0 && len(out.InstanceTypes) == size {
			out.NextToken = pageToken(uint64(i))
			break
		}
		out.InstanceTypes = append(out.InstanceTypes, typeInfo(n, s))
	}
	return out, nil
}

func typesToStrings(ts []ec2types.InstanceType) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = string(t)
	}
	return out
}

// --- shared helpers --------------------------------------------------------

// idList joins ids for EC2's "do not exist" messages.
func idList(ids []string) string { return strings.Join(ids, ", ") }

// ec2Time renders t as EC2 string timestamps are rendered.
func ec2Time(t time.Time) string { return t.UTC().Format(ec2TimeLayout) }
