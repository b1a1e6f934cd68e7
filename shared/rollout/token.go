package rollout

import (
	"crypto/sha256"
	"encoding/hex"
)

// ClientToken derives the EC2 client token of a rollout's launch template
// version from the rollout id, so that a retried Prepare gets the version
// the first attempt created instead of a second one. EC2 allows 64 ASCII
// characters; hashing keeps any rollout id within that.
func ClientToken(rolloutID string) string {
	sum := sha256.Sum256([]byte(rolloutID))
	return "phoenix-" + hex.EncodeToString(sum[:])[:48]
}
