package secp

import (
	"testing"

	secp256k1 "github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// TestAddMixed compares addMixed with dcrd's AddNonConst, including the
// degenerate sums (a = b, a = -b, a = infinity), and checks the returned Z
// ratio.
func TestAddMixed(t *testing.T) {
	r := newRand(t)
	for i := 0; i < 3000; i++ {
		b := randPoint(r)
		// a: a random multiple in Jacobian form (Z != 1), or b, -b, infinity.
		var a secp256k1.JacobianPoint
		switch i % 6 {
		case 0:
			a.Set(&b)
		case 1:
			a.Set(&b)
			a.Y.Negate(1).Normalize()
		case 2:
			setInf(&a)
		case 3, 4:
			// a = ±b with Z != 1.
			a = randPoint(r)
			secp256k1.AddNonConst(&a, &b, &a)
			b.Set(&a)
			b.ToAffine()
			if i%6 == 4 {
				b.Y.Negate(1).Normalize()
			}
		default:
			k := randScalar(r)
			secp256k1.ScalarBaseMultNonConst(&k, &a)
			secp256k1.DoubleNonConst(&a, &a)
		}
		want := secp256k1.JacobianPoint{}
		bj := b
		secp256k1.AddNonConst(&a, &bj, &want)
		ja := fromJacobian(&a)
		var got jacPoint
		zr, ok := addMixed(&got, &ja, &b.X, &b.Y)
		var gotJ secp256k1.JacobianPoint
		got.toJacobian(&gotJ)
		if !sameJacobian(gotJ, want) {
			t.Fatalf("case %d: addMixed differs from AddNonConst", i)
		}
		if ok {
			var z secp256k1.FieldVal
			z.Mul2(&ja.z, &zr).Normalize()
			if !z.Equals(&gotJ.Z) {
				t.Fatalf("case %d: Z ratio wrong", i)
			}
		}
		// In place.
		c := ja
		addMixed(&c, &c, &b.X, &b.Y)
		c.toJacobian(&gotJ)
		if !sameJacobian(gotJ, want) {
			t.Fatalf("case %d: in-place addMixed differs", i)
		}
		// Doubling, in place, against dcrd.
		var d2 secp256k1.JacobianPoint
		secp256k1.DoubleNonConst(&a, &d2)
		dd := ja
		double(&dd, &dd)
		dd.toJacobian(&gotJ)
		if !sameJacobian(gotJ, d2) {
			t.Fatalf("case %d: double differs from DoubleNonConst", i)
		}
	}
}

// fromJacobian converts a dcrd point (normalized) to a jacPoint.
func fromJacobian(p *secp256k1.JacobianPoint) jacPoint {
	if isInf(p) {
		return jacPoint{inf: true}
	}
	return jacPoint{x: p.X, y: p.Y, z: p.Z}
}

// TestBaseTables: entry i of each table is (2i+1)·G, (2i+1)·2^128·G.
func TestBaseTables(t *testing.T) {
	bt := bases()
	var two128 secp256k1.ModNScalar
	var b [32]byte
	b[15] = 1
	two128.SetBytes(&b)
	for _, i := range []int{0, 1, 2, 7, 100, tableG - 2, tableG - 1} {
		var k secp256k1.ModNScalar
		k.SetInt(uint32(2*i + 1))
		var want secp256k1.JacobianPoint
		secp256k1.ScalarBaseMultNonConst(&k, &want)
		want.ToAffine()
		if !bt.g[i].x.Equals(&want.X) || !bt.g[i].y.Equals(&want.Y) {
			t.Fatalf("g table entry %d wrong", i)
		}
		k.Mul(&two128)
		secp256k1.ScalarBaseMultNonConst(&k, &want)
		want.ToAffine()
		if !bt.h[i].x.Equals(&want.X) || !bt.h[i].y.Equals(&want.Y) {
			t.Fatalf("h table entry %d wrong", i)
		}
	}
}

// TestJointMult compares s·G + k·P with dcrd's separate multiplications on
// random and edge inputs (s = 0, k = 0, both, results at infinity).
func TestJointMult(t *testing.T) {
	r := newRand(t)
	for i := 0; i < 3000; i++ {
		s, k := randScalar(r), randScalar(r)
		p := randPoint(r)
		switch i % 10 {
		case 0:
			s.Zero()
		case 1:
			k.Zero()
		case 2:
			s.Zero()
			k.Zero()
		case 3:
			// P = d·G with k = -s/d: the result is infinity.
			d := randScalar(r)
			if d.IsZero() {
				d.SetInt(7)
			}
			secp256k1.ScalarBaseMultNonConst(&d, &p)
			p.ToAffine()
			var inv secp256k1.ModNScalar
			inv.InverseValNonConst(&d)
			k.Mul2(&s, &inv).Negate()
		case 4:
			// k·P = s·G: the result is 2·s·G (a doubling inside).
			d := randScalar(r)
			if d.IsZero() {
				d.SetInt(3)
			}
			secp256k1.ScalarBaseMultNonConst(&d, &p)
			p.ToAffine()
			var inv secp256k1.ModNScalar
			inv.InverseValNonConst(&d)
			k.Mul2(&s, &inv)
		}
		want := refJoint(&s, &k, &p)
		var got secp256k1.JacobianPoint
		JointMult(&got, &s, &k, &p)
		if !sameJacobian(got, want) {
			t.Fatalf("case %d: s=%v k=%v: JointMult differs from dcrd", i, s, k)
		}
		if i%10 == 3 && !isInf(&got) {
			t.Fatalf("case %d: expected infinity", i)
		}
	}
}
