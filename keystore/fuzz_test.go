package keystore

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary files to PublicKey and Load (the envelope
// parser, the ciphertext decoding and the payload checks): no panic, every
// error wraps exactly one kind, and a key that loads matches the recorded
// public key.
func FuzzLoad(f *testing.F) {
	for _, fx := range fixtures {
		b, err := os.ReadFile(filepath.Join("testdata", fx.file))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("{}"))
	f.Add([]byte(`{"version": 1, "public_key": "zz"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "k.keystore")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		pk, perr := PublicKey(p)
		if perr != nil {
			onlyOneKind(t, perr)
		}
		k, err := Load(p, []byte(fixturePass))
		if err != nil {
			onlyOneKind(t, err)
			return
		}
		if perr != nil || !bytes.Equal(k.PubKey().SerializeCompressed(), pk.SerializeCompressed()) {
			t.Fatalf("loaded a key that does not match the file's public key (%v)", perr)
		}
	})
}

func onlyOneKind(t *testing.T, err error) {
	t.Helper()
	n := 0
	for _, k := range allKinds {
		if errors.Is(err, k) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%v wraps %d kinds", err, n)
	}
}
