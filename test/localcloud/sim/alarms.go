package sim

import "sync"

// Alarm states, as CloudWatch names them.
const (
	AlarmOK               = "OK"
	AlarmAlarm            = "ALARM"
	AlarmInsufficientData = "INSUFFICIENT_DATA"
)

// AlarmSource tells the state of a CloudWatch alarm. Implementations must be
// safe to call with the World lock held and must not call into the World.
type AlarmSource interface {
	// AlarmState returns the alarm's state value and whether it exists.
	AlarmState(region, name string) (state string, ok bool)
}

// AlarmTable is a settable AlarmSource: the local cloud's alarm store until
// the CloudWatch model takes over, and a convenience for tests.
type AlarmTable struct {
	mu     sync.Mutex
	states map[string]string
}

// NewAlarmTable returns an empty table.
func NewAlarmTable() *AlarmTable { return &AlarmTable{states: map[string]string{}} }

// Set creates or updates an alarm's state.
func (t *AlarmTable) Set(region, name, state string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.states[region+"/"+name] = state
}

// AlarmState implements AlarmSource.
func (t *AlarmTable) AlarmState(region, name string) (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.states[region+"/"+name]
	return s, ok
}
