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

// FuzzParseBoltMeta: the preflight meta parser reads untrusted files.
func FuzzParseBoltMeta(f *testing.F) {
	dir := f.TempDir()
	st, err := OpenStore(filepath.Join(dir, "s.db"), StoreOptions{Create: true})
	if err != nil {
		f.Fatal(err)
	}
	st.Close()
	b, _ := os.ReadFile(filepath.Join(dir, "s.db"))
	f.Add(b[:4096])
	f.Add(make([]byte, 80))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, ok := parseBoltMeta(b)
		if ok && (m.pageSize == 0 && m.pgid == 0 && m.tx == 0 && m.root == 0 && m.freelist == 0) {
			// A valid meta with all-zero fields is possible only with a
			// matching checksum; nothing to check beyond not panicking.
			return
		}
	})
}

// FuzzPreflightAndOpen: arbitrary store files are refused or opened, never
// crash the process (bbolt itself faults on some truncated files, which is
// why preflight exists), and are never modified when refused.
func FuzzPreflightAndOpen(f *testing.F) {
	dir := f.TempDir()
	path := filepath.Join(dir, "s.db")
	st, err := OpenStore(path, StoreOptions{Create: true})
	if err != nil {
		f.Fatal(err)
	}
	s, _ := New(st, mustFuzzKey(f))
	s.SignBatch([]byte("c"), []Request{{Height: 1, Msg: []byte("a")}, {Height: 2, Msg: []byte("b")}})
	st.Close()
	good, _ := os.ReadFile(path)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(good[:8192])
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "f.db")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		// Without the high-water mark (there is none beside a fuzzed
		// file): what is fuzzed is the path through preflight and bbolt.
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
	})
}

func mustFuzzKey(f *testing.F) *eots.SecretKey {
	sk, err := eots.ParseSecretKey(bytes.Repeat([]byte{0x42}, 32))
	if err != nil {
		f.Fatal(err)
	}
	return sk
}
