package simbridge

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/eventbus"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/sim"
)

// fakeWorld calls subscribers the way sim.World does: synchronously, from
// emit, with its lock held.
type fakeWorld struct{ subs []func(sim.Event) }

func (w *fakeWorld) Subscribe(fn func(sim.Event)) { w.subs = append(w.subs, fn) }

func (w *fakeWorld) emit(ev sim.Event) {
	for _, fn := range w.subs {
		fn(ev)
	}
}

var _ World = (*sim.World)(nil)

func TestWorldEventsReachRulesThroughTheBus(t *testing.T) {
	t.Parallel()
	clk := clock.NewStepped(time.Time{})
	rec := &eventbus.Recorder{}
	eb := eventbus.New(eventbus.Options{Clock: clk, Target: rec})
	w := &fakeWorld{}
	Attach(eb, w)

	ctx := context.Background()
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{
		Name:         aws.String("refresh-progress"),
		EventPattern: aws.String(`{"source":["aws.autoscaling"],"detail-type":["EC2 Auto Scaling Instance Refresh Checkpoint Reached"],"detail":{"CheckpointPercentage":["50"]}}`),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("refresh-progress"), Targets: []types.Target{{
		Id: aws.String("fn"), Arn: aws.String("arn:aws:lambda:us-east-1:123456789012:function:advance"),
	}}}); err != nil {
		t.Fatal(err)
	}
	w.emit(sim.Event{
		ID: "11111111-2222-4333-8444-555555555555", Version: "0", Source: "aws.autoscaling",
		DetailType: "EC2 Auto Scaling Instance Refresh Checkpoint Reached", Account: sim.DefaultAccount,
		Time: clk.Now(), Region: "us-east-1", Resources: []string{"arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:x:autoScalingGroupName/web"},
		Detail: json.RawMessage(`{"InstanceRefreshId":"r-1","AutoScalingGroupName":"web","CheckpointPercentage":"50"}`),
	})
	if n := len(rec.Calls()); n != 0 {
		t.Fatalf("%d deliveries inside the World's emit, want none", n)
	}
	clk.Advance(time.Second)
	calls := rec.Calls()
	if len(calls) != 1 || !strings.Contains(string(calls[0].Input), `"id":"11111111-2222-4333-8444-555555555555"`) {
		t.Errorf("calls = %s, want the World's event, id kept", calls)
	}
}
