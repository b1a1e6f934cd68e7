package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/google/uuid"
	"github.com/spf13/cobra"

	phxconfig "github.com/phoenix-rollouts/phoenix/shared/config"
	"github.com/phoenix-rollouts/phoenix/shared/lifecycle"
	"github.com/phoenix-rollouts/phoenix/shared/publish"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// lifecycleFunctionSuffix names the stack's nightly image-lifecycle
// function: template.yaml's ImageLifecycleFunction is STACK-image-lifecycle.
const lifecycleFunctionSuffix = "-image-lifecycle"

// Modes of the stack's nightly run as `images plan` reports them; modeUnknown
// when the function's configuration could not be read.
const modeUnknown = "unknown"

// actionNone is how the JSON counts and the tables name a decision without
// an action: the version or image stays as it is.
const actionNone = "none"

// imagesPlanDoc is the JSON of `phoenix images plan`.
type imagesPlanDoc struct {
	// Prediction is always true: the plan was made from fresh reads and
	// nothing was changed or logged.
	Prediction bool   `json:"prediction"`
	Stack      string `json:"stack"`
	Region     string `json:"region"`
	// At is the time the plan was made for (--at, else now): it says what a
	// nightly run at that time would do.
	At time.Time `json:"at"`
	// Mode is how the stack's nightly run acts: "plan" (it logs what it
	// would do), "apply" (it does it), or "unknown" when the function's
	// configuration could not be read (Policy.Note says why).
	Mode      string              `json:"mode"`
	Policy    lifecyclePolicyView `json:"policy"`
	Counts    imagesPlanCounts    `json:"counts"`
	Templates []templatePlanView  `json:"templates"`
	Images    []imagePlanView     `json:"images"`

	// For tables: the templates' names by id; per template, the indexes
	// into Images of the images its versions name (each image under the
	// first template naming it); the images no version names; and how many
	// of those are not Phoenix's, counted rather than listed.
	names      map[string]string
	byTemplate map[string][]int
	others     []int
	notPhoenix int
}

// lifecyclePolicyView is the policy a plan was made under and where it came
// from.
type lifecyclePolicyView struct {
	// Source is "stack NAME" (the nightly function's configuration) or
	// "built-in defaults"; Note says why the stack's could not be used.
	Source string `json:"source"`
	Note   string `json:"note,omitempty"`
	// Function is the nightly function read (with Source "stack NAME").
	Function               string `json:"function,omitempty"`
	KeepVersions           int    `json:"keepVersions"`
	KeepRollbackVersions   int    `json:"keepRollbackVersions"`
	DeprecateAfterSeconds  int64  `json:"deprecateAfterSeconds"`
	DisableAfterSeconds    int64  `json:"disableAfterSeconds"`
	DeregisterAfterSeconds int64  `json:"deregisterAfterSeconds"`
	RetireShared           bool   `json:"retireShared"`
	MaxActions             int    `json:"maxActions"`
}

// imagesPlanCounts sums a plan up.
type imagesPlanCounts struct {
	VersionsToDelete int `json:"versionsToDelete"`
	VersionsKept     int `json:"versionsKept"`
	// ImagesByAction counts the images per action, "none" for those left
	// as they are; only actions the plan takes appear.
	ImagesByAction map[string]int `json:"imagesByAction"`
	// GiBReclaimed is the size of the snapshots the planned
	// deregistrations would delete.
	GiBReclaimed int64 `json:"gibReclaimed"`
}

// templatePlanView is the plan for one launch template's versions.
type templatePlanView struct {
	LaunchTemplateID string            `json:"launchTemplateId"`
	Name             string            `json:"name,omitempty"`
	Versions         []versionPlanView `json:"versions"`
	ToDelete         int               `json:"toDelete"`
	Kept             int               `json:"kept"`
}

// versionPlanView is the plan for one launch template version.
type versionPlanView struct {
	Version int64  `json:"version"`
	ImageID string `json:"imageId,omitempty"`
	// Action is "delete-version", or absent for a version kept; Rule says
	// which rule decided it, KeptBecause why a version is kept.
	Action      string     `json:"action,omitempty"`
	Rule        string     `json:"rule,omitempty"`
	KeptBecause []holdView `json:"keptBecause,omitempty"`
}

// imagePlanView is the plan for one of the account's AMIs.
type imagePlanView struct {
	ImageID string `json:"imageId"`
	// Stage is "in-use", "unused", "deprecated" or "disabled".
	Stage string `json:"stage"`
	// Action is what a run would do (docs/lifecycle.md: mark-unused,
	// deprecate, disable, deregister, restore, protect, unprotect,
	// mark-used), absent for nothing.
	Action string `json:"action,omitempty"`
	// Due is when the next stage is due (an image waiting), or when the
	// action became due.
	Due time.Time `json:"due,omitzero"`
	// Rule says which rule decided the action.
	Rule        string     `json:"rule,omitempty"`
	SnapshotGiB int64      `json:"snapshotGiB"`
	KeptBecause []holdView `json:"keptBecause,omitempty"`
	// LaunchTemplateVersions are the versions of the planned templates that
	// name the image, as <launch template id>:<version>.
	LaunchTemplateVersions []string `json:"launchTemplateVersions,omitempty"`
}

// holdView is one reason something is kept, and who holds it.
type holdView struct {
	Reason string `json:"reason"`
	By     string `json:"by,omitempty"`
}

// restoreDoc is the JSON of `phoenix images restore`.
type restoreDoc struct {
	Region  string `json:"region"`
	ImageID string `json:"imageId"`
	// Restored is true when the image was restored (Result "done"), false
	// when there was nothing to restore.
	Restored bool `json:"restored"`
	// Result is the lifecycle log's: "done", or "skipped: <why>".
	Result string `json:"result"`
	// RunID, At and By are the log entry's key and who restored it.
	RunID  string    `json:"runId"`
	At     time.Time `json:"at"`
	By     string    `json:"by"`
	Reason string    `json:"reason,omitempty"`
}

const imagesLong = `Show and undo what Phoenix's nightly image lifecycle run does to launch template
versions and AMIs (docs/lifecycle.md): "images plan" shows what a run would retire
and why everything else is kept; "images restore" undoes a deprecation or a
disable of one AMI by hand.`

const imagesExample = `  phoenix images plan
  phoenix images restore ami-0abc1234def567890`

const imagesPlanLong = `Show what the stack's nightly image lifecycle run would do now (or at --at): per
launch template of a Phoenix group, which versions it would delete and why each
other version is kept; per AMI of the account, its stage, the action, when the
next stage is due, its snapshots' size and why it is kept. Also the mode the stack
runs in (plan: the nightly run only logs; apply: it acts) and the policy, read from
the stack's STACK-image-lifecycle function (the built-in defaults, with a note,
when that cannot be read).

It reads exactly what the nightly run reads and decides the same way. Nothing is
changed, in EC2 or in the ledger.`

const imagesPlanExample = `  phoenix images plan
  phoenix images plan --at 2026-03-01T03:00:00Z
  phoenix images plan -o json | jq '.images[] | select(.action == "deregister")'`

const imagesRestoreLong = `Undo a deprecation or a disable of one AMI: enable it, remove its deprecation,
and clear the ledger's record of its stages and of when it was first found out of
use, so that a nightly run waits the whole deprecation wait again before it
deprecates the image (if it is still out of use then). It acts whatever the
stack's mode: restoring never retires anything. The action is logged in the
ledger's lifecycle log with the caller's ARN.

An image that is neither deprecated nor disabled is left alone (exit 0, "nothing
to restore"). Only images of this account are restored.`

const imagesRestoreExample = `  phoenix images restore ami-0abc1234def567890
  phoenix images restore ami-0abc1234 --reason "rollback target for incident 4711"`

func (a *app) imagesCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "images",
		Short:   "Plan the retirement of old AMIs and launch template versions, or restore an AMI",
		Long:    imagesLong,
		Example: imagesExample,
		Args:    argsUsage(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error {
			return usage("images needs a command: plan or restore AMI")
		},
	}
	cmd.AddCommand(a.imagesPlanCommand(), a.imagesRestoreCommand())
	return cmd
}

func (a *app) imagesPlanCommand() *cobra.Command {
	var at string
	cmd := &cobra.Command{
		Use:     "plan [--at TIME]",
		Short:   "Show which versions and AMIs the nightly run would retire, and why the rest are kept",
		Long:    imagesPlanLong,
		Example: imagesPlanExample,
		Args:    argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			when := a.env.Now()
			if at != "" {
				t, err := time.Parse(time.RFC3339, strings.TrimSpace(at))
				if err != nil {
					return usage("--at must be an RFC 3339 time such as 2026-03-01T03:00:00Z, not %q", at)
				}
				when = t
			}
			return a.imagesPlan(cmd.Context(), when.UTC())
		},
	}
	cmd.Flags().StringVar(&at, "at", "", "plan as a run at this time would (RFC 3339; default: now)")
	return cmd
}

func (a *app) imagesRestoreCommand() *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:               "restore AMI [--reason TEXT]",
		Short:             "Undo a deprecation or disable of one AMI and reset its lifecycle stages",
		Long:              imagesRestoreLong,
		Example:           imagesRestoreExample,
		Args:              argsUsage(cobra.ExactArgs(1)),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, args []string) error {
			id := strings.TrimSpace(args[0])
			if !publish.ValidImageID(id) {
				return usage("%q is not an AMI id (ami- followed by 8 or 17 lowercase hexadecimal digits)", args[0])
			}
			return a.imagesRestore(cmd.Context(), id, strings.TrimSpace(reason))
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, recorded in the lifecycle log with who and when")
	return cmd
}

// lifecycleSettings are what the stack's nightly image-lifecycle function
// runs with: its mode, its policy, the rollout policy defaults (a group's
// guard window decides how long a finalized rollout holds its origin) and
// the stack's account.
type lifecycleSettings struct {
	Function string
	Mode     string
	Policy   lifecycle.Policy
	Defaults rollout.Policy
	Account  string
	Source   string
	Note     string
}

// readLifecycleSettings reads the nightly function's configuration. When it
// cannot be read (an older stack without the function, a role not allowed
// to read it) or does not load, the built-in policies and the caller's
// account are used, the mode is unknown, and Note says why.
func (s *session) readLifecycleSettings(ctx context.Context) (lifecycleSettings, error) {
	fn := s.stack + lifecycleFunctionSuffix
	var env map[string]string
	out, err := s.lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(fn)})
	if err != nil {
		err = s.awsError("read the configuration of function "+fn, err)
	} else if out.Environment != nil {
		env = out.Environment.Variables
	}
	st := lifecycleSettingsFrom(s.stack, fn, s.region, env, err)
	if st.Account == "" {
		who, err := s.whoAmI(ctx)
		if err != nil {
			return st, err
		}
		st.Account = who.Account
	}
	return st, nil
}

// lifecycleSettingsFrom loads the function's environment env, or falls
// back to the built-in policies when readErr is set or env does not load;
// Account is then empty, for the caller to fill from STS. Lambda sets
// AWS_REGION at run time, not in the function's configuration, so region
// stands in for it.
func lifecycleSettingsFrom(stack, fn, region string, env map[string]string, readErr error) lifecycleSettings {
	st := lifecycleSettings{Function: fn, Source: "stack " + stack}
	err := readErr
	if err == nil {
		withRegion := make(map[string]string, len(env)+1)
		for k, v := range env {
			withRegion[k] = v
		}
		withRegion[phxconfig.EnvRegion] = region
		var c phxconfig.Config
		if c, err = phxconfig.Load(phxconfig.Map(withRegion), phxconfig.Needs{Lifecycle: true}); err == nil {
			st.Mode, st.Policy, st.Defaults, st.Account = lifecycle.LogModePlan, c.Lifecycle.Policy, c.Policy, c.Account
			if c.Lifecycle.Apply {
				st.Mode = lifecycle.LogModeApply
			}
			return st
		}
		err = fmt.Errorf("the configuration of function %s does not load: %w", fn, err)
	}
	return lifecycleSettings{
		Mode: modeUnknown, Policy: lifecycle.DefaultPolicy(), Defaults: rollout.DefaultPolicy(), Source: "built-in defaults",
		Note: "could not read the stack's image lifecycle settings (" + oneLine(err.Error()) + ")",
	}
}

// lifecycleService is the image lifecycle over the session's adapters. It
// never applies a plan: Plan writes nothing whatever Apply says, and
// Restore acts whatever the stack's mode.
func (s *session) lifecycleService(st lifecycleSettings) lifecycle.Service {
	return lifecycle.Service{
		Images: s.fleet, Fleet: s.fleet, Ledger: s.ledger, Queue: s.ledger.Queue(),
		Policy: st.Policy, Defaults: st.Defaults, Account: st.Account, Logger: s.log,
	}
}

func (a *app) imagesPlan(ctx context.Context, at time.Time) error {
	s, err := a.session(ctx)
	if err != nil {
		return err
	}
	st, err := s.readLifecycleSettings(ctx)
	if err != nil {
		return err
	}
	plan, err := s.lifecycleService(st).Plan(ctx, at, s.region)
	if err != nil {
		return s.awsError("plan the image lifecycle", err)
	}
	doc := planImages(plan, st)
	doc.Stack, doc.Region = s.stack, s.region
	doc.names = s.templateNames(ctx, doc.templateIDs())
	for i := range doc.Templates {
		doc.Templates[i].Name = doc.names[doc.Templates[i].LaunchTemplateID]
	}
	return a.emit(doc, func(w io.Writer) { writeImagesPlan(w, doc) })
}

// planImages turns a plan into its document: versions grouped by template,
// every image once, the counts, and for tables which template lists each
// image.
func planImages(p lifecycle.Plan, st lifecycleSettings) imagesPlanDoc {
	doc := imagesPlanDoc{
		Prediction: true, At: p.At, Mode: st.Mode,
		Policy: lifecyclePolicyView{
			Source: st.Source, Note: st.Note, KeepVersions: st.Policy.KeepVersions, KeepRollbackVersions: st.Policy.KeepRollbackVersions,
			DeprecateAfterSeconds: seconds(st.Policy.DeprecateAfter), DisableAfterSeconds: seconds(st.Policy.DisableAfter),
			DeregisterAfterSeconds: seconds(st.Policy.DeregisterAfter), RetireShared: st.Policy.RetireShared, MaxActions: st.Policy.MaxActions,
		},
		Counts:    imagesPlanCounts{ImagesByAction: map[string]int{}},
		Templates: []templatePlanView{}, Images: []imagePlanView{},
		byTemplate: map[string][]int{},
	}
	if st.Mode != modeUnknown {
		doc.Policy.Function = st.Function
	}
	named := map[string][]string{} // image -> template versions naming it, in plan order
	firstTemplate := map[string]string{}
	index := map[string]int{} // template id -> index in doc.Templates
	for _, v := range p.Versions {
		i, ok := index[v.TemplateID]
		if !ok {
			i = len(doc.Templates)
			index[v.TemplateID] = i
			doc.Templates = append(doc.Templates, templatePlanView{LaunchTemplateID: v.TemplateID, Versions: []versionPlanView{}})
		}
		t := &doc.Templates[i]
		vv := versionPlanView{Version: v.Number, ImageID: v.ImageID, Action: string(v.Action), Rule: v.Rule, KeptBecause: holdViews(v.Holds)}
		if v.Action == lifecycle.ActionDeleteVersion {
			t.ToDelete++
			doc.Counts.VersionsToDelete++
		} else {
			t.Kept++
			doc.Counts.VersionsKept++
		}
		t.Versions = append(t.Versions, vv)
		if v.ImageID != "" {
			named[v.ImageID] = append(named[v.ImageID], v.TemplateID+":"+strconv.FormatInt(v.Number, 10))
			if _, ok := firstTemplate[v.ImageID]; !ok {
				firstTemplate[v.ImageID] = v.TemplateID
			}
		}
	}
	for _, d := range p.Images {
		iv := imagePlanView{
			ImageID: d.ImageID, Stage: d.Stage, Action: string(d.Action), Due: d.Due, Rule: d.Rule, SnapshotGiB: d.SnapshotGiB,
			KeptBecause: holdViews(d.Holds), LaunchTemplateVersions: named[d.ImageID],
		}
		action := cmp.Or(iv.Action, actionNone)
		doc.Counts.ImagesByAction[action]++
		if d.Action == lifecycle.ActionDeregister {
			doc.Counts.GiBReclaimed += d.SnapshotGiB
		}
		i := len(doc.Images)
		doc.Images = append(doc.Images, iv)
		switch tid, ok := firstTemplate[d.ImageID]; {
		case ok:
			doc.byTemplate[tid] = append(doc.byTemplate[tid], i)
		case d.Action == lifecycle.ActionNone && len(d.Holds) == 1 && d.Holds[0].Reason == lifecycle.KeptNotPhoenix:
			// An account may hold many AMIs Phoenix never touches; tables
			// count them rather than list them.
			doc.notPhoenix++
		default:
			doc.others = append(doc.others, i)
		}
	}
	// A template's images in the order of the first version naming them.
	for tid, idx := range doc.byTemplate {
		first := func(i int) int64 {
			for _, v := range doc.Templates[index[tid]].Versions {
				if v.ImageID == doc.Images[i].ImageID {
					return v.Version
				}
			}
			return 0
		}
		slices.SortStableFunc(idx, func(x, y int) int { return cmp.Compare(first(x), first(y)) })
	}
	return doc
}

func holdViews(hs []lifecycle.Hold) []holdView {
	var out []holdView
	for _, h := range hs {
		out = append(out, holdView{Reason: string(h.Reason), By: h.By})
	}
	return out
}

func (d imagesPlanDoc) templateIDs() []string {
	var ids []string
	for _, t := range d.Templates {
		ids = append(ids, t.LaunchTemplateID)
	}
	return ids
}

// templateNames reads the names of the plan's launch templates, for people:
// one DescribeLaunchTemplates listing. Names only decorate the output, so a
// failure (a template deleted since the plan read it, a role not allowed the
// call) leaves them out rather than failing the plan.
func (s *session) templateNames(ctx context.Context, ids []string) map[string]string {
	out := map[string]string{}
	if len(ids) == 0 {
		return out
	}
	p := ec2.NewDescribeLaunchTemplatesPaginator(ec2.NewFromConfig(s.cfg), &ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: ids})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return map[string]string{}
		}
		for _, lt := range page.LaunchTemplates {
			out[aws.ToString(lt.LaunchTemplateId)] = aws.ToString(lt.LaunchTemplateName)
		}
	}
	return out
}

func writeImagesPlan(w io.Writer, doc imagesPlanDoc) {
	fmt.Fprintf(w, "Image lifecycle of stack %s in %s at %s: a plan; nothing was changed.\n", doc.Stack, doc.Region, timeText(doc.At))
	switch doc.Mode {
	case lifecycle.LogModeApply:
		fmt.Fprintln(w, "Mode: apply (the nightly run carries its plan out).")
	case lifecycle.LogModePlan:
		fmt.Fprintln(w, "Mode: plan (the nightly run only logs what it would do; ImageLifecycle=apply makes it act).")
	default:
		fmt.Fprintln(w, "Mode: unknown.")
	}
	pol := doc.Policy
	fmt.Fprintf(w, "Policy: %s", pol.Source)
	if pol.Function != "" {
		fmt.Fprintf(w, " (function %s)", pol.Function)
	}
	if pol.Note != "" {
		fmt.Fprintf(w, " (%s)", pol.Note)
	}
	shared := "shared AMIs are kept"
	if pol.RetireShared {
		shared = "shared AMIs are retired too"
	}
	fmt.Fprintf(w, ": keep each template's %d newest versions and %d finalized versions before a group's last-known-good;"+
		" deprecate an AMI %s after it is found out of use, disable it %s later, deregister it %s later;"+
		" at most %d actions a night; %s.\n",
		pol.KeepVersions, pol.KeepRollbackVersions, waitText(pol.DeprecateAfterSeconds), waitText(pol.DisableAfterSeconds),
		waitText(pol.DeregisterAfterSeconds), pol.MaxActions, shared)

	if len(doc.Templates) == 0 {
		fmt.Fprintln(w, "\nNo Phoenix group launches from a launch template, so no version is planned.")
	}
	for _, t := range doc.Templates {
		name := t.LaunchTemplateID
		if n := doc.names[t.LaunchTemplateID]; n != "" {
			name += " (" + n + ")"
		}
		fmt.Fprintf(w, "\nLaunch template %s: %s, %d to delete, %d kept\n", name, plural(len(t.Versions), "version"), t.ToDelete, t.Kept)
		tw := newTable(w)
		row(tw, "  VERSION", "IMAGE", "ACTION", "WHY")
		for _, v := range t.Versions {
			row(tw, "  v"+strconv.FormatInt(v.Version, 10), dash(v.ImageID), cmp.Or(v.Action, "keep"), dash(whyText(v.Rule, v.KeptBecause)))
		}
		_ = tw.Flush()
		if idx := doc.byTemplate[t.LaunchTemplateID]; len(idx) > 0 {
			writeImageRows(w, doc, idx)
		}
	}
	if len(doc.others) > 0 {
		fmt.Fprintln(w, "\nImages no version of these launch templates names:")
		writeImageRows(w, doc, doc.others)
	}
	if n := doc.notPhoenix; n > 0 {
		fmt.Fprintf(w, "\n%s of the account: not Phoenix's (neither rolled by it nor tagged %s), never touched (-o json lists them).\n",
			plural(n, "other image"), lifecycle.TagRole)
	}
	fmt.Fprintf(w, "\nIn all: %s to delete, %d kept; images: %s", plural(doc.Counts.VersionsToDelete, "version"), doc.Counts.VersionsKept, actionCounts(doc.Counts.ImagesByAction))
	if doc.Counts.GiBReclaimed > 0 {
		fmt.Fprintf(w, "; the deregistrations would reclaim %d GiB of snapshots", doc.Counts.GiBReclaimed)
	}
	fmt.Fprintln(w, ".")
}

// writeImageRows writes the table of the images at idx.
func writeImageRows(w io.Writer, doc imagesPlanDoc, idx []int) {
	tw := newTable(w)
	row(tw, "  IMAGE", "STAGE", "ACTION", "DUE", "GIB", "WHY")
	for _, i := range idx {
		img := doc.Images[i]
		row(tw, "  "+img.ImageID, img.Stage, cmp.Or(img.Action, "-"), timeText(img.Due), strconv.FormatInt(img.SnapshotGiB, 10), dash(whyText(img.Rule, img.KeptBecause)))
	}
	_ = tw.Flush()
}

// whyText writes why a decision was made: the rule that decided an action,
// then what holds the version or image ("kept because ...").
func whyText(rule string, hs []holdView) string {
	switch {
	case len(hs) == 0:
		return rule
	case rule == "":
		return holdsText(hs)
	}
	return rule + "; kept because " + holdsText(hs)
}

// holdsText writes holds as "reason (by), reason".
func holdsText(hs []holdView) string {
	parts := make([]string, 0, len(hs))
	for _, h := range hs {
		parts = append(parts, lifecycle.Hold{Reason: lifecycle.Reason(h.Reason), By: h.By}.String())
	}
	return strings.Join(parts, ", ")
}

// actionCounts writes "deprecate 1, mark-unused 2, unchanged 5", in the
// actions' order, the images left alone last.
func actionCounts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range sortedKeys(m) {
		if k != actionNone {
			parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
		}
	}
	if n := m[actionNone]; n > 0 {
		parts = append(parts, fmt.Sprintf("unchanged %d", n))
	}
	return strings.Join(parts, ", ")
}

// plural writes "1 version", "2 versions".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// waitText writes a stage wait: whole days as "7d", else as durationText.
func waitText(secs int64) string {
	d := time.Duration(secs) * time.Second
	if d > 0 && d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	return durationText(d)
}

func (a *app) imagesRestore(ctx context.Context, imageID, reason string) error {
	s, err := a.session(ctx)
	if err != nil {
		return err
	}
	who, err := s.whoAmI(ctx)
	if err != nil {
		return err
	}
	// Restore needs only the account: it acts whatever the stack's mode
	// and policy, and the caller's account is the one whose images it may
	// change.
	svc := s.lifecycleService(lifecycleSettings{Policy: lifecycle.DefaultPolicy(), Defaults: rollout.DefaultPolicy(), Account: who.Account})
	run := lifecycle.Run{ID: "restore-" + uuid.NewString(), Now: a.env.Now().UTC(), By: who.ARN}
	entry, err := svc.Restore(ctx, run, s.region, imageID, reason)
	if err != nil {
		return s.restoreError(imageID, err)
	}
	doc := restoreDoc{
		Region: s.region, ImageID: imageID, Restored: entry.Result == lifecycle.ResultDone, Result: entry.Result,
		RunID: run.ID, At: run.Now, By: run.By, Reason: reason,
	}
	return a.emit(doc, func(w io.Writer) { writeRestore(w, doc) })
}

// restoreError is the exit error of a failed restore: an image that does
// not exist is ExitNotFound, one of another account ExitFailed with what
// Phoenix may restore, anything else as every AWS failure.
func (s *session) restoreError(imageID string, err error) error {
	var nf *rollout.NotFoundError
	switch {
	case errors.As(err, &nf) && nf.ID == imageID:
		return fail(ExitNotFound, "image %s not found in %s", imageID, s.region)
	case errors.Is(err, lifecycle.ErrNotPhoenixImage):
		return fail(ExitFailed, "cannot restore %s: %v; Phoenix restores only images of the account it runs in", imageID, err)
	case errors.Is(err, lifecycle.ErrLaterRecord):
		return fail(ExitFailed, "%v", err)
	}
	return s.awsError("restore image "+imageID, err)
}

func writeRestore(w io.Writer, doc restoreDoc) {
	if !doc.Restored {
		why := strings.TrimPrefix(doc.Result, lifecycle.ResultSkippedPrefix)
		fmt.Fprintf(w, "Nothing to restore: image %s in %s is %s.\n", doc.ImageID, doc.Region, why)
	} else {
		fmt.Fprintf(w, "Restored image %s in %s: it is enabled and not deprecated, and the ledger's record of its stages is cleared;\n", doc.ImageID, doc.Region)
		fmt.Fprintln(w, "if it is still out of use, a nightly run waits the whole deprecation wait again before deprecating it.")
	}
	if doc.Reason != "" {
		fmt.Fprintf(w, "Reason: %s\n", doc.Reason)
	}
	fmt.Fprintf(w, "Logged in the lifecycle log as run %s at %s by %s.\n", doc.RunID, timeText(doc.At), doc.By)
}
