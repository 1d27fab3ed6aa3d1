package secp

import (
	"math/big"
	"math/bits"

	secp256k1 "github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// The Jacobi symbol (x | p), in variable time, by the "positive" variant
// of the divsteps of inverse.go: f and g stay positive (g + f where the
// inverse takes g - f), so the symbol can be tracked through every step:
//
//	halving g multiplies it by (2 | f), which is -1 iff f ≡ 3, 5 (mod 8);
//	swapping f and g multiplies it by -1 iff f ≡ g ≡ 3 (mod 4)
//	(quadratic reciprocity); adding f to g does not change it.
//
// The steps run 62 at a time on the low 64 bits (a transition matrix
// with nonnegative entries, applied to the full values), until f = 1
// (then (g | 1) = 1 and the tracked sign is the symbol). For public
// values: deciding whether x is the x coordinate of a curve point without
// a square root.

// posdivsteps62 runs 62 positive divsteps from δ = delta on the low bits
// of f (odd) and g, flipping bit 0 of *jac for every factor -1 of the
// symbol, and returns the new δ and the transition matrix.
//
// The steps are taken in runs: all the halvings of an even g at once
// (a trailing-zero count, with a sentinel bit so that it stops at the
// 62nd step), then, g being odd, the swap if δ > 0, and the next steps
// without a swap (δ stays <= 0 through them) as one addition g += w·f for
// the w that clears g's low bits: each such step adds f when g is odd and
// halves, so k of them are g <- (g + w·f) / 2^k with w = -g·f^-1 mod 2^k;
// the halvings are the next run's. Up to 6 bits after a swap, 4 otherwise
// (libsecp256k1's choice for its posdivsteps).
func posdivsteps62(delta int64, f, g uint64, jac *uint64) (int64, trans) {
	u, v, q, r := int64(1), int64(0), int64(0), int64(1)
	i := 62
	for {
		// Step 1: the halvings, each times (2 | f).
		z := bits.TrailingZeros64(g | ^uint64(0)<<uint(i))
		g >>= uint(z)
		u <<= uint(z)
		v <<= uint(z)
		delta += int64(z)
		i -= z
		*jac ^= uint64(z) & (f>>1 ^ f>>2)
		if i == 0 {
			break
		}
		// Step 2: g is odd. Swap when δ > 0, with reciprocity (-1 iff f ≡
		// g ≡ 3 mod 4), then w for up to min(1-δ, i) steps.
		var w uint64
		if delta > 0 {
			*jac ^= (f & g) >> 1
			f, g = g, f
			u, v, q, r = q, r, u, v
			delta = -delta
			m := ^uint64(0) >> uint(64-min(int(1-delta), i)) & 63
			w = f * g * (f*f - 2) & m // -g·f^-1 mod 64: f·(f²-2) ≡ -f^-1
		} else {
			m := ^uint64(0) >> uint(64-min(int(1-delta), i)) & 15
			w = -(f + (f+1)&4<<1) * g & m // f + ((f+1)&4)·2 ≡ f^-1 mod 16
		}
		g += f * w
		q += u * int64(w)
		r += v * int64(w)
	}
	return delta, trans{u, v, q, r}
}

// jacobiField returns (x | p) for normalized x in [0, p): 0 for x = 0,
// else 1 or -1.
func jacobiField(x *secp256k1.FieldVal) int {
	if x.IsZero() {
		return 0
	}
	b := x.Bytes()
	f, g := fieldP, int5FromBytes(*b)
	var jac uint64
	delta := int64(1)
	for round := 0; round < 40; round++ {
		var t trans
		delta, t = posdivsteps62(delta, uint64(f[0])|uint64(f[1])<<62, uint64(g[0])|uint64(g[1])<<62, &jac)
		applyFG(&f, &g, &t)
		if f.isOne() {
			return 1 - 2*int(jac&1)
		}
	}
	// Not converged (never seen: 14 rounds at most in testing, 12.7 on
	// average): fall back to math/big.
	return big.Jacobi(new(big.Int).SetBytes(b[:]), fieldPBig)
}

// fieldPBig is p for the fallback.
var fieldPBig = func() *big.Int { b := fieldP.bytes(); return new(big.Int).SetBytes(b[:]) }()

// IsSquareModP reports whether the normalized field element x is a
// nonzero square mod p (so that lift_x of a coordinate with y² = x
// succeeds), in variable time.
func IsSquareModP(x *secp256k1.FieldVal) bool { return jacobiField(x) == 1 }
