package functions

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/monitoring"
)

// tailBytes is how much of an invocation's log LogType Tail returns.
const tailBytes = 4096

// LogEvent is one line of a function's log, as CloudWatch Logs would hold
// it in the function's log group.
type LogEvent struct {
	// Time is the simulated instant the line was recorded.
	Time time.Time
	// Stream is the log stream: one per execution environment.
	Stream string
	// Message is the line without its trailing newline.
	Message string
}

// logGroup is a function's default log group.
func logGroup(name string) string { return "/aws/lambda/" + name }

// newStreamName returns a log stream name in Lambda's format,
// "2026/01/05/[$LATEST]<32 hex digits>"; callers hold s.mu.
func (s *Service) newStreamName() string {
	return s.clock.Now().Format("2006/01/02") + "/[$LATEST]" + s.randHex(32)
}

// Logs returns the log events of a function (in region, or
// api.DefaultRegion if empty), oldest first: the runtime's stdout and
// stderr, and the START, END and REPORT lines Lambda adds. A deleted
// function has none.
func (s *Service) Logs(region, name string) []LogEvent {
	if region == "" {
		region = api.DefaultRegion
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fn := s.lookup(region, name)
	if fn == nil {
		return nil
	}
	return append([]LogEvent(nil), fn.logs...)
}

// LogText returns a function's log as text, one event per line.
func (s *Service) LogText(region, name string) string {
	var b strings.Builder
	for _, ev := range s.Logs(region, name) {
		b.WriteString(ev.Message)
		b.WriteByte('\n')
	}
	return b.String()
}

// invocationLog gathers the lines of one invocation in order.
type invocationLog struct {
	lines []string
}

// output adds what a runtime wrote, split into lines.
func (l *invocationLog) output(b []byte) {
	for _, line := range bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n")) {
		if len(b) == 0 {
			return
		}
		l.lines = append(l.lines, strings.TrimRight(string(line), "\r"))
	}
}

// add appends a line Lambda writes itself.
func (l *invocationLog) add(format string, args ...any) {
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

// tail returns the last 4 KB of the invocation's log, base64-encoded, as
// Invoke's LogResult.
func (l *invocationLog) tail() string {
	text := strings.Join(l.lines, "\n") + "\n"
	if len(text) > tailBytes {
		text = text[len(text)-tailBytes:]
	}
	return base64.StdEncoding.EncodeToString([]byte(text))
}

// extractMetrics returns the metrics CloudWatch Logs extracts from the
// embedded metric format lines of an invocation's log, each at its line's
// _aws.Timestamp, in the function's region. Every other line, an invalid
// EMF document included, stays a plain log line and yields nothing, as in
// CloudWatch Logs; record keeps every line either way.
func (s *Service) extractMetrics(region string, l *invocationLog) []monitoring.Sample {
	if s.metrics == nil {
		return nil
	}
	now := s.clock.Now()
	var out []monitoring.Sample
	for _, line := range l.lines {
		if got, err := monitoring.ExtractEMF(region, line, now); err == nil {
			out = append(out, got...)
		}
	}
	return out
}

// record appends an invocation's lines to the function's log, keeping at
// most Options.MaxLogEvents events; callers hold s.mu. The metrics in its
// EMF lines are taken out beforehand, by extractMetrics, outside the lock.
func (s *Service) record(fn *function, stream string, l *invocationLog) {
	now := s.clock.Now()
	for _, line := range l.lines {
		fn.logs = append(fn.logs, LogEvent{Time: now, Stream: stream, Message: line})
	}
	if over := len(fn.logs) - s.opts.MaxLogEvents; over > 0 {
		fn.logs = append([]LogEvent(nil), fn.logs[over:]...)
	}
}
