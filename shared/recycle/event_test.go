package recycle

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// sample is events/scheduled-event.json, the sample every test starts from.
func sample(t testing.TB) map[string]any {
	t.Helper()
	b, err := os.ReadFile("../../events/scheduled-event.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func encode(t testing.TB, m map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseEvent(t *testing.T) {
	t.Parallel()
	t.Run("the sample parses into the night's id, time, region and rule", func(t *testing.T) {
		t.Parallel()
		ev, err := ParseEvent(encode(t, sample(t)))
		if err != nil {
			t.Fatal(err)
		}
		want := Event{ID: "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", Time: time.Date(2026, 3, 3, 3, 0, 0, 0, time.UTC), Account: "123456789012",
			Region: "us-east-1", Rule: "arn:aws:events:us-east-1:123456789012:rule/phoenix-RecycleSchedulerFunctionNightly-1A2B3C4D5E6F"}
		if ev != want {
			t.Fatalf("got %+v\nwant %+v", ev, want)
		}
	})
	t.Run("a time with an offset is read as the same instant in UTC", func(t *testing.T) {
		t.Parallel()
		m := sample(t)
		m["time"] = "2026-03-03T04:00:00+01:00"
		ev, err := ParseEvent(encode(t, m))
		if err != nil || !ev.Time.Equal(time.Date(2026, 3, 3, 3, 0, 0, 0, time.UTC)) || ev.Time.Location() != time.UTC {
			t.Fatalf("got %v, %v", ev.Time, err)
		}
	})
	bad := []struct {
		name   string
		change func(m map[string]any)
		reason string
	}{
		{"another source is dropped", func(m map[string]any) { m["source"] = "aws.ec2" }, "source"},
		{"another detail-type is dropped", func(m map[string]any) { m["detail-type"] = "EC2 AMI State Change" }, "detail-type"},
		{"an event without a time is dropped", func(m map[string]any) { delete(m, "time") }, "time"},
		{"a time that is not RFC 3339 is dropped", func(m map[string]any) { m["time"] = "03:00 tonight" }, "time"},
		{"an event without an id is dropped", func(m map[string]any) { delete(m, "id") }, "id"},
		{"an id with control characters is dropped", func(m map[string]any) { m["id"] = "a\nb" }, "id"},
		{"a very long id is dropped", func(m map[string]any) { m["id"] = strings.Repeat("x", 257) }, "id"},
		{"another envelope version is dropped", func(m map[string]any) { m["version"] = "1" }, "version"},
		{"a bad account is dropped", func(m map[string]any) { m["account"] = "12345" }, "account"},
		{"a bad region is dropped", func(m map[string]any) { m["region"] = "mars" }, "region"},
		{"an event without the rule is dropped", func(m map[string]any) { m["resources"] = []any{} }, "resources"},
		{"a resource that is not a rule ARN is dropped", func(m map[string]any) { m["resources"] = []any{"arn:aws:ec2:us-east-1::image/ami-1"} }, "resources"},
		{"a detail that is not an object is dropped", func(m map[string]any) { m["detail"] = "x" }, "detail"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := sample(t)
			tc.change(m)
			_, err := ParseEvent(encode(t, m))
			var b *rollout.BadInputError
			if !errors.As(err, &b) || !strings.Contains(b.Reason, tc.reason) {
				t.Fatalf("got %v, want a BadInputError about %s", err, tc.reason)
			}
		})
	}
	t.Run("text that is not one JSON object is dropped", func(t *testing.T) {
		t.Parallel()
		for _, raw := range []string{"", "[]", "{} {}", "null x", `{"source":`} {
			var b *rollout.BadInputError
			if _, err := ParseEvent([]byte(raw)); !errors.As(err, &b) {
				t.Errorf("%q: got %v, want a BadInputError", raw, err)
			}
		}
	})
}

func FuzzParseEvent(f *testing.F) {
	b, err := os.ReadFile("../../events/scheduled-event.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"source":"aws.events","detail-type":"Scheduled Event"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := ParseEvent(raw)
		if err != nil {
			var b *rollout.BadInputError
			if !errors.As(err, &b) {
				t.Fatalf("error %v is not a BadInputError", err)
			}
			return
		}
		if ev.ID == "" || ev.Time.IsZero() || ev.Region == "" || ev.Rule == "" || ev.Time.Location() != time.UTC {
			t.Fatalf("accepted an incomplete event %+v from %q", ev, raw)
		}
		if n := RolloutName(ev.ID, rollout.GroupKey{Region: ev.Region, Name: "web"}); !rollout.ValidExecutionName(n) {
			t.Fatalf("event %+v names an invalid execution %q", ev, n)
		}
	})
}
