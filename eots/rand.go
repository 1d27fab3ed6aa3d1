package eots

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/btcstake/btcstake/internal/secp"
	secp256k1 "github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// RandSize is the length of encoded private and public randomness.
const RandSize = 32

// MaxRandList bounds PublicRandList so a typo cannot allocate gigabytes.
const MaxRandList = 1 << 20

// PrivateRand is an EOTS private randomness (the BIP-340 nonce k). It is
// secret: whoever knows it and one signature made with it knows the key.
type PrivateRand struct {
	k    secp256k1.ModNScalar
	init bool
}

// PublicRand is an EOTS public randomness r = x(k·G): the first half of the
// BIP-340 signature. Values produced by this package and by ParsePublicRand
// are valid x coordinates; verification simply fails for any other value.
type PublicRand [RandSize]byte

// String returns the lowercase hex encoding.
func (r PublicRand) String() string { return hex.EncodeToString(r[:]) }

// ParsePublicRand parses a 32-byte public randomness and checks that it is
// the x coordinate of a curve point (below p, with a square root).
func ParsePublicRand(b []byte) (PublicRand, error) {
	var r PublicRand
	if len(b) != RandSize {
		return r, fmt.Errorf("%w: public randomness must be %d bytes, got %d", ErrInvalidEncoding, RandSize, len(b))
	}
	copy(r[:], b)
	var p secp256k1.JacobianPoint
	if !secp.LiftX((*[32]byte)(&r), &p) {
		return PublicRand{}, fmt.Errorf("%w: public randomness is not the x coordinate of a curve point", ErrInvalidEncoding)
	}
	return r, nil
}

// ParsePrivateRand parses a 32-byte private randomness in [1, n-1].
func ParsePrivateRand(b []byte) (*PrivateRand, error) {
	if len(b) != RandSize {
		return nil, fmt.Errorf("%w: private randomness must be %d bytes, got %d", ErrInvalidEncoding, RandSize, len(b))
	}
	pr := &PrivateRand{init: true}
	if pr.k.SetByteSlice(b) {
		pr.k.Zero()
		return nil, fmt.Errorf("%w: private randomness is not below the curve order", ErrInvalidEncoding)
	}
	if pr.k.IsZero() {
		return nil, fmt.Errorf("%w: private randomness is zero", ErrInvalidRandomness)
	}
	return pr, nil
}

// GeneratePrivateRand draws a uniformly random private randomness from r
// (crypto/rand when r is nil). Finality providers normally use DeriveRand
// instead, so that a restart reproduces the committed randomness.
func GeneratePrivateRand(r io.Reader) (*PrivateRand, error) {
	if r == nil {
		r = rand.Reader
	}
	var buf [32]byte
	defer clear(buf[:])
	for {
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return nil, fmt.Errorf("%w: reading randomness: %v", ErrInvalidRandomness, err)
		}
		pr := &PrivateRand{init: true}
		if pr.k.SetBytes(&buf) == 0 && !pr.k.IsZero() {
			return pr, nil
		}
		pr.k.Zero()
	}
}

func (k *PrivateRand) valid() bool { return k != nil && k.init && !k.k.IsZero() }

// Bytes returns the 32-byte encoding. The caller owns the copy and should
// clear it.
func (k *PrivateRand) Bytes() [32]byte { return k.k.Bytes() }

// PublicRand returns r = x(k·G). It costs one base-point multiplication.
func (k *PrivateRand) PublicRand() PublicRand {
	var p secp256k1.JacobianPoint
	secp256k1.ScalarBaseMultNonConst(&k.k, &p)
	p.ToAffine()
	var r PublicRand
	p.X.PutBytes((*[32]byte)(&r))
	return r
}

// Zero overwrites the secret nonce. The value is unusable afterwards.
func (k *PrivateRand) Zero() {
	k.k.Zero()
	k.init = false
}

// deriver computes per-height randomness: HMAC-SHA256 (RFC 2104) written
// out over stack buffers, so that it does not allocate and the key pads can
// be cleared afterwards (crypto/hmac keeps its copies of the key until they
// are garbage collected).
type deriver struct {
	ipad, opad [64]byte // key XOR 0x36.., key XOR 0x5c.. (the key is 32 bytes)
	chainID    []byte
}

func newDeriver(sk *SecretKey, chainID []byte) *deriver {
	key := sk.d.Bytes()
	dv := &deriver{chainID: chainID}
	for i := range dv.ipad {
		var k byte
		if i < len(key) {
			k = key[i]
		}
		dv.ipad[i] = k ^ 0x36
		dv.opad[i] = k ^ 0x5c
	}
	clear(key[:])
	return dv
}

// zero clears the key pads.
func (dv *deriver) zero() {
	clear(dv.ipad[:])
	clear(dv.opad[:])
}

// derive implements docs/spec.md §7, per-height randomness:
// k = HMAC-SHA256(key = sk, data = BE64(height) || chainID || BE64(iter)) for
// iter = 0, 1, ..., the first digest that is nonzero and below n.
func (dv *deriver) derive(height uint64, out *secp256k1.ModNScalar) {
	var stack [64 + 8 + 128 + 8]byte
	var inner []byte
	if need := 64 + 16 + len(dv.chainID); need <= len(stack) {
		inner = stack[:need]
	} else {
		inner = make([]byte, need)
	}
	copy(inner, dv.ipad[:])
	binary.BigEndian.PutUint64(inner[64:], height)
	copy(inner[72:], dv.chainID)
	var outer [64 + 32]byte
	copy(outer[:], dv.opad[:])
	for iter := uint64(0); ; iter++ {
		binary.BigEndian.PutUint64(inner[len(inner)-8:], iter)
		ih := sha256.Sum256(inner)
		copy(outer[64:], ih[:])
		digest := sha256.Sum256(outer[:])
		overflow := out.SetBytes(&digest)
		clear(digest[:])
		clear(ih[:])
		if overflow == 0 && !out.IsZero() {
			break
		}
	}
	clear(inner[:64])
	clear(outer[:])
}

// DeriveRand returns the private randomness of sk for one block height on
// one chain (docs/spec.md §7). It is deterministic, so a restarted
// finality provider reproduces the randomness it committed to. The public
// randomness is k.PublicRand().
func DeriveRand(sk *SecretKey, chainID []byte, height uint64) (*PrivateRand, error) {
	if !sk.valid() {
		return nil, fmt.Errorf("%w: missing or zeroed secret key", ErrInvalidKey)
	}
	pr := &PrivateRand{init: true}
	dv := newDeriver(sk, chainID)
	dv.derive(height, &pr.k)
	dv.zero()
	return pr, nil
}

// PublicRandList returns the public randomness of sk for count heights
// start, start+step, start+2·step, ... (step 1 lists every height), in height
// order: the list a finality provider commits to with CommitProofs. Each
// value costs one base-point multiplication.
func PublicRandList(sk *SecretKey, chainID []byte, start, count, step uint64) ([]PublicRand, error) {
	if !sk.valid() {
		return nil, fmt.Errorf("%w: missing or zeroed secret key", ErrInvalidKey)
	}
	if count == 0 || count > MaxRandList {
		return nil, fmt.Errorf("%w: count must be in [1, %d], got %d", ErrInvalidArgument, MaxRandList, count)
	}
	if step == 0 {
		return nil, fmt.Errorf("%w: step must be at least 1", ErrInvalidArgument)
	}
	if (count - 1) > (^uint64(0)-start)/step {
		return nil, fmt.Errorf("%w: height range overflows uint64", ErrInvalidArgument)
	}
	dv := newDeriver(sk, chainID)
	out := make([]PublicRand, count)
	var k secp256k1.ModNScalar
	var p secp256k1.JacobianPoint
	for i := uint64(0); i < count; i++ {
		dv.derive(start+i*step, &k)
		secp256k1.ScalarBaseMultNonConst(&k, &p)
		p.ToAffine()
		p.X.PutBytes((*[32]byte)(&out[i]))
	}
	k.Zero()
	dv.zero()
	return out, nil
}
