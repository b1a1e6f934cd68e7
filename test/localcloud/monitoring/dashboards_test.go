package monitoring

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
)

// cpuWidget is the metric widget of the API reference's first example.
const cpuWidget = `{"type":"metric","x":0,"y":0,"width":12,"height":6,"properties":{"metrics":[["AWS/EC2","CPUUtilization","InstanceId","i-012345"]],"period":300,"stat":"Average","region":"us-east-1","title":"EC2 Instance CPU","liveData":false,"legend":{"position":"right"}}}`

// withWidgets is a body holding the given widgets.
func withWidgets(widgets ...string) string {
	return `{"widgets":[` + strings.Join(widgets, ",") + `]}`
}

// metricWidget is a metric widget in eu-west-1 with the given metrics
// array and extra properties (a JSON fragment, possibly empty).
func metricWidget(metrics, extra string) string {
	if extra != "" {
		extra = "," + extra
	}
	return `{"type":"metric","properties":{"region":"eu-west-1","metrics":` + metrics + extra + `}}`
}

// putDashboard puts a dashboard and fails the test on error.
func (e *env) putDashboard(name, body string) *cloudwatch.PutDashboardOutput {
	e.t.Helper()
	out, err := e.cw.PutDashboard(e.ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String(name), DashboardBody: aws.String(body)})
	if err != nil {
		e.t.Fatalf("PutDashboard %s: %v", name, err)
	}
	return out
}

// validationMessages returns a PutDashboard failure's validation messages
// as "path: message" lines: over the wire from the SDK's typed
// DashboardInvalidInputError, which it must be; in process from the
// members of the model's error, which are what the wire layer sends.
func (e *env) validationMessages(err error) []string {
	e.t.Helper()
	var out []string
	var typed *types.DashboardInvalidInputError
	var ae *api.Error
	switch {
	case errors.As(err, &typed):
		for _, m := range typed.DashboardValidationMessages {
			out = append(out, aws.ToString(m.DataPath)+": "+aws.ToString(m.Message))
		}
	case e.overHTTP:
		e.t.Fatalf("got %T (%v), want the SDK's *types.DashboardInvalidInputError", err, err)
	case errors.As(err, &ae):
		list, _ := ae.Members["dashboardValidationMessages"].([]any)
		for _, item := range list {
			m, _ := item.(map[string]any)
			out = append(out, fmt.Sprint(m["DataPath"])+": "+fmt.Sprint(m["Message"]))
		}
	default:
		e.t.Fatalf("got %T (%v), want an AWS error", err, err)
	}
	return out
}

func testADashboardIsGlobalAndKeepsItsBodyAsPut(t *testing.T, backend Backend) {
	e := newEnv(t, backend)
	// Spacing and key order are the caller's: GetDashboard gives back the
	// bytes that were put, not a re-encoding.
	body := "{ \"widgets\": [\n  " + cpuWidget + "\n ], \"start\": \"-PT6H\" }"
	out := e.putDashboard("ops-view", body)
	if len(out.DashboardValidationMessages) != 0 {
		t.Errorf("a valid body got validation messages %+v", out.DashboardValidationMessages)
	}
	other := e.client("us-east-1")
	got, err := other.GetDashboard(api.WithRequest(context.Background(), api.Request{Region: "us-east-1"}), &cloudwatch.GetDashboardInput{DashboardName: aws.String("ops-view")})
	if err != nil {
		t.Fatalf("GetDashboard from another region: %v", err)
	}
	wantARN := "arn:aws:cloudwatch::" + e.world.Account() + ":dashboard/ops-view"
	if aws.ToString(got.DashboardBody) != body || aws.ToString(got.DashboardName) != "ops-view" || aws.ToString(got.DashboardArn) != wantARN {
		t.Errorf("GetDashboard = %s %s %q, want ops-view %s and the body as put", aws.ToString(got.DashboardName), aws.ToString(got.DashboardArn), aws.ToString(got.DashboardBody), wantARN)
	}

	replacement := withWidgets(`{"type":"text","properties":{"markdown":"Created by script; do not edit"}}`)
	e.putDashboard("ops-view", replacement)
	if b, ok := e.model.Dashboard("ops-view"); !ok || b != replacement {
		t.Errorf("after a second PutDashboard the body is %q, want the whole of the new one", b)
	}

	_, err = e.cw.GetDashboard(e.ctx, &cloudwatch.GetDashboardInput{DashboardName: aws.String("nope")})
	wantCode(t, err, "ResourceNotFound")
	var notFound *types.DashboardNotFoundError
	if e.overHTTP && !errors.As(err, &notFound) {
		t.Errorf("got %T, want the SDK's *types.DashboardNotFoundError", err)
	}
}

func testPutDashboardRefusesBadNamesAndTags(t *testing.T, backend Backend) {
	e := newEnv(t, backend)
	body := withWidgets()
	cases := []struct {
		name string
		in   cloudwatch.PutDashboardInput
		code string
	}{
		{"a name is required", cloudwatch.PutDashboardInput{DashboardBody: aws.String(body)}, "MissingParameter"},
		{"an empty name is refused", cloudwatch.PutDashboardInput{DashboardName: aws.String(""), DashboardBody: aws.String(body)}, "InvalidParameterValue"},
		{"a space is not a name character", cloudwatch.PutDashboardInput{DashboardName: aws.String("my dashboard"), DashboardBody: aws.String(body)}, "InvalidParameterValue"},
		{"a colon is not a name character", cloudwatch.PutDashboardInput{DashboardName: aws.String("test:invalid"), DashboardBody: aws.String(body)}, "InvalidParameterValue"},
		{"a dot is not a name character", cloudwatch.PutDashboardInput{DashboardName: aws.String("a.b"), DashboardBody: aws.String(body)}, "InvalidParameterValue"},
		{"names are at most 255 characters", cloudwatch.PutDashboardInput{DashboardName: aws.String(strings.Repeat("d", 256)), DashboardBody: aws.String(body)}, "InvalidParameterValue"},
		{"a body is required", cloudwatch.PutDashboardInput{DashboardName: aws.String("d")}, "MissingParameter"},
		{"tags are refused, the local cloud does not keep them", cloudwatch.PutDashboardInput{DashboardName: aws.String("d"), DashboardBody: aws.String(body),
			Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("ops")}}}, "InvalidParameterValue"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.cw.PutDashboard(e.ctx, &tc.in)
			wantCode(t, err, tc.code)
			if _, ok := e.model.Dashboard(aws.ToString(tc.in.DashboardName)); ok {
				t.Errorf("the refused dashboard was stored")
			}
		})
	}
	t.Run("the message for a bad character is CloudWatch's", func(t *testing.T) {
		_, err := e.cw.PutDashboard(e.ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String("a b"), DashboardBody: aws.String(body)})
		if err == nil || !strings.Contains(err.Error(), "It can only contain alphanumerics, dash (-) and underscore (_).") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("a 255-character name of every allowed character is accepted", func(t *testing.T) {
		name := "AZaz09-_" + strings.Repeat("x", 247)
		e.putDashboard(name, body)
		if _, ok := e.model.Dashboard(name); !ok {
			t.Errorf("the dashboard was not stored")
		}
	})
}

// documentedBodies are the examples of "Dashboard Body Structure and
// Syntax", which CloudWatch accepts as they are.
var documentedBodies = map[string]string{
	"a metric and a text widget": `{"start":"-PT6H","periodOverride":"inherit","widgets":[` + cpuWidget +
		`,{"type":"text","x":0,"y":7,"width":3,"height":3,"properties":{"markdown":"Hello world"}}]}`,
	"two metrics, a math expression and a search": `{"start":"-PT9H","periodOverride":"inherit","widgets":[
		{"type":"metric","x":0,"y":0,"width":12,"height":6,"properties":{"metrics":[
			["AWS/EC2","DiskReadBytes","InstanceId","i-123",{"id":"m1"}],
			[".",".",".","i-abc",{"id":"m2"}],
			[{"expression":"SUM(METRICS())","label":"Sum of DiskReadbytes","id":"e3"}]],
			"view":"timeSeries","stacked":false,"period":300,"stat":"Average","region":"us-east-1","title":"EC2 Instance CPU"}},
		{"type":"metric","x":0,"y":0,"width":18,"height":9,"properties":{"metrics":[
			[{"expression":"SEARCH('{AWS/EC2,InstanceId} MetricName=\"CPUUtilization\"', 'Average', 300)","id":"e1"}]],
			"view":"timeSeries","stacked":false,"region":"us-east-1","title":"EC2 Instance CPU"}}]}`,
	"variables of each kind": `{"widgets":[],"variables":[
		{"type":"property","property":"region","inputType":"select","id":"unique_id_1","label":"Region","defaultValue":"us-east-1","visible":true,
			"values":[{"label":"IAD","value":"us-east-1"},{"label":"CMH","value":"us-east-2"}]},
		{"type":"pattern","pattern":"originalFuncNameInDashboard","inputType":"radio","id":"functionName","label":"Function","visible":true,
			"search":"{AWS/Lambda,FunctionName} MetricName=\"Duration\"","populateFrom":"FunctionName","defaultValue":"__FIRST"}]}`,
	"a stacked graph with rendering properties and a horizontal annotation": `{"widgets":[{"type":"metric","x":0,"y":0,"width":12,"height":6,"properties":{
		"metrics":[["AWS/EC2","CPUUtilization","InstanceId","i-012345"],
			["AWS/EC2","NetworkIn","InstanceId","i-012345",{"yAxis":"right","label":"NetworkIn","period":3600,"stat":"Maximum"}]],
		"period":300,"stat":"Average","region":"us-east-1","timezone":"+0300","title":"EC2 Instance CPU","stacked":true,"view":"timeSeries","liveData":false,
		"yAxis":{"left":{"min":0,"max":100},"right":{"min":50}},
		"annotations":{"horizontal":[{"visible":true,"color":"#9467bd","label":"Critical range","value":20,"fill":"above","yAxis":"right"},
			[{"label":"Band top","value":200},{"value":95.5,"label":"Band bottom"}]],
			"vertical":[{"visible":true,"color":"#9467bd","label":"Bug fix deployed","value":"2018-08-28T15:25:26Z","fill":"after"}]}}}]}`,
	"a gauge with its range": `{"widgets":[{"type":"metric","x":18,"y":60,"width":6,"height":6,"properties":{
		"metrics":[["CWAgent","disk_inodes_used","path","/dev/shm","InstanceId","i-012345"]],"view":"gauge","title":"Disk Inodes Used","region":"us-east-1",
		"yAxis":{"left":{"min":0,"max":100}}}}]}`,
	"an alarm annotation instead of metrics": `{"widgets":[{"type":"metric","properties":{"region":"us-east-1","annotations":{"alarms":["arn:aws:cloudwatch:us-east-1:012345678901:alarm:EC2FrontendCPU"]}}}]}`,
	"a logs insights table": `{"widgets":[{"type":"log","x":12,"y":24,"width":12,"height":6,"properties":{"region":"us-east-1","title":"Errors (Application Log)",
		"query":"SOURCE 'application1.log' | filter @message like \"[ERROR]\"","view":"table"}}]}`,
	"an alarm status widget": `{"widgets":[{"type":"alarm","x":0,"y":0,"width":12,"height":6,"properties":{
		"alarms":["arn:aws:cloudwatch:us-east-1:012345678901:alarm:EC2FrontendCPU","arn:aws:cloudwatch:eu-west-1:987654321098:alarm:EC2BackendCPU"],
		"sortBy":"stateUpdatedTimestamp","states":["ALARM","INSUFFICIENT_DATA"],"title":"EC2 alarms that are not currently OK"}}]}`,
	"a metrics explorer widget": `{"widgets":[{"type":"explorer","width":24,"height":15,"x":0,"y":0,"properties":{
		"metrics":[{"metricName":"CPUUtilization","resourceType":"AWS::EC2::Instance","stat":"Average"},{"metricName":"NetworkIn","resourceType":"AWS::EC2::Instance","stat":"Average"}],
		"aggregateBy":{"key":"InstanceType","func":"MAX"},"labels":[{"key":"State","value":"running"}],
		"widgetOptions":{"legend":{"position":"bottom"},"view":"timeSeries","rowsPerPage":8,"widgetsPerRow":2},"period":300,"splitBy":"AvailabilityZone","title":"Running EC2 Instances by AZ"}}]}`,
	"an absolute time range": `{"start":"2018-12-17T06:00:00.000Z","end":"2018-12-17T12:00:00.000Z","widgets":[]}`,
}

func testPutDashboardAcceptsTheDocumentedExamples(t *testing.T, backend Backend) {
	e := newEnv(t, backend)
	for _, name := range slices.Sorted(maps.Keys(documentedBodies)) {
		t.Run(name, func(t *testing.T) {
			out, err := e.cw.PutDashboard(e.ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String("example"), DashboardBody: aws.String(documentedBodies[name])})
			if err != nil {
				t.Fatalf("PutDashboard: %v", err)
			}
			if len(out.DashboardValidationMessages) != 0 {
				t.Errorf("warnings %+v", out.DashboardValidationMessages)
			}
		})
	}
}

// invalidBodies pair a body with the validation messages CloudWatch's
// DashboardInvalidInputError carries for it, as "path: message" prefixes.
var invalidBodies = []struct {
	name, body string
	want       []string
}{
	{"the widgets array is required", `{}`, []string{": Should have required property 'widgets'"}},
	{"widgets is an array", `{"widgets":{}}`, []string{"/widgets: Should be array"}},
	{"at most 500 widgets", withWidgets(strings.TrimSuffix(strings.Repeat(`{"type":"text","properties":{"markdown":"x"}},`, 501), ",")), []string{"/widgets: Should NOT have more than 500 items"}},
	{"a widget is an object", withWidgets(`"metric"`), []string{"/widgets/0: Should be object"}},
	{"a widget type is one of the documented ones", withWidgets(`{"type":"chart","properties":{}}`), []string{"/widgets/0/type: Should be equal to one of the allowed values"}},
	{"a widget needs properties", withWidgets(`{"type":"text"}`), []string{"/widgets/0: Should have required property 'properties'"}},
	{"x is a column of the 24-column grid", withWidgets(`{"type":"text","x":24,"y":0,"properties":{"markdown":"x"}}`), []string{"/widgets/0/x: Should be <= 23"}},
	{"x is a whole number", withWidgets(`{"type":"text","x":1.5,"y":0,"properties":{"markdown":"x"}}`), []string{"/widgets/0/x: Should be integer"}},
	{"y is not negative", withWidgets(`{"type":"text","x":0,"y":-1,"properties":{"markdown":"x"}}`), []string{"/widgets/0/y: Should be >= 0"}},
	{"x needs y", withWidgets(`{"type":"text","x":0,"properties":{"markdown":"x"}}`), []string{"/widgets/0: Should have property y when property x is present"}},
	{"y needs x", withWidgets(`{"type":"text","y":0,"properties":{"markdown":"x"}}`), []string{"/widgets/0: Should have property x when property y is present"}},
	{"a widget is at most 24 columns wide", withWidgets(`{"type":"text","width":25,"properties":{"markdown":"x"}}`), []string{"/widgets/0/width: Should be <= 24"}},
	{"a widget is at least one row high", withWidgets(`{"type":"text","height":0,"properties":{"markdown":"x"}}`), []string{"/widgets/0/height: Should be >= 1"}},
	{"a widget is at most 1000 rows high", withWidgets(`{"type":"text","height":1001,"properties":{"markdown":"x"}}`), []string{"/widgets/0/height: Should be <= 1000"}},
	{"a text widget needs markdown", withWidgets(`{"type":"text","properties":{}}`), []string{"/widgets/0/properties: Should have required property 'markdown'"}},
	{"a metric widget needs a region", withWidgets(`{"type":"metric","properties":{"metrics":[["AWS/EC2","CPUUtilization"]]}}`), []string{"/widgets/0/properties: Should have required property 'region'"}},
	{"a metric widget needs metrics or an alarm annotation", withWidgets(`{"type":"metric","properties":{"region":"eu-west-1"}}`),
		[]string{"/widgets/0/properties: The metric widget should have specified a region and a data source or an alarm annotation."}},
	{"metrics is an array of arrays", withWidgets(metricWidget(`["AWS/Lambda","Invocations","FunctionName","f"]`, "")),
		[]string{"/widgets/0/properties/metrics/0: Should be array", "/widgets/0/properties/metrics/1: Should be array", "/widgets/0/properties/metrics/2: Should be array", "/widgets/0/properties/metrics/3: Should be array"}},
	{"a dimension value is a string", withWidgets(metricWidget(`[["AWS/EC2","CPUUtilization","InstanceId",12345]]`, "")),
		[]string{`/widgets/0/properties/metrics/0/3: Invalid metric field type, only "String" type is allowed`}},
	{"only the last item of a metric is an object", withWidgets(metricWidget(`[["AWS/Lambda","Invocations",{"stat":"Sum"},{"FunctionName":"f"}]]`, "")),
		[]string{`/widgets/0/properties/metrics/0/2: Invalid metric field type, only "String" type is allowed`}},
	{"dimensions are not a rendering property", withWidgets(metricWidget(`[["AWS/Lambda","Duration",{"stat":"Sum","dimensions":{"FunctionName":"f"}}]]`, "")),
		[]string{`/widgets/0/properties/metrics/0/2/dimensions: "dimensions" is not a rendering property`}},
	{"a metric has a namespace and a name", withWidgets(metricWidget(`[["AWS/EC2"]]`, "")), []string{"/widgets/0/properties/metrics/0: Should NOT have fewer than 2 items"}},
	{"a dimension name has a value", withWidgets(metricWidget(`[["AWS/EC2","CPUUtilization","InstanceId"]]`, "")), []string{`/widgets/0/properties/metrics/0: The dimension name "InstanceId" has no value`}},
	{`"." needs a previous metric`, withWidgets(metricWidget(`[[".","CPUUtilization"]]`, "")), []string{`/widgets/0/properties/metrics/0: "." repeats`}},
	{`"..." needs a previous metric with enough fields`, withWidgets(metricWidget(`[["AWS/EC2","CPUUtilization"],["...","InstanceId","i-1"]]`, "")), []string{`/widgets/0/properties/metrics/1: "..." repeats`}},
	{"an expression entry has an expression", withWidgets(metricWidget(`[[{"id":"e1","label":"sum"}]]`, "")), []string{"/widgets/0/properties/metrics/0/0: Should have required property 'expression'"}},
	{"an expression entry stands alone", withWidgets(metricWidget(`[[{"expression":"SUM(METRICS())"},"AWS/EC2"]]`, "")), []string{"/widgets/0/properties/metrics/0: Should NOT have more than 1 items"}},
	{"a metric id starts with a lowercase letter", withWidgets(metricWidget(`[["AWS/EC2","CPUUtilization",{"id":"M1"}]]`, "")), []string{"/widgets/0/properties/metrics/0/2/id: Should be an id"}},
	{"a widget period is 1, 5, 10, 30 or a multiple of 60", withWidgets(metricWidget(`[["AWS/EC2","CPUUtilization"]]`, `"period":45`)), []string{"/widgets/0/properties/period: Should be 1, 5, 10, 30 or a multiple of 60"}},
	{"a metric period is 1, 5, 10, 30 or a multiple of 60", withWidgets(metricWidget(`[["AWS/EC2","CPUUtilization",{"period":90}]]`, "")), []string{"/widgets/0/properties/metrics/0/2/period: Should be 1, 5, 10, 30 or a multiple of 60"}},
	{"a statistic is a CloudWatch statistic", withWidgets(metricWidget(`[["AWS/EC2","CPUUtilization"]]`, `"stat":"Avg"`)), []string{"/widgets/0/properties/stat: Should be a valid CloudWatch statistic"}},
	{"a view is one of the documented ones", withWidgets(metricWidget(`[["AWS/EC2","CPUUtilization"]]`, `"view":"line"`)), []string{"/widgets/0/properties/view: Should be equal to one of the allowed values"}},
	{"stacked is a boolean", withWidgets(metricWidget(`[["AWS/EC2","CPUUtilization"]]`, `"stacked":"yes"`)), []string{"/widgets/0/properties/stacked: Should be boolean"}},
	{"at most 500 metrics a widget", withWidgets(metricWidget(`[`+strings.TrimSuffix(strings.Repeat(`["AWS/EC2","CPUUtilization"],`, 501), ",")+`]`, "")),
		[]string{"/widgets/0/properties/metrics: Should NOT have more than 500 items"}},
	{"an alarm annotation excludes metrics", withWidgets(metricWidget(`[["AWS/EC2","CPUUtilization"]]`, `"annotations":{"alarms":["arn:aws:cloudwatch:eu-west-1:123456789012:alarm:cpu"]}`)),
		[]string{"/widgets/0/properties/metrics: A widget with an alarm annotation cannot also have a metrics array"}},
	{"a horizontal annotation has a numeric value", withWidgets(metricWidget(`[["AWS/EC2","CPUUtilization"]]`, `"annotations":{"horizontal":[{"label":"limit"}]}`)),
		[]string{"/widgets/0/properties/annotations/horizontal/0: Should have required property 'value'"}},
	{"an alarm widget lists alarm ARNs", withWidgets(`{"type":"alarm","properties":{"alarms":["cpu-high"]}}`), []string{"/widgets/0/properties/alarms/0: Should be a CloudWatch alarm ARN"}},
	{"an alarm widget lists at least one alarm", withWidgets(`{"type":"alarm","properties":{"alarms":[]}}`), []string{"/widgets/0/properties/alarms: Should NOT have fewer than 1 items"}},
	{"a log widget needs a query", withWidgets(`{"type":"log","properties":{"region":"eu-west-1"}}`), []string{"/widgets/0/properties: Should have required property 'query'"}},
	{"an explorer widget keeps to one resource type", withWidgets(`{"type":"explorer","properties":{"labels":[],"metrics":[{"metricName":"CPUUtilization","resourceType":"AWS::EC2::Instance"},{"metricName":"Errors","resourceType":"AWS::Lambda::Function"}]}}`),
		[]string{"/widgets/0/properties/metrics/1/resourceType: All metrics of an explorer widget should have the same resourceType"}},
	{"end needs start", `{"end":"2018-12-17T06:00:00Z","widgets":[]}`, []string{": Should have property start when property end is present"}},
	{"start is relative or a date", `{"start":"6 hours ago","widgets":[]}`, []string{"/start: Should be a relative time"}},
	{"periodOverride is auto or inherit", `{"periodOverride":"sometimes","widgets":[]}`, []string{"/periodOverride: Should be equal to one of the allowed values"}},
	{"a select variable needs values or a search", `{"widgets":[],"variables":[{"type":"property","property":"region","inputType":"select","id":"r"}]}`,
		[]string{"/variables/0: Should have required property 'values'"}},
	{"every problem is reported, in order", withWidgets(`{"type":"text","properties":{}}`, metricWidget(`[["AWS/EC2","CPUUtilization","InstanceId",1]]`, `"view":"line"`)),
		[]string{"/widgets/0/properties: Should have required property 'markdown'", "/widgets/1/properties/view: Should be equal", `/widgets/1/properties/metrics/0/3: Invalid metric field type`}},
}

func testPutDashboardRefusesAnInvalidBodyNamingEachProblem(t *testing.T, backend Backend) {
	e := newEnv(t, backend)
	for _, tc := range invalidBodies {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.cw.PutDashboard(e.ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String("bad"), DashboardBody: aws.String(tc.body)})
			wantCode(t, err, "InvalidParameterInput")
			got := e.validationMessages(err)
			if len(got) != len(tc.want) {
				t.Fatalf("validation messages:\n%s\nwant %d starting with:\n%s", strings.Join(got, "\n"), len(tc.want), strings.Join(tc.want, "\n"))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("message %d is %q, want it to start with %q", i, got[i], tc.want[i])
				}
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("The dashboard body is invalid, there are %d validation errors:", len(tc.want))) {
				t.Errorf("the error message does not read as CloudWatch's: %v", err)
			}
			if _, ok := e.model.Dashboard("bad"); ok {
				t.Errorf("the invalid dashboard was stored")
			}
		})
	}
	for _, body := range []string{`{"widgets": [`, `[]`, `"widgets"`, `{"widgets":[]} {}`} {
		t.Run("a body that is not one JSON object is refused: "+body, func(t *testing.T) {
			_, err := e.cw.PutDashboard(e.ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String("bad"), DashboardBody: aws.String(body)})
			wantCode(t, err, "InvalidParameterInput")
			if !strings.Contains(err.Error(), "The field DashboardBody must be a valid JSON object") {
				t.Errorf("err = %v", err)
			}
		})
	}
}

func testPutDashboardAcceptsWhatOnlyKeepsAGraphFromRenderingWithWarnings(t *testing.T, backend Backend) {
	e := newEnv(t, backend)
	body := withWidgets(
		metricWidget(`[["AWS/EC2","CPUUtilization"]]`, `"view":"gauge"`),
		metricWidget(`[["AWS/EC2","CPUUtilization","InstanceId","i-1","InstanceId","i-2"]]`, ""),
	)
	out := e.putDashboard("warned", body)
	var got []string
	for _, m := range out.DashboardValidationMessages {
		got = append(got, aws.ToString(m.DataPath)+": "+aws.ToString(m.Message))
	}
	want := []string{
		"/widgets/0/properties: A gauge needs yAxis.left.min and yAxis.left.max",
		"/widgets/1/properties/metrics/0: The dimension InstanceId appears twice",
	}
	if len(got) != len(want) {
		t.Fatalf("warnings %q, want %d", got, len(want))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("warning %d is %q, want it to start with %q", i, got[i], want[i])
		}
	}
	if b, ok := e.model.Dashboard("warned"); !ok || b != body {
		t.Errorf("a body with warnings only was not stored")
	}
}

func testListDashboardsFiltersByPrefixAndReportsSizeAndLastModified(t *testing.T, backend Backend) {
	e := newEnv(t, backend)
	bodies := map[string]string{"web-latency": withWidgets(cpuWidget), "api": withWidgets(), "web-errors": withWidgets(cpuWidget, cpuWidget)}
	put := map[string]time.Time{}
	for _, n := range []string{"web-latency", "api", "web-errors"} {
		e.putDashboard(n, bodies[n])
		put[n] = e.clk.Now()
		e.clk.Advance(time.Minute)
	}
	e.putDashboard("api", bodies["api"])
	put["api"] = e.clk.Now()

	list := func(prefix *string) []types.DashboardEntry {
		t.Helper()
		out, err := e.cw.ListDashboards(e.ctx, &cloudwatch.ListDashboardsInput{DashboardNamePrefix: prefix})
		if err != nil {
			t.Fatalf("ListDashboards: %v", err)
		}
		if out.NextToken != nil {
			t.Errorf("a short list has a NextToken")
		}
		return out.DashboardEntries
	}
	entries := list(nil)
	var names []string
	for _, d := range entries {
		n := aws.ToString(d.DashboardName)
		names = append(names, n)
		if aws.ToInt64(d.Size) != int64(len(bodies[n])) {
			t.Errorf("%s: Size = %d, want the body's %d bytes", n, aws.ToInt64(d.Size), len(bodies[n]))
		}
		if !aws.ToTime(d.LastModified).Equal(put[n]) {
			t.Errorf("%s: LastModified = %s, want the time of its last PutDashboard %s", n, aws.ToTime(d.LastModified), put[n])
		}
		if aws.ToString(d.DashboardArn) != "arn:aws:cloudwatch::"+e.world.Account()+":dashboard/"+n {
			t.Errorf("%s: ARN %s", n, aws.ToString(d.DashboardArn))
		}
	}
	if want := []string{"api", "web-errors", "web-latency"}; !reflect.DeepEqual(names, want) {
		t.Errorf("names %v, want %v sorted", names, want)
	}
	if got := list(aws.String("web-")); len(got) != 2 || aws.ToString(got[0].DashboardName) != "web-errors" {
		t.Errorf("prefix web- lists %+v", got)
	}
	if got := list(aws.String("nope")); len(got) != 0 {
		t.Errorf("prefix nope lists %+v", got)
	}
	_, err := e.cw.ListDashboards(e.ctx, &cloudwatch.ListDashboardsInput{DashboardNamePrefix: aws.String("web latency")})
	wantCode(t, err, "InvalidParameterValue")
	_, err = e.cw.ListDashboards(e.ctx, &cloudwatch.ListDashboardsInput{NextToken: aws.String("page-2")})
	wantCode(t, err, "InvalidParameterValue")
}

func testListDashboardsPagesAThousandAtATime(t *testing.T, backend Backend) {
	e := newEnv(t, backend)
	body := withWidgets()
	for i := range 1001 {
		e.putDashboard(fmt.Sprintf("d%04d", i), body)
	}
	pages := cloudwatch.NewListDashboardsPaginator(e.cw, &cloudwatch.ListDashboardsInput{})
	var sizes []int
	var last string
	for pages.HasMorePages() {
		p, err := pages.NextPage(e.ctx)
		if err != nil {
			t.Fatalf("page %d: %v", len(sizes)+1, err)
		}
		sizes = append(sizes, len(p.DashboardEntries))
		for _, d := range p.DashboardEntries {
			if n := aws.ToString(d.DashboardName); n <= last {
				t.Fatalf("%s listed after %s", n, last)
			} else {
				last = n
			}
		}
	}
	if !reflect.DeepEqual(sizes, []int{1000, 1}) || last != "d1000" {
		t.Errorf("pages of %v ending at %s, want 1000 then 1 ending at d1000", sizes, last)
	}
}

func testDeleteDashboardsDeletesNothingWhenADashboardIsUnknown(t *testing.T, backend Backend) {
	e := newEnv(t, backend)
	e.putDashboard("a", withWidgets())
	e.putDashboard("b", withWidgets())
	_, err := e.cw.DeleteDashboards(e.ctx, &cloudwatch.DeleteDashboardsInput{DashboardNames: []string{"a", "nope"}})
	wantCode(t, err, "ResourceNotFound")
	if !strings.Contains(err.Error(), "nope") {
		t.Errorf("the error does not name the unknown dashboard: %v", err)
	}
	var notFound *types.DashboardNotFoundError
	if e.overHTTP && !errors.As(err, &notFound) {
		t.Errorf("got %T, want the SDK's *types.DashboardNotFoundError", err)
	}
	if _, ok := e.model.Dashboard("a"); !ok {
		t.Fatalf("a was deleted although the call failed")
	}
	if _, err := e.cw.DeleteDashboards(e.ctx, &cloudwatch.DeleteDashboardsInput{DashboardNames: []string{"a", "b"}}); err != nil {
		t.Fatalf("DeleteDashboards: %v", err)
	}
	out, err := e.cw.ListDashboards(e.ctx, &cloudwatch.ListDashboardsInput{})
	if err != nil || len(out.DashboardEntries) != 0 {
		t.Errorf("after deleting both, ListDashboards = %+v, %v", out, err)
	}
	_, err = e.cw.DeleteDashboards(e.ctx, &cloudwatch.DeleteDashboardsInput{DashboardNames: make([]string, 101)})
	wantCode(t, err, "InvalidParameterValue")
}

func TestDashboardMetricsExpandsShorthandsAndAppliesWidgetDefaults(t *testing.T) {
	body := withWidgets(
		`{"type":"text","properties":{"markdown":"# Fleet"}}`,
		`{"type":"metric","properties":{"title":"Disk reads","region":"eu-west-1","stat":"Sum","period":60,"metrics":[
			["AWS/EC2","DiskReadBytes","InstanceId","i-1",{"id":"m1"}],
			[".",".",".","i-2",{"label":"second","stat":"p99"}],
			["...","i-3",{"period":3600,"region":"us-east-1"}],
			[{"expression":"SUM(METRICS())","id":"e1"}],
			["AWS/EC2","CPUUtilization"]]}}`,
		`{"type":"metric","properties":{"region":"eu-west-1","metrics":[["Phoenix","Errors","Service","web","Stage","prod"]]}}`,
	)
	got, err := DashboardMetrics(body)
	if err != nil {
		t.Fatal(err)
	}
	disk := func(id string) map[string]string { return map[string]string{"InstanceId": id} }
	want := []DashboardMetric{
		{Widget: 1, Title: "Disk reads", Region: "eu-west-1", Namespace: "AWS/EC2", MetricName: "DiskReadBytes", Dimensions: disk("i-1"), Stat: "Sum", Period: 60},
		{Widget: 1, Title: "Disk reads", Region: "eu-west-1", Namespace: "AWS/EC2", MetricName: "DiskReadBytes", Dimensions: disk("i-2"), Stat: "p99", Period: 60, Label: "second"},
		{Widget: 1, Title: "Disk reads", Region: "us-east-1", Namespace: "AWS/EC2", MetricName: "DiskReadBytes", Dimensions: disk("i-3"), Stat: "Sum", Period: 3600},
		{Widget: 1, Title: "Disk reads", Region: "eu-west-1", Namespace: "AWS/EC2", MetricName: "CPUUtilization", Dimensions: map[string]string{}, Stat: "Sum", Period: 60},
		{Widget: 2, Region: "eu-west-1", Namespace: "Phoenix", MetricName: "Errors", Dimensions: map[string]string{"Service": "web", "Stage": "prod"}, Stat: "Average", Period: 300},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%+v\nwant\n%+v", got, want)
	}
}

func TestDashboardMetricsRefusesWhatPutDashboardRefuses(t *testing.T) {
	for _, tc := range invalidBodies {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DashboardMetrics(tc.body)
			var bodyErr *DashboardBodyError
			if !errors.As(err, &bodyErr) || len(bodyErr.Messages) != len(tc.want) {
				t.Errorf("err = %v, want a *DashboardBodyError with %d messages", err, len(tc.want))
			}
		})
	}
	_, err := DashboardMetrics("not json")
	var bodyErr *DashboardBodyError
	if !errors.As(err, &bodyErr) || len(bodyErr.Messages) != 0 || err.Error() != "The field DashboardBody must be a valid JSON object" {
		t.Errorf("err = %v, want the not-a-JSON-object error", err)
	}
}

// The demo computes each widget's figures by asking GetMetricData for the
// metrics DashboardMetrics finds: Query must name the metric as stored.
func TestADashboardMetricsQueryFetchesItsFiguresWithGetMetricData(t *testing.T) {
	e := newEnv(t, InProcess)
	e.put(4)
	e.clk.Advance(time.Minute)
	e.put(6)
	e.clk.Advance(time.Minute)
	metrics, err := DashboardMetrics(withWidgets(metricWidget(`[["`+testNS+`","`+testMetric+`","Service","web",{"stat":"Sum","period":60,"label":"errors"}]]`, "")))
	if err != nil || len(metrics) != 1 {
		t.Fatalf("DashboardMetrics = %+v, %v", metrics, err)
	}
	q := metrics[0].Query("m0")
	if aws.ToString(q.Label) != "errors" || aws.ToString(q.MetricStat.Stat) != "Sum" || aws.ToInt32(q.MetricStat.Period) != 60 {
		t.Errorf("query %+v", q)
	}
	out, err := e.cw.GetMetricData(e.ctx, &cloudwatch.GetMetricDataInput{
		MetricDataQueries: []types.MetricDataQuery{q},
		StartTime:         aws.Time(e.clk.Now().Add(-10 * time.Minute)), EndTime: aws.Time(e.clk.Now()),
		ScanBy: types.ScanByTimestampAscending,
	})
	if err != nil {
		t.Fatalf("GetMetricData: %v", err)
	}
	if got := out.MetricDataResults[0].Values; !reflect.DeepEqual(got, []float64{4, 6}) {
		t.Errorf("values %v, want [4 6]", got)
	}
}

func TestADashboardMetricsQuerySortsDimensionsByName(t *testing.T) {
	q := DashboardMetric{Namespace: "n", MetricName: "m", Dimensions: map[string]string{"b": "2", "a": "1", "c": "3"}, Stat: "Average", Period: 300}.Query("q")
	var names []string
	for _, d := range q.MetricStat.Metric.Dimensions {
		names = append(names, aws.ToString(d.Name))
	}
	if !reflect.DeepEqual(names, []string{"a", "b", "c"}) || q.Label != nil {
		t.Errorf("dimensions %v, label %v", names, q.Label)
	}
}

// FuzzDashboardMetrics feeds the parser arbitrary bodies: it never panics,
// refuses only with a *DashboardBodyError, and what it accepts PutDashboard
// accepts too, each metric a namespace and a name.
func FuzzDashboardMetrics(f *testing.F) {
	for _, b := range documentedBodies {
		f.Add(b)
	}
	for _, tc := range invalidBodies {
		if len(tc.body) < 2000 {
			f.Add(tc.body)
		}
	}
	f.Add(withWidgets(metricWidget(`[["a","b","c","d"],["...","e"],[".","f",".","."]]`, "")))
	cw := New(Options{Clock: clock.NewStepped(time.Time{})})
	f.Fuzz(func(t *testing.T, body string) {
		metrics, err := DashboardMetrics(body)
		if err != nil {
			var bodyErr *DashboardBodyError
			if !errors.As(err, &bodyErr) {
				t.Fatalf("err %T %v", err, err)
			}
			return
		}
		for _, m := range metrics {
			if m.Namespace == "" || m.MetricName == "" || m.Period <= 0 || m.Stat == "" {
				t.Fatalf("accepted metric %+v", m)
			}
		}
		if _, err := cw.PutDashboard(context.Background(), &cloudwatch.PutDashboardInput{DashboardName: aws.String("f"), DashboardBody: aws.String(body)}); err != nil {
			t.Fatalf("DashboardMetrics accepted what PutDashboard refuses: %v", err)
		}
		if !json.Valid([]byte(body)) {
			t.Fatalf("accepted a body that is not JSON")
		}
	})
}
