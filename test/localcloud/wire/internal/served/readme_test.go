package served

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The local cloud's README states its scope as a table of the operations
// it serves, one row per service model: a model that gains or loses an
// operation fails here until the README says so.
func TestTheREADMEListsEveryServedOperation(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string][]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 5 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		name := strings.Trim(strings.TrimSpace(cells[1]), "`")
		if _, dup := listed[name]; dup {
			t.Errorf("the README lists %s twice", name)
		}
		var ops []string
		for _, op := range strings.Split(cells[3], ",") {
			ops = append(ops, strings.TrimSpace(op))
		}
		listed[name] = ops
	}
	for _, m := range Models {
		want := m.Operations()
		got, ok := listed[m.Name]
		if !ok {
			t.Errorf("the README's scope table has no row for %s (%v)", m.Name, want)
			continue
		}
		delete(listed, m.Name)
		if !slices.Equal(slices.Sorted(slices.Values(got)), want) {
			t.Errorf("the README lists %s operations %v; the model serves %v", m.Name, got, want)
		}
	}
	for name := range listed {
		t.Errorf("the README lists %s, which no model serves", name)
	}
}
