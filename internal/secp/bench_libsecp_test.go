//go:build libsecp256k1 && cgo

package secp

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/btcstake/btcstake/internal/benchpair"
	"github.com/btcsuite/btcd/btcec/v2"
)

// libsecpReps is how many operations each timed call runs on each side:
// enough that the one cgo call of the C baseline costs nothing measurable.
const libsecpReps = 8

// runAgainstC times c (libsecpReps operations in one C call) and ours
// (libsecpReps operations through the Go API), interleaved, in thread CPU
// time (benchpair.Measure), and reports both per operation and their
// ratio (ours / C).
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

// BenchmarkLibsecpVerify: VerifyBIP340 through the backend against the
// library's own verification benchmark (src/modules/schnorrsig/
// bench_impl.h: parse the x-only key, verify) run in C in the same
// process ("bench"), and against the verification alone with the key
// parsed once ("verify-only"). Goal: ratio at most 1.1.
func BenchmarkLibsecpVerify(b *testing.B) {
	s := newBenchSig(b, 1)
	var sig [64]byte
	copy(sig[:32], s.r[:])
	copy(sig[32:], s.s[:])
	ours := func() {
		for range libsecpReps {
			if VerifyBIP340(&s.pk, &s.r, &s.s, s.hash[:]) != Valid {
				b.Fatal("ours: invalid")
			}
		}
	}
	b.Run("bench", func(b *testing.B) {
		b.ReportAllocs()
		runAgainstC(b, func() {
			if CBenchVerify(&s.pk.px, &sig, &s.hash, libsecpReps) != libsecpReps {
				b.Fatal("C: invalid")
			}
		}, ours)
	})
	b.Run("verify-only", func(b *testing.B) {
		b.ReportAllocs()
		runAgainstC(b, func() {
			if CBenchVerifyParsed(&s.pk.px, &sig, &s.hash, libsecpReps) != libsecpReps {
				b.Fatal("C: invalid")
			}
		}, ours)
	})
}

// BenchmarkLibsecpVerifyVsGo: the backend beside the pure-Go verifier.
func BenchmarkLibsecpVerifyVsGo(b *testing.B) {
	s := newBenchSig(b, 1)
	b.ReportAllocs()
	benchpair.Run(b, "go",
		func() { verifyBIP340Go(&s.pk, &s.r, &s.s, s.hash[:]) },
		func() { VerifyBIP340(&s.pk, &s.r, &s.s, s.hash[:]) })
}

// BenchmarkLibsecpSign: SignLibsecp (EOTS signing with a given nonce,
// keypair assembled from the public key) against the library's own
// signing benchmark (sign_custom with its BIP-340 nonce function and a
// keypair made beforehand) in C.
func BenchmarkLibsecpSign(b *testing.B) {
	s := newBenchSig(b, 1)
	d := [32]byte{0: 0x5a, 31: 7}
	kp, ok := NewCBenchKeypair(&d)
	if !ok {
		b.Fatal("keypair")
	}
	_, pub := btcec.PrivKeyFromBytes(d[:])
	k := [32]byte{0: 0x11, 31: 3}
	msg := s.hash
	var sig [64]byte
	b.ReportAllocs()
	runAgainstC(b, func() {
		if CBenchSign(kp, &msg, libsecpReps) != libsecpReps {
			b.Fatal("C: refused")
		}
	}, func() {
		for i := range libsecpReps {
			msg[0] = byte(i)
			if !SignLibsecp(&sig, msg[:], &d, pub, &k) {
				b.Fatal("ours: refused")
			}
		}
	})
}

// BenchmarkLibsecpBatch: VerifyBatch with the library (one by one up to
// libsecpBatchMax, the pure-Go batch above) beside the pure-Go batch
// alone; the ratio below 1 up to the threshold is why it is there.
func BenchmarkLibsecpBatch(b *testing.B) {
	for _, n := range []int{3, 8, 32, 160, 320, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			_, items := benchBatch(b, n)
			max := libsecpBatchMax
			defer func() { libsecpBatchMax = max }()
			b.ReportAllocs()
			benchpair.Run(b, "go-batch",
				func() {
					libsecpBatchMax = 0
					if VerifyBatch(items) != nil {
						b.Fatal("go: invalid")
					}
				},
				func() {
					libsecpBatchMax = max
					if VerifyBatch(items) != nil {
						b.Fatal("ours: invalid")
					}
				})
		})
	}
}
