//go:build unix

package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// snapshot maps every name in dir to its content (or its kind).
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		fi, _ := os.Lstat(p)
		if fi.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			out[e.Name()] = fi.Mode().String() + " " + string(b)
		} else {
			out[e.Name()] = fi.Mode().String()
		}
	}
	return out
}

func TestWriteFileRefusals(t *testing.T) {
	dir := t.TempDir()
	put := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	input := put("unbond.psbt", "cHNidP8B...")
	other := put("other.txt", "old")
	keystore := put("staker.ks", `{"version": 1, "public_key": "02...", "created": "x", "age_scrypt": "YWdl..."}`)
	ageFile := put("key.age", "age-encryption.org/v1\n-> scrypt ...")
	pem := put("key.pem", "-----BEGIN EC PRIVATE KEY-----\nMHQ...\n-----END EC PRIVATE KEY-----\n")
	plain := put("staker.key", "0x"+strings.Repeat("ab", 32)+"\n")
	db := filepath.Join(dir, "records.db")
	bdb, err := bolt.Open(db, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	bdb.Close()
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(other, link); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink(filepath.Join(dir, "nowhere"), dangling); err != nil {
		t.Fatal(err)
	}
	inputLink := filepath.Join(dir, "input-link")
	if err := os.Symlink(input, inputLink); err != nil {
		t.Fatal(err)
	}
	hard := filepath.Join(dir, "hard.psbt")
	if err := os.Link(input, hard); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}

	force := Options{Perm: 0o666, Replace: true, Inputs: []string{input}}
	cases := []struct {
		name string
		path string
		o    Options
		kind error
		want string
	}{
		{"existing file", other, Options{Perm: 0o666}, ErrExists, "exists"},
		{"the input itself, with Replace", input, force, ErrIsInput, "is read by this command"},
		{"the input spelt otherwise", dir + "/./sub/../unbond.psbt", force, ErrIsInput, "same file as the input"},
		{"a hard link of the input", hard, force, ErrIsInput, "same file as the input"},
		{"an input named through a link", other, Options{Replace: true, Inputs: []string{link}}, ErrIsInput, ""},
		{"a keystore, with Replace", keystore, force, ErrHoldsKey, "holds a keystore"},
		{"an age file, with Replace", ageFile, force, ErrHoldsKey, "age-encrypted"},
		{"a PEM key, with Replace", pem, force, ErrHoldsKey, "PEM private key"},
		{"a plain hex key, with Replace", plain, force, ErrHoldsKey, "hex secret key"},
		{"a bbolt store, with Replace", db, force, ErrHoldsKey, "bbolt database"},
		{"a keystore, without Replace", keystore, Options{}, ErrHoldsKey, ""},
		{"a directory", sub, force, ErrNotRegular, "is a directory"},
		{"a symbolic link", link, force, ErrNotRegular, "symbolic link"},
		{"a dangling symbolic link", dangling, force, ErrNotRegular, "symbolic link"},
		{"a link to the input", inputLink, force, ErrNotRegular, "symbolic link"},
		{"a FIFO", fifo, force, ErrNotRegular, "not a regular file"},
		{"a missing directory", filepath.Join(dir, "no", "such", "f"), force, ErrNoDir, "does not exist"},
		{"a file as the directory", filepath.Join(other, "f"), force, ErrNoDir, "not a directory"},
		{"no path", "", force, ErrNotRegular, "no output path"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := snapshot(t, dir)
			if err := Check(c.path, c.o); !errors.Is(err, c.kind) {
				t.Fatalf("Check: %v, want %v", err, c.kind)
			}
			err := WriteFile(c.path, []byte("new content"), c.o)
			if !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("WriteFile: %v, want %v with %q", err, c.kind, c.want)
			}
			for _, k := range []error{ErrExists, ErrIsInput, ErrHoldsKey, ErrNotRegular, ErrNoDir} {
				if k != c.kind && errors.Is(err, k) {
					t.Errorf("%v also matches %v", err, k)
				}
			}
			if errors.Is(err, fs.ErrExist) != (c.kind == ErrExists) {
				t.Errorf("%v: fs.ErrExist match %v", err, errors.Is(err, fs.ErrExist))
			}
			if c.name == "a missing directory" && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%v does not match fs.ErrNotExist", err)
			}
			after := snapshot(t, dir)
			if len(after) != len(before) {
				t.Fatalf("the directory went from %d to %d entries", len(before), len(after))
			}
			for n, v := range before {
				if after[n] != v {
					t.Errorf("%s changed", n)
				}
			}
		})
	}
	// With ReplaceKeys (and Replace) a key may go: the caller checked.
	if err := WriteFile(keystore, []byte("{}"), Options{Private: true, Replace: true, ReplaceKeys: true}); err != nil {
		t.Fatalf("ReplaceKeys: %v", err)
	}
	// ReplaceKeys never lets an input go.
	if err := WriteFile(input, []byte("x"), Options{Replace: true, ReplaceKeys: true, Inputs: []string{input}}); !errors.Is(err, ErrIsInput) {
		t.Fatalf("ReplaceKeys over an input: %v", err)
	}
}

func TestWriteFileModes(t *testing.T) {
	old := syscall.Umask(0o027)
	defer syscall.Umask(old)
	dir := t.TempDir()
	pub := filepath.Join(dir, "tx.hex")
	if err := WriteFile(pub, []byte("01"), Options{Perm: 0o666}); err != nil {
		t.Fatal(err)
	}
	sec := filepath.Join(dir, "secret")
	syscall.Umask(0)
	if err := WriteFile(sec, []byte("k"), Options{Perm: 0o666, Private: true}); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]fs.FileMode{pub: 0o640, sec: 0o600} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v (%v)", p, fi.Mode().Perm(), want, err)
		}
	}
	// Replace: the new content, and no temporary file left.
	if err := WriteFile(pub, []byte("02"), Options{Perm: 0o666, Replace: true}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(pub); string(b) != "02" {
		t.Fatalf("replaced content %q", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Fatalf("%d entries, want 2 (no temporary file)", len(entries))
	}
}

func TestSniffKey(t *testing.T) {
	for content, want := range map[string]bool{
		strings.Repeat("ab", 32):                         true,
		"  0x" + strings.Repeat("AB", 32) + "\n":         true,
		strings.Repeat("ab", 31):                         false,
		strings.Repeat("ab", 33):                         false,
		"cHNidP8BAHECAAAAAe...":                          false,
		`{"rpc_url": "127.0.0.1:1"}`:                     false,
		`{"age_scrypt": "x"}`:                            true,
		"02000000000101" + strings.Repeat("00", 100):     false,
		"-----BEGIN PRIVATE KEY-----\n...":               true,
		"-----BEGIN CERTIFICATE-----\n...":               false,
		"-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n":     true,
		string(make([]byte, 16)) + "\xed\xda\x0c\xed...": true,
	} {
		if got := sniffKey([]byte(content)) != ""; got != want {
			t.Errorf("%.40q: %v, want %v", content, got, want)
		}
	}
}
