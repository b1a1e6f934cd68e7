package ledger

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/phoenix-rollouts/phoenix/shared/lifecycle"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// The lifecycle log (docs/lifecycle.md): one item per action a lifecycle
// run took or planned, under LIFECYCLE#<region>, sorted by time:
// sk <at>#<runId>#<seq, six digits>. The time has a fixed width and the
// sequence number comes last, so the key is unique whatever the run id
// holds. One partition per region: a night logs at most
// Policy.MaxActions destructive actions and a few restores and
// protections, far below a partition's limits.
//
// What a run keeps is not logged: a night keeps nearly every version and
// image, each on every night, so keeps would be most of the log and most
// of a night's writes, and `phoenix images plan` recomputes them at any
// time. An action that keeps something in use (restore, protect, unprotect,
// mark-used) is logged with the holds that explain it.
const (
	prefixLifecycle = "LIFECYCLE#"
	maxLifecycleSeq = 999_999
	maxRunID        = 256

	attrRunID       = "runId"
	attrAction      = "action"
	attrTarget      = "target"
	attrKeptBecause = "keptBecause"
	attrRule        = "rule"
	attrResult      = "result"
)

// LifecycleEntry is one action of a lifecycle run (lifecycle.LogEntry: the
// nightly run, which cannot import the ledger, builds them).
type LifecycleEntry = lifecycle.LogEntry

// lifecycleSK is the sort key of a log entry.
func lifecycleSK(at time.Time, runID string, seq int) string {
	return fmt.Sprintf("%s#%s#%06d", formatTime(at), runID, seq)
}

// checkEntry refuses an entry the log cannot hold, or that says nothing a
// reader could act on.
func checkEntry(e LifecycleEntry) error {
	bad := func(format string, args ...any) error {
		return &rollout.BadInputError{Reason: fmt.Sprintf("lifecycle log entry %d of run %q: ", e.Seq, e.RunID) + fmt.Sprintf(format, args...)}
	}
	switch {
	case e.At.IsZero():
		return bad("the run's time is required")
	case e.RunID == "" || len(e.RunID) > maxRunID || !utf8.ValidString(e.RunID):
		return bad("the run id must be 1 to %d bytes of UTF-8", maxRunID)
	case e.Seq < 0 || e.Seq > maxLifecycleSeq:
		return bad("the sequence number must be 0 to %d", maxLifecycleSeq)
	case e.Mode != lifecycle.LogModePlan && e.Mode != lifecycle.LogModeApply:
		return bad("mode %q is neither %s nor %s", e.Mode, lifecycle.LogModePlan, lifecycle.LogModeApply)
	case e.Action == lifecycle.ActionNone:
		return bad("no action: the log holds actions, not what a run keeps")
	case checkImageID(e.Target) != nil && !validVersionTarget(e.Target):
		return bad("target %q is neither an AMI id nor <launch template id>:<version>", e.Target)
	case e.By == "":
		return bad("who ran it is required")
	case e.Mode == lifecycle.LogModePlan && e.Result != "":
		return bad("a plan has no result (%q)", e.Result)
	case e.Mode == lifecycle.LogModeApply && !validResult(e.Result):
		return bad("result %q is not %q, %q<why> or %q<error>", e.Result, lifecycle.ResultDone, lifecycle.ResultSkippedPrefix, lifecycle.ResultFailedPrefix)
	}
	return checkTime(fmt.Sprintf("lifecycle run %s", e.RunID), e.At)
}

// validVersionTarget reports whether s is <launch template id>:<version>,
// the version a positive number written as strconv writes it.
func validVersionTarget(s string) bool {
	id, v, ok := strings.Cut(s, ":")
	n, err := strconv.ParseInt(v, 10, 64)
	return ok && strings.HasPrefix(id, "lt-") && len(id) > len("lt-") && err == nil && n > 0 && strconv.FormatInt(n, 10) == v
}

func validResult(s string) bool {
	for _, prefix := range []string{lifecycle.ResultSkippedPrefix, lifecycle.ResultFailedPrefix} {
		if rest, ok := strings.CutPrefix(s, prefix); ok {
			return strings.TrimSpace(rest) != ""
		}
	}
	return s == lifecycle.ResultDone
}

// LogLifecycle appends entries to the region's lifecycle log, each with
// its own conditional PutItem (attribute_not_exists): an entry whose key
// is taken is not written again, so a retried run writes each of its
// entries once, and the first result recorded stands. An entry whose key
// holds another action or target is refused: a run numbers each of its
// entries once. Every entry is checked before any is written. Errors:
// *rollout.BadInputError, *rollout.TransientError (some entries may be
// written; the retry writes the rest).
func (l *Ledger) LogLifecycle(ctx context.Context, region string, entries []LifecycleEntry) error {
	pk, err := regionPK(prefixLifecycle, region)
	if err != nil {
		return err
	}
	keys := map[string]bool{}
	var runs []string
	for _, e := range entries {
		if err := checkEntry(e); err != nil {
			return err
		}
		sk := lifecycleSK(e.At, e.RunID, e.Seq)
		if keys[sk] {
			return &rollout.BadInputError{Reason: fmt.Sprintf("lifecycle log entry %d of run %q is given twice", e.Seq, e.RunID)}
		}
		keys[sk] = true
		if !slices.Contains(runs, e.RunID) {
			runs = append(runs, e.RunID)
		}
	}
	written := 0
	for _, e := range entries {
		it := lifecycleItem(e)
		it[attrPK], it[attrSK] = str(pk), str(lifecycleSK(e.At, e.RunID, e.Seq))
		switch err := l.putNew(ctx, it); {
		case conditionFailed(err):
			if err := l.sameEntry(ctx, pk, e); err != nil {
				return err
			}
		case err != nil:
			return classify(fmt.Sprintf("log lifecycle entry %d of run %s in %s", e.Seq, e.RunID, region), err)
		default:
			written++
		}
	}
	if written > 0 {
		l.logger().InfoContext(ctx, "lifecycle log written", "region", region, "runIds", runs, "written", written, "repeated", len(entries)-written)
	}
	return nil
}

// sameEntry checks that the stored entry under e's key is e written
// before (by a first attempt of the same run), whatever its result.
func (l *Ledger) sameEntry(ctx context.Context, pk string, e LifecycleEntry) error {
	sk := lifecycleSK(e.At, e.RunID, e.Seq)
	it, err := l.getItem(ctx, "read lifecycle log entry "+sk, pk, sk)
	if err != nil {
		return err
	}
	stored, err := decodeLifecycleEntry(it)
	if err != nil {
		return err
	}
	if stored.Mode != e.Mode || stored.Action != e.Action || stored.Target != e.Target {
		return &rollout.BadInputError{Reason: fmt.Sprintf("lifecycle log entry %d of run %q: its key holds %s %s %s, not %s %s %s",
			e.Seq, e.RunID, stored.Mode, stored.Action, stored.Target, e.Mode, e.Action, e.Target)}
	}
	return nil
}

// LifecycleLog lists the region's log entries of runs at or after since,
// newest first (within a run, the last entry first), at most limit of them
// (all if limit <= 0). Errors: *rollout.BadInputError,
// *rollout.TransientError.
func (l *Ledger) LifecycleLog(ctx context.Context, region string, since time.Time, limit int) ([]LifecycleEntry, error) {
	pk, err := regionPK(prefixLifecycle, region)
	if err != nil {
		return nil, err
	}
	if err := checkTime("since", since); err != nil {
		return nil, err
	}
	return queryAll(ctx, l, "read lifecycle log of "+region, limit, &dynamodb.QueryInput{
		TableName:                 aws.String(l.table),
		KeyConditionExpression:    aws.String("#pk = :pk AND #sk >= :from"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#sk": attrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk), ":from": str(formatTime(since))},
		ScanIndexForward:          aws.Bool(false),
		ConsistentRead:            aws.Bool(true),
	}, decodeLifecycleEntry)
}

func lifecycleItem(e LifecycleEntry) item {
	it := item{}
	it.time(attrAt, e.At)
	it.str(attrRunID, e.RunID)
	it.num(attrSeq, int64(e.Seq))
	it.str(attrMode, e.Mode)
	it.str(attrAction, string(e.Action))
	it.str(attrTarget, e.Target)
	it.str(attrRule, e.Rule)
	it.strs(attrKeptBecause, e.KeptBecause)
	it.str(attrResult, e.Result)
	it.str(attrBy, e.By)
	return it
}

func decodeLifecycleEntry(it map[string]types.AttributeValue) (LifecycleEntry, error) {
	r := &reader{it: it}
	e := LifecycleEntry{
		At:          r.time(attrAt),
		RunID:       r.str(attrRunID),
		Seq:         int(r.num(attrSeq)),
		Mode:        r.str(attrMode),
		Action:      lifecycle.Action(r.str(attrAction)),
		Target:      r.str(attrTarget),
		Rule:        r.str(attrRule),
		KeptBecause: r.strs(attrKeptBecause),
		Result:      r.str(attrResult),
		By:          r.str(attrBy),
	}
	if r.err != nil {
		return LifecycleEntry{}, fmt.Errorf("lifecycle log entry %s: %w", r.str(attrSK), r.err)
	}
	return e, nil
}
