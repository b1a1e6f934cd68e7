package alarms

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// FuzzParseEvent holds the parser to its contract on any input: an error is
// always a *rollout.BadInputError with a reason, and an accepted event has
// every field the handler relies on, its ARN naming its alarm in its
// region and account. Run with: go test -fuzz FuzzParseEvent ./shared/alarms/
func FuzzParseEvent(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("..", "..", "events", "alarm-*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no alarm samples in events/: %v", err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"version":"0","source":"aws.cloudwatch","detail-type":"CloudWatch Alarm State Change","detail":{}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := ParseEvent(raw)
		if err != nil {
			var bad *rollout.BadInputError
			if !errors.As(err, &bad) || bad.Reason == "" {
				t.Fatalf("error %T %v is not a *rollout.BadInputError with a reason", err, err)
			}
			return
		}
		switch {
		case ev.ID == "" || len(ev.ID) > rollout.MaxEventID || strings.IndexFunc(ev.ID, unicode.IsControl) >= 0:
			t.Fatalf("accepted id %q", ev.ID)
		case !rollout.ValidAccount(ev.Account) || !rollout.ValidRegion(ev.Region) || ev.Time.IsZero():
			t.Fatalf("accepted an event without its envelope: %+v", ev)
		case ev.AlarmName == "" || len(ev.AlarmName) > maxAlarmName || strings.IndexFunc(ev.AlarmName, unicode.IsControl) >= 0:
			t.Fatalf("accepted alarm name %q", ev.AlarmName)
		case !strings.HasSuffix(ev.AlarmARN, ":cloudwatch:"+ev.Region+":"+ev.Account+":alarm:"+ev.AlarmName):
			t.Fatalf("accepted ARN %q for alarm %q in %s/%s", ev.AlarmARN, ev.AlarmName, ev.Region, ev.Account)
		case !validState(ev.State) || !validState(ev.PreviousState):
			t.Fatalf("accepted states %q and %q", ev.State, ev.PreviousState)
		case ev.At.IsZero() || len(ev.Reason) > maxReason:
			t.Fatalf("accepted state time %s, reason of %d bytes", ev.At, len(ev.Reason))
		}
		if name := RevertName(ev.ID); !rollout.ValidExecutionName(name) {
			t.Fatalf("event id %q names an invalid revert %q", ev.ID, name)
		}
	})
}
