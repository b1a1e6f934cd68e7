package contract_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/phoenix-rollouts/phoenix/test/contract"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/deploy"
)

// repo is what the checks read from the working tree.
type repo struct {
	root     string
	tpl      *deploy.Template
	subs     map[string]any
	raw      string         // the definition as written, with placeholders
	rendered string         // the definition as Step Functions would get it
	def      map[string]any // rendered, parsed
}

// loadRepo reads the template and the definition; every test reads them
// afresh so that tests stay independent.
func loadRepo(t *testing.T) *repo {
	t.Helper()
	root, err := contract.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := deploy.ParseFile(filepath.Join(root, contract.TemplateFile))
	if err != nil {
		t.Fatal(err)
	}
	subs, err := contract.Substitutions(tpl)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, contract.DefinitionFile))
	if err != nil {
		t.Fatal(err)
	}
	rendered, err := contract.RenderedDefinition(root)
	if err != nil {
		t.Fatal(err)
	}
	var def map[string]any
	if err := json.Unmarshal([]byte(rendered), &def); err != nil {
		t.Fatalf("the rendered definition is not JSON: %v", err)
	}
	return &repo{root: root, tpl: tpl, subs: subs, raw: string(raw), rendered: rendered, def: def}
}

// states returns the definition's states by name.
func (r *repo) states(t *testing.T) map[string]map[string]any {
	t.Helper()
	raw, ok := r.def["States"].(map[string]any)
	if !ok {
		t.Fatal("the definition has no States")
	}
	out := map[string]map[string]any{}
	for name, s := range raw {
		m, ok := s.(map[string]any)
		if !ok {
			t.Fatalf("state %s is not an object", name)
		}
		out[name] = m
	}
	return out
}

// tasks returns the names of the Task states, sorted.
func (r *repo) tasks(t *testing.T) []string {
	t.Helper()
	var out []string
	for name, s := range r.states(t) {
		if s["Type"] == "Task" {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// functions returns the template's functions by the folder their CodeUri
// names (functions/<name>/ gives <name>).
func (r *repo) functions(t *testing.T) map[string]deploy.Resource {
	t.Helper()
	out := map[string]deploy.Resource{}
	for _, fn := range r.tpl.OfType("AWS::Serverless::Function") {
		uri, _ := fn.Properties["CodeUri"].(string)
		m := codeURI.FindStringSubmatch(uri)
		if m == nil {
			t.Errorf("function %s: CodeUri %q is not functions/<name>/", fn.Name, uri)
			continue
		}
		if prev, dup := out[m[1]]; dup {
			t.Errorf("functions %s and %s share CodeUri %s", prev.Name, fn.Name, uri)
		}
		out[m[1]] = fn
	}
	return out
}

var codeURI = regexp.MustCompile(`^functions/([a-z0-9-]+)/?$`)

// designFunctions returns the function folders docs/design.md's Functions
// table names.
func designFunctions(t *testing.T, root string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "docs", "design.md"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range regexp.MustCompile("(?m)^\\| `functions/([a-z0-9-]+)` \\|").FindAllStringSubmatch(string(b), -1) {
		out = append(out, m[1])
	}
	if len(out) == 0 {
		t.Fatal("docs/design.md lists no functions/<name> rows")
	}
	sort.Strings(out)
	return out
}

// strs reads a string or a list of strings (IAM Action and Resource,
// ErrorEquals).
func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// keys returns a map's keys, sorted.
func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// getPath reads a nested value by keys.
func getPath(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func equalSets(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	sort.Strings(a)
	sort.Strings(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// without returns list minus drop.
func without(list []string, drop ...string) []string {
	var out []string
	for _, s := range list {
		if !slices.Contains(drop, s) {
			out = append(out, s)
		}
	}
	return out
}

func joined(list []string) string { return strings.Join(list, ", ") }

// regexpPlaceholder matches a value that is exactly one placeholder.
var regexpPlaceholder = regexp.MustCompile(`^\$\{([A-Za-z0-9_]+)\}$`)

// barePlaceholder matches a placeholder written where a number goes.
var barePlaceholder = regexp.MustCompile(`(:\s*)(\$\{[A-Za-z0-9_]+\})`)

// stateIn returns a state of the definition as written, placeholders kept
// (a bare numeric placeholder reads as its "${Name}" string).
func stateIn(t *testing.T, raw, name string) map[string]any {
	t.Helper()
	var def struct {
		States map[string]map[string]any
	}
	if err := json.Unmarshal([]byte(barePlaceholder.ReplaceAllString(raw, `$1"$2"`)), &def); err != nil {
		t.Fatalf("the definition is not JSON even with its placeholders quoted: %v", err)
	}
	s, ok := def.States[name]
	if !ok {
		t.Fatalf("no state %s", name)
	}
	return s
}
