package fleet_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/phoenix-rollouts/phoenix/shared/fleet"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
)

func TestTargetHealth(t *testing.T) {
	t.Parallel()
	w := newWorld(t, groupOptions{})
	canary := w.loadBalancer(t, "canary")
	g := w.group(t)
	_, err := w.env.ELB.RegisterTargets(w.ctx, &elasticloadbalancingv2.RegisterTargetsInput{
		TargetGroupArn: aws.String(canary), Targets: []elbtypes.TargetDescription{{Id: aws.String(g.Instances[0].ID)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("every target of every target group is reported with its state", func(t *testing.T) {
		var got []rollout.TargetState
		w.env.RunUntil(t, time.Hour, "the canary target to be healthy", func() bool {
			got, err = w.fleet.TargetHealth(w.ctx, w.key.Region, []string{w.tgARN, canary})
			if err != nil {
				t.Fatal(err)
			}
			return len(got) == 3 && got[2].State == "healthy"
		})
		per := map[string][]string{}
		for _, s := range got {
			if s.State != "healthy" {
				t.Errorf("target %+v, want healthy", s)
			}
			per[s.TargetGroupARN] = append(per[s.TargetGroupARN], s.InstanceID)
		}
		if len(per[w.tgARN]) != 2 || !slices.Equal(per[canary], []string{g.Instances[0].ID}) {
			t.Errorf("targets per group %v", per)
		}
	})
	t.Run("an unhealthy target says why", func(t *testing.T) {
		if _, err := w.env.Cloud.Faults.Add(faults.Rule{Kind: faults.HealthFlap, Target: g.Instances[1].ID}); err != nil {
			t.Fatal(err)
		}
		w.env.RunUntil(t, time.Hour, "the flapping target to be unhealthy", func() bool {
			got, err := w.fleet.TargetHealth(w.ctx, w.key.Region, []string{w.tgARN})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range got {
				if s.InstanceID == g.Instances[1].ID && s.State == "unhealthy" {
					if s.Reason == "" {
						t.Errorf("unhealthy target %+v without a reason", s)
					}
					return true
				}
			}
			return false
		})
	})
	t.Run("a target group that does not exist is a NotFoundError", func(t *testing.T) {
		missing := w.tgARN[:len(w.tgARN)-4] + "beef"
		_, err := w.fleet.TargetHealth(w.ctx, w.key.Region, []string{w.tgARN, missing})
		wantNotFound(t, err, "target group")
	})
}

func TestAlarmStates(t *testing.T) {
	t.Parallel()
	w := newWorld(t, groupOptions{})
	for _, name := range []string{"aa-5xx", "zz-latency"} {
		_, err := w.env.CloudWatch.PutMetricAlarm(w.ctx, &cloudwatch.PutMetricAlarmInput{
			AlarmName: aws.String(name), Namespace: aws.String("Phoenix/Test"), MetricName: aws.String(name),
			Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1),
			ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := w.env.CloudWatch.SetAlarmState(w.ctx, &cloudwatch.SetAlarmStateInput{
		AlarmName: aws.String("zz-latency"), StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("test"),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("each named alarm reports its state and a missing alarm is absent", func(t *testing.T) {
		got, err := w.fleet.AlarmStates(w.ctx, w.key.Region, []string{"zz-latency", "aa-5xx", "gone"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got["zz-latency"] != "ALARM" || got["aa-5xx"] == "" || got["aa-5xx"] == "ALARM" {
			t.Errorf("got %v", got)
		}
	})
	t.Run("more than a hundred names are asked in batches", func(t *testing.T) {
		names := []string{"aa-5xx", "zz-latency"}
		for i := range 150 {
			names = append(names, fmt.Sprintf("missing-%03d", i))
		}
		got, err := w.fleet.AlarmStates(w.ctx, w.key.Region, names)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got["zz-latency"] != "ALARM" {
			t.Errorf("got %v, want both alarms found across batches", got)
		}
	})
}

func TestErrorsAreClassified(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		rule faults.Rule
		call func(w *world, f *fleet.Fleet) error
	}{
		{
			"throttling becomes TransientError",
			faults.Rule{Kind: faults.Throttle, Service: "autoscaling", Operation: "DescribeAutoScalingGroups"},
			func(w *world, f *fleet.Fleet) error { _, err := f.Group(w.ctx, w.key); return err },
		},
		{
			"EC2's RequestLimitExceeded becomes TransientError",
			faults.Rule{Kind: faults.Throttle, Service: "ec2", Operation: "DescribeLaunchTemplateVersions"},
			func(w *world, f *fleet.Fleet) error {
				_, err := f.ResolveVersion(w.ctx, w.key.Region, w.ltID, "$Latest")
				return err
			},
		},
		{
			"a server error from ELB becomes TransientError",
			faults.Rule{Kind: faults.ServerError, Service: "elasticloadbalancing", Operation: "DescribeTargetHealth"},
			func(w *world, f *fleet.Fleet) error {
				_, err := f.TargetHealth(w.ctx, w.key.Region, []string{w.tgARN})
				return err
			},
		},
		{
			"a throttled refresh start becomes TransientError",
			faults.Rule{Kind: faults.Throttle, Service: "autoscaling", Operation: "StartInstanceRefresh"},
			func(w *world, f *fleet.Fleet) error { _, err := f.StartRefresh(w.ctx, w.spec(1)); return err },
		},
		{
			"a server error from CloudWatch becomes TransientError",
			faults.Rule{Kind: faults.ServerError, Service: "monitoring", Operation: "DescribeAlarms"},
			func(w *world, f *fleet.Fleet) error {
				_, err := f.AlarmStates(w.ctx, w.key.Region, []string{"a"})
				return err
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, groupOptions{})
			cfg := w.env.Config.Copy()
			cfg.RetryMaxAttempts = 1
			f := fleet.New(cfg, nil)
			if _, err := w.env.Cloud.Faults.Add(tc.rule); err != nil {
				t.Fatal(err)
			}
			if err := tc.call(w, f); !rollout.IsTransient(err) {
				t.Fatalf("error %v (%T), want a TransientError", err, err)
			}
		})
	}
	t.Run("a single throttle is absorbed by the client's own retries", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, groupOptions{})
		if _, err := w.env.Cloud.Faults.Add(faults.Rule{Kind: faults.Throttle, Service: "autoscaling", Operation: "DescribeAutoScalingGroups", Times: 1}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.fleet.Group(w.ctx, w.key); err != nil {
			t.Fatalf("group after one throttle: %v", err)
		}
	})
}

func TestChangesAreLoggedOnceWithTheirIDs(t *testing.T) {
	t.Parallel()
	w := newWorld(t, groupOptions{})
	v := w.version(t, w.newImage(t, "web-v2", ec2types.ArchitectureValuesX8664, "healthy"))
	id, err := w.fleet.StartRefresh(w.ctx, w.spec(v))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.fleet.Group(w.ctx, w.key); err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, rec := range logLines(t, w.logs) {
		msgs = append(msgs, rec["msg"].(string))
		if rec["level"] != "DEBUG" {
			t.Errorf("%v is not Debug: the steps log each change at Info, once", rec)
		}
		if rec["msg"] == "started instance refresh" {
			if rec["refreshId"] != id || rec["group"] != groupName || rec["launchTemplateId"] != w.ltID || rec["version"] != float64(v) {
				t.Errorf("refresh log %v lacks the ids", rec)
			}
		}
	}
	if want := []string{"created launch template version", "started instance refresh"}; !slices.Equal(msgs, want) {
		t.Errorf("logged %q, want %q: reads log nothing, each change once", msgs, want)
	}
}

func TestAlarmTags(t *testing.T) {
	t.Parallel()
	w := newWorld(t, groupOptions{})
	_, err := w.env.CloudWatch.PutMetricAlarm(w.ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("web-5xx"), Namespace: aws.String("Phoenix/Test"), MetricName: aws.String("5xx"),
		Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
		Tags:               []cwtypes.Tag{{Key: aws.String("phoenix:group"), Value: aws.String("web")}, {Key: aws.String("team"), Value: aws.String("edge")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	described, err := w.env.CloudWatch.DescribeAlarms(w.ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"web-5xx"}})
	if err != nil || len(described.MetricAlarms) != 1 {
		t.Fatalf("describe alarm: %v %v", described, err)
	}
	arn := aws.ToString(described.MetricAlarms[0].AlarmArn)
	t.Run("the alarm's tags are read by its ARN", func(t *testing.T) {
		got, err := w.fleet.AlarmTags(w.ctx, w.key.Region, arn)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got["phoenix:group"] != "web" || got["team"] != "edge" {
			t.Errorf("got %v", got)
		}
	})
	t.Run("a deleted alarm is not found", func(t *testing.T) {
		if _, err := w.env.CloudWatch.DeleteAlarms(w.ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"web-5xx"}}); err != nil {
			t.Fatal(err)
		}
		_, err := w.fleet.AlarmTags(w.ctx, w.key.Region, arn)
		wantNotFound(t, err, "alarm")
	})
}
