//go:build linux

package signer

import (
	"os/signal"
	"syscall"
)

// limitFileSize makes every write beyond n bytes of a file fail with EFBIG
// (SIGXFSZ ignored), as a full disk makes it fail with ENOSPC.
func limitFileSize(n uint64) error {
	signal.Ignore(syscall.SIGXFSZ)
	return syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: n, Max: n})
}
