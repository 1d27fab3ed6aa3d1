package eots

import (
	"crypto/sha256"
	"errors"
	"testing"
)

var allKinds = []error{ErrInvalidEncoding, ErrInvalidKey, ErrInvalidRandomness, ErrInvalidSignature, ErrNotExtractable, ErrInvalidProof, ErrSigningFault, ErrInvalidArgument}

func requireOnlyKind(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got %v, want %v", what, err, want)
	}
	for _, k := range allKinds {
		if k != want && errors.Is(err, k) {
			t.Fatalf("%s: %v also wraps %v", what, err, k)
		}
	}
}

// TestSignSelfVerification: a signature altered between signing and the
// final BIP-340 verification (the test seam stands for a fault in the
// computation) is withheld with ErrSigningFault; without a fault the seam
// is exactly Sign.
func TestSignSelfVerification(t *testing.T) {
	rng := newRand(t)
	for i := 0; i < 32; i++ {
		sk, k := mustKey(t, rng), mustRand(t, rng)
		msg := randBytes(rng, 1+int(rng.Uint64()%80))
		h := sha256.Sum256(msg)
		wantR, wantS, err := SignWithPublicRand(sk, k, msg)
		if err != nil {
			t.Fatal(err)
		}
		// No fault, and a fault hook that changes nothing: the signature
		// comes back, the same as Sign's, and it verifies.
		for name, fault := range map[string]func(*PublicRand, *Signature){"nil": nil, "no-op": func(*PublicRand, *Signature) {}} {
			r, s, err := signHashChecked(sk, k, h[:], fault)
			if err != nil || r != wantR || s != wantS {
				t.Fatalf("%s fault: %v", name, err)
			}
		}
		if err := Verify(sk.PubKey(), wantR, msg, wantS); err != nil {
			t.Fatal(err)
		}
		// The unverified variant the benchmark compares against computes
		// the same signature.
		if r, s, err := signHashUnverified(sk, k, h[:]); err != nil || r != wantR || s != wantS {
			t.Fatalf("unverified variant differs: %v", err)
		}
		// A flipped bit in s or in r: withheld.
		bit := int(rng.Uint64() % 256)
		for name, fault := range map[string]func(*PublicRand, *Signature){
			"s": func(_ *PublicRand, s *Signature) { s[bit/8] ^= 1 << (bit % 8) },
			"r": func(r *PublicRand, _ *Signature) { r[bit/8] ^= 1 << (bit % 8) },
		} {
			r, s, err := signHashChecked(sk, k, h[:], fault)
			requireOnlyKind(t, "bit "+name, err, ErrSigningFault)
			if r != (PublicRand{}) || s != (Signature{}) {
				t.Fatalf("bit flip in %s: a value came back with the error", name)
			}
		}
	}
}

// TestSignCommitSelfVerification: the same for the commitment signature.
func TestSignCommitSelfVerification(t *testing.T) {
	rng := newRand(t)
	sk := mustKey(t, rng)
	var root [HashSize]byte
	rng.Read(root[:])
	want, err := SignCommitWithContext(sk, "ctx", 7, 100, root)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyCommitWithContext(sk.PubKey(), "ctx", 7, 100, root, want[:]); err != nil {
		t.Fatal(err)
	}
	if got, err := signCommit(sk, "ctx", 7, 100, root, func(*[64]byte) {}); err != nil || got != want {
		t.Fatalf("no-op fault: %v", err)
	}
	for i := 0; i < 16; i++ {
		bit := int(rng.Uint64() % 512)
		got, err := signCommit(sk, "ctx", 7, 100, root, func(sig *[64]byte) { sig[bit/8] ^= 1 << (bit % 8) })
		requireOnlyKind(t, "commit bit flip", err, ErrSigningFault)
		if got != ([64]byte{}) {
			t.Fatal("a signature came back with the error")
		}
	}
}
