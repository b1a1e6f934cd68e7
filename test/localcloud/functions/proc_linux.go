package functions

import (
	"os"
	"syscall"
)

// processGroup starts a runtime in its own process group, so that killing
// the group also ends what the runtime started, and asks the kernel to kill
// it if this process dies first: no orphan runtimes.
func processGroup() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup kills a runtime's whole process group.
func killGroup(p *os.Process) {
	if p == nil {
		return
	}
	if err := syscall.Kill(-p.Pid, syscall.SIGKILL); err != nil {
		_ = p.Kill() // not a group leader (or already gone): kill the process itself
	}
}
