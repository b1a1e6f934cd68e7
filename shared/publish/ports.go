package publish

import (
	"context"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// The ports of the image-published handler. shared/images implements
// Images, shared/ledger Queue (Ledger.Queue) and shared/executions
// Starter, over the AWS SDK; rollout.Ledger (shared/ledger) satisfies
// Ledger. Every method returns
// *rollout.TransientError for throttling, server faults and network
// failures, so the handler returns it and Lambda retries the event.

// Images reads what the publishing events point at, and the groups that
// might take an image.
type Images interface {
	// Build describes an image build version (Image Builder GetImage);
	// *rollout.NotFoundError when Image Builder does not know it.
	Build(ctx context.Context, region, arn string) (Build, error)
	// Parameter reads a parameter's current version (SSM GetParameter);
	// *rollout.NotFoundError when it does not exist.
	Parameter(ctx context.Context, region, name string) (Parameter, error)
	// Image describes an AMI (EC2 DescribeImages) by shared/fleet's rule:
	// *rollout.NotFoundError when EC2 shows no such image to this
	// account; an image EC2 still lists comes back whatever its state
	// (deregistered included), so that Policy.Check can say why it is
	// rejected; an unreadable creation date is a zero CreatedAt.
	Image(ctx context.Context, region, imageID string) (rollout.Image, error)
	// Candidates lists the region's groups tagged phoenix:enabled, each
	// projected by CandidateOf.
	Candidates(ctx context.Context, region string) ([]Candidate, error)
	// Architectures returns the architectures each instance type
	// supports; a type the region does not offer is absent.
	Architectures(ctx context.Context, region string, instanceTypes []string) (map[string][]string, error)
}

// Ledger is the part of rollout.Ledger the handler reads.
type Ledger interface {
	// GetRollout returns *rollout.NotFoundError for an unknown id.
	GetRollout(ctx context.Context, id string) (rollout.Rollout, error)
	ActiveRollout(ctx context.Context, key rollout.GroupKey) (rollout.Rollout, bool, error)
	LastKnownGood(ctx context.Context, key rollout.GroupKey) (v rollout.Version, at time.Time, ok bool, err error)
}

// Queued is the image waiting for a busy group.
type Queued struct {
	Image   KnownImage `json:"image"`
	EventID string     `json:"eventId"`
	// ExpiresAt is when the entry stops counting: a queued image whose
	// campaign stopped must not block older images for ever.
	ExpiresAt time.Time `json:"expiresAt"`
}

// Queue holds, per group, the newest image waiting for the group's current
// rollout to end. Writes are conditional, so concurrent offers keep the
// newest whatever their order.
type Queue interface {
	// Offer queues q for the group unless an unexpired image created at or
	// after q's is queued (at is "now"); kept reports whether q is now the
	// queued image. Offering the queued image again keeps it.
	Offer(ctx context.Context, key rollout.GroupKey, q Queued, at time.Time) (kept bool, err error)
	// Get returns the group's queued image; ok false when none is queued
	// or the entry expired by at.
	Get(ctx context.Context, key rollout.GroupKey, at time.Time) (q Queued, ok bool, err error)
	// Remove drops the group's entry if it still holds imageID, once that
	// image starts rolling.
	Remove(ctx context.Context, key rollout.GroupKey, imageID string) error
}

// Starter starts campaign executions (shared/executions.Starter.Start).
type Starter interface {
	// Start starts the named execution with input. started is false when
	// an execution of that name exists already: Step Functions keeps names
	// for 90 days, which is how a duplicate event is recognised; arn is
	// then the existing execution's.
	Start(ctx context.Context, name string, input []byte) (arn string, started bool, err error)
}
