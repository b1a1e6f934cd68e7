package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/phoenix-rollouts/phoenix/shared/publish"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// The queued image item (docs/publish.md, "The queue item"): one per
// group, beside its lease and last-known-good. createdAt is written in
// timeLayout even when the creation time is unknown: the zero time is
// written as year 1, which sorts before every known time, so the offer's
// condition compares it as a string with any other.
const (
	skQueued      = "QUEUED"
	attrCreatedAt = "createdAt"
)

var _ publish.Queue = (*Queue)(nil)

// Queue is publish.Queue over the ledger's table: per group, the newest
// image waiting for the group's current rollout to end, replaced only by
// a newer one, so that concurrent offers keep the newest whatever their
// order. It uses GetItem, PutItem and DeleteItem only (the campaign gate's
// role allows no more). It logs nothing: the publishing handlers log every
// queue decision they act on.
type Queue struct {
	l *Ledger
}

// Queue returns the publishing queue kept in the ledger's table.
func (l *Ledger) Queue() *Queue { return &Queue{l: l} }

// Offer writes entry unless an unexpired entry holds another image
// created at or after entry's; offering the queued image again refreshes
// it. kept reports whether entry is now the queued image. Errors:
// *rollout.BadInputError for a group the ledger has no key for or a time
// the sortable layout cannot hold, *rollout.TransientError.
func (q *Queue) Offer(ctx context.Context, key rollout.GroupKey, entry publish.Queued, at time.Time) (bool, error) {
	pk, err := groupPK(key)
	if err != nil {
		return false, err
	}
	if err := checkTime("queued image creation time", entry.Image.CreatedAt); err != nil {
		return false, err
	}
	created := formatTime(entry.Image.CreatedAt)
	_, err = q.l.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(q.l.table),
		Item: map[string]types.AttributeValue{
			attrPK: str(pk), attrSK: str(skQueued),
			attrImageID: str(entry.Image.ImageID), attrCreatedAt: str(created),
			attrEventID: str(entry.EventID), attrExpiresAt: num(entry.ExpiresAt.Unix()),
		},
		ConditionExpression: aws.String("attribute_not_exists(#pk) OR #expires <= :now OR #image = :image OR #created < :created"),
		ExpressionAttributeNames: map[string]string{
			"#pk": attrPK, "#expires": attrExpiresAt, "#image": attrImageID, "#created": attrCreatedAt,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": num(at.Unix()), ":image": str(entry.Image.ImageID), ":created": str(created),
		},
	})
	switch {
	case conditionFailed(err):
		return false, nil
	case err != nil:
		return false, classify("queue image "+entry.Image.ImageID+" for "+key.String(), err)
	}
	return true, nil
}

// Get returns the group's queued image; ok is false when none is queued or
// the entry expired by at.
func (q *Queue) Get(ctx context.Context, key rollout.GroupKey, at time.Time) (publish.Queued, bool, error) {
	pk, err := groupPK(key)
	if err != nil {
		return publish.Queued{}, false, err
	}
	it, err := q.l.getItem(ctx, "read queued image of "+key.String(), pk, skQueued)
	if err != nil || it == nil {
		return publish.Queued{}, false, err
	}
	r := &reader{it: it}
	created := r.str(attrCreatedAt)
	out := publish.Queued{
		Image:     publish.KnownImage{ImageID: r.str(attrImageID)},
		EventID:   r.str(attrEventID),
		ExpiresAt: time.Unix(r.num(attrExpiresAt), 0).UTC(),
	}
	if r.err != nil {
		return publish.Queued{}, false, fmt.Errorf("read queued image of %s: %w", key, r.err)
	}
	t, err := time.Parse(timeLayout, created)
	if err != nil {
		return publish.Queued{}, false, fmt.Errorf("read queued image of %s: createdAt %q: %w", key, created, err)
	}
	if t.Year() > 1 {
		out.Image.CreatedAt = t
	}
	if !at.Before(out.ExpiresAt) {
		return publish.Queued{}, false, nil
	}
	return out, true, nil
}

// Remove deletes the group's entry if it still holds imageID, once that
// image starts rolling; an entry another image replaced meanwhile stays.
func (q *Queue) Remove(ctx context.Context, key rollout.GroupKey, imageID string) error {
	pk, err := groupPK(key)
	if err != nil {
		return err
	}
	_, err = q.l.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(q.l.table),
		Key:                       itemKey(pk, skQueued),
		ConditionExpression:       aws.String("#image = :image"),
		ExpressionAttributeNames:  map[string]string{"#image": attrImageID},
		ExpressionAttributeValues: map[string]types.AttributeValue{":image": str(imageID)},
	})
	if err != nil && !conditionFailed(err) {
		return classify("unqueue image "+imageID+" for "+key.String(), err)
	}
	return nil
}
