package lifecycle

import (
	"context"
	"time"
)

// Images is what the nightly run reads and does in EC2 (shared/fleet
// implements it). Reads return what EC2 answers now; every write is
// idempotent (doing it twice leaves the same state) and returns
// *rollout.TransientError for throttling and 5xx, *rollout.NotFoundError
// when the image or template is gone.
type Images interface {
	// Templates returns the launch templates with every version, by id.
	Templates(ctx context.Context, region string, ids []string) ([]Template, error)
	// OwnImages returns this account's AMIs in the region, disabled and
	// deprecated ones included, with their snapshots' size, protection,
	// deprecation time and whether they are shared.
	OwnImages(ctx context.Context, region string) ([]Image, error)
	// OwnImage reads one image by id, in whatever state, with what OwnImages
	// says of it (Shared included); an image EC2 no longer lists is a
	// *rollout.NotFoundError.
	OwnImage(ctx context.Context, region, imageID string) (Image, error)
	// References returns, per AMI, what EC2 says references it
	// (DescribeImageReferences over every resource type; every launch
	// template version counts).
	References(ctx context.Context, region string, imageIDs []string) (map[string][]Reference, error)

	// DeleteVersions deletes at most MaxVersionsPerDelete versions of one
	// template and returns those deleted; a version already gone counts as
	// deleted, the default version is never deleted (AWS refuses it).
	DeleteVersions(ctx context.Context, region, templateID string, versions []int64) ([]int64, error)
	// Deprecate sets the image's deprecation time to at, rounded up to the
	// minute (AWS rounds to the nearest minute and refuses a time in the
	// past); an image already deprecated at or before at is left alone.
	Deprecate(ctx context.Context, region, imageID string, at time.Time) error
	// Disable disables the image; Restore enables it again and removes its
	// deprecation.
	Disable(ctx context.Context, region, imageID string) error
	Restore(ctx context.Context, region, imageID string) error
	// Protect turns on deregistration protection (without cooldown: Phoenix
	// must be able to lift it as soon as the image stops being
	// last-known-good); Unprotect lifts it.
	Protect(ctx context.Context, region, imageID string) error
	Unprotect(ctx context.Context, region, imageID string) error
	// Deregister deregisters the image with its snapshots and returns the
	// GiB of snapshots deleted.
	Deregister(ctx context.Context, region, imageID string) (int64, error)
}
