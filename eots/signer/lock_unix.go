//go:build unix

package signer

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// lockForPreflight takes the lock bbolt takes (an exclusive flock on the
// file) so the preflight never reads a file another process is writing: a
// commit seen half done looks like damage, and a healthy store in use must
// be reported as in use, not corrupt. It waits up to timeout, polling as
// bbolt does, then fails with ErrStoreInUse. The caller releases the lock
// before bbolt opens the file (bbolt's own flock is on another descriptor
// and would conflict with it).
func lockForPreflight(path string, timeout time.Duration) (unlock func(), err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStoreCorrupt, err)
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(timeout)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, fmt.Errorf("%w: %s is locked by another process", ErrStoreInUse, path)
			}
			return nil, fmt.Errorf("%w: locking %s: %v", ErrStoreCorrupt, path, err)
		}
		<-tick.C
	}
}
