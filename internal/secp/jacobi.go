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
func posdivsteps62(delta int64, f, g uint64, jac *uint64) (int64, trans) {
	u, v, q, r := int64(1), int64(0), int64(0), int64(1)
	for i := 62; i > 0; {
		if g&1 == 0 {
			z := bits.TrailingZeros64(g)
			if z > i {
				z = i
			}
			g >>= uint(z)
			u <<= uint(z)
			v <<= uint(z)
			delta += int64(z)
			i -= z
			// (2 | f)^z.
			*jac ^= uint64(z) & (f>>1 ^ f>>2)
			continue
		}
		if delta > 0 {
			// Swap, with reciprocity, then one step: g <- (g + f)/2,
			// times (2 | f).
			*jac ^= (f & g) >> 1
			f, g = g, f
			u, v, q, r = q, r, u, v
			delta = -delta
			g = (g + f) >> 1
			q, r = q+u, r+v
			u, v = u<<1, v<<1
			*jac ^= f>>1 ^ f>>2
			delta++
			i--
			continue
		}
		// k steps without a swap at once (δ stays <= 0 through them): each
		// adds f when g is odd and halves, so together they are g <- (g +
		// w·f) / 2^k for the w in [0, 2^k) that clears g's low k bits, times
		// (2 | f)^k. Up to 4 bits (w = -g·f^-1 mod 2^k).
		k := min(i, int(1-delta), 4)
		inv := f * (2 - f*f) // f^-1 mod 16
		w := -g * inv & (1<<uint(k) - 1)
		g = (g + w*f) >> uint(k)
		q, r = q+int64(w)*u, r+int64(w)*v
		u, v = u<<uint(k), v<<uint(k)
		*jac ^= uint64(k) & (f>>1 ^ f>>2)
		delta += int64(k)
		i -= k
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
