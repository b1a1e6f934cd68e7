package monitoring

import (
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/google/uuid"
)

// extraPeriods is how many periods beyond EvaluationPeriods an evaluation
// looks back for real datapoints. CloudWatch's "evaluation range" is longer
// than EvaluationPeriods by an amount it does not publish; the user guide's
// worked example shows five periods for three evaluation periods.
const extraPeriods = 2

// point is one aggregated datapoint of an evaluation: the period's start,
// its statistic value and sample count.
type point struct {
	start       time.Time
	value       float64
	sampleCount float64
	breaching   bool
}

// verdict is the outcome of one evaluation.
type verdict struct {
	// keep means the alarm keeps its state (TreatMissingData ignore).
	keep   bool
	state  types.StateValue
	reason string
	data   string
}

// breaches reports whether v crosses the alarm's threshold.
func (a *alarm) breaches(v float64) bool {
	switch a.operator {
	case types.ComparisonOperatorGreaterThanOrEqualToThreshold:
		return v >= a.threshold
	case types.ComparisonOperatorGreaterThanThreshold:
		return v > a.threshold
	case types.ComparisonOperatorLessThanThreshold:
		return v < a.threshold
	case types.ComparisonOperatorLessThanOrEqualToThreshold:
		return v <= a.threshold
	}
	return false
}

// operatorWords phrases the operator as CloudWatch's reasons do.
func (a *alarm) operatorWords() string {
	switch a.operator {
	case types.ComparisonOperatorGreaterThanOrEqualToThreshold:
		return "greater than or equal to"
	case types.ComparisonOperatorGreaterThanThreshold:
		return "greater than"
	case types.ComparisonOperatorLessThanThreshold:
		return "less than"
	}
	return "less than or equal to"
}

// statName is the statistic as reason data names it.
func (a *alarm) statName() string {
	if a.extendedStatistic != "" {
		return a.extendedStatistic
	}
	return string(a.statistic)
}

// points returns the real datapoints of the evaluation range ending at
// end, newest first; mu is held.
func (a *alarm) points(r *regionState, end time.Time) []point {
	ser, ok := r.metrics[metricKey(a.namespace, a.metricName, a.dims)]
	if !ok {
		return nil
	}
	p := a.period()
	slots := int(a.evaluationPeriods) + extraPeriods
	start := end.Add(-time.Duration(slots) * p)
	bs := ser.buckets(start, end, p, string(a.unit))
	var out []point
	for k := 1; k <= slots; k++ {
		ps := end.Add(-time.Duration(k) * p)
		b, ok := bs[ps.Unix()]
		if !ok {
			continue
		}
		v, ok := b.value(a.stat)
		if !ok {
			continue
		}
		out = append(out, point{start: ps, value: v, sampleCount: b.count, breaching: a.breaches(v)})
	}
	return out
}

// judge applies CloudWatch's documented evaluation rules to the real
// datapoints (newest first) of an evaluation range:
//
//   - At least EvaluationPeriods (N) real datapoints: the most recent N are
//     judged; ALARM if DatapointsToAlarm (M) of them breach, else OK.
//     TreatMissingData plays no part.
//   - None: missing gives INSUFFICIENT_DATA, ignore keeps the state,
//     breaching gives ALARM, notBreaching gives OK.
//   - Some but fewer than N: the N-k missing ones are filled. breaching
//     counts them as breaching and notBreaching as not breaching; missing
//     judges the real ones alone (ALARM when at least min(M, k) breach);
//     ignore gives ALARM when M real ones breach, OK when even breaching
//     fills could not reach M, and otherwise keeps the state. These rules
//     reproduce every row of the user guide's table for three of three.
func (a *alarm) judge(pts []point, prev types.StateValue, end, now time.Time) verdict {
	n, m := int(a.evaluationPeriods), int(a.datapointsToAlarm)
	if len(pts) >= n {
		pts = pts[:n]
	}
	real := len(pts)
	breaching := 0
	for _, p := range pts {
		if p.breaching {
			breaching++
		}
	}
	fills := n - real
	var state types.StateValue
	switch real {
	case n:
		state = pick(breaching >= m)
	case 0:
		switch a.treatMissingData {
		case missingIgnore:
			return verdict{keep: true}
		case missingBreaching:
			state = types.StateValueAlarm
		case missingNotBreaching:
			state = types.StateValueOk
		default:
			return verdict{state: types.StateValueInsufficientData,
				reason: fmt.Sprintf("Insufficient Data: %s unknown.", plural(n, "datapoint was", "datapoints were")),
				data:   a.reasonData(nil, end, now)}
		}
		return verdict{state: state,
			reason: fmt.Sprintf("Threshold Crossed: no datapoints were received for %s and %s treated as [%s].",
				plural(n, "period", "periods"), plural(n, "missing datapoint was", "missing datapoints were"), treatedAs(a.treatMissingData)),
			data: a.reasonData(nil, end, now)}
	default:
		switch a.treatMissingData {
		case missingBreaching:
			state = pick(breaching+fills >= m)
		case missingNotBreaching:
			state = pick(breaching >= m)
		case missingIgnore:
			switch {
			case breaching >= m:
				state = types.StateValueAlarm
			case breaching+fills < m:
				state = types.StateValueOk
			default:
				return verdict{keep: true}
			}
		default:
			state = pick(breaching >= min(m, real))
		}
	}
	return verdict{state: state, reason: a.crossedReason(pts, state, prev, fills), data: a.reasonData(pts, end, now)}
}

// pick maps "breaching enough" to ALARM and otherwise OK.
func pick(alarmed bool) types.StateValue {
	if alarmed {
		return types.StateValueAlarm
	}
	return types.StateValueOk
}

// treatedAs is how a reason names the missing-data treatment.
func treatedAs(t string) string {
	if t == missingBreaching {
		return "Breaching"
	}
	return "NonBreaching"
}

// plural formats n with the singular or plural phrase.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// crossedReason writes the "Threshold Crossed" reason CloudWatch gives for
// a transition decided from datapoints.
func (a *alarm) crossedReason(pts []point, state, prev types.StateValue, fills int) string {
	want := state == types.StateValueAlarm
	var shown []string
	for _, p := range pts {
		if p.breaching == want {
			shown = append(shown, fmt.Sprintf("%s (%s)", javaDouble(p.value), p.start.UTC().Format("02/01/06 15:04:05")))
		}
	}
	not := ""
	minimum := int(a.datapointsToAlarm)
	if !want {
		not = "not "
		minimum = int(a.evaluationPeriods) - int(a.datapointsToAlarm) + 1
	}
	verb := "were"
	if len(shown) == 1 {
		verb = "was"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Threshold Crossed: %d out of the last %d datapoints [%s] %s %s%s the threshold (%s)",
		len(shown), len(pts), strings.Join(shown, ", "), verb, not, a.operatorWords(), javaDouble(a.threshold))
	if fills > 0 && (a.treatMissingData == missingBreaching || a.treatMissingData == missingNotBreaching) {
		fmt.Fprintf(&b, " and %s treated as [%s]", plural(fills, "missing datapoint was", "missing datapoints were"), treatedAs(a.treatMissingData))
	}
	fmt.Fprintf(&b, " (minimum %s for %s -> %s transition).", plural(minimum, "datapoint", "datapoints"), prev, state)
	return b.String()
}

// javaDouble formats v as CloudWatch (a Java service) prints doubles:
// "5.0", "0.25", "1.0E7".
func javaDouble(v float64) string {
	abs := v
	if abs < 0 {
		abs = -abs
	}
	if abs != 0 && (abs < 1e-3 || abs >= 1e7) {
		s := strconv.FormatFloat(v, 'E', -1, 64)
		mant, exp, _ := strings.Cut(s, "E")
		if !strings.Contains(mant, ".") {
			mant += ".0"
		}
		e, _ := strconv.Atoi(exp)
		return mant + "E" + strconv.Itoa(e)
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// cwTime is the timestamp layout of CloudWatch's reason data and events.
const cwTime = "2006-01-02T15:04:05.000-0700"

// reasonData renders the StateReasonData JSON of an evaluation.
func (a *alarm) reasonData(pts []point, end, now time.Time) string {
	type evaluated struct {
		Timestamp   string  `json:"timestamp"`
		SampleCount float64 `json:"sampleCount"`
		Value       float64 `json:"value"`
	}
	start := end.Add(-time.Duration(a.evaluationPeriods) * a.period())
	if len(pts) > 0 {
		start = pts[len(pts)-1].start
	}
	recent := make([]float64, 0, len(pts))
	evals := make([]evaluated, 0, len(pts))
	for i := len(pts) - 1; i >= 0; i-- {
		recent = append(recent, pts[i].value)
	}
	for _, p := range pts {
		evals = append(evals, evaluated{Timestamp: p.start.UTC().Format(cwTime), SampleCount: p.sampleCount, Value: p.value})
	}
	data := struct {
		Version             string      `json:"version"`
		QueryDate           string      `json:"queryDate"`
		StartDate           string      `json:"startDate"`
		Unit                string      `json:"unit,omitempty"`
		Statistic           string      `json:"statistic"`
		Period              int32       `json:"period"`
		RecentDatapoints    []float64   `json:"recentDatapoints"`
		Threshold           float64     `json:"threshold"`
		EvaluatedDatapoints []evaluated `json:"evaluatedDatapoints,omitempty"`
	}{"1.0", now.UTC().Format(cwTime), start.UTC().Format(cwTime), string(a.unit), a.statName(), a.periodSeconds, recent, a.threshold, evals}
	raw, _ := json.Marshal(data)
	return string(raw)
}

// evaluateLocked evaluates a over the range ending at end and applies the
// verdict; it returns the state-change event to send, if any. mu is held.
func (cw *CloudWatch) evaluateLocked(region string, r *regionState, a *alarm, end, now time.Time) (pendingEvent, bool) {
	v := a.judge(a.points(r, end), a.state.value, end, now)
	if v.keep || v.state == a.state.value {
		return pendingEvent{}, false
	}
	return cw.transitionLocked(region, r, a, alarmState{value: v.state, reason: v.reason, reasonData: v.data, at: now})
}

// transitionLocked moves a to next, records the history item and builds the
// state-change event with the notifications the new state's actions send.
// A "change" to the same value only refreshes the reason, without history,
// event or actions. mu is held.
func (cw *CloudWatch) transitionLocked(region string, r *regionState, a *alarm, next alarmState) (pendingEvent, bool) {
	prev := a.state
	a.state = next
	if prev.value == next.value {
		return pendingEvent{}, false
	}
	a.stateTransitioned = next.at
	r.addHistory(historyItem{
		alarmName: a.name,
		itemType:  types.HistoryItemTypeStateUpdate,
		at:        next.at,
		summary:   fmt.Sprintf("Alarm updated from %s to %s", prev.value, next.value),
		data:      stateHistoryData(prev, next),
	})
	return pendingEvent{region: region, resources: []string{a.arn}, detail: a.eventDetail(prev, next),
		actions: cw.notices(region, a, prev, next)}, true
}

// stateJSON is one state in history data.
type stateJSON struct {
	StateValue      types.StateValue `json:"stateValue"`
	StateReason     string           `json:"stateReason"`
	StateReasonData json.RawMessage  `json:"stateReasonData,omitempty"`
}

// stateHistoryData renders a StateUpdate item's HistoryData.
func stateHistoryData(prev, next alarmState) string {
	conv := func(s alarmState) stateJSON {
		out := stateJSON{StateValue: s.value, StateReason: s.reason}
		if s.reasonData != "" {
			out.StateReasonData = json.RawMessage(s.reasonData)
		}
		return out
	}
	raw, _ := json.Marshal(struct {
		Version  string    `json:"version"`
		OldState stateJSON `json:"oldState"`
		NewState stateJSON `json:"newState"`
	}{"1.0", conv(prev), conv(next)})
	return string(raw)
}

// AlarmStateChange is the detail of a "CloudWatch Alarm State Change"
// event for a metric alarm, in the shape the CloudWatch user guide
// documents ("Alarm events and EventBridge").
type AlarmStateChange struct {
	AlarmName     string             `json:"alarmName"`
	State         EventState         `json:"state"`
	PreviousState EventState         `json:"previousState"`
	Configuration EventConfiguration `json:"configuration"`
}

// EventState is a state in an alarm event: value, reason, reasonData (a
// JSON document in a string) and timestamp.
type EventState struct {
	Value      string `json:"value"`
	Reason     string `json:"reason"`
	ReasonData string `json:"reasonData,omitempty"`
	Timestamp  string `json:"timestamp"`
}

// EventConfiguration is the alarm configuration carried by an event.
type EventConfiguration struct {
	Description string        `json:"description,omitempty"`
	Metrics     []EventMetric `json:"metrics"`
}

// EventMetric is one metric of an alarm's configuration in an event.
type EventMetric struct {
	ID         string          `json:"id"`
	MetricStat EventMetricStat `json:"metricStat"`
	ReturnData bool            `json:"returnData"`
}

// EventMetricStat names the metric, period and statistic of an alarm.
type EventMetricStat struct {
	Metric EventMetricName `json:"metric"`
	Period int32           `json:"period"`
	Stat   string          `json:"stat"`
	Unit   string          `json:"unit,omitempty"`
}

// EventMetricName is a metric's namespace, name and dimensions (an object
// of name to value) in an event.
type EventMetricName struct {
	Dimensions map[string]string `json:"dimensions"`
	Name       string            `json:"name"`
	Namespace  string            `json:"namespace"`
}

// eventDetail builds the event detail of a transition from prev to next.
func (a *alarm) eventDetail(prev, next alarmState) AlarmStateChange {
	conv := func(s alarmState) EventState {
		return EventState{Value: string(s.value), Reason: s.reason, ReasonData: s.reasonData, Timestamp: s.at.UTC().Format(cwTime)}
	}
	dims := map[string]string{}
	for _, d := range a.dims {
		dims[d.name] = d.value
	}
	// CloudWatch gives the single metric of a classic alarm a generated
	// UUID; deriving it from the ARN keeps events identical across runs.
	id := uuid.NewHash(sha1.New(), uuid.NameSpaceURL, []byte(a.arn), 5).String()
	return AlarmStateChange{
		AlarmName:     a.name,
		State:         conv(next),
		PreviousState: conv(prev),
		Configuration: EventConfiguration{
			Description: a.description,
			Metrics: []EventMetric{{
				ID: id,
				MetricStat: EventMetricStat{
					Metric: EventMetricName{Dimensions: dims, Name: a.metricName, Namespace: a.namespace},
					Period: a.periodSeconds,
					Stat:   a.statName(),
					Unit:   string(a.unit),
				},
				ReturnData: true,
			}},
		},
	}
}
