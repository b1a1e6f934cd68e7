package ledger

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/phoenix-rollouts/phoenix/shared/lifecycle"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// runEntries are the entries of one run at the nth night: a deletion, a
// deprecation and a restore, applied or planned.
func runEntries(n int, runID, mode string) []LifecycleEntry {
	result := func(r string) string {
		if mode == lifecycle.LogModePlan {
			return ""
		}
		return r
	}
	at := night(n)
	return []LifecycleEntry{
		{At: at, RunID: runID, Seq: 0, Mode: mode, Action: lifecycle.ActionDeleteVersion, Target: "lt-0abc:3", Rule: "not among the template's newest 20, not its default, and nothing uses it", Result: result(lifecycle.ResultDone), By: lifecycle.ByNightly},
		{At: at, RunID: runID, Seq: 1, Mode: mode, Action: lifecycle.ActionDeprecate, Target: "ami-0123abcd",
			Result: result(lifecycle.ResultSkipped("in use again: group-uses (eu-west-1/web)")), By: lifecycle.ByNightly},
		{At: at, RunID: runID, Seq: 2, Mode: mode, Action: lifecycle.ActionRestore, Target: "ami-0123456789abcdef0",
			KeptBecause: []string{"group-uses (eu-west-1/web)", "last-known-good (eu-west-1/web)"}, Result: result(lifecycle.ResultFailed(errors.New("throttled"))), By: lifecycle.ByNightly},
	}
}

// newestFirst reverses entries written oldest first.
func newestFirst(runs ...[]LifecycleEntry) []LifecycleEntry {
	var out []LifecycleEntry
	for _, r := range runs {
		for _, e := range r {
			out = append([]LifecycleEntry{e}, out...)
		}
	}
	return out
}

// logged reads the region's log, failing the test on error.
func (e *testEnv) logged(t *testing.T, l *Ledger, region string, since time.Time, limit int) []LifecycleEntry {
	t.Helper()
	got, err := l.LifecycleLog(context.Background(), region, since, limit)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestLifecycleLog(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	write := func(t *testing.T, region string, runs ...[]LifecycleEntry) {
		t.Helper()
		for _, r := range runs {
			if err := e.l.LogLifecycle(ctx, region, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Run("entries read back newest first, as written", func(t *testing.T) {
		t.Parallel()
		region := uniqueRegion()
		plan, apply := runEntries(1, "run-1", lifecycle.LogModePlan), runEntries(2, "run-2", lifecycle.LogModeApply)
		write(t, region, plan, apply)
		if got, want := e.logged(t, e.l, region, time.Time{}, 0), newestFirst(plan, apply); !reflect.DeepEqual(got, want) {
			t.Errorf("log\n got %+v\nwant %+v", got, want)
		}
	})
	t.Run("since and limit keep the newest entries", func(t *testing.T) {
		t.Parallel()
		region := uniqueRegion()
		runs := [][]LifecycleEntry{runEntries(1, "a", lifecycle.LogModeApply), runEntries(2, "b", lifecycle.LogModeApply), runEntries(3, "c", lifecycle.LogModeApply)}
		write(t, region, runs...)
		if got, want := e.logged(t, e.l, region, night(2), 0), newestFirst(runs[1], runs[2]); !reflect.DeepEqual(got, want) {
			t.Errorf("since night 2\n got %+v\nwant %+v", got, want)
		}
		if got, want := e.logged(t, e.l, region, time.Time{}, 4), newestFirst(runs[1], runs[2])[:4]; !reflect.DeepEqual(got, want) {
			t.Errorf("the newest 4\n got %+v\nwant %+v", got, want)
		}
		if got := e.logged(t, e.l, region, night(4), 0); len(got) != 0 {
			t.Errorf("since after the last run: %+v", got)
		}
	})
	t.Run("the whole log is read across pages", func(t *testing.T) {
		t.Parallel()
		region := uniqueRegion()
		runs := [][]LifecycleEntry{runEntries(1, "a", lifecycle.LogModePlan), runEntries(1, "b", lifecycle.LogModeApply), runEntries(2, "a", lifecycle.LogModeApply)}
		write(t, region, runs...)
		l, c := e.paged(2)
		got := e.logged(t, l, region, time.Time{}, 0)
		if want := newestFirst(runs...); !reflect.DeepEqual(got, want) {
			t.Errorf("log\n got %+v\nwant %+v", got, want)
		}
		if c.pages.Load() < 5 {
			t.Errorf("%d pages read, want 5 (9 entries, 2 a page)", c.pages.Load())
		}
	})
	t.Run("a retried run writes each entry once and the first result stands", func(t *testing.T) {
		t.Parallel()
		region := uniqueRegion()
		first := runEntries(1, "run-1", lifecycle.LogModeApply)
		write(t, region, first)
		retry := runEntries(1, "run-1", lifecycle.LogModeApply)
		retry[2].Result = lifecycle.ResultDone
		retry = append(retry, LifecycleEntry{At: night(1), RunID: "run-1", Seq: 3, Mode: lifecycle.LogModeApply,
			Action: lifecycle.ActionProtect, Target: "ami-0123abcd", Result: lifecycle.ResultDone, By: lifecycle.ByNightly})
		write(t, region, retry)
		if got, want := e.logged(t, e.l, region, time.Time{}, 0), newestFirst(append(first, retry[3])); !reflect.DeepEqual(got, want) {
			t.Errorf("log\n got %+v\nwant %+v", got, want)
		}
		if n := e.count("lifecycle log written", `"region":"`+region+`"`); n != 2 {
			t.Errorf("%d writes logged, want 2", n)
		}
		if n := e.count("lifecycle log written", `"region":"`+region+`"`, `"written":1`, `"repeated":3`); n != 1 {
			t.Errorf("the retry is not logged as 1 written, 3 repeated:\n%s", e.logs)
		}
	})
	t.Run("an entry whose key holds another action is refused", func(t *testing.T) {
		t.Parallel()
		region := uniqueRegion()
		write(t, region, runEntries(1, "run-1", lifecycle.LogModeApply))
		other := runEntries(1, "run-1", lifecycle.LogModeApply)[:1]
		other[0].Target = "lt-0abc:4"
		var bad *rollout.BadInputError
		if err := e.l.LogLifecycle(ctx, region, other); !errors.As(err, &bad) || !strings.Contains(err.Error(), "lt-0abc:3") {
			t.Errorf("got %v, want a BadInputError naming the stored entry", err)
		}
	})
	t.Run("the item has the documented key and attributes", func(t *testing.T) {
		t.Parallel()
		region := uniqueRegion()
		write(t, region, runEntries(1, "run#1", lifecycle.LogModeApply)[2:])
		out, err := e.client.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(e.table),
			Key:       itemKey("LIFECYCLE#"+region, "2026-03-02T12:00:00.000000000Z#run#1#000002"),
		})
		if err != nil || out.Item == nil {
			t.Fatalf("item: %v, %v", out, err)
		}
		for _, a := range []string{"at", "runId", "seq", "mode", "action", "target", "keptBecause", "result", "by"} {
			if _, ok := out.Item[a]; !ok {
				t.Errorf("attribute %s missing from %v", a, out.Item)
			}
		}
		if l, ok := out.Item["keptBecause"].(*types.AttributeValueMemberL); !ok || len(l.Value) != 2 {
			t.Errorf("keptBecause = %v, want a list of the two holds", out.Item["keptBecause"])
		}
	})
}

func TestLifecycleLogRefusesWhatItCannotHold(t *testing.T) {
	e := newTestEnv(t)
	ok := runEntries(1, "run-1", lifecycle.LogModeApply)[0]
	with := func(f func(*LifecycleEntry)) []LifecycleEntry {
		bad := ok
		f(&bad)
		return []LifecycleEntry{ok, bad}
	}
	cases := []struct {
		name    string
		region  string
		entries []LifecycleEntry
	}{
		{"a region with a '#'", "eu#west-1", []LifecycleEntry{ok}},
		{"an empty region", "", []LifecycleEntry{ok}},
		{"an entry without a time", "", with(func(e *LifecycleEntry) { e.At = time.Time{} })},
		{"an entry past year 9999", "", with(func(e *LifecycleEntry) { e.At = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) })},
		{"an entry without a run id", "", with(func(e *LifecycleEntry) { e.RunID = "" })},
		{"an entry with an over-long run id", "", with(func(e *LifecycleEntry) { e.RunID = strings.Repeat("r", 257) })},
		{"an entry with a negative number", "", with(func(e *LifecycleEntry) { e.Seq = -1 })},
		{"an entry with a number past six digits", "", with(func(e *LifecycleEntry) { e.Seq = 1_000_000 })},
		{"an entry of an unknown mode", "", with(func(e *LifecycleEntry) { e.Mode = "dry-run" })},
		{"an entry that keeps", "", with(func(e *LifecycleEntry) { e.Action = lifecycle.ActionNone })},
		{"an entry on no target", "", with(func(e *LifecycleEntry) { e.Target = "" })},
		{"an entry on a version without a number", "", with(func(e *LifecycleEntry) { e.Target = "lt-0abc" })},
		{"an entry on version 0", "", with(func(e *LifecycleEntry) { e.Target = "lt-0abc:0" })},
		{"an entry on a version written with a leading zero", "", with(func(e *LifecycleEntry) { e.Target = "lt-0abc:03" })},
		{"an entry on something that is no template", "", with(func(e *LifecycleEntry) { e.Target = "web:3" })},
		{"an entry by no one", "", with(func(e *LifecycleEntry) { e.By = "" })},
		{"an applied entry without a result", "", with(func(e *LifecycleEntry) { e.Result = "" })},
		{"an applied entry with a result of another form", "", with(func(e *LifecycleEntry) { e.Result = "ok" })},
		{"an applied entry skipped for no reason", "", with(func(e *LifecycleEntry) { e.Result = lifecycle.ResultSkipped(" ") })},
		{"a planned entry with a result", "", with(func(e *LifecycleEntry) { e.Mode = lifecycle.LogModePlan })},
		{"the same entry twice", "", with(func(e *LifecycleEntry) { e.Target = "lt-0abc:4" })},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			region := tc.region
			if region == "" && !strings.HasPrefix(tc.name, "an empty") {
				region = uniqueRegion()
			}
			var bad *rollout.BadInputError
			if err := e.l.LogLifecycle(context.Background(), region, tc.entries); !errors.As(err, &bad) {
				t.Fatalf("got %v, want a BadInputError", err)
			}
			if region != "" && !strings.Contains(region, "#") {
				if got := e.logged(t, e.l, region, time.Time{}, 0); len(got) != 0 {
					t.Errorf("a refused batch wrote %+v", got)
				}
			}
		})
	}
	t.Run("reading a region with a '#' is refused", func(t *testing.T) {
		var bad *rollout.BadInputError
		if _, err := e.l.LifecycleLog(context.Background(), "eu#west-1", t0, 0); !errors.As(err, &bad) {
			t.Fatalf("got %v, want a BadInputError", err)
		}
	})
}

func TestLifecycleKeys(t *testing.T) {
	cases := []struct {
		name string
		got  string
		want string
	}{
		{"an image partition names the region", must(regionPK(prefixImage, "eu-west-1")), "IMAGE#eu-west-1"},
		{"a log partition names the region", must(regionPK(prefixLifecycle, "eu-west-1")), "LIFECYCLE#eu-west-1"},
		{"a log key is the run's time in UTC, the run and a six-digit number",
			lifecycleSK(time.Date(2026, 3, 1, 13, 0, 0, 5e8, time.FixedZone("CET", 3600)), "run-1", 42),
			"2026-03-01T12:00:00.500000000Z#run-1#000042"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Fatalf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}

// FuzzLifecycleKeys checks that two entries the log accepts share a key
// only when they are the same run's same entry, whatever their run ids
// hold, and that an entry of an earlier time sorts before a later one's,
// which "since" and "newest first" rely on.
func FuzzLifecycleKeys(f *testing.F) {
	f.Add(int64(0), "run", 1, int64(0), "run", 2)
	f.Add(int64(0), "a#000001", 2, int64(0), "a", 1)
	f.Add(int64(0), "a", 1, int64(0), "a!", 0)
	f.Add(int64(1_000_000_000), "r#1", 0, int64(999_999_999), "r", 999_999)
	f.Fuzz(func(t *testing.T, a int64, runA string, seqA int, b int64, runB string, seqB int) {
		entry := func(at int64, run string, seq int) (LifecycleEntry, bool) {
			e := LifecycleEntry{At: time.Unix(0, at), RunID: run, Seq: seq, Mode: lifecycle.LogModePlan, Action: lifecycle.ActionDeprecate, Target: "ami-0123abcd", By: lifecycle.ByNightly}
			return e, checkEntry(e) == nil
		}
		ea, okA := entry(a, runA, seqA)
		eb, okB := entry(b, runB, seqB)
		if !okA || !okB {
			return
		}
		ka, kb := lifecycleSK(ea.At, ea.RunID, ea.Seq), lifecycleSK(eb.At, eb.RunID, eb.Seq)
		same := ea.At.Equal(eb.At) && runA == runB && seqA == seqB
		if (ka == kb) != same {
			t.Fatalf("entries %+v and %+v: keys %q and %q", ea, eb, ka, kb)
		}
		if ea.At.Before(eb.At) && ka >= kb {
			t.Fatalf("%s sorts after %s: %q, %q", ea.At, eb.At, ka, kb)
		}
	})
}
