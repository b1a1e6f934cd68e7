package deploy_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/deploy"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/iam"
)

const rolesTemplate = `
Transform: AWS::Serverless-2016-10-31
Resources:
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: worker/
      Runtime: provided.al2023
      Handler: bootstrap
      Policies:
        - Version: "2012-10-17"
          Statement:
            - Sid: Publish
              Effect: Allow
              Action: sns:Publish
              Resource: !Ref Topic
  Topic:
    Type: AWS::SNS::Topic
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties:
      Name: !Sub ${AWS::StackName}-machine
      Definition:
        StartAt: Go
        States:
          Go:
            Type: Task
            Resource: arn:aws:states:::lambda:invoke
            Parameters:
              FunctionName: !GetAtt Worker.Arn
            End: true
      Policies:
        - LambdaInvokePolicy:
            FunctionName: !Ref Worker
`

// deployRoles deploys a template with a stub bootstrap and returns the
// stack, the cloud's roles and the error.
func deployRoles(t *testing.T, text string) (*deploy.Stack, *iam.Roles, error) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bootstrap")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tpl, err := deploy.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	env := cloudtest.New(t)
	st, err := deploy.Deploy(context.Background(), tpl, deploy.ClientsFor(env.Cloud), deploy.Options{
		StackName: "s", Account: env.Cloud.World.Account(),
		Bootstrap: func(string) (string, error) { return bin, nil },
	})
	return st, env.Cloud.IAM, err
}

// Deploying records each function's and state machine's role with its
// policies, intrinsics resolved and SAM policy templates expanded, so that
// the cloud holds their calls against exactly what the template grants.
func TestDeployRecordsEachRoleWithItsResolvedPolicies(t *testing.T) {
	st, roles, err := deployRoles(t, rolesTemplate)
	if err != nil {
		t.Fatal(err)
	}
	worker, machine := st.Resources["Worker"], st.Resources["Machine"]
	topic := st.Resources["Topic"].PhysicalID
	wp, ok := roles.Policies(worker.Role)
	if !ok {
		t.Fatalf("no policies recorded for the worker's role %s", worker.Role)
	}
	if got := iam.Evaluate(wp, iam.Request{Action: "sns:Publish", Resource: topic}); got.Decision != iam.Allowed || got.Statement != "Publish" {
		t.Errorf("worker publishing to its topic: %+v, want allowed by Publish", got)
	}
	if got := iam.Evaluate(wp, iam.Request{Action: "sns:Publish", Resource: topic + "-other"}); got.Decision != iam.ImplicitDeny {
		t.Errorf("worker publishing to another topic: %+v, want denied", got)
	}
	mp, ok := roles.Policies(machine.Role)
	if !ok {
		t.Fatalf("no policies recorded for the state machine's role %s", machine.Role)
	}
	for _, arn := range []string{worker.Attrs["Arn"], worker.Attrs["Arn"] + ":live"} {
		if got := iam.Evaluate(mp, iam.Request{Action: "lambda:InvokeFunction", Resource: arn}); got.Decision != iam.Allowed {
			t.Errorf("state machine invoking %s: %+v, want allowed by LambdaInvokePolicy", arn, got)
		}
	}
}

// A policy the local cloud cannot model fails the deployment instead of
// being guessed at: a managed policy, an unknown SAM policy template.
func TestDeployRefusesPoliciesItCannotModel(t *testing.T) {
	for _, tc := range []struct{ name, policy, want string }{
		{"a managed policy", "- AWSLambdaBasicExecutionRole", "managed policy"},
		{"an unknown SAM policy template", "- SQSPollerPolicy:\n            QueueName: q", "SQSPollerPolicy"},
	} {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			text := strings.Replace(rolesTemplate, "- LambdaInvokePolicy:\n            FunctionName: !Ref Worker", tc.policy, 1)
			_, _, err := deployRoles(t, text)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error naming %q", err, tc.want)
			}
		})
	}
}
