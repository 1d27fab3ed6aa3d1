package signer

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"filippo.io/age"
	"github.com/btcstake/btcstake/eots"
	"github.com/btcstake/btcstake/script"
)

// KeystoreVersion is the version of the keystore file format.
const KeystoreVersion = 1

// DefaultWorkFactor is age's default scrypt work factor (log2 N = 18,
// about a second and 256 MiB per unlock).
const DefaultWorkFactor = 18

// maxWorkFactor is the largest work factor LoadKeystore unlocks: age's
// scrypt identity refuses anything above 22 (and SetWorkFactor panics above
// 30), so a keystore written with more could never be opened.
const maxWorkFactor = 22

// keystoreFile is the on-disk JSON envelope. The public key is in the clear
// so "show" needs no passphrase; on unlock it must match the decrypted key.
// Ciphertext is age (scrypt recipient) encryption of the 32-byte secret key.
type keystoreFile struct {
	Version    int    `json:"version"`
	PublicKey  string `json:"public_key"`
	Created    string `json:"created"`
	Ciphertext string `json:"age_scrypt"`
}

// KeystoreOptions tunes keystore creation.
type KeystoreOptions struct {
	// WorkFactor is scrypt's log2 N in [1, 22]; 0 means DefaultWorkFactor.
	// Tests use small values; production should keep the default.
	WorkFactor int
	// Overwrite allows replacing an existing file (import --force).
	Overwrite bool
}

// WriteKeystore encrypts sk with passphrase and writes it atomically to
// path with mode 0600. It refuses to overwrite an existing file unless
// opts.Overwrite is set. A nil or zeroed key is refused (ErrInvalidArgument)
// before anything is written: it would replace a good keystore with one that
// never unlocks.
func WriteKeystore(path string, sk *eots.SecretKey, passphrase []byte, opts KeystoreOptions) error {
	if len(passphrase) == 0 {
		return fmt.Errorf("%w: empty passphrase", ErrInvalidArgument)
	}
	wf := opts.WorkFactor
	if wf == 0 {
		wf = DefaultWorkFactor
	}
	if wf < 1 || wf > maxWorkFactor {
		return fmt.Errorf("%w: scrypt work factor must be in [1, %d], got %d", ErrInvalidArgument, maxWorkFactor, wf)
	}
	if sk == nil {
		return fmt.Errorf("%w: nil secret key", ErrInvalidArgument)
	}
	// Step 1: re-parse the key's bytes: a zeroed key (Zero) encodes as 0,
	// which ParseSecretKey rejects. The public key written in the clear is
	// then computed from the very scalar that gets encrypted.
	raw := sk.Bytes()
	own, err := eots.ParseSecretKey(raw[:])
	clear(raw[:])
	if err != nil {
		return fmt.Errorf("%w: unusable secret key (zero or zeroed)", ErrInvalidArgument)
	}
	defer own.Zero()
	rcpt, err := age.NewScryptRecipient(string(passphrase))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidArgument, err)
	}
	rcpt.SetWorkFactor(wf)
	var ct bytes.Buffer
	w, err := age.Encrypt(&ct, rcpt)
	if err != nil {
		return err
	}
	raw = own.Bytes()
	_, err = w.Write(raw[:])
	clear(raw[:])
	if err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	pk := own.PubKey().SerializeCompressed()
	data, err := json.MarshalIndent(keystoreFile{
		Version:    KeystoreVersion,
		PublicKey:  hex.EncodeToString(pk),
		Created:    time.Now().UTC().Format(time.RFC3339),
		Ciphertext: base64.StdEncoding.EncodeToString(ct.Bytes()),
	}, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(data, '\n'), !opts.Overwrite)
}

// maxKeystoreSize bounds how much of a keystore path is read: a real one is
// well under 1 KiB, and a path like /dev/zero must not exhaust memory.
const maxKeystoreSize = 64 << 10

func readKeystoreFile(path string) (*keystoreFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeystore, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeystoreSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeystore, err)
	}
	if len(data) > maxKeystoreSize {
		return nil, fmt.Errorf("%w: %s is larger than any keystore (over %d bytes)", ErrKeystore, path, maxKeystoreSize)
	}
	var kf keystoreFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&kf); err != nil {
		return nil, fmt.Errorf("%w: %s is not a keystore file", ErrKeystore, path)
	}
	if kf.Version != KeystoreVersion {
		return nil, fmt.Errorf("%w: unsupported keystore version %d", ErrKeystore, kf.Version)
	}
	return &kf, nil
}

// KeystorePublicKey returns the public key recorded in a keystore file
// (33-byte compressed) without decrypting it.
func KeystorePublicKey(path string) ([]byte, error) {
	kf, err := readKeystoreFile(path)
	if err != nil {
		return nil, err
	}
	pk, err := hex.DecodeString(kf.PublicKey)
	if err != nil || len(pk) != 33 {
		return nil, fmt.Errorf("%w: malformed public key", ErrKeystore)
	}
	if _, err := script.ParsePublicKey(pk); err != nil {
		return nil, fmt.Errorf("%w: malformed public key", ErrKeystore)
	}
	return pk, nil
}

// LoadKeystore decrypts the key in path. A wrong passphrase gives
// ErrWrongPassphrase; a file whose key does not match its recorded public
// key gives ErrKeystore.
func LoadKeystore(path string, passphrase []byte) (*eots.SecretKey, error) {
	kf, err := readKeystoreFile(path)
	if err != nil {
		return nil, err
	}
	ct, err := base64.StdEncoding.DecodeString(kf.Ciphertext)
	if err != nil {
		return nil, fmt.Errorf("%w: malformed ciphertext", ErrKeystore)
	}
	id, err := age.NewScryptIdentity(string(passphrase))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidArgument, err)
	}
	r, err := age.Decrypt(bytes.NewReader(ct), id)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			return nil, fmt.Errorf("%w for keystore %s", ErrWrongPassphrase, path)
		}
		return nil, fmt.Errorf("%w: cannot decrypt: %v", ErrKeystore, err)
	}
	var raw [33]byte
	n, err := io.ReadFull(r, raw[:])
	defer clear(raw[:])
	if err != io.ErrUnexpectedEOF || n != 32 {
		return nil, fmt.Errorf("%w: decrypted payload is not a 32-byte key", ErrKeystore)
	}
	sk, err := eots.ParseSecretKey(raw[:32])
	if err != nil {
		return nil, fmt.Errorf("%w: decrypted payload is not a valid key", ErrKeystore)
	}
	if hex.EncodeToString(sk.PubKey().SerializeCompressed()) != kf.PublicKey {
		sk.Zero()
		return nil, fmt.Errorf("%w: decrypted key does not match the recorded public key", ErrKeystore)
	}
	return sk, nil
}
