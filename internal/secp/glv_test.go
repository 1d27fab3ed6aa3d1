package secp

import (
	"math/big"
	"testing"

	secp256k1 "github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// TestEndomorphismConstants checks the relations the split and φ rely on,
// with math/big and dcrd's own multiplication as oracles.
func TestEndomorphismConstants(t *testing.T) {
	beta := new(big.Int).SetBytes(endoBeta.Bytes()[:])
	if new(big.Int).Exp(beta, big.NewInt(3), curveP).Cmp(big.NewInt(1)) != 0 || beta.Cmp(big.NewInt(1)) == 0 {
		t.Fatal("β is not a nontrivial cube root of unity mod p")
	}
	negLambda := scalarBig(&endoNegLambda)
	lambda := new(big.Int).Sub(curveN, negLambda)
	if new(big.Int).Exp(lambda, big.NewInt(3), curveN).Cmp(big.NewInt(1)) != 0 {
		t.Fatal("λ is not a cube root of unity mod n")
	}
	// λ·G = (β·Gx, Gy).
	var l secp256k1.ModNScalar
	l.Set(&endoNegLambda).Negate()
	var lg, g secp256k1.JacobianPoint
	secp256k1.ScalarBaseMultNonConst(&l, &lg)
	lg.ToAffine()
	secp256k1.ScalarBaseMultNonConst(new(secp256k1.ModNScalar).SetInt(1), &g)
	g.ToAffine()
	var bx secp256k1.FieldVal
	bx.Mul2(&g.X, &endoBeta).Normalize()
	if !lg.X.Equals(&bx) || !lg.Y.Equals(&g.Y) {
		t.Fatal("λ·G != (β·Gx, Gy)")
	}
	// The lattice: a_i + b_i·λ = 0 mod n and a1·b2 - a2·b1 = n, with
	// a1 = b2 = -(-b2), a2 = -b1 + b2... recovered from the stored values.
	b1 := new(big.Int).Neg(scalarBig(&endoNegB1))
	b2 := new(big.Int).Sub(curveN, scalarBig(&endoNegB2))
	a1 := new(big.Int).Set(b2)
	a2, _ := new(big.Int).SetString("114ca50f7a8e2f3f657c1108d9d44cfd8", 16)
	for i, v := range [][2]*big.Int{{a1, b1}, {a2, b2}} {
		x := new(big.Int).Mul(v[1], lambda)
		x.Add(x, v[0]).Mod(x, curveN)
		if x.Sign() != 0 {
			t.Fatalf("a%d + b%d·λ != 0 mod n", i+1, i+1)
		}
	}
	det := new(big.Int).Sub(new(big.Int).Mul(a1, b2), new(big.Int).Mul(a2, b1))
	if det.Cmp(curveN) != 0 {
		t.Fatal("a1·b2 - a2·b1 != n")
	}
	// g1 = round(2^384·b2/n), g2 = round(2^384·(-b1)/n).
	round := func(num *big.Int) *big.Int {
		q := new(big.Int).Lsh(num, 1)
		q.Add(q, curveN)
		return q.Div(q, new(big.Int).Lsh(curveN, 1))
	}
	if round(new(big.Int).Lsh(b2, 384)).Cmp(limbsBig(&endoG1)) != 0 {
		t.Fatal("g1 is not round(2^384·b2/n)")
	}
	if round(new(big.Int).Lsh(new(big.Int).Neg(b1), 384)).Cmp(limbsBig(&endoG2)) != 0 {
		t.Fatal("g2 is not round(2^384·(-b1)/n)")
	}
}

// TestSplitScalar: k ≡ ±m1 ± m2·λ (mod n) with both magnitudes below 2^128.
func TestSplitScalar(t *testing.T) {
	r := newRand(t)
	var l secp256k1.ModNScalar
	l.Set(&endoNegLambda).Negate()
	lambda := scalarBig(&l)
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	check := func(k secp256k1.ModNScalar) {
		m1, n1, m2, n2 := splitScalar(&k)
		a, b := limbsBig(&m1), limbsBig(&m2)
		if a.Cmp(limit) >= 0 || b.Cmp(limit) >= 0 {
			t.Fatalf("split of %v: halves %x, %x not below 2^128", k, a, b)
		}
		if n1 {
			a.Neg(a)
		}
		if n2 {
			b.Neg(b)
		}
		sum := new(big.Int).Mul(b, lambda)
		sum.Add(sum, a).Mod(sum, curveN)
		if sum.Cmp(scalarBig(&k)) != 0 {
			t.Fatalf("split of %v does not recombine", k)
		}
	}
	check(l) // λ itself: (0, 1)
	for i := 0; i < 20000; i++ {
		check(randScalar(r))
	}
}
