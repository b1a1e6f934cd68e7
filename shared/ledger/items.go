package ledger

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Attribute names of the items. Expressions always refer to them through
// ExpressionAttributeNames, so DynamoDB's reserved words (status, from, to,
// group, mode ...) need no care.
const (
	attrRolloutID    = "rolloutId"
	attrRegion       = "region"
	attrGroup        = "group"
	attrMode         = "mode"
	attrTrigger      = "trigger"
	attrStatus       = "status"
	attrFrom         = "from"
	attrTo           = "to"
	attrRefreshID    = "refreshId"
	attrExecutionARN = "executionArn"
	attrStartedAt    = "startedAt"
	attrEndedAt      = "endedAt"
	attrReason       = "reason"
	attrStrategy     = "strategy"
	attrPair         = "pair"
	attrLive         = "live"
	attrIdle         = "idle"
	attrName         = "name"
	attrSteps        = "steps"
	// attrStepKeys is the string set of recorded step keys: the condition
	// that keeps a retried step from being appended twice.
	attrStepKeys = "stepKeys"
	// attrToken is the task token of the parked Await.
	attrToken = "token"
	// attrLastSignal is the last signal sequence number handed out.
	attrLastSignal = "lastSignal"
	// attrSignalSeqs maps a signal's identity to its sequence number, so
	// that a retried AddSignal finds the number it was given before.
	attrSignalSeqs = "signalSeqs"
	// attrRev counts the changes of a rollout record; a group history entry
	// is only ever replaced by a copy with a higher rev.
	attrRev = "rev"

	attrOwner     = "owner"
	attrExpiresAt = "expiresAt"

	attrLaunchTemplateID = "launchTemplateId"
	attrVersion          = "version"
	attrImageID          = "imageId"
	attrAt               = "at"

	attrKind       = "kind"
	attrSource     = "source"
	attrEventID    = "eventId"
	attrPercentage = "percentage"
	attrAlarm      = "alarm"
	attrSeq        = "seq"
	attrKey        = "key"
	attrDetail     = "detail"
)

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// item collects attributes, leaving out empty strings and zero times:
// an absent attribute and an empty one read back the same, and absent ones
// keep items small.
type item map[string]types.AttributeValue

func (it item) str(name, v string) {
	if v != "" {
		it[name] = str(v)
	}
}

func (it item) time(name string, t time.Time) {
	if !t.IsZero() {
		it[name] = str(formatTime(t))
	}
}

func (it item) num(name string, n int64) { it[name] = num(n) }

// flag writes a true flag; a false one is left out, as an empty string is.
func (it item) flag(name string, v bool) {
	if v {
		it[name] = &types.AttributeValueMemberBOOL{Value: true}
	}
}

// strs writes a list of strings; an empty one is left out.
func (it item) strs(name string, vs []string) {
	if len(vs) == 0 {
		return
	}
	l := make([]types.AttributeValue, 0, len(vs))
	for _, v := range vs {
		l = append(l, str(v))
	}
	it[name] = &types.AttributeValueMemberL{Value: l}
}

// reader reads attributes of an item, keeping the first malformed one as
// its error so that decoding code reads straight through.
type reader struct {
	it  map[string]types.AttributeValue
	err error
}

func (r *reader) fail(name, want string) {
	if r.err == nil {
		r.err = fmt.Errorf("attribute %s is not %s", name, want)
	}
}

func (r *reader) str(name string) string {
	av, ok := r.it[name]
	if !ok {
		return ""
	}
	s, ok := av.(*types.AttributeValueMemberS)
	if !ok {
		r.fail(name, "a string")
		return ""
	}
	return s.Value
}

func (r *reader) num(name string) int64 {
	av, ok := r.it[name]
	if !ok {
		return 0
	}
	n, ok := av.(*types.AttributeValueMemberN)
	if !ok {
		r.fail(name, "a number")
		return 0
	}
	v, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		r.fail(name, "an integer")
	}
	return v
}

func (r *reader) time(name string) time.Time {
	s := r.str(name)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		r.fail(name, "an RFC 3339 time")
	}
	return t
}

// value returns the attribute as a T; ok is false when it is absent, or
// of another type, which is kept as r's error.
func value[T types.AttributeValue](r *reader, name, want string) (v T, ok bool) {
	av, present := r.it[name]
	if !present {
		return v, false
	}
	if v, ok = av.(T); !ok {
		r.fail(name, want)
	}
	return v, ok
}

func (r *reader) flag(name string) bool {
	b, ok := value[*types.AttributeValueMemberBOOL](r, name, "a boolean")
	return ok && b.Value
}

func (r *reader) strs(name string) []string {
	l, ok := value[*types.AttributeValueMemberL](r, name, "a list")
	if !ok {
		return nil
	}
	out := make([]string, 0, len(l.Value))
	for _, av := range l.Value {
		s, ok := av.(*types.AttributeValueMemberS)
		if !ok {
			r.fail(name, "a list of strings")
			return nil
		}
		out = append(out, s.Value)
	}
	return out
}

func (r *reader) m(name string) *reader {
	sub := &reader{}
	if av, ok := r.it[name]; ok {
		if m, ok := av.(*types.AttributeValueMemberM); ok {
			sub.it = m.Value
		} else {
			r.fail(name, "a map")
		}
	}
	return sub
}

// absorb keeps the error of a nested reader.
func (r *reader) absorb(sub *reader, name string) {
	if sub.err != nil && r.err == nil {
		r.err = fmt.Errorf("%s: %w", name, sub.err)
	}
}

func versionValue(v rollout.Version) types.AttributeValue {
	it := item{}
	it.str(attrLaunchTemplateID, v.LaunchTemplateID)
	it.num(attrVersion, v.Number)
	it.str(attrImageID, v.ImageID)
	return &types.AttributeValueMemberM{Value: it}
}

func (r *reader) version(name string) rollout.Version {
	sub := r.m(name)
	v := rollout.Version{LaunchTemplateID: sub.str(attrLaunchTemplateID), Number: sub.num(attrVersion), ImageID: sub.str(attrImageID)}
	r.absorb(sub, name)
	return v
}

func stepValue(s rollout.Step) types.AttributeValue {
	it := item{}
	it.str(attrKey, s.Key)
	it.time(attrAt, s.At)
	it.str(attrDetail, s.Detail)
	return &types.AttributeValueMemberM{Value: it}
}

// rolloutItem holds the rollout.Rollout fields of a rollout record; the
// META item and the group history entry both carry them.
func rolloutItem(r rollout.Rollout) item {
	it := item{}
	it.str(attrRolloutID, r.ID)
	it.str(attrRegion, r.Group.Region)
	it.str(attrGroup, r.Group.Name)
	it.str(attrMode, string(r.Mode))
	trig := item{}
	trig.str(attrKind, r.Trigger.Kind)
	trig.str(attrSource, r.Trigger.Source)
	trig.str(attrEventID, r.Trigger.EventID)
	it[attrTrigger] = &types.AttributeValueMemberM{Value: trig}
	it.str(attrStatus, string(r.Status))
	it[attrFrom] = versionValue(r.From)
	it[attrTo] = versionValue(r.To)
	it.str(attrRefreshID, r.RefreshID)
	it.str(attrExecutionARN, r.ExecutionARN)
	it.time(attrStartedAt, r.StartedAt)
	it.time(attrEndedAt, r.EndedAt)
	it.str(attrReason, r.Reason)
	it.str(attrStrategy, r.Strategy)
	if p := r.Pair; p != nil {
		pair := item{}
		pair.str(attrName, p.Name)
		pair.str(attrLive, p.Live)
		pair.str(attrIdle, p.Idle)
		it[attrPair] = &types.AttributeValueMemberM{Value: pair}
	}
	steps := make([]types.AttributeValue, 0, len(r.Steps))
	for _, s := range r.Steps {
		steps = append(steps, stepValue(s))
	}
	it[attrSteps] = &types.AttributeValueMemberL{Value: steps}
	return it
}

// decodeRollout reads a rollout record from a META item or a history entry.
func decodeRollout(it map[string]types.AttributeValue) (rollout.Rollout, error) {
	r := &reader{it: it}
	trig := r.m(attrTrigger)
	out := rollout.Rollout{
		ID:    r.str(attrRolloutID),
		Group: rollout.GroupKey{Region: r.str(attrRegion), Name: r.str(attrGroup)},
		Mode:  rollout.Mode(r.str(attrMode)),
		Trigger: rollout.Trigger{
			Kind: trig.str(attrKind), Source: trig.str(attrSource), EventID: trig.str(attrEventID),
		},
		Status:       rollout.Status(r.str(attrStatus)),
		From:         r.version(attrFrom),
		To:           r.version(attrTo),
		RefreshID:    r.str(attrRefreshID),
		ExecutionARN: r.str(attrExecutionARN),
		StartedAt:    r.time(attrStartedAt),
		EndedAt:      r.time(attrEndedAt),
		Reason:       r.str(attrReason),
		Strategy:     r.str(attrStrategy),
	}
	r.absorb(trig, attrTrigger)
	if _, ok := it[attrPair]; ok {
		p := r.m(attrPair)
		out.Pair = &rollout.PairSides{Name: p.str(attrName), Live: p.str(attrLive), Idle: p.str(attrIdle)}
		r.absorb(p, attrPair)
	}
	if av, ok := it[attrSteps]; ok {
		l, ok := av.(*types.AttributeValueMemberL)
		if !ok {
			r.fail(attrSteps, "a list")
		} else {
			for _, e := range l.Value {
				m, ok := e.(*types.AttributeValueMemberM)
				if !ok {
					r.fail(attrSteps, "a list of maps")
					break
				}
				s := &reader{it: m.Value}
				out.Steps = append(out.Steps, rollout.Step{Key: s.str(attrKey), At: s.time(attrAt), Detail: s.str(attrDetail)})
				r.absorb(s, attrSteps)
			}
		}
	}
	if r.err != nil {
		return rollout.Rollout{}, fmt.Errorf("decode rollout %s: %w", out.ID, r.err)
	}
	return out, nil
}

func signalItem(rolloutID string, s rollout.Signal) item {
	it := item{}
	it[attrPK] = str(rolloutPK(rolloutID))
	it[attrSK] = str(signalSK(s.Seq))
	it.str(attrKind, s.Kind)
	it.str(attrRefreshID, s.RefreshID)
	if s.Percentage != 0 {
		it.num(attrPercentage, int64(s.Percentage))
	}
	it.str(attrAlarm, s.Alarm)
	it.str(attrReason, s.Reason)
	it.time(attrAt, s.At)
	it.num(attrSeq, s.Seq)
	return it
}

func decodeSignal(it map[string]types.AttributeValue) (rollout.Signal, error) {
	r := &reader{it: it}
	s := rollout.Signal{
		Kind:       r.str(attrKind),
		RefreshID:  r.str(attrRefreshID),
		Percentage: int(r.num(attrPercentage)),
		Alarm:      r.str(attrAlarm),
		Reason:     r.str(attrReason),
		At:         r.time(attrAt),
		Seq:        r.num(attrSeq),
	}
	if r.err != nil {
		return rollout.Signal{}, fmt.Errorf("decode signal: %w", r.err)
	}
	return s, nil
}

// putNew writes it unless an item with its key is there: DynamoDB then
// refuses the write (conditionFailed).
func (l *Ledger) putNew(ctx context.Context, it item) error {
	_, err := l.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(l.table),
		Item:                     it,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK},
	})
	return err
}

// queryAll pages through in, decoding each item, until limit items (every
// item if limit <= 0) are read.
func queryAll[T any](ctx context.Context, l *Ledger, op string, limit int, in *dynamodb.QueryInput,
	decode func(map[string]types.AttributeValue) (T, error)) ([]T, error) {
	if limit > 0 {
		in.Limit = aws.Int32(int32(min(limit, math.MaxInt32)))
	}
	var out []T
	p := dynamodb.NewQueryPaginator(l.db, in)
	for p.HasMorePages() && (limit <= 0 || len(out) < limit) {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, classify(op, err)
		}
		for _, it := range page.Items {
			v, err := decode(it)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", op, err)
			}
			out = append(out, v)
		}
	}
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
