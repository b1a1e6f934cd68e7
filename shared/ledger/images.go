package ledger

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/phoenix-rollouts/phoenix/shared/lifecycle"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// The image record (docs/lifecycle.md): what Phoenix recorded of one AMI,
// the lifecycle.Tracked fields, under IMAGE#<region> with the AMI id as
// the sort key. One partition per region: a region holds hundreds or
// thousands of images, far below a partition's limits (10 GB; 1,000
// writes and 3,000 reads a second), and the nightly run reads them all
// with one Query.
const (
	prefixImage = "IMAGE#"

	attrRolled             = "rolled"
	attrRolledAt           = "rolledAt"
	attrUnusedSince        = "unusedSince"
	attrDeprecated         = "deprecated"
	attrDisabledAt         = "disabledAt"
	attrProtectedByPhoenix = "protectedByPhoenix"
	// attrUpdatedAt is the time of the run that last wrote the record
	// (attrUpdatedBy): no older run's write replaces it.
	attrUpdatedAt = "updatedAt"
	attrUpdatedBy = "updatedBy"
)

// imageKey is the key of an image record.
func imageKey(region, imageID string) (map[string]types.AttributeValue, error) {
	pk, err := regionPK(prefixImage, region)
	if err != nil {
		return nil, err
	}
	if err := checkImageID(imageID); err != nil {
		return nil, err
	}
	return itemKey(pk, imageID), nil
}

// ImageRecords returns every image record of the region by AMI id, with
// strongly consistent reads, so that a run sees what the run before it
// wrote. Errors: *rollout.BadInputError for a region the ledger has no key
// for, *rollout.TransientError.
func (l *Ledger) ImageRecords(ctx context.Context, region string) (map[string]lifecycle.Tracked, error) {
	pk, err := regionPK(prefixImage, region)
	if err != nil {
		return nil, err
	}
	recs, err := queryAll(ctx, l, "read image records of "+region, 0, &dynamodb.QueryInput{
		TableName:                 aws.String(l.table),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
		ConsistentRead:            aws.Bool(true),
	}, decodeImageRecord)
	if err != nil {
		return nil, err
	}
	out := make(map[string]lifecycle.Tracked, len(recs))
	for _, r := range recs {
		out[r.imageID] = r.tracked
	}
	return out, nil
}

type imageRecord struct {
	imageID string
	tracked lifecycle.Tracked
}

func decodeImageRecord(it map[string]types.AttributeValue) (imageRecord, error) {
	r := &reader{it: it}
	rec := imageRecord{imageID: r.str(attrSK), tracked: lifecycle.Tracked{
		Rolled:             r.flag(attrRolled),
		UnusedSince:        r.time(attrUnusedSince),
		Deprecated:         r.flag(attrDeprecated),
		DisabledAt:         r.time(attrDisabledAt),
		ProtectedByPhoenix: r.flag(attrProtectedByPhoenix),
	}}
	if r.err != nil {
		return imageRecord{}, fmt.Errorf("image record %s: %w", rec.imageID, r.err)
	}
	return rec, nil
}

// PutImageRecord records t as what Phoenix knows of the image, written by
// the run runID of time at (the schedule event's). The write is refused,
// silently, when the stored record was written by a run later than at, so
// that a late or retried run never undoes a later night's decision; a
// write of the same time replaces it (a retried run writes the same
// again). Rolled is never cleared: it says a rollout rolled the image,
// which stays true, and a run that read the record before a rollout's
// MarkRolled must not undo it. A record with nothing set deletes the item
// on the same condition, or, when the image is marked rolled, clears all
// but that. Errors: *rollout.BadInputError for a region, an image id, a
// run id or a time the ledger cannot record, *rollout.TransientError.
func (l *Ledger) PutImageRecord(ctx context.Context, region, imageID string, t lifecycle.Tracked, runID string, at time.Time) error {
	key, err := imageKey(region, imageID)
	if err != nil {
		return err
	}
	if runID == "" || at.IsZero() {
		return &rollout.BadInputError{Reason: fmt.Sprintf("the record of image %s needs the run's id and time", imageID)}
	}
	for what, tm := range map[string]time.Time{"run time": at, "unused since": t.UnusedSince, "disabled at": t.DisabledAt} {
		if err := checkTime(fmt.Sprintf("image %s: %s", imageID, what), tm); err != nil {
			return err
		}
	}
	op := "record image " + imageID + " in " + region
	log := l.logger().With("region", region, "imageId", imageID, "runId", runID, "at", at.UTC())
	if !t.Rolled && t.UnusedSince.IsZero() && !t.Deprecated && t.DisabledAt.IsZero() && !t.ProtectedByPhoenix {
		out, err := l.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName: aws.String(l.table),
			Key:       key,
			// Times are fixed-width UTC strings, so string order is time order.
			ConditionExpression:       aws.String("attribute_not_exists(#rolled) AND (attribute_not_exists(#updatedAt) OR #updatedAt <= :updatedAt)"),
			ExpressionAttributeNames:  map[string]string{"#rolled": attrRolled, "#updatedAt": attrUpdatedAt},
			ExpressionAttributeValues: map[string]types.AttributeValue{":updatedAt": str(formatTime(at))},
			ReturnValues:              types.ReturnValueAllOld,
		})
		switch {
		case err == nil:
			if len(out.Attributes) > 0 {
				log.InfoContext(ctx, "image record deleted")
			}
			return nil
		case !conditionFailed(err):
			return classify(op, err)
		}
		// Refused: the image is marked rolled, and the update below clears
		// the rest, or the stored record is newer, and the update is
		// refused too.
	}
	_, err = l.db.UpdateItem(ctx, imageUpdate(l.table, key, t, runID, at))
	switch {
	case conditionFailed(err):
		log.InfoContext(ctx, "image record kept: the stored one is newer")
		return nil
	case err != nil:
		return classify(op, err)
	}
	log.InfoContext(ctx, "image record written", "rolled", t.Rolled, "unusedSince", t.UnusedSince,
		"deprecated", t.Deprecated, "disabledAt", t.DisabledAt, "protectedByPhoenix", t.ProtectedByPhoenix)
	return nil
}

// imageUpdate builds PutImageRecord's UpdateItem: the fields t sets are
// set, the others removed, but rolled, which is only ever set.
func imageUpdate(table string, key map[string]types.AttributeValue, t lifecycle.Tracked, runID string, at time.Time) *dynamodb.UpdateItemInput {
	it := item{}
	it.flag(attrRolled, t.Rolled)
	it.time(attrUnusedSince, t.UnusedSince)
	it.flag(attrDeprecated, t.Deprecated)
	it.time(attrDisabledAt, t.DisabledAt)
	it.flag(attrProtectedByPhoenix, t.ProtectedByPhoenix)
	it.time(attrUpdatedAt, at)
	it.str(attrUpdatedBy, runID)
	names := map[string]string{}
	values := map[string]types.AttributeValue{}
	var sets, removes []string
	for _, name := range []string{attrRolled, attrUnusedSince, attrDeprecated, attrDisabledAt, attrProtectedByPhoenix, attrUpdatedAt, attrUpdatedBy} {
		v, ok := it[name]
		switch {
		case ok:
			names["#"+name], values[":"+name] = name, v
			sets = append(sets, "#"+name+" = :"+name)
		case name != attrRolled:
			names["#"+name] = name
			removes = append(removes, "#"+name)
		}
	}
	expr := "SET " + strings.Join(sets, ", ")
	if len(removes) > 0 {
		expr += " REMOVE " + strings.Join(removes, ", ")
	}
	return &dynamodb.UpdateItemInput{
		TableName:        aws.String(table),
		Key:              key,
		UpdateExpression: aws.String(expr),
		// Times are fixed-width UTC strings, so string order is time order;
		// a record MarkRolled created has no updatedAt.
		ConditionExpression:       aws.String("attribute_not_exists(#updatedAt) OR #updatedAt <= :updatedAt"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}
}

// MarkRolled records that a Phoenix rollout rolls the image (so that the
// image is Phoenix's to retire once out of use), creating its record if
// there is none. It sets rolled, and rolledAt to at the first time, and
// nothing else: it leaves updatedAt alone, so that it never orders against
// a nightly run's write. Marking an image marked before changes nothing.
// Errors: *rollout.BadInputError, *rollout.TransientError.
func (l *Ledger) MarkRolled(ctx context.Context, region, imageID string, at time.Time) error {
	key, err := imageKey(region, imageID)
	if err != nil {
		return err
	}
	if at.IsZero() {
		return &rollout.BadInputError{Reason: fmt.Sprintf("marking image %s rolled needs the rollout's time", imageID)}
	}
	if err := checkTime("image "+imageID+" rolled at", at); err != nil {
		return err
	}
	_, err = l.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(l.table),
		Key:                       key,
		UpdateExpression:          aws.String("SET #rolled = :rolled, #rolledAt = :rolledAt"),
		ConditionExpression:       aws.String("attribute_not_exists(#rolled)"),
		ExpressionAttributeNames:  map[string]string{"#rolled": attrRolled, "#rolledAt": attrRolledAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{":rolled": &types.AttributeValueMemberBOOL{Value: true}, ":rolledAt": str(formatTime(at))},
	})
	switch {
	case conditionFailed(err):
		return nil
	case err != nil:
		return classify("mark image "+imageID+" in "+region+" rolled", err)
	}
	l.logger().InfoContext(ctx, "image marked rolled", "region", region, "imageId", imageID, "at", at.UTC())
	return nil
}
