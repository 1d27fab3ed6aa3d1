package adaptor

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/btcstake/btcstake/internal/secp"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	secp256k1 "github.com/decred/dcrd/dcrec/secp256k1/v4"
)

func newRand(t testing.TB) *rand.ChaCha8 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("BTCSTAKE_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("BTCSTAKE_SEED: %v", err)
		}
	}
	t.Logf("seed %d (BTCSTAKE_SEED=%d replays it)", seed, seed)
	return seeded(seed)
}

func seeded(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	return rand.NewChaCha8(s)
}

func randKey(t testing.TB, r *rand.ChaCha8) *btcec.PrivateKey {
	t.Helper()
	for {
		var b [32]byte
		r.Read(b[:])
		var d secp256k1.ModNScalar
		if d.SetBytes(&b) == 0 && !d.IsZero() {
			return secp256k1.NewPrivateKey(&d)
		}
	}
}

func isOdd(pk *btcec.PublicKey) bool { return pk.SerializeCompressed()[0] == 0x03 }

func TestRoundTrip(t *testing.T) {
	rng := newRand(t)
	var oddFP, evenFP, oddR0, evenR0 int
	for i := 0; i < 64 || oddFP == 0 || evenFP == 0 || oddR0 == 0 || evenR0 == 0; i++ {
		if i > 1000 {
			t.Fatal("parities not mixed")
		}
		cov, fp := randKey(t, rng), randKey(t, rng)
		if isOdd(fp.PubKey()) {
			oddFP++
		} else {
			evenFP++
		}
		var sighash, aux [32]byte
		rng.Read(sighash[:])
		rng.Read(aux[:])
		ek, err := NewEncryptionKey(fp.PubKey())
		if err != nil {
			t.Fatal(err)
		}
		sig, err := EncSignAux(cov, ek, sighash[:], aux)
		if err != nil {
			t.Fatal(err)
		}
		if sig.r0.Y.IsOdd() {
			oddR0++
		} else {
			evenR0++
		}
		if err := EncVerify(cov.PubKey(), ek, sighash[:], sig); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		// Encoding round trip.
		enc := sig.Bytes()
		back, err := Parse(enc[:])
		if err != nil || back.Bytes() != enc {
			t.Fatalf("case %d: encoding round trip: %v", i, err)
		}
		// Decrypt with the FP's key: a valid BIP-340 signature on the sighash.
		dk, err := NewDecryptionKey(fp)
		if err != nil {
			t.Fatal(err)
		}
		final, err := Decrypt(sig, dk)
		if err != nil {
			t.Fatal(err)
		}
		if !final.Verify(sighash[:], cov.PubKey()) {
			t.Fatalf("case %d (fp odd=%v, R0 odd=%v): decrypted signature invalid", i, isOdd(fp.PubKey()), sig.r0.Y.IsOdd())
		}
		// Extract the decryption key back, and recover the FP secret key.
		got, err := Extract(sig, final, ek)
		if err != nil {
			t.Fatal(err)
		}
		if got.Bytes() != dk.Bytes() {
			t.Fatal("extracted key differs")
		}
		full, err := RecoverSecretKey(sig, final, fp.PubKey())
		if err != nil {
			t.Fatal(err)
		}
		if !full.Key.Equals(&fp.Key) {
			t.Fatalf("case %d: recovered key differs (fp odd=%v)", i, isOdd(fp.PubKey()))
		}
		xonly, _ := schnorr.ParsePubKey(schnorr.SerializePubKey(fp.PubKey()))
		norm, err := RecoverSecretKey(sig, final, xonly)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(schnorr.SerializePubKey(norm.PubKey()), schnorr.SerializePubKey(fp.PubKey())) || isOdd(norm.PubKey()) {
			t.Fatal("x-only recovery is not the normalised key")
		}
		// Wrong inputs fail with their kinds.
		other := randKey(t, rng)
		if err := EncVerify(other.PubKey(), ek, sighash[:], sig); !errors.Is(err, ErrInvalidSignature) {
			t.Fatalf("other signer accepted: %v", err)
		}
		ek2, _ := NewEncryptionKey(other.PubKey())
		if err := EncVerify(cov.PubKey(), ek2, sighash[:], sig); !errors.Is(err, ErrInvalidSignature) {
			t.Fatalf("other encryption key accepted: %v", err)
		}
		bad := sighash
		bad[rng.Uint64()%32] ^= 1 << (rng.Uint64() % 8)
		if err := EncVerify(cov.PubKey(), ek, bad[:], sig); !errors.Is(err, ErrInvalidSignature) {
			t.Fatalf("other message accepted: %v", err)
		}
		if _, err := Extract(sig, final, ek2); !errors.Is(err, ErrNotExtractable) {
			t.Fatalf("extract with wrong key: %v", err)
		}
		plain, _ := schnorr.Sign(cov, sighash[:])
		if _, err := Extract(sig, plain, ek); !errors.Is(err, ErrNotExtractable) {
			t.Fatalf("extract from an unrelated signature: %v", err)
		}
		// Decrypting with the wrong key gives an invalid signature.
		dk2, _ := NewDecryptionKey(other)
		wrong, _ := Decrypt(sig, dk2)
		if wrong.Verify(sighash[:], cov.PubKey()) {
			t.Fatal("wrong decryption key gave a valid signature")
		}
	}
}

// TestDeterministic: EncSignAux depends only on its inputs; EncSign draws
// fresh randomness.
func TestDeterministic(t *testing.T) {
	rng := newRand(t)
	cov, fp := randKey(t, rng), randKey(t, rng)
	ek, _ := NewEncryptionKey(fp.PubKey())
	var m, aux [32]byte
	rng.Read(m[:])
	a, _ := EncSignAux(cov, ek, m[:], aux)
	b, _ := EncSignAux(cov, ek, m[:], aux)
	if a.Bytes() != b.Bytes() {
		t.Fatal("EncSignAux not deterministic")
	}
	c, err := EncSign(cov, ek, m[:])
	if err != nil {
		t.Fatal(err)
	}
	if c.Bytes() == a.Bytes() {
		t.Fatal("EncSign reused the zero aux")
	}
	if err := EncVerify(cov.PubKey(), ek, m[:], c); err != nil {
		t.Fatal(err)
	}
}

// legacyEncSign is an independent implementation of the legacy
// (schnorr_fun-style) scheme behind the 66-byte encoding: R = k·G + T made
// even, needNegation set when k·G + T had odd y, s' = k' + e·d with k' = -k
// in that case.
func legacyEncSign(t *testing.T, sk *btcec.PrivateKey, T *btcec.PublicKey, m []byte, k *secp256k1.ModNScalar) []byte {
	t.Helper()
	d := sk.Key
	if isOdd(sk.PubKey()) {
		d.Negate()
	}
	kk := *k
	var R, Tj, RT secp256k1.JacobianPoint
	secp256k1.ScalarBaseMultNonConst(&kk, &R)
	T.AsJacobian(&Tj)
	secp256k1.AddNonConst(&R, &Tj, &RT)
	RT.ToAffine()
	nn := RT.Y.IsOdd()
	if nn {
		kk.Negate()
	}
	var rx [32]byte
	RT.X.PutBytes(&rx)
	px := [32]byte(schnorr.SerializePubKey(sk.PubKey()))
	e := secp.Challenge(&rx, &px, m)
	e.Mul(&d).Add(&kk)
	out := append([]byte{0x02}, rx[:]...)
	sb := e.Bytes()
	out = append(out, sb[:]...)
	if nn {
		return append(out, 1)
	}
	return append(out, 0)
}

// legacyDecrypt is the legacy decryption: s = s' + t, or s' - t when
// needNegation is set; the signature is x(R) || s.
func legacyDecrypt(b []byte, t *secp256k1.ModNScalar) []byte {
	var s secp256k1.ModNScalar
	s.SetByteSlice(b[33:65])
	tt := *t
	if b[65] == 1 {
		tt.Negate()
	}
	s.Add(&tt)
	sb := s.Bytes()
	return append(bytes.Clone(b[1:33]), sb[:]...)
}

func TestLegacy66(t *testing.T) {
	rng := newRand(t)
	var flags [2]int
	for i := 0; i < 64 || flags[0] == 0 || flags[1] == 0; i++ {
		cov, fp := randKey(t, rng), randKey(t, rng)
		var m [32]byte
		rng.Read(m[:])
		k := randKey(t, rng).Key
		ek, _ := NewEncryptionKey(fp.PubKey())
		legacy := legacyEncSign(t, cov, ek.PubKey(), m[:], &k)
		flags[legacy[65]]++
		sig, err := Parse(legacy)
		if err != nil {
			t.Fatal(err)
		}
		if err := EncVerify(cov.PubKey(), ek, m[:], sig); err != nil {
			t.Fatalf("converted legacy signature does not verify: %v", err)
		}
		dk, _ := NewDecryptionKey(fp)
		got, _ := Decrypt(sig, dk)
		want := legacyDecrypt(legacy, &dk.t)
		if !bytes.Equal(got.Serialize(), want) {
			t.Fatalf("decrypted %x, legacy %x", got.Serialize(), want)
		}
		if !got.Verify(m[:], cov.PubKey()) {
			t.Fatal("decrypted legacy signature invalid")
		}
		// The 65-byte re-encoding keeps x and s, with the flag as parity.
		enc := sig.Bytes()
		if !bytes.Equal(enc[1:], legacy[1:65]) || enc[0] != 0x02+legacy[65] {
			t.Fatalf("re-encoding %x of legacy %x", enc, legacy)
		}
	}
}

func TestParseErrors(t *testing.T) {
	rng := newRand(t)
	cov, fp := randKey(t, rng), randKey(t, rng)
	ek, _ := NewEncryptionKey(fp.PubKey())
	var m [32]byte
	sig, _ := EncSignAux(cov, ek, m[:], [32]byte{})
	good := sig.Bytes()
	mut := func(f func([]byte) []byte) []byte { return f(bytes.Clone(good[:])) }
	n := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
		0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41}
	cases := map[string][]byte{
		"empty":          nil,
		"64 bytes":       good[:64],
		"prefix 04":      mut(func(b []byte) []byte { b[0] = 4; return b }),
		"s0 = n":         mut(func(b []byte) []byte { copy(b[33:], n); return b }),
		"x not on curve": mut(func(b []byte) []byte { copy(b[1:33], bytes.Repeat([]byte{0xff}, 32)); return b }),
		"legacy 03":      append(mut(func(b []byte) []byte { b[0] = 3; return b }), 0),
		"legacy flag 2":  append(mut(func(b []byte) []byte { b[0] = 2; return b }), 2),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse(b); !errors.Is(err, ErrInvalidEncoding) {
				t.Fatalf("got %v", err)
			}
		})
	}
	if _, err := EncSignAux(cov, ek, m[:31], [32]byte{}); !errors.Is(err, ErrInvalidEncoding) {
		t.Fatal("short hash accepted")
	}
	if _, err := ParseEncryptionKey(make([]byte, 31)); !errors.Is(err, ErrInvalidEncoding) {
		t.Fatal("short encryption key accepted")
	}
	if _, err := ParseDecryptionKey(make([]byte, 32)); !errors.Is(err, ErrInvalidKey) {
		t.Fatal("zero decryption key accepted")
	}
	if _, err := Decrypt(sig, &DecryptionKey{}); !errors.Is(err, ErrInvalidKey) {
		t.Fatal("zero decryption key used")
	}
}

// TestNoMutation: every operation leaves its inputs as they were.
func TestNoMutation(t *testing.T) {
	rng := newRand(t)
	for i := 0; i < 16; i++ {
		cov, fp := randKey(t, rng), randKey(t, rng)
		covKey, fpKey := cov.Key, fp.Key
		fpPK := fp.PubKey()
		fpPKB := fpPK.SerializeCompressed()
		ek, _ := NewEncryptionKey(fpPK)
		ekC := *ek
		var m [32]byte
		rng.Read(m[:])
		mC := m
		sig, _ := EncSignAux(cov, ek, m[:], [32]byte{1})
		sigC := *sig
		_ = EncVerify(cov.PubKey(), ek, m[:], sig)
		dk, _ := NewDecryptionKey(fp)
		dkC := *dk
		final, _ := Decrypt(sig, dk)
		finalB := final.Serialize()
		_, _ = Extract(sig, final, ek)
		_, _ = RecoverSecretKey(sig, final, fpPK)
		if !cov.Key.Equals(&covKey) || !fp.Key.Equals(&fpKey) {
			t.Fatal("secret key mutated")
		}
		if !bytes.Equal(fpPK.SerializeCompressed(), fpPKB) || *ek != ekC || m != mC {
			t.Fatal("public input mutated")
		}
		if *sig != sigC || *dk != dkC || !bytes.Equal(final.Serialize(), finalB) {
			t.Fatal("signature or decryption key mutated")
		}
	}
}
