package contract_test

import (
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode"

	"github.com/phoenix-rollouts/phoenix/shared/alarms"
	"github.com/phoenix-rollouts/phoenix/shared/lifecycle"
	"github.com/phoenix-rollouts/phoenix/shared/publish"
	"github.com/phoenix-rollouts/phoenix/shared/recycle"
	"github.com/phoenix-rollouts/phoenix/shared/steps"
	"github.com/phoenix-rollouts/phoenix/test/contract"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/deploy"
)

// One handler per state (issue 15): every Task state of the state machines
// reaches its own function, every function starts one typed handler, and no
// handler tells its job from the shape of its payload. These hold the ASL,
// the template, docs/design.md's Functions table, the mains and the
// handlers to that.

// machines are the state machines of the template and their definitions.
var machines = []struct{ name, logicalID, file string }{
	{"rollout", contract.StateMachineID, contract.DefinitionFile},
	{"campaign", "CampaignStateMachine", "infra/campaign.asl.json"},
}

// sameJob lists the functions more than one Task state may call, with the
// states: they do the same job with the same rights.
var sameJob = map[string][]string{
	// Both park their task token in the ledger and are resumed by a signal.
	"await": {"rollout.Await", "rollout.AwaitRevert", "rollout.ShiftAwait"},
	// Both make a rollout permanent; Finalize reads the document to tell a
	// pair's (FinalizePair) from a group's.
	"finalize": {"rollout.Finalize", "rollout.FinalizePair"},
}

// handlers are the handlers the functions' mains start, by function folder.
var handlers = map[string]any{
	"prepare":           steps.Deps.Prepare,
	"busy":              steps.Deps.Busy,
	"start-refresh":     steps.Deps.StartRefresh,
	"shift":             steps.Deps.Shift,
	"switch-back":       steps.Deps.SwitchBack,
	"await":             steps.Deps.Await,
	"refresh-events":    steps.Deps.RefreshEvent,
	"poll":              steps.Deps.Poll,
	"validate":          steps.Deps.Validate,
	"finalize":          steps.Deps.Finalize,
	"pin":               steps.Deps.Pin,
	"revert":            steps.Deps.Revert,
	"dirty":             steps.Deps.Dirty,
	"image-published":   publish.Service.ImagePublished,
	"campaign-gate":     publish.Service.Gate,
	"recycle-scheduler": recycle.Service.Handle,
	"alarm-events":      alarms.Service.Handle,
	"image-lifecycle":   lifecycle.Nightly.Handle,
}

// taskFunctions returns, for a rendered definition, the logical id of the
// function each Lambda Task state invokes, by "machine.State"; Map and
// Parallel states' inner states included.
func taskFunctions(machine, rendered string) (map[string]string, error) {
	var def struct {
		States map[string]any
	}
	if err := json.Unmarshal([]byte(rendered), &def); err != nil {
		return nil, fmt.Errorf("the %s definition is not JSON: %w", machine, err)
	}
	prefix := strings.TrimSuffix(contract.FunctionARN("X"), "X")
	out := map[string]string{}
	var walk func(states map[string]any) error
	walk = func(states map[string]any) error {
		for name, s := range states {
			switch getPath(s, "Type") {
			case "Task":
				res, _ := getPath(s, "Resource").(string)
				if !strings.HasPrefix(res, "arn:aws:states:::lambda:invoke") {
					continue
				}
				fn, _ := getPath(s, "Parameters", "FunctionName").(string)
				logical, ok := strings.CutPrefix(fn, prefix)
				if !ok || logical == "" {
					return fmt.Errorf("%s.%s invokes %q, not a function of the template", machine, name, fn)
				}
				out[machine+"."+name] = logical
			case "Map":
				for _, key := range []string{"ItemProcessor", "Iterator"} {
					if inner, ok := getPath(s, key, "States").(map[string]any); ok {
						if err := walk(inner); err != nil {
							return err
						}
					}
				}
			case "Parallel":
				branches, _ := getPath(s, "Branches").([]any)
				for _, b := range branches {
					if inner, ok := getPath(b, "States").(map[string]any); ok {
						if err := walk(inner); err != nil {
							return err
						}
					}
				}
			}
		}
		return nil
	}
	return out, walk(def.States)
}

// renderedMachines returns each machine's rendered definition by name.
func renderedMachines(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range machines {
		def, err := contract.RenderedDefinitionOf(root, m.logicalID, m.file)
		if err != nil {
			t.Fatalf("render the %s state machine: %v", m.name, err)
		}
		out[m.name] = def
	}
	return out
}

// servedStates returns, by function folder, the "machine.State" Task
// states that invoke it, sorted.
func servedStates(t *testing.T, r *repo, rendered map[string]string) map[string][]string {
	t.Helper()
	folderOf := map[string]string{}
	for folder, fn := range r.functions(t) {
		folderOf[fn.Name] = folder
	}
	out := map[string][]string{}
	for _, m := range machines {
		tasks, err := taskFunctions(m.name, rendered[m.name])
		if err != nil {
			t.Fatal(err)
		}
		for state, logical := range tasks {
			folder, ok := folderOf[logical]
			if !ok {
				t.Errorf("%s invokes %s, which is not a functions/<name> function of the template", state, logical)
				continue
			}
			out[folder] = append(out[folder], state)
		}
	}
	for _, states := range out {
		sort.Strings(states)
	}
	return out
}

// sharedFunctions returns what breaks the rule in served: a function that
// several Task states call without doing the same job, or that an event
// invokes as well.
func sharedFunctions(served map[string][]string, fns map[string]deploy.Resource) []string {
	var out []string
	for folder, states := range served {
		if len(states) > 1 && !slices.Equal(states, sameJob[folder]) {
			out = append(out, fmt.Sprintf("functions/%s serves %s: each Task state needs its own handler", folder, joined(states)))
		}
		if events, _ := fns[folder].Properties["Events"].(map[string]any); len(events) > 0 {
			out = append(out, fmt.Sprintf("functions/%s serves %s and is an event target too", folder, joined(states)))
		}
	}
	sort.Strings(out)
	return out
}

func TestEveryTaskStateReachesAFunctionOfItsOwn(t *testing.T) {
	r := loadRepo(t)
	rendered := renderedMachines(t, r.root)
	fns := r.functions(t)
	served := servedStates(t, r, rendered)
	for _, problem := range sharedFunctions(served, fns) {
		t.Error(problem)
	}
	for folder, states := range sameJob {
		if !slices.Equal(served[folder], states) {
			t.Errorf("sameJob says functions/%s serves %s; the definitions call it from %s", folder, joined(states), joined(served[folder]))
		}
	}
	// The same check must catch the defects it exists for: a state that
	// borrows another's function, and a state served by an event target.
	mutations := []struct{ name, machine, old, new string }{
		{"Busy served by Prepare's function", "rollout", `"FunctionName":"` + contract.FunctionARN("BusyFunction"), `"FunctionName":"` + contract.FunctionARN("PrepareFunction")},
		{"the campaign gate served by image-published", "campaign", `"FunctionName":"` + contract.FunctionARN("CampaignGateFunction"), `"FunctionName":"` + contract.FunctionARN("ImagePublishedFunction")},
	}
	for _, m := range mutations {
		t.Run(m.name+" is caught", func(t *testing.T) {
			compact := map[string]string{}
			for name, def := range rendered {
				compact[name] = compactJSON(t, def)
			}
			mutated := strings.Replace(compact[m.machine], m.old, m.new, 1)
			if mutated == compact[m.machine] {
				t.Fatalf("the mutation did not apply: no %s in the %s definition", m.old, m.machine)
			}
			compact[m.machine] = mutated
			if got := sharedFunctions(servedStates(t, r, compact), fns); len(got) == 0 {
				t.Error("accepted")
			}
		})
	}
}

func compactJSON(t *testing.T, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// designStates reads the trigger column of docs/design.md's Functions
// table: "<machine> state machine: `State`, `State`" gives the states each
// function serves.
func designStates(t *testing.T, root string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "docs", "design.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `functions/([a-z0-9-]+)` \\|.*\\| ([a-z]+) state machine: ((?:`[A-Za-z]+`(?:, )?)+)[^|]*\\|$")
	state := regexp.MustCompile("`([A-Za-z]+)`")
	out := map[string][]string{}
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		for _, s := range state.FindAllStringSubmatch(m[3], -1) {
			out[m[1]] = append(out[m[1]], m[2]+"."+s[1])
		}
		sort.Strings(out[m[1]])
	}
	return out
}

func TestDesignMdNamesTheStatesEachFunctionServes(t *testing.T) {
	r := loadRepo(t)
	served := servedStates(t, r, renderedMachines(t, r.root))
	design := designStates(t, r.root)
	if len(design) == 0 {
		t.Fatal("docs/design.md's Functions table names no \"<machine> state machine: `State`\" trigger")
	}
	for _, folder := range keys(served) {
		if !slices.Equal(design[folder], served[folder]) {
			t.Errorf("functions/%s: docs/design.md says it serves %v, the definitions call it from %v", folder, design[folder], served[folder])
		}
	}
	for _, folder := range keys(design) {
		if _, ok := served[folder]; !ok {
			t.Errorf("docs/design.md says functions/%s serves %v; no Task state calls it", folder, design[folder])
		}
	}
}

func TestEveryStateMachineMayInvokeExactlyTheFunctionsItCalls(t *testing.T) {
	r := loadRepo(t)
	rendered := renderedMachines(t, r.root)
	for _, m := range machines {
		t.Run(m.name, func(t *testing.T) {
			tasks, err := taskFunctions(m.name, rendered[m.name])
			if err != nil {
				t.Fatal(err)
			}
			var called, invokable []string
			for _, logical := range tasks {
				called = append(called, logical)
			}
			policies, _ := r.tpl.Resources[m.logicalID].Properties["Policies"].([]any)
			for _, p := range policies {
				if fn := getPath(p, "LambdaInvokePolicy", "FunctionName"); fn != nil {
					ref, _ := fn.(deploy.Intrinsic)
					name, _ := ref.Arg.(string)
					invokable = append(invokable, name)
				}
			}
			if !equalSets(invokable, called) {
				t.Errorf("%s may invoke %s; its Task states call %s", m.logicalID, joined(invokable), joined(called))
			}
		})
	}
}

// methodName is the name of the method a method expression stands for.
func methodName(h any) string {
	name := runtime.FuncForPC(reflect.ValueOf(h).Pointer()).Name()
	return strings.TrimSuffix(name[strings.LastIndex(name, ".")+1:], "-fm")
}

// startedHandler returns the method main.go passes to lambda.Start, and how
// many times it calls lambda.Start.
func startedHandler(t *testing.T, path string) (string, int) {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	lambdaName := ""
	for _, im := range f.Imports {
		if strings.Trim(im.Path.Value, `"`) == "github.com/aws/aws-lambda-go/lambda" {
			lambdaName = "lambda"
			if im.Name != nil {
				lambdaName = im.Name.Name
			}
		}
	}
	var method string
	calls := 0
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		fn, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || fn.Sel.Name != "Start" {
			return true
		}
		if pkg, ok := fn.X.(*ast.Ident); !ok || pkg.Name != lambdaName {
			return true
		}
		calls++
		if len(call.Args) == 1 {
			if sel, ok := call.Args[0].(*ast.SelectorExpr); ok {
				method = sel.Sel.Name
			}
		}
		return true
	})
	return method, calls
}

func TestEveryFunctionStartsOneTypedHandler(t *testing.T) {
	r := loadRepo(t)
	fns := r.functions(t)
	if got, want := keys(fns), keys(handlers); !slices.Equal(got, want) {
		t.Fatalf("the template's functions are %s; this test's handlers table names %s", joined(got), joined(want))
	}
	served := servedStates(t, r, renderedMachines(t, r.root))
	ctxType := reflect.TypeFor[context.Context]()
	errType := reflect.TypeFor[error]()
	for _, folder := range keys(fns) {
		t.Run(folder, func(t *testing.T) {
			h := handlers[folder]
			method, calls := startedHandler(t, filepath.Join(r.root, "functions", folder, "main.go"))
			if calls != 1 || method != methodName(h) {
				t.Errorf("main.go calls lambda.Start %d times, with method %q; want once, with %s", calls, method, methodName(h))
			}
			ht := reflect.TypeOf(h)
			if ht.NumIn() != 3 || ht.In(1) != ctxType || ht.NumOut() != 2 || ht.Out(1) != errType {
				t.Fatalf("%s is %s; want func(ctx, input) (output, error)", methodName(h), ht)
			}
			if out := ht.Out(0); out.Kind() == reflect.Interface {
				t.Errorf("%s returns %s: a handler's answer has one type, not one picked from its payload", methodName(h), out)
			}
			// A Task state's handler takes its typed payload; only event
			// targets read raw events, which their parsers check.
			if in := ht.In(2); len(served[folder]) > 0 && in.Kind() != reflect.Struct {
				t.Errorf("%s serves %s but takes a %s: it would tell its job from the payload's shape", methodName(h), joined(served[folder]), in)
			}
		})
	}
}

// snake writes a handler's name as its file's: StartRefresh is start_refresh.
func snake(name string) string {
	var b strings.Builder
	for i, c := range name {
		if unicode.IsUpper(c) {
			if i > 0 {
				b.WriteByte('_')
			}
			c = unicode.ToLower(c)
		}
		b.WriteRune(c)
	}
	return b.String()
}

func TestEveryStepHandlerHasAFileOfItsOwn(t *testing.T) {
	r := loadRepo(t)
	files, err := filepath.Glob(filepath.Join(r.root, "shared", "steps", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	byFile := map[string][]string{}
	var methods []string
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv == nil || !fd.Name.IsExported() {
				continue
			}
			if recv, ok := fd.Recv.List[0].Type.(*ast.Ident); ok && recv.Name == "Deps" {
				byFile[filepath.Base(path)] = append(byFile[filepath.Base(path)], fd.Name.Name)
				methods = append(methods, fd.Name.Name)
				if want := snake(fd.Name.Name) + ".go"; filepath.Base(path) != want {
					t.Errorf("steps.Deps.%s is in %s; want it in %s", fd.Name.Name, filepath.Base(path), want)
				}
			}
		}
	}
	for file, ms := range byFile {
		if len(ms) > 1 {
			t.Errorf("%s holds the handlers %s; each has a file of its own", file, joined(ms))
		}
	}
	// Every exported method of steps.Deps is a handler a function starts.
	var started []string
	for _, h := range handlers {
		if reflect.TypeOf(h).In(0) == reflect.TypeFor[steps.Deps]() {
			started = append(started, methodName(h))
		}
	}
	if !equalSets(methods, started) {
		t.Errorf("steps.Deps has the handlers %s; the functions start %s", joined(methods), joined(started))
	}
}
