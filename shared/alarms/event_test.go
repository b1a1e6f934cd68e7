package alarms

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// sample reads an event from events/ as a generic document, to mutate.
func sample(t testing.TB, name string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func encode(t testing.TB, doc any) []byte {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func detail(doc map[string]any) map[string]any { return doc["detail"].(map[string]any) }
func state(doc map[string]any) map[string]any  { return detail(doc)["state"].(map[string]any) }

func TestTheSampleAlarmEventParses(t *testing.T) {
	t.Parallel()
	ev, err := ParseEvent(encode(t, sample(t, "alarm-state-alarm.json")))
	if err != nil {
		t.Fatal(err)
	}
	want := Event{
		ID: "5a0c7e2b-3f41-4d7a-9c0e-8b1d2f3a4c5d", Time: time.Date(2026, 3, 1, 12, 21, 5, 0, time.UTC),
		Account: "123456789012", Region: "us-east-1",
		AlarmARN: "arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-5xx", AlarmName: "web-5xx",
		State: StateAlarm, At: time.Date(2026, 3, 1, 12, 21, 5, 318_000_000, time.UTC), PreviousState: StateOK,
	}
	want.Reason = ev.Reason
	if ev != want {
		t.Errorf("parsed\n %+v\nwant\n %+v", ev, want)
	}
	if !strings.HasPrefix(ev.Reason, "Threshold Crossed") || !ev.Actionable() {
		t.Errorf("reason %q, actionable %v", ev.Reason, ev.Actionable())
	}
	if got := ev.Explain(); !strings.HasPrefix(got, "alarm web-5xx is in ALARM: Threshold Crossed") {
		t.Errorf("Explain() = %q", got)
	}
}

func TestTransitionsOutOfAlarmParseButAreNotActedOn(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"alarm-state-ok.json", "alarm-state-insufficient-data.json"} {
		ev, err := ParseEvent(encode(t, sample(t, name)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if ev.Actionable() {
			t.Errorf("%s: state %s is acted on", name, ev.State)
		}
	}
}

func TestMalformedAndNearMissEventsAreBadInput(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		mutate func(doc map[string]any)
		want   string
	}{
		{"another source", func(d map[string]any) { d["source"] = "aws.autoscaling" }, "source"},
		{"an alarm configuration change", func(d map[string]any) { d["detail-type"] = "CloudWatch Alarm Configuration Change" }, "detail-type"},
		{"a detail-type differing only in case", func(d map[string]any) { d["detail-type"] = "CloudWatch alarm state change" }, "detail-type"},
		{"another envelope version", func(d map[string]any) { d["version"] = "1" }, "version"},
		{"no id", func(d map[string]any) { delete(d, "id") }, "has no id"},
		{"an id with a line break", func(d map[string]any) { d["id"] = "abc\n{\"forged\":1}" }, "control"},
		{"an id longer than 256 bytes", func(d map[string]any) { d["id"] = strings.Repeat("a", 257) }, "longer than 256"},
		{"a short account", func(d map[string]any) { d["account"] = "12345" }, "account"},
		{"a region that is not one", func(d map[string]any) { d["region"] = "us-east-1#web" }, "region"},
		{"a time that is not RFC 3339", func(d map[string]any) { d["time"] = "yesterday" }, "time"},
		{"no resources", func(d map[string]any) { d["resources"] = []any{} }, "0 resources"},
		{"two resources", func(d map[string]any) {
			d["resources"] = []any{"arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-5xx", "arn:aws:cloudwatch:us-east-1:123456789012:alarm:other"}
		}, "2 resources"},
		{"a resource that is not an alarm ARN", func(d map[string]any) {
			d["resources"] = []any{"arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:x:autoScalingGroupName/web"}
		}, "not a CloudWatch alarm ARN"},
		{"an alarm ARN of another region", func(d map[string]any) {
			d["resources"] = []any{"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:web-5xx"}
		}, "not in the event's region"},
		{"an alarm ARN of another account", func(d map[string]any) {
			d["resources"] = []any{"arn:aws:cloudwatch:us-east-1:210987654321:alarm:web-5xx"}
		}, "not in the event's region"},
		{"an alarm ARN naming another alarm", func(d map[string]any) { detail(d)["alarmName"] = "web-latency" }, "does not name"},
		{"no alarm name", func(d map[string]any) { delete(detail(d), "alarmName") }, "alarmName is missing"},
		{"an alarm name longer than 255 bytes", func(d map[string]any) { detail(d)["alarmName"] = strings.Repeat("x", 256) }, "more than 255"},
		{"a state value CloudWatch never sends", func(d map[string]any) { state(d)["value"] = "alarm" }, "state.value"},
		{"no state", func(d map[string]any) { delete(detail(d), "state") }, "state.value"},
		{"no previous state", func(d map[string]any) { delete(detail(d), "previousState") }, "previousState.value"},
		{"a state timestamp that is not a time", func(d map[string]any) { state(d)["timestamp"] = "12:21" }, "timestamp"},
		{"no state timestamp", func(d map[string]any) { delete(state(d), "timestamp") }, "timestamp"},
		{"a detail that is not an object", func(d map[string]any) { d["detail"] = "ALARM" }, "detail is missing or not an object"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc := sample(t, "alarm-state-alarm.json")
			tc.mutate(doc)
			_, err := ParseEvent(encode(t, doc))
			var bad *rollout.BadInputError
			if !errors.As(err, &bad) {
				t.Fatalf("got %v, want a BadInputError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
	t.Run("text after the event", func(t *testing.T) {
		t.Parallel()
		raw := append(encode(t, sample(t, "alarm-state-alarm.json")), []byte(` {"id":"x"}`)...)
		if _, err := ParseEvent(raw); err == nil || !strings.Contains(err.Error(), "text follows") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("not JSON", func(t *testing.T) {
		t.Parallel()
		if _, err := ParseEvent([]byte("ALARM")); err == nil {
			t.Fatal("parsed")
		}
	})
}

func TestStateTimestampsAreReadInEitherLayout(t *testing.T) {
	t.Parallel()
	want := time.Date(2026, 3, 1, 12, 21, 5, 318_000_000, time.UTC)
	for _, ts := range []string{"2026-03-01T12:21:05.318+0000", "2026-03-01T13:21:05.318+0100", "2026-03-01T12:21:05.318Z", "2026-03-01T12:21:05.318+00:00"} {
		doc := sample(t, "alarm-state-alarm.json")
		state(doc)["timestamp"] = ts
		ev, err := ParseEvent(encode(t, doc))
		if err != nil {
			t.Errorf("%s: %v", ts, err)
			continue
		}
		if !ev.At.Equal(want) || ev.At.Location() != time.UTC {
			t.Errorf("%s read as %s, want %s", ts, ev.At, want)
		}
	}
}

func TestAnAlarmNameWithColonsIsReadWhole(t *testing.T) {
	t.Parallel()
	doc := sample(t, "alarm-state-alarm.json")
	detail(doc)["alarmName"] = "TargetTracking-web:AlarmHigh:1"
	doc["resources"] = []any{"arn:aws:cloudwatch:us-east-1:123456789012:alarm:TargetTracking-web:AlarmHigh:1"}
	ev, err := ParseEvent(encode(t, doc))
	if err != nil || ev.AlarmName != "TargetTracking-web:AlarmHigh:1" {
		t.Fatalf("got %+v, %v", ev, err)
	}
}

func TestALongReasonIsCutOnARuneBoundary(t *testing.T) {
	t.Parallel()
	doc := sample(t, "alarm-state-alarm.json")
	state(doc)["reason"] = strings.Repeat("é", 600)
	ev, err := ParseEvent(encode(t, doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Reason) > maxReason || !strings.HasPrefix(strings.Repeat("é", 600), ev.Reason) {
		t.Errorf("reason of %d bytes: %q...", len(ev.Reason), ev.Reason[:10])
	}
}
