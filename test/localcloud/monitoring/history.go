package monitoring

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

// historyItem is one entry of the alarm history.
type historyItem struct {
	alarmName string
	itemType  types.HistoryItemType
	at        time.Time
	summary   string
	data      string
	seq       int
}

// addHistory appends an item, numbering it so that items recorded at the
// same instant keep their order.
func (r *regionState) addHistory(h historyItem) {
	h.seq = len(r.history)
	r.history = append(r.history, h)
}

// DescribeAlarmHistory returns history items (configuration updates, state
// updates and the outcome of each SNS action, actions.go) for one alarm or
// all, filtered by HistoryItemType, AlarmTypes and the StartDate
// (inclusive) to EndDate (exclusive) range, newest first unless ScanBy is
// TimestampAscending, MaxRecords (1 to 100, default 100) per page. The
// history of deleted alarms is kept, as CloudWatch keeps it.
func (cw *CloudWatch) DescribeAlarmHistory(ctx context.Context, in *cloudwatch.DescribeAlarmHistoryInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmHistoryOutput, error) {
	in, region, done := api.Begin(ctx, &cw.mu, in)
	defer done()
	switch in.HistoryItemType {
	case "", types.HistoryItemTypeConfigurationUpdate, types.HistoryItemTypeStateUpdate, types.HistoryItemTypeAction:
	default:
		return nil, invalidValue("The value %s for parameter HistoryItemType is invalid.", in.HistoryItemType)
	}
	switch in.ScanBy {
	case "", types.ScanByTimestampDescending, types.ScanByTimestampAscending:
	default:
		return nil, invalidValue("The value %s for parameter ScanBy is invalid.", in.ScanBy)
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
	if in.StartDate != nil && in.EndDate != nil && !in.StartDate.Before(*in.EndDate) {
		return nil, invalidValue("The parameter StartDate must be before EndDate.")
	}
	limit, offset, err := page(in.MaxRecords, in.NextToken, maxDescribeRecords, maxDescribeRecords, "h-")
	if err != nil {
		return nil, err
	}
	out := &cloudwatch.DescribeAlarmHistoryOutput{AlarmHistoryItems: []types.AlarmHistoryItem{}}
	if !wantMetric {
		return out, nil
	}
	r := cw.region(region)
	var matched []historyItem
	for _, h := range r.history {
		if in.AlarmName != nil && h.alarmName != *in.AlarmName {
			continue
		}
		if in.HistoryItemType != "" && h.itemType != in.HistoryItemType {
			continue
		}
		if in.StartDate != nil && h.at.Before(*in.StartDate) {
			continue
		}
		if in.EndDate != nil && !h.at.Before(*in.EndDate) {
			continue
		}
		matched = append(matched, h)
	}
	if in.ScanBy != types.ScanByTimestampAscending {
		for i, j := 0, len(matched)-1; i < j; i, j = i+1, j-1 {
			matched[i], matched[j] = matched[j], matched[i]
		}
	}
	if offset > len(matched) {
		return nil, invalidToken(aws.ToString(in.NextToken))
	}
	end := min(offset+limit, len(matched))
	for _, h := range matched[offset:end] {
		out.AlarmHistoryItems = append(out.AlarmHistoryItems, types.AlarmHistoryItem{
			AlarmName:       aws.String(h.alarmName),
			AlarmType:       types.AlarmTypeMetricAlarm,
			HistoryItemType: h.itemType,
			Timestamp:       aws.Time(h.at),
			HistorySummary:  aws.String(h.summary),
			HistoryData:     aws.String(h.data),
		})
	}
	if end < len(matched) {
		out.NextToken = aws.String("h-" + strconv.Itoa(end))
	}
	return out, nil
}
