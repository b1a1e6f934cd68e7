package e2e

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

// Blue/green rollouts (issue 18, docs/blue-green.md) on the deployed
// template: a pair declared as users declare it (two groups, two target
// groups, one listener's weighted forward action), rolled by the real
// functions and state machine.

// pairSpec is a blue/green pair to create.
type pairSpec struct {
	name string
	size int
	// tags overlay the pair's tags on both groups.
	tags map[string]string
}

// pair is a created pair: blue serves, green is idle.
type pair struct {
	name, blue, green string
	blueTG, greenTG   string
	listener          string
	launchTemplate    string
	image             string
}

// bgTags are the pair's policy in these scenarios: steps of 300 s, a bake
// of 300 s and a guard window of 600 s.
var bgTags = map[string]string{
	"phoenix:strategy":         "blue-green",
	"phoenix:checkpoint-delay": "300",
	"phoenix:bake":             "300",
	"phoenix:guard-window":     "600",
}

func (r *rig) newPair(spec pairSpec) pair {
	r.t.Helper()
	p := pair{name: spec.name, blue: spec.name + "-blue", green: spec.name + "-green"}
	p.image = r.image(spec.name+"-v1", "healthy")
	lt, err := r.env.EC2.CreateLaunchTemplate(r.ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String(spec.name),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(p.image), InstanceType: ec2types.InstanceTypeT3Micro},
	})
	if err != nil {
		r.t.Fatalf("create launch template: %v", err)
	}
	p.launchTemplate = aws.ToString(lt.LaunchTemplate.LaunchTemplateId)
	tg := func(name string) string {
		out, err := r.env.ELB.CreateTargetGroup(r.ctx, &elasticloadbalancingv2.CreateTargetGroupInput{
			Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String("vpc-0e2e"),
			HealthCheckIntervalSeconds: aws.Int32(10), HealthyThresholdCount: aws.Int32(2), UnhealthyThresholdCount: aws.Int32(2),
			HealthCheckPath: aws.String("/health"),
		})
		if err != nil {
			r.t.Fatalf("create target group %s: %v", name, err)
		}
		return aws.ToString(out.TargetGroups[0].TargetGroupArn)
	}
	p.blueTG, p.greenTG = tg(p.blue), tg(p.green)
	lb, err := r.env.ELB.CreateLoadBalancer(r.ctx, &elasticloadbalancingv2.CreateLoadBalancerInput{
		Name: aws.String(spec.name), Subnets: []string{"subnet-0e2ea", "subnet-0e2eb"},
	})
	if err != nil {
		r.t.Fatalf("create load balancer: %v", err)
	}
	l, err := r.env.ELB.CreateListener(r.ctx, &elasticloadbalancingv2.CreateListenerInput{
		LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{
			TargetGroups: []elbtypes.TargetGroupTuple{
				{TargetGroupArn: aws.String(p.blueTG), Weight: aws.Int32(100)},
				{TargetGroupArn: aws.String(p.greenTG), Weight: aws.Int32(0)},
			},
		}}},
	})
	if err != nil {
		r.t.Fatalf("create listener: %v", err)
	}
	p.listener = aws.ToString(l.Listeners[0].ListenerArn)
	tags := maps.Clone(defaultTags)
	maps.Copy(tags, bgTags)
	tags["phoenix:role"], tags["phoenix:pair"] = spec.name, spec.name
	maps.Copy(tags, spec.tags)
	var asTags []astypes.Tag
	for _, k := range sortedKeys(tags) {
		asTags = append(asTags, astypes.Tag{Key: aws.String(k), Value: aws.String(tags[k]), PropagateAtLaunch: aws.Bool(false)})
	}
	for _, g := range []struct {
		name, tg string
		size     int
	}{{p.blue, p.blueTG, spec.size}, {p.green, p.greenTG, 0}} {
		if _, err := r.env.AutoScaling.CreateAutoScalingGroup(r.ctx, &autoscaling.CreateAutoScalingGroupInput{
			AutoScalingGroupName: aws.String(g.name),
			MinSize:              aws.Int32(int32(g.size)), MaxSize: aws.Int32(int32(2 * spec.size)), DesiredCapacity: aws.Int32(int32(g.size)),
			AvailabilityZones: []string{"us-east-1a", "us-east-1b"}, TargetGroupARNs: []string{g.tg},
			HealthCheckType: aws.String("EC2"), HealthCheckGracePeriod: aws.Int32(60), DefaultInstanceWarmup: aws.Int32(120),
			LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(p.launchTemplate), Version: aws.String("1")},
			Tags:           asTags,
		}); err != nil {
			r.t.Fatalf("create group %s: %v", g.name, err)
		}
	}
	r.env.RunUntil(r.t, time.Hour, fmt.Sprintf("%d healthy targets in %s", spec.size, p.blue), func() bool {
		return r.healthyTargets(p.blueTG) == spec.size
	})
	return p
}

// weights returns the listener's forward weights by target group.
func (r *rig) weights(listener string) map[string]int {
	r.t.Helper()
	ctx := api.WithRequest(r.ctx, api.Request{Region: region, Account: r.env.Cloud.World.Account()})
	out, err := r.env.Cloud.World.ELB().DescribeListeners(ctx, &elasticloadbalancingv2.DescribeListenersInput{ListenerArns: []string{listener}})
	if err != nil || len(out.Listeners) != 1 {
		r.t.Fatalf("describe listener %s: %v", listener, err)
	}
	w := map[string]int{}
	for _, a := range out.Listeners[0].DefaultActions {
		if a.ForwardConfig != nil {
			for _, tg := range a.ForwardConfig.TargetGroups {
				w[aws.ToString(tg.TargetGroupArn)] += int(aws.ToInt32(tg.Weight))
			}
		} else if a.TargetGroupArn != nil {
			w[aws.ToString(a.TargetGroupArn)] += 1
		}
	}
	return w
}

// watch is what a blue/green rollout looked like from outside while it
// ran, sampled at every event of the simulated clock.
type watch struct {
	// lowest is the lowest serving capacity seen: healthy targets in the
	// target groups with weight; worstGap the longest it stayed below the
	// floor.
	lowest   int
	worstGap time.Duration
	// zeroWeight counts samples with no weight at all; unhealthyWeight
	// samples with weight on a target group without a healthy target.
	zeroWeight, unhealthyWeight int
	// greenShare is the highest share of the weight green ever had.
	greenShare int
	// backAt is when all the weight was last seen going back to blue
	// after green had some.
	backAt time.Time
}

// runWatching runs the execution to its end, sampling the pair.
func (r *rig) runWatching(arn string, p pair, floor int, limit time.Duration) watch {
	r.t.Helper()
	w := newWatch()
	r.watchUntil(&w, arn, p, floor, limit, nil)
	return w
}

func newWatch() watch { return watch{lowest: 1 << 30} }

// watchUntil runs until the execution ends or until says so, sampling the
// pair into w; it reports whether the execution ended.
func (r *rig) watchUntil(w *watch, arn string, p pair, floor int, limit time.Duration, until func() bool) bool {
	r.t.Helper()
	ctx := api.WithRequest(r.ctx, api.Request{Region: region, Account: r.env.Cloud.World.Account()})
	hadGreen := w.greenShare > 0
	healthy := func(tg string) int {
		out, err := r.env.Cloud.World.ELB().DescribeTargetHealth(ctx, &elasticloadbalancingv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
		if err != nil {
			r.t.Fatalf("describe target health: %v", err)
		}
		n := 0
		for _, d := range out.TargetHealthDescriptions {
			if d.TargetHealth.State == elbtypes.TargetHealthStateEnumHealthy {
				n++
			}
		}
		return n
	}
	var last, below time.Time
	ended := false
	r.env.RunUntil(r.t, limit, "execution "+arn+" to end", func() bool {
		d, err := r.env.Cloud.StepFunctions.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err != nil {
			r.t.Fatalf("describe execution: %v", err)
		}
		ended = d.Status != sfntypes.ExecutionStatusRunning
		stop := ended || until != nil && until()
		if now := r.env.Now(); stop || now.Sub(last) >= 5*time.Second {
			last = now
			ws := r.weights(p.listener)
			total, serving := 0, 0
			for tg, weight := range ws {
				total += weight
				if weight > 0 {
					h := healthy(tg)
					serving += h
					if h == 0 {
						w.unhealthyWeight++
					}
				}
			}
			if total == 0 {
				w.zeroWeight++
			} else {
				share := 100 * ws[p.greenTG] / total
				w.greenShare = max(w.greenShare, share)
				if share > 0 {
					hadGreen = true
				} else if hadGreen && w.backAt.IsZero() {
					w.backAt = now
				}
			}
			w.lowest = min(w.lowest, serving)
			switch {
			case serving < floor && below.IsZero():
				below = now
			case serving >= floor && !below.IsZero():
				w.worstGap, below = max(w.worstGap, now.Sub(below)), time.Time{}
			}
		}
		return stop
	})
	if !below.IsZero() {
		w.worstGap = max(w.worstGap, r.env.Now().Sub(below))
	}
	return ended
}

// startPair starts an image rollout of the pair, named by either group.
func (r *rig) startPair(id, group, image string) string {
	r.t.Helper()
	return r.start(id, group, image)
}

// bodies returns the bodies of the SNS notifications about a rollout.
func (r *rig) bodies(rolloutID string) []string {
	var out []string
	for _, m := range r.env.Cloud.SNS.Messages(r.topic) {
		if strings.Contains(m.Subject+m.Message, rolloutID) {
			out = append(out, m.Message)
		}
	}
	return out
}

// describe returns the execution as DescribeExecution shows it.
func (r *rig) describe(arn string) *sfn.DescribeExecutionOutput {
	r.t.Helper()
	d, err := r.env.StepFunctions.DescribeExecution(r.ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	if err != nil {
		r.t.Fatalf("describe execution: %v", err)
	}
	return d
}

// stepAt returns when the rollout's timeline recorded the step (zero if
// never).
func (r *rig) stepAt(id, key string) time.Time {
	r.t.Helper()
	it := r.item("ROLLOUT#"+id, "META")
	l, _ := it["steps"].(*ddbtypes.AttributeValueMemberL)
	if l == nil {
		return time.Time{}
	}
	for _, v := range l.Value {
		if m, ok := v.(*ddbtypes.AttributeValueMemberM); ok && s(m.Value["key"]) == key {
			at, err := time.Parse(time.RFC3339Nano, s(m.Value["at"]))
			if err != nil {
				r.t.Fatalf("step %s of %s: %v", key, id, err)
			}
			return at
		}
	}
	return time.Time{}
}

func wantSteps(t *testing.T, got []string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("the timeline %v has no %s", got, w)
		}
	}
}

func wantNoSteps(t *testing.T, got []string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if slices.Contains(got, w) {
			t.Errorf("the timeline %v has %s", got, w)
		}
	}
}

func TestABlueGreenPairTakesAGoodImageStepByStepAndKeepsTheOldGroupWarmThroughTheGuardWindow(t *testing.T) {
	t.Parallel()
	r := newRig(t, 1801)
	p := r.newPair(pairSpec{name: "shop", size: 4})
	img := r.image("shop-v2", "healthy")
	// Named by the idle group: the rollout is recorded under the pair's
	// first group by name, whichever was named.
	arn := r.startPair("r-bg-good", p.green, img)
	w := r.runWatching(arn, p, 4, 6*time.Hour)
	d := r.describe(arn)
	if d.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution %s: %s\n%s", d.Status, compact(r.path(arn)), r.functionLogs())
	}
	lr := r.rollout("r-bg-good")
	if lr.status != "finalized" || lr.to != 2 || lr.toImage != img {
		t.Fatalf("rollout %+v\n%s", lr, r.functionLogs())
	}
	wantSteps(t, lr.steps, "prepare", "scale-up", "proved", "shift@10", "shift@50", "shift@100", "bake", "guard", "scale-down", "finalize")
	if ws := r.weights(p.listener); ws[p.greenTG] != 100 || ws[p.blueTG] != 0 {
		t.Errorf("weights at the end %v, want all on green", ws)
	}
	blue, green := r.group(p.blue), r.group(p.green)
	if blue.desired != 0 || green.desired != 4 || green.images[img] != 4 || green.version != "2" {
		t.Errorf("blue %+v green %+v; want blue at zero and green serving 4 on version 2", blue, green)
	}
	for _, g := range []string{p.blue, p.green} {
		if v, im := r.lkg(g); v != 2 || im != img {
			t.Errorf("last-known-good of %s = %d %s, want 2 %s", g, v, im, img)
		}
		if r.leased(g) {
			t.Errorf("%s is still leased", g)
		}
	}
	if n := r.defaultVersion(p.launchTemplate); n != 2 {
		t.Errorf("the template's default is %d, want 2: the pair's two groups are one user", n)
	}
	if w.lowest < 4 || w.zeroWeight > 0 || w.unhealthyWeight > 0 {
		t.Errorf("serving capacity fell to %d (floor 4); %d samples without weight, %d with weight on a target group without a healthy target",
			w.lowest, w.zeroWeight, w.unhealthyWeight)
	}
	// The guard window kept blue at full capacity: it was scaled down only
	// after guard-window seconds.
	guard, down := r.stepAt("r-bg-good", "guard"), r.stepAt("r-bg-good", "scale-down")
	if down.Sub(guard) < 600*time.Second {
		t.Errorf("blue was scaled down %s after the guard window began, want at least 600 s", down.Sub(guard))
	}
	if msgs := strings.Join(r.bodies("r-bg-good"), "\n"); !strings.Contains(msgs, "Pair shop: shop-green serves all the traffic") {
		t.Errorf("messages:\n%s", msgs)
	}
}

// wantSwitchedBack checks a blue/green rollout that went back: reverted,
// every weight on blue, green scaled down and pointed back at version 1,
// blue untouched, both groups released, last-known-good not moved.
func (r *rig) wantSwitchedBack(t *testing.T, arn, id string, p pair, w watch, size int) ledgerRollout {
	t.Helper()
	if d := r.describe(arn); d.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution %s: %s\n%s", d.Status, compact(r.path(arn)), r.functionLogs())
	}
	lr := r.rollout(id)
	if lr.status != "reverted" {
		t.Fatalf("rollout %+v, want reverted", lr)
	}
	wantSteps(t, lr.steps, "switch-back", "revert-done")
	if ws := r.weights(p.listener); ws[p.blueTG] != 100 || ws[p.greenTG] != 0 {
		t.Errorf("weights %v, want all back on blue", ws)
	}
	if g := r.group(p.green); g.desired != 0 || g.version != "1" {
		t.Errorf("green %+v, want scaled down and back on version 1", g)
	}
	if g := r.group(p.blue); g.desired != size || g.inService != size || g.images[p.image] != size || g.version != "1" {
		t.Errorf("blue %+v, want %d in service on %s, version 1", g, size, p.image)
	}
	for _, g := range []string{p.blue, p.green} {
		if r.leased(g) {
			t.Errorf("%s is still leased", g)
		}
	}
	if v, _ := r.lkg(p.blue); v == 2 {
		t.Errorf("last-known-good of %s moved to the reverted version", p.blue)
	}
	// A target that turns unhealthy while it serves is found within
	// Shift's 30 s look plus the health checks' own lag (two failed checks
	// of 10 s): serving capacity may dip below the floor for that long,
	// never longer.
	if w.worstGap > time.Minute || w.zeroWeight > 0 {
		t.Errorf("serving capacity stayed below the floor of %d for %s (lowest %d); %d samples without weight", size, w.worstGap, w.lowest, w.zeroWeight)
	}
	if n := r.defaultVersion(p.launchTemplate); n != 1 {
		t.Errorf("the template's default is %d, want 1", n)
	}
	return lr
}

func TestAnImageThatNeverBecomesHealthyNeverTakesTraffic(t *testing.T) {
	t.Parallel()
	r := newRig(t, 1802)
	p := r.newPair(pairSpec{name: "shop", size: 3})
	arn := r.startPair("r-bg-sick", p.blue, r.image("shop-v2", "unhealthy"))
	w := r.runWatching(arn, p, 3, 3*time.Hour)
	lr := r.wantSwitchedBack(t, arn, "r-bg-sick", p, w, 3)
	wantNoSteps(t, lr.steps, "proved", "shift@10")
	if w.greenShare != 0 {
		t.Errorf("green got %d%% of the traffic", w.greenShare)
	}
	if !strings.Contains(lr.reason, "was not proven") || !strings.Contains(lr.reason, "unhealthy") {
		t.Errorf("reason %q", lr.reason)
	}
}

// A degrading image (healthy, then timing out N seconds after it runs)
// fails the validation at the end of the step it degrades in. With the
// pair's steps of 300 s: the idle group is proven about 120 s after it
// scales up (running at 30 s, the application up at 90 s, Shift looking
// every 30 s), then 10% until about 420 s, 50% until 720 s, 100% until
// 1,020 s, when the bake begins.
func TestADegradingImageIsSwitchedBackAtTheStepItFailsIn(t *testing.T) {
	t.Parallel()
	cases := []struct {
		step           string
		degradeAfter   int // seconds after the instance runs
		reached, never string
	}{
		{"10%", 170, "shift@10", "shift@50"},
		{"50%", 470, "shift@50", "shift@100"},
		{"100%", 770, "shift@100", "bake"},
	}
	for i, tc := range cases {
		t.Run("at "+tc.step, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, uint64(1810+i))
			p := r.newPair(pairSpec{name: "shop", size: 3})
			id := fmt.Sprintf("r-bg-degrade-%d", i)
			arn := r.startPair(id, p.blue, r.image("shop-v2", fmt.Sprintf("degrade-after:%d", tc.degradeAfter)))
			w := r.runWatching(arn, p, 3, 3*time.Hour)
			lr := r.wantSwitchedBack(t, arn, id, p, w, 3)
			wantSteps(t, lr.steps, "proved", tc.reached)
			wantNoSteps(t, lr.steps, tc.never)
			if !strings.Contains(lr.reason, "at "+strings.TrimSuffix(tc.step, "%")+"% of the traffic") || !strings.Contains(lr.reason, "unhealthy") {
				t.Errorf("reason %q", lr.reason)
			}
			if back := r.stepAt(id, "switch-back"); back.IsZero() || !w.backAt.IsZero() && w.backAt.Sub(back) > 5*time.Second {
				t.Errorf("the weights went back at %s, the switch-back was recorded at %s", w.backAt, back)
			}
		})
	}
}

// interrupt runs a pair's rollout until the step is in its timeline plus
// a little, then does what act does, and runs to the end. It returns the
// instant act ran and what the pair looked like.
func (r *rig) interrupt(arn, id string, p pair, size int, step string, after time.Duration, act func()) (time.Time, watch) {
	r.t.Helper()
	w := newWatch()
	var reached time.Time
	if r.watchUntil(&w, arn, p, size, 6*time.Hour, func() bool {
		if reached.IsZero() {
			reached = r.stepAt(id, step)
		}
		return !reached.IsZero() && !r.env.Now().Before(reached.Add(after))
	}) {
		r.t.Fatalf("the rollout ended before %s + %s: %s\n%+v", step, after, compact(r.path(arn)), r.rollout(id))
	}
	at := r.env.Now()
	act()
	r.watchUntil(&w, arn, p, size, 6*time.Hour, nil)
	return at, w
}

// switchedBackWithin checks that all the weight was back on blue within
// limit of at, and returns how long it took: until the switch-back's one
// ModifyListener, which its timeline step records, and which the samples
// (every 5 s) saw.
func (r *rig) switchedBackWithin(t *testing.T, id string, w watch, at time.Time, limit time.Duration) time.Duration {
	t.Helper()
	back := r.stepAt(id, "switch-back")
	took := back.Sub(at)
	if back.IsZero() || took < 0 || took > limit {
		t.Errorf("the switch-back was recorded at %s, %s after %s; want within %s", back, took, at, limit)
	}
	if w.backAt.IsZero() || w.backAt.Before(back) || w.backAt.Sub(back) > 5*time.Second {
		t.Errorf("the samples saw all the weight back on blue at %s; the switch-back was at %s", w.backAt, back)
	}
	return took
}

func TestAGuardAlarmSwitchesAPairBackInSecondsWhileShiftingAndInItsGuardWindow(t *testing.T) {
	t.Parallel()
	for i, tc := range []struct{ step, reason string }{{"shift@50", "(shift)"}, {"guard", "(guard)"}} {
		t.Run("at "+tc.step, func(t *testing.T) {
			t.Parallel()
			a := newAlarmRig(t, uint64(1820+i))
			p := a.newPair(pairSpec{name: "shop", size: 3, tags: map[string]string{"phoenix:alarms": "shop-5xx"}})
			a.alarm("shop-5xx", nil)
			id := fmt.Sprintf("r-bg-alarm-%d", i)
			arn := a.startPair(id, p.blue, a.image("shop-v2", "healthy"))
			fired, w := a.interrupt(arn, id, p, 3, tc.step, time.Minute, func() { a.fire("shop-5xx") })
			lr := a.wantSwitchedBack(t, arn, id, p, w, 3)
			took := a.switchedBackWithin(t, id, w, fired, 60*time.Second)
			t.Logf("alarm to 100%% on blue: %s", took)
			wantNoSteps(t, lr.steps, "scale-down", "finalize")
			if !strings.Contains(lr.reason, "shop-5xx") {
				t.Errorf("reason %q does not name the alarm", lr.reason)
			}
		})
	}
}

func TestAHaltOrARollbackSwitchesAPairBackInSeconds(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		args   func(p pair) []string
		reason string
	}{
		{"phoenix halt on the idle group", func(p pair) []string { return []string{"halt", p.green, "--reason", "incident 18"} }, "incident 18"},
		{"phoenix rollback on the live group", func(p pair) []string { return []string{"rollback", p.blue} }, "rollback requested"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, uint64(1830+i))
			p := r.newPair(pairSpec{name: "shop", size: 3})
			id := fmt.Sprintf("r-bg-stop-%d", i)
			arn := r.startPair(id, p.blue, r.image("shop-v2", "healthy"))
			at, w := r.interrupt(arn, id, p, 3, "shift@10", time.Minute, func() { r.phoenixOK(tc.args(p)...) })
			lr := r.wantSwitchedBack(t, arn, id, p, w, 3)
			r.switchedBackWithin(t, id, w, at, 60*time.Second)
			if !strings.Contains(lr.reason, tc.reason) {
				t.Errorf("reason %q, want it to say %q", lr.reason, tc.reason)
			}
		})
	}
}

func TestAPairThatCannotTakeABlueGreenRolloutIsRefusedAndNothingChanges(t *testing.T) {
	t.Parallel()
	r := newRig(t, 1840)
	p := r.newPair(pairSpec{name: "shop", size: 2})
	img := r.image("shop-v2", "healthy")
	setTag := func(group, key, value string) func() {
		return func() {
			if _, err := r.env.AutoScaling.CreateOrUpdateTags(r.ctx, &autoscaling.CreateOrUpdateTagsInput{Tags: []astypes.Tag{{
				ResourceId: aws.String(group), ResourceType: aws.String("auto-scaling-group"), Key: aws.String(key), Value: aws.String(value), PropagateAtLaunch: aws.Bool(false),
			}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	forward := func(tgs ...elbtypes.TargetGroupTuple) func() {
		return func() {
			if _, err := r.env.ELB.ModifyListener(r.ctx, &elasticloadbalancingv2.ModifyListenerInput{ListenerArn: aws.String(p.listener),
				DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: tgs}}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	weighted := func(arn string, w int32) elbtypes.TargetGroupTuple {
		return elbtypes.TargetGroupTuple{TargetGroupArn: aws.String(arn), Weight: aws.Int32(w)}
	}
	resize := func(group string, minSize, maxSize, desired int32) func() {
		return func() {
			if _, err := r.env.AutoScaling.UpdateAutoScalingGroup(r.ctx, &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String(group),
				MinSize: aws.Int32(minSize), MaxSize: aws.Int32(maxSize), DesiredCapacity: aws.Int32(desired)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	otherTemplate := func() {
		lt, err := r.env.EC2.CreateLaunchTemplate(r.ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("shop-other"),
			LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(p.image), InstanceType: ec2types.InstanceTypeT3Micro}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.env.AutoScaling.UpdateAutoScalingGroup(r.ctx, &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String(p.green),
			LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateId: lt.LaunchTemplate.LaunchTemplateId, Version: aws.String("1")}}); err != nil {
			t.Fatal(err)
		}
	}
	sameTemplate := func() {
		if _, err := r.env.AutoScaling.UpdateAutoScalingGroup(r.ctx, &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String(p.green),
			LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(p.launchTemplate), Version: aws.String("1")}}); err != nil {
			t.Fatal(err)
		}
	}
	third := func() {
		if _, err := r.env.AutoScaling.CreateAutoScalingGroup(r.ctx, &autoscaling.CreateAutoScalingGroupInput{
			AutoScalingGroupName: aws.String("shop-third"), MinSize: aws.Int32(0), MaxSize: aws.Int32(2), DesiredCapacity: aws.Int32(0),
			AvailabilityZones: []string{"us-east-1a"}, TargetGroupARNs: []string{p.greenTG},
			LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(p.launchTemplate), Version: aws.String("1")},
			Tags:           []astypes.Tag{{Key: aws.String("phoenix:pair"), Value: aws.String("shop"), PropagateAtLaunch: aws.Bool(false)}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	dropThird := func() {
		if _, err := r.env.AutoScaling.DeleteAutoScalingGroup(r.ctx, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String("shop-third"), ForceDelete: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name         string
		break_, mend func()
		reason       string
	}{
		{"three groups name the pair", third, dropThird, "a pair is exactly two groups; 3 carry phoenix:pair=shop"},
		{"the roles differ", setTag(p.green, "phoenix:role", "cart"), setTag(p.green, "phoenix:role", "shop"), "the groups have different roles"},
		{"the launch templates differ", otherTemplate, sameTemplate, "the groups use different launch templates"},
		{"the target groups are not in one action", forward(weighted(p.blueTG, 100)), forward(weighted(p.blueTG, 100), weighted(p.greenTG, 0)),
			"no listener or rule forwards to both"},
		{"the weights are split", forward(weighted(p.blueTG, 50), weighted(p.greenTG, 50)), forward(weighted(p.blueTG, 100), weighted(p.greenTG, 0)),
			"weights must be all on one group at the start"},
		{"the idle group has instances", resize(p.green, 0, 4, 1), resize(p.green, 0, 4, 0), "the idle group shop-green still has"},
		{"the idle group cannot grow to the live capacity", resize(p.green, 0, 1, 0), resize(p.green, 0, 4, 0), "may grow to 1 instances, fewer than the 2"},
		{"the groups' traffic steps differ", setTag(p.green, "phoenix:traffic-steps", "25,100"), setTag(p.green, "phoenix:traffic-steps", "10,50,100"),
			"the groups' phoenix:traffic-steps differ"},
		{"a group is not enabled", setTag(p.green, "phoenix:enabled", "false"), setTag(p.green, "phoenix:enabled", "true"), "is not tagged phoenix:enabled=true"},
	}
	for i, tc := range cases {
		tc.break_()
		r.env.Settle()
		before := r.weights(p.listener)
		id := fmt.Sprintf("r-bg-refused-%d", i)
		d := r.wait(r.startPair(id, p.blue, img), time.Hour)
		lr := r.rollout(id)
		switch {
		case d.Status != sfntypes.ExecutionStatusSucceeded || lr.status != "refused":
			t.Errorf("%s: execution %s, rollout %+v; want refused\n%s", tc.name, d.Status, lr, compact(r.path(aws.ToString(d.ExecutionArn))))
		case !strings.Contains(lr.reason, tc.reason):
			t.Errorf("%s: reason %q, want it to say %q", tc.name, lr.reason, tc.reason)
		}
		if got := r.weights(p.listener); !maps.Equal(got, before) {
			t.Errorf("%s: weights %v, were %v", tc.name, got, before)
		}
		if g := r.group(p.blue); g.desired != 2 || g.version != "1" {
			t.Errorf("%s: blue %+v changed", tc.name, g)
		}
		for _, g := range []string{p.blue, p.green} {
			if r.leased(g) {
				t.Errorf("%s: %s is still leased", tc.name, g)
			}
		}
		tc.mend()
		r.env.RunUntil(t, time.Hour, "shop-green to have no instance again", func() bool {
			out, err := r.env.AutoScaling.DescribeAutoScalingGroups(r.ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{p.green}})
			return err == nil && len(out.AutoScalingGroups) == 1 && len(out.AutoScalingGroups[0].Instances) == 0
		})
	}
	out, err := r.env.EC2.DescribeLaunchTemplateVersions(r.ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(p.launchTemplate)})
	if err != nil || len(out.LaunchTemplateVersions) != 1 {
		t.Errorf("the pair's template has %d versions (%v); a refusal creates none", len(out.LaunchTemplateVersions), err)
	}
	// Mended, the pair takes the image.
	if d := r.wait(r.startPair("r-bg-mended", p.green, img), 6*time.Hour); d.Status != sfntypes.ExecutionStatusSucceeded || r.rollout("r-bg-mended").status != "finalized" {
		t.Errorf("the mended pair: %s %+v\n%s", d.Status, r.rollout("r-bg-mended"), r.functionLogs())
	}
}

func TestARecycleAndARollbackOfAPairAreBlueGreenToo(t *testing.T) {
	t.Parallel()
	r := newRig(t, 1850)
	p := r.newPair(pairSpec{name: "shop", size: 2})
	v1 := p.image
	// The nightly recycle's request: the same version on fresh instances,
	// the idle group brought up, proven and shifted to as for an image.
	b, _ := json.Marshal(map[string]any{"request": map[string]any{
		"rolloutId": "c-bg-1", "target": map[string]string{"region": region, "group": p.blue}, "mode": "recycle",
		"trigger": map[string]string{"kind": "schedule", "source": "e2e"},
	}})
	out, err := r.env.StepFunctions.StartExecution(r.ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(r.machine), Name: aws.String("c-bg-1"), Input: aws.String(string(b))})
	if err != nil {
		t.Fatal(err)
	}
	w := r.runWatching(aws.ToString(out.ExecutionArn), p, 2, 6*time.Hour)
	lr := r.rollout("c-bg-1")
	if lr.status != "finalized" || lr.from != 1 || lr.to != 1 {
		t.Fatalf("recycle %+v\n%s", lr, r.functionLogs())
	}
	wantSteps(t, lr.steps, "proved", "shift@100", "guard", "scale-down")
	if blue, green := r.group(p.blue), r.group(p.green); blue.desired != 0 || green.inService != 2 || green.images[v1] != 2 {
		t.Errorf("after the recycle blue %+v green %+v; want green serving 2 fresh instances of %s", blue, green, v1)
	}
	if ws := r.weights(p.listener); ws[p.greenTG] != 100 {
		t.Errorf("weights %v after the recycle", ws)
	}
	if w.worstGap > time.Minute || w.zeroWeight > 0 {
		t.Errorf("the recycle let serving capacity below 2 for %s", w.worstGap)
	}

	// An image, then the operator takes the pair back to version 1: a
	// revert rollout, blue/green like any other, onto blue this time.
	img := r.image("shop-v2", "healthy")
	if d := r.wait(r.startPair("r-bg-v2", p.blue, img), 6*time.Hour); d.Status != sfntypes.ExecutionStatusSucceeded || r.rollout("r-bg-v2").status != "finalized" {
		t.Fatalf("r-bg-v2: %s %+v", d.Status, r.rollout("r-bg-v2"))
	}
	if ws := r.weights(p.listener); ws[p.blueTG] != 100 {
		t.Fatalf("weights %v: the image rollout should have moved the traffic to blue, the idle group then", ws)
	}
	st := r.phoenixOK("status", p.green)
	for _, want := range []string{"blue-green, pair shop", "live             shop-blue (blue)", "idle             shop-green (green)"} {
		if !strings.Contains(st, want) {
			t.Errorf("phoenix status %s does not say %q:\n%s", p.green, want, st)
		}
	}
	code, outText, errs := r.phoenix("rollback", p.green, "--to-version", "1", "--wait")
	if code != 0 {
		t.Fatalf("phoenix rollback: exit %d\n%s\n%s\n%s", code, outText, errs, r.functionLogs())
	}
	if ws := r.weights(p.listener); ws[p.greenTG] != 100 || ws[p.blueTG] != 0 {
		t.Errorf("weights %v after the rollback, want all on green", ws)
	}
	if green := r.group(p.green); green.images[v1] != 2 || green.version != "1" {
		t.Errorf("green %+v after the rollback, want 2 instances of %s on version 1", green, v1)
	}
	for _, g := range []string{p.blue, p.green} {
		if v, _ := r.lkg(g); v != 1 {
			t.Errorf("last-known-good of %s = %d after the rollback, want 1", g, v)
		}
	}
}
