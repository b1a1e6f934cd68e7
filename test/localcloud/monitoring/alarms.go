package monitoring

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

// Limits CloudWatch documents for alarms.
const (
	maxAlarmNames         = 100
	maxActionsPerState    = 5
	maxTags               = 50
	maxReasonLength       = 1023
	maxReasonDataLength   = 4000
	maxDescriptionLength  = 1024
	defaultDescribeAlarms = 50
	maxDescribeRecords    = 100
)

// Missing-data treatments.
const (
	missingMissing      = "missing"
	missingIgnore       = "ignore"
	missingBreaching    = "breaching"
	missingNotBreaching = "notBreaching"
)

// alarm is one metric alarm.
type alarm struct {
	name, arn   string
	description string

	actionsEnabled                               bool
	okActions, alarmActions, insufficientActions []string

	namespace, metricName string
	dims                  []dim
	statistic             types.Statistic
	extendedStatistic     string
	stat                  stat
	periodSeconds         int32
	unit                  types.StandardUnit
	evaluationPeriods     int32
	datapointsToAlarm     int32
	threshold             float64
	operator              types.ComparisonOperator
	treatMissingData      string
	lowSampleCount        string
	tags                  []types.Tag

	configUpdated     time.Time
	state             alarmState
	stateTransitioned time.Time
	// generation changes on every PutMetricAlarm, so that an evaluation
	// scheduled for an older configuration is dropped.
	generation int
	// datapointsGiven records whether PutMetricAlarm set DatapointsToAlarm:
	// CloudWatch's notifications name it only then.
	datapointsGiven bool
}

// alarmState is an alarm's state value with its reason and time.
type alarmState struct {
	value      types.StateValue
	reason     string
	reasonData string
	at         time.Time
}

// period returns the alarm's period.
func (a *alarm) period() time.Duration { return time.Duration(a.periodSeconds) * time.Second }

// sortedAlarmNames lists a region's alarm names in order.
func sortedAlarmNames(r *regionState) []string {
	out := make([]string, 0, len(r.alarms))
	for n := range r.alarms {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// describe renders the alarm as DescribeAlarms returns it.
func (a *alarm) describe() types.MetricAlarm {
	m := types.MetricAlarm{
		AlarmName:                          aws.String(a.name),
		AlarmArn:                           aws.String(a.arn),
		ActionsEnabled:                     aws.Bool(a.actionsEnabled),
		OKActions:                          append([]string{}, a.okActions...),
		AlarmActions:                       append([]string{}, a.alarmActions...),
		InsufficientDataActions:            append([]string{}, a.insufficientActions...),
		AlarmConfigurationUpdatedTimestamp: aws.Time(a.configUpdated),
		Namespace:                          aws.String(a.namespace),
		MetricName:                         aws.String(a.metricName),
		Dimensions:                         sdkDims(a.dims),
		Period:                             aws.Int32(a.periodSeconds),
		Unit:                               a.unit,
		EvaluationPeriods:                  aws.Int32(a.evaluationPeriods),
		DatapointsToAlarm:                  aws.Int32(a.datapointsToAlarm),
		Threshold:                          aws.Float64(a.threshold),
		ComparisonOperator:                 a.operator,
		TreatMissingData:                   aws.String(a.treatMissingData),
		StateValue:                         a.state.value,
		StateReason:                        aws.String(a.state.reason),
		StateUpdatedTimestamp:              aws.Time(a.state.at),
		StateTransitionedTimestamp:         aws.Time(a.stateTransitioned),
	}
	if a.description != "" {
		m.AlarmDescription = aws.String(a.description)
	}
	if a.state.reasonData != "" {
		m.StateReasonData = aws.String(a.state.reasonData)
	}
	if a.extendedStatistic != "" {
		m.ExtendedStatistic = aws.String(a.extendedStatistic)
	} else {
		m.Statistic = a.statistic
	}
	if a.lowSampleCount != "" {
		m.EvaluateLowSampleCountPercentile = aws.String(a.lowSampleCount)
	}
	return m
}

// comparisonOperators are the static-threshold operators; the band
// operators need an anomaly detection model.
var comparisonOperators = map[types.ComparisonOperator]bool{
	types.ComparisonOperatorGreaterThanOrEqualToThreshold: true,
	types.ComparisonOperatorGreaterThanThreshold:          true,
	types.ComparisonOperatorLessThanThreshold:             true,
	types.ComparisonOperatorLessThanOrEqualToThreshold:    true,
}

// PutMetricAlarm creates or replaces a metric alarm on one metric. A new
// alarm starts in INSUFFICIENT_DATA ("Unchecked: Initial alarm creation")
// and is evaluated at once; an update keeps the alarm's state, replaces its
// whole configuration and, as CloudWatch documents, ignores Tags. Metric
// math (Metrics), anomaly detection (ThresholdMetricId and band operators)
// are refused with InvalidParameterValue because the local cloud does not
// model them.
func (cw *CloudWatch) PutMetricAlarm(ctx context.Context, in *cloudwatch.PutMetricAlarmInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricAlarmOutput, error) {
	// Not api.Begin: takes two mutexes (opMu, then mu), and validates before either.
	if in == nil {
		in = &cloudwatch.PutMetricAlarmInput{}
	}
	cfg, err := checkAlarm(in)
	if err != nil {
		return nil, err
	}
	region := api.Region(ctx)
	cw.opMu.Lock()
	defer cw.opMu.Unlock()
	cw.mu.Lock()
	defer cw.mu.Unlock()
	r := cw.region(region)
	now := cw.clk.Now()
	cfg.arn = cw.alarmARN(region, cfg.name)
	cfg.configUpdated = now
	summary := fmt.Sprintf("Alarm %q updated", cfg.name)
	kind := "Update"
	if old, ok := r.alarms[cfg.name]; ok {
		cfg.state, cfg.stateTransitioned, cfg.tags = old.state, old.stateTransitioned, old.tags
		cfg.generation = old.generation + 1
	} else {
		summary, kind = fmt.Sprintf("Alarm %q created", cfg.name), "Create"
		cfg.state = alarmState{value: types.StateValueInsufficientData, reason: "Unchecked: Initial alarm creation", at: now}
		cfg.stateTransitioned = now
	}
	r.alarms[cfg.name] = cfg
	data, _ := json.Marshal(map[string]any{"version": "1.0", "type": kind, "alarmName": cfg.name, "alarmArn": cfg.arn})
	r.addHistory(historyItem{alarmName: cfg.name, itemType: types.HistoryItemTypeConfigurationUpdate, at: now, summary: summary, data: string(data)})
	gen := cfg.generation
	cw.clk.At(now, "cloudwatch evaluate new alarm "+cfg.name, func() { cw.evaluateNow(region, cfg.name, gen) })
	cw.rescheduleLocked()
	return &cloudwatch.PutMetricAlarmOutput{}, nil
}

// evaluateNow evaluates one alarm over the periods that ended at the last
// boundary, unless it has been deleted or reconfigured since.
func (cw *CloudWatch) evaluateNow(region, name string, gen int) {
	cw.opMu.Lock()
	defer cw.opMu.Unlock()
	cw.mu.Lock()
	r := cw.region(region)
	a, ok := r.alarms[name]
	var evs []pendingEvent
	if ok && a.generation == gen {
		now := cw.clk.Now()
		if ev, changed := cw.evaluateLocked(region, r, a, floorTo(now, a.period()), now); changed {
			evs = append(evs, ev)
		}
	}
	cw.mu.Unlock()
	cw.send(evs)
}

// checkAlarm validates PutMetricAlarm's input and returns the alarm it
// describes (without ARN, state or times).
func checkAlarm(in *cloudwatch.PutMetricAlarmInput) (*alarm, error) {
	name := aws.ToString(in.AlarmName)
	if in.AlarmName == nil {
		return nil, missingParameter("AlarmName")
	}
	if len(name) < 1 || len(name) > 255 {
		return nil, invalidValue("The parameter AlarmName must be between 1 and 255 characters long.")
	}
	if in.EvaluationPeriods == nil {
		return nil, missingParameter("EvaluationPeriods")
	}
	if *in.EvaluationPeriods < 1 {
		return nil, invalidValue("The parameter EvaluationPeriods must be greater than or equal to 1.")
	}
	if in.ComparisonOperator == "" {
		return nil, missingParameter("ComparisonOperator")
	}
	if !comparisonOperators[in.ComparisonOperator] {
		for _, v := range in.ComparisonOperator.Values() {
			if v == in.ComparisonOperator {
				return nil, invalidValue("The comparison operator %s is only valid for alarms based on anomaly detection models, which the local cloud does not model.", v)
			}
		}
		return nil, invalidValue("The value %s for parameter ComparisonOperator is invalid.", in.ComparisonOperator)
	}
	if len(in.Metrics) > 0 {
		if in.MetricName != nil || in.Namespace != nil {
			return nil, invalidCombination("The parameters Metrics and MetricName are mutually exclusive and you have specified both.")
		}
		return nil, invalidValue("The parameter Metrics is not supported by the local cloud: alarms on metric math expressions are not modelled; use MetricName, Namespace and Dimensions.")
	}
	if in.ThresholdMetricId != nil {
		return nil, invalidValue("The parameter ThresholdMetricId is not supported by the local cloud: anomaly detection alarms are not modelled.")
	}
	if in.MetricName == nil {
		return nil, missingParameter("MetricName")
	}
	if in.Namespace == nil {
		return nil, missingParameter("Namespace")
	}
	if n := len(*in.MetricName); n < 1 || n > 255 {
		return nil, invalidValue("The parameter MetricName must be between 1 and 255 characters long.")
	}
	if n := len(*in.Namespace); n < 1 || n > 255 {
		return nil, invalidValue("The parameter Namespace must be between 1 and 255 characters long.")
	}
	if err := checkDims(in.Dimensions, "Dimensions"); err != nil {
		return nil, err
	}
	if in.Period == nil {
		return nil, missingParameter("Period")
	}
	p := *in.Period
	if !validAlarmPeriod(p) {
		return nil, invalidValue("The parameter Period must be 10, 20, 30 or a multiple of 60.")
	}
	total := int64(p) * int64(*in.EvaluationPeriods)
	if total > 7*86400 || (p < 3600 && total > 86400) {
		return nil, invalidValue("The evaluation period (Period multiplied by EvaluationPeriods) must not exceed one day for periods under an hour, or seven days otherwise.")
	}
	dta := *in.EvaluationPeriods
	given := in.DatapointsToAlarm != nil
	if given {
		dta = *in.DatapointsToAlarm
		if dta < 1 || dta > *in.EvaluationPeriods {
			return nil, invalidValue("DatapointsToAlarm must be between 1 and EvaluationPeriods (%d).", *in.EvaluationPeriods)
		}
	}
	a := &alarm{
		name:              name,
		description:       aws.ToString(in.AlarmDescription),
		actionsEnabled:    in.ActionsEnabled == nil || *in.ActionsEnabled,
		namespace:         *in.Namespace,
		metricName:        *in.MetricName,
		dims:              dimsFrom(in.Dimensions),
		periodSeconds:     p,
		unit:              in.Unit,
		evaluationPeriods: *in.EvaluationPeriods,
		datapointsToAlarm: dta,
		datapointsGiven:   given,
		operator:          in.ComparisonOperator,
		treatMissingData:  missingMissing,
	}
	if len(a.description) > maxDescriptionLength {
		return nil, invalidValue("The parameter AlarmDescription must not be longer than %d characters.", maxDescriptionLength)
	}
	switch {
	case in.Statistic != "" && in.ExtendedStatistic != nil:
		return nil, invalidCombination("The parameters Statistic and ExtendedStatistic are mutually exclusive and you have specified both.")
	case in.Statistic != "":
		st, ok := parseStat(string(in.Statistic))
		if !ok || st.isPct {
			return nil, invalidValue("The value %s for parameter Statistic is invalid.", in.Statistic)
		}
		a.statistic, a.stat = in.Statistic, st
	case in.ExtendedStatistic != nil:
		st, ok := parseStat(*in.ExtendedStatistic)
		if !ok || !st.isPct {
			return nil, invalidValue("The value %s for parameter ExtendedStatistic is invalid; the local cloud models percentiles (p0.0 to p100).", *in.ExtendedStatistic)
		}
		a.extendedStatistic, a.stat = *in.ExtendedStatistic, st
	default:
		return nil, missingParameter("Statistic or ExtendedStatistic")
	}
	if in.Threshold == nil {
		return nil, missingParameter("Threshold")
	}
	if err := checkValue(*in.Threshold, "Threshold"); err != nil {
		return nil, err
	}
	a.threshold = *in.Threshold
	if err := checkUnit(in.Unit, "Unit"); err != nil {
		return nil, err
	}
	if t := in.TreatMissingData; t != nil {
		switch *t {
		case missingMissing, missingIgnore, missingBreaching, missingNotBreaching:
			a.treatMissingData = *t
		default:
			return nil, invalidValue("The value %s for parameter TreatMissingData is invalid. Valid values are breaching, notBreaching, ignore and missing.", *t)
		}
	}
	if l := in.EvaluateLowSampleCountPercentile; l != nil {
		if *l != "evaluate" && *l != "ignore" {
			return nil, invalidValue("The value %s for parameter EvaluateLowSampleCountPercentile is invalid. Valid values are evaluate and ignore.", *l)
		}
		if a.extendedStatistic == "" {
			return nil, invalidCombination("The parameter EvaluateLowSampleCountPercentile is valid only for percentile statistics.")
		}
		a.lowSampleCount = *l
	}
	for _, list := range []struct {
		field string
		arns  []string
		dst   *[]string
	}{{"OKActions", in.OKActions, &a.okActions}, {"AlarmActions", in.AlarmActions, &a.alarmActions}, {"InsufficientDataActions", in.InsufficientDataActions, &a.insufficientActions}} {
		if len(list.arns) > maxActionsPerState {
			return nil, invalidValue("The collection %s must not have a size greater than %d.", list.field, maxActionsPerState)
		}
		for _, arn := range list.arns {
			if !strings.HasPrefix(arn, "arn:") || strings.Count(arn, ":") < 5 {
				return nil, invalidValue("Invalid arn syntax: %s", arn)
			}
		}
		*list.dst = append([]string{}, list.arns...)
	}
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	a.tags = tags
	return a, nil
}

// validAlarmPeriod reports whether p (seconds) is an alarm period
// CloudWatch accepts: 10, 20, 30 or a multiple of 60.
func validAlarmPeriod(p int32) bool {
	switch p {
	case 10, 20, 30:
		return true
	}
	return p > 0 && p%60 == 0
}

// checkTags applies the tag rules: at most 50, keys of 1 to 128 characters
// not beginning with "aws:", values of at most 256 characters.
func checkTags(tags []types.Tag) ([]types.Tag, error) {
	if len(tags) > maxTags {
		return nil, invalidValue("The collection Tags must not have a size greater than %d.", maxTags)
	}
	out := make([]types.Tag, 0, len(tags))
	for i, t := range tags {
		k, v := aws.ToString(t.Key), aws.ToString(t.Value)
		if t.Key == nil {
			return nil, missingParameter(fmt.Sprintf("Tags.member.%d.Key", i+1))
		}
		if len(k) < 1 || len(k) > 128 {
			return nil, invalidValue("The parameter Tags.member.%d.Key must be between 1 and 128 characters long.", i+1)
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return nil, invalidValue("Tag keys beginning with aws: are reserved: %s", k)
		}
		if len(v) > 256 {
			return nil, invalidValue("The parameter Tags.member.%d.Value must not be longer than 256 characters.", i+1)
		}
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return out, nil
}

// DescribeAlarms lists metric alarms by AlarmNames or AlarmNamePrefix (not
// both), StateValue and ActionPrefix, sorted by name, MaxRecords (1 to 100,
// default 50) per page. Composite alarms are not modelled, so
// CompositeAlarms is always empty.
func (cw *CloudWatch) DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	in, region, done := api.Begin(ctx, &cw.mu, in)
	defer done()
	if len(in.AlarmNames) > maxAlarmNames {
		return nil, invalidValue("The collection AlarmNames must not have a size greater than %d.", maxAlarmNames)
	}
	if len(in.AlarmNames) > 0 && in.AlarmNamePrefix != nil {
		return nil, invalidCombination("The parameters AlarmNames and AlarmNamePrefix are mutually exclusive and you have specified both.")
	}
	if in.StateValue != "" && !validState(in.StateValue) {
		return nil, invalidValue("The value %s for parameter StateValue is invalid.", in.StateValue)
	}
	limit, offset, err := page(in.MaxRecords, in.NextToken, defaultDescribeAlarms, maxDescribeRecords, "a-")
	if err != nil {
		return nil, err
	}
	wantMetric := len(in.AlarmTypes) == 0
	for _, t := range in.AlarmTypes {
		switch t {
		case types.AlarmTypeMetricAlarm:
			wantMetric = true
		case types.AlarmTypeCompositeAlarm:
		default:
			return nil, invalidValue("The value %s for parameter AlarmTypes is invalid.", t)
		}
	}
	out := &cloudwatch.DescribeAlarmsOutput{MetricAlarms: []types.MetricAlarm{}, CompositeAlarms: []types.CompositeAlarm{}}
	if !wantMetric || in.ChildrenOfAlarmName != nil || in.ParentsOfAlarmName != nil {
		return out, nil
	}
	names := map[string]bool{}
	for _, n := range in.AlarmNames {
		names[n] = true
	}
	r := cw.region(region)
	var matched []*alarm
	for _, n := range sortedAlarmNames(r) {
		a := r.alarms[n]
		if len(names) > 0 && !names[n] {
			continue
		}
		if in.AlarmNamePrefix != nil && !strings.HasPrefix(n, *in.AlarmNamePrefix) {
			continue
		}
		if in.StateValue != "" && a.state.value != in.StateValue {
			continue
		}
		if in.ActionPrefix != nil && !hasActionPrefix(a, *in.ActionPrefix) {
			continue
		}
		matched = append(matched, a)
	}
	if offset > len(matched) {
		return nil, invalidToken(aws.ToString(in.NextToken))
	}
	end := min(offset+limit, len(matched))
	for _, a := range matched[offset:end] {
		out.MetricAlarms = append(out.MetricAlarms, a.describe())
	}
	if end < len(matched) {
		out.NextToken = aws.String("a-" + strconv.Itoa(end))
	}
	return out, nil
}

// hasActionPrefix reports whether any of the alarm's actions starts with p.
func hasActionPrefix(a *alarm, p string) bool {
	for _, list := range [][]string{a.okActions, a.alarmActions, a.insufficientActions} {
		for _, arn := range list {
			if strings.HasPrefix(arn, p) {
				return true
			}
		}
	}
	return false
}

// validState reports whether s is an alarm state value.
func validState(s types.StateValue) bool {
	switch s {
	case types.StateValueOk, types.StateValueAlarm, types.StateValueInsufficientData:
		return true
	}
	return false
}

// page reads MaxRecords (default def, at most max) and an offset token
// with the given prefix.
func page(maxRecords *int32, token *string, def, maxN int, prefix string) (limit, offset int, err error) {
	limit = def
	if maxRecords != nil {
		if *maxRecords < 1 || int(*maxRecords) > maxN {
			return 0, 0, invalidValue("The parameter MaxRecords must be between 1 and %d.", maxN)
		}
		limit = int(*maxRecords)
	}
	if tok := aws.ToString(token); tok != "" {
		n, convErr := strconv.Atoi(strings.TrimPrefix(tok, prefix))
		if convErr != nil || n < 0 || !strings.HasPrefix(tok, prefix) {
			return 0, 0, invalidToken(tok)
		}
		offset = n
	}
	return limit, offset, nil
}

// DeleteAlarms deletes up to 100 alarms. If any named alarm does not exist
// none is deleted and the call fails with ResourceNotFound, as CloudWatch
// documents. The alarms' history is kept.
func (cw *CloudWatch) DeleteAlarms(ctx context.Context, in *cloudwatch.DeleteAlarmsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DeleteAlarmsOutput, error) {
	// Not api.Begin: takes two mutexes (opMu, then mu).
	if in == nil || len(in.AlarmNames) == 0 {
		return nil, missingParameter("AlarmNames")
	}
	if len(in.AlarmNames) > maxAlarmNames {
		return nil, invalidValue("The collection AlarmNames must not have a size greater than %d.", maxAlarmNames)
	}
	cw.opMu.Lock()
	defer cw.opMu.Unlock()
	cw.mu.Lock()
	defer cw.mu.Unlock()
	r := cw.region(api.Region(ctx))
	var missing []string
	for _, n := range in.AlarmNames {
		if _, ok := r.alarms[n]; !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, api.Errorf(http.StatusNotFound, "ResourceNotFound", "%d of the %d alarms requested for deletion do not exist: %s", len(missing), len(in.AlarmNames), strings.Join(missing, ", "))
	}
	now := cw.clk.Now()
	for _, n := range in.AlarmNames {
		if _, ok := r.alarms[n]; !ok {
			continue
		}
		delete(r.alarms, n)
		data, _ := json.Marshal(map[string]any{"version": "1.0", "type": "Delete", "alarmName": n})
		r.addHistory(historyItem{alarmName: n, itemType: types.HistoryItemTypeConfigurationUpdate, at: now, summary: fmt.Sprintf("Alarm %q deleted", n), data: string(data)})
	}
	cw.rescheduleLocked()
	return &cloudwatch.DeleteAlarmsOutput{}, nil
}

// SetAlarmState sets an alarm's state at once, for testing actions: a
// change of state runs the new state's actions as an evaluation would. The
// change is temporary: the next evaluation sets the state the data calls
// for, as CloudWatch documents. StateReason is required (at most 1023
// characters); StateReasonData, if given, must be JSON of at most 4000
// characters (InvalidFormat otherwise).
func (cw *CloudWatch) SetAlarmState(ctx context.Context, in *cloudwatch.SetAlarmStateInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.SetAlarmStateOutput, error) {
	// Not api.Begin: takes two mutexes (opMu, then mu) and releases mu before sending events.
	if in == nil {
		in = &cloudwatch.SetAlarmStateInput{}
	}
	if in.AlarmName == nil {
		return nil, missingParameter("AlarmName")
	}
	if in.StateValue == "" {
		return nil, missingParameter("StateValue")
	}
	if !validState(in.StateValue) {
		return nil, invalidValue("The value %s for parameter StateValue is invalid.", in.StateValue)
	}
	if in.StateReason == nil {
		return nil, missingParameter("StateReason")
	}
	if len(*in.StateReason) > maxReasonLength {
		return nil, invalidValue("The parameter StateReason must not be longer than %d characters.", maxReasonLength)
	}
	data := aws.ToString(in.StateReasonData)
	if len(data) > maxReasonDataLength {
		return nil, invalidValue("The parameter StateReasonData must not be longer than %d characters.", maxReasonDataLength)
	}
	if data != "" && !json.Valid([]byte(data)) {
		return nil, api.Errorf(http.StatusBadRequest, "InvalidFormat", "Unrecognized JSON in StateReasonData: %s", data)
	}
	region := api.Region(ctx)
	cw.opMu.Lock()
	defer cw.opMu.Unlock()
	cw.mu.Lock()
	r := cw.region(region)
	a, ok := r.alarms[*in.AlarmName]
	if !ok {
		cw.mu.Unlock()
		return nil, alarmNotFound(*in.AlarmName)
	}
	ev, changed := cw.transitionLocked(region, r, a, alarmState{value: in.StateValue, reason: *in.StateReason, reasonData: data, at: cw.clk.Now()})
	cw.mu.Unlock()
	if changed {
		cw.send([]pendingEvent{ev})
	}
	return &cloudwatch.SetAlarmStateOutput{}, nil
}

// alarmByARN finds an alarm from its ARN; mu is held.
func (cw *CloudWatch) alarmByARN(arn string) (*alarm, error) {
	parts := strings.SplitN(arn, ":", 7)
	if len(parts) == 7 && parts[0] == "arn" && parts[2] == "cloudwatch" && parts[5] == "alarm" {
		if r, ok := cw.regions[parts[3]]; ok {
			if a, ok := r.alarms[parts[6]]; ok && a.arn == arn {
				return a, nil
			}
		}
	}
	return nil, api.Errorf(http.StatusNotFound, "ResourceNotFoundException", "Resource %s not found.", arn)
}

// TagResource adds or overwrites tags on an alarm, keeping at most 50.
func (cw *CloudWatch) TagResource(ctx context.Context, in *cloudwatch.TagResourceInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.TagResourceOutput, error) {
	in, _, done := api.Begin(ctx, &cw.mu, in)
	defer done()
	if in.ResourceARN == nil {
		return nil, missingParameter("ResourceARN")
	}
	if in.Tags == nil {
		return nil, missingParameter("Tags")
	}
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	a, err := cw.alarmByARN(*in.ResourceARN)
	if err != nil {
		return nil, err
	}
	merged := append([]types.Tag(nil), a.tags...)
	for _, t := range tags {
		replaced := false
		for i := range merged {
			if *merged[i].Key == *t.Key {
				merged[i].Value, replaced = t.Value, true
			}
		}
		if !replaced {
			merged = append(merged, t)
		}
	}
	if len(merged) > maxTags {
		return nil, limitExceeded("The alarm %s would have %d tags; at most %d are allowed.", a.name, len(merged), maxTags)
	}
	a.tags = merged
	return &cloudwatch.TagResourceOutput{}, nil
}

// UntagResource removes tags from an alarm; unknown keys are ignored.
func (cw *CloudWatch) UntagResource(ctx context.Context, in *cloudwatch.UntagResourceInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.UntagResourceOutput, error) {
	in, _, done := api.Begin(ctx, &cw.mu, in)
	defer done()
	if in.ResourceARN == nil {
		return nil, missingParameter("ResourceARN")
	}
	if in.TagKeys == nil {
		return nil, missingParameter("TagKeys")
	}
	a, err := cw.alarmByARN(*in.ResourceARN)
	if err != nil {
		return nil, err
	}
	drop := map[string]bool{}
	for _, k := range in.TagKeys {
		drop[k] = true
	}
	kept := a.tags[:0:0]
	for _, t := range a.tags {
		if !drop[*t.Key] {
			kept = append(kept, t)
		}
	}
	a.tags = kept
	return &cloudwatch.UntagResourceOutput{}, nil
}

// ListTagsForResource returns an alarm's tags.
func (cw *CloudWatch) ListTagsForResource(ctx context.Context, in *cloudwatch.ListTagsForResourceInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.ListTagsForResourceOutput, error) {
	in, _, done := api.Begin(ctx, &cw.mu, in)
	defer done()
	if in.ResourceARN == nil {
		return nil, missingParameter("ResourceARN")
	}
	a, err := cw.alarmByARN(*in.ResourceARN)
	if err != nil {
		return nil, err
	}
	return &cloudwatch.ListTagsForResourceOutput{Tags: append([]types.Tag{}, a.tags...)}, nil
}
