//go:build linux

package watch

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestCreateFullDisk: creating a store when the disk fills up (here: a
// file size limit in a child process, so that every write past it fails
// as on a full disk) fails and leaves nothing at the store's path, so the
// next start, with room, creates a good store. bbolt used to create the
// file in place: a full disk left a partial file, refused by every later
// start as "truncated" or "not a btcstake watcher store".
func TestCreateFullDisk(t *testing.T) {
	if path := os.Getenv("BTCSTAKE_WATCH_CREATE"); path != "" {
		createChild(path)
		return
	}
	failed, ok := 0, 0
	for limit := 0; limit <= 64<<10; limit += 4096 {
		dir := t.TempDir()
		path := filepath.Join(dir, "watch.db")
		cmd := exec.Command(os.Args[0], "-test.run=^TestCreateFullDisk$")
		cmd.Env = append(os.Environ(), "BTCSTAKE_WATCH_CREATE="+path, "BTCSTAKE_WATCH_FSIZE="+strconv.Itoa(limit))
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("limit %d: child: %v %s", limit, err, out)
		}
		var res string
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, "create: ") {
				res = strings.TrimPrefix(l, "create: ")
			}
		}
		switch {
		case res == "ok":
			ok++
		case strings.HasPrefix(res, "error "):
			failed++
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("limit %d: a failed create (%s) left %v", limit, res, entries)
			}
		default:
			t.Fatalf("limit %d: child said %q", limit, out)
		}
		// The next start, with room, opens (or creates) a good store.
		w, err := Open(path, Config{Network: regtest, StartHeight: 1})
		if err != nil {
			t.Fatalf("limit %d: open after the create (%s): %v", limit, res, err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d creates failed on a full disk, %d succeeded", failed, ok)
	if failed == 0 || ok == 0 {
		t.Fatal("the limits never (or always) made creation fail")
	}
}

// createChild creates the store at path under the file size limit
// $BTCSTAKE_WATCH_FSIZE and prints the outcome.
func createChild(path string) {
	n, _ := strconv.ParseUint(os.Getenv("BTCSTAKE_WATCH_FSIZE"), 10, 64)
	signal.Ignore(syscall.SIGXFSZ)
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: n, Max: n}); err != nil {
		fmt.Println("create: setup", err)
		return
	}
	w, err := Open(path, Config{Network: regtest, StartHeight: 1})
	if err != nil {
		fmt.Println("create: error", err)
		return
	}
	if err := w.Close(); err != nil {
		fmt.Println("create: error closing", err)
		return
	}
	fmt.Println("create: ok")
}

// TestMarkerNotThroughLink: the delivered marker beside the store is
// written in place, so a symbolic link (or any other non-regular file) at
// its name is refused before it is opened: the marker never writes through
// a link into whatever file the link names.
func TestMarkerNotThroughLink(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "watch.db")
	victim := filepath.Join(dir, "precious")
	want := []byte("not yours to overwrite\n")
	if err := os.WriteFile(victim, want, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, path+markerSuffix); err != nil {
		t.Fatal(err)
	}
	w, err := Open(path, Config{Network: regtest, StartHeight: 1})
	if err == nil {
		_ = w.marker.set(7)
		w.Close()
		t.Fatal("a store opened with its delivered marker a symbolic link")
	}
	if !errors.Is(err, ErrStore) || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("open: %v", err)
	}
	if got, _ := os.ReadFile(victim); string(got) != string(want) {
		t.Fatalf("the link's target was changed: %q", got)
	}
}

// TestStoreNotPrivate: the store holds finality providers' secret keys
// (recovered or given with --fp-key), so one that the group or others can
// read is refused, as a keystore would be, and left as it is.
func TestStoreNotPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "watch.db")
	w, err := Open(path, Config{Network: regtest, StartHeight: 1})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	for _, mode := range []os.FileMode{0o640, 0o604, 0o644} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		before, _ := os.ReadFile(path)
		w, err := Open(path, Config{Network: regtest, StartHeight: 1})
		if err == nil {
			w.Close()
			t.Fatalf("mode %04o: a store others can read was opened", mode)
		}
		if !errors.Is(err, ErrStore) || !strings.Contains(err.Error(), "chmod 600") {
			t.Fatalf("mode %04o: %v", mode, err)
		}
		if after, _ := os.ReadFile(path); string(after) != string(before) {
			t.Fatalf("mode %04o: the refused store was changed", mode)
		}
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if w, err = Open(path, Config{Network: regtest, StartHeight: 1}); err != nil {
		t.Fatalf("mode 0600: %v", err)
	}
	w.Close()
}
