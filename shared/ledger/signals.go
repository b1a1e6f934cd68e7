package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// The no-lost-wake-up protocol (docs/design.md, "Signals and the parked
// token"). AddSignal (1) allocates a sequence number on the rollout item,
// (2) writes the SIGNAL#seq item, (3) reads the parked token. Park (a)
// stores its token on the rollout item, (b) reads the signals after the
// last one consumed. Writes to one item are serialized and the reads are
// strongly consistent, so either (a) precedes (3), and AddSignal returns
// the token to resume, or (3) precedes (a), and then (2) does too, and
// Park's read sees the signal. Neither order loses the wake-up.

// Park stores token as the rollout's parked task token and returns the
// signals recorded with a sequence number above afterSeq, oldest first.
// Parking again replaces the token. Errors: *rollout.NotFoundError,
// *rollout.TransientError.
func (l *Ledger) Park(ctx context.Context, rolloutID, token string, afterSeq int64) ([]rollout.Signal, error) {
	if rolloutID == "" || token == "" {
		return nil, &rollout.BadInputError{Reason: "park needs a rollout id and a task token"}
	}
	afterSeq = max(afterSeq, 0)
	out, err := l.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(l.table),
		Key:                       itemKey(rolloutPK(rolloutID), skMeta),
		UpdateExpression:          aws.String("SET #token = :token"),
		ConditionExpression:       aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#token": attrToken},
		ExpressionAttributeValues: map[string]types.AttributeValue{":token": str(token)},
		ReturnValues:              types.ReturnValueAllOld,
	})
	switch {
	case conditionFailed(err):
		return nil, notFound(rolloutID)
	case err != nil:
		return nil, classify("park task token of rollout "+rolloutID, err)
	}
	old := &reader{it: out.Attributes}
	last := old.num(attrLastSignal)
	if old.err != nil {
		return nil, fmt.Errorf("park task token of rollout %s: %w", rolloutID, old.err)
	}
	if old.str(attrToken) != token {
		// The token itself is a credential for SendTaskSuccess: never logged.
		l.logger().InfoContext(ctx, "task token parked", "rolloutId", rolloutID, "afterSeq", afterSeq, "lastSignal", last)
	}
	if last <= afterSeq {
		return nil, nil
	}
	return l.signals(ctx, rolloutID, afterSeq)
}

// signals reads the rollout's signals after afterSeq, oldest first.
func (l *Ledger) signals(ctx context.Context, rolloutID string, afterSeq int64) ([]rollout.Signal, error) {
	op := "read signals of rollout " + rolloutID
	p := dynamodb.NewQueryPaginator(l.db, &dynamodb.QueryInput{
		TableName:                aws.String(l.table),
		KeyConditionExpression:   aws.String("#pk = :pk AND #sk BETWEEN :from AND :to"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK, "#sk": attrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(rolloutPK(rolloutID)), ":from": str(signalSK(afterSeq + 1)), ":to": str(signalSK(maxSignalSeq)),
		},
		ConsistentRead: aws.Bool(true),
	})
	var out []rollout.Signal
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, classify(op, err)
		}
		for _, it := range page.Items {
			s, err := decodeSignal(it)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", op, err)
			}
			out = append(out, s)
		}
	}
	return out, nil
}

// AddSignal records s for the rollout with the next sequence number and
// returns it, Seq set, with the task token parked at the time ("" if none).
// The same signal added again (a redelivered event, a retried Lambda) keeps
// its first sequence number and is stored once; a first attempt that died
// after taking the number is completed. Errors: *rollout.NotFoundError,
// *rollout.BadInputError, *rollout.TransientError.
func (l *Ledger) AddSignal(ctx context.Context, rolloutID string, s rollout.Signal) (rollout.Signal, string, error) {
	if rolloutID == "" || s.Kind == "" {
		return rollout.Signal{}, "", &rollout.BadInputError{Reason: "a signal needs a rollout id and a kind"}
	}
	if err := checkTime("signal time", s.At); err != nil {
		return rollout.Signal{}, "", err
	}
	op := "record signal of rollout " + rolloutID
	id := signalID(s)
	// Both right-hand sides read the item as it was before the update, so
	// the counter and the signal's entry get the same new number, in one
	// atomic write.
	out, err := l.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(l.table),
		Key:                       itemKey(rolloutPK(rolloutID), skMeta),
		UpdateExpression:          aws.String("SET #last = #last + :one, #seqs.#id = #last + :one"),
		ConditionExpression:       aws.String("attribute_exists(#pk) AND attribute_not_exists(#seqs.#id)"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#last": attrLastSignal, "#seqs": attrSignalSeqs, "#id": id},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1)},
		ReturnValues:              types.ReturnValueUpdatedNew,
	})
	fresh := err == nil
	switch {
	case fresh:
		r := &reader{it: out.Attributes}
		s.Seq = r.num(attrLastSignal)
		if r.err != nil {
			return rollout.Signal{}, "", fmt.Errorf("%s: %w", op, r.err)
		}
		if s.Seq <= 0 {
			return rollout.Signal{}, "", fmt.Errorf("%s: no sequence number came back", op)
		}
	case conditionFailed(err):
		seq, err := l.signalSeq(ctx, rolloutID, id)
		if err != nil {
			return rollout.Signal{}, "", err
		}
		s.Seq = seq
	default:
		return rollout.Signal{}, "", classify(op, err)
	}
	if s.Seq > maxSignalSeq {
		return rollout.Signal{}, "", fmt.Errorf("%s: sequence %d overflows the key", op, s.Seq)
	}
	_, err = l.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(l.table),
		Item:                     signalItem(rolloutID, s),
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK},
	})
	if err != nil && !conditionFailed(err) {
		return rollout.Signal{}, "", classify(op, err)
	}
	if fresh {
		l.logger().InfoContext(ctx, "signal recorded", "rolloutId", rolloutID, "kind", s.Kind, "seq", s.Seq,
			"refreshId", s.RefreshID, "percentage", s.Percentage, "alarm", s.Alarm)
	}
	token, err := l.token(ctx, rolloutID)
	if err != nil {
		return rollout.Signal{}, "", err
	}
	return s, token, nil
}

// signalSeq reads the sequence number given to the signal with identity
// id; *rollout.NotFoundError when the rollout is not recorded.
func (l *Ledger) signalSeq(ctx context.Context, rolloutID, id string) (int64, error) {
	it, err := l.getItem(ctx, "read signal numbers of rollout "+rolloutID, rolloutPK(rolloutID), skMeta)
	if err != nil {
		return 0, err
	}
	if it == nil {
		return 0, notFound(rolloutID)
	}
	seqs := (&reader{it: it}).m(attrSignalSeqs)
	seq := seqs.num(id)
	if seqs.err != nil {
		return 0, fmt.Errorf("record signal of rollout %s: %w", rolloutID, seqs.err)
	}
	if seq <= 0 {
		return 0, fmt.Errorf("record signal of rollout %s: signal %s was refused but has no number", rolloutID, id)
	}
	return seq, nil
}

// token reads the rollout's parked task token.
func (l *Ledger) token(ctx context.Context, rolloutID string) (string, error) {
	out, err := l.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                aws.String(l.table),
		Key:                      itemKey(rolloutPK(rolloutID), skMeta),
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     aws.String("#token"),
		ExpressionAttributeNames: map[string]string{"#token": attrToken},
	})
	if err != nil {
		return "", classify("read task token of rollout "+rolloutID, err)
	}
	r := &reader{it: out.Item}
	token := r.str(attrToken)
	return token, r.err
}

// signalID is a signal's identity: every field but Seq, hashed to a short
// map key. Two deliveries of one event give the same identity; distinct
// events differ at least in time.
func signalID(s rollout.Signal) string {
	h := sha256.New()
	for _, f := range []string{s.Kind, s.RefreshID, strconv.Itoa(s.Percentage), s.Alarm, s.Reason, formatTime(s.At)} {
		// Length-prefixed, so that no two field lists hash the same text.
		fmt.Fprintf(h, "%d:%s|", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
