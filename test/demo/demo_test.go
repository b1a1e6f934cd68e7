package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/dynamo"
)

// repoRoot is the module's root, where template.yaml and functions/ live.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "template.yaml")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no template.yaml above the working directory")
		}
		dir = parent
	}
}

// buildFunctions builds every functions/<name> as <dir>/<name>/bootstrap,
// as `make functions` does (one go build, so the packages compile once).
func buildFunctions(t *testing.T, root string) string {
	t.Helper()
	dir := t.TempDir()
	flat := filepath.Join(dir, "flat") + string(filepath.Separator)
	// Without symbols and DWARF the link, most of the build, takes half
	// the time; the functions behave the same.
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", flat, "./functions/...")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build functions: %v\n%s", err, out)
	}
	entries, err := os.ReadDir(flat)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.MkdirAll(filepath.Join(dir, e.Name()), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(flat, e.Name()), filepath.Join(dir, e.Name(), "bootstrap")); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// The report as the test reads it back from the page: the same JSON the
// demo embeds, decoded into the test's own types so that a renamed field
// fails here.
type page struct {
	Mode              string `json:"mode"`
	InstancesPerGroup int    `json:"instancesPerGroup"`
	Versions          []struct {
		Label   string `json:"label"`
		ImageID string `json:"imageId"`
	} `json:"versions"`
	Stories []struct {
		N       int       `json:"n"`
		Started time.Time `json:"started"`
		Ended   time.Time `json:"ended"`
		AsTold  bool      `json:"asTold"`
		Outcome string    `json:"outcome"`
		Facts   []struct {
			What string `json:"what"`
			OK   bool   `json:"ok"`
		} `json:"facts"`
		Result struct {
			Campaign      string                    `json:"campaign"`
			Rollouts      []pageRollout             `json:"rollouts"`
			Fleet         map[string]map[string]int `json:"fleet"`
			LastKnownGood map[string]string         `json:"lastKnownGood"`
			Alarm         *struct {
				Name string    `json:"name"`
				At   time.Time `json:"at"`
			} `json:"alarm"`
			Replaced *struct {
				Before       []string `json:"before"`
				After        []string `json:"after"`
				Version      string   `json:"version"`
				VersionAfter string   `json:"versionAfter"`
				Images       []string `json:"images"`
			} `json:"replaced"`
			Lifecycle *pageLifecycle `json:"lifecycle"`
			BlueGreen *pageBlueGreen `json:"blueGreen"`
		} `json:"result"`
		Commands []struct {
			Command string `json:"command"`
			Output  string `json:"output"`
			Code    int    `json:"code"`
		} `json:"commands"`
		Figures struct {
			Transitions int `json:"stateTransitions"`
			Invocations int `json:"lambdaInvocations"`
		} `json:"figures"`
	} `json:"stories"`
	Events []struct {
		At    time.Time `json:"at"`
		Story int       `json:"story"`
		Group string    `json:"group"`
		Kind  string    `json:"kind"`
		Text  string    `json:"text"`
	} `json:"events"`
	Dashboard *struct {
		Name    string `json:"name"`
		Widgets []struct {
			Title   string `json:"title"`
			Figures []struct {
				Label string  `json:"label"`
				Value float64 `json:"value"`
			} `json:"figures"`
		} `json:"widgets"`
		Alarms []struct {
			Name  string `json:"name"`
			State string `json:"state"`
			Fired int    `json:"fired"`
		} `json:"alarms"`
		Checks []struct {
			What string `json:"what"`
			OK   bool   `json:"ok"`
		} `json:"checks"`
	} `json:"dashboard"`
	Groups []struct {
		Name   string   `json:"name"`
		Layers []string `json:"layers"`
		Points []struct {
			At     time.Time `json:"at"`
			Counts []int     `json:"counts"`
		} `json:"points"`
	} `json:"groups"`
	Traffic *struct {
		LoadBalancer string      `json:"loadBalancer"`
		Minutes      []time.Time `json:"minutes"`
		Series       []struct {
			Group    string    `json:"group"`
			Version  string    `json:"version"`
			Requests []float64 `json:"requests"`
			Errors   []float64 `json:"errors"`
		} `json:"series"`
		Markers []struct {
			At   time.Time `json:"at"`
			Text string    `json:"text"`
		} `json:"markers"`
	} `json:"traffic"`
}

// pageBlueGreen is story 5's outcome as the page records it.
type pageBlueGreen struct {
	ShiftAt            time.Time      `json:"shiftAt"`
	SwitchBackAt       time.Time      `json:"switchBackAt"`
	AlarmToBackSeconds float64        `json:"alarmToBackSeconds"`
	Weights            map[string]int `json:"weights"`
	NewRequests        float64        `json:"newRequests"`
	NewErrors          float64        `json:"newErrors"`
	MaxNewShare        float64        `json:"maxNewShare"`
	Alarm              *struct {
		Name string    `json:"name"`
		At   time.Time `json:"at"`
	} `json:"alarm"`
}

// pageRollout is a rollout as the page records it.
type pageRollout struct {
	ID       string    `json:"id"`
	Group    string    `json:"group"`
	Mode     string    `json:"mode"`
	Status   string    `json:"status"`
	Reason   string    `json:"reason"`
	Trigger  string    `json:"trigger"`
	From     string    `json:"from"`
	To       string    `json:"to"`
	Started  time.Time `json:"started"`
	Ended    time.Time `json:"ended"`
	RevertAt time.Time `json:"revertAt"`
	Signals  []string  `json:"signals"`
	Strategy string    `json:"strategy"`
	Steps    []string  `json:"steps"`
}

// pageLifecycle is story 4's outcome as the page records it.
type pageLifecycle struct {
	Plan []struct {
		What        string   `json:"what"`
		Action      string   `json:"action"`
		KeptBecause []string `json:"keptBecause"`
	} `json:"plan"`
	SwitchedAt time.Time `json:"switchedAt"`
	Nights     []struct {
		At      time.Time `json:"at"`
		Mode    string    `json:"mode"`
		Subject string    `json:"subject"`
		Actions []struct {
			Action string `json:"action"`
			Target string `json:"target"`
			Result string `json:"result"`
		} `json:"actions"`
		GiBReclaimed int64 `json:"gibReclaimed"`
	} `json:"nights"`
	Versions     map[string][]int64 `json:"versions"`
	Deleted      []string           `json:"deleted"`
	Images       map[string]string  `json:"images"`
	GiBReclaimed int64              `json:"gibReclaimed"`
	Rollback     *pageRollout       `json:"rollback"`
}

// rollout returns story n's rollout of group (nil if none).
func (p *page) rollout(n int, group string) *pageRollout {
	for i, r := range p.Stories[n].Result.Rollouts {
		if r.Group == group {
			return &p.Stories[n].Result.Rollouts[i]
		}
	}
	return nil
}

var summaryRE = regexp.MustCompile(`(?s)<script type="application/json" id="` + summaryID + `">(.*?)</script>`)

// readPage parses the report file: the embedded JSON and the page itself.
func readPage(t *testing.T, path string) (*page, string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read the report: %v", err)
	}
	html := string(b)
	m := summaryRE.FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("the report has no %s JSON", summaryID)
	}
	var p page
	if err := json.Unmarshal([]byte(m[1]), &p); err != nil {
		t.Fatalf("the report's JSON: %v", err)
	}
	if len(p.Stories) != 1+storyCount {
		t.Fatalf("the report tells %d stories (setup included), want the setup and %d", len(p.Stories), storyCount)
	}
	return &p, html
}

// TestTheFastDemoTellsTheFiveStories runs the demo as `make test` does, in
// its fast mode, and checks its report: what the page says and the data it
// embeds, against what each story claims.
func TestTheFastDemoTellsTheFiveStories(t *testing.T) {
	dynamo.Require(t, "the demo (the ledger needs dynalite)")
	root := repoRoot(t)
	bins := buildFunctions(t, root)
	report := filepath.Join(t.TempDir(), "report.html")
	var out bytes.Buffer
	rep, err := run(context.Background(), Config{
		Fast: true, Seed: 1, Template: filepath.Join(root, "template.yaml"), Functions: bins, Report: report, Out: &out,
	})
	if rep != nil {
		if werr := rep.write(report); werr != nil {
			t.Fatal(werr)
		}
	}
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	p, html := readPage(t, report)
	t.Logf("timeline:\n%s", out.String())

	v := map[string]string{}
	for _, x := range p.Versions {
		v[x.Label] = x.ImageID
	}
	if len(v) != 5 || v["v1"] == "" || v["v2"] == "" || v["v3"] == "" || v["v4"] == "" || v["v5"] == "" {
		t.Fatalf("versions %+v, want v1 to v5 published", p.Versions)
	}
	size := p.InstancesPerGroup
	if p.Mode != "fast" || size < 1 {
		t.Fatalf("mode %q with %d instances a group", p.Mode, size)
	}
	allOn := func(fleet map[string]map[string]int, label string) bool {
		for _, g := range []string{"web", "api"} {
			if len(fleet[g]) != 1 || fleet[g][label] != size {
				return false
			}
		}
		return true
	}

	t.Run("story 1: v2 rolls into web, then api, to finalized", func(t *testing.T) {
		s := p.Stories[1]
		if s.Result.Campaign != "SUCCEEDED" {
			t.Errorf("campaign %q, want SUCCEEDED", s.Result.Campaign)
		}
		web, api := p.rollout(1, "web"), p.rollout(1, "api")
		if web == nil || api == nil {
			t.Fatalf("rollouts %+v, want one for web and one for api", s.Result.Rollouts)
		}
		for _, r := range []string{web.Status, api.Status} {
			if r != "finalized" {
				t.Errorf("rollouts %+v, want both finalized", s.Result.Rollouts)
			}
		}
		if web.From != "v1" || web.To != "v2" || api.From != "v1" || api.To != "v2" || web.Trigger != "image-published" {
			t.Errorf("rollouts %+v, want v1 to v2 started by image-published", s.Result.Rollouts)
		}
		if web.Ended.IsZero() || api.Started.Before(web.Ended) {
			t.Errorf("web (wave 0) ended %s, api (wave 1) started %s: the waves overlapped", web.Ended, api.Started)
		}
		if !allOn(s.Result.Fleet, "v2") || s.Result.LastKnownGood["web"] != "v2" || s.Result.LastKnownGood["api"] != "v2" {
			t.Errorf("fleet %v, last-known-good %v; want every instance and both last-known-good on v2", s.Result.Fleet, s.Result.LastKnownGood)
		}
	})

	t.Run("story 2: v3 trips web's alarm, web reverts at once and api never gets it", func(t *testing.T) {
		s := p.Stories[2]
		a := s.Result.Alarm
		if a == nil || a.Name != "web-5xx" || a.At.Before(s.Started) || a.At.After(s.Ended) {
			t.Fatalf("alarm %+v, want web-5xx into ALARM during the story", a)
		}
		web := p.rollout(2, "web")
		if web == nil || web.Status != "reverted" || web.To != "v3" || !strings.Contains(web.Reason, "web-5xx") {
			t.Fatalf("web rollout %+v, want v3 reverted because of web-5xx", web)
		}
		if !slices.Contains(web.Signals, "alarm") || !slices.Contains(web.Signals, "baking") {
			t.Errorf("web signals %v, want the alarm signal during the bake", web.Signals)
		}
		if web.RevertAt.Before(a.At) || web.RevertAt.Sub(a.At) > time.Minute {
			t.Errorf("revert began %s, alarm at %s: want at once (within a minute)", web.RevertAt, a.At)
		}
		if api := p.rollout(2, "api"); api != nil {
			t.Errorf("api rolled v3: %+v", api)
		}
		if s.Result.Campaign != "FAILED" {
			t.Errorf("campaign %q, want FAILED (stopped after wave 0)", s.Result.Campaign)
		}
		if !allOn(s.Result.Fleet, "v2") || s.Result.LastKnownGood["web"] != "v2" || s.Result.LastKnownGood["api"] != "v2" {
			t.Errorf("fleet %v, last-known-good %v; want all back on v2", s.Result.Fleet, s.Result.LastKnownGood)
		}
	})

	t.Run("story 3: the nightly schedule recycles api on the same version", func(t *testing.T) {
		s := p.Stories[3]
		api := p.rollout(3, "api")
		if api == nil || api.Mode != "recycle" || api.Status != "finalized" || api.Trigger != "schedule" || api.From != "v2" || api.To != "v2" {
			t.Fatalf("api recycle %+v, want a scheduled recycle finalized on v2", api)
		}
		if h, m, _ := api.Started.Clock(); h != 3 || m >= 30 {
			t.Errorf("recycle started %s, want within the night's jitter after 03:00 UTC", api.Started)
		}
		if web := p.rollout(3, "web"); web != nil {
			t.Errorf("web was recycled: %+v", web)
		}
		r := s.Result.Replaced
		if r == nil || len(r.Before) != size || len(r.After) != size {
			t.Fatalf("replaced %+v, want %d instances before and after", r, size)
		}
		for _, id := range r.After {
			if slices.Contains(r.Before, id) {
				t.Errorf("instance %s survived the recycle", id)
			}
		}
		if r.Version != r.VersionAfter || !slices.Equal(r.Images, []string{"v2"}) {
			t.Errorf("replaced %+v, want the same launch template version and only v2", r)
		}
	})

	t.Run("story 4: the image lifecycle plans, then retires v3 and the unused versions, and keeps what a rollback needs", func(t *testing.T) {
		s := p.Stories[4]
		lc := s.Result.Lifecycle
		if lc == nil {
			t.Fatal("story 4 has no lifecycle outcome")
		}
		plan := map[string][]string{}
		var deletes []string
		for _, l := range lc.Plan {
			plan[l.What] = l.KeptBecause
			if l.Action == "delete-version" {
				deletes = append(deletes, l.What)
			}
		}
		slices.Sort(deletes)
		if want := []string{"api:1 (v1)", "web:1 (v1)", "web:3 (v3)"}; !slices.Equal(deletes, want) {
			t.Errorf("the plan deletes %v, want %v", deletes, want)
		}
		for what, want := range map[string][]string{
			"web:4 (v4)": {"template-default", "group-uses", "last-known-good", "newest-versions"},
			"api:3 (v4)": {"template-default", "group-uses", "last-known-good", "newest-versions"},
			"web:2 (v2)": {"rollback-history"}, "api:2 (v2)": {"rollback-history"},
			"v1": {"not-phoenix"}, "v2": {"kept-version"}, "v4": {"last-known-good"},
		} {
			for _, r := range want {
				if !slices.Contains(plan[what], r) {
					t.Errorf("%s is kept because %v, want %s among the reasons", what, plan[what], r)
				}
			}
		}
		if len(lc.Nights) < 5 || lc.Nights[0].Mode != "plan" || lc.Nights[0].At.After(lc.SwitchedAt) {
			t.Fatalf("nights %+v switched at %s, want a plan night before the switch and apply nights after", lc.Nights, lc.SwitchedAt)
		}
		var stages []string
		for _, n := range lc.Nights {
			if n.At.Before(lc.SwitchedAt) {
				continue
			}
			if n.Mode != "apply" || !strings.HasPrefix(n.Subject, "Phoenix image lifecycle us-east-1 (apply)") {
				t.Errorf("night %s: mode %s, subject %q; want apply", n.At, n.Mode, n.Subject)
			}
			for _, a := range n.Actions {
				if a.Result != "done" {
					t.Errorf("night %s: %s %s: %s", n.At, a.Action, a.Target, a.Result)
				}
				if a.Target == "v3" {
					stages = append(stages, a.Action)
				}
			}
		}
		if want := []string{"mark-unused", "deprecate", "disable", "deregister"}; !slices.Equal(stages, want) {
			t.Errorf("v3 went through %v, want %v", stages, want)
		}
		if slices.Sort(lc.Deleted); !slices.Equal(lc.Deleted, deletes) {
			t.Errorf("deleted %v, want the plan's %v", lc.Deleted, deletes)
		}
		if !slices.Equal(lc.Versions["web"], []int64{2, 4}) || !slices.Equal(lc.Versions["api"], []int64{2, 3}) {
			t.Errorf("versions left %v, want web 2 and 4, api 2 and 3", lc.Versions)
		}
		if lc.Images["v3"] != "gone" || lc.Images["v4"] != "available, protected" || lc.Images["v2"] != "available" || lc.Images["v1"] != "available" {
			t.Errorf("images %v, want v3 gone, v4 protected, v1 and v2 available", lc.Images)
		}
		if lc.GiBReclaimed <= 0 {
			t.Errorf("%d GiB reclaimed", lc.GiBReclaimed)
		}
		if r := lc.Rollback; r == nil || r.Status != "finalized" || r.From != "v4" || r.To != "v2" || r.Trigger != "manual" {
			t.Errorf("rollback %+v, want web back from v4 to v2, finalized", r)
		}
		if s.Result.Fleet["web"]["v2"] != size || s.Result.Fleet["api"]["v4"] != size {
			t.Errorf("fleet %v, want web on v2 and api on v4", s.Result.Fleet)
		}
		var cmds []string
		for _, c := range s.Commands {
			cmds = append(cmds, c.Command)
			if c.Code != 0 {
				t.Errorf("%s exited %d: %s", c.Command, c.Code, c.Output)
			}
		}
		if !slices.Equal(cmds, []string{"phoenix images plan", "phoenix rollback web"}) {
			t.Errorf("the operator ran %v", cmds)
		}
		for _, want := range []string{"Mode: plan", "delete-version", "rollback-history", "last-known-good"} {
			if len(s.Commands) == 0 || !strings.Contains(s.Commands[0].Output, want) {
				t.Errorf("the plan the operator read does not say %q", want)
			}
		}
	})

	t.Run("story 5: v5 takes 10% of the pair's traffic, trips its guard alarm, and all the traffic is back on the old group in seconds", func(t *testing.T) {
		s := p.Stories[5]
		bg := s.Result.BlueGreen
		if bg == nil {
			t.Fatal("story 5 has no blue/green outcome")
		}
		r := p.rollout(5, "checkout-blue")
		if r == nil || r.Strategy != "blue-green" || r.Status != "reverted" || r.From != "v4" || r.To != "v5" || r.Trigger != "image-published" {
			t.Fatalf("rollout %+v, want the pair's blue/green rollout of v5, started by image-published, reverted", r)
		}
		if want := []string{"prepare", "scale-up", "proved", "shift@10", "switch-back", "revert-done"}; !slices.Equal(r.Steps, want) {
			t.Errorf("the rollout's timeline %v, want %v: proven before any traffic, switched back at 10%%", r.Steps, want)
		}
		if !slices.Contains(r.Signals, "alarm") || !strings.Contains(r.Reason, "checkout-green-5xx") {
			t.Errorf("signals %v, reason %q; want alarm-events' signal and the alarm named", r.Signals, r.Reason)
		}
		a := bg.Alarm
		if a == nil || a.Name != "checkout-green-5xx" || !a.At.After(bg.ShiftAt) || bg.ShiftAt.IsZero() {
			t.Fatalf("alarm %+v, shift at %s; want checkout-green-5xx into ALARM during the 10%% step", a, bg.ShiftAt)
		}
		if took := bg.SwitchBackAt.Sub(a.At); took < 0 || took > time.Minute || bg.AlarmToBackSeconds != took.Seconds() {
			t.Errorf("switched back %s after the alarm (%v s recorded), want within a minute", took, bg.AlarmToBackSeconds)
		}
		if bg.Weights["checkout-blue"] != 100 || bg.Weights["checkout-green"] != 0 {
			t.Errorf("listener weights %v, want all on checkout-blue", bg.Weights)
		}
		if s.Result.Campaign != "FAILED" {
			t.Errorf("campaign %q, want FAILED", s.Result.Campaign)
		}
		if f := s.Result.Fleet; len(f["checkout-blue"]) != 1 || f["checkout-blue"]["v4"] != size || len(f["checkout-green"]) != 0 {
			t.Errorf("fleet %v, want checkout-blue on v4 and checkout-green scaled down", f)
		}
		tr := p.Traffic
		if tr == nil || len(tr.Series) != 2 || tr.Series[0].Group != "checkout-blue" || tr.Series[0].Version != "v4" ||
			tr.Series[1].Group != "checkout-green" || tr.Series[1].Version != "v5" || len(tr.Minutes) == 0 {
			t.Fatalf("traffic chart %+v, want checkout-blue (v4) and checkout-green (v5) by minute", tr)
		}
		old, bad := tr.Series[0], tr.Series[1]
		var served, errs float64
		for i, m := range tr.Minutes {
			total := old.Requests[i] + bad.Requests[i]
			if total != old.Requests[0] || old.Errors[i] != 0 {
				t.Errorf("minute %s: %v requests to v4 (%v 5xx), %v to v5; want every minute's requests served, v4 without errors", m, old.Requests[i], old.Errors[i], bad.Requests[i])
			}
			during := m.Add(time.Minute).After(bg.ShiftAt) && m.Before(bg.SwitchBackAt.Truncate(time.Minute))
			if !during && bad.Requests[i] != 0 || during && 10*bad.Requests[i] != total {
				t.Errorf("minute %s: %v of %v requests to v5; want 10%% from the shift to the switch-back, none else", m, bad.Requests[i], total)
			}
			served, errs = served+bad.Requests[i], errs+bad.Errors[i]
		}
		if served != bg.NewRequests || errs != bg.NewErrors || errs == 0 || bg.MaxNewShare != 10 {
			t.Errorf("v5 served %v requests, %v 5xx; the outcome says %v, %v, at most %v%%", served, errs, bg.NewRequests, bg.NewErrors, bg.MaxNewShare)
		}
		var marks []string
		for _, m := range tr.Markers {
			marks = append(marks, m.Text)
		}
		if want := []string{"v5 published", "shift@10", "checkout-green-5xx ALARM", "switch-back"}; !slices.Equal(marks, want) {
			t.Errorf("the chart marks %v, want %v", marks, want)
		}
		if !strings.Contains(html, `role="img" aria-labelledby="chart-traffic-title chart-traffic-desc" class="chart" data-chart="traffic">`) {
			t.Error("no accessible inline chart of the requests by version")
		}
	})

	t.Run("each story is told as happened, with its figures", func(t *testing.T) {
		for _, s := range p.Stories[1:] {
			if !s.AsTold {
				t.Errorf("story %d not as told: %s %+v", s.N, s.Outcome, s.Facts)
			}
			if s.Figures.Transitions == 0 || s.Figures.Invocations == 0 || !s.Ended.After(s.Started) {
				t.Errorf("story %d figures %+v from %s to %s", s.N, s.Figures, s.Started, s.Ended)
			}
			re := regexp.MustCompile(fmt.Sprintf(`(?s)<article class="story" data-story="%d" data-as-told="true">.*?As told:.*?</article>`, s.N))
			if !re.MatchString(html) {
				t.Errorf("the page does not say story %d went as told", s.N)
			}
		}
	})

	t.Run("the timeline and the charts show what happened", func(t *testing.T) {
		kinds := map[string]bool{}
		for i, e := range p.Events {
			kinds[e.Kind] = true
			if i > 0 && e.At.Before(p.Events[i-1].At) {
				t.Errorf("timeline out of order at %d: %s after %s", i, e.At, p.Events[i-1].At)
			}
		}
		for _, k := range []string{"image", "campaign", "validate", "finalize", "alarm", "revert", "recycle", "fleet", "lifecycle", "operator", "rollback", "traffic", "measure"} {
			if !kinds[k] {
				t.Errorf("the timeline has no %q line", k)
			}
		}
		for _, want := range []string{"alarm web-5xx: Alarm updated from OK to ALARM", "alarm-events signalled the rollout", "nightly schedule fired",
			"nightly image lifecycle (plan, nothing done): would delete", "nightly image lifecycle (apply): deleted", "deregistered v3 and deleted its snapshots",
			"the operator runs `phoenix images plan`", "ImageLifecycle=apply",
			"traffic shifted in one call: 10% of the traffic on checkout-green", "switched back in one call: 100% of the traffic back on checkout-blue",
			"alarm to 100% back on checkout-blue: "} {
			if !strings.Contains(html, want) || !strings.Contains(out.String(), want) {
				t.Errorf("the page or the terminal does not say %q", want)
			}
		}
		if len(p.Groups) != 2 {
			t.Fatalf("%d charts, want web and api", len(p.Groups))
		}
		for _, g := range p.Groups {
			if !strings.Contains(html, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 900 240" role="img" aria-labelledby="chart-`+g.Name+`-title chart-`+g.Name+`-desc" class="chart" data-group="`+g.Name+`">`) {
				t.Errorf("no accessible inline chart for %s", g.Name)
			}
			v3 := slices.Index(g.Layers, "v3")
			peak := 0
			for _, pt := range g.Points {
				peak = max(peak, pt.Counts[v3])
			}
			// Story 4 ends with web rolled back to v2 and api on v4.
			last, want := g.Points[len(g.Points)-1].Counts, map[string]string{"web": "v2", "api": "v4"}[g.Name]
			if last[slices.Index(g.Layers, want)] != size {
				t.Errorf("%s chart ends on %v, want %d on %s", g.Name, last, size, want)
			}
			switch g.Name {
			case "web":
				if peak != size {
					t.Errorf("web chart peaks at %d on v3, want the whole group (%d) before the revert", peak, size)
				}
			case "api":
				if peak != 0 {
					t.Errorf("api chart shows %d on v3, want none", peak)
				}
			}
		}
	})

	t.Run("the dashboard's figures are those of the run, and Phoenix's alarms saw the stopped campaigns", func(t *testing.T) {
		db := p.Dashboard
		if db == nil {
			t.Fatal("the report has no dashboard")
		}
		checked := map[string]bool{}
		for _, c := range db.Checks {
			w, _, _ := strings.Cut(c.What, ":")
			checked[w] = true
		}
		for _, w := range []string{"Rollouts by outcome reverted", "Executions rollout started", "Executions campaign started", "Executions campaign failed"} {
			if !checked[w] {
				t.Errorf("the dashboard's %s was not checked (checked: %v)", w, slices.Sorted(maps.Keys(checked)))
			}
		}
		for _, c := range db.Checks {
			if !c.OK {
				t.Errorf("dashboard check failed: %s", c.What)
			}
		}
		figure := func(widget, label string) float64 {
			for _, w := range db.Widgets {
				for _, f := range w.Figures {
					if w.Title == widget && f.Label == label {
						return f.Value
					}
				}
			}
			t.Errorf("the dashboard has no %s %s", widget, label)
			return -1
		}
		// Story 1 finalizes web and api, story 2 reverts web, story 3
		// recycles api (a finalized recycle) and so does every night
		// after; story 4 finalizes v4 in web and api, and web's rollback;
		// story 5 reverts the pair.
		recycles := 0
		for _, e := range p.Events {
			if e.Kind == "recycle" && strings.HasPrefix(e.Text, "nightly schedule fired") {
				recycles++
			}
		}
		if got := figure("Rollouts by outcome", "finalized"); got != float64(5+recycles) {
			t.Errorf("finalized %v, want %d (%d recycles)", got, 5+recycles, recycles)
		}
		lc := p.Stories[4].Result.Lifecycle
		if got := figure("Image lifecycle: retired (nightly)", "versions deleted"); got != 3 {
			t.Errorf("versions deleted %v, want 3", got)
		}
		if got := figure("Image lifecycle: retired (nightly)", "AMIs deregistered"); got != 1 {
			t.Errorf("AMIs deregistered %v, want 1 (v3)", got)
		}
		if got := figure("Image lifecycle: retired (nightly)", "snapshot GiB reclaimed"); lc == nil || got != float64(lc.GiBReclaimed) {
			t.Errorf("snapshot GiB reclaimed %v, want story 4's", got)
		}
		if got := figure("Rollouts by outcome", "reverted"); got != 2 {
			t.Errorf("reverted %v, want 2 (web in story 2, the pair in story 5)", got)
		}
		if got := figure("Executions", "campaign failed"); got != 2 {
			t.Errorf("campaign failed %v, want the campaigns stopped in stories 2 and 5", got)
		}
		fired := map[string]int{}
		for _, a := range db.Alarms {
			if a.State != "OK" {
				t.Errorf("alarm %s ends %s", a.Name, a.State)
			}
			fired[a.Name] = a.Fired
		}
		if _, ok := fired["phoenix-image-lifecycle-errors"]; !ok || fired["phoenix-campaign-failed"] != 2 || len(slices.DeleteFunc(slices.Collect(maps.Values(fired)), func(n int) bool { return n == 0 })) != 1 {
			t.Errorf("alarms fired %v, want campaign-failed twice (stories 2 and 5) and no other", fired)
		}
		if !strings.Contains(html, `<h2 id="dashboard">`) || !strings.Contains(out.String(), "Dashboard "+db.Name) {
			t.Error("the page or the terminal does not show the dashboard")
		}
	})

	t.Run("the page is self-contained: no scripts to run, nothing fetched", func(t *testing.T) {
		if n := strings.Count(html, "<script"); n != 1 {
			t.Errorf("%d script elements, want only the JSON summary", n)
		}
		for _, bad := range []string{" src=", "<link", "@import", `href="http`, "url(http"} {
			if strings.Contains(html, bad) {
				t.Errorf("the page loads something: found %q", bad)
			}
		}
	})
}

func TestBadArgumentsExitTwo(t *testing.T) {
	for _, args := range [][]string{{"-nope"}, {"extra"}, {"-seed", "x"}} {
		if code := realMain(args); code != 2 {
			t.Errorf("demo %v exited %d, want 2", args, code)
		}
	}
}
