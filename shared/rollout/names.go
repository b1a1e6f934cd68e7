package rollout

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strings"
)

// Execution names are the exactly-once keys of every automatic start
// (image publishing, the nightly recycle): Step Functions refuses a second
// execution of one name for 90 days (a running one with the same input is
// returned instead), so an event delivered twice, or late, cannot start a
// second execution.
const (
	// MaxNameLength is Step Functions' limit on execution names.
	MaxNameLength = 80
	// nameHashChars is the length of the hash every name ends with: 96
	// bits, so distinct inputs never meet in practice.
	nameHashChars = 24
	// maxPrefixChars bounds a name's prefix, so that the readable part
	// always keeps room.
	maxPrefixChars = 8
)

// ExecutionName is prefix-readable-hash: the readable part helps people in
// the console and is lossy (characters outside [A-Za-z0-9_-] become '_',
// long values are cut), so the hash of every part, each length-prefixed so
// that no two lists of parts encode alike, is what keeps distinct inputs
// apart. Every name has the hash, so no short name can equal a hashed long
// one. The prefix, meant to be a short constant such as "img" or "rcy", is
// sanitized and cut to 8 characters like the rest.
func ExecutionName(prefix, readable string, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	sum := hex.EncodeToString(h.Sum(nil))[:nameHashChars]
	pre := cut(sanitizeName(prefix), maxPrefixChars)
	if pre != "" {
		pre += "-"
	}
	r := cut(sanitizeName(readable), MaxNameLength-len(pre)-1-nameHashChars)
	if r == "" {
		return pre + sum
	}
	return pre + r + "-" + sum
}

// cut keeps at most n bytes of s, which sanitizeName made ASCII.
func cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// sanitizeName keeps the characters Step Functions allows in names
// everywhere (letters, digits, '-' and '_'), replacing others with '_'.
func sanitizeName(s string) string {
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
	return sanitizeName(name) == name
}
