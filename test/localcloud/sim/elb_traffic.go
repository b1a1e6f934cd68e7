package sim

import (
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// Traffic is one simulated minute of client requests through a region's
// Application Load Balancers, as World.Traffic computes it.
type Traffic struct {
	// TargetGroups has an entry for every target group a listener's
	// default actions or rules forward to (weight 0 included), keyed by
	// ARN; a target group nothing forwards to receives no traffic and has
	// no entry.
	TargetGroups map[string]TargetGroupLoad
	// Instances has an entry, keyed by instance id, for every instance
	// whose application runs (its health check answer is not a refused
	// connection) and that is registered with a target group in
	// TargetGroups: what the application counted itself, for per-instance
	// metrics. Requests a booting instance refused never reached its
	// application and are counted only by the load balancer.
	Instances map[string]InstanceLoad
	// Vitals has an entry, keyed by instance id, for every running
	// instance of the region, behind a load balancer or not: what its
	// operating system reports about the minute.
	Vitals map[string]InstanceVitals
}

// TargetGroupLoad is what a load balancer sent one target group in a
// minute and how its targets answered.
type TargetGroupLoad struct {
	LoadBalancerARN string
	// Requests counts the requests routed to the group.
	Requests float64
	// TargetErrors counts the requests targets answered with a 5XX status.
	TargetErrors float64
	// ELBErrors counts the requests the load balancer answered 503 itself
	// because the group had no target it could route to.
	ELBErrors float64
	// Latency is the mean time the targets took over the requests they
	// answered (1 ms for each refused by a booting target); 0 when they
	// answered none.
	Latency time.Duration
}

// InstanceLoad is what one instance's application served in a minute.
type InstanceLoad struct {
	Requests float64
	// Errors counts the requests it answered with a 5XX status.
	Errors float64
	// Latency is the mean time it took; 0 when it served nothing.
	Latency time.Duration
	// Latencies is the distribution of the times it took, empty when it
	// served nothing.
	Latencies Latencies
}

// Traffic models the minute of client requests that ends now, for
// CloudWatch metrics. The model, kept simple on purpose:
//
//   - each load balancer receives EC2Config.RequestsPerMinute requests (600
//     by default), all through its front listener, the oldest it has:
//     further listeners (another port to reach an idle fleet, say) receive
//     no client traffic of their own;
//   - every request is GET / with the load balancer's DNS name as Host; the
//     front listener's rules are tried by priority
//     (ListenerRule.matchesSyntheticRequest) and the default rule takes
//     the rest; a fixed-response or redirect action is answered by the load
//     balancer and reaches no target group;
//   - a forward action splits the requests among its target groups in
//     proportion to their weights, by largest remainder, so each group's
//     count is within one request of its exact share every minute; a
//     weight-0 group gets none (but is used: its targets are health
//     checked and its metrics are published); when every weight is 0 the
//     load balancer answers every request 503 itself and no target group
//     counts them. Target group stickiness does not change the split: each
//     synthetic request is a new client;
//   - within a group requests go round robin to its healthy targets
//     (initial, draining and unused targets get none). A group with fewer
//     healthy targets than its target_group_health.unhealthy_state_routing
//     minimums (by default: none healthy) fails open, as the ALB guide
//     documents, and routes to its healthy and unhealthy targets alike; a
//     group with neither gets its share all the same and the load balancer
//     answers it 503 (ELBErrors);
//   - each instance answers as its behaviour says at that instant (see
//     BehaviorTag): 0% 5XX at 20 ms when healthy, 100% at 10 ms for an
//     unhealthy image, 50% at 1500 ms once degraded, 100% at 1 ms before its
//     application has started (the load balancer's answer), with the
//     image's regressions (errors:P, slower:F) on top. Where the share is
//     strictly between 0 and 1, the count is drawn request by request
//     from a source seeded with the World's seed, the instance, the target
//     group and the minute, so the same World answers the same minute the
//     same way however often it is asked;
//   - each request the application answers takes the instance's mean for
//     the minute (its behaviour's latency times its host, zone and minute
//     factors) times a log-normal factor of its own, drawn the same way
//     and timed in whole milliseconds; an instance's errors:P share is
//     scaled by its host's factor (Noise says how much; SetNoise(Noise{})
//     makes every answer its nominal latency and share).
//
// A bad image's 5XX count therefore grows with the weight its target group
// gets, and its instances' own counts (Instances) with their share. Vitals
// are computed for the same minute: memory from each running instance's
// age and behaviour, CPU from the time its application spent answering.
func (w *World) Traffic(region string) Traffic {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.traffic(w.region(region))
}

// TargetGroupTraffic returns one target group's part of Traffic: the
// requests it was sent, the 5XX answers among them (its targets' and the
// load balancer's own 503s) and the mean latency of its targets' answers.
// A target group nothing forwards to gets nothing.
func (w *World) TargetGroupTraffic(region, arn string) (requests, errors5xx float64, avgLatency time.Duration) {
	l, ok := w.Traffic(region).TargetGroups[arn]
	if !ok {
		return 0, 0, 0
	}
	return l.Requests, l.TargetErrors + l.ELBErrors, l.Latency
}

// instanceTally accumulates what one instance's application served:
// latencyMS is the sum of its answers' times in milliseconds.
type instanceTally struct {
	requests, errors, latencyMS float64
	latencies                   latencyTally
}

func (w *World) traffic(r *Region) Traffic {
	out := Traffic{TargetGroups: map[string]TargetGroupLoad{}, Instances: map[string]InstanceLoad{}, Vitals: map[string]InstanceVitals{}}
	now := w.now()
	minute := now.Truncate(time.Minute).Unix() / 60
	noise := w.ec2State().noise
	perLB := int(math.Round(w.cfg().RequestsPerMinute))
	listeners := sortedListeners(w.listenersOf(r))
	for _, l := range listeners {
		for _, arn := range l.TargetGroupARNs {
			if _, ok := out.TargetGroups[arn]; !ok {
				out.TargetGroups[arn] = TargetGroupLoad{LoadBalancerARN: l.LoadBalancerARN}
			}
		}
	}
	tally := map[string]*instanceTally{}
	front := map[string]bool{}
	for _, l := range listeners {
		if front[l.LoadBalancerARN] {
			continue
		}
		front[l.LoadBalancerARN] = true
		lb := w.loadBalancers(r)[l.LoadBalancerARN]
		action := routingAction(l.actionsFor(lb.DNSName))
		if action == nil || action.Type != elbtypes.ActionTypeEnumForward || action.ForwardConfig == nil {
			continue
		}
		tuples := action.ForwardConfig.TargetGroups
		weights := make([]int, len(tuples))
		for i, t := range tuples {
			weights[i] = int(aws.ToInt32(t.Weight))
		}
		for i, share := range apportion(perLB, weights) {
			arn := aws.ToString(tuples[i].TargetGroupArn)
			tg, ok := r.TargetGroups[arn]
			if !ok {
				continue
			}
			load := out.TargetGroups[arn]
			w.routeToGroup(r, tg, share, now, minute, noise, &load, tally)
			out.TargetGroups[arn] = load
		}
	}
	// Every running application behind a used target group reports, busy
	// or not, as an application's own request counter does.
	for _, tg := range sortedTGs(r) {
		if _, used := out.TargetGroups[tg.ARN]; !used {
			continue
		}
		for _, t := range sortedTargets(tg) {
			inst := r.Instances[t.ID]
			if inst == nil || t.State == TargetUnused || inst.answer(now).refused {
				continue
			}
			if _, ok := tally[t.ID]; !ok {
				tally[t.ID] = &instanceTally{}
			}
		}
	}
	for id, n := range tally {
		il := InstanceLoad{Requests: n.requests, Errors: n.errors, Latencies: n.latencies.latencies()}
		if n.requests > 0 {
			il.Latency = time.Duration(n.latencyMS / n.requests * float64(time.Millisecond))
		}
		out.Instances[id] = il
	}
	for id, inst := range r.Instances {
		if inst.State != InstanceRunning {
			continue
		}
		busy := 0.0
		if n, ok := tally[id]; ok {
			busy = n.latencyMS
		}
		out.Vitals[id] = w.vitals(inst, now, minute, busy, noise)
	}
	return out
}

// routeToGroup sends requests to a target group's serving targets and
// records how they answered in load and, for the instances whose
// application runs, in tally.
func (w *World) routeToGroup(r *Region, tg *TargetGroup, requests int, now time.Time, minute int64, noise Noise, load *TargetGroupLoad, tally map[string]*instanceTally) {
	load.Requests += float64(requests)
	if requests == 0 {
		return
	}
	serving := w.servingTargets(r, tg)
	if len(serving) == 0 {
		load.ELBErrors += float64(requests)
		return
	}
	counts := evenSplit(requests, len(serving), int(((minute%int64(len(serving)))+int64(len(serving)))%int64(len(serving))))
	minuteFactor := w.minuteFactor(r.Name, minute, noise)
	var latencyMS float64
	for i, inst := range serving {
		n := counts[i]
		if n == 0 {
			continue
		}
		share, lat, app := inst.kindTraffic(now)
		if !app {
			// Nothing listens: the load balancer answers at once.
			load.TargetErrors += float64(n)
			latencyMS += float64(n) * float64(lat) / float64(time.Millisecond)
			continue
		}
		h := w.hostOf(inst, noise)
		share = combineFailures(share, inst.Behavior.Errors*h.errors)
		errs := w.drawErrors(n, share, inst.ID+"|"+tg.ARN, minute)
		t, ok := tally[inst.ID]
		if !ok {
			t = &instanceTally{}
			tally[inst.ID] = t
		}
		if t.latencies == nil {
			t.latencies = latencyTally{}
		}
		mean := float64(lat) * inst.Behavior.slower() * h.latency * minuteFactor
		sum := w.drawLatencies(t.latencies, n, mean, noise.RequestLatency, "latency|"+inst.ID+"|"+tg.ARN, minute)
		load.TargetErrors += errs
		latencyMS += sum
		t.requests += float64(n)
		t.errors += errs
		t.latencyMS += sum
	}
	load.Latency = time.Duration(latencyMS / float64(requests) * float64(time.Millisecond))
}

// servingTargets returns the instances a target group routes requests to:
// its healthy targets or, when the group is below its minimum of healthy
// targets, its healthy and unhealthy targets alike (fail open), ordered by
// id.
func (w *World) servingTargets(r *Region, tg *TargetGroup) []*Instance {
	var healthy, all []*Instance
	for _, t := range sortedTargets(tg) {
		inst := r.Instances[t.ID]
		if inst == nil || (t.State != TargetHealthy && t.State != TargetUnhealthy) {
			continue
		}
		all = append(all, inst)
		if t.State == TargetHealthy {
			healthy = append(healthy, inst)
		}
	}
	if belowHealthyMinimum(tg, len(healthy), len(all)) {
		return all
	}
	return healthy
}

// belowHealthyMinimum applies the target group's
// target_group_health.unhealthy_state_routing.minimum_healthy_targets
// attributes: count (default 1) and percentage ("off" by default). The ALB
// guide: when fewer targets are healthy, the load balancer "routes traffic
// to all targets, including unhealthy targets" (fail open). A value that is
// not a number counts as the default.
func belowHealthyMinimum(tg *TargetGroup, healthy, total int) bool {
	const prefix = "target_group_health.unhealthy_state_routing.minimum_healthy_targets."
	count := 1
	if n, err := strconv.Atoi(tg.Attributes[prefix+"count"]); err == nil && n >= 1 {
		count = n
	}
	if healthy < count {
		return true
	}
	if pct, err := strconv.Atoi(tg.Attributes[prefix+"percentage"]); err == nil && pct > 0 {
		return healthy*100 < pct*total
	}
	return false
}

// actionsFor returns the actions the synthetic request to host meets: those
// of the first rule by priority whose conditions match, else the default
// actions.
func (l *Listener) actionsFor(host string) []elbtypes.Action {
	for _, rule := range l.sortedRules() {
		if rule.matchesSyntheticRequest(host) {
			return rule.actions
		}
	}
	return l.actions
}

// routingAction returns the routing action of an action list (forward,
// fixed-response or redirect: normalizeActions allows exactly one), or nil.
func routingAction(actions []elbtypes.Action) *elbtypes.Action {
	for i, a := range actions {
		switch a.Type {
		case elbtypes.ActionTypeEnumForward, elbtypes.ActionTypeEnumFixedResponse, elbtypes.ActionTypeEnumRedirect:
			return &actions[i]
		}
	}
	return nil
}

// apportion splits n among weights in proportion, by largest remainder
// (ties to the earlier entry): every share is within one of its exact
// value. All-zero weights get nothing.
func apportion(n int, weights []int) []int {
	out := make([]int, len(weights))
	total := 0
	for _, wt := range weights {
		total += wt
	}
	if total == 0 {
		return out
	}
	type rem struct{ i, r int }
	rems := make([]rem, len(weights))
	given := 0
	for i, wt := range weights {
		out[i] = n * wt / total
		given += out[i]
		rems[i] = rem{i, n * wt % total}
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].r > rems[b].r })
	for j := 0; given < n; j++ {
		if weights[rems[j].i] == 0 {
			continue
		}
		out[rems[j].i]++
		given++
	}
	return out
}

// evenSplit splits n among k targets as round robin does: n/k each, the
// remainder one each from index start on (the start moves every minute, so
// that no target is favoured over time).
func evenSplit(n, k, start int) []int {
	out := make([]int, k)
	for i := range out {
		out[i] = n / k
	}
	for j := 0; j < n%k; j++ {
		out[(start+j)%k]++
	}
	return out
}

// drawErrors returns how many of n requests fail when each fails with
// probability p: exact for 0 and 1, drawn request by request otherwise from
// a source seeded with the World's seed, key and minute.
func (w *World) drawErrors(n int, p float64, key string, minute int64) float64 {
	switch {
	case p <= 0:
		return 0
	case p >= 1:
		return float64(n)
	}
	rng := w.source(key, uint64(minute))
	k := 0
	for i := 0; i < n; i++ {
		if rng.Float64() < p {
			k++
		}
	}
	return float64(k)
}
