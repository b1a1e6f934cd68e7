package localcloud_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/phoenix-rollouts/phoenix/test/localcloud"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/functions"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/iam"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/keys"
)

// Key policy statements as template.yaml and AWS's examples write them.
const (
	accountAdministers  = `{"Sid":"AccountAdministersThroughIAM","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}`
	cloudWatchPublishes = `{"Sid":"CloudWatchAlarmsPublish","Effect":"Allow","Principal":{"Service":"cloudwatch.amazonaws.com"},"Action":["kms:GenerateDataKey*","kms:Decrypt"],"Resource":"*","Condition":{"StringEquals":{"aws:SourceAccount":"%s"}}}`
)

func keyPolicy(statements ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`
}

// kmsEnv is a cloud whose harness makes keys and topics.
type kmsEnv struct {
	*cloudtest.Env
	t *testing.T
}

func newKMSEnv(t *testing.T, opts ...localcloud.Options) *kmsEnv {
	t.Helper()
	return &kmsEnv{Env: cloudtest.New(t, opts...), t: t}
}

func (e *kmsEnv) key(in keys.KeyInput) keys.Key {
	e.t.Helper()
	k, err := e.Cloud.Keys.CreateKey("us-east-1", in)
	if err != nil {
		e.t.Fatal(err)
	}
	return k
}

func (e *kmsEnv) topic(name, keyID string) string {
	e.t.Helper()
	attrs := map[string]string{}
	if keyID != "" {
		attrs["KmsMasterKeyId"] = keyID
	}
	out, err := e.SNS.CreateTopic(e.t.Context(), &sns.CreateTopicInput{Name: aws.String(name), Attributes: attrs})
	if err != nil {
		e.t.Fatal(err)
	}
	return aws.ToString(out.TopicArn)
}

// alarmTo makes an alarm whose ALARM action is topic, sets it to ALARM and
// returns the alarm's action history.
func (e *kmsEnv) alarmTo(name, topic string) []cwtypes.AlarmHistoryItem {
	e.t.Helper()
	ctx := e.t.Context()
	_, err := e.CloudWatch.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(name), Namespace: aws.String("AWS/States"), MetricName: aws.String("ExecutionsFailed"),
		Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold, TreatMissingData: aws.String("notBreaching"),
		AlarmActions: []string{topic},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.CloudWatch.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String(name), StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("test")}); err != nil {
		e.t.Fatal(err)
	}
	out, err := e.CloudWatch.DescribeAlarmHistory(ctx, &cloudwatch.DescribeAlarmHistoryInput{AlarmName: aws.String(name), HistoryItemType: cwtypes.HistoryItemTypeAction})
	if err != nil {
		e.t.Fatal(err)
	}
	return out.AlarmHistoryItems
}

// CloudWatch publishes to an encrypted topic only if the key policy lets
// its service principal use the key: the AWS managed key never does, a
// customer managed key does when a statement names cloudwatch.amazonaws.com
// (SNS developer guide, "Enable compatibility between event sources from
// AWS services and encrypted topics").
func TestCloudWatchPublishesToAnEncryptedTopicOnlyIfTheKeyPolicyAdmitsIt(t *testing.T) {
	const denied = "CloudWatch Alarms does not have authorization to access the SNS topic encryption key."
	e := newKMSEnv(t)
	admits := e.key(keys.KeyInput{Policy: keyPolicy(accountAdministers, fmt.Sprintf(cloudWatchPublishes, "123456789012"))})
	if _, err := e.Cloud.Keys.CreateAlias("us-east-1", "alias/phoenix-notifications", admits.ID); err != nil {
		t.Fatal(err)
	}
	disabled := e.key(keys.KeyInput{Policy: keyPolicy(accountAdministers, fmt.Sprintf(cloudWatchPublishes, "123456789012")), Disabled: true})
	cases := []struct {
		name, keyID string
		// want is "" for a delivered notification, else the error the
		// history quotes (a prefix).
		want string
	}{
		{"an unencrypted topic", "", ""},
		{"the AWS managed key", keys.ManagedSNSAlias, denied},
		{"a customer managed key admitting CloudWatch", admits.ID, ""},
		{"the same key by its alias", "alias/phoenix-notifications", ""},
		{"the same key by its ARN", admits.ARN, ""},
		{"a customer managed key with only the account's statement", e.key(keys.KeyInput{Policy: keyPolicy(accountAdministers)}).ID, denied},
		{"a key admitting CloudWatch for another account only", e.key(keys.KeyInput{Policy: keyPolicy(accountAdministers, fmt.Sprintf(cloudWatchPublishes, "210987654321"))}).ID, denied},
		{"a disabled key", disabled.ID, disabled.ARN + " is disabled. (Service: AWSKMS; Status Code: 400; Error Code: DisabledException;"},
		{"a key that does not exist", "alias/nope", "Alias arn:aws:kms:us-east-1:123456789012:alias/nope is not found. (Service: AWSKMS;"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			topic := e.topic(fmt.Sprintf("alarms-%d", i), c.keyID)
			items := e.alarmTo(fmt.Sprintf("alarm-%d", i), topic)
			if len(items) != 1 {
				t.Fatalf("%d action history items, want 1", len(items))
			}
			summary, msgs := aws.ToString(items[0].HistorySummary), e.Cloud.SNS.Messages(topic)
			if c.want == "" {
				if summary != "Successfully executed action "+topic || len(msgs) != 1 {
					t.Errorf("history %q, %d messages; want the notification delivered", summary, len(msgs))
				}
				return
			}
			if want := "Failed to execute action " + topic + `. Received error: "` + c.want; !strings.HasPrefix(summary, want) || len(msgs) != 0 {
				t.Errorf("history %q, %d messages\nwant %q... and none", summary, len(msgs), want)
			}
		})
	}
}

// With enforcement off every permission check is off, key policies
// included, so CloudWatch publishes even to a topic under the AWS managed
// key; a key that does not exist still fails, as it does for everyone.
func TestWithIAMEnforcementOffCloudWatchIsNotHeldAgainstTheKeyPolicy(t *testing.T) {
	e := newKMSEnv(t, localcloud.Options{Seed: 1, IAMOff: true})
	managed := e.topic("managed", keys.ManagedSNSAlias)
	if items := e.alarmTo("managed", managed); len(items) != 1 || !strings.HasPrefix(aws.ToString(items[0].HistorySummary), "Successfully executed action") {
		t.Errorf("managed key with enforcement off: %+v", items)
	}
	missing := e.topic("missing", "alias/nope")
	if items := e.alarmTo("missing", missing); len(items) != 1 || !strings.Contains(aws.ToString(items[0].HistorySummary), "is not found.") {
		t.Errorf("missing key with enforcement off: %+v", items)
	}
}

const (
	notifierRole     = "arn:aws:iam::123456789012:role/phoenix-NotifierRole-0123"
	notifierFunction = "phoenix-Notifier-4567"
)

// publisher is a deployed function's SNS client and a way to set its
// role's policy.
type publisher struct {
	*kmsEnv
	sns *sns.Client
}

func newPublisher(t *testing.T, opts ...localcloud.Options) *publisher {
	t.Helper()
	e := newKMSEnv(t, opts...)
	ctx := api.WithRequest(t.Context(), api.Request{Region: "us-east-1", Account: e.Cloud.World.Account()})
	_, err := e.Cloud.Lambda.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(notifierFunction), Role: aws.String(notifierRole), Runtime: lambdatypes.RuntimeProvidedal2023,
		Handler: aws.String("bootstrap"), Code: &lambdatypes.FunctionCode{S3Bucket: aws.String(functions.LocalCodeBucket), S3Key: aws.String(functions.InProcessKey)},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := e.Config.Copy()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(functions.AccessKeyID(notifierFunction), "secret", "token")
	return &publisher{kmsEnv: e, sns: sns.NewFromConfig(cfg)}
}

// grant sets the role's policy: sns:Publish on every topic, and the
// given KMS actions on resource.
func (p *publisher) grant(kmsActions []string, resource string) {
	p.t.Helper()
	stmts := []any{map[string]any{"Effect": "Allow", "Action": "sns:Publish", "Resource": "arn:aws:sns:us-east-1:123456789012:*"}}
	if len(kmsActions) > 0 {
		var acts []any
		for _, a := range kmsActions {
			acts = append(acts, a)
		}
		stmts = append(stmts, map[string]any{"Sid": "NotifyEncrypted", "Effect": "Allow", "Action": acts, "Resource": resource})
	}
	pol, err := iam.ParsePolicy("NotifierFunction Policies[0]", map[string]any{"Statement": stmts})
	if err != nil {
		p.t.Fatal(err)
	}
	p.Cloud.IAM.Put(notifierRole, []*iam.Policy{pol})
}

func (p *publisher) publish(topic string) error {
	_, err := p.sns.Publish(p.t.Context(), &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String("rollout r-1 failed")})
	return err
}

// A role publishing to a topic encrypted with a customer managed key needs
// kms:GenerateDataKey and kms:Decrypt on the key, through the key policy
// and, when the key policy delegates to the account, its own policy (SNS
// developer guide, "Allow a user to send messages to a topic with SSE").
// With the AWS managed key it needs nothing more than sns:Publish.
func TestARolePublishingToAnEncryptedTopicNeedsTheKey(t *testing.T) {
	p := newPublisher(t)
	delegating := p.key(keys.KeyInput{Policy: keyPolicy(accountAdministers)})
	namesOtherRole := p.key(keys.KeyInput{BypassPolicyLockoutSafetyCheck: true,
		Policy: keyPolicy(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/someone-else"},"Action":"kms:*","Resource":"*"}`)})
	namesTheRole := p.key(keys.KeyInput{Policy: keyPolicy(accountAdministers, `{"Effect":"Allow","Principal":{"AWS":"`+notifierRole+`"},"Action":["kms:GenerateDataKey","kms:Decrypt"],"Resource":"*"}`)})
	const session = "arn:aws:sts::123456789012:assumed-role/phoenix-NotifierRole-0123/" + notifierFunction
	cases := []struct {
		name       string
		key        keys.Key
		managed    bool
		kmsActions []string
		// want is "" for a published message, else how AWS's message
		// continues after "... on resource: KEY ".
		want, action string
	}{
		{"the AWS managed key needs only sns:Publish", keys.Key{}, true, nil, "", ""},
		{"a delegating key and a role allowed both actions", delegating, false, []string{"kms:GenerateDataKey", "kms:Decrypt"}, "", ""},
		{"a delegating key and a role without KMS permissions", delegating, false, nil,
			"because no identity-based policy allows the kms:GenerateDataKey action", "kms:GenerateDataKey"},
		{"a delegating key and a role allowed only GenerateDataKey", delegating, false, []string{"kms:GenerateDataKey"},
			"because no identity-based policy allows the kms:Decrypt action", "kms:Decrypt"},
		{"a key policy naming another role refuses whatever IAM allows", namesOtherRole, false, []string{"kms:GenerateDataKey", "kms:Decrypt"},
			"because no resource-based policy allows the kms:GenerateDataKey action", "kms:GenerateDataKey"},
		{"a key policy naming the role needs nothing in its policy", namesTheRole, false, nil, "", ""},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			keyID, resource := c.key.ID, c.key.ARN
			if c.managed {
				keyID, resource = keys.ManagedSNSAlias, "*"
			}
			topic := p.topic(fmt.Sprintf("rollouts-%d", i), keyID)
			p.grant(c.kmsActions, resource)
			before := len(p.Cloud.IAM.Denials())
			err := p.publish(topic)
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if n := len(p.Cloud.SNS.Messages(topic)); n != 1 {
					t.Fatalf("%d messages recorded, want 1", n)
				}
				return
			}
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != "KMSAccessDenied" {
				t.Fatalf("got %v, want KMSAccessDenied", err)
			}
			var re *awshttp.ResponseError
			if errors.As(err, &re) && re.HTTPStatusCode() != http.StatusBadRequest {
				t.Errorf("status %d, want 400", re.HTTPStatusCode())
			}
			want := "User: " + session + " is not authorized to perform: " + c.action + " on resource: " + c.key.ARN + " " + c.want +
				" (Service: AWSKMS; Status Code: 400; Error Code: AccessDeniedException; Request ID: "
			if !strings.HasPrefix(ae.ErrorMessage(), want) || !strings.HasSuffix(ae.ErrorMessage(), "; Proxy: null)") {
				t.Errorf("message %q\nwant    %q...", ae.ErrorMessage(), want)
			}
			if n := len(p.Cloud.SNS.Messages(topic)); n != 0 {
				t.Errorf("%d messages recorded for a refused publish", n)
			}
			if d := p.Cloud.IAM.Denials(); len(d) != before+1 || d[len(d)-1].Request.Action != c.action {
				t.Errorf("denials %+v, want this refusal recorded", d[before:])
			}
		})
	}
	t.Run("the harness's own key is not held against the key policy", func(t *testing.T) {
		topic := p.topic("harness", namesOtherRole.ID)
		if _, err := p.SNS.Publish(t.Context(), &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String("m")}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a disabled key refuses every publisher", func(t *testing.T) {
		k := p.key(keys.KeyInput{})
		topic := p.topic("disabled", k.ID)
		if err := p.Cloud.Keys.SetEnabled("us-east-1", k.ID, false); err != nil {
			t.Fatal(err)
		}
		_, err := p.SNS.Publish(t.Context(), &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String("m")})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "KMSDisabled" || !strings.HasPrefix(ae.ErrorMessage(), k.ARN+" is disabled.") {
			t.Errorf("got %v, want KMSDisabled naming the key", err)
		}
	})
}

func TestWithIAMEnforcementOffARoleNeedsNoKeyPermission(t *testing.T) {
	p := newPublisher(t, localcloud.Options{Seed: 1, IAMOff: true})
	topic := p.topic("rollouts", p.key(keys.KeyInput{}).ID)
	p.grant(nil, "")
	if err := p.publish(topic); err != nil {
		t.Fatalf("with enforcement off: %v", err)
	}
}

// A state machine's sns:publish task is held against the topic's key like
// a function's call: without the key permissions the task fails with
// SNS's KMSAccessDenied.
func TestAStateMachinePublishingToAnEncryptedTopicNeedsTheKey(t *testing.T) {
	e := newKMSEnv(t)
	const smRole = "arn:aws:iam::123456789012:role/phoenix-MachineRole-89AB"
	k := e.key(keys.KeyInput{})
	topic := e.topic("rollouts", k.ID)
	run := func(t *testing.T, name string, kmsActions ...any) *sfn.DescribeExecutionOutput {
		t.Helper()
		stmts := []any{map[string]any{"Effect": "Allow", "Action": "sns:Publish", "Resource": topic}}
		if len(kmsActions) > 0 {
			stmts = append(stmts, map[string]any{"Effect": "Allow", "Action": kmsActions, "Resource": k.ARN})
		}
		pol, err := iam.ParsePolicy("Machine Policies[0]", map[string]any{"Statement": stmts})
		if err != nil {
			t.Fatal(err)
		}
		e.Cloud.IAM.Put(smRole, []*iam.Policy{pol})
		def := fmt.Sprintf(`{"StartAt":"Notify","States":{"Notify":{"Type":"Task","Resource":"arn:aws:states:::sns:publish","Parameters":{"TopicArn":%q,"Message":"m"},"End":true}}}`, topic)
		sm, err := e.StepFunctions.CreateStateMachine(t.Context(), &sfn.CreateStateMachineInput{Name: aws.String(name), Definition: aws.String(def), RoleArn: aws.String(smRole)})
		if err != nil {
			t.Fatal(err)
		}
		x, err := e.StepFunctions.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn})
		if err != nil {
			t.Fatal(err)
		}
		var out *sfn.DescribeExecutionOutput
		e.RunUntil(t, time.Hour, "the execution ends", func() bool {
			out, err = e.StepFunctions.DescribeExecution(t.Context(), &sfn.DescribeExecutionInput{ExecutionArn: x.ExecutionArn})
			return err == nil && out.Status != sfntypes.ExecutionStatusRunning
		})
		return out
	}
	t.Run("without kms permissions the task fails", func(t *testing.T) {
		out := run(t, "no-key")
		if out.Status != sfntypes.ExecutionStatusFailed || aws.ToString(out.Error) != "SNS.KMSAccessDeniedException" ||
			!strings.Contains(aws.ToString(out.Cause), "kms:GenerateDataKey on resource: "+k.ARN) {
			t.Errorf("status %s, error %s, cause %s", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
		}
	})
	t.Run("with them the message is published", func(t *testing.T) {
		out := run(t, "with-key", "kms:GenerateDataKey", "kms:Decrypt")
		if out.Status != sfntypes.ExecutionStatusSucceeded || len(e.Cloud.SNS.Messages(topic)) != 1 {
			t.Errorf("status %s (%s: %s), %d messages", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause), len(e.Cloud.SNS.Messages(topic)))
		}
	})
}
