package eots

import (
	"crypto/sha256"
	"testing"

	"github.com/btcstake/btcstake/internal/benchpair"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
)

// The btcec benchmarks run in the same process so the ratios to btcec
// (docs/eots.md, "Performance") can be read off one run.

func BenchmarkBTCECSchnorrSignFast(b *testing.B) {
	rng := seeded(1)
	sk := mustKey(b, rng)
	priv := sk.PrivKey()
	h := sha256.Sum256([]byte("vote"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := schnorr.Sign(priv, h[:], schnorr.FastSign()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBTCECSchnorrVerify(b *testing.B) {
	rng := seeded(2)
	sk := mustKey(b, rng)
	h := sha256.Sum256([]byte("vote"))
	sig, _ := schnorr.Sign(sk.PrivKey(), h[:])
	pk := sk.PubKey()
	b.ReportAllocs()
	for b.Loop() {
		if !sig.Verify(h[:], pk) {
			b.Fatal("invalid")
		}
	}
}

func BenchmarkSign(b *testing.B) {
	rng := seeded(3)
	sk, k := mustKey(b, rng), mustRand(b, rng)
	msg := VoteMessage(100, [32]byte{1})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Sign(sk, k, msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignWithoutSelfVerify is BenchmarkSign without BIP-340's final
// verification (the internal variant Sign no longer exposes): the
// difference between the two is what the self-check costs.
func BenchmarkSignWithoutSelfVerify(b *testing.B) {
	rng := seeded(3)
	sk, k := mustKey(b, rng), mustRand(b, rng)
	msg := VoteMessage(100, [32]byte{1})
	b.ReportAllocs()
	for b.Loop() {
		h := sha256.Sum256(msg)
		if _, _, err := signHashUnverified(sk, k, h[:]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignFromRawKey includes computing the public key, as a signer
// that does not keep it would.
func BenchmarkSignFromRawKey(b *testing.B) {
	rng := seeded(4)
	sk, k := mustKey(b, rng), mustRand(b, rng)
	raw := sk.Bytes()
	msg := VoteMessage(100, [32]byte{1})
	b.ReportAllocs()
	for b.Loop() {
		key, _ := ParseSecretKey(raw[:])
		if _, err := Sign(key, k, msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	rng := seeded(5)
	sk, k := mustKey(b, rng), mustRand(b, rng)
	msg := VoteMessage(100, [32]byte{1})
	s, _ := Sign(sk, k, msg)
	r, pk := k.PublicRand(), sk.PubKey()
	b.ReportAllocs()
	for b.Loop() {
		if err := Verify(pk, r, msg, s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExtract(b *testing.B) {
	rng := seeded(6)
	sk, k := mustKey(b, rng), mustRand(b, rng)
	m1, m2 := VoteMessage(100, [32]byte{1}), VoteMessage(100, [32]byte{2})
	s1, _ := Sign(sk, k, m1)
	s2, _ := Sign(sk, k, m2)
	r, pk := k.PublicRand(), sk.PubKey()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Extract(pk, r, m1, s1, m2, s2); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDeriveRand is private plus public randomness for one height.
func BenchmarkDeriveRand(b *testing.B) {
	rng := seeded(7)
	sk := mustKey(b, rng)
	chain := []byte("bbn-test-5")
	b.ReportAllocs()
	h := uint64(0)
	for b.Loop() {
		k, err := DeriveRand(sk, chain, h)
		if err != nil {
			b.Fatal(err)
		}
		_ = k.PublicRand()
		h++
	}
}

// BenchmarkCommit10000 builds the root and all proofs over 10,000 public
// randomness values and signs the commitment.
func BenchmarkCommit10000(b *testing.B) {
	rng := seeded(8)
	sk := mustKey(b, rng)
	rs := make([]PublicRand, 10000)
	for i := range rs {
		rng.Read(rs[i][:])
	}
	b.ReportAllocs()
	for b.Loop() {
		root, proofs := CommitProofs(rs)
		if _, err := SignCommit(sk, 1, uint64(len(proofs)), root); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPublicRandList10000 derives the 10,000 values themselves.
func BenchmarkPublicRandList10000(b *testing.B) {
	rng := seeded(9)
	sk := mustKey(b, rng)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := PublicRandList(sk, []byte("bbn-test-5"), 1, 10000, 1); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyProof(b *testing.B) {
	rng := seeded(10)
	rs := make([]PublicRand, 10000)
	for i := range rs {
		rng.Read(rs[i][:])
	}
	root, proofs := CommitProofs(rs)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := VerifyInclusion(root, 10000, uint64(i), rs[i][:], &proofs[i]); err != nil {
			b.Fatal(err)
		}
		i = (i + 7919) % len(rs)
	}
}

// BenchmarkVerifyVsBtcec: EOTS verification beside btcec's schnorr.Verify
// of a BIP-340 signature, interleaved in one benchmark (the ratio is the
// issue 16 goal: at most 0.6).
func BenchmarkVerifyVsBtcec(b *testing.B) {
	rng := seeded(5)
	sk, k := mustKey(b, rng), mustRand(b, rng)
	msg := VoteMessage(100, [32]byte{1})
	s, _ := Sign(sk, k, msg)
	r, pk := k.PublicRand(), sk.PubKey()
	h := sha256.Sum256([]byte("vote"))
	bsig, _ := schnorr.Sign(sk.PrivKey(), h[:])
	b.ReportAllocs()
	benchpair.Run(b, "btcec",
		func() {
			if !bsig.Verify(h[:], pk) {
				b.Fatal("invalid")
			}
		},
		func() {
			if err := Verify(pk, r, msg, s); err != nil {
				b.Fatal(err)
			}
		})
}
