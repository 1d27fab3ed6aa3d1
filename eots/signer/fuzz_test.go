package signer

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/btcstake/btcstake/eots"
)

// FuzzDecodeRecord: stored values are parsed on every read; arbitrary bytes
// must never panic, and what decodes must re-encode to the same bytes.
func FuzzDecodeRecord(f *testing.F) {
	pk := [32]byte{1, 2, 3}
	for i, msg := range [][]byte{nil, []byte("vote"), bytes.Repeat([]byte{7}, 40)} {
		key := recordKey([]byte("chain"), &pk, uint64(i))
		rec := Record{ChainID: "chain", PublicKey: pk, Height: uint64(i), Msg: msg, PubRand: eots.PublicRand{9}, Sig: eots.Signature{8}, Time: time.Unix(0, 1700000000000000000)}
		f.Add(key, encodeRecord(key, &rec))
	}
	f.Fuzz(func(t *testing.T, key, v []byte) {
		rec, err := decodeRecord(key, v)
		if err != nil {
			return
		}
		if got := recordKey([]byte(rec.ChainID), &rec.PublicKey, rec.Height); !bytes.Equal(got, key) {
			t.Fatal("key round trip")
		}
		if got := encodeRecord(key, rec); !bytes.Equal(got, v) {
			t.Fatal("value round trip")
		}
	})
}

// storeImage is a store holding two records, as bytes: the image the
// store fuzz target damages.
func storeImage(f *testing.F) []byte {
	path := filepath.Join(f.TempDir(), "s.db")
	st, err := OpenStore(path, StoreOptions{Create: true})
	if err != nil {
		f.Fatal(err)
	}
	s, err := New(st, mustFuzzKey(f))
	if err != nil {
		f.Fatal(err)
	}
	if _, err := s.SignBatch([]byte("c"), []Request{{Height: 1, Msg: []byte("a")}, {Height: 2, Msg: []byte("b")}}); err != nil {
		f.Fatal(err)
	}
	st.Close()
	good, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	return good
}

// fuzzBase is a directory for the per-input files of a fuzz target, in
// memory (/dev/shm) where the system has one.
func fuzzBase(f *testing.F) string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "btcstake-fuzz-"); err == nil {
			f.Cleanup(func() { os.RemoveAll(d) })
			return d
		}
	}
	return f.TempDir()
}

// damage applies a fuzz input to the store image: the file cut to (or
// grown with zeros to) size bytes when size is not 0 (at most twice the
// image), then patch written at offset at (wrapped into the file).
func damage(good []byte, size, at uint32, patch []byte) []byte {
	img := append([]byte(nil), good...)
	if size != 0 {
		n := int(size % uint32(2*len(good)+1))
		if n <= len(img) {
			img = img[:n]
		} else {
			img = append(img, make([]byte, n-len(img))...)
		}
	}
	if len(img) > 0 && len(patch) > 0 {
		copy(img[int(at%uint32(len(img))):], patch)
	}
	return img
}

// openDamaged writes data as a store file in a directory of its own under
// base (no file of another input is near it), and opens it: a refused
// store must be left as it was, an opened one is read and closed.
func openDamaged(t *testing.T, base string, data []byte) {
	dir, err := os.MkdirTemp(base, "in-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, "f.db")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	// Without the high-water mark (there is none beside a fuzzed file):
	// what is fuzzed is the path through preflight and bbolt.
	st, err := OpenStore(p, StoreOptions{noMarks: true})
	if err != nil {
		after, _ := os.ReadFile(p)
		if !bytes.Equal(after, data) {
			t.Fatal("refused store modified")
		}
		return
	}
	st.Records(nil, nil)
	st.Close()
}

// FuzzPreflightAndOpen: damaged store files are refused or opened, never
// crash the process (bbolt itself faults on some damaged files, which is
// why preflight exists), and are never modified when refused. An input is
// a small damage to a real store's image (a cut or zero-grown length, and
// bytes overwritten at an offset), not a whole file: the inputs stay a
// few bytes long, so the fuzzer's time goes to opening stores rather than
// to minimising 32 KiB inputs, and the image and its store are made once
// per fuzzing process. Whole damaged files the fuzzer once found crashing
// bbolt are kept in testdata/preflight (TestPreflightRegressions).
func FuzzPreflightAndOpen(f *testing.F) {
	good := storeImage(f)
	const page = 4096
	f.Add(uint32(0), uint32(0), []byte(nil))                       // the store itself
	f.Add(uint32(len(good)/2), uint32(0), []byte(nil))             // cut in half
	f.Add(uint32(2*page), uint32(0), []byte(nil))                  // the meta pages alone
	f.Add(uint32(0), uint32(16), []byte{0xff, 0xff, 0xff, 0xff})   // meta 0's magic
	f.Add(uint32(0), uint32(page+64), []byte{0x40, 0, 0, 0, 0, 0}) // meta 1's root
	f.Add(uint32(0), uint32(2*page+8), []byte{0xff, 0xff})         // a page's flags
	f.Add(uint32(0), uint32(3*page+16), []byte{0xff, 0xff, 0xff, 0x7f})
	f.Add(uint32(len(good)+page), uint32(0), []byte(nil)) // grown with a zero page
	base := fuzzBase(f)
	f.Fuzz(func(t *testing.T, size, at uint32, patch []byte) {
		openDamaged(t, base, damage(good, size, at, patch))
	})
}

// TestPreflightRegressions: store files on which bbolt once panicked
// inside Open and inside tx.Check's own goroutine (found by fuzzing, kept
// whole) are refused without crashing the process, and left unchanged.
func TestPreflightRegressions(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "preflight", "*.db"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no regression files: %v", err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "f.db")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		// Without the high-water mark (there is none beside these files):
		// what is checked is the path through preflight and bbolt.
		if st, err := OpenStore(p, StoreOptions{noMarks: true}); err == nil {
			st.Close()
			t.Errorf("%s: opened", file)
			continue
		}
		if after, _ := os.ReadFile(p); !bytes.Equal(after, data) {
			t.Errorf("%s: refused store modified", file)
		}
	}
}

func mustFuzzKey(f *testing.F) *eots.SecretKey {
	sk, err := eots.ParseSecretKey(bytes.Repeat([]byte{0x42}, 32))
	if err != nil {
		f.Fatal(err)
	}
	return sk
}
