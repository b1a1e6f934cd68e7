package deploy

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/phoenix-rollouts/phoenix/test/localcloud"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

// ClientsFor returns Clients that call the local cloud's models directly.
// DynamoDB is set only when the cloud runs dynalite.
func ClientsFor(c *localcloud.Cloud) Clients {
	cl := Clients{
		Lambda:        c.Lambda,
		Events:        c.EventBridge,
		StepFunctions: c.StepFunctions,
		SNS:           c.SNS,
		CloudWatch:    c.CloudWatch,
		SSM:           c.Parameters,
		IAM:           c.IAM,
		KMS:           c.Keys,
	}
	if c.DynamoDB != nil {
		cl.DynamoDB = dynamodb.NewFromConfig(localcloud.ClientConfig(c.DynamoDB.Endpoint(), api.DefaultRegion))
	}
	return cl
}

// File parses the template at path and deploys it on the local cloud, with
// relative paths starting at the template's folder.
func File(ctx context.Context, c *localcloud.Cloud, path string, opts Options) (*Stack, error) {
	tpl, err := ParseFile(path)
	if err != nil {
		return nil, err
	}
	if opts.TemplateDir == "" {
		opts.TemplateDir = filepath.Dir(path)
	}
	st, err := Local(ctx, c, tpl, opts)
	if err != nil {
		return nil, fmt.Errorf("deploy %s: %w", path, err)
	}
	return st, nil
}

// Local deploys a parsed template on the local cloud, in the cloud's
// account and (unless opts say otherwise) the default region; relative
// paths start at opts.TemplateDir.
func Local(ctx context.Context, c *localcloud.Cloud, tpl *Template, opts Options) (*Stack, error) {
	if opts.Account == "" {
		opts.Account = c.World.Account()
	}
	if opts.Region == "" {
		opts.Region = api.DefaultRegion
	}
	ctx = api.WithRequest(ctx, api.Request{Region: opts.Region, Account: opts.Account})
	return Deploy(ctx, tpl, ClientsFor(c), opts)
}
