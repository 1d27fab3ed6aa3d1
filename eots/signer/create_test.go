package signer

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// runCreateChild runs childCreate on path with extra environment and
// returns its one line of output.
func runCreateChild(t *testing.T, path string, env ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(append(os.Environ(), "BTCSTAKE_SIGNER_CHILD=create", "BTCSTAKE_SIGNER_STORE="+path), env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v %s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestConcurrentFirstOpen: many first opens of one new store at once, in
// goroutines and in processes, all succeed (each waits for the lock); none
// sees a half-made store and calls it corrupt. bbolt used to create the
// file in place, and an open that found it before bbolt had written its
// first pages reported a healthy new store "corrupt (0 bytes)".
func TestConcurrentFirstOpen(t *testing.T) {
	for round := 0; round < 5; round++ {
		path := filepath.Join(t.TempDir(), "records.db")
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for i := 0; i < 16; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st, err := OpenStore(path, StoreOptions{Create: true, LockTimeout: 30e9})
				if err != nil {
					errs <- err
					return
				}
				st.Close()
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("round %d: a first open failed: %v", round, err)
		}
	}
	for round := 0; round < 2; round++ {
		path := filepath.Join(t.TempDir(), "records.db")
		outs := make([]string, 6)
		var wg sync.WaitGroup
		for i := range outs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := exec.Command(os.Args[0])
				cmd.Env = append(os.Environ(), "BTCSTAKE_SIGNER_CHILD=create", "BTCSTAKE_SIGNER_STORE="+path)
				out, _ := cmd.Output()
				outs[i] = strings.TrimSpace(string(out))
			}()
		}
		wg.Wait()
		for i, o := range outs {
			if o != "ok" {
				t.Fatalf("round %d, process %d: %q", round, i, o)
			}
		}
	}
}

// TestCreateRefusedOverLostStore: a missing store whose mark files say it
// held records is not replaced by a new, empty one (its heights could be
// signed again); damaged mark files without a store are refused too; a mark
// that records nothing may be replaced.
func TestCreateRefusedOverLostStore(t *testing.T) {
	path, _ := signedStore(t, 2)
	os.Remove(path)
	_, err := OpenStore(path, StoreOptions{Create: true})
	if !errors.Is(err, ErrStoreRolledBack) || !strings.Contains(err.Error(), "2 record(s)") {
		t.Fatalf("create over a lost store: %v", err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("a store was created")
	}
	for _, name := range markFiles(path) {
		os.WriteFile(name, []byte("damaged"), 0o600)
	}
	if _, err := OpenStore(path, StoreOptions{Create: true}); !errors.Is(err, ErrMarkMissing) {
		t.Fatalf("create beside damaged mark files: %v", err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("a store was created")
	}
	// A store that never signed anything, deleted: its mark says nothing.
	st, p2 := openTemp(t)
	st.Close()
	os.Remove(p2)
	st2, err := OpenStore(p2, StoreOptions{Create: true})
	if err != nil {
		t.Fatalf("create over an empty store's mark: %v", err)
	}
	st2.Close()
}
