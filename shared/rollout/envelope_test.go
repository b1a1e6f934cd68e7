package rollout

import (
	"errors"
	"strings"
	"testing"
)

func TestParseEnvelope(t *testing.T) {
	good := `{"version":"0","id":"ev-1","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012",` +
		`"time":"2026-03-01T03:00:00Z","region":"eu-west-1","resources":["arn:aws:events:eu-west-1:123456789012:rule/nightly"],"detail":{}}`
	env, at, err := ParseEnvelope([]byte(good), "scheduled event", "aws.events", "Scheduled Event")
	if err != nil || env.ID != "ev-1" || at.Hour() != 3 || len(env.Resources) != 1 {
		t.Fatalf("good event: %+v %s %v", env, at, err)
	}
	cases := map[string]struct{ from, to, want string }{
		"another source":        {`"source":"aws.events"`, `"source":"aws.ec2"`, `source "aws.ec2" is not aws.events`},
		"another detail-type":   {`"Scheduled Event"`, `"Other"`, `detail-type "Other"`},
		"another version":       {`"version":"0"`, `"version":"1"`, `version "1"`},
		"no id":                 {`"id":"ev-1"`, `"id":""`, "has no id"},
		"a control character":   {`"id":"ev-1"`, `"id":"ev\u0001"`, "control or invalid"},
		"a short account":       {`"account":"123456789012"`, `"account":"1234"`, "12-digit"},
		"a region that is not":  {`"region":"eu-west-1"`, `"region":"Europe"`, "region name"},
		"a local time":          {`"time":"2026-03-01T03:00:00Z"`, `"time":"2026-03-01 03:00"`, "RFC 3339"},
		"a detail not object":   {`"detail":{}`, `"detail":"x"`, "not an object"},
		"two objects":           {`"detail":{}}`, `"detail":{}} {}`, "text follows"},
		"not JSON at all":       {good, "ALARM", "not a JSON event object"},
		"an id over 256 bytes":  {`"id":"ev-1"`, `"id":"` + strings.Repeat("a", 257) + `"`, "longer than 256"},
		"a missing detail":      {`,"detail":{}`, ``, "not an object"},
		"an unknown time value": {`"time":"2026-03-01T03:00:00Z"`, `"time":3`, "not a JSON event object"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			raw := strings.Replace(good, c.from, c.to, 1)
			_, _, err := ParseEnvelope([]byte(raw), "scheduled event", "aws.events", "Scheduled Event")
			var bad *BadInputError
			if !errors.As(err, &bad) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "scheduled event: ") {
				t.Errorf("%s: error %v, want BadInputError saying %q", raw, err, c.want)
			}
		})
	}
}
