package differential

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Both answer GetCallerIdentity with the default account and an ARN and
// user id; the ARN names a user (moto) or the local cloud's caller.
func TestGetCallerIdentity(t *testing.T) {
	p := newPair(t)
	l, m, lo, mo := both(t, p, func(c aws.Config) *sts.Client { return sts.NewFromConfig(c) },
		func(c *sts.Client) (*sts.GetCallerIdentityOutput, error) {
			return c.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
		})
	if lo != mo || lo.Code != "" {
		t.Fatalf("outcomes differ: local %+v, moto %+v", lo, mo)
	}
	if aws.ToString(l.Account) != aws.ToString(m.Account) || aws.ToString(l.Account) != "123456789012" {
		t.Errorf("account: local %q, moto %q", aws.ToString(l.Account), aws.ToString(m.Account))
	}
	if aws.ToString(l.Arn) == "" || aws.ToString(l.UserId) == "" {
		t.Errorf("local cloud answered %+v; want an ARN and a user id as moto gives (%s, %s)", l, aws.ToString(m.Arn), aws.ToString(m.UserId))
	}
}
