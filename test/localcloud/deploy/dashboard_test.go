package deploy_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/deploy"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/monitoring"
)

func TestADashboardFromATemplateIsPutWithItsSubstitutedBody(t *testing.T) {
	env := cloudtest.New(t)
	ctx := context.Background()
	stack, err := deploy.File(ctx, env.Cloud, "testdata/dashboard/template.yaml", deploy.Options{StackName: "dash"})
	if err != nil {
		t.Fatal(err)
	}
	client := cloudwatch.NewFromConfig(env.Config)

	if got := stack.Outputs["Dashboard"].(map[string]any)["Value"]; got != "web-ops" {
		t.Errorf("Ref of the dashboard = %v, want its name web-ops", got)
	}
	out, err := client.GetDashboard(ctx, &cloudwatch.GetDashboardInput{DashboardName: aws.String("web-ops")})
	if err != nil {
		t.Fatalf("GetDashboard: %v", err)
	}
	body := aws.ToString(out.DashboardBody)
	if strings.Contains(body, "${") {
		t.Errorf("the body still has substitutions:\n%s", body)
	}
	alarmARN := stack.Resources["Errors"].Attrs["Arn"]
	if !strings.Contains(body, `"alarms": ["`+alarmARN+`"]`) || !strings.Contains(body, "Created by the stack dash;") {
		t.Errorf("the body does not carry the alarm's ARN %s and the stack name:\n%s", alarmARN, body)
	}
	metrics, err := monitoring.DashboardMetrics(body)
	if err != nil {
		t.Fatal(err)
	}
	want := []monitoring.DashboardMetric{
		{Widget: 1, Title: "Errors", Region: "us-east-1", Namespace: "Phoenix", MetricName: "Errors", Dimensions: map[string]string{"Service": "web"}, Stat: "Sum", Period: 60},
		{Widget: 1, Title: "Errors", Region: "us-east-1", Namespace: "Phoenix", MetricName: "Errors", Dimensions: map[string]string{"Service": "web"}, Stat: "Maximum", Period: 60, Label: "worst minute"},
	}
	if !reflect.DeepEqual(metrics, want) {
		t.Errorf("the deployed dashboard graphs\n%+v\nwant\n%+v", metrics, want)
	}

	scratch := stack.Resources["Scratch"].PhysicalID
	if !strings.HasPrefix(scratch, "dash-Scratch-") {
		t.Errorf("a dashboard without DashboardName is named %q, want a generated dash-Scratch-… name", scratch)
	}
	list, err := client.ListDashboards(ctx, &cloudwatch.ListDashboardsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range list.DashboardEntries {
		names = append(names, aws.ToString(d.DashboardName))
	}
	if !reflect.DeepEqual(names, []string{scratch, "web-ops"}) {
		t.Errorf("dashboards %v, want %s and web-ops", names, scratch)
	}
}

func TestADashboardDeploymentFailsAsCloudFormationWould(t *testing.T) {
	env := cloudtest.New(t)
	cases := []struct {
		name, tpl string
		want      []string
	}{
		{"a body PutDashboard refuses names the resource and CloudWatch's message",
			"Resources:\n  Bad:\n    Type: AWS::CloudWatch::Dashboard\n    Properties:\n      DashboardBody: '{\"widgets\":[{\"type\":\"metric\",\"properties\":{\"metrics\":[[\"AWS/EC2\",\"CPUUtilization\"]]}}]}'\n",
			[]string{"resource Bad (AWS::CloudWatch::Dashboard)", "InvalidParameterInput", "The dashboard body is invalid, there are 1 validation errors", `"dataPath": "/widgets/0/properties"`, "Should have required property 'region'"}},
		{"a body is required", "Resources:\n  Bad:\n    Type: AWS::CloudWatch::Dashboard\n    Properties:\n      DashboardName: bad\n",
			[]string{"resource Bad (AWS::CloudWatch::Dashboard)", "DashboardBody is required"}},
		{"a body is a string, not a mapping", "Resources:\n  Bad:\n    Type: AWS::CloudWatch::Dashboard\n    Properties:\n      DashboardBody: {widgets: []}\n",
			[]string{"DashboardBody must be a string"}},
		{"a name CloudWatch refuses", "Resources:\n  Bad:\n    Type: AWS::CloudWatch::Dashboard\n    Properties:\n      DashboardName: my dashboard\n      DashboardBody: '{\"widgets\":[]}'\n",
			[]string{"InvalidParameterValue", "contains invalid characters"}},
		{"an unknown property", "Resources:\n  Bad:\n    Type: AWS::CloudWatch::Dashboard\n    Properties:\n      DashboardBody: '{\"widgets\":[]}'\n      Tags: []\n",
			[]string{"property Tags is not supported"}},
		{"a dashboard has no attributes", "Resources:\n  D:\n    Type: AWS::CloudWatch::Dashboard\n    Properties:\n      DashboardBody: '{\"widgets\":[]}'\n  T:\n    Type: AWS::SNS::Topic\n    Properties: {TopicName: !GetAtt D.Arn}\n",
			[]string{"has no attribute Arn"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := deploy.Parse([]byte(tc.tpl))
			if err != nil {
				t.Fatal(err)
			}
			_, err = deploy.Deploy(context.Background(), tpl, deploy.ClientsFor(env.Cloud), deploy.Options{})
			if err == nil {
				t.Fatalf("the deployment succeeded, want it to fail mentioning %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v\nwant it to mention %q", err, w)
				}
			}
		})
	}
	if _, ok := env.Cloud.CloudWatch.Dashboard("bad"); ok {
		t.Errorf("a refused dashboard was stored")
	}
}
