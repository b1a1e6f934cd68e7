//go:build !linux

package functions

import (
	"os"
	"syscall"
)

// processGroup returns no attributes: process groups and parent-death
// signals are set up on Linux only, where the local cloud runs.
func processGroup() *syscall.SysProcAttr { return nil }

// killGroup kills the runtime process.
func killGroup(p *os.Process) {
	if p != nil {
		_ = p.Kill()
	}
}
