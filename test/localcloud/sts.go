package localcloud

import "github.com/phoenix-rollouts/phoenix/test/localcloud/identity"

// STS is the local cloud's STS model. It is defined in package identity so
// that the wire layer's generator can derive its operations without an
// import cycle through this package.
type STS = identity.STS
