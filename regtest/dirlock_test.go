package regtest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLockDir: a directory's lock is held by one DirLock at a time (also
// within one process), the error names the holder, and Close frees it.
func TestLockDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "dir")
	l, err := LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, DirLockFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("lock file: %v, %v", fi, err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("directory: %v, %v", fi, err)
	}
	_, err = LockDir(dir)
	var inUse *DirInUseError
	if !errors.Is(err, ErrDirInUse) || !errors.As(err, &inUse) || inUse.Starter != os.Getpid() || !inUse.Starting || inUse.Node != 0 || inUse.Dir != dir {
		t.Fatalf("second lock: %#v", err)
	}
	if !strings.Contains(err.Error(), "is starting a node in "+dir) {
		t.Fatalf("message: %v", err)
	}
	// Waiting gives up with the holder when the context ends...
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Millisecond)
	defer cancel()
	if _, err := WaitLockDir(ctx, dir); !errors.Is(err, ErrDirInUse) {
		t.Fatalf("wait: %v", err)
	}
	// ... and gets it once the holder lets go.
	go func() { time.Sleep(30 * time.Millisecond); l.Close() }()
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	l2, err := WaitLockDir(ctx2, dir)
	if err != nil {
		t.Fatalf("wait after close: %v", err)
	}
	if err := l2.Close(); err != nil || l2.Close() != nil {
		t.Fatalf("close: %v", err)
	}
	// A lock file with garbage names nobody, and locks still work.
	if err := os.WriteFile(filepath.Join(dir, DirLockFile), []byte("start=-4\nnode=x\n\x00"), 0o600); err != nil {
		t.Fatal(err)
	}
	l3, err := LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l3.Close()
	if h := readHolder(l3.f); h.starter != os.Getpid() || h.node != 0 {
		t.Fatalf("holder %+v", h)
	}
}

// TestLockHeldByNode: a node started with a directory's lock holds it after
// the starter lets go, the lock file names it alone, and the lock is free
// again the moment the node exits, however it exits: nothing to clean up.
func TestLockHeldByNode(t *testing.T) {
	for _, how := range []string{"stopped", "killed"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			lock, err := LockDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			n := NewTestNode(t, Options{Dir: filepath.Join(dir, "node"), InitialBlocks: -1, Lock: lock, Detached: true})
			if err := lock.Close(); err != nil {
				t.Fatal(err)
			}
			_, err = LockDir(dir)
			var inUse *DirInUseError
			if !errors.As(err, &inUse) || inUse.Node != n.Pid() || inUse.Starting || inUse.Starter != 0 {
				t.Fatalf("lock while the node runs: %#v", err)
			}
			if !strings.Contains(err.Error(), "node process") {
				t.Fatalf("message: %v", err)
			}
			if how == "stopped" {
				if err := n.Stop(); err != nil {
					t.Fatal(err)
				}
			} else {
				if err := n.proc.Kill(); err != nil {
					t.Fatal(err)
				}
				<-n.exited
			}
			l, err := LockDir(dir)
			if err != nil {
				t.Fatalf("lock after the node %s: %v", how, err)
			}
			l.Close()
		})
	}
}
