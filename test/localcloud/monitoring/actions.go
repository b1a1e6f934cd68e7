package monitoring

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

// ActionRunner performs the alarm actions the local cloud models: sending
// an alarm's notification to an SNS topic. CloudWatch calls it after a
// state change, in the order of the changes, holding none of its locks.
type ActionRunner interface {
	// PublishAlarm publishes n to n.TopicARN as CloudWatch does, acting as
	// the service principal cloudwatch.amazonaws.com. A non-nil error
	// fails the action; its message (ErrorMessage for an AWS error) is
	// what the alarm history quotes.
	PublishAlarm(ctx context.Context, n AlarmNotice) error
}

// AlarmNotice is one SNS action of a state change: the notification
// CloudWatch publishes, and what it publishes it for.
type AlarmNotice struct {
	// Region and Account are the alarm's.
	Region, Account string
	// AlarmName and AlarmARN name the alarm (aws:SourceArn of the
	// publish).
	AlarmName, AlarmARN string
	// TopicARN is the action.
	TopicARN string
	// Subject is `STATE: "NAME" in REGION NAME`, at most 100 characters.
	Subject string
	// Message is the JSON notification (AlarmNotification).
	Message string
	// At is when the alarm changed state.
	At time.Time
}

// SetActions sets the runner of alarm actions, for a cloud that builds the
// services an action reaches after CloudWatch; nil stops running actions.
func (cw *CloudWatch) SetActions(r ActionRunner) {
	cw.opMu.Lock()
	defer cw.opMu.Unlock()
	cw.actions = r
}

// AlarmNotification is the JSON notification CloudWatch publishes for a
// metric alarm's state change, field for field in CloudWatch's order, as
// AWS's notifications show it (SNS messages received from CloudWatch in
// 2022-2023, and AWS responses LocalStack recorded in 2025-2026).
// Timestamps are "2006-01-02T15:04:05.000+0000"; AlarmDescription is null
// when the alarm has none.
type AlarmNotification struct {
	AlarmName                          string   `json:"AlarmName"`
	AlarmDescription                   *string  `json:"AlarmDescription"`
	AWSAccountID                       string   `json:"AWSAccountId"`
	AlarmConfigurationUpdatedTimestamp string   `json:"AlarmConfigurationUpdatedTimestamp"`
	NewStateValue                      string   `json:"NewStateValue"`
	NewStateReason                     string   `json:"NewStateReason"`
	StateChangeTime                    string   `json:"StateChangeTime"`
	Region                             string   `json:"Region"`
	AlarmARN                           string   `json:"AlarmArn"`
	OldStateValue                      string   `json:"OldStateValue"`
	OKActions                          []string `json:"OKActions"`
	AlarmActions                       []string `json:"AlarmActions"`
	InsufficientDataActions            []string `json:"InsufficientDataActions"`
	// ActionExecutedAfterMuteWindow is false: alarm mute rules are not
	// modelled. AWS added the field in 2025.
	ActionExecutedAfterMuteWindow bool         `json:"ActionExecutedAfterMuteWindow"`
	Trigger                       AlarmTrigger `json:"Trigger"`
}

// AlarmTrigger is the alarm configuration a notification carries.
// Statistic is the statistic in CloudWatch's upper-case form (SUM,
// AVERAGE, SAMPLE_COUNT) when StatisticType is "Statistic";
// ExtendedStatistic the percentile when it is "ExtendedStatistic". Unit is
// null when the alarm has none; DatapointsToAlarm appears only when the
// alarm was given one; EvaluateLowSampleCountPercentile is "" unless set.
type AlarmTrigger struct {
	MetricName                       string             `json:"MetricName"`
	Namespace                        string             `json:"Namespace"`
	StatisticType                    string             `json:"StatisticType"`
	Statistic                        string             `json:"Statistic,omitempty"`
	ExtendedStatistic                string             `json:"ExtendedStatistic,omitempty"`
	Unit                             *string            `json:"Unit"`
	Dimensions                       []TriggerDimension `json:"Dimensions"`
	Period                           int32              `json:"Period"`
	EvaluationPeriods                int32              `json:"EvaluationPeriods"`
	DatapointsToAlarm                *int32             `json:"DatapointsToAlarm,omitempty"`
	ComparisonOperator               string             `json:"ComparisonOperator"`
	Threshold                        json.Number        `json:"Threshold"`
	TreatMissingData                 string             `json:"TreatMissingData"`
	EvaluateLowSampleCountPercentile string             `json:"EvaluateLowSampleCountPercentile"`
}

// TriggerDimension is one dimension in a notification: value before name,
// in lower case, as CloudWatch writes them.
type TriggerDimension struct {
	Value string `json:"value"`
	Name  string `json:"name"`
}

// ParseAlarmNotification reads the notification of an alarm's SNS action
// back from the message published.
func ParseAlarmNotification(message string) (AlarmNotification, error) {
	var n AlarmNotification
	if err := json.Unmarshal([]byte(message), &n); err != nil {
		return AlarmNotification{}, fmt.Errorf("alarm notification: %w", err)
	}
	return n, nil
}

// maxSubjectLength is SNS's limit on a Subject.
const maxSubjectLength = 100

// maxSummaryLength is the limit on an alarm history item's summary.
const maxSummaryLength = 1023

// isTopicARN reports whether an action ARN names an SNS topic.
func isTopicARN(arn string) bool {
	parts := strings.SplitN(arn, ":", 6)
	return len(parts) == 6 && parts[0] == "arn" && parts[2] == "sns" && parts[5] != ""
}

// notices builds the SNS notifications a state change from prev to next
// sends: none unless the alarm's actions are enabled; one per SNS topic
// among the new state's actions. mu is held.
func (cw *CloudWatch) notices(region string, a *alarm, prev, next alarmState) []AlarmNotice {
	if !a.actionsEnabled {
		return nil
	}
	var arns []string
	switch next.value {
	case types.StateValueAlarm:
		arns = a.alarmActions
	case types.StateValueOk:
		arns = a.okActions
	case types.StateValueInsufficientData:
		arns = a.insufficientActions
	}
	var out []AlarmNotice
	var subject, message string
	for _, arn := range arns {
		if !isTopicARN(arn) {
			continue
		}
		if message == "" {
			subject, message = a.notification(region, cw.account, prev, next)
		}
		out = append(out, AlarmNotice{Region: region, Account: cw.account, AlarmName: a.name, AlarmARN: a.arn,
			TopicARN: arn, Subject: subject, Message: message, At: next.at})
	}
	return out
}

// runActions performs notices in order and records each outcome in the
// alarm history; opMu is held and mu is not.
func (cw *CloudWatch) runActions(notices []AlarmNotice) {
	if cw.actions == nil {
		return
	}
	for _, n := range notices {
		ctx := api.WithRequest(context.Background(), api.Request{Region: n.Region, Account: n.Account, Service: "monitoring", Operation: "AlarmAction"})
		err := cw.actions.PublishAlarm(ctx, n)
		item := actionHistory(n, err)
		cw.mu.Lock()
		cw.region(n.Region).addHistory(item)
		cw.mu.Unlock()
	}
}

// actionData is an Action history item's HistoryData, as AWS records it
// for a notification: the state, the state change's time in epoch
// milliseconds, the topic, the message published and the error.
type actionData struct {
	ActionState          string  `json:"actionState"`
	StateUpdateTimestamp int64   `json:"stateUpdateTimestamp"`
	NotificationResource string  `json:"notificationResource"`
	PublishedMessage     *string `json:"publishedMessage"`
	Error                *string `json:"error"`
}

// actionHistory is the history item of one action's outcome: "Successfully
// executed action ARN", or "Failed to execute action ARN. Received error:
// "MESSAGE"", CloudWatch's wording. AWS's data for a failure is not
// documented; it is the success's shape with actionState "Failed", no
// published message and the error.
func actionHistory(n AlarmNotice, err error) historyItem {
	data := actionData{ActionState: "Succeeded", StateUpdateTimestamp: n.At.UnixMilli(), NotificationResource: n.TopicARN}
	summary := "Successfully executed action " + n.TopicARN
	if err != nil {
		msg := err.Error()
		var ae smithy.APIError
		if errors.As(err, &ae) {
			msg = ae.ErrorMessage()
		}
		data.ActionState, data.Error = "Failed", &msg
		summary = fmt.Sprintf("Failed to execute action %s. Received error: \"%s\"", n.TopicARN, msg)
	} else {
		data.PublishedMessage = &n.Message
	}
	if len(summary) > maxSummaryLength {
		summary = summary[:maxSummaryLength]
	}
	raw, _ := json.Marshal(data)
	return historyItem{alarmName: n.AlarmName, itemType: types.HistoryItemTypeAction, at: n.At, summary: summary, data: string(raw)}
}

// regionNames are the Region names CloudWatch's notifications use; they
// keep the older "EU (...)" form. A region missing here is named by its
// code.
var regionNames = map[string]string{
	"us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)",
	"us-west-1": "US West (N. California)", "us-west-2": "US West (Oregon)",
	"ca-central-1": "Canada (Central)", "sa-east-1": "South America (Sao Paulo)",
	"eu-west-1": "EU (Ireland)", "eu-west-2": "EU (London)", "eu-west-3": "EU (Paris)",
	"eu-central-1": "EU (Frankfurt)", "eu-north-1": "EU (Stockholm)", "eu-south-1": "EU (Milan)",
	"ap-northeast-1": "Asia Pacific (Tokyo)", "ap-northeast-2": "Asia Pacific (Seoul)", "ap-northeast-3": "Asia Pacific (Osaka)",
	"ap-southeast-1": "Asia Pacific (Singapore)", "ap-southeast-2": "Asia Pacific (Sydney)",
	"ap-south-1": "Asia Pacific (Mumbai)", "ap-east-1": "Asia Pacific (Hong Kong)",
	"me-south-1": "Middle East (Bahrain)", "af-south-1": "Africa (Cape Town)",
}

// regionName is a region's name as notifications write it.
func regionName(region string) string {
	if n, ok := regionNames[region]; ok {
		return n
	}
	return region
}

// upperStatistics are the statistics as a notification's Trigger names
// them.
var upperStatistics = map[types.Statistic]string{
	types.StatisticSampleCount: "SAMPLE_COUNT", types.StatisticAverage: "AVERAGE", types.StatisticSum: "SUM",
	types.StatisticMinimum: "MINIMUM", types.StatisticMaximum: "MAXIMUM",
}

// notification builds the subject and the message of a state change from
// prev to next.
//
// CloudWatch publishes with MessageStructure "json", so that email and SMS
// subscribers get a text of their own (the publishedMessage of an action's
// history data has "default", "sms" and "email" entries); SQS, Lambda and
// HTTP subscribers get the "default" entry, this JSON. The local cloud
// delivers to no endpoint, so it publishes that JSON itself, which is what
// every subscriber but email and SMS would read.
func (a *alarm) notification(region, account string, prev, next alarmState) (subject, message string) {
	long := regionName(region)
	subject = fmt.Sprintf("%s: \"%s\" in %s", next.value, a.name, long)
	// SNS refuses a longer subject; CloudWatch does not document how it
	// shortens one, so the local cloud cuts it at the limit.
	if len(subject) > maxSubjectLength {
		subject = subject[:maxSubjectLength]
	}
	n := AlarmNotification{
		AlarmName:                          a.name,
		AWSAccountID:                       account,
		AlarmConfigurationUpdatedTimestamp: a.configUpdated.UTC().Format(cwTime),
		NewStateValue:                      string(next.value),
		NewStateReason:                     next.reason,
		StateChangeTime:                    next.at.UTC().Format(cwTime),
		Region:                             long,
		AlarmARN:                           a.arn,
		OldStateValue:                      string(prev.value),
		OKActions:                          append([]string{}, a.okActions...),
		AlarmActions:                       append([]string{}, a.alarmActions...),
		InsufficientDataActions:            append([]string{}, a.insufficientActions...),
		Trigger: AlarmTrigger{
			MetricName:                       a.metricName,
			Namespace:                        a.namespace,
			Dimensions:                       []TriggerDimension{},
			Period:                           a.periodSeconds,
			EvaluationPeriods:                a.evaluationPeriods,
			ComparisonOperator:               string(a.operator),
			Threshold:                        json.Number(javaDouble(a.threshold)),
			TreatMissingData:                 a.treatMissingData,
			EvaluateLowSampleCountPercentile: a.lowSampleCount,
		},
	}
	if a.description != "" {
		n.AlarmDescription = &a.description
	}
	if a.extendedStatistic != "" {
		n.Trigger.StatisticType, n.Trigger.ExtendedStatistic = "ExtendedStatistic", a.extendedStatistic
	} else {
		n.Trigger.StatisticType, n.Trigger.Statistic = "Statistic", upperStatistics[a.statistic]
	}
	if a.unit != "" {
		u := string(a.unit)
		n.Trigger.Unit = &u
	}
	for _, d := range a.dims {
		n.Trigger.Dimensions = append(n.Trigger.Dimensions, TriggerDimension{Value: d.value, Name: d.name})
	}
	if a.datapointsGiven {
		dta := a.datapointsToAlarm
		n.Trigger.DatapointsToAlarm = &dta
	}
	body, _ := json.Marshal(n)
	return subject, string(body)
}
