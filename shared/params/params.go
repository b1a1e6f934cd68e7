// Package params is Phoenix's one caller of SSM Parameter Store: it reads
// the parameters that configure Phoenix at run time (the recycle's global
// freeze, docs/recycle.md: a value an operator can change in seconds,
// without a deploy) and, for the publishing path (shared/images), the
// aws:ec2:image parameters that announce images.
//
// For Value a missing parameter is not an error but an empty value,
// because "no parameter" is how an operator says "nothing set"; Parameter
// reports it as *rollout.NotFoundError. Throttling and server faults
// arrive as *rollout.TransientError through shared/awserr.
package params

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/phoenix-rollouts/phoenix/shared/awserr"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
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

// inRegion makes a call address region ("" keeps the client's), whatever
// region the client was made for.
func inRegion(region string) func(*ssm.Options) {
	return func(o *ssm.Options) {
		if region != "" {
			o.Region = region
		}
	}
}

// Value returns the current value of the named parameter in region, and
// "" with no error when the parameter does not exist. Values are read
// without decryption: a SecureString comes back as its ciphertext, which
// callers parsing a value will refuse, and Phoenix needs no KMS permission.
// Errors: *rollout.TransientError for throttling, server faults and
// network failures; any other failure (access denied, a malformed name)
// wrapped with the parameter's name.
func (r *Reader) Value(ctx context.Context, region, name string) (string, error) {
	out, err := r.client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)}, inRegion(region))
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

// Parameter is a parameter's current version as GetParameter returns it.
type Parameter struct {
	Name     string
	Value    string
	DataType string
	Version  int64
}

// Parameter reads the named parameter's current version in region,
// without decryption, as Value does. A parameter that does not exist is a
// *rollout.NotFoundError: the publishing path rejects an event naming one
// deleted since.
func (r *Reader) Parameter(ctx context.Context, region, name string) (Parameter, error) {
	out, err := r.client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)}, inRegion(region))
	if err != nil {
		return Parameter{}, awserr.Classify(fmt.Sprintf("get parameter %s in %s", name, region), err, "parameter", name, "ParameterNotFound", "ParameterVersionNotFound")
	}
	if out.Parameter == nil {
		return Parameter{}, &rollout.NotFoundError{Kind: "parameter", ID: name}
	}
	p := out.Parameter
	return Parameter{Name: aws.ToString(p.Name), Value: aws.ToString(p.Value), DataType: aws.ToString(p.DataType), Version: p.Version}, nil
}
