package keystore

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// errNoPassphrase is what the fuzzer's passphrase callback answers, so a
// keystore is checked (envelope, public key) but never unlocked: scrypt
// would take the fuzzer's time, and FuzzLoad covers unlocking.
var errNoPassphrase = errors.New("no passphrase in the fuzzer")

// FuzzLoadKeyFile feeds arbitrary key files to LoadKeyFile, the reader of
// every --key and --sk-file: nothing panics; a plain file that loads holds
// the hex of the key it gives (an optional 0x, white space around); a
// keystore that passes its checks asks for the passphrase (and nothing
// else does); every error wraps exactly one kind, and none repeats a hex
// secret the file holds.
func FuzzLoadKeyFile(f *testing.F) {
	for _, fx := range fixtures {
		b, err := os.ReadFile(filepath.Join("testdata", fx.file))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add([]byte(fx.sk + "\n"))
	}
	f.Add([]byte("0x" + strings.Repeat("11", 32)))
	f.Add([]byte(strings.Repeat("00", 32)))
	f.Add([]byte("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")) // n
	f.Add([]byte(" {"))
	dir := f.TempDir()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "btcstake-fuzz-"); err == nil {
			f.Cleanup(func() { os.RemoveAll(d) })
			dir = d
		}
	}
	path := filepath.Join(dir, "key")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		asked := false
		k, err := LoadKeyFile(path, func() ([]byte, error) { asked = true; return nil, errNoPassphrase })
		plainHex := strings.TrimPrefix(strings.TrimSpace(string(data)), "0x")
		if err != nil {
			if len(plainHex) >= 16 && strings.Contains(strings.ToLower(err.Error()), strings.ToLower(plainHex)) {
				t.Fatalf("the error repeats the file's content: %v", err)
			}
			if asked != errors.Is(err, errNoPassphrase) {
				t.Fatalf("asked for a passphrase %v, error %v", asked, err)
			}
			if asked {
				if !IsKeystore(data) {
					t.Fatal("a passphrase was asked for a file that is no keystore")
				}
				return
			}
			n := 0
			for _, kind := range append(allKinds, ErrUnsafeFile) {
				if errors.Is(err, kind) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("%v wraps %d kinds", err, n)
			}
			return
		}
		if asked || IsKeystore(data) {
			t.Fatal("a keystore loaded without its passphrase")
		}
		if got := hex.EncodeToString(k.Serialize()); got != strings.ToLower(plainHex) {
			t.Fatalf("the file holds %q, the key loaded is %s", plainHex, got)
		}
		if bytes.Equal(k.Serialize(), make([]byte, 32)) {
			t.Fatal("a zero key loaded")
		}
	})
}
