package secp

import secp256k1 "github.com/decred/dcrd/dcrec/secp256k1/v4"

// The group formulas of the verifier, on dcrd's field type. They differ
// from dcrd's own AddNonConst and DoubleNonConst in three ways that matter
// for speed: the mixed addition returns the ratio of the Z coordinates (so
// that tables of odd multiples can be brought to one Z without an
// inversion); the point at infinity is a flag rather than a coordinate
// test; and results are left unnormalized within tracked magnitude bounds,
// so that a doubling and an addition each normalize one value instead of
// four or five.
//
// Everything here is variable time (it branches on the values): it is for
// verification, whose inputs are public.

// Magnitude bounds (dcrd's FieldVal "magnitude": how far a value may be
// from its normalized form; multiplication inputs must be at most 8) that
// every jacPoint's coordinates satisfy.
const (
	magX = 6
	magY = 4
	magZ = 2
)

// jacPoint is a point in Jacobian coordinates (x/z², y/z³) with its
// coordinates within the magnitude bounds above, or the point at infinity.
type jacPoint struct {
	x, y, z secp256k1.FieldVal
	inf     bool
}

// affinePoint is a point in affine coordinates of magnitude 1 (not
// necessarily normalized); it is never the point at infinity.
type affinePoint struct {
	x, y secp256k1.FieldVal
}

// setAffine sets p to the affine point (x, y) (magnitudes at most 2).
func (p *jacPoint) setAffine(x, y *secp256k1.FieldVal) {
	p.x.Set(x)
	p.y.Set(y)
	p.z.SetInt(1)
	p.inf = false
}

// toJacobian returns p as a dcrd Jacobian point: normalized coordinates,
// infinity as (0, 0, 0).
func (p *jacPoint) toJacobian(out *secp256k1.JacobianPoint) {
	if p.inf {
		out.X.Zero()
		out.Y.Zero()
		out.Z.Zero()
		return
	}
	out.X.Set(&p.x).Normalize()
	out.Y.Set(&p.y).Normalize()
	out.Z.Set(&p.z).Normalize()
}

// isInf reports whether a dcrd Jacobian point is the point at infinity.
func isInf(p *secp256k1.JacobianPoint) bool {
	return p.Z.IsZero() || (p.X.IsZero() && p.Y.IsZero())
}

// setInf sets a dcrd Jacobian point to the point at infinity.
func setInf(p *secp256k1.JacobianPoint) {
	p.X.Zero()
	p.Y.Zero()
	p.Z.Zero()
}

// double sets r = 2a (r may alias a). A finite point never doubles to
// infinity: the group has odd order, so no point has y = 0. Cost: 3
// multiplications, 4 squarings, one normalization.
//
//	A = X², B = Y², D = 4·X·B, E = 3·A,
//	X3 = E² - 2·D, Y3 = E·(D - X3) - 8·B², Z3 = 2·Y·Z
func double(r, a *jacPoint) {
	if a.inf {
		r.inf = true
		return
	}
	var A, B, D, t secp256k1.FieldVal
	A.SquareVal(&a.x)                 // mag 1
	B.SquareVal(&a.y)                 // mag 1
	D.Mul2(&a.x, &B).MulInt(4)        // mag 4
	r.z.Mul2(&a.y, &a.z).MulInt(2)    // Z3 (mag 2); the last read of a.y, a.z
	A.MulInt(3)                       // E = 3A (mag 3)
	r.x.SquareVal(&A)                 // E² (mag 1); a.x is not read again
	t.Set(&D).MulInt(2)               // 2D (mag 8)
	r.x.Add(t.Negate(8)).Normalize()  // X3 (mag 1)
	t.NegateVal(&r.x, 1).Add(&D)      // D - X3 (mag 6)
	B.MulInt(2)                       // 2B (mag 2)
	B.Square().MulInt(2)              // 8B² (mag 2)
	r.y.Mul2(&A, &t).Add(B.Negate(2)) // Y3 (mag 4)
	r.inf = false
}

// addMixed sets r = a + (bx, by) for an affine point (bx, by) with
// coordinates of magnitude at most 2 (r may alias a). When a is finite and the sum
// is not a doubling or infinity, it returns zr = Z(r)/Z(a) and ok = true;
// otherwise (a = infinity, a = ±b) the sum is still computed and ok is
// false. Cost: 8 multiplications, 3 squarings, one normalization.
//
//	U2 = bx·Z1², S2 = by·Z1³, H = U2 - X1, R = S2 - Y1,
//	X3 = R² - H³ - 2·X1·H², Y3 = R·(X1·H² - X3) - Y1·H³, Z3 = Z1·H
func addMixed(r, a *jacPoint, bx, by *secp256k1.FieldVal) (zr secp256k1.FieldVal, ok bool) {
	if a.inf {
		r.setAffine(bx, by)
		return zr, false
	}
	var z1z1, u2, s2, h, rr secp256k1.FieldVal
	z1z1.SquareVal(&a.z)                         // mag 1
	u2.Mul2(bx, &z1z1)                           // mag 1
	s2.Mul2(by, &z1z1).Mul(&a.z)                 // mag 1
	h.NegateVal(&a.x, magX).Add(&u2).Normalize() // mag 1
	rr.NegateVal(&a.y, magY).Add(&s2)            // mag 6
	if h.IsZero() {
		// Same x: a = b (double b) or a = -b (infinity).
		if rr.Normalize().IsZero() {
			var b jacPoint
			b.setAffine(bx, by)
			double(r, &b)
			return zr, false
		}
		r.inf = true
		return zr, false
	}
	var hh, hhh, v, y1hhh, t secp256k1.FieldVal
	hh.SquareVal(&h)                       // H² (mag 1)
	hhh.Mul2(&h, &hh)                      // H³ (mag 1)
	v.Mul2(&a.x, &hh)                      // V = X1·H² (mag 1)
	y1hhh.Mul2(&a.y, &hhh)                 // Y1·H³ (mag 1)
	r.z.Mul2(&a.z, &h)                     // Z3 (mag 1); a is not read after this line
	r.x.SquareVal(&rr)                     // R² (mag 1)
	r.x.Add(hhh.Negate(1))                 // R² - H³ (mag 3)
	t.Set(&v).MulInt(2)                    // 2V (mag 2)
	r.x.Add(t.Negate(2))                   // X3 (mag 6)
	t.NegateVal(&r.x, 6).Add(&v)           // V - X3 (mag 8)
	r.y.Mul2(&rr, &t).Add(y1hhh.Negate(1)) // Y3 (mag 3)
	r.inf = false
	return h, true
}

// add sets r = a + b for Jacobian points (r may alias a or b). Cost: 12
// multiplications, 4 squarings, one normalization.
//
//	U1 = X1·Z2², U2 = X2·Z1², S1 = Y1·Z2³, S2 = Y2·Z1³, H = U2 - U1,
//	R = S2 - S1, X3 = R² - H³ - 2·U1·H², Y3 = R·(U1·H² - X3) - S1·H³,
//	Z3 = Z1·Z2·H
func add(r, a, b *jacPoint) {
	if a.inf {
		*r = *b
		return
	}
	if b.inf {
		*r = *a
		return
	}
	var z1z1, z2z2, u1, u2, s1, s2, h, rr secp256k1.FieldVal
	z1z1.SquareVal(&a.z)                     // mag 1
	z2z2.SquareVal(&b.z)                     // mag 1
	u1.Mul2(&a.x, &z2z2)                     // mag 1
	u2.Mul2(&b.x, &z1z1)                     // mag 1
	s1.Mul2(&a.y, &z2z2).Mul(&b.z)           // mag 1
	s2.Mul2(&b.y, &z1z1).Mul(&a.z)           // mag 1
	h.NegateVal(&u1, 1).Add(&u2).Normalize() // mag 1
	rr.NegateVal(&s1, 1).Add(&s2)            // mag 3
	if h.IsZero() {
		if rr.Normalize().IsZero() {
			double(r, a)
			return
		}
		r.inf = true
		return
	}
	var hh, hhh, v, x3, y3, t secp256k1.FieldVal
	hh.SquareVal(&h)                   // mag 1
	hhh.Mul2(&h, &hh)                  // mag 1
	v.Mul2(&u1, &hh)                   // mag 1
	r.z.Mul2(&a.z, &b.z).Mul(&h)       // mag 1; a.z, b.z not read again
	x3.SquareVal(&rr)                  // mag 1
	s1.Mul(&hhh)                       // S1·H³ (mag 1)
	x3.Add(hhh.Negate(1))              // mag 3
	t.Set(&v).MulInt(2)                // mag 2
	x3.Add(t.Negate(2))                // X3 (mag 6)
	t.NegateVal(&x3, 6).Add(&v)        // V - X3 (mag 8)
	y3.Mul2(&rr, &t).Add(s1.Negate(1)) // Y3 (mag 3)
	r.x.Set(&x3)
	r.y.Set(&y3)
	r.inf = false
}
