// Package identity is the local cloud's AWS STS, reduced to the one call
// Phoenix and the AWS CLI make to learn who they are. It lives apart from
// package localcloud so that the wire layer's generator can import it
// without importing the wire layer itself.
package identity

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// STS answers GetCallerIdentity for the local cloud's account.
type STS struct {
	// Account is the account id every caller belongs to.
	Account string
}

// GetCallerIdentity returns the local cloud's account and a fixed role
// identity: any credentials are accepted, so there is no real principal.
func (s *STS) GetCallerIdentity(ctx context.Context, _ *sts.GetCallerIdentityInput, _ ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	return &sts.GetCallerIdentityOutput{
		Account: aws.String(s.Account),
		Arn:     aws.String("arn:aws:sts::" + s.Account + ":assumed-role/phoenix-local/local"),
		UserId:  aws.String("AROALOCALCLOUD000000:local"),
	}, nil
}
