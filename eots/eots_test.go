package eots

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
)

func flipBit(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i/8] ^= 1 << (i % 8)
	return c
}

func TestSignVerifyRoundTrip(t *testing.T) {
	rng := newRand(t)
	var odd, even int
	for i := 0; i < 64; i++ {
		sk, k := mustKey(t, rng), mustRand(t, rng)
		if sk.odd {
			odd++
		} else {
			even++
		}
		msg := randBytes(rng, 1+int(rng.Uint64()%80))
		s, err := Sign(sk, k, msg)
		if err != nil {
			t.Fatal(err)
		}
		r := k.PublicRand()
		if r2, s2, err := SignWithPublicRand(sk, k, msg); err != nil || r2 != r || s2 != s {
			t.Fatalf("case %d: SignWithPublicRand differs from Sign and PublicRand", i)
		}
		for _, pk := range []*btcec.PublicKey{sk.PubKey(), mustXOnly(t, sk)} {
			if err := Verify(pk, r, msg, s); err != nil {
				t.Fatalf("case %d: %v", i, err)
			}
		}
		// One random flipped bit in each input must fail.
		bad := []struct {
			name string
			err  error
		}{
			{"s", Verify(sk.PubKey(), r, msg, Signature(flipBit(s[:], int(rng.Uint64()%256))))},
			{"r", Verify(sk.PubKey(), PublicRand(flipBit(r[:], int(rng.Uint64()%256))), msg, s)},
			{"msg", Verify(sk.PubKey(), r, flipBit(msg, int(rng.Uint64()%uint64(8*len(msg)))), s)},
		}
		for _, b := range bad {
			if !errors.Is(b.err, ErrInvalidSignature) {
				t.Fatalf("case %d: flipped %s: got %v", i, b.name, b.err)
			}
		}
		xpk := sk.XOnly()
		if pk, err := schnorr.ParsePubKey(flipBit(xpk[:], int(rng.Uint64()%256))); err == nil {
			if err := Verify(pk, r, msg, s); !errors.Is(err, ErrInvalidSignature) {
				t.Fatalf("case %d: flipped key accepted: %v", i, err)
			}
		}
	}
	if odd == 0 || even == 0 {
		t.Fatalf("keys not mixed: %d odd, %d even", odd, even)
	}
}

// TestVerifyEveryBitFlip flips every bit of r, s and the message.
func TestVerifyEveryBitFlip(t *testing.T) {
	rng := newRand(t)
	for c := 0; c < 2; c++ {
		sk, k := mustKey(t, rng), mustRand(t, rng)
		msg := randBytes(rng, 16)
		s, _ := Sign(sk, k, msg)
		r := k.PublicRand()
		pk := sk.PubKey()
		for i := 0; i < 256; i++ {
			if err := Verify(pk, r, msg, Signature(flipBit(s[:], i))); err == nil {
				t.Fatalf("s bit %d accepted", i)
			}
			if err := Verify(pk, PublicRand(flipBit(r[:], i)), msg, s); err == nil {
				t.Fatalf("r bit %d accepted", i)
			}
		}
		for i := 0; i < 8*len(msg); i++ {
			if err := Verify(pk, r, flipBit(msg, i), s); err == nil {
				t.Fatalf("msg bit %d accepted", i)
			}
		}
	}
}

func mustXOnly(t testing.TB, sk *SecretKey) *btcec.PublicKey {
	t.Helper()
	x := sk.XOnly()
	pk, err := parsePublicKey(x[:])
	if err != nil {
		t.Fatal(err)
	}
	return pk
}

func TestExtract(t *testing.T) {
	rng := newRand(t)
	var odd, even int
	for i := 0; odd < 20 || even < 20; i++ {
		if i > 1000 {
			t.Fatal("could not draw both parities")
		}
		sk, k := mustKey(t, rng), mustRand(t, rng)
		if sk.odd {
			odd++
		} else {
			even++
		}
		m1, m2 := randBytes(rng, 40), randBytes(rng, 40)
		s1, _ := Sign(sk, k, m1)
		s2, _ := Sign(sk, k, m2)
		r := k.PublicRand()

		// The full (33-byte) key gives back the key itself.
		full, err := parsePublicKey(sk.PubKey().SerializeCompressed())
		if err != nil {
			t.Fatal(err)
		}
		got, err := Extract(full, r, m1, s1, m2, s2)
		if err != nil {
			t.Fatalf("case %d (odd=%v): %v", i, sk.odd, err)
		}
		if !got.Equal(sk) {
			t.Fatalf("case %d (odd=%v): extracted the wrong key", i, sk.odd)
		}
		// The x-only key gives the BIP-340-normalised key: d or n - d.
		gotX, err := Extract(mustXOnly(t, sk), r, m1, s1, m2, s2)
		if err != nil {
			t.Fatal(err)
		}
		norm := sk.signingScalar()
		if !gotX.d.Equals(&norm) || gotX.odd {
			t.Fatalf("case %d: x-only extraction is not the normalised key", i)
		}
		if gotX.XOnly() != sk.XOnly() {
			t.Fatal("x-only mismatch")
		}
		// The extracted key signs like the original.
		k2 := mustRand(t, rng)
		a, _ := Sign(sk, k2, m1)
		b, _ := Sign(got, k2, m1)
		if a != b {
			t.Fatal("extracted key signs differently")
		}
	}
}

func TestExtractRefuses(t *testing.T) {
	rng := newRand(t)
	for i := 0; i < 16; i++ {
		sk, k1, k2 := mustKey(t, rng), mustRand(t, rng), mustRand(t, rng)
		m1, m2 := randBytes(rng, 32), randBytes(rng, 32)
		s1, _ := Sign(sk, k1, m1)
		s2, _ := Sign(sk, k1, m2)
		s2other, _ := Sign(sk, k2, m2)
		r1 := k1.PublicRand()
		pk := sk.PubKey()

		// Different randomness: signature 2 does not verify under r1.
		_, err := Extract(pk, r1, m1, s1, m2, s2other)
		if !errors.Is(err, ErrNotExtractable) || !errors.Is(err, ErrInvalidSignature) {
			t.Fatalf("different randomness: %v", err)
		}
		// Same message.
		_, err = Extract(pk, r1, m1, s1, m1, s1)
		if !errors.Is(err, ErrNotExtractable) || errors.Is(err, ErrInvalidSignature) {
			t.Fatalf("same message: %v", err)
		}
		// A flipped bit in a signature.
		_, err = Extract(pk, r1, m1, Signature(flipBit(s1[:], int(rng.Uint64()%256))), m2, s2)
		if !errors.Is(err, ErrNotExtractable) {
			t.Fatalf("flipped signature: %v", err)
		}
		// Another key.
		_, err = Extract(mustKey(t, rng).PubKey(), r1, m1, s1, m2, s2)
		if !errors.Is(err, ErrNotExtractable) {
			t.Fatalf("other key: %v", err)
		}
		// s >= n.
		var big Signature
		for j := range big {
			big[j] = 0xff
		}
		_, err = Extract(pk, r1, m1, big, m2, s2)
		if !errors.Is(err, ErrNotExtractable) || !errors.Is(err, ErrInvalidSignature) {
			t.Fatalf("s >= n: %v", err)
		}
	}
}

// TestNoMutation copies every input, calls every operation and compares.
func TestNoMutation(t *testing.T) {
	rng := newRand(t)
	for i := 0; i < 16; i++ {
		sk, k := mustKey(t, rng), mustRand(t, rng)
		skB, kB := sk.Bytes(), k.Bytes()
		skCopy := *sk
		pk := sk.PubKey()
		pkB := pk.SerializeCompressed()
		m1, m2 := randBytes(rng, 33), randBytes(rng, 33)
		m1c, m2c := bytes.Clone(m1), bytes.Clone(m2)
		chain := []byte("bbn-test-1")
		chainC := bytes.Clone(chain)

		s1, _ := Sign(sk, k, m1)
		s2, _ := Sign(sk, k, m2)
		s1c, s2c := s1, s2
		r := k.PublicRand()
		rc := r
		_ = Verify(pk, r, m1, s1)
		_, _ = Extract(pk, r, m1, s1, m2, s2)
		_, _ = Extract(pk, r, m1, s1, m1, s1)
		_, _ = DeriveRand(sk, chain, 7)
		list, _ := PublicRandList(sk, chain, 1, 5, 1)
		listC := append([]PublicRand(nil), list...)
		root, proofs := CommitProofs(list)
		p0 := proofs[0]
		auntsC := append([][32]byte(nil), p0.Aunts...)
		_ = p0.Verify(root, list[0][:])
		_, _ = SignCommit(sk, 1, 5, root)

		if sk.Bytes() != skB || *sk != skCopy || k.Bytes() != kB {
			t.Fatal("secret key or randomness mutated")
		}
		if !bytes.Equal(pk.SerializeCompressed(), pkB) {
			t.Fatal("public key mutated")
		}
		if !bytes.Equal(m1, m1c) || !bytes.Equal(m2, m2c) || !bytes.Equal(chain, chainC) {
			t.Fatal("message or chain ID mutated")
		}
		if s1 != s1c || s2 != s2c || r != rc {
			t.Fatal("signature or public randomness mutated")
		}
		for j := range list {
			if list[j] != listC[j] {
				t.Fatal("randomness list mutated")
			}
		}
		for j := range auntsC {
			if auntsC[j] != p0.Aunts[j] {
				t.Fatal("proof mutated")
			}
		}
	}
}

func TestDeriveRand(t *testing.T) {
	rng := newRand(t)
	sk := mustKey(t, rng)
	chain := []byte("bbn-1")
	// Known answer from the definition: HMAC-SHA256(sk, BE64(h) || chainID || BE64(0)).
	for h := uint64(0); h < 20; h++ {
		k, err := DeriveRand(sk, chain, h)
		if err != nil {
			t.Fatal(err)
		}
		key := sk.Bytes()
		mac := hmac.New(sha256.New, key[:])
		var data []byte
		data = binary.BigEndian.AppendUint64(data, h)
		data = append(data, chain...)
		data = binary.BigEndian.AppendUint64(data, 0)
		mac.Write(data)
		want := mac.Sum(nil)
		// The first digest is below n except with probability ~2^-128.
		if got := k.Bytes(); !bytes.Equal(got[:], want) {
			t.Fatalf("height %d: %x, want %x", h, got, want)
		}
		k2, _ := DeriveRand(sk, chain, h)
		if k2.Bytes() != k.Bytes() {
			t.Fatal("not deterministic")
		}
		k3, _ := DeriveRand(sk, []byte("bbn-2"), h)
		if k3.Bytes() == k.Bytes() {
			t.Fatal("chain ID ignored")
		}
	}
	// Lists match single derivations, for every height and every k-th height.
	for _, step := range []uint64{1, 3} {
		list, err := PublicRandList(sk, chain, 100, 10, step)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range list {
			k, _ := DeriveRand(sk, chain, 100+uint64(i)*step)
			if k.PublicRand() != r {
				t.Fatalf("step %d item %d mismatch", step, i)
			}
		}
	}
	for _, c := range []struct{ start, count, step uint64 }{{0, 0, 1}, {0, 1, 0}, {^uint64(0), 2, 1}, {0, MaxRandList + 1, 1}} {
		if _, err := PublicRandList(sk, chain, c.start, c.count, c.step); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("%+v: %v", c, err)
		}
	}
	if _, err := PublicRandList(sk, chain, ^uint64(0), 1, 1); err != nil {
		t.Fatalf("last height: %v", err)
	}
}

func TestZeroedSecretsRefused(t *testing.T) {
	rng := newRand(t)
	sk, k := mustKey(t, rng), mustRand(t, rng)
	k.Zero()
	if _, err := Sign(sk, k, []byte("m")); !errors.Is(err, ErrInvalidRandomness) {
		t.Fatal(err)
	}
	if _, err := Sign(sk, nil, []byte("m")); !errors.Is(err, ErrInvalidRandomness) {
		t.Fatal(err)
	}
	sk.Zero()
	if sk.Bytes() != [32]byte{} {
		t.Fatal("not zeroed")
	}
	if _, err := Sign(sk, mustRand(t, rng), []byte("m")); !errors.Is(err, ErrInvalidKey) {
		t.Fatal(err)
	}
	if _, err := DeriveRand(nil, nil, 1); !errors.Is(err, ErrInvalidKey) {
		t.Fatal(err)
	}
	if err := Verify(nil, PublicRand{}, nil, Signature{}); !errors.Is(err, ErrInvalidKey) {
		t.Fatal(err)
	}
}

func TestParsers(t *testing.T) {
	n := "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"
	p := "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f"
	cases := []struct {
		name  string
		parse func([]byte) error
		in    string
		kind  error
	}{
		{"sk short", func(b []byte) error { _, e := ParseSecretKey(b); return e }, "01", ErrInvalidEncoding},
		{"sk n", func(b []byte) error { _, e := ParseSecretKey(b); return e }, n, ErrInvalidEncoding},
		{"sk zero", func(b []byte) error { _, e := ParseSecretKey(b); return e }, "0000000000000000000000000000000000000000000000000000000000000000", ErrInvalidKey},
		{"k n", func(b []byte) error { _, e := ParsePrivateRand(b); return e }, n, ErrInvalidEncoding},
		{"k zero", func(b []byte) error { _, e := ParsePrivateRand(b); return e }, "0000000000000000000000000000000000000000000000000000000000000000", ErrInvalidRandomness},
		{"r p", func(b []byte) error { _, e := ParsePublicRand(b); return e }, p, ErrInvalidEncoding},
		{"r not on curve", func(b []byte) error { _, e := ParsePublicRand(b); return e }, "eefdea4cdb677750a420fee807eacf21eb9898ae79b9768766e4faa04a2d4a34", ErrInvalidEncoding},
		{"r long", func(b []byte) error { _, e := ParsePublicRand(b); return e }, p + "00", ErrInvalidEncoding},
		{"s n", func(b []byte) error { _, e := ParseSignature(b); return e }, n, ErrInvalidEncoding},
		{"proof short", func(b []byte) error { _, e := ParseProof(b); return e }, n, ErrInvalidEncoding},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := mustHex(t, c.in)
			if err := c.parse(b); !errors.Is(err, c.kind) {
				t.Fatalf("got %v, want %v", err, c.kind)
			}
		})
	}
}

func TestOffCurveKeyRefused(t *testing.T) {
	var bad btcec.PublicKey // the zero value is not a curve point
	if err := Verify(&bad, PublicRand{}, []byte("m"), Signature{}); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("verify: %v", err)
	}
	if _, err := Extract(&bad, PublicRand{}, []byte("a"), Signature{}, []byte("b"), Signature{}); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("extract: %v", err)
	}
}
