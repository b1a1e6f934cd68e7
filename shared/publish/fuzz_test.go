package publish

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// seedSamples adds every events/publish-*.json sample to the corpus.
func seedSamples(f *testing.F) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "events", "publish-*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no publishing samples in events/: %v", err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"version":"0","detail":{}}`))
}

// checkParsed holds every parser to its contract: an error is always a
// *rollout.BadInputError, and an accepted event has the fields the
// handler relies on.
func checkParsed(t *testing.T, kind Kind, ev Event, err error) {
	t.Helper()
	if err != nil {
		var bad *rollout.BadInputError
		if !errors.As(err, &bad) || bad.Reason == "" {
			t.Fatalf("error %T %v is not a *rollout.BadInputError with a reason", err, err)
		}
		return
	}
	if ev.Kind != kind || rollout.CheckEventID(ev.ID) != nil || ev.Time.IsZero() || !rollout.ValidAccount(ev.Account) || !rollout.ValidRegion(ev.Region) {
		t.Fatalf("accepted an event without its envelope: %+v", ev)
	}
	switch kind {
	case KindImageBuilder:
		if !buildARNPattern.MatchString(ev.Ref) {
			t.Fatalf("accepted build ARN %q", ev.Ref)
		}
	case KindAMI:
		if !ValidImageID(ev.Ref) {
			t.Fatalf("accepted AMI id %q", ev.Ref)
		}
	case KindParameter:
		if !parameterPattern.MatchString(ev.Ref) || (ev.Operation != "Create" && ev.Operation != "Update") {
			t.Fatalf("accepted parameter %q, operation %q", ev.Ref, ev.Operation)
		}
	}
	if name := RolloutName(ev.ID, rollout.GroupKey{Region: ev.Region, Name: ev.Ref}); !rollout.ValidExecutionName(name) {
		t.Fatalf("accepted event %q names an invalid execution %q", ev.ID, name)
	}
}

func FuzzParseImageBuilderEvent(f *testing.F) {
	seedSamples(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := ParseImageBuilderEvent(raw)
		checkParsed(t, KindImageBuilder, ev, err)
	})
}

func FuzzParseAMIEvent(f *testing.F) {
	seedSamples(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := ParseAMIEvent(raw)
		checkParsed(t, KindAMI, ev, err)
	})
}

func FuzzParseParameterEvent(f *testing.F) {
	seedSamples(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := ParseParameterEvent(raw)
		checkParsed(t, KindParameter, ev, err)
	})
}

func FuzzParseEvent(f *testing.F) {
	seedSamples(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := ParseEvent(raw)
		if err == nil {
			checkParsed(t, ev.Kind, ev, nil)
			return
		}
		checkParsed(t, "", ev, err)
	})
}

func FuzzParseRequiredTags(f *testing.F) {
	for _, s := range []string{"", "phoenix:approved=true", "a=*, b = c", "a", "=x", "a=1,a=2", "k=v=w"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tags, err := ParseRequiredTags(s)
		if err != nil {
			return
		}
		for k, v := range tags {
			if k == "" || len(k) > 128 || len(v) > 256 {
				t.Fatalf("accepted tag %q=%q from %q", k, v, s)
			}
		}
	})
}

func FuzzParseOwners(f *testing.F) {
	for _, s := range []string{"", "123456789012", "123456789012, 210987654321", "12345", "123456789012,,x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		owners, err := ParseOwners(s)
		if err != nil {
			return
		}
		for _, o := range owners {
			if !rollout.ValidAccount(o) {
				t.Fatalf("accepted owner %q from %q", o, s)
			}
		}
	})
}

func FuzzExecutionNames(f *testing.F) {
	f.Add("3d4f1a2b-6c7e-4f80-9a1b-2c3d4e5f6a7b", "us-east-1", "web")
	f.Add("", "", "")
	f.Add("x", "r", "名前 with spaces/and#hashes")
	f.Fuzz(func(t *testing.T, eventID, region, group string) {
		for _, n := range []string{RolloutName(eventID, rollout.GroupKey{Region: region, Name: group}), CampaignName(region, eventID)} {
			if !rollout.ValidExecutionName(n) {
				t.Fatalf("invalid execution name %q from (%q, %q, %q)", n, eventID, region, group)
			}
		}
	})
}
