// Package params reads SSM Parameter Store parameters that configure
// Phoenix at run time (the recycle's global freeze, docs/recycle.md): a
// value an operator can change in seconds, without a deploy.
//
// A missing parameter is not an error but an empty value, because "no
// parameter" is how an operator says "nothing set". Throttling and server
// faults arrive as *rollout.TransientError through shared/awserr.
package params

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/phoenix-rollouts/phoenix/shared/awserr"
)

// Client is the part of the SSM client the reader uses, with the SDK's
// signature, so that *ssm.Client fits as it is.
type Client interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

var _ Client = (*ssm.Client)(nil)

// Reader reads parameter values.
type Reader struct {
	client Client
}

// New returns a Reader over client.
func New(client Client) *Reader { return &Reader{client: client} }

// NewFromConfig returns a Reader with an SSM client made from cfg.
func NewFromConfig(cfg aws.Config) *Reader { return New(ssm.NewFromConfig(cfg)) }

// Value returns the current value of the named parameter in region, and
// "" with no error when the parameter does not exist. Values are read
// without decryption: a SecureString comes back as its ciphertext, which
// callers parsing a value will refuse, and Phoenix needs no KMS permission.
// Errors: *rollout.TransientError for throttling, server faults and
// network failures; any other failure (access denied, a malformed name)
// wrapped with the parameter's name.
func (r *Reader) Value(ctx context.Context, region, name string) (string, error) {
	out, err := r.client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)}, func(o *ssm.Options) {
		if region != "" {
			o.Region = region
		}
	})
	switch {
	case awserr.Code(err) == "ParameterNotFound":
		return "", nil
	case err != nil:
		return "", awserr.Classify(fmt.Sprintf("get parameter %s in %s", name, region), err, "parameter", name)
	case out.Parameter == nil:
		return "", nil
	}
	return aws.ToString(out.Parameter.Value), nil
}
