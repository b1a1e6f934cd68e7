package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/phoenix-rollouts/phoenix/shared/alarms"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Alarm claims (docs/alarms.md, "Storms"): one item per action Phoenix
// takes about alarms, written by a conditional put, so that of a storm of
// alarm events exactly one takes each action. The owner is the event id,
// which lets a retried invocation of the same event take up its own claim.
//
//	pk ROLLOUT#<id>               sk ALARM#signal | ALARM#revert   the one alarm action on a rollout
//	pk GROUP#<region>#<group>     sk ALARM#<event id>              the notice of one event for one group
//
// Neither sort key falls within the ranges the rollout's own queries read
// (SIGNAL#..., ROLLOUT#...).
const (
	prefixAlarm = "ALARM#"
	attrAlarmAt = "alarmAt"
	// attrNotified is true once the owner sent the action's notification.
	attrNotified = "notified"
	// noticeTTL is how long a notice claim is kept (its expiresAt, for a
	// table TTL): longer than EventBridge retries an event (24 h).
	noticeTTL = 7 * 24 * time.Hour
)

var _ alarms.Ledger = (*Ledger)(nil)

// claimKey is the primary key of a claim.
func claimKey(k alarms.ClaimKey) (pk, sk string, err error) {
	if err := k.Check(); err != nil {
		return "", "", err
	}
	if k.RolloutID != "" {
		return rolloutPK(k.RolloutID), prefixAlarm + string(k.Action), nil
	}
	pk, err = groupPK(k.Group)
	if err != nil {
		return "", "", err
	}
	return pk, prefixAlarm + k.EventID, nil
}

// ClaimAlarm takes the claim c.Key for c.Owner with one conditional put
// (the item must not exist), or reads the claim as stored when it does.
// won is true when c.Owner holds the claim: taken now, or earlier by the
// same event (a retried invocation, a repeated delivery), whose stored
// Notified then says whether it has told people. Errors:
// *rollout.BadInputError for a malformed key or owner,
// *rollout.TransientError.
func (l *Ledger) ClaimAlarm(ctx context.Context, c alarms.Claim) (alarms.Claim, bool, error) {
	pk, sk, err := claimKey(c.Key)
	if err != nil {
		return alarms.Claim{}, false, err
	}
	if c.Owner == "" {
		return alarms.Claim{}, false, &rollout.BadInputError{Reason: fmt.Sprintf("alarm claim %s: owner is required", c.Key)}
	}
	if err := checkTime("alarm time", c.At); err != nil {
		return alarms.Claim{}, false, err
	}
	it := item{attrPK: str(pk), attrSK: str(sk)}
	it.str(attrOwner, c.Owner)
	it.str(attrAlarm, c.Alarm)
	it.time(attrAlarmAt, c.At)
	it[attrNotified] = &types.AttributeValueMemberBOOL{Value: false}
	if c.Key.RolloutID == "" && !c.At.IsZero() {
		it.num(attrExpiresAt, c.At.Add(noticeTTL).Unix())
	}
	op := "claim alarm action " + c.Key.String()
	_, err = l.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(l.table),
		Item:                     it,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK},
	})
	switch {
	case err == nil:
		c.Notified = false
		l.logger().InfoContext(ctx, "alarm claim taken", "claim", c.Key.String(), "owner", c.Owner, "alarm", c.Alarm)
		return c, true, nil
	case !conditionFailed(err):
		return alarms.Claim{}, false, classify(op, err)
	}
	// Claims are never deleted, so a refused put means the item is there.
	stored, err := l.getItem(ctx, op, pk, sk)
	if err != nil {
		return alarms.Claim{}, false, err
	}
	if stored == nil {
		return alarms.Claim{}, false, fmt.Errorf("%s: refused, but no claim is stored", op)
	}
	got, err := decodeClaim(c.Key, stored)
	if err != nil {
		return alarms.Claim{}, false, fmt.Errorf("%s: %w", op, err)
	}
	return got, got.Owner == c.Owner, nil
}

// AlarmNotified records that owner has sent the notification of its
// claim. It refuses to mark a claim owner does not hold: that would hide a
// notification someone else still owes.
func (l *Ledger) AlarmNotified(ctx context.Context, key alarms.ClaimKey, owner string) error {
	pk, sk, err := claimKey(key)
	if err != nil {
		return err
	}
	_, err = l.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(l.table),
		Key:                       itemKey(pk, sk),
		UpdateExpression:          aws.String("SET #notified = :true"),
		ConditionExpression:       aws.String("attribute_exists(#pk) AND #owner = :owner"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#owner": attrOwner, "#notified": attrNotified},
		ExpressionAttributeValues: map[string]types.AttributeValue{":owner": str(owner), ":true": &types.AttributeValueMemberBOOL{Value: true}},
	})
	switch {
	case conditionFailed(err):
		return fmt.Errorf("record notice of alarm claim %s: %s does not hold it", key, owner)
	case err != nil:
		return classify("record notice of alarm claim "+key.String(), err)
	}
	return nil
}

// decodeClaim reads a claim item.
func decodeClaim(key alarms.ClaimKey, it map[string]types.AttributeValue) (alarms.Claim, error) {
	r := &reader{it: it}
	c := alarms.Claim{Key: key, Owner: r.str(attrOwner), Alarm: r.str(attrAlarm), At: r.time(attrAlarmAt)}
	if av, ok := it[attrNotified]; ok {
		b, ok := av.(*types.AttributeValueMemberBOOL)
		if !ok {
			r.fail(attrNotified, "a boolean")
		} else {
			c.Notified = b.Value
		}
	}
	if r.err == nil && c.Owner == "" {
		r.err = fmt.Errorf("the claim has no owner")
	}
	if r.err != nil {
		return alarms.Claim{}, fmt.Errorf("decode alarm claim: %w", r.err)
	}
	return c, nil
}
