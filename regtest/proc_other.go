//go:build !unix

package regtest

import (
	"os"
	"os/exec"
)

func lockFile(string) (func(), error) { return func() {}, nil }

func tryFlock(*os.File) (bool, error) { return true, nil }

func setProcAttr(*exec.Cmd, bool) {}

func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	return err == nil && p != nil
}

func processMatches(int, string) bool { return true }

func terminate(p *os.Process) error { return p.Kill() }

func terminatePid(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}

func killPid(pid int) error { return terminatePid(pid) }
