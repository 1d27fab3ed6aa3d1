package script

import (
	"math/big"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2/schnorr"
)

// TestIsXCoordinateMatchesLiftX: over many random and edge-case inputs the
// fast check agrees with btcec's lift_x (schnorr.ParsePubKey).
func TestIsXCoordinateMatchesLiftX(t *testing.T) {
	r := newRand(t)
	check := func(x [32]byte) {
		_, err := schnorr.ParsePubKey(x[:])
		if got, want := isXCoordinate(&x), err == nil; got != want {
			t.Fatalf("x=%x: isXCoordinate %v, lift_x %v", x, got, want)
		}
	}
	var x [32]byte
	for i := 0; i < 20000; i++ {
		r.Read(x[:])
		check(x)
	}
	// Edges: 0, 1, small values, p-1, p, p+1, 2^256-1, and NUMS.
	p := new(big.Int).SetBytes([]byte{
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xfc, 0x2f})
	for _, v := range []*big.Int{big.NewInt(0), big.NewInt(1), big.NewInt(2), big.NewInt(7),
		new(big.Int).Sub(p, big.NewInt(1)), p, new(big.Int).Add(p, big.NewInt(1)),
		new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))} {
		v.FillBytes(x[:])
		check(x)
	}
	for i := 0; i < 300; i++ {
		x = [32]byte{}
		x[31] = byte(i)
		x[30] = byte(i >> 8)
		check(x)
	}
	check(NUMSKey)
}

func BenchmarkIsXCoordinate(b *testing.B) {
	x := [32]byte(NUMSKey)
	b.ReportAllocs()
	for b.Loop() {
		if !isXCoordinate(&x) {
			b.Fatal("NUMS rejected")
		}
	}
}
