//go:build libsecp256k1 && cgo

package eots

import (
	"crypto/sha256"
	"testing"

	"github.com/btcstake/btcstake/internal/secp"
	secp256k1 "github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// TestSignBackendIsLibsecp: with the tag, Sign goes through the library.
func TestSignBackendIsLibsecp(t *testing.T) {
	if got := secp.Backend(); got != "libsecp256k1" {
		t.Fatalf("backend %q with -tags libsecp256k1", got)
	}
}

// TestSignLibsecpMatchesGo: the library's signature is byte for byte the
// pure-Go one for the same key, committed randomness and message, over
// keys and nonces of both y parities (the two negations of BIP-340
// signing), randomness from DeriveRand and GeneratePrivateRand, and
// messages of several lengths; Sign (with its self-verification) returns
// it too.
func TestSignLibsecpMatchesGo(t *testing.T) {
	rng := newRand(t)
	var oddKey, oddR int
	const n = 400
	for i := 0; i < n; i++ {
		sk := mustKey(t, rng)
		var k *PrivateRand
		if i%2 == 0 {
			var err error
			if k, err = DeriveRand(sk, []byte("chain"), uint64(i)); err != nil {
				t.Fatal(err)
			}
		} else {
			k = mustRand(t, rng)
		}
		m := randBytes(rng, []int{32, 32, 0, 1, 64, 100}[i%6])
		wantR, wantS := signHashGo(sk, k, m)
		r, s, err := signHashBackend(sk, k, m)
		if err != nil || r != wantR || s != wantS {
			t.Fatalf("case %d: library (%x, %x, %v), Go (%x, %x)", i, r, s, err, wantR, wantS)
		}
		if sk.odd {
			oddKey++
		}
		var R secp256k1.JacobianPoint
		secp256k1.ScalarBaseMultNonConst(&k.k, &R)
		R.ToAffine()
		if R.Y.IsOdd() {
			oddR++
		}
		if len(m) == 32 {
			got, err := SignHash(sk, k, [32]byte(m))
			if err != nil || got != wantS {
				t.Fatalf("case %d: SignHash %x, %v", i, got, err)
			}
		}
	}
	if oddKey == 0 || oddKey == n || oddR == 0 || oddR == n {
		t.Fatalf("parities not covered: odd keys %d, odd R %d of %d", oddKey, oddR, n)
	}
}

// TestSignLibsecpExtract: a key extracted from two library signatures
// with the same randomness is the signer's (the property EOTS exists
// for).
func TestSignLibsecpExtract(t *testing.T) {
	rng := newRand(t)
	for i := 0; i < 20; i++ {
		sk, k := mustKey(t, rng), mustRand(t, rng)
		m1, m2 := randBytes(rng, 40), randBytes(rng, 41)
		s1, err1 := Sign(sk, k, m1)
		s2, err2 := Sign(sk, k, m2)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		got, err := Extract(sk.PubKey(), k.PublicRand(), m1, s1, m2, s2)
		if err != nil || !got.Equal(sk) {
			t.Fatalf("case %d: extract %v", i, err)
		}
		h := sha256.Sum256(m1)
		if _, s, _ := signHashBackend(sk, k, h[:]); s != s1 {
			t.Fatalf("case %d: Sign differs from the backend", i)
		}
	}
}
