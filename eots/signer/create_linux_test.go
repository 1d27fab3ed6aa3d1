//go:build linux

package signer

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
