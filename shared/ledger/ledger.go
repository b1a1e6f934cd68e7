// Package ledger implements rollout.Ledger over one DynamoDB table, as the
// ledger section of docs/design.md lays it out: leases, last-known-good
// versions and group history under GROUP#<region>#<group>, rollouts and
// their signals under ROLLOUT#<id>, and a sparse index byTime listing every
// rollout by start time.
//
// Every write is a single-item conditional write. Transactions are avoided
// on purpose: the local cloud's DynamoDB (dynalite) lacks them, and a
// design whose invariants each live on one item survives a Lambda that
// dies between two writes, because the retried call heals what the first
// attempt left half done.
package ledger

import (
	"context"
	"errors"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/phoenix-rollouts/phoenix/shared/awserr"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Client is the part of the DynamoDB API the ledger uses, with the
// aws-sdk-go-v2 client's signatures, so that *dynamodb.Client fits as is.
type Client interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

var (
	_ Client                  = (*dynamodb.Client)(nil)
	_ rollout.Ledger          = (*Ledger)(nil)
	_ dynamodb.QueryAPIClient = Client(nil)
)

// Ledger is rollout.Ledger over one DynamoDB table.
type Ledger struct {
	db    Client
	table string
	log   *slog.Logger
}

// New returns a ledger on the named table, which must have the layout of
// TableSchema. Changes are logged to slog.Default (as it is when the
// change is made) until WithLogger gives a per-invocation logger.
func New(client Client, table string) *Ledger {
	return &Ledger{db: client, table: table}
}

// WithLogger returns a ledger on the same table that logs every change it
// makes to log, so that the lines carry the invocation's request id. The
// ledger logs each change it makes once (and nothing for a repeat that
// changed nothing), so callers need not log ledger writes again.
func (l *Ledger) WithLogger(log *slog.Logger) *Ledger {
	c := *l
	c.log = log
	return &c
}

// logger is where the ledger logs its changes.
func (l *Ledger) logger() *slog.Logger {
	log := l.log
	if log == nil {
		log = slog.Default()
	}
	return log.With("table", l.table)
}

// TableSchema returns the table Phoenix's ledger needs: string keys pk and
// sk, the global secondary index byTime on gsi1pk/gsi1sk projecting every
// attribute, on-demand billing and encryption with the AWS managed KMS key.
// TableName is left empty for the caller to set. template.yaml declares
// the same table; point-in-time recovery is not part of CreateTable and is
// set there (PointInTimeRecoverySpecification).
func TableSchema() *dynamodb.CreateTableInput {
	str := func(name string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS}
	}
	key := func(hash, rng string) []types.KeySchemaElement {
		return []types.KeySchemaElement{
			{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(rng), KeyType: types.KeyTypeRange},
		}
	}
	return &dynamodb.CreateTableInput{
		AttributeDefinitions: []types.AttributeDefinition{str(attrPK), str(attrSK), str(attrGSI1PK), str(attrGSI1SK)},
		KeySchema:            key(attrPK, attrSK),
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName:  aws.String(IndexByTime),
			KeySchema:  key(attrGSI1PK, attrGSI1SK),
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
		BillingMode:      types.BillingModePayPerRequest,
		SSESpecification: &types.SSESpecification{Enabled: aws.Bool(true)},
	}
}

// IndexByTime is the name of the global secondary index listing every
// rollout by start time.
const IndexByTime = "byTime"

// classify turns an SDK error into the domain's: throttling and server
// faults become *rollout.TransientError. A missing table is not a missing
// rollout, so ResourceNotFoundException stays an ordinary error.
func classify(op string, err error) error {
	return awserr.Classify(op, err, "", "")
}

// conditionFailed reports whether err is DynamoDB refusing a conditional
// write, the one failure every method expects and handles itself.
func conditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// notFound is the error for a rollout the ledger does not hold.
func notFound(id string) error { return &rollout.NotFoundError{Kind: "rollout", ID: id} }

// getItem reads one item with a strongly consistent read, so that a read
// after a refused conditional write sees the write that won; nil means
// absent.
func (l *Ledger) getItem(ctx context.Context, op, pk, sk string) (map[string]types.AttributeValue, error) {
	out, err := l.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(l.table),
		Key:            itemKey(pk, sk),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, classify(op, err)
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	return out.Item, nil
}
