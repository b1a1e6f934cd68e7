package localcloud

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/wire"
)

// ClientConfig returns an aws-sdk-go-v2 configuration for the local cloud
// at url: static dummy credentials (the cloud accepts any), the standard
// retryer with short backoffs, so retries are exercised without slowing
// runs down, and wire.HTTPClient (see there for the loopback race it avoids).
func ClientConfig(url, region string) aws.Config {
	return aws.Config{
		Region:       region,
		BaseEndpoint: aws.String(url),
		HTTPClient:   wire.HTTPClient(),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDLOCALCLOUD", SecretAccessKey: "local", Source: "localcloud"}, nil
		}),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxBackoff = 50 * time.Millisecond
			})
		},
	}
}
