package localcloud

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/iam"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/keys"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/monitoring"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/notify"
)

// CloudWatchPrincipal is the service principal CloudWatch publishes alarm
// notifications as.
const CloudWatchPrincipal = "cloudwatch.amazonaws.com"

// topicKeyActions are what SNS asks KMS, on the publisher's behalf, for a
// message to an encrypted topic: the publisher needs both, as the SNS
// developer guide says ("Allow a user to send messages to a topic with
// SSE").
var topicKeyActions = []string{"kms:GenerateDataKey", "kms:Decrypt"}

// topicKey finds the key of an encrypted topic; ok is false for an
// unencrypted or unknown topic and for a key that cannot be found, which
// SNS itself answers (KMSNotFound) whoever publishes.
func (c *Cloud) topicKey(topicArn string) (keys.Key, string, bool) {
	id, region, ok := c.SNS.TopicKey(topicArn)
	if !ok || id == "" {
		return keys.Key{}, "", false
	}
	k, err := c.Keys.Resolve(region, id)
	if err != nil {
		return keys.Key{}, "", false
	}
	return k, region, true
}

// authorizeTopicKey holds a role's publish to an encrypted topic against
// the topic's key: the key policy, and the role's policies when the key
// policy delegates to IAM, must allow kms:GenerateDataKey and kms:Decrypt.
// A refusal is recorded with IAM's denials and answered as SNS answers it,
// KMSAccessDenied with KMS's message. Any other call passes.
func (c *Cloud) authorizeTopicKey(ctx context.Context, p iam.Principal, service, operation string, in any) error {
	pub, ok := in.(*sns.PublishInput)
	if service != "sns" || operation != "Publish" || !ok {
		return nil
	}
	topic := aws.ToString(pub.TopicArn)
	if topic == "" {
		topic = aws.ToString(pub.TargetArn)
	}
	k, region, ok := c.topicKey(topic)
	if !ok {
		return nil
	}
	policies, _ := c.IAM.Policies(p.RoleARN)
	caller := keys.Caller{Caller: iam.Caller{Principal: p}, Identity: policies}
	acct := c.World.Account()
	if parts := strings.SplitN(p.RoleARN, ":", 6); len(parts) == 6 {
		acct = parts[4]
	}
	caller.Context = map[string][]string{
		"kms:ViaService": {"sns." + region + ".amazonaws.com"}, "kms:CallerAccount": {acct},
		"aws:PrincipalArn": {p.RoleARN}, "aws:PrincipalAccount": {acct}, "aws:PrincipalType": {"AssumedRole"},
	}
	for _, action := range topicKeyActions {
		err := c.Keys.Authorize(k, caller, action)
		if err == nil {
			continue
		}
		var denied *iam.AccessDenied
		if errors.As(err, &denied) {
			c.IAM.RecordDenial(*denied)
		}
		return notify.KMSError(err)
	}
	return nil
}

// alarmActions is CloudWatch's ActionRunner: it publishes an alarm's
// notification to SNS as CloudWatch does, with the service principal
// cloudwatch.amazonaws.com, so an encrypted topic's key policy must allow
// that principal kms:GenerateDataKey and kms:Decrypt (the SNS developer
// guide, "Enable compatibility between event sources from AWS services and
// encrypted topics"). The AWS managed key (alias/aws/sns) never does: its
// policy admits only principals of the account calling through SNS. With
// IAM enforcement off the key policy is not consulted either.
type alarmActions struct{ cloud *Cloud }

// cloudWatchKeyDenied is what the alarm history quotes when the topic's key
// refuses CloudWatch, in AWS's words (AWS Knowledge Center, "How do I
// configure a CloudWatch alarm with an encrypted SNS topic?").
const cloudWatchKeyDenied = "CloudWatch Alarms does not have authorization to access the SNS topic encryption key."

// PublishAlarm implements monitoring.ActionRunner.
func (a alarmActions) PublishAlarm(ctx context.Context, n monitoring.AlarmNotice) error {
	c := a.cloud
	region := n.Region
	if parts := strings.SplitN(n.TopicARN, ":", 6); len(parts) == 6 {
		region = parts[3]
	}
	ctx = api.WithRequest(ctx, api.Request{Region: region, Account: n.Account, Service: "sns", Operation: "Publish"})
	if k, keyRegion, ok := c.topicKey(n.TopicARN); ok && c.enforceIAM {
		caller := keys.Caller{Caller: iam.Caller{Service: CloudWatchPrincipal}, Context: map[string][]string{
			"kms:ViaService": {"sns." + keyRegion + ".amazonaws.com"}, "aws:SourceArn": {n.AlarmARN},
			"aws:SourceAccount": {n.Account}, "aws:PrincipalServiceName": {CloudWatchPrincipal},
		}}
		for _, action := range topicKeyActions {
			err := c.Keys.Authorize(k, caller, action)
			var denied *iam.AccessDenied
			switch {
			case errors.As(err, &denied):
				return api.Errorf(http.StatusBadRequest, "KMSAccessDenied", "%s", cloudWatchKeyDenied)
			case err != nil:
				return fmt.Errorf("authorize CloudWatch's use of %s: %w", k.ARN, err)
			}
		}
	}
	_, err := c.SNS.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(n.TopicARN), Subject: aws.String(n.Subject), Message: aws.String(n.Message)})
	return err
}
