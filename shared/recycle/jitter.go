package recycle

import (
	"crypto/sha256"
	"encoding/binary"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Offset is a group's start offset within the night, in [0, jitter) whole
// seconds. It is a hash of the event id and the group, not a random draw,
// so that a repeated delivery of the event computes the same plan (and
// the same execution input, which Step Functions requires of a repeated
// start) while groups still spread over the window.
func Offset(eventID string, group rollout.GroupKey, jitter time.Duration) time.Duration {
	if jitter < time.Second {
		return 0
	}
	span := uint64(jitter / time.Second)
	h := sha256.New()
	for _, p := range []string{eventID, group.Region, group.Name} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	sum := h.Sum(nil)
	return time.Duration(binary.BigEndian.Uint64(sum[:8])%span) * time.Second
}
