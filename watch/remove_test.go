package watch

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestRemove: Remove deletes a store and its delivered marker; it refuses,
// leaving every file as it was, a missing path, anything that is not a
// watcher store (a text file, an empty file, a directory, a symbolic link,
// another program's bbolt file) and a store an open Watcher holds.
func TestRemove(t *testing.T) {
	dir := t.TempDir()
	n := newFakeNode()
	n.mineEmpty(2)
	path := filepath.Join(dir, "w.db")
	w := openTest(t, path, testConfig(n, &recorder{}))
	catchUp(t, w, 2)
	exists := func(p string) bool {
		_, err := os.Lstat(p)
		return err == nil
	}
	if !exists(path) || !exists(path+"-delivered") {
		t.Fatal("the store or its marker is missing")
	}
	// Held by the open watcher.
	if err := Remove(path); !errors.Is(err, ErrStoreInUse) {
		t.Fatalf("store in use: %v", err)
	}
	if !exists(path) || !exists(path+"-delivered") {
		t.Fatal("a refused Remove removed something")
	}
	if _, err := w.Stakes(); err != nil {
		t.Fatalf("the watcher after a refused Remove: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	// Things that are not watcher stores.
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte(strings.Repeat("not a store\n", 400)), 0o600)
	empty := filepath.Join(dir, "empty.db")
	os.WriteFile(empty, nil, 0o600)
	sub := filepath.Join(dir, "sub.db")
	os.Mkdir(sub, 0o700)
	link := filepath.Join(dir, "link.db")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.db")
	odb, err := bolt.Open(other, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := odb.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("meta"))
		if err != nil {
			return err
		}
		return b.Put([]byte("format"), []byte("someone-else/1"))
	}); err != nil {
		t.Fatal(err)
	}
	odb.Close()
	os.WriteFile(other+"-delivered", []byte("keep"), 0o600)
	for _, p := range []string{text, empty, sub, link, other} {
		if err := Remove(p); !errors.Is(err, ErrStore) || !strings.Contains(err.Error(), p) {
			t.Errorf("Remove(%s): %v, want ErrStore naming it", filepath.Base(p), err)
		}
		if !exists(p) {
			t.Errorf("Remove(%s) removed it", filepath.Base(p))
		}
	}
	if !exists(other+"-delivered") || !exists(path) {
		t.Fatal("a refused Remove removed a file beside it, or the link's target")
	}
	if err := Remove(filepath.Join(dir, "none.db")); !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrStore) {
		t.Fatalf("missing store: %v", err)
	}

	// Closed: removed with its marker.
	if err := Remove(path); err != nil {
		t.Fatal(err)
	}
	if exists(path) || exists(path+"-delivered") {
		t.Fatal("Remove left a file")
	}
	// A store without a marker (lost, or never written) is removed too.
	p2 := filepath.Join(dir, "w2.db")
	w2 := openTest(t, p2, testConfig(n, &recorder{}))
	w2.Close()
	os.Remove(p2 + "-delivered")
	if err := Remove(p2); err != nil || exists(p2) {
		t.Fatalf("store without its marker: %v", err)
	}
}
