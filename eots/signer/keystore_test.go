package signer

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestKeystoreReadIsBounded: an endless or huge file is refused without
// reading it all.
func TestKeystoreReadIsBounded(t *testing.T) {
	if _, err := KeystorePublicKey("/dev/zero"); !errors.Is(err, ErrKeystore) {
		t.Fatalf("/dev/zero: %v", err)
	}
	big := filepath.Join(t.TempDir(), "big.keystore")
	if err := os.WriteFile(big, bytes.Repeat([]byte(" "), maxKeystoreSize+10), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeystore(big, []byte("x")); !errors.Is(err, ErrKeystore) {
		t.Fatalf("oversized keystore: %v", err)
	}
}
