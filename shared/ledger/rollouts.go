package ledger

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// PutRollout records a new rollout and its group history entry. A rollout
// recorded before (a retried Prepare) is returned as stored, unchanged;
// the history entry is written again if missing, which heals a first
// attempt that died between the two writes. Errors: *rollout.BadInputError
// for a record without id, group or start time, *rollout.TransientError.
func (l *Ledger) PutRollout(ctx context.Context, r rollout.Rollout) (rollout.Rollout, error) {
	if r.ID == "" {
		return rollout.Rollout{}, &rollout.BadInputError{Reason: "rollout id is required"}
	}
	if _, err := groupPK(r.Group); err != nil {
		return rollout.Rollout{}, err
	}
	if r.StartedAt.IsZero() {
		return rollout.Rollout{}, &rollout.BadInputError{Reason: fmt.Sprintf("rollout %s: start time is required", r.ID)}
	}
	for what, t := range map[string]time.Time{"start": r.StartedAt, "end": r.EndedAt} {
		if err := checkTime("rollout "+r.ID+" "+what, t); err != nil {
			return rollout.Rollout{}, err
		}
	}
	it := rolloutItem(r)
	it[attrPK] = str(rolloutPK(r.ID))
	it[attrSK] = str(skMeta)
	it[attrGSI1PK] = str(gsiRollouts)
	it[attrGSI1SK] = str(byTimeSK(r.StartedAt, r.ID))
	var keys []string
	for _, s := range r.Steps {
		if !slices.Contains(keys, s.Key) {
			keys = append(keys, s.Key)
		}
	}
	if len(keys) > 0 {
		it[attrStepKeys] = &types.AttributeValueMemberSS{Value: keys}
	}
	it.num(attrLastSignal, 0)
	it[attrSignalSeqs] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}
	it.num(attrRev, 1)

	_, err := l.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(l.table),
		Item:                     it,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK},
	})
	switch {
	case conditionFailed(err):
		stored, rev, err := l.getRollout(ctx, r.ID)
		if err != nil {
			return rollout.Rollout{}, err
		}
		return stored, l.syncHistory(ctx, stored, rev)
	case err != nil:
		return rollout.Rollout{}, classify("record rollout "+r.ID, err)
	}
	stored, err := decodeRollout(it)
	if err != nil {
		return rollout.Rollout{}, err
	}
	l.logger().InfoContext(ctx, "rollout recorded", rolloutAttrs(stored)...)
	return stored, l.syncHistory(ctx, stored, 1)
}

// GetRollout reads a rollout; *rollout.NotFoundError if it is not recorded.
func (l *Ledger) GetRollout(ctx context.Context, id string) (rollout.Rollout, error) {
	r, _, err := l.getRollout(ctx, id)
	return r, err
}

// getRollout reads a rollout and its rev.
func (l *Ledger) getRollout(ctx context.Context, id string) (rollout.Rollout, int64, error) {
	it, err := l.getItem(ctx, "read rollout "+id, rolloutPK(id), skMeta)
	if err != nil {
		return rollout.Rollout{}, 0, err
	}
	if it == nil {
		return rollout.Rollout{}, 0, notFound(id)
	}
	r, err := decodeRollout(it)
	if err != nil {
		return rollout.Rollout{}, 0, err
	}
	rd := &reader{it: it}
	rev := rd.num(attrRev)
	return r, rev, rd.err
}

// UpdateRollout applies u to the rollout in one conditional UpdateItem: the
// non-zero fields are set, and u.Step is appended unless a step with its
// key is recorded already. When the key is recorded (a retried step) the
// stored record is returned and nothing changes. A terminal status never
// goes back to a non-terminal one: such an update keeps the terminal status
// and applies the rest, because a late retry must not reopen an ended
// rollout. One terminal status may replace another (reverted, then dirty
// when notifying failed). Errors: *rollout.NotFoundError,
// *rollout.BadInputError, *rollout.TransientError.
func (l *Ledger) UpdateRollout(ctx context.Context, id string, u rollout.RolloutUpdate) (rollout.Rollout, error) {
	if err := checkUpdate(id, u); err != nil {
		return rollout.Rollout{}, err
	}
	if u.Status == "" && u.To == nil && u.RefreshID == "" && u.Reason == "" && u.EndedAt.IsZero() && u.Step == nil {
		return l.GetRollout(ctx, id)
	}
	withStatus := u.Status != ""
	for {
		out, err := l.db.UpdateItem(ctx, updateInput(l.table, id, u, withStatus))
		if err == nil {
			r, err := decodeRollout(out.Attributes)
			if err != nil {
				return rollout.Rollout{}, err
			}
			rd := &reader{it: out.Attributes}
			rev := rd.num(attrRev)
			if rd.err != nil {
				return rollout.Rollout{}, rd.err
			}
			attrs := rolloutAttrs(r)
			if u.Step != nil {
				attrs = append(attrs, "step", u.Step.Key)
			}
			l.logger().InfoContext(ctx, "rollout updated", attrs...)
			return r, l.syncHistory(ctx, r, rev)
		}
		if !conditionFailed(err) {
			return rollout.Rollout{}, classify("update rollout "+id, err)
		}
		stored, rev, err := l.getRollout(ctx, id)
		if err != nil {
			return rollout.Rollout{}, err
		}
		switch {
		case u.Step != nil && slices.ContainsFunc(stored.Steps, func(s rollout.Step) bool { return s.Key == u.Step.Key }):
			return stored, l.syncHistory(ctx, stored, rev)
		case withStatus && !u.Status.Terminal() && stored.Status.Terminal():
			l.logger().WarnContext(ctx, "a terminal rollout keeps its status", append(rolloutAttrs(stored), "refusedStatus", u.Status)...)
			withStatus = false
		default:
			// Every condition is monotonic (the item exists for good, a
			// recorded key stays, a terminal status stays terminal), so a
			// refusal that none of them explains is not a race.
			return rollout.Rollout{}, fmt.Errorf("update rollout %s: refused for no known reason", id)
		}
	}
}

// checkUpdate refuses an update the ledger cannot record.
func checkUpdate(id string, u rollout.RolloutUpdate) error {
	if id == "" {
		return &rollout.BadInputError{Reason: "rollout id is required"}
	}
	if u.Step != nil {
		if u.Step.Key == "" {
			return &rollout.BadInputError{Reason: fmt.Sprintf("rollout %s: a step needs a key", id)}
		}
		if err := checkTime("step "+u.Step.Key, u.Step.At); err != nil {
			return err
		}
	}
	return checkTime("end of rollout "+id, u.EndedAt)
}

// updateInput builds UpdateRollout's UpdateItem. DynamoDB refuses names
// and values an expression does not use, so each is added with its use.
func updateInput(table, id string, u rollout.RolloutUpdate, withStatus bool) *dynamodb.UpdateItemInput {
	names := map[string]string{"#pk": attrPK, "#rev": attrRev}
	values := map[string]types.AttributeValue{":one": num(1)}
	sets := []string{"#rev = #rev + :one"}
	conds := []string{"attribute_exists(#pk)"}
	set := func(attr string, v types.AttributeValue) {
		names["#"+attr] = attr
		values[":"+attr] = v
		sets = append(sets, fmt.Sprintf("#%s = :%s", attr, attr))
	}
	if withStatus {
		set(attrStatus, str(string(u.Status)))
		if !u.Status.Terminal() {
			var placeholders []string
			for i, s := range rollout.TerminalStatuses {
				p := fmt.Sprintf(":terminal%d", i)
				values[p] = str(string(s))
				placeholders = append(placeholders, p)
			}
			conds = append(conds, fmt.Sprintf("NOT (#status IN (%s))", strings.Join(placeholders, ", ")))
		}
	}
	if u.To != nil {
		set(attrTo, versionValue(*u.To))
	}
	if u.RefreshID != "" {
		set(attrRefreshID, str(u.RefreshID))
	}
	if u.Reason != "" {
		set(attrReason, str(u.Reason))
	}
	if !u.EndedAt.IsZero() {
		set(attrEndedAt, str(formatTime(u.EndedAt)))
	}
	expr := "SET " + strings.Join(sets, ", ")
	if u.Step != nil {
		names["#steps"] = attrSteps
		names["#stepKeys"] = attrStepKeys
		values[":step"] = &types.AttributeValueMemberL{Value: []types.AttributeValue{stepValue(*u.Step)}}
		values[":noSteps"] = &types.AttributeValueMemberL{Value: []types.AttributeValue{}}
		values[":stepKey"] = str(u.Step.Key)
		values[":stepKeySet"] = &types.AttributeValueMemberSS{Value: []string{u.Step.Key}}
		expr += ", #steps = list_append(if_not_exists(#steps, :noSteps), :step) ADD #stepKeys :stepKeySet"
		conds = append(conds, "NOT contains(#stepKeys, :stepKey)")
	}
	if withStatus && u.Status.Terminal() {
		// An ended rollout parks no task again: its last token resumes
		// nothing, and a credential-shaped value has no business staying.
		names["#token"] = attrToken
		expr += " REMOVE #token"
	}
	return &dynamodb.UpdateItemInput{
		TableName:                 aws.String(table),
		Key:                       itemKey(rolloutPK(id), skMeta),
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String(strings.Join(conds, " AND ")),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		ReturnValues:              types.ReturnValueAllNew,
	}
}

// syncHistory writes the group history entry of r unless an entry with a
// newer rev is there already: concurrent updates may finish their two
// writes in any order, and the entry must end on the newest record.
func (l *Ledger) syncHistory(ctx context.Context, r rollout.Rollout, rev int64) error {
	pk, err := groupPK(r.Group)
	if err != nil {
		return err
	}
	it := rolloutItem(r)
	it[attrPK] = str(pk)
	it[attrSK] = str(historySK(r.StartedAt, r.ID))
	it.num(attrRev, rev)
	_, err = l.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(l.table),
		Item:                      it,
		ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #rev < :rev"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#rev": attrRev},
		ExpressionAttributeValues: map[string]types.AttributeValue{":rev": num(rev)},
	})
	if err != nil && !conditionFailed(err) {
		return classify("record history of rollout "+r.ID, err)
	}
	return nil
}

// History lists the group's rollouts started at or after since, newest
// first, at most limit of them (all if limit <= 0), from the group's
// history entries: one strongly consistent Query, no per-rollout reads.
func (l *Ledger) History(ctx context.Context, key rollout.GroupKey, since time.Time, limit int) ([]rollout.Rollout, error) {
	pk, err := groupPK(key)
	if err != nil {
		return nil, err
	}
	if err := checkTime("since", since); err != nil {
		return nil, err
	}
	return l.query(ctx, "history of "+key.String(), limit, &dynamodb.QueryInput{
		TableName:                aws.String(l.table),
		KeyConditionExpression:   aws.String("#pk = :pk AND #sk BETWEEN :from AND :to"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK, "#sk": attrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(pk), ":from": str(prefixRollout + formatTime(since)), ":to": str(skRolloutEnd),
		},
		ScanIndexForward: aws.Bool(false),
		ConsistentRead:   aws.Bool(true),
	})
}

// Recent lists the rollouts of every group started at or after since,
// newest first, at most limit of them (all if limit <= 0), through the
// byTime index. The index is eventually consistent: a rollout recorded a
// moment ago may be missing.
func (l *Ledger) Recent(ctx context.Context, since time.Time, limit int) ([]rollout.Rollout, error) {
	if err := checkTime("since", since); err != nil {
		return nil, err
	}
	return l.query(ctx, "recent rollouts", limit, &dynamodb.QueryInput{
		TableName:                aws.String(l.table),
		IndexName:                aws.String(IndexByTime),
		KeyConditionExpression:   aws.String("#pk = :pk AND #sk >= :from"),
		ExpressionAttributeNames: map[string]string{"#pk": attrGSI1PK, "#sk": attrGSI1SK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(gsiRollouts), ":from": str(formatTime(since)),
		},
		ScanIndexForward: aws.Bool(false),
	})
}

// query pages through in, decoding rollout records, until limit records
// (or all, if limit <= 0) are read.
func (l *Ledger) query(ctx context.Context, op string, limit int, in *dynamodb.QueryInput) ([]rollout.Rollout, error) {
	return queryAll(ctx, l, op, limit, in, decodeRollout)
}

// rolloutAttrs are the log attributes naming a rollout.
func rolloutAttrs(r rollout.Rollout) []any {
	return []any{
		"rolloutId", r.ID, "region", r.Group.Region, "group", r.Group.Name, "status", r.Status,
		"fromVersion", r.From.Number, "toVersion", r.To.Number, "imageId", r.To.ImageID, "refreshId", r.RefreshID,
	}
}
