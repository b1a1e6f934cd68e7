package publish

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// AnyValue as a required tag's value accepts any value, as long as the tag
// is there.
const AnyValue = "*"

// Policy says which images may roll at all, before any group is chosen.
type Policy struct {
	// AllowedOwners are the accounts whose images may roll. Empty means
	// Account only: the safe default is to trust nothing but the
	// deploying account's own images.
	AllowedOwners []string
	// RequiredTags must all be on the AMI with these values; AnyValue
	// accepts any value.
	RequiredTags map[string]string
	// Region is where Phoenix runs; an image must be available here.
	Region string
	// Account is the deploying account.
	Account string
}

// Rejection explains why an image is not rolled: Code is short and stable
// (a metric dimension), Reason a sentence for people.
type Rejection struct {
	Code   string `json:"code"`
	Reason string `json:"reason"`
}

func (r Rejection) String() string { return r.Code + ": " + r.Reason }

// Rejection codes. Each is a dimension value of the ImagesRejected metric,
// so the set is small and fixed.
const (
	CodeMalformed     = "malformed-event"
	CodeOtherRegion   = "other-region"
	CodeUnknownImage  = "unknown-image"
	CodeNotAvailable  = "not-available"
	CodeForeignOwner  = "foreign-owner"
	CodeMissingTag    = "missing-tag"
	CodeNoEligible    = "no-eligible-group"
	CodeUnsupported   = "unsupported-image"
	CodeNoOwnerConfig = "no-account-configured"
)

// Owners returns the accounts whose images may roll: AllowedOwners, or the
// deploying account when none are configured.
func (p Policy) Owners() []string {
	if len(p.AllowedOwners) > 0 {
		return p.AllowedOwners
	}
	if p.Account == "" {
		return nil
	}
	return []string{p.Account}
}

// Check returns every reason the image may not roll under p, none when it
// may: it must be available, in p's region, owned by an allowed account and
// carry every required tag. All reasons are returned so that one notice
// says everything that is wrong.
func (p Policy) Check(img Image) []Rejection {
	var out []Rejection
	owners := p.Owners()
	if len(owners) == 0 {
		out = append(out, Rejection{CodeNoOwnerConfig, "Phoenix knows neither an allow-list of image owners nor its own account, so it trusts no image."})
	}
	if img.Region != p.Region {
		out = append(out, Rejection{CodeOtherRegion, fmt.Sprintf("The image was published in %s, but Phoenix here rolls groups in %s.", img.Region, p.Region)})
	}
	if img.ID() == "" {
		out = append(out, Rejection{CodeOtherRegion, fmt.Sprintf("The image has no AMI in %s.", p.Region)})
	}
	if img.State != "available" {
		out = append(out, Rejection{CodeNotAvailable, fmt.Sprintf("Image %s is %s, not available.", img.ID(), orNone(img.State))})
	}
	if len(owners) > 0 && !slices.Contains(owners, img.Owner) {
		out = append(out, Rejection{CodeForeignOwner, fmt.Sprintf("Image %s is owned by account %s, which is not among the allowed owners (%s).", img.ID(), orNone(img.Owner), strings.Join(owners, ", "))})
	}
	keys := make([]string, 0, len(p.RequiredTags))
	for k := range p.RequiredTags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		want := p.RequiredTags[k]
		got, ok := img.Tags[k]
		switch {
		case !ok:
			out = append(out, Rejection{CodeMissingTag, fmt.Sprintf("Image %s lacks the required tag %s.", img.ID(), k)})
		case want != AnyValue && got != want:
			out = append(out, Rejection{CodeMissingTag, fmt.Sprintf("Image %s has %s=%q, but %q is required.", img.ID(), k, got, want)})
		}
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// ParseOwners reads an allow-list of account ids separated by commas or
// spaces. Anything that is not a 12-digit account id is an error: a typo
// in an allow-list must fail the cold start, not silently trust nobody or
// everybody.
func ParseOwners(s string) ([]string, error) {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
		if !rollout.ValidAccount(f) {
			return nil, fmt.Errorf("%q is not a 12-digit account id", f)
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out, nil
}

// ParseRequiredTags reads required tags written "key=value,key2=*": pairs
// separated by commas, each split at its first '=' (so a key cannot hold
// '=', which EC2 allows but Phoenix does not), AnyValue for any value.
// Keys and values are trimmed; an empty key, a pair without '=' or a key
// given twice is an error.
func ParseRequiredTags(s string) (map[string]string, error) {
	out := map[string]string{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case !ok:
			return nil, fmt.Errorf("required tag %q has no '=' (write key=value, or key=* for any value)", part)
		case k == "":
			return nil, fmt.Errorf("required tag %q has no key", part)
		case len(k) > 128 || len(v) > 256:
			return nil, fmt.Errorf("required tag %q is longer than EC2 allows (128-character key, 256-character value)", part)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("required tag %s is given twice", k)
		}
		out[k] = v
	}
	return out, nil
}
