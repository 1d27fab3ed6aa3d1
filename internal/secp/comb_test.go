package secp

import (
	"testing"

	secp256k1 "github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// TestTweakAddBatch compares P + t·G for batches of tweaks with dcrd's
// multiplication, including t = 0, t = 1, t = n-1, t with every digit
// ±128, and a tweak that cancels P (infinity).
// The sizes grow and shrink, so that a call reuses the (pooled) scratch
// space of a larger and of a smaller one.
func TestTweakAddBatch(t *testing.T) {
	r := newRand(t)
	for _, n := range []int{1, 2, 7, 40, 5, 64, 1, 9} {
		p := randPoint(r)
		tweaks := make([]secp256k1.ModNScalar, n)
		for i := range tweaks {
			tweaks[i] = randScalar(r)
		}
		if n > 3 {
			var b [32]byte
			for j := range b {
				b[j] = 0x80
			}
			tweaks[0].SetBytes(&b)
			tweaks[1].SetInt(1)
			tweaks[2].SetInt(1)
			tweaks[2].Negate()
			// p = d·G and tweak -d: P + t·G = infinity.
			d := randScalar(r)
			if d.IsZero() {
				d.SetInt(11)
			}
			secp256k1.ScalarBaseMultNonConst(&d, &p)
			p.ToAffine()
			tweaks[3].NegateVal(&d)
		}
		out := make([]TweakResult, n)
		TweakAddBatch(&p, tweaks, out)
		for i := range tweaks {
			var tg, want secp256k1.JacobianPoint
			secp256k1.ScalarBaseMultNonConst(&tweaks[i], &tg)
			secp256k1.AddNonConst(&p, &tg, &want)
			if isInf(&want) {
				if !out[i].Infinity {
					t.Fatalf("n=%d tweak %d: want infinity", n, i)
				}
				continue
			}
			want.ToAffine()
			if out[i].Infinity || out[i].X != *want.X.Bytes() || out[i].OddY != want.Y.IsOdd() {
				t.Fatalf("n=%d tweak %d (%v): got %+v", n, i, tweaks[i], out[i])
			}
		}
	}
}
