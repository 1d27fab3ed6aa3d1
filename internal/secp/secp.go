// Package secp holds the few BIP-340 building blocks that eots and
// adaptor share: tagged hashes, the challenge, and point helpers over
// github.com/decred/dcrd/dcrec/secp256k1/v4.
//
// Nothing here is constant time: the point operations are the NonConst
// variants of the dcrd library, the same ones btcec's own BIP-340 signer uses.
package secp

import (
	"crypto/sha256"
	"hash"

	secp256k1 "github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// tagPrefix is sha256(tag) || sha256(tag), the BIP-340 tagged-hash prefix.
type tagPrefix [64]byte

func newTag(tag string) tagPrefix {
	h := sha256.Sum256([]byte(tag))
	var p tagPrefix
	copy(p[:32], h[:])
	copy(p[32:], h[:])
	return p
}

var (
	tagChallenge    = newTag("BIP0340/challenge")
	tagAdaptorAux   = newTag("SchnorrAdaptor/aux")
	tagAdaptorNonce = newTag("SchnorrAdaptor/nonce")
)

// TaggedHash returns tagged_hash(tag, parts...) per BIP-340.
func TaggedHash(tag string, parts ...[]byte) [32]byte {
	p := newTag(tag)
	h := sha256.New()
	h.Write(p[:])
	for _, b := range parts {
		h.Write(b)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// Challenge returns e = int(tagged_hash("BIP0340/challenge", r || px || m)) mod n
// (BIP-340, verification step "Let e = ..."). For the common 32-byte message it
// hashes a stack buffer and does not allocate.
func Challenge(r, px *[32]byte, m []byte) secp256k1.ModNScalar {
	var digest [32]byte
	if len(m) == 32 {
		var buf [64 + 32 + 32 + 32]byte
		copy(buf[:64], tagChallenge[:])
		copy(buf[64:96], r[:])
		copy(buf[96:128], px[:])
		copy(buf[128:], m)
		digest = sha256.Sum256(buf[:])
	} else {
		h := sha256.New()
		writeAll(h, tagChallenge[:], r[:], px[:], m)
		h.Sum(digest[:0])
	}
	var e secp256k1.ModNScalar
	e.SetBytes(&digest) // reduces mod n, as BIP-340 requires
	return e
}

// AdaptorNonce returns tagged_hash("SchnorrAdaptor/nonce",
// (d XOR tagged_hash("SchnorrAdaptor/aux", aux)) || t33 || px || m), the
// nonce function of the secp256k1-zkp schnorr_adaptor module. The masked key
// is zeroed before returning.
func AdaptorNonce(d *[32]byte, aux *[32]byte, t33 *[33]byte, px *[32]byte, m *[32]byte) [32]byte {
	var buf [64 + 32]byte
	copy(buf[:64], tagAdaptorAux[:])
	copy(buf[64:], aux[:])
	mask := sha256.Sum256(buf[:])
	var nb [64 + 32 + 33 + 32 + 32]byte
	copy(nb[:64], tagAdaptorNonce[:])
	for i := 0; i < 32; i++ {
		nb[64+i] = d[i] ^ mask[i]
	}
	copy(nb[96:129], t33[:])
	copy(nb[129:161], px[:])
	copy(nb[161:], m[:])
	out := sha256.Sum256(nb[:])
	clear(nb[64:96])
	return out
}

func writeAll(h hash.Hash, parts ...[]byte) {
	for _, p := range parts {
		h.Write(p)
	}
}

// LiftX returns the affine point with x coordinate x and even y (BIP-340
// lift_x), or false if x >= p or no such point exists.
func LiftX(x *[32]byte, out *secp256k1.JacobianPoint) bool {
	var fx secp256k1.FieldVal
	if fx.SetBytes(x) != 0 {
		return false
	}
	var fy secp256k1.FieldVal
	if !secp256k1.DecompressY(&fx, false, &fy) {
		return false
	}
	fy.Normalize()
	out.X.Set(&fx)
	out.Y.Set(&fy)
	out.Z.SetInt(1)
	return true
}

// IsInfinity reports whether a Jacobian point is the point at infinity.
func IsInfinity(p *secp256k1.JacobianPoint) bool {
	return (p.X.IsZero() && p.Y.IsZero()) || p.Z.IsZero()
}

// Negate sets p to -p (p must be affine or normalised).
func Negate(p *secp256k1.JacobianPoint) {
	p.Y.Negate(1).Normalize()
}

// EvenKey returns the affine point of pk with its y made even, and the
// 32-byte x coordinate: the x-only view of a public key that BIP-340 uses.
func EvenKey(pk *secp256k1.PublicKey) (secp256k1.JacobianPoint, [32]byte) {
	var p secp256k1.JacobianPoint
	pk.AsJacobian(&p)
	if p.Y.IsOdd() {
		Negate(&p)
	}
	var px [32]byte
	p.X.PutBytes(&px)
	return p, px
}

// Equal reports whether two affine points are equal.
func Equal(a, b *secp256k1.JacobianPoint) bool {
	return a.X.Equals(&b.X) && a.Y.Equals(&b.Y)
}
