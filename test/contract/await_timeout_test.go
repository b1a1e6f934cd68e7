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

	"github.com/phoenix-rollouts/phoenix/shared/steps"
)

// designAwaitTimeout reads what docs/design.md says of the parked states'
// timeouts: Await's TimeoutSecondsPath, the substitution AwaitRevert's
// TimeoutSeconds takes, and the steps that write Await's timeout.
func designAwaitTimeout(t *testing.T, root string) (path, revertSub string, writers []string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "docs", "design.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(string(b)), " ")
	if m := regexp.MustCompile("Await's timeout is `\"TimeoutSecondsPath\": \"([^\"]+)\"`").FindStringSubmatch(text); m != nil {
		path = m[1]
	}
	if m := regexp.MustCompile("AwaitRevert's is `\"TimeoutSeconds\": \\$\\{([A-Za-z]+)\\}`").FindStringSubmatch(text); m != nil {
		revertSub = m[1]
	}
	if m := regexp.MustCompile(`## The Await timeout .*? ([A-Z][A-Za-z]+(?:, [A-Z][A-Za-z]+)* and [A-Z][A-Za-z]+), the steps Await follows, write it to ` + "`([^`]+)`").FindStringSubmatch(text); m != nil {
		writers = strings.Split(strings.Replace(m[1], " and ", ", ", 1), ", ")
		sort.Strings(writers)
		if m[2] != path {
			t.Errorf("docs/design.md: the steps write Await's timeout to %s, but Await reads %s", m[2], path)
		}
	}
	return path, revertSub, writers
}

// feedersOf returns the Task states whose output reaches state through
// Choice states only: the documents state can be entered with.
func feedersOf(states map[string]map[string]any, state string) []string {
	var out []string
	for name, s := range states {
		if s["Type"] != "Task" {
			continue
		}
		next, _ := s["Next"].(string)
		seen := map[string]bool{}
		queue := []string{next}
		for len(queue) > 0 {
			n := queue[0]
			queue = queue[1:]
			if n == "" || seen[n] {
				continue
			}
			seen[n] = true
			if n == state {
				out = append(out, name)
				break
			}
			if c := states[n]; c["Type"] == "Choice" {
				if d, ok := c["Default"].(string); ok {
					queue = append(queue, d)
				}
				choices, _ := c["Choices"].([]any)
				for _, ch := range choices {
					if n, ok := getPath(ch, "Next").(string); ok {
						queue = append(queue, n)
					}
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// docs/design.md says Await's timeout follows the group's policy through
// the document and AwaitRevert's is the stack's; the definition must read
// the field the steps write, and every state Await can be entered from
// must be a step that writes it (or Await itself, whose output keeps the
// document it was given).
func TestDesignsAwaitTimeoutIsTheDefinitions(t *testing.T) {
	r := loadRepo(t)
	path, revertSub, writers := designAwaitTimeout(t, r.root)
	if path == "" || revertSub == "" || len(writers) == 0 {
		t.Fatalf("docs/design.md does not say Await's TimeoutSecondsPath (%q), AwaitRevert's TimeoutSeconds (%q) and the steps that write it (%v)", path, revertSub, writers)
	}
	await, revert := stateIn(t, r.raw, "Await"), stateIn(t, r.raw, "AwaitRevert")
	if await["TimeoutSecondsPath"] != path || await["TimeoutSeconds"] != nil {
		t.Errorf("Await: TimeoutSecondsPath %v TimeoutSeconds %v; docs/design.md says TimeoutSecondsPath %s", await["TimeoutSecondsPath"], await["TimeoutSeconds"], path)
	}
	if revert["TimeoutSeconds"] != "${"+revertSub+"}" {
		t.Errorf("AwaitRevert: TimeoutSeconds %v; docs/design.md says ${%s}", revert["TimeoutSeconds"], revertSub)
	}
	if _, ok := r.tpl.Parameters[revertSub]; !ok {
		t.Errorf("the template has no parameter %s", revertSub)
	}

	// The path names the field the steps write.
	b, err := json.Marshal(steps.State{AwaitTimeoutSeconds: 570})
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	field, ok := strings.CutPrefix(path, "$.")
	if got := getPath(doc, strings.Split(field, ".")...); !ok || got != 570.0 {
		t.Errorf("%s in a document the steps wrote is %v, want the steps.State field AwaitTimeoutSeconds (570)", path, got)
	}

	feeders := without(feedersOf(r.states(t), "Await"), "Await")
	if !slices.Equal(feeders, writers) {
		t.Errorf("Await is entered after %s; docs/design.md says %s write its timeout", joined(feeders), joined(writers))
	}
}
