package secp

import (
	"crypto/sha256"
	"fmt"
	"testing"

	"github.com/btcstake/btcstake/internal/benchpair"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	secp256k1 "github.com/decred/dcrd/dcrec/secp256k1/v4"
)

type benchSig struct {
	key  *btcec.PublicKey
	pk   PubKey
	hash [32]byte
	sig  *schnorr.Signature
	r, s [32]byte
}

func newBenchSig(b *testing.B, i int) benchSig {
	h := sha256.Sum256([]byte{byte(i), byte(i >> 8), 1})
	k, _ := btcec.PrivKeyFromBytes(h[:])
	m := sha256.Sum256(h[:])
	sig, err := schnorr.Sign(k, m[:])
	if err != nil {
		b.Fatal(err)
	}
	raw := sig.Serialize()
	bs := benchSig{key: k.PubKey(), pk: NewPubKey(k.PubKey()), hash: m, sig: sig}
	copy(bs.r[:], raw[:32])
	copy(bs.s[:], raw[32:])
	return bs
}

// BenchmarkVerify: one BIP-340 verification, btcec's schnorr.Verify beside
// ours (goal: ratio <= 0.6).
func BenchmarkVerify(b *testing.B) {
	s := newBenchSig(b, 1)
	b.ReportAllocs()
	benchpair.Run(b, "btcec",
		func() {
			if !s.sig.Verify(s.hash[:], s.key) {
				b.Fatal("btcec: invalid")
			}
		},
		func() {
			if VerifyBIP340(&s.pk, &s.r, &s.s, s.hash[:]) != Valid {
				b.Fatal("ours: invalid")
			}
		})
}

// BenchmarkVerifyReference: the verifier before the joint multiplication
// (dcrd's two multiplications), beside the current one.
func BenchmarkVerifyReference(b *testing.B) {
	s := newBenchSig(b, 1)
	b.ReportAllocs()
	benchpair.Run(b, "reference",
		func() { VerifyBIP340Reference(&s.pk, &s.r, &s.s, s.hash[:]) },
		func() { VerifyBIP340(&s.pk, &s.r, &s.s, s.hash[:]) })
}

// BenchmarkBuildBaseTables: the one-time cost of the G tables.
func BenchmarkBuildBaseTables(b *testing.B) {
	p := fixedPoint(9)
	b.ReportAllocs()
	for b.Loop() {
		t := new(baseTables)
		affineOddMultiples(&affinePoint{x: p.X, y: p.Y}, t.g[:])
		affineOddMultiples(&affinePoint{x: p.X, y: p.Y}, t.h[:])
	}
}

// BenchmarkInverse: the variable-time inverse beside dcrd's constant-time
// one.
func BenchmarkInverse(b *testing.B) {
	p := fixedPoint(1)
	x, y := p.X, p.X
	b.ReportAllocs()
	benchpair.Run(b, "fermat", func() { x.Inverse() }, func() { inverseVar(&y) })
}

func benchBatch(b *testing.B, n int) ([]benchSig, []BatchItem) {
	sigs := make([]benchSig, n)
	items := make([]BatchItem, n)
	for i := range sigs {
		sigs[i] = newBenchSig(b, i)
		items[i] = BatchItem{Key: &sigs[i].pk, R: sigs[i].r, S: sigs[i].s, Msg: sigs[i].hash[:]}
	}
	return sigs, items
}

// BenchmarkVerifyBatch1000: a batch of 1,000 signatures (distinct keys)
// beside 1,000 btcec verifications; the ratio is per signature (goal:
// at most 0.3).
func BenchmarkVerifyBatch1000(b *testing.B) {
	benchVerifyBatch(b, 1000)
}

// BenchmarkVerifyBatchSizes: the ratio to btcec per signature for batch
// sizes around the Strauss/Pippenger switch and for the small batches of
// finalising.
func BenchmarkVerifyBatchSizes(b *testing.B) {
	for _, n := range []int{2, 5, 8, 16, 24, 32, 64, 128} {
		b.Run(fmt.Sprint(n), func(b *testing.B) { benchVerifyBatch(b, n) })
	}
}

func benchVerifyBatch(b *testing.B, n int) {
	sigs, items := benchBatch(b, n)
	b.ReportAllocs()
	benchpair.Run(b, "btcec",
		func() {
			for i := range sigs {
				if !sigs[i].sig.Verify(sigs[i].hash[:], sigs[i].key) {
					b.Fatal("btcec: invalid")
				}
			}
		},
		func() {
			if f := VerifyBatch(items); f != nil {
				b.Fatal(f)
			}
		})
}

// BenchmarkMSMCrossover: Strauss against Pippenger on the groups of a
// batch of n signatures (2n groups); the ratio is Pippenger / Strauss,
// so Strauss should be used while it is above 1.
func BenchmarkMSMCrossover(b *testing.B) {
	for _, n := range []int{4, 8, 12, 16, 24, 32, 48} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			r := newRand(b)
			gs := randGroups(r, 2*n)
			s := randScalar(r)
			b.ReportAllocs()
			benchpair.Run(b, "strauss",
				func() { straussMSM(&s, gs) },
				func() { pippengerMSM(&s, gs) })
		})
	}
}

// BenchmarkTweakAddBatch20: twenty taproot output keys P + t·G computed
// together, beside dcrd's base multiplication, addition and affine
// conversion for each (what script's tweakKey did one at a time).
func BenchmarkTweakAddBatch20(b *testing.B) {
	p := fixedPoint(3)
	tweaks := make([]secp256k1.ModNScalar, 20)
	for i := range tweaks {
		tweaks[i] = fixedScalar(byte(i))
	}
	out := make([]TweakResult, len(tweaks))
	TweakAddBatch(&p, tweaks, out)
	b.ReportAllocs()
	benchpair.Run(b, "dcrd",
		func() {
			for i := range tweaks {
				var tg, q secp256k1.JacobianPoint
				secp256k1.ScalarBaseMultNonConst(&tweaks[i], &tg)
				secp256k1.AddNonConst(&p, &tg, &q)
				toAffineVar(&q)
			}
		},
		func() { TweakAddBatch(&p, tweaks, out) })
}

// BenchmarkJacobi: the Jacobi symbol beside the variable-time inverse
// (the same divstep machinery).
func BenchmarkJacobi(b *testing.B) {
	p := fixedPoint(5)
	x, y := p.X, p.X
	b.ReportAllocs()
	benchpair.Run(b, "inverse", func() { inverseVar(&x) }, func() { jacobiField(&y) })
}
