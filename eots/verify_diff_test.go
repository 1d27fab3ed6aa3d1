package eots

import (
	"crypto/sha256"
	"fmt"
	"math/big"
	"testing"

	"github.com/btcstake/btcstake/internal/secp"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	secp256k1 "github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// TestVerifyDifferential: Verify (the joint-multiplication verifier) gives
// exactly the error the previous verifier gives (the reference in
// internal/secp, through the same texts) and the validity btcec's
// schnorr.Verify gives, on valid signatures and on signatures broken at
// every verification step: a flipped bit, s = 0, s >= n, r >= p, R with
// odd y, R at infinity; keys of both parities.
func TestVerifyDifferential(t *testing.T) {
	rng := newRand(t)
	n, _ := new(big.Int).SetString("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", 16)
	p, _ := new(big.Int).SetString("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F", 16)
	outcomes := map[string]int{}
	for i := 0; i < 800; i++ {
		sk, k := mustKey(t, rng), mustRand(t, rng)
		msg := randBytes(rng, 1+int(rng.Uint64()%64))
		r, s, err := SignWithPublicRand(sk, k, msg)
		if err != nil {
			t.Fatal(err)
		}
		switch i % 8 {
		case 1:
			j := int(rng.Uint64() % 512)
			if j < 256 {
				r[j/8] ^= 1 << (j % 8)
			} else {
				s[(j-256)/8] ^= 1 << (j % 8)
			}
		case 2:
			s = Signature{}
		case 3:
			new(big.Int).Add(n, big.NewInt(int64(rng.Uint64()%1000))).FillBytes(s[:])
		case 4:
			new(big.Int).Add(p, big.NewInt(int64(rng.Uint64()%977))).FillBytes(r[:])
		case 5:
			// R = -k·G: a nonce point with odd y where an even one is due.
			d := sk.signingScalar()
			var R secp256k1.JacobianPoint
			kk := k.k
			secp256k1.ScalarBaseMultNonConst(&kk, &R)
			R.ToAffine()
			if !R.Y.IsOdd() {
				kk.Negate()
			}
			R.X.PutBytes((*[32]byte)(&r))
			h := sha256.Sum256(msg)
			e := secp.Challenge((*[32]byte)(&r), &sk.px, h[:])
			e.Mul(&d).Add(&kk)
			e.PutBytes((*[32]byte)(&s))
		case 6:
			// s = e·d: R = s·G - e·P is the point at infinity.
			d := sk.signingScalar()
			h := sha256.Sum256(msg)
			e := secp.Challenge((*[32]byte)(&r), &sk.px, h[:])
			e.Mul(&d)
			e.PutBytes((*[32]byte)(&s))
		}
		h := sha256.Sum256(msg)
		got := Verify(sk.PubKey(), r, msg, s)
		key := secp.NewPubKey(sk.PubKey())
		want := verifyError(secp.VerifyBIP340Reference(&key, (*[32]byte)(&r), (*[32]byte)(&s), h[:]))
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("case %d: Verify %v, reference %v", i, got, want)
		}
		var raw [64]byte
		copy(raw[:32], r[:])
		copy(raw[32:], s[:])
		bsig, perr := schnorr.ParseSignature(raw[:])
		if ok := perr == nil && bsig.Verify(h[:], sk.PubKey()); ok != (got == nil) {
			t.Fatalf("case %d: btcec %v, Verify %v", i, ok, got)
		}
		outcomes[fmt.Sprint(got)]++
	}
	if len(outcomes) < 6 {
		t.Fatalf("only %d distinct outcomes: %v", len(outcomes), outcomes)
	}
}
