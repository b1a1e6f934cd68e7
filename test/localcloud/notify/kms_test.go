package notify

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"
)

// SNS accepts any KmsMasterKeyId at CreateTopic and looks the key up only
// when it encrypts a message: a publish to a topic whose key does not
// exist fails with KMSNotFound and KMS's message, whoever publishes, and
// nothing is recorded. The AWS managed key alias/aws/sns always exists.
func testAnEncryptedTopicsKeyIsLookedUpWhenAMessageIsPublished(t *testing.T, backend Backend) {
	e := newEnv(t, backend)
	cases := []struct {
		name, key, want string
	}{
		{"the AWS managed key is always there", "alias/aws/sns", ""},
		{"an unknown alias is not found", "alias/nope", "Alias arn:aws:kms:eu-west-1:123456789012:alias/nope is not found. (Service: AWSKMS; Status Code: 400; Error Code: NotFoundException; Request ID: "},
		{"an unknown key id is not found", "1234abcd-12ab-34cd-56ef-1234567890ab", "Key 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab' does not exist (Service: AWSKMS;"},
		{"an unknown key ARN is not found", "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", "Key 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab' does not exist"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			arn := e.topic("encrypted-"+string(rune('a'+i)), map[string]string{"KmsMasterKeyId": c.key})
			attrs, err := e.api.GetTopicAttributes(e.ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)})
			if err != nil || attrs.Attributes["KmsMasterKeyId"] != c.key {
				t.Fatalf("attributes %v, %v: want KmsMasterKeyId %s kept as given", attrs, err, c.key)
			}
			_, err = e.api.Publish(e.ctx, &sns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("m")})
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantCode(t, err, "KMSNotFound")
			var ae smithy.APIError
			if errors.As(err, &ae) && !strings.HasPrefix(ae.ErrorMessage(), c.want) {
				t.Errorf("message %q\ndoes not start %q", ae.ErrorMessage(), c.want)
			}
			if n := len(e.model.Messages(arn)); n != 0 {
				t.Errorf("%d messages recorded for a refused publish", n)
			}
		})
	}
}
