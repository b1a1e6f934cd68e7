package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// LastKnownGood returns the group's last-known-good version and when it
// was recorded; ok is false when none is recorded.
func (l *Ledger) LastKnownGood(ctx context.Context, key rollout.GroupKey) (rollout.Version, time.Time, bool, error) {
	v, _, at, ok, err := l.lastKnownGood(ctx, key)
	return v, at, ok, err
}

func (l *Ledger) lastKnownGood(ctx context.Context, key rollout.GroupKey) (v rollout.Version, rolloutID string, at time.Time, ok bool, err error) {
	pk, err := groupPK(key)
	if err != nil {
		return v, "", at, false, err
	}
	it, err := l.getItem(ctx, "read last-known-good of "+key.String(), pk, skLKG)
	if err != nil || it == nil {
		return v, "", at, false, err
	}
	r := &reader{it: it}
	v = rollout.Version{LaunchTemplateID: r.str(attrLaunchTemplateID), Number: r.num(attrVersion), ImageID: r.str(attrImageID)}
	rolloutID, at = r.str(attrRolloutID), r.time(attrAt)
	if r.err != nil {
		return rollout.Version{}, "", time.Time{}, false, fmt.Errorf("read last-known-good of %s: %w", key, r.err)
	}
	return v, rolloutID, at, true, nil
}

// SetLastKnownGood records v as the group's last-known-good, recorded by
// rolloutID at at. The write is refused, silently, when the stored record
// is as new as at or newer (an older image never replaces a newer
// last-known-good, and a late retry of an old Finalize cannot undo a newer
// one) or was written by the same rollout (a retried Finalize changes
// nothing, even with a later at). Errors: *rollout.BadInputError,
// *rollout.TransientError.
func (l *Ledger) SetLastKnownGood(ctx context.Context, key rollout.GroupKey, v rollout.Version, rolloutID string, at time.Time) error {
	pk, err := groupPK(key)
	if err != nil {
		return err
	}
	switch {
	case v.LaunchTemplateID == "" || v.Number <= 0:
		return &rollout.BadInputError{Reason: fmt.Sprintf("last-known-good of %s needs a launch template and a numbered version", key)}
	case rolloutID == "":
		return &rollout.BadInputError{Reason: fmt.Sprintf("last-known-good of %s needs the rollout id", key)}
	case at.IsZero():
		return &rollout.BadInputError{Reason: fmt.Sprintf("last-known-good of %s needs a time", key)}
	}
	if err := checkTime("last-known-good time", at); err != nil {
		return err
	}
	it := item{attrPK: str(pk), attrSK: str(skLKG)}
	it.str(attrLaunchTemplateID, v.LaunchTemplateID)
	it.num(attrVersion, v.Number)
	it.str(attrImageID, v.ImageID)
	it.str(attrRolloutID, rolloutID)
	it.time(attrAt, at)
	_, err = l.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(l.table),
		Item:      it,
		// Times are fixed-width UTC strings, so string order is time order.
		ConditionExpression:       aws.String("attribute_not_exists(#pk) OR (#at < :at AND #rid <> :rid)"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#at": attrAt, "#rid": attrRolloutID},
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": str(formatTime(at)), ":rid": str(rolloutID)},
	})
	log := l.logger().With("rolloutId", rolloutID, "region", key.Region, "group", key.Name,
		"launchTemplateId", v.LaunchTemplateID, "version", v.Number, "imageId", v.ImageID, "at", at.UTC())
	switch {
	case conditionFailed(err):
		stored, storedBy, storedAt, ok, err := l.lastKnownGood(ctx, key)
		if err != nil {
			return err
		}
		if ok && storedBy != rolloutID {
			log.InfoContext(ctx, "last-known-good kept: the stored one is newer",
				"storedVersion", stored.Number, "storedImageId", stored.ImageID, "storedBy", storedBy, "storedAt", storedAt)
		}
		return nil
	case err != nil:
		return classify("record last-known-good of "+key.String(), err)
	}
	log.InfoContext(ctx, "last-known-good recorded")
	return nil
}
