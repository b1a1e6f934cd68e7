package sim

import "time"

// EC2Config holds the timings and rates of the EC2 and Elastic Load
// Balancing half of the model. The zero value of a field means its default.
type EC2Config struct {
	// ImageAvailableDelay is how long a registered or created image stays
	// pending before it becomes available. Default 3 minutes.
	ImageAvailableDelay time.Duration
	// DeregisteredImageVisible is how long DescribeImages still lists a
	// deregistered image (EC2: "for a short interval"). Default 1 hour.
	DeregisteredImageVisible time.Duration
	// PendingTime is how long an instance stays pending before it runs.
	// Default 30 seconds.
	PendingTime time.Duration
	// AppStartTime is how long after entering running an instance's
	// application starts answering health checks. Default 60 seconds.
	AppStartTime time.Duration
	// SlowBootFactor multiplies PendingTime and AppStartTime for images
	// whose behaviour is slow-boot. Default 5.
	SlowBootFactor int
	// ShutdownTime is how long an instance stays shutting-down. Default 30
	// seconds.
	ShutdownTime time.Duration
	// TerminatedVisible is how long a terminated instance stays visible.
	// Default 1 hour.
	TerminatedVisible time.Duration
	// LoadBalancerProvisioning is how long a new load balancer stays in the
	// provisioning state. Default 60 seconds.
	LoadBalancerProvisioning time.Duration
	// RequestsPerMinute is the client traffic each load balancer receives,
	// split by its front listener's forward action (World.Traffic).
	// Default 600.
	RequestsPerMinute float64
}

// DefaultEC2Config returns the default timings and rates.
func DefaultEC2Config() EC2Config {
	return EC2Config{
		ImageAvailableDelay:      3 * time.Minute,
		DeregisteredImageVisible: time.Hour,
		PendingTime:              30 * time.Second,
		AppStartTime:             60 * time.Second,
		SlowBootFactor:           5,
		ShutdownTime:             30 * time.Second,
		TerminatedVisible:        time.Hour,
		LoadBalancerProvisioning: 60 * time.Second,
		RequestsPerMinute:        600,
	}
}

// withDefaults fills the zero fields of c from DefaultEC2Config.
func (c EC2Config) withDefaults() EC2Config {
	d := DefaultEC2Config()
	if c.ImageAvailableDelay <= 0 {
		c.ImageAvailableDelay = d.ImageAvailableDelay
	}
	if c.DeregisteredImageVisible <= 0 {
		c.DeregisteredImageVisible = d.DeregisteredImageVisible
	}
	if c.PendingTime <= 0 {
		c.PendingTime = d.PendingTime
	}
	if c.AppStartTime <= 0 {
		c.AppStartTime = d.AppStartTime
	}
	if c.SlowBootFactor <= 0 {
		c.SlowBootFactor = d.SlowBootFactor
	}
	if c.ShutdownTime <= 0 {
		c.ShutdownTime = d.ShutdownTime
	}
	if c.TerminatedVisible <= 0 {
		c.TerminatedVisible = d.TerminatedVisible
	}
	if c.LoadBalancerProvisioning <= 0 {
		c.LoadBalancerProvisioning = d.LoadBalancerProvisioning
	}
	if c.RequestsPerMinute <= 0 {
		c.RequestsPerMinute = d.RequestsPerMinute
	}
	return c
}

// SetEC2Config replaces the EC2/ELB timings; it applies to what is scheduled
// from then on.
func (w *World) SetEC2Config(c EC2Config) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ec2State().cfg = c.withDefaults()
}

// EC2Config returns the EC2/ELB timings in force.
func (w *World) EC2Config() EC2Config {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ec2State().cfg
}

// ec2Side is the EC2/ELB state that is not per-resource: the
// configuration, load balancers and listeners, id sequences and warnings.
type ec2Side struct {
	cfg EC2Config
	// noise is how instances' numbers vary (noise.go).
	noise Noise
	// seq orders resources by creation, for stable listings and tokens.
	seq uint64
	// lbs and listeners are keyed by region, then ARN.
	lbs       map[string]map[string]*LoadBalancer
	listeners map[string]map[string]*Listener
	// behaviorWarnings lists images whose phoenix-sim:behavior tag could
	// not be parsed, once each, for the admin API and tests.
	behaviorWarnings []string
}

func newEC2Side() *ec2Side {
	return &ec2Side{
		cfg:       DefaultEC2Config(),
		noise:     DefaultNoise(),
		lbs:       map[string]map[string]*LoadBalancer{},
		listeners: map[string]map[string]*Listener{},
	}
}

// ec2State returns w's EC2/ELB side state.
func (w *World) ec2State() *ec2Side { return w.ec2 }

// nextSeq returns the next creation sequence number.
func (w *World) nextSeq() uint64 {
	s := w.ec2State()
	s.seq++
	return s.seq
}

// cfg returns the EC2/ELB configuration; the World lock must be held.
func (w *World) cfg() EC2Config { return w.ec2State().cfg }

// loadBalancers returns the region's load balancers keyed by ARN.
func (w *World) loadBalancers(r *Region) map[string]*LoadBalancer {
	s := w.ec2State()
	m, ok := s.lbs[r.Name]
	if !ok {
		m = map[string]*LoadBalancer{}
		s.lbs[r.Name] = m
	}
	return m
}

// listenersOf returns the region's listeners keyed by ARN.
func (w *World) listenersOf(r *Region) map[string]*Listener {
	s := w.ec2State()
	m, ok := s.listeners[r.Name]
	if !ok {
		m = map[string]*Listener{}
		s.listeners[r.Name] = m
	}
	return m
}
