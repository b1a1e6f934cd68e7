package lifecycle

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// topic records what the nightly handler publishes.
type topic struct {
	subjects, messages []string
	attrs              []map[string]string
	err                error
}

func (tp *topic) PublishText(_ context.Context, subject, message string, attrs map[string]string) error {
	if tp.err != nil {
		return tp.err
	}
	tp.subjects, tp.messages, tp.attrs = append(tp.subjects, subject), append(tp.messages, message), append(tp.attrs, attrs)
	return nil
}

// scheduled is an EventBridge "Scheduled Event" at the tests' now.
func scheduled(id string) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"version":"0","id":%q,"detail-type":"Scheduled Event","source":"aws.events",
		"account":"111122223333","time":%q,"region":%q,
		"resources":["arn:aws:events:%s:111122223333:rule/phoenix-ImageLifecycleNightly"],"detail":{}}`,
		id, now.Format("2006-01-02T15:04:05Z"), region, region))
}

func nightly(w *world, apply bool, tp *topic, metrics io.Writer) Nightly {
	return Nightly{Service: w.service(apply), Topic: tp, Metrics: metrics,
		Attempt: func(context.Context) string { return "req-7" }}
}

func TestANightAppliesPublishesOneSummaryAndWritesItsMetrics(t *testing.T) {
	w := standard()
	tp, metrics := &topic{}, &bytes.Buffer{}
	sum, err := nightly(w, true, tp, metrics).Handle(context.Background(), scheduled("evt-9"))
	if err != nil {
		t.Fatal(err)
	}
	// The run is named by the event and the attempt, and timed by the event.
	if sum.RunID != "evt-9/req-7" || !sum.At.Equal(now) || sum.Mode != LogModeApply || w.log[0].RunID != "evt-9/req-7" {
		t.Errorf("summary %+v, first entry %+v", sum, w.log[0])
	}
	// standard(): versions 1-4 deleted, 5 and 6 kept; ami-1 deprecated,
	// ami-2..5 newly out of use, ami-6 kept (last-known-good).
	c := sum.Counts
	if c.VersionsRetired != 4 || c.VersionsKept != 2 || c.Actions[ActionDeleteVersion] != 4 || c.Actions[ActionDeprecate] != 1 ||
		c.ImagesRetired != 0 || c.ImagesKept != 6 || c.GiBKept != 48 || sum.Templates[lt] != 2 {
		t.Errorf("counts %+v, templates %v", c, sum.Templates)
	}
	if c.Kept[KeptLastKnownGood] == 0 || c.Kept[KeptNewest] == 0 {
		t.Errorf("kept-because counts %v", c.Kept)
	}
	if len(tp.subjects) != 1 {
		t.Fatalf("%d summaries published, want 1", len(tp.subjects))
	}
	if want := "Phoenix image lifecycle us-east-1 (apply): 4 versions, 0 AMIs retired"; tp.subjects[0] != want {
		t.Errorf("subject %q, want %q", tp.subjects[0], want)
	}
	msg := tp.messages[0]
	for _, want := range []string{"4 deleted, 2 kept", "delete-version " + lt + ":1: done", "deprecate " + ami(1) + ": done",
		"last-known-good", "Run: evt-9/req-7"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the summary lacks %q:\n%s", want, msg)
		}
	}
	if a := tp.attrs[0]; a["detailType"] != DetailSummary || a["mode"] != LogModeApply || a["eventId"] != "evt-9" || a["severity"] != "info" {
		t.Errorf("attributes %v", a)
	}
	lines := strings.Split(strings.TrimSpace(metrics.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("metric lines:\n%s", metrics)
	}
	var region map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &region); err != nil {
		t.Fatal(err)
	}
	if region[MetricVersionsRetired] != 4.0 || region[MetricVersionsKept] != 2.0 || region[MetricImagesKept] != 6.0 || region[MetricSnapshotGiBKept] != 48.0 {
		t.Errorf("region metrics %v", region)
	}
	if !strings.Contains(lines[0], `"LaunchTemplateId":"`+lt+`"`) || !strings.Contains(lines[0], `"`+MetricTemplateVersions+`":2`) {
		t.Errorf("template metric line %s", lines[0])
	}
}

func TestAPlanNightSaysWhatItWouldDo(t *testing.T) {
	w := standard()
	tp := &topic{}
	sum, err := nightly(w, false, tp, nil).Handle(context.Background(), scheduled("evt-1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(w.calls) != 0 {
		t.Fatalf("a plan night acted: %v", w.calls)
	}
	c := sum.Counts
	if c.VersionsRetired != 0 || c.VersionsKept != 6 || c.Actions[ActionDeleteVersion] != 4 || c.ImagesRetired != 0 {
		t.Errorf("counts %+v", c)
	}
	if !strings.Contains(tp.subjects[0], "(plan): 4 versions, 0 AMIs to retire") || !strings.Contains(tp.messages[0], "nothing was done") ||
		!strings.Contains(tp.messages[0], "(4 would be deleted)") {
		t.Errorf("summary %q\n%s", tp.subjects[0], tp.messages[0])
	}
}

func TestANightWithADeregistrationCountsTheGiBAndAFailureWarns(t *testing.T) {
	w := standard()
	// ami-1 has been disabled by Phoenix for the whole wait: deregistered.
	w.images[ami(1)].State = "disabled"
	w.records[ami(1)] = Tracked{Rolled: true, Deprecated: true, UnusedSince: now.Add(-60 * day), DisabledAt: now.Add(-31 * day)}
	w.images[ami(1)].SnapshotGiB = 30
	// ami-2 is due for deprecation and AWS refuses it.
	w.records[ami(2)] = Tracked{Rolled: true, UnusedSince: now.Add(-8 * day)}
	w.failOn["deprecate "+ami(2)] = errors.New("UnauthorizedOperation")
	tp := &topic{}
	sum, err := nightly(w, true, tp, nil).Handle(context.Background(), scheduled("evt-2"))
	if err != nil {
		t.Fatal(err)
	}
	if c := sum.Counts; c.ImagesRetired != 1 || c.GiBRetired != 30 || c.Failed != 1 || c.ImagesKept != 5 {
		t.Errorf("counts %+v", c)
	}
	if tp.attrs[0]["severity"] != "warning" || !strings.Contains(tp.messages[0], "failed 1") ||
		!strings.Contains(tp.subjects[0], "1 AMI retired") || !strings.Contains(tp.messages[0], "30 GiB of snapshots reclaimed") {
		t.Errorf("summary %q %v\n%s", tp.subjects[0], tp.attrs[0], tp.messages[0])
	}
}

func TestANightDropsWhatIsNotItsScheduleAndRetriesWhatFailed(t *testing.T) {
	w := standard()
	tp := &topic{}
	sum, err := nightly(w, true, tp, nil).Handle(context.Background(), json.RawMessage(`{"source":"aws.ec2"}`))
	if err != nil || sum.Outcome != OutcomeDropped || len(w.calls)+len(w.log)+len(tp.subjects) != 0 {
		t.Errorf("a foreign event: %+v, %v; calls %v", sum, err, w.calls)
	}
	// A summary that cannot be published fails the invocation (Lambda
	// retries it; the run is idempotent), after the night's work.
	tp.err = &rollout.TransientError{Op: "Publish", Err: errors.New("throttled")}
	_, err = nightly(w, true, tp, nil).Handle(context.Background(), scheduled("evt-3"))
	if !rollout.IsTransient(err) {
		t.Errorf("a throttled publish: %v", err)
	}
	if len(w.calls) == 0 {
		t.Error("the night's work was not done before the summary")
	}
}

func TestRestoreUndoesAStageByHandAndRestartsTheWait(t *testing.T) {
	w := standard()
	w.images[ami(2)].State = "disabled"
	w.records[ami(2)] = Tracked{Rolled: true, Deprecated: true, UnusedSince: now.Add(-20 * day), DisabledAt: now.Add(-day)}
	run := Run{ID: "cli-1", Now: now, By: "arn:aws:iam::111122223333:user/ops"}
	e, err := w.service(false).Restore(context.Background(), run, region, ami(2), " incident 4711 ")
	if err != nil {
		t.Fatal(err)
	}
	if e.Result != ResultDone || e.By != run.By || e.Mode != LogModeApply || w.images[ami(2)].State != "available" ||
		e.Rule != "restored by hand (phoenix images restore): incident 4711" {
		t.Errorf("entry %+v, image %+v", e, w.images[ami(2)])
	}
	if r := w.records[ami(2)]; r.Staged() || !r.UnusedSince.IsZero() || !r.Rolled {
		t.Errorf("record after restore %+v", r)
	}
	// Nothing to restore: skipped, EC2 untouched.
	calls := len(w.calls)
	e, err = w.service(false).Restore(context.Background(), run, region, ami(6), "")
	if err != nil || !strings.HasPrefix(e.Result, ResultSkippedPrefix) || len(w.calls) != calls {
		t.Errorf("restoring an image in use: %+v, %v, calls %v", e, err, w.calls[calls:])
	}
	var nf *rollout.NotFoundError
	if _, err := w.service(false).Restore(context.Background(), run, region, "ami-0000000000000dead", ""); !errors.As(err, &nf) {
		t.Errorf("an unknown image: %v", err)
	}
	w.images[ami(3)].Owner = foreign
	if _, err := w.service(false).Restore(context.Background(), run, region, ami(3), ""); !errors.Is(err, ErrNotPhoenixImage) {
		t.Errorf("another account's image: %v", err)
	}
	// A later night's record stands: the restore says it does not hold.
	w.images[ami(4)].DeprecatedAt = now.Add(-day)
	w.records[ami(4)] = Tracked{Rolled: true, Deprecated: true, UnusedSince: now.Add(-9 * day)}
	w.laterRecords = map[string]bool{ami(4): true}
	if _, err := w.service(false).Restore(context.Background(), run, region, ami(4), ""); !errors.Is(err, ErrLaterRecord) {
		t.Errorf("a restore the ledger does not record: %v", err)
	}
}

func TestPlanWritesNothing(t *testing.T) {
	w := standard()
	p, err := w.service(true).Plan(context.Background(), now, region)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.calls)+len(w.log) != 0 || len(p.Versions) != 6 || len(p.Images) != 6 {
		t.Errorf("plan %d versions %d images; calls %v, log %v", len(p.Versions), len(p.Images), w.calls, w.log)
	}
}
