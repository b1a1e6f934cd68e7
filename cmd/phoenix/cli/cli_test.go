package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// run runs the CLI with an environment that holds only env: no
// credentials, no home, no instance metadata unless given.
func run(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	getenv := func(k string) string { return env[k] }
	code = Run(context.Background(), args, Env{
		Stdout: &out, Stderr: &errb, Getenv: getenv,
		Now:   func() time.Time { return time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC) },
		Sleep: func(context.Context, time.Duration) error { t.Fatal("nothing here waits"); return nil },
	})
	return code, out.String(), errb.String()
}

// oneErrorLine checks stderr is a single "phoenix: " line without the
// SDK's request dumps.
func oneErrorLine(t *testing.T, stderr string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "phoenix: ") {
		t.Errorf("stderr is not one \"phoenix: \" line:\n%s", stderr)
	}
	for _, dump := range []string{"RequestID", "operation error", "https response error", "goroutine", "panic"} {
		if strings.Contains(stderr, dump) {
			t.Errorf("stderr holds an SDK or Go dump (%q): %s", dump, stderr)
		}
	}
}

func TestBadUsageExitsTwoWithOneLine(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"an unknown command", []string{"deploy"}, `unknown command "deploy"`},
		{"an unknown flag", []string{"status", "--bogus"}, "unknown flag: --bogus"},
		{"an unknown output format", []string{"status", "--output", "yaml"}, "--output must be table or json"},
		{"an empty stack name", []string{"status", "--stack", " "}, "--stack must name"},
		{"a rollout without an image", []string{"rollout", "web"}, "--image AMI is required"},
		{"a rollout without a group", []string{"rollout", "--image", "ami-1"}, "accepts 1 arg(s)"},
		{"a rollout with two groups", []string{"rollout", "web", "api", "--image", "ami-1"}, "accepts 1 arg(s)"},
		{"a rollout name Step Functions refuses", []string{"rollout", "web", "--image", "ami-1", "--name", "a b"}, "--name"},
		{"a rollback to version zero", []string{"rollback", "web", "--to-version", "0"}, "--to-version must be"},
		{"a rollback to a version that is no number", []string{"rollback", "web", "--to-version", "seven"}, "invalid argument"},
		{"a halt without a reason", []string{"halt", "web"}, "--reason is required"},
		{"a halt with a blank reason", []string{"halt", "--reason", "  "}, "--reason is required"},
		{"a plan of nothing", []string{"plan"}, "give --image AMI, --group GROUP, or both"},
		{"a plan with a stray argument", []string{"plan", "web"}, "unknown command"},
		{"a history since nonsense", []string{"history", "--since", "last tuesday"}, "--since"},
		{"a negative history limit", []string{"history", "--limit", "-1"}, "--limit"},
		{"a history of a group and a rollout", []string{"history", "web", "--rollout", "r1"}, "not both"},
		{"images without a command", []string{"images"}, "plan or restore AMI"},
		{"an images command that does not exist", []string{"images", "prune"}, `unknown command "prune"`},
		{"an images plan at a time that is not RFC 3339", []string{"images", "plan", "--at", "tomorrow"}, "--at must be an RFC 3339 time"},
		{"an images plan at a date without a time", []string{"images", "plan", "--at", "2026-03-01"}, "--at must be an RFC 3339 time"},
		{"an images plan with a stray argument", []string{"images", "plan", "web"}, "unknown command"},
		{"a restore without an AMI", []string{"images", "restore"}, "accepts 1 arg(s)"},
		{"a restore of two AMIs", []string{"images", "restore", "ami-0abc1234", "ami-0abc1235"}, "accepts 1 arg(s)"},
		{"a restore of an AMI id too short", []string{"images", "restore", "ami-0abc123"}, "is not an AMI id"},
		{"a restore of an AMI id that is not hexadecimal", []string{"images", "restore", "ami-0abc123z"}, "is not an AMI id"},
		{"a restore of an instance id", []string{"images", "restore", "i-0abc1234"}, "is not an AMI id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := run(t, nil, tc.args...)
			if code != ExitUsage {
				t.Errorf("exit %d, want %d; stderr: %s", code, ExitUsage, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q does not say %q", stderr, tc.want)
			}
			oneErrorLine(t, stderr)
		})
	}
}

func TestAnEnvironmentWithoutRegionOrEndpointIsBadUsage(t *testing.T) {
	t.Parallel()
	creds := map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_EC2_METADATA_DISABLED": "true"}
	code, _, stderr := run(t, creds, "status")
	if code != ExitUsage || !strings.Contains(stderr, "no AWS region") {
		t.Errorf("exit %d, stderr %q; want %d naming the missing region", code, stderr, ExitUsage)
	}
	code, _, stderr = run(t, creds, "status", "--region", "us-east-1", "--endpoint-url", "localhost:4566")
	if code != ExitUsage || !strings.Contains(stderr, "not an http(s) URL") {
		t.Errorf("exit %d, stderr %q; want %d refusing the URL", code, stderr, ExitUsage)
	}
}

// The injected environment is the only one read: without credentials in
// it (and no home, no instance metadata) there are none, whatever the
// process's own environment holds, and the message says what to set.
func TestNoCredentialsExitsFour(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
		// A profile without credentials, named in the environment, keeps
		// the SDK from taking them from the process's own environment,
		// whatever the developer's holds.
		"AWS_PROFILE": "nobody", "AWS_CONFIG_FILE": profileWithoutCredentials(t),
	}
	for _, args := range [][]string{{"status"}, {"history"}, {"halt", "--reason", "x"}, {"rollout", "web", "--image", "ami-1"}, {"images", "plan"}, {"images", "restore", "ami-0abc1234"}} {
		code, _, stderr := run(t, env, args...)
		if code != ExitUnreachable {
			t.Errorf("%v: exit %d, want %d; stderr: %s", args, code, ExitUnreachable, stderr)
		}
		if !strings.Contains(stderr, "no usable AWS credentials") || !strings.Contains(stderr, "AWS_PROFILE") {
			t.Errorf("%v: stderr %q does not say what to set", args, stderr)
		}
		// AWS_EC2_METADATA_DISABLED from the injected environment reached
		// the SDK: it never tried the instance metadata service.
		if !strings.Contains(strings.ToLower(stderr), "disabled") {
			t.Errorf("%v: stderr %q: instance metadata was not disabled", args, stderr)
		}
		oneErrorLine(t, stderr)
	}
}

// profileWithoutCredentials writes a shared config file whose profile
// "nobody" has a region and no credentials.
func profileWithoutCredentials(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte("[profile nobody]\nregion = us-east-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAMissingProfileExitsFour(t *testing.T) {
	t.Parallel()
	env := map[string]string{"AWS_PROFILE": "ghost", "AWS_CONFIG_FILE": profileWithoutCredentials(t), "AWS_EC2_METADATA_DISABLED": "true"}
	code, _, stderr := run(t, env, "status", "--region", "us-east-1")
	if code != ExitUnreachable || !strings.Contains(stderr, "AWS profile ghost") {
		t.Errorf("exit %d, stderr %q; want %d naming the missing profile", code, stderr, ExitUnreachable)
	}
	oneErrorLine(t, stderr)
}

func TestAnUnreachableEndpointExitsFour(t *testing.T) {
	t.Parallel()
	env := map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_EC2_METADATA_DISABLED": "true"}
	// Port 9 (discard) on loopback refuses connections on any test machine.
	code, _, stderr := run(t, env, "history", "--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:9")
	if code != ExitUnreachable || !strings.Contains(stderr, "cannot reach http://127.0.0.1:9") {
		t.Errorf("exit %d, stderr %q; want %d saying the endpoint cannot be reached", code, stderr, ExitUnreachable)
	}
	oneErrorLine(t, stderr)
}

func TestHelpDocumentsExitCodesAndEveryCommandHasExamples(t *testing.T) {
	t.Parallel()
	code, out, _ := run(t, nil, "--help")
	if code != ExitOK {
		t.Fatalf("--help exit %d", code)
	}
	for _, want := range []string{"Exit codes:", "0  ok", "2  bad usage", "3  not found", "4  cannot reach", "5  halted", "--endpoint-url", "--output"} {
		if !strings.Contains(out, want) {
			t.Errorf("--help does not mention %q", want)
		}
	}
	for _, cmd := range []string{"status", "history", "plan", "rollout", "rollback", "halt", "resume", "images", "images plan", "images restore"} {
		code, out, _ := run(t, nil, append(strings.Fields(cmd), "--help")...)
		if code != ExitOK || !strings.Contains(out, "Examples:") || !strings.Contains(out, "phoenix "+cmd) {
			t.Errorf("%s --help: exit %d, no examples:\n%s", cmd, code, out)
		}
	}
}

func TestCompletionScriptsForEveryShell(t *testing.T) {
	t.Parallel()
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		code, out, stderr := run(t, nil, "completion", shell)
		if code != ExitOK || !strings.Contains(out, "phoenix") {
			t.Errorf("completion %s: exit %d, %d bytes; stderr %s", shell, code, len(out), stderr)
		}
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Time
	}{
		{"7d", now.Add(-7 * 24 * time.Hour)},
		{"2w", now.Add(-14 * 24 * time.Hour)},
		{"36h", now.Add(-36 * time.Hour)},
		{"90m", now.Add(-90 * time.Minute)},
		{"1h30m", now.Add(-90 * time.Minute)},
		{"2026-01-31", time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)},
		{"2026-01-31T08:00:00+01:00", time.Date(2026, 1, 31, 7, 0, 0, 0, time.UTC)},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := parseSince(tc.in, now)
			if err != nil || !got.Equal(tc.want) {
				t.Errorf("parseSince(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
	for _, bad := range []string{"", "yesterday", "-5m", "7y", "99999999999d", "36500w"} {
		if _, err := parseSince(bad, now); err == nil {
			t.Errorf("parseSince(%q) accepted it", bad)
		}
	}
}

func TestWaitExitCodes(t *testing.T) {
	cases := []struct {
		name      string
		want, got rollout.Status
		halted    bool
		code      int
	}{
		{"a rollout that finalized as asked", rollout.StatusFinalized, rollout.StatusFinalized, false, ExitOK},
		{"a rollback whose rollout reverted as asked", rollout.StatusReverted, rollout.StatusReverted, false, ExitOK},
		{"a rollout that reverted", rollout.StatusFinalized, rollout.StatusReverted, false, ExitFailed},
		{"a rollout that was refused", rollout.StatusFinalized, rollout.StatusRefused, false, ExitFailed},
		{"a rollout that ended dirty", rollout.StatusFinalized, rollout.StatusDirty, false, ExitFailed},
		{"a rollback whose rollout finalized anyway", rollout.StatusReverted, rollout.StatusFinalized, false, ExitFailed},
		{"a rollout a halt reverted", rollout.StatusFinalized, rollout.StatusReverted, true, ExitHalted},
		{"a rollout a halt refused", rollout.StatusFinalized, rollout.StatusRefused, true, ExitHalted},
		{"a dirty end under a halt is still a failure", rollout.StatusFinalized, rollout.StatusDirty, true, ExitFailed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := waitExit(tc.want, tc.got, tc.halted); got != tc.code {
				t.Errorf("waitExit = %d, want %d", got, tc.code)
			}
		})
	}
}

func TestProgress(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 2, 1, 12, 3, 4, 0, time.UTC)
	s := snapshot{Status: "refreshing", Refresh: "InProgress", Percent: 50, Step: "validate@25#0"}
	if got, want := barLine(s, 10), "[#####.....]  50%  refreshing  validate@25#0"; got != want {
		t.Errorf("bar = %q, want %q", got, want)
	}
	if got := barLine(snapshot{Status: "starting", Percent: 140}, 4); got != "[####] 100%  starting" {
		t.Errorf("bar over 100%% = %q", got)
	}
	if got, want := changeLine(at, s), "12:03:04Z  refreshing  refresh InProgress 50%  step validate@25#0"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}

	var lines bytes.Buffer
	p := &progress{w: &lines}
	p.show(at, s)
	p.show(at.Add(time.Second), s) // nothing changed: no line
	s.Percent = 75
	p.show(at.Add(2*time.Second), s)
	p.end()
	if n := strings.Count(lines.String(), "\n"); n != 2 {
		t.Errorf("%d lines for two changes:\n%s", n, lines.String())
	}

	var bar bytes.Buffer
	p = &progress{w: &bar, terminal: true}
	p.show(at, s)
	p.show(at, snapshot{Status: "finalized"})
	p.end()
	if strings.Count(bar.String(), "\r") != 2 || strings.Count(bar.String(), "\n") != 1 {
		t.Errorf("the terminal bar is not redrawn in place: %q", bar.String())
	}
}

func TestClipKeepsEmptyCellsEmpty(t *testing.T) {
	t.Parallel()
	if got := dash(clip("", 10)); got != "-" {
		t.Errorf("an empty reason shows as %q", got)
	}
	if got := clip("a  long\nreason here", 8); got != "a long …" {
		t.Errorf("clip = %q", got)
	}
}

func TestDurationText(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 90 * time.Second: "1m30s", 5 * time.Minute: "5m", 23 * time.Minute: "23m",
		2 * time.Hour: "2h", 2*time.Hour + 5*time.Minute: "2h5m", 1500 * time.Millisecond: "2s",
	} {
		if got := durationText(d); got != want {
			t.Errorf("durationText(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestMachineDefinitionListsNestedFunctions(t *testing.T) {
	t.Parallel()
	const def = `{"States": {
		"Prepare": {"Type": "Task", "Parameters": {"FunctionName": "arn:aws:lambda:us-east-1:1:function:prepare", "Payload": {}}},
		"Notify": {"Type": "Task", "Parameters": {"TopicArn": "arn:aws:sns:us-east-1:1:t"}},
		"Rollouts": {"Type": "Map", "ItemProcessor": {"States": {
			"Gate": {"Type": "Task", "Parameters": {"FunctionName": "arn:aws:lambda:us-east-1:1:function:gate"}}}}},
		"Both": {"Type": "Parallel", "Branches": [{"States": {"B": {"Type": "Task", "Parameters": {"FunctionName": "b"}}}}]}
	}}`
	var d machineDefinition
	if err := json.Unmarshal([]byte(def), &d); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(d.allFunctionNames(), " ")
	if want := "b arn:aws:lambda:us-east-1:1:function:prepare arn:aws:lambda:us-east-1:1:function:gate"; got != want {
		t.Errorf("functions = %q, want %q", got, want)
	}
	if got := d.States["Prepare"].Parameters.functionNames(); len(got) != 1 || !strings.HasSuffix(got[0], ":prepare") {
		t.Errorf("Prepare's function = %v", got)
	}
}

func TestCountInstancesByVersionAndImage(t *testing.T) {
	t.Parallel()
	got := countInstances([]rollout.Instance{
		{ID: "a", LaunchTemplateVersion: "1", ImageID: "ami-1", Lifecycle: "InService", Health: "Healthy"},
		{ID: "b", LaunchTemplateVersion: "2", ImageID: "ami-2", Lifecycle: "InService", Health: "Healthy"},
		{ID: "c", LaunchTemplateVersion: "2", ImageID: "ami-2", Lifecycle: "Pending", Health: "Healthy"},
		{ID: "d", LaunchTemplateVersion: "2", ImageID: "ami-2", Lifecycle: "InService", Health: "Unhealthy"},
		{ID: "e", LaunchTemplateVersion: "1", ImageID: "ami-1", Lifecycle: "Terminating:Wait", Health: "Healthy"},
	})
	want := []instanceCount{{Version: "2", ImageID: "ami-2", Count: 3, InService: 2, Healthy: 2}, {Version: "1", ImageID: "ami-1", Count: 2, InService: 1, Healthy: 2, Leaving: 1}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("counts = %+v, want %+v", got, want)
	}
}

func TestRolloutRefreshPrefersTheNewestStartedSinceTheRollout(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)
	r := rollout.Rollout{ID: "r1", StartedAt: start, RefreshID: "rf-forward"}
	refreshes := []rollout.Refresh{ // newest first
		{ID: "rf-back", Status: "InProgress", StartTime: start.Add(20 * time.Minute)},
		{ID: "rf-forward", Status: "Cancelled", StartTime: start.Add(time.Minute)},
		{ID: "rf-old", Status: "Successful", StartTime: start.Add(-24 * time.Hour)},
	}
	if rf, ok := rolloutRefresh(refreshes, r); !ok || rf.ID != "rf-back" {
		t.Errorf("refresh = %v %v, want the refresh back", rf.ID, ok)
	}
	if rf, ok := rolloutRefresh(refreshes[2:], r); ok {
		t.Errorf("an older refresh %s was taken for the rollout's", rf.ID)
	}
}

// FuzzParseSince: any --since either fails or gives a time, and a
// duration back from now never lands after now.
func FuzzParseSince(f *testing.F) {
	for _, s := range []string{"7d", "2w", "90m", "1h30m", "2026-01-31", "2026-01-31T08:00:00Z", "", "-5m", "9999999999w", "36500w", "5000000h"} {
		f.Add(s)
	}
	now := time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseSince(s, now)
		if err != nil {
			return
		}
		if sinceUnit.MatchString(strings.TrimSpace(s)) && got.After(now) {
			t.Errorf("parseSince(%q) = %v, after now", s, got)
		}
	})
}
