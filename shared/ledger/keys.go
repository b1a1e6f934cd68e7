package ledger

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/phoenix-rollouts/phoenix/shared/publish"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Attribute names of the keys and the index.
const (
	attrPK     = "pk"
	attrSK     = "sk"
	attrGSI1PK = "gsi1pk"
	attrGSI1SK = "gsi1sk"
)

// Key values and prefixes (docs/design.md, "The ledger").
const (
	prefixGroup   = "GROUP#"
	prefixRollout = "ROLLOUT#"
	prefixSignal  = "SIGNAL#"
	skLease       = "LEASE"
	skLKG         = "LKG"
	skMeta        = "META"
	// gsiRollouts is the one partition of the byTime index: rollouts are
	// few (a handful a day per group), far below a partition's limits.
	gsiRollouts = "ROLLOUTS"
	// skRolloutEnd sorts after every ROLLOUT#... key ('$' follows '#'),
	// bounding a range query over a group's history entries.
	skRolloutEnd = "ROLLOUT$"
)

// Limits of the names in keys: an Auto Scaling group name has at most 255
// characters; a region is a short code that must not contain '#', because
// the first '#' after it is what separates it from the group name.
const (
	maxGroupName  = 255
	maxRegionName = 64
	maxSignalSeq  = 9_999_999_999
)

// timeLayout is RFC 3339 in UTC with a fixed nine-digit fraction, so that
// keys holding times sort as strings in time order (time.RFC3339Nano drops
// trailing zeros, and "05Z" sorts after "05.5Z").
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// groupPK is the partition key of a group's lease, last-known-good and
// history: GROUP#<region>#<group>. The group name may hold any character,
// '#' included; the region may not, which keeps the encoding reversible.
func groupPK(k rollout.GroupKey) (string, error) {
	if k.Region == "" || k.Name == "" {
		return "", &rollout.BadInputError{Reason: fmt.Sprintf("group %q: region and name are required", k)}
	}
	if err := checkRegion(k.Region); err != nil {
		return "", err
	}
	if !utf8.ValidString(k.Name) || utf8.RuneCountInString(k.Name) > maxGroupName {
		return "", &rollout.BadInputError{Reason: fmt.Sprintf("group name %q is not an Auto Scaling group name", k.Name)}
	}
	return prefixGroup + k.Region + "#" + k.Name, nil
}

// checkRegion refuses a region that cannot stand in a key, the same for
// every item that names one (groups, images, the lifecycle log).
func checkRegion(region string) error {
	if region == "" || strings.ContainsRune(region, '#') || len(region) > maxRegionName || !utf8.ValidString(region) {
		return &rollout.BadInputError{Reason: fmt.Sprintf("region %q is not a region name", region)}
	}
	return nil
}

// regionPK is the partition key of a region's items of one kind (image
// records, the lifecycle log): the prefix and the region.
func regionPK(prefix, region string) (string, error) {
	if err := checkRegion(region); err != nil {
		return "", err
	}
	return prefix + region, nil
}

// checkImageID refuses what is not written as an AMI id: "ami-" and 8 or
// 17 lower-case hexadecimal digits, the one spelling EC2 answers with, so
// that one image has one key.
func checkImageID(id string) error {
	if !publish.ValidImageID(id) {
		return &rollout.BadInputError{Reason: fmt.Sprintf("image id %q is not an AMI id (ami- and 8 or 17 hexadecimal digits)", id)}
	}
	return nil
}

// parseGroupPK reverses groupPK.
func parseGroupPK(pk string) (rollout.GroupKey, error) {
	rest, ok := strings.CutPrefix(pk, prefixGroup)
	if !ok {
		return rollout.GroupKey{}, fmt.Errorf("key %q is not a group key", pk)
	}
	region, name, ok := strings.Cut(rest, "#")
	if !ok || region == "" || name == "" {
		return rollout.GroupKey{}, fmt.Errorf("key %q is not a group key", pk)
	}
	return rollout.GroupKey{Region: region, Name: name}, nil
}

// rolloutPK is the partition key of a rollout and its signals.
func rolloutPK(id string) string { return prefixRollout + id }

// signalSK is the sort key of a signal: ten digits so that signals sort
// by sequence.
func signalSK(seq int64) string { return fmt.Sprintf("%s%010d", prefixSignal, seq) }

// historySK is the sort key of a group's history entry for a rollout.
func historySK(startedAt time.Time, id string) string {
	return prefixRollout + formatTime(startedAt) + "#" + id
}

// byTimeSK is the byTime index's sort key of a rollout.
func byTimeSK(startedAt time.Time, id string) string { return formatTime(startedAt) + "#" + id }

// formatTime writes t in timeLayout.
func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// checkTime refuses a time the sortable layout cannot hold.
func checkTime(what string, t time.Time) error {
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return &rollout.BadInputError{Reason: fmt.Sprintf("%s %s is outside years 1-9999", what, t)}
	}
	return nil
}

// itemKey is the primary key of an item.
func itemKey(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(pk), attrSK: str(sk)}
}
