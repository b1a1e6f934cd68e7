package rollout

import (
	"errors"
	"fmt"
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
		{"EC2 Auto Scaling Instance Refresh Rollback Started", SignalRollbackStarted, true},
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

	bad := map[string]string{
		"an event from another source is bad input":   `{"source":"aws.ec2","detail-type":"EC2 Auto Scaling Instance Refresh Failed","time":"2026-03-01T12:30:00Z","region":"r","detail":{}}`,
		"an event without a refresh id is bad input":  `{"source":"aws.autoscaling","detail-type":"EC2 Auto Scaling Instance Refresh Failed","time":"2026-03-01T12:30:00Z","region":"r","detail":{"AutoScalingGroupName":"web"}}`,
		"an event with a bad time is bad input":       `{"source":"aws.autoscaling","detail-type":"EC2 Auto Scaling Instance Refresh Failed","time":"noon","region":"r","detail":{"AutoScalingGroupName":"web","InstanceRefreshId":"x"}}`,
		"a checkpoint above 100 percent is bad input": `{"source":"aws.autoscaling","detail-type":"EC2 Auto Scaling Instance Refresh Checkpoint Reached","time":"2026-03-01T12:30:00Z","region":"r","detail":{"AutoScalingGroupName":"web","InstanceRefreshId":"x","CheckpointPercentage":"150"}}`,
		"text that is not JSON is bad input":          `not json`,
	}
	for name, raw := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := ParseRefreshEvent([]byte(raw))
			var b *BadInputError
			if !errors.As(err, &b) {
				t.Errorf("err = %v, want a *BadInputError", err)
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
	f.Add([]byte(`{"source":"aws.autoscaling","detail-type":"EC2 Auto Scaling Instance Refresh Succeeded","time":"2026-03-01T12:30:00Z","region":"r","detail":{"AutoScalingGroupName":"g","InstanceRefreshId":"x"}}`))
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
		if ev.Group.Name == "" || ev.Group.Region == "" || ev.RefreshID == "" {
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
