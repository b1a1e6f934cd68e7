// Package cloudtest starts a stepped local cloud for a test and hands out
// real aws-sdk-go-v2 clients pointed at it, so that tests exercise the same
// serialization, error codes, pagination and retries as against AWS.
//
// It is also how the models' rule tests run over the wire: each model
// package (sim, monitoring, params, notify, eventbus, states) lists its
// rule tests as Rules, written against interfaces with the SDK's method
// signatures and a Backend that makes a fresh cloud. TestRules runs them on
// the model in process; TestConformance, in the package's external test
// package, runs the same functions with a Backend built from New, so that
// `go test -run Conformance ./test/localcloud/...` checks every rule
// through HTTP.
package cloudtest

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"

	"github.com/phoenix-rollouts/phoenix/test/localcloud"
)

// Env is one test's local cloud and its clients. Every client addresses
// Config.Region; InRegion gives clients for another region of the same
// cloud.
type Env struct {
	Cloud  *localcloud.Cloud
	URL    string
	Config aws.Config

	EC2           *ec2.Client
	AutoScaling   *autoscaling.Client
	ELB           *elasticloadbalancingv2.Client
	STS           *sts.Client
	CloudWatch    *cloudwatch.Client
	SSM           *ssm.Client
	SNS           *sns.Client
	EventBridge   *eventbridge.Client
	StepFunctions *sfn.Client
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
	return newEnv(cloud, srv.URL, "us-east-1")
}

// newEnv builds the clients of one region of a running cloud.
func newEnv(cloud *localcloud.Cloud, url, region string) *Env {
	return newEnvFromConfig(cloud, url, Config(url, region))
}

// newEnvFromConfig builds the clients of a running cloud from cfg.
func newEnvFromConfig(cloud *localcloud.Cloud, url string, cfg aws.Config) *Env {
	return &Env{
		Cloud:         cloud,
		URL:           url,
		Config:        cfg,
		EC2:           ec2.NewFromConfig(cfg),
		AutoScaling:   autoscaling.NewFromConfig(cfg),
		ELB:           elasticloadbalancingv2.NewFromConfig(cfg),
		STS:           sts.NewFromConfig(cfg),
		CloudWatch:    cloudwatch.NewFromConfig(cfg),
		SSM:           ssm.NewFromConfig(cfg),
		SNS:           sns.NewFromConfig(cfg),
		EventBridge:   eventbridge.NewFromConfig(cfg),
		StepFunctions: sfn.NewFromConfig(cfg),
	}
}

// InRegion returns an Env on the same cloud and clock whose clients
// address region, as a second AWS configuration would: the region reaches
// the cloud only through the request signature, exactly as it reaches AWS.
func (e *Env) InRegion(region string) *Env {
	cfg := e.Config.Copy()
	cfg.Region = region
	return newEnvFromConfig(e.Cloud, e.URL, cfg)
}

// WithoutClientValidation returns an Env on the same cloud whose clients
// send requests that lack required members instead of refusing them
// before sending, as aws-sdk-go-v2 does by default. Conformance tests use it
// so that the cloud's own answer (MissingParameter, ValidationError, ...)
// is what they check: it is what callers get from SDKs that do not
// validate on the client, such as the AWS SDK for JavaScript v3, and from
// hand-made requests.
func (e *Env) WithoutClientValidation() *Env {
	cfg := e.Config.Copy()
	cfg.APIOptions = append(cfg.APIOptions, removeInputValidation)
	return newEnvFromConfig(e.Cloud, e.URL, cfg)
}

// inputValidationID is the id every aws-sdk-go-v2 client gives its
// required-member check in the Initialize step.
const inputValidationID = "OperationInputValidation"

// removeInputValidation takes the required-member check out of a client's
// stack; operations without required members have none, which is fine.
func removeInputValidation(stack *middleware.Stack) error {
	if _, ok := stack.Initialize.Get(inputValidationID); !ok {
		return nil
	}
	_, err := stack.Initialize.Remove(inputValidationID)
	return err
}

// Config returns an SDK configuration for the local cloud at url; see
// localcloud.ClientConfig.
func Config(url, region string) aws.Config { return localcloud.ClientConfig(url, region) }

// Advance moves simulated time forward by d, running everything due.
func (e *Env) Advance(d time.Duration) { e.Cloud.Clock.Advance(d) }

// Settle runs everything due at the current instant without moving time,
// for example the first evaluation a new alarm schedules for "now".
func (e *Env) Settle() { e.Cloud.Clock.Settle() }

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
