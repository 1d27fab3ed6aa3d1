package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := Write(p, []byte("one"), 0o600, false); err != nil {
		t.Fatal(err)
	}
	if err := Write(p, []byte("two"), 0o640, false); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	st, _ := os.Stat(p)
	if string(b) != "two" || st.Mode().Perm() != 0o640 {
		t.Fatalf("content %q, mode %o", b, st.Mode().Perm())
	}
	// noClobber refuses an existing file and leaves it alone.
	if err := Write(p, []byte("three"), 0o600, true); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("noClobber over an existing file: %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "two" {
		t.Fatalf("existing file changed to %q", b)
	}
	q := filepath.Join(dir, "g")
	if err := Write(q, []byte("new"), 0o600, true); err != nil {
		t.Fatal(err)
	}
	// A failure (missing directory) leaves nothing behind.
	if err := Write(filepath.Join(dir, "missing", "h"), []byte("x"), 0o600, false); err == nil {
		t.Fatal("wrote into a missing directory")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Fatalf("directory holds %d entries, want 2 (no temporary files)", len(entries))
	}
}
