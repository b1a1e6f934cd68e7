package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/phoenix-rollouts/phoenix/cmd/phoenix/cli"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// The operator CLI against the deployed stack, as an operator runs it: in
// process, but through the same AWS APIs over HTTP, with its credentials
// and region only in the environment it is given, and --wait advancing the
// simulated clock instead of sleeping.

// operatorEnv is an operator's shell: credentials of their own (not the
// functions'), no home directory, no instance metadata.
var operatorEnv = map[string]string{
	"AWS_ACCESS_KEY_ID":         "AKIDOPERATOR",
	"AWS_SECRET_ACCESS_KEY":     "operator-secret",
	"AWS_EC2_METADATA_DISABLED": "true",
}

// callerARN is who the local cloud says every caller is.
const callerARN = "assumed-role/phoenix-local/local"

// phoenix runs the CLI against the rig with env as the environment.
func (r *rig) phoenixIn(env map[string]string, args ...string) (code int, stdout, stderr string) {
	r.t.Helper()
	var out, errb bytes.Buffer
	all := append([]string{"--endpoint-url", r.env.URL, "--region", region}, args...)
	code = cli.Run(r.ctx, all, cli.Env{
		Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return env[k] },
		Now:    r.env.Now,
		Sleep: func(ctx context.Context, d time.Duration) error {
			r.env.Advance(d)
			return ctx.Err()
		},
	})
	return code, out.String(), errb.String()
}

// phoenix runs the CLI as the operator.
func (r *rig) phoenix(args ...string) (code int, stdout, stderr string) {
	r.t.Helper()
	return r.phoenixIn(operatorEnv, args...)
}

// phoenixOK runs the CLI and fails the test unless it exits 0.
func (r *rig) phoenixOK(args ...string) string {
	r.t.Helper()
	code, out, errs := r.phoenix(args...)
	if code != cli.ExitOK {
		r.t.Fatalf("phoenix %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// phoenixJSON runs the CLI with --output json and decodes its document.
func (r *rig) phoenixJSON(into any, args ...string) {
	r.t.Helper()
	out := r.phoenixOK(append(args, "--output", "json")...)
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(into); err != nil {
		r.t.Fatalf("phoenix %s: not one JSON document: %v\n%s", strings.Join(args, " "), err, out)
	}
	if dec.More() {
		r.t.Fatalf("phoenix %s: more than one JSON document:\n%s", strings.Join(args, " "), out)
	}
}

// wantError checks an exit code and that stderr is one line that says want.
func wantError(t *testing.T, what string, code int, stderr string, wantCode int, want string) {
	t.Helper()
	if code != wantCode {
		t.Errorf("%s: exit %d, want %d; stderr: %s", what, code, wantCode, stderr)
	}
	if !strings.Contains(stderr, want) {
		t.Errorf("%s: stderr %q does not say %q", what, stderr, want)
	}
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "phoenix: ") || strings.Contains(stderr, "RequestID") || strings.Contains(stderr, "operation error") {
		t.Errorf("%s: stderr is not one clean \"phoenix: \" line:\n%s", what, stderr)
	}
}

// parked waits until the rollout's Await has parked its task token, so
// that a wake-up from the CLI resumes it at once.
func (r *rig) parked(id string) {
	r.t.Helper()
	if !r.env.Cloud.Clock.RunUntil(time.Hour, func() bool {
		it := r.item("ROLLOUT#"+id, "META")
		return it != nil && s(it["status"]) == "refreshing" && s(it["token"]) != ""
	}) {
		r.t.Fatalf("after an hour of simulated time rollout %s has not parked in Await: %+v\n%s", id, r.rollout(id), r.functionLogs())
	}
}

// executions counts the rollout state machine's executions.
func (r *rig) executions() int {
	r.t.Helper()
	n := 0
	p := sfn.NewListExecutionsPaginator(r.env.StepFunctions, &sfn.ListExecutionsInput{StateMachineArn: aws.String(r.machine)})
	for p.HasMorePages() {
		page, err := p.NextPage(r.ctx)
		if err != nil {
			r.t.Fatalf("list executions: %v", err)
		}
		n += len(page.Executions)
	}
	return n
}

// The JSON documents, decoded as a script would: by their documented
// names, not through the CLI's Go types.
type (
	jsonVersion struct {
		LaunchTemplateID string `json:"launchTemplateId"`
		Version          int64  `json:"version"`
		ImageID          string `json:"imageId"`
	}
	jsonRollout struct {
		RolloutID string `json:"rolloutId"`
		Target    struct {
			Region string `json:"region"`
			Group  string `json:"group"`
		} `json:"target"`
		Mode    string `json:"mode"`
		Status  string `json:"status"`
		Reason  string `json:"reason"`
		Trigger struct {
			Kind   string `json:"kind"`
			Source string `json:"source"`
		} `json:"trigger"`
		From  jsonVersion `json:"from"`
		To    jsonVersion `json:"to"`
		Steps []struct {
			Key    string    `json:"key"`
			At     time.Time `json:"at"`
			Detail string    `json:"detail"`
		} `json:"steps"`
	}
	jsonHalt struct {
		Scope   string `json:"scope"`
		Group   string `json:"group"`
		Reason  string `json:"reason"`
		By      string `json:"by"`
		Message string `json:"message"`
	}
	jsonStatus struct {
		Stack  string     `json:"stack"`
		Region string     `json:"region"`
		Halts  []jsonHalt `json:"halts"`
		Groups []struct {
			Group                 string `json:"group"`
			LaunchTemplateVersion string `json:"launchTemplateVersion"`
			Version               int64  `json:"version"`
			ImageID               string `json:"imageId"`
			Instances             []struct {
				Version   string `json:"version"`
				ImageID   string `json:"imageId"`
				Count     int    `json:"count"`
				InService int    `json:"inService"`
				Healthy   int    `json:"healthy"`
			} `json:"instances"`
			LastKnownGood *struct {
				Version int64  `json:"version"`
				ImageID string `json:"imageId"`
			} `json:"lastKnownGood"`
			ActiveRollout *struct {
				RolloutID string `json:"rolloutId"`
				Status    string `json:"status"`
				Refresh   *struct {
					Status             string `json:"status"`
					PercentageComplete int    `json:"percentageComplete"`
				} `json:"refresh"`
				NextCheckpoint int `json:"nextCheckpoint"`
			} `json:"activeRollout"`
			Halt *jsonHalt `json:"halt"`
		} `json:"groups"`
	}
	jsonHistory struct {
		Group    string        `json:"group"`
		Rollouts []jsonRollout `json:"rollouts"`
	}
	jsonStart struct {
		Action       string `json:"action"`
		RolloutID    string `json:"rolloutId"`
		ExecutionARN string `json:"executionArn"`
		Result       *struct {
			Outcome  string       `json:"outcome"`
			ExitCode int          `json:"exitCode"`
			Rollout  *jsonRollout `json:"rollout"`
		} `json:"result"`
	}
	jsonPlanGroup struct {
		Target struct {
			Group string `json:"group"`
		} `json:"target"`
		Wave                  *int  `json:"wave"`
		Desired               int   `json:"desired"`
		Replace               int   `json:"replace"`
		MinHealthyPercent     int   `json:"minHealthyPercent"`
		MaxHealthyPercent     int   `json:"maxHealthyPercent"`
		MaxCount              int   `json:"maxCount"`
		Batch                 int   `json:"batch"`
		LowestHealthy         int   `json:"lowestHealthy"`
		LaunchBeforeTerminate bool  `json:"launchBeforeTerminate"`
		WarmupSeconds         int64 `json:"warmupSeconds"`
		Stages                []struct {
			Percentage      int   `json:"percentage"`
			Instances       int   `json:"instances"`
			Batches         int   `json:"batches"`
			DurationSeconds int64 `json:"durationSeconds"`
			PauseSeconds    int64 `json:"pauseSeconds"`
		} `json:"stages"`
		BakeSeconds     int64    `json:"bakeSeconds"`
		DurationSeconds int64    `json:"durationSeconds"`
		Adjustments     []string `json:"adjustments"`
	}
	jsonPlan struct {
		Prediction  bool   `json:"prediction"`
		Role        string `json:"role"`
		MaxInFlight int    `json:"maxInFlight"`
		Waves       []struct {
			Wave    int `json:"wave"`
			Targets []struct {
				Group string `json:"group"`
			} `json:"targets"`
		} `json:"waves"`
		Groups          []jsonPlanGroup `json:"groups"`
		DurationSeconds int64           `json:"durationSeconds"`
		Defaults        struct {
			Source string `json:"source"`
			Note   string `json:"note"`
		} `json:"defaults"`
	}
)

// stageFigures is a plan's stages as percentage/instances/batches/seconds/pause.
func stageFigures(g jsonPlanGroup) [][5]int64 {
	var out [][5]int64
	for _, s := range g.Stages {
		out = append(out, [5]int64{int64(s.Percentage), int64(s.Instances), int64(s.Batches), s.DurationSeconds, s.PauseSeconds})
	}
	return out
}

func TestTheCLIRollsAnImageInWaitingThenRollsItBack(t *testing.T) {
	t.Parallel()
	r := newRig(t, 41)
	f := r.newFleet(fleetSpec{name: "web", size: 4})
	img := r.image("web-v2", "healthy")

	// The plan, checked against the refresh arithmetic by hand: four
	// instances at 100%-125% (the template's defaults) replace one at a
	// time, launching first, never below four healthy; checkpoints 25, 50
	// and 100 take 1, 1 and 2 batches of one 120 s warmup (the group's
	// tag), with the tagged 300 s pauses and bake.
	var plan jsonPlan
	r.phoenixJSON(&plan, "plan", "--group", "web", "--image", img)
	if !plan.Prediction || plan.Defaults.Source != "stack phoenix" || plan.Defaults.Note != "" || len(plan.Groups) != 1 {
		t.Fatalf("plan = %+v; want one group's prediction with the stack's defaults", plan)
	}
	pg := plan.Groups[0]
	c := rollout.RefreshCapacity(4, 100, 125)
	if pg.Desired != 4 || pg.Replace != 4 || pg.MinHealthyPercent != 100 || pg.MaxHealthyPercent != 125 ||
		pg.Batch != c.Batch || pg.Batch != 1 || pg.LowestHealthy != c.LowestHealthy || pg.LowestHealthy != 4 ||
		pg.MaxCount != 5 || !pg.LaunchBeforeTerminate || pg.WarmupSeconds != 120 || pg.BakeSeconds != 300 {
		t.Errorf("plan capacity = %+v", pg)
	}
	if got, want := stageFigures(pg), [][5]int64{{25, 1, 1, 120, 300}, {50, 2, 1, 120, 300}, {100, 4, 2, 240, 0}}; !slices.Equal(got, want) {
		t.Errorf("plan stages = %v, want %v", got, want)
	}
	if pg.DurationSeconds != 4*120+2*300+300 || plan.DurationSeconds != pg.DurationSeconds {
		t.Errorf("predicted duration %d s (plan %d s), want %d", pg.DurationSeconds, plan.DurationSeconds, 4*120+2*300+300)
	}
	if out := r.phoenixOK("plan", "--group", "web"); !strings.Contains(out, "prediction") || !strings.Contains(out, "predicted duration 23m") {
		t.Errorf("plan table:\n%s", out)
	}

	code, out, errs := r.phoenix("rollout", "web", "--image", img, "--name", "r-cli-good", "--wait")
	if code != cli.ExitOK {
		t.Fatalf("rollout --wait: exit %d\n%s\n%s\n%s", code, out, errs, r.functionLogs())
	}
	for _, want := range []string{"Started rollout r-cli-good", "refreshing  refresh InProgress", "finalized", "Rollout r-cli-good finalized"} {
		if !strings.Contains(out, want) {
			t.Errorf("rollout --wait output lacks %q:\n%s", want, out)
		}
	}
	if g := r.group(f.name); g.images[img] != 4 || g.version != "2" {
		t.Errorf("fleet after the rollout: version %s, images %v", g.version, g.images)
	}
	// The same name again starts nothing: the execution exists.
	before := r.executions()
	var again jsonStart
	r.phoenixJSON(&again, "rollout", "web", "--image", img, "--name", "r-cli-good")
	if again.Action != "exists" || r.executions() != before {
		t.Errorf("a repeated rollout --name: action %q, executions %d -> %d", again.Action, before, r.executions())
	}

	var st jsonStatus
	r.phoenixJSON(&st, "status", "web")
	if st.Stack != "phoenix" || st.Region != region || len(st.Groups) != 1 || len(st.Halts) != 0 {
		t.Fatalf("status = %+v", st)
	}
	gs := st.Groups[0]
	if gs.Group != "web" || gs.LaunchTemplateVersion != "2" || gs.Version != 2 || gs.ImageID != img || gs.ActiveRollout != nil || gs.Halt != nil {
		t.Errorf("status of web = %+v", gs)
	}
	// An old instance may still be terminating; none is in service.
	for i, c := range gs.Instances {
		if i == 0 && (c.ImageID != img || c.Version != "2" || c.Count != 4 || c.InService != 4 || c.Healthy != 4) || i > 0 && c.InService != 0 {
			t.Errorf("instances = %+v, want 4 in service and healthy on version 2 (%s), first", gs.Instances, img)
		}
	}
	if gs.LastKnownGood == nil || gs.LastKnownGood.Version != 2 || gs.LastKnownGood.ImageID != img {
		t.Errorf("last-known-good = %+v", gs.LastKnownGood)
	}
	table := r.phoenixOK("status")
	for _, want := range []string{"Phoenix stack phoenix in us-east-1", "\nweb\n", "4 on v2 (" + img + "): 4 in service, 4 healthy", "v2 (" + img + ") since", "none in flight"} {
		if !strings.Contains(table, want) {
			t.Errorf("status table lacks %q:\n%s", want, table)
		}
	}

	var tl struct {
		Rollout jsonRollout `json:"rollout"`
	}
	r.phoenixJSON(&tl, "history", "--rollout", "r-cli-good")
	ro := tl.Rollout
	if ro.Status != "finalized" || ro.Trigger.Kind != "manual" || !strings.HasSuffix(ro.Trigger.Source, callerARN) || ro.From.Version != 1 || ro.To.Version != 2 {
		t.Errorf("timeline record = %+v", ro)
	}
	var keys []string
	for _, s := range ro.Steps {
		keys = append(keys, s.Key)
	}
	if len(keys) < 4 || keys[0] != "prepare" || keys[len(keys)-1] != "finalize" {
		t.Errorf("timeline steps = %v, want prepare first and finalize last", keys)
	}
	if out := r.phoenixOK("history", "--rollout", "r-cli-good"); !strings.Contains(out, "STEP") || !strings.Contains(out, "finalize") || !strings.Contains(out, "manual by arn:aws:sts::") {
		t.Errorf("timeline table:\n%s", out)
	}

	// Back to where it came from: a revert rollout to version 1, which
	// finalizes.
	code, out, errs = r.phoenix("rollback", "web", "--wait")
	if code != cli.ExitOK {
		t.Fatalf("rollback --wait: exit %d\n%s\n%s\n%s", code, out, errs, r.functionLogs())
	}
	if !strings.Contains(out, "back to launch template version 1") || !strings.Contains(out, "finalized") {
		t.Errorf("rollback --wait output:\n%s", out)
	}
	if g := r.group(f.name); g.images[f.image] != 4 || g.version != "1" {
		t.Errorf("fleet after the rollback: version %s, images %v; want all on %s", g.version, g.images, f.image)
	}

	var hist jsonHistory
	r.phoenixJSON(&hist, "history", "web")
	if len(hist.Rollouts) != 2 || hist.Rollouts[0].Mode != "revert" || hist.Rollouts[0].Status != "finalized" || hist.Rollouts[0].To.Version != 1 ||
		hist.Rollouts[1].RolloutID != "r-cli-good" {
		t.Errorf("history = %+v; want the revert to 1 then r-cli-good", hist.Rollouts)
	}
	var all jsonHistory
	r.phoenixJSON(&all, "history", "--limit", "1")
	if len(all.Rollouts) != 1 || all.Rollouts[0].Mode != "revert" {
		t.Errorf("history of every group, limit 1 = %+v", all.Rollouts)
	}
	table = r.phoenixOK("history", "web")
	if !strings.Contains(table, "r-cli-good") || strings.Count(table, "finalized") != 2 || !strings.Contains(table, "STARTED") {
		t.Errorf("history table:\n%s", table)
	}
}

func TestTheCLIHaltRevertsARolloutInFlightAndResumeLetsRolloutsStart(t *testing.T) {
	t.Parallel()
	r := newRig(t, 42)
	f := r.newFleet(fleetSpec{name: "web", size: 4})
	img := r.image("web-v2", "healthy")

	var started jsonStart
	r.phoenixJSON(&started, "rollout", "web", "--image", img, "--name", "r-halted")
	if started.Action != "started" || started.RolloutID != "r-halted" || started.ExecutionARN == "" {
		t.Fatalf("rollout = %+v", started)
	}
	r.parked("r-halted")

	var st jsonStatus
	r.phoenixJSON(&st, "status")
	if len(st.Groups) != 1 || st.Groups[0].ActiveRollout == nil {
		t.Fatalf("status shows no rollout in flight: %+v", st)
	}
	act := st.Groups[0].ActiveRollout
	if act.RolloutID != "r-halted" || act.Status != "refreshing" || act.Refresh == nil || act.Refresh.Status != "InProgress" || act.NextCheckpoint != 25 {
		t.Errorf("rollout in flight = %+v; want r-halted refreshing toward checkpoint 25", act)
	}
	if table := r.phoenixOK("status", "web"); !strings.Contains(table, "r-halted (image) refreshing") || !strings.Contains(table, "next checkpoint 25%") {
		t.Errorf("status table:\n%s", table)
	}

	var halted struct {
		Halt  jsonHalt `json:"halt"`
		Woken []struct {
			RolloutID string `json:"rolloutId"`
			Action    string `json:"action"`
			Resumed   bool   `json:"resumed"`
		} `json:"woken"`
	}
	haltAt := r.env.Now()
	r.phoenixJSON(&halted, "halt", "web", "--reason", "incident 7")
	if halted.Halt.Scope != "group" || halted.Halt.Group != "web" || halted.Halt.Reason != "incident 7" || !strings.HasSuffix(halted.Halt.By, callerARN) {
		t.Errorf("halt = %+v", halted.Halt)
	}
	if len(halted.Woken) != 1 || halted.Woken[0].RolloutID != "r-halted" || halted.Woken[0].Action != "signalled" || !halted.Woken[0].Resumed {
		t.Errorf("woken = %+v; want r-halted signalled and resumed", halted.Woken)
	}
	end := r.wait(started.ExecutionARN, rolloutLimit)
	if end.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution %s\n%s", end.Status, r.functionLogs())
	}
	rec := r.rollout("r-halted")
	if rec.status != "reverted" || !strings.Contains(rec.reason, "incident 7") {
		t.Errorf("ledger rollout = %+v; want reverted naming the halt", rec)
	}
	// Woken at once, not at the first checkpoint, a warmup away.
	if at := r.entered(started.ExecutionARN, "Revert"); at.IsZero() || at.Sub(haltAt) > 30*time.Second {
		t.Errorf("Revert entered at %v, %v after the halt; want within 30 s", at, at.Sub(haltAt))
	}
	if g := r.group(f.name); g.images[f.image] != 4 {
		t.Errorf("fleet after the halt: %v, want all back on %s", g.images, f.image)
	}

	// Halted: nothing starts, and the refusal names the halt.
	before := r.executions()
	code, _, errs := r.phoenix("rollout", "web", "--image", img)
	wantError(t, "rollout while the group is halted", code, errs, cli.ExitHalted, "incident 7")
	if !strings.Contains(errs, "phoenix resume web") {
		t.Errorf("the refusal does not say how to clear the halt: %s", errs)
	}
	code, _, errs = r.phoenix("rollback", "web", "--to-version", "1")
	wantError(t, "a revert rollout while the group is halted", code, errs, cli.ExitHalted, "incident 7")
	if n := r.executions(); n != before {
		t.Errorf("%d executions started while halted", n-before)
	}
	st = jsonStatus{}
	r.phoenixJSON(&st, "status", "web")
	if len(st.Halts) != 1 || st.Halts[0].Scope != "group" || st.Groups[0].Halt == nil || st.Groups[0].Halt.Reason != "incident 7" {
		t.Errorf("status halts = %+v, group halt %+v", st.Halts, st.Groups[0].Halt)
	}
	if table := r.phoenixOK("status"); !strings.Contains(table, "HALTED: Phoenix is halted for us-east-1/web by arn:aws:sts::") {
		t.Errorf("status table does not show the halt:\n%s", table)
	}

	if out := r.phoenixOK("resume", "web"); !strings.Contains(out, "Cleared: Phoenix is halted for us-east-1/web") {
		t.Errorf("resume output:\n%s", out)
	}
	if out := r.phoenixOK("resume", "web"); !strings.Contains(out, "No halt was set for web") {
		t.Errorf("a second resume:\n%s", out)
	}

	// A global halt covers every group until it is cleared.
	if out := r.phoenixOK("halt", "--reason", "change freeze"); !strings.Contains(out, "halted for every group") || !strings.Contains(out, "No rollout was in flight") {
		t.Errorf("global halt output:\n%s", out)
	}
	code, _, errs = r.phoenix("rollout", "web", "--image", img)
	wantError(t, "rollout under a global halt", code, errs, cli.ExitHalted, "every group")
	if out := r.phoenixOK("resume", "web"); !strings.Contains(out, "Still halted: Phoenix is halted for every group") {
		t.Errorf("resuming the group under a global halt:\n%s", out)
	}
	r.phoenixOK("resume")

	code, out, errs := r.phoenix("rollout", "web", "--image", img, "--name", "r-after", "--wait")
	if code != cli.ExitOK || !strings.Contains(out, "Rollout r-after finalized") {
		t.Fatalf("rollout after resume: exit %d\n%s\n%s", code, out, errs)
	}
}

func TestTheCLIPlansAnImagesWavesAndRollsBackARolloutInFlight(t *testing.T) {
	t.Parallel()
	r := newRig(t, 43)
	r.newFleet(fleetSpec{name: "canary", size: 2, tags: map[string]string{"phoenix:role": "shop", "phoenix:wave": "0"}})
	shop := r.newFleet(fleetSpec{name: "shop", size: 4, tags: map[string]string{"phoenix:role": "shop"}})
	r.newFleet(fleetSpec{name: "batch", size: 2, tags: map[string]string{"phoenix:role": "batch"}})
	// Registered without a role, which publishing ignores, and given one
	// after its publishing event was handled: a role-tagged image would
	// start rolling by itself.
	img := r.image("shop-v2", "healthy")
	r.env.Advance(5 * time.Minute)
	if _, err := r.env.EC2.CreateTags(r.ctx, &ec2.CreateTagsInput{Resources: []string{img}, Tags: []ec2types.Tag{{Key: aws.String("phoenix:role"), Value: aws.String("shop")}}}); err != nil {
		t.Fatal(err)
	}

	var plan jsonPlan
	r.phoenixJSON(&plan, "plan", "--image", img)
	var waves []string
	for _, w := range plan.Waves {
		var names []string
		for _, g := range w.Targets {
			names = append(names, g.Group)
		}
		waves = append(waves, strings.Join(names, ","))
	}
	if plan.Role != "shop" || plan.MaxInFlight != 5 || plan.Defaults.Source != "stack phoenix" || !slices.Equal(waves, []string{"canary", "shop"}) {
		t.Fatalf("plan = %+v; want waves canary then shop, max in flight 5 from the stack", plan)
	}
	byName := map[string]jsonPlanGroup{}
	for _, g := range plan.Groups {
		byName[g.Target.Group] = g
	}
	// Two instances at 100%-125% would round to no room at all: preflight
	// raises the maximum to 150% so one launches before one terminates.
	cg := byName["canary"]
	if cg.Wave == nil || *cg.Wave != 0 || cg.MaxHealthyPercent != 150 || cg.Batch != 1 || cg.LowestHealthy != 2 || cg.MaxCount != 3 || len(cg.Adjustments) != 1 {
		t.Errorf("canary plan = %+v", cg)
	}
	if got, want := stageFigures(cg), [][5]int64{{25, 1, 1, 120, 300}, {50, 1, 0, 0, 300}, {100, 2, 1, 120, 0}}; !slices.Equal(got, want) {
		t.Errorf("canary stages = %v, want %v", got, want)
	}
	sg := byName["shop"]
	if sg.Wave == nil || *sg.Wave != 1 || sg.DurationSeconds != 1380 || sg.LowestHealthy != 4 {
		t.Errorf("shop plan = %+v", sg)
	}
	if cg.DurationSeconds != 2*120+2*300+300 || plan.DurationSeconds != cg.DurationSeconds+sg.DurationSeconds {
		t.Errorf("durations: canary %d, campaign %d; want 1140 and 1140+1380", cg.DurationSeconds, plan.DurationSeconds)
	}
	table := r.phoenixOK("plan", "--image", img)
	for _, want := range []string{"a prediction", "wave 0: canary", "wave 1: shop", "predicted 42m in all"} {
		if !strings.Contains(table, want) {
			t.Errorf("plan table lacks %q:\n%s", want, table)
		}
	}

	if n := r.executions(); n != 0 {
		t.Fatalf("%d executions started before any rollout: the plan changed something, or publishing rolled the image", n)
	}

	// A rollout in flight asked to roll back reverts at once, which is
	// what the rollback asked for: exit 0.
	var started jsonStart
	r.phoenixJSON(&started, "rollout", "shop", "--image", img, "--name", "r-rollback")
	r.parked("r-rollback")
	code, _, errs := r.phoenix("rollback", "shop", "--to-version", "5")
	wantError(t, "rollback of a rollout in flight to another version", code, errs, cli.ExitUsage, "reverts to version 1")
	code, out, errs := r.phoenix("rollback", "shop", "--wait")
	if code != cli.ExitOK {
		t.Fatalf("rollback --wait: exit %d\n%s\n%s\n%s", code, out, errs, r.functionLogs())
	}
	if !strings.Contains(out, "woken and reverts now") || !strings.Contains(out, "Rollout r-rollback reverted") {
		t.Errorf("rollback --wait output:\n%s", out)
	}
	rec := r.rollout("r-rollback")
	if rec.status != "reverted" || !strings.Contains(rec.reason, "rollback requested by arn:aws:sts::") {
		t.Errorf("ledger rollout = %+v; want reverted, naming who asked", rec)
	}
	if g := r.group(shop.name); g.images[shop.image] != 4 {
		t.Errorf("shop after the rollback: %v, want all on %s", g.images, shop.image)
	}
	// A global halt wakes the rollouts in flight on every group.
	var global jsonStart
	r.phoenixJSON(&global, "rollout", "canary", "--image", img, "--name", "r-global")
	r.parked("r-global")
	var halted struct {
		Halt  jsonHalt `json:"halt"`
		Woken []struct {
			RolloutID string `json:"rolloutId"`
			Resumed   bool   `json:"resumed"`
		} `json:"woken"`
	}
	r.phoenixJSON(&halted, "halt", "--reason", "stop everything")
	if halted.Halt.Scope != "global" || len(halted.Woken) != 1 || halted.Woken[0].RolloutID != "r-global" || !halted.Woken[0].Resumed {
		t.Errorf("global halt = %+v", halted)
	}
	if end := r.wait(global.ExecutionARN, rolloutLimit); end.Status != sfntypes.ExecutionStatusSucceeded || r.rollout("r-global").status != "reverted" {
		t.Errorf("r-global: execution %s, rollout %+v; want reverted", end.Status, r.rollout("r-global"))
	}
	r.phoenixOK("resume")

	// A rollout that is reverted when it was to finalize fails --wait.
	code, _, errs = r.phoenix("rollout", "shop", "--image", r.image("shop-bad", "unhealthy"), "--wait")
	wantError(t, "a rollout that reverts", code, errs, cli.ExitFailed, "reverted, not finalized")
}

func TestTheCLISaysWhatIsMissingOrWrong(t *testing.T) {
	t.Parallel()
	r := newRig(t, 44)
	r.newFleet(fleetSpec{name: "web", size: 2})
	img := r.image("web-v2", "healthy")

	for _, args := range [][]string{
		{"status", "nope"}, {"history", "nope"}, {"plan", "--group", "nope"}, {"rollout", "nope", "--image", img},
		{"rollback", "nope"}, {"halt", "nope", "--reason", "x"}, {"resume", "nope"},
	} {
		code, _, errs := r.phoenix(args...)
		wantError(t, strings.Join(args, " "), code, errs, cli.ExitNotFound, "group nope not found in us-east-1")
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"history", "--rollout", "nope"}, "rollout nope not found"},
		{[]string{"plan", "--image", "ami-0000000000000dead"}, "image ami-0000000000000dead not found in us-east-1"},
		{[]string{"rollout", "web", "--image", "ami-0000000000000dead"}, "image ami-0000000000000dead not found"},
		{[]string{"rollback", "web"}, "no finalized or pinned image rollout"},
		{[]string{"rollback", "web", "--to-version", "99"}, "has no version 99"},
		{[]string{"status", "--stack", "other"}, `Phoenix stack "other" not found in us-east-1`},
		{[]string{"rollout", "web", "--image", img, "--stack", "other"}, `Phoenix stack "other" not found`},
	} {
		code, _, errs := r.phoenix(tc.args...)
		wantError(t, strings.Join(tc.args, " "), code, errs, cli.ExitNotFound, tc.want)
	}

	// A profile without credentials, named in the environment, keeps the
	// SDK from taking them from the process's own environment, whatever
	// the developer's holds.
	config := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(config, []byte("[profile nobody]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	noCreds := map[string]string{"AWS_EC2_METADATA_DISABLED": "true", "AWS_PROFILE": "nobody", "AWS_CONFIG_FILE": config}
	code, _, errs := r.phoenixIn(noCreds, "status")
	wantError(t, "status without credentials", code, errs, cli.ExitUnreachable, "no usable AWS credentials")

	code, _, errs = r.phoenix("status", "--output", "yaml")
	wantError(t, "a bad --output", code, errs, cli.ExitUsage, "--output must be table or json")
	code, _, errs = r.phoenix("rollout", "web")
	wantError(t, "rollout without --image", code, errs, cli.ExitUsage, "--image AMI is required")

	// Without the stack's functions to read, a plan falls back to the
	// built-in defaults and says why.
	var plan jsonPlan
	r.phoenixJSON(&plan, "plan", "--group", "web", "--stack", "other")
	if plan.Defaults.Source != "built-in defaults" || !strings.Contains(plan.Defaults.Note, "not found") || len(plan.Groups) != 1 {
		t.Errorf("plan without a stack: defaults %+v, %d groups", plan.Defaults, len(plan.Groups))
	}

	// Nothing was started by any of it.
	if n := r.executions(); n != 0 {
		t.Errorf("%d executions started by failed commands", n)
	}
	if out := r.phoenixOK("history", "web"); !strings.Contains(out, "No rollouts of web") {
		t.Errorf("history of a group without rollouts:\n%s", out)
	}
	// Group names complete from the region's Phoenix groups.
	if out := r.phoenixOK("__complete", "rollout", "w"); !strings.HasPrefix(out, "web\n") {
		t.Errorf("completion of rollout w:\n%s", out)
	}
}
