package wire

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/monitoring"
)

// boto3CloudWatch drives CloudWatch the way boto3 and AWS CLI v1 do: for
// CloudWatch botocore picks awsJson1_0 from the model's protocols list.
// It prints one JSON object of what came back; the Go test judges it.
const boto3CloudWatch = `
import json, sys, datetime
try:
    import boto3
    from botocore.exceptions import ClientError
except ImportError as e:
    print("IMPORT-ERROR: %s" % e, file=sys.stderr)
    sys.exit(3)

url = sys.argv[1]
cw = boto3.client("cloudwatch", endpoint_url=url, region_name="eu-west-1",
                  aws_access_key_id="AKIDBOTO3", aws_secret_access_key="local")
out = {"botocore": __import__("botocore").__version__}
utc = datetime.timezone.utc
now = datetime.datetime(2026, 1, 5, 9, 0, 0, tzinfo=utc)
dims = [{"Name": "FunctionName", "Value": "web"}]

def err(call):
    try:
        call()
    except ClientError as e:
        r = e.response
        return {"class": type(e).__name__, "code": r["Error"].get("Code"),
                "queryErrorCode": r["Error"].get("QueryErrorCode"), "type": r["Error"].get("Type"),
                "message": r["Error"].get("Message"), "status": r["ResponseMetadata"]["HTTPStatusCode"],
                "validation": r.get("dashboardValidationMessages")}
    return None

cw.put_metric_alarm(AlarmName="web-errors", MetricName="Errors", Namespace="AWS/Lambda",
    Statistic="Sum", Period=60, EvaluationPeriods=2, DatapointsToAlarm=1, Threshold=1.5,
    ComparisonOperator="GreaterThanOrEqualToThreshold", Dimensions=dims,
    AlarmActions=["arn:aws:sns:eu-west-1:123456789012:alerts"], TreatMissingData="notBreaching",
    Tags=[{"Key": "app", "Value": "web"}])
a = cw.describe_alarms(AlarmNames=["web-errors"])
m = a["MetricAlarms"][0]
out["alarm"] = {"name": m["AlarmName"], "arn": m["AlarmArn"], "threshold": m["Threshold"],
    "period": m["Period"], "evaluationPeriods": m["EvaluationPeriods"], "datapointsToAlarm": m["DatapointsToAlarm"],
    "comparison": m["ComparisonOperator"], "dimensions": m["Dimensions"], "alarmActions": m["AlarmActions"],
    "treatMissingData": m["TreatMissingData"], "state": m["StateValue"],
    "updated": m["AlarmConfigurationUpdatedTimestamp"].astimezone(utc).isoformat()}
out["contentType"] = a["ResponseMetadata"]["HTTPHeaders"].get("content-type")

cw.put_metric_data(Namespace="Phoenix/Test", MetricData=[
    {"MetricName": "Latency", "Dimensions": dims, "Timestamp": now, "Value": 3.0, "Unit": "Milliseconds"},
    {"MetricName": "Latency", "Dimensions": dims, "Timestamp": now + datetime.timedelta(seconds=10), "Value": 5.0, "Unit": "Milliseconds"},
])
d = cw.get_metric_data(StartTime=now - datetime.timedelta(minutes=5), EndTime=now + datetime.timedelta(minutes=5),
    MetricDataQueries=[{"Id": "lat", "ReturnData": True, "MetricStat": {"Metric": {"Namespace": "Phoenix/Test",
        "MetricName": "Latency", "Dimensions": dims}, "Period": 60, "Stat": "Sum"}}])
r = d["MetricDataResults"][0]
out["metricData"] = {"id": r["Id"], "status": r["StatusCode"], "values": r["Values"],
    "timestamps": [t.astimezone(utc).isoformat() for t in r["Timestamps"]]}

cw.set_alarm_state(AlarmName="web-errors", StateValue="ALARM", StateReason="boto3 says so")
out["stateAfterSet"] = cw.describe_alarms(AlarmNames=["web-errors"])["MetricAlarms"][0]["StateValue"]
h = cw.describe_alarm_history(AlarmName="web-errors", HistoryItemType="StateUpdate")
out["history"] = [{"summary": i["HistorySummary"], "type": i["HistoryItemType"],
    "at": i["Timestamp"].astimezone(utc).isoformat()} for i in h["AlarmHistoryItems"]]

cw.put_dashboard(DashboardName="web", DashboardBody=json.dumps({"widgets": [{"type": "text", "x": 0, "y": 0,
    "width": 6, "height": 3, "properties": {"markdown": "hello"}}]}))
out["dashboards"] = [{"name": e["DashboardName"], "arn": e["DashboardArn"], "size": e["Size"]}
    for e in cw.list_dashboards()["DashboardEntries"]]

out["missingDashboard"] = err(lambda: cw.delete_dashboards(DashboardNames=["no-such-dashboard"]))
out["invalidDashboard"] = err(lambda: cw.put_dashboard(DashboardName="bad", DashboardBody=json.dumps({"widgets": "none"})))
out["badStateValue"] = err(lambda: cw.describe_alarms(StateValue="SIDEWAYS"))
print(json.dumps(out))
`

// TestBoto3DrivesCloudWatchOverAWSJSON runs boto3 itself, as installed on
// the machine, against the real CloudWatch model behind the wire layer:
// alarms, metrics, alarm state and history, dashboards and errors, all
// over awsJson1_0 (X-Amz-Target GraniteServiceVersion20100801.<Op>), the
// protocol boto3 picks from CloudWatch's model.
func TestBoto3DrivesCloudWatchOverAWSJSON(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Fatalf("this test needs python3 with the Python packages boto3 and botocore: %v", err)
	}
	start := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	cw := monitoring.New(monitoring.Options{Clock: clock.NewStepped(start)})
	srv := NewServer(Options{})
	svc, ok := Describe("monitoring", cw)
	if !ok {
		t.Fatal("no description of monitoring")
	}
	if err := srv.Register(svc); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var targets []string
	protocols := map[string]int{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		switch {
		case r.Header.Get("X-Amz-Target") != "":
			targets = append(targets, r.Header.Get("X-Amz-Target"))
			protocols[r.Header.Get("Content-Type")]++
		case r.Header.Get("Smithy-Protocol") != "":
			protocols["rpc-v2-cbor"]++
		default:
			protocols["query"]++
		}
		mu.Unlock()
		srv.ServeHTTP(w, r)
	}))
	defer ts.Close()

	cmd := exec.Command("python3", "-c", boto3CloudWatch, ts.URL)
	cmd.Env = append(cmd.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_RETRY_MODE=standard", "AWS_MAX_ATTEMPTS=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if strings.Contains(stderr.String(), "IMPORT-ERROR") {
			t.Fatalf("this test needs the Python packages boto3 and botocore: %s", stderr.String())
		}
		t.Fatalf("boto3 failed: %v\n%s", err, stderr.String())
	}
	var got struct {
		Botocore string `json:"botocore"`
		Alarm    struct {
			Name, ARN, Comparison, State, Updated, TreatMissingData string
			Threshold                                               float64
			Period, EvaluationPeriods, DatapointsToAlarm            int
			Dimensions                                              []map[string]string
			AlarmActions                                            []string
		} `json:"alarm"`
		ContentType string `json:"contentType"`
		MetricData  struct {
			ID         string    `json:"id"`
			Status     string    `json:"status"`
			Values     []float64 `json:"values"`
			Timestamps []string  `json:"timestamps"`
		} `json:"metricData"`
		StateAfterSet string `json:"stateAfterSet"`
		History       []struct{ Summary, Type, At string }
		Dashboards    []struct {
			Name, ARN string
			Size      int
		}
		MissingDashboard, InvalidDashboard, BadStateValue *boto3Error
	}
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("boto3's script printed %q: %v\n%s", stdout.String(), err, stderr.String())
	}
	t.Logf("botocore %s", got.Botocore)

	t.Run("boto3 speaks awsJson1_0 to CloudWatch, with its target prefix", func(t *testing.T) {
		mu.Lock()
		defer mu.Unlock()
		if protocols["application/x-amz-json-1.0"] == 0 || len(protocols) != 1 {
			t.Errorf("requests by protocol: %v, want awsJson1_0 only", protocols)
		}
		for _, tg := range targets {
			if !strings.HasPrefix(tg, "GraniteServiceVersion20100801.") {
				t.Errorf("X-Amz-Target %q", tg)
			}
		}
		if got.ContentType != "application/x-amz-json-1.0" {
			t.Errorf("answers have Content-Type %q", got.ContentType)
		}
	})
	t.Run("PutMetricAlarm and DescribeAlarms carry every member boto3 sends and reads", func(t *testing.T) {
		a := got.Alarm
		if a.Name != "web-errors" || a.ARN != "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:web-errors" ||
			a.Threshold != 1.5 || a.Period != 60 || a.EvaluationPeriods != 2 || a.DatapointsToAlarm != 1 ||
			a.Comparison != "GreaterThanOrEqualToThreshold" || a.TreatMissingData != "notBreaching" ||
			a.State != "INSUFFICIENT_DATA" ||
			len(a.Dimensions) != 1 || a.Dimensions[0]["Name"] != "FunctionName" || a.Dimensions[0]["Value"] != "web" ||
			len(a.AlarmActions) != 1 || a.AlarmActions[0] != "arn:aws:sns:eu-west-1:123456789012:alerts" {
			t.Errorf("DescribeAlarms gave %+v", a)
		}
		// Timestamps travel as epoch seconds and boto3 reads them back.
		if a.Updated != "2026-01-05T09:00:00+00:00" {
			t.Errorf("AlarmConfigurationUpdatedTimestamp %q, want the cloud's clock, 2026-01-05T09:00:00+00:00", a.Updated)
		}
	})
	t.Run("PutMetricData's points come back from GetMetricData", func(t *testing.T) {
		md := got.MetricData
		if md.ID != "lat" || md.Status != "Complete" || len(md.Values) != 1 || md.Values[0] != 8 ||
			len(md.Timestamps) != 1 || md.Timestamps[0] != "2026-01-05T09:00:00+00:00" {
			t.Errorf("GetMetricData gave %+v, want one Sum of 8 at 09:00", md)
		}
	})
	t.Run("SetAlarmState changes the state and DescribeAlarmHistory records it", func(t *testing.T) {
		if got.StateAfterSet != "ALARM" {
			t.Errorf("state after SetAlarmState: %q", got.StateAfterSet)
		}
		if len(got.History) != 1 || got.History[0].Type != "StateUpdate" ||
			got.History[0].Summary != "Alarm updated from INSUFFICIENT_DATA to ALARM" {
			t.Errorf("history %+v", got.History)
		}
	})
	t.Run("PutDashboard and ListDashboards", func(t *testing.T) {
		if len(got.Dashboards) != 1 || got.Dashboards[0].Name != "web" ||
			got.Dashboards[0].ARN != "arn:aws:cloudwatch::123456789012:dashboard/web" || got.Dashboards[0].Size == 0 {
			t.Errorf("ListDashboards gave %+v", got.Dashboards)
		}
	})
	t.Run("errors reach boto3 with the query-compatible code and the modelled exception", func(t *testing.T) {
		checkBoto3Error(t, "DeleteDashboards of a missing dashboard", got.MissingDashboard,
			boto3Error{Class: "ResourceNotFound", Code: "ResourceNotFound", QueryErrorCode: "DashboardNotFoundError", Type: "Sender", Status: 404})
		checkBoto3Error(t, "PutDashboard with an invalid body", got.InvalidDashboard,
			boto3Error{Class: "DashboardInvalidInputError", Code: "InvalidParameterInput", QueryErrorCode: "DashboardInvalidInputError", Type: "Sender", Status: 400})
		if e := got.InvalidDashboard; e != nil && len(e.Validation) == 0 {
			t.Errorf("PutDashboard with an invalid body: boto3 read no dashboardValidationMessages")
		}
		checkBoto3Error(t, "DescribeAlarms with an unknown StateValue", got.BadStateValue,
			boto3Error{Class: "InvalidParameterValueException", Code: "InvalidParameterValue", Status: 400})
	})
}

// boto3Error is what the script reports of a ClientError.
type boto3Error struct {
	Class          string           `json:"class"`
	Code           string           `json:"code"`
	QueryErrorCode string           `json:"queryErrorCode"`
	Type           string           `json:"type"`
	Message        string           `json:"message"`
	Status         int              `json:"status"`
	Validation     []map[string]any `json:"validation"`
}

func checkBoto3Error(t *testing.T, what string, got *boto3Error, want boto3Error) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: boto3 raised no error", what)
		return
	}
	if got.Class != want.Class || got.Code != want.Code || got.QueryErrorCode != want.QueryErrorCode ||
		got.Type != want.Type || got.Status != want.Status || got.Message == "" {
		t.Errorf("%s: boto3 saw %+v, want %+v with a message", what, *got, want)
	}
}

// TestCloudWatchAnswersAWSJSONWithItsErrorShape sends botocore-shaped
// awsJson1_0 requests and checks the raw answers: 400 (or the error's
// status) with {"__type", "message"}, the X-Amzn-Query-Error header of a
// query-compatible service when the error's shape and code differ, and
// the error's other members in the body.
func TestCloudWatchAnswersAWSJSONWithItsErrorShape(t *testing.T) {
	type answer struct {
		StatusCode int
		Header     http.Header
	}
	cloud := newTestCloud(t, Options{})
	// post returns the answer's status, headers and decoded body (the body
	// is read and closed here).
	post := func(t *testing.T, op, body string) (answer, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, cloud.ts.URL+"/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("X-Amz-Target", "GraniteServiceVersion20100801."+op)
		req.Header.Set("X-Amzn-Query-Mode", "true")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260105/eu-west-1/monitoring/aws4_request, SignedHeaders=host, Signature=0")
		resp, err := HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("the answer is not JSON: %q", raw)
		}
		return answer{StatusCode: resp.StatusCode, Header: resp.Header}, m
	}
	t.Run("an error whose shape differs from its code names both", func(t *testing.T) {
		cloud.rec.answer(nil, &api.Error{Code: "InvalidParameterInput", Shape: "DashboardInvalidInputError", Status: http.StatusBadRequest, Message: "invalid",
			Members: map[string]any{"dashboardValidationMessages": []any{map[string]any{"DataPath": "/widgets", "Message": "Should be array"}}}})
		resp, m := post(t, "PutDashboard", `{"DashboardName":"d","DashboardBody":"{}"}`)
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Content-Type") != "application/x-amz-json-1.0" ||
			resp.Header.Get("X-Amzn-Query-Error") != "InvalidParameterInput;Sender" ||
			m["__type"] != "DashboardInvalidInputError" || m["message"] != "invalid" {
			t.Errorf("got %d %v %v", resp.StatusCode, resp.Header, m)
		}
		if v, _ := m["dashboardValidationMessages"].([]any); len(v) != 1 {
			t.Errorf("dashboardValidationMessages missing from %v", m)
		}
	})
	t.Run("an error named by its code has no query error header", func(t *testing.T) {
		cloud.rec.answer(nil, &api.Error{Code: "ResourceNotFound", Status: http.StatusNotFound, Message: "gone"})
		resp, m := post(t, "GetDashboard", `{"DashboardName":"d"}`)
		if resp.StatusCode != http.StatusNotFound || resp.Header.Get("X-Amzn-Query-Error") != "" || m["__type"] != "ResourceNotFound" || m["message"] != "gone" {
			t.Errorf("got %d %v %v", resp.StatusCode, resp.Header, m)
		}
	})
	t.Run("timestamps travel as epoch seconds both ways", func(t *testing.T) {
		cloud.rec.answer(nil, nil)
		resp, _ := post(t, "DescribeAlarmHistory", `{"AlarmName":"a","StartDate":1767603600.5,"EndDate":1767607200}`)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		_, in, req, _ := cloud.rec.last()
		b, _ := json.Marshal(in) // *cloudwatch.DescribeAlarmHistoryInput
		if !strings.Contains(string(b), `"StartDate":"2026-01-05T09:00:00.5Z"`) || !strings.Contains(string(b), `"EndDate":"2026-01-05T10:00:00Z"`) {
			t.Errorf("the model got %s", b)
		}
		if req.Service != "monitoring" || req.Operation != "DescribeAlarmHistory" || req.Region != "eu-west-1" {
			t.Errorf("request context %+v", req)
		}
	})
	t.Run("a missing required member is MissingParameter, as in every CloudWatch protocol", func(t *testing.T) {
		resp, m := post(t, "DeleteAlarms", `{}`)
		if resp.StatusCode != http.StatusBadRequest || m["__type"] != "MissingParameter" {
			t.Errorf("got %d %v", resp.StatusCode, m)
		}
	})
}
