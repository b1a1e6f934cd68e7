package fleet

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/phoenix-rollouts/phoenix/shared/awserr"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// maxAlarmNames is DescribeAlarms' limit on AlarmNames per call.
const maxAlarmNames = 100

// TargetHealth returns the health of every target in every given target
// group. A missing target group is a *rollout.NotFoundError: validation
// must not pass on a load balancer it could not see.
func (f *Fleet) TargetHealth(ctx context.Context, region string, targetGroupARNs []string) ([]rollout.TargetState, error) {
	elb := f.clients(region).ELB
	var out []rollout.TargetState
	for _, arn := range targetGroupARNs {
		res, err := elb.DescribeTargetHealth(ctx, &elasticloadbalancingv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(arn)})
		if err != nil {
			return nil, awserr.Classify("describe target health of "+arn, err, "target group", arn, "TargetGroupNotFound")
		}
		for _, d := range res.TargetHealthDescriptions {
			st := rollout.TargetState{TargetGroupARN: arn}
			if d.Target != nil {
				st.InstanceID = aws.ToString(d.Target.Id)
			}
			if h := d.TargetHealth; h != nil {
				st.State = string(h.State)
				st.Reason = string(h.Reason)
			}
			out = append(out, st)
		}
	}
	return out, nil
}

// AlarmStates returns the state value (OK, ALARM, INSUFFICIENT_DATA) of
// each named alarm, metric or composite; a missing alarm is absent from the
// map, for the caller to judge.
func (f *Fleet) AlarmStates(ctx context.Context, region string, names []string) (map[string]string, error) {
	names = slices.Clone(names)
	slices.Sort(names)
	names = slices.Compact(names)
	out := make(map[string]string, len(names))
	cw := f.clients(region).CloudWatch
	for start := 0; start < len(names); start += maxAlarmNames {
		batch := names[start:min(start+maxAlarmNames, len(names))]
		p := cloudwatch.NewDescribeAlarmsPaginator(cw, &cloudwatch.DescribeAlarmsInput{
			AlarmNames: batch,
			// Without AlarmTypes CloudWatch lists metric alarms only, and a
			// guard alarm may well be composite.
			AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm},
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, awserr.Classify(fmt.Sprintf("describe alarms in %s", region), err, "alarm", "")
			}
			for _, a := range page.MetricAlarms {
				out[aws.ToString(a.AlarmName)] = string(a.StateValue)
			}
			for _, a := range page.CompositeAlarms {
				out[aws.ToString(a.AlarmName)] = string(a.StateValue)
			}
		}
	}
	return out, nil
}

// AlarmTags returns the tags of the alarm with the ARN. A missing alarm is
// a *rollout.NotFoundError: an alarm may be deleted between its state
// change and Phoenix's look at it.
func (f *Fleet) AlarmTags(ctx context.Context, region, alarmARN string) (map[string]string, error) {
	out, err := f.clients(region).CloudWatch.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: aws.String(alarmARN)})
	if err != nil {
		return nil, awserr.Classify(fmt.Sprintf("list tags of alarm %s", alarmARN), err, "alarm", alarmARN, "ResourceNotFound", "ResourceNotFoundException")
	}
	tags := make(map[string]string, len(out.Tags))
	for _, t := range out.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return tags, nil
}
