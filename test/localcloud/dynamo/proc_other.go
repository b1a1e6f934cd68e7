//go:build !linux

package dynamo

import (
	"os"
	"syscall"
)

// processGroup returns no attributes: process groups and parent-death
// signals are set up on Linux only, where the local cloud runs.
func processGroup() *syscall.SysProcAttr { return nil }

// signalGroup stops the dynalite process.
func signalGroup(p *os.Process, kill bool) {
	if p == nil {
		return
	}
	if kill {
		_ = p.Kill()
		return
	}
	_ = p.Signal(os.Interrupt)
}
