package secp

import (
	"sync"

	secp256k1 "github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// The joint multiplication s·G + k·P of verification, computed as one
// Strauss–Shamir pass (one shared chain of doublings) over four ~128-bit
// scalars in width-w NAF:
//
//   - k is split with the endomorphism into k1 + k2·λ, so k·P = k1·P +
//     k2·φ(P) with φ(P) = (β·x, y); P's table of odd multiples serves both
//     halves (φ of an entry is one field multiplication);
//   - s is split into its low and high 128 bits, s = s1 + s2·2^128, against
//     precomputed tables of odd multiples of G and of 2^128·G (windowG wide,
//     built once on first use).
//
// P's table is built without an inversion: with D = 2P = (X, Y, Z), the
// curve isomorphism (x, y) -> (x·Z², y·Z³) maps D to an affine point, so the
// odd multiples P + i·D take mixed additions only; the entries are then
// rescaled to one common Z (from the ratios the additions return), and the
// whole pass runs on the isomorphic curve, where those entries are affine.
// G's entries are mapped onto that curve as they are used (two
// multiplications each), and the result is mapped back by one
// multiplication of its Z. The doubling and addition formulas of y² = x³ +
// b do not involve b, so they hold on the isomorphic curve unchanged.
//
// Everything here is variable time: it branches and indexes tables on the
// scalars. That is fine for verification, whose inputs (keys, signatures,
// messages) are public; nothing on a signing path uses it.

const (
	// windowA is the wNAF width for an arbitrary point: a table of
	// 2^(windowA-2) = 8 odd multiples.
	windowA = 5
	tableA  = 1 << (windowA - 2)
	// windowG is the wNAF width for G and 2^128·G: two tables of
	// 2^(windowG-2) = 4096 affine points (640 KiB), built once on first
	// use (a few milliseconds). Each extra bit of width saves about one
	// addition in 16 and doubles the tables; 14 is where the saving stops
	// being worth the memory.
	windowG = 14
	tableG  = 1 << (windowG - 2)
)

// baseTables are the odd multiples 1·Q, 3·Q, ..., (2·tableG-1)·Q of Q = G
// and Q = 2^128·G, affine.
type baseTables struct {
	g, h [tableG]affinePoint
}

var (
	baseOnce sync.Once
	baseTab  *baseTables
)

// bases returns the precomputed base-point tables, building them on first
// use (once per process).
func bases() *baseTables {
	baseOnce.Do(func() {
		t := new(baseTables)
		var g secp256k1.JacobianPoint
		secp256k1.ScalarBaseMultNonConst(new(secp256k1.ModNScalar).SetInt(1), &g)
		g.ToAffine()
		var h secp256k1.JacobianPoint
		h.Set(&g)
		for i := 0; i < 128; i++ {
			secp256k1.DoubleNonConst(&h, &h)
		}
		h.ToAffine()
		affineOddMultiples(&affinePoint{x: g.X, y: g.Y}, t.g[:])
		affineOddMultiples(&affinePoint{x: h.X, y: h.Y}, t.h[:])
		baseTab = t
	})
	return baseTab
}

// affineOddMultiples fills out with the affine odd multiples of p (one
// inversion for the whole table). p must not be the point at infinity;
// only fixed points (G, 2^128·G) are passed, for which it cannot fail.
func affineOddMultiples(p *affinePoint, out []affinePoint) {
	zt, ok := oddMultiples(p, out, make([]secp256k1.FieldVal, len(out)))
	if !ok {
		// Unreachable for a point of the prime-order group: the table
		// entries (2i+1)·P and 2P never coincide for i < n/2.
		return
	}
	var zi, zi2, zi3 secp256k1.FieldVal
	zi.Set(&zt)
	inverseVar(&zi)
	zi2.SquareVal(&zi)
	zi3.Mul2(&zi2, &zi)
	for i := range out {
		out[i].x.Mul(&zi2).Normalize()
		out[i].y.Mul(&zi3).Normalize()
	}
}

// oddMultiples sets out[i] to the coordinates of (2i+1)·p on the curve
// isomorphic to secp256k1 by the returned factor zt: out[i] = (x·zt²,
// y·zt³) for (2i+1)·p = (x, y), of magnitude 1. zr is scratch of len(out) field
// elements. It reports false (and out is unusable) only if an
// intermediate sum degenerates, which cannot happen for a point of the
// prime-order group.
func oddMultiples(p *affinePoint, out []affinePoint, zr []secp256k1.FieldVal) (zt secp256k1.FieldVal, ok bool) {
	// Step 1: D = 2p in Jacobian coordinates (X, Y, Zd); on the curve
	// scaled by Zd, D is the affine point (X, Y) and p is (x·Zd², y·Zd³).
	var d jacPoint
	d.setAffine(&p.x, &p.y)
	double(&d, &d)
	d.x.Normalize()
	d.y.Normalize()
	d.z.Normalize()
	var zd2, zd3 secp256k1.FieldVal
	zd2.SquareVal(&d.z)
	zd3.Mul2(&zd2, &d.z)
	var cur jacPoint
	cur.x.Mul2(&p.x, &zd2).Normalize()
	cur.y.Mul2(&p.y, &zd3).Normalize()
	cur.z.SetInt(1)
	// Step 2: entry i = entry i-1 + D by co-Z additions (D and the entry
	// share one Z, and the addition hands D back at the sum's Z: 4
	// multiplications and 2 squarings), keeping the ratios
	// zr[i] = Z_i / Z_(i-1).
	out[0].x.Set(&cur.x)
	out[0].y.Set(&cur.y)
	dx, dy := d.x, d.y
	for i := 1; i < len(out); i++ {
		if zr[i], ok = addCoZ(&dx, &dy, &out[i-1].x, &out[i-1].y, &out[i].x, &out[i].y); !ok {
			return zt, false
		}
	}
	// Step 3: bring every entry to the last entry's Z: multiply entry i by
	// c² and c³, c = Z_last / Z_i = zr[i+1]·...·zr[last]; at the end c is
	// Z_last itself (Z_0 = 1).
	var c, c2, c3 secp256k1.FieldVal
	c.SetInt(1)
	for i := len(out) - 2; i >= 0; i-- {
		c.Mul(&zr[i+1])
		c2.SquareVal(&c)
		c3.Mul2(&c2, &c)
		out[i].x.Mul(&c2) // mag 1
		out[i].y.Mul(&c3) // mag 1
	}
	cur.z.Set(&c)
	// Step 4: the common Z, relative to secp256k1 itself, is Z_last·Zd.
	zt.Mul2(&cur.z, &d.z).Normalize()
	return zt, true
}

// addCoZ is the co-Z addition (Meloni): D = (dx, dy) and T = (tx, ty)
// with one common Z become D at the Z of the sum, and (sx, sy) = D + T
// there; it returns zr = Z_sum / Z = dx - tx. All coordinates normalized.
// It reports false when D = ±T (never, for distinct odd multiples).
//
//	C = (Xd - Xt)², W1 = Xd·C, W2 = Xt·C, R = Yd - Yt,
//	X3 = R² - W1 - W2, Y3 = R·(W1 - X3) - Yd·(W1 - W2), D' = (W1, Yd·(W1 - W2))
func addCoZ(dx, dy, tx, ty, sx, sy *secp256k1.FieldVal) (zr secp256k1.FieldVal, ok bool) {
	var h, c, w1, w2, r, a1, t secp256k1.FieldVal
	h.NegateVal(tx, 1).Add(dx).Normalize() // Xd - Xt
	if h.IsZero() {
		return zr, false
	}
	c.SquareVal(&h)
	w1.Mul2(dx, &c)
	w2.Mul2(tx, &c)
	r.NegateVal(ty, 1).Add(dy)    // R (mag 3)
	t.NegateVal(&w2, 1).Add(&w1)  // W1 - W2 (mag 3)
	a1.Mul2(dy, &t)               // A1 (mag 1)
	sx.SquareVal(&r)              // R² (mag 1)
	t.Set(&w1).Add(&w2).Negate(2) // -(W1 + W2) (mag 3)
	sx.Add(&t).Normalize()        // X3
	t.NegateVal(sx, 1).Add(&w1)   // W1 - X3 (mag 3)
	var na1 secp256k1.FieldVal
	na1.NegateVal(&a1, 1)
	sy.Mul2(&r, &t).Add(&na1).Normalize()
	dx.Set(w1.Normalize())
	dy.Set(a1.Normalize())
	return h, true
}

// addDigit adds d·T to acc, where T holds the odd multiples of a point
// (entry i is (2i+1)·point) and d is an odd, nonzero wNAF digit.
func addDigit(acc *jacPoint, tab []affinePoint, d int16) {
	if d > 0 {
		e := &tab[d>>1]
		addMixed(acc, acc, &e.x, &e.y)
		return
	}
	e := &tab[(-d)>>1]
	var y secp256k1.FieldVal
	y.NegateVal(&e.y, 1) // mag 2
	addMixed(acc, acc, &e.x, &y)
}

// addBaseDigit adds d·T to acc for a base-point table T, mapping the entry
// onto the isomorphic curve with factors zt2 = zt², zt3 = zt³.
func addBaseDigit(acc *jacPoint, tab *[tableG]affinePoint, d int16, zt2, zt3 *secp256k1.FieldVal) {
	var x, y secp256k1.FieldVal
	if d > 0 {
		e := &tab[d>>1]
		x.Mul2(&e.x, zt2) // mag 1
		y.Mul2(&e.y, zt3) // mag 1
	} else {
		e := &tab[(-d)>>1]
		x.Mul2(&e.x, zt2)           // mag 1
		y.Mul2(&e.y, zt3).Negate(1) // mag 2
	}
	addMixed(acc, acc, &x, &y)
}

// splitBase returns the low and high 128 bits of s as 256-bit limbs.
func splitBase(s *secp256k1.ModNScalar) (lo, hi [4]uint64) {
	b := s.Bytes()
	l := limbs(&b)
	return [4]uint64{l[0], l[1]}, [4]uint64{l[2], l[3]}
}

// jointMult sets r = s·G + k·p (Jacobian, normalized; dcrd's infinity
// convention). It reports false only where oddMultiples would (never, for
// a curve point); r is then unusable and the caller must fall back.
func jointMult(r *secp256k1.JacobianPoint, s, k *secp256k1.ModNScalar, p *affinePoint) bool {
	// Step 1: the digits.
	var dk1, dk2, ds1, ds2 wnafDigits
	m1, neg1, m2, neg2 := splitScalar(k)
	n := wnaf(&dk1, &m1, windowA, neg1)
	n = max(n, wnaf(&dk2, &m2, windowA, neg2))
	lo, hi := splitBase(s)
	n = max(n, wnaf(&ds1, &lo, windowG, false))
	n = max(n, wnaf(&ds2, &hi, windowG, false))
	// Step 2: p's table on the isomorphic curve, the table of φ(p) (x
	// times β), and the factors that map G's tables onto that curve.
	var tab, tabPhi [tableA]affinePoint
	var zr [tableA]secp256k1.FieldVal
	zt, ok := oddMultiples(p, tab[:], zr[:])
	if !ok {
		return false
	}
	for i := range tab {
		tabPhi[i].x.Mul2(&tab[i].x, &endoBeta) // mag 1
		tabPhi[i].y.Set(&tab[i].y)
	}
	var zt2, zt3 secp256k1.FieldVal
	zt2.SquareVal(&zt)
	zt3.Mul2(&zt2, &zt)
	bt := bases()
	// Step 3: one pass from the top digit down.
	acc := jacPoint{inf: true}
	for i := n - 1; i >= 0; i-- {
		double(&acc, &acc)
		if d := dk1[i]; d != 0 {
			addDigit(&acc, tab[:], d)
		}
		if d := dk2[i]; d != 0 {
			addDigit(&acc, tabPhi[:], d)
		}
		if d := ds1[i]; d != 0 {
			addBaseDigit(&acc, &bt.g, d, &zt2, &zt3)
		}
		if d := ds2[i]; d != 0 {
			addBaseDigit(&acc, &bt.h, d, &zt2, &zt3)
		}
	}
	// Step 4: back to secp256k1: Z·zt.
	if !acc.inf {
		acc.z.Mul(&zt)
	}
	acc.toJacobian(r)
	return true
}
