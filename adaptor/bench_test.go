package adaptor

import (
	"testing"

	"github.com/btcstake/btcstake/internal/benchpair"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
)

func benchSetup(b *testing.B) (*Signature, *EncryptionKey, *DecryptionKey, []byte, *schnorr.Signature) {
	rng := seeded(42)
	cov, fp := randKey(b, rng), randKey(b, rng)
	ek, _ := NewEncryptionKey(fp.PubKey())
	dk, _ := NewDecryptionKey(fp)
	m := make([]byte, 32)
	rng.Read(m)
	sig, _ := EncSignAux(cov, ek, m, [32]byte{})
	final, _ := Decrypt(sig, dk)
	return sig, ek, dk, m, final
}

func BenchmarkBTCECSchnorrSignFast(b *testing.B) {
	rng := seeded(1)
	sk := randKey(b, rng)
	m := make([]byte, 32)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := schnorr.Sign(sk, m, schnorr.FastSign()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBTCECSchnorrVerify(b *testing.B) {
	rng := seeded(2)
	sk := randKey(b, rng)
	m := make([]byte, 32)
	sig, _ := schnorr.Sign(sk, m)
	pk := sk.PubKey()
	b.ReportAllocs()
	for b.Loop() {
		if !sig.Verify(m, pk) {
			b.Fatal("invalid")
		}
	}
}

func BenchmarkEncSign(b *testing.B) {
	rng := seeded(3)
	cov, fp := randKey(b, rng), randKey(b, rng)
	ek, _ := NewEncryptionKey(fp.PubKey())
	m := make([]byte, 32)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EncSign(cov, ek, m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncVerify(b *testing.B) {
	rng := seeded(4)
	cov, fp := randKey(b, rng), randKey(b, rng)
	ek, _ := NewEncryptionKey(fp.PubKey())
	m := make([]byte, 32)
	sig, _ := EncSign(cov, ek, m)
	pk := cov.PubKey()
	b.ReportAllocs()
	for b.Loop() {
		if err := EncVerify(pk, ek, m, sig); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecrypt(b *testing.B) {
	sig, _, dk, _, _ := benchSetup(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decrypt(sig, dk); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExtract(b *testing.B) {
	sig, ek, _, _, final := benchSetup(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Extract(sig, final, ek); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	sig, _, _, _, _ := benchSetup(b)
	enc := sig.Bytes()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(enc[:]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncVerifyVsBtcec: adaptor verification beside btcec's
// schnorr.Verify, interleaved in one benchmark.
func BenchmarkEncVerifyVsBtcec(b *testing.B) {
	rng := seeded(4)
	cov, fp := randKey(b, rng), randKey(b, rng)
	ek, _ := NewEncryptionKey(fp.PubKey())
	m := make([]byte, 32)
	sig, _ := EncSign(cov, ek, m)
	pk := cov.PubKey()
	bsig, _ := schnorr.Sign(cov, m)
	b.ReportAllocs()
	benchpair.Run(b, "btcec",
		func() {
			if !bsig.Verify(m, pk) {
				b.Fatal("invalid")
			}
		},
		func() {
			if err := EncVerify(pk, ek, m, sig); err != nil {
				b.Fatal(err)
			}
		})
}
