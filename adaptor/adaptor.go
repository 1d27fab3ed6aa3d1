// Package adaptor implements the Schnorr adaptor signatures that covenant
// committee members put on slashing transactions (docs/spec.md §6):
// the secp256k1-zkp schnorr_adaptor construction that Babylon uses, with the
// 65-byte encoding R0 (33, compressed, real parity) || s0 (32). The older
// 66-byte encoding R (33, 02) || s' (32) || needNegation (1) is accepted on
// input and converted.
//
// The encryption key is a finality provider's public key lifted to even y;
// the decryption key is its secret key (negated if its public key has odd
// y). Whoever learns the FP's key (an EOTS double-sign leaks it) decrypts the
// covenant signatures into valid BIP-340 signatures and completes the
// slashing transaction; an FP that completes one itself reveals its key to
// anyone holding the adaptor signature (Extract, RecoverSecretKey).
//
// Nothing here modifies its arguments; secret scalars are zeroed before
// returning. The curve arithmetic is dcrd's variable-time ("NonConst")
// arithmetic, the same btcec's BIP-340 signer uses.
package adaptor

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/btcstake/btcstake/internal/secp"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	secp256k1 "github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// Encoding sizes.
const (
	Size       = 65 // R0 (33) || s0 (32)
	LegacySize = 66 // R (33, 02) || s' (32) || needNegation (1)
)

// Signature is an adaptor signature (a "pre-signature"): the nonce point
// R0 = k0·G + T with its real parity, and s0. It is immutable.
type Signature struct {
	r0 secp256k1.JacobianPoint // affine
	s0 secp256k1.ModNScalar
}

// Parse decodes a 65-byte adaptor signature, or the legacy 66-byte form
// (converted: R0 takes R's x with odd y iff needNegation, s0 = s').
func Parse(b []byte) (*Signature, error) {
	var sig Signature
	switch len(b) {
	case Size:
		if b[0] != 0x02 && b[0] != 0x03 {
			return nil, fmt.Errorf("%w: R0 must be a compressed point (02 or 03 prefix)", ErrInvalidEncoding)
		}
		if !liftXParity(b[1:33], b[0] == 0x03, &sig.r0) {
			return nil, fmt.Errorf("%w: R0 is not a curve point", ErrInvalidEncoding)
		}
		if sig.s0.SetByteSlice(b[33:65]) {
			return nil, fmt.Errorf("%w: s0 is not below the curve order", ErrInvalidEncoding)
		}
	case LegacySize:
		if b[0] != 0x02 {
			return nil, fmt.Errorf("%w: legacy R must have prefix 02", ErrInvalidEncoding)
		}
		if b[65] > 1 {
			return nil, fmt.Errorf("%w: legacy needNegation flag must be 00 or 01", ErrInvalidEncoding)
		}
		if !liftXParity(b[1:33], b[65] == 1, &sig.r0) {
			return nil, fmt.Errorf("%w: legacy R is not a curve point", ErrInvalidEncoding)
		}
		if sig.s0.SetByteSlice(b[33:65]) {
			return nil, fmt.Errorf("%w: legacy s' is not below the curve order", ErrInvalidEncoding)
		}
	default:
		return nil, fmt.Errorf("%w: adaptor signature must be %d bytes (or %d legacy), got %d", ErrInvalidEncoding, Size, LegacySize, len(b))
	}
	return &sig, nil
}

func liftXParity(x []byte, odd bool, out *secp256k1.JacobianPoint) bool {
	if !secp.LiftX((*[32]byte)(x), out) {
		return false
	}
	if odd {
		secp.Negate(out)
	}
	return true
}

// Bytes returns the 65-byte encoding.
func (s *Signature) Bytes() [Size]byte {
	var out [Size]byte
	out[0] = 0x02
	if s.r0.Y.IsOdd() {
		out[0] = 0x03
	}
	s.r0.X.PutBytesUnchecked(out[1:33])
	s.s0.PutBytesUnchecked(out[33:])
	return out
}

// String returns the hex of the 65-byte encoding.
func (s *Signature) String() string {
	b := s.Bytes()
	return hex.EncodeToString(b[:])
}

// EncryptionKey is the adaptor point T. For Babylon it is an FP public key
// lifted to even y (NewEncryptionKey, ParseEncryptionKey); any point is
// possible with NewEncryptionKeyFromPoint, as in the secp256k1-zkp module.
type EncryptionKey struct {
	t secp256k1.JacobianPoint // affine
}

// NewEncryptionKey returns T = lift_x(x(pk)) (docs/spec.md §6).
func NewEncryptionKey(pk *btcec.PublicKey) (*EncryptionKey, error) {
	if pk == nil || !pk.IsOnCurve() {
		return nil, fmt.Errorf("%w: missing public key or not a curve point", ErrInvalidKey)
	}
	p, _ := secp.EvenKey(pk)
	return &EncryptionKey{t: p}, nil
}

// NewEncryptionKeyFromPoint uses pk itself, with its parity, as the adaptor
// point T (the general secp256k1-zkp schnorr_adaptor form; its decryption
// key is the exact discrete log of pk, not normalised). Babylon's covenant
// signatures use NewEncryptionKey instead.
func NewEncryptionKeyFromPoint(pk *btcec.PublicKey) (*EncryptionKey, error) {
	if pk == nil || !pk.IsOnCurve() {
		return nil, fmt.Errorf("%w: missing public key or not a curve point", ErrInvalidKey)
	}
	var ek EncryptionKey
	pk.AsJacobian(&ek.t)
	return &ek, nil
}

// ParseEncryptionKey parses a 32-byte x-only or 33-byte compressed FP public
// key; either way T has even y.
func ParseEncryptionKey(b []byte) (*EncryptionKey, error) {
	var ek EncryptionKey
	switch {
	case len(b) == 32:
	case len(b) == 33 && (b[0] == 0x02 || b[0] == 0x03):
		b = b[1:]
	default:
		return nil, fmt.Errorf("%w: encryption key must be 32 bytes x-only or 33 bytes compressed, got %d", ErrInvalidEncoding, len(b))
	}
	if !secp.LiftX((*[32]byte)(b), &ek.t) {
		return nil, fmt.Errorf("%w: encryption key is not a curve point", ErrInvalidEncoding)
	}
	return &ek, nil
}

// Bytes returns the 32-byte x-only encoding of T.
func (ek *EncryptionKey) Bytes() [32]byte {
	var out [32]byte
	ek.t.X.PutBytes(&out)
	return out
}

// Compressed returns T as 33 bytes (02 || x for every key from
// NewEncryptionKey or ParseEncryptionKey).
func (ek *EncryptionKey) Compressed() [33]byte {
	var out [33]byte
	out[0] = 0x02
	if ek.t.Y.IsOdd() {
		out[0] = 0x03
	}
	ek.t.X.PutBytesUnchecked(out[1:])
	return out
}

// PubKey returns T as a btcec public key.
func (ek *EncryptionKey) PubKey() *btcec.PublicKey {
	return secp256k1.NewPublicKey(&ek.t.X, &ek.t.Y)
}

// DecryptionKey is t with t·G = T: an FP secret key, negated when the FP
// public key has odd y.
type DecryptionKey struct {
	t secp256k1.ModNScalar
}

// NewDecryptionKey derives the decryption key from an FP secret key; the
// caller's key is not modified.
func NewDecryptionKey(sk *btcec.PrivateKey) (*DecryptionKey, error) {
	if sk == nil || sk.Key.IsZero() {
		return nil, fmt.Errorf("%w: missing or zero secret key", ErrInvalidKey)
	}
	dk := &DecryptionKey{t: sk.Key}
	var p secp256k1.JacobianPoint
	secp256k1.ScalarBaseMultNonConst(&dk.t, &p)
	p.ToAffine()
	if p.Y.IsOdd() {
		dk.t.Negate()
	}
	return dk, nil
}

// ParseDecryptionKey parses a 32-byte FP secret key into a decryption key.
func ParseDecryptionKey(b []byte) (*DecryptionKey, error) {
	if len(b) != 32 {
		return nil, fmt.Errorf("%w: secret key must be 32 bytes, got %d", ErrInvalidEncoding, len(b))
	}
	var d secp256k1.ModNScalar
	if d.SetByteSlice(b) {
		return nil, fmt.Errorf("%w: secret key is not below the curve order", ErrInvalidEncoding)
	}
	defer d.Zero()
	return NewDecryptionKey(secp256k1.NewPrivateKey(&d))
}

// Bytes returns t (the BIP-340-normalised FP secret key). The caller owns
// the copy and should clear it.
func (dk *DecryptionKey) Bytes() [32]byte { return dk.t.Bytes() }

// EncryptionKey returns T = t·G.
func (dk *DecryptionKey) EncryptionKey() *EncryptionKey {
	var ek EncryptionKey
	secp256k1.ScalarBaseMultNonConst(&dk.t, &ek.t)
	ek.t.ToAffine()
	return &ek
}

// Zero overwrites the secret.
func (dk *DecryptionKey) Zero() { dk.t.Zero() }

func checkHash(m []byte) error {
	if len(m) != 32 {
		return fmt.Errorf("%w: message hash must be 32 bytes, got %d", ErrInvalidEncoding, len(m))
	}
	return nil
}

// EncSign creates an adaptor signature on the 32-byte msgHash (a tapscript
// sighash) with secret key sk, encrypted under ek, with fresh auxiliary
// randomness from crypto/rand.
func EncSign(sk *btcec.PrivateKey, ek *EncryptionKey, msgHash []byte) (*Signature, error) {
	var aux [32]byte
	if _, err := io.ReadFull(rand.Reader, aux[:]); err != nil {
		return nil, fmt.Errorf("%w: reading randomness: %v", ErrInvalidKey, err)
	}
	return EncSignAux(sk, ek, msgHash, aux)
}

// EncSignAux is EncSign with caller-supplied auxiliary randomness; the
// result is deterministic in its inputs (for tests and reproducible tools).
// docs/spec.md §6; secp256k1-zkp schnorr_adaptor presign.
func EncSignAux(sk *btcec.PrivateKey, ek *EncryptionKey, msgHash []byte, aux [32]byte) (*Signature, error) {
	if err := checkHash(msgHash); err != nil {
		return nil, err
	}
	if sk == nil || sk.Key.IsZero() {
		return nil, fmt.Errorf("%w: missing or zero secret key", ErrInvalidKey)
	}
	if ek == nil {
		return nil, fmt.Errorf("%w: nil encryption key", ErrInvalidKey)
	}
	// Step 1: P = d'·G; d = d' if P has even y, else n - d'.
	d := sk.Key
	defer d.Zero()
	var P secp256k1.JacobianPoint
	secp256k1.ScalarBaseMultNonConst(&d, &P)
	P.ToAffine()
	if P.Y.IsOdd() {
		d.Negate()
	}
	var px [32]byte
	P.X.PutBytes(&px)
	// Step 2: k0 = int(tagged_hash("SchnorrAdaptor/nonce", (d XOR
	// tagged_hash("SchnorrAdaptor/aux", aux)) || T33 || x(P) || m)) mod n.
	db := d.Bytes()
	t33 := ek.Compressed()
	nonce := secp.AdaptorNonce(&db, &aux, &t33, &px, (*[32]byte)(msgHash))
	clear(db[:])
	var k secp256k1.ModNScalar
	k.SetBytes(&nonce)
	clear(nonce[:])
	defer k.Zero()
	if k.IsZero() {
		return nil, fmt.Errorf("%w: derived nonce is zero", ErrInvalidKey)
	}
	// Step 3: R = k0·G; R0 = R + T.
	var R, R0 secp256k1.JacobianPoint
	secp256k1.ScalarBaseMultNonConst(&k, &R)
	secp256k1.AddNonConst(&R, &ek.t, &R0)
	if secp.IsInfinity(&R0) {
		return nil, fmt.Errorf("%w: R0 is the point at infinity", ErrInvalidKey)
	}
	R0.ToAffine()
	// Step 4: k = k0, or n - k0 if R0 has odd y.
	if R0.Y.IsOdd() {
		k.Negate()
	}
	// Step 5: e = challenge(x(R0), x(P), m); s0 = k + e·d.
	var rx [32]byte
	R0.X.PutBytes(&rx)
	e := secp.Challenge(&rx, &px, msgHash)
	e.Mul(&d).Add(&k)
	sig := &Signature{r0: R0, s0: e}
	e.Zero()
	return sig, nil
}

// EncVerify checks that sig is an adaptor signature by pk on msgHash
// encrypted under ek (docs/spec.md §6). It returns nil or an error
// wrapping ErrInvalidSignature.
func EncVerify(pk *btcec.PublicKey, ek *EncryptionKey, msgHash []byte, sig *Signature) error {
	if err := checkHash(msgHash); err != nil {
		return err
	}
	if pk == nil || ek == nil || sig == nil || !pk.IsOnCurve() {
		return fmt.Errorf("%w: missing argument or public key not a curve point", ErrInvalidKey)
	}
	// Step 1: P = lift_x(x(pk)); e = challenge(x(R0), x(P), m).
	P, px := secp.EvenKey(pk)
	var rx [32]byte
	sig.r0.X.PutBytes(&rx)
	e := secp.Challenge(&rx, &px, msgHash)
	// Step 2: R = s0·G - e·P, one joint multiplication (variable time:
	// every input is public).
	e.Negate()
	var R secp256k1.JacobianPoint
	secp.JointMult(&R, &sig.s0, &e, &P)
	if secp.IsInfinity(&R) {
		return fmt.Errorf("%w: s0·G - e·P is the point at infinity", ErrInvalidSignature)
	}
	// Step 3: T' = R0 - R if R0 has even y, else R0 + R (R in Jacobian
	// coordinates; R0 affine, so a mixed addition).
	if !sig.r0.Y.IsOdd() {
		R.Y.Negate(1).Normalize()
	}
	var T secp256k1.JacobianPoint
	secp256k1.AddNonConst(&R, &sig.r0, &T)
	if secp.IsInfinity(&T) {
		return fmt.Errorf("%w: recovered adaptor point is infinity", ErrInvalidSignature)
	}
	// Step 4: require T' == T, compared without leaving Jacobian
	// coordinates.
	if !secp.EqualAffine(&T, &ek.t) {
		return fmt.Errorf("%w: signature does not match this key, encryption key and message", ErrInvalidSignature)
	}
	return nil
}

// Decrypt turns an adaptor signature into the BIP-340 signature
// x(R0) || s with s = s0 + t if R0 has even y, s0 - t if odd (docs/spec.md
// section 6). If dk is the decryption key of the encryption key sig was made
// for, the result verifies under the signer's key; Decrypt does not check it.
func Decrypt(sig *Signature, dk *DecryptionKey) (*schnorr.Signature, error) {
	if sig == nil {
		return nil, fmt.Errorf("%w: nil adaptor signature", ErrInvalidEncoding)
	}
	if dk == nil || dk.t.IsZero() {
		return nil, fmt.Errorf("%w: missing or zero decryption key", ErrInvalidKey)
	}
	t := dk.t
	defer t.Zero()
	if sig.r0.Y.IsOdd() {
		t.Negate()
	}
	s := sig.s0
	s.Add(&t)
	out := schnorr.NewSignature(&sig.r0.X, &s)
	s.Zero()
	return out, nil
}

// Extract recovers the decryption key from an adaptor signature and the
// BIP-340 signature decrypted from it: t = s - s0 if R0 has even y, s0 - s if
// odd (docs/spec.md §6). It checks t·G == T for the given encryption
// key (ErrNotExtractable otherwise).
func Extract(sig *Signature, decrypted *schnorr.Signature, ek *EncryptionKey) (*DecryptionKey, error) {
	if sig == nil || decrypted == nil || ek == nil {
		return nil, fmt.Errorf("%w: nil argument", ErrInvalidKey)
	}
	raw := decrypted.Serialize()
	// Step 1: the decrypted signature must carry R0's x coordinate.
	var rx [32]byte
	sig.r0.X.PutBytes(&rx)
	if [32]byte(raw[:32]) != rx {
		return nil, fmt.Errorf("%w: signature nonce differs from the adaptor signature's R0", ErrNotExtractable)
	}
	var s secp256k1.ModNScalar
	if s.SetByteSlice(raw[32:64]) {
		return nil, fmt.Errorf("%w: signature scalar is not below the curve order", ErrInvalidEncoding)
	}
	// Step 2: t = s - s0, negated if R0 has odd y.
	s0 := sig.s0
	s0.Negate()
	dk := &DecryptionKey{t: s}
	dk.t.Add(&s0)
	s.Zero()
	if sig.r0.Y.IsOdd() {
		dk.t.Negate()
	}
	// Step 3: check t·G == T.
	var T secp256k1.JacobianPoint
	secp256k1.ScalarBaseMultNonConst(&dk.t, &T)
	T.ToAffine()
	if dk.t.IsZero() || !secp.Equal(&T, &ek.t) {
		dk.Zero()
		return nil, fmt.Errorf("%w: extracted value does not match the encryption key", ErrNotExtractable)
	}
	return dk, nil
}

// RecoverSecretKey recovers a finality provider's secret key from a
// covenant adaptor signature encrypted under its key and the completed
// BIP-340 signature found in a slashing transaction's witness. The returned
// key satisfies sk·G == fpPK exactly: pass the 33-byte key to get the actual
// key, an x-only (even-y) key to get the BIP-340-normalised one.
func RecoverSecretKey(sig *Signature, completed *schnorr.Signature, fpPK *btcec.PublicKey) (*btcec.PrivateKey, error) {
	ek, err := NewEncryptionKey(fpPK)
	if err != nil {
		return nil, err
	}
	dk, err := Extract(sig, completed, ek)
	if err != nil {
		return nil, err
	}
	defer dk.Zero()
	t := dk.t
	var full secp256k1.JacobianPoint
	fpPK.AsJacobian(&full)
	if full.Y.IsOdd() {
		t.Negate()
	}
	priv := secp256k1.NewPrivateKey(&t)
	t.Zero()
	return priv, nil
}
