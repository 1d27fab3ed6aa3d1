//go:build linux

package signer

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCreateFullDisk: creating a store when the disk fills up (here: a
// file size limit in a child process, so that every write past it fails)
// fails with ErrStoreFailed, never ErrStoreCorrupt, and leaves no file at
// the store's path and nothing else in its directory; the next create, with
// room, makes a good store. bbolt used to create the file in place: a full
// disk left a partial file there, reported "corrupt" by every later open.
func TestCreateFullDisk(t *testing.T) {
	failed, ok := 0, 0
	for limit := 0; limit <= 96<<10; limit += 2048 {
		dir := t.TempDir()
		path := filepath.Join(dir, "records.db")
		out := runCreateChild(t, path, fmt.Sprintf("BTCSTAKE_SIGNER_FSIZE=%d", limit))
		switch {
		case out == "ok":
			ok++
		case strings.HasPrefix(out, "error failed "):
			failed++
			if !strings.Contains(out, "file too large") && !strings.Contains(out, "no space") {
				t.Logf("limit %d: %s", limit, out)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 0 {
				t.Fatalf("limit %d: a failed create left %v", limit, entries)
			}
			// The next create, with room, starts afresh.
			st, err := OpenStore(path, StoreOptions{Create: true})
			if err != nil {
				t.Fatalf("limit %d: create after a failed one: %v", limit, err)
			}
			st.Close()
		default:
			t.Fatalf("limit %d: %s", limit, out)
		}
		if st, err := OpenStore(path, StoreOptions{}); err != nil {
			t.Fatalf("limit %d: the store does not open: %v", limit, err)
		} else {
			st.Close()
		}
	}
	t.Logf("%d creates failed on a full disk, %d succeeded", failed, ok)
	if failed == 0 || ok == 0 {
		t.Fatal("the limits never (or always) made creation fail")
	}
}

// TestFirstMarkFullDisk: the disk fills up after the store was linked into
// place but while its first high-water mark is written (the mark is the
// last, small file of a new store: on a real full disk it is what fails).
// The failed open leaves no torn mark file behind, so the next open with
// room writes the first mark and signs, instead of refusing the new,
// empty store forever as "high-water mark missing or damaged". The first
// mark file used to be written in place: a full disk left it empty or
// torn.
func TestFirstMarkFullDisk(t *testing.T) {
	// A new store's first mark is 85 bytes.
	for _, limit := range []int{0, 1, 40, 84} {
		dir := t.TempDir()
		path := filepath.Join(dir, "records.db")
		if err := createStore(path, time.Second, false); err != nil {
			t.Fatal(err)
		}
		out := runCreateChild(t, path, fmt.Sprintf("BTCSTAKE_SIGNER_FSIZE=%d", limit))
		if !strings.HasPrefix(out, "error failed ") {
			t.Fatalf("limit %d: the first mark's write did not fail: %s", limit, out)
		}
		for _, name := range markFiles(path) {
			if _, err := os.Lstat(name); err == nil {
				t.Errorf("limit %d: the failed first mark left %s", limit, filepath.Base(name))
			}
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			t.Errorf("limit %d: the directory holds %v, want the store alone", limit, entries)
		}
		st, err := OpenStore(path, StoreOptions{})
		if err != nil {
			t.Fatalf("limit %d: the next open with room: %v", limit, err)
		}
		s, err := New(st, newKey(t, rand.NewChaCha8([32]byte{byte(limit)})))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Sign([]byte("c1"), 7, []byte("m")); err != nil {
			t.Fatalf("limit %d: sign after the failed first mark: %v", limit, err)
		}
		st.Close()
	}
}
