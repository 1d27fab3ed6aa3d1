package secp

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"math/big"
	"math/rand"
	"os"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	secp256k1 "github.com/decred/dcrd/dcrec/secp256k1/v4"
)

type bip340Vector struct {
	index, comment string
	pk, msg, sig   []byte
	valid          bool
}

func loadBIP340(t testing.TB) []bip340Vector {
	t.Helper()
	f, err := os.Open("testdata/bip340-test-vectors.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []bip340Vector
	for _, row := range rows[1:] {
		dec := func(s string) []byte {
			b, err := hex.DecodeString(s)
			if err != nil {
				t.Fatalf("vector %s: %v", row[0], err)
			}
			return b
		}
		out = append(out, bip340Vector{index: row[0], pk: dec(row[2]), msg: dec(row[4]), sig: dec(row[5]),
			valid: row[6] == "TRUE", comment: row[7]})
	}
	if len(out) < 15 {
		t.Fatalf("only %d vectors", len(out))
	}
	return out
}

// TestVerifyBIP340Vectors runs every BIP-340 verification vector: the
// valid ones must verify, the invalid ones must not (a key that is not a
// curve point fails in ParsePubKey).
func TestVerifyBIP340Vectors(t *testing.T) {
	for _, v := range loadBIP340(t) {
		pk, ok := ParsePubKey((*[32]byte)(v.pk))
		if !ok {
			if v.valid {
				t.Fatalf("vector %s: valid key rejected", v.index)
			}
			continue
		}
		got := VerifyBIP340(&pk, (*[32]byte)(v.sig[:32]), (*[32]byte)(v.sig[32:]), v.msg)
		ref := VerifyBIP340Reference(&pk, (*[32]byte)(v.sig[:32]), (*[32]byte)(v.sig[32:]), v.msg)
		if (got == Valid) != v.valid || got != ref {
			t.Fatalf("vector %s (%s): got %v, reference %v, want valid=%v", v.index, v.comment, got, ref, v.valid)
		}
	}
}

// sigCase is one random verification input.
type sigCase struct {
	key    *btcec.PrivateKey
	r, s   [32]byte
	msg    []byte
	odd    bool // the key's full point has odd y
	expect Result
}

// randSigCase makes a random signature, valid or broken in one of the ways
// BIP-340 verification distinguishes: s = 0, s >= n, r >= p, R at
// infinity, R with odd y, a flipped bit, another message, r not a curve
// x coordinate.
func randSigCase(r *rand.Rand) sigCase {
	var kb [32]byte
	r.Read(kb[:])
	key, _ := btcec.PrivKeyFromBytes(kb[:])
	msg := make([]byte, []int{32, 32, 32, 0, 1, 17, 100}[r.Intn(7)])
	r.Read(msg)
	pub := NewPubKey(key.PubKey())
	c := sigCase{key: key, msg: msg, odd: key.PubKey().SerializeCompressed()[0] == 0x03}
	// d: the even-y secret.
	d := key.Key
	if c.odd {
		d.Negate()
	}
	sign := func(k secp256k1.ModNScalar, keepOdd bool) {
		var R secp256k1.JacobianPoint
		secp256k1.ScalarBaseMultNonConst(&k, &R)
		R.ToAffine()
		if R.Y.IsOdd() && !keepOdd {
			k.Negate()
		}
		R.X.PutBytes(&c.r)
		e := Challenge(&c.r, &pub.px, msg)
		e.Mul(&d).Add(&k)
		e.PutBytes(&c.s)
	}
	k := randScalar(r)
	if k.IsZero() {
		k.SetInt(5)
	}
	switch r.Intn(10) {
	case 0, 1, 2:
		sign(k, false)
		c.expect = Valid
	case 3: // R with odd y, not negated away
		for {
			var R secp256k1.JacobianPoint
			secp256k1.ScalarBaseMultNonConst(&k, &R)
			R.ToAffine()
			if R.Y.IsOdd() {
				break
			}
			k.Add(new(secp256k1.ModNScalar).SetInt(1))
		}
		sign(k, true)
		c.expect = ROddY
	case 4: // s = e·d: R = s·G - e·P is infinity
		var x [32]byte
		r.Read(x[:])
		c.r = x
		e := Challenge(&c.r, &pub.px, msg)
		e.Mul(&d)
		e.PutBytes(&c.s)
		c.expect = RInfinity
	case 5: // s >= n
		sign(k, false)
		v := new(big.Int).Add(curveN, big.NewInt(r.Int63n(1<<40)))
		v.FillBytes(c.s[:])
		c.expect = SNotInOrder
	case 6: // r >= p
		sign(k, false)
		v := new(big.Int).Add(curveP, big.NewInt(r.Int63n(977)))
		v.FillBytes(c.r[:])
		c.expect = RNotInField
	case 7: // s = 0
		sign(k, false)
		c.s = [32]byte{}
		c.expect = 255 // mismatch or odd y: whatever the reference says
	case 8: // a flipped bit anywhere in r || s
		sign(k, false)
		i := r.Intn(512)
		if i < 256 {
			c.r[i/8] ^= 1 << (i % 8)
		} else {
			c.s[(i-256)/8] ^= 1 << (i % 8)
		}
		c.expect = 255
	case 9: // another message
		sign(k, false)
		c.msg = append([]byte{1}, msg...)
		c.expect = 255
	}
	return c
}

// TestVerifyDifferential compares VerifyBIP340 with the reference verifier
// (same Result) and with btcec's schnorr.Verify (same validity) on random
// signatures, valid and broken, for keys of both parities.
func TestVerifyDifferential(t *testing.T) {
	r := newRand(t)
	n := 3000
	if testing.Short() {
		n = 500
	}
	counts := map[Result]int{}
	for i := 0; i < n; i++ {
		c := randSigCase(r)
		pk := NewPubKey(c.key.PubKey())
		got := VerifyBIP340(&pk, &c.r, &c.s, c.msg)
		ref := VerifyBIP340Reference(&pk, &c.r, &c.s, c.msg)
		if got != ref {
			t.Fatalf("case %d: got %v, reference %v", i, got, ref)
		}
		if c.expect != 255 && got != c.expect {
			t.Fatalf("case %d: got %v, want %v", i, got, c.expect)
		}
		counts[got]++
		// btcec: same validity (it takes r || s as one signature and
		// rejects r >= p, s >= n at parsing).
		var sig64 [64]byte
		copy(sig64[:32], c.r[:])
		copy(sig64[32:], c.s[:])
		bsig, err := schnorr.ParseSignature(sig64[:])
		bok := err == nil && schnorrVerifyAny(bsig, c.msg, c.key.PubKey())
		if bok != (got == Valid) {
			t.Fatalf("case %d: btcec says %v, we say %v", i, bok, got)
		}
		// The x-only parse gives the same key.
		xk, ok := ParsePubKey(&pk.px)
		if !ok || VerifyBIP340(&xk, &c.r, &c.s, c.msg) != got {
			t.Fatalf("case %d: x-only key verifies differently", i)
		}
	}
	for _, res := range []Result{Valid, ROddY, RInfinity, SNotInOrder, RNotInField, RMismatch} {
		if counts[res] == 0 {
			t.Fatalf("no case ended in %v: %v", res, counts)
		}
	}
}

// schnorrVerifyAny is btcec's BIP-340 verification for a message of any
// length (btcec's Verify takes 32-byte hashes only; for other lengths
// compare with the reference, as BIP-340 allows any length).
func schnorrVerifyAny(sig *schnorr.Signature, msg []byte, pk *btcec.PublicKey) bool {
	if len(msg) == 32 {
		return sig.Verify(msg, pk)
	}
	p := NewPubKey(pk)
	b := sig.Serialize()
	return VerifyBIP340Reference(&p, (*[32]byte)(b[:32]), (*[32]byte)(b[32:]), msg) == Valid
}

// FuzzVerifyAgainstBtcec: for any key, signature and 32-byte message,
// VerifyBIP340 agrees with btcec's schnorr.Verify, and with the reference
// verifier on the reason.
func FuzzVerifyAgainstBtcec(f *testing.F) {
	for _, v := range loadBIP340(f) {
		if len(v.msg) == 32 {
			f.Add(v.pk, v.sig, v.msg)
		}
	}
	h := sha256.Sum256([]byte("seed"))
	f.Add(h[:], make([]byte, 64), h[:])
	f.Fuzz(func(t *testing.T, pkx, sig, msg []byte) {
		if len(pkx) != 32 || len(sig) != 64 || len(msg) != 32 {
			return
		}
		bpk, berr := schnorr.ParsePubKey(pkx)
		pk, ok := ParsePubKey((*[32]byte)(pkx))
		if ok != (berr == nil) {
			t.Fatalf("key parse: btcec %v, ours %v", berr, ok)
		}
		if !ok {
			return
		}
		got := VerifyBIP340(&pk, (*[32]byte)(sig[:32]), (*[32]byte)(sig[32:]), msg)
		if ref := VerifyBIP340Reference(&pk, (*[32]byte)(sig[:32]), (*[32]byte)(sig[32:]), msg); ref != got {
			t.Fatalf("got %v, reference %v", got, ref)
		}
		bsig, err := schnorr.ParseSignature(sig)
		bok := err == nil && bsig.Verify(msg, bpk)
		if bok != (got == Valid) {
			t.Fatalf("btcec %v, ours %v", bok, got)
		}
	})
}
