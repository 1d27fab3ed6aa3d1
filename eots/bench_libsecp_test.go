//go:build libsecp256k1 && cgo

package eots

import (
	"crypto/sha256"
	"runtime"
	"testing"

	"github.com/btcstake/btcstake/internal/benchpair"
	"github.com/btcstake/btcstake/internal/secp"
)

const libsecpReps = 8

// runAgainstC times c (libsecpReps operations in one C call) and ours
// (libsecpReps through this package) interleaved, in thread CPU time, and
// reports both per operation and the ratio ours / C.
func runAgainstC(b *testing.B, c, ours func()) {
	b.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	c()
	ours()
	var tc, to int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tc += benchpair.Measure(c)
		to += benchpair.Measure(ours)
	}
	b.StopTimer()
	n := float64(b.N) * libsecpReps
	b.ReportMetric(float64(tc)/n, "c-ns/op")
	b.ReportMetric(float64(to)/n, "btcstake-ns/op")
	if tc > 0 {
		b.ReportMetric(float64(to)/float64(tc), "ratio")
	}
}

// BenchmarkLibsecpVerifyHash: VerifyHash (btcec key in, the backend
// verifying) against libsecp256k1's own verification benchmark body
// (parse the x-only key, verify) in C. Goal: ratio at most 1.1.
func BenchmarkLibsecpVerifyHash(b *testing.B) {
	rng := seeded(5)
	sk, k := mustKey(b, rng), mustRand(b, rng)
	h := sha256.Sum256(VoteMessage(100, [32]byte{1}))
	s, err := SignHash(sk, k, h)
	if err != nil {
		b.Fatal(err)
	}
	r, pk, px := k.PublicRand(), sk.PubKey(), sk.XOnly()
	var sig [64]byte
	copy(sig[:32], r[:])
	copy(sig[32:], s[:])
	b.ReportAllocs()
	runAgainstC(b, func() {
		if secp.CBenchVerify(&px, &sig, &h, libsecpReps) != libsecpReps {
			b.Fatal("C: invalid")
		}
	}, func() {
		for range libsecpReps {
			if err := VerifyHash(pk, r, h, s); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkLibsecpSignHash: SignHash through the backend (signing, then
// BIP-340's verification of the result, both by the library) and the
// signing alone, against libsecp256k1's own signing benchmark body
// (sign_custom with its nonce function, keypair made beforehand) in C.
func BenchmarkLibsecpSignHash(b *testing.B) {
	rng := seeded(3)
	sk, k := mustKey(b, rng), mustRand(b, rng)
	h := sha256.Sum256(VoteMessage(100, [32]byte{1}))
	d := sk.Bytes()
	kp, ok := secp.NewCBenchKeypair(&d)
	clear(d[:])
	if !ok {
		b.Fatal("keypair")
	}
	msg := h
	c := func() {
		if secp.CBenchSign(kp, &msg, libsecpReps) != libsecpReps {
			b.Fatal("C: refused")
		}
	}
	b.Run("sign-only", func(b *testing.B) {
		b.ReportAllocs()
		runAgainstC(b, c, func() {
			for range libsecpReps {
				if _, _, err := signHashUnverified(sk, k, h[:]); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("with-self-verify", func(b *testing.B) {
		b.ReportAllocs()
		runAgainstC(b, c, func() {
			for range libsecpReps {
				if _, err := SignHash(sk, k, h); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}
