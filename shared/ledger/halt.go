package ledger

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Halt items live in one partition, so that `phoenix status` lists every
// halt with one query and a step reads its group's and the global halt with
// two GetItems (its own, then the global): pk HALT, sk GLOBAL or
// GROUP#<region>#<group>.
const (
	pkHalt       = "HALT"
	skHaltGlobal = "GLOBAL"
	attrBy       = "by"
)

func haltSK(group rollout.GroupKey) (string, error) {
	if group == (rollout.GroupKey{}) {
		return skHaltGlobal, nil
	}
	return groupPK(group)
}

// SetHalt sets the halt flag for h.Group (every group when zero), replacing
// a halt already set there. Errors: *rollout.BadInputError,
// *rollout.TransientError.
func (l *Ledger) SetHalt(ctx context.Context, h rollout.Halt) error {
	sk, err := haltSK(h.Group)
	if err != nil {
		return err
	}
	if strings.TrimSpace(h.Reason) == "" {
		return &rollout.BadInputError{Reason: "a halt needs a reason, for the people whose rollouts it stops"}
	}
	if err := checkTime("halt time", h.At); err != nil {
		return err
	}
	it := item{attrPK: str(pkHalt), attrSK: str(sk)}
	if !h.Global() {
		it.str(attrRegion, h.Group.Region)
		it.str(attrGroup, h.Group.Name)
	}
	it.str(attrReason, h.Reason)
	it.str(attrBy, h.By)
	it.time(attrAt, h.At)
	if _, err := l.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(l.table), Item: it}); err != nil {
		return classify("set halt "+sk, err)
	}
	l.logger().Warn("halt set", "scope", sk, "reason", h.Reason, "by", h.By)
	return nil
}

// ClearHalt clears the halt flag of group (the global one when zero);
// clearing a flag that is not set is not an error.
func (l *Ledger) ClearHalt(ctx context.Context, group rollout.GroupKey) error {
	sk, err := haltSK(group)
	if err != nil {
		return err
	}
	if _, err := l.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(l.table), Key: itemKey(pkHalt, sk)}); err != nil {
		return classify("clear halt "+sk, err)
	}
	l.logger().Info("halt cleared", "scope", sk)
	return nil
}

// Halts lists every halt set, the global one first.
func (l *Ledger) Halts(ctx context.Context) ([]rollout.Halt, error) {
	var out []rollout.Halt
	p := dynamodb.NewQueryPaginator(l.db, &dynamodb.QueryInput{
		TableName:                 aws.String(l.table),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pkHalt)},
		ConsistentRead:            aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, classify("list halts", err)
		}
		for _, it := range page.Items {
			h, err := haltFrom(it)
			if err != nil {
				return nil, err
			}
			if h.Global() {
				out = append([]rollout.Halt{h}, out...)
			} else {
				out = append(out, h)
			}
		}
	}
	return out, nil
}

// Halted returns the group's own halt, else the global one.
func (l *Ledger) Halted(ctx context.Context, key rollout.GroupKey) (rollout.Halt, bool, error) {
	sk, err := groupPK(key)
	if err != nil {
		return rollout.Halt{}, false, err
	}
	for _, s := range []string{sk, skHaltGlobal} {
		it, err := l.getItem(ctx, "read halt "+s, pkHalt, s)
		if err != nil {
			return rollout.Halt{}, false, err
		}
		if it != nil {
			h, err := haltFrom(it)
			return h, err == nil, err
		}
	}
	return rollout.Halt{}, false, nil
}

func haltFrom(it map[string]types.AttributeValue) (rollout.Halt, error) {
	r := &reader{it: it}
	h := rollout.Halt{
		Group:  rollout.GroupKey{Region: r.str(attrRegion), Name: r.str(attrGroup)},
		Reason: r.str(attrReason), By: r.str(attrBy), At: r.time(attrAt),
	}
	if r.err != nil {
		return rollout.Halt{}, fmt.Errorf("read halt: %w", r.err)
	}
	return h, nil
}
