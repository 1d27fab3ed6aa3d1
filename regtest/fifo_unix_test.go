//go:build unix

package regtest

import "syscall"

func mkfifo(path string) error { return syscall.Mkfifo(path, 0o600) }
