package adaptor

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/btcstake/btcstake/internal/secp"
	"github.com/btcsuite/btcd/btcec/v2"
	secp256k1 "github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// encVerifyReference is EncVerify as it was before the joint
// multiplication: s0·G and e·P by dcrd's separate multiplications, both
// sums brought to affine coordinates. It is the oracle of
// TestEncVerifyDifferential.
func encVerifyReference(pk *btcec.PublicKey, ek *EncryptionKey, msgHash []byte, sig *Signature) error {
	if err := checkHash(msgHash); err != nil {
		return err
	}
	if pk == nil || ek == nil || sig == nil || !pk.IsOnCurve() {
		return fmt.Errorf("%w: missing argument or public key not a curve point", ErrInvalidKey)
	}
	P, px := secp.EvenKey(pk)
	var rx [32]byte
	sig.r0.X.PutBytes(&rx)
	e := secp.Challenge(&rx, &px, msgHash)
	e.Negate()
	var sG, eP, R secp256k1.JacobianPoint
	secp256k1.ScalarBaseMultNonConst(&sig.s0, &sG)
	secp256k1.ScalarMultNonConst(&e, &P, &eP)
	secp256k1.AddNonConst(&sG, &eP, &R)
	if secp.IsInfinity(&R) {
		return fmt.Errorf("%w: s0·G - e·P is the point at infinity", ErrInvalidSignature)
	}
	R.ToAffine()
	if !sig.r0.Y.IsOdd() {
		secp.Negate(&R)
	}
	var T secp256k1.JacobianPoint
	secp256k1.AddNonConst(&sig.r0, &R, &T)
	if secp.IsInfinity(&T) {
		return fmt.Errorf("%w: recovered adaptor point is infinity", ErrInvalidSignature)
	}
	T.ToAffine()
	if !secp.Equal(&T, &ek.t) {
		return fmt.Errorf("%w: signature does not match this key, encryption key and message", ErrInvalidSignature)
	}
	return nil
}

// forged returns an adaptor signature (R0 = k·G, s0) by sk on m under ek
// chosen so that verification ends at a given step: "R-infinity" (s0·G =
// e·P) or "T-infinity" (T' = R0 ∓ R is infinity).
func forged(t *testing.T, r *rand.ChaCha8, sk *btcec.PrivateKey, m []byte, kind string) *Signature {
	t.Helper()
	k := randKey(t, r).Key
	var R0 secp256k1.JacobianPoint
	secp256k1.ScalarBaseMultNonConst(&k, &R0)
	R0.ToAffine()
	d := sk.Key
	P, px := secp.EvenKey(sk.PubKey())
	var full secp256k1.JacobianPoint
	sk.PubKey().AsJacobian(&full)
	if !secp.Equal(&P, &full) {
		d.Negate()
	}
	var rx [32]byte
	R0.X.PutBytes(&rx)
	e := secp.Challenge(&rx, &px, m)
	s0 := *new(secp256k1.ModNScalar).Mul2(&e, &d)
	if kind == "T-infinity" {
		// R = s0·G - e·P must be R0 (even y) or -R0 (odd y).
		if R0.Y.IsOdd() {
			k.Negate()
		}
		s0.Add(&k)
	}
	return &Signature{r0: R0, s0: s0}
}

// TestEncVerifyDifferential compares EncVerify with the reference (same
// error, text included) on valid adaptor signatures and on every kind of
// broken one: a flipped bit in s0, another message, key or encryption key,
// R0 negated, and forgeries that stop at each verification step.
func TestEncVerifyDifferential(t *testing.T) {
	r := newRand(t)
	n := 600
	if testing.Short() {
		n = 150
	}
	seen := map[string]int{}
	for i := 0; i < n; i++ {
		sk, other := randKey(t, r), randKey(t, r)
		var ek *EncryptionKey
		var err error
		if i%5 == 0 {
			ek, err = NewEncryptionKeyFromPoint(randKey(t, r).PubKey())
		} else {
			ek, err = NewEncryptionKey(randKey(t, r).PubKey())
		}
		if err != nil {
			t.Fatal(err)
		}
		m := make([]byte, 32)
		r.Read(m)
		var aux [32]byte
		r.Read(aux[:])
		sig, err := EncSignAux(sk, ek, m, aux)
		if err != nil {
			t.Fatal(err)
		}
		pk, m2 := sk.PubKey(), m
		kind := []string{"valid", "bit", "msg", "key", "ek", "negR0", "R-infinity", "T-infinity"}[i%8]
		switch kind {
		case "bit":
			b := sig.s0.Bytes()
			b[r.Uint64()%32] ^= 1 << (r.Uint64() % 8)
			sig.s0.SetBytes(&b)
		case "msg":
			m2 = append([]byte{}, m...)
			m2[0] ^= 1
		case "key":
			pk = other.PubKey()
		case "ek":
			ek, _ = NewEncryptionKey(other.PubKey())
		case "negR0":
			secp.Negate(&sig.r0)
		case "R-infinity", "T-infinity":
			sig = forged(t, r, sk, m, kind)
		}
		got, want := EncVerify(pk, ek, m2, sig), encVerifyReference(pk, ek, m2, sig)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("case %d (%s): EncVerify %v, reference %v", i, kind, got, want)
		}
		if (kind == "valid") != (got == nil) {
			t.Fatalf("case %d (%s): EncVerify %v", i, kind, got)
		}
		if want := map[string]string{"R-infinity": "s0·G - e·P is the point at infinity",
			"T-infinity": "recovered adaptor point is infinity"}[kind]; want != "" && !strings.Contains(fmt.Sprint(got), want) {
			t.Fatalf("case %d (%s): EncVerify %v, want %q", i, kind, got, want)
		}
		seen[fmt.Sprint(got)]++
	}
	if len(seen) < 4 {
		t.Fatalf("only %d distinct outcomes: %v", len(seen), seen)
	}
}
