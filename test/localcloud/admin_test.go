package localcloud_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"

	"github.com/phoenix-rollouts/phoenix/test/localcloud"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
)

// call sends an admin request and decodes the JSON answer.
func call(t *testing.T, env *cloudtest.Env, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, env.URL+localcloud.AdminPrefix+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s %s answered non-JSON %q", method, path, b)
	}
	return resp.StatusCode, out
}

func TestAdminAPI(t *testing.T) {
	env := cloudtest.New(t)
	ctx := context.Background()

	t.Run("advancing the clock runs what is due and reports the new time", func(t *testing.T) {
		img, err := env.EC2.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("adm"), RootDeviceName: aws.String("/dev/xvda")})
		if err != nil {
			t.Fatal(err)
		}
		code, out := call(t, env, "POST", "clock/advance", `{"seconds": 600}`)
		if code != 200 || out["eventsRun"].(float64) < 1 {
			t.Fatalf("advance: %d %v", code, out)
		}
		if got := env.Now().Sub(clock.Epoch).Seconds(); got != 600 {
			t.Fatalf("clock moved %v s, want 600", got)
		}
		_, state := call(t, env, "GET", "state", "")
		b, _ := json.Marshal(state)
		if !strings.Contains(string(b), aws.ToString(img.ImageId)) || !strings.Contains(string(b), `"state":"available"`) {
			t.Fatalf("state does not show the available image: %s", b)
		}
		_, evs := call(t, env, "GET", "events?since=0", "")
		if len(evs["events"].([]any)) == 0 || evs["next"].(float64) == 0 {
			t.Fatalf("no events listed: %v", evs)
		}
	})

	t.Run("the clock never goes back and the body is checked", func(t *testing.T) {
		for _, body := range []string{`{"until": "2000-01-01T00:00:00Z"}`, `{"seconds": -1}`, `{}`, `{"seconds": 1, "until": "2030-01-01T00:00:00Z"}`, `not json`, `{"minutes": 5}`} {
			if code, out := call(t, env, "POST", "clock/advance", body); code != 400 || out["error"] != "ValidationError" {
				t.Errorf("advance %s: %d %v, want 400 ValidationError", body, code, out)
			}
		}
	})

	t.Run("a throttling fault added through the API reaches SDK clients and can be removed", func(t *testing.T) {
		code, out := call(t, env, "POST", "faults", `{"kind": "throttle", "service": "autoscaling", "operation": "DescribeAutoScalingGroups"}`)
		if code != 201 {
			t.Fatalf("add fault: %d %v", code, out)
		}
		id := out["id"].(string)
		client := autoscaling.NewFromConfig(env.Config, func(o *autoscaling.Options) { o.RetryMaxAttempts = 1 })
		_, err := client.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "Throttling" {
			t.Fatalf("err = %v, want Throttling", err)
		}
		_, list := call(t, env, "GET", "faults", "")
		if f := list["faults"].([]any); len(f) != 1 || f[0].(map[string]any)["fired"].(float64) != 1 {
			t.Fatalf("faults = %v", list)
		}
		if code, _ := call(t, env, "DELETE", "faults/"+id, ""); code != 200 {
			t.Fatalf("delete: %d", code)
		}
		if _, err := client.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{}); err != nil {
			t.Fatalf("after removal: %v", err)
		}
		if code, out := call(t, env, "POST", "faults", `{"kind": "meteor"}`); code != 400 || !strings.Contains(out["message"].(string), "unknown fault kind") {
			t.Fatalf("bad fault: %d %v", code, out)
		}
	})

	t.Run("an alarm state set through the API is what CloudWatch reports", func(t *testing.T) {
		cw := cloudwatch.NewFromConfig(env.Config)
		_, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
			AlarmName: aws.String("adm-alarm"), Namespace: aws.String("X"), MetricName: aws.String("Y"),
			Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1),
			Threshold: aws.Float64(1), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
		})
		if err != nil {
			t.Fatal(err)
		}
		if code, out := call(t, env, "PUT", "alarms/us-east-1/adm-alarm", `{"state": "ALARM"}`); code != 200 {
			t.Fatalf("set: %d %v", code, out)
		}
		got, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"adm-alarm"}})
		if err != nil || len(got.MetricAlarms) != 1 || got.MetricAlarms[0].StateValue != cwtypes.StateValueAlarm {
			t.Fatalf("describe: %v %+v", err, got)
		}
		if code, out := call(t, env, "PUT", "alarms/us-east-1/no-such-alarm", `{"state": "ALARM"}`); code != 404 && code != 400 {
			t.Fatalf("unknown alarm: %d %v", code, out)
		}
	})

	t.Run("an image of another account can be made for provenance tests", func(t *testing.T) {
		code, out := call(t, env, "POST", "images", `{"name": "foreign", "ownerId": "999999999999", "available": true}`)
		if code != 201 {
			t.Fatalf("%d %v", code, out)
		}
		imgs, err := env.EC2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{out["imageId"].(string)}})
		if err != nil || aws.ToString(imgs.Images[0].OwnerId) != "999999999999" {
			t.Fatalf("describe: %v %+v", err, imgs)
		}
	})

	t.Run("unknown endpoints answer 404 with the index's address", func(t *testing.T) {
		if code, out := call(t, env, "GET", "nope", ""); code != 404 || !strings.Contains(out["message"].(string), localcloud.AdminPrefix) {
			t.Fatalf("%d %v", code, out)
		}
		if code, out := call(t, env, "GET", "", ""); code != 200 || len(out["endpoints"].([]any)) < 10 {
			t.Fatalf("index: %d %v", code, out)
		}
	})
}

func TestAdvancingARealtimeClockIsRefused(t *testing.T) {
	env := cloudtest.New(t, localcloud.Options{Realtime: true})
	if code, out := call(t, env, "POST", "clock/advance", `{"seconds": 1}`); code != 409 || out["error"] != "RealtimeMode" {
		t.Fatalf("%d %v", code, out)
	}
}
