package secp

import (
	"encoding/binary"
	"math/bits"

	secp256k1 "github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// The secp256k1 endomorphism (GLV): for every point Q = (x, y),
// λ·Q = (β·x, y), with β a cube root of unity mod p and λ one mod n. A
// scalar k is split into k1 + k2·λ (mod n) with |k1|, |k2| < 2^128, so k·Q =
// k1·Q + k2·φ(Q) costs half the doublings of k·Q, and φ(Q) costs one field
// multiplication.
//
// The constants are the published ones (SEC 2 / [GECC] §3.5, as used by
// libsecp256k1 and dcrd); glv_test.go checks every relation they must satisfy
// (β³ = 1 mod p, λ³ = 1 mod n, λ·G = (β·Gx, Gy), a_i + b_i·λ = 0 mod n,
// a1·b2 - a2·b1 = n) and the bound on the split halves.
var (
	// endoBeta is β.
	endoBeta = fieldFromBytes([32]byte{
		0x7a, 0xe9, 0x6a, 0x2b, 0x65, 0x7c, 0x07, 0x10, 0x6e, 0x64, 0x47, 0x9e, 0xac, 0x34, 0x34, 0xe9,
		0x9c, 0xf0, 0x49, 0x75, 0x12, 0xf5, 0x89, 0x95, 0xc1, 0x39, 0x6c, 0x28, 0x71, 0x95, 0x01, 0xee})
	// endoNegLambda is -λ mod n (λ = 5363ad4c...1b23bd72).
	endoNegLambda = scalarFromBytes([32]byte{
		0xac, 0x9c, 0x52, 0xb3, 0x3f, 0xa3, 0xcf, 0x1f, 0x5a, 0xd9, 0xe3, 0xfd, 0x77, 0xed, 0x9b, 0xa4,
		0xa8, 0x80, 0xb9, 0xfc, 0x8e, 0xc7, 0x39, 0xc2, 0xe0, 0xcf, 0xc8, 0x10, 0xb5, 0x12, 0x83, 0xcf})
	// endoNegB1 is -b1 = e4437ed6010e88286f547fa90abfe4c3.
	endoNegB1 = scalarFromBytes([32]byte{
		16: 0xe4, 0x43, 0x7e, 0xd6, 0x01, 0x0e, 0x88, 0x28, 0x6f, 0x54, 0x7f, 0xa9, 0x0a, 0xbf, 0xe4, 0xc3})
	// endoNegB2 is -b2 mod n, b2 = a1 = 3086d221a7d46bcde86c90e49284eb15.
	endoNegB2 = scalarFromBytes([32]byte{
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
		0x8a, 0x28, 0x0a, 0xc5, 0x07, 0x74, 0x34, 0x6d, 0xd7, 0x65, 0xcd, 0xa8, 0x3d, 0xb1, 0x56, 0x2c})
)

// endoG1 and endoG2 are round(2^384·b2/n) and round(2^384·(-b1)/n), little-endian
// 64-bit limbs: c_i = round(k·g_i / 2^384) approximates the rounded
// quotients of the lattice reduction without a division.
var (
	endoG1 = [4]uint64{0xe893209a45dbb031, 0x3daa8a1471e8ca7f, 0xe86c90e49284eb15, 0x3086d221a7d46bcd}
	endoG2 = [4]uint64{0x1571b4ae8ac47f71, 0x221208ac9df506c6, 0x6f547fa90abfe4c4, 0xe4437ed6010e8828}
)

func fieldFromBytes(b [32]byte) secp256k1.FieldVal {
	var f secp256k1.FieldVal
	f.SetBytes(&b)
	return f
}

func scalarFromBytes(b [32]byte) secp256k1.ModNScalar {
	var s secp256k1.ModNScalar
	s.SetBytes(&b)
	return s
}

// limbs returns the little-endian 64-bit limbs of a big-endian 32-byte value.
func limbs(b *[32]byte) [4]uint64 {
	return [4]uint64{
		binary.BigEndian.Uint64(b[24:32]), binary.BigEndian.Uint64(b[16:24]),
		binary.BigEndian.Uint64(b[8:16]), binary.BigEndian.Uint64(b[0:8]),
	}
}

// mulShift384 returns round(a·b / 2^384) for 256-bit a and b (the result is
// below 2^128 + 1 for the GLV constants, so it fits in a scalar).
func mulShift384(a, b *[4]uint64) secp256k1.ModNScalar {
	// Schoolbook 4x4 limb product into 8 limbs.
	var t [8]uint64
	for i := 0; i < 4; i++ {
		var carry uint64
		for j := 0; j < 4; j++ {
			hi, lo := bits.Mul64(a[i], b[j])
			var c uint64
			lo, c = bits.Add64(lo, t[i+j], 0)
			hi += c
			lo, c = bits.Add64(lo, carry, 0)
			hi += c
			t[i+j] = lo
			carry = hi
		}
		t[i+4] = carry
	}
	// Bits 384..511 are limbs 6 and 7; bit 383 (the top bit of limb 5)
	// rounds.
	round := t[5] >> 63
	lo, c := bits.Add64(t[6], round, 0)
	hi, top := bits.Add64(t[7], 0, c)
	var out [32]byte
	binary.BigEndian.PutUint64(out[8:16], top)
	binary.BigEndian.PutUint64(out[16:24], hi)
	binary.BigEndian.PutUint64(out[24:32], lo)
	var s secp256k1.ModNScalar
	s.SetBytes(&out)
	return s
}

// splitScalar returns k1, k2 with k ≡ k1 + k2·λ (mod n), each given as a
// magnitude below 2^129 (in practice 2^128) and a sign: k ≡ (-1)^neg1·m1 +
// (-1)^neg2·m2·λ. Variable time: it is used only on public values
// (verification).
func splitScalar(k *secp256k1.ModNScalar) (m1 [4]uint64, neg1 bool, m2 [4]uint64, neg2 bool) {
	kb := k.Bytes()
	kl := limbs(&kb)
	// Step 1: c1 = round(k·b2/n), c2 = round(k·(-b1)/n).
	c1 := mulShift384(&kl, &endoG1)
	c2 := mulShift384(&kl, &endoG2)
	// Step 2: k2 = c1·(-b1) + c2·(-b2); k1 = k + k2·(-λ).
	var k1, k2 secp256k1.ModNScalar
	c1.Mul(&endoNegB1)
	c2.Mul(&endoNegB2)
	k2.Add2(&c1, &c2)
	k1.Mul2(&k2, &endoNegLambda).Add(k)
	// Step 3: take the short representative of each (negate when over n/2).
	if k1.IsOverHalfOrder() {
		k1.Negate()
		neg1 = true
	}
	if k2.IsOverHalfOrder() {
		k2.Negate()
		neg2 = true
	}
	b1, b2 := k1.Bytes(), k2.Bytes()
	return limbs(&b1), neg1, limbs(&b2), neg2
}
