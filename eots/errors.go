package eots

import "errors"

// Error kinds. Every error returned by this package wraps exactly one of these
// (Extract may wrap two: ErrNotExtractable and the cause), so callers can
// branch with errors.Is. Error texts never contain secret material.
var (
	// ErrInvalidEncoding: a byte string has the wrong length or encodes a value
	// out of range (a scalar >= n, a coordinate >= p, a point not on the curve).
	ErrInvalidEncoding = errors.New("invalid encoding")
	// ErrInvalidKey: a secret key is zero or missing, or a public key is missing.
	ErrInvalidKey = errors.New("invalid key")
	// ErrInvalidRandomness: a private randomness is zero or missing.
	ErrInvalidRandomness = errors.New("invalid randomness")
	// ErrInvalidSignature: a signature does not verify.
	ErrInvalidSignature = errors.New("invalid signature")
	// ErrNotExtractable: the two signatures given to Extract cannot leak the
	// key (same message, different randomness, or an invalid signature).
	ErrNotExtractable = errors.New("signatures cannot leak the key")
	// ErrInvalidProof: a Merkle inclusion proof is malformed or does not lead
	// to the expected root.
	ErrInvalidProof = errors.New("invalid merkle proof")
	// ErrSigningFault: a signature just computed failed its own BIP-340
	// verification (a fault in the computation: hardware, memory or a bug).
	// It was withheld; nothing was returned.
	ErrSigningFault = errors.New("signing fault")
	// ErrInvalidArgument: a count, step or height range is out of bounds.
	ErrInvalidArgument = errors.New("invalid argument")
)
