package keystore

import "errors"

// Error kinds. Every error this package returns wraps exactly one of them
// (branch with errors.Is); ErrIO also wraps the operating system's error, so
// errors.Is(err, fs.ErrNotExist) works too. Error texts name the file but
// never contain the passphrase or key material.
var (
	// ErrWrongPassphrase: the passphrase does not decrypt the keystore. The
	// file itself is well formed.
	ErrWrongPassphrase = errors.New("wrong passphrase")
	// ErrInvalid: the file is not a keystore this package can open: not the
	// JSON envelope, larger than any keystore, an unsupported version, a
	// malformed public key or ciphertext, a decrypted payload that is not a
	// secret key, or a secret key that does not match the recorded public key.
	// For LoadKeyFile, also a plain key file that does not hold one valid
	// hex secret key.
	ErrInvalid = errors.New("invalid keystore")
	// ErrExists: Write refused to replace an existing file (Options.Overwrite
	// was not set). Nothing was written.
	ErrExists = errors.New("file already exists")
	// ErrInvalidArgument: the caller's argument is unusable: an empty
	// passphrase, a work factor out of range, a nil or zeroed key. Nothing was
	// read or written.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrIO: the file system refused to read or write the file (it does not
	// exist, permission denied, a missing directory, a full disk). For Write,
	// an existing keystore at the path is left as it was.
	ErrIO = errors.New("keystore file access failed")
	// ErrEncrypt: age could not encrypt the key (its random source failed)
	// or the envelope could not be encoded. Nothing was written.
	ErrEncrypt = errors.New("encrypting the key failed")
)
