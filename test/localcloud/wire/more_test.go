package wire

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

// TestCloudWatchAnswersTheLegacyQueryProtocolOfOlderClients checks that
// CloudWatch, registered for rpcv2Cbor, still serves the awsQuery requests
// the Debian AWS CLI sends, with query names and an XML answer.
func TestCloudWatchAnswersTheLegacyQueryProtocolOfOlderClients(t *testing.T) {
	cloud := newTestCloud(t, Options{})
	cloud.rec.answer(&cloudwatch.DescribeAlarmsOutput{MetricAlarms: []cwtypes.MetricAlarm{{AlarmName: aws.String("web-high"), StateValue: cwtypes.StateValueAlarm}}}, nil)
	body := "Action=DescribeAlarms&Version=2010-08-01&AlarmNames.member.1=web-high&AlarmNames.member.2=web-low&MaxRecords=5"
	req, _ := http.NewRequest(http.MethodPost, cloud.ts.URL+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/monitoring/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := cloud.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	_, in, _, _ := cloud.rec.last()
	want := &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"web-high", "web-low"}, MaxRecords: aws.Int32(5)}
	if !reflect.DeepEqual(in, want) {
		t.Errorf("the model got %+v, want %+v", in, want)
	}
	for _, part := range []string{
		`<DescribeAlarmsResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/">`,
		`<DescribeAlarmsResult><MetricAlarms><member><AlarmName>web-high</AlarmName>`,
		`<StateValue>ALARM</StateValue>`,
		`<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>`,
	} {
		if !bytes.Contains(raw, []byte(part)) {
			t.Errorf("the answer lacks %s:\n%s", part, raw)
		}
	}
}

// TestAnErrorsMembersTravelInTheLegacyQueryProtocol checks that an error
// shape's members beyond code and message (PutDashboard's validation
// messages) are in the awsQuery error body, where query clients' typed
// errors read them.
func TestAnErrorsMembersTravelInTheLegacyQueryProtocol(t *testing.T) {
	cloud := newTestCloud(t, Options{})
	cloud.rec.answer(nil, &api.Error{Code: "InvalidParameterInput", Shape: "DashboardInvalidInputError", Status: http.StatusBadRequest, Message: "invalid",
		Members: map[string]any{"dashboardValidationMessages": []any{map[string]any{"DataPath": "/widgets/0", "Message": "Should be <object>"}}}})
	body := "Action=PutDashboard&Version=2010-08-01&DashboardName=d&DashboardBody=%7B%7D"
	req, _ := http.NewRequest(http.MethodPost, cloud.ts.URL+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/monitoring/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := cloud.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	want := `<Code>InvalidParameterInput</Code><Message>invalid</Message>` +
		`<dashboardValidationMessages><member><DataPath>/widgets/0</DataPath><Message>Should be &lt;object&gt;</Message></member></dashboardValidationMessages></Error>`
	if resp.StatusCode != http.StatusBadRequest || !bytes.Contains(raw, []byte(want)) {
		t.Errorf("got %d\n%s\nwant a 400 containing %s", resp.StatusCode, raw, want)
	}
}

// TestReservedPathsNeverReachAService checks that Handle mounts a handler
// in front of the AWS endpoints.
func TestReservedPathsNeverReachAService(t *testing.T) {
	cloud := newTestCloud(t, Options{})
	cloud.srv.Handle("/_phoenix/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "admin")
	}))
	resp, err := cloud.ts.Client().Post(cloud.ts.URL+"/_phoenix/faults", "application/x-www-form-urlencoded", strings.NewReader("Action=DescribeTags&Version=2011-01-01"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "admin" {
		t.Errorf("got %q, want the admin handler's answer", b)
	}
	if _, _, _, calls := cloud.rec.last(); calls != 0 {
		t.Errorf("a service was called for a reserved path")
	}
}

// TestRegisterRefusesIncompleteOrCollidingServices covers Register's
// checks.
func TestRegisterRefusesIncompleteOrCollidingServices(t *testing.T) {
	fakes := newFakes(&recorder{})
	asg := fakes[modules["autoscaling"]]
	cw := fakes[modules["monitoring"]]
	tests := []struct {
		name string
		svc  Service
	}{
		{"a service without a handler is refused", Service{Name: "autoscaling", Protocol: AWSQuery, Version: "2011-01-01"}},
		{"a query service without a version is refused", Service{Name: "autoscaling", Protocol: AWSQuery, Handler: asg}},
		{"an unknown protocol is refused", Service{Name: "autoscaling", Protocol: "smoke", Handler: asg}},
		{"a restJson1 service whose operations have no HTTP route is refused", Service{Name: "lambda", Protocol: RestJSON1, Handler: asg}},
		{"a handler without operations is refused", Service{Name: "autoscaling", Protocol: AWSQuery, Version: "2011-01-01", Handler: struct{}{}}},
		{"a Version without a query protocol is refused", Service{Name: "monitoring", Protocol: RPCv2CBOR, ShapeName: "GraniteServiceVersion20100801", Version: "2010-08-01", Handler: cw}},
		{"a TargetPrefix without an awsJson protocol is refused", Service{Name: "monitoring", Protocol: RPCv2CBOR, ShapeName: "GraniteServiceVersion20100801", TargetPrefix: "GraniteServiceVersion20100801", Handler: cw}},
		{"an awsJson protocol without a TargetPrefix is refused", Service{Name: "monitoring", Protocol: RPCv2CBOR, Also: []Protocol{AWSJSON10}, ShapeName: "GraniteServiceVersion20100801", Handler: cw}},
		{"a protocol listed twice is refused", Service{Name: "monitoring", Protocol: RPCv2CBOR, Also: []Protocol{RPCv2CBOR}, ShapeName: "GraniteServiceVersion20100801", Handler: cw}},
		{"two awsJson versions are refused", Service{Name: "monitoring", Protocol: RPCv2CBOR, Also: []Protocol{AWSJSON10, AWSJSON11}, ShapeName: "GraniteServiceVersion20100801", TargetPrefix: "GraniteServiceVersion20100801", Handler: cw}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := NewServer(Options{}).Register(tc.svc); err == nil {
				t.Error("Register accepted it")
			}
		})
	}
	t.Run("a second service with the same name is refused", func(t *testing.T) {
		s := NewServer(Options{})
		svc, _ := Describe("autoscaling", asg)
		if err := s.Register(svc); err != nil {
			t.Fatal(err)
		}
		if err := s.Register(svc); err == nil {
			t.Error("Register accepted a duplicate")
		}
	})
}

// FuzzQueryRequests posts arbitrary form bodies; the server must answer
// every one without a 5xx.
func FuzzQueryRequests(f *testing.F) {
	for _, seed := range []string{
		"Action=StartInstanceRefresh&Version=2011-01-01&AutoScalingGroupName=web&Preferences.CheckpointPercentages.member.1=50&Preferences.MinHealthyPercentage=90",
		"Action=DescribeImages&Version=2016-11-15&Filter.1.Name=name&Filter.1.Value.1=phoenix-*&ImageId.1=ami-1",
		"Action=CreateTopic&Version=2010-03-31&Name=t&Attributes.entry.1.key=DisplayName&Attributes.entry.1.value=x",
		"Action=Publish&Version=2010-03-31&Message=m&MessageAttributes.entry.1.Name=a&MessageAttributes.entry.1.Value.DataType=String",
		"Action=RunInstances&Version=2016-11-15&MinCount=1&MaxCount=99999999999999999999",
		"Action=DescribeAlarms&Version=2010-08-01&AlarmNames.member.1=a",
		"Action=&Version=&&&=&%00",
	} {
		f.Add(seed)
	}
	srv, _ := fuzzServer(f)
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%q answered %d: %s", body, w.Code, w.Body)
		}
	})
}

// FuzzJSONRequests posts arbitrary awsJson bodies to every JSON target.
func FuzzJSONRequests(f *testing.F) {
	for _, seed := range []struct{ target, body string }{
		{"AmazonSSM.PutParameter", `{"Name":"/a","Value":"ami-1","Type":"String","Overwrite":true,"Tags":[{"Key":"k","Value":"v"}]}`},
		{"AWSStepFunctions.StartExecution", `{"stateMachineArn":"arn","input":"{}","name":"n"}`},
		{"AWSEvents.PutEvents", `{"Entries":[{"Time":1700000000.5,"Source":"s","Detail":"{}","DetailType":"d"}]}`},
		{"AWSStepFunctions.GetExecutionHistory", `{"executionArn":"a","maxResults":1e400}`},
		{"AmazonSSM.GetParameters", `{"Names":[null,1,{}]}`},
	} {
		f.Add(seed.target, seed.body)
	}
	srv, _ := fuzzServer(f)
	f.Fuzz(func(t *testing.T, target, body string) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", target)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %q answered %d: %s", target, body, w.Code, w.Body)
		}
	})
}

// fuzzServer is a server whose fakes answer empty outputs.
func fuzzServer(tb testing.TB) (*Server, *recorder) {
	rec := &recorder{}
	srv := NewServer(Options{RequestID: func() string { return "fuzz" }})
	fakes := newFakes(rec)
	for name, mod := range modules {
		svc, _ := Describe(name, fakes[mod])
		if err := srv.Register(svc); err != nil {
			tb.Fatal(err)
		}
	}
	return srv, rec
}

// BenchmarkStartInstanceRefreshOverTheWire measures one request through
// the query codec: form decoding, SDK validation, the call and XML
// encoding, without the network.
func BenchmarkStartInstanceRefreshOverTheWire(b *testing.B) {
	srv, rec := fuzzServer(b)
	rec.answer(&autoscaling.StartInstanceRefreshOutput{InstanceRefreshId: aws.String("ir-1")}, nil)
	body := "Action=StartInstanceRefresh&Version=2011-01-01&AutoScalingGroupName=web&Strategy=Rolling" +
		"&DesiredConfiguration.LaunchTemplate.LaunchTemplateId=lt-1&DesiredConfiguration.LaunchTemplate.Version=7" +
		"&Preferences.MinHealthyPercentage=90&Preferences.MaxHealthyPercentage=110&Preferences.AutoRollback=true" +
		"&Preferences.CheckpointPercentages.member.1=50&Preferences.CheckpointPercentages.member.2=100" +
		"&Preferences.AlarmSpecification.Alarms.member.1=web-5xx"
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

// BenchmarkGetParameterOverTheWire measures one awsJson request.
func BenchmarkGetParameterOverTheWire(b *testing.B) {
	srv, rec := fuzzServer(b)
	rec.answer(nil, nil)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"Name":"/phoenix/ami","WithDecryption":true}`))
		req.Header.Set("X-Amz-Target", "AmazonSSM.GetParameter")
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req.WithContext(context.Background()))
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

// TestHTTPClientSurvivesAnswersThatBeatTheRequestWrite repeats a large
// request with a large answer: with a plain http.Client about one attempt
// in sixty fails with "use of closed network connection" (see HTTPClient).
func TestHTTPClientSurvivesAnswersThatBeatTheRequestWrite(t *testing.T) {
	cloud := newTestCloud(t, Options{})
	in := &ec2.CreateLaunchTemplateVersionInput{}
	(&filler{dir: request}).fill(reflect.ValueOf(in).Elem(), 0)
	out := &ec2.CreateLaunchTemplateVersionOutput{}
	(&filler{dir: response}).fill(reflect.ValueOf(out).Elem(), 0)
	cloud.rec.answer(out, nil)
	c := cloud.client(modules["ec2"], 1).(*ec2.Client)
	for i := 0; i < 300; i++ {
		if _, err := c.CreateLaunchTemplateVersion(context.Background(), in); err != nil {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
}
