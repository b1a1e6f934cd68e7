// Package sim is the local cloud's model of the AWS resources Phoenix touches:
// EC2 images, launch templates and instances, Elastic Load Balancing v2 target
// groups and target health, and EC2 Auto Scaling groups with instance refresh.
//
// The model is plain Go with one lock. API methods (one per AWS operation,
// taking and returning the aws-sdk-go-v2 input and output types so that the
// wire layer can serve them unchanged) lock the World; callbacks scheduled on
// the clock lock it too. Helpers whose names start with a lower-case letter
// expect the lock to be held by their caller.
package sim

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
)

// DefaultAccount is the account id the local cloud answers as.
const DefaultAccount = "123456789012"

// Options configures a World.
type Options struct {
	// Clock is the scheduler every timed behaviour runs on. Required.
	Clock *clock.Sim
	// Seed makes ids and probabilistic behaviour repeatable.
	Seed uint64
	// Account is the owner of everything created; DefaultAccount if empty.
	Account string
	// Faults is shared with the wire layer; a new injector if nil.
	Faults *faults.Injector
}

// World holds all simulated resources, per region.
type World struct {
	mu    sync.Mutex
	clock *clock.Sim
	rng   *rand.Rand
	// seed is Options.Seed, for behaviour that must not consume rng (the
	// traffic model draws from sources keyed by resource and minute, so
	// that reading metrics never shifts the ids created afterwards).
	seed    uint64
	account string
	regions map[string]*Region

	subscribers []func(Event)
	events      []Event

	// Faults is consulted by the model (launch failures, capacity errors,
	// health flaps). The wire layer consults the same injector for API faults.
	Faults *faults.Injector

	// ec2 is the EC2/ELB state that is not per-region resource maps.
	ec2 *ec2Side

	// Alarms tells the state of CloudWatch alarms (for instance refresh
	// AutoRollback). Part 1 keeps a settable table; the CloudWatch model of
	// part 2 replaces it.
	Alarms AlarmSource

	// ImageParameters tells which SSM parameters reference an AMI, for
	// DescribeImageReferences (ec2_image_references.go); the local cloud
	// wires its Parameter Store here. Nil means no parameters.
	ImageParameters ImageParameterSource
}

// New makes an empty World.
func New(opts Options) *World {
	if opts.Clock == nil {
		panic("sim.New: Options.Clock is required")
	}
	acct := opts.Account
	if acct == "" {
		acct = DefaultAccount
	}
	inj := opts.Faults
	if inj == nil {
		inj = faults.New(opts.Seed)
	}
	return &World{
		clock:   opts.Clock,
		rng:     rand.New(rand.NewPCG(opts.Seed, 0x9e3779b97f4a7c15)),
		seed:    opts.Seed,
		account: acct,
		regions: map[string]*Region{},
		Faults:  inj,
		Alarms:  NewAlarmTable(),
		ec2:     newEC2Side(),
	}
}

// Clock returns the scheduler the World runs on.
func (w *World) Clock() *clock.Sim { return w.clock }

// Account returns the account id the World answers as.
func (w *World) Account() string { return w.account }

// Lock and Unlock give tests and the admin API a consistent view.
func (w *World) Lock()   { w.mu.Lock() }
func (w *World) Unlock() { w.mu.Unlock() }

// now is the current simulated time.
func (w *World) now() time.Time { return w.clock.Now() }

// region returns the named region's state, creating it on first use: the
// local cloud serves any region name a client asks for.
func (w *World) region(name string) *Region {
	if name == "" {
		name = "us-east-1"
	}
	r, ok := w.regions[name]
	if !ok {
		r = newRegion(name)
		w.regions[name] = r
	}
	return r
}

// Regions returns the names of regions that have state, sorted.
func (w *World) Regions() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]string, 0, len(w.regions))
	for n := range w.regions {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// schedule runs fn under the World lock d after now.
func (w *World) schedule(d time.Duration, name string, fn func()) *clock.Timer {
	return w.clock.After(d, name, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		fn()
	})
}

// hexID returns prefix-XXXXXXXXXXXXXXXXX (17 lower-case hex digits), the
// shape of EC2 resource ids.
func (w *World) hexID(prefix string) string {
	return fmt.Sprintf("%s-%017x", prefix, w.rng.Uint64()&0xfffffffffffffff|0x100000000000000)
}

// uuid returns a random (version 4 shaped) UUID from the World's seeded source.
func (w *World) uuid() string {
	a, b := w.rng.Uint64(), w.rng.Uint64()
	a = (a &^ 0xf000) | 0x4000
	b = (b &^ (0xc << 60)) | (0x8 << 60)
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}

// Event is one service event in the EventBridge envelope. Part 1 of the local
// cloud produces them (AMI state changes, instance refresh events); part 2
// delivers them through EventBridge.
type Event struct {
	ID         string          `json:"id"`
	Version    string          `json:"version"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       time.Time       `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// Subscribe registers fn to receive every event emitted from now on. fn is
// called with the World lock held and must not call back into the World
// synchronously; hand the event to a goroutine or a scheduled callback.
func (w *World) Subscribe(fn func(Event)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.subscribers = append(w.subscribers, fn)
}

// Events returns a copy of every event emitted so far, oldest first.
func (w *World) Events() []Event {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Event(nil), w.events...)
}

// Emit records and publishes a service event from a model outside this
// package (CloudWatch alarms, Parameter Store, Image Builder), stamped with
// the current simulated time. It takes the World lock.
func (w *World) Emit(region, source, detailType string, resources []string, detail any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.emit(region, source, detailType, resources, detail)
}

// emit records and publishes a service event stamped with the current time.
func (w *World) emit(region, source, detailType string, resources []string, detail any) {
	raw, err := json.Marshal(detail)
	if err != nil {
		panic(fmt.Sprintf("sim: event detail for %q does not marshal: %v", detailType, err))
	}
	if resources == nil {
		resources = []string{}
	}
	ev := Event{
		ID:         w.uuid(),
		Version:    "0",
		DetailType: detailType,
		Source:     source,
		Account:    w.account,
		Time:       w.now().UTC().Truncate(time.Second),
		Region:     region,
		Resources:  resources,
		Detail:     raw,
	}
	w.events = append(w.events, ev)
	for _, fn := range w.subscribers {
		fn(ev)
	}
}
