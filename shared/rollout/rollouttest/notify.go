package rollouttest

import (
	"context"
	"slices"
	"sync"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Notifier records notifications.
type Notifier struct {
	mu       sync.Mutex
	sent     []rollout.Notification
	failures []error
}

// Fail makes the next call of Notify fail with err, sending nothing.
func (n *Notifier) Fail(err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.failures = append(n.failures, err)
}

var _ rollout.Notifier = (*Notifier)(nil)

// Notify implements rollout.Notifier.
func (n *Notifier) Notify(_ context.Context, m rollout.Notification) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.failures) > 0 {
		err := n.failures[0]
		n.failures = n.failures[1:]
		return err
	}
	n.sent = append(n.sent, m)
	return nil
}

// Sent returns the notifications so far.
func (n *Notifier) Sent() []rollout.Notification {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.sent)
}

// DetailTypes returns the detail-types sent so far, in order.
func (n *Notifier) DetailTypes() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]string, len(n.sent))
	for i, m := range n.sent {
		out[i] = m.DetailType
	}
	return out
}

// Resumer is a fake Step Functions: each token can be resumed once; a
// second resume gets *rollout.StaleTokenError, as SendTaskSuccess answers
// TaskTimedOut for a task that has already ended (executions.Resumer also
// takes InvalidToken, for a token Step Functions never issued, as stale).
type Resumer struct {
	mu      sync.Mutex
	resumed map[string]rollout.Signal
	order   []string
}

var _ rollout.Resumer = (*Resumer)(nil)

// Resume implements rollout.Resumer.
func (r *Resumer) Resume(_ context.Context, token string, s rollout.Signal) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.resumed == nil {
		r.resumed = map[string]rollout.Signal{}
	}
	if _, ok := r.resumed[token]; ok {
		return &rollout.StaleTokenError{Err: errTaskTimedOut}
	}
	r.resumed[token] = s
	r.order = append(r.order, token)
	return nil
}

// Resumed returns the signal a token was resumed with.
func (r *Resumer) Resumed(token string) (rollout.Signal, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.resumed[token]
	return s, ok
}

// Count returns how many tokens were resumed.
func (r *Resumer) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.order)
}

type staticError string

func (e staticError) Error() string { return string(e) }

// errTaskTimedOut is Step Functions' answer to a second SendTaskSuccess.
const errTaskTimedOut = staticError("TaskTimedOut: Task Timed Out: 'Provided task does not exist anymore'")
