package contract_test

import (
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/phoenix-rollouts/phoenix/test/contract"
)

const (
	product    = "github.com/phoenix-rollouts/phoenix/"
	localCloud = "github.com/phoenix-rollouts/phoenix/test/localcloud"
)

// goList runs `go list` in the repository's workspace and returns its
// lines.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	root, err := contract.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	// The go command that runs the tests (go test puts its GOROOT first on
	// PATH), so that go list sees the same toolchain and workspace.
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			msg = string(ee.Stderr)
		}
		t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, msg)
	}
	return strings.Fields(string(out))
}

// What ships (the functions, the CLI, the shared library) is built from no
// local-cloud package: the simulator is the tests' ground, never the
// product's.
func TestTheProductBuildsWithoutTheLocalCloud(t *testing.T) {
	deps := goList(t, "-deps", "./functions/...", "./cmd/...", "./shared/...")
	if len(deps) < 50 {
		t.Fatalf("go list -deps gave %d packages; the pattern matched nothing?", len(deps))
	}
	for _, p := range deps {
		if strings.HasPrefix(p, localCloud) || strings.HasPrefix(p, product+"test/") {
			t.Errorf("the product depends on %s", p)
		}
	}
}

// The local cloud is a module of its own that knows Phoenix only through
// the template and the wire: none of its packages or tests imports a
// package of the product.
func TestTheLocalCloudImportsNothingOfPhoenix(t *testing.T) {
	deps := goList(t, "-deps", "-test", "./test/localcloud/...")
	seen := 0
	for _, p := range deps {
		// -test lists test variants as "pkg [pkg.test]"; Fields splits them.
		p = strings.TrimPrefix(p, "[")
		if strings.HasPrefix(p, localCloud) {
			seen++
			continue
		}
		if strings.HasPrefix(p, product) {
			t.Errorf("the local cloud depends on %s", p)
		}
	}
	if seen < 20 {
		t.Fatalf("go list found %d local-cloud packages; the pattern matched nothing?", seen)
	}
}
