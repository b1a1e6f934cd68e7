package rollouttest

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Ledger is an in-memory rollout.Ledger with the DynamoDB ledger's
// conditional-write semantics.
type Ledger struct {
	mu       sync.Mutex
	leases   map[rollout.GroupKey]rollout.Lease
	rollouts map[string]*rollout.Rollout
	lkg      map[rollout.GroupKey]lkgRecord
	signals  map[string][]rollout.Signal
	tokens   map[string]string
	failures map[string][]error
	halts    map[rollout.GroupKey]rollout.Halt
	rolled   map[string]time.Time
}

type lkgRecord struct {
	v         rollout.Version
	rolloutID string
	at        time.Time
}

// NewLedger returns an empty ledger.
func NewLedger() *Ledger {
	return &Ledger{
		leases: map[rollout.GroupKey]rollout.Lease{}, rollouts: map[string]*rollout.Rollout{},
		lkg: map[rollout.GroupKey]lkgRecord{}, signals: map[string][]rollout.Signal{},
		tokens: map[string]string{}, failures: map[string][]error{}, halts: map[rollout.GroupKey]rollout.Halt{},
		rolled: map[string]time.Time{},
	}
}

var _ rollout.Ledger = (*Ledger)(nil)

// Fail makes the next call of method fail with err before it has any
// effect.
func (l *Ledger) Fail(method string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failures[method] = append(l.failures[method], err)
}

func (l *Ledger) injected(method string) error {
	q := l.failures[method]
	if len(q) == 0 {
		return nil
	}
	l.failures[method] = q[1:]
	return q[0]
}

// Lease returns the group's lease, if any.
func (l *Ledger) Lease(key rollout.GroupKey) (rollout.Lease, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ls, ok := l.leases[key]
	return ls, ok
}

// Token returns the token parked for the rollout.
func (l *Ledger) Token(rolloutID string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.tokens[rolloutID]
}

// Rollout returns the rollout record, or false.
func (l *Ledger) Rollout(id string) (rollout.Rollout, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.rollouts[id]
	if !ok {
		return rollout.Rollout{}, false
	}
	return clone(*r), true
}

func clone(r rollout.Rollout) rollout.Rollout {
	r.Steps = slices.Clone(r.Steps)
	return r
}

// AcquireLease implements rollout.Ledger.
func (l *Ledger) AcquireLease(_ context.Context, ls rollout.Lease, now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.injected("AcquireLease"); err != nil {
		return err
	}
	if cur, ok := l.leases[ls.Group]; ok && cur.Owner != ls.Owner && cur.ExpiresAt.After(now) {
		return &rollout.LeaseHeldError{Group: ls.Group, Holder: cur.Owner, ExpiresAt: cur.ExpiresAt}
	}
	l.leases[ls.Group] = ls
	return nil
}

// ReleaseLease implements rollout.Ledger.
func (l *Ledger) ReleaseLease(_ context.Context, key rollout.GroupKey, owner string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.injected("ReleaseLease"); err != nil {
		return err
	}
	if cur, ok := l.leases[key]; ok && cur.Owner == owner {
		delete(l.leases, key)
	}
	return nil
}

// PutRollout implements rollout.Ledger.
func (l *Ledger) PutRollout(_ context.Context, r rollout.Rollout) (rollout.Rollout, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.injected("PutRollout"); err != nil {
		return rollout.Rollout{}, err
	}
	if cur, ok := l.rollouts[r.ID]; ok {
		return clone(*cur), nil
	}
	c := clone(r)
	l.rollouts[r.ID] = &c
	return clone(c), nil
}

// GetRollout implements rollout.Ledger.
func (l *Ledger) GetRollout(_ context.Context, id string) (rollout.Rollout, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.injected("GetRollout"); err != nil {
		return rollout.Rollout{}, err
	}
	r, ok := l.rollouts[id]
	if !ok {
		return rollout.Rollout{}, &rollout.NotFoundError{Kind: "rollout", ID: id}
	}
	return clone(*r), nil
}

// UpdateRollout implements rollout.Ledger: the step is appended unless its
// key is recorded already.
func (l *Ledger) UpdateRollout(_ context.Context, id string, u rollout.RolloutUpdate) (rollout.Rollout, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.injected("UpdateRollout"); err != nil {
		return rollout.Rollout{}, err
	}
	r, ok := l.rollouts[id]
	if !ok {
		return rollout.Rollout{}, &rollout.NotFoundError{Kind: "rollout", ID: id}
	}
	if u.Status != "" {
		r.Status = u.Status
	}
	if u.To != nil {
		r.To = *u.To
	}
	if u.RefreshID != "" {
		r.RefreshID = u.RefreshID
	}
	if u.Reason != "" {
		r.Reason = u.Reason
	}
	if !u.EndedAt.IsZero() {
		r.EndedAt = u.EndedAt
	}
	if u.Step != nil && !slices.ContainsFunc(r.Steps, func(s rollout.Step) bool { return s.Key == u.Step.Key }) {
		r.Steps = append(r.Steps, *u.Step)
	}
	return clone(*r), nil
}

// History implements rollout.Ledger.
func (l *Ledger) History(_ context.Context, key rollout.GroupKey, since time.Time, limit int) ([]rollout.Rollout, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []rollout.Rollout
	for _, r := range l.rollouts {
		if r.Group == key && !r.StartedAt.Before(since) {
			out = append(out, clone(*r))
		}
	}
	slices.SortFunc(out, func(a, b rollout.Rollout) int { return b.StartedAt.Compare(a.StartedAt) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// LastKnownGood implements rollout.Ledger.
func (l *Ledger) LastKnownGood(_ context.Context, key rollout.GroupKey) (rollout.Version, time.Time, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.injected("LastKnownGood"); err != nil {
		return rollout.Version{}, time.Time{}, false, err
	}
	rec, ok := l.lkg[key]
	return rec.v, rec.at, ok, nil
}

// SetLastKnownGood implements rollout.Ledger: a newer record wins.
func (l *Ledger) SetLastKnownGood(_ context.Context, key rollout.GroupKey, v rollout.Version, rolloutID string, at time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.injected("SetLastKnownGood"); err != nil {
		return err
	}
	if cur, ok := l.lkg[key]; ok && cur.at.After(at) {
		return nil
	}
	l.lkg[key] = lkgRecord{v: v, rolloutID: rolloutID, at: at}
	return nil
}

// MarkRolled implements rollout.Ledger: the first mark's time is kept.
func (l *Ledger) MarkRolled(_ context.Context, region, imageID string, at time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.injected("MarkRolled"); err != nil {
		return err
	}
	if _, ok := l.rolled[region+"/"+imageID]; !ok {
		l.rolled[region+"/"+imageID] = at
	}
	return nil
}

// Rolled reports whether the image was marked rolled, and when first.
func (l *Ledger) Rolled(region, imageID string) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	at, ok := l.rolled[region+"/"+imageID]
	return at, ok
}

// Park implements rollout.Ledger.
func (l *Ledger) Park(_ context.Context, rolloutID, token string, afterSeq int64) ([]rollout.Signal, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.injected("Park"); err != nil {
		return nil, err
	}
	l.tokens[rolloutID] = token
	var out []rollout.Signal
	for _, s := range l.signals[rolloutID] {
		if s.Seq > afterSeq {
			out = append(out, s)
		}
	}
	return out, nil
}

// AddSignal implements rollout.Ledger.
func (l *Ledger) AddSignal(_ context.Context, rolloutID string, s rollout.Signal) (rollout.Signal, string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.injected("AddSignal"); err != nil {
		return rollout.Signal{}, "", err
	}
	s.Seq = int64(len(l.signals[rolloutID]) + 1)
	l.signals[rolloutID] = append(l.signals[rolloutID], s)
	return s, l.tokens[rolloutID], nil
}

// ActiveRollout implements rollout.Ledger.
func (l *Ledger) ActiveRollout(_ context.Context, key rollout.GroupKey) (rollout.Rollout, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ls, ok := l.leases[key]
	if !ok {
		return rollout.Rollout{}, false, nil
	}
	r, ok := l.rollouts[ls.Owner]
	if !ok {
		return rollout.Rollout{}, false, nil
	}
	return clone(*r), true, nil
}

// SetHalt sets the halt flag of h.Group (every group when zero).
func (l *Ledger) SetHalt(h rollout.Halt) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.halts[h.Group] = h
}

// ClearHalt clears the halt flag of group (the global one when zero).
func (l *Ledger) ClearHalt(group rollout.GroupKey) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.halts, group)
}

// Halted returns the group's halt, else the global one.
func (l *Ledger) Halted(_ context.Context, key rollout.GroupKey) (rollout.Halt, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.injected("Halted"); err != nil {
		return rollout.Halt{}, false, err
	}
	if h, ok := l.halts[key]; ok {
		return h, true, nil
	}
	h, ok := l.halts[rollout.GroupKey{}]
	return h, ok, nil
}
