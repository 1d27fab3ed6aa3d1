//go:build unix

package notify

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup makes cmd the leader of a new process group and has a
// cancelled cmd kill the whole group, so that children it left running
// die with it.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
