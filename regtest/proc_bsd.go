//go:build unix && !linux

package regtest

import "syscall"

func setPdeathsig(*syscall.SysProcAttr) {}
