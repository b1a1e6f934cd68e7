package eventbus

import (
	"encoding/json"
	"errors"
	"testing"
)

var fuzzSeedPatterns = []string{
	`{"source":["aws.ec2"],"detail":{"state":["running",{"prefix":"init"}]}}`,
	`{"detail":{"c-count":[{"numeric":[">",0,"<=",5]}],"x-limit":[{"anything-but":[100,200]}]}}`,
	`{"detail":{"source-ip":[{"cidr":"10.0.0.0/24"}],"missing":[{"exists":false}]}}`,
	`{"$or":[{"detail":{"state":[{"equals-ignore-case":"RUNNING"}]}},{"source":[{"wildcard":"aws.*"}]}]}`,
	`{"employees":{"firstName":["Anna"],"middle":[{"exists":false}]}}`,
	`{"detail":{"FileName":[{"suffix":{"equals-ignore-case":".png"}},{"anything-but":{"wildcard":"*/lib/*"}}]}}`,
	`{"a":[null,true,1e3,""]}`,
}

// FuzzCompilePattern checks that any text either compiles or is refused with
// a PatternError, never a panic, and that a compiled pattern means the same
// inside a $or with itself.
func FuzzCompilePattern(f *testing.F) {
	for _, p := range fuzzSeedPatterns {
		f.Add(p)
	}
	f.Add(`{"a":[{"numeric":["<",5,">",1]}]}`)
	f.Add(`{"a":[{"wildcard":"a\\*b**"}]}`)
	events := []*Event{}
	for _, e := range []string{ec2Event, autoScalingEvent, employeesEvent} {
		ev, err := ParseEvent([]byte(e))
		if err != nil {
			f.Fatal(err)
		}
		events = append(events, ev)
	}
	f.Fuzz(func(t *testing.T, pattern string) {
		p, err := CompilePattern(pattern)
		if err != nil {
			var pe *PatternError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v, want *PatternError", err, err)
			}
			return
		}
		doubled, err := CompilePattern(`{"$or":[` + pattern + `,` + pattern + `]}`)
		for _, ev := range events {
			got := p.Match(ev)
			if err == nil && doubled.Match(ev) != got {
				t.Fatalf("pattern %s matches %v alone but differently inside $or", pattern, got)
			}
		}
	})
}

// FuzzMatch checks that matching never panics and does not depend on how
// the event's JSON is spelled.
func FuzzMatch(f *testing.F) {
	for _, p := range fuzzSeedPatterns {
		f.Add(p, ec2Event)
		f.Add(p, employeesEvent)
	}
	f.Add(`{"a":{"b":[{"exists":false}]}}`, `{"a":[[],[{"b":1}],3]}`)
	f.Fuzz(func(t *testing.T, pattern, event string) {
		p, err := CompilePattern(pattern)
		if err != nil {
			return
		}
		ev, err := ParseEvent([]byte(event))
		if err != nil {
			return
		}
		got := p.Match(ev)
		var doc any
		if err := json.Unmarshal([]byte(event), &doc); err != nil {
			t.Fatalf("ParseEvent accepted what encoding/json refuses: %v", err)
		}
		re, err := decodeJSON([]byte(event))
		if err != nil {
			return
		}
		again, err := ParseEvent(marshalJSON(re))
		if err != nil {
			t.Fatalf("re-encoded event does not parse: %v", err)
		}
		if p.Match(again) != got {
			t.Fatalf("pattern %s: match %v on %s but not after re-encoding", pattern, got, event)
		}
	})
}
