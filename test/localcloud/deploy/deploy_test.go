package deploy_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/phoenix-rollouts/phoenix/test/localcloud"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/deploy"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/dynamo"
)

// buildRecorder builds testdata/recorder as a Lambda bootstrap.
func buildRecorder(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "recorder", "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", out, "./testdata/recorder")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build recorder: %v\n%s", err, b)
	}
	return out
}

func needNode(t *testing.T) {
	t.Helper()
	dynamo.Require(t, "the deploy end-to-end test")
}

func TestADeployedTemplateRunsEndToEnd(t *testing.T) {
	needNode(t)
	bin := buildRecorder(t)
	env := cloudtest.New(t, localcloud.Options{Seed: 7, DynamoDB: true})
	ctx := context.Background()
	stack, err := deploy.File(ctx, env.Cloud, "testdata/stack/template.yaml", deploy.Options{
		StackName: "e2e",
		Bootstrap: func(codeURI string) (string, error) {
			if codeURI != "recorder/" {
				t.Errorf("CodeUri = %q", codeURI)
			}
			return bin, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := env.Config

	t.Run("every resource exists as its API shows it", func(t *testing.T) {
		tbl, err := dynamodb.NewFromConfig(cfg).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(stack.Outputs["TableName"].(map[string]any)["Value"].(string))})
		if err != nil {
			t.Fatalf("table: %v", err)
		}
		if got := len(tbl.Table.KeySchema); got != 2 {
			t.Errorf("table key schema has %d keys", got)
		}
		alarms, err := cloudwatch.NewFromConfig(cfg).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{stack.Resources["Errors"].PhysicalID}})
		if err != nil || len(alarms.MetricAlarms) != 1 {
			t.Fatalf("alarm: %v %+v", err, alarms)
		}
		if th := aws.ToFloat64(alarms.MetricAlarms[0].Threshold); th != 3 {
			t.Errorf("alarm threshold = %v, want the parameter default 3", th)
		}
		rules, err := eventbridge.NewFromConfig(cfg).ListRules(ctx, &eventbridge.ListRulesInput{})
		if err != nil || len(rules.Rules) != 2 {
			t.Fatalf("rules: %v, %d rules, want 2 (the function's event and Nightly)", err, len(rules.Rules))
		}
		sm, err := sfn.NewFromConfig(cfg).DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(stack.Resources["Machine"].PhysicalID)})
		if err != nil {
			t.Fatalf("state machine: %v", err)
		}
		if !strings.Contains(aws.ToString(sm.Definition), stack.Resources["Recorder"].Attrs["Arn"]) || strings.Contains(aws.ToString(sm.Definition), "${") {
			t.Errorf("definition substitutions not resolved:\n%s", aws.ToString(sm.Definition))
		}
		if want := []string{"NightlyRole (AWS::IAM::Role)"}; !slices.Equal(stack.Unenforced, want) {
			t.Errorf("unenforced = %v, want %v", stack.Unenforced, want)
		}
	})

	param := func() string {
		out, err := ssm.NewFromConfig(cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/recorder/last")})
		if err != nil {
			return ""
		}
		return aws.ToString(out.Parameter.Value)
	}

	t.Run("a rule from the template invokes the real bootstrap when a matching event happens", func(t *testing.T) {
		_, err := ec2.NewFromConfig(cfg).RegisterImage(ctx, &ec2.RegisterImageInput{
			Name: aws.String("e2e-image"), Architecture: ec2types.ArchitectureValuesX8664, RootDeviceName: aws.String("/dev/xvda"),
		})
		if err != nil {
			t.Fatal(err)
		}
		env.RunUntil(t, 10*time.Minute, "the recorder to record the AMI event", func() bool {
			return param() == "rec|EC2 AMI State Change"
		})
	})

	t.Run("the state machine from the template invokes the function and publishes", func(t *testing.T) {
		client := sfn.NewFromConfig(cfg)
		start, err := client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(stack.Resources["Machine"].PhysicalID), Input: aws.String("{}")})
		if err != nil {
			t.Fatal(err)
		}
		var status sfntypes.ExecutionStatus
		env.RunUntil(t, time.Minute, "the execution to end", func() bool {
			d, err := client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: start.ExecutionArn})
			if err != nil {
				t.Fatal(err)
			}
			status = d.Status
			return status != sfntypes.ExecutionStatusRunning
		})
		if status != sfntypes.ExecutionStatusSucceeded {
			t.Fatalf("execution %s", status)
		}
		topics, err := sns.NewFromConfig(cfg).ListTopics(ctx, &sns.ListTopicsInput{})
		if err != nil || len(topics.Topics) != 1 {
			t.Fatalf("topics: %v %+v", err, topics)
		}
		msgs := env.Cloud.SNS.Messages(aws.ToString(topics.Topics[0].TopicArn))
		if len(msgs) != 1 || msgs[0].Message != "rec|direct" {
			t.Fatalf("published %+v, want one message rec|direct", msgs)
		}
	})

	t.Run("the schedule rule starts the machine at 02:00 with its constant input", func(t *testing.T) {
		client := sfn.NewFromConfig(cfg)
		now := env.Now()
		next := time.Date(now.Year(), now.Month(), now.Day()+1, 2, 0, 0, 0, time.UTC)
		env.Cloud.Clock.AdvanceTo(next.Add(-time.Second))
		before, _ := client.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(stack.Resources["Machine"].PhysicalID)})
		env.RunUntil(t, 5*time.Minute, "the nightly execution", func() bool {
			after, err := client.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(stack.Resources["Machine"].PhysicalID)})
			return err == nil && len(after.Executions) == len(before.Executions)+1
		})
		after, _ := client.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(stack.Resources["Machine"].PhysicalID)})
		d, err := client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: after.Executions[0].ExecutionArn})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(d.Input) != `{"mode":"nightly"}` {
			t.Errorf("input = %s", aws.ToString(d.Input))
		}
		if started := aws.ToTime(d.StartDate); started.Before(next) || started.After(next.Add(time.Second)) {
			t.Errorf("started at %s, want about %s", started, next)
		}
	})
}

func TestDeploymentRefusesWhatItDoesNotUnderstand(t *testing.T) {
	env := cloudtest.New(t)
	cases := []struct{ name, tpl, want string }{
		{"an unknown resource type", "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n", "resource Q (AWS::SQS::Queue): resource type AWS::SQS::Queue is not supported"},
		{"an unknown property", "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      ArchivePolicy: {}\n", "property ArchivePolicy is not supported"},
		{"an unknown event type", "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: f/\n      Runtime: provided.al2023\n      Events:\n        Q:\n          Type: SQS\n", "event type SQS is not supported"},
		{"a missing substitution", "Resources:\n  M:\n    Type: AWS::Serverless::StateMachine\n    Properties:\n      Definition: {StartAt: A, States: {A: {Type: Pass, Result: \"${Nope}\", End: true}}}\n", "${Nope}"},
		{"a table without DynamoDB", "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties: {}\n", "runs without DynamoDB"},
		{"an undeclared parameter override", "Resources:\n  T:\n    Type: AWS::SNS::Topic\n", "parameter Nope is not declared"},
		{"a circular dependency", "Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties: {TopicName: !GetAtt B.TopicName}\n  B:\n    Type: AWS::SNS::Topic\n    Properties: {TopicName: !GetAtt A.TopicName}\n", "circular dependency"},
		{"an unknown attribute", "Resources:\n  A:\n    Type: AWS::SNS::Topic\n  B:\n    Type: AWS::SNS::Topic\n    Properties: {TopicName: !GetAtt A.Nope}\n", "has no attribute Nope"},
		{"a bad number", "Resources:\n  A:\n    Type: AWS::CloudWatch::Alarm\n    Properties: {Period: soon}\n", `Period: "soon" is not a whole number`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := deploy.Parse([]byte(tc.tpl))
			if err != nil {
				t.Fatal(err)
			}
			opts := deploy.Options{Bootstrap: func(string) (string, error) { return "/nonexistent/bootstrap", nil }}
			if strings.Contains(tc.name, "override") {
				opts.Parameters = map[string]string{"Nope": "x"}
			}
			_, err = deploy.Deploy(context.Background(), tpl, deploy.ClientsFor(env.Cloud), opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}
