package publish

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strings"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Execution names are the exactly-once keys of publishing: Step Functions
// refuses a second execution of one name for 90 days (a running one with
// the same input is returned instead), so an event delivered twice, or
// late, cannot start a second campaign or rollout.
const (
	// MaxNameLength is Step Functions' limit on execution names.
	MaxNameLength = 80
	// hashChars is the length of the hash every name ends with: 96 bits,
	// so distinct inputs never meet in practice.
	hashChars = 24
	// readableChars bounds the readable middle of a name.
	readableChars = MaxNameLength - 4 - 1 - hashChars
)

// Name prefixes: a campaign and a rollout it starts.
const (
	prefixCampaign = "cmp"
	prefixRollout  = "img"
)

// CampaignName is the execution name of the campaign that rolls an image
// in a region. It is keyed by the image, not by the event: one image may
// be announced by up to three events (its AMI becoming available, its
// Image Builder build, the parameter pointing at it), and a second
// campaign for it would roll the later waves at once, before the first
// campaign's canaries finished. docs/publish.md records this deviation.
func CampaignName(region, imageID string) string {
	return executionName(prefixCampaign, imageID, "campaign", region, imageID)
}

// RolloutName is the execution name, and rollout id, of the rollout an
// event starts on a group: derived from the event id and the group, so a
// repeated delivery names the same rollout.
func RolloutName(eventID string, group rollout.GroupKey) string {
	return executionName(prefixRollout, group.Name, "rollout", eventID, group.Region, group.Name)
}

// executionName is prefix-readable-hash: the readable part helps people
// in the console and is lossy (characters outside [A-Za-z0-9_-] become
// '_', long values are cut), so the hash of every part, each
// length-prefixed so that no two lists of parts encode alike, is what keeps
// distinct inputs apart. Every name has the hash, so no short name can
// equal a hashed long one.
func executionName(prefix, readable string, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	sum := hex.EncodeToString(h.Sum(nil))[:hashChars]
	r := sanitize(readable)
	if len(r) > readableChars {
		r = r[:readableChars]
	}
	if r == "" {
		return prefix + "-" + sum
	}
	return prefix + "-" + r + "-" + sum
}

// sanitize keeps the characters Step Functions allows in names everywhere
// (letters, digits, '-' and '_'), replacing others with '_'.
func sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// ValidExecutionName reports whether name is 1 to 80 characters of
// [A-Za-z0-9_-], the subset of Step Functions names Phoenix uses (it also
// keeps names valid for CloudWatch Logs and X-Ray, which want ASCII).
func ValidExecutionName(name string) bool {
	if name == "" || len(name) > MaxNameLength {
		return false
	}
	return sanitize(name) == name
}
