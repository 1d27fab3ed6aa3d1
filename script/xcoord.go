package script

import (
	"math/bits"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// isXCoordinate reports whether x is the x coordinate of a secp256k1 point:
// x < p and x^3 + 7 is a square mod p. It decides squareness with the
// binary Jacobi-symbol algorithm on four 64-bit limbs instead of computing
// the square root (as lift_x does), which is several times faster. Not
// constant time: it is only used on public keys.
func isXCoordinate(x *[32]byte) bool {
	var fx secp256k1.FieldVal
	if overflow := fx.SetBytes(x); overflow != 0 {
		return false
	}
	// c = x^3 + 7 mod p.
	var c secp256k1.FieldVal
	c.SquareVal(&fx).Mul(&fx).AddInt(7).Normalize()
	if c.IsZero() {
		return true // y = 0 (impossible on secp256k1, kept for completeness)
	}
	var cb [32]byte
	c.PutBytesUnchecked(cb[:])
	return jacobi(u256FromBE(&cb), secpP) == 1
}

// u256 is a 256-bit unsigned integer, little-endian 64-bit limbs.
type u256 [4]uint64

var secpP = u256{0xfffffffefffffc2f, 0xffffffffffffffff, 0xffffffffffffffff, 0xffffffffffffffff}

func u256FromBE(b *[32]byte) u256 {
	var u u256
	for i := 0; i < 4; i++ {
		for j := 0; j < 8; j++ {
			u[3-i] = u[3-i]<<8 | uint64(b[i*8+j])
		}
	}
	return u
}

func (a *u256) isZero() bool { return a[0]|a[1]|a[2]|a[3] == 0 }

// less reports a < b.
func (a *u256) less(b *u256) bool {
	for i := 3; i >= 0; i-- {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// sub sets a = a - b (a >= b).
func (a *u256) sub(b *u256) {
	var borrow uint64
	for i := 0; i < 4; i++ {
		a[i], borrow = bits.Sub64(a[i], b[i], borrow)
	}
}

// shr shifts a right by n bits, 0 <= n < 256.
func (a *u256) shr(n uint) {
	limbs, s := n/64, n%64
	for i := 0; i < 4; i++ {
		var v uint64
		if j := i + int(limbs); j < 4 {
			v = a[j] >> s
			if s > 0 && j+1 < 4 {
				v |= a[j+1] << (64 - s)
			}
		}
		a[i] = v
	}
}

func (a *u256) trailingZeros() uint {
	for i := 0; i < 4; i++ {
		if a[i] != 0 {
			return uint(i*64 + bits.TrailingZeros64(a[i]))
		}
	}
	return 256
}

// jacobi returns the Jacobi symbol (a/n) for odd n > 0 (binary algorithm:
// strip factors of two using (2/n), swap with quadratic reciprocity, and
// subtract).
func jacobi(a, n u256) int {
	t := 1
	for !a.isZero() {
		tz := a.trailingZeros()
		a.shr(tz)
		if tz&1 == 1 {
			if r := n[0] & 7; r == 3 || r == 5 {
				t = -t
			}
		}
		if a.less(&n) {
			a, n = n, a
			if a[0]&3 == 3 && n[0]&3 == 3 {
				t = -t
			}
		}
		a.sub(&n)
	}
	if n == (u256{1}) {
		return t
	}
	return 0
}
