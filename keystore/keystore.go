// Package keystore keeps one secp256k1 secret key per file, encrypted with a
// passphrase: the staker's, a covenant member's or a finality provider's
// (EOTS) key alike. A keystore records no role; a key's role in a transaction
// is the slot its public key has in the staking script.
//
// The file is a small JSON envelope:
//
//	{
//	  "version": 1,
//	  "public_key": "<33-byte compressed public key, lowercase hex>",
//	  "created": "<RFC 3339 UTC time>",
//	  "age_scrypt": "<base64 of the age file encrypting the 32-byte key>"
//	}
//
// The public key is in the clear, so PublicKey needs no passphrase; Load
// checks that the decrypted key matches it. The secret is encrypted with age
// (https://age-encryption.org) to a scrypt recipient. Files are written
// atomically with mode 0600 (internal/atomicfile) and never replaced unless
// Options.Overwrite is set (and then only by a keystore of the same key).
// Reads are bounded and take regular files only: no path, /dev/zero or a
// named pipe included, makes Load or PublicKey read more than 64 KiB or
// wait. Load, like LoadKeyFile, refuses a file its owner's group or others
// can access. The envelope is decoded strictly: unknown fields, a field
// given twice and data after the object are refused.
package keystore

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"filippo.io/age"
	"github.com/btcsuite/btcd/btcec/v2"

	"github.com/btcstake/btcstake/internal/atomicfile"
	"github.com/btcstake/btcstake/internal/inputfile"
	"github.com/btcstake/btcstake/internal/strictjson"
)

// Version is the version of the file format this package writes and reads.
const Version = 1

// DefaultWorkFactor is age's default scrypt work factor (log2 N = 18: about
// a second and 256 MiB per unlock).
const DefaultWorkFactor = 18

// MaxWorkFactor is the largest work factor Load unlocks: age's scrypt
// identity refuses anything above 22 (and age panics above 30), so a keystore
// written with more could never be opened. Write refuses it.
const MaxWorkFactor = 22

// maxFileSize bounds how much of a path is read: a real keystore is well
// under 1 KiB.
const maxFileSize = 64 << 10

// file is the on-disk JSON envelope; the field order is the file's.
type file struct {
	Version    int    `json:"version"`
	PublicKey  string `json:"public_key"`
	Created    string `json:"created"`
	Ciphertext string `json:"age_scrypt"`
}

// Options tunes Write.
type Options struct {
	// WorkFactor is scrypt's log2 N in [1, MaxWorkFactor]; 0 means
	// DefaultWorkFactor. Tests use small values; real keys should keep the
	// default.
	WorkFactor int
	// Overwrite allows replacing an existing file (import --force): a
	// keystore of the same key (a new passphrase or work factor) or a
	// file that holds no key. A file holding another key, or any key
	// material atomicfile.HoldsKey recognises, is never replaced.
	Overwrite bool
}

// Write encrypts key with passphrase and writes it to path atomically with
// mode 0600. The caller's key is not modified. Errors, and what each leaves
// behind (an existing file at path is never damaged):
//   - ErrInvalidArgument: an empty passphrase, a work factor outside
//     [1, MaxWorkFactor], a nil or zeroed key (which would replace a good
//     keystore with one that never unlocks); nothing is written;
//   - ErrExists: path exists and opts.Overwrite is not set, or it holds
//     another key (a keystore of a different key, a plain key file, an
//     age file, a signer's record store), which even Overwrite never
//     replaces;
//   - ErrEncrypt: encryption failed; nothing is written;
//   - ErrIO: the file could not be written: a missing directory, or path
//     is a directory or a symbolic link (never written through).
func Write(path string, key *btcec.PrivateKey, passphrase []byte, opts Options) error {
	if len(passphrase) == 0 {
		return fmt.Errorf("%w: empty passphrase", ErrInvalidArgument)
	}
	wf := opts.WorkFactor
	if wf == 0 {
		wf = DefaultWorkFactor
	}
	if wf < 1 || wf > MaxWorkFactor {
		return fmt.Errorf("%w: scrypt work factor must be in [1, %d], got %d", ErrInvalidArgument, MaxWorkFactor, wf)
	}
	if key == nil {
		return fmt.Errorf("%w: nil secret key", ErrInvalidArgument)
	}
	// Step 1: take a copy of the scalar; a zeroed key (PrivateKey.Zero) is
	// refused. The public key written in the clear is computed from the very
	// scalar that gets encrypted.
	d := key.Key
	if d.IsZero() {
		return fmt.Errorf("%w: unusable secret key (zero or zeroed)", ErrInvalidArgument)
	}
	own := btcec.PrivKeyFromScalar(&d)
	d.Zero()
	defer own.Zero()
	// Step 2: age-encrypt the 32-byte key to a scrypt recipient.
	rcpt, err := age.NewScryptRecipient(string(passphrase))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidArgument, err)
	}
	rcpt.SetWorkFactor(wf)
	raw := own.Key.Bytes()
	var ct bytes.Buffer
	err = seal(&ct, rcpt, raw[:])
	clear(raw[:])
	if err != nil {
		return err
	}
	// Step 3: the envelope, then the atomic write.
	data, err := json.MarshalIndent(file{
		Version:    Version,
		PublicKey:  hex.EncodeToString(own.PubKey().SerializeCompressed()),
		Created:    time.Now().UTC().Format(time.RFC3339),
		Ciphertext: base64.StdEncoding.EncodeToString(ct.Bytes()),
	}, "", "  ")
	if err != nil {
		return fmt.Errorf("%w: encoding the envelope: %v", ErrEncrypt, err)
	}
	// Step 4: the write, under atomicfile.WriteFile's rules; with
	// Overwrite, a keystore may be replaced only by one of the same key.
	o := atomicfile.Options{Private: true, Replace: opts.Overwrite}
	if opts.Overwrite && sameKeystore(path, own.PubKey()) {
		o.ReplaceKeys = true
	}
	err = atomicfile.WriteFile(path, append(data, '\n'), o)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, atomicfile.ErrExists):
		return fmt.Errorf("%w: %s", ErrExists, path)
	case errors.Is(err, atomicfile.ErrHoldsKey):
		return fmt.Errorf("%w: %v", ErrExists, err)
	default:
		return fmt.Errorf("%w: %w", ErrIO, err)
	}
}

// sameKeystore reports whether path is a keystore of the key pub.
func sameKeystore(path string, pub *btcec.PublicKey) bool {
	kf, err := read(path, 0)
	if err != nil {
		return false
	}
	pk, err := kf.publicKey()
	return err == nil && pk.IsEqual(pub)
}

// seal writes the age encryption of secret to rcpt into dst. Every failure
// (the recipient's key wrapping, which draws randomness, or dst refusing a
// write) wraps ErrEncrypt.
func seal(dst io.Writer, rcpt age.Recipient, secret []byte) error {
	w, err := age.Encrypt(dst, rcpt)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrEncrypt, err)
	}
	if _, err := w.Write(secret); err != nil {
		return fmt.Errorf("%w: %v", ErrEncrypt, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("%w: %v", ErrEncrypt, err)
	}
	return nil
}

// read reads (at most maxFileSize bytes, a regular file: see
// readChecked) and decodes the envelope at path; forbid names the
// permission bits that must be clear.
func read(path string, forbid fs.FileMode) (*file, error) {
	data, err := readChecked(path, maxFileSize, forbid)
	if err != nil {
		return nil, err
	}
	return decode(path, data)
}

// readChecked reads a key or keystore file through internal/inputfile: a
// regular file (a pipe or a device is refused before it is opened, so a
// FIFO cannot hang the caller), at most max bytes, without the permission
// bits forbid. The errors: ErrUnsafeFile (not a regular file, or readable
// by others), ErrInvalid (too large), ErrIO (the rest).
func readChecked(path string, max int64, forbid fs.FileMode) ([]byte, error) {
	b, err := inputfile.Read(path, inputfile.Options{Max: max, Forbid: forbid})
	switch {
	case err == nil:
		return b, nil
	case errors.Is(err, inputfile.ErrNotRegular), errors.Is(err, inputfile.ErrNotPrivate):
		return nil, fmt.Errorf("%w: %v", ErrUnsafeFile, err)
	case errors.Is(err, inputfile.ErrTooLarge):
		return nil, fmt.Errorf("%w: %s is larger than any key file (over %d bytes)", ErrInvalid, path, max)
	}
	return nil, fmt.Errorf("%w: cannot read %s: %w", ErrIO, path, err)
}

// decode parses the envelope (internal/strictjson: known fields only, no
// field twice, nothing after the object) and checks its version.
func decode(path string, data []byte) (*file, error) {
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%w: %s is larger than any keystore (over %d bytes)", ErrInvalid, path, maxFileSize)
	}
	var kf file
	if err := strictjson.Decode(data, &kf); err != nil {
		if errors.Is(err, strictjson.ErrDuplicateKey) || errors.Is(err, strictjson.ErrTrailingData) {
			return nil, fmt.Errorf("%w: %s is not a valid keystore file: %v", ErrInvalid, path, err)
		}
		return nil, fmt.Errorf("%w: %s is not a keystore file", ErrInvalid, path)
	}
	if kf.Version != Version {
		return nil, fmt.Errorf("%w: unsupported keystore version %d", ErrInvalid, kf.Version)
	}
	return &kf, nil
}

// PublicKey returns the public key recorded in the keystore at path, without
// decrypting anything. Errors wrap ErrIO (unreadable), ErrUnsafeFile (not
// a regular file) or ErrInvalid (not a keystore, or a malformed public
// key). It reads nothing secret, so it does not insist on mode 0600.
func PublicKey(path string) (*btcec.PublicKey, error) {
	kf, err := read(path, 0)
	if err != nil {
		return nil, err
	}
	return kf.publicKey()
}

// publicKey parses the envelope's public key.
func (kf *file) publicKey() (*btcec.PublicKey, error) {
	pk, err := hex.DecodeString(kf.PublicKey)
	if err != nil || len(pk) != btcec.PubKeyBytesLenCompressed {
		return nil, fmt.Errorf("%w: malformed public key", ErrInvalid)
	}
	// A 33-byte input must start with 02 or 03 and lie on the curve.
	key, err := btcec.ParsePubKey(pk)
	if err != nil {
		return nil, fmt.Errorf("%w: malformed public key", ErrInvalid)
	}
	return key, nil
}

// Load decrypts the keystore at path and returns its key; the caller should
// Zero it when done. Errors wrap ErrIO (unreadable), ErrUnsafeFile (not a
// regular file, or its group or others can access it: chmod 600),
// ErrInvalid (malformed, or the decrypted key does not match the recorded
// public key), ErrWrongPassphrase, or ErrInvalidArgument (an empty
// passphrase).
func Load(path string, passphrase []byte) (*btcec.PrivateKey, error) {
	kf, err := read(path, inputfile.Private)
	if err != nil {
		return nil, err
	}
	return kf.unlock(path, passphrase)
}

// unlock decrypts the envelope read from path (named in errors) with
// passphrase, as Load does.
func (kf *file) unlock(path string, passphrase []byte) (*btcec.PrivateKey, error) {
	ct, err := base64.StdEncoding.DecodeString(kf.Ciphertext)
	if err != nil {
		return nil, fmt.Errorf("%w: malformed ciphertext", ErrInvalid)
	}
	id, err := age.NewScryptIdentity(string(passphrase))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidArgument, err)
	}
	// Step 1: decrypt. Only age's "no identity matched" means a wrong
	// passphrase; anything else is a damaged file.
	r, err := age.Decrypt(bytes.NewReader(ct), id)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			return nil, fmt.Errorf("%w for keystore %s", ErrWrongPassphrase, path)
		}
		return nil, fmt.Errorf("%w: cannot decrypt: %v", ErrInvalid, err)
	}
	// Step 2: the payload is exactly 32 bytes (reading 33 proves there is
	// no 33rd), a scalar in [1, n-1].
	var raw [33]byte
	defer clear(raw[:])
	n, err := io.ReadFull(r, raw[:])
	if err != io.ErrUnexpectedEOF || n != 32 {
		return nil, fmt.Errorf("%w: decrypted payload is not a 32-byte key", ErrInvalid)
	}
	var d btcec.ModNScalar
	overflow := d.SetByteSlice(raw[:32])
	if overflow || d.IsZero() {
		d.Zero()
		return nil, fmt.Errorf("%w: decrypted payload is not a valid key", ErrInvalid)
	}
	key := btcec.PrivKeyFromScalar(&d)
	d.Zero()
	// Step 3: the key must be the one the envelope names.
	if hex.EncodeToString(key.PubKey().SerializeCompressed()) != kf.PublicKey {
		key.Zero()
		return nil, fmt.Errorf("%w: decrypted key does not match the recorded public key", ErrInvalid)
	}
	return key, nil
}
