package contract_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/phoenix-rollouts/phoenix/shared/lifecycle"
	"github.com/phoenix-rollouts/phoenix/shared/publish"
	"github.com/phoenix-rollouts/phoenix/shared/recycle"
	"github.com/phoenix-rollouts/phoenix/shared/steps"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/deploy"
)

// Phoenix watches itself (issue 14, docs/monitoring.md): these hold the
// template's alarms, key and dashboard to what the code and the other
// resources are, so that a function, state machine or metric added later
// cannot go unwatched.

// symbolic resolves a template's properties to names a test can compare:
// Ref X is "ref:X", GetAtt X.A is "getatt:X.A", parameters and pseudo
// parameters are "param:X".
type symbolic struct{ tpl *deploy.Template }

func (s symbolic) Ref(name string) (any, error) {
	if _, ok := s.tpl.Resources[name]; ok {
		return "ref:" + name, nil
	}
	return "param:" + name, nil
}

func (s symbolic) GetAtt(res, attr string) (any, error) { return "getatt:" + res + "." + attr, nil }

func (s symbolic) Condition(name string) (bool, error) {
	return deploy.EvalCondition(s.tpl.Conditions[name], s)
}

func resolved(t *testing.T, tpl *deploy.Template, res deploy.Resource) map[string]any {
	t.Helper()
	v, err := deploy.Resolve(res.Properties, symbolic{tpl})
	if err != nil {
		t.Fatalf("%s: %v", res.Name, err)
	}
	m, _ := v.(map[string]any)
	return m
}

// alarmWatch is what one alarm watches.
type alarmWatch struct {
	name, namespace, metric, dimension, on string
}

func (a alarmWatch) String() string {
	return fmt.Sprintf("%s/%s %s=%s", a.namespace, a.metric, a.dimension, a.on)
}

func healthAlarms(t *testing.T, r *repo) map[string]alarmWatch {
	t.Helper()
	out := map[string]alarmWatch{}
	for _, res := range r.tpl.OfType("AWS::CloudWatch::Alarm") {
		p := resolved(t, r.tpl, res)
		dims, _ := p["Dimensions"].([]any)
		if len(dims) != 1 {
			t.Errorf("alarm %s has %d dimensions; Phoenix's alarms watch one resource each", res.Name, len(dims))
			continue
		}
		d := dims[0].(map[string]any)
		out[res.Name] = alarmWatch{name: res.Name, namespace: fmt.Sprint(p["Namespace"]), metric: fmt.Sprint(p["MetricName"]),
			dimension: fmt.Sprint(d["Name"]), on: fmt.Sprint(d["Value"])}
		if actions := strs(p["AlarmActions"]); !slices.Equal(actions, []string{"ref:NotificationTopic"}) {
			t.Errorf("alarm %s notifies %v, want the notification topic", res.Name, actions)
		}
		if p["ActionsEnabled"] == false {
			t.Errorf("alarm %s has its actions disabled", res.Name)
		}
		// Each watched metric is a count of things that went wrong, with
		// no datapoint when nothing happened: missing data is good news.
		if p["Statistic"] != "Sum" || p["ComparisonOperator"] != "GreaterThanOrEqualToThreshold" || fmt.Sprint(p["Threshold"]) != "1" ||
			p["TreatMissingData"] != "notBreaching" {
			t.Errorf("alarm %s: Sum >= 1 with missing data not breaching expected, got %v %v %v %v",
				res.Name, p["Statistic"], p["ComparisonOperator"], p["Threshold"], p["TreatMissingData"])
		}
	}
	return out
}

func watched(alarms map[string]alarmWatch, namespace, metric, dimension, on string) bool {
	for _, a := range alarms {
		if a.namespace == namespace && a.metric == metric && a.dimension == dimension && a.on == on {
			return true
		}
	}
	return false
}

func TestPhoenixAlarmsOnItsOwnHealth(t *testing.T) {
	r := loadRepo(t)
	alarms := healthAlarms(t, r)
	for _, sm := range r.tpl.OfType("AWS::Serverless::StateMachine") {
		for _, metric := range []string{"ExecutionsFailed", "ExecutionsTimedOut"} {
			if !watched(alarms, "AWS/States", metric, "StateMachineArn", "ref:"+sm.Name) {
				t.Errorf("no alarm on %s of %s", metric, sm.Name)
			}
		}
	}
	// A function an event invokes has no state machine to catch its error:
	// the event is lost after Lambda's retries, so each error counts.
	for _, fn := range r.tpl.OfType("AWS::Serverless::Function") {
		events, _ := fn.Properties["Events"].(map[string]any)
		if len(events) == 0 {
			continue
		}
		if !watched(alarms, "AWS/Lambda", "Errors", "FunctionName", "ref:"+fn.Name) {
			t.Errorf("no alarm on the errors of %s, which events invoke", fn.Name)
		}
	}
	for _, metric := range []string{"ReadThrottleEvents", "WriteThrottleEvents"} {
		if !watched(alarms, "AWS/DynamoDB", metric, "TableName", "ref:LedgerTable") {
			t.Errorf("no alarm on the ledger's %s", metric)
		}
	}
}

// policyStatements returns the policy statements of a function or state machine
// (inline documents of its Policies).
func policyStatements(t *testing.T, p map[string]any) []map[string]any {
	t.Helper()
	var out []map[string]any
	policies, _ := p["Policies"].([]any)
	for _, pol := range policies {
		doc, _ := pol.(map[string]any)
		list, _ := doc["Statement"].([]any)
		for _, s := range list {
			out = append(out, s.(map[string]any))
		}
	}
	return out
}

func allows(stmts []map[string]any, action, resource string) bool {
	for _, s := range stmts {
		if s["Effect"] == "Allow" && slices.Contains(strs(s["Action"]), action) && slices.Contains(strs(s["Resource"]), resource) {
			return true
		}
	}
	return false
}

func TestTheTopicTakesCloudWatchAlarmsAndEveryPublisherCanUseItsKey(t *testing.T) {
	r := loadRepo(t)
	topic := resolved(t, r.tpl, r.tpl.Resources["NotificationTopic"])
	keyRef, _ := topic["KmsMasterKeyId"].(string)
	key, ok := strings.CutPrefix(keyRef, "ref:")
	if !ok || r.tpl.Resources[key].Type != "AWS::KMS::Key" {
		t.Fatalf("the topic's KmsMasterKeyId is %q, not a key of the template: CloudWatch alarms cannot publish to a topic under the AWS managed key", keyRef)
	}
	kp := resolved(t, r.tpl, r.tpl.Resources[key])["KeyPolicy"].(map[string]any)
	var admitsCloudWatch bool
	for _, s := range kp["Statement"].([]any) {
		st := s.(map[string]any)
		principal, _ := st["Principal"].(map[string]any)
		acts := strs(st["Action"])
		if st["Effect"] == "Allow" && slices.Contains(strs(principal["Service"]), "cloudwatch.amazonaws.com") &&
			slices.Contains(acts, "kms:Decrypt") && slices.Contains(acts, "kms:GenerateDataKey*") {
			admitsCloudWatch = true
		}
	}
	if !admitsCloudWatch {
		t.Errorf("%s's policy does not let cloudwatch.amazonaws.com encrypt for the topic", key)
	}
	publishers := 0
	for _, typ := range []string{"AWS::Serverless::Function", "AWS::Serverless::StateMachine"} {
		for _, res := range r.tpl.OfType(typ) {
			stmts := policyStatements(t, resolved(t, r.tpl, res))
			if !allows(stmts, "sns:Publish", "ref:NotificationTopic") {
				continue
			}
			publishers++
			for _, action := range []string{"kms:GenerateDataKey", "kms:Decrypt"} {
				if !allows(stmts, action, "getatt:"+key+".Arn") {
					t.Errorf("%s publishes to the topic without %s on its key: SNS would refuse with KMSAccessDenied", res.Name, action)
				}
			}
			// The key is for SNS's use on the role's behalf, never the
			// role's own: every grant of it is held to kms:ViaService.
			for _, st := range stmts {
				if !slices.Contains(strs(st["Resource"]), "getatt:"+key+".Arn") {
					continue
				}
				cond, _ := st["Condition"].(map[string]any)
				eq, _ := cond["StringEquals"].(map[string]any)
				if via := strs(eq["kms:ViaService"]); !slices.Equal(via, []string{"sns.param:AWS::Region.amazonaws.com"}) {
					t.Errorf("%s's statement %v on the key is not held to kms:ViaService sns.<region>.amazonaws.com (got %v)", res.Name, st["Sid"], via)
				}
			}
		}
	}
	if publishers == 0 {
		t.Error("no role publishes to the topic: the check above read nothing")
	}
}

// dashboardMetric is one metric line of a dashboard widget.
type dashboardMetric struct {
	widget, namespace, name string
	dims                    map[string]string
}

func dashboard(t *testing.T, r *repo) (metrics []dashboardMetric, alarms []string) {
	t.Helper()
	dash := r.tpl.OfType("AWS::CloudWatch::Dashboard")
	if len(dash) != 1 {
		t.Fatalf("%d dashboards in the template, want 1", len(dash))
	}
	body, ok := resolved(t, r.tpl, dash[0])["DashboardBody"].(string)
	if !ok {
		t.Fatal("the dashboard's body is not a string")
	}
	var doc struct {
		Widgets []struct {
			Type       string
			Properties struct {
				Title   string
				Metrics [][]any
				Alarms  []string
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("the dashboard's body is not JSON: %v", err)
	}
	for _, w := range doc.Widgets {
		alarms = append(alarms, w.Properties.Alarms...)
		for _, row := range w.Properties.Metrics {
			m := dashboardMetric{widget: w.Properties.Title, dims: map[string]string{}}
			var plain []string
			for _, v := range row {
				if s, ok := v.(string); ok {
					plain = append(plain, s)
				}
			}
			if len(plain) < 2 || len(plain)%2 != 0 || plain[0] == "..." {
				t.Fatalf("widget %q: metric %v is not [namespace, name, dim, value...]", m.widget, row)
			}
			m.namespace, m.name = plain[0], plain[1]
			for i := 2; i < len(plain); i += 2 {
				m.dims[plain[i]] = plain[i+1]
			}
			metrics = append(metrics, m)
		}
	}
	return metrics, alarms
}

func onDashboard(ms []dashboardMetric, namespace, name, dim, value string) bool {
	for _, m := range ms {
		if m.namespace == namespace && m.name == name && len(m.dims) == 1 && m.dims[dim] == value {
			return true
		}
	}
	return false
}

func TestTheDashboardShowsEveryFunctionStateMachineAndPhoenixMetric(t *testing.T) {
	r := loadRepo(t)
	metrics, alarms := dashboard(t, r)
	for _, fn := range r.tpl.OfType("AWS::Serverless::Function") {
		for _, m := range []string{"Errors", "Throttles"} {
			if !onDashboard(metrics, "AWS/Lambda", m, "FunctionName", "ref:"+fn.Name) {
				t.Errorf("the dashboard has no %s of %s", m, fn.Name)
			}
		}
	}
	if !onDashboard(metrics, "AWS/Lambda", "Invocations", "FunctionName", "ref:PollFunction") {
		t.Error("the dashboard does not count fallback polls (the poll function's invocations)")
	}
	for _, sm := range r.tpl.OfType("AWS::Serverless::StateMachine") {
		for _, m := range []string{"ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"} {
			if !onDashboard(metrics, "AWS/States", m, "StateMachineArn", "ref:"+sm.Name) {
				t.Errorf("the dashboard has no %s of %s", m, sm.Name)
			}
		}
	}
	for _, m := range []string{"ReadThrottleEvents", "WriteThrottleEvents"} {
		if !onDashboard(metrics, "AWS/DynamoDB", m, "TableName", "ref:LedgerTable") {
			t.Errorf("the dashboard has no ledger %s", m)
		}
	}
	for _, o := range steps.Outcomes() {
		if !onDashboard(metrics, "Phoenix", steps.MetricOutcomes, "Outcome", o) {
			t.Errorf("the dashboard does not show rollouts %s", o)
		}
	}
	// Every Phoenix metric the code writes is shown, and the dashboard
	// shows none the code does not write.
	written := []string{steps.MetricStarted, steps.MetricOutcomes,
		publish.MetricRejected, publish.MetricIgnored, publish.MetricStarted, publish.MetricDuplicate, publish.MetricNoRoll,
		recycle.MetricOffVersion, recycle.MetricOffImage, recycle.MetricOverMaxAge, recycle.MetricOldestAge}
	written = append(written, lifecycle.Metrics()...)
	var shown []string
	for _, m := range metrics {
		if m.namespace == "Phoenix" && !slices.Contains(shown, m.name) {
			shown = append(shown, m.name)
		}
	}
	if !equalSets(shown, written) {
		t.Errorf("Phoenix metrics on the dashboard %v, written by the code %v", shown, written)
	}
	var want []string
	for _, a := range r.tpl.OfType("AWS::CloudWatch::Alarm") {
		want = append(want, "getatt:"+a.Name+".Arn")
	}
	if !equalSets(alarms, want) {
		t.Errorf("the dashboard's alarm widget shows %v, the template's alarms are %v", alarms, want)
	}
}
