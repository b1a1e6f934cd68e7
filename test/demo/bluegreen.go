package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Story 5 rolls an image to a blue/green pair (docs/blue-green.md): two
// groups behind one listener's weighted forward action, declared as the
// contract says ("Declaring a pair").

// pairName is the pair's phoenix:pair and phoenix:role, and its load
// balancer's and launch template's name; its groups are pairName-blue,
// which serves, and pairName-green, idle. Its role is its own, so that the
// images published for web and api never reach it, nor its image them.
const pairName = "checkout"

// pairPolicy is the pair's phoenix:* tags besides enabled, role, pair,
// wave and alarms: the traffic in steps of 10, 50 and 100%, each held five
// minutes (phoenix:checkpoint-delay is a step's wait), then a bake and a
// guard window.
var pairPolicy = map[string]string{
	"phoenix:strategy":         "blue-green",
	"phoenix:traffic-steps":    "10,50,100",
	"phoenix:checkpoint-delay": "300",
	"phoenix:bake":             "600",
	"phoenix:guard-window":     "1800",
}

// pairAlarm fires on one minute with more than 10 5xx: sized for the 10%
// step, in which the new group is sent about 60 of the load balancer's
// 600 requests a minute (the local cloud's traffic), a count that web's
// and api's threshold of 50 would let pass. CloudWatch cannot be asked for
// a rate here: the local cloud does not model metric math alarms.
var pairAlarm = alarmSpec{threshold: 10, periods: 1}

// The pair's target groups check health every 30 s, the ALB's default,
// and take five failed checks to call a target unhealthy (the default is
// two). A target that goes bad keeps its share of the requests for two to
// two and a half minutes; the alarm, evaluated at each minute's end, sees
// it within one. With web's and api's checks (every 10 s, two failures)
// Shift's own look at the targets would switch back first, and the story
// would be about a health check.
const (
	pairCheckInterval   = 30
	pairUnhealthyChecks = 5
)

// badAfter is how long v5's instances serve well once running. The idle
// group is proven about 120 s after it scales up (running at 30 s, the
// application up at 90 s, Shift looking every 30 s), so they go bad one
// to one and a half minutes into the 10% step, which lasts five.
const badAfter = 180 * time.Second

// pairInfo is story 5's pair as the demo created it.
type pairInfo struct {
	live, idle *group
	listener   string
}

// createPair declares the pair as a user would: a launch template on
// image, two target groups, a load balancer whose listener forwards to both
// with weights 100 and 0, an alarm on each target group's 5xx count, and
// two groups tagged as a pair, the live one with size instances and the
// idle one at zero. Both alarms are listed in both groups' phoenix:alarms:
// either group may be the new one in a rollout.
func (d *demo) createPair(ctx context.Context, image string) (*pairInfo, error) {
	size := int32(d.mode.size)
	lt, err := d.c.ec2.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String(pairName),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(image), InstanceType: ec2types.InstanceTypeT3Micro},
	})
	if err != nil {
		return nil, fmt.Errorf("create launch template %s: %w", pairName, err)
	}
	lb, err := d.c.elb.CreateLoadBalancer(ctx, &elasticloadbalancingv2.CreateLoadBalancerInput{
		Name: aws.String(pairName), Subnets: []string{"subnet-0de70a", "subnet-0de70b"},
	})
	if err != nil {
		return nil, fmt.Errorf("create load balancer %s: %w", pairName, err)
	}
	side := func(color string) (*group, error) {
		name := pairName + "-" + color
		g := &group{name: name, wave: "0", alarm: name + "-5xx", pair: pairName,
			launchTemplate: str(lt.LaunchTemplate.LaunchTemplateId), loadBalancer: str(lb.LoadBalancers[0].LoadBalancerArn)}
		tg, err := d.c.elb.CreateTargetGroup(ctx, &elasticloadbalancingv2.CreateTargetGroupInput{
			Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String("vpc-0de70"),
			HealthCheckIntervalSeconds: aws.Int32(pairCheckInterval), HealthyThresholdCount: aws.Int32(2), UnhealthyThresholdCount: aws.Int32(pairUnhealthyChecks),
			HealthCheckPath: aws.String("/health"),
		})
		if err != nil {
			return nil, fmt.Errorf("create target group %s: %w", name, err)
		}
		g.targetGroup = str(tg.TargetGroups[0].TargetGroupArn)
		return g, nil
	}
	p := &pairInfo{}
	if p.live, err = side("blue"); err != nil {
		return nil, err
	}
	if p.idle, err = side("green"); err != nil {
		return nil, err
	}
	l, err := d.c.elb.CreateListener(ctx, &elasticloadbalancingv2.CreateListenerInput{
		LoadBalancerArn: aws.String(p.live.loadBalancer), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{
			TargetGroups: []elbtypes.TargetGroupTuple{
				{TargetGroupArn: aws.String(p.live.targetGroup), Weight: aws.Int32(100)},
				{TargetGroupArn: aws.String(p.idle.targetGroup), Weight: aws.Int32(0)},
			},
		}}},
	})
	if err != nil {
		return nil, fmt.Errorf("create listener %s: %w", pairName, err)
	}
	p.listener = str(l.Listeners[0].ListenerArn)
	tags := map[string]string{
		"phoenix:enabled": "true",
		"phoenix:role":    pairName,
		"phoenix:pair":    pairName,
		"phoenix:wave":    "0",
		"phoenix:alarms":  p.live.alarm + "," + p.idle.alarm,
	}
	for k, v := range pairPolicy {
		tags[k] = v
	}
	var asTags []astypes.Tag
	for _, k := range sortedKeys(tags) {
		asTags = append(asTags, astypes.Tag{Key: aws.String(k), Value: aws.String(tags[k]), PropagateAtLaunch: aws.Bool(false)})
	}
	for _, g := range []*group{p.live, p.idle} {
		if err := d.createAlarm(ctx, g, pairAlarm); err != nil {
			return nil, err
		}
		n := size
		if g == p.idle {
			n = 0
		}
		if _, err := d.c.asg.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{
			AutoScalingGroupName:   aws.String(g.name),
			LaunchTemplate:         &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(g.launchTemplate), Version: aws.String("1")},
			MinSize:                aws.Int32(n),
			MaxSize:                aws.Int32(2 * size),
			DesiredCapacity:        aws.Int32(n),
			AvailabilityZones:      []string{"us-east-1a", "us-east-1b"},
			TargetGroupARNs:        []string{g.targetGroup},
			HealthCheckType:        aws.String("EC2"),
			HealthCheckGracePeriod: aws.Int32(60),
			DefaultInstanceWarmup:  aws.Int32(60),
			Tags:                   asTags,
		}); err != nil {
			return nil, fmt.Errorf("create group %s: %w", g.name, err)
		}
		d.groups = append(d.groups, g)
	}
	return p, nil
}

// storyBlueGreen creates the pair on v4 and publishes v5 for it, an image
// whose instances go bad three minutes after they boot. Phoenix brings the
// idle group up on v5, proves it and sends it 10% of the traffic; v5
// starts answering errors, the guard alarm on its target group fires, and
// Phoenix puts all the traffic back on the old group in one call and
// scales the new one down. The chart of the report is the requests per
// minute by version, from CloudWatch.
func (d *demo) storyBlueGreen(ctx context.Context, st *Story) error {
	p, err := d.createPair(ctx, d.imageID("v4"))
	if err != nil {
		return err
	}
	for _, text := range []string{
		fmt.Sprintf("blue/green pair %s created: %s serves %d instances of v4, %s is idle at 0; one launch template, a target group each",
			pairName, p.live.name, d.mode.size, p.idle.name),
		fmt.Sprintf("listener %s forwards 100%% to %s and 0%% to %s; traffic steps %s%%, each held %s s",
			pairName, p.live.name, p.idle.name, pairPolicy["phoenix:traffic-steps"], pairPolicy["phoenix:checkpoint-delay"]),
		fmt.Sprintf("alarms %s, %s (over %.0f 5xx a minute) in both groups' phoenix:alarms; health checked every %d s, %d failures to unhealthy",
			p.live.alarm, p.idle.alarm, pairAlarm.threshold, pairCheckInterval, pairUnhealthyChecks),
	} {
		d.emit(Event{At: d.c.now(), Group: p.live.name, Kind: "setup", Text: text})
	}
	if err := d.until(ctx, settleLimit, p.live.name+" to serve behind load balancer "+pairName, d.servesAll(ctx, p.live)); err != nil {
		return err
	}
	ready := d.c.now()
	// v5 is published 20 s past a whole minute. Shift looks at the pair
	// every 30 s from the scale-up and CloudWatch evaluates the alarm on
	// the minute: published on the minute, as the demo's samples fall,
	// Shift's look would come 0.1 s after the alarm's change and read it in
	// ALARM itself, and the story would not show the alarm's own path,
	// alarm-events waking the parked rollout. Either way it switches back
	// at once.
	at := ready.Truncate(time.Minute).Add(20 * time.Second)
	if !at.After(ready) {
		at = at.Add(time.Minute)
	}
	d.c.advanceTo(at)
	v5, err := d.publish(ctx, "v5", map[string]string{"phoenix:role": pairName, behaviorTag: fmt.Sprintf("degrade-after:%d", int(badAfter.Seconds()))},
		fmt.Sprintf("phoenix:role=%s; serves well for %s after boot, then times out on half its requests (5xx at the load balancer) and on its health checks",
			pairName, secondsText(badAfter)))
	if err != nil {
		return err
	}
	cmp, err := d.awaitCampaign(ctx, v5)
	if err != nil {
		return err
	}
	if err := d.until(ctx, settleLimit, "the pair to settle", d.settled); err != nil {
		return err
	}
	out, err := d.outcome(ctx, st.Started, cmp, func(r rollout.Rollout) bool { return r.To.ImageID == v5 })
	if err != nil {
		return err
	}
	var r rollout.Rollout
	for _, x := range d.watch.rollouts {
		if x.To.ImageID == v5 {
			r = x
		}
	}
	bg := &BlueGreenOutcome{Pair: pairName, Live: p.live.name, Idle: p.idle.name, SwitchBackAt: stepAt(r, "switch-back"), ShiftAt: stepAt(r, "shift@10")}
	for _, g := range []*group{p.idle, p.live} {
		a, err := d.firstAlarm(ctx, g.alarm, ready)
		if err != nil {
			return err
		}
		if a != nil && (bg.Alarm == nil || a.At.Before(bg.Alarm.At)) {
			bg.Alarm = a
		}
	}
	if bg.Alarm != nil && !bg.SwitchBackAt.IsZero() {
		bg.AlarmToBackSeconds = bg.SwitchBackAt.Sub(bg.Alarm.At).Seconds()
	}
	out.Alarm, out.BlueGreen = bg.Alarm, bg
	st.Result = out
	if bg.Weights, err = d.weights(ctx, p); err != nil {
		return err
	}
	if d.traffic, err = d.trafficChart(ctx, p, ready, d.c.now(), bg, "v4", "v5"); err != nil {
		return err
	}
	old, bad := d.traffic.Series[0], d.traffic.Series[1]
	for i := range d.traffic.Minutes {
		bg.NewRequests += bad.Requests[i]
		bg.NewErrors += bad.Errors[i]
		if total := bad.Requests[i] + old.Requests[i]; total > 0 {
			bg.MaxNewShare = max(bg.MaxNewShare, 100*bad.Requests[i]/total)
		}
	}
	d.pairFacts(st, p, out, bg, ready)
	st.AsTold = st.allOK()
	alarmAt := "never"
	if bg.Alarm != nil {
		alarmAt = fmt.Sprintf("at %s, %s into the 10%% step", bg.Alarm.At.Format("15:04:05"), secondsText(bg.Alarm.At.Sub(bg.ShiftAt)))
	}
	status := "no rollout"
	if ro := out.rollout(p.live.name); ro != nil {
		status = "the rollout " + ro.Status
	}
	st.Outcome = fmt.Sprintf("v5 took 10%% of %s's traffic and answered %.0f requests, %.0f of them 5xx; alarm %s fired %s; %s later all the traffic was back on %s (v4), in one call; %s, campaign %s; fleets %s",
		pairName, bg.NewRequests, bg.NewErrors, alarmName(bg.Alarm), alarmAt, secondsText(time.Duration(bg.AlarmToBackSeconds*float64(time.Second))), p.live.name,
		status, strings.ToLower(out.Campaign), d.pairSummary(out.Fleet, p))
	return nil
}

// pairFacts checks story 5's claims against what AWS and the ledger say.
func (d *demo) pairFacts(st *Story, p *pairInfo, out *Outcome, bg *BlueGreenOutcome, ready time.Time) {
	ro := out.rollout(p.live.name)
	if ro == nil {
		st.fact(false, "no rollout of v5 was recorded for pair %s", pairName)
	} else {
		st.fact(ro.Status == string(rollout.StatusReverted) && ro.Strategy == rollout.StrategyBlueGreen,
			"pair %s: %s rollout %s %s, version %d (%s) to %d (%s)", pairName, ro.Strategy, ro.ID, ro.Status, ro.FromVersion, ro.From, ro.ToVersion, ro.To)
		st.fact(containsAll(ro.Steps, "scale-up", "proved", "shift@10", "switch-back") && !slices.Contains(ro.Steps, "shift@50"),
			"its timeline: %s (%s came up and was proven before any traffic; the 50%% step never came)", strings.Join(ro.Steps, ", "), p.idle.name)
		st.fact(slices.Contains(ro.Signals, rollout.SignalAlarm), "alarm-events woke the parked rollout: the ledger holds its signals %s", strings.Join(ro.Signals, ", "))
	}
	if bg.Alarm == nil {
		st.fact(false, "neither %s nor %s went into ALARM", p.live.alarm, p.idle.alarm)
	} else {
		st.fact(bg.Alarm.Name == p.idle.alarm && !bg.ShiftAt.IsZero() && bg.Alarm.At.After(bg.ShiftAt),
			"alarm %s went into ALARM at %s, %s after %s took 10%% of the traffic: %s", bg.Alarm.Name, bg.Alarm.At.Format("15:04:05"),
			secondsText(bg.Alarm.At.Sub(bg.ShiftAt)), p.idle.name, bg.Alarm.Reason)
		st.fact(ro != nil && strings.Contains(ro.Reason, bg.Alarm.Name) && bg.AlarmToBackSeconds >= 0 && bg.AlarmToBackSeconds <= switchBackWithin.Seconds(),
			"the switch-back, which names the alarm, put 100%% back on %s %s after it (within %s)", p.live.name,
			secondsText(time.Duration(bg.AlarmToBackSeconds*float64(time.Second))), secondsText(switchBackWithin))
	}
	st.fact(bg.Weights[p.live.name] == 100 && bg.Weights[p.idle.name] == 0, "listener %s forwards %d%% to %s and %d%% to %s (DescribeListeners)",
		pairName, bg.Weights[p.live.name], p.live.name, bg.Weights[p.idle.name], p.idle.name)
	st.fact(bg.NewRequests > 0 && bg.NewErrors > 0 && bg.MaxNewShare <= 10,
		"%s answered %.0f requests, %.0f of them 5xx, and never more than %.0f%% of a minute's requests (CloudWatch RequestCount and HTTPCode_Target_5XX_Count)",
		p.idle.name, bg.NewRequests, bg.NewErrors, bg.MaxNewShare)
	var early, late float64
	for i, m := range d.traffic.Minutes {
		switch {
		case !m.Add(time.Minute).After(bg.ShiftAt):
			early += d.traffic.Series[1].Requests[i]
		case !bg.SwitchBackAt.IsZero() && !m.Before(bg.SwitchBackAt.Truncate(time.Minute)):
			late += d.traffic.Series[1].Requests[i]
		}
	}
	st.fact(early == 0 && late == 0 && !bg.SwitchBackAt.IsZero(), "%s was sent no request before the 10%% step (%.0f) nor from the minute of the switch-back on (%.0f)", p.idle.name, early, late)
	// The old group served at full capacity throughout: the floor of
	// docs/blue-green.md.
	lowest := d.mode.size
	for _, s := range d.samples {
		if s.At.Before(ready) {
			continue
		}
		lowest = min(lowest, len(s.Groups[p.live.name].inService()))
	}
	st.fact(lowest == d.mode.size && out.Fleet[p.live.name]["v4"] == d.mode.size && len(out.Fleet[p.live.name]) == 1,
		"%s kept its %d instances of v4 in service throughout (lowest seen %d)", p.live.name, d.mode.size, lowest)
	idle := d.samples[len(d.samples)-1].Groups[p.idle.name]
	st.fact(idle.Desired == 0 && len(idle.Members) == 0 && idle.Version == "1", "%s scaled down to 0 (%d instances left) and pointed back at launch template version %s",
		p.idle.name, len(idle.Members), idle.Version)
	st.fact(out.Campaign == string(sfntypes.ExecutionStatusFailed), "campaign of v5 ended %s", out.Campaign)
	st.fact(out.LastKnownGood[p.live.name] != "v5" && out.LastKnownGood[p.idle.name] != "v5", "v5 is no group's last-known-good (%s: %s, %s: %s)",
		p.live.name, orNone(out.LastKnownGood[p.live.name]), p.idle.name, orNone(out.LastKnownGood[p.idle.name]))
}

func containsAll(have []string, want ...string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// switchBackWithin is the most the story allows between the alarm and all
// the traffic back on the old group: the alarm's event, alarm-events, the
// parked rollout woken, Shift and SwitchBack.
const switchBackWithin = time.Minute

// servesAll reports whether all of g's instances are healthy in its
// target group.
func (d *demo) servesAll(ctx context.Context, g *group) func() (bool, error) {
	return func() (bool, error) {
		out, err := d.c.elb.DescribeTargetHealth(ctx, &elasticloadbalancingv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(g.targetGroup)})
		if err != nil {
			return false, err
		}
		n := 0
		for _, t := range out.TargetHealthDescriptions {
			if t.TargetHealth.State == elbtypes.TargetHealthStateEnumHealthy {
				n++
			}
		}
		return n == d.mode.size, nil
	}
}

// weights reads the pair's listener and returns the weight of each
// group's target group in its forward action.
func (d *demo) weights(ctx context.Context, p *pairInfo) (map[string]int, error) {
	out, err := d.c.elb.DescribeListeners(ctx, &elasticloadbalancingv2.DescribeListenersInput{ListenerArns: []string{p.listener}})
	if err != nil {
		return nil, fmt.Errorf("describe listener %s: %w", pairName, err)
	}
	w := map[string]int{}
	for _, l := range out.Listeners {
		for _, a := range l.DefaultActions {
			if a.ForwardConfig == nil {
				continue
			}
			for _, t := range a.ForwardConfig.TargetGroups {
				for _, g := range []*group{p.live, p.idle} {
					if str(t.TargetGroupArn) == g.targetGroup {
						w[g.name] += int(aws.ToInt32(t.Weight))
					}
				}
			}
		}
	}
	return w, nil
}

// pairSummary writes the pair's fleet: "checkout-blue 2 v4, checkout-green
// nothing in service".
func (d *demo) pairSummary(fleet map[string]map[string]int, p *pairInfo) string {
	var parts []string
	for _, g := range []*group{p.live, p.idle} {
		var by []string
		for _, l := range sortedKeys(fleet[g.name]) {
			by = append(by, fmt.Sprintf("%d %s", fleet[g.name][l], l))
		}
		if len(by) == 0 {
			by = []string{"nothing in service"}
		}
		parts = append(parts, g.name+" "+strings.Join(by, " + "))
	}
	return strings.Join(parts, ", ")
}

// stepAt returns when the rollout's timeline recorded the step (zero if
// never).
func stepAt(r rollout.Rollout, key string) time.Time {
	for _, s := range r.Steps {
		if s.Key == key {
			return s.At
		}
	}
	return time.Time{}
}

func alarmName(a *AlarmOutcome) string {
	if a == nil {
		return "none"
	}
	return a.Name
}

// secondsText writes a duration in seconds, to the tenth under ten:
// "0.1 s", "42 s", "2 min 30 s".
func secondsText(x time.Duration) string {
	switch {
	case x < 10*time.Second && x > -10*time.Second:
		return fmt.Sprintf("%.1f s", x.Seconds())
	case x < time.Minute && x > -time.Minute:
		return fmt.Sprintf("%d s", int(x.Round(time.Second).Seconds()))
	}
	x = x.Round(time.Second)
	if x%time.Minute == 0 {
		return fmt.Sprintf("%d min", int(x.Minutes()))
	}
	return fmt.Sprintf("%d min %d s", int(x.Minutes()), int(x.Seconds())%60)
}
