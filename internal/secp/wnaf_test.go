package secp

import (
	"math/big"
	"testing"
)

// TestWNAF: the digits recombine to ±k, are odd and bounded, and any w
// consecutive digits hold at most one nonzero.
func TestWNAF(t *testing.T) {
	r := newRand(t)
	check := func(k [4]uint64, w uint, neg bool) {
		var d wnafDigits
		n := wnaf(&d, &k, w, neg)
		sum := new(big.Int)
		last := 1 << 20
		for i := len(d) - 1; i >= 0; i-- {
			if i >= n && d[i] != 0 {
				t.Fatalf("digit %d set beyond length %d", i, n)
			}
			if d[i] == 0 {
				continue
			}
			if d[i]%2 == 0 || int(d[i]) >= 1<<(w-1) || int(d[i]) <= -(1<<(w-1)) {
				t.Fatalf("w=%d: bad digit %d at %d", w, d[i], i)
			}
			if last-i < int(w) {
				t.Fatalf("w=%d: digits at %d and %d closer than w", w, last, i)
			}
			last = i
			sum.Add(sum, new(big.Int).Lsh(big.NewInt(int64(d[i])), uint(i)))
		}
		want := limbsBig(&k)
		if neg {
			want.Neg(want)
		}
		if sum.Cmp(want) != 0 {
			t.Fatalf("w=%d: wnaf of %x recombines to %x", w, want, sum)
		}
		if n > 0 && d[n-1] == 0 {
			t.Fatalf("length %d but top digit zero", n)
		}
	}
	edges := [][4]uint64{{}, {1}, {2}, {^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}, {0, 0, 0, 1 << 63},
		{^uint64(0), ^uint64(0)}, {0, 0, 1}}
	for _, w := range []uint{2, 3, 4, 5, 8, 12, 16} {
		for _, k := range edges {
			check(k, w, false)
			check(k, w, true)
		}
		for i := 0; i < 2000; i++ {
			var k [4]uint64
			for j := range k {
				if r.Intn(4) != 0 {
					k[j] = r.Uint64()
				}
			}
			check(k, w, r.Intn(2) == 0)
		}
	}
}
