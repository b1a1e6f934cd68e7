package publish

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

// sample reads events/NAME.json from the repository root.
func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", name+".json"))
	if err != nil {
		t.Fatalf("read sample: %v", err)
	}
	return b
}

// edit returns the sample with fn applied to its decoded form.
func edit(t *testing.T, name string, fn func(ev map[string]any)) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(sample(t, name), &ev); err != nil {
		t.Fatalf("decode sample %s: %v", name, err)
	}
	fn(ev)
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func detail(ev map[string]any) map[string]any { return ev["detail"].(map[string]any) }

// wantBadInput fails unless err is a *rollout.BadInputError whose reason
// holds every fragment.
func wantBadInput(t *testing.T, err error, fragments ...string) {
	t.Helper()
	var bad *rollout.BadInputError
	if !errors.As(err, &bad) {
		t.Fatalf("got %T %v, want *rollout.BadInputError", err, err)
	}
	for _, f := range fragments {
		if !strings.Contains(bad.Reason, f) {
			t.Errorf("reason %q does not mention %q", bad.Reason, f)
		}
	}
}

func TestTheSamplesParseIntoTheEventTheyAnnounce(t *testing.T) {
	t.Parallel()
	cases := []struct {
		sample string
		parse  func([]byte) (Event, error)
		want   Event
	}{
		{"publish-imagebuilder-available", ParseImageBuilderEvent, Event{Kind: KindImageBuilder, ID: "3d4f1a2b-6c7e-4f80-9a1b-2c3d4e5f6a7b",
			Time: time.Date(2026, 3, 2, 9, 41, 7, 0, time.UTC), Account: "123456789012", Region: "us-east-1",
			Ref: "arn:aws:imagebuilder:us-east-1:123456789012:image/web-al2023/1.4.0/3"}},
		{"publish-ami-available", ParseAMIEvent, Event{Kind: KindAMI, ID: "7a9c2e41-0b3d-4c5e-8f6a-1b2c3d4e5f60",
			Time: time.Date(2026, 3, 2, 9, 38, 52, 0, time.UTC), Account: "123456789012", Region: "us-east-1", Ref: "ami-0a1b2c3d4e5f67890"}},
		{"publish-parameter-update", ParseParameterEvent, Event{Kind: KindParameter, ID: "c1e2d3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f",
			Time: time.Date(2026, 3, 2, 9, 45, 13, 0, time.UTC), Account: "123456789012", Region: "us-east-1", Ref: "/phoenix/web/ami", Operation: "Update"}},
		{"publish-parameter-create", ParseParameterEvent, Event{Kind: KindParameter, ID: "0f9e8d7c-6b5a-4f3e-9d2c-1b0a9f8e7d6c",
			Time: time.Date(2026, 3, 2, 8, 2, 40, 0, time.UTC), Account: "123456789012", Region: "us-east-1", Ref: "/phoenix/api/ami", Operation: "Create"}},
	}
	for _, c := range cases {
		t.Run(c.sample, func(t *testing.T) {
			t.Parallel()
			raw := sample(t, c.sample)
			got, err := c.parse(raw)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if got != c.want {
				t.Errorf("got %+v\nwant %+v", got, c.want)
			}
			viaAny, err := ParseEvent(raw)
			if err != nil || viaAny != c.want {
				t.Errorf("ParseEvent gave %+v, %v; want the same event", viaAny, err)
			}
		})
	}
}

func TestNearMissSamplesAreRejectedWithTheirReason(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"publish-nearmiss-ami-failed":            `state "failed" is not available`,
		"publish-nearmiss-imagebuilder-building": `state "BUILDING" is not AVAILABLE`,
		"publish-nearmiss-parameter-text":        `data type "text" is not aws:ec2:image`,
		"publish-nearmiss-parameter-delete":      `operation "Delete" does not publish a value`,
		"instance-refresh-succeeded":             "is not an image publishing event",
		"instance-refresh-checkpoint-reached":    "is not an image publishing event",
	}
	for name, reason := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseEvent(sample(t, name))
			wantBadInput(t, err, reason)
		})
	}
}

func TestImageBuilderEventRules(t *testing.T) {
	t.Parallel()
	const s = "publish-imagebuilder-available"
	cases := []struct {
		name string
		fn   func(ev map[string]any)
		want string
	}{
		{"another source is refused", func(ev map[string]any) { ev["source"] = "aws.ec2" }, `source "aws.ec2" is not aws.imagebuilder`},
		{"another detail-type is refused", func(ev map[string]any) { ev["detail-type"] = "EC2 Image Builder Workflow Step" }, "detail-type"},
		{"a missing id is refused", func(ev map[string]any) { delete(ev, "id") }, "no id"},
		{"an id with control characters is refused", func(ev map[string]any) { ev["id"] = "a\nb" }, "control"},
		{"an account that is not 12 digits is refused", func(ev map[string]any) { ev["account"] = "12345" }, "12-digit"},
		{"a region that is not a region name is refused", func(ev map[string]any) { ev["region"] = "mars" }, "region"},
		{"a time that is not RFC 3339 is refused", func(ev map[string]any) { ev["time"] = "yesterday" }, "RFC 3339"},
		{"a missing detail is refused", func(ev map[string]any) { delete(ev, "detail") }, "detail is missing"},
		{"a detail that is not an object is refused", func(ev map[string]any) { ev["detail"] = "AVAILABLE" }, "not an object"},
		{"an envelope version other than 0 is refused", func(ev map[string]any) { ev["version"] = "1" }, "version"},
		{"a state other than AVAILABLE is refused", func(ev map[string]any) { detail(ev)["state"] = map[string]any{"status": "FAILED"} }, `"FAILED"`},
		{"no resource is refused", func(ev map[string]any) { ev["resources"] = []any{} }, "exactly one resource"},
		{"a resource that is not a build version ARN is refused", func(ev map[string]any) {
			ev["resources"] = []any{"arn:aws:imagebuilder:us-east-1:123456789012:image-pipeline/web"}
		}, "not an image build version ARN"},
		{"a build of another region is refused", func(ev map[string]any) {
			ev["resources"] = []any{"arn:aws:imagebuilder:eu-west-1:123456789012:image/web-al2023/1.4.0/3"}
		}, "not to the event's"},
		{"a build of another account is refused", func(ev map[string]any) {
			ev["resources"] = []any{"arn:aws:imagebuilder:us-east-1:210987654321:image/web-al2023/1.4.0/3"}
		}, "not to the event's"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseImageBuilderEvent(edit(t, s, c.fn))
			wantBadInput(t, err, c.want)
		})
	}
}

func TestAMIEventRules(t *testing.T) {
	t.Parallel()
	const s = "publish-ami-available"
	cases := []struct {
		name string
		fn   func(ev map[string]any)
		want string
	}{
		{"deregistered is refused", func(ev map[string]any) { detail(ev)["State"] = "deregistered" }, `"deregistered"`},
		{"disabled is refused", func(ev map[string]any) { detail(ev)["State"] = "disabled" }, `"disabled"`},
		{"a missing state is refused", func(ev map[string]any) { delete(detail(ev), "State") }, `state ""`},
		{"a missing ImageId is refused", func(ev map[string]any) { delete(detail(ev), "ImageId") }, "not an AMI id"},
		{"an ImageId that is not an AMI id is refused", func(ev map[string]any) { detail(ev)["ImageId"] = "snap-0a1b2c3d4e5f67890" }, "not an AMI id"},
		{"an upper-case AMI id is refused", func(ev map[string]any) { detail(ev)["ImageId"] = "ami-0A1B2C3D4E5F67890" }, "not an AMI id"},
		{"another source is refused", func(ev map[string]any) { ev["source"] = "aws.ssm" }, "source"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseAMIEvent(edit(t, s, c.fn))
			wantBadInput(t, err, c.want)
		})
	}
	t.Run("an 8-digit legacy AMI id is accepted", func(t *testing.T) {
		t.Parallel()
		ev, err := ParseAMIEvent(edit(t, s, func(ev map[string]any) { detail(ev)["ImageId"] = "ami-0a1b2c3d" }))
		if err != nil || ev.Ref != "ami-0a1b2c3d" {
			t.Fatalf("got %+v, %v", ev, err)
		}
	})
}

func TestParameterEventRules(t *testing.T) {
	t.Parallel()
	const s = "publish-parameter-update"
	cases := []struct {
		name string
		fn   func(ev map[string]any)
		want string
	}{
		{"a label change is refused", func(ev map[string]any) { detail(ev)["operation"] = "LabelParameterVersion" }, "LabelParameterVersion"},
		{"a write Parameter Store refused is refused", func(ev map[string]any) { detail(ev)["exception"] = "Unable to Describe Resource" }, "Unable to Describe Resource"},
		{"a missing data type is refused", func(ev map[string]any) { delete(detail(ev), "dataType") }, `data type ""`},
		{"a StringList is refused", func(ev map[string]any) { detail(ev)["type"] = "StringList" }, "StringList"},
		{"a name with spaces is refused", func(ev map[string]any) { detail(ev)["name"] = "/phoenix/web ami" }, "not a parameter name"},
		{"an empty name is refused", func(ev map[string]any) { detail(ev)["name"] = "" }, "not a parameter name"},
		{"a name with a double slash is refused", func(ev map[string]any) { detail(ev)["name"] = "/phoenix//ami" }, "not a parameter name"},
		{"an over-long name is refused", func(ev map[string]any) { detail(ev)["name"] = "/" + strings.Repeat("a", 2048) }, "not a parameter name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseParameterEvent(edit(t, s, c.fn))
			wantBadInput(t, err, c.want)
		})
	}
	t.Run("a name without a leading slash is accepted", func(t *testing.T) {
		t.Parallel()
		ev, err := ParseParameterEvent(edit(t, s, func(ev map[string]any) { detail(ev)["name"] = "golden-ami" }))
		if err != nil || ev.Ref != "golden-ami" {
			t.Fatalf("got %+v, %v", ev, err)
		}
	})
}

func TestMalformedJSONIsBadInputForEveryParser(t *testing.T) {
	t.Parallel()
	inputs := map[string]string{
		"empty":              ``,
		"not JSON":           `{"source": `,
		"an array":           `[1,2]`,
		"null":               `null`,
		"two objects":        `{"version":"0"} {"version":"0"}`,
		"a wrongly typed id": `{"version":"0","id":7,"source":"aws.ec2","detail-type":"EC2 AMI State Change"}`,
	}
	parsers := map[string]func([]byte) (Event, error){
		"image builder": ParseImageBuilderEvent, "ami": ParseAMIEvent, "parameter": ParseParameterEvent, "any": ParseEvent,
	}
	for in, raw := range inputs {
		for pn, parse := range parsers {
			t.Run(in+" through the "+pn+" parser", func(t *testing.T) {
				t.Parallel()
				_, err := parse([]byte(raw))
				wantBadInput(t, err)
			})
		}
	}
}
