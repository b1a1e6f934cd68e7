// Package localcloud assembles Phoenix's local cloud: one clock, the models
// of every AWS service Phoenix uses, the wire layer serving the real AWS
// protocols on one endpoint, and the admin API under /_phoenix/.
//
// Tests use it in stepped mode (time moves only when the test says so); the
// standalone server (`make local`) runs it in real time with a speed factor.
package localcloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/dynamo"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/eventbus"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/eventbus/simbridge"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/functions"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/iam"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/imagepipeline"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/keys"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/monitoring"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/monitoring/worldmetrics"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/notify"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/params"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/sim"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/states"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/wire"
)

// AdminPrefix is the reserved path of the admin API. No AWS service uses a
// path beginning with an underscore, so it cannot shadow an operation.
const AdminPrefix = "/_phoenix/"

// ServiceSummary names the services the cloud serves, for banners and docs.
const ServiceSummary = "EC2, Auto Scaling, Elastic Load Balancing v2, CloudWatch, SSM Parameter Store, SNS, EventBridge, Step Functions, Lambda, EC2 Image Builder (GetImage), STS; DynamoDB when started with it"

// Options configures a Cloud.
type Options struct {
	// Realtime selects real-time mode; the default is stepped mode.
	Realtime bool
	// Speed is simulated seconds per wall second in real-time mode (60 if 0).
	Speed float64
	// Start is the first simulated instant (clock.Epoch if zero).
	Start time.Time
	// Seed makes ids, probabilistic faults and jitter repeatable.
	Seed uint64
	// Account is the account id the cloud answers as.
	Account string
	// Endpoint is the cloud's own URL, given to Lambda functions as
	// AWS_ENDPOINT_URL so that their SDK clients call back into it.
	Endpoint string
	// DynamoDB starts dynalite (Node, from test/node) so that DynamoDB
	// requests are served; off by default because it costs a child process.
	DynamoDB bool
	// NodeDir is the test/node folder holding dynalite (found from the
	// working directory if empty).
	NodeDir string
	// Logger receives one line per request; nothing is logged if nil.
	Logger *slog.Logger
	// IAMOff turns IAM enforcement off, for debugging: calls made by
	// deployed functions and state machines are then not held against
	// their roles' policies. Enforcement is on by default; the
	// PHOENIX_LOCALCLOUD_IAM=off environment variable also turns it off.
	IAMOff bool
}

// Cloud is a local cloud: every simulated service on one clock.
type Cloud struct {
	Clock  *clock.Sim
	World  *sim.World
	Faults *faults.Injector
	Wire   *wire.Server

	CloudWatch    *monitoring.CloudWatch
	Parameters    *params.ParameterStore
	SNS           *notify.SNS
	ImageBuilder  *imagepipeline.ImageBuilder
	EventBridge   *eventbus.EventBridge
	StepFunctions *states.Service
	Lambda        *functions.Service
	// DynamoDB is nil unless Options.DynamoDB was set.
	DynamoDB *dynamo.Server
	// IAM holds the execution roles deployments create, with their
	// policies (docs/iam-local.md).
	IAM *iam.Roles
	// Keys holds the KMS keys deployments create and the AWS managed key
	// of SNS; SNS resolves encrypted topics' keys in it (no KMS API is
	// served).
	Keys *keys.Store

	enforceIAM bool

	sts     *STS
	opts    Options
	handler http.Handler
}

// New builds a Cloud with every simulated service registered and wired to
// the others: service events flow into EventBridge, EventBridge targets
// reach Lambda and Step Functions, Step Functions tasks reach Lambda, SNS,
// DynamoDB and every other service through aws-sdk integrations, and
// CloudWatch alarms drive instance refresh AutoRollback and publish their
// SNS actions (kms.go). Close stops the child processes it may start.
func New(opts Options) (*Cloud, error) {
	if opts.Speed == 0 {
		opts.Speed = 60
	}
	if opts.Speed < 0 {
		return nil, fmt.Errorf("speed must be positive, got %v", opts.Speed)
	}
	var clk *clock.Sim
	if opts.Realtime {
		clk = clock.NewRealtime(opts.Start)
	} else {
		clk = clock.NewStepped(opts.Start)
	}
	inj := faults.New(opts.Seed)
	world := sim.New(sim.Options{Clock: clk, Seed: opts.Seed, Account: opts.Account, Faults: inj})
	acct := world.Account()
	c := &Cloud{Clock: clk, World: world, Faults: inj, opts: opts, sts: &STS{Account: acct},
		IAM: &iam.Roles{}, enforceIAM: iamEnforced(opts)}
	c.Wire = wire.NewServer(wire.Options{Account: acct, Faults: inj, Logger: opts.Logger, Authorize: c.authorize, Throttled: c.apiThrottled})

	c.CloudWatch = worldmetrics.NewCloudWatch(world)
	world.Alarms = c.CloudWatch
	c.Parameters = params.New(params.Options{Clock: clk, Events: world, Images: world.EC2(), Account: acct})
	// DescribeImageReferences reports the aws:ec2:image parameters naming an AMI.
	world.ImageParameters = c.Parameters
	c.Keys = keys.New(keys.Options{Account: acct, Seed: opts.Seed})
	c.SNS = notify.New(notify.Options{Clock: clk, Seed: opts.Seed, Account: acct, Keys: c.Keys})
	c.CloudWatch.SetActions(alarmActions{cloud: c})
	c.ImageBuilder = imagepipeline.New(imagepipeline.Options{Clock: clk, Events: world, EC2: world.EC2(), Account: acct})
	fns, err := functions.New(functions.Options{Clock: clk, Faults: inj, Account: acct, Seed: opts.Seed, Endpoint: opts.Endpoint, Metrics: c.CloudWatch})
	if err != nil {
		return nil, fmt.Errorf("lambda: %w", err)
	}
	c.Lambda = fns
	c.StepFunctions = states.New(states.Options{Clock: clk, Seed: opts.Seed, Account: acct, Metrics: c.CloudWatch})
	c.EventBridge = eventbus.New(eventbus.Options{Clock: clk, Target: targets{c}, Account: acct, Seed: opts.Seed})
	simbridge.Attach(c.EventBridge, world)

	integ := states.Integrations{
		Lambda:    authorizingLambda{cloud: c, next: fns},
		SNS:       authorizingSNS{cloud: c, next: c.SNS},
		SDK:       &sdkCaller{cloud: c},
		Authorize: c.authorizeIntegration,
	}
	if opts.DynamoDB {
		d, err := dynamo.Start(context.Background(), dynamo.Options{NodeDir: opts.NodeDir})
		if err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("dynamodb: %w", err)
		}
		c.DynamoDB = d
		integ.DynamoDB = dynamodb.NewFromConfig(ClientConfig(d.Endpoint(), "us-east-1"))
	}
	c.StepFunctions.SetIntegrations(integ)

	for name, h := range c.handlers() {
		svc, ok := wire.Describe(name, h)
		if !ok {
			_ = c.Close()
			return nil, fmt.Errorf("no wire description for service %s", name)
		}
		if err := c.Wire.Register(svc); err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("register %s: %w", name, err)
		}
	}
	c.Wire.Handle(AdminPrefix, c.adminHandler())
	c.handler = c.Wire
	if c.DynamoDB != nil {
		dh := c.DynamoDB.Handler()
		c.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if dynamo.IsDynamoDBRequest(r) {
				_, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
				c.Wire.Count(r, "dynamodb", op)
				if c.enforceIAM {
					// The body is read for authorization and
					// handed on to dynalite unchanged.
					body, err := io.ReadAll(r.Body)
					if err != nil {
						http.Error(w, err.Error(), http.StatusBadRequest)
						return
					}
					r.Body = io.NopCloser(bytes.NewReader(body))
					if c.authorizeDynamo(w, r, op, body) {
						return
					}
				}
				if c.dynamoFault(w, r) {
					return
				}
				dh.ServeHTTP(w, r)
				return
			}
			c.Wire.ServeHTTP(w, r)
		})
	}
	return c, nil
}

// handlers maps each service served over HTTP, by signing name, to its model.
func (c *Cloud) handlers() map[string]any {
	return map[string]any{
		"ec2":                  c.World.EC2(),
		"autoscaling":          c.World.AutoScaling(),
		"elasticloadbalancing": c.World.ELB(),
		"sts":                  c.sts,
		"monitoring":           c.CloudWatch,
		"ssm":                  c.Parameters,
		"sns":                  c.SNS,
		"events":               c.EventBridge,
		"states":               c.StepFunctions,
		"lambda":               c.Lambda,
		"imagebuilder":         c.ImageBuilder,
	}
}

// Close stops the child processes the cloud started (function runtimes,
// dynalite). It is safe to call more than once.
func (c *Cloud) Close() error {
	var errs []error
	if c.Lambda != nil {
		errs = append(errs, c.Lambda.Close())
	}
	if c.DynamoDB != nil {
		errs = append(errs, c.DynamoDB.Close())
	}
	return errors.Join(errs...)
}

// Handler returns the HTTP handler serving every service and the admin API.
func (c *Cloud) Handler() http.Handler { return c.handler }

// Serve answers requests on l until ctx ends, driving the clock in real-time
// mode. It returns nil on a clean shutdown.
func (c *Cloud) Serve(ctx context.Context, l net.Listener) error {
	hs := &http.Server{Handler: c.Handler(), ReadHeaderTimeout: 10 * time.Second}
	if c.opts.Realtime {
		go c.Clock.RunRealtime(ctx, c.opts.Speed, 0)
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := hs.Shutdown(shutdownCtx)
		if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
			return serr
		}
		return err
	}
}

// dynamoFault applies API fault rules to a DynamoDB request before it is
// forwarded to dynalite, answering in DynamoDB's own error shape; it
// reports whether it answered.
func (c *Cloud) dynamoFault(w http.ResponseWriter, r *http.Request) bool {
	_, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
	for _, rule := range c.Faults.API("dynamodb", op) {
		switch rule.Kind {
		case faults.Latency:
			select {
			case <-time.After(rule.Delay()):
			case <-r.Context().Done():
				return true
			}
		case faults.Throttle, faults.ServerError:
			if rule.Kind == faults.Throttle {
				c.dynamoRequestThrottled(r, op)
			}
			code, status, msg := "ThrottlingException", http.StatusBadRequest, "Rate of requests exceeds the allowed throughput."
			if rule.Kind == faults.ServerError {
				code, status, msg = "InternalServerError", http.StatusInternalServerError, "Internal server error"
			}
			if rule.Code != "" {
				code = rule.Code
			}
			if rule.Status != 0 {
				status = rule.Status
			}
			if rule.Message != "" {
				msg = rule.Message
			}
			body, _ := json.Marshal(map[string]string{"__type": "com.amazonaws.dynamodb.v20120810#" + code, "message": msg})
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			w.Header().Set("X-Amzn-Requestid", fmt.Sprintf("%s-%d", rule.ID, rule.Fired))
			w.WriteHeader(status)
			_, _ = w.Write(body)
			return true
		}
	}
	return false
}
