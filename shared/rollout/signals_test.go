package rollout

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSignalKind(t *testing.T) {
	cases := []struct {
		detailType string
		kind       string
		ok         bool
	}{
		{"EC2 Auto Scaling Instance Refresh Started", "", false},
		{"EC2 Auto Scaling Instance Refresh Checkpoint Reached", SignalCheckpoint, true},
		{"EC2 Auto Scaling Instance Refresh Started Baking", SignalBaking, true},
		{"EC2 Auto Scaling Instance Refresh Succeeded", SignalSucceeded, true},
		{"EC2 Auto Scaling Instance Refresh Failed", SignalFailed, true},
		{"EC2 Auto Scaling Instance Refresh Cancelled", SignalCancelled, true},
		{"EC2 Auto Scaling Instance Refresh Rollback Started", "", false},
		{"EC2 Auto Scaling Instance Refresh Rollback Succeeded", SignalRollbackSucceeded, true},
		{"EC2 Auto Scaling Instance Refresh Rollback Failed", SignalRollbackFailed, true},
		{"EC2 Instance Launch Successful", "", false},
		{"EC2 Auto Scaling Instance Refresh Paused", "", false},
	}
	for _, tc := range cases {
		name := fmt.Sprintf("%q maps to %q", tc.detailType, tc.kind)
		if !tc.ok {
			name = fmt.Sprintf("%q is ignored", tc.detailType)
		}
		t.Run(name, func(t *testing.T) {
			kind, ok := SignalKind(tc.detailType)
			eq(t, kind, tc.kind)
			eq(t, ok, tc.ok)
		})
	}
}

const checkpointEvent = `{"version":"0","id":"ev-1","detail-type":"EC2 Auto Scaling Instance Refresh Checkpoint Reached",
"source":"aws.autoscaling","account":"123456789012","time":"2026-03-01T12:30:00Z","region":"eu-west-1",
"resources":["arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:x:autoScalingGroupName/web"],
"detail":{"InstanceRefreshId":"rf-1","AutoScalingGroupName":"web","CheckpointPercentage":"50","CheckpointDelay":"600"}}`

func TestParseRefreshEvent(t *testing.T) {
	ev, err := ParseRefreshEvent([]byte(checkpointEvent))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, ev.Group, GroupKey{Region: "eu-west-1", Name: "web"})
	eq(t, ev.RefreshID, "rf-1")
	eq(t, ev.Checkpoint, 50)
	s, ok := ev.Signal()
	eq(t, ok, true)
	eq(t, s.Kind, SignalCheckpoint)
	eq(t, s.Percentage, 50)
	eq(t, s.At, time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC))

}

// TestParseRefreshEventRefusesMalformedEvents mutates one good event so that
// each case breaks exactly one rule; a mutation that does not apply fails
// the case instead of passing it for another reason.
func TestParseRefreshEventRefusesMalformedEvents(t *testing.T) {
	const arn = "arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:x:autoScalingGroupName/web"
	cases := []struct {
		name, from, to, want string
	}{
		{"an event from another source", `"source":"aws.autoscaling"`, `"source":"aws.ec2"`, `source "aws.ec2" is not aws.autoscaling`},
		{"an Auto Scaling event that is not about a refresh", `"EC2 Auto Scaling Instance Refresh Checkpoint Reached"`, `"EC2 Instance Launch Successful"`, `is not "EC2 Auto Scaling Instance Refresh ..."`},
		{"an envelope of another version", `"version":"0"`, `"version":"1"`, `version "1" is not`},
		{"an envelope without a version", `"version":"0",`, ``, `version "" is not`},
		{"an event without an id", `"id":"ev-1",`, ``, "has no id"},
		{"an event with an empty id", `"id":"ev-1"`, `"id":""`, "has no id"},
		{"an id with a control character", `"id":"ev-1"`, `"id":"ev\u0007"`, "control or invalid"},
		{"an id over 256 bytes", `"id":"ev-1"`, `"id":"` + strings.Repeat("e", 257) + `"`, "longer than 256"},
		{"an account that is not 12 digits", `"account":"123456789012"`, `"account":"1234"`, "12-digit"},
		{"an event without an account", `"account":"123456789012",`, ``, "12-digit"},
		{"a region that is not a region name", `"region":"eu-west-1"`, `"region":"Europe"`, "region name"},
		{"a group in another region than the event", `"region":"eu-west-1"`, `"region":"us-east-1"`, "is not in the event's region us-east-1"},
		{"a group in another account than the event", `:123456789012:autoScalingGroup`, `:210987654321:autoScalingGroup`, "is not in the event's region eu-west-1 and account 123456789012"},
		{"a group ARN naming another group than the detail", `autoScalingGroupName/web`, `autoScalingGroupName/api`, `does not name group "web"`},
		{"an event without resources", `"resources":["` + arn + `"]`, `"resources":[]`, "0 resources"},
		{"an event naming two resources", `"resources":["` + arn + `"]`, `"resources":["` + arn + `","` + arn + `"]`, "2 resources"},
		{"a resource that is not a group ARN", arn, "arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc", "is not an Auto Scaling group ARN"},
		{"a time that is not RFC 3339", `"time":"2026-03-01T12:30:00Z"`, `"time":"noon"`, "RFC 3339"},
		{"a detail that is not an object", `"detail":{`, `"detail":"x","d":{`, "not an object"},
		{"text after the event", "\"600\"}}", "\"600\"}} {}", "text follows"},
		{"text that is not JSON", checkpointEvent, "not json", "not a JSON event object"},
		{"a detail without a refresh id", `"InstanceRefreshId":"rf-1",`, ``, "InstanceRefreshId are required"},
		{"a detail without a group", `"AutoScalingGroupName":"web",`, ``, "AutoScalingGroupName and"},
		{"a checkpoint above 100 percent", `"CheckpointPercentage":"50"`, `"CheckpointPercentage":"150"`, "not a percentage"},
		{"a negative checkpoint", `"CheckpointPercentage":"50"`, `"CheckpointPercentage":"-5"`, "not a percentage"},
	}
	for _, tc := range cases {
		t.Run(tc.name+" is dropped as bad input", func(t *testing.T) {
			t.Parallel()
			raw := strings.Replace(checkpointEvent, tc.from, tc.to, 1)
			if raw == checkpointEvent {
				t.Fatalf("the mutation %q did not apply", tc.from)
			}
			_, err := ParseRefreshEvent([]byte(raw))
			var b *BadInputError
			if !errors.As(err, &b) || !strings.HasPrefix(b.Reason, "instance refresh event: ") || !strings.Contains(b.Reason, tc.want) {
				t.Errorf("err = %v, want a *BadInputError saying %q", err, tc.want)
			}
		})
	}
}

func TestParseRefreshEventAcceptsEveryRefreshEventOfTheFamily(t *testing.T) {
	cases := []struct {
		name  string
		edits []string // from, to, from, to...
		acted bool
	}{
		{"a Started event parses and is not acted on", []string{"Checkpoint Reached", "Started"}, false},
		{"a detail-type AWS may add later parses and is not acted on", []string{"Checkpoint Reached", "Paused"}, false},
		{"a group in the China partition parses and is acted on",
			[]string{"arn:aws:autoscaling:eu-west-1:", "arn:aws-cn:autoscaling:cn-north-1:", `"region":"eu-west-1"`, `"region":"cn-north-1"`}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			raw := checkpointEvent
			for i := 0; i < len(tc.edits); i += 2 {
				raw = strings.Replace(raw, tc.edits[i], tc.edits[i+1], 1)
			}
			if raw == checkpointEvent {
				t.Fatal("the edits did not apply")
			}
			ev, err := ParseRefreshEvent([]byte(raw))
			if err != nil {
				t.Fatal(err)
			}
			_, ok := ev.Signal()
			eq(t, ok, tc.acted)
		})
	}
}

// TestTheSampleRefreshEventsParse holds every events/instance-refresh-*.json
// sample to the parser: each parses, and each but Started means a signal.
func TestTheSampleRefreshEventsParse(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "events", "instance-refresh-*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(refreshKinds) {
		t.Fatalf("%d instance refresh samples, want one per detail-type (%d)", len(files), len(refreshKinds))
	}
	for _, f := range files {
		t.Run(filepath.Base(f)+" parses", func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := ParseRefreshEvent(raw)
			if err != nil {
				t.Fatal(err)
			}
			kind, known := refreshKinds[strings.TrimPrefix(ev.DetailType, refreshDetailPrefix)]
			s, ok := ev.Signal()
			if !known || ok != (kind != "") || s.Kind != kind {
				t.Errorf("%s: signal %+v, %v; want kind %q", ev.DetailType, s, ok, kind)
			}
		})
	}
}

func TestRefreshSignal(t *testing.T) {
	at := time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC)
	cps := []int{25, 50, 100}
	cases := []struct {
		name    string
		r       Refresh
		last    int
		kind    string
		percent int
	}{
		{"a refresh past an unvalidated checkpoint yields that checkpoint", Refresh{Status: RefreshInProgress, PercentageComplete: 60}, 25, SignalCheckpoint, 50},
		{"a refresh between validated checkpoints is in progress", Refresh{Status: RefreshInProgress, PercentageComplete: 40}, 25, SignalInProgress, 0},
		{"a successful refresh succeeded", Refresh{Status: RefreshSuccessful, PercentageComplete: 100}, 50, SignalSucceeded, 0},
		{"a baking refresh is baking", Refresh{Status: RefreshBaking}, 50, SignalBaking, 0},
		{"a rolling-back refresh started its rollback", Refresh{Status: RefreshRollbackInProgress}, 25, SignalRollbackStarted, 0},
		{"a failed refresh failed", Refresh{Status: RefreshFailed}, 25, SignalFailed, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := RefreshSignal(tc.r, cps, tc.last, at)
			eq(t, s.Kind, tc.kind)
			eq(t, s.Percentage, tc.percent)
			eq(t, s.At, at)
		})
	}
}

func FuzzParseRefreshEvent(f *testing.F) {
	f.Add([]byte(checkpointEvent))
	f.Add([]byte(strings.Replace(checkpointEvent, "Checkpoint Reached", "Succeeded", 1)))
	f.Add([]byte(strings.Replace(checkpointEvent, `"CheckpointPercentage":"50"`, `"CheckpointPercentage":"1e9"`, 1)))
	f.Add([]byte(strings.Replace(checkpointEvent, `"version":"0"`, `"version":"1"`, 1)))
	f.Add([]byte(`{"detail":{"CheckpointPercentage":"1e9"}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := ParseRefreshEvent(raw)
		if err != nil {
			var b *BadInputError
			if !errors.As(err, &b) {
				t.Fatalf("a parse failure must be bad input, got %T", err)
			}
			return
		}
		if ev.Group.Name == "" || !ValidRegion(ev.Group.Region) || ev.RefreshID == "" || CheckEventID(ev.ID) != nil {
			t.Fatalf("accepted an event without its ids: %+v", ev)
		}
		if ev.Checkpoint < 0 || ev.Checkpoint > 100 {
			t.Fatalf("checkpoint %d out of range", ev.Checkpoint)
		}
		if s, ok := ev.Signal(); ok && s.Kind == "" {
			t.Fatal("a signal without a kind")
		}
	})
}
