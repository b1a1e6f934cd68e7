package dynamo

import (
	"fmt"
	"os"
	"testing"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/nodetools"
)

// Require is for tests that need dynalite: it skips t loudly (on stderr too,
// so a run without -v shows it) when the npm packages are missing, and fails
// t instead when PHOENIX_REQUIRE_CONFORMANCE is set, as `make test` does, so
// CI can never pass by skipping. what names the tests, for the message.
func Require(t testing.TB, what string) {
	t.Helper()
	if _, err := Find(""); err != nil {
		if nodetools.Required() {
			t.Fatalf("%s is set but %s cannot run: %v", nodetools.RequireEnv, what, err)
		}
		fmt.Fprintf(os.Stderr, "SKIPPING %s: %v\n", t.Name(), err)
		t.Skipf("\n\n*** %s NOT RUN: %v ***\n", what, err)
	}
}
