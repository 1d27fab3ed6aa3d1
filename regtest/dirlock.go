package regtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DirLockFile is the name of the lock file LockDir keeps in a node
// directory. It is never removed: removing a lock file other processes may
// be opening would let two of them lock two different files.
const DirLockFile = "lock"

// DirInUseError is LockDir's error when another process holds the
// directory: a node started there with Options.Lock (for as long as it
// runs), or the process starting one. It matches ErrDirInUse.
type DirInUseError struct {
	Dir string
	// Starter is the process that took the lock (a "regtest start"), Node
	// the node it started with it; 0 when the lock file names none.
	Starter, Node int
	// Starting: the starter still runs, so a start is under way (its node,
	// if any, may not answer yet).
	Starting bool
}

func (e *DirInUseError) Error() string {
	switch {
	case e.Starting:
		return fmt.Sprintf("%v: process %d is starting a node in %s", ErrDirInUse, e.Starter, e.Dir)
	case e.Node > 0:
		return fmt.Sprintf("%v: node process %d holds %s", ErrDirInUse, e.Node, e.Dir)
	}
	return fmt.Sprintf("%v: another process holds %s", ErrDirInUse, e.Dir)
}

func (e *DirInUseError) Unwrap() error { return ErrDirInUse }

// DirLock is an exclusive lock on a node directory, so that one directory
// never has two nodes: a second "btcstake regtest start" finds it taken
// and reports the node instead of starting another over its data.
//
// The lock is flock(2) on DIR/lock. Passed to Start (Options.Lock) it is
// handed to the node process, which inherits the lock's open file: the
// lock then stays held for as long as the node runs, after the process
// that started it has exited, and is released by the kernel when the node
// exits however it ends (stopped, killed, crashed). Nothing has to clean
// it up. On systems without flock (not Unix) LockDir always succeeds.
type DirLock struct {
	f    *os.File
	dir  string
	node int // the node started with the lock, 0 before
}

// LockDir takes the lock of dir without waiting, creating dir (0700) and
// its lock file (0600) when missing, and records this process as the
// holder. When another process holds it, the error is a *DirInUseError
// (matching ErrDirInUse) naming that process.
func LockDir(dir string) (*DirLock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrState, err)
	}
	path := filepath.Join(dir, DirLockFile)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%w: opening %s: %v", ErrState, path, err)
	}
	held, err := tryFlock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: locking %s: %v", ErrState, path, err)
	}
	if !held {
		h := readHolder(f)
		f.Close()
		return nil, &DirInUseError{Dir: dir, Starter: h.starter, Node: h.node,
			Starting: h.starter > 0 && processAlive(h.starter)}
	}
	l := &DirLock{f: f, dir: dir}
	if err := l.setHolder(holder{starter: os.Getpid()}); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// WaitLockDir polls LockDir until it succeeds, fails otherwise than with
// ErrDirInUse, or ctx ends (then the last *DirInUseError is returned).
func WaitLockDir(ctx context.Context, dir string) (*DirLock, error) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		l, err := LockDir(dir)
		if !errors.Is(err, ErrDirInUse) {
			return l, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-tick.C:
		}
	}
}

// Dir is the locked directory.
func (l *DirLock) Dir() string { return l.dir }

// Close lets go of this process's hold on the lock. The lock itself is
// released once no process holds it: after Close, at once, unless a node
// was started with it (Options.Lock), which keeps it until it exits; the
// lock file then names the node alone. Close never unlocks on the node's
// behalf. It is idempotent.
func (l *DirLock) Close() error {
	if l == nil || l.f == nil {
		return nil
	}
	var err error
	if l.node > 0 {
		err = l.setHolder(holder{node: l.node})
	}
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}

// holder is who holds a lock, as its lock file says: "start=PID" and,
// once a node was started with it, "node=PID", a line each.
type holder struct{ starter, node int }

// setHolder records h in the lock file, for the error a second LockDir
// gives.
func (l *DirLock) setHolder(h holder) error {
	text := ""
	if h.starter > 0 {
		text += "start=" + strconv.Itoa(h.starter) + "\n"
	}
	if h.node > 0 {
		text += "node=" + strconv.Itoa(h.node) + "\n"
	}
	if err := l.f.Truncate(0); err != nil {
		return fmt.Errorf("%w: writing the lock file: %v", ErrState, err)
	}
	if _, err := l.f.WriteAt([]byte(text), 0); err != nil {
		return fmt.Errorf("%w: writing the lock file: %v", ErrState, err)
	}
	return nil
}

// setNode records the node started with the lock.
func (l *DirLock) setNode(pid int) error {
	l.node = pid
	return l.setHolder(holder{starter: os.Getpid(), node: pid})
}

// readHolder reads what a lock file says of its holder (zeros for what
// it does not say; at most 64 bytes are read).
func readHolder(f *os.File) holder {
	buf := make([]byte, 64)
	n, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return holder{}
	}
	var h holder
	for _, line := range strings.Split(string(buf[:n]), "\n") {
		key, val, ok := strings.Cut(strings.TrimSpace(line), "=")
		pid, err := strconv.Atoi(val)
		if !ok || err != nil || pid <= 0 {
			continue
		}
		switch key {
		case "start":
			h.starter = pid
		case "node":
			h.node = pid
		}
	}
	return h
}
