package secp

import (
	"math/big"
	"testing"

	secp256k1 "github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// TestInverseVar compares the variable-time inverse with dcrd's
// constant-time one and with math/big, on random and edge values.
func TestInverseVar(t *testing.T) {
	r := newRand(t)
	check := func(b [32]byte) {
		var x secp256k1.FieldVal
		x.SetBytes(&b)
		want := x
		want.Inverse().Normalize()
		got := x
		inverseVar(&got)
		if !got.Equals(&want) {
			t.Fatalf("inverse of %x: got %v, want %v", b, got, want)
		}
		xb := new(big.Int).SetBytes(b[:])
		xb.Mod(xb, curveP)
		if xb.Sign() != 0 {
			inv := new(big.Int).ModInverse(xb, curveP)
			gb := got.Bytes()
			if inv.Cmp(new(big.Int).SetBytes(gb[:])) != 0 {
				t.Fatalf("inverse of %x differs from math/big", b)
			}
		}
	}
	edges := []*big.Int{big.NewInt(0), big.NewInt(1), big.NewInt(2), big.NewInt(3),
		new(big.Int).Sub(curveP, big.NewInt(1)), new(big.Int).Sub(curveP, big.NewInt(2)),
		new(big.Int).Lsh(big.NewInt(1), 255), new(big.Int).Lsh(big.NewInt(1), 62),
		new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1)), // >= p: reduced
		new(big.Int).Add(curveP, big.NewInt(5)),
		new(big.Int).Rsh(curveP, 1)}
	for i := 0; i < 256; i++ {
		edges = append(edges, new(big.Int).Lsh(big.NewInt(1), uint(i)))
	}
	for _, v := range edges {
		var b [32]byte
		v.FillBytes(b[:])
		check(b)
	}
	for i := 0; i < 20000; i++ {
		var b [32]byte
		r.Read(b[:])
		if i%4 == 0 {
			for j := 0; j < 32; j++ {
				if r.Intn(3) == 0 {
					b[j] = 0
				}
			}
		}
		check(b)
	}
}
