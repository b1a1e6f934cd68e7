package eventbus

import (
	"encoding/json"
	"strings"
	"testing"
)

// transformEvent is the EC2 event of the user guide's input transformation
// page.
const transformEvent = `{"version":"0","id":"7bf73129-1428-4cd3-a780-95db273d1602","detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","account":"123456789012","time":"2015-11-11T21:29:54Z","region":"us-east-1","resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],"detail":{"instance-id":"i-0123456789","state":"RUNNING","count":5,"ok":true,"tags":{"a":"1"},"note":"x<y & z"}}`

var docPaths = map[string]string{
	"timestamp": "$.time",
	"instance":  "$.detail.instance-id",
	"state":     "$.detail.state",
	"count":     "$.detail.count",
	"tags":      "$.detail.tags",
	"note":      "$.detail.note",
	"missing":   "$.detail.nope",
	"resource":  "$.resources[0]",
	"quoted":    "$['detail']['state']",
}

func newRenderContext(t *testing.T, event string) *renderContext {
	t.Helper()
	rc := &renderContext{
		eventJSON:     []byte(event),
		ruleName:      "example",
		ruleARN:       "arn:aws:events:us-east-2:123456789012:rule/example",
		ingestionTime: "2015-11-11T21:29:55.000Z",
	}
	rc.decode()
	return rc
}

func TestInputTemplatesRenderAsTheUserGuideShows(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		template string
		want     string
	}{
		{"a simple string template fills variables", `"instance <instance> is in <state>"`, `"instance i-0123456789 is in RUNNING"`},
		{"a string with escaped quotes keeps them", `"instance \"<instance>\" is in <state>"`, `"instance \"i-0123456789\" is in RUNNING"`},
		{"variables outside strings become JSON strings", `{"instance" : <instance>, "state": <state>}`, `{"instance":"i-0123456789","state":"RUNNING"}`},
		{"variables inside strings are inserted raw", `{"instance" : <instance>, "state": "<state>", "instanceStatus": "instance \"<instance>\" is in <state>"}`, `{"instance":"i-0123456789","state":"RUNNING","instanceStatus":"instance \"i-0123456789\" is in RUNNING"}`},
		{"variables mix with static JSON", `{"instance" : <instance>, "state": [ 9, <state>, true ], "Transformed" : "Yes"}`, `{"instance":"i-0123456789","state":[9,"RUNNING",true],"Transformed":"Yes"}`},
		{"numbers stay numbers outside strings", `{"n": <count>}`, `{"n":5}`},
		{"numbers inside strings are their text", `"count <count>"`, `"count 5"`},
		{"objects are inserted as JSON", `{"tags": <tags>}`, `{"tags":{"a":"1"}}`},
		{"strings are not HTML-escaped", `{"note": <note>}`, `{"note":"x<y & z"}`},
		{"array indices select elements", `{"r": <resource>}`, `{"r":"arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"}`},
		{"bracketed member names work", `{"s": <quoted>}`, `{"s":"RUNNING"}`},
		{"a missing path gives null outside strings", `{"m": <missing>}`, `{"m":null}`},
		{"a missing path gives nothing inside strings", `"[<missing>]"`, `"[]"`},
		{"placeholders that are not variables stay as they are", `"a <b> c"`, `"a <b> c"`},
		{"the rule name is predefined", `"<aws.events.rule-name> triggered"`, `"example triggered"`},
		{"the rule ARN is predefined", `{"ruleArn": <aws.events.rule-arn>}`, `{"ruleArn":"arn:aws:events:us-east-2:123456789012:rule/example"}`},
		{"the ingestion time is predefined", `{"t": <aws.events.event.ingestion-time>}`, `{"t":"2015-11-11T21:29:55.000Z"}`},
		{"output is minified", "{\n  \"s\" :   <state>\n}", `{"s":"RUNNING"}`},
	}
	tr, err := compileTransformer(docPaths, "x")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tt := &inputTransformer{paths: tr.paths, template: tc.template}
			if got := string(tt.render(newRenderContext(t, transformEvent))); got != tc.want {
				t.Errorf("render(%s)\n got %s\nwant %s", tc.template, got, tc.want)
			}
		})
	}
}

func TestPredefinedEventVariablesDifferInTheDetailField(t *testing.T) {
	t.Parallel()
	tr, err := compileTransformer(nil, `{"e": <aws.events.event>, "j": <aws.events.event.json>}`)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		E map[string]any `json:"e"`
		J map[string]any `json:"j"`
	}
	if err := json.Unmarshal(tr.render(newRenderContext(t, transformEvent)), &out); err != nil {
		t.Fatalf("rendered input is not JSON: %v", err)
	}
	if _, ok := out.E["detail"]; ok {
		t.Error("aws.events.event carries the detail field, want the event without it")
	}
	if out.E["id"] != "7bf73129-1428-4cd3-a780-95db273d1602" {
		t.Errorf("aws.events.event id = %v, want the event's id", out.E["id"])
	}
	if _, ok := out.J["detail"]; !ok {
		t.Error("aws.events.event.json lacks the detail field, want the whole event")
	}
}

func TestJSONPathWildcardsGatherEveryMatch(t *testing.T) {
	t.Parallel()
	p, err := compileJSONPath("$.items[*].id")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := decodeJSON([]byte(`{"items":[{"id":1},{"x":2},{"id":3}]}`))
	if err != nil {
		t.Fatal(err)
	}
	v, ok := p.eval(doc)
	if got := string(marshalJSON(v)); !ok || got != "[1,3]" {
		t.Errorf("eval = %s, %v; want [1,3]", got, ok)
	}
}

func TestInvalidTransformersAreRefused(t *testing.T) {
	t.Parallel()
	many := map[string]string{}
	for i := 0; i <= maxInputVariables; i++ {
		many[strings.Repeat("v", i+1)] = "$.id"
	}
	cases := []struct {
		name     string
		paths    map[string]string
		template string
		reason   string
	}{
		{"a template is required", nil, "", "InputTemplate is required"},
		{"predefined names cannot be redefined", map[string]string{"aws.events.rule-name": "$.id"}, `"x"`, "reserved"},
		{"variable names are letters, digits, _ and -", map[string]string{"a b": "$.id"}, `"x"`, "may only contain"},
		{"paths start with $", map[string]string{"a": "detail.state"}, `"x"`, "starts with $"},
		{"paths have no empty members", map[string]string{"a": "$..state"}, `"x"`, "empty member"},
		{"at most 100 variables are allowed", many, `"x"`, "more than 100"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := compileTransformer(tc.paths, tc.template)
			if err == nil || !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("compileTransformer error = %v, want one mentioning %q", err, tc.reason)
			}
		})
	}
}
