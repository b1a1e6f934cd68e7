// Package localcloud assembles Phoenix's local cloud: one clock, one world
// model, the wire layer serving the real AWS protocols on one endpoint, and
// the admin API under /_phoenix/.
//
// Tests use it in stepped mode (time moves only when the test says so); the
// standalone server (`make local`) runs it in real time with a speed factor.
package localcloud

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/sim"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/wire"
)

// AdminPrefix is the reserved path of the admin API. No AWS service uses a
// path beginning with an underscore, so it cannot shadow an operation.
const AdminPrefix = "/_phoenix/"

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
	// Logger receives one line per request; nothing is logged if nil.
	Logger *slog.Logger
}

// Cloud is a running local cloud.
type Cloud struct {
	Clock  *clock.Sim
	World  *sim.World
	Faults *faults.Injector
	Wire   *wire.Server

	opts Options
}

// New builds a Cloud with every simulated service registered.
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
	srv := wire.NewServer(wire.Options{Account: world.Account(), Faults: inj, Logger: opts.Logger})
	c := &Cloud{Clock: clk, World: world, Faults: inj, Wire: srv, opts: opts}
	for _, svc := range c.services() {
		if err := srv.Register(svc); err != nil {
			return nil, fmt.Errorf("register %s: %w", svc.Name, err)
		}
	}
	srv.Handle(AdminPrefix, c.adminHandler())
	return c, nil
}

// services lists what the cloud serves, with each service's protocol facts.
func (c *Cloud) services() []wire.Service {
	return []wire.Service{
		{
			Name: "ec2", Protocol: wire.EC2Query, Version: "2016-11-15",
			XMLNamespace: "http://ec2.amazonaws.com/doc/2016-11-15/",
			Handler:      c.World.EC2(),
			ThrottleCode: "RequestLimitExceeded", ThrottleStatus: http.StatusServiceUnavailable,
		},
		{
			Name: "autoscaling", Protocol: wire.AWSQuery, Version: "2011-01-01",
			XMLNamespace: "http://autoscaling.amazonaws.com/doc/2011-01-01/",
			Handler:      c.World.AutoScaling(),
			ThrottleCode: "Throttling", ThrottleStatus: http.StatusBadRequest,
		},
		{
			Name: "elasticloadbalancing", Protocol: wire.AWSQuery, Version: "2015-12-01",
			XMLNamespace: "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/",
			Handler:      c.World.ELB(),
			ThrottleCode: "Throttling", ThrottleStatus: http.StatusBadRequest,
		},
		{
			Name: "sts", Protocol: wire.AWSQuery, Version: "2011-06-15",
			XMLNamespace: "https://sts.amazonaws.com/doc/2011-06-15/",
			Handler:      &STS{Account: c.World.Account()},
			ThrottleCode: "Throttling", ThrottleStatus: http.StatusBadRequest,
		},
	}
}

// Handler returns the HTTP handler serving every service and the admin API.
func (c *Cloud) Handler() http.Handler { return c.Wire }

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

// ServiceSummary names the services and protocols the cloud serves, for
// banners and docs.
const ServiceSummary = "EC2 (ec2Query), Auto Scaling, Elastic Load Balancing v2, STS (awsQuery)"
