// Package cloudtest starts a stepped local cloud for a test and hands out
// real aws-sdk-go-v2 clients pointed at it, so that tests exercise the same
// serialization, error codes, pagination and retries as against AWS.
package cloudtest

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/phoenix-rollouts/phoenix/test/localcloud"
)

// Env is one test's local cloud and its clients.
type Env struct {
	Cloud  *localcloud.Cloud
	URL    string
	Config aws.Config

	EC2         *ec2.Client
	AutoScaling *autoscaling.Client
	ELB         *elasticloadbalancingv2.Client
	STS         *sts.Client
}

// New starts a stepped local cloud on a loopback port for the duration of
// the test. opts may override the defaults (seed 1, clock.Epoch).
func New(t testing.TB, opts ...localcloud.Options) *Env {
	t.Helper()
	o := localcloud.Options{Seed: 1}
	if len(opts) > 0 {
		o = opts[0]
	}
	cloud, err := localcloud.New(o)
	if err != nil {
		t.Fatalf("start local cloud: %v", err)
	}
	srv := httptest.NewServer(cloud.Handler())
	t.Cleanup(srv.Close)
	cfg := Config(srv.URL, "us-east-1")
	return &Env{
		Cloud:       cloud,
		URL:         srv.URL,
		Config:      cfg,
		EC2:         ec2.NewFromConfig(cfg),
		AutoScaling: autoscaling.NewFromConfig(cfg),
		ELB:         elasticloadbalancingv2.NewFromConfig(cfg),
		STS:         sts.NewFromConfig(cfg),
	}
}

// Config returns an SDK configuration for the local cloud at url: static
// dummy credentials (the cloud accepts any) and the standard retryer with
// short backoffs, so retries are exercised without slowing tests down.
func Config(url, region string) aws.Config {
	return aws.Config{
		Region:       region,
		BaseEndpoint: aws.String(url),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDLOCALCLOUD", SecretAccessKey: "local", Source: "cloudtest"}, nil
		}),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxBackoff = 50 * time.Millisecond
			})
		},
	}
}

// Advance moves simulated time forward by d, running everything due.
func (e *Env) Advance(d time.Duration) { e.Cloud.Clock.Advance(d) }

// Now returns the simulated time.
func (e *Env) Now() time.Time { return e.Cloud.Clock.Now() }

// RunUntil advances simulated time event by event until cond holds, failing
// the test if limit simulated time passes first. cond may call the clients.
func (e *Env) RunUntil(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	if !e.Cloud.Clock.RunUntil(limit, cond) {
		t.Fatalf("after %s of simulated time: still waiting for %s", limit, what)
	}
}
