package analysis

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestTheDocumentedDefaultSpecIsTheCodes keeps docs/analysis.md's JSON
// and DefaultSpec the same.
func TestTheDocumentedDefaultSpecIsTheCodes(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/analysis.md")
	if err != nil {
		t.Fatal(err)
	}
	const marker = "<!-- analysis.DefaultSpec(): docs_test.go checks this block against the code -->\n```json\n"
	_, rest, ok := strings.Cut(string(doc), marker)
	if !ok {
		t.Fatal("docs/analysis.md has no marked default spec")
	}
	block, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("the default spec's block is not closed")
	}
	got, err := ParseSpec([]byte(block))
	if err != nil {
		t.Fatalf("the documented default spec does not parse: %v", err)
	}
	if want := DefaultSpec(); !reflect.DeepEqual(got, want) {
		t.Errorf("docs/analysis.md's default spec differs from DefaultSpec():\n doc  %+v\n code %+v", got, want)
	}
}
