//go:build unix

package regtest

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// lockFile takes an exclusive advisory lock on path, blocking until it is
// free, and returns the function that releases it.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// tryFlock takes an exclusive flock on f without waiting; false when
// another open file holds it.
func tryFlock(f *os.File) (bool, error) {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch err {
		case nil:
			return true, nil
		case syscall.EWOULDBLOCK:
			return false, nil
		case syscall.EINTR:
			continue
		}
		return false, err
	}
}

// setProcAttr puts the node in its own session (so a terminal's Ctrl-C or
// the CLI's exit does not reach it) and, for nodes owned by this process,
// asks Linux to kill it if this process dies.
func setProcAttr(cmd *exec.Cmd, detached bool) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if !detached {
		setPdeathsig(cmd.SysProcAttr)
	}
}

// processAlive reports whether pid names a live (not zombie) process.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && err != syscall.EPERM {
		return false
	}
	if data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil {
		// Format: pid (comm) state ...; comm may contain spaces.
		s := string(data)
		if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) && s[i+2] == 'Z' {
			return false
		}
	}
	return true
}

// processMatches reports whether pid's command line mentions marker (the
// node's data directory), guarding signals against a reused pid. Where
// /proc is unavailable it trusts the pid.
func processMatches(pid int, marker string) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return !dirExists("/proc/self")
	}
	return strings.Contains(string(data), marker)
}

func terminate(p *os.Process) error { return p.Signal(syscall.SIGTERM) }

func terminatePid(pid int) error { return syscall.Kill(pid, syscall.SIGTERM) }

func killPid(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) }
