package ledger

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/phoenix-rollouts/phoenix/shared/recycle"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// The drift report item (docs/recycle.md, "The drift item"): one per
// group, beside its lease and last-known-good, holding the latest report.
const (
	skDrift = "DRIFT"

	attrMaxAgeSeconds    = "maxAgeSeconds"
	attrInstances        = "instances"
	attrOffVersion       = "offVersion"
	attrOffImage         = "offImage"
	attrOverMaxAge       = "overMaxAge"
	attrOldestAgeSeconds = "oldestAgeSeconds"
	attrOffenders        = "offenders"
	attrNote             = "note"
)

var _ recycle.Ledger = (*Ledger)(nil)

// PutDrift records d as its group's latest drift report. The write is
// refused, silently, when the stored report is newer than d (a late retry
// of an older night must not hide a newer report); a report of the same
// instant replaces it, so a retried night writes the same report again.
// At most recycle.MaxOffenders instance ids are kept. Errors:
// *rollout.BadInputError for a report without a group or a time,
// *rollout.TransientError.
func (l *Ledger) PutDrift(ctx context.Context, d recycle.Drift) error {
	pk, err := groupPK(d.Group)
	if err != nil {
		return err
	}
	if d.At.IsZero() {
		return &rollout.BadInputError{Reason: fmt.Sprintf("drift report of %s needs a time", d.Group)}
	}
	if err := checkTime("drift report time", d.At); err != nil {
		return err
	}
	it := item{attrPK: str(pk), attrSK: str(skDrift)}
	it.time(attrAt, d.At)
	it.str(attrEventID, d.EventID)
	it.str(attrLaunchTemplateID, d.Desired.LaunchTemplateID)
	it.num(attrVersion, d.Desired.Number)
	it.str(attrImageID, d.Desired.ImageID)
	it.num(attrMaxAgeSeconds, d.MaxAgeSeconds)
	it.num(attrInstances, int64(d.Instances))
	it.num(attrOffVersion, int64(d.OffVersion))
	it.num(attrOffImage, int64(d.OffImage))
	it.num(attrOverMaxAge, int64(d.OverMaxAge))
	it.num(attrOldestAgeSeconds, d.OldestAgeSeconds)
	offenders := make([]types.AttributeValue, 0, min(len(d.Offenders), recycle.MaxOffenders))
	for _, id := range d.Offenders[:min(len(d.Offenders), recycle.MaxOffenders)] {
		offenders = append(offenders, str(id))
	}
	it[attrOffenders] = &types.AttributeValueMemberL{Value: offenders}
	it.str(attrNote, d.Note)
	_, err = l.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(l.table),
		Item:      it,
		// Times are fixed-width UTC strings, so string order is time order.
		ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #at <= :at"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#at": attrAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": str(formatTime(d.At))},
	})
	log := l.logger().With("eventId", d.EventID, "region", d.Group.Region, "group", d.Group.Name, "at", d.At.UTC())
	switch {
	case conditionFailed(err):
		log.InfoContext(ctx, "drift report kept: the stored one is newer")
		return nil
	case err != nil:
		return classify("record drift report of "+d.Group.String(), err)
	}
	log.InfoContext(ctx, "drift report recorded", "offVersion", d.OffVersion, "offImage", d.OffImage, "overMaxAge", d.OverMaxAge)
	return nil
}

// Drift returns the group's latest drift report; ok is false when none is
// recorded.
func (l *Ledger) Drift(ctx context.Context, key rollout.GroupKey) (recycle.Drift, bool, error) {
	pk, err := groupPK(key)
	if err != nil {
		return recycle.Drift{}, false, err
	}
	it, err := l.getItem(ctx, "read drift report of "+key.String(), pk, skDrift)
	if err != nil || it == nil {
		return recycle.Drift{}, false, err
	}
	r := &reader{it: it}
	d := recycle.Drift{
		Group:            key,
		At:               r.time(attrAt),
		EventID:          r.str(attrEventID),
		Desired:          rollout.Version{LaunchTemplateID: r.str(attrLaunchTemplateID), Number: r.num(attrVersion), ImageID: r.str(attrImageID)},
		MaxAgeSeconds:    r.num(attrMaxAgeSeconds),
		Instances:        int(r.num(attrInstances)),
		OffVersion:       int(r.num(attrOffVersion)),
		OffImage:         int(r.num(attrOffImage)),
		OverMaxAge:       int(r.num(attrOverMaxAge)),
		OldestAgeSeconds: r.num(attrOldestAgeSeconds),
		Note:             r.str(attrNote),
	}
	if av, ok := it[attrOffenders]; ok {
		list, ok := av.(*types.AttributeValueMemberL)
		if !ok {
			r.fail(attrOffenders, "a list")
		} else {
			for _, v := range list.Value {
				s, ok := v.(*types.AttributeValueMemberS)
				if !ok {
					r.fail(attrOffenders, "a list of strings")
					break
				}
				d.Offenders = append(d.Offenders, s.Value)
			}
		}
	}
	if r.err != nil {
		return recycle.Drift{}, false, fmt.Errorf("read drift report of %s: %w", key, r.err)
	}
	return d, true, nil
}
