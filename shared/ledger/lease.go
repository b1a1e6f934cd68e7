package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// leaseAttempts bounds AcquireLease's loop: a write refused by a lease
// that is gone or expired by the time it is read is tried again, which
// can only happen when another writer raced in between.
const leaseAttempts = 3

// AcquireLease takes the group's lease for l.Owner until l.ExpiresAt, or
// renews it when l.Owner holds it already. The write succeeds only if there
// is no lease, the lease has expired at now, or l.Owner holds it with an
// expiry no later than l.ExpiresAt, so a renewal never shortens a lease and
// a repeat changes nothing. A lease another owner holds past now yields
// *rollout.LeaseHeldError naming the holder and the expiry. Expiries are
// whole epoch seconds (design.md), so l.ExpiresAt is truncated to the
// second.
func (l *Ledger) AcquireLease(ctx context.Context, lease rollout.Lease, now time.Time) error {
	pk, err := groupPK(lease.Group)
	if err != nil {
		return err
	}
	if lease.Owner == "" {
		return &rollout.BadInputError{Reason: fmt.Sprintf("lease of %s: owner is required", lease.Group)}
	}
	if !lease.ExpiresAt.After(now) {
		return &rollout.BadInputError{Reason: fmt.Sprintf("lease of %s: expiry %s is not after now %s", lease.Group, lease.ExpiresAt.Format(time.RFC3339), now.Format(time.RFC3339))}
	}
	it := item{attrPK: str(pk), attrSK: str(skLease)}
	it.str(attrOwner, lease.Owner)
	it.str(attrExecutionARN, lease.Execution)
	it.num(attrExpiresAt, lease.ExpiresAt.Unix())
	in := &dynamodb.PutItemInput{
		TableName: aws.String(l.table),
		Item:      it,
		ConditionExpression: aws.String("attribute_not_exists(#pk) OR #exp <= :now OR " +
			"(#owner = :owner AND #exp <= :exp)"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK, "#exp": attrExpiresAt, "#owner": attrOwner},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": num(now.Unix()), ":owner": str(lease.Owner), ":exp": num(lease.ExpiresAt.Unix()),
		},
		ReturnValues: types.ReturnValueAllOld,
	}
	log := l.logger().With("rolloutId", lease.Owner, "region", lease.Group.Region, "group", lease.Group.Name)
	for range leaseAttempts {
		out, err := l.db.PutItem(ctx, in)
		if err == nil {
			old, _ := decodeLease(out.Attributes)
			switch {
			case len(out.Attributes) == 0:
				log.InfoContext(ctx, "lease taken", "expiresAt", time.Unix(lease.ExpiresAt.Unix(), 0).UTC())
			case old.Owner == lease.Owner:
				if old.ExpiresAt.Unix() != lease.ExpiresAt.Unix() {
					log.InfoContext(ctx, "lease renewed", "expiresAt", time.Unix(lease.ExpiresAt.Unix(), 0).UTC())
				}
			default:
				log.InfoContext(ctx, "expired lease taken over", "previousOwner", old.Owner,
					"previousExpiresAt", old.ExpiresAt, "expiresAt", time.Unix(lease.ExpiresAt.Unix(), 0).UTC())
			}
			return nil
		}
		if !conditionFailed(err) {
			return classify("acquire lease of "+lease.Group.String(), err)
		}
		held, ok, err := l.lease(ctx, lease.Group)
		if err != nil {
			return err
		}
		switch {
		case !ok || held.ExpiresAt.Unix() <= now.Unix():
			continue // released or expired since the write was refused
		case held.Owner == lease.Owner:
			return nil // held already until later than asked
		default:
			return &rollout.LeaseHeldError{Group: lease.Group, Holder: held.Owner, ExpiresAt: held.ExpiresAt}
		}
	}
	return &rollout.TransientError{Op: "acquire lease of " + lease.Group.String(),
		Err: fmt.Errorf("the lease changed hands %d times while being taken", leaseAttempts)}
}

// ReleaseLease deletes the group's lease if owner holds it. A lease held by
// someone else, or no lease at all, is left alone and is not an error, so
// a retried release is harmless.
func (l *Ledger) ReleaseLease(ctx context.Context, key rollout.GroupKey, owner string) error {
	pk, err := groupPK(key)
	if err != nil {
		return err
	}
	if owner == "" {
		return &rollout.BadInputError{Reason: fmt.Sprintf("release of %s: owner is required", key)}
	}
	out, err := l.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(l.table),
		Key:                       itemKey(pk, skLease),
		ConditionExpression:       aws.String("#owner = :owner"),
		ExpressionAttributeNames:  map[string]string{"#owner": attrOwner},
		ExpressionAttributeValues: map[string]types.AttributeValue{":owner": str(owner)},
		ReturnValues:              types.ReturnValueAllOld,
	})
	switch {
	case conditionFailed(err):
		return nil
	case err != nil:
		return classify("release lease of "+key.String(), err)
	}
	old, _ := decodeLease(out.Attributes)
	l.logger().InfoContext(ctx, "lease released", "rolloutId", owner, "region", key.Region, "group", key.Name, "expiresAt", old.ExpiresAt)
	return nil
}

// lease reads the group's lease item; ok is false when there is none.
func (l *Ledger) lease(ctx context.Context, key rollout.GroupKey) (rollout.Lease, bool, error) {
	pk, err := groupPK(key)
	if err != nil {
		return rollout.Lease{}, false, err
	}
	it, err := l.getItem(ctx, "read lease of "+key.String(), pk, skLease)
	if err != nil || it == nil {
		return rollout.Lease{}, false, err
	}
	lease, err := decodeLease(it)
	if err != nil {
		return rollout.Lease{}, false, fmt.Errorf("read lease of %s: %w", key, err)
	}
	return lease, true, nil
}

// decodeLease reads a lease item; the group comes from its key.
func decodeLease(it map[string]types.AttributeValue) (rollout.Lease, error) {
	r := &reader{it: it}
	lease := rollout.Lease{
		Owner:     r.str(attrOwner),
		Execution: r.str(attrExecutionARN),
		ExpiresAt: time.Unix(r.num(attrExpiresAt), 0).UTC(),
	}
	if pk := r.str(attrPK); pk != "" {
		k, err := parseGroupPK(pk)
		if err != nil && r.err == nil {
			r.err = err
		}
		lease.Group = k
	}
	if r.err != nil {
		return rollout.Lease{}, fmt.Errorf("decode lease: %w", r.err)
	}
	return lease, nil
}

// ActiveRollout returns the rollout holding the group's lease. ok is false
// when nobody holds it. Prepare takes the lease before it records the
// rollout, so a lease whose rollout is not recorded yet yields a record
// with only the id, group and execution, in StatusPreparing: the group is
// taken, and saying otherwise would invite a second rollout.
func (l *Ledger) ActiveRollout(ctx context.Context, key rollout.GroupKey) (rollout.Rollout, bool, error) {
	lease, ok, err := l.lease(ctx, key)
	if err != nil || !ok {
		return rollout.Rollout{}, false, err
	}
	r, err := l.GetRollout(ctx, lease.Owner)
	if err != nil {
		var missing *rollout.NotFoundError
		if errors.As(err, &missing) {
			return rollout.Rollout{ID: lease.Owner, Group: key, ExecutionARN: lease.Execution, Status: rollout.StatusPreparing}, true, nil
		}
		return rollout.Rollout{}, false, err
	}
	return r, true, nil
}
