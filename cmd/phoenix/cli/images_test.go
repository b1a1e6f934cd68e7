package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	phxconfig "github.com/phoenix-rollouts/phoenix/shared/config"
	"github.com/phoenix-rollouts/phoenix/shared/lifecycle"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// lifecycleEnv is a nightly function's environment as template.yaml sets
// it, without AWS_REGION (Lambda adds that at run time).
func lifecycleEnv(mode string) map[string]string {
	return map[string]string{
		phxconfig.EnvTable: "phoenix-ledger", phxconfig.EnvTopicARN: "arn:aws:sns:eu-west-1:123456789012:phoenix",
		phxconfig.EnvDefaultCheckpoints: "25,50", phxconfig.EnvDefaultMinHealthy: "100", phxconfig.EnvDefaultMaxHealthy: "125",
		phxconfig.EnvDefaultCheckpointDelay: "300", phxconfig.EnvDefaultBake: "600", phxconfig.EnvDefaultGuardWindow: "3600",
		phxconfig.EnvLeaseTTL: "21600", phxconfig.EnvAccountID: "123456789012",
		phxconfig.EnvImageLifecycle: mode, phxconfig.EnvLifecycleKeepVersions: "5", phxconfig.EnvLifecycleDeprecateAfter: "72h",
	}
}

func TestLifecycleSettingsComeFromTheNightlyFunctionElseTheBuiltInDefaults(t *testing.T) {
	t.Parallel()
	t.Run("the function's environment gives the mode, the policy, the rollout defaults and the account", func(t *testing.T) {
		t.Parallel()
		st := lifecycleSettingsFrom("phoenix", "phoenix-image-lifecycle", "eu-west-1", lifecycleEnv("apply"), nil)
		if st.Mode != "apply" || st.Source != "stack phoenix" || st.Note != "" || st.Account != "123456789012" {
			t.Errorf("settings = %+v", st)
		}
		if st.Policy.KeepVersions != 5 || st.Policy.DeprecateAfter != 72*time.Hour || st.Policy.DisableAfter != lifecycle.DefaultDisableAfter {
			t.Errorf("policy = %+v; want 5 versions kept, deprecation after 3 days, the default disable wait", st.Policy)
		}
		if st.Defaults.GuardWindow != time.Hour {
			t.Errorf("rollout defaults = %+v; want the function's guard window of an hour", st.Defaults)
		}
	})
	t.Run("a stack that only plans says so", func(t *testing.T) {
		t.Parallel()
		if st := lifecycleSettingsFrom("phoenix", "phoenix-image-lifecycle", "eu-west-1", lifecycleEnv("plan"), nil); st.Mode != "plan" {
			t.Errorf("mode = %q, want plan", st.Mode)
		}
	})
	t.Run("a function that cannot be read falls back and says why", func(t *testing.T) {
		t.Parallel()
		st := lifecycleSettingsFrom("phoenix", "phoenix-image-lifecycle", "eu-west-1", nil, errors.New("read the configuration of function phoenix-image-lifecycle: ResourceNotFoundException: Function not found"))
		if st.Mode != modeUnknown || st.Source != "built-in defaults" || st.Account != "" || !strings.Contains(st.Note, "Function not found") {
			t.Errorf("settings = %+v", st)
		}
		if st.Policy != lifecycle.DefaultPolicy() || st.Defaults.GuardWindow != rollout.DefaultPolicy().GuardWindow {
			t.Errorf("fallback policies = %+v, %+v; want the built-in ones", st.Policy, st.Defaults)
		}
	})
	t.Run("a configuration that does not load falls back naming the variable", func(t *testing.T) {
		t.Parallel()
		st := lifecycleSettingsFrom("phoenix", "phoenix-image-lifecycle", "eu-west-1", lifecycleEnv("sometimes"), nil)
		if st.Mode != modeUnknown || st.Source != "built-in defaults" || !strings.Contains(st.Note, phxconfig.EnvImageLifecycle) {
			t.Errorf("settings = %+v", st)
		}
	})
}

// aPlan is a night's plan over two templates: lt-a's version 2 is
// deleted, lt-b shares an image with lt-a; one image is deregistered, one
// waits, one Phoenix never touches, and one not named by any version is
// marked unused.
func aPlan(at time.Time) lifecycle.Plan {
	return lifecycle.Plan{
		At: at,
		Versions: []lifecycle.VersionDecision{
			{TemplateID: "lt-a", Number: 1, ImageID: "ami-00000001", Holds: []lifecycle.Hold{{Reason: lifecycle.KeptGroupUses, By: "eu-west-1/web"}}},
			{TemplateID: "lt-a", Number: 2, ImageID: "ami-00000002", Action: lifecycle.ActionDeleteVersion, Rule: "not among the newest 5"},
			{TemplateID: "lt-a", Number: 3, ImageID: "ami-00000003", Holds: []lifecycle.Hold{{Reason: lifecycle.KeptDefault}, {Reason: lifecycle.KeptNewest}}},
			{TemplateID: "lt-b", Number: 1, ImageID: "ami-00000003", Holds: []lifecycle.Hold{{Reason: lifecycle.KeptDefault}}},
		},
		Images: []lifecycle.ImageDecision{
			{ImageID: "ami-00000009", Stage: lifecycle.StageDisabled, Action: lifecycle.ActionDeregister, Due: at.Add(-time.Hour), SnapshotGiB: 30, Rule: "disabled for 30d"},
			{ImageID: "ami-0000000a", Stage: lifecycle.StageUnused, Holds: []lifecycle.Hold{{Reason: lifecycle.KeptNotPhoenix}}, SnapshotGiB: 8},
			{ImageID: "ami-00000003", Stage: lifecycle.StageInUse, SnapshotGiB: 8, Holds: []lifecycle.Hold{{Reason: lifecycle.KeptVersion, By: "lt-a:3"}, {Reason: lifecycle.KeptVersion, By: "lt-b:1"}}},
			{ImageID: "ami-00000002", Stage: lifecycle.StageDeprecated, Action: lifecycle.ActionDisable, Due: at.Add(-time.Minute), SnapshotGiB: 8},
			{ImageID: "ami-00000001", Stage: lifecycle.StageInUse, Action: lifecycle.ActionRestore, Rule: "staged and in use again", SnapshotGiB: 8,
				Holds: []lifecycle.Hold{{Reason: lifecycle.KeptInstance, By: "arn:aws:ec2:eu-west-1:123456789012:instance/i-1"}}},
			{ImageID: "ami-0000000b", Stage: lifecycle.StageUnused, Action: lifecycle.ActionMarkUnused, Due: at.Add(7 * 24 * time.Hour), SnapshotGiB: 12},
			{ImageID: "ami-0000000c", Stage: lifecycle.StageUnused, SnapshotGiB: 4, Holds: []lifecycle.Hold{{Reason: lifecycle.KeptWaiting, By: "deprecate due 2026-02-03T00:00:00Z"}}},
		},
	}
}

func TestAnImagesPlanGroupsVersionsByTemplateAndCountsWhatItWouldDo(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 2, 1, 3, 0, 0, 0, time.UTC)
	st := lifecycleSettingsFrom("phoenix", "phoenix-image-lifecycle", "eu-west-1", lifecycleEnv("plan"), nil)
	doc := planImages(aPlan(at), st)
	doc.Stack, doc.Region, doc.names = "phoenix", "eu-west-1", map[string]string{"lt-a": "web"}

	if doc.Counts.VersionsToDelete != 1 || doc.Counts.VersionsKept != 3 || doc.Counts.GiBReclaimed != 30 {
		t.Errorf("counts = %+v; want 1 version to delete, 3 kept, the deregistration's 30 GiB", doc.Counts)
	}
	wantActions := map[string]int{"deregister": 1, "disable": 1, "mark-unused": 1, "restore": 1, "none": 3}
	if fmt.Sprint(doc.Counts.ImagesByAction) != fmt.Sprint(wantActions) {
		t.Errorf("images by action = %v, want %v", doc.Counts.ImagesByAction, wantActions)
	}
	if len(doc.Templates) != 2 || doc.Templates[0].LaunchTemplateID != "lt-a" || doc.Templates[0].ToDelete != 1 || doc.Templates[0].Kept != 2 || doc.Templates[1].Kept != 1 {
		t.Errorf("templates = %+v", doc.Templates)
	}
	// Every image once, in the plan's order; each under the first template
	// naming it, in the order of its versions there.
	var ids []string
	for _, i := range doc.byTemplate["lt-a"] {
		ids = append(ids, doc.Images[i].ImageID)
	}
	if want := []string{"ami-00000001", "ami-00000002", "ami-00000003"}; !slices.Equal(ids, want) {
		t.Errorf("lt-a's images = %v, want %v", ids, want)
	}
	if len(doc.byTemplate["lt-b"]) != 0 || len(doc.others) != 3 || doc.notPhoenix != 1 || len(doc.Images) != 7 {
		t.Errorf("lt-b lists %v, others %v, %d not Phoenix's, %d images", doc.byTemplate["lt-b"], doc.others, doc.notPhoenix, len(doc.Images))
	}

	var out bytes.Buffer
	writeImagesPlan(&out, doc)
	table := out.String()
	for _, want := range []string{
		"Image lifecycle of stack phoenix in eu-west-1 at 2026-02-01 03:00:00Z: a plan; nothing was changed.",
		"Mode: plan (the nightly run only logs",
		"Policy: stack phoenix (function phoenix-image-lifecycle): keep each template's 5 newest versions",
		"deprecate an AMI 3d after it is found out of use, disable it 14d later, deregister it 30d later",
		"Launch template lt-a (web): 3 versions, 1 to delete, 2 kept",
		"Launch template lt-b: 1 version, 0 to delete, 1 kept",
		"template-default, newest-versions",
		"group-uses (eu-west-1/web)",
		"not among the newest 5",
		"staged and in use again; kept because instance (arn:aws:ec2:eu-west-1:123456789012:instance/i-1)",
		"disabled for 30d",
		"kept-version (lt-a:3), kept-version (lt-b:1)",
		"Images no version of these launch templates names:",
		"waiting (deprecate due 2026-02-03T00:00:00Z)",
		"1 other image of the account: not Phoenix's",
		"In all: 1 version to delete, 3 kept; images: deregister 1, disable 1, mark-unused 1, restore 1, unchanged 3; the deregistrations would reclaim 30 GiB of snapshots.",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	if strings.Contains(table, "ami-0000000a") {
		t.Errorf("the table lists an image Phoenix never touches:\n%s", table)
	}
	if strings.Count(table, "\n  ami-00000003 ") != 1 {
		t.Errorf("the image two templates name is not listed once among the images:\n%s", table)
	}

	// The JSON, as a script reads it: the documented names.
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Prediction bool   `json:"prediction"`
		Mode       string `json:"mode"`
		At         string `json:"at"`
		Policy     struct {
			Source                string `json:"source"`
			Function              string `json:"function"`
			KeepVersions          int    `json:"keepVersions"`
			DeprecateAfterSeconds int64  `json:"deprecateAfterSeconds"`
		} `json:"policy"`
		Templates []struct {
			LaunchTemplateID string `json:"launchTemplateId"`
			Name             string `json:"name"`
			Versions         []struct {
				Version     int64  `json:"version"`
				Action      string `json:"action"`
				Rule        string `json:"rule"`
				KeptBecause []struct {
					Reason string `json:"reason"`
					By     string `json:"by"`
				} `json:"keptBecause"`
			} `json:"versions"`
		} `json:"templates"`
		Images []struct {
			ImageID                string   `json:"imageId"`
			Action                 string   `json:"action"`
			Due                    string   `json:"due"`
			Rule                   string   `json:"rule"`
			SnapshotGiB            int64    `json:"snapshotGiB"`
			LaunchTemplateVersions []string `json:"launchTemplateVersions"`
		} `json:"images"`
		Counts struct {
			ImagesByAction map[string]int `json:"imagesByAction"`
			GiBReclaimed   int64          `json:"gibReclaimed"`
		} `json:"counts"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if !got.Prediction || got.Mode != "plan" || got.At != "2026-02-01T03:00:00Z" || got.Policy.Function != "phoenix-image-lifecycle" ||
		got.Policy.KeepVersions != 5 || got.Policy.DeprecateAfterSeconds != 3*24*3600 || got.Counts.GiBReclaimed != 30 || got.Counts.ImagesByAction["none"] != 3 {
		t.Errorf("JSON = %s", b)
	}
	if v := got.Templates[0].Versions[0]; v.Version != 1 || v.Action != "" || len(v.KeptBecause) != 1 || v.KeptBecause[0].Reason != "group-uses" || v.KeptBecause[0].By != "eu-west-1/web" {
		t.Errorf("lt-a v1 in JSON = %+v", v)
	}
	if v := got.Templates[0].Versions[1]; v.Action != "delete-version" || v.Rule != "not among the newest 5" || v.KeptBecause != nil {
		t.Errorf("lt-a v2 in JSON = %+v", v)
	}
	if img := got.Images[2]; img.ImageID != "ami-00000003" || !slices.Equal(img.LaunchTemplateVersions, []string{"lt-a:3", "lt-b:1"}) || img.Due != "" {
		t.Errorf("the shared image in JSON = %+v", img)
	}
	if img := got.Images[0]; img.Action != "deregister" || img.Rule != "disabled for 30d" || img.Due != "2026-02-01T02:00:00Z" || img.SnapshotGiB != 30 {
		t.Errorf("the deregistered image in JSON = %+v", img)
	}
}

func TestAnImagesPlanWithoutTheStacksSettingsSaysSo(t *testing.T) {
	t.Parallel()
	st := lifecycleSettingsFrom("phoenix", "phoenix-image-lifecycle", "eu-west-1", nil, errors.New("AccessDeniedException: not allowed"))
	doc := planImages(lifecycle.Plan{At: time.Date(2026, 2, 1, 3, 0, 0, 0, time.UTC)}, st)
	var out bytes.Buffer
	writeImagesPlan(&out, doc)
	for _, want := range []string{"Mode: unknown.", "Policy: built-in defaults (could not read the stack's image lifecycle settings (AccessDeniedException: not allowed))",
		"keep each template's 20 newest versions", "No Phoenix group launches from a launch template", "In all: 0 versions to delete, 0 kept; images: none."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	b, _ := json.Marshal(doc)
	for _, want := range []string{`"mode":"unknown"`, `"source":"built-in defaults"`, `"templates":[]`, `"images":[]`, `"imagesByAction":{}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s: %s", want, b)
		}
	}
	if strings.Contains(string(b), `"function"`) {
		t.Errorf("JSON names a function it did not read: %s", b)
	}
}

func TestRestoreErrorsExitAsDocumented(t *testing.T) {
	t.Parallel()
	s := &session{region: "eu-west-1", stack: "phoenix"}
	const id = "ami-0123456789abcdef0"
	cases := []struct {
		name string
		err  error
		code int
		want string
	}{
		{"an image that does not exist", &rollout.NotFoundError{Kind: "image", ID: id}, ExitNotFound, "image " + id + " not found in eu-west-1"},
		{"an image of another account", fmt.Errorf("image %s is owned by 210987654321: %w", id, lifecycle.ErrNotPhoenixImage), ExitFailed, "owned by 210987654321"},
		{"a refusal by EC2", &smithy.GenericAPIError{Code: "IncorrectState", Message: "the image is pending"}, ExitFailed, "IncorrectState: the image is pending"},
		{"credentials EC2 will not take", &smithy.GenericAPIError{Code: "AuthFailure", Message: "no"}, ExitUnreachable, "AuthFailure"},
		{"an endpoint that is down", &rollout.TransientError{Op: "describe image", Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}}, ExitUnreachable, "cannot reach AWS"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := asExit(s.restoreError(id, tc.err))
			if e.code != tc.code || !strings.Contains(e.msg, tc.want) {
				t.Errorf("exit %d %q; want %d saying %q", e.code, e.msg, tc.code, tc.want)
			}
		})
	}
}

func TestRestoreSaysWhatItDid(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)
	var done, skipped bytes.Buffer
	writeRestore(&done, restoreDoc{Region: "eu-west-1", ImageID: "ami-00000001", Restored: true, Result: "done", RunID: "restore-1", At: at, By: "arn:aws:sts::1:assumed-role/ops/ana", Reason: "incident 7"})
	writeRestore(&skipped, restoreDoc{Region: "eu-west-1", ImageID: "ami-00000001", Result: lifecycle.ResultSkipped("neither deprecated nor disabled"), RunID: "restore-2", At: at, By: "arn:aws:sts::1:assumed-role/ops/ana"})
	for _, want := range []string{"Restored image ami-00000001 in eu-west-1", "Reason: incident 7", "as run restore-1 at 2026-02-01 12:00:00Z by arn:aws:sts::1:assumed-role/ops/ana"} {
		if !strings.Contains(done.String(), want) {
			t.Errorf("restore output lacks %q:\n%s", want, done.String())
		}
	}
	if want := "Nothing to restore: image ami-00000001 in eu-west-1 is neither deprecated nor disabled."; !strings.Contains(skipped.String(), want) {
		t.Errorf("skipped restore output lacks %q:\n%s", want, skipped.String())
	}
}

func TestWaitText(t *testing.T) {
	t.Parallel()
	for secs, want := range map[int64]string{0: "0s", 7 * 24 * 3600: "7d", 36 * 3600: "36h", 90: "1m30s"} {
		if got := waitText(secs); got != want {
			t.Errorf("waitText(%d) = %q, want %q", secs, got, want)
		}
	}
}
