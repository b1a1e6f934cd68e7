package e2e

import (
	"cmp"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/phoenix-rollouts/phoenix/cmd/phoenix/cli"
	"github.com/phoenix-rollouts/phoenix/shared/ledger"
	"github.com/phoenix-rollouts/phoenix/shared/lifecycle"
)

// `phoenix images plan` and `phoenix images restore` against the deployed
// stack: the plan reads what the nightly run reads, with the policy of the
// stack's image-lifecycle function, and changes nothing; a restore undoes
// a deprecation and a disable made in EC2 and logs who did it.

// The JSON documents of the images commands, decoded by their documented
// names.
type (
	jsonHold struct {
		Reason string `json:"reason"`
		By     string `json:"by"`
	}
	jsonImagesPlan struct {
		Prediction bool      `json:"prediction"`
		Stack      string    `json:"stack"`
		Region     string    `json:"region"`
		At         time.Time `json:"at"`
		Mode       string    `json:"mode"`
		Policy     struct {
			Source                 string `json:"source"`
			Note                   string `json:"note"`
			Function               string `json:"function"`
			KeepVersions           int    `json:"keepVersions"`
			DeprecateAfterSeconds  int64  `json:"deprecateAfterSeconds"`
			DeregisterAfterSeconds int64  `json:"deregisterAfterSeconds"`
		} `json:"policy"`
		Counts struct {
			VersionsToDelete int            `json:"versionsToDelete"`
			VersionsKept     int            `json:"versionsKept"`
			ImagesByAction   map[string]int `json:"imagesByAction"`
			GiBReclaimed     int64          `json:"gibReclaimed"`
		} `json:"counts"`
		Templates []struct {
			LaunchTemplateID string `json:"launchTemplateId"`
			Name             string `json:"name"`
			Versions         []struct {
				Version     int64      `json:"version"`
				ImageID     string     `json:"imageId"`
				Action      string     `json:"action"`
				KeptBecause []jsonHold `json:"keptBecause"`
			} `json:"versions"`
			ToDelete int `json:"toDelete"`
			Kept     int `json:"kept"`
		} `json:"templates"`
		Images []jsonImageDecision `json:"images"`
	}
	jsonImageDecision struct {
		ImageID                string     `json:"imageId"`
		Stage                  string     `json:"stage"`
		Action                 string     `json:"action"`
		Rule                   string     `json:"rule"`
		Due                    time.Time  `json:"due"`
		SnapshotGiB            int64      `json:"snapshotGiB"`
		KeptBecause            []jsonHold `json:"keptBecause"`
		LaunchTemplateVersions []string   `json:"launchTemplateVersions"`
	}
	jsonRestore struct {
		Region   string    `json:"region"`
		ImageID  string    `json:"imageId"`
		Restored bool      `json:"restored"`
		Result   string    `json:"result"`
		RunID    string    `json:"runId"`
		At       time.Time `json:"at"`
		By       string    `json:"by"`
		Reason   string    `json:"reason"`
	}
)

// reasons lists the holds' reasons, with whom when a hold names one.
func reasons(hs []jsonHold) []string {
	var out []string
	for _, h := range hs {
		if h.By == "" {
			out = append(out, h.Reason)
		} else {
			out = append(out, h.Reason+"@"+h.By)
		}
	}
	return out
}

// registerImage registers an AMI whose root snapshot is gib GiB and waits
// until it is available.
func (r *rig) registerImage(name string, gib int32) string {
	r.t.Helper()
	return r.registered(&ec2.RegisterImageInput{
		Name: aws.String(name), Architecture: ec2types.ArchitectureValuesX8664, RootDeviceName: aws.String("/dev/xvda"),
		BlockDeviceMappings: []ec2types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"), Ebs: &ec2types.EbsBlockDevice{VolumeSize: aws.Int32(gib)}}},
	})
}

func (r *rig) tag(ids []string, kv ...string) {
	r.t.Helper()
	var tags []ec2types.Tag
	for i := 0; i+1 < len(kv); i += 2 {
		tags = append(tags, ec2types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	if _, err := r.env.EC2.CreateTags(r.ctx, &ec2.CreateTagsInput{Resources: ids, Tags: tags}); err != nil {
		r.t.Fatalf("tag %v: %v", ids, err)
	}
}

// ec2State is what a plan must not change in EC2: every own image's
// state, deprecation and protection, and the template's versions and
// default.
func (r *rig) ec2State(templateID string) string {
	r.t.Helper()
	var b strings.Builder
	imgs, err := r.env.EC2.DescribeImages(r.ctx, &ec2.DescribeImagesInput{
		Owners: []string{"self"}, IncludeDeprecated: aws.Bool(true), IncludeDisabled: aws.Bool(true),
	})
	if err != nil {
		r.t.Fatalf("describe images: %v", err)
	}
	slices.SortFunc(imgs.Images, func(a, b ec2types.Image) int {
		return strings.Compare(aws.ToString(a.ImageId), aws.ToString(b.ImageId))
	})
	for _, img := range imgs.Images {
		fmt.Fprintf(&b, "%s %s deprecated=%s protection=%s\n", aws.ToString(img.ImageId), img.State,
			aws.ToString(img.DeprecationTime), aws.ToString(img.DeregistrationProtection))
	}
	vs, err := r.env.EC2.DescribeLaunchTemplateVersions(r.ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(templateID)})
	if err != nil {
		r.t.Fatalf("describe versions of %s: %v", templateID, err)
	}
	for _, v := range vs.LaunchTemplateVersions {
		fmt.Fprintf(&b, "%s v%d default=%v %s\n", templateID, aws.ToInt64(v.VersionNumber), aws.ToBool(v.DefaultVersion), aws.ToString(v.LaunchTemplateData.ImageId))
	}
	return b.String()
}

// ledgerState is what a plan must not change in the ledger: the image
// records and the lifecycle log.
func (r *rig) ledgerState(l *ledger.Ledger) (map[string]lifecycle.Tracked, []ledger.LifecycleEntry) {
	r.t.Helper()
	records, err := l.ImageRecords(r.ctx, region)
	if err != nil {
		r.t.Fatalf("read image records: %v", err)
	}
	log, err := l.LifecycleLog(r.ctx, region, time.Time{}, 0)
	if err != nil {
		r.t.Fatalf("read the lifecycle log: %v", err)
	}
	return records, log
}

// writesBy returns the calls an access key made that are not reads.
func (r *rig) writesBy(key string) []string {
	var out []string
	for op, n := range r.env.Cloud.Wire.RequestsByAccessKey()[key] {
		_, name, _ := strings.Cut(op, ".")
		if !slices.ContainsFunc([]string{"Describe", "Get", "List", "Query", "Scan", "BatchGet"}, func(p string) bool { return strings.HasPrefix(name, p) }) {
			out = append(out, fmt.Sprintf("%s x%d", op, n))
		}
	}
	slices.Sort(out)
	return out
}

func TestTheCLIPlansTheImageLifecycleWithoutChangingAnythingAndRestoresAnImage(t *testing.T) {
	t.Parallel()
	r := newRig(t, 45)
	web := r.newFleet(fleetSpec{name: "web", size: 1})
	lt := web.launchTemplate

	// Versions 2 to 5 of web's template, each with an image of its own;
	// version 2 is the default, the group stays on version 1, and the
	// template keeps its 2 newest versions: version 3 is the one nothing
	// holds.
	versionImage := map[int64]string{1: web.image}
	for n := int64(2); n <= 5; n++ {
		versionImage[n] = r.image(fmt.Sprintf("web-v%d", n), "healthy")
		if _, err := r.env.EC2.CreateLaunchTemplateVersion(r.ctx, &ec2.CreateLaunchTemplateVersionInput{
			LaunchTemplateId: aws.String(lt), SourceVersion: aws.String("1"),
			LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(versionImage[n])},
		}); err != nil {
			t.Fatalf("create version %d: %v", n, err)
		}
	}
	if _, err := r.env.EC2.ModifyLaunchTemplate(r.ctx, &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String(lt), DefaultVersion: aws.String("2")}); err != nil {
		t.Fatal(err)
	}
	r.tag([]string{lt}, lifecycle.TagKeepVersions, "2")
	// Images no version names: one out of use long enough to deprecate, one
	// disabled long enough to deregister (12 GiB of snapshot), one tagged
	// to keep, and one that is not Phoenix's.
	deprecate := r.image("old-deprecate", "healthy")
	deregister := r.registerImage("old-deregister", 12)
	keep := r.image("old-keep", "healthy")
	foreign := r.image("not-phoenix", "healthy")
	// Given a role only after their publishing events were handled: a
	// role-tagged image would be rolled (none of web's role here, but a
	// campaign is not what this scenario is about).
	r.env.Advance(5 * time.Minute)
	phoenix := []string{versionImage[1], versionImage[2], versionImage[3], versionImage[4], versionImage[5], deprecate, deregister, keep}
	r.tag(phoenix, lifecycle.TagRole, "retired")
	r.tag([]string{keep}, lifecycle.TagKeep, "true")

	// The ledger's record of what earlier nights did, and the disable in
	// EC2 that matches it.
	now := r.env.Now()
	dep, derAt := lifecycle.DefaultDeprecateAfter, lifecycle.DefaultDeregisterAfter
	l := ledger.New(r.ddb, r.table).WithLogger(slog.New(slog.DiscardHandler))
	deprecateSince := now.Add(-dep - time.Hour)
	disabledAt := now.Add(-derAt - time.Hour)
	for id, rec := range map[string]lifecycle.Tracked{
		deprecate:  {UnusedSince: deprecateSince},
		deregister: {UnusedSince: disabledAt.Add(-21 * 24 * time.Hour), Deprecated: true, DisabledAt: disabledAt},
	} {
		if err := l.PutImageRecord(r.ctx, region, id, rec, "e2e-earlier-nights", now); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.env.EC2.EnableImageDeprecation(r.ctx, &ec2.EnableImageDeprecationInput{ImageId: aws.String(deregister), DeprecateAt: aws.Time(now.Add(time.Hour))}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.env.EC2.DisableImage(r.ctx, &ec2.DisableImageInput{ImageId: aws.String(deregister)}); err != nil {
		t.Fatal(err)
	}

	// The plan, read with a key of its own so that its calls can be told
	// apart.
	planner := maps.Clone(operatorEnv)
	planner["AWS_ACCESS_KEY_ID"] = "AKIDIMAGESPLAN"
	ec2Before := r.ec2State(lt)
	recordsBefore, logBefore := r.ledgerState(l)
	code, out, errs := r.phoenixIn(planner, "images", "plan", "--output", "json")
	if code != cli.ExitOK {
		t.Fatalf("images plan: exit %d\n%s\n%s", code, out, errs)
	}
	var plan jsonImagesPlan
	decodeOne(t, out, &plan)
	table := r.phoenixOK("images", "plan")

	if !plan.Prediction || plan.Stack != "phoenix" || plan.Region != region || !plan.At.Equal(now) || plan.Mode != "plan" {
		t.Errorf("plan header = prediction %v, stack %q, region %q, at %v (want %v), mode %q; want the stack's, planning", plan.Prediction, plan.Stack, plan.Region, plan.At, now, plan.Mode)
	}
	if plan.Policy.Source != "stack phoenix" || plan.Policy.Note != "" || plan.Policy.Function != "phoenix-image-lifecycle" ||
		plan.Policy.KeepVersions != lifecycle.DefaultKeepVersions || plan.Policy.DeprecateAfterSeconds != int64(dep/time.Second) || plan.Policy.DeregisterAfterSeconds != int64(derAt/time.Second) {
		t.Errorf("policy = %+v; want the image-lifecycle function's (template.yaml's defaults)", plan.Policy)
	}

	if len(plan.Templates) != 1 || plan.Templates[0].LaunchTemplateID != lt || plan.Templates[0].Name != "web" {
		t.Fatalf("templates = %+v; want web's only", plan.Templates)
	}
	tp := plan.Templates[0]
	wantVersions := map[int64]string{
		1: "keep group-uses@" + region + "/web",
		2: "keep template-default",
		3: "delete-version",
		4: "keep newest-versions",
		5: "keep newest-versions",
	}
	for _, v := range tp.Versions {
		got := strings.TrimSpace(cmp.Or(v.Action, "keep") + " " + strings.Join(reasons(v.KeptBecause), " "))
		if got != wantVersions[v.Version] || v.ImageID != versionImage[v.Version] {
			t.Errorf("v%d (%s) = %q, want %q (%s)", v.Version, v.ImageID, got, wantVersions[v.Version], versionImage[v.Version])
		}
	}
	if len(tp.Versions) != 5 || tp.ToDelete != 1 || tp.Kept != 4 || plan.Counts.VersionsToDelete != 1 || plan.Counts.VersionsKept != 4 {
		t.Errorf("versions: %d listed, %d/%d to delete, %d/%d kept; want 5, 1 to delete, 4 kept",
			len(tp.Versions), tp.ToDelete, plan.Counts.VersionsToDelete, tp.Kept, plan.Counts.VersionsKept)
	}

	images := map[string]jsonImageDecision{}
	for _, d := range plan.Images {
		images[d.ImageID] = d
	}
	// The instance's ARN is the local cloud's; what matters is that the
	// instance holds the group's image.
	if a := images[versionImage[1]]; a.Action != "" || a.Stage != "in-use" || len(a.KeptBecause) != 2 ||
		a.KeptBecause[0] != (jsonHold{Reason: "kept-version", By: lt + ":1"}) || a.KeptBecause[1].Reason != "instance" ||
		!slices.Equal(a.LaunchTemplateVersions, []string{lt + ":1"}) {
		t.Errorf("the group's image = %+v; want in use, kept by version 1 and the instance", a)
	}
	for n, want := range map[int64]string{2: lt + ":2", 4: lt + ":4", 5: lt + ":5"} {
		if d := images[versionImage[n]]; d.Action != "" || d.Stage != "in-use" || !slices.Equal(reasons(d.KeptBecause), []string{"kept-version@" + want}) {
			t.Errorf("v%d's image = %+v; want kept by %s", n, d, want)
		}
	}
	for _, tc := range []struct {
		name, id, stage, action string
		due                     time.Time
		gib                     int64
	}{
		// Only the deleted version names it: out of use from tonight.
		{"v3's image", versionImage[3], "unused", "mark-unused", now.Add(dep), 8},
		{"the image out of use for a week", deprecate, "unused", "deprecate", deprecateSince.Add(dep), 8},
		{"the image disabled for a month", deregister, "disabled", "deregister", disabledAt.Add(derAt), 12},
	} {
		d := images[tc.id]
		if d.Stage != tc.stage || d.Action != tc.action || d.Rule == "" || !d.Due.Equal(tc.due) || d.SnapshotGiB != tc.gib || len(d.KeptBecause) != 0 {
			t.Errorf("%s = %+v; want %s, %s due %v, %d GiB, nothing holding it", tc.name, d, tc.stage, tc.action, tc.due, tc.gib)
		}
	}
	if d := images[keep]; d.Action != "" || !slices.Equal(reasons(d.KeptBecause), []string{"tagged-keep"}) {
		t.Errorf("the image tagged to keep = %+v", d)
	}
	if d := images[foreign]; d.Action != "" || !slices.Equal(reasons(d.KeptBecause), []string{"not-phoenix"}) {
		t.Errorf("the image without a role = %+v; want it left alone as not Phoenix's", d)
	}
	wantCounts := map[string]int{"mark-unused": 1, "deprecate": 1, "deregister": 1, "none": 6}
	if !maps.Equal(plan.Counts.ImagesByAction, wantCounts) || plan.Counts.GiBReclaimed != 12 || len(plan.Images) != 9 {
		t.Errorf("image counts %v, %d GiB reclaimed, %d images; want %v, 12 GiB, 9 images", plan.Counts.ImagesByAction, plan.Counts.GiBReclaimed, len(plan.Images), wantCounts)
	}
	for _, want := range []string{
		"a plan; nothing was changed", "Mode: plan", "Policy: stack phoenix (function phoenix-image-lifecycle)",
		"Launch template " + lt + " (web): 5 versions, 1 to delete, 4 kept",
		"group-uses (" + region + "/web)", "Images no version of these launch templates names:",
		"1 other image of the account: not Phoenix's",
		"In all: 1 version to delete, 4 kept; images: deprecate 1, deregister 1, mark-unused 1, unchanged 6; the deregistrations would reclaim 12 GiB",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("images plan table lacks %q:\n%s", want, table)
		}
	}

	// Nothing changed: not in EC2, not in the ledger; and the plan's key
	// only ever read.
	if after := r.ec2State(lt); after != ec2Before {
		t.Errorf("EC2 changed during the plan:\nbefore:\n%s\nafter:\n%s", ec2Before, after)
	}
	recordsAfter, logAfter := r.ledgerState(l)
	if !maps.Equal(recordsAfter, recordsBefore) || len(logAfter) != len(logBefore) {
		t.Errorf("the ledger changed during the plan: records %v -> %v, lifecycle log %d -> %d entries", recordsBefore, recordsAfter, len(logBefore), len(logAfter))
	}
	if w := r.writesBy("AKIDIMAGESPLAN"); len(w) > 0 {
		t.Errorf("images plan made calls that are not reads: %v", w)
	}
	if reads := r.env.Cloud.Wire.RequestsByAccessKey()["AKIDIMAGESPLAN"]; reads["lambda.GetFunctionConfiguration"] != 1 {
		t.Errorf("calls of the plan: %v; want the image-lifecycle function's configuration read once", reads)
	}

	// Restored by hand: enabled, no longer deprecated, the ledger's stages
	// cleared, and the action logged with who did it.
	restoreAt := r.env.Now()
	var restored jsonRestore
	r.phoenixJSON(&restored, "images", "restore", deregister, "--reason", "rollback target for incident 7")
	if !restored.Restored || restored.Result != "done" || restored.ImageID != deregister || restored.Region != region ||
		!strings.HasSuffix(restored.By, callerARN) || restored.Reason != "rollback target for incident 7" || !restored.At.Equal(restoreAt) || restored.RunID == "" {
		t.Errorf("restore = %+v", restored)
	}
	imgs, err := r.env.EC2.DescribeImages(r.ctx, &ec2.DescribeImagesInput{ImageIds: []string{deregister}, IncludeDisabled: aws.Bool(true), IncludeDeprecated: aws.Bool(true)})
	if err != nil || len(imgs.Images) != 1 {
		t.Fatalf("describe the restored image: %v", err)
	}
	if img := imgs.Images[0]; img.State != ec2types.ImageStateAvailable || aws.ToString(img.DeprecationTime) != "" {
		t.Errorf("the restored image is %s, deprecated at %q; want available and not deprecated", img.State, aws.ToString(img.DeprecationTime))
	}
	records, log := r.ledgerState(l)
	if rec := records[deregister]; rec.Staged() || !rec.UnusedSince.IsZero() {
		t.Errorf("the ledger still records stages of the restored image: %+v", rec)
	}
	restores := func(log []ledger.LifecycleEntry) []ledger.LifecycleEntry {
		var out []ledger.LifecycleEntry
		for _, e := range log {
			if e.Target == deregister {
				out = append(out, e)
			}
		}
		return out
	}
	if got := restores(log); len(got) != 1 || got[0].Action != lifecycle.ActionRestore || got[0].Mode != lifecycle.LogModeApply ||
		got[0].Result != lifecycle.ResultDone || got[0].Rule != "restored by hand (phoenix images restore): rollback target for incident 7" || got[0].By != restored.By || got[0].RunID != restored.RunID || !got[0].At.Equal(restoreAt) {
		t.Errorf("lifecycle log of the restored image = %+v; want one applied restore by %s in run %s", got, restored.By, restored.RunID)
	}
	// A later plan starts the image's stages over.
	plan = jsonImagesPlan{}
	r.phoenixJSON(&plan, "images", "plan")
	for _, d := range plan.Images {
		if d.ImageID == deregister && (d.Stage != "unused" || d.Action != "mark-unused") {
			t.Errorf("the restored image in a new plan = %+v; want out of use from now, its stages started over", d)
		}
	}

	// Again: nothing to restore, and the log says so. Both restores ran at
	// the same simulated time, so the log's order between them is the run
	// ids'; the entry is found by its run.
	if out := r.phoenixOK("images", "restore", deregister); !strings.Contains(out, "Nothing to restore: image "+deregister+" in "+region+" is neither deprecated nor disabled") {
		t.Errorf("a second restore:\n%s", out)
	}
	var again jsonRestore
	r.phoenixJSON(&again, "images", "restore", deregister)
	if again.Restored || again.Result != lifecycle.ResultSkipped("neither deprecated nor disabled") || again.RunID == restored.RunID {
		t.Errorf("a third restore = %+v; want nothing restored, in a run of its own", again)
	}
	_, log = r.ledgerState(l)
	var skipped []ledger.LifecycleEntry
	for _, e := range restores(log) {
		if e.RunID == again.RunID {
			skipped = append(skipped, e)
		}
	}
	if len(restores(log)) != 3 || len(skipped) != 1 || skipped[0].Result != again.Result || skipped[0].By != again.By {
		t.Errorf("lifecycle log of the restored image after two more restores = %+v; want 3 entries, run %s's skipped", restores(log), again.RunID)
	}

	code, _, errs = r.phoenix("images", "restore", "ami-0000000000000dead")
	wantError(t, "restore of an image that does not exist", code, errs, cli.ExitNotFound, "image ami-0000000000000dead not found in us-east-1")
	code, _, errs = r.phoenix("images", "restore", "ami-dead")
	wantError(t, "restore of a malformed image id", code, errs, cli.ExitUsage, `"ami-dead" is not an AMI id`)
	if got := r.ec2State(lt); !strings.Contains(got, deregister+" available deprecated= ") {
		t.Errorf("the failed restores changed the restored image:\n%s", got)
	}
}

// decodeOne decodes the one JSON document of a command's output.
func decodeOne(t *testing.T, out string, into any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(into); err != nil {
		t.Fatalf("not one JSON document: %v\n%s", err, out)
	}
	if dec.More() {
		t.Fatalf("more than one JSON document:\n%s", out)
	}
}
