// Package cloudtest starts a stepped local cloud for a test and hands out
// real aws-sdk-go-v2 clients pointed at it, so that tests exercise the same
// serialization, error codes, pagination and retries as against AWS.
package cloudtest

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
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
	srv := httptest.NewUnstartedServer(nil)
	if o.Endpoint == "" {
		o.Endpoint = "http://" + srv.Listener.Addr().String()
	}
	cloud, err := localcloud.New(o)
	if err != nil {
		srv.Listener.Close()
		t.Fatalf("start local cloud: %v", err)
	}
	srv.Config.Handler = cloud.Handler()
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		if err := cloud.Close(); err != nil {
			t.Errorf("stop local cloud: %v", err)
		}
	})
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

// Config returns an SDK configuration for the local cloud at url; see
// localcloud.ClientConfig.
func Config(url, region string) aws.Config { return localcloud.ClientConfig(url, region) }

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
