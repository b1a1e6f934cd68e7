// Package monitoring is the local cloud's Amazon CloudWatch: custom and
// built-in metrics, metric alarms evaluated on the simulated clock, alarm
// history and the "CloudWatch Alarm State Change" events that EventBridge
// rules and instance refresh AutoRollback react to.
//
// # What is modelled
//
//   - Metrics: PutMetricData (Value, Values/Counts, StatisticValues,
//     Timestamp, Dimensions, Unit), GetMetricData (MetricStat queries with
//     Period and Stat: SampleCount, Sum, Average, Minimum, Maximum and pNN
//     percentiles; ScanBy; MaxDatapoints with NextToken) and ListMetrics.
//     Metric math expressions are refused with InvalidParameterValue.
//     Datapoints older than 15 days are dropped, as CloudWatch drops
//     one-minute data.
//   - Metric alarms on one metric: PutMetricAlarm (all static-threshold
//     comparison operators, Statistic or ExtendedStatistic pNN, M out of N,
//     the four TreatMissingData values, Tags), DescribeAlarms,
//     DeleteAlarms, SetAlarmState, DescribeAlarmHistory, TagResource,
//     UntagResource, ListTagsForResource. Alarms over metric math, anomaly
//     detection bands (ThresholdMetricId and the band operators) and
//     composite alarms are not modelled.
//   - Alarm actions (actions.go): when an alarm whose ActionsEnabled is
//     true changes state, by evaluation or SetAlarmState, each SNS topic
//     among the new state's actions (AlarmActions, OKActions,
//     InsufficientDataActions) is sent CloudWatch's notification through
//     Options.Actions, and the outcome is recorded as an Action history
//     item ("Successfully executed action ARN", or "Failed to execute
//     action ARN. Received error: ..."). Other actions (Auto Scaling
//     policies, EC2 stop/terminate/reboot/recover, Lambda functions,
//     Systems Manager OpsItems and incidents, investigations) are stored
//     and returned but never run, and leave no history item.
//   - Evaluation: every alarm is evaluated at each boundary of its period
//     (instants that are whole multiples of the period since the Unix
//     epoch) and once right after it is created, over the periods that
//     ended at that boundary. As the CloudWatch user guide describes, the
//     alarm retrieves an evaluation range longer than EvaluationPeriods
//     (here EvaluationPeriods + 2 periods); if it finds at least
//     EvaluationPeriods real datapoints it judges the most recent of them
//     and ignores TreatMissingData; otherwise missing periods are filled
//     according to TreatMissingData as few times as possible (see
//     evaluate.go for the exact rules, taken from the guide's table). A state
//     change is recorded in the alarm history and emitted as a "CloudWatch
//     Alarm State Change" event with the documented detail (alarmName,
//     state, previousState, configuration). SetAlarmState changes the state
//     at once; the next evaluation sets the state the data calls for.
//   - Dashboards: PutDashboard, GetDashboard, ListDashboards (prefix, 1000
//     a page) and DeleteDashboards (all or nothing), account-wide as in
//     AWS, with ARN arn:aws:cloudwatch::<account>:dashboard/<name>. The
//     body is stored byte for byte and validated against "Dashboard Body
//     Structure and Syntax": the top level (widgets, at most 500;
//     variables; start, end and periodOverride), each widget's type,
//     grid position and size, and the documented properties of metric,
//     text, log, alarm and explorer widgets: a metric widget's region,
//     stat, period (1, 5, 10, 30 or a multiple of 60), view, annotations
//     and each entry of its metrics array (namespace, name, dimension
//     pairs, rendering properties, the "." and "..." shorthands, or an
//     expression). A refused body fails with InvalidParameterInput
//     carrying one DashboardValidationMessage per problem; a gauge
//     without a y-axis range and a dimension named twice are accepted
//     with warnings. Not checked: the contents of expressions (metric
//     math, SEARCH, Metrics Insights), whether referenced metrics, alarms
//     or regions exist, widgets that overlap or reach past column 24, and
//     custom widgets' properties. Tags are refused rather than kept.
//     DashboardMetrics gives the metrics a body graphs.
//   - Built-in metrics come from a Collector (see package
//     monitoring/worldmetrics for the one over the simulated World) that is
//     sampled at every whole minute, and from the services that publish
//     their own as events happen, through Record: AWS/Lambda (Invocations,
//     Errors, Duration, Throttles), AWS/States (ExecutionsStarted, the four
//     closing counts, ExecutionTime) and AWS/DynamoDB throttling
//     (ThrottledRequests, ReadThrottleEvents, WriteThrottleEvents); each
//     package's doc says which dimensions it gives. Recorded datapoints
//     keep the simulated instant of their event.
//   - Embedded metric format: ExtractEMF reads a log line as CloudWatch
//     Logs does (the user guide's specification and JSON schema) and
//     returns its datapoints at the line's _aws.Timestamp; the Lambda model
//     records those of every function log line. A line that breaks the
//     specification yields no metric and stays a plain log line. The
//     AWS/Logs EMFValidationErrors and EMFParsingErrors metrics are not
//     published.
//
// # Locking
//
// CloudWatch never calls its event sink, collector or action runner while
// holding its state lock, because the World calls AlarmState (which takes
// that lock) while it holds its own lock, and an action reaches other
// services. Operations that change state and emit events are serialised by
// a second lock so that events, and the actions that follow each of them,
// leave in the order the changes happened.
package monitoring

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
)

// EventSink receives service events; *sim.World satisfies it.
type EventSink interface {
	Emit(region, source, detailType string, resources []string, detail any)
}

// Sample is one built-in datapoint: reported by a Collector, or recorded
// by another service with Record.
type Sample struct {
	Region     string
	Namespace  string
	MetricName string
	// Dimensions are name/value pairs; their order does not matter. The
	// map is only read, so samples may share one.
	Dimensions map[string]string
	// Timestamp is when the value was observed: for a Collector the start
	// of the minute the value describes, for Record the simulated instant
	// of the event.
	Timestamp time.Time
	Value     float64
	// Values and Counts, when Values is not empty, make the datapoint a
	// distribution as PutMetricData's Values and Counts do (Counts nil:
	// each value once), so that percentiles can be computed; Value is
	// then ignored. The slices are copied.
	Values, Counts []float64
	Unit           string
}

// Collector reports built-in metrics (AWS/ApplicationELB, AWS/AutoScaling).
// CloudWatch calls Collect at every whole minute of simulated time, without
// holding any of its locks, so a collector may call into the World.
type Collector interface {
	Collect(ctx context.Context, now time.Time) []Sample
}

// Options configures a CloudWatch.
type Options struct {
	// Clock drives evaluation and collection. Required.
	Clock *clock.Sim
	// Events receives alarm state-change events; none are sent if nil.
	Events EventSink
	// Account is the account id in alarm ARNs ("123456789012" if empty).
	Account string
	// Collector supplies built-in metrics every minute; none if nil.
	Collector Collector
	// Actions runs alarm actions that notify SNS topics (actions.go); no
	// action runs if nil. SetActions sets it after construction.
	Actions ActionRunner
}

// CloudWatch is the simulated CloudWatch service. Its exported methods with
// SDK signatures are the service's operations; it also implements
// sim.AlarmSource.
type CloudWatch struct {
	clk       *clock.Sim
	events    EventSink
	account   string
	collector Collector
	// actions is read and set under opMu.
	actions ActionRunner

	// opMu serialises every change that may emit events, together with
	// the emission, so that events keep the order of the changes.
	opMu sync.Mutex
	// mu guards the state below; it is never held while calling out.
	mu      sync.Mutex
	regions map[string]*regionState
	// dashboards are the account's, by name: CloudWatch dashboards are
	// global, not regional. Made on first PutDashboard.
	dashboards map[string]*dashboard
	ticker     *clock.Timer
}

// regionState is one region's metrics, alarms and history.
type regionState struct {
	metrics map[string]*series
	alarms  map[string]*alarm
	history []historyItem
}

// New returns a CloudWatch driven by opts.Clock.
func New(opts Options) *CloudWatch {
	if opts.Clock == nil {
		panic("monitoring.New: Options.Clock is required")
	}
	acct := opts.Account
	if acct == "" {
		acct = "123456789012"
	}
	cw := &CloudWatch{
		clk:       opts.Clock,
		events:    opts.Events,
		account:   acct,
		collector: opts.Collector,
		actions:   opts.Actions,
		regions:   map[string]*regionState{},
	}
	cw.mu.Lock()
	cw.rescheduleLocked()
	cw.mu.Unlock()
	return cw
}

// region returns a region's state, creating it on first use; mu is held.
func (cw *CloudWatch) region(name string) *regionState {
	r, ok := cw.regions[name]
	if !ok {
		r = &regionState{metrics: map[string]*series{}, alarms: map[string]*alarm{}}
		cw.regions[name] = r
	}
	return r
}

// sortedRegions lists the regions with state; mu is held.
func (cw *CloudWatch) sortedRegions() []string {
	out := make([]string, 0, len(cw.regions))
	for n := range cw.regions {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// AlarmState implements sim.AlarmSource: it returns the alarm's state value
// (OK, ALARM or INSUFFICIENT_DATA) and whether the alarm exists. It takes
// only CloudWatch's state lock, so the World may call it under its own lock.
func (cw *CloudWatch) AlarmState(region, name string) (string, bool) {
	cw.mu.Lock()
	defer cw.mu.Unlock()
	r, ok := cw.regions[region]
	if !ok {
		return "", false
	}
	a, ok := r.alarms[name]
	if !ok {
		return "", false
	}
	return string(a.state.value), true
}

// pendingEvent is an event decided under mu and sent after it is
// released, with the alarm actions the state change runs.
type pendingEvent struct {
	region    string
	resources []string
	detail    any
	actions   []AlarmNotice
}

// send emits events in order, each followed by its alarm actions; opMu is
// held and mu is not.
func (cw *CloudWatch) send(evs []pendingEvent) {
	for _, ev := range evs {
		if cw.events != nil {
			cw.events.Emit(ev.region, "aws.cloudwatch", "CloudWatch Alarm State Change", ev.resources, ev.detail)
		}
		cw.runActions(ev.actions)
	}
}

// tickStep returns the spacing of evaluation instants: one minute, or the
// shortest high-resolution alarm period dividing it; mu is held.
func (cw *CloudWatch) tickStep() (time.Duration, bool) {
	step := time.Minute
	any := cw.collector != nil
	for _, r := range cw.regions {
		for _, a := range r.alarms {
			any = true
			if p := a.period(); p < step && time.Minute%p == 0 {
				step = p
			}
		}
	}
	return step, any
}

// rescheduleLocked (re)arms the evaluation ticker at the next boundary, or
// stops it when there is nothing to evaluate or collect; mu is held.
func (cw *CloudWatch) rescheduleLocked() {
	step, needed := cw.tickStep()
	if cw.ticker != nil {
		cw.ticker.Stop()
		cw.ticker = nil
	}
	if !needed {
		return
	}
	next := floorTo(cw.clk.Now(), step).Add(step)
	cw.ticker = cw.clk.At(next, "cloudwatch tick", func() { cw.tick(next) })
}

// tick collects built-in metrics at whole minutes, evaluates every alarm
// whose period ends at now and arms the next tick.
func (cw *CloudWatch) tick(now time.Time) {
	cw.opMu.Lock()
	defer cw.opMu.Unlock()
	var samples []Sample
	if cw.collector != nil && floorTo(now, time.Minute).Equal(now) {
		samples = cw.collector.Collect(context.Background(), now)
	}
	cw.mu.Lock()
	for _, s := range samples {
		cw.storeSample(s)
	}
	var evs []pendingEvent
	for _, rn := range cw.sortedRegions() {
		r := cw.regions[rn]
		if floorTo(now, time.Hour).Equal(now) {
			r.prune(now)
		}
		for _, name := range sortedAlarmNames(r) {
			a := r.alarms[name]
			if floorTo(now, a.period()).Equal(now) {
				if ev, ok := cw.evaluateLocked(rn, r, a, now, now); ok {
					evs = append(evs, ev)
				}
			}
		}
	}
	cw.rescheduleLocked()
	cw.mu.Unlock()
	cw.send(evs)
}

// The errors below carry CloudWatch's query-compatible codes, which SDK
// clients report through ErrorCode whichever protocol they speak.

func missingParameter(name string) *api.Error {
	return api.Errorf(http.StatusBadRequest, "MissingParameter", "The parameter %s is required.", name)
}

func invalidValue(format string, args ...any) *api.Error {
	return api.Errorf(http.StatusBadRequest, "InvalidParameterValue", format, args...)
}

func invalidCombination(format string, args ...any) *api.Error {
	return api.Errorf(http.StatusBadRequest, "InvalidParameterCombination", format, args...)
}

func limitExceeded(format string, args ...any) *api.Error {
	return api.Errorf(http.StatusBadRequest, "LimitExceeded", format, args...)
}

func alarmNotFound(name string) *api.Error {
	return api.Errorf(http.StatusNotFound, "ResourceNotFound", "Could not find alarm %s.", name)
}

func invalidToken(tok string) *api.Error {
	return api.Errorf(http.StatusBadRequest, "InvalidNextToken", "The NextToken %q is not valid.", tok)
}

// alarmARN is the ARN CloudWatch gives a metric alarm.
func (cw *CloudWatch) alarmARN(region, name string) string {
	return fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", region, cw.account, name)
}
