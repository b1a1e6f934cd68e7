package deploy_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/deploy"
)

// keyTemplate encrypts an alarm topic with a key of its own, as
// template.yaml does, and names the key through an alias.
const keyTemplate = `
Resources:
  Key:
    Type: AWS::KMS::Key
    DeletionPolicy: Delete
    Properties:
      Description: !Sub Encrypts ${AWS::StackName}'s notifications
      EnableKeyRotation: true
      PendingWindowInDays: 7
      Tags:
        - Key: team
          Value: phoenix
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - Sid: AccountAdministersThroughIAM
            Effect: Allow
            Principal:
              AWS: !Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:root
            Action: kms:*
            Resource: '*'
          - Sid: CloudWatchAlarmsPublish
            Effect: Allow
            Principal:
              Service: cloudwatch.amazonaws.com
            Action: [kms:GenerateDataKey*, kms:Decrypt]
            Resource: '*'
            Condition:
              StringEquals:
                aws:SourceAccount: !Ref AWS::AccountId
  KeyAlias:
    Type: AWS::KMS::Alias
    Properties:
      AliasName: !Sub alias/${AWS::StackName}-notifications
      TargetKeyId: !Ref Key
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      KmsMasterKeyId: !Ref KeyAlias
  Alarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmName: rollout-failed
      Namespace: AWS/States
      MetricName: ExecutionsFailed
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
      AlarmActions: [!Ref Topic]
Outputs:
  KeyArn:
    Value: !GetAtt Key.Arn
  KeyId:
    Value: !GetAtt Key.KeyId
`

func deployText(t *testing.T, env *cloudtest.Env, text string) (*deploy.Stack, error) {
	t.Helper()
	tpl, err := deploy.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return deploy.Local(context.Background(), env.Cloud, tpl, deploy.Options{StackName: "kms"})
}

func TestADeployedKeyEncryptsItsTopicAndAdmitsCloudWatch(t *testing.T) {
	env := cloudtest.New(t)
	stack, err := deployText(t, env, keyTemplate)
	if err != nil {
		t.Fatal(err)
	}
	key := stack.Resources["Key"]
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(key.PhysicalID) {
		t.Fatalf("Ref Key = %q, want a key id", key.PhysicalID)
	}
	arn := "arn:aws:kms:us-east-1:123456789012:key/" + key.PhysicalID
	outputs := func(name string) any { return stack.Outputs[name].(map[string]any)["Value"] }
	if outputs("KeyArn") != arn || outputs("KeyId") != key.PhysicalID {
		t.Errorf("outputs %v, want Arn %s and KeyId %s", stack.Outputs, arn, key.PhysicalID)
	}
	if alias := stack.Resources["KeyAlias"].PhysicalID; alias != "alias/kms-notifications" {
		t.Errorf("Ref KeyAlias = %q", alias)
	}
	k, err := env.Cloud.Keys.Resolve("us-east-1", "alias/kms-notifications")
	if err != nil {
		t.Fatal(err)
	}
	if k.ARN != arn || k.Description != "Encrypts kms's notifications" || !k.RotationEnabled || k.PendingWindowInDays != 7 || k.Tags["team"] != "phoenix" || !k.Enabled {
		t.Errorf("key as stored: %+v", k)
	}

	ctx := t.Context()
	if _, err := env.CloudWatch.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("rollout-failed"), StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("test")}); err != nil {
		t.Fatal(err)
	}
	topic := stack.Resources["Topic"].PhysicalID
	if msgs := env.Cloud.SNS.Messages(topic); len(msgs) != 1 {
		h, _ := env.CloudWatch.DescribeAlarmHistory(ctx, &cloudwatch.DescribeAlarmHistoryInput{AlarmName: aws.String("rollout-failed"), HistoryItemType: cwtypes.HistoryItemTypeAction})
		t.Fatalf("%d notifications on the topic encrypted with the stack's key; action history %+v", len(msgs), h)
	}
}

func TestDeployedKeyIdsRepeatWithTheCloudsSeed(t *testing.T) {
	id := func(seed uint64) string {
		stack, err := deployText(t, cloudtest.New(t, localcloud.Options{Seed: seed}), keyTemplate)
		if err != nil {
			t.Fatal(err)
		}
		return stack.Resources["Key"].PhysicalID
	}
	if a, b, c := id(3), id(3), id(4); a != b || a == c {
		t.Errorf("key ids %s and %s with seed 3, %s with seed 4", a, b, c)
	}
}

func TestDeploymentRefusesKeysKMSWouldRefuse(t *testing.T) {
	key := func(props string) string {
		return "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n" + props
	}
	const cloudWatchOnly = `      KeyPolicy:
        Statement:
          - Effect: Allow
            Principal: {Service: cloudwatch.amazonaws.com}
            Action: [kms:GenerateDataKey*, kms:Decrypt]
            Resource: '*'
`
	cases := []struct{ name, tpl, want string }{
		{"a policy that locks the account out of the key", key(cloudWatchOnly),
			"resource Key (AWS::KMS::Key): MalformedPolicyDocumentException: The new key policy will not allow you to update the key policy in the future."},
		{"a statement without a principal", key("      KeyPolicy:\n        Statement:\n          - {Effect: Allow, Action: 'kms:*', Resource: '*'}\n"),
			"resource Key (AWS::KMS::Key): MalformedPolicyDocumentException: "},
		{"a policy string that is not JSON", key("      KeyPolicy: 'Statement: []'\n"),
			"resource Key (AWS::KMS::Key): MalformedPolicyDocumentException: The key policy is not valid JSON"},
		{"a property the local cloud does not model", key("      Origin: EXTERNAL\n"), "resource Key (AWS::KMS::Key): property Origin is not supported"},
		{"an Enabled that is not a boolean", key("      Enabled: maybe\n"), `Enabled: "maybe" is not a boolean`},
		{"an alias in the AWS-reserved namespace",
			key("      Description: k\n") + "  Alias:\n    Type: AWS::KMS::Alias\n    Properties: {AliasName: alias/aws/mine, TargetKeyId: !Ref Key}\n",
			"resource Alias (AWS::KMS::Alias): NotAuthorizedException"},
		{"an alias of a key that does not exist",
			"Resources:\n  Alias:\n    Type: AWS::KMS::Alias\n    Properties: {AliasName: alias/mine, TargetKeyId: 1234abcd-12ab-34cd-56ef-1234567890ab}\n",
			"resource Alias (AWS::KMS::Alias): NotFoundException: Key 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab' does not exist"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := cloudtest.New(t)
			_, err := deployText(t, env, c.tpl)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v\nwant it to contain %q", err, c.want)
			}
		})
	}
	t.Run("the lockout check can be bypassed, as CloudFormation allows", func(t *testing.T) {
		env := cloudtest.New(t)
		if _, err := deployText(t, env, key(cloudWatchOnly+"      BypassPolicyLockoutSafetyCheck: true\n")); err != nil {
			t.Fatal(err)
		}
	})
}
