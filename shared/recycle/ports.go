package recycle

import (
	"context"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// The ports of the recycle-scheduler. shared/fleet, shared/ledger,
// shared/params and shared/executions implement them over the AWS SDK. Every
// method returns *rollout.TransientError for throttling, server faults and
// network failures; the handler returns it, and the invocation is retried
// whole, which is safe because every start is keyed by its name.

// Fleet reads the region's groups.
type Fleet interface {
	// GroupsTagged returns every group carrying the tag key, with its
	// instances' images and launch times.
	GroupsTagged(ctx context.Context, region, tagKey string) ([]rollout.Group, error)
	// ResolveVersion turns a version as written ("$Latest", "$Default" or
	// a number) into the numbered version it means now;
	// *rollout.NotFoundError for a missing template or version.
	ResolveVersion(ctx context.Context, region, launchTemplateID, version string) (rollout.TemplateVersion, error)
}

// Ledger is what the night reads and writes of the ledger.
type Ledger interface {
	// GetRollout returns *rollout.NotFoundError for an unknown id.
	GetRollout(ctx context.Context, id string) (rollout.Rollout, error)
	// ActiveRollout returns the rollout holding the group's lease, if any.
	ActiveRollout(ctx context.Context, key rollout.GroupKey) (rollout.Rollout, bool, error)
	// PutDrift records the group's latest drift report, unless a newer
	// one is recorded.
	PutDrift(ctx context.Context, d Drift) error
}

// Params reads the global freeze parameter.
type Params interface {
	// Value returns the parameter's value, "" when it does not exist.
	Value(ctx context.Context, region, name string) (string, error)
}

// Starter starts rollouts, exactly once per rollout id
// (shared/executions.Starter.StartRollout).
type Starter interface {
	// StartRollout validates req, wraps it in the rollout state machine's
	// input and starts it under the name req.RolloutID; started is false
	// when an execution of that name exists already, and arn is then its
	// ARN. A request that is not valid is a *rollout.BadInputError.
	StartRollout(ctx context.Context, req rollout.Request) (arn string, started bool, err error)
}
