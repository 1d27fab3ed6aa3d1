package adaptor

import "errors"

// Error kinds; every error from this package wraps one of them.
var (
	// ErrInvalidEncoding: wrong length, a scalar >= n, a point not on the
	// curve, a bad prefix or flag byte.
	ErrInvalidEncoding = errors.New("invalid encoding")
	// ErrInvalidKey: a missing or zero key.
	ErrInvalidKey = errors.New("invalid key")
	// ErrInvalidSignature: an adaptor signature does not verify (EncVerify),
	// or a decrypted signature is not a valid BIP-340 signature.
	ErrInvalidSignature = errors.New("invalid adaptor signature")
	// ErrNotExtractable: a completed signature was not decrypted from the
	// given adaptor signature, or the extracted key does not match the
	// encryption key.
	ErrNotExtractable = errors.New("cannot extract decryption key")
)
