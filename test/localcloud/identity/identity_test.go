package identity

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// callerIdentity is the STS call, with the SDK client's signature.
type callerIdentity interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

var (
	_ callerIdentity = (*STS)(nil)
	_ callerIdentity = (*sts.Client)(nil)
)

// TestEveryCallerBelongsToTheCloudsAccount checks that the answer names
// the configured account in both the Account member and the role ARN.
func TestEveryCallerBelongsToTheCloudsAccount(t *testing.T) {
	var s callerIdentity = &STS{Account: "210987654321"}
	out, err := s.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Account) != "210987654321" || aws.ToString(out.Arn) != "arn:aws:sts::210987654321:assumed-role/phoenix-local/local" {
		t.Errorf("got account %q arn %q", aws.ToString(out.Account), aws.ToString(out.Arn))
	}
}
