package dynamo

import (
	"os"
	"syscall"
)

// processGroup starts dynalite in its own process group, so that stopping
// the group also stops anything Node started, and has the kernel kill it
// if this process dies first: no orphan dynalite.
func processGroup() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// signalGroup sends SIGTERM (or SIGKILL) to dynalite's process group.
func signalGroup(p *os.Process, kill bool) {
	if p == nil {
		return
	}
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	if err := syscall.Kill(-p.Pid, sig); err != nil {
		_ = p.Signal(sig)
	}
}
