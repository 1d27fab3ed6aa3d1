package eots

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/btcstake/btcstake/internal/secp"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	secp256k1 "github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// SignatureSize is the length of an EOTS signature (the scalar s).
const SignatureSize = 32

// Signature is an EOTS signature: the 32-byte scalar s. Together with the
// public randomness r it forms the BIP-340 signature r || s over sha256(msg).
type Signature [SignatureSize]byte

// String returns the lowercase hex encoding.
func (s Signature) String() string { return hex.EncodeToString(s[:]) }

// ParseSignature parses a 32-byte signature; s must be below n.
func ParseSignature(b []byte) (Signature, error) {
	var s Signature
	if len(b) != SignatureSize {
		return s, fmt.Errorf("%w: signature must be %d bytes, got %d", ErrInvalidEncoding, SignatureSize, len(b))
	}
	var sc secp256k1.ModNScalar
	if sc.SetByteSlice(b) {
		return s, fmt.Errorf("%w: signature scalar is not below the curve order", ErrInvalidEncoding)
	}
	copy(s[:], b)
	return s, nil
}

// BIP340 returns r || s as a btcec BIP-340 signature, or ErrInvalidEncoding
// if r >= p or s >= n.
func (s Signature) BIP340(r PublicRand) (*schnorr.Signature, error) {
	var b [64]byte
	copy(b[:32], r[:])
	copy(b[32:], s[:])
	sig, err := schnorr.ParseSignature(b[:])
	if err != nil {
		return nil, fmt.Errorf("%w: r || s is not a well-formed BIP-340 signature", ErrInvalidEncoding)
	}
	return sig, nil
}

// Sign returns the EOTS signature of msg with secret key sk and private
// randomness k (docs/spec.md §7). The message is hashed with SHA-256
// inside, as in Babylon. Signing costs one base-point multiplication (k·G)
// (the public key is cached in sk), and then a BIP-340 verification of the
// result, as BIP-340 and btcec's schnorr.Sign do: a signature that does not
// verify is withheld and the error wraps ErrSigningFault. Signing two
// different messages with the same k reveals sk: use the slashing-protected
// signer (eots/signer) for anything but tests.
func Sign(sk *SecretKey, k *PrivateRand, msg []byte) (Signature, error) {
	h := sha256.Sum256(msg)
	_, s, err := signHash(sk, k, h[:])
	return s, err
}

// SignWithPublicRand is Sign that also returns the public randomness r,
// computed from the same k·G (no second base-point multiplication); r || s
// is the BIP-340 signature.
func SignWithPublicRand(sk *SecretKey, k *PrivateRand, msg []byte) (PublicRand, Signature, error) {
	h := sha256.Sum256(msg)
	return signHash(sk, k, h[:])
}

// SignHash is Sign for a message that is already hashed to 32 bytes.
func SignHash(sk *SecretKey, k *PrivateRand, hash [32]byte) (Signature, error) {
	_, s, err := signHash(sk, k, hash[:])
	return s, err
}

// signHash signs the (already hashed) message m, BIP-340 style with a given
// nonce, and verifies the result before returning it (BIP-340's final
// signing step); m may have any length (BIP-340 test vectors use a few).
func signHash(sk *SecretKey, k *PrivateRand, m []byte) (PublicRand, Signature, error) {
	return signHashChecked(sk, k, m, nil)
}

// signHashChecked is signHash with a seam for tests: fault, when not nil,
// alters (r, s) between signing and verification, as a fault in the
// computation would. Production code always passes nil.
func signHashChecked(sk *SecretKey, k *PrivateRand, m []byte, fault func(*PublicRand, *Signature)) (PublicRand, Signature, error) {
	r, s, err := signHashUnverified(sk, k, m)
	if err != nil {
		return r, s, err
	}
	if fault != nil {
		// Copies, so that r and s themselves stay on the stack.
		fr, fs := r, s
		fault(&fr, &fs)
		r, s = fr, fs
	}
	// Step 5 (BIP-340 sign): "If Verify(bytes(P), m, sig) returns failure,
	// abort." A signature that does not verify comes from a fault (hardware,
	// memory, a bug); it may leak the key, so it is withheld, not returned.
	if verr := verifyHash(&sk.pub, &r, m, &s); verr != nil {
		return PublicRand{}, Signature{}, fmt.Errorf("%w: the signature failed its own BIP-340 verification and was withheld", ErrSigningFault)
	}
	return r, s, nil
}

// signHashUnverified computes the signature (steps 1-4) without the final
// verification; only signHashChecked and the benchmark that measures the
// verification's cost call it. The computation is the build's backend:
// signHashGo by default, libsecp256k1 with that build tag.
func signHashUnverified(sk *SecretKey, k *PrivateRand, m []byte) (PublicRand, Signature, error) {
	if !sk.valid() {
		return PublicRand{}, Signature{}, fmt.Errorf("%w: missing or zeroed secret key", ErrInvalidKey)
	}
	if !k.valid() {
		return PublicRand{}, Signature{}, fmt.Errorf("%w: missing or zeroed private randomness", ErrInvalidRandomness)
	}
	return signHashBackend(sk, k, m)
}

// signHashGo is BIP-340 signing steps 1-4 in pure Go, for a valid sk and k.
func signHashGo(sk *SecretKey, k *PrivateRand, m []byte) (PublicRand, Signature) {
	var r PublicRand
	var s Signature
	// Step 1 (BIP-340 sign): d = d' if has_even_y(P), else n - d'. P is cached.
	d := sk.signingScalar()
	defer d.Zero()
	// Step 2: R = k'·G; k = k' if has_even_y(R), else n - k'. The caller's k
	// is copied, never negated in place.
	kk := k.k
	defer kk.Zero()
	var R secp256k1.JacobianPoint
	secp256k1.ScalarBaseMultNonConst(&kk, &R)
	R.ToAffine()
	if R.Y.IsOdd() {
		kk.Negate()
	}
	R.X.PutBytes((*[32]byte)(&r))
	// Step 3: e = int(tagged_hash("BIP0340/challenge", r || x(P) || m)) mod n.
	e := secp.Challenge((*[32]byte)(&r), &sk.px, m)
	// Step 4: s = k + e·d mod n.
	e.Mul(&d).Add(&kk)
	e.PutBytes((*[32]byte)(&s))
	e.Zero()
	return r, s
}

// Verify checks an EOTS signature s over msg under public key pk and public
// randomness r (docs/spec.md §7; BIP-340 verification of r || s over
// sha256(msg)). Only x(pk) matters, as in BIP-340. It returns nil or an error
// wrapping ErrInvalidSignature (or ErrInvalidKey for a nil key) with a
// one-line reason.
func Verify(pk *btcec.PublicKey, r PublicRand, msg []byte, s Signature) error {
	h := sha256.Sum256(msg)
	return verifyHash(pk, &r, h[:], &s)
}

// VerifyHash is Verify for a message already hashed to 32 bytes.
func VerifyHash(pk *btcec.PublicKey, r PublicRand, hash [32]byte, s Signature) error {
	return verifyHash(pk, &r, hash[:], &s)
}

func verifyHash(pk *btcec.PublicKey, r *PublicRand, m []byte, s *Signature) error {
	if pk == nil || !pk.IsOnCurve() {
		return fmt.Errorf("%w: missing public key or not a curve point", ErrInvalidKey)
	}
	// BIP-340 verification: P = lift_x(x(pk)) (the even-y view of pk), then
	// r < p, s < n, e = challenge(r, x(P), m), R = s·G - e·P, and R must be
	// finite with even y and x(R) = r (internal/secp: one joint
	// multiplication, variable time on these public values).
	key := secp.NewPubKey(pk)
	return verifyError(secp.VerifyBIP340(&key, (*[32]byte)(r), (*[32]byte)(s), m))
}

// verifyError is the error of a BIP-340 verification result: nil for
// Valid, else ErrInvalidSignature with the failing step.
func verifyError(res secp.Result) error {
	switch res {
	case secp.Valid:
		return nil
	case secp.RNotInField:
		return fmt.Errorf("%w: public randomness is not below the field prime", ErrInvalidSignature)
	case secp.SNotInOrder:
		return fmt.Errorf("%w: signature scalar is not below the curve order", ErrInvalidSignature)
	case secp.RInfinity:
		return fmt.Errorf("%w: s·G - e·P is the point at infinity", ErrInvalidSignature)
	case secp.ROddY:
		return fmt.Errorf("%w: s·G - e·P has odd y", ErrInvalidSignature)
	}
	return fmt.Errorf("%w: signature does not match the public randomness", ErrInvalidSignature)
}

// Extract recovers the secret key from two signatures made with the same
// randomness r over different messages (docs/spec.md §7):
// x = (s1 - s2) / (e1 - e2) mod n. When pk has odd y (a full 33-byte key) the
// actual secret key (x·G == pk) is returned; for an x-only key (even y) the
// BIP-340-normalised one. Inputs that cannot leak the key (the same message,
// a signature made with other randomness, an invalid signature) give an error
// wrapping ErrNotExtractable, and also ErrInvalidSignature when a signature
// does not verify. The inversion is variable time; it handles public values.
func Extract(pk *btcec.PublicKey, r PublicRand, msg1 []byte, s1 Signature, msg2 []byte, s2 Signature) (*SecretKey, error) {
	h1, h2 := sha256.Sum256(msg1), sha256.Sum256(msg2)
	return extractHash(pk, &r, &h1, &s1, &h2, &s2)
}

// ExtractHash is Extract for messages already hashed to 32 bytes.
func ExtractHash(pk *btcec.PublicKey, r PublicRand, hash1 [32]byte, s1 Signature, hash2 [32]byte, s2 Signature) (*SecretKey, error) {
	return extractHash(pk, &r, &hash1, &s1, &hash2, &s2)
}

func extractHash(pk *btcec.PublicKey, r *PublicRand, h1 *[32]byte, s1 *Signature, h2 *[32]byte, s2 *Signature) (*SecretKey, error) {
	if pk == nil || !pk.IsOnCurve() {
		return nil, fmt.Errorf("%w: missing public key or not a curve point", ErrInvalidKey)
	}
	// Step 1: both scalars must be below n.
	var a, b secp256k1.ModNScalar
	if a.SetBytes((*[32]byte)(s1)) != 0 || b.SetBytes((*[32]byte)(s2)) != 0 {
		return nil, fmt.Errorf("%w: %w: a signature scalar is not below the curve order", ErrNotExtractable, ErrInvalidSignature)
	}
	// Step 2: the messages must differ (otherwise e1 == e2).
	if *h1 == *h2 {
		return nil, fmt.Errorf("%w: both signatures are over the same message", ErrNotExtractable)
	}
	// Step 3: e_i = challenge(r, x(P), h_i).
	P, px := secp.EvenKey(pk)
	e1 := secp.Challenge((*[32]byte)(r), &px, h1[:])
	e2 := secp.Challenge((*[32]byte)(r), &px, h2[:])
	// Step 4: x = (s1 - s2) / (e1 - e2) mod n.
	e2.Negate()
	e1.Add(&e2)
	if e1.IsZero() {
		return nil, fmt.Errorf("%w: the two challenges coincide", ErrNotExtractable)
	}
	b.Negate()
	a.Add(&b)
	e1.InverseNonConst()
	x := a.Mul(&e1)
	defer x.Zero()
	// Step 5: check x·G == lift_x(x(P)). If it does not hold, the inputs were
	// not two valid signatures with randomness r; find out which one is bad.
	var X secp256k1.JacobianPoint
	secp256k1.ScalarBaseMultNonConst(x, &X)
	X.ToAffine()
	if x.IsZero() || !secp.Equal(&X, &P) {
		if err := verifyHash(pk, r, h1[:], s1); err != nil {
			return nil, fmt.Errorf("%w: signature 1 does not verify with this key and public randomness: made with other randomness, or invalid (%w)", ErrNotExtractable, err)
		}
		if err := verifyHash(pk, r, h2[:], s2); err != nil {
			return nil, fmt.Errorf("%w: signature 2 does not verify with this key and public randomness: made with other randomness, or invalid (%w)", ErrNotExtractable, err)
		}
		return nil, fmt.Errorf("%w: the signatures are inconsistent", ErrNotExtractable)
	}
	// Step 6: x is the even-y key; negate it if the caller's key has odd y.
	// The public key is already known (X, or pk itself), so no second
	// base-point multiplication is needed.
	var full secp256k1.JacobianPoint
	pk.AsJacobian(&full)
	if full.Y.IsOdd() {
		x.Negate()
		X = full
	}
	sk := &SecretKey{d: *x, pub: *secp256k1.NewPublicKey(&X.X, &X.Y), px: px, odd: X.Y.IsOdd(), init: true}
	return sk, nil
}
