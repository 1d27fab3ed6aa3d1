package eots

import (
	"crypto/rand"
	"fmt"
	"io"

	"github.com/btcsuite/btcd/btcec/v2"
	secp256k1 "github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// SecretKeySize is the length of an encoded secret key.
const SecretKeySize = 32

// SecretKey is an EOTS secret key together with its public key, computed once
// so that signing costs a single base-point multiplication. The zero value is
// not usable; construct one with ParseSecretKey, NewSecretKey or
// GenerateSecretKey. A SecretKey is safe for concurrent use by readers; Zero
// must not race with other calls.
type SecretKey struct {
	d    secp256k1.ModNScalar // the key exactly as given (not negated)
	pub  secp256k1.PublicKey  // d·G
	px   [32]byte             // x(d·G)
	odd  bool                 // d·G has odd y
	init bool
}

// ParseSecretKey parses a 32-byte big-endian secret key; it must be in [1, n-1].
func ParseSecretKey(b []byte) (*SecretKey, error) {
	if len(b) != SecretKeySize {
		return nil, fmt.Errorf("%w: secret key must be %d bytes, got %d", ErrInvalidEncoding, SecretKeySize, len(b))
	}
	var d secp256k1.ModNScalar
	if d.SetByteSlice(b) {
		return nil, fmt.Errorf("%w: secret key is not below the curve order", ErrInvalidEncoding)
	}
	defer d.Zero()
	return newSecretKey(&d)
}

// NewSecretKey copies a btcec private key into a SecretKey. The caller's key
// is not modified.
func NewSecretKey(priv *btcec.PrivateKey) (*SecretKey, error) {
	if priv == nil {
		return nil, fmt.Errorf("%w: nil private key", ErrInvalidKey)
	}
	d := priv.Key
	defer d.Zero()
	return newSecretKey(&d)
}

// GenerateSecretKey draws a uniformly random secret key from r (crypto/rand
// when r is nil).
func GenerateSecretKey(r io.Reader) (*SecretKey, error) {
	if r == nil {
		r = rand.Reader
	}
	var buf [32]byte
	defer clear(buf[:])
	for {
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return nil, fmt.Errorf("%w: reading randomness: %v", ErrInvalidKey, err)
		}
		var d secp256k1.ModNScalar
		overflow := d.SetBytes(&buf)
		if overflow == 0 && !d.IsZero() {
			sk, err := newSecretKey(&d)
			d.Zero()
			return sk, err
		}
	}
}

func newSecretKey(d *secp256k1.ModNScalar) (*SecretKey, error) {
	if d.IsZero() {
		return nil, fmt.Errorf("%w: secret key is zero", ErrInvalidKey)
	}
	sk := &SecretKey{d: *d, init: true}
	var p secp256k1.JacobianPoint
	secp256k1.ScalarBaseMultNonConst(d, &p)
	p.ToAffine()
	sk.pub = *secp256k1.NewPublicKey(&p.X, &p.Y)
	p.X.PutBytes(&sk.px)
	sk.odd = p.Y.IsOdd()
	return sk, nil
}

func (sk *SecretKey) valid() bool { return sk != nil && sk.init && !sk.d.IsZero() }

// Bytes returns the 32-byte encoding of the key exactly as it was given (not
// BIP-340 normalised). The caller owns the copy and should clear it.
func (sk *SecretKey) Bytes() [32]byte { return sk.d.Bytes() }

// PubKey returns a copy of the full public key d·G.
func (sk *SecretKey) PubKey() *btcec.PublicKey {
	p := sk.pub
	return &p
}

// XOnly returns the 32-byte x-only (BIP-340) public key.
func (sk *SecretKey) XOnly() [32]byte { return sk.px }

// PrivKey returns a btcec copy of the key (for BIP-340 and tapscript signing).
// The caller should Zero it when done.
func (sk *SecretKey) PrivKey() *btcec.PrivateKey {
	d := sk.d
	defer d.Zero()
	return btcec.PrivKeyFromScalar(&d)
}

// Equal reports whether two keys are the same scalar. Not constant time.
func (sk *SecretKey) Equal(o *SecretKey) bool { return sk.d.Equals(&o.d) }

// Zero overwrites the secret scalar. The key is unusable afterwards.
func (sk *SecretKey) Zero() {
	sk.d.Zero()
	sk.init = false
}

// signingScalar returns d, negated if d·G has odd y (BIP-340 signing step
// "Let d = d' if has_even_y(P), otherwise let d = n - d'"). The caller zeroes it.
func (sk *SecretKey) signingScalar() secp256k1.ModNScalar {
	d := sk.d
	if sk.odd {
		d.Negate()
	}
	return d
}
