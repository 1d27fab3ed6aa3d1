package secp

import (
	"math/big"
	"testing"

	secp256k1 "github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// TestJacobiField compares with math/big's Jacobi on random and edge
// values.
func TestJacobiField(t *testing.T) {
	r := newRand(t)
	check := func(v *big.Int) {
		var b [32]byte
		v.FillBytes(b[:])
		var x secp256k1.FieldVal
		x.SetBytes(&b)
		x.Normalize()
		xb := x.Bytes()
		want := big.Jacobi(new(big.Int).SetBytes(xb[:]), curveP)
		if got := jacobiField(&x); got != want {
			t.Fatalf("(%x | p): got %d, want %d", v, got, want)
		}
	}
	for _, v := range []int64{0, 1, 2, 3, 4, 7, 8} {
		check(big.NewInt(v))
	}
	check(new(big.Int).Sub(curveP, big.NewInt(1)))
	check(new(big.Int).Sub(curveP, big.NewInt(7)))
	for i := 0; i < 256; i++ {
		check(new(big.Int).Lsh(big.NewInt(1), uint(i)))
	}
	for i := 0; i < 20000; i++ {
		var b [32]byte
		r.Read(b[:])
		if i%5 == 0 {
			for j := 0; j < 24; j++ {
				b[j] = 0
			}
		}
		check(new(big.Int).SetBytes(b[:]))
	}
}
