package secp

import (
	"encoding/binary"
	"math/bits"

	secp256k1 "github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// A variable-time inversion modulo the field prime p, for public values
// (the affine conversion at the end of a verification, batch inversions of
// tables). dcrd's FieldVal.Inverse is constant time (an exponentiation,
// about 260 squarings); this one runs the Bernstein–Yang "divstep" gcd
// (safegcd, "Fast constant-time gcd computation and modular inversion",
// 2019) in its variable-time form, several times faster.
//
// The algorithm, as implemented here:
//
//	state: δ = 1, f = p, g = x, d = 0, e = 1; invariants f ≡ d·x and
//	g ≡ e·x (mod p), kept by giving d and e every transformation of f
//	and g (a halving of g becomes a halving of e mod p).
//	divstep: if δ > 0 and g is odd:  (δ, f, g) <- (1-δ, g, (g-f)/2)
//	         elif g is odd:          (δ, f, g) <- (1+δ, f, (g+f)/2)
//	         else:                   (δ, f, g) <- (1+δ, f, g/2)
//	When g = 0, f = ±gcd(p, x) = ±1, so x^-1 = ±d.
//
// The divsteps are done 62 at a time on the low 64 bits of f and g (which
// decide every branch), giving a 2x2 matrix T with 2^62·(f', g') = T·(f, g);
// T is then applied to the full f, g (exactly divisible by 2^62) and to d,
// e (made divisible by adding a multiple of p). Big values are five signed
// 62-bit limbs: limbs 0-3 in [0, 2^62), limb 4 signed.

const (
	limb62 = 62
	mask62 = 1<<limb62 - 1
)

// int5 is a signed integer Σ v[i]·2^(62i), limbs 0-3 in [0, 2^62).
type int5 [5]int64

// trans is the transition matrix of 62 divsteps: 2^62·f' = u·f + v·g,
// 2^62·g' = q·f + r·g, with |u|+|v|, |q|+|r| <= 2^62.
type trans struct{ u, v, q, r int64 }

var (
	// fieldP is p as an int5.
	fieldP = int5FromBytes([32]byte{
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xfc, 0x2f})
	// fieldPInv62 is p^-1 mod 2^62.
	fieldPInv62 = inverse2to62(uint64(fieldP[0]))
)

// inverse2to62 returns a^-1 mod 2^62 for odd a (Newton iteration: each
// step doubles the number of correct low bits).
func inverse2to62(a uint64) uint64 {
	inv := a // correct to 3 bits: a·a ≡ 1 mod 8 for odd a
	for i := 0; i < 5; i++ {
		inv *= 2 - a*inv
	}
	return inv & mask62
}

func int5FromBytes(b [32]byte) int5 {
	l := limbs(&b)
	return int5{
		int64(l[0] & mask62),
		int64((l[0]>>62 | l[1]<<2) & mask62),
		int64((l[1]>>60 | l[2]<<4) & mask62),
		int64((l[2]>>58 | l[3]<<6) & mask62),
		int64(l[3] >> 56),
	}
}

// bytes returns v (which must be in [0, 2^256)) as 32 big-endian bytes.
func (v *int5) bytes() [32]byte {
	l := [4]uint64{
		uint64(v[0]) | uint64(v[1])<<62,
		uint64(v[1])>>2 | uint64(v[2])<<60,
		uint64(v[2])>>4 | uint64(v[3])<<58,
		uint64(v[3])>>6 | uint64(v[4])<<56,
	}
	var out [32]byte
	binary.BigEndian.PutUint64(out[0:8], l[3])
	binary.BigEndian.PutUint64(out[8:16], l[2])
	binary.BigEndian.PutUint64(out[16:24], l[1])
	binary.BigEndian.PutUint64(out[24:32], l[0])
	return out
}

func (v *int5) isZero() bool { return v[0]|v[1]|v[2]|v[3]|v[4] == 0 }

// isOne and isMinusOne recognise ±1.
func (v *int5) isOne() bool { return v[0] == 1 && v[1]|v[2]|v[3]|v[4] == 0 }
func (v *int5) isMinusOne() bool {
	return v[0] == mask62 && v[1] == mask62 && v[2] == mask62 && v[3] == mask62 && v[4] == -1
}

// add sets v = v + w (limbs renormalized).
func (v *int5) add(w *int5) {
	var c int64
	for i := 0; i < 4; i++ {
		s := v[i] + w[i] + c
		v[i] = s & mask62
		c = s >> limb62
	}
	v[4] += w[4] + c
}

// sub sets v = v - w.
func (v *int5) sub(w *int5) {
	var c int64
	for i := 0; i < 4; i++ {
		s := v[i] - w[i] + c
		v[i] = s & mask62
		c = s >> limb62
	}
	v[4] += -w[4] + c
}

// geq reports v >= w for v, w >= 0, comparing limbs from the top.
func (v *int5) geq(w *int5) bool {
	for i := 4; i >= 0; i-- {
		if v[i] != w[i] {
			return v[i] > w[i]
		}
	}
	return true
}

// i128 is a signed 128-bit accumulator in two's complement.
type i128 struct{ lo, hi uint64 }

// mulS returns the signed 128-bit product a·b.
func mulS(a, b int64) i128 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if a < 0 {
		hi -= uint64(b)
	}
	if b < 0 {
		hi -= uint64(a)
	}
	return i128{lo, hi}
}

func (x *i128) add(y i128) {
	var c uint64
	x.lo, c = bits.Add64(x.lo, y.lo, 0)
	x.hi += y.hi + c
}

// sar62 shifts x right by 62 bits, arithmetically.
func (x *i128) sar62() {
	x.lo = x.lo>>62 | x.hi<<2
	x.hi = uint64(int64(x.hi) >> 62)
}

// divsteps62 runs 62 divsteps on the low 64 bits of f and g (f odd) from
// δ = delta and returns the new δ and the transition matrix. Runs of even
// g are skipped in one shift.
func divsteps62(delta int64, f, g uint64) (int64, trans) {
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
			continue
		}
		if delta > 0 {
			f, g = g, (g-f)>>1
			u, v, q, r = q<<1, r<<1, q-u, r-v
			delta = 1 - delta
		} else {
			g = (g + f) >> 1
			q, r = q+u, r+v
			u, v = u<<1, v<<1
			delta++
		}
		i--
	}
	return delta, trans{u, v, q, r}
}

// applyFG sets (f, g) = T·(f, g) / 2^62 (exact).
func applyFG(f, g *int5, t *trans) {
	cf := mulS(t.u, f[0])
	cf.add(mulS(t.v, g[0]))
	cg := mulS(t.q, f[0])
	cg.add(mulS(t.r, g[0]))
	cf.sar62()
	cg.sar62()
	for i := 1; i < 5; i++ {
		cf.add(mulS(t.u, f[i]))
		cf.add(mulS(t.v, g[i]))
		cg.add(mulS(t.q, f[i]))
		cg.add(mulS(t.r, g[i]))
		f[i-1] = int64(cf.lo & mask62)
		g[i-1] = int64(cg.lo & mask62)
		cf.sar62()
		cg.sar62()
	}
	f[4] = int64(cf.lo)
	g[4] = int64(cg.lo)
}

// applyDE sets (d, e) = T·(d, e) / 2^62 mod p, for d, e in [0, p); the
// results are again in [0, p).
func applyDE(d, e *int5, t *trans) {
	// md, me in [0, 2^62) make the low 62 bits of the sums vanish.
	md := -(uint64(t.u)*uint64(d[0]) + uint64(t.v)*uint64(e[0])) * fieldPInv62 & mask62
	me := -(uint64(t.q)*uint64(d[0]) + uint64(t.r)*uint64(e[0])) * fieldPInv62 & mask62
	cd := mulS(t.u, d[0])
	cd.add(mulS(t.v, e[0]))
	cd.add(mulS(int64(md), fieldP[0]))
	ce := mulS(t.q, d[0])
	ce.add(mulS(t.r, e[0]))
	ce.add(mulS(int64(me), fieldP[0]))
	cd.sar62()
	ce.sar62()
	for i := 1; i < 5; i++ {
		cd.add(mulS(t.u, d[i]))
		cd.add(mulS(t.v, e[i]))
		cd.add(mulS(int64(md), fieldP[i]))
		ce.add(mulS(t.q, d[i]))
		ce.add(mulS(t.r, e[i]))
		ce.add(mulS(int64(me), fieldP[i]))
		d[i-1] = int64(cd.lo & mask62)
		e[i-1] = int64(ce.lo & mask62)
		cd.sar62()
		ce.sar62()
	}
	d[4] = int64(cd.lo)
	e[4] = int64(ce.lo)
	// |u·d + v·e| <= 2^62·p and md·p < 2^62·p, so each result is in
	// (-p, 2p): one correction brings it to [0, p).
	for _, x := range []*int5{d, e} {
		if x[4] < 0 {
			x.add(&fieldP)
		} else if x.geq(&fieldP) {
			x.sub(&fieldP)
		}
	}
}

// inverseVar sets x to x^-1 mod p (0 stays 0), in variable time. x may be
// unnormalized (any magnitude dcrd allows); the result is normalized.
func inverseVar(x *secp256k1.FieldVal) {
	x.Normalize()
	if x.IsZero() {
		return
	}
	b := x.Bytes()
	f, g := fieldP, int5FromBytes(*b)
	var d, e int5
	e[0] = 1
	delta := int64(1)
	// At most 741 divsteps are needed for 256-bit inputs (Bernstein–Yang
	// bound for this variant); 13 rounds of 62 cover it. Should g not
	// reach zero (impossible), fall back to the constant-time inverse.
	for round := 0; round < 13; round++ {
		var t trans
		delta, t = divsteps62(delta, uint64(f[0])|uint64(f[1])<<62, uint64(g[0])|uint64(g[1])<<62)
		applyDE(&d, &e, &t)
		applyFG(&f, &g, &t)
		if g.isZero() {
			switch {
			case f.isOne():
			case f.isMinusOne():
				if !d.isZero() {
					neg := fieldP
					neg.sub(&d)
					d = neg
				}
			default:
				x.Inverse()
				return
			}
			out := d.bytes()
			x.SetBytes(&out)
			return
		}
	}
	x.Inverse()
}

// toAffineVar is JacobianPoint.ToAffine with the variable-time inverse:
// p (finite, any magnitudes dcrd allows) becomes (X/Z², Y/Z³, 1),
// normalized.
func toAffineVar(p *secp256k1.JacobianPoint) {
	var zi, zi2, zi3 secp256k1.FieldVal
	zi.Set(&p.Z)
	inverseVar(&zi)
	zi2.SquareVal(&zi)
	zi3.Mul2(&zi2, &zi)
	p.X.Mul(&zi2).Normalize()
	p.Y.Mul(&zi3).Normalize()
	p.Z.SetInt(1)
}

// AffineXParity returns the affine x coordinate of the finite point j and
// the parity of its y, using the variable-time inverse (for public points:
// output keys, nonces). j is not modified.
func AffineXParity(j *secp256k1.JacobianPoint) ([32]byte, bool) {
	p := *j
	toAffineVar(&p)
	return *p.X.Bytes(), p.Y.IsOdd()
}
