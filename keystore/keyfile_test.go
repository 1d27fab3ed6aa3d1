package keystore

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
)

func TestLoadKeyFile(t *testing.T) {
	dir := t.TempDir()
	key, _ := btcec.NewPrivateKey()
	hexKey := hex.EncodeToString(key.Serialize())
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	asked := 0
	pass := func(p string) func() ([]byte, error) {
		return func() ([]byte, error) { asked++; return []byte(p), nil }
	}
	ks := filepath.Join(dir, "key.keystore")
	if err := Write(ks, key, []byte("correct horse"), Options{WorkFactor: 10}); err != nil {
		t.Fatal(err)
	}
	broken := write("broken.keystore", `{"version": 1, "public_key": "zz"}`, 0o600)

	same := func(t *testing.T, got *btcec.PrivateKey) {
		t.Helper()
		if got == nil || !bytes.Equal(got.Serialize(), key.Serialize()) {
			t.Fatal("a different key came back")
		}
	}
	t.Run("plain hex", func(t *testing.T) {
		for _, content := range []string{hexKey, "  0x" + hexKey + "\n"} {
			asked = 0
			k, err := LoadKeyFile(write("plain", content, 0o600), pass("unused"))
			if err != nil {
				t.Fatal(err)
			}
			same(t, k)
			if asked != 0 {
				t.Fatal("a passphrase was asked for a plain key file")
			}
		}
	})
	t.Run("keystore", func(t *testing.T) {
		asked = 0
		k, err := LoadKeyFile(ks, pass("correct horse"))
		if err != nil || asked != 1 {
			t.Fatalf("%v (asked %d times)", err, asked)
		}
		same(t, k)
		if _, err := LoadKeyFile(ks, pass("wrong")); !errors.Is(err, ErrWrongPassphrase) {
			t.Fatalf("wrong passphrase: %v", err)
		}
		if _, err := LoadKeyFile(ks, nil); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("no passphrase source: %v", err)
		}
	})
	t.Run("damaged keystore is refused before a passphrase is asked", func(t *testing.T) {
		asked = 0
		if _, err := LoadKeyFile(broken, pass("x")); !errors.Is(err, ErrInvalid) || asked != 0 {
			t.Fatalf("%v (asked %d times)", err, asked)
		}
	})
	for _, c := range []struct {
		name string
		path func() string
		want error
	}{
		{"group readable", func() string { return write("g", hexKey, 0o640) }, ErrUnsafeFile},
		{"world readable", func() string { return write("w", hexKey, 0o604) }, ErrUnsafeFile},
		{"directory", func() string { return dir }, ErrUnsafeFile},
		{"missing", func() string { return filepath.Join(dir, "none") }, ErrIO},
		{"empty path", func() string { return "" }, ErrInvalidArgument},
		{"empty", func() string { return write("e", " \n", 0o600) }, ErrInvalid},
		{"not hex", func() string { return write("n", "secret words here", 0o600) }, ErrInvalid},
		{"31 bytes", func() string { return write("s", hexKey[2:], 0o600) }, ErrInvalid},
		{"zero key", func() string { return write("z", strings.Repeat("00", 32), 0o600) }, ErrInvalid},
		{"the group order", func() string {
			return write("o", "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", 0o600)
		}, ErrInvalid},
		{"too large", func() string { return write("l", strings.Repeat(" ", MaxKeyFileSize+1), 0o600) }, ErrInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			k, err := LoadKeyFile(c.path(), pass("x"))
			if !errors.Is(err, c.want) || k != nil {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if strings.Contains(err.Error(), hexKey) || strings.Contains(err.Error(), "secret words") {
				t.Fatalf("the error shows the file's content: %v", err)
			}
		})
	}
}

// TestLoadKeyFileUsesTheFileItChecked: the key comes from the very bytes
// whose file passed the owner-only check. The passphrase prompt is a
// window of seconds; a file put in the key file's place meanwhile (here a
// world-readable keystore of another key) is not read.
func TestLoadKeyFileUsesTheFileItChecked(t *testing.T) {
	dir := t.TempDir()
	key, _ := btcec.NewPrivateKey()
	other, _ := btcec.NewPrivateKey()
	path := filepath.Join(dir, "key.keystore")
	swap := filepath.Join(dir, "other.keystore")
	for _, w := range []struct {
		p string
		k *btcec.PrivateKey
	}{{path, key}, {swap, other}} {
		if err := Write(w.p, w.k, []byte("pass"), Options{WorkFactor: 10}); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(swap, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := LoadKeyFile(path, func() ([]byte, error) {
		if err := os.Rename(swap, path); err != nil {
			t.Fatal(err)
		}
		return []byte("pass"), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Serialize(), key.Serialize()) {
		t.Fatal("LoadKeyFile returned the key of a file it never checked (group- and world-readable)")
	}
}
