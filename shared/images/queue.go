package images

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/phoenix-rollouts/phoenix/shared/awserr"
	"github.com/phoenix-rollouts/phoenix/shared/publish"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// DynamoDBAPI is the part of the DynamoDB client the queue uses.
type DynamoDBAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

var _ DynamoDBAPI = (*dynamodb.Client)(nil)

// The queue item lives in the ledger's table beside the group's lease and
// last-known-good (docs/publish.md, "The queue item"): pk
// GROUP#<region>#<group>, sk QUEUED.
const (
	queueSK = "QUEUED"
	// timeLayout sorts as a string in time order, so the conditional write
	// can compare creation times (the ledger uses the same layout).
	timeLayout = "2006-01-02T15:04:05.000000000Z"
)

// Queue is publish.Queue over the ledger's DynamoDB table: one item per
// group, replaced only by a newer image, so concurrent offers keep the
// newest whatever their order.
type Queue struct {
	db    DynamoDBAPI
	table string
}

// NewQueue returns a queue on the ledger table.
func NewQueue(db DynamoDBAPI, table string) *Queue { return &Queue{db: db, table: table} }

// queuePK is the group's partition key, as the ledger writes it.
func queuePK(k rollout.GroupKey) (string, error) {
	if k.Region == "" || k.Name == "" || strings.ContainsRune(k.Region, '#') {
		return "", &rollout.BadInputError{Reason: fmt.Sprintf("group %q: a region without '#' and a name are required", k)}
	}
	return "GROUP#" + k.Region + "#" + k.Name, nil
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// Offer writes q unless an unexpired entry holds another image created at
// or after q's; offering the queued image again refreshes it.
func (q *Queue) Offer(ctx context.Context, key rollout.GroupKey, item publish.Queued, at time.Time) (bool, error) {
	pk, err := queuePK(key)
	if err != nil {
		return false, err
	}
	_, err = q.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(q.table),
		Item: map[string]types.AttributeValue{
			"pk": str(pk), "sk": str(queueSK),
			"imageId": str(item.Image.ImageID), "createdAt": str(item.Image.CreatedAt.UTC().Format(timeLayout)),
			"eventId": str(item.EventID), "expiresAt": num(item.ExpiresAt.Unix()),
		},
		ConditionExpression: aws.String("attribute_not_exists(pk) OR expiresAt <= :now OR imageId = :image OR createdAt < :created"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": num(at.Unix()), ":image": str(item.Image.ImageID), ":created": str(item.Image.CreatedAt.UTC().Format(timeLayout)),
		},
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		return false, nil
	case err != nil:
		return false, awserr.Classify("queue image "+item.Image.ImageID+" for "+key.String(), err, "", "")
	}
	return true, nil
}

// Get reads the group's entry; an entry expired by at counts as none.
func (q *Queue) Get(ctx context.Context, key rollout.GroupKey, at time.Time) (publish.Queued, bool, error) {
	pk, err := queuePK(key)
	if err != nil {
		return publish.Queued{}, false, err
	}
	out, err := q.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(q.table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": str(pk), "sk": str(queueSK)},
	})
	if err != nil {
		return publish.Queued{}, false, awserr.Classify("read queued image of "+key.String(), err, "", "")
	}
	if out.Item == nil {
		return publish.Queued{}, false, nil
	}
	s := func(name string) string {
		if v, ok := out.Item[name].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	var expires int64
	if v, ok := out.Item["expiresAt"].(*types.AttributeValueMemberN); ok {
		expires, err = strconv.ParseInt(v.Value, 10, 64)
		if err != nil {
			return publish.Queued{}, false, fmt.Errorf("queued image of %s: expiresAt %q: %w", key, v.Value, err)
		}
	}
	created, err := time.Parse(timeLayout, s("createdAt"))
	if err != nil {
		return publish.Queued{}, false, fmt.Errorf("queued image of %s: createdAt %q: %w", key, s("createdAt"), err)
	}
	item := publish.Queued{Image: publish.KnownImage{ImageID: s("imageId"), CreatedAt: created}, EventID: s("eventId"), ExpiresAt: time.Unix(expires, 0).UTC()}
	if !at.Before(item.ExpiresAt) {
		return publish.Queued{}, false, nil
	}
	if created.Year() == 1 {
		item.Image.CreatedAt = time.Time{}
	}
	return item, true, nil
}

// Remove deletes the group's entry if it still holds imageID; an entry
// that another image replaced meanwhile stays.
func (q *Queue) Remove(ctx context.Context, key rollout.GroupKey, imageID string) error {
	pk, err := queuePK(key)
	if err != nil {
		return err
	}
	_, err = q.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(q.table),
		Key:                       map[string]types.AttributeValue{"pk": str(pk), "sk": str(queueSK)},
		ConditionExpression:       aws.String("imageId = :image"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":image": str(imageID)},
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return awserr.Classify("unqueue image "+imageID+" for "+key.String(), err, "", "")
	}
	return nil
}
