package keystore

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/btcstake/btcstake/internal/inputfile"
	"github.com/btcsuite/btcd/btcec/v2"
)

// MaxKeyFileSize bounds a key file read by LoadKeyFile.
const MaxKeyFileSize = 1 << 16

// ErrUnsafeFile: a key file or keystore that is not a regular file, or
// (for LoadKeyFile and Load, which read a secret) that its owner's group
// or others can read or write.
var ErrUnsafeFile = errors.New("unsafe key file")

// LoadKeyFile loads a secret key from a file in either of the two forms
// btcstake reads: a passphrase-encrypted keystore (this package's format),
// unlocked with the passphrase passphrase returns (asked for only then),
// or a plain file holding the 32-byte key as hex (an optional 0x, and
// surrounding white space, allowed). The form is told by the content: a
// keystore is a JSON object.
//
// The file must be a regular file that only its owner can access
// (ErrUnsafeFile: a secret readable by the group or others is refused, not
// used) and at most MaxKeyFileSize bytes. A plain file that is not a valid
// secp256k1 key is ErrInvalid; a keystore returns Load's kinds. Nothing of
// the file's content appears in an error. The caller zeroes the key.
func LoadKeyFile(path string, passphrase func() ([]byte, error)) (*btcec.PrivateKey, error) {
	raw, err := readPrivateFile(path)
	if err != nil {
		return nil, err
	}
	defer clear(raw)
	if IsKeystore(raw) {
		if passphrase == nil {
			return nil, fmt.Errorf("%w: %s is a keystore and no passphrase was given", ErrInvalidArgument, path)
		}
		// A damaged keystore is reported before anyone is asked for a
		// passphrase. The key comes from the bytes read above, whose file
		// passed the owner-only check: the path is not opened again.
		kf, err := decode(path, raw)
		if err != nil {
			return nil, err
		}
		if _, err := kf.publicKey(); err != nil {
			return nil, err
		}
		pass, err := passphrase()
		if err != nil {
			return nil, err
		}
		defer clear(pass)
		return kf.unlock(path, pass)
	}
	return parsePlainKey(path, raw)
}

// IsKeystore tells a keystore (a JSON object) from a plain hex key file
// by its first byte that is not white space.
func IsKeystore(content []byte) bool {
	return bytes.HasPrefix(bytes.TrimSpace(content), []byte("{"))
}

// readPrivateFile reads a key file after checking that it is a regular
// file no one but its owner can access, reading at most MaxKeyFileSize
// bytes (readChecked).
func readPrivateFile(path string) ([]byte, error) {
	if path == "" {
		return nil, fmt.Errorf("%w: no key file given", ErrInvalidArgument)
	}
	return readChecked(path, MaxKeyFileSize, inputfile.Private)
}

// parsePlainKey parses the content of a plain hex key file.
func parsePlainKey(path string, raw []byte) (*btcec.PrivateKey, error) {
	s := bytes.TrimSpace(raw)
	s = bytes.TrimPrefix(s, []byte("0x"))
	if len(s) == 0 {
		return nil, fmt.Errorf("%w: key file %s is empty", ErrInvalid, path)
	}
	b := make([]byte, hex.DecodedLen(len(s)))
	defer clear(b)
	n, err := hex.Decode(b, s)
	if err != nil {
		return nil, fmt.Errorf("%w: key file %s holds neither a hex secret key nor a keystore", ErrInvalid, path)
	}
	if n != 32 {
		return nil, fmt.Errorf("%w: key file %s: a secret key is 32 bytes, got %d", ErrInvalid, path, n)
	}
	var d btcec.ModNScalar
	if d.SetByteSlice(b[:n]) || d.IsZero() {
		return nil, fmt.Errorf("%w: key file %s: the secret key is not in [1, n-1] (not a valid secp256k1 key)", ErrInvalid, path)
	}
	k := btcec.PrivKeyFromScalar(&d)
	d.Zero()
	return k, nil
}
